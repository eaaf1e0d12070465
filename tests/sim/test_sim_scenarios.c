/* test_sim_scenarios.c — hand-computed simulator scenarios, one rule each. Every expected number is
 * worked out by hand in the comments; prices are chosen so the arithmetic is exact. Stocks are
 * A = 600000.SH (index 0), B = 600001.SH (1), C = 600002.SH (2). Unless a test says otherwise:
 * capital 1,000,000; every price 10; proportional costs 0.1 % buy / 0.2 % sell; lots of 100;
 * a target dated d is sized in shares at the close of d (T = w x V_d / close_d) and trades on the next
 * trading day at its VWAP; limit test "close"; no benchmark.
 * Lots: a buy starts at floor_lot(T - H); when cash binds, lots are cut one step at a time from the
 * largest overshoot (H + q - T) x px; leftover cash is then added one step at a time to the largest
 * shortfall (T - H - q) x px while it fits, so with cash to spare a buy ends at the lot above its target.
 * NAV starts on the first execution day e: nav_e = 1 - costs_e / capital, nav_t = nav_e x value_t /
 * value_e, benchmark_e = 1, hedged_e = nav_e. */
#include "sim.h"
#include "sim_test_panel.h"

#include <unistd.h>

static const int32_t D[] = {20230103, 20230104, 20230105, 20230106, 20230109,
                            20230110, 20230111, 20230112, 20230113, 20230116};
enum { ND = 10, A = 0, B = 1, C = 2 };

static void cfg(sim_config *c) {
  sim_config_default(c);
  c->capital = 1e6;
  c->benchmark = -1;
}

static sim_result *run(const panel *p, sim_targets *tg, const sim_config *c) {
  zz_err err = {0};
  sim_result *r = NULL;
  int rc = sim_run(p, tg, c, &r, &err);
  if (rc) {
    fprintf(stderr, "sim_run failed: %s\n", err.msg);
    tp_failures++;
  }
  return r;
}

static const sim_trade *trade_side(const sim_result *r, int32_t date, int stock, int side) {
  for (size_t k = 0; r && k < r->n_trades; k++)
    if (r->trades[k].date == date && r->trades[k].stock == stock && (!side || r->trades[k].side == side))
      return &r->trades[k];
  fprintf(stderr, "no trade of stock %d on %d\n", stock, (int)date);
  tp_failures++;
  static const sim_trade none = {0};
  return &none;
}
static const sim_trade *trade(const sim_result *r, int32_t date, int stock) { return trade_side(r, date, stock, 0); }

static int has_trade(const sim_result *r, int32_t date, int stock) {
  for (size_t k = 0; r && k < r->n_trades; k++)
    if (r->trades[k].date == date && r->trades[k].stock == stock) return 1;
  return 0;
}

static double shares_at(const sim_result *r, int32_t date, int stock) {
  for (size_t k = 0; r && k < r->n_positions; k++)
    if (r->positions[k].date == date && r->positions[k].stock == stock) return r->positions[k].shares;
  return 0.0;
}

static int has_positions(const sim_result *r, int32_t date) {
  for (size_t k = 0; r && k < r->n_positions; k++)
    if (r->positions[k].date == date) return 1;
  return 0;
}

/* Row of `date` in the daily series (which start on the first execution day). */
static int day(const sim_result *r, int32_t date) {
  for (int d = 0; r && d < r->n_days; d++)
    if (r->dates[d] == date) return d;
  fprintf(stderr, "no day %d in the result\n", (int)date);
  tp_failures++;
  return 0;
}

static const sim_rebalance *reb(const sim_result *r, int k) {
  static const sim_rebalance none = {0};
  if (!r || k >= r->n_rebalances) {
    fprintf(stderr, "no rebalance %d (%d)\n", k, r ? r->n_rebalances : -1);
    tp_failures++;
    return &none;
  }
  return &r->rebalances[k];
}

/* 1. First rebalance from cash, with a benchmark and the hedged NAV.
 * Target on D0: A 0.5, B 0.3, sized at the D0 closes A 10, B 20 with V = 1e6: T_A = 50,000, T_B = 15,000.
 * D1 VWAPs A 10, B 20: 500,000 (cost 500) and 300,000 (cost 300); shortfalls 0, nothing added.
 *   cash = 1e6 - 800,000 - 800 = 199,200. D1 closes A 10.5, B 19: value = 199,200 + 525,000 + 285,000
 *   = 1,009,200. e = D1 (the series start there: D0 is not in it). nav_e = 1 - 800 / 1e6 = 0.9992;
 *   entry slippage = 1,009,200 / (1e6 - 800) - 1 = 10,000 / 999,200.
 * Turnover (cash as a position): 1/2 (0 + 800,000 + |0 - 800,000 - 800|) / 1e6 = 0.8004.
 * cash_weight = 199,200 / 999,200; l1_target = |500,000 / 999,200 - 0.5| + |300,000 / 999,200 - 0.3|
 *   = 800,000 / 999,200 - 0.8 = 640 / 999,200.
 * Index closes 1000, 1010, 999.99 -> benchmark from e: 1, 999.99 / 1010. D2 prices unchanged -> r_p = 0:
 *   hedged(D1) = 0.9992; hedged(D2) = 0.9992 x (1 + 0 - (999.99 / 1010 - 1)).
 * mean_invested = 1 - 199,200 / 1,009,200 on both days. */
static void test_first_rebalance(void) {
  panel *p = tp_create(3, D, 3);
  tp_bar(p, 1, A, 10, 10, 10.6, 9.9, 10.5, 10);
  tp_bar(p, 1, B, 20, 20, 20, 19, 19, 20);
  tp_flat_from(p, 2, A, 10.5);
  tp_flat_from(p, 2, B, 19);
  tp_bar(p, 0, B, 20, 20, 20, 20, 20, 20);
  double ic[] = {1000, 1010, 999.99};
  tp_index(p, PANEL_CSI500, ic);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.5, NULL);
  sim_targets_add(tg, D[0], B, 0.3, NULL);
  sim_config c;
  cfg(&c);
  c.benchmark = PANEL_CSI500;
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK(r->n_days == 2);
    CHECK(r->dates[0] == D[1] && r->first_t == 1);
    CHECK_NEAR(trade(r, D[1], A)->shares, 50000, 0);
    CHECK_NEAR(trade(r, D[1], B)->shares, 15000, 0);
    CHECK_NEAR(trade(r, D[1], A)->cost, 500, 1e-9);
    CHECK_NEAR(r->cash[0], 199200, 1e-9);
    CHECK_NEAR(r->value[0], 1009200, 1e-9);
    CHECK_NEAR(r->nav[0], 0.9992, 1e-12);
    CHECK_NEAR(r->nav[1], 0.9992, 1e-12);
    CHECK_NEAR(r->turnover[0], 0.8004, 1e-12);
    CHECK_NEAR(r->costs[0], 800, 1e-9);
    CHECK_NEAR(r->benchmark[0], 1.0, 1e-15);
    CHECK_NEAR(r->benchmark[1], 999.99 / 1010.0, 1e-12);
    CHECK_NEAR(r->hedged[0], 0.9992, 1e-12);
    CHECK_NEAR(r->hedged[1], 0.9992 * (1.0 - (999.99 / 1010.0 - 1.0)), 1e-12);
    CHECK_NEAR(r->entry_costs, 800, 1e-9);
    CHECK_NEAR(r->entry_slippage, 10000.0 / 999200.0, 1e-12);
    CHECK_NEAR(r->mean_invested, 1.0 - 199200.0 / 1009200.0, 1e-12);
    CHECK_NEAR(r->total_costs, 800, 1e-9);
    CHECK(r->n_rebalances == 1);
    const sim_rebalance *b = reb(r, 0);
    CHECK(b->decision_date == D[0] && b->trade_date == D[1]);
    CHECK_NEAR(b->value, 1e6, 1e-9);
    CHECK_NEAR(b->bought, 800000, 1e-9);
    CHECK_NEAR(b->sold, 0, 0);
    CHECK_NEAR(b->costs, 800, 1e-9);
    CHECK_NEAR(b->turnover, 0.8004, 1e-12);
    CHECK_NEAR(b->cash_weight, 199200.0 / 999200.0, 1e-12);
    CHECK_NEAR(b->l1_target, 640.0 / 999200.0, 1e-12);
    CHECK(b->n_unfilled == 0);
    CHECK_NEAR(b->unfilled_value, 0, 0);
    CHECK(!has_positions(r, D[0])); /* the book at the decision close D0 is all cash: no rows */
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 2. Limit-up buy refused, and the limit test is selectable. Targets A 0.4, B 0.4 sized at the D0 close
 * 10: T_A = T_B = 40,000 shares.
 * D1: A pre_close 10 -> up limit 11; open 10.5, high 11, low 10.5, close 11, vwap 10.8.
 *   close test: close 11 = limit -> A unfilled (limit_up), ordered 40,000 (sized at the decision close,
 *   not at the VWAP); B bought 40,000 at 10 (cost 400): cash 599,600; value 999,600; nav_e = 0.9996.
 *   n_unfilled 1, unfilled_value = 40,000 x 10.8 / 1e6 = 0.432; l1_target = 0.4 + |400,000 / 999,600 - 0.4|
 *   = 0.4 + 160 / 999,600.
 *   sealed test: low 10.5 < 11 -> not sealed -> A bought 40,000 at 10.8 = 432,000 (cost 432):
 *   cash = 1e6 - 432,432 - 400,400 = 167,168; value = 167,168 + 40,000 x 11 + 400,000 = 1,007,168;
 *   nav_e = 1 - 832 / 1e6 = 0.999168; entry slippage = 1,007,168 / 999,168 - 1 = 8,000 / 999,168.
 *   vwap test: vwap 10.8 < 11 - 0.005 -> bought too. */
