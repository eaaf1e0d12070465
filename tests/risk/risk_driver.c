/* risk_driver.c — runs risk/ functions on CSV inputs written by the Python reference scripts in this
 * folder and writes their outputs as CSV, so that the references stay independent of the C code.
 *
 *   risk_driver neutralise IN.csv N_INDUSTRIES OUT.csv
 *       IN: y,valid,industry,log_cap (empty y / log_cap = NaN); OUT: resid (one row per input row)
 *   risk_driver wls IN.csv N_STYLES N_GROUPS OUT.csv [HUBER_K ITERS]
 *       IN: ret,cap,group,s0..; OUT: value = K factor returns, then R^2, then n residuals
 *       (risk_wls, or risk_wls_robust when HUBER_K and ITERS are given)
 *   risk_driver cov IN.csv VOL_HL CORR_HL LAGS OUT.csv
 *       IN: T x K factor returns (header f0..); OUT: K x K annualised covariance (252), then repairs
 *   risk_driver styles DIR OUT.csv [key=value ...]
 *       DIR: dates.csv, close.csv, adj.csv, volume.csv, float_mv.csv, total_mv.csv, industry.csv,
 *       listed.csv, suspended.csv (T x n matrices, header s0..), optional fund.csv
 *       (stock,date,book_equity,net_profit_ttm,revenue_ttm,total_liabilities,total_assets);
 *       keys: risk_config fields; OUT: t,i,<style names> for listed stocks
 *   risk_driver model DIR OUT.csv [key=value ...]
 *       the whole model (risk_model_build, every date an output date) on the same DIR; OUT:
 *       t,i,group,carried,spec_ret,spec_var,<styles> per stock-date with in_universe, OUT.fret:
 *       t,<factor returns>,n_thin_groups; OUT.te: t,i,j,te = risk_model_te of the active weights
 *       +1 on carried stock i and -1 on the first non-carried universe stock j, at dates with a
 *       covariance; OUT.cov: t,<K x K covariance> at those dates
 *   risk_driver shrink IN.csv OUT.csv [key=value ...]
 *       risk_specific_shrink on IN: sigma_hat,n_obs,in_universe,carried,cap (in this order; empty
 *       sigma_hat = NaN); OUT: value = n sigmas (empty = NaN), then n_short, n_blend, n_full,
 *       n_floored, n_fallback
 */
#include "data.h"
#include "risk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_column(const char *path, const char *name, const double *v, int n, zz_err *err) {
  FILE *f = fopen(path, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot open for writing", path);
  fprintf(f, "%s\n", name);
  char buf[40];
  for (int i = 0; i < n; i++) fprintf(f, "%s\n", isfinite(v[i]) ? zz_fmt_double(buf, sizeof buf, v[i]) : "nan");
  return fclose(f) ? zz_fail(err, ZZ_EIO, "%s: write failed", path) : ZZ_OK;
}

static int run_neutralise(const char *in, int n_ind, const char *out, zz_err *err) {
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, in, err);
  if (rc) return rc;
  static const char *const c_y[] = {"y", NULL}, *const c_v[] = {"valid", NULL}, *const c_i[] = {"industry", NULL},
                           *const c_x[] = {"log_cap", NULL};
  int cy = zz_csv_require(r, c_y, err), cv = cy < 0 ? -1 : zz_csv_require(r, c_v, err);
  int ci = cv < 0 ? -1 : zz_csv_require(r, c_i, err), cx = ci < 0 ? -1 : zz_csv_require(r, c_x, err);
  if (cx < 0) {
    zz_csv_close(r);
    return err->code;
  }
  int cap = 0, n = 0;
  double *y = NULL, *x = NULL;
  uint8_t *valid = NULL;
  int16_t *ind = NULL;
  while ((rc = zz_csv_next(r, err)) == 1) {
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      y = realloc(y, (size_t)cap * sizeof *y);
      x = realloc(x, (size_t)cap * sizeof *x);
      valid = realloc(valid, (size_t)cap);
      ind = realloc(ind, (size_t)cap * sizeof *ind);
      if (!y || !x || !valid || !ind) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
    }
    double v, g;
    if ((rc = zz_csv_double(r, cy, 1, &y[n], err)) || (rc = zz_csv_double(r, cx, 1, &x[n], err)) ||
        (rc = zz_csv_double(r, cv, 0, &v, err)) || (rc = zz_csv_double(r, ci, 0, &g, err)))
      break;
    valid[n] = v != 0;
    ind[n] = (int16_t)g;
    n++;
  }
  zz_csv_close(r);
  double *res = rc < 0 || rc > 1 ? NULL : malloc((size_t)(n ? n : 1) * sizeof *res);
  if (rc == 0 && res) {
    rc = risk_neutralise(n, y, valid, ind, n_ind, x, res, err);
    if (!rc) rc = write_column(out, "resid", res, n, err);
  } else if (rc == 0) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  free(res);
  free(y);
  free(x);
  free(valid);
  free(ind);
  return rc < 0 ? -rc : rc;
}

