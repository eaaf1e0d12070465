/* panel_ingest.c — panel_load: reads a market directory (SPEC 2.1) with the libcsv reader, validates
 * every row (SPEC 2.2), derives the missing optional columns, and fills the dense dates x stocks panel
 * directly (no row buffer). The binary cache lives in panel_cache.c.
 *
 * Order of work: index_bars.csv gives the trading calendar; stocks.csv (optional) the stock list;
 * bars.csv is streamed into arrays whose stride (capacity) grows when a new code appears; the columns
 * are then sorted by code and compacted; fundamentals.csv, the derivations, index_weights.csv,
 * industry.csv and the feature files follow. See docs/market_data.md for the rules.
 */
#include "data.h"
#include "panel_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct loader {
  const char *dir;
  int verbose;
  panel *p;
  int cap;              /* stride of the daily arrays while bars.csv is read */
  int32_t *slot;        /* open-addressing hash: code -> stock index, -1 empty */
  size_t nslot;
  int32_t day0;         /* days number of dates[0] */
  int32_t *day_to_t;    /* (days - day0) -> date index or -1 */
  int ndays;
  int has_stocks_csv;
} loader;

static const char *const A_DATE[] = {"date", "trade_date", NULL};
static const char *const A_CODE[] = {"code", "ts_code", NULL};

static void warn(const loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const loader *L, const char *fmt, ...) {
  if (!L->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "zhizeng: warning: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void path_join(char *out, size_t n, const char *dir, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ------------------------------------------------------------ code -> stock hash */

static uint64_t hash_code(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static int map_rebuild(loader *L, size_t nslot) {
  int32_t *s = malloc(nslot * sizeof *s);
  if (!s) return -1;
  for (size_t k = 0; k < nslot; k++) s[k] = -1;
  for (int i = 0; i < L->p->n_stocks; i++) {
    size_t h = hash_code(L->p->stocks[i].code) & (nslot - 1);
    while (s[h] >= 0) h = (h + 1) & (nslot - 1);
    s[h] = i;
  }
  free(L->slot);
  L->slot = s;
  L->nslot = nslot;
  return 0;
}

static int map_find(const loader *L, const char *code) {
  if (!L->nslot) return -1;
  size_t h = hash_code(code) & (L->nslot - 1);
  while (L->slot[h] >= 0) {
    if (!strcmp(L->p->stocks[L->slot[h]].code, code)) return L->slot[h];
    h = (h + 1) & (L->nslot - 1);
  }
  return -1;
}

/* ------------------------------------------------------------ daily arrays */

/* Grows the stride of every daily array to hold at least `need` stocks, moving rows in place. */
static int grow_stocks(loader *L, int need, zz_err *err) {
  panel *p = L->p;
  if (need <= L->cap) return ZZ_OK;
  int oc = L->cap, nc = oc ? oc : 256;
  while (nc < need) nc = nc + nc / 2 + 1;
  size_t nd = (size_t)p->n_dates;
  for (int k = 0; k < PF_N_FIELDS; k++) {
    double *a = realloc(p->f[k], nd * (size_t)nc * sizeof *a);
    if (!a) return zz_fail(err, ZZ_ENOMEM, "out of memory growing the panel to %d stocks", nc);
    p->f[k] = a;
    for (size_t t = nd; t-- > 0;) {
      if (oc) memmove(a + t * (size_t)nc, a + t * (size_t)oc, (size_t)oc * sizeof *a);
      for (int i = oc; i < nc; i++) a[t * (size_t)nc + (size_t)i] = NAN;
    }
  }
  uint8_t *fl = realloc(p->flags, nd * (size_t)nc);
  if (!fl) return zz_fail(err, ZZ_ENOMEM, "out of memory growing the panel to %d stocks", nc);
  p->flags = fl;
  for (size_t t = nd; t-- > 0;) {
    if (oc) memmove(fl + t * (size_t)nc, fl + t * (size_t)oc, (size_t)oc);
    memset(fl + t * (size_t)nc + oc, 0, (size_t)(nc - oc));
  }
  panel_stock *st = realloc(p->stocks, (size_t)nc * sizeof *st);
  if (!st) return zz_fail(err, ZZ_ENOMEM, "out of memory growing the panel to %d stocks", nc);
  memset(st + oc, 0, (size_t)(nc - oc) * sizeof *st);
  p->stocks = st;
  L->cap = nc;
  return ZZ_OK;
}

/* Adds a stock (code already normalised); returns its index or a negative status. */
static int add_stock(loader *L, const char *code, zz_err *err) {
  panel *p = L->p;
  int rc = grow_stocks(L, p->n_stocks + 1, err);
  if (rc) return -rc;
  panel_stock *s = &p->stocks[p->n_stocks];
  memset(s, 0, sizeof *s);
  snprintf(s->code, sizeof s->code, "%s", code);
  s->board = panel_board_from_code(code);
  p->n_stocks++;
  if ((size_t)p->n_stocks * 2 > L->nslot) {
    if (map_rebuild(L, L->nslot ? L->nslot * 2 : 1024)) return -zz_fail(err, ZZ_ENOMEM, "out of memory");
  } else {
    size_t h = hash_code(code) & (L->nslot - 1);
    while (L->slot[h] >= 0) h = (h + 1) & (L->nslot - 1);
    L->slot[h] = p->n_stocks - 1;
  }
  return p->n_stocks - 1;
}

static int date_index(const loader *L, int32_t ymd) {
  int32_t d = zz_date_to_days(ymd) - L->day0;
  if (d < 0 || d >= L->ndays) return -1;
  return L->day_to_t[d];
}

/* Reads a date field and maps it to the calendar; a date not in index_bars.csv is an error. */
static int row_date_t(loader *L, zz_csv *r, int col, int *t, int32_t *ymd_out, zz_err *err) {
  int32_t ymd;
  int rc = zz_csv_date(r, col, &ymd, err);
  if (rc) return rc;
  *t = date_index(L, ymd);
  if (*t < 0) {
    char b[11];
    return zz_csv_fail(r, col, err, ZZ_EDATA,
                       "%s is not a trading day: expected a date of index_bars.csv (the calendar)",
                       zz_date_format(ymd, b));
  }
  if (ymd_out) *ymd_out = ymd;
  return ZZ_OK;
}

static int row_code(zz_csv *r, int col, char code[ZZ_CODE_LEN], zz_err *err) {
  if (zz_code_normalise(zz_csv_field(r, col), code) != 0)
    return zz_csv_fail(r, col, err, ZZ_EDATA,
                       "expected a stock code like 600000.SH, SH600000 or sh.600000 in column '%s', found '%s'",
                       zz_csv_header(r, col), zz_csv_field(r, col));
  return ZZ_OK;
}

/* --------------------------------------------------------------- index_bars.csv */

typedef struct ibar {
  int32_t ymd;
  int index;
  double close;
  size_t line;
} ibar;

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static int read_index_bars(loader *L, zz_err *err) {
  panel *p = L->p;
  char path[1024];
  path_join(path, sizeof path, L->dir, "index_bars.csv");
  if (!file_exists(path))
    return zz_fail(err, ZZ_EDATA, "%s: missing required file: expected a CSV with columns date, index, close (the trading calendar)", path);
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const A_INDEX[] = {"index", "index_code", "ts_code", NULL};
  static const char *const A_CLOSE[] = {"close", NULL};
  int cd = zz_csv_require(r, A_DATE, err), ci = cd < 0 ? -1 : zz_csv_require(r, A_INDEX, err),
      cc = ci < 0 ? -1 : zz_csv_require(r, A_CLOSE, err);
  ibar *rows = NULL;
  size_t n = 0, cap = 0;
  if (cc < 0) {
    rc = err->code;
    goto done;
  }
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      goto done;
    }
    if (k == 0) break;
    ibar b;
    if ((rc = zz_csv_date(r, cd, &b.ymd, err))) goto done;
    int w = zz_date_weekday(b.ymd);
    if (w >= 6) {
      char db[11];
      rc = zz_csv_fail(r, cd, err, ZZ_EDATA, "%s is a %s: expected a trading day (Monday to Friday)", zz_date_format(b.ymd, db),
                       w == 6 ? "Saturday" : "Sunday");
      goto done;
    }
    b.index = zz_index_parse(zz_csv_field(r, ci));
    if (b.index < 0) {
      rc = zz_csv_fail(r, ci, err, ZZ_EDATA, "unknown index '%s': expected 000300 (csi300), 000905 (csi500) or 000852 (csi1000)",
                       zz_csv_field(r, ci));
      goto done;
    }
    if ((rc = zz_csv_double(r, cc, 0, &b.close, err))) goto done;
    if (b.close <= 0) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "expected a positive index close, found '%s'", zz_csv_field(r, cc));
      goto done;
    }
    b.line = zz_csv_line(r);
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      ibar *q = realloc(rows, cap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        goto done;
      }
      rows = q;
    }
    rows[n++] = b;
  }
  if (n == 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s:2: no rows: expected at least one trading day after the header", path);
    goto done;
  }
  /* calendar: sorted unique dates */
  p->dates = malloc(n * sizeof *p->dates);
  if (!p->dates) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < n; k++) p->dates[k] = rows[k].ymd;
  qsort(p->dates, n, sizeof *p->dates, cmp_i32);
  int nd = 0;
  for (size_t k = 0; k < n; k++)
    if (nd == 0 || p->dates[nd - 1] != p->dates[k]) p->dates[nd++] = p->dates[k];
  p->n_dates = nd;
  L->day0 = zz_date_to_days(p->dates[0]);
  L->ndays = zz_date_to_days(p->dates[nd - 1]) - L->day0 + 1;
  L->day_to_t = malloc((size_t)L->ndays * sizeof *L->day_to_t);
  if (!L->day_to_t) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  for (int d = 0; d < L->ndays; d++) L->day_to_t[d] = -1;
  for (int t = 0; t < nd; t++) L->day_to_t[zz_date_to_days(p->dates[t]) - L->day0] = t;
  for (size_t k = 0; k < n; k++) {
    panel_index *ix = &p->index[rows[k].index];
    if (!ix->close) {
      ix->close = malloc((size_t)nd * sizeof *ix->close);
      if (!ix->close) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        goto done;
      }
      for (int t = 0; t < nd; t++) ix->close[t] = NAN;
      ix->present = 1;
    }
    int t = date_index(L, rows[k].ymd);
    if (!isnan(ix->close[t])) {
      char db[11];
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu:%d: duplicate row for index %s on %s: expected one close per date and index", path, rows[k].line, cd + 1,
                   zz_index_name(rows[k].index), zz_date_format(rows[k].ymd, db));
      goto done;
    }
    ix->close[t] = rows[k].close;
  }
  rc = ZZ_OK;
