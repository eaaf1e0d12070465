/* explain.c — `zhizeng explain`'s stage: LRP relevances (nn_lrp) of one trained model's output for the stocks it
 * scores on one date, exactly as score_write scores them (same universe, features, window and preprocessing),
 * and the files they are written to and read back from (docs/model.md "LRP explanations"):
 *   relevance.csv  date,code,lag,feature,relevance     one row per stock x lag x feature (lag 0 = the date)
 *   totals.csv     date,code,feature,relevance         per-feature totals over the lags
 *   stocks.csv     date,code,score,output,inputs,bias,bias_layer1,bias_layer2,bias_head
 *   summary.csv    date,kind,name,mean_abs,share       kind feature | lag: mean |R| over the stocks summed
 *                                                      over the other axis, and its share of the total
 * explain_read reads relevance.csv and stocks.csv back (totals and summary are derived from them by
 * explain_shares). */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const day_names[FEAT_DAY_N] = {"open", "high", "low", "close", "vwap", "volume"};

void explain_free(explain_result *r) {
  if (!r) return;
  free(r->codes), free(r->features), free(r->rel), free(r->bias), free(r->out), free(r->score);
  free(r);
}

static int result_alloc(explain_result **out, int n, int T, int F, zz_err *err) {
  explain_result *r = calloc(1, sizeof *r);
  if (!r) return zz_fail(err, ZZ_ENOMEM, "out of memory for the explanation");
  r->n = n, r->T = T, r->F = F;
  const size_t n1 = n > 0 ? (size_t)n : 1;
  r->codes = calloc(n1, sizeof *r->codes);
  r->features = calloc((size_t)F, sizeof *r->features);
  r->rel = calloc(n1 * T * F, sizeof *r->rel);
  r->bias = calloc(n1 * NN_LRP_PARTS, sizeof *r->bias);
  r->out = calloc(n1, sizeof *r->out);
  r->score = calloc(n1, sizeof *r->score);
  if (!r->codes || !r->features || !r->rel || !r->bias || !r->out || !r->score) {
    explain_free(r);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the explanation");
  }
  *out = r;
  return ZZ_OK;
}

