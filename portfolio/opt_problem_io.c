/* opt_problem_io.c — the optimisation problem: create / free, reading a SPEC 11.1 directory,
 * validation, and the limits INI file. */
#include "opt_internal.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define OPT_SUM_TOL 1e-6 /* weights must sum to 1 within this */

/* ---------------------------------------------------------------- limits */

void opt_limits_default(opt_limits *lim) {
  lim->style_bound = 0.5;
  lim->industry_bound = 0.02;
  lim->unclassified_bound = 0.05;
  lim->te_max = 0.05;
  lim->constituent_floor = 0.8;
  lim->turnover_max = 0.2;
  lim->active_max = 0.01;
  lim->weight_max = 0.05;
  lim->spec_var_floor = 1e-4;
  lim->cash = 0.0;
  lim->gap_tol = 1e-4;
  lim->max_rounds = 300;
  lim->relax = 1;
}

/* Debian's libinih is built without line numbers in the handler: the reader counts lines itself. */
typedef struct limits_ctx {
  opt_limits *lim;
  const char *path;
  zz_err *err;
  int failed;
  FILE *f;
  int line;
} limits_ctx;

static char *limits_reader(char *str, int num, void *stream) {
  limits_ctx *c = stream;
  char *s = fgets(str, num, c->f);
  if (s) c->line++;
  return s;
}

static int limits_key(void *user, const char *section, const char *name, const char *value) {
  limits_ctx *c = user;
  int lineno = c->line;
  if (c->failed) return 0;
  if (strcasecmp(section, "limits") != 0) return 1; /* other sections belong to other readers */
  struct {
    const char *key;
    double *d;
    int *i;
    double lo, hi;
  } keys[] = {
      {"style_bound", &c->lim->style_bound, NULL, 0, 1e6},
      {"industry_bound", &c->lim->industry_bound, NULL, 0, 1},
      {"unclassified_bound", &c->lim->unclassified_bound, NULL, 0, 1},
      {"te_max", &c->lim->te_max, NULL, 0, 10},
      {"constituent_floor", &c->lim->constituent_floor, NULL, 0, 1},
      {"turnover_max", &c->lim->turnover_max, NULL, 0, 1},
      {"active_max", &c->lim->active_max, NULL, 0, 1},
      {"weight_max", &c->lim->weight_max, NULL, 0, 1},
      {"spec_var_floor", &c->lim->spec_var_floor, NULL, 0, 1},
      {"cash", &c->lim->cash, NULL, 0, 1},
      {"gap_tol", &c->lim->gap_tol, NULL, 1e-12, 1},
      {"max_rounds", NULL, &c->lim->max_rounds, 1, 100000},
      {"relax", NULL, &c->lim->relax, 0, 1},
  };
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    if (strcasecmp(name, keys[k].key) != 0) continue;
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == value || *end || !isfinite(v) || v < keys[k].lo || v > keys[k].hi || (keys[k].i && v != floor(v))) {
      zz_fail(c->err, ZZ_EDATA, "%s:%d: %s: expected %s in [%g, %g], found '%s'", c->path, lineno, name,
              keys[k].i ? "an integer" : "a number", keys[k].lo, keys[k].hi, value);
      c->failed = 1;
      return 0;
    }
    if (keys[k].d) *keys[k].d = v;
    else *keys[k].i = (int)v;
    return 1;
  }
  zz_fail(c->err, ZZ_EDATA,
          "%s:%d: unknown key '%s' in [limits] (expected style_bound, industry_bound, unclassified_bound, te_max, "
          "constituent_floor, turnover_max, active_max, weight_max, spec_var_floor, cash, gap_tol, max_rounds, relax)",
          c->path, lineno, name);
  c->failed = 1;
  return 0;
}

