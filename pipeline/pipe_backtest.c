/* pipe_backtest.c — the backtests of a run, each a closed loop (SPEC 10.1): the risk model at the
 * weekly rebalance dates, then per backtest (index x head x floor) a simulator book stepped week by
 * week: run to the rebalance date's close, read the real book, solve the week (portfolio/'s
 * opt_week_solve) against it, submit the targets as orders for the next trading day. Backtests are
 * shared out over optimizer.workers processes (fork: one level of parallelism; each solve is
 * single-threaded). A backtest's stage directory holds targets.csv, w0.csv (the book each week's
 * optimisation saw), diagnostics.csv (writer and reader here) and the simulator's files. */
#include "pipe_internal.h"

#include "portfolio.h"
#include "risk.h"
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------- diagnostics.csv */

const char *const pipe_diag_header =
    "run,date,status,n_universe,n_members,te,te_max,max_abs_style,style_bound,max_abs_industry,industry_bound,"
    "constituent_weight,constituent_floor,turnover,turnover_max,turnover_exempt,max_active,active_max,max_weight,"
    "weight_max,forced_bounds,invested,max_violation,gap,relaxations,spec_floored,attempts,carried_members,"
    "bench_dropped,classified_universe,classified_bench,unclassified_active,unclassified_bound,"
    "trade_date,realised_turnover,turnover_causes,cash_weight,l1_target,w0_cash,n_unfilled,unfilled_value,"
    "unscored_members,fixed_holdings,opt_seconds,opt_rounds,lp_iterations,warm,note\n";

/* One week of a backtest, kept until the simulation has run (the realised columns come from it). */
typedef struct bt_week {
  int32_t date;
  int exempt;
  double w0_cash;
  opt_week *wk; /* NULL: not solved for want of scores (no row) */
} bt_week;

/* Largest |v[k]| over k != skip (skip -1: all). */
static double max_abs(const double *v, int n, int skip) {
  double m = 0;
  for (int k = 0; k < n; k++)
    if (k != skip) m = fabs(v[k]) > m ? fabs(v[k]) : m;
  return m;
}

static void fmt_relax(const opt_result *r, char *buf, size_t n) {
  buf[0] = 0;
  size_t used = 0;
  for (int k = 0; r && k < r->n_relax && used < n; k++) {
    char a[32], b[32];
    used += (size_t)snprintf(buf + used, n - used, "%s%s:%s->%s", k ? ";" : "", r->relax[k].limit,
                             zz_fmt_double(a, sizeof a, r->relax[k].from), zz_fmt_double(b, sizeof b, r->relax[k].to));
  }
}

/* ",x", or "," alone when the value is absent (a held week has no optimiser figures). */
static void put_num(FILE *f, int present, double x) {
  char b[40];
  fputc(',', f);
  if (present) fputs(zz_fmt_double(b, sizeof b, x), f);
}

/* Causes a realised turnover above the cap may have, named: holdings delisted since the previous
 * trade day (their cash is reinvested) and orders of the previous rebalance that did not fill. */
static void turnover_causes(const sim_result *r, int32_t prev_trade, int32_t date, int relaxed, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = 0;
  if (relaxed) used += (size_t)snprintf(buf, n, "turnover_max relaxed");
  for (size_t k = 0; k < r->n_trades && used < n; k++) {
    const sim_trade *t = &r->trades[k];
    const int del = t->status == SIM_DELISTED && t->date > prev_trade && t->date <= date;
    const int unf = prev_trade && t->date == prev_trade && (t->status == SIM_UNFILLED || t->status == SIM_PARTIAL);
    if (del || unf)
      used += (size_t)snprintf(buf + used, n - used, "%s%s:%s", used ? ";" : "", del ? "delisted" : "unfilled", t->code);
  }
}

/* One row in the order of pipe_diag_header. rb: the simulator's record of the week's rebalance (NULL
 * when held or not traded before the end). */