int explain_run(const panel *p, const char *model, int32_t date, const char *const *codes, int n_codes, double eps,
                explain_result **out, zz_err *err) {
  *out = NULL;
  char path[4200];
  struct stat st;
  if (stat(model, &st) == 0 && S_ISDIR(st.st_mode)) snprintf(path, sizeof path, "%s/Y%d_seed0.zzm", model, date / 10000);
  else snprintf(path, sizeof path, "%s", model);
  int t = -1;
  for (int k = 0; k < p->n_dates; k++)
    if (p->dates[k] == date) t = k;
  char db[16];
  zz_date_format(date, db);
  if (t < 0) return zz_fail(err, ZZ_EUSAGE, "%s is not a trading day of the market", db);
  nn_model *m = NULL;
  feat_prep *pp = NULL;
  feat_ctx *fc = NULL;
  explain_result *r = NULL;
  int *idx = malloc(sizeof *idx * (size_t)(p->n_stocks + 1));
  uint8_t *elig = malloc((size_t)p->n_dates * (size_t)p->n_stocks + 1), *rows = NULL;
  float *x = NULL, *s = NULL;
  double *rel = NULL, *bias = NULL, *o = NULL;
  int rc = ZZ_OK, n = 0;
  if (!idx || !elig) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the explanation");
    goto done;
  }
  if ((rc = nn_load(&m, path, NULL, NULL, err))) goto done;
  if (!m->preprocessing) {
    rc = zz_fail(err, ZZ_EDATA, "%s: model has no feature preprocessing (not made by 'zhizeng train'?)", path);
    goto done;
  }
  if ((rc = feat_prep_from_string(m->preprocessing, &pp, err)) || (rc = feat_create(&fc, p, pp->dataset, pp->seq, err)))
    goto done;
  const int T = pp->seq, F = pp->n_feat;
  if (feat_n_features(fc) != F || m->cfg.input_size != F) {
    rc = zz_fail(err, ZZ_EDATA, "%s: model expects %d features, dataset '%s' has %d", path, m->cfg.input_size,
                 pp->dataset, feat_n_features(fc));
    goto done;
  }
  if ((rc = panel_universe_mask(p, NULL, elig, NULL, err))) goto done;
  for (int i = 0; i < p->n_stocks; i++)
    if (elig[panel_at(p, t, i)] && feat_valid(fc, t, i)) idx[n++] = i;
  if (n < 2) {
    rc = zz_fail(err, ZZ_EDATA, "%s: %d stock(s) scored that day, scoring needs at least 2", db, n);
    goto done;
  }
  rows = calloc((size_t)n, 1);
  x = malloc(sizeof *x * (size_t)n * T * F);
  s = malloc(sizeof *s * (size_t)n);
  rel = malloc(sizeof *rel * (size_t)n * T * F);
  bias = malloc(sizeof *bias * (size_t)n * NN_LRP_PARTS);
  o = malloc(sizeof *o * (size_t)n);
  if (!rows || !x || !s || !rel || !bias || !o) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the explanation");
    goto done;
  }
  int n_out = 0;
  if (n_codes == 0) {
    memset(rows, 1, (size_t)n);
    n_out = n;
  }
  for (int k = 0; k < n_codes; k++) {
    char code[ZZ_CODE_LEN];
    int i = zz_code_normalise(codes[k], code) == 0 ? panel_find_stock(p, code) : -1, r0 = -1;
    for (int q = 0; q < n && i >= 0; q++)
      if (idx[q] == i) r0 = q;
    if (i < 0) {
      rc = zz_fail(err, ZZ_EDATA, "code '%s' is not in the market", codes[k]);
      goto done;
    }
    if (r0 < 0) {
      rc = zz_fail(err, ZZ_EDATA, "%s is not scored on %s (suspended, ST, listed too recently or no valid window)",
                   code, db);
      goto done;
    }
    if (!rows[r0]) n_out++;
    rows[r0] = 1;
  }
  feat_batch(fc, pp, t, idx, n, x);
  nn_work *w = NULL;
  if ((rc = nn_work_create(&w, 1, err))) goto done;
  rc = nn_score(m, w, x, n, T, NULL, s, err);
  nn_work_free(w);
  if (rc || (rc = nn_lrp(m, x, n, T, rows, eps, rel, bias, o, err))) goto done;
  if ((rc = result_alloc(&r, n_out, T, F, err))) goto done;
  r->date = date;
  r->eps = eps;
  for (int f = 0; f < F; f++) {
    const char *nm = "";
    if (!strcmp(pp->dataset, "day")) nm = day_names[f];
    else
      for (int d = 0; d < p->n_datasets; d++)
        if (!strcmp(p->datasets[d].name, pp->dataset)) nm = p->datasets[d].col_names[f];
    snprintf(r->features[f], sizeof r->features[f], "%s", nm);
  }
  for (int q = 0, k = 0; q < n; q++) { /* stocks in code order (the panel's) */
    if (!rows[q]) continue;
    snprintf(r->codes[k], ZZ_CODE_LEN, "%s", p->stocks[idx[q]].code);
    memcpy(r->rel + (size_t)k * T * F, rel + (size_t)q * T * F, sizeof *rel * (size_t)T * F);
    memcpy(r->bias + (size_t)k * NN_LRP_PARTS, bias + (size_t)q * NN_LRP_PARTS, sizeof *bias * NN_LRP_PARTS);
    r->out[k] = o[q];
    r->score[k] = s[q];
    k++;
  }
  *out = r;
  r = NULL;
done:
  explain_free(r);
  nn_free(m);
  feat_prep_free(pp);
  feat_free(fc);
  free(idx), free(elig), free(rows), free(x), free(s), free(rel), free(bias), free(o);
  return rc;
}

void explain_shares(const explain_result *r, double *cell /*[T,F] or NULL*/, double *by_feature /*[F]*/,
                    double *by_lag /*[T]*/) {
  const int T = r->T, F = r->F;
  double total = 0;
  for (int f = 0; f < F; f++) by_feature[f] = 0;
  for (int l = 0; l < T; l++) by_lag[l] = 0;
  for (int l = 0; l < T; l++)
    for (int f = 0; f < F; f++) {
      double m = 0;
      for (int i = 0; i < r->n; i++) m += fabs(r->rel[((size_t)i * T + (T - 1 - l)) * F + f]);
      m = r->n > 0 ? m / r->n : 0;
      if (cell) cell[(size_t)l * F + f] = m;
      by_feature[f] += m;
      by_lag[l] += m;
      total += m;
    }
  if (total > 0) {
    for (int f = 0; f < F; f++) by_feature[f] /= total;
    for (int l = 0; l < T; l++) by_lag[l] /= total;
    if (cell)
      for (size_t k = 0; k < (size_t)T * F; k++) cell[k] /= total;
  }
}

