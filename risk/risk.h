/* risk.h — zhizeng's Barra-style (CNE5) equity risk model: style and industry exposures, daily
 * cross-sectional factor-return regressions, factor covariance and specific variance, and the
 * cross-sectional neutralisation used by the model's labels. See docs/risk_model.md.
 *
 * All arrays are double; cross-sections are one date's n_stocks values of a panel (data/data.h). */
#ifndef ZZ_RISK_H
#define ZZ_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"

/* ------------------------------------------------------------ neutralisation */

/* Residual of the OLS regression of y on industry dummies and log_cap for one date's cross-section
 * of n stocks: resid = y - (a_industry + b * log_cap). Rows with valid[i] == 0 (valid may be NULL:
 * all valid) or non-finite y / log_cap are excluded and get resid = NaN. industry[i] in
 * [0, n_industries) or -1 (= unclassified, its own dummy); the intercept lies in the dummies.
 * When log_cap does not vary within industries its coefficient is 0. Returns ZZ_OK, ZZ_EUSAGE for
 * an industry out of range, ZZ_ENOMEM. */
int risk_neutralise(int n, const double *y, const uint8_t *valid, const int16_t *industry,
                    int n_industries, const double *log_cap, double *resid, zz_err *err);

/* ------------------------------------------------------------ configuration */

/* Style factors, in the order of exposure columns (the fundamental ones only when the panel has
 * fundamentals). Names are risk_style_name(k): "size", "beta", "momentum", ... */
enum {
  RISK_SIZE, RISK_BETA, RISK_MOMENTUM, RISK_RESVOL, RISK_NLSIZE, RISK_LIQUIDITY,
  RISK_BTOP, RISK_EYIELD, RISK_GROWTH, RISK_LEVERAGE, RISK_N_STYLES
};
#define RISK_N_PRICE_STYLES 6
const char *risk_style_name(int k);

/* Parameters (defaults from risk_default_config, after Barra CNE5, see docs/risk_model.md).
 * Windows are in trading days, half-lives in trading days. */
typedef struct risk_config {
  int beta_window;        /* 252: BETA and HSIGMA regression window */
  double beta_halflife;   /* 63 */
  int rstr_window;        /* 504: MOMENTUM (RSTR) window */
  int rstr_lag;           /* 21 */
  double rstr_halflife;   /* 126 */
  int dastd_window;       /* 252 */
  double dastd_halflife;  /* 42 */
  int cmra_months;        /* 12 (of 21 trading days) */
  int month_days;         /* 21 */
  double min_obs_frac;    /* 0.25: a descriptor needs at least this share of its window observed */
  double winsor_sigma;    /* 3 */
  double vol_halflife;    /* 90: factor volatilities */
  double corr_halflife;   /* 480: factor correlations */
  int nw_lags;            /* 10: Newey-West lags (Bartlett weights) of the factor covariance */
  double huber_k;         /* 1.345: Huber robust regression threshold in MAD-scaled residuals (0: plain WLS) */
  int huber_iters;        /* 3: reweighting passes of the robust regression */
  double spec_halflife;   /* 90: specific variance */
  int spec_nw_lags;       /* 20: Newey-West (Bartlett) lags of the specific variance: L = 20 gives the
                             variance of 21-day (monthly) sums per day; 0 = plain daily variance */
  int spec_min_days;      /* 60: fewer specific returns -> the size decile's mean specific volatility */
  int spec_full_days;     /* 180: from this many on the stock's own (shrunk) volatility alone; between
                             spec_min_days and this, a linear blend with the decile mean */
  double spec_shrink_q;   /* 0.1: Bayesian shrinkage intensity q towards the size decile's mean (0: none) */
  double spec_vol_floor;  /* 0.05: annualised specific volatility floor */
  double min_industry_eff; /* 5.0: a group whose effective count (sum w)^2 / sum w^2, w = sqrt(cap), over the
                             day's regressed rows is below this is left out of that day's regression
                             (its members stay, without an industry dummy); 0 disables */
  int cov_min_days;       /* 63: regression days before a factor covariance is reported */
  double annualise;       /* 252 */
  int use_fundamentals;   /* 1: add BTOP, EYIELD, GROWTH, LEVERAGE when the panel has fundamentals */
} risk_config;

void risk_default_config(risk_config *c);

/* ---------------------------------------------------------- one regression */

/* Group code of a row regressed on the styles and the country only, with no industry dummy (a
 * member of a thin group, see risk_thin_groups). Other negative codes leave the row out. */
#define RISK_GROUP_NONE (-2)

/* One day's constrained cross-sectional WLS of returns on styles, industry groups and a country
 * factor (exposure 1), regression weights sqrt(cap), with the cap-weighted group returns summing
 * to zero: sum_g (cap share of g) f_g = 0 over the groups with a row. A style column that is zero
 * for every row gets f = 0. Factor order in f: styles [0, n_styles), groups [n_styles, n_styles +
 * n_groups), country last. Rows with group RISK_GROUP_NONE are regressed without a group dummy and
 * are outside the constraint; rows with any other group < 0 or >= n_groups, or non-finite ret /
 * cap <= 0 / style, are left out (resid NaN). Groups with no row get f = 0. resid (may be NULL) =
 * ret - X f; *r2 (may be NULL) is the sqrt(cap)-weighted R^2. Returns ZZ_ENUMERIC when no row is
 * usable or the system is singular (e.g. fewer stocks than factors). */
