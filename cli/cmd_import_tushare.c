/* cmd_import_tushare.c — `zhizeng import tushare --src DIR --out MARKET [--start DATE] [--end DATE] [--quiet]`:
 * tushare CSV exports to a market directory (tushare_import in data/import_tushare.c), validated and
 * summarised as `zhizeng ingest` does. */
#include "cli.h"
#include "data.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void import_tushare_help(FILE *f) {
  fprintf(f,
          "usage: zhizeng import tushare --src DIR --out MARKET [--start DATE] [--end DATE] [--quiet]\n\n"
          "Reads tushare exports saved as CSV in DIR, one or more files per API (NAME.csv or NAME_*.csv, e.g.\n"
          "daily_2019.csv, daily_2020.csv), in tushare's units, and writes the market directory MARKET:\n"
          "  required  daily, index_daily (000300.SH/000905.SH/000852.SH), index_weight\n"
          "  optional  adj_factor, daily_basic (circ_mv, total_mv), stock_basic, index_classify + index_member\n"
          "            (SW level 1), stk_limit (limits), suspend_d (suspensions), namechange (ST names)\n"
          "bars.csv is in shares and CNY (vol x 100, amount x 1000, *_mv x 10000). MARKET/IMPORT.txt lists the\n"
          "files used, the derivations and what was missing. MARKET is then loaded as 'zhizeng ingest' does and\n"
          "summarised.\n\n"
          "  --src DIR      directory of tushare CSV exports (required)\n"
          "  --out MARKET   market directory to create: absent or an empty directory (required)\n"
          "  --start DATE   first date kept (YYYY-MM-DD or YYYYMMDD)\n"
          "  --end DATE     last date kept\n"
          "  --quiet        no warnings on stderr\n\n"
          "Errors name file:line:column. Exit codes: 0 ok, 2 usage, 3 invalid data, 4 i/o, 5 out of memory.\n"
          "On any error nothing is left in MARKET. See docs/market_data.md, \"From tushare exports\".\n");
}

int cmd_import_tushare(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    import_tushare_help(stdout);
    return 0;
  }
  static const struct option longopts[] = {{"src", required_argument, NULL, 's'},
                                           {"out", required_argument, NULL, 'o'},
                                           {"start", required_argument, NULL, 'a'},
                                           {"end", required_argument, NULL, 'e'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {NULL, 0, NULL, 0}};
  const char *src = NULL, *out = NULL;
  tushare_import_opts o;
  tushare_import_init(&o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 's': src = optarg; break;
      case 'o': out = optarg; break;
      case 'a':
        if (zz_date_parse(optarg, &o.start))
          return cli_usage_error("import", "--start: expected a date YYYY-MM-DD or YYYYMMDD, found '%s'", optarg);
        break;
      case 'e':
        if (zz_date_parse(optarg, &o.end))
          return cli_usage_error("import", "--end: expected a date YYYY-MM-DD or YYYYMMDD, found '%s'", optarg);
        break;
      case 'q': o.verbose = 0; break;
      case ':': return cli_usage_error("import", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("import", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("import", "unexpected argument '%s'", argv[optind]);
  if (!src || !out) return cli_usage_error("import", "tushare: --src DIR and --out MARKET are required");
  panel *p = NULL;
  zz_err err = {0};
  int rc = tushare_import(src, out, &o, &p, &err);
  if (rc) {
    fprintf(stderr, "zhizeng import tushare: %s\n", err.msg);
    return zz_exit_code(rc);
  }
  printf("market:         %s (imported from tushare exports in %s; see %s/IMPORT.txt)\n", out, src, out);
  panel_print_summary(p, stdout);
  panel_free(p);
  return 0;
}
