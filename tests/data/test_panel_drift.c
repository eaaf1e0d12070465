/* Benchmark weights between snapshots (panel_index_weights_drifted), by hand on a 3-stock index
 * with monthly snapshots: 600000.SH grows 1 % a day; 000001.SZ is flat, then falls 1 % a day and is
 * suspended without rows for days 25-32 (it keeps its last close, so its drifted weight); 000002.SZ
 * has a 10-for-10 bonus issue on day 20 (raw close halves, adj_factor doubles: its weight must not
 * halve). Snapshots on days 0, 19 (month end) and 38 (month end). The expected weights are computed
 * here from the closed-form prices, w_i(t) = w_i(s) P_i(t) / P_i(s) / sum_j (...), to 1e-12. */
#include "data/panel_testlib.h"

#include <unistd.h>

enum { DAYS = 45, NS = 3 };
static const int SNAP[3] = {0, 19, 38};
static const double W[3][NS] = {{0.5, 0.3, 0.2}, {0.4, 0.35, 0.25}, {0.6, 0.1, 0.3}};

/* Adjusted price (back-adjusted: raw close x adj) of stock k on day d, as the test defines it. */
static double adj_price(int k, int d) {
  if (k == 0) return 10.0 * pow(1.01, d);
  if (k == 1) {
    const int e = d >= 25 && d <= 32 ? 24 : d; /* suspended: the last close */
    return e < 10 ? 20.0 : 20.0 * pow(0.99, e - 9);
  }
  return 5.0 + 0.1 * d; /* 000002.SZ: raw close (5 + 0.1 d) / 2 from day 20, adj 2 */
}

int main(void) {
  char dir[64], path[128];
  snprintf(dir, sizeof dir, "/tmp/zz_test_drift_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  int32_t dates[DAYS];
  int32_t z = zz_date_to_days(20210104);
  for (int n = 0; n < DAYS; z++) {
    if (((z % 7) + 7 + 3) % 7 >= 5) continue; /* 1970-01-01 was a Thursday: weekdays only */
    dates[n++] = zz_days_to_date(z);
  }
  static const char *codes[NS] = {"600000.SH", "000001.SZ", "000002.SZ"};
  snprintf(path, sizeof path, "%s/bars.csv", dir);
  FILE *f = fopen(path, "w");
  fprintf(f, "date,code,open,high,low,close,volume,amount,adj_factor\n");
  for (int d = 0; d < DAYS; d++)
    for (int k = 0; k < NS; k++) {
      if (k == 1 && d >= 25 && d <= 32) continue; /* no row: suspended */
      const double adj = k == 2 && d >= 20 ? 2.0 : 1.0, c = adj_price(k, d) / adj;
      fprintf(f, "%d,%s,%.17g,%.17g,%.17g,%.17g,1000,%.17g,%g\n", (int)dates[d], codes[k], c, c, c, c, 1000 * c, adj);
    }
  fclose(f);
  snprintf(path, sizeof path, "%s/index_weights.csv", dir);
  f = fopen(path, "w");
  fprintf(f, "date,index,code,weight\n");
  for (int s = 0; s < 3; s++)
    for (int k = 0; k < NS; k++) fprintf(f, "%d,000300,%s,%g\n", (int)dates[SNAP[s]], codes[k], 100 * W[s][k]);
  fclose(f);
  snprintf(path, sizeof path, "%s/index_bars.csv", dir);
  f = fopen(path, "w");
  fprintf(f, "date,index,close\n");
  for (int d = 0; d < DAYS; d++) fprintf(f, "%d,000300,%d\n", (int)dates[d], 4000 + d);
  fclose(f);

  panel_load_opts o = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  panel *p = NULL;
  zz_err err = {0};
  if (panel_load(dir, &o, &p, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  CHECK(p->n_dates == DAYS && p->n_stocks == NS);
  int idx[NS];
  for (int k = 0; k < NS; k++) idx[k] = panel_find_stock(p, codes[k]);
  double w[NS], worst = 0;
  uint8_t mem[NS];
  for (int d = 0; d < DAYS; d++) {
    const int s = d >= SNAP[2] ? 2 : d >= SNAP[1] ? 1 : 0, t0 = SNAP[s];
    double want[NS], sum = 0;
    for (int k = 0; k < NS; k++) sum += want[k] = W[s][k] * adj_price(k, d) / adj_price(k, t0);
    CHECK(panel_index_weights_drifted(p, PANEL_CSI300, d, w, mem) == NS);
    for (int k = 0; k < NS; k++) {
      want[k] /= sum;
      const double e = fabs(w[idx[k]] - want[k]);
      if (e > worst) worst = e;
      CHECK(mem[idx[k]] == 1);
    }
  }
  CHECK(worst < 1e-12);
  printf("drifted weights vs hand computation over %d days: worst error %.3g\n", DAYS, worst);
  /* on a snapshot date the snapshot itself; the raw accessor is unchanged */
  panel_index_weights_drifted(p, PANEL_CSI300, SNAP[1], w, NULL);
  CHECK(fabs(w[idx[0]] - 0.4) < 1e-15 && fabs(w[idx[1]] - 0.35) < 1e-15);
  panel_index_weights(p, PANEL_CSI300, SNAP[1] + 5, w, NULL);
  CHECK(w[idx[0]] == 0.4 && w[idx[2]] == 0.25);
  /* the suspended member keeps a weight while suspended, frozen relative to its last close */
  panel_index_weights_drifted(p, PANEL_CSI300, 30, w, NULL);
  CHECK(w[idx[1]] > 0.2 && (p->flags[panel_at(p, 30, idx[1])] & PANEL_SUSPENDED));
  panel_free(p);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return zz_failures ? 1 : 0;
}
