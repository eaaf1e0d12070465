/* risk_neutralise.c — residual of a cross-sectional OLS on industry dummies and log cap.
 *
 * By Frisch–Waugh–Lovell the regression on one-hot dummies plus one continuous regressor is exact
 * after demeaning y and log_cap within each industry: b = sum(ỹ x̃) / sum(x̃²), resid = ỹ - b x̃. This
 * costs O(n + K) and never forms a singular normal matrix when an industry is empty. */
#include "risk.h"

#include <math.h>
#include <stdlib.h>

int risk_neutralise(int n, const double *y, const uint8_t *valid, const int16_t *industry,
                    int n_industries, const double *log_cap, double *resid, zz_err *err) {
  if (n < 0 || n_industries < 0 || (n > 0 && (!y || !industry || !log_cap || !resid)))
    return zz_fail(err, ZZ_EUSAGE, "risk_neutralise: bad arguments (n=%d, n_industries=%d)", n, n_industries);
  for (int i = 0; i < n; i++)
    if (industry[i] < -1 || industry[i] >= n_industries)
      return zz_fail(err, ZZ_EUSAGE, "risk_neutralise: stock %d has industry %d, expected -1 .. %d", i,
                     (int)industry[i], n_industries - 1);
  int k = n_industries + 1; /* bucket k-1 = unclassified */
  double *sum_y = calloc((size_t)k * 3, sizeof *sum_y);
  if (!sum_y) return zz_fail(err, ZZ_ENOMEM, "risk_neutralise: out of memory");
  double *sum_x = sum_y + k, *cnt = sum_x + k;
#define RN_USE(i) ((!valid || valid[i]) && isfinite(y[i]) && isfinite(log_cap[i]))
#define RN_BUCKET(i) (industry[i] < 0 ? k - 1 : industry[i])
  for (int i = 0; i < n; i++) {
    if (!RN_USE(i)) continue;
    int g = RN_BUCKET(i);
    sum_y[g] += y[i];
    sum_x[g] += log_cap[i];
    cnt[g] += 1.0;
  }
  for (int g = 0; g < k; g++)
    if (cnt[g] > 0) {
      sum_y[g] /= cnt[g];
      sum_x[g] /= cnt[g];
    }
  double sxy = 0, sxx = 0;
  for (int i = 0; i < n; i++) {
    if (!RN_USE(i)) continue;
    int g = RN_BUCKET(i);
    double dx = log_cap[i] - sum_x[g], dy = y[i] - sum_y[g];
    sxy += dx * dy;
    sxx += dx * dx;
  }
  /* Scale-aware rank check: log_cap constant within every industry gives sxx ~ rounding noise. */
  double scale = 0;
  for (int i = 0; i < n; i++)
    if (RN_USE(i)) scale += log_cap[i] * log_cap[i];
  double b = (sxx > 1e-24 * (scale > 1 ? scale : 1)) ? sxy / sxx : 0.0;
  for (int i = 0; i < n; i++) {
    if (!RN_USE(i)) {
      resid[i] = NAN;
      continue;
    }
    int g = RN_BUCKET(i);
    resid[i] = (y[i] - sum_y[g]) - b * (log_cap[i] - sum_x[g]);
  }
#undef RN_USE
#undef RN_BUCKET
  free(sum_y);
  return ZZ_OK;
}
