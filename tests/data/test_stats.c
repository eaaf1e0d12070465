/* test_stats.c — the shared statistics of data/zz_stats.c (zz_rank_avg, zz_spearman, zz_zscore).
 *   test_stats                 hand-computed cases (ties, all equal, n = 1 and 2, NaN / inf rules,
 *                              z-score with std 0, one finite value, NaN entries, in place)
 *   test_stats spearman        driver for ref_stats.py: reads cases "n a1 .. an b1 .. bn" from stdin,
 *                              prints per case "spearman r" and "ranks r1 .. rn" (ranks of a)
 *   test_stats zscore          driver: reads cases "n x1 .. xn", prints per case "zscore m z1 .. zn"
 * Numbers are printed with %.17g (nan, inf as printf writes them). */
#include "data.h"
#include "data/zz_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int near(double a, double b) { return (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-12; }

static void hand_cases(void) {
  void *w = malloc(zz_stats_work_bytes(8));
  CHECK(w);
  /* ties: a = 1 2 2 3 -> ranks 1 2.5 2.5 4 */
  const double a[] = {1, 2, 2, 3}, b[] = {10, 20, 30, 40}, c[] = {5, 5, 5, 5};
  double r[8];
  CHECK(zz_rank_avg(a, 4, r, w) == ZZ_OK);
  CHECK(r[0] == 1 && r[1] == 2.5 && r[2] == 2.5 && r[3] == 4);
  CHECK(zz_rank_avg(a, 4, r, NULL) == ZZ_OK && r[1] == 2.5);
  /* Pearson of (1, 2.5, 2.5, 4) and (1, 2, 3, 4): sxy = 4.5, sxx = 4.5, syy = 5 -> 4.5 / sqrt(22.5) */
  CHECK(near(zz_spearman_ws(a, b, 4, w), 4.5 / sqrt(22.5)));
  CHECK(near(zz_spearman(a, b, 4), 4.5 / sqrt(22.5)));
  CHECK(zz_spearman_ws(b, b, 4, w) == 1.0);
  const double rb[] = {40, 30, 20, 10};
  CHECK(zz_spearman_ws(b, rb, 4, w) == -1.0);
  /* all equal, n = 1: undefined; n = 2: +-1 */
  CHECK(isnan(zz_spearman_ws(c, b, 4, w)) && isnan(zz_spearman_ws(b, c, 4, w)));
  CHECK(isnan(zz_spearman_ws(a, b, 1, w)) && isnan(zz_spearman(a, b, 1)) && isnan(zz_spearman(a, b, 0)));
  CHECK(zz_spearman_ws(a, b, 2, w) == 1.0 && zz_spearman_ws(a, rb, 2, w) == -1.0);
  /* NaN anywhere -> NaN; +-inf are ranked as the extremes */
  const double an[] = {1, NAN, 2, 3}, ai[] = {-INFINITY, 2, 3, INFINITY};
  CHECK(isnan(zz_spearman_ws(an, b, 4, w)) && isnan(zz_spearman_ws(b, an, 4, w)));
  CHECK(zz_spearman_ws(ai, b, 4, w) == 1.0);
  CHECK(zz_rank_avg(an, 4, r, w) == ZZ_OK);
  CHECK(r[0] == 1 && isnan(r[1]) && r[2] == 2 && r[3] == 3);
  const double nn[] = {NAN, 7, NAN, 7};
  CHECK(zz_rank_avg(nn, 4, r, w) == ZZ_OK && isnan(r[0]) && r[1] == 1.5 && isnan(r[2]) && r[3] == 1.5);

  /* z-score: 1 2 3 4 -> mean 2.5, population std sqrt(1.25) */
  double z[8];
  const double x[] = {1, 2, 3, 4};
  CHECK(zz_zscore(x, 4, z) == 4);
  CHECK(near(z[0], -1.5 / sqrt(1.25)) && near(z[3], 1.5 / sqrt(1.25)));
  /* std 0: equal values (0.1 x 3: the rounded sum / 3 is not 0.1) -> 0, NaN entries stay NaN */
  const double e[] = {0.1, NAN, 0.1, 0.1, INFINITY};
  CHECK(zz_zscore(e, 5, z) == 3);
  CHECK(z[0] == 0 && isnan(z[1]) && z[2] == 0 && z[3] == 0 && isnan(z[4]));
  /* one finite value -> 0; none -> all NaN, count 0 */
  const double one[] = {NAN, 3.5, -INFINITY};
  CHECK(zz_zscore(one, 3, z) == 1 && isnan(z[0]) && z[1] == 0 && isnan(z[2]));
  const double none[] = {NAN, NAN};
  CHECK(zz_zscore(none, 2, z) == 0 && isnan(z[0]) && isnan(z[1]));
  CHECK(zz_zscore(none, 0, z) == 0);
  /* NaN entries are left out of mean and std: (1, NaN, 3) -> (-1, NaN, 1) */
  const double h[] = {1, NAN, 3};
  CHECK(zz_zscore(h, 3, z) == 2 && z[0] == -1 && isnan(z[1]) && z[2] == 1);
  /* in place gives the same */
  double y[] = {1, 2, 3, 4};
  CHECK(zz_zscore(y, 4, y) == 4);
  zz_zscore(x, 4, z);
  CHECK(memcmp(y, z, sizeof y) == 0);
  free(w);
}

