/* test_opt_warm.c — warm starts along a sequence of problems (opt_solve_warm) against cold solves of the
 * same problems:
 *   a 10-week sequence that drifts as a backtest does — scores (AR(1)), benchmark weights, exposures,
 *   factor covariance and specific variances move; 3 stocks leave and 3 enter the universe each week
 *   (a leaver's holding becomes cash); the first week is from cash (no turnover limit), the others
 *   start from the previous week's solution after a week of random returns; TE binds.
 * Every week, warm and cold: optimal, the same objective to the certified gap (1e-4 relative), and every
 * limit met, checked here from the problem's own numbers (TE through the full factor covariance, not
 * the solver's Cholesky form). Every week after the first starts warm (TE binds every week).
 * Also: opt_problem_write then opt_problem_read gives the same problem back, bit for bit. */
#include "opt_check.h"
#include "portfolio.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


enum { POOL = 340, N = 300, NS = 3, NI = 6, NF = NS + NI + 1, WEEKS = 10, LEAVE = 3 };

typedef struct rng { uint64_t s; } rng;
static double rng_u(rng *r) {
  r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(r->s >> 11) * 0x1.0p-53;
}
static double rng_n(rng *r) { return sqrt(-2 * log(1 - rng_u(r))) * cos(6.283185307179586 * rng_u(r)); }

/* The market of the pool: per code a score, a benchmark base weight, exposures and a specific variance. */
typedef struct market {
  double score[POOL], bw[POOL], style[POOL][NS], spec[POOL];
  double A[NF][NF]; /* factor covariance = A A' (scaled) */
} market;

static void market_init(market *mk, rng *r) {
  for (int c = 0; c < POOL; c++) {
    mk->score[c] = rng_n(r);
    mk->bw[c] = c % 3 == 0 ? exp(0.8 * rng_n(r)) : 0.0; /* every third code is an index member */
    for (int k = 0; k < NS; k++) mk->style[c][k] = rng_n(r);
    mk->spec[c] = 0.03 + 0.1 * rng_u(r);
  }
  for (int a = 0; a < NF; a++)
    for (int b = 0; b < NF; b++) mk->A[a][b] = (a == b ? 0.15 : 0.03 * rng_n(r));
}

static void market_step(market *mk, rng *r) {
  for (int c = 0; c < POOL; c++) {
    mk->score[c] = 0.9 * mk->score[c] + sqrt(1 - 0.81) * rng_n(r);
    if (mk->bw[c] > 0) mk->bw[c] *= exp(0.03 * rng_n(r));
    for (int k = 0; k < NS; k++) mk->style[c][k] += 0.05 * rng_n(r);
    mk->spec[c] *= exp(0.03 * rng_n(r));
  }
  for (int a = 0; a < NF; a++)
    for (int b = 0; b < NF; b++) mk->A[a][b] *= 1 + 0.03 * rng_n(r);
}

/* Week w's problem: codes [LEAVE w, LEAVE w + N) of the pool. prev (by pool code, NULL: from cash). */
static opt_problem *week_problem(const market *mk, int w, const double *prev) {
  opt_problem *p = NULL;
  zz_err err = {0};
  if (opt_problem_create(N, NS, NI, 1, &p, &err)) return NULL;
  for (int k = 0; k < NS; k++) snprintf(p->style_names[k], OPT_NAME_LEN, "style%d", k);
  for (int j = 0; j < NI; j++) snprintf(p->ind_names[j], OPT_NAME_LEN, j == NI - 1 ? "unclassified" : "ind%d", j);
  double bs = 0;
  for (int i = 0; i < N; i++) bs += mk->bw[LEAVE * w + i];
  for (int i = 0; i < N; i++) {
    const int c = LEAVE * w + i;
    snprintf(p->codes[i], ZZ_CODE_LEN, "%06d.SZ", c);
    p->score[i] = mk->score[c];
    p->bench[i] = mk->bw[c] / bs;
    memcpy(p->style + (size_t)i * NS, mk->style[c], sizeof mk->style[c]);
    p->ind[i] = c % NI;
    p->spec_var[i] = mk->spec[c];
    p->can_buy[i] = c % 37 != 5; /* a few untradable stocks */
    p->can_sell[i] = c % 41 != 7;
    if (prev) p->prev[i] = prev[c];
  }
  p->has_prev = prev != NULL;
  for (int a = 0; a < NF; a++)
    for (int b = 0; b < NF; b++) {
      double s = 0;
      for (int k = 0; k < NF; k++) s += mk->A[a][k] * mk->A[b][k];
      p->fcov[a * NF + b] = s;
    }
  return p;
}

static void limits(opt_limits *lim) {
  opt_limits_default(&lim[0]);
  lim->te_max = 0.02; /* binds: the unconstrained LP point is far above it */
  lim->style_bound = 0.3;
  lim->weight_max = 0.05;
  lim->active_max = 0.02;
}

