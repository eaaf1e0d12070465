/* risk_style.c — CNE5 style exposures computed day by day over a panel.
 *
 * Rolling, exponentially weighted window sums are kept per stock and updated by the exact recursion
 * S_t = lambda S_{t-1} + v_t - lambda^W v_{t-W} (lambda = 0.5^(1/halflife), weight lambda^k for a
 * value k days old, window W days), so one day costs O(stocks) whatever the window. Plain windowed
 * sums (turnover, cumulative log returns, counts) come from a ring of cumulative sums.
 *
 * Descriptors (rf = 0, no risk-free series in the market directory):
 *   SIZE      ln(float cap)
 *   BETA      slope of the EW (hl 63, 252 d) regression of r_i on the cap-weighted market return R
 *   HSIGMA    EW std of that regression's residuals
 *   MOMENTUM  RSTR = sum_{k=L}^{L+T-1} lambda^(k-L) ln(1 + r_{t-k}), T 504, L 21, hl 126
 *   DASTD     EW (hl 42, 252 d) std of daily returns about their EW mean
 *   CMRA      max_T Z(T) - min_T Z(T), Z(T) = cumulative log return of the last 21 T days, T = 1..12
 *   RESVOL    0.74 DASTD + 0.16 CMRA + 0.10 HSIGMA (standardised descriptors)
 *   NLSIZE    SIZE^3 orthogonalised to SIZE (sqrt-cap weighted regression with intercept)
 *   LIQUIDITY 0.35 STOM + 0.35 STOQ + 0.30 STOA, STOM = ln sum_21 turnover, STOQ = ln(sum_63 / 3),
 *             STOA = ln(sum_252 / 12), turnover = volume * close / float cap
 *   BTOP      book equity / total cap;  EYIELD  net profit TTM / total cap
 *   GROWTH    0.5 SGRO + 0.5 EGRO: year-on-year change of revenue TTM / net profit TTM over |last year|
 *   LEVERAGE  0.38 MLEV + 0.35 DTOA + 0.27 BLEV with total liabilities as debt
 * A descriptor observed on fewer than min_obs_frac of its window's days is missing. Each descriptor
 * is standardised (winsorised at +-3 sigma: z = (x - capmean) / eqstd, clipped, standardised again);
 * composites average the available standardised descriptors with renormalised weights and are
 * standardised again; missing exposures are filled with their industry's median, and every factor
 * is finally standardised to cap-weighted mean 0, equal-weighted std 1 over the universe (stocks
 * listed with a positive float cap). */
#include "risk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const style_names[RISK_N_STYLES] = {
    "size", "beta", "momentum", "residual_volatility", "non_linear_size", "liquidity",
    "book_to_price", "earnings_yield", "growth", "leverage"};

const char *risk_style_name(int k) { return k >= 0 && k < RISK_N_STYLES ? style_names[k] : "?"; }

void risk_default_config(risk_config *c) {
  c->beta_window = 252;
  c->beta_halflife = 63;
  c->rstr_window = 504;
  c->rstr_lag = 21;
  c->rstr_halflife = 126;
  c->dastd_window = 252;
  c->dastd_halflife = 42;
  c->cmra_months = 12;
  c->month_days = 21;
  c->min_obs_frac = 0.25;
  c->winsor_sigma = 3.0;
  c->vol_halflife = 90;
  c->corr_halflife = 480;
  c->nw_lags = 10;
  c->huber_k = 1.345;
  c->huber_iters = 3;
  c->spec_halflife = 90;
  c->spec_nw_lags = 20;
  c->spec_min_days = 60;
  c->spec_full_days = 180;
  c->spec_shrink_q = 0.1;
  c->spec_vol_floor = 0.05;
  c->min_industry_eff = 5.0;
  c->cov_min_days = 63;
  c->annualise = 252;
  c->use_fundamentals = 1;
}

/* Descriptor slots (raw values before standardisation). */
enum { D_SIZE, D_BETA, D_RSTR, D_DASTD, D_CMRA, D_HSIGMA, D_STOM, D_STOQ, D_STOA, D_BTOP, D_EYIELD, D_SGRO,
       D_EGRO, D_MLEV, D_DTOA, D_BLEV, D_N };

