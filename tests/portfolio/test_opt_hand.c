/* test_opt_hand.c — optimizer cases with answers known by hand or in closed form:
 *   1. TE not binding: the LP optimum (greedy by score under the caps), computed by hand;
 *   2. turnover 0: the previous weights come back;
 *   3. TE binding, specific risk only: the closed form a = k (s - mu) / D of the Lagrangian;
 *   4. a constituent floor the book cannot reach (members cannot be bought): relaxed in 5 % steps to
 *      the reachable 60 %;
 *   5. a book far from the benchmark with a tight TE: turnover relaxed (x1.25 steps), TE met;
 *      relax = 0 fails instead;
 *   6. caps that cannot hold the budget: a clear error;
 *   7. tradability: an unbuyable stock is not increased, an unsellable one not decreased;
 *   8. a benchmark weight above weight_max: the cap is the benchmark weight (+ active_max), not 5 %;
 *   9. the unclassified group is bounded by unclassified_bound, real industries by industry_bound;
 *  10. a specific variance of 1e-31 is raised to spec_var_floor, noted, and the TE uses the floor. */
#include "opt_check.h"
#include "portfolio.h"

#include <math.h>
#include <stdio.h>
#include <string.h>


/* n stocks, no styles, one industry (so industry exposure is sum(a) = 0), no country. */
static opt_problem *single_industry(int n, const double *score, const double *bench, double spec) {
  opt_problem *p;
  zz_err err = {0};
  if (opt_problem_create(n, 0, 1, 0, &p, &err)) return NULL;
  snprintf(p->ind_names[0], OPT_NAME_LEN, "all");
  p->fcov[0] = 0.04;
  for (int i = 0; i < n; i++) {
    snprintf(p->codes[i], ZZ_CODE_LEN, "%06d.SH", 600000 + i);
    p->score[i] = score[i];
    p->bench[i] = bench[i];
    p->spec_var[i] = spec;
    p->ind[i] = 0;
  }
  return p;
}

static void test_lp_optimum(void) {
  double s[5] = {5, 4, 3, 2, 1}, b[5] = {0.25, 0.25, 0.25, 0.25, 0};
  opt_problem *p = single_industry(5, s, b, 0.09);
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = 1.0;
  lim.constituent_floor = 0;
  lim.weight_max = 0.5;
  opt_result *r = NULL;
  zz_err err = {0};
  int rc = opt_solve(p, &lim, &r, &err);
  CHECK(rc == ZZ_OK, "lp optimum: %s", err.msg);
  if (r) {
    double want[5] = {0.26, 0.26, 0.26, 0.22, 0.0};
    for (int i = 0; i < 5; i++) CHECK(fabs(r->weights[i] - want[i]) < 1e-9, "w[%d] = %.12g, want %g", i, r->weights[i], want[i]);
    CHECK(fabs(r->objective - 3.56) < 1e-9, "objective %.12g, want 3.56", r->objective);
    CHECK(r->n_relax == 0 && r->status == OPT_OPTIMAL, "no relaxation, optimal");
  }
  opt_result_free(r);
  opt_problem_free(p);
}

static void test_turnover_zero(void) {
  double s[5] = {5, 4, 3, 2, 1}, b[5] = {0.25, 0.25, 0.25, 0.25, 0}, w0[5] = {0.24, 0.26, 0.25, 0.24, 0.01};
  opt_problem *p = single_industry(5, s, b, 0.09);
  p->has_prev = 1;
  memcpy(p->prev, w0, sizeof w0);
  opt_limits lim;
  opt_limits_default(&lim);
  lim.turnover_max = 0;
  lim.constituent_floor = 0;
  lim.weight_max = 0.5;
  opt_result *r = NULL;
  zz_err err = {0};
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "turnover 0: %s", err.msg);
  if (r) {
    for (int i = 0; i < 5; i++) CHECK(fabs(r->weights[i] - w0[i]) < 1e-9, "w[%d] = %.12g, want %g", i, r->weights[i], w0[i]);
    CHECK(r->turnover < 1e-9 && r->n_relax == 0, "turnover %g, relaxations %d", r->turnover, r->n_relax);
  }
  opt_result_free(r);
  opt_problem_free(p);
}

