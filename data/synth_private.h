/* synth_private.h — internals of the synthetic market generator (data/synth_*.c), not a public API.
 *
 * The generator runs date by date over a calendar that starts SYNTH_BURN_IN trading days before the
 * first written date (the burn-in gives every stock a return history, so style exposures exist from
 * the first written day). Only rolling per-stock state is kept in memory. */
#ifndef ZZ_SYNTH_PRIVATE_H
#define ZZ_SYNTH_PRIVATE_H

#include "data.h"

#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------ PRNG (xoshiro256**) */
typedef struct synth_rng {
  uint64_t s[4];
} synth_rng;

void synth_rng_seed(synth_rng *r, uint64_t seed);
uint64_t synth_rng_next(synth_rng *r);
double synth_rng_uniform(synth_rng *r);          /* in (0, 1) */
double synth_rng_normal(synth_rng *r);           /* N(0, 1), Box-Muller, no cached spare */
double synth_rng_student(synth_rng *r, int nu);  /* Student t with nu dof scaled to unit variance */
int synth_rng_below(synth_rng *r, int n);        /* uniform integer in [0, n) */

/* ------------------------------------------------------------ buffered CSV output */
typedef struct synth_out {
  FILE *f;
  char *buf;
  size_t len, cap;
  int failed;     /* a write failed (errno-style problem reported at close) */
  char path[4096];
  char tmp[4096]; /* path + ".tmp": written, renamed on commit */
} synth_out;

int synth_out_open(synth_out *o, const char *dir, const char *name, zz_err *err);
/* Reserves room for at least n more bytes and returns the write position. */
char *synth_out_reserve(synth_out *o, size_t n);
void synth_out_advance(synth_out *o, char *end);
void synth_out_str(synth_out *o, const char *s);
/* Flushes and closes; on success renames the temporary file to its final name when commit. */
int synth_out_close(synth_out *o, int commit, zz_err *err);

/* Fixed-point formatting: v / 10^dec with exactly dec decimals. Returns the end pointer. */
char *synth_fmt_i64(char *p, int64_t v, int dec);
/* Rounds x * 10^dec half away from zero and formats it like synth_fmt_i64. */
char *synth_fmt_fixed(char *p, double x, int dec);

/* ------------------------------------------------------------ calendar */
/* Trading days (weekdays minus fixed holidays) from from_ymd to to_ymd inclusive. Returns the count;
 * *out is malloc'd. Returns -1 when out of memory. */
int synth_calendar(int32_t from_ymd, int32_t to_ymd, int32_t **out);
/* 1 when ymd is a weekday holiday of the synthetic exchange. */
int synth_is_holiday(int32_t ymd);

/* ------------------------------------------------------------ market process */
#define SYNTH_BURN_IN 560     /* trading days generated before `start` and not written */
#define SYNTH_RSTR_WIN 504    /* CNE5 RSTR window */
#define SYNTH_RSTR_LAG 21
#define SYNTH_RSTR_HALF 126.0
#define SYNTH_RING 528        /* log-return ring per stock, >= RSTR_WIN + RSTR_LAG + 1 */
#define SYNTH_FEAT 41         /* days of OHLCV kept for the alpha features */
#define SYNTH_MAX_IND 31
#define SYNTH_MIN_LISTED 1900 /* stocks listed before the burn-in starts (at least) */
#define SYNTH_LISTED_DAYS 120 /* trading days listed before a stock is index-eligible */

typedef struct synth_stock {
  char code[ZZ_CODE_LEN];
  panel_board board;
  int list_t;        /* calendar index of the first trading day (< 0: listed before the calendar) */
  int32_t list_date; /* YYYYMMDD */
  int delist_t;      /* calendar index of the first day no longer listed, n_days if never */
  int ind, ind_new, ind_change_t; /* industry; ind_new from ind_change_t (-1: no change) */
  double spec_vol;   /* daily specific volatility */
  double garch_h;    /* specific variance multiplier, mean 1 */
  int64_t total_shares, float_shares;
  int64_t close_c;   /* last close in cents */
  double adj;        /* cumulative adjustment factor (rounded to 1e-10) */
  int st, st_end_t;  /* special treatment until st_end_t */
  int st_pending;    /* becomes ST on the next trading day */
  int susp_left, susp_rows; /* remaining suspended days; 1 = write suspended=1 rows in this spell */
  int ex_t;          /* calendar index of this year's ex-rights day, -1 none */
  int low_days;      /* consecutive closes below 1 CNY */
  double turnover_base, attention; /* daily turnover level and its AR(1) log deviation */
  double m;          /* alpha memory: EWMA of the alpha signal */
  double zvol;       /* standardised size-neutral 20-day volatility at the last close */
  double alpha_mem, alpha_vol; /* the next day's expected alpha: memory part and volatility premium */
  double bp, roe, lev, margin; /* fundamentals state */
  int fund_offset;   /* days before the nominal announcement dates */
  /* today's bar (valid when has_bar) */
  int has_bar, row;  /* trading today; a row is written (trading, or suspended=1 row) */
  int64_t open_c, high_c, low_c, pre_c, up_c, down_c, vwap_e4, volume;
  double ret;        /* today's adjusted return close / pre_close - 1 (0 when not trading) */
  double ret_px;     /* today's price return close * bonus ratio / yesterday's close - 1: like ret, but a
                        cash dividend is a loss (what a price index counts); 0 when not trading */
  double alpha;      /* planted alpha in today's return (0 when not trading) */
  double eps;        /* specific shock in today's return, mean 0 given yesterday (0 when not trading) */
} synth_stock;

