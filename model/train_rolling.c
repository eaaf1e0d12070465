/* train_rolling.c — yearly rolling retraining: the purged train / validation / scoring split of a
 * year, and training all seeds of that year on features and preprocessing fitted on its training
 * period only. See model.h. */
#include "model.h"
#include "train_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int first_of_year(const panel *p, int year) {
  for (int t = 0; t < p->n_dates; t++)
    if (p->dates[t] / 10000 >= year) return t;
  return p->n_dates;
}

int train_split_year(const panel *p, int year, int train_years, int seq, train_split *sp, zz_err *err) {
  memset(sp, 0, sizeof *sp);
  const int purge = LABEL_SKIP + LABEL_HORIZON;
  sp->year = year;
  sp->score0 = first_of_year(p, year);
  sp->score1 = first_of_year(p, year + 1) - 1;
  if (sp->score0 > sp->score1 || sp->score0 >= p->n_dates)
    return zz_fail(err, ZZ_EUSAGE, "year %d: no trading days in the market (%d..%d)", year, (int)p->dates[0],
                   (int)p->dates[p->n_dates - 1]);
  sp->val0 = first_of_year(p, year - 1);
  sp->val1 = sp->score0 - 1 - purge;
  if (sp->val0 >= sp->score0 || sp->val1 < sp->val0)
    return zz_fail(err, ZZ_EUSAGE, "year %d: no validation days in %d (the market starts %d)", year, year - 1,
                   (int)p->dates[0]);
  sp->train0 = first_of_year(p, year - 1 - train_years);
  if (p->dates[0] > (year - 1 - train_years) * 10000 + 115) sp->short_history = 1;
  sp->train1 = sp->val0 - 1 - purge;
  /* the first usable window needs seq days plus the volume mean's history */
  if (sp->train1 - sp->train0 + 1 < 20 || sp->train1 < seq + FEAT_VOL_WINDOW)
    return zz_fail(err, ZZ_EUSAGE,
                   "year %d: too little history before %d for training (%d trading days after purging, "
                   "sequence %d): score a later year",
                   year, year - 1, sp->train1 - sp->train0 + 1, seq);
  return ZZ_OK;
}

static int mkdir_p(const char *dir, zz_err *err) {
  if (mkdir(dir, 0777) && errno != EEXIST) return zz_fail(err, ZZ_EIO, "%s: cannot create directory", dir);
  return ZZ_OK;
}

int train_year(const panel *p, const train_opts *o, int year, const char *dir, int *stopped, zz_err *err) {
  *stopped = 0;
  train_split sp;
  int rc = train_split_year(p, year, o->train_years, o->seq, &sp, err);
  if (rc) return rc;
  if ((rc = mkdir_p(dir, err))) return rc;
  char d0[16], d1[16], v0[16], v1[16];
  fprintf(stderr, "year %d: training %s..%s, validation %s..%s (11-day purge before each)%s\n", year,
          zz_date_format(p->dates[sp.train0], d0), zz_date_format(p->dates[sp.train1], d1),
          zz_date_format(p->dates[sp.val0], v0), zz_date_format(p->dates[sp.val1], v1),
          sp.short_history ? "; less than the requested years of history exist, using all there is" : "");

  feat_ctx *fc = NULL;
  feat_prep *pp = NULL;
  char *prep_str = NULL;
  const size_t nn = (size_t)p->n_dates * (size_t)p->n_stocks;
  double *lab = malloc((nn ? nn : 1) * sizeof *lab), *ret = malloc((nn ? nn : 1) * sizeof *ret);
  uint8_t *elig = NULL;
  train_data d = {0};
  if (!lab || !ret) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for labels");
    goto out;
  }
  if ((rc = feat_create(&fc, p, o->dataset, o->seq, err))) goto out;
  /* preprocessing on the training period only; the stride keeps the sample near 2 million values */
  int stride = o->prep_stride;
  if (stride <= 0) {
    const double per_date = (double)p->n_stocks * o->seq;
    stride = (int)ceil((sp.train1 - sp.train0 + 1) * per_date / 2e6);
    if (stride < 1) stride = 1;
  }
  if ((rc = feat_prep_fit(fc, sp.train0, sp.train1, stride, &pp, err))) goto out;
  if (!(prep_str = feat_prep_to_string(pp))) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto out;
  }
  /* the universe screen (ST, new listings): an ineligible stock-day has no label and no validation return */
  if (!(elig = malloc(nn ? nn : 1))) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the universe mask");
    goto out;
  }
  const int class3 = !o->linear && o->net.head == NN_HEAD_CLASS3;
  if ((rc = panel_universe_mask(p, &o->universe, elig, NULL, err)) ||
      (!class3 && (rc = label_compute(p, LABEL_SKIP, LABEL_HORIZON, elig, lab, err))) ||
      (rc = label_raw(p, LABEL_SKIP, LABEL_HORIZON, ret, err)))
    goto out;
  for (size_t k = 0; k < nn; k++)
    if (!elig[k]) ret[k] = NAN;
  /* the class3 head learns class ids of the raw return (over the universe's stock-days), not the neutralised label */
  if (class3 && (rc = class3_label_compute(p, ret, &o->class3, lab, err))) goto out;
  const int N = p->n_stocks > 0 ? p->n_stocks : 1;
  const size_t row = (size_t)o->seq * (size_t)feat_n_features(fc);
  d = (train_data){.p = p, .fc = fc, .pp = pp, .prep_str = prep_str, .lab = lab, .ret = ret, .val_stride = o->day_stride};
  d.idx = malloc((size_t)N * sizeof *d.idx);
  d.x = malloc((size_t)N * row * sizeof *d.x);
  d.s = malloc((size_t)N * sizeof *d.s);
  d.a = malloc((size_t)N * sizeof *d.a);
  d.b = malloc((size_t)N * sizeof *d.b);
  if (!d.idx || !d.x || !d.s || !d.a || !d.b) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for batches of %d stocks", N);
    goto out;
  }
  char base[4096];
  if (o->linear) {
    snprintf(base, sizeof base, "%s/Y%d_seed0", dir, year);
    rc = lin_train(&d, &sp, base, err);
    goto out;
  }
  for (int k = o->first_seed > 0 ? o->first_seed : 0; k < o->seeds && !rc && !*stopped; k++) {
    snprintf(base, sizeof base, "%s/Y%d_seed%d", dir, year, k);
    rc = train_one_nn(&d, o, &sp, o->seed + (uint64_t)k, base, stopped, err);
  }
out:
  if (rc) zz_wrap(err, "training year %d", year);
  free(d.idx), free(d.x), free(d.s), free(d.a), free(d.b);
  free(lab), free(ret), free(prep_str), free(elig);
  feat_prep_free(pp);
  feat_free(fc);
  return rc;
}