done:
  free(rows);
  zz_csv_close(r);
  return rc;
}

/* --------------------------------------------------------------- stocks.csv */

static int parse_board(const char *s, panel_board *b) {
  static const struct {
    const char *name;
    panel_board b;
  } names[] = {{"main", BOARD_MAIN},       {"主板", BOARD_MAIN},       {"sme", BOARD_MAIN},
               {"中小板", BOARD_MAIN},     {"chinext", BOARD_CHINEXT}, {"创业板", BOARD_CHINEXT},
               {"gem", BOARD_CHINEXT},     {"star", BOARD_STAR},       {"科创板", BOARD_STAR},
               {"bse", BOARD_BSE},         {"北交所", BOARD_BSE}};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (!strcasecmp(s, names[k].name)) {
      *b = names[k].b;
      return 0;
    }
  return -1;
}

static int read_stocks(loader *L, zz_err *err) {
  char path[1024];
  path_join(path, sizeof path, L->dir, "stocks.csv");
  if (!file_exists(path)) return ZZ_OK;
  L->has_stocks_csv = 1;
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const A_NAME[] = {"name", NULL};
  static const char *const A_BOARD[] = {"board", "market", NULL};
  static const char *const A_LIST[] = {"list_date", NULL};
  static const char *const A_DELIST[] = {"delist_date", NULL};
  int cc = zz_csv_require(r, A_CODE, err);
  if (cc < 0) {
    zz_csv_close(r);
    return err->code;
  }
  int cn = zz_csv_find(r, A_NAME), cb = zz_csv_find(r, A_BOARD), cl = zz_csv_find(r, A_LIST),
      cx = zz_csv_find(r, A_DELIST);
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      break;
    }
    if (k == 0) break;
    char code[ZZ_CODE_LEN];
    if ((rc = row_code(r, cc, code, err))) break;
    if (map_find(L, code) >= 0) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "duplicate stock %s: expected each code once", code);
      break;
    }
    int i = add_stock(L, code, err);
    if (i < 0) {
      rc = -i;
      break;
    }
    panel_stock *s = &L->p->stocks[i];
    if (cn >= 0) snprintf(s->name, sizeof s->name, "%s", zz_csv_field(r, cn));
    if (cb >= 0 && zz_csv_field(r, cb)[0]) {
      if (parse_board(zz_csv_field(r, cb), &s->board)) {
        rc = zz_csv_fail(r, cb, err, ZZ_EDATA, "unknown board '%s': expected main, chinext, star or bse",
                         zz_csv_field(r, cb));
        break;
      }
    }
    if (cl >= 0 && zz_csv_field(r, cl)[0] && (rc = zz_csv_date(r, cl, &s->list_date, err))) break;
    if (cx >= 0 && zz_csv_field(r, cx)[0] && (rc = zz_csv_date(r, cx, &s->delist_date, err))) break;
    if (s->list_date > 0 && s->delist_date > 0 && s->delist_date < s->list_date) {
      char a[11], b[11];
      rc = zz_csv_fail(r, cx, err, ZZ_EDATA, "delist_date %s is before list_date %s: expected a date on or after it",
                       zz_date_format(s->delist_date, a), zz_date_format(s->list_date, b));
      break;
    }
  }
  zz_csv_close(r);
  return rc;
}

