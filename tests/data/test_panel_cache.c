/* The binary cache: a second load reads it (panel->from_cache) and gives the same panel as parsing;
 * a touched or changed CSV, a flipped byte, a truncated file or a foreign file are detected and the
 * cache rebuilt; a failed ingest leaves no cache and no temporary file behind. */
#include "data/panel_testlib.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[64], market[128], cache[160];

static panel *load(int use_cache, zz_err *err) {
  panel_load_opts o = {.cache_path = cache, .use_cache = use_cache, .verbose = 0};
  panel *p = NULL;
  if (panel_load(market, &o, &p, err)) return NULL;
  return p;
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int count_tmp_files(void) {
  DIR *d = opendir(root);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strstr(e->d_name, ".tmp")) n++;
  if (d) closedir(d);
  return n;
}

/* Loads through the cache and checks where the panel came from and that it equals the reference. */
static void expect_load(const panel *ref, int want_from_cache, const char *what) {
  zz_err err = {0};
  panel *p = load(1, &err);
  if (!p) {
    fprintf(stderr, "%s: %s\n", what, err.msg);
    zz_failures++;
    return;
  }
  if (p->from_cache != want_from_cache) {
    fprintf(stderr, "%s: from_cache = %d, expected %d\n", what, p->from_cache, want_from_cache);
    zz_failures++;
  }
  if (tl_compare(ref, p)) {
    fprintf(stderr, "%s: panel differs from the parsed reference\n", what);
    zz_failures++;
  }
  panel_free(p);
}

static void patch_byte(const char *path, long off) {
  int fd = open(path, O_RDWR);
  unsigned char c;
  if (fd < 0 || pread(fd, &c, 1, off) != 1) {
    zz_failures++;
    if (fd >= 0) close(fd);
    return;
  }
  c ^= 0x10;
  if (pwrite(fd, &c, 1, off) != 1) zz_failures++;
  close(fd);
}

int main(void) {
  snprintf(root, sizeof root, "/tmp/zz_test_cache_XXXXXX");
  if (!mkdtemp(root)) return 1;
  snprintf(market, sizeof market, "%s/m", root);
  snprintf(cache, sizeof cache, "%s/panel.cache", root);
  tl_write_market(market, 0, 7);
  zz_err err = {0};
  panel *ref = load(0, &err);
  if (!ref) {
    fprintf(stderr, "reference: %s\n", err.msg);
    return 1;
  }
  CHECK(file_size(cache) == -1); /* use_cache = 0 writes nothing */
  expect_load(ref, 0, "first load");
  CHECK(file_size(cache) > 0);
  expect_load(ref, 1, "second load");
  /* touching a CSV (new modification time, same bytes) makes the cache stale */
  char bars[200];
  snprintf(bars, sizeof bars, "%s/bars.csv", market);
  struct timespec ts[2] = {{.tv_sec = 1600000000, .tv_nsec = 0}, {.tv_sec = 1600000000, .tv_nsec = 0}};
  CHECK(utimensat(AT_FDCWD, bars, ts, 0) == 0);
  expect_load(ref, 0, "after touching bars.csv");
  expect_load(ref, 1, "after the rebuild");
  /* a flipped byte anywhere in the payload: checksum; near the start: header/stamp */
  long n = file_size(cache);
  patch_byte(cache, n / 2);
  expect_load(ref, 0, "flipped byte in the middle");
  expect_load(ref, 1, "after the rebuild");
  patch_byte(cache, n - 1);
  expect_load(ref, 0, "flipped last byte");
  patch_byte(cache, 3);
  expect_load(ref, 0, "flipped magic byte");
  /* truncated */
  CHECK(truncate(cache, n - 100) == 0);
  expect_load(ref, 0, "truncated cache");
  CHECK(truncate(cache, 20) == 0);
  expect_load(ref, 0, "cache cut inside the header");
  CHECK(file_size(cache) == n);
  /* a foreign file at the cache path */
  write_file(cache, "date,code\n");
  expect_load(ref, 0, "foreign file");
  expect_load(ref, 1, "after the rebuild");
  /* a changed CSV gives a different panel, never the old one from the cache */
  char idx[200];
  snprintf(idx, sizeof idx, "%s/index_bars.csv", market);
  FILE *f = fopen(idx, "a");
  if (f) {
    fputs("2020-09-04,000852,6000\n", f); /* adds CSI1000 */
    fclose(f);
  }
  panel *p = load(1, &err);
  CHECK(p && !p->from_cache && p->index[PANEL_CSI1000].present);
  panel_free(p);
  p = load(1, &err);
  CHECK(p && p->from_cache && p->index[PANEL_CSI1000].present);
  panel_free(p);
  /* an invalid market: error, and neither the old cache nor a temporary file survives */
  f = fopen(bars, "a");
  if (f) {
    fputs("2020-07-01,600000.SH,1,1,1,-1,1,1,\n", f);
    fclose(f);
  }
  p = load(1, &err);
  CHECK(p == NULL && err.code == ZZ_EDATA);
  CHECK_CONTAINS(err.msg, "bars.csv:");
  CHECK(file_size(cache) == -1);
  CHECK(count_tmp_files() == 0);
  panel_free(ref);
  const char *files[] = {"bars.csv", "index_bars.csv", "index_weights.csv", "industry.csv", "fundamentals.csv"};
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
    char q[300];
    snprintf(q, sizeof q, "%s/%s", market, files[k]);
    unlink(q);
  }
  rmdir(market);
  unlink(cache);
  rmdir(root);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  return zz_failures ? 1 : 0;
}
