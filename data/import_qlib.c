/* import_qlib.c — `zhizeng import qlib`: qlib's binary layout to a market directory (SPEC 2.1).
 *
 * Source layout (as users have it):
 *   calendars/day.txt                 one date a line, YYYY-MM-DD, increasing
 *   instruments/all.txt, csiNNN.txt   lines "SH600000<TAB>start<TAB>end", several spells per code allowed
 *   features/<code>/<field>.day.bin   little-endian float32: value 0 = index of the first day in the
 *                                     calendar, then one value per day (NaN = no bar); <code> lower- or
 *                                     upper-case
 * Prices are adjusted (qlib: adjusted = raw * factor): raw = round(field / factor, 2), adj_factor = factor,
 * so the market's adjusted close close * adj_factor is qlib's close up to rounding. Everything is written
 * into OUT/.import.tmp, validated with panel_load, and renamed into OUT only when valid. */
#include "data.h"

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

/* QF_CAP: a float market cap (float_mv, else circ_mv; any unit) used only for proxy index weights. */
enum { QF_OPEN, QF_HIGH, QF_LOW, QF_CLOSE, QF_VOLUME, QF_FACTOR, QF_AMOUNT, QF_VWAP, QF_CHANGE, QF_CAP, QF_N };
static const char *const qf_name[QF_N] = {"open", "high", "low", "close", "volume", "factor", "amount", "vwap", "change",
                                          "float_mv"};
static const char *const qidx_dir[PANEL_N_INDEX] = {"sh000300", "sh000905", "sh000852"};
static const char *const out_files[] = {"bars.csv", "index_bars.csv", "index_weights.csv", "stocks.csv",
                                        "industry.csv", "IMPORT.txt", NULL};

typedef struct qspell {
  char code[ZZ_CODE_LEN]; /* normalised */
  int32_t s, e;
} qspell;

typedef struct qstock {
  char code[ZZ_CODE_LEN];
  int first_sp, n_sp;      /* spells in imp.all (sorted by code, start) */
  const char *dir;         /* features/<dir>, NULL if none */
  int first_t, last_t;     /* written-range day indices of the first / last bar, -1 if none */
} qstock;

typedef struct wrow { /* one index weight (given or proxy) */
  int k, t, i;
  double w;
} wrow;

typedef struct imp {
  const qlib_import_opts *o;
  char tmp[1024];
  int32_t *cal;
  int n_cal, t0, t1; /* written range [t0, t1) of calendar indices */
  qspell *all;
  int n_all;
  qstock *st;
  int n_st;
  char **fdir; /* features/ entries, sorted case-insensitively */
  int n_fdir;
  double *iclose[PANEL_N_INDEX]; /* n_cal, NaN where none */
  char isrc[PANEL_N_INDEX][1200];
  uint8_t *trading; /* n_cal: written trading day (some index close) */
  float *adjc;      /* (t - t0) * n_st + i: qlib close on bar days, NaN otherwise */
  float *capv;      /* same layout: float cap on bar days (NULL when no stock has one) */
  wrow *w;
  size_t n_w, cap_w;
  char *notes;
  size_t n_notes, cap_notes;
} imp;

/* ---------------------------------------------------------------- helpers */