/* --------------------------------------------------------------- bars.csv */

enum { BC_DATE, BC_CODE, BC_OPEN, BC_HIGH, BC_LOW, BC_CLOSE, BC_VOLUME, BC_AMOUNT, BC_PRE_CLOSE, BC_VWAP,
       BC_ADJ, BC_UP, BC_DOWN, BC_SUSP, BC_ST, BC_FLOAT_MV, BC_TOTAL_MV, BC_N };

static int read_bars(loader *L, int *adj_given, zz_err *err) {
  panel *p = L->p;
  char path[1024];
  path_join(path, sizeof path, L->dir, "bars.csv");
  if (!file_exists(path))
    return zz_fail(err, ZZ_EDATA, "%s: missing required file: expected a CSV with columns date, code, open, high, low, close, volume, amount", path);
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const A_OPEN[] = {"open", NULL}, *const A_HIGH[] = {"high", NULL},
                           *const A_LOW[] = {"low", NULL}, *const A_CLOSE[] = {"close", NULL},
                           *const A_VOLUME[] = {"volume", NULL}, *const A_VOL[] = {"vol", NULL},
                           *const A_AMOUNT[] = {"amount", NULL}, *const A_PRE[] = {"pre_close", NULL},
                           *const A_VWAP[] = {"vwap", NULL}, *const A_ADJ[] = {"adj_factor", NULL},
                           *const A_UP[] = {"up_limit", NULL}, *const A_DOWN[] = {"down_limit", NULL},
                           *const A_SUSP[] = {"suspended", NULL}, *const A_ST[] = {"is_st", NULL},
                           *const A_FMV[] = {"float_mv", "circ_mv", NULL}, *const A_TMV[] = {"total_mv", NULL};
  int c[BC_N];
  for (int k = 0; k < BC_N; k++) c[k] = -1;
  /* tushare: vol in lots of 100 shares, amount in thousand CNY, market values in 10 thousand CNY */
  int tushare = zz_csv_find(r, A_VOLUME) < 0 && zz_csv_find(r, A_VOL) >= 0;
  const char *const *req[] = {A_DATE, A_CODE, A_OPEN, A_HIGH, A_LOW, A_CLOSE, tushare ? A_VOL : A_VOLUME, A_AMOUNT};
  for (int k = 0; k <= BC_AMOUNT; k++)
    if ((c[k] = zz_csv_require(r, req[k], err)) < 0) {
      zz_csv_close(r);
      return err->code;
    }
  const char *const *opt[] = {A_PRE, A_VWAP, A_ADJ, A_UP, A_DOWN, A_SUSP, A_ST, A_FMV, A_TMV};
  for (int k = BC_PRE_CLOSE; k < BC_N; k++) c[k] = zz_csv_find(r, opt[k - BC_PRE_CLOSE]);
  *adj_given = c[BC_ADJ] >= 0;
  p->has_is_st = c[BC_ST] >= 0;     /* the universe screen's ST rule (panel_universe.c) */
  p->has_limits = c[BC_UP] >= 0;
  int s_vol = tushare ? 2 : 0, s_amt = tushare ? 3 : 0, s_mv = tushare ? 4 : 0;
  char last_raw[64] = "";
  int last_i = -1;
  int progress = L->verbose && isatty(STDERR_FILENO);
  size_t nrows = 0;
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      break;
    }
    if (k == 0) break;
    ++nrows;
    if (progress && (nrows & ((1u << 20) - 1)) == 0) fprintf(stderr, "\rzhizeng: bars.csv: %zu rows", nrows);
    int t;
    if ((rc = row_date_t(L, r, c[BC_DATE], &t, NULL, err))) break;
    const char *raw = zz_csv_field(r, c[BC_CODE]);
    int i;
    if (last_i >= 0 && !strcmp(raw, last_raw)) {
      i = last_i;
    } else {
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, c[BC_CODE], code, err))) break;
      i = map_find(L, code);
      if (i < 0) {
        i = add_stock(L, code, err);
        if (i < 0) {
          rc = -i;
          break;
        }
      }
      snprintf(last_raw, sizeof last_raw, "%s", raw);
      last_i = i;
    }
    size_t at = (size_t)t * (size_t)L->cap + (size_t)i;
    if (p->flags[at] & PANEL_HAS_BAR) {
      char db[11];
      rc = zz_csv_fail(r, c[BC_CODE], err, ZZ_EDATA, "duplicate row for (%s, %s): expected one bar per date and code", zz_date_format(p->dates[t], db),
                       p->stocks[i].code);
      break;
    }
    int susp = 0, st = 0;
    if (c[BC_SUSP] >= 0 && (rc = zz_csv_bool(r, c[BC_SUSP], 0, &susp, err))) break;
    if (c[BC_ST] >= 0 && (rc = zz_csv_bool(r, c[BC_ST], 0, &st, err))) break;
    double v[BC_N];
    static const int fld[BC_N] = {-1, -1, PF_OPEN, PF_HIGH, PF_LOW, PF_CLOSE, PF_VOLUME, PF_AMOUNT, PF_PRE_CLOSE,
                                  PF_VWAP, PF_ADJ, PF_UP_LIMIT, PF_DOWN_LIMIT, -1, -1, PF_FLOAT_MV, PF_TOTAL_MV};
    for (int q = BC_OPEN; q < BC_N; q++) {
      if (fld[q] < 0) continue;
      v[q] = NAN;
      if (c[q] < 0) continue;
      int scale = q == BC_VOLUME ? s_vol : q == BC_AMOUNT ? s_amt : (q == BC_FLOAT_MV || q == BC_TOTAL_MV) ? s_mv : 0;
      int allow_empty = q > BC_AMOUNT || susp;
      if ((rc = zz_csv_double_scaled(r, c[q], allow_empty, scale, &v[q], err))) goto out;
      if (q <= BC_CLOSE || q == BC_PRE_CLOSE || q == BC_VWAP || q == BC_UP || q == BC_DOWN || q == BC_ADJ) {
        if (v[q] < 0 || (v[q] == 0 && !susp && q <= BC_CLOSE)) {
          rc = zz_csv_fail(r, c[q], err, ZZ_EDATA, "expected a positive %s in column '%s', found '%s'",
                           q == BC_ADJ ? "adjustment factor" : "price", zz_csv_header(r, c[q]), zz_csv_field(r, c[q]));
          goto out;
        }
      } else if (v[q] < 0) {
        rc = zz_csv_fail(r, c[q], err, ZZ_EDATA, "expected a non-negative %s in column '%s', found '%s'",
                         q == BC_VOLUME ? "volume" : q == BC_AMOUNT ? "amount" : "market value", zz_csv_header(r, c[q]),
                         zz_csv_field(r, c[q]));
        goto out;
      }
    }
    if (!susp) {
      if (v[BC_HIGH] < v[BC_LOW]) {
        rc = zz_csv_fail(r, c[BC_HIGH], err, ZZ_EDATA, "high %s is below low %s: expected high >= low", zz_csv_field(r, c[BC_HIGH]),
                         zz_csv_field(r, c[BC_LOW]));
        break;
      }
      if (v[BC_CLOSE] < v[BC_LOW] || v[BC_CLOSE] > v[BC_HIGH]) {
        rc = zz_csv_fail(r, c[BC_CLOSE], err, ZZ_EDATA, "close %s is outside [low, high] = [%s, %s]: expected low <= close <= high",
                         zz_csv_field(r, c[BC_CLOSE]), zz_csv_field(r, c[BC_LOW]), zz_csv_field(r, c[BC_HIGH]));
        break;
      }
      if (v[BC_OPEN] < v[BC_LOW] || v[BC_OPEN] > v[BC_HIGH]) {
        rc = zz_csv_fail(r, c[BC_OPEN], err, ZZ_EDATA, "open %s is outside [low, high] = [%s, %s]: expected low <= open <= high",
                         zz_csv_field(r, c[BC_OPEN]), zz_csv_field(r, c[BC_LOW]), zz_csv_field(r, c[BC_HIGH]));
        break;
      }
    }
    for (int q = BC_OPEN; q < BC_N; q++)
      if (fld[q] >= 0) p->f[fld[q]][at] = v[q];
    p->flags[at] = (uint8_t)(PANEL_HAS_BAR | (susp ? PANEL_SUSPENDED : 0) | (st ? PANEL_ST : 0));
  }
  /* a header and no bar (stocks.csv alone may have named stocks): nothing to trade */
  if (!rc && nrows == 0) rc = zz_fail(err, ZZ_EDATA, "%s:2: no rows: expected at least one bar after the header", path);
