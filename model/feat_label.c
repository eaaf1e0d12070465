/* feat_label.c — training labels: the adjusted return from the close of T+skip to the close of
 * T+skip+horizon, neutralised per date against industry dummies and log market cap
 * (risk_neutralise), then z-scored per date; and the class3 head's class ids (down / neutral / up) from
 * the raw return by absolute thresholds or by cross-sectional rank. See model.h. */
#include "model.h"
#include "risk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double adj_close(const panel *p, int t, int i) {
  const size_t k = panel_at(p, t, i);
  if (!(p->flags[k] & PANEL_LISTED)) return NAN;
  const double v = p->f[PF_CLOSE][k] * p->f[PF_ADJ][k];
  return isfinite(v) && v > 0 ? v : NAN;
}

int label_raw(const panel *p, int skip, int horizon, double *y, zz_err *err) {
  if (skip < 0 || horizon < 1) return zz_fail(err, ZZ_EUSAGE, "label: skip %d, horizon %d: expected skip >= 0, horizon >= 1", skip, horizon);
  const int T = p->n_dates, N = p->n_stocks;
  for (int t = 0; t < T; t++)
    for (int i = 0; i < N; i++) {
      double v = NAN;
      if (t + skip + horizon < T) {
        const double a = adj_close(p, t + skip, i), b = adj_close(p, t + skip + horizon, i);
        v = b / a - 1;
        if (!isfinite(v)) v = NAN;
      }
      y[panel_at(p, t, i)] = v;
    }
  return ZZ_OK;
}

int label_compute(const panel *p, int skip, int horizon, const uint8_t *eligible, double *y, zz_err *err) {
  int rc = label_raw(p, skip, horizon, y, err);
  if (rc) return rc;
  const int T = p->n_dates, N = p->n_stocks;
  double *lcap = malloc((size_t)(N ? N : 1) * sizeof *lcap);
  double *res = malloc((size_t)(N ? N : 1) * sizeof *res);
  uint8_t *valid = malloc((size_t)(N ? N : 1));
  int16_t *ind = malloc((size_t)(N ? N : 1) * sizeof *ind);
  if (!lcap || !res || !valid || !ind) {
    free(lcap), free(res), free(valid), free(ind);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for labels");
  }
  for (int t = 0; t < T && !rc; t++) {
    double *yt = y + panel_at(p, t, 0);
    int n = 0;
    for (int i = 0; i < N; i++) {
      const size_t k = panel_at(p, t, i);
      double cap = p->f[PF_FLOAT_MV] ? p->f[PF_FLOAT_MV][k] : NAN;
      if (!(isfinite(cap) && cap > 0)) cap = p->f[PF_TOTAL_MV] ? p->f[PF_TOTAL_MV][k] : NAN;
      lcap[i] = isfinite(cap) && cap > 0 ? log(cap) : NAN;
      int16_t g = p->industry ? p->industry[k] : -1;
      if (g < -1 || g >= p->n_industries) g = -1;
      ind[i] = g;
      valid[i] = (p->flags[k] & PANEL_LISTED) && !(p->flags[k] & PANEL_SUSPENDED) && isfinite(yt[i]) &&
                 isfinite(lcap[i]) && (!eligible || eligible[k]); /* the universe screen on date t */
      n += valid[i];
    }
    if (n < 3) {
      for (int i = 0; i < N; i++) yt[i] = NAN;
      continue;
    }
    rc = risk_neutralise(N, yt, valid, ind, p->n_industries, lcap, res, err);
    if (rc) {
      zz_wrap(err, "label neutralisation on %d", (int)p->dates[t]);
      break;
    }
    /* z-score over the valid stocks (zz_zscore: population std; residuals all equal -> 0) */
    for (int i = 0; i < N; i++)
      if (!valid[i]) res[i] = NAN;
    zz_zscore(res, N, yt);
  }
  free(lcap), free(res), free(valid), free(ind);
  return rc;
}

void class3_label_init(class3_label_opts *o) {
  memset(o, 0, sizeof *o);
  o->mode = CLASS3_ABSOLUTE;
  o->up = 0.03;
  o->down = -0.03;
  o->top = 0.3;
  o->bottom = 0.3;
}

const char *class3_label_mode_name(class3_label_mode m) { return m == CLASS3_RANK ? "rank" : "absolute"; }

int class3_label_check(const class3_label_opts *o, zz_err *err) {
  if (o->mode != CLASS3_ABSOLUTE && o->mode != CLASS3_RANK)
    return zz_fail(err, ZZ_EUSAGE, "class3 label mode must be absolute or rank");
  if (!(isfinite(o->up) && isfinite(o->down) && o->down < o->up))
    return zz_fail(err, ZZ_EUSAGE, "class3 thresholds: expected finite down < up, found down %g, up %g", o->down, o->up);
  if (!(o->top > 0 && o->top < 1 && o->bottom > 0 && o->bottom < 1 && o->top + o->bottom <= 1))
    return zz_fail(err, ZZ_EUSAGE,
                   "class3 rank fractions: expected top and bottom in (0, 1) with top + bottom <= 1, found top %g, "
                   "bottom %g", o->top, o->bottom);
  return ZZ_OK;
}

int class3_label_compute(const panel *p, const double *r, const class3_label_opts *o, double *y, zz_err *err) {
  int rc = class3_label_check(o, err);
  if (rc) return rc;
  const int T = p->n_dates, N = p->n_stocks;
  double *v = malloc((size_t)(N ? N : 1) * sizeof *v), *rank = malloc((size_t)(N ? N : 1) * sizeof *rank);
  void *work = malloc(zz_stats_work_bytes(N ? N : 1));
  if (!v || !rank || !work) {
    free(v), free(rank), free(work);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for class3 labels");
  }
  for (int t = 0; t < T && !rc; t++) {
    int n = 0;
    for (int i = 0; i < N; i++) {
      const size_t k = panel_at(p, t, i);
      const int ok = (p->flags[k] & PANEL_LISTED) && !(p->flags[k] & PANEL_SUSPENDED) && isfinite(r[k]);
      v[i] = ok ? r[k] : NAN;
      n += ok;
    }
    double *yt = y + panel_at(p, t, 0);
    if (o->mode == CLASS3_ABSOLUTE) {
      for (int i = 0; i < N; i++)
        yt[i] = isnan(v[i]) ? NAN : v[i] > o->up ? NN_CLASS_UP : v[i] < o->down ? NN_CLASS_DOWN : NN_CLASS_NEUTRAL;
      continue;
    }
    if (n < 3) {
      for (int i = 0; i < N; i++) yt[i] = NAN;
      continue;
    }
    if ((rc = zz_rank_avg(v, N, rank, work))) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory ranking the returns of %d", (int)p->dates[t]);
      break;
    }
    /* rank from the top n + 1 - a <= n top, rank from the bottom a <= n bottom (1e-9: n * 0.3 may round below
     * an integer); with distinct returns exactly floor(n top) ups and floor(n bottom) downs */
    const double ntop = n * o->top + 1e-9, nbot = n * o->bottom + 1e-9;
    for (int i = 0; i < N; i++)
      yt[i] = isnan(v[i])                 ? NAN
              : n + 1 - rank[i] <= ntop   ? NN_CLASS_UP
              : rank[i] <= nbot           ? NN_CLASS_DOWN
                                          : NN_CLASS_NEUTRAL;
  }
  free(v), free(rank), free(work);
  return rc;
}
