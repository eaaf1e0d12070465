/* rep_factor_test.c — factor tests of a score matrix on a panel (SPEC 5, seed 002 tables 8, 11-14):
 * RankIC every ic_step days against the T+1 -> T+1+horizon return, decay over lags, the weekly layered
 * test with top/bottom hedged returns and top-group turnover, and correlations with price-volume
 * factors. Definitions: docs/reports.md. */
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int k_lags[REP_N_LAGS] = {0, 5, 10, 15, 20};
static const char *const k_pv_names[REP_N_PV] = {"ret60", "vol20", "log_turnover20", "idio_vol20",
                                                  "amihud20"};

const char *rep_pv_factor_name(int k) { return k >= 0 && k < REP_N_PV ? k_pv_names[k] : "?"; }

void rep_factor_default_opts(rep_factor_opts *o) {
  memset(o, 0, sizeof *o);
  o->universe = REP_UNIV_CSIALL;
  panel_universe_init(&o->screen);
}

/* Options with defaults filled in. */
static rep_factor_opts resolve(const rep_factor_opts *in) {
  rep_factor_opts o;
  if (in) o = *in;
  else rep_factor_default_opts(&o);
  if (o.n_groups <= 0) o.n_groups = o.universe == REP_UNIV_CSIALL ? 20 : 5;
  if (o.ic_step <= 0) o.ic_step = 10;
  if (o.horizon <= 0) o.horizon = 10;
  if (o.min_stocks <= 0) o.min_stocks = 10;
  return o;
}

/* ------------------------------------------------------------------ panel helpers */

/* Adjusted close, NaN when the stock is not listed that day. */
static double adj_close(const panel *p, int t, int i) {
  size_t a = panel_at(p, t, i);
  if (!(p->flags[a] & PANEL_LISTED)) return NAN;
  double c = p->f[PF_CLOSE][a], adj = p->f[PF_ADJ] ? p->f[PF_ADJ][a] : 1.0;
  if (!isfinite(adj)) adj = 1.0;
  double v = c * adj;
  return isfinite(v) && v > 0 ? v : NAN;
}

static double day_return(const panel *p, int t, int i) {
  if (t < 1) return NAN;
  double a = adj_close(p, t - 1, i), b = adj_close(p, t, i);
  return b / a - 1.0;
}

/* Forward return from the close of t+1 to the close of t+1+h. */
static double fwd_return(const panel *p, int t, int i, int h) {
  if (t + 1 + h >= p->n_dates) return NAN;
  return adj_close(p, t + 1 + h, i) / adj_close(p, t + 1, i) - 1.0;
}

/* Universe membership at date t into mask[n_stocks]: listed, not suspended, eligible under the universe
 * screen (elig: n_dates x n_stocks, panel_universe_mask) and, for an index, a member; returns the count. */
static int universe_mask(const panel *p, int u, int t, const uint8_t *elig, uint8_t *mask) {
  int n = 0;
  memset(mask, 0, (size_t)p->n_stocks);
  if (u == REP_UNIV_CSIALL) {
    for (int i = 0; i < p->n_stocks; i++) {
      uint8_t f = p->flags[panel_at(p, t, i)];
      if ((f & PANEL_LISTED) && !(f & PANEL_SUSPENDED) && elig[panel_at(p, t, i)]) mask[i] = 1, n++;
    }
    return n;
  }
  const panel_index *ix = &p->index[u];
  if (!ix->present || ix->n_snap <= 0) return 0;
  int s = -1;
  for (int k = 0; k < ix->n_snap && ix->snap_t[k] <= t; k++) s = k;
  if (s < 0) return 0;
  for (size_t k = ix->snap_first[s]; k < ix->snap_first[s + 1]; k++) {
    int i = ix->member[k];
    uint8_t f = p->flags[panel_at(p, t, i)];
    if (i >= 0 && i < p->n_stocks && (f & PANEL_LISTED) && !(f & PANEL_SUSPENDED) && elig[panel_at(p, t, i)] &&
        !mask[i])
      mask[i] = 1, n++;
  }
  return n;
}

static int32_t week_key(int32_t ymd) { return zz_date_to_days(ymd) - (zz_date_weekday(ymd) - 1); }

