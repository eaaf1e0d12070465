/* sim.h — zhizeng's event-driven A-share simulator (SPEC 8, 10.1; docs/simulator.md).
 *
 * A book (sim_book) walks the trading calendar; each day, in this order:
 *   1. corporate actions: held share counts are multiplied by adj[t] / adj[t-1] (dividends reinvested,
 *      bonus shares); a held stock that is no longer listed is liquidated at its last close;
 *   2. orders due today: a target portfolio decided at the close of date d was sized there in shares
 *      (w x book value / close of d) and trades exec_lag days later: sells first (suspension,
 *      limit-down, T+1 checks), then buys (suspension, limit-up checks) rounded to the board's lots,
 *      cut lot by lot from the largest overshoot when cash binds, leftover cash invested a lot at a
 *      time in the largest shortfall;
 *   3. end-of-day marking at the close.
 * NAV, benchmark and hedged NAV start at the close of the first execution day e (nav_e = 1 - costs /
 * capital, benchmark_e = 1); the fills-to-close move of day e is reported as entry slippage. A simulated
 * day from e on without the benchmark's close is an error.
 * The closed-loop backtest steps a book: run to the rebalance date, read its weights, submit the
 * optimiser's targets; sim_run does the same for a file of targets.
 */
#ifndef ZZ_SIM_H
#define ZZ_SIM_H

#include "data.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { SIM_COSTS_PROPORTIONAL = 0, SIM_COSTS_COMMISSION = 1, SIM_COSTS_NONE = 2 } sim_cost_mode;
typedef enum { SIM_LIMIT_CLOSE = 0, SIM_LIMIT_SEALED = 1, SIM_LIMIT_VWAP = 2 } sim_limit_test;
typedef enum { SIM_PRICE_VWAP = 0, SIM_PRICE_CLOSE = 1, SIM_PRICE_OPEN = 2 } sim_price;

typedef struct sim_config {
  double capital;         /* initial cash, CNY (1e7) */
  int benchmark;          /* PANEL_CSI300 / 500 / 1000, or -1 for none (PANEL_CSI500) */
  sim_cost_mode costs;    /* SIM_COSTS_PROPORTIONAL */
  double buy_rate;        /* proportional mode (0.001) */
  double sell_rate;       /* proportional mode (0.002) */
  double commission_rate; /* commission mode, both sides (0.00025) */
  double commission_min;  /* commission mode, CNY per trade (5) */
  double stamp_old;       /* stamp duty on sells before stamp_switch (0.001) */
  double stamp_new;       /* stamp duty on sells from stamp_switch on (0.0005) */
  int32_t stamp_switch;   /* 20230828 */
  double stamp_min;       /* commission mode: minimum stamp duty per sell, CNY (0: none; 1 in the seed004 preset) */
  sim_limit_test limit_test; /* SIM_LIMIT_CLOSE */
  double lot;             /* board lot in shares (100); 0 = fractional shares */
  int exec_lag;           /* trading days from target date to trade date (1); 0 = same day */
  sim_price exec_price;   /* SIM_PRICE_VWAP */
  int enforce_rules;      /* 1: suspension, limit and T+1 rules; 0: every order fills */
  int32_t end;            /* last simulated date YYYYMMDD (0 = end of the panel) */
  double hedge_cost;      /* annual cost of the index hedge (futures basis, 0): hedged NAV is
                             prod(1 + r_p - r_b - hedge_cost / 252) */
  int allow_same_close;   /* 1: exec_lag 0 is allowed with exec_price close (a trade at the close that
                             produced the score: relaxes SPEC 10.1; the ideal mode); 0 (default) refuses it */
} sim_config;

/* Realistic defaults (the values in the comments above). */
void sim_config_default(sim_config *c);
/* The "ideal" mode: fractional shares, no costs, no trading rules, trades at the close of the target
 * date itself (allow_same_close = 1). Holding index weights this way reproduces a total-return index. */
void sim_config_ideal(sim_config *c);
/* Checks a configuration: positive capital, non-negative rates, lot and lag, a known benchmark, and
 * exec_lag 0 only with exec_price close and allow_same_close (else a trade would fill at a price from
 * before the close that produced its score). ZZ_EUSAGE naming the key (sim.exec_lag ...). */
int sim_config_check(const sim_config *c, zz_err *err);
/* What day t's bar allows for stock i (never a later day's): buying needs listed, not suspended (flag
 * or zero volume) and not at the up limit under c->limit_test; selling the same with the down limit. */
