/* rep_screen.c — factor screening (seed 004 section 3.1.3): the single-factor tests of each candidate column
 * (rep_factor_test), sign flip of a negative mean RankIC, thresholds on |mean RankIC| and |IC_IR|, then a
 * correlation filter on the mean daily Spearman between factors that keeps the better |IC_IR| of each
 * correlated pair, first within groups and then across all. Its outputs (decisions.csv, kept.csv,
 * correlation.csv, correlation.svg, report.md and the kept columns as features/NAME.csv) are written here. */
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rep_screen_default_opts(rep_screen_opts *o) {
  memset(o, 0, sizeof *o);
  rep_factor_default_opts(&o->factor);
  o->min_rankic = 0.02;
  o->min_icir = 0.3;
  o->max_corr = 0.7;
  o->corr_step = 1;
}

void rep_screen_result_free(rep_screen_result *r) {
  if (!r) return;
  free(r->f);
  free(r->corr);
  free(r);
}

/* Fills the statistics of f from a factor test of the (possibly flipped) column. */
static void take_stats(rep_screen_factor *f, const rep_factor_result *r) {
  f->ic_mean = r->ic_mean, f->ic_std = r->ic_std, f->ic_ir = r->ic_ir, f->ic_pos = r->ic_pos;
  f->n_ic = r->n_ic_defined;
  f->top_excess_ann = r->top_ann_hedged, f->bottom_excess_ann = r->bottom_ann_hedged;
  f->top_mdd = r->top_mdd, f->top_turnover = r->top_turnover;
  const int G = r->n_groups, n = r->n_days;
  double *top = malloc(sizeof *top * (size_t)(n + 1));
  f->top_ann = f->top_ir = NAN;
  if (top && n > 0) {
    for (int d = 0; d < n; d++) top[d] = r->group_ret[(size_t)d * G + (G - 1)];
    f->top_ann = rep_annual_return(top, n);
    f->top_ir = rep_info_ratio(top, r->univ_ret, n);
  }
  free(top);
}

typedef struct ord {
  double key;
  int k;
} ord;

/* Larger |IC_IR| first; ties: the earlier column. */
static int ord_cmp(const void *a, const void *b) {
  const ord *x = a, *y = b;
  if (x->key != y->key) return x->key > y->key ? -1 : 1;
  return (x->k > y->k) - (x->k < y->k);
}