static int has_score(const panel *p, const double *s, int t) {
  for (int i = 0; i < p->n_stocks; i++)
    if (isfinite(s[panel_at(p, t, i)])) return 1;
  return 0;
}

/* RankIC sampling dates: the first date with scores, then each next score date at least `step`
 * trading days after the previous sample. */
static int ic_dates(const panel *p, const double *s, int step, int *out) {
  int n = 0, last = -1;
  for (int t = 0; t < p->n_dates; t++) {
    if (last >= 0 && t - last < step) continue;
    if (!has_score(p, s, t)) continue;
    out[n++] = t;
    last = t;
  }
  return n;
}

typedef struct work {
  double *x, *y;
  uint8_t *mask;
  uint8_t *elig; /* n_dates x n_stocks: the universe screen (panel_universe_mask of o.screen) */
  void *rank; /* zz_stats_work_bytes(n_stocks): zz_spearman_ws */
} work;

/* Spearman between the score at date s and the forward return starting at date s + lag, over the
 * universe at s + lag. NaN when fewer than min_stocks pairs or a constant side. */
static double rank_ic_at(const panel *p, const double *sc, int s, int lag, const rep_factor_opts *o, work *w) {
  int t = s + lag;
  if (t + 1 + o->horizon >= p->n_dates) return NAN;
  universe_mask(p, o->universe, t, w->elig, w->mask);
  int m = 0;
  for (int i = 0; i < p->n_stocks; i++) {
    if (!w->mask[i]) continue;
    double a = sc[panel_at(p, s, i)], b = fwd_return(p, t, i, o->horizon);
    if (!isfinite(a) || !isfinite(b)) continue;
    w->x[m] = a;
    w->y[m] = b;
    m++;
  }
  if (m < o->min_stocks) return NAN;
  return zz_spearman_ws(w->x, w->y, m, w->rank);
}

/* ------------------------------------------------------------------ price-volume factors */

#define PV_WIN 20

/* Value of price-volume factor k for stock i at date t (NaN when its window is incomplete). */
static double pv_factor(const panel *p, int k, int t, int i, const double *mkt) {
  if (k == 0) {
    if (t < 60) return NAN;
    return adj_close(p, t, i) / adj_close(p, t - 60, i) - 1.0;
  }
  if (t < PV_WIN) return NAN;
  double r[PV_WIN];
  for (int d = 0; d < PV_WIN; d++) {
    r[d] = day_return(p, t - PV_WIN + 1 + d, i);
    if (!isfinite(r[d])) return NAN;
  }
  if (k == 1) return rep_std(r, PV_WIN, 1);
  if (k == 3) { /* residual std of r on the market's equal-weight return */
    double m[PV_WIN];
    for (int d = 0; d < PV_WIN; d++) m[d] = mkt[t - PV_WIN + 1 + d];
    double mx = rep_mean(m, PV_WIN), my = rep_mean(r, PV_WIN), sxy = 0, sxx = 0;
    for (int d = 0; d < PV_WIN; d++) {
      if (!isfinite(m[d])) return NAN;
      sxy += (m[d] - mx) * (r[d] - my);
      sxx += (m[d] - mx) * (m[d] - mx);
    }
    double b = sxx > 0 ? sxy / sxx : 0, ssr = 0;
    for (int d = 0; d < PV_WIN; d++) {
      double e = r[d] - my - b * (m[d] - mx);
      ssr += e * e;
    }
    return sqrt(ssr / (PV_WIN - 2));
  }
  /* turnover and Amihud use amount; skip days without trading */
  double s = 0;
  int n = 0;
  for (int d = 0; d < PV_WIN; d++) {
    size_t a = panel_at(p, t - PV_WIN + 1 + d, i);
    double amt = p->f[PF_AMOUNT] ? p->f[PF_AMOUNT][a] : NAN;
    if (!(amt > 0)) continue;
    if (k == 2) {
      double mv = p->f[PF_FLOAT_MV] ? p->f[PF_FLOAT_MV][a] : NAN;
      if (!(mv > 0)) continue;
      s += amt / mv;
    } else {
      s += fabs(r[d]) / amt * 1e8;
    }
    n++;
  }
  if (n < PV_WIN / 2) return NAN;
  return k == 2 ? log(s / n) : s / n;
}

