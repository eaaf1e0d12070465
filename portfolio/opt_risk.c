/* opt_risk.c — tracking error in factor form: Cholesky of the factor covariance and the evaluation
 * of a candidate portfolio against every limit (exposures, TE, turnover, floor, bounds). */
#include "opt_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int opt_cholesky(const double *F, int nf, double *L, int *bad_pivot, zz_err *err) {
  if (bad_pivot) *bad_pivot = -1;
  memset(L, 0, (size_t)nf * nf * sizeof *L);
  double scale = 0;
  for (int a = 0; a < nf; a++)
    if (F[(size_t)a * nf + a] > scale) scale = F[(size_t)a * nf + a];
  for (int j = 0; j < nf; j++) {
    double d = F[(size_t)j * nf + j];
    for (int k = 0; k < j; k++) d -= L[(size_t)j * nf + k] * L[(size_t)j * nf + k];
    if (d < -1e-10 * scale && bad_pivot) *bad_pivot = j;
    if (d < -1e-10 * scale)
      return zz_fail(err, ZZ_EDATA,
                     "factor covariance is not positive semi-definite (pivot %d is %g): a covariance matrix cannot "
                     "give a negative variance",
                     j + 1, d);
    if (d <= 1e-13 * scale) continue; /* PSD, rank deficient: this column stays zero */
    double ljj = sqrt(d);
    L[(size_t)j * nf + j] = ljj;
    for (int i = j + 1; i < nf; i++) {
      double s = F[(size_t)i * nf + j];
      for (int k = 0; k < j; k++) s -= L[(size_t)i * nf + k] * L[(size_t)j * nf + k];
      L[(size_t)i * nf + j] = s / ljj;
    }
  }
  return ZZ_OK;
}

void opt_exposures(const opt_problem *p, const double *a, double *e) {
  int ns = p->n_style, ni = p->n_ind, nf = opt_problem_nfac(p);
  memset(e, 0, (size_t)nf * sizeof *e);
  for (int i = 0; i < p->n; i++) {
    double ai = a[i];
    if (ai == 0) continue;
    const double *x = p->style + (size_t)i * ns;
    for (int k = 0; k < ns; k++) e[k] += x[k] * ai;
    e[ns + p->ind[i]] += ai;
    if (p->has_country) e[ns + ni] += ai;
  }
}

double opt_factor_var(const double *L, int nf, const double *e, double *u) {
  double s = 0;
  for (int f = 0; f < nf; f++) {
    double t = 0;
    for (int g = f; g < nf; g++) t += L[(size_t)g * nf + f] * e[g];
    if (u) u[f] = t;
    s += t * t;
  }
  return s;
}

double opt_specific_var(const opt_problem *p, const double *a) {
  double s = 0;
  for (int i = 0; i < p->n; i++) s += p->spec_var[i] * a[i] * a[i];
  return s;
}

double opt_cash_change(const opt_problem *p, const opt_limits *lim) {
  if (!p->has_prev) return 0.0;
  double sp = 0;
  for (int i = 0; i < p->n; i++) sp += p->prev[i];
  return fabs(lim->cash - (1.0 - sp));
}

void opt_evaluate(const opt_model *m, const opt_limits *lim, const double *w, opt_eval *ev) {
  const opt_problem *p = m->p;
  int n = p->n, ns = p->n_style, ni = p->n_ind, nf = m->nf;
  double *a = m->work_a, *e = m->work_e;
  double viol = 0, sum = 0, turn = 0, cons = 0;
  for (int i = 0; i < n; i++) {
    a[i] = w[i] - p->bench[i];
    sum += w[i];
    turn += fabs(w[i] - p->prev[i]);
    if (p->bench[i] > 0) cons += w[i];
    if (m->lo[i] - w[i] > viol) viol = m->lo[i] - w[i];
    if (w[i] - m->hi[i] > viol) viol = w[i] - m->hi[i];
  }
  opt_exposures(p, a, e);
  double vf = opt_factor_var(m->L, nf, e, NULL), vs = opt_specific_var(p, a);
  ev->te_factor = sqrt(vf);
  ev->te_specific = sqrt(vs);
  ev->te = sqrt(vf + vs);
  /* cash is a position: the book's cash 1 - sum(prev) becomes 1 - sum(w) */
  double sp = 0;
  for (int i = 0; i < n; i++) sp += p->prev[i];
  ev->turnover = 0.5 * (turn + fabs(sp - sum));
  ev->constituent = cons;
  ev->invested = sum;
  if (ev->style) memcpy(ev->style, e, (size_t)ns * sizeof *e);
  if (ev->industry) memcpy(ev->industry, e + ns, (size_t)ni * sizeof *e);
  double v;
  if ((v = fabs(sum - (1 - lim->cash))) > viol) viol = v;
  for (int k = 0; k < ns; k++)
    if ((v = fabs(e[k]) - lim->style_bound) > viol) viol = v;
  for (int j = 0; j < ni; j++)
    if ((v = fabs(e[ns + j]) - opt_group_bound(m, lim, j)) > viol) viol = v;
  if (lim->constituent_floor > 0 && (v = lim->constituent_floor - cons) > viol) viol = v;
  if (m->use_turnover && (v = ev->turnover - lim->turnover_max) > viol) viol = v;
  ev->max_violation = viol;
}
