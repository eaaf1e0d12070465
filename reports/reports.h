/* reports.h — zhizeng's reports stage: performance metrics on arrays, factor tests of a score
 * matrix on a panel (RankIC, layered test, decay, correlations), the yearly / summary tables of a
 * simulated run, and writers for CSV, Markdown and one self-contained HTML page with SVG charts.
 *
 * Conventions (docs/reports.md states every definition):
 *   - an undefined statistic (std of one point, correlation of a constant series, ...) is NaN here
 *     and is written as "—" with a footnote saying why in Markdown/HTML (rep_cell, rep_notes) and as an
 *     empty field in CSV, never as 0 or NaN;
 *   - returns are simple daily returns; a NAV series starts at 1 before the first return;
 *   - std uses ddof = 1 (sample standard deviation) everywhere;
 *   - 252 trading days per year.
 */
#ifndef ZZ_REPORTS_H
#define ZZ_REPORTS_H

#include "data.h"
#include "sim.h"

#include <stdint.h>
#include <stdio.h>

#define REP_DAYS_PER_YEAR 252.0
/* A standard deviation of daily returns at or below this is zero for the ratios to it (Sharpe, information
 * ratio): the NAV files carry 10 significant digits, so returns are exact to about 1e-10, and a ratio to a
 * smaller spread is rounding noise (a portfolio equal to its benchmark would show any information ratio). */
#define REP_MIN_DAILY_STD 1e-9

/* ------------------------------------------------------------------ metrics on arrays */

/* Mean of n values; NaN when n < 1. */
double rep_mean(const double *x, int n);
/* Standard deviation with the given ddof (1 = sample); NaN when n - ddof < 1. */
double rep_std(const double *x, int n, int ddof);
/* Compounds daily returns into nav[0..n-1] = prod_{k<=t}(1 + r[k]) (NAV 1 before r[0]). */
void rep_compound(const double *r, int n, double *nav);
/* prod(1 + r)^(252 / n) - 1; NaN when n < 1. */
double rep_annual_return(const double *r, int n);
/* mean(r) / std(r, ddof 1) * sqrt(252); NaN when n < 2 or std <= REP_MIN_DAILY_STD. */
double rep_sharpe(const double *r, int n);
/* Max drawdown of the compounded NAV (starting at 1 before r[0]) as a non-positive fraction:
 * min_t (nav_t / max_{s<=t} nav_s - 1). 0 when the NAV never falls; NaN when n < 1. */
double rep_max_drawdown(const double *r, int n);
/* Drawdown series dd[t] = nav_t / running max - 1 of the compounded NAV. */
void rep_drawdown_series(const double *r, int n, double *dd);
/* std(rp - rb, ddof 1) * sqrt(252). */
double rep_tracking_error(const double *rp, const double *rb, int n);
/* mean(rp - rb) * 252 / tracking error; NaN when n < 2 or the daily std of rp - rb <= REP_MIN_DAILY_STD. */
double rep_info_ratio(const double *rp, const double *rb, int n);
/* Weekly win rate of a NAV series: nav[0..n-1] on dates[0..n-1] (YYYYMMDD), nav[0] the base.
 * Weeks are ISO calendar weeks, valued at their last trading day; the first week's return is
 * measured from nav[0]. Returns the share of weeks with return > 0 and writes the number of weeks
 * to *n_weeks (may be NULL); NaN when there is no week. */
double rep_weekly_win_rate(const int32_t *dates, const double *nav, int n, int *n_weeks);
/* Pearson correlation; NaN when n < 2 or either series is constant. (Spearman and average ranks:
 * zz_spearman, zz_rank_avg in data.h, "shared statistics".) */
double rep_pearson(const double *x, const double *y, int n);

/* ------------------------------------------------------------------ factor tests */

typedef enum { REP_UNIV_CSIALL = -1 } rep_universe_all; /* else PANEL_CSI300 / 500 / 1000 */

typedef struct rep_factor_opts {
  int universe;       /* REP_UNIV_CSIALL or PANEL_CSI300 / PANEL_CSI500 / PANEL_CSI1000 */
  int n_groups;       /* 0: 20 on CSI All, 5 on an index universe */
  int ic_step;        /* RankIC sampling step in trading days, 0: 10 */
  int horizon;        /* forward return from close T+1 to close T+1+horizon, 0: 10 */
  int min_stocks;     /* minimum valid pairs for a cross-section, 0: max(10, n_groups) ... see docs */
  panel_universe_opts screen; /* universe screen on top of `universe` (data.h): ST / *ST and stocks listed
                                 fewer than 60 trading days are out by default (rep_factor_default_opts) */
} rep_factor_opts;

