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
  if (x->n_timers == PIPE_MAX_TIMERS) return;
  const double cpu = cpu_seconds();
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

static int stage_train(pipe_ctx *x, int head, int d, char *dir, size_t n, zz_err *err) {
  const pipe_config *c = x->c;
  double t0 = pipe_now();
  char lb[96];
  ds_label(x, head, d, lb, sizeof lb);
  pipe_stage_dir(c->out_dir, lb, x->hs.ds_train[d][head], dir, n);
  char tname[112];
  snprintf(tname, sizeof tname, "train %s", lb);
  if (!x->o->force && pipe_stage_done(dir)) {
    fprintf(stderr, "[train %s] cached: %s\n", lb, dir);
    timer_add(x, tname, pipe_now() - t0, 1);
    return ZZ_OK;
  }
  int rc = zz_mkdir_p(dir, err);
  if (rc) return rc;
  train_opts o;
  if ((rc = pipe_train_opts(c, head, x->l.datasets[d], &o, err))) return rc;
  o.resume = !x->o->force; /* an interrupted stage continues from its checkpoints */
  o.progress = x->o->progress;
  const int y1 = x->p->dates[x->t_last] / 10000;
  for (int y = c->first_year; y <= y1; y++) {
    fprintf(stderr, "[train %s] year %d (%d/%d)\n", lb, y, y - c->first_year + 1, y1 - c->first_year + 1);
    int stopped = 0;
    if ((rc = train_year(x->p, &o, y, dir, &stopped, err))) return zz_wrap(err, "train %s", lb);
  }
  if ((rc = pipe_stage_mark(dir, tname, err))) return rc;
  timer_add(x, tname, pipe_now() - t0, 0);
  return ZZ_OK;
}

