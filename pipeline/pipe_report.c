/* pipe_report.c — the final report of a run (seed 002 section 4 layout): factor tables of the
 * univariate, multivariate and equal-weight combined scores on CSI All / 300 / 500 / 1000 (tables
 * 8, 13, 14), per index the yearly and summary tables of every (score, floor) backtest (tables
 * 18-29), the class3 head's classification by year (accuracy, precision / recall, confusion matrix), the
 * univariate-vs-multivariate comparison and the optimizer diagnostics (one row per
 * rebalance per backtest), as CSV, Markdown and one HTML page written with reports/'s writers. The HTML
 * page adds charts (docs/pipeline.md, "The report"): RankIC with its cumulative sum, layered group returns
 * and top-minus-bottom NAVs on CSI All; per index and floor the heads' hedged NAVs and drawdowns on one
 * chart (figures 18-23), the yearly hedged returns side by side, and each backtest's NAVs. */
#include "pipe_internal.h"

#include "reports.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- a table of strings */

#define CELL 80
typedef struct tbl {
  int nr, nc;
  char (*c)[CELL];
  const char **p;
  const char **h;
  char (*hc)[CELL];
  rep_notes notes; /* why its "—" cells are undefined, printed under it */
} tbl;

static int tbl_init(tbl *t, int nr, int nc) {
  memset(t, 0, sizeof *t);
  t->nr = nr, t->nc = nc;
  rep_notes_init(&t->notes);
  t->c = calloc((size_t)(nr * nc + 1), CELL);
  t->p = calloc((size_t)(nr * nc + 1), sizeof *t->p);
  t->hc = calloc((size_t)nc, CELL);
  t->h = calloc((size_t)nc, sizeof *t->h);
  if (!t->c || !t->p || !t->hc || !t->h) return -1;
  for (int k = 0; k < nr * nc; k++) t->p[k] = t->c[k];
  for (int k = 0; k < nc; k++) t->h[k] = t->hc[k];
  return 0;
}
static void tbl_free(tbl *t) { free(t->c), free(t->p), free(t->hc), free(t->h); }
static void __attribute__((format(printf, 4, 5))) tset(tbl *t, int r, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->c[r * t->nc + col], CELL, fmt, ap);
  va_end(ap);
}
static void __attribute__((format(printf, 3, 4))) thead(tbl *t, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->hc[col], CELL, fmt, ap);
  va_end(ap);
}
static void tbl_emit(const tbl *t, FILE *md, rep_html *h, const char *caption) {
  rep_md_table(md, caption, t->nr, t->nc, t->h, t->p);
  rep_notes_md(md, &t->notes);
  rep_html_table(h, caption, t->nr, t->nc, t->h, t->p);
  rep_notes_html(h, &t->notes);
}
/* a cell of table t: a percentage / a number, or "—" with the footnote saying why */
static char *pct(tbl *t, char *b, double v, const char *why) { return rep_cell(b, 32, v, 1, &t->notes, why); }
static char *num(tbl *t, char *b, double v, const char *why) { return rep_cell(b, 32, v, 0, &t->notes, why); }
static char *csvv(char *b, double v) { return rep_fmt_csv(b, 32, v); }

/* ---------------------------------------------------------------- factor tests */

#define N_UNIV 4
#define MAX_CHART_SCORES 8
static const int k_univ[N_UNIV] = {REP_UNIV_CSIALL, PANEL_CSI300, PANEL_CSI500, PANEL_CSI1000};
static const char *univ_name(int u) { return u == REP_UNIV_CSIALL ? "CSI All" : u == PANEL_CSI300 ? "CSI300" : u == PANEL_CSI500 ? "CSI500" : "CSI1000"; }

/* Equal-weight combination of the heads' scores: per date, the mean of the per-date z-scores
 * (zz_zscore) over the stocks every head scores. */
static double *combined_scores(const pipe_ctx *x) {
  const panel *p = x->p;
  const int N = p->n_stocks, nh = x->l.n_heads;
  double *out = malloc(sizeof *out * (size_t)p->n_dates * (size_t)N);
  double *row = malloc(sizeof *row * (size_t)N * (size_t)(nh + 1));
  if (!out || !row) {
    free(out), free(row);
    return NULL;
  }
  for (size_t k = 0; k < (size_t)p->n_dates * (size_t)N; k++) out[k] = NAN;
  for (int t = x->t_first; t <= x->t_last; t++) {
    int n = 0;
    for (int k = 0; k < nh; k++) {
      double *z = row + (size_t)k * (size_t)N;
      for (int i = 0; i < N; i++) {
        int ok = 1; /* the stocks every head scores */
        for (int q = 0; q < nh; q++) ok = ok && isfinite(x->scores[x->l.heads[q]][panel_at(p, t, i)]);
        z[i] = ok ? x->scores[x->l.heads[k]][panel_at(p, t, i)] : NAN;
      }
      n = zz_zscore(z, N, z);
    }
    if (n < 2) continue;
    for (int i = 0; i < N; i++) {
      double v = 0;
      for (int k = 0; k < nh; k++) v += row[(size_t)k * (size_t)N + (size_t)i];
      if (isfinite(v)) out[panel_at(p, t, i)] = v / nh;
    }
  }
  free(row);
  return out;
}

/* HTML charts of the factor tests on one universe (seed 002 section 3): per score the RankIC series with its
 * cumulative sum; the layered test's group returns of every score side by side, and their top-minus-bottom
 * NAVs on one chart. */