static void note(imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(imp *m, const char *fmt, ...) {
  char line[1600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  size_t n = strlen(line);
  if (m->n_notes + n + 2 > m->cap_notes) {
    size_t cap = (m->cap_notes + n + 2) * 2;
    char *q = realloc(m->notes, cap);
    if (!q) return; /* notes are best effort */
    m->notes = q;
    m->cap_notes = cap;
  }
  memcpy(m->notes + m->n_notes, line, n);
  m->n_notes += n;
  m->notes[m->n_notes++] = '\n';
  m->notes[m->n_notes] = '\0';
}

static double round2(double x) { return round(x * 100.0) / 100.0; }
static double round4(double x) { return round(x * 10000.0) / 10000.0; }

static int file_exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int fdir_cmp(const void *a, const void *b) { return strcasecmp(*(char *const *)a, *(char *const *)b); }

/* Entry of features/ matching name case-insensitively, or NULL. */
static const char *find_fdir(const imp *m, const char *name) {
  const char *key = name;
  char **hit = m->n_fdir ? bsearch(&key, m->fdir, (size_t)m->n_fdir, sizeof *m->fdir, fdir_cmp) : NULL;
  return hit ? *hit : NULL;
}

static int cal_find(const imp *m, int32_t ymd) {
  int lo = 0, hi = m->n_cal - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (m->cal[mid] == ymd) return mid;
    if (m->cal[mid] < ymd) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static int stock_find(const imp *m, const char *code) {
  int lo = 0, hi = m->n_st - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, c = strcmp(m->st[mid].code, code);
    if (!c) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/* SH000xxx and SZ399xxx are indices, not stocks. */
static int is_index_code(const char *code) {
  return (!strncmp(code, "000", 3) && !strcmp(code + 7, "SH")) || (!strncmp(code, "399", 3) && !strcmp(code + 7, "SZ"));
}

/* ---------------------------------------------------------------- calendar, instruments */

static int read_calendar(imp *m, zz_err *err) {
  char path[1100];
  snprintf(path, sizeof path, "%s/calendars/day.txt", m->o->src);
  FILE *f = fopen(path, "r");
  if (!f) return zz_fail(err, errno == ENOENT ? ZZ_EDATA : ZZ_EIO, "%s: cannot read: the qlib calendar (one date YYYY-MM-DD a line) is required", path);
  char *line = NULL;
  size_t cap = 0, ln = 0;
  int ncap = 0, rc = ZZ_OK;
  while (getline(&line, &cap, f) >= 0) {
    ln++;
    char *s = line;
    while (isspace((unsigned char)*s)) s++;
    size_t n = strcspn(s, " \t\r\n");
    if (!n) continue;
    s[n] = '\0';
    int32_t d;
    if (zz_date_parse(s, &d)) {
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu:1: expected a date YYYY-MM-DD, found '%s'", path, ln, s);
      break;
    }
    if (m->n_cal && d <= m->cal[m->n_cal - 1]) {
      char a[11], b[11];
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu:1: date %s is not after the previous date %s: the calendar must be increasing", path,
                   ln, zz_date_format(d, a), zz_date_format(m->cal[m->n_cal - 1], b));
      break;
    }
    if (m->n_cal == ncap) {
      ncap = ncap ? ncap * 2 : 4096;
      int32_t *q = realloc(m->cal, (size_t)ncap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      m->cal = q;
    }
    m->cal[m->n_cal++] = d;
  }
  free(line);
  fclose(f);
  if (!rc && !m->n_cal) rc = zz_fail(err, ZZ_EDATA, "%s:1: no dates: the calendar is empty", path);
  return rc;
}

static int spell_cmp(const void *a, const void *b) {
  const qspell *x = a, *y = b;
  int c = strcmp(x->code, y->code);
  return c ? c : (x->s > y->s) - (x->s < y->s);
}

/* Reads instruments/<name>.txt into *out (sorted by code, start). Missing file: *n = -1 when optional. */
static int read_instruments(imp *m, const char *name, int required, qspell **out, int *nout, zz_err *err) {
  char path[1100];
  snprintf(path, sizeof path, "%s/instruments/%s.txt", m->o->src, name);
  *out = NULL;
  *nout = -1;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT && !required) return ZZ_OK;
    return zz_fail(err, errno == ENOENT ? ZZ_EDATA : ZZ_EIO, "%s: cannot read: expected lines 'SH600000<TAB>start<TAB>end'", path);
  }
  char *line = NULL;
  size_t cap = 0, ln = 0;
  int n = 0, ncap = 0, rc = ZZ_OK;
  qspell *v = NULL;
  while (!rc && getline(&line, &cap, f) >= 0) {
    ln++;
    char *fld[4];
    int nf = 0;
    for (char *s = line, *save = NULL, *tok; (tok = strtok_r(s, " \t\r\n", &save)); s = NULL) {
      if (nf < 4) fld[nf] = tok;
      nf++;
    }
    if (!nf) continue;
    if (nf != 3) {
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu:%d: expected 3 fields (code<TAB>start<TAB>end), found %d", path, ln, nf < 3 ? nf + 1 : 4, nf);
      break;
    }
    qspell sp;
    if (zz_code_normalise(fld[0], sp.code)) {
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu:1: expected a code like SH600000, found '%s'", path, ln, fld[0]);
      break;
    }
    for (int c = 1; c <= 2 && !rc; c++)
      if (zz_date_parse(fld[c], c == 1 ? &sp.s : &sp.e))
        rc = zz_fail(err, ZZ_EDATA, "%s:%zu:%d: expected a date YYYY-MM-DD, found '%s'", path, ln, c + 1, fld[c]);
    if (rc) break;
    if (sp.e < sp.s) {
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu:3: end %s is before start %s", path, ln, fld[2], fld[1]);
      break;
    }
    if (n == ncap) {
      ncap = ncap ? ncap * 2 : 1024;
      qspell *q = realloc(v, (size_t)ncap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      v = q;
    }
    v[n++] = sp;
  }
  free(line);
  fclose(f);
  if (rc) {
    free(v);
    return rc;
  }
  if (n) qsort(v, (size_t)n, sizeof *v, spell_cmp);
  *out = v;
  *nout = n;
  return ZZ_OK;
}

static int scan_features(imp *m, zz_err *err) {
  char path[1100];
  snprintf(path, sizeof path, "%s/features", m->o->src);
  DIR *d = opendir(path);
  if (!d) return zz_fail(err, errno == ENOENT ? ZZ_EDATA : ZZ_EIO, "%s: cannot read: expected one directory per code (features/sh600000/close.day.bin ...)", path);
  int cap = 0, rc = ZZ_OK;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (m->n_fdir == cap) {
      cap = cap ? cap * 2 : 1024;
      char **q = realloc(m->fdir, (size_t)cap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      m->fdir = q;
    }
    if (!(m->fdir[m->n_fdir] = strdup(e->d_name))) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    m->n_fdir++;
  }
  closedir(d);
  if (!rc && m->n_fdir) qsort(m->fdir, (size_t)m->n_fdir, sizeof *m->fdir, fdir_cmp);
  return rc;
}

/* ---------------------------------------------------------------- .day.bin files */

/* Reads features/<dir>/<field>.day.bin into dense[n_cal] (NaN outside its days). *present = 0 when the
 * file does not exist. Checks: size a multiple of 4, a whole start index within the calendar, values
 * not running past the calendar's end. */
static int read_bin(imp *m, const char *dir, const char *field, double *dense, int *present, zz_err *err) {
  char path[1400];
  snprintf(path, sizeof path, "%s/features/%s/%s.day.bin", m->o->src, dir, field);
  for (int t = 0; t < m->n_cal; t++) dense[t] = NAN;
  *present = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return ZZ_OK;
    return zz_fail(err, ZZ_EIO, "%s: cannot read", path);
  }
  *present = 1;
  int rc = ZZ_OK;
  unsigned char *buf = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
    fclose(f);
    return zz_fail(err, ZZ_EIO, "%s: cannot read", path);
  }
  if (size % 4) {
    rc = zz_fail(err, ZZ_EDATA, "%s: byte %ld: file size %ld is not a multiple of 4 (float32 values): truncated?", path,
                 size - size % 4, size);
    goto done;
  }
  if (size == 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s: byte 0: empty file: expected a start index (float32) then one value per day", path);
    goto done;
  }
  if (!(buf = malloc((size_t)size))) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
    rc = zz_fail(err, ZZ_EIO, "%s: cannot read", path);
    goto done;
  }
  long nv = size / 4, base = 0;
  for (long k = 0; k < nv; k++) { /* little-endian float32 on any host */
    uint32_t u = (uint32_t)buf[4 * k] | (uint32_t)buf[4 * k + 1] << 8 | (uint32_t)buf[4 * k + 2] << 16 | (uint32_t)buf[4 * k + 3] << 24;
    float x;
    memcpy(&x, &u, sizeof x);
    if (k == 0) {
      if (!isfinite(x) || x < 0 || x != floorf(x)) {
        rc = zz_fail(err, ZZ_EDATA, "%s: byte 0: expected a whole non-negative start index, found %g", path, (double)x);
        goto done;
      }
      if (x >= (float)m->n_cal) {
        rc = zz_fail(err, ZZ_EDATA, "%s: byte 0: start index %.0f is beyond the calendar (%d days in calendars/day.txt)", path,
                     (double)x, m->n_cal);
        goto done;
      }
      long s = (long)x;
      if (s + nv - 1 > m->n_cal) {
        rc = zz_fail(err, ZZ_EDATA, "%s: byte %ld: %ld values from day %ld run past the calendar's end (%d days in calendars/day.txt)",
                     path, 4 + 4 * (m->n_cal - s), nv - 1, s, m->n_cal);
        goto done;
      }
      base = s - 1; /* value k lands on day s + k - 1 */
      continue;
    }
    if (isinf(x)) { /* NaN is qlib's "no value"; an infinity is a broken file, not a price */
      rc = zz_fail(err, ZZ_EDATA, "%s: byte %ld: value %ld is %s: expected a finite value or NaN (no value)", path, 4 * k,
                   k, x > 0 ? "inf" : "-inf");
      goto done;
    }
    dense[base + k] = (double)x;
  }
done:
  free(buf);
  fclose(f);
  return rc;
}

