/* bench_opt_sequence.c — a backtest's sequence of optimisation problems solved warm (each week from the
 * previous one's state, opt_solve_warm) and cold (each alone, opt_solve), in one run, side by side.
 *
 *   build/bench/bench_opt_sequence [--mode both|warm|cold] [--out DIR] PROBLEM_DIR...
 *
 * The problem directories (SPEC 11.1, each with its limits.ini) are solved in the order given: pass one
 * backtest's weeks in date order, e.g. those `ZZ_OPT_DUMP=DIR zhizeng run ...` writes as
 * DIR/<backtest>/<date>/. Prints one CSV row per problem and mode (wall seconds, rounds, LP iterations,
 * objective, certified gap, TE) and a summary: median and total seconds per mode, their ratio, and the
 * largest objective difference between the warm and the cold solve of a problem. With --out, every
 * solution is written as DIR/<k>_<mode>.csv (`zhizeng optimize`'s format) for an outside check
 * (bench/bench_optimize.py --sequence). */
#include "portfolio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  if (n == 0) return NAN;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct mode_sum {
  double *sec;
  int n, failed;
  double total;
  long iters, rounds;
} mode_sum;

static int solve_one(const char *dir, int k, const char *mode, opt_warm *warm, const char *out, mode_sum *ms,
                     double *objective) {
  opt_problem *p = NULL;
  opt_limits lim;
  opt_limits_default(&lim);
  zz_err err = {0};
  char path[4096];
  snprintf(path, sizeof path, "%s/limits.ini", dir);
  int rc = opt_problem_read(dir, &p, &err);
  if (!rc) rc = opt_limits_read(path, &lim, &err);
  opt_result *r = NULL;
  if (!rc) rc = opt_solve_warm(p, &lim, warm, &r, &err);
  int members = 0;
  for (int i = 0; p && i < p->n; i++) members += p->bench[i] > 0;
  if (rc) {
    printf("%d,%s,%d,%d,%s,,,,,,,,,failed,,\n", k, dir, p ? p->n : 0, members, mode);
    fprintf(stderr, "bench_opt_sequence: %s (%s): %s\n", dir, mode, err.msg);
    ms->failed++;
    *objective = NAN;
  } else {
    printf("%d,%s,%d,%d,%s,%.6f,%d,%d,%.12g,%.12g,%.3g,%.8g,%.8g,%s,%d,%d\n", k, dir, p->n, members, mode,
           r->solve_seconds, r->rounds, r->lp_iterations, r->objective, r->upper_bound, r->gap, r->te, r->limits.te_max,
           opt_status_name(r->status), r->warm, r->anchor);
    ms->sec[ms->n++] = r->solve_seconds;
    ms->total += r->solve_seconds;
    ms->iters += r->lp_iterations;
    ms->rounds += r->rounds;
    *objective = r->objective;
    if (out) {
      snprintf(path, sizeof path, "%s/%d_%s.csv", out, k, mode);
      if (opt_result_write(p, r, path, &err)) fprintf(stderr, "bench_opt_sequence: %s\n", err.msg);
    }
  }
  opt_result_free(r);
  opt_problem_free(p);
  return rc;
}

static void summary(const char *mode, mode_sum *ms) {
  double tot = ms->total;
  int n = ms->n;
  fprintf(stderr, "%-5s %4d solved, %d failed: median %.4f s, total %.2f s, mean rounds %.1f, mean LP iterations %.0f\n",
          mode, n, ms->failed, median(ms->sec, n), tot, n ? (double)ms->rounds / n : 0, n ? (double)ms->iters / n : 0);
}

int main(int argc, char **argv) {
  int do_warm = 1, do_cold = 1, first = 1;
  const char *out = NULL;
  for (; first < argc && argv[first][0] == '-'; first++) {
    if (first + 1 < argc && !strcmp(argv[first], "--mode")) {
      const char *m = argv[++first];
      do_warm = !strcmp(m, "both") || !strcmp(m, "warm");
      do_cold = !strcmp(m, "both") || !strcmp(m, "cold");
    } else if (first + 1 < argc && !strcmp(argv[first], "--out")) out = argv[++first];
    else break;
  }
  const int n = argc - first;
  if (n < 1 || (!do_warm && !do_cold)) {
    fprintf(stderr, "usage: bench_opt_sequence [--mode both|warm|cold] [--out DIR] PROBLEM_DIR...\n");
    return 2;
  }
  if (out && mkdir(out, 0777) && errno != EEXIST) {
    fprintf(stderr, "bench_opt_sequence: cannot create %s: %s\n", out, strerror(errno));
    return 1;
  }
  mode_sum ws = {calloc((size_t)n, sizeof(double)), 0, 0, 0, 0, 0};
  mode_sum cs = {calloc((size_t)n, sizeof(double)), 0, 0, 0, 0, 0};
  opt_warm *warm = NULL;
  zz_err err = {0};
  if (!ws.sec || !cs.sec || opt_warm_create(&warm, &err)) {
    fprintf(stderr, "bench_opt_sequence: out of memory\n");
    return 1;
  }
  printf("k,dir,n,members,mode,seconds,rounds,lp_iterations,objective,upper_bound,gap,te,te_max,status,warm,anchor\n");
  double max_rel = 0;
  int worst = -1;
  for (int k = 0; k < n; k++) {
    double ow = NAN, oc = NAN;
    if (do_warm) solve_one(argv[first + k], k, "warm", warm, out, &ws, &ow);
    if (do_cold) solve_one(argv[first + k], k, "cold", NULL, out, &cs, &oc);
    if (isfinite(ow) && isfinite(oc)) {
      double rel = fabs(ow - oc) / fmax(fabs(oc), 1e-12);
      if (rel > max_rel) max_rel = rel, worst = k;
    }
    fflush(stdout);
  }
  if (do_warm) summary("warm", &ws);
  if (do_cold) summary("cold", &cs);
  if (do_warm && do_cold) {
    fprintf(stderr, "cold / warm: total %.2fx; largest relative objective difference %.2e (problem %d)\n",
            ws.total > 0 ? cs.total / ws.total : NAN, max_rel, worst);
  }
  free(ws.sec), free(cs.sec);
  opt_warm_free(warm);
  return ws.failed + cs.failed ? 1 : 0;
}
