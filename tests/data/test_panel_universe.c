/* test_panel_universe.c — the universe screen (data.h, "universe screen") on hand-made panels: ST by the
 * is_st flag, ST derived from 5 % limits (main board vs its 10 % limit, ChiNext / STAR 20 %, BSE 30 %, a
 * missing pre_close, rounding to the cent, suspended and undecidable days carrying the state), the listing
 * age of new listings (59th / 60th / 61st trading day, list_date on a weekend, before the panel, unknown),
 * the options, and has_is_st / has_limits set by ingest and kept by the cache. Every expected value is
 * written out by hand below from the rules, not taken from the code's output. */
#include "data/panel_testlib.h"

#include <unistd.h>

enum { T = 100 };

/* T weekdays from Monday 2021-01-04: t = 0..4 is 01-04..01-08, t = 10 is Monday 01-18. */
static panel *make_panel(int n, const char *const *codes, const panel_board *boards) {
  panel *p = calloc(1, sizeof *p);
  p->n_dates = T, p->n_stocks = n;
  p->dates = malloc(T * sizeof *p->dates);
  int32_t d = zz_date_to_days(20210104);
  for (int t = 0; t < T; d++)
    if (zz_date_weekday(zz_days_to_date(d)) <= 5) p->dates[t++] = zz_days_to_date(d);
  p->stocks = calloc((size_t)n, sizeof *p->stocks);
  for (int i = 0; i < n; i++) snprintf(p->stocks[i].code, ZZ_CODE_LEN, "%s", codes[i]), p->stocks[i].board = boards[i];
  const size_t cells = (size_t)T * (size_t)n;
  for (int k = 0; k < PF_N_FIELDS; k++) {
    p->f[k] = malloc(cells * sizeof(double));
    for (size_t q = 0; q < cells; q++) p->f[k][q] = NAN;
  }
  p->flags = calloc(cells, 1);
  return p;
}

static void set_listed(panel *p, int i, int t0, int t1) {
  for (int t = t0; t <= t1; t++) p->flags[panel_at(p, t, i)] |= PANEL_LISTED | PANEL_HAS_BAR;
}

/* eligible days of stock i as a string of '1'/'0' for t in [t0, t1] */
static void days(const panel *p, const uint8_t *e, int i, int t0, int t1, char *out) {
  int k = 0;
  for (int t = t0; t <= t1; t++) out[k++] = e[panel_at(p, t, i)] ? '1' : '0';
  out[k] = 0;
}

/* checks that stock i is eligible exactly on [from, to] (to = T - 1 for "to the end") */
static void expect_range(const panel *p, const uint8_t *e, int i, int from, int to, const char *what) {
  for (int t = 0; t < T; t++) {
    const int want = t >= from && t <= to;
    if (e[panel_at(p, t, i)] != want) {
      fprintf(stderr, "%s: stock %s day %d (%d): eligible %d, expected %d\n", what, p->stocks[i].code, t,
              (int)p->dates[t], e[panel_at(p, t, i)], want);
      zz_failures++;
      return;
    }
  }
}

