/* rep_metrics.c — performance statistics on plain arrays (returns, NAVs, correlations).
 * Definitions are in docs/reports.md; undefined results are NaN. */
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double rep_mean(const double *x, int n) {
  if (n < 1) return NAN;
  double s = 0;
  for (int k = 0; k < n; k++) s += x[k];
  return s / n;
}

double rep_std(const double *x, int n, int ddof) {
  if (n - ddof < 1) return NAN;
  double m = rep_mean(x, n), s = 0;
  for (int k = 0; k < n; k++) s += (x[k] - m) * (x[k] - m);
  return sqrt(s / (n - ddof));
}

void rep_compound(const double *r, int n, double *nav) {
  double v = 1.0;
  for (int k = 0; k < n; k++) {
    v *= 1.0 + r[k];
    nav[k] = v;
  }
}

double rep_annual_return(const double *r, int n) {
  if (n < 1) return NAN;
  double v = 1.0;
  for (int k = 0; k < n; k++) v *= 1.0 + r[k];
  if (v < 0) return NAN;
  return pow(v, REP_DAYS_PER_YEAR / n) - 1.0;
}

double rep_sharpe(const double *r, int n) {
  if (n < 2) return NAN;
  double sd = rep_std(r, n, 1);
  if (!(sd > REP_MIN_DAILY_STD)) return NAN; /* zero within the rounding of the NAV files: a ratio would be noise */
  return rep_mean(r, n) / sd * sqrt(REP_DAYS_PER_YEAR);
}

void rep_drawdown_series(const double *r, int n, double *dd) {
  double v = 1.0, peak = 1.0;
  for (int k = 0; k < n; k++) {
    v *= 1.0 + r[k];
    if (v > peak) peak = v;
    dd[k] = v / peak - 1.0;
  }
}

double rep_max_drawdown(const double *r, int n) {
  if (n < 1) return NAN;
  double v = 1.0, peak = 1.0, mdd = 0.0;
  for (int k = 0; k < n; k++) {
    v *= 1.0 + r[k];
    if (v > peak) peak = v;
    double d = v / peak - 1.0;
    if (d < mdd) mdd = d;
  }
  return mdd;
}

static double excess_stat(const double *rp, const double *rb, int n, int want_ir) {
  if (n < 2) return NAN;
  double *e = malloc(sizeof *e * (size_t)n);
  if (!e) return NAN;
  for (int k = 0; k < n; k++) e[k] = rp[k] - rb[k];
  double te = rep_std(e, n, 1) * sqrt(REP_DAYS_PER_YEAR);
  double out = te;
  if (want_ir) out = te > REP_MIN_DAILY_STD * sqrt(REP_DAYS_PER_YEAR) ? rep_mean(e, n) * REP_DAYS_PER_YEAR / te : NAN;
  free(e);
  return out;
}

double rep_tracking_error(const double *rp, const double *rb, int n) { return excess_stat(rp, rb, n, 0); }
double rep_info_ratio(const double *rp, const double *rb, int n) { return excess_stat(rp, rb, n, 1); }

/* ISO week key: Monday's day number. */
static int32_t week_key(int32_t ymd) {
  int32_t d = zz_date_to_days(ymd);
  return d - (zz_date_weekday(ymd) - 1);
}

double rep_weekly_win_rate(const int32_t *dates, const double *nav, int n, int *n_weeks) {
  int weeks = 0, wins = 0;
  double base = n > 0 ? nav[0] : NAN;
  for (int k = 1; k < n; k++) {
    int last_of_week = (k == n - 1) || week_key(dates[k + 1]) != week_key(dates[k]);
    if (!last_of_week) continue;
    weeks++;
    if (nav[k] / base - 1.0 > 0) wins++;
    base = nav[k];
  }
  if (n_weeks) *n_weeks = weeks;
  return weeks ? (double)wins / weeks : NAN;
}

static int is_constant(const double *x, int n) {
  for (int k = 1; k < n; k++)
    if (x[k] != x[0]) return 0;
  return 1;
}

double rep_pearson(const double *x, const double *y, int n) {
  if (n < 2 || is_constant(x, n) || is_constant(y, n)) return NAN;
  double mx = rep_mean(x, n), my = rep_mean(y, n), sxy = 0, sxx = 0, syy = 0;
  for (int k = 0; k < n; k++) {
    double dx = x[k] - mx, dy = y[k] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (!(sxx > 0) || !(syy > 0)) return NAN;
  double r = sxy / sqrt(sxx * syy);
  if (r > 1) r = 1;
  if (r < -1) r = -1;
  return r;
}