void rep_factor_default_opts(rep_factor_opts *o);

#define REP_N_LAGS 5
#define REP_N_PV 5 /* ret60, vol20, log turnover, idio vol, Amihud */
const char *rep_pv_factor_name(int k);

/* Result of the factor tests of one score column. Arrays are owned by the struct. */
typedef struct rep_factor_result {
  /* RankIC series (sampled every ic_step days) */
  int n_ic;
  int32_t *ic_date;     /* YYYYMMDD of the score */
  double *ic;           /* NaN where undefined (too few stocks, constant scores) */
  double ic_mean, ic_std, ic_ir, ic_pos; /* over the defined values; ic_pos = share > 0 */
  int n_ic_defined;
  /* decay: RankIC mean of the score lagged 0, 5, 10, 15, 20 days */
  int lags[REP_N_LAGS];
  double decay[REP_N_LAGS];
  /* layered test */
  int n_groups;
  int n_days;           /* daily returns in the layered test */
  int32_t *day_date;    /* n_days dates */
  double *group_ret;    /* n_days x n_groups daily returns, group 0 = lowest scores */
  double *univ_ret;     /* n_days equal-weight universe returns */
  double *group_ann_hedged; /* n_groups annualised return of the group's hedged NAV */
  double top_ann_hedged, bottom_ann_hedged, top_sharpe, top_mdd, top_turnover;
  int n_rebalances;
  /* correlation of this score with price-volume factors: mean cross-sectional Spearman */
  double pv_corr[REP_N_PV];
  panel_st_source st_source; /* the ST rule the screen used: PANEL_ST_UNKNOWN -> stamp "ST not excluded" */
} rep_factor_result;

/* Runs the factor tests of scores[n_dates x n_stocks] (date-major like the panel, NaN = no score)
 * on the panel; every cross-section (RankIC, decay, layered groups, price-volume correlations) holds the
 * stock-days of o->universe that are eligible under o->screen on that date (panel_universe_mask). Fails with ZZ_EDATA and a message when there is no usable cross-section (empty or
 * constant scores). */
int rep_factor_test(const panel *p, const double *scores, const rep_factor_opts *o, rep_factor_result **out,
                    zz_err *err);
void rep_factor_result_free(rep_factor_result *r);

/* The factor-test table's cells of r, REP_FACTOR_CELLS of them in this order: RankIC mean, IC_IR, RankIC > 0 share,
 * top group hedged annualised, bottom group hedged annualised, top group Sharpe, top group max drawdown, top group
 * weekly turnover; an undefined one is "—" with a note in n saying why. */
enum { REP_FC_IC_MEAN, REP_FC_IC_IR, REP_FC_IC_POS, REP_FC_TOP_ANN, REP_FC_BOTTOM_ANN, REP_FC_TOP_SHARPE, REP_FC_TOP_MDD,
       REP_FC_TOP_TURNOVER, REP_FACTOR_CELLS };
typedef struct rep_notes rep_notes;
void rep_factor_cells(const rep_factor_result *r, char (*cells)[32], rep_notes *n);

/* Mean over the RankIC sampling dates of the cross-sectional Pearson and Spearman correlation between
 * score columns a and b (universe as in o). NaN when no date has enough common stocks. */
int rep_score_correlation(const panel *p, const double *a, const double *b, const rep_factor_opts *o,
                          double *pearson, double *spearman, zz_err *err);



/* ------------------------------------------------------------------ factor units (seed 002 3.1) */

/* A unit counts as effective when |RankIC mean| > REP_UNIT_IC_THRESHOLD (2 %). */
#define REP_UNIT_IC_THRESHOLD 0.02

typedef struct rep_html rep_html;

/* Statistics of the K factor units of a multivariate model (docs/reports.md, "Factor units"). */
typedef struct rep_unit_result {
  int K;
  double *ic_mean, *ic_std, *ic_ir; /* K each: each unit's RankIC series exactly as rep_factor_test's (lag 0,
                                       sampled every ic_step days, o's universe and screen); IC_IR = mean / std */
  int *n_ic;                        /* K: the dates with a defined RankIC */
  double share_above;               /* share of the units with a defined mean whose |RankIC mean| > 2 % */
  int n_defined;                    /* units with a defined RankIC mean */
  double ic_mean_avg, ic_ir_avg;    /* mean over the units of the defined RankIC means / IC_IRs (NaN: none) */
  double mutual_corr;               /* zz_unit_correlation over every date of the panel, on the stock-days of o's
                                       universe (listed, not suspended, eligible, an index member if an index) */
  double *pair_corr;                /* K x K mean correlations (zz_unit_correlation's pair) */
  int n_corr_dates;
} rep_unit_result;