static void test_flags_and_age(void) {
  static const char *const codes[] = {"600000.SH", "600001.SH", "600002.SH", "600003.SH", "600004.SH", "600005.SH"};
  static const panel_board boards[] = {BOARD_MAIN, BOARD_MAIN, BOARD_MAIN, BOARD_MAIN, BOARD_MAIN, BOARD_MAIN};
  panel *p = make_panel(6, codes, boards);
  p->has_is_st = 1, p->has_limits = 1;
  CHECK(p->dates[10] == 20210118 && p->dates[99] == 20210521);
  /* 0: listed before the panel (no list_date, a bar on the first date), ST on days 30..34 */
  set_listed(p, 0, 0, T - 1);
  for (int t = 30; t <= 34; t++) p->flags[panel_at(p, t, 0)] |= PANEL_ST;
  /* 1: list_date 2021-01-18 = day 10: age(t) = t - 9, the 60th trading day is t = 69 */
  p->stocks[1].list_date = 20210118;
  set_listed(p, 1, 10, T - 1);
  /* 2: no list_date, first listed day 20: age(t) = t - 19, 60th day t = 79 */
  set_listed(p, 2, 20, T - 1);
  /* 3: listed 2020-12-30 (Wed): weekdays 12-30, 12-31, 01-01 before the panel, so 2021-01-04 is its 4th
     trading day, age(t) = t + 4, the 60th day is t = 56 */
  p->stocks[3].list_date = 20201230;
  set_listed(p, 3, 0, T - 1);
  /* 4: list_date on Saturday 2021-01-16: the first trading day on or after it is 01-18 (t = 10) */
  p->stocks[4].list_date = 20210116;
  set_listed(p, 4, 10, T - 1);
  /* 5: delisted after day 49 */
  set_listed(p, 5, 0, 49);

  uint8_t *e = malloc((size_t)T * 6);
  panel_universe_opts o;
  panel_universe_init(&o);
  CHECK(o.exclude_st == 1 && o.min_listed_days == 60);
  panel_st_source src = PANEL_ST_KEPT;
  zz_err err = {0};
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK);
  CHECK(src == PANEL_ST_BY_FLAG);
  char s[T + 1];
  days(p, e, 0, 28, 36, s);
  CHECK_STR(s, "110000011");
  expect_range(p, e, 1, 69, T - 1, "new listing");
  days(p, e, 1, 68, 70, s);
  CHECK_STR(s, "011"); /* the 59th trading day excluded, the 60th and 61st eligible */
  expect_range(p, e, 2, 79, T - 1, "list_date unknown, listed on day 20");
  days(p, e, 2, 78, 80, s);
  CHECK_STR(s, "011");
  expect_range(p, e, 3, 56, T - 1, "listed before the panel");
  expect_range(p, e, 4, 69, T - 1, "list_date on a Saturday");
  expect_range(p, e, 5, 0, 49, "delisted");
  /* NULL options = the defaults; src may be NULL */
  uint8_t *e2 = malloc((size_t)T * 6);
  CHECK(panel_universe_mask(p, NULL, e2, NULL, &err) == ZZ_OK && !memcmp(e, e2, (size_t)T * 6));

  /* ST kept on request: only the age rule and listing remain */
  o.exclude_st = 0;
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK && src == PANEL_ST_KEPT);
  expect_range(p, e, 0, 0, T - 1, "ST kept");
  expect_range(p, e, 1, 69, T - 1, "ST kept, new listing");
  /* no age rule (0 and 1 mean the same: every listed day) */
  for (int n = 0; n <= 1; n++) {
    o.exclude_st = 1, o.min_listed_days = n;
    CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK);
    days(p, e, 0, 28, 36, s);
    CHECK_STR(s, "110000011");
    expect_range(p, e, 1, 10, T - 1, "no age rule");
    expect_range(p, e, 2, 20, T - 1, "no age rule, unknown list_date");
    expect_range(p, e, 5, 0, 49, "no age rule, delisted");
  }
  /* another N: age >= 5 */
  o.min_listed_days = 5;
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK);
  expect_range(p, e, 1, 14, T - 1, "N = 5"); /* age(14) = 5 */
  expect_range(p, e, 3, 1, T - 1, "N = 5, before the panel"); /* age(0) = 4, age(1) = 5 */
  o.min_listed_days = -1;
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_EUSAGE && strstr(err.msg, "min_listed_days"));

  /* no is_st and no limits: ST cannot be determined and is not excluded */
  p->has_is_st = 0, p->has_limits = 0;
  panel_universe_init(&o);
  CHECK(panel_universe_st_source(p, &o) == PANEL_ST_UNKNOWN);
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK && src == PANEL_ST_UNKNOWN);
  expect_range(p, e, 0, 0, T - 1, "ST not determinable");
  expect_range(p, e, 1, 69, T - 1, "ST not determinable, new listing");
  CHECK_CONTAINS(panel_st_source_name(PANEL_ST_UNKNOWN), "ST not excluded");
  CHECK_CONTAINS(panel_st_source_name(PANEL_ST_BY_FLAG), "is_st");
  CHECK_CONTAINS(panel_st_source_name(PANEL_ST_BY_LIMITS), "5 %");
  free(e), free(e2);
  panel_free(p);
}

#define AT(k, t, i) p->f[k][panel_at(p, t, i)]