/* ---------------------------------------------------------------- output files */

static FILE *out_open(imp *m, const char *name, zz_err *err) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", m->tmp, name);
  FILE *f = fopen(path, "w");
  if (!f) zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  return f;
}

static int out_close(imp *m, FILE *f, const char *name, zz_err *err) {
  int bad = ferror(f);
  if (fclose(f) || bad) return zz_fail(err, ZZ_EIO, "%s/%s: cannot write", m->tmp, name);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- index closes */

static int read_index_bars_csv(imp *m, int *need, zz_err *err) {
  zz_csv *r;
  int rc = zz_csv_open(&r, m->o->index_bars_csv, err);
  if (rc) return rc;
  static const char *const A_DATE[] = {"date", "trade_date", NULL}, *const A_INDEX[] = {"index", "index_code", "ts_code", NULL},
                           *const A_CLOSE[] = {"close", NULL};
  int cd = zz_csv_require(r, A_DATE, err), ci = cd < 0 ? -1 : zz_csv_require(r, A_INDEX, err),
      cc = ci < 0 ? -1 : zz_csv_require(r, A_CLOSE, err);
  if (cc < 0) {
    zz_csv_close(r);
    return err->code;
  }
  int used[PANEL_N_INDEX] = {0};
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      break;
    }
    if (!k) break;
    int32_t d;
    double c;
    if ((rc = zz_csv_date(r, cd, &d, err))) break;
    int ix = zz_index_parse(zz_csv_field(r, ci));
    if (ix < 0) {
      rc = zz_csv_fail(r, ci, err, ZZ_EDATA, "unknown index '%s': expected 000300 (csi300), 000905 (csi500) or 000852 (csi1000)",
                       zz_csv_field(r, ci));
      break;
    }
    if ((rc = zz_csv_double(r, cc, 1, &c, err))) break;
    if (!need[ix]) continue; /* the qlib close file wins */
    int t = cal_find(m, d);
    if (t < 0) {
      char b[11];
      rc = zz_csv_fail(r, cd, err, ZZ_EDATA, "%s is not a day of calendars/day.txt", zz_date_format(d, b));
      break;
    }
    m->iclose[ix][t] = c;
    used[ix] = 1;
  }
  zz_csv_close(r);
  for (int k = 0; k < PANEL_N_INDEX && !rc; k++)
    if (used[k]) snprintf(m->isrc[k], sizeof m->isrc[k], "%s (--index-bars)", m->o->index_bars_csv);
  return rc;
}

static int load_index_closes(imp *m, const int *has_members, zz_err *err) {
  int need[PANEL_N_INDEX], any_need = 0, rc;
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    if (!(m->iclose[k] = malloc((size_t)m->n_cal * sizeof(double)))) return zz_fail(err, ZZ_ENOMEM, "out of memory");
    for (int t = 0; t < m->n_cal; t++) m->iclose[k][t] = NAN;
    const char *d = find_fdir(m, qidx_dir[k]);
    int present = 0;
    if (d && (rc = read_bin(m, d, "close", m->iclose[k], &present, err))) return rc;
    if (present) snprintf(m->isrc[k], sizeof m->isrc[k], "features/%s/close.day.bin", d);
    need[k] = !present;
    any_need |= need[k];
  }
  if (any_need && m->o->index_bars_csv && (rc = read_index_bars_csv(m, need, err))) return rc;
  int any = 0;
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    if (!m->isrc[k][0] && has_members[k])
      return zz_fail(err, ZZ_EDATA,
                     "%s: memberships in %s/instruments/%s.txt but no index closes: expected %s/features/%s/close.day.bin or "
                     "--index-bars CSV (date,index,close)",
                     zz_index_name(k), m->o->src, zz_index_name(k), m->o->src, qidx_dir[k]);
    any |= m->isrc[k][0] != 0;
  }
  if (!any)
    return zz_fail(err, ZZ_EDATA,
                   "no index closes: expected %s/features/sh000300/close.day.bin (or sh000905, sh000852) or --index-bars CSV "
                   "(date,index,close); the market's trading calendar is the set of index close dates",
                   m->o->src);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- bars */

typedef struct bar_stats {
  long rows, suspended, incomplete, non_trading, factor_carried, vwap_proxy, vwap_from_amount, amount_derived;
  int no_factor, no_dir, no_bars;
} bar_stats;

/* Appends s and a comma. */
static char *put_str(char *p, const char *s) {
  size_t n = strlen(s);
  memcpy(p, s, n);
  p[n] = ',';
  return p + n + 1;
}

/* Appends x with dec (0..4) decimals and a comma: printf's "%.*f" for values already rounded to dec
 * decimals, without its cost (bars.csv has millions of rows). */
static char *put_fixed(char *p, double x, int dec) {
  static const double scale[] = {1, 10, 100, 1000, 10000};
  if (!(fabs(x) < 1e13)) return p + sprintf(p, "%.*f,", dec, x);
  long long v = llround(x * scale[dec]);
  if (v < 0) {
    *p++ = '-';
    v = -v;
  }
  char tmp[32];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v || n <= dec);
  for (int k = n - 1; k >= 0; k--) {
    *p++ = tmp[k];
    if (k == dec && dec) *p++ = '.';
  }
  *p++ = ',';
  return p;
}

