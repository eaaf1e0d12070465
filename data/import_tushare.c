/* import_tushare.c — tushare CSV exports (daily, adj_factor, daily_basic, index_weight, index_daily,
 * stock_basic, index_classify / index_member, stk_limit, suspend_d, namechange) to a market directory
 * (SPEC 2.1), validated with panel_load. See docs/market_data.md, "From tushare exports".
 *
 * Order: index_daily gives the calendar; daily gives the bars (kept in memory, sorted by (stock, date));
 * suspend_d adds suspended rows; adj_factor, daily_basic, stk_limit and namechange fill columns of the
 * bars; stock_basic gives stocks.csv; index_weight and index_member are streamed to their outputs.
 * Everything is written into OUT.tmp.<pid>/, loaded with panel_load, then renamed to OUT.
 */
#include "data.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
  API_DAILY, API_ADJ, API_BASIC, API_IW, API_IDX, API_SB, API_ICLS, API_IMEM, API_LIMIT, API_SUSP, API_NAME, API_N
};
static const char *const api_name[API_N] = {"daily",       "adj_factor",     "daily_basic",  "index_weight",
                                            "index_daily", "stock_basic",    "index_classify", "index_member",
                                            "stk_limit",   "suspend_d",      "namechange"};

typedef struct {
  char **path;
  int *ccol;      /* per file: the (0-based) column of ts_code, for errors found after reading */
  int n, cap;
  size_t rows, skipped;
} file_set;

typedef struct {
  int32_t date;
  int32_t sid;
  int16_t file;   /* index into files[API_DAILY] */
  uint8_t susp, st;
  uint32_t line;
  double v[12];
} bar;
enum { V_OPEN, V_HIGH, V_LOW, V_CLOSE, V_VOL, V_AMOUNT, V_PRE, V_ADJ, V_UP, V_DOWN, V_FMV, V_TMV };

typedef struct {
  char code[ZZ_CODE_LEN];
  char name[64];
  int board;          /* -1: from the code */
  int32_t list_date, delist_date;
  int32_t first, last; /* first and last traded daily row */
  size_t nbars;
  int rank;           /* position when sorted by code */
} stock;

typedef struct {
  int32_t sid, start, end;
  int st;
} name_rec;

typedef struct {
  int32_t date;
  int ix;
  double close;
  int16_t file;
  uint32_t line;
} idx_row;

typedef struct {
  char *s;
  size_t n, cap;
} strbuf;

typedef struct {
  const char *src;
  tushare_import_opts o;
  file_set files[API_N];
  file_set ignored;
  int32_t *cal;
  int n_cal;
  idx_row *ix;
  size_t n_ix, cap_ix;
  stock *st;
  int n_st, cap_st;
  int *ht;
  size_t ht_cap;
  bar *bars;
  size_t n_bars, cap_bars;
  name_rec *names;
  size_t n_names, cap_names;
  int has_adj, has_limit, has_mv, has_st;
  strbuf rep;
  char tmpdir[1024];
} ts_ctx;

/* ------------------------------------------------------------------ small helpers */

