/* opt_solve.c — opt_solve: feasibility and the anchor point, relaxation in the fixed order of
 * opt_relax.c, the cutting-plane loop with dual-simplex warm starts, and certification by pulling the
 * LP point toward the anchor until TE = TE_max (SPEC 7). */
#include "opt_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ANCHOR_PREV = 0, ANCHOR_BENCH = 1, ANCHOR_LP = 2, ANCHOR_NONE = 3, ANCHOR_MIX = 4, ANCHOR_TRADABLE = 5 };
#define LINEAR_TOL 1e-9 /* fractions; the LP is in percent with GLPK's 1e-7 tolerance */

static double objective(const opt_problem *p, const double *w) {
  double s = 0;
  for (int i = 0; i < p->n; i++) s += p->score[i] * w[i];
  return s;
}

static int point_ok(const opt_model *m, const opt_limits *lim, const double *w) {
  opt_eval ev = {0};
  opt_evaluate(m, lim, w, &ev);
  return ev.max_violation <= LINEAR_TOL && (!m->use_te || ev.te <= lim->te_max);
}

static int mix_path(opt_model *m, const opt_limits *lim, const double *pv, const double *t, double d, double *wa);

/* Anchor between the previous book and the benchmark: w(l) = pv + l (t - pv). pv is the previous book,
 * fully invested: a book holding cash d (the simulator's real book) has the cash put into the benchmark
 * members it may buy, pro rata. t is the benchmark, except that a stock that cannot move toward its
 * benchmark weight (it cannot be sold and is above it, or cannot be bought and is below it: suspended
 * or at a price limit) stays where it is, the other members scaled to keep the budget. Every linear
 * limit is linear in l and TE(w(l))^2 is a convex quadratic in l (TE(pv) (1 - l) when nothing is
 * frozen); turnover against the real book is at most d + l sum|t - pv| / 2 (counted conservatively).
 * The feasible l form an interval; the smallest (closest to the current book) is taken, and the point
 * is checked exactly at the end. */
static int mix_anchor(opt_model *m, const opt_limits *lim, double *wa) {
  const opt_problem *p = m->p;
  const int n = p->n;
  if (!p->has_prev || lim->cash > 0) return 0;
  double d = 1.0, room = 0.0;
  for (int i = 0; i < n; i++) d -= p->prev[i];
  double *pv = malloc(sizeof *pv * (size_t)(2 * n + 1)), *t = pv + n;
  if (!pv) return 0;
  for (int i = 0; i < n; i++)
    if (m->hi[i] > p->prev[i]) room += p->bench[i];
  if (d > 1e-12 && !(room > 0)) {
    free(pv);
    return 0;
  }
  for (int i = 0; i < n; i++) pv[i] = p->prev[i] + (d > 1e-12 && m->hi[i] > p->prev[i] ? d * p->bench[i] / room : 0.0);
  if (!(d > 1e-12)) d = 0;
  double frozen = 0, movable = 0, total = 0;
  for (int i = 0; i < n; i++) {
    const int stuck = (p->bench[i] < pv[i] && m->lo[i] >= pv[i]) || (p->bench[i] > pv[i] && m->hi[i] <= pv[i]);
    t[i] = stuck ? -1.0 : p->bench[i];
    if (stuck) frozen += pv[i];
    else movable += p->bench[i];
    total += pv[i];
  }
  int ok = movable > 0 && total - frozen > 0;
  for (int i = 0; ok && i < n; i++) t[i] = t[i] < 0 ? pv[i] : t[i] * (total - frozen) / movable;
  if (ok) ok = mix_path(m, lim, pv, t, d, wa);
  free(pv);
  return ok;
}