int opt_limits_read(const char *path, opt_limits *lim, zz_err *err) {
  FILE *f = fopen(path, "r");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot open: %s", path, strerror(errno));
  limits_ctx c = {lim, path, err, 0, f, 0};
  int rc = ini_parse_stream(limits_reader, &c, limits_key, &c);
  fclose(f);
  if (c.failed) return err ? err->code : ZZ_EDATA;
  if (rc > 0)
    return zz_fail(err, ZZ_EDATA, "%s:%d: malformed INI line: expected '[section]', 'key = value' or a comment", path,
                   rc);
  if (rc < 0) return zz_fail(err, ZZ_EIO, "%s: cannot read", path);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- create / free */

static void *xcalloc(size_t n, size_t sz) { return calloc(n ? n : 1, sz); }

void opt_problem_free(opt_problem *p) {
  if (!p) return;
  free(p->codes);
  free(p->score);
  free(p->bench);
  free(p->prev);
  free(p->style_names);
  free(p->style);
  free(p->ind_names);
  free(p->ind);
  free(p->fcov);
  free(p->spec_var);
  free(p->can_buy);
  free(p->can_sell);
  free(p);
}

/* Allocates the per-stock arrays (n known); the factor arrays come later. */
static int alloc_stock_arrays(opt_problem *p) {
  size_t n = (size_t)p->n;
  p->codes = xcalloc(n, sizeof *p->codes);
  p->score = xcalloc(n, sizeof *p->score);
  p->bench = xcalloc(n, sizeof *p->bench);
  p->prev = xcalloc(n, sizeof *p->prev);
  p->ind = xcalloc(n, sizeof *p->ind);
  p->spec_var = xcalloc(n, sizeof *p->spec_var);
  p->can_buy = xcalloc(n, 1);
  p->can_sell = xcalloc(n, 1);
  if (!p->codes || !p->score || !p->bench || !p->prev || !p->ind || !p->spec_var || !p->can_buy || !p->can_sell)
    return ZZ_ENOMEM;
  memset(p->can_buy, 1, n);
  memset(p->can_sell, 1, n);
  return ZZ_OK;
}

int opt_problem_create(int n, int n_style, int n_ind, int has_country, opt_problem **out, zz_err *err) {
  *out = NULL;
  if (n < 1 || n_style < 0 || n_ind < 0)
    return zz_fail(err, ZZ_EUSAGE, "opt_problem_create: need n >= 1 stocks and non-negative factor counts");
  opt_problem *p = calloc(1, sizeof *p);
  if (!p) return zz_fail(err, ZZ_ENOMEM, "opt_problem_create: out of memory");
  p->n = n;
  p->n_style = n_style;
  p->n_ind = n_ind;
  p->has_country = has_country ? 1 : 0;
  int nf = opt_problem_nfac(p);
  if (alloc_stock_arrays(p) || !(p->style_names = xcalloc((size_t)n_style, sizeof *p->style_names)) ||
      !(p->style = xcalloc((size_t)n * (size_t)n_style, sizeof *p->style)) ||
      !(p->ind_names = xcalloc((size_t)n_ind, sizeof *p->ind_names)) ||
      !(p->fcov = xcalloc((size_t)nf * (size_t)nf, sizeof *p->fcov))) {
    opt_problem_free(p);
    return zz_fail(err, ZZ_ENOMEM, "opt_problem_create: out of memory for %d stocks", n);
  }
  *out = p;
  return ZZ_OK;
}

/* ---------------------------------------------------------------- validation */

int opt_problem_check(const opt_problem *p, zz_err *err) {
  int n = p->n, nf = opt_problem_nfac(p);
  double sb = 0, sp = 0;
  for (int i = 0; i < n; i++) {
    const char *c = p->codes[i];
    if (!isfinite(p->score[i])) return zz_fail(err, ZZ_EDATA, "score of %s is not a finite number", c);
    if (!isfinite(p->bench[i]) || p->bench[i] < 0)
      return zz_fail(err, ZZ_EDATA, "benchmark weight of %s is %g: expected a finite number >= 0", c, p->bench[i]);
    if (!isfinite(p->prev[i]) || p->prev[i] < 0)
      return zz_fail(err, ZZ_EDATA, "previous weight of %s is %g: expected a finite number >= 0", c, p->prev[i]);
    if (!isfinite(p->spec_var[i]) || p->spec_var[i] < 0)
      return zz_fail(err, ZZ_EDATA, "specific variance of %s is %g: expected a finite number >= 0", c,
                     p->spec_var[i]);
    if (p->ind[i] < 0 || p->ind[i] >= p->n_ind)
      return zz_fail(err, ZZ_EDATA, "industry of %s is out of range", c);
    for (int k = 0; k < p->n_style; k++)
      if (!isfinite(p->style[(size_t)i * p->n_style + k]))
        return zz_fail(err, ZZ_EDATA, "style exposure '%s' of %s is not a finite number", p->style_names[k], c);
    sb += p->bench[i];
    sp += p->prev[i];
  }
  if (fabs(sb - 1) > OPT_SUM_TOL)
    return zz_fail(err, ZZ_EDATA, "benchmark weights sum to %.10g: expected 1 (within %g)", sb, OPT_SUM_TOL);
  if (p->has_prev && sp > 1 + OPT_SUM_TOL)
    return zz_fail(err, ZZ_EDATA, "previous weights sum to %.10g: expected at most 1 (the rest is cash; within %g)", sp,
                   OPT_SUM_TOL);
  for (int a = 0; a < nf; a++) {
    double faa = p->fcov[(size_t)a * nf + a];
    if (!isfinite(faa) || faa < 0)
      return zz_fail(err, ZZ_EDATA, "factor covariance: variance of factor %d is %g: expected >= 0", a + 1, faa);
    for (int b = 0; b < a; b++) {
      double x = p->fcov[(size_t)a * nf + b], y = p->fcov[(size_t)b * nf + a];
      double fbb = p->fcov[(size_t)b * nf + b];
      if (!isfinite(x) || fabs(x - y) > 1e-8 * sqrt(faa * fbb) + 1e-15)
        return zz_fail(err, ZZ_EDATA, "factor covariance is not symmetric: F[%d][%d] = %.17g but F[%d][%d] = %.17g",
                       a + 1, b + 1, x, b + 1, a + 1, y);
    }
  }
  return ZZ_OK;
}

int opt_problem_unclassified(const opt_problem *p) {
  for (int g = 0; g < p->n_ind; g++)
    if (!strcasecmp(p->ind_names[g], OPT_UNCLASSIFIED)) return g;
  return -1;
}

/* ---------------------------------------------------------------- reading */

/* Codes sorted for lookup. */
typedef struct code_entry {
  char code[ZZ_CODE_LEN];
  int i;
} code_entry;
typedef struct code_index {
  int n;
  code_entry *e;
  char (*codes)[ZZ_CODE_LEN];
} code_index;

static int cmp_code_entry(const void *a, const void *b) {
  return strcmp(((const code_entry *)a)->code, ((const code_entry *)b)->code);
}

static int code_find(const code_index *ix, const char *code) {
  int lo = 0, hi = ix->n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int c = strcmp(ix->e[mid].code, code);
    if (!c) return ix->e[mid].i;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/* Normalised code of a field ("SH600000" -> "600000.SH"); other identifiers are kept as written. */
static int read_code(zz_csv *r, int col, char out[ZZ_CODE_LEN], zz_err *err) {
  const char *s = zz_csv_field(r, col);
  while (isspace((unsigned char)*s)) s++;
  if (zz_code_normalise(s, out) == 0) return ZZ_OK;
  size_t L = strlen(s);
  while (L && isspace((unsigned char)s[L - 1])) L--;
  if (L == 0) return zz_csv_fail(r, col, err, ZZ_EDATA, "expected a stock code, found an empty value");
  if (L >= ZZ_CODE_LEN)
    return zz_csv_fail(r, col, err, ZZ_EDATA, "stock code '%s' is too long (at most %d characters)", s,
                       ZZ_CODE_LEN - 1);
  memcpy(out, s, L);
  out[L] = '\0';
  return ZZ_OK;
}

/* The universe index of the current row's stock (column col): the code must be in alpha.csv and appear
 * once in this file; marks it in seen. */
static int read_row_stock(zz_csv *r, int col, const code_index *ix, uint8_t *seen, int *out, zz_err *err) {
  char code[ZZ_CODE_LEN];
  int rc = read_code(r, col, code, err);
  if (rc) return rc;
  int i = code_find(ix, code);
  if (i < 0) return zz_csv_fail(r, col, err, ZZ_EDATA, "code %s is not in alpha.csv: expected a code of the universe", code);
  if (seen[i]) return zz_csv_fail(r, col, err, ZZ_EDATA, "code %s appears twice: expected one row per code", code);
  seen[i] = 1;
  *out = i;
  return ZZ_OK;
}

static void join(char *buf, size_t n, const char *dir, const char *file) { snprintf(buf, n, "%s/%s", dir, file); }

/* Every code of alpha.csv must appear in a per-code file: names the first one missing from `path`. */
static int require_all_codes(const zz_csv *r, const char *path, int n, const char (*codes)[ZZ_CODE_LEN],
                             const uint8_t *seen, zz_err *err) {
  for (int i = 0; i < n; i++)
    if (!seen[i])
      return zz_fail(err, ZZ_EDATA, "%s:%zu: end of file: code %s of alpha.csv is missing (expected a row for every "
                     "code of the universe)", path, zz_csv_line(r) + 1, codes[i]);
  return ZZ_OK;
}

static const char *const NAMES_CODE[] = {"code", "ts_code", "symbol", NULL};

/* Reads a `code,<value>` file into val[] (indices of the universe). Requires every universe code when
 * require_all; codes outside the universe are errors. Returns the sum of the values in *sum. */
static int read_code_values(const char *path, const code_index *ix, const char *const *vnames, int require_all,
                            int nonneg, double *val, double *sum, int *where, zz_err *err) {
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  int n = ix->n;
  uint8_t *seen = xcalloc((size_t)n, 1);
  if (!seen) {
    zz_csv_close(r);
    return zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
  }
  int cc = zz_csv_require(r, NAMES_CODE, err), cv = cc < 0 ? -1 : zz_csv_require(r, vnames, err);
  double s = 0;
  if (cc < 0 || cv < 0) {
    rc = err ? err->code : ZZ_EDATA;
    goto done;
  }
  while ((rc = zz_csv_next(r, err)) == 1) {
    double v;
    int i;
    if ((rc = read_row_stock(r, cc, ix, seen, &i, err))) goto done;
    if ((rc = zz_csv_double(r, cv, 0, &v, err))) goto done;
    if (nonneg && v < 0) {
      rc = zz_csv_fail(r, cv, err, ZZ_EDATA, "%s of %s is %g: expected a value >= 0", zz_csv_header(r, cv),
                       ix->codes[i], v);
      goto done;
    }
    val[i] = v;
    s += v;
    if (where && !where[0]) where[0] = (int)zz_csv_line(r), where[1] = cv + 1;
  }
  if (rc < 0) {
    rc = -rc;
    goto done;
  }
  rc = ZZ_OK;
  if (require_all) rc = require_all_codes(r, path, n, (const char(*)[ZZ_CODE_LEN])ix->codes, seen, err);
done:
  if (sum) *sum = s;
  free(seen);
  zz_csv_close(r);
  return rc;
}

static int name_index(char (*names)[OPT_NAME_LEN], int n, const char *s) {
  for (int k = 0; k < n; k++)
    if (!strcmp(names[k], s)) return k;
  return -1;
}

/* factor_cov.csv: header "factor,<names>", one row per factor, in any order. */
static int read_factor_cov(const char *path, opt_problem *p, zz_err *err) {
  zz_csv *r;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  int ncol = zz_csv_ncols(r), *colf = NULL;
  uint8_t *seen = NULL;
  size_t *fline = NULL; /* line of each factor's row */
  int *fcol = NULL;     /* 1-based column of each factor */
  p->has_country = 0;
  for (int j = 1; j < ncol; j++)
    if (!strcasecmp(zz_csv_header(r, j), "country")) p->has_country = 1;
  int nf = opt_problem_nfac(p);
  p->fcov = xcalloc((size_t)nf * nf, sizeof *p->fcov);
  colf = xcalloc((size_t)ncol, sizeof *colf);
  seen = xcalloc((size_t)nf, 1);
  if (!p->fcov || !colf || !seen) {
    rc = zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  /* factor index of a name: styles, industries, country */
#define FACTOR_OF(s)                                                                                            \
  (!strcasecmp((s), "country") ? p->n_style + p->n_ind                                                         \
   : name_index(p->style_names, p->n_style, (s)) >= 0                                                          \
       ? name_index(p->style_names, p->n_style, (s))                                                            \
       : (name_index(p->ind_names, p->n_ind, (s)) >= 0 ? p->n_style + name_index(p->ind_names, p->n_ind, (s)) \
                                                       : -1))
  if (ncol < 2 || strcasecmp(zz_csv_header(r, 0), "factor") != 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s:1:1: expected the header 'factor,<factor names...>'", path);
    goto done;
  }
  for (int j = 1; j < ncol; j++) {
    const char *h = zz_csv_header(r, j);
    int f = FACTOR_OF(h);
    if (f < 0) {
      rc = zz_fail(err, ZZ_EDATA,
                   "%s:1:%d: unknown factor '%s' (expected a style column of exposures.csv, an industry of "
                   "industry.csv, or 'country')",
                   path, j + 1, h);
      goto done;
    }
    if (seen[f]) {
      rc = zz_fail(err, ZZ_EDATA, "%s:1:%d: factor '%s' appears twice in the header: expected each factor once", path, j + 1, h);
      goto done;
    }
    seen[f] = 1;
    colf[j] = f;
  }
  /* the unclassified group may have no factor of its own (a risk model without an "unclassified"
   * industry factor): its row and column stay zero */
  const int f_unc = opt_problem_unclassified(p) >= 0 ? p->n_style + opt_problem_unclassified(p) : -1;
  int unc_absent = f_unc >= 0 && !seen[f_unc];
  if (unc_absent) seen[f_unc] = 1;
  for (int f = 0; f < nf; f++)
    if (!seen[f]) {
      rc = zz_fail(err, ZZ_EDATA, "%s:1: factor '%s' is missing from the header: expected a column for every factor", path,
                   f < p->n_style ? p->style_names[f] : f < p->n_style + p->n_ind ? p->ind_names[f - p->n_style] : "country");
      goto done;
    }
  memset(seen, 0, (size_t)nf);
  fline = xcalloc((size_t)nf, sizeof *fline);
  fcol = xcalloc((size_t)nf, sizeof *fcol);
  if (!fline || !fcol) {
    rc = zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  for (int j = 1; j < ncol; j++) fcol[colf[j]] = j + 1;
  while ((rc = zz_csv_next(r, err)) == 1) {
    const char *name = zz_csv_field(r, 0);
    while (isspace((unsigned char)*name)) name++;
    int a = FACTOR_OF(name);
    if (a < 0) {
      rc = zz_csv_fail(r, 0, err, ZZ_EDATA, "unknown factor '%s': expected a factor named in the header", name);
      goto done;
    }
    if (seen[a]) {
      rc = zz_csv_fail(r, 0, err, ZZ_EDATA, "factor '%s' has two rows: expected one row per factor", name);
      goto done;
    }
    seen[a] = 1;
    fline[a] = zz_csv_line(r);
    for (int j = 1; j < ncol; j++) {
      double v;
      if ((rc = zz_csv_double(r, j, 0, &v, err))) goto done;
      if (colf[j] == a && v < 0) {
        rc = zz_csv_fail(r, j, err, ZZ_EDATA, "negative variance %g of factor '%s': expected a value >= 0", v, name);
        goto done;
      }
      p->fcov[(size_t)a * nf + colf[j]] = v;
    }
  }
  if (rc < 0) {
    rc = -rc;
    goto done;
  }
  rc = ZZ_OK;
  if (unc_absent) seen[f_unc] = 1;
  for (int f = 0; f < nf; f++)
    if (!seen[f]) {
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu: end of file: the row of factor '%s' is missing (expected one row per factor of "
                   "the header)",
                   path, zz_csv_line(r) + 1,
                   f < p->n_style ? p->style_names[f] : f < p->n_style + p->n_ind ? p->ind_names[f - p->n_style] : "country");
      goto done;
    }
  for (int a = 0; a < nf; a++)
    for (int b = 0; b < a; b++) {
      double x = p->fcov[(size_t)a * nf + b], y = p->fcov[(size_t)b * nf + a];
      if (fabs(x - y) > 1e-8 * sqrt(p->fcov[(size_t)a * nf + a] * p->fcov[(size_t)b * nf + b]) + 1e-15) {
        const char *na = a < p->n_style ? p->style_names[a] : a < p->n_style + p->n_ind ? p->ind_names[a - p->n_style] : "country";
        const char *nb = b < p->n_style ? p->style_names[b] : b < p->n_style + p->n_ind ? p->ind_names[b - p->n_style] : "country";
        rc = zz_fail(err, ZZ_EDATA,
                     "%s:%zu:%d: the covariance matrix is not symmetric: (%s, %s) = %.17g but (%s, %s) = %.17g "
                     "(line %zu): expected equal values",
                     path, fline[a], fcol[b], na, nb, x, nb, na, y, fline[b]);
        goto done;
      }
    }
  { /* a covariance must give every factor portfolio a variance >= 0: the TE constraint's Cholesky needs it */
    double *L = malloc((size_t)nf * nf * sizeof *L);
    int bad = -1;
    zz_err e2 = {0};
    if (!L) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    else if (opt_cholesky(p->fcov, nf, L, &bad, &e2) && bad >= 0) {
      const int a = bad;
      const char *na = a < p->n_style ? p->style_names[a] : a < p->n_style + p->n_ind ? p->ind_names[a - p->n_style] : "country";
      rc = zz_fail(err, ZZ_EDATA,
                   "%s:%zu: the covariance matrix is not positive semi-definite: the row of factor '%s', with the "
                   "factors before it, implies a portfolio of negative variance (a correlation above 1 in absolute "
                   "value?): expected a covariance matrix", path, fline[a], na);
    }
    free(L);
    if (rc) goto done;
  }
#undef FACTOR_OF
done:
  free(fline);
  free(fcol);
  free(colf);
  free(seen);
  zz_csv_close(r);
  return rc;
}

int opt_problem_read(const char *dir, opt_problem **out, zz_err *err) {
  *out = NULL;
  char path[4096];
  opt_problem *p = calloc(1, sizeof *p);
  zz_csv *r = NULL;
  code_index ix = {0, NULL, NULL};
  uint8_t *seen = NULL;
  size_t *alines = NULL; /* line of each alpha.csv row, named by a duplicate */
  int rc, cap = 0, acap = 0;
  if (!p) return zz_fail(err, ZZ_ENOMEM, "out of memory");

  /* alpha.csv: the universe */
  join(path, sizeof path, dir, "alpha.csv");
  if ((rc = zz_csv_open(&r, path, err))) goto fail;
  int cc = zz_csv_require(r, NAMES_CODE, err);
  int cs = cc < 0 ? -1 : zz_csv_require(r, (const char *const[]){"score", "alpha", NULL}, err);
  if (cc < 0 || cs < 0) {
    rc = err ? err->code : ZZ_EDATA;
    goto fail;
  }
  while ((rc = zz_csv_next(r, err)) == 1) {
    if (p->n == cap) {
      cap = cap ? 2 * cap : 1024;
      void *a = realloc(p->codes, (size_t)cap * sizeof *p->codes), *b = realloc(p->score, (size_t)cap * sizeof *p->score);
      if (a) p->codes = a;
      if (b) p->score = b;
      if (!a || !b) {
        rc = zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
        goto fail;
      }
    }
    if ((rc = read_code(r, cc, p->codes[p->n], err))) goto fail;
    if ((rc = zz_csv_double(r, cs, 0, &p->score[p->n], err))) goto fail;
    if (p->n == acap) {
      acap = acap ? 2 * acap : 1024;
      size_t *q = realloc(alines, (size_t)acap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "%s: out of memory", path);
        goto fail;
      }
      alines = q;
    }
    alines[p->n] = zz_csv_line(r);
    p->n++;
  }
  if (rc < 0) {
    rc = -rc;
    goto fail;
  }
  if (p->n == 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s:2: no stocks: expected rows 'code,score' after the header", path);
    goto fail;
  }
  if (!opt_scores_vary(p->score, p->n, NULL)) {
    rc = zz_fail(err, ZZ_EDATA, "%s:2:%d: every score is %.10g: a constant alpha ranks nothing (any feasible portfolio "
                 "would be optimal); expected scores that differ between stocks", path, cs + 1, p->score[0]);
    goto fail;
  }
  zz_csv_close(r);
  r = NULL;
  {
    char (*codes)[ZZ_CODE_LEN] = p->codes;
    double *score = p->score;
    p->codes = NULL;
    p->score = NULL;
    if (alloc_stock_arrays(p)) {
      free(codes);
      free(score);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory for %d stocks", p->n);
      goto fail;
    }
    memcpy(p->codes, codes, (size_t)p->n * sizeof *codes);
    memcpy(p->score, score, (size_t)p->n * sizeof *score);
    free(codes);
    free(score);
  }
  ix.n = p->n;
  ix.codes = p->codes;
  ix.e = xcalloc((size_t)p->n, sizeof *ix.e);
  if (!ix.e) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto fail;
  }
  for (int i = 0; i < p->n; i++) {
    memcpy(ix.e[i].code, p->codes[i], ZZ_CODE_LEN);
    ix.e[i].i = i;
  }
  qsort(ix.e, (size_t)p->n, sizeof *ix.e, cmp_code_entry);
  for (int k = 1; k < p->n; k++)
    if (!strcmp(ix.e[k].code, ix.e[k - 1].code)) {
      int a = ix.e[k - 1].i < ix.e[k].i ? ix.e[k - 1].i : ix.e[k].i, b = ix.e[k - 1].i ^ ix.e[k].i ^ a;
      rc = zz_fail(err, ZZ_EDATA, "%s:%zu:%d: code %s appears twice (first on line %zu): expected each code once", path,
                   alines[b], cc + 1, ix.e[k].code, alines[a]);
      goto fail;
    }

  /* benchmark.csv, previous.csv, specific_var.csv */
  static const char *const NAMES_W[] = {"weight", NULL};
  static const char *const NAMES_VAR[] = {"var", "variance", "specific_var", NULL};
  double sum;
  int wh[2] = {0, 0}; /* first data line and the weight column, named by a bad sum */
  join(path, sizeof path, dir, "benchmark.csv");
  if ((rc = read_code_values(path, &ix, NAMES_W, 0, 1, p->bench, &sum, wh, err))) goto fail;
  if (fabs(sum - 1) > OPT_SUM_TOL) {
    rc = zz_fail(err, ZZ_EDATA, "%s:%d:%d: weights (from this line on) sum to %.10g: expected fractions summing to 1 "
                 "(within %g)", path, wh[0] ? wh[0] : 2, wh[1] ? wh[1] : 2, sum, OPT_SUM_TOL);
    goto fail;
  }
  join(path, sizeof path, dir, "previous.csv");
  if (access(path, F_OK) == 0) {
    p->has_prev = 1;
    wh[0] = wh[1] = 0;
    if ((rc = read_code_values(path, &ix, NAMES_W, 0, 1, p->prev, &sum, wh, err))) goto fail;
    if (sum > 1 + OPT_SUM_TOL) { /* less than 1: the rest of the book is cash */
      rc = zz_fail(err, ZZ_EDATA, "%s:%d:%d: weights (from this line on) sum to %.10g: expected fractions summing to at "
                   "most 1 (within %g; the rest is cash)", path, wh[0] ? wh[0] : 2, wh[1] ? wh[1] : 2, sum,
                   OPT_SUM_TOL);
      goto fail;
    }
  }
  join(path, sizeof path, dir, "specific_var.csv");
  if ((rc = read_code_values(path, &ix, NAMES_VAR, 1, 1, p->spec_var, NULL, NULL, err))) goto fail;

  seen = xcalloc((size_t)p->n, 1);
  if (!seen) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto fail;
  }

  /* exposures.csv: code + style columns */
  join(path, sizeof path, dir, "exposures.csv");
  if ((rc = zz_csv_open(&r, path, err))) goto fail;
  cc = zz_csv_require(r, NAMES_CODE, err);
  if (cc < 0) {
    rc = err ? err->code : ZZ_EDATA;
    goto fail;
  }
  p->n_style = zz_csv_ncols(r) - 1;
  p->style_names = xcalloc((size_t)p->n_style, sizeof *p->style_names);
  p->style = xcalloc((size_t)p->n * p->n_style, sizeof *p->style);
  if (!p->style_names || !p->style) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto fail;
  }
  for (int j = 0, k = 0; j < zz_csv_ncols(r); j++) {
    if (j == cc) continue;
    const char *h = zz_csv_header(r, j);
    if (!*h || strlen(h) >= OPT_NAME_LEN || name_index(p->style_names, k, h) >= 0 || !strcasecmp(h, "country")) {
      rc = zz_fail(err, ZZ_EDATA, "%s:1:%d: style column name '%s' is empty, too long, repeated or reserved: expected a new "
                   "name of at most %d characters other than 'country'", path,
                   j + 1, h, OPT_NAME_LEN - 1);
      goto fail;
    }
    snprintf(p->style_names[k++], OPT_NAME_LEN, "%s", h);
  }
  while ((rc = zz_csv_next(r, err)) == 1) {
    int i;
    if ((rc = read_row_stock(r, cc, &ix, seen, &i, err))) goto fail;
    for (int j = 0, k = 0; j < zz_csv_ncols(r); j++) {
      if (j == cc) continue;
      if ((rc = zz_csv_double(r, j, 0, &p->style[(size_t)i * p->n_style + k], err))) goto fail;
      k++;
    }
  }
  if (rc < 0) {
    rc = -rc;
    goto fail;
  }
  if ((rc = require_all_codes(r, path, p->n, (const char(*)[ZZ_CODE_LEN])p->codes, seen, err))) goto fail;
  zz_csv_close(r);
  r = NULL;

  /* industry.csv */
  join(path, sizeof path, dir, "industry.csv");
  memset(seen, 0, (size_t)p->n);
  if ((rc = zz_csv_open(&r, path, err))) goto fail;
  cc = zz_csv_require(r, NAMES_CODE, err);
  int ci = cc < 0 ? -1 : zz_csv_require(r, (const char *const[]){"industry", NULL}, err);
  if (cc < 0 || ci < 0) {
    rc = err ? err->code : ZZ_EDATA;
    goto fail;
  }
  int icap = 0;
  while ((rc = zz_csv_next(r, err)) == 1) {
    int i;
    if ((rc = read_row_stock(r, cc, &ix, seen, &i, err))) goto fail;
    const char *name = zz_csv_field(r, ci);
    while (isspace((unsigned char)*name)) name++;
    char trimmed[OPT_NAME_LEN + 1];
    size_t nl = strlen(name);
    while (nl && isspace((unsigned char)name[nl - 1])) nl--;
    if (nl <= OPT_NAME_LEN) memcpy(trimmed, name, nl), trimmed[nl] = 0, name = trimmed;
    if (!*name || !strcasecmp(name, OPT_UNCLASSIFIED)) name = OPT_UNCLASSIFIED; /* no industry: one group */
    if (strlen(name) >= OPT_NAME_LEN || !strcasecmp(name, "country") ||
        name_index(p->style_names, p->n_style, name) >= 0) {
      rc = zz_csv_fail(r, ci, err, ZZ_EDATA,
                       "industry of %s is too long or the name of another factor (expected an industry name, or "
                       "empty / 'unclassified' for none)",
                       ix.codes[i]);
      goto fail;
    }
    int k = name_index(p->ind_names, p->n_ind, name);
    if (k < 0) {
      if (p->n_ind == icap) {
        icap = icap ? 2 * icap : 32;
        void *a = realloc(p->ind_names, (size_t)icap * sizeof *p->ind_names);
        if (!a) {
          rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
          goto fail;
        }
        p->ind_names = a;
      }
      k = p->n_ind++;
      memcpy(p->ind_names[k], name, strlen(name) + 1); /* shorter than OPT_NAME_LEN: checked above */
    }
    p->ind[i] = k;
  }
  if (rc < 0) {
    rc = -rc;
    goto fail;
  }
  if ((rc = require_all_codes(r, path, p->n, (const char(*)[ZZ_CODE_LEN])p->codes, seen, err))) goto fail;
  zz_csv_close(r);
  r = NULL;

  join(path, sizeof path, dir, "factor_cov.csv");
  if ((rc = read_factor_cov(path, p, err))) goto fail;

  /* tradable.csv (optional) */
  join(path, sizeof path, dir, "tradable.csv");
  if (access(path, F_OK) == 0) {
    memset(seen, 0, (size_t)p->n);
    if ((rc = zz_csv_open(&r, path, err))) goto fail;
    cc = zz_csv_require(r, NAMES_CODE, err);
    int cb = cc < 0 ? -1 : zz_csv_require(r, (const char *const[]){"can_buy", NULL}, err);
    int cl = cb < 0 ? -1 : zz_csv_require(r, (const char *const[]){"can_sell", NULL}, err);
    if (cc < 0 || cb < 0 || cl < 0) {
      rc = err ? err->code : ZZ_EDATA;
      goto fail;
    }
    while ((rc = zz_csv_next(r, err)) == 1) {
      int b, s;
      int i;
      if ((rc = read_row_stock(r, cc, &ix, seen, &i, err))) goto fail;
      if ((rc = zz_csv_bool(r, cb, 1, &b, err)) || (rc = zz_csv_bool(r, cl, 1, &s, err))) goto fail;
      p->can_buy[i] = (uint8_t)(b != 0);
      p->can_sell[i] = (uint8_t)(s != 0);
    }
    if (rc < 0) {
      rc = -rc;
      goto fail;
    }
    if ((rc = require_all_codes(r, path, p->n, (const char(*)[ZZ_CODE_LEN])p->codes, seen, err))) goto fail;
    zz_csv_close(r);
    r = NULL;
  }
  if ((rc = opt_problem_check(p, err))) {
    zz_wrap(err, "%s", dir);
    goto fail;
  }
  free(seen);
  free(alines);
  free(ix.e);
  *out = p;
  return ZZ_OK;
fail:
  if (rc == ZZ_OK) rc = ZZ_EINTERNAL;
  zz_csv_close(r);
  free(seen);
  free(alines);
  free(ix.e);
  opt_problem_free(p);
  return rc;
}

