/* cmd_synth.c — `zhizeng synth --out DIR [--stocks N] [--start DATE] [--end DATE] [--seed S]
 * [--industries K] [--truth] [vendor conditions]`: writes a synthetic market directory (SPEC 2.4) and
 * prints the planted alpha's oracle RankIC. */
#include "cli.h"
#include "data.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void synth_help(FILE *f) {
  fprintf(f,
          "usage: zhizeng synth --out DIR [--stocks N] [--start DATE] [--end DATE] [--seed S]\n"
          "                     [--industries K] [--alpha-strength K] [--truth] [--oracle-paths K]\n"
          "                     [--oracle-anchor DATE] [--vendor] [--industry-coverage F]\n"
          "                     [--singleton-industries K] [--no-fundamentals] [--vendor-bars]\n"
          "                     [--weights daily|monthly] [--long-suspensions K] [--max-weight W]\n"
          "                     [--index-kind total|price]\n\n"
          "Writes a complete synthetic A-share market directory to DIR: bars.csv, index_weights.csv,\n"
          "index_bars.csv (CSI300/500/1000), stocks.csv, industry.csv, fundamentals.csv, and truth/ with\n"
          "the true daily factor returns (factor_returns.csv) and the planted alpha's oracle RankIC per\n"
          "sampled date (oracle_rankic.csv). Same options -> byte-identical files.\n"
          "See docs/synthetic_market.md for the model.\n\n"
          "  --out DIR        output directory (created; existing files of the same names are replaced)\n"
          "  --stocks N       number of stocks, 1900 .. 6000 (default 2400)\n"
          "  --start DATE     first written trading date, YYYY-MM-DD or YYYYMMDD (default 2010-01-01)\n"
          "  --end DATE       last date (default 2023-12-31)\n"
          "  --seed S         PRNG seed, a non-negative integer (default 1)\n"
          "  --industries K   number of industries, 2 .. 31 (default 31)\n"
          "  --alpha-strength K  strength of the planted alpha: daily expected return per unit of the\n"
          "                   signal's demeaned memory, 0 .. 0.1 (default %g, calibrated so\n"
          "                   that the demo's GRU scores a RankIC of 0.07-0.11; 0 = no signal)\n"
          "  --truth          also write truth/expected_return.csv: for each stock on each sampled date the\n"
          "                   oracle's score (expected alpha T+1 -> T+11 given the state at T), the\n"
          "                   conditional oracle's (given the memory at T only) and the alpha actually applied\n"
          "  --oracle-paths K Monte Carlo futures per sampled date for the oracle, 1 .. 1000 (default 16)\n"
          "  --oracle-anchor DATE  the oracle samples every 10th trading day through the first trading day\n"
          "                   on or after DATE (default: from the first written day); give a backtest's\n"
          "                   first day to sample on its factor tests' dates (zhizeng run does)\n\n"
          "Vendor conditions (a market as public vendor data gives it; the defaults write the clean market,\n"
          "byte for byte; truth/vendor.csv lists which stocks each condition touched):\n"
          "  --industry-coverage F   only a share F (0 .. 1, default 1) of the stocks, drawn from the seed, have\n"
          "                          rows in industry.csv; the others are absent (industry -1, unclassified)\n"
          "  --singleton-industries K  K extra industries Singleton01 .. each holding one CSI300 member, moved\n"
          "                          out of its industry (label only), 0 .. 20 (default 0)\n"
          "  --no-fundamentals       no fundamentals.csv: market caps only from bars.csv float_mv / total_mv\n"
          "  --vendor-bars           bars.csv without adj_factor and vwap (ingest derives them from pre_close\n"
          "                          and amount / volume), and no row at all on a suspended day\n"
          "  --weights daily|monthly index_weights.csv every trading day (default) or on the first written day\n"
          "                          and the last trading day of each month only\n"
          "  --long-suspensions K    K CSI300 / CSI500 members (alternately) suspended 30 .. 80 trading days\n"
          "                          inside the written period, staying members, 0 .. 50 (default 0)\n"
          "  --max-weight W          scale the largest CSI300 stock's share counts from the start so that its\n"
          "                          weight exceeds W on the first written date, 0 (off, default) .. 0.5\n"
          "  --index-kind total|price  index_bars.csv closes: total return (default) or price index (cash\n"
          "                          dividends not reinvested; total-return closes in truth/index_total_return.csv)\n"
          "  --vendor                all of them: coverage 0.12, 2 singleton industries, no fundamentals,\n"
          "                          vendor bars, monthly weights, 3 long suspensions, max weight 0.067, price\n"
          "                          index; any of the options above, wherever given, overrides its value\n\n"
          "Prints the oracle RankIC (the ceiling) and the conditional oracle RankIC (mean, IC_IR, number of\n"
          "dates) to stdout.\n"
          "Exit codes: 0 ok, 2 usage, 3 too few eligible stocks for the indices, 4 i/o, 5 out of memory.\n",
          SYNTH_ALPHA_STRENGTH);
}

