/* test_synth_oracle_read.c — synth_oracle_read (data/synth_write.c, beside the writer of
 * truth/oracle_rankic.csv): a market without the file has no oracle; the mean and IC_IR over a date range
 * against hand-computed values; a malformed file is refused naming file, line and column. */
#include "data.h"
#include "zz_check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void put(const char *dir, const char *text) {
  char p[4096];
  snprintf(p, sizeof p, "%s/truth", dir);
  mkdir(dir, 0777);
  mkdir(p, 0777);
  snprintf(p, sizeof p, "%s/truth/oracle_rankic.csv", dir);
  write_file(p, text);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
    return 2;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", argv[1]);
  mkdir(dir, 0777);
  zz_err err = {0, ""};
  synth_oracle_summary s;
  char m0[4200];
  snprintf(m0, sizeof m0, "%s/none", dir);
  mkdir(m0, 0777);
  CHECK_MSG(synth_oracle_read(m0, 20200101, 20201231, &s, &err) == ZZ_OK && !s.present && s.n == 0,
        "no file: rc, present %d, n %d (%s)", s.present, s.n, err.msg);

  char m1[4200];
  snprintf(m1, sizeof m1, "%s/ok", dir);
  put(m1, "date,rankic,rankic_conditional,rankic_realised_drift\n"
          "2019-12-17,0.9000000000,0.9,0.1\n"
          "2020-01-02,0.1000000000,0.0500000000,0.01\n"
          "2020-01-16,0.0500000000,0.0300000000,0.02\n"
          "2020-02-07,-0.0300000000,0.0100000000,0.00\n"
          "2021-01-04,0.9000000000,0.9,0.1\n");
  CHECK_MSG(synth_oracle_read(m1, 20200101, 20201231, &s, &err) == ZZ_OK, "ok: %s", err.msg);
  /* 2020: 0.10, 0.05, -0.03: mean 0.04, sample sd sqrt(((0.06)^2 + (0.01)^2 + (0.07)^2) / 2) = sqrt(0.0043) */
  CHECK_MSG(s.present && s.n == 3, "ok: present %d, n %d", s.present, s.n);
  CHECK_MSG(fabs(s.rankic_mean - 0.04) < 1e-12, "mean %.15g", s.rankic_mean);
  CHECK_MSG(fabs(s.rankic_ir - 0.04 / sqrt(0.0043)) < 1e-9, "IC_IR %.15g, expected %.15g", s.rankic_ir,
        0.04 / sqrt(0.0043));
  CHECK_MSG(fabs(s.cond_rankic_mean - 0.03) < 1e-12, "conditional mean %.15g", s.cond_rankic_mean);
  CHECK_MSG(synth_oracle_read(m1, 20220101, 20221231, &s, &err) == ZZ_OK && s.present && s.n == 0,
        "no date in range: n %d", s.n);
  CHECK_MSG(synth_oracle_read(m1, 20200102, 20200102, &s, &err) == ZZ_OK && s.n == 1 && isnan(s.rankic_ir),
        "one date: n %d, IC_IR %g (expected NaN)", s.n, s.rankic_ir);

  char m2[4200];
  snprintf(m2, sizeof m2, "%s/bad_number", dir);
  put(m2, "date,rankic,rankic_conditional,rankic_realised_drift\n2020-01-02,0.1,0.05,0.01\n2020-01-16,x,0.03,0.02\n");
  CHECK_MSG(synth_oracle_read(m2, 20200101, 20201231, &s, &err) == ZZ_EDATA && strstr(err.msg, "oracle_rankic.csv:3:2"),
        "bad number: %s", err.msg);
  char m3[4200];
  snprintf(m3, sizeof m3, "%s/no_column", dir);
  put(m3, "date,rankic\n2020-01-02,0.1\n");
  CHECK_MSG(synth_oracle_read(m3, 20200101, 20201231, &s, &err) == ZZ_EDATA && strstr(err.msg, "rankic_conditional"),
        "missing column: %s", err.msg);
  char m4[4200];
  snprintf(m4, sizeof m4, "%s/bad_date", dir);
  put(m4, "date,rankic,rankic_conditional\n2020-13-02,0.1,0.1\n");
  CHECK_MSG(synth_oracle_read(m4, 20200101, 20201231, &s, &err) == ZZ_EDATA && strstr(err.msg, "oracle_rankic.csv:2:1"),
        "bad date: %s", err.msg);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  else printf("synth_oracle_read: all checks passed\n");
  return zz_failures ? 1 : 0;
}
