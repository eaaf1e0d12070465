/* test_explain_planted.c — LRP explanations (issue 15 item 3) of a model trained on the synthetic market
 * (docs/synthetic_market.md): a small GRU is trained on `zhizeng synth`'s market (1,900 stocks, 2018-07 ..
 * 2020-01) and explain_run explains its output on a 2020 date, at epsilon 1e-6 in double. Checks:
 *   - conservation: for every stock, the input relevances plus the bias relevances give the explained output
 *     within 1e-3 relative; a one-layer net has no layer-2 bias relevance;
 *   - the explained output is the score the model gives (the univariate head's output) to 1e-4;
 *   - the planted alpha's cells carry at least twice their share of the cells: the planted alpha's terms with
 *     windows of at most 5 days, a1 (five-day return z5 = close lags 0 and 5 of the window's close-relative
 *     prices; volume surge zv = volume lags 0..2) and a3 (close vs vwap over 3 days: close and vwap lags 0..2),
 *     10 (feature, lag) cells, must hold at least 2 x 10 / (F T) of the mean |R| over the stocks (a2's 10- to
 *     40-day windows spread over more cells than the window has and are left out);
 *   - explain_write / explain_read give back every value; --codes explains a subset with the same relevances;
 *     a code not scored that day and a date not in the calendar are refused.
 * usage: test_explain_planted TMPDIR */
#include "model.h"
#include "test_train_common.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int feat_index(const explain_result *r, const char *name) {
  for (int f = 0; f < r->F; f++)
    if (!strcmp(r->features[f], name)) return f;
  return -1;
}