static void test_limits(void) {
  static const char *const codes[] = {"600010.SH", "600011.SH", "300001.SZ", "688001.SH",
                                      "830001.BJ", "600012.SH", "600013.SH", "600014.SH"};
  static const panel_board boards[] = {BOARD_MAIN, BOARD_MAIN, BOARD_CHINEXT, BOARD_STAR,
                                       BOARD_BSE,  BOARD_MAIN, BOARD_MAIN,    BOARD_MAIN};
  const int n = 8;
  panel *p = make_panel(n, codes, boards);
  p->has_is_st = 0, p->has_limits = 1;
  /* every stock listed before the panel, price 10, pre_close 10, the board's normal limit in 2021:
     main 11.00 (10 %), ChiNext 12.00 and STAR 12.00 (20 %), BSE 13.00 (30 %) */
  static const double normal_up[] = {11.00, 11.00, 12.00, 12.00, 13.00, 11.00, 11.00, 11.00};
  for (int i = 0; i < n; i++) {
    set_listed(p, i, 0, T - 1);
    for (int t = 0; t < T; t++) AT(PF_CLOSE, t, i) = AT(PF_PRE_CLOSE, t, i) = 10.0, AT(PF_UP_LIMIT, t, i) = normal_up[i];
  }
  /* 0: main board, 5 % limits (10.50) on days 40..44 -> ST; day 45 suspended (limit missing) and day 46
     without a limit keep the state; day 47 back to 11.00 -> not ST */
  for (int t = 40; t <= 44; t++) AT(PF_UP_LIMIT, t, 0) = 10.50;
  p->flags[panel_at(p, 45, 0)] |= PANEL_SUSPENDED;
  AT(PF_UP_LIMIT, 45, 0) = NAN;
  AT(PF_UP_LIMIT, 46, 0) = NAN;
  /* 1: main board, always 10 %: never ST */
  /* 2: ChiNext in 2021 (20 %): 12.00 is its normal limit; a 10.50 day cannot reveal ST there (ST stocks
     keep 20 % on ChiNext after 2020-08-24), so it stays eligible */
  AT(PF_UP_LIMIT, 50, 2) = 10.50;
  /* 3: STAR 20 %, 4: BSE 30 %: normal limits, eligible */
  /* 5: pre_close missing on day 60: the previous close 8.00 stands for it, 8.00 x 1.05 = 8.40 -> ST;
     day 61: pre_close 8.40, limit 9.24 = 8.40 x 1.10 -> not ST;
     day 70: pre_close 11.11: 11.11 x 1.05 = 11.6655 -> 11.67, 11.11 x 1.10 = 12.221 -> 12.22; a vendor's
     11.66 is within a cent of 11.67 and not of 12.22 -> ST; day 71: 12.22 -> not ST */
  AT(PF_CLOSE, 59, 5) = 8.00;
  AT(PF_PRE_CLOSE, 60, 5) = NAN, AT(PF_UP_LIMIT, 60, 5) = 8.40, AT(PF_CLOSE, 60, 5) = 8.40;
  AT(PF_PRE_CLOSE, 61, 5) = 8.40, AT(PF_UP_LIMIT, 61, 5) = 9.24;
  AT(PF_PRE_CLOSE, 70, 5) = 11.11, AT(PF_UP_LIMIT, 70, 5) = 11.66;
  AT(PF_PRE_CLOSE, 71, 5) = 11.11, AT(PF_UP_LIMIT, 71, 5) = 12.22;
  /* 6: ST decided on day 78 (10.50), then days 79..80 at 0.15: 0.15 x 1.05 = 0.1575 -> 0.16 and
     0.15 x 1.10 = 0.165 -> 0.17 are a cent apart, so a 0.16 limit is within a cent of both: undecidable,
     the ST state carries; day 81 pre_close 10, limit 11.00 -> not ST */
  AT(PF_UP_LIMIT, 78, 6) = 10.50;
  for (int t = 79; t <= 80; t++) AT(PF_PRE_CLOSE, t, 6) = 0.15, AT(PF_UP_LIMIT, t, 6) = 0.16;
  /* 7: ex-rights day 20 with a derived pre_close (the previous close 10) and the vendor's limit from the
     ex-rights price 8.00 (8.80): matches neither 10.50 nor 11.00 -> keeps "not ST"; day 30 an ST limit
     from 10.00 (10.50), day 31 an ex-rights limit 8.40 from 8.00 that matches neither -> stays ST */
  AT(PF_UP_LIMIT, 20, 7) = 8.80;
  AT(PF_UP_LIMIT, 30, 7) = 10.50;
  AT(PF_UP_LIMIT, 31, 7) = 8.40;

  uint8_t *e = malloc((size_t)T * (size_t)n);
  panel_universe_opts o;
  panel_universe_init(&o);
  panel_st_source src = PANEL_ST_KEPT;
  zz_err err = {0};
  CHECK(panel_universe_st_source(p, &o) == PANEL_ST_BY_LIMITS);
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK && src == PANEL_ST_BY_LIMITS);
  char s[T + 1];
  days(p, e, 0, 38, 48, s);
  CHECK_STR(s, "11000000011"); /* 38 39 | 40..44 ST | 45 suspended, 46 no limit: carried | 47 48 */
  expect_range(p, e, 1, 0, T - 1, "main board 10 %");
  expect_range(p, e, 2, 0, T - 1, "ChiNext 20 %");
  expect_range(p, e, 3, 0, T - 1, "STAR 20 %");
  expect_range(p, e, 4, 0, T - 1, "BSE 30 %");
  days(p, e, 5, 59, 62, s);
  CHECK_STR(s, "1011");
  days(p, e, 5, 69, 72, s);
  CHECK_STR(s, "1011");
  days(p, e, 6, 77, 82, s);
  CHECK_STR(s, "100011");
  days(p, e, 7, 19, 21, s);
  CHECK_STR(s, "111");
  days(p, e, 7, 29, 33, s);
  CHECK_STR(s, "10011"); /* 30 ST, 31 carried, 32 back to 11.00 */
  /* exclude_st = 0 keeps them all */
  o.exclude_st = 0;
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK && src == PANEL_ST_KEPT);
  for (int i = 0; i < n; i++) expect_range(p, e, i, 0, T - 1, "ST kept");
  /* an is_st column takes precedence over the limits: no PANEL_ST flag set -> nobody is ST */
  p->has_is_st = 1;
  panel_universe_init(&o);
  CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK && src == PANEL_ST_BY_FLAG);
  for (int i = 0; i < n; i++) expect_range(p, e, i, 0, T - 1, "is_st precedes the limits");
  /* causal: changing everything after day D (limits, prices, ST flags, suspensions) leaves days <= D alone */
  const int D = 62;
  uint8_t *before = malloc((size_t)T * (size_t)n);
  for (int st_rule = 0; st_rule < 2; st_rule++) {
    p->has_is_st = st_rule; /* 0: derived from limits, 1: by the flag */
    CHECK(panel_universe_mask(p, &o, before, &src, &err) == ZZ_OK);
    panel *q = make_panel(n, codes, boards);
    q->has_is_st = st_rule, q->has_limits = 1;
    memcpy(q->flags, p->flags, (size_t)T * (size_t)n);
    for (int k = 0; k < PF_N_FIELDS; k++) memcpy(q->f[k], p->f[k], (size_t)T * (size_t)n * sizeof(double));
    for (int t = D + 1; t < T; t++)
      for (int i = 0; i < n; i++) {
        const size_t a = panel_at(q, t, i);
        q->f[PF_UP_LIMIT][a] = 10.50, q->f[PF_PRE_CLOSE][a] = (t + i) % 3 ? 10.0 : NAN, q->f[PF_CLOSE][a] = 7.0;
        q->flags[a] = (uint8_t)(q->flags[a] | PANEL_ST | ((t + i) % 5 ? 0 : PANEL_SUSPENDED));
      }
    CHECK(panel_universe_mask(q, &o, e, &src, &err) == ZZ_OK);
    CHECK(!memcmp(e, before, (size_t)(D + 1) * (size_t)n));
    CHECK(memcmp(e, before, (size_t)T * (size_t)n)); /* and the change after D is seen */
    panel_free(q);
  }
  free(before);
  free(e);
  panel_free(p);
}

