/* synth_vendor_lib.h — helpers of the vendor-condition tests of the synthetic market (private to
 * tests/data): a temporary directory, a whole-CSV-column reader on zz_csv, and the bonus ratio of an
 * ex-rights day recovered from the bars alone. */
#ifndef ZZ_SYNTH_VENDOR_LIB_H
#define ZZ_SYNTH_VENDOR_LIB_H
#include "data.h"
#include "data/zz_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads column `col` of every row of dir/name into a malloc'd array of strings (each malloc'd);
 * returns the row count, or -1 when the file or the column is missing. */
static inline int sv_read_column(const char *dir, const char *name, const char *col, char ***out) {
  char path[8192];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  zz_csv *r = NULL;
  zz_err err = {0, ""};
  *out = NULL;
  if (zz_csv_open(&r, path, &err)) return -1;
  const char *names[] = {col, NULL};
  int c = zz_csv_find(r, names);
  if (c < 0) {
    zz_csv_close(r);
    return -1;
  }
  int n = 0, cap = 0;
  char **v = NULL;
  while (zz_csv_next(r, &err) == 1) {
    if (n == cap) {
      cap = cap ? 2 * cap : 1024;
      v = realloc(v, (size_t)cap * sizeof *v);
    }
    v[n++] = strdup(zz_csv_field(r, c));
  }
  zz_csv_close(r);
  *out = v;
  return n;
}

static inline void sv_free_column(char **v, int n) {
  for (int k = 0; k < n; k++) free(v[k]);
  free(v);
}

/* 1 when the header of dir/name has column col. */
static inline int sv_has_column(const char *dir, const char *name, const char *col) {
  char path[8192];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  zz_csv *r = NULL;
  zz_err err = {0, ""};
  if (zz_csv_open(&r, path, &err)) return 0;
  const char *names[] = {col, NULL};
  const int c = zz_csv_find(r, names);
  zz_csv_close(r);
  return c >= 0;
}

/* The synthetic ex-rights rule (docs/synthetic_market.md): pre_close = round((prev - d) / R, 2) with a
 * cash dividend d of 0.5-3 % of prev (in whole cents) and a bonus ratio R in {1, 1.3, 1.5, 2}. The
 * ranges of prev / pre_close around each R are far apart (cent rounding widens them only for prices
 * of a few CNY, which have R = 1), so R follows from the bars; 0 when none fits. */
static inline double sv_bonus_ratio(double prev, double pre) {
  static const double ratios[4] = {1.0, 1.3, 1.5, 2.0};
  for (int k = 0; k < 4; k++) {
    const double y = 1 - pre * ratios[k] / prev; /* the dividend yield if the ratio is ratios[k] */
    if (y > 0 && y < 0.08) return ratios[k];
  }
  return 0;
}

/* The stock's price return on day t from unadjusted bars: close * R / previous close - 1 on an
 * ex-rights day (pre_close != previous close), close / previous close - 1 otherwise; 0 when suspended.
 * The first bar of a stock suspended since the first day (vendor bars: unlisted in the panel until
 * then) has no previous close in the panel; its pre_close is that close. */
static inline double sv_price_return(const panel *p, int t, int i, int *bad) {
  const size_t a = panel_at(p, t, i), b = panel_at(p, t - 1, i);
  if (!(p->flags[a] & PANEL_LISTED) || (p->flags[a] & PANEL_SUSPENDED)) return 0;
  const double pre = p->f[PF_PRE_CLOSE][a], close = p->f[PF_CLOSE][a];
  const double prev = (p->flags[b] & PANEL_LISTED) ? p->f[PF_CLOSE][b] : pre;
  double R = 1;
  if (fabs(pre - prev) > 1e-9 * prev) {
    R = sv_bonus_ratio(prev, pre);
    if (R == 0) {
      (*bad)++;
      R = 1;
    }
  }
  return close * R / prev - 1;
}
#endif