out:
  if (progress && nrows >= (1u << 20)) fputc('\n', stderr);
  zz_csv_close(r);
  return rc;
}

typedef struct code_idx {
  char code[ZZ_CODE_LEN];
  int idx;
} code_idx;

static int cmp_code_idx(const void *a, const void *b) {
  return strcmp(((const code_idx *)a)->code, ((const code_idx *)b)->code);
}

/* Sorts stocks by code, drops those without any bar, and compacts the arrays to stride n_stocks. */
static int sort_compact(loader *L, zz_err *err) {
  panel *p = L->p;
  int n = p->n_stocks, cap = L->cap, nd = p->n_dates;
  int *has = calloc((size_t)(n ? n : 1), sizeof *has);
  int *perm = malloc((size_t)(n ? n : 1) * sizeof *perm);
  double *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
  if (!has || !perm || !tmp) {
    free(has), free(perm), free(tmp);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  for (int t = 0; t < nd; t++)
    for (int i = 0; i < n; i++)
      if (p->flags[(size_t)t * cap + i] & PANEL_HAS_BAR) has[i] = 1;
  int m = 0, dropped = 0;
  for (int i = 0; i < n; i++) {
    if (has[i]) perm[m++] = i;
    else dropped++;
  }
  if (dropped) warn(L, "%d stocks of stocks.csv have no row in bars.csv and are left out", dropped);
  /* sort perm by code (insertion order is usually sorted already) */
  int sorted = 1;
  for (int k = 1; k < m && sorted; k++) sorted = strcmp(p->stocks[perm[k - 1]].code, p->stocks[perm[k]].code) < 0;
  if (!sorted) {
    code_idx *ci = malloc((size_t)(m ? m : 1) * sizeof *ci);
    if (!ci) {
      free(has), free(perm), free(tmp);
      return zz_fail(err, ZZ_ENOMEM, "out of memory");
    }
    for (int k = 0; k < m; k++) {
      memcpy(ci[k].code, p->stocks[perm[k]].code, ZZ_CODE_LEN);
      ci[k].idx = perm[k];
    }
    qsort(ci, (size_t)m, sizeof *ci, cmp_code_idx);
    for (int k = 0; k < m; k++) perm[k] = ci[k].idx;
    free(ci);
  }
  for (int f = 0; f < PF_N_FIELDS; f++) {
    double *a = p->f[f];
    for (int t = 0; t < nd; t++) {
      const double *src = a + (size_t)t * cap;
      for (int k = 0; k < m; k++) tmp[k] = src[perm[k]];
      memcpy(a + (size_t)t * m, tmp, (size_t)m * sizeof *tmp);
    }
    double *s = realloc(a, (size_t)nd * (size_t)(m ? m : 1) * sizeof *s);
    if (s) p->f[f] = s;
  }
  uint8_t *ft = (uint8_t *)tmp;
  for (int t = 0; t < nd; t++) {
    const uint8_t *src = p->flags + (size_t)t * cap;
    for (int k = 0; k < m; k++) ft[k] = src[perm[k]];
    memcpy(p->flags + (size_t)t * m, ft, (size_t)m);
  }
  panel_stock *ns = malloc((size_t)(m ? m : 1) * sizeof *ns);
  if (!ns) {
    free(has), free(perm), free(tmp);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  for (int k = 0; k < m; k++) ns[k] = p->stocks[perm[k]];
  free(p->stocks);
  p->stocks = ns;
  p->n_stocks = m;
  L->cap = m;
  free(has), free(perm), free(tmp);
  return map_rebuild(L, L->nslot ? L->nslot : 1024) ? zz_fail(err, ZZ_ENOMEM, "out of memory") : ZZ_OK;
}

/* --------------------------------------------------------------- fundamentals.csv */

typedef struct frow {
  int32_t stock, date;
  size_t line;
  double v[PFUND_N_FIELDS];
} frow;

static int cmp_frow(const void *a, const void *b) {
  const frow *x = a, *y = b;
  if (x->stock != y->stock) return x->stock < y->stock ? -1 : 1;
  if (x->date != y->date) return x->date < y->date ? -1 : 1;
  return (x->line > y->line) - (x->line < y->line);
}

static int read_fundamentals(loader *L, zz_err *err) {
  panel *p = L->p;
  panel_fundamentals *F = &p->fund;
  F->first = calloc((size_t)p->n_stocks + 1, sizeof *F->first);
  if (!F->first) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  char path[1024];
  path_join(path, sizeof path, L->dir, "fundamentals.csv");
  if (!file_exists(path)) return ZZ_OK;
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const A_FDATE[] = {"date", "ann_date", "f_ann_date", NULL};
  static const char *const names[PFUND_N_FIELDS][3] = {
      {"float_shares", NULL, NULL}, {"total_shares", NULL, NULL},     {"book_equity", NULL, NULL},
      {"net_profit_ttm", NULL, NULL}, {"revenue_ttm", NULL, NULL}, {"total_liabilities", "total_liab", NULL},
      {"total_assets", NULL, NULL}};
  frow *rows = NULL;
  size_t n = 0, cap = 0, unknown = 0;
  int cd = zz_csv_require(r, A_FDATE, err), cc = cd < 0 ? -1 : zz_csv_require(r, A_CODE, err);
  int cf[PFUND_N_FIELDS];
  if (cc < 0) {
    rc = err->code;
    goto done;
  }
  for (int f = 0; f < PFUND_N_FIELDS; f++) cf[f] = zz_csv_find(r, names[f]);
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      goto done;
    }
    if (k == 0) break;
    frow fr;
    char code[ZZ_CODE_LEN];
    if ((rc = zz_csv_date(r, cd, &fr.date, err)) || (rc = row_code(r, cc, code, err))) goto done;
    for (int f = 0; f < PFUND_N_FIELDS; f++) {
      fr.v[f] = NAN;
      if (cf[f] >= 0 && (rc = zz_csv_double(r, cf[f], 1, &fr.v[f], err))) goto done;
      if (f <= PFUND_TOTAL_SHARES && fr.v[f] < 0) {
        rc = zz_csv_fail(r, cf[f], err, ZZ_EDATA, "expected a non-negative share count, found '%s'", zz_csv_field(r, cf[f]));
        goto done;
      }
    }
    fr.stock = map_find(L, code);
    if (fr.stock < 0) {
      unknown++;
      continue;
    }
    fr.line = zz_csv_line(r);
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      frow *q = realloc(rows, cap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        goto done;
      }
      rows = q;
    }
    rows[n++] = fr;
  }
  if (unknown) warn(L, "%s: %zu rows for codes that have no bars were ignored", path, unknown);
  if (n) qsort(rows, n, sizeof *rows, cmp_frow); /* (rows is NULL when empty: qsort must not see it) */
  F->n = n;
  F->stock = malloc((n ? n : 1) * sizeof *F->stock);
  F->date = malloc((n ? n : 1) * sizeof *F->date);
  int ok = F->stock && F->date;
  for (int f = 0; f < PFUND_N_FIELDS; f++) ok = ok && (F->v[f] = malloc((n ? n : 1) * sizeof(double)));
  if (!ok) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < n; k++) {
    F->stock[k] = rows[k].stock;
    F->date[k] = rows[k].date;
    for (int f = 0; f < PFUND_N_FIELDS; f++) F->v[f][k] = rows[k].v[f];
    F->first[rows[k].stock + 1]++;
  }
  for (int i = 0; i < p->n_stocks; i++) F->first[i + 1] += F->first[i];
  rc = ZZ_OK;