/* Daily out-of-sample scores of head h with dataset d into *out (n_dates x n_stocks, NaN where not scored). */
static int stage_scores(pipe_ctx *x, int head, int d, const char *train_dir, double **out, zz_err *err) {
  const pipe_config *c = x->c;
  double t0 = pipe_now();
  char dir[PIPE_PATH], path[PIPE_PATH + 32], tname[112], lb[96];
  ds_label(x, head, d, lb, sizeof lb);
  snprintf(tname, sizeof tname, "scores %s", lb);
  char sname[112];
  snprintf(sname, sizeof sname, "scores-%s", lb);
  pipe_stage_dir(c->out_dir, sname, x->hs.ds_scores[d][head], dir, sizeof dir);
  snprintf(path, sizeof path, "%s/scores.csv", dir);
  int rc = ZZ_OK, cached = 1;
  const panel_universe_opts u = pipe_universe(c);
  if (x->o->force || !pipe_stage_done(dir)) {
    cached = 0;
    fprintf(stderr, "[scores %s] daily out-of-sample scores %d..%d\n", lb, c->first_year,
            x->p->dates[x->t_last] / 10000);
    /* computed here: handed over in memory; the file is the stage cache */
    if ((rc = zz_mkdir_p(dir, err)) ||
        (rc = score_write_keep(x->p, train_dir, c->first_year, x->p->dates[x->t_last] / 10000, &u, path, out, err)) ||
        (rc = pipe_stage_mark(dir, tname, err))) {
      free(*out), *out = NULL;
      return zz_wrap(err, "scores %s", lb);
    }
  } else {
    fprintf(stderr, "[scores %s] cached: %s\n", lb, dir);
    score_table *sc = NULL;
    if ((rc = score_table_read(path, x->p, &sc, err))) return rc;
    *out = sc->values[0]; /* the score column only */
    sc->values[0] = NULL;
    score_table_free(sc);
  }
  timer_add(x, tname, pipe_now() - t0, cached);
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

/* Training and scores of one head over every dataset, then the head's score x->scores[head]. */
static int stage_head(pipe_ctx *x, int head, zz_err *err) {
  const int n_ds = x->l.n_datasets;
  double *ds[PIPE_MAX_DATASETS] = {0};
  int rc = ZZ_OK;
  for (int d = 0; d < n_ds && !rc; d++) {
    char dir[PIPE_PATH];
    rc = stage_train(x, head, d, dir, sizeof dir, err);
    if (!rc) rc = stage_scores(x, head, d, dir, &ds[d], err);
  }
  if (rc) {
    for (int d = 0; d < n_ds; d++) free(ds[d]);
    return rc;
  }
  if (n_ds == 1) {
    x->scores[head] = ds[0];
    keep_backtest(x, x->scores[head]);
    return ZZ_OK;
  }
  const double t0 = pipe_now();
  const panel *p = x->p;
  char dir[PIPE_PATH], path[PIPE_PATH + 32], sname[64], tname[48];
  snprintf(sname, sizeof sname, "scores-%s", pipe_head_name(head));
  snprintf(tname, sizeof tname, "combine %s", pipe_head_name(head));
  pipe_stage_dir(x->c->out_dir, sname, x->hs.scores[head], dir, sizeof dir);
  snprintf(path, sizeof path, "%s/scores.csv", dir);
  const int cached = !x->o->force && pipe_stage_done(dir);
  double *comb = malloc(sizeof *comb * (size_t)p->n_dates * (size_t)p->n_stocks);
  if (!comb) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  if (!rc && !cached) {
    rc = combine_datasets(p, ds, n_ds, comb, err);
    if (!rc) fprintf(stderr, "[combine %s] %d datasets -> %s\n", pipe_head_name(head), n_ds, path);
    if (rc || (rc = zz_mkdir_p(dir, err)) || (rc = score_write_matrix(p, comb, path, err)) ||
        (rc = pipe_stage_mark(dir, tname, err)))
      zz_wrap(err, "combine %s", pipe_head_name(head));
  }
  /* computed: used as is (the file holds the same values: zz_fmt_double round-trips); cached: read */
  if (!rc && cached) {
    score_table *sc = NULL;
    if (!(rc = score_table_read(path, p, &sc, err))) {
      free(comb);
      comb = sc->values[0];
      sc->values[0] = NULL;
      score_table_free(sc);
    }
  }
  if (rc) {
    free(comb);
    for (int d = 0; d < n_ds; d++) free(ds[d]);
    return rc;
  }
  x->scores[head] = comb;
  keep_backtest(x, comb);
  for (int d = 0; d < n_ds; d++) {
    keep_backtest(x, ds[d]);
    x->ds_scores[d][head] = ds[d];
  }
  timer_add(x, tname, pipe_now() - t0, cached);
  return ZZ_OK;
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
  if (!x) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  x->c = c;
  x->o = o;
  x->cpu_mark = cpu_seconds();
  /* one level of parallelism: training splits a day's rows over model.threads threads, each calling
   * single-threaded OpenBLAS; the optimiser runs worker processes */
  openblas_set_num_threads(1);
  int rc = pipe_config_check(c, err);
  if (!rc) rc = pipe_config_lists(c, &x->l, err);
  char path[PIPE_PATH];
  /* a run that fails before any stage is done into a new output directory leaves nothing behind */
  const int fresh_out = access(c->out_dir, F_OK) != 0;
  if (!rc) {
    snprintf(path, sizeof path, "%s/stages", c->out_dir);
    rc = zz_mkdir_p(path, err);
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/config.ini", c->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
    else {
      fprintf(f, "; the configuration in effect for the last 'zhizeng run' into this directory\n");
      pipe_config_write(c, f);
      if (fclose(f)) rc = zz_fail(err, ZZ_EIO, "%s: write failed", path);
    }
  }
  if (!rc) rc = stage_market(x, err);
  if (!rc) rc = backtest_range(x, err);
  if (!rc) rc = universe_mask(x, err);
  /* training and scores, per head */
  for (int k = 0; k < x->l.n_heads && !rc; k++) rc = stage_head(x, x->l.heads[k], err);
  /* the backtests */
  if (!rc) {
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
    int todo[PIPE_MAX_RUNS], n_todo = 0;
    for (int k = 0; k < x->n_bt; k++)
      if (o->force || !pipe_stage_done(x->bt[k].dir)) todo[n_todo++] = k;
    if (n_todo) rc = pipe_backtests(x, todo, n_todo, err);
    else {
      fprintf(stderr, "[backtest] all %d backtests cached\n", x->n_bt);
      timer_add(x, "risk model", 0, 1);
      timer_add(x, "backtests (closed loop)", 0, 1);
    }
  }
  if (!rc && c->topn_enabled) rc = pipe_topn_stage(x, err);
  if (!rc) {
    double t0 = pipe_now();
    rc = pipe_report(x, err);
    timer_add(x, "report", pipe_now() - t0, 0);
  }
  if (!rc) {
    print_timings(x, stderr, 0);
    char tp[PIPE_PATH + 32];
    snprintf(tp, sizeof tp, "%s/timings.csv", x->report_dir);
    FILE *f = fopen(tp, "w");
    if (f) {
      print_timings(x, f, 1);
      fclose(f);
    }
    fprintf(stderr, "\nreport: %s/report.html (tables: %s/report.md and *.csv)\n", x->report_dir, x->report_dir);
  }
  if (rc && fresh_out) { /* rmdir only removes empty directories: finished stages stay for a rerun */
    snprintf(path, sizeof path, "%s/config.ini", c->out_dir);
    remove(path);
    snprintf(path, sizeof path, "%s/stages", c->out_dir);
    rmdir(path);
    rmdir(c->out_dir);
  }
  for (int h = 0; h < PIPE_N_HEADS; h++) {
    free(x->scores[h]);
    for (int d = 0; d < PIPE_MAX_DATASETS; d++) free(x->ds_scores[d][h]);
  }
  panel_free(x->p);
  free(x->eligible);
  free(x);
  return rc;
}