/* Fundamental fields kept as of t and as of t - 1 year. */
enum { FU_BE, FU_NP, FU_REV, FU_TL, FU_TA, FU_N };
static const panel_fund_field fu_field[FU_N] = {PFUND_BOOK_EQUITY, PFUND_NET_PROFIT_TTM, PFUND_REVENUE_TTM,
                                                PFUND_TOTAL_LIABILITIES, PFUND_TOTAL_ASSETS};

struct risk_style_engine {
  const panel *p;
  risk_config cfg;
  int n, n_styles, fund;
  double lb, lb_w, ld, ld_w, lr, lr_w; /* lambdas and lambda^W */
  int min_beta, min_dastd, min_rstr, min_cmra, min_stom, min_stoq, min_stoa;
  double *mkt;                          /* n_dates cap-weighted market return */
  /* per-stock accumulators */
  double *bw, *bx, *by, *bxx, *bxy, *byy, *bn;
  double *dw, *dy, *dyy, *dn;
  double *rs, *rn;
  int ring; /* ring length (days + 1) */
  double *cum_x, *cum_tau, *cum_tr; /* ring x n: cumulative log return, turnover, traded days */
  double *run_x, *run_tau, *run_tr;  /* running totals */
  size_t *k_now, *k_lag;
  double *fu_now[FU_N], *fu_lag[FU_N];
  /* scratch */
  double *desc;   /* D_N x n */
  double *tmp, *buf;
  int *idx;
};

static inline double lam(double hl) { return hl > 0 ? pow(0.5, 1.0 / hl) : 1.0; }
static inline int min_obs(double frac, int w) {
  int m = (int)ceil(frac * w - 1e-9);
  return m < 1 ? 1 : m;
}

/* Return of stock i on day u (close u-1 to close u, adjusted); *m = usable for statistics
 * (finite, listed both days, not suspended on u); *x = ln(1 + r) or 0. */
static inline double day_ret(const panel *p, int u, int i, int *m, double *x) {
  *m = 0;
  *x = 0;
  if (u < 1 || u >= p->n_dates) return NAN;
  size_t a = panel_at(p, u, i), b = panel_at(p, u - 1, i);
  double c1 = p->f[PF_CLOSE][a], c0 = p->f[PF_CLOSE][b];
  double j1 = p->f[PF_ADJ] ? p->f[PF_ADJ][a] : 1, j0 = p->f[PF_ADJ] ? p->f[PF_ADJ][b] : 1;
  if (!isfinite(j1)) j1 = 1;
  if (!isfinite(j0)) j0 = 1;
  if (!(p->flags[a] & PANEL_LISTED) || !(p->flags[b] & PANEL_LISTED) || !(c1 > 0) || !(c0 > 0)) return NAN;
  double r = c1 * j1 / (c0 * j0) - 1;
  if (!isfinite(r) || r <= -1) return NAN;
  *x = log1p(r);
  *m = !(p->flags[a] & PANEL_SUSPENDED);
  return r;
}

double risk_day_ret(const panel *p, int u, int i, int *m, double *x) { return day_ret(p, u, i, m, x); }

static inline double day_turnover(const panel *p, int t, int i) {
  size_t a = panel_at(p, t, i);
  if (!(p->flags[a] & PANEL_LISTED) || (p->flags[a] & PANEL_SUSPENDED)) return NAN;
  double v = p->f[PF_VOLUME][a] * p->f[PF_CLOSE][a] / p->f[PF_FLOAT_MV][a];
  return isfinite(v) && v >= 0 ? v : NAN;
}

void risk_style_free(risk_style_engine *e) {
  if (!e) return;
  free(e->mkt);
  free(e->bw);
  free(e->cum_x);
  free(e->k_now);
  free(e->desc);
  free(e->idx);
  free(e);
}

int risk_style_count(const risk_style_engine *e) { return e->n_styles; }