done:
  free(rows);
  zz_csv_close(r);
  return rc;
}

/* --------------------------------------------------------------- derivations */

/* round(x, 2) half away from zero, robust to binary representation (11.055 -> 11.06). */
static double round2(double x) { return floor(x * 100.0 + 0.5 + 1e-7) / 100.0; }

static void derive(loader *L, int adj_given) {
  panel *p = L->p;
  int n = p->n_stocks, nd = p->n_dates;
  long gaps = 0, gap_stocks = 0, stale = 0;
  for (int i = 0; i < n; i++) {
    panel_stock *s = &p->stocks[i];
    int t0 = -1, t1 = -1;
    for (int t = 0; t < nd; t++)
      if (p->flags[panel_at(p, t, i)] & PANEL_HAS_BAR) {
        if (t0 < 0) t0 = t;
        t1 = t;
      }
    if (t0 < 0) continue;
    /* list_date stays 0 when stocks.csv does not give it: panel_universe_mask tells an unknown listing
       from one on the first bar's date */
    int delisted = s->delist_date && s->delist_date <= p->dates[nd - 1];
    int end = delisted ? t1 : nd - 1;
    if (!delisted && nd - 1 - t1 > 20) stale++;
    long g = 0;
    double last_close = NAN, last_adj = 1.0;
    int st = 0;
    for (int t = t0; t <= end; t++) {
      size_t a = panel_at(p, t, i);
      uint8_t fl = p->flags[a];
      fl |= PANEL_LISTED;
      if (fl & PANEL_HAS_BAR) st = (fl & PANEL_ST) != 0;
      else {
        g++;
        if (st) fl |= PANEL_ST;
      }
      double pre_given = p->f[PF_PRE_CLOSE][a];
      if (!(fl & PANEL_HAS_BAR) || (fl & PANEL_SUSPENDED)) {
        fl |= PANEL_SUSPENDED;
        double c = last_close;
        if (isnan(c) && (fl & PANEL_HAS_BAR)) c = p->f[PF_CLOSE][a]; /* first day suspended with prices */
        p->f[PF_OPEN][a] = p->f[PF_HIGH][a] = p->f[PF_LOW][a] = p->f[PF_CLOSE][a] = c;
        p->f[PF_VWAP][a] = p->f[PF_PRE_CLOSE][a] = c;
        p->f[PF_VOLUME][a] = p->f[PF_AMOUNT][a] = 0;
        pre_given = NAN;
      } else {
        if (isnan(pre_given)) p->f[PF_PRE_CLOSE][a] = last_close;
        if (isnan(p->f[PF_VWAP][a]))
          p->f[PF_VWAP][a] = p->f[PF_VOLUME][a] > 0 ? p->f[PF_AMOUNT][a] / p->f[PF_VOLUME][a] : p->f[PF_CLOSE][a];
      }
      /* cumulative adjustment factor */
      if (adj_given) {
        if (isnan(p->f[PF_ADJ][a])) p->f[PF_ADJ][a] = last_adj;
      } else {
        double adj = last_adj;
        if (!isnan(pre_given) && !isnan(last_close) && fabs(pre_given - last_close) > 1e-9 * last_close)
          adj = last_adj * last_close / pre_given;
        p->f[PF_ADJ][a] = adj;
      }
      double pc = p->f[PF_PRE_CLOSE][a];
      double ratio = panel_limit_ratio(s->board, (fl & PANEL_ST) != 0, p->dates[t]);
      if (isnan(p->f[PF_UP_LIMIT][a])) p->f[PF_UP_LIMIT][a] = isnan(pc) ? NAN : round2(pc * (1 + ratio));
      if (isnan(p->f[PF_DOWN_LIMIT][a])) p->f[PF_DOWN_LIMIT][a] = isnan(pc) ? NAN : round2(pc * (1 - ratio));
      if (!(fl & PANEL_SUSPENDED)) {
        double c = p->f[PF_CLOSE][a];
        if (!isnan(p->f[PF_UP_LIMIT][a]) && c >= p->f[PF_UP_LIMIT][a] - 0.005) fl |= PANEL_LIMIT_UP;
        if (!isnan(p->f[PF_DOWN_LIMIT][a]) && c <= p->f[PF_DOWN_LIMIT][a] + 0.005) fl |= PANEL_LIMIT_DOWN;
      }
      if (isnan(p->f[PF_FLOAT_MV][a]))
        p->f[PF_FLOAT_MV][a] = panel_fund_asof(p, PFUND_FLOAT_SHARES, i, p->dates[t]) * p->f[PF_CLOSE][a];
      if (isnan(p->f[PF_TOTAL_MV][a]))
        p->f[PF_TOTAL_MV][a] = panel_fund_asof(p, PFUND_TOTAL_SHARES, i, p->dates[t]) * p->f[PF_CLOSE][a];
      p->flags[a] = fl;
      last_close = p->f[PF_CLOSE][a];
      last_adj = p->f[PF_ADJ][a];
    }
    /* after delisting: every field NaN (bars cannot lie there: end >= last bar) */
    if (g) gaps += g, gap_stocks++;
  }
  if (gaps)
    warn(L, "%ld stocks have gaps in their history: %ld stock-days without a row in bars.csv are treated as suspended",
         gap_stocks, gaps);
  if (stale) warn(L, "%ld stocks not marked delisted have no bar in the last 20 trading days (stale data?)", stale);
}

