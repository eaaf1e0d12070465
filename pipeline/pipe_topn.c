/* pipe_topn.c — the top-N strategy of seed 004 section 4: on each rebalance date, equal weight on the N
 * best-scored stocks of a universe, traded through the same simulator book as the enhancement
 * backtests (sim_book: run to the decision close, read the real book, submit, run on). */
#include "pipe_internal.h"
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void pipe_topn_init(pipe_topn_opts *o) {
  memset(o, 0, sizeof *o);
  o->universe = PANEL_CSI300;
  o->n = 20;
  o->rebalance = PIPE_REBAL_DAILY;
  o->cash = 0.0;
  panel_universe_init(&o->screen);
}

int pipe_rebalance_parse(const char *s) {
  if (!strcmp(s, "daily")) return PIPE_REBAL_DAILY;
  if (!strcmp(s, "weekly")) return PIPE_REBAL_WEEKLY;
  if (!strcmp(s, "monthly")) return PIPE_REBAL_MONTHLY;
  return -1;
}

const char *pipe_rebalance_name(int r) {
  return r == PIPE_REBAL_DAILY ? "daily" : r == PIPE_REBAL_WEEKLY ? "weekly" : r == PIPE_REBAL_MONTHLY ? "monthly" : "?";
}

int pipe_topn_dates(const panel *p, int rebalance, int t0, int t1, int *out) {
  int n = 0;
  for (int t = t0 < 0 ? 0 : t0; t <= t1 && t < p->n_dates; t++) {
    int last = 1; /* daily: every day */
    if (rebalance == PIPE_REBAL_WEEKLY && t + 1 < p->n_dates)
      last = (zz_date_to_days(p->dates[t]) - 4 + 700000) / 7 != (zz_date_to_days(p->dates[t + 1]) - 4 + 700000) / 7;
    else if (rebalance == PIPE_REBAL_MONTHLY && t + 1 < p->n_dates)
      last = p->dates[t] / 100 != p->dates[t + 1] / 100;
    if (last) out[n++] = t;
  }
  return n;
}

typedef struct cand {
  double s;
  int i;
} cand;

/* Best score first; equal scores by ascending panel index (deterministic). */
static int cand_cmp(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->s != y->s) return x->s > y->s ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