static void test_te_closed_form(void) {
  enum { N = 10 };
  double s[N] = {1.2, -0.4, 0.3, 2.0, -1.5, 0.8, 0.0, -0.7, 1.1, -0.2}, b[N], D[N];
  for (int i = 0; i < N; i++) {
    b[i] = 0.1;
    D[i] = 0.04 + 0.005 * i;
  }
  opt_problem *p = single_industry(N, s, b, 0);
  for (int i = 0; i < N; i++) p->spec_var[i] = D[i];
  double T = 0.01;
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = T;
  lim.active_max = 0.5;
  lim.weight_max = 1.0;
  lim.constituent_floor = 0;
  lim.gap_tol = 1e-6;
  /* maximise s'a, sum a = 0, sum D a^2 <= T^2: a = k (s - mu) / D, mu = sum(s/D) / sum(1/D) */
  double sd = 0, id = 0, q = 0, base = 0;
  for (int i = 0; i < N; i++) {
    sd += s[i] / D[i];
    id += 1 / D[i];
    base += s[i] * b[i];
  }
  double mu = sd / id;
  for (int i = 0; i < N; i++) q += (s[i] - mu) * (s[i] - mu) / D[i];
  double k = T / sqrt(q), want = base + T * sqrt(q);
  opt_result *r = NULL;
  zz_err err = {0};
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "closed form: %s", err.msg);
  if (r) {
    /* feasible, so never above the optimum; below it by at most what the stopping rule allows (TE
     * within 1e-4 of the limit): 1e-4 of the active part T sqrt(q) */
    CHECK(r->objective <= want + 1e-12 && r->objective >= want - 1e-4 * T * sqrt(q),
          "objective %.12g, closed form %.12g", r->objective, want);
    CHECK(r->te <= T * (1 + 1e-9), "TE %.12g above %g", r->te, T);
    for (int i = 0; i < N; i++) {
      double a = k * (s[i] - mu) / D[i];
      CHECK(fabs(r->weights[i] - b[i] - a) < 2e-4, "a[%d] = %.8g, closed form %.8g", i, r->weights[i] - b[i], a);
    }
    CHECK(r->rounds > 1 && r->cuts_specific > 0, "the TE limit needs cuts (rounds %d)", r->rounds);
  }
  opt_result_free(r);
  opt_problem_free(p);
}

static void test_floor_relaxed(void) {
  enum { N = 6 };
  double s[N] = {0, 0, 1, 2, 3, 4}, b[N] = {0.5, 0.5, 0, 0, 0, 0};
  opt_problem *p = single_industry(N, s, b, 0.04);
  /* the members hold 0.3 each and cannot be bought (limit-up): the book can keep at most 60 % in them */
  p->has_prev = 1;
  const double w0[N] = {0.3, 0.3, 0.4, 0, 0, 0};
  memcpy(p->prev, w0, sizeof w0);
  p->can_buy[0] = p->can_buy[1] = 0;
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = 2.0;
  lim.weight_max = 0.3;
  lim.active_max = 1.0;
  lim.turnover_max = 1.0;
  lim.constituent_floor = 0.8;
  opt_result *r = NULL;
  zz_err err = {0};
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "floor: %s", err.msg);
  if (r) {
    CHECK(r->n_relax == 1 && !strcmp(r->relax[0].limit, "constituent_floor"), "one relaxation of the floor (got %d: %s)",
          r->n_relax, r->n_relax ? r->relax[0].limit : "");
    CHECK(r->n_relax == 1 && fabs(r->relax[0].to - 0.6) < 1e-9 && r->relax[0].steps == 4, "floor 0.8 -> 0.6 in 4 steps");
    CHECK(fabs(r->constituent_weight - 0.6) < 1e-9, "constituent weight %.12g", r->constituent_weight);
    /* then the LP optimum: members hold 0.6 at their caps, the best non-members take the rest */
    CHECK(fabs(r->weights[5] - 0.3) < 1e-9 && fabs(r->weights[4] - 0.1) < 1e-9, "best non-members %.9g %.9g",
          r->weights[5], r->weights[4]);
  }
  opt_result_free(r);
  opt_problem_free(p);
}

static void test_turnover_relaxed(void) {
  enum { N = 10 };
  double s[N], b[N], w0[N];
  for (int i = 0; i < N; i++) {
    s[i] = 0.1 * i;
    b[i] = 0.1;
    w0[i] = i < 5 ? 0.2 : 0.0;
  }
  opt_problem *p = single_industry(N, s, b, 0.04);
  p->has_prev = 1;
  memcpy(p->prev, w0, sizeof w0);
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = 0.02; /* TE(prev) = sqrt(0.04 * 10 * 0.01) = 6.3 %: needs turnover >= 34.2 % */
  lim.turnover_max = 0.05;
  lim.active_max = 0.15;
  lim.weight_max = 0.3;
  lim.constituent_floor = 0;
  opt_result *r = NULL;
  zz_err err = {0};
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "turnover relax: %s", err.msg);
  if (r) {
    CHECK(r->n_relax == 1 && !strcmp(r->relax[0].limit, "turnover_max"), "turnover relaxed first");
    /* the cheapest way to TE 2 % is to shrink the active book: turnover 0.5 (1 - sqrt(0.1)) */
    double need = 0.5 * (1 - sqrt(0.1)), t = 0.05;
    int steps = 0;
    while (t < need) {
      t = fmax(t * 1.25, t + 0.01);
      steps++;
    }
    CHECK(r->n_relax == 1 && fabs(r->relax[0].to - t) < 1e-12 && r->relax[0].steps == steps,
          "turnover 0.05 -> %.6g in %d steps (got %.6g in %d)", t, steps, r->n_relax ? r->relax[0].to : 0,
          r->n_relax ? r->relax[0].steps : 0);
    CHECK(r->te <= 0.02 * (1 + 1e-9) && r->turnover <= t + 1e-9, "TE %.9g, turnover %.9g", r->te, r->turnover);
  }
  opt_result_free(r);
  lim.relax = 0;
  r = NULL;
  int rc = opt_solve(p, &lim, &r, &err);
  CHECK(rc == ZZ_ENUMERIC && r == NULL && strstr(err.msg, "relax"), "relax = 0 fails: rc %d '%s'", rc, err.msg);
  opt_problem_free(p);
}

