/* test_feat_dump.c — helper of ref_features.py: loads a market directory with panel_load, builds the
 * "day" features (sequence S), fits the preprocessing on dates [t0, t1] with stride 1 and writes
 * prep.csv, x.csv (preprocessed windows of every valid stock-day) and labels.csv (raw and neutralised
 * z-scored labels) to OUT for an independent numpy re-implementation to compare against.
 * usage: test_feat_dump MARKET OUT SEQ T0 T1 */
#include "data.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: test_feat_dump MARKET OUT SEQ T0 T1\n");
    return 2;
  }
  const int S = atoi(argv[3]), t0 = atoi(argv[4]), t1 = atoi(argv[5]);
  zz_err err = {0};
  panel *p = NULL;
  panel_load_opts lo = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  feat_ctx *c = NULL;
  feat_prep *pp = NULL;
  int rc = panel_load(argv[1], &lo, &p, &err);
  if (!rc) rc = feat_create(&c, p, "day", S, &err);
  if (!rc) rc = feat_prep_fit(c, t0, t1, 1, &pp, &err);
  if (rc) {
    fprintf(stderr, "test_feat_dump: %s\n", err.msg);
    return 1;
  }
  char path[4096], nb[40];
  snprintf(path, sizeof path, "%s/prep.csv", argv[2]);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "feature,med,mad,lo,hi,mean,std\n");
  for (int j = 0; j < pp->n_feat; j++) {
    fprintf(f, "%d", j);
    const double v[6] = {pp->med[j], pp->mad[j], pp->lo[j], pp->hi[j], pp->mean[j], pp->std[j]};
    for (int k = 0; k < 6; k++) fprintf(f, ",%s", zz_fmt_double(nb, sizeof nb, v[k]));
    fprintf(f, "\n");
  }
  fclose(f);
  /* the text form must round-trip exactly */
  char *s = feat_prep_to_string(pp);
  feat_prep *back = NULL;
  if (!s || feat_prep_from_string(s, &back, &err)) return 1;
  for (int j = 0; j < pp->n_feat; j++)
    if (back->mean[j] != pp->mean[j] || back->std[j] != pp->std[j] || back->lo[j] != pp->lo[j] || back->hi[j] != pp->hi[j]) {
      fprintf(stderr, "test_feat_dump: preprocessing text form does not round-trip (feature %d)\n", j);
      return 1;
    }
  free(s);
  feat_prep_free(back);

  const int F = feat_n_features(c), row = S * F;
  float *x = malloc((size_t)row * sizeof *x);
  snprintf(path, sizeof path, "%s/x.csv", argv[2]);
  f = fopen(path, "w");
  if (!f || !x) return 1;
  for (int t = 0; t < p->n_dates; t++)
    for (int i = 0; i < p->n_stocks; i++) {
      if (!feat_valid(c, t, i)) continue;
      feat_batch(c, pp, t, &i, 1, x);
      fprintf(f, "%d,%s", (int)p->dates[t], p->stocks[i].code);
      for (int j = 0; j < row; j++) fprintf(f, ",%.9g", (double)x[j]);
      fprintf(f, "\n");
    }
  fclose(f);
  free(x);

  const size_t n = (size_t)p->n_dates * (size_t)p->n_stocks;
  double *raw = malloc(n * sizeof *raw), *lab = malloc(n * sizeof *lab);
  if (!raw || !lab || label_raw(p, LABEL_SKIP, LABEL_HORIZON, raw, &err) ||
      label_compute(p, LABEL_SKIP, LABEL_HORIZON, NULL, lab, &err)) {
    fprintf(stderr, "test_feat_dump: %s\n", err.msg);
    return 1;
  }
  snprintf(path, sizeof path, "%s/labels.csv", argv[2]);
  f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "date,code,raw,label\n");
  for (int t = 0; t < p->n_dates; t++)
    for (int i = 0; i < p->n_stocks; i++) {
      const size_t k = panel_at(p, t, i);
      char a[40] = "", b[40] = "";
      if (isfinite(raw[k])) zz_fmt_double(a, sizeof a, raw[k]);
      if (isfinite(lab[k])) zz_fmt_double(b, sizeof b, lab[k]);
      fprintf(f, "%d,%s,%s,%s\n", (int)p->dates[t], p->stocks[i].code, a, b);
    }
  fclose(f);
  free(raw), free(lab);
  feat_prep_free(pp);
  feat_free(c);
  panel_free(p);
  return 0;
}
