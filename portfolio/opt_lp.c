/* opt_lp.c — the GLPK model of SPEC 7: building the LP (see opt_internal.h for its columns), applying
 * a set of limits to its bounds, tangent cuts on the lifted tracking-error cone, and the simplex calls
 * (primal from scratch, dual simplex warm-started after cuts). */
#include "opt_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void opt_model_free(opt_model *m) {
  if (!m) return;
  if (m->lp) glp_delete_prob(m->lp);
  free(m->L);
  free(m->d);
  free(m->lo);
  free(m->hi);
  free(m->work_a);
  free(m->work_e);
  free(m->work_u);
  free(m->y0);
  free(m->work_w);
  free(m->ind);
  free(m->val);
  free(m->cuts);
  free(m);
}

/* Records cut k's metadata (the row is r_cut0 + k). Returns 0 when out of memory. */
static int record_cut(opt_model *m, int stock, double a0) {
  if (m->n_cuts == m->cap_cuts) {
    int cap = m->cap_cuts ? 2 * m->cap_cuts : 1024;
    opt_cut *c = realloc(m->cuts, (size_t)cap * sizeof *c);
    if (!c) return 0;
    m->cuts = c;
    m->cap_cuts = cap;
  }
  if (m->n_cuts == 0) m->r_cut0 = glp_get_num_rows(m->lp) + 1;
  m->cuts[m->n_cuts++] = (opt_cut){stock, a0};
  return 1;
}

/* p_i >= 2 a0 ahat_i - a0^2 with ahat_i = y_i - 100 wb_i: row p_i - 2 a0 y_i >= -a0^2 - 200 a0 wb_i.
 * A tangent point within 1e-6 % of 0 is 0 (p_i >= 0): a coefficient of 1e-16 beside ones of order 1
 * breaks GLPK's scaled simplex (it returned wrong optima on such rows). */
int opt_model_add_p_cut(opt_model *m, int i, double a0) {
  if (fabs(a0) < 1e-6) a0 = 0;
  if (!record_cut(m, i, a0)) return 0;
  if (glp_get_col_type(m->lp, m->c_p + i) == GLP_FX) glp_set_col_bnds(m->lp, m->c_p + i, GLP_LO, 0, 0);
  int r = glp_add_rows(m->lp, 1); /* with y = y0 + b - s: p - 2 a0 (b - s) >= -a0^2 - 200 a0 wb + 2 a0 y0 */
  int ind[4] = {0, m->c_p + i, m->c_b + i, m->c_s + i};
  double val[4] = {0, 1.0, -2.0 * a0, 2.0 * a0};
  glp_set_mat_row(m->lp, r, a0 == 0 ? 1 : m->use_turnover ? 3 : 2, ind, val);
  glp_set_row_bnds(m->lp, r, GLP_LO, -a0 * a0 - 200.0 * a0 * m->p->bench[i] + 2.0 * a0 * m->y0[i], 0);
  return r;
}

/* q_f >= 2 u0 u_f - u0^2 (u in TE units). A point within 1e-9 of 0 is 0, as for p. */
int opt_model_add_q_cut(opt_model *m, int f, double u0) {
  if (fabs(u0) < 1e-9) u0 = 0;
  if (!record_cut(m, -1 - f, u0)) return 0;
  int r = glp_add_rows(m->lp, 1);
  int ind[3] = {0, m->c_q + f, m->c_u + f};
  double val[3] = {0, 1.0, -2.0 * u0};
  glp_set_mat_row(m->lp, r, u0 != 0 ? 2 : 1, ind, val);
  glp_set_row_bnds(m->lp, r, GLP_LO, -u0 * u0, 0);
  return r;
}

void opt_model_truncate_cuts(opt_model *m, int n) {
  if (n < m->n_cuts) m->n_cuts = n;
}

