/* Tests of dates (parse, format, weekday, day numbers; expected values from Python's datetime and
 * the Gregorian rules), stock codes, index names, board rules and price-limit ratios. */
#include "data.h"
#include "data/zz_check.h"

static void test_dates(void) {
  int32_t d = 0;
  CHECK(zz_date_parse("2020-08-24", &d) == 0 && d == 20200824);
  CHECK(zz_date_parse("20200824", &d) == 0 && d == 20200824);
  CHECK(zz_date_parse(" 2020/08/24 ", &d) == 0 && d == 20200824);
  CHECK(zz_date_parse("2024-02-29", &d) == 0);
  CHECK(zz_date_parse("2000-02-29", &d) == 0);
  CHECK(zz_date_parse("1900-02-29", &d) == -1); /* 1900 is not a leap year */
  CHECK(zz_date_parse("2023-02-29", &d) == -1);
  CHECK(zz_date_parse("2023-04-31", &d) == -1);
  CHECK(zz_date_parse("2023-13-01", &d) == -1);
  CHECK(zz_date_parse("2023-00-10", &d) == -1);
  CHECK(zz_date_parse("2023-1-10", &d) == -1);
  CHECK(zz_date_parse("2023-01/10", &d) == -1);
  CHECK(zz_date_parse("202301", &d) == -1);
  CHECK(zz_date_parse("2023010a", &d) == -1);
  CHECK(zz_date_parse("", &d) == -1);
  char b[11];
  CHECK_STR(zz_date_format(20200824, b), "2020-08-24");
  CHECK_STR(zz_date_format(19991231, b), "1999-12-31");
  /* (date, days since 1970-01-01, ISO weekday) from Python datetime */
  static const int32_t known[][3] = {{20000101, 10957, 6}, {20200824, 18498, 1}, {20240229, 19782, 4},
                                     {20231231, 19722, 7}, {19700101, 0, 4},     {21000301, 47541, 1}};
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
    CHECK(zz_date_to_days(known[k][0]) == known[k][1]);
    CHECK(zz_days_to_date(known[k][1]) == known[k][0]);
    CHECK(zz_date_weekday(known[k][0]) == known[k][2]);
  }
  /* every day 1950..2100: round trip, consecutive day numbers, weekday cycles, format/parse */
  int32_t prev = zz_date_to_days(19491231);
  int bad = 0;
  for (int y = 1950; y <= 2100; y++)
    for (int m = 1; m <= 12; m++)
      for (int dd = 1; dd <= 31; dd++) {
        int32_t ymd = y * 10000 + m * 100 + dd, back;
        char s[32];
        snprintf(s, sizeof s, "%04d-%02d-%02d", y % 10000, m % 100, dd % 100);
        if (zz_date_parse(s, &back) != 0) continue; /* not a calendar date */
        int32_t z = zz_date_to_days(ymd);
        if (back != ymd || z != prev + 1 || zz_days_to_date(z) != ymd ||
            zz_date_weekday(ymd) != (int)(((z + 3) % 7 + 7) % 7) + 1 || strcmp(zz_date_format(ymd, b), s))
          bad++;
        prev = z;
      }
  CHECK(bad == 0);
  CHECK(prev == zz_date_to_days(21001231));
}

static void test_codes(void) {
  char c[ZZ_CODE_LEN];
  CHECK(zz_code_normalise("600000.SH", c) == 0);
  CHECK_STR(c, "600000.SH");
  CHECK(zz_code_normalise("sh600000", c) == 0);
  CHECK_STR(c, "600000.SH");
  CHECK(zz_code_normalise("sz.000001", c) == 0);
  CHECK_STR(c, "000001.SZ");
  CHECK(zz_code_normalise(" 430047.bj ", c) == 0);
  CHECK_STR(c, "430047.BJ");
  CHECK(zz_code_normalise("600000", c) == -1);
  CHECK(zz_code_normalise("600000.HK", c) == -1);
  CHECK(zz_code_normalise("60000X.SH", c) == -1);
  CHECK(zz_code_normalise("6000001.SH", c) == -1);
  CHECK(zz_code_normalise("", c) == -1);
  CHECK(zz_index_parse("000300") == PANEL_CSI300);
  CHECK(zz_index_parse("000300.SH") == PANEL_CSI300);
  CHECK(zz_index_parse("CSI500") == PANEL_CSI500);
  CHECK(zz_index_parse("000852.SH") == PANEL_CSI1000);
  CHECK(zz_index_parse("000905") == PANEL_CSI500);
  CHECK(zz_index_parse("000001") == -1);
  CHECK(zz_index_parse("000016") == -1);
  CHECK_STR(zz_index_code(PANEL_CSI1000), "000852");
  CHECK(panel_board_from_code("300750.SZ") == BOARD_CHINEXT);
  CHECK(panel_board_from_code("688981.SH") == BOARD_STAR);
  CHECK(panel_board_from_code("430047.BJ") == BOARD_BSE);
  CHECK(panel_board_from_code("600000.SH") == BOARD_MAIN);
  /* limit ratios (SPEC 2.1): main 10 %, ST 5 %, ChiNext 20 % from 2020-08-24, STAR 20 %, BSE 30 % */
  CHECK(panel_limit_ratio(BOARD_MAIN, 0, 20200101) == 0.10);
  CHECK(panel_limit_ratio(BOARD_MAIN, 1, 20200101) == 0.05);
  CHECK(panel_limit_ratio(BOARD_CHINEXT, 0, 20200821) == 0.10);
  CHECK(panel_limit_ratio(BOARD_CHINEXT, 0, 20200824) == 0.20);
  CHECK(panel_limit_ratio(BOARD_CHINEXT, 1, 20200824) == 0.20);
  CHECK(panel_limit_ratio(BOARD_STAR, 0, 20200101) == 0.20);
  CHECK(panel_limit_ratio(BOARD_BSE, 0, 20220101) == 0.30);
}

int main(void) {
  test_dates();
  test_codes();
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  return zz_failures ? 1 : 0;
}
