/* panel_testlib.h — for the data tests: a small random market written in the native or the
 * tushare format from the same underlying integers, and an exact comparison of two panels. */
#ifndef ZZ_PANEL_TESTLIB_H
#define ZZ_PANEL_TESTLIB_H
#include "data.h"
#include "data/zz_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static inline uint64_t tl_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

enum { TL_DAYS = 45, TL_STOCKS = 12 };

/* Writes a market of TL_STOCKS stocks over TL_DAYS weekdays from 2020-07-01 into dir (created).
 * tushare = 1: ts_code/trade_date (YYYYMMDD), vol in lots, amount in thousand CNY, weights in
 * percent under index_code/con_code, SH600000-style codes, rows in descending date order. */
static inline void tl_write_market(const char *dir, int tushare, uint64_t seed) {
  mkdir(dir, 0755);
  char path[512];
  int32_t dates[TL_DAYS];
  int32_t z = zz_date_to_days(20200701);
  for (int n = 0; n < TL_DAYS; z++)
    if (zz_date_weekday(zz_days_to_date(z)) <= 5) dates[n++] = zz_days_to_date(z);
  static const char *const codes[TL_STOCKS] = {"600000.SH", "600004.SH", "000001.SZ", "000002.SZ",
                                                "300750.SZ", "300001.SZ", "688981.SH", "688001.SH",
                                                "601318.SH", "002415.SZ", "600519.SH", "000858.SZ"};
  /* prices in cents, random walk with hits of the limits; some days without a row */
  int64_t close[TL_STOCKS][TL_DAYS];
  int has[TL_STOCKS][TL_DAYS];
  uint64_t s = seed;
  for (int i = 0; i < TL_STOCKS; i++) {
    int64_t c = 500 + (int64_t)(tl_next(&s) % 5000);
    for (int t = 0; t < TL_DAYS; t++) {
      has[i][t] = (tl_next(&s) % 10) != 0 && !(i == 11 && t < 5);
      int r = (int)(tl_next(&s) % 2001) - 1000; /* -10 % .. +10 % */
      int64_t nc = c + c * r / 10000;
      if (nc < 100) nc = 100;
      if (has[i][t]) c = nc;
      close[i][t] = c;
    }
  }
  char line[512];
  FILE *b, *ib, *w;
  snprintf(path, sizeof path, "%s/bars.csv", dir);
  b = fopen(path, "w");
  snprintf(path, sizeof path, "%s/index_bars.csv", dir);
  ib = fopen(path, "w");
  snprintf(path, sizeof path, "%s/index_weights.csv", dir);
  w = fopen(path, "w");
  if (!b || !ib || !w) {
    zz_failures++;
    return;
  }
  fputs(tushare ? "ts_code,trade_date,open,high,low,close,pre_close,vol,amount\n"
                : "date,code,open,high,low,close,volume,amount,pre_close\n", b);
  fputs(tushare ? "ts_code,trade_date,close\n" : "date,index,close\n", ib);
  fputs(tushare ? "index_code,con_code,trade_date,weight\n" : "date,index,code,weight\n", w);
  for (int k = 0; k < TL_DAYS; k++) {
    int t = tushare ? TL_DAYS - 1 - k : k;
    char ds[16];
    if (tushare) snprintf(ds, sizeof ds, "%d", dates[t]);
    else zz_date_format(dates[t], ds);
    for (int i = 0; i < TL_STOCKS; i++) {
      if (!has[i][t]) continue;
      s = seed * 1000003u + (uint64_t)(t * 100 + i); /* same draws whatever the row order */
      int64_t c = close[i][t], hi = c + (int64_t)(tl_next(&s) % 50), lo = c - (int64_t)(tl_next(&s) % 50);
      if (lo < 1) lo = 1;
      int64_t op = lo + (hi > lo ? (int64_t)(tl_next(&s) % (uint64_t)(hi - lo + 1)) : 0);
      int64_t pre = t > 0 ? close[i][t - 1] : c;
      if (i == 2 && t == 20 && has[i][t]) pre = pre * 9 / 10; /* an ex-rights day */
      int64_t shares = (int64_t)(tl_next(&s) % 100000000), cents = shares * c / 100 * 100 + (int64_t)(tl_next(&s) % 100);
      char code[ZZ_CODE_LEN];
      if (tushare && i % 2) snprintf(code, sizeof code, "%.2s%.6s", codes[i] + 7, codes[i]); /* SH600004 */
      else snprintf(code, sizeof code, "%s", codes[i]);
      char ohlc[128];
      snprintf(ohlc, sizeof ohlc, "%lld.%02lld,%lld.%02lld,%lld.%02lld,%lld.%02lld", (long long)(op / 100),
               (long long)(op % 100), (long long)(hi / 100), (long long)(hi % 100), (long long)(lo / 100),
               (long long)(lo % 100), (long long)(c / 100), (long long)(c % 100));
      if (tushare)
        snprintf(line, sizeof line, "%s,%s,%s,%lld.%02lld,%lld.%02lld,%lld.%05lld\n", code, ds, ohlc,
                 (long long)(pre / 100), (long long)(pre % 100), (long long)(shares / 100), (long long)(shares % 100),
                 (long long)(cents / 100000), (long long)(cents % 100000));
      else
        snprintf(line, sizeof line, "%s,%s,%s,%lld,%lld.%02lld,%lld.%02lld\n", ds, code, ohlc, (long long)shares,
                 (long long)(cents / 100), (long long)(cents % 100), (long long)(pre / 100), (long long)(pre % 100));
      fputs(line, b);
    }
    s = seed * 7919u + (uint64_t)t;
    for (int ix = 0; ix < 2; ix++) {
      long long v = 400000 + (long long)(tl_next(&s) % 100000);
      if (tushare) fprintf(ib, "%s.SH,%s,%lld.%02lld\n", zz_index_code(ix), ds, v / 100, v % 100);
      else fprintf(ib, "%s,%s,%lld.%02lld\n", ds, zz_index_name(ix), v / 100, v % 100);
    }
    if (t % 10 == 0) { /* snapshots: csi300 of stocks 0..5, csi500 of 6..11; weights in 1e-6 */
      for (int ix = 0; ix < 2; ix++) {
        int left = 1000000;
        for (int m = 0; m < 6; m++) {
          int i = ix * 6 + m, wi = m == 5 ? left : 50000 + (int)(tl_next(&s) % 100000);
          left -= wi;
          if (tushare) fprintf(w, "%s.SH,%s,%s,%d.%04d\n", zz_index_code(ix), codes[i], ds, wi / 10000, wi % 10000);
          else fprintf(w, "%s,%s,%s,0.%06d\n", ds, zz_index_code(ix), codes[i], wi);
        }
      }
    }
  }
  fclose(b);
  fclose(ib);
  fclose(w);
  /* optional files, identical in both formats except the code column name */
  snprintf(path, sizeof path, "%s/industry.csv", dir);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(tushare ? "ts_code,industry,start_date,end_date\n" : "code,industry,start_date,end_date\n", f);
    for (int i = 0; i < TL_STOCKS; i++) fprintf(f, "%s,ind%d,,%s\n", codes[i], i % 4, i == 3 ? "2020-08-01" : "");
    fprintf(f, "%s,ind9,2020-08-02,\n", codes[3]);
    fclose(f);
  }
  snprintf(path, sizeof path, "%s/fundamentals.csv", dir);
  f = fopen(path, "w");
  if (f) {
    fputs(tushare ? "ann_date,ts_code,float_shares,total_shares\n" : "date,code,float_shares,total_shares\n", f);
    for (int i = 0; i < TL_STOCKS; i++) fprintf(f, "%s,%s,%d,%d\n", tushare ? "20200715" : "2020-07-15", codes[i],
                                                 1000000 * (i + 1), 2000000 * (i + 1));
    fclose(f);
  }
}