/* Equal-weight return of all listed non-suspended stocks each day (NaN on day 0). */
static double *market_returns(const panel *p) {
  double *m = malloc(sizeof *m * (size_t)p->n_dates);
  if (!m) return NULL;
  m[0] = NAN;
  for (int t = 1; t < p->n_dates; t++) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < p->n_stocks; i++) {
      uint8_t f = p->flags[panel_at(p, t, i)];
      if (!(f & PANEL_LISTED) || (f & PANEL_SUSPENDED)) continue;
      double r = day_return(p, t, i);
      if (isfinite(r)) s += r, n++;
    }
    m[t] = n ? s / n : NAN;
  }
  return m;
}

/* ------------------------------------------------------------------ layered test */

typedef struct { double v; int i; } scored;
static int cmp_scored(const void *a, const void *b) {
  const scored *x = a, *y = b;
  if (x->v < y->v) return -1;
  if (x->v > y->v) return 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* Last score date of each ISO week. */
static int rebalance_dates(const panel *p, const double *s, int *out) {
  int n = 0;
  for (int t = 0; t < p->n_dates; t++) {
    if (!has_score(p, s, t)) continue;
    if (n > 0 && week_key(p->dates[out[n - 1]]) == week_key(p->dates[t])) out[n - 1] = t;
    else out[n++] = t;
  }
  return n;
}

static int layered(const panel *p, const double *sc, const rep_factor_opts *o, rep_factor_result *r, work *w,
                   zz_err *err) {
  int G = o->n_groups, N = p->n_stocks;
  int *reb = malloc(sizeof *reb * (size_t)p->n_dates);
  scored *items = malloc(sizeof *items * (size_t)N);
  int *group = malloc(sizeof *group * (size_t)N);      /* group of each stock this period, -1 none */
  double *entry = malloc(sizeof *entry * (size_t)N);   /* adjusted close at entry */
  double *last = malloc(sizeof *last * (size_t)N);     /* last valid adjusted close */
  double *prev_top_val = malloc(sizeof *prev_top_val * (size_t)N);
  int *prev_top = malloc(sizeof *prev_top * (size_t)N);
  int n_prev_top = 0;
  double *gval = calloc((size_t)G + 1, sizeof *gval), *gprev = calloc((size_t)G + 1, sizeof *gprev);
  int *gcount = calloc((size_t)G + 1, sizeof *gcount);
  r->group_ret = malloc(sizeof *r->group_ret * (size_t)p->n_dates * (size_t)G);
  r->univ_ret = malloc(sizeof *r->univ_ret * (size_t)p->n_dates);
  r->day_date = malloc(sizeof *r->day_date * (size_t)p->n_dates);
  r->group_ann_hedged = malloc(sizeof *r->group_ann_hedged * (size_t)G);
  double *hed = malloc(sizeof *hed * (size_t)p->n_dates);
  double turn_sum = 0;
  int n_turn = 0, rc = ZZ_OK;
  if (!reb || !items || !group || !entry || !last || !prev_top_val || !prev_top || !gval || !gprev || !gcount ||
      !r->group_ret || !r->univ_ret || !r->day_date || !r->group_ann_hedged || !hed) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory in the layered test");
    goto done;
  }
  int n_reb = rebalance_dates(p, sc, reb);
  int min_n = o->min_stocks > G ? o->min_stocks : G;
  r->n_days = 0;
  r->n_rebalances = 0;
  for (int k = 0; k + 1 < n_reb; k++) {
    int e0 = reb[k] + 1, e1 = reb[k + 1] + 1;
    if (e1 >= p->n_dates) break;
    universe_mask(p, o->universe, reb[k], w->elig, w->mask);
    int m = 0;
    for (int i = 0; i < N; i++) {
      group[i] = -1;
      if (!w->mask[i]) continue;
      double s = sc[panel_at(p, reb[k], i)], c = adj_close(p, e0, i);
      if (!isfinite(s) || !isfinite(c)) continue;
      items[m++] = (scored){s, i};
    }
    if (m < min_n) continue; /* too few stocks this week: no holding (documented) */
    qsort(items, (size_t)m, sizeof *items, cmp_scored);
    if (items[0].v == items[m - 1].v) continue; /* all scores equal: no order to layer by, skipped alike */
    for (int j = 0; j < m; j++) {
      int i = items[j].i;
      group[i] = (int)((long long)j * G / m);
      entry[i] = last[i] = adj_close(p, e0, i);
    }
    /* turnover of the top group against the previous top group's drifted weights */
    if (n_prev_top > 0) {
      int n_top = 0;
      for (int j = 0; j < m; j++)
        if (group[items[j].i] == G - 1) n_top++;
      double tot = 0, t = 0;
      for (int q = 0; q < n_prev_top; q++) tot += prev_top_val[q];
      for (int q = 0; q < n_prev_top; q++) {
        double wo = prev_top_val[q] / tot, wn = group[prev_top[q]] == G - 1 ? 1.0 / n_top : 0.0;
        t += fabs(wn - wo);
      }
      for (int j = 0; j < m; j++) {
        int i = items[j].i, held = 0;
        if (group[i] != G - 1) continue;
        for (int q = 0; q < n_prev_top && !held; q++) held = prev_top[q] == i;
        if (!held) t += 1.0 / n_top;
      }
      turn_sum += 0.5 * t;
      n_turn++;
    }
    for (int g = 0; g <= G; g++) gprev[g] = 1.0, gcount[g] = 0;
    for (int j = 0; j < m; j++) gcount[group[items[j].i]]++, gcount[G]++;
    for (int d = e0 + 1; d <= e1; d++) {
      for (int g = 0; g <= G; g++) gval[g] = 0;
      for (int j = 0; j < m; j++) {
        int i = items[j].i;
        double c = adj_close(p, d, i);
        if (isfinite(c)) last[i] = c; /* a delisted stock keeps its last value */
        double v = last[i] / entry[i];
        gval[group[i]] += v;
        gval[G] += v;
      }
      int row = r->n_days++;
      r->day_date[row] = p->dates[d];
      for (int g = 0; g <= G; g++) {
        double v = gval[g] / gcount[g];
        double ret = v / gprev[g] - 1.0;
        gprev[g] = v;
        if (g < G) r->group_ret[(size_t)row * G + g] = ret;
        else r->univ_ret[row] = ret;
      }
    }
    n_prev_top = 0;
    for (int j = 0; j < m; j++) {
      int i = items[j].i;
      if (group[i] != G - 1) continue;
      prev_top[n_prev_top] = i;
      prev_top_val[n_prev_top++] = last[i] / entry[i];
    }
    r->n_rebalances++;
  }
  if (r->n_days == 0) {
    rc = zz_fail(err, ZZ_EDATA,
                 "layered test: no weekly cross-section with at least %d scored stocks in the universe followed "
                 "by another rebalance date inside the market's calendar", min_n);
    goto done;
  }
  for (int g = 0; g < G; g++) {
    for (int d = 0; d < r->n_days; d++) hed[d] = r->group_ret[(size_t)d * G + g] - r->univ_ret[d];
    r->group_ann_hedged[g] = rep_annual_return(hed, r->n_days);
    if (g == G - 1) {
      r->top_sharpe = rep_sharpe(hed, r->n_days);
      r->top_mdd = rep_max_drawdown(hed, r->n_days);
    }
  }
  r->top_ann_hedged = r->group_ann_hedged[G - 1];
  r->bottom_ann_hedged = r->group_ann_hedged[0];
  r->top_turnover = n_turn ? turn_sum / n_turn : NAN;
done:
  free(reb);
  free(items);
  free(group);
  free(entry);
  free(last);
  free(prev_top_val);
  free(prev_top);
  free(gval);
  free(gprev);
  free(gcount);
  free(hed);
  return rc;
}