int rep_screen(const panel *p, double *const *cols, const char (*names)[64], const char (*groups)[64], int n,
               const rep_screen_opts *o, rep_screen_result **out, zz_err *err) {
  *out = NULL;
  if (n < 1) return zz_fail(err, ZZ_EUSAGE, "screen: no factor columns");
  if (!(o->min_rankic >= 0) || !(o->min_icir >= 0) || !(o->max_corr > 0 && o->max_corr <= 1) || o->corr_step < 1)
    return zz_fail(err, ZZ_EUSAGE,
                   "screen: thresholds must be |RankIC| >= 0, |IC_IR| >= 0, 0 < correlation <= 1, step >= 1");
  rep_screen_result *r = calloc(1, sizeof *r);
  if (!r || !(r->f = calloc((size_t)n, sizeof *r->f)) || !(r->corr = malloc(sizeof *r->corr * (size_t)n * (size_t)n))) {
    rep_screen_result_free(r);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  r->n = n;
  r->grouped = groups != NULL;
  for (size_t k = 0; k < (size_t)n * (size_t)n; k++) r->corr[k] = NAN;
  int rc = ZZ_OK;
  /* 1. single-factor tests, sign flip, thresholds */
  for (int k = 0; k < n && !rc; k++) {
    rep_screen_factor *f = &r->f[k];
    snprintf(f->name, sizeof f->name, "%s", names[k]);
    snprintf(f->group, sizeof f->group, "%s", groups ? groups[k] : "all");
    const size_t cells = (size_t)p->n_dates * (size_t)p->n_stocks;
    rep_factor_result *fr = NULL;
    zz_err e = {0};
    int frc = rep_factor_test(p, cols[k], &o->factor, &fr, &e);
    if (frc == ZZ_EDATA) { /* empty or constant: no test possible */
      f->ic_mean = f->ic_std = f->ic_ir = f->ic_pos = f->top_excess_ann = f->bottom_excess_ann = NAN;
      f->top_ann = f->top_mdd = f->top_ir = f->top_turnover = NAN;
      snprintf(f->reason, sizeof f->reason, "no factor test: %.400s", e.msg);
      continue;
    }
    if (frc) {
      rc = zz_fail(err, frc, "screen: factor %s: %s", names[k], e.msg);
      break;
    }
    if (fr->ic_mean < 0) { /* flip the column and test it again: the layered test changes with it */
      f->flipped = 1;
      for (size_t q = 0; q < cells; q++) cols[k][q] = -cols[k][q];
      rep_factor_result_free(fr);
      fr = NULL;
      if ((rc = rep_factor_test(p, cols[k], &o->factor, &fr, err))) break;
    }
    take_stats(f, fr);
    rep_factor_result_free(fr);
    const int ok_ic = isfinite(f->ic_mean) && fabs(f->ic_mean) >= o->min_rankic;
    const int ok_ir = isfinite(f->ic_ir) && fabs(f->ic_ir) >= o->min_icir;
    f->passed = ok_ic && ok_ir;
    if (!f->passed) {
      size_t u = 0;
      u += (size_t)snprintf(f->reason + u, sizeof f->reason - u, "weak:");
      if (!ok_ic)
        u += (size_t)snprintf(f->reason + u, sizeof f->reason - u, " |mean RankIC| %.4f < %g", fabs(f->ic_mean), o->min_rankic);
      if (!ok_ir && u < sizeof f->reason)
        snprintf(f->reason + u, sizeof f->reason - u, "%s |IC_IR| %.3f < %g", ok_ic ? "" : ";", fabs(f->ic_ir), o->min_icir);
    }
  }
  /* 2. mean daily Spearman between the factors that passed */
  rep_factor_opts co = o->factor;
  co.ic_step = o->corr_step;
  for (int a = 0; a < n && !rc; a++)
    for (int b = a + 1; b < n && !rc && r->f[a].passed; b++) {
      if (!r->f[b].passed) continue;
      double pe, sp;
      if ((rc = rep_score_correlation(p, cols[a], cols[b], &co, &pe, &sp, err))) break;
      r->corr[(size_t)a * n + b] = r->corr[(size_t)b * n + a] = sp;
    }
  for (int a = 0; a < n; a++)
    if (r->f[a].passed) r->corr[(size_t)a * n + a] = 1.0;
  /* 3. correlation filter: greedy by |IC_IR|, within each group, then across all */
  ord *od = malloc(sizeof *od * (size_t)(n + 1));
  int *kept = malloc(sizeof *kept * (size_t)(n + 1)), *tent = calloc((size_t)n + 1, sizeof *tent);
  if (!rc && (!od || !kept || !tent)) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  int m = 0;
  for (int k = 0; k < n && !rc; k++)
    if (r->f[k].passed) od[m].key = fabs(r->f[k].ic_ir), od[m++].k = k;
  if (!rc) qsort(od, (size_t)m, sizeof *od, ord_cmp);
  for (int stage = 0; stage < 2 && !rc; stage++) {
    int nk = 0;
    for (int j = 0; j < m; j++) {
      const int k = od[j].k;
      if (stage == 1 && !tent[k]) continue;
      int by = -1;
      for (int q = 0; q < nk && by < 0; q++) {
        const int h = kept[q];
        if (stage == 0 && strcmp(r->f[h].group, r->f[k].group)) continue;
        const double c = r->corr[(size_t)h * n + k];
        if (isfinite(c) && fabs(c) > o->max_corr) by = h;
      }
      rep_screen_factor *f = &r->f[k];
      if (by < 0) {
        kept[nk++] = k;
        tent[k] = 1;
        continue;
      }
      tent[k] = 0;
      const rep_screen_factor *g = &r->f[by];
      char where[200];
      if (!r->grouped) where[0] = 0;
      else if (stage == 0) snprintf(where, sizeof where, " in group %s", f->group);
      else snprintf(where, sizeof where, " across groups (%s is in %s)", g->name, g->group);
      snprintf(f->reason, sizeof f->reason, "correlated with %s%s: mean daily Spearman %.4f > %g; |IC_IR| %.3f %s %.3f of %s",
               g->name, where, r->corr[(size_t)by * n + k], o->max_corr, fabs(f->ic_ir),
               fabs(f->ic_ir) < fabs(g->ic_ir) ? "<" : "= (the earlier column is kept),", fabs(g->ic_ir), g->name);
    }
  }
  for (int k = 0; k < n && !rc; k++) {
    rep_screen_factor *f = &r->f[k];
    if (!tent[k]) continue;
    f->kept = 1;
    r->n_kept++;
    snprintf(f->reason, sizeof f->reason, "kept: |mean RankIC| %.4f >= %g, |IC_IR| %.3f >= %g, no better factor%s "
             "correlated above %g", fabs(f->ic_mean), o->min_rankic, fabs(f->ic_ir), o->min_icir,
             r->grouped ? " in its group or across groups" : "", o->max_corr);
  }
  free(od), free(kept), free(tent);
  if (rc) {
    rep_screen_result_free(r);
    return rc;
  }
  *out = r;
  return ZZ_OK;
}

/* ------------------------------------------------------------------ outputs */

static const char *csvn(char *b, double v) { return rep_fmt_csv(b, 32, v); }

static int write_decisions(const rep_screen_result *r, const char *path, int kept_only, zz_err *err) {
  char tmp[4200], b[12][32];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  if (kept_only) fputs("factor,group,sign,rankic_mean,ic_ir\n", f);
  else
    fputs("factor,group,decision,reason,sign_flipped,rankic_mean,rankic_std,ic_ir,rankic_positive,n_rankic,"
          "top_excess_annual,top_annual,top_max_drawdown,top_information_ratio,bottom_excess_annual,top_turnover\n", f);
  for (int k = 0; k < r->n; k++) {
    const rep_screen_factor *x = &r->f[k];
    if (kept_only && !x->kept) continue;
    zz_csv_write_field(f, x->name);
    fputc(',', f);
    zz_csv_write_field(f, x->group);
    if (kept_only) {
      fprintf(f, ",%d,%s,%s\n", x->flipped ? -1 : 1, csvn(b[0], x->ic_mean), csvn(b[1], x->ic_ir));
      continue;
    }
    fprintf(f, ",%s,", x->kept ? "kept" : "dropped");
    zz_csv_write_field(f, x->reason);
    fprintf(f, ",%d,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s\n", x->flipped, csvn(b[0], x->ic_mean), csvn(b[1], x->ic_std),
            csvn(b[2], x->ic_ir), csvn(b[3], x->ic_pos), x->n_ic, csvn(b[4], x->top_excess_ann), csvn(b[5], x->top_ann),
            csvn(b[6], x->top_mdd), csvn(b[7], x->top_ir), csvn(b[8], x->bottom_excess_ann), csvn(b[9], x->top_turnover));
  }
  return zz_out_close(f, tmp, path, err);
}

/* The factors the correlation was computed for, in display order (by group, then column order). */
static int corr_order(const rep_screen_result *r, int *idx) {
  int m = 0;
  for (int k = 0; k < r->n; k++) {
    if (!r->f[k].passed) continue;
    int first = 1;
    for (int q = 0; q < k && first; q++) first = !(r->f[q].passed && !strcmp(r->f[q].group, r->f[k].group));
    if (!first) continue;
    for (int q = k; q < r->n; q++)
      if (r->f[q].passed && !strcmp(r->f[q].group, r->f[k].group)) idx[m++] = q;
  }
  return m;
}

static int write_corr_csv(const rep_screen_result *r, const int *idx, int m, const char *path, zz_err *err) {
  char tmp[4200], b[32];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  fputs("factor", f);
  for (int a = 0; a < m; a++) fputc(',', f), zz_csv_write_field(f, r->f[idx[a]].name);
  fputc('\n', f);
  for (int a = 0; a < m; a++) {
    zz_csv_write_field(f, r->f[idx[a]].name);
    for (int c = 0; c < m; c++) fprintf(f, ",%s", csvn(b, r->corr[(size_t)idx[a] * r->n + idx[c]]));
    fputc('\n', f);
  }
  return zz_out_close(f, tmp, path, err);
}

static void xml_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else if (*s == '&') fputs("&amp;", f);
    else if (*s == '"') fputs("&quot;", f);
    else fputc(*s, f);
  }
}

