/* test_rep_yearly.c — a hand-made NAV series (nav.csv as the simulator writes it) against a yearly table,
 * weekly win rate, turnover, costs and drawdown computed by hand; formatting of undefined values; and
 * the messages for bad nav.csv files. */
#include "data.h"
#include "reports.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond, ...)                                                                                    \
  do {                                                                                                      \
    if (!(cond)) {                                                                                          \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                              \
      fprintf(stderr, __VA_ARGS__);                                                                         \
      fprintf(stderr, "\n");                                                                                \
      failures++;                                                                                           \
    }                                                                                                       \
  } while (0)
#define NEAR(a, b) (fabs((a) - (b)) <= 1e-12 * (1 + fabs(b)))

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  fputs(text, f);
  fclose(f);
}

/* nav.csv is the simulator's format: read by its owner, then viewed as a rep_run. */
static int run_read(const char *dir, const char *label, rep_run **out, zz_err *err) {
  sim_result *s = NULL;
  int rc = sim_result_read(dir, &s, err);
  if (!rc) rc = rep_run_from_sim(s, label, out, err);
  sim_result_free(s);
  return rc;
}

int main(void) {
  char dir[] = "/tmp/zz_rep_yearly_XXXXXX";
  if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
  char path[256];
  snprintf(path, sizeof path, "%s/nav.csv", dir);
  /* 2019-12-30 is a Monday: rows 0-2 share ISO week 2020-W01. */
  write_file(path, "date,nav,benchmark,hedged,cash,turnover,costs\n"
                   "2019-12-30,1.00,1.00,1.00,0,1.0,100\n"
                   "2019-12-31,1.10,1.05,1.04,0,0,0\n"
                   "2020-01-02,1.21,1.00,1.06,0,0.1,10\n"
                   "2020-06-30,0.968,0.90,1.03,0,0.2,20\n"
                   "2020-12-31,1.452,1.26,1.092,0,0.3,30\n"
                   "2021-01-04,1.5246,1.30,1.10,0,0.05,5\n"
                   "2021-06-30,1.2,1.155,1.0374,0,0.15,15\n");
  zz_err err = {0};
  rep_run *r = NULL;
  int rc = run_read(dir, "hand", &r, &err);
  CHECK(rc == 0, "%s", err.msg);
  if (rc) return 1;
  rep_year_row y[8];
  int n = rep_yearly(r, y, 8);
  CHECK(n == 3, "years %d", n);
  /* hand: 2019: 1.10/1.00; 2020: 1.452/1.10 = 1.32; 2021: 1.2/1.452 */
  CHECK(y[0].year == 2019 && y[0].partial == 1 && NEAR(y[0].abs_ret, 0.10), "2019 %d %d %.17g", y[0].year,
        y[0].partial, y[0].abs_ret);
  CHECK(y[0].first == 20191230 && y[0].last == 20191231, "2019 span %d %d", y[0].first, y[0].last);
  CHECK(NEAR(y[0].hedged_ret, 0.04) && NEAR(y[0].bench_ret, 0.05), "2019 hedged %.17g bench %.17g",
        y[0].hedged_ret, y[0].bench_ret);
  CHECK(y[1].year == 2020 && y[1].partial == 0 && NEAR(y[1].abs_ret, 0.32), "2020 %d %d %.17g", y[1].year,
        y[1].partial, y[1].abs_ret);
  CHECK(NEAR(y[1].hedged_ret, 0.05) && NEAR(y[1].bench_ret, 0.20), "2020 hedged %.17g bench %.17g",
        y[1].hedged_ret, y[1].bench_ret);
  CHECK(y[1].first == 20200102 && y[1].last == 20201231, "2020 span %d %d", y[1].first, y[1].last);
  CHECK(y[2].year == 2021 && y[2].partial == 1 && NEAR(y[2].abs_ret, 1.2 / 1.452 - 1), "2021 %d %d %.17g",
        y[2].year, y[2].partial, y[2].abs_ret);
  CHECK(NEAR(y[2].hedged_ret, -0.05) && NEAR(y[2].bench_ret, 1.155 / 1.26 - 1), "2021 hedged %.17g",
        y[2].hedged_ret);
  char b[32];
  CHECK(!strcmp(rep_fmt_pct(b, sizeof b, y[1].abs_ret), "32.00%"), "%s", b);
  CHECK(!strcmp(rep_fmt_pct(b, sizeof b, y[2].abs_ret), "-17.36%"), "%s", b);

  rep_summary s;
  rep_summarise(r, &s);
  CHECK(s.days == 6 && s.weeks == 5, "days %d weeks %d", s.days, s.weeks);
  /* week-end NAVs 1.21, 0.968, 1.452, 1.5246, 1.2 from base 1.00: up, down, up, up, down */
  CHECK(NEAR(s.abs_win, 0.6), "abs win %.17g", s.abs_win);
  /* hedged week ends 1.06, 1.03, 1.092, 1.10, 1.0374: up, down, up, up, down */
  CHECK(NEAR(s.hed_win, 0.6), "hedged win %.17g", s.hed_win);
  CHECK(NEAR(s.abs_ann, pow(1.2, 252.0 / 6) - 1), "annual %.17g", s.abs_ann);
  CHECK(NEAR(s.abs_mdd, 1.2 / 1.5246 - 1), "mdd %.17g", s.abs_mdd);
  /* hedged peak 1.10 then 1.0374 */
  CHECK(NEAR(s.hed_mdd, 1.0374 / 1.10 - 1), "hedged mdd %.17g", s.hed_mdd);
  /* weeks after the first: 0.2, 0.3, 0.05, 0.15 */
  CHECK(NEAR(s.mean_weekly_turnover, 0.175), "turnover %.17g", s.mean_weekly_turnover);
  CHECK(NEAR(s.total_costs, 180.0), "costs %.17g", s.total_costs);
  rep_run_free(r);

  /* two rows: one daily return, Sharpe and TE undefined and shown as such */
  write_file(path, "date,nav,benchmark,hedged\n2021-03-01,1,1,1\n2021-03-02,1.01,1.0,1.01\n");
  rc = run_read(dir, "two", &r, &err);
  CHECK(rc == 0, "%s", err.msg);
  if (!rc) {
    rep_summarise(r, &s);
    CHECK(isnan(s.abs_sharpe) && isnan(s.te) && isnan(s.ir), "sharpe %g te %g", s.abs_sharpe, s.te);
    CHECK(!strcmp(rep_fmt_num(b, sizeof b, s.abs_sharpe), "—"), "%s", b);
    CHECK(!strcmp(rep_fmt_pct(b, sizeof b, s.te), "—"), "%s", b);
    CHECK(!strcmp(rep_fmt_csv(b, sizeof b, s.te), ""), "%s", b);
    CHECK(NEAR(s.abs_mdd, 0.0), "mdd %g", s.abs_mdd);
    /* table cells: "—" with a footnote mark per distinct reason, the notes saying why (one daily return) */
    rep_notes n;
    rep_notes_init(&n);
    for (int m = 0; m < REP_SUM_N; m++) {
      const double v = rep_summary_value(&s, m);
      const char *why = rep_summary_why(&s, m);
      CHECK(isfinite(v) == (why == NULL), "metric %s: value %g, why %s", rep_summary_key(m), v, why ? why : "-");
      rep_cell(b, sizeof b, v, rep_summary_is_pct(m), &n, why);
      CHECK(isfinite(v) || !strncmp(b, "—", strlen("—")), "metric %s: cell '%s'", rep_summary_key(m), b);
      CHECK(!strstr(b, "nan") && !strstr(b, "undefined"), "metric %s: cell '%s'", rep_summary_key(m), b);
    }
    /* undefined: both Sharpes (one reason), TE, IR (one return) and the turnover (no week after the first) */
    CHECK(n.n == 4, "%d notes", n.n);
    CHECK(n.n > 0 && strstr(n.why[0], "Sharpe") && strstr(n.why[0], "two"), "%s", n.why[0]);
    rep_cell(b, sizeof b, NAN, 0, &n, rep_summary_why(&s, REP_SUM_TE));
    CHECK(!strcmp(b, "—²"), "TE cell '%s' (the second reason)", b);
    rep_cell(b, sizeof b, 0.0, 1, &n, "never used");
    CHECK(!strcmp(b, "0.00%") && n.n == 4, "'%s', %d notes", b, n.n);
    rep_run_free(r);
  }
  /* zero volatility: a constant daily return gives an undefined Sharpe with its own reason, IR likewise */
  write_file(path, "date,nav,benchmark,hedged\n2021-03-01,1,1,1\n2021-03-02,1.01,1.01,1\n"
                   "2021-03-03,1.0201,1.0201,1\n2021-03-04,1.030301,1.030301,1\n");
  rc = run_read(dir, "flat", &r, &err);
  CHECK(rc == 0, "%s", err.msg);
  if (!rc) {
    rep_summarise(r, &s);
    const char *w = rep_summary_why(&s, REP_SUM_HED_SHARPE);
    CHECK(isnan(s.hed_sharpe) && w && strstr(w, "do not vary"), "hedged Sharpe %g: %s", s.hed_sharpe, w ? w : "-");
    w = rep_summary_why(&s, REP_SUM_IR);
    CHECK(isnan(s.ir) && w && strstr(w, "tracking error 0"), "IR %g: %s", s.ir, w ? w : "-");
    /* the absolute returns are 1 % a day up to the rounding of the NAV: zero volatility, not a Sharpe of 1e15 */
    w = rep_summary_why(&s, REP_SUM_ABS_SHARPE);
    CHECK(isnan(s.abs_sharpe) && w && strstr(w, "do not vary"), "abs Sharpe %g", s.abs_sharpe);
    rep_run_free(r);
  }
  CHECK(!strcmp(rep_fmt_pct(b, sizeof b, -1e-9), "0.00%"), "%s", b);
  CHECK(!strcmp(rep_fmt_pct(b, sizeof b, 0.1342), "13.42%"), "%s", b);

  /* bad inputs: messages name file, line and column */
  write_file(path, "date,nav,benchmark,hedged\n2021-03-01,1,1,1\n2021-03-02,-1,1,1\n");
  rc = run_read(dir, "bad", &r, &err);
  CHECK(rc == ZZ_EDATA && strstr(err.msg, "nav.csv:3:2:"), "rc %d msg %s", rc, err.msg);
  write_file(path, "date,nav,benchmark,hedged\n2021-03-02,1,1,1\n2021-03-01,1,1,1\n");
  rc = run_read(dir, "bad", &r, &err);
  CHECK(rc == ZZ_EDATA && strstr(err.msg, "nav.csv:3:1:") && strstr(err.msg, "increase"), "rc %d msg %s", rc,
        err.msg);
  write_file(path, "date,nav,hedged\n2021-03-02,1,1\n");
  rc = run_read(dir, "bad", &r, &err);
  CHECK(rc == ZZ_EDATA && strstr(err.msg, "benchmark"), "rc %d msg %s", rc, err.msg);
  unlink(path);
  rmdir(dir);
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("ok: hand-made yearly table, summary and bad-input messages\n");
  return failures ? 1 : 0;
}
