/* rep_units.c — the factor units' statistics as files (seed 002 3.1, tables 6-7, figures 12-17): per-unit and
 * summary CSVs, the summary table in Markdown and HTML, and the histograms of the units' RankIC means and IC_IR
 * as SVG bars. The statistics themselves: rep_unit_stats (rep_factor_test.c). Formats: docs/reports.md,
 * "Factor units". */
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UCELL 48
#define U_NCOL 8

static int open_w(FILE **f, const char *dir, const char *name, zz_err *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!(*f = fopen(path, "w"))) return zz_fail(err, ZZ_EIO, "cannot write %s", path);
  return ZZ_OK;
}

static int close_w(FILE *f, const char *dir, const char *name, zz_err *err) {
  if (fclose(f)) return zz_fail(err, ZZ_EIO, "write error on %s/%s", dir, name);
  return ZZ_OK;
}

int rep_unit_write_csv(const char *dir, int n, const rep_unit_result *const *r, const char *const *labels,
                       zz_err *err) {
  FILE *f = NULL;
  char b[32], b2[32], b3[32];
  int rc = open_w(&f, dir, "units.csv", err);
  if (rc) return rc;
  fputs("model,unit,n_ic,rankic_mean,rankic_std,ic_ir\n", f);
  for (int m = 0; m < n; m++)
    for (int k = 0; k < r[m]->K; k++) {
      zz_csv_write_field(f, labels[m]);
      fprintf(f, ",f%d,%d,%s,%s,%s\n", k + 1, r[m]->n_ic[k], zz_fmt_double(b, sizeof b, r[m]->ic_mean[k]),
              zz_fmt_double(b2, sizeof b2, r[m]->ic_std[k]), zz_fmt_double(b3, sizeof b3, r[m]->ic_ir[k]));
    }
  if ((rc = close_w(f, dir, "units.csv", err)) || (rc = open_w(&f, dir, "units_summary.csv", err))) return rc;
  fputs("model,units,n_defined,rankic_mean_avg,ic_ir_avg,share_abs_rankic_above_2pct,mutual_corr,corr_dates\n", f);
  for (int m = 0; m < n; m++) {
    zz_csv_write_field(f, labels[m]);
    fprintf(f, ",%d,%d,%s,%s,", r[m]->K, r[m]->n_defined, zz_fmt_double(b, sizeof b, r[m]->ic_mean_avg),
            zz_fmt_double(b2, sizeof b2, r[m]->ic_ir_avg));
    fprintf(f, "%s,", zz_fmt_double(b, sizeof b, r[m]->share_above));
    fprintf(f, "%s,%d\n", zz_fmt_double(b, sizeof b, r[m]->mutual_corr), r[m]->n_corr_dates);
  }
  if ((rc = close_w(f, dir, "units_summary.csv", err)) || (rc = open_w(&f, dir, "unit_correlation.csv", err)))
    return rc;
  fputs("model,unit_a,unit_b,mean_pearson\n", f);
  for (int m = 0; m < n; m++)
    for (int a = 0; a < r[m]->K; a++)
      for (int q = a + 1; q < r[m]->K; q++) {
        zz_csv_write_field(f, labels[m]);
        fprintf(f, ",f%d,f%d,%s\n", a + 1, q + 1,
                zz_fmt_double(b, sizeof b, r[m]->pair_corr[(size_t)a * r[m]->K + q]));
      }
  return close_w(f, dir, "unit_correlation.csv", err);
}

static const char *const k_head[U_NCOL] = {"model",         "units",        "RankIC mean (avg of units)",
                                           "IC_IR (avg of units)", "|RankIC| > 2 % share", "units defined",
                                           "mutual correlation (mean |rho|)", "dates"};

