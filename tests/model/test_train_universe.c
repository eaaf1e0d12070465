/* test_train_universe.c — the universe screen (data.h) in the model stage, on the training tests' hand-built
 * panel (test_train_common.h) with an is_st column: stock 5 is ST in spring 2017 (training period) and in
 * May-June 2019 (scoring year); the last stock lists on day T/3 without a list_date, so its first 59 trading
 * days are out.
 *   - labels: NaN on every ineligible stock-day; on sampled dates equal, to 1e-9, to an independent
 *     reference written here: the T+1 -> T+11 adjusted return, OLS on 3 industry dummies and log float cap
 *     over the eligible, listed, non-suspended stocks (normal equations solved by Gaussian elimination),
 *     residuals z-scored with the population std;
 *   - training: the default screen and "keep everything" give different models (the screen reaches the
 *     labels of train_year);
 *   - scores: no row for an ineligible stock-day; with the screen off (score_write_ex with
 *     exclude_st = 0, min_listed_days = 0) the ST days are scored, and the default file's rows are exactly
 *     those rows minus the ineligible stock-days; each date's default scores have mean 0, std 1.
 * usage: test_train_universe TMPDIR */
#include "model.h"
#include "test_train_common.h"

static int fails = 0;

enum { N_STOCKS = 30, ST_STOCK = 5 };

static char *read_all(const char *path) {
  size_t n = 0;
  unsigned char *b = tt_slurp(path, &n);
  if (b) b[n] = 0;
  return (char *)b;
}

/* the eligibility of (t, i) by the rules, written out for this panel */
static int hand_eligible(const panel *p, int t, int i, int st_lo, int st_hi, int st2_lo, int st2_hi) {
  const int T = p->n_dates, late = N_STOCKS - 1;
  if (!(p->flags[panel_at(p, t, i)] & PANEL_LISTED)) return 0;
  if (i == ST_STOCK && ((t >= st_lo && t <= st_hi) || (t >= st2_lo && t <= st2_hi))) return 0;
  if (i == late && t - T / 3 + 1 < 60) return 0; /* listed on day T/3 = its day 1 */
  return 1;
}

/* Solves the k x k system a x = b in place (partial pivoting); 0 on success. */
static int solve(double *a, double *b, int k) {
  for (int c = 0; c < k; c++) {
    int piv = c;
    for (int r = c + 1; r < k; r++)
      if (fabs(a[r * k + c]) > fabs(a[piv * k + c])) piv = r;
    if (fabs(a[piv * k + c]) < 1e-12) return -1;
    for (int j = 0; j < k; j++) {
      const double tmp = a[c * k + j];
      a[c * k + j] = a[piv * k + j], a[piv * k + j] = tmp;
    }
    const double tb = b[c];
    b[c] = b[piv], b[piv] = tb;
    for (int r = 0; r < k; r++) {
      if (r == c) continue;
      const double f = a[r * k + c] / a[c * k + c];
      for (int j = 0; j < k; j++) a[r * k + j] -= f * a[c * k + j];
      b[r] -= f * b[c];
    }
  }
  for (int c = 0; c < k; c++) b[c] /= a[c * k + c];
  return 0;
}

/* reference labels of date t into ref[n] (NaN outside the cross-section); returns its size */
static int ref_labels(const panel *p, int t, const uint8_t *ok_hand, double *ref) {
  const int N = p->n_stocks;
  double yv[N_STOCKS], X[N_STOCKS][4];
  int rows[N_STOCKS], m = 0;
  for (int i = 0; i < N; i++) {
    ref[i] = NAN;
    if (!ok_hand[i] || t + 11 >= p->n_dates) continue;
    const size_t k = panel_at(p, t, i), a = panel_at(p, t + 1, i), b = panel_at(p, t + 11, i);
    if (p->flags[k] & PANEL_SUSPENDED) continue;
    if (!(p->flags[a] & PANEL_LISTED) || !(p->flags[b] & PANEL_LISTED)) continue;
    const double r = p->f[PF_CLOSE][b] * p->f[PF_ADJ][b] / (p->f[PF_CLOSE][a] * p->f[PF_ADJ][a]) - 1;
    const double cap = p->f[PF_FLOAT_MV][k];
    if (!isfinite(r) || !(cap > 0)) continue;
    for (int g = 0; g < 3; g++) X[m][g] = p->industry[k] == g;
    X[m][3] = log(cap);
    yv[m] = r;
    rows[m++] = i;
  }
  double A[16] = {0}, c[4] = {0};
  for (int r = 0; r < m; r++)
    for (int u = 0; u < 4; u++) {
      c[u] += X[r][u] * yv[r];
      for (int v = 0; v < 4; v++) A[u * 4 + v] += X[r][u] * X[r][v];
    }
  if (m < 5 || solve(A, c, 4)) return 0;
  double res[N_STOCKS], mean = 0, ss = 0;
  for (int r = 0; r < m; r++) {
    double fit = 0;
    for (int u = 0; u < 4; u++) fit += X[r][u] * c[u];
    res[r] = yv[r] - fit;
    mean += res[r] / m;
  }
  for (int r = 0; r < m; r++) ss += (res[r] - mean) * (res[r] - mean);
  const double sd = sqrt(ss / m);
  for (int r = 0; r < m; r++) ref[rows[r]] = (res[r] - mean) / sd;
  return m;
}