static void diag_row(FILE *fd, const char *label, const bt_week *w, const sim_rebalance *rb, const char *causes) {
  static const opt_result none; /* zeros: the counts of a held week */
  const opt_week *wk = w->wk;
  const int s = wk->solved;
  const opt_result *q = s ? wk->res : &none;
  const opt_limits *L = &q->limits;
  char rel[512], db[16];
  fmt_relax(s ? q : NULL, rel, sizeof rel);
  fprintf(fd, "%s,%s,%s,%d,%d", label, zz_date_format(w->date, db), s ? opt_status_name(q->status) : "held",
          wk->n_universe, wk->n_members);
  put_num(fd, s, q->te), put_num(fd, s, L->te_max);
  put_num(fd, s, max_abs(q->style_exposure, q->n_style, -1)), put_num(fd, s, L->style_bound);
  put_num(fd, s, max_abs(q->industry_active, q->n_ind, wk->g_unc)), put_num(fd, s, L->industry_bound);
  put_num(fd, s, q->constituent_weight), put_num(fd, s, L->constituent_floor);
  put_num(fd, s, wk->planned_turnover), put_num(fd, s, L->turnover_max);
  fprintf(fd, ",%d", w->exempt);
  put_num(fd, s, wk->max_active), put_num(fd, s, L->active_max);
  put_num(fd, s, wk->max_weight), put_num(fd, s, L->weight_max);
  fprintf(fd, ",%d", q->forced_bounds);
  put_num(fd, s, q->invested), put_num(fd, s, q->max_violation), put_num(fd, s, q->gap);
  fprintf(fd, ",%s,%d,%d,%d,%d", rel, q->spec_floored, q->attempts, wk->n_carried, wk->n_dropped);
  put_num(fd, 1, wk->classified_universe), put_num(fd, 1, wk->classified_bench);
  put_num(fd, s && wk->g_unc >= 0, s && wk->g_unc >= 0 ? q->industry_active[wk->g_unc] : 0);
  put_num(fd, s && wk->g_unc >= 0, L->unclassified_bound);
  fputc(',', fd);
  if (rb) fputs(zz_date_format(rb->trade_date, db), fd);
  put_num(fd, rb != NULL, rb ? rb->turnover : 0);
  fputc(',', fd);
  zz_csv_write_field(fd, causes);
  put_num(fd, rb != NULL, rb ? rb->cash_weight : 0), put_num(fd, rb != NULL, rb ? rb->l1_target : 0);
  put_num(fd, 1, w->w0_cash);
  fputc(',', fd);
  if (rb) fprintf(fd, "%d", rb->n_unfilled);
  put_num(fd, rb != NULL, rb ? rb->unfilled_value : 0);
  fprintf(fd, ",%d,%d", wk->n_unscored, wk->n_fixed);
  put_num(fd, s, q->solve_seconds);
  fprintf(fd, ",%d,%d,%d,", q->rounds, q->lp_iterations, q->warm);
  zz_csv_write_field(fd, wk->note);
  fputc('\n', fd);
}

static int write_diagnostics(const char *path, const char *label, const bt_week *wks, int n, const sim_result *r,
                             zz_err *err) {
  char tmp[PIPE_PATH + 48];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  fputs(pipe_diag_header, f);
  int k = 0; /* the simulator's rebalances, in decision order */
  int32_t prev_trade = 0;
  for (int j = 0; j < n; j++) {
    if (!wks[j].wk) continue;
    while (k < r->n_rebalances && r->rebalances[k].decision_date < wks[j].date) k++;
    const sim_rebalance *rb = k < r->n_rebalances && r->rebalances[k].decision_date == wks[j].date ? &r->rebalances[k] : NULL;
    char causes[1024] = "";
    if (rb && !wks[j].exempt && rb->turnover > wks[j].wk->res->limits.turnover_max + 0.005) {
      const opt_week *wk = wks[j].wk;
      int relaxed = 0;
      for (int q = 0; q < wk->res->n_relax; q++) relaxed |= !strcmp(wk->res->relax[q].limit, "turnover_max");
      turnover_causes(r, prev_trade, wks[j].date, relaxed, causes, sizeof causes);
    }
    diag_row(f, label, &wks[j], rb, causes);
    if (rb) prev_trade = rb->trade_date;
  }
  return zz_out_close(f, tmp, path, err);
}

