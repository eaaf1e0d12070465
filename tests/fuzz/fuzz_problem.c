/* fuzz_problem.c — the optimisation problem directory reader (portfolio/opt_problem_io.c, SPEC 11.1: alpha,
 * benchmark, previous, exposures, industry, factor_cov, specific_var, tradable .csv) and the limits.ini
 * reader, from a pack of a whole problem directory. A problem that reads must also pass or fail
 * opt_problem_check cleanly. The solver is not run: its inputs are what is fuzzed. */
#include <stdio.h>

#include "fuzz_common.h"
#include "portfolio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char dir[600];
  fz_subdir("problem", dir, sizeof dir);
  if (fz_unpack(dir, data, size) < 0) return 0;
  opt_problem *p = NULL;
  zz_err err = {0};
  int rc = opt_problem_read(dir, &p, &err);
  fz_check(rc, &err, p == NULL, dir);
  if (p) {
    zz_err e2 = {0};
    fz_check(opt_problem_check(p, &e2), &e2, -1, dir);
    opt_problem_free(p);
  }
  char ini[700];
  snprintf(ini, sizeof ini, "%s/limits.ini", dir);
  FILE *f = fopen(ini, "rb");
  if (f) {
    fclose(f);
    opt_limits lim;
    opt_limits_default(&lim);
    zz_err e3 = {0};
    int lrc = opt_limits_read(ini, &lim, &e3);
    if (lrc) fz_check(lrc, &e3, -1, ini);
  }
  return 0;
}
