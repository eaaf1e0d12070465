/* risk_model.c — the risk model over a panel: exposures day by day, a constrained Huber-robust WLS
 * each day (returns of day t on exposures at the close of t-1, weights sqrt float cap of t-1, thin
 * industry groups left out), factor covariance (EW, Newey-West) and specific risk (EW, Newey-West over
 * spec_nw_lags by overlapping sums, then shrunk towards size-decile means, risk_specific.c) at the
 * requested output dates from data up to that date only.
 *
 * Stocks that leave the universe while staying listed (vendor data give a suspended stock no bar,
 * hence no float cap) are carried at the output dates with the exposures of their last universe day:
 * dropping them would drop them from the benchmark in the optimiser. Their exposures are saved on the
 * day they leave (the previous day's row), so carrying costs O(stocks leaving) per day. */
#include "risk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct risk_model {
  risk_config cfg;
  int n_dates, n_stocks, S, G, K, n_out;
  int32_t *dates;
  char (*names)[64];
  double *fret, *r2, *spec_ret;
  int *nreg;
  int *out_t, *cov_ready, *n_thin;
  double *o_style, *o_cov, *o_spec;
  int16_t *o_group;
  uint8_t *o_univ, *o_carried;
  risk_stats st;
};

void risk_model_free(risk_model *m) {
  if (!m) return;
  free(m->dates);
  free(m->names);
  free(m->fret);
  free(m->r2);
  free(m->spec_ret);
  free(m->nreg);
  free(m->out_t);
  free(m->cov_ready);
  free(m->n_thin);
  free(m->o_style);
  free(m->o_cov);
  free(m->o_spec);
  free(m->o_group);
  free(m->o_univ);
  free(m->o_carried);
  free(m);
}