int opt_model_build(const opt_problem *p, const opt_limits *lim, int attempt, opt_model **out, zz_err *err) {
  *out = NULL;
  opt_model *m = calloc(1, sizeof *m);
  if (!m) return zz_fail(err, ZZ_ENOMEM, "optimizer: out of memory");
  int n = p->n, ns = p->n_style, ni = p->n_ind, nf = opt_problem_nfac(p);
  m->p = p;
  m->n = n;
  m->nf = nf;
  m->ns = ns;
  m->ni = ni;
  m->use_te = lim->te_max > 0;
  m->use_turnover = p->has_prev;
  m->te_ref = m->use_te ? lim->te_max : 1.0;
  m->unc = opt_problem_unclassified(p);
  m->ind_bound0 = lim->industry_bound;
  m->attempt = attempt;
  m->trace = getenv("ZZ_OPT_TRACE") != NULL;
  size_t nmax = (size_t)(n > nf ? n : nf) + 8;
  m->L = calloc((size_t)nf * nf + 1, sizeof *m->L);
  m->d = calloc((size_t)n, sizeof *m->d);
  m->lo = calloc((size_t)n, sizeof *m->lo);
  m->hi = calloc((size_t)n, sizeof *m->hi);
  m->work_a = calloc((size_t)n, sizeof(double));
  m->work_e = calloc((size_t)nf + 1, sizeof(double));
  m->work_u = calloc((size_t)nf + 1, sizeof(double));
  m->y0 = calloc((size_t)n + 1, sizeof(double));
  m->work_w = calloc((size_t)n, sizeof(double));
  m->ind = calloc(nmax + 1, sizeof *m->ind);
  m->val = calloc(nmax + 1, sizeof *m->val);
  if (!m->L || !m->d || !m->lo || !m->hi || !m->work_a || !m->work_e || !m->work_u || !m->y0 || !m->work_w ||
      !m->ind || !m->val) {
    opt_model_free(m);
    return zz_fail(err, ZZ_ENOMEM, "optimizer: out of memory for %d stocks", n);
  }
  int rc = opt_cholesky(p->fcov, nf, m->L, NULL, err);
  if (rc) {
    opt_model_free(m);
    return rc;
  }
  for (int i = 0; i < n; i++) {
    m->d[i] = p->spec_var[i] / (1e4 * m->te_ref * m->te_ref);
    /* the absolute cap never sits below the benchmark weight: a stock of 6.7 % in the index with a 5 %
     * cap would otherwise be forced underweight whatever its score (SPEC 7, round 2) */
    double lo = 0, hi = fmin(p->bench[i] + lim->active_max, fmax(lim->weight_max, p->bench[i]));
    double w0 = p->has_prev ? p->prev[i] : 0.0;
    if (!p->can_buy[i] && hi > w0) hi = w0;
    if (p->has_prev && !p->can_sell[i] && lo < w0) lo = w0;
    if (lo > hi) {
      hi = lo;
      m->forced++;
    }
    m->lo[i] = lo;
    m->hi[i] = hi;
  }

  glp_prob *lp = m->lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MAX);
  int ncol = n + ns + ni + (m->use_te ? 2 * nf + n : 0) + (m->use_turnover ? n : 0);
  glp_add_cols(lp, ncol);
  int c = 1;
  m->c_b = c;
  c += n;
  m->c_e = c;
  c += ns + ni;
  if (m->use_te) {
    m->c_u = c;
    c += nf;
    m->c_q = c;
    c += nf;
    m->c_p = c;
    c += n;
  }
  if (m->use_turnover) {
    m->c_s = c;
    c += n;
  }
  /* x_i = y0_i + b_i - s_i within [lo, hi]: b in [max(0, lo - y0), max(0, hi - y0)], s in
   * [max(0, y0 - hi), max(0, y0 - lo)] (without a previous book y0 = 0 and b is the weight itself) */
  double obj0 = 0;
  for (int i = 0; i < n; i++) {
    const double y0 = m->y0[i] = p->has_prev ? 100 * p->prev[i] : 0.0, lo = 100 * m->lo[i], hi = 100 * m->hi[i];
    const double blo = fmax(0.0, lo - y0), bhi = fmax(0.0, hi - y0);
    glp_set_col_bnds(lp, m->c_b + i, bhi > blo ? GLP_DB : GLP_FX, blo, bhi);
    glp_set_obj_coef(lp, m->c_b + i, p->score[i]);
    obj0 += p->score[i] * y0;
    if (!m->use_turnover) continue;
    const double slo = fmax(0.0, y0 - hi), shi = fmax(0.0, y0 - lo);
    glp_set_col_bnds(lp, m->c_s + i, shi > slo ? GLP_DB : GLP_FX, slo, shi);
    glp_set_obj_coef(lp, m->c_s + i, -p->score[i]);
  }
  glp_set_obj_coef(lp, 0, obj0); /* the book's score: the objective is s'x */
  if (m->use_te) {
    for (int f = 0; f < nf; f++) glp_set_col_bnds(lp, m->c_u + f, GLP_FR, 0, 0);
    for (int f = 0; f < nf; f++) glp_set_col_bnds(lp, m->c_q + f, GLP_LO, 0, 0);
    /* p_i is fixed at 0 until its first cut (opt_model_add_p_cut): without a cut its LP value is 0 anyway,
     * and GLPK leaves fixed columns out of the simplex (~15 % of a 5,000-stock binding solve) */
    for (int i = 0; i < n; i++) glp_set_col_bnds(lp, m->c_p + i, GLP_FX, 0, 0);
  }

  /* rows, assembled as triplets */
  size_t cap = 2 * ((size_t)n * (ns + 4)) + (size_t)nf * (nf + 2) + (size_t)n * 3 + 64;
  int *ia = malloc((cap + 1) * sizeof *ia), *ja = malloc((cap + 1) * sizeof *ja);
  double *ar = malloc((cap + 1) * sizeof *ar);
  if (!ia || !ja || !ar) {
    free(ia);
    free(ja);
    free(ar);
    opt_model_free(m);
    return zz_fail(err, ZZ_ENOMEM, "optimizer: out of memory for the LP");
  }
  size_t ne = 0;