int main(int argc, char **argv) {
  const char *tmp = argc > 1 ? argv[1] : ".";
  int fails = 0, stopped = 0;
  zz_err err = {0};
  char mkt[4096], truth[4200], models[4200], out[4200];
  snprintf(mkt, sizeof mkt, "%s/explain_market", tmp);
  snprintf(truth, sizeof truth, "%s/truth", mkt);
  snprintf(models, sizeof models, "%s/explain_models", tmp);
  snprintf(out, sizeof out, "%s/explain_out", tmp);
  tt_clean_dir(models);
  tt_clean_dir(out);
  synth_opts so;
  synth_default_opts(&so);
  so.n_stocks = 1900;
  so.start = 20180701;
  so.end = 20200131;
  so.n_industries = 5;
  so.oracle_paths = 1;
  int rc = synth_write(mkt, &so, NULL, &err);
  TT_CHECK(rc == 0, "synth: %s", err.msg);
  panel *p = NULL;
  if (!rc) rc = panel_load(mkt, NULL, &p, &err);
  TT_CHECK(rc == 0, "panel_load: %s", err.msg);
  if (rc) return 1;
  train_opts to;
  train_default_opts(&to);
  to.seq = 20;
  to.net.hidden = 16;
  to.net.dropout = 0;
  to.epochs = 3;
  to.patience = 3;
  to.seeds = 1;
  to.train_years = 1;
  to.threads = 2;
  to.day_stride = 2;
  to.progress = 0;
  rc = train_year(p, &to, 2020, models, &stopped, &err);
  TT_CHECK(rc == 0 && !stopped, "train: %s", err.msg);
  int32_t date = 0;
  for (int t = 0; t < p->n_dates && !date; t++)
    if (p->dates[t] >= 20200115) date = p->dates[t];
  explain_result *r = NULL, *back = NULL, *sub = NULL;
  if (!rc) rc = explain_run(p, models, date, NULL, 0, 1e-6, &r, &err);
  TT_CHECK(rc == 0, "explain_run: %s", err.msg);
  if (rc) return 1;
  TT_CHECK(r->n >= 1000 && r->T == 20 && r->F == FEAT_DAY_N, "explained %d stocks x %d lags x %d features", r->n, r->T,
           r->F);
  double worst_cons = 0, worst_out = 0;
  for (int i = 0; i < r->n; i++) {
    double s = 0;
    for (size_t k = 0; k < (size_t)r->T * r->F; k++) s += r->rel[(size_t)i * r->T * r->F + k];
    for (int k = 0; k < NN_LRP_PARTS; k++) s += r->bias[(size_t)i * NN_LRP_PARTS + k];
    const double e = fabs(s - r->out[i]) / fmax(fabs(r->out[i]), 1e-300);
    worst_cons = fmax(worst_cons, e);
    worst_out = fmax(worst_out, fabs(r->out[i] - r->score[i]) / fmax(1, fabs(r->score[i])));
    TT_CHECK(r->bias[(size_t)i * NN_LRP_PARTS + NN_LRP_LAYER2] == 0, "%s: layer-2 bias relevance in a 1-layer net",
             r->codes[i]);
  }
  printf("conservation: worst |inputs + bias - output| / |output| = %.3g over %d stocks\n", worst_cons, r->n);
  printf("explained output vs the model's float score: worst difference %.3g\n", worst_out);
  TT_CHECK(worst_cons <= 1e-3, "inputs + bias relevances miss the output by %g relative", worst_cons);
  TT_CHECK(worst_out <= 1e-4, "the explained output differs from the score by %g", worst_out);
  /* the planted cells */
  double *cell = malloc(sizeof *cell * (size_t)r->T * r->F), *bf = malloc(sizeof *bf * (size_t)r->F),
         *bl = malloc(sizeof *bl * (size_t)r->T);
  explain_shares(r, cell, bf, bl);
  const struct {
    const char *f;
    int lag;
  } planted[] = {{"close", 0}, {"close", 5}, {"volume", 0}, {"volume", 1}, {"volume", 2},
                 {"close", 1}, {"close", 2}, {"vwap", 0},   {"vwap", 1},   {"vwap", 2}};
  const int np = (int)(sizeof planted / sizeof planted[0]);
  double share = 0, sf = 0, sl = 0;
  for (int k = 0; k < np; k++) {
    const int f = feat_index(r, planted[k].f);
    TT_CHECK(f >= 0, "no feature %s", planted[k].f);
    if (f >= 0) share += cell[(size_t)planted[k].lag * r->F + f];
  }
  for (int f = 0; f < r->F; f++) sf += bf[f];
  for (int l = 0; l < r->T; l++) sl += bl[l];
  const double cells = (double)np / (r->T * r->F);
  printf("planted cells: %d of %d cells (%.2f%% of the cells) hold %.2f%% of the mean |R| (%.2f x)\n", np,
         r->T * r->F, 100 * cells, 100 * share, share / cells);
  printf("share by feature:");
  for (int f = 0; f < r->F; f++) printf(" %s %.3f", r->features[f], bf[f]);
  printf("\nshare by lag:");
  for (int l = 0; l < r->T; l++) printf(" %d:%.3f", l, bl[l]);
  printf("\n");
  TT_CHECK(share >= 2 * cells, "planted cells hold %.4f of the mean |R|, less than twice their %.4f of the cells", share,
           cells);
  TT_CHECK(fabs(sf - 1) < 1e-12 && fabs(sl - 1) < 1e-12, "shares by feature / lag sum to %.15g / %.15g", sf, sl);
  { /* an untrained net of the same shape (re-initialised weights, same preprocessing), for comparison */
    char mp[4300], cdir[4300];
    snprintf(mp, sizeof mp, "%s/Y2020_seed0.zzm", models);
    snprintf(cdir, sizeof cdir, "%s/untrained.zzm", tmp);
    nn_model *m = NULL;
    explain_result *u = NULL;
    rc = nn_load(&m, mp, NULL, NULL, &err);
    if (!rc) nn_init(m, 12345), rc = nn_save(m, cdir, NULL, 0, &err);
    if (!rc) rc = explain_run(p, cdir, date, NULL, 0, 1e-6, &u, &err);
    TT_CHECK(rc == 0, "untrained net: %s", err.msg);
    if (!rc) {
      explain_shares(u, cell, bf, bl);
      double us = 0;
      for (int k = 0; k < np; k++) us += cell[(size_t)planted[k].lag * r->F + feat_index(r, planted[k].f)];
      printf("untrained net of the same shape: the planted cells hold %.2f%% of the mean |R| (%.2f x)\n", 100 * us,
             us / cells);
    }
    explain_free(u);
    nn_free(m);
    unlink(cdir);
  }
  free(cell), free(bf), free(bl);
  /* the files, read back */
  rc = explain_write(r, out, &err);
  TT_CHECK(rc == 0, "explain_write: %s", err.msg);
  if (!rc) rc = explain_read(out, &back, &err);
  TT_CHECK(rc == 0, "explain_read: %s", err.msg);
  if (!rc) {
    int same = back->n == r->n && back->T == r->T && back->F == r->F && back->date == r->date;
    for (int i = 0; same && i < r->n; i++) {
      same = !strcmp(back->codes[i], r->codes[i]) && back->out[i] == r->out[i] && back->score[i] == r->score[i];
      for (int k = 0; same && k < NN_LRP_PARTS; k++)
        same = back->bias[(size_t)i * NN_LRP_PARTS + k] == r->bias[(size_t)i * NN_LRP_PARTS + k];
    }
    for (size_t k = 0; same && k < (size_t)r->n * r->T * r->F; k++) same = back->rel[k] == r->rel[k];
    for (int f = 0; same && f < r->F; f++) same = !strcmp(back->features[f], r->features[f]);
    TT_CHECK(same, "explain_read does not give back what explain_write wrote");
  }
  /* a subset of codes: the same relevances (the univariate head explains each row on its own) */
  const char *codes[2] = {r->codes[r->n - 1], r->codes[3]};
  rc = explain_run(p, models, date, codes, 2, 1e-6, &sub, &err);
  TT_CHECK(rc == 0 && sub->n == 2, "explain_run --codes: %s", err.msg);
  if (!rc) {
    const size_t tf = (size_t)r->T * r->F;
    TT_CHECK(!strcmp(sub->codes[0], r->codes[3]) && !memcmp(sub->rel, r->rel + 3 * tf, tf * sizeof(double)) &&
                 !memcmp(sub->rel + tf, r->rel + (size_t)(r->n - 1) * tf, tf * sizeof(double)),
             "the subset's relevances differ from the full run's");
  }
  { /* refusals */
    explain_result *bad = NULL;
    int scored = 1, i = 0;
    for (; i < p->n_stocks && scored; i++) { /* a stock of the market that is not scored that day */
      scored = 0;
      for (int k = 0; k < r->n && !scored; k++) scored = !strcmp(r->codes[k], p->stocks[i].code);
    }
    const char *c1[1] = {p->stocks[i - 1].code};
    TT_CHECK(!scored && explain_run(p, models, date, c1, 1, 1e-6, &bad, &err) == ZZ_EDATA && !bad,
             "an unscored code must be refused with ZZ_EDATA");
    TT_CHECK(explain_run(p, models, 20200118, NULL, 0, 1e-6, &bad, &err) == ZZ_EUSAGE && !bad,
             "a Saturday must be refused with ZZ_EUSAGE");
  }
  explain_free(r), explain_free(back), explain_free(sub);
  panel_free(p);
  tt_clean_dir(models);
  tt_clean_dir(out);
  tt_clean_dir(truth);
  tt_clean_dir(mkt);
  if (fails) fprintf(stderr, "%d check(s) failed\n", fails);
  return fails ? 1 : 0;
}