/* Unit statistics of units[0..K-1] (each n_dates x n_stocks like the panel, NaN = no value), K >= 2. */
int rep_unit_stats(const panel *p, int K, const double *const *units, const rep_factor_opts *o,
                   rep_unit_result **out, zz_err *err);
void rep_unit_result_free(rep_unit_result *r);
/* Histogram of v[0..n-1] (NaN skipped) in n_bins equal bins over [lo, hi] (a value equal to hi goes to the last
 * bin, values outside are left out): counts[n_bins]. */
void rep_histogram(const double *v, int n, double lo, double hi, int n_bins, double *counts);
/* The unit statistics of n models (labels[m] names model m) to dir: units.csv (model,unit,n_ic,rankic_mean,
 * rankic_std,ic_ir), units_summary.csv (model,units,n_defined,rankic_mean_avg,ic_ir_avg,
 * share_abs_rankic_above_2pct,mutual_corr,corr_dates) and unit_correlation.csv (model,unit_a,unit_b,mean_pearson,
 * pairs a < b); their summary table in Markdown; in HTML the table and, per model, histograms of the units'
 * RankIC means (1 % bins) and IC_IR (0.1 bins). */
int rep_unit_write_csv(const char *dir, int n, const rep_unit_result *const *r, const char *const *labels,
                       zz_err *err);
void rep_unit_md(FILE *f, int n, const rep_unit_result *const *r, const char *const *labels);
void rep_unit_html(rep_html *h, int n, const rep_unit_result *const *r, const char *const *labels);

/* ------------------------------------------------------------------ runs (simulator output) */

/* The daily series of a simulation (sim.h's sim_result: run in memory, or read back with
 * sim_result_read, which owns nav.csv). */
typedef struct rep_run {
  char label[64];
  int n;               /* rows */
  int32_t *date;
  double *nav, *bench, *hedged, *cash, *turnover, *costs;
} rep_run;
int rep_run_from_sim(const sim_result *s, const char *label, rep_run **out, zz_err *err);
void rep_run_free(rep_run *r);

typedef struct rep_year_row {
  int year;
  int partial;           /* the run does not cover the whole calendar year */
  int32_t first, last;   /* first and last date of the year in the run */
  double abs_ret, hedged_ret, bench_ret;
} rep_year_row;

typedef struct rep_summary {
  double abs_ann, abs_sharpe, abs_mdd, abs_win;
  double hed_ann, hed_sharpe, hed_mdd, hed_win;
  double bench_ann;
  double te, ir, mean_weekly_turnover, total_costs; /* total_costs in the unit of nav.csv (CNY) */
  int days, weeks;
} rep_summary;

/* Yearly table: for each calendar year the return from the NAV at the previous year's last row (the
 * first row for the first year) to the NAV at the year's last row. rows must hold as many years as the
 * run spans; returns the count. A year is partial when the run starts after January 7 of it or ends
 * before December 24 of it. */
int rep_yearly(const rep_run *r, rep_year_row *rows, int cap);
void rep_summarise(const rep_run *r, rep_summary *s);

/* The summary metrics in the order of the reports' tables: labels ("absolute Sharpe"), CSV keys ("abs_sharpe"),
 * whether a fraction (shown as a percentage), the value, and why it is undefined (NULL when it is defined). */
enum {
  REP_SUM_ABS_ANN, REP_SUM_ABS_SHARPE, REP_SUM_ABS_MDD, REP_SUM_ABS_WIN, REP_SUM_HED_ANN, REP_SUM_HED_SHARPE,
  REP_SUM_HED_MDD, REP_SUM_HED_WIN, REP_SUM_BENCH_ANN, REP_SUM_TE, REP_SUM_IR, REP_SUM_TURNOVER, REP_SUM_COSTS,
  REP_SUM_N
};
const char *rep_summary_label(int m);
const char *rep_summary_key(int m);
int rep_summary_is_pct(int m);
double rep_summary_value(const rep_summary *s, int m);
const char *rep_summary_why(const rep_summary *s, int m);