/* Heat map: blue (-1) through white (0) to red (+1); kept factors' labels in bold, a group's block framed. */
static int write_heatmap(const rep_screen_result *r, const int *idx, int m, const char *path, double max_corr,
                         zz_err *err) {
  char tmp[4200];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  const int cell = 44, left = 180, top = 60, h = top + cell * (m > 0 ? m : 1) + 190;
  const int w = left + cell * (m > 0 ? m : 1) + 40 > 760 ? left + cell * (m > 0 ? m : 1) + 40 : 760;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" height=\"%d\" "
             "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h, w, h);
  fprintf(f, "<title>Mean daily Spearman correlation between the factors that passed the thresholds</title>\n");
  fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, h);
  fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Factor correlation (mean daily Spearman; "
             "|&#961;| &gt; %g marked with a frame; bold = kept)</text>\n", 10, max_corr);
  for (int a = 0; a < m; a++) {
    const rep_screen_factor *x = &r->f[idx[a]];
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\"%s>", left - 6, top + a * cell + cell / 2 + 4,
            x->kept ? " font-weight=\"bold\"" : "");
    xml_text(f, x->name);
    fprintf(f, "</text>\n<text transform=\"translate(%d,%d) rotate(60)\"%s>", left + a * cell + cell / 2,
            top + m * cell + 8, x->kept ? " font-weight=\"bold\"" : "");
    xml_text(f, x->name);
    fputs("</text>\n", f);
    for (int c = 0; c < m; c++) {
      const double v = r->corr[(size_t)idx[a] * r->n + idx[c]];
      int R = 255, G = 255, B = 255;
      if (isfinite(v)) {
        const double s = fmin(1.0, fabs(v));
        if (v > 0) G = B = (int)lround(255 * (1 - s));
        else R = G = (int)lround(255 * (1 - s));
      }
      fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" stroke=\"%s\" "
                 "stroke-width=\"%d\"/>\n", left + c * cell, top + a * cell, cell, cell, R, G, B,
              a != c && isfinite(v) && fabs(v) > max_corr ? "black" : "#ccc", a != c && isfinite(v) && fabs(v) > max_corr ? 2 : 1);
      char b[32];
      if (isfinite(v)) snprintf(b, sizeof b, "%.2f", v);
      else snprintf(b, sizeof b, "-");
      fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\" fill=\"%s\">%s</text>\n",
              left + c * cell + cell / 2, top + a * cell + cell / 2 + 4, isfinite(v) && fabs(v) > 0.6 ? "white" : "black", b);
    }
  }
  fputs("</svg>\n", f);
  return zz_out_close(f, tmp, path, err);
}

