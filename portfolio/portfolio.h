/* portfolio.h — the enhanced-index optimizer (SPEC 7): maximise s'w under full investment, per-stock
 * bounds, style / industry exposure bounds, a tracking-error limit from a factor risk model, a
 * constituent floor, a one-way turnover limit and tradability, solved with GLPK's simplex and cutting
 * planes on the lifted tracking-error cone, with a certified feasible point and documented relaxation
 * when the limits cannot all hold. See docs/optimizer.md.
 *
 * Use: build an opt_problem (opt_problem_read from a SPEC 11.1 directory, or opt_problem_create and
 * fill the arrays in memory), take opt_limits from opt_limits_default / opt_limits_read, call
 * opt_solve, read the opt_result, opt_result_free it.
 */
#ifndef ZZ_PORTFOLIO_H
#define ZZ_PORTFOLIO_H

#include <stdint.h>

#include "data.h"
#include "risk.h"

/* ---------------------------------------------------------------- limits */

typedef struct opt_limits {
  double style_bound;       /* |X_style'(w - w_b)| <= this, per style factor (0.5) */
  double industry_bound;    /* |sum_{i in industry}(w_i - w_b,i)| <= this (0.02) */
  double unclassified_bound;/* the same for the group of stocks without an industry (0.05): not an
                               industry, often most of a vendor's universe (see opt_problem.ind) */
  double te_max;            /* annualised tracking error limit (0.05); <= 0: no TE limit */
  double constituent_floor; /* sum of weights on benchmark members >= this (0.8); 0: none */
  double turnover_max;      /* one-way 0.5 * (sum|w - w0| + |cash - cash0|) <= this (0.2), cash counted as
                               a position (cash0 = 1 - sum w0); exempt without previous */
  double active_max;        /* w_i <= w_b,i + this (0.01) */
  double weight_max;        /* w_i <= this (0.05), but never below w_b,i: a stock above the cap in the
                               benchmark may keep its benchmark weight (SPEC 7, round 2) */
  double spec_var_floor;    /* annualised specific variances below this are raised to it before
                               solving, with a note (1e-4 = (1 %)^2); 0: no repair */
  double cash;              /* sum w = 1 - cash (0) */
  double gap_tol;           /* stop when (upper - lower) / |upper| <= this (1e-4) */
  int max_rounds;           /* cutting-plane rounds per solve (300) */
  int relax;                /* 1: relax limits on infeasibility (default); 0: fail instead */
} opt_limits;

void opt_limits_default(opt_limits *lim);
/* Reads section [limits] of an INI file over *lim (keys: the field names above). Unknown keys, bad
 * numbers and out-of-range values are errors "file:line: ...". */
int opt_limits_read(const char *path, opt_limits *lim, zz_err *err);

/* ---------------------------------------------------------------- problem */

#define OPT_NAME_LEN 64
#define OPT_UNCLASSIFIED "unclassified" /* the group of stocks without an industry */

typedef struct opt_problem {
  int n;                            /* stocks (the universe) */
  int n_style, n_ind, has_country;  /* factors: styles, then industries, then country (if any) */
  char (*codes)[ZZ_CODE_LEN];       /* n */
  double *score;                    /* n, objective coefficients */
  double *bench;                    /* n, benchmark weights (fractions, sum 1); members: > 0 */
  int has_prev;                     /* 0: first rebalance from cash (turnover exempt) */
  double *prev;                     /* n, current holdings (zeros when !has_prev), summing to at most
                                       1: the rest is the book's cash */
  char (*style_names)[OPT_NAME_LEN];/* n_style */
  double *style;                    /* n x n_style, stock-major: style[i * n_style + k] */
  char (*ind_names)[OPT_NAME_LEN];  /* n_ind; the group named "unclassified" (any case) holds the
                                       stocks without an industry: bounded by unclassified_bound */
  int *ind;                         /* n, industry of each stock in [0, n_ind) */
  double *fcov;                     /* n_fac x n_fac annualised factor covariance, order as above */
  double *spec_var;                 /* n, annualised specific variance */
  uint8_t *can_buy, *can_sell;      /* n, 1 = allowed */
} opt_problem;

static inline int opt_problem_nfac(const opt_problem *p) { return p->n_style + p->n_ind + (p->has_country ? 1 : 0); }