int pipe_diag_copy(const char *dir, FILE *f, pipe_diag_sum *d, zz_err *err) {
  char path[PIPE_PATH + 32];
  snprintf(path, sizeof path, "%s/diagnostics.csv", dir);
  memset(d, 0, sizeof *d);
  d->min_constituent = INFINITY;
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  enum { C_TE, C_TO, C_CW, C_RL, C_ST, C_SF, C_AT, C_CA, C_CU, C_CB, C_RT, C_CZ, C_EX, C_TM, C_CASH, C_OS, C_OR, C_WM, C_N };
  static const char *const names[C_N] = {"te",         "turnover",          "constituent_weight", "relaxations",
                                         "status",     "spec_floored",      "attempts",           "carried_members",
                                         "classified_universe", "classified_bench", "realised_turnover",
                                         "turnover_causes", "turnover_exempt", "turnover_max", "cash_weight",
                                         "opt_seconds", "opt_rounds", "warm"};
  int col[C_N];
  for (int k = 0; k < C_N; k++) {
    const char *nm[2] = {names[k], NULL};
    if ((col[k] = zz_csv_require(r, nm, err)) < 0) {
      zz_csv_close(r);
      return ZZ_EDATA;
    }
  }
  const int nc = zz_csv_ncols(r);
  int n_to = 0, n_rt = 0, n_cash = 0, got;
  while ((got = zz_csv_next(r, err)) == 1) {
    for (int k = 0; k < nc; k++) {
      if (k) fputc(',', f);
      zz_csv_write_field(f, zz_csv_field(r, k));
    }
    fputc('\n', f);
    double v[C_N];
    static const int numeric[] = {C_CA, C_CU, C_CB, C_RT, C_EX, C_CASH};
    for (size_t k = 0; k < sizeof numeric / sizeof numeric[0] && !rc; k++)
      rc = zz_csv_double(r, col[numeric[k]], 1, &v[numeric[k]], err);
    if (rc) break;
    d->rebalances++;
    d->carried_weeks += v[C_CA] > 0;
    d->cov_universe += isfinite(v[C_CU]) ? v[C_CU] : 0;
    d->cov_bench += isfinite(v[C_CB]) ? v[C_CB] : 0;
    if (isfinite(v[C_CASH])) d->mean_cash += v[C_CASH], n_cash++;
    if (!strcmp(zz_csv_field(r, col[C_ST]), "held")) { /* not solved: the book was held, no limits to read */
      d->held++;
      continue;
    }
    static const int solved[] = {C_TE, C_TO, C_CW, C_SF, C_AT, C_TM, C_OS, C_OR, C_WM};
    for (size_t k = 0; k < sizeof solved / sizeof solved[0] && !rc; k++)
      rc = zz_csv_double(r, col[solved[k]], 0, &v[solved[k]], err);
    if (rc) break;
    d->repaired += v[C_SF] > 0;
    d->opt_seconds += v[C_OS];
    d->mean_rounds += v[C_OR];
    d->warm += v[C_WM] > 0;
    d->retried += v[C_AT] > 1;
    d->relaxed += zz_csv_field(r, col[C_RL])[0] != 0;
    d->gap_status += strcmp(zz_csv_field(r, col[C_ST]), "optimal") != 0;
    d->max_te = v[C_TE] > d->max_te ? v[C_TE] : d->max_te;
    d->min_constituent = v[C_CW] < d->min_constituent ? v[C_CW] : d->min_constituent;
    if (!(v[C_EX] > 0)) {
      d->mean_turnover += v[C_TO], n_to++;
      if (isfinite(v[C_RT])) {
        d->mean_realised += v[C_RT], n_rt++;
        if (v[C_RT] > d->max_realised) d->max_realised = v[C_RT];
        if (v[C_RT] > v[C_TM] + 0.005) d->over_cap++, d->over_cap_named += zz_csv_field(r, col[C_CZ])[0] != 0;
      }
    }
  }
  if (!rc && got < 0) rc = -got;
  /* a statistic over no week is undefined (NaN, shown as "—" with a note), never 0 */
  d->mean_turnover = n_to ? d->mean_turnover / n_to : NAN;
  d->mean_realised = n_rt ? d->mean_realised / n_rt : NAN;
  if (!n_rt) d->max_realised = NAN;
  d->mean_cash = n_cash ? d->mean_cash / n_cash : NAN;
  if (d->rebalances > d->held) d->mean_rounds /= d->rebalances - d->held;
  else d->max_te = d->min_constituent = NAN; /* every week held: no solution to measure */
  if (d->rebalances) d->cov_universe /= d->rebalances, d->cov_bench /= d->rebalances;
  zz_csv_close(r);
  return rc;
}

/* ---------------------------------------------------------------- one backtest */

static void week_limits(const pipe_config *c, const pipe_bt *b, opt_limits *lim) {
  opt_limits_default(lim);
  lim->style_bound = c->style_bound;
  lim->industry_bound = c->industry_bound;
  lim->unclassified_bound = c->unclassified_bound;
  lim->spec_var_floor = c->spec_var_floor;
  lim->te_max = c->te_max[b->index];
  lim->constituent_floor = b->floor;
  lim->turnover_max = c->turnover_max;
  lim->active_max = c->active_max;
  lim->weight_max = c->weight_max;
  lim->cash = c->cash;
  lim->gap_tol = c->gap_tol;
  lim->max_rounds = c->max_rounds;
  lim->relax = c->relax;
}

