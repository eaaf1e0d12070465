/* fuzz_import.c — the importers (data/import_tushare.c, data/import_qlib.c) from a pack of a whole source
 * directory: tushare CSV exports (daily.csv, index_daily.csv, ...) or qlib's binary layout
 * (calendars/day.txt, instruments/NAME.txt, features/<code>/<field>.day.bin). The first pack file's name
 * decides: a pack starting with calendars/ is qlib's. For qlib, top-level weights.csv, index_bars.csv and
 * industry.csv in the pack are passed as the importer's optional CSVs. On error nothing may be left in the
 * output directory. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int exists(const char *dir, const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", dir, name);
  struct stat st;
  return stat(buf, &st) == 0;
}

/* An output directory left after a failed import must be absent or empty. */
static void check_nothing_left(const char *out) {
  DIR *d = opendir(out);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, ".."))) continue;
    fprintf(stderr, "fuzz: a failed import left %s/%s\n", out, e->d_name);
    abort();
  }
  closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char src[600], out[700], scratch[600];
  fz_subdir("import-src", src, sizeof src);
  fz_subdir("import-out", scratch, sizeof scratch);
  snprintf(out, sizeof out, "%s/market", scratch);
  if (fz_unpack(src, data, size) < 0) return 0;
  int qlib = size > 13 && !memcmp(data, "@@ calendars/", 13);
  zz_err err = {0};
  panel *p = NULL;
  int rc;
  if (qlib) {
    qlib_import_opts o;
    qlib_import_init(&o);
    o.src = src;
    o.out = out;
    o.verbose = 0;
    char w[800], ib[800], ind[800];
    if (exists(src, "weights.csv", w, sizeof w)) o.weights_csv = w;
    if (exists(src, "index_bars.csv", ib, sizeof ib)) o.index_bars_csv = ib;
    if (exists(src, "industry.csv", ind, sizeof ind)) o.industry_csv = ind;
    rc = qlib_import(&o, &p, &err);
  } else {
    tushare_import_opts o;
    tushare_import_init(&o);
    o.verbose = 0;
    rc = tushare_import(src, out, &o, &p, &err);
  }
  /* an error may name the source or the written market (its validation) */
  fz_check(rc, &err, p == NULL, rc == ZZ_EDATA && strstr(err.msg, scratch) ? scratch : src);
  if (rc) check_nothing_left(out);
  panel_free(p);
  return 0;
}
