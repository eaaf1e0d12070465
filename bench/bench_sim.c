/* bench_sim.c — simulator throughput: a random 6,000-stock market over 2010-2023 (weekdays), weekly
 * targets of 300 stocks, default rules and costs; prints simulated days per second.
 *
 *   build/bench/bench_sim [--stocks 6000] [--start 2010] [--end 2023] [--hold 300] [--seed 1]
 *                           [--dump DIR]
 * With --dump DIR the market and targets are also written as raw arrays for the numpy version of the
 * same rules (bench/bench_sim_numpy.py DIR), which prints its own days per second and the ratio. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct { uint64_t s; } rng64;
static uint64_t rng_next(rng64 *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double rng_u(rng64 *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static double rng_n(rng64 *r) { return sqrt(-2.0 * log(1.0 - rng_u(r))) * cos(6.283185307179586 * rng_u(r)); }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int dump(const char *dir, const char *name, const void *a, size_t bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(a, 1, bytes, f) != bytes) {
    fprintf(stderr, "bench_sim: cannot write %s: %s\n", path, strerror(errno));
    if (f) fclose(f);
    return 1;
  }
  return fclose(f) != 0;
}

int main(int argc, char **argv) {
  int n = 6000, y0 = 2010, y1 = 2023, hold = 300;
  uint64_t seed = 1;
  const char *dumpdir = NULL;
  for (int k = 1; k < argc; k++) {
    if (k + 1 < argc && !strcmp(argv[k], "--stocks")) n = atoi(argv[++k]);
    else if (k + 1 < argc && !strcmp(argv[k], "--start")) y0 = atoi(argv[++k]);
    else if (k + 1 < argc && !strcmp(argv[k], "--end")) y1 = atoi(argv[++k]);
    else if (k + 1 < argc && !strcmp(argv[k], "--hold")) hold = atoi(argv[++k]);
    else if (k + 1 < argc && !strcmp(argv[k], "--seed")) seed = strtoull(argv[++k], NULL, 10);
    else if (k + 1 < argc && !strcmp(argv[k], "--dump")) dumpdir = argv[++k];
    else {
      fprintf(stderr, "usage: bench_sim [--stocks N] [--start YEAR] [--end YEAR] [--hold N] [--seed S] [--dump DIR]\n");
      return 2;
    }
  }
  if (n < 10 || y1 < y0 || hold < 1 || hold > n) {
    fprintf(stderr, "bench_sim: need --stocks >= 10, --end >= --start, 1 <= --hold <= --stocks\n");
    return 2;
  }
  /* calendar: weekdays */
  int cap = (y1 - y0 + 1) * 262 + 10, nd = 0;
  int32_t *dates = malloc((size_t)cap * sizeof *dates);
  for (int32_t d = zz_date_to_days(y0 * 10000 + 101); zz_days_to_date(d) <= y1 * 10000 + 1231; d++)
    if (zz_date_weekday(zz_days_to_date(d)) <= 5) dates[nd++] = zz_days_to_date(d);
  panel p = {.n_dates = nd, .n_stocks = n, .dates = dates};
  p.stocks = calloc((size_t)n, sizeof *p.stocks);
  size_t cells = (size_t)nd * (size_t)n;
  for (int f = 0; f < PF_N_FIELDS; f++) p.f[f] = malloc(cells * sizeof(double));
  p.flags = calloc(cells, 1);
  for (int f = 0; f < PF_N_FIELDS; f++)
    if (!p.f[f]) return fprintf(stderr, "bench_sim: out of memory\n"), 5;
  rng64 r = {seed};
  double t_gen = now();
  for (int i = 0; i < n; i++) {
    snprintf(p.stocks[i].code, ZZ_CODE_LEN, "%06d.%s", i < n / 2 ? 600000 + i : i, i < n / 2 ? "SH" : "SZ");
    p.stocks[i].board = BOARD_MAIN;
    int first = rng_u(&r) < 0.2 ? (int)(rng_u(&r) * nd) : 0;
    int last = rng_u(&r) < 0.05 ? first + (int)(rng_u(&r) * (nd - first)) : nd - 1;
    double close = 5 + 40 * rng_u(&r), adj = 1;
    for (int t = 0; t < nd; t++) {
      size_t k = panel_at(&p, t, i);
      if (t < first || t > last) {
        for (int f = 0; f < PF_N_FIELDS; f++) p.f[f][k] = NAN;
        continue;
      }
      p.flags[k] = PANEL_LISTED | PANEL_HAS_BAR;
      double pre = close;
      if (t > first && rng_u(&r) < 0.004 && close >= 1.0) { /* ex-rights (not on penny stocks: a 0.2 CNY
                                                                dividend would make the price negative) */
        double fac = rng_u(&r) < 0.5 ? 1.5 : close / (close - 0.2);
        pre = round(close / fac * 100) / 100;
        adj *= close / pre;
      }
      double up = round(pre * 110) / 100, dn = round(pre * 90) / 100;
      int susp = t > first && rng_u(&r) < 0.01;
      double c = susp ? pre : fmin(fmax(round(pre * (1 + 0.025 * rng_n(&r)) * 100) / 100, dn), up);
      double o = susp ? pre : fmin(fmax(round(pre * (1 + 0.01 * rng_n(&r)) * 100) / 100, dn), up);
      double hi = fmax(o, c), lo = fmin(o, c);
      p.f[PF_OPEN][k] = o;
      p.f[PF_HIGH][k] = hi;
      p.f[PF_LOW][k] = lo;
      p.f[PF_CLOSE][k] = c;
      p.f[PF_PRE_CLOSE][k] = pre;
      p.f[PF_VWAP][k] = lo + (hi - lo) * (0.3 + 0.4 * rng_u(&r));
      p.f[PF_VOLUME][k] = susp ? 0 : 1e6;
      p.f[PF_AMOUNT][k] = susp ? 0 : 1e6 * p.f[PF_VWAP][k];
      p.f[PF_ADJ][k] = adj;
      p.f[PF_UP_LIMIT][k] = up;
      p.f[PF_DOWN_LIMIT][k] = dn;
      p.f[PF_FLOAT_MV][k] = p.f[PF_TOTAL_MV][k] = c * 1e8;
      if (susp) p.flags[k] |= PANEL_SUSPENDED;
      close = c;
    }
  }
  /* weekly targets: `hold` random listed stocks, random weights summing to 0.98 */
  sim_targets *tg = sim_targets_create();
  int *pick = malloc((size_t)n * sizeof *pick), nb = 0;
  double *w = malloc((size_t)hold * sizeof *w);
  size_t n_entries = 0;
  int32_t *e_t = NULL, *e_i = NULL;
  double *e_w = NULL;
  size_t e_cap = 0;
  for (int t = 0; t + 1 < nd; t++) {
    if (zz_date_weekday(dates[t + 1]) > zz_date_weekday(dates[t])) continue; /* not the last day of a week */
    int m = 0;
    for (int i = 0; i < n; i++)
      if (p.flags[panel_at(&p, t, i)] & PANEL_LISTED) pick[m++] = i;
    int h = hold < m ? hold : m;
    for (int j = 0; j < h; j++) { /* partial Fisher-Yates */
      int k = j + (int)(rng_u(&r) * (m - j));
      int tmp = pick[j];
      pick[j] = pick[k];
      pick[k] = tmp;
    }
    double sum = 0;
    for (int j = 0; j < h; j++) sum += w[j] = 0.5 + rng_u(&r);
    sim_targets_add_date(tg, dates[t], 0, NULL);
    for (int j = 0; j < h; j++) {
      double x = 0.98 * w[j] / sum;
      sim_targets_add(tg, dates[t], pick[j], x, NULL);
      if (n_entries == e_cap) {
        e_cap = e_cap ? 2 * e_cap : 65536;
        e_t = realloc(e_t, e_cap * sizeof *e_t);
        e_i = realloc(e_i, e_cap * sizeof *e_i);
        e_w = realloc(e_w, e_cap * sizeof *e_w);
      }
      e_t[n_entries] = t, e_i[n_entries] = pick[j], e_w[n_entries] = x;
      n_entries++;
    }
    nb++;
  }
  t_gen = now() - t_gen;
  sim_config c;
  sim_config_default(&c);
  c.capital = 1e8;
  c.benchmark = -1;
  zz_err err = {0};
  sim_result *res = NULL;
  double secs = INFINITY;
  for (int rep = 0; rep < 5; rep++) { /* best of 5: one run is ~0.2 s, where page faults and noise show */
    if (res) sim_result_free(res), res = NULL;
    double t0 = now();
    int rc = sim_run(&p, tg, &c, &res, &err);
    double dt = now() - t0;
    if (rc) {
      fprintf(stderr, "bench_sim: %s\n", err.msg);
      return zz_exit_code(rc);
    }
    if (dt < secs) secs = dt;
  }
  printf("bench_sim: %d stocks x %d days (%d-%d), %d weekly targets of %d stocks, %zu orders\n", n, nd, y0, y1, nb, hold,
         res->n_trades);
  printf("bench_sim: market generated in %.2f s; simulation (best of 5) %.3f s = %.0f days/s; final nav %.6f, costs %.0f CNY\n", t_gen,
         secs, res->n_days / secs, res->nav[res->n_days - 1], res->total_costs);
  int bad = 0;
  if (dumpdir) {
    mkdir(dumpdir, 0777);
    static const char *fn[] = {"open", "high", "low", "close", "volume", "amount", "pre_close", "vwap", "adj_factor",
                               "up_limit", "down_limit"};
    for (int f = 0; f <= PF_DOWN_LIMIT; f++) {
      char name[64];
      snprintf(name, sizeof name, "%s.f64", fn[f]);
      bad |= dump(dumpdir, name, p.f[f], cells * sizeof(double));
    }
    bad |= dump(dumpdir, "flags.u8", p.flags, cells);
    bad |= dump(dumpdir, "dates.i32", dates, (size_t)nd * sizeof(int32_t));
    bad |= dump(dumpdir, "target_t.i32", e_t, n_entries * sizeof(int32_t));
    bad |= dump(dumpdir, "target_i.i32", e_i, n_entries * sizeof(int32_t));
    bad |= dump(dumpdir, "target_w.f64", e_w, n_entries * sizeof(double));
    bad |= dump(dumpdir, "nav.f64", res->nav, (size_t)res->n_days * sizeof(double));
    char meta[256];
    int len = snprintf(meta, sizeof meta, "{\"n_stocks\": %d, \"n_dates\": %d, \"capital\": 1e8, \"c_seconds\": %.9g}\n", n,
                       nd, secs);
    bad |= dump(dumpdir, "meta.json", meta, (size_t)len);
    if (!bad) printf("bench_sim: market and targets written to %s (run: python3 bench/bench_sim_numpy.py %s)\n", dumpdir, dumpdir);
  }
  sim_result_free(res);
  sim_targets_free(tg);
  for (int f = 0; f < PF_N_FIELDS; f++) free(p.f[f]);
  free(p.flags);
  free(p.stocks);
  free(dates);
  free(pick);
  free(w);
  free(e_t);
  free(e_i);
  free(e_w);
  return bad;
}
