/* test_pipe_model_additions.c — the two model-API additions the pipeline needs, on the training tests'
 * hand-built panel (tests/model/test_train_common.h):
 *   - train_opts.day_stride: 0 and 1 both mean every day (identical model bytes); 3 trains on fewer days
 *     (a different model) and still writes its model and log;
 *   - score_write_ex(factor_unit = 0): the header is date,code,score and every row is the first three
 *     fields of score_write's row (same dates, codes and score text), for a multivariate model. */
#include "model.h"
#include "model/test_train_common.h"

static int fails = 0;

static char *read_all(const char *path) {
  size_t n = 0;
  unsigned char *b = tt_slurp(path, &n);
  if (b) b[n] = 0;
  return (char *)b;
}

static int train_dir(const panel *p, const train_opts *o, const char *dir) {
  tt_clean_dir(dir);
  zz_err err = {0};
  int stopped = 0;
  int rc = train_year(p, o, 2019, dir, &stopped, &err);
  if (rc) fprintf(stderr, "train_year %s: %s\n", dir, err.msg);
  return rc;
}

int main(int argc, char **argv) {
  const char *base = argc > 1 ? argv[1] : ".";
  panel *p = tt_panel(2016, 2019, 30, 11);
  train_opts o;
  train_default_opts(&o);
  o.seq = 10;
  o.net.hidden = 8;
  o.epochs = 2;
  o.patience = 2;
  o.seeds = 1;
  o.train_years = 2;
  char d[3][4096], m[3][4200];
  const int strides[3] = {0, 1, 3};
  for (int k = 0; k < 3; k++) {
    snprintf(d[k], sizeof d[k], "%s/pipe_stride%d", base, strides[k]);
    snprintf(m[k], sizeof m[k], "%s/pipe_stride%d/Y2019_seed0.zzm", base, strides[k]);
    o.day_stride = strides[k];
    TT_CHECK(train_dir(p, &o, d[k]) == ZZ_OK, "stride %d", strides[k]);
  }
  TT_CHECK(tt_same_file(m[0], m[1]), "day_stride 0 and 1 must both train on every day");
  TT_CHECK(!tt_same_file(m[0], m[2]), "day_stride 3 must train on fewer days (a different model)");
  char logp[4300];
  snprintf(logp, sizeof logp, "%s/pipe_stride3/Y2019_seed0.log.csv", base);
  char *log = read_all(logp);
  TT_CHECK(log && !strncmp(log, "epoch,", 6), "stride 3 log %s", logp);
  free(log);

  /* score_write_ex without the factor unit */
  char dm[4096], full[4200], slim[4200];
  snprintf(dm, sizeof dm, "%s/pipe_multi", base);
  o.day_stride = 0;
  o.net.head = NN_HEAD_MULTIVARIATE;
  o.net.outputs = 4;
  TT_CHECK(train_dir(p, &o, dm) == ZZ_OK, "multivariate");
  snprintf(full, sizeof full, "%s/scores_full.csv", base);
  snprintf(slim, sizeof slim, "%s/scores_slim.csv", base);
  zz_err err = {0};
  TT_CHECK(score_write(p, dm, 2019, 2019, 1, full, &err) == ZZ_OK, "%s", err.msg);
  TT_CHECK(score_write_ex(p, dm, 2019, 2019, 1, 0, NULL, slim, &err) == ZZ_OK, "%s", err.msg);
  char *a = read_all(full), *b = read_all(slim);
  TT_CHECK(a && b, "score files");
  if (a && b) {
    TT_CHECK(!strncmp(a, "date,code,score,f1,f2,f3,f4\n", 28), "full header");
    TT_CHECK(!strncmp(b, "date,code,score\n", 16), "slim header");
    int rows = 0;
    char *sa = NULL, *sb = NULL;
    char *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);
    for (; la && lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb), rows++) {
      if (!rows) continue; /* headers checked above */
      char *c3 = la;
      for (int k = 0; k < 3 && c3; k++) c3 = strchr(c3 + (k > 0), ',');
      TT_CHECK(c3 && (size_t)(c3 - la) == strlen(lb) && !strncmp(la, lb, strlen(lb)), "row %d: '%s' vs '%s'", rows,
               la, lb);
      if (fails > 5) break;
    }
    TT_CHECK(!la && !lb, "same number of rows");
    TT_CHECK(rows > 40 * 1, "rows %d", rows);
  }
  free(a), free(b);
  panel_free(p);
  if (fails) {
    fprintf(stderr, "%d check(s) failed\n", fails);
    return 1;
  }
  printf("test_pipe_model_additions: ok\n");
  return 0;
}