int risk_wls(int n, int n_styles, int n_groups, const double *ret, const double *cap, const int16_t *group,
             const double *style /* n x n_styles */, double *f, double *resid, double *r2, zz_err *err);

/* risk_wls made robust: after the fit, `iters` Huber reweighting passes with regression weights
 * sqrt(cap) * min(1, huber_k * s / |e_i|), s = 1.4826 * MAD of the residuals e (see risk_regress.c).
 * huber_k = 0 or iters = 0 is risk_wls. *r2 stays the sqrt(cap)-weighted R^2 of the final fit. */
int risk_wls_robust(int n, int n_styles, int n_groups, const double *ret, const double *cap, const int16_t *group,
                    const double *style, double huber_k, int iters, double *f, double *resid, double *r2,
                    zz_err *err);

/* Thin groups of one day's regression: a group g whose rows (those risk_wls would regress, same
 * arguments) have an effective count (sum w)^2 / sum w^2 with w = sqrt(cap) below min_eff is left out
 * of the regression: group_out (n) is group with those rows recoded RISK_GROUP_NONE, so that their
 * factor return is 0 and they are regressed on the styles and the country only (a lone member would
 * otherwise give its whole return to its group's factor and get a specific return of 0).
 * thin (n_groups, may be NULL) receives 1 for the groups left out; *n_thin (may be NULL) their count
 * (groups without a row are not counted). min_eff <= 0 leaves every group in. group_out may be
 * group. Returns ZZ_OK, ZZ_EUSAGE for bad dimensions, ZZ_ENOMEM. */
int risk_thin_groups(int n, int n_styles, int n_groups, const double *ret, const double *cap, const int16_t *group,
                     const double *style, double min_eff, int16_t *group_out, uint8_t *thin, int *n_thin,
                     zz_err *err);

/* ------------------------------------------------------- specific risk */

/* Counts of one risk_specific_shrink call. */
typedef struct risk_shrink_stats {
  int n_short;    /* stocks given their decile's mean: fewer than spec_min_days returns */
  int n_blend;    /* spec_min_days <= h < spec_full_days: blend of shrunk and decile mean */
  int n_full;     /* h >= spec_full_days: shrunk volatility */
  int n_floored;  /* raised to spec_vol_floor */
  int n_fallback; /* deciles (of 10) without a stock of h >= spec_min_days: date-wide statistics */
} risk_shrink_stats;

/* Specific volatility with CNE5's Bayesian shrinkage towards size-decile means, for one date.
 * Inputs per stock i < n: sigma_hat[i] (annualised specific volatility of the stock's own history,
 * used when n_obs[i] >= 1, ignored otherwise), n_obs[i] = h (specific returns seen), cap[i] (float
 * cap, positive for every stock in the universe or carried), in_universe[i] (1: estimation universe,
 * ranks the deciles and enters their statistics), carried (may be NULL; 1: a stock outside the
 * universe that gets a volatility from its decile without entering the statistics).
 *  - Decile s(i) = min(9, floor(10 r / m)), m = universe size, r = the number of universe stocks j
 *    with (cap[j], j) < (cap[i], i): 10 equal-count buckets, ties by stock index.
 *  - Per decile over its universe stocks with h >= spec_min_days: mean(s) = cap-weighted mean of
 *    sigma_hat, dev(s) = sqrt(equal-weighted mean of (sigma_hat - mean(s))^2). A decile without such a
 *    stock uses the same two over all of the date's universe stocks with h >= spec_min_days; if there
 *    is none, mean = the median sigma_hat of universe stocks with h >= 1 (else spec_vol_floor), dev = 0.
 *  - Shrunk: sh = v mean(s) + (1 - v) sigma_hat, v = q |sigma_hat - mean(s)| / (dev(s) + q |sigma_hat -
 *    mean(s)|) (0 when both terms are 0), q = spec_shrink_q.
 *  - sigma = mean(s) for h < spec_min_days; lambda sh + (1 - lambda) mean(s) with lambda = (h -
 *    spec_min_days) / (spec_full_days - spec_min_days) below spec_full_days; sh from there on;
 *    finally at least spec_vol_floor.
 * sigma[i] = NaN for stocks neither in the universe nor carried. st may be NULL. Returns ZZ_OK,
 * ZZ_EUSAGE for bad settings, a stock in both sets, a cap that is not positive or a missing
 * sigma_hat with h >= 1; ZZ_ENOMEM. */
int risk_specific_shrink(int n, const double *sigma_hat, const int *n_obs, const double *cap,
                         const uint8_t *in_universe, const uint8_t *carried, const risk_config *cfg, double *sigma,
                         risk_shrink_stats *st, zz_err *err);

