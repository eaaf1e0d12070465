/* test_train_causality.c — no information from after a date reaches a score on or before it:
 * train year 2019 and score it daily; then change every input (prices, volumes, market caps) after a
 * date D, retrain and rescore. Every score on or before D must be bit-identical, and the models too
 * (they see nothing of 2019: the purge keeps validation labels before the scoring year). Done for D
 * in mid-2019 and for D = the last day of 2018. Scores after D must change (the test can fail).
 * usage: test_train_causality TMPDIR */
#include "model.h"
#include "test_train_common.h"

static char *read_all(const char *path) {
  size_t n = 0;
  unsigned char *b = tt_slurp(path, &n);
  if (b) b[n] = 0;
  return (char *)b;
}

/* Lines of a scores file with date <= d (YYYY-MM-DD compares as text), concatenated. */
static char *lines_upto(const char *text, const char *d, int after) {
  size_t n = strlen(text);
  char *out = malloc(n + 1);
  size_t o = 0;
  const char *line = strchr(text, '\n') + 1; /* skip header */
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line + 1) : strlen(line);
    const int le = strncmp(line, d, 10) <= 0;
    if (le != after) memcpy(out + o, line, len), o += len;
    line += len;
  }
  out[o] = 0;
  return out;
}

int main(int argc, char **argv) {
  const char *tmp = argc > 1 ? argv[1] : ".";
  int fails = 0, stopped = 0;
  zz_err err = {0};
  train_opts o;
  train_default_opts(&o);
  o.seq = 10, o.net.hidden = 8, o.epochs = 3, o.patience = 3, o.seeds = 2, o.train_years = 2;

  char dir0[4096], s0[4200];
  snprintf(dir0, sizeof dir0, "%s/causal_0", tmp);
  snprintf(s0, sizeof s0, "%s/causal_0.csv", tmp);
  for (int k = 0; k < 3; k++) {
    char dk[4200];
    snprintf(dk, sizeof dk, "%s/causal_%d", tmp, k);
    tt_clean_dir(dk);
  }
  panel *p = tt_panel(2016, 2019, 30, 5);
  int rc = train_year(p, &o, 2019, dir0, &stopped, &err);
  if (!rc) rc = score_write(p, dir0, 2019, 2019, 0, s0, &err);
  TT_CHECK(rc == 0, "baseline: %s", err.msg);
  char *base = read_all(s0);
  TT_CHECK(base != NULL, "no scores");
  const int score0 = panel_date_at_or_before(p, 20181231) + 1;
  const int cuts[2] = {score0 + 100, score0 - 1};
  for (int c = 0; c < 2 && base; c++) {
    const int D = cuts[c];
    panel *q = tt_panel(2016, 2019, 30, 5);
    tt_state = 999 + (uint64_t)c;
    for (int t = D + 1; t < q->n_dates; t++)
      for (int i = 0; i < q->n_stocks; i++) {
        const size_t k = panel_at(q, t, i);
        const double m = exp(0.3 * tt_normal());
        const int fs[7] = {PF_OPEN, PF_HIGH, PF_LOW, PF_CLOSE, PF_VWAP, PF_FLOAT_MV, PF_TOTAL_MV};
        for (int j = 0; j < 7; j++) q->f[fs[j]][k] *= m;
        q->f[PF_VOLUME][k] *= 1 + 5 * tt_uniform();
      }
    char dir1[4096], s1[4200], d[16];
    snprintf(dir1, sizeof dir1, "%s/causal_%d", tmp, c + 1);
    snprintf(s1, sizeof s1, "%s/causal_%d.csv", tmp, c + 1);
    rc = train_year(q, &o, 2019, dir1, &stopped, &err);
    if (!rc) rc = score_write(q, dir1, 2019, 2019, 0, s1, &err);
    TT_CHECK(rc == 0, "perturbed: %s", err.msg);
    for (int k = 0; k < 2; k++) {
      char ma[4300], mb[4300];
      snprintf(ma, sizeof ma, "%s/Y2019_seed%d.zzm", dir0, k);
      snprintf(mb, sizeof mb, "%s/Y2019_seed%d.zzm", dir1, k);
      TT_CHECK(tt_same_file(ma, mb), "D=%d: model %d changed when inputs after D changed", (int)q->dates[D], k);
    }
    char *pert = read_all(s1);
    zz_date_format(q->dates[D], d);
    char *a0 = lines_upto(base, d, 0), *a1 = pert ? lines_upto(pert, d, 0) : NULL;
    char *b0 = lines_upto(base, d, 1), *b1 = pert ? lines_upto(pert, d, 1) : NULL;
    TT_CHECK(a1 && !strcmp(a0, a1), "D=%s: scores on or before D changed", d);
    TT_CHECK(c == 1 || strlen(a0) > 1000, "D=%s: too few scores before D to test (%zu bytes)", d, strlen(a0));
    TT_CHECK(b1 && strlen(b0) > 1000 && strcmp(b0, b1) != 0, "D=%s: scores after D did not change", d);
    free(a0), free(a1), free(b0), free(b1), free(pert);
    panel_free(q);
  }
  free(base);
  panel_free(p);
  if (fails) fprintf(stderr, "%d checks failed\n", fails);
  return fails ? 1 : 0;
}