/* Allocates a problem with every array zeroed, can_buy = can_sell = 1, has_prev = 0. */
int opt_problem_create(int n, int n_style, int n_ind, int has_country, opt_problem **out, zz_err *err);
void opt_problem_free(opt_problem *p);
/* Reads a SPEC 11.1 directory (alpha, benchmark, previous, exposures, industry, factor_cov,
 * specific_var, tradable .csv). limits.ini is read separately with opt_limits_read. Errors name the
 * file, line, column and code. */
int opt_problem_read(const char *dir, opt_problem **out, zz_err *err);
/* Writes p as a SPEC 11.1 directory (created if absent) with lim as its limits.ini: what `zhizeng
 * optimize --problem` reads back to the same problem (every number %.17g). */
int opt_problem_write(const opt_problem *p, const opt_limits *lim, const char *dir, zz_err *err);
/* Checks an in-memory problem: finite values, non-negative weights summing to 1, non-negative
 * variances, symmetric covariance, industries in range. opt_solve calls it. */
int opt_problem_check(const opt_problem *p, zz_err *err);
/* Index of the "unclassified" group among ind_names, or -1. */
int opt_problem_unclassified(const opt_problem *p);

/* ---------------------------------------------------------------- result */

typedef enum {
  OPT_OPTIMAL = 0,  /* certified: relative gap <= gap_tol (or the LP point met every limit) */
  OPT_GAP = 1       /* round limit reached: feasible point returned, gap reported */
} opt_status;

typedef struct opt_relaxation {
  char limit[32];   /* "turnover_max", "style_bound", "industry_bound", "te_max", "constituent_floor" */
  double from, to;
  int steps;
} opt_relaxation;

#define OPT_MAX_RELAX 8

typedef struct opt_result {
  int n;
  double *weights;          /* n, the returned (feasible) portfolio */
  opt_status status;
  double objective;         /* s'w of the returned weights (the lower bound) */
  double upper_bound;       /* LP bound on the optimum */
  double gap;               /* (upper_bound - objective) / max(|upper_bound|, 1e-12) */
  int lp_iterations;        /* simplex iterations, all solves */
  int rounds;               /* cutting-plane rounds of the final solve */
  int cuts_factor, cuts_specific, seed_cuts;
  int anchor;               /* certification anchor: 0 previous, 1 benchmark, 2 LP-found point,
                               3 none needed (the LP point met TE), 4 mix of previous and benchmark,
                               5 the benchmark clipped to the stock bounds (tradable benchmark) */
  double te;                /* achieved annualised TE */
  double te_factor, te_specific; /* the two parts, TE^2 = te_factor^2 + te_specific^2 */
  int n_style, n_ind;
  double *style_exposure;   /* n_style active exposures */
  double *industry_active;  /* n_ind active industry weights */
  double turnover;          /* one-way, vs previous (vs cash when no previous) */
  double constituent_weight;
  double invested;          /* sum of weights */
  double max_violation;     /* largest violation of any linear limit of `limits` (fractions) */
  opt_limits limits;        /* the limits in force at the end (after relaxation) */
  int n_relax;
  opt_relaxation relax[OPT_MAX_RELAX];
  int forced_bounds;        /* stocks whose cap is raised because they cannot be sold */
  int spec_floored;         /* specific variances raised to limits.spec_var_floor (repair) */
  int attempts;             /* GLPK settings tried (1 = the first succeeded; see docs/optimizer.md) */
  char note[256];           /* repairs and retries in words ("" when none) */
  int warm;                 /* 1: started from the previous solve of a sequence (opt_solve_warm) */
  double solve_seconds;     /* wall time of opt_solve */
} opt_result;

/* Solves; *out gets a result on success (ZZ_OK). Degenerate inputs are repaired first (specific
 * variances below spec_var_floor), and when GLPK itself fails the whole solve is retried with other
 * settings (OPT_ATTEMPTS: fresh basis and other scaling, presolver on, no scaling). An infeasible
 * problem that relaxation cannot repair, relax = 0, or GLPK failing on every attempt returns
 * ZZ_ENUMERIC with the reason: the caller decides (the backtest holds its book for the week). */
int opt_solve(const opt_problem *p, const opt_limits *lim, opt_result **out, zz_err *err);
void opt_result_free(opt_result *r);

