/* cmd_score.c — `zhizeng score`: out-of-sample scores of trained models (SPEC 4) into scores.csv. */
#include "cli.h"
#include "data.h"
#include "model.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
  printf("usage: zhizeng score --market DIR --models MODELDIR --out FILE (--year Y | --years A-B) [--freq daily|weekly]\n\n"
         "Scores every trading day (daily, for factor tests) or the last trading day of each week (weekly, for the\n"
         "portfolio) of each year with that year's models from 'zhizeng train' (MODELDIR/Y<year>_seed<k>.zzm, or\n"
         "the ridge baseline Y<year>_seed0.lin). A score on day t uses only data on or before t and a model\n"
         "trained on data before the year began. The seeds' scores are z-scored per date and averaged.\n"
         "FILE is CSV: date,code,score and, for the multivariate head, f1..fK (the first seed's\n"
         "batch-normalised factor unit); for the class3 head p_down,p_neutral,p_up (the seeds' mean class\n"
         "probabilities; score = P(up) - P(down), z-scored per date and averaged over seeds).\n"
         "Stocks suspended that day, ST that day, listed fewer than 60 trading\n"
         "days (see --keep-st, --min-listed-days) or without a full valid window are absent.\n\n"
         "options:\n"
         "  --market DIR      market directory\n"
         "  --models MODELDIR models written by 'zhizeng train'\n"
         "  --out FILE        output CSV (written atomically)\n"
         "  --year Y | --years A-B  years to score (years without models are skipped with a message)\n"
         "  --freq daily|weekly  (daily)\n"
         "  --keep-st         also score ST / *ST stock-days (default: not scored; by bars.csv's is_st, else\n"
         "                    derived from 5 %% up_limit; with neither a warning says ST is not excluded)\n"
         "  --min-listed-days N  no score in a stock's first N-1 trading days after listing (60; 0: none)\n"
         "  -h, --help        this help\n");
}

int cmd_score(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  const char *market = NULL, *models = NULL, *out = NULL;
  int y0 = 0, y1 = 0, weekly = 0;
  panel_universe_opts u;
  panel_universe_init(&u);
  enum { O_MARKET = 256, O_MODELS, O_OUT, O_YEAR, O_YEARS, O_FREQ, O_KEEP_ST, O_MIN_LISTED };
  static const struct option lo[] = {{"market", required_argument, 0, O_MARKET}, {"models", required_argument, 0, O_MODELS},
                                     {"out", required_argument, 0, O_OUT},       {"year", required_argument, 0, O_YEAR},
                                     {"years", required_argument, 0, O_YEARS},   {"freq", required_argument, 0, O_FREQ},
                                     {"keep-st", no_argument, 0, O_KEEP_ST},
                                     {"min-listed-days", required_argument, 0, O_MIN_LISTED},
                                     {0, 0, 0, 0}};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case O_MARKET: market = optarg; break;
    case O_MODELS: models = optarg; break;
    case O_OUT: out = optarg; break;
    case O_YEAR: {
      char *end;
      long y = strtol(optarg, &end, 10);
      if (end == optarg || *end || y < 1990 || y > 2100) return cli_usage_error("score", "--year '%s': expected a year", optarg);
      y0 = y1 = (int)y;
      break;
    }
    case O_YEARS:
      if (sscanf(optarg, "%d-%d", &y0, &y1) != 2 || y0 < 1990 || y1 > 2100 || y1 < y0)
        return cli_usage_error("score", "--years '%s': expected A-B, e.g. 2018-2023", optarg);
      break;
    case O_FREQ:
      if (!strcmp(optarg, "daily")) weekly = 0;
      else if (!strcmp(optarg, "weekly")) weekly = 1;
      else return cli_usage_error("score", "--freq '%s': expected daily or weekly", optarg);
      break;
    case O_KEEP_ST: u.exclude_st = 0; break;
    case O_MIN_LISTED: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (end == optarg || *end || v < 0 || v > 10000)
        return cli_usage_error("score", "--min-listed-days '%s': expected 0..10000", optarg);
      u.min_listed_days = (int)v;
      break;
    }
    default: return cli_usage_error("score", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("score", "unexpected argument '%s'", argv[optind]);
  if (!market || !models || !out) return cli_usage_error("score", "--market, --models and --out are required");
  if (!y0) return cli_usage_error("score", "give the year(s) to score: --year Y or --years A-B");
  zz_err err = {0};
  panel *p = NULL;
  int rc = panel_load(market, NULL, &p, &err);
  if (!rc && panel_universe_st_source(p, &u) == PANEL_ST_UNKNOWN)
    fprintf(stderr, "zhizeng score: warning: bars.csv has neither is_st nor up_limit: ST stocks cannot be told "
                    "and are scored (ST not excluded)\n");
  if (!rc) rc = score_write_ex(p, models, y0, y1, weekly, 1, &u, out, &err);
  panel_free(p);
  if (rc) fprintf(stderr, "zhizeng score: %s\n", err.msg);
  return zz_exit_code(rc);
}
