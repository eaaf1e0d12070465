/* pipe_optimise.c — the risk model at the weekly rebalance dates and the weekly optimisation of each
 * backtest (index x head x floor): the problem of each week end built in memory from the risk
 * snapshot, the index weights, the week end's scores and the previous portfolio drifted to that
 * day, solved by opt_solve; targets.csv and diagnostics.csv per backtest. Backtests are shared out
 * over optimizer.workers processes (fork: one level of parallelism; each solve is single-threaded). */
#include "pipe_internal.h"

#include "portfolio.h"
#include "risk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Adjusted close of stock i on day t, NaN when unlisted. */
static double adj_close(const panel *p, int t, int i) {
  const size_t a = panel_at(p, t, i);
  if (!(p->flags[a] & PANEL_LISTED)) return NAN;
  return p->f[PF_CLOSE][a] * p->f[PF_ADJ][a];
}

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
  for (int k = 0; k < r->n_relax && used < n; k++) {
    char a[32], b[32];
    used += (size_t)snprintf(buf + used, n - used, "%s%s:%s->%s", k ? ";" : "", r->relax[k].limit,
                             zz_fmt_double(a, sizeof a, r->relax[k].from), zz_fmt_double(b, sizeof b, r->relax[k].to));
  }
}

const char *const pipe_diag_header =
    "run,date,status,n_universe,n_members,te,te_max,max_abs_style,style_bound,max_abs_industry,industry_bound,"
    "constituent_weight,constituent_floor,turnover,turnover_max,turnover_exempt,max_active,active_max,max_weight,"
    "weight_max,forced_bounds,invested,max_violation,gap,relaxations,spec_floored,attempts,carried_members,"
    "bench_dropped,classified_universe,classified_bench,unclassified_active,unclassified_bound,note\n";

/* A week's figures that do not come from the optimiser's result. */
typedef struct diag_week {
  int n, n_mem, exempt, carried, dropped;
  int g_unc;                /* the unclassified group, -1 if none */
  double cls_u, cls_b;      /* industry coverage of the universe and of the benchmark weight */
  double max_active, max_w; /* of the targets */
} diag_week;

/* ",x", or "," alone when the value is absent (a held week has no optimiser figures). */
static void put_num(FILE *f, int present, double x) {
  char b[40];
  fputc(',', f);
  if (present) fputs(zz_fmt_double(b, sizeof b, x), f);
}

/* One row of diagnostics.csv in the order of pipe_diag_header. r = NULL: the week was held (not solved),
 * its optimiser columns stay empty and `note` says why; else the note is the optimiser's. */
static void diag_row(FILE *fd, const char *label, const char *db, const diag_week *w, const opt_result *r,
                     const char *note) {
  static const opt_result none; /* zeros: the counts of a held week */
  const int s = r != NULL;
  const opt_result *q = s ? r : &none;
  const opt_limits *L = &q->limits;
  char rel[512];
  fmt_relax(q, rel, sizeof rel);
  fprintf(fd, "%s,%s,%s,%d,%d", label, db, s ? opt_status_name(r->status) : "held", w->n, w->n_mem);
  put_num(fd, s, q->te), put_num(fd, s, L->te_max);
  put_num(fd, s, max_abs(q->style_exposure, q->n_style, -1)), put_num(fd, s, L->style_bound);
  put_num(fd, s, max_abs(q->industry_active, q->n_ind, w->g_unc)), put_num(fd, s, L->industry_bound);
  put_num(fd, s, q->constituent_weight), put_num(fd, s, L->constituent_floor);
  put_num(fd, s, q->turnover), put_num(fd, s, L->turnover_max);
  fprintf(fd, ",%d", w->exempt);
  put_num(fd, s, w->max_active), put_num(fd, s, L->active_max);
  put_num(fd, s, w->max_w), put_num(fd, s, L->weight_max);
  fprintf(fd, ",%d", q->forced_bounds);
  put_num(fd, s, q->invested), put_num(fd, s, q->max_violation), put_num(fd, s, q->gap);
  fprintf(fd, ",%s,%d,%d,%d,%d", rel, q->spec_floored, q->attempts, w->carried, w->dropped);
  put_num(fd, 1, w->cls_u), put_num(fd, 1, w->cls_b);
  put_num(fd, s && w->g_unc >= 0, s && w->g_unc >= 0 ? q->industry_active[w->g_unc] : 0);
  put_num(fd, s && w->g_unc >= 0, L->unclassified_bound);
  fputc(',', fd);
  zz_csv_write_field(fd, note);
  fputc('\n', fd);
}

