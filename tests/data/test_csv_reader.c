/* Tests of the libcsv reader (quoting, line numbers, BOM, CRLF, empty fields, field counts) and of
 * the decimal number parser (against strtod, the independent reference, and hand-written values). */
#include "data.h"
#include "data/zz_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static zz_csv *open_text(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  write_file(path, text);
  zz_csv *r = NULL;
  zz_err err = {0};
  if (zz_csv_open(&r, path, &err)) {
    fprintf(stderr, "open %s: %s\n", path, err.msg);
    zz_failures++;
  }
  return r;
}

static void test_quoted_and_lines(void) {
  /* line 1 header; line 2 row; lines 3-4 one row with a quoted newline; line 5 a quoted comma and
   * an escaped quote; line 6 empty (skipped); line 7 empty fields */
  zz_csv *r = open_text("q.csv",
                        "a,b,c\n"
                        "1,2,3\n"
                        "x,\"two\nlines\",y\n"
                        "\"p,q\",\"say \"\"hi\"\"\",z\n"
                        "\n"
                        ",,\n");
  if (!r) return;
  zz_err err = {0};
  CHECK(zz_csv_ncols(r) == 3);
  CHECK_STR(zz_csv_header(r, 2), "c");
  CHECK(zz_csv_next(r, &err) == 1);
  CHECK(zz_csv_line(r) == 2);
  CHECK_STR(zz_csv_field(r, 1), "2");
  CHECK(zz_csv_next(r, &err) == 1);
  CHECK(zz_csv_line(r) == 3);
  CHECK_STR(zz_csv_field(r, 1), "two\nlines");
  CHECK(zz_csv_next(r, &err) == 1);
  CHECK(zz_csv_line(r) == 5);
  CHECK_STR(zz_csv_field(r, 0), "p,q");
  CHECK_STR(zz_csv_field(r, 1), "say \"hi\"");
  CHECK(zz_csv_next(r, &err) == 1);
  CHECK(zz_csv_line(r) == 7);
  CHECK_STR(zz_csv_field(r, 0), "");
  double v = 0;
  CHECK(zz_csv_double(r, 1, 1, &v, &err) == ZZ_OK && isnan(v));
  CHECK(zz_csv_double(r, 1, 0, &v, &err) == ZZ_EDATA);
  CHECK_CONTAINS(err.msg, "q.csv:7:2: expected a number in column 'b'");
  CHECK(zz_csv_next(r, &err) == 0);
  zz_csv_close(r);
}

static void test_bom_crlf(void) {
  zz_csv *r = open_text("bom.csv", "\xEF\xBB\xBF" "date,code\r\n2020-01-02,600000.SH\r\n\r\n20200103,sz000001\r\n");
  if (!r) return;
  zz_err err = {0};
  CHECK_STR(zz_csv_header(r, 0), "date");
  const char *const names[] = {"DATE", NULL};
  CHECK(zz_csv_find(r, names) == 0);
  CHECK(zz_csv_next(r, &err) == 1);
  CHECK_STR(zz_csv_field(r, 1), "600000.SH");
  int32_t d = 0;
  CHECK(zz_csv_date(r, 0, &d, &err) == ZZ_OK && d == 20200102);
  CHECK(zz_csv_next(r, &err) == 1);
  CHECK(zz_csv_line(r) == 4);
  CHECK(zz_csv_date(r, 0, &d, &err) == ZZ_OK && d == 20200103);
  CHECK(zz_csv_next(r, &err) == 0);
  zz_csv_close(r);
}

static void test_field_count(void) {
  zz_csv *r = open_text("n.csv", "a,b,c\n1,2,3\n\"multi\nline\",2\n");
  if (!r) return;
  zz_err err = {0};
  CHECK(zz_csv_next(r, &err) == 1);
  CHECK(zz_csv_next(r, &err) == -ZZ_EDATA);
  CHECK_CONTAINS(err.msg, "n.csv:3:3: expected 3 fields as in the header, found 2");
  zz_csv_close(r);
  r = open_text("m.csv", "a,b\n1,2,3\n");
  if (!r) return;
  CHECK(zz_csv_next(r, &err) == -ZZ_EDATA);
  CHECK_CONTAINS(err.msg, "m.csv:2:3: expected 2 fields as in the header, found 3");
  const char *const missing[] = {"close", "adj_close", NULL};
  CHECK(zz_csv_require(r, missing, &err) == -1);
  CHECK_CONTAINS(err.msg, "m.csv:1:3: missing required column 'close' or 'adj_close'");
  zz_csv_close(r);
  zz_csv *e = NULL;
  char path[512];
  snprintf(path, sizeof path, "%s/empty.csv", dir);
  write_file(path, "");
  CHECK(zz_csv_open(&e, path, &err) == ZZ_EDATA && e == NULL);
  CHECK_CONTAINS(err.msg, "empty.csv:1: empty file");
  snprintf(path, sizeof path, "%s/none.csv", dir);
  CHECK(zz_csv_open(&e, path, &err) == ZZ_EIO);
}

