/* synth_write.c — `synth_write`: runs the synthetic market date by date and writes the market
 * directory (SPEC 2.1 files plus truth/ with the true factor returns and the oracle RankIC).
 * Files are written under temporary names and renamed only when everything succeeded.
 * The vendor conditions (synth_opts after oracle_paths) are applied here: what is written, plus two
 * interventions in the process (a scaled-up largest stock, forced long suspensions), each chosen by
 * its own generator so that the market's stream is only touched where the process must change. */
#include "synth_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

void synth_default_opts(synth_opts *o) {
  memset(o, 0, sizeof *o);
  o->n_stocks = 2400;
  o->start = 20100101;
  o->end = 20231231;
  o->seed = 1;
  o->n_industries = 31;
  o->truth_scores = 0;
  o->oracle_paths = 16;
  o->alpha_strength = SYNTH_ALPHA_STRENGTH;
  o->industry_coverage = 1.0;
  o->singleton_industries = 0;
  o->no_fundamentals = 0;
  o->vendor_bars = 0;
  o->weights = SYNTH_WEIGHTS_DAILY;
  o->long_suspensions = 0;
  o->max_weight = 0;
  o->index_kind = SYNTH_INDEX_TOTAL;
}

void synth_vendor_opts(synth_opts *o) {
  /* the public-vendor market that broke the pipeline: SW industries for ~12 % of the names, one-stock
   * industries, no balance sheets, tushare-style bars, month-end weights, a benchmark heavyweight above
   * the optimiser's 5 % cap, a price index as the benchmark */
  o->industry_coverage = 0.12;
  o->singleton_industries = 2;
  o->no_fundamentals = 1;
  o->vendor_bars = 1;
  o->weights = SYNTH_WEIGHTS_MONTHLY;
  o->long_suspensions = 3;
  o->max_weight = 0.067;
  o->index_kind = SYNTH_INDEX_PRICE;
}

/* 1 when any vendor condition is on: truth/vendor.csv lists what was done to which stock */
static int vendor_on(const synth_opts *o) {
  return o->industry_coverage < 1.0 || o->singleton_industries > 0 || o->no_fundamentals || o->vendor_bars ||
         o->weights != SYNTH_WEIGHTS_DAILY || o->long_suspensions > 0 || o->max_weight > 0 ||
         o->index_kind != SYNTH_INDEX_TOTAL;
}

enum { OUT_BARS, OUT_WEIGHTS, OUT_INDEX_BARS, OUT_FUND, OUT_FACTORS, OUT_ORACLE, OUT_EXPECTED, OUT_STOCKS,
       OUT_INDUSTRY, OUT_VENDOR, OUT_INDEX_TOTAL, OUT_N };
static const char *const out_names[OUT_N] = {
    "bars.csv", "index_weights.csv", "index_bars.csv", "fundamentals.csv", "truth/factor_returns.csv",
    "truth/oracle_rankic.csv", "truth/expected_return.csv", "stocks.csv", "industry.csv", "truth/vendor.csv",
    "truth/index_total_return.csv"};

/* Whether output k is written with these options (the others are removed if an earlier run left them). */
static int out_wanted(const synth_opts *o, int k) {
  switch (k) {
    case OUT_EXPECTED: return o->truth_scores;
    case OUT_FUND: return !o->no_fundamentals;
    case OUT_VENDOR: return vendor_on(o);
    case OUT_INDEX_TOTAL: return o->index_kind == SYNTH_INDEX_PRICE;
    default: return 1;
  }
}

/* ------------------------------------------------------------ oracle RankIC */

#define N_SLOTS 3
typedef struct oracle_slot {
  int t;          /* sampled date, -1 when free */
  double *score;  /* the oracle: E[alpha in the returns of days t+2 .. t+11 | state at t], Monte Carlo */
  double *cond;   /* conditional oracle: expected alpha T+1 -> T+11 given the memory at t only */
  double *drift;  /* the alpha actually applied on days t+2 .. t+11 of this market (diagnostic) */
  double *p1;     /* adjusted close at t+1 */
  uint8_t *ok;      /* in the IC: trading at t, listed at t+1 and t+11 */
  uint8_t *sampled; /* trading at t: a row of truth/expected_return.csv */
} oracle_slot;

/* A forced long suspension (--long-suspensions): planned before the run, its stock chosen on day t
 * among the members of `index` at the previous close. */
typedef struct long_susp {
  int t, days, index, stock;
} long_susp;

typedef struct synth_run {
  const synth_opts *o;
  synth_market *m;
  synth_index *x;
  synth_out out[OUT_N];
  oracle_slot slot[N_SLOTS];
  double *a, *b, *c, *d;
  void *rank_work; /* zz_stats_work_bytes(n): the oracle RankIC's ranks */
  double ic_sum, ic_sum2, cic_sum, cic_sum2, dic_sum;
  int ic_n;
  synth_market *sim; /* scratch copy of the market for the oracle's Monte Carlo */
  int paths;
  int t_grid;        /* the oracle samples every 10th trading day through this one (>= t0) */
  double *pa, *pe;   /* n x paths: simulated window alpha and window specific shocks */
  /* vendor conditions */
  synth_rng vrng;    /* the vendor choices' own generator: the market's stream never feeds them */
  int big;           /* the --max-weight stock, -1 when off */
  double big_scale;  /* its share counts' multiplier */
  long_susp *susp;   /* o->long_suspensions planned suspensions */
  int *days300;      /* written days each stock was a CSI300 member (singleton candidates) */
  double max_w0;     /* CSI300's largest weight at the first written close */
} synth_run;

static double adj_close(const synth_stock *s) { return (double)s->close_c / 100.0 * s->adj; }

