/* zz_check.h — tiny assertion helpers for the data tests (private to tests/data). */
#ifndef ZZ_CHECK_H
#define ZZ_CHECK_H
#include <stdio.h>
#include <string.h>

static int zz_failures __attribute__((unused));
#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      zz_failures++;                                                          \
    }                                                                         \
  } while (0)
/* CHECK with a printf-style message of what was found. */
#define CHECK_MSG(cond, ...)                                   \
  do {                                                         \
    if (!(cond)) {                                             \
      fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);    \
      fprintf(stderr, __VA_ARGS__);                            \
      fprintf(stderr, "\n");                                   \
      zz_failures++;                                           \
    }                                                          \
  } while (0)
#define CHECK_STR(a, b)                                                                          \
  do {                                                                                           \
    const char *a_ = (a), *b_ = (b);                                                             \
    if (strcmp(a_, b_)) {                                                                        \
      fprintf(stderr, "%s:%d: '%s' != '%s' (%s vs %s)\n", __FILE__, __LINE__, a_, b_, #a, #b); \
      zz_failures++;                                                                             \
    }                                                                                            \
  } while (0)
#define CHECK_CONTAINS(hay, needle)                                                               \
  do {                                                                                            \
    const char *h_ = (hay), *n_ = (needle);                                                       \
    if (!strstr(h_, n_)) {                                                                        \
      fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, h_, n_);        \
      zz_failures++;                                                                              \
    }                                                                                             \
  } while (0)

static inline void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    zz_failures++;
    return;
  }
  fputs(text, f);
  fclose(f);
}
#endif
