/* nn_lstm.c — the LSTM layer, PyTorch nn.LSTM semantics (gates i, f, g, o):
 *   [i f g o] = W_ih x + b_ih + W_hh h + b_hh; i, f, o = sigma, g = tanh;
 *   c' = f * c + i * g, h' = o * tanh(c').
 * Time-major activations; the recurrent product is one sgemm per step over the thread's rows. */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static inline float sigmoidf_(float a) { return 1.0f / (1.0f + expf(-a)); }

void lstm_layer_forward(const float *gi /*[T,N,4H]*/, int T, int N, int H, int r0, int r1,
                        const float *w_hh /*[4H,H]*/, const float *b_hh /*[4H]*/, float *gates /*[T,N,4H]*/,
                        float *cs /*[T,N,H]*/, float *hs /*[T,N,H]*/) {
  int n = r1 - r0, H4 = 4 * H;
  if (n <= 0) return;
  for (int t = 0; t < T; t++) {
    float *G = gates + ((size_t)t * N + r0) * H4;
    const float *X = gi + ((size_t)t * N + r0) * H4;
    float *h = hs + ((size_t)t * N + r0) * H;
    float *c = cs + ((size_t)t * N + r0) * H;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    const float *cp = t > 0 ? cs + ((size_t)(t - 1) * N + r0) * H : NULL;
    if (hp)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H4, H, 1.0f, hp, H, w_hh, H, 0.0f, G, H4);
    else
      memset(G, 0, (size_t)n * H4 * sizeof(float));
    for (int i = 0; i < n; i++) {
      float *g = G + (size_t)i * H4;
      const float *xi = X + (size_t)i * H4;
      for (int k = 0; k < H4; k++) g[k] += xi[k] + b_hh[k];
      float *ci = c + (size_t)i * H, *hi = h + (size_t)i * H;
      for (int j = 0; j < H; j++) {
        float ig = sigmoidf_(g[j]), fg = sigmoidf_(g[H + j]), gg = tanhf(g[2 * H + j]),
              og = sigmoidf_(g[3 * H + j]);
        float cprev = cp ? cp[(size_t)i * H + j] : 0.0f;
        float cn = fg * cprev + ig * gg;
        g[j] = ig;
        g[H + j] = fg;
        g[2 * H + j] = gg;
        g[3 * H + j] = og;
        ci[j] = cn;
        hi[j] = og * tanhf(cn);
      }
    }
  }
}

void lstm_layer_backward(int T, int N, int F, int H, int r0, int r1, const float *w_ih /*[4H,F]*/,
                         const float *w_hh /*[4H,H]*/, const float *gates, const float *cs, const float *hs,
                         float *dhs /*[T,N,H]*/, float *dg /*[T,N,4H]*/, float *dc /*[N,H]*/,
                         float *dx /*[T,N,F] or NULL*/) {
  (void)hs;
  int n = r1 - r0, H4 = 4 * H;
  if (n <= 0) return;
  float *dcr = dc + (size_t)r0 * H;
  memset(dcr, 0, (size_t)n * H * sizeof(float));
  for (int t = T - 1; t >= 0; t--) {
    const float *G = gates + ((size_t)t * N + r0) * H4;
    const float *c = cs + ((size_t)t * N + r0) * H;
    const float *cp = t > 0 ? cs + ((size_t)(t - 1) * N + r0) * H : NULL;
    float *dh = dhs + ((size_t)t * N + r0) * H;
    float *dG = dg + ((size_t)t * N + r0) * H4;
    for (int i = 0; i < n; i++) {
      const float *g = G + (size_t)i * H4;
      float *d = dG + (size_t)i * H4, *dci = dcr + (size_t)i * H;
      for (int j = 0; j < H; j++) {
        float ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j];
        float tc = tanhf(c[(size_t)i * H + j]);
        float cprev = cp ? cp[(size_t)i * H + j] : 0.0f;
        float dhv = dh[(size_t)i * H + j];
        float dct = dci[j] + dhv * og * (1.0f - tc * tc);
        d[j] = dct * gg * ig * (1.0f - ig);
        d[H + j] = dct * cprev * fg * (1.0f - fg);
        d[2 * H + j] = dct * ig * (1.0f - gg * gg);
        d[3 * H + j] = dhv * tc * og * (1.0f - og);
        dci[j] = dct * fg;
      }
    }
    if (t > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, H4, 1.0f, dG, H4, w_hh, H, 1.0f,
                  dhs + ((size_t)(t - 1) * N + r0) * H, H);
    if (dx)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, F, H4, 1.0f, dG, H4, w_ih, F, 0.0f,
                  dx + ((size_t)t * N + r0) * F, F);
  }
}