int pipe_topn_run(const panel *p, const double *scores, const pipe_topn_opts *o, const struct sim_config *sc,
                  struct sim_targets **targets_out, struct sim_result **out, zz_err *err) {
  *out = NULL;
  if (targets_out) *targets_out = NULL;
  if (o->n < 1) return zz_fail(err, ZZ_EUSAGE, "topn: n must be at least 1, got %d", o->n);
  if (!(o->cash >= 0 && o->cash < 1)) return zz_fail(err, ZZ_EUSAGE, "topn: cash must be in [0, 1), got %g", o->cash);
  if (o->rebalance < PIPE_REBAL_DAILY || o->rebalance > PIPE_REBAL_MONTHLY)
    return zz_fail(err, ZZ_EUSAGE, "topn: unknown rebalance frequency %d", o->rebalance);
  if (o->universe >= PANEL_N_INDEX || (o->universe >= 0 && !p->index[o->universe].present))
    return zz_fail(err, ZZ_EDATA, "topn: the market has no %s (%s) weights",
                   o->universe >= 0 && o->universe < PANEL_N_INDEX ? zz_index_name(o->universe) : "?",
                   o->universe >= 0 && o->universe < PANEL_N_INDEX ? zz_index_code(o->universe) : "?");
  sim_config c = *sc;
  int rc = sim_config_check(&c, err);
  if (rc) return rc;
  const int N = p->n_stocks;
  int t_end = o->end ? panel_date_at_or_before(p, o->end) : p->n_dates - 1;
  if (c.end && panel_date_at_or_before(p, c.end) < t_end) t_end = panel_date_at_or_before(p, c.end);
  int t_start = 0;
  while (t_start < p->n_dates && p->dates[t_start] < o->start) t_start++;
  if (t_end < 0 || t_start > t_end - c.exec_lag)
    return zz_fail(err, ZZ_EUSAGE, "topn: no decision date with a following trade day between %d and %d",
                   (int)o->start, (int)o->end);
  c.end = p->dates[t_end];
  int *dates = malloc(sizeof *dates * (size_t)(p->n_dates + 1));
  uint8_t *elig = malloc((size_t)p->n_dates * (size_t)N + 1), *member = malloc((size_t)N + 1);
  double *w = malloc(sizeof *w * (size_t)(N + 1)), *held = calloc((size_t)N + 1, sizeof *held);
  double *wt = malloc(sizeof *wt * (size_t)(N + 1));
  int *stk = malloc(sizeof *stk * (size_t)(N + 1));
  cand *cd = malloc(sizeof *cd * (size_t)(N + 1));
  sim_targets *tg = sim_targets_create();
  sim_book *book = NULL;
  if (!dates || !elig || !member || !w || !held || !wt || !stk || !cd || !tg) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  if (!rc) rc = panel_universe_mask(p, &o->screen, elig, NULL, err);
  const int nd = rc ? 0 : pipe_topn_dates(p, o->rebalance, t_start, t_end - c.exec_lag, dates);
  for (int k = 0; k < nd && !rc; k++) {
    const int t = dates[k];
    if (book) {
      if ((rc = sim_book_run_to(book, p->dates[t], err))) break;
      sim_book_weights(book, held, NULL, NULL);
    }
    if (o->universe >= 0) {
      if (panel_index_weights(p, o->universe, t, w, member) <= 0) continue; /* no snapshot in force yet */
    } else
      for (int i = 0; i < N; i++) member[i] = (p->flags[panel_at(p, t, i)] & PANEL_LISTED) != 0;
    int nc = 0;
    for (int i = 0; i < N; i++) {
      const size_t at = panel_at(p, t, i);
      if (!member[i] || !elig[at] || !isfinite(scores[at])) continue;
      int buy, sell;
      sim_tradable(p, &c, t, i, &buy, &sell);
      if (!buy && !(held[i] > 0)) continue; /* cannot be bought on the decision day and not held */
      cd[nc].s = scores[at], cd[nc].i = i, nc++;
    }
    if (!book) {
      if (nc < o->n) continue; /* start with a full portfolio */
      if ((rc = sim_book_create(p, &c, p->dates[t], &book, err)) || (rc = sim_book_run_to(book, p->dates[t], err))) break;
    }
    if (!nc) continue; /* nothing scored: the book is held */
    qsort(cd, (size_t)nc, sizeof *cd, cand_cmp);
    const int m = nc < o->n ? nc : o->n;
    for (int j = 0; j < m; j++) stk[j] = cd[j].i, wt[j] = (1.0 - o->cash) / o->n;
    if ((rc = sim_targets_add_date(tg, p->dates[t], 0, err))) break;
    for (int j = 0; j < m && !rc; j++) rc = sim_targets_add(tg, p->dates[t], stk[j], wt[j], err);
    if (!rc) rc = sim_book_submit(book, stk, wt, m, 0, err);
  }
  if (!rc && !book)
    rc = zz_fail(err, ZZ_EDATA, "topn: no rebalance date has %d scored, buyable stocks in the universe", o->n);
  sim_result *res = NULL;
  if (!rc) rc = sim_book_finish(book, &res, err);
  sim_book_free(book);
  free(dates), free(elig), free(member), free(w), free(held), free(wt), free(stk), free(cd);
  if (rc) {
    sim_targets_free(tg);
    return rc;
  }
  *out = res;
  if (targets_out) *targets_out = tg;
  else sim_targets_free(tg);
  return ZZ_OK;
}

/* ---------------------------------------------------------------- [topn] in zhizeng run */

int pipe_topn_parse(const pipe_config *c, pipe_topn_setup *s, zz_err *err) {
  memset(s, 0, sizeof *s);
  if (!strcasecmp(c->topn_universe, "all")) s->universe = -1;
  else if ((s->universe = zz_index_parse(c->topn_universe)) < 0)
    return zz_fail(err, ZZ_EUSAGE, "topn.universe: expected csi300, csi500, csi1000 or all, found '%s'", c->topn_universe);
  s->benchmark = s->universe >= 0 ? s->universe : PANEL_CSI300;
  if ((s->rebalance = pipe_rebalance_parse(c->topn_rebalance)) < 0)
    return zz_fail(err, ZZ_EUSAGE, "topn.rebalance: expected daily, weekly or monthly, found '%s'", c->topn_rebalance);
  if (!strcmp(c->topn_costs, "seed004")) s->seed004 = 1;
  else if (strcmp(c->topn_costs, "sim"))
    return zz_fail(err, ZZ_EUSAGE, "topn.costs: expected seed004 or sim, found '%s'", c->topn_costs);
  char buf[PIPE_STR], *save = NULL;
  snprintf(buf, sizeof buf, "%s", c->topn_n);
  for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
    char *end;
    const long v = strtol(tok, &end, 10);
    if (*end || v < 1 || v > 100000)
      return zz_fail(err, ZZ_EUSAGE, "topn.n: expected whole numbers >= 1, found '%s'", tok);
    if (s->n_n == PIPE_TOPN_MAX) return zz_fail(err, ZZ_EUSAGE, "topn.n: at most %d values", PIPE_TOPN_MAX);
    for (int k = 0; k < s->n_n; k++)
      if (s->n[k] == v) return zz_fail(err, ZZ_EUSAGE, "topn.n: %ld is listed twice", v);
    s->n[s->n_n++] = (int)v;
  }
  if (!s->n_n) return zz_fail(err, ZZ_EUSAGE, "topn.n: expected a list such as 20,30,50,100");
  return ZZ_OK;
}

