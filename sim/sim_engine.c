/* sim_engine.c — the simulator's event loop: corporate actions, benchmark, orders (sells, then buys
 * scaled to cash), fills with costs, end-of-day marking. See sim.h for the day order and
 * docs/simulator.md for every decision. */
#include "sim_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_TOL 0.005 /* half a cent: a price within this of a limit is at the limit */
#define SHARE_EPS 1e-9  /* share counts below this are zero */

typedef struct sim_state {
  const panel *p;
  const sim_config *c;
  double *shares, *basis;
  double *last_close;   /* last close > 0 over the simulated days up to lc_t[i] */
  int *lc_t;            /* date index through which last_close[i] is current (held stocks: yesterday) */
  int *held;            /* stocks with shares > SHARE_EPS, ascending (rebuilt after trades and delistings) */
  int *cand;            /* scratch: held stocks and the batch's stocks, ascending */
  int n_held;
  int t0;               /* first simulated date index */
  int *bought_t;        /* date index of the last buy of stock i */
  double *bought_qty;   /* shares bought on bought_t */
  double *target;       /* scratch: target weight of the current batch */
  uint8_t *in_batch;    /* scratch */
  int *buy_i;           /* scratch: buy orders */
  double *buy_q, *buy_px, *buy_fill;
  double cash;
  sim_result *r;
  size_t cap_trades, cap_pos;
} sim_state;

static double fld(const sim_state *s, panel_field f, int t, int i) { return s->p->f[f][panel_at(s->p, t, i)]; }

static int push_trade(sim_state *s, const sim_trade *tr, zz_err *err) {
  sim_result *r = s->r;
  if (r->n_trades == s->cap_trades) {
    size_t cap = s->cap_trades ? 2 * s->cap_trades : 256;
    sim_trade *n = realloc(r->trades, cap * sizeof *n);
    if (!n) return zz_fail(err, ZZ_ENOMEM, "out of memory for the trade list");
    r->trades = n;
    s->cap_trades = cap;
  }
  r->trades[r->n_trades++] = *tr;
  return ZZ_OK;
}

static int record(sim_state *s, int t, int i, int side, double ordered, double filled, double px, double cost,
                  sim_fill_status st, const char *reason, zz_err *err) {
  sim_trade tr = {.date = s->p->dates[t], .stock = i, .side = side, .ordered = ordered, .shares = filled,
                  .price = px, .cost = cost, .status = st, .reason = reason};
  memcpy(tr.code, s->p->stocks[i].code, ZZ_CODE_LEN);
  return push_trade(s, &tr, err);
}

static int push_positions(sim_state *s, int t, double value, zz_err *err) {
  const panel *p = s->p;
  sim_result *r = s->r;
  for (int h = 0; h < s->n_held; h++) {
    const int i = s->held[h];
    if (s->shares[i] <= SHARE_EPS) continue;
    if (r->n_positions == s->cap_pos) {
      size_t cap = s->cap_pos ? 2 * s->cap_pos : 1024;
      sim_position *n = realloc(r->positions, cap * sizeof *n);
      if (!n) return zz_fail(err, ZZ_ENOMEM, "out of memory for the position list");
      r->positions = n;
      s->cap_pos = cap;
    }
    sim_position *q = &r->positions[r->n_positions++];
    q->date = p->dates[t];
    q->stock = i;
    memcpy(q->code, p->stocks[i].code, ZZ_CODE_LEN);
    q->shares = s->shares[i];
    q->close = s->last_close[i];
    q->value = s->shares[i] * s->last_close[i];
    q->weight = value > 0 ? q->value / value : 0.0;
    q->cost_basis = s->basis[i];
  }
  return ZZ_OK;
}

/* ------------------------------------------------------------ trading rules */

static int is_listed(const sim_state *s, int t, int i) { return (s->p->flags[panel_at(s->p, t, i)] & PANEL_LISTED) != 0; }

static int is_suspended(const sim_state *s, int t, int i) {
  uint8_t fl = s->p->flags[panel_at(s->p, t, i)];
  if (fl & PANEL_SUSPENDED) return 1;
  double vol = fld(s, PF_VOLUME, t, i);
  return isfinite(vol) && vol <= 0;
}

