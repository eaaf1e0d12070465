/* fuzz_market.c — the market directory readers (data/panel_ingest.c: bars, index_bars, index_weights,
 * stocks, industry, fundamentals, features/<name>.csv) through panel_load without the cache, from a pack of
 * a whole directory (seeds: the base market of tests/data/make_malformed.py and every malformed case). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char dir[600];
  fz_subdir("market", dir, sizeof dir);
  if (fz_unpack(dir, data, size) < 0) return 0;
  panel_load_opts o = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  panel *p = NULL;
  zz_err err = {0};
  int rc = panel_load(dir, &o, &p, &err);
  fz_check(rc, &err, p == NULL, dir);
  fz_use_panel(p);
  return 0;
}