/* ------------------------------------------------------------------ driver */

void rep_factor_result_free(rep_factor_result *r) {
  if (!r) return;
  free(r->ic_date);
  free(r->ic);
  free(r->day_date);
  free(r->group_ret);
  free(r->univ_ret);
  free(r->group_ann_hedged);
  free(r);
}

static int work_init(work *w, const panel *p) {
  w->x = malloc(sizeof *w->x * (size_t)(p->n_stocks + 1));
  w->y = malloc(sizeof *w->y * (size_t)(p->n_stocks + 1));
  w->mask = malloc((size_t)p->n_stocks + 1);
  w->rank = malloc(zz_stats_work_bytes(p->n_stocks + 1));
  return w->x && w->y && w->mask && w->rank;
}
static void work_free(work *w) {
  free(w->x);
  free(w->y);
  free(w->mask);
  free(w->elig);
  free(w->rank);
}

/* The universe screen of the options into w->elig; src (may be NULL) gets the ST rule used. */
static int work_screen(work *w, const panel *p, const rep_factor_opts *o, panel_st_source *src, zz_err *err) {
  if (!(w->elig = malloc((size_t)p->n_dates * (size_t)p->n_stocks + 1)))
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the universe screen");
  return panel_universe_mask(p, &o->screen, w->elig, src, err);
}