/* The limit price of the day (up: dir > 0): the panel's, else round(pre_close x (1 +- ratio), 2). */
static double limit_price(const sim_state *s, int t, int i, int dir) {
  double lim = fld(s, dir > 0 ? PF_UP_LIMIT : PF_DOWN_LIMIT, t, i);
  if (isfinite(lim)) return lim;
  double pc = fld(s, PF_PRE_CLOSE, t, i);
  if (!isfinite(pc) && t > 0) pc = fld(s, PF_CLOSE, t - 1, i);
  if (!isfinite(pc)) return NAN;
  int st = (s->p->flags[panel_at(s->p, t, i)] & PANEL_ST) != 0;
  double ratio = panel_limit_ratio(s->p->stocks[i].board, st, s->p->dates[t]);
  return round(pc * (1.0 + dir * ratio) * 100.0) / 100.0;
}

/* 1 when the stock is at its up (dir > 0) or down limit under the configured test. */
static int at_limit(const sim_state *s, int t, int i, int dir) {
  double lim = limit_price(s, t, i, dir);
  if (!isfinite(lim)) return 0;
  double x; /* the price that decides: at or beyond the limit within half a cent */
  switch (s->c->limit_test) {
    case SIM_LIMIT_SEALED: /* the whole day at the limit: the extreme on the other side touches it */
      x = dir > 0 ? fld(s, PF_LOW, t, i) : fld(s, PF_HIGH, t, i);
      break;
    case SIM_LIMIT_VWAP: x = fld(s, PF_VWAP, t, i); break;
    case SIM_LIMIT_CLOSE:
    default: x = fld(s, PF_CLOSE, t, i); break;
  }
  if (!isfinite(x)) return 0;
  return dir > 0 ? x >= lim - LIMIT_TOL : x <= lim + LIMIT_TOL;
}

/* The last close > 0 of stock i on a simulated day before t (0 if none). last_close[i] holds it through
 * lc_t[i] (every day for held stocks); the days after that are searched back in the panel, which for a
 * stock just bought stops at once, usually at t - 1. */
static double last_close_before(const sim_state *s, int t, int i) {
  for (int u = t - 1; u > s->lc_t[i] && u >= s->t0; u--) {
    double cl = fld(s, PF_CLOSE, u, i);
    if (isfinite(cl) && cl > 0) return cl;
  }
  return s->last_close[i];
}

/* Rebuilds the ascending list of held stocks, so that the daily loops touch only held stocks and add
 * their values in the same order as a scan of every stock would. */
static void rebuild_held(sim_state *s) {
  s->n_held = 0;
  for (int i = 0; i < s->p->n_stocks; i++)
    if (s->shares[i] > SHARE_EPS) s->held[s->n_held++] = i;
}

static double exec_price(const sim_state *s, int t, int i) {
  double px = NAN;
  switch (s->c->exec_price) {
    case SIM_PRICE_VWAP: {
      px = fld(s, PF_VWAP, t, i);
      if (!(px > 0)) {
        double vol = fld(s, PF_VOLUME, t, i), amt = fld(s, PF_AMOUNT, t, i);
        px = vol > 0 && amt > 0 ? amt / vol : fld(s, PF_CLOSE, t, i);
      }
      break;
    }
    case SIM_PRICE_OPEN: px = fld(s, PF_OPEN, t, i); break;
    case SIM_PRICE_CLOSE: px = fld(s, PF_CLOSE, t, i); break;
  }
  if (!(px > 0)) px = last_close_before(s, t, i);
  return px;
}

static double lots_down(double q, double lot) { return lot > 0 ? floor(q / lot + 1e-9) * lot : q; }