static int write_w0(FILE *f, const panel *p, int32_t date, const double *w0) {
  char db[16], nb[40];
  zz_date_format(date, db);
  for (int i = 0; i < p->n_stocks; i++)
    if (w0[i] > 0) fprintf(f, "%s,%s,%s\n", db, p->stocks[i].code, zz_fmt_double(nb, sizeof nb, w0[i]));
  return ferror(f) ? -1 : 0;
}

/* One backtest, closed loop; writes its stage directory and marks it done. */
static int backtest_one(pipe_ctx *x, const risk_model *rm, const pipe_bt *b, zz_err *err) {
  const pipe_config *c = x->c;
  const panel *p = x->p;
  const int N = p->n_stocks, n_out = risk_model_n_outputs(rm);
  const double *score = x->scores[b->head];
  const double t_start = pipe_now();
  int rc = zz_mkdir_p(b->dir, err);
  if (rc) return rc;
  char path[PIPE_PATH + 32], w0path[PIPE_PATH + 32];
  snprintf(w0path, sizeof w0path, "%s/w0.csv", b->dir);
  FILE *fw = fopen(w0path, "w");
  double *wb = calloc((size_t)N, sizeof *wb), *w0 = calloc((size_t)N, sizeof *w0), *sc = malloc(sizeof *sc * (size_t)N);
  uint8_t *cb = calloc((size_t)N, 1), *cs = calloc((size_t)N, 1);
  int *stk = malloc(sizeof *stk * (size_t)N);
  double *wt = malloc(sizeof *wt * (size_t)N);
  bt_week *wks = calloc((size_t)n_out + 1, sizeof *wks);
  sim_targets *tg = sim_targets_create();
  sim_book *book = NULL;
  sim_result *res = NULL;
  if (!fw) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", w0path);
  else if (!wb || !w0 || !sc || !cb || !cs || !stk || !wt || !wks || !tg) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  opt_warm *warm = NULL; /* the backtest's weeks solved warm, each from the previous one */
  if (!rc && c->warm_start) rc = opt_warm_create(&warm, err);
  if (!rc) fputs("date,code,weight\n", fw);
  sim_config scfg;
  pipe_sim_config(c, b->index, p->dates[x->t_last], &scfg);
  opt_limits lim;
  week_limits(c, b, &lim);
  int n_wk = 0, n_solved = 0, n_held = 0;
  double opt_sec = 0; /* the optimiser's wall seconds, all weeks */
  /* ZZ_OPT_DUMP=DIR: every week's problem as DIR/<backtest>/<date>/ (SPEC 11.1) */
  const char *dump_root = getenv("ZZ_OPT_DUMP");
  char dump[PIPE_PATH + 64], db[16];
  if (dump_root && !rc) {
    snprintf(dump, sizeof dump, "%s/%s", dump_root, b->label);
    rc = zz_mkdir_p(dump, err);
  }
  for (int k = 0; k < n_out && !rc; k++) {
    risk_snapshot s;
    if ((rc = risk_model_snapshot(rm, k, &s, err))) break;
    const int t = s.t;
    int ns = 0;
    for (int i = 0; i < N; i++) ns += isfinite(sc[i] = score[panel_at(p, t, i)]);
    if (ns < 10) continue; /* no scores this week (e.g. before the first scored day) */
    if (!book && (rc = sim_book_create(p, &scfg, p->dates[t], &book, err))) break;
    if ((rc = sim_book_run_to(book, p->dates[t], err))) break;
    bt_week *w = &wks[n_wk++];
    w->date = p->dates[t];
    sim_book_weights(book, w0, &w->w0_cash, NULL);
    w->exempt = w->w0_cash >= 1.0 - 1e-12; /* all cash: the first purchase */
    if (write_w0(fw, p, w->date, w0)) rc = zz_fail(err, ZZ_EIO, "%s: write failed", w0path);
    if (!rc && panel_index_weights_drifted(p, b->index, t, wb, NULL) <= 0)
      rc = zz_fail(err, ZZ_EDATA, "%s: %s has no constituent weights in force on %d", b->label,
                   zz_index_name(b->index), (int)w->date);
    if (rc) break;
    const uint8_t *elig = x->eligible + (size_t)t * (size_t)N;
    for (int i = 0; i < N; i++) {
      int buy, sell;
      sim_tradable(p, &scfg, t, i, &buy, &sell);
      cb[i] = (uint8_t)(buy && elig[i]);
      cs[i] = (uint8_t)sell;
    }
    if (dump_root) snprintf(dump, sizeof dump, "%s/%s/%s", dump_root, b->label, zz_date_format(w->date, db));
    opt_week_in in = {p, &s, sc, wb, w0, cb, cs, w->exempt, warm, dump_root ? dump : NULL};
    if ((rc = opt_week_solve(&in, &lim, &w->wk, err))) {
      zz_wrap(err, "%s: optimisation of %d", b->label, (int)w->date);
      break;
    }
    if (w->wk->res) opt_sec += w->wk->res->solve_seconds;
    if (w->wk->n_dropped)
      fprintf(stderr, "[backtest] %s %d: %d constituent(s) (%.2f%% of the index) have no risk exposures: left out, "
              "benchmark renormalised\n", b->label, (int)w->date, w->wk->n_dropped, 100 * w->wk->dropped_weight);
    if (!w->wk->solved) { /* hold the book: no orders this week */
      fprintf(stderr, "[backtest] %s %d: not solved, the book is held this week: %s\n", b->label, (int)w->date,
              w->wk->note);
      n_held++;
      continue;
    }
    if (w->wk->res->n_relax) {
      char rel[512];
      fmt_relax(w->wk->res, rel, sizeof rel);
      fprintf(stderr, "[backtest] %s %d: relaxed %s\n", b->label, (int)w->date, rel);
    }
    int n = 0;
    if ((rc = sim_targets_add_date(tg, w->date, 0, err))) break;
    for (int i = 0; i < N && !rc; i++)
      if (w->wk->target[i] > 0) {
        stk[n] = i, wt[n++] = w->wk->target[i];
        rc = sim_targets_add(tg, w->date, i, w->wk->target[i], err);
      }
    if (!rc) rc = sim_book_submit(book, stk, wt, n, 0, err);
    if (rc) break;
    if (++n_solved % 10 == 0)
      fprintf(stderr, "[backtest] %s: %d rebalances so far, to %d, %.0f s\n", b->label, n_solved, (int)w->date,
              pipe_now() - t_start);
  }
  if (!rc && !book) rc = zz_fail(err, ZZ_EDATA, "%s: no week end in the backtest has scores to optimise", b->label);
  if (!rc) rc = sim_book_finish(book, &res, err);
  if (fw && fclose(fw) && !rc) rc = zz_fail(err, ZZ_EIO, "%s: write failed", w0path);
  snprintf(path, sizeof path, "%s/targets.csv", b->dir);
  if (!rc) rc = sim_targets_write(tg, p, path, err);
  snprintf(path, sizeof path, "%s/diagnostics.csv", b->dir);
  if (!rc) rc = write_diagnostics(path, b->label, wks, n_wk, res, err);
  if (!rc) rc = sim_result_write(res, b->dir, err);
  if (!rc) rc = pipe_stage_mark(b->dir, b->label, err);
  if (!rc)
    fprintf(stderr, "[backtest] %s: %d rebalances (%d held) in %.1f s (optimiser %.1f s); final NAV %.4f, hedged %.4f, "
            "costs %.0f CNY\n", b->label, n_solved + n_held, n_held, pipe_now() - t_start, opt_sec, res->nav[res->n_days - 1],
            res->hedged[res->n_days - 1], res->total_costs);
  if (rc) { /* nothing partial is left: the stage has no DONE, and no file but those of a complete run */
    zz_wrap(err, "backtest %s", b->label);
    static const char *const files[] = {"w0.csv", "targets.csv", "diagnostics.csv"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
      snprintf(path, sizeof path, "%s/%s", b->dir, files[k]);
      remove(path);
    }
    rmdir(b->dir); /* fails, harmlessly, when a complete earlier result is still there */
  }
  for (int k = 0; k < n_wk; k++) opt_week_free(wks[k].wk);
  free(wks), free(wb), free(w0), free(sc), free(cb), free(cs), free(stk), free(wt);
  sim_targets_free(tg);
  opt_warm_free(warm);
  sim_book_free(book);
  sim_result_free(res);
  return rc;
}

