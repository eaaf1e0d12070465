/* cmd_topn.c — `zhizeng topn`: the top-N strategy of seed 004 section 4 (equal weight on the N best-scored
 * stocks of a universe, rebalanced daily, weekly or monthly, with the seed's per-trade minimum fees), one
 * simulator run per N, compared side by side against the benchmark (pipeline/pipe_topn.c). */
#include "cli.h"
#include "data.h"
#include "model.h"
#include "pipeline.h"
#include "reports.h"
#include "sim.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOPN_MAX 8

static void help(void) {
  printf(
      "usage: zhizeng topn --market DIR --scores FILE --out DIR [options]\n\n"
      "Top-N strategy (seed 004 section 4): on each rebalance date d, equal weight (1 - cash) / N on the N\n"
      "best-scored stocks of the universe, decided at d's close with d's scores and traded exec_lag (1)\n"
      "trading days later by the simulator (VWAP, board lots, suspension / limit / T+1 rules, costs). Candidates\n"
      "on d: members of the universe's snapshot in force on d, eligible under the universe screen (no ST, listed\n"
      "60 trading days), with a score on d, that can be bought on d (not suspended, not at the up limit) or are\n"
      "held already. Ties: lower code first. A held stock outside the N is sold (refused by the simulator while\n"
      "it is suspended or at the down limit). One run per N, each in OUT/topN/ (the simulator's nav.csv,\n"
      "trades.csv, positions.csv, rebalances.csv, summary.csv, and targets.csv), and in OUT/ yearly.csv,\n"
      "summary.csv, report.md, report.html with the runs side by side against the benchmark.\n\n"
      "  --market DIR          market directory\n"
      "  --scores FILE         CSV date,code,score[,more columns] (zhizeng score's scores.csv)\n"
      "  --column NAME         score column to use (default: the first after code)\n"
      "  --out DIR             output directory\n"
      "  --universe IDX        csi300 (default), csi500, csi1000, or all (every listed stock)\n"
      "  --benchmark IDX       benchmark of the NAV (default: the universe's index; csi300 with all; or none)\n"
      "  --n LIST              numbers of stocks held, comma-separated (default 20,30,50,100; at most %d)\n"
      "  --rebalance F         daily (default, as the seed), weekly (last trading day of each ISO week),\n"
      "                        monthly (last trading day of each month)\n"
      "  --costs MODE          seed004 (default: commission max(0.1%%, 5 CNY) on both sides, stamp duty\n"
      "                        max(0.1%%, 1 CNY) on sells), proportional, commission, none\n"
      "  --commission-rate R, --commission-min X, --stamp-rate R, --stamp-min X   override the costs\n"
      "  --price P             execution price: vwap (default), close (the seed: next day's close), open\n"
      "  --limit-test MODE     close (default), sealed, vwap (see zhizeng simulate --help)\n"
      "  --lot N               board lot (100; 0 = fractional shares)\n"
      "  --capital X           initial capital in CNY (default 10000000)\n"
      "  --cash W              weight kept in cash (default 0)\n"
      "  --start DATE, --end DATE   first decision date, last simulated date\n"
      "  --keep-st             keep ST stocks in the universe\n"
      "  --min-listed N        trading days a stock must be listed to be bought (default 60; 0 = no rule)\n"
      "  --no-cache            do not read or write the market's binary cache\n\n"
      "Exit codes: 0 ok, 2 usage, 3 invalid data, 4 i/o, 5 out of memory.\n",
      TOPN_MAX);
}

static int parse_index(const char *s, int allow_all, int *out) {
  if (allow_all && !strcmp(s, "all")) return *out = -1, 0;
  if (!allow_all && !strcmp(s, "none")) return *out = -1, 0;
  return (*out = zz_index_parse(s)) < 0 ? -1 : 0;
}