/* The summary table's cells (n x U_NCOL) and their pointers; NULL when out of memory. */
static char (*summary_cells(int n, const rep_unit_result *const *r, const char *const *labels,
                            const char ***ptrs, rep_notes *notes))[UCELL] {
  rep_notes_init(notes);
  char(*c)[UCELL] = calloc((size_t)n * U_NCOL + 1, UCELL);
  *ptrs = calloc((size_t)n * U_NCOL + 1, sizeof **ptrs);
  if (!c || !*ptrs) {
    free(c), free(*ptrs), *ptrs = NULL;
    return NULL;
  }
  for (int m = 0; m < n; m++) {
    char(*row)[UCELL] = c + (size_t)m * U_NCOL;
    snprintf(row[0], UCELL, "%s", labels[m]);
    snprintf(row[1], UCELL, "%d", r[m]->K);
    const char *no_unit = "no unit has a defined RankIC (each unit is constant on every date, or too few stocks)";
    rep_cell(row[2], UCELL, r[m]->ic_mean_avg, 1, notes, no_unit);
    rep_cell(row[3], UCELL, r[m]->ic_ir_avg, 0, notes,
             "no unit's RankIC has a standard deviation (fewer than two dates, or no spread)");
    rep_cell(row[4], UCELL, r[m]->share_above, 1, notes, no_unit);
    snprintf(row[5], UCELL, "%d", r[m]->n_defined);
    if (isfinite(r[m]->mutual_corr)) snprintf(row[6], UCELL, "%.4f", r[m]->mutual_corr);
    else rep_cell_why(row[6], UCELL, notes, "no date has two units that vary over at least two stocks");
    snprintf(row[7], UCELL, "%d", r[m]->n_corr_dates);
    for (int j = 0; j < U_NCOL; j++) (*ptrs)[(size_t)m * U_NCOL + j] = row[j];
  }
  return c;
}

static const char k_caption[] =
    "Factor units (out of sample): RankIC every 10 trading days per unit; mutual correlation = mean over unit "
    "pairs of |date-averaged cross-sectional Pearson correlation|";

void rep_unit_md(FILE *f, int n, const rep_unit_result *const *r, const char *const *labels) {
  const char **p = NULL;
  rep_notes notes;
  char(*c)[UCELL] = summary_cells(n, r, labels, &p, &notes);
  if (!c) return;
  rep_md_table(f, k_caption, n, U_NCOL, k_head, p);
  rep_notes_md(f, &notes);
  free(c), free(p);
}

/* Histogram bars of v[0..K-1]: bins of width `width` aligned to multiples of it (at most 40, else 40 equal bins). */
static void histogram(rep_html *h, const char *id, const char *title, const char *x_label, const double *v, int K,
                      double width, int pct) {
  double lo = INFINITY, hi = -INFINITY;
  for (int k = 0; k < K; k++)
    if (isfinite(v[k])) lo = fmin(lo, v[k]), hi = fmax(hi, v[k]);
  if (!isfinite(lo)) return;
  lo = floor(lo / width) * width;
  hi = ceil(hi / width) * width;
  if (hi <= lo) hi = lo + width;
  int nb = (int)lround((hi - lo) / width);
  if (nb > 40) nb = 40;
  if (nb < 1) nb = 1;
  double *cnt = malloc(sizeof *cnt * (size_t)nb);
  char(*lab)[24] = malloc(sizeof *lab * (size_t)nb);
  const char **lp = malloc(sizeof *lp * (size_t)nb);
  if (cnt && lab && lp) {
    rep_histogram(v, K, lo, hi, nb, cnt);
    for (int b = 0; b < nb; b++) {
      const double e = lo + (hi - lo) * b / nb;
      if (pct) snprintf(lab[b], sizeof lab[b], "%.1f%%", 100 * e);
      else snprintf(lab[b], sizeof lab[b], "%.2f", e);
      lp[b] = lab[b];
    }
    const double *vs[1] = {cnt};
    rep_html_bars(h, id, title, "units", x_label, nb, lp, 1, vs, NULL, NULL, 0);
  }
  free(cnt), free(lab), free(lp);
}

void rep_unit_html(rep_html *h, int n, const rep_unit_result *const *r, const char *const *labels) {
  const char **p = NULL;
  rep_notes notes;
  char(*c)[UCELL] = summary_cells(n, r, labels, &p, &notes);
  if (!c) return;
  rep_html_table(h, k_caption, n, U_NCOL, k_head, p);
  rep_notes_html(h, &notes);
  free(c), free(p);
  for (int m = 0; m < n; m++) {
    char title[256], id[48];
    snprintf(title, sizeof title, "%s: distribution of the %d units' RankIC means", labels[m], r[m]->K);
    snprintf(id, sizeof id, "unit_ic_hist%d", m);
    histogram(h, id, title, "RankIC mean (bin start)", r[m]->ic_mean, r[m]->K, 0.01, 1);
    snprintf(title, sizeof title, "%s: distribution of the %d units' IC_IR", labels[m], r[m]->K);
    snprintf(id, sizeof id, "unit_icir_hist%d", m);
    histogram(h, id, title, "IC_IR (bin start)", r[m]->ic_ir, r[m]->K, 0.1, 0);
  }
}