int risk_model_build(const panel *p, const risk_config *cfg_in, const int *out_t, int n_out, risk_model **out,
                     zz_err *err) {
  *out = NULL;
  risk_config cfg;
  if (cfg_in) cfg = *cfg_in;
  else risk_default_config(&cfg);
  if (!p || p->n_dates < 2 || p->n_stocks < 1) return zz_fail(err, ZZ_EUSAGE, "risk: the panel needs at least 2 dates");
  for (int k = 0; k < n_out; k++)
    if (out_t[k] < 0 || out_t[k] >= p->n_dates || (k && out_t[k] <= out_t[k - 1]))
      return zz_fail(err, ZZ_EUSAGE, "risk: output date indices must be ascending within the panel (item %d)", k);
  if (!(cfg.spec_halflife > 0) || cfg.spec_nw_lags < 0 || cfg.huber_iters < 0 || !(cfg.huber_k >= 0) ||
      cfg.cov_min_days < 1 || !(cfg.annualise > 0) || !(cfg.min_industry_eff >= 0))
    return zz_fail(err, ZZ_EUSAGE, "risk: spec_halflife, cov_min_days and annualise must be positive, "
                                   "spec_nw_lags, huber_k, huber_iters and min_industry_eff not negative");
  if (cfg.spec_min_days < 1 || cfg.spec_full_days < cfg.spec_min_days || !(cfg.spec_shrink_q >= 0) ||
      !isfinite(cfg.spec_shrink_q) || !(cfg.spec_vol_floor >= 0) || !isfinite(cfg.spec_vol_floor))
    return zz_fail(err, ZZ_EUSAGE, "risk: need 1 <= spec_min_days <= spec_full_days, spec_shrink_q >= 0 and "
                                   "spec_vol_floor >= 0 (found %d, %d, %g, %g)", cfg.spec_min_days,
                   cfg.spec_full_days, cfg.spec_shrink_q, cfg.spec_vol_floor);
  risk_style_engine *eng = NULL;
  risk_cov_state *cs = NULL;
  int rc = risk_style_create(p, &cfg, &eng, err);
  if (rc) return rc;
  int n = p->n_stocks, S = risk_style_count(eng), T = p->n_dates;
  int has_unc = 0;
  for (size_t q = 0; q < (size_t)T * n && !has_unc; q++)
    has_unc = (p->flags[q] & PANEL_LISTED) && p->f[PF_FLOAT_MV][q] > 0 && (!p->industry || p->industry[q] < 0);
  int G = p->n_industries + has_unc, K = S + G + 1;
  risk_model *m = calloc(1, sizeof *m);
  if (!m) {
    risk_style_free(eng);
    return zz_fail(err, ZZ_ENOMEM, "risk: out of memory");
  }
  m->cfg = cfg;
  m->n_dates = T, m->n_stocks = n, m->S = S, m->G = G, m->K = K, m->n_out = n_out;
  size_t N = (size_t)n, no = (size_t)(n_out ? n_out : 1);
  m->dates = malloc((size_t)T * sizeof *m->dates);
  m->names = calloc((size_t)K, sizeof *m->names);
  m->fret = malloc((size_t)T * K * sizeof(double));
  m->r2 = malloc((size_t)T * sizeof(double));
  m->nreg = calloc((size_t)T, sizeof(int));
  m->spec_ret = malloc((size_t)T * N * sizeof(double));
  m->out_t = malloc(no * sizeof(int));
  m->cov_ready = calloc(no, sizeof(int));
  m->n_thin = calloc((size_t)T, sizeof(int));
  m->o_style = malloc(no * N * S * sizeof(double));
  m->o_cov = malloc(no * K * K * sizeof(double));
  m->o_spec = malloc(no * N * sizeof(double));
  m->o_group = malloc(no * N * sizeof(int16_t));
  m->o_univ = malloc(no * N);
  m->o_carried = malloc(no * N);
  /* day state; last_* = the exposures, group and cap of each stock's last universe day (carrying) */
  double *cur_base = malloc(N * S * 3 * sizeof(double)), *cur = cur_base, *prev = cur ? cur + N * S : NULL;
  double *last_style = cur ? prev + N * S : NULL;
  double *dwork = malloc(N * 11 * sizeof(double) + (size_t)K * sizeof(double));
  uint8_t *univ = malloc(N * 2);
  int16_t *grp = malloc(N * 4 * sizeof(int16_t));
  int *nobs = malloc(N * sizeof(int));
  if (!m->dates || !m->names || !m->fret || !m->r2 || !m->nreg || !m->spec_ret || !m->out_t || !m->cov_ready ||
      !m->n_thin || !m->o_style || !m->o_cov || !m->o_spec || !m->o_group || !m->o_univ || !m->o_carried || !cur ||
      !dwork || !univ || !grp || !nobs) {
    rc = zz_fail(err, ZZ_ENOMEM, "risk: out of memory for %d dates x %d stocks", T, n);
    goto done;
  }
  memcpy(m->dates, p->dates, (size_t)T * sizeof *m->dates);
  if (n_out) memcpy(m->out_t, out_t, (size_t)n_out * sizeof *out_t);
  for (int k = 0; k < S; k++) snprintf(m->names[k], 64, "%s", risk_style_name(k));
  for (int g = 0; g < p->n_industries; g++) snprintf(m->names[S + g], 64, "%s", p->industry_names[g]);
  if (has_unc) snprintf(m->names[S + p->n_industries], 64, "unclassified");
  snprintf(m->names[K - 1], 64, "country");
  for (size_t q = 0; q < (size_t)T * K; q++) m->fret[q] = NAN;
  for (size_t q = 0; q < (size_t)T * N; q++) m->spec_ret[q] = NAN;
  for (int t = 0; t < T; t++) m->r2[t] = NAN;
  if ((rc = risk_cov_create(K, &cfg, &cs, err))) goto done;
  double *ret = dwork, *capw = ret + N, *se = capw + N, *sw = se + N, *scnt = sw + N, *wsum = scnt + N;
  double *wcnt = wsum + N, *last_cap = wcnt + N, *sig_hat = last_cap + N, *sig = sig_hat + N, *cap_o = sig + N;
  double *f = cap_o + N;
  for (size_t i = 0; i < N; i++) se[i] = sw[i] = scnt[i] = wsum[i] = wcnt[i] = 0, last_cap[i] = NAN;
  int L1 = cfg.spec_nw_lags + 1;
  uint8_t *univ_prev = univ + N;
  int16_t *grp_prev = grp + N, *grp_reg = grp + 2 * N, *last_grp = grp + 3 * N;
  double lam_s = pow(0.5, 1.0 / cfg.spec_halflife), sum_r2 = 0;
  int ko = 0;
  for (int t = 0; t < T; t++) {
    if ((rc = risk_style_step(eng, t, cur, univ, grp, m->st.filled, err))) goto done;
    for (int i = 0; i < n; i++)
      if (univ[i] && grp[i] == p->n_industries) m->st.unclassified++;
    if (t >= 1) {
      const double *cap0 = p->f[PF_FLOAT_MV] + panel_at(p, t - 1, 0);
      /* stocks leaving the universe today: keep their last universe day's (t-1) exposures */
      for (int i = 0; i < n; i++)
        if (univ_prev[i] && !univ[i]) {
          memcpy(last_style + (size_t)i * S, prev + (size_t)i * S, (size_t)S * sizeof *prev);
          last_grp[i] = grp_prev[i];
          last_cap[i] = cap0[i];
        }
      int nv = 0;
      for (int i = 0; i < n; i++) {
        int use;
        double x, r = risk_day_ret(p, t, i, &use, &x);
        use = use && univ_prev[i];
        ret[i] = use ? r : NAN;
        capw[i] = use ? cap0[i] : NAN;
        nv += use;
      }
      zz_err e2 = {0};
      double r2 = NAN;
      int n_thin = 0, wrc = nv > K ? risk_thin_groups(n, S, G, ret, capw, grp_prev, prev, cfg.min_industry_eff,
                                                      grp_reg, NULL, &n_thin, &e2)
                                   : ZZ_ENUMERIC;
      if (wrc == ZZ_OK)
        wrc = risk_wls_robust(n, S, G, ret, capw, grp_reg, prev, cfg.huber_k, cfg.huber_iters, f,
                              m->spec_ret + (size_t)t * N, &r2, &e2);
      /* specific returns of the last L+1 days (a day without a regression counts as 0) */
      {
        const double *e = m->spec_ret + (size_t)t * N, *e0 = t - L1 >= 1 ? m->spec_ret + (size_t)(t - L1) * N : NULL;
        for (int i = 0; i < n; i++) {
          if (isfinite(e[i])) wsum[i] += e[i], wcnt[i] += 1;
          if (e0 && isfinite(e0[i])) wsum[i] -= e0[i], wcnt[i] -= 1;
        }
      }
      if (wrc == ZZ_ENOMEM) {
        rc = zz_fail(err, ZZ_ENOMEM, "%s", e2.msg);
        goto done;
      }
      if (wrc == ZZ_OK) {
        memcpy(m->fret + (size_t)t * K, f, (size_t)K * sizeof *f);
        m->r2[t] = r2;
        m->nreg[t] = nv;
        m->st.regressions++;
        m->n_thin[t] = n_thin;
        m->st.thin_group_days += n_thin;
        sum_r2 += r2;
        risk_cov_push(cs, f);
        /* Newey-West (Bartlett, L lags) by overlapping sums: E[(sum of the last L+1 specific returns)^2
         * / (L+1)] = gamma_0 + 2 sum_k (1 - k/(L+1)) gamma_k; divided by the count of returns present */
        const double *e = m->spec_ret + (size_t)t * N;
        for (int i = 0; i < n; i++) {
          int ok = isfinite(e[i]);
          double v = ok ? wsum[i] * wsum[i] / wcnt[i] : 0;
          se[i] = lam_s * se[i] + v;
          sw[i] = lam_s * sw[i] + ok;
          scnt[i] += ok;
        }
      } else {
        m->st.skipped_days++;
      }
    }
    if (ko < n_out && out_t[ko] == t) {
      double *os = m->o_style + (size_t)ko * N * S;
      uint8_t *ou = m->o_univ + (size_t)ko * N, *oc = m->o_carried + (size_t)ko * N;
      int16_t *og = m->o_group + (size_t)ko * N;
      memcpy(os, cur, N * S * sizeof *cur);
      const double *capt = p->f[PF_FLOAT_MV] + panel_at(p, t, 0);
      for (int i = 0; i < n; i++) {
        /* last_cap is set (finite) once a stock has left the universe: it was in it on an earlier day */
        oc[i] = !univ[i] && isfinite(last_cap[i]) && (p->flags[panel_at(p, t, i)] & PANEL_LISTED);
        ou[i] = univ[i] || oc[i];
        og[i] = oc[i] ? last_grp[i] : grp[i];
        cap_o[i] = univ[i] ? capt[i] : oc[i] ? last_cap[i] : NAN;
        if (oc[i]) memcpy(os + (size_t)i * S, last_style + (size_t)i * S, (size_t)S * sizeof *os), m->st.carried++;
      }
      double *cov = m->o_cov + (size_t)ko * K * K;
      if (risk_cov_days(cs) >= cfg.cov_min_days) {
        int nrep = 0;
        if ((rc = risk_cov_get(cs, cov, &nrep, err))) goto done;
        m->cov_ready[ko] = 1;
        m->st.cov_repairs += nrep > 0;
      } else {
        for (size_t q = 0; q < (size_t)K * K; q++) cov[q] = NAN;
      }
      /* specific risk: the stock's own EW Newey-West volatility (a carried stock's is frozen: se and sw
       * decay together while it has no returns), shrunk towards its size decile */
      for (int i = 0; i < n; i++) {
        nobs[i] = (int)scnt[i];
        sig_hat[i] = (univ[i] || oc[i]) && scnt[i] >= 1 ? sqrt(cfg.annualise * se[i] / sw[i]) : NAN;
      }
      risk_shrink_stats ss;
      if ((rc = risk_specific_shrink(n, sig_hat, nobs, cap_o, univ, oc, &cfg, sig, &ss, err))) goto done;
      double *sv = m->o_spec + (size_t)ko * N;
      for (int i = 0; i < n; i++) sv[i] = sig[i] * sig[i];
      m->st.spec_short += ss.n_short;
      m->st.spec_floored += ss.n_floored;
      ko++;
    }
    double *tmp = prev;
    prev = cur;
    cur = tmp;
    memcpy(univ_prev, univ, N);
    memcpy(grp_prev, grp, N * sizeof *grp);
  }
  m->st.mean_r2 = m->st.regressions ? sum_r2 / m->st.regressions : NAN;
done:
  free(cur_base);
  free(dwork);
  free(univ);
  free(grp);
  free(nobs);
  risk_cov_free(cs);
  risk_style_free(eng);
  if (rc) risk_model_free(m);
  else *out = m;
  return rc;
}

