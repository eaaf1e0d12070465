/* risk_cov.c — factor covariance from daily factor returns, and the symmetric eigen-solver that
 * repairs it.
 *
 * For a half-life h (lambda = 0.5^(1/h)) and the days s = 0..t pushed so far, the lag-k moment is
 *   G_k = sum_{s=k}^{t} lambda^(t-s) f_s f_{s-k}' / sum_{s=0}^{t} lambda^(t-s)   (zero mean)
 * kept by the recursion G_k <- lambda G_k + f_t f_{t-k}'. Newey-West (Bartlett) gives
 *   V = G_0 + sum_{k=1}^{L} (1 - k/(L+1)) (G_k + G_k').
 * Volatilities come from V at the volatility half-life, correlations from V at the correlation
 * half-life; cov = annualise * D R D. The result is repaired to be positive definite by flooring its
 * eigenvalues at 1e-10 times the largest (the number raised is reported). */
#include "risk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct risk_cov_state {
  int K, L, days;
  double lv, lc, wv, wc;  /* lambdas and weight sums */
  double *Gv, *Gc;        /* (L+1) x K x K each */
  double *hist;           /* ring of the last L+1 factor vectors */
  double *scratch;        /* 4 K x K */
  double annualise;
};

int risk_cov_create(int K, const risk_config *cfg, risk_cov_state **out, zz_err *err) {
  *out = NULL;
  if (K < 1 || cfg->nw_lags < 0 || !(cfg->vol_halflife > 0) || !(cfg->corr_halflife > 0))
    return zz_fail(err, ZZ_EUSAGE, "risk: covariance needs K >= 1, nw_lags >= 0 and positive half-lives");
  risk_cov_state *s = calloc(1, sizeof *s);
  if (!s) return zz_fail(err, ZZ_ENOMEM, "risk: out of memory");
  s->K = K;
  s->L = cfg->nw_lags;
  s->lv = pow(0.5, 1.0 / cfg->vol_halflife);
  s->lc = pow(0.5, 1.0 / cfg->corr_halflife);
  s->annualise = cfg->annualise;
  size_t kk = (size_t)K * K;
  s->Gv = calloc(kk * (size_t)(s->L + 1) * 2 + (size_t)K * (s->L + 1) + 4 * kk, sizeof(double));
  if (!s->Gv) {
    free(s);
    return zz_fail(err, ZZ_ENOMEM, "risk: out of memory");
  }
  s->Gc = s->Gv + kk * (size_t)(s->L + 1);
  s->hist = s->Gc + kk * (size_t)(s->L + 1);
  s->scratch = s->hist + (size_t)K * (s->L + 1);
  *out = s;
  return ZZ_OK;
}

void risk_cov_free(risk_cov_state *s) {
  if (!s) return;
  free(s->Gv);
  free(s);
}

int risk_cov_days(const risk_cov_state *s) { return s->days; }

void risk_cov_push(risk_cov_state *s, const double *f) {
  int K = s->K, L = s->L;
  size_t kk = (size_t)K * K;
  double *cur = s->hist + (size_t)(s->days % (L + 1)) * K;
  memcpy(cur, f, (size_t)K * sizeof *f);
  for (size_t q = 0; q < kk * (size_t)(L + 1); q++) s->Gv[q] *= s->lv, s->Gc[q] *= s->lc;
  for (int k = 0; k <= L && k <= s->days; k++) {
    const double *old = s->hist + (size_t)((s->days - k) % (L + 1)) * K;
    double *gv = s->Gv + kk * k, *gc = s->Gc + kk * k;
    for (int a = 0; a < K; a++)
      for (int b = 0; b < K; b++) {
        double v = cur[a] * old[b];
        gv[a * K + b] += v;
        gc[a * K + b] += v;
      }
  }
  s->wv = s->lv * s->wv + 1;
  s->wc = s->lc * s->wc + 1;
  s->days++;
}

