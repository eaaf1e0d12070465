/* nn_lstm.c — the LSTM layer, PyTorch nn.LSTM semantics (gates i, f, g, o):
 *   [i f g o] = W_ih x + b_ih + W_hh h + b_hh; i, f, o = sigma, g = tanh;
 *   c' = f * c + i * g, h' = o * tanh(c').
 * Time-major activations. Per step and over the thread's rows: the input product x_t W_ih^T is written into the
 * step's gate rows and the recurrent product accumulated onto it (beta = 1), then one elementwise pass activates
 * the gates in place. The backward writes the pre-activation gradients over the gate rows it has just read. */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* the elementwise forward of one row; has_prev = 0 at t = 0 (c_prev = 0) */
static inline void lstm_fwd_row(float *restrict g0, float *restrict g1, float *restrict g2, float *restrict g3,
                                const float *restrict b_ih, const float *restrict b_hh, const float *restrict cpi,
                                float *restrict ci, float *restrict tci, float *restrict hi, int H, int has_prev) {
  for (int j = 0; j < H; j++) {
    float ig = nn_sigmoidf((g0[j] + b_ih[j]) + b_hh[j]);
    float fg = nn_sigmoidf((g1[j] + b_ih[H + j]) + b_hh[H + j]);
    float gg = nn_tanhf((g2[j] + b_ih[2 * H + j]) + b_hh[2 * H + j]);
    float og = nn_sigmoidf((g3[j] + b_ih[3 * H + j]) + b_hh[3 * H + j]);
    float c = has_prev ? fg * cpi[j] + ig * gg : ig * gg;
    float tc = nn_tanhf(c);
    g0[j] = ig;
    g1[j] = fg;
    g2[j] = gg;
    g3[j] = og;
    ci[j] = c;
    tci[j] = tc;
    hi[j] = og * tc;
  }
}

NN_SIMD_CLONES void lstm_layer_forward(const float *x /*[T,N,F]*/, int F, const float *w_ih /*[4H,F]*/, int T, int N,
                                       int H, int r0, int r1, const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/,
                                       const float *b_hh /*[4H]*/, int keep, float *gates /*[T,N,4H] or [N,4H]*/,
                                       float *cs /*[T,N,H] or [2,N,H]*/, float *tcs /*[T,N,H] or [N,H]*/,
                                       float *hs /*[T,N,H]*/) {
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  if (n <= 0) return;
  for (int t = 0; t < T; t++) {
    size_t ts = (size_t)(keep ? t : 0), cslot = (size_t)(keep ? t : t & 1), cprev = (size_t)(keep ? t - 1 : (t - 1) & 1);
    float *G = gates + (ts * N + r0) * H4;
    float *h = hs + ((size_t)t * N + r0) * H;
    float *c = cs + (cslot * N + r0) * H;
    float *tc = tcs + (ts * N + r0) * H;
    const float *hp = t > 0 ? hs + ((size_t)(t - 1) * N + r0) * H : NULL;
    const float *cp = t > 0 ? cs + (cprev * N + r0) * H : NULL;
    /* G = x_t w_ih^T + h_prev w_hh^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H4, F, 1.0f, x + ((size_t)t * N + r0) * F, F, w_ih, F,
                0.0f, G, H4);
    if (hp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H4, H, 1.0f, hp, H, w_hh, H, 1.0f, G, H4);
    for (int i = 0; i < n; i++) {
      float *g = G + (size_t)i * H4;
      size_t o = (size_t)i * H;
      if (cp)
        lstm_fwd_row(g, g + H, g + H2, g + H3, b_ih, b_hh, cp + o, c + o, tc + o, h + o, H, 1);
      else
        lstm_fwd_row(g, g + H, g + H2, g + H3, b_ih, b_hh, NULL, c + o, tc + o, h + o, H, 0);
    }
  }
}

/* the elementwise backward of one row: g = [i, f, g, o] on entry, their pre-activation gradients on exit;
 * dci holds dL/dc_t from the step above on entry and dL/dc_{t-1} on exit */
static inline void lstm_bwd_row(float *restrict g0, float *restrict g1, float *restrict g2, float *restrict g3,
                                const float *restrict tci, const float *restrict cpi, const float *restrict dhi,
                                float *restrict dci, float *restrict bp, int H, int has_prev) {
  for (int j = 0; j < H; j++) {
    float ig = g0[j], fg = g1[j], gg = g2[j], og = g3[j];
    float tc = tci[j];
    float cprev = has_prev ? cpi[j] : 0.0f;
    float dhv = dhi[j];
    float dct = dci[j] + dhv * og * (1.0f - tc * tc);
    float di = dct * gg * ig * (1.0f - ig), df = dct * cprev * fg * (1.0f - fg);
    float dg = dct * ig * (1.0f - gg * gg), dO = dhv * tc * og * (1.0f - og);
    g0[j] = di;
    g1[j] = df;
    g2[j] = dg;
    g3[j] = dO;
    bp[j] += di;
    bp[H + j] += df;
    bp[2 * H + j] += dg;
    bp[3 * H + j] += dO;
    dci[j] = dct * fg;
  }
}

NN_SIMD_CLONES void lstm_layer_backward(int T, int N, int H, int r0, int r1, const float *w_hh /*[4H,H]*/, float *gates,
                                        const float *cs, const float *tcs, float *dhs /*[T,N,H]*/, float *dc /*[N,H]*/,
                                        float *bpart /*[4H]*/, double *db /*[8H]*/, const rnn_wgrad *wg) {
  int n = r1 - r0, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  for (int k = 0; k < 2 * H4; k++) db[k] = 0;
  if (n <= 0) return;
  float *dcr = dc + (size_t)r0 * H;
  memset(dcr, 0, (size_t)n * H * sizeof(float));
  for (int t = T - 1; t >= 0; t--) {
    for (int k = 0; k < H4; k++) bpart[k] = 0;
    float *G = gates + ((size_t)t * N + r0) * H4;
    const float *c = tcs + ((size_t)t * N + r0) * H; /* tanh(c_t) */
    const float *cp = t > 0 ? cs + ((size_t)(t - 1) * N + r0) * H : NULL;
    float *dh = dhs + ((size_t)t * N + r0) * H;
    for (int i = 0; i < n; i++) {
      float *g = G + (size_t)i * H4;
      size_t o = (size_t)i * H;
      if (cp)
        lstm_bwd_row(g, g + H, g + H2, g + H3, c + o, cp + o, dh + o, dcr + o, bpart, H, 1);
      else
        lstm_bwd_row(g, g + H, g + H2, g + H3, c + o, NULL, dh + o, dcr + o, bpart, H, 0);
    }
    for (int k = 0; k < H4; k++) db[k] += bpart[k];
    if (t > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, H4, 1.0f, G, H4, w_hh, H, 1.0f,
                  dhs + ((size_t)(t - 1) * N + r0) * H, H);
    rnn_step_weights(wg, t, r0, n, G); /* while the step's gradients are in cache */
  }
  for (int k = 0; k < H4; k++) db[H4 + k] = db[k]; /* the input and recurrent pre-activations are the same sum */
}