static void put_expected(synth_run *R, const oracle_slot *o) {
  synth_market *m = R->m;
  synth_out *f = &R->out[OUT_EXPECTED];
  for (int i = 0; i < m->n; i++) {
    if (!o->sampled[i]) continue;
    char *p = synth_out_reserve(f, 96);
    memcpy(p, m->date_str[o->t], 10);
    p += 10;
    *p++ = ',';
    const size_t cl = strlen(m->s[i].code);
    memcpy(p, m->s[i].code, cl);
    p += cl;
    *p++ = ',';
    p = synth_fmt_fixed(p, o->score[i], 12);
    *p++ = ',';
    p = synth_fmt_fixed(p, o->cond[i], 12);
    *p++ = ',';
    p = synth_fmt_fixed(p, o->drift[i], 12);
    *p++ = '\n';
    synth_out_advance(f, p);
  }
}

/* Spearman correlation (average ranks) of x and y over c stocks; NAN when undefined or c < 3. */
static double rank_ic(synth_run *R, const double *x, const double *y, int c) {
  return c < 3 ? NAN : zz_spearman_ws(x, y, c, R->rank_work);
}

/* The oracle's score at the close of t: the expected alpha in the returns of days t+2 .. t+11 given the
 * whole state of the market at t, estimated by simulating R->paths futures of days t+1 .. t+11 from a
 * copy of the state, each with its own generator (the market's own stream is not touched). */
static int oracle_expect(synth_run *R, int t, double *score) {
  synth_market *m = R->m;
  const int n = m->n, K = R->paths;
  for (size_t j = 0; j < (size_t)n * K; j++) R->pa[j] = R->pe[j] = 0;
  for (int k = 0; k < K; k++) {
    if (synth_market_copy(&R->sim, m)) return ZZ_ENOMEM;
    synth_rng_seed(&R->sim->rng, m->o.seed ^ (0x6a09e667f3bcc909ull * (uint64_t)(t + 1)) ^
                                     (0xbb67ae8584caa73bull * (uint64_t)(k + 1)));
    for (int u = t + 1; u <= t + 11; u++) {
      synth_market_step(R->sim, u);
      if (u >= t + 2)
        for (int i = 0; i < n; i++) {
          R->pa[(size_t)i * K + k] += R->sim->s[i].alpha;
          R->pe[(size_t)i * K + k] += R->sim->s[i].eps;
        }
    }
  }
  /* Control variate: the window's specific shocks e have mean 0 given the state at t, and the alpha
   * reacts to them (reversal), so mean_k (a - beta e) has the same expectation as mean_k a with less
   * Monte Carlo noise; beta is the pooled within-stock regression slope of a on e. */
  double sae = 0, see = 0;
  for (int i = 0; i < n; i++) {
    const double *a = R->pa + (size_t)i * K, *e = R->pe + (size_t)i * K;
    double ma = 0, me = 0;
    for (int k = 0; k < K; k++) ma += a[k], me += e[k];
    ma /= K;
    me /= K;
    for (int k = 0; k < K; k++) sae += (a[k] - ma) * (e[k] - me), see += (e[k] - me) * (e[k] - me);
  }
  const double beta = see > 0 ? sae / see : 0;
  for (int i = 0; i < n; i++) {
    double v = 0;
    for (int k = 0; k < K; k++) v += R->pa[(size_t)i * K + k] - beta * R->pe[(size_t)i * K + k];
    score[i] = v / K;
  }
  return ZZ_OK;
}

static int oracle_step(synth_run *R, int t, zz_err *err) {
  synth_market *m = R->m;
  const int n = m->n;
  for (int k = 0; k < N_SLOTS; k++) {
    oracle_slot *o = &R->slot[k];
    if (o->t < 0) continue;
    if (t == o->t + 1)
      for (int i = 0; i < n; i++) {
        if (o->ok[i] && !synth_listed(&m->s[i], t)) o->ok[i] = 0;
        if (o->ok[i]) o->p1[i] = adj_close(&m->s[i]);
      }
    if (t >= o->t + 2 && t <= o->t + 11) /* the alpha in the returns of the label window */
      for (int i = 0; i < n; i++)
        if (o->sampled[i]) o->drift[i] += m->s[i].alpha;
    if (t == o->t + 11) {
      int c = 0;
      for (int i = 0; i < n; i++) {
        if (!o->ok[i] || !synth_listed(&m->s[i], t)) continue;
        R->a[c] = o->score[i];
        R->c[c] = o->cond[i];
        R->d[c] = o->drift[i];
        R->b[c] = adj_close(&m->s[i]) / o->p1[i] - 1;
        c++;
      }
      const double ic = rank_ic(R, R->a, R->b, c), cic = rank_ic(R, R->c, R->b, c),
                   dic = rank_ic(R, R->d, R->b, c);
      if (isfinite(ic) && isfinite(cic) && isfinite(dic)) {
        R->dic_sum += dic;
        R->ic_sum += ic;
        R->ic_sum2 += ic * ic;
        R->cic_sum += cic;
        R->cic_sum2 += cic * cic;
        R->ic_n++;
        synth_out *f = &R->out[OUT_ORACLE];
        char *p = synth_out_reserve(f, 64);
        memcpy(p, m->date_str[o->t], 10);
        p += 10;
        *p++ = ',';
        p = synth_fmt_fixed(p, ic, 10);
        *p++ = ',';
        p = synth_fmt_fixed(p, cic, 10);
        *p++ = ',';
        p = synth_fmt_fixed(p, dic, 10);
        *p++ = '\n';
        synth_out_advance(f, p);
      }
      if (m->o.truth_scores) put_expected(R, o);
      o->t = -1;
    }
  }
  /* a new sample every 10 trading days of the written period (the grid through t_grid), while T+11 exists */
  if (t >= m->t0 && ((t - R->t_grid) % 10 + 10) % 10 == 0 && t + 11 < m->n_days) {
    for (int k = 0; k < N_SLOTS; k++) {
      oracle_slot *o = &R->slot[k];
      if (o->t >= 0) continue;
      o->t = t;
      for (int i = 0; i < n; i++) {
        const synth_stock *s = &m->s[i];
        o->ok[i] = o->sampled[i] = (uint8_t)(synth_listed(s, t) && s->has_bar);
        /* the memory decays, the volatility premium persists */
        o->cond[i] = m->alpha_horizon * s->alpha_mem + 10 * s->alpha_vol;
        o->drift[i] = 0;
      }
      if (oracle_expect(R, t, o->score))
        return zz_fail(err, ZZ_ENOMEM, "out of memory for the oracle's copy of the market");
      break;
    }
  }
  return ZZ_OK;
}