/* The mix anchor's search along w(l) = pv + l (t - pv); d: the cash pv invested. */
static int mix_path(opt_model *m, const opt_limits *lim, const double *pv, const double *t, double d, double *wa) {
  const opt_problem *p = m->p;
  int n = p->n, ns = p->n_style, ni = p->n_ind, nf = m->nf;
  double lo = 0, hi = 1;
  int bad = 0;
#define NEED_LE(g0, g1, c) /* g0 + l (g1 - g0) <= c */                                             \
  do {                                                                                               \
    double g0_ = (g0), dg_ = (g1) - g0_, c_ = (c);                                                   \
    if (fabs(dg_) < 1e-300) {                                                                        \
      if (g0_ > c_ + 1e-12) bad = 1;                                                                 \
    } else if (dg_ > 0) hi = fmin(hi, (c_ - g0_) / dg_);                                             \
    else lo = fmax(lo, (c_ - g0_) / dg_);                                                            \
  } while (0)
  double tb = 0, cp = 0, ct = 0;
  for (int i = 0; i < n; i++) {
    NEED_LE(pv[i], t[i], m->hi[i]);
    NEED_LE(-pv[i], -t[i], -m->lo[i]);
    tb += fabs(t[i] - pv[i]);
    if (p->bench[i] > 0) cp += pv[i], ct += t[i];
  }
  NEED_LE(d, d + 0.5 * tb, lim->turnover_max);
  if (lim->constituent_floor > 0) NEED_LE(-cp, -ct, -lim->constituent_floor);
  /* exposures and TE: a(l) = (1 - l) a0 + l a1 with a0 = pv - bench, a1 = t - bench */
  double *a = m->work_a, *e0 = malloc(sizeof *e0 * (size_t)(4 * nf + 2)), *e1 = e0 + nf, *u0 = e1 + nf, *u1 = u0 + nf;
  if (!e0) return 0;
  double s00 = 0, s01 = 0, s11 = 0;
  for (int i = 0; i < n; i++) a[i] = pv[i] - p->bench[i];
  opt_exposures(p, a, e0);
  for (int i = 0; i < n; i++) {
    const double a1 = t[i] - p->bench[i];
    s00 += p->spec_var[i] * a[i] * a[i], s01 += p->spec_var[i] * a[i] * a1, s11 += p->spec_var[i] * a1 * a1;
    a[i] = a1;
  }
  opt_exposures(p, a, e1);
  opt_factor_var(m->L, nf, e0, u0);
  opt_factor_var(m->L, nf, e1, u1);
  for (int f = 0; f < nf; f++) s00 += u0[f] * u0[f], s01 += u0[f] * u1[f], s11 += u1[f] * u1[f];
  for (int k = 0; k < ns; k++) {
    NEED_LE(e0[k], e1[k], lim->style_bound);
    NEED_LE(-e0[k], -e1[k], lim->style_bound);
  }
  for (int j = 0; j < ni; j++) {
    const double b = opt_group_bound(m, lim, j);
    NEED_LE(e0[ns + j], e1[ns + j], b);
    NEED_LE(-e0[ns + j], -e1[ns + j], b);
  }
  free(e0);
#undef NEED_LE
  if (bad) return 0;
  /* TE^2(l) = s00 (1-l)^2 + 2 s01 l (1-l) + s11 l^2 = C + 2 B l + A l^2 <= te_max^2 */
  const double C = s00, B = s01 - s00, A = s00 - 2 * s01 + s11, T2 = lim->te_max * lim->te_max;
  if (A > 1e-300) {
    const double disc = B * B - A * (C - T2);
    if (disc < 0) return 0;
    const double r = sqrt(disc);
    lo = fmax(lo, (-B - r) / A);
    hi = fmin(hi, (-B + r) / A);
  } else if (fabs(B) > 1e-300) {
    if (B > 0) hi = fmin(hi, (T2 - C) / (2 * B));
    else lo = fmax(lo, (T2 - C) / (2 * B));
  } else if (C > T2) return 0;
  if (lo > hi) return 0;
  lo += fmin(1e-6, 0.5 * (hi - lo)); /* off the boundary, clear of rounding */
  for (int i = 0; i < n; i++) wa[i] = pv[i] + lo * (t[i] - pv[i]);
  return point_ok(m, lim, wa);
}

/* The benchmark made tradable: each weight clipped to its stock's bounds (a member that cannot be
 * bought, a holding that cannot be sold), the difference to the budget spread over the members with
 * room, pro rata to their weights (two passes). An anchor candidate when the benchmark itself breaks a
 * stock bound; its TE is the small active risk of the redistribution. */
static int tradable_bench_anchor(opt_model *m, const opt_limits *lim, double *wa) {
  const opt_problem *p = m->p;
  const int n = p->n;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += wa[i] = fmin(m->hi[i], fmax(m->lo[i], p->bench[i]));
  for (int pass = 0; pass < 2; pass++) {
    const double gap = (1 - lim->cash) - sum;
    double room = 0;
    for (int i = 0; i < n; i++)
      if (p->bench[i] > 0 && (gap > 0 ? wa[i] < m->hi[i] : wa[i] > m->lo[i])) room += p->bench[i];
    if (fabs(gap) < 1e-15 || !(room > 0)) break;
    sum = 0;
    for (int i = 0; i < n; i++) {
      if (p->bench[i] > 0 && (gap > 0 ? wa[i] < m->hi[i] : wa[i] > m->lo[i]))
        wa[i] = fmin(m->hi[i], fmax(m->lo[i], wa[i] + gap * p->bench[i] / room));
      sum += wa[i];
    }
  }
  return point_ok(m, lim, wa);
}