#define NZ(r_, c_, v_) (++ne, ia[ne] = (r_), ja[ne] = (c_), ar[ne] = (v_))
#define NZ_X(r_, i_, v_) /* v x_i: the variable part v (b_i - s_i) */                                \
  do {                                                                                               \
    NZ(r_, m->c_b + (i_), v_);                                                                       \
    if (m->use_turnover) NZ(r_, m->c_s + (i_), -(v_));                                               \
  } while (0)
  double sum0 = 0;
  for (int i = 0; i < n; i++) sum0 += m->y0[i];
  int r = glp_add_rows(lp, 1);
  m->r_budget = r;
  glp_set_row_bnds(lp, r, GLP_FX, 100 * (1 - lim->cash) - sum0, 100 * (1 - lim->cash) - sum0);
  for (int i = 0; i < n; i++) NZ_X(r, i, 1.0);
  /* exposure definitions: e_g - sum_i X_ig (b_i - s_i) = X'(y0 - 100 wb) */
  int r_e = glp_add_rows(lp, ns + ni);
  double *eb = m->work_e;
  for (int i = 0; i < n; i++) m->work_a[i] = m->y0[i] / 100 - p->bench[i];
  opt_exposures(p, m->work_a, eb);
  for (int g = 0; g < ns + ni; g++) {
    glp_set_row_bnds(lp, r_e + g, GLP_FX, 100 * eb[g], 100 * eb[g]);
    NZ(r_e + g, m->c_e + g, 1.0);
  }
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < ns; k++) {
      double x = p->style[(size_t)i * ns + k];
      if (x != 0) NZ_X(r_e + k, i, -x);
    }
    NZ_X(r_e + ns + p->ind[i], i, -1.0);
  }
  if (m->use_te) {
    /* u_f - sum_{g >= f, g not country} L_gf / (100 te_ref) e_g = L_cf (-cash) / te_ref */
    int r_u = glp_add_rows(lp, nf);
    for (int f = 0; f < nf; f++) {
      double rhs = p->has_country ? -m->L[(size_t)(nf - 1) * nf + f] * lim->cash / m->te_ref : 0.0;
      glp_set_row_bnds(lp, r_u + f, GLP_FX, rhs, rhs);
      NZ(r_u + f, m->c_u + f, 1.0);
      for (int g = f; g < ns + ni; g++) {
        double l = m->L[(size_t)g * nf + f];
        if (l != 0) NZ(r_u + f, m->c_e + g, -l / (100 * m->te_ref));
      }
    }
    m->r_te = glp_add_rows(lp, 1);
    for (int f = 0; f < nf; f++) NZ(m->r_te, m->c_q + f, 1.0);
    for (int i = 0; i < n; i++)
      if (m->d[i] > 0) NZ(m->r_te, m->c_p + i, m->d[i]);
  }
  m->r_floor = glp_add_rows(lp, 1);
  m->floor0 = 0;
  for (int i = 0; i < n; i++)
    if (p->bench[i] > 0) {
      NZ_X(m->r_floor, i, 1.0);
      m->floor0 += m->y0[i];
    }
  if (m->use_turnover) {
    m->r_turn = glp_add_rows(lp, 1);
    for (int i = 0; i < n; i++) {
      NZ(m->r_turn, m->c_b + i, 1.0);
      NZ(m->r_turn, m->c_s + i, 1.0);
    }
  }
