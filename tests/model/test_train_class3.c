/* test_train_class3.c — the class3 head's labels and training (issue 15 item 1):
 *  1. absolute labels: every stock-day against the rule (up r > up, down r < down, else neutral; NaN when the
 *     return is missing or the stock is unlisted / suspended on t), recomputed here from label_raw;
 *  2. rank labels: every stock-day against a brute-force average rank (count of smaller returns + half the
 *     ties), top / bottom fractions of that date's cross-section; dates with < 3 stocks are NaN;
 *  3. bad options are refused with a message naming them; the confusion matrix, accuracy, precision and
 *     recall on a hand example;
 *  4. train_year with head class3 (rank labels, class weights) on a panel with a learnable reversal signal:
 *     the model file keeps head and class weights, the validation RankIC of P(up) - P(down) is positive,
 *     and score_write gives out-of-sample scores whose mean daily RankIC against the raw return is positive;
 *     a second run gives byte-identical model files.
 * usage: test_train_class3 TMPDIR */
#include "model.h"
#include "test_train_common.h"

static int expect_abs(double r, const class3_label_opts *o) {
  return r > o->up ? NN_CLASS_UP : r < o->down ? NN_CLASS_DOWN : NN_CLASS_NEUTRAL;
}

int main(int argc, char **argv) {
  const char *tmp = argc > 1 ? argv[1] : ".";
  int fails = 0, stopped = 0;
  zz_err err = {0};
  panel *p = tt_panel(2016, 2019, 40, 21);
  const int T = p->n_dates, N = p->n_stocks;
  const size_t nn = (size_t)T * N;
  double *r = malloc(nn * sizeof *r), *y = malloc(nn * sizeof *y);
  TT_CHECK(label_raw(p, LABEL_SKIP, LABEL_HORIZON, r, &err) == 0, "label_raw: %s", err.msg);

  /* 1. absolute thresholds */
  class3_label_opts o;
  class3_label_init(&o);
  TT_CHECK(o.mode == CLASS3_ABSOLUTE && o.up == 0.03 && o.down == -0.03 && o.top == 0.3 && o.bottom == 0.3,
           "defaults: absolute, +-3 %%, 30 %% / 30 %%");
  TT_CHECK(class3_label_compute(p, r, &o, y, &err) == 0, "absolute: %s", err.msg);
  int bad = 0, count[3] = {0, 0, 0}, susp_seen = 0;
  for (int t = 0; t < T; t++)
    for (int i = 0; i < N; i++) {
      const size_t k = panel_at(p, t, i);
      const int ok = (p->flags[k] & PANEL_LISTED) && !(p->flags[k] & PANEL_SUSPENDED) && isfinite(r[k]);
      susp_seen += (p->flags[k] & PANEL_SUSPENDED) && isfinite(r[k]);
      if (!ok) {
        bad += !isnan(y[k]);
        continue;
      }
      const int c = expect_abs(r[k], &o);
      bad += y[k] != c;
      count[c]++;
    }
  TT_CHECK(bad == 0, "absolute labels: %d stock-days differ from the rule", bad);
  TT_CHECK(susp_seen > 0, "the panel should have suspended stock-days with a return (test of the NaN rule)");
  TT_CHECK(count[0] > 100 && count[1] > 100 && count[2] > 100, "absolute: classes down %d neutral %d up %d", count[0],
           count[1], count[2]);

  /* 2. cross-sectional rank, top 25 %, bottom 35 % */
  o.mode = CLASS3_RANK;
  o.top = 0.25;
  o.bottom = 0.35;
  TT_CHECK(class3_label_compute(p, r, &o, y, &err) == 0, "rank: %s", err.msg);
  bad = 0;
  int dates = 0;
  for (int t = 0; t < T; t++) {
    int n = 0;
    for (int i = 0; i < N; i++) {
      const size_t k = panel_at(p, t, i);
      n += (p->flags[k] & PANEL_LISTED) && !(p->flags[k] & PANEL_SUSPENDED) && isfinite(r[k]);
    }
    int cnt[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
      const size_t k = panel_at(p, t, i);
      const int ok = (p->flags[k] & PANEL_LISTED) && !(p->flags[k] & PANEL_SUSPENDED) && isfinite(r[k]);
      if (!ok || n < 3) {
        bad += !isnan(y[k]);
        continue;
      }
      double less = 0, same = 0;
      for (int j = 0; j < N; j++) {
        const size_t q = panel_at(p, t, j);
        if (!((p->flags[q] & PANEL_LISTED) && !(p->flags[q] & PANEL_SUSPENDED) && isfinite(r[q]))) continue;
        less += r[q] < r[k];
        same += r[q] == r[k];
      }
      const double a = less + (same + 1) / 2; /* average rank, 1-based */
      const int c = n + 1 - a <= n * o.top + 1e-9 ? NN_CLASS_UP : a <= n * o.bottom + 1e-9 ? NN_CLASS_DOWN : NN_CLASS_NEUTRAL;
      bad += y[k] != c;
      cnt[c]++;
    }
    if (n >= 20) {
      dates++;
      /* with distinct returns, exactly floor(n top) ups and floor(n bottom) downs */
      bad += cnt[NN_CLASS_UP] != (int)floor(n * o.top + 1e-9) || cnt[NN_CLASS_DOWN] != (int)floor(n * o.bottom + 1e-9);
    }
  }
  TT_CHECK(bad == 0, "rank labels: %d stock-days or date counts differ from the brute-force ranks", bad);
  TT_CHECK(dates > 500, "rank: only %d dates with >= 20 stocks", dates);

  /* 3. refusals */
  class3_label_opts b = o;
  b.top = 0.6, b.bottom = 0.5;
  TT_CHECK(class3_label_compute(p, r, &b, y, &err) == ZZ_EUSAGE && strstr(err.msg, "top + bottom"),
           "top + bottom > 1 must be refused: %s", err.msg);
  b = o;
  b.up = -0.05;
  TT_CHECK(class3_label_compute(p, r, &b, y, &err) == ZZ_EUSAGE && strstr(err.msg, "down < up"),
           "down >= up must be refused: %s", err.msg);
  double w[3];
  TT_CHECK(nn_class_weights_parse("1,0,2", w, &err) == ZZ_EUSAGE && nn_class_weights_parse("1,2", w, &err) &&
               nn_class_weights_parse("1,2,3,4", w, &err) && nn_class_weights_parse("2,0.5,1.5", w, &err) == 0 &&
               w[0] == 2 && w[1] == 0.5 && w[2] == 1.5,
           "class weight parsing");

  /* confusion matrix and its statistics on a hand example: true (down, down, neutral, up, up, up),
   * predicted (down, up, neutral, up, up, neutral); a NaN label and a NaN probability are left out */
  {
    const double yl[8] = {0, 0, 1, 2, 2, 2, NAN, 1};
    const double pd[8] = {.6, .2, .1, .1, .3, .2, .9, NAN}, pn[8] = {.3, .3, .8, .2, .3, .5, .05, .5},
                 pu[8] = {.1, .5, .1, .7, .4, .3, .05, .5};
    const double *const pr[3] = {pd, pn, pu};
    class3_confusion cm = {{{0}}};
    TT_CHECK(class3_confusion_add(&cm, yl, pr, 0, 8) == 6 && class3_confusion_total(&cm) == 6, "6 stock-days counted");
    TT_CHECK(cm.n[0][0] == 1 && cm.n[0][2] == 1 && cm.n[1][1] == 1 && cm.n[2][2] == 2 && cm.n[2][1] == 1,
             "confusion cells");
    TT_CHECK(fabs(class3_accuracy(&cm) - 4.0 / 6) < 1e-15, "accuracy %g", class3_accuracy(&cm));
    TT_CHECK(class3_precision(&cm, 0) == 1 && fabs(class3_precision(&cm, 1) - 0.5) < 1e-15 &&
                 fabs(class3_precision(&cm, 2) - 2.0 / 3) < 1e-15,
             "precision");
    TT_CHECK(fabs(class3_recall(&cm, 0) - 0.5) < 1e-15 && class3_recall(&cm, 1) == 1 &&
                 fabs(class3_recall(&cm, 2) - 2.0 / 3) < 1e-15,
             "recall");
    class3_confusion e = {{{0}}};
    TT_CHECK(isnan(class3_accuracy(&e)) && isnan(class3_precision(&e, 1)) && isnan(class3_recall(&e, 2)),
             "empty: NaN");
    const double tie[3] = {0.4, 0.4, 0.2};
    TT_CHECK(class3_predict(tie) == 0, "ties: the first class");
  }

  /* 4. training and scoring */
  char dir[4096], mp[4200];
  snprintf(dir, sizeof dir, "%s/class3_run", tmp);
  tt_clean_dir(dir);
  train_opts to;
  train_default_opts(&to);
  to.seq = 10;
  to.net.hidden = 8;
  to.net.head = NN_HEAD_CLASS3;
  to.net.outputs = NN_CLASSES;
  to.net.class_weight[NN_CLASS_NEUTRAL] = 0.75;
  to.class3 = o; /* rank labels */
  to.epochs = 4;
  to.patience = 4;
  to.seeds = 1;
  to.train_years = 2;
  to.lr = 3e-3;
  int rc = train_year(p, &to, 2019, dir, &stopped, &err);
  TT_CHECK(rc == 0 && !stopped, "train class3: %s", err.msg);
  snprintf(mp, sizeof mp, "%s/Y2019_seed0.zzm", dir);
  /* deterministic given the seed: a second run gives the same bytes */
  TT_CHECK(tt_rerun_same(p, &to, 2019, tmp, "class3_run2", mp, &err), "a second class3 run differs from the first (%s)",
           err.msg);
  nn_model *m = NULL;
  void *extra = NULL;
  size_t elen = 0;
  if (!rc && nn_load(&m, mp, &extra, &elen, &err) == 0) {
    TT_CHECK(m->cfg.head == NN_HEAD_CLASS3 && m->cfg.outputs == 3 && m->cfg.class_weight[NN_CLASS_NEUTRAL] == 0.75 &&
                 m->cfg.class_weight[NN_CLASS_UP] == 1.0,
             "model file: head %s, outputs %d, class weights %g,%g,%g", nn_head_name(m->cfg.head), m->cfg.outputs,
             m->cfg.class_weight[0], m->cfg.class_weight[1], m->cfg.class_weight[2]);
    const double val = tt_val_rankic(extra);
    printf("class3 (rank labels): best validation RankIC %.4f\n", val);
    TT_CHECK(val > 0.05, "validation RankIC of P(up) - P(down) %.4f: the reversal signal was not learned", val);
  } else {
    TT_CHECK(0, "load %s: %s", mp, err.msg);
  }
  nn_free(m);
  free(extra);
  score_table *st = tt_score_year(p, dir, 2019, &err);
  if (st) {
    TT_CHECK(st->n_cols == 4 && !strcmp(st->names[1], "p_down") && !strcmp(st->names[2], "p_neutral") &&
                 !strcmp(st->names[3], "p_up"),
             "class3 scores: score,p_down,p_neutral,p_up expected, found %d columns", st->n_cols);
    /* one seed: score = the per-date z-score of p_up - p_down; predicted classes of all three kinds exist */
    double worst = 0;
    int pred[3] = {0, 0, 0};
    double *v = malloc((size_t)N * sizeof *v), *zv = malloc((size_t)N * sizeof *zv);
    for (int t = 0; t < T && st->n_cols == 4; t++) {
      int n = 0;
      for (int i = 0; i < N; i++) {
        const size_t k = panel_at(p, t, i);
        v[i] = isfinite(st->values[0][k]) ? st->values[3][k] - st->values[1][k] : NAN;
        n += isfinite(v[i]);
        if (isfinite(v[i])) {
          const double pk[3] = {st->values[1][k], st->values[2][k], st->values[3][k]};
          pred[class3_predict(pk)]++;
        }
      }
      if (!n) continue;
      zz_zscore(v, N, zv);
      for (int i = 0; i < N; i++)
        if (isfinite(zv[i])) worst = fmax(worst, fabs(zv[i] - st->values[0][panel_at(p, t, i)]));
    }
    free(v), free(zv);
    TT_CHECK(worst < 1e-4, "score vs z-score of p_up - p_down: max |diff| %g", worst);
    printf("class3 predicted classes: down %d, neutral %d, up %d\n", pred[0], pred[1], pred[2]);
    int days = 0;
    const double ic = tt_mean_rankic(p, st->values[0], r, &days);
    printf("class3 out-of-sample 2019: mean daily RankIC %.4f over %d days\n", ic, days);
    TT_CHECK(days > 150 && ic > 0.05, "out-of-sample RankIC %.4f over %d days", ic, days);
    score_table_free(st);
  } else {
    TT_CHECK(0, "score class3 2019: %s", err.msg);
  }
  tt_clean_dir(dir);
  free(r), free(y);
  panel_free(p);
  if (fails) fprintf(stderr, "%d checks failed\n", fails);
  return fails ? 1 : 0;
}
