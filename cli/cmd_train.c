/* cmd_train.c — `zhizeng train`: yearly rolling training of GRU / LSTM scores (or the ridge
 * baseline) on a market directory, with checkpoints for --resume. */
#include "cli.h"
#include "data.h"
#include "model.h"

#include <cblas.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
  printf("usage: zhizeng train --market DIR --out MODELDIR (--year Y | --years A-B) [options]\n\n"
         "Trains one model per scoring year Y on the %d years before Y-1, validated on Y-1 (the last 11 trading\n"
         "days before the validation and scoring periods are purged: a label needs the close of T+11), with\n"
         "feature preprocessing fitted on the training period only. Writes MODELDIR/Y<year>_seed<k>.zzm (models,\n"
         "best epoch's weights), .ckpt (checkpoint after every epoch), .log.csv (epoch,train_loss,val_rankic,\n"
         "seconds,best,train_s,validate_s,batch_s: the epoch's seconds split into training and validation, and\n"
         "the batch preparation within training; with --cell act_lstm also ponder_steps, the mean ponder steps\n"
         "per time step); the ridge\n"
         "baseline writes MODELDIR/Y<year>_seed0.lin.\n\n"
         "options:\n"
         "  --market DIR          market directory (SPEC 2.1)\n"
         "  --out MODELDIR        output directory (created if missing)\n"
         "  --year Y | --years A-B  scoring year(s) to train models for\n"
         "  --dataset NAME        'day' (default: 6 daily price/volume features) or an extra features/NAME.csv\n"
         "  --cell gru|lstm|act_lstm|linear  network cell (gru); act_lstm = LSTM with Adaptive Computation Time\n"
         "                        (1 layer); linear = ridge on the flattened window (baseline)\n"
         "  --act-epsilon E --act-max-steps N --act-tau T  act_lstm: halting threshold (0.1), most ponder steps\n"
         "                        per time step (30), ponder cost weight (1e-3)\n"
         "  --head univariate|multivariate|class3  (univariate); class3: down / neutral / up classes of the raw\n"
         "                        T+1 -> T+11 return, softmax cross-entropy, score = P(up) - P(down)\n"
         "  --class-label absolute|rank  class3 labels: absolute thresholds (default) or cross-sectional rank\n"
         "  --class-up U --class-down D   absolute thresholds on the return (0.03, -0.03)\n"
         "  --class-top A --class-bottom B  rank: top and bottom fractions per date (0.3, 0.3)\n"
         "  --class-weights W     class3 cross-entropy weights 'down,neutral,up' (1,1,1)\n"
         "  --outputs K           factor-unit size of the multivariate head (64)\n"
         "  --lambda L            orthogonality penalty of the multivariate head (1)\n"
         "  --hidden H            hidden size (64)       --layers 1|2   stacked layers (1)\n"
         "  --dropout P           dropout rate (0.1)     --lr LR        Adam learning rate (1e-3)\n"
         "  --clip C              gradient clipping by value (3)\n"
         "  --seq T               sequence length in trading days (40)\n"
         "  --epochs N            maximum epochs (100)   --patience P   early-stopping patience (20)\n"
         "  --seeds S             models per year, their scores averaged (3)\n"
         "  --seed N              base seed (1); model k uses N + k\n"
         "  --train-years N       years of training history (10)\n"
         "  --threads 1|2         rows split over threads, each with single-threaded OpenBLAS (1)\n"
         "  --resume              continue from the checkpoints after an interruption (same final bytes)\n"
         "  --stop-after-epochs K (testing) stop after K epochs of this run, as if killed\n"
         "  --no-progress         no progress bar (it is shown only when stderr is a terminal)\n"
         "  --keep-st             keep ST / *ST stock-days in the labels (default: excluded, by bars.csv's is_st,\n"
         "                        else derived from 5 %% up_limit; with neither a warning says ST is not excluded)\n"
         "  --min-listed-days N   leave out a stock's first N-1 trading days after listing (60; 0: none)\n"
         "  -h, --help            this help\n\n"
         "Universe (docs/market_data.md, \"Universe screen\"): a stock-day is trained and validated on when the\n"
         "stock is listed, not ST that day and listed for at least N trading days, that day included.\n",
         10);
}

