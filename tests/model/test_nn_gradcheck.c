/* test_nn_gradcheck.c — finite-difference check of EVERY parameter gradient of GRU and LSTM (1 and 2
 * layers) and of ACT-LSTM (1 layer; halting early and hitting N_max; elements whose +-h moves N(t), a jump of
 * the loss, are skipped and counted, at most a quarter of a tensor) with the univariate, the multivariate (batch-norm, orthogonal penalty) and the class3 head
 * (softmax cross-entropy, with and without class weights), with and
 * without dropout (fixed masks), one and two threads. Reference: central differences of the loss value
 * (whose own correctness the PyTorch comparison test_ref_torch checks), tolerance 5e-3 of the tensor's
 * max |gradient|. Also: nn_score gives nn_forward's scoring outputs bit for bit and leaves no backward state. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the loss; *steps = the ACT cell's mean ponder steps (0 for the other cells) */
static double loss_at(nn_model *m, nn_work *w, const float *x, const float *y, int N, int T, int train,
                      double *steps) {
  zz_err err;
  double loss = NAN, cost;
  if (nn_forward(m, w, x, N, T, train, 99, NULL, NULL, &err) || nn_backward(m, w, y, &loss, &err)) {
    fprintf(stderr, "forward/backward failed: %s\n", err.msg);
    exit(1);
  }
  nn_work_act_stats(w, steps, &cost);
  return loss;
}

/* act_bias: the ACT cell's halting bias (0: as initialised); act_nmax its N_max */
static int check_act(nn_cell cell, int layers, nn_head_kind head, double dropout, int threads, float act_bias,
                     int act_nmax) {
  nn_config c = nn_config_default(3);
  c.cell = cell;
  c.layers = layers;
  c.hidden = 5;
  c.head = head;
  c.outputs = head == NN_HEAD_MULTIVARIATE ? 4 : head == NN_HEAD_CLASS3 ? 3 : 1;
  if (head == NN_HEAD_CLASS3 && dropout > 0) { /* class weights on the runs with dropout */
    c.class_weight[NN_CLASS_DOWN] = 2.5;
    c.class_weight[NN_CLASS_NEUTRAL] = 0.4;
  }
  c.lambda = 0.7;
  c.dropout = dropout;
  c.act_max_steps = act_nmax;
  c.act_tau = 0.05;
  int N = 9, T = 4;
  zz_err err;
  nn_model *m;
  nn_work *w;
  if (nn_create(&m, &c, 1234 + (uint64_t)layers, &err) || nn_work_create(&w, threads, &err)) {
    fprintf(stderr, "create: %s\n", err.msg);
    return 1;
  }
  /* larger weights than init so the gates leave the linear region */
  for (size_t k = 0; k < m->n_params; k++) m->params[k] *= 2.0f;
  if (cell == NN_ACT_LSTM && act_bias != 0) m->params[nn_param_find(m, "act.bias")->offset] = act_bias;
  float *x = malloc(sizeof(float) * N * T * 3), *y = malloc(sizeof(float) * N);
  uint64_t s = 77;
  for (int k = 0; k < N * T * 3; k++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[k] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
  }
  for (int i = 0; i < N; i++) y[i] = head == NN_HEAD_CLASS3 ? (float)((i * 7) % 3) : (float)sin(1.7 * i);
  int train = dropout > 0;
  double steps0, sp, sm;
  loss_at(m, w, x, y, N, T, train, &steps0);
  float *g = malloc(sizeof(float) * m->n_params);
  memcpy(g, m->grads, sizeof(float) * m->n_params);
  int bad = 0;
  for (int v = 0; v < m->n_views; v++) {
    const nn_param_view *pv = &m->views[v];
    double gmax = 0, errmax = 0;
    size_t skipped = 0;
    for (size_t q = 0; q < pv->size; q++) gmax = fmax(gmax, fabs(g[pv->offset + q]));
    for (size_t q = 0; q < pv->size; q++) {
      float *p = m->params + pv->offset + q, p0 = *p;
      const float h = cell == NN_ACT_LSTM ? 4e-3f : 1e-2f;
      *p = p0 + h;
      double lp = loss_at(m, w, x, y, N, T, train, &sp);
      *p = p0 - h;
      double lm = loss_at(m, w, x, y, N, T, train, &sm);
      *p = p0;
      if (sp != steps0 || sm != steps0) { /* N(t) jumped between p0 - h and p0 + h */
        skipped++;
        continue;
      }
      double fd = (lp - lm) / ((double)(p0 + h) - (double)(p0 - h));
      errmax = fmax(errmax, fabs(fd - g[pv->offset + q]));
    }
    /* head.bias has a mathematically zero gradient (batch-norm follows the head): absolute check there */
    int zero_grad = !strcmp(pv->name, "head.bias") && head != NN_HEAD_CLASS3;
    double rel = errmax / (zero_grad ? 1e-2 : gmax);
    int ok = rel < 5e-3 && (zero_grad ? gmax < 1e-6 : gmax > 0) && skipped * 4 <= pv->size;
    printf("%-8s layers=%d %-12s dropout=%.1f threads=%d %-18s max|g|=%.3e max|fd-g|=%.3e rel=%.2e", nn_cell_name(cell),
           layers, nn_head_name(head), dropout, threads, pv->name, gmax, errmax, rel);
    if (cell == NN_ACT_LSTM) printf(" ponder=%.2f/%d skipped=%zu", steps0, act_nmax, skipped);
    printf(" %s\n", ok ? "ok" : "FAIL");
    bad += !ok;
  }
  free(g);
  free(x);
  free(y);
  nn_work_free(w);
  nn_free(m);
  return bad;
}