static void rep_add(ts_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep_add(ts_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0) return;
  if (c->rep.n + (size_t)need + 1 > c->rep.cap) {
    size_t cap = c->rep.cap ? c->rep.cap : 4096;
    while (cap < c->rep.n + (size_t)need + 1) cap *= 2;
    char *s = realloc(c->rep.s, cap);
    if (!s) return;
    c->rep.s = s;
    c->rep.cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(c->rep.s + c->rep.n, (size_t)need + 1, fmt, ap);
  va_end(ap);
  c->rep.n += (size_t)need;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 256;
  while (n < need) n *= 2;
  void *q = realloc(*p, n * elem);
  if (!q) return -1;
  *p = q;
  *cap = n;
  return 0;
}

static int in_range(const ts_ctx *c, int32_t d) {
  return (!c->o.start || d >= c->o.start) && (!c->o.end || d <= c->o.end);
}

static int find_cal(const ts_ctx *c, int32_t d) {
  int lo = 0, hi = c->n_cal - 1;
  while (lo <= hi) {
    int m = (lo + hi) / 2;
    if (c->cal[m] == d) return m;
    if (c->cal[m] < d) lo = m + 1;
    else hi = m - 1;
  }
  return -1;
}

static size_t hash_code(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static int stock_find(const ts_ctx *c, const char *code) {
  if (!c->ht_cap) return -1;
  for (size_t h = hash_code(code) & (c->ht_cap - 1);; h = (h + 1) & (c->ht_cap - 1)) {
    if (c->ht[h] < 0) return -1;
    if (!strcmp(c->st[c->ht[h]].code, code)) return c->ht[h];
  }
}

static int stock_add(ts_ctx *c, const char *code, zz_err *err) {
  if ((size_t)(c->n_st + 1) * 2 > c->ht_cap) {
    size_t cap = c->ht_cap ? c->ht_cap * 2 : 1024;
    int *ht = malloc(cap * sizeof *ht);
    if (!ht) return -zz_fail(err, ZZ_ENOMEM, "out of memory");
    for (size_t k = 0; k < cap; k++) ht[k] = -1;
    free(c->ht);
    c->ht = ht;
    c->ht_cap = cap;
    for (int i = 0; i < c->n_st; i++) {
      size_t h = hash_code(c->st[i].code) & (cap - 1);
      while (ht[h] >= 0) h = (h + 1) & (cap - 1);
      ht[h] = i;
    }
  }
  size_t capst = (size_t)c->cap_st;
  if (grow((void **)&c->st, &capst, (size_t)c->n_st + 1, sizeof *c->st)) return -zz_fail(err, ZZ_ENOMEM, "out of memory");
  c->cap_st = (int)capst;
  stock *s = &c->st[c->n_st];
  memset(s, 0, sizeof *s);
  snprintf(s->code, sizeof s->code, "%s", code);
  s->board = -1;
  size_t h = hash_code(code) & (c->ht_cap - 1);
  while (c->ht[h] >= 0) h = (h + 1) & (c->ht_cap - 1);
  c->ht[h] = c->n_st;
  return c->n_st++;
}

/* Normalised code of field col, or an error naming the position. */
static int row_code(zz_csv *r, int col, char code[ZZ_CODE_LEN], zz_err *err) {
  if (zz_code_normalise(zz_csv_field(r, col), code))
    return zz_csv_fail(r, col, err, ZZ_EDATA, "expected a stock code like 600000.SH in column '%s', found '%s'",
                       zz_csv_header(r, col), zz_csv_field(r, col));
  return ZZ_OK;
}

/* tushare names CSI300/500/1000 000300.SH / 000905.SH / 000852.SH, and also 399300.SZ etc. */
static int index_of(const char *s) {
  int k = zz_index_parse(s);
  if (k >= 0) return k;
  if (!strncmp(s, "399300", 6)) return PANEL_CSI300;
  if (!strncmp(s, "399905", 6)) return PANEL_CSI500;
  if (!strncmp(s, "399852", 6)) return PANEL_CSI1000;
  return -1;
}

static int is_st_name(const char *n) {
  while (*n == ' ') n++;
  if (*n == 'S' && (n[1] == 'S' || n[1] == '*')) n++; /* SST, S*ST (share-reform prefix) */
  if (*n == '*') n++;
  return n[0] == 'S' && n[1] == 'T';
}

/* ------------------------------------------------------------------ file discovery */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int set_add(file_set *s, const char *dir, const char *name, zz_err *err) {
  size_t cap = (size_t)s->cap, cap2 = (size_t)s->cap;
  if (grow((void **)&s->path, &cap, (size_t)s->n + 1, sizeof *s->path) ||
      grow((void **)&s->ccol, &cap2, (size_t)s->n + 1, sizeof *s->ccol))
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  s->cap = (int)cap;
  s->ccol[s->n] = 0;
  size_t n = strlen(dir) + strlen(name) + 2;
  if (!(s->path[s->n] = malloc(n))) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  snprintf(s->path[s->n++], n, "%s/%s", dir, name);
  return ZZ_OK;
}

/* A file NAME.csv or NAME_<anything>.csv belongs to API NAME; the longest matching API name wins
 * (daily_basic_2019.csv is daily_basic, not daily). */
static int discover(ts_ctx *c, zz_err *err) {
  DIR *d = opendir(c->src);
  if (!d) return zz_fail(err, ZZ_EIO, "%s: cannot open the source directory: %s", c->src, strerror(errno));
  struct dirent *e;
  int rc = ZZ_OK;
  while (!rc && (e = readdir(d))) {
    const char *nm = e->d_name;
    size_t len = strlen(nm);
    if (nm[0] == '.' || len < 5 || strcasecmp(nm + len - 4, ".csv")) continue;
    int best = -1;
    size_t best_len = 0;
    for (int a = 0; a < API_N; a++) {
      size_t an = strlen(api_name[a]);
      if (strncmp(nm, api_name[a], an)) continue;
      if (nm[an] != '.' && nm[an] != '_') continue;
      if (nm[an] == '.' && len != an + 4) continue;
      if (an > best_len) best = a, best_len = an;
    }
    rc = set_add(best >= 0 ? &c->files[best] : &c->ignored, c->src, nm, err);
  }
  closedir(d);
  if (rc) return rc;
  for (int a = 0; a < API_N; a++)
    if (c->files[a].n > 1) qsort(c->files[a].path, (size_t)c->files[a].n, sizeof(char *), cmp_str);
  for (int a = 0; a < API_N; a++)
    if (c->files[a].n > 30000)
      return zz_fail(err, ZZ_EDATA, "%s: %d files for %s: expected at most 30,000", c->src, c->files[a].n, api_name[a]);
  if (c->ignored.n > 1) qsort(c->ignored.path, (size_t)c->ignored.n, sizeof(char *), cmp_str);
  static const int required[] = {API_DAILY, API_IDX, API_IW};
  for (size_t k = 0; k < sizeof required / sizeof *required; k++)
    if (!c->files[required[k]].n)
      return zz_fail(err, ZZ_EDATA, "%s/%s.csv: missing required file (also accepted: %s_*.csv)", c->src,
                     api_name[required[k]], api_name[required[k]]);
  return ZZ_OK;
}

/* Opens file k of an API and finds its columns: names[j] is a NULL-terminated alias list, need[j] whether
 * the column is required; col[j] gets the index or -1. */
static int open_api(ts_ctx *c, int api, int k, const char *const *const *names, const int *need, int *col, int ncol,
                    zz_csv **out, zz_err *err) {
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, c->files[api].path[k], err);
  if (rc) return rc;
  for (int j = 0; j < ncol; j++) {
    col[j] = need[j] ? zz_csv_require(r, names[j], err) : zz_csv_find(r, names[j]);
    if (col[j] < 0 && need[j]) {
      zz_csv_close(r);
      return err->code;
    }
  }
  *out = r;
  return ZZ_OK;
}

/* Date of column col into *d; *use = 0 when outside --start/--end. */
static int row_date(ts_ctx *c, zz_csv *r, int col, int32_t *d, int *use, zz_err *err) {
  int rc = zz_csv_date(r, col, d, err);
  if (rc) return rc;
  *use = in_range(c, *d);
  return ZZ_OK;
}

static const char *const C_CODE[] = {"ts_code", NULL}, *const C_DATE[] = {"trade_date", NULL};

/* ------------------------------------------------------------------ index_daily: calendar */

static int cmp_idx(const void *a, const void *b) {
  const idx_row *x = a, *y = b;
  if (x->date != y->date) return x->date < y->date ? -1 : 1;
  if (x->ix != y->ix) return x->ix - y->ix;
  if (x->file != y->file) return x->file - y->file;
  return x->line < y->line ? -1 : x->line > y->line;
}

static int read_index_daily(ts_ctx *c, zz_err *err) {
  static const char *const CLOSE[] = {"close", NULL};
  const char *const *names[] = {C_CODE, C_DATE, CLOSE};
  const int need[] = {1, 1, 1};
  file_set *fs = &c->files[API_IDX];
  int rc = ZZ_OK;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    int col[3];
    if ((rc = open_api(c, API_IDX, k, names, need, col, 3, &r, err))) return rc;
    fs->ccol[k] = col[0];
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      int ix = index_of(zz_csv_field(r, col[0])), use;
      int32_t d;
      if (ix < 0) {
        fs->skipped++;
        continue;
      }
      if ((rc = row_date(c, r, col[1], &d, &use, err))) break;
      if (!use) continue;
      if (zz_date_weekday(d) > 5) {
        rc = zz_csv_fail(r, col[1], err, ZZ_EDATA, "expected a trading day, found a Saturday or Sunday '%s'",
                         zz_csv_field(r, col[1]));
        break;
      }
      double v;
      if ((rc = zz_csv_double(r, col[2], 0, &v, err))) break;
      if (v <= 0) {
        rc = zz_csv_fail(r, col[2], err, ZZ_EDATA, "expected a positive index close, found '%s'", zz_csv_field(r, col[2]));
        break;
      }
      if (grow((void **)&c->ix, &c->cap_ix, c->n_ix + 1, sizeof *c->ix)) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      c->ix[c->n_ix++] = (idx_row){d, ix, v, (int16_t)k, (uint32_t)zz_csv_line(r)};
      fs->rows++;
    }
    zz_csv_close(r);
  }
  if (rc) return rc;
  if (!c->n_ix)
    return zz_fail(err, ZZ_EDATA, "%s: no rows of 000300.SH, 000905.SH or 000852.SH%s", fs->path[0],
                   c->o.start || c->o.end ? " between --start and --end" : "");
  qsort(c->ix, c->n_ix, sizeof *c->ix, cmp_idx);
  if (!(c->cal = malloc(c->n_ix * sizeof *c->cal))) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (size_t q = 0; q < c->n_ix; q++) {
    if (q && c->ix[q].date == c->ix[q - 1].date && c->ix[q].ix == c->ix[q - 1].ix) {
      char db[11];
      return zz_fail(err, ZZ_EDATA, "%s:%u:%d: duplicate row for (%s, %s), first at %s:%u", fs->path[c->ix[q].file],
                     c->ix[q].line, fs->ccol[c->ix[q].file] + 1, zz_date_format(c->ix[q].date, db), zz_index_code(c->ix[q].ix),
                     fs->path[c->ix[q - 1].file], c->ix[q - 1].line);
    }
    if (!c->n_cal || c->cal[c->n_cal - 1] != c->ix[q].date) c->cal[c->n_cal++] = c->ix[q].date;
  }
  return ZZ_OK;
}