/* ------------------------------------------------------------ daily rows */

static char *put_str(char *p, const char *s) {
  while (*s) *p++ = *s++;
  return p;
}

static void write_bars(synth_run *R, int t) {
  synth_market *m = R->m;
  synth_out *f = &R->out[OUT_BARS];
  const char *ds = m->date_str[t];
  const int vendor = m->o.vendor_bars;
  for (int i = 0; i < m->n; i++) {
    const synth_stock *s = &m->s[i];
    if (vendor) {
      /* a vendor has no bar for a suspended stock, not even on the first day it was asked for */
      if (!s->has_bar) continue;
    } else if (!s->row && !(t == m->t0 && synth_listed(s, t))) {
      continue; /* a stock suspended on the first written day gets a suspended=1 row, so its close is known */
    }
    char *p = synth_out_reserve(f, 320);
    memcpy(p, ds, 10);
    p += 10;
    *p++ = ',';
    p = put_str(p, s->code);
    *p++ = ',';
    p = synth_fmt_i64(p, s->open_c, 2);
    *p++ = ',';
    p = synth_fmt_i64(p, s->high_c, 2);
    *p++ = ',';
    p = synth_fmt_i64(p, s->low_c, 2);
    *p++ = ',';
    p = synth_fmt_i64(p, s->close_c, 2);
    *p++ = ',';
    p = synth_fmt_i64(p, s->volume, 0);
    *p++ = ',';
    p = synth_fmt_i64(p, s->volume / 100 * s->vwap_e4, 2); /* amount = volume * vwap, in cents */
    *p++ = ',';
    p = synth_fmt_i64(p, s->pre_c, 2);
    *p++ = ',';
    if (!vendor) { /* ingest derives them: vwap = amount / volume, adj from pre_close vs the last close */
      p = synth_fmt_i64(p, s->vwap_e4, 4);
      *p++ = ',';
      p = synth_fmt_fixed(p, s->adj, 10);
      *p++ = ',';
    }
    p = synth_fmt_i64(p, s->up_c, 2);
    *p++ = ',';
    p = synth_fmt_i64(p, s->down_c, 2);
    *p++ = ',';
    *p++ = s->has_bar ? '0' : '1';
    *p++ = ',';
    *p++ = s->st ? '1' : '0';
    *p++ = ',';
    p = synth_fmt_i64(p, s->float_shares * s->close_c, 2);
    *p++ = ',';
    p = synth_fmt_i64(p, s->total_shares * s->close_c, 2);
    *p++ = '\n';
    synth_out_advance(f, p);
  }
}

/* 1 when no trading day of the synthetic calendar follows ymd in its month (a vendor's month-end
 * snapshot date; it does not depend on where the written period ends). */
static int month_end(int32_t ymd) {
  for (int32_t d = zz_date_to_days(ymd) + 1;; d++) {
    const int32_t y = zz_days_to_date(d);
    if (y / 100 != ymd / 100) return 1;
    if (zz_date_weekday(y) < 6 && !synth_is_holiday(y)) return 0;
  }
}

static void put_index_close(synth_out *f, const char *ds, const char *code, double close) {
  char *p = synth_out_reserve(f, 96);
  memcpy(p, ds, 10);
  p += 10;
  *p++ = ',';
  p = put_str(p, code);
  *p++ = ',';
  p = synth_fmt_fixed(p, close, 6);
  *p++ = '\n';
  synth_out_advance(f, p);
}

static void write_index(synth_run *R, int t) {
  synth_market *m = R->m;
  const char *ds = m->date_str[t];
  /* monthly: the first written day stands for the previous month-end snapshot that a vendor query from
   * `start` returns (there is no earlier date to write it on), then each month's last trading day */
  const int snapshot = m->o.weights == SYNTH_WEIGHTS_DAILY || t == m->t0 || month_end(m->dates[t]);
  const int price = m->o.index_kind == SYNTH_INDEX_PRICE;
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    synth_out *f = &R->out[OUT_WEIGHTS];
    const char *code = zz_index_code(k);
    for (int i = 0; i < m->n && snapshot; i++) {
      double w;
      if (synth_index_member(R->x, i, &w) != k) continue;
      char *p = synth_out_reserve(f, 96);
      memcpy(p, ds, 10);
      p += 10;
      *p++ = ',';
      p = put_str(p, code);
      *p++ = ',';
      p = put_str(p, m->s[i].code);
      *p++ = ',';
      p = synth_fmt_fixed(p, 100.0 * w, 10);
      *p++ = '\n';
      synth_out_advance(f, p);
    }
    put_index_close(&R->out[OUT_INDEX_BARS], ds, code,
                    price ? synth_index_close_price(R->x, k) : synth_index_close(R->x, k));
    if (price) put_index_close(&R->out[OUT_INDEX_TOTAL], ds, code, synth_index_close(R->x, k));
  }
}

