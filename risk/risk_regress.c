/* risk_regress.c — one day's constrained cross-sectional WLS (country + industries + styles),
 * optionally made robust to outlying returns by Huber iteratively reweighted least squares.
 *
 * The normal matrix X'WX is accumulated from the one-hot structure of the industry columns (O(n S^2)
 * instead of O(n K^2)). The constraint sum_g c_g f_g = 0 (c_g = cap share of industry g) is imposed
 * by reparametrising the largest industry p as f_p = -sum_{g != p} (c_g / c_p) f_g: with f = C theta
 * the problem becomes an unconstrained WLS in theta, solved by Cholesky on C' X'WX C.
 *
 * Robust version (risk_wls_robust): after the sqrt(cap)-weighted fit, each of `iters` passes takes the
 * residuals e, their scale s = 1.4826 MAD (median absolute deviation about the median, over the
 * regressed rows) and re-solves with weights sqrt(cap) * min(1, k s / |e|) (Huber's weights). The
 * constraint keeps the cap shares c_g: only the regression weights change. Fat-tailed specific
 * returns (news jumps, limit moves) then move the factor returns much less.
 *
 * Rows coded RISK_GROUP_NONE (members of a thin group, risk_thin_groups) enter the normal matrix
 * through the styles and the country only: their group has no column that day and no share in the
 * constraint. */
