/* csv_reader.c — a pull-style CSV reader on top of libcsv's push parser, with exact line numbers.
 *
 * The input is read in blocks and fed to csv_parse() one physical line at a time, so that when
 * libcsv completes a row we know on which line it ended (a quoted field may span lines; the row is
 * reported at the line where it started). Completed rows are queued in an arena; zz_csv_next pops
 * them one by one.
 */
#include "data.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CSV_BLOCK (1u << 20)

struct zz_csv {
  char path[512];
  FILE *fp;
  struct csv_parser parser;
  int parser_live;
  /* arena of completed rows: fields NUL-terminated in chars, field starts in fstart */
  char *chars;
  size_t nchars, capchars;
  size_t *fstart;
  size_t nfields, capfields;
  size_t *rowfirst;  /* first field of each queued row; rowfirst[nrows] = nfields while filling */
  size_t *rowline;
  size_t nrows, caprows, cur;  /* rows queued, next row to hand out */
  size_t row_field0;           /* first field of the row being built */
  size_t line;                 /* physical line being fed */
  size_t row_start_line;       /* line where the row being built started */
  size_t row_candidate_line;   /* line fed while libcsv had no row in progress */
  int row_started;
  /* current row */
  const char **fields;
  int nf, capf;
  size_t cur_line;
  /* header */
  char **header;
  int ncols;
  int oom;
  char *block;
  int eof;
  int bom_checked;
  size_t nul_line; /* first line with a NUL byte inside a field (0: none) and that field's column */
  int nul_col;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 64;
  while (n < need) n *= 2;
  void *q = realloc(*p, n * elem);
  if (!q) return -1;
  *p = q;
  *cap = n;
  return 0;
}

static void on_field(void *s, size_t len, void *data) {
  zz_csv *r = data;
  if (!r->row_started) {
    r->row_started = 1;
    r->row_start_line = r->row_candidate_line;
  }
  if (grow((void **)&r->chars, &r->capchars, r->nchars + len + 1, 1) ||
      grow((void **)&r->fstart, &r->capfields, r->nfields + 1, sizeof(size_t))) {
    r->oom = 1;
    return;
  }
  if (len && !r->nul_line && memchr(s, '\0', len)) {
    r->nul_line = r->line;
    r->nul_col = (int)(r->nfields - r->row_field0) + 1;
  }
  r->fstart[r->nfields++] = r->nchars;
  if (len) memcpy(r->chars + r->nchars, s, len);
  r->chars[r->nchars + len] = '\0';
  r->nchars += len + 1;
}

/* rowfirst and rowline are indexed by row and share one capacity. */
static int grow_rows(zz_csv *r, size_t need) {
  if (need <= r->caprows) return 0;
  size_t n = r->caprows ? r->caprows : 64;
  while (n < need) n *= 2;
  size_t *a = realloc(r->rowfirst, n * sizeof *a);
  if (!a) return -1;
  r->rowfirst = a;
  size_t *b = realloc(r->rowline, n * sizeof *b);
  if (!b) return -1;
  r->rowline = b;
  r->caprows = n;
  return 0;
}

static void on_row(int c, void *data) {
  (void)c;
  zz_csv *r = data;
  if (grow_rows(r, r->nrows + 1)) {
    r->oom = 1;
    return;
  }
  r->rowfirst[r->nrows] = r->row_field0;
  r->rowline[r->nrows] = r->row_started ? r->row_start_line : r->line;
  r->nrows++;
  r->row_field0 = r->nfields;
  r->row_started = 0;
}

/* Drops consumed rows from the arena so it does not grow without bound. */
static void compact(zz_csv *r) {
  if (r->cur == 0) return;
  if (r->cur >= r->nrows) {
    /* all consumed: keep only the partial row being built */
    size_t f0 = r->row_field0, c0 = f0 < r->nfields ? r->fstart[f0] : r->nchars;
    size_t nf = r->nfields - f0, nc = r->nchars - c0;
    memmove(r->chars, r->chars + c0, nc);
    for (size_t k = 0; k < nf; k++) r->fstart[k] = r->fstart[f0 + k] - c0;
    r->nchars = nc;
    r->nfields = nf;
    r->row_field0 = 0;
    r->nrows = 0;
    r->cur = 0;
  }
}