#undef NZ_X
#undef NZ
  glp_load_matrix(lp, (int)ne, ia, ja, ar);
  free(ia);
  free(ja);
  free(ar);
  opt_model_apply_limits(m, lim);
  *out = m;
  return ZZ_OK;
}

int opt_model_seed_scaled(opt_model *m, double lambda) {
  const opt_problem *p = m->p;
  int added = 0;
  for (int f = 0; f < m->nf; f++) {
    const double u0 = lambda * m->work_u[f];
    if (fabs(u0) >= 1e-4) added += opt_model_add_q_cut(m, f, u0) != 0;
  }
  for (int i = 0; i < m->n; i++) {
    if (m->d[i] <= 0) continue;
    const double alo = 100 * (m->lo[i] - p->bench[i]), ahi = 100 * (m->hi[i] - p->bench[i]);
    const double a0 = fmin(ahi, fmax(alo, 100 * lambda * m->work_a[i]));
    if (fabs(a0) >= 1e-3) added += opt_model_add_p_cut(m, i, a0) != 0;
  }
  m->seed_cuts += added;
  return added;
}

void opt_model_book_basis(opt_model *m) {
  glp_prob *lp = m->lp;
  const int rows = glp_get_num_rows(lp), cols = glp_get_num_cols(lp);
  for (int r = 1; r <= rows; r++) glp_set_row_stat(lp, r, GLP_BS); /* slacks; the equality rows below */
  for (int c = 1; c <= cols; c++) glp_set_col_stat(lp, c, GLP_NL);  /* buys and sells at their lower
                                                                        bounds: the book (clipped to the caps) */
  for (int g = 0; g < m->ns + m->ni; g++) {
    glp_set_row_stat(lp, m->r_budget + 1 + g, GLP_NS);
    glp_set_col_stat(lp, m->c_e + g, GLP_BS);
  }
  if (m->use_te)
    for (int f = 0; f < m->nf; f++) {
      glp_set_row_stat(lp, m->r_budget + 1 + m->ns + m->ni + f, GLP_NS);
      glp_set_col_stat(lp, m->c_u + f, GLP_BS);
    }
}