void sim_tradable(const panel *p, const sim_config *c, int t, int i, int *can_buy, int *can_sell);
/* Cost presets: "seed004" (seed 004 section 4.1) sets commission mode with commission
 * max(0.1 % x value, 5 CNY) on both sides and stamp duty max(0.1 % x value, 1 CNY) on sells (the same
 * rate before and after the 2023-08-28 switch). Other keys are untouched. -1 for an unknown name. */
int sim_cost_preset(sim_config *c, const char *name);
/* Parses "proportional|commission|none", "close|sealed|vwap", "vwap|close|open"; -1 if unknown. */
int sim_cost_mode_parse(const char *s);
int sim_limit_test_parse(const char *s);
int sim_price_parse(const char *s);
/* Stamp duty rate (sells) in force on a date under a config. */
double sim_stamp_rate(const sim_config *c, int32_t ymd);
/* Cost of one trade of `value` CNY (side +1 buy, -1 sell) on date ymd. Commission mode:
 * max(commission_rate x value, commission_min), plus on sells max(stamp rate x value, stamp_min). */
double sim_trade_cost(const sim_config *c, int side, double value, int32_t ymd);

/* ---------------------------------------------------------------- targets */

/* Target weights: batches keyed by target date; each batch is a full portfolio (stocks not in it are
 * sold). A batch may be empty (sell everything). Weights are fractions of the portfolio value,
 * non-negative, finite, summing to at most 1 (the rest is cash). */
typedef struct sim_targets sim_targets;

sim_targets *sim_targets_create(void);
void sim_targets_free(sim_targets *t);
/* Declares a batch for `date` (possibly empty). trade_date 0: the exec_lag-th next trading day.
 * Calling it again for the same date only updates trade_date when non-zero. */
int sim_targets_add_date(sim_targets *t, int32_t date, int32_t trade_date, zz_err *err);
/* Adds stock `stock` (panel index) with `weight` to the batch of `date` (declared on first use). */
int sim_targets_add(sim_targets *t, int32_t date, int stock, double weight, zz_err *err);
/* Reads a CSV with columns date, code, weight (and optionally exec_date,
 * the day to trade; default: exec_lag trading days after date). A row with an empty code
 * or code CASH declares an empty batch for that date. Rejects (with file:line:column) unknown codes,
 * dates that are not trading days, duplicate (date, code), negative or non-finite weights, and
 * batches whose weights sum above 1 (+1e-9). */
int sim_targets_read(const char *path, const panel *p, sim_targets **out, zz_err *err);
/* Writes the batches as sim_targets_read reads them (date,code,weight; an empty batch as one CASH row;
 * batches and rows in the order they were added), to a temporary name renamed at the end. */
int sim_targets_write(const sim_targets *t, const panel *p, const char *path, zz_err *err);
/* Number of batches; date of batch k (sorted ascending after sim_targets_validate / read). */
int sim_targets_count(const sim_targets *t);
/* Checks dates against the panel's calendar, weights and sums (errors without file positions for
 * batches built in memory, with file:line for rows read from CSV) and sorts the batches. */
int sim_targets_validate(sim_targets *t, const panel *p, zz_err *err);

/* ----------------------------------------------------------------- result */

typedef enum { SIM_FILLED = 0, SIM_PARTIAL = 1, SIM_UNFILLED = 2, SIM_DELISTED = 3 } sim_fill_status;
const char *sim_status_name(sim_fill_status s);

typedef struct sim_trade {
  int32_t date;
  int stock;              /* panel index */
  char code[ZZ_CODE_LEN];
  int side;               /* +1 buy, -1 sell */
  double ordered;         /* shares ordered (after lot rounding) */
  double shares;          /* shares filled (0 when unfilled) */
  double price;           /* execution price */
  double cost;            /* costs paid, CNY */
  sim_fill_status status;
  const char *reason;     /* static string: "", "suspended", "limit_up", "limit_down", "t+1", "cash",
                             "delisted" */
} sim_trade;

typedef struct sim_position {
  int32_t date;
  int stock;
  char code[ZZ_CODE_LEN];
  double shares, close, value, weight;
  double cost_basis;      /* cash paid for the shares held (incl. buy costs), less cost of shares sold */
} sim_position;