static int feed(zz_csv *r, zz_err *err) {
  /* Parse more input until at least one row is queued beyond cur, or EOF. */
  while (r->cur >= r->nrows && !r->eof) {
    compact(r);
    size_t n = fread(r->block, 1, CSV_BLOCK, r->fp);
    if (n == 0) {
      if (ferror(r->fp)) return zz_fail(err, ZZ_EIO, "%s: read error: %s", r->path, strerror(errno));
      r->eof = 1;
      if (csv_fini(&r->parser, on_field, on_row, r) != 0)
        return zz_fail(err, ZZ_EDATA, "%s:%zu: %s (unterminated quoted field?)", r->path, r->line,
                       csv_strerror(csv_error(&r->parser)));
      break;
    }
    const char *p = r->block, *end = r->block + n;
    if (!r->bom_checked) {
      r->bom_checked = 1;
      if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3;
    }
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const char *seg_end = nl ? nl + 1 : end;
      size_t len = (size_t)(seg_end - p);
      /* libcsv's pstate 0 is ROW_NOT_BEGUN: a row that starts in this segment starts on this line
       * (a quoted first field may end lines later) */
      if (r->parser.pstate == 0 && !r->row_started) r->row_candidate_line = r->line;
      if (csv_parse(&r->parser, p, len, on_field, on_row, r) != len)
        return zz_fail(err, ZZ_EDATA,
                       "%s:%zu:%d: malformed CSV (%s): expected a quote only around a whole field, doubled inside it",
                       r->path, r->line, (int)(r->nfields - r->row_field0) + 1, csv_strerror(csv_error(&r->parser)));
      if (r->oom) return zz_fail(err, ZZ_ENOMEM, "%s: out of memory while reading", r->path);
      if (r->nul_line)
        return zz_fail(err, ZZ_EDATA, "%s:%zu:%d: a NUL byte inside a field: expected text (is this a binary file?)",
                       r->path, r->nul_line, r->nul_col);
      if (nl) r->line++;
      p = seg_end;
    }
  }
  if (r->oom) return zz_fail(err, ZZ_ENOMEM, "%s: out of memory while reading", r->path);
  return ZZ_OK;
}

/* Makes queued row k the current row. */
static int take_row(zz_csv *r, size_t k) {
  size_t f0 = r->rowfirst[k];
  size_t f1 = (k + 1 < r->nrows) ? r->rowfirst[k + 1] : r->row_field0;
  int nf = (int)(f1 - f0);
  if (nf > r->capf) {
    const char **q = realloc(r->fields, (size_t)nf * sizeof *q);
    if (!q) return -1;
    r->fields = q;
    r->capf = nf;
  }
  for (int j = 0; j < nf; j++) r->fields[j] = r->chars + r->fstart[f0 + (size_t)j];
  r->nf = nf;
  r->cur_line = r->rowline[k];
  return 0;
}

static int is_blank_row(const zz_csv *r) {
  for (int j = 0; j < r->nf; j++)
    if (r->fields[j][0]) return 0;
  return 1;
}