static int write_bars(imp *m, FILE *f, bar_stats *bs, int *has_field, zz_err *err) {
  double *v[QF_N];
  int rc = ZZ_OK;
  char (*dates)[11] = malloc((size_t)(m->t1 - m->t0) * sizeof *dates);
  for (int q = 0; q < QF_N; q++) v[q] = NULL;
  if (!dates) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (int t = m->t0; t < m->t1; t++) zz_date_format(m->cal[t], dates[t - m->t0]);
  for (int q = 0; q < QF_N; q++)
    if (!(v[q] = malloc((size_t)m->n_cal * sizeof(double)))) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      goto done;
    }
  fprintf(f, "date,code,open,high,low,close,pre_close,volume,amount,vwap,adj_factor,suspended\n");
  for (int i = 0; i < m->n_st && !rc; i++) {
    qstock *s = &m->st[i];
    s->first_t = s->last_t = -1;
    if (!s->dir) {
      bs->no_dir++;
      continue;
    }
    int present[QF_N];
    for (int q = 0; q < QF_N && !rc; q++) {
      rc = read_bin(m, s->dir, qf_name[q], v[q], &present[q], err);
      if (!rc && q == QF_CAP && !present[q]) rc = read_bin(m, s->dir, "circ_mv", v[q], &present[q], err);
      if (!rc && q <= QF_VOLUME && !present[q])
        rc = zz_fail(err, ZZ_EDATA, "%s/features/%s/%s.day.bin: missing: every stock needs open, high, low, close and volume",
                     m->o->src, s->dir, qf_name[q]);
      if (!rc && present[q]) has_field[q]++;
    }
    if (rc) break;
    if (!present[QF_FACTOR]) bs->no_factor++;
    if (present[QF_CAP] && !m->capv) {
      size_t cells = (size_t)(m->t1 - m->t0) * (size_t)m->n_st;
      if (!(m->capv = malloc(cells * sizeof *m->capv))) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      for (size_t c = 0; c < cells; c++) m->capv[c] = NAN;
    }
    double f_last = 1.0;
    for (int t = 0; t < m->n_cal; t++) /* before the first finite factor: that factor */
      if (isfinite(v[QF_FACTOR][t]) && v[QF_FACTOR][t] > 0) {
        f_last = v[QF_FACTOR][t];
        break;
      }
    double prev_adj_close = NAN, fac_printed = NAN;
    char fac_s[40] = "";
    for (int t = 0; t < m->t1; t++) {
      double fac = v[QF_FACTOR][t];
      int fac_ok = isfinite(fac) && fac > 0;
      if (fac_ok) f_last = fac;
      const double c = v[QF_CLOSE][t];
      if (!isfinite(c)) continue;
      if (!isfinite(v[QF_OPEN][t]) || !isfinite(v[QF_HIGH][t]) || !isfinite(v[QF_LOW][t])) {
        if (t >= m->t0) bs->incomplete++;
        continue;
      }
      if (t < m->t0) {
        prev_adj_close = c;
        continue;
      }
      if (!m->trading[t]) {
        bs->non_trading++;
        continue;
      }
      if (!fac_ok && present[QF_FACTOR]) bs->factor_carried++;
      fac = f_last;
      double o = round2(v[QF_OPEN][t] / fac), h = round2(v[QF_HIGH][t] / fac), l = round2(v[QF_LOW][t] / fac),
             cl = round2(c / fac);
      double vol = v[QF_VOLUME][t];
      int susp = !isfinite(vol) || vol <= 0;
      vol = susp ? 0 : round(m->o->volume_raw ? vol : vol * fac);
      if (vol <= 0) susp = 1;
      double pc = NAN;
      if (present[QF_CHANGE] && isfinite(v[QF_CHANGE][t]) && v[QF_CHANGE][t] > -1) pc = round2(c / (1 + v[QF_CHANGE][t]) / fac);
      else if (isfinite(prev_adj_close)) pc = round2(prev_adj_close / fac);
      double amount = NAN, vwap = NAN;
      if (present[QF_AMOUNT] && isfinite(v[QF_AMOUNT][t])) amount = susp ? 0 : round2(v[QF_AMOUNT][t]);
      if (present[QF_VWAP] && isfinite(v[QF_VWAP][t]) && v[QF_VWAP][t] > 0) vwap = round4(v[QF_VWAP][t] / fac);
      else if (isfinite(amount) && vol > 0) {
        vwap = round4(amount / vol);
        bs->vwap_from_amount++;
      } else {
        vwap = round4((h + l + cl) / 3);
        bs->vwap_proxy++;
      }
      if (!isfinite(amount)) {
        amount = round2(vwap * vol);
        bs->amount_derived++;
      }
      if (fac != fac_printed) { /* the factor rarely changes: format it once per change */
        snprintf(fac_s, sizeof fac_s, "%.9g", fac);
        fac_printed = fac;
      }
      char row[512], *p = row;
      p = put_str(p, dates[t - m->t0]);
      p = put_str(p, s->code);
      p = put_fixed(p, o, 2);
      p = put_fixed(p, h, 2);
      p = put_fixed(p, l, 2);
      p = put_fixed(p, cl, 2);
      if (isfinite(pc)) p = put_fixed(p, pc, 2);
      else *p++ = ',';
      p = put_fixed(p, vol, 0);
      p = put_fixed(p, amount, 2);
      p = put_fixed(p, vwap, 4);
      p = put_str(p, fac_s);
      *p++ = susp ? '1' : '0';
      *p++ = '\n';
      fwrite(row, 1, (size_t)(p - row), f);
      bs->rows++;
      bs->suspended += susp;
      if (s->first_t < 0) s->first_t = t;
      s->last_t = t;
      m->adjc[(size_t)(t - m->t0) * (size_t)m->n_st + (size_t)i] = (float)c;
      if (present[QF_CAP] && isfinite(v[QF_CAP][t]) && v[QF_CAP][t] > 0)
        m->capv[(size_t)(t - m->t0) * (size_t)m->n_st + (size_t)i] = (float)v[QF_CAP][t];
      prev_adj_close = c;
    }
    if (s->first_t < 0) bs->no_bars++;
  }
done:
  for (int q = 0; q < QF_N; q++) free(v[q]);
  free(dates);
  return rc;
}

/* ---------------------------------------------------------------- weights */

static int push_w(imp *m, int k, int t, int i, double w, zz_err *err) {
  if (m->n_w == m->cap_w) {
    size_t cap = m->cap_w ? m->cap_w * 2 : 4096;
    wrow *q = realloc(m->w, cap * sizeof *q);
    if (!q) return zz_fail(err, ZZ_ENOMEM, "out of memory");
    m->w = q;
    m->cap_w = cap;
  }
  m->w[m->n_w++] = (wrow){k, t, i, w};
  return ZZ_OK;
}

static int wrow_cmp(const void *a, const void *b) {
  const wrow *x = a, *y = b;
  if (x->k != y->k) return x->k - y->k;
  if (x->t != y->t) return x->t - y->t;
  return x->i - y->i;
}