/* "date,code" keys of a scores file's rows (after the header) into keys; returns the count */
static int score_keys(char *text, char (*keys)[32], int cap, double *vals) {
  int n = 0;
  char *save = NULL;
  char *line = strtok_r(text, "\n", &save); /* header */
  for (line = strtok_r(NULL, "\n", &save); line && n < cap; line = strtok_r(NULL, "\n", &save)) {
    const char *c2 = strchr(line, ',');
    const char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
    if (!c3) continue;
    snprintf(keys[n], 32, "%.*s", (int)(c3 - line), line);
    if (vals) vals[n] = strtod(c3 + 1, NULL);
    n++;
  }
  return n;
}

static int has_key(char (*keys)[32], int n, const char *k) {
  for (int j = 0; j < n; j++)
    if (!strcmp(keys[j], k)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  const char *tmp = argc > 1 ? argv[1] : ".";
  panel *p = tt_panel(2016, 2019, N_STOCKS, 11);
  const int T = p->n_dates, N = p->n_stocks, late = N - 1;
  p->has_is_st = 1;
  const int st_lo = panel_date_at_or_before(p, 20170301) + 1, st_hi = panel_date_at_or_before(p, 20170630);
  const int st2_lo = panel_date_at_or_before(p, 20190430) + 1, st2_hi = panel_date_at_or_before(p, 20190628);
  for (int t = st_lo; t <= st_hi; t++) p->flags[panel_at(p, t, ST_STOCK)] |= PANEL_ST;
  for (int t = st2_lo; t <= st2_hi; t++) p->flags[panel_at(p, t, ST_STOCK)] |= PANEL_ST;
  TT_CHECK(p->stocks[late].list_date == 0 && (p->flags[panel_at(p, T / 3, late)] & PANEL_LISTED) &&
               !(p->flags[panel_at(p, T / 3 - 1, late)] & PANEL_LISTED),
           "the late listing starts on day T/3");

  /* ---- labels */
  const size_t nn = (size_t)T * N;
  uint8_t *elig = malloc(nn), *ok = malloc((size_t)N);
  double *y = malloc(nn * sizeof *y), *y_all = malloc(nn * sizeof *y_all), ref[N_STOCKS];
  zz_err err = {0};
  panel_st_source src;
  TT_CHECK(panel_universe_mask(p, NULL, elig, &src, &err) == ZZ_OK && src == PANEL_ST_BY_FLAG, "mask: %s", err.msg);
  TT_CHECK(label_compute(p, LABEL_SKIP, LABEL_HORIZON, elig, y, &err) == ZZ_OK, "labels: %s", err.msg);
  TT_CHECK(label_compute(p, LABEL_SKIP, LABEL_HORIZON, NULL, y_all, &err) == ZZ_OK, "labels: %s", err.msg);
  int n_out = 0, n_checked = 0, n_dates_checked = 0, n_differ = 0;
  for (int t = 0; t < T; t++)
    for (int i = 0; i < N; i++)
      if (!hand_eligible(p, t, i, st_lo, st_hi, st2_lo, st2_hi)) {
        n_out++;
        TT_CHECK(isnan(y[panel_at(p, t, i)]), "label of ineligible (%d, %d) = %g", t, i, y[panel_at(p, t, i)]);
      }
  /* sampled dates: inside both ST spells, inside the late listing's first 59 days, and ordinary days */
  const int samples[] = {st_lo, st_lo + 7, st_hi, T / 3, T / 3 + 30, T / 3 + 58, T / 3 + 59, 100, 600, st2_lo + 3, T - 40};
  for (size_t q = 0; q < sizeof samples / sizeof samples[0]; q++) {
    const int t = samples[q];
    for (int i = 0; i < N; i++) ok[i] = (uint8_t)hand_eligible(p, t, i, st_lo, st_hi, st2_lo, st2_hi);
    const int m = ref_labels(p, t, ok, ref);
    TT_CHECK(m >= 20, "date %d: only %d stocks in the reference cross-section", t, m);
    n_dates_checked++;
    int differs = 0;
    for (int i = 0; i < N; i++) {
      const double got = y[panel_at(p, t, i)];
      TT_CHECK(isnan(got) == isnan(ref[i]) && (isnan(got) || fabs(got - ref[i]) < 1e-9),
               "label (%d, %d): %.17g, reference %.17g", t, i, got, ref[i]);
      n_checked += !isnan(ref[i]);
      differs |= !(fabs(y_all[panel_at(p, t, i)] - got) < 1e-12) && !isnan(got);
    }
    n_differ += differs;
  }
  TT_CHECK(n_differ >= 5, "the screen changed the labels of only %d sampled dates", n_differ);
  TT_CHECK(n_out > 200, "only %d ineligible stock-days", n_out);

  /* ---- training: the screen reaches train_year */
  train_opts o;
  train_default_opts(&o);
  TT_CHECK(o.universe.exclude_st == 1 && o.universe.min_listed_days == 60, "train_default_opts' universe");
  o.seq = 10, o.net.hidden = 8, o.epochs = 2, o.patience = 2, o.seeds = 1, o.train_years = 2;
  char da[4096], db[4096], ma[4300], mb[4300];
  snprintf(da, sizeof da, "%s/univ_default", tmp);
  snprintf(db, sizeof db, "%s/univ_all", tmp);
  tt_clean_dir(da), tt_clean_dir(db);
  int stopped = 0;
  TT_CHECK(train_year(p, &o, 2019, da, &stopped, &err) == ZZ_OK, "train (default screen): %s", err.msg);
  train_opts o_all = o;
  o_all.universe.exclude_st = 0, o_all.universe.min_listed_days = 0;
  TT_CHECK(train_year(p, &o_all, 2019, db, &stopped, &err) == ZZ_OK, "train (no screen): %s", err.msg);
  snprintf(ma, sizeof ma, "%s/Y2019_seed0.zzm", da);
  snprintf(mb, sizeof mb, "%s/Y2019_seed0.zzm", db);
  TT_CHECK(!tt_same_file(ma, mb), "the universe screen did not change the training");

  /* ---- scores */
  char sa[4200], sb[4200];
  snprintf(sa, sizeof sa, "%s/univ_scores_default.csv", tmp);
  snprintf(sb, sizeof sb, "%s/univ_scores_all.csv", tmp);
  panel_universe_opts keep;
  panel_universe_init(&keep);
  keep.exclude_st = 0, keep.min_listed_days = 0;
  TT_CHECK(score_write(p, da, 2019, 2019, 0, sa, &err) == ZZ_OK, "score: %s", err.msg);
  TT_CHECK(score_write_ex(p, da, 2019, 2019, 0, 1, &keep, sb, &err) == ZZ_OK, "score (no screen): %s", err.msg);
  char *ta = read_all(sa), *tb = read_all(sb);
  TT_CHECK(ta && tb, "score files");
  if (ta && tb) {
    const int cap = 400 * N_STOCKS;
    char(*ka)[32] = malloc((size_t)cap * 32), (*kb)[32] = malloc((size_t)cap * 32);
    double *va = malloc((size_t)cap * sizeof *va);
    const int na = score_keys(ta, ka, cap, va), nb = score_keys(tb, kb, cap, NULL);
    int st_rows = 0, expected = 0;
    for (int j = 0; j < nb; j++) {
      int32_t ymd = 0;
      char day[11], code[ZZ_CODE_LEN];
      snprintf(day, sizeof day, "%.10s", kb[j]);
      snprintf(code, sizeof code, "%s", kb[j] + 11);
      TT_CHECK(zz_date_parse(day, &ymd) == 0, "date of row %s", kb[j]);
      const int t = panel_find_date(p, ymd), i = panel_find_stock(p, code);
      TT_CHECK(t >= 0 && i >= 0, "row %s: unknown date or code", kb[j]);
      if (t < 0 || i < 0) continue;
      const int e = hand_eligible(p, t, i, st_lo, st_hi, st2_lo, st2_hi);
      st_rows += i == ST_STOCK && !e;
      expected += e;
      TT_CHECK(has_key(ka, na, kb[j]) == e, "row %s: in the default file %d, eligible %d", kb[j], has_key(ka, na, kb[j]),
               e);
    }
    TT_CHECK(st_rows >= 30, "only %d ST stock-days scored without the screen", st_rows);
    TT_CHECK(na == expected && na > 0, "default file: %d rows, expected %d", na, expected);
    /* per-date mean 0, std 1 over the eligible stocks */
    for (int j = 0; j < na;) {
      int k = j;
      double s = 0, s2 = 0;
      while (k < na && !strncmp(ka[k], ka[j], 10)) s += va[k], s2 += va[k] * va[k], k++;
      const double mean = s / (k - j), var = s2 / (k - j) - mean * mean;
      TT_CHECK(fabs(mean) < 1e-9 && fabs(var - 1) < 1e-9, "%.10s: mean %g var %g", ka[j], mean, var);
      j = k;
    }
    free(ka), free(kb), free(va);
  }
  free(ta), free(tb);
  free(elig), free(ok), free(y), free(y_all);
  panel_free(p);
  if (fails) fprintf(stderr, "%d failure(s)\n", fails);
  else printf("universe screen in labels, training and scores: %d ineligible stock-days, %d labels on %d dates "
              "checked against the reference\n", n_out, n_checked, n_dates_checked);
  return fails ? 1 : 0;
}