int zz_csv_open(zz_csv **out, const char *path, zz_err *err) {
  *out = NULL;
  zz_csv *r = calloc(1, sizeof *r);
  if (!r) return zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
  snprintf(r->path, sizeof r->path, "%s", path);
  r->line = 1;
  r->row_candidate_line = 1;
  r->fp = fopen(path, "rb");
  if (!r->fp) {
    int e = errno;
    free(r);
    return zz_fail(err, ZZ_EIO, "%s: cannot open: %s", path, strerror(e));
  }
  r->block = malloc(CSV_BLOCK);
  if (!r->block || csv_init(&r->parser, CSV_STRICT | CSV_APPEND_NULL) != 0) {
    zz_csv_close(r);
    return zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
  }
  r->parser_live = 1;
  /* header */
  for (;;) {
    int rc = feed(r, err);
    if (rc) {
      zz_csv_close(r);
      return rc;
    }
    if (r->cur >= r->nrows) {
      zz_csv_close(r);
      return zz_fail(err, ZZ_EDATA, "%s:1: empty file: expected a header row", path);
    }
    if (take_row(r, r->cur++)) {
      zz_csv_close(r);
      return zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
    }
    if (!is_blank_row(r)) break;
  }
  r->ncols = r->nf;
  r->header = calloc((size_t)r->ncols, sizeof *r->header);
  if (!r->header) {
    zz_csv_close(r);
    return zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
  }
  for (int j = 0; j < r->ncols; j++) {
    const char *h = r->fields[j];
    while (isspace((unsigned char)*h)) h++;
    r->header[j] = strdup(h);
    if (!r->header[j]) {
      zz_csv_close(r);
      return zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
    }
    size_t L = strlen(r->header[j]);
    while (L && isspace((unsigned char)r->header[j][L - 1])) r->header[j][--L] = '\0';
  }
  *out = r;
  return ZZ_OK;
}

void zz_csv_close(zz_csv *r) {
  if (!r) return;
  if (r->parser_live) csv_free(&r->parser);
  if (r->fp) fclose(r->fp);
  if (r->header)
    for (int j = 0; j < r->ncols; j++) free(r->header[j]);
  free(r->header);
  free(r->chars);
  free(r->fstart);
  free(r->rowfirst);
  free(r->rowline);
  free(r->fields);
  free(r->block);
  free(r);
}

int zz_csv_next(zz_csv *r, zz_err *err) {
  for (;;) {
    int rc = feed(r, err);
    if (rc) return -rc;
    if (r->cur >= r->nrows) return 0;
    if (take_row(r, r->cur++)) return -zz_fail(err, ZZ_ENOMEM, "%s: out of memory", r->path);
    if (is_blank_row(r) && r->nf <= 1) continue;
    if (r->nf != r->ncols)
      return -zz_fail(err, ZZ_EDATA, "%s:%zu:%d: expected %d fields as in the header, found %d", r->path,
                      r->cur_line, (r->nf < r->ncols ? r->nf : r->ncols) + 1, r->ncols, r->nf);
    return 1;
  }
}

const char *zz_csv_path(const zz_csv *r) { return r->path; }
size_t zz_csv_line(const zz_csv *r) { return r->cur_line; }
int zz_csv_ncols(const zz_csv *r) { return r->ncols; }
const char *zz_csv_header(const zz_csv *r, int col) { return (col >= 0 && col < r->ncols) ? r->header[col] : ""; }
const char *zz_csv_field(const zz_csv *r, int col) { return (col >= 0 && col < r->nf) ? r->fields[col] : ""; }

int zz_csv_find(const zz_csv *r, const char *const *names) {
  for (const char *const *n = names; *n; n++)
    for (int j = 0; j < r->ncols; j++)
      if (strcasecmp(r->header[j], *n) == 0) return j;
  return -1;
}

int zz_csv_require(zz_csv *r, const char *const *names, zz_err *err) {
  int j = zz_csv_find(r, names);
  if (j >= 0) {
    /* a required column given twice is ambiguous: which one holds the data? */
    for (int k = j + 1; k < r->ncols; k++)
      if (!strcasecmp(r->header[k], r->header[j])) {
        zz_fail(err, ZZ_EDATA, "%s:1:%d: column '%s' appears twice in the header (columns %d and %d): expected it once",
                r->path, k + 1, r->header[j], j + 1, k + 1);
        return -1;
      }
    return j;
  }
  char alts[256] = "";
  size_t used = 0;
  for (const char *const *n = names; *n && used < sizeof alts - 1; n++) {
    int w = snprintf(alts + used, sizeof alts - used, "%s'%s'", n == names ? "" : " or ", *n);
    if (w < 0) break;
    used += (size_t)w;
    if (used >= sizeof alts) used = sizeof alts - 1;
  }
  zz_fail(err, ZZ_EDATA, "%s:1:%d: missing required column %s in the header (expected a column of that name)", r->path,
          r->ncols + 1, alts);
  return -1;
}

