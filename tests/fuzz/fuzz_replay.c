/* fuzz_replay.c — a main() for the fuzz targets where libFuzzer is not linked (gcc Release and Asan builds):
 * feeds every file named on the command line, or found in a directory named there, to
 * LLVMFuzzerTestOneInput once. ctest runs each target over its seeds and its regression corpus
 * (tests/fuzz/regress/<target>/: every input a fuzz run ever crashed on), so a fixed crash stays fixed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int replay_file(const char *path) {
  size_t n;
  uint8_t *buf = fz_read_file(path, &n);
  if (!buf) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  int done = 0, bad = 0;
  for (int a = 1; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) continue; /* an empty regression corpus is not in git */
    if (!S_ISDIR(st.st_mode)) {
      bad += replay_file(argv[a]) != 0;
      done++;
      continue;
    }
    DIR *d = opendir(argv[a]);
    if (!d) continue;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
      if (e->d_name[0] == '.' || !strcmp(e->d_name, "README")) continue;
      char **nn = realloc(names, (n + 1) * sizeof *names);
      if (!nn) break;
      names = nn;
      names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
      char path[2048];
      snprintf(path, sizeof path, "%s/%s", argv[a], names[i]);
      bad += replay_file(path) != 0;
      done++;
      free(names[i]);
    }
    free(names);
  }
  printf("replayed %d inputs\n", done);
  if (done == 0) {
    fprintf(stderr, "replay: no inputs found (the seeds are missing?)\n");
    return 1;
  }
  return bad ? 1 : 0;
}