static int read_n(int *n) { return scanf("%d", n) == 1 && *n >= 0; }
static int read_v(double *v, int n) {
  char tok[64];
  for (int k = 0; k < n; k++) {
    if (scanf("%63s", tok) != 1) return 0;
    v[k] = strtod(tok, NULL); /* accepts nan, inf, -inf */
  }
  return 1;
}
static void put(const char *name, const double *v, int n) {
  printf("%s", name);
  for (int k = 0; k < n; k++) printf(" %.17g", v[k]);
  printf("\n");
}

static int drive(const char *mode) {
  const int spear = !strcmp(mode, "spearman");
  if (!spear && strcmp(mode, "zscore")) {
    fprintf(stderr, "test_stats: unknown mode %s (spearman, zscore)\n", mode);
    return 2;
  }
  int cap = 0, n;
  double *a = NULL, *b = NULL, *r = NULL;
  void *w = NULL;
  while (read_n(&n)) {
    if (n + 1 > cap) { /* the workspace grows; zz_spearman_ws is checked against zz_spearman below */
      cap = 2 * (n + 1);
      free(a), free(b), free(r), free(w);
      a = malloc(sizeof *a * (size_t)cap), b = malloc(sizeof *b * (size_t)cap), r = malloc(sizeof *r * (size_t)cap);
      w = malloc(zz_stats_work_bytes(cap));
      if (!a || !b || !r || !w) return 1;
    }
    if (!read_v(a, n) || (spear && !read_v(b, n))) {
      fprintf(stderr, "test_stats: truncated case\n");
      return 2;
    }
    if (spear) {
      const double v = zz_spearman_ws(a, b, n, w), v2 = zz_spearman(a, b, n);
      if (!(v == v2 || (isnan(v) && isnan(v2)))) {
        fprintf(stderr, "zz_spearman_ws %.17g != zz_spearman %.17g (n %d)\n", v, v2, n);
        zz_failures++;
      }
      put("spearman", &v, 1);
      zz_rank_avg(a, n, r, w);
      put("ranks", r, n);
    } else {
      const double m = zz_zscore(a, n, r);
      printf("zscore %.17g", m);
      for (int k = 0; k < n; k++) printf(" %.17g", r[k]);
      printf("\n");
    }
  }
  free(a), free(b), free(r), free(w);
  return zz_failures ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc > 1) return drive(argv[1]);
  hand_cases();
  if (zz_failures) fprintf(stderr, "%d check(s) failed\n", zz_failures);
  else printf("stats: all hand-computed cases pass\n");
  return zz_failures ? 1 : 0;
}