int zz_csv_fail(const zz_csv *r, int col, zz_err *err, int code, const char *fmt, ...) {
  char msg[ZZ_ERR_MSG];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (col >= 0)
    return zz_fail(err, code, "%s:%zu:%d: %s", r->path, r->cur_line, col + 1, msg);
  return zz_fail(err, code, "%s:%zu: %s", r->path, r->cur_line, msg);
}

/* Decimal number parser. A number is [sign] digits [. digits] [e|E [sign] digits]. Typical inputs
 * (at most 19 significant digits whose value fits 2^53, decimal exponent within +-22 after scaling)
 * take Clinger's fast path: one exact integer times or divided by an exact power of ten, which IEEE
 * arithmetic rounds correctly. Everything else is rebuilt as "digits e exponent" and handed to
 * strtod, which is also correctly rounded. Either way the result equals strtod of the same decimal
 * number times 10^scale10 — so "12345.67" with scale 2 gives exactly what "1234567" gives. */
int zz_parse_double(const char *s, int scale10, double *v) {
  static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  while (*s == ' ' || *s == '\t') s++;
  int neg = 0;
  if (*s == '+' || *s == '-') neg = *s++ == '-';
  const char *mant = s; /* the digits and point, for the exact fallback below */
  char digs[64];
  int nd = 0, nsig = 0, seen = 0, dropped = 0;
  long exp10 = 0;
  uint64_t m = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    seen = 1;
    if (nsig == 0 && *s == '0') continue; /* leading zeros */
    if (nd < (int)sizeof digs - 1) digs[nd++] = *s; else { exp10++; dropped |= *s != '0'; }
    if (nsig < 19) m = m * 10 + (uint64_t)(*s - '0');
    nsig++;
  }
  if (*s == '.') {
    s++;
    for (; *s >= '0' && *s <= '9'; s++) {
      seen = 1;
      if (nsig == 0 && *s == '0') { exp10--; continue; }
      if (nd < (int)sizeof digs - 1) { digs[nd++] = *s; exp10--; } else dropped |= *s != '0';
      if (nsig < 19) m = m * 10 + (uint64_t)(*s - '0');
      nsig++;
    }
  }
  if (!seen) return -1;
  size_t mant_len = (size_t)(s - mant);
  long exp_in = 0;
  if (*s == 'e' || *s == 'E') {
    s++;
    int eneg = 0, ed = 0;
    long e = 0;
    if (*s == '+' || *s == '-') eneg = *s++ == '-';
    for (; *s >= '0' && *s <= '9'; s++, ed++)
      if (e < 100000) e = e * 10 + (*s - '0');
    if (!ed) return -1;
    exp_in = eneg ? -e : e;
    exp10 += exp_in;
  }
  while (*s == ' ' || *s == '\t' || *s == '\r') s++;
  if (*s) return -1;
  if (nsig == 0) {
    *v = neg ? -0.0 : 0.0;
    return 0;
  }
  long e = exp10 + scale10;
  if (nsig <= 19 && nd == nsig && !dropped && m <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
    double x = (double)m;
    x = e >= 0 ? x * p10[e] : x / p10[-e];
    *v = neg ? -x : x;
    return 0;
  }
  char buf[96];
  double x;
  if (!dropped) {
    snprintf(buf, sizeof buf, "%s%.*se%ld", neg ? "-" : "", nd, digs, e);
    x = strtod(buf, NULL);
  } else {
    /* more than 63 significant digits, some dropped: strtod of the whole mantissa as written, so that the
     * rounding stays exact (a halfway case can hang on the last digit) */
    size_t cap = mant_len + 32;
    char *big = malloc(cap);
    if (!big) return -1;
    snprintf(big, cap, "%s%.*se%ld", neg ? "-" : "", (int)mant_len, mant, exp_in + scale10);
    x = strtod(big, NULL);
    free(big);
  }
  if (!isfinite(x)) return -1;
  *v = x;
  return 0;
}

