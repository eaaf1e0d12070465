/* bench_risk.c — wall time and peak memory of the full risk model (exposures every day, a
 * constrained WLS every day, covariance and specific variance on weekly dates).
 *
 *   bench_risk [--stocks N] [--years Y] [--seed S]    random in-memory panel (default 6000 x 14 years
 *                                                      from 2010: the target, goal < 2 min)
 *   bench_risk --market DIR                            a market directory via panel_load
 * Run by hand (one run at a time on the shared machine). */
#include "data.h"
#include "risk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t sm_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (double)(sm_next(s) >> 11) * 0x1.0p-53; }
static double gauss(uint64_t *s) {
  double u = unif(s) + 1e-300, v = unif(s);
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A random panel: business days from 2010-01-04, random-walk prices with a market and industry
 * component, log-normal caps, IPOs spread over the period, 31 industries, 1 % suspended days. */
static panel *random_panel(int n, int years, uint64_t seed) {
  panel *p = calloc(1, sizeof *p);
  int T = years * 243;
  p->n_dates = T, p->n_stocks = n, p->n_industries = 31;
  p->dates = malloc(sizeof *p->dates * (size_t)T);
  int32_t d = zz_date_to_days(20100104);
  for (int t = 0; t < T; d++)
    if (zz_date_weekday(zz_days_to_date(d)) <= 5) p->dates[t++] = zz_days_to_date(d);
  size_t NT = (size_t)n * T;
  const panel_field fl[] = {PF_CLOSE, PF_ADJ, PF_VOLUME, PF_FLOAT_MV, PF_TOTAL_MV};
  for (int k = 0; k < 5; k++) p->f[fl[k]] = malloc(NT * sizeof(double));
  p->flags = calloc(NT, 1);
  p->industry = malloc(NT * sizeof(int16_t));
  p->industry_names = calloc(31, sizeof *p->industry_names);
  for (int g = 0; g < 31; g++) snprintf(p->industry_names[g], 64, "ind%02d", g);
  uint64_t s = seed;
  int *start = malloc(sizeof(int) * (size_t)n), *ind = malloc(sizeof(int) * (size_t)n);
  double *px = malloc(sizeof(double) * (size_t)n * 3), *sh = px + n, *beta = sh + n;
  for (int i = 0; i < n; i++) {
    start[i] = i < n / 2 ? 0 : (int)(unif(&s) * T * 0.8);
    ind[i] = (int)(unif(&s) * 31);
    px[i] = 5 + 20 * unif(&s);
    sh[i] = exp(19 + 1.2 * gauss(&s));
    beta[i] = 0.6 + 0.8 * unif(&s);
  }
  double indr[31];
  for (int t = 0; t < T; t++) {
    double mr = 0.012 * gauss(&s);
    for (int g = 0; g < 31; g++) indr[g] = 0.006 * gauss(&s);
    for (int i = 0; i < n; i++) {
      size_t a = (size_t)t * n + i;
      p->industry[a] = (int16_t)ind[i];
      if (t < start[i]) {
        for (int k = 0; k < 5; k++) p->f[fl[k]][a] = NAN;
        continue;
      }
      int susp = unif(&s) < 0.01;
      p->flags[a] = PANEL_LISTED | PANEL_HAS_BAR | (susp ? PANEL_SUSPENDED : 0);
      if (!susp && t > start[i]) px[i] *= exp(beta[i] * mr + indr[ind[i]] + 0.02 * gauss(&s));
      p->f[PF_CLOSE][a] = px[i];
      p->f[PF_ADJ][a] = 1;
      p->f[PF_FLOAT_MV][a] = px[i] * sh[i];
      p->f[PF_TOTAL_MV][a] = 1.5 * px[i] * sh[i];
      p->f[PF_VOLUME][a] = susp ? 0 : sh[i] * 0.01 * exp(gauss(&s));
    }
  }
  free(start);
  free(ind);
  free(px);
  return p;
}

static void free_random_panel(panel *p) {
  free(p->dates);
  for (int k = 0; k < PF_N_FIELDS; k++) free(p->f[k]);
  free(p->flags);
  free(p->industry);
  free(p->industry_names);
  free(p);
}

int main(int argc, char **argv) {
  int n = 6000, years = 14;
  uint64_t seed = 1;
  const char *market = NULL;
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--stocks") && k + 1 < argc) n = atoi(argv[++k]);
    else if (!strcmp(argv[k], "--years") && k + 1 < argc) years = atoi(argv[++k]);
    else if (!strcmp(argv[k], "--seed") && k + 1 < argc) seed = strtoull(argv[++k], NULL, 10);
    else if (!strcmp(argv[k], "--market") && k + 1 < argc) market = argv[++k];
    else {
      fprintf(stderr, "usage: bench_risk [--stocks N] [--years Y] [--seed S] | --market DIR\n");
      return 2;
    }
  }
  zz_err err = {0};
  panel *p = NULL;
  double t0 = now();
  if (market) {
    panel_load_opts o = {.cache_path = NULL, .use_cache = 1, .verbose = 0};
    if (panel_load(market, &o, &p, &err)) {
      fprintf(stderr, "bench_risk: %s\n", err.msg);
      return 1;
    }
  } else {
    if (n < 100 || years < 1) {
      fprintf(stderr, "bench_risk: need --stocks >= 100 and --years >= 1\n");
      return 2;
    }
    p = random_panel(n, years, seed);
  }
  double t1 = now();
  int *ot = malloc(sizeof(int) * (size_t)p->n_dates);
  int n_out = risk_week_ends(p, ot);
  risk_config cfg;
  risk_default_config(&cfg);
  risk_model *m = NULL;
  int rc = risk_model_build(p, &cfg, ot, n_out, &m, &err);
  double t2 = now();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  if (rc) fprintf(stderr, "bench_risk: %s\n", err.msg);
  else
    printf("risk model: %d stocks x %d dates, %d weekly outputs, %d factors: %.2f s (panel %s %.2f s), "
           "peak RSS %.0f MiB, mean R^2 %.3f\n",
           p->n_stocks, p->n_dates, n_out, risk_model_n_factors(m), t2 - t1, market ? "load" : "generation", t1 - t0,
           (double)ru.ru_maxrss / 1024.0, risk_model_stats(m)->mean_r2);
  risk_model_free(m);
  free(ot);
  if (market) panel_free(p);
  else free_random_panel(p);
  return rc ? 1 : 0;
}