void opt_model_apply_limits(opt_model *m, const opt_limits *lim) {
  glp_prob *lp = m->lp;
  for (int k = 0; k < m->ns; k++) glp_set_col_bnds(lp, m->c_e + k, GLP_DB, -100 * lim->style_bound, 100 * lim->style_bound);
  for (int j = 0; j < m->ni; j++) {
    const double b = opt_group_bound(m, lim, j);
    glp_set_col_bnds(lp, m->c_e + m->ns + j, GLP_DB, -100 * b, 100 * b);
  }
  if (lim->constituent_floor > 0) glp_set_row_bnds(lp, m->r_floor, GLP_LO, 100 * lim->constituent_floor - m->floor0, 0);
  else glp_set_row_bnds(lp, m->r_floor, GLP_FR, 0, 0);
  if (m->use_turnover) /* the cash term |cash - cash0| / 2 is fixed by the budget row: it uses up turnover */
    glp_set_row_bnds(lp, m->r_turn, GLP_UP, 0, fmax(0.0, 200 * lim->turnover_max - 100 * opt_cash_change(m->p, lim)));
  if (m->use_te) {
    double rho = (lim->te_max / m->te_ref) * (lim->te_max / m->te_ref);
    glp_set_row_bnds(lp, m->r_te, GLP_UP, 0, rho);
  }
}

double opt_group_bound(const opt_model *m, const opt_limits *lim, int j) {
  if (j != m->unc) return lim->industry_bound;
  const double widened = lim->industry_bound - m->ind_bound0;
  return lim->unclassified_bound + (widened > 0 ? widened : 0);
}

/* The objective of the anchor search (find_anchor, on a copy of the LP): minimise the TE model
 * sum q_f + sum d_i p_i, with the TE row free. */
void opt_model_min_te_objective(opt_model *m) {
  glp_prob *lp = m->lp;
  glp_set_obj_dir(lp, GLP_MIN);
  glp_set_obj_coef(lp, 0, 0);
  for (int i = 0; i < m->n; i++) glp_set_obj_coef(lp, m->c_b + i, 0);
  for (int i = 0; m->use_turnover && i < m->n; i++) glp_set_obj_coef(lp, m->c_s + i, 0);
  for (int f = 0; f < m->nf; f++) glp_set_obj_coef(lp, m->c_q + f, 1.0);
  for (int i = 0; i < m->n; i++) glp_set_obj_coef(lp, m->c_p + i, m->d[i]);
  glp_set_row_bnds(lp, m->r_te, GLP_FR, 0, 0);
}

/* Runs the simplex: dual (warm) when `dual`, else primal. Returns 0 optimal, 1 infeasible, or an error
 * (m->glpk_failed set). The settings follow m->attempt, tried in this order by opt_solve when GLPK
 * itself fails (not when the limits are infeasible):
 *   0  equilibration scaling, the book's basis (GLPK's advanced basis without a previous book), dual
 *      simplex warm starts after cuts (the fast path);
 *   1  geometric-mean + equilibration scaling rounded to powers of 2, standard (slack) basis;
 *   2  no scaling, standard basis, primal simplex on every call;
 *   3  GLPK's presolver on every call (no warm start: each solve from scratch, slowest). */
