/* test_sim_targets.c — bad target files are refused with file:line (and a good one is read):
 * unknown codes, non-trading dates, negative / non-finite weights, duplicates, sums above 1. */
#include "sim.h"
#include "sim_test_panel.h"

#include <unistd.h>

static const int32_t D[] = {20230103, 20230104, 20230105, 20230106};
static char dir[64];

/* Writes `body` to a file, reads it as targets, expects failure with `where` and `what` in the message. */
static void expect_bad(const panel *p, const char *name, const char *body, const char *where, const char *what) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(body, f);
  fclose(f);
  sim_targets *t = NULL;
  zz_err err = {0};
  int rc = sim_targets_read(path, p, &t, &err);
  char expect[256];
  snprintf(expect, sizeof expect, "%s%s", name, where);
  if (rc != ZZ_EDATA || t || !strstr(err.msg, expect) || !strstr(err.msg, what)) {
    fprintf(stderr, "%s: rc %d, message '%s'; expected '%s' and '%s'\n", name, rc, err.msg, expect, what);
    tp_failures++;
  }
  sim_targets_free(t);
  remove(path);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/zz_sim_targets_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  panel *p = tp_create(4, D, 3); /* stocks 600000.SH, 600001.SH, 600002.SH */
  expect_bad(p, "unknown.csv", "date,code,weight\n2023-01-03,600000.SH,0.5\n2023-01-03,600009.SH,0.1\n", ":3:2:",
             "unknown stock code '600009.SH'");
  expect_bad(p, "holiday.csv", "date,code,weight\n2023-01-07,600000.SH,0.5\n", ":2:1:", "not a trading day");
  expect_bad(p, "negative.csv", "date,code,weight\n2023-01-03,600000.SH,0.5\n2023-01-04,600001.SH,-0.1\n", ":3:3:",
             "expected a weight >= 0");
  expect_bad(p, "nan.csv", "date,code,weight\n2023-01-03,600000.SH,nan\n", ":2:3:", "expected a number");
  expect_bad(p, "inf.csv", "date,code,weight\n2023-01-03,600000.SH,inf\n", ":2:3:", "expected a finite number");
  expect_bad(p, "sum.csv", "date,code,weight\n2023-01-03,600000.SH,0.6\n2023-01-04,600000.SH,0.6\n2023-01-03,SH600001,0.5\n",
             ":4:", "sum to more than 1");
  expect_bad(p, "dup.csv", "date,code,weight\n20230103,600000.SH,0.2\n2023-01-03,sh.600000,0.3\n", ":3:", "duplicate");
  expect_bad(p, "header.csv", "day,code,weight\n2023-01-03,600000.SH,0.2\n", ":1:", "missing required column");
  expect_bad(p, "exec.csv", "date,code,weight,exec_date\n2023-01-04,600000.SH,0.2,2023-01-03\n", ":2:4:", "exec_date");

  /* a good file: two dates, one of them an empty batch (CASH), weights summing to exactly 1 */
  char path[128];
  snprintf(path, sizeof path, "%s/good.csv", dir);
  FILE *f = fopen(path, "w");
  fputs("date,code,weight\n2023-01-03,600000.SH,0.25\n2023-01-03,600001.SH,0.75\n2023-01-05,CASH,\n", f);
  fclose(f);
  sim_targets *t = NULL;
  zz_err err = {0};
  CHECK(sim_targets_read(path, p, &t, &err) == ZZ_OK);
  if (t) CHECK(sim_targets_count(t) == 2);
  sim_targets_free(t);
  remove(path);

  /* built in memory: the same checks, without file positions; sim_run allocates nothing on error */
  t = sim_targets_create();
  sim_targets_add(t, D[0], 0, 0.7, NULL);
  sim_targets_add(t, D[0], 2, 0.4, NULL);
  sim_config c;
  sim_config_default(&c);
  sim_result *r = (sim_result *)&c; /* must be reset to NULL */
  CHECK(sim_run(p, t, &c, &r, &err) == ZZ_EDATA && r == NULL && strstr(err.msg, "sum to more than 1"));
  sim_targets_free(t);
  t = sim_targets_create();
  sim_targets_add(t, 20230107, 0, 0.1, NULL);
  CHECK(sim_run(p, t, &c, &r, &err) == ZZ_EDATA && r == NULL && strstr(err.msg, "2023-01-07"));
  sim_targets_free(t);
  t = sim_targets_create();
  sim_targets_add(t, D[0], 1, NAN, NULL);
  CHECK(sim_run(p, t, &c, &r, &err) == ZZ_EDATA && strstr(err.msg, "finite"));
  sim_targets_free(t);
  t = sim_targets_create();
  CHECK(sim_run(p, t, &c, &r, &err) == ZZ_EUSAGE && strstr(err.msg, "no target dates"));
  sim_targets_free(t);
  rmdir(dir);
  tp_free(p);
  if (tp_failures) fprintf(stderr, "%d check(s) failed\n", tp_failures);
  else printf("all target-file checks passed\n");
  return tp_failures ? 1 : 0;
}