/* Warm starts along a sequence of problems (a backtest's weekly rebalances): what one solve leaves for
 * the next — the tangent cuts binding at its final LP, re-evaluated under the next problem's risk model
 * at the same points, the tangents at its optimum, and its simplex basis where the stocks (by code)
 * and factors still match. The next solve is certified exactly as a cold one: a warm and a cold solve
 * of the same problem return its optimum to the same certified gap. One opt_warm per sequence; a
 * failed solve makes the next one cold. */
typedef struct opt_warm opt_warm;
int opt_warm_create(opt_warm **out, zz_err *err);
void opt_warm_free(opt_warm *w);
/* opt_solve, starting from warm's state when it fits the problem (res->warm says whether it did), and
 * leaving this solve's state in warm. warm NULL: exactly opt_solve. */
int opt_solve_warm(const opt_problem *p, const opt_limits *lim, opt_warm *warm, opt_result **out, zz_err *err);
/* The weights a backtest trades from a result: clipped at 0, below 1e-12 dropped (unless equal to the
 * previous weight), scaled down when the solver's tolerance puts their sum above 1 - limits.cash.
 * `zhizeng optimize` writes these, as the backtest's weekly step (opt_week_solve) submits them. */
void opt_targets(const opt_problem *p, const opt_result *r, double *w);
/* Writes `code,weight` (opt_targets) for every stock to path and the diagnostics to path + ".diag.ini". */
int opt_result_write(const opt_problem *p, const opt_result *r, const char *path, zz_err *err);
const char *opt_status_name(opt_status s);

/* ---------------------------------------------------------------- the weekly rebalance step */
/* (opt_warm above: one per backtest, passed to every week) */

/* One rebalance date of a backtest; arrays are the panel's n_stocks long (views, not kept). */
typedef struct opt_week_in {
  const panel *p;
  const risk_snapshot *risk;   /* the risk model at the date */
  const double *score;         /* raw scores of the day, NaN where unscored */
  const double *bench;         /* benchmark weights at the close (drifted snapshot), > 0 for members */
  const double *w0;            /* the real book at the close: shares x close / value (the rest is cash) */
  const uint8_t *can_buy;      /* from the day's bar under the simulator's limit test, and 0 outside the
                                  eligible universe (a stock out of it may be held and sold, not bought) */
  const uint8_t *can_sell;     /* from the day's bar */
  int exempt;                  /* 1: the book is all cash (first rebalance): no turnover limit */
  opt_warm *warm;              /* not NULL: solved warm from the backtest's previous week (opt_solve_warm)
                                  and left with this week's state */
  const char *dump_dir;        /* not NULL: the week's problem and limits are written there (SPEC 11.1,
                                  opt_problem_write) before it is solved, for `zhizeng optimize` and bench/ */
} opt_week_in;

typedef struct opt_week {
  int solved;                  /* 1 optimised; 0 held: opt_solve could not solve it (note says why) */
  double *target;              /* n_stocks target weights >= 0, summing to at most 1 (the book when held) */
  opt_result *res;             /* the optimiser's result over the universe (NULL when held) */
  int n_universe, n_members, n_carried, n_dropped, n_unscored, n_fixed;
  double dropped_weight;       /* benchmark weight of members the risk model cannot price (left out) */
  int g_unc;                   /* the unclassified group in res, -1 if none */
  double classified_universe, classified_bench; /* industry coverage of the universe / benchmark weight */
  double max_active, max_weight; /* of the targets over the universe */
  double planned_turnover;     /* 0.5 (sum|target - w0| + |cash - cash0|) */
  char note[ZZ_ERR_MSG];
} opt_week;

/* The weekly step: universe = stocks the risk model prices that are scored and may be bought,
 * benchmark members and holdings (a holding it cannot price is kept as it is, "fixed"); scores
 * z-scored over the scored stocks (zz_zscore), unscored ones neutral (0); benchmark renormalised over
 * the members in the universe; previous book = w0 (with its cash); then opt_solve under lim. A problem
 * opt_solve reports unsolvable (ZZ_ENUMERIC) gives a held week (solved = 0, target = w0), not an error. */
int opt_week_solve(const opt_week_in *in, const opt_limits *lim, opt_week **out, zz_err *err);
void opt_week_free(opt_week *w);

#endif