/* Solves the LP under lim and finds an anchor for the certification: none is needed when the LP
 * point meets the TE limit; else the previous book, the benchmark, a mix of the two, or a point of
 * the LP minimising the TE model. Returns 0 when the limits can all hold (anchor in wa, kind in
 * *kind), 1 when they cannot, or an error status. */
static int find_anchor(opt_model *m, const opt_limits *lim, double *wa, int *kind, zz_err *err) {
  const opt_problem *p = m->p;
  opt_model_apply_limits(m, lim);
  int st = opt_model_simplex(m, m->solved_once, err);
  if (st) return st;
  opt_model_weights(m, wa);
  *kind = ANCHOR_NONE;
  if (!m->use_te) return 0;
  double rho = (lim->te_max / m->te_ref) * (lim->te_max / m->te_ref);
  const double te2 = opt_model_te2(m, wa);
  if (te2 <= rho) return 0;
  if (!m->seeded) { /* first tangents: at the LP point pulled radially onto the TE limit (and warm: the
                       previous week's) */
    opt_model_seed_scaled(m, sqrt(rho / te2));
    if (m->warm_from) opt_warm_apply(m->warm_from, m);
    m->seeded = 1;
  }
  if (p->has_prev && point_ok(m, lim, p->prev)) {
    memcpy(wa, p->prev, (size_t)p->n * sizeof *wa);
    *kind = ANCHOR_PREV;
    return 0;
  }
  if (point_ok(m, lim, p->bench)) {
    memcpy(wa, p->bench, (size_t)p->n * sizeof *wa);
    *kind = ANCHOR_BENCH;
    return 0;
  }
  if (mix_anchor(m, lim, wa)) {
    *kind = ANCHOR_MIX;
    return 0;
  }
  if (tradable_bench_anchor(m, lim, wa)) {
    *kind = ANCHOR_TRADABLE;
    return 0;
  }
  /* minimise the TE model over the other limits until a point with TE <= te_max appears, on a copy
   * of the LP (with its basis), so that the main LP keeps its optimal basis for the warm starts */
  glp_prob *main_lp = m->lp;
  const int n_cuts = m->n_cuts;
  m->lp = glp_create_prob();
  glp_copy_prob(m->lp, main_lp, GLP_OFF);
  opt_model_min_te_objective(m);
  int found = 1;
  for (int round = 0; round < lim->max_rounds; round++) {
    st = opt_model_simplex(m, 0, err);
    if (st) {
      found = st;
      break;
    }
    if (glp_get_obj_val(m->lp) > rho * (1 + 1e-9) + 1e-12) break; /* even the outer model exceeds te_max */
    opt_model_weights(m, wa);
    if (opt_model_te2(m, wa) <= rho) {
      *kind = ANCHOR_LP;
      found = 0;
      break;
    }
    if (opt_model_add_cuts(m, rho) == 0) break;
  }
  glp_delete_prob(m->lp);
  m->lp = main_lp;
  opt_model_truncate_cuts(m, n_cuts); /* the copy's cuts went with it */
  return found;
}

/* Largest theta in [0, 1] with TE(wa + theta (w - wa))^2 <= rho te_ref^2 (TE(wa) within the limit):
 * the quadratic C + 2 B theta + A theta^2 in factor form. */
static double mix_theta(opt_model *m, const double *wa, const double *w, double rho, double *scratch) {
  const opt_problem *p = m->p;
  int n = p->n, nf = m->nf;
  double *aA = scratch, *dl = scratch + n, *eA = scratch + 2 * n, *ed = eA + nf, *uA = ed + nf, *ud = uA + nf;
  for (int i = 0; i < n; i++) {
    aA[i] = wa[i] - p->bench[i];
    dl[i] = w[i] - wa[i];
  }
  opt_exposures(p, aA, eA);
  opt_exposures(p, dl, ed);
  opt_factor_var(m->L, nf, eA, uA);
  opt_factor_var(m->L, nf, ed, ud);
  double A = 0, B = 0, C = 0;
  for (int f = 0; f < nf; f++) {
    A += ud[f] * ud[f];
    B += uA[f] * ud[f];
    C += uA[f] * uA[f];
  }
  for (int i = 0; i < n; i++) {
    double D = p->spec_var[i];
    A += D * dl[i] * dl[i];
    B += D * aA[i] * dl[i];
    C += D * aA[i] * aA[i];
  }
  double T2 = rho * m->te_ref * m->te_ref, slack = T2 - C;
  if (A + 2 * B + C <= T2) return 1.0;
  if (slack <= 0 || A <= 0) return 0.0;
  double disc = sqrt(B * B + A * slack), th;
  if (B <= 0) th = (-B + disc) / A;
  else th = slack / (B + disc);
  th *= 1 - 1e-12;
  return th < 0 ? 0 : th > 1 ? 1 : th;
}

