/* test_synth_vendor_bars.c — the writing-only vendor conditions leave the market itself unchanged:
 * the same seed with --vendor-bars --index-kind price (adj_factor and vwap left to ingest, no rows on
 * suspended days, a price index) ingests to the same adjusted returns, vwaps and market values as the
 * default market wherever a bar exists; the other files are byte-identical (the total-return closes
 * move to truth/index_total_return.csv); and the price index follows its documented rule exactly:
 * close_t = close_t-1 (1 + sum_i w_i,t-1 (close_i,t R_i,t / close_i,t-1 - 1)), R the bonus ratio of an
 * ex-rights day (1 otherwise), recovered here from the bars alone. The period covers the June-July
 * ex-rights season. */
#include "data/synth_vendor_lib.h"

#include <sys/stat.h>

static int same_file(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int same = fa && fb;
  while (same) {
    const int x = fgetc(fa), y = fgetc(fb);
    if (x != y) same = 0;
    if (x == EOF) break;
  }
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

static int near(double a, double b, double tol) { return fabs(a - b) <= tol * fmax(1.0, fabs(b)); }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
    return 2;
  }
  char dd[4096], dv[4096];
  mkdir(argv[1], 0777);
  snprintf(dd, sizeof dd, "%s/default", argv[1]);
  snprintf(dv, sizeof dv, "%s/vendor_bars", argv[1]);
  synth_opts o;
  synth_default_opts(&o);
  o.n_stocks = 1900;
  o.start = 20170401;
  o.end = 20170831;
  o.seed = 11;
  o.oracle_paths = 1;
  zz_err err = {0, ""};
  if (synth_write(dd, &o, NULL, &err)) {
    fprintf(stderr, "synth_write (default): %s\n", err.msg);
    return 1;
  }
  o.vendor_bars = 1;
  o.index_kind = SYNTH_INDEX_PRICE;
  if (synth_write(dv, &o, NULL, &err)) {
    fprintf(stderr, "synth_write (vendor bars): %s\n", err.msg);
    return 1;
  }
  /* the same market: the files these options do not touch are the same bytes */
  static const char *const same[][2] = {{"stocks.csv", "stocks.csv"},
                                        {"industry.csv", "industry.csv"},
                                        {"fundamentals.csv", "fundamentals.csv"},
                                        {"index_weights.csv", "index_weights.csv"},
                                        {"truth/factor_returns.csv", "truth/factor_returns.csv"},
                                        {"index_bars.csv", "truth/index_total_return.csv"}};
  for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
    char a[8192], b[8192];
    snprintf(a, sizeof a, "%s/%s", dd, same[k][0]);
    snprintf(b, sizeof b, "%s/%s", dv, same[k][1]);
    if (!same_file(a, b)) fprintf(stderr, "%s and %s differ\n", a, b);
    CHECK(same_file(a, b));
  }

  panel_load_opts lo = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  panel *pd = NULL, *pv = NULL;
  if (panel_load(dd, &lo, &pd, &err) || panel_load(dv, &lo, &pv, &err)) {
    fprintf(stderr, "panel_load: %s\n", err.msg);
    return 1;
  }
  CHECK(pd->n_dates == pv->n_dates && pd->n_dates > 80);
  if (pd->n_dates != pv->n_dates) return 1;
  const int nd = pd->n_dates;

  /* stock by stock: where the vendor file has a bar, the derived fields equal the default market's */
  long compared = 0, bad_ret = 0, bad_vwap = 0, bad_mv = 0, bad_flags = 0, ex_days = 0, missing = 0;
  int unknown = 0; /* ex-rights days whose bonus ratio the bars do not give */
  for (int j = 0; j < pd->n_stocks; j++) {
    const int i = panel_find_stock(pv, pd->stocks[j].code);
    if (i < 0) { /* suspended over the whole period: no bar at all in the vendor file */
      missing++;
      continue;
    }
    for (int t = 0; t < nd; t++) {
      const size_t a = panel_at(pd, t, j), b = panel_at(pv, t, i);
      const uint8_t fd = pd->flags[a], fv = pv->flags[b];
      if (!(fv & PANEL_LISTED)) { /* only before the first vendor bar of a stock suspended on day 0 */
        bad_flags += (fd & PANEL_LISTED) && !(fd & PANEL_SUSPENDED);
        continue;
      }
      bad_flags += (fd & (PANEL_LISTED | PANEL_SUSPENDED | PANEL_ST | PANEL_LIMIT_UP | PANEL_LIMIT_DOWN)) !=
                   (fv & (PANEL_LISTED | PANEL_SUSPENDED | PANEL_ST | PANEL_LIMIT_UP | PANEL_LIMIT_DOWN));
      bad_flags += (fv & PANEL_SUSPENDED) ? (fv & PANEL_HAS_BAR) != 0 : !(fv & PANEL_HAS_BAR);
      if (fv & PANEL_SUSPENDED) continue;
      compared++;
      if (t > 0 && (pv->flags[panel_at(pv, t - 1, i)] & PANEL_LISTED)) {
        const double rd = panel_return(pd, t, j), rv = panel_return(pv, t, i);
        bad_ret += !near(rv, rd, 1e-9);
        ex_days += fabs(pd->f[PF_ADJ][a] / pd->f[PF_ADJ][panel_at(pd, t - 1, j)] - 1) > 1e-12;
      }
      bad_vwap += !near(pv->f[PF_VWAP][b], pd->f[PF_VWAP][a], 1e-12);
      bad_mv += pv->f[PF_FLOAT_MV][b] != pd->f[PF_FLOAT_MV][a] || pv->f[PF_CLOSE][b] != pd->f[PF_CLOSE][a];
    }
  }
  printf("%ld stock-days with a bar compared, %ld ex-rights days; %ld returns, %ld vwaps, %ld closes/float_mv, "
         "%ld flags differ; %ld stocks without any vendor bar\n",
         compared, ex_days, bad_ret, bad_vwap, bad_mv, bad_flags, missing);
  CHECK(compared > 100000 && ex_days > 300);
  CHECK(bad_ret == 0 && bad_vwap == 0 && bad_mv == 0 && bad_flags == 0);

  /* the price index rule, from the written weights (daily here) and the vendor bars */
  double *w = malloc((size_t)pv->n_stocks * sizeof *w);
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    const double *P = pv->index[k].close, *T = pd->index[k].close;
    double worst = 0, gap = 0;
    for (int t = 1; t < nd; t++) {
      panel_index_weights(pv, k, t - 1, w, NULL);
      double r = 0;
      for (int i = 0; i < pv->n_stocks; i++)
        if (w[i] > 0) r += w[i] * sv_price_return(pv, t, i, &unknown);
      worst = fmax(worst, fabs(P[t] / P[t - 1] - 1 - r));
      gap += log(T[t] / T[t - 1]) - log(P[t] / P[t - 1]);
    }
    printf("%s: price index rule max error %.2e; total minus price over the period %.4f (log)\n",
           zz_index_name(k), worst, gap);
    CHECK(worst < 1e-8);
    CHECK(gap > 0.003 && gap < 0.03);
  }
  CHECK(unknown == 0);
  free(w);
  panel_free(pd);
  panel_free(pv);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  else printf("synth --vendor-bars --index-kind price: all checks passed\n");
  return zz_failures ? 1 : 0;
}
