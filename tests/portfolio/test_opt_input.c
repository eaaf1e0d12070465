/* test_opt_input.c — bad problem directories give errors that name the file, the line and the code:
 * a code missing from one file, NaN, a negative variance, a non-symmetric covariance, weights not
 * summing to 1, an unknown factor, an unknown limits key; and a good directory reads back exactly. */
#include "portfolio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;
static char dir[2048];

static void put(const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    exit(1);
  }
  fputs(text, f);
  fclose(f);
}

static void good(void) {
  put("alpha.csv", "code,score\n600000.SH,1.5\n000001.SZ,-0.5\n600001.SH,0.25\n");
  put("benchmark.csv", "code,weight\n600000.SH,0.6\n000001.SZ,0.4\n");
  put("exposures.csv", "code,size,beta\n600000.SH,1,0.5\n000001.SZ,-1,1.5\n600001.SH,0.2,1\n");
  put("industry.csv", "code,industry\n600000.SH,bank\n000001.SZ,bank\n600001.SH,steel\n");
  put("factor_cov.csv", "factor,steel,size,bank,beta,country\nsize,0.001,0.01,0.002,0.003,0.001\n"
                        "beta,0.002,0.003,0.004,0.02,0.002\nbank,0.003,0.002,0.03,0.004,0.003\n"
                        "steel,0.04,0.001,0.003,0.002,0.001\ncountry,0.001,0.001,0.003,0.002,0.05\n");
  put("specific_var.csv", "code,var\n600000.SH,0.04\n000001.SZ,0.09\n600001.SH,0.0625\n");
  char path[4096];
  snprintf(path, sizeof path, "%s/previous.csv", dir);
  remove(path);
  snprintf(path, sizeof path, "%s/tradable.csv", dir);
  remove(path);
}

/* Expects opt_problem_read to fail with a message containing every one of the NULL-terminated needles. */
static void expect_error(const char *what, ...) {
  opt_problem *p = NULL;
  zz_err err = {0};
  int rc = opt_problem_read(dir, &p, &err);
  if (rc == ZZ_OK) {
    fprintf(stderr, "FAIL %s: read succeeded\n", what);
    failures++;
    opt_problem_free(p);
    return;
  }
  va_list ap;
  va_start(ap, what);
  for (const char *s; (s = va_arg(ap, const char *));)
    if (!strstr(err.msg, s)) {
      fprintf(stderr, "FAIL %s: message '%s' lacks '%s'\n", what, err.msg, s);
      failures++;
    }
  va_end(ap);
  if (rc != ZZ_EDATA) {
    fprintf(stderr, "FAIL %s: status %d, want ZZ_EDATA\n", what, rc);
    failures++;
  }
}