static int parse_int(const char *s, long lo, long hi, long *v) {
  char *end;
  errno = 0;
  long x = strtol(s, &end, 10);
  if (errno || end == s || *end || x < lo || x > hi) return -1;
  *v = x;
  return 0;
}

/* A whole decimal number in [lo, hi]: 0, else -1. */
static int parse_num(const char *s, double lo, double hi, double *v) {
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (errno || end == s || *end || !(x >= lo && x <= hi)) return -1;
  *v = x;
  return 0;
}

int cmd_synth(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    synth_help(stdout);
    return 0;
  }
  static const struct option longopts[] = {
      {"out", required_argument, NULL, 'o'},   {"stocks", required_argument, NULL, 'n'},
      {"start", required_argument, NULL, 's'}, {"end", required_argument, NULL, 'e'},
      {"seed", required_argument, NULL, 'r'},  {"industries", required_argument, NULL, 'k'},
      {"truth", no_argument, NULL, 't'},       {"oracle-paths", required_argument, NULL, 'p'},
      {"vendor", no_argument, NULL, 'V'},      {"industry-coverage", required_argument, NULL, 'C'},
      {"singleton-industries", required_argument, NULL, 'S'},
      {"no-fundamentals", no_argument, NULL, 'F'},
      {"vendor-bars", no_argument, NULL, 'B'}, {"weights", required_argument, NULL, 'W'},
      {"long-suspensions", required_argument, NULL, 'L'},
      {"max-weight", required_argument, NULL, 'M'},
      {"index-kind", required_argument, NULL, 'I'},
      {"alpha-strength", required_argument, NULL, 'A'},
      {"oracle-anchor", required_argument, NULL, 'G'},
      {NULL, 0, NULL, 0}};
  synth_opts o, given; /* given: the vendor options set on the command line, applied over --vendor */
  synth_default_opts(&o);
  synth_default_opts(&given);
  int vendor = 0, set_cov = 0, set_single = 0, set_fund = 0, set_bars = 0, set_weights = 0, set_susp = 0,
      set_maxw = 0, set_kind = 0;
  const char *out = NULL;
  optind = 1;
  opterr = 0;
  int c;
  long v;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 'n':
        if (parse_int(optarg, 1900, 6000, &v))
          return cli_usage_error("synth", "--stocks '%s': expected an integer 1900 .. 6000 (CSI300 + CSI500 + "
                                 "CSI1000 need 1800 eligible names plus candidates)", optarg);
        o.n_stocks = (int)v;
        break;
      case 's':
      case 'e': {
        int32_t d;
        if (zz_date_parse(optarg, &d))
          return cli_usage_error("synth", "--%s '%s': expected a date YYYY-MM-DD or YYYYMMDD",
                                 c == 's' ? "start" : "end", optarg);
        if (c == 's') o.start = d;
        else o.end = d;
        break;
      }
      case 'r': {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(optarg, &end, 10);
        if (errno || end == optarg || *end || optarg[0] == '-')
          return cli_usage_error("synth", "--seed '%s': expected a non-negative integer", optarg);
        o.seed = (uint64_t)s;
        break;
      }
      case 'k':
        if (parse_int(optarg, 2, 31, &v))
          return cli_usage_error("synth", "--industries '%s': expected an integer 2 .. 31", optarg);
        o.n_industries = (int)v;
        break;
      case 't': o.truth_scores = 1; break;
      case 'p':
        if (parse_int(optarg, 1, 1000, &v))
          return cli_usage_error("synth", "--oracle-paths '%s': expected an integer 1 .. 1000", optarg);
        o.oracle_paths = (int)v;
        break;
      case 'A':
        if (parse_num(optarg, 0, 0.1, &o.alpha_strength))
          return cli_usage_error("synth", "--alpha-strength '%s': expected a number 0 .. 0.1", optarg);
        break;
      case 'G':
        if (zz_date_parse(optarg, &o.oracle_anchor))
          return cli_usage_error("synth", "--oracle-anchor '%s': expected a date YYYY-MM-DD or YYYYMMDD", optarg);
        break;
      case 'V': vendor = 1; break;
      case 'C':
        if (parse_num(optarg, 0, 1, &given.industry_coverage))
          return cli_usage_error("synth", "--industry-coverage '%s': expected a number 0 .. 1", optarg);
        set_cov = 1;
        break;
      case 'S':
        if (parse_int(optarg, 0, 20, &v))
          return cli_usage_error("synth", "--singleton-industries '%s': expected an integer 0 .. 20", optarg);
        given.singleton_industries = (int)v;
        set_single = 1;
        break;
      case 'F': given.no_fundamentals = set_fund = 1; break;
      case 'B': given.vendor_bars = set_bars = 1; break;
      case 'W':
        if (!strcmp(optarg, "daily")) given.weights = SYNTH_WEIGHTS_DAILY;
        else if (!strcmp(optarg, "monthly")) given.weights = SYNTH_WEIGHTS_MONTHLY;
        else return cli_usage_error("synth", "--weights '%s': expected daily or monthly", optarg);
        set_weights = 1;
        break;
      case 'L':
        if (parse_int(optarg, 0, 50, &v))
          return cli_usage_error("synth", "--long-suspensions '%s': expected an integer 0 .. 50", optarg);
        given.long_suspensions = (int)v;
        set_susp = 1;
        break;
      case 'M':
        if (parse_num(optarg, 0, 0.5, &given.max_weight))
          return cli_usage_error("synth", "--max-weight '%s': expected a fraction 0 (off) .. 0.5", optarg);
        set_maxw = 1;
        break;
      case 'I':
        if (!strcmp(optarg, "total")) given.index_kind = SYNTH_INDEX_TOTAL;
        else if (!strcmp(optarg, "price")) given.index_kind = SYNTH_INDEX_PRICE;
        else return cli_usage_error("synth", "--index-kind '%s': expected total or price", optarg);
        set_kind = 1;
        break;
      case ':': return cli_usage_error("synth", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("synth", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("synth", "unexpected argument '%s'", argv[optind]);
  if (vendor) synth_vendor_opts(&o);
  if (set_cov) o.industry_coverage = given.industry_coverage;
  if (set_single) o.singleton_industries = given.singleton_industries;
  if (set_fund) o.no_fundamentals = 1;
  if (set_bars) o.vendor_bars = 1;
  if (set_weights) o.weights = given.weights;
  if (set_susp) o.long_suspensions = given.long_suspensions;
  if (set_maxw) o.max_weight = given.max_weight;
  if (set_kind) o.index_kind = given.index_kind;
  if (!out) return cli_usage_error("synth", "--out DIR is required");
  if (o.start > o.end) return cli_usage_error("synth", "--start %d is after --end %d", (int)o.start, (int)o.end);
  fprintf(stderr, "zhizeng synth: %d stocks, %d .. %d, seed %" PRIu64 " -> %s\n", o.n_stocks, (int)o.start,
          (int)o.end, o.seed, out);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  synth_report rep;
  zz_err err = {0, ""};
  int rc = synth_write(out, &o, &rep, &err);
  if (rc) {
    fprintf(stderr, "zhizeng synth: %s\n", err.msg);
    return zz_exit_code(rc);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  fprintf(stderr, "zhizeng synth: wrote %d trading days x %d stocks in %.1f s\n", rep.n_dates, rep.n_stocks,
          (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
  printf("oracle RankIC (the ceiling: E[alpha T+1 -> T+11 | state at T] vs realised T+1 -> T+11, every 10 "
         "trading days): mean %.4f, IC_IR %.3f, %d dates\n",
         rep.oracle_rankic_mean, rep.oracle_rankic_ir, rep.n_ic_dates);
  printf("conditional oracle RankIC (expected alpha given the memory at T, ignoring future signal innovations; "
         "not a ceiling): mean %.4f, IC_IR %.3f\n",
         rep.oracle_cond_rankic_mean, rep.oracle_cond_rankic_ir);
  printf("alpha actually applied T+1 -> T+11 (diagnostic, not a ceiling: it reacts to the window's own "
         "shocks): mean RankIC %.4f\n",
         rep.drift_rankic_mean);
  if (o.max_weight > 0)
    printf("largest CSI300 weight on the first date: %.4f (--max-weight %g; see truth/vendor.csv)\n",
           rep.csi300_max_weight, o.max_weight);
  return 0;
}