static int write_features(const panel *p, double *const *cols, const rep_screen_result *r, const char *path, zz_err *err) {
  char tmp[4200], db[16], b[40];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  fputs("date,code", f);
  for (int k = 0; k < r->n; k++)
    if (r->f[k].kept) fputc(',', f), zz_csv_write_field(f, r->f[k].name);
  fputc('\n', f);
  for (int t = 0; t < p->n_dates; t++) {
    zz_date_format(p->dates[t], db);
    for (int i = 0; i < p->n_stocks; i++) {
      const size_t at = panel_at(p, t, i);
      int any = 0;
      for (int k = 0; k < r->n && !any; k++) any = r->f[k].kept && isfinite(cols[k][at]);
      if (!any) continue;
      fprintf(f, "%s,%s", db, p->stocks[i].code);
      for (int k = 0; k < r->n; k++)
        if (r->f[k].kept) {
          fputc(',', f);
          if (isfinite(cols[k][at])) fputs(zz_fmt_double(b, sizeof b, cols[k][at]), f);
        }
      fputc('\n', f);
    }
  }
  return zz_out_close(f, tmp, path, err);
}

static int write_md(const rep_screen_result *r, const rep_screen_opts *o, const char *dataset, const char *path,
                    zz_err *err) {
  char tmp[4200], b[8][32];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  fprintf(f, "# Factor screening\n\n%d candidate factors, %d kept. Thresholds: |mean RankIC| >= %g and |IC_IR| >= "
             "%g; correlation filter: mean daily Spearman above %g keeps the larger |IC_IR|%s. A factor with a "
             "negative mean RankIC is sign-flipped first (statistics after the flip). Kept columns: "
             "features/%s.csv (copy it to the market's features/ directory to use it as dataset %s).\n\n",
          r->n, r->n_kept, o->min_rankic, o->min_icir, o->max_corr, r->grouped ? ", within groups first, then across" : "",
          dataset, dataset);
  fputs("| factor | group | decision | flipped | RankIC mean | IC_IR | top excess ann. | top ann. | top max DD | top IR | reason |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n", f);
  rep_notes n;
  rep_notes_init(&n);
  const char *no_ic = "RankIC is defined on no date (constant factor, or too few stocks)";
  const char *no_days = "the top group's layered test has no daily return";
  for (int k = 0; k < r->n; k++) {
    const rep_screen_factor *x = &r->f[k];
    fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", x->name, x->group,
            x->kept ? "**kept**" : "dropped", x->flipped ? "yes" : "no", rep_cell(b[0], 32, x->ic_mean * 100, 0, &n, no_ic),
            rep_cell(b[1], 32, x->ic_ir, 0, &n, "IC_IR: fewer than two dates with a RankIC, or no spread"),
            rep_cell(b[2], 32, x->top_excess_ann, 1, &n, no_days), rep_cell(b[3], 32, x->top_ann, 1, &n, no_days),
            rep_cell(b[4], 32, x->top_mdd, 1, &n, no_days),
            rep_cell(b[5], 32, x->top_ir, 0, &n, "top IR: fewer than two daily returns, or no tracking error"), x->reason);
  }
  fputc('\n', f);
  rep_notes_md(f, &n);
  fputs("RankIC mean in percent. The correlation heat map: correlation.svg (values in correlation.csv).\n", f);
  return zz_out_close(f, tmp, path, err);
}