static int parse_int(const char *s, int lo, int hi, int *v) {
  char *end;
  long x = strtol(s, &end, 10);
  if (end == s || *end || x < lo || x > hi) return -1;
  *v = (int)x;
  return 0;
}

static int parse_dbl(const char *s, double lo, double hi, double *v) {
  char *end;
  double x = strtod(s, &end);
  if (end == s || *end || !(x >= lo && x <= hi)) return -1;
  *v = x;
  return 0;
}

int cmd_train(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  train_opts o;
  train_default_opts(&o);
  o.progress = 1;
  const char *market = NULL, *out = NULL;
  int y0 = 0, y1 = 0, outputs = 0;
  double lambda = 1.0;
  enum { O_MARKET = 256, O_OUT, O_YEAR, O_YEARS, O_DATASET, O_CELL, O_HEAD, O_OUTPUTS, O_LAMBDA, O_HIDDEN,
         O_LAYERS, O_DROPOUT, O_LR, O_CLIP, O_SEQ, O_EPOCHS, O_PATIENCE, O_SEEDS, O_SEED, O_TRAIN_YEARS,
         O_THREADS, O_RESUME, O_STOP, O_NOPROG, O_KEEP_ST, O_MIN_LISTED, O_CLASS_LABEL, O_CLASS_UP, O_CLASS_DOWN,
         O_CLASS_TOP, O_CLASS_BOTTOM, O_CLASS_WEIGHTS, O_ACT_EPS, O_ACT_MAX, O_ACT_TAU };
  int class_opts = 0; /* a --class-* option was given */
  static const struct option lo[] = {
      {"market", required_argument, 0, O_MARKET},   {"out", required_argument, 0, O_OUT},
      {"year", required_argument, 0, O_YEAR},       {"years", required_argument, 0, O_YEARS},
      {"dataset", required_argument, 0, O_DATASET}, {"cell", required_argument, 0, O_CELL},
      {"head", required_argument, 0, O_HEAD},       {"outputs", required_argument, 0, O_OUTPUTS},
      {"lambda", required_argument, 0, O_LAMBDA},   {"hidden", required_argument, 0, O_HIDDEN},
      {"layers", required_argument, 0, O_LAYERS},   {"dropout", required_argument, 0, O_DROPOUT},
      {"lr", required_argument, 0, O_LR},           {"clip", required_argument, 0, O_CLIP},
      {"seq", required_argument, 0, O_SEQ},         {"epochs", required_argument, 0, O_EPOCHS},
      {"patience", required_argument, 0, O_PATIENCE}, {"seeds", required_argument, 0, O_SEEDS},
      {"seed", required_argument, 0, O_SEED},       {"train-years", required_argument, 0, O_TRAIN_YEARS},
      {"threads", required_argument, 0, O_THREADS}, {"resume", no_argument, 0, O_RESUME},
      {"stop-after-epochs", required_argument, 0, O_STOP}, {"no-progress", no_argument, 0, O_NOPROG},
      {"keep-st", no_argument, 0, O_KEEP_ST},       {"min-listed-days", required_argument, 0, O_MIN_LISTED},
      {"class-label", required_argument, 0, O_CLASS_LABEL}, {"class-up", required_argument, 0, O_CLASS_UP},
      {"class-down", required_argument, 0, O_CLASS_DOWN}, {"class-top", required_argument, 0, O_CLASS_TOP},
      {"class-bottom", required_argument, 0, O_CLASS_BOTTOM}, {"class-weights", required_argument, 0, O_CLASS_WEIGHTS},
      {"act-epsilon", required_argument, 0, O_ACT_EPS}, {"act-max-steps", required_argument, 0, O_ACT_MAX},
      {"act-tau", required_argument, 0, O_ACT_TAU},
      {0, 0, 0, 0}};
  zz_err perr = {0};
  optind = 1;
  opterr = 0;
  int c, iv;
  double dv;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case O_MARKET: market = optarg; break;
    case O_OUT: out = optarg; break;
    case O_YEAR:
      if (parse_int(optarg, 1990, 2100, &y0)) return cli_usage_error("train", "--year '%s': expected a year", optarg);
      y1 = y0;
      break;
    case O_YEARS:
      if (sscanf(optarg, "%d-%d", &y0, &y1) != 2 || y0 < 1990 || y1 > 2100 || y1 < y0)
        return cli_usage_error("train", "--years '%s': expected A-B, e.g. 2018-2023", optarg);
      break;
    case O_DATASET: o.dataset = optarg; break;
    case O_CELL:
      if (!strcmp(optarg, "gru")) o.net.cell = NN_GRU;
      else if (!strcmp(optarg, "lstm")) o.net.cell = NN_LSTM;
      else if (!strcmp(optarg, "act_lstm")) o.net.cell = NN_ACT_LSTM;
      else if (!strcmp(optarg, "linear")) o.linear = 1;
      else return cli_usage_error("train", "--cell '%s': expected gru, lstm, act_lstm or linear", optarg);
      break;
    case O_ACT_EPS:
      if (parse_dbl(optarg, 1e-6, 0.999999, &o.net.act_epsilon))
        return cli_usage_error("train", "--act-epsilon '%s': expected a number in (0, 1)", optarg);
      break;
    case O_ACT_MAX:
      if (parse_int(optarg, 1, 1000, &o.net.act_max_steps))
        return cli_usage_error("train", "--act-max-steps '%s': expected 1..1000", optarg);
      break;
    case O_ACT_TAU:
      if (parse_dbl(optarg, 0, 1e6, &o.net.act_tau))
        return cli_usage_error("train", "--act-tau '%s': expected a number in 0..1e6", optarg);
      break;
    case O_HEAD:
      if ((iv = nn_head_parse(optarg)) < 0)
        return cli_usage_error("train", "--head '%s': expected univariate, multivariate or class3", optarg);
      o.net.head = (nn_head_kind)iv;
      break;
    case O_CLASS_LABEL:
      class_opts = 1;
      if (!strcmp(optarg, "absolute")) o.class3.mode = CLASS3_ABSOLUTE;
      else if (!strcmp(optarg, "rank")) o.class3.mode = CLASS3_RANK;
      else return cli_usage_error("train", "--class-label '%s': expected absolute or rank", optarg);
      break;
    case O_CLASS_UP:
    case O_CLASS_DOWN:
      class_opts = 1;
      if (parse_dbl(optarg, -10, 10, c == O_CLASS_UP ? &o.class3.up : &o.class3.down))
        return cli_usage_error("train", "--class-%s '%s': expected a return, e.g. %s", c == O_CLASS_UP ? "up" : "down",
                               optarg, c == O_CLASS_UP ? "0.03" : "-0.03");
      break;
    case O_CLASS_TOP:
    case O_CLASS_BOTTOM:
      class_opts = 1;
      if (parse_dbl(optarg, 1e-9, 1 - 1e-9, c == O_CLASS_TOP ? &o.class3.top : &o.class3.bottom))
        return cli_usage_error("train", "--class-%s '%s': expected a fraction in (0, 1)",
                               c == O_CLASS_TOP ? "top" : "bottom", optarg);
      break;
    case O_CLASS_WEIGHTS:
      class_opts = 1;
      if (nn_class_weights_parse(optarg, o.net.class_weight, &perr)) return cli_usage_error("train", "--class-weights: %s", perr.msg);
      break;
    case O_OUTPUTS:
      if (parse_int(optarg, 2, 4096, &outputs)) return cli_usage_error("train", "--outputs '%s': expected 2..4096", optarg);
      break;
    case O_LAMBDA:
      if (parse_dbl(optarg, 0, 1e6, &lambda)) return cli_usage_error("train", "--lambda '%s': expected >= 0", optarg);
      break;
    case O_HIDDEN:
      if (parse_int(optarg, 1, 4096, &o.net.hidden)) return cli_usage_error("train", "--hidden '%s': expected 1..4096", optarg);
      break;
    case O_LAYERS:
      if (parse_int(optarg, 1, 2, &o.net.layers)) return cli_usage_error("train", "--layers '%s': expected 1 or 2", optarg);
      break;
    case O_DROPOUT:
      if (parse_dbl(optarg, 0, 0.99, &o.net.dropout)) return cli_usage_error("train", "--dropout '%s': expected 0..0.99", optarg);
      break;
    case O_LR:
      if (parse_dbl(optarg, 1e-8, 10, &o.lr)) return cli_usage_error("train", "--lr '%s': expected a positive rate", optarg);
      break;
    case O_CLIP:
      if (parse_dbl(optarg, 1e-6, 1e6, &dv)) return cli_usage_error("train", "--clip '%s': expected > 0", optarg);
      o.clip = (float)dv;
      break;
    case O_SEQ:
      if (parse_int(optarg, 1, 1000, &o.seq)) return cli_usage_error("train", "--seq '%s': expected 1..1000", optarg);
      break;
    case O_EPOCHS:
      if (parse_int(optarg, 1, 100000, &o.epochs)) return cli_usage_error("train", "--epochs '%s': expected >= 1", optarg);
      break;
    case O_PATIENCE:
      if (parse_int(optarg, 1, 100000, &o.patience)) return cli_usage_error("train", "--patience '%s': expected >= 1", optarg);
      break;
    case O_SEEDS:
      if (parse_int(optarg, 1, 64, &o.seeds)) return cli_usage_error("train", "--seeds '%s': expected 1..64", optarg);
      break;
    case O_SEED:
      if (parse_int(optarg, 0, 2000000000, &iv)) return cli_usage_error("train", "--seed '%s': expected >= 0", optarg);
      o.seed = (uint64_t)iv;
      break;
    case O_TRAIN_YEARS:
      if (parse_int(optarg, 1, 50, &o.train_years)) return cli_usage_error("train", "--train-years '%s': expected 1..50", optarg);
      break;
    case O_THREADS:
      if (parse_int(optarg, 1, 2, &o.threads)) return cli_usage_error("train", "--threads '%s': expected 1 or 2", optarg);
      break;
    case O_RESUME: o.resume = 1; break;
    case O_STOP:
      if (parse_int(optarg, 1, 100000, &o.stop_after_epochs)) return cli_usage_error("train", "--stop-after-epochs '%s': expected >= 1", optarg);
      break;
    case O_NOPROG: o.progress = 0; break;
    case O_KEEP_ST: o.universe.exclude_st = 0; break;
    case O_MIN_LISTED:
      if (parse_int(optarg, 0, 10000, &o.universe.min_listed_days))
        return cli_usage_error("train", "--min-listed-days '%s': expected 0..10000", optarg);
      break;
    default: return cli_usage_error("train", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
  if (!market || !out) return cli_usage_error("train", "--market DIR and --out MODELDIR are required");
  if (!y0) return cli_usage_error("train", "give the scoring year(s): --year Y or --years A-B");
  o.net.lambda = lambda;
  if (o.net.head == NN_HEAD_MULTIVARIATE) o.net.outputs = outputs ? outputs : 64;
  else if (outputs) return cli_usage_error("train", "--outputs applies to --head multivariate only");
  else o.net.outputs = o.net.head == NN_HEAD_CLASS3 ? NN_CLASSES : 1;
  if (class_opts && (o.net.head != NN_HEAD_CLASS3 || o.linear))
    return cli_usage_error("train", "the --class-* options apply to --head class3 only");
  zz_err err = {0};
  if (class3_label_check(&o.class3, &err)) return cli_usage_error("train", "%s", err.msg);
  nn_config chk = o.net;
  if (nn_config_check(&chk, &err)) return cli_usage_error("train", "%s", err.msg);
  if (o.threads > 1) openblas_set_num_threads(1);

  panel *p = NULL;
  int rc = panel_load(market, NULL, &p, &err);
  if (!rc && panel_universe_st_source(p, &o.universe) == PANEL_ST_UNKNOWN)
    fprintf(stderr, "zhizeng train: warning: bars.csv has neither is_st nor up_limit: ST stocks cannot be told "
                    "and are trained on (ST not excluded)\n");
  for (int y = y0; y <= y1 && !rc; y++) {
    int stopped = 0;
    rc = train_year(p, &o, y, out, &stopped, &err);
    if (!rc && stopped) {
      fprintf(stderr, "train: stopped after %d epoch(s) as asked (--stop-after-epochs); continue with --resume\n",
              o.stop_after_epochs);
      break;
    }
  }
  panel_free(p);
  if (rc) fprintf(stderr, "zhizeng train: %s\n", err.msg);
  return zz_exit_code(rc);
}
