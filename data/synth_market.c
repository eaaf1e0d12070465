/* synth_market.c — the synthetic market's price/volume process (docs/synthetic_market.md):
 * the stock universe (boards, codes, sizes, industries, IPOs), corporate events (ST, delisting,
 * suspensions, ex-rights), daily returns from known factors plus a planted nonlinear alpha, bars
 * rounded to 0.01 CNY within the exchange's price limits, and the CNE5-style SIZE and MOMENTUM
 * exposures recomputed from the generated history every day. */
#include "synth_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const synth_industry_names[SYNTH_MAX_IND] = {
    "Agriculture", "Mining", "Chemicals", "Steel", "NonferrousMetals", "Electronics",
    "HouseholdAppliances", "FoodBeverage", "TextilesApparel", "LightManufacturing", "Pharmaceuticals",
    "Utilities", "Transportation", "RealEstate", "Retail", "SocialServices", "Banks", "NonbankFinancials",
    "Conglomerates", "BuildingMaterials", "Construction", "PowerEquipment", "Machinery", "Defense",
    "Autos", "Computers", "Media", "Telecom", "Petroleum", "Environmental", "BeautyCare"};

/* ------------------------------------------------------------ model constants (documented) */
/* docs/synthetic_market.md; the alpha's values were calibrated on the demo (section "Calibration") */
#define COUNTRY_MEAN 0.0003
#define COUNTRY_VOL 0.011
#define COUNTRY_PULL (1.0 / 40) /* daily pull of the market back to its trend (half-life 28 trading days) */
#define SIZE_VOL 0.003
#define MOM_VOL 0.003
#define ALPHA_MEMORY 0.85       /* EWMA weight of the signal's memory */
#define ALPHA_NOISE 4.0         /* sd of nu, the alpha's daily payoff shock: returns carry alpha (1 + nu) */
#define ALPHA_VOL_RATIO 0.06    /* low-volatility premium per unit of alpha strength */
#define ALPHA_SWING 0.15        /* amplitude of the signal coefficients' slow sinusoidal drift */
#define SUSPEND_PROB 0.0008 /* per trading stock-day */
#define ST_PROB 0.012       /* per stock and year, decided on the first trading day of May */
#define DELIST_PROB 0.15    /* of an ST spell ending in delisting */
#define JUMP_PROB 0.006     /* per trading stock-day */
#define EXRIGHTS_PROB 0.6   /* per stock and year, ex-date in June-July */

typedef struct { int idx; int32_t key; int tie; } list_order;

static int cmp_list_order(const void *a, const void *b) {
  const list_order *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->tie - y->tie;
}

static int cmp_code(const void *a, const void *b) {
  return strcmp(((const synth_stock *)a)->code, ((const synth_stock *)b)->code);
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }
static int64_t clampi(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : x > hi ? hi : x; }
static int64_t round_lot(double shares) {
  int64_t v = (int64_t)llround(shares / 100.0) * 100;
  return v < 100 ? 100 : v;
}
/* The date `days` calendar days before ymd, moved back to a weekday. */
static int32_t weekday_before(int32_t ymd, int days) {
  int32_t d = zz_days_to_date(zz_date_to_days(ymd) - days);
  while (zz_date_weekday(d) >= 6) d = zz_days_to_date(zz_date_to_days(d) - 1);
  return d;
}