/* One backtest's weekly optimisation; writes opt_dir/targets.csv, diagnostics.csv, DONE. */
static int optimise_one(pipe_ctx *x, const risk_model *rm, const pipe_bt *b, zz_err *err) {
  const pipe_config *c = x->c;
  const panel *p = x->p;
  const int N = p->n_stocks, n_out = risk_model_n_outputs(rm);
  const double *score = x->scores[b->head];
  int rc = pipe_mkdir(b->opt_dir, err);
  if (rc) return rc;
  char tpath[PIPE_PATH + 32], dpath[PIPE_PATH + 32];
  snprintf(tpath, sizeof tpath, "%s/targets.csv", b->opt_dir);
  snprintf(dpath, sizeof dpath, "%s/diagnostics.csv", b->opt_dir);
  FILE *ft = fopen(tpath, "w"), *fd = fopen(dpath, "w");
  double *wb = calloc((size_t)N, sizeof *wb), *prev = calloc((size_t)N, sizeof *prev);
  double *drift = calloc((size_t)N, sizeof *drift), *z = calloc((size_t)N, sizeof *z);
  int *uni = malloc((size_t)N * sizeof *uni);
  uint8_t *member = calloc((size_t)N, 1);
  if (!ft || !fd) rc = zz_fail(err, ZZ_EIO, "%s: cannot write targets/diagnostics", b->opt_dir);
  else if (!wb || !prev || !drift || !z || !uni || !member) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  if (!rc) {
    fprintf(ft, "date,code,weight\n");
    fputs(pipe_diag_header, fd);
  }
  opt_limits lim;
  opt_limits_default(&lim);
  lim.style_bound = c->style_bound;
  lim.industry_bound = c->industry_bound;
  lim.unclassified_bound = c->unclassified_bound;
  lim.spec_var_floor = c->spec_var_floor;
  lim.te_max = c->te_max[b->index];
  lim.constituent_floor = b->floor;
  lim.turnover_max = c->turnover_max;
  lim.active_max = c->active_max;
  lim.weight_max = c->weight_max;
  lim.cash = c->cash;
  lim.gap_tol = c->gap_tol;
  lim.max_rounds = c->max_rounds;
  lim.relax = c->relax;
  int t_prev = -1, done = 0, n_reb = 0;
  const double t_start = pipe_now();
  for (int k = 0; k < n_out && !rc; k++) {
    risk_snapshot s;
    if ((rc = risk_model_snapshot(rm, k, &s, err))) break;
    const int t = s.t;
    char db[16];
    zz_date_format(p->dates[t], db);
    /* scores of the day, standardised over the stocks that have one */
    double m = 0, v = 0;
    int ns = 0;
    for (int i = 0; i < N; i++) {
      const double sc = score[panel_at(p, t, i)];
      if (isfinite(sc)) m += sc, ns++;
    }
    if (ns < 10) continue; /* no scores this week (e.g. before the first scored day) */
    m /= ns;
    for (int i = 0; i < N; i++) {
      const double sc = score[panel_at(p, t, i)];
      if (isfinite(sc)) v += (sc - m) * (sc - m);
    }
    const double sd = ns > 1 && v > 0 ? sqrt(v / ns) : 1;
    double zmin = 0;
    for (int i = 0; i < N; i++) {
      const double sc = score[panel_at(p, t, i)];
      z[i] = isfinite(sc) ? (sc - m) / sd : NAN;
      if (isfinite(z[i]) && z[i] < zmin) zmin = z[i];
    }
    /* previous portfolio drifted to t */
    double dsum = 0;
    for (int i = 0; i < N; i++) {
      drift[i] = 0;
      if (t_prev >= 0 && prev[i] > 0) {
        const double r = adj_close(p, t, i) / adj_close(p, t_prev, i);
        if (isfinite(r) && r > 0 && s.in_universe[i]) drift[i] = prev[i] * r;
      }
      dsum += drift[i];
    }
    const int has_prev = dsum > 0;
    for (int i = 0; i < N && has_prev; i++) drift[i] /= dsum;
    /* benchmark */
    memset(member, 0, (size_t)N);
    if (panel_index_weights_drifted(p, b->index, t, wb, member) <= 0) {
      rc = zz_fail(err, ZZ_EDATA, "%s: %s has no constituent weights in force on %s", b->label, zz_index_name(b->index), db);
      break;
    }
    /* universe: risk-model stocks with a score, a benchmark weight or a holding. A suspended member is
     * in the risk snapshot with its last exposures (carried) and keeps its drifted weight; a member
     * the risk model never saw (no cap since listing) is the only one left out, and reported. */
    int n = 0, n_mem = 0, dropped = 0, n_carried = 0;
    double bsum = 0, dropped_w = 0;
    for (int i = 0; i < N; i++) {
      int ok = s.in_universe[i] && s.group[i] >= 0 && isfinite(s.specific_var[i]);
      for (int q = 0; ok && q < s.n_styles; q++) ok = isfinite(s.style[(size_t)i * s.n_styles + q]);
      if (!ok) {
        if (wb[i] > 0) dropped++, dropped_w += wb[i];
        continue;
      }
      if (isfinite(z[i]) || wb[i] > 0 || drift[i] > 0) {
        uni[n++] = i;
        bsum += wb[i];
        n_mem += wb[i] > 0;
        n_carried += wb[i] > 0 && s.carried[i];
      }
    }
    if (dropped)
      fprintf(stderr, "[optimise] %s %s: %d constituent(s) (%.2f%% of the index) never had risk exposures: left out, "
              "benchmark renormalised\n", b->label, db, dropped, 100 * dropped_w);
    opt_problem *op = NULL;
    opt_result *r = NULL;
    if ((rc = opt_problem_create(n, s.n_styles, s.n_groups, 1, &op, err))) break;
    double psum = 0;
    for (int j = 0; j < n; j++) psum += drift[uni[j]];
    for (int q = 0; q < s.n_styles; q++) snprintf(op->style_names[q], OPT_NAME_LEN, "%s", s.factor_names[q]);
    for (int g = 0; g < s.n_groups; g++) snprintf(op->ind_names[g], OPT_NAME_LEN, "%s", s.factor_names[s.n_styles + g]);
    for (int j = 0; j < n; j++) {
      const int i = uni[j];
      const size_t a = panel_at(p, t, i);
      snprintf(op->codes[j], ZZ_CODE_LEN, "%s", p->stocks[i].code);
      op->score[j] = isfinite(z[i]) ? z[i] : zmin;
      op->bench[j] = wb[i] / bsum;
      op->prev[j] = has_prev ? drift[i] / psum : 0;
      memcpy(op->style + (size_t)j * s.n_styles, s.style + (size_t)i * s.n_styles, sizeof(double) * (size_t)s.n_styles);
      op->ind[j] = s.group[i];
      op->spec_var[j] = s.specific_var[i];
      const unsigned fl = p->flags[a];
      const int susp = (fl & PANEL_SUSPENDED) || !(fl & PANEL_LISTED) || s.carried[i]; /* carried: no bar */
      op->can_buy[j] = !susp && !(fl & PANEL_LIMIT_UP);
      op->can_sell[j] = !susp && !(fl & PANEL_LIMIT_DOWN);
    }
    op->has_prev = has_prev;
    memcpy(op->fcov, s.factor_cov, sizeof(double) * (size_t)s.n_factors * (size_t)s.n_factors);
    /* industry coverage of the week: universe and benchmark weight outside the unclassified group */
    const int g_unc = opt_problem_unclassified(op);
    double cls_u = 0, cls_b = 0;
    for (int j = 0; j < n; j++)
      if (op->ind[j] != g_unc) cls_u += 1, cls_b += op->bench[j];
    cls_u = n ? cls_u / n : NAN;
    diag_week wk = {n, n_mem, !has_prev, n_carried, dropped, g_unc, cls_u, cls_b, NAN, NAN};
    zz_err oe = {0};
    rc = opt_solve(op, &lim, &r, &oe);
    if (rc == ZZ_ENUMERIC) {
      /* the week cannot be solved: hold the current book (no orders), mark it, and go on */
      fprintf(stderr, "[optimise] %s %s: not solved, the book is held this week: %s\n", b->label, db, oe.msg);
      diag_row(fd, b->label, db, &wk, NULL, oe.msg);
      memcpy(prev, drift, sizeof *prev * (size_t)N); /* the held book, drifted to this week */
      if (has_prev) t_prev = t;
      rc = ZZ_OK;
      n_reb++;
      opt_problem_free(op);
      continue;
    }
    if (rc) {
      zz_fail(err, rc, "%s: optimisation of %s: %s", b->label, db, oe.msg);
      opt_problem_free(op);
      break;
    }
    /* targets: weights > 0, scaled into the simulator's sum <= 1 */
    double wsum = 0;
    for (int j = 0; j < n; j++) wsum += r->weights[j] > 0 ? r->weights[j] : 0;
    const double scale = wsum > 1 ? 1 / wsum : 1;
    memset(prev, 0, sizeof *prev * (size_t)N);
    double max_active = -1, max_w = 0;
    for (int j = 0; j < n; j++) {
      const double w = r->weights[j] > 0 ? r->weights[j] * scale : 0;
      prev[uni[j]] = w;
      if (w - op->bench[j] > max_active) max_active = w - op->bench[j];
      if (w > max_w) max_w = w;
      if (w > 1e-12) {
        char nb[40];
        fprintf(ft, "%s,%s,%s\n", db, op->codes[j], zz_fmt_double(nb, sizeof nb, w));
      }
    }
    t_prev = t;
    wk.max_active = max_active, wk.max_w = max_w;
    diag_row(fd, b->label, db, &wk, r, r->note);
    if (r->n_relax) {
      char rel[512];
      fmt_relax(r, rel, sizeof rel);
      fprintf(stderr, "[optimise] %s %s: relaxed %s\n", b->label, db, rel);
    }
    n_reb++;
    opt_result_free(r);
    opt_problem_free(op);
    if (++done % 10 == 0)
      fprintf(stderr, "[optimise] %s: %d rebalances (%s), %.0f s\n", b->label, done, db, pipe_now() - t_start);
  }
  if (!rc && n_reb == 0)
    rc = zz_fail(err, ZZ_EDATA, "%s: no week end in the backtest has scores to optimise", b->label);
  if (ft && fclose(ft) && !rc) rc = zz_fail(err, ZZ_EIO, "%s: write failed", tpath);
  if (fd && fclose(fd) && !rc) rc = zz_fail(err, ZZ_EIO, "%s: write failed", dpath);
  free(wb), free(prev), free(drift), free(z), free(uni), free(member);
  if (!rc) rc = pipe_stage_mark(b->opt_dir, b->label, err);
  if (!rc) fprintf(stderr, "[optimise] %s: %d rebalances in %.1f s\n", b->label, n_reb, pipe_now() - t_start);
  return rc;
}

