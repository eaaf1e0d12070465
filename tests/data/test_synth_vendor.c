/* test_synth_vendor.c — `zhizeng synth --vendor` (synth_vendor_opts) writes the market that public
 * vendor data gives, and ingest takes it. Checked from the files and the ingested panel, not from the
 * generator: the industry coverage share, the one-stock industries (CSI300 members), no
 * fundamentals.csv, bars.csv without adj_factor / vwap and without rows on suspended days, index
 * weights only on the first day and at month ends, the long suspensions of members that stay in the
 * weights, CSI300's largest weight above max_weight on the first date, and the price index below the
 * total-return index by the dividends the members paid. */
#include "data/synth_vendor_lib.h"

#include <sys/stat.h>
#include <time.h>

static int month_of(int32_t ymd) { return ymd / 100 % 100; }

/* The date index of each row of an index_bars-style file for index k: closes[t], NaN where absent. */
static void read_closes(const panel *p, const char *dir, const char *name, int k, double *closes) {
  for (int t = 0; t < p->n_dates; t++) closes[t] = NAN;
  char **d = NULL, **ix = NULL, **c = NULL;
  const int n = sv_read_column(dir, name, "date", &d), ni = sv_read_column(dir, name, "index", &ix),
            nc = sv_read_column(dir, name, "close", &c);
  CHECK(n > 0 && ni == n && nc == n);
  if (n <= 0 || ni != n || nc != n) return;
  for (int r = 0; r < n; r++) {
    int32_t ymd;
    if (zz_index_parse(ix[r]) != k || zz_date_parse(d[r], &ymd)) continue;
    const int t = panel_find_date(p, ymd);
    if (t >= 0) closes[t] = strtod(c[r], NULL);
  }
  sv_free_column(d, n);
  sv_free_column(ix, n);
  sv_free_column(c, n);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
    return 2;
  }
  char dir[4096];
  mkdir(argv[1], 0777);
  snprintf(dir, sizeof dir, "%s/vendor", argv[1]);
  synth_opts o;
  synth_default_opts(&o);
  o.n_stocks = 1900;
  o.start = 20170101;
  o.end = 20180630;
  o.seed = 7;
  o.oracle_paths = 1; /* the oracle is not under test here */
  synth_vendor_opts(&o);
  CHECK(o.industry_coverage == 0.12 && o.singleton_industries == 2 && o.no_fundamentals && o.vendor_bars &&
        o.weights == SYNTH_WEIGHTS_MONTHLY && o.long_suspensions == 3 && o.max_weight == 0.067 &&
        o.index_kind == SYNTH_INDEX_PRICE);
  zz_err err = {0, ""};
  synth_report rep;
  struct timespec c0, c1;
  clock_gettime(CLOCK_MONOTONIC, &c0);
  if (synth_write(dir, &o, &rep, &err)) {
    fprintf(stderr, "synth_write: %s\n", err.msg);
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &c1);
  printf("vendor market written in %.1f s\n", (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec));

  /* files and columns */
  {
    char path[8192];
    snprintf(path, sizeof path, "%s/fundamentals.csv", dir);
    FILE *f = fopen(path, "rb");
    CHECK(!f);
    if (f) fclose(f);
    CHECK(!sv_has_column(dir, "bars.csv", "adj_factor") && !sv_has_column(dir, "bars.csv", "vwap"));
    CHECK(sv_has_column(dir, "bars.csv", "pre_close") && sv_has_column(dir, "bars.csv", "float_mv") &&
          sv_has_column(dir, "bars.csv", "total_mv"));
    /* every row is a trading bar: never suspended=1, always some volume */
    char **susp, **vol;
    const int n = sv_read_column(dir, "bars.csv", "suspended", &susp);
    CHECK(n > 600000 && sv_read_column(dir, "bars.csv", "volume", &vol) == n);
    long bad = 0;
    for (int r = 0; r < n; r++) bad += strcmp(susp[r], "0") != 0 || !(strtod(vol[r], NULL) > 0);
    CHECK(bad == 0);
    sv_free_column(susp, n);
    sv_free_column(vol, n);
  }

  /* industry.csv names round(0.12 N) stocks */
  {
    char **codes;
    const int n = sv_read_column(dir, "industry.csv", "code", &codes);
    int distinct = 0;
    for (int r = 0; r < n; r++) distinct += r == 0 || strcmp(codes[r], codes[r - 1]) != 0; /* rows grouped by code */
    printf("industry.csv: %d rows, %d stocks\n", n, distinct);
    CHECK(distinct == 228);
    sv_free_column(codes, n);
  }

  /* the vendor's record of what was done to whom */
  char **kind, **vcode, **vfrom, **vto, **vdetail;
  const int nv = sv_read_column(dir, "truth/vendor.csv", "kind", &kind);
  CHECK(nv == 6 && sv_read_column(dir, "truth/vendor.csv", "code", &vcode) == nv &&
        sv_read_column(dir, "truth/vendor.csv", "start_date", &vfrom) == nv &&
        sv_read_column(dir, "truth/vendor.csv", "end_date", &vto) == nv &&
        sv_read_column(dir, "truth/vendor.csv", "detail", &vdetail) == nv);
  if (nv != 6) return 1;

  panel_load_opts lo = {.cache_path = NULL, .use_cache = 0, .verbose = 0};
  panel *p = NULL;
  if (panel_load(dir, &lo, &p, &err)) {
    fprintf(stderr, "panel_load: %s\n", err.msg);
    return 1;
  }
  const int nd = p->n_dates, ns = p->n_stocks;
  CHECK(p->fund.n == 0);

  /* coverage: the panel's unclassified stocks (industry -1 on every date) */
  {
    int classified = 0;
    for (int i = 0; i < ns; i++) {
      int any = 0;
      for (int t = 0; t < nd && !any; t++) any = p->industry[panel_at(p, t, i)] >= 0;
      classified += any;
    }
    printf("classified: %d of %d stocks (%.3f)\n", classified, ns, (double)classified / ns);
    CHECK(fabs((double)classified / ns - 0.12) < 0.01);
  }

  /* singleton industries: one listed stock each on every date, a CSI300 member in every snapshot */
  {
    int found = 0;
    for (int g = 0; g < p->n_industries; g++) {
      if (strncmp(p->industry_names[g], "Singleton", 9)) continue;
      found++;
      int who = -1, bad = 0;
      for (int t = 0; t < nd; t++) {
        int c = 0;
        for (int i = 0; i < ns; i++)
          if ((p->flags[panel_at(p, t, i)] & PANEL_LISTED) && p->industry[panel_at(p, t, i)] == g) c++, who = i;
        bad += c != 1;
      }
      CHECK(bad == 0 && who >= 0);
      if (who < 0) continue;
      int in_vendor = 0;
      for (int r = 0; r < nv; r++)
        in_vendor += !strcmp(kind[r], "singleton_industry") && !strcmp(vcode[r], p->stocks[who].code);
      CHECK(in_vendor == 1);
      const panel_index *I = &p->index[PANEL_CSI300];
      int member = 0;
      for (int s = 0; s < I->n_snap; s++)
        for (size_t k = I->snap_first[s]; k < I->snap_first[s + 1]; k++) member += I->member[k] == who && I->weight[k] > 0;
      printf("%s: %s, a CSI300 member in %d of %d snapshots\n", p->industry_names[g], p->stocks[who].code, member,
             I->n_snap);
      CHECK(member == I->n_snap);
    }
    CHECK(found == 2);
  }

  /* suspended days have no row, hence no float_mv (no fundamentals to fall back on) */
  {
    long susp = 0, bad = 0;
    for (int t = 0; t < nd; t++)
      for (int i = 0; i < ns; i++) {
        const size_t a = panel_at(p, t, i);
        const uint8_t fl = p->flags[a];
        if (!(fl & PANEL_LISTED)) continue;
        if (fl & PANEL_SUSPENDED) {
          susp++;
          bad += (fl & PANEL_HAS_BAR) || !isnan(p->f[PF_FLOAT_MV][a]);
        } else {
          bad += !(fl & PANEL_HAS_BAR) || !(p->f[PF_FLOAT_MV][a] > 0);
        }
      }
    printf("suspended stock-days: %ld\n", susp);
    CHECK(susp > 3 * 30 && bad == 0);
  }

  /* weights: the first day, then exactly the month ends of the calendar */
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    const panel_index *I = &p->index[k];
    int s = 0, bad = 0;
    for (int t = 0; t < nd; t++) {
      const int want = t == 0 || t == nd - 1 || month_of(p->dates[t + 1]) != month_of(p->dates[t]);
      const int have = s < I->n_snap && I->snap_t[s] == t;
      bad += want != have;
      s += have;
    }
    CHECK(I->present && bad == 0 && s == I->n_snap && I->n_snap == 19);
  }

  /* long suspensions: 30-80 days without a bar inside the period, a member in every snapshot meanwhile */
  {
    int found = 0;
    for (int r = 0; r < nv; r++) {
      if (strcmp(kind[r], "long_suspension")) continue;
      found++;
      int32_t d0 = 0, d1 = 0;
      CHECK(!zz_date_parse(vfrom[r], &d0) && !zz_date_parse(vto[r], &d1));
      const int i = panel_find_stock(p, vcode[r]), t0 = panel_find_date(p, d0), t1 = panel_find_date(p, d1);
      CHECK(i >= 0 && t0 > 0 && t1 < nd - 1 && t1 - t0 + 1 >= 30 && t1 - t0 + 1 <= 80);
      if (i < 0 || t0 <= 0 || t1 >= nd - 1) continue;
      int bars = 0;
      for (int t = t0; t <= t1; t++) bars += (p->flags[panel_at(p, t, i)] & PANEL_HAS_BAR) != 0;
      CHECK(bars == 0);
      CHECK((p->flags[panel_at(p, t0 - 1, i)] & PANEL_HAS_BAR) && (p->flags[panel_at(p, t1 + 1, i)] & PANEL_HAS_BAR));
      int snaps = 0, member = 0;
      for (int k = PANEL_CSI300; k <= PANEL_CSI500; k++) {
        const panel_index *I = &p->index[k];
        for (int s = 0; s < I->n_snap; s++) {
          if (I->snap_t[s] < t0 || I->snap_t[s] > t1) continue;
          if (k == PANEL_CSI300) snaps++;
          for (size_t q = I->snap_first[s]; q < I->snap_first[s + 1]; q++) member += I->member[q] == i && I->weight[q] > 0;
        }
      }
      printf("long suspension %s %s .. %s (%d days): a member in %d of %d snapshots\n", vcode[r], vfrom[r], vto[r],
             t1 - t0 + 1, member, snaps);
      CHECK(snaps >= 1 && member == snaps);
    }
    CHECK(found == 3);
  }

  /* the benchmark heavyweight */
  {
    double *w = calloc((size_t)ns, sizeof *w);
    CHECK(panel_index_weights(p, PANEL_CSI300, 0, w, NULL) == 300);
    int big = 0;
    for (int i = 1; i < ns; i++)
      if (w[i] > w[big]) big = i;
    printf("CSI300 on %d: largest weight %.4f (%s)\n", (int)p->dates[0], w[big], p->stocks[big].code);
    CHECK(w[big] > 0.067 && fabs(w[big] - rep.csi300_max_weight) < 1e-9);
    int in_vendor = 0;
    for (int r = 0; r < nv; r++) in_vendor += !strcmp(kind[r], "max_weight") && !strcmp(vcode[r], p->stocks[big].code);
    CHECK(in_vendor == 1);
    free(w);
  }

  /* price index vs total return over 2017: the gap is the dividend yield the members paid, estimated
   * as sum_t sum_i w_i (r_i,t - r^p_i,t) with the month-end weights in force (hence "roughly") */
  {
    double *P = malloc((size_t)nd * sizeof *P), *T = malloc((size_t)nd * sizeof *T), *w = malloc((size_t)ns * sizeof *w);
    int tb = 0;
    while (tb + 1 < nd && p->dates[tb + 1] <= 20171231) tb++;
    for (int k = 0; k < PANEL_N_INDEX; k++) {
      for (int t = 0; t < nd; t++) P[t] = p->index[k].close[t];
      read_closes(p, dir, "truth/index_total_return.csv", k, T);
      double est = 0;
      int bad = 0;
      for (int t = 1; t <= tb; t++) {
        panel_index_weights(p, k, t - 1, w, NULL);
        for (int i = 0; i < ns; i++) {
          if (w[i] == 0) continue;
          const double r = panel_return(p, t, i);
          if (isfinite(r)) est += w[i] * (r - sv_price_return(p, t, i, &bad));
        }
      }
      const double gap = log(T[tb] / T[0]) - log(P[tb] / P[0]);
      printf("%s 2017: total %.4f, price %.4f, gap %.4f, members' dividends %.4f\n", zz_index_name(k),
             T[tb] / T[0] - 1, P[tb] / P[0] - 1, gap, est);
      CHECK(bad == 0);
      CHECK(T[tb] / T[0] > P[tb] / P[0]);
      CHECK(est > 0.004 && est < 0.03 && fabs(gap - est) < 0.15 * est);
    }
    free(P);
    free(T);
    free(w);
  }

  sv_free_column(kind, nv);
  sv_free_column(vcode, nv);
  sv_free_column(vfrom, nv);
  sv_free_column(vto, nv);
  sv_free_column(vdetail, nv);
  panel_free(p);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  else printf("synth --vendor: all checks passed\n");
  return zz_failures ? 1 : 0;
}