/* Every limit of the result's limits, from the problem's numbers. Returns the TE. */
static double check_point(const opt_problem *p, const opt_result *r, const char *what, int w) {
  const opt_limits *L = &r->limits;
  const double *x = r->weights;
  double a[N], e[NF] = {0}, sum = 0, cons = 0, turn = 0, sp = 0, spec = 0;
  for (int i = 0; i < N; i++) {
    a[i] = x[i] - p->bench[i];
    sum += x[i];
    cons += p->bench[i] > 0 ? x[i] : 0;
    turn += fabs(x[i] - p->prev[i]);
    sp += p->prev[i];
    spec += p->spec_var[i] * a[i] * a[i];
    const double cap = fmin(p->bench[i] + L->active_max, fmax(L->weight_max, p->bench[i]));
    const double lo = p->has_prev && !p->can_sell[i] ? p->prev[i] : 0;
    const double hi = p->has_prev && !p->can_buy[i] ? fmin(cap, p->prev[i]) : cap;
    CHECK(x[i] >= lo - 1e-9 && x[i] <= fmax(hi, lo) + 1e-9, "%s week %d: w[%d] = %g outside [%g, %g]", what, w, i,
          x[i], lo, hi);
    for (int k = 0; k < NS; k++) e[k] += p->style[(size_t)i * NS + k] * a[i];
    e[NS + p->ind[i]] += a[i];
    e[NF - 1] += a[i];
  }
  CHECK(fabs(sum - 1) < 1e-9, "%s week %d: invested %.12g", what, w, sum);
  for (int k = 0; k < NS; k++) CHECK(fabs(e[k]) <= L->style_bound + 1e-9, "%s week %d: style %d exposure %g", what, w, k, e[k]);
  for (int j = 0; j < NI; j++) {
    const double b = j == NI - 1 ? L->unclassified_bound : L->industry_bound;
    CHECK(fabs(e[NS + j]) <= b + 1e-9, "%s week %d: industry %d active %g > %g", what, w, j, e[NS + j], b);
  }
  CHECK(cons >= L->constituent_floor - 1e-9, "%s week %d: constituent weight %g", what, w, cons);
  if (p->has_prev) {
    const double t = 0.5 * (turn + fabs(sp - sum));
    CHECK(t <= L->turnover_max + 1e-9, "%s week %d: turnover %g > %g", what, w, t, L->turnover_max);
  }
  double fv = 0;
  for (int f = 0; f < NF; f++)
    for (int g = 0; g < NF; g++) fv += e[f] * p->fcov[f * NF + g] * e[g];
  const double te = sqrt(fv + spec);
  CHECK(te <= L->te_max * (1 + 1e-4), "%s week %d: TE %.8g > %.8g", what, w, te, L->te_max);
  CHECK(fabs(te - r->te) <= 1e-9, "%s week %d: TE %.12g, the result says %.12g", what, w, te, r->te);
  return te;
}

static void same_problem(const opt_problem *a, const opt_problem *b) {
  CHECK(a->n == b->n && a->n_style == b->n_style && a->n_ind == b->n_ind && a->has_country == b->has_country &&
            a->has_prev == b->has_prev,
        "read back: shape differs");
  if (a->n != b->n || a->n_style != b->n_style || a->n_ind != b->n_ind) return;
  int bad = 0;
  for (int i = 0; i < a->n; i++) {
    const int d = strcmp(a->codes[i], b->codes[i]) != 0 || a->score[i] != b->score[i] || a->bench[i] != b->bench[i] ||
                  a->prev[i] != b->prev[i] || a->spec_var[i] != b->spec_var[i] || a->can_buy[i] != b->can_buy[i] ||
                  a->can_sell[i] != b->can_sell[i] || strcmp(a->ind_names[a->ind[i]], b->ind_names[b->ind[i]]) != 0;
    bad += d;
    for (int k = 0; k < a->n_style; k++) bad += a->style[(size_t)i * a->n_style + k] != b->style[(size_t)i * b->n_style + k];
  }
  /* the reader numbers the industries in the order it meets them: compare the covariance by name */
  const int nf = opt_problem_nfac(a);
  int map[NF];
  for (int f = 0; f < nf; f++) {
    map[f] = f < a->n_style || f == nf - 1 ? f : -1;
    for (int g = 0; map[f] < 0 && g < b->n_ind; g++)
      if (!strcmp(a->ind_names[f - a->n_style], b->ind_names[g])) map[f] = a->n_style + g;
    CHECK(map[f] >= 0, "read back: factor %d missing", f);
    if (map[f] < 0) return;
  }
  for (int f = 0; f < nf; f++)
    for (int g = 0; g < nf; g++) bad += a->fcov[f * nf + g] != b->fcov[map[f] * nf + map[g]];
  CHECK(bad == 0, "read back: %d values differ", bad);
}