/* ------------------------------------------------------------------ daily: bars */

static int cmp_bar(const void *a, const void *b) {
  const bar *x = a, *y = b;
  if (x->sid != y->sid) return x->sid < y->sid ? -1 : 1;
  if (x->date != y->date) return x->date < y->date ? -1 : 1;
  if (x->susp != y->susp) return (int)x->susp - (int)y->susp; /* a traded row before a suspended one */
  if (x->file != y->file) return x->file - y->file;                /* repeats: in the order read */
  return x->line < y->line ? -1 : x->line > y->line;
}

/* The bar of (sid, d) among the first n (sorted) bars, or NULL. */
static bar *find_bar_n(ts_ctx *c, size_t n, int sid, int32_t d) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t m = lo + (hi - lo) / 2;
    const bar *b = &c->bars[m];
    if (b->sid < sid || (b->sid == sid && b->date < d)) lo = m + 1;
    else hi = m;
  }
  return lo < n && c->bars[lo].sid == sid && c->bars[lo].date == d ? &c->bars[lo] : NULL;
}

static bar *find_bar(ts_ctx *c, int sid, int32_t d) { return find_bar_n(c, c->n_bars, sid, d); }

static int read_daily(ts_ctx *c, zz_err *err) {
  static const char *const O[] = {"open", NULL}, *const H[] = {"high", NULL}, *const L[] = {"low", NULL},
                           *const CL[] = {"close", NULL}, *const PC[] = {"pre_close", NULL},
                           *const VOL[] = {"vol", NULL}, *const AMT[] = {"amount", NULL};
  const char *const *names[] = {C_CODE, C_DATE, O, H, L, CL, VOL, AMT, PC};
  const int need[] = {1, 1, 1, 1, 1, 1, 1, 1, 0};
  static const int slot[] = {-1, -1, V_OPEN, V_HIGH, V_LOW, V_CLOSE, V_VOL, V_AMOUNT, V_PRE};
  file_set *fs = &c->files[API_DAILY];
  int rc = ZZ_OK;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    int col[9];
    if ((rc = open_api(c, API_DAILY, k, names, need, col, 9, &r, err))) return rc;
    fs->ccol[k] = col[0];
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      int32_t d;
      int use;
      if ((rc = row_date(c, r, col[1], &d, &use, err))) break;
      if (!use) continue;
      if (find_cal(c, d) < 0) {
        rc = zz_csv_fail(r, col[1], err, ZZ_EDATA, "expected a trading day of index_daily, found '%s'",
                         zz_csv_field(r, col[1]));
        break;
      }
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, col[0], code, err))) break;
      int sid = stock_find(c, code);
      if (sid < 0 && (sid = stock_add(c, code, err)) < 0) {
        rc = -sid;
        break;
      }
      if (grow((void **)&c->bars, &c->cap_bars, c->n_bars + 1, sizeof *c->bars)) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      bar *b = &c->bars[c->n_bars];
      memset(b, 0, sizeof *b);
      for (int q = 0; q < 12; q++) b->v[q] = NAN;
      b->date = d, b->sid = sid, b->file = (int16_t)k, b->line = (uint32_t)zz_csv_line(r);
      for (int j = 2; j < 9 && !rc; j++) {
        if (col[j] < 0) continue;
        int scale = slot[j] == V_VOL ? 2 : slot[j] == V_AMOUNT ? 3 : 0;
        if ((rc = zz_csv_double_scaled(r, col[j], j == 8, scale, &b->v[slot[j]], err))) break;
        double v = b->v[slot[j]];
        int price = slot[j] <= V_CLOSE || slot[j] == V_PRE;
        if (price ? v <= 0 : v < 0)
          rc = zz_csv_fail(r, col[j], err, ZZ_EDATA, "expected a %s in column '%s', found '%s'",
                           price ? "positive price" : "non-negative number", zz_csv_header(r, col[j]),
                           zz_csv_field(r, col[j]));
      }
      if (rc) break;
      const double *v = b->v;
      if (v[V_HIGH] < v[V_LOW]) {
        rc = zz_csv_fail(r, col[3], err, ZZ_EDATA, "high %s is below low %s", zz_csv_field(r, col[3]), zz_csv_field(r, col[4]));
        break;
      }
      for (int j = 2; j <= 5; j += 3)
        if (v[slot[j]] < v[V_LOW] || v[slot[j]] > v[V_HIGH]) {
          rc = zz_csv_fail(r, col[j], err, ZZ_EDATA, "%s %s is outside [low, high] = [%s, %s]", zz_csv_header(r, col[j]),
                           zz_csv_field(r, col[j]), zz_csv_field(r, col[4]), zz_csv_field(r, col[3]));
          break;
        }
      if (rc) break;
      c->n_bars++;
      fs->rows++;
    }
    zz_csv_close(r);
  }
  if (rc) return rc;
  qsort(c->bars, c->n_bars, sizeof *c->bars, cmp_bar);
  for (size_t q = 0; q < c->n_bars; q++) {
    const bar *b = &c->bars[q];
    if (q && b->sid == b[-1].sid && b->date == b[-1].date) {
      char db[11];
      return zz_fail(err, ZZ_EDATA, "%s:%u:%d: duplicate row for (%s, %s), first at %s:%u", fs->path[b->file], b->line,
                     fs->ccol[b->file] + 1, zz_date_format(b->date, db), c->st[b->sid].code, fs->path[b[-1].file], b[-1].line);
    }
    stock *s = &c->st[b->sid];
    if (!s->nbars++) s->first = b->date;
    s->last = b->date;
  }
  if (!c->n_bars) return zz_fail(err, ZZ_EDATA, "%s: no rows%s", fs->path[0], c->o.start || c->o.end ? " between --start and --end" : "");
  return ZZ_OK;
}

/* ------------------------------------------------------------------ suspend_d */

static int read_suspend(ts_ctx *c, zz_err *err) {
  static const char *const TYPE[] = {"suspend_type", NULL}, *const TIMING[] = {"suspend_timing", NULL};
  const char *const *names[] = {C_CODE, C_DATE, TYPE, TIMING};
  const int need[] = {1, 1, 0, 0};
  file_set *fs = &c->files[API_SUSP];
  size_t n_traded = c->n_bars, added = 0, intraday = 0, traded = 0, outside = 0;
  int rc = ZZ_OK;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    int col[4];
    if ((rc = open_api(c, API_SUSP, k, names, need, col, 4, &r, err))) return rc;
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      if (col[2] >= 0 && strcasecmp(zz_csv_field(r, col[2]), "S")) continue; /* R: the resumption day */
      int32_t d;
      int use;
      if ((rc = row_date(c, r, col[1], &d, &use, err))) break;
      if (!use) continue;
      fs->rows++;
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, col[0], code, err))) break;
      int sid = stock_find(c, code);
      if (col[3] >= 0 && zz_csv_field(r, col[3])[0]) {
        intraday++;
        continue;
      }
      if (sid < 0 || find_cal(c, d) < 0 || d <= c->st[sid].first || d >= c->st[sid].last) {
        outside++;
        continue;
      }
      bar *b = find_bar_n(c, n_traded, sid, d); /* the traded rows are still sorted */
      if (b) {
        if (b->v[V_VOL] == 0) b->susp = 1;
        else traded++;
        continue;
      }
      if (grow((void **)&c->bars, &c->cap_bars, c->n_bars + 1, sizeof *c->bars)) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      bar *nb = &c->bars[c->n_bars++];
      memset(nb, 0, sizeof *nb);
      for (int q = 0; q < 12; q++) nb->v[q] = NAN;
      nb->date = d, nb->sid = sid, nb->susp = 1, nb->v[V_VOL] = 0, nb->v[V_AMOUNT] = 0;
      added++;
    }
    zz_csv_close(r);
  }
  if (rc) return rc;
  /* suspended rows were appended after the sorted traded ones: re-sort and drop repeated days */
  qsort(c->bars, c->n_bars, sizeof *c->bars, cmp_bar);
  size_t w = 0;
  for (size_t q = 0; q < c->n_bars; q++) {
    if (w && c->bars[w - 1].sid == c->bars[q].sid && c->bars[w - 1].date == c->bars[q].date) {
      added--;
      continue;
    }
    c->bars[w++] = c->bars[q];
  }
  c->n_bars = w;
  rep_add(c,
          "suspended: from suspend_d: %zu suspended rows added for listed days without a daily row; %zu intraday "
          "suspensions (suspend_timing given) and %zu days with trading kept as traded; %zu rows outside the stocks' "
          "first..last daily row or the calendar ignored. Listed days without a daily row and not in suspend_d are "
          "suspended by ingest as well.\n",
          added, intraday, traded, outside);
  return ZZ_OK;
}

