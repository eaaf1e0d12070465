/* cmd_screen.c — `zhizeng screen`: factor screening (seed 004 section 3.1.3) of the columns of a factor file:
 * single-factor tests, sign flips, thresholds, a correlation filter within groups and across them
 * (reports/rep_screen.c); writes the decisions with their reasons, the heat map and the kept columns as a
 * features/NAME.csv dataset. */
#include "cli.h"
#include "data.h"
#include "model.h"
#include "reports.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void help(void) {
  printf("usage: zhizeng screen --market DIR --factors FILE [--groups FILE] [--out DIR] [options]\n\n"
         "Screens every factor column of FILE (CSV date,code,f1,f2,...; an empty field = no value):\n"
         "  1. single-factor tests as zhizeng evaluate (RankIC of the value on day t against the adjusted return\n"
         "     from the close of t+1 to the close of t+11 every 10 trading days, IC_IR = mean / std; layered test:\n"
         "     top group's excess (hedged) and absolute annualised return, max drawdown, information ratio);\n"
         "  2. a factor with a negative mean RankIC is sign-flipped (reported) and tested again;\n"
         "  3. dropped unless |mean RankIC| >= --min-rankic and |IC_IR| >= --min-icir;\n"
         "  4. correlation filter: the mean over dates of the cross-sectional Spearman between two factors above\n"
         "     --max-corr keeps the one with the larger |IC_IR| (greedy from the best; ties: the earlier column),\n"
         "     first within each group of --groups, then across all groups.\n"
         "Writes to the output directory (default screen): decisions.csv (every factor: decision, reason,\n"
         "sign_flipped, statistics), kept.csv, correlation.csv and correlation.svg (heat map of the factors that\n"
         "passed the thresholds), report.md, and features/NAME.csv: date,code and the kept (sign-flipped)\n"
         "columns, ready to be copied into a market's features/ directory as dataset NAME.\n\n"
         "options:\n"
         "  --market DIR          market directory\n"
         "  --factors FILE        factor CSV (date,code, then one column per candidate factor)\n"
         "  --groups FILE         CSV factor,group: every factor's group (optional; without it one group)\n"
         "  --out DIR             output directory (default: screen)\n"
         "  --name NAME           dataset name of the kept columns (default: screened)\n"
         "  --min-rankic X        |mean RankIC| threshold (default 0.02)\n"
         "  --min-icir X          |IC_IR| threshold (default 0.3)\n"
         "  --max-corr X          correlation threshold (default 0.7)\n"
         "  --corr-step K         average the Spearman over every K-th scored date (default 1: every date)\n"
         "  --universe U          csiall (default) or csi300, csi500, csi1000 (000300, 000905, 000852)\n"
         "  --layers N            layered-test groups (default 20 on csiall, 5 on an index)\n"
         "  --keep-st             keep ST stock-days in the test universe\n"
         "  --min-listed-days N   leave out a stock's first N-1 trading days (default 60; 0: none)\n"
         "  --no-cache            do not read or write the market's binary cache\n"
         "  -h, --help            this help\n\n"
         "Exit codes: 0 ok, 2 usage, 3 invalid data, 4 i/o, 5 out of memory.\n");
}

/* groups.csv: factor,group for every column of the factor file. */
static int read_groups(const char *path, const score_table *st, char (*groups)[64], zz_err *err) {
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  const char *fn[] = {"factor", NULL}, *gn[] = {"group", NULL};
  const int cf = zz_csv_require(r, fn, err), cg = cf < 0 ? -1 : zz_csv_require(r, gn, err);
  if (cf < 0 || cg < 0) {
    zz_csv_close(r);
    return ZZ_EDATA;
  }
  for (int k = 0; k < st->n_cols; k++) groups[k][0] = 0;
  int got;
  while ((got = zz_csv_next(r, err)) == 1) {
    const char *name = zz_csv_field(r, cf), *g = zz_csv_field(r, cg);
    int k = -1;
    for (int q = 0; q < st->n_cols && k < 0; q++)
      if (!strcmp(st->names[q], name)) k = q;
    if (k < 0) {
      rc = zz_csv_fail(r, cf, err, ZZ_EDATA, "factor '%s' is not a column of the factor file", name);
      break;
    }
    if (!g[0]) {
      rc = zz_csv_fail(r, cg, err, ZZ_EDATA, "empty group for factor '%s'", name);
      break;
    }
    if (groups[k][0]) {
      rc = zz_csv_fail(r, cf, err, ZZ_EDATA, "factor '%s' is listed twice", name);
      break;
    }
    snprintf(groups[k], 64, "%s", g);
  }
  if (!rc && got < 0) rc = -got;
  zz_csv_close(r);
  for (int k = 0; k < st->n_cols && !rc; k++)
    if (!groups[k][0]) rc = zz_fail(err, ZZ_EDATA, "%s: factor '%s' has no group (every factor needs a row)", path, st->names[k]);
  return rc;
}