typedef struct synth_alpha_params {
  double b[3], period[3], phase[3]; /* coefficient j at day tau: b_j (1 + 0.5 sin(2 pi tau / P_j + phi_j)) */
  double phi;   /* EWMA memory of the signal */
  double kappa; /* daily expected return per unit of demeaned memory */
  double noise;  /* sd of the alpha's daily payoff multiplier nu_t: returns carry alpha (1 + nu_t) */
  double kappa_vol; /* daily low-volatility premium per unit of standardised 20-day volatility */
} synth_alpha_params;

typedef struct synth_market {
  synth_opts o;
  synth_rng rng;
  int n_days, t0;   /* calendar length; first written day */
  int32_t *dates;
  char (*date_str)[11];
  int n;
  synth_stock *s;   /* sorted by code */
  int n_ind;
  double ind_vol[SYNTH_MAX_IND];
  double *yring;    /* n x SYNTH_RING log adjusted returns */
  double *feat;     /* n x SYNTH_FEAT x 4: log adjusted close, turnover, range, close-vwap gap */
  double *rstr;     /* recursive RSTR sums */
  double *x_size, *x_mom; /* standardised exposures at the last close (used for today's return) */
  double *signal;   /* scratch, n values: the alpha signal s_i, caps, volatilities (within one step) */
  double country_h; /* country GARCH variance multiplier */
  double country_dev; /* cumulative country return minus its mean: the market's distance from its trend */
  /* today's true factor returns */
  double f_country, f_size, f_mom, f_ind[SYNTH_MAX_IND];
  synth_alpha_params ap;
  double f_signal;    /* today's alpha payoff shock nu_t */
  double alpha_horizon; /* sum_{j=1..10} phi^j */
  double event_scale;   /* ST and suspension intensity: 1 from 2400 stocks, less in smaller markets */
  int is_copy;          /* a scratch copy (synth_market_copy): dates are borrowed, not owned */
} synth_market;

extern const char *const synth_industry_names[SYNTH_MAX_IND];

int synth_market_create(synth_market **out, const synth_opts *o, zz_err *err);
void synth_market_free(synth_market *m);
/* Copies the whole state of src into *dst (allocated on first use, same market only), so that
 * the future can be simulated from today's close with another generator (the oracle's Monte Carlo).
 * The copy borrows src's calendar. Free it with synth_market_free. */
int synth_market_copy(synth_market **dst, const synth_market *src);
/* Generates day t (0 .. n_days-1) for every stock: prices, volumes, events, exposures for t+1. */
void synth_market_step(synth_market *m, int t);
/* Multiplies stock i's float and total share counts by f (>= 1), rounded to board lots; before day 0
 * only (the --max-weight stock: the process draws the same random numbers for any share count). */
void synth_market_scale_shares(synth_market *m, int i, double f);
/* Suspends stock i for `days` trading days from the next synth_market_step, with no bar rows (the
 * --long-suspensions members). */
void synth_market_suspend(synth_market *m, int i, int days);
static inline int synth_listed(const synth_stock *s, int t) { return s->list_t <= t && t < s->delist_t; }
static inline int synth_industry_at(const synth_stock *s, int t) {
  return (s->ind_change_t >= 0 && t >= s->ind_change_t) ? s->ind_new : s->ind;
}
/* Stock i's expected planted alpha for the day after the last close (its payoff is alpha (1 + nu)). */
static inline double synth_alpha_of(const synth_market *m, int i) { return m->s[i].alpha_mem + m->s[i].alpha_vol; }

/* ------------------------------------------------------------ indices */
typedef struct synth_index synth_index;
int synth_index_create(synth_index **out, const synth_market *m, zz_err *err);
void synth_index_free(synth_index *x);
/* After synth_market_step(t): index returns with yesterday's weights, reviews, delisting
 * replacements, today's weights. */
int synth_index_step(synth_index *x, const synth_market *m, int t, zz_err *err);
double synth_index_close(const synth_index *x, int k);       /* total-return index */
double synth_index_close_price(const synth_index *x, int k); /* price index (ret_px), same weights */
/* 1 on a review's ranking day (members must be trading to stay eligible), 2 on its effective day, else 0. */
int synth_index_review_day(const synth_index *x, int t);
/* Weight (fraction) of stock i in the index it belongs to at today's close, and that index (-1). */
int synth_index_member(const synth_index *x, int i, double *w);

#endif