/* ------------------------------------------------------------------ columns filled into the bars */

/* adj_factor, daily_basic and stk_limit: (ts_code, trade_date) rows filling bar columns. */
static int read_fill(ts_ctx *c, int api, zz_err *err) {
  static const char *const ADJ[] = {"adj_factor", NULL}, *const CMV[] = {"circ_mv", NULL},
                           *const TMV[] = {"total_mv", NULL}, *const UP[] = {"up_limit", NULL},
                           *const DN[] = {"down_limit", NULL};
  const char *const *names[4] = {C_CODE, C_DATE, NULL, NULL};
  int need[4] = {1, 1, 1, 1}, slot[4] = {-1, -1, -1, -1}, scale = 0, ncol = 4;
  if (api == API_ADJ) names[2] = ADJ, slot[2] = V_ADJ, ncol = 3;
  else if (api == API_BASIC) names[2] = CMV, names[3] = TMV, slot[2] = V_FMV, slot[3] = V_TMV, scale = 4, need[2] = need[3] = 0;
  else names[2] = UP, names[3] = DN, slot[2] = V_UP, slot[3] = V_DOWN;
  file_set *fs = &c->files[api];
  size_t unmatched = 0;
  int rc = ZZ_OK;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    int col[4];
    if ((rc = open_api(c, api, k, names, need, col, ncol, &r, err))) return rc;
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      int32_t d;
      int use;
      if ((rc = row_date(c, r, col[1], &d, &use, err))) break;
      if (!use) continue;
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, col[0], code, err))) break;
      int sid = stock_find(c, code);
      bar *b = sid >= 0 ? find_bar(c, sid, d) : NULL;
      if (!b) {
        unmatched++;
        continue;
      }
      fs->rows++;
      for (int j = 2; j < ncol && !rc; j++) {
        if (col[j] < 0) continue;
        double v;
        if ((rc = zz_csv_double_scaled(r, col[j], 1, scale, &v, err))) break;
        if (api == API_BASIC ? v < 0 : v <= 0)
          rc = zz_csv_fail(r, col[j], err, ZZ_EDATA, "expected a %s in column '%s', found '%s'",
                           api == API_BASIC ? "non-negative market value" : "positive number", zz_csv_header(r, col[j]),
                           zz_csv_field(r, col[j]));
        b->v[slot[j]] = v;
      }
      if (rc) break;
    }
    zz_csv_close(r);
  }
  fs->skipped = unmatched;
  return rc;
}

static int cmp_name(const void *a, const void *b) {
  const name_rec *x = a, *y = b;
  if (x->sid != y->sid) return x->sid < y->sid ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start;
}

static int read_namechange(ts_ctx *c, zz_err *err) {
  static const char *const NAME[] = {"name", NULL}, *const S[] = {"start_date", NULL}, *const E[] = {"end_date", NULL};
  const char *const *names[] = {C_CODE, NAME, S, E};
  const int need[] = {1, 1, 1, 0};
  file_set *fs = &c->files[API_NAME];
  int rc = ZZ_OK;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    int col[4];
    if ((rc = open_api(c, API_NAME, k, names, need, col, 4, &r, err))) return rc;
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, col[0], code, err))) break;
      int sid = stock_find(c, code);
      if (sid < 0) {
        fs->skipped++;
        continue;
      }
      name_rec n = {sid, 0, 0, is_st_name(zz_csv_field(r, col[1]))};
      if ((rc = zz_csv_date(r, col[2], &n.start, err))) break;
      if (col[3] >= 0 && zz_csv_field(r, col[3])[0] && (rc = zz_csv_date(r, col[3], &n.end, err))) break;
      if (n.end && n.end < n.start) {
        rc = zz_csv_fail(r, col[3], err, ZZ_EDATA, "expected end_date on or after start_date, found '%s'",
                         zz_csv_field(r, col[3]));
        break;
      }
      if (grow((void **)&c->names, &c->cap_names, c->n_names + 1, sizeof *c->names)) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      c->names[c->n_names++] = n;
      fs->rows++;
    }
    zz_csv_close(r);
  }
  if (rc) return rc;
  qsort(c->names, c->n_names, sizeof *c->names, cmp_name);
  /* bars and names are both sorted by stock: one merge. The record in force on a day is the latest
   * one starting on or before it, unless its end_date has passed. */
  size_t q = 0, n_st_days = 0;
  for (size_t k = 0; k < c->n_bars; k++) {
    bar *b = &c->bars[k];
    while (q < c->n_names && c->names[q].sid < b->sid) q++;
    const name_rec *in = NULL;
    for (size_t j = q; j < c->n_names && c->names[j].sid == b->sid && c->names[j].start <= b->date; j++) in = &c->names[j];
    b->st = in && in->st && (!in->end || in->end >= b->date);
    n_st_days += b->st;
  }
  rep_add(c, "is_st: from namechange (a name starting with ST or *ST, also SST / S*ST, in force from start_date "
             "to end_date): %zu ST stock-days.\n", n_st_days);
  return ZZ_OK;
}

/* ------------------------------------------------------------------ stock_basic */

