/* test_train_act.c — the ACT-LSTM cell through training and scoring (issue 15 item 2):
 * train_year with cell act_lstm (1 layer, N_max 5, tau 1e-2) on a panel with a learnable reversal signal:
 * the model file keeps the cell and its act_* settings; the training log has the column ponder_steps with
 * every epoch's mean ponder steps in [1, N_max]; the validation RankIC is positive; a second run gives
 * byte-identical model files; score_write gives out-of-sample scores whose mean daily RankIC against the raw
 * return is positive. A 2-layer act_lstm is refused.
 * usage: test_train_act TMPDIR */
#include "model.h"
#include "test_train_common.h"

int main(int argc, char **argv) {
  const char *tmp = argc > 1 ? argv[1] : ".";
  int fails = 0, stopped = 0;
  zz_err err = {0};
  panel *p = tt_panel(2016, 2019, 40, 21);
  const int T = p->n_dates, N = p->n_stocks;
  double *r = malloc((size_t)T * N * sizeof *r);
  TT_CHECK(label_raw(p, LABEL_SKIP, LABEL_HORIZON, r, &err) == 0, "label_raw: %s", err.msg);
  char dir[4096], mp[4200], lp[4200];
  snprintf(dir, sizeof dir, "%s/act_run", tmp);
  tt_clean_dir(dir);
  train_opts to;
  train_default_opts(&to);
  to.seq = 10;
  to.net.cell = NN_ACT_LSTM;
  to.net.hidden = 8;
  to.net.act_max_steps = 5;
  to.net.act_tau = 1e-2;
  to.epochs = 4;
  to.patience = 4;
  to.seeds = 1;
  to.train_years = 2;
  to.lr = 3e-3;
  to.threads = 2;
  { /* one layer only */
    train_opts bad = to;
    bad.net.layers = 2;
    char bdir[4200];
    snprintf(bdir, sizeof bdir, "%s/act_bad", tmp);
    int rc = train_year(p, &bad, 2019, bdir, &stopped, &err);
    TT_CHECK(rc == ZZ_EUSAGE && strstr(err.msg, "1 layer"), "a 2-layer act_lstm must be refused: %d %s", rc, err.msg);
    tt_clean_dir(bdir);
  }
  int rc = train_year(p, &to, 2019, dir, &stopped, &err);
  TT_CHECK(rc == 0 && !stopped, "train act_lstm: %s", err.msg);
  snprintf(mp, sizeof mp, "%s/Y2019_seed0.zzm", dir);
  snprintf(lp, sizeof lp, "%s/Y2019_seed0.log.csv", dir);
  /* deterministic given the seed */
  TT_CHECK(tt_rerun_same(p, &to, 2019, tmp, "act_run2", mp, &err), "a second act_lstm run differs from the first (%s)",
           err.msg);
  { /* the training log: ponder_steps per epoch */
    FILE *f = fopen(lp, "r");
    char line[512];
    int rows = 0;
    TT_CHECK(f && fgets(line, sizeof line, f) && !strcmp(line, "epoch,train_loss,val_rankic,seconds,best,train_s,validate_s,batch_s,ponder_steps\n"),
             "log header: %s", f ? line : "(no log)");
    while (f && fgets(line, sizeof line, f)) {
      const char *c = strrchr(line, ',');
      const double ps = c ? atof(c + 1) : NAN;
      printf("act_lstm log: %s", line);
      TT_CHECK(ps >= 1 && ps <= 5, "mean ponder steps %g outside [1, N_max = 5]: %s", ps, line);
      rows++;
    }
    if (f) fclose(f);
    TT_CHECK(rows == 4, "the log has %d epochs, expected 4", rows);
  }
  nn_model *m = NULL;
  void *extra = NULL;
  size_t elen = 0;
  if (!rc && nn_load(&m, mp, &extra, &elen, &err) == 0) {
    TT_CHECK(m->cfg.cell == NN_ACT_LSTM && m->cfg.act_max_steps == 5 && m->cfg.act_tau == 1e-2 &&
                 m->cfg.act_epsilon == 0.1,
             "model file: cell %s, act_max_steps %d, act_tau %g", nn_cell_name(m->cfg.cell), m->cfg.act_max_steps,
             m->cfg.act_tau);
    const double val = tt_val_rankic(extra);
    printf("act_lstm: best validation RankIC %.4f\n", val);
    TT_CHECK(val > 0.05, "validation RankIC %.4f: the reversal signal was not learned", val);
  } else {
    TT_CHECK(0, "load %s: %s", mp, err.msg);
  }
  nn_free(m);
  free(extra);
  score_table *st = tt_score_year(p, dir, 2019, &err);
  if (st) {
    int days = 0;
    const double ic = tt_mean_rankic(p, st->values[0], r, &days);
    printf("act_lstm out-of-sample 2019: mean daily RankIC %.4f over %d days\n", ic, days);
    TT_CHECK(days > 150 && ic > 0.05, "out-of-sample RankIC %.4f over %d days", ic, days);
    score_table_free(st);
  } else {
    TT_CHECK(0, "score act_lstm 2019: %s", err.msg);
  }
  tt_clean_dir(dir);
  free(r);
  panel_free(p);
  if (fails) fprintf(stderr, "%d checks failed\n", fails);
  return fails ? 1 : 0;
}
