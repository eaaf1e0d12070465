/* train_validation.c — the validation dump of a trained model (the hyper-parameter study, docs/model.md
 * "Validation dump"): the validation rows training's early stopping scored, scored again by the final model
 * (the best epoch's weights), with the raw label and the factor units, and the numbers recomputed from exactly
 * the values written. See model.h. */
#include "model.h"
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int train_validation_dump(const panel *p, const train_opts *o, int year, const char *model_path, const char *csv_path,
                          train_val_dump *out, zz_err *err) {
  memset(out, 0, sizeof *out);
  out->val_ic = out->units_corr = NAN;
  nn_model *m = NULL;
  nn_work *w = NULL;
  feat_prep *pp = NULL;
  feat_ctx *fc = NULL;
  zz_unit_corr *uc = NULL;
  FILE *f = NULL;
  const size_t nn = (size_t)p->n_dates * (size_t)p->n_stocks;
  const int N = p->n_stocks > 0 ? p->n_stocks : 1;
  double *ret = malloc((nn ? nn : 1) * sizeof *ret), *a = malloc(sizeof *a * (size_t)N), *b = malloc(sizeof *b * (size_t)N);
  uint8_t *elig = malloc(nn ? nn : 1);
  int *idx = malloc(sizeof *idx * (size_t)N);
  float *x = NULL, *s = malloc(sizeof *s * (size_t)N), *h = NULL;
  double *hu = NULL;
  char tmp[4200];
  int rc = ZZ_OK;
  if (!ret || !a || !b || !elig || !idx || !s) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the validation dump");
    goto out;
  }
  if ((rc = nn_load(&m, model_path, NULL, NULL, err))) goto out;
  if (!m->preprocessing) {
    rc = zz_fail(err, ZZ_EDATA, "%s: model has no feature preprocessing", model_path);
    goto out;
  }
  if ((rc = feat_prep_from_string(m->preprocessing, &pp, err)) || (rc = feat_create(&fc, p, pp->dataset, pp->seq, err)))
    goto out;
  train_split sp;
  if ((rc = train_split_year(p, year, o->train_years, pp->seq, &sp, err))) goto out;
  /* the validation return exactly as train_year makes it: raw T+1 -> T+11, NaN outside the universe */
  if ((rc = panel_universe_mask(p, &o->universe, elig, NULL, err)) ||
      (rc = label_raw(p, LABEL_SKIP, LABEL_HORIZON, ret, err)))
    goto out;
  for (size_t k = 0; k < nn; k++)
    if (!elig[k]) ret[k] = NAN;
  const int K = m->cfg.head == NN_HEAD_MULTIVARIATE ? m->cfg.outputs : 0;
  out->K = K;
  x = malloc((size_t)N * (size_t)pp->seq * (size_t)pp->n_feat * sizeof *x);
  h = malloc((size_t)N * (size_t)(K > 0 ? K : 1) * sizeof *h);
  hu = malloc((size_t)N * (size_t)(K > 0 ? K : 1) * sizeof *hu);
  if (!x || !h || !hu) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the validation dump");
    goto out;
  }
  if ((rc = nn_work_create(&w, 1, err)) || (K >= 2 && (rc = zz_unit_corr_create(&uc, K, err)))) goto out;
  if (!(f = zz_out_open(csv_path, tmp, sizeof tmp, err))) {
    rc = ZZ_EIO;
    goto out;
  }
  fputs("date,code,score,label", f);
  for (int k = 0; k < K; k++) fprintf(f, ",f%d", k + 1);
  fputc('\n', f);
  const int step = o->day_stride > 1 ? o->day_stride : 1;
  double ic_sum = 0;
  for (int t = sp.val0; t <= sp.val1 && !rc; t += step) {
    const int n = train_day_rows(fc, ret, p, t, idx);
    if (n < 2) continue;
    feat_batch(fc, pp, t, idx, n, x);
    if ((rc = nn_score(m, w, x, n, pp->seq, K ? h : NULL, s, err))) break;
    for (int r = 0; r < n; r++) a[r] = s[r], b[r] = ret[panel_at(p, t, idx[r])];
    const double ic = zz_spearman(a, b, n);
    if (isfinite(ic)) ic_sum += ic, out->n_ic_days++;
    for (int k = 0; k < K; k++) { /* batch-normalised per date, as scores.csv's factor units */
      double mu = 0, v = 0;
      for (int r = 0; r < n; r++) mu += h[(size_t)r * K + k];
      mu /= n;
      for (int r = 0; r < n; r++) v += (h[(size_t)r * K + k] - mu) * (h[(size_t)r * K + k] - mu);
      const double sd = sqrt(v / n + 1e-5);
      for (int r = 0; r < n; r++) hu[(size_t)r * K + k] = (float)((h[(size_t)r * K + k] - mu) / sd);
    }
    int bad = 0;
    for (size_t q = 0; q < (size_t)n * (size_t)K; q++) bad |= !isfinite(hu[q]);
    if (bad) {
      rc = zz_fail(err, ZZ_ENUMERIC, "non-finite factor unit on %d", (int)p->dates[t]);
      break;
    }
    if (uc && (rc = zz_unit_corr_add(uc, hu, (size_t)n, err))) break;
    char db[16], vb[40];
    zz_date_format(p->dates[t], db);
    for (int r = 0; r < n; r++) {
      fprintf(f, "%s,%s,%s", db, p->stocks[idx[r]].code, zz_fmt_double(vb, sizeof vb, a[r]));
      fprintf(f, ",%s", zz_fmt_double(vb, sizeof vb, b[r]));
      for (int k = 0; k < K; k++) fprintf(f, ",%s", zz_fmt_double(vb, sizeof vb, hu[(size_t)r * K + k]));
      fputc('\n', f);
    }
    out->n_days++;
    out->n_rows += n;
  }
  if (!rc) {
    out->val_ic = out->n_ic_days ? ic_sum / out->n_ic_days : NAN;
    if (uc) zz_unit_corr_result(uc, &out->units_corr, NULL, NULL);
  }
out:
  if (f && !rc) rc = zz_out_close(f, tmp, csv_path, err); /* renamed into place only when complete */
  else if (f) fclose(f), remove(tmp);
  if (rc) zz_wrap(err, "validation dump of %s", model_path);
  nn_free(m);
  nn_work_free(w);
  feat_prep_free(pp);
  feat_free(fc);
  zz_unit_corr_free(uc);
  free(ret), free(a), free(b), free(elig), free(idx), free(x), free(s), free(h), free(hu);
  return rc;
}