/* ------------------------------------------------------- factor covariance */

/* Annualised factor covariance at the last row of the T x K factor-return series f (rows with a
 * NaN are skipped): zero-mean exponentially weighted second moments with Newey-West lags,
 * volatilities from cfg->vol_halflife and correlations from cfg->corr_halflife, repaired to be
 * positive definite (eigenvalues floored; *n_repaired = eigenvalues raised, may be NULL). The model
 * computes the same quantity incrementally. */
int risk_factor_cov(int T, int K, const double *f, const risk_config *cfg, double *cov, int *n_repaired,
                    zz_err *err);

/* ------------------------------------------------------------- the model */

typedef struct risk_model risk_model;

/* One output date in the layout of SPEC 11.1 (views into the model; valid until risk_model_free).
 * Factor order everywhere: the styles, the industry groups, then "country". */
typedef struct risk_snapshot {
  int t;                      /* panel date index */
  int32_t date;               /* YYYYMMDD */
  int n_stocks;               /* the panel's stocks; rows with in_universe[i] == 0 carry NaN */
  int n_styles, n_groups, n_factors;
  const char (*factor_names)[64]; /* n_factors: style names, industry names ("unclassified" last if
                                     used), "country" */
  const uint8_t *in_universe; /* 1: listed with a float cap on that date (the estimation universe), or
                                 carried */
  const uint8_t *carried;     /* 1: listed but without a float cap (typically suspended without a bar)
                                 after having been in the universe before: exposures and group of its
                                 last universe day, specific risk from its own (frozen) history and the
                                 size decile of its last cap; in no regression or decile statistic */
  const double *style;        /* n_stocks x n_styles, standardised exposures */
  const int16_t *group;       /* n_stocks: industry group index in [0, n_groups), -1 outside */
  const double *factor_cov;   /* n_factors x n_factors, annualised; NaN until cov_min_days */
  const double *specific_var; /* n_stocks, annualised: (shrunk, floored specific volatility)^2 */
  int cov_ready;              /* 0 before cfg.cov_min_days regression days */
  int n_thin_groups;          /* groups left out of this date's regression as thin (0 without one) */
} risk_snapshot;

/* Diagnostics of a build, reported by the CLI. */
typedef struct risk_stats {
  long filled[RISK_N_STYLES];     /* stock-dates whose exposure was industry-median filled */
  long unclassified;              /* stock-dates in the "unclassified" group */
  int regressions, skipped_days;  /* days regressed / days without a regression */
  double mean_r2;
  int cov_repairs;                /* output dates whose covariance needed an eigenvalue repair */
  long thin_group_days;           /* group-days left out of a regression (min_industry_eff) */
  long spec_short;                /* output stock-dates given their size decile's mean specific volatility
                                     (fewer than spec_min_days specific returns) */
  long spec_floored;              /* output stock-dates whose specific volatility was raised to
                                     spec_vol_floor */
  long carried;                   /* output stock-dates carried (see risk_snapshot.carried) */
} risk_stats;

/* Builds the model over the whole panel: exposures every day, a regression every day (returns of
 * day t on exposures at t-1, thin groups left out), and covariance / specific variance
 * (risk_specific_shrink on the EW Newey-West volatility) at the output dates out_t[0 .. n_out-1]
 * (ascending panel date indices) using only data up to each date. */
int risk_model_build(const panel *p, const risk_config *cfg, const int *out_t, int n_out, risk_model **out,
                     zz_err *err);
void risk_model_free(risk_model *m);

int risk_model_n_outputs(const risk_model *m);
int risk_model_n_factors(const risk_model *m);
const char *risk_model_factor_name(const risk_model *m, int k);
/* Snapshot of output k (0 <= k < n_outputs). */
int risk_model_snapshot(const risk_model *m, int k, risk_snapshot *s, zz_err *err);
/* Daily series: factor returns [n_dates x n_factors] (NaN rows on days without a regression), R^2
 * and estimation-universe size per day, specific returns [n_dates x n_stocks]. */
const double *risk_model_factor_returns(const risk_model *m);
const double *risk_model_r2(const risk_model *m);
const int *risk_model_n_regressed(const risk_model *m);
const double *risk_model_specific_returns(const risk_model *m);
const risk_stats *risk_model_stats(const risk_model *m);
/* Active-risk helper: annualised tracking error sqrt(a' (X F X' + D) a) of active weights a[n_stocks]
 * at output k (stocks with in_universe 0 must have a = 0; carried stocks are ordinary). */
double risk_model_te(const risk_model *m, int k, const double *active);

/* Week-end (last trading day of each ISO week) date indices of the panel into out (n_dates
 * capacity); returns the count. */
int risk_week_ends(const panel *p, int *out);

/* Style exposures of every stock at every date (for tests and research; the model computes the
 * same day by day without keeping them): out[(t * n_stocks + i) * n_styles + k], standardised and
 * filled; *n_styles receives 6 or 10. */
int risk_exposures_all(const panel *p, const risk_config *cfg, double *out, int *n_styles, zz_err *err);

#endif