static void out_num(FILE *f, double v) {
  char b[40];
  fputs(zz_fmt_double(b, sizeof b, v), f);
}

int explain_write(const explain_result *r, const char *dir, zz_err *err) {
  const int T = r->T, F = r->F;
  char path[4200], tmp[4300], db[16];
  zz_date_format(r->date, db);
  mkdir(dir, 0777);
  int rc = ZZ_OK;
  /* relevance.csv */
  snprintf(path, sizeof path, "%s/relevance.csv", dir);
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return err->code ? err->code : ZZ_EIO;
  fprintf(f, "date,code,lag,feature,relevance\n");
  for (int i = 0; i < r->n; i++)
    for (int l = 0; l < T; l++)
      for (int k = 0; k < F; k++) {
        fprintf(f, "%s,%s,%d,%s,", db, r->codes[i], l, r->features[k]);
        out_num(f, r->rel[((size_t)i * T + (T - 1 - l)) * F + k]);
        fputc('\n', f);
      }
  if ((rc = zz_out_close(f, tmp, path, err))) return rc;
  /* totals.csv */
  snprintf(path, sizeof path, "%s/totals.csv", dir);
  if (!(f = zz_out_open(path, tmp, sizeof tmp, err))) return err->code ? err->code : ZZ_EIO;
  fprintf(f, "date,code,feature,relevance\n");
  for (int i = 0; i < r->n; i++)
    for (int k = 0; k < F; k++) {
      double s = 0;
      for (int l = 0; l < T; l++) s += r->rel[((size_t)i * T + l) * F + k];
      fprintf(f, "%s,%s,%s,", db, r->codes[i], r->features[k]);
      out_num(f, s);
      fputc('\n', f);
    }
  if ((rc = zz_out_close(f, tmp, path, err))) return rc;
  /* stocks.csv */
  snprintf(path, sizeof path, "%s/stocks.csv", dir);
  if (!(f = zz_out_open(path, tmp, sizeof tmp, err))) return err->code ? err->code : ZZ_EIO;
  fprintf(f, "date,code,score,output,inputs,bias,bias_layer1,bias_layer2,bias_head\n");
  for (int i = 0; i < r->n; i++) {
    double in = 0, b = 0;
    for (size_t k = 0; k < (size_t)T * F; k++) in += r->rel[(size_t)i * T * F + k];
    for (int k = 0; k < NN_LRP_PARTS; k++) b += r->bias[(size_t)i * NN_LRP_PARTS + k];
    const double v[7] = {r->score[i], r->out[i], in, b, r->bias[(size_t)i * NN_LRP_PARTS + NN_LRP_LAYER1],
                         r->bias[(size_t)i * NN_LRP_PARTS + NN_LRP_LAYER2], r->bias[(size_t)i * NN_LRP_PARTS + NN_LRP_HEAD]};
    fprintf(f, "%s,%s", db, r->codes[i]);
    for (int k = 0; k < 7; k++) fputc(',', f), out_num(f, v[k]);
    fputc('\n', f);
  }
  if ((rc = zz_out_close(f, tmp, path, err))) return rc;
  /* summary.csv */
  double *bf = malloc(sizeof *bf * (size_t)F), *bl = malloc(sizeof *bl * (size_t)T), *cell = malloc(sizeof *cell * (size_t)T * F);
  if (!bf || !bl || !cell) {
    free(bf), free(bl), free(cell);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the explanation summary");
  }
  explain_shares(r, cell, bf, bl);
  double total = 0; /* mean |R| summed over the cells, to turn the shares back into means */
  for (int i = 0; i < r->n; i++)
    for (size_t k = 0; k < (size_t)T * F; k++) total += fabs(r->rel[(size_t)i * T * F + k]);
  total = r->n > 0 ? total / r->n : 0;
  snprintf(path, sizeof path, "%s/summary.csv", dir);
  if ((f = zz_out_open(path, tmp, sizeof tmp, err))) {
    fprintf(f, "date,kind,name,mean_abs,share\n");
    for (int k = 0; k < F; k++) {
      fprintf(f, "%s,feature,%s,", db, r->features[k]);
      out_num(f, bf[k] * total), fputc(',', f), out_num(f, bf[k]), fputc('\n', f);
    }
    for (int l = 0; l < T; l++) {
      fprintf(f, "%s,lag,%d,", db, l);
      out_num(f, bl[l] * total), fputc(',', f), out_num(f, bl[l]), fputc('\n', f);
    }
    rc = zz_out_close(f, tmp, path, err);
  } else {
    rc = err->code ? err->code : ZZ_EIO;
  }
  free(bf), free(bl), free(cell);
  return rc;
}

