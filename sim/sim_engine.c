/* sim_engine.c — the simulator's book and day loop: corporate actions and delistings, orders due
 * today (sized in shares at their decision close; sells, then buys rounded to the board's lots with
 * the cash invested lot by lot), marking at the close, and the NAV series from the first execution
 * day. See sim.h for the day order and docs/simulator.md for every decision. */
#include "sim_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_TOL 0.005 /* half a cent: a price within this of a limit is at the limit */
#define SHARE_EPS 1e-9  /* share counts below this are zero */
#define BUY_EPS 1e-6    /* a buy smaller than this many shares is no order (rounding of an unchanged weight) */

typedef struct sim_order {
  int stock;
  double target;  /* shares sized at the decision close (NaN: no price to size with) */
  double weight;  /* the target weight */
  double adj;     /* adjustment factor at the decision date (NaN if none) */
} sim_order;

typedef struct sim_pending {
  int decision_t, trade_t;
  size_t first, end; /* orders [first, end) of the book's order pool */
} sim_pending;

struct sim_book {
  const panel *p;
  sim_config c;
  int t0, t_end, t_cur;  /* first, last and last simulated date index (t0 - 1 before the first day) */
  double cash, value;    /* value: at the last simulated close */
  double *shares, *basis;
  double *last_close;    /* last close > 0 over the simulated days up to lc_t[i] */
  int *lc_t;             /* date index through which last_close[i] is current (held stocks: yesterday) */
  int *held, n_held;     /* stocks with shares > SHARE_EPS, ascending (rebuilt after trades and delistings) */
  int *cand;             /* scratch: held stocks and the batch's stocks, ascending */
  int *bought_t;         /* date index of the last buy of stock i */
  double *bought_qty;    /* shares bought on bought_t */
  double *tgt, *tw, *px; /* scratch: target shares, target weight, execution price of the batch's stocks */
  uint8_t *in_batch;     /* scratch */
  /* buy candidates of a batch and the heap that orders them */
  int *buy_i;
  double *buy_q0, *buy_q, *buy_px, *buy_gap; /* gap: (H + q - T) x px, > 0 overshoot, < 0 shortfall */
  int *heap, n_heap;
  /* pending batches and their orders */
  sim_order *ord;
  size_t n_ord, cap_ord;
  sim_pending *pend;
  int n_pend, cap_pend, next_pend;
  /* daily series from t0 */
  double *d_value, *d_cash, *d_turnover, *d_costs;
  int t_exec;            /* first execution day, -1 before */
  int n_submitted;       /* sim_book_submit calls accepted (batches dropped past the end included) */
  int last_pos_t;        /* last date whose positions were recorded */
  sim_result *r;         /* trades, positions and rebalances accumulate here */
  size_t cap_trades, cap_pos;
  int cap_reb;
};

static double fld(const sim_book *s, panel_field f, int t, int i) { return s->p->f[f][panel_at(s->p, t, i)]; }

static int grow(void **ptr, size_t *cap, size_t need, size_t size, size_t first, zz_err *err, const char *what) {
  if (need <= *cap) return ZZ_OK;
  size_t c = *cap ? *cap : first;
  while (c < need) c *= 2;
  void *n = realloc(*ptr, c * size);
  if (!n) return zz_fail(err, ZZ_ENOMEM, "out of memory for the %s", what);
  *ptr = n;
  *cap = c;
  return ZZ_OK;
}

static int record(sim_book *s, int t, int i, int side, double ordered, double filled, double px, double cost,
                  sim_fill_status st, const char *reason, zz_err *err) {
  sim_result *r = s->r;
  int rc = grow((void **)&r->trades, &s->cap_trades, r->n_trades + 1, sizeof *r->trades, 256, err, "trade list");
  if (rc) return rc;
  sim_trade *tr = &r->trades[r->n_trades++];
  *tr = (sim_trade){.date = s->p->dates[t], .stock = i, .side = side, .ordered = ordered, .shares = filled,
                    .price = px, .cost = cost, .status = st, .reason = reason};
  memcpy(tr->code, s->p->stocks[i].code, ZZ_CODE_LEN);
  return ZZ_OK;
}

/* Holdings at the close of day t (value: the book's value at that close). */
static int push_positions(sim_book *s, int t, zz_err *err) {
  const panel *p = s->p;
  sim_result *r = s->r;
  s->last_pos_t = t;
  for (int h = 0; h < s->n_held; h++) {
    const int i = s->held[h];
    if (s->shares[i] <= SHARE_EPS) continue;
    int rc = grow((void **)&r->positions, &s->cap_pos, r->n_positions + 1, sizeof *r->positions, 1024, err,
                  "position list");
    if (rc) return rc;
    sim_position *q = &r->positions[r->n_positions++];
    q->date = p->dates[t];
    q->stock = i;
    memcpy(q->code, p->stocks[i].code, ZZ_CODE_LEN);
    q->shares = s->shares[i];
    q->close = s->last_close[i];
    q->value = s->shares[i] * s->last_close[i];
    q->weight = s->value > 0 ? q->value / s->value : 0.0;
    q->cost_basis = s->basis[i];
  }
  return ZZ_OK;
}

/* ------------------------------------------------------------ trading rules */

static int listed(const panel *p, int t, int i) { return (p->flags[panel_at(p, t, i)] & PANEL_LISTED) != 0; }

static int suspended(const panel *p, int t, int i) {
  uint8_t fl = p->flags[panel_at(p, t, i)];
  if (fl & PANEL_SUSPENDED) return 1;
  double vol = p->f[PF_VOLUME][panel_at(p, t, i)];
  return isfinite(vol) && vol <= 0;
}

