/* rep_driver.c — runs reports/ functions on inputs written by the Python reference scripts and prints
 * the results with full precision, one "name v1 v2 ..." line each (undefined = nan).
 *   rep_driver metrics IN.csv             IN: columns date,r,b (daily returns, YYYYMMDD dates)
 *   rep_driver factor DIR UNIV GROUPS MIN [HTML]
 *       DIR/dates.csv t,date ; DIR/bars.csv t,i,close,adj,flags,amount,float_mv (every cell) ;
 *       DIR/index.csv snap_t,i,weight (index 0, CSI300) ; DIR/scores.csv t,i,score ;
 *       DIR/universe.csv has_is_st,exclude_st,min_listed_days (optional: the universe screen; without it the
 *       panel has no is_st and the screen is rep_factor_default_opts')
 *       UNIV = -1 (csiall) or 0 (index 0).  HTML: also write a page with the factor charts there.
 *       Also prints "st_source K" (panel_st_source of the screen), and with DIR/units.csv t,i,u1..uK the unit
 *       statistics of its K columns (units() below).
 *   rep_driver chartdata IN.csv           IN: columns nav,v,top,bottom (empty = NaN): prints the series the
 *       charts draw: "drawdown" of nav, "cumsum" of v, "long_short" of the groups (bottom, top)
 *   rep_driver charts OUT.html            a page with every chart kind of rep_html.c (fixed inputs) */
#include "data.h"
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *name, const double *v, int n) {
  printf("%s", name);
  for (int k = 0; k < n; k++) printf(" %.17g", v[k]);
  printf("\n");
}

static int fail(zz_err *e) {
  fprintf(stderr, "rep_driver: %s\n", e->msg);
  return 1;
}

static int metrics(const char *in) {
  zz_err err = {0};
  zz_csv *c;
  if (zz_csv_open(&c, in, &err)) return fail(&err);
  int cap = 1 << 16, n = 0;
  int32_t *d = malloc(sizeof *d * cap);
  double *r = malloc(sizeof *r * cap), *b = malloc(sizeof *b * cap);
  while (zz_csv_next(c, &err) == 1 && n < cap) {
    if (zz_csv_date(c, 0, &d[n], &err) || zz_csv_double(c, 1, 0, &r[n], &err) || zz_csv_double(c, 2, 0, &b[n], &err))
      return fail(&err);
    n++;
  }
  zz_csv_close(c);
  double v;
  v = rep_mean(r, n), put("mean", &v, 1);
  v = rep_std(r, n, 1), put("std1", &v, 1);
  v = rep_std(r, n, 0), put("std0", &v, 1);
  v = rep_std(r, 1, 1), put("std1_one_point", &v, 1);
  v = rep_annual_return(r, n), put("annual", &v, 1);
  v = rep_sharpe(r, n), put("sharpe", &v, 1);
  v = rep_max_drawdown(r, n), put("mdd", &v, 1);
  v = rep_tracking_error(r, b, n), put("te", &v, 1);
  v = rep_info_ratio(r, b, n), put("ir", &v, 1);
  v = rep_pearson(r, b, n), put("pearson", &v, 1);
  v = zz_spearman(r, b, n), put("spearman", &v, 1);
  /* ties: ranks of values rounded to 2 decimals of percent */
  double *rr = malloc(sizeof *rr * n), *bb = malloc(sizeof *bb * n), *nav = malloc(sizeof *nav * (n + 1));
  for (int k = 0; k < n; k++) rr[k] = round(r[k] * 200) / 200, bb[k] = round(b[k] * 200) / 200;
  v = zz_spearman(rr, bb, n), put("spearman_ties", &v, 1);
  zz_rank_avg(rr, n, nav, NULL);
  put("rank_ties", nav, n);
  v = zz_spearman(rr, rr, 1), put("spearman_one_point", &v, 1);
  for (int k = 0; k < n; k++) bb[k] = 0.25;
  v = rep_pearson(r, bb, n), put("pearson_constant", &v, 1);
  rep_compound(r, n, nav);
  put("nav", nav, n);
  rep_drawdown_series(r, n, bb);
  put("drawdown", bb, n);
  /* weekly win rate on the NAV with a base row one day before the first return */
  double *nv = malloc(sizeof *nv * (n + 1));
  int32_t *dd = malloc(sizeof *dd * (n + 1));
  nv[0] = 1.0;
  dd[0] = zz_days_to_date(zz_date_to_days(d[0]) - 1);
  for (int k = 0; k < n; k++) nv[k + 1] = nav[k], dd[k + 1] = d[k];
  int nw = 0;
  v = rep_weekly_win_rate(dd, nv, n + 1, &nw), put("weekly_win", &v, 1);
  v = nw, put("weeks", &v, 1);
  free(d), free(r), free(b), free(rr), free(bb), free(nav), free(nv), free(dd);
  return 0;
}