static int read_weights_csv(imp *m, zz_err *err) {
  zz_csv *r;
  int rc = zz_csv_open(&r, m->o->weights_csv, err);
  if (rc) return rc;
  static const char *const A_DATE[] = {"trade_date", "date", NULL}, *const A_INDEX[] = {"index_code", "index", NULL},
                           *const A_CODE[] = {"con_code", "code", NULL}, *const A_W[] = {"weight", NULL};
  int cd = zz_csv_require(r, A_DATE, err), ci = cd < 0 ? -1 : zz_csv_require(r, A_INDEX, err),
      cc = ci < 0 ? -1 : zz_csv_require(r, A_CODE, err), cw = cc < 0 ? -1 : zz_csv_require(r, A_W, err);
  if (cw < 0) {
    zz_csv_close(r);
    return err->code;
  }
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      break;
    }
    if (!k) break;
    int32_t d;
    double w;
    char code[ZZ_CODE_LEN];
    if ((rc = zz_csv_date(r, cd, &d, err))) break;
    int ix = zz_index_parse(zz_csv_field(r, ci));
    if (ix < 0) {
      rc = zz_csv_fail(r, ci, err, ZZ_EDATA, "unknown index '%s': expected 000300.SH, 000905.SH or 000852.SH", zz_csv_field(r, ci));
      break;
    }
    if (zz_code_normalise(zz_csv_field(r, cc), code)) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "expected a stock code like 600000.SH, found '%s'", zz_csv_field(r, cc));
      break;
    }
    if ((rc = zz_csv_double(r, cw, 0, &w, err))) break;
    if (d < m->cal[m->t0] || d > m->cal[m->t1 - 1]) continue;
    int t = cal_find(m, d);
    if (t < 0 || !m->trading[t]) {
      char b[11];
      rc = zz_csv_fail(r, cd, err, ZZ_EDATA, "%s is not a trading day of the imported calendar", zz_date_format(d, b));
      break;
    }
    int i = stock_find(m, code);
    if (i < 0 || m->st[i].first_t < 0) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "%s has no bars in the qlib data between the import's first and last date", code);
      break;
    }
    if ((rc = push_w(m, ix, t, i, w, err))) break;
  }
  zz_csv_close(r);
  return rc;
}

/* Latest float cap of stock i on or before day t (written range), or NaN. */
static double cap_asof(const imp *m, int t, int i) {
  if (!m->capv) return NAN;
  for (int u = t; u >= m->t0; u--) {
    float c = m->capv[(size_t)(u - m->t0) * (size_t)m->n_st + (size_t)i];
    if (isfinite(c)) return c;
  }
  return NAN;
}

/* Proxy snapshots from instruments/csiNNN.txt: one on the first written day and one each time the member
 * set changes; float-cap weights when every member has a cap (float_mv / circ_mv) on or before the day,
 * else equal weights. n_cap / n_eq count the snapshots of each kind. */
static int proxy_weights(imp *m, int k, const qspell *mem, int n_mem, long *unknown, int *n_cap, int *n_eq, zz_err *err) {
  int *idx = malloc((size_t)(n_mem ? n_mem : 1) * sizeof *idx);
  uint8_t *cur = calloc((size_t)m->n_st + 1, 1), *prev = calloc((size_t)m->n_st + 1, 1);
  int rc = ZZ_OK, have_prev = 0;
  if (!idx || !cur || !prev) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  for (int r = 0; r < n_mem; r++) {
    idx[r] = stock_find(m, mem[r].code);
    if (idx[r] >= 0 && m->st[idx[r]].first_t < 0) idx[r] = -1;
    if (idx[r] < 0 && (r == 0 || strcmp(mem[r].code, mem[r - 1].code))) (*unknown)++;
  }
  for (int t = m->t0; t < m->t1 && !rc; t++) {
    if (!m->trading[t]) continue;
    memset(cur, 0, (size_t)m->n_st);
    int cnt = 0;
    for (int r = 0; r < n_mem; r++)
      if (idx[r] >= 0 && mem[r].s <= m->cal[t] && m->cal[t] <= mem[r].e && !cur[idx[r]]) {
        cur[idx[r]] = 1;
        cnt++;
      }
    if (!cnt || (have_prev && !memcmp(cur, prev, (size_t)m->n_st))) continue;
    double total = 0;
    for (int i = 0; i < m->n_st && isfinite(total); i++)
      if (cur[i]) total += cap_asof(m, t, i); /* NaN as soon as one member has no cap */
    int by_cap = isfinite(total) && total > 0;
    (*(by_cap ? n_cap : n_eq))++;
    for (int i = 0; i < m->n_st && !rc; i++)
      if (cur[i]) rc = push_w(m, k, t, i, by_cap ? cap_asof(m, t, i) / total : 1.0 / cnt, err);
    memcpy(prev, cur, (size_t)m->n_st);
    have_prev = 1;
  }
done:
  free(idx);
  free(cur);
  free(prev);
  return rc;
}

/* Tracking error of index k's weights (snapshots in m->w[a..b), sorted by t) against its close:
 * annualised (sqrt 252) sample std of the daily difference between the portfolio's return (weights
 * drifted with adjusted closes since the snapshot) and the index close's return. */
static double tracking_error(imp *m, int k, size_t a, size_t b, int *ndays) {
  *ndays = 0;
  double *w = calloc((size_t)m->n_st, sizeof *w), *last = malloc((size_t)m->n_st * sizeof *last);
  if (!w || !last) {
    free(w);
    free(last);
    return NAN;
  }
  for (int i = 0; i < m->n_st; i++) last[i] = NAN;
  double sum = 0, sum2 = 0, prev_ix = NAN;
  int active = 0;
  size_t p = a;
  for (int t = m->t0; t < m->t1; t++) {
    if (!m->trading[t]) continue;
    const float *ac = m->adjc + (size_t)(t - m->t0) * (size_t)m->n_st;
    double num = 0, den = 0;
    for (int i = 0; i < m->n_st; i++) {
      double r = NAN;
      if (isfinite(last[i])) r = isfinite(ac[i]) ? ac[i] / last[i] - 1 : 0;
      if (isfinite(ac[i])) last[i] = ac[i];
      if (!w[i] || !isfinite(r)) continue;
      num += w[i] * r;
      den += w[i];
      w[i] *= 1 + r;
    }
    double ix = m->iclose[k][t];
    if (active && den > 0 && isfinite(ix) && isfinite(prev_ix)) {
      double d = num / den - (ix / prev_ix - 1);
      sum += d;
      sum2 += d * d;
      (*ndays)++;
    }
    prev_ix = ix;
    if (p < b && m->w[p].t == t) {
      memset(w, 0, (size_t)m->n_st * sizeof *w);
      for (; p < b && m->w[p].t == t; p++) w[m->w[p].i] = m->w[p].w;
      active = 1;
    }
  }
  free(w);
  free(last);
  int n = *ndays;
  if (n < 2) return NAN;
  double mean = sum / n, var = (sum2 - n * mean * mean) / (n - 1);
  return sqrt(var > 0 ? var : 0) * sqrt(252.0);
}

/* ---------------------------------------------------------------- the output directory */

static void remove_tmp(imp *m) {
  char path[1200];
  for (int k = 0; out_files[k]; k++) {
    snprintf(path, sizeof path, "%s/%s", m->tmp, out_files[k]);
    unlink(path);
  }
  rmdir(m->tmp);
}

