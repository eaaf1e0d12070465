/* nn_net.c — the network driver: workspace (activation cache sized per batch shape and reused), the
 * two-thread row split (each thread calls single-threaded OpenBLAS; one level of parallelism), dropout
 * masks, and nn_forward / nn_backward chaining input -> RNN layers -> dropout -> head. */
#include "model.h"
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { B_X, B_GI, B_GATES0, B_GATES1, B_CS0, B_CS1, B_TC0, B_TC1, B_HS0, B_HS1, B_XIN1, B_MASK1, B_HL, B_MASKL,
       B_U, B_DHS0, B_DHS1, B_DC, B_DHL, B_WPART, B_BPART, B_ACT, B_N };

struct nn_work {
  int threads;
  float *buf[B_N];
  size_t cap[B_N];
  /* the last forward pass */
  int have, N, T, dropped1, droppedl; /* have: the forward state nn_backward needs is cached */
  int stats;                          /* a forward pass completed (nn_work_act_stats) */
  nn_config cfg;
  const float *xin[2]; /* input of each layer, time-major */
  double phase[NN_PHASES]; /* seconds per phase, accumulated */
  double *bsum;            /* [threads][2][GH] bias-gradient partial sums (recurrence backward, per thread) */
  size_t bsum_cap;
  double act_steps, act_cost; /* NN_ACT_LSTM: mean ponder steps and ponder cost of the last forward pass */
};

void nn_work_act_stats(const nn_work *w, double *mean_steps, double *ponder_cost) {
  *mean_steps = w->stats && w->cfg.cell == NN_ACT_LSTM ? w->act_steps : 0;
  *ponder_cost = w->stats && w->cfg.cell == NN_ACT_LSTM ? w->act_cost : 0;
}

static double clock_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* adds the time since *t0 to phase k and restarts the clock */
static void lap(nn_work *w, int k, double *t0) {
  double t = clock_s();
  w->phase[k] += t - *t0;
  *t0 = t;
}

void nn_work_phase_seconds(const nn_work *w, double out[NN_PHASES]) {
  for (int k = 0; k < NN_PHASES; k++) out[k] = w->phase[k];
}

const char *nn_phase_name(int phase) {
  static const char *const names[NN_PHASES] = {"input transpose", "layer-input dropout", "recurrence forward",
                                               "dropout",         "head forward",     "head backward",
                                               "recurrence backward", "weight gradients"};
  return phase >= 0 && phase < NN_PHASES ? names[phase] : "?";
}

int nn_work_create(nn_work **out, int threads, zz_err *err) {
  *out = NULL;
  if (threads < 1 || threads > 2) return zz_fail(err, ZZ_EUSAGE, "network threads must be 1 or 2, found %d", threads);
  nn_work *w = calloc(1, sizeof *w);
  if (!w) return zz_fail(err, ZZ_ENOMEM, "out of memory allocating a network workspace");
  w->threads = threads;
  *out = w;
  return ZZ_OK;
}

void nn_work_free(nn_work *w) {
  if (!w) return;
  for (int k = 0; k < B_N; k++) free(w->buf[k]);
  free(w->bsum);
  free(w);
}

