/* opt_week.c — the weekly rebalance step: from the day's scores, risk snapshot, benchmark weights and
 * the real book (from the simulator) to the target weights and the week's diagnostics. The problem
 * is built in memory (universe, standardised scores with unscored stocks neutral, benchmark
 * renormalised over the modelled members, tradability) and solved by opt_solve; a week opt_solve
 * cannot solve is held (the target is the book itself). */
#include "opt_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void opt_targets(const opt_problem *p, const opt_result *r, double *w) {
  double total = 0;
  for (int j = 0; j < p->n; j++) {
    w[j] = r->weights[j] > 0 ? r->weights[j] : 0.0;
    if (w[j] < 1e-12 && !(p->has_prev && w[j] == p->prev[j])) w[j] = 0.0;
    total += w[j];
  }
  const double room = 1.0 - r->limits.cash; /* the solver's tolerance: never more than the book */
  if (total > room && total > 0)
    for (int j = 0; j < p->n; j++) w[j] *= room / total;
}

void opt_week_free(opt_week *w) {
  if (!w) return;
  opt_result_free(w->res);
  free(w->target);
  free(w);
}

/* A stock the risk model can price: in its universe (or carried) with a group, finite exposures and a
 * specific variance. */
static int modelled(const risk_snapshot *s, int i) {
  int ok = s->in_universe[i] && s->group[i] >= 0 && isfinite(s->specific_var[i]);
  for (int q = 0; ok && q < s->n_styles; q++) ok = isfinite(s->style[(size_t)i * s->n_styles + q]);
  return ok;
}