int risk_style_create(const panel *p, const risk_config *cfg, risk_style_engine **out, zz_err *err) {
  *out = NULL;
  if (!p || !cfg || p->n_stocks <= 0 || p->n_dates <= 0)
    return zz_fail(err, ZZ_EUSAGE, "risk: empty panel");
  if (cfg->beta_window < 2 || cfg->rstr_window < 1 || cfg->rstr_lag < 0 || cfg->dastd_window < 2 ||
      cfg->cmra_months < 1 || cfg->month_days < 1 || !(cfg->min_obs_frac > 0 && cfg->min_obs_frac <= 1) ||
      cfg->winsor_sigma < 0)
    return zz_fail(err, ZZ_EUSAGE, "risk: invalid style parameters (windows must be >= 2 days, min_obs_frac in (0, 1])");
  risk_style_engine *e = calloc(1, sizeof *e);
  if (!e) return zz_fail(err, ZZ_ENOMEM, "risk: out of memory");
  e->p = p;
  e->cfg = *cfg;
  int n = e->n = p->n_stocks;
  e->fund = cfg->use_fundamentals && p->fund.n > 0 && p->fund.first && p->f[PF_TOTAL_MV];
  e->n_styles = e->fund ? RISK_N_STYLES : RISK_N_PRICE_STYLES;
  e->lb = lam(cfg->beta_halflife);
  e->lb_w = pow(e->lb, cfg->beta_window);
  e->ld = lam(cfg->dastd_halflife);
  e->ld_w = pow(e->ld, cfg->dastd_window);
  e->lr = lam(cfg->rstr_halflife);
  e->lr_w = pow(e->lr, cfg->rstr_window);
  e->min_beta = min_obs(cfg->min_obs_frac, cfg->beta_window);
  e->min_dastd = min_obs(cfg->min_obs_frac, cfg->dastd_window);
  e->min_rstr = min_obs(cfg->min_obs_frac, cfg->rstr_window);
  e->min_cmra = min_obs(cfg->min_obs_frac, cfg->cmra_months * cfg->month_days);
  e->min_stom = min_obs(cfg->min_obs_frac, cfg->month_days);
  e->min_stoq = min_obs(cfg->min_obs_frac, 3 * cfg->month_days);
  e->min_stoa = min_obs(cfg->min_obs_frac, 12 * cfg->month_days);
  int months = cfg->cmra_months > 12 ? cfg->cmra_months : 12;
  e->ring = months * cfg->month_days + 1;
  size_t N = (size_t)n;
  e->mkt = malloc((size_t)p->n_dates * sizeof(double));
  e->bw = calloc(N * 15, sizeof(double));
  e->cum_x = calloc(N * ((size_t)e->ring * 3 + 3), sizeof(double));
  e->k_now = malloc(N * 2 * sizeof(size_t));
  e->desc = calloc(N * (D_N + 3) + (size_t)FU_N * 2 * N, sizeof(double));
  e->idx = malloc((size_t)(p->n_industries + 2) * sizeof(int));
  if (!e->mkt || !e->bw || !e->cum_x || !e->k_now || !e->desc || !e->idx) {
    risk_style_free(e);
    return zz_fail(err, ZZ_ENOMEM, "risk: out of memory for style state (%d stocks)", n);
  }
  double *q = e->bw;
  e->bx = q += N; e->by = q += N; e->bxx = q += N; e->bxy = q += N; e->byy = q += N; e->bn = q += N;
  e->dw = q += N; e->dy = q += N; e->dyy = q += N; e->dn = q += N;
  e->rs = q += N; e->rn = q += N;
  e->cum_tau = e->cum_x + N * (size_t)e->ring;
  e->cum_tr = e->cum_tau + N * (size_t)e->ring;
  e->run_x = e->cum_tr + N * (size_t)e->ring;
  e->run_tau = e->run_x + N;
  e->run_tr = e->run_tau + N;
  e->k_lag = e->k_now + N;
  e->tmp = e->desc + N * D_N;
  e->buf = e->tmp + N;
  for (int f = 0; f < FU_N; f++) {
    e->fu_now[f] = e->buf + 2 * N + (size_t)f * 2 * N;
    e->fu_lag[f] = e->fu_now[f] + N;
    for (size_t i = 0; i < N; i++) e->fu_now[f][i] = e->fu_lag[f][i] = NAN;
  }
  for (int i = 0; i < n; i++) e->k_now[i] = e->k_lag[i] = e->fund ? p->fund.first[i] : 0;
  /* market return: cap-weighted (previous close float cap) over stocks with a return */
  e->mkt[0] = NAN;
  for (int u = 1; u < p->n_dates; u++) {
    double sw = 0, s = 0;
    for (int i = 0; i < n; i++) {
      int m;
      double x, r = day_ret(p, u, i, &m, &x), w = p->f[PF_FLOAT_MV][panel_at(p, u - 1, i)];
      if (isfinite(r) && w > 0 && isfinite(w)) {
        sw += w;
        s += w * r;
      }
    }
    e->mkt[u] = sw > 0 ? s / sw : NAN;
  }
  *out = e;
  return ZZ_OK;
}

