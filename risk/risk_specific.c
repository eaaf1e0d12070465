/* risk_specific.c — specific volatility with CNE5's Bayesian shrinkage towards size-decile means
 * (Orr, Mashtaler & Nagy, CNE5 methodology, section on specific risk), for one date.
 *
 * A stock's own EW Newey-West volatility is noisy: over a 90-day half-life a few news days dominate it,
 * and a stock with a short history has next to no information. CNE5 pulls each estimate towards the
 * cap-weighted mean of stocks of similar size, the more the further it lies from that mean relative
 * to the decile's dispersion (v = q|d| / (dev + q|d|)). Short histories get the decile mean itself,
 * and between spec_min_days and spec_full_days the two are blended linearly so that a stock's risk
 * does not jump on the day it crosses a threshold. The floor protects the optimiser from a stock
 * whose specific returns happen to be ~0 (e.g. a lone industry member before thin groups were left
 * out of the regressions: 1e-31). */
#include "risk_private.h"

#include <math.h>
#include <stdlib.h>

#define N_DECILES 10

typedef struct {
  double cap;
  int i;
} cap_rank;

/* (cap, index) ascending: ties in cap are broken by the stock index, so deciles are deterministic. */
static int cmp_cap_rank(const void *a, const void *b) {
  const cap_rank *x = a, *y = b;
  if (x->cap != y->cap) return x->cap < y->cap ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* The number of entries of the sorted ord[0 .. m-1] strictly below key. */
static int rank_below(const cap_rank *ord, int m, cap_rank key) {
  int lo = 0, hi = m;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (cmp_cap_rank(&ord[mid], &key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int risk_specific_shrink(int n, const double *sigma_hat, const int *n_obs, const double *cap,
                         const uint8_t *in_universe, const uint8_t *carried, const risk_config *cfg, double *sigma,
                         risk_shrink_stats *st, zz_err *err) {
  risk_shrink_stats z = {0};
  if (st) *st = z;
  const int dmin = cfg->spec_min_days, dfull = cfg->spec_full_days;
  const double q = cfg->spec_shrink_q, vfloor = cfg->spec_vol_floor;
  if (n < 0 || dmin < 1 || dfull < dmin || !(q >= 0) || !isfinite(q) || !(vfloor >= 0) || !isfinite(vfloor))
    return zz_fail(err, ZZ_EUSAGE,
                   "risk: specific shrinkage needs 1 <= spec_min_days <= spec_full_days, spec_shrink_q >= 0 and "
                   "spec_vol_floor >= 0 (found %d, %d, %g, %g)", dmin, dfull, q, vfloor);
  int m = 0;
  for (int i = 0; i < n; i++) {
    int u = in_universe[i] != 0, c = carried && carried[i];
    if (u && c) return zz_fail(err, ZZ_EUSAGE, "risk: stock %d is both in the universe and carried", i);
    if (!u && !c) continue;
    if (!(cap[i] > 0) || !isfinite(cap[i]))
      return zz_fail(err, ZZ_EUSAGE, "risk: stock %d needs a positive cap for its size decile (found %g)", i, cap[i]);
    if (n_obs[i] >= 1 && (!(sigma_hat[i] >= 0) || !isfinite(sigma_hat[i])))
      return zz_fail(err, ZZ_EUSAGE, "risk: stock %d has %d specific returns but no volatility (%g)", i, n_obs[i],
                     sigma_hat[i]);
    m += u;
  }
  cap_rank *ord = malloc(sizeof *ord * (size_t)(m ? m : 1));
  double *buf = malloc(sizeof *buf * (size_t)(m ? m : 1));
  int *dec = malloc(sizeof *dec * (size_t)(n ? n : 1));
  if (!ord || !buf || !dec) {
    free(ord), free(buf), free(dec);
    return zz_fail(err, ZZ_ENOMEM, "risk: out of memory for the specific shrinkage of %d stocks", n);
  }
  for (int i = 0, k = 0; i < n; i++)
    if (in_universe[i]) ord[k++] = (cap_rank){cap[i], i};
  qsort(ord, (size_t)m, sizeof *ord, cmp_cap_rank);
  /* one rule for both sets: the decile of rank r among the universe; a carried stock's r counts the
   * universe stocks below its last cap, so it lands in the decile of the next larger universe stock */
  for (int r = 0; r < m; r++) dec[ord[r].i] = (int)((long)N_DECILES * r / m);
  for (int i = 0; i < n; i++)
    if (carried && carried[i] && !in_universe[i]) {
      int r = m ? rank_below(ord, m, (cap_rank){cap[i], i}) : 0;
      int d = m ? (int)((long)N_DECILES * r / m) : 0;
      dec[i] = d < N_DECILES ? d : N_DECILES - 1;
    }
  /* decile statistics over universe stocks with h >= spec_min_days; slot N_DECILES = the whole date */
  double wc[N_DECILES + 1] = {0}, wcs[N_DECILES + 1] = {0}, ss[N_DECILES + 1] = {0};
  double mean[N_DECILES + 1], dev[N_DECILES + 1];
  int cnt[N_DECILES + 1] = {0};
  for (int i = 0; i < n; i++)
    if (in_universe[i] && n_obs[i] >= dmin) {
      const int slot[2] = {dec[i], N_DECILES};
      for (int k = 0; k < 2; k++) wc[slot[k]] += cap[i], wcs[slot[k]] += cap[i] * sigma_hat[i], cnt[slot[k]]++;
    }
  for (int s = 0; s <= N_DECILES; s++) mean[s] = cnt[s] ? wcs[s] / wc[s] : NAN;
  for (int i = 0; i < n; i++)
    if (in_universe[i] && n_obs[i] >= dmin) {
      double d = sigma_hat[i] - mean[dec[i]], da = sigma_hat[i] - mean[N_DECILES];
      ss[dec[i]] += d * d;
      ss[N_DECILES] += da * da;
    }
  for (int s = 0; s <= N_DECILES; s++) dev[s] = cnt[s] ? sqrt(ss[s] / cnt[s]) : NAN;
  if (!cnt[N_DECILES]) { /* no long history at all (e.g. the first weeks of a panel) */
    int nb = 0;
    for (int i = 0; i < n; i++)
      if (in_universe[i] && n_obs[i] >= 1) buf[nb++] = sigma_hat[i];
    mean[N_DECILES] = nb ? risk_median(buf, nb) : vfloor;
    dev[N_DECILES] = 0;
  }
  int fallback = 0;
  for (int s = 0; s < N_DECILES; s++)
    if (!cnt[s]) mean[s] = mean[N_DECILES], dev[s] = dev[N_DECILES], fallback++;
  risk_shrink_stats c = {.n_fallback = fallback};
  for (int i = 0; i < n; i++) {
    if (!in_universe[i] && !(carried && carried[i])) {
      sigma[i] = NAN;
      continue;
    }
    const int h = n_obs[i];
    const double mu = mean[dec[i]];
    double s;
    if (h < dmin) {
      s = mu;
      c.n_short++;
    } else {
      double d = q * fabs(sigma_hat[i] - mu), den = dev[dec[i]] + d;
      double v = den > 0 ? d / den : 0.0, sh = v * mu + (1 - v) * sigma_hat[i];
      if (h >= dfull) {
        s = sh;
        c.n_full++;
      } else {
        double lam = (double)(h - dmin) / (dfull - dmin);
        s = lam * sh + (1 - lam) * mu;
        c.n_blend++;
      }
    }
    if (s < vfloor) s = vfloor, c.n_floored++;
    sigma[i] = s;
  }
  if (st) *st = c;
  free(ord), free(buf), free(dec);
  return ZZ_OK;
}
