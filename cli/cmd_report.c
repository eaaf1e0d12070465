/* cmd_report.c — `zhizeng report`: yearly and summary tables (seed 002 tables 18-29) of one or more
 * simulator outputs, as CSV, Markdown and one self-contained HTML page with NAV and drawdown charts. */
#include "cli.h"
#include "data.h"
#include "reports.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 16
#define MAX_YEARS 64

static void help(void) {
  printf("usage: zhizeng report --run [LABEL=]DIR [--run [LABEL=]DIR ...] --out DIR\n\n"
         "Reads each simulator output DIR/nav.csv (date,nav,benchmark,hedged[,cash,turnover,costs]) and writes\n"
         "to the output directory:\n"
         "  yearly.csv    label,year,partial,first,last,absolute,hedged,benchmark (returns as fractions)\n"
         "  summary.csv   label and the summary metrics (fractions; empty = undefined)\n"
         "  report.md     yearly, summary and (several runs) side-by-side tables, percent with two decimals\n"
         "  report.html   the same tables with NAV (absolute, benchmark, hedged) and drawdown charts\n\n"
         "options:\n"
         "  --run [LABEL=]DIR  a simulator output directory (repeatable, up to %d); LABEL defaults to DIR\n"
         "  --out DIR          output directory (created if missing)\n"
         "  -h, --help         this help\n\n"
         "Definitions (docs/reports.md): annualised return = NAV_end^(252/days) - 1; Sharpe = mean/std(ddof 1)\n"
         "of daily returns x sqrt(252); max drawdown of the compounded NAV; weekly win rate over ISO weeks;\n"
         "tracking error = std(r_p - r_b) x sqrt(252); information ratio = 252 mean(r_p - r_b) / TE.\n",
         MAX_RUNS);
}

#define N_SUM REP_SUM_N

/* Cells are kept in one arena of fixed-size strings. */
#define CELL 64
typedef struct { char (*c)[CELL]; const char **p; int n; } cells;
static int cells_init(cells *t, int n) {
  if (n < 1) n = 1;
  t->c = calloc((size_t)n, CELL);
  t->p = calloc((size_t)n, sizeof *t->p);
  t->n = n;
  if (!t->c || !t->p) return -1;
  for (int k = 0; k < n; k++) t->p[k] = t->c[k];
  return 0;
}
static void cells_free(cells *t) { free(t->c), free(t->p); }

int cmd_report(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  const char *out_dir = NULL, *specs[MAX_RUNS];
  int n_runs = 0;
  static const struct option opts[] = {{"run", required_argument, 0, 'r'}, {"out", required_argument, 0, 'o'},
                                       {0, 0, 0, 0}};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'r') {
      if (n_runs == MAX_RUNS) return cli_usage_error("report", "at most %d --run options", MAX_RUNS);
      specs[n_runs++] = optarg;
    } else if (c == 'o') out_dir = optarg;
    else return cli_usage_error("report", "unknown option");
  }
  if (optind < argc) return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
  if (!n_runs) return cli_usage_error("report", "give at least one --run DIR");
  if (!out_dir) return cli_usage_error("report", "--out DIR is required");
  return cli_report_runs("report", specs, n_runs, out_dir, NULL);
}