int synth_market_create(synth_market **out, const synth_opts *o, zz_err *err) {
  *out = NULL;
  if (o->n_stocks < 1900 || o->n_stocks > 6000)
    return zz_fail(err, ZZ_EUSAGE,
                   "--stocks %d: expected 1900 .. 6000 (CSI300 + CSI500 + CSI1000 need 1800 eligible names "
                   "on every review date, plus candidates outside them)", o->n_stocks);
  if (o->n_industries < 2 || o->n_industries > SYNTH_MAX_IND)
    return zz_fail(err, ZZ_EUSAGE, "industries %d: expected 2 .. %d", o->n_industries, SYNTH_MAX_IND);
  if (!(o->alpha_strength >= 0 && o->alpha_strength <= 0.1))
    return zz_fail(err, ZZ_EUSAGE, "alpha strength %g: expected 0 .. 0.1 (daily return per unit of signal)",
                   o->alpha_strength);
  if (o->start < 19930101 || o->end > 20401231 || o->start > o->end)
    return zz_fail(err, ZZ_EUSAGE, "dates %d .. %d: expected 1993-01-01 <= start <= end <= 2040-12-31",
                   (int)o->start, (int)o->end);
  synth_market *m = calloc(1, sizeof *m);
  if (!m) return zz_fail(err, ZZ_ENOMEM, "out of memory for the synthetic market");
  m->o = *o;
  m->n_ind = o->n_industries;
  /* ST and suspension rates scale down in small markets, so that >= 1800 names stay index-eligible */
  m->event_scale = o->n_stocks >= 2400 ? 1.0 : (o->n_stocks - 1800) / 600.0;
  synth_rng_seed(&m->rng, o->seed);
  synth_rng *rng = &m->rng;

  /* calendar: SYNTH_BURN_IN trading days before start, then start .. end */
  int32_t *cal = NULL;
  int n_cal = synth_calendar((o->start / 10000 - 3) * 10000 + 101, o->end, &cal);
  if (n_cal < 0) {
    free(m);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the calendar");
  }
  int t_start = 0;
  while (t_start < n_cal && cal[t_start] < o->start) t_start++;
  if (n_cal - t_start < 30) {
    free(cal);
    free(m);
    return zz_fail(err, ZZ_EUSAGE, "dates %d .. %d hold %d trading days: expected at least 30", (int)o->start,
                   (int)o->end, n_cal - t_start);
  }
  const int off = t_start - SYNTH_BURN_IN;
  m->n_days = n_cal - off;
  m->t0 = SYNTH_BURN_IN;
  m->dates = malloc((size_t)m->n_days * sizeof *m->dates);
  m->date_str = malloc((size_t)m->n_days * sizeof *m->date_str);
  const int N = o->n_stocks;
  m->n = N;
  m->s = calloc((size_t)N, sizeof *m->s);
  m->yring = calloc((size_t)N * SYNTH_RING, sizeof *m->yring);
  m->feat = calloc((size_t)N * SYNTH_FEAT * 4, sizeof *m->feat);
  m->rstr = calloc((size_t)N, sizeof *m->rstr);
  m->x_size = calloc((size_t)N, sizeof *m->x_size);
  m->x_mom = calloc((size_t)N, sizeof *m->x_mom);
  m->signal = calloc((size_t)N, sizeof *m->signal);
  list_order *ord = malloc((size_t)N * sizeof *ord);
  if (!m->dates || !m->date_str || !m->s || !m->yring || !m->feat || !m->rstr || !m->x_size || !m->x_mom ||
      !m->signal || !ord) {
    free(cal);
    free(ord);
    const int nd = m->n_days;
    synth_market_free(m);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for %d stocks x %d days", N, nd);
  }
  memcpy(m->dates, cal + off, (size_t)m->n_days * sizeof *m->dates);
  free(cal);
  for (int t = 0; t < m->n_days; t++) zz_date_format(m->dates[t], m->date_str[t]);

  /* industries: uneven but not tiny, each with its own factor volatility */
  double ind_w[SYNTH_MAX_IND], ind_cum = 0;
  for (int k = 0; k < m->n_ind; k++) {
    ind_w[k] = 0.6 + 0.8 * synth_rng_uniform(rng);
    ind_cum += ind_w[k];
    m->ind_vol[k] = 0.011 + 0.004 * synth_rng_uniform(rng);
  }

  /* listing dates: the first n0 stocks were listed before the calendar starts, the rest are IPOs */
  int n0 = (int)lround(0.78 * N);
  if (n0 < SYNTH_MIN_LISTED) n0 = SYNTH_MIN_LISTED;
  if (n0 > N) n0 = N;
  for (int i = 0; i < N; i++) {
    synth_stock *s = &m->s[i];
    if (i < n0) {
      s->list_t = -1 - synth_rng_below(rng, 2000);
      s->list_date = weekday_before(m->dates[0], 200 + synth_rng_below(rng, 6000));
    } else {
      s->list_t = 1 + synth_rng_below(rng, m->n_days - 2);
      s->list_date = m->dates[s->list_t];
    }
    ord[i] = (list_order){i, s->list_date, i};
  }
  qsort(ord, (size_t)N, sizeof *ord, cmp_list_order);
  int next_sh = 0, next_sz = 1, next_gem = 1, next_star = 1;
  for (int r = 0; r < N; r++) {
    synth_stock *s = &m->s[ord[r].idx];
    const double u = synth_rng_uniform(rng);
    if (s->list_date >= 20190722 && s->list_t >= 0 && u < 0.3) {
      s->board = BOARD_STAR;
      snprintf(s->code, sizeof s->code, "%06d.SH", 688000 + next_star++);
    } else if (s->list_date >= 20091030 && u < 0.6) {
      s->board = BOARD_CHINEXT;
      snprintf(s->code, sizeof s->code, "%06d.SZ", 300000 + next_gem++);
    } else if (synth_rng_uniform(rng) < 0.5) {
      s->board = BOARD_MAIN;
      snprintf(s->code, sizeof s->code, "%06d.SH", 600000 + next_sh++);
    } else {
      s->board = BOARD_MAIN;
      snprintf(s->code, sizeof s->code, "%06d.SZ", next_sz++);
    }
  }
  free(ord);

  /* sizes, prices, volatilities, industries, fundamentals state */
  for (int i = 0; i < N; i++) {
    synth_stock *s = &m->s[i];
    const int ipo = s->list_t >= 0;
    const double mv_float = exp(log(ipo ? 1.5e9 : 3.0e9) + (ipo ? 0.8 : 1.15) * synth_rng_normal(rng));
    const double float_ratio = ipo ? 0.25 + 0.1 * synth_rng_uniform(rng) : 0.35 + 0.65 * synth_rng_uniform(rng);
    const double price = clampd(exp(log(ipo ? 15.0 : 9.0) + 0.6 * synth_rng_normal(rng)), 2.0, 300.0);
    s->close_c = (int64_t)llround(price * 100);
    s->total_shares = round_lot(mv_float / float_ratio / price);
    s->float_shares = round_lot((double)s->total_shares * float_ratio);
    if (s->float_shares > s->total_shares) s->float_shares = s->total_shares;
    s->adj = 1.0;
    s->delist_t = m->n_days;
    s->spec_vol = clampd(exp(log(0.016) + 0.35 * synth_rng_normal(rng)) * pow(mv_float / 3e9, -0.08), 0.008,
                         0.045);
    s->garch_h = 1.0;
    s->turnover_base = clampd(exp(log(0.012) + 0.5 * synth_rng_normal(rng)), 0.002, 0.08);
    double u = synth_rng_uniform(rng) * ind_cum, c = 0;
    s->ind = m->n_ind - 1;
    for (int k = 0; k < m->n_ind; k++) {
      c += ind_w[k];
      if (u < c) {
        s->ind = k;
        break;
      }
    }
    s->ind_change_t = -1;
    if (synth_rng_uniform(rng) < 0.02) {
      s->ind_change_t = m->t0 + 1 + synth_rng_below(rng, m->n_days - m->t0 - 1);
      s->ind_new = (s->ind + 1 + synth_rng_below(rng, m->n_ind - 1)) % m->n_ind;
      if (s->ind_change_t <= s->list_t) s->ind_change_t = -1;
    }
    s->ex_t = -1;
    s->bp = exp(log(0.45) + 0.6 * synth_rng_normal(rng));
    s->roe = 0.08 + 0.07 * synth_rng_normal(rng);
    s->lev = 1.3 + 1.2 * exp(0.5 * synth_rng_normal(rng));
    s->margin = 0.03 + 0.27 * synth_rng_uniform(rng);
    s->fund_offset = synth_rng_below(rng, 20);
    if (!ipo && synth_rng_uniform(rng) < 0.01 * m->event_scale) {
      s->st = 1;
      s->st_end_t = 100 + synth_rng_below(rng, 300);
    }
  }
  qsort(m->s, (size_t)N, sizeof *m->s, cmp_code);

  /* planted alpha: slowly drifting coefficients */
  const double b[3] = {1.0, 0.6, 0.8}, period[3] = {750, 1000, 1250};
  for (int j = 0; j < 3; j++) {
    m->ap.b[j] = b[j];
    m->ap.period[j] = period[j];
    m->ap.phase[j] = 6.283185307179586 * synth_rng_uniform(rng);
  }
  m->ap.phi = ALPHA_MEMORY;
  m->ap.kappa = o->alpha_strength;
  m->ap.noise = ALPHA_NOISE;
  m->ap.kappa_vol = ALPHA_VOL_RATIO * o->alpha_strength;
  m->alpha_horizon = 0;
  for (int j = 1; j <= 10; j++) m->alpha_horizon += pow(m->ap.phi, j);
  m->country_h = 1.0;
  *out = m;
  return ZZ_OK;
}