static void write_factors(synth_run *R, int t) {
  synth_market *m = R->m;
  synth_out *f = &R->out[OUT_FACTORS];
  char *p = synth_out_reserve(f, 64 + 24 * (size_t)m->n_ind);
  memcpy(p, m->date_str[t], 10);
  p += 10;
  const double v[3] = {m->f_country, m->f_size, m->f_mom};
  for (int k = 0; k < 3; k++) {
    *p++ = ',';
    p = synth_fmt_fixed(p, v[k], 10);
  }
  for (int k = 0; k < m->n_ind; k++) {
    *p++ = ',';
    p = synth_fmt_fixed(p, m->f_ind[k], 10);
  }
  *p++ = '\n';
  synth_out_advance(f, p);
}

/* Quarterly reports, announced around 28 April (annual + Q1), 28 August and 28 October, each stock
 * a fixed 0-19 days earlier; a first record on the first written day (or the listing day). */
static void write_fundamentals(synth_run *R, int t) {
  synth_market *m = R->m;
  const int32_t today = zz_date_to_days(m->dates[t]), prev = zz_date_to_days(m->dates[t - 1]);
  const int y = m->dates[t] / 10000;
  static const int nominal[3] = {428, 828, 1028};
  for (int i = 0; i < m->n; i++) {
    synth_stock *s = &m->s[i];
    if (!synth_listed(s, t)) continue;
    int due = t == m->t0 || t == s->list_t;
    for (int q = 0; q < 3 && !due; q++) {
      const int32_t target = zz_date_to_days(y * 10000 + nominal[q]) - s->fund_offset;
      due = prev < target && target <= today;
    }
    if (!due) continue;
    /* the fundamentals state evolves by one report */
    s->bp = fmin(fmax(s->bp * exp(0.12 * synth_rng_normal(&m->rng)), 0.02), 5.0);
    s->roe = 0.8 * s->roe + 0.2 * 0.08 + 0.03 * synth_rng_normal(&m->rng);
    const double total_mv = (double)s->total_shares * (double)s->close_c / 100.0;
    const double book = s->bp * total_mv, assets = book * s->lev;
    const double v[7] = {(double)s->float_shares, (double)s->total_shares, book, s->roe * book,
                         assets * (0.4 + 0.3 * s->margin) * exp(0.1 * synth_rng_normal(&m->rng)), assets - book,
                         assets};
    if (m->o.no_fundamentals) continue; /* the state still evolves: the market's stream stays the same */
    synth_out *f = &R->out[OUT_FUND];
    char *p = synth_out_reserve(f, 256);
    memcpy(p, m->date_str[t], 10);
    p += 10;
    *p++ = ',';
    p = put_str(p, s->code);
    for (int k = 0; k < 7; k++) {
      *p++ = ',';
      p = synth_fmt_fixed(p, v[k], k < 2 ? 0 : 2);
    }
    *p++ = '\n';
    synth_out_advance(f, p);
  }
}

/* ------------------------------------------------------------ vendor conditions */

/* A row of truth/vendor.csv: kind,code,start_date,end_date,detail (detail: key=value;key=value). */
static void put_vendor(synth_run *R, const char *kind, const char *code, const char *from, const char *to,
                       const char *detail) {
  char line[512];
  snprintf(line, sizeof line, "%s,%s,%s,%s,%s\n", kind, code, from, to, detail);
  synth_out_str(&R->out[OUT_VENDOR], line);
}

static int cmp_desc(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x > y ? -1 : x < y ? 1 : 0;
}

static double odds(double w) { return w / (1 - w); }

/* The --max-weight stock: the largest float cap among the stocks the first composition (ranked on day
 * 0) can take, and the share multiplier (>= 1) that makes it `target` of the 300 largest caps. */
static int pick_big(const synth_market *m, double target, double *scale, double *tmp) {
  int c = 0, big = -1;
  for (int i = 0; i < m->n; i++) {
    const synth_stock *s = &m->s[i];
    if (!synth_listed(s, 0) || s->st) continue;
    tmp[c] = (double)s->float_shares * (double)s->close_c;
    if (big < 0 || tmp[c] > (double)m->s[big].float_shares * (double)m->s[big].close_c) big = i;
    c++;
  }
  qsort(tmp, (size_t)c, sizeof *tmp, cmp_desc);
  double top = 0;
  for (int r = 0; r < c && r < 300; r++) top += tmp[r];
  const double cap = tmp[0], rest = top - cap;
  *scale = c > 1 ? fmax(1.0, odds(target) * rest / cap) : 1.0;
  return big;
}

/* Days 0 .. t0 (the burn-in and the first written day's step), nothing written. With --max-weight the
 * run restarts from day 0 with another multiplier until that stock weighs between 1.02 and 1.35 times
 * max_weight in CSI300 at the first written close (above it, but not a caricature): its cap drifts with
 * its own returns over the burn-in, so day 0's share is only a first guess. Share counts draw no random numbers, so every attempt is the
 * same market but for that stock's size (and the size exposures, which depend on it); weight odds are
 * proportional to the multiplier, so one correction usually suffices. */