/* ---------------------------------------------------------------- all backtests */

int pipe_backtests(pipe_ctx *x, const int *todo, int n_todo, zz_err *err) {
  const pipe_config *c = x->c;
  const panel *p = x->p;
  double t0 = pipe_now();
  /* rebalance dates: week ends inside the backtest whose trade day is inside it too */
  int *wk = malloc(sizeof *wk * (size_t)(p->n_dates + 1)), n_out = 0;
  if (!wk) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  const int nw = panel_week_ends(p, wk);
  for (int k = 0; k < nw; k++)
    if (wk[k] >= x->t_first && wk[k] + c->exec_lag <= x->t_last) wk[n_out++] = wk[k];
  if (!n_out) {
    free(wk);
    return zz_fail(err, ZZ_EUSAGE, "the backtest has no week end with a following trading day");
  }
  risk_config rcfg;
  risk_default_config(&rcfg);
  rcfg.vol_halflife = c->vol_halflife;
  rcfg.corr_halflife = c->corr_halflife;
  rcfg.spec_halflife = c->spec_halflife;
  rcfg.nw_lags = c->nw_lags;
  rcfg.spec_nw_lags = c->spec_nw_lags;
  rcfg.huber_k = c->huber_k;
  rcfg.use_fundamentals = c->fundamentals;
  rcfg.min_industry_eff = c->min_industry_eff;
  rcfg.spec_shrink_q = c->spec_shrink_q;
  rcfg.spec_vol_floor = c->spec_vol_floor;
  rcfg.spec_min_days = c->spec_min_days;
  rcfg.spec_full_days = c->spec_full_days;
  fprintf(stderr, "[risk] building the risk model for %d weekly rebalance dates\n", n_out);
  risk_model *rm = NULL;
  int rc = risk_model_build(p, &rcfg, wk, n_out, &rm, err);
  free(wk);
  if (rc) return zz_wrap(err, "risk model");
  for (int k = 0; k < risk_model_n_outputs(rm) && !rc; k++) {
    risk_snapshot s;
    if ((rc = risk_model_snapshot(rm, k, &s, err))) break;
    if (!s.cov_ready)
      rc = zz_fail(err, ZZ_EDATA, "risk model: no factor covariance yet on %d (fewer than %d regression days)",
                   (int)s.date, rcfg.cov_min_days);
  }
  double t1 = pipe_now();
  if (!rc) {
    const int nwk = x->bt_workers < n_todo ? x->bt_workers : n_todo;
    const risk_stats *rs = risk_model_stats(rm);
    fprintf(stderr, "[risk] done in %.1f s: %d days regressed, %d skipped (no more stocks than factors, or a singular "
            "regression), %d of %d covariances repaired to positive definite (eigenvalues floored); %d closed-loop "
            "backtest(s) on %d worker(s)\n", t1 - t0, rs->regressions, rs->skipped_days, rs->cov_repairs,
            risk_model_n_outputs(rm), n_todo, nwk);
    if (nwk <= 1) {
      for (int k = 0; k < n_todo && !rc; k++) rc = backtest_one(x, rm, &x->bt[todo[k]], err);
    } else {
      pid_t pid[8];
      int started = 0;
      fflush(stdout), fflush(stderr);
      for (int w = 0; w < nwk; w++) {
        pid[w] = fork();
        if (pid[w] < 0) {
          rc = zz_fail(err, ZZ_EINTERNAL, "cannot start a backtest worker process");
          break;
        }
        if (pid[w] == 0) {
          zz_err e = {0};
          int r = ZZ_OK;
          for (int k = w; k < n_todo && !r; k += nwk) r = backtest_one(x, rm, &x->bt[todo[k]], &e);
          if (r) fprintf(stderr, "[backtest] worker %d: %s\n", w, e.msg);
          fflush(stderr);
          _exit(r ? (r & 0x7f) : 0);
        }
        started++;
      }
      for (int w = 0; w < started; w++) {
        int st = 0;
        if (waitpid(pid[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
          if (!rc) {
            const int code = WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : ZZ_EINTERNAL;
            rc = zz_fail(err, code, "backtest worker %d failed (its message is above)", w);
          }
        }
      }
      for (int k = 0; k < n_todo && !rc; k++)
        if (!pipe_stage_done(x->bt[todo[k]].dir))
          rc = zz_fail(err, ZZ_EINTERNAL, "%s: the backtest worker left no result", x->bt[todo[k]].label);
    }
  }
  risk_model_free(rm);
  if (!rc) fprintf(stderr, "[backtest] %d backtest(s) in %.1f s\n", n_todo, pipe_now() - t1);
  return rc;
}
