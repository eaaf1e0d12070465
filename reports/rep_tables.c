/* rep_tables.c — the yearly and summary tables of a simulated run, number formatting, Markdown tables. */
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

char *rep_fmt_pct(char *buf, size_t n, double v) {
  if (!isfinite(v)) snprintf(buf, n, "—");
  else snprintf(buf, n, "%.2f%%", v * 100.0 + 0.0); /* + 0.0: no "-0.00%" from a negative zero */
  if (!strcmp(buf, "-0.00%")) snprintf(buf, n, "0.00%%");
  return buf;
}

char *rep_fmt_num(char *buf, size_t n, double v) {
  if (!isfinite(v)) snprintf(buf, n, "—");
  else snprintf(buf, n, "%.2f", v);
  if (!strcmp(buf, "-0.00")) snprintf(buf, n, "0.00");
  return buf;
}

char *rep_fmt_csv(char *buf, size_t n, double v) {
  if (!isfinite(v)) buf[0] = 0;
  else snprintf(buf, n, "%.10g", v);
  return buf;
}

int rep_yearly(const rep_run *r, rep_year_row *rows, int cap) {
  int n = 0, base = 0;
  for (int k = 1; k < r->n; k++) {
    int y = r->date[k] / 10000;
    int last_of_year = k == r->n - 1 || r->date[k + 1] / 10000 != y;
    if (!last_of_year) continue;
    if (n == cap) break;
    rep_year_row *row = &rows[n++];
    row->year = y;
    row->first = r->date[base + 1 <= k ? base + 1 : k];
    if (base == 0 && r->date[0] / 10000 == y) row->first = r->date[0];
    row->last = r->date[k];
    row->abs_ret = r->nav[k] / r->nav[base] - 1.0;
    row->hedged_ret = r->hedged[k] / r->hedged[base] - 1.0;
    row->bench_ret = r->bench[k] / r->bench[base] - 1.0;
    row->partial = (base == 0 && r->date[0] > y * 10000 + 107) || r->date[k] < y * 10000 + 1224;
    base = k;
  }
  return n;
}

static int32_t week_key(int32_t ymd) { return zz_date_to_days(ymd) - (zz_date_weekday(ymd) - 1); }

void rep_summarise(const rep_run *r, rep_summary *s) {
  memset(s, 0, sizeof *s);
  int d = r->n - 1;
  double *rp = malloc(sizeof *rp * (size_t)(d > 0 ? d : 1)), *rb = malloc(sizeof *rb * (size_t)(d > 0 ? d : 1)),
         *rh = malloc(sizeof *rh * (size_t)(d > 0 ? d : 1));
  s->days = d;
  if (!rp || !rb || !rh || d < 1) {
    s->abs_ann = s->abs_sharpe = s->abs_mdd = s->abs_win = s->hed_ann = s->hed_sharpe = s->hed_mdd = s->hed_win =
        s->bench_ann = s->te = s->ir = s->mean_weekly_turnover = NAN;
    free(rp), free(rb), free(rh);
    return;
  }
  for (int k = 0; k < d; k++) {
    rp[k] = r->nav[k + 1] / r->nav[k] - 1.0;
    rb[k] = r->bench[k + 1] / r->bench[k] - 1.0;
    rh[k] = r->hedged[k + 1] / r->hedged[k] - 1.0;
  }
  s->abs_ann = rep_annual_return(rp, d);
  s->abs_sharpe = rep_sharpe(rp, d);
  s->abs_mdd = rep_max_drawdown(rp, d);
  s->abs_win = rep_weekly_win_rate(r->date, r->nav, r->n, &s->weeks);
  s->hed_ann = rep_annual_return(rh, d);
  s->hed_sharpe = rep_sharpe(rh, d);
  s->hed_mdd = rep_max_drawdown(rh, d);
  s->hed_win = rep_weekly_win_rate(r->date, r->hedged, r->n, NULL);
  s->bench_ann = rep_annual_return(rb, d);
  s->te = rep_tracking_error(rp, rb, d);
  s->ir = rep_info_ratio(rp, rb, d);
  /* weekly turnover: sum of daily one-way turnover per ISO week, mean over the weeks after the
   * first (the first week builds the portfolio from cash) */
  double tsum = 0, wk = 0;
  int nw = 0;
  for (int k = 0; k < r->n; k++) {
    s->total_costs += r->costs[k];
    wk += r->turnover[k];
    if (k == r->n - 1 || week_key(r->date[k + 1]) != week_key(r->date[k])) {
      if (week_key(r->date[k]) != week_key(r->date[0])) tsum += wk, nw++;
      wk = 0;
    }
  }
  s->mean_weekly_turnover = nw ? tsum / nw : NAN;
  free(rp), free(rb), free(rh);
}

static void md_cell(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '|') fputs("\\|", f);
    else if (*s == '\n') fputc(' ', f);
    else fputc(*s, f);
  }
}

void rep_md_table(FILE *f, const char *caption, int n_rows, int n_cols, const char *const *header,
                  const char *const *cells) {
  if (caption) fprintf(f, "**%s**\n\n", caption);
  fputc('|', f);
  for (int c = 0; c < n_cols; c++) fputc(' ', f), md_cell(f, header[c]), fputs(" |", f);
  fputs("\n|", f);
  for (int c = 0; c < n_cols; c++) fputs(c ? "---:|" : "---|", f);
  fputc('\n', f);
  for (int r = 0; r < n_rows; r++) {
    fputc('|', f);
    for (int c = 0; c < n_cols; c++) fputc(' ', f), md_cell(f, cells[(size_t)r * n_cols + c]), fputs(" |", f);
    fputc('\n', f);
  }
  fputc('\n', f);
}