static void test_limit_up(void) {
  panel *p = tp_create(2, D, 3);
  tp_bar(p, 1, A, 10, 10.5, 11, 10.5, 11, 10.8);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.4, NULL);
  sim_targets_add(tg, D[0], B, 0.4, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const sim_trade *ta = trade(r, D[1], A);
    CHECK(ta->status == SIM_UNFILLED && !strcmp(ta->reason, "limit_up") && ta->shares == 0);
    CHECK_NEAR(ta->ordered, 40000, 0);
    CHECK_NEAR(trade(r, D[1], B)->shares, 40000, 0);
    CHECK_NEAR(r->cash[0], 599600, 1e-9);
    CHECK_NEAR(r->nav[0], 0.9996, 1e-12);
    CHECK_NEAR(r->entry_slippage, 0, 1e-15);
    CHECK(reb(r, 0)->n_unfilled == 1);
    CHECK_NEAR(reb(r, 0)->unfilled_value, 0.432, 1e-12);
    CHECK_NEAR(reb(r, 0)->l1_target, 0.4 + 160.0 / 999600.0, 1e-12);
    int can_buy = -1, can_sell = -1;
    sim_tradable(p, &c, 1, A, &can_buy, &can_sell);
    CHECK(can_buy == 0 && can_sell == 1);
    sim_tradable(p, &c, 1, B, &can_buy, &can_sell);
    CHECK(can_buy == 1 && can_sell == 1);
  }
  sim_result_free(r);
  c.limit_test = SIM_LIMIT_SEALED;
  r = run(p, tg, &c);
  if (r) {
    CHECK(trade(r, D[1], A)->status == SIM_FILLED);
    CHECK_NEAR(trade(r, D[1], A)->shares, 40000, 0);
    CHECK_NEAR(r->cash[0], 167168, 1e-8);
    CHECK_NEAR(r->value[0], 1007168, 1e-8);
    CHECK_NEAR(r->nav[0], 0.999168, 1e-12);
    CHECK_NEAR(r->entry_slippage, 8000.0 / 999168.0, 1e-12);
    int can_buy = -1, can_sell = -1;
    sim_tradable(p, &c, 1, A, &can_buy, &can_sell);
    CHECK(can_buy == 1 && can_sell == 1);
  }
  sim_result_free(r);
  c.limit_test = SIM_LIMIT_VWAP;
  r = run(p, tg, &c);
  if (r) CHECK(trade(r, D[1], A)->status == SIM_FILLED);
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 3. Limit-down sell refused. D0 target A 0.5 (T = 50,000) -> D1 buys 50,000 at 10 (cost 500): cash 499,500,
 * value 999,500; nav_e = 0.9995, so nav_t = 0.9995 x value_t / 999,500 = value_t / 1e6.
 * D2 target {} -> D3: pre_close 10, down limit 9, close 9 -> unfilled (limit_down), ordered 50,000.
 *   D3 value = 499,500 + 50,000 x 9 = 949,500 -> nav 0.9495. Rebalance of D3: value before trading (at the
 *   VWAP 9.2) V = 499,500 + 460,000 = 959,500; unfilled_value = 460,000 / 959,500; cash_weight =
 *   499,500 / 959,500; l1_target = 460,000 / 959,500 (held, target 0); turnover 0.
 * D4 (price back to 9, not at the limit 8.1 of pre_close 9): the D2 order was dropped, so nothing trades;
 *   D4 target A 0 -> D5 sells 50,000 x 9 = 450,000, cost 900 -> cash 948,600 -> nav 0.9486. */