static int burn_in(synth_run *R, zz_err *err) {
  const synth_opts *o = R->o;
  const double W = o->max_weight;
  int rc;
  R->big = -1;
  R->big_scale = 1;
  if (W > 0) R->big = pick_big(R->m, fmin(1.15 * W, 0.9), &R->big_scale, R->a);
  for (int attempt = 0;; attempt++) {
    synth_market *m = R->m;
    if (R->big >= 0 && R->big_scale > 1) synth_market_scale_shares(m, R->big, R->big_scale);
    for (int t = 0; t <= m->t0; t++) {
      synth_market_step(m, t);
      if ((rc = synth_index_step(R->x, m, t, err))) return rc;
      if (t < m->t0 && (rc = oracle_step(R, t, err))) return rc;
    }
    if (W <= 0) return ZZ_OK;
    double w = 0;
    const int in300 = synth_index_member(R->x, R->big, &w) == PANEL_CSI300;
    /* too heavy only matters while the multiplier can still shrink (a stock naturally above W stays) */
    if (in300 && w > 1.02 * W && (w <= 1.35 * W || R->big_scale == 1 || attempt == 7)) return ZZ_OK;
    if (attempt == 7)
      return zz_fail(err, ZZ_EINTERNAL, "--max-weight %g: the largest CSI300 member still weighs %.4f after %d attempts",
                     W, w, attempt + 1);
    if (synth_index_member(R->x, R->big, NULL) != PANEL_CSI300) {
      /* it left CSI300 during the burn-in (ST, say): scale CSI300's heaviest member instead */
      R->big = -1;
      R->big_scale = 1;
      w = 0;
      for (int i = 0; i < m->n; i++) {
        double wi;
        if (synth_index_member(R->x, i, &wi) == PANEL_CSI300 && wi > w) w = wi, R->big = i;
      }
      if (R->big < 0) return zz_fail(err, ZZ_EINTERNAL, "--max-weight: CSI300 has no member at the first written close");
    }
    R->big_scale = fmax(1.0, R->big_scale * odds(fmin(1.15 * W, 0.9)) / odds(w));
    synth_index_free(R->x);
    R->x = NULL;
    synth_market_free(R->m);
    R->m = NULL;
    if ((rc = synth_market_create(&R->m, o, err)) || (rc = synth_index_create(&R->x, R->m, err))) return rc;
  }
}

/* Plans the --long-suspensions: lengths 30 .. 80 trading days, starting after the first written day and
 * ending before the last (the stock trades again in the written period), alternately in CSI300 and
 * CSI500. A window without a review's ranking day keeps the stock a member (eligibility asks for a bar
 * on that day; real indexes keep a suspended member's weight); when 200 draws find none, the last draw
 * stays and the stock may leave at that review. */
static int plan_suspensions(synth_run *R, zz_err *err) {
  const synth_market *m = R->m;
  const int W = m->n_days - m->t0;
  for (int k = 0; k < R->o->long_suspensions; k++) {
    long_susp *L = &R->susp[k];
    L->days = 30 + synth_rng_below(&R->vrng, 51);
    if (L->days > W - 2) L->days = W - 2;
    if (L->days < 30)
      return zz_fail(err, ZZ_EUSAGE, "--long-suspensions: the written period holds %d trading days: expected at least 32",
                     W);
    L->index = k % 2 == 0 ? PANEL_CSI300 : PANEL_CSI500;
    L->stock = -1;
    const int lo = m->t0 + 1, span = W - 1 - L->days;
    for (int tries = 0; tries < 200; tries++) {
      L->t = lo + synth_rng_below(&R->vrng, span);
      int review = 0;
      for (int u = L->t; u < L->t + L->days && !review; u++) review = synth_index_review_day(R->x, u) == 1;
      if (!review) break;
    }
  }
  return ZZ_OK;
}

static int is_long_suspended(const synth_run *R, int i) {
  for (int k = 0; k < R->o->long_suspensions; k++)
    if (R->susp[k].stock == i) return 1;
  return 0;
}

/* Before day t's step: the planned suspensions starting today take a member of their index at the last
 * close that traded then, is not ST, will not delist and plays no other vendor role. */
static int start_suspensions(synth_run *R, int t, zz_err *err) {
  synth_market *m = R->m;
  for (int k = 0; k < R->o->long_suspensions; k++) {
    long_susp *L = &R->susp[k];
    if (L->t != t) continue;
    int c = 0;
    for (int pass = 0; pass < 2; pass++) { /* count the candidates, then take the r-th */
      const int r = pass ? synth_rng_below(&R->vrng, c) : -1;
      int j = 0;
      for (int i = 0; i < m->n; i++) {
        const synth_stock *s = &m->s[i];
        if (synth_index_member(R->x, i, NULL) != L->index || !s->has_bar || s->susp_left || s->st || s->st_pending ||
            s->delist_t < m->n_days || i == R->big || is_long_suspended(R, i))
          continue;
        if (pass && j == r) {
          L->stock = i;
          break;
        }
        j++;
      }
      if (!pass) c = j;
      if (!c) return zz_fail(err, ZZ_EINTERNAL, "%d: no %s member to suspend", (int)m->dates[t], zz_index_name(L->index));
    }
    synth_market_suspend(m, L->stock, L->days);
    char detail[64];
    snprintf(detail, sizeof detail, "index=%s;days=%d", zz_index_code(L->index), L->days);
    put_vendor(R, "long_suspension", m->s[L->stock].code, m->date_str[t], m->date_str[t + L->days - 1], detail);
  }
  return ZZ_OK;
}

/* At the first written close: CSI300's largest weight (reported), and the --max-weight row. */
static void first_close(synth_run *R) {
  const synth_market *m = R->m;
  R->max_w0 = 0;
  for (int i = 0; i < m->n; i++) {
    double w;
    if (synth_index_member(R->x, i, &w) == PANEL_CSI300 && w > R->max_w0) R->max_w0 = w;
  }
  if (R->big >= 0) {
    double w;
    synth_index_member(R->x, R->big, &w);
    char detail[96];
    snprintf(detail, sizeof detail, "index=000300;weight=%.6f;share_scale=%.6f", w, R->big_scale);
    put_vendor(R, "max_weight", m->s[R->big].code, m->date_str[m->t0], "", detail);
  }
}