/* --------------------------------------------------------------- index_weights.csv */

typedef struct wrow { /* 32 bytes: a daily-snapshot file of 6 million rows stays small */
  int32_t t, stock, index;
  uint32_t line;
  double w, w_pct; /* as given; given / 100 computed exactly in decimal */
} wrow;

static int cmp_wrow(const void *a, const void *b) {
  const wrow *x = a, *y = b;
  if (x->index != y->index) return x->index - y->index;
  if (x->t != y->t) return x->t - y->t;
  if (x->stock != y->stock) return x->stock - y->stock;
  return (x->line > y->line) - (x->line < y->line);
}

static int read_index_weights(loader *L, zz_err *err) {
  panel *p = L->p;
  char path[1024];
  path_join(path, sizeof path, L->dir, "index_weights.csv");
  if (!file_exists(path))
    return zz_fail(err, ZZ_EDATA, "%s: missing required file: expected a CSV with columns date, index, code, weight", path);
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const A_INDEX[] = {"index", "index_code", NULL};
  static const char *const A_CCODE[] = {"code", "con_code", NULL};
  static const char *const A_W[] = {"weight", NULL};
  int cd = zz_csv_require(r, A_DATE, err), ci = cd < 0 ? -1 : zz_csv_require(r, A_INDEX, err),
      cc = ci < 0 ? -1 : zz_csv_require(r, A_CCODE, err), cw = cc < 0 ? -1 : zz_csv_require(r, A_W, err);
  wrow *rows = NULL;
  size_t n = 0, cap = 0;
  int32_t *cnt = NULL;
  if (cw < 0) {
    rc = err->code;
    goto done;
  }
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      goto done;
    }
    if (k == 0) break;
    wrow w;
    if ((rc = row_date_t(L, r, cd, &w.t, NULL, err))) goto done;
    w.index = zz_index_parse(zz_csv_field(r, ci));
    if (w.index < 0) {
      rc = zz_csv_fail(r, ci, err, ZZ_EDATA, "unknown index '%s': expected 000300 (csi300), 000905 (csi500) or 000852 (csi1000)",
                       zz_csv_field(r, ci));
      goto done;
    }
    char code[ZZ_CODE_LEN];
    if ((rc = row_code(r, cc, code, err))) goto done;
    w.stock = map_find(L, code);
    if (w.stock < 0) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "%s is a member of %s but never appears in bars.csv: expected a code with bars", code,
                       zz_index_name(w.index));
      goto done;
    }
    if ((rc = zz_csv_double(r, cw, 0, &w.w, err)) || (rc = zz_csv_double_scaled(r, cw, 0, -2, &w.w_pct, err)))
      goto done;
    if (w.w < 0) {
      rc = zz_csv_fail(r, cw, err, ZZ_EDATA, "expected a non-negative weight, found '%s'", zz_csv_field(r, cw));
      goto done;
    }
    w.line = zz_csv_line(r) > UINT32_MAX ? UINT32_MAX : (uint32_t)zz_csv_line(r);
    if (n == cap) {
      cap = cap ? cap + cap / 2 : 4096;
      wrow *q = realloc(rows, cap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        goto done;
      }
      rows = q;
    }
    rows[n++] = w;
  }
  qsort(rows, n, sizeof *rows, cmp_wrow);
  /* groups (index, t): duplicates, sums, percent or fractions */
  for (size_t g0 = 0; g0 < n;) {
    size_t g1 = g0;
    double sum = 0;
    uint32_t first_line = rows[g0].line;
    while (g1 < n && rows[g1].index == rows[g0].index && rows[g1].t == rows[g0].t) {
      if (g1 > g0 && rows[g1].stock == rows[g1 - 1].stock) {
        char db[11];
        rc = zz_fail(err, ZZ_EDATA, "%s:%u:%d: duplicate row for (%s, %s, %s), first given on line %u: expected one weight per "
                     "date, index and code", path,
                     rows[g1].line, cc + 1, zz_date_format(p->dates[rows[g1].t], db), zz_index_name(rows[g1].index),
                     p->stocks[rows[g1].stock].code, rows[g1 - 1].line);
        goto done;
      }
      if (rows[g1].line < first_line) first_line = rows[g1].line;
      sum += rows[g1].w;
      g1++;
    }
    int pct = fabs(sum - 100.0) <= 0.5;
    if (!pct && fabs(sum - 1.0) > 0.005) {
      char db[11];
      rc = zz_fail(err, ZZ_EDATA,
                   "%s:%u:%d: weights of %s on %s (%zu rows, the first on this line) sum to %.6g: expected 100 "
                   "(percent) or 1 (fractions) within 0.5 %%",
                   path, first_line, cw + 1, zz_index_name(rows[g0].index), zz_date_format(p->dates[rows[g0].t], db),
                   g1 - g0, sum);
      goto done;
    }
    for (size_t k = g0; k < g1; k++)
      if (pct) rows[k].w = rows[k].w_pct;
    g0 = g1;
  }
  /* snapshots per index */
  for (size_t g0 = 0; g0 < n;) {
    int ix = rows[g0].index;
    size_t g1 = g0;
    int ns = 0;
    while (g1 < n && rows[g1].index == ix) {
      if (g1 == g0 || rows[g1].t != rows[g1 - 1].t) ns++;
      g1++;
    }
    panel_index *I = &p->index[ix];
    I->present = 1;
    I->n_snap = ns;
    I->snap_t = malloc((size_t)ns * sizeof *I->snap_t);
    I->snap_first = malloc(((size_t)ns + 1) * sizeof *I->snap_first);
    I->member = malloc((g1 - g0) * sizeof *I->member);
    I->weight = malloc((g1 - g0) * sizeof *I->weight);
    if (!I->snap_t || !I->snap_first || !I->member || !I->weight) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      goto done;
    }
    int s = -1;
    for (size_t k = g0; k < g1; k++) {
      if (k == g0 || rows[k].t != rows[k - 1].t) {
        s++;
        I->snap_t[s] = rows[k].t;
        I->snap_first[s] = k - g0;
      }
      I->member[k - g0] = rows[k].stock;
      I->weight[k - g0] = rows[k].w;
    }
    I->snap_first[ns] = g1 - g0;
    if (!I->close) {
      I->close = malloc((size_t)p->n_dates * sizeof *I->close);
      if (!I->close) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        goto done;
      }
      for (int t = 0; t < p->n_dates; t++) I->close[t] = NAN;
    }
    g0 = g1;
  }
  rc = ZZ_OK;