/* Hash of a run: the head's score stage, the [topn], [sim] and [universe] keys, the end date and N. */
static uint64_t topn_hash(const pipe_ctx *x, int head, int n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) abort(); /* cannot hash: no memory */
  pipe_config_section_text(x->c, "topn", f);
  pipe_config_section_text(x->c, "sim", f);
  pipe_config_section_text(x->c, "universe", f);
  fprintf(f, "topn.run_n=%d\nend=%d\nfirst=%d\n", n, (int)x->p->dates[x->t_last], (int)x->p->dates[x->t_first]);
  fclose(f);
  uint64_t h = pipe_hash_bytes(x->hs.scores[head], buf, len);
  free(buf);
  return h;
}

int pipe_topn_stage(pipe_ctx *x, zz_err *err) {
  const pipe_config *c = x->c;
  const panel *p = x->p;
  pipe_topn_setup ts;
  int rc = pipe_topn_parse(c, &ts, err);
  if (rc) return rc;
  if (ts.universe >= 0 && !p->index[ts.universe].present)
    return zz_fail(err, ZZ_EDATA, "topn.universe: the market has no %s weights", zz_index_name(ts.universe));
  const double t0 = pipe_now();
  int cached = 1;
  for (int k = 0; k < x->l.n_heads && !rc; k++)
    for (int j = 0; j < ts.n_n && !rc; j++) {
      const int head = x->l.heads[k];
      pipe_topn_run_dir *r = &x->topn[x->n_topn++];
      r->head = head, r->n = ts.n[j];
      snprintf(r->label, sizeof r->label, "%s/top%d", pipe_head_name(head), ts.n[j]);
      char nm[96];
      snprintf(nm, sizeof nm, "topn-%s-top%d", pipe_head_name(head), ts.n[j]);
      pipe_stage_dir(c->out_dir, nm, topn_hash(x, head, ts.n[j]), r->dir, sizeof r->dir);
      if (!x->o->force && pipe_stage_done(r->dir)) continue;
      cached = 0;
      sim_config sc;
      pipe_sim_config(c, ts.benchmark, p->dates[x->t_last], &sc);
      if (ts.seed004) sim_cost_preset(&sc, "seed004");
      pipe_topn_opts o;
      pipe_topn_init(&o);
      o.universe = ts.universe;
      o.n = ts.n[j];
      o.rebalance = ts.rebalance;
      o.cash = c->topn_cash;
      o.start = p->dates[x->t_first];
      o.end = p->dates[x->t_last];
      o.screen = pipe_universe(c);
      sim_result *res = NULL;
      sim_targets *tg = NULL;
      char path[PIPE_PATH + 32];
      snprintf(path, sizeof path, "%s/targets.csv", r->dir);
      if (!(rc = pipe_topn_run(p, x->scores[head], &o, &sc, &tg, &res, err)) && !(rc = zz_mkdir_p(r->dir, err)) &&
          !(rc = sim_targets_write(tg, p, path, err)) && !(rc = sim_result_write(res, r->dir, err)))
        rc = pipe_stage_mark(r->dir, r->label, err);
      if (!rc)
        fprintf(stderr, "[topn] %s (%s, %s): %d rebalances, final NAV %.4f, benchmark %.4f, costs %.0f CNY\n", r->label,
                ts.universe >= 0 ? zz_index_name(ts.universe) : "all", pipe_rebalance_name(ts.rebalance),
                res->n_rebalances, res->nav[res->n_days - 1], res->benchmark[res->n_days - 1], res->total_costs);
      else
        zz_wrap(err, "topn %s", r->label);
      sim_result_free(res);
      sim_targets_free(tg);
    }
  fprintf(stderr, "[topn] %d run(s)%s in %.1f s\n", x->n_topn, cached ? ", all cached," : "", pipe_now() - t0);
  return rc;
}
