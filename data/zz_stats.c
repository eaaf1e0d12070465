/* zz_stats.c — shared cross-sectional statistics: average ranks, Spearman rank correlation and the
 * per-date z-score. The one implementation used by data/ (the synthetic market's oracle RankIC),
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