/* The limit price of the day (up: dir > 0): the panel's, else round(pre_close x (1 +- ratio), 2). */
static double limit_price(const panel *p, int t, int i, int dir) {
  const size_t a = panel_at(p, t, i);
  double lim = p->f[dir > 0 ? PF_UP_LIMIT : PF_DOWN_LIMIT][a];
  if (isfinite(lim)) return lim;
  double pc = p->f[PF_PRE_CLOSE][a];
  if (!isfinite(pc) && t > 0) pc = p->f[PF_CLOSE][panel_at(p, t - 1, i)];
  if (!isfinite(pc)) return NAN;
  int st = (p->flags[a] & PANEL_ST) != 0;
  double ratio = panel_limit_ratio(p->stocks[i].board, st, p->dates[t]);
  return round(pc * (1.0 + dir * ratio) * 100.0) / 100.0;
}

/* 1 when the stock is at its up (dir > 0) or down limit on day t under the configured test. */
static int at_limit(const panel *p, const sim_config *c, int t, int i, int dir) {
  double lim = limit_price(p, t, i, dir);
  if (!isfinite(lim)) return 0;
  const size_t a = panel_at(p, t, i);
  double x; /* the price that decides: at or beyond the limit within half a cent */
  switch (c->limit_test) {
    case SIM_LIMIT_SEALED: /* the whole day at the limit: the extreme on the other side touches it */
      x = dir > 0 ? p->f[PF_LOW][a] : p->f[PF_HIGH][a];
      break;
    case SIM_LIMIT_VWAP: x = p->f[PF_VWAP][a]; break;
    case SIM_LIMIT_CLOSE:
    default: x = p->f[PF_CLOSE][a]; break;
  }
  if (!isfinite(x)) return 0;
  return dir > 0 ? x >= lim - LIMIT_TOL : x <= lim + LIMIT_TOL;
}

void sim_tradable(const panel *p, const sim_config *c, int t, int i, int *can_buy, int *can_sell) {
  const int ok = listed(p, t, i) && !suspended(p, t, i);
  if (can_buy) *can_buy = ok && !at_limit(p, c, t, i, +1);
  if (can_sell) *can_sell = ok && !at_limit(p, c, t, i, -1);
}

/* The last close > 0 of stock i on a simulated day before t (0 if none). last_close[i] holds it through
 * lc_t[i] (every day for held stocks); the days after that are searched back in the panel, which for a
 * stock just bought stops at once, usually at t - 1. */
static double last_close_before(const sim_book *s, int t, int i) {
  for (int u = t - 1; u > s->lc_t[i] && u >= s->t0; u--) {
    double cl = fld(s, PF_CLOSE, u, i);
    if (isfinite(cl) && cl > 0) return cl;
  }
  return s->last_close[i];
}

/* Rebuilds the ascending list of held stocks, so that the daily loops touch only held stocks and add
 * their values in the same order as a scan of every stock would. */
static void rebuild_held(sim_book *s) {
  s->n_held = 0;
  for (int i = 0; i < s->p->n_stocks; i++)
    if (s->shares[i] > SHARE_EPS) s->held[s->n_held++] = i;
}