static int grow(nn_work *w, int b, size_t n, zz_err *err) {
  if (n == 0) n = 1;
  if (w->cap[b] >= n) return ZZ_OK;
  free(w->buf[b]);
  w->buf[b] = malloc(n * sizeof(float));
  w->cap[b] = w->buf[b] ? n : 0;
  if (!w->buf[b]) return zz_fail(err, ZZ_ENOMEM, "out of memory: network workspace needs %zu more floats", n);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- threads */

typedef void (*par_fn)(void *ctx, int k, int nt);
typedef struct par_job {
  par_fn fn;
  void *ctx;
  int k, nt;
} par_job;

static void *par_main(void *a) {
  par_job *j = a;
  j->fn(j->ctx, j->k, j->nt);
  return NULL;
}

/* Runs fn(ctx, k, nt) for k = 0..nt-1, k = 1 on a second thread. */
static void par_run(int nt, par_fn fn, void *ctx) {
  if (nt <= 1) {
    fn(ctx, 0, 1);
    return;
  }
  pthread_t th;
  par_job j = {fn, ctx, 1, 2};
  int started = pthread_create(&th, NULL, par_main, &j) == 0;
  fn(ctx, 0, 2);
  if (started)
    pthread_join(th, NULL);
  else
    fn(ctx, 1, 2);
}

static void split(int n, int k, int nt, int *a, int *b) {
  *a = (int)((int64_t)n * k / nt);
  *b = (int)((int64_t)n * (k + 1) / nt);
}

/* ------------------------------------------------------------- RNN phases */

void rnn_step_weights(const rnn_wgrad *g, int t, int r0, int n, const float *dG /*[n,4H]*/) {
  if (n <= 0) return;
  const int F = g->F, H = g->H, H4 = 4 * H, GH = (g->gru ? 3 : 4) * H;
  const size_t row = (size_t)t * g->N + r0;
  const float *x = g->x + row * F;
  /* dw_ih += dg_in^T x_t; GRU: dg_in = columns (0, 1, 3) of [da_r, da_z, da_n r, da_n] */
  if (g->gru) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 2 * H, F, n, 1.0f, dG, H4, x, F, 1.0f, g->dw_ih, F);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, F, n, 1.0f, dG + 3 * H, H4, x, F, 1.0f,
                g->dw_ih + (size_t)2 * H * F, F);
  } else {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H4, F, n, 1.0f, dG, H4, x, F, 1.0f, g->dw_ih, F);
  }
  /* dw_hh += dg_rec^T h_{t-1} (h_{-1} = 0); dg_rec = the first GH columns */
  if (t > 0)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, n, 1.0f, dG, H4, g->hs + (row - (size_t)g->N) * H, H,
                1.0f, g->dw_hh, H);
  if (!g->dx) return;
  /* dx_t = dg_in w_ih, then the dropout mask of the layer's input */
  float *dx = g->dx + row * F;
  if (g->gru) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, F, 2 * H, 1.0f, dG, H4, g->w_ih, F, 0.0f, dx, F);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, F, H, 1.0f, dG + 3 * H, H4, g->w_ih + (size_t)2 * H * F,
                F, 1.0f, dx, F);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, F, H4, 1.0f, dG, H4, g->w_ih, F, 0.0f, dx, F);
  }
  if (g->mask) {
    const float *mk = g->mask + row * F;
    for (size_t q = 0; q < (size_t)n * F; q++) dx[q] *= mk[q];
  }
}

typedef struct layer_ctx {
  const nn_model *m;
  nn_work *w;
  int l, N, T, Fin, H, GH;
  int keep; /* 1: cache every step for the backward (nn_forward); 0: scoring only (nn_score) */
  const float *in;
  const float *w_ih, *w_hh, *b_ih, *b_hh;
  float *dw_ih, *dw_hh, *db_ih, *db_hh;
  float *dhs, *dx;
  /* dropout on this layer's input (layers >= 1, training): xin = hs_below * mask, masks from (p, seed) */
  const float *below;
  float *mask, *xin;
  double p;
  uint64_t seed;
} layer_ctx;

static void dropout_mask(float *mask, size_t k0, size_t k1, double p, uint64_t seed, uint64_t stream);

/* dropout on a layer's input (layers >= 1, training): this thread's rows of the T*N */
static void job_input_dropout(void *c_, int k, int nt) {
  layer_ctx *c = c_;
  int q0, q1;
  split(c->T * c->N, k, nt, &q0, &q1);
  size_t k0 = (size_t)q0 * c->Fin, k1 = (size_t)q1 * c->Fin;
  dropout_mask(c->mask, k0, k1, c->p, c->seed, 1);
  for (size_t q = k0; q < k1; q++) c->xin[q] = c->below[q] * c->mask[q];
}