static int read_stock_basic(ts_ctx *c, zz_err *err) {
  static const char *const NAME[] = {"name", NULL}, *const LD[] = {"list_date", NULL},
                           *const DD[] = {"delist_date", NULL}, *const MK[] = {"market", NULL};
  const char *const *names[] = {C_CODE, NAME, LD, DD, MK};
  const int need[] = {1, 0, 0, 0, 0};
  file_set *fs = &c->files[API_SB];
  int rc = ZZ_OK;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    int col[5];
    if ((rc = open_api(c, API_SB, k, names, need, col, 5, &r, err))) return rc;
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, col[0], code, err))) break;
      int sid = stock_find(c, code);
      if (sid < 0) {
        fs->skipped++; /* no daily row in range */
        continue;
      }
      stock *s = &c->st[sid];
      if (col[1] >= 0) snprintf(s->name, sizeof s->name, "%s", zz_csv_field(r, col[1]));
      if (col[2] >= 0 && zz_csv_field(r, col[2])[0] && (rc = zz_csv_date(r, col[2], &s->list_date, err))) break;
      if (col[3] >= 0 && zz_csv_field(r, col[3])[0] && (rc = zz_csv_date(r, col[3], &s->delist_date, err))) break;
      if (col[4] >= 0) {
        const char *m = zz_csv_field(r, col[4]);
        if (!strcmp(m, "主板") || !strcmp(m, "中小板")) s->board = BOARD_MAIN;
        else if (!strcmp(m, "创业板")) s->board = BOARD_CHINEXT;
        else if (!strcmp(m, "科创板")) s->board = BOARD_STAR;
        else if (!strcmp(m, "北交所")) s->board = BOARD_BSE;
        else if (m[0] && strcmp(m, "CDR")) {
          rc = zz_csv_fail(r, col[4], err, ZZ_EDATA, "expected a market 主板, 中小板, 创业板, 科创板, 北交所 or CDR, found '%s'", m);
          break;
        }
      }
      fs->rows++;
    }
    zz_csv_close(r);
  }
  return rc;
}

/* ------------------------------------------------------------------ writers */

static FILE *out_open(ts_ctx *c, const char *name, char *path, size_t np, char *tmp, size_t nt, zz_err *err) {
  snprintf(path, np, "%s/%s", c->tmpdir, name);
  return zz_out_open(path, tmp, nt, err);
}

static void put_num(FILE *f, double v) {
  char b[40];
  if (!isnan(v)) fputs(zz_fmt_double(b, sizeof b, v), f);
}

static int write_index_bars(ts_ctx *c, zz_err *err) {
  char path[1200], tmp[1300], db[11];
  FILE *f = out_open(c, "index_bars.csv", path, sizeof path, tmp, sizeof tmp, err);
  if (!f) return err->code;
  fputs("date,index,close\n", f);
  for (size_t q = 0; q < c->n_ix; q++) {
    fprintf(f, "%s,%s,", zz_date_format(c->ix[q].date, db), zz_index_code(c->ix[q].ix));
    put_num(f, c->ix[q].close);
    fputc('\n', f);
  }
  return zz_out_close(f, tmp, path, err);
}

static int cmp_rank(const void *a, const void *b) {
  return strcmp((*(stock *const *)a)->code, (*(stock *const *)b)->code);
}

/* Output order (date, code): the bars' sid has been replaced by the stock's rank by code. */
static int cmp_bar_out(const void *a, const void *b) {
  const bar *x = a, *y = b;
  if (x->date != y->date) return x->date < y->date ? -1 : 1;
  return x->sid - y->sid;
}

static int write_stocks(ts_ctx *c, zz_err *err) {
  stock **ord = malloc((size_t)(c->n_st ? c->n_st : 1) * sizeof *ord);
  if (!ord) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (int i = 0; i < c->n_st; i++) ord[i] = &c->st[i];
  qsort(ord, (size_t)c->n_st, sizeof *ord, cmp_rank);
  for (int i = 0; i < c->n_st; i++) ord[i]->rank = i;
  char path[1200], tmp[1300], db[11];
  FILE *f = out_open(c, "stocks.csv", path, sizeof path, tmp, sizeof tmp, err);
  if (!f) {
    free(ord);
    return err->code;
  }
  fputs("code,name,board,list_date,delist_date\n", f);
  for (int i = 0; i < c->n_st; i++) {
    const stock *s = ord[i];
    fprintf(f, "%s,", s->code);
    zz_csv_write_field(f, s->name);
    fprintf(f, ",%s,", panel_board_name(s->board >= 0 ? (panel_board)s->board : panel_board_from_code(s->code)));
    if (s->list_date) fputs(zz_date_format(s->list_date, db), f);
    fputc(',', f);
    if (s->delist_date) fputs(zz_date_format(s->delist_date, db), f);
    fputc('\n', f);
  }
  free(ord);
  return zz_out_close(f, tmp, path, err);
}

/* Last writer: leaves the bars sorted by (date, rank) with sid = rank (write_stocks set the ranks). */
static int write_bars(ts_ctx *c, zz_err *err) {
  const char **code = malloc((size_t)(c->n_st ? c->n_st : 1) * sizeof *code);
  if (!code) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (int i = 0; i < c->n_st; i++) code[c->st[i].rank] = c->st[i].code;
  for (size_t q = 0; q < c->n_bars; q++) c->bars[q].sid = c->st[c->bars[q].sid].rank;
  qsort(c->bars, c->n_bars, sizeof *c->bars, cmp_bar_out);
  char path[1200], tmp[1300], db[11];
  FILE *f = out_open(c, "bars.csv", path, sizeof path, tmp, sizeof tmp, err);
  if (!f) {
    free(code);
    return err->code;
  }
  fputs("date,code,open,high,low,close,volume,amount,pre_close,vwap", f);
  if (c->has_adj) fputs(",adj_factor", f);
  if (c->has_limit) fputs(",up_limit,down_limit", f);
  fputs(",suspended", f);
  if (c->has_st) fputs(",is_st", f);
  if (c->has_mv) fputs(",float_mv,total_mv", f);
  fputc('\n', f);
  for (size_t q = 0; q < c->n_bars; q++) {
    const bar *b = &c->bars[q];
    const double *v = b->v;
    fprintf(f, "%s,%s", zz_date_format(b->date, db), code[b->sid]);
    for (int j = V_OPEN; j <= V_PRE; j++) {
      fputc(',', f);
      put_num(f, v[j]);
    }
    fputc(',', f);
    if (v[V_VOL] > 0) put_num(f, v[V_AMOUNT] / v[V_VOL]);
    if (c->has_adj) fputc(',', f), put_num(f, v[V_ADJ]);
    if (c->has_limit) fputc(',', f), put_num(f, v[V_UP]), fputc(',', f), put_num(f, v[V_DOWN]);
    fprintf(f, ",%d", b->susp);
    if (c->has_st) fprintf(f, ",%d", b->st);
    if (c->has_mv) fputc(',', f), put_num(f, v[V_FMV]), fputc(',', f), put_num(f, v[V_TMV]);
    fputc('\n', f);
  }
  free(code);
  return zz_out_close(f, tmp, path, err);
}

/* (date, index) groups of index_weight, to check their sums at the source's position. */
typedef struct {
  int32_t date;
  int ix;         /* -1: free slot */
  int16_t file;
  uint32_t line;  /* first row of the group */
  size_t n;
  double sum;
} wgroup;

typedef struct {
  wgroup *g;
  size_t cap, n;
} wgroups;

static wgroup *wgroup_get(wgroups *w, int32_t date, int ix) {
  if ((w->n + 1) * 2 > w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 1024;
    wgroup *g = malloc(cap * sizeof *g);
    if (!g) return NULL;
    for (size_t k = 0; k < cap; k++) g[k].ix = -1;
    for (size_t k = 0; k < w->cap; k++) {
      if (w->g[k].ix < 0) continue;
      size_t h = ((size_t)w->g[k].date * 4u + (size_t)w->g[k].ix) * 2654435761u & (cap - 1);
      while (g[h].ix >= 0) h = (h + 1) & (cap - 1);
      g[h] = w->g[k];
    }
    free(w->g);
    w->g = g;
    w->cap = cap;
  }
  size_t h = ((size_t)date * 4u + (size_t)ix) * 2654435761u & (w->cap - 1);
  while (w->g[h].ix >= 0 && (w->g[h].date != date || w->g[h].ix != ix)) h = (h + 1) & (w->cap - 1);
  if (w->g[h].ix < 0) {
    w->g[h] = (wgroup){date, ix, 0, 0, 0, 0};
    w->n++;
  }
  return &w->g[h];
}

