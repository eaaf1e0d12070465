/* risk_driver.c — runs risk/ functions on CSV inputs written by the Python reference scripts in this
 * folder and writes their outputs as CSV, so that the references stay independent of the C code.
 *
 *   risk_driver neutralise IN.csv N_INDUSTRIES OUT.csv
 *       IN: y,valid,industry,log_cap (empty y / log_cap = NaN); OUT: resid (one row per input row)
 */
#include "data.h"
#include "risk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_column(const char *path, const char *name, const double *v, int n, zz_err *err) {
  FILE *f = fopen(path, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot open for writing", path);
  fprintf(f, "%s\n", name);
  char buf[40];
  for (int i = 0; i < n; i++) fprintf(f, "%s\n", isfinite(v[i]) ? zz_fmt_double(buf, sizeof buf, v[i]) : "nan");
  return fclose(f) ? zz_fail(err, ZZ_EIO, "%s: write failed", path) : ZZ_OK;
}

static int run_neutralise(const char *in, int n_ind, const char *out, zz_err *err) {
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, in, err);
  if (rc) return rc;
  static const char *const c_y[] = {"y", NULL}, *const c_v[] = {"valid", NULL}, *const c_i[] = {"industry", NULL},
                           *const c_x[] = {"log_cap", NULL};
  int cy = zz_csv_require(r, c_y, err), cv = cy < 0 ? -1 : zz_csv_require(r, c_v, err);
  int ci = cv < 0 ? -1 : zz_csv_require(r, c_i, err), cx = ci < 0 ? -1 : zz_csv_require(r, c_x, err);
  if (cx < 0) {
    zz_csv_close(r);
    return err->code;
  }
  int cap = 0, n = 0;
  double *y = NULL, *x = NULL;
  uint8_t *valid = NULL;
  int16_t *ind = NULL;
  while ((rc = zz_csv_next(r, err)) == 1) {
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      y = realloc(y, (size_t)cap * sizeof *y);
      x = realloc(x, (size_t)cap * sizeof *x);
      valid = realloc(valid, (size_t)cap);
      ind = realloc(ind, (size_t)cap * sizeof *ind);
      if (!y || !x || !valid || !ind) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
    }
    double v, g;
    if ((rc = zz_csv_double(r, cy, 1, &y[n], err)) || (rc = zz_csv_double(r, cx, 1, &x[n], err)) ||
        (rc = zz_csv_double(r, cv, 0, &v, err)) || (rc = zz_csv_double(r, ci, 0, &g, err)))
      break;
    valid[n] = v != 0;
    ind[n] = (int16_t)g;
    n++;
  }
  zz_csv_close(r);
  double *res = rc < 0 || rc > 1 ? NULL : malloc((size_t)(n ? n : 1) * sizeof *res);
  if (rc == 0 && res) {
    rc = risk_neutralise(n, y, valid, ind, n_ind, x, res, err);
    if (!rc) rc = write_column(out, "resid", res, n, err);
  } else if (rc == 0) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  free(res);
  free(y);
  free(x);
  free(valid);
  free(ind);
  return rc < 0 ? -rc : rc;
}

int main(int argc, char **argv) {
  zz_err err = {0};
  int rc;
  if (argc == 5 && !strcmp(argv[1], "neutralise")) {
    rc = run_neutralise(argv[2], atoi(argv[3]), argv[4], &err);
  } else {
    fprintf(stderr, "usage: risk_driver neutralise IN N_INDUSTRIES OUT\n");
    return 2;
  }
  if (rc) fprintf(stderr, "risk_driver: %s\n", err.msg);
  return rc;
}
