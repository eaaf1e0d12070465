/* pipe_run.c — the orchestration of `zhizeng run`: market (given or synthetic) -> panel ->
 * rolling training per head -> daily out-of-sample scores -> risk model and weekly optimisation
 * per (index, head, floor) -> simulation -> report, each stage cached by its hash, with the wall
 * time of every stage printed at the end and written to report/timings.csv. */
#include "pipe_internal.h"

#include "model.h"
#include "reports.h"
#include "sim.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double pipe_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage a, b;
  getrusage(RUSAGE_SELF, &a);
  getrusage(RUSAGE_CHILDREN, &b);
  return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec) +
         1e-6 * (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec + b.ru_stime.tv_usec);
}

void pipe_timer_add(pipe_ctx *x, const char *name, double seconds, int cached) {
  const double cpu = cpu_seconds();
  for (int k = 0; k < x->n_timers; k++) /* a stage's tasks add up */
    if (!strcmp(x->timer_name[k], name)) {
      x->timer_s[k] += seconds;
      x->timer_cpu[k] += cpu - x->cpu_mark;
      x->cpu_mark = cpu;
      x->timer_cached[k] = x->timer_cached[k] && cached;
      return;
    }
  if (x->n_timers == PIPE_MAX_TIMERS) return;
  snprintf(x->timer_name[x->n_timers], sizeof x->timer_name[0], "%s", name);
  x->timer_s[x->n_timers] = seconds;
  x->timer_cpu[x->n_timers] = cpu - x->cpu_mark;
  x->cpu_mark = cpu;
  x->timer_cached[x->n_timers++] = cached;
}
#define timer_add pipe_timer_add

/* ---------------------------------------------------------------- market */

static int stage_market(pipe_ctx *x, zz_err *err) {
  const pipe_config *c = x->c;
  double t0 = pipe_now();
  int cached = 1, rc = ZZ_OK;
  uint64_t mh;
  if (c->market_dir[0]) {
    snprintf(x->market_dir, sizeof x->market_dir, "%s", c->market_dir);
    if ((rc = pipe_market_stamp(c->market_dir, &mh, err))) return rc;
  } else {
    mh = pipe_market_config_hash(c);
    pipe_stage_dir(c->out_dir, "market", mh, x->market_dir, sizeof x->market_dir);
    if (x->o->force || !pipe_stage_done(x->market_dir)) {
      cached = 0;
      synth_opts so;
      synth_default_opts(&so);
      so.n_stocks = c->synth_stocks;
      so.start = c->synth_start;
      so.end = c->synth_end;
      so.seed = (uint64_t)c->synth_seed;
      so.alpha_strength = c->synth_alpha_strength;
      so.oracle_anchor = c->first_year * 10000 + 101; /* the oracle on the factor tests' RankIC dates */
      fprintf(stderr, "[market] writing a synthetic market (%d stocks, %d..%d, seed %d) to %s\n", so.n_stocks,
              (int)so.start, (int)so.end, c->synth_seed, x->market_dir);
      synth_report sr;
      if ((rc = zz_mkdir_p(x->market_dir, err)) || (rc = synth_write(x->market_dir, &so, &sr, err)) ||
          (rc = pipe_stage_mark(x->market_dir, "market", err)))
        return zz_wrap(err, "market stage");
      fprintf(stderr, "[market] oracle RankIC of the planted alpha: mean %.4f, IC_IR %.3f\n", sr.oracle_rankic_mean,
              sr.oracle_rankic_ir);
    } else
      fprintf(stderr, "[market] cached: %s\n", x->market_dir);
  }
  timer_add(x, "market", pipe_now() - t0, cached);
  t0 = pipe_now();
  panel_load_opts lo = {NULL, c->market_cache, x->o->verbose};
  fprintf(stderr, "[ingest] loading %s\n", x->market_dir);
  if ((rc = panel_load(x->market_dir, &lo, &x->p, err))) return zz_wrap(err, "ingest");
  fprintf(stderr, "[ingest] %d trading days x %d stocks%s\n", x->p->n_dates, x->p->n_stocks,
          x->p->from_cache ? " (binary cache)" : "");
  timer_add(x, "ingest", pipe_now() - t0, x->p->from_cache);
  if ((rc = pipe_stage_hashes(c, mh, &x->hs, err))) return rc;
  return ZZ_OK;
}