int cmd_topn(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  enum { O_COL = 256, O_UNIV, O_BENCH, O_N, O_REB, O_COSTS, O_COMM, O_CMIN, O_SRATE, O_SMIN, O_PRICE, O_LIMIT, O_LOT,
         O_CAP, O_CASH, O_START, O_END, O_KEEPST, O_MINL, O_NOCACHE };
  static const struct option longopts[] = {
      {"market", required_argument, NULL, 'm'},       {"scores", required_argument, NULL, 's'},
      {"out", required_argument, NULL, 'o'},          {"column", required_argument, NULL, O_COL},
      {"universe", required_argument, NULL, O_UNIV},  {"benchmark", required_argument, NULL, O_BENCH},
      {"n", required_argument, NULL, O_N},            {"rebalance", required_argument, NULL, O_REB},
      {"costs", required_argument, NULL, O_COSTS},    {"commission-rate", required_argument, NULL, O_COMM},
      {"commission-min", required_argument, NULL, O_CMIN}, {"stamp-rate", required_argument, NULL, O_SRATE},
      {"stamp-min", required_argument, NULL, O_SMIN}, {"price", required_argument, NULL, O_PRICE},
      {"limit-test", required_argument, NULL, O_LIMIT}, {"lot", required_argument, NULL, O_LOT},
      {"capital", required_argument, NULL, O_CAP},    {"cash", required_argument, NULL, O_CASH},
      {"start", required_argument, NULL, O_START},    {"end", required_argument, NULL, O_END},
      {"keep-st", no_argument, NULL, O_KEEPST},       {"min-listed", required_argument, NULL, O_MINL},
      {"no-cache", no_argument, NULL, O_NOCACHE},     {NULL, 0, NULL, 0}};
  const char *market = NULL, *scores = NULL, *out = NULL, *column = NULL, *costs = "seed004";
  pipe_topn_opts to;
  pipe_topn_init(&to);
  int bench = -2, ns[TOPN_MAX] = {20, 30, 50, 100}, n_n = 4, price = -1, limit = -1, nocache = 0;
  double comm = NAN, cmin = NAN, srate = NAN, smin = NAN, lot = NAN, capital = NAN, v;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 'm': market = optarg; break;
      case 's': scores = optarg; break;
      case 'o': out = optarg; break;
      case O_COL: column = optarg; break;
      case O_UNIV:
        if (parse_index(optarg, 1, &to.universe))
          return cli_usage_error("topn", "--universe: expected csi300, csi500, csi1000 or all, found '%s'", optarg);
        break;
      case O_BENCH:
        if (parse_index(optarg, 0, &bench))
          return cli_usage_error("topn", "--benchmark: expected csi300, csi500, csi1000 or none, found '%s'", optarg);
        break;
      case O_N: {
        n_n = 0;
        char buf[256], *save = NULL;
        snprintf(buf, sizeof buf, "%s", optarg);
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
          if (n_n == TOPN_MAX) return cli_usage_error("topn", "--n: at most %d values", TOPN_MAX);
          if (cli_parse_double(tok, &v) || v < 1 || v != floor(v) || v > 100000)
            return cli_usage_error("topn", "--n: expected whole numbers >= 1, found '%s'", tok);
          ns[n_n++] = (int)v;
        }
        if (!n_n) return cli_usage_error("topn", "--n: expected a list such as 20,30,50,100");
        break;
      }
      case O_REB:
        if ((to.rebalance = pipe_rebalance_parse(optarg)) < 0)
          return cli_usage_error("topn", "--rebalance: expected daily, weekly or monthly, found '%s'", optarg);
        break;
      case O_COSTS:
        if (strcmp(optarg, "seed004") && sim_cost_mode_parse(optarg) < 0)
          return cli_usage_error("topn", "--costs: expected seed004, proportional, commission or none, found '%s'", optarg);
        costs = optarg;
        break;
      case O_COMM:
      case O_CMIN:
      case O_SRATE:
      case O_SMIN:
      case O_LOT:
      case O_CAP:
      case O_CASH:
        if (cli_parse_double(optarg, &v) || v < 0)
          return cli_usage_error("topn", "%s: expected a number >= 0, found '%s'", argv[optind - 1], optarg);
        *(c == O_COMM ? &comm : c == O_CMIN ? &cmin : c == O_SRATE ? &srate : c == O_SMIN ? &smin : c == O_LOT ? &lot
          : c == O_CAP ? &capital : &to.cash) = v;
        break;
      case O_PRICE:
        if ((price = sim_price_parse(optarg)) < 0)
          return cli_usage_error("topn", "--price: expected vwap, close or open, found '%s'", optarg);
        break;
      case O_LIMIT:
        if ((limit = sim_limit_test_parse(optarg)) < 0)
          return cli_usage_error("topn", "--limit-test: expected close, sealed or vwap, found '%s'", optarg);
        break;
      case O_START:
      case O_END:
        if (zz_date_parse(optarg, c == O_START ? &to.start : &to.end))
          return cli_usage_error("topn", "%s: expected a date YYYY-MM-DD, found '%s'", argv[optind - 1], optarg);
        break;
      case O_KEEPST: to.screen.exclude_st = 0; break;
      case O_MINL:
        if (cli_parse_double(optarg, &v) || v < 0 || v != floor(v) || v > 100000)
          return cli_usage_error("topn", "--min-listed: expected a whole number >= 0, found '%s'", optarg);
        to.screen.min_listed_days = (int)v;
        break;
      case O_NOCACHE: nocache = 1; break;
      case ':': return cli_usage_error("topn", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("topn", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("topn", "unexpected argument '%s'", argv[optind]);
  if (!market || !scores || !out) return cli_usage_error("topn", "--market DIR, --scores FILE and --out DIR are required");
  if (!(to.cash < 1)) return cli_usage_error("topn", "--cash: expected a weight below 1");
  sim_config cfg;
  sim_config_default(&cfg);
  if (!strcmp(costs, "seed004")) sim_cost_preset(&cfg, costs);
  else cfg.costs = (sim_cost_mode)sim_cost_mode_parse(costs);
  if (isfinite(comm)) cfg.commission_rate = comm;
  if (isfinite(cmin)) cfg.commission_min = cmin;
  if (isfinite(srate)) cfg.stamp_old = cfg.stamp_new = srate;
  if (isfinite(smin)) cfg.stamp_min = smin;
  if (isfinite(lot)) cfg.lot = lot;
  if (isfinite(capital)) cfg.capital = capital;
  if (price >= 0) cfg.exec_price = (sim_price)price;
  if (limit >= 0) cfg.limit_test = (sim_limit_test)limit;
  cfg.benchmark = bench != -2 ? bench : to.universe >= 0 ? to.universe : PANEL_CSI300;
  zz_err err = {0};
  int rc = sim_config_check(&cfg, &err);
  if (rc) return cli_usage_error("topn", "%s", err.msg);

  panel *p = NULL;
  score_table *st = NULL;
  panel_load_opts lo = {.cache_path = NULL, .use_cache = !nocache, .verbose = 1};
  rc = panel_load(market, &lo, &p, &err);
  if (!rc) rc = score_table_read(scores, p, &st, &err);
  int col = 0;
  if (!rc && column) {
    col = -1;
    for (int k = 0; k < st->n_cols; k++)
      if (!strcmp(st->names[k], column)) col = k;
    if (col < 0) rc = zz_fail(&err, ZZ_EUSAGE, "%s: no score column '%s'", scores, column);
  }
  char dirs[TOPN_MAX][4096], specs_buf[TOPN_MAX][4200];
  const char *specs[TOPN_MAX];
  sim_result *res[TOPN_MAX] = {0};
  sim_targets *tgs[TOPN_MAX] = {0};
  /* every run first, then the files: an error leaves nothing written */
  for (int k = 0; k < n_n && !rc; k++) {
    to.n = ns[k];
    if ((rc = pipe_topn_run(p, st->values[col], &to, &cfg, &tgs[k], &res[k], &err))) zz_wrap(&err, "top %d", ns[k]);
    else
      fprintf(stderr, "zhizeng topn: top %d, %s: %d days, %d rebalances, final nav %.6f, benchmark %.6f, costs %.2f CNY\n",
              ns[k], pipe_rebalance_name(to.rebalance), res[k]->n_days, res[k]->n_rebalances,
              res[k]->nav[res[k]->n_days - 1], res[k]->benchmark[res[k]->n_days - 1], res[k]->total_costs);
  }
  if (!rc) rc = zz_mkdir_p(out, &err);
  for (int k = 0; k < n_n && !rc; k++) {
    snprintf(dirs[k], sizeof dirs[k], "%s/top%d", out, ns[k]);
    char tpath[4200];
    snprintf(tpath, sizeof tpath, "%s/targets.csv", dirs[k]);
    if (!(rc = sim_result_write(res[k], dirs[k], &err))) rc = sim_targets_write(tgs[k], p, tpath, &err);
    snprintf(specs_buf[k], sizeof specs_buf[k], "top%d=%s", ns[k], dirs[k]);
    specs[k] = specs_buf[k];
  }
  for (int k = 0; k < n_n; k++) sim_result_free(res[k]), sim_targets_free(tgs[k]);
  score_table_free(st);
  panel_free(p);
  if (rc) {
    fprintf(stderr, "zhizeng topn: %s\n", err.msg);
    return zz_exit_code(rc);
  }
  char title[160];
  snprintf(title, sizeof title, "Top-N strategy: %s, %s rebalancing, against %s", to.universe >= 0 ? zz_index_name(to.universe) : "all stocks",
           pipe_rebalance_name(to.rebalance), cfg.benchmark >= 0 ? zz_index_name(cfg.benchmark) : "no benchmark");
  return cli_report_runs("topn", specs, n_n, out, title);
}