void synth_market_free(synth_market *m) {
  if (!m) return;
  if (!m->is_copy) {
    free(m->dates);
    free(m->date_str);
  }
  free(m->s);
  free(m->yring);
  free(m->feat);
  free(m->rstr);
  free(m->x_size);
  free(m->x_mom);
  free(m->signal);
  free(m);
}

int synth_market_copy(synth_market **dst, const synth_market *src) {
  const size_t n = (size_t)src->n;
  synth_market *d = *dst;
  if (!d) {
    d = calloc(1, sizeof *d);
    if (!d) return ZZ_ENOMEM;
    d->is_copy = 1;
    d->s = malloc(n * sizeof *d->s);
    d->yring = malloc(n * SYNTH_RING * sizeof *d->yring);
    d->feat = malloc(n * SYNTH_FEAT * 4 * sizeof *d->feat);
    d->rstr = malloc(n * sizeof *d->rstr);
    d->x_size = malloc(n * sizeof *d->x_size);
    d->x_mom = malloc(n * sizeof *d->x_mom);
    d->signal = malloc(n * sizeof *d->signal);
    if (!d->s || !d->yring || !d->feat || !d->rstr || !d->x_size || !d->x_mom || !d->signal) {
      synth_market_free(d);
      return ZZ_ENOMEM;
    }
    *dst = d;
  }
  synth_stock *s = d->s;
  double *yring = d->yring, *feat = d->feat, *rstr = d->rstr, *xs = d->x_size, *xm = d->x_mom, *sig = d->signal;
  *d = *src; /* scalars, parameters, generator state; the calendar is borrowed */
  d->is_copy = 1;
  d->s = memcpy(s, src->s, n * sizeof *s);
  d->yring = memcpy(yring, src->yring, n * SYNTH_RING * sizeof *yring);
  d->feat = memcpy(feat, src->feat, n * SYNTH_FEAT * 4 * sizeof *feat);
  d->rstr = memcpy(rstr, src->rstr, n * sizeof *rstr);
  d->x_size = memcpy(xs, src->x_size, n * sizeof *xs);
  d->x_mom = memcpy(xm, src->x_mom, n * sizeof *xm);
  d->signal = memcpy(sig, src->signal, n * sizeof *sig);
  return ZZ_OK;
}