/* The cutting-plane loop. wa: the anchor. fresh: the LP is solved as it stands (find_anchor found its
 * point within TE, nothing added since), so its first round needs no simplex. Writes the returned point
 * into res->weights. */
static int cut_loop(opt_model *m, const opt_limits *lim, const double *wa, int fresh, opt_result *res, zz_err *err) {
  const opt_problem *p = m->p;
  int n = p->n;
  double rho = (lim->te_max / m->te_ref) * (lim->te_max / m->te_ref);
  double *w = m->work_w, *cand = malloc(((size_t)n * 3 + 4 * (size_t)m->nf + 4) * sizeof *cand);
  if (!cand) return zz_fail(err, ZZ_ENOMEM, "optimizer: out of memory");
  double *scratch = cand + n;
  double best = -INFINITY, ub = INFINITY;
  int rc = ZZ_OK;
  res->status = OPT_OPTIMAL;
  memcpy(res->weights, wa, (size_t)n * sizeof *wa); /* the anchor is always feasible */
  best = objective(p, wa);
  for (int round = 0;; round++) {
    int st = round == 0 && fresh ? 0 : opt_model_simplex(m, m->solved_once, err);
    if (st == 1) { /* numerically infeasible after the anchor was found: keep the anchor */
      res->status = OPT_GAP;
      break;
    }
    if (st) {
      rc = st;
      break;
    }
    res->rounds = round + 1;
    ub = glp_get_obj_val(m->lp) / 100.0;
    opt_model_weights(m, w);
    double te2 = m->use_te ? opt_model_te2(m, w) : 0.0;
    if (!m->use_te || te2 <= rho) {
      memcpy(res->weights, w, (size_t)n * sizeof *w);
      best = objective(p, w);
      break;
    }
    double th = mix_theta(m, wa, w, rho, scratch);
    for (int i = 0; i < n; i++) cand[i] = wa[i] + th * (w[i] - wa[i]);
    double lb = objective(p, cand);
    if (lb > best) {
      best = lb;
      memcpy(res->weights, cand, (size_t)n * sizeof *cand);
    }
    double gap = (ub - best) / fmax(fabs(ub), 1e-12);
    if (m->trace)
      fprintf(stderr, "opt: round %d: TE^2/TE_max^2 %.6f, theta %.6f, upper %.10g, lower %.10g, gap %.2e, %d cuts\n",
              round + 1, te2 / rho, th, ub, best, gap, m->n_cuts);
    if (gap <= lim->gap_tol) break; /* optimal means certified: the returned point within gap_tol */
    if (round + 1 >= lim->max_rounds || opt_model_add_cuts(m, rho) == 0) {
      res->status = OPT_GAP;
      break;
    }
  }
  free(cand);
  res->objective = best;
  res->upper_bound = ub < best ? best : ub;
  /* no LP bound at all (the first re-solve failed): the gap is unknown, reported as infinite */
  res->gap = isfinite(res->upper_bound) ? (res->upper_bound - best) / fmax(fabs(res->upper_bound), 1e-12) : INFINITY;
  return rc;
}

static void add_relaxation(opt_result *res, int stage, double from, double to, int steps) {
  if (res->n_relax >= OPT_MAX_RELAX) return;
  opt_relaxation *r = &res->relax[res->n_relax++];
  snprintf(r->limit, sizeof r->limit, "%s", opt_relax_name(stage));
  r->from = from;
  r->to = to;
  r->steps = steps;
}

/* Relaxes in the fixed order until an anchor exists: first each stage on its own (the first stage that
 * alone restores feasibility, with the fewest steps), then all stages cumulatively. */
