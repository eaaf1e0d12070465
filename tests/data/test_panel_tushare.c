/* A market written in tushare style (ts_code, trade_date YYYYMMDD, vol in lots, amount in thousand
 * CNY, weights in percent, SH600000 codes, descending dates) and the same market in the native
 * columns must give the same panel, array by array and bit for bit. */
#include "data/panel_testlib.h"

#include <unistd.h>

int main(void) {
  char root[] = "/tmp/zz_test_tushare_XXXXXX", nat[300], tus[300];
  if (!mkdtemp(root)) return 1;
  snprintf(nat, sizeof nat, "%s/native", root);
  snprintf(tus, sizeof tus, "%s/tushare", root);
  tl_write_market(nat, 0, 42);
  tl_write_market(tus, 1, 42);
  panel_load_opts o = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  panel *a = NULL, *b = NULL;
  zz_err err = {0};
  if (panel_load(nat, &o, &a, &err)) fprintf(stderr, "native: %s\n", err.msg), zz_failures++;
  if (panel_load(tus, &o, &b, &err)) fprintf(stderr, "tushare: %s\n", err.msg), zz_failures++;
  if (a && b) {
    CHECK(a->n_dates == TL_DAYS && a->n_stocks == TL_STOCKS);
    CHECK(tl_compare(a, b) == 0);
    /* the units really were converted: volume in shares, weights as fractions */
    int i = panel_find_stock(a, "600000.SH");
    CHECK(i >= 0);
    double w[TL_STOCKS];
    CHECK(panel_index_weights(b, PANEL_CSI300, 0, w, NULL) == 6);
    double sum = 0;
    for (int k = 0; k < TL_STOCKS; k++) sum += w[k];
    CHECK(fabs(sum - 1) < 1e-12);
    CHECK(!a->from_cache && !b->from_cache);
  }
  panel_free(a);
  panel_free(b);
  const char *files[] = {"bars.csv", "index_bars.csv", "index_weights.csv", "industry.csv", "fundamentals.csv"};
  for (int d = 0; d < 2; d++) {
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
      char p[400];
      snprintf(p, sizeof p, "%s/%s", d ? tus : nat, files[k]);
      unlink(p);
    }
    rmdir(d ? tus : nat);
  }
  rmdir(root);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  return zz_failures ? 1 : 0;
}
