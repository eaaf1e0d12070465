/* test_train_resume.c — training determinism and resume (issue 3 item 5) and bad input (item 6):
 *  1. training twice from scratch gives byte-identical model files;
 *  2. training stopped after k epochs (as if killed) and resumed, in two steps, gives byte-identical
 *     model files (all seeds) to the uninterrupted run;
 *  3. NaN / Inf injected into bars mask exactly the windows that contain them and training still
 *     ends with finite weights;
 *  4. the ridge baseline trains and reads back.
 * usage: test_train_resume TMPDIR */
#include "model.h"
#include "test_train_common.h"

#include <sys/stat.h>

static train_opts small_opts(void) {
  train_opts o;
  train_default_opts(&o);
  o.seq = 10;
  o.net.hidden = 8;
  o.net.dropout = 0.1;
  o.epochs = 4;
  o.patience = 2;
  o.seeds = 2;
  o.train_years = 2;
  return o;
}

int main(int argc, char **argv) {
  const char *tmp = argc > 1 ? argv[1] : ".";
  int fails = 0, stopped = 0;
  zz_err err = {0};
  char a[4096], b[4096], c[4096], pa[4200], pb[8400];
  snprintf(a, sizeof a, "%s/resume_a", tmp);
  snprintf(b, sizeof b, "%s/resume_b", tmp);
  snprintf(c, sizeof c, "%s/resume_c", tmp);
  const char *dirs[] = {"resume_a", "resume_b", "resume_c", "nan_run", "diverge", "multi", "linear"};
  for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
    snprintf(pb, sizeof pb, "%s/%s", tmp, dirs[k]);
    tt_clean_dir(pb);
  }
  panel *p = tt_panel(2016, 2019, 30, 11);
  train_opts o = small_opts();

  int rc = train_year(p, &o, 2019, a, &stopped, &err);
  TT_CHECK(rc == 0 && !stopped, "uninterrupted run: %s", err.msg);
  rc = train_year(p, &o, 2019, c, &stopped, &err);
  TT_CHECK(rc == 0, "second run: %s", err.msg);
  for (int k = 0; k < 2; k++) {
    snprintf(pa, sizeof pa, "%s/Y2019_seed%d.zzm", a, k);
    snprintf(pb, sizeof pb, "%s/Y2019_seed%d.zzm", c, k);
    TT_CHECK(tt_same_file(pa, pb), "two fresh runs differ: %s vs %s", pa, pb);
  }

  /* interrupted: 2 epochs, then 1 more, then to the end */
  o.stop_after_epochs = 2;
  rc = train_year(p, &o, 2019, b, &stopped, &err);
  TT_CHECK(rc == 0 && stopped == 1, "stop after 2 epochs: rc %d stopped %d %s", rc, stopped, err.msg);
  snprintf(pb, sizeof pb, "%s/Y2019_seed0.zzm", b);
  struct stat st;
  TT_CHECK(stat(pb, &st) != 0, "a final model exists after an interrupted run: %s", pb);
  o.resume = 1;
  o.stop_after_epochs = 1;
  rc = train_year(p, &o, 2019, b, &stopped, &err);
  TT_CHECK(rc == 0 && stopped == 1, "resume for 1 epoch: %s", err.msg);
  o.stop_after_epochs = 0;
  rc = train_year(p, &o, 2019, b, &stopped, &err);
  TT_CHECK(rc == 0 && !stopped, "resume to the end: %s", err.msg);
  for (int k = 0; k < 2; k++) {
    snprintf(pa, sizeof pa, "%s/Y2019_seed%d.zzm", a, k);
    snprintf(pb, sizeof pb, "%s/Y2019_seed%d.zzm", b, k);
    TT_CHECK(tt_same_file(pa, pb), "resumed model differs from the uninterrupted one: %s vs %s", pa, pb);
  }
  /* the training log covers every epoch exactly once after resuming */
  snprintf(pa, sizeof pa, "%s/Y2019_seed0.log.csv", a);
  snprintf(pb, sizeof pb, "%s/Y2019_seed0.log.csv", b);
  size_t na = 0, nb = 0;
  unsigned char *la = tt_slurp(pa, &na), *lb = tt_slurp(pb, &nb);
  int lines_a = 0, lines_b = 0;
  for (size_t j = 0; la && j < na; j++) lines_a += la[j] == '\n';
  for (size_t j = 0; lb && j < nb; j++) lines_b += lb[j] == '\n';
  TT_CHECK(lines_a >= 3 && lines_a == lines_b, "log lines %d vs %d", lines_a, lines_b);
  free(la), free(lb);

  /* a differently configured checkpoint is refused, not silently reused */
  o.net.hidden = 9;
  rc = train_year(p, &o, 2019, b, &stopped, &err);
  TT_CHECK(rc == ZZ_EUSAGE, "resuming with another hidden size: rc %d", rc);
  o.net.hidden = 8;

  /* bad input: NaN and Inf in bars are masked, never propagated */
  {
    const int t_nan = 300, i_nan = 7, t_inf = 320, i_inf = 9;
    p->f[PF_CLOSE][panel_at(p, t_nan, i_nan)] = NAN;
    p->f[PF_VOLUME][panel_at(p, t_inf, i_inf)] = INFINITY;
    feat_ctx *fc = NULL;
    rc = feat_create(&fc, p, "day", 10, &err);
    TT_CHECK(rc == 0, "%s", err.msg);
    for (int t = t_nan - 2; fc && t < t_nan + 12; t++) {
      const int expect_nan = !(t >= t_nan && t < t_nan + 10);
      TT_CHECK(feat_valid(fc, t, i_nan) == expect_nan, "NaN close: window ending %d valid=%d", t,
               feat_valid(fc, t, i_nan));
    }
    /* an Inf volume also poisons the 20-day volume means that include it */
    for (int t = t_inf; fc && t < t_inf + 29; t++)
      TT_CHECK(!feat_valid(fc, t, i_inf), "Inf volume: window ending %d is valid", t);
    TT_CHECK(fc && feat_valid(fc, t_inf + 29, i_inf), "window after the Inf volume is invalid");
    feat_free(fc);
    train_opts o2 = small_opts();
    o2.seeds = 1;
    snprintf(pa, sizeof pa, "%s/nan_run", tmp);
    rc = train_year(p, &o2, 2019, pa, &stopped, &err);
    TT_CHECK(rc == 0, "training on data with NaN/Inf: %s", err.msg);
    snprintf(pb, sizeof pb, "%s/Y2019_seed0.zzm", pa);
    nn_model *m = NULL;
    rc = nn_load(&m, pb, NULL, NULL, &err);
    TT_CHECK(rc == 0, "%s", err.msg);
    for (size_t j = 0; m && j < m->n_params; j++)
      if (!isfinite(m->params[j])) {
        TT_CHECK(0, "parameter %zu is not finite", j);
        break;
      }
    TT_CHECK(m && m->preprocessing && !strncmp(m->preprocessing, "feat_prep v1;dataset=day;seq=10", 31),
             "model carries its preprocessing");
    nn_free(m);
  }

  /* a diverging run stops on the non-finite loss, naming epoch and day, and leaves no model */
  {
    train_opts od = small_opts();
    od.seeds = 1;
    od.lr = 3e38; /* Adam steps of ~lr overflow float parameters within a few days */
    snprintf(pa, sizeof pa, "%s/diverge", tmp);
    rc = train_year(p, &od, 2019, pa, &stopped, &err);
    TT_CHECK(rc == ZZ_ENUMERIC && strstr(err.msg, "epoch 1, day 2016-"),
             "diverging run: rc %d: %s", rc, err.msg);
    snprintf(pb, sizeof pb, "%s/Y2019_seed0.zzm", pa);
    TT_CHECK(stat(pb, &st) != 0, "a model was written by a diverging run");
  }

  /* the multivariate head: scores carry the factor unit f1..fK */
  {
    train_opts om = small_opts();
    om.seeds = 1;
    om.epochs = 2;
    om.net.head = NN_HEAD_MULTIVARIATE;
    om.net.outputs = 4;
    snprintf(pa, sizeof pa, "%s/multi", tmp);
    rc = train_year(p, &om, 2019, pa, &stopped, &err);
    snprintf(pb, sizeof pb, "%s/multi_scores.csv", tmp);
    if (!rc) rc = score_write(p, pa, 2019, 2019, 1, pb, &err);
    TT_CHECK(rc == 0, "multivariate: %s", err.msg);
    size_t ns = 0;
    char *sc = (char *)tt_slurp(pb, &ns);
    TT_CHECK(sc && ns > 100 && !strncmp(sc, "date,code,score,f1,f2,f3,f4\n", 28), "multivariate scores header");
    free(sc);
  }

  /* the ridge baseline */
  {
    train_opts ol = small_opts();
    ol.linear = 1;
    snprintf(pa, sizeof pa, "%s/linear", tmp);
    rc = train_year(p, &ol, 2019, pa, &stopped, &err);
    TT_CHECK(rc == 0, "linear: %s", err.msg);
    snprintf(pb, sizeof pb, "%s/Y2019_seed0.lin", pa);
    snprintf(c, sizeof c, "%s/linear_scores.csv", tmp);
    rc = score_write(p, pa, 2019, 2019, 1, c, &err);
    TT_CHECK(rc == 0, "linear scores: %s", err.msg);
  }
  panel_free(p);
  if (fails) fprintf(stderr, "%d checks failed\n", fails);
  return fails ? 1 : 0;
}
