/* opt_internal.h — private to portfolio/: the LP model shared by opt_solve.c, opt_relax.c and
 * opt_risk.c. Not part of the public API. */
#ifndef ZZ_OPT_INTERNAL_H
#define ZZ_OPT_INTERNAL_H

#include <glpk.h>
#include <time.h>

#include "portfolio.h"

/* The LP (GLPK) in percent units: the weight of stock i is y_i = y0_i + b_i - s_i (y = 100 w), y0 the
 * previous book (0 without one), so the LP has no row per stock. TE^2 is measured in units of te_ref^2
 * (te_ref = the original te_max), so the TE row reads sum q_f + sum d_i p_i <= (te_max / te_ref)^2.
 * Columns (1-based):
 *   b[n]  buys in percent (without a previous book: the weights themselves), bounds keeping y in 100 [lo, hi]
 *   e[ns+ni] active style / industry exposures in percent: e_g = sum_i X_ig (y_i - 100 wb_i)
 *   u[nf] scaled factor risk coordinates u = L' e / (100 te_ref) (country exposure is a constant)
 *   q[nf] >= u_f^2 by tangent cuts: |u|^2 = sum_f u_f^2 is separable in the Cholesky coordinates, so
 *         the factor part is nf one-dimensional parabolas, like the specific part
 *   p[n]  >= (y_i - 100 wb_i)^2 by tangent cuts (percent^2); d_i = D_i / (1e4 te_ref^2); fixed at 0
 *         until the stock's first cut
 *   s[n]  sells in percent (with a previous book only); the turnover row is sum (b + s) <= 200 T - cash term
 * Rows: budget, exposures (ns+ni), u (nf), TE, constituent floor, turnover, then the cuts. */
typedef struct opt_cut {
  int stock;   /* >= 0: p_stock >= 2 a0 ahat - a0^2; < 0: factor f = -1 - stock, q_f >= 2 a0 u_f - a0^2 */
  double a0;   /* the tangent point: active weight in percent (p), or u_f in TE units (q) */
} opt_cut;

typedef struct opt_model {
  const opt_problem *p;
  int n, nf, ns, ni;
  int use_te, use_turnover;
  double te_ref;
  double *L;         /* nf x nf lower Cholesky factor of F */
  double *d;         /* n */
  double *lo, *hi;   /* n, per-stock bounds in fractions (caps, tradability) */
  int forced;        /* stocks whose cap was raised to their unsellable holding */
  int unc;           /* the unclassified group (opt_problem_unclassified), -1 if none */
  double ind_bound0; /* the industry bound the model was built with: relaxation widens the
                        unclassified bound by as much as it widens industry_bound */
  int attempt;       /* GLPK settings of this solve (0 .. OPT_ATTEMPTS-1, see opt_model_simplex) */
  int glpk_failed;   /* GLPK returned an error or an unexpected status (retry with other settings) */
  glp_prob *lp;
  int c_b, c_e, c_u, c_q, c_p, c_s;      /* first column of each block */
  double *y0;        /* n, the previous book in percent (zeros without one) */
  double floor0;     /* the previous book's weight on members, percent (the floor row's offset) */
  int r_budget, r_te, r_floor, r_turn;   /* rows (0: absent) */
  int seed_cuts, cuts_q, cuts_p, lp_iter;
  int solved_once, seeded;
  const opt_warm *warm_from; /* the previous solve's state, taken when TE binds (instead of the seeds) */
  int warm;          /* the cuts came from it (opt_warm_apply) */
  int r_cut0;        /* first cut row: every row from here on is a cut */
  opt_cut *cuts;     /* n_cuts, in row order */
  int n_cuts, cap_cuts;
  int trace;         /* ZZ_OPT_TRACE set: one line per simplex call on stderr */
  /* work */
  double *work_a, *work_e, *work_u, *work_w;
  int *ind;
  double *val;
} opt_model;

/* Monotonic wall seconds (solve_seconds, the trace). */
static inline double opt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct opt_eval {
  double te, te_factor, te_specific, turnover, constituent, invested, max_violation;
  double *style, *industry; /* optional outputs (NULL: not wanted) */
} opt_eval;