static int relax_until_feasible(opt_model *m, const opt_limits *base, opt_limits *cur, double *wa, int *kind,
                                opt_result *res, zz_err *err) {
  for (int s = 0; s < OPT_RELAX_N; s++) {
    *cur = *base;
    for (int steps = 1; opt_relax_step(s, m, base, cur); steps++) {
      int r = find_anchor(m, cur, wa, kind, err);
      if (r == 0) {
        add_relaxation(res, s, *opt_relax_field(s, (opt_limits *)base), *opt_relax_field(s, cur), steps);
        return 0;
      }
      if (r != 1) return r;
    }
  }
  *cur = *base;
  for (int s = 0; s < OPT_RELAX_N; s++) {
    int steps = 0, r = 1;
    while (opt_relax_step(s, m, base, cur)) {
      steps++;
      r = find_anchor(m, cur, wa, kind, err);
      if (r == 0) break;
      if (r != 1) return r;
    }
    if (steps) add_relaxation(res, s, *opt_relax_field(s, (opt_limits *)base), *opt_relax_field(s, cur), steps);
    if (r == 0 && steps) return 0;
  }
  return 1;
}

void opt_result_free(opt_result *r) {
  if (!r) return;
  free(r->weights);
  free(r->style_exposure);
  free(r->industry_active);
  free(r);
}

const char *opt_status_name(opt_status s) { return s == OPT_OPTIMAL ? "optimal" : "gap"; }

/* One complete solve under GLPK settings `attempt` into res (weights and diagnostics). */
static int solve_attempt(const opt_problem *p, const opt_limits *lim, int attempt, opt_warm *warm, opt_result *res,
                         double *wa, int *glpk_failed, zz_err *err) {
  opt_model *m = NULL;
  int rc = opt_model_build(p, lim, attempt, &m, err);
  if (rc) return rc;
  m->warm_from = attempt == 0 ? warm : NULL; /* retries with other settings start cold */
  res->forced_bounds = m->forced;
  res->n_relax = 0;
  res->rounds = 0;

  /* the budget must fit between the stock bounds: no relaxation of SPEC 7 can change that */
  double slo = 0, shi = 0, budget = 1 - lim->cash;
  for (int i = 0; i < p->n; i++) {
    slo += m->lo[i];
    shi += m->hi[i];
  }
  if (slo > budget + LINEAR_TOL || shi < budget - LINEAR_TOL) {
    rc = zz_fail(err, ZZ_ENUMERIC,
                 "optimizer: infeasible: the per-stock bounds allow a total weight in [%.6g, %.6g] but %.6g must be "
                 "invested (raise active_max / weight_max, or check tradable.csv and previous.csv)",
                 slo, shi, budget);
    goto done;
  }
  opt_limits cur = *lim;
  int kind = ANCHOR_NONE;
  rc = find_anchor(m, &cur, wa, &kind, err);
  if (rc == 1) {
    if (!lim->relax) {
      rc = zz_fail(err, ZZ_ENUMERIC, "optimizer: the limits cannot all hold (relaxation is off: relax = 0)");
      goto done;
    }
    rc = relax_until_feasible(m, lim, &cur, wa, &kind, res, err);
    if (rc == 1) {
      rc = zz_fail(err, ZZ_ENUMERIC,
                   "optimizer: infeasible even with every limit relaxed to its cap (turnover 100 %%, style +1.0, "
                   "industry +5 %%, TE +5 %%, no constituent floor); per-stock bounds allow [%.6g, %.6g]",
                   slo, shi);
      goto done;
    }
  }
  if (rc) goto done;
  res->anchor = kind;
  if ((rc = cut_loop(m, &cur, wa, kind == ANCHOR_NONE, res, err))) goto done;

  /* diagnostics of the returned point against the limits in force */
  opt_eval ev = {0};
  ev.style = res->style_exposure;
  ev.industry = res->industry_active;
  opt_evaluate(m, &cur, res->weights, &ev);
  res->te = ev.te;
  res->te_factor = ev.te_factor;
  res->te_specific = ev.te_specific;
  res->turnover = ev.turnover;
  res->constituent_weight = ev.constituent;
  res->invested = ev.invested;
  res->max_violation = ev.max_violation;
  res->limits = cur;
  res->cuts_factor = m->cuts_q;
  res->cuts_specific = m->cuts_p;
  res->seed_cuts = m->seed_cuts;
  res->warm = m->warm;
  if (warm && !opt_warm_capture(warm, m, res->weights)) opt_warm_forget(warm);
done:
  if (rc && warm) opt_warm_forget(warm);
  *glpk_failed = m->glpk_failed;
  res->lp_iterations += m->lp_iter; /* every attempt's iterations count */
  opt_model_free(m);
  return rc;
}

