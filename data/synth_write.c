/* synth_write.c — `synth_write`: runs the synthetic market date by date and writes the market
 * directory (SPEC 2.1 files plus truth/ with the true factor returns and the oracle RankIC).
 * Files are written under temporary names and renamed only when everything succeeded. */
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
}

enum { OUT_BARS, OUT_WEIGHTS, OUT_INDEX_BARS, OUT_FUND, OUT_FACTORS, OUT_ORACLE, OUT_EXPECTED, OUT_STOCKS,
       OUT_INDUSTRY, OUT_N };
static const char *const out_names[OUT_N] = {
    "bars.csv", "index_weights.csv", "index_bars.csv", "fundamentals.csv", "truth/factor_returns.csv",
    "truth/oracle_rankic.csv", "truth/expected_return.csv", "stocks.csv", "industry.csv"};

/* ------------------------------------------------------------ oracle RankIC */

typedef struct { double v; int i; } val_idx;
static int cmp_val(const void *a, const void *b) {
  const val_idx *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return x->i - y->i;
}

/* Average ranks (ties share their mean rank) of v[0..n-1] into r. */
static void average_ranks(const double *v, int n, double *r, val_idx *tmp) {
  for (int k = 0; k < n; k++) tmp[k] = (val_idx){v[k], k};
  qsort(tmp, (size_t)n, sizeof *tmp, cmp_val);
  for (int a = 0; a < n;) {
    int b = a;
    while (b + 1 < n && tmp[b + 1].v == tmp[a].v) b++;
    for (int k = a; k <= b; k++) r[tmp[k].i] = 0.5 * (a + b) + 1;
    a = b + 1;
  }
}

