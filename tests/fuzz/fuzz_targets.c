/* fuzz_targets.c — the simulator's target-weights reader (sim/sim_targets.c: date,code,weight[,exec_date]) and
 * the score file reader (model/score_file.c: date,code,score[,...]) against the base market's panel (both
 * resolve dates and codes through a panel). The first byte picks the reader. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "model.h"
#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static panel *base;
  if (!base) {
    char market[600];
    fz_subdir("targets-market", market, sizeof market);
    fz_unpack_file(market, ZZ_FUZZ_SEEDS "/market/base");
    panel_load_opts o = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
    zz_err err = {0};
    if (panel_load(market, &o, &base, &err) != ZZ_OK) {
      fprintf(stderr, "fuzz: the base market does not load: %s\n", err.msg);
      abort();
    }
  }
  if (size < 1) return 0;
  char dir[600], path[700];
  fz_subdir("targets", dir, sizeof dir);
  if (fz_write(dir, "in.csv", data + 1, size - 1) != 0) return 0;
  snprintf(path, sizeof path, "%s/in.csv", dir);
  zz_err err = {0};
  if (data[0] & 1) {
    score_table *s = NULL;
    int rc = score_table_read(path, base, &s, &err);
    fz_check(rc, &err, s == NULL, path);
    score_table_free(s);
  } else {
    sim_targets *t = NULL;
    int rc = sim_targets_read(path, base, &t, &err);
    fz_check(rc, &err, t == NULL, path);
    sim_targets_free(t);
  }
  return 0;
}
