/* opt_check.h — the check macro of the portfolio/ tests: a failed check prints file:line and its
 * message and counts in `failures` (the test's exit status). One copy per test program. */
#ifndef ZZ_OPT_CHECK_H
#define ZZ_OPT_CHECK_H

#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
      failures++;                                          \
    }                                                      \
  } while (0)

#endif