/* opt_lp.c */
int opt_model_build(const opt_problem *p, const opt_limits *lim, int attempt, opt_model **out, zz_err *err);
void opt_model_free(opt_model *m);
void opt_model_apply_limits(opt_model *m, const opt_limits *lim);
/* The basis of the current book (previous book required): every buy and sell at its lower bound (the
 * book, clipped to the stock bounds), exposures and factor coordinates basic, every other row's slack
 * basic. Triangular, so never singular; primal feasible but for the limits the book breaks. */
void opt_model_book_basis(opt_model *m);
/* The active-weight bound of industry group j under lim (unclassified_bound for the unclassified group). */
double opt_group_bound(const opt_model *m, const opt_limits *lim, int j);
#define OPT_ATTEMPTS 4
/* The first tangents, once TE binds: at lambda times the point of the last opt_model_te2 (its work_a,
 * work_u), for every stock and factor away from 0; with lambda = te_max / TE(point), the LP point pulled
 * radially onto the TE limit. Returns how many. */
int opt_model_seed_scaled(opt_model *m, double lambda);
/* One tangent cut: p_i at active weight a0 (percent), or q_f at u_f = u0 (TE units). The row is added
 * at the end; returns its row number (0: out of memory, nothing added). */
int opt_model_add_p_cut(opt_model *m, int i, double a0);
int opt_model_add_q_cut(opt_model *m, int f, double u0);
/* Forgets the cuts recorded after the first n (their rows were in an LP that is gone). */
void opt_model_truncate_cuts(opt_model *m, int n);
void opt_model_min_te_objective(opt_model *m);
int opt_model_simplex(opt_model *m, int dual, zz_err *err);
void opt_model_weights(const opt_model *m, double *w);
double opt_model_te2(opt_model *m, const double *w);
int opt_model_add_cuts(opt_model *m, double rho);

/* opt_warm.c: what one solve leaves for the next (struct opt_warm, portfolio.h) */
/* Records the final LP of m (its basis, the binding cuts) and the returned weights w. */
int opt_warm_capture(opt_warm *w, const opt_model *m, const double *weights);
/* Before the first simplex of a new model: adds the previous solve's binding cuts and the tangents at
 * its optimum, re-evaluated for this problem; returns 1 when applied, 0 when there is nothing to carry
 * (TE did not bind, no TE limit, other factors) and nothing was done. */
int opt_warm_apply(const opt_warm *w, opt_model *m);
/* The next solve starts cold (this one failed). */
void opt_warm_forget(opt_warm *w);

/* opt_relax.c: stages in their fixed order */
enum { OPT_RELAX_TURNOVER, OPT_RELAX_STYLE, OPT_RELAX_INDUSTRY, OPT_RELAX_TE, OPT_RELAX_FLOOR, OPT_RELAX_N };
const char *opt_relax_name(int stage);
double *opt_relax_field(int stage, opt_limits *l);
/* One step of `stage` on *cur; returns 0 when the stage does not apply or is at its cap. */
int opt_relax_step(int stage, const opt_model *m, const opt_limits *base, opt_limits *cur);

/* opt_risk.c */
/* 1 when the finite values of s[0..n-1] are not all equal (two of them differ); *n_finite (may be NULL) gets their
 * count. A constant alpha ranks nothing: the LP's optimum is then any feasible portfolio. */
int opt_scores_vary(const double *s, int n, int *n_finite);
int opt_cholesky(const double *F, int nf, double *L, int *bad_pivot, zz_err *err);
void opt_exposures(const opt_problem *p, const double *a, double *e);
double opt_factor_var(const double *L, int nf, const double *e, double *u);
double opt_specific_var(const opt_problem *p, const double *a);
/* |cash after - cash before| = |lim->cash - (1 - sum prev)|: the part of the one-way turnover (half of
 * it) that moving the book's cash to the configured cash takes whatever the weights (0 without prev). */
double opt_cash_change(const opt_problem *p, const opt_limits *lim);
void opt_evaluate(const opt_model *m, const opt_limits *lim, const double *w, opt_eval *ev);

#endif