int main(int argc, char **argv) {
  snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "opt_input");
  mkdir(dir, 0755);

  good();
  opt_problem *p = NULL;
  zz_err err = {0};
  if (opt_problem_read(dir, &p, &err)) {
    fprintf(stderr, "FAIL good directory: %s\n", err.msg);
    return 1;
  }
  /* factors reordered to styles (size, beta), industries in order of appearance (bank, steel), country */
  int ok = p->n == 3 && p->n_style == 2 && p->n_ind == 2 && p->has_country && !strcmp(p->ind_names[0], "bank") &&
           p->fcov[0 * 5 + 0] == 0.01 && p->fcov[1 * 5 + 2] == 0.004 && p->fcov[3 * 5 + 3] == 0.04 &&
           p->fcov[2 * 5 + 3] == 0.003 && p->fcov[4 * 5 + 4] == 0.05 && p->bench[2] == 0 && p->style[1 * 2 + 1] == 1.5 &&
           p->ind[2] == 1 && p->spec_var[2] == 0.0625 && !p->has_prev && p->can_buy[0] && p->can_sell[2];
  if (!ok) {
    fprintf(stderr, "FAIL good directory read back wrongly\n");
    failures++;
  }
  opt_problem_free(p);

  good();
  put("exposures.csv", "code,size,beta\n600000.SH,1,0.5\n600001.SH,0.2,1\n");
  expect_error("missing code", "exposures.csv", "000001.SZ", "missing", NULL);
  good();
  put("alpha.csv", "code,score\n600000.SH,1.5\n000001.SZ,nan\n600001.SH,0.25\n");
  expect_error("NaN score", "alpha.csv:3:2", "score", NULL);
  good();
  put("specific_var.csv", "code,var\n600000.SH,0.04\n000001.SZ,-0.09\n600001.SH,0.0625\n");
  expect_error("negative variance", "specific_var.csv:3:2", "000001.SZ", ">= 0", NULL);
  good();
  put("factor_cov.csv", "factor,steel,size,bank,beta,country\nsize,0.001,0.01,0.002,0.003,0.001\n"
                        "beta,0.002,0.003,0.004,0.02,0.002\nbank,0.003,0.002,0.03,0.004,0.003\n"
                        "steel,0.04,0.001,0.003,0.002,0.001\ncountry,0.001,0.001,0.003,0.007,0.05\n");
  expect_error("non-symmetric covariance", "factor_cov.csv", "not symmetric", "country", "beta", NULL);
  good();
  put("factor_cov.csv", "factor,steel,size\nsize,0.001,0.01\nsteel,0.04,0.001\n");
  expect_error("missing factor", "factor_cov.csv", "missing", NULL);
  good();
  put("factor_cov.csv", "factor,steel,size,bank,beta,momentum\nsize,0.001,0.01,0.002,0.003,0\n");
  expect_error("unknown factor", "factor_cov.csv:1:6", "momentum", NULL);
  good();
  put("benchmark.csv", "code,weight\n600000.SH,0.6\n000001.SZ,0.3\n");
  expect_error("benchmark sum", "benchmark.csv", "sum to 0.9", NULL);
  good();
  put("benchmark.csv", "code,weight\n600000.SH,0.6\n300750.SZ,0.4\n");
  expect_error("benchmark code outside universe", "benchmark.csv:3:1", "300750.SZ", "alpha.csv", NULL);
  good();
  put("previous.csv", "code,weight\n600000.SH,0.6\n600000.SH,0.4\n");
  expect_error("duplicate code", "previous.csv:3:1", "twice", NULL);
  good();
  put("tradable.csv", "code,can_buy,can_sell\n600000.SH,1,1\n000001.SZ,0,1\n");
  expect_error("tradable missing code", "tradable.csv", "600001.SH", NULL);
  good();
  put("factor_cov.csv", "factor,steel,size,bank,beta,country\nsize,0.001,0.01,0.002,0.003,0.001\n"
                        "beta,0.002,0.003,0.004,0.02,0.002\nbank,0.003,0.002,-0.03,0.004,0.003\n"
                        "steel,0.04,0.001,0.003,0.002,0.001\ncountry,0.001,0.001,0.003,0.002,0.05\n");
  expect_error("negative factor variance", "factor_cov.csv:4:4", "negative variance", "bank", NULL);

  /* limits.ini */
  opt_limits lim;
  opt_limits_default(&lim);
  char path[4096];
  snprintf(path, sizeof path, "%s/limits.ini", dir);
  put("limits.ini", "[limits]\nte_max = 0.04\nturnover_max=0.3\n");
  if (opt_limits_read(path, &lim, &err) || lim.te_max != 0.04 || lim.turnover_max != 0.3 || lim.style_bound != 0.5) {
    fprintf(stderr, "FAIL limits.ini read: %s\n", err.msg);
    failures++;
  }
  put("limits.ini", "[limits]\nte_max = 0.04\n\nte_mx = 0.3\n");
  if (!opt_limits_read(path, &lim, &err) || !strstr(err.msg, "limits.ini:4") || !strstr(err.msg, "te_mx")) {
    fprintf(stderr, "FAIL limits.ini unknown key: '%s'\n", err.msg);
    failures++;
  }
  put("limits.ini", "[limits]\nstyle_bound = -1\n");
  if (!opt_limits_read(path, &lim, &err) || !strstr(err.msg, "limits.ini:2")) {
    fprintf(stderr, "FAIL limits.ini negative bound: '%s'\n", err.msg);
    failures++;
  }
  remove(path);
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  else printf("test_opt_input: all cases pass\n");
  return failures ? 1 : 0;
}
