/* risk_private.h — shared between the files of risk/ only (not a public header). */
#ifndef ZZ_RISK_PRIVATE_H
#define ZZ_RISK_PRIVATE_H

#include "risk.h"

/* Day-by-day style exposure engine (risk_style.c). Steps must be called for t = 0, 1, 2, ... */
typedef struct risk_style_engine risk_style_engine;
int risk_style_create(const panel *p, const risk_config *cfg, risk_style_engine **out, zz_err *err);
void risk_style_free(risk_style_engine *e);
int risk_style_count(const risk_style_engine *e);
/* Exposures at the close of day t into expo[n_stocks x n_styles] (NaN outside the universe),
 * in_univ[n_stocks], group[n_stocks] (industry, n_industries for unclassified, -1 outside);
 * filled[k] += stocks filled by industry median. */
int risk_style_step(risk_style_engine *e, int t, double *expo, uint8_t *in_univ, int16_t *group, long *filled,
                    zz_err *err);

/* Adjusted return of stock i on day u (NaN when not listed on u-1 and u); *m = usable (finite and
 * not suspended on u); *x = ln(1 + r) or 0. */
double risk_day_ret(const panel *p, int u, int i, int *m, double *x);

/* Incremental factor covariance (risk_cov.c): push one day's factor returns, read the covariance. */
typedef struct risk_cov_state risk_cov_state;
int risk_cov_create(int K, const risk_config *cfg, risk_cov_state **out, zz_err *err);
void risk_cov_free(risk_cov_state *s);
void risk_cov_push(risk_cov_state *s, const double *f);
int risk_cov_days(const risk_cov_state *s);
/* Annualised, repaired covariance into cov[K x K]; *n_repaired eigenvalues were raised. */
int risk_cov_get(const risk_cov_state *s, double *cov, int *n_repaired, zz_err *err);

/* Symmetric eigen-decomposition by cyclic Jacobi: a[n x n] is destroyed, eigenvalues into w[n],
 * eigenvectors into the columns of v[n x n]. */
int risk_sym_eigen(int n, double *a, double *w, double *v);

/* Median of v[0 .. m-1] (sorts v in place); NaN when m <= 0. risk_regress.c. */
double risk_median(double *v, int m);

#endif
