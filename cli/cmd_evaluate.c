/* cmd_evaluate.c — `zhizeng evaluate`: factor tests of one or more score columns on a market (seed 002
 * tables 8, 11-14): RankIC series and summary, layered test, decay, correlations between the scores and
 * with price-volume factors; CSV, Markdown and a self-contained HTML page with SVG charts. */
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
  printf("usage: zhizeng evaluate --market DIR --scores FILE [--universe csiall|000300|000905|000852]\n"
         "                        [--groups N] [--keep-st] [--min-listed-days N] [--units] --out DIR\n\n"
         "Factor tests of every score column of FILE (CSV date,code,score[,more columns]; an empty field means\n"
         "no score for that stock and date). Writes to the output directory:\n"
         "  factor_summary.csv  per score: RankIC mean, IC_IR, share > 0, top/bottom hedged annualised return,\n"
         "                      Sharpe and max drawdown of the top group's hedged NAV, top weekly turnover\n"
         "  rankic.csv          the RankIC series (every 10 trading days) per score\n"
         "  decay.csv           RankIC mean of the score lagged 0, 5, 10, 15, 20 days\n"
         "  groups.csv          annualised hedged return of every group (group 1 = lowest scores)\n"
         "  layered_daily.csv   daily returns of the top and bottom groups and of the universe\n"
         "  correlation.csv     between score columns: Pearson above, Spearman below the diagonal\n"
         "  pv_correlation.csv  Spearman correlation with 60-day return, 20-day volatility, log turnover,\n"
         "                      idiosyncratic volatility and Amihud illiquidity\n"
         "  report.md, report.html\n"
         "with --units also (the factor units f1..fK of a multivariate model, docs/reports.md \"Factor units\"):\n"
         "  units.csv           per unit: RankIC mean, std and IC_IR\n"
         "  units_summary.csv   mean RankIC and IC_IR of the units, share with |RankIC mean| > 2 %%, the units'\n"
         "                      mutual correlation (mean |date-averaged cross-sectional Pearson| over pairs)\n"
         "  unit_correlation.csv  the date-averaged Pearson correlation of every pair of units\n"
         "  and a section with histograms of the units' RankIC means and IC_IR in report.md / report.html\n\n"
         "options:\n"
         "  --market DIR     market directory (see zhizeng ingest --help)\n"
         "  --scores FILE    scores CSV\n"
         "  --universe U     csiall (all listed, non-suspended stocks; default) or an index: 000300, 000905,\n"
         "                   000852 (also csi300, csi500, csi1000): members per the index snapshot in force;\n"
         "                   either one without ST stock-days and new listings (below)\n"
         "  --groups N       layered-test groups (default 20 on csiall, 5 on an index)\n"
         "  --keep-st        keep ST / *ST stock-days in the test universe (default: left out, by bars.csv's\n"
         "                   is_st, else derived from 5 %% up_limit; with neither, a warning and the reports\n"
         "                   say \"ST not excluded\")\n"
         "  --min-listed-days N  leave out a stock's first N-1 trading days after listing (60; 0: none)\n"
         "  --units          statistics of the factor-unit columns f1..fK (at least 2) instead of the full\n"
         "                   factor tests of each of them; the other columns are tested as usual\n"
         "  --out DIR        output directory (created if missing)\n"
         "  -h, --help       this help\n\n"
         "RankIC: Spearman correlation (average ranks) of the score on day t with the adjusted return from the\n"
         "close of t+1 to the close of t+11, sampled every 10 trading days; IC_IR = mean / std (ddof 1, not\n"
         "annualised). Definitions: docs/reports.md.\n");
}

/* A factor-unit column: "f" and digits. */
static int is_unit_name(const char *s) {
  if (s[0] != 'f' || !s[1]) return 0;
  for (const char *c = s + 1; *c; c++)
    if (*c < '0' || *c > '9') return 0;
  return 1;
}

/* Moves the factor-unit columns of sc after the others (each group in file order): *n_main others, *n_units
 * units. */