static void job_forward(void *c_, int k, int nt) {
  layer_ctx *c = c_;
  int r0, r1;
  split(c->N, k, nt, &r0, &r1);
  nn_work *w = c->w;
  if (c->m->cfg.cell == NN_GRU)
    gru_layer_forward(c->in, c->Fin, c->w_ih, c->T, c->N, c->H, r0, r1, c->w_hh, c->b_ih, c->b_hh, c->keep,
                      w->buf[B_GATES0 + c->l], w->buf[B_HS0 + c->l]);
  else
    lstm_layer_forward(c->in, c->Fin, c->w_ih, c->T, c->N, c->H, r0, r1, c->w_hh, c->b_ih, c->b_hh, c->keep,
                       w->buf[B_GATES0 + c->l], w->buf[B_CS0 + c->l], w->buf[B_TC0 + c->l], w->buf[B_HS0 + c->l]);
}

/* The layer backward over thread k's rows, its weight gradients summed step by step into its own slot (thread 0
 * straight into the gradient, thread 1 into scratch); reduce_weights then adds them in a fixed order, so the result
 * does not depend on scheduling. */
static void job_backward(void *c_, int k, int nt) {
  layer_ctx *c = c_;
  int r0, r1;
  split(c->N, k, nt, &r0, &r1);
  nn_work *w = c->w;
  rnn_wgrad g = {c->m->cfg.cell == NN_GRU, c->Fin, c->H, c->N, c->in, w->buf[B_HS0 + c->l], c->w_ih,
                 c->dw_ih, c->dw_hh, c->dx, c->mask};
  if (k > 0) {
    g.dw_ih = w->buf[B_WPART];
    g.dw_hh = g.dw_ih + (size_t)c->GH * c->Fin;
  }
  memset(g.dw_ih, 0, (size_t)c->GH * c->Fin * sizeof(float));
  memset(g.dw_hh, 0, (size_t)c->GH * c->H * sizeof(float));
  if (c->m->cfg.cell == NN_GRU)
    gru_layer_backward(c->T, c->N, c->H, r0, r1, c->w_hh, w->buf[B_GATES0 + c->l], w->buf[B_HS0 + c->l], c->dhs,
                       w->buf[B_BPART] + (size_t)k * 2 * c->GH, w->bsum + (size_t)k * 2 * c->GH, &g);
  else
    lstm_layer_backward(c->T, c->N, c->H, r0, r1, c->w_hh, w->buf[B_GATES0 + c->l], w->buf[B_CS0 + c->l],
                        w->buf[B_TC0 + c->l], c->dhs, w->buf[B_DC], w->buf[B_BPART] + (size_t)k * 2 * c->GH,
                        w->bsum + (size_t)k * 2 * c->GH, &g);
}

static void reduce_weights(layer_ctx *c, int nt) {
  nn_work *w = c->w;
  int GH = c->GH;
  if (nt > 1) {
    const float *pi = w->buf[B_WPART], *ph = pi + (size_t)GH * c->Fin;
    for (size_t q = 0; q < (size_t)GH * c->Fin; q++) c->dw_ih[q] += pi[q];
    for (size_t q = 0; q < (size_t)GH * c->H; q++) c->dw_hh[q] += ph[q];
  }
  for (int j = 0; j < GH; j++) {
    double a = 0, b = 0;
    for (int k = 0; k < nt; k++) {
      a += w->bsum[(size_t)k * 2 * GH + j];
      b += w->bsum[(size_t)k * 2 * GH + GH + j];
    }
    c->db_ih[j] = (float)a;
    c->db_hh[j] = (float)b;
  }
}

