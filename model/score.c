/* score.c — out-of-sample scores: for every day (or week end) of each year, the year's models
 * (all seeds, or the linear baseline) score the valid stocks from features on or before that day
 * with the preprocessing saved in the model; seeds' scores are z-scored per date and averaged.
 * See model.h. */
#include "model.h"
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCORE_MAX_SEEDS 64

/* A seed's scores s[n] z-scored over the date into z[n] (zz_zscore: population std, 0 when constant). */
static void zscore(const float *s, int n, double *z) {
  for (int r = 0; r < n; r++) z[r] = s[r];
  zz_zscore(z, n, z);
}

int score_write(const panel *p, const char *dir, int y0, int y1, int weekly, const char *path, zz_err *err) {
  return score_write_ex(p, dir, y0, y1, weekly, 1, NULL, path, err);
}

/* Scores and writes; mat (n_dates x n_stocks, NaN-filled by the caller) also receives the scores
 * written when not NULL. */
static int score_run(const panel *p, const char *dir, int y0, int y1, int weekly, int factor_unit,
                     const panel_universe_opts *u, const char *path, double *mat, zz_err *err) {
  char tmp_path[4200];
  snprintf(tmp_path, sizeof tmp_path, "%s.tmp", path);
  FILE *f = fopen(tmp_path, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot write", tmp_path);
  const int N = p->n_stocks > 0 ? p->n_stocks : 1;
  int *idx = malloc((size_t)N * sizeof *idx), *wk = malloc((size_t)(p->n_dates + 1) * sizeof *wk);
  uint8_t *is_end = calloc((size_t)(p->n_dates + 1), 1);
  uint8_t *elig = malloc((size_t)p->n_dates * (size_t)N); /* the universe screen: no score outside it */
  float *s = malloc((size_t)N * sizeof *s), *h = NULL, *x = NULL, *lg = malloc((size_t)N * NN_CLASSES * sizeof *lg);
  double *z = malloc((size_t)N * sizeof *z), *acc = malloc((size_t)N * sizeof *acc);
  double *pacc = malloc((size_t)N * NN_CLASSES * sizeof *pacc); /* class3: the seeds' mean class probabilities */
  nn_model *nm[SCORE_MAX_SEEDS] = {0};
  lin_model *lm = NULL;
  nn_work *w = NULL;
  feat_ctx *fc = NULL;
  feat_prep *pp = NULL;
  int rc = ZZ_OK, K = 0, C3 = 0, header = 0, years = 0;
  long rows = 0;
  if (!idx || !wk || !is_end || !elig || !s || !z || !acc || !lg || !pacc) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for scoring");
    goto out;
  }
  if ((rc = panel_universe_mask(p, u, elig, NULL, err))) goto out;
  const int nw = panel_week_ends(p, wk);
  for (int k = 0; k < nw; k++) is_end[wk[k]] = 1;
  if ((rc = nn_work_create(&w, 1, err))) goto out;
  for (int year = y0; year <= y1 && !rc; year++) {
    char mp[4200];
    int n_seeds = 0;
    const char *prep = NULL;
    snprintf(mp, sizeof mp, "%s/Y%d_seed0.lin", dir, year);
    if (access(mp, F_OK) == 0) {
      if ((rc = lin_load(&lm, mp, err))) break;
      prep = lm->prep;
    } else {
      for (; n_seeds < SCORE_MAX_SEEDS; n_seeds++) {
        snprintf(mp, sizeof mp, "%s/Y%d_seed%d.zzm", dir, year, n_seeds);
        if (access(mp, F_OK) != 0) break;
        if ((rc = nn_load(&nm[n_seeds], mp, NULL, NULL, err))) break;
        if (!nm[n_seeds]->preprocessing) {
          rc = zz_fail(err, ZZ_EDATA, "%s: model has no feature preprocessing (not made by 'zhizeng train'?)", mp);
          break;
        }
      }
      if (rc) break;
      if (n_seeds == 0) {
        fprintf(stderr, "score: no model for %d in %s (expected %s/Y%d_seed0.zzm), year skipped\n", year, dir, dir,
                year);
        continue;
      }
      prep = nm[0]->preprocessing;
    }
    if ((rc = feat_prep_from_string(prep, &pp, err))) break;
    if ((rc = feat_create(&fc, p, pp->dataset, pp->seq, err))) break;
    if (feat_n_features(fc) != pp->n_feat || (n_seeds && nm[0]->cfg.input_size != pp->n_feat)) {
      rc = zz_fail(err, ZZ_EDATA, "year %d: model expects %d features, dataset '%s' has %d", year, pp->n_feat,
                   pp->dataset, feat_n_features(fc));
      break;
    }
    const int newK = n_seeds && nm[0]->cfg.head == NN_HEAD_MULTIVARIATE ? nm[0]->cfg.outputs : 0;
    const int newC3 = n_seeds && nm[0]->cfg.head == NN_HEAD_CLASS3;
    for (int k = 1; k < n_seeds && !rc; k++)
      if (nm[k]->cfg.head != nm[0]->cfg.head)
        rc = zz_fail(err, ZZ_EDATA, "year %d: seed %d has a %s head, seed 0 a %s head", year, k,
                     nn_head_name(nm[k]->cfg.head), nn_head_name(nm[0]->cfg.head));
    if (rc) break;
    if (!header) {
      K = newK;
      C3 = newC3;
      fprintf(f, "date,code,score");
      for (int k = 0; k < K && factor_unit; k++) fprintf(f, ",f%d", k + 1);
      if (C3) fprintf(f, ",p_down,p_neutral,p_up");
      fprintf(f, "\n");
      header = 1;
    } else if (newK != K || newC3 != C3) {
      rc = zz_fail(err, ZZ_EDATA, "year %d: model has %d factor-unit columns%s, earlier years %d%s", year, newK,
                   newC3 ? " (class3 head)" : "", K, C3 ? " (class3 head)" : "");
      break;
    }
    free(x), free(h);
    x = malloc((size_t)N * (size_t)pp->seq * (size_t)pp->n_feat * sizeof *x);
    h = malloc((size_t)N * (size_t)(K > 0 ? K : 1) * sizeof *h);
    if (!x || !h) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory for scoring");
      break;
    }
    years++;
    for (int t = 0; t < p->n_dates && !rc; t++) {
      if (p->dates[t] / 10000 != year || (weekly && !is_end[t])) continue;
      int n = 0;
      for (int i = 0; i < p->n_stocks; i++)
        if (elig[panel_at(p, t, i)] && feat_valid(fc, t, i)) idx[n++] = i;
      if (n < 2) continue;
      feat_batch(fc, pp, t, idx, n, x);
      for (int r = 0; r < n; r++) acc[r] = 0;
      for (int r = 0; r < n * NN_CLASSES; r++) pacc[r] = 0;
      const int nm_used = lm ? 1 : n_seeds;
      for (int k = 0; k < nm_used; k++) {
        if (lm) {
          lin_predict(lm, x, n, s);
        } else if ((rc = nn_score(nm[k], w, x, n, pp->seq, C3 ? lg : k == 0 && K ? h : NULL, s, err))) {
          zz_wrap(err, "scoring %d", (int)p->dates[t]);
          break;
        }
        if (C3) /* the softmax of the logits (down, neutral, up), averaged over the seeds */
          for (int r = 0; r < n; r++) {
            const float *u = lg + (size_t)r * NN_CLASSES;
            const double mx = fmax(u[0], fmax(u[1], u[2]));
            double e[NN_CLASSES], sum = 0;
            for (int c = 0; c < NN_CLASSES; c++) sum += e[c] = exp(u[c] - mx);
            for (int c = 0; c < NN_CLASSES; c++) pacc[(size_t)r * NN_CLASSES + c] += e[c] / sum / nm_used;
          }
        zscore(s, n, z);
        for (int r = 0; r < n; r++) acc[r] += z[r] / nm_used;
      }
      if (rc) break;
      if (K) { /* the first seed's factor unit: batch-normalised head outputs per column */
        for (int k = 0; k < K; k++) {
          double m = 0, v = 0;
          for (int r = 0; r < n; r++) m += h[(size_t)r * K + k];
          m /= n;
          for (int r = 0; r < n; r++) v += (h[(size_t)r * K + k] - m) * (h[(size_t)r * K + k] - m);
          const double sd = sqrt(v / n + 1e-5);
          for (int r = 0; r < n; r++) h[(size_t)r * K + k] = (float)((h[(size_t)r * K + k] - m) / sd);
        }
      }
      char db[16], nb[40];
      zz_date_format(p->dates[t], db);
      for (int r = 0; r < n; r++) {
        if (mat) mat[panel_at(p, t, idx[r])] = acc[r]; /* the value written: zz_fmt_double round-trips */
        fprintf(f, "%s,%s,%s", db, p->stocks[idx[r]].code, zz_fmt_double(nb, sizeof nb, acc[r]));
        for (int k = 0; k < K && factor_unit; k++) fprintf(f, ",%s", zz_fmt_double(nb, sizeof nb, h[(size_t)r * K + k]));
        for (int c = 0; c < NN_CLASSES && C3; c++)
          fprintf(f, ",%s", zz_fmt_double(nb, sizeof nb, pacc[(size_t)r * NN_CLASSES + c]));
        fputc('\n', f);
      }
      rows += n;
    }
    for (int k = 0; k < n_seeds; k++) nn_free(nm[k]), nm[k] = NULL;
    lin_free(lm), lm = NULL;
    feat_prep_free(pp), pp = NULL;
    feat_free(fc), fc = NULL;
  }
  if (!rc && years == 0)
    rc = zz_fail(err, ZZ_EUSAGE, "no models for %d..%d in %s: run 'zhizeng train' first", y0, y1, dir);
