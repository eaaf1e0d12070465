/* pipe_units.c — the report's factor-unit section (seed 002 3.1, tables 6-7, figures 12-17): for the multivariate
 * head, per dataset, the out-of-sample factor units f1..fK scored on the last trading day of each week of the
 * backtest (a cached stage, units-<label>-<hash>/units.csv, since the daily score stage keeps the score only), then
 * rep_unit_stats: each unit's RankIC mean and IC_IR, their histograms, the share with |RankIC mean| > 2 % and the
 * units' mutual correlation. docs/reports.md "Factor units". */
#include "pipe_internal.h"

#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pipe_units_section(pipe_ctx *x, FILE *md, rep_html *h, zz_err *err) {
  int has = 0;
  for (int k = 0; k < x->l.n_heads; k++) has |= x->l.heads[k] == PIPE_HEAD_MULTI;
  if (!has || x->c->outputs < 2) return ZZ_OK;
  const panel *p = x->p;
  const int n_ds = x->l.n_datasets;
  rep_unit_result *res[PIPE_MAX_DATASETS] = {0};
  char labels[PIPE_MAX_DATASETS][96];
  const char *lp[PIPE_MAX_DATASETS];
  const int y0 = x->c->first_year, y1 = p->dates[x->t_last] / 10000;
  const panel_universe_opts u = pipe_universe(x->c);
  int rc = ZZ_OK;
  for (int d = 0; d < n_ds && !rc; d++) {
    char *lb = labels[d], tdir[PIPE_PATH], udir[PIPE_PATH], sname[128], path[PIPE_PATH + 32], yb[48];
    if (n_ds == 1) snprintf(lb, sizeof labels[d], "multivariate");
    else snprintf(lb, sizeof labels[d], "multivariate-%s", x->l.datasets[d]);
    lp[d] = lb;
    pipe_stage_dir(x->c->out_dir, lb, x->hs.ds_train[d][PIPE_HEAD_MULTI], tdir, sizeof tdir);
    const uint64_t th = x->hs.ds_train[d][PIPE_HEAD_MULTI];
    snprintf(yb, sizeof yb, "weekly %d-%d", y0, y1);
    const uint64_t uh = pipe_hash_str(pipe_hash_bytes(pipe_hash_str(PIPE_HASH_SEED, "factor units"), &th, sizeof th), yb);
    snprintf(sname, sizeof sname, "units-%s", lb);
    pipe_stage_dir(x->c->out_dir, sname, uh, udir, sizeof udir);
    snprintf(path, sizeof path, "%s/units.csv", udir);
    const double t0 = pipe_now();
    const int cached = !x->o->force && pipe_stage_done(udir);
    if (!cached) {
      fprintf(stderr, "[units %s] weekly factor units %d..%d\n", lb, y0, y1);
      if ((rc = zz_mkdir_p(udir, err)) || (rc = score_write_ex(p, tdir, y0, y1, 1, 1, &u, path, err)) ||
          (rc = pipe_stage_mark(udir, "factor units", err))) {
        zz_wrap(err, "factor units %s", lb);
        break;
      }
    }
    char tname[112];
    snprintf(tname, sizeof tname, "units %s", lb);
    pipe_timer_add(x, tname, pipe_now() - t0, cached);
    score_table *st = NULL;
    if ((rc = score_table_read(path, p, &st, err))) break;
    /* the unit columns f1..fK, in order, within the backtest */
    const double **cols = calloc((size_t)st->n_cols + 1, sizeof *cols);
    int K = 0;
    if (!cols) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    for (int k = 1; !rc && k <= st->n_cols; k++) {
      char want[16];
      snprintf(want, sizeof want, "f%d", k);
      for (int c = 0; c < st->n_cols; c++)
        if (!strcmp(st->names[c], want)) cols[K++] = st->values[c];
    }
    for (int k = 0; !rc && k < K; k++)
      for (int t = 0; t < p->n_dates; t++)
        if (t < x->t_first || t > x->t_last)
          for (int i = 0; i < p->n_stocks; i++) ((double *)cols[k])[panel_at(p, t, i)] = NAN;
    if (!rc && K < 2) rc = zz_fail(err, ZZ_EDATA, "%s: fewer than 2 factor-unit columns f1..fK", path);
    if (!rc) {
      rep_factor_opts fo;
      rep_factor_default_opts(&fo);
      fo.screen = u;
      rc = rep_unit_stats(p, K, cols, &fo, &res[d], err);
      if (rc) zz_wrap(err, "factor units %s", lb);
      else
        fprintf(stderr, "[units %s] %d units: mean RankIC %.4f, |RankIC| > 2%% share %.2f, mutual correlation %.4f\n",
                lb, K, res[d]->ic_mean_avg, res[d]->share_above, res[d]->mutual_corr);
    }
    free(cols);
    score_table_free(st);
  }
  if (!rc) rc = rep_unit_write_csv(x->report_dir, n_ds, (const rep_unit_result *const *)res, lp, err);
  if (!rc) {
    static const char title[] = "Factor units of the multivariate model (seed 002 3.1, tables 6-7, figures 12-17)";
    static const char note[] =
        "Each factor unit f1..fK of the multivariate head (the first seed's batch-normalised head outputs), scored "
        "out of sample on the last trading day of each week of the backtest, tested like a score on CSI All: RankIC "
        "against the T+1 -> T+11 return on the score dates at least 10 trading days apart, IC_IR = mean / std. "
        "Mutual correlation: per date the Pearson correlation of each pair of units over the stocks, averaged over "
        "the dates, then the mean of its absolute value over the pairs. Files: units.csv, units_summary.csv, "
        "unit_correlation.csv.";
    fprintf(md, "## %s\n\n%s\n\n", title, note);
    rep_unit_md(md, n_ds, (const rep_unit_result *const *)res, lp);
    rep_html_heading(h, title);
    rep_html_para(h, note);
    rep_unit_html(h, n_ds, (const rep_unit_result *const *)res, lp);
  }
  for (int d = 0; d < n_ds; d++) rep_unit_result_free(res[d]);
  return rc;
}