/* OUT must be absent, empty, or a previous import (has IMPORT.txt). */
static int prepare_out(imp *m, int *created, zz_err *err) {
  const char *out = m->o->out;
  struct stat sb;
  *created = 0;
  if (stat(out, &sb)) {
    if (mkdir(out, 0777)) return zz_fail(err, ZZ_EIO, "%s: cannot create the market directory: %s", out, strerror(errno));
    *created = 1;
  } else {
    if (!S_ISDIR(sb.st_mode)) return zz_fail(err, ZZ_EUSAGE, "%s: exists and is not a directory", out);
    char p[1200];
    snprintf(p, sizeof p, "%s/IMPORT.txt", out);
    if (!file_exists(p)) {
      DIR *d = opendir(out);
      if (!d) return zz_fail(err, ZZ_EIO, "%s: cannot read", out);
      struct dirent *e;
      int other = 0;
      while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".import.tmp")) other = 1;
      closedir(d);
      if (other)
        return zz_fail(err, ZZ_EUSAGE, "%s: exists, is not empty and is not a previous import (no IMPORT.txt): choose another --out",
                       out);
    }
  }
  snprintf(m->tmp, sizeof m->tmp, "%s/.import.tmp", out);
  remove_tmp(m); /* left over by a killed run */
  if (mkdir(m->tmp, 0777)) {
    int e = errno;
    if (*created) rmdir(out);
    return zz_fail(err, ZZ_EIO, "%s: cannot create: %s", m->tmp, strerror(e));
  }
  return ZZ_OK;
}

static int publish(imp *m, int wrote_industry, zz_err *err) {
  char from[1200], to[1200];
  for (int k = 0; out_files[k]; k++) {
    snprintf(from, sizeof from, "%s/%s", m->tmp, out_files[k]);
    snprintf(to, sizeof to, "%s/%s", m->o->out, out_files[k]);
    if (!strcmp(out_files[k], "industry.csv") && !wrote_industry) {
      unlink(to); /* a previous import's */
      continue;
    }
    if (rename(from, to)) return zz_fail(err, ZZ_EIO, "%s: cannot rename to %s: %s", from, to, strerror(errno));
  }
  snprintf(to, sizeof to, "%s/.zhizeng.cache", m->o->out);
  unlink(to);
  rmdir(m->tmp);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- the import */

void qlib_import_init(qlib_import_opts *o) {
  *o = (qlib_import_opts){.src = NULL, .out = NULL, .start = 0, .end = 0, .volume_raw = 0, .verbose = 1};
}

static int write_industry(imp *m, int *wrote, zz_err *err) {
  *wrote = 0;
  if (!m->o->industry_csv) return ZZ_OK;
  zz_csv *r;
  int rc = zz_csv_open(&r, m->o->industry_csv, err);
  if (rc) return rc;
  static const char *const A_CODE[] = {"code", "ts_code", "con_code", NULL}, *const A_IND[] = {"industry", "industry_name", NULL};
  int cc = zz_csv_require(r, A_CODE, err), ci = cc < 0 ? -1 : zz_csv_require(r, A_IND, err);
  if (ci < 0) {
    zz_csv_close(r);
    return err->code;
  }
  FILE *f = out_open(m, "industry.csv", err);
  if (!f) {
    zz_csv_close(r);
    return err->code;
  }
  fprintf(f, "code,industry\n");
  long skipped = 0, written = 0;
  for (;;) {
    int k = zz_csv_next(r, err);
    if (k < 0) {
      rc = -k;
      break;
    }
    if (!k) break;
    char code[ZZ_CODE_LEN];
    if (zz_code_normalise(zz_csv_field(r, cc), code)) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "expected a stock code like 600000.SH, found '%s'", zz_csv_field(r, cc));
      break;
    }
    int i = stock_find(m, code);
    if (i < 0 || m->st[i].first_t < 0) {
      skipped++;
      continue;
    }
    fputs(code, f);
    fputc(',', f);
    zz_csv_write_field(f, zz_csv_field(r, ci));
    fputc('\n', f);
    written++;
  }
  zz_csv_close(r);
  int rc2 = out_close(m, f, "industry.csv", err);
  if (!rc) rc = rc2;
  if (!rc) {
    *wrote = 1;
    note(m, "industry: %ld rows from %s (%ld rows of codes without bars skipped)", written, m->o->industry_csv, skipped);
  }
  return rc;
}