int opt_model_simplex(opt_model *m, int dual, zz_err *err) {
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.presolve = m->attempt == 3 ? GLP_ON : GLP_OFF;
  parm.meth = dual && m->attempt < 2 ? GLP_DUALP : GLP_PRIMAL;
  int term = glp_term_out(GLP_OFF); /* GLPK prints scaling and basis notes otherwise */
  if (!m->solved_once) {
    if (m->attempt == 0) glp_scale_prob(m->lp, GLP_SF_EQ); /* one pass: GLP_SF_AUTO's geometric passes
                                                               cost as much as the whole simplex here */
    else if (m->attempt == 2) glp_unscale_prob(m->lp);
    else glp_scale_prob(m->lp, GLP_SF_GM | GLP_SF_EQ | GLP_SF_2N);
    if (m->attempt == 0 && m->use_turnover) opt_model_book_basis(m); /* start from the current book */
    else if (m->attempt == 0) glp_adv_basis(m->lp, 0);
    else glp_std_basis(m->lp);
    m->solved_once = 1;
  }
  int it0 = glp_get_it_cnt(m->lp);
  const double t0 = m->trace ? opt_now() : 0;
  int ret = glp_simplex(m->lp, &parm);
  if (m->attempt != 3 && (ret == GLP_ESING || ret == GLP_ECOND || ret == GLP_EBADB || ret == GLP_EFAIL)) {
    /* a numerically bad basis after many cuts: restart from a fresh basis with the primal */
    if (m->attempt == 0) glp_adv_basis(m->lp, 0);
    else glp_std_basis(m->lp);
    parm.meth = GLP_PRIMAL;
    it0 = glp_get_it_cnt(m->lp);
    ret = glp_simplex(m->lp, &parm);
  }
  m->lp_iter += glp_get_it_cnt(m->lp) - it0;
  glp_term_out(term);
  if (m->trace)
    fprintf(stderr, "opt: attempt %d simplex %s: %d iterations, %d rows, code %d, status %d, %.4f s\n", m->attempt,
            parm.meth == GLP_DUALP ? "dual" : "primal", glp_get_it_cnt(m->lp) - it0, glp_get_num_rows(m->lp), ret,
            glp_get_status(m->lp), opt_now() - t0);
  if (ret == GLP_ENOPFS) return 1; /* the presolver found no primal feasible point */
  if (ret != 0) {
    m->glpk_failed = 1;
    return zz_fail(err, ZZ_ENUMERIC, "optimizer: GLPK simplex failed (code %d) on an LP of %d rows and %d columns",
                   ret, glp_get_num_rows(m->lp), glp_get_num_cols(m->lp));
  }
  int st = glp_get_status(m->lp);
  if (st == GLP_OPT) return 0;
  if (st == GLP_NOFEAS || glp_get_prim_stat(m->lp) == GLP_NOFEAS) return 1;
  m->glpk_failed = 1;
  return zz_fail(err, ZZ_ENUMERIC, "optimizer: GLPK ended with status %d (expected an optimum)", st);
}

/* Reads the LP weights (fractions) into w, clipped to the stock bounds. */
void opt_model_weights(const opt_model *m, double *w) {
  for (int i = 0; i < m->n; i++) {
    double y = m->y0[i] + glp_get_col_prim(m->lp, m->c_b + i);
    if (m->use_turnover) y -= glp_get_col_prim(m->lp, m->c_s + i);
    double x = y / 100.0;
    w[i] = x < m->lo[i] ? m->lo[i] : x > m->hi[i] ? m->hi[i] : x;
  }
}

/* TE^2 / te_ref^2 of weights w (fractions); u (scaled, nf) of the factor part into m->work_u. */
double opt_model_te2(opt_model *m, const double *w) {
  const opt_problem *p = m->p;
  double *a = m->work_a;
  for (int i = 0; i < m->n; i++) a[i] = w[i] - p->bench[i];
  opt_exposures(p, a, m->work_e);
  double vf = opt_factor_var(m->L, m->nf, m->work_e, m->work_u);
  for (int f = 0; f < m->nf; f++) m->work_u[f] /= m->te_ref;
  return (vf + opt_specific_var(p, a)) / (m->te_ref * m->te_ref);
}

/* Adds the tangent cuts violated at the LP point (weights w, whose opt_model_te2 was just computed so
 * that work_a / work_u hold its active weights and scaled factor coordinates). Returns cuts added. */
int opt_model_add_cuts(opt_model *m, double rho) {
  int added = 0;
  double tol = 1e-12 * (rho > 0 ? rho : 1);
  for (int f = 0; f < m->nf; f++) {
    const double u = m->work_u[f];
    if (u * u - glp_get_col_prim(m->lp, m->c_q + f) > tol && opt_model_add_q_cut(m, f, u)) {
      m->cuts_q++;
      added++;
    }
  }
  for (int i = 0; i < m->n; i++) {
    if (m->d[i] <= 0) continue;
    double ah = 100 * m->work_a[i];
    double viol = ah * ah - glp_get_col_prim(m->lp, m->c_p + i);
    if (m->d[i] * viol > tol && opt_model_add_p_cut(m, i, ah)) {
      m->cuts_p++;
      added++;
    }
  }
  return added;
}
