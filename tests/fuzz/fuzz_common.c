/* fuzz_common.c — work directory, packs and the invariants of the fuzz targets (fuzz_common.h). */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The work directory is process state by nature: libFuzzer calls the entry point many times in one
 * process and gives it nowhere else to keep it. This is test code, not the library. */
static char fz_dir[512];

static void fz_rmtree(const char *path, int keep_top) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char sub[1024];
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      struct stat st;
      if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
        fz_rmtree(sub, 0);
      else
        unlink(sub);
    }
    closedir(d);
  }
  if (!keep_top) rmdir(path);
}

static void fz_cleanup(void) {
  if (fz_dir[0]) fz_rmtree(fz_dir, 0);
}

const char *fz_workdir(void) {
  if (!fz_dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fz_dir, sizeof fz_dir, "%s/zz-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fz_dir)) {
      fprintf(stderr, "fuzz: cannot create a work directory %s: %s\n", fz_dir, strerror(errno));
      abort();
    }
    atexit(fz_cleanup);
  }
  return fz_dir;
}

const char *fz_subdir(const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", fz_workdir(), name);
  fz_rmtree(buf, 1);
  mkdir(buf, 0700);
  return buf;
}

static void fz_mkparents(char *path) {
  for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = 0;
    mkdir(path, 0700);
    *s = '/';
  }
}

int fz_write(const char *dir, const char *name, const uint8_t *data, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fz_mkparents(path);
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = size ? fwrite(data, 1, size, f) : 0;
  int bad = fclose(f) != 0 || w != size;
  return bad ? -1 : 0;
}

/* A usable file name: 1..100 characters of [A-Za-z0-9_.-/], relative, no "..", no empty component, at most
 * 3 levels deep. */
static int fz_name_ok(const char *s, size_t n) {
  if (n == 0 || n > 100 || s[0] == '/' || s[n - 1] == '/') return 0;
  int depth = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
             c == '-' || c == '/';
    if (!ok) return 0;
    if (c == '/') {
      if (++depth > 2 || s[i + 1] == '/') return 0;
    }
    if (c == '.' && i + 1 < n && s[i + 1] == '.') return 0;
  }
  return 1;
}

static const uint8_t *fz_find(const uint8_t *p, const uint8_t *end, const char *pat) {
  size_t m = strlen(pat);
  for (; p + m <= end; p++)
    if (!memcmp(p, pat, m)) return p;
  return NULL;
}

int fz_unpack(const char *dir, const uint8_t *data, size_t size) {
  fz_rmtree(dir, 1);
  mkdir(dir, 0700);
  const uint8_t *p = data, *end = data + size;
  if (size < 3 || memcmp(p, "@@ ", 3)) return -1;
  int n = 0;
  while (p < end) {
    p += 3; /* "@@ " */
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return -1;
    char name[128];
    size_t len = (size_t)(nl - p);
    if (!fz_name_ok((const char *)p, len)) return -1;
    memcpy(name, p, len);
    name[len] = 0;
    const uint8_t *body = nl + 1;
    /* from the name's own newline, so that an empty file ("@@ a\n@@ b...") ends at once */
    const uint8_t *next = fz_find(nl, end, "\n@@ ");
    const uint8_t *stop = next ? (next < body ? body : next) : end;
    if (++n > 64 || fz_write(dir, name, body, (size_t)(stop - body)) != 0) return -1;
    p = next ? next + 1 : end;
  }
  return n;
}

uint8_t *fz_read_file(const char *path, size_t *n) {
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct stat st;
  uint8_t *buf = NULL;
  if (fstat(fileno(f), &st) == 0 && st.st_size >= 0 && (buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
    *n = fread(buf, 1, (size_t)st.st_size, f);
    if (*n != (size_t)st.st_size) free(buf), buf = NULL, *n = 0;
  }
  fclose(f);
  return buf;
}

void fz_unpack_file(const char *dir, const char *seed_path) {
  size_t n;
  uint8_t *buf = fz_read_file(seed_path, &n);
  if (!buf) {
    fprintf(stderr, "fuzz: cannot read the seed %s: %s\n", seed_path, strerror(errno));
    abort();
  }
  int files = fz_unpack(dir, buf, n);
  free(buf);
  if (files < 1) {
    fprintf(stderr, "fuzz: %s is not a pack\n", seed_path);
    abort();
  }
}

void fz_use_panel(panel *p) {
  if (!p) return;
  for (int t = 1; t < p->n_dates; t++)
    for (int i = 0; i < p->n_stocks; i++) (void)panel_return(p, t, i);
  panel_free(p);
}

void fz_check(int rc, const zz_err *err, int out_is_null, const char *where) {
  if (rc == ZZ_OK) {
    if (out_is_null > 0) {
      fprintf(stderr, "fuzz: the reader of %s succeeded without an output\n", where);
      abort();
    }
    return;
  }
  const char *why = NULL;
  if (rc != err->code)
    why = "returned a status other than err->code";
  else if (rc < ZZ_EUSAGE || rc > ZZ_ENUMERIC)
    why = "returned an internal error (or an unknown status) for bad input";
  else if (!err->msg[0])
    why = "returned an error without a message";
  else if (out_is_null == 0)
    why = "left an output behind on error";
  else if (rc == ZZ_EDATA && !strstr(err->msg, where))
    why = "reported a data error without naming the file";
  if (why) {
    fprintf(stderr, "fuzz: the reader of %s %s (status %d): %s\n", where, why, rc, err->msg);
    abort();
  }
}