static void test_budget_impossible(void) {
  double s[3] = {1, 2, 3}, b[3] = {0.3, 0.3, 0.4};
  opt_problem *p = single_industry(3, s, b, 0.04);
  p->can_buy[2] = 0; /* from cash: the caps are 0.3 + 0.3 + 0 */
  opt_limits lim;
  opt_limits_default(&lim);
  lim.weight_max = 0.2;
  opt_result *r = NULL;
  zz_err err = {0};
  int rc = opt_solve(p, &lim, &r, &err);
  CHECK(rc == ZZ_ENUMERIC && r == NULL && strstr(err.msg, "bounds"), "budget: rc %d '%s'", rc, err.msg);
  opt_problem_free(p);
}

/* A stock of 6.7 % in the benchmark under a 5 % cap keeps (at least) its benchmark weight: with the
 * best score it takes min(w_b + active_max, max(weight_max, w_b)) = 6.7 %, the others their caps. */
static void test_cap_above_weight_max(void) {
  enum { N = 30 };
  double s[N], b[N];
  for (int i = 0; i < N; i++) {
    s[i] = i == 0 ? 10 : 1.0 / (1 + i);
    b[i] = i == 0 ? 0.067 : 0.933 / (N - 1);
  }
  opt_problem *p = single_industry(N, s, b, 0.04);
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = 0; /* no TE limit: the LP optimum is greedy by score under the caps */
  lim.constituent_floor = 0;
  opt_result *r = NULL;
  zz_err err = {0};
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "cap: %s", err.msg);
  if (r) {
    CHECK(fabs(r->weights[0] - 0.067) < 1e-12, "the 6.7 %% member holds %.12g, want its benchmark weight", r->weights[0]);
    const double cap1 = fmin(b[1] + 0.01, 0.05);
    CHECK(fabs(r->weights[1] - cap1) < 1e-12, "the next stock holds %.12g, want its cap %.12g", r->weights[1], cap1);
  }
  opt_result_free(r);
  lim.active_max = 0.0; /* the big stock is then pinned at its weight, not below */
  r = NULL;
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK && r && fabs(r->weights[0] - 0.067) < 1e-12, "active 0: %s",
        err.msg);
  opt_result_free(r);
  opt_problem_free(p);
}

/* Two groups, "ind" and "unclassified", 4 stocks each with benchmark 12.5 %; the unclassified stocks
 * score higher: the LP shifts exactly unclassified_bound into them (industry_bound would allow 2 %). */
static void test_unclassified_bound(void) {
  enum { N = 8 };
  opt_problem *p;
  zz_err err = {0};
  if (opt_problem_create(N, 0, 2, 0, &p, &err)) return;
  snprintf(p->ind_names[0], OPT_NAME_LEN, "ind");
  snprintf(p->ind_names[1], OPT_NAME_LEN, "Unclassified");
  p->fcov[0] = p->fcov[3] = 0.04;
  for (int i = 0; i < N; i++) {
    snprintf(p->codes[i], ZZ_CODE_LEN, "%06d.SH", 600000 + i);
    p->score[i] = i < 4 ? 0 : 1;
    p->bench[i] = 0.125;
    p->spec_var[i] = 0.04;
    p->ind[i] = i < 4 ? 0 : 1;
  }
  CHECK(opt_problem_unclassified(p) == 1, "the unclassified group is found by name, any case");
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = 0;
  lim.constituent_floor = 0;
  lim.active_max = 0.5;
  lim.weight_max = 0.5;
  lim.unclassified_bound = 0.05;
  opt_result *r = NULL;
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "unclassified: %s", err.msg);
  if (r) {
    double wu = 0;
    for (int i = 4; i < N; i++) wu += r->weights[i];
    /* the "ind" group is then 5 % underweight: more than industry_bound allows. The unclassified bound
     * applies to the unclassified group only; the real industry keeps its 2 %: 2 % is what moves. */
    CHECK(fabs(wu - 0.52) < 1e-9, "unclassified weight %.12g, want 0.52 (industry 'ind' binds at -2 %%)", wu);
  }
  opt_result_free(r);
  /* with a wide industry bound the unclassified bound is what binds */
  lim.industry_bound = 0.2;
  r = NULL;
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "unclassified 2: %s", err.msg);
  if (r) {
    double wu = 0;
    for (int i = 4; i < N; i++) wu += r->weights[i];
    CHECK(fabs(wu - 0.55) < 1e-9, "unclassified weight %.12g, want 0.55 (unclassified_bound 5 %%)", wu);
    CHECK(fabs(r->industry_active[1] - 0.05) < 1e-9, "unclassified active %.12g", r->industry_active[1]);
  }
  opt_result_free(r);
  opt_problem_free(p);
}

