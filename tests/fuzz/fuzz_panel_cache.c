/* fuzz_panel_cache.c — the binary panel cache reader (data/panel_cache.c). The input is the cache's payload;
 * the target writes the header a valid cache of the base market has (magic, version, the market files'
 * stamp, the payload length), so the fuzzer reaches the section decoder. The payload checksum is not
 * checked in fuzzing builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION), where it would stop every mutation;
 * in the replay builds it is, and a mutated cache is then rebuilt from the CSVs. Either way panel_load must
 * return a valid panel or an error. */
#include <stdio.h>
#include <string.h>

#include "data/panel_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char market[600];
  if (!market[0]) {
    fz_subdir("cache-market", market, sizeof market);
    fz_unpack_file(market, ZZ_FUZZ_SEEDS "/market/base");
  }
  cache_stamp s;
  zz_err err = {0};
  if (cache_stamp_make(market, &s, &err) != ZZ_OK) return 0;
  char path[700];
  snprintf(path, sizeof path, "%s/../panel.cache", market);
  FILE *f = fopen(path, "wb");
  if (!f) {
    cache_stamp_free(&s);
    return 0;
  }
  uint32_t ver[2] = {ZZ_PANEL_CACHE_VERSION, 0x01020304u};
  uint64_t slen = s.len, plen = size, sum = 0;
  fwrite("ZZPANEL", 1, 8, f);
  fwrite(ver, sizeof ver, 1, f);
  fwrite(&slen, 8, 1, f);
  fwrite(s.bytes, 1, s.len, f);
  fwrite(&plen, 8, 1, f);
  fwrite(&sum, 8, 1, f);
  if (size) fwrite(data, 1, size, f);
  fclose(f);
  cache_stamp_free(&s);
  panel_load_opts o = {.cache_path = path, .use_cache = 1, .verbose = 0};
  panel *p = NULL;
  int rc = panel_load(market, &o, &p, &err);
  fz_check(rc, &err, p == NULL, market);
  fz_use_panel(p);
  return 0;
}