done:
  free(cnt);
  free(rows);
  zz_csv_close(r);
  return rc;
}

/* --------------------------------------------------------------- industry.csv */

typedef struct irow {
  int32_t stock, start, end;
  char name[64];
} irow;

static int cmp_name64(const void *a, const void *b) { return strcmp(a, b); }

static int read_industry(loader *L, zz_err *err) {
  panel *p = L->p;
  size_t cells = (size_t)p->n_dates * (size_t)p->n_stocks;
  p->industry = malloc((cells ? cells : 1) * sizeof *p->industry);
  if (!p->industry) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (size_t k = 0; k < cells; k++) p->industry[k] = -1;
  char path[1024];
  path_join(path, sizeof path, L->dir, "industry.csv");
  if (!file_exists(path)) {
    warn(L, "%s: no such file: every stock is unclassified (industry -1)", path);
    return ZZ_OK;
  }
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const A_ICODE[] = {"code", "ts_code", "con_code", NULL};
  static const char *const A_IND[] = {"industry", "industry_name", "index_name", NULL};
  static const char *const A_START[] = {"start_date", "in_date", NULL};
  static const char *const A_END[] = {"end_date", "out_date", NULL};
  irow *rows = NULL;
  size_t n = 0, cap = 0, unknown = 0;
  int cc = zz_csv_require(r, A_ICODE, err), ci = cc < 0 ? -1 : zz_csv_require(r, A_IND, err);
  if (ci < 0) {
    rc = err->code;
    goto done;
  }
  int cs = zz_csv_find(r, A_START), ce = zz_csv_find(r, A_END);
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      goto done;
    }
    if (k == 0) break;
    irow x = {.start = 0, .end = 99991231};
    char code[ZZ_CODE_LEN];
    if ((rc = row_code(r, cc, code, err))) goto done;
    const char *nm = zz_csv_field(r, ci);
    while (isspace((unsigned char)*nm)) nm++;
    /* an empty industry or the literal "unclassified" (vendor files for stocks without a level-1
     * industry) is no industry: the stock stays unclassified (-1) over the row's dates */
    int unclassified = !nm[0] || !strncasecmp(nm, "unclassified", 12);
    for (const char *q = nm + (nm[0] ? 12 : 0); unclassified && nm[0] && *q; q++) unclassified = isspace((unsigned char)*q);
    if (unclassified) continue;
    snprintf(x.name, sizeof x.name, "%s", nm);
    if (cs >= 0 && zz_csv_field(r, cs)[0] && (rc = zz_csv_date(r, cs, &x.start, err))) goto done;
    if (ce >= 0 && zz_csv_field(r, ce)[0] && (rc = zz_csv_date(r, ce, &x.end, err))) goto done;
    if (x.end < x.start) {
      rc = zz_csv_fail(r, ce, err, ZZ_EDATA, "end_date %d is before start_date %d: expected an end on or after the start", x.end, x.start);
      goto done;
    }
    x.stock = map_find(L, code);
    if (x.stock < 0) {
      unknown++;
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 1024;
      irow *q = realloc(rows, cap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        goto done;
      }
      rows = q;
    }
    rows[n++] = x;
  }
  if (unknown) warn(L, "%s: %zu rows for codes that have no bars were ignored", path, unknown);
  /* sorted unique names */
  p->industry_names = malloc((n ? n : 1) * sizeof *p->industry_names);
  if (!p->industry_names) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < n; k++) memcpy(p->industry_names[k], rows[k].name, 64);
  qsort(p->industry_names, n, 64, cmp_name64);
  int ni = 0;
  for (size_t k = 0; k < n; k++)
    if (ni == 0 || strcmp(p->industry_names[ni - 1], p->industry_names[k]))
      memmove(p->industry_names[ni++], p->industry_names[k], 64);
  if (ni > 32767) {
    rc = zz_fail(err, ZZ_EDATA, "%s: %d industries: at most 32767 supported", path, ni);
    goto done;
  }
  p->n_industries = ni;
  for (size_t k = 0; k < n; k++) {
    char(*hit)[64] = bsearch(rows[k].name, p->industry_names, (size_t)ni, 64, cmp_name64);
    int16_t id = (int16_t)(hit - p->industry_names);
    for (int t = 0; t < p->n_dates; t++)
      if (p->dates[t] >= rows[k].start && p->dates[t] <= rows[k].end) p->industry[panel_at(p, t, rows[k].stock)] = id;
  }
  rc = ZZ_OK;
done:
  free(rows);
  zz_csv_close(r);
  return rc;
}

/* --------------------------------------------------------------- features/<name>.csv */