static void test_limit_down(void) {
  panel *p = tp_create(6, D, 2);
  tp_bar(p, 3, A, 10, 9.5, 9.5, 9, 9, 9.2);
  tp_flat_from(p, 4, A, 9);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.5, NULL);
  sim_targets_add_date(tg, D[2], 0, NULL);
  sim_targets_add_date(tg, D[4], 0, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const sim_trade *t3 = trade(r, D[3], A);
    CHECK(t3->side < 0 && t3->status == SIM_UNFILLED && !strcmp(t3->reason, "limit_down") && t3->ordered == 50000);
    CHECK_NEAR(shares_at(r, D[3], A), 50000, 0);
    CHECK_NEAR(shares_at(r, D[2], A), 50000, 0); /* positions at the decision close D2 */
    CHECK_NEAR(r->nav[day(r, D[3])], 0.9495, 1e-12);
    CHECK_NEAR(r->nav[day(r, D[4])], 0.9495, 1e-12);
    CHECK(r->n_rebalances == 3);
    const sim_rebalance *b = reb(r, 1);
    CHECK(b->decision_date == D[2] && b->trade_date == D[3] && b->n_unfilled == 1);
    CHECK_NEAR(b->value, 959500, 1e-9);
    CHECK_NEAR(b->unfilled_value, 460000.0 / 959500.0, 1e-12);
    CHECK_NEAR(b->cash_weight, 499500.0 / 959500.0, 1e-12);
    CHECK_NEAR(b->l1_target, 460000.0 / 959500.0, 1e-12);
    CHECK_NEAR(b->turnover, 0, 1e-15);
    CHECK(trade(r, D[5], A)->status == SIM_FILLED);
    CHECK_NEAR(r->cash[day(r, D[5])], 948600, 1e-9);
    CHECK_NEAR(r->nav[day(r, D[5])], 0.9486, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 4. Suspension: A suspended on D1 (no buy), B suspended on D3 (no sell).
 * D0 target A 0.3, B 0.3 (T = 30,000 each) -> D1: A unfilled (suspended, ordered 30,000); B 30,000
 *   bought (cost 300) -> cash 699,700; nav_e = 0.9997, value_e = 999,700.
 * D2 target {} -> D3: B suspended -> unfilled; value = 699,700 + 300,000 = 999,700 -> nav 0.9997. */
static void test_suspension(void) {
  panel *p = tp_create(4, D, 2);
  tp_suspend(p, 1, A);
  tp_suspend(p, 3, B);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.3, NULL);
  sim_targets_add(tg, D[0], B, 0.3, NULL);
  sim_targets_add_date(tg, D[2], 0, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const sim_trade *ta = trade(r, D[1], A);
    CHECK(ta->status == SIM_UNFILLED && !strcmp(ta->reason, "suspended") && ta->ordered == 30000);
    CHECK_NEAR(trade(r, D[1], B)->shares, 30000, 0);
    CHECK(trade(r, D[3], B)->status == SIM_UNFILLED && !strcmp(trade(r, D[3], B)->reason, "suspended"));
    CHECK_NEAR(shares_at(r, D[3], B), 30000, 0);
    CHECK_NEAR(r->nav[day(r, D[3])], 0.9997, 1e-12);
    int can_buy = -1, can_sell = -1;
    sim_tradable(p, &c, 1, A, &can_buy, &can_sell);
    CHECK(can_buy == 0 && can_sell == 0);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 5. T+1: two batches trade on D2. Batch D0 (exec_date D2) wants A 0.2: T = 20,000, bought on D2 at 10
 * (cost 200): cash 799,800. Batch D1 (the next trading day: D2), decided at the D1 close (an all-cash
 * book), is empty: A must be sold, but all 20,000 shares were bought today -> unfilled "t+1", ordered
 * 20,000. Batch D2 (empty) -> D3 sells 20,000 x 10 = 200,000, cost 400 -> cash 999,400.
 * e = D2: nav_e = 1 - 200 / 1e6 = 0.9998, value_e = 999,800 -> nav(D3) = 0.9998 x 999,400 / 999,800 = 0.9994.
 * Turnover of D2 = the two batches': 1/2 (200,000 + 200,200) / 1e6 + 0 = 0.2001. The second batch's
 * rebalance: V = 799,800 + 200,000 = 999,800, n_unfilled 1, unfilled_value = 200,000 / 999,800. */
static void test_t_plus_1(void) {
  panel *p = tp_create(4, D, 2);
  sim_targets *tg = sim_targets_create();
  sim_targets_add_date(tg, D[0], D[2], NULL);
  sim_targets_add(tg, D[0], A, 0.2, NULL);
  sim_targets_add_date(tg, D[1], 0, NULL);
  sim_targets_add_date(tg, D[2], 0, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK(r->dates[0] == D[2]);
    const sim_trade *s = trade_side(r, D[2], A, -1);
    CHECK(s->status == SIM_UNFILLED && !strcmp(s->reason, "t+1") && s->ordered == 20000);
    CHECK_NEAR(trade_side(r, D[2], A, +1)->shares, 20000, 0);
    CHECK_NEAR(shares_at(r, D[2], A), 20000, 0);
    CHECK_NEAR(r->cash[day(r, D[2])], 799800, 1e-9);
    CHECK_NEAR(r->turnover[day(r, D[2])], 0.2001, 1e-12);
    CHECK(trade(r, D[3], A)->status == SIM_FILLED);
    CHECK_NEAR(r->nav[day(r, D[3])], 0.9994, 1e-12);
    CHECK(r->n_rebalances == 3);
    CHECK(reb(r, 1)->decision_date == D[1] && reb(r, 1)->trade_date == D[2] && reb(r, 1)->n_unfilled == 1);
    CHECK_NEAR(reb(r, 1)->value, 999800, 1e-9);
    CHECK_NEAR(reb(r, 1)->unfilled_value, 200000.0 / 999800.0, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 6. Lots: floor first, then the add phase; a sell is floored. Target A 0.123456 at the close 10:
 *   T = 12,345.6 -> q0 = 12,300; shortfall (12,345.6 - 12,300) x 10 = 456 > 0 and another lot costs
 *   1,000 + 124 - 123 = 1,001 <= the cash left -> 12,400 (filled, ordered 12,400). Cost 124 ->
 *   cash 875,876. D2 target A 0.05: V_D2 = 875,876 + 124,000 = 999,876; T = 0.05 x 999,876 / 10 = 4,999.38;
 *   sell floor_lot(12,400 - 4,999.38 = 7,400.62) = 7,400 (74,000, cost 148) -> cash 949,728; 5,000 left
 *   (a sell is never rounded up). nav(D3) = 0.999876 x 999,728 / 999,876 = 0.999728. */
static void test_lots(void) {
  panel *p = tp_create(4, D, 2);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.123456, NULL);
  sim_targets_add(tg, D[2], A, 0.05, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const sim_trade *t1 = trade(r, D[1], A);
    CHECK(t1->status == SIM_FILLED && t1->shares == 12400 && t1->ordered == 12400);
    CHECK_NEAR(r->cash[day(r, D[1])], 875876, 1e-9);
    CHECK_NEAR(trade(r, D[3], A)->shares, 7400, 0);
    CHECK_NEAR(shares_at(r, D[3], A), 5000, 0);
    CHECK_NEAR(r->cash[day(r, D[3])], 949728, 1e-9);
    CHECK_NEAR(r->nav[day(r, D[3])], 0.999728, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 7. Cash binds, equal overshoots: the lower panel index is cut. A 0.5 at 10 -> T = 50,000; B 0.5 at 20 ->
 *   T = 25,000; need = 1,000,000 + 1,000 > 1e6. Overshoots (H + q - T) px: A 0, B 0 -> tie -> A loses a lot:
 *   need = 999,999 <= 1e6. Add phase: A's shortfall 1,000, but a lot costs 1,001 > 1 -> dropped.
 *   A 49,900 (partial "cash", ordered 50,000), B 25,000 filled; cash = 1e6 - 499,000 - 499 - 500,000 - 500
 *   = 1; nav_e = 1 - 999 / 1e6 = 0.999001; n_unfilled 1, unfilled_value = 100 x 10 / 1e6 = 0.001. */
static void test_cash_tie(void) {
  panel *p = tp_create(2, D, 2);
  tp_flat_from(p, 0, B, 20);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.5, NULL);
  sim_targets_add(tg, D[0], B, 0.5, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const sim_trade *ta = trade(r, D[1], A), *tb = trade(r, D[1], B);
    CHECK_NEAR(ta->shares, 49900, 0);
    CHECK_NEAR(tb->shares, 25000, 0);
    CHECK(ta->status == SIM_PARTIAL && !strcmp(ta->reason, "cash") && ta->ordered == 50000);
    CHECK(tb->status == SIM_FILLED && tb->ordered == 25000);
    CHECK_NEAR(r->cash[0], 1, 1e-8);
    CHECK(r->cash[0] >= 0);
    CHECK_NEAR(r->nav[0], 0.999001, 1e-12);
    CHECK(reb(r, 0)->n_unfilled == 1);
    CHECK_NEAR(reb(r, 0)->unfilled_value, 0.001, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 8. Minimum commission. Commission mode (0.025 %, min 5). A 0.001 -> T = 100 shares at 10 = 1,000 CNY;
 *   commission max(0.25, 5) = 5. B 0.1 -> 10,000 shares, 100,000 CNY, commission 25. Shortfalls 0.
 *   cash = 1e6 - 1,000 - 5 - 100,000 - 25 = 898,970; value = 898,970 + 101,000 = 999,970; nav_e = 0.99997. */
static void test_min_commission(void) {
  panel *p = tp_create(2, D, 2);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.001, NULL);
  sim_targets_add(tg, D[0], B, 0.1, NULL);
  sim_config c;
  cfg(&c);
  c.costs = SIM_COSTS_COMMISSION;
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK_NEAR(trade(r, D[1], A)->shares, 100, 0);
    CHECK_NEAR(trade(r, D[1], A)->cost, 5, 1e-12);
    CHECK_NEAR(trade(r, D[1], B)->cost, 25, 1e-9);
    CHECK_NEAR(r->cash[0], 898970, 1e-9);
    CHECK_NEAR(r->nav[0], 0.99997, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 9. Stamp duty switches on 2023-08-28. Commission mode. Dates 08-22 .. 08-29.
 *   08-22 target A 0.1, B 0.1 -> 08-23: 10,000 each (commission 25 each); cash 799,950; nav_e = 0.99995.
 *   08-24 target B 0.1: V = 999,950 -> T_B = 9,999.5: a sell of floor_lot(0.5) = 0 -> B unchanged;
 *   08-25: A (not in the batch) sold 10,000 x 10 = 100,000: commission 25 + stamp 0.1 % = 100 -> cost 125,
 *   cash 899,825. 08-25 target {} -> 08-28: B sold 100,000: commission 25 + stamp 0.05 % = 50 -> cost 75,
 *   cash 999,750. nav(08-29) = 0.99995 x 999,750 / 999,950 = 0.99975. */
static void test_stamp_switch(void) {
  static const int32_t E[] = {20230822, 20230823, 20230824, 20230825, 20230828, 20230829};
  panel *p = tp_create(6, E, 2);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, E[0], A, 0.1, NULL);
  sim_targets_add(tg, E[0], B, 0.1, NULL);
  sim_targets_add(tg, E[2], B, 0.1, NULL);
  sim_targets_add_date(tg, E[3], 0, NULL);
  sim_config c;
  cfg(&c);
  c.costs = SIM_COSTS_COMMISSION;
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK_NEAR(r->cash[day(r, E[1])], 799950, 1e-9);
    CHECK(!has_trade(r, E[3], B));
    CHECK_NEAR(trade(r, E[3], A)->cost, 125, 1e-9);
    CHECK_NEAR(r->cash[day(r, E[3])], 899825, 1e-9);
    CHECK_NEAR(trade(r, E[4], B)->cost, 75, 1e-9);
    CHECK_NEAR(r->cash[day(r, E[4])], 999750, 1e-9);
    CHECK_NEAR(r->nav[day(r, E[5])], 0.99975, 1e-12);
    CHECK_NEAR(sim_stamp_rate(&c, 20230825), 0.001, 0);
    CHECK_NEAR(sim_stamp_rate(&c, 20230828), 0.0005, 0);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 10. Ex-rights days: no jump in NAV. A bought 10,000 at 10 on D1 (cost 100): value 999,900, nav_e 0.9999.
 *   D2: 10-for-10 bonus: close 5, adj 1 -> 2: shares x 2 = 20,000, value 20,000 x 5 + 899,900 = 999,900.
 *   D3: dividend 0.1 per share on a price of 5: close 4.9, adj 2 -> 2 x 5 / 4.9: shares
 *   20,000 x 5 / 4.9 = 20,408.163..., value = 20,000 x 5 / 4.9 x 4.9 + 899,900 = 999,900.
 * And a target decided before an ex-date is scaled like the shares: A 0.5 decided at the D0 close 10
 *   (T = 50,000); D1 is a 1-for-1 bonus day (adj 1 -> 2, everything at 5): T x 2 / 1 = 100,000 shares bought
 *   at 5 = 500,000 (cost 500), not 50,000: cash 499,500, value 999,500. */
static void test_ex_rights(void) {
  panel *p = tp_create(4, D, 2);
  tp_flat_from(p, 2, A, 5);
  tp_flat_from(p, 3, A, 4.9);
  tp_bar(p, 3, A, 4.9, 4.9, 4.9, 4.9, 4.9, 4.9); /* pre_close already ex-dividend */
  for (int t = 2; t < 4; t++) p->f[PF_ADJ][panel_at(p, t, A)] = t == 2 ? 2.0 : 2.0 * 5.0 / 4.9;
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.1, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK_NEAR(r->value[day(r, D[1])], 999900, 1e-9);
    CHECK_NEAR(shares_at(r, D[3], A), 20000 * 5 / 4.9, 1e-9);
    CHECK_NEAR(r->value[day(r, D[2])], 999900, 1e-8);
    CHECK_NEAR(r->value[day(r, D[3])], 999900, 1e-8);
    CHECK_NEAR(r->nav[day(r, D[3])], 0.9999, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);

  p = tp_create(3, D, 2);
  tp_flat_from(p, 1, A, 5);
  for (int t = 1; t < 3; t++) p->f[PF_ADJ][panel_at(p, t, A)] = 2.0;
  tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.5, NULL);
  r = run(p, tg, &c);
  if (r) {
    CHECK_NEAR(trade(r, D[1], A)->shares, 100000, 0);
    CHECK_NEAR(r->cash[0], 499500, 1e-9);
    CHECK_NEAR(r->value[0], 999500, 1e-9);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 11. Delisting with a position: liquidated at the last close, no costs, NAV continuous.
 *   B bought 30,000 at 10 on D1 (cost 300): cash 699,700, nav_e = 0.9997, value_e = 999,700. D2 close 8 ->
 *   value 939,700. From D3 B is no longer listed -> sold 30,000 at 8 (status delisted): cash 939,700 =
 *   value -> nav = 0.9997 x 939,700 / 999,700 = 0.9397. */
static void test_delisting(void) {
  panel *p = tp_create(4, D, 2);
  tp_bar(p, 2, B, 10, 9, 9, 8, 8, 8.5);
  tp_delist_from(p, 3, B);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], B, 0.3, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK_NEAR(r->value[day(r, D[2])], 939700, 1e-9);
    const sim_trade *t = trade(r, D[3], B);
    CHECK(t->status == SIM_DELISTED && t->side < 0 && t->shares == 30000 && t->price == 8 && t->cost == 0);
    CHECK_NEAR(r->cash[day(r, D[3])], 939700, 1e-9);
    CHECK_NEAR(r->nav[day(r, D[3])], 0.9397, 1e-12);
    CHECK_NEAR(shares_at(r, D[3], B), 0, 0);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 12. Empty target: everything is sold. A 0.4, B 0.35 (T 40,000 and 35,000) bought D1: costs 400 + 350,
 *   cash 249,250; nav_e = 0.99925, value_e = 999,250. D2 target {} -> D3 VWAP A 11, B 9: sells 440,000
 *   (cost 880) and 315,000 (630): cash = 249,250 + 439,120 + 314,370 = 1,002,740 -> nav 1.00274.
 *   V = 249,250 + 755,000 = 1,004,250; turnover = 1/2 (755,000 + |755,000 - 0 - 1,510|) / V
 *   = 754,245 / 1,004,250; cash_weight = 1,002,740 / (1,004,250 - 1,510) = 1. */
static void test_empty_target(void) {
  panel *p = tp_create(4, D, 2);
  tp_bar(p, 3, A, 10, 11, 11, 10.5, 10.8, 11);
  tp_bar(p, 3, B, 10, 9, 9.5, 9, 9.2, 9);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.4, NULL);
  sim_targets_add(tg, D[0], B, 0.35, NULL);
  sim_targets_add_date(tg, D[2], 0, NULL);
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK_NEAR(r->cash[day(r, D[1])], 249250, 1e-9);
    CHECK_NEAR(trade(r, D[3], A)->shares, 40000, 0);
    CHECK_NEAR(trade(r, D[3], B)->shares, 35000, 0);
    CHECK_NEAR(r->cash[day(r, D[3])], 1002740, 1e-9);
    CHECK_NEAR(r->nav[day(r, D[3])], 1.00274, 1e-12);
    CHECK_NEAR(r->turnover[day(r, D[3])], 754245.0 / 1004250.0, 1e-12);
    CHECK_NEAR(reb(r, 1)->cash_weight, 1.0, 1e-12);
    CHECK_NEAR(reb(r, 1)->sold, 755000, 1e-9);
    CHECK_NEAR(shares_at(r, D[3], A) + shares_at(r, D[3], B), 0, 0);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 13. Ideal mode reproduces a total-return index exactly: index close I_t = I_{t-1} (1 + sum_i
 * w_{i,t-1} r_{i,t}) with adjusted returns r and daily weights w (a float-cap-like pattern); holding w at
 * the close of each day (sized and traded at that close), with fractional shares and no costs, gives
 * nav_t = I_t / I_0 from the first day (e = D0, nav_e = 1). */
static void test_ideal_tracking(void) {
  panel *p = tp_create(ND, D, 3);
  double px[3] = {10, 20, 5}, adj[3] = {1, 1, 1};
  for (int t = 1; t < ND; t++)
    for (int i = 0; i < 3; i++) {
      double pre = px[i];
      px[i] = round(px[i] * (1.0 + 0.013 * ((t * (i + 2)) % 7 - 3)) * 100.0) / 100.0;
      if (t == 4 && i == 1) adj[i] *= 1.5, px[i] /= 1.5; /* a bonus issue */
      tp_bar(p, t, i, pre, px[i], px[i], px[i], px[i], px[i]);
      for (int s = t; s < ND; s++) p->f[PF_ADJ][panel_at(p, s, i)] = adj[i];
    }
  double w[ND][3], ic[ND];
  ic[0] = 1000;
  sim_targets *tg = sim_targets_create();
  for (int t = 0; t < ND; t++) {
    double mv[3], tot = 0;
    for (int i = 0; i < 3; i++) tot += mv[i] = p->f[PF_CLOSE][panel_at(p, t, i)] * (1 + i + t % 3);
    for (int i = 0; i < 3; i++) w[t][i] = mv[i] / tot, sim_targets_add(tg, D[t], i, w[t][i], NULL);
    if (t) {
      double R = 0;
      for (int i = 0; i < 3; i++) {
        size_t k1 = panel_at(p, t, i), k0 = panel_at(p, t - 1, i);
        R += w[t - 1][i] * (p->f[PF_CLOSE][k1] * p->f[PF_ADJ][k1] / (p->f[PF_CLOSE][k0] * p->f[PF_ADJ][k0]) - 1);
      }
      ic[t] = ic[t - 1] * (1 + R);
    }
  }
  tp_index(p, PANEL_CSI300, ic);
  sim_config c;
  sim_config_ideal(&c);
  c.capital = 1e6;
  c.benchmark = PANEL_CSI300;
  CHECK(c.allow_same_close == 1 && c.exec_lag == 0 && c.exec_price == SIM_PRICE_CLOSE);
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK(r->n_days == ND && r->dates[0] == D[0]);
    for (int t = 0; t < ND; t++) {
      CHECK_NEAR(r->nav[t], ic[t] / ic[0], 1e-12);
      CHECK_NEAR(r->hedged[t], 1.0, 1e-12);
    }
    CHECK_NEAR(r->entry_slippage, 0, 1e-12);
    CHECK_NEAR(r->entry_costs, 0, 0);
  }
  sim_result_free(r);
  /* a hedge cost of 2.52 % a year: the exactly tracking book loses 0.01 % a day to the hedge from day 1
   * on, so hedged(t) = 0.9999^t while the NAV and benchmark do not move */
  c.hedge_cost = 0.0252;
  r = run(p, tg, &c);
  if (r)
    for (int t = 0; t < ND; t++) {
      CHECK_NEAR(r->hedged[t], pow(0.9999, t), 1e-12);
      CHECK_NEAR(r->nav[t], ic[t] / ic[0], 1e-12);
    }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 14. Investing cash with lots: what the floors leave goes one lot at a time to the largest shortfall.
 * Four stocks, flat prices A 50, B 80, C 30, D 20 (stock 3); weights chosen for T = 4,960, 3,120, 8,290,
 * 12,440 shares (w = T x P / 1e6 = 0.248, 0.2496, 0.2487, 0.2488).
 *   floors: A 4,900 (shortfall 60 x 50 = 3,000), B 3,100 (20 x 80 = 1,600), C 8,200 (90 x 30 = 2,700),
 *   D 12,400 (40 x 20 = 800): 987,000 + cost 987 = 987,987; left 12,013.
 *   A (3,000): +100 = 5,000 + 5 = 5,005 <= 12,013 -> 5,000 shares, left 7,008 (A now over its target);
 *   C (2,700): 3,003 <= 7,008 -> 8,300, left 4,005;
 *   B (1,600): 8,008 > 4,005 -> dropped for good;
 *   D (800): 2,002 <= 4,005 -> 12,500, left 2,003. Nothing left with a positive shortfall.
 *   Final A 5,000, B 3,100, C 8,300, D 12,500: 997,000 + cost 997 -> cash 2,003.
 *   turnover = 1/2 (997,000 + 997,997) / 1e6 = 0.9974985; cash_weight = 2,003 / 999,003;
 *   l1_target = |250,000 / 999,003 - 0.248| + |248,000 / 999,003 - 0.2496| + |249,000 / 999,003 - 0.2487|
 *   + |250,000 / 999,003 - 0.2488|. Each buy is "filled" with ordered = the shares bought. */
static void test_cash_investment(void) {
  panel *p = tp_create(2, D, 4);
  const double px[4] = {50, 80, 30, 20}, w[4] = {0.248, 0.2496, 0.2487, 0.2488};
  sim_targets *tg = sim_targets_create();
  for (int i = 0; i < 4; i++) {
    tp_flat_from(p, 0, i, px[i]);
    sim_targets_add(tg, D[0], i, w[i], NULL);
  }
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const double want[4] = {5000, 3100, 8300, 12500};
    for (int i = 0; i < 4; i++) {
      const sim_trade *t = trade(r, D[1], i);
      CHECK_NEAR(t->shares, want[i], 0);
      CHECK(t->status == SIM_FILLED && t->ordered == want[i]);
    }
    CHECK_NEAR(r->cash[0], 2003, 1e-8);
    CHECK_NEAR(r->costs[0], 997, 1e-9);
    CHECK_NEAR(r->turnover[0], 0.9974985, 1e-12);
    CHECK_NEAR(reb(r, 0)->cash_weight, 2003.0 / 999003.0, 1e-12);
    double l1 = fabs(250000 / 999003.0 - 0.248) + fabs(248000 / 999003.0 - 0.2496) + fabs(249000 / 999003.0 - 0.2487) +
                fabs(250000 / 999003.0 - 0.2488);
    CHECK_NEAR(reb(r, 0)->l1_target, l1, 1e-12);
    CHECK(reb(r, 0)->n_unfilled == 0);
    CHECK_NEAR(r->nav[0], 1.0 - 997.0 / 1e6, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 15. Cash binds: buys are cut one lot at a time from the largest overshoot, not all scaled.
 * Decision closes A 10, B 20, C 40; T = 30,000 (w 0.3), 15,030 (w 0.3006), 9,980 (w 0.3992).
 * D1 VWAPs (= closes) A 10.2, B 20.2, C 40. Floors: A 30,000, B 15,000, C 9,900: 306,000 + 303,000 +
 *   396,000 = 1,005,000 + cost 1,005 = 1,006,005 > 1e6.
 *   overshoots (H + q - T) px: A 0, B -30 x 20.2 = -606, C -80 x 40 = -3,200.
 *   cut A (0)        -> 29,900, ov -1,020; need 1,006,005 - 1,021.02 = 1,004,983.98
 *   cut B (-606)     -> 14,900, ov -2,626; need - 2,022.02 = 1,002,961.96
 *   cut A (-1,020)   -> 29,800, ov -2,040; need 1,001,940.94
 *   cut A (-2,040)   -> 29,700, ov -3,060; need 1,000,919.92
 *   cut B (-2,626)   -> 14,800, ov -4,646; need 998,897.90 <= 1e6: stop (C, the furthest below its
 *   target, is never cut). Left 1,102.10. Add phase by shortfall: B 4,646: 2,022.02 > 1,102.10 -> dropped;
 *   C 3,200: 4,004 -> dropped; A 3,060: 1,021.02 <= 1,102.10 -> 29,800, left 81.08; A 2,040: dropped.
 *   Final A 29,800 (partial, ordered 30,000), B 14,800 (partial, 15,000), C 9,900 (filled):
 *   303,960 + 298,960 + 396,000 = 998,920, cost 998.92 -> cash 81.08; nav_e = 1 - 998.92 / 1e6;
 *   n_unfilled 2, unfilled_value = (200 x 10.2 + 200 x 20.2) / 1e6 = 0.00608. */
static void test_cash_cut(void) {
  panel *p = tp_create(2, D, 3);
  const double px0[3] = {10, 20, 40}, px1[3] = {10.2, 20.2, 40}, w[3] = {0.3, 0.3006, 0.3992};
  sim_targets *tg = sim_targets_create();
  for (int i = 0; i < 3; i++) {
    tp_flat_from(p, 0, i, px0[i]);
    tp_bar(p, 1, i, px0[i], px1[i], px1[i], px1[i], px1[i], px1[i]);
    sim_targets_add(tg, D[0], i, w[i], NULL);
  }
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const sim_trade *ta = trade(r, D[1], A), *tb = trade(r, D[1], B), *tc = trade(r, D[1], C);
    CHECK(ta->shares == 29800 && ta->ordered == 30000 && ta->status == SIM_PARTIAL && !strcmp(ta->reason, "cash"));
    CHECK(tb->shares == 14800 && tb->ordered == 15000 && tb->status == SIM_PARTIAL && !strcmp(tb->reason, "cash"));
    CHECK(tc->shares == 9900 && tc->ordered == 9900 && tc->status == SIM_FILLED);
    CHECK_NEAR(r->cash[0], 81.08, 1e-6);
    CHECK_NEAR(r->costs[0], 998.92, 1e-9);
    CHECK_NEAR(r->nav[0], 1.0 - 998.92 / 1e6, 1e-12);
    CHECK(reb(r, 0)->n_unfilled == 2);
    CHECK_NEAR(reb(r, 0)->unfilled_value, 0.00608, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 16. Lots by board. Stocks: A 600000.SH main (10), S 688001.SH STAR (50), S2 688002.SH STAR (50),
 * J 830001.BJ BSE (20), J2 830002.BJ BSE (20): main minimum 100 step 100; STAR minimum 200 step 1; BSE
 * minimum 100 step 1.
 * (a) Buys with cash to spare (weights w = T x P / 1e6 for the wanted T), each ends one step or the minimum
 *   above its target: A T 125.5 -> floor 100, +100 -> 200; S T 170.5 -> floor 0 (< 200), + the minimum ->
 *   200; S2 T 300.5 -> 300, +1 -> 301; J T 60.5 -> 0, +100 -> 100; J2 T 150.5 -> 150, +1 -> 151.
 *   Bought 2,000 + 10,000 + 15,050 + 2,000 + 3,020 = 32,070, cost 32.07 -> cash 967,897.93.
 *   Sells decided at the D2 close (V = 1e6 - 32.07; w = T x P / V): A T 49.5: floor_lot(150.5) = 100 ->
 *   100 left; S T 10.5: 189.5 < 200 -> no order; S2 T 80.5: 220.5 -> 220 -> 81 left; J not in the batch ->
 *   all 100 sold; J2 T 40.5: 110.5 -> 110 -> 41 left. Sold 1,000 + 11,000 + 2,000 + 2,200 = 16,200, cost
 *   32.4 -> cash 967,897.93 + 16,167.6 = 984,065.53.
 * (b) A STAR buy cut below its minimum goes to 0. Capital 40,000; S 0.5 at 100 -> T = 200; J 0.5 at 10 ->
 *   T = 2,000; D1 VWAP S 100, J 10.05: 20,000 + 20,100 + cost 40.1 = 40,140.1 > 40,000. Overshoots both 0 ->
 *   S (lower index): 200 - 1 < 200 -> 0 (need 20,120.1). Add: S needs its minimum 200: 20,020 > 19,879.9 ->
 *   dropped. S unfilled "cash" (ordered 200), J 2,000 filled; cash = 40,000 - 20,100 - 20.1 = 19,879.9.
 * (c) Cuts one share at a time. Capital 100,000; S 0.5 at 100 -> T = 500, J 0.5 at 10 -> T = 5,000; D1 VWAP
 *   S 101, J 10: 50,500 + 50,000 + cost 100.5 = 100,600.5 (600.5 too much). Overshoots S -101 k, J -10 m
 *   (k, m shares cut); ties to S. S1 (ov 0 tie), J1..J10 (J -100 > S -101), J11, S2 (-202), J12..J21,
 *   S3 (-303), J22..J30: saved 3 x 101.101 + 30 x 10.01 = 603.603 >= 600.5 (after J29 only 593.593).
 *   S 497, J 4,970; left 3.103: S +1 (101.101) and J +1 (10.01) do not fit. cash = 1e5 - 99,897 x 1.001
 *   = 3.103; n_unfilled 2; unfilled_value = (3 x 101 + 30 x 10) / 1e5 = 0.00603. */
static void set_boards(panel *p) {
  tp_code(p, 1, "688001.SH", BOARD_STAR);
  tp_code(p, 2, "688002.SH", BOARD_STAR);
  tp_code(p, 3, "830001.BJ", BOARD_BSE);
  tp_code(p, 4, "830002.BJ", BOARD_BSE);
}

static void test_boards(void) {
  enum { S = 1, S2 = 2, J = 3, J2 = 4 };
  panel *p = tp_create(4, D, 5);
  set_boards(p);
  const double px[5] = {10, 50, 50, 20, 20}, t1[5] = {125.5, 170.5, 300.5, 60.5, 150.5};
  const double t2[5] = {49.5, 10.5, 80.5, 0, 40.5};
  const double V2 = 1e6 - 32.07;
  sim_targets *tg = sim_targets_create();
  for (int i = 0; i < 5; i++) {
    tp_flat_from(p, 0, i, px[i]);
    sim_targets_add(tg, D[0], i, t1[i] * px[i] / 1e6, NULL);
    if (t2[i] > 0) sim_targets_add(tg, D[2], i, t2[i] * px[i] / V2, NULL);
  }
  sim_config c;
  cfg(&c);
  sim_result *r = run(p, tg, &c);
  if (r) {
    const double b1[5] = {200, 200, 301, 100, 151}, h3[5] = {100, 200, 81, 0, 41};
    for (int i = 0; i < 5; i++) {
      CHECK_NEAR(trade(r, D[1], i)->shares, b1[i], 0);
      CHECK_NEAR(shares_at(r, D[1], i), b1[i], 0);
      CHECK_NEAR(shares_at(r, D[3], i), h3[i], 0);
    }
    CHECK(!has_trade(r, D[3], S));
    CHECK(trade(r, D[3], J)->side < 0 && trade(r, D[3], J)->shares == 100);
    CHECK_NEAR(r->cash[day(r, D[1])], 967897.93, 1e-8);
    CHECK_NEAR(r->cash[day(r, D[3])], 984065.53, 1e-8);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);

  /* (b) */
  p = tp_create(2, D, 5);
  set_boards(p);
  tp_flat_from(p, 0, S, 100);
  tp_bar(p, 1, J, 10, 10.05, 10.05, 10.05, 10.05, 10.05);
  tg = sim_targets_create();
  sim_targets_add(tg, D[0], S, 0.5, NULL);
  sim_targets_add(tg, D[0], J, 0.5, NULL);
  c.capital = 40000;
  r = run(p, tg, &c);
  if (r) {
    const sim_trade *ts = trade(r, D[1], S);
    CHECK(ts->status == SIM_UNFILLED && !strcmp(ts->reason, "cash") && ts->ordered == 200 && ts->shares == 0);
    CHECK_NEAR(trade(r, D[1], J)->shares, 2000, 0);
    CHECK_NEAR(r->cash[0], 19879.9, 1e-8);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);

  /* (c) */
  p = tp_create(2, D, 5);
  set_boards(p);
  tp_flat_from(p, 0, S, 100);
  tp_bar(p, 1, S, 100, 101, 101, 101, 101, 101);
  tg = sim_targets_create();
  sim_targets_add(tg, D[0], S, 0.5, NULL);
  sim_targets_add(tg, D[0], J, 0.5, NULL);
  c.capital = 1e5;
  r = run(p, tg, &c);
  if (r) {
    CHECK(trade(r, D[1], S)->shares == 497 && trade(r, D[1], S)->ordered == 500);
    CHECK(trade(r, D[1], J)->shares == 4970 && trade(r, D[1], J)->ordered == 5000);
    CHECK_NEAR(r->cash[0], 3.103, 1e-8);
    CHECK(reb(r, 0)->n_unfilled == 2);
    CHECK_NEAR(reb(r, 0)->unfilled_value, 0.00603, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 17. Hedged NAV of a book that holds the index. A is the index's only member, index close = 100 x A's
 * close. Target A 1.0 decided at the D0 close 10 (T = 100,000); the index jumps 9 % overnight: D1 VWAP
 * 10.9, close 10.95. Buying 100,000 at 10.9 would need 1,091,090: cut 84 lots of 1,091.09 -> 91,600
 * shares, 998,440 + cost 998.44; a 85th lot (1,091.09) does not fit the 561.56 left.
 *   value_e = 561.56 + 91,600 x 10.95 = 1,003,581.56; nav_e = hedged_e = 1 - 998.44 / 1e6 (within the costs
 *   of 1, not 9 % below it); benchmark_e = 1 (not 1.095); entry slippage = 1,003,581.56 / 999,001.56 - 1
 *   = 4,580 / 999,001.56 (the fills-to-close move, in neither NAV).
 * D2 close 11.5, D3 11.2, D4 11.2: h_t / h_{t-1} - 1 = r_p - r_b every day, and |h_t - 1| stays within the
 * costs (0.1 %) plus the 0.06 % cash's share of the index moves. */
static void test_hedged_index(void) {
  panel *p = tp_create(5, D, 1);
  tp_bar(p, 1, A, 10, 10.9, 10.99, 10.85, 10.95, 10.9);
  tp_bar(p, 2, A, 10.95, 11.2, 11.6, 11.1, 11.5, 11.4);
  tp_bar(p, 3, A, 11.5, 11.3, 11.4, 11.1, 11.2, 11.25);
  tp_flat_from(p, 4, A, 11.2);
  double ic[5];
  for (int t = 0; t < 5; t++) ic[t] = 100 * p->f[PF_CLOSE][panel_at(p, t, A)];
  tp_index(p, PANEL_CSI500, ic);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 1.0, NULL);
  sim_config c;
  cfg(&c);
  c.benchmark = PANEL_CSI500;
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK(r->n_days == 4 && r->dates[0] == D[1]);
    CHECK_NEAR(trade(r, D[1], A)->shares, 91600, 0);
    CHECK_NEAR(r->cash[0], 561.56, 1e-6);
    CHECK_NEAR(r->value[0], 1003581.56, 1e-6);
    CHECK_NEAR(r->nav[0], 1.0 - 998.44 / 1e6, 1e-12);
    CHECK_NEAR(r->hedged[0], 1.0 - 998.44 / 1e6, 1e-12);
    CHECK_NEAR(r->benchmark[0], 1.0, 1e-15);
    CHECK_NEAR(r->entry_slippage, 4580.0 / 999001.56, 1e-12);
    CHECK_NEAR(r->entry_costs, 998.44, 1e-9);
    for (int d = 0; d < r->n_days; d++) {
      CHECK(fabs(r->hedged[d] - 1.0) <= 1.2e-3);
      CHECK_NEAR(r->benchmark[d], ic[d + 1] / ic[1], 1e-12);
      if (d) {
        double rp = r->value[d] / r->value[d - 1] - 1.0, rb = ic[d + 1] / ic[d] - 1.0;
        CHECK_NEAR(r->hedged[d] / r->hedged[d - 1] - 1.0, rp - rb, 1e-12);
        CHECK_NEAR(r->nav[d], r->nav[0] * r->value[d] / r->value[0], 1e-12);
      }
    }
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 18. The benchmark must be complete from e on: a missing close on a simulated day (D2) is ZZ_EDATA naming
 * the index and the date, with no result; a missing close before e (D0) is fine; an index absent from the
 * market (no closes at all) fails the same way. Target A 0.5 on D0 -> e = D1. */
static void test_benchmark_missing(void) {
  panel *p = tp_create(4, D, 2);
  double ic[] = {1000, 1010, NAN, 1020};
  tp_index(p, PANEL_CSI500, ic);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.5, NULL);
  sim_config c;
  cfg(&c);
  c.benchmark = PANEL_CSI500;
  zz_err err = {0};
  sim_result *r = (sim_result *)&c; /* must be reset to NULL */
  int rc = sim_run(p, tg, &c, &r, &err);
  CHECK(rc == ZZ_EDATA && r == NULL);
  if (!strstr(err.msg, "000905") || !strstr(err.msg, "2023-01-05")) {
    fprintf(stderr, "missing benchmark close: message '%s' names neither 000905 nor 2023-01-05\n", err.msg);
    tp_failures++;
  }
  p->index[PANEL_CSI500].close[2] = 1015;
  p->index[PANEL_CSI500].close[0] = NAN; /* before e: not needed */
  r = run(p, tg, &c);
  if (r) CHECK_NEAR(r->benchmark[r->n_days - 1], 1020.0 / 1010.0, 1e-12);
  sim_result_free(r);
  c.benchmark = PANEL_CSI300; /* not in this market */
  r = (sim_result *)&c;
  memset(&err, 0, sizeof err);
  rc = sim_run(p, tg, &c, &r, &err);
  CHECK(rc == ZZ_EDATA && r == NULL);
  if (!strstr(err.msg, "000300")) {
    fprintf(stderr, "absent benchmark: message '%s' does not name 000300\n", err.msg);
    tp_failures++;
  }
  sim_targets_free(tg);
  tp_free(p);
}

/* 19. exec_lag 0 fills at a price from before the close that produced the score: refused (ZZ_EUSAGE naming
 * sim.exec_lag) unless the price is the close and allow_same_close is set; a batch whose exec_date is its own
 * date the same. Allowed: A 0.5 decided and traded at the D0 close 10: 50,000 shares (cost 500),
 * cash 499,500, e = D0, nav_e = 0.9995. */
static void test_same_close(void) {
  panel *p = tp_create(3, D, 2);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.5, NULL);
  sim_config c;
  cfg(&c);
  zz_err err = {0};
  CHECK(sim_config_check(&c, &err) == ZZ_OK);
  c.exec_lag = 0;
  CHECK(sim_config_check(&c, &err) == ZZ_EUSAGE && (strstr(err.msg, "sim.exec_lag") || strstr(err.msg, "--lag")));
  sim_result *r = (sim_result *)&c;
  CHECK(sim_run(p, tg, &c, &r, &err) == ZZ_EUSAGE && r == NULL);
  c.exec_price = SIM_PRICE_CLOSE; /* the close alone is not enough */
  CHECK(sim_config_check(&c, &err) == ZZ_EUSAGE);
  c.allow_same_close = 1;
  CHECK(sim_config_check(&c, &err) == ZZ_OK);
  r = run(p, tg, &c);
  if (r) {
    CHECK(r->dates[0] == D[0] && r->n_days == 3);
    CHECK_NEAR(trade(r, D[0], A)->shares, 50000, 0);
    CHECK_NEAR(r->cash[0], 499500, 1e-9);
    CHECK_NEAR(r->nav[0], 0.9995, 1e-12);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  /* an exec_date equal to the target date */
  tg = sim_targets_create();
  sim_targets_add_date(tg, D[1], D[1], NULL);
  sim_targets_add(tg, D[1], A, 0.5, NULL);
  cfg(&c);
  r = (sim_result *)&c;
  memset(&err, 0, sizeof err);
  CHECK(sim_run(p, tg, &c, &r, &err) == ZZ_EUSAGE && r == NULL);
  c.exec_price = SIM_PRICE_CLOSE;
  c.allow_same_close = 1;
  r = run(p, tg, &c);
  if (r) CHECK(r->dates[0] == D[1] && trade(r, D[1], A)->shares == 50000);
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 20. The stepping API (the closed loop): run to a date, read the book, submit, finish = sim_run.
 * Batches D0 {A 0.5, B 0.3}, D2 {A 0.2, B 0.6}, D4 {}; prices: D0 A 10, B 20; D1 VWAP A 10, B 20, close
 * A 10.5, B 19; D2 close A 11, B 19; later moves.
 *   At the D0 close: all cash: w = 0, cash_weight 1, value 1e6.
 *   D1: 50,000 A and 15,000 B bought (cost 800): cash 199,200. At the D2 close: value = 199,200 + 50,000 x 11
 *   + 15,000 x 19 = 1,034,200; w_A = 550,000 / 1,034,200, w_B = 285,000 / 1,034,200, cash 199,200 / 1,034,200.
 *   Positions are recorded at the decision close D2 (the book the optimiser saw). */
static void test_stepping(void) {
  panel *p = tp_create(7, D, 3);
  tp_bar(p, 0, B, 20, 20, 20, 20, 20, 20);
  tp_bar(p, 1, A, 10, 10, 10.6, 9.9, 10.5, 10);
  tp_bar(p, 1, B, 20, 20, 20, 19, 19, 20);
  tp_bar(p, 2, A, 10.5, 10.8, 11, 10.7, 11, 10.9);
  tp_bar(p, 2, B, 19, 19, 19.2, 18.9, 19, 19.1);
  tp_bar(p, 3, A, 11, 11.1, 11.3, 10.9, 11.2, 11.05);
  tp_bar(p, 3, B, 19, 19.2, 19.5, 19, 19.4, 19.3);
  tp_flat_from(p, 4, A, 11.3);
  tp_flat_from(p, 4, B, 19.6);
  tp_bar(p, 5, A, 11.3, 11.2, 11.4, 11.0, 11.1, 11.25);
  tp_flat_from(p, 6, A, 11.1);
  const int st[2] = {A, B};
  const double w0[2] = {0.5, 0.3}, w2[2] = {0.2, 0.6};
  sim_targets *tg = sim_targets_create();
  for (int k = 0; k < 2; k++) sim_targets_add(tg, D[0], st[k], w0[k], NULL);
  for (int k = 0; k < 2; k++) sim_targets_add(tg, D[2], st[k], w2[k], NULL);
  sim_targets_add_date(tg, D[4], 0, NULL);
  sim_config c;
  cfg(&c);
  sim_result *ref = run(p, tg, &c);

  zz_err err = {0};
  sim_book *bk = NULL;
  sim_result *r = NULL;
  double w[3], cw = -1, value = -1;
  int rc = sim_book_create(p, &c, D[0], &bk, &err);
  CHECK(rc == ZZ_OK && bk);
  if (!rc) rc = sim_book_run_to(bk, D[0], &err);
  if (!rc) {
    CHECK(sim_book_date(bk) == D[0]);
    sim_book_weights(bk, w, &cw, &value);
    CHECK(w[A] == 0 && w[B] == 0 && w[C] == 0);
    CHECK_NEAR(cw, 1.0, 0);
    CHECK_NEAR(value, 1e6, 0);
    rc = sim_book_submit(bk, st, w0, 2, 0, &err);
  }
  if (!rc) rc = sim_book_run_to(bk, D[2], &err);
  if (!rc) {
    CHECK(sim_book_date(bk) == D[2]);
    sim_book_weights(bk, w, &cw, &value);
    CHECK_NEAR(value, 1034200, 1e-9);
    CHECK_NEAR(w[A], 50000 * 11 / 1034200.0, 1e-12);
    CHECK_NEAR(w[B], 15000 * 19 / 1034200.0, 1e-12);
    CHECK_NEAR(w[C], 0, 0);
    CHECK_NEAR(cw, 199200 / 1034200.0, 1e-12);
    CHECK(sim_book_run_to(bk, D[1], &err) != ZZ_OK); /* not backwards */
    rc = sim_book_submit(bk, st, w2, 2, 0, &err);
  }
  if (!rc) rc = sim_book_run_to(bk, D[4], &err);
  if (!rc) rc = sim_book_submit(bk, NULL, NULL, 0, 0, &err);
  if (!rc) rc = sim_book_finish(bk, &r, &err);
  if (rc) {
    fprintf(stderr, "stepping failed: %s\n", err.msg);
    tp_failures++;
  }
  sim_book_free(bk);
  if (r && ref) {
    CHECK(r->n_days == ref->n_days && r->first_t == ref->first_t);
    for (int d = 0; d < r->n_days && d < ref->n_days; d++) {
      CHECK(r->dates[d] == ref->dates[d]);
      CHECK_NEAR(r->nav[d], ref->nav[d], 1e-15);
      CHECK_NEAR(r->hedged[d], ref->hedged[d], 1e-15);
      CHECK_NEAR(r->cash[d], ref->cash[d], 1e-9);
      CHECK_NEAR(r->value[d], ref->value[d], 1e-9);
      CHECK_NEAR(r->turnover[d], ref->turnover[d], 1e-15);
      CHECK_NEAR(r->costs[d], ref->costs[d], 1e-9);
    }
    CHECK(r->n_trades == ref->n_trades && r->n_positions == ref->n_positions);
    CHECK(r->n_rebalances == 3 && ref->n_rebalances == 3);
    for (int k = 0; k < r->n_rebalances && k < ref->n_rebalances; k++) {
      CHECK(r->rebalances[k].decision_date == ref->rebalances[k].decision_date);
      CHECK(r->rebalances[k].trade_date == ref->rebalances[k].trade_date);
      CHECK_NEAR(r->rebalances[k].turnover, ref->rebalances[k].turnover, 1e-15);
      CHECK_NEAR(r->rebalances[k].l1_target, ref->rebalances[k].l1_target, 1e-15);
    }
    CHECK_NEAR(r->entry_slippage, ref->entry_slippage, 1e-15);
    CHECK_NEAR(r->mean_invested, ref->mean_invested, 1e-15);
    CHECK_NEAR(shares_at(ref, D[2], A), 50000, 0); /* the decision close D2 */
    CHECK_NEAR(shares_at(ref, D[2], B), 15000, 0);
  } else {
    fprintf(stderr, "stepping: no result to compare\n");
    tp_failures++;
  }
  sim_result_free(r);
  sim_result_free(ref);
  /* a book never given a target (a backtest whose every week was held) finishes all cash from its first date:
   * NAV 1 and all cash every day, no trade, entry slippage undefined */
  bk = NULL;
  r = NULL;
  rc = sim_book_create(p, &c, D[0], &bk, &err);
  if (!rc) rc = sim_book_run_to(bk, D[3], &err);
  if (!rc) rc = sim_book_finish(bk, &r, &err);
  CHECK(rc == ZZ_OK && r);
  if (!rc && r) {
    CHECK(r->n_days == p->n_dates && r->dates[0] == D[0]);
    for (int d = 0; d < r->n_days; d++) CHECK(r->nav[d] == 1.0 && r->cash[d] == r->value[d] && r->turnover[d] == 0);
    CHECK(r->n_trades == 0 && r->total_costs == 0 && isnan(r->entry_slippage));
  }
  sim_book_free(bk);
  sim_result_free(r);
  /* one whose targets were submitted but none traded (the trade day past the end: dropped) cannot finish */
  bk = NULL;
  r = NULL;
  rc = sim_book_create(p, &c, D[0], &bk, &err);
  if (!rc) rc = sim_book_run_to(bk, p->dates[p->n_dates - 1], &err);
  if (!rc) rc = sim_book_submit(bk, st, w0, 2, 0, &err);
  CHECK(rc == ZZ_OK);
  if (!rc) CHECK(sim_book_finish(bk, &r, &err) != ZZ_OK && r == NULL && strstr(err.msg, "no target traded"));
  sim_book_free(bk);
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 21. The five files written and read back (the stage cache): nav.csv's series, the rebalances and the
 * summary come back to the last bit (shortest round-trip formatting); a failed write leaves no file. */
static void test_write_read(void) {
  panel *p = tp_create(4, D, 3);
  tp_bar(p, 1, A, 10, 10.2, 10.4, 10.1, 10.3, 10.25);
  tp_flat_from(p, 2, A, 10.4);
  double ic[] = {1000, 1003, 1007.5, 1001};
  tp_index(p, PANEL_CSI500, ic);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.37, NULL);
  sim_targets_add(tg, D[0], B, 0.21, NULL);
  sim_targets_add(tg, D[1], A, 0.12, NULL);
  sim_config c;
  cfg(&c);
  c.benchmark = PANEL_CSI500;
  sim_result *r = run(p, tg, &c), *back = NULL;
  char dir[64];
  snprintf(dir, sizeof dir, "/tmp/zz_sim_scen_XXXXXX");
  zz_err err = {0};
  if (r && mkdtemp(dir)) {
    char sub[128];
    snprintf(sub, sizeof sub, "%s/out", dir);
    CHECK(sim_result_write(r, sub, &err) == ZZ_OK);
    CHECK(sim_result_read(sub, &back, &err) == ZZ_OK && back);
    if (back) {
      CHECK(back->n_days == r->n_days && back->n_rebalances == r->n_rebalances);
      for (int d = 0; d < r->n_days && d < back->n_days; d++) {
        CHECK(back->dates[d] == r->dates[d]);
        CHECK(back->nav[d] == r->nav[d] && back->benchmark[d] == r->benchmark[d] && back->hedged[d] == r->hedged[d]);
        CHECK(back->cash[d] == r->cash[d] && back->value[d] == r->value[d] && back->turnover[d] == r->turnover[d]);
        CHECK(back->costs[d] == r->costs[d]);
      }
      for (int k = 0; k < r->n_rebalances && k < back->n_rebalances; k++) {
        const sim_rebalance *x = &r->rebalances[k], *y = &back->rebalances[k];
        CHECK(x->decision_date == y->decision_date && x->trade_date == y->trade_date && x->n_unfilled == y->n_unfilled);
        CHECK(x->value == y->value && x->turnover == y->turnover && x->bought == y->bought && x->sold == y->sold);
        CHECK(x->costs == y->costs && x->cash_weight == y->cash_weight && x->l1_target == y->l1_target);
        CHECK(x->unfilled_value == y->unfilled_value);
      }
      CHECK(back->entry_slippage == r->entry_slippage && back->entry_costs == r->entry_costs);
      CHECK(back->mean_invested == r->mean_invested && back->total_costs == r->total_costs);
    }
    sim_result_free(back);
    const char *names[] = {"nav.csv", "trades.csv", "positions.csv", "rebalances.csv", "summary.csv"};
    char path[192];
    for (int k = 0; k < 5; k++) {
      snprintf(path, sizeof path, "%s/%s", sub, names[k]);
      CHECK(remove(path) == 0);
    }
    rmdir(sub);
    /* a directory that cannot be created: an error, and nothing left behind */
    snprintf(sub, sizeof sub, "%s/missing/out", dir);
    CHECK(sim_result_write(r, sub, &err) != ZZ_OK);
    rmdir(dir);
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

/* 22. Positions at every decision close, also one whose batch trades after the end (it is dropped, but the
 * decision saw that book). --end D3; D0 {A 0.5} -> D1 buys 50,000; D2 {A 0.2} with exec_date D4 (after the
 * end). positions.csv: D1 (trade day), D2 (decision: 50,000 A), D3 (last day); nav.csv D1..D3. */
static void test_positions_dates(void) {
  panel *p = tp_create(5, D, 2);
  sim_targets *tg = sim_targets_create();
  sim_targets_add(tg, D[0], A, 0.5, NULL);
  sim_targets_add_date(tg, D[2], D[4], NULL);
  sim_targets_add(tg, D[2], A, 0.2, NULL);
  sim_config c;
  cfg(&c);
  c.end = D[3];
  sim_result *r = run(p, tg, &c);
  if (r) {
    CHECK(r->n_days == 3 && r->dates[r->n_days - 1] == D[3] && r->n_rebalances == 1);
    CHECK_NEAR(shares_at(r, D[1], A), 50000, 0);
    if (!has_positions(r, D[2])) {
      fprintf(stderr, "no positions at the decision close %d (its batch trades after the end)\n", (int)D[2]);
      tp_failures++;
    }
    CHECK_NEAR(shares_at(r, D[2], A), 50000, 0);
    CHECK_NEAR(shares_at(r, D[3], A), 50000, 0);
    CHECK(!has_positions(r, D[0]));
  }
  sim_result_free(r);
  sim_targets_free(tg);
  tp_free(p);
}

int main(void) {
  test_first_rebalance();
  test_limit_up();
  test_limit_down();
  test_suspension();
  test_t_plus_1();
  test_lots();
  test_cash_tie();
  test_min_commission();
  test_stamp_switch();
  test_ex_rights();
  test_delisting();
  test_empty_target();
  test_ideal_tracking();
  test_cash_investment();
  test_cash_cut();
  test_boards();
  test_hedged_index();
  test_benchmark_missing();
  test_same_close();
  test_stepping();
  test_write_read();
  test_positions_dates();
  if (tp_failures) fprintf(stderr, "%d check(s) failed\n", tp_failures);
  else printf("all simulator scenarios passed\n");
  return tp_failures ? 1 : 0;
}
