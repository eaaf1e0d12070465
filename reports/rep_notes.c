/* rep_notes.c — cells of statistics that cannot be computed: "—" with a footnote mark (¹, ², …) whose note,
 * printed under the table, says why. Never 0 and never NaN in a table (docs/reports.md, "Undefined statistics"). */
#include "reports.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void rep_notes_init(rep_notes *n) { memset(n, 0, sizeof *n); }

/* the superscript digits of k (1-based) */
static char *mark(char *b, size_t len, int k) {
  static const char *const sup[10] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  char d[12];
  snprintf(d, sizeof d, "%d", k);
  b[0] = 0;
  for (const char *c = d; *c; c++) strncat(b, sup[*c - '0'], len - strlen(b) - 1);
  return b;
}

static int note_index(rep_notes *n, const char *why) {
  if (!why || !*why) why = "the statistic cannot be computed from these data";
  for (int k = 0; k < n->n; k++)
    if (!strcmp(n->why[k], why)) return k;
  if (n->n == REP_NOTES_MAX) { /* the last note collects the rest */
    snprintf(n->why[REP_NOTES_MAX - 1], sizeof n->why[0], "other reasons (more than %d in one table)", REP_NOTES_MAX - 1);
    return REP_NOTES_MAX - 1;
  }
  snprintf(n->why[n->n], sizeof n->why[0], "%s", why);
  return n->n++;
}

char *rep_cell(char *buf, size_t len, double v, int pct, rep_notes *n, const char *why) {
  if (isfinite(v)) return pct ? rep_fmt_pct(buf, len, v) : rep_fmt_num(buf, len, v);
  char m[32] = "";
  if (n) mark(m, sizeof m, note_index(n, why) + 1);
  snprintf(buf, len, "—%s", m);
  return buf;
}

char *rep_cell_why(char *buf, size_t len, rep_notes *n, const char *why) { return rep_cell(buf, len, NAN, 0, n, why); }

void rep_notes_md(FILE *f, const rep_notes *n) {
  char m[32];
  for (int k = 0; k < n->n; k++) fprintf(f, "%s %s  \n", mark(m, sizeof m, k + 1), n->why[k]);
  if (n->n) fputc('\n', f);
}

void rep_notes_html(rep_html *h, const rep_notes *n) {
  char m[32], line[sizeof n->why[0] + 40];
  for (int k = 0; k < n->n; k++) {
    snprintf(line, sizeof line, "%s %s", mark(m, sizeof m, k + 1), n->why[k]);
    rep_html_para(h, line);
  }
}

const char *rep_why_spread(char *buf, size_t len, int count, const char *what) {
  if (count < 2) snprintf(buf, len, "fewer than two %s (%d): a standard deviation needs two", what, count);
  else snprintf(buf, len, "the %s do not vary (standard deviation 0)", what);
  return buf;
}

/* ---------------------------------------------------------------- the summary metrics of a run */

static const char *const k_label[REP_SUM_N] = {
    "absolute annualised", "absolute Sharpe", "absolute max drawdown", "absolute weekly win rate",
    "hedged annualised", "hedged Sharpe", "hedged max drawdown", "hedged weekly win rate", "benchmark annualised",
    "tracking error (realised)", "information ratio", "mean weekly turnover", "total costs (CNY)"};
static const char *const k_key[REP_SUM_N] = {
    "abs_annual", "abs_sharpe", "abs_max_drawdown", "abs_weekly_win", "hedged_annual", "hedged_sharpe",
    "hedged_max_drawdown", "hedged_weekly_win", "benchmark_annual", "tracking_error", "information_ratio",
    "mean_weekly_turnover", "total_costs"};
static const int k_pct[REP_SUM_N] = {1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0};

const char *rep_summary_label(int m) { return k_label[m]; }
const char *rep_summary_key(int m) { return k_key[m]; }
int rep_summary_is_pct(int m) { return k_pct[m]; }

double rep_summary_value(const rep_summary *s, int m) {
  const double v[REP_SUM_N] = {s->abs_ann, s->abs_sharpe, s->abs_mdd, s->abs_win, s->hed_ann, s->hed_sharpe,
                               s->hed_mdd, s->hed_win, s->bench_ann, s->te, s->ir, s->mean_weekly_turnover,
                               s->total_costs};
  return v[m];
}

const char *rep_summary_why(const rep_summary *s, int m) {
  if (isfinite(rep_summary_value(s, m))) return NULL;
  if (s->days < 1) return "the run has one day: no daily return";
  switch (m) {
  case REP_SUM_ABS_SHARPE:
  case REP_SUM_HED_SHARPE:
    return s->days < 2 ? "Sharpe ratio: one daily return, a standard deviation needs two"
                       : "Sharpe ratio: the daily returns do not vary (volatility 0)";
  case REP_SUM_TE:
    return "tracking error: one daily return, a standard deviation needs two";
  case REP_SUM_IR:
    return s->days < 2 ? "information ratio: one daily return, a standard deviation needs two"
                       : "information ratio: the daily excess return over the benchmark does not vary (tracking "
                         "error 0)";
  case REP_SUM_TURNOVER:
    return "turnover: no week after the first (the first week builds the book from cash and is left out)";
  case REP_SUM_ABS_ANN:
  case REP_SUM_HED_ANN:
  case REP_SUM_BENCH_ANN:
    return "annualised return: the NAV fell to zero or below";
  default:
    return "the run's series have a non-finite value";
  }
}

/* ---------------------------------------------------------------- the factor-test table */

void rep_factor_cells(const rep_factor_result *r, char (*c)[32], rep_notes *n) {
  char why_ir[128], why_sh[128];
  rep_why_spread(why_ir, sizeof why_ir, r->n_ic_defined, "dates with a defined RankIC");
  rep_why_spread(why_sh, sizeof why_sh, r->n_days, "daily returns of the layered test");
  const char *no_ic = "RankIC is defined on no date", *no_days = "the layered test has no daily return";
  rep_cell(c[REP_FC_IC_MEAN], 32, r->ic_mean, 1, n, no_ic);
  rep_cell(c[REP_FC_IC_IR], 32, r->ic_ir, 0, n, why_ir);
  rep_cell(c[REP_FC_IC_POS], 32, r->ic_pos, 1, n, no_ic);
  rep_cell(c[REP_FC_TOP_ANN], 32, r->top_ann_hedged, 1, n, no_days);
  rep_cell(c[REP_FC_BOTTOM_ANN], 32, r->bottom_ann_hedged, 1, n, no_days);
  rep_cell(c[REP_FC_TOP_SHARPE], 32, r->top_sharpe, 0, n, why_sh);
  rep_cell(c[REP_FC_TOP_MDD], 32, r->top_mdd, 1, n, no_days);
  rep_cell(c[REP_FC_TOP_TURNOVER], 32, r->top_turnover, 1, n, "the layered test has no rebalance after the first");
}
