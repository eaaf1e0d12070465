/* opt_warm.c — warm starts along a sequence of problems (a backtest's weeks): what one solve leaves for
 * the next and how the next problem takes it.
 *
 * Kept from a solve (opt_warm_capture, after its final LP): the tangent cuts binding at the final LP
 * (row not basic) — a p_i cut as the stock's weight at its tangent point (percent, y0 = a0 + 100 wb_i),
 * a q_f cut as its point u0 on the parabola — and the returned weights.
 * Taken by the next problem (opt_warm_apply, called by find_anchor when TE binds, after the first
 * tangents of opt_model_seed_scaled), when TE bound last week too:
 *   - every kept cut on the new problem's parabolas: the p_i tangent at the same weight (a0' = y0 -
 *     100 wb'_i under the new benchmark), the q_f tangent at the same u0. A tangent of u^2 at any point
 *     is a valid cut whatever this week's covariance (which enters through the rows defining u), so
 *     every cut stays valid: the LP stays an outer model of this week's problem.
 *   - the tangents at last week's optimum (weights by code, 0 for a stock it did not have) re-evaluated
 *     under this week's benchmark and risk model: per factor and per stock one cut, unless a kept cut is
 *     already there (a stock new to the universe has only its first tangent).
 * The simplex basis is not carried over: the basis of the current book (opt_model_book_basis, which
 * every solve with a previous book starts from) is closer to this week's optimum than last week's
 * optimal basis, whose buys and sells are last week's trades (measured on the demo's CSI300 weeks:
 * 2,033 simplex iterations a week from the mapped previous basis, 1,010 from the book's, 2,588 from
 * GLPK's advanced basis).
 * The solve itself is unchanged: the same certification, so a warm solve returns the same problem's
 * optimum as a cold one, to the certified gap. */
#include "opt_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opt_warm {
  int valid;
  int n, nf, ns, ni;
  char (*codes)[ZZ_CODE_LEN]; /* n */
  int *order;                 /* n, indices by code */
  char (*fnames)[OPT_NAME_LEN]; /* nf factor names */
  double *w;                  /* n, the returned weights */
  int *pc_start;              /* n + 1: kept p cuts of stock i at pc_start[i] .. pc_start[i+1]-1 */
  double *pc_y0;              /* their tangent points as weights in percent */
  int n_qc;
  int *qc_f;                  /* n_qc kept q cuts: factor and point */
  double *qc_u0;
};

static void warm_clear(opt_warm *w) {
  free(w->codes), free(w->order), free(w->fnames), free(w->w);
  free(w->pc_start), free(w->pc_y0), free(w->qc_f), free(w->qc_u0);
  memset(w, 0, sizeof *w);
}

void opt_warm_forget(opt_warm *w) {
  if (w) warm_clear(w);
}

int opt_warm_create(opt_warm **out, zz_err *err) {
  *out = calloc(1, sizeof **out);
  return *out ? ZZ_OK : zz_fail(err, ZZ_ENOMEM, "optimizer: out of memory");
}

void opt_warm_free(opt_warm *w) {
  if (!w) return;
  warm_clear(w);
  free(w);
}

static const char *factor_name(const opt_problem *p, int f) {
  if (f < p->n_style) return p->style_names[f];
  if (f < p->n_style + p->n_ind) return p->ind_names[f - p->n_style];
  return "country";
}

/* qsort has no context argument: the codes are compared through the entries themselves. */
typedef struct code_ref {
  const char *code;
  int i;
} code_ref;
static int cmp_ref(const void *a, const void *b) { return strcmp(((const code_ref *)a)->code, ((const code_ref *)b)->code); }