/* z-scores over the universe: (x - cap mean) / equal std, optionally winsorised and re-standardised. */
static void standardise(int n, double *x, const double *cap, const uint8_t *univ, double wins) {
  for (int pass = 0; pass < (wins > 0 ? 2 : 1); pass++) {
    double sw = 0, swx = 0, s = 0, cnt = 0;
    for (int i = 0; i < n; i++)
      if (univ[i] && isfinite(x[i])) {
        sw += cap[i];
        swx += cap[i] * x[i];
        s += x[i];
        cnt++;
      }
    if (cnt < 1) return;
    double cm = swx / sw, em = s / cnt, ss = 0;
    for (int i = 0; i < n; i++)
      if (univ[i] && isfinite(x[i])) ss += (x[i] - em) * (x[i] - em);
    double sd = sqrt(ss / cnt);
    for (int i = 0; i < n; i++) {
      if (!univ[i]) {
        x[i] = NAN;
        continue;
      }
      if (!isfinite(x[i])) continue;
      double z = sd > 0 ? (x[i] - cm) / sd : 0.0;
      if (pass == 0 && wins > 0) z = z > wins ? wins : z < -wins ? -wins : z;
      x[i] = z;
    }
  }
}

/* Fills missing universe values with the median of their group's values (0 if the group has
 * none), then standardises (no winsorising). Returns the number filled. */
static long fill_and_standardise(int n, double *x, const double *cap, const uint8_t *univ, const int16_t *group,
                                 int n_groups, double *buf, int *idx) {
  long filled = 0;
  for (int g = 0; g < n_groups; g++) idx[g] = 0;
  for (int i = 0; i < n; i++)
    if (univ[i] && !isfinite(x[i])) idx[group[i]] = 1, filled++; /* groups needing a median */
  if (filled) {
    for (int g = 0; g < n_groups; g++) {
      if (!idx[g]) continue;
      int m = 0;
      for (int i = 0; i < n; i++)
        if (univ[i] && group[i] == g && isfinite(x[i])) buf[m++] = x[i];
      const double med = m > 0 ? risk_median(buf, m) : 0;
      for (int i = 0; i < n; i++)
        if (univ[i] && group[i] == g && !isfinite(x[i])) x[i] = med;
    }
  }
  standardise(n, x, cap, univ, 0);
  return filled;
}

/* Weighted combination of standardised descriptors, weights renormalised over those present. */
static void combine(int n, double *out, const uint8_t *univ, int k, const double *const *d, const double *w) {
  for (int i = 0; i < n; i++) {
    double s = 0, sw = 0;
    if (univ[i])
      for (int j = 0; j < k; j++)
        if (isfinite(d[j][i])) s += w[j] * d[j][i], sw += w[j];
    out[i] = sw > 0 ? s / sw : NAN;
  }
}

static void advance_fund(const panel *p, int i, size_t *k, int32_t ymd, double *const *vals) {
  const panel_fundamentals *F = &p->fund;
  while (*k < F->first[i + 1] && F->date[*k] <= ymd) {
    for (int f = 0; f < FU_N; f++) {
      double v = F->v[fu_field[f]] ? F->v[fu_field[f]][*k] : NAN;
      if (isfinite(v)) vals[f][i] = v;
    }
    (*k)++;
  }
}