static void layer_setup(layer_ctx *c, const nn_model *m, nn_work *w, int l, int N, int T) {
  memset(c, 0, sizeof *c);
  c->m = m;
  c->w = w;
  c->l = l;
  c->N = N;
  c->T = T;
  c->H = m->cfg.hidden;
  c->GH = (m->cfg.cell == NN_GRU ? 3 : 4) * c->H;
  c->Fin = l == 0 ? m->cfg.input_size : c->H;
  c->in = w->xin[l];
  const nn_param_view *v = &m->views[4 * l];
  c->w_ih = m->params + v[0].offset;
  c->w_hh = m->params + v[1].offset;
  c->b_ih = m->params + v[2].offset;
  c->b_hh = m->params + v[3].offset;
  c->dw_ih = m->grads + v[0].offset;
  c->dw_hh = m->grads + v[1].offset;
  c->db_ih = m->grads + v[2].offset;
  c->db_hh = m->grads + v[3].offset;
}

/* Inverted dropout: scale = 0 with probability p, else 1 / (1 - p); stream separates the two uses. */
/* Elements [k0, k1) of the mask: element k is dropped when 32 bits of hash(seed, stream, k / 2) (the low half
 * for even k, the high half for odd k) fall below p * 2^32, so any split gives the same mask. */
static void dropout_mask(float *mask, size_t k0, size_t k1, double p, uint64_t seed, uint64_t stream) {
  float keep = (float)(1.0 / (1.0 - p));
  uint64_t s = nn_hash2(seed, stream);
  double th = p * 4294967296.0;
  uint64_t thr = th >= 4294967296.0 ? 4294967296ull : (uint64_t)th; /* drop when bits < thr */
  size_t k = k0;
  if (k < k1 && (k & 1)) {
    mask[k] = (nn_hash2(s, k >> 1) >> 32) < thr ? 0.0f : keep;
    k++;
  }
  for (; k + 1 < k1; k += 2) {
    uint64_t h = nn_hash2(s, k >> 1);
    mask[k] = (h & 0xFFFFFFFFull) < thr ? 0.0f : keep;
    mask[k + 1] = (h >> 32) < thr ? 0.0f : keep;
  }
  if (k < k1) mask[k] = (nn_hash2(s, k >> 1) & 0xFFFFFFFFull) < thr ? 0.0f : keep;
}

/* ------------------------------------------------------------ ACT-LSTM */

/* The ACT layer's phases: the input projection (any row split of the T*N), the ponder recurrence forward and
 * backward (rows [r0, r1) of the N, per-thread scratch and gradient partials added in thread order). */
typedef struct act_ctx {
  act_weights a;
  nn_work *w;
  int N, T;
  double tau_row;
  double stats[2][2]; /* per thread: sum N(t), sum (N(t) + R(t)) */
} act_ctx;

static void act_setup(act_ctx *c, const nn_model *m, nn_work *w, int N, int T) {
  memset(c, 0, sizeof *c);
  c->w = w;
  c->N = N;
  c->T = T;
  c->a.F = m->cfg.input_size;
  c->a.H = m->cfg.hidden;
  c->a.nmax = m->cfg.act_max_steps;
  c->a.eps = m->cfg.act_epsilon;
  c->a.w_ih = m->params + m->views[0].offset;
  c->a.w_hh = m->params + m->views[1].offset;
  c->a.b_ih = m->params + m->views[2].offset;
  c->a.b_hh = m->params + m->views[3].offset;
  c->a.w_act = m->params + m->views[4].offset;
  c->a.b_act = m->params[m->views[5].offset];
}

static void job_act_projection(void *c_, int k, int nt) {
  act_ctx *c = c_;
  int q0, q1, F = c->a.F, H4 = 4 * c->a.H;
  split(c->T * c->N, k, nt, &q0, &q1);
  if (q1 > q0) /* x w_ih[:, :F]^T: the flag column is added by the first ponder step */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, q1 - q0, H4, F, 1.0f, c->w->buf[B_X] + (size_t)q0 * F, F,
                c->a.w_ih, F + 1, 0.0f, c->w->buf[B_GI] + (size_t)q0 * H4, H4);
}