int pipe_optimise(pipe_ctx *x, const int *todo, int n_todo, zz_err *err) {
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
  pipe_timer_add(x, "risk model", t1 - t0, 0);
  if (!rc) {
    fprintf(stderr, "[risk] done in %.1f s; optimising %d backtest(s) on %d worker(s)\n", t1 - t0, n_todo,
            c->workers < n_todo ? c->workers : n_todo);
    const int nwk = c->workers < n_todo ? c->workers : n_todo;
    if (nwk <= 1) {
      for (int k = 0; k < n_todo && !rc; k++) rc = optimise_one(x, rm, &x->bt[todo[k]], err);
    } else {
      pid_t pid[8];
      int started = 0;
      fflush(stdout), fflush(stderr);
      for (int w = 0; w < nwk; w++) {
        pid[w] = fork();
        if (pid[w] < 0) {
          rc = zz_fail(err, ZZ_EINTERNAL, "cannot start an optimiser worker process");
          break;
        }
        if (pid[w] == 0) {
          zz_err e = {0};
          int r = ZZ_OK;
          for (int k = w; k < n_todo && !r; k += nwk) r = optimise_one(x, rm, &x->bt[todo[k]], &e);
          if (r) fprintf(stderr, "[optimise] worker %d: %s\n", w, e.msg);
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
            rc = zz_fail(err, code, "optimiser worker %d failed (its message is above)", w);
          }
        }
      }
      for (int k = 0; k < n_todo && !rc; k++)
        if (!pipe_stage_done(x->bt[todo[k]].opt_dir))
          rc = zz_fail(err, ZZ_EINTERNAL, "%s: the optimiser worker left no result", x->bt[todo[k]].label);
    }
  }
  risk_model_free(rm);
  char tn[48];
  snprintf(tn, sizeof tn, "optimise (%d backtests)", n_todo);
  pipe_timer_add(x, tn, pipe_now() - t1, 0);
  return rc;
}