/* --singleton-industries: stocks that were CSI300 members on every written day (else on some), never
 * change industry, never delist and play no other vendor role, each moved into an industry of its own
 * (the label only: its returns keep their industry factor). Marks solo[i] = k for the k-th. */
static int choose_singletons(synth_run *R, int *solo, int *cand, zz_err *err) {
  const synth_market *m = R->m;
  const int K = R->o->singleton_industries, W = m->n_days - m->t0;
  for (int i = 0; i < m->n; i++) solo[i] = -1;
  if (K <= 0) return ZZ_OK;
  int c = 0;
  for (int tier = 0; tier < 2 && c < K; tier++) {
    c = 0;
    for (int i = 0; i < m->n; i++) {
      const synth_stock *s = &m->s[i];
      if ((tier == 0 ? R->days300[i] < W : R->days300[i] == 0) || s->ind_change_t >= 0 || s->delist_t < m->n_days ||
          i == R->big || is_long_suspended(R, i))
        continue;
      cand[c++] = i;
    }
  }
  if (c < K)
    return zz_fail(err, ZZ_EUSAGE, "--singleton-industries %d: only %d CSI300 members qualify", K, c);
  for (int k = 0; k < K; k++) { /* partial Fisher-Yates: K distinct candidates */
    const int r = k + synth_rng_below(&R->vrng, c - k), i = cand[r];
    cand[r] = cand[k];
    cand[k] = i;
    solo[i] = k;
  }
  return ZZ_OK;
}

/* --industry-coverage: round(F N) stocks (at least the singletons) keep their industry rows, the others
 * have none (ingest rejects an empty industry field, so absence is how a vendor gap reaches the panel). */
static void choose_covered(synth_run *R, const int *solo, uint8_t *covered, int *order) {
  const synth_market *m = R->m;
  const double F = R->o->industry_coverage;
  if (F >= 1.0) {
    memset(covered, 1, (size_t)m->n);
    return;
  }
  memset(covered, 0, (size_t)m->n);
  int want = (int)llround(F * m->n), have = 0;
  for (int i = 0; i < m->n; i++)
    if (solo[i] >= 0) covered[i] = 1, have++;
  for (int i = 0; i < m->n; i++) order[i] = i;
  for (int k = 0; k < m->n - 1; k++) { /* Fisher-Yates */
    const int r = k + synth_rng_below(&R->vrng, m->n - k), i = order[r];
    order[r] = order[k];
    order[k] = i;
  }
  for (int k = 0; k < m->n && have < want; k++)
    if (!covered[order[k]]) covered[order[k]] = 1, have++;
}

static int write_static(synth_run *R, zz_err *err) {
  synth_market *m = R->m;
  synth_out *f = &R->out[OUT_STOCKS];
  for (int i = 0; i < m->n; i++) {
    const synth_stock *s = &m->s[i];
    char line[256], d1[11], d2[11] = "";
    zz_date_format(s->list_date, d1);
    if (s->delist_t < m->n_days) zz_date_format(m->dates[s->delist_t], d2);
    snprintf(line, sizeof line, "%s,SYN%.6s,%s,%s,%s\n", s->code, s->code, panel_board_name(s->board), d1, d2);
    synth_out_str(f, line);
  }
  int *solo = malloc((size_t)m->n * sizeof *solo), *scratch = malloc((size_t)m->n * sizeof *scratch);
  uint8_t *covered = malloc((size_t)m->n);
  int rc = solo && scratch && covered ? ZZ_OK : zz_fail(err, ZZ_ENOMEM, "out of memory for industry.csv");
  if (!rc) rc = choose_singletons(R, solo, scratch, err);
  if (!rc) choose_covered(R, solo, covered, scratch);
  f = &R->out[OUT_INDUSTRY];
  for (int i = 0; i < m->n && !rc; i++) {
    const synth_stock *s = &m->s[i];
    if (!covered[i]) continue;
    char line[256], d1[11], d2[11], d3[11];
    zz_date_format(s->list_date, d1);
    if (solo[i] >= 0) {
      char name[32], detail[96];
      snprintf(name, sizeof name, "Singleton%02d", solo[i] + 1);
      snprintf(line, sizeof line, "%s,%s,%s,\n", s->code, name, d1);
      snprintf(detail, sizeof detail, "industry=%s;from=%s", name, synth_industry_names[s->ind]);
      put_vendor(R, "singleton_industry", s->code, d1, "", detail);
    } else if (s->ind_change_t >= 0) {
      zz_date_format(m->dates[s->ind_change_t - 1], d2);
      zz_date_format(m->dates[s->ind_change_t], d3);
      snprintf(line, sizeof line, "%s,%s,%s,%s\n%s,%s,%s,\n", s->code, synth_industry_names[s->ind], d1, d2,
               s->code, synth_industry_names[s->ind_new], d3);
    } else {
      snprintf(line, sizeof line, "%s,%s,%s,\n", s->code, synth_industry_names[s->ind], d1);
    }
    synth_out_str(f, line);
  }
  free(solo);
  free(scratch);
  free(covered);
  return rc;
}

static int make_dir(const char *path, zz_err *err) {
  if (mkdir(path, 0777) == 0) return ZZ_OK;
  struct stat st;
  if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return ZZ_OK;
  return zz_fail(err, ZZ_EIO, "%s: cannot create directory: %s", path, strerror(errno));
}

static const char *const headers[OUT_N] = {
    "date,code,open,high,low,close,volume,amount,pre_close,vwap,adj_factor,up_limit,down_limit,suspended,is_st,"
    "float_mv,total_mv\n",
    "date,index,code,weight\n",
    "date,index,close\n",
    "date,code,float_shares,total_shares,book_equity,net_profit_ttm,revenue_ttm,total_liabilities,total_assets\n",
    NULL, /* factor returns: built from the industry names */
    "date,rankic,rankic_conditional,rankic_realised_drift\n",
    "date,code,expected_return,expected_return_conditional,realised_drift\n",
    "code,name,board,list_date,delist_date\n",
    "code,industry,start_date,end_date\n",
    "kind,code,start_date,end_date,detail\n",
    "date,index,close\n"};