static int read_table(const char *dir, const char *name, int ncol, double **out, int *rows) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  zz_err err = {0};
  zz_csv *c;
  if (zz_csv_open(&c, path, &err)) return fail(&err);
  int cap = 1024, n = 0;
  double *v = malloc(sizeof *v * cap * ncol);
  int got;
  while ((got = zz_csv_next(c, &err)) == 1) {
    if (n == cap) cap *= 2, v = realloc(v, sizeof *v * cap * ncol);
    for (int k = 0; k < ncol; k++)
      if (zz_csv_double(c, k, 1, &v[(size_t)n * ncol + k], &err)) return fail(&err);
    n++;
  }
  zz_csv_close(c);
  if (got < 0) return fail(&err);
  *out = v;
  *rows = n;
  return 0;
}

/* DIR/units.csv t,i,u1..uK (optional): the unit statistics (rep_unit_stats) of the K columns, printed as
 * unit_ic_mean, unit_ic_std, unit_ic_ir, unit_n_ic (K each), unit_share, unit_n_defined, unit_mutual,
 * unit_corr_dates, unit_pairs (K x K) and unit_avg (mean RankIC mean, mean IC_IR). */
static int units(const char *dir, const panel *p, const rep_factor_opts *o) {
  char path[4096], line[4096];
  snprintf(path, sizeof path, "%s/units.csv", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ncol = 1;
  if (!fgets(line, sizeof line, f)) line[0] = 0;
  fclose(f);
  for (const char *c = line; *c; c++) ncol += *c == ',';
  const int K = ncol - 2;
  double *tab;
  int nr;
  if (K < 1 || read_table(dir, "units.csv", ncol, &tab, &nr)) return 1;
  const size_t cells = (size_t)p->n_dates * p->n_stocks;
  double **u = malloc(sizeof *u * K);
  for (int k = 0; k < K; k++) {
    u[k] = malloc(sizeof **u * cells);
    for (size_t q = 0; q < cells; q++) u[k][q] = NAN;
  }
  for (int r = 0; r < nr; r++) {
    const double *row = tab + (size_t)r * ncol;
    for (int k = 0; k < K; k++) u[k][panel_at(p, (int)row[0], (int)row[1])] = row[2 + k];
  }
  rep_unit_result *ur = NULL;
  zz_err err = {0};
  int rc = rep_unit_stats(p, K, (const double *const *)u, o, &ur, &err);
  if (rc) {
    printf("unit_error %d %s\n", rc, err.msg);
  } else {
    double *v = malloc(sizeof *v * K);
    put("unit_ic_mean", ur->ic_mean, K);
    put("unit_ic_std", ur->ic_std, K);
    put("unit_ic_ir", ur->ic_ir, K);
    for (int k = 0; k < K; k++) v[k] = ur->n_ic[k];
    put("unit_n_ic", v, K);
    double one[4] = {ur->share_above, ur->n_defined, ur->mutual_corr, ur->n_corr_dates};
    put("unit_share", one, 1);
    put("unit_n_defined", one + 1, 1);
    put("unit_mutual", one + 2, 1);
    put("unit_corr_dates", one + 3, 1);
    put("unit_pairs", ur->pair_corr, K * K);
    double avg[2] = {ur->ic_mean_avg, ur->ic_ir_avg};
    put("unit_avg", avg, 2);
    free(v);
  }
  rep_unit_result_free(ur);
  for (int k = 0; k < K; k++) free(u[k]);
  free(u), free(tab);
  return 0;
}

static int factor(int argc, char **argv) {
  const char *dir = argv[2];
  int univ = atoi(argv[3]), groups = atoi(argv[4]), min_stocks = atoi(argv[5]);
  double *dates, *bars, *idx, *scr;
  int nd, nb, ni, ns;
  if (read_table(dir, "dates.csv", 2, &dates, &nd) || read_table(dir, "bars.csv", 7, &bars, &nb) ||
      read_table(dir, "index.csv", 3, &idx, &ni) || read_table(dir, "scores.csv", 3, &scr, &ns))
    return 1;
  int N = nb / nd;
  panel *p = calloc(1, sizeof *p);
  p->n_dates = nd, p->n_stocks = N;
  p->dates = malloc(sizeof *p->dates * nd);
  for (int t = 0; t < nd; t++) p->dates[t] = (int32_t)dates[2 * t + 1];
  p->stocks = calloc(N, sizeof *p->stocks);
  for (int i = 0; i < N; i++) snprintf(p->stocks[i].code, ZZ_CODE_LEN, "%06d.SZ", i + 1);
  size_t cells = (size_t)nd * N;
  for (int f = 0; f < PF_N_FIELDS; f++) {
    p->f[f] = malloc(sizeof(double) * cells);
    for (size_t q = 0; q < cells; q++) p->f[f][q] = NAN;
  }
  p->flags = calloc(cells, 1);
  for (int k = 0; k < nb; k++) {
    const double *row = bars + (size_t)k * 7;
    size_t a = panel_at(p, (int)row[0], (int)row[1]);
    p->f[PF_CLOSE][a] = row[2];
    p->f[PF_ADJ][a] = row[3];
    p->flags[a] = (uint8_t)row[4];
    p->f[PF_AMOUNT][a] = row[5];
    p->f[PF_FLOAT_MV][a] = row[6];
  }
  /* index 0: snapshots from index.csv (sorted by snap_t) */
  panel_index *ix = &p->index[0];
  ix->present = ni > 0;
  ix->snap_t = malloc(sizeof *ix->snap_t * (ni + 1));
  ix->snap_first = malloc(sizeof *ix->snap_first * (ni + 2));
  ix->member = malloc(sizeof *ix->member * (ni + 1));
  ix->weight = malloc(sizeof *ix->weight * (ni + 1));
  for (int k = 0; k < ni; k++) {
    int st = (int)idx[3 * k];
    if (ix->n_snap == 0 || ix->snap_t[ix->n_snap - 1] != st) {
      ix->snap_t[ix->n_snap] = st;
      ix->snap_first[ix->n_snap++] = k;
    }
    ix->member[k] = (int32_t)idx[3 * k + 1];
    ix->weight[k] = idx[3 * k + 2];
  }
  ix->snap_first[ix->n_snap] = ni;
  double *s = malloc(sizeof *s * cells), *s2 = malloc(sizeof *s2 * cells);
  for (size_t q = 0; q < cells; q++) s[q] = s2[q] = NAN;
  for (int k = 0; k < ns; k++) {
    size_t a = panel_at(p, (int)scr[3 * k], (int)scr[3 * k + 1]);
    s[a] = scr[3 * k + 2];
    s2[a] = sin(scr[3 * k + 2] * 3.0) + 0.1 * (double)((int)scr[3 * k + 1] % 7); /* a second score */
  }
  rep_factor_opts o;
  rep_factor_default_opts(&o);
  o.universe = univ;
  o.n_groups = groups;
  o.min_stocks = min_stocks;
  char upath[4096];
  snprintf(upath, sizeof upath, "%s/universe.csv", dir);
  if (access(upath, R_OK) == 0) {
    double *uv;
    int nu;
    if (read_table(dir, "universe.csv", 3, &uv, &nu)) return 1;
    if (nu == 1) p->has_is_st = uv[0] != 0, o.screen.exclude_st = (int)uv[1], o.screen.min_listed_days = (int)uv[2];
    free(uv);
  }
  rep_factor_result *r;
  zz_err err = {0};
  int rc = rep_factor_test(p, s, &o, &r, &err);
  if (rc) {
    printf("error %d %s\n", rc, err.msg);
    goto cleanup;
  }
  double *tmp = malloc(sizeof *tmp * (r->n_ic + r->n_days + 8));
  for (int k = 0; k < r->n_ic; k++) tmp[k] = r->ic_date[k];
  put("ic_date", tmp, r->n_ic);
  put("ic", r->ic, r->n_ic);
  double sm[4] = {r->ic_mean, r->ic_std, r->ic_ir, r->ic_pos};
  put("ic_summary", sm, 4);
  put("decay", r->decay, REP_N_LAGS);
  for (int k = 0; k < r->n_days; k++) tmp[k] = r->day_date[k];
  put("day_date", tmp, r->n_days);
  for (int g = 0; g < r->n_groups; g++) {
    char name[32];
    snprintf(name, sizeof name, "group%d", g);
    for (int k = 0; k < r->n_days; k++) tmp[k] = r->group_ret[(size_t)k * r->n_groups + g];
    put(name, tmp, r->n_days);
  }
  put("universe", r->univ_ret, r->n_days);
  put("group_ann_hedged", r->group_ann_hedged, r->n_groups);
  double lay[5] = {r->top_ann_hedged, r->bottom_ann_hedged, r->top_sharpe, r->top_mdd, r->top_turnover};
  put("layered", lay, 5);
  put("pv_corr", r->pv_corr, REP_N_PV);
  double sts = r->st_source;
  put("st_source", &sts, 1);
  double pc[2];
  rep_score_correlation(p, s, s2, &o, &pc[0], &pc[1], &err);
  put("score_corr", pc, 2);
  if (units(dir, p, &o)) printf("unit_error reading units.csv\n");
  if (argc > 6) {
    rep_html *h;
    if (rep_html_open(&h, argv[6], "factor test <charts>", &err)) return fail(&err);
    char(*lab)[12] = malloc(sizeof *lab * (r->n_ic + r->n_groups));
    const char **lp = malloc(sizeof *lp * (r->n_ic + r->n_groups));
    for (int k = 0; k < r->n_ic; k++) lp[k] = zz_date_format(r->ic_date[k], lab[k]);
    rep_html_bar_chart(h, "rankic", "RankIC and cumulative RankIC", r->n_ic, lp, r->ic, 1, 1);
    for (int g = 0; g < r->n_groups; g++) snprintf(lab[g], 12, "%d", g + 1), lp[g] = lab[g];
    rep_html_bar_chart(h, "groups", "Group annualised hedged returns", r->n_groups, lp, r->group_ann_hedged, 0, 1);
    if (rep_html_close(h, &err)) return fail(&err);
    free(lab), free(lp);
  }
  free(tmp);
  rep_factor_result_free(r);
cleanup:
  free(s), free(s2), free(dates), free(bars), free(idx), free(scr);
  for (int f = 0; f < PF_N_FIELDS; f++) free(p->f[f]);
  free(p->flags), free(p->dates), free(p->stocks);
  free(ix->snap_t), free(ix->snap_first), free(ix->member), free(ix->weight);
  free(p);
  return 0;
}

static int chartdata(const char *in) {
  zz_err err = {0};
  zz_csv *c;
  if (zz_csv_open(&c, in, &err)) return fail(&err);
  int cap = 1 << 16, n = 0, got;
  double *nav = malloc(sizeof *nav * cap), *v = malloc(sizeof *v * cap), *g = malloc(sizeof *g * 2 * cap);
  double *out = malloc(sizeof *out * cap);
  while ((got = zz_csv_next(c, &err)) == 1 && n < cap) {
    if (zz_csv_double(c, 0, 1, &nav[n], &err) || zz_csv_double(c, 1, 1, &v[n], &err) ||
        zz_csv_double(c, 2, 1, &g[2 * n + 1], &err) || zz_csv_double(c, 3, 1, &g[2 * n], &err))
      return fail(&err);
    n++;
  }
  zz_csv_close(c);
  if (got < 0) return fail(&err);
  rep_chart_drawdown(nav, n, out);
  put("drawdown", out, n);
  rep_chart_cumsum(v, n, out);
  put("cumsum", out, n);
  rep_chart_long_short(g, n, 2, out);
  put("long_short", out, n);
  free(nav), free(v), free(g), free(out);
  return 0;
}

/* Every chart kind on one page: lines of two series on different dates (one with a gap), a drawdown in %,
 * grouped bars with a legend and a missing bar, one signed series with its cumulative line, and the two
 * older wrappers. Names carry characters that need escaping. */
static int charts(const char *path) {
  zz_err err = {0};
  rep_html *h;
  if (rep_html_open(&h, path, "chart kinds <all> & more", &err)) return fail(&err);
  enum { N = 300 };
  int32_t da[N], db[N];
  double a[N], b[N], dd[N];
  int32_t day = zz_date_to_days(20210104);
  for (int k = 0; k < N; k++) {
    while (zz_date_weekday(zz_days_to_date(day)) > 5) day++;
    da[k] = db[k] = zz_days_to_date(day++);
    a[k] = 1 + 0.001 * k + 0.03 * sin(k / 9.0);
    b[k] = k == 40 ? NAN : 1 + 0.0007 * k + 0.02 * cos(k / 7.0);
  }
  rep_html_heading(h, "Lines & drawdowns");
  const int32_t *xs[2] = {da, db + 20};
  const int ns[2] = {N, N - 20};
  const double *ys[2] = {a, b + 20};
  const char *nm[2] = {"series <a>", "series \"b\" & co"};
  rep_html_lines(h, "lines", "two NAVs <test>", "NAV (start = 1)", 2, xs, ns, ys, nm, 0);
  rep_chart_drawdown(a, N, dd);
  const double *yd[1] = {dd};
  rep_html_lines(h, "drawdown", "drawdown of series a", "drawdown (%)", 1, xs, ns, yd, nm, 1);
  rep_html_heading(h, "Bars");
  const char *cat[4] = {"2021", "2022", "2023 *", "2024"};
  const double v0[4] = {0.05, -0.02, 0.11, NAN}, v1[4] = {0.03, 0.01, -0.04, 0.02}, v2[4] = {-0.01, 0.0, 0.07, 0.015};
  const double *vs[3] = {v0, v1, v2};
  const char *bn[3] = {"uni, no floor", "multi, no floor", "uni, floor 80%"};
  rep_html_bars(h, "grouped", "yearly excess return", "excess return (%)", "calendar year", 4, cat, 3, vs, bn, NULL, 1);
  double ic[30];
  char lab[30][12];
  const char *lp[30];
  for (int k = 0; k < 30; k++) ic[k] = k == 7 ? NAN : 0.04 + 0.08 * sin(k * 1.3), lp[k] = zz_date_format(da[10 * k], lab[k]);
  const double *vi[1] = {ic};
  rep_html_bars(h, "rankic", "RankIC and cumulative RankIC", "RankIC", "score date", 30, lp, 1, vi, NULL,
                "cumulative RankIC", 0);
  rep_html_heading(h, "Older wrappers");
  const double *y2[2] = {a, b};
  const char *n2[2] = {"a", "b"};
  rep_html_line_chart(h, "wrap_lines", "line chart wrapper", da, N, 2, y2, n2, 0);
  rep_html_bar_chart(h, "wrap_bars", "bar chart wrapper", 30, lp, ic, 1, 1);
  return rep_html_close(h, &err) ? fail(&err) : 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "chartdata")) return chartdata(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "charts")) return charts(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "metrics")) return metrics(argv[2]);
  if (argc >= 6 && !strcmp(argv[1], "factor")) return factor(argc, argv);
  fprintf(stderr, "usage: rep_driver metrics IN.csv | factor DIR UNIV GROUPS MIN_STOCKS [HTML] | chartdata IN.csv | "
                  "charts OUT.html\n");
  return 2;
}