static double exec_price(const sim_book *s, int t, int i) {
  double px = NAN;
  switch (s->c.exec_price) {
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

/* ------------------------------------------------------------------ lots */

/* Board lot rules with L = c.lot: main board and ChiNext trade multiples of L; STAR at least 2L, then
 * any whole number; BSE at least L, then any whole number. L = 0: fractional shares. */
static double lot_min(const sim_book *s, int i) {
  const double L = s->c.lot;
  return s->p->stocks[i].board == BOARD_STAR ? 2 * L : L;
}
static double lot_step(const sim_book *s, int i) {
  const panel_board b = s->p->stocks[i].board;
  return s->c.lot > 0 && (b == BOARD_STAR || b == BOARD_BSE) ? 1.0 : s->c.lot;
}
/* The largest valid order quantity <= x. */
static double lot_floor(const sim_book *s, int i, double x) {
  if (s->c.lot <= 0) return x;
  if (x < lot_min(s, i) - 1e-9) return 0.0;
  const double st = lot_step(s, i);
  return floor(x / st + 1e-9) * st;
}

static double buy_need(const sim_book *s, double q, double px, int32_t ymd) {
  if (q <= 0) return 0.0;
  const double v = q * px;
  return v + sim_trade_cost(&s->c, +1, v, ymd);
}

/* Max-heap of buy candidates on buy_gap (sign: +1 largest overshoot, -1 largest shortfall), ties to the
 * lower stock index. */
static int heap_before(const sim_book *s, int a, int b, double sign) {
  const double ga = sign * s->buy_gap[a], gb = sign * s->buy_gap[b];
  if (ga != gb) return ga > gb;
  return s->buy_i[a] < s->buy_i[b];
}
static void heap_down(sim_book *s, int k, double sign) {
  for (;;) {
    int l = 2 * k + 1, r = l + 1, m = k;
    if (l < s->n_heap && heap_before(s, s->heap[l], s->heap[m], sign)) m = l;
    if (r < s->n_heap && heap_before(s, s->heap[r], s->heap[m], sign)) m = r;
    if (m == k) return;
    int x = s->heap[k];
    s->heap[k] = s->heap[m], s->heap[m] = x, k = m;
  }
}
static void heap_build(sim_book *s, double sign) {
  for (int k = s->n_heap / 2 - 1; k >= 0; k--) heap_down(s, k, sign);
}
static void heap_pop(sim_book *s, double sign) {
  s->heap[0] = s->heap[--s->n_heap];
  heap_down(s, 0, sign);
}

/* Steps of value v the heap's top k can take in a row and stay strictly first (its key falls by v a step,
 * the best child is the rival; at least 1). Taking them at once is what one step at a time would do. */
static double steps_on_top(const sim_book *s, int k, double sign, double v) {
  int r = -1;
  for (int c = 1; c <= 2 && c < s->n_heap; c++)
    if (r < 0 || heap_before(s, s->heap[c], r, sign)) r = s->heap[c];
  if (r < 0) return INFINITY;
  return fmax(1.0, floor((sign * s->buy_gap[k] - sign * s->buy_gap[r]) / v));
}

/* The largest cost rate of a buy: a bound on what one more share costs beyond its price. */
static double buy_rate_max(const sim_config *c) {
  return c->costs == SIM_COSTS_PROPORTIONAL ? c->buy_rate : c->costs == SIM_COSTS_COMMISSION ? c->commission_rate : 0.0;
}

/* The next increment of the add phase for candidate k (the heap's top): the minimum lot for a new
 * order, else one step, or several steps at once when each stays on top, leaves a shortfall of more
 * than a step and is affordable with a step's margin to spare. */
static double q_inc(const sim_book *s, int k, int i, double cash_left) {
  const double q = s->buy_q[k];
  if (!(q > 0)) return lot_min(s, i);
  const double st = lot_step(s, i), v = st * s->buy_px[k];
  const double m = fmin(fmin(steps_on_top(s, k, -1, v), ceil(-s->buy_gap[k] / v) - 1),
                        floor(cash_left / (v * (1 + buy_rate_max(&s->c)))) - 1);
  return m >= 2 ? m * st : st;
}

/* Buy quantities buy_q[0..nbuy) for the cash `avail`: when the initial orders cost more, cut a step
 * at a time from the largest overshoot; then give the cash left, an increment at a time, to the
 * largest shortfall whose increment fits. Returns the total cost of the buys (value + costs). */
static double size_buys(sim_book *s, int nbuy, double avail, int32_t ymd) {
  double need = 0.0;
  for (int k = 0; k < nbuy; k++) need += buy_need(s, s->buy_q[k], s->buy_px[k], ymd);
  if (s->c.lot <= 0) { /* fractional: one common scale when cash binds */
    if (need <= avail) return need;
    double scale = avail > 0 ? avail / need : 0.0, total = need;
    for (int it = 0; it < 100; it++) {
      total = 0.0;
      for (int k = 0; k < nbuy; k++) {
        s->buy_q[k] = s->buy_q0[k] * scale;
        total += buy_need(s, s->buy_q[k], s->buy_px[k], ymd);
      }
      if (total <= avail) return total;
      scale *= fmin(avail / total, 1.0 - 1e-12);
    }
    while (total > avail) { /* minimum commissions can defeat scaling: drop the largest buys */
      int kmax = -1;
      for (int k = 0; k < nbuy; k++)
        if (s->buy_q[k] > 0 && (kmax < 0 || s->buy_q[k] * s->buy_px[k] > s->buy_q[kmax] * s->buy_px[kmax])) kmax = k;
      if (kmax < 0) break;
      total -= buy_need(s, s->buy_q[kmax], s->buy_px[kmax], ymd);
      s->buy_q[kmax] = 0.0;
    }
    return total;
  }
  if (need > avail) { /* cut phase */
    s->n_heap = 0;
    for (int k = 0; k < nbuy; k++)
      if (s->buy_q[k] > 0) s->heap[s->n_heap++] = k;
    heap_build(s, +1);
    while (need > avail && s->n_heap > 0) {
      const int k = s->heap[0], i = s->buy_i[k];
      const double q = s->buy_q[k], st = lot_step(s, i), v = st * s->buy_px[k];
      /* several steps at once when they all stay on top, keep the minimum and leave cash short */
      const double m = fmin(fmin(steps_on_top(s, k, +1, v), floor((q - lot_min(s, i)) / st + 1e-9)),
                            floor((need - avail) / (v * (1 + buy_rate_max(&s->c)))));
      const double nq = m >= 2 ? q - m * st : q - st < lot_min(s, i) - 1e-9 ? 0.0 : q - st;
      need += buy_need(s, nq, s->buy_px[k], ymd) - buy_need(s, q, s->buy_px[k], ymd);
      s->buy_gap[k] -= (q - nq) * s->buy_px[k];
      s->buy_q[k] = nq;
      if (nq <= 0) heap_pop(s, +1);
      else heap_down(s, 0, +1);
    }
  }
  /* add phase */
  s->n_heap = 0;
  for (int k = 0; k < nbuy; k++)
    if (s->buy_gap[k] < 0) s->heap[s->n_heap++] = k;
  heap_build(s, -1);
  while (s->n_heap > 0) {
    const int k = s->heap[0], i = s->buy_i[k];
    double inc = q_inc(s, k, i, avail - need);
    const double q = s->buy_q[k];
    const double marginal = buy_need(s, q + inc, s->buy_px[k], ymd) - buy_need(s, q, s->buy_px[k], ymd);
    if (marginal > avail - need) {
      heap_pop(s, -1);
      continue;
    }
    s->buy_q[k] = q + inc;
    need += marginal;
    s->buy_gap[k] += inc * s->buy_px[k];
    if (s->buy_gap[k] >= 0) heap_pop(s, -1);
    else heap_down(s, 0, -1);
  }
  return need;
}

/* --------------------------------------------------------------- rebalance */

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int push_rebalance(sim_book *s, const sim_rebalance *rb, zz_err *err) {
  sim_result *r = s->r;
  size_t cap = (size_t)s->cap_reb;
  int rc = grow((void **)&r->rebalances, &cap, (size_t)r->n_rebalances + 1, sizeof *r->rebalances, 64, err,
                "rebalance list");
  if (rc) return rc;
  s->cap_reb = (int)cap;
  r->rebalances[r->n_rebalances++] = *rb;
  return ZZ_OK;
}

/* Executes pending batch b on day t. */
static int execute(sim_book *s, const sim_pending *b, int t, double *turnover, double *costs, zz_err *err) {
  const panel *p = s->p;
  const sim_config *c = &s->c;
  const int32_t ymd = p->dates[t];
  const int rules = c->enforce_rules;
  int rc;
  for (size_t j = b->first; j < b->end; j++) {
    const sim_order *o = &s->ord[j];
    double T = o->target;
    const double a1 = fld(s, PF_ADJ, t, o->stock);
    if (isfinite(T) && isfinite(o->adj) && o->adj > 0 && isfinite(a1) && a1 > 0) T *= a1 / o->adj;
    s->tgt[o->stock] = T;
    s->tw[o->stock] = o->weight;
    s->in_batch[o->stock] = 1;
  }
  /* the stocks to look at: held ones and the batch's, ascending as a scan of all would be */
  int ncand = 0;
  for (int h = 0; h < s->n_held; h++) s->cand[ncand++] = s->held[h];
  for (size_t j = b->first; j < b->end; j++)
    if (!(s->shares[s->ord[j].stock] > SHARE_EPS)) s->cand[ncand++] = s->ord[j].stock;
  qsort(s->cand, (size_t)ncand, sizeof *s->cand, cmp_int);
  int nu = 0;
  for (int k = 0; k < ncand; k++)
    if (nu == 0 || s->cand[k] != s->cand[nu - 1]) s->cand[nu++] = s->cand[k];
  ncand = nu;
  /* value at the fills before trading */
  double V = s->cash;
  for (int k = 0; k < ncand; k++) {
    const int i = s->cand[k];
    s->px[i] = listed(p, t, i) ? exec_price(s, t, i) : NAN;
    if (s->shares[i] > SHARE_EPS) V += s->shares[i] * s->px[i];
  }
  sim_rebalance rb = {.decision_date = p->dates[b->decision_t], .trade_date = ymd, .value = V};
  double unfilled = 0.0;
  int nbuy = 0;
  /* sells first; buys collected */
  for (int k = 0; k < ncand; k++) {
    const int i = s->cand[k];
    const double T = s->in_batch[i] ? s->tgt[i] : 0.0, H = s->shares[i], px = s->px[i];
    if (!listed(p, t, i)) { /* a held stock that is not listed was liquidated this morning */
      if (T > 0 || !isfinite(T)) {
        if ((rc = record(s, t, i, +1, 0.0, 0.0, NAN, 0.0, SIM_UNFILLED, "not_listed", err))) return rc;
        rb.n_unfilled++;
      }
      continue;
    }
    if (!isfinite(T) || !(px > 0) || !isfinite(px)) {
      if (!isfinite(T) || T > H + BUY_EPS || T < H - SHARE_EPS) {
        if ((rc = record(s, t, i, T < H ? -1 : +1, 0.0, 0.0, NAN, 0.0, SIM_UNFILLED, "no_price", err))) return rc;
        rb.n_unfilled++;
      }
      continue;
    }
    const double delta = T - H;
    if (delta > BUY_EPS) {
      const double q0 = lot_floor(s, i, delta);
      const char *why = !rules ? NULL : suspended(p, t, i) ? "suspended" : at_limit(p, c, t, i, +1) ? "limit_up" : NULL;
      if (why) {
        if (q0 > SHARE_EPS) {
          if ((rc = record(s, t, i, +1, q0, 0.0, px, 0.0, SIM_UNFILLED, why, err))) return rc;
          rb.n_unfilled++;
          unfilled += q0 * px;
        }
        continue;
      }
      s->buy_i[nbuy] = i;
      s->buy_q0[nbuy] = s->buy_q[nbuy] = q0;
      s->buy_px[nbuy] = px;
      s->buy_gap[nbuy] = (H + q0 - T) * px;
      nbuy++;
      continue;
    }
    if (delta >= -SHARE_EPS) continue;
    const double q = T <= 1e-9 ? H : lot_floor(s, i, -delta); /* a whole position may sell odd lots */
    if (q <= SHARE_EPS) continue;
    const char *why = !rules ? NULL : suspended(p, t, i) ? "suspended" : at_limit(p, c, t, i, -1) ? "limit_down" : NULL;
    if (why) {
      if ((rc = record(s, t, i, -1, q, 0.0, px, 0.0, SIM_UNFILLED, why, err))) return rc;
      rb.n_unfilled++;
      unfilled += q * px;
      continue;
    }
    double fill = q;
    const char *reason = "";
    if (rules && s->bought_t[i] == t) { /* T+1: today's purchases are locked */
      const double sellable = H - s->bought_qty[i];
      if (sellable < fill - SHARE_EPS) {
        fill = T <= 1e-9 && sellable > SHARE_EPS ? sellable : lot_floor(s, i, fmax(sellable, 0.0));
        reason = "t+1";
      }
    }
    if (fill <= SHARE_EPS) {
      if ((rc = record(s, t, i, -1, q, 0.0, px, 0.0, SIM_UNFILLED, "t+1", err))) return rc;
      rb.n_unfilled++;
      unfilled += q * px;
      continue;
    }
    const double value = fill * px, cost = sim_trade_cost(c, -1, value, ymd);
    s->cash += value - cost;
    s->basis[i] *= 1.0 - fill / H;
    s->shares[i] -= fill;
    if (s->shares[i] <= SHARE_EPS) s->shares[i] = 0.0, s->basis[i] = 0.0;
    rb.sold += value;
    rb.costs += cost;
    if (reason[0]) rb.n_unfilled++, unfilled += (q - fill) * px;
    if ((rc = record(s, t, i, -1, q, fill, px, cost, reason[0] ? SIM_PARTIAL : SIM_FILLED, reason, err))) return rc;
  }
  /* buys, sized to the cash the sells left */
  size_buys(s, nbuy, s->cash, ymd);
  for (int k = 0; k < nbuy; k++) {
    const int i = s->buy_i[k];
    const double q0 = s->buy_q0[k], q = s->buy_q[k], px = s->buy_px[k];
    if (q <= SHARE_EPS) {
      if (q0 > SHARE_EPS) {
        if ((rc = record(s, t, i, +1, q0, 0.0, px, 0.0, SIM_UNFILLED, "cash", err))) return rc;
        rb.n_unfilled++;
        unfilled += q0 * px;
      }
      continue;
    }
    const double value = q * px, cost = sim_trade_cost(c, +1, value, ymd);
    s->cash -= value + cost;
    if (s->cash < 0 && s->cash > -1e-6) s->cash = 0.0; /* rounding of the sums */
    s->shares[i] += q;
    s->basis[i] += value + cost;
    if (s->bought_t[i] != t) s->bought_t[i] = t, s->bought_qty[i] = 0.0;
    s->bought_qty[i] += q;
    rb.bought += value;
    rb.costs += cost;
    const int partial = q < q0 - SHARE_EPS;
    if (partial) rb.n_unfilled++, unfilled += (q0 - q) * px;
    if ((rc = record(s, t, i, +1, partial ? q0 : q, q, px, cost, partial ? SIM_PARTIAL : SIM_FILLED,
                     partial ? "cash" : "", err)))
      return rc;
  }
  /* after trading, at the fill prices */
  const double Va = V - rb.costs;
  rb.turnover = V > 0 ? (rb.sold + rb.bought + fabs(rb.sold - rb.bought - rb.costs)) / 2.0 / V : 0.0;
  rb.cash_weight = Va > 0 ? s->cash / Va : 0.0;
  rb.unfilled_value = V > 0 ? unfilled / V : 0.0;
  for (int k = 0; k < ncand; k++) {
    const int i = s->cand[k];
    const double w = s->shares[i] > SHARE_EPS && Va > 0 ? s->shares[i] * s->px[i] / Va : 0.0;
    rb.l1_target += fabs(w - (s->in_batch[i] ? s->tw[i] : 0.0));
  }
  for (size_t j = b->first; j < b->end; j++) {
    const int i = s->ord[j].stock;
    s->tgt[i] = s->tw[i] = 0.0;
    s->in_batch[i] = 0;
  }
  *turnover += rb.turnover;
  *costs += rb.costs;
  return push_rebalance(s, &rb, err);
}

/* ------------------------------------------------------------------- days */

/* Marks the close of day t: value, last closes, and the day's row of the series. */
static void mark(sim_book *s, int t, double turnover, double costs) {
  double value = s->cash;
  for (int h = 0; h < s->n_held; h++) {
    const int i = s->held[h];
    if (s->shares[i] <= SHARE_EPS) continue;
    const double cl = fld(s, PF_CLOSE, t, i);
    s->last_close[i] = isfinite(cl) && cl > 0 ? cl : last_close_before(s, t, i);
    s->lc_t[i] = t;
    value += s->shares[i] * s->last_close[i];
  }
  s->value = value;
  const int d = t - s->t0;
  s->d_value[d] = value;
  s->d_cash[d] = s->cash;
  s->d_turnover[d] = turnover;
  s->d_costs[d] = costs;
}

static int check_benchmark(const sim_book *s, int t, zz_err *err) {
  const int k = s->c.benchmark;
  if (k < 0) return ZZ_OK;
  const panel_index *ix = &s->p->index[k];
  if (ix->close && isfinite(ix->close[t]) && ix->close[t] > 0) return ZZ_OK; /* every day: the usual case */
  char db[16], de[16];
  zz_date_format(s->p->dates[t], db);
  zz_date_format(s->p->dates[s->t_exec], de);
  int any = 0;
  for (int u = 0; ix->close && !any && u < s->p->n_dates; u++) any = isfinite(ix->close[u]) && ix->close[u] > 0;
  if (!any)
    return zz_fail(err, ZZ_EDATA,
                   "index_bars.csv: the benchmark %s (%s) has no closes at all; the simulation needs one on every "
                   "day from its first trade day %s on (add the index's bars, or choose another benchmark)",
                   zz_index_name(k), zz_index_code(k), de);
  return zz_fail(err, ZZ_EDATA,
                   "index_bars.csv: the benchmark %s (%s) has no close on %s, a simulated day (closes are needed on "
                   "every day from the first trade day %s on; a missing close would silently count as a zero "
                   "benchmark return)",
                   zz_index_name(k), zz_index_code(k), db, de);
}

/* Executes the batches due on day t, in the order they were submitted; *traded = 1 when there was one. */
static int trade_due(sim_book *s, int t, double *turnover, double *costs, int *traded, zz_err *err) {
  while (s->next_pend < s->n_pend && s->pend[s->next_pend].trade_t == t) {
    int rc = execute(s, &s->pend[s->next_pend++], t, turnover, costs, err);
    if (rc) return rc;
    rebuild_held(s); /* a second batch the same day values the book from the new holdings */
    *traded = 1;
  }
  if (*traded && s->t_exec < 0) s->t_exec = t;
  if (s->next_pend == s->n_pend) s->n_pend = s->next_pend = 0, s->n_ord = 0; /* nothing pending: reuse */
  return ZZ_OK;
}

/* Simulates day t (the day after s->t_cur). */
static int step_day(sim_book *s, int t, zz_err *err) {
  int rc;
  /* 1. corporate actions and delistings */
  if (t > s->t0) {
    int delisted = 0;
    for (int h = 0; h < s->n_held; h++) {
      const int i = s->held[h];
      if (s->shares[i] <= SHARE_EPS) continue;
      if (!listed(s->p, t, i)) { /* liquidated at the last close, no costs */
        const double px = s->last_close[i], q = s->shares[i];
        s->cash += q * px;
        s->shares[i] = 0.0;
        s->basis[i] = 0.0;
        if ((rc = record(s, t, i, -1, q, q, px, 0.0, SIM_DELISTED, "delisted", err))) return rc;
        delisted = 1;
        continue;
      }
      const double a1 = fld(s, PF_ADJ, t, i), a0 = fld(s, PF_ADJ, t - 1, i);
      if (isfinite(a1) && isfinite(a0) && a0 > 0 && a1 != a0) s->shares[i] *= a1 / a0;
    }
    if (delisted) rebuild_held(s);
  }
  /* 2. orders due today, in the order they were submitted */
  double turnover = 0.0, costs = 0.0;
  int traded = 0;
  if ((rc = trade_due(s, t, &turnover, &costs, &traded, err))) return rc;
  /* 3. marking at the close; the benchmark must have it from the first execution on */
  s->t_cur = t;
  mark(s, t, turnover, costs);
  if (s->t_exec >= 0 && (rc = check_benchmark(s, t, err))) return rc;
  if (traded && (rc = push_positions(s, t, err))) return rc;
  return ZZ_OK;
}

/* ------------------------------------------------------------------- book */

void sim_book_free(sim_book *s) {
  if (!s) return;
  sim_result_free(s->r);
  free(s->shares), free(s->basis), free(s->last_close), free(s->lc_t), free(s->held), free(s->cand);
  free(s->bought_t), free(s->bought_qty), free(s->tgt), free(s->tw), free(s->px), free(s->in_batch);
  free(s->buy_i), free(s->buy_q0), free(s->buy_q), free(s->buy_px), free(s->buy_gap), free(s->heap);
  free(s->ord), free(s->pend);
  free(s->d_value), free(s->d_cash), free(s->d_turnover), free(s->d_costs);
  free(s);
}

int sim_book_create(const panel *p, const sim_config *c, int32_t start, sim_book **out, zz_err *err) {
  *out = NULL;
  int rc = sim_config_check(c, err);
  if (rc) return rc;
  const int t0 = sim_find_date(p, start);
  if (t0 < 0) return zz_fail(err, ZZ_EUSAGE, "simulation start %d is not a trading day of the market", (int)start);
  int t_end = p->n_dates - 1;
  if (c->end) {
    while (t_end >= 0 && p->dates[t_end] > c->end) t_end--;
    if (t_end < t0) return zz_fail(err, ZZ_EUSAGE, "end date %d is before the first target date %d", (int)c->end, (int)start);
  }
  const size_t n = (size_t)p->n_stocks + 1, nd = (size_t)(t_end - t0 + 1);
  sim_book *s = calloc(1, sizeof *s);
  if (!s) return zz_fail(err, ZZ_ENOMEM, "out of memory for the simulator");
  s->p = p;
  s->c = *c;
  s->t0 = t0, s->t_end = t_end, s->t_cur = t0 - 1, s->t_exec = -1, s->last_pos_t = -1;
  s->cash = s->value = c->capital;
  s->r = calloc(1, sizeof *s->r);
  s->shares = calloc(n, sizeof(double)), s->basis = calloc(n, sizeof(double)), s->last_close = calloc(n, sizeof(double));
  s->lc_t = malloc(n * sizeof(int)), s->held = calloc(n, sizeof(int)), s->cand = calloc(2 * n, sizeof(int));
  s->bought_t = malloc(n * sizeof(int)), s->bought_qty = calloc(n, sizeof(double));
  s->tgt = calloc(n, sizeof(double)), s->tw = calloc(n, sizeof(double)), s->px = calloc(n, sizeof(double));
  s->in_batch = calloc(n, 1);
  s->buy_i = calloc(n, sizeof(int)), s->heap = calloc(n, sizeof(int));
  s->buy_q0 = calloc(n, sizeof(double)), s->buy_q = calloc(n, sizeof(double));
  s->buy_px = calloc(n, sizeof(double)), s->buy_gap = calloc(n, sizeof(double));
  s->d_value = calloc(nd, sizeof(double)), s->d_cash = calloc(nd, sizeof(double));
  s->d_turnover = calloc(nd, sizeof(double)), s->d_costs = calloc(nd, sizeof(double));
  if (!s->r || !s->shares || !s->basis || !s->last_close || !s->lc_t || !s->held || !s->cand || !s->bought_t ||
      !s->bought_qty || !s->tgt || !s->tw || !s->px || !s->in_batch || !s->buy_i || !s->heap || !s->buy_q0 ||
      !s->buy_q || !s->buy_px || !s->buy_gap || !s->d_value || !s->d_cash || !s->d_turnover || !s->d_costs) {
    sim_book_free(s);
    return zz_fail(err, ZZ_ENOMEM, "out of memory in the simulator (%d stocks x %d days)", p->n_stocks, (int)nd);
  }
  for (size_t i = 0; i < n; i++) s->lc_t[i] = t0 - 1, s->bought_t[i] = -1;
  s->r->benchmark_index = c->benchmark;
  *out = s;
  return ZZ_OK;
}

int32_t sim_book_date(const sim_book *s) { return s->t_cur >= s->t0 ? s->p->dates[s->t_cur] : 0; }

int sim_book_run_to(sim_book *s, int32_t date, zz_err *err) {
  const int t = sim_find_date(s->p, date);
  if (t < 0) return zz_fail(err, ZZ_EUSAGE, "simulate to %d: not a trading day of the market", (int)date);
  if (t < s->t_cur) return zz_fail(err, ZZ_EINTERNAL, "simulate to %d: the book is already at %d", (int)date,
                                   (int)s->p->dates[s->t_cur]);
  if (t > s->t_end) return zz_fail(err, ZZ_EUSAGE, "simulate to %d: after the simulation's end %d", (int)date,
                                   (int)s->p->dates[s->t_end]);
  for (int u = s->t_cur + 1; u <= t; u++) {
    int rc = step_day(s, u, err);
    if (rc) return rc;
  }
  return ZZ_OK;
}

void sim_book_weights(const sim_book *s, double *w, double *cash_weight, double *value) {
  if (w) {
    memset(w, 0, sizeof *w * (size_t)s->p->n_stocks);
    for (int h = 0; h < s->n_held; h++) {
      const int i = s->held[h];
      if (s->shares[i] > SHARE_EPS && s->value > 0) w[i] = s->shares[i] * s->last_close[i] / s->value;
    }
  }
  if (cash_weight) *cash_weight = s->value > 0 ? s->cash / s->value : 1.0;
  if (value) *value = s->value;
}

/* The price a target is sized with at the close of t: the close, else the last close > 0 before. */
static double sizing_price(const sim_book *s, int t, int i) {
  if (s->shares[i] > SHARE_EPS) return s->last_close[i];
  for (int u = t; u >= 0; u--) {
    const double cl = fld(s, PF_CLOSE, u, i);
    if (isfinite(cl) && cl > 0) return cl;
  }
  return NAN;
}

int sim_book_submit(sim_book *s, const int *stock, const double *weight, int n, int32_t trade_date, zz_err *err) {
  const panel *p = s->p;
  const int t = s->t_cur;
  if (t < s->t0) return zz_fail(err, ZZ_EINTERNAL, "a target was submitted before the book's first close");
  s->n_submitted++;
  int tt;
  if (trade_date) {
    tt = sim_find_date(p, trade_date);
    if (tt < 0) return zz_fail(err, ZZ_EUSAGE, "trade date %d is not a trading day", (int)trade_date);
  } else
    tt = t + s->c.exec_lag;
  if (tt < t)
    return zz_fail(err, ZZ_EUSAGE, "trade date %d is before the decision date %d", (int)trade_date, (int)p->dates[t]);
  if (tt == t && !(s->c.exec_price == SIM_PRICE_CLOSE && s->c.allow_same_close))
    return zz_fail(err, ZZ_EUSAGE,
                   "a target decided at the close of %d trades the same day: refused unless the execution price is "
                   "the close and sim.allow_same_close = 1 (--allow-same-close)",
                   (int)p->dates[t]);
  double sum = 0;
  for (int k = 0; k < n; k++) {
    if (stock[k] < 0 || stock[k] >= p->n_stocks)
      return zz_fail(err, ZZ_EINTERNAL, "target stock index %d out of range", stock[k]);
    if (!isfinite(weight[k]) || weight[k] < 0)
      return zz_fail(err, ZZ_EUSAGE, "target weight of %s on %d is %g: expected a finite number >= 0",
                     p->stocks[stock[k]].code, (int)p->dates[t], weight[k]);
    sum += weight[k];
  }
  if (sum > 1 + 1e-9)
    return zz_fail(err, ZZ_EUSAGE, "target weights of %d sum to %.12g, above 1", (int)p->dates[t], sum);
  int rc;
  /* the book the decision saw (also when its orders would trade after the end) */
  if (tt > t && s->last_pos_t != t && (rc = push_positions(s, t, err))) return rc;
  if (tt > s->t_end) return ZZ_OK; /* trades after the end: nothing to simulate */
  rc = grow((void **)&s->ord, &s->cap_ord, s->n_ord + (size_t)n, sizeof *s->ord, 1024, err, "order list");
  size_t capp = (size_t)s->cap_pend;
  if (!rc) rc = grow((void **)&s->pend, &capp, (size_t)s->n_pend + 1, sizeof *s->pend, 16, err, "order list");
  if (rc) return rc;
  s->cap_pend = (int)capp;
  /* the orders, sized at this close */
  sim_pending *pd = &s->pend[s->n_pend];
  *pd = (sim_pending){t, tt, s->n_ord, s->n_ord + (size_t)n};
  for (int k = 0; k < n; k++) {
    const int i = stock[k];
    const double px = sizing_price(s, t, i), a = fld(s, PF_ADJ, t, i);
    s->ord[s->n_ord++] = (sim_order){i, weight[k] > 0 ? (px > 0 ? weight[k] * s->value / px : NAN) : 0.0, weight[k], a};
  }
  /* batches are due in trade-date order; a later submission with an earlier trade date goes first */
  int k = s->n_pend++;
  while (k > s->next_pend && s->pend[k - 1].trade_t > s->pend[k].trade_t) {
    sim_pending x = s->pend[k - 1];
    s->pend[k - 1] = s->pend[k], s->pend[k] = x, k--;
  }
  if (tt == t) { /* same close (ideal mode): trade now and mark the day again */
    const int d = t - s->t0;
    double turnover = s->d_turnover[d], costs = s->d_costs[d];
    int traded = 0;
    if ((rc = trade_due(s, t, &turnover, &costs, &traded, err))) return rc;
    mark(s, t, turnover, costs);
    if ((rc = check_benchmark(s, t, err))) return rc;
    /* positions of the day after its trades replace any recorded before them */
    if (s->last_pos_t == t) {
      sim_result *r = s->r;
      while (r->n_positions > 0 && r->positions[r->n_positions - 1].date == p->dates[t]) r->n_positions--;
    }
    if ((rc = push_positions(s, t, err))) return rc;
  }
  return ZZ_OK;
}

int sim_book_finish(sim_book *s, sim_result **out, zz_err *err) {
  *out = NULL;
  int rc = sim_book_run_to(s, s->p->dates[s->t_end], err);
  if (rc) return rc;
  if (s->t_exec < 0 && s->n_submitted)
    return zz_fail(err, ZZ_EUSAGE, "no target traded within the simulated period (up to %d)",
                   (int)s->p->dates[s->t_end]);
  if (s->t_exec < 0) s->t_exec = s->t0; /* never given a target: all cash from the first date (documented) */
  if (s->last_pos_t != s->t_end && (rc = push_positions(s, s->t_end, err))) return rc;
  sim_result *r = s->r;
  const int e = s->t_exec, nd = s->t_end - e + 1, d0 = e - s->t0;
  r->n_days = nd;
  r->first_t = e;
  r->dates = calloc((size_t)nd, sizeof(int32_t));
  double **cols[] = {&r->nav, &r->benchmark, &r->hedged, &r->cash, &r->value, &r->turnover, &r->costs};
  for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) *cols[k] = calloc((size_t)nd, sizeof(double));
  if (!r->dates || !r->nav || !r->benchmark || !r->hedged || !r->cash || !r->value || !r->turnover || !r->costs)
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the simulation's series (%d days)", nd);
  const double *ix = s->c.benchmark >= 0 ? s->p->index[s->c.benchmark].close : NULL;
  const double K = s->c.capital, hc = s->c.hedge_cost / 252.0;
  r->entry_costs = s->d_costs[d0];
  r->entry_slippage = s->n_submitted ? s->d_value[d0] / (K - r->entry_costs) - 1.0 : NAN; /* no trade: none */
  double invested = 0.0;
  for (int d = 0; d < nd; d++) {
    const int t = e + d, u = d0 + d;
    r->dates[d] = s->p->dates[t];
    r->value[d] = s->d_value[u];
    r->cash[d] = s->d_cash[u];
    r->turnover[d] = s->d_turnover[u];
    r->costs[d] = s->d_costs[u];
    r->total_costs += r->costs[d];
    r->nav[d] = (1.0 - r->entry_costs / K) * r->value[d] / r->value[0];
    r->benchmark[d] = ix ? ix[t] / ix[e] : 1.0;
    if (d == 0) r->hedged[d] = r->nav[0];
    else {
      const double rp = r->value[d] / r->value[d - 1] - 1.0, rb = ix ? ix[t] / ix[t - 1] - 1.0 : 0.0;
      r->hedged[d] = r->hedged[d - 1] * (1.0 + rp - rb - hc);
    }
    invested += r->value[d] > 0 ? 1.0 - r->cash[d] / r->value[d] : 0.0;
  }
  r->mean_invested = invested / nd;
  *out = r;
  s->r = NULL;
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
  free(r->rebalances);
  free(r);
}

int sim_run(const panel *p, sim_targets *tg, const sim_config *c, sim_result **out, zz_err *err) {
  *out = NULL;
  int rc = sim_config_check(c, err);
  if (!rc) rc = sim_targets_validate(tg, p, err);
  if (rc) return rc;
  if (tg->nb == 0) return zz_fail(err, ZZ_EUSAGE, "no target dates: nothing to simulate");
  sim_book *s = NULL;
  if ((rc = sim_book_create(p, c, tg->b[0].date, &s, err))) return rc;
  int *stk = malloc(((size_t)p->n_stocks + 1) * sizeof *stk);
  double *w = malloc(((size_t)p->n_stocks + 1) * sizeof *w);
  if (!stk || !w) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  for (int k = 0; k < tg->nb && !rc; k++) {
    const sim_batch *b = &tg->b[k];
    if (sim_find_date(p, b->date) > s->t_end) break;
    if ((rc = sim_book_run_to(s, b->date, err))) break;
    int n = 0;
    for (size_t j = b->first; j < b->end; j++) stk[n] = tg->e[j].stock, w[n++] = tg->e[j].weight;
    if ((rc = sim_book_submit(s, stk, w, n, b->trade_date, err))) {
      if (tg->path[0]) zz_wrap(err, "%s: batch of %d", tg->path, (int)b->date);
      break;
    }
  }
  if (!rc) rc = sim_book_finish(s, out, err);
  free(stk);
  free(w);
  sim_book_free(s);
  return rc;
}