int risk_model_n_outputs(const risk_model *m) { return m->n_out; }
int risk_model_n_factors(const risk_model *m) { return m->K; }
const char *risk_model_factor_name(const risk_model *m, int k) { return k >= 0 && k < m->K ? m->names[k] : "?"; }
const double *risk_model_factor_returns(const risk_model *m) { return m->fret; }
const double *risk_model_r2(const risk_model *m) { return m->r2; }
const int *risk_model_n_regressed(const risk_model *m) { return m->nreg; }
const double *risk_model_specific_returns(const risk_model *m) { return m->spec_ret; }
const risk_stats *risk_model_stats(const risk_model *m) { return &m->st; }

int risk_model_snapshot(const risk_model *m, int k, risk_snapshot *s, zz_err *err) {
  if (k < 0 || k >= m->n_out) return zz_fail(err, ZZ_EUSAGE, "risk: output %d out of range (0 .. %d)", k, m->n_out - 1);
  size_t N = (size_t)m->n_stocks;
  s->t = m->out_t[k];
  s->date = m->dates[s->t];
  s->n_stocks = m->n_stocks;
  s->n_styles = m->S, s->n_groups = m->G, s->n_factors = m->K;
  s->factor_names = (const char(*)[64])m->names;
  s->in_universe = m->o_univ + (size_t)k * N;
  s->carried = m->o_carried + (size_t)k * N;
  s->style = m->o_style + (size_t)k * N * m->S;
  s->group = m->o_group + (size_t)k * N;
  s->factor_cov = m->o_cov + (size_t)k * m->K * m->K;
  s->specific_var = m->o_spec + (size_t)k * N;
  s->cov_ready = m->cov_ready[k];
  s->n_thin_groups = m->n_thin[s->t];
  return ZZ_OK;
}