/* nn_score (forward only, no backward state) gives nn_forward's train = 0 outputs bit for bit, on the same workspace
 * before and after a training pass; nn_backward after nn_score, or a second nn_backward, is refused */
static int check_score(nn_cell cell, int layers, nn_head_kind head, int threads) {
  nn_config c = nn_config_default(3);
  c.cell = cell;
  c.layers = layers;
  c.hidden = 6;
  c.head = head;
  c.outputs = head == NN_HEAD_MULTIVARIATE ? 4 : head == NN_HEAD_CLASS3 ? 3 : 1;
  c.dropout = 0.2;
  const int N = 11, T = 5, K = c.outputs;
  zz_err err;
  nn_model *m;
  nn_work *w;
  if (nn_create(&m, &c, 4321, &err) || nn_work_create(&w, threads, &err)) {
    fprintf(stderr, "create: %s\n", err.msg);
    return 1;
  }
  float x[11 * 5 * 3], y[11], h1[11 * 4], s1[11], h2[11 * 4], s2[11], h3[11 * 4], s3[11];
  uint64_t r = 5;
  for (int k = 0; k < N * T * 3; k++) {
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    x[k] = (float)((double)(r >> 11) / 9007199254740992.0 * 4 - 2);
  }
  for (int i = 0; i < N; i++) y[i] = head == NN_HEAD_CLASS3 ? (float)(i % 3) : (float)cos(0.9 * i);
  double loss;
  int bad = 0;
  bad |= nn_score(m, w, x, N, T, h2, s2, &err) != 0;
  bad |= nn_backward(m, w, y, &loss, &err) != ZZ_EINTERNAL; /* no backward state after scoring */
  bad |= nn_forward(m, w, x, N, T, 0, 0, h1, s1, &err) != 0;
  bad |= nn_backward(m, w, y, &loss, &err) != 0;
  bad |= nn_backward(m, w, y, &loss, &err) != ZZ_EINTERNAL; /* the first one consumed the cached gates */
  bad |= nn_forward(m, w, x, N, T, 1, 7, NULL, NULL, &err) != 0; /* a training pass in between */
  bad |= nn_score(m, w, x, N, T, h3, s3, &err) != 0;
  bad |= memcmp(h1, h2, sizeof(float) * N * K) != 0 || memcmp(s1, s2, sizeof(float) * N) != 0;
  bad |= memcmp(h1, h3, sizeof(float) * N * K) != 0 || memcmp(s1, s3, sizeof(float) * N) != 0;
  printf("%-8s layers=%d %-12s threads=%d nn_score = nn_forward (train 0) bit for bit, backward refused after it: %s\n",
         nn_cell_name(cell), layers, nn_head_name(head), threads, bad ? "FAIL" : "ok");
  nn_work_free(w);
  nn_free(m);
  return bad;
}

static int check(nn_cell cell, int layers, nn_head_kind head, double dropout, int threads) {
  return check_act(cell, layers, head, dropout, threads, 0.0f, 30);
}

int main(void) {
  int bad = 0;
  /* ACT-LSTM: halting early (mean ponder steps well below N_max), and with a negative halting bias so that the
   * ponder steps hit N_max = 3 */
  for (int head = 0; head < 3; head++) {
    bad += check_act(NN_ACT_LSTM, 1, (nn_head_kind)head, 0.0, 1, 0.0f, 30);
    bad += check_act(NN_ACT_LSTM, 1, (nn_head_kind)head, 0.0, 1, -2.0f, 3);
  }
  bad += check_act(NN_ACT_LSTM, 1, NN_HEAD_UNIVARIATE, 0.3, 2, 0.0f, 30);
  for (int cell = 0; cell < 2; cell++)
    for (int layers = 1; layers <= 2; layers++)
      for (int head = 0; head < 3; head++) bad += check((nn_cell)cell, layers, (nn_head_kind)head, 0.0, 1);
  bad += check(NN_GRU, 2, NN_HEAD_MULTIVARIATE, 0.3, 2);
  bad += check(NN_LSTM, 2, NN_HEAD_UNIVARIATE, 0.3, 2);
  bad += check(NN_GRU, 1, NN_HEAD_CLASS3, 0.3, 2);
  bad += check(NN_LSTM, 2, NN_HEAD_CLASS3, 0.3, 2);
  for (int cell = 0; cell < 3; cell++)
    for (int layers = 1; layers <= (cell == NN_ACT_LSTM ? 1 : 2); layers++)
      for (int head = 0; head < 3; head++)
        for (int th = 1; th <= 2; th++) bad += check_score((nn_cell)cell, layers, (nn_head_kind)head, th);
  if (bad) fprintf(stderr, "%d gradient checks failed\n", bad);
  return bad ? 1 : 0;
}
