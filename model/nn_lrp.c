/* nn_lrp.c — Layer-wise Relevance Propagation of a trained network's output onto its inputs (Arras et al. 2017,
 * "Explaining Recurrent Neural Network Predictions in Sentiment Analysis"; docs/model.md "LRP explanations").
 * Everything runs in double: the forward pass is recomputed in double from the float weights and one row at a
 * time, so that the relevances conserve the explained output up to rounding.
 *
 * Rules: a linear map z_j = sum_i w_ji a_i + b_j gives a_i the share a_i w_ji / (z_j + eps sgn(z_j)) of R_j (the
 * epsilon rule); the rest, (b_j + eps sgn(z_j)) / (z_j + eps sgn(z_j)) R_j, is absorbed by the bias and the
 * stabiliser and reported as bias relevance (sgn(0) = +1). Elementwise nonlinearities (tanh) pass relevance
 * unchanged. In a product gate * signal the gate gets none and the signal all of it:
 *   LSTM  h = o * tanh(c): c gets R_h;  c = f * c_prev + i * g: the epsilon rule over the two terms gives c_prev
 *         and g their shares (i, f, o get none); g = tanh(a_g) passes it to a_g = W_ig x + W_hg h_prev + b_ig +
 *         b_hg, split by the epsilon rule over x and h_prev.
 *   GRU   h = (1 - z) * n + z * h_prev: the epsilon rule over the two terms (z gets none); n = tanh(a_n) with
 *         a_n = W_in x + b_in + r * (W_hn h_prev + b_hn) split by ONE epsilon rule over x and h_prev, the reset gate
 *         r acting as a fixed coefficient on the recurrent terms (so it gets none; its bias share r b_hn goes to
 *         the bias with b_in).
 * h0 = c0 = 0 carry no relevance. The head is the linear map out = w_eff . h_last + b_eff (see nn_lrp_head). */
#include "model.h"
#include "nn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double sgn1(double v) { return v < 0 ? -1.0 : 1.0; }
static double sigm(double a) { return 1.0 / (1.0 + exp(-a)); }

/* act [T, 4H] caches r, z, n, a_n per step. */
void lrp_gru_forward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[3H,F]*/,
                     const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/, const float *b_hh /*[3H]*/,
                     double *act /*[T,4H]*/, double *hs /*[T,H]*/) {
  for (int t = 0; t < T; t++) {
    const double *xt = x + (size_t)t * F, *hp = t > 0 ? hs + (size_t)(t - 1) * H : NULL;
    double *A = act + (size_t)t * 4 * H, *h = hs + (size_t)t * H;
    for (int j = 0; j < H; j++) {
      double a[3], hh[3];
      for (int g = 0; g < 3; g++) {
        const int row = g * H + j;
        double si = b_ih[row], sh = b_hh[row];
        for (int i = 0; i < F; i++) si += (double)w_ih[(size_t)row * F + i] * xt[i];
        if (hp)
          for (int k = 0; k < H; k++) sh += (double)w_hh[(size_t)row * H + k] * hp[k];
        a[g] = si;
        hh[g] = sh;
      }
      const double r = sigm(a[0] + hh[0]), z = sigm(a[1] + hh[1]), an = a[2] + r * hh[2], n = tanh(an);
      A[j] = r, A[H + j] = z, A[2 * H + j] = n, A[3 * H + j] = an;
      h[j] = (1 - z) * n + z * (hp ? hp[j] : 0.0);
    }
  }
}

void lrp_gru_backward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[3H,F]*/,
                      const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/, const float *b_hh /*[3H]*/,
                      const double *act /*[T,4H]*/, const double *hs /*[T,H]*/, double eps, double *rh /*[T,H]*/,
                      double *rx /*[T,F]*/, double *rbias /*[1]*/, double *q /*[H]*/) {
  double bias = 0;
  memset(rx, 0, (size_t)T * F * sizeof *rx);
  for (int t = T - 1; t >= 0; t--) {
    const double *A = act + (size_t)t * 4 * H, *h = hs + (size_t)t * H, *xt = x + (size_t)t * F;
    const double *hp = t > 0 ? hs + (size_t)(t - 1) * H : NULL;
    double *R = rh + (size_t)t * H, *Rp = t > 0 ? rh + (size_t)(t - 1) * H : NULL, *Rx = rx + (size_t)t * F;
    for (int j = 0; j < H; j++) { /* h = (1 - z) n + z h_prev */
      const double z = A[H + j], n = A[2 * H + j], d = h[j] + eps * sgn1(h[j]);
      const double rn = (1 - z) * n / d * R[j];
      if (Rp) Rp[j] += z * hp[j] / d * R[j];
      bias += eps * sgn1(h[j]) / d * R[j];
      const double an = A[3 * H + j];
      q[j] = rn / (an + eps * sgn1(an)); /* a_n's epsilon rule: relevance per unit of contribution */
      bias += (b_ih[2 * H + j] + A[j] * b_hh[2 * H + j] + eps * sgn1(an)) * q[j];
    }
    for (int j = 0; j < H; j++) {
      const float *wi = w_ih + (size_t)(2 * H + j) * F;
      for (int i = 0; i < F; i++) Rx[i] += xt[i] * wi[i] * q[j];
      if (Rp) {
        const float *wh = w_hh + (size_t)(2 * H + j) * H;
        const double rq = A[j] * q[j];
        for (int k = 0; k < H; k++) Rp[k] += hp[k] * wh[k] * rq;
      }
    }
  }
  *rbias = bias;
}