double risk_model_te(const risk_model *m, int k, const double *a) {
  risk_snapshot s;
  if (risk_model_snapshot(m, k, &s, NULL) || !s.cov_ready) return NAN;
  int K = m->K, S = m->S;
  double *x = calloc((size_t)K, sizeof *x), spec = 0;
  if (!x) return NAN;
  for (int i = 0; i < s.n_stocks; i++) {
    if (a[i] == 0) continue;
    if (!s.in_universe[i]) {
      free(x);
      return NAN;
    }
    for (int j = 0; j < S; j++) x[j] += a[i] * s.style[(size_t)i * S + j];
    x[S + s.group[i]] += a[i];
    x[K - 1] += a[i];
    spec += a[i] * a[i] * s.specific_var[i];
  }
  double v = spec;
  for (int p = 0; p < K; p++)
    for (int q = 0; q < K; q++) v += x[p] * s.factor_cov[(size_t)p * K + q] * x[q];
  free(x);
  return sqrt(v > 0 ? v : 0);
}

int risk_week_ends(const panel *p, int *out) {
  int c = 0;
  for (int t = 0; t < p->n_dates; t++) {
    int32_t d = zz_date_to_days(p->dates[t]);
    int wk = (int)((d - 4 + 7 * 100000) / 7); /* 1970-01-05 was a Monday */
    int last = t + 1 == p->n_dates;
    if (!last) {
      int32_t d2 = zz_date_to_days(p->dates[t + 1]);
      last = (int)((d2 - 4 + 7 * 100000) / 7) != wk;
    }
    if (last) out[c++] = t;
  }
  return c;
}
