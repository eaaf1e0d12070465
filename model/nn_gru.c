/* nn_gru.c — the GRU layer, PyTorch nn.GRU semantics:
 *   r = sigma(W_ir x + b_ir + W_hr h + b_hr), z = sigma(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
 * Time-major activations; the recurrent product is one sgemm per step over the thread's rows. */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static inline float sigmoidf_(float a) { return 1.0f / (1.0f + expf(-a)); }

void gru_layer_forward(const float *gi /*[T,N,3H]*/, int T, int N, int H, int r0, int r1,
                       const float *w_hh /*[3H,H]*/, const float *b_hh /*[3H]*/, float *gates /*[T,N,4H]*/,
                       float *hs /*[T,N,H]*/) {
  int n = r1 - r0, H3 = 3 * H, H4 = 4 * H;
  if (n <= 0) return;
  for (int t = 0; t < T; t++) {
    float *G = gates + ((size_t)t * N + r0) * H4;
    const float *X = gi + ((size_t)t * N + r0) * H3;
    float *h = hs + ((size_t)t * N + r0) * H;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    /* G[:, 0:3H] = h_prev w_hh^T (zero at t = 0) */
    if (hp)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H3, H, 1.0f, hp, H, w_hh, H, 0.0f, G, H4);
    for (int i = 0; i < n; i++) {
      float *g = G + (size_t)i * H4;
      const float *xi = X + (size_t)i * H3;
      float *hi = h + (size_t)i * H;
      const float *hpi = hp ? hp + (size_t)i * H : NULL;
      for (int j = 0; j < H; j++) {
        float ghr = hp ? g[j] : 0.0f, ghz = hp ? g[H + j] : 0.0f, ghn = hp ? g[2 * H + j] : 0.0f;
        float r = sigmoidf_(xi[j] + ghr + b_hh[j]);
        float z = sigmoidf_(xi[H + j] + ghz + b_hh[H + j]);
        float hn = ghn + b_hh[2 * H + j];
        float nn = tanhf(xi[2 * H + j] + r * hn);
        float hprev = hpi ? hpi[j] : 0.0f;
        g[j] = r;
        g[H + j] = z;
        g[2 * H + j] = nn;
        g[3 * H + j] = hn;
        hi[j] = (1.0f - z) * nn + z * hprev;
      }
    }
  }
}

void gru_layer_backward(int T, int N, int F, int H, int r0, int r1, const float *w_ih /*[3H,F]*/,
                        const float *w_hh /*[3H,H]*/, const float *gates /*[T,N,4H]*/, const float *hs,
                        float *dhs /*[T,N,H]*/, float *dgi /*[T,N,3H]*/, float *dgh /*[T,N,3H]*/,
                        float *dx /*[T,N,F] or NULL*/) {
  int n = r1 - r0, H3 = 3 * H, H4 = 4 * H;
  if (n <= 0) return;
  for (int t = T - 1; t >= 0; t--) {
    const float *G = gates + ((size_t)t * N + r0) * H4;
    float *dh = dhs + ((size_t)t * N + r0) * H;
    float *dI = dgi + ((size_t)t * N + r0) * H3;
    float *dR = dgh + ((size_t)t * N + r0) * H3;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    float *dhp = t > 0 ? dhs + ((size_t)(t - 1) * N + r0) * H : NULL;
    for (int i = 0; i < n; i++) {
      const float *g = G + (size_t)i * H4;
      const float *dhi = dh + (size_t)i * H;
      float *di = dI + (size_t)i * H3, *dr = dR + (size_t)i * H3;
      for (int j = 0; j < H; j++) {
        float r = g[j], z = g[H + j], nn = g[2 * H + j], hn = g[3 * H + j];
        float hprev = hp ? hp[(size_t)i * H + j] : 0.0f;
        float d = dhi[j];
        float dan = d * (1.0f - z) * (1.0f - nn * nn);
        float daz = d * (hprev - nn) * z * (1.0f - z);
        float dar = dan * hn * r * (1.0f - r);
        di[j] = dar;
        di[H + j] = daz;
        di[2 * H + j] = dan;
        dr[j] = dar;
        dr[H + j] = daz;
        dr[2 * H + j] = dan * r;
        if (dhp) dhp[(size_t)i * H + j] += d * z;
      }
    }
    /* dh_prev += dgh w_hh */
    if (dhp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, H3, 1.0f, dR, H3, w_hh, H, 1.0f, dhp, H);
    if (dx)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, F, H3, 1.0f, dI, H3, w_ih, F, 0.0f,
                  dx + ((size_t)t * N + r0) * F, F);
  }
}