static int run(imp *m, panel **out, zz_err *err) {
  const qlib_import_opts *o = m->o;
  int rc = read_calendar(m, err);
  if (rc) return rc;
  m->t0 = 0;
  m->t1 = m->n_cal;
  while (m->t0 < m->n_cal && o->start && m->cal[m->t0] < o->start) m->t0++;
  while (m->t1 > 0 && o->end && m->cal[m->t1 - 1] > o->end) m->t1--;
  if (m->t0 >= m->t1) return zz_fail(err, ZZ_EUSAGE, "--start/--end leave no day of %s/calendars/day.txt", o->src);
  if ((rc = read_instruments(m, "all", 1, &m->all, &m->n_all, err))) return rc;
  if ((rc = scan_features(m, err))) return rc;
  qspell *mem[PANEL_N_INDEX] = {NULL, NULL, NULL};
  int n_mem[PANEL_N_INDEX], has_members[PANEL_N_INDEX];
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    if (!rc) rc = read_instruments(m, zz_index_name(k), 0, &mem[k], &n_mem[k], err);
    else n_mem[k] = -1;
    has_members[k] = n_mem[k] > 0 && !o->weights_csv;
  }
  if (rc) goto done;
  /* stocks: the codes of instruments/all.txt that are not indices */
  if (!(m->st = calloc((size_t)(m->n_all ? m->n_all : 1), sizeof *m->st))) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  int n_index_lines = 0;
  for (int r = 0; r < m->n_all; r++) {
    if (is_index_code(m->all[r].code)) {
      n_index_lines++;
      continue;
    }
    if (m->n_st && !strcmp(m->st[m->n_st - 1].code, m->all[r].code)) {
      m->st[m->n_st - 1].n_sp++;
      continue;
    }
    qstock *s = &m->st[m->n_st++];
    memcpy(s->code, m->all[r].code, ZZ_CODE_LEN);
    s->first_sp = r;
    s->n_sp = 1;
    char q[16];
    snprintf(q, sizeof q, "%c%c%.6s", tolower((unsigned char)s->code[7]), tolower((unsigned char)s->code[8]), s->code);
    s->dir = find_fdir(m, q);
  }
  if ((rc = load_index_closes(m, has_members, err))) goto done;
  if (!(m->trading = calloc((size_t)m->n_cal, 1))) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  int n_trading = 0;
  for (int t = m->t0; t < m->t1; t++) {
    for (int k = 0; k < PANEL_N_INDEX; k++)
      if (isfinite(m->iclose[k][t]) && m->iclose[k][t] > 0) m->trading[t] = 1;
    n_trading += m->trading[t];
  }
  if (!n_trading) {
    rc = zz_fail(err, ZZ_EDATA, "no index close between the first and last date to import: the market's calendar would be empty");
    goto done;
  }
  size_t cells = (size_t)(m->t1 - m->t0) * (size_t)(m->n_st ? m->n_st : 1);
  if (!(m->adjc = malloc(cells * sizeof *m->adjc))) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory (%zu stock-days)", cells);
    goto done;
  }
  for (size_t c = 0; c < cells; c++) m->adjc[c] = NAN;

  char d0[11], d1[11];
  note(m, "source: %s (qlib binary layout)", o->src);
  note(m, "dates: %s .. %s: %d trading days written of %d in calendars/day.txt", zz_date_format(m->cal[m->t0], d0),
       zz_date_format(m->cal[m->t1 - 1], d1), n_trading, m->n_cal);
  if (n_trading < m->t1 - m->t0)
    note(m, "dates: %d calendar days in range without any index close are not trading days of the market (bars there dropped)",
         m->t1 - m->t0 - n_trading);
  note(m, "prices: raw = round(qlib field / factor, 2); adj_factor = qlib factor (close * adj_factor = qlib close)");
  note(m, "volume: %s", o->volume_raw ? "raw (--volume raw): qlib volume taken as shares"
                                      : "adjusted (--volume adjusted): raw = round(volume * factor)");

  /* bars */
  bar_stats bs = {0};
  int has_field[QF_N] = {0};
  FILE *f = out_open(m, "bars.csv", err);
  if (!f) {
    rc = err->code;
    goto done;
  }
  rc = write_bars(m, f, &bs, has_field, err);
  int rc2 = out_close(m, f, "bars.csv", err);
  if (!rc) rc = rc2;
  if (rc) goto done;
  int n_written = 0;
  for (int i = 0; i < m->n_st; i++) n_written += m->st[i].first_t >= 0;
  if (!n_written) {
    rc = zz_fail(err, ZZ_EDATA, "no stock of %s/instruments/all.txt has a bar between the first and last date to import", o->src);
    goto done;
  }
  note(m, "stocks: %d written (%d codes in instruments/all.txt, %d index lines skipped, %d without a features directory, %d "
          "without bars in range)",
       n_written, m->n_st, n_index_lines, bs.no_dir, bs.no_bars - bs.no_dir);
  int n_stray = 0; /* features directories that are neither a stock of all.txt nor an index */
  for (int k = 0; k < m->n_fdir; k++) {
    char code[ZZ_CODE_LEN];
    if (zz_code_normalise(m->fdir[k], code) || (!is_index_code(code) && stock_find(m, code) < 0)) n_stray++;
  }
  if (n_stray) note(m, "stocks: %d features directories not in instruments/all.txt ignored", n_stray);
  note(m, "bars: %ld rows, %ld with zero or missing volume written as suspended", bs.rows, bs.suspended);
  if (bs.no_factor) note(m, "factor: %d stocks without factor.day.bin: factor 1 (prices taken as raw)", bs.no_factor);
  if (bs.factor_carried) note(m, "factor: %ld stock-days with a missing factor carry the previous one", bs.factor_carried);
  if (bs.incomplete) note(m, "bars: %ld stock-days with a close but no open/high/low skipped (no bar)", bs.incomplete);
  if (bs.non_trading) note(m, "bars: %ld stock-days on days without an index close dropped", bs.non_trading);
  if (bs.vwap_proxy)
    note(m, "derived: vwap = (high + low + close) / 3 (a proxy: no vwap or amount field) on %ld stock-days", bs.vwap_proxy);
  if (bs.vwap_from_amount) note(m, "derived: vwap = amount / volume (no vwap field) on %ld stock-days", bs.vwap_from_amount);
  if (bs.amount_derived) note(m, "derived: amount = vwap * volume (no amount field) on %ld stock-days", bs.amount_derived);
  note(m, "pre_close: %s", has_field[QF_CHANGE] ? "close / (1 + change) / factor where change is given, else the previous close "
                                                  "adjusted to the day's factor"
                                                : "the previous close adjusted to the day's factor (no change field)");

  /* stocks.csv */
  if (!(f = out_open(m, "stocks.csv", err))) {
    rc = err->code;
    goto done;
  }
  fprintf(f, "code,board,list_date,delist_date\n");
  for (int i = 0; i < m->n_st; i++) {
    const qstock *s = &m->st[i];
    if (s->first_t < 0) continue;
    const qspell *a = &m->all[s->first_sp], *z = &m->all[s->first_sp + s->n_sp - 1];
    int32_t last_end = a->e;
    for (int r = 0; r < s->n_sp; r++)
      if (a[r].e > last_end) last_end = a[r].e;
    (void)z;
    fprintf(f, "%s,%s,%s,", s->code, panel_board_name(panel_board_from_code(s->code)), zz_date_format(a->s, d0));
    if (last_end < m->cal[m->n_cal - 1] && last_end >= m->cal[s->last_t]) fputs(zz_date_format(last_end, d1), f);
    fputc('\n', f);
  }
  if ((rc = out_close(m, f, "stocks.csv", err))) goto done;

  /* index_bars.csv */
  if (!(f = out_open(m, "index_bars.csv", err))) {
    rc = err->code;
    goto done;
  }
  fprintf(f, "date,index,close\n");
  int from_bin[PANEL_N_INDEX];
  for (int k = 0; k < PANEL_N_INDEX; k++) from_bin[k] = !strncmp(m->isrc[k], "features/", 9);
  for (int t = m->t0; t < m->t1; t++)
    for (int k = 0; k < PANEL_N_INDEX; k++)
      if (m->trading[t] && isfinite(m->iclose[k][t]) && m->iclose[k][t] > 0) {
        char num[40]; /* float32 closes in 9 digits (they read back to the same float), CSV closes exactly */
        if (from_bin[k]) snprintf(num, sizeof num, "%.9g", m->iclose[k][t]);
        else zz_fmt_double(num, sizeof num, m->iclose[k][t]);
        fprintf(f, "%s,%s,%s\n", zz_date_format(m->cal[t], d0), zz_index_code(k), num);
      }
  if ((rc = out_close(m, f, "index_bars.csv", err))) goto done;
  for (int k = 0; k < PANEL_N_INDEX; k++)
    note(m, "index %s: closes from %s", zz_index_name(k), m->isrc[k][0] ? m->isrc[k] : "nowhere (not in the market)");

  /* index weights */
  long unknown[PANEL_N_INDEX] = {0};
  int n_cap[PANEL_N_INDEX] = {0}, n_eq[PANEL_N_INDEX] = {0};
  if (o->weights_csv) {
    if ((rc = read_weights_csv(m, err))) goto done;
    for (size_t r = 0; r < m->n_w; r++)
      if (!m->isrc[m->w[r].k][0]) {
        rc = zz_fail(err, ZZ_EDATA,
                     "%s: weights for %s but no index closes: expected %s/features/%s/close.day.bin or --index-bars CSV "
                     "(date,index,close)",
                     o->weights_csv, zz_index_name(m->w[r].k), o->src, qidx_dir[m->w[r].k]);
        goto done;
      }
  } else {
    for (int k = 0; k < PANEL_N_INDEX && !rc; k++)
      if (n_mem[k] > 0) rc = proxy_weights(m, k, mem[k], n_mem[k], &unknown[k], &n_cap[k], &n_eq[k], err);
    if (rc) goto done;
  }
  if (m->n_w) qsort(m->w, m->n_w, sizeof *m->w, wrow_cmp);
  if (!(f = out_open(m, "index_weights.csv", err))) {
    rc = err->code;
    goto done;
  }
  fprintf(f, "date,index,code,weight\n");
  for (size_t r = 0; r < m->n_w; r++)
    fprintf(f, "%s,%s,%s,%.12g\n", zz_date_format(m->cal[m->w[r].t], d0), zz_index_code(m->w[r].k), m->st[m->w[r].i].code,
            m->w[r].w);
  if ((rc = out_close(m, f, "index_weights.csv", err))) goto done;
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    size_t a = 0;
    while (a < m->n_w && m->w[a].k < k) a++;
    size_t b = a;
    int n_snap = 0;
    while (b < m->n_w && m->w[b].k == k) {
      if (b == a || m->w[b].t != m->w[b - 1].t) n_snap++;
      b++;
    }
    if (a == b) {
      note(m, "weights %s: none (%s)", zz_index_name(k),
           o->weights_csv ? "no rows in --weights" : "no instruments file or no member with bars");
      continue;
    }
    int nd = 0;
    double te = m->isrc[k][0] ? tracking_error(m, k, a, b, &nd) : NAN;
    char tes[96];
    if (isfinite(te)) snprintf(tes, sizeof tes, "%.2f %% annualised over %d days", 100 * te, nd);
    else snprintf(tes, sizeof tes, "not computable (no index closes or under 2 days)");
    if (o->weights_csv)
      note(m, "weights %s: from %s (%d snapshots); tracking error against the index close: %s", zz_index_name(k), o->weights_csv,
           n_snap, tes);
    else
      note(m, "weights %s: PROXY: %s over the members in instruments/%s.txt, %d snapshots (first day and each membership "
              "change; %d float-cap weighted by float_mv/circ_mv, %d equal-weighted: %s); %ld member codes without bars "
              "skipped; tracking error of the proxy against the index close: %s",
           zz_index_name(k), n_eq[k] ? (n_cap[k] ? "float-cap and equal weights" : "equal weights") : "float-cap weights",
           zz_index_name(k), n_snap, n_cap[k], n_eq[k], m->capv ? "a member without a cap" : "no market caps in the qlib data",
           unknown[k], tes);
  }

  int wrote_industry = 0;
  if ((rc = write_industry(m, &wrote_industry, err))) goto done;
  if (!wrote_industry) note(m, "industry: none (qlib has no industry data; give --industry CSV with code,industry)");

  /* IMPORT.txt */
  if (!(f = out_open(m, "IMPORT.txt", err))) {
    rc = err->code;
    goto done;
  }
  fprintf(f, "# zhizeng import qlib: provenance of this market directory\n");
  fprintf(f, "options: --src %s --out %s", o->src, o->out);
  if (o->start) fprintf(f, " --start %s", zz_date_format(o->start, d0));
  if (o->end) fprintf(f, " --end %s", zz_date_format(o->end, d0));
  if (o->weights_csv) fprintf(f, " --weights %s", o->weights_csv);
  if (o->index_bars_csv) fprintf(f, " --index-bars %s", o->index_bars_csv);
  if (o->industry_csv) fprintf(f, " --industry %s", o->industry_csv);
  fprintf(f, " --volume %s\n", o->volume_raw ? "raw" : "adjusted");
  if (m->notes) fputs(m->notes, f);
  if ((rc = out_close(m, f, "IMPORT.txt", err))) goto done;

  /* validate as `zhizeng ingest` does, then publish */
  panel_load_opts lo = {.cache_path = NULL, .use_cache = 0, .verbose = o->verbose};
  panel *p = NULL;
  if ((rc = panel_load(m->tmp, &lo, &p, err))) {
    zz_wrap(err, "the imported market does not validate (nothing written to %s)", o->out);
    goto done;
  }
  if ((rc = publish(m, wrote_industry, err))) {
    panel_free(p);
    goto done;
  }
  if (o->verbose && m->notes) {
    for (const char *s = m->notes; *s;) {
      const char *e = strchr(s, '\n');
      fprintf(stderr, "zhizeng import qlib: %.*s\n", (int)(e - s), s);
      s = e + 1;
    }
  }
  if (out) *out = p;
  else panel_free(p);
done:
  for (int k = 0; k < PANEL_N_INDEX; k++) free(mem[k]);
  return rc;
}

int qlib_import(const qlib_import_opts *o, panel **out, zz_err *err) {
  if (out) *out = NULL;
  if (!o->src || !o->out) return zz_fail(err, ZZ_EUSAGE, "--src DIR and --out MARKET are required");
  if (o->start && o->end && o->start > o->end) return zz_fail(err, ZZ_EUSAGE, "--start is after --end");
  imp m = {.o = o};
  int created = 0;
  int rc = prepare_out(&m, &created, err);
  if (rc) return rc;
  rc = run(&m, out, err);
  if (rc) {
    remove_tmp(&m);
    if (created) rmdir(o->out);
  }
  free(m.cal);
  free(m.all);
  free(m.st);
  for (int k = 0; k < m.n_fdir; k++) free(m.fdir[k]);
  free(m.fdir);
  for (int k = 0; k < PANEL_N_INDEX; k++) free(m.iclose[k]);
  free(m.trading);
  free(m.adjc);
  free(m.capv);
  free(m.w);
  free(m.notes);
  return rc;
}
