/* nn_lstm.c — the LSTM layer, PyTorch nn.LSTM semantics (gates i, f, g, o):
 *   [i f g o] = W_ih x + b_ih + W_hh h + b_hh; i, f, o = sigma, g = tanh;
 *   c' = f * c + i * g, h' = o * tanh(c').
 * Time-major activations; the recurrent product is one sgemm per step over the thread's rows. */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

NN_SIMD_CLONES void lstm_layer_forward(const float *gi /*[T,N,4H]*/, int T, int N, int H, int r0, int r1,
                        const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/, const float *b_hh /*[4H]*/, float *gates /*[T,N,4H]*/,
                        float *cs /*[T,N,H]*/, float *tcs /*[T,N,H]*/, float *hs /*[T,N,H]*/) {
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  if (n <= 0) return;
  for (int t = 0; t < T; t++) {
    float *G = gates + ((size_t)t * N + r0) * H4;
    const float *X = gi + ((size_t)t * N + r0) * H4;
    float *h = hs + ((size_t)t * N + r0) * H;
    float *c = cs + ((size_t)t * N + r0) * H;
    float *tc = tcs + ((size_t)t * N + r0) * H;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    const float *cp = t > 0 ? cs + ((size_t)(t - 1) * N + r0) * H : NULL;
    if (hp)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H4, H, 1.0f, hp, H, w_hh, H, 0.0f, G, H4);
    else
      memset(G, 0, (size_t)n * H4 * sizeof(float));
    /* branch-free loops over contiguous gate blocks so that they vectorise */
    for (int i = 0; i < n; i++) {
      float *restrict g = G + (size_t)i * H4;
      const float *restrict xi = X + (size_t)i * H4;
      float *restrict ci = c + (size_t)i * H, *restrict hi = h + (size_t)i * H, *restrict tci = tc + (size_t)i * H;
      for (int k = 0; k < H2; k++) g[k] = nn_sigmoidf((xi[k] + b_ih[k]) + (g[k] + b_hh[k]));  /* i, f */
      for (int k = H2; k < H3; k++) g[k] = nn_tanhf((xi[k] + b_ih[k]) + (g[k] + b_hh[k]));    /* g */
      for (int k = H3; k < H4; k++) g[k] = nn_sigmoidf((xi[k] + b_ih[k]) + (g[k] + b_hh[k])); /* o */
      if (cp) {
        const float *restrict cpi = cp + (size_t)i * H;
        for (int j = 0; j < H; j++) ci[j] = g[H + j] * cpi[j] + g[j] * g[H2 + j];
      } else {
        for (int j = 0; j < H; j++) ci[j] = g[j] * g[H2 + j];
      }
      for (int j = 0; j < H; j++) tci[j] = nn_tanhf(ci[j]);
      for (int j = 0; j < H; j++) hi[j] = g[H3 + j] * tci[j];
    }
  }
}

NN_SIMD_CLONES void lstm_layer_backward(int T, int N, int H, int r0, int r1, const float *w_hh /*[4H,H]*/,
                                        const float *gates, const float *cs, const float *tcs, const float *hs,
                                        float *dhs /*[T,N,H]*/, float *dg /*[T,N,4H]*/, float *dc /*[N,H]*/,
                                        float *bpart /*[4H]*/, double *db /*[8H]*/) {
  (void)hs;
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  for (int k = 0; k < 2 * H4; k++) db[k] = 0;
  if (n <= 0) return;
  float *dcr = dc + (size_t)r0 * H;
  memset(dcr, 0, (size_t)n * H * sizeof(float));
  for (int t = T - 1; t >= 0; t--) {
    for (int k = 0; k < H4; k++) bpart[k] = 0;
    const float *G = gates + ((size_t)t * N + r0) * H4;
    const float *c = tcs + ((size_t)t * N + r0) * H; /* tanh(c_t) */
    const float *cp = t > 0 ? cs + ((size_t)(t - 1) * N + r0) * H : NULL;
    float *dh = dhs + ((size_t)t * N + r0) * H;
    float *dG = dg + ((size_t)t * N + r0) * H4;
    for (int i = 0; i < n; i++) {
      const float *restrict g = G + (size_t)i * H4;
      const float *restrict ci = c + (size_t)i * H;
      const float *restrict dhi = dh + (size_t)i * H;
      float *restrict d = dG + (size_t)i * H4, *restrict dci = dcr + (size_t)i * H;
      if (cp) {
        const float *restrict cpi = cp + (size_t)i * H;
        for (int j = 0; j < H; j++) d[H + j] = cpi[j];
      } else {
        for (int j = 0; j < H; j++) d[H + j] = 0.0f;
      }
      for (int j = 0; j < H; j++) {
        float ig = g[j], fg = g[H + j], gg = g[H2 + j], og = g[H3 + j];
        float tc = ci[j];
        float cprev = d[H + j];
        float dhv = dhi[j];
        float dct = dci[j] + dhv * og * (1.0f - tc * tc);
        d[j] = dct * gg * ig * (1.0f - ig);
        d[H + j] = dct * cprev * fg * (1.0f - fg);
        d[H2 + j] = dct * ig * (1.0f - gg * gg);
        d[H3 + j] = dhv * tc * og * (1.0f - og);
        dci[j] = dct * fg;
      }
      float *restrict bp = bpart;
      for (int k = 0; k < H4; k++) bp[k] += d[k];
    }
    for (int k = 0; k < H4; k++) db[k] += bpart[k];
    if (t > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, H4, 1.0f, dG, H4, w_hh, H, 1.0f,
                  dhs + ((size_t)(t - 1) * N + r0) * H, H);
  }
  for (int k = 0; k < H4; k++) db[H4 + k] = db[k]; /* the input and recurrent pre-activations are the same sum */
}
