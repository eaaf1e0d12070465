/* score_file.c — scores.csv, the scoring stage's file, read back onto a panel (score_write and
 * score_write_matrix write it): date,code,score[,more columns], each column a dense n_dates x n_stocks
 * matrix. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Binary searches of the panel's sorted calendar and codes (the panel's own accessors are not needed). */
static int find_date(const panel *p, int32_t ymd) {
  int lo = 0, hi = p->n_dates - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (p->dates[mid] == ymd) return mid;
    if (p->dates[mid] < ymd) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static int find_stock(const panel *p, const char *code) {
  int lo = 0, hi = p->n_stocks - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, c = strcmp(p->stocks[mid].code, code);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  for (int i = 0; i < p->n_stocks; i++) /* a panel built by hand may not be sorted */
    if (!strcmp(p->stocks[i].code, code)) return i;
  return -1;
}

void score_table_free(score_table *s) {
  if (!s) return;
  if (s->values)
    for (int c = 0; c < s->n_cols; c++) free(s->values[c]);
  free(s->values);
  free(s->names);
  free(s);
}

static int bad_number(const char *f) {
  while (*f == ' ') f++;
  return !strcasecmp(f, "nan") || !strcasecmp(f, "-nan") || !strcasecmp(f, "inf") || !strcasecmp(f, "-inf") ||
         !strcasecmp(f, "infinity") || !strcasecmp(f, "-infinity") || !strcasecmp(f, "null") ||
         !strcasecmp(f, "na");
}

int score_table_read(const char *path, const panel *p, score_table **out, zz_err *err) {
  *out = NULL;
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const date_names[] = {"date", "trade_date", NULL};
  static const char *const code_names[] = {"code", "ts_code", NULL};
  int cd = zz_csv_require(r, date_names, err);
  int cc = cd < 0 ? -1 : zz_csv_require(r, code_names, err);
  score_table *s = NULL;
  if (cd < 0 || cc < 0) {
    rc = err ? err->code : ZZ_EDATA;
    goto fail;
  }
  int nc = zz_csv_ncols(r);
  s = calloc(1, sizeof *s);
  if (!s) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
    goto fail;
  }
  int *cols = malloc(sizeof *cols * (size_t)nc);
  s->names = calloc((size_t)nc, sizeof *s->names);
  s->values = calloc((size_t)nc, sizeof *s->values);
  if (!cols || !s->names || !s->values) {
    free(cols);
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
    goto fail;
  }
  size_t cells = (size_t)p->n_dates * (size_t)p->n_stocks;
  for (int c = 0; c < nc; c++) {
    if (c == cd || c == cc) continue;
    int k = s->n_cols++;
    cols[k] = c;
    snprintf(s->names[k], sizeof s->names[k], "%s", zz_csv_header(r, c));
    s->values[k] = malloc(sizeof(double) * (cells ? cells : 1));
    if (!s->values[k]) {
      free(cols);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
      goto fail;
    }
    for (size_t q = 0; q < cells; q++) s->values[k][q] = NAN;
  }
  if (s->n_cols == 0) {
    free(cols);
    rc = zz_fail(err, ZZ_EDATA, "%s:1: expected at least one score column after 'date' and 'code'", path);
    goto fail;
  }
  char d0[11], d1[11];
  int got;
  while ((got = zz_csv_next(r, err)) == 1) {
    int32_t ymd;
    if ((rc = zz_csv_date(r, cd, &ymd, err))) break;
    int t = find_date(p, ymd);
    if (t < 0) {
      rc = zz_csv_fail(r, cd, err, ZZ_EDATA,
                       "date %s is not a trading day of the market: expected a date of its calendar %s .. %s",
                       zz_date_format(ymd, d0), zz_date_format(p->dates[0], d1),
                       zz_date_format(p->dates[p->n_dates - 1], (char[11]){0}));
      break;
    }
    char code[ZZ_CODE_LEN];
    if (zz_code_normalise(zz_csv_field(r, cc), code)) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "expected a stock code like 600000.SH, found '%s'",
                       zz_csv_field(r, cc));
      break;
    }
    int i = find_stock(p, code);
    if (i < 0) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "stock %s is not in the market: expected a code of its bars.csv", code);
      break;
    }
    size_t at = panel_at(p, t, i);
    for (int k = 0; k < s->n_cols && !rc; k++) {
      const char *f = zz_csv_field(r, cols[k]);
      if (bad_number(f)) {
        rc = zz_csv_fail(r, cols[k], err, ZZ_EDATA,
                         "expected a finite score, found '%s' (leave the field empty, or drop the row, "
                         "for a stock without a score)", f);
        break;
      }
      double v;
      if ((rc = zz_csv_double(r, cols[k], 1, &v, err))) break;
      if (isfinite(s->values[k][at])) {
        rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "duplicate row for (%s, %s): expected one row per date and code",
                         zz_date_format(ymd, d0), code);
        break;
      }
      s->values[k][at] = v;
    }
    if (rc) break;
    if (s->n_rows == 0 || ymd < s->first_date) s->first_date = ymd;
    if (ymd > s->last_date) s->last_date = ymd;
    s->n_rows++;
  }
  free(cols);
  if (!rc && got < 0) rc = -got;
  if (rc) goto fail;
  if (s->n_rows == 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s:2: the scores file has no data rows: expected rows date,code,score after the header",
                 path);
    goto fail;
  }
  zz_csv_close(r);
  *out = s;
  return ZZ_OK;
fail:
  zz_csv_close(r);
  score_table_free(s);
  return rc ? rc : ZZ_EDATA;
}

int score_write_matrix(const panel *p, const double *v, const char *path, zz_err *err) {
  char tmp[4200];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  fprintf(f, "date,code,score\n");
  char db[16], nb[40];
  for (int t = 0; t < p->n_dates; t++)
    for (int i = 0; i < p->n_stocks; i++) {
      const double s = v[panel_at(p, t, i)];
      if (!isfinite(s)) continue;
      fprintf(f, "%s,%s,%s\n", zz_date_format(p->dates[t], db), p->stocks[i].code, zz_fmt_double(nb, sizeof nb, s));
    }
  return zz_out_close(f, tmp, path, err);
}