static int cli_units_partition(score_table *sc, int *n_main, int *n_units, zz_err *err) {
  const int n = sc->n_cols;
  char(*names)[64] = malloc(sizeof *names * (size_t)n);
  double **vals = malloc(sizeof *vals * (size_t)n);
  if (!names || !vals) {
    free(names), free(vals);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  int m = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int k = 0; k < n; k++)
      if (is_unit_name(sc->names[k]) == pass) memcpy(names[m], sc->names[k], sizeof names[m]), vals[m++] = sc->values[k];
  *n_units = 0;
  for (int k = 0; k < n; k++) *n_units += is_unit_name(names[k]);
  *n_main = n - *n_units;
  memcpy(sc->names, names, sizeof *names * (size_t)n);
  memcpy(sc->values, vals, sizeof *vals * (size_t)n);
  free(names), free(vals);
  return ZZ_OK;
}

static char *csvf(char *b, double v) { return rep_fmt_csv(b, 32, v); }

int cmd_evaluate(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  const char *market = NULL, *scores_path = NULL, *out_dir = NULL, *univ = "csiall";
  int groups = 0, keep_st = 0, min_listed = -1, units = 0;
  enum { O_KEEP_ST = 256, O_MIN_LISTED, O_UNITS };
  static const struct option opts[] = {{"keep-st", no_argument, 0, O_KEEP_ST}, {"units", no_argument, 0, O_UNITS},
                                       {"min-listed-days", required_argument, 0, O_MIN_LISTED},{"market", required_argument, 0, 'm'}, {"scores", required_argument, 0, 's'},
                                       {"universe", required_argument, 0, 'u'}, {"out", required_argument, 0, 'o'},
                                       {"groups", required_argument, 0, 'g'},   {0, 0, 0, 0}};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'm': market = optarg; break;
    case 's': scores_path = optarg; break;
    case 'u': univ = optarg; break;
    case 'o': out_dir = optarg; break;
    case 'g': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 2 || v > 100) return cli_usage_error("evaluate", "--groups expects 2..100, found '%s'", optarg);
      groups = (int)v;
      break;
    }
    case O_KEEP_ST: keep_st = 1; break;
    case O_UNITS: units = 1; break;
    case O_MIN_LISTED: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (end == optarg || *end || v < 0 || v > 10000)
        return cli_usage_error("evaluate", "--min-listed-days expects 0..10000, found '%s'", optarg);
      min_listed = (int)v;
      break;
    }
    default: return cli_usage_error("evaluate", "unknown option");
    }
  }
  if (optind < argc) return cli_usage_error("evaluate", "unexpected argument '%s'", argv[optind]);
  if (!market || !scores_path || !out_dir)
    return cli_usage_error("evaluate", "--market DIR, --scores FILE and --out DIR are required");
  rep_factor_opts fo;
  rep_factor_default_opts(&fo);
  if (strcasecmp(univ, "csiall") && strcasecmp(univ, "all")) {
    fo.universe = zz_index_parse(univ);
    if (fo.universe < 0)
      return cli_usage_error("evaluate", "--universe expects csiall, 000300, 000905 or 000852, found '%s'", univ);
  }
  fo.n_groups = groups;
  if (keep_st) fo.screen.exclude_st = 0;
  if (min_listed >= 0) fo.screen.min_listed_days = min_listed;

  zz_err err = {0};
  panel *p = NULL;
  score_table *sc = NULL;
  rep_factor_result **res = NULL;
  rep_html *h = NULL;
  FILE *f = NULL;
  char path[4096], b[32], b2[32], b3[32];
  panel_load_opts lo = {NULL, 1, 0};
  int rc = panel_load(market, &lo, &p, &err);
  if (!rc) rc = score_table_read(scores_path, p, &sc, &err);
  const panel_st_source st_src = p ? panel_universe_st_source(p, &fo.screen) : PANEL_ST_KEPT;
  if (!rc && st_src == PANEL_ST_UNKNOWN)
    fprintf(stderr, "zhizeng evaluate: warning: bars.csv has neither is_st nor up_limit: ST stocks cannot be told "
                    "and stay in the test universe (ST not excluded)\n");
  char screen_note[160], age_note[48] = "no listing-age rule";
  if (fo.screen.min_listed_days > 1)
    snprintf(age_note, sizeof age_note, "listed >= %d trading days", fo.screen.min_listed_days);
  snprintf(screen_note, sizeof screen_note, "universe screen: %s; %s", panel_st_source_name(st_src), age_note);
  /* --units: the factor-unit columns f1..fK go last and get the unit statistics, the others the factor tests */
  int n_main = sc ? sc->n_cols : 0, n_units = 0;
  rep_unit_result *ur = NULL;
  if (!rc && units) {
    rc = cli_units_partition(sc, &n_main, &n_units, &err);
    if (!rc && n_units < 2)
      rc = zz_fail(&err, ZZ_EUSAGE, "%s: --units needs factor-unit columns f1..fK (K >= 2), found %d", scores_path,
                   n_units);
    if (!rc && n_main < 1) rc = zz_fail(&err, ZZ_EUSAGE, "%s: no score column besides the factor units", scores_path);
    if (!rc) {
      rc = rep_unit_stats(p, n_units, (const double *const *)(sc->values + n_main), &fo, &ur, &err);
      if (!rc)
        fprintf(stderr, "zhizeng evaluate: %d factor units: mean RankIC %.4f, |RankIC| > 2%% share %.2f, mutual "
                        "correlation %.4f\n", n_units, ur->ic_mean_avg, ur->share_above, ur->mutual_corr);
    }
  }
  if (!rc) {
    fprintf(stderr, "zhizeng evaluate: %zu score rows, %d column(s), %s .. %s\n", sc->n_rows, n_main,
            zz_date_format(sc->first_date, b), zz_date_format(sc->last_date, b2));
    res = calloc((size_t)sc->n_cols, sizeof *res);
    if (!res) rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
  }
  for (int k = 0; !rc && k < n_main; k++) {
    rc = rep_factor_test(p, sc->values[k], &fo, &res[k], &err);
    if (rc) zz_wrap(&err, "score column '%s'", sc->names[k]);
    else
      fprintf(stderr, "zhizeng evaluate: %s: RankIC mean %s over %d dates, top hedged %s\n", sc->names[k],
              rep_fmt_pct(b, sizeof b, res[k]->ic_mean), res[k]->n_ic, rep_fmt_pct(b2, sizeof b2, res[k]->top_ann_hedged));
  }
  int nc = sc ? n_main : 0;
  double *corr = rc ? NULL : calloc((size_t)nc * nc, sizeof *corr); /* [a*nc+b]: a<b Pearson, a>b Spearman */
  if (!rc && !corr) rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
  for (int a = 0; !rc && a < nc; a++) {
    corr[a * nc + a] = 1.0;
    for (int q = a + 1; !rc && q < nc; q++)
      rc = rep_score_correlation(p, sc->values[a], sc->values[q], &fo, &corr[a * nc + q], &corr[q * nc + a], &err);
  }
  if (!rc) rc = zz_mkdir_p(out_dir, &err);
  const char *unit_label = "scores";
  if (!rc && ur) rc = rep_unit_write_csv(out_dir, 1, (const rep_unit_result *const *)&ur, &unit_label, &err);
  const char *uname = fo.universe == REP_UNIV_CSIALL ? "csiall" : zz_index_code(fo.universe);
  /* ---------------- CSV */
  if (!rc) {
    snprintf(path, sizeof path, "%s/factor_summary.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("score,universe,groups,n_ic,rankic_mean,rankic_std,ic_ir,rankic_pos,top_ann_hedged,top_sharpe,"
          "top_max_drawdown,top_weekly_turnover,bottom_ann_hedged,rebalances\n", f);
    for (int k = 0; k < nc; k++) {
      const rep_factor_result *r = res[k];
      zz_csv_write_field(f, sc->names[k]);
      fprintf(f, ",%s,%d,%d,%s,", uname, r->n_groups, r->n_ic_defined, csvf(b, r->ic_mean));
      fprintf(f, "%s,%s,%s,", csvf(b, r->ic_std), csvf(b2, r->ic_ir), csvf(b3, r->ic_pos));
      fprintf(f, "%s,%s,%s,", csvf(b, r->top_ann_hedged), csvf(b2, r->top_sharpe), csvf(b3, r->top_mdd));
      fprintf(f, "%s,%s,%d\n", csvf(b, r->top_turnover), csvf(b2, r->bottom_ann_hedged), r->n_rebalances);
    }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/rankic.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("score,date,rankic\n", f);
    for (int k = 0; k < nc; k++)
      for (int q = 0; q < res[k]->n_ic; q++) {
        zz_csv_write_field(f, sc->names[k]);
        fprintf(f, ",%s,%s\n", zz_date_format(res[k]->ic_date[q], b2), csvf(b, res[k]->ic[q]));
      }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/decay.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("lag", f);
    for (int k = 0; k < nc; k++) fputc(',', f), zz_csv_write_field(f, sc->names[k]);
    fputc('\n', f);
    for (int l = 0; l < REP_N_LAGS; l++) {
      fprintf(f, "%d", res[0]->lags[l]);
      for (int k = 0; k < nc; k++) fprintf(f, ",%s", csvf(b, res[k]->decay[l]));
      fputc('\n', f);
    }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/groups.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("score,group,ann_hedged\n", f);
    for (int k = 0; k < nc; k++)
      for (int g = 0; g < res[k]->n_groups; g++) {
        zz_csv_write_field(f, sc->names[k]);
        fprintf(f, ",%d,%s\n", g + 1, csvf(b, res[k]->group_ann_hedged[g]));
      }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/layered_daily.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("score,date,top,bottom,universe\n", f);
    for (int k = 0; k < nc; k++) {
      const rep_factor_result *r = res[k];
      for (int d = 0; d < r->n_days; d++) {
        char ds[11];
        zz_csv_write_field(f, sc->names[k]);
        fprintf(f, ",%s,%s,%s,%s\n", zz_date_format(r->day_date[d], ds),
                csvf(b, r->group_ret[(size_t)d * r->n_groups + r->n_groups - 1]),
                csvf(b2, r->group_ret[(size_t)d * r->n_groups]), csvf(b3, r->univ_ret[d]));
      }
    }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/correlation.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("score", f);
    for (int k = 0; k < nc; k++) fputc(',', f), zz_csv_write_field(f, sc->names[k]);
    fputc('\n', f);
    for (int a = 0; a < nc; a++) {
      zz_csv_write_field(f, sc->names[a]);
      for (int q = 0; q < nc; q++) fprintf(f, ",%s", csvf(b, corr[a * nc + q]));
      fputc('\n', f);
    }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/pv_correlation.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("score", f);
    for (int q = 0; q < REP_N_PV; q++) fprintf(f, ",%s", rep_pv_factor_name(q));
    fputc('\n', f);
    for (int k = 0; k < nc; k++) {
      zz_csv_write_field(f, sc->names[k]);
      for (int q = 0; q < REP_N_PV; q++) fprintf(f, ",%s", csvf(b, res[k]->pv_corr[q]));
      fputc('\n', f);
    }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  /* ---------------- tables for Markdown and HTML */
#define CELL 64
  int ncol_s = 9, ncol_c = nc + 1, ncol_p = REP_N_PV + 1;
  char(*ts)[CELL] = NULL, (*td)[CELL] = NULL, (*tc)[CELL] = NULL, (*tp)[CELL] = NULL;
  const char **ps = NULL, **pd = NULL, **pc = NULL, **pp = NULL, **hd = NULL, **hc = NULL, **hp = NULL;
  if (!rc) {
    ts = calloc((size_t)nc * ncol_s, CELL), ps = calloc((size_t)nc * ncol_s, sizeof *ps);
    td = calloc((size_t)REP_N_LAGS * (nc + 1), CELL), pd = calloc((size_t)REP_N_LAGS * (nc + 1), sizeof *pd);
    tc = calloc((size_t)nc * ncol_c, CELL), pc = calloc((size_t)nc * ncol_c, sizeof *pc);
    tp = calloc((size_t)nc * ncol_p, CELL), pp = calloc((size_t)nc * ncol_p, sizeof *pp);
    hd = calloc((size_t)nc + 1, sizeof *hd), hc = calloc((size_t)nc + 1, sizeof *hc);
    hp = calloc(REP_N_PV + 1, sizeof *hp);
    if (!ts || !ps || !td || !pd || !tc || !pc || !tp || !pp || !hd || !hc || !hp)
      rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
  }
  rep_notes n_s, n_d, n_c, n_p; /* why the four tables' "—" cells are undefined */
  rep_notes_init(&n_s), rep_notes_init(&n_d), rep_notes_init(&n_c), rep_notes_init(&n_p);
  static const char *const hs[9] = {"score", "RankIC mean", "IC_IR (not annualised)", "RankIC>0 share",
                                    "top ann. hedged", "Sharpe", "max drawdown", "top weekly one-way turnover",
                                    "bottom ann. hedged"};
  if (!rc) {
    for (int k = 0; k < nc; k++) {
      const rep_factor_result *r = res[k];
      char(*row)[CELL] = ts + (size_t)k * ncol_s;
      snprintf(row[0], CELL, "%s", sc->names[k]);
      static const int col_of[REP_FACTOR_CELLS] = {1, 2, 3, 4, 8, 5, 6, 7}; /* this table's order */
      char fc[REP_FACTOR_CELLS][32];
      rep_factor_cells(r, fc, &n_s);
      for (int q = 0; q < REP_FACTOR_CELLS; q++) memcpy(row[col_of[q]], fc[q], sizeof fc[q]);
      for (int j = 0; j < ncol_s; j++) ps[(size_t)k * ncol_s + j] = row[j];
      hd[k + 1] = sc->names[k];
      hc[k + 1] = sc->names[k];
      for (int q = 0; q < nc; q++) {
        char *cell = tc[(size_t)k * ncol_c + q + 1];
        if (isfinite(corr[k * nc + q])) snprintf(cell, CELL, "%.2f", corr[k * nc + q]);
        else rep_cell_why(cell, CELL, &n_c, "no sampling date has enough stocks scored by both, or one score is "
                                            "constant on every date");
      }
      snprintf(tc[(size_t)k * ncol_c], CELL, "%s", sc->names[k]);
      snprintf(tp[(size_t)k * ncol_p], CELL, "%s", sc->names[k]);
      for (int q = 0; q < REP_N_PV; q++)
        rep_cell(tp[(size_t)k * ncol_p + q + 1], CELL, res[k]->pv_corr[q], 0, &n_p,
                 "the factor and the score share no sampling date with enough stocks (or one is constant)");
    }
    hd[0] = "lag";
    hc[0] = "";
    hp[0] = "score";
    for (int q = 0; q < REP_N_PV; q++) hp[q + 1] = rep_pv_factor_name(q);
    for (int l = 0; l < REP_N_LAGS; l++) {
      snprintf(td[(size_t)l * (nc + 1)], CELL, "lag %d", res[0]->lags[l]);
      for (int k = 0; k < nc; k++)
        rep_cell(td[(size_t)l * (nc + 1) + k + 1], CELL, res[k]->decay[l], 1, &n_d,
                 "the RankIC of the lagged score is defined on no date (too few stocks, or constant scores)");
    }
    for (size_t q = 0; q < (size_t)REP_N_LAGS * (nc + 1); q++) pd[q] = td[q];
    for (size_t q = 0; q < (size_t)nc * ncol_c; q++) pc[q] = tc[q];
    for (size_t q = 0; q < (size_t)nc * ncol_p; q++) pp[q] = tp[q];
  }
  char cap_s[256], cap_c[] = "Correlation between scores (Pearson above, Spearman below the diagonal)",
                   cap_p[] = "Spearman correlation with price-volume factors", cap_d[] = "RankIC decay";
  if (!rc) {
    char d0[11], d1[11];
    snprintf(cap_s, sizeof cap_s, "Factor performance, universe %s, %d groups (scores %s .. %s; %s)", uname,
             res[0]->n_groups, zz_date_format(sc->first_date, d0), zz_date_format(sc->last_date, d1), screen_note);
    snprintf(path, sizeof path, "%s/report.md", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fprintf(f, "# zhizeng factor evaluation\n\n%s%s.\n\n", st_src == PANEL_ST_UNKNOWN ? "**ST not excluded.** " : "",
            screen_note);
    rep_md_table(f, cap_s, nc, ncol_s, hs, ps);
    rep_notes_md(f, &n_s);
    rep_md_table(f, cap_d, REP_N_LAGS, nc + 1, hd, pd);
    rep_notes_md(f, &n_d);
    rep_md_table(f, cap_c, nc, ncol_c, hc, pc);
    rep_notes_md(f, &n_c);
    rep_md_table(f, cap_p, nc, ncol_p, hp, pp);
    rep_notes_md(f, &n_p);
    if (ur) rep_unit_md(f, 1, (const rep_unit_result *const *)&ur, &unit_label);
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/report.html", out_dir);
    rc = rep_html_open(&h, path, "zhizeng factor evaluation", &err);
  }
  if (!rc) {
    rep_html_table(h, cap_s, nc, ncol_s, hs, ps);
    rep_notes_html(h, &n_s);
    rep_html_table(h, cap_d, REP_N_LAGS, nc + 1, hd, pd);
    rep_notes_html(h, &n_d);
    rep_html_table(h, cap_c, nc, ncol_c, hc, pc);
    rep_notes_html(h, &n_c);
    rep_html_table(h, cap_p, nc, ncol_p, hp, pp);
    rep_notes_html(h, &n_p);
    if (ur) {
      rep_html_heading(h, "Factor units");
      rep_unit_html(h, 1, (const rep_unit_result *const *)&ur, &unit_label);
    }
    for (int k = 0; k < nc && !rc; k++) {
      const rep_factor_result *r = res[k];
      char title[256], id[32];
      rep_html_heading(h, sc->names[k]);
      char(*lab)[12] = malloc((size_t)(r->n_ic > r->n_groups ? r->n_ic : r->n_groups) * sizeof *lab);
      const char **lp = malloc((size_t)(r->n_ic > r->n_groups ? r->n_ic : r->n_groups) * sizeof *lp);
      double *nav = malloc(sizeof *nav * (size_t)r->n_days * 2);
      if (!lab || !lp || !nav) {
        free(lab), free(lp), free(nav);
        rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
        break;
      }
      for (int q = 0; q < r->n_ic; q++) lp[q] = zz_date_format(r->ic_date[q], lab[q]);
      snprintf(title, sizeof title, "%s: RankIC every 10 trading days", sc->names[k]);
      snprintf(id, sizeof id, "rankic%d", k);
      rep_html_bar_chart(h, id, title, r->n_ic, lp, r->ic, 1, 1);
      for (int g = 0; g < r->n_groups; g++) snprintf(lab[g], sizeof lab[g], "%d", g + 1), lp[g] = lab[g];
      snprintf(title, sizeof title, "%s: annualised hedged return by group (1 = lowest scores)", sc->names[k]);
      snprintf(id, sizeof id, "groups%d", k);
      rep_html_bar_chart(h, id, title, r->n_groups, lp, r->group_ann_hedged, 0, 1);
      double vt = 1, vb = 1;
      for (int d = 0; d < r->n_days; d++) {
        vt *= 1 + r->group_ret[(size_t)d * r->n_groups + r->n_groups - 1] - r->univ_ret[d];
        vb *= 1 + r->group_ret[(size_t)d * r->n_groups] - r->univ_ret[d];
        nav[d] = vt, nav[r->n_days + d] = vb;
      }
      const double *ys[2] = {nav, nav + r->n_days};
      const char *nm[2] = {"top hedged", "bottom hedged"};
      snprintf(title, sizeof title, "%s: hedged NAV of the top and bottom groups", sc->names[k]);
      snprintf(id, sizeof id, "layered%d", k);
      rep_html_line_chart(h, id, title, r->day_date, r->n_days, 2, ys, nm, 0);
      free(lab), free(lp), free(nav);
    }
    int rc2 = rep_html_close(h, &err);
    h = NULL;
    if (!rc) rc = rc2;
  }
  free(ts), free(ps), free(td), free(pd), free(tc), free(pc), free(tp), free(pp), free(hd), free(hc), free(hp);
  free(corr);
  rep_unit_result_free(ur);
  if (res)
    for (int k = 0; k < nc; k++) rep_factor_result_free(res[k]);
  free(res);
  score_table_free(sc);
  panel_free(p);
  if (rc) {
    fprintf(stderr, "zhizeng evaluate: %s\n", err.msg);
    return zz_exit_code(rc);
  }
  fprintf(stderr, "zhizeng evaluate: wrote CSV, report.md and report.html to %s\n", out_dir);
  return 0;
}