static const char vendor_bars_header[] =
    "date,code,open,high,low,close,volume,amount,pre_close,up_limit,down_limit,suspended,is_st,float_mv,total_mv\n";

static int run_all(synth_run *R, const char *dir, zz_err *err) {
  int rc;
  char truth[4096];
  if ((rc = make_dir(dir, err))) return rc;
  if ((size_t)snprintf(truth, sizeof truth, "%s/truth", dir) >= sizeof truth)
    return zz_fail(err, ZZ_EUSAGE, "%s: path too long", dir);
  if ((rc = make_dir(truth, err))) return rc;
  for (int k = 0; k < OUT_N; k++) {
    if (!out_wanted(R->o, k)) continue;
    if ((rc = synth_out_open(&R->out[k], dir, out_names[k], err))) return rc;
    if (k == OUT_BARS && R->o->vendor_bars) {
      synth_out_str(&R->out[k], vendor_bars_header);
    } else if (headers[k]) {
      synth_out_str(&R->out[k], headers[k]);
    } else {
      synth_out_str(&R->out[k], "date,country,size,momentum");
      for (int j = 0; j < R->m->n_ind; j++) {
        synth_out_str(&R->out[k], ",");
        synth_out_str(&R->out[k], synth_industry_names[j]);
      }
      synth_out_str(&R->out[k], "\n");
    }
  }
  if ((rc = plan_suspensions(R, err)) || (rc = burn_in(R, err))) return rc;
  synth_market *m = R->m; /* burn_in may have made a new one */
  for (int t = m->t0; t < m->n_days; t++) {
    if (t > m->t0) { /* day t0 was stepped by burn_in */
      if ((rc = start_suspensions(R, t, err))) return rc;
      synth_market_step(m, t);
      if ((rc = synth_index_step(R->x, m, t, err))) return rc;
    }
    if ((rc = oracle_step(R, t, err))) return rc;
    for (int i = 0; i < m->n; i++) R->days300[i] += synth_index_member(R->x, i, NULL) == PANEL_CSI300;
    if (t == m->t0) first_close(R);
    write_bars(R, t);
    write_index(R, t);
    write_factors(R, t);
    write_fundamentals(R, t);
  }
  return write_static(R, err);
}

