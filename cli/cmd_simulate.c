/* cmd_simulate.c — `zhizeng simulate --market DIR --targets FILE --out DIR [options]`: runs the
 * event-driven simulator (sim/sim.h) on a file of target weights and writes nav.csv, trades.csv and
 * positions.csv. */
#include "cli.h"
#include "data.h"
#include "sim.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void simulate_help(FILE *f) {
  fprintf(f,
          "usage: zhizeng simulate --market DIR --targets FILE --out DIR [options]\n\n"
          "Simulates dated target weights day by day with A-share trading rules (docs/simulator.md): a target\n"
          "dated d trades on the next trading day at that day's VWAP; no buys of suspended or limit-up stocks,\n"
          "no sells of suspended or limit-down stocks, T+1, board lots (100; STAR 200 then 1; BSE 100 then 1),\n"
          "sells before buys, buys cut lot by lot to the cash and the leftover cash invested a lot at a time;\n"
          "orders sized in shares at the close of the target's date; dividends and splits through adjustment\n"
          "factors; delisted holdings sold at the last close. NAV, benchmark and hedged NAV start at the close\n"
          "of the first trade day (its fills-to-close move is the entry slippage in summary.csv); a day\n"
          "without the benchmark's close is an error (exit 3).\n\n"
          "  --market DIR          market directory (as for 'zhizeng ingest')\n"
          "  --targets FILE        CSV: date,code,weight[,exec_date]; each date is a full portfolio (codes not\n"
          "                        listed are sold; a row with code CASH or empty declares an empty one)\n"
          "  --out DIR             writes nav.csv, trades.csv, positions.csv, rebalances.csv, summary.csv\n"
          "  --index CODE          benchmark: 000300, 000905 (default), 000852, csi300..., or none\n"
          "  --capital X           initial capital in CNY (default 10000000)\n"
          "  --costs MODE          proportional (default: 0.1%% buy, 0.2%% sell), commission (0.025%%, min 5\n"
          "                        CNY per trade, plus stamp duty on sells: 0.1%% before 2023-08-28, 0.05%%\n"
          "                        from then), none, or seed004 (a preset: commission max(0.1%%, 5 CNY) on\n"
          "                        both sides, stamp duty max(0.1%%, 1 CNY) on sells)\n"
          "  --buy-rate R, --sell-rate R, --commission-rate R, --commission-min X   override the rates\n"
          "  --limit-test MODE     close (default: close at the limit blocks the day), sealed (open = high =\n"
          "                        low = close at the limit), vwap (VWAP at the limit)\n"
          "  --price P             execution price: vwap (default), close, open\n"
          "  --lag N               trading days from a target's date to its trade (default 1); 0 is refused\n"
          "                        unless --price close --allow-same-close (a trade at the close that\n"
          "                        produced the target: relaxes SPEC 10.1, for index-tracking studies)\n"
          "  --allow-same-close    allow --lag 0 with --price close\n"
          "  --lot N               board lot in shares (default 100; 0 = fractional shares)\n"
          "  --no-rules            no suspension, limit or T+1 checks\n"
          "  --ideal               fractional shares, no costs, no rules, trade at the close of the target date\n"
          "                        (holding index weights then tracks a total-return index exactly)\n"
          "  --end DATE            last simulated date (default: end of the market)\n"
          "  --hedge-cost C        annual cost of the index hedge (futures basis, e.g. 0.02), subtracted day\n"
          "                        by day (C / 252) from the hedged NAV (default 0)\n"
          "  --no-cache            do not read or write the market's binary cache\n\n"
          "Bad targets (unknown codes, non-trading dates, negative or non-finite weights, weights summing\n"
          "above 1) are refused with file:line and nothing is written.\n"
          "Exit codes: 0 ok, 2 usage, 3 invalid data, 4 i/o, 5 out of memory.\n");
}