static int factor_charts(rep_html *h, rep_factor_result *const *r, const char *const *names, int n, const char *univ,
                         zz_err *err) {
  if (n < 1) return ZZ_OK;
  if (n > MAX_CHART_SCORES) n = MAX_CHART_SCORES;
  char id[32], title[160], xl[112];
  int max_g = 0, max_ic = 0;
  size_t days = 0;
  for (int s = 0; s < n; s++) {
    max_g = r[s]->n_groups > max_g ? r[s]->n_groups : max_g;
    max_ic = r[s]->n_ic > max_ic ? r[s]->n_ic : max_ic;
    days += (size_t)r[s]->n_days;
  }
  char(*lab)[12] = malloc(sizeof *lab * (size_t)(max_ic + max_g + 1));
  const char **lp = malloc(sizeof *lp * (size_t)(max_ic + max_g + 1));
  double *nav = malloc(sizeof *nav * (days + 1));
  if (!lab || !lp || !nav) {
    free(lab), free(lp), free(nav);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  for (int s = 0; s < n; s++) {
    for (int k = 0; k < r[s]->n_ic; k++) lp[k] = zz_date_format(r[s]->ic_date[k], lab[k]);
    const double *v[1] = {r[s]->ic};
    snprintf(id, sizeof id, "rankic%d", s);
    snprintf(title, sizeof title, "%s on %s: RankIC (bars) and cumulative RankIC (line)", names[s], univ);
    rep_html_bars(h, id, title, "RankIC", "score date (every 10 trading days)", r[s]->n_ic, lp, 1, v, NULL,
                  "cumulative RankIC", 0);
  }
  /* group returns, the scores side by side in each group (one universe: the same number of groups) */
  const double *gv[MAX_CHART_SCORES];
  for (int s = 0; s < n; s++) gv[s] = r[s]->n_groups == max_g ? r[s]->group_ann_hedged : NULL;
  int same = 1;
  for (int s = 0; s < n; s++) same = same && gv[s];
  if (same) {
    for (int g = 0; g < max_g; g++) snprintf(lab[g], 12, "%d", g + 1), lp[g] = lab[g];
    snprintf(title, sizeof title, "Layered test on %s: annualised hedged return of each group", univ);
    snprintf(xl, sizeof xl, "score group (1 = lowest scores, %d = highest); weekly rebalance, no costs", max_g);
    rep_html_bars(h, "groups", title, "annualised return vs universe (%)", xl, max_g, lp, n, gv, names, NULL, 1);
  }
  /* top-minus-bottom NAVs */
  const int32_t *xs[MAX_CHART_SCORES];
  const double *ys[MAX_CHART_SCORES];
  int ns[MAX_CHART_SCORES];
  size_t off = 0;
  for (int s = 0; s < n; s++) {
    rep_chart_long_short(r[s]->group_ret, r[s]->n_days, r[s]->n_groups, nav + off);
    xs[s] = r[s]->day_date, ys[s] = nav + off, ns[s] = r[s]->n_days;
    off += (size_t)r[s]->n_days;
  }
  snprintf(title, sizeof title, "Layered test on %s: top-minus-bottom group NAV (daily top return - bottom return)",
           univ);
  rep_html_lines(h, "longshort", title, "NAV (start = 1)", n, xs, ns, ys, names, 0);
  free(nav), free(lab), free(lp);
  return ZZ_OK;
}

static int factor_section(pipe_ctx *x, FILE *md, rep_html *h, zz_err *err) {
  /* the heads' scores, their equal-weight combination, and with several datasets each dataset's score */
  enum { MAX_SC = PIPE_N_HEADS * (PIPE_MAX_DATASETS + 1) + 1 };
  const int n_ds = x->l.n_datasets > 1 ? x->l.n_datasets : 0;
  int n_sc = 0;
  const double *sc[MAX_SC];
  const char *names[MAX_SC];
  char dsn[MAX_SC][96];
  double *comb = NULL;
  for (int k = 0; k < x->l.n_heads; k++) sc[n_sc] = x->scores[x->l.heads[k]], names[n_sc++] = pipe_head_name(x->l.heads[k]);
  if (x->l.n_heads > 1) {
    if (!(comb = combined_scores(x))) return zz_fail(err, ZZ_ENOMEM, "out of memory");
    sc[n_sc] = comb, names[n_sc++] = "equal-weight combined";
  }
  for (int k = 0; k < x->l.n_heads; k++)
    for (int d = 0; d < n_ds; d++) {
      snprintf(dsn[n_sc], sizeof dsn[0], "%s (dataset %s)", pipe_head_name(x->l.heads[k]), x->l.datasets[d]);
      sc[n_sc] = x->ds_scores[d][x->l.heads[k]], names[n_sc] = dsn[n_sc], n_sc++;
    }
  char path[PIPE_PATH + 32], b[8][32];
  snprintf(path, sizeof path, "%s/factor_tables.csv", x->report_dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    free(comb);
    return zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  }
  fprintf(f, "score,universe,groups,n_ic,rankic_mean,ic_ir,rankic_positive,top_ann_hedged,bottom_ann_hedged,"
             "top_sharpe,top_max_drawdown,top_weekly_turnover\n");
  fprintf(md, "## Factor tests (seed 002 tables 8, 13, 14)\n\n"
              "RankIC: Spearman correlation of the score on day t with the return from the close of t+1 to the close "
              "of t+11, every 10 trading days over the backtest; IC_IR = mean / std (not annualised). Layered test: 20 "
              "groups on CSI All, 5 on an index; weekly rebalance at the next day's close, no costs; top / bottom "
              "group annualised return hedged against the universe's equal-weight return.\n\n");
  rep_html_heading(h, "Factor tests (seed 002 tables 8, 13, 14)");
  /* a synthetic market knows the ceiling: its oracle's RankIC over the backtest's dates, beside the scores' */
  synth_oracle_summary orc;
  int rc = synth_oracle_read(x->market_dir, x->p->dates[x->t_first], x->p->dates[x->t_last], &orc, err);
  if (rc) {
    fclose(f);
    free(comb);
    return zz_wrap(err, "report: the synthetic market's oracle");
  }
  const int with_oracle = orc.present && orc.n > 0;
  /* the heads' and the combined score's results on CSI All are kept for the charts */
  const int n_chart = x->l.n_heads + (x->l.n_heads > 1);
  rep_factor_result *keep[MAX_SC] = {0};
  for (int u = 0; u < N_UNIV && !rc; u++) {
    tbl t;
    const int oracle_row = u == 0 && with_oracle;
    if (tbl_init(&t, n_sc + oracle_row, 9)) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      tbl_free(&t);
      break;
    }
    const char *hd[9] = {"score", "RankIC mean", "IC_IR", "RankIC > 0", "top hedged ann.", "bottom hedged ann.",
                         "top Sharpe", "top max DD", "top weekly turnover"};
    for (int k = 0; k < 9; k++) thead(&t, k, "%s", hd[k]);
    for (int s = 0; s < n_sc && !rc; s++) {
      rep_factor_opts fo;
      rep_factor_default_opts(&fo);
      fo.universe = k_univ[u];
      rep_factor_result *r = NULL;
      zz_err fe = {0};
      rc = rep_factor_test(x->p, sc[s], &fo, &r, &fe);
      if (rc == ZZ_EDATA) { /* no usable cross-section (no scores in this universe, or constant scores): a row of
                               "—" saying why, not a failed run */
        rc = ZZ_OK;
        fprintf(f, "%s,%s,,0,,,,,,,,\n", names[s], univ_name(k_univ[u]));
        tset(&t, s, 0, "%s", names[s]);
        for (int k = 1; k < 9; k++) tset(&t, s, k, "%s", rep_cell_why(b[0], 32, &t.notes, fe.msg));
        continue;
      }
      if (rc) {
        if (err) *err = fe;
        zz_wrap(err, "factor tests of %s on %s", names[s], univ_name(k_univ[u]));
        break;
      }
      fprintf(f, "%s,%s,%d,%d,%s,%s,%s,%s,%s,%s,%s,%s\n", names[s], univ_name(k_univ[u]), r->n_groups, r->n_ic_defined,
              csvv(b[0], r->ic_mean), csvv(b[1], r->ic_ir), csvv(b[2], r->ic_pos), csvv(b[3], r->top_ann_hedged),
              csvv(b[4], r->bottom_ann_hedged), csvv(b[5], r->top_sharpe), csvv(b[6], r->top_mdd),
              csvv(b[7], r->top_turnover));
      tset(&t, s, 0, "%s", names[s]);
      char fc[REP_FACTOR_CELLS][32];
      rep_factor_cells(r, fc, &t.notes);
      for (int k = 0; k < REP_FACTOR_CELLS; k++) tset(&t, s, 1 + k, "%s", fc[k]); /* the table's column order */
      if (u == 0 && s < n_chart) keep[s] = r;
      else rep_factor_result_free(r);
    }
    if (!rc && oracle_row) {
      fprintf(f, "oracle (ceiling),%s,,%d,%s,%s,,,,,,\n", univ_name(k_univ[u]), orc.n, csvv(b[0], orc.rankic_mean),
              csvv(b[1], orc.rankic_ir));
      tset(&t, n_sc, 0, "oracle (ceiling) †");
      char why_ir[128];
      rep_why_spread(why_ir, sizeof why_ir, orc.n, "oracle RankIC dates");
      tset(&t, n_sc, 1, "%s", pct(&t, b[0], orc.rankic_mean, "the oracle's RankIC is defined on no date"));
      tset(&t, n_sc, 2, "%s", num(&t, b[1], orc.rankic_ir, why_ir));
      for (int k = 3; k < 9; k++)
        tset(&t, n_sc, k, "%s", rep_cell_why(b[0], 32, &t.notes, "the oracle is a RankIC ceiling: it has no layered test"));
    }
    if (!rc) {
      char cap[128];
      snprintf(cap, sizeof cap, "Factor test on %s", univ_name(k_univ[u]));
      tbl_emit(&t, md, h, cap);
      if (oracle_row) {
        char note[1024];
        snprintf(note, sizeof note,
                 "† The synthetic market's oracle, the best score any model can compute: the planted alpha's "
                 "expected value over T+1 -> T+11 given the whole market state at t (synth's Monte Carlo, "
                 "docs/synthetic_market.md), its RankIC on the %d dates it sampled in the backtest period, over "
                 "the stocks trading at t and listed through t+11 (ST included). A synthetic market written by the "
                 "run samples the oracle on the dates of these tables (every 10th trading day from the backtest's "
                 "first). Conditional oracle (expected alpha given today's memory only, not a ceiling): %.2f%%.",
                 orc.n, 100 * orc.cond_rankic_mean);
        fprintf(md, "%s\n\n", note);
        rep_html_para(h, note);
      }
    }
    tbl_free(&t);
  }
  if (!rc) { /* the charts of the scores whose factor test ran */
    rep_factor_result *ck[MAX_SC];
    const char *cn[MAX_SC];
    int nc = 0;
    for (int s = 0; s < n_chart; s++)
      if (keep[s]) ck[nc] = keep[s], cn[nc++] = names[s];
    rc = factor_charts(h, ck, cn, nc, univ_name(k_univ[0]), err);
  }
  for (int s = 0; s < n_chart; s++) rep_factor_result_free(keep[s]);
  if (fclose(f) && !rc) rc = zz_fail(err, ZZ_EIO, "%s: write failed", path);
  free(comb);
  return rc;
}