static int find_code(const opt_warm *w, const char *code) {
  int lo = 0, hi = w->n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, c = strcmp(w->codes[w->order[mid]], code);
    if (c == 0) return w->order[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

int opt_warm_capture(opt_warm *w, const opt_model *m, const double *weights) {
  warm_clear(w);
  const opt_problem *p = m->p;
  const int n = p->n, nf = m->nf;
  w->n = n, w->nf = nf, w->ns = m->ns, w->ni = m->ni;
  int n_pc = 0;
  for (int k = 0; k < m->n_cuts; k++) {
    if (glp_get_row_stat(m->lp, m->r_cut0 + k) == GLP_BS) continue; /* slack: not kept */
    if (m->cuts[k].stock >= 0) n_pc++;
    else w->n_qc++;
  }
  code_ref *refs = malloc(sizeof *refs * (size_t)(n + 1));
  w->codes = malloc(sizeof *w->codes * (size_t)(n + 1));
  w->order = malloc(sizeof *w->order * (size_t)(n + 1));
  w->fnames = malloc(sizeof *w->fnames * (size_t)(nf + 1));
  w->w = malloc(sizeof *w->w * (size_t)(n + 1));
  w->pc_start = calloc((size_t)n + 2, sizeof *w->pc_start);
  w->pc_y0 = malloc(sizeof *w->pc_y0 * (size_t)(n_pc + 1));
  w->qc_f = malloc(sizeof *w->qc_f * (size_t)(w->n_qc + 1));
  w->qc_u0 = malloc(sizeof *w->qc_u0 * (size_t)(w->n_qc + 1));
  if (!refs || !w->codes || !w->order || !w->fnames || !w->w || !w->pc_start ||
      !w->pc_y0 || !w->qc_f || !w->qc_u0) {
    free(refs);
    warm_clear(w);
    return 0;
  }
  memcpy(w->codes, p->codes, sizeof *w->codes * (size_t)n);
  for (int i = 0; i < n; i++) refs[i].code = p->codes[i], refs[i].i = i;
  qsort(refs, (size_t)n, sizeof *refs, cmp_ref);
  for (int i = 0; i < n; i++) w->order[i] = refs[i].i;
  free(refs);
  for (int f = 0; f < nf; f++) snprintf(w->fnames[f], OPT_NAME_LEN, "%s", factor_name(p, f));
  memcpy(w->w, weights, sizeof *w->w * (size_t)n);
  /* the kept cuts, grouped by stock */
  for (int k = 0; k < m->n_cuts; k++)
    if (m->cuts[k].stock >= 0 && glp_get_row_stat(m->lp, m->r_cut0 + k) != GLP_BS) w->pc_start[m->cuts[k].stock + 1]++;
  for (int i = 0; i < n; i++) w->pc_start[i + 1] += w->pc_start[i];
  int *fill = calloc((size_t)n + 1, sizeof *fill), v = 0;
  if (!fill) {
    warm_clear(w);
    return 0;
  }
  for (int k = 0; k < m->n_cuts; k++) {
    if (glp_get_row_stat(m->lp, m->r_cut0 + k) == GLP_BS) continue;
    const opt_cut *c = &m->cuts[k];
    if (c->stock >= 0) w->pc_y0[w->pc_start[c->stock] + fill[c->stock]++] = c->a0 + 100 * p->bench[c->stock];
    else w->qc_f[v] = -1 - c->stock, w->qc_u0[v++] = c->a0;
  }
  free(fill);
  w->valid = 1;
  return 1;
}

int opt_warm_apply(const opt_warm *w, opt_model *m) {
  const opt_problem *p = m->p;
  const int n = p->n, nf = m->nf;
  if (!w || !w->valid || !m->use_te || w->nf != nf || w->ns != m->ns || w->ni != m->ni) return 0;
  if (w->n_qc + w->pc_start[w->n] == 0) return 0; /* TE did not bind last week: nothing to carry */
  for (int f = 0; f < nf; f++)
    if (strcmp(w->fnames[f], factor_name(p, f))) return 0;
  double *wm = calloc((size_t)n + 1, sizeof *wm), *e = calloc((size_t)(2 * nf + 1), sizeof *e), *u = e + nf;
  int *map = malloc(sizeof *map * (size_t)(n + 1));
  if (!map || !wm || !e) {
    free(map), free(wm), free(e);
    return 0;
  }
  for (int j = 0; j < n; j++) {
    map[j] = find_code(w, p->codes[j]);
    wm[j] = (map[j] >= 0 ? w->w[map[j]] : 0.0) - p->bench[j]; /* last week's optimum, active this week */
  }
  /* the factor parabolas: kept cuts, and the tangent at last week's optimum under this week's L */
  opt_exposures(p, wm, e);
  opt_factor_var(m->L, nf, e, u);
  for (int f = 0; f < nf; f++) {
    const double u_opt = u[f] / m->te_ref;
    int near = 0;
    for (int v = 0; v < w->n_qc; v++) {
      if (w->qc_f[v] != f) continue;
      near |= fabs(w->qc_u0[v] - u_opt) <= 1e-4;
      opt_model_add_q_cut(m, f, w->qc_u0[v]);
    }
    if (!near && fabs(u_opt) >= 1e-4) opt_model_add_q_cut(m, f, u_opt);
  }
  /* the stocks' parabolas: the same, at the same weights */
  for (int j = 0; j < n; j++) {
    const int i = map[j];
    if (i < 0 || m->d[j] <= 0) continue;
    const double alo = 100 * (m->lo[j] - p->bench[j]), ahi = 100 * (m->hi[j] - p->bench[j]);
    const double a_opt = fmin(ahi, fmax(alo, 100 * wm[j]));
    int near = 0;
    for (int k = w->pc_start[i]; k < w->pc_start[i + 1]; k++) {
      const double a0 = w->pc_y0[k] - 100 * p->bench[j];
      if (a0 < alo - 1e-9 || a0 > ahi + 1e-9) continue; /* outside the stock's range this week: no use */
      near |= fabs(a0 - a_opt) <= 1e-3;
      opt_model_add_p_cut(m, j, a0);
    }
    if (!near && fabs(a_opt) >= 1e-3) opt_model_add_p_cut(m, j, a_opt);
  }
  free(map), free(wm), free(e);
  m->warm = 1;
  return 1;
}