/* A row of the latest snapshot before --start, written on the first date. */
typedef struct {
  int ix, sid, ccol;
  int16_t file;
  uint32_t line;
  double w;
  char code[ZZ_CODE_LEN];
} carry_row;

static int emit_weight(ts_ctx *c, FILE *f, wgroups *wg, int32_t d, int ix, const char *code, double w, int k,
                       uint32_t line, zz_err *err) {
  wgroup *g = wgroup_get(wg, d, ix);
  if (!g) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  if (!g->n++) g->file = (int16_t)k, g->line = line;
  g->sum += w;
  char db[11];
  fprintf(f, "%s,%s,%s,", zz_date_format(d, db), zz_index_code(ix), code);
  put_num(f, w);
  fputc('\n', f);
  c->files[API_IW].rows++;
  return ZZ_OK;
}

/* index_weight streamed to index_weights.csv; each (date, index) must sum to 100 (percent) or 1 within
 * 0.5 % (ingest's rule), reported at the group's first row in the source. With --start, the latest
 * snapshot before it (tushare's are monthly) is written on the first date, unless one is given that day. */
static int write_weights(ts_ctx *c, zz_err *err) {
  static const char *const IC[] = {"index_code", NULL}, *const CC[] = {"con_code", NULL}, *const W[] = {"weight", NULL};
  const char *const *names[] = {IC, CC, C_DATE, W};
  const int need[] = {1, 1, 1, 1};
  char path[1200], tmp[1300], db[11];
  FILE *f = out_open(c, "index_weights.csv", path, sizeof path, tmp, sizeof tmp, err);
  if (!f) return err->code;
  fputs("date,index,code,weight\n", f);
  file_set *fs = &c->files[API_IW];
  wgroups wg = {NULL, 0, 0};
  carry_row *cr = NULL;
  size_t n_cr = 0, cap_cr = 0;
  int32_t carry_date[PANEL_N_INDEX] = {0};
  int rc = ZZ_OK, wcol = 0;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    int col[4];
    if ((rc = open_api(c, API_IW, k, names, need, col, 4, &r, err))) break;
    if (!k) wcol = col[3];
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      int ix = index_of(zz_csv_field(r, col[0]));
      if (ix < 0) {
        fs->skipped++;
        continue;
      }
      int32_t d;
      if ((rc = zz_csv_date(r, col[2], &d, err))) break;
      int before = c->o.start && d < c->o.start;
      if (!before && !in_range(c, d)) continue;
      if (before && d < carry_date[ix]) continue;
      if (!before && find_cal(c, d) < 0) {
        rc = zz_csv_fail(r, col[2], err, ZZ_EDATA, "expected a trading day of index_daily, found '%s'",
                         zz_csv_field(r, col[2]));
        break;
      }
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, col[1], code, err))) break;
      int sid = stock_find(c, code);
      double w;
      if ((rc = zz_csv_double(r, col[3], 0, &w, err))) break;
      if (w < 0) {
        rc = zz_csv_fail(r, col[3], err, ZZ_EDATA, "expected a non-negative weight, found '%s'", zz_csv_field(r, col[3]));
        break;
      }
      if (before) { /* keep the latest snapshot before --start, per index */
        if (d > carry_date[ix]) {
          size_t m = 0;
          for (size_t q = 0; q < n_cr; q++)
            if (cr[q].ix != ix) cr[m++] = cr[q];
          n_cr = m;
          carry_date[ix] = d;
        }
        if (grow((void **)&cr, &cap_cr, n_cr + 1, sizeof *cr)) {
          rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
          break;
        }
        cr[n_cr] = (carry_row){ix, sid, col[1], (int16_t)k, (uint32_t)zz_csv_line(r), w, ""};
        snprintf(cr[n_cr++].code, ZZ_CODE_LEN, "%s", code);
        continue;
      }
      if (sid < 0) {
        rc = zz_csv_fail(r, col[1], err, ZZ_EDATA, "unknown code '%s': expected a stock with rows in daily", code);
        break;
      }
      if ((rc = emit_weight(c, f, &wg, d, ix, code, w, k, (uint32_t)zz_csv_line(r), err))) break;
    }
    zz_csv_close(r);
  }
  for (int ix = 0; ix < PANEL_N_INDEX && !rc; ix++) {
    if (!carry_date[ix]) continue;
    char d1[11], d2[11];
    int given = 0;
    for (size_t q = 0; q < wg.cap && !given; q++) given = wg.g[q].ix == ix && wg.g[q].date == c->cal[0];
    if (given) {
      rep_add(c, "index_weight: %s has a snapshot on the first date %s; the one of %s before --start is not used\n",
              zz_index_code(ix), zz_date_format(c->cal[0], d1), zz_date_format(carry_date[ix], d2));
      continue;
    }
    size_t used = 0;
    for (size_t q = 0; q < n_cr && !rc; q++) {
      if (cr[q].ix != ix) continue;
      if (cr[q].sid < 0)
        rc = zz_fail(err, ZZ_EDATA, "%s:%u:%d: unknown code '%s': expected a stock with rows in daily (snapshot of %s, "
                     "the latest before --start)", fs->path[cr[q].file], cr[q].line, cr[q].ccol + 1, cr[q].code,
                     zz_date_format(carry_date[ix], d2));
      else rc = emit_weight(c, f, &wg, c->cal[0], ix, cr[q].code, cr[q].w, cr[q].file, cr[q].line, err);
      used++;
    }
    rep_add(c, "index_weight: %s's snapshot of %s (the latest before --start, %zu members) is written on the first "
               "date %s\n", zz_index_code(ix), zz_date_format(carry_date[ix], d2), used, zz_date_format(c->cal[0], d1));
  }
  free(cr);
  for (size_t q = 0; q < wg.cap && !rc; q++) {
    const wgroup *g = &wg.g[q];
    if (g->ix < 0 || fabs(g->sum - 100.0) <= 0.5 || fabs(g->sum - 1.0) <= 0.005) continue;
    rc = zz_fail(err, ZZ_EDATA,
                 "%s:%u:%d: weights of %s on %s (%zu rows, the first on this line) sum to %.6g: expected 100 "
                 "(percent) or 1 (fractions) within 0.5 %%",
                 fs->path[g->file], g->line, wcol + 1, zz_index_code(g->ix), zz_date_format(g->date, db), g->n, g->sum);
  }
  free(wg.g);
  if (rc) {
    fclose(f);
    remove(tmp);
    return rc;
  }
  return zz_out_close(f, tmp, path, err);
}

typedef struct {
  char code[32];
  char name[64];
} ind_name;

