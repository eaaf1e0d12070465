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
      fprintf(stderr, "[market] writing a synthetic market (%d stocks, %d..%d, seed %d) to %s\n", so.n_stocks,
              (int)so.start, (int)so.end, c->synth_seed, x->market_dir);
      synth_report sr;
      if ((rc = pipe_mkdir(x->market_dir, err)) || (rc = synth_write(x->market_dir, &so, &sr, err)) ||
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

static int stage_train(pipe_ctx *x, int head, char *dir, size_t n, zz_err *err) {
  const pipe_config *c = x->c;
  double t0 = pipe_now();
  pipe_stage_dir(c->out_dir, pipe_head_name(head), x->hs.train[head], dir, n);
  char tname[48];
  snprintf(tname, sizeof tname, "train %s", pipe_head_name(head));
  if (!x->o->force && pipe_stage_done(dir)) {
    fprintf(stderr, "[train %s] cached: %s\n", pipe_head_name(head), dir);
    timer_add(x, tname, pipe_now() - t0, 1);
    return ZZ_OK;
  }
  int rc = pipe_mkdir(dir, err);
  if (rc) return rc;
  train_opts o;
  train_default_opts(&o);
  o.net.cell = strcasecmp(c->cell, "lstm") ? NN_GRU : NN_LSTM;
  o.net.layers = c->layers;
  o.net.hidden = c->hidden;
  o.net.head = head == PIPE_HEAD_MULTI ? NN_HEAD_MULTIVARIATE : NN_HEAD_UNIVARIATE;
  o.net.outputs = head == PIPE_HEAD_MULTI ? c->outputs : 1;
  o.net.lambda = c->lambda;
  o.net.dropout = c->dropout;
  o.dataset = c->dataset;
  o.seq = c->seq;
  o.epochs = c->epochs;
  o.patience = c->patience;
  o.lr = c->lr;
  o.clip = (float)c->clip;
  o.seeds = c->seeds;
  o.seed = (uint64_t)c->model_seed;
  o.threads = c->threads;
  o.train_years = c->train_years;
  o.day_stride = c->day_stride;
  o.resume = !x->o->force; /* an interrupted stage continues from its checkpoints */
  o.progress = x->o->progress;
  const int y1 = x->p->dates[x->t_last] / 10000;
  for (int y = c->first_year; y <= y1; y++) {
    fprintf(stderr, "[train %s] year %d (%d/%d)\n", pipe_head_name(head), y, y - c->first_year + 1,
            y1 - c->first_year + 1);
    int stopped = 0;
    if ((rc = train_year(x->p, &o, y, dir, &stopped, err))) return zz_wrap(err, "train %s", pipe_head_name(head));
  }
  if ((rc = pipe_stage_mark(dir, tname, err))) return rc;
  timer_add(x, tname, pipe_now() - t0, 0);
  return ZZ_OK;
}

static int stage_scores(pipe_ctx *x, int head, const char *train_dir, zz_err *err) {
  const pipe_config *c = x->c;
  double t0 = pipe_now();
  char dir[PIPE_PATH], path[PIPE_PATH + 32], tname[48];
  snprintf(tname, sizeof tname, "scores %s", pipe_head_name(head));
  char sname[48];
  snprintf(sname, sizeof sname, "scores-%s", pipe_head_name(head));
  pipe_stage_dir(c->out_dir, sname, x->hs.scores[head], dir, sizeof dir);
  snprintf(path, sizeof path, "%s/scores.csv", dir);
  int rc = ZZ_OK, cached = 1;
  if (x->o->force || !pipe_stage_done(dir)) {
    cached = 0;
    fprintf(stderr, "[scores %s] daily out-of-sample scores %d..%d\n", pipe_head_name(head), c->first_year,
            x->p->dates[x->t_last] / 10000);
    if ((rc = pipe_mkdir(dir, err)) ||
        (rc = score_write_ex(x->p, train_dir, c->first_year, x->p->dates[x->t_last] / 10000, 0, 0, path, err)) ||
        (rc = pipe_stage_mark(dir, tname, err)))
      return zz_wrap(err, "scores %s", pipe_head_name(head));
  } else
    fprintf(stderr, "[scores %s] cached: %s\n", pipe_head_name(head), dir);
  rep_scores *sc = NULL;
  if ((rc = rep_scores_read(path, x->p, &sc, err))) return rc;
  /* keep the score column only, inside the backtest */
  const size_t nn = (size_t)x->p->n_dates * (size_t)x->p->n_stocks;
  x->scores[head] = sc->values[0];
  sc->values[0] = NULL;
  for (size_t k = 0; k < nn; k++) {
    const int t = (int)(k / (size_t)x->p->n_stocks);
    if (t < x->t_first || t > x->t_last) x->scores[head][k] = NAN;
  }
  rep_scores_free(sc);
  timer_add(x, tname, pipe_now() - t0, cached);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- simulation */

static int stage_sim(pipe_ctx *x, pipe_bt *b, int *cached, zz_err *err) {
  const pipe_config *c = x->c;
  if (!x->o->force && pipe_stage_done(b->sim_dir)) return ZZ_OK;
  *cached = 0;
  char path[PIPE_PATH + 32];
  snprintf(path, sizeof path, "%s/targets.csv", b->opt_dir);
  sim_targets *tg = NULL;
  sim_result *r = NULL;
  sim_config sc;
  sim_config_default(&sc);
  sc.capital = c->capital;
  sc.benchmark = b->index;
  sc.costs = (sim_cost_mode)sim_cost_mode_parse(c->costs);
  sc.buy_rate = c->buy_rate;
  sc.sell_rate = c->sell_rate;
  sc.commission_rate = c->commission_rate;
  sc.commission_min = c->commission_min;
  sc.stamp_old = c->stamp_old;
  sc.stamp_new = c->stamp_new;
  sc.limit_test = (sim_limit_test)sim_limit_test_parse(c->limit_test);
  sc.lot = c->lot;
  sc.exec_lag = c->exec_lag;
  sc.exec_price = (sim_price)sim_price_parse(c->exec_price);
  sc.end = x->p->dates[x->t_last];
  int rc = sim_targets_read(path, x->p, &tg, err);
  if (!rc) rc = sim_run(x->p, tg, &sc, &r, err);
  if (!rc) rc = sim_result_write(r, b->sim_dir, err);
  if (!rc) rc = pipe_stage_mark(b->sim_dir, b->label, err);
  if (!rc)
    fprintf(stderr, "[simulate] %s: %d days, final NAV %.4f, hedged %.4f, costs %.0f CNY\n", b->label, r->n_days,
            r->nav[r->n_days - 1], r->hedged[r->n_days - 1], r->total_costs);
  sim_result_free(r);
  sim_targets_free(tg);
  if (rc) zz_wrap(err, "simulate %s", b->label);
  return rc;
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
  if (!rc) {
    snprintf(path, sizeof path, "%s/stages", c->out_dir);
    rc = pipe_mkdir(path, err);
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
  /* training and scores, per head */
  for (int k = 0; k < x->l.n_heads && !rc; k++) {
    char dir[PIPE_PATH];
    const int h = x->l.heads[k];
    rc = stage_train(x, h, dir, sizeof dir, err);
    if (!rc) rc = stage_scores(x, h, dir, err);
  }
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
          snprintf(nm, sizeof nm, "opt-%s-%s-%s", zz_index_name(b->index), pipe_head_name(b->head), fl);
          pipe_stage_dir(c->out_dir, nm, x->hs.opt[b->index][b->head][f], b->opt_dir, sizeof b->opt_dir);
          snprintf(nm, sizeof nm, "sim-%s-%s-%s", zz_index_name(b->index), pipe_head_name(b->head), fl);
          pipe_stage_dir(c->out_dir, nm, x->hs.sim[b->index][b->head][f], b->sim_dir, sizeof b->sim_dir);
        }
    int todo[PIPE_MAX_RUNS], n_todo = 0;
    for (int k = 0; k < x->n_bt; k++)
      if (o->force || !pipe_stage_done(x->bt[k].opt_dir)) todo[n_todo++] = k;
    if (n_todo) rc = pipe_optimise(x, todo, n_todo, err);
    else {
      fprintf(stderr, "[optimise] all %d backtests cached\n", x->n_bt);
      timer_add(x, "risk model", 0, 1);
      timer_add(x, "optimise", 0, 1);
    }
  }
  if (!rc) {
    double t0 = pipe_now();
    int cached = 1;
    for (int k = 0; k < x->n_bt && !rc; k++) rc = stage_sim(x, &x->bt[k], &cached, err);
    timer_add(x, "simulate", pipe_now() - t0, cached);
  }
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
  for (int h = 0; h < PIPE_N_HEADS; h++) free(x->scores[h]);
  panel_free(x->p);
  free(x);
  return rc;
}
