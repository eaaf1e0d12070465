/* zz_stats.c — shared cross-sectional statistics: average ranks, Spearman rank correlation and the
 * per-date z-score, the factor units' mutual correlation. The one implementation used by data/ (the synthetic market's oracle RankIC),
 * model/ (validation RankIC, label and score z-scores) and reports/ (factor tests). See data.h,
 * "shared statistics"; tested against scipy/numpy by tests/data/test_stats.c + ref_stats.py. */
#include "data.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  double v;
  int i;
} rank_item;

/* Ascending value, NaN after every number, ties (and NaNs) by index: a total order, so qsort is
 * well defined whatever the input. */
static int cmp_rank_item(const void *a, const void *b) {
  const rank_item *x = a, *y = b;
  if (x->v < y->v) return -1;
  if (x->v > y->v) return 1;
  const int nx = isnan(x->v), ny = isnan(y->v);
  if (nx != ny) return nx - ny;
  return (x->i > y->i) - (x->i < y->i);
}

size_t zz_stats_work_bytes(int n) {
  const size_t m = (size_t)(n > 0 ? n : 1);
  return m * (sizeof(rank_item) + 2 * sizeof(double));
}

/* The workspace: ranks of a (n doubles), ranks of b (n doubles), then n rank_items. */
static rank_item *work_items(void *work, int n) { return (rank_item *)((double *)work + 2 * (size_t)n); }

static void rank_avg(const double *x, int n, double *rank, rank_item *it) {
  for (int k = 0; k < n; k++) it[k] = (rank_item){x[k], k};
  qsort(it, (size_t)n, sizeof *it, cmp_rank_item);
  for (int a = 0; a < n;) {
    if (isnan(it[a].v)) { /* NaNs sort last: they get no rank */
      for (int k = a; k < n; k++) rank[it[k].i] = NAN;
      break;
    }
    int b = a;
    while (b + 1 < n && it[b + 1].v == it[a].v) b++;
    const double r = 0.5 * (a + b) + 1.0;
    for (int k = a; k <= b; k++) rank[it[k].i] = r;
    a = b + 1;
  }
}

int zz_rank_avg(const double *x, int n, double *rank, void *work) {
  if (n <= 0) return ZZ_OK;
  void *own = work ? NULL : malloc(zz_stats_work_bytes(n));
  if (!work && !own) {
    for (int k = 0; k < n; k++) rank[k] = NAN;
    return ZZ_ENOMEM;
  }
  rank_avg(x, n, rank, work_items(work ? work : own, n));
  free(own);
  return ZZ_OK;
}