out:
  for (int k = 0; k < SCORE_MAX_SEEDS; k++) nn_free(nm[k]);
  lin_free(lm);
  feat_prep_free(pp);
  feat_free(fc);
  nn_work_free(w);
  free(idx), free(wk), free(is_end), free(elig), free(s), free(h), free(x), free(z), free(acc), free(lg), free(pacc);
  if (fclose(f) && !rc) rc = zz_fail(err, ZZ_EIO, "%s: write failed", tmp_path);
  if (!rc && rename(tmp_path, path)) rc = zz_fail(err, ZZ_EIO, "%s: cannot rename into place", path);
  if (rc) remove(tmp_path);
  else fprintf(stderr, "score: %ld rows (%d years) -> %s\n", rows, years, path);
  return rc;
}

int score_write_ex(const panel *p, const char *dir, int y0, int y1, int weekly, int factor_unit,
                   const panel_universe_opts *u, const char *path, zz_err *err) {
  return score_run(p, dir, y0, y1, weekly, factor_unit, u, path, NULL, err);
}

int score_write_keep(const panel *p, const char *dir, int y0, int y1, const panel_universe_opts *u, const char *path,
                     double **scores, zz_err *err) {
  *scores = NULL;
  const size_t cells = (size_t)p->n_dates * (size_t)p->n_stocks;
  double *mat = malloc(sizeof *mat * (cells ? cells : 1));
  if (!mat) return zz_fail(err, ZZ_ENOMEM, "out of memory for the score matrix");
  for (size_t k = 0; k < cells; k++) mat[k] = NAN;
  int rc = score_run(p, dir, y0, y1, 0, 0, u, path, mat, err);
  if (rc) free(mat);
  else *scores = mat;
  return rc;
}