static double mean_defined(const double *v, int n, int *n_def) {
  double s = 0;
  int m = 0;
  for (int k = 0; k < n; k++)
    if (isfinite(v[k])) s += v[k], m++;
  if (n_def) *n_def = m;
  return m ? s / m : NAN;
}

int rep_factor_test(const panel *p, const double *scores, const rep_factor_opts *oin, rep_factor_result **out,
                    zz_err *err) {
  *out = NULL;
  rep_factor_opts o = resolve(oin);
  if (o.universe != REP_UNIV_CSIALL && (o.universe < 0 || o.universe >= PANEL_N_INDEX))
    return zz_fail(err, ZZ_EUSAGE, "unknown universe %d", o.universe);
  if (o.universe != REP_UNIV_CSIALL && (!p->index[o.universe].present || p->index[o.universe].n_snap == 0))
    return zz_fail(err, ZZ_EDATA, "the market has no index weights for %s (%s): cannot use it as universe",
                   zz_index_name(o.universe), zz_index_code(o.universe));
  if (p->n_dates < 2 || p->n_stocks < 1) return zz_fail(err, ZZ_EDATA, "the market is empty");
  rep_factor_result *r = calloc(1, sizeof *r);
  work w = {0};
  double *tmp = NULL, *mkt = NULL;
  int rc = ZZ_OK;
  if (!r || !work_init(&w, p)) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory in the factor test");
    goto fail;
  }
  if ((rc = work_screen(&w, p, &o, &r->st_source, err))) goto fail;
  r->n_groups = o.n_groups;
  int *sd = malloc(sizeof *sd * (size_t)p->n_dates);
  r->ic_date = malloc(sizeof *r->ic_date * (size_t)p->n_dates);
  r->ic = malloc(sizeof *r->ic * (size_t)p->n_dates);
  tmp = malloc(sizeof *tmp * (size_t)p->n_dates);
  if (!sd || !r->ic_date || !r->ic || !tmp) {
    free(sd);
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory in the factor test");
    goto fail;
  }
  int n_sd = ic_dates(p, scores, o.ic_step, sd);
  if (n_sd == 0) {
    free(sd);
    rc = zz_fail(err, ZZ_EDATA, "the scores are empty: no date has a score for any stock of the market");
    goto fail;
  }
  /* RankIC series (lag 0): dates whose forward window is inside the calendar */
  r->n_ic = 0;
  for (int k = 0; k < n_sd; k++) {
    if (sd[k] + 1 + o.horizon >= p->n_dates) break;
    r->ic_date[r->n_ic] = p->dates[sd[k]];
    r->ic[r->n_ic++] = rank_ic_at(p, scores, sd[k], 0, &o, &w);
  }
  r->ic_mean = mean_defined(r->ic, r->n_ic, &r->n_ic_defined);
  if (r->n_ic_defined == 0) {
    free(sd);
    rc = zz_fail(err, ZZ_EDATA,
                 "RankIC is undefined on every sampled date (%d dates): the scores are constant within each "
                 "date, or fewer than %d scored stocks of the universe have a %d-day forward return",
                 r->n_ic, o.min_stocks, o.horizon);
    goto fail;
  }
  {
    int m = 0, pos = 0;
    for (int k = 0; k < r->n_ic; k++)
      if (isfinite(r->ic[k])) tmp[m++] = r->ic[k], pos += r->ic[k] > 0;
    r->ic_std = rep_std(tmp, m, 1);
    r->ic_ir = r->ic_std > 0 ? r->ic_mean / r->ic_std : NAN;
    r->ic_pos = (double)pos / m;
  }
  for (int l = 0; l < REP_N_LAGS; l++) {
    r->lags[l] = k_lags[l];
    int m = 0;
    for (int k = 0; k < n_sd; k++) tmp[m++] = rank_ic_at(p, scores, sd[k], k_lags[l], &o, &w);
    r->decay[l] = mean_defined(tmp, m, NULL);
  }
  /* price-volume factor correlations on the lag-0 sampling dates */
  mkt = market_returns(p);
  if (!mkt) {
    free(sd);
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory in the factor test");
    goto fail;
  }
  for (int k = 0; k < REP_N_PV; k++) {
    int nd = 0;
    for (int q = 0; q < n_sd; q++) {
      int t = sd[q];
      universe_mask(p, o.universe, t, w.elig, w.mask);
      int m = 0;
      for (int i = 0; i < p->n_stocks; i++) {
        if (!w.mask[i]) continue;
        double a = scores[panel_at(p, t, i)];
        if (!isfinite(a)) continue;
        double b = pv_factor(p, k, t, i, mkt);
        if (!isfinite(b)) continue;
        w.x[m] = a, w.y[m] = b, m++;
      }
      tmp[nd++] = m >= o.min_stocks ? zz_spearman_ws(w.x, w.y, m, w.rank) : NAN;
    }
    r->pv_corr[k] = mean_defined(tmp, nd, NULL);
  }
  free(sd);
  rc = layered(p, scores, &o, r, &w, err);
  if (rc) goto fail;
  work_free(&w);
  free(tmp);
  free(mkt);
  *out = r;
  return ZZ_OK;