static void job_act_forward(void *c_, int k, int nt) {
  act_ctx *c = c_;
  int r0, r1;
  split(c->N, k, nt, &r0, &r1);
  nn_work *w = c->w;
  float *scratch = w->buf[B_ACT] + (size_t)k * act_scratch_floats(c->a.H, c->a.nmax, c->T);
  act_layer_forward(&c->a, w->buf[B_GI], c->T, c->N, r0, r1, w->buf[B_HS0], w->buf[B_CS0], scratch, c->stats[k]);
}

/* thread k's gradient partials: floats dw_hh [4H, H] and dw_flag [4H] in B_WPART, doubles dact [H + 1] and
 * db [4H] in bsum */
static void job_act_backward(void *c_, int k, int nt) {
  act_ctx *c = c_;
  int r0, r1, H = c->a.H;
  split(c->N, k, nt, &r0, &r1);
  nn_work *w = c->w;
  float *scratch = w->buf[B_ACT] + (size_t)k * act_scratch_floats(H, c->a.nmax, c->T);
  float *dwh = w->buf[B_WPART] + (size_t)k * (4 * (size_t)H * H + 4 * (size_t)H), *dwf = dwh + 4 * (size_t)H * H;
  double *dact = w->bsum + (size_t)k * (5 * (size_t)H + 1), *db = dact + H + 1;
  memset(dwh, 0, (4 * (size_t)H * H + 4 * (size_t)H) * sizeof(float));
  for (int q = 0; q < 5 * H + 1; q++) dact[q] = 0;
  act_layer_backward(&c->a, w->buf[B_GI], c->T, c->N, r0, r1, w->buf[B_HS0], w->buf[B_CS0],
                     w->buf[B_DHS0] + (size_t)(c->T - 1) * c->N * H, c->tau_row, scratch, dwh, dwf, dact, db);
}

/* the ACT layer's backward: recurrence, then the partials added in thread order and w_ih[:, :F] = dgi^T x */
static void act_backward(nn_model *m, nn_work *w, int N, int T) {
  act_ctx c;
  act_setup(&c, m, w, N, T);
  c.tau_row = m->cfg.act_tau / N;
  int H = c.a.H, F = c.a.F, H4 = 4 * H, nt = w->threads;
  par_run(nt, job_act_backward, &c);
  float *gw_ih = m->grads + m->views[0].offset, *gw_hh = m->grads + m->views[1].offset;
  float *gb_ih = m->grads + m->views[2].offset, *gb_hh = m->grads + m->views[3].offset;
  float *gw_act = m->grads + m->views[4].offset, *gb_act = m->grads + m->views[5].offset;
  size_t part = 4 * (size_t)H * H + 4 * (size_t)H;
  for (size_t q = 0; q < (size_t)H4 * H; q++) {
    float v = 0;
    for (int k = 0; k < nt; k++) v += w->buf[B_WPART][k * part + q];
    gw_hh[q] = v;
  }
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H4, F, T * N, 1.0f, w->buf[B_GI], H4, w->buf[B_X], F, 0.0f,
              gw_ih, F + 1);
  for (int r = 0; r < H4; r++) {
    float v = 0;
    for (int k = 0; k < nt; k++) v += w->buf[B_WPART][k * part + (size_t)H4 * H + r];
    gw_ih[(size_t)r * (F + 1) + F] = v;
  }
  size_t dpart = 5 * (size_t)H + 1;
  for (int j = 0; j <= H; j++) {
    double v = 0;
    for (int k = 0; k < nt; k++) v += w->bsum[k * dpart + j];
    if (j < H)
      gw_act[j] = (float)v;
    else
      gb_act[0] = (float)v;
  }
  for (int r = 0; r < H4; r++) {
    double v = 0;
    for (int k = 0; k < nt; k++) v += w->bsum[k * dpart + H + 1 + r];
    gb_ih[r] = gb_hh[r] = (float)v;
  }
}

/* ---------------------------------------------------------------- forward */