/* index_classify (level L1) + index_member, or index_member_all-like files with an l1_name column. */
static int write_industry(ts_ctx *c, zz_err *err) {
  if (!c->files[API_IMEM].n) {
    rep_add(c, "industry: index_member missing: no industry.csv (every stock unclassified)\n");
    return ZZ_OK;
  }
  ind_name *map = NULL;
  size_t n_map = 0, cap_map = 0;
  int rc = ZZ_OK;
  static const char *const IC[] = {"index_code", NULL}, *const IN[] = {"industry_name", NULL},
                           *const LV[] = {"level", NULL};
  file_set *fc = &c->files[API_ICLS];
  for (int k = 0; k < fc->n && !rc; k++) {
    const char *const *names[] = {IC, IN, LV};
    const int need[] = {1, 1, 0};
    zz_csv *r = NULL;
    int col[3];
    if ((rc = open_api(c, API_ICLS, k, names, need, col, 3, &r, err))) break;
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      if (col[2] >= 0 && strcasecmp(zz_csv_field(r, col[2]), "L1")) continue;
      if (grow((void **)&map, &cap_map, n_map + 1, sizeof *map)) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      snprintf(map[n_map].code, sizeof map[n_map].code, "%s", zz_csv_field(r, col[0]));
      snprintf(map[n_map].name, sizeof map[n_map].name, "%s", zz_csv_field(r, col[1]));
      n_map++;
      fc->rows++;
    }
    zz_csv_close(r);
  }
  char path[1200], tmp[1300], db[11];
  FILE *f = rc ? NULL : out_open(c, "industry.csv", path, sizeof path, tmp, sizeof tmp, err);
  if (!f) {
    free(map);
    return rc ? rc : err->code;
  }
  fputs("code,industry,start_date,end_date\n", f);
  static const char *const CC[] = {"con_code", "ts_code", NULL}, *const L1[] = {"l1_name", NULL},
                           *const ID[] = {"in_date", NULL}, *const OD[] = {"out_date", NULL};
  file_set *fs = &c->files[API_IMEM];
  int used_l1 = 0;
  for (int k = 0; k < fs->n && !rc; k++) {
    zz_csv *r = NULL;
    if ((rc = zz_csv_open(&r, fs->path[k], err))) break;
    int cl1 = zz_csv_find(r, L1);
    int ccode = zz_csv_require(r, CC, err), cic = cl1 >= 0 ? -1 : zz_csv_require(r, IC, err);
    int cin = zz_csv_find(r, ID), cout = zz_csv_find(r, OD);
    if (ccode < 0 || (cl1 < 0 && cic < 0)) {
      zz_csv_close(r);
      rc = err->code;
      break;
    }
    used_l1 |= cl1 >= 0;
    for (;;) {
      int got = zz_csv_next(r, err);
      if (got <= 0) {
        rc = -got;
        break;
      }
      const char *ind = NULL;
      if (cl1 >= 0) ind = zz_csv_field(r, cl1);
      else
        for (size_t j = 0; j < n_map && !ind; j++)
          if (!strcmp(map[j].code, zz_csv_field(r, cic))) ind = map[j].name;
      if (!ind) continue; /* not a level-1 index */
      char code[ZZ_CODE_LEN];
      if ((rc = row_code(r, ccode, code, err))) break;
      if (stock_find(c, code) < 0) {
        fs->skipped++;
        continue;
      }
      int32_t a = 0, b = 0;
      if (cin >= 0 && zz_csv_field(r, cin)[0] && (rc = zz_csv_date(r, cin, &a, err))) break;
      if (cout >= 0 && zz_csv_field(r, cout)[0] && (rc = zz_csv_date(r, cout, &b, err))) break;
      if (a && b && b < a) {
        rc = zz_csv_fail(r, cout, err, ZZ_EDATA, "expected out_date on or after in_date, found '%s'", zz_csv_field(r, cout));
        break;
      }
      fprintf(f, "%s,", code);
      zz_csv_write_field(f, ind);
      fprintf(f, ",%s,", a ? zz_date_format(a, db) : "");
      fprintf(f, "%s\n", b ? zz_date_format(b, db) : "");
      fs->rows++;
    }
    zz_csv_close(r);
  }
  free(map);
  if (rc) {
    fclose(f);
    remove(tmp);
    return rc;
  }
  if (!used_l1 && !fc->n) {
    fclose(f);
    remove(tmp);
    rep_add(c, "industry: index_classify missing (needed to name index_member's index_code): no industry.csv\n");
    return ZZ_OK;
  }
  rep_add(c, "industry: SW level 1 from %s: %zu membership records (in_date..out_date); stocks without one are "
             "unclassified\n", used_l1 ? "index_member's l1_name" : "index_member + index_classify (level L1)", fs->rows);
  return zz_out_close(f, tmp, path, err);
}

/* ------------------------------------------------------------------ driver */

static const char *const out_files[] = {"bars.csv", "index_bars.csv", "index_weights.csv", "stocks.csv",
                                        "industry.csv", "IMPORT.txt"};

static void remove_tmpdir(ts_ctx *c) {
  if (!c->tmpdir[0]) return;
  char p[1200];
  for (size_t k = 0; k < sizeof out_files / sizeof *out_files; k++) {
    snprintf(p, sizeof p, "%s/%s", c->tmpdir, out_files[k]);
    remove(p);
    snprintf(p, sizeof p, "%s/%s.tmp", c->tmpdir, out_files[k]);
    remove(p);
  }
  rmdir(c->tmpdir);
}

static int write_import_txt(ts_ctx *c, zz_err *err) {
  char path[1200], tmp[1300], b1[11], b2[11];
  FILE *f = out_open(c, "IMPORT.txt", path, sizeof path, tmp, sizeof tmp, err);
  if (!f) return err->code;
  fprintf(f, "zhizeng import tushare\nsource: %s\n", c->src);
  fprintf(f, "dates: %s .. %s (%d trading days from index_daily)", zz_date_format(c->cal[0], b1),
          zz_date_format(c->cal[c->n_cal - 1], b2), c->n_cal);
  if (c->o.start || c->o.end)
    fprintf(f, ", --start %s --end %s", c->o.start ? zz_date_format(c->o.start, b1) : "-",
            c->o.end ? zz_date_format(c->o.end, b2) : "-");
  fprintf(f, "\nstocks: %d (with at least one daily row)\n\nfiles used:\n", c->n_st);
  for (int a = 0; a < API_N; a++) {
    const file_set *s = &c->files[a];
    if (!s->n) {
      fprintf(f, "  %-14s missing\n", api_name[a]);
      continue;
    }
    for (int k = 0; k < s->n; k++) {
      const char *base = strrchr(s->path[k], '/');
      fprintf(f, "  %-14s %s\n", k ? "" : api_name[a], base ? base + 1 : s->path[k]);
    }
    fprintf(f, "  %-14s %zu rows used, %zu skipped\n", "", s->rows, s->skipped);
  }
  for (int k = 0; k < c->ignored.n; k++) {
    const char *base = strrchr(c->ignored.path[k], '/');
    fprintf(f, "  %-14s %s (not a known tushare API name)\n", k ? "" : "ignored", base ? base + 1 : c->ignored.path[k]);
  }
  fputs("\nunits: vol x 100 -> volume (shares), amount x 1000 -> CNY, circ_mv / total_mv x 10000 -> float_mv / "
        "total_mv (CNY); converted exactly in decimal\n\nderivations:\n",
        f);
  fputs("  vwap = amount / volume (empty when the volume is 0)\n", f);
  fprintf(f, "  adj_factor: %s\n", c->has_adj ? "from adj_factor (empty cells carry the previous factor at ingest)"
                                              : "adj_factor missing: derived at ingest from daily's pre_close");
  fprintf(f, "  up_limit / down_limit: %s\n", c->has_limit ? "from stk_limit (empty cells derived at ingest)"
                                                            : "stk_limit missing: derived at ingest from pre_close");
  if (!c->has_st)
    fprintf(f, "  is_st: namechange missing: %s\n",
            c->has_limit ? "not written; ST is derived at load from stk_limit's 5 % limits (panel_st_source)"
                         : "not written and stk_limit missing too: ST cannot be determined and is not excluded");
  fprintf(f, "  float_mv / total_mv: %s\n", c->has_mv ? "from daily_basic circ_mv / total_mv"
                                                       : "daily_basic missing: not written (NaN without fundamentals)");
  if (!c->files[API_SUSP].n)
    fputs("  suspended: suspend_d missing: a listed stock without a daily row is suspended (ingest's rule)\n", f);
  if (!c->files[API_SB].n) fputs("  stocks.csv: stock_basic missing: board from the code, no names or listing dates\n", f);
  else fputs("  stocks.csv: from stock_basic (market -> board: 主板/中小板 main, 创业板 chinext, 科创板 star, 北交所 bse, "
             "else from the code)\n", f);
  if (c->rep.n) fputs("  ", f);
  for (size_t q = 0; q < c->rep.n; q++) {
    fputc(c->rep.s[q], f);
    if (c->rep.s[q] == '\n' && q + 1 < c->rep.n) fputs("  ", f);
  }
  return zz_out_close(f, tmp, path, err);
}