/* Reads a numeric CSV (header + rows) into a malloc'ed row-major matrix. */
static int read_matrix(const char *path, int *rows, int *cols, double **out, zz_err *err) {
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  int nc = zz_csv_ncols(r), cap = 0, nr = 0;
  double *v = NULL;
  while ((rc = zz_csv_next(r, err)) == 1) {
    if (nr == cap) {
      cap = cap ? 2 * cap : 64;
      double *nv = realloc(v, (size_t)cap * nc * sizeof *v);
      if (!nv) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      v = nv;
    }
    rc = 0;
    for (int c = 0; c < nc && !rc; c++) rc = zz_csv_double(r, c, 1, &v[(size_t)nr * nc + c], err);
    if (rc) break;
    nr++;
  }
  zz_csv_close(r);
  if (rc < 0) rc = -rc;
  if (rc) {
    free(v);
    return rc;
  }
  *rows = nr, *cols = nc, *out = v;
  return ZZ_OK;
}

static int run_wls(const char *in, int S, int G, double hk, int iters, const char *out, zz_err *err) {
  int nr, nc;
  double *m;
  int rc = read_matrix(in, &nr, &nc, &m, err);
  if (rc) return rc;
  if (nc != 3 + S) {
    free(m);
    return zz_fail(err, ZZ_EDATA, "%s: expected %d columns", in, 3 + S);
  }
  int K = S + G + 1;
  double *ret = malloc(sizeof(double) * (size_t)nr * (3 + S) + sizeof(double) * (size_t)(K + 1 + nr));
  int16_t *g = malloc(sizeof *g * (size_t)(nr + 1));
  double *cap = ret + nr, *st = cap + nr, *o = st + (size_t)nr * S;
  for (int i = 0; i < nr; i++) {
    ret[i] = m[(size_t)i * nc];
    cap[i] = m[(size_t)i * nc + 1];
    g[i] = (int16_t)m[(size_t)i * nc + 2];
    for (int k = 0; k < S; k++) st[(size_t)i * S + k] = m[(size_t)i * nc + 3 + k];
  }
  rc = iters < 0 ? risk_wls(nr, S, G, ret, cap, g, st, o, o + K + 1, o + K, err)
                 : risk_wls_robust(nr, S, G, ret, cap, g, st, hk, iters, o, o + K + 1, o + K, err);
  if (!rc) rc = write_column(out, "value", o, K + 1 + nr, err);
  free(ret);
  free(g);
  free(m);
  return rc;
}

static int run_cov(const char *in, double hv, double hc, int lags, const char *out, zz_err *err) {
  int T, K;
  double *f;
  int rc = read_matrix(in, &T, &K, &f, err);
  if (rc) return rc;
  risk_config c;
  risk_default_config(&c);
  c.vol_halflife = hv, c.corr_halflife = hc, c.nw_lags = lags;
  double *cov = malloc(sizeof *cov * ((size_t)K * K + 1));
  int nrep = 0;
  rc = risk_factor_cov(T, K, f, &c, cov, &nrep, err);
  cov[(size_t)K * K] = nrep;
  if (!rc) rc = write_column(out, "value", cov, K * K + 1, err);
  free(cov);
  free(f);
  return rc;
}

