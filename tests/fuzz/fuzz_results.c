/* fuzz_results.c — the readers of zhizeng's own result files, which users also edit and move between
 * machines: a simulation's directory (sim/sim_output.c: nav.csv, rebalances.csv, summary.csv; `zhizeng report
 * --run DIR` and the stage cache), an explanation's directory (model/explain.c: relevance.csv, stocks.csv) and
 * the ridge baseline's model file (model/linear_baseline.c). The first byte picks the reader (0, 1, 2); the
 * directories come as packs. */
#include <stdio.h>

#include "fuzz_common.h"
#include "model.h"
#include "model/train_internal.h"
#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char dir[600], path[700];
  fz_subdir("results", dir, sizeof dir);
  zz_err err = {0};
  switch (data[0] % 3) {
  case 0: {
    if (fz_unpack(dir, data + 1, size - 1) < 0) return 0;
    sim_result *r = NULL;
    int rc = sim_result_read(dir, &r, &err);
    fz_check(rc, &err, r == NULL, dir);
    sim_result_free(r);
    break;
  }
  case 1: {
    if (fz_unpack(dir, data + 1, size - 1) < 0) return 0;
    explain_result *r = NULL;
    int rc = explain_read(dir, &r, &err);
    fz_check(rc, &err, r == NULL, dir);
    if (r) {
      double cell[64 * 64], feat[64], lag[64];
      if (r->T <= 64 && r->F <= 64) explain_shares(r, cell, feat, lag);
    }
    explain_free(r);
    break;
  }
  default: {
    if (fz_write(dir, "in.lin", data + 1, size - 1) != 0) return 0;
    snprintf(path, sizeof path, "%s/in.lin", dir);
    lin_model *m = NULL;
    int rc = lin_load(&m, path, &err);
    fz_check(rc, &err, m == NULL, path);
    lin_free(m);
  }
  }
  return 0;
}