/* --------------------------------------------------------------- rebalance */

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int rebalance(sim_state *s, const sim_targets *tg, const sim_batch *b, int t, double *turnover, double *costs,
                     zz_err *err) {
  const panel *p = s->p;
  const sim_config *c = s->c;
  const int32_t ymd = p->dates[t];
  const int rules = c->enforce_rules;
  const double lot = c->lot;
  int rc;
  for (size_t j = b->first; j < b->end; j++) {
    s->target[tg->e[j].stock] = tg->e[j].weight;
    s->in_batch[tg->e[j].stock] = 1;
  }
  /* portfolio value at today's execution prices */
  double V = s->cash;
  for (int h = 0; h < s->n_held; h++) {
    const int i = s->held[h];
    if (s->shares[i] > SHARE_EPS) V += s->shares[i] * exec_price(s, t, i);
  }
  /* the stocks to look at: held ones and the batch's, in ascending order as a scan of all would be */
  int ncand = 0;
  for (int h = 0; h < s->n_held; h++) s->cand[ncand++] = s->held[h];
  for (size_t j = b->first; j < b->end; j++)
    if (!(s->shares[tg->e[j].stock] > SHARE_EPS)) s->cand[ncand++] = tg->e[j].stock;
  qsort(s->cand, (size_t)ncand, sizeof *s->cand, cmp_int);
  int nu = 0; /* a held stock whose shares fell to zero may also be in the batch: keep it once */
  for (int k = 0; k < ncand; k++)
    if (nu == 0 || s->cand[k] != s->cand[nu - 1]) s->cand[nu++] = s->cand[k];
  ncand = nu;
  double sold = 0.0, bought = 0.0;
  int nbuy = 0;
  /* sells first */
  for (int ci = 0; ci < ncand; ci++) {
    const int i = s->cand[ci];
    double w = s->in_batch[i] ? s->target[i] : 0.0;
    if (s->shares[i] <= SHARE_EPS && !(w > 0)) continue;
    if (!is_listed(s, t, i)) {
      if (w > 0) rc = record(s, t, i, +1, 0.0, 0.0, NAN, 0.0, SIM_UNFILLED, "not_listed", err);
      else rc = ZZ_OK;
      if (rc) return rc;
      continue;
    }
    double px = exec_price(s, t, i);
    if (!(px > 0) || !isfinite(px)) {
      if ((rc = record(s, t, i, w > 0 ? +1 : -1, 0.0, 0.0, NAN, 0.0, SIM_UNFILLED, "no_price", err))) return rc;
      continue;
    }
    double desired = w > 0 ? lots_down(w * V / px, lot) : 0.0;
    double delta = desired - s->shares[i];
    if (delta > SHARE_EPS) {
      double q = lots_down(delta, lot);
      if (q <= SHARE_EPS) continue;
      const char *why = !rules ? NULL : is_suspended(s, t, i) ? "suspended" : at_limit(s, t, i, +1) ? "limit_up" : NULL;
      if (why) {
        if ((rc = record(s, t, i, +1, q, 0.0, px, 0.0, SIM_UNFILLED, why, err))) return rc;
        continue;
      }
      s->buy_i[nbuy] = i;
      s->buy_q[nbuy] = q;
      s->buy_px[nbuy] = px;
      nbuy++;
      continue;
    }
    if (delta >= -SHARE_EPS) continue;
    double q = desired <= 0 ? s->shares[i] : lots_down(-delta, lot); /* a whole position may sell odd lots */
    if (q <= SHARE_EPS) continue;
    const char *why = !rules ? NULL : is_suspended(s, t, i) ? "suspended" : at_limit(s, t, i, -1) ? "limit_down" : NULL;
    if (why) {
      if ((rc = record(s, t, i, -1, q, 0.0, px, 0.0, SIM_UNFILLED, why, err))) return rc;
      continue;
    }
    double fill = q;
    const char *reason = "";
    if (rules && s->bought_t[i] == t) { /* T+1: today's purchases are locked */
      double sellable = s->shares[i] - s->bought_qty[i];
      if (sellable < fill - SHARE_EPS) {
        fill = desired <= 0 && sellable > SHARE_EPS ? sellable : lots_down(fmax(sellable, 0.0), lot);
        reason = "t+1";
      }
    }
    if (fill <= SHARE_EPS) {
      if ((rc = record(s, t, i, -1, q, 0.0, px, 0.0, SIM_UNFILLED, "t+1", err))) return rc;
      continue;
    }
    double value = fill * px, cost = sim_trade_cost(c, -1, value, ymd);
    s->cash += value - cost;
    s->basis[i] *= 1.0 - fill / s->shares[i];
    s->shares[i] -= fill;
    if (s->shares[i] <= SHARE_EPS) s->shares[i] = 0.0, s->basis[i] = 0.0;
    sold += value;
    *costs += cost;
    if ((rc = record(s, t, i, -1, q, fill, px, cost, reason[0] ? SIM_PARTIAL : SIM_FILLED, reason, err))) return rc;
  }
  /* buys, scaled to the cash available after the sells (costs included) */
  double need = 0.0;
  for (int k = 0; k < nbuy; k++) {
    double v = s->buy_q[k] * s->buy_px[k];
    need += v + sim_trade_cost(c, +1, v, ymd);
    s->buy_fill[k] = s->buy_q[k];
  }
  if (need > s->cash) {
    double scale = s->cash > 0 ? s->cash / need : 0.0;
    double total = need;
    for (int it = 0; it < 100; it++) {
      total = 0.0;
      for (int k = 0; k < nbuy; k++) {
        s->buy_fill[k] = lots_down(s->buy_q[k] * scale, lot);
        double v = s->buy_fill[k] * s->buy_px[k];
        total += v + sim_trade_cost(c, +1, v, ymd);
      }
      if (total <= s->cash) break;
      scale *= fmin(s->cash / total, 1.0 - 1e-12);
    }
    while (total > s->cash) { /* minimum commissions can defeat scaling: drop lots from the largest buy */
      int kmax = -1;
      for (int k = 0; k < nbuy; k++)
        if (s->buy_fill[k] > 0 && (kmax < 0 || s->buy_fill[k] * s->buy_px[k] > s->buy_fill[kmax] * s->buy_px[kmax]))
          kmax = k;
      if (kmax < 0) break;
      double before = s->buy_fill[kmax] * s->buy_px[kmax];
      s->buy_fill[kmax] = lot > 0 ? s->buy_fill[kmax] - lot : 0.0;
      if (s->buy_fill[kmax] < 0) s->buy_fill[kmax] = 0;
      double after = s->buy_fill[kmax] * s->buy_px[kmax];
      total -= before + sim_trade_cost(c, +1, before, ymd) - after - sim_trade_cost(c, +1, after, ymd);
    }
  }
  for (int k = 0; k < nbuy; k++) {
    int i = s->buy_i[k];
    double q = s->buy_q[k], fill = s->buy_fill[k], px = s->buy_px[k];
    if (fill <= SHARE_EPS) {
      if ((rc = record(s, t, i, +1, q, 0.0, px, 0.0, SIM_UNFILLED, "cash", err))) return rc;
      continue;
    }
    double value = fill * px, cost = sim_trade_cost(c, +1, value, ymd);
    s->cash -= value + cost;
    if (s->cash < 0 && s->cash > -1e-6) s->cash = 0.0; /* rounding of the sum above */
    s->shares[i] += fill;
    s->basis[i] += value + cost;
    if (s->bought_t[i] != t) s->bought_t[i] = t, s->bought_qty[i] = 0.0;
    s->bought_qty[i] += fill;
    bought += value;
    *costs += cost;
    int partial = fill < q - SHARE_EPS;
    if ((rc = record(s, t, i, +1, q, fill, px, cost, partial ? SIM_PARTIAL : SIM_FILLED, partial ? "cash" : "", err)))
      return rc;
  }
  for (size_t j = b->first; j < b->end; j++) {
    s->target[tg->e[j].stock] = 0.0;
    s->in_batch[tg->e[j].stock] = 0;
  }
  *turnover += V > 0 ? (sold + bought) / 2.0 / V : 0.0;
  return ZZ_OK;
}