fail:
  work_free(&w);
  free(tmp);
  free(mkt);
  rep_factor_result_free(r);
  return rc;
}

int rep_score_correlation(const panel *p, const double *a, const double *b, const rep_factor_opts *oin,
                          double *pearson, double *spearman, zz_err *err) {
  rep_factor_opts o = resolve(oin);
  work w = {0};
  int *sd = malloc(sizeof *sd * (size_t)p->n_dates);
  double *ps = malloc(sizeof *ps * (size_t)p->n_dates), *ss = malloc(sizeof *ss * (size_t)p->n_dates);
  if (!sd || !ps || !ss || !work_init(&w, p)) {
    free(sd), free(ps), free(ss), work_free(&w);
    return zz_fail(err, ZZ_ENOMEM, "out of memory in the score correlation");
  }
  int rc = work_screen(&w, p, &o, NULL, err);
  if (rc) {
    free(sd), free(ps), free(ss), work_free(&w);
    return rc;
  }
  int n_sd = ic_dates(p, a, o.ic_step, sd);
  for (int q = 0; q < n_sd; q++) {
    int t = sd[q], m = 0;
    universe_mask(p, o.universe, t, w.elig, w.mask);
    for (int i = 0; i < p->n_stocks; i++) {
      double x = a[panel_at(p, t, i)], y = b[panel_at(p, t, i)];
      if (w.mask[i] && isfinite(x) && isfinite(y)) w.x[m] = x, w.y[m] = y, m++;
    }
    ps[q] = m >= o.min_stocks ? rep_pearson(w.x, w.y, m) : NAN;
    ss[q] = m >= o.min_stocks ? zz_spearman_ws(w.x, w.y, m, w.rank) : NAN;
  }
  *pearson = mean_defined(ps, n_sd, NULL);
  *spearman = mean_defined(ss, n_sd, NULL);
  free(sd), free(ps), free(ss), work_free(&w);
  return ZZ_OK;
}

/* ------------------------------------------------------------------ factor units */

void rep_unit_result_free(rep_unit_result *r) {
  if (!r) return;
  free(r->ic_mean), free(r->ic_std), free(r->ic_ir), free(r->n_ic), free(r->pair_corr);
  free(r);
}

void rep_histogram(const double *v, int n, double lo, double hi, int n_bins, double *counts) {
  for (int b = 0; b < n_bins; b++) counts[b] = 0;
  if (n_bins < 1 || !(hi >= lo)) return;
  for (int k = 0; k < n; k++) {
    if (!isfinite(v[k]) || v[k] < lo || v[k] > hi) continue;
    int b = hi > lo ? (int)((v[k] - lo) / (hi - lo) * n_bins) : 0;
    if (b >= n_bins) b = n_bins - 1;
    if (b < 0) b = 0;
    counts[b] += 1;
  }
}