/* ------------------------------------------------------------------ formatting and output */

/* "12.34%" (two decimals), or "—" when not finite (a table cell that may be undefined uses rep_cell, which adds
 * the footnote mark); returns buf. */
char *rep_fmt_pct(char *buf, size_t n, double v);
/* "%.2f", or "—". */
char *rep_fmt_num(char *buf, size_t n, double v);
/* CSV field: %.10g, empty when undefined. */
char *rep_fmt_csv(char *buf, size_t n, double v);

/* Undefined statistics in tables: the cell reads "—" with a footnote mark (¹, ², …) and the note under the table
 * says why (docs/reports.md, "Undefined statistics"). A table collects its notes while its cells are formatted. */
#define REP_NOTES_MAX 12
struct rep_notes {
  int n;
  char why[REP_NOTES_MAX][320];
};
void rep_notes_init(rep_notes *n);
/* v as rep_fmt_pct (pct) or rep_fmt_num when finite; else "—" and the mark of why (a note added to n when new;
 * n NULL: no mark). */
char *rep_cell(char *buf, size_t len, double v, int pct, rep_notes *n, const char *why);
/* "—" and the mark of why: a cell whose statistic was not computed at all. */
char *rep_cell_why(char *buf, size_t len, rep_notes *n, const char *why);
/* The notes under a table, one line each ("¹ why"); nothing when there is none. */
void rep_notes_md(FILE *f, const rep_notes *n);
void rep_notes_html(rep_html *h, const rep_notes *n);
/* Why a ratio to a standard deviation over count values of what ("RankIC dates") is undefined: fewer than two,
 * or no spread. Written into buf; returns buf. */
const char *rep_why_spread(char *buf, size_t len, int count, const char *what);

/* One self-contained HTML page assembled section by section: inline CSS (with print rules that keep a chart
 * or table on one page) and inline SVG, no scripts. Every heading gets an anchor, and the page opens with a
 * contents list linking to them (written by rep_html_close, when there are two headings or more). */
typedef struct rep_html rep_html;
int rep_html_open(rep_html **out, const char *path, const char *title, zz_err *err);
void rep_html_heading(rep_html *h, const char *text);
void rep_html_para(rep_html *h, const char *text);
/* A table of strings: header[n_cols], cells[n_rows * n_cols]. */
void rep_html_table(rep_html *h, const char *caption, int n_rows, int n_cols, const char *const *header,
                    const char *const *cells);
/* Lines over calendar time with a legend: series s has n[s] points at dates x[s] (YYYYMMDD, ascending) with
 * values y[s] (NaN = no point); names[s] in the legend. y_label names the quantity and its unit on the y axis
 * (NULL: none). pct_axis: the values are fractions, ticks read "12%". The x axis is marked at month starts
 * (every 1, 3, 6 or 12 months: "2022", "2022-04"). */
void rep_html_lines(rep_html *h, const char *id, const char *title, const char *y_label, int n_series,
                    const int32_t *const *x, const int *n, const double *const *y, const char *const *names,
                    int pct_axis);
/* Grouped bars: n_cat categories labelled cat[] (x_label under them, NULL: none), n_series bars in each
 * (v[s][c], NaN = no bar), names[s] in the legend. names NULL with one series: no legend, bars coloured by
 * sign (red up, green down). cum_label non-NULL with one series: also the cumulative sum of the bars (NaN
 * skipped) as a line on a right axis with that label. */
void rep_html_bars(rep_html *h, const char *id, const char *title, const char *y_label, const char *x_label,
                   int n_cat, const char *const *cat, int n_series, const double *const *v, const char *const *names,
                   const char *cum_label, int pct_axis);
/* Lines over training epochs: series s has n[s] points, y[s][k] at epoch k + 1 (NaN = no point), names[s] in the
 * legend; x axis "epoch" with integer ticks. */
void rep_html_epochs(rep_html *h, const char *id, const char *title, const char *y_label, int n_series, const int *n,
                     const double *const *y, const char *const *names, int pct_axis);
/* rep_html_lines with one date axis x[n] for every series (y label "%" when pct_axis). */
void rep_html_line_chart(rep_html *h, const char *id, const char *title, const int32_t *x, int n,
                         int n_series, const double *const *ys, const char *const *names, int pct_axis);