void tushare_import_init(tushare_import_opts *o) {
  memset(o, 0, sizeof *o);
  o->verbose = 1;
}

static void ctx_free(ts_ctx *c) {
  for (int a = 0; a < API_N; a++) {
    for (int k = 0; k < c->files[a].n; k++) free(c->files[a].path[k]);
    free(c->files[a].path);
    free(c->files[a].ccol);
  }
  for (int k = 0; k < c->ignored.n; k++) free(c->ignored.path[k]);
  free(c->ignored.path);
  free(c->ignored.ccol);
  free(c->cal), free(c->ix), free(c->st), free(c->ht), free(c->bars), free(c->names), free(c->rep.s);
}

/* Replaces the temporary directory's name by out in an error message. */
static void err_rename(zz_err *err, const char *tmpdir, const char *out) {
  char *p = strstr(err->msg, tmpdir);
  if (!p) return;
  char rest[ZZ_ERR_MSG];
  snprintf(rest, sizeof rest, "%s", p + strlen(tmpdir));
  size_t pre = (size_t)(p - err->msg);
  snprintf(err->msg + pre, sizeof err->msg - pre, "%s%s", out, rest);
}

int tushare_import(const char *src_dir, const char *out_dir, const tushare_import_opts *opts, panel **out,
                   zz_err *err) {
  if (out) *out = NULL;
  char outb[1024];
  if (snprintf(outb, sizeof outb, "%s", out_dir) >= (int)sizeof outb || !outb[0])
    return zz_fail(err, ZZ_EUSAGE, "--out: expected a directory name of at most 1,000 bytes");
  for (size_t n = strlen(outb); n > 1 && outb[n - 1] == '/'; n--) outb[n - 1] = '\0'; /* "m/" -> "m" */
  out_dir = outb;
  char srcb[1024];
  if (snprintf(srcb, sizeof srcb, "%s", src_dir) >= (int)sizeof srcb || !srcb[0])
    return zz_fail(err, ZZ_EUSAGE, "--src: expected a directory name of at most 1,000 bytes");
  for (size_t n = strlen(srcb); n > 1 && srcb[n - 1] == '/'; n--) srcb[n - 1] = '\0';
  ts_ctx c;
  memset(&c, 0, sizeof c);
  c.src = srcb;
  if (opts) c.o = *opts;
  else tushare_import_init(&c.o);
  if (c.o.start && c.o.end && c.o.end < c.o.start) return zz_fail(err, ZZ_EUSAGE, "--end is before --start");
  struct stat sb;
  int out_exists = !stat(out_dir, &sb);
  if (out_exists) {
    DIR *d = S_ISDIR(sb.st_mode) ? opendir(out_dir) : NULL;
    int empty = d != NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    if (d) closedir(d);
    if (!empty) return zz_fail(err, ZZ_EUSAGE, "%s: exists and is not an empty directory; choose a new --out", out_dir);
  }
  int rc = discover(&c, err);
  if (!rc) rc = read_index_daily(&c, err);
  if (!rc) rc = read_daily(&c, err);
  if (!rc && c.files[API_SUSP].n) rc = read_suspend(&c, err);
  if (!rc && (c.has_adj = c.files[API_ADJ].n > 0)) rc = read_fill(&c, API_ADJ, err);
  if (!rc && (c.has_mv = c.files[API_BASIC].n > 0)) rc = read_fill(&c, API_BASIC, err);
  if (!rc && (c.has_limit = c.files[API_LIMIT].n > 0)) rc = read_fill(&c, API_LIMIT, err);
  if (!rc && (c.has_st = c.files[API_NAME].n > 0)) rc = read_namechange(&c, err);
  if (!rc && c.files[API_SB].n) rc = read_stock_basic(&c, err);
  if (!rc) {
    if ((size_t)snprintf(c.tmpdir, sizeof c.tmpdir, "%.990s.tmp.%ld", out_dir, (long)getpid()) >= sizeof c.tmpdir ||
        strlen(out_dir) > 990) {
      c.tmpdir[0] = '\0';
      rc = zz_fail(err, ZZ_EUSAGE, "--out %s: path too long (at most 990 characters)", out_dir);
    } else if (mkdir(c.tmpdir, 0777)) {
      rc = zz_fail(err, ZZ_EIO, "%s: cannot create: %s", c.tmpdir, strerror(errno));
      c.tmpdir[0] = '\0';
    }
  }
  if (!rc) rc = write_index_bars(&c, err);
  if (!rc) rc = write_stocks(&c, err);
  if (!rc) rc = write_weights(&c, err);
  if (!rc) rc = write_industry(&c, err);
  if (!rc) rc = write_bars(&c, err);
  if (!rc) rc = write_import_txt(&c, err);
  panel *p = NULL;
  if (!rc) {
    panel_load_opts lo = {.cache_path = NULL, .use_cache = 0, .verbose = c.o.verbose};
    rc = panel_load(c.tmpdir, &lo, &p, err);
    if (rc) {
      err_rename(err, c.tmpdir, out_dir);
      zz_wrap(err, "the market written from %s is invalid (nothing was kept)", c.src);
    }
  }
  if (!rc && out_exists && rmdir(out_dir)) rc = zz_fail(err, ZZ_EIO, "%s: cannot replace: %s", out_dir, strerror(errno));
  if (!rc && rename(c.tmpdir, out_dir)) rc = zz_fail(err, ZZ_EIO, "%s: cannot rename %s to it: %s", out_dir, c.tmpdir, strerror(errno));
  if (rc) {
    panel_free(p);
    p = NULL;
    remove_tmpdir(&c);
  }
  ctx_free(&c);
  if (out) *out = p;
  else panel_free(p);
  return rc;
}
