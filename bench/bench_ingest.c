/* bench_ingest — CSV ingest throughput, cached reload time and peak memory of panel_load.
 *
 * usage: bench_ingest [--market DIR] [--stocks N] [--start YYYYMMDD] [--end YYYYMMDD] [--seed S]
 *                     [--skip-nocache] [--keep]
 * Without --market, a synthetic market (default: 6,000 stocks, 2010-2023, the largest size) is
 * written by synth_write in a child process (so that its memory does not count) into a temporary
 * directory, removed afterwards unless --keep. Then:
 *   1. panel_load without cache: MB of CSV per second (pure parse + validation + derivations);
 *   2. panel_load with a fresh cache: parse + cache write;
 *   3. panel_load again: the cached reload, and its speed-up over step 1;
 * and the peak resident memory of this process (getrusage ru_maxrss).
 * Goals (issue 2): >= 50 MB/s, cached reload >= 10x faster than parsing, peak memory < 4 GiB. */
#include "data.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double csv_bytes(const char *dir) {
  static const char *const files[] = {"bars.csv", "index_bars.csv", "index_weights.csv", "stocks.csv",
                                      "industry.csv", "fundamentals.csv"};
  double total = 0;
  char path[2048];
  struct stat st;
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[k]);
    if (stat(path, &st) == 0) total += (double)st.st_size;
  }
  snprintf(path, sizeof path, "%s/features", dir);
  DIR *d = opendir(path);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char q[4096];
    snprintf(q, sizeof q, "%s/%s", path, e->d_name);
    if (e->d_name[0] != '.' && stat(q, &st) == 0) total += (double)st.st_size;
  }
  if (d) closedir(d);
  return total;
}

static int timed_load(const char *dir, const char *cache, int use_cache, double *secs, int *from_cache) {
  panel_load_opts o = {.cache_path = cache, .use_cache = use_cache, .verbose = 0};
  panel *p = NULL;
  zz_err err = {0};
  double t0 = now();
  int rc = panel_load(dir, &o, &p, &err);
  *secs = now() - t0;
  if (rc) {
    fprintf(stderr, "bench_ingest: %s\n", err.msg);
    return rc;
  }
  *from_cache = p->from_cache;
  panel_free(p);
  return 0;
}

int main(int argc, char **argv) {
  const char *market = NULL;
  synth_opts so;
  synth_default_opts(&so);
  so.oracle_paths = 1; /* the oracle's futures do not change the files: one path keeps generation short */
  so.n_stocks = 6000;
  so.start = 20100101;
  so.end = 20231231;
  int skip_nocache = 0, keep = 0;
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--market") && k + 1 < argc) market = argv[++k];
    else if (!strcmp(argv[k], "--stocks") && k + 1 < argc) so.n_stocks = atoi(argv[++k]);
    else if (!strcmp(argv[k], "--start") && k + 1 < argc) so.start = atoi(argv[++k]);
    else if (!strcmp(argv[k], "--end") && k + 1 < argc) so.end = atoi(argv[++k]);
    else if (!strcmp(argv[k], "--seed") && k + 1 < argc) so.seed = strtoull(argv[++k], NULL, 10);
    else if (!strcmp(argv[k], "--skip-nocache")) skip_nocache = 1;
    else if (!strcmp(argv[k], "--keep")) keep = 1;
    else {
      fprintf(stderr, "usage: bench_ingest [--market DIR] [--stocks N] [--start YYYYMMDD] [--end YYYYMMDD] "
                      "[--seed S] [--skip-nocache] [--keep]\n");
      return 2;
    }
  }
  char tmp[] = "/tmp/zz_bench_ingest_XXXXXX", cache[256];
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 4;
  }
  snprintf(cache, sizeof cache, "%s/panel.cache", tmp);
  char mdir[256];
  if (!market) {
    snprintf(mdir, sizeof mdir, "%s/market", tmp);
    fprintf(stderr, "bench_ingest: writing a synthetic market of %d stocks, %d..%d to %s\n", so.n_stocks, so.start,
            so.end, mdir);
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
      zz_err err = {0};
      synth_report rep;
      int rc = synth_write(mdir, &so, &rep, &err);
      if (rc) fprintf(stderr, "bench_ingest: synth_write: %s\n", err.msg);
      _exit(zz_exit_code(rc));
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "bench_ingest: could not write the synthetic market\n");
      return 1;
    }
    fprintf(stderr, "bench_ingest: synth_write took %.1f s\n", now() - t0);
    market = mdir;
  }
  double mb = csv_bytes(market) / 1e6, t_parse = 0, t_write = 0, t_cached = 0;
  int fc = 0;
  printf("market:          %s (%.1f MB of CSV)\n", market, mb);
  if (!skip_nocache) {
    if (timed_load(market, cache, 0, &t_parse, &fc)) return 1;
    printf("parse (no cache): %.2f s = %.1f MB/s\n", t_parse, mb / t_parse);
  }
  if (timed_load(market, cache, 1, &t_write, &fc)) return 1;
  struct stat st;
  double cmb = stat(cache, &st) == 0 ? (double)st.st_size / 1e6 : 0;
  printf("parse + cache write: %.2f s = %.1f MB/s (cache %.1f MB%s)\n", t_write, mb / t_write, cmb,
         fc ? ", unexpectedly read from cache" : "");
  if (timed_load(market, cache, 1, &t_cached, &fc)) return 1;
  double base = skip_nocache ? t_write : t_parse;
  printf("cached reload:   %.3f s (%s), %.1fx faster than parsing\n", t_cached, fc ? "from cache" : "NOT from cache",
         base / t_cached);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("peak memory:     %.1f MiB (ru_maxrss)\n", (double)ru.ru_maxrss / 1024.0);
  unlink(cache);
  if (!keep && market == mdir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "bench_ingest: could not remove %s\n", tmp);
  } else {
    rmdir(tmp);
  }
  return 0;
}
