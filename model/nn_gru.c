/* nn_gru.c — the GRU layer, PyTorch nn.GRU semantics:
 *   r = sigma(W_ir x + b_ir + W_hr h + b_hr), z = sigma(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
 * Time-major activations; the recurrent product is one sgemm per step over the thread's rows. */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

NN_SIMD_CLONES void gru_layer_forward(const float *gi /*[T,N,3H]*/, int T, int N, int H, int r0, int r1,
                       const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/, const float *b_hh /*[3H]*/, float *gates /*[T,N,4H]*/,
                       float *hs /*[T,N,H]*/) {
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  if (n <= 0) return;
  for (int t = 0; t < T; t++) {
    float *G = gates + ((size_t)t * N + r0) * H4;
    const float *X = gi + ((size_t)t * N + r0) * H3;
    float *h = hs + ((size_t)t * N + r0) * H;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    /* G[:, 0:3H] = h_prev w_hh^T (zero at t = 0) */
    if (hp)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H3, H, 1.0f, hp, H, w_hh, H, 0.0f, G, H4);
    else
      for (int i = 0; i < n; i++) memset(G + (size_t)i * H4, 0, (size_t)H3 * sizeof(float));
    /* branch-free loops over contiguous gate blocks so that they vectorise */
    for (int i = 0; i < n; i++) {
      float *restrict g = G + (size_t)i * H4;
      const float *restrict xi = X + (size_t)i * H3;
      float *restrict hi = h + (size_t)i * H;
      for (int k = 0; k < H2; k++) g[k] = nn_sigmoidf((xi[k] + b_ih[k]) + (g[k] + b_hh[k])); /* r, z */
      for (int j = 0; j < H; j++) {
        float hn = g[H2 + j] + b_hh[H2 + j];
        g[H3 + j] = hn;
        g[H2 + j] = nn_tanhf((xi[H2 + j] + b_ih[H2 + j]) + g[j] * hn);
      }
      if (hp) {
        const float *restrict hpi = hp + (size_t)i * H;
        for (int j = 0; j < H; j++) hi[j] = (1.0f - g[H + j]) * g[H2 + j] + g[H + j] * hpi[j];
      } else {
        for (int j = 0; j < H; j++) hi[j] = (1.0f - g[H + j]) * g[H2 + j];
      }
    }
  }
}

NN_SIMD_CLONES void gru_layer_backward(int T, int N, int H, int r0, int r1, const float *w_hh /*[3H,H]*/,
                                       const float *gates /*[T,N,4H]*/, const float *hs, float *dhs /*[T,N,H]*/,
                                       float *dgi /*[T,N,3H]*/, float *dgh /*[T,N,3H]*/, float *bpart /*[6H]*/,
                                       double *db /*[6H]*/) {
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H, H6 = 6 * H;
  for (int k = 0; k < H6; k++) db[k] = 0;
  if (n <= 0) return;
  for (int t = T - 1; t >= 0; t--) {
    for (int k = 0; k < H6; k++) bpart[k] = 0;
    const float *G = gates + ((size_t)t * N + r0) * H4;
    float *dh = dhs + ((size_t)t * N + r0) * H;
    float *dI = dgi + ((size_t)t * N + r0) * H3;
    float *dR = dgh + ((size_t)t * N + r0) * H3;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    float *dhp = t > 0 ? dhs + ((size_t)(t - 1) * N + r0) * H : NULL;
    for (int i = 0; i < n; i++) {
      const float *restrict g = G + (size_t)i * H4;
      const float *restrict dhi = dh + (size_t)i * H;
      float *restrict di = dI + (size_t)i * H3, *restrict dr = dR + (size_t)i * H3;
      /* dr[H:2H] holds h_prev for the moment (zero at t = 0) */
      if (hp) {
        const float *restrict hpi = hp + (size_t)i * H;
        for (int j = 0; j < H; j++) dr[H + j] = hpi[j];
      } else {
        for (int j = 0; j < H; j++) dr[H + j] = 0.0f;
      }
      for (int j = 0; j < H; j++) {
        float r = g[j], z = g[H + j], nn = g[H2 + j], hn = g[H3 + j];
        float hprev = dr[H + j];
        float d = dhi[j];
        float dan = d * (1.0f - z) * (1.0f - nn * nn);
        float daz = d * (hprev - nn) * z * (1.0f - z);
        float dar = dan * hn * r * (1.0f - r);
        di[j] = dar;
        di[H + j] = daz;
        di[H2 + j] = dan;
        dr[j] = dar;
        dr[H + j] = daz;
        dr[H2 + j] = dan * r;
      }
      if (dhp) {
        float *restrict dhpi = dhp + (size_t)i * H;
        for (int j = 0; j < H; j++) dhpi[j] += dhi[j] * g[H + j];
      }
      float *restrict bi = bpart, *restrict bh = bpart + H3;
      for (int k = 0; k < H3; k++) bi[k] += di[k];
      for (int k = 0; k < H3; k++) bh[k] += dr[k];
    }
    for (int k = 0; k < H6; k++) db[k] += bpart[k];
    /* dh_prev += dgh w_hh */
    if (dhp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, H3, 1.0f, dR, H3, w_hh, H, 1.0f, dhp, H);
  }
}