int cmd_simulate(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    simulate_help(stdout);
    return 0;
  }
  enum { O_BUY = 256, O_SELL, O_COMM, O_CMIN, O_LIMIT, O_NORULES, O_IDEAL, O_NOCACHE, O_HEDGE, O_SAME };
  static const struct option longopts[] = {{"market", required_argument, NULL, 'm'},
                                           {"targets", required_argument, NULL, 't'},
                                           {"out", required_argument, NULL, 'o'},
                                           {"index", required_argument, NULL, 'i'},
                                           {"capital", required_argument, NULL, 'c'},
                                           {"costs", required_argument, NULL, 'k'},
                                           {"buy-rate", required_argument, NULL, O_BUY},
                                           {"sell-rate", required_argument, NULL, O_SELL},
                                           {"commission-rate", required_argument, NULL, O_COMM},
                                           {"commission-min", required_argument, NULL, O_CMIN},
                                           {"limit-test", required_argument, NULL, O_LIMIT},
                                           {"price", required_argument, NULL, 'p'},
                                           {"lag", required_argument, NULL, 'l'},
                                           {"lot", required_argument, NULL, 'L'},
                                           {"no-rules", no_argument, NULL, O_NORULES},
                                           {"ideal", no_argument, NULL, O_IDEAL},
                                           {"end", required_argument, NULL, 'e'},
                                           {"no-cache", no_argument, NULL, O_NOCACHE},
                                           {"hedge-cost", required_argument, NULL, O_HEDGE},
                                           {"allow-same-close", no_argument, NULL, O_SAME},
                                           {NULL, 0, NULL, 0}};
  const char *market = NULL, *targets = NULL, *outdir = NULL, *preset = NULL;
  sim_config cfg;
  sim_config_default(&cfg);
  /* options are applied after --ideal so that an explicit option wins whatever the order */
  int ideal = 0, same_close = 0, norules = 0, nocache = 0, lag = -1, index = PANEL_CSI500, costs = -1, limit = -1, price = -1;
  double capital = NAN, buy = NAN, sell = NAN, comm = NAN, cmin = NAN, lot = NAN, hedge = NAN;
  int32_t end = 0;
  optind = 1;
  opterr = 0;
  int c;
  double v;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 'm': market = optarg; break;
      case 't': targets = optarg; break;
      case 'o': outdir = optarg; break;
      case 'i':
        if (!strcmp(optarg, "none")) index = -1;
        else if ((index = zz_index_parse(optarg)) < 0)
          return cli_usage_error("simulate", "--index: unknown index '%s' (000300, 000905, 000852 or none)", optarg);
        break;
      case 'c':
        if (cli_parse_double(optarg, &capital) || capital <= 0)
          return cli_usage_error("simulate", "--capital: expected a positive number, found '%s'", optarg);
        break;
      case 'k':
        if (!strcmp(optarg, "seed004")) preset = optarg, costs = -1;
        else if (preset = NULL, (costs = sim_cost_mode_parse(optarg)) < 0)
          return cli_usage_error("simulate", "--costs: expected proportional, commission, none or seed004, found '%s'",
                                 optarg);
        break;
      case O_BUY:
      case O_SELL:
      case O_COMM:
      case O_CMIN:
        if (cli_parse_double(optarg, &v) || v < 0)
          return cli_usage_error("simulate", "%s: expected a number >= 0, found '%s'", argv[optind - 1], optarg);
        *(c == O_BUY ? &buy : c == O_SELL ? &sell : c == O_COMM ? &comm : &cmin) = v;
        break;
      case O_LIMIT:
        if ((limit = sim_limit_test_parse(optarg)) < 0)
          return cli_usage_error("simulate", "--limit-test: expected close, sealed or vwap, found '%s'", optarg);
        break;
      case 'p':
        if ((price = sim_price_parse(optarg)) < 0)
          return cli_usage_error("simulate", "--price: expected vwap, close or open, found '%s'", optarg);
        break;
      case 'l':
        if (cli_parse_double(optarg, &v) || v < 0 || v != floor(v) || v > 1000)
          return cli_usage_error("simulate", "--lag: expected a whole number of days >= 0, found '%s'", optarg);
        lag = (int)v;
        break;
      case 'L':
        if (cli_parse_double(optarg, &lot) || lot < 0)
          return cli_usage_error("simulate", "--lot: expected a number of shares >= 0, found '%s'", optarg);
        break;
      case O_NORULES: norules = 1; break;
      case O_SAME: same_close = 1; break;
      case O_IDEAL: ideal = 1; break;
      case O_NOCACHE: nocache = 1; break;
      case O_HEDGE:
        if (cli_parse_double(optarg, &hedge) || hedge < -1 || hedge > 1)
          return cli_usage_error("simulate", "--hedge-cost: expected an annual rate in [-1, 1], found '%s'", optarg);
        break;
      case 'e':
        if (zz_date_parse(optarg, &end)) return cli_usage_error("simulate", "--end: expected a date YYYY-MM-DD, found '%s'", optarg);
        break;
      case ':': return cli_usage_error("simulate", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("simulate", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("simulate", "unexpected argument '%s'", argv[optind]);
  if (!market || !targets || !outdir) return cli_usage_error("simulate", "--market DIR, --targets FILE and --out DIR are required");
  if (ideal) sim_config_ideal(&cfg);
  if (preset) sim_cost_preset(&cfg, preset);
  cfg.benchmark = index;
  cfg.end = end;
  if (norules) cfg.enforce_rules = 0;
  if (costs >= 0) cfg.costs = (sim_cost_mode)costs;
  if (limit >= 0) cfg.limit_test = (sim_limit_test)limit;
  if (price >= 0) cfg.exec_price = (sim_price)price;
  if (lag >= 0) cfg.exec_lag = lag;
  if (same_close) cfg.allow_same_close = 1;
  if (isfinite(capital)) cfg.capital = capital;
  if (isfinite(buy)) cfg.buy_rate = buy;
  if (isfinite(sell)) cfg.sell_rate = sell;
  if (isfinite(comm)) cfg.commission_rate = comm;
  if (isfinite(cmin)) cfg.commission_min = cmin;
  if (isfinite(lot)) cfg.lot = lot;
  if (isfinite(hedge)) cfg.hedge_cost = hedge;

  panel *p = NULL;
  sim_targets *tg = NULL;
  sim_result *r = NULL;
  zz_err err = {0};
  panel_load_opts o = {.cache_path = NULL, .use_cache = !nocache, .verbose = 1};
  int rc = sim_config_check(&cfg, &err);
  if (rc) return cli_usage_error("simulate", "%s", err.msg);
  rc = panel_load(market, &o, &p, &err);
  if (!rc) rc = sim_targets_read(targets, p, &tg, &err);
  if (!rc) {
    fprintf(stderr, "zhizeng simulate: %d target dates, %d stocks, %d trading days\n", sim_targets_count(tg),
            p->n_stocks, p->n_dates);
    rc = sim_run(p, tg, &cfg, &r, &err);
  }
  if (!rc) rc = sim_result_write(r, outdir, &err);
  if (rc) fprintf(stderr, "zhizeng simulate: %s\n", err.msg);
  else {
    size_t unfilled = 0;
    for (size_t k = 0; k < r->n_trades; k++) unfilled += r->trades[k].status == SIM_UNFILLED;
    fprintf(stderr, "zhizeng simulate: %d days, final nav %.6f, benchmark %.6f, hedged %.6f, %zu orders (%zu unfilled), costs %.2f CNY -> %s\n",
            r->n_days, r->nav[r->n_days - 1], r->benchmark[r->n_days - 1], r->hedged[r->n_days - 1], r->n_trades,
            unfilled, r->total_costs, outdir);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  panel_free(p);
  return zz_exit_code(rc);
}