double zz_spearman_ws(const double *a, const double *b, int n, void *work) {
  if (n < 2) return NAN;
  for (int k = 0; k < n; k++)
    if (isnan(a[k]) || isnan(b[k])) return NAN;
  double *ra = work, *rb = ra + n;
  rank_item *it = work_items(work, n);
  rank_avg(a, n, ra, it);
  rank_avg(b, n, rb, it);
  /* Pearson of the ranks. Ranks are multiples of 1/2 and their mean (n + 1) / 2, so the sums below are
   * exact (n up to about 300,000) and the result does not depend on the order of the terms. */
  double ma = 0, mb = 0;
  for (int k = 0; k < n; k++) ma += ra[k], mb += rb[k];
  ma /= n;
  mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (int k = 0; k < n; k++) {
    sab += (ra[k] - ma) * (rb[k] - mb);
    saa += (ra[k] - ma) * (ra[k] - ma);
    sbb += (rb[k] - mb) * (rb[k] - mb);
  }
  if (!(saa > 0) || !(sbb > 0)) return NAN; /* a constant side */
  const double r = sab / sqrt(saa * sbb);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

double zz_spearman(const double *a, const double *b, int n) {
  if (n < 2) return NAN;
  void *work = malloc(zz_stats_work_bytes(n));
  if (!work) return NAN;
  const double r = zz_spearman_ws(a, b, n, work);
  free(work);
  return r;
}

int zz_zscore(const double *x, int n, double *z) {
  double sum = 0, first = NAN;
  int m = 0, varies = 0;
  for (int k = 0; k < n; k++)
    if (isfinite(x[k])) {
      if (!m) first = x[k];
      varies |= x[k] != first;
      sum += x[k], m++;
    }
  const double mean = m ? sum / m : 0;
  double ss = 0;
  for (int k = 0; k < n; k++)
    if (isfinite(x[k])) ss += (x[k] - mean) * (x[k] - mean);
  /* equal values whose rounded mean is not exactly their value would give a tiny std and z = +-1 */
  const double sd = varies ? sqrt(ss / m) : 0;
  for (int k = 0; k < n; k++) z[k] = !isfinite(x[k]) ? NAN : sd > 0 ? (x[k] - mean) / sd : 0.0;
  return m;
}

struct zz_unit_corr {
  int K, n_dates;
  double *sum; /* K x K: sum over dates of rho_ab (a < b) */
  int *cnt;    /* K x K: dates where rho_ab is defined */
  double *c, *ss;
  int *varies;
  size_t cap; /* rows c holds */
};

int zz_unit_corr_create(zz_unit_corr **out, int K, zz_err *err) {
  *out = NULL;
  if (K < 2) return zz_fail(err, ZZ_EUSAGE, "the units' mutual correlation needs at least 2 units, found %d", K);
  zz_unit_corr *a = calloc(1, sizeof *a);
  if (a) {
    a->K = K;
    a->sum = calloc((size_t)K * K, sizeof *a->sum);
    a->cnt = calloc((size_t)K * K, sizeof *a->cnt);
    a->ss = malloc(sizeof *a->ss * (size_t)K);
    a->varies = malloc(sizeof *a->varies * (size_t)K);
  }
  if (!a || !a->sum || !a->cnt || !a->ss || !a->varies) {
    zz_unit_corr_free(a);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the units' mutual correlation (%d units)", K);
  }
  *out = a;
  return ZZ_OK;
}

void zz_unit_corr_free(zz_unit_corr *a) {
  if (!a) return;
  free(a->sum), free(a->cnt), free(a->c), free(a->ss), free(a->varies);
  free(a);
}

int zz_unit_corr_add(zz_unit_corr *a, const double *x, size_t n, zz_err *err) {
  const int K = a->K;
  if (n < 2) return ZZ_OK;
  if (n > a->cap) {
    double *c = realloc(a->c, sizeof *c * (size_t)K * n);
    if (!c) return zz_fail(err, ZZ_ENOMEM, "out of memory for the units' mutual correlation (%zu rows)", n);
    a->c = c, a->cap = n;
  }
  a->n_dates++;
  for (int k = 0; k < K; k++) { /* centred unit k into c[k*n ..] */
    double s = 0, *ck = a->c + (size_t)k * n;
    const double first = x[k];
    int varies = 0;
    for (size_t j = 0; j < n; j++) s += x[j * K + k], varies |= x[j * K + k] != first;
    const double mean = s / (double)n;
    double q = 0;
    for (size_t j = 0; j < n; j++) ck[j] = x[j * K + k] - mean, q += ck[j] * ck[j];
    a->ss[k] = q;
    a->varies[k] = varies && q > 0;
  }
  for (int i = 0; i < K; i++) {
    if (!a->varies[i]) continue;
    const double *ci = a->c + (size_t)i * n;
    for (int j = i + 1; j < K; j++) {
      if (!a->varies[j]) continue;
      const double *cj = a->c + (size_t)j * n;
      double sij = 0;
      for (size_t r = 0; r < n; r++) sij += ci[r] * cj[r];
      double rho = sij / sqrt(a->ss[i] * a->ss[j]);
      if (rho > 1) rho = 1;
      if (rho < -1) rho = -1;
      a->sum[(size_t)i * K + j] += rho, a->cnt[(size_t)i * K + j]++;
    }
  }
  return ZZ_OK;
}

void zz_unit_corr_result(const zz_unit_corr *a, double *mean_abs, double *pair, int *n_dates) {
  const int K = a->K;
  double tot = 0;
  int n_pairs = 0;
  for (int i = 0; i < K; i++) {
    if (pair) pair[(size_t)i * K + i] = 1.0;
    for (int j = i + 1; j < K; j++) {
      const size_t ij = (size_t)i * K + j;
      const double m = a->cnt[ij] ? a->sum[ij] / a->cnt[ij] : NAN;
      if (pair) pair[ij] = pair[(size_t)j * K + i] = m;
      if (a->cnt[ij]) tot += fabs(m), n_pairs++;
    }
  }
  *mean_abs = n_pairs ? tot / n_pairs : NAN;
  if (n_dates) *n_dates = a->n_dates;
}

int zz_unit_correlation(int K, const double *const *u, const size_t *start, int n_dates, const uint8_t *keep,
                        double *mean_abs, double *pair, int *n_dates_used, zz_err *err) {
  *mean_abs = NAN;
  if (n_dates_used) *n_dates_used = 0;
  zz_unit_corr *a = NULL;
  int rc = zz_unit_corr_create(&a, K, err);
  if (rc) return rc;
  size_t max_rows = 0;
  for (int d = 0; d < n_dates; d++)
    if (start[d + 1] - start[d] > max_rows) max_rows = start[d + 1] - start[d];
  double *x = malloc(sizeof *x * (size_t)K * (max_rows ? max_rows : 1)); /* a date's complete rows, row-major */
  if (!x) rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the units' mutual correlation (%d units)", K);
  for (int d = 0; d < n_dates && !rc; d++) {
    size_t m = 0;
    for (size_t r = start[d]; r < start[d + 1]; r++) {
      int ok = !keep || keep[r];
      for (int k = 0; k < K && ok; k++) ok = isfinite(u[k][r]);
      if (!ok) continue;
      for (int k = 0; k < K; k++) x[m * K + k] = u[k][r];
      m++;
    }
    rc = zz_unit_corr_add(a, x, m, err);
  }
  if (!rc) zz_unit_corr_result(a, mean_abs, pair, n_dates_used);
  free(x);
  zz_unit_corr_free(a);
  return rc;
}