/* ------------------------------------------------------------------- run */

void sim_result_free(sim_result *r) {
  if (!r) return;
  free(r->dates);
  free(r->nav);
  free(r->benchmark);
  free(r->hedged);
  free(r->cash);
  free(r->value);
  free(r->turnover);
  free(r->costs);
  free(r->trades);
  free(r->positions);
  free(r);
}

typedef struct due { int t, k; } due;
static int cmp_due(const void *a, const void *b) {
  const due *x = a, *y = b;
  if (x->t != y->t) return (x->t > y->t) - (x->t < y->t);
  return (x->k > y->k) - (x->k < y->k);
}

int sim_run(const panel *p, sim_targets *tg, const sim_config *c, sim_result **out, zz_err *err) {
  *out = NULL;
  if (!(c->capital > 0) || !isfinite(c->capital))
    return zz_fail(err, ZZ_EUSAGE, "initial capital must be a positive number, got %g", c->capital);
  if (c->lot < 0 || c->exec_lag < 0 || c->buy_rate < 0 || c->sell_rate < 0 || c->commission_rate < 0 ||
      c->commission_min < 0 || c->stamp_old < 0 || c->stamp_new < 0)
    return zz_fail(err, ZZ_EUSAGE, "simulator settings must not be negative (lot, lag, cost rates)");
  if (c->benchmark >= PANEL_N_INDEX) return zz_fail(err, ZZ_EUSAGE, "unknown benchmark index %d", c->benchmark);
  int rc = sim_targets_validate(tg, p, err);
  if (rc) return rc;
  if (tg->nb == 0) return zz_fail(err, ZZ_EUSAGE, "no target dates: nothing to simulate");
  int t0 = sim_find_date(p, tg->b[0].date), t_end = p->n_dates - 1;
  if (c->end) {
    while (t_end >= 0 && p->dates[t_end] > c->end) t_end--;
    if (t_end < t0) return zz_fail(err, ZZ_EUSAGE, "end date %d is before the first target date", (int)c->end);
  }
  const int n = p->n_stocks, nd = t_end - t0 + 1;
  const double *bclose = c->benchmark >= 0 && p->index[c->benchmark].present ? p->index[c->benchmark].close : NULL;

  sim_state s = {.p = p, .c = c, .cash = c->capital};
  sim_result *r = calloc(1, sizeof *r);
  due *dues = calloc((size_t)tg->nb + 1, sizeof *dues);
  s.shares = calloc((size_t)n + 1, sizeof(double));
  s.basis = calloc((size_t)n + 1, sizeof(double));
  s.last_close = calloc((size_t)n + 1, sizeof(double));
  s.held = calloc((size_t)n + 1, sizeof(int));
  s.cand = calloc(2 * (size_t)n + 1, sizeof(int));
  s.lc_t = malloc(((size_t)n + 1) * sizeof(int));
  if (s.lc_t)
    for (int i = 0; i <= n; i++) s.lc_t[i] = t0 - 1;
  s.t0 = t0;
  s.bought_t = malloc(((size_t)n + 1) * sizeof(int));
  s.bought_qty = calloc((size_t)n + 1, sizeof(double));
  s.target = calloc((size_t)n + 1, sizeof(double));
  s.in_batch = calloc((size_t)n + 1, 1);
  s.buy_i = calloc((size_t)n + 1, sizeof(int));
  s.buy_q = calloc((size_t)n + 1, sizeof(double));
  s.buy_px = calloc((size_t)n + 1, sizeof(double));
  s.buy_fill = calloc((size_t)n + 1, sizeof(double));
  s.r = r;
  rc = ZZ_ENOMEM;
  if (!r || !dues || !s.shares || !s.basis || !s.last_close || !s.held || !s.cand || !s.lc_t || !s.bought_t || !s.bought_qty || !s.target ||
      !s.in_batch || !s.buy_i || !s.buy_q || !s.buy_px || !s.buy_fill)
    goto fail;
  r->n_days = nd;
  r->first_t = t0;
  r->benchmark_index = bclose ? c->benchmark : -1;
  r->dates = calloc((size_t)nd, sizeof(int32_t));
  double **cols[] = {&r->nav, &r->benchmark, &r->hedged, &r->cash, &r->value, &r->turnover, &r->costs};
  for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
    if (!(*cols[k] = calloc((size_t)nd, sizeof(double)))) goto fail;
  if (!r->dates) goto fail;
  for (int i = 0; i < n; i++) s.bought_t[i] = -1;

  /* when each batch trades */
  int nd_due = 0;
  for (int k = 0; k < tg->nb; k++) {
    int tb = tg->b[k].trade_date ? sim_find_date(p, tg->b[k].trade_date) : sim_find_date(p, tg->b[k].date) + c->exec_lag;
    if (tb <= t_end) dues[nd_due++] = (due){tb, k};
  }
  qsort(dues, (size_t)nd_due, sizeof *dues, cmp_due);

  int next_due = 0;
  double prev_value = c->capital;
  for (int t = t0; t <= t_end; t++) {
    const int d = t - t0;
    double day_costs = 0.0, day_turnover = 0.0;
    /* 1. corporate actions and delistings */
    if (t > t0) {
      int delisted = 0;
      for (int h = 0; h < s.n_held; h++) {
        const int i = s.held[h];
        if (s.shares[i] <= SHARE_EPS) continue;
        if (!is_listed(&s, t, i)) { /* liquidated at the last close, no costs */
          double px = s.last_close[i], q = s.shares[i];
          s.cash += q * px;
          s.shares[i] = 0.0;
          s.basis[i] = 0.0;
          if ((rc = record(&s, t, i, -1, q, q, px, 0.0, SIM_DELISTED, "delisted", err))) goto fail;
          delisted = 1;
          continue;
        }
        double a1 = fld(&s, PF_ADJ, t, i), a0 = fld(&s, PF_ADJ, t - 1, i);
        if (isfinite(a1) && isfinite(a0) && a0 > 0 && a1 != a0) s.shares[i] *= a1 / a0;
      }
      if (delisted) rebuild_held(&s);
    }
    /* 2. benchmark: the index close of the day (membership reviews need nothing more here) */
    double rb = 0.0;
    if (bclose && t > t0 && isfinite(bclose[t]) && isfinite(bclose[t - 1]) && bclose[t - 1] > 0)
      rb = bclose[t] / bclose[t - 1] - 1.0;
    /* 3-4. orders due today, fills booked */
    int traded = 0;
    while (next_due < nd_due && dues[next_due].t < t) next_due++;
    for (; next_due < nd_due && dues[next_due].t == t; next_due++) {
      if ((rc = rebalance(&s, tg, &tg->b[dues[next_due].k], t, &day_turnover, &day_costs, err))) goto fail;
      rebuild_held(&s); /* a second batch the same day values the book from the new holdings */
      traded = 1;
    }
    /* 5. end-of-day marking at the close */
    double value = s.cash;
    for (int h = 0; h < s.n_held; h++) {
      const int i = s.held[h];
      if (s.shares[i] <= SHARE_EPS) continue;
      double cl = fld(&s, PF_CLOSE, t, i);
      s.last_close[i] = isfinite(cl) && cl > 0 ? cl : last_close_before(&s, t, i);
      s.lc_t[i] = t;
      value += s.shares[i] * s.last_close[i];
    }
    double rp = value / prev_value - 1.0;
    r->dates[d] = p->dates[t];
    r->value[d] = value;
    r->nav[d] = value / c->capital;
    r->benchmark[d] = d ? r->benchmark[d - 1] * (1.0 + rb) : 1.0;
    /* the hedge's cost accrues from the day after the first (day 0 is the base) */
    r->hedged[d] = d ? r->hedged[d - 1] * (1.0 + rp - rb - c->hedge_cost / 252.0) : 1.0 + rp - rb;
    r->cash[d] = s.cash;
    r->turnover[d] = day_turnover;
    r->costs[d] = day_costs;
    r->total_costs += day_costs;
    prev_value = value;
    if (traded || t == t_end)
      if ((rc = push_positions(&s, t, value, err))) goto fail;
  }
  rc = ZZ_OK;
  *out = r;
  r = NULL;
fail:
  if (rc == ZZ_ENOMEM) zz_fail(err, ZZ_ENOMEM, "out of memory in the simulator (%d stocks x %d days)", n, nd);
  sim_result_free(r);
  free(dues);
  free(s.shares);
  free(s.basis);
  free(s.last_close);
  free(s.held);
  free(s.cand);
  free(s.lc_t);
  free(s.bought_t);
  free(s.bought_qty);
  free(s.target);
  free(s.in_batch);
  free(s.buy_i);
  free(s.buy_q);
  free(s.buy_px);
  free(s.buy_fill);
  return rc;
}