int zz_csv_double_scaled(zz_csv *r, int col, int allow_empty, int scale10, double *v, zz_err *err) {
  const char *s = zz_csv_field(r, col);
  while (isspace((unsigned char)*s)) s++;
  if (!*s || ((*s == 'n' || *s == 'N') &&
              (strcasecmp(s, "nan") == 0 || strcasecmp(s, "null") == 0 || strcasecmp(s, "na") == 0))) {
    if (allow_empty) {
      *v = NAN;
      return ZZ_OK;
    }
    if (*s) /* a missing-value marker where a number is required */
      return zz_csv_fail(r, col, err, ZZ_EDATA, "expected a number in column '%s', found the missing-value marker '%s'",
                         zz_csv_header(r, col), zz_csv_field(r, col));
    return zz_csv_fail(r, col, err, ZZ_EDATA, "expected a number in column '%s', found an empty value",
                       zz_csv_header(r, col));
  }
  double x;
  if (zz_parse_double(s, scale10, &x) != 0 || !isfinite(x))
    return zz_csv_fail(r, col, err, ZZ_EDATA, "expected a finite number in column '%s', found '%s'",
                       zz_csv_header(r, col), zz_csv_field(r, col));
  *v = x;
  return ZZ_OK;
}

int zz_csv_double(zz_csv *r, int col, int allow_empty, double *v, zz_err *err) {
  return zz_csv_double_scaled(r, col, allow_empty, 0, v, err);
}

int zz_csv_date(zz_csv *r, int col, int32_t *ymd, zz_err *err) {
  const char *s = zz_csv_field(r, col);
  if (zz_date_parse(s, ymd) != 0)
    return zz_csv_fail(r, col, err, ZZ_EDATA, "expected a date YYYY-MM-DD or YYYYMMDD in column '%s', found '%s'",
                       zz_csv_header(r, col), s);
  return ZZ_OK;
}

int zz_csv_bool(zz_csv *r, int col, int dflt, int *v, zz_err *err) {
  const char *s = zz_csv_field(r, col);
  while (isspace((unsigned char)*s)) s++;
  if (!*s) {
    *v = dflt;
    return ZZ_OK;
  }
  if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "1.0")) {
    *v = 1;
    return ZZ_OK;
  }
  if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "0.0")) {
    *v = 0;
    return ZZ_OK;
  }
  return zz_csv_fail(r, col, err, ZZ_EDATA, "expected 0 or 1 in column '%s', found '%s'", zz_csv_header(r, col), s);
}

char *zz_fmt_double(char *buf, size_t n, double v) {
  if (!isfinite(v)) {
    snprintf(buf, n, "%s", isnan(v) ? "" : (v > 0 ? "inf" : "-inf"));
    return buf;
  }
  /* shortest of %.15g / %.17g that round-trips */
  snprintf(buf, n, "%.15g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, n, "%.17g", v);
  return buf;
}

void zz_csv_write_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int zz_mkdir_p(const char *dir, zz_err *err) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return zz_fail(err, ZZ_EUSAGE, "path too long: %s", dir);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        return zz_fail(err, ZZ_EIO, "cannot create directory %s: %s", buf, strerror(e));
      }
      *p = c;
      if (!c) break;
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return zz_fail(err, ZZ_EIO, "%s is not a directory", dir);
  return ZZ_OK;
}

FILE *zz_out_open(const char *path, char *tmp, size_t n, zz_err *err) {
  snprintf(tmp, n, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) zz_fail(err, ZZ_EIO, "%s: cannot write", tmp);
  return f;
}

int zz_out_close(FILE *f, const char *tmp, const char *path, zz_err *err) {
  const int bad = ferror(f);
  if (fclose(f) || bad || rename(tmp, path)) {
    remove(tmp);
    return zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  }
  return ZZ_OK;
}
