/* The width of the panel grows while bars.csv is read when no stocks.csv gives the stock list, and
 * the columns are sorted by code at the end. The same 700-stock market written with rows in code
 * order, in reverse order, and with a stocks.csv listing the codes shuffled must give identical
 * panels; spot values are checked against the generating formula. */
#include "data/panel_testlib.h"

#include <unistd.h>

enum { NS = 700, ND = 6 };
static const int32_t days[ND] = {20210104, 20210105, 20210106, 20210107, 20210108, 20210111};

static void code_of(int i, char *out) { snprintf(out, ZZ_CODE_LEN, "%06d.%s", 100 + i * 7, i % 2 ? "SZ" : "SH"); }
static long price_cents(int i, int t) { return 1000 + i * 3 + t * ((i % 5) - 2); }

static void write_market(const char *dir, int order, int with_stocks) {
  mkdir(dir, 0755);
  char p[300], code[ZZ_CODE_LEN], ds[11];
  snprintf(p, sizeof p, "%s/index_bars.csv", dir);
  FILE *f = fopen(p, "w");
  if (!f) return;
  fputs("date,index,close\n", f);
  for (int t = 0; t < ND; t++) fprintf(f, "%s,csi300,%d\n", zz_date_format(days[t], ds), 5000 + t);
  fclose(f);
  snprintf(p, sizeof p, "%s/bars.csv", dir);
  f = fopen(p, "w");
  if (!f) return;
  fputs("date,code,open,high,low,close,volume,amount\n", f);
  for (int k = 0; k < NS; k++) {
    int i = order ? NS - 1 - k : k;
    code_of(i, code);
    for (int t = 0; t < ND; t++) {
      if ((i + t) % 11 == 0) continue; /* suspended days */
      long c = price_cents(i, t);
      fprintf(f, "%s,%s,%ld.%02ld,%ld.%02ld,%ld.%02ld,%ld.%02ld,%d,%ld\n", zz_date_format(days[t], ds), code, c / 100,
              c % 100, (c + 5) / 100, (c + 5) % 100, (c - 5) / 100, (c - 5) % 100, c / 100, c % 100, 100 * (i + 1),
              c * (i + 1));
    }
  }
  fclose(f);
  snprintf(p, sizeof p, "%s/index_weights.csv", dir);
  f = fopen(p, "w");
  if (!f) return;
  fputs("date,index,code,weight\n", f);
  for (int i = 0; i < 4; i++) {
    code_of(i * 100, code);
    fprintf(f, "2021-01-04,000300,%s,25\n", code);
  }
  fclose(f);
  if (with_stocks) {
    snprintf(p, sizeof p, "%s/stocks.csv", dir);
    f = fopen(p, "w");
    if (!f) return;
    fputs("code,board\n", f);
    for (int k = 0; k < NS; k++) {
      code_of((k * 277) % NS, code); /* 277 is coprime with 700: a permutation */
      fprintf(f, "%s,\n", code);
    }
    fclose(f);
  }
}

static void rm_market(const char *dir) {
  const char *files[] = {"index_bars.csv", "bars.csv", "index_weights.csv", "stocks.csv"};
  for (size_t k = 0; k < 4; k++) {
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, files[k]);
    unlink(p);
  }
  rmdir(dir);
}

int main(void) {
  char root[] = "/tmp/zz_test_growth_XXXXXX", d[3][64];
  if (!mkdtemp(root)) return 1;
  panel *p[3] = {NULL, NULL, NULL};
  panel_load_opts o = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  for (int k = 0; k < 3; k++) {
    snprintf(d[k], sizeof d[k], "%s/m%d", root, k);
    write_market(d[k], k == 1, k == 2);
    zz_err err = {0};
    if (panel_load(d[k], &o, &p[k], &err)) {
      fprintf(stderr, "%s\n", err.msg);
      zz_failures++;
    }
  }
  if (p[0] && p[1] && p[2]) {
    CHECK(p[0]->n_stocks == NS && p[0]->n_dates == ND);
    CHECK(tl_compare(p[0], p[1]) == 0);
    CHECK(tl_compare(p[0], p[2]) == 0);
    int bad = 0;
    char code[ZZ_CODE_LEN];
    for (int k = 1; k < NS; k++) bad += strcmp(p[0]->stocks[k - 1].code, p[0]->stocks[k].code) >= 0;
    CHECK(bad == 0);
    for (int i = 0; i < NS; i++) {
      code_of(i, code);
      int j = panel_find_stock(p[0], code);
      for (int t = 0; t < ND && j >= 0; t++) {
        double c = p[0]->f[PF_CLOSE][panel_at(p[0], t, j)];
        uint8_t fl = p[0]->flags[panel_at(p[0], t, j)];
        int first = (i % 11 == 0) ? 1 : 0; /* stocks whose first day has no row list one day later */
        if (t < first) bad += fl != 0;
        else if ((i + t) % 11 == 0) bad += !(fl & PANEL_SUSPENDED) || c != price_cents(i, t - 1) / 100.0;
        else bad += c != price_cents(i, t) / 100.0 || p[0]->f[PF_VOLUME][panel_at(p[0], t, j)] != 100.0 * (i + 1);
      }
      bad += j < 0;
    }
    CHECK(bad == 0);
  }
  for (int k = 0; k < 3; k++) {
    panel_free(p[k]);
    rm_market(d[k]);
  }
  rmdir(root);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  return zz_failures ? 1 : 0;
}