/* act [T, 6H] caches i, f, g, o, a_g, c per step. */
void lrp_lstm_forward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[4H,F]*/,
                      const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/, const float *b_hh /*[4H]*/,
                      double *act /*[T,6H]*/, double *hs /*[T,H]*/) {
  for (int t = 0; t < T; t++) {
    const double *xt = x + (size_t)t * F, *hp = t > 0 ? hs + (size_t)(t - 1) * H : NULL;
    const double *cp = t > 0 ? act + (size_t)(t - 1) * 6 * H + 5 * H : NULL;
    double *A = act + (size_t)t * 6 * H, *h = hs + (size_t)t * H;
    for (int j = 0; j < H; j++) {
      double a[4];
      for (int g = 0; g < 4; g++) {
        const int row = g * H + j;
        double s = (double)b_ih[row] + b_hh[row];
        for (int i = 0; i < F; i++) s += (double)w_ih[(size_t)row * F + i] * xt[i];
        if (hp)
          for (int k = 0; k < H; k++) s += (double)w_hh[(size_t)row * H + k] * hp[k];
        a[g] = s;
      }
      const double ig = sigm(a[0]), fg = sigm(a[1]), gg = tanh(a[2]), og = sigm(a[3]);
      const double c = fg * (cp ? cp[j] : 0.0) + ig * gg;
      A[j] = ig, A[H + j] = fg, A[2 * H + j] = gg, A[3 * H + j] = og, A[4 * H + j] = a[2], A[5 * H + j] = c;
      h[j] = og * tanh(c);
    }
  }
}

void lrp_lstm_backward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[4H,F]*/,
                       const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/, const float *b_hh /*[4H]*/,
                       const double *act /*[T,6H]*/, const double *hs /*[T,H]*/, double eps, double *rh /*[T,H]*/,
                       double *rx /*[T,F]*/, double *rbias /*[1]*/, double *rc /*[H]*/, double *q /*[H]*/) {
  double bias = 0;
  memset(rx, 0, (size_t)T * F * sizeof *rx);
  memset(rc, 0, (size_t)H * sizeof *rc);
  for (int t = T - 1; t >= 0; t--) {
    const double *A = act + (size_t)t * 6 * H, *xt = x + (size_t)t * F;
    const double *hp = t > 0 ? hs + (size_t)(t - 1) * H : NULL, *cp = t > 0 ? A - 6 * H + 5 * H : NULL;
    double *R = rh + (size_t)t * H, *Rp = t > 0 ? rh + (size_t)(t - 1) * H : NULL, *Rx = rx + (size_t)t * F;
    for (int j = 0; j < H; j++) {
      const double Rc = rc[j] + R[j]; /* h = o tanh(c): all of R_h to c */
      const double c = A[5 * H + j], d = c + eps * sgn1(c);
      rc[j] = cp ? A[H + j] * cp[j] / d * Rc : 0.0; /* to c_prev */
      const double rg = A[j] * A[2 * H + j] / d * Rc;  /* to g, then a_g */
      bias += eps * sgn1(c) / d * Rc;
      const double ag = A[4 * H + j];
      q[j] = rg / (ag + eps * sgn1(ag));
      bias += ((double)b_ih[2 * H + j] + b_hh[2 * H + j] + eps * sgn1(ag)) * q[j];
    }
    for (int j = 0; j < H; j++) {
      const float *wi = w_ih + (size_t)(2 * H + j) * F;
      for (int i = 0; i < F; i++) Rx[i] += xt[i] * wi[i] * q[j];
      if (Rp) {
        const float *wh = w_hh + (size_t)(2 * H + j) * H;
        for (int k = 0; k < H; k++) Rp[k] += hp[k] * wh[k] * q[j];
      }
    }
  }
  *rbias = bias;
}