static int set_key(risk_config *c, const char *kv, zz_err *err) {
  const char *eq = strchr(kv, '=');
  if (!eq) return zz_fail(err, ZZ_EUSAGE, "expected key=value, found '%s'", kv);
  double v = atof(eq + 1);
  size_t L = (size_t)(eq - kv);
#define K_(name, conv)                                                                                            \
  if (L == strlen(#name) && !strncmp(kv, #name, L)) {                                                           \
    c->name = conv v;                                                                                            \
    return 0;                                                                                                    \
  }
  K_(beta_window, (int)) K_(beta_halflife, ) K_(rstr_window, (int)) K_(rstr_lag, (int)) K_(rstr_halflife, )
  K_(dastd_window, (int)) K_(dastd_halflife, ) K_(cmra_months, (int)) K_(month_days, (int)) K_(min_obs_frac, )
  K_(winsor_sigma, ) K_(use_fundamentals, (int)) K_(huber_k, ) K_(huber_iters, (int)) K_(spec_halflife, )
  K_(spec_nw_lags, (int)) K_(spec_min_days, (int)) K_(spec_full_days, (int)) K_(spec_shrink_q, )
  K_(spec_vol_floor, ) K_(min_industry_eff, ) K_(cov_min_days, (int))
#undef K_
  return zz_fail(err, ZZ_EUSAGE, "unknown key '%s'", kv);
}

/* Reads a panel directory (see the header) into p; mat[9] holds the matrices p points into. */
static int load_dir(const char *dir, panel *p, double *mat[9], zz_err *err) {
  static const char *const files[] = {"close", "adj", "volume", "float_mv", "total_mv", "industry", "listed",
                                      "suspended", "dates"};
  int T = 0, n = 0, rc = ZZ_OK;
  char path[4096];
  memset(p, 0, sizeof *p);
  for (int k = 0; k < 9 && !rc; k++) {
    int r, c;
    snprintf(path, sizeof path, "%s/%s.csv", dir, files[k]);
    rc = read_matrix(path, &r, &c, &mat[k], err);
    if (!rc && k == 0) T = r, n = c;
    if (!rc && k < 8 && (r != T || c != n)) rc = zz_fail(err, ZZ_EDATA, "%s: expected %d x %d", path, T, n);
  }
  int n_ind = 0;
  if (!rc) {
    p->n_dates = T, p->n_stocks = n;
    p->dates = malloc(sizeof *p->dates * (size_t)T);
    p->flags = calloc((size_t)T * n, 1);
    p->industry = malloc(sizeof *p->industry * (size_t)T * n);
    for (int t = 0; t < T; t++) p->dates[t] = (int32_t)mat[8][t];
    p->f[PF_CLOSE] = mat[0], p->f[PF_ADJ] = mat[1], p->f[PF_VOLUME] = mat[2], p->f[PF_FLOAT_MV] = mat[3];
    p->f[PF_TOTAL_MV] = mat[4];
    for (size_t q = 0; q < (size_t)T * n; q++) {
      p->industry[q] = (int16_t)mat[5][q];
      if (p->industry[q] + 1 > n_ind) n_ind = p->industry[q] + 1;
      p->flags[q] = (mat[6][q] != 0 ? PANEL_LISTED : 0) | (mat[7][q] != 0 ? PANEL_SUSPENDED : 0);
    }
    p->n_industries = n_ind;
    p->industry_names = calloc((size_t)n_ind + 1, sizeof *p->industry_names);
    for (int g = 0; g < n_ind; g++) snprintf(p->industry_names[g], sizeof p->industry_names[g], "ind%d", g);
    snprintf(path, sizeof path, "%s/fund.csv", dir);
    FILE *probe = fopen(path, "r");
    if (probe) {
      fclose(probe);
      int r, c;
      double *fm;
      rc = read_matrix(path, &r, &c, &fm, err);
      if (!rc) {
        p->fund.n = (size_t)r;
        p->fund.stock = malloc(sizeof(int32_t) * (size_t)(r + 1));
        p->fund.date = malloc(sizeof(int32_t) * (size_t)(r + 1));
        p->fund.first = calloc((size_t)n + 1, sizeof(size_t));
        static const panel_fund_field cols[5] = {PFUND_BOOK_EQUITY, PFUND_NET_PROFIT_TTM, PFUND_REVENUE_TTM,
                                                 PFUND_TOTAL_LIABILITIES, PFUND_TOTAL_ASSETS};
        for (int k = 0; k < 5; k++) p->fund.v[cols[k]] = malloc(sizeof(double) * (size_t)(r + 1));
        for (int j = 0; j < r; j++) { /* rows sorted by (stock, date) by the writer */
          p->fund.stock[j] = (int32_t)fm[(size_t)j * c];
          p->fund.date[j] = (int32_t)fm[(size_t)j * c + 1];
          for (int k = 0; k < 5; k++) p->fund.v[cols[k]][j] = fm[(size_t)j * c + 2 + k];
          p->fund.first[p->fund.stock[j] + 1]++;
        }
        for (int i = 0; i < n; i++) p->fund.first[i + 1] += p->fund.first[i];
        free(fm);
      }
    }
  }
  return rc;
}

static void free_dir(panel *p, double *mat[9]) {
  free(p->dates);
  free(p->flags);
  free(p->industry);
  free(p->industry_names);
  free(p->fund.stock);
  free(p->fund.date);
  free(p->fund.first);
  for (int k = 0; k < PFUND_N_FIELDS; k++) free(p->fund.v[k]);
  for (int k = 0; k < 9; k++) free(mat[k]);
}

static int run_styles(const char *dir, const char *out, int nkv, char **kv, zz_err *err) {
  double *mat[9] = {0};
  panel p;
  risk_config cfg;
  risk_default_config(&cfg);
  int rc = ZZ_OK;
  for (int k = 0; k < nkv && !rc; k++) rc = set_key(&cfg, kv[k], err);
  if (!rc) rc = load_dir(dir, &p, mat, err);
  else memset(&p, 0, sizeof p);
  int T = p.n_dates, n = p.n_stocks, S = 0;
  double *expo = NULL;
  if (!rc) {
    expo = malloc(sizeof *expo * (size_t)T * n * RISK_N_STYLES);
    rc = risk_exposures_all(&p, &cfg, expo, &S, err);
  }
  if (!rc) {
    FILE *f = fopen(out, "w");
    if (!f) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", out);
    else {
      fprintf(f, "t,i");
      for (int k = 0; k < S; k++) fprintf(f, ",%s", risk_style_name(k));
      fprintf(f, "\n");
      char b[40];
      for (int t = 0; t < T; t++)
        for (int i = 0; i < n; i++) {
          if (!(p.flags[(size_t)t * n + i] & PANEL_LISTED)) continue;
          fprintf(f, "%d,%d", t, i);
          for (int k = 0; k < S; k++) {
            double v = expo[((size_t)t * n + i) * S + k];
            fprintf(f, ",%s", isfinite(v) ? zz_fmt_double(b, sizeof b, v) : "nan");
          }
          fprintf(f, "\n");
        }
      fclose(f);
    }
  }
  free(expo);
  free_dir(&p, mat);
  return rc;
}

/* risk_specific_shrink on one CSV cross-section (see the header). */
static int run_shrink(const char *in, const char *out, int nkv, char **kv, zz_err *err) {
  risk_config cfg;
  risk_default_config(&cfg);
  int rc = ZZ_OK;
  for (int k = 0; k < nkv && !rc; k++) rc = set_key(&cfg, kv[k], err);
  if (rc) return rc;
  int n, nc;
  double *mat;
  if ((rc = read_matrix(in, &n, &nc, &mat, err))) return rc;
  if (nc != 5) {
    free(mat);
    return zz_fail(err, ZZ_EDATA, "%s: expected 5 columns (sigma_hat,n_obs,in_universe,carried,cap)", in);
  }
  size_t N = (size_t)(n ? n : 1);
  double *sh = malloc(sizeof *sh * N * 3 + sizeof *sh * 5), *cap = sh ? sh + N : NULL, *o = sh ? cap + N : NULL;
  int *h = malloc(sizeof *h * N);
  uint8_t *u = malloc(N * 2);
  if (!sh || !h || !u) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (int i = 0; !rc && i < n; i++) {
    const double *r = mat + (size_t)i * nc;
    sh[i] = r[0], h[i] = (int)r[1], u[i] = r[2] != 0, u[N + i] = r[3] != 0, cap[i] = r[4];
  }
  risk_shrink_stats st;
  if (!rc) rc = risk_specific_shrink(n, sh, h, cap, u, u + N, &cfg, o, &st, err);
  if (!rc) {
    double *tail = o + n;
    tail[0] = st.n_short, tail[1] = st.n_blend, tail[2] = st.n_full, tail[3] = st.n_floored, tail[4] = st.n_fallback;
    rc = write_column(out, "value", o, n + 5, err);
  }
  free(sh);
  free(h);
  free(u);
  free(mat);
  return rc;
}

/* The whole model on a panel directory with every date an output date: OUT gets
 * t,i,group,carried,spec_ret,spec_var,<styles> for every stock-date with in_universe (spec_var
 * annualised; empty fields are NaN), OUT.fret gets t,<factor returns>,n_thin_groups for every
 * date, OUT.te and OUT.cov the tracking errors of carried stocks and the covariances they use. */
static int run_model(const char *dir, const char *out, int nkv, char **kv, zz_err *err) {
  double *mat[9] = {0};
  panel p;
  risk_config cfg;
  risk_default_config(&cfg);
  int rc = ZZ_OK;
  for (int k = 0; k < nkv && !rc; k++) rc = set_key(&cfg, kv[k], err);
  if (!rc) rc = load_dir(dir, &p, mat, err);
  else memset(&p, 0, sizeof p);
  int T = p.n_dates, n = p.n_stocks;
  int *ot = NULL;
  risk_model *m = NULL;
  if (!rc) {
    ot = malloc(sizeof *ot * (size_t)T);
    if (!ot) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    for (int t = 0; !rc && t < T; t++) ot[t] = t;
  }
  if (!rc) rc = risk_model_build(&p, &cfg, ot, T, &m, err);
  if (!rc) {
    char path[4096], b[40];
    FILE *f = fopen(out, "w");
    snprintf(path, sizeof path, "%s.fret", out);
    FILE *g = fopen(path, "w");
    snprintf(path, sizeof path, "%s.te", out);
    FILE *ft = fopen(path, "w");
    snprintf(path, sizeof path, "%s.cov", out);
    FILE *fc = fopen(path, "w");
    if (!f || !g || !ft || !fc) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", out);
    const double *sr = risk_model_specific_returns(m), *fr = risk_model_factor_returns(m);
    int K = risk_model_n_factors(m);
    double *act = calloc((size_t)n + 1, sizeof *act);
    if (!rc && !act) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    if (!rc) fprintf(ft, "t,i,j,te\n");
    for (int t = 0; !rc && t < T; t++) {
      risk_snapshot s;
      if ((rc = risk_model_snapshot(m, t, &s, err))) break;
      if (t == 0) {
        fprintf(f, "t,i,group,carried,spec_ret,spec_var");
        for (int k = 0; k < s.n_styles; k++) fprintf(f, ",%s", risk_style_name(k));
        fprintf(f, "\n");
        fprintf(g, "t");
        for (int k = 0; k < K; k++) fprintf(g, ",%s", risk_model_factor_name(m, k));
        fprintf(g, ",n_thin\n");
      }
      fprintf(g, "%d", t);
      for (int k = 0; k < K; k++) fprintf(g, ",%s", zz_fmt_double(b, sizeof b, fr[(size_t)t * K + k]));
      fprintf(g, ",%d\n", s.n_thin_groups);
      int j0 = -1, any = 0;
      for (int i = 0; i < n; i++) {
        if (s.in_universe[i] && !s.carried[i] && j0 < 0) j0 = i;
        any |= s.carried[i];
      }
      if (any && s.cov_ready && j0 >= 0) {
        fprintf(fc, "%d", t);
        for (int k = 0; k < K * K; k++) fprintf(fc, ",%s", zz_fmt_double(b, sizeof b, s.factor_cov[k]));
        fprintf(fc, "\n");
        for (int i = 0; i < n; i++) {
          if (!s.carried[i]) continue;
          act[i] = 1, act[j0] = -1;
          fprintf(ft, "%d,%d,%d,%s\n", t, i, j0, zz_fmt_double(b, sizeof b, risk_model_te(m, t, act)));
          act[i] = 0, act[j0] = 0;
        }
      }
      for (int i = 0; i < n; i++) {
        if (!s.in_universe[i]) continue;
        double e = sr[(size_t)t * n + i], v = s.specific_var[i];
        fprintf(f, "%d,%d,%d,%d,", t, i, s.group[i], s.carried[i]);
        fprintf(f, "%s,", isfinite(e) ? zz_fmt_double(b, sizeof b, e) : "nan");
        fprintf(f, "%s", isfinite(v) ? zz_fmt_double(b, sizeof b, v) : "nan");
        for (int k = 0; k < s.n_styles; k++) fprintf(f, ",%s", zz_fmt_double(b, sizeof b, s.style[(size_t)i * s.n_styles + k]));
        fprintf(f, "\n");
      }
    }
    if (f && fclose(f) && !rc) rc = zz_fail(err, ZZ_EIO, "%s: write failed", out);
    if (g && fclose(g) && !rc) rc = zz_fail(err, ZZ_EIO, "%s.fret: write failed", out);
    if (ft && fclose(ft) && !rc) rc = zz_fail(err, ZZ_EIO, "%s.te: write failed", out);
    if (fc && fclose(fc) && !rc) rc = zz_fail(err, ZZ_EIO, "%s.cov: write failed", out);
    free(act);
  }
  risk_model_free(m);
  free(ot);
  free_dir(&p, mat);
  return rc;
}

int main(int argc, char **argv) {
  zz_err err = {0};
  int rc;
  if (argc == 5 && !strcmp(argv[1], "neutralise")) {
    rc = run_neutralise(argv[2], atoi(argv[3]), argv[4], &err);
  } else if (argc == 6 && !strcmp(argv[1], "wls")) {
    rc = run_wls(argv[2], atoi(argv[3]), atoi(argv[4]), 0.0, -1, argv[5], &err);
  } else if (argc == 8 && !strcmp(argv[1], "wls")) {
    rc = run_wls(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[6]), atoi(argv[7]), argv[5], &err);
  } else if (argc == 7 && !strcmp(argv[1], "cov")) {
    rc = run_cov(argv[2], atof(argv[3]), atof(argv[4]), atoi(argv[5]), argv[6], &err);
  } else if (argc >= 4 && !strcmp(argv[1], "styles")) {
    rc = run_styles(argv[2], argv[3], argc - 4, argv + 4, &err);
  } else if (argc >= 4 && !strcmp(argv[1], "model")) {
    rc = run_model(argv[2], argv[3], argc - 4, argv + 4, &err);
  } else if (argc >= 4 && !strcmp(argv[1], "shrink")) {
    rc = run_shrink(argv[2], argv[3], argc - 4, argv + 4, &err);
  } else {
    fprintf(stderr, "usage: risk_driver neutralise|wls|cov|styles|model|shrink ... (see the file's header)\n");
    return 2;
  }
  if (rc) fprintf(stderr, "risk_driver: %s\n", err.msg);
  return rc;
}
