/* cmd_import_qlib.c — `zhizeng import qlib --src DIR --out MARKET [...]`: qlib's binary layout to a market
 * directory, validated as `zhizeng ingest` does (library: data/import_qlib.c). argv starts at "qlib". */
#include "cli.h"
#include "data.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void import_qlib_help(FILE *f) {
  fprintf(f,
          "usage: zhizeng import qlib --src DIR --out MARKET [--start DATE] [--end DATE] [--weights CSV]\n"
          "                           [--index-bars CSV] [--industry CSV] [--volume adjusted|raw] [--quiet]\n\n"
          "Reads qlib's binary layout (calendars/day.txt, instruments/all.txt and csi300|csi500|csi1000.txt,\n"
          "features/<code>/<field>.day.bin) and writes the market directory MARKET (bars.csv, index_bars.csv,\n"
          "index_weights.csv, stocks.csv, [industry.csv], IMPORT.txt), then validates it and prints the summary.\n"
          "Raw prices = round(field / factor, 2), adj_factor = qlib's factor.\n\n"
          "  --src DIR          the qlib data directory (required)\n"
          "  --out MARKET       the market directory: absent, empty or a previous import (required)\n"
          "  --start/--end DATE restrict the dates written (YYYY-MM-DD or YYYYMMDD)\n"
          "  --weights CSV      index weights, tushare index_weight layout (index_code, con_code, trade_date,\n"
          "                     weight); default: proxies over instruments/csiNNN.txt members, float-cap\n"
          "                     weighted where features have float_mv/circ_mv, else equal weights, with\n"
          "                     their tracking error against the index close stated\n"
          "  --index-bars CSV   date,index,close for indices without features/sh000300|sh000905|sh000852\n"
          "  --industry CSV     code,industry (qlib has no industries)\n"
          "  --volume MODE      adjusted (default: raw = volume * factor, qlib's normalised data) or raw\n"
          "  --quiet            no notes or warnings on stderr (they stay in MARKET/IMPORT.txt)\n\n"
          "Errors name the file and the byte offset (binary) or line:column (text). Exit codes: 0 ok, 2 usage,\n"
          "3 invalid data, 4 i/o, 5 out of memory. On any error nothing is left in MARKET.\n");
}

int cmd_import_qlib(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    import_qlib_help(stdout);
    return 0;
  }
  static const struct option longopts[] = {{"src", required_argument, NULL, 's'},
                                           {"out", required_argument, NULL, 'o'},
                                           {"start", required_argument, NULL, 'a'},
                                           {"end", required_argument, NULL, 'b'},
                                           {"weights", required_argument, NULL, 'w'},
                                           {"index-bars", required_argument, NULL, 'x'},
                                           {"industry", required_argument, NULL, 'i'},
                                           {"volume", required_argument, NULL, 'v'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {NULL, 0, NULL, 0}};
  qlib_import_opts o;
  qlib_import_init(&o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 's': o.src = optarg; break;
      case 'o': o.out = optarg; break;
      case 'a':
      case 'b':
        if (zz_date_parse(optarg, c == 'a' ? &o.start : &o.end))
          return cli_usage_error("import", "%s: expected a date YYYY-MM-DD or YYYYMMDD, found '%s'", c == 'a' ? "--start" : "--end",
                                 optarg);
        break;
      case 'w': o.weights_csv = optarg; break;
      case 'x': o.index_bars_csv = optarg; break;
      case 'i': o.industry_csv = optarg; break;
      case 'v':
        if (!strcmp(optarg, "adjusted")) o.volume_raw = 0;
        else if (!strcmp(optarg, "raw")) o.volume_raw = 1;
        else return cli_usage_error("import", "--volume: expected adjusted or raw, found '%s'", optarg);
        break;
      case 'q': o.verbose = 0; break;
      case ':': return cli_usage_error("import", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("import", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("import", "unexpected argument '%s'", argv[optind]);
  if (!o.src) return cli_usage_error("import", "--src DIR (the qlib data directory) is required");
  if (!o.out) return cli_usage_error("import", "--out MARKET is required");
  panel *p = NULL;
  zz_err err = {0};
  int rc = qlib_import(&o, &p, &err);
  if (rc) {
    fprintf(stderr, "zhizeng import qlib: %s\n", err.msg);
    return zz_exit_code(rc);
  }
  printf("market:         %s (imported from qlib %s; provenance in %s/IMPORT.txt)\n", o.out, o.src, o.out);
  panel_print_summary(p, stdout);
  panel_free(p);
  return 0;
}