/* Removes the files of dir (opt_problem_write's, no subdirectories) and dir itself. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.') unlink(path);
  }
  if (d) closedir(d);
  rmdir(dir);
}

int main(int argc, char **argv) {
  const char *tmp = argc > 1 ? argv[1] : "test_opt_warm_dir";
  rng r = {20261129};
  static market mk;
  market_init(&mk, &r);
  opt_limits lim;
  limits(&lim);
  opt_warm *warm = NULL;
  zz_err err = {0};
  CHECK(opt_warm_create(&warm, &err) == ZZ_OK, "opt_warm_create: %s", err.msg);
  double prev[POOL], *pp = NULL;
  long it_warm = 0, it_cold = 0;
  for (int w = 0; w < WEEKS; w++) {
    opt_problem *p = week_problem(&mk, w, pp);
    CHECK(p != NULL, "week %d: no problem", w);
    if (!p) break;
    if (w == 3) { /* the writer and the reader of SPEC 11.1 agree */
      opt_problem *q = NULL;
      CHECK(opt_problem_write(p, &lim, tmp, &err) == ZZ_OK, "opt_problem_write: %s", err.msg);
      CHECK(opt_problem_read(tmp, &q, &err) == ZZ_OK, "opt_problem_read: %s", err.msg);
      opt_limits back;
      opt_limits_default(&back);
      char path[4096];
      snprintf(path, sizeof path, "%s/limits.ini", tmp);
      CHECK(opt_limits_read(path, &back, &err) == ZZ_OK, "opt_limits_read: %s", err.msg);
      CHECK(!memcmp(&back, &lim, sizeof lim), "limits.ini read back differs");
      if (q) same_problem(p, q);
      opt_problem_free(q);
    }
    opt_result *rw = NULL, *rc = NULL;
    CHECK(opt_solve_warm(p, &lim, warm, &rw, &err) == ZZ_OK, "week %d warm: %s", w, err.msg);
    CHECK(opt_solve(p, &lim, &rc, &err) == ZZ_OK, "week %d cold: %s", w, err.msg);
    if (rw && rc) {
      CHECK(rw->status == OPT_OPTIMAL && rc->status == OPT_OPTIMAL, "week %d: status warm %s, cold %s", w,
            opt_status_name(rw->status), opt_status_name(rc->status));
      CHECK(rc->warm == 0 && rw->warm == (w > 0), "week %d: warm flags %d (warm) %d (cold)", w, rw->warm, rc->warm);
      CHECK(rw->n_relax == 0 && rc->n_relax == 0, "week %d: relaxed", w);
      const double ub = fmax(fabs(rw->upper_bound), fabs(rc->upper_bound));
      CHECK(fabs(rw->objective - rc->objective) <= lim.gap_tol * ub, "week %d: objective warm %.12g, cold %.12g", w,
            rw->objective, rc->objective);
      /* each bound holds for the other's point: both are the same problem's optimum */
      CHECK(rw->objective <= rc->upper_bound * (1 + 1e-9) && rc->objective <= rw->upper_bound * (1 + 1e-9),
            "week %d: a point above the other's bound", w);
      const double tw = check_point(p, rw, "warm", w), tc = check_point(p, rc, "cold", w);
      printf("week %d: n %d, objective warm %.10f cold %.10f, TE %.5f / %.5f, rounds %d / %d, iterations %d / %d, "
             "warm %d\n",
             w, p->n, rw->objective, rc->objective, tw, tc, rw->rounds, rc->rounds, rw->lp_iterations,
             rc->lp_iterations, rw->warm);
      CHECK(tc > lim.te_max * 0.999, "week %d: TE %.6f does not bind: the test would not exercise the cuts", w, tc);
      if (w > 0) it_warm += rw->lp_iterations, it_cold += rc->lp_iterations;
      /* next week's book: this week's (cold) solution after a week of returns; leavers become cash */
      double v = 0;
      memset(prev, 0, sizeof prev);
      for (int i = 0; i < N; i++) {
        const int c = LEAVE * w + i;
        prev[c] = rc->weights[i] * (1 + 0.03 * rng_n(&r));
        v += prev[c];
      }
      for (int c = 0; c < POOL; c++) prev[c] /= v;
      for (int c = 0; c < LEAVE * (w + 1); c++) prev[c] = 0;
      pp = prev;
    }
    opt_result_free(rw);
    opt_result_free(rc);
    opt_problem_free(p);
    market_step(&mk, &r);
  }
  /* what the warm start saves is measured by bench/bench_opt_sequence, not asserted here */
  printf("simplex iterations, weeks 2..%d: warm %ld, cold %ld\n", WEEKS, it_warm, it_cold);
  opt_warm_free(warm);
  remove_dir(tmp);
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