/* ---------------------------------------------------------------- writing a directory */

/* One file of the directory: the header, then row(i) for i = 0 .. n-1 (a row may write nothing). */
typedef void (*row_fn)(FILE *f, const opt_problem *p, const opt_limits *lim, int i);

static int write_file(const char *dir, const char *name, const char *header, int n, row_fn row,
                      const opt_problem *p, const opt_limits *lim, zz_err *err) {
  char path[4096], tmp[4096 + 8];
  join(path, sizeof path, dir, name);
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  fputs(header, f);
  for (int i = 0; i < n; i++) row(f, p, lim, i);
  return zz_out_close(f, tmp, path, err);
}

static void put_code_value(FILE *f, const char *code, double v) {
  char b[40];
  zz_csv_write_field(f, code);
  fprintf(f, ",%s\n", zz_fmt_double(b, sizeof b, v));
}
static void row_alpha(FILE *f, const opt_problem *p, const opt_limits *lim, int i) {
  (void)lim;
  put_code_value(f, p->codes[i], p->score[i]);
}
static void row_bench(FILE *f, const opt_problem *p, const opt_limits *lim, int i) {
  (void)lim;
  if (!(p->bench[i] > 0)) return;
  put_code_value(f, p->codes[i], p->bench[i]);
}
static void row_prev(FILE *f, const opt_problem *p, const opt_limits *lim, int i) {
  (void)lim;
  if (!(p->prev[i] > 0)) return;
  put_code_value(f, p->codes[i], p->prev[i]);
}
static void row_spec(FILE *f, const opt_problem *p, const opt_limits *lim, int i) {
  (void)lim;
  put_code_value(f, p->codes[i], p->spec_var[i]);
}
static void row_style(FILE *f, const opt_problem *p, const opt_limits *lim, int i) {
  (void)lim;
  char b[40];
  zz_csv_write_field(f, p->codes[i]);
  for (int k = 0; k < p->n_style; k++) fprintf(f, ",%s", zz_fmt_double(b, sizeof b, p->style[(size_t)i * p->n_style + k]));
  fputc('\n', f);
}
static void row_industry(FILE *f, const opt_problem *p, const opt_limits *lim, int i) {
  (void)lim;
  zz_csv_write_field(f, p->codes[i]);
  fputc(',', f);
  zz_csv_write_field(f, p->ind_names[p->ind[i]]);
  fputc('\n', f);
}
static void row_tradable(FILE *f, const opt_problem *p, const opt_limits *lim, int i) {
  (void)lim;
  zz_csv_write_field(f, p->codes[i]);
  fprintf(f, ",%d,%d\n", p->can_buy[i] != 0, p->can_sell[i] != 0);
}
static const char *factor_name(const opt_problem *p, int a) {
  if (a < p->n_style) return p->style_names[a];
  if (a < p->n_style + p->n_ind) return p->ind_names[a - p->n_style];
  return "country";
}
static void row_fcov(FILE *f, const opt_problem *p, const opt_limits *lim, int a) {
  (void)lim;
  char b[40];
  const int nf = opt_problem_nfac(p);
  zz_csv_write_field(f, factor_name(p, a));
  for (int c = 0; c < nf; c++) fprintf(f, ",%s", zz_fmt_double(b, sizeof b, p->fcov[(size_t)a * nf + c]));
  fputc('\n', f);
}