void synth_market_scale_shares(synth_market *m, int i, double f) {
  synth_stock *s = &m->s[i];
  const int all_float = s->float_shares == s->total_shares;
  s->total_shares = round_lot((double)s->total_shares * f);
  /* a fully floating stock stays fully floating, so the lock-up draws see the same condition */
  s->float_shares = all_float ? s->total_shares : round_lot((double)s->float_shares * f);
  if (s->float_shares > s->total_shares) s->float_shares = s->total_shares;
}

void synth_market_suspend(synth_market *m, int i, int days) {
  m->s[i].susp_left = days;
  m->s[i].susp_rows = 0;
}

/* ------------------------------------------------------------ daily step */

static int month_of(int32_t ymd) { return ymd / 100 % 100; }

/* Standardises x over the mask: cap-weighted mean 0, equal-weighted std 1, clipped to +-3. */
static void standardise(synth_market *m, double *x, const double *cap, int t) {
  /* CNE5: cap-weighted mean 0, equal-weighted standard deviation 1 (about the equal-weighted mean) */
  double sw = 0, swx = 0, sx = 0, n = 0;
  for (int i = 0; i < m->n; i++) {
    if (!synth_listed(&m->s[i], t)) continue;
    sw += cap[i];
    swx += cap[i] * x[i];
    sx += x[i];
    n += 1;
  }
  if (n < 2 || sw <= 0) return;
  const double mu = swx / sw, em = sx / n;
  double ss = 0;
  for (int i = 0; i < m->n; i++)
    if (synth_listed(&m->s[i], t)) ss += (x[i] - em) * (x[i] - em);
  const double sd = sqrt(ss / n);
  for (int i = 0; i < m->n; i++)
    x[i] = synth_listed(&m->s[i], t) && sd > 0 ? clampd((x[i] - mu) / sd, -3, 3) : 0;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* The planted signal of stock i at the close of t from its last 40 days (see the docs). */
static double alpha_signal(const synth_market *m, int i, int t) {
  const double *F = m->feat + (size_t)i * SYNTH_FEAT * 4;
#define AT(lag, f) F[((t - (lag)) % SYNTH_FEAT) * 4 + (f)]
  const double r5 = AT(0, 0) - AT(5, 0), mom = AT(0, 0) - AT(20, 0);
  double v3 = 0, v20 = 0, rg10 = 0, rg40 = 0, gap3 = 0;
  for (int l = 0; l < 40; l++) {
    if (l < 3) v3 += AT(l, 1), gap3 += AT(l, 3);
    if (l < 20) v20 += AT(l, 1);
    if (l < 10) rg10 += AT(l, 2);
    rg40 += AT(l, 2);
  }
#undef AT
  const double zv = log((v3 / 3 + 1e-5) / (v20 / 20 + 1e-5)) / 0.5;
  const double zr = log((rg10 / 10 + 1e-4) / (rg40 / 40 + 1e-4)) / 0.3;
  const double z5 = r5 / 0.07, zm = mom / 0.15, zg = (gap3 / 3) / 0.01;
  const double a1 = -tanh(z5) * (0.6 - 0.9 * tanh(zv));
  const double a2 = tanh(zm) * (sigmoid(-3 * zr) - 0.3);
  const double a3 = -fmax(0.0, zg - 0.5);
  double s = 0;
  const double a[3] = {a1, a2, a3};
  for (int j = 0; j < 3; j++)
    s += m->ap.b[j] * (1 + ALPHA_SWING * sin(6.283185307179586 * t / m->ap.period[j] + m->ap.phase[j])) * a[j];
  return s;
}

/* Replaces v[i] (NaN: not included) by its residual from an equal-weighted least-squares fit on the SIZE
 * exposure and a constant, over the stocks where it is not NaN. */
static void size_neutral(const synth_market *m, double *v) {
  double n = 0, sx = 0, sy = 0;
  for (int i = 0; i < m->n; i++)
    if (!isnan(v[i])) n++, sx += m->x_size[i], sy += v[i];
  if (n < 2) return;
  const double xm = sx / n, ym = sy / n;
  double sxx = 0, sxy = 0;
  for (int i = 0; i < m->n; i++)
    if (!isnan(v[i])) sxx += (m->x_size[i] - xm) * (m->x_size[i] - xm), sxy += (m->x_size[i] - xm) * (v[i] - ym);
  const double b = sxx > 0 ? sxy / sxx : 0;
  for (int i = 0; i < m->n; i++)
    if (!isnan(v[i])) v[i] -= ym + b * (m->x_size[i] - xm);
}

void synth_market_step(synth_market *m, int t) {
  synth_rng *rng = &m->rng;
  const int32_t ymd = m->dates[t];
  const int first_of_month = t == 0 || month_of(m->dates[t - 1]) != month_of(ymd);
  int active = 0; /* listed stocks not scheduled to delist */
  for (int i = 0; i < m->n; i++) active += synth_listed(&m->s[i], t) && m->s[i].delist_t >= m->n_days;

  /* corporate-event schedules */
  if (first_of_month && month_of(ymd) == 5) {
    for (int i = 0; i < m->n; i++) {
      synth_stock *s = &m->s[i];
      if (!synth_listed(s, t) || s->st || t - s->list_t < 250) continue;
      if (synth_rng_uniform(rng) < ST_PROB * m->event_scale) {
        s->st = 1;
        s->st_end_t = t + 240 + synth_rng_below(rng, 250);
        if (synth_rng_uniform(rng) < DELIST_PROB && s->st_end_t < m->n_days && s->st_end_t > m->t0 + 1)
          s->delist_t = s->st_end_t;
      }
    }
  }
  if (first_of_month && month_of(ymd) == 6) {
    for (int i = 0; i < m->n; i++) {
      synth_stock *s = &m->s[i];
      s->ex_t = synth_listed(s, t) && synth_rng_uniform(rng) < EXRIGHTS_PROB ? t + synth_rng_below(rng, 40) : -1;
    }
  }
  if (first_of_month) /* lock-up expiries: part of the restricted shares starts to float */
    for (int i = 0; i < m->n; i++) {
      synth_stock *s = &m->s[i];
      if (synth_listed(s, t) && s->float_shares < s->total_shares && synth_rng_uniform(rng) < 0.02)
        s->float_shares += round_lot(0.3 * (double)(s->total_shares - s->float_shares));
      if (s->float_shares > s->total_shares) s->float_shares = s->total_shares;
    }

  /* factor returns */
  {
    const double z = synth_rng_student(rng, 6);
    m->f_country = COUNTRY_MEAN - COUNTRY_PULL * m->country_dev + COUNTRY_VOL * sqrt(m->country_h) * z;
    m->country_dev += m->f_country - COUNTRY_MEAN;
    m->country_h = 0.03 + 0.90 * m->country_h + 0.07 * z * z;
    for (int k = 0; k < m->n_ind; k++) m->f_ind[k] = m->ind_vol[k] * synth_rng_student(rng, 6);
    m->f_size = SIZE_VOL * synth_rng_normal(rng);
    m->f_mom = MOM_VOL * synth_rng_normal(rng);
    m->f_signal = m->ap.noise * synth_rng_normal(rng);
  }

  const double lam = pow(0.5, 1.0 / SYNTH_RSTR_HALF), lam_out = pow(lam, SYNTH_RSTR_WIN);
  for (int i = 0; i < m->n; i++) {
    synth_stock *s = &m->s[i];
    double *F = m->feat + ((size_t)i * SYNTH_FEAT + (size_t)(t % SYNTH_FEAT)) * 4;
    s->has_bar = s->row = 0;
    s->ret = s->ret_px = 0;
    s->alpha = s->eps = 0;
    if (s->st_pending) s->st = 1, s->st_pending = 0;
    if (s->st && t >= s->st_end_t) s->st = 0;
    const int listed = synth_listed(s, t);
    if (listed) {
      if (t == s->list_t) s->adj = 1.0;
      if (s->susp_left == 0 && t > s->list_t && t > 0 && synth_rng_uniform(rng) < SUSPEND_PROB * m->event_scale) {
        s->susp_left = synth_rng_uniform(rng) < 0.1 ? 20 + synth_rng_below(rng, 100)
                                                    : 1 + (int)(-log(synth_rng_uniform(rng)) * 3.0);
        s->susp_rows = synth_rng_uniform(rng) < 0.2;
      }
      const double q = (double)lround(panel_limit_ratio(s->board, s->st, ymd) * 100);
      if (s->susp_left > 0) {
        s->susp_left--;
        s->row = s->susp_rows;
        s->pre_c = s->open_c = s->high_c = s->low_c = s->close_c;
        s->vwap_e4 = s->close_c * 100;
        s->volume = 0;
        s->up_c = (s->pre_c * (int64_t)(100 + q) + 50) / 100;
        s->down_c = (s->pre_c * (int64_t)(100 - q) + 50) / 100;
        F[0] = log((double)s->close_c * s->adj);
        F[1] = F[2] = F[3] = 0;
      } else {
        s->has_bar = s->row = 1;
        int64_t pre = s->close_c;
        const int64_t prev = s->close_c;
        double bonus = 1.0; /* shares per old share after today's ex-rights event */
        if (t == s->ex_t && t > s->list_t) {
          const int64_t div = (int64_t)llround((0.005 + 0.025 * synth_rng_uniform(rng)) * (double)pre);
          const double u = synth_rng_uniform(rng);
          /* bonus issues only for high-priced stocks, as in practice */
          const double ratio = pre < 2500 ? 1.0 : u < 0.12 ? 2.0 : u < 0.21 ? 1.5 : u < 0.30 ? 1.3 : 1.0;
          pre = (int64_t)llround((double)(pre - div) / ratio);
          if (pre < 1) pre = 1;
          bonus = ratio;
          if (ratio != 1.0) {
            s->total_shares = round_lot((double)s->total_shares * ratio);
            s->float_shares = round_lot((double)s->float_shares * ratio);
            if (s->float_shares > s->total_shares) s->float_shares = s->total_shares;
          }
        }
        if (t > s->list_t) s->adj = (double)llround(s->adj * (double)s->close_c / (double)pre * 1e10) / 1e10;
        s->pre_c = pre;
        s->up_c = (pre * (int64_t)(100 + q) + 50) / 100;
        s->down_c = (pre * (int64_t)(100 - q) + 50) / 100;
        if (s->down_c < 1) s->down_c = 1;
        const int k = synth_industry_at(s, t);
        const double z = synth_rng_student(rng, 5);
        double eps = s->spec_vol * sqrt(s->garch_h) * z;
        if (synth_rng_uniform(rng) < JUMP_PROB) /* news: a jump of 4-12 % either way */
          eps += (synth_rng_uniform(rng) < 0.5 ? -1 : 1) * (0.04 + 0.08 * synth_rng_uniform(rng));
        s->garch_h = 0.05 + 0.88 * s->garch_h + 0.07 * z * z;
        const double alpha = synth_alpha_of(m, i);
        s->alpha = alpha;
        s->eps = eps;
        const double r = m->f_country + m->f_ind[k] + m->x_size[i] * m->f_size + m->x_mom[i] * m->f_mom +
                         alpha * (1 + m->f_signal) + eps;
        const int64_t close = clampi((int64_t)llround((double)pre * (1 + r)), s->down_c, s->up_c);
        const double sig = 0.5 * (s->spec_vol + 0.015);
        const int64_t open = clampi((int64_t)llround((double)pre * (1 + 0.35 * r + 0.3 * sig * synth_rng_normal(rng))),
                                    s->down_c, s->up_c);
        const int64_t hb = open > close ? open : close, lb = open < close ? open : close;
        int64_t high = (int64_t)llround((double)hb * (1 + 0.6 * sig * fabs(synth_rng_normal(rng))));
        int64_t low = (int64_t)llround((double)lb * (1 - 0.6 * sig * fabs(synth_rng_normal(rng))));
        high = clampi(high, hb, s->up_c);
        low = clampi(low, s->down_c, lb);
        if (low < 1) low = 1;
        s->open_c = open;
        s->high_c = high;
        s->low_c = low;
        s->close_c = close;
        s->vwap_e4 = clampi((int64_t)llround(100.0 * (double)(open + high + low + 2 * close) / 5.0), low * 100,
                            high * 100);
        s->ret = (double)close / (double)pre - 1;
        /* the bonus issue is no loss to a holder (twice the shares at half the price), the dividend is */
        s->ret_px = (double)close * bonus / (double)prev - 1;
        /* face-value delisting: 20 closes below 1 CNY in a row -> ST, delisted 15 trading days later
         * (written period only, and only while more than 1880 other stocks stay listed) */
        s->low_days = close < 100 ? s->low_days + 1 : 0;
        if (s->low_days >= 20 && t > m->t0 && s->delist_t >= m->n_days && t + 15 < m->n_days && active > 1880) {
          s->delist_t = t + 15;
          s->st_pending = 1; /* ST from tomorrow: today's limits were already set */
          s->st_end_t = s->delist_t;
          active--;
        }
        s->attention = 0.85 * s->attention + 0.25 * synth_rng_normal(rng) + (synth_rng_uniform(rng) < 0.01 ? 1.2 : 0);
        double turnover = s->turnover_base * exp(s->attention) * (1 + 5 * fabs(s->ret));
        if (close == s->up_c || close == s->down_c) turnover *= 0.5;
        s->volume = round_lot(fmin(turnover, 0.5) * (double)s->float_shares);
        F[0] = log((double)close * s->adj);
        F[1] = (double)s->volume / (double)s->float_shares;
        F[2] = (double)(high - low) / (double)close;
        F[3] = ((double)close - (double)s->vwap_e4 / 100.0) / (double)close;
      }
    } else {
      F[0] = log((double)s->close_c * s->adj);
      F[1] = F[2] = F[3] = 0;
    }
    /* RSTR: S_t = sum_{k=0}^{503} lam^k y_{t-21-k}, updated recursively */
    double *Y = m->yring + (size_t)i * SYNTH_RING;
    Y[t % SYNTH_RING] = log1p(s->ret);
    const double y_in = t >= SYNTH_RSTR_LAG ? Y[(t - SYNTH_RSTR_LAG) % SYNTH_RING] : 0;
    const double y_out = t >= SYNTH_RSTR_LAG + SYNTH_RSTR_WIN ? Y[(t - SYNTH_RSTR_LAG - SYNTH_RSTR_WIN) % SYNTH_RING] : 0;
    m->rstr[i] = lam * m->rstr[i] + y_in - lam_out * y_out;
  }

  /* exposures at this close, used for tomorrow's returns */
  {
    double *cap = m->signal; /* scratch: float market caps */
    for (int i = 0; i < m->n; i++) {
      const synth_stock *s = &m->s[i];
      cap[i] = synth_listed(s, t) ? (double)s->float_shares * (double)s->close_c / 100.0 : 0;
      m->x_size[i] = cap[i] > 0 ? log(cap[i]) : 0;
      m->x_mom[i] = m->rstr[i];
    }
    standardise(m, m->x_size, cap, t);
    standardise(m, m->x_mom, cap, t);
  }

  /* planted alpha: signal, memory, cross-sectional mean */
  double msum = 0;
  int mn = 0;
  for (int i = 0; i < m->n; i++) {
    synth_stock *s = &m->s[i];
    m->signal[i] = 0;
    if (!synth_listed(s, t)) continue;
    if (s->has_bar && t >= SYNTH_FEAT && t - s->list_t >= SYNTH_FEAT) m->signal[i] = alpha_signal(m, i, t);
    s->m = m->ap.phi * s->m + (1 - m->ap.phi) * m->signal[i];
    msum += s->m;
    mn++;
  }
  const double m_mean = mn ? msum / mn : 0;

  /* low-volatility premium: the 20-day volatility of the adjusted log close of the stocks trading today with
   * 21 days of history, made size-neutral and standardised (equal weights, clipped to +-3); 0 for the others.
   * m->signal is scratch from here on. */
  double *v = m->signal;
  for (int i = 0; i < m->n; i++) {
    const synth_stock *s = &m->s[i];
    v[i] = NAN;
    if (!synth_listed(s, t) || !s->has_bar || t < 21 || t - s->list_t < 21) continue;
    const double *F = m->feat + (size_t)i * SYNTH_FEAT * 4;
    double a = 0, a2 = 0;
    for (int l = 0; l < 20; l++) {
      const double d = F[((t - l) % SYNTH_FEAT) * 4] - F[((t - l - 1) % SYNTH_FEAT) * 4];
      a += d, a2 += d * d;
    }
    const double var = (a2 - a * a / 20) / 19;
    v[i] = sqrt(var > 0 ? var : 0);
  }
  size_neutral(m, v);
  double rss = 0;
  int vn = 0;
  for (int i = 0; i < m->n; i++)
    if (!isnan(v[i])) rss += v[i] * v[i], vn++;
  const double vsd = vn > 1 ? sqrt(rss / vn) : 0;
  for (int i = 0; i < m->n; i++) m->s[i].zvol = isnan(v[i]) || vsd <= 0 ? 0 : clampd(v[i] / vsd, -3, 3);

  /* the next day's expected alpha; the memory part made size-neutral too, so that it tilts no index */
  for (int i = 0; i < m->n; i++) v[i] = synth_listed(&m->s[i], t) ? m->ap.kappa * (m->s[i].m - m_mean) : NAN;
  size_neutral(m, v);
  for (int i = 0; i < m->n; i++) {
    synth_stock *s = &m->s[i];
    s->alpha_mem = isnan(v[i]) ? 0 : v[i];
    s->alpha_vol = -m->ap.kappa_vol * s->zvol;
  }
}
