/* nn_gru.c — the GRU layer, PyTorch nn.GRU semantics:
 *   r = sigma(W_ir x + b_ir + W_hr h + b_hr), z = sigma(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
 * Time-major activations. Per step and over the thread's rows: the input product x_t W_ih^T is written into the
 * step's gate rows, the recurrent product of r and z is accumulated onto it (beta = 1: no separate pass over the
 * rows) and that of n written beside it, then one elementwise pass activates the gates in place. The backward
 * writes its pre-activation gradients over the gate rows it has just read (no second buffer). */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* the elementwise forward of one row: g = [x W_ih^T (r, z, n) + h W_hh^T (r, z), h W_hn^T] on entry,
 * [r, z, n, W_hn h + b_hn] on exit; has_prev = 0 at t = 0 (h_prev = 0). */
static inline void gru_fwd_row(float *restrict g0, float *restrict g1, float *restrict g2, float *restrict g3,
                               const float *restrict b_ih, const float *restrict b_hh, const float *restrict hpi,
                               float *restrict hi, int H, int has_prev) {
  for (int j = 0; j < H; j++) {
    float r = nn_sigmoidf((g0[j] + b_ih[j]) + b_hh[j]);
    float z = nn_sigmoidf((g1[j] + b_ih[H + j]) + b_hh[H + j]);
    float hn = has_prev ? g3[j] + b_hh[2 * H + j] : b_hh[2 * H + j];
    float n = nn_tanhf((g2[j] + b_ih[2 * H + j]) + r * hn);
    g0[j] = r;
    g1[j] = z;
    g2[j] = n;
    g3[j] = hn;
    hi[j] = has_prev ? (1.0f - z) * n + z * hpi[j] : (1.0f - z) * n;
  }
}

NN_SIMD_CLONES void gru_layer_forward(const float *x /*[T,N,F]*/, int F, const float *w_ih /*[3H,F]*/, int T, int N,
                                      int H, int r0, int r1, const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/,
                                      const float *b_hh /*[3H]*/, int keep, float *gates /*[T,N,4H] or [N,4H]*/,
                                      float *hs /*[T,N,H]*/) {
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  if (n <= 0) return;
  for (int t = 0; t < T; t++) {
    float *G = gates + ((size_t)(keep ? t : 0) * N + r0) * H4;
    float *h = hs + ((size_t)t * N + r0) * H;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    /* G[:, 0:3H] = x_t w_ih^T; G[:, 0:2H] += h_prev w_hh[0:2H]^T; G[:, 3H:4H] = h_prev w_hh[2H:3H]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H3, F, 1.0f, x + ((size_t)t * N + r0) * F, F, w_ih, F,
                0.0f, G, H4);
    if (hp) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H2, H, 1.0f, hp, H, w_hh, H, 1.0f, G, H4);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H, H, 1.0f, hp, H, w_hh + (size_t)H2 * H, H, 0.0f,
                  G + H3, H4);
    }
    for (int i = 0; i < n; i++) {
      float *g = G + (size_t)i * H4;
      if (hp)
        gru_fwd_row(g, g + H, g + H2, g + H3, b_ih, b_hh, hp + (size_t)i * H, h + (size_t)i * H, H, 1);
      else
        gru_fwd_row(g, g + H, g + H2, g + H3, b_ih, b_hh, NULL, h + (size_t)i * H, H, 0);
    }
  }
}

/* the elementwise backward of one row: g = [r, z, n, hn] on entry, [da_r, da_z, da_n r, da_n] on exit (the
 * pre-activation gradients: da_r and da_z of both products, da_n of the input one, da_n r of the recurrent one) */
static inline void gru_bwd_row(float *restrict g0, float *restrict g1, float *restrict g2, float *restrict g3,
                               const float *restrict dhi, const float *restrict hpi, float *restrict dhpi,
                               float *restrict bp, int H, int has_prev) {
  for (int j = 0; j < H; j++) {
    float r = g0[j], z = g1[j], nn = g2[j], hn = g3[j];
    float hprev = has_prev ? hpi[j] : 0.0f;
    float d = dhi[j];
    float dan = d * (1.0f - z) * (1.0f - nn * nn);
    float daz = d * (hprev - nn) * z * (1.0f - z);
    float dar = dan * hn * r * (1.0f - r);
    g0[j] = dar;
    g1[j] = daz;
    g2[j] = dan * r;
    g3[j] = dan;
    bp[j] += dar;
    bp[H + j] += daz;
    bp[2 * H + j] += dan * r;
    bp[3 * H + j] += dan;
    if (has_prev) dhpi[j] += d * z;
  }
}

NN_SIMD_CLONES void gru_layer_backward(int T, int N, int H, int r0, int r1, const float *w_hh /*[3H,H]*/,
                                       float *gates /*[T,N,4H]*/, const float *hs, float *dhs /*[T,N,H]*/,
                                       float *bpart /*[4H]*/, double *db /*[6H]*/, const rnn_wgrad *wg) {
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  for (int k = 0; k < 2 * H3; k++) db[k] = 0;
  if (n <= 0) return;
  for (int t = T - 1; t >= 0; t--) {
    for (int k = 0; k < H4; k++) bpart[k] = 0;
    float *G = gates + ((size_t)t * N + r0) * H4;
    float *dh = dhs + ((size_t)t * N + r0) * H;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    float *dhp = t > 0 ? dhs + ((size_t)(t - 1) * N + r0) * H : NULL;
    for (int i = 0; i < n; i++) {
      float *g = G + (size_t)i * H4;
      if (hp)
        gru_bwd_row(g, g + H, g + H2, g + H3, dh + (size_t)i * H, hp + (size_t)i * H, dhp + (size_t)i * H, bpart, H, 1);
      else
        gru_bwd_row(g, g + H, g + H2, g + H3, dh + (size_t)i * H, NULL, NULL, bpart, H, 0);
    }
    /* db = [b_ih: r, z, n | b_hh: r, z, n] from the columns [da_r, da_z, da_n r, da_n] */
    for (int j = 0; j < H2; j++) db[j] += bpart[j], db[H3 + j] += bpart[j];
    for (int j = 0; j < H; j++) db[H2 + j] += bpart[H3 + j], db[H3 + H2 + j] += bpart[H2 + j];
    /* dh_prev += [da_r, da_z, da_n r] w_hh */
    if (dhp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, H3, 1.0f, G, H4, w_hh, H, 1.0f, dhp, H);
    rnn_step_weights(wg, t, r0, n, G); /* while the step's gradients are in cache */
  }
}