/* keep = 1: cache every step for nn_backward (nn_forward); keep = 0: forward only, dropout off (nn_score) */
static int forward(nn_model *m, nn_work *w, const float *x, int N, int T, int train, uint64_t dropout_seed,
                   float *h_out, float *score_out, int keep, zz_err *err) {
  const nn_config *cf = &m->cfg;
  int F = cf->input_size, H = cf->hidden, K = cf->outputs, L = cf->layers;
  int GH = (cf->cell == NN_GRU ? 3 : 4) * H;
  int act = cf->cell == NN_ACT_LSTM;
  w->have = w->stats = 0;
  if (N < 1 || T < 1) return zz_fail(err, ZZ_EUSAGE, "network input must have N >= 1 rows and T >= 1 steps, found N = %d, T = %d", N, T);
  size_t NT = (size_t)N * T;
  if (NT > (size_t)INT32_MAX / (size_t)(GH > F ? GH : F))
    return zz_fail(err, ZZ_EUSAGE, "network batch too large: N = %d, T = %d", N, T);
  int rc = ZZ_OK;
  if ((rc = grow(w, B_X, NT * F, err)) || (rc = grow(w, B_HL, (size_t)N * H, err)) ||
      (rc = grow(w, B_U, (size_t)N * K, err)))
    return rc;
  if (act && ((rc = grow(w, B_GI, NT * GH, err)) || (rc = grow(w, B_HS0, NT * H, err)) ||
              (rc = grow(w, B_CS0, NT * H, err)) ||
              (rc = grow(w, B_ACT, (size_t)w->threads * act_scratch_floats(H, cf->act_max_steps, T), err))))
    return rc;
  const size_t NS = keep ? NT : (size_t)N; /* the gate rows of every step, or of one */
  for (int l = 0; l < L && !act; l++) {
    if ((rc = grow(w, B_GATES0 + l, NS * 4 * H, err)) || (rc = grow(w, B_HS0 + l, NT * H, err))) return rc;
    if (cf->cell == NN_LSTM && ((rc = grow(w, B_CS0 + l, (keep ? NT : 2 * (size_t)N) * H, err)) ||
                                (rc = grow(w, B_TC0 + l, NS * H, err))))
      return rc;
  }
  int drop = train && cf->dropout > 0;
  double t0 = clock_s();
  /* transpose x [N, T, F] -> [T, N, F], refusing non-finite values */
  float *xt = w->buf[B_X];
  for (int i = 0; i < N; i++)
    for (int t = 0; t < T; t++) {
      const float *src = x + ((size_t)i * T + t) * F;
      float *dst = xt + ((size_t)t * N + i) * F;
      for (int f = 0; f < F; f++) {
        if (!isfinite(src[f]))
          return zz_fail(err, ZZ_EDATA,
                         "network input x[%d, %d, %d] is not finite: remove (compact) rows with missing inputs "
                         "before the forward pass", i, t, f);
        dst[f] = src[f];
      }
    }
  w->xin[0] = xt;
  lap(w, NN_PHASE_INPUT, &t0);
  if (drop && L > 1 && ((rc = grow(w, B_XIN1, NT * H, err)) || (rc = grow(w, B_MASK1, NT * H, err)))) return rc;
  if (act) { /* one ACT layer (nn_config_check); its dropout is the one on the last hidden state below */
    act_ctx c;
    act_setup(&c, m, w, N, T);
    par_run(w->threads, job_act_projection, &c);
    lap(w, NN_PHASE_PROJECTION, &t0);
    par_run(w->threads, job_act_forward, &c);
    lap(w, NN_PHASE_RECURRENCE, &t0);
    double steps = c.stats[0][0] + c.stats[1][0], cost = c.stats[0][1] + c.stats[1][1];
    w->act_steps = steps / (double)NT;
    w->act_cost = cf->act_tau * cost / N;
  }
  for (int l = 0; l < L && !act; l++) {
    /* layers >= 1 read the layer below's outputs, through dropout when training (applied by the
     * projection threads on their own rows) */
    if (l > 0) w->xin[l] = drop ? w->buf[B_XIN1] : w->buf[B_HS0 + l - 1];
    layer_ctx c;
    layer_setup(&c, m, w, l, N, T);
    c.keep = keep;
    if (l > 0 && drop) {
      c.below = w->buf[B_HS0 + l - 1];
      c.mask = w->buf[B_MASK1];
      c.xin = w->buf[B_XIN1];
      c.p = cf->dropout;
      c.seed = dropout_seed;
      par_run(w->threads, job_input_dropout, &c);
      lap(w, NN_PHASE_PROJECTION, &t0);
    }
    par_run(w->threads, job_forward, &c);
    lap(w, NN_PHASE_RECURRENCE, &t0);
  }
  w->dropped1 = drop && L > 1;
  /* last hidden state, dropout before the head */
  const float *hlast = w->buf[B_HS0 + L - 1] + (size_t)(T - 1) * N * H;
  float *hl = w->buf[B_HL];
  if (drop) {
    if ((rc = grow(w, B_MASKL, (size_t)N * H, err))) return rc;
    dropout_mask(w->buf[B_MASKL], 0, (size_t)N * H, cf->dropout, dropout_seed, 2);
    for (size_t q = 0; q < (size_t)N * H; q++) hl[q] = hlast[q] * w->buf[B_MASKL][q];
  } else {
    memcpy(hl, hlast, (size_t)N * H * sizeof(float));
  }
  w->droppedl = drop;
  lap(w, NN_PHASE_DROPOUT, &t0);
  const nn_param_view *hw = &m->views[m->n_views - 2], *hb = &m->views[m->n_views - 1];
  if (cf->head == NN_HEAD_CLASS3)
    head_class3_forward(hl, N, H, m->params + hw->offset, m->params + hb->offset, w->buf[B_U], score_out);
  else
    head_forward(hl, N, H, K, m->params + hw->offset, m->params + hb->offset, w->buf[B_U], score_out);
  for (size_t q = 0; q < (size_t)N * K; q++)
    if (!isfinite(w->buf[B_U][q]))
      return zz_fail(err, ZZ_ENUMERIC, "network output is not finite (row %zu): the parameters have diverged",
                     q / (size_t)K);
  if (h_out) memcpy(h_out, w->buf[B_U], (size_t)N * K * sizeof(float));
  lap(w, NN_PHASE_HEAD, &t0);
  w->have = keep;
  w->stats = 1;
  w->N = N;
  w->T = T;
  w->cfg = *cf;
  return ZZ_OK;
}