int opt_problem_write(const opt_problem *p, const opt_limits *lim, const char *dir, zz_err *err) {
  if (mkdir(dir, 0777) && errno != EEXIST) return zz_fail(err, ZZ_EIO, "%s: cannot create: %s", dir, strerror(errno));
  const int nf = opt_problem_nfac(p);
  char *hdr = malloc((size_t)(nf + 2) * (OPT_NAME_LEN + 3) + 16);
  if (!hdr) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  int rc = ZZ_OK;
  size_t used = (size_t)sprintf(hdr, "code");
  for (int k = 0; k < p->n_style; k++) used += (size_t)sprintf(hdr + used, ",%s", p->style_names[k]);
  sprintf(hdr + used, "\n");
  if (!rc) rc = write_file(dir, "exposures.csv", hdr, p->n, row_style, p, lim, err);
  used = (size_t)sprintf(hdr, "factor");
  for (int a = 0; a < nf; a++) used += (size_t)sprintf(hdr + used, ",%s", factor_name(p, a));
  sprintf(hdr + used, "\n");
  if (!rc) rc = write_file(dir, "factor_cov.csv", hdr, nf, row_fcov, p, lim, err);
  free(hdr);
  if (!rc) rc = write_file(dir, "alpha.csv", "code,score\n", p->n, row_alpha, p, lim, err);
  if (!rc) rc = write_file(dir, "benchmark.csv", "code,weight\n", p->n, row_bench, p, lim, err);
  if (!rc && p->has_prev) rc = write_file(dir, "previous.csv", "code,weight\n", p->n, row_prev, p, lim, err);
  if (!rc) rc = write_file(dir, "specific_var.csv", "code,var\n", p->n, row_spec, p, lim, err);
  if (!rc) rc = write_file(dir, "industry.csv", "code,industry\n", p->n, row_industry, p, lim, err);
  if (!rc) rc = write_file(dir, "tradable.csv", "code,can_buy,can_sell\n", p->n, row_tradable, p, lim, err);
  if (rc) return rc;
  char path[4096], tmp[4096 + 8], b[40];
  join(path, sizeof path, dir, "limits.ini");
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  const struct {
    const char *key;
    double v;
  } keys[] = {{"style_bound", lim->style_bound},       {"industry_bound", lim->industry_bound},
              {"unclassified_bound", lim->unclassified_bound}, {"te_max", lim->te_max},
              {"constituent_floor", lim->constituent_floor}, {"turnover_max", lim->turnover_max},
              {"active_max", lim->active_max},         {"weight_max", lim->weight_max},
              {"spec_var_floor", lim->spec_var_floor}, {"cash", lim->cash},
              {"gap_tol", lim->gap_tol},               {"max_rounds", lim->max_rounds},
              {"relax", lim->relax}};
  fputs("[limits]\n", f);
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) fprintf(f, "%s = %s\n", keys[k].key, zz_fmt_double(b, sizeof b, keys[k].v));
  return zz_out_close(f, tmp, path, err);
}
