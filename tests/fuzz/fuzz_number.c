/* fuzz_number.c — the number, date, code and index parsers (data/csv_reader.c, data/dates_codes.c), checked
 * against what they promise: an accepted number is finite and equals strtod of the same decimal (times
 * 10^scale, written as an exponent); an accepted date formats and reparses to itself and survives the
 * day-count round trip; code normalisation is idempotent. Input: first byte the scale (0..4), the rest the
 * text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static void fail(const char *what, const char *s) {
  fprintf(stderr, "fuzz: %s for input '%s'\n", what, s);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 200) return 0;
  int scale = data[0] % 5;
  char s[256];
  memcpy(s, data + 1, size - 1);
  s[size - 1] = 0;
  if (strlen(s) != size - 1) return 0; /* an embedded NUL: fields never hold one */

  double v;
  if (zz_parse_double(s, scale, &v) == 0) {
    if (!isfinite(v)) fail("zz_parse_double accepted a non-finite number", s);
    /* the reference: strtod of the trimmed text with the scale as an exponent (only when the text has no
     * exponent of its own, where appending one is the same number) */
    const char *b = s;
    while (*b == ' ' || *b == '\t') b++;
    size_t n = strlen(b);
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r')) n--;
    if (!memchr(b, 'e', n) && !memchr(b, 'E', n)) {
      char ref[300];
      snprintf(ref, sizeof ref, "%.*se%d", (int)n, b, scale);
      char *end;
      double w = strtod(ref, &end);
      if (*end || (isfinite(w) && w != v)) fail("zz_parse_double differs from strtod", s);
    }
  }
  int32_t ymd;
  if (zz_date_parse(s, &ymd) == 0) {
    char buf[16];
    int32_t back;
    if (zz_date_parse(zz_date_format(ymd, buf), &back) != 0 || back != ymd) fail("a date does not reparse", s);
    if (zz_days_to_date(zz_date_to_days(ymd)) != ymd) fail("a date's day count does not round-trip", s);
    int wd = zz_date_weekday(ymd);
    if (wd < 1 || wd > 7) fail("a weekday outside 1..7", s);
  }
  char code[ZZ_CODE_LEN], again[ZZ_CODE_LEN];
  if (zz_code_normalise(s, code) == 0) {
    if (zz_code_normalise(code, again) != 0 || strcmp(code, again)) fail("code normalisation is not idempotent", s);
  }
  int ix = zz_index_parse(s);
  if (ix != -1 && (ix < 0 || ix >= PANEL_N_INDEX || zz_index_parse(zz_index_code(ix)) != ix ||
                   zz_index_parse(zz_index_name(ix)) != ix))
    fail("an index id that does not round-trip", s);
  return 0;
}
