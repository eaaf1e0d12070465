/* synth_calendar.c — the synthetic exchange's trading calendar: weekdays minus fixed holidays
 * (New Year's Day, the Spring Festival week, Qingming, Labour Day 1-3 May, National Day 1-7 Oct).
 * Deterministic: the Spring Festival dates come from a table (outside it: 5 February). */
#include "synth_private.h"

#include <stdlib.h>

/* Lunar New Year's Day, Gregorian MMDD, for 1990 .. 2040. */
static const int16_t spring_festival[] = {
    /*1990*/ 127, 215, 204, 123, 210, 131, 219, 207, 128, 216,
    /*2000*/ 205, 124, 212, 201, 122, 209, 129, 218, 207, 126,
    /*2010*/ 214, 203, 123, 210, 131, 219, 208, 128, 216, 205,
    /*2020*/ 125, 212, 201, 122, 210, 129, 217, 206, 126, 213,
    /*2030*/ 203, 123, 211, 131, 219, 208, 128, 215, 204, 124,
    /*2040*/ 212};

static int32_t spring_festival_date(int y) {
  int mmdd = (y >= 1990 && y <= 2040) ? spring_festival[y - 1990] : 205;
  return y * 10000 + mmdd;
}

int synth_is_holiday(int32_t ymd) {
  const int y = ymd / 10000, md = ymd % 10000;
  if (md == 101) return 1;                       /* New Year's Day */
  if (md >= 501 && md <= 503) return 1;          /* Labour Day */
  if (md >= 1001 && md <= 1007) return 1;        /* National Day week */
  if (md == 404 || md == 405) return 1;          /* Qingming */
  const int32_t sf = zz_date_to_days(spring_festival_date(y)), d = zz_date_to_days(ymd);
  if (d >= sf - 1 && d <= sf + 5) return 1;      /* Spring Festival week: eve .. 6th day */
  return 0;
}

int synth_calendar(int32_t from_ymd, int32_t to_ymd, int32_t **out) {
  const int32_t d0 = zz_date_to_days(from_ymd), d1 = zz_date_to_days(to_ymd);
  *out = NULL;
  int cap = d1 >= d0 ? d1 - d0 + 1 : 1, n = 0;
  int32_t *v = malloc((size_t)cap * sizeof *v);
  if (!v) return -1;
  for (int32_t d = d0; d <= d1; d++) {
    const int32_t ymd = zz_days_to_date(d);
    if (zz_date_weekday(ymd) >= 6 || synth_is_holiday(ymd)) continue;
    v[n++] = ymd;
  }
  *out = v;
  return n;
}