static double pearson(const double *x, const double *y, int n) {
  double mx = 0, my = 0;
  for (int k = 0; k < n; k++) mx += x[k], my += y[k];
  mx /= n;
  my /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (int k = 0; k < n; k++) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
    syy += (y[k] - my) * (y[k] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

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

typedef struct synth_run {
  synth_market *m;
  synth_index *x;
  synth_out out[OUT_N];
  oracle_slot slot[N_SLOTS];
  double *a, *b, *c, *d, *ra, *rb;
  val_idx *tmp;
  double ic_sum, ic_sum2, cic_sum, cic_sum2, dic_sum;
  int ic_n;
  synth_market *sim; /* scratch copy of the market for the oracle's Monte Carlo */
  int paths;
  double *pa, *pe;   /* n x paths: simulated window alpha and window specific shocks */
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

/* Spearman correlation (average ranks) of x and y over c stocks; NAN when undefined. */
static double rank_ic(synth_run *R, const double *x, const double *y, int c) {
  if (c < 3) return NAN;
  average_ranks(x, c, R->ra, R->tmp);
  average_ranks(y, c, R->rb, R->tmp);
  return pearson(R->ra, R->rb, c);
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
  /* a new sample every 10 trading days of the written period, while T+11 exists */
  if (t >= m->t0 && (t - m->t0) % 10 == 0 && t + 11 < m->n_days) {
    for (int k = 0; k < N_SLOTS; k++) {
      oracle_slot *o = &R->slot[k];
      if (o->t >= 0) continue;
      o->t = t;
      for (int i = 0; i < n; i++) {
        const synth_stock *s = &m->s[i];
        o->ok[i] = o->sampled[i] = (uint8_t)(synth_listed(s, t) && s->has_bar);
        o->cond[i] = m->ap.kappa * m->alpha_horizon * (s->m - m->m_mean);
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
  for (int i = 0; i < m->n; i++) {
    const synth_stock *s = &m->s[i];
    /* a stock suspended on the first written day gets a suspended=1 row, so its close is known */
    if (!s->row && !(t == m->t0 && synth_listed(s, t))) continue;
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
    p = synth_fmt_i64(p, s->vwap_e4, 4);
    *p++ = ',';
    p = synth_fmt_fixed(p, s->adj, 10);
    *p++ = ',';
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

static void write_index(synth_run *R, int t) {
  synth_market *m = R->m;
  const char *ds = m->date_str[t];
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    synth_out *f = &R->out[OUT_WEIGHTS];
    const char *code = zz_index_code(k);
    for (int i = 0; i < m->n; i++) {
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
    f = &R->out[OUT_INDEX_BARS];
    char *p = synth_out_reserve(f, 96);
    memcpy(p, ds, 10);
    p += 10;
    *p++ = ',';
    p = put_str(p, code);
    *p++ = ',';
    p = synth_fmt_fixed(p, synth_index_close(R->x, k), 6);
    *p++ = '\n';
    synth_out_advance(f, p);
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

static void write_static(synth_run *R) {
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
  f = &R->out[OUT_INDUSTRY];
  for (int i = 0; i < m->n; i++) {
    const synth_stock *s = &m->s[i];
    char line[256], d1[11], d2[11], d3[11];
    zz_date_format(s->list_date, d1);
    if (s->ind_change_t >= 0) {
      zz_date_format(m->dates[s->ind_change_t - 1], d2);
      zz_date_format(m->dates[s->ind_change_t], d3);
      snprintf(line, sizeof line, "%s,%s,%s,%s\n%s,%s,%s,\n", s->code, synth_industry_names[s->ind], d1, d2,
               s->code, synth_industry_names[s->ind_new], d3);
    } else {
      snprintf(line, sizeof line, "%s,%s,%s,\n", s->code, synth_industry_names[s->ind], d1);
    }
    synth_out_str(f, line);
  }
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
    "code,industry,start_date,end_date\n"};

static int run_all(synth_run *R, const char *dir, zz_err *err) {
  synth_market *m = R->m;
  int rc;
  char truth[4096];
  if ((rc = make_dir(dir, err))) return rc;
  if ((size_t)snprintf(truth, sizeof truth, "%s/truth", dir) >= sizeof truth)
    return zz_fail(err, ZZ_EUSAGE, "%s: path too long", dir);
  if ((rc = make_dir(truth, err))) return rc;
  for (int k = 0; k < OUT_N; k++) {
    if (k == OUT_EXPECTED && !m->o.truth_scores) continue;
    if ((rc = synth_out_open(&R->out[k], dir, out_names[k], err))) return rc;
    if (headers[k]) {
      synth_out_str(&R->out[k], headers[k]);
    } else {
      synth_out_str(&R->out[k], "date,country,size,momentum");
      for (int j = 0; j < m->n_ind; j++) {
        synth_out_str(&R->out[k], ",");
        synth_out_str(&R->out[k], synth_industry_names[j]);
      }
      synth_out_str(&R->out[k], "\n");
    }
  }
  for (int t = 0; t < m->n_days; t++) {
    synth_market_step(m, t);
    if ((rc = synth_index_step(R->x, m, t, err))) return rc;
    if ((rc = oracle_step(R, t, err))) return rc;
    if (t < m->t0) continue;
    write_bars(R, t);
    write_index(R, t);
    write_factors(R, t);
    write_fundamentals(R, t);
  }
  write_static(R);
  return ZZ_OK;
}

int synth_write(const char *out_dir, const synth_opts *o, synth_report *rep, zz_err *err) {
  if (rep) memset(rep, 0, sizeof *rep);
  if (!out_dir || !*out_dir) return zz_fail(err, ZZ_EUSAGE, "no output directory given");
  synth_run R;
  memset(&R, 0, sizeof R);
  R.paths = o->oracle_paths > 0 ? o->oracle_paths : 16;
  if (R.paths > 1000) return zz_fail(err, ZZ_EUSAGE, "oracle paths %d: expected 1 .. 1000", o->oracle_paths);
  int rc = synth_market_create(&R.m, o, err);
  if (rc) return rc;
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
    R.ra = malloc((size_t)n * sizeof *R.ra);
    R.rb = malloc((size_t)n * sizeof *R.rb);
    R.tmp = malloc((size_t)n * sizeof *R.tmp);
    if (!R.a || !R.b || !R.c || !R.d || !R.pa || !R.pe || !R.ra || !R.rb || !R.tmp) rc = ZZ_ENOMEM;
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
  if (!rc && !o->truth_scores) { /* no stale oracle scores from an earlier --truth run */
    char p[4096];
    if ((size_t)snprintf(p, sizeof p, "%s/%s", out_dir, out_names[OUT_EXPECTED]) < sizeof p) remove(p);
  }
  if (!rc && rep) {
    rep->n_dates = R.m->n_days - R.m->t0;
    rep->n_stocks = n;
    rep->n_ic_dates = R.ic_n;
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
  free(R.ra);
  free(R.rb);
  free(R.tmp);
  synth_index_free(R.x);
  synth_market_free(R.m);
  return rc;
}