/* relevance.csv's rows must come as the writer writes them: stocks in blocks, lags 0..T-1, features in order. */
int explain_read(const char *dir, explain_result **out, zz_err *err) {
  *out = NULL;
  char path[4200];
  snprintf(path, sizeof path, "%s/relevance.csv", dir);
  zz_csv *c = NULL;
  int rc = zz_csv_open(&c, path, err);
  if (rc) return rc;
  static const char *const n_date[] = {"date", NULL}, *const n_code[] = {"code", NULL}, *const n_lag[] = {"lag", NULL},
                           *const n_feat[] = {"feature", NULL}, *const n_rel[] = {"relevance", NULL};
  int cd = zz_csv_require(c, n_date, err), cc = cd < 0 ? -1 : zz_csv_require(c, n_code, err),
      cl = cc < 0 ? -1 : zz_csv_require(c, n_lag, err), cf = cl < 0 ? -1 : zz_csv_require(c, n_feat, err),
      cr = cf < 0 ? -1 : zz_csv_require(c, n_rel, err);
  if (cr < 0) {
    zz_csv_close(c);
    return err->code ? err->code : ZZ_EDATA;
  }
  /* first pass: the shape (T, F from the first stock's block), then the values */
  size_t cap = 1024, nv = 0;
  double *v = malloc(cap * sizeof *v);
  char (*codes)[ZZ_CODE_LEN] = NULL, (*feats)[64] = NULL;
  int n = 0, T = 0, F = 0, ncap = 0;
  int32_t date = 0;
  while (v && (rc = zz_csv_next(c, err)) == 1) {
    int32_t d;
    double lag, x;
    if ((rc = zz_csv_date(c, cd, &d, err)) || (rc = zz_csv_double(c, cl, 0, &lag, err)) ||
        (rc = zz_csv_double(c, cr, 0, &x, err)))
      break;
    if (!(lag >= 0 && lag <= 100000 && lag == floor(lag))) {
      rc = zz_csv_fail(c, cl, err, ZZ_EDATA, "expected a lag (an integer >= 0), found '%s'", zz_csv_field(c, cl));
      break;
    }
    const char *code = zz_csv_field(c, cc), *feat = zz_csv_field(c, cf);
    if (nv == 0) date = d;
    if (d != date) {
      char want[11], got[11];
      rc = zz_csv_fail(c, cd, err, ZZ_EDATA, "expected one date (%s), found %s", zz_date_format(date, want),
                       zz_date_format(d, got));
      break;
    }
    if (n == 0 || strcmp(codes[n - 1], code)) { /* a new stock's block */
      if (n == 1 && (size_t)T * F != nv) {
        rc = zz_csv_fail(c, cc, err, ZZ_EDATA, "stock block of %zu rows is not lags x features", nv);
        break;
      }
      if (n > 1 && nv != (size_t)n * T * F) {
        rc = zz_csv_fail(c, cc, err, ZZ_EDATA, "expected %d rows per stock", T * F);
        break;
      }
      if (n == ncap) {
        ncap = ncap ? 2 * ncap : 64;
        void *a = realloc(codes, (size_t)ncap * sizeof *codes);
        if (!a) break;
        codes = a;
      }
      snprintf(codes[n++], ZZ_CODE_LEN, "%s", code);
    }
    if (n == 1) { /* learn T and the feature names */
      if (lag == 0) {
        void *a = realloc(feats, (size_t)(F + 1) * sizeof *feats);
        if (!a) break;
        feats = a;
        snprintf(feats[F++], 64, "%s", feat);
      }
      if (lag + 1 > T) T = (int)lag + 1;
    }
    const size_t k = nv - (size_t)(n - 1) * (T > 0 ? (size_t)T * F : 0);
    const int want_lag = F ? (int)(k / F) : 0, want_f = F ? (int)(k % F) : 0;
    if (n > 1 && (lag != want_lag || strcmp(feat, feats[want_f]))) {
      rc = zz_csv_fail(c, cl, err, ZZ_EDATA, "expected lag %d, feature '%s'", want_lag, feats[want_f]);
      break;
    }
    if (nv == cap) {
      void *a = realloc(v, 2 * cap * sizeof *v);
      if (!a) break;
      v = a, cap *= 2;
    }
    v[nv++] = x;
  }
  if (rc < 0) rc = -rc; /* zz_csv_next's error, negated */
  if (rc == 1) rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
  zz_csv_close(c);
  explain_result *r = NULL;
  if (!rc && (n == 0 || nv != (size_t)n * T * F))
    rc = zz_fail(err, ZZ_EDATA, "%s: expected %d stocks x %d lags x %d features rows, found %zu", path, n, T, F, nv);
  if (!rc && !(rc = result_alloc(&r, n, T, F, err))) {
    r->date = date;
    r->eps = NAN;
    memcpy(r->codes, codes, (size_t)n * sizeof *codes);
    memcpy(r->features, feats, (size_t)F * sizeof *feats);
    for (int i = 0; i < n; i++)
      for (int l = 0; l < T; l++)
        for (int f = 0; f < F; f++) r->rel[((size_t)i * T + (T - 1 - l)) * F + f] = v[((size_t)i * T + l) * F + f];
  }
  free(v), free(codes), free(feats);
  if (rc) {
    explain_free(r);
    return rc;
  }
  /* stocks.csv: score, output and the bias parts, in the same stock order */
  snprintf(path, sizeof path, "%s/stocks.csv", dir);
  if ((rc = zz_csv_open(&c, path, err))) {
    explain_free(r);
    return rc;
  }
  static const char *const n_score[] = {"score", NULL}, *const n_out[] = {"output", NULL},
                           *const n_b1[] = {"bias_layer1", NULL}, *const n_b2[] = {"bias_layer2", NULL},
                           *const n_bh[] = {"bias_head", NULL};
  const int cols[5] = {zz_csv_require(c, n_score, err), zz_csv_require(c, n_out, err), zz_csv_require(c, n_b1, err),
                       zz_csv_require(c, n_b2, err), zz_csv_require(c, n_bh, err)};
  int sc = zz_csv_find(c, n_code), row = 0;
  for (int k = 0; k < 5; k++)
    if (cols[k] < 0) rc = err->code ? err->code : ZZ_EDATA;
  if (!rc && sc < 0) rc = zz_fail(err, ZZ_EDATA, "%s: expected a column 'code'", path);
  while (!rc && (rc = zz_csv_next(c, err)) == 1) {
    if (row >= r->n || strcmp(zz_csv_field(c, sc), r->codes[row])) {
      rc = zz_csv_fail(c, sc, err, ZZ_EDATA, "expected %s, the stocks of relevance.csv in order",
                       row < r->n ? r->codes[row] : "no more rows");
      break;
    }
    double val[5];
    for (int k = 0; k < 5 && rc == 1; k++)
      if (zz_csv_double(c, cols[k], 0, &val[k], err)) rc = err->code ? err->code : ZZ_EDATA;
    if (rc != 1) break;
    r->score[row] = val[0], r->out[row] = val[1];
    r->bias[(size_t)row * NN_LRP_PARTS + NN_LRP_LAYER1] = val[2];
    r->bias[(size_t)row * NN_LRP_PARTS + NN_LRP_LAYER2] = val[3];
    r->bias[(size_t)row * NN_LRP_PARTS + NN_LRP_HEAD] = val[4];
    row++;
    rc = ZZ_OK;
  }
  if (rc < 0) rc = -rc;
  if (!rc && row != r->n) rc = zz_fail(err, ZZ_EDATA, "%s: %d stocks, relevance.csv has %d", path, row, r->n);
  zz_csv_close(c);
  if (rc) explain_free(r);
  else *out = r;
  return rc;
}