/* One executed batch (rebalance). */
typedef struct sim_rebalance {
  int32_t decision_date;  /* the close at which the target was decided and sized */
  int32_t trade_date;
  double value;           /* book value at the fills before trading, CNY */
  double turnover;        /* realised one-way, cash as a position: (S + B + |S - B - K|) / 2 / value */
  double bought, sold, costs; /* CNY */
  double cash_weight;     /* cash / (value - costs) right after trading */
  double l1_target;       /* sum_i |w_i after trading - target w_i| over stocks, at the fill prices */
  int n_unfilled;         /* orders unfilled or partly filled (rules, cash, no price) */
  double unfilled_value;  /* their untraded shares x price / value */
} sim_rebalance;

typedef struct sim_result {
  int n_days;             /* days from the first execution day e to the end */
  int first_t;            /* panel date index of day 0 (= e) */
  int32_t *dates;
  double *nav;            /* (1 - costs of day 0 / capital) x value / value of day 0 */
  double *benchmark;      /* index close / index close on day 0 (1 throughout without an index) */
  double *hedged;         /* nav of day 0, then x (1 + r_p - r_b - hedge_cost / 252) */
  double *cash;           /* CNY at the close */
  double *value;          /* portfolio value CNY at the close */
  double *turnover;       /* realised one-way turnover of the day's batches (sim_rebalance), else 0 */
  double *costs;          /* CNY paid that day */
  size_t n_trades;
  sim_trade *trades;
  size_t n_positions;     /* holdings at the close of every trade day and of the last day */
  sim_position *positions;
  double total_costs;
  int benchmark_index;    /* -1 when none */
  double entry_costs;     /* costs paid on day 0, CNY */
  double entry_slippage;  /* value at the close of day 0 / (capital - entry_costs) - 1: in neither NAV */
  double mean_invested;   /* mean over the days of 1 - cash / value */
  int n_rebalances;
  sim_rebalance *rebalances;
} sim_result;

/* ------------------------------------------------------------------ stepping */

/* A simulation in progress. Create it at its first date (all cash), run it to a date, read its book,
 * submit a target portfolio decided at that close, and so on; finish runs to the end. */
typedef struct sim_book sim_book;

int sim_book_create(const panel *p, const sim_config *c, int32_t start, sim_book **out, zz_err *err);
void sim_book_free(sim_book *b);
/* Simulates every day up to and including the close of `date` (a trading day, not before the last
 * simulated one, not after the configured end). */
int sim_book_run_to(sim_book *b, int32_t date, zz_err *err);
/* Date (YYYYMMDD) of the last simulated close, 0 before the first. */
int32_t sim_book_date(const sim_book *b);
/* The book at the last simulated close: w[n_stocks] = shares x close / value (a suspended stock at
 * its last close), *cash_weight = cash / value, *value in CNY. Any output pointer may be NULL. */
void sim_book_weights(const sim_book *b, double *w, double *cash_weight, double *value);
/* Submits a full target portfolio (held stocks not in it are sold) decided at the last simulated
 * close: sized there in shares, traded on trade_date (0: exec_lag trading days later). Weights are
 * >= 0, finite, summing to at most 1 + 1e-9. A trade day past the end drops the batch (returns ZZ_OK). */
int sim_book_submit(sim_book *b, const int *stock, const double *weight, int n, int32_t trade_date, zz_err *err);
/* Runs to the end and hands over the result; the book is spent (free it). Fails when batches were submitted but
 * none traded. A book never given a target (a backtest whose every week was held) stays in cash: its series start
 * at its first date, with NAV 1 throughout. */
int sim_book_finish(sim_book *b, sim_result **out, zz_err *err);

/* Runs the simulation of a target file: a book created at the first batch date, each batch submitted
 * at the close of its date. targets are validated (and sorted) first; nothing is allocated on error. */
int sim_run(const panel *p, sim_targets *targets, const sim_config *c, sim_result **out, zz_err *err);
void sim_result_free(sim_result *r);
/* Writes nav.csv, trades.csv, positions.csv, rebalances.csv and summary.csv into dir (created if
 * missing), each to a temporary name first, so that an error leaves none of them partial. */
int sim_result_write(const sim_result *r, const char *dir, zz_err *err);
/* Reads back what sim_result_write wrote (the stage cache, `zhizeng report`): the daily series of
 * nav.csv (date, nav, benchmark, hedged required and positive; cash, turnover, costs, value optional),
 * rebalances.csv and summary.csv when present; trades and positions are not read (NULL, 0). Errors
 * name file:line:column. */
int sim_result_read(const char *dir, sim_result **out, zz_err *err);

#endif