/* has_is_st / has_limits from the bars.csv header, through the cache; a derived ST day from the CSV. */
static void test_ingest(void) {
  static const char *const header[3] = {"date,code,open,high,low,close,volume,amount,pre_close,up_limit,is_st\n",
                                        "date,code,open,high,low,close,volume,amount,pre_close,up_limit\n",
                                        "date,code,open,high,low,close,volume,amount\n"};
  for (int v = 0; v < 3; v++) {
    char dir[64], path[128];
    snprintf(dir, sizeof dir, "/tmp/zz_test_universe_XXXXXX");
    if (!mkdtemp(dir)) {
      zz_failures++;
      return;
    }
    snprintf(path, sizeof path, "%s/bars.csv", dir);
    char text[2048];
    /* 600000.SH: 2021-03-01 limit 11.00 (10 %), 03-02 limit 10.50 (5 % of pre_close 10) */
    const char *rows[3][3] = {{"2021-03-01,600000.SH,10,10.2,9.9,10,100,1000,10,11.00,0\n",
                               "2021-03-02,600000.SH,10,10.2,9.9,10,100,1000,10,10.50,1\n",
                               "2021-03-03,600000.SH,10,10.2,9.9,10,100,1000,10,11.00,0\n"},
                              {"2021-03-01,600000.SH,10,10.2,9.9,10,100,1000,10,11.00\n",
                               "2021-03-02,600000.SH,10,10.2,9.9,10,100,1000,10,10.50\n",
                               "2021-03-03,600000.SH,10,10.2,9.9,10,100,1000,10,11.00\n"},
                              {"2021-03-01,600000.SH,10,10.2,9.9,10,100,1000\n",
                               "2021-03-02,600000.SH,10,10.2,9.9,10,100,1000\n",
                               "2021-03-03,600000.SH,10,10.2,9.9,10,100,1000\n"}};
    snprintf(text, sizeof text, "%s%s%s%s", header[v], rows[v][0], rows[v][1], rows[v][2]);
    write_file(path, text);
    snprintf(path, sizeof path, "%s/index_bars.csv", dir);
    write_file(path, "date,index,close\n2021-03-01,000300,4000\n2021-03-02,000300,4010\n2021-03-03,000300,4020\n");
    snprintf(path, sizeof path, "%s/index_weights.csv", dir);
    write_file(path, "date,index,code,weight\n2021-03-01,000300,600000.SH,100\n");
    panel_load_opts lo = {.cache_path = NULL, .use_cache = 1, .verbose = 0};
    for (int pass = 0; pass < 2; pass++) {
      panel *p = NULL;
      zz_err err = {0};
      if (panel_load(dir, &lo, &p, &err)) {
        fprintf(stderr, "variant %d pass %d: %s\n", v, pass, err.msg);
        zz_failures++;
        break;
      }
      CHECK(p->from_cache == pass);
      CHECK(p->has_is_st == (v == 0) && p->has_limits == (v <= 1));
      CHECK(p->stocks[0].list_date == 0); /* no stocks.csv: unknown, not the first bar's date */
      uint8_t e[3];
      panel_st_source src;
      panel_universe_opts o;
      panel_universe_init(&o);
      CHECK(panel_universe_mask(p, &o, e, &src, &err) == ZZ_OK);
      CHECK(src == (v == 0 ? PANEL_ST_BY_FLAG : v == 1 ? PANEL_ST_BY_LIMITS : PANEL_ST_UNKNOWN));
      /* listed from the panel's first date: no age exclusion; 03-02 is ST where it can be told */
      CHECK(e[0] == 1 && e[1] == (v == 2) && e[2] == 1);
      panel_free(p);
    }
    snprintf(path, sizeof path, "%s/.zhizeng.cache", dir);
    unlink(path);
    const char *names[] = {"bars.csv", "index_bars.csv", "index_weights.csv"};
    for (int k = 0; k < 3; k++) snprintf(path, sizeof path, "%s/%s", dir, names[k]), unlink(path);
    rmdir(dir);
  }
}

int main(void) {
  test_flags_and_age();
  test_limits();
  test_ingest();
  if (zz_failures) fprintf(stderr, "%d failure(s)\n", zz_failures);
  else printf("universe screen: all checks passed\n");
  return zz_failures ? 1 : 0;
}
