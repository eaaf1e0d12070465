/* sim.h — zhizeng's event-driven A-share simulator (SPEC 8; docs/simulator.md).
 *
 * Given a panel and dated target weights, it walks the trading calendar and, each day, in this order:
 *   1. corporate actions: held share counts are multiplied by adj[t] / adj[t-1] (dividends reinvested,
 *      bonus shares); a held stock that is no longer listed is liquidated at its last close;
 *   2. benchmark bookkeeping (index close of the day; index reviews need nothing more here);
 *   3. orders due today: every target batch whose trade date is today becomes orders sized from the
 *      portfolio value at today's execution prices, rounded to lots; sells first (suspension,
 *      limit-down, T+1 checks), then buys (suspension, limit-up checks) scaled to the cash available;
 *   4. fills booked with their costs (cash, shares, cost ledger);
 *   5. end-of-day marking at the close: NAV, benchmark NAV, hedged NAV = prod(1 + r_p - r_b - c/252)
 *      with c = hedge_cost, the annual cost of the short index position (0 by default).
 * A target dated d trades on the next trading day (exec_lag = 1) at that day's VWAP.
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
  sim_limit_test limit_test; /* SIM_LIMIT_CLOSE */
  double lot;             /* board lot in shares (100); 0 = fractional shares */
  int exec_lag;           /* trading days from target date to trade date (1); 0 = same day */
  sim_price exec_price;   /* SIM_PRICE_VWAP */
  int enforce_rules;      /* 1: suspension, limit and T+1 rules; 0: every order fills */
  int32_t end;            /* last simulated date YYYYMMDD (0 = end of the panel) */
  double hedge_cost;      /* annual cost of the index hedge (futures basis, 0): hedged NAV is
                             prod(1 + r_p - r_b - hedge_cost / 252) */
} sim_config;

/* Realistic defaults (the values in the comments above). */
void sim_config_default(sim_config *c);
/* The "ideal" mode: fractional shares, no costs, no trading rules, trades at the close of the target
 * date itself. Holding index weights this way reproduces a total-return index exactly. */
void sim_config_ideal(sim_config *c);
/* Parses "proportional|commission|none", "close|sealed|vwap", "vwap|close|open"; -1 if unknown. */
int sim_cost_mode_parse(const char *s);
int sim_limit_test_parse(const char *s);
int sim_price_parse(const char *s);
/* Stamp duty rate (sells) in force on a date under a config. */
double sim_stamp_rate(const sim_config *c, int32_t ymd);
/* Cost of one trade of `value` CNY (side +1 buy, -1 sell) on date ymd. */
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

typedef struct sim_result {
  int n_days;             /* simulated days: from the first target date to the end */
  int first_t;            /* panel date index of day 0 */
  int32_t *dates;
  double *nav;            /* portfolio value / capital */
  double *benchmark;      /* index close / index close on day 0 (1 throughout without an index) */
  double *hedged;         /* prod(1 + r_p - r_b - hedge_cost / 252) */
  double *cash;           /* CNY at the close */
  double *value;          /* portfolio value CNY at the close */
  double *turnover;       /* (bought + sold) / 2 / value before trading, on trade days; else 0 */
  double *costs;          /* CNY paid that day */
  size_t n_trades;
  sim_trade *trades;
  size_t n_positions;     /* holdings at the close of every trade day and of the last day */
  sim_position *positions;
  double total_costs;
  int benchmark_index;    /* -1 when none */
} sim_result;

/* Runs the simulation. targets are validated (and sorted) first; nothing is allocated on error. */
int sim_run(const panel *p, sim_targets *targets, const sim_config *c, sim_result **out, zz_err *err);
void sim_result_free(sim_result *r);
/* Writes nav.csv, trades.csv and positions.csv into dir (created if missing). */
int sim_result_write(const sim_result *r, const char *dir, zz_err *err);

#endif