int opt_week_solve(const opt_week_in *in, const opt_limits *lim0, opt_week **out, zz_err *err) {
  *out = NULL;
  const panel *p = in->p;
  const risk_snapshot *s = in->risk;
  const int N = p->n_stocks;
  opt_week *wk = calloc(1, sizeof *wk);
  double *z = malloc(sizeof *z * (size_t)N);
  int *uni = malloc(sizeof *uni * (size_t)N);
  if (wk) wk->target = calloc((size_t)N, sizeof *wk->target);
  if (!wk || !z || !uni || !wk->target) {
    free(z), free(uni), opt_week_free(wk);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the weekly rebalance (%d stocks)", N);
  }
  wk->g_unc = -1;
  zz_zscore(in->score, N, z);
  /* the universe: modelled stocks that may be bought with a score, benchmark members and holdings.
   * A holding the risk model cannot price stays as it is, outside the problem ("fixed"); a member it
   * cannot price is left out and the benchmark renormalised ("dropped"). */
  int n = 0;
  double bsum = 0, fixed_w = 0, cash0 = 1;
  for (int i = 0; i < N; i++) cash0 -= in->w0[i];
  for (int i = 0; i < N; i++) {
    const double b = in->bench[i], h = in->w0[i];
    if (!modelled(s, i)) {
      if (b > 0) wk->n_dropped++, wk->dropped_weight += b;
      if (h > 0) wk->n_fixed++, fixed_w += h, wk->target[i] = h;
      continue;
    }
    if (!isfinite(z[i]) && b > 0) wk->n_unscored++;
    if ((isfinite(z[i]) && in->can_buy[i]) || b > 0 || h > 0) {
      uni[n++] = i;
      bsum += b;
      wk->n_members += b > 0;
      wk->n_carried += b > 0 && s->carried[i];
    }
  }
  opt_problem *op = NULL;
  int rc = ZZ_OK;
  if (!(bsum > 0)) rc = zz_fail(err, ZZ_EDATA, "no benchmark member of the day can be priced by the risk model");
  if (!rc) rc = opt_problem_create(n, s->n_styles, s->n_groups, 1, &op, err);
  if (rc) {
    free(z), free(uni), opt_week_free(wk);
    return rc;
  }
  for (int q = 0; q < s->n_styles; q++) snprintf(op->style_names[q], OPT_NAME_LEN, "%s", s->factor_names[q]);
  for (int g = 0; g < s->n_groups; g++) snprintf(op->ind_names[g], OPT_NAME_LEN, "%s", s->factor_names[s->n_styles + g]);
  for (int j = 0; j < n; j++) {
    const int i = uni[j];
    snprintf(op->codes[j], ZZ_CODE_LEN, "%s", p->stocks[i].code);
    op->score[j] = isfinite(z[i]) ? z[i] : 0.0; /* unscored: neutral */
    op->bench[j] = in->bench[i] / bsum;
    op->prev[j] = in->exempt ? 0.0 : in->w0[i];
    memcpy(op->style + (size_t)j * s->n_styles, s->style + (size_t)i * s->n_styles, sizeof(double) * (size_t)s->n_styles);
    op->ind[j] = s->group[i];
    op->spec_var[j] = s->specific_var[i];
    op->can_buy[j] = in->can_buy[i] != 0;
    op->can_sell[j] = in->can_sell[i] != 0;
  }
  op->has_prev = !in->exempt;
  memcpy(op->fcov, s->factor_cov, sizeof(double) * (size_t)s->n_factors * (size_t)s->n_factors);
  wk->n_universe = n;
  wk->g_unc = opt_problem_unclassified(op);
  double cls_u = 0;
  for (int j = 0; j < n; j++)
    if (op->ind[j] != wk->g_unc) cls_u += 1, wk->classified_bench += op->bench[j];
  wk->classified_universe = n ? cls_u / n : NAN;
  opt_limits lim = *lim0;
  lim.cash += fixed_w; /* the fixed holdings take their share of the book outside the problem */
  zz_err oe = {0};
  if (in->dump_dir && (rc = opt_problem_write(op, &lim, in->dump_dir, err))) {
    opt_problem_free(op);
    free(z), free(uni), opt_week_free(wk);
    return rc;
  }
  int n_scored = 0;
  if (!opt_scores_vary(in->score, N, &n_scored)) /* nothing to rank by: any feasible book is optimal, so hold */
    rc = zz_fail(&oe, ZZ_ENUMERIC, "the scores of the %d scored stocks are all equal this week: nothing to rank by, "
                 "the book is held", n_scored);
  else
    rc = opt_solve_warm(op, &lim, in->warm, &wk->res, &oe);
  if (rc == ZZ_ENUMERIC) { /* not solvable this week: hold the book */
    snprintf(wk->note, sizeof wk->note, "%s", oe.msg);
    for (int i = 0; i < N; i++) wk->target[i] = in->w0[i];
    wk->planned_turnover = 0;
    rc = ZZ_OK;
  } else if (rc) {
    if (err) *err = oe;
  } else {
    wk->solved = 1;
    snprintf(wk->note, sizeof wk->note, "%s", wk->res->note);
    wk->max_active = -1;
    opt_targets(op, wk->res, z); /* z is free again: the targets over the universe */
    for (int j = 0; j < n; j++) {
      const double w = z[j];
      wk->target[uni[j]] = w;
      if (w - op->bench[j] > wk->max_active) wk->max_active = w - op->bench[j];
      if (w > wk->max_weight) wk->max_weight = w;
    }
    double turn = 0, sum = 0;
    for (int i = 0; i < N; i++) turn += fabs(wk->target[i] - in->w0[i]), sum += wk->target[i];
    wk->planned_turnover = 0.5 * (turn + fabs((1 - sum) - cash0));
  }
  opt_problem_free(op);
  free(z), free(uni);
  if (rc) {
    opt_week_free(wk);
    return rc;
  }
  *out = wk;
  return ZZ_OK;
}

int opt_scores_vary(const double *s, int n, int *n_finite) {
  int m = 0, varies = 0;
  double first = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(s[i])) {
      if (!m++) first = s[i];
      else varies |= s[i] != first;
    }
  if (n_finite) *n_finite = m;
  return varies;
}