/* ---------------------------------------------------------------- the class3 head's classification */

/* Per year of the backtest (and over all of it): accuracy, per-class precision and recall and the confusion
 * matrix of the class3 head's predicted class (argmax of the seeds' mean probabilities, the p_* columns of
 * its score stage) against the class labels of the raw T+1 -> T+11 return (model.class_*, the universe's
 * stock-days), on every scored day with a label; beside them the RankIC of its score (every 10 trading days
 * from the backtest's first, as the factor tests). One block per dataset. */
static int class3_section(pipe_ctx *x, FILE *md, rep_html *h, zz_err *err) {
  int has = 0;
  for (int k = 0; k < x->l.n_heads; k++) has |= x->l.heads[k] == PIPE_HEAD_CLASS3;
  if (!has) return ZZ_OK;
  const panel *p = x->p;
  const int N = p->n_stocks;
  const size_t nn = (size_t)p->n_dates * (size_t)N;
  class3_label_opts co;
  double cw[NN_CLASSES];
  int rc = pipe_class3_opts(x->c, &co, cw, err);
  if (rc) return rc;
  double *ret = malloc(sizeof *ret * (nn ? nn : 1)), *y = malloc(sizeof *y * (nn ? nn : 1));
  double *a = malloc(sizeof *a * (size_t)(N ? N : 1)), *bb = malloc(sizeof *bb * (size_t)(N ? N : 1));
  FILE *f = NULL;
  char cpath[PIPE_PATH + 64], path[PIPE_PATH + 64], b[12][32];
  if (!ret || !y || !a || !bb) rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the class3 tables");
  if (!rc) rc = label_raw(p, LABEL_SKIP, LABEL_HORIZON, ret, err);
  if (!rc) {
    for (size_t k = 0; k < nn; k++)
      if (!x->eligible[k]) ret[k] = NAN;
    rc = class3_label_compute(p, ret, &co, y, err);
  }
  if (!rc) {
    snprintf(cpath, sizeof cpath, "%s/class3.csv", x->report_dir);
    if (!(f = fopen(cpath, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", cpath);
  }
  static const char *const cls[NN_CLASSES] = {"down", "neutral", "up"};
  if (!rc) {
    fprintf(f, "dataset,year,n,accuracy,precision_down,precision_neutral,precision_up,recall_down,recall_neutral,"
               "recall_up,rankic_mean,n_ic");
    for (int t = 0; t < NN_CLASSES; t++)
      for (int q = 0; q < NN_CLASSES; q++) fprintf(f, ",n_%s_%s", cls[t], cls[q]);
    fputc('\n', f);
    char desc[1024];
    snprintf(desc, sizeof desc,
             "Classes of the raw T+1 -> T+11 return (not the neutralised label): %s. Predicted class: the argmax of "
             "the seeds' mean class probabilities; every scored day of the backtest with a label (the universe's "
             "stock-days; the last 11 days of the market have none). Precision of a class: correct / predicted as "
             "it; recall: correct / truly in it. RankIC of score = P(up) - P(down) every 10 trading days, as the "
             "factor tests. Cross-entropy class weights (down, neutral, up): %g, %g, %g.",
             co.mode == CLASS3_RANK ? "rank, per date the top and bottom fractions of the cross-section" :
                                      "absolute thresholds on the return",
             cw[0], cw[1], cw[2]);
    char thr[160];
    if (co.mode == CLASS3_RANK) snprintf(thr, sizeof thr, " (top %g, bottom %g)", co.top, co.bottom);
    else snprintf(thr, sizeof thr, " (up > %g, down < %g)", co.up, co.down);
    fprintf(md, "## 3-class head: classification by year (seeds 000, 001)\n\n%s%s\n\n", desc, thr);
    rep_html_heading(h, "3-class head: classification by year (seeds 000, 001)");
    char para[1200];
    snprintf(para, sizeof para, "%s%s", desc, thr);
    rep_html_para(h, para);
  }
  const int y0 = p->dates[x->t_first] / 10000, y1 = p->dates[x->t_last] / 10000;
  const int ny = y1 - y0 + 1;
  for (int d = 0; d < x->l.n_datasets && !rc; d++) {
    char lb[96], sname[112], dir[PIPE_PATH];
    if (x->l.n_datasets == 1) snprintf(lb, sizeof lb, "class3");
    else snprintf(lb, sizeof lb, "class3-%s", x->l.datasets[d]);
    snprintf(sname, sizeof sname, "scores-%s", lb);
    pipe_stage_dir(x->c->out_dir, sname, x->hs.ds_scores[d][PIPE_HEAD_CLASS3], dir, sizeof dir);
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    score_table *st = NULL;
    if ((rc = score_table_read(path, p, &st, err))) break;
    const double *prob[NN_CLASSES] = {NULL, NULL, NULL};
    static const char *const pcol[NN_CLASSES] = {"p_down", "p_neutral", "p_up"};
    for (int c = 0; c < st->n_cols; c++)
      for (int q = 0; q < NN_CLASSES; q++)
        if (!strcmp(st->names[c], pcol[q])) prob[q] = st->values[c];
    if (!prob[0] || !prob[1] || !prob[2]) {
      score_table_free(st);
      rc = zz_fail(err, ZZ_EDATA, "%s: no p_down,p_neutral,p_up columns (scored by an older zhizeng?): delete the "
                   "directory %s and run again", path, dir);
      break;
    }
    const double *score = x->l.n_datasets == 1 ? x->scores[PIPE_HEAD_CLASS3] : x->ds_scores[d][PIPE_HEAD_CLASS3];
    tbl t, tc;
    if (tbl_init(&t, ny + 1, 10) || tbl_init(&tc, (ny + 1) * NN_CLASSES, 6)) {
      score_table_free(st);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    const char *hd[10] = {"year", "stock-days", "accuracy", "precision down", "precision neutral", "precision up",
                          "recall down", "recall neutral", "recall up", "RankIC mean"};
    for (int k = 0; k < 10; k++) thead(&t, k, "%s", hd[k]);
    const char *hc[6] = {"year", "true class", "predicted down", "predicted neutral", "predicted up", "row share correct"};
    for (int k = 0; k < 6; k++) thead(&tc, k, "%s", hc[k]);
    class3_confusion all = {{{0}}};
    double ic_all = 0;
    int n_ic_all = 0;
    for (int yi = 0; yi <= ny; yi++) {
      const int year = y0 + yi, last = yi == ny; /* the last row: the whole backtest */
      class3_confusion cm = {{{0}}};
      double ic_sum = 0;
      int n_ic = 0;
      if (!last) {
        for (int tt = x->t_first; tt <= x->t_last; tt++)
          if (p->dates[tt] / 10000 == year)
            class3_confusion_add(&cm, y, prob, panel_at(p, tt, 0), panel_at(p, tt, 0) + (size_t)N);
        for (int tt = x->t_first; tt <= x->t_last; tt += 10) {
          if (p->dates[tt] / 10000 != year) continue;
          int n = 0;
          for (int i = 0; i < N; i++) {
            const size_t k = panel_at(p, tt, i);
            if (isfinite(score[k]) && isfinite(ret[k])) a[n] = score[k], bb[n++] = ret[k];
          }
          const double ic = n >= 2 ? zz_spearman(a, bb, n) : NAN;
          if (isfinite(ic)) ic_sum += ic, n_ic++;
        }
        for (int q = 0; q < NN_CLASSES; q++)
          for (int r = 0; r < NN_CLASSES; r++) all.n[q][r] += cm.n[q][r];
        ic_all += ic_sum, n_ic_all += n_ic;
      } else {
        cm = all, ic_sum = ic_all, n_ic = n_ic_all;
      }
      const double ic = n_ic ? ic_sum / n_ic : NAN;
      char yb[16];
      if (last) snprintf(yb, sizeof yb, "all");
      else snprintf(yb, sizeof yb, "%d", year);
      tset(&t, yi, 0, "%s", yb);
      tset(&t, yi, 1, "%lld", (long long)class3_confusion_total(&cm));
      char why_p[NN_CLASSES][96], why_r[NN_CLASSES][96];
      for (int q = 0; q < NN_CLASSES; q++) {
        snprintf(why_p[q], sizeof why_p[q], "precision: no stock-day was predicted %s", cls[q]);
        snprintf(why_r[q], sizeof why_r[q], "recall: no stock-day has the label %s", cls[q]);
      }
      tset(&t, yi, 2, "%s", pct(&t, b[0], class3_accuracy(&cm), "no scored stock-day has a label"));
      for (int q = 0; q < NN_CLASSES; q++) {
        tset(&t, yi, 3 + q, "%s", pct(&t, b[1], class3_precision(&cm, q), why_p[q]));
        tset(&t, yi, 6 + q, "%s", pct(&t, b[1], class3_recall(&cm, q), why_r[q]));
      }
      tset(&t, yi, 9, "%s", pct(&t, b[2], ic, "RankIC is defined on no sampled date (fewer than 2 stocks with a score "
                                               "and a return, or constant scores)"));
      fprintf(f, "%s,%s,%lld,%s", x->l.datasets[d], yb, (long long)class3_confusion_total(&cm),
              csvv(b[0], class3_accuracy(&cm)));
      for (int q = 0; q < NN_CLASSES; q++) fprintf(f, ",%s", csvv(b[1 + q], class3_precision(&cm, q)));
      for (int q = 0; q < NN_CLASSES; q++) fprintf(f, ",%s", csvv(b[4 + q], class3_recall(&cm, q)));
      fprintf(f, ",%s,%d", csvv(b[7], ic), n_ic);
      for (int q = 0; q < NN_CLASSES; q++)
        for (int r = 0; r < NN_CLASSES; r++) fprintf(f, ",%lld", (long long)cm.n[q][r]);
      fputc('\n', f);
      for (int q = 0; q < NN_CLASSES; q++) {
        const int row = yi * NN_CLASSES + q;
        tset(&tc, row, 0, "%s", yb);
        tset(&tc, row, 1, "%s", cls[q]);
        for (int r = 0; r < NN_CLASSES; r++) tset(&tc, row, 2 + r, "%lld", (long long)cm.n[q][r]);
        tset(&tc, row, 5, "%s", pct(&tc, b[3], class3_recall(&cm, q), why_r[q]));
      }
    }
    char cap[160];
    snprintf(cap, sizeof cap, "class3%s%s: accuracy, precision and recall per class, RankIC, by year",
             x->l.n_datasets > 1 ? " dataset " : "", x->l.n_datasets > 1 ? x->l.datasets[d] : "");
    tbl_emit(&t, md, h, cap);
    snprintf(cap, sizeof cap, "class3%s%s: confusion matrix (stock-days, rows the true class), by year",
             x->l.n_datasets > 1 ? " dataset " : "", x->l.n_datasets > 1 ? x->l.datasets[d] : "");
    tbl_emit(&tc, md, h, cap);
    tbl_free(&t);
    tbl_free(&tc);
    score_table_free(st);
  }
  if (f && fclose(f) && !rc) rc = zz_fail(err, ZZ_EIO, "%s: write failed", cpath);
  free(ret), free(y), free(a), free(bb);
  return rc;
}

/* ---------------------------------------------------------------- backtests */

#define MAX_YEARS 64
#define N_SUM REP_SUM_N
static const char k_no_solved[] = "no week of this backtest was solved by the optimiser (every rebalance held)";
static const char k_no_traded[] = "no rebalance of this backtest was traded";
static const char k_no_later[] = "no rebalance after the first purchase (whose turnover is exempt) was solved and traded";
static const char k_year_why[] = "the NAV at the start of the year is not positive";
/* summary metric m of run s as a cell of t */
static char *fmt_metric(tbl *t, char *b, int m, const rep_summary *s) {
  return rep_cell(b, 32, rep_summary_value(s, m), rep_summary_is_pct(m), &t->notes, rep_summary_why(s, m));
}

static const char *floor_name(double fl, char *b, size_t n) {
  if (fl > 0) snprintf(b, n, "constituents >= %g%%", 100 * fl);
  else snprintf(b, n, "no floor");
  return b;
}

/* HTML charts of one index (seed 002 figures 18-23): per floor the hedged NAV of every head on one chart and
 * their drawdowns; the yearly hedged (excess) return of every backtest side by side; then each backtest's
 * absolute, benchmark and hedged NAV. */
static int index_charts(const pipe_ctx *x, rep_html *h, int index, const int *sel, int ns, rep_run *const *runs,
                        const rep_year_row *years, const int *ny, zz_err *err) {
  char id[48], title[192], fb[64], names[PIPE_MAX_RUNS][96];
  const char *np[PIPE_MAX_RUNS];
  const int32_t *xs[PIPE_MAX_RUNS];
  const double *ys[PIPE_MAX_RUNS];
  int nn[PIPE_MAX_RUNS];
  size_t cells = 0;
  for (int s = 0; s < ns; s++) cells += (size_t)runs[sel[s]]->n;
  double *buf = malloc(sizeof *buf * (3 * cells + 1));
  if (!buf) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  double *hed = buf, *dd = buf + cells;
  size_t off = 0;
  for (int s = 0; s < ns; s++) {
    const rep_run *r = runs[sel[s]];
    for (int q = 0; q < r->n; q++) hed[off + (size_t)q] = r->hedged[q] / r->hedged[0];
    rep_chart_drawdown(hed + off, r->n, dd + off);
    off += (size_t)r->n;
  }
  for (int fl = 0; fl < x->l.n_floors; fl++) {
    int m = 0;
    off = 0;
    for (int s = 0; s < ns; s++) {
      const int k = sel[s];
      if (x->bt[k].floor_k == fl) {
        snprintf(names[m], sizeof names[0], "%s", pipe_head_name(x->bt[k].head));
        np[m] = names[m], xs[m] = runs[k]->date, nn[m] = runs[k]->n, ys[m] = hed + off;
        m++;
      }
      off += (size_t)runs[k]->n;
    }
    if (!m) continue;
    floor_name(x->l.floors[fl], fb, sizeof fb);
    snprintf(id, sizeof id, "hedged_%s_%d", zz_index_name(index), fl);
    snprintf(title, sizeof title, "%s, %s: hedged NAV (excess over the benchmark, after hedge cost)",
             zz_index_name(index), fb);
    rep_html_lines(h, id, title, "hedged NAV (start = 1)", m, xs, nn, ys, np, 0);
    for (int q = 0; q < m; q++) ys[q] = dd + (ys[q] - hed);
    snprintf(id, sizeof id, "drawdown_%s_%d", zz_index_name(index), fl);
    snprintf(title, sizeof title, "%s, %s: drawdown of the hedged NAV", zz_index_name(index), fb);
    rep_html_lines(h, id, title, "drawdown from the running peak (%)", m, xs, nn, ys, np, 1);
  }
  /* yearly hedged returns: a category per calendar year, a bar per backtest */
  int y0 = 9999, y1 = 0;
  for (int s = 0; s < ns; s++)
    for (int q = 0; q < ny[sel[s]]; q++) {
      const int yr = years[(size_t)sel[s] * MAX_YEARS + q].year;
      y0 = yr < y0 ? yr : y0, y1 = yr > y1 ? yr : y1;
    }
  const int nyc = y1 - y0 + 1;
  double *yv = nyc > 0 && nyc <= MAX_YEARS ? malloc(sizeof *yv * (size_t)(nyc * ns)) : NULL;
  if (yv) {
    char cat[MAX_YEARS][16];
    const char *cp[MAX_YEARS];
    const double *vp[PIPE_MAX_RUNS];
    int partial[MAX_YEARS] = {0};
    for (int s = 0; s < ns; s++) {
      const int k = sel[s];
      for (int q = 0; q < nyc; q++) yv[s * nyc + q] = NAN;
      for (int q = 0; q < ny[k]; q++) {
        const rep_year_row *yr = &years[(size_t)k * MAX_YEARS + q];
        yv[s * nyc + yr->year - y0] = yr->hedged_ret;
        partial[yr->year - y0] |= yr->partial;
      }
      snprintf(names[s], sizeof names[0], "%s, %s", pipe_head_name(x->bt[k].head),
               floor_name(x->bt[k].floor, fb, sizeof fb));
      np[s] = names[s], vp[s] = yv + s * nyc;
    }
    for (int q = 0; q < nyc; q++)
      snprintf(cat[q], sizeof cat[0], "%d%s", y0 + q, partial[q] ? " *" : ""), cp[q] = cat[q];
    snprintf(id, sizeof id, "yearly_%s", zz_index_name(index));
    snprintf(title, sizeof title, "%s: yearly hedged (excess) return", zz_index_name(index));
    rep_html_bars(h, id, title, "hedged return in the year (%)", "calendar year (* = partial year)",
                  nyc, cp, ns, vp, np, NULL, 1);
  }
  free(yv);
  /* each backtest's NAVs */
  for (int s = 0; s < ns; s++) {
    const rep_run *r = runs[sel[s]];
    double *nav = buf; /* the hedged and drawdown series are drawn: reuse the buffer (3 x cells) */
    for (int q = 0; q < r->n; q++) {
      nav[q] = r->nav[q] / r->nav[0];
      nav[r->n + q] = r->bench[q] / r->bench[0];
      nav[2 * r->n + q] = r->hedged[q] / r->hedged[0];
    }
    const double *y3[3] = {nav, nav + r->n, nav + 2 * r->n};
    const int32_t *x3[3] = {r->date, r->date, r->date};
    const int n3[3] = {r->n, r->n, r->n};
    const char *nm[3] = {"absolute (portfolio)", "benchmark index", "hedged"};
    snprintf(id, sizeof id, "nav%d", sel[s]);
    snprintf(title, sizeof title, "%s: net asset value", r->label);
    rep_html_lines(h, id, title, "NAV (start = 1)", 3, x3, n3, y3, nm, 0);
  }
  free(buf);
  return ZZ_OK;
}

static int backtest_section(pipe_ctx *x, FILE *md, rep_html *h, zz_err *err) {
  const int nb = x->n_bt;
  rep_run **runs = calloc((size_t)nb, sizeof *runs);
  rep_summary *sum = calloc((size_t)nb, sizeof *sum);
  rep_year_row *years = calloc((size_t)nb * MAX_YEARS, sizeof *years);
  int *ny = calloc((size_t)nb, sizeof *ny);
  pipe_diag_sum *ds = calloc((size_t)nb, sizeof *ds);
  sim_result **sims = calloc((size_t)nb, sizeof *sims);
  int rc = ZZ_OK;
  FILE *fy = NULL, *fs = NULL, *fd = NULL, *fc = NULL;
  char path[PIPE_PATH + 32], b[8][32];
  if (!runs || !sum || !years || !ny || !ds || !sims) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (int k = 0; k < nb && !rc; k++) {
    if ((rc = sim_result_read(x->bt[k].dir, &sims[k], err)) ||
        (rc = rep_run_from_sim(sims[k], x->bt[k].label, &runs[k], err)))
      break;
    ny[k] = rep_yearly(runs[k], years + (size_t)k * MAX_YEARS, MAX_YEARS);
    rep_summarise(runs[k], &sum[k]);
  }
  /* CSV files */
  if (!rc) {
    snprintf(path, sizeof path, "%s/yearly.csv", x->report_dir);
    if (!(fy = fopen(path, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
    snprintf(path, sizeof path, "%s/summary.csv", x->report_dir);
    if (!rc && !(fs = fopen(path, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
    snprintf(path, sizeof path, "%s/diagnostics.csv", x->report_dir);
    if (!rc && !(fd = fopen(path, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  }
  if (!rc) {
    fprintf(fy, "run,index,score,floor,year,partial,first,last,absolute,hedged,benchmark\n");
    fprintf(fs, "run,index,score,floor,days,weeks");
    for (int m = 0; m < N_SUM; m++) fprintf(fs, ",%s", rep_summary_key(m));
    fprintf(fs, ",rebalances,relaxed_rebalances,max_te_ex_ante,mean_turnover_ex_ante,held_rebalances,"
                "industry_coverage_universe,industry_coverage_bench,mean_turnover_realised,max_turnover_realised,"
                "rebalances_over_cap,over_cap_named,mean_cash_after_rebalance,mean_invested,entry_slippage,"
                "first_trade_date\n");
    fputs(pipe_diag_header, fd);
    for (int k = 0; k < nb && !rc; k++) {
      const pipe_bt *bt = &x->bt[k];
      for (int y = 0; y < ny[k]; y++) {
        const rep_year_row *r = &years[(size_t)k * MAX_YEARS + y];
        char d0[11], d1[11];
        fprintf(fy, "%s,%s,%s,%s,%d,%d,%s,%s,%s,%s,%s\n", bt->label, zz_index_name(bt->index), pipe_head_name(bt->head),
                zz_fmt_double(b[3], 32, bt->floor), r->year, r->partial, zz_date_format(r->first, d0),
                zz_date_format(r->last, d1), csvv(b[0], r->abs_ret), csvv(b[1], r->hedged_ret), csvv(b[2], r->bench_ret));
      }
      if ((rc = pipe_diag_copy(bt->dir, fd, &ds[k], err))) break;
      fprintf(fs, "%s,%s,%s,%s,%d,%d", bt->label, zz_index_name(bt->index), pipe_head_name(bt->head),
              zz_fmt_double(b[3], 32, bt->floor), sum[k].days, sum[k].weeks);
      for (int m = 0; m < N_SUM; m++) fprintf(fs, ",%s", csvv(b[0], rep_summary_value(&sum[k], m)));
      fprintf(fs, ",%d,%d,%s,%s,%d,%s,%s", ds[k].rebalances, ds[k].relaxed, csvv(b[0], ds[k].max_te),
              csvv(b[1], ds[k].mean_turnover), ds[k].held, csvv(b[2], ds[k].cov_universe), csvv(b[3], ds[k].cov_bench));
      char dd[16];
      fprintf(fs, ",%s,%s,%d,%d,%s,%s,%s,%s\n", csvv(b[0], ds[k].mean_realised), csvv(b[1], ds[k].max_realised),
              ds[k].over_cap, ds[k].over_cap_named, csvv(b[2], ds[k].mean_cash), csvv(b[3], sims[k]->mean_invested),
              csvv(b[4], sims[k]->entry_slippage), zz_date_format(sims[k]->dates[0], dd));
    }
  }
  /* per index: yearly and summary tables (seed 002 tables 18-29) */
  for (int ii = 0; ii < x->l.n_indices && !rc; ii++) {
    const int index = x->l.indices[ii];
    int sel[PIPE_MAX_RUNS], ns = 0, y0 = 9999, y1 = 0;
    for (int k = 0; k < nb; k++)
      if (x->bt[k].index == index) {
        sel[ns++] = k;
        for (int y = 0; y < ny[k]; y++) {
          const int yr = years[(size_t)k * MAX_YEARS + y].year;
          y0 = yr < y0 ? yr : y0, y1 = yr > y1 ? yr : y1;
        }
      }
    if (!ns || y1 < y0) continue;
    char title[128];
    snprintf(title, sizeof title, "%s enhancement (benchmark %s)", zz_index_name(index), zz_index_code(index));
    fprintf(md, "## %s\n\n", title);
    rep_html_heading(h, title);
    tbl t;
    const int nyc = y1 - y0 + 1;
    if (tbl_init(&t, 2 * ns, 3 + nyc)) {
      tbl_free(&t);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    thead(&t, 0, "score"), thead(&t, 1, "floor"), thead(&t, 2, "return");
    for (int y = y0; y <= y1; y++) thead(&t, 3 + y - y0, "%d", y);
    for (int s = 0; s < ns; s++)
      for (int kind = 0; kind < 2; kind++) {
        const int k = sel[s], row = 2 * s + kind;
        char fb[64];
        tset(&t, row, 0, "%s", pipe_head_name(x->bt[k].head));
        tset(&t, row, 1, "%s", floor_name(x->bt[k].floor, fb, sizeof fb));
        tset(&t, row, 2, "%s", kind ? "hedged" : "absolute");
        for (int y = y0; y <= y1; y++) tset(&t, row, 3 + y - y0, "-");
        for (int y = 0; y < ny[k]; y++) {
          const rep_year_row *r = &years[(size_t)k * MAX_YEARS + y];
          tset(&t, row, 3 + r->year - y0, "%s%s", pct(&t, b[0], kind ? r->hedged_ret : r->abs_ret, k_year_why),
               r->partial ? " *" : "");
        }
      }
    snprintf(title, sizeof title, "%s: yearly returns (* = partial year)", zz_index_name(index));
    tbl_emit(&t, md, h, title);
    tbl_free(&t);
    if (tbl_init(&t, N_SUM + 2, 1 + ns)) {
      tbl_free(&t);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    thead(&t, 0, "metric");
    for (int s = 0; s < ns; s++) {
      char fb[64];
      thead(&t, 1 + s, "%s, %s", pipe_head_name(x->bt[sel[s]].head), floor_name(x->bt[sel[s]].floor, fb, sizeof fb));
    }
    for (int m = 0; m < N_SUM; m++) {
      tset(&t, m, 0, "%s", rep_summary_label(m));
      for (int s = 0; s < ns; s++) {
        tset(&t, m, 1 + s, "%s", fmt_metric(&t, b[0], m, &sum[sel[s]]));
      }
    }
    tset(&t, N_SUM, 0, "rebalances (relaxed)");
    tset(&t, N_SUM + 1, 0, "max ex-ante TE");
    for (int s = 0; s < ns; s++) {
      tset(&t, N_SUM, 1 + s, "%d (%d)", ds[sel[s]].rebalances, ds[sel[s]].relaxed);
      tset(&t, N_SUM + 1, 1 + s, "%s", pct(&t, b[0], ds[sel[s]].max_te, k_no_solved));
    }
    snprintf(title, sizeof title, "%s: summary", zz_index_name(index));
    tbl_emit(&t, md, h, title);
    tbl_free(&t);
    if ((rc = index_charts(x, h, index, sel, ns, runs, years, ny, err))) break;
  }
  /* univariate vs multivariate (when both are among the heads) */
  int uni_multi = 0;
  for (int k = 0; k < x->l.n_heads; k++) uni_multi += x->l.heads[k] == PIPE_HEAD_UNI || x->l.heads[k] == PIPE_HEAD_MULTI;
  if (!rc && uni_multi == 2) {
    static const int cm[6] = {4, 5, 6, 7, 0, 9};
    tbl t;
    if (tbl_init(&t, x->l.n_indices * x->l.n_floors, 2 + 2 * 6)) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    if (!rc) {
      fprintf(md, "## Univariate vs multivariate\n\n");
      rep_html_heading(h, "Univariate vs multivariate");
      snprintf(path, sizeof path, "%s/comparison.csv", x->report_dir);
      if (!(fc = fopen(path, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
    }
    if (!rc) {
      thead(&t, 0, "index"), thead(&t, 1, "floor");
      fprintf(fc, "index,floor");
      for (int m = 0; m < 6; m++)
        for (int hd = 0; hd < 2; hd++) {
          thead(&t, 2 + 2 * m + hd, "%s (%s)", rep_summary_label(cm[m]), hd ? "multi" : "uni");
          fprintf(fc, ",%s_%s", rep_summary_key(cm[m]), hd ? "multivariate" : "univariate");
        }
      fputc('\n', fc);
      int row = 0;
      for (int ii = 0; ii < x->l.n_indices; ii++)
        for (int fl = 0; fl < x->l.n_floors; fl++, row++) {
          char fb[64];
          tset(&t, row, 0, "%s", zz_index_name(x->l.indices[ii]));
          tset(&t, row, 1, "%s", floor_name(x->l.floors[fl], fb, sizeof fb));
          fprintf(fc, "%s,%s", zz_index_name(x->l.indices[ii]), zz_fmt_double(b[3], 32, x->l.floors[fl]));
          const rep_summary *v[2] = {NULL, NULL};
          for (int hd = 0; hd < 2; hd++)
            for (int k = 0; k < nb; k++)
              if (x->bt[k].index == x->l.indices[ii] && x->bt[k].floor_k == fl && x->bt[k].head == hd) v[hd] = &sum[k];
          for (int m = 0; m < 6; m++)
            for (int hd = 0; hd < 2; hd++) {
              if (!v[hd]) { /* every (index, floor) has both heads' backtests; kept safe */
                tset(&t, row, 2 + 2 * m + hd, "%s", rep_cell_why(b[0], 32, &t.notes, "no backtest of this score"));
                fputc(',', fc);
                continue;
              }
              tset(&t, row, 2 + 2 * m + hd, "%s", fmt_metric(&t, b[0], cm[m], v[hd]));
              fprintf(fc, ",%s", csvv(b[1], rep_summary_value(v[hd], cm[m])));
            }
          fputc('\n', fc);
        }
      tbl_emit(&t, md, h, "Hedged (excess) and absolute performance, univariate vs multivariate score");
    }
    tbl_free(&t);
  }
  /* optimizer diagnostics summary */
  if (!rc) {
    tbl t;
    enum { NCOL = 17 };
    if (tbl_init(&t, nb, NCOL)) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    else {
      const char *hd[NCOL] = {"backtest", "rebalances", "with a relaxation", "not certified (gap)", "max ex-ante TE",
                              "min constituent weight", "held (not solved)", "inputs repaired", "GLPK retried",
                              "weeks with suspended members", "industry coverage (universe / index weight)",
                              "turnover planned / realised (mean)", "max realised turnover",
                              "above cap + 0.5 pt (named causes)", "cash after rebalance (mean)",
                              "invested (mean) / entry slippage", "cut rounds (mean) / warm starts"};
      for (int k = 0; k < NCOL; k++) thead(&t, k, "%s", hd[k]);
      for (int k = 0; k < nb; k++) {
        tset(&t, k, 0, "%s", x->bt[k].label);
        tset(&t, k, 1, "%d", ds[k].rebalances);
        tset(&t, k, 2, "%d", ds[k].relaxed);
        tset(&t, k, 3, "%d", ds[k].gap_status);
        tset(&t, k, 4, "%s", pct(&t, b[0], ds[k].max_te, k_no_solved));
        tset(&t, k, 5, "%s", pct(&t, b[1], ds[k].min_constituent, k_no_solved));
        tset(&t, k, 6, "%d", ds[k].held);
        tset(&t, k, 7, "%d", ds[k].repaired);
        tset(&t, k, 8, "%d", ds[k].retried);
        tset(&t, k, 9, "%d", ds[k].carried_weeks);
        tset(&t, k, 10, "%s / %s", pct(&t, b[2], ds[k].cov_universe, k_no_solved),
             pct(&t, b[3], ds[k].cov_bench, k_no_solved));
        tset(&t, k, 11, "%s / %s", pct(&t, b[2], ds[k].mean_turnover, k_no_later),
             pct(&t, b[3], ds[k].mean_realised, k_no_later));
        tset(&t, k, 12, "%s", pct(&t, b[2], ds[k].max_realised, k_no_later));
        tset(&t, k, 13, "%d (%d)", ds[k].over_cap, ds[k].over_cap_named);
        tset(&t, k, 14, "%s", pct(&t, b[2], ds[k].mean_cash, k_no_traded));
        tset(&t, k, 15, "%s / %s", pct(&t, b[2], sims[k]->mean_invested, "the simulation has no day after its first trade"),
             pct(&t, b[3], sims[k]->entry_slippage, "no trade was filled"));
        tset(&t, k, 16, "%.1f / %d", ds[k].mean_rounds, ds[k].warm);
      }
      fprintf(md, "## Optimizer diagnostics\n\nOne row per rebalance per backtest in diagnostics.csv: achieved "
                  "tracking error, style exposures, industry deviations, constituent weight, turnover and weights "
                  "against the limits in force, and every relaxation. A week the optimiser cannot solve even after "
                  "its repairs and GLPK retries is held (no orders that week) and counted as held. Industry "
                  "coverage: the share of the optimised universe, and of the benchmark weight, with an industry "
                  "(the rest is one unclassified group bounded by optimizer.unclassified_bound). Turnover is "
                  "one-way with cash counted as a position, planned (the optimiser, against the simulator's real "
                  "book at the rebalance close) and realised (the fills at the next day's prices, after lot "
                  "rounding); a rebalance more than 0.5 pt above the cap names its causes in "
                  "diagnostics.csv (turnover_causes: delistings since the last trade, orders left unfilled "
                  "then, or a relaxed limit). Entry slippage: the first trade day's move from the fills to the "
                  "close, in neither NAV. Cut rounds: the optimiser's cutting-plane rounds per solved week; warm "
                  "starts: the weeks solved from the previous week's cuts and basis (optimizer.warm_start); each "
                  "week's wall seconds are in diagnostics.csv (opt_seconds).\n\n");
      rep_html_heading(h, "Optimizer diagnostics");
      tbl_emit(&t, md, h, "Constraints per backtest (details: diagnostics.csv)");
    }
    tbl_free(&t);
  }
  if (fy && fclose(fy) && !rc) rc = zz_fail(err, ZZ_EIO, "write failed: yearly.csv");
  if (fs && fclose(fs) && !rc) rc = zz_fail(err, ZZ_EIO, "write failed: summary.csv");
  if (fd && fclose(fd) && !rc) rc = zz_fail(err, ZZ_EIO, "write failed: diagnostics.csv");
  if (fc && fclose(fc) && !rc) rc = zz_fail(err, ZZ_EIO, "write failed: comparison.csv");
  for (int k = 0; runs && k < nb; k++) rep_run_free(runs[k]);
  for (int k = 0; sims && k < nb; k++) sim_result_free(sims[k]);
  free(runs), free(sum), free(years), free(ny), free(ds), free(sims);
  return rc;
}

/* ---------------------------------------------------------------- top-N runs (topn.enabled) */

/* Per head: the yearly absolute and hedged returns of every N with the benchmark's, the summary side by side,
 * the NAVs of every N and the benchmark on one chart; topn_yearly.csv and topn_summary.csv. */
static int topn_section(pipe_ctx *x, FILE *md, rep_html *h, zz_err *err) {
  const int nt = x->n_topn;
  const pipe_config *c = x->c;
  rep_run **runs = calloc((size_t)nt, sizeof *runs);
  rep_summary *sum = calloc((size_t)nt, sizeof *sum);
  rep_year_row *years = calloc((size_t)nt * MAX_YEARS, sizeof *years);
  int *ny = calloc((size_t)nt, sizeof *ny), rc = ZZ_OK;
  sim_result **sims = calloc((size_t)nt, sizeof *sims);
  char path[PIPE_PATH + 32], b[4][32];
  FILE *fy = NULL, *fs = NULL;
  if (!runs || !sum || !years || !ny || !sims) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (int k = 0; k < nt && !rc; k++) {
    if ((rc = sim_result_read(x->topn[k].dir, &sims[k], err)) ||
        (rc = rep_run_from_sim(sims[k], x->topn[k].label, &runs[k], err)))
      break;
    ny[k] = rep_yearly(runs[k], years + (size_t)k * MAX_YEARS, MAX_YEARS);
    rep_summarise(runs[k], &sum[k]);
  }
  if (!rc) {
    snprintf(path, sizeof path, "%s/topn_yearly.csv", x->report_dir);
    if (!(fy = fopen(path, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
    snprintf(path, sizeof path, "%s/topn_summary.csv", x->report_dir);
    if (!rc && !(fs = fopen(path, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  }
  if (!rc) {
    fprintf(fy, "run,score,n,year,partial,first,last,absolute,hedged,benchmark\n");
    fprintf(fs, "run,score,n,days,weeks");
    for (int m = 0; m < N_SUM; m++) fprintf(fs, ",%s", rep_summary_key(m));
    fprintf(fs, ",rebalances,mean_invested,entry_slippage,first_trade_date\n");
    for (int k = 0; k < nt; k++) {
      const pipe_topn_run_dir *t = &x->topn[k];
      for (int y = 0; y < ny[k]; y++) {
        const rep_year_row *r = &years[(size_t)k * MAX_YEARS + y];
        char d0[11], d1[11];
        fprintf(fy, "%s,%s,%d,%d,%d,%s,%s,%s,%s,%s\n", t->label, pipe_head_name(t->head), t->n, r->year, r->partial,
                zz_date_format(r->first, d0), zz_date_format(r->last, d1), csvv(b[0], r->abs_ret), csvv(b[1], r->hedged_ret),
                csvv(b[2], r->bench_ret));
      }
      char dd[16];
      fprintf(fs, "%s,%s,%d,%d,%d", t->label, pipe_head_name(t->head), t->n, sum[k].days, sum[k].weeks);
      for (int m = 0; m < N_SUM; m++) fprintf(fs, ",%s", csvv(b[0], rep_summary_value(&sum[k], m)));
      fprintf(fs, ",%d,%s,%s,%s\n", sims[k]->n_rebalances, csvv(b[0], sims[k]->mean_invested),
              csvv(b[1], sims[k]->entry_slippage), zz_date_format(sims[k]->dates[0], dd));
    }
  }
  for (int hk = 0; hk < x->l.n_heads && !rc; hk++) {
    const int head = x->l.heads[hk];
    int sel[PIPE_TOPN_MAX], ns = 0, y0 = 9999, y1 = 0;
    for (int k = 0; k < nt; k++)
      if (x->topn[k].head == head && ns < PIPE_TOPN_MAX) {
        sel[ns++] = k;
        for (int y = 0; y < ny[k]; y++) {
          const int yr = years[(size_t)k * MAX_YEARS + y].year;
          y0 = yr < y0 ? yr : y0, y1 = yr > y1 ? yr : y1;
        }
      }
    if (!ns || y1 < y0) continue;
    char title[192];
    snprintf(title, sizeof title, "Top-N strategy, %s score: %.40s, %.20s rebalancing, %.20s costs", pipe_head_name(head),
             c->topn_universe, c->topn_rebalance, c->topn_costs);
    fprintf(md, "## %s\n\n", title);
    rep_html_heading(h, title);
    const char *note = "Equal weight (1 - topn.cash) / N on the N best-scored stocks of the universe that can be bought on "
                       "the decision day or are held, decided at the close and traded by the simulator like the "
                       "enhancement backtests (docs/pipeline.md, \"Top-N strategy\"); seed004 costs: commission max(0.1 %, "
                       "5 CNY) per trade, stamp duty max(0.1 %, 1 CNY) per sell.";
    fprintf(md, "%s\n\n", note);
    rep_html_para(h, note);
    tbl t;
    const int nyc = y1 - y0 + 1;
    if (tbl_init(&t, 2 * ns + 1, 2 + nyc)) {
      tbl_free(&t);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    thead(&t, 0, "run"), thead(&t, 1, "return");
    for (int y = y0; y <= y1; y++) thead(&t, 2 + y - y0, "%d", y);
    for (int row = 0; row < 2 * ns + 1; row++) {
      const int kind = row < ns ? 0 : row < 2 * ns ? 1 : 2, k = sel[kind == 2 ? 0 : row % ns];
      tset(&t, row, 0, "%s", kind == 2 ? "benchmark" : x->topn[k].label);
      tset(&t, row, 1, "%s", kind == 0 ? "absolute" : kind == 1 ? "hedged" : "index");
      for (int y = y0; y <= y1; y++) tset(&t, row, 2 + y - y0, "-");
      for (int y = 0; y < ny[k]; y++) {
        const rep_year_row *r = &years[(size_t)k * MAX_YEARS + y];
        const double v = kind == 0 ? r->abs_ret : kind == 1 ? r->hedged_ret : r->bench_ret;
        tset(&t, row, 2 + r->year - y0, "%s%s", pct(&t, b[0], v, k_year_why), r->partial ? " *" : "");
      }
    }
    tbl_emit(&t, md, h, "Yearly returns, N side by side (* = partial year)");
    tbl_free(&t);
    if (tbl_init(&t, N_SUM + 1, 1 + ns)) {
      tbl_free(&t);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    thead(&t, 0, "metric");
    for (int s2 = 0; s2 < ns; s2++) thead(&t, 1 + s2, "top %d", x->topn[sel[s2]].n);
    for (int m = 0; m < N_SUM; m++) {
      tset(&t, m, 0, "%s", rep_summary_label(m));
      for (int s2 = 0; s2 < ns; s2++) {
        tset(&t, m, 1 + s2, "%s", fmt_metric(&t, b[0], m, &sum[sel[s2]]));
      }
    }
    tset(&t, N_SUM, 0, "rebalances");
    for (int s2 = 0; s2 < ns; s2++) tset(&t, N_SUM, 1 + s2, "%d", sims[sel[s2]]->n_rebalances);
    tbl_emit(&t, md, h, "Summary against the benchmark, N side by side");
    tbl_free(&t);
    /* NAV of every N and the benchmark on one chart */
    const int32_t *xs[PIPE_TOPN_MAX + 1];
    const double *ys[PIPE_TOPN_MAX + 1];
    const char *names[PIPE_TOPN_MAX + 1];
    int nsz[PIPE_TOPN_MAX + 1];
    char nmb[PIPE_TOPN_MAX][32], id[48];
    for (int s2 = 0; s2 < ns; s2++) {
      const rep_run *r = runs[sel[s2]];
      snprintf(nmb[s2], sizeof nmb[s2], "top %d", x->topn[sel[s2]].n);
      xs[s2] = r->date, nsz[s2] = r->n, ys[s2] = r->nav, names[s2] = nmb[s2];
    }
    xs[ns] = runs[sel[0]]->date, nsz[ns] = runs[sel[0]]->n, ys[ns] = runs[sel[0]]->bench, names[ns] = "benchmark";
    snprintf(id, sizeof id, "topn_nav_%s", pipe_head_name(head));
    snprintf(title, sizeof title, "Top-N (%s score): NAV against the benchmark", pipe_head_name(head));
    rep_html_lines(h, id, title, "NAV", ns + 1, xs, nsz, ys, names, 0);
  }
  if (fy && fclose(fy) && !rc) rc = zz_fail(err, ZZ_EIO, "write failed: topn_yearly.csv");
  if (fs && fclose(fs) && !rc) rc = zz_fail(err, ZZ_EIO, "write failed: topn_summary.csv");
  for (int k = 0; runs && k < nt; k++) rep_run_free(runs[k]);
  for (int k = 0; sims && k < nt; k++) sim_result_free(sims[k]);
  free(runs), free(sum), free(years), free(ny), free(sims);
  return rc;
}

int pipe_report(pipe_ctx *x, zz_err *err) {
  const pipe_config *c = x->c;
  snprintf(x->report_dir, sizeof x->report_dir, "%s/report", c->out_dir);
  int rc = zz_mkdir_p(x->report_dir, err);
  if (rc) return rc;
  fprintf(stderr, "[report] factor tests, tables and charts -> %s\n", x->report_dir);
  char path[PIPE_PATH + 32], d0[11], d1[11];
  snprintf(path, sizeof path, "%s/report.md", x->report_dir);
  FILE *md = fopen(path, "w");
  if (!md) return zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  rep_html *h = NULL;
  snprintf(path, sizeof path, "%s/report.html", x->report_dir);
  if ((rc = rep_html_open(&h, path, c->title, err))) {
    fclose(md);
    return rc;
  }
  char setup[2048];
  snprintf(setup, sizeof setup,
           "Backtest %s .. %s, weekly rebalance in a closed loop (scores on the last trading day of each week; the "
           "optimiser starts from the simulator's real book at that close; its targets trade at the next day's %s, "
           "sized in shares at the close and rounded to board lots). NAV, benchmark and hedged NAV start at the "
           "close of the first trade day. Universe: %s; listed at least %d trading days. Market: %s (%d trading days x %d stocks). Model: %s, %d layer(s), hidden %d, sequence %d, "
           "up to %d epochs (patience %d), %d seed(s), trained each year on %d year(s) before a validation year%s. "
           "Costs: %s (buy %g, sell %g). The configuration in effect is in ../config.ini.",
           zz_date_format(x->p->dates[x->t_first], d0), zz_date_format(x->p->dates[x->t_last], d1), c->exec_price,
           panel_st_source_name((panel_st_source)x->st_source), c->min_listed_days,
           c->market_dir[0] ? c->market_dir : "synthetic", x->p->n_dates, x->p->n_stocks, c->cell, c->layers, c->hidden,
           c->seq, c->epochs, c->patience, c->seeds, c->train_years,
           c->day_stride > 1 ? " (every k-th training day, see model.day_stride)" : "", c->costs, c->buy_rate,
           c->sell_rate);
  /* the synthetic market the pipeline writes itself has total-return index closes */
  const int price_index = strcmp(c->index_kind, "total") && c->market_dir[0];
  char bench_note[640], hc[40];
  snprintf(bench_note, sizeof bench_note,
           "Benchmark: the index closes are a %s index (%s)%s. Hedge cost: %s a year, subtracted day "
           "by day (/252) from the hedged NAV (sim.hedge_cost).",
           price_index ? "price" : "total-return", c->market_dir[0] ? "report.index_kind" : "synthetic market",
           price_index ? ", so hedged returns include the members' dividend yield (about 1.5-2.5 "
                         "pt a year for CSI300) that a futures hedge would not earn"
                       : "",
           rep_fmt_pct(hc, sizeof hc, c->hedge_cost));
  fprintf(md, "# %s\n\n", c->title);
  if (c->note[0]) fprintf(md, "%s\n\n", c->note);
  fprintf(md, "%s\n\n%s\n\n", setup, bench_note);
  if (c->note[0]) rep_html_para(h, c->note); /* rep_html_open wrote the title */
  rep_html_para(h, setup);
  rep_html_para(h, bench_note);
  if (x->st_source == PANEL_ST_UNKNOWN || c->allow_same_close) {
    char stamp[512];
    snprintf(stamp, sizeof stamp, "Warning:%s%s", x->st_source == PANEL_ST_UNKNOWN ?
             " ST not excluded (the market has neither is_st nor up_limit)." : "",
             c->allow_same_close && c->exec_lag == 0 ? " Trades fill at the close that produced the score "
             "(sim.allow_same_close = 1, exec_lag 0): this relaxes SPEC 10.1 and is not a tradable backtest." : "");
    fprintf(md, "**%s**\n\n", stamp);
    rep_html_para(h, stamp);
  }
  rc = factor_section(x, md, h, err);
  if (!rc) rc = class3_section(x, md, h, err);
  if (!rc) rc = pipe_units_section(x, md, h, err);
  if (!rc) rc = backtest_section(x, md, h, err);
  if (!rc && x->n_topn) rc = topn_section(x, md, h, err);
  fprintf(md, "Annualised return = NAV_end^(252/days) - 1; Sharpe from daily returns (std ddof 1) x sqrt(252); max "
              "drawdown of the compounded NAV; weekly win rate over ISO weeks; hedged NAV = prod(1 + r_p - r_b - "
              "hedge_cost / 252). "
              "\"—\" marks a statistic that cannot be computed; the footnote under its table says why.\n");
  if (fclose(md) && !rc) rc = zz_fail(err, ZZ_EIO, "report.md: write failed");
  int rc2 = rep_html_close(h, rc ? NULL : err);
  if (!rc) rc = rc2;
  return rc;
}