/* The explained output as a linear map of the last hidden state, out = w_eff . h + b_eff:
 *   univariate: the head's output before batch-norm, w_eff = head.weight, b_eff = head.bias;
 *   multivariate: c = mean_k (u_k - mu_k) / s_k with the batch-norm of the N rows taken as a fixed affine map
 *     (mu_k, s_k = sqrt(biased var + 1e-5) of column k of u = h W^T + b over the rows, computed in double), so
 *     w_eff = sum_k W_k / (K s_k), b_eff = sum_k (b_k - mu_k) / (K s_k);
 *   class3: the logit difference u_up - u_down, w_eff = W_up - W_down, b_eff = b_up - b_down.
 * hl [N, H] the rows' last hidden states in double. */
static void lrp_head(const nn_model *m, const double *hl, int N, double *w_eff /*[H]*/, double *b_eff) {
  const int H = m->cfg.hidden, K = m->cfg.outputs;
  const float *w = m->params + nn_param_find(m, "head.weight")->offset;
  const float *b = m->params + nn_param_find(m, "head.bias")->offset;
  if (m->cfg.head == NN_HEAD_CLASS3) {
    for (int j = 0; j < H; j++) w_eff[j] = (double)w[NN_CLASS_UP * H + j] - w[NN_CLASS_DOWN * H + j];
    *b_eff = (double)b[NN_CLASS_UP] - b[NN_CLASS_DOWN];
    return;
  }
  if (m->cfg.head == NN_HEAD_UNIVARIATE) {
    for (int j = 0; j < H; j++) w_eff[j] = w[j];
    *b_eff = b[0];
    return;
  }
  for (int j = 0; j < H; j++) w_eff[j] = 0;
  *b_eff = 0;
  for (int k = 0; k < K; k++) {
    double mean = 0, v2 = 0; /* two passes, as nn_head's batch-norm */
    for (int pass = 0; pass < 2; pass++)
      for (int i = 0; i < N; i++) {
        double u = b[k];
        for (int j = 0; j < H; j++) u += (double)w[(size_t)k * H + j] * hl[(size_t)i * H + j];
        if (pass == 0) mean += u / N;
        else v2 += (u - mean) * (u - mean);
      }
    const double s = sqrt(v2 / N + 1e-5);
    for (int j = 0; j < H; j++) w_eff[j] += w[(size_t)k * H + j] / (K * s);
    *b_eff += (b[k] - mean) / (K * s);
  }
}

typedef struct lrp_layer {
  int F;
  const float *w_ih, *w_hh, *b_ih, *b_hh;
} lrp_layer;