#include "risk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* In-place Cholesky of the n x n SPD matrix a (lower triangle); 0 on success, -1 if not PD. */
static int chol(int n, double *a) {
  double dmax = 0;
  for (int i = 0; i < n; i++) dmax = fmax(dmax, fabs(a[i * n + i]));
  for (int j = 0; j < n; j++) {
    double d = a[j * n + j];
    for (int k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 1e-13 * dmax)) return -1;
    d = sqrt(d);
    a[j * n + j] = d;
    for (int i = j + 1; i < n; i++) {
      double s = a[i * n + j];
      for (int k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  return 0;
}

static void chol_solve(int n, const double *l, double *b) {
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= l[i * n + k] * b[k];
    b[i] = s / l[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = b[i];
    for (int k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

static inline int row_ok(int i, int S, int G, const double *ret, const double *cap, const int16_t *group,
                         const double *style) {
  if (!(group[i] == RISK_GROUP_NONE || (group[i] >= 0 && group[i] < G))) return 0;
  if (!isfinite(ret[i]) || !(cap[i] > 0) || !isfinite(cap[i])) return 0;
  for (int k = 0; k < S; k++)
    if (!isfinite(style[(size_t)i * S + k])) return 0;
  return 1;
}

/* Fitted return of a usable row i under factor returns f (K = S + G + 1). */
static inline double row_fit(int i, int S, int G, const int16_t *group, const double *style, const double *f) {
  double fit = f[S + G] + (group[i] >= 0 ? f[S + group[i]] : 0.0);
  for (int a = 0; a < S; a++) fit += style[(size_t)i * S + a] * f[a];
  return fit;
}

/* One constrained WLS with regression weights sqrt(cap) * rw (rw NULL: 1); A is scratch of
 * K*K*3 + K*4 + G*2 doubles (zeroed here). */
static int wls_solve(int n, int S, int G, const double *ret, const double *cap, const double *rw, const int16_t *group,
                     const double *style, double *A, double *f, zz_err *err) {
  int K = S + G + 1;
  memset(A, 0, ((size_t)K * K * 3 + (size_t)K * 4 + (size_t)G * 2) * sizeof *A);
  double *C = A + (size_t)K * K, *B = C + (size_t)K * K, *b = B + (size_t)K * K, *th = b + K, *tmp = th + K;
  double *cg = tmp + 2 * K, *ng = cg + G;
  int cc = K - 1, rows = 0;
  for (int i = 0; i < n; i++) {
    if (!row_ok(i, S, G, ret, cap, group, style)) continue;
    double w = sqrt(cap[i]) * (rw ? rw[i] : 1.0), r = ret[i];
    const double *s = style + (size_t)i * S;
    int g = group[i] >= 0 ? S + group[i] : -1; /* -1: no group column for this row */
    rows++;
    for (int a = 0; a < S; a++) {
      double ws = w * s[a];
      for (int c = a; c < S; c++) A[a * K + c] += ws * s[c];
      if (g >= 0) A[a * K + g] += ws;
      A[a * K + cc] += ws;
      b[a] += ws * r;
    }
    if (g >= 0) {
      A[g * K + g] += w;
      A[g * K + cc] += w;
      b[g] += w * r;
      cg[group[i]] += cap[i];
      ng[group[i]] += 1;
    }
    A[cc * K + cc] += w;
    b[cc] += w * r;
  }
  if (!rows) return zz_fail(err, ZZ_ENUMERIC, "risk_wls: no stock with a finite return, positive cap and exposures");
  for (int a = 0; a < K; a++)
    for (int c = a + 1; c < K; c++) A[c * K + a] = A[a * K + c];
  /* reparametrisation f = C theta; with every row outside the groups (piv < 0) there is no group
   * column and no constraint */
  int piv = -1;
  for (int g = 0; g < G; g++)
    if (ng[g] > 0 && (piv < 0 || cg[g] > cg[piv])) piv = g;
  int Kr = 0;
  /* a style with no cross-sectional variation (e.g. every exposure filled during warm-up: all 0)
   * is left out of the day's regression with f = 0 */
  for (int a = 0; a < S; a++)
    if (A[a * K + a] > 1e-12 * A[cc * K + cc]) C[a * K + Kr++] = 1;
  for (int g = 0; g < G; g++) {
    if (g == piv || ng[g] == 0) continue;
    C[(S + g) * K + Kr] = 1;
    C[(S + piv) * K + Kr] = -cg[g] / cg[piv];
    Kr++;
  }
  C[cc * K + Kr++] = 1;
  /* B = A C (K x Kr), then A' = C' B into A's storage as Kr x Kr, b' = C' b */
  for (int a = 0; a < K; a++)
    for (int j = 0; j < Kr; j++) {
      double s = 0;
      for (int c = 0; c < K; c++) s += A[a * K + c] * C[c * K + j];
      B[a * Kr + j] = s;
    }
  for (int i = 0; i < Kr; i++) {
    double s = 0;
    for (int c = 0; c < K; c++) s += C[c * K + i] * b[c];
    th[i] = s;
    for (int j = 0; j < Kr; j++) {
      double t = 0;
      for (int c = 0; c < K; c++) t += C[c * K + i] * B[c * Kr + j];
      A[i * Kr + j] = t;
    }
  }
  if (chol(Kr, A))
    return zz_fail(err, ZZ_ENUMERIC,
                   "risk_wls: singular regression (%d factors after the constraint; too few stocks or collinear "
                   "exposures)", Kr);
  chol_solve(Kr, A, th);
  for (int a = 0; a < K; a++) {
    double s = 0;
    for (int j = 0; j < Kr; j++) s += C[a * K + j] * th[j];
    f[a] = s;
  }
  return ZZ_OK;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double risk_median(double *v, int m) {
  if (m <= 0) return NAN;
  qsort(v, (size_t)m, sizeof *v, cmp_dbl);
  return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

int risk_wls(int n, int S, int G, const double *ret, const double *cap, const int16_t *group, const double *style,
             double *f, double *resid, double *r2, zz_err *err) {
  return risk_wls_robust(n, S, G, ret, cap, group, style, 0.0, 0, f, resid, r2, err);
}

int risk_wls_robust(int n, int S, int G, const double *ret, const double *cap, const int16_t *group,
                    const double *style, double huber_k, int iters, double *f, double *resid, double *r2,
                    zz_err *err) {
  if (n < 0 || S < 0 || G < 1 || iters < 0 || !(huber_k >= 0))
    return zz_fail(err, ZZ_EUSAGE, "risk_wls: bad dimensions or robustness (n=%d S=%d G=%d k=%g iters=%d)", n, S, G,
                   huber_k, iters);
  int K = S + G + 1;
  if (!(huber_k > 0)) iters = 0;
  double *A = malloc(((size_t)K * K * 3 + (size_t)K * 4 + (size_t)G * 2 + (iters ? 2 * (size_t)n : 0)) * sizeof(double));
  if (!A) return zz_fail(err, ZZ_ENOMEM, "risk_wls: out of memory");
  double *rw = iters ? A + (size_t)K * K * 3 + (size_t)K * 4 + (size_t)G * 2 : NULL, *ab = rw ? rw + n : NULL;
  int rc = wls_solve(n, S, G, ret, cap, NULL, group, style, A, f, err);
  for (int it = 0; !rc && it < iters; it++) {
    int m = 0;
    for (int i = 0; i < n; i++) {
      rw[i] = 0;
      if (!row_ok(i, S, G, ret, cap, group, style)) continue;
      rw[i] = ret[i] - row_fit(i, S, G, group, style, f);
      ab[m++] = rw[i];
    }
    double med = risk_median(ab, m);
    for (int i = 0, q = 0; i < n; i++)
      if (row_ok(i, S, G, ret, cap, group, style)) ab[q++] = fabs(rw[i] - med);
    double scale = 1.4826 * risk_median(ab, m);
    if (!(scale > 0)) break; /* an exact fit: nothing to down-weight */
    for (int i = 0; i < n; i++) {
      double u = fabs(rw[i]) / (huber_k * scale);
      rw[i] = u > 1 ? 1 / u : 1.0;
    }
    rc = wls_solve(n, S, G, ret, cap, rw, group, style, A, f, err);
  }
  if (!rc) {
    double swe = 0, sw = 0, swr = 0, swrr = 0;
    for (int i = 0; i < n; i++) {
      if (!row_ok(i, S, G, ret, cap, group, style)) {
        if (resid) resid[i] = NAN;
        continue;
      }
      double e = ret[i] - row_fit(i, S, G, group, style, f), w = sqrt(cap[i]);
      if (resid) resid[i] = e;
      swe += w * e * e, sw += w, swr += w * ret[i], swrr += w * ret[i] * ret[i];
    }
    double tss = swrr - swr * swr / sw;
    if (r2) *r2 = tss > 0 ? 1 - swe / tss : NAN;
  }
  if (rc) {
    for (int a = 0; a < K; a++) f[a] = NAN;
    if (resid)
      for (int i = 0; i < n; i++) resid[i] = NAN;
    if (r2) *r2 = NAN;
  }
  free(A);
  return rc;
}

int risk_thin_groups(int n, int S, int G, const double *ret, const double *cap, const int16_t *group,
                     const double *style, double min_eff, int16_t *group_out, uint8_t *thin, int *n_thin,
                     zz_err *err) {
  if (n < 0 || S < 0 || G < 1 || isnan(min_eff))
    return zz_fail(err, ZZ_EUSAGE, "risk_thin_groups: bad dimensions or threshold (n=%d S=%d G=%d)", n, S, G);
  double *sw = calloc((size_t)G * 2, sizeof *sw); /* per group: sum w, sum w^2 */
  if (!sw) return zz_fail(err, ZZ_ENOMEM, "risk_thin_groups: out of memory");
  double *sw2 = sw + G;
  for (int i = 0; i < n; i++)
    if (group[i] >= 0 && row_ok(i, S, G, ret, cap, group, style)) {
      double w = sqrt(cap[i]);
      sw[group[i]] += w;
      sw2[group[i]] += w * w;
    }
  int nt = 0;
  for (int g = 0; g < G; g++) {
    /* the effective count of a weighted mean: 1 for a lone member, k for k equal weights */
    int t = min_eff > 0 && sw2[g] > 0 && sw[g] * sw[g] < min_eff * sw2[g];
    sw[g] = t; /* reused as the group's flag */
    nt += t;
    if (thin) thin[g] = (uint8_t)t;
  }
  for (int i = 0; i < n; i++) {
    int16_t g = group[i];
    group_out[i] = g >= 0 && g < G && sw[g] != 0 ? (int16_t)RISK_GROUP_NONE : g;
  }
  free(sw);
  if (n_thin) *n_thin = nt;
  return ZZ_OK;
}