int risk_style_step(risk_style_engine *e, int t, double *expo, uint8_t *univ, int16_t *group, long *filled,
                    zz_err *err) {
  const panel *p = e->p;
  const risk_config *c = &e->cfg;
  int n = e->n, S = e->n_styles, R = e->ring, md = c->month_days;
  if (t < 0 || t >= p->n_dates) return zz_fail(err, ZZ_EINTERNAL, "risk_style_step: date index %d out of range", t);
  const double *capt = p->f[PF_FLOAT_MV] + panel_at(p, t, 0);
  double *cap = e->buf; /* cap with non-finite -> 0 */
  double *D[D_N];
  for (int d = 0; d < D_N; d++) D[d] = e->desc + (size_t)d * n;
  int32_t ymd = p->dates[t];
  int32_t ymd_lag = zz_days_to_date(zz_date_to_days(ymd) - 365);
  double Rt = e->mkt[t];
  int tb = t - c->beta_window, td = t - c->dastd_window;
  int tr = t - c->rstr_lag, trw = tr - c->rstr_window;
  for (int i = 0; i < n; i++) {
    size_t a = panel_at(p, t, i);
    univ[i] = (p->flags[a] & PANEL_LISTED) && capt[i] > 0 && isfinite(capt[i]);
    cap[i] = univ[i] ? capt[i] : 0;
    int16_t ind = p->industry ? p->industry[a] : -1;
    group[i] = univ[i] ? (ind >= 0 && ind < p->n_industries ? ind : (int16_t)p->n_industries) : -1;
    int m;
    double x, r = day_ret(p, t, i, &m, &x);
    /* BETA / HSIGMA window */
    {
      int mb = m && isfinite(Rt);
      e->bw[i] *= e->lb, e->bx[i] *= e->lb, e->by[i] *= e->lb;
      e->bxx[i] *= e->lb, e->bxy[i] *= e->lb, e->byy[i] *= e->lb;
      if (mb) {
        e->bw[i] += 1, e->bx[i] += Rt, e->by[i] += r, e->bxx[i] += Rt * Rt, e->bxy[i] += Rt * r, e->byy[i] += r * r;
        e->bn[i] += 1;
      }
      int m0;
      double x0, r0 = day_ret(p, tb, i, &m0, &x0), R0 = tb >= 1 ? e->mkt[tb] : NAN;
      if (m0 && isfinite(R0)) {
        double L = e->lb_w;
        e->bw[i] -= L, e->bx[i] -= L * R0, e->by[i] -= L * r0, e->bxx[i] -= L * R0 * R0;
        e->bxy[i] -= L * R0 * r0, e->byy[i] -= L * r0 * r0;
        e->bn[i] -= 1;
      }
    }
    /* DASTD window */
    {
      e->dw[i] *= e->ld, e->dy[i] *= e->ld, e->dyy[i] *= e->ld;
      if (m) e->dw[i] += 1, e->dy[i] += r, e->dyy[i] += r * r, e->dn[i] += 1;
      int m0;
      double x0, r0 = day_ret(p, td, i, &m0, &x0);
      if (m0) {
        double L = e->ld_w;
        e->dw[i] -= L, e->dy[i] -= L * r0, e->dyy[i] -= L * r0 * r0, e->dn[i] -= 1;
      }
    }
    /* RSTR: EW window sum of log returns ending at t - lag */
    {
      int m1, m0;
      double x1, x0;
      day_ret(p, tr, i, &m1, &x1);
      day_ret(p, trw, i, &m0, &x0);
      e->rs[i] = e->lr * e->rs[i] + x1 - e->lr_w * x0;
      e->rn[i] += m1 - m0;
    }
    /* rings of cumulative sums */
    {
      double tau = day_turnover(p, t, i);
      e->run_x[i] += x;
      e->run_tau[i] += isfinite(tau) ? tau : 0;
      e->run_tr[i] += m;
      size_t s = (size_t)(t % R) * n + i;
      e->cum_x[s] = e->run_x[i];
      e->cum_tau[s] = e->run_tau[i];
      e->cum_tr[s] = e->run_tr[i];
    }
    if (e->fund) {
      advance_fund(p, i, &e->k_now[i], ymd, e->fu_now);
      advance_fund(p, i, &e->k_lag[i], ymd_lag, e->fu_lag);
    }
  }
#define BACK(arr, k) (t - (k) < 0 ? 0.0 : (arr)[(size_t)((t - (k)) % R) * n + i])
  /* raw descriptors */
  for (int i = 0; i < n; i++) {
    for (int d = 0; d < D_N; d++) D[d][i] = NAN;
    if (!univ[i]) continue;
    D[D_SIZE][i] = log(cap[i]);
    if (e->bn[i] >= e->min_beta) {
      double w = e->bw[i], sxx = e->bxx[i] - e->bx[i] * e->bx[i] / w, sxy = e->bxy[i] - e->bx[i] * e->by[i] / w;
      double syy = e->byy[i] - e->by[i] * e->by[i] / w;
      if (sxx > 0) {
        double b = sxy / sxx;
        D[D_BETA][i] = b;
        double v = (syy - b * sxy) / w;
        D[D_HSIGMA][i] = sqrt(v > 0 ? v : 0);
      }
    }
    if (e->rn[i] >= e->min_rstr) D[D_RSTR][i] = e->rs[i];
    if (e->dn[i] >= e->min_dastd) {
      double mu = e->dy[i] / e->dw[i], v = e->dyy[i] / e->dw[i] - mu * mu;
      D[D_DASTD][i] = sqrt(v > 0 ? v : 0);
    }
    double ctr = e->run_tr[i];
    if (ctr - BACK(e->cum_tr, c->cmra_months * md) >= e->min_cmra) {
      double zmax = -INFINITY, zmin = INFINITY;
      for (int T = 1; T <= c->cmra_months; T++) {
        double z = e->run_x[i] - BACK(e->cum_x, T * md);
        zmax = z > zmax ? z : zmax;
        zmin = z < zmin ? z : zmin;
      }
      D[D_CMRA][i] = zmax - zmin;
    }
    double ctau = e->run_tau[i];
    double s1 = ctau - BACK(e->cum_tau, md), s3 = ctau - BACK(e->cum_tau, 3 * md), s12 = ctau - BACK(e->cum_tau, 12 * md);
    if (ctr - BACK(e->cum_tr, md) >= e->min_stom && s1 > 0) D[D_STOM][i] = log(s1);
    if (ctr - BACK(e->cum_tr, 3 * md) >= e->min_stoq && s3 > 0) D[D_STOQ][i] = log(s3 / 3);
    if (ctr - BACK(e->cum_tr, 12 * md) >= e->min_stoa && s12 > 0) D[D_STOA][i] = log(s12 / 12);
    if (e->fund) {
      double me = p->f[PF_TOTAL_MV][panel_at(p, t, i)];
      if (!(me > 0)) me = cap[i];
      double be = e->fu_now[FU_BE][i], np = e->fu_now[FU_NP][i], rev = e->fu_now[FU_REV][i];
      double tl = e->fu_now[FU_TL][i], ta = e->fu_now[FU_TA][i];
      double rev1 = e->fu_lag[FU_REV][i], np1 = e->fu_lag[FU_NP][i];
      D[D_BTOP][i] = be / me;
      D[D_EYIELD][i] = np / me;
      if (isfinite(rev1) && rev1 != 0) D[D_SGRO][i] = (rev - rev1) / fabs(rev1);
      if (isfinite(np1) && np1 != 0) D[D_EGRO][i] = (np - np1) / fabs(np1);
      D[D_MLEV][i] = (me + tl) / me;
      if (ta > 0) D[D_DTOA][i] = tl / ta;
      if (be > 0) D[D_BLEV][i] = (be + tl) / be;
    }
  }
#undef BACK
  double ws = c->winsor_sigma;
  for (int d = 0; d < (e->fund ? D_N : D_BTOP); d++) standardise(n, D[d], cap, univ, ws);
  int G = p->n_industries + 1;
  double *x = e->tmp, *fb = e->buf + n; /* fb: median scratch (buf holds cap) */
  for (int k = 0; k < S; k++) {
    switch (k) {
    case RISK_SIZE: memcpy(x, D[D_SIZE], (size_t)n * sizeof *x); break;
    case RISK_BETA: memcpy(x, D[D_BETA], (size_t)n * sizeof *x); break;
    case RISK_MOMENTUM: memcpy(x, D[D_RSTR], (size_t)n * sizeof *x); break;
    case RISK_RESVOL: {
      const double *dd[3] = {D[D_DASTD], D[D_CMRA], D[D_HSIGMA]}, w[3] = {0.74, 0.16, 0.10};
      combine(n, x, univ, 3, dd, w);
      standardise(n, x, cap, univ, ws);
      break;
    }
    case RISK_NLSIZE: {
      /* cube of the final SIZE exposure, residual of a sqrt(cap)-weighted regression on [1, SIZE] */
      double sw = 0, ss = 0, sc = 0;
      for (int i = 0; i < n; i++)
        if (univ[i]) {
          double s = expo[(size_t)i * S + RISK_SIZE], w = sqrt(cap[i]);
          sw += w, ss += w * s, sc += w * s * s * s;
        }
      double ms = sw > 0 ? ss / sw : 0, mc = sw > 0 ? sc / sw : 0, sxy = 0, sxx = 0;
      for (int i = 0; i < n; i++)
        if (univ[i]) {
          double s = expo[(size_t)i * S + RISK_SIZE], w = sqrt(cap[i]);
          sxy += w * (s - ms) * (s * s * s - mc), sxx += w * (s - ms) * (s - ms);
        }
      double b = sxx > 0 ? sxy / sxx : 0;
      for (int i = 0; i < n; i++) {
        double s = univ[i] ? expo[(size_t)i * S + RISK_SIZE] : NAN;
        x[i] = univ[i] ? (s * s * s - mc) - b * (s - ms) : NAN;
      }
      standardise(n, x, cap, univ, ws);
      break;
    }
    case RISK_LIQUIDITY: {
      const double *dd[3] = {D[D_STOM], D[D_STOQ], D[D_STOA]}, w[3] = {0.35, 0.35, 0.30};
      combine(n, x, univ, 3, dd, w);
      standardise(n, x, cap, univ, ws);
      break;
    }
    case RISK_BTOP: memcpy(x, D[D_BTOP], (size_t)n * sizeof *x); break;
    case RISK_EYIELD: memcpy(x, D[D_EYIELD], (size_t)n * sizeof *x); break;
    case RISK_GROWTH: {
      const double *dd[2] = {D[D_SGRO], D[D_EGRO]}, w[2] = {0.5, 0.5};
      combine(n, x, univ, 2, dd, w);
      standardise(n, x, cap, univ, ws);
      break;
    }
    case RISK_LEVERAGE: {
      const double *dd[3] = {D[D_MLEV], D[D_DTOA], D[D_BLEV]}, w[3] = {0.38, 0.35, 0.27};
      combine(n, x, univ, 3, dd, w);
      standardise(n, x, cap, univ, ws);
      break;
    }
    }
    long nf = fill_and_standardise(n, x, cap, univ, group, G, fb, e->idx);
    if (filled) filled[k] += nf;
    for (int i = 0; i < n; i++) expo[(size_t)i * S + k] = x[i];
  }
  return ZZ_OK;
}

int risk_exposures_all(const panel *p, const risk_config *cfg, double *out, int *n_styles, zz_err *err) {
  risk_style_engine *e;
  int rc = risk_style_create(p, cfg, &e, err);
  if (rc) return rc;
  int S = e->n_styles;
  *n_styles = S;
  uint8_t *univ = malloc((size_t)p->n_stocks);
  int16_t *grp = malloc((size_t)p->n_stocks * sizeof *grp);
  if (!univ || !grp) rc = zz_fail(err, ZZ_ENOMEM, "risk: out of memory");
  for (int t = 0; !rc && t < p->n_dates; t++)
    rc = risk_style_step(e, t, out + (size_t)t * p->n_stocks * S, univ, grp, NULL, err);
  free(univ);
  free(grp);
  risk_style_free(e);
  return rc;
}