static inline int tl_same_double(const double *a, const double *b, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (!(a[k] == b[k] || (isnan(a[k]) && isnan(b[k])))) {
      fprintf(stderr, "  differ at %zu: %.17g vs %.17g\n", k, a[k], b[k]);
      return 0;
    }
  return 1;
}

/* Every array of two panels, exactly (NaN equals NaN). Returns the number of differences. */
static inline int tl_compare(const panel *a, const panel *b) {
  int bad = 0;
#define SAME(cond, what) do { if (!(cond)) { fprintf(stderr, "panels differ: %s\n", what); bad++; } } while (0)
  SAME(a->n_dates == b->n_dates && a->n_stocks == b->n_stocks, "dimensions");
  if (bad) return bad;
  size_t nd = (size_t)a->n_dates, ns = (size_t)a->n_stocks, cells = nd * ns;
  SAME(!memcmp(a->dates, b->dates, nd * sizeof *a->dates), "dates");
  for (size_t i = 0; i < ns; i++)
    SAME(!strcmp(a->stocks[i].code, b->stocks[i].code) && a->stocks[i].board == b->stocks[i].board &&
             a->stocks[i].list_date == b->stocks[i].list_date && a->stocks[i].delist_date == b->stocks[i].delist_date,
         "stocks");
  for (int k = 0; k < PF_N_FIELDS; k++) SAME(tl_same_double(a->f[k], b->f[k], cells), panel_field_name(k));
  SAME(!memcmp(a->flags, b->flags, cells), "flags");
  SAME(a->has_is_st == b->has_is_st && a->has_limits == b->has_limits, "has_is_st / has_limits");
  SAME(a->n_industries == b->n_industries, "n_industries");
  if (a->n_industries == b->n_industries && a->n_industries > 0)
    SAME(!memcmp(a->industry_names, b->industry_names, (size_t)a->n_industries * 64), "industry names");
  SAME(!memcmp(a->industry, b->industry, cells * sizeof *a->industry), "industry");
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    const panel_index *x = &a->index[k], *y = &b->index[k];
    SAME(x->present == y->present && x->n_snap == y->n_snap, "index presence / snapshots");
    if (!x->present || x->present != y->present || x->n_snap != y->n_snap) continue;
    SAME(tl_same_double(x->close, y->close, nd), "index close");
    if (x->n_snap) SAME(!memcmp(x->snap_t, y->snap_t, (size_t)x->n_snap * sizeof *x->snap_t), "snap_t");
    SAME(!memcmp(x->snap_first, y->snap_first, ((size_t)x->n_snap + 1) * sizeof *x->snap_first), "snap_first");
    size_t nm = x->snap_first[x->n_snap];
    if (nm) SAME(!memcmp(x->member, y->member, nm * sizeof *x->member), "members");
    SAME(tl_same_double(x->weight, y->weight, nm), "weights");
  }
  SAME(a->fund.n == b->fund.n, "fundamentals count");
  if (a->fund.n == b->fund.n && a->fund.n > 0) {
    SAME(!memcmp(a->fund.stock, b->fund.stock, a->fund.n * sizeof(int32_t)), "fund stock");
    SAME(!memcmp(a->fund.date, b->fund.date, a->fund.n * sizeof(int32_t)), "fund date");
    for (int k = 0; k < PFUND_N_FIELDS; k++) SAME(tl_same_double(a->fund.v[k], b->fund.v[k], a->fund.n), "fund values");
    SAME(!memcmp(a->fund.first, b->fund.first, (ns + 1) * sizeof(size_t)), "fund offsets");
  }
  SAME(a->n_datasets == b->n_datasets, "datasets");
#undef SAME
  return bad;
}
#endif