static void test_long_file_lines(void) {
  /* blocks of 1 MiB: rows that straddle a block boundary keep exact line numbers */
  char path[512];
  snprintf(path, sizeof path, "%s/long.csv", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fputs("k,v\n", f);
  for (int k = 0; k < 200000; k++) {
    if (k % 1000 == 7) fprintf(f, "%d,\"quoted\nvalue %d\"\n", k, k);
    else fprintf(f, "%d,value %d\n", k, k);
  }
  fclose(f);
  zz_csv *r = NULL;
  zz_err err = {0};
  if (zz_csv_open(&r, path, &err)) return;
  size_t line = 2;
  int k = 0, bad = 0;
  while (zz_csv_next(r, &err) == 1) {
    double v;
    if (zz_csv_line(r) != line || zz_csv_double(r, 0, 0, &v, &err) || v != k) bad++;
    line += (k % 1000 == 7) ? 2 : 1;
    k++;
  }
  CHECK(k == 200000);
  CHECK(bad == 0);
  zz_csv_close(r);
}

static uint64_t rng_state = 0x1234567;
static uint64_t next_u64(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void test_parse_double(void) {
  double v;
  CHECK(zz_parse_double("10.25", 0, &v) == 0 && v == 10.25);
  CHECK(zz_parse_double(" -0.5 ", 0, &v) == 0 && v == -0.5);
  CHECK(zz_parse_double("1e3", 0, &v) == 0 && v == 1000);
  CHECK(zz_parse_double("+.5", 0, &v) == 0 && v == 0.5);
  CHECK(zz_parse_double("5.", 0, &v) == 0 && v == 5);
  CHECK(zz_parse_double("0", 0, &v) == 0 && v == 0);
  CHECK(zz_parse_double("12345.67", 2, &v) == 0 && v == 1234567.0);
  CHECK(zz_parse_double("123456.789", 3, &v) == 0 && v == 123456789.0);
  CHECK(zz_parse_double("12.5", -2, &v) == 0 && v == 0.125);
  CHECK(zz_parse_double("", 0, &v) == -1);
  CHECK(zz_parse_double(".", 0, &v) == -1);
  CHECK(zz_parse_double("1.2.3", 0, &v) == -1);
  CHECK(zz_parse_double("1e", 0, &v) == -1);
  CHECK(zz_parse_double("abc", 0, &v) == -1);
  CHECK(zz_parse_double("1,5", 0, &v) == -1);
  CHECK(zz_parse_double("1e999", 0, &v) == -1);
  /* random decimals against strtod, unscaled and scaled (the scaled reference is the same digits
   * with the exponent moved, parsed by strtod) */
  int bad = 0;
  for (int k = 0; k < 200000; k++) {
    char s[64], ref[80];
    uint64_t a = next_u64();
    int intd = (int)(a % 12), fracd = (int)(a / 12 % 8), scale = (int)(a / 96 % 7) - 3;
    int64_t ip = (int64_t)(next_u64() % 1000000000000ULL);
    for (int d = intd; d < 12; d++) ip /= 10;
    uint64_t fp = next_u64() % 100000000ULL;
    for (int d = fracd; d < 8; d++) fp /= 10;
    if (fracd) snprintf(s, sizeof s, "%s%lld.%0*llu", a & (1ULL << 60) ? "-" : "", (long long)ip, fracd,
                        (unsigned long long)fp);
    else snprintf(s, sizeof s, "%s%lld", a & (1ULL << 60) ? "-" : "", (long long)ip);
    snprintf(ref, sizeof ref, "%se%d", s, scale);
    if (k % 5 == 0) { /* long mantissas beyond 2^53 and large exponents take the fallback */
      unsigned long long m1 = (unsigned long long)next_u64(), m2 = (unsigned long long)(next_u64() % 1000);
      int e = (int)(next_u64() % 61) - 30;
      snprintf(s, sizeof s, "%llu.%llue%d", m1, m2, e);
      snprintf(ref, sizeof ref, "%llu.%llue%d", m1, m2, e + scale);
    }
    double x, y = strtod(ref, NULL);
    if (zz_parse_double(s, scale, &x) != 0 || x != y) {
      if (bad < 5) fprintf(stderr, "parse '%s' scale %d: %.17g, strtod '%s': %.17g\n", s, scale, x, ref, y);
      bad++;
    }
  }
  CHECK(bad == 0);
}

static void test_fmt_double(void) {
  char b[40];
  CHECK_STR(zz_fmt_double(b, sizeof b, 0.1), "0.1");
  CHECK_STR(zz_fmt_double(b, sizeof b, 10.25), "10.25");
  CHECK_STR(zz_fmt_double(b, sizeof b, NAN), "");
  double third = 1.0 / 3.0;
  CHECK(strtod(zz_fmt_double(b, sizeof b, third), NULL) == third);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/zz_test_csv_XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_quoted_and_lines();
  test_bom_crlf();
  test_field_count();
  test_long_file_lines();
  test_parse_double();
  test_fmt_double();
  const char *names[] = {"q.csv", "bom.csv", "n.csv", "m.csv", "empty.csv", "long.csv"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, names[k]);
    unlink(p);
  }
  rmdir(dir);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  return zz_failures ? 1 : 0;
}