panel_universe_opts pipe_universe(const pipe_config *c) {
  panel_universe_opts u;
  panel_universe_init(&u);
  u.exclude_st = c->exclude_st;
  u.min_listed_days = c->min_listed_days;
  return u;
}

/* The universe mask every stage uses (labels and scores apply it themselves from the same keys). */
static int universe_mask(pipe_ctx *x, zz_err *err) {
  const panel_universe_opts u = pipe_universe(x->c);
  x->eligible = malloc((size_t)x->p->n_dates * (size_t)x->p->n_stocks + 1);
  if (!x->eligible) return zz_fail(err, ZZ_ENOMEM, "out of memory for the universe mask");
  panel_st_source src;
  int rc = panel_universe_mask(x->p, &u, x->eligible, &src, err);
  if (rc) return rc;
  x->st_source = (int)src;
  fprintf(stderr, "[universe] %s; listed at least %d trading days\n", panel_st_source_name(src), u.min_listed_days);
  if (src == PANEL_ST_UNKNOWN)
    fprintf(stderr, "[universe] warning: the market has neither is_st nor up_limit: ST stocks are NOT excluded "
                    "(the report says so)\n");
  return ZZ_OK;
}

static int backtest_range(pipe_ctx *x, zz_err *err) {
  const panel *p = x->p;
  const int32_t end = x->c->end_date ? x->c->end_date : x->c->last_year * 10000 + 1231;
  x->t_first = -1, x->t_last = -1;
  for (int t = 0; t < p->n_dates; t++) {
    if (p->dates[t] / 10000 >= x->c->first_year && x->t_first < 0) x->t_first = t;
    if (p->dates[t] <= end) x->t_last = t;
  }
  if (x->t_first < 0 || x->t_last < x->t_first)
    return zz_fail(err, ZZ_EUSAGE, "backtest %d..%d: the market (%d..%d) has no trading days in it", x->c->first_year,
                   (int)end, (int)p->dates[0], (int)p->dates[p->n_dates - 1]);
  if (p->dates[x->t_last] / 10000 < x->c->last_year)
    fprintf(stderr, "[backtest] note: the market ends %d, before the end of %d\n", (int)p->dates[x->t_last],
            x->c->last_year);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- training and scores */

/* The label of head h with dataset d: "univariate" with one dataset, else "univariate-NAME". */
static void ds_label(const pipe_ctx *x, int head, int d, char *b, size_t n) {
  if (x->l.n_datasets == 1) snprintf(b, n, "%s", pipe_head_name(head));
  else snprintf(b, n, "%s-%s", pipe_head_name(head), x->l.datasets[d]);
}

int pipe_train_opts(const pipe_config *c, int head, const char *dataset, train_opts *o, zz_err *err) {
  int rc = ZZ_OK;
  train_default_opts(o);
  o->universe = pipe_universe(c);
  o->net.cell = !strcasecmp(c->cell, "act_lstm") ? NN_ACT_LSTM : !strcasecmp(c->cell, "lstm") ? NN_LSTM : NN_GRU;
  o->net.act_epsilon = c->act_epsilon;
  o->net.act_max_steps = c->act_max_steps;
  o->net.act_tau = c->act_tau;
  o->net.layers = c->layers;
  o->net.hidden = c->hidden;
  o->net.head = head == PIPE_HEAD_MULTI ? NN_HEAD_MULTIVARIATE : head == PIPE_HEAD_CLASS3 ? NN_HEAD_CLASS3 : NN_HEAD_UNIVARIATE;
  o->net.outputs = head == PIPE_HEAD_MULTI ? c->outputs : head == PIPE_HEAD_CLASS3 ? NN_CLASSES : 1;
  if (head == PIPE_HEAD_CLASS3 && (rc = pipe_class3_opts(c, &o->class3, o->net.class_weight, err))) return rc;
  o->net.lambda = c->lambda;
  o->net.dropout = c->dropout;
  o->dataset = dataset;
  o->seq = c->seq;
  o->epochs = c->epochs;
  o->patience = c->patience;
  o->lr = c->lr;
  o->clip = (float)c->clip;
  o->seeds = c->seeds;
  o->seed = (uint64_t)c->model_seed;
  o->threads = c->threads;
  o->train_years = c->train_years;
  o->day_stride = c->day_stride;
  return ZZ_OK;
}

/* NaN outside the backtest. */
static void keep_backtest(const pipe_ctx *x, double *v) {
  const size_t nn = (size_t)x->p->n_dates * (size_t)x->p->n_stocks;
  for (size_t k = 0; k < nn; k++) {
    const int t = (int)(k / (size_t)x->p->n_stocks);
    if (t < x->t_first || t > x->t_last) v[k] = NAN;
  }
}

/* The head's score from several datasets' scores ds[0..n_ds-1]: per date, each dataset's scores are
 * z-scored over the stocks it scores (zz_zscore: population std; all equal -> 0, as score_write does
 * for seeds), and a stock's score is the mean of the z-scores of the datasets that score it. */
static int combine_datasets(const panel *p, double *const *ds, int n_ds, double *out, zz_err *err) {
  const int N = p->n_stocks;
  double *z = malloc(sizeof *z * (size_t)N);
  int *cnt = malloc(sizeof *cnt * (size_t)N);
  if (!z || !cnt) {
    free(z), free(cnt);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  for (int t = 0; t < p->n_dates; t++) {
    double *sum = out + (size_t)t * (size_t)N;
    for (int i = 0; i < N; i++) sum[i] = 0, cnt[i] = 0;
    for (int d = 0; d < n_ds; d++) {
      zz_zscore(ds[d] + (size_t)t * (size_t)N, N, z);
      for (int i = 0; i < N; i++)
        if (isfinite(z[i])) sum[i] += z[i], cnt[i]++;
    }
    for (int i = 0; i < N; i++) sum[i] = cnt[i] ? sum[i] / cnt[i] : NAN;
  }
  free(z), free(cnt);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- the tasks
 * One task per (year, seed) training of each head and dataset, a gather per training stage (its DONE once
 * every model is there), the daily scores per head and dataset, the combination per head (several datasets),
 * one task per closed-loop backtest, the top-N runs and the report (docs/distributed.md). */

enum { TK_TRAIN, TK_GATHER, TK_SCORES, TK_COMBINE, TK_BACKTEST, TK_TOPN, TK_REPORT };
static const char *const tk_kind[] = {"train", "gather", "scores", "combine", "backtest", "topn", "report"};

static int kind_of(const pipe_task *t) {
  for (int k = 0; k <= TK_REPORT; k++)
    if (!strcmp(t->kind, tk_kind[k])) return k;
  return -1;
}

/* The per-model completion marker of a training task. */
static void train_marker(const pipe_task *t, char *b, size_t n) { snprintf(b, n, "%sdone", t->files); }

static int task_done(void *ctx, const pipe_task *t) {
  (void)ctx;
  switch (kind_of(t)) {
  case TK_TRAIN: {
    char m[96];
    train_marker(t, m, sizeof m);
    return pipe_stage_done(t->dir) || pipe_file_exists(t->dir, m);
  }
  case TK_TOPN:   /* fills the report's list of runs: always runs (each cached run is only read) */
  case TK_REPORT: /* always rewritten */
    return 0;
  default: return pipe_stage_done(t->dir);
  }
}

/* The values of score stage (head, dataset d) as written: handed over in memory, or read. */
static int raw_scores(pipe_ctx *x, int head, int d, double **out, zz_err *err) {
  if (x->raw[d][head]) {
    *out = x->raw[d][head], x->raw[d][head] = NULL;
    return ZZ_OK;
  }
  const pipe_task *t = NULL;
  for (int i = 0; i < x->tasks->n && !t; i++)
    if (!strcmp(x->tasks->t[i].kind, "scores") && x->tasks->t[i].a == head && x->tasks->t[i].b == d) t = &x->tasks->t[i];
  if (!t) return zz_fail(err, ZZ_EINTERNAL, "no score stage of %s, dataset %d", pipe_head_name(head), d);
  char path[PIPE_PATH + 32];
  snprintf(path, sizeof path, "%s/scores.csv", t->dir);
  score_table *sc = NULL;
  int rc = score_table_read(path, x->p, &sc, err);
  if (rc) return rc;
  *out = sc->values[0]; /* the score column only */
  sc->values[0] = NULL;
  score_table_free(sc);
  return ZZ_OK;
}

/* x->scores[head] (and, with several datasets, x->ds_scores[.][head]) for the backtests and the report: the
 * score stages' values, NaN outside the backtest. */
static int need_scores(pipe_ctx *x, int head, zz_err *err) {
  if (x->scores[head]) return ZZ_OK;
  const int n_ds = x->l.n_datasets;
  int rc = ZZ_OK;
  if (n_ds == 1) {
    if ((rc = raw_scores(x, head, 0, &x->scores[head], err))) return rc;
    keep_backtest(x, x->scores[head]);
    return ZZ_OK;
  }
  for (int d = 0; d < n_ds && !rc; d++)
    if (!x->ds_scores[d][head] && !(rc = raw_scores(x, head, d, &x->ds_scores[d][head], err)))
      keep_backtest(x, x->ds_scores[d][head]);
  if (rc) return rc;
  if (x->comb_raw[head]) x->scores[head] = x->comb_raw[head], x->comb_raw[head] = NULL;
  else {
    char dir[PIPE_PATH], path[PIPE_PATH + 32], sname[64];
    snprintf(sname, sizeof sname, "scores-%s", pipe_head_name(head));
    pipe_stage_dir(x->c->out_dir, sname, x->hs.scores[head], dir, sizeof dir);
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    score_table *sc = NULL;
    if ((rc = score_table_read(path, x->p, &sc, err))) return rc;
    x->scores[head] = sc->values[0];
    sc->values[0] = NULL;
    score_table_free(sc);
  }
  keep_backtest(x, x->scores[head]);
  return ZZ_OK;
}

/* One (year, seed) model of a head and dataset into its training stage; its marker Y<year>_seed<k>.done last.
 * An interrupted model continues from its checkpoint (the model's resume guarantee). */
static int task_train(pipe_ctx *x, const pipe_task *t, zz_err *err) {
  const int head = t->a, d = t->b, year = t->c, k = t->d;
  train_opts o;
  int rc = pipe_train_opts(x->c, head, x->l.datasets[d], &o, err);
  if (rc) return rc;
  o.resume = !x->o->force;
  o.progress = x->o->progress;
  o.first_seed = k, o.seeds = k + 1; /* model k alone: seed model_seed + k, as when all seeds train in a row */
  char m[96], path[PIPE_PATH + 16];
  if (x->o->force) { /* an interrupted forced run must not leave the old DONE standing */
    snprintf(path, sizeof path, "%s/DONE", t->dir);
    remove(path);
  }
  fprintf(stderr, "[%s]\n", t->name);
  int stopped = 0;
  if ((rc = zz_mkdir_p(t->dir, err)) || (rc = train_year(x->p, &o, year, t->dir, &stopped, err)))
    return zz_wrap(err, "%s", t->name);
  train_marker(t, m, sizeof m);
  return pipe_file_mark(t->dir, m, t->name, err);
}

static int task_scores(pipe_ctx *x, const pipe_task *t, zz_err *err) {
  const pipe_config *c = x->c;
  const int head = t->a, d = t->b;
  char path[PIPE_PATH + 32], train_dir[PIPE_PATH], lb[96];
  ds_label(x, head, d, lb, sizeof lb);
  pipe_stage_dir(c->out_dir, lb, x->hs.ds_train[d][head], train_dir, sizeof train_dir);
  snprintf(path, sizeof path, "%s/scores.csv", t->dir);
  const panel_universe_opts u = pipe_universe(c);
  fprintf(stderr, "[scores %s] daily out-of-sample scores %d..%d\n", lb, c->first_year, x->y_last);
  double *out = NULL;
  int rc;
  if ((rc = zz_mkdir_p(t->dir, err)) ||
      (rc = score_write_keep(x->p, train_dir, c->first_year, x->y_last, &u, path, &out, err)) ||
      (rc = pipe_stage_mark(t->dir, t->name, err))) {
    free(out);
    return zz_wrap(err, "scores %s", lb);
  }
  free(x->raw[d][head]);
  x->raw[d][head] = out; /* the file holds the same values (zz_fmt_double round-trips) */
  return ZZ_OK;
}

static int task_combine(pipe_ctx *x, const pipe_task *t, zz_err *err) {
  const int head = t->a, n_ds = x->l.n_datasets;
  const panel *p = x->p;
  double *ds[PIPE_MAX_DATASETS] = {0};
  int rc = ZZ_OK;
  for (int d = 0; d < n_ds && !rc; d++) rc = raw_scores(x, head, d, &ds[d], err);
  double *comb = rc ? NULL : malloc(sizeof *comb * (size_t)p->n_dates * (size_t)p->n_stocks);
  if (!rc && !comb) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  char path[PIPE_PATH + 32];
  snprintf(path, sizeof path, "%s/scores.csv", t->dir);
  if (!rc) rc = combine_datasets(p, ds, n_ds, comb, err);
  if (!rc) fprintf(stderr, "[combine %s] %d datasets -> %s\n", pipe_head_name(head), n_ds, path);
  if (!rc && ((rc = zz_mkdir_p(t->dir, err)) || (rc = score_write_matrix(p, comb, path, err)) ||
              (rc = pipe_stage_mark(t->dir, t->name, err))))
    zz_wrap(err, "combine %s", pipe_head_name(head));
  /* the datasets' scores and the combination stay in memory for the backtests and the report */
  for (int d = 0; d < n_ds; d++) {
    if (!rc && !x->ds_scores[d][head]) {
      keep_backtest(x, ds[d]);
      x->ds_scores[d][head] = ds[d];
    } else
      free(ds[d]);
  }
  if (!rc) {
    free(x->comb_raw[head]);
    x->comb_raw[head] = comb;
  } else
    free(comb);
  return rc;
}

static int task_batch(void *ctx, const int *ids, int n, zz_err *err) {
  pipe_ctx *x = ctx;
  int todo[PIPE_MAX_RUNS], n_todo = 0, rc = ZZ_OK;
  for (int k = 0; k < n && !rc; k++) {
    const pipe_task *t = &x->tasks->t[ids[k]];
    if ((rc = need_scores(x, x->bt[t->a].head, err))) break;
    if (n_todo < PIPE_MAX_RUNS) todo[n_todo++] = t->a;
  }
  if (!rc && n_todo) rc = pipe_backtests(x, todo, n_todo, err);
  return rc;
}

static int task_run(void *ctx, int id, const pipe_task *t, zz_err *err) {
  pipe_ctx *x = ctx;
  int rc = ZZ_OK;
  switch (kind_of(t)) {
  case TK_TRAIN: return task_train(x, t, err);
  case TK_GATHER:
    fprintf(stderr, "[%s] every model is there: %s\n", t->name, t->dir);
    return pipe_stage_mark(t->dir, t->name, err);
  case TK_SCORES: return task_scores(x, t, err);
  case TK_COMBINE: return task_combine(x, t, err);
  case TK_BACKTEST: return task_batch(x, &id, 1, err);
  case TK_TOPN:
    for (int k = 0; k < x->l.n_heads && !rc; k++) rc = need_scores(x, x->l.heads[k], err);
    if (!rc) rc = pipe_topn_stage(x, err);
    return rc;
  case TK_REPORT:
    for (int k = 0; k < x->l.n_heads && !rc; k++) rc = need_scores(x, x->l.heads[k], err);
    if (!rc) rc = pipe_report(x, err);
    return rc;
  default: return zz_fail(err, ZZ_EINTERNAL, "task %d: unknown kind %s", id, t->kind);
  }
}

static void task_timer(void *ctx, const char *group, double seconds, int cached) {
  pipe_timer_add(ctx, group, seconds, cached);
}

static int add_task(pipe_tasklist *tl, int kind, const char *name, const char *group, const char *dir, int local,
                    int a, int b, int c, int d, const int *deps, int n_deps, zz_err *err) {
  pipe_task t;
  memset(&t, 0, sizeof t);
  snprintf(t.kind, sizeof t.kind, "%s", tk_kind[kind]);
  snprintf(t.name, sizeof t.name, "%s", name);
  snprintf(t.group, sizeof t.group, "%s", group);
  snprintf(t.dir, sizeof t.dir, "%s", dir);
  t.local = local, t.batch = kind == TK_BACKTEST;
  t.a = a, t.b = b, t.c = c, t.d = d;
  if (kind == TK_TRAIN) snprintf(t.files, sizeof t.files, "Y%d_seed%d.", c, d);
  const int id = pipe_tasks_add(tl, &t, deps, n_deps);
  if (id < 0) zz_fail(err, ZZ_ENOMEM, "out of memory for the task list");
  return id;
}

/* The run's task list in dependency order (every process builds the same): every training task first (they
 * need nothing: a job array's first share), then per head and dataset its gather and scores, the combinations,
 * the backtests, the top-N runs and the report. */
static int build_tasks(pipe_ctx *x, pipe_tasklist *tl, zz_err *err) {
  const pipe_config *c = x->c;
  const int n_years = x->y_last - c->first_year + 1, n_seeds = c->seeds, n_ds = x->l.n_datasets;
  int first_train[PIPE_N_HEADS][PIPE_MAX_DATASETS];
  int head_task[PIPE_N_HEADS] = {0}, rc = ZZ_OK, all[PIPE_MAX_RUNS + 2 * PIPE_N_HEADS + 2], n_all = 0;
  int *deps = malloc(sizeof *deps * (size_t)(n_years * n_seeds + 1));
  if (!deps) return zz_fail(err, ZZ_ENOMEM, "out of memory for the task list");
  for (int k = 0; k < x->l.n_heads && !rc; k++)
    for (int d = 0; d < n_ds && !rc; d++) {
      const int head = x->l.heads[k];
      char lb[80], dir[PIPE_PATH], name[112], group[112];
      ds_label(x, head, d, lb, sizeof lb);
      pipe_stage_dir(c->out_dir, lb, x->hs.ds_train[d][head], dir, sizeof dir);
      snprintf(group, sizeof group, "train %s", lb);
      first_train[head][d] = tl->n;
      for (int y = c->first_year; y <= x->y_last && !rc; y++)
        for (int s = 0; s < n_seeds && !rc; s++) {
          snprintf(name, sizeof name, "train %s Y%d seed%d", lb, y, s);
          if (add_task(tl, TK_TRAIN, name, group, dir, 0, head, d, y, s, NULL, 0, err) < 0) rc = ZZ_ENOMEM;
        }
    }
  for (int k = 0; k < x->l.n_heads && !rc; k++) {
    const int head = x->l.heads[k];
    int sc_task[PIPE_MAX_DATASETS];
    for (int d = 0; d < n_ds && !rc; d++) {
      char lb[80], dir[PIPE_PATH], sdir[PIPE_PATH], name[112], group[112], sname[112];
      ds_label(x, head, d, lb, sizeof lb);
      pipe_stage_dir(c->out_dir, lb, x->hs.ds_train[d][head], dir, sizeof dir);
      snprintf(group, sizeof group, "train %s", lb);
      const int n = n_years * n_seeds;
      for (int q = 0; q < n; q++) deps[q] = first_train[head][d] + q;
      snprintf(name, sizeof name, "train %s", lb);
      const int g = add_task(tl, TK_GATHER, name, group, dir, 1, head, d, 0, 0, deps, n, err);
      snprintf(name, sizeof name, "scores %s", lb);
      snprintf(sname, sizeof sname, "scores-%s", lb);
      pipe_stage_dir(c->out_dir, sname, x->hs.ds_scores[d][head], sdir, sizeof sdir);
      sc_task[d] = g < 0 ? -1 : add_task(tl, TK_SCORES, name, name, sdir, 0, head, d, 0, 0, &g, 1, err);
      if (sc_task[d] < 0) rc = ZZ_ENOMEM;
    }
    if (rc) break;
    if (n_ds == 1) head_task[head] = sc_task[0];
    else {
      char dir[PIPE_PATH], sname[64], name[64];
      snprintf(sname, sizeof sname, "scores-%s", pipe_head_name(head));
      snprintf(name, sizeof name, "combine %s", pipe_head_name(head));
      pipe_stage_dir(c->out_dir, sname, x->hs.scores[head], dir, sizeof dir);
      if ((head_task[head] = add_task(tl, TK_COMBINE, name, name, dir, 0, head, 0, 0, 0, sc_task, n_ds, err)) < 0)
        rc = ZZ_ENOMEM;
    }
    if (!rc) all[n_all++] = head_task[head];
  }
  for (int k = 0; k < x->n_bt && !rc; k++) {
    char name[112];
    snprintf(name, sizeof name, "backtest %s", x->bt[k].label);
    const int id = add_task(tl, TK_BACKTEST, name, "backtests (closed loop and risk model)", x->bt[k].dir, 0, k,
                            0, 0, 0, &head_task[x->bt[k].head], 1, err);
    if (id < 0) rc = ZZ_ENOMEM;
    else all[n_all++] = id;
  }
  if (!rc && c->topn_enabled) {
    int hd[PIPE_N_HEADS];
    for (int k = 0; k < x->l.n_heads; k++) hd[k] = head_task[x->l.heads[k]];
    const int id = add_task(tl, TK_TOPN, "top-N runs", "top-N runs", "", 1, 0, 0, 0, 0, hd, x->l.n_heads, err);
    if (id < 0) rc = ZZ_ENOMEM;
    else all[n_all++] = id;
  }
  if (!rc) {
    char rd[PIPE_PATH];
    snprintf(rd, sizeof rd, "%s/report", c->out_dir);
    if (add_task(tl, TK_REPORT, "report", "report", rd, 1, 0, 0, 0, 0, all, n_all, err) < 0) rc = ZZ_ENOMEM;
  }
  free(deps);
  return rc;
}

/* The closed-loop backtests: one per index x head x floor. */
static void list_backtests(pipe_ctx *x) {
  const pipe_config *c = x->c;
  for (int i = 0; i < x->l.n_indices; i++)
    for (int k = 0; k < x->l.n_heads; k++)
      for (int f = 0; f < x->l.n_floors; f++) {
        pipe_bt *b = &x->bt[x->n_bt++];
        b->index = x->l.indices[i], b->head = x->l.heads[k], b->floor_k = f, b->floor = x->l.floors[f];
        char fl[32];
        if (b->floor > 0) snprintf(fl, sizeof fl, "floor%g", 100 * b->floor);
        else snprintf(fl, sizeof fl, "nofloor");
        snprintf(b->label, sizeof b->label, "%s/%s/%s", zz_index_name(b->index), pipe_head_name(b->head), fl);
        char nm[96];
        snprintf(nm, sizeof nm, "bt-%s-%s-%s", zz_index_name(b->index), pipe_head_name(b->head), fl);
        pipe_stage_dir(c->out_dir, nm, x->hs.sim[b->index][b->head][f], b->dir, sizeof b->dir);
      }
}

/* ---------------------------------------------------------------- the run */

static void print_timings(pipe_ctx *x, FILE *f, int csv) {
  double total = 0, total_cpu = 0;
  if (csv) fprintf(f, "stage,wall_seconds,cpu_seconds,cached\n");
  else fprintf(f, "\nwall time per stage (CPU seconds of this process and its workers in brackets):\n");
  for (int k = 0; k < x->n_timers; k++) {
    total += x->timer_s[k], total_cpu += x->timer_cpu[k];
    if (csv) fprintf(f, "%s,%.3f,%.3f,%d\n", x->timer_name[k], x->timer_s[k], x->timer_cpu[k], x->timer_cached[k]);
    else
      fprintf(f, "  %-28s %9.1f s  (%8.1f s)%s\n", x->timer_name[k], x->timer_s[k], x->timer_cpu[k],
              x->timer_cached[k] ? "  cached" : "");
  }
  if (csv) fprintf(f, "total,%.3f,%.3f,0\n", total, total_cpu);
  else fprintf(f, "  %-28s %9.1f s  (%8.1f s)\n", "total", total, total_cpu);
}

int pipe_run(const pipe_config *c, const pipe_run_opts *o, zz_err *err) {
  pipe_ctx *x = calloc(1, sizeof *x);
  pipe_tasklist *tl = calloc(1, sizeof *tl);
  if (!x || !tl) {
    free(x), free(tl);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  x->c = c;
  x->o = o;
  x->tasks = tl;
  x->cpu_mark = cpu_seconds();
  /* one level of parallelism: training splits a day's rows over model.threads threads, each calling
   * single-threaded OpenBLAS; the optimiser runs worker processes (one per task under --jobs or --mpi) */
  openblas_set_num_threads(1);
  const int pool = o->jobs >= 2 || o->mpi;
  x->bt_workers = pool ? 1 : c->workers;
  int rc = pipe_config_check(c, err), n_ranks = 1;
  if (!rc) rc = pipe_config_lists(c, &x->l, err);
  if (!rc && o->mpi) rc = pipe_mpi_init(&x->mpi_rank, &n_ranks, err);
  if (!rc && o->jobs >= 2) {
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 0 && (long)o->jobs * c->threads > cores)
      fprintf(stderr, "[sched] warning: --jobs %d x model.threads %d = %d threads on %ld cores: keep jobs x "
                      "threads <= cores\n", o->jobs, c->threads, o->jobs * c->threads, cores);
  }
  const int root = x->mpi_rank == 0;
  pipe_config *wc = NULL; /* --mpi-gather, rank > 0: the configuration with this rank's own output directory */
  if (!rc && o->mpi && o->mpi_gather && !root) {
    if (!(wc = malloc(sizeof *wc))) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    else {
      *wc = *c;
      if ((size_t)snprintf(wc->out_dir, sizeof wc->out_dir, "%s-rank%d", c->out_dir, x->mpi_rank) >= sizeof wc->out_dir)
        rc = zz_fail(err, ZZ_EUSAGE, "output.dir: path too long for --mpi-gather");
      x->c = c = wc;
      char sd[PIPE_PATH];
      snprintf(sd, sizeof sd, "%s/stages", c->out_dir);
      if (!rc) rc = zz_mkdir_p(sd, err);
    }
  }
  char path[PIPE_PATH];
  /* a run that fails before any stage is done into a new output directory leaves nothing behind */
  const int fresh_out = root && !o->plan && !o->tasks_set && access(c->out_dir, F_OK) != 0;
  if (!rc && root) {
    snprintf(path, sizeof path, "%s/stages", c->out_dir);
    rc = zz_mkdir_p(path, err);
  }
  if (!rc && root && !o->plan) {
    snprintf(path, sizeof path, "%s/config.ini", c->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
    else {
      fprintf(f, "; the configuration in effect for the last 'zhizeng run' into this directory\n");
      pipe_config_write(c, f);
      if (fclose(f)) rc = zz_fail(err, ZZ_EIO, "%s: write failed", path);
    }
  }
  /* the market (written by rank 0 when synthetic) and its panel: rank 0 first (it may write the panel's
   * binary cache), then the other ranks */
  if (!rc && root) rc = stage_market(x, err);
  if (o->mpi && n_ranks > 1) {
    rc = pipe_mpi_barrier_rc(rc);
    if (!rc && !root) rc = stage_market(x, err);
    rc = pipe_mpi_barrier_rc(rc);
    if (rc && !root && !err->msg[0]) zz_fail(err, rc, "stopped: another rank failed (its message is on its stderr)");
  }
  if (!rc) rc = backtest_range(x, err);
  if (!rc) rc = universe_mask(x, err);
  if (!rc) {
    x->y_last = x->p->dates[x->t_last] / 10000;
    list_backtests(x);
    rc = build_tasks(x, tl, err);
  }
  if (!rc && o->plan) {
    if (root) pipe_tasks_plan(tl, c->out_dir, stdout);
  } else if (!rc) {
    pipe_sched_opts so = {o->tasks_set ? o->task_first : -1, o->tasks_set ? o->task_last : -1, o->jobs, o->force, 2,
                          o->verbose};
    pipe_task_ops ops = {x, task_done, task_run, task_batch, task_timer, NULL};
    if (o->mpi) rc = pipe_mpi_sched(tl, &ops, &so, o->mpi_gather ? c->out_dir : NULL, err);
    else rc = pipe_sched_run(tl, &ops, &so, err);
  }
  if (!rc && root && x->report_dir[0]) {
    print_timings(x, stderr, 0);
    char tp[PIPE_PATH + 32];
    snprintf(tp, sizeof tp, "%s/timings.csv", x->report_dir);
    FILE *f = fopen(tp, "w");
    if (f) {
      print_timings(x, f, 1);
      fclose(f);
    }
    fprintf(stderr, "\nreport: %s/report.html (tables: %s/report.md and *.csv)\n", x->report_dir, x->report_dir);
  } else if (!rc && root && !o->plan)
    fprintf(stderr, "[sched] the tasks asked for are done (the report was not among them)\n");
  if (rc && fresh_out) { /* rmdir only removes empty directories: finished stages stay for a rerun */
    snprintf(path, sizeof path, "%s/config.ini", c->out_dir);
    remove(path);
    snprintf(path, sizeof path, "%s/stages", c->out_dir);
    rmdir(path);
    rmdir(c->out_dir);
  }
  for (int h = 0; h < PIPE_N_HEADS; h++) {
    free(x->scores[h]);
    free(x->comb_raw[h]);
    for (int d = 0; d < PIPE_MAX_DATASETS; d++) free(x->ds_scores[d][h]), free(x->raw[d][h]);
  }
  if (o->mpi) pipe_mpi_finish();
  pipe_tasks_free(tl);
  free(tl);
  free(wc);
  panel_free(x->p);
  free(x->eligible);
  free(x);
  return rc;
}
