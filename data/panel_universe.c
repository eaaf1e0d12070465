/* panel_universe.c — the universe screen (CSI All-Share rules): which stock-days are eligible for
 * labels, scores, factor tests and buying: listed, not ST / *ST, listed long enough. Rules and the
 * listing-age definition: data.h, "universe screen"; docs/market_data.md. */
#include "data.h"

#include <math.h>
#include <string.h>

void panel_universe_init(panel_universe_opts *o) {
  memset(o, 0, sizeof *o);
  o->exclude_st = 1;
  o->min_listed_days = 60;
}

const char *panel_st_source_name(panel_st_source s) {
  switch (s) {
    case PANEL_ST_BY_FLAG: return "ST excluded by is_st";
    case PANEL_ST_BY_LIMITS: return "ST excluded by 5 % price limits (no is_st)";
    case PANEL_ST_UNKNOWN: return "ST not excluded (no is_st, no up_limit)";
    case PANEL_ST_KEPT: return "ST kept (--keep-st)";
  }
  return "?";
}

panel_st_source panel_universe_st_source(const panel *p, const panel_universe_opts *o) {
  panel_universe_opts d;
  if (!o) panel_universe_init(&d), o = &d;
  if (!o->exclude_st) return PANEL_ST_KEPT;
  if (p->has_is_st) return PANEL_ST_BY_FLAG;
  if (p->has_limits && p->f[PF_UP_LIMIT] && p->f[PF_PRE_CLOSE] && p->f[PF_CLOSE]) return PANEL_ST_BY_LIMITS;
  return PANEL_ST_UNKNOWN;
}

/* round(x, 2) half away from zero as the exchanges and panel_ingest.c compute limits (11.055 -> 11.06) */
static double round2(double x) { return floor(x * 100.0 + 0.5 + 1e-7) / 100.0; }

/* within a cent, with room for the binary representation of both sides */
static int near_cent(double a, double b) { return fabs(a - b) <= 0.01 + 1e-6; }

/* The ST state of a stock from its limits (see data.h), one day at a time. */
typedef struct st_track {
  int state;         /* 1: ST */
  double prev_close; /* last positive close, NaN before the first */
} st_track;

static int st_step(const panel *p, int t, int i, st_track *k) {
  const size_t a = panel_at(p, t, i);
  const uint8_t fl = p->flags[a];
  if (!(fl & PANEL_LISTED)) {
    k->state = 0, k->prev_close = NAN;
    return 0;
  }
  const int32_t ymd = p->dates[t];
  const panel_board b = p->stocks[i].board;
  const double rs = panel_limit_ratio(b, 1, ymd), rn = panel_limit_ratio(b, 0, ymd);
  if (rs == rn) {
    k->state = 0; /* the limits cannot tell ST on this board and date */
  } else if (!(fl & PANEL_SUSPENDED)) {
    double pc = p->f[PF_PRE_CLOSE][a];
    if (!(isfinite(pc) && pc > 0)) pc = k->prev_close;
    const double up = p->f[PF_UP_LIMIT][a];
    if (isfinite(pc) && pc > 0 && isfinite(up)) {
      const int ms = near_cent(up, round2(pc * (1 + rs))), mn = near_cent(up, round2(pc * (1 + rn)));
      if (ms && !mn) k->state = 1;
      else if (mn && !ms) k->state = 0;
    }
  }
  const double c = p->f[PF_CLOSE][a];
  if (isfinite(c) && c > 0) k->prev_close = c;
  return k->state;
}

/* Weekdays (Mon-Fri) in [from, to) as YYYYMMDD; 0 when from >= to. */
static int weekdays_between(int32_t from, int32_t to) {
  const int32_t d0 = zz_date_to_days(from), d1 = zz_date_to_days(to);
  if (d1 <= d0) return 0;
  const int32_t full = (d1 - d0) / 7; /* whole weeks hold 5 weekdays each */
  int n = 5 * full;
  for (int32_t d = d0 + 7 * full; d < d1; d++) n += zz_date_weekday(zz_days_to_date(d)) <= 5;
  return n;
}

/* age(t) = t - base for stock i: the trading days from its listing day through t, both included
 * (age < 1: not yet listed). A stock whose listing is older than the panel with no list_date gets a
 * base so low that no min_listed_days excludes it. */
static long age_base(const panel *p, int i) {
  const int32_t L = p->stocks[i].list_date;
  if (L > 0) {
    if (L < p->dates[0]) return -1L - weekdays_between(L, p->dates[0]); /* age(0) = 1 + weekdays before */
    int lo = 0, hi = p->n_dates; /* first calendar date on or after L */
    while (lo < hi) {
      const int mid = lo + (hi - lo) / 2;
      if (p->dates[mid] < L) lo = mid + 1;
      else hi = mid;
    }
    return (long)lo - 1; /* age(lo) = 1 */
  }
  for (int t = 0; t < p->n_dates; t++)
    if (p->flags[panel_at(p, t, i)] & PANEL_LISTED) return t == 0 ? -1000000000L : (long)t - 1;
  return (long)p->n_dates; /* never listed */
}

int panel_universe_mask(const panel *p, const panel_universe_opts *o, uint8_t *eligible, panel_st_source *src,
                        zz_err *err) {
  panel_universe_opts d;
  if (!o) panel_universe_init(&d), o = &d;
  if (o->min_listed_days < 0)
    return zz_fail(err, ZZ_EUSAGE, "universe: min_listed_days %d: expected >= 0 (0: no listing-age rule)",
                   o->min_listed_days);
  const panel_st_source s = panel_universe_st_source(p, o);
  if (src) *src = s;
  const int T = p->n_dates, N = p->n_stocks;
  /* blocks of stocks, dates outer: each date's row of the block is contiguous in the date-major arrays */
  enum { B = 64 };
  long base[B];
  st_track tr[B];
  for (int i0 = 0; i0 < N; i0 += B) {
    const int nb = N - i0 < B ? N - i0 : B;
    for (int j = 0; j < nb; j++) base[j] = age_base(p, i0 + j), tr[j] = (st_track){0, NAN};
    for (int t = 0; t < T; t++)
      for (int j = 0; j < nb; j++) {
        const size_t a = panel_at(p, t, i0 + j);
        const uint8_t fl = p->flags[a];
        int ok = (fl & PANEL_LISTED) != 0;
        if (s == PANEL_ST_BY_FLAG) ok = ok && !(fl & PANEL_ST);
        if (s == PANEL_ST_BY_LIMITS && st_step(p, t, i0 + j, &tr[j])) ok = 0; /* stepped every day */
        if (ok && o->min_listed_days > 1) ok = (long)t - base[j] >= o->min_listed_days;
        eligible[a] = (uint8_t)ok;
      }
  }
  return ZZ_OK;
}
