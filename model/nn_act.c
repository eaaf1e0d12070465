/* nn_act.c — the ACT-LSTM layer (Graves 2016, "Adaptive Computation Time for Recurrent Neural Networks"):
 * at time step t the cell ponders n = 1..N(t) LSTM steps on [x_t, n == 1] from the previous ponder step's
 * (h, c) (the first from the previous time step's), with halting probabilities p^n = sigma(w_act h^n + b_act);
 * N(t) is the first n with sum_{n' <= n} p^n' >= 1 - eps, or nmax; R(t) = 1 - sum_{n < N} p^n; the time step's
 * (h, c) are the means of the ponder steps' weighted by p^n (n < N) and R (n = N). Rows are independent and
 * processed one at a time; the backward pass recomputes each time step's ponder chain from the cached
 * (h, c) of the step before, so the cache is [T, N, H] whatever the number of ponder steps. A row's ponder
 * steps' dL/d(pre-activations) and previous h are gathered over its T time steps, so that dW_hh gets one sgemm
 * per row. */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* per ponder step: gates (activated i, f, g, o) [4H], c [H], tanh(c) [H], h [H] */
#define ACT_STEP(H) (7 * (size_t)(H))

size_t act_scratch_floats(int H, int nmax, int T) {
  return (size_t)nmax * (ACT_STEP(H) + 2) + 16 * (size_t)H + (size_t)T * nmax * 5 * (size_t)H;
}

/* The ponder chain of one (row, time step): gi [4H] the input projection, (h0, c0) the previous time step's
 * state (NULL: zeros). Fills st [nmax, 7H], p [nmax] (halting probabilities) and wt [nmax] (the mean's weights:
 * p^n, then R), writes the weighted means to hout, cout and returns N; *rem = R. */
NN_SIMD_CLONES static int act_chain(const act_weights *a, const float *gi, const float *h0, const float *c0, float *st,
                                    float *p, float *wt, float *hout, float *cout, double *rem) {
  int H = a->H, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H, F1 = a->F + 1;
  double sum = 0;
  int n = 0;
  for (;; n++) {
    float *restrict g = st + (size_t)n * ACT_STEP(H);
    float *restrict c = g + H4, *restrict tc = c + H, *restrict h = tc + H;
    const float *hp = n > 0 ? g - ACT_STEP(H) + 6 * (size_t)H : h0;
    const float *cp = n > 0 ? g - ACT_STEP(H) + H4 : c0;
    if (hp)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, H4, H, 1.0f, a->w_hh, H, hp, 1, 0.0f, g, 1);
    else
      memset(g, 0, (size_t)H4 * sizeof(float));
    if (n == 0) /* the first-step flag */
      for (int k = 0; k < H4; k++) g[k] += a->w_ih[(size_t)k * F1 + a->F];
    for (int k = 0; k < H2; k++) g[k] = nn_sigmoidf((gi[k] + a->b_ih[k]) + (g[k] + a->b_hh[k]));
    for (int k = H2; k < H3; k++) g[k] = nn_tanhf((gi[k] + a->b_ih[k]) + (g[k] + a->b_hh[k]));
    for (int k = H3; k < H4; k++) g[k] = nn_sigmoidf((gi[k] + a->b_ih[k]) + (g[k] + a->b_hh[k]));
    if (cp)
      for (int j = 0; j < H; j++) c[j] = g[H + j] * cp[j] + g[j] * g[H2 + j];
    else
      for (int j = 0; j < H; j++) c[j] = g[j] * g[H2 + j];
    for (int j = 0; j < H; j++) tc[j] = nn_tanhf(c[j]);
    for (int j = 0; j < H; j++) h[j] = g[H3 + j] * tc[j];
    double z = a->b_act;
    for (int j = 0; j < H; j++) z += (double)a->w_act[j] * h[j];
    double pn = 1.0 / (1.0 + exp(-z));
    p[n] = (float)pn;
    if (sum + pn >= 1.0 - a->eps || n + 1 == a->nmax) {
      wt[n] = (float)(1.0 - sum);
      *rem = 1.0 - sum;
      break;
    }
    wt[n] = (float)pn;
    sum += pn;
  }
  int N = n + 1;
  memset(hout, 0, (size_t)H * sizeof(float));
  memset(cout, 0, (size_t)H * sizeof(float));
  for (int k = 0; k < N; k++) {
    const float *c = st + (size_t)k * ACT_STEP(H) + H4, *h = c + H2;
    for (int j = 0; j < H; j++) {
      hout[j] += wt[k] * h[j];
      cout[j] += wt[k] * c[j];
    }
  }
  return N;
}

void act_layer_forward(const act_weights *a, const float *gi /*[T,N,4H]*/, int T, int N, int r0, int r1,
                       float *hs /*[T,N,H]*/, float *cs /*[T,N,H]*/, float *scratch, double stats[2]) {
  int H = a->H, H4 = 4 * H;
  float *st = scratch, *p = st + (size_t)a->nmax * ACT_STEP(H), *wt = p + a->nmax;
  for (int i = r0; i < r1; i++)
    for (int t = 0; t < T; t++) {
      size_t q = (size_t)t * N + i, qp = q - (size_t)N;
      double rem;
      int n = act_chain(a, gi + q * H4, t > 0 ? hs + qp * H : NULL, t > 0 ? cs + qp * H : NULL, st, p, wt,
                        hs + q * H, cs + q * H, &rem);
      stats[0] += n;
      stats[1] += n + rem;
    }
}