int synth_write(const char *out_dir, const synth_opts *o, synth_report *rep, zz_err *err) {
  if (rep) memset(rep, 0, sizeof *rep);
  if (!out_dir || !*out_dir) return zz_fail(err, ZZ_EUSAGE, "no output directory given");
  synth_run R;
  memset(&R, 0, sizeof R);
  R.paths = o->oracle_paths > 0 ? o->oracle_paths : 16;
  if (R.paths > 1000) return zz_fail(err, ZZ_EUSAGE, "oracle paths %d: expected 1 .. 1000", o->oracle_paths);
  if (!(o->industry_coverage >= 0 && o->industry_coverage <= 1))
    return zz_fail(err, ZZ_EUSAGE, "industry coverage %g: expected 0 .. 1", o->industry_coverage);
  if (o->singleton_industries < 0 || o->singleton_industries > 20)
    return zz_fail(err, ZZ_EUSAGE, "singleton industries %d: expected 0 .. 20", o->singleton_industries);
  if (o->long_suspensions < 0 || o->long_suspensions > 50)
    return zz_fail(err, ZZ_EUSAGE, "long suspensions %d: expected 0 .. 50", o->long_suspensions);
  if (!(o->max_weight >= 0 && o->max_weight <= 0.5))
    return zz_fail(err, ZZ_EUSAGE, "max weight %g: expected 0 (off) .. 0.5", o->max_weight);
  if ((o->weights != SYNTH_WEIGHTS_DAILY && o->weights != SYNTH_WEIGHTS_MONTHLY) ||
      (o->index_kind != SYNTH_INDEX_TOTAL && o->index_kind != SYNTH_INDEX_PRICE))
    return zz_fail(err, ZZ_EUSAGE, "weights %d / index kind %d: unknown value", (int)o->weights, (int)o->index_kind);
  R.o = o;
  /* the vendor choices draw from their own generator, so turning one on moves no other random number */
  synth_rng_seed(&R.vrng, o->seed ^ 0x5be0cd19137e2179ull);
  int rc = synth_market_create(&R.m, o, err);
  if (rc) return rc;
  for (R.t_grid = R.m->t0; R.t_grid < R.m->n_days - 1 && R.m->dates[R.t_grid] < o->oracle_anchor;) R.t_grid++;
  rc = synth_index_create(&R.x, R.m, err);
  const int n = R.m->n;
  if (!rc) {
    for (int k = 0; k < N_SLOTS; k++) {
      R.slot[k].t = -1;
      R.slot[k].drift = malloc((size_t)n * sizeof(double));
      R.slot[k].cond = malloc((size_t)n * sizeof(double));
      R.slot[k].score = malloc((size_t)n * sizeof(double));
      R.slot[k].p1 = malloc((size_t)n * sizeof(double));
      R.slot[k].ok = calloc((size_t)n, 1);
      R.slot[k].sampled = calloc((size_t)n, 1);
      if (!R.slot[k].drift || !R.slot[k].cond || !R.slot[k].score || !R.slot[k].p1 || !R.slot[k].ok || !R.slot[k].sampled)
        rc = ZZ_ENOMEM;
    }
    R.a = malloc((size_t)n * sizeof *R.a);
    R.b = malloc((size_t)n * sizeof *R.b);
    R.c = malloc((size_t)n * sizeof *R.c);
    R.d = malloc((size_t)n * sizeof *R.d);
    R.pa = malloc((size_t)n * (size_t)R.paths * sizeof *R.pa);
    R.pe = malloc((size_t)n * (size_t)R.paths * sizeof *R.pe);
    R.rank_work = malloc(zz_stats_work_bytes(n));
    R.susp = calloc((size_t)o->long_suspensions + 1, sizeof *R.susp);
    R.days300 = calloc((size_t)n, sizeof *R.days300);
    if (!R.a || !R.b || !R.c || !R.d || !R.pa || !R.pe || !R.rank_work || !R.susp || !R.days300)
      rc = ZZ_ENOMEM;
    if (rc) zz_fail(err, ZZ_ENOMEM, "out of memory for the oracle RankIC");
  }
  if (!rc) rc = run_all(&R, out_dir, err);
  int committed[OUT_N] = {0};
  for (int k = 0; k < OUT_N; k++) {
    zz_err e2 = {0, ""};
    const int was_open = R.out[k].f != NULL;
    int rc2 = synth_out_close(&R.out[k], rc == ZZ_OK, &e2);
    committed[k] = was_open && rc == ZZ_OK && rc2 == ZZ_OK;
    if (rc2 && !rc) {
      rc = rc2;
      if (err) *err = e2;
    }
  }
  if (rc) /* a failure while renaming: remove what this run committed, leave no partial market */
    for (int k = 0; k < OUT_N; k++)
      if (committed[k]) remove(R.out[k].path);
  /* no stale file from an earlier run with other options (oracle scores of a --truth run, the
   * fundamentals that a --no-fundamentals market must not have, ...) */
  for (int k = 0; k < OUT_N && !rc; k++) {
    char p[4096];
    if (!out_wanted(o, k) && (size_t)snprintf(p, sizeof p, "%s/%s", out_dir, out_names[k]) < sizeof p) remove(p);
  }
  if (!rc && rep) {
    rep->n_dates = R.m->n_days - R.m->t0;
    rep->n_stocks = n;
    rep->n_ic_dates = R.ic_n;
    rep->csi300_max_weight = R.max_w0;
    if (R.ic_n > 0) {
      const double mean = R.ic_sum / R.ic_n;
      const double var = R.ic_n > 1 ? (R.ic_sum2 - R.ic_n * mean * mean) / (R.ic_n - 1) : 0;
      rep->oracle_rankic_mean = mean;
      rep->oracle_rankic_ir = var > 0 ? mean / sqrt(var) : 0;
      const double cmean = R.cic_sum / R.ic_n;
      const double cvar = R.ic_n > 1 ? (R.cic_sum2 - R.ic_n * cmean * cmean) / (R.ic_n - 1) : 0;
      rep->oracle_cond_rankic_mean = cmean;
      rep->oracle_cond_rankic_ir = cvar > 0 ? cmean / sqrt(cvar) : 0;
      rep->drift_rankic_mean = R.dic_sum / R.ic_n;
    }
  }
  for (int k = 0; k < N_SLOTS; k++) {
    free(R.slot[k].drift);
    free(R.slot[k].cond);
    free(R.slot[k].score);
    free(R.slot[k].sampled);
    free(R.slot[k].p1);
    free(R.slot[k].ok);
  }
  free(R.a);
  free(R.b);
  free(R.c);
  free(R.d);
  free(R.pa);
  free(R.pe);
  synth_market_free(R.sim);
  free(R.rank_work);
  free(R.susp);
  free(R.days300);
  synth_index_free(R.x);
  synth_market_free(R.m);
  return rc;
}

/* ------------------------------------------------------------ reading truth/oracle_rankic.csv */

int synth_oracle_read(const char *market_dir, int32_t from, int32_t to, synth_oracle_summary *s, zz_err *err) {
  memset(s, 0, sizeof *s);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", market_dir, out_names[OUT_ORACLE]);
  struct stat st;
  if (stat(path, &st) != 0) return ZZ_OK; /* not a synthetic market (or an old one): no oracle */
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const c_date[] = {"date", NULL}, *const c_ic[] = {"rankic", NULL},
                           *const c_cic[] = {"rankic_conditional", NULL};
  const int cd = zz_csv_require(r, c_date, err), ci = cd < 0 ? -1 : zz_csv_require(r, c_ic, err),
            cc = ci < 0 ? -1 : zz_csv_require(r, c_cic, err);
  if (cd < 0 || ci < 0 || cc < 0) {
    zz_csv_close(r);
    return ZZ_EDATA;
  }
  double sum = 0, sum2 = 0, csum = 0;
  int n = 0, more = 0;
  while (!rc && (more = zz_csv_next(r, err)) == 1) {
    int32_t d;
    double ic, cic;
    if ((rc = zz_csv_date(r, cd, &d, err)) || (rc = zz_csv_double(r, ci, 0, &ic, err)) ||
        (rc = zz_csv_double(r, cc, 0, &cic, err)))
      break;
    if (d >= from && d <= to) sum += ic, sum2 += ic * ic, csum += cic, n++;
  }
  zz_csv_close(r);
  if (!rc && more < 0) rc = -more;
  if (rc) return rc;
  s->present = 1;
  s->n = n;
  if (n > 0) {
    s->rankic_mean = sum / n;
    s->cond_rankic_mean = csum / n;
    const double v = n > 1 ? (sum2 - n * s->rankic_mean * s->rankic_mean) / (n - 1) : 0;
    s->rankic_ir = v > 0 ? s->rankic_mean / sqrt(v) : NAN;
  }
  return ZZ_OK;
}