int cli_report_runs(const char *cmd, const char *const *specs, int n_runs, const char *out_dir, const char *title) {
  const int together = title != NULL; /* the runs compared against one benchmark (zhizeng topn) */
  if (!title) title = "zhizeng performance report";
  if (n_runs < 1 || n_runs > MAX_RUNS) return cli_usage_error(cmd, "between 1 and %d runs", MAX_RUNS);
  zz_err err = {0};
  rep_run *runs[MAX_RUNS] = {0};
  rep_summary sum[MAX_RUNS];
  rep_year_row *years = calloc((size_t)MAX_RUNS * MAX_YEARS, sizeof *years);
  int ny[MAX_RUNS] = {0}, rc = ZZ_OK;
  FILE *f = NULL;
  rep_html *h = NULL;
  if (!years) return zz_exit_code(ZZ_ENOMEM);
  for (int k = 0; k < n_runs && !rc; k++) {
    char label[64] = "";
    const char *dir = specs[k], *eq = strchr(specs[k], '=');
    if (eq) {
      snprintf(label, sizeof label, "%.*s", (int)(eq - specs[k] < 63 ? eq - specs[k] : 63), specs[k]);
      dir = eq + 1;
    }
    sim_result *sr = NULL;
    rc = sim_result_read(dir, &sr, &err);
    if (!rc) rc = rep_run_from_sim(sr, label[0] ? label : dir, &runs[k], &err);
    sim_result_free(sr);
    if (rc) break;
    ny[k] = rep_yearly(runs[k], years + (size_t)k * MAX_YEARS, MAX_YEARS);
    rep_summarise(runs[k], &sum[k]);
    fprintf(stderr, "zhizeng %s: %s: %d days, %d years, %d weeks\n", cmd, runs[k]->label, sum[k].days, ny[k],
            sum[k].weeks);
  }
  if (!rc) rc = zz_mkdir_p(out_dir, &err);
  char path[4096], b[CELL];
  /* ---------------- CSV */
  if (!rc) {
    snprintf(path, sizeof path, "%s/yearly.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("label,year,partial,first,last,absolute,hedged,benchmark\n", f);
    for (int k = 0; k < n_runs; k++)
      for (int y = 0; y < ny[k]; y++) {
        const rep_year_row *r = &years[(size_t)k * MAX_YEARS + y];
        char d0[11], d1[11], v[3][32];
        zz_csv_write_field(f, runs[k]->label);
        fprintf(f, ",%d,%d,%s,%s,%s,%s,%s\n", r->year, r->partial, zz_date_format(r->first, d0),
                zz_date_format(r->last, d1), rep_fmt_csv(v[0], 32, r->abs_ret), rep_fmt_csv(v[1], 32, r->hedged_ret),
                rep_fmt_csv(v[2], 32, r->bench_ret));
      }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/summary.csv", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("label,days,weeks", f);
    for (int m = 0; m < N_SUM; m++) fprintf(f, ",%s", rep_summary_key(m));
    fputc('\n', f);
    for (int k = 0; k < n_runs; k++) {
      zz_csv_write_field(f, runs[k]->label);
      fprintf(f, ",%d,%d", sum[k].days, sum[k].weeks);
      for (int m = 0; m < N_SUM; m++) fprintf(f, ",%s", rep_fmt_csv(b, sizeof b, rep_summary_value(&sum[k], m)));
      fputc('\n', f);
    }
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  /* ---------------- tables shared by Markdown and HTML */
  /* yearly: rows (absolute|hedged) x runs, columns the union of years */
  int y0 = 9999, y1 = 0;
  for (int k = 0; k < n_runs; k++)
    for (int y = 0; y < ny[k]; y++) {
      int yr = years[(size_t)k * MAX_YEARS + y].year;
      y0 = yr < y0 ? yr : y0, y1 = yr > y1 ? yr : y1;
    }
  int n_ycols = y1 >= y0 ? y1 - y0 + 3 : 2;
  if (n_ycols > MAX_YEARS + 2) n_ycols = MAX_YEARS + 2;
  cells yh = {0}, yc = {0}, sh = {0}, sc = {0};
  rep_notes yn, sn; /* why the tables' "—" cells are undefined */
  rep_notes_init(&yn), rep_notes_init(&sn);
  const char *year_why = "the NAV at the start of the year is not positive";
  int n_yrows = 2 * n_runs + together;
  if (!rc && (cells_init(&yh, n_ycols) || cells_init(&yc, n_yrows * n_ycols) || cells_init(&sh, n_runs + 1) ||
              cells_init(&sc, N_SUM * (n_runs + 1))))
    rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
  if (!rc) {
    snprintf(yh.c[0], CELL, "return");
    snprintf(yh.c[1], CELL, "run");
    for (int y = y0; y <= y1 && y - y0 + 2 < n_ycols; y++) snprintf(yh.c[y - y0 + 2], CELL, "%d", y);
    for (int kind = 0; kind < 2; kind++)
      for (int k = 0; k < n_runs; k++) {
        char(*row)[CELL] = yc.c + (size_t)(kind * n_runs + k) * n_ycols;
        snprintf(row[0], CELL, "%s", kind ? "hedged" : "absolute");
        snprintf(row[1], CELL, "%s", runs[k]->label);
        for (int j = 2; j < n_ycols; j++) snprintf(row[j], CELL, "-");
        for (int y = 0; y < ny[k]; y++) {
          const rep_year_row *r = &years[(size_t)k * MAX_YEARS + y];
          int j = r->year - y0 + 2;
          if (j >= n_ycols) continue;
          char pct[32];
          rep_cell(pct, sizeof pct, kind ? r->hedged_ret : r->abs_ret, 1, &yn, year_why);
          snprintf(row[j], CELL, "%s%s", pct, r->partial ? " *" : "");
        }
      }
    if (together) { /* the benchmark's yearly return (the same index for every run: the first run's) */
      char(*row)[CELL] = yc.c + (size_t)(2 * n_runs) * n_ycols;
      snprintf(row[0], CELL, "benchmark");
      snprintf(row[1], CELL, "%s", "index");
      for (int j = 2; j < n_ycols; j++) snprintf(row[j], CELL, "-");
      for (int y = 0; y < ny[0]; y++) {
        const rep_year_row *r = &years[y];
        int j = r->year - y0 + 2;
        if (j >= n_ycols) continue;
        char pct[32];
        rep_cell(pct, sizeof pct, r->bench_ret, 1, &yn, year_why);
        snprintf(row[j], CELL, "%s%s", pct, r->partial ? " *" : "");
      }
    }
    snprintf(sh.c[0], CELL, "metric");
    for (int k = 0; k < n_runs; k++) snprintf(sh.c[k + 1], CELL, "%s", runs[k]->label);
    for (int m = 0; m < N_SUM; m++) {
      snprintf(sc.c[(size_t)m * (n_runs + 1)], CELL, "%s", rep_summary_label(m));
      for (int k = 0; k < n_runs; k++)
        rep_cell(sc.c[(size_t)m * (n_runs + 1) + k + 1], CELL, rep_summary_value(&sum[k], m), rep_summary_is_pct(m),
                 &sn, rep_summary_why(&sum[k], m));
    }
  }
  const char *ycap = "Yearly returns (* = partial year: the run does not cover the whole calendar year)";
  const char *scap = n_runs > 1 ? "Summary, side by side" : "Summary";
  if (!rc) {
    snprintf(path, sizeof path, "%s/report.md", out_dir);
    if (!(f = fopen(path, "w"))) rc = zz_fail(&err, ZZ_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fprintf(f, "# %s\n\n", title);
    rep_md_table(f, ycap, n_yrows, n_ycols, yh.p, yc.p);
    rep_notes_md(f, &yn);
    rep_md_table(f, scap, N_SUM, n_runs + 1, sh.p, sc.p);
    rep_notes_md(f, &sn);
    fprintf(f, "Annualised return = NAV_end^(252/days) - 1; Sharpe from daily returns (std ddof 1) x sqrt(252); "
               "weekly win rate over ISO calendar weeks; total costs in the unit of nav.csv's costs column (CNY). "
               "\"—\" marks a statistic that cannot be computed; the footnote under its table says why.\n");
    if (fclose(f)) rc = zz_fail(&err, ZZ_EIO, "write error on %s", path);
    f = NULL;
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/report.html", out_dir);
    rc = rep_html_open(&h, path, title, &err);
  }
  if (!rc) {
    rep_html_heading(h, "Yearly returns");
    rep_html_table(h, ycap, n_yrows, n_ycols, yh.p, yc.p);
    rep_notes_html(h, &yn);
    rep_html_heading(h, scap);
    rep_html_table(h, NULL, N_SUM, n_runs + 1, sh.p, sc.p);
    rep_notes_html(h, &sn);
    if (together && !rc) { /* every run's NAV and the benchmark on one chart, then the hedged NAVs */
      const int32_t *xs[MAX_RUNS + 1];
      const double *ys[MAX_RUNS + 1];
      const char *names[MAX_RUNS + 1];
      int ns[MAX_RUNS + 1];
      double *lv[2 * MAX_RUNS + 1] = {0};
      for (int k = 0; k < n_runs && !rc; k++)
        for (int s = 0; s < 2 && !rc; s++) {
          const rep_run *r = runs[k];
          if (!(lv[2 * k + s] = malloc(sizeof(double) * (size_t)r->n))) rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
          else
            for (int t = 0; t < r->n; t++) lv[2 * k + s][t] = s ? r->hedged[t] / r->hedged[0] : r->nav[t] / r->nav[0];
        }
      if (!rc && !(lv[2 * n_runs] = malloc(sizeof(double) * (size_t)runs[0]->n))) rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
      if (!rc) {
        for (int t = 0; t < runs[0]->n; t++) lv[2 * n_runs][t] = runs[0]->bench[t] / runs[0]->bench[0];
        for (int s = 0; s < 2; s++) {
          int m = 0;
          for (int k = 0; k < n_runs; k++) xs[m] = runs[k]->date, ns[m] = runs[k]->n, ys[m] = lv[2 * k + s], names[m++] = runs[k]->label;
          if (!s) xs[m] = runs[0]->date, ns[m] = runs[0]->n, ys[m] = lv[2 * n_runs], names[m++] = "benchmark";
          rep_html_heading(h, s ? "Hedged NAV, side by side" : "NAV against the benchmark, side by side");
          rep_html_lines(h, s ? "hedged_all" : "nav_all", s ? "Hedged NAV (daily excess return compounded)" : "NAV and benchmark",
                         "NAV", m, xs, ns, ys, names, 0);
        }
      }
      for (int k = 0; k < 2 * n_runs + 1; k++) free(lv[k]);
    }
    for (int k = 0; k < n_runs; k++) {
      const rep_run *r = runs[k];
      char title[256], id[32];
      snprintf(title, sizeof title, "%s: net asset value", r->label);
      snprintf(id, sizeof id, "nav%d", k);
      rep_html_heading(h, r->label);
      double *nav = malloc(sizeof *nav * (size_t)r->n * 3), *dd = malloc(sizeof *dd * (size_t)r->n * 2);
      if (!nav || !dd) {
        free(nav), free(dd);
        rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
        break;
      }
      for (int t = 0; t < r->n; t++) {
        nav[t] = r->nav[t] / r->nav[0];
        nav[r->n + t] = r->bench[t] / r->bench[0];
        nav[2 * r->n + t] = r->hedged[t] / r->hedged[0];
      }
      const double *ys[3] = {nav, nav + r->n, nav + 2 * r->n};
      const char *names[3] = {"absolute", "benchmark", "hedged"};
      rep_html_line_chart(h, id, title, r->date, r->n, 3, ys, names, 0);
      /* drawdown of the absolute and hedged NAV */
      for (int s = 0; s < 2; s++) {
        const double *v = s ? r->hedged : r->nav;
        double peak = v[0];
        for (int t = 0; t < r->n; t++) {
          peak = v[t] > peak ? v[t] : peak;
          dd[(size_t)s * r->n + t] = v[t] / peak - 1.0;
        }
      }
      const double *ds[2] = {dd, dd + r->n};
      const char *dn[2] = {"absolute", "hedged"};
      snprintf(title, sizeof title, "%s: drawdown", r->label);
      snprintf(id, sizeof id, "dd%d", k);
      rep_html_line_chart(h, id, title, r->date, r->n, 2, ds, dn, 1);
      free(nav), free(dd);
    }
    int rc2 = rep_html_close(h, &err);
    h = NULL;
    if (!rc) rc = rc2;
  }
  if (h) rep_html_close(h, NULL);
  cells_free(&yh), cells_free(&yc), cells_free(&sh), cells_free(&sc);
  for (int k = 0; k < n_runs; k++) rep_run_free(runs[k]);
  free(years);
  if (rc) {
    fprintf(stderr, "zhizeng %s: %s\n", cmd, err.msg);
    return zz_exit_code(rc);
  }
  fprintf(stderr, "zhizeng %s: wrote yearly.csv, summary.csv, report.md, report.html to %s\n", cmd, out_dir);
  return 0;
}