NN_SIMD_CLONES void act_layer_backward(const act_weights *a, float *gi /*[T,N,4H]*/, int T, int N, int r0, int r1,
                                       const float *hs /*[T,N,H]*/, const float *cs /*[T,N,H]*/,
                                       const float *dlast /*[N,H]*/, double tau_row, float *scratch,
                                       float *dw_hh /*[4H,H]*/, float *dw_flag /*[4H]*/, double *dact /*[H+1]*/,
                                       double *db /*[4H]*/) {
  int H = a->H, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
  float *st = scratch, *p = st + (size_t)a->nmax * ACT_STEP(H), *wt = p + a->nmax;
  float *dh = wt + a->nmax; /* dL/d(h_t), dL/d(c_t) of the time step */
  float *dc = dh + H, *dhc = dc + H, *dcc = dhc + H, *dG = dcc + H, *dgs = dG + H4, *hm = dgs + H4, *cm = hm + H;
  float *dgr = cm + H, *hpr = dgr + (size_t)T * a->nmax * H4; /* the row's ponder steps: [T*nmax, 4H], [T*nmax, H] */
  for (int i = r0; i < r1; i++) {
    int cnt = 0;
    memcpy(dh, dlast + (size_t)i * H, (size_t)H * sizeof(float));
    memset(dc, 0, (size_t)H * sizeof(float));
    for (int t = T - 1; t >= 0; t--) {
      size_t q = (size_t)t * N + i, qp = q - (size_t)N;
      const float *h0 = t > 0 ? hs + qp * H : NULL, *c0 = t > 0 ? cs + qp * H : NULL;
      double rem;
      float *gq = gi + q * H4;
      int Nn = act_chain(a, gq, h0, c0, st, p, wt, hm, cm, &rem);
      const float *cl = st + (size_t)(Nn - 1) * ACT_STEP(H) + H4, *hl = cl + H2;
      memset(dhc, 0, (size_t)H * sizeof(float));
      memset(dcc, 0, (size_t)H * sizeof(float));
      memset(dgs, 0, (size_t)H4 * sizeof(float));
      for (int n = Nn - 1; n >= 0; n--) {
        const float *g = st + (size_t)n * ACT_STEP(H), *c = g + H4, *tc = c + H, *h = tc + H;
        /* the halting unit: p^n (n < N) weighs h^n, c^n and enters R = 1 - sum p with the ponder cost */
        double da = 0;
        if (n < Nn - 1) {
          double dp = -tau_row;
          for (int j = 0; j < H; j++) dp += (double)dh[j] * (h[j] - hl[j]) + (double)dc[j] * (c[j] - cl[j]);
          da = dp * p[n] * (1.0 - p[n]);
          for (int j = 0; j < H; j++) dact[j] += da * h[j];
          dact[H] += da;
        }
        const float *cp = n > 0 ? g - ACT_STEP(H) + H4 : c0;
        const float *hp = n > 0 ? g - ACT_STEP(H) + 6 * (size_t)H : h0;
        float w = wt[n], daf = (float)da;
        for (int j = 0; j < H; j++) {
          float ig = g[j], fg = g[H + j], gg = g[H2 + j], og = g[H3 + j], tcj = tc[j];
          float dhv = w * dh[j] + dhc[j] + daf * a->w_act[j];
          float dct = w * dc[j] + dcc[j] + dhv * og * (1.0f - tcj * tcj);
          float cprev = cp ? cp[j] : 0.0f;
          dG[j] = dct * gg * ig * (1.0f - ig);
          dG[H + j] = dct * cprev * fg * (1.0f - fg);
          dG[H2 + j] = dct * ig * (1.0f - gg * gg);
          dG[H3 + j] = dhv * tcj * og * (1.0f - og);
          dcc[j] = dct * fg;
        }
        for (int k = 0; k < H4; k++) dgs[k] += dG[k];
        if (n == 0)
          for (int k = 0; k < H4; k++) dw_flag[k] += dG[k];
        if (hp) {
          memcpy(dgr + (size_t)cnt * H4, dG, (size_t)H4 * sizeof(float));
          memcpy(hpr + (size_t)cnt * H, hp, (size_t)H * sizeof(float));
          cnt++;
          cblas_sgemv(CblasRowMajor, CblasTrans, H4, H, 1.0f, a->w_hh, H, dG, 1, 0.0f, dhc, 1);
        } else {
          memset(dhc, 0, (size_t)H * sizeof(float));
        }
      }
      /* the gradient into the previous time step's state, and dgi in place of gi */
      memcpy(dh, dhc, (size_t)H * sizeof(float));
      memcpy(dc, dcc, (size_t)H * sizeof(float));
      memcpy(gq, dgs, (size_t)H4 * sizeof(float));
      for (int k = 0; k < H4; k++) db[k] += dgs[k];
    }
    if (cnt > 0)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H4, H, cnt, 1.0f, dgr, H4, hpr, H, 1.0f, dw_hh, H);
  }
}