int rep_unit_stats(const panel *p, int K, const double *const *units, const rep_factor_opts *oin,
                   rep_unit_result **out, zz_err *err) {
  *out = NULL;
  rep_factor_opts o = resolve(oin);
  if (K < 2) return zz_fail(err, ZZ_EUSAGE, "unit statistics need at least 2 factor units, found %d", K);
  if (o.universe != REP_UNIV_CSIALL && (o.universe < 0 || o.universe >= PANEL_N_INDEX))
    return zz_fail(err, ZZ_EUSAGE, "unknown universe %d", o.universe);
  if (o.universe != REP_UNIV_CSIALL && (!p->index[o.universe].present || p->index[o.universe].n_snap == 0))
    return zz_fail(err, ZZ_EDATA, "the market has no index weights for %s (%s): cannot use it as universe",
                   zz_index_name(o.universe), zz_index_code(o.universe));
  rep_unit_result *r = calloc(1, sizeof *r);
  work w = {0};
  const size_t cells = (size_t)p->n_dates * (size_t)p->n_stocks;
  int *sd = malloc(sizeof *sd * ((size_t)p->n_dates + 1));
  double *ic = malloc(sizeof *ic * ((size_t)p->n_dates + 1));
  size_t *start = malloc(sizeof *start * ((size_t)p->n_dates + 1));
  uint8_t *keep = malloc(cells + 1);
  int rc = ZZ_OK;
  if (!r || !sd || !ic || !start || !keep || !work_init(&w, p)) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the unit statistics");
    goto done;
  }
  r->K = K;
  r->ic_mean = malloc(sizeof *r->ic_mean * (size_t)K), r->ic_std = malloc(sizeof *r->ic_std * (size_t)K);
  r->ic_ir = malloc(sizeof *r->ic_ir * (size_t)K), r->n_ic = calloc((size_t)K, sizeof *r->n_ic);
  r->pair_corr = malloc(sizeof *r->pair_corr * (size_t)K * (size_t)K);
  if (!r->ic_mean || !r->ic_std || !r->ic_ir || !r->n_ic || !r->pair_corr) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the unit statistics");
    goto done;
  }
  if ((rc = work_screen(&w, p, &o, NULL, err))) goto done;
  int above = 0;
  for (int k = 0; k < K; k++) {
    const int n_sd = ic_dates(p, units[k], o.ic_step, sd);
    int m = 0;
    for (int q = 0; q < n_sd; q++) {
      if (sd[q] + 1 + o.horizon >= p->n_dates) break;
      const double v = rank_ic_at(p, units[k], sd[q], 0, &o, &w);
      if (isfinite(v)) ic[m++] = v;
    }
    r->n_ic[k] = m;
    r->ic_mean[k] = rep_mean(ic, m);
    r->ic_std[k] = rep_std(ic, m, 1);
    r->ic_ir[k] = r->ic_std[k] > 0 ? r->ic_mean[k] / r->ic_std[k] : NAN;
    if (isfinite(r->ic_mean[k])) r->n_defined++, above += fabs(r->ic_mean[k]) > REP_UNIT_IC_THRESHOLD;
  }
  r->share_above = r->n_defined ? (double)above / r->n_defined : NAN;
  {
    double si = 0, sr = 0;
    int ni = 0;
    for (int k = 0; k < K; k++) {
      if (isfinite(r->ic_mean[k])) si += r->ic_mean[k];
      if (isfinite(r->ic_ir[k])) sr += r->ic_ir[k], ni++;
    }
    r->ic_mean_avg = r->n_defined ? si / r->n_defined : NAN;
    r->ic_ir_avg = ni ? sr / ni : NAN;
  }
  for (int t = 0; t < p->n_dates; t++) {
    start[t] = (size_t)t * (size_t)p->n_stocks;
    universe_mask(p, o.universe, t, w.elig, w.mask);
    memcpy(keep + start[t], w.mask, (size_t)p->n_stocks);
  }
  start[p->n_dates] = cells;
  rc = zz_unit_correlation(K, units, start, p->n_dates, keep, &r->mutual_corr, r->pair_corr, &r->n_corr_dates, err);
done:
  work_free(&w);
  free(sd), free(ic), free(start), free(keep);
  if (rc) rep_unit_result_free(r);
  else *out = r;
  return rc;
}
