/* dates_codes.c — calendar arithmetic, stock-code normalisation, index names and board rules. */
#include "data.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
  static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

static int digits(const char *s, int n, int *v) {
  int x = 0;
  for (int k = 0; k < n; k++) {
    if (!isdigit((unsigned char)s[k])) return -1;
    x = x * 10 + (s[k] - '0');
  }
  *v = x;
  return 0;
}

int zz_date_parse(const char *s, int32_t *ymd) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) n--;
  int y, m, d;
  if (n == 8) {
    if (digits(s, 4, &y) || digits(s + 4, 2, &m) || digits(s + 6, 2, &d)) return -1;
  } else if (n == 10 && (s[4] == '-' || s[4] == '/') && s[7] == s[4]) {
    if (digits(s, 4, &y) || digits(s + 5, 2, &m) || digits(s + 8, 2, &d)) return -1;
  } else {
    return -1;
  }
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return -1;
  *ymd = y * 10000 + m * 100 + d;
  return 0;
}

char *zz_date_format(int32_t ymd, char *buf) {
  int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
  buf[0] = (char)('0' + y / 1000 % 10);
  buf[1] = (char)('0' + y / 100 % 10);
  buf[2] = (char)('0' + y / 10 % 10);
  buf[3] = (char)('0' + y % 10);
  buf[4] = '-';
  buf[5] = (char)('0' + m / 10);
  buf[6] = (char)('0' + m % 10);
  buf[7] = '-';
  buf[8] = (char)('0' + d / 10);
  buf[9] = (char)('0' + d % 10);
  buf[10] = '\0';
  return buf;
}

/* Howard Hinnant's days_from_civil. */
int32_t zz_date_to_days(int32_t ymd) {
  int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int32_t zz_days_to_date(int32_t z) {
  z += 719468;
  int era = (z >= 0 ? z : z - 146096) / 146097;
  int doe = z - era * 146097;
  int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int y = yoe + era * 400;
  int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int mp = (5 * doy + 2) / 153;
  int d = doy - (153 * mp + 2) / 5 + 1;
  int m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
  return y * 10000 + m * 100 + d;
}

int zz_date_weekday(int32_t ymd) {
  int32_t z = zz_date_to_days(ymd); /* 1970-01-01 was a Thursday (4) */
  int w = (int)((z % 7 + 7 + 3) % 7);  /* 0 = Monday */
  return w + 1;
}

int zz_code_normalise(const char *in, char out[ZZ_CODE_LEN]) {
  char s[32];
  size_t n = 0;
  while (isspace((unsigned char)*in)) in++;
  for (; *in && n < sizeof s - 1; in++) s[n++] = (char)toupper((unsigned char)*in);
  while (n && isspace((unsigned char)s[n - 1])) n--;
  s[n] = '\0';
  const char *num = NULL, *ex = NULL;
  char exbuf[3] = {0};
  if (n == 9 && s[6] == '.') { /* 600000.SH */
    num = s;
    ex = s + 7;
  } else if (n == 8 && isalpha((unsigned char)s[0])) { /* SH600000 */
    memcpy(exbuf, s, 2);
    ex = exbuf;
    num = s + 2;
  } else if (n == 9 && s[2] == '.') { /* SH.600000 */
    memcpy(exbuf, s, 2);
    ex = exbuf;
    num = s + 3;
  } else {
    return -1;
  }
  for (int k = 0; k < 6; k++)
    if (!isdigit((unsigned char)num[k])) return -1;
  if (strncmp(ex, "SH", 2) && strncmp(ex, "SZ", 2) && strncmp(ex, "BJ", 2)) return -1;
  if (ex[2] != '\0' && ex != exbuf) return -1;
  memcpy(out, num, 6);
  out[6] = '.';
  out[7] = ex[0];
  out[8] = ex[1];
  out[9] = '\0';
  return 0;
}

static const char *const index_codes[PANEL_N_INDEX] = {"000300", "000905", "000852"};
static const char *const index_names[PANEL_N_INDEX] = {"csi300", "csi500", "csi1000"};

int zz_index_parse(const char *s) {
  while (isspace((unsigned char)*s)) s++;
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    size_t n = strlen(index_codes[k]);
    if (!strncmp(s, index_codes[k], n) && (s[n] == '\0' || !strcasecmp(s + n, ".SH") || !strcasecmp(s + n, ".CSI")))
      return k;
    if (!strcasecmp(s, index_names[k])) return k;
    if ((s[0] == 'S' || s[0] == 's') && (s[1] == 'H' || s[1] == 'h') && !strcmp(s + 2, index_codes[k])) return k;
  }
  return -1;
}

const char *zz_index_code(int index) { return index >= 0 && index < PANEL_N_INDEX ? index_codes[index] : "?"; }
const char *zz_index_name(int index) { return index >= 0 && index < PANEL_N_INDEX ? index_names[index] : "?"; }

panel_board panel_board_from_code(const char *code) {
  if (strstr(code, ".BJ")) return BOARD_BSE;
  if (!strncmp(code, "300", 3) || !strncmp(code, "301", 3)) return BOARD_CHINEXT;
  if (!strncmp(code, "688", 3) || !strncmp(code, "689", 3)) return BOARD_STAR;
  return BOARD_MAIN;
}

const char *panel_board_name(panel_board b) {
  switch (b) {
    case BOARD_MAIN: return "main";
    case BOARD_CHINEXT: return "chinext";
    case BOARD_STAR: return "star";
    case BOARD_BSE: return "bse";
  }
  return "?";
}

double panel_limit_ratio(panel_board b, int is_st, int32_t ymd) {
  switch (b) {
    case BOARD_CHINEXT: return ymd >= 20200824 ? 0.20 : (is_st ? 0.05 : 0.10);
    case BOARD_STAR: return 0.20;
    case BOARD_BSE: return 0.30;
    case BOARD_MAIN: break;
  }
  return is_st ? 0.05 : 0.10;
}
