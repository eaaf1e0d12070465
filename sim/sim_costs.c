/* sim_costs.c — simulator configuration defaults and trading costs (proportional, or commission with a
 * per-trade minimum plus stamp duty on sells at the rate in force on the trade date). */
#include "sim.h"

#include <math.h>
#include <string.h>

void sim_config_default(sim_config *c) {
  memset(c, 0, sizeof *c);
  c->capital = 1e7;
  c->benchmark = PANEL_CSI500;
  c->costs = SIM_COSTS_PROPORTIONAL;
  c->buy_rate = 0.001;
  c->sell_rate = 0.002;
  c->commission_rate = 0.00025;
  c->commission_min = 5.0;
  c->stamp_old = 0.001;
  c->stamp_new = 0.0005;
  c->stamp_switch = 20230828;
  c->limit_test = SIM_LIMIT_CLOSE;
  c->lot = 100.0;
  c->exec_lag = 1;
  c->exec_price = SIM_PRICE_VWAP;
  c->enforce_rules = 1;
  c->end = 0;
}

void sim_config_ideal(sim_config *c) {
  sim_config_default(c);
  c->costs = SIM_COSTS_NONE;
  c->lot = 0.0;
  c->exec_lag = 0;
  c->exec_price = SIM_PRICE_CLOSE;
  c->enforce_rules = 0;
  c->allow_same_close = 1;
}

int sim_config_check(const sim_config *c, zz_err *err) {
  if (!(c->capital > 0) || !isfinite(c->capital))
    return zz_fail(err, ZZ_EUSAGE, "sim.capital: initial capital must be a positive number, got %g", c->capital);
  if (c->lot < 0 || c->exec_lag < 0 || c->buy_rate < 0 || c->sell_rate < 0 || c->commission_rate < 0 ||
      c->commission_min < 0 || c->stamp_old < 0 || c->stamp_new < 0 || c->stamp_min < 0)
    return zz_fail(err, ZZ_EUSAGE, "simulator settings must not be negative (lot, lag, cost rates)");
  if (c->benchmark >= PANEL_N_INDEX) return zz_fail(err, ZZ_EUSAGE, "unknown benchmark index %d", c->benchmark);
  if (c->exec_lag == 0 && !(c->exec_price == SIM_PRICE_CLOSE && c->allow_same_close))
    return zz_fail(err, ZZ_EUSAGE,
                   "sim.exec_lag = 0 (--lag 0) would trade at or before the close that produced the score; it is "
                   "refused unless sim.exec_price = close and sim.allow_same_close = 1 (--price close "
                   "--allow-same-close), which relaxes SPEC 10.1");
  return ZZ_OK;
}

int sim_cost_preset(sim_config *c, const char *name) {
  if (strcmp(name, "seed004")) return -1;
  c->costs = SIM_COSTS_COMMISSION;
  c->commission_rate = 0.001;
  c->commission_min = 5.0;
  c->stamp_old = c->stamp_new = 0.001;
  c->stamp_min = 1.0;
  return 0;
}

int sim_cost_mode_parse(const char *s) {
  if (!strcmp(s, "proportional")) return SIM_COSTS_PROPORTIONAL;
  if (!strcmp(s, "commission")) return SIM_COSTS_COMMISSION;
  if (!strcmp(s, "none")) return SIM_COSTS_NONE;
  return -1;
}

int sim_limit_test_parse(const char *s) {
  if (!strcmp(s, "close")) return SIM_LIMIT_CLOSE;
  if (!strcmp(s, "sealed")) return SIM_LIMIT_SEALED;
  if (!strcmp(s, "vwap")) return SIM_LIMIT_VWAP;
  return -1;
}

int sim_price_parse(const char *s) {
  if (!strcmp(s, "vwap")) return SIM_PRICE_VWAP;
  if (!strcmp(s, "close")) return SIM_PRICE_CLOSE;
  if (!strcmp(s, "open")) return SIM_PRICE_OPEN;
  return -1;
}

double sim_stamp_rate(const sim_config *c, int32_t ymd) { return ymd < c->stamp_switch ? c->stamp_old : c->stamp_new; }

double sim_trade_cost(const sim_config *c, int side, double value, int32_t ymd) {
  if (!(value > 0)) return 0.0;
  switch (c->costs) {
    case SIM_COSTS_PROPORTIONAL: return value * (side > 0 ? c->buy_rate : c->sell_rate);
    case SIM_COSTS_COMMISSION: {
      double comm = fmax(value * c->commission_rate, c->commission_min);
      return side > 0 ? comm : comm + fmax(value * sim_stamp_rate(c, ymd), c->stamp_min);
    }
    case SIM_COSTS_NONE: break;
  }
  return 0.0;
}

const char *sim_status_name(sim_fill_status s) {
  switch (s) {
    case SIM_FILLED: return "filled";
    case SIM_PARTIAL: return "partial";
    case SIM_UNFILLED: return "unfilled";
    case SIM_DELISTED: return "delisted";
  }
  return "?";
}
