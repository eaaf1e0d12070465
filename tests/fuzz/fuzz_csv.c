/* fuzz_csv.c — the CSV reader (data/csv_reader.c over libcsv) and its typed field parsers: every row of an
 * arbitrary file is read and every field parsed as a number, a scaled number, a date and a flag. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char dir[600];
  fz_subdir("csv", dir, sizeof dir);
  if (fz_write(dir, "in.csv", data, size) != 0) return 0;
  char path[700];
  snprintf(path, sizeof path, "%s/in.csv", dir);
  zz_csv *r = NULL;
  zz_err err = {0};
  int rc = zz_csv_open(&r, path, &err);
  fz_check(rc, &err, r == NULL, path);
  if (rc) return 0;
  static const char *const names[] = {"date", "code", NULL};
  (void)zz_csv_find(r, names);
  int nc = zz_csv_ncols(r);
  for (int c = 0; c < nc; c++) (void)zz_csv_header(r, c);
  size_t rows = 0;
  while ((rc = zz_csv_next(r, &err)) == 1 && rows++ < 100000) {
    for (int c = 0; c < nc; c++) {
      const char *s = zz_csv_field(r, c);
      if (!s) abort(); /* every column of a row read is present */
      double v;
      int32_t ymd;
      int flag;
      zz_err e2 = {0};
      fz_check(zz_csv_double(r, c, 1, &v, &e2), &e2, -1, path);
      zz_err e3 = {0};
      fz_check(zz_csv_double_scaled(r, c, 0, 2, &v, &e3), &e3, -1, path);
      zz_err e4 = {0};
      fz_check(zz_csv_date(r, c, &ymd, &e4), &e4, -1, path);
      zz_err e5 = {0};
      fz_check(zz_csv_bool(r, c, 0, &flag, &e5), &e5, -1, path);
    }
    (void)zz_csv_line(r);
  }
  if (rc < 0) fz_check(-rc, &err, -1, path); /* zz_csv_next returns the status negated */
  zz_csv_close(r);
  return 0;
}
