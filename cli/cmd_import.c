/* cmd_import.c — `zhizeng import LAYOUT --src DIR --out MARKET [...]`: turns data researchers already hold
 * into a market directory (SPEC 2.1) and validates it. One file per layout: cmd_import_qlib.c,
 * cmd_import_tushare.c (each argv starts at the layout's name). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void import_help(FILE *f) {
  fprintf(f, "usage: zhizeng import qlib|tushare --src DIR --out MARKET [options]\n\n"
             "Writes a market directory (bars.csv, index_bars.csv, index_weights.csv, stocks.csv, industry.csv)\n"
             "from data in another layout and validates it as 'zhizeng ingest' does:\n"
             "  qlib      qlib's binary layout (calendars/, instruments/, features/<code>/<field>.day.bin)\n"
             "  tushare   tushare exports as CSV (daily, adj_factor, daily_basic, index_weight, ...)\n"
             "See 'zhizeng import qlib --help', 'zhizeng import tushare --help' and docs/market_data.md.\n");
}

int cmd_import(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    import_help(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "qlib")) return cmd_import_qlib(argc - 1, argv + 1);
  if (!strcmp(argv[1], "tushare")) return cmd_import_tushare(argc - 1, argv + 1);
  return cli_usage_error("import", "unknown layout '%s': expected qlib or tushare", argv[1]);
}