int nn_lrp(const nn_model *m, const float *x /*[N,T,F]*/, int N, int T, const uint8_t *rows /*[N] or NULL*/,
           double eps, double *rel /*[N,T,F]*/, double *bias /*[N,NN_LRP_PARTS]*/, double *out /*[N]*/, zz_err *err) {
  const nn_config *c = &m->cfg;
  if (c->cell == NN_ACT_LSTM)
    return zz_fail(err, ZZ_EUSAGE, "LRP explanations support the gru and lstm cells, not act_lstm (its ponder "
                                   "steps have no relevance rule here)");
  if (!(eps >= 0) || !isfinite(eps)) return zz_fail(err, ZZ_EUSAGE, "LRP epsilon must be a finite number >= 0");
  if (N < 1 || T < 1) return zz_fail(err, ZZ_EUSAGE, "LRP needs N >= 1 rows and T >= 1 time steps");
  if (c->head == NN_HEAD_MULTIVARIATE && N < 2)
    return zz_fail(err, ZZ_EUSAGE, "LRP of the multivariate head needs N >= 2 rows (batch-norm over the rows)");
  const int F = c->input_size, H = c->hidden, L = c->layers;
  for (size_t k = 0; k < (size_t)N * T * F; k++)
    if (!isfinite(x[k])) return zz_fail(err, ZZ_EDATA, "LRP input row %d is not finite", (int)(k / ((size_t)T * F)));
  lrp_layer ly[2];
  for (int l = 0; l < L; l++) {
    char nm[32];
    ly[l].F = l == 0 ? F : H;
    snprintf(nm, sizeof nm, "rnn.weight_ih_l%d", l);
    ly[l].w_ih = m->params + nn_param_find(m, nm)->offset;
    snprintf(nm, sizeof nm, "rnn.weight_hh_l%d", l);
    ly[l].w_hh = m->params + nn_param_find(m, nm)->offset;
    snprintf(nm, sizeof nm, "rnn.bias_ih_l%d", l);
    ly[l].b_ih = m->params + nn_param_find(m, nm)->offset;
    snprintf(nm, sizeof nm, "rnn.bias_hh_l%d", l);
    ly[l].b_hh = m->params + nn_param_find(m, nm)->offset;
  }
  const int G = c->cell == NN_LSTM ? 6 : 4, FM = F > H ? F : H;
  double *xd = malloc(sizeof(double) * (size_t)T * F), *act = malloc(sizeof(double) * (size_t)L * T * G * H);
  double *hs = malloc(sizeof(double) * (size_t)L * T * H), *rh = malloc(sizeof(double) * (size_t)T * H);
  double *rx = malloc(sizeof(double) * (size_t)T * FM), *hl = malloc(sizeof(double) * (size_t)N * H);
  double *w_eff = malloc(sizeof(double) * (size_t)H), *s1 = malloc(sizeof(double) * (size_t)H),
         *s2 = malloc(sizeof(double) * (size_t)H);
  int rc = ZZ_OK;
  if (!xd || !act || !hs || !rh || !rx || !hl || !w_eff || !s1 || !s2) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for LRP");
    goto done;
  }
  /* pass 1 (forward, every row): the last hidden states, for the head's batch statistics;
     pass 2 (the rows asked for): forward again with its caches, then relevance backwards */
  for (int pass = 0; pass < 2; pass++) {
    double b_eff = 0;
    if (pass == 1) lrp_head(m, hl, N, w_eff, &b_eff);
    for (int i = 0; i < N; i++) {
      if (pass == 1 && rows && !rows[i]) continue;
      for (size_t k = 0; k < (size_t)T * F; k++) xd[k] = x[(size_t)i * T * F + k];
      for (int l = 0; l < L; l++) {
        const double *in = l == 0 ? xd : hs + (size_t)(l - 1) * T * H;
        double *A = act + (size_t)l * T * G * H, *h = hs + (size_t)l * T * H;
        if (c->cell == NN_LSTM) lrp_lstm_forward(in, T, ly[l].F, H, ly[l].w_ih, ly[l].w_hh, ly[l].b_ih, ly[l].b_hh, A, h);
        else lrp_gru_forward(in, T, ly[l].F, H, ly[l].w_ih, ly[l].w_hh, ly[l].b_ih, ly[l].b_hh, A, h);
      }
      const double *last = hs + (size_t)(L - 1) * T * H + (size_t)(T - 1) * H;
      if (pass == 0) {
        memcpy(hl + (size_t)i * H, last, sizeof(double) * (size_t)H);
        continue;
      }
      double o = b_eff;
      for (int j = 0; j < H; j++) o += w_eff[j] * last[j];
      out[i] = o;
      const double d = o + eps * sgn1(o);
      double *B = bias + (size_t)i * NN_LRP_PARTS;
      for (int k = 0; k < NN_LRP_PARTS; k++) B[k] = 0;
      B[NN_LRP_HEAD] = (b_eff + eps * sgn1(o)) / d * o;
      memset(rh, 0, sizeof(double) * (size_t)T * H);
      for (int j = 0; j < H; j++) rh[(size_t)(T - 1) * H + j] = last[j] * w_eff[j] / d * o;
      for (int l = L - 1; l >= 0; l--) {
        const double *in = l == 0 ? xd : hs + (size_t)(l - 1) * T * H;
        const double *A = act + (size_t)l * T * G * H, *h = hs + (size_t)l * T * H;
        if (c->cell == NN_LSTM)
          lrp_lstm_backward(in, T, ly[l].F, H, ly[l].w_ih, ly[l].w_hh, ly[l].b_ih, ly[l].b_hh, A, h, eps, rh, rx, &B[l],
                            s1, s2);
        else
          lrp_gru_backward(in, T, ly[l].F, H, ly[l].w_ih, ly[l].w_hh, ly[l].b_ih, ly[l].b_hh, A, h, eps, rh, rx, &B[l],
                           s1);
        if (l > 0) memcpy(rh, rx, sizeof(double) * (size_t)T * H); /* the layer below's injected relevance */
      }
      memcpy(rel + (size_t)i * T * F, rx, sizeof(double) * (size_t)T * F);
    }
  }
done:
  free(xd), free(act), free(hs), free(rh), free(rx), free(hl), free(w_eff), free(s1), free(s2);
  return rc;
}
