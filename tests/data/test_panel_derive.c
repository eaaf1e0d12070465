/* Hand-computed derivations of SPEC 2.1 on a 3-stock, 5-day market, and the panel accessors.
 * Every expected number below is worked out in the comments from the CSV text. */
#include "data/panel_testlib.h"

#include <unistd.h>

static char dir[64];

static void write_market(void) {
  char p[128];
  snprintf(p, sizeof p, "%s/index_bars.csv", dir);
  write_file(p, "date,index,close\n2020-08-20,000300,4000\n2020-08-21,000300,4010\n2020-08-24,000300,4020\n"
                "2020-08-25,000300,4030\n2020-08-26,000300,4040\n2020-08-26,csi500,6000\n");
  snprintf(p, sizeof p, "%s/stocks.csv", dir);
  write_file(p, "code,name,board,list_date,delist_date\n600000.SH,PF Bank,main,1999-11-10,\n"
                "300001.SZ,Tecsun,chinext,2009-10-30,\n600001.SH,ST Handan,main,1998-01-22,2020-08-26\n");
  snprintf(p, sizeof p, "%s/bars.csv", dir);
  write_file(p,
             "date,code,open,high,low,close,volume,amount,pre_close,is_st,suspended\n"
             "2020-08-20,600000.SH,10,10.5,9.9,10.2,1000,10250,,0,0\n"
             "2020-08-21,600000.SH,10.3,11.22,10.2,11.22,2000,22000,,0,0\n"
             "2020-08-24,600000.SH,10.1,10.6,9.9,10.5,1500,15600,10.00,0,0\n"
             "2020-08-26,600000.SH,10.6,11.55,10.5,11.55,1000,11300,,0,0\n"
             "2020-08-21,sz300001,19,20.5,18.5,20,100,2000,,0,0\n"
             "2020-08-24,300001.SZ,20,24,20,24,100,2300,,0,0\n"
             "2020-08-25,300001.SZ,23,24,19.2,19.2,100,2100,,0,0\n"
             "2020-08-26,300001.SZ,,,,,0,0,,0,1\n"
             "2020-08-20,600001.SH,5,5.1,4.9,5,100,500,,1,0\n"
             "2020-08-21,600001.SH,5,5,4.75,4.75,100,480,,1,0\n");
  snprintf(p, sizeof p, "%s/index_weights.csv", dir);
  write_file(p, "date,index,code,weight\n2020-08-20,000300,600000.SH,0.7\n2020-08-20,000300,600001.SH,0.3\n"
                "2020-08-24,000300,600000.SH,50\n2020-08-24,000300,300001.SZ,50\n");
  snprintf(p, sizeof p, "%s/industry.csv", dir);
  write_file(p, "code,industry,start_date,end_date\n600000.SH,Banks,2010-01-01,\n"
                "300001.SZ,Machinery,,2020-08-24\n300001.SZ,Electronics,2020-08-25,\n"
                "600001.SH,,,\n600001.SH, Unclassified ,2020-01-01,\n"); /* vendor: no industry */
  snprintf(p, sizeof p, "%s/fundamentals.csv", dir);
  write_file(p, "date,code,float_shares,total_shares\n2020-01-01,600000.SH,,2000\n2020-08-21,600000.SH,1000,\n");
}

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/zz_test_derive_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  write_market();
  panel_load_opts o = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  panel *p = NULL;
  zz_err err = {0};
  if (panel_load(dir, &o, &p, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  CHECK(p->n_dates == 5 && p->n_stocks == 3);
  /* stocks sorted by code: 300001.SZ, 600000.SH, 600001.SH */
  int a = panel_find_stock(p, "600000.SH"), c = panel_find_stock(p, "sz.300001"), s = panel_find_stock(p, "SH600001");
  CHECK(c == 0 && a == 1 && s == 2);
  CHECK(p->stocks[c].board == BOARD_CHINEXT && p->stocks[s].delist_date == 20200826);
  CHECK(panel_find_date(p, 20200824) == 2 && panel_find_date(p, 20200822) == -1);
  CHECK(panel_date_at_or_before(p, 20200823) == 1 && panel_date_at_or_before(p, 20200101) == -1);
#define F(k, t, i) p->f[k][panel_at(p, t, i)]
#define FL(t, i) p->flags[panel_at(p, t, i)]
  /* 600000.SH, main board 10 % */
  CHECK(F(PF_VWAP, 0, a) == 10.25);                       /* 10250 / 1000 */
  CHECK(isnan(F(PF_PRE_CLOSE, 0, a)) && isnan(F(PF_UP_LIMIT, 0, a)));
  CHECK(F(PF_PRE_CLOSE, 1, a) == 10.2);                   /* previous close */
  CHECK(F(PF_UP_LIMIT, 1, a) == 11.22 && F(PF_DOWN_LIMIT, 1, a) == 9.18); /* 10.2 * 1.1, 10.2 * 0.9 */
  CHECK(FL(1, a) & PANEL_LIMIT_UP);
  CHECK(F(PF_ADJ, 0, a) == 1 && F(PF_ADJ, 1, a) == 1);
  CHECK(F(PF_PRE_CLOSE, 2, a) == 10.0 && F(PF_UP_LIMIT, 2, a) == 11.0 && F(PF_DOWN_LIMIT, 2, a) == 9.0);
  CHECK(NEAR(F(PF_ADJ, 2, a), 1.122));                    /* ex-rights: 11.22 / 10.00 */
  CHECK(NEAR(panel_return(p, 2, a), 0.05));               /* 10.5 / 10.00 - 1 */
  /* 2020-08-25: no row -> suspended, last close carried, no volume */
  CHECK((FL(3, a) & (PANEL_SUSPENDED | PANEL_LISTED | PANEL_HAS_BAR)) == (PANEL_SUSPENDED | PANEL_LISTED));
  CHECK(F(PF_CLOSE, 3, a) == 10.5 && F(PF_OPEN, 3, a) == 10.5 && F(PF_VOLUME, 3, a) == 0 && F(PF_AMOUNT, 3, a) == 0);
  CHECK(panel_return(p, 3, a) == 0);
  CHECK(NEAR(F(PF_ADJ, 3, a), 1.122) && NEAR(F(PF_ADJ, 4, a), 1.122));
  CHECK(F(PF_PRE_CLOSE, 4, a) == 10.5 && F(PF_UP_LIMIT, 4, a) == 11.55); /* 10.5 * 1.1 */
  CHECK(FL(4, a) & PANEL_LIMIT_UP);
  CHECK(!(FL(2, a) & (PANEL_LIMIT_UP | PANEL_LIMIT_DOWN)));
  /* market caps from fundamentals: float shares from 2020-08-21, total shares from 2020-01-01 */
  CHECK(isnan(F(PF_FLOAT_MV, 0, a)) && F(PF_FLOAT_MV, 1, a) == 1000 * 11.22 && F(PF_FLOAT_MV, 3, a) == 1000 * 10.5);
  CHECK(F(PF_TOTAL_MV, 0, a) == 2000 * 10.2 && F(PF_TOTAL_MV, 1, a) == 2000 * 11.22);
  CHECK(panel_fund_asof(p, PFUND_TOTAL_SHARES, a, 20200825) == 2000); /* skips the later empty value */
  CHECK(isnan(panel_fund_asof(p, PFUND_FLOAT_SHARES, a, 20200820)));
  CHECK(panel_fund_asof(p, PFUND_FLOAT_SHARES, a, 20200821) == 1000);
  /* 300001.SZ, ChiNext: first bar 2020-08-21 (before: unlisted, NaN), 20 % from 2020-08-24 */
  CHECK(FL(0, c) == 0 && isnan(F(PF_CLOSE, 0, c)));
  CHECK(isnan(panel_return(p, 1, c)));
  CHECK(isnan(F(PF_UP_LIMIT, 1, c)));
  CHECK(F(PF_UP_LIMIT, 2, c) == 24 && F(PF_DOWN_LIMIT, 2, c) == 16 && (FL(2, c) & PANEL_LIMIT_UP));
  CHECK(F(PF_UP_LIMIT, 3, c) == 28.8 && F(PF_DOWN_LIMIT, 3, c) == 19.2 && (FL(3, c) & PANEL_LIMIT_DOWN));
  /* suspended=1 row on 2020-08-26: close 19.2 carried, limits 19.2 * 1.2 = 23.04 and * 0.8 = 15.36 */
  CHECK((FL(4, c) & (PANEL_SUSPENDED | PANEL_HAS_BAR)) == (PANEL_SUSPENDED | PANEL_HAS_BAR));
  CHECK(F(PF_CLOSE, 4, c) == 19.2 && F(PF_VWAP, 4, c) == 19.2 && F(PF_UP_LIMIT, 4, c) == 23.04 &&
        F(PF_DOWN_LIMIT, 4, c) == 15.36);
  CHECK(!(FL(4, c) & (PANEL_LIMIT_UP | PANEL_LIMIT_DOWN)));
  /* 600001.SH, ST 5 %, delisted 2020-08-26 with its last bar on 2020-08-21 */
  CHECK((FL(1, s) & PANEL_ST) && F(PF_UP_LIMIT, 1, s) == 5.25 && F(PF_DOWN_LIMIT, 1, s) == 4.75);
  CHECK(FL(1, s) & PANEL_LIMIT_DOWN);
  CHECK(FL(2, s) == 0 && isnan(F(PF_CLOSE, 2, s)) && isnan(panel_return(p, 2, s)));
  /* index weights: fractions on 08-20, percent on 08-24 stored as fractions */
  double w[3];
  uint8_t mem[3];
  CHECK(panel_index_weights(p, PANEL_CSI300, 1, w, mem) == 2);
  CHECK(w[a] == 0.7 && w[s] == 0.3 && w[c] == 0 && mem[a] && !mem[c]);
  CHECK(panel_index_snapshot(p, PANEL_CSI300, 4) == 1);
  CHECK(panel_index_weights(p, PANEL_CSI300, 4, w, NULL) == 2 && w[a] == 0.5 && w[c] == 0.5 && w[s] == 0);
  CHECK(panel_index_weights(p, PANEL_CSI500, 4, w, NULL) == 0);
  CHECK(p->index[PANEL_CSI500].present && isnan(p->index[PANEL_CSI500].close[0]) &&
        p->index[PANEL_CSI500].close[4] == 6000);
  CHECK(p->index[PANEL_CSI300].close[2] == 4020 && !p->index[PANEL_CSI1000].present);
  /* industries, sorted names: Banks 0, Electronics 1, Machinery 2; 600001.SH unclassified (an empty
   * industry and the literal 'unclassified' are no industry, not a fourth one) */
  CHECK(p->n_industries == 3 && !strcmp(p->industry_names[1], "Electronics"));
  CHECK(p->industry[panel_at(p, 0, a)] == 0 && p->industry[panel_at(p, 2, c)] == 2 &&
        p->industry[panel_at(p, 3, c)] == 1 && p->industry[panel_at(p, 0, s)] == -1);
  /* week ends: Fri 2020-08-21 and the last day */
  int we[5];
  CHECK(panel_week_ends(p, we) == 2 && we[0] == 1 && we[1] == 4);
  CHECK(!strcmp(panel_field_name(PF_ADJ), "adj_factor"));
  /* summary: 11 listed stock-days (5 + 4 + 2), 2 suspended; limit-up 3, limit-down 2 */
  char buf[4096] = "";
  FILE *mf = fmemopen(buf, sizeof buf - 1, "w");
  if (mf) {
    panel_print_summary(p, mf);
    fclose(mf);
  }
  CHECK_CONTAINS(buf, "2020-08-20 .. 2020-08-26 (5 trading days)");
  CHECK_CONTAINS(buf, "11 listed, 2 suspended (18.18 %)");
  CHECK_CONTAINS(buf, "3 limit-up, 2 limit-down");
  CHECK_CONTAINS(buf, "members 2 on 2020-08-20, 2 on 2020-08-26");
  panel_free(p);
  const char *files[] = {"index_bars.csv", "stocks.csv", "bars.csv", "index_weights.csv", "industry.csv", "fundamentals.csv"};
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
    char q[128];
    snprintf(q, sizeof q, "%s/%s", dir, files[k]);
    unlink(q);
  }
  rmdir(dir);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  return zz_failures ? 1 : 0;
}