static void newey_west(int K, int L, const double *G, double w, double *V) {
  size_t kk = (size_t)K * K;
  for (size_t q = 0; q < kk; q++) V[q] = G[q];
  for (int k = 1; k <= L; k++) {
    double bw = 1.0 - (double)k / (L + 1);
    const double *g = G + kk * k;
    for (int a = 0; a < K; a++)
      for (int b = 0; b < K; b++) V[a * K + b] += bw * (g[a * K + b] + g[b * K + a]);
  }
  for (size_t q = 0; q < kk; q++) V[q] /= w;
}

int risk_sym_eigen(int n, double *a, double *w, double *v) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) v[i * n + j] = i == j;
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0, diag = 0;
    for (int i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (int j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * diag || off == 0) break;
    for (int p = 0; p < n; p++)
      for (int q = p + 1; q < n; q++) {
        double apq = a[p * n + q];
        if (apq == 0) continue;
        double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; k++) {
          double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; k++) {
          double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; k++) {
          double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  for (int i = 0; i < n; i++) w[i] = a[i * n + i];
  return 0;
}

int risk_cov_get(const risk_cov_state *s, double *cov, int *n_repaired, zz_err *err) {
  int K = s->K;
  size_t kk = (size_t)K * K;
  if (n_repaired) *n_repaired = 0;
  if (s->days < 1) return zz_fail(err, ZZ_ENUMERIC, "risk: no factor returns yet for a covariance");
  double *Vv = s->scratch, *Vc = Vv + kk, *ev = Vc + kk;
  newey_west(K, s->L, s->Gv, s->wv, Vv);
  newey_west(K, s->L, s->Gc, s->wc, Vc);
  for (int a = 0; a < K; a++)
    for (int b = 0; b < K; b++) {
      double da = Vc[a * K + a], db = Vc[b * K + b];
      double corr = a == b ? 1.0 : (da > 0 && db > 0 ? 0.5 * (Vc[a * K + b] + Vc[b * K + a]) / sqrt(da * db) : 0.0);
      double sa = sqrt(fmax(Vv[a * K + a], 0)), sb = sqrt(fmax(Vv[b * K + b], 0));
      cov[a * K + b] = s->annualise * sa * sb * corr;
    }
  /* repair: eigenvalues floored at 1e-10 * max */
  memcpy(Vv, cov, kk * sizeof *cov);
  double *lam = malloc((size_t)K * sizeof *lam);
  if (!lam) return zz_fail(err, ZZ_ENOMEM, "risk: out of memory");
  risk_sym_eigen(K, Vv, lam, ev);
  double lmax = 0;
  for (int k = 0; k < K; k++) lmax = fmax(lmax, lam[k]);
  double floor_ = 1e-10 * (lmax > 0 ? lmax : 1);
  int nr = 0;
  for (int k = 0; k < K; k++)
    if (lam[k] < floor_) lam[k] = floor_, nr++;
  if (nr) {
    for (int a = 0; a < K; a++)
      for (int b = 0; b < K; b++) {
        double t = 0;
        for (int k = 0; k < K; k++) t += ev[a * K + k] * lam[k] * ev[b * K + k];
        cov[a * K + b] = t;
      }
  }
  free(lam);
  if (n_repaired) *n_repaired = nr;
  return ZZ_OK;
}

int risk_factor_cov(int T, int K, const double *f, const risk_config *cfg, double *cov, int *n_repaired,
                    zz_err *err) {
  risk_cov_state *s;
  int rc = risk_cov_create(K, cfg, &s, err);
  if (rc) return rc;
  for (int t = 0; t < T; t++) {
    int ok = 1;
    for (int k = 0; k < K; k++) ok &= isfinite(f[(size_t)t * K + k]) != 0;
    if (ok) risk_cov_push(s, f + (size_t)t * K);
  }
  rc = risk_cov_get(s, cov, n_repaired, err);
  risk_cov_free(s);
  return rc;
}