static int read_dataset(loader *L, const char *path, const char *fname, panel_dataset *ds, zz_err *err) {
  panel *p = L->p;
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  int cd = zz_csv_require(r, A_DATE, err), cc = cd < 0 ? -1 : zz_csv_require(r, A_CODE, err);
  if (cc < 0) {
    zz_csv_close(r);
    return err->code;
  }
  snprintf(ds->name, sizeof ds->name, "%.*s", (int)(strlen(fname) - 4), fname);
  int nc = zz_csv_ncols(r) - 2;
  int *cols = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *cols);
  ds->col_names = calloc((size_t)(nc > 0 ? nc : 1), sizeof *ds->col_names);
  size_t cells = (size_t)p->n_dates * (size_t)p->n_stocks * (size_t)(nc > 0 ? nc : 1);
  ds->values = malloc(cells * sizeof *ds->values);
  if (!cols || !ds->col_names || !ds->values) {
    free(cols);
    zz_csv_close(r);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for dataset %s", path);
  }
  for (size_t k = 0; k < cells; k++) ds->values[k] = NAN;
  int m = 0;
  for (int j = 0; j < zz_csv_ncols(r); j++)
    if (j != cd && j != cc) {
      cols[m] = j;
      snprintf(ds->col_names[m], 64, "%s", zz_csv_header(r, j));
      m++;
    }
  ds->n_cols = m;
  if (m == 0) {
    free(cols);
    zz_csv_close(r);
    return zz_fail(err, ZZ_EDATA, "%s:1: expected at least one feature column after date and code", path);
  }
  uint8_t *seen = calloc((size_t)p->n_dates * (size_t)p->n_stocks + 1, 1);
  size_t unknown = 0;
  if (!seen) {
    free(cols);
    zz_csv_close(r);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      break;
    }
    if (k == 0) break;
    int t;
    char code[ZZ_CODE_LEN];
    if ((rc = row_date_t(L, r, cd, &t, NULL, err)) || (rc = row_code(r, cc, code, err))) break;
    int i = map_find(L, code);
    if (i < 0) {
      unknown++;
      continue;
    }
    if (seen[panel_at(p, t, i)]) {
      char db[11];
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "duplicate row for (%s, %s): expected one row per date and code",
                       zz_date_format(p->dates[t], db), code);
      break;
    }
    seen[panel_at(p, t, i)] = 1;
    float *dst = ds->values + panel_at(p, t, i) * (size_t)m;
    for (int q = 0; q < m; q++) {
      double v;
      if ((rc = zz_csv_double(r, cols[q], 1, &v, err))) goto out;
      dst[q] = (float)v;
    }
  }
out:
  if (unknown) warn(L, "%s: %zu rows for codes that have no bars were ignored", path, unknown);
  free(seen);
  free(cols);
  zz_csv_close(r);
  return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int read_features(loader *L, zz_err *err) {
  char dpath[1024];
  path_join(dpath, sizeof dpath, L->dir, "features");
  DIR *d = opendir(dpath);
  if (!d) return ZZ_OK;
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = ZZ_OK;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 5 || len > 60 || strcmp(e->d_name + len - 4, ".csv") || e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      char **q = realloc(names, cap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      names = q;
    }
    if (!(names[n] = strdup(e->d_name))) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    n++;
  }
  closedir(d);
  if (!rc && n) {
    qsort(names, n, sizeof *names, cmp_str);
    L->p->datasets = calloc(n, sizeof *L->p->datasets);
    if (!L->p->datasets) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
      char path[2048];
      snprintf(path, sizeof path, "%s/%s", dpath, names[k]);
      L->p->n_datasets++;
      rc = read_dataset(L, path, names[k], &L->p->datasets[k], err);
    }
  }
  for (size_t k = 0; k < n; k++) free(names[k]);
  free(names);
  return rc;
}

/* --------------------------------------------------------------- panel_load */

static int parse_market(const char *dir, int verbose, panel **out, zz_err *err) {
  loader L = {.dir = dir, .verbose = verbose};
  panel *p = calloc(1, sizeof *p);
  if (!p) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  L.p = p;
  int adj_given = 0;
  int rc = read_index_bars(&L, err);
  if (!rc) rc = read_stocks(&L, err);
  if (!rc) rc = grow_stocks(&L, p->n_stocks > 0 ? p->n_stocks : 1, err);
  if (!rc) rc = read_bars(&L, &adj_given, err);
  if (!rc && p->n_stocks == 0) {
    char path[1024];
    path_join(path, sizeof path, dir, "bars.csv");
    rc = zz_fail(err, ZZ_EDATA, "%s:2: no rows: expected at least one bar", path);
  }
  if (!rc) rc = sort_compact(&L, err);
  if (!rc) rc = read_fundamentals(&L, err);
  if (!rc) derive(&L, adj_given);
  if (!rc) rc = read_index_weights(&L, err);
  if (!rc) rc = read_industry(&L, err);
  if (!rc) rc = read_features(&L, err);
  for (int k = 0; !rc && k < PANEL_N_INDEX; k++) /* an index with closes but no weights: no snapshots */
    if (p->index[k].present && !p->index[k].snap_first && !(p->index[k].snap_first = calloc(1, sizeof(size_t))))
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  free(L.slot);
  free(L.day_to_t);
  if (rc) {
    panel_free(p);
    return rc;
  }
  *out = p;
  return ZZ_OK;
}

int panel_load(const char *dir, const panel_load_opts *opts, panel **out, zz_err *err) {
  *out = NULL;
  panel_load_opts def = {.cache_path = NULL, .use_cache = 1, .verbose = 1};
  if (!opts) opts = &def;
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return zz_fail(err, ZZ_EIO, "%s: not a market directory (%s)", dir, errno ? strerror(errno) : "not a directory");
  char cpath[1024];
  if (opts->cache_path) snprintf(cpath, sizeof cpath, "%s", opts->cache_path);
  else path_join(cpath, sizeof cpath, dir, ".zhizeng.cache");
  cache_stamp stamp = {0};
  int rc;
  if (opts->use_cache) {
    if ((rc = cache_stamp_make(dir, &stamp, err))) return rc;
    char why[512] = "";
    panel *p = NULL;
    rc = cache_read(cpath, &stamp, &p, why, sizeof why, err);
    if (rc == ZZ_OK) {
      cache_stamp_free(&stamp);
      if (opts->verbose) fprintf(stderr, "zhizeng: read the panel from cache %s\n", cpath);
      *out = p;
      return ZZ_OK;
    }
    if (rc != 1) {
      cache_stamp_free(&stamp);
      return rc;
    }
    if (opts->verbose) fprintf(stderr, "zhizeng: parsing CSV (%s)\n", why);
  }
  panel *p = NULL;
  rc = parse_market(dir, opts->verbose, &p, err);
  if (rc) {
    cache_stamp_free(&stamp);
    /* "no partial output": a cache of an earlier, now invalid market must not survive either */
    if (opts->use_cache) unlink(cpath);
    return rc;
  }
  if (opts->use_cache) {
    zz_err werr = {0};
    if (cache_write(cpath, &stamp, p, &werr) != ZZ_OK)
      fprintf(stderr, "zhizeng: warning: could not write the cache: %s\n", werr.msg);
    else if (opts->verbose)
      fprintf(stderr, "zhizeng: wrote cache %s\n", cpath);
  }
  cache_stamp_free(&stamp);
  *out = p;
  return ZZ_OK;
}