static void note_add(opt_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_add(opt_result *res, const char *fmt, ...) {
  size_t used = strlen(res->note);
  if (used + 3 >= sizeof res->note) return;
  if (used) used += (size_t)snprintf(res->note + used, sizeof res->note - used, "; ");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res->note + used, sizeof res->note - used, fmt, ap);
  va_end(ap);
}

int opt_solve(const opt_problem *p, const opt_limits *lim, opt_result **out, zz_err *err) {
  return opt_solve_warm(p, lim, NULL, out, err);
}

int opt_solve_warm(const opt_problem *p, const opt_limits *lim, opt_warm *warm, opt_result **out, zz_err *err) {
  *out = NULL;
  double t0 = opt_now();
  int rc = opt_problem_check(p, err);
  if (rc) return rc;
  if (lim->cash < 0 || lim->cash >= 1 || lim->style_bound < 0 || lim->industry_bound < 0 ||
      lim->unclassified_bound < 0 || lim->turnover_max < 0 || lim->active_max < 0 || lim->weight_max <= 0 ||
      lim->constituent_floor < 0 || lim->constituent_floor > 1 || lim->max_rounds < 1 || !(lim->gap_tol > 0) ||
      !(lim->spec_var_floor >= 0))
    return zz_fail(err, ZZ_EUSAGE, "optimizer: a limit is out of range (cash in [0,1), bounds >= 0, weight_max > 0, "
                                   "floor in [0,1], max_rounds >= 1, gap_tol > 0, spec_var_floor >= 0)");
  opt_result *res = calloc(1, sizeof *res);
  double *wa = NULL, *spec = NULL;
  if (!res || !(res->weights = calloc((size_t)p->n, sizeof(double))) ||
      !(res->style_exposure = calloc((size_t)p->n_style + 1, sizeof(double))) ||
      !(res->industry_active = calloc((size_t)p->n_ind + 1, sizeof(double))) ||
      !(wa = calloc((size_t)p->n, sizeof *wa)) || !(spec = malloc((size_t)p->n * sizeof *spec + 1))) {
    rc = zz_fail(err, ZZ_ENOMEM, "optimizer: out of memory");
    goto done;
  }
  res->n = p->n;
  res->n_style = p->n_style;
  res->n_ind = p->n_ind;

  /* Repair before GLPK sees the problem: a specific variance of ~0 (a stock alone in its industry
   * factor, whose return the factor absorbed) puts coefficients of 1e-30 beside ones of 1 in the TE
   * row, and GLPK's simplex fails on the scaled LP. The floor is a variance no stock has in practice. */
  opt_problem q = *p;
  double smin = INFINITY;
  for (int i = 0; i < p->n; i++) {
    spec[i] = p->spec_var[i];
    if (spec[i] < lim->spec_var_floor) {
      if (spec[i] < smin) smin = spec[i];
      spec[i] = lim->spec_var_floor;
      res->spec_floored++;
    }
  }
  q.spec_var = spec;
  if (res->spec_floored)
    note_add(res, "%d specific variance(s) below %g raised to it (smallest %g)", res->spec_floored,
             lim->spec_var_floor, smin);

  int glpk_failed = 0;
  zz_err first = {0};
  for (int attempt = 0; attempt < OPT_ATTEMPTS; attempt++) {
    res->attempts = attempt + 1;
    zz_err e = {0};
    rc = solve_attempt(&q, lim, attempt, warm, res, wa, &glpk_failed, &e);
    if (rc == ZZ_OK || !glpk_failed) {
      if (rc) zz_fail(err, rc, "%s", e.msg);
      break;
    }
    if (attempt == 0) first = e;
    if (attempt + 1 == OPT_ATTEMPTS)
      zz_fail(err, rc, "%s (also with the %d other GLPK settings of docs/optimizer.md; first failure: %s)", e.msg,
              OPT_ATTEMPTS - 1, first.msg);
  }
  if (rc) goto done;
  if (res->attempts > 1)
    note_add(res, "GLPK failed with the default settings (%s); solved with settings %d", first.msg, res->attempts - 1);
  res->solve_seconds = opt_now() - t0;
done:
  free(wa);
  free(spec);
  if (rc) {
    opt_result_free(res);
    return rc;
  }
  *out = res;
  return ZZ_OK;
}