/* A specific variance of 1e-31 (a stock alone in its industry factor) is raised to spec_var_floor and
 * the repair noted; the returned TE is the TE under the repaired variances. */
static void test_spec_floor(void) {
  double s[4] = {4, 1, 1, 1}, b[4] = {0.25, 0.25, 0.25, 0.25};
  opt_problem *p = single_industry(4, s, b, 0.04);
  p->spec_var[0] = 1.2e-31;
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = 0.01;
  lim.constituent_floor = 0;
  lim.active_max = 0.5;
  lim.weight_max = 1;
  opt_result *r = NULL;
  zz_err err = {0};
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "floor: %s", err.msg);
  if (r) {
    CHECK(r->spec_floored == 1 && strstr(r->note, "raised"), "one variance floored, noted: %d '%s'", r->spec_floored,
          r->note);
    /* TE^2 = 1e-4 a0^2 + 0.04 * 3 (a0/3)^2 = a0^2 (1e-4 + 0.04/3) with a0 the overweight of stock 0 */
    const double a0 = 0.01 / sqrt(1e-4 + 0.04 / 3);
    /* the objective is 1 + 3 w_0 (the weights sum to 1, the other scores are 1), so the certified gap
     * bounds the overweight's error: 3 (a0 - a) <= gap * upper_bound */
    const double tol = r->gap * r->upper_bound / 3 + 1e-12;
    CHECK(r->status == OPT_OPTIMAL && r->gap <= 1e-4, "certified: status %d, gap %g", r->status, r->gap);
    CHECK(fabs(r->weights[0] - 0.25 - a0) <= tol, "overweight %.9g, closed form %.9g (certified to %.2g)",
          r->weights[0] - 0.25, a0, tol);
    CHECK(r->te <= 0.01 * (1 + 1e-9), "TE %.12g", r->te);
  }
  opt_result_free(r);
  opt_problem_free(p);
}

static void test_tradability(void) {
  enum { N = 6 };
  double s[N] = {3, -3, 1, 0, 0, 0}, b[N] = {0.2, 0.2, 0.15, 0.15, 0.15, 0.15};
  double w0[N] = {0.15, 0.25, 0.15, 0.15, 0.15, 0.15};
  opt_problem *p = single_industry(N, s, b, 0.04);
  p->has_prev = 1;
  memcpy(p->prev, w0, sizeof w0);
  p->can_buy[0] = 0;  /* best score, but cannot be bought: stays at 0.15 at most */
  p->can_sell[1] = 0; /* worst score, cannot be sold: stays at 0.25 at least (above its cap 0.21) */
  opt_limits lim;
  opt_limits_default(&lim);
  lim.te_max = 1.0;
  lim.weight_max = 0.3;
  lim.constituent_floor = 0;
  lim.turnover_max = 1.0;
  opt_result *r = NULL;
  zz_err err = {0};
  CHECK(opt_solve(p, &lim, &r, &err) == ZZ_OK, "tradability: %s", err.msg);
  if (r) {
    CHECK(r->weights[0] <= 0.15 + 1e-12 && fabs(r->weights[0] - 0.15) < 1e-9, "unbuyable w0 = %.12g", r->weights[0]);
    CHECK(fabs(r->weights[1] - 0.25) < 1e-9, "unsellable w1 = %.12g", r->weights[1]);
    CHECK(fabs(r->weights[2] - 0.16) < 1e-9, "best buyable at its cap: w2 = %.12g", r->weights[2]);
    CHECK(r->forced_bounds == 1, "one forced bound (got %d)", r->forced_bounds);
  }
  opt_result_free(r);
  opt_problem_free(p);
}

int main(void) {
  test_lp_optimum();
  test_turnover_zero();
  test_te_closed_form();
  test_floor_relaxed();
  test_turnover_relaxed();
  test_budget_impossible();
  test_tradability();
  test_cap_above_weight_max();
  test_unclassified_bound();
  test_spec_floor();
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  else printf("test_opt_hand: all cases pass\n");
  return failures ? 1 : 0;
}