/* rep_html_bars of one unnamed series, with its cumulative sum on a right axis when cum != 0. */
void rep_html_bar_chart(rep_html *h, const char *id, const char *title, int n, const char *const *labels,
                        const double *v, int cum, int pct_axis);
/* Finishes and closes the file; returns ZZ_EIO with a message on a write error. */
int rep_html_close(rep_html *h, zz_err *err);

/* Series the charts draw (docs/reports.md, "HTML"):
 * drawdown of a NAV level series, dd[t] = nav[t] / max_{s<=t} nav[s] - 1 (NaN points skipped in the max,
 * NaN out); */
void rep_chart_drawdown(const double *nav, int n, double *dd);
/* running sum of v with NaN counted as 0; */
void rep_chart_cumsum(const double *v, int n, double *out);
/* top-minus-bottom NAV of a layered test, nav[k] = prod_{j<=k} (1 + r_top[j] - r_bottom[j]) from
 * group_ret[n_days x n_groups] (group 0 = bottom, n_groups - 1 = top; a NaN difference leaves the NAV). */
void rep_chart_long_short(const double *group_ret, int n_days, int n_groups, double *nav);

/* Markdown table to a stream. */
void rep_md_table(FILE *f, const char *caption, int n_rows, int n_cols, const char *const *header,
                  const char *const *cells);

/* ------------------------------------------------------------------ factor screening (seed 004 3.1.3) */

typedef struct rep_screen_opts {
  rep_factor_opts factor; /* universe, groups, screen of the single-factor tests (as zhizeng evaluate) */
  double min_rankic;      /* 0.02: a factor needs |mean RankIC| >= this ... */
  double min_icir;        /* 0.3: ... and |IC_IR| >= this */
  double max_corr;        /* 0.7: two factors whose mean daily Spearman exceeds this in absolute value are correlated */
  int corr_step;          /* 1: the Spearman is averaged over every scored date (k: every k-th) */
} rep_screen_opts;
void rep_screen_default_opts(rep_screen_opts *o);

typedef struct rep_screen_factor {
  char name[64], group[64];
  int flipped;            /* the mean RankIC was negative: the column was negated (statistics are after the flip) */
  int passed;             /* passed the thresholds (and so entered the correlation filter) */
  int kept;
  char reason[512];       /* why it was kept or dropped */
  double ic_mean, ic_std, ic_ir, ic_pos;
  int n_ic;
  double top_excess_ann;  /* top group's hedged (excess over the universe) annualised return */
  double top_ann;         /* top group's absolute annualised return */
  double top_mdd;         /* max drawdown of the top group's hedged NAV */
  double top_ir;          /* information ratio of the top group against the universe's equal-weight return */
  double bottom_excess_ann, top_turnover;
} rep_screen_factor;

typedef struct rep_screen_result {
  int n, n_kept, grouped;
  rep_screen_factor *f;   /* n, in column order */
  double *corr;           /* n x n mean daily Spearman of the (flipped) columns; NaN where a side did not pass */
} rep_screen_result;

/* Screens columns cols[0..n-1] (n_dates x n_stocks, NaN = no value) named names[k], in groups[k] (NULL: one
 * group). (1) rep_factor_test of each column; a negative mean RankIC negates the column IN PLACE and tests it
 * again; (2) dropped unless |mean RankIC| >= min_rankic and |IC_IR| >= min_icir; (3) rep_score_correlation
 * with ic_step = corr_step (mean over dates of the cross-sectional Spearman on the test universe) between the
 * factors that passed; (4) greedily in order of |IC_IR| (ties: the earlier column), a factor is dropped when a
 * kept one of its group is correlated with it above max_corr; (5) the same across all groups among the
 * survivors. Every factor gets its reason. A column the factor test rejects (empty, constant) is dropped. */
int rep_screen(const panel *p, double *const *cols, const char (*names)[64], const char (*groups)[64], int n,
               const rep_screen_opts *o, rep_screen_result **out, zz_err *err);
void rep_screen_result_free(rep_screen_result *r);
/* Writes into dir: decisions.csv (every factor, decision, reason, sign flip, statistics), kept.csv, correlation.csv
 * and correlation.svg (heat map of the factors that passed), report.md, and features/<dataset>.csv: date,code and
 * the kept (flipped) columns, a row per stock-day with any of them (an extra dataset, docs/market_data.md). */
int rep_screen_write(const panel *p, double *const *cols, const rep_screen_result *r, const rep_screen_opts *o,
                     const char *dir, const char *dataset, zz_err *err);

#endif