int nn_forward(nn_model *m, nn_work *w, const float *x, int N, int T, int train, uint64_t dropout_seed,
               float *h_out, float *score_out, zz_err *err) {
  return forward(m, w, x, N, T, train, dropout_seed, h_out, score_out, 1, err);
}

int nn_score(nn_model *m, nn_work *w, const float *x, int N, int T, float *h_out, float *score_out, zz_err *err) {
  return forward(m, w, x, N, T, 0, 0, h_out, score_out, 0, err);
}

/* --------------------------------------------------------------- backward */

int nn_backward(nn_model *m, nn_work *w, const float *y, double *loss_out, zz_err *err) {
  const nn_config *cf = &m->cfg;
  if (!w->have || memcmp(&w->cfg, cf, sizeof *cf) != 0)
    return zz_fail(err, ZZ_EINTERNAL, "nn_backward needs a successful nn_forward of the same model first");
  int N = w->N, T = w->T, H = cf->hidden, K = cf->outputs, L = cf->layers;
  size_t NT = (size_t)N * T;
  int class3 = cf->head == NN_HEAD_CLASS3;
  if (N < 2 && !class3) return zz_fail(err, ZZ_EUSAGE, "the loss needs at least 2 rows for batch-norm, found %d", N);
  for (int i = 0; i < N; i++) {
    if (!isfinite(y[i]))
      return zz_fail(err, ZZ_EDATA, "label y[%d] is not finite: remove (compact) rows with missing labels", i);
    if (class3 && y[i] != 0.0f && y[i] != 1.0f && y[i] != 2.0f)
      return zz_fail(err, ZZ_EDATA, "label y[%d] = %g: the class3 head needs class ids 0 (down), 1 (neutral), 2 (up)",
                     i, (double)y[i]);
  }
  int rc;
  if ((rc = grow(w, B_DHL, (size_t)N * H, err)) || (rc = grow(w, B_DHS0, NT * H, err)) ||
      (rc = grow(w, B_DC, (size_t)N * H, err)) || (L > 1 && (rc = grow(w, B_DHS1, NT * H, err))))
    return rc;
  {
    size_t GH = (size_t)(cf->cell == NN_GRU ? 3 : 4) * H, Fmax = (size_t)(cf->input_size > H ? cf->input_size : H);
    size_t wpart = cf->cell == NN_ACT_LSTM ? (size_t)w->threads * (GH * H + GH) : GH * (Fmax + H);
    if ((rc = grow(w, B_WPART, wpart, err)) || (rc = grow(w, B_BPART, (size_t)w->threads * 2 * GH, err)))
      return rc;
    size_t nb = (size_t)w->threads * 2 * GH;
    if (w->bsum_cap < nb) {
      free(w->bsum);
      w->bsum = malloc(nb * sizeof(double));
      w->bsum_cap = w->bsum ? nb : 0;
      if (!w->bsum) return zz_fail(err, ZZ_ENOMEM, "out of memory: network workspace needs %zu more doubles", nb);
    }
  }
  double t0 = clock_s();
  const nn_param_view *hw = &m->views[m->n_views - 2], *hb = &m->views[m->n_views - 1];
  double loss = class3 ? head_class3_backward(w->buf[B_HL], N, H, m->params + hw->offset, w->buf[B_U], y,
                                              cf->class_weight, m->grads + hw->offset, m->grads + hb->offset,
                                              w->buf[B_DHL])
                       : head_backward(w->buf[B_HL], N, H, K, m->params + hw->offset, w->buf[B_U], y, cf->lambda,
                                       m->grads + hw->offset, m->grads + hb->offset, w->buf[B_DHL]);
  if (!isfinite(loss)) return zz_fail(err, ZZ_ENUMERIC, "the loss is not finite (or out of memory in the head)");
  /* gradient into the top layer's outputs: only the last step */
  float *dtop = w->buf[B_DHS0 + L - 1];
  memset(dtop, 0, (size_t)(T - 1) * N * H * sizeof(float));
  float *dlast = dtop + (size_t)(T - 1) * N * H;
  for (size_t q = 0; q < (size_t)N * H; q++)
    dlast[q] = w->droppedl ? w->buf[B_DHL][q] * w->buf[B_MASKL][q] : w->buf[B_DHL][q];
  lap(w, NN_PHASE_HEAD_BACKWARD, &t0);
  if (cf->cell == NN_ACT_LSTM) {
    act_backward(m, w, N, T);
    loss += w->act_cost;
    lap(w, NN_PHASE_RECURRENCE_BACKWARD, &t0);
  }
  for (int l = L - 1; l >= 0 && cf->cell != NN_ACT_LSTM; l--) {
    layer_ctx c;
    layer_setup(&c, m, w, l, N, T);
    c.dhs = w->buf[B_DHS0 + l];
    c.dx = l > 0 ? w->buf[B_DHS0 + l - 1] : NULL;
    if (l > 0 && w->dropped1) c.mask = w->buf[B_MASK1];
    par_run(w->threads, job_backward, &c);
    lap(w, NN_PHASE_RECURRENCE_BACKWARD, &t0);
    reduce_weights(&c, w->threads);
    lap(w, NN_PHASE_WEIGHT_GRADS, &t0);
  }
  w->have = 0; /* the backward has overwritten the cached gates: another nn_backward needs another nn_forward */
  if (loss_out) *loss_out = loss;
  return ZZ_OK;
}