int cmd_screen(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  enum { O_MINIC = 256, O_MINIR, O_MAXC, O_STEP, O_LAYERS, O_KEEPST, O_MINL, O_NOCACHE, O_NAME };
  static const struct option opts[] = {
      {"market", required_argument, 0, 'm'},     {"factors", required_argument, 0, 'f'},
      {"groups", required_argument, 0, 'g'},     {"out", required_argument, 0, 'o'},
      {"universe", required_argument, 0, 'u'},   {"min-rankic", required_argument, 0, O_MINIC},
      {"min-icir", required_argument, 0, O_MINIR}, {"max-corr", required_argument, 0, O_MAXC},
      {"corr-step", required_argument, 0, O_STEP}, {"layers", required_argument, 0, O_LAYERS},
      {"keep-st", no_argument, 0, O_KEEPST},     {"min-listed-days", required_argument, 0, O_MINL},
      {"no-cache", no_argument, 0, O_NOCACHE},   {"name", required_argument, 0, O_NAME},
      {0, 0, 0, 0}};
  const char *market = NULL, *factors = NULL, *groups_path = NULL, *out = "screen", *name = "screened";
  rep_screen_opts so;
  rep_screen_default_opts(&so);
  int nocache = 0, c;
  double v;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    switch (c) {
      case 'm': market = optarg; break;
      case 'f': factors = optarg; break;
      case 'g': groups_path = optarg; break;
      case 'o': out = optarg; break;
      case O_NAME:
        if (!optarg[0] || strchr(optarg, '/') || strlen(optarg) > 60)
          return cli_usage_error("screen", "--name: expected a dataset name (no '/', at most 60 characters)");
        name = optarg;
        break;
      case 'u':
        if (!strcasecmp(optarg, "csiall") || !strcasecmp(optarg, "all")) so.factor.universe = REP_UNIV_CSIALL;
        else if ((so.factor.universe = zz_index_parse(optarg)) < 0)
          return cli_usage_error("screen", "--universe: expected csiall, csi300, csi500 or csi1000, found '%s'", optarg);
        break;
      case O_MINIC:
      case O_MINIR:
      case O_MAXC:
        if (cli_parse_double(optarg, &v) || v < 0 || (c == O_MAXC && (v <= 0 || v > 1)))
          return cli_usage_error("screen", "%s: expected a number >= 0 (correlation in (0, 1]), found '%s'",
                                 argv[optind - 1], optarg);
        *(c == O_MINIC ? &so.min_rankic : c == O_MINIR ? &so.min_icir : &so.max_corr) = v;
        break;
      case O_STEP:
      case O_LAYERS:
      case O_MINL:
        if (cli_parse_double(optarg, &v) || v != floor(v) || v < (c == O_MINL ? 0 : c == O_LAYERS ? 2 : 1) || v > 10000)
          return cli_usage_error("screen", "%s: expected a whole number in range, found '%s'", argv[optind - 1], optarg);
        if (c == O_STEP) so.corr_step = (int)v;
        else if (c == O_LAYERS) so.factor.n_groups = (int)v;
        else so.factor.screen.min_listed_days = (int)v;
        break;
      case O_KEEPST: so.factor.screen.exclude_st = 0; break;
      case O_NOCACHE: nocache = 1; break;
      case ':': return cli_usage_error("screen", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("screen", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("screen", "unexpected argument '%s'", argv[optind]);
  if (!market || !factors) return cli_usage_error("screen", "--market DIR and --factors FILE are required");
  zz_err err = {0};
  panel *p = NULL;
  score_table *st = NULL;
  rep_screen_result *res = NULL;
  char(*groups)[64] = NULL;
  panel_load_opts lo = {NULL, !nocache, 1};
  int rc = panel_load(market, &lo, &p, &err);
  if (!rc) rc = score_table_read(factors, p, &st, &err);
  if (!rc && groups_path) {
    if (!(groups = calloc((size_t)st->n_cols, sizeof *groups))) rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
    else rc = read_groups(groups_path, st, groups, &err);
  }
  if (!rc) {
    fprintf(stderr, "zhizeng screen: %d candidate factors on %d dates x %d stocks\n", st->n_cols, p->n_dates, p->n_stocks);
    rc = rep_screen(p, st->values, (const char(*)[64])st->names, (const char(*)[64])groups, st->n_cols, &so, &res, &err);
  }
  if (!rc) rc = rep_screen_write(p, st->values, res, &so, out, name, &err);
  if (!rc) {
    for (int k = 0; k < res->n; k++)
      fprintf(stderr, "  %-24s %-8s %s\n", res->f[k].name, res->f[k].kept ? "kept" : "dropped", res->f[k].reason);
    fprintf(stderr, "zhizeng screen: %d of %d kept -> %s (decisions.csv, kept.csv, correlation.svg, features/%s.csv)\n",
            res->n_kept, res->n, out, name);
  } else
    fprintf(stderr, "zhizeng screen: %s\n", err.msg);
  rep_screen_result_free(res);
  free(groups);
  score_table_free(st);
  panel_free(p);
  return zz_exit_code(rc);
}