int rep_screen_write(const panel *p, double *const *cols, const rep_screen_result *r, const rep_screen_opts *o,
                     const char *dir, const char *dataset, zz_err *err) {
  char path[4200];
  int rc = zz_mkdir_p(dir, err);
  int *idx = malloc(sizeof *idx * (size_t)(r->n + 1));
  if (!rc && !idx) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  const int m = rc ? 0 : corr_order(r, idx);
  if (!rc) snprintf(path, sizeof path, "%s/decisions.csv", dir), rc = write_decisions(r, path, 0, err);
  if (!rc) snprintf(path, sizeof path, "%s/kept.csv", dir), rc = write_decisions(r, path, 1, err);
  if (!rc) snprintf(path, sizeof path, "%s/correlation.csv", dir), rc = write_corr_csv(r, idx, m, path, err);
  if (!rc) snprintf(path, sizeof path, "%s/correlation.svg", dir), rc = write_heatmap(r, idx, m, path, o->max_corr, err);
  if (!rc) snprintf(path, sizeof path, "%s/report.md", dir), rc = write_md(r, o, dataset, path, err);
  if (!rc) snprintf(path, sizeof path, "%s/features", dir), rc = zz_mkdir_p(path, err);
  if (!rc && r->n_kept) snprintf(path, sizeof path, "%s/features/%s.csv", dir, dataset), rc = write_features(p, cols, r, path, err);
  free(idx);
  return rc;
}
