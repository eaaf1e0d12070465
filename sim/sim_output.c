/* sim_output.c — a simulation result on disk, writer beside reader: nav.csv, trades.csv,
 * positions.csv, rebalances.csv and summary.csv. The files are written to temporary names and all
 * renamed at the end, so a failed run leaves no partial file. sim_result_read reads back what the
 * stage cache needs (the daily series, the rebalances and the summary). */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_FILES 5
static const char *const file_names[N_FILES] = {"nav.csv", "trades.csv", "positions.csv", "rebalances.csv",
                                                "summary.csv"};
static const char *const nav_cols[] = {"date", "nav", "benchmark", "hedged", "cash", "turnover", "costs", "value"};
static const char *const reb_cols[] = {"decision_date", "trade_date", "value",       "turnover",   "bought",
                                       "sold",          "costs",      "cash_weight", "l1_target",  "n_unfilled",
                                       "unfilled_value"};
#define N_NAV (int)(sizeof nav_cols / sizeof nav_cols[0])
#define N_REB (int)(sizeof reb_cols / sizeof reb_cols[0])

static void num(FILE *f, double v) {
  char b[40];
  fputc(',', f);
  fputs(zz_fmt_double(b, sizeof b, v), f);
}

static void header(FILE *f, const char *const *cols, int n) {
  for (int k = 0; k < n; k++) fprintf(f, "%s%s", k ? "," : "", cols[k]);
  fputc('\n', f);
}

static void write_one(FILE *f, int k, const sim_result *r) {
  char d[16], e[16];
  switch (k) {
    case 0:
      header(f, nav_cols, N_NAV);
      for (int i = 0; i < r->n_days; i++) {
        fputs(zz_date_format(r->dates[i], d), f);
        num(f, r->nav[i]), num(f, r->benchmark[i]), num(f, r->hedged[i]), num(f, r->cash[i]);
        num(f, r->turnover[i]), num(f, r->costs[i]), num(f, r->value[i]);
        fputc('\n', f);
      }
      break;
    case 1:
      fputs("date,code,side,shares,price,cost,status,reason,ordered\n", f);
      for (size_t i = 0; i < r->n_trades; i++) {
        const sim_trade *t = &r->trades[i];
        fprintf(f, "%s,%s,%s", zz_date_format(t->date, d), t->code, t->side > 0 ? "buy" : "sell");
        num(f, t->shares), num(f, t->price), num(f, t->cost);
        fprintf(f, ",%s,%s", sim_status_name(t->status), t->reason);
        num(f, t->ordered);
        fputc('\n', f);
      }
      break;
    case 2:
      fputs("date,code,shares,close,value,weight,cost_basis\n", f);
      for (size_t i = 0; i < r->n_positions; i++) {
        const sim_position *q = &r->positions[i];
        fprintf(f, "%s,%s", zz_date_format(q->date, d), q->code);
        num(f, q->shares), num(f, q->close), num(f, q->value), num(f, q->weight), num(f, q->cost_basis);
        fputc('\n', f);
      }
      break;
    case 3:
      header(f, reb_cols, N_REB);
      for (int i = 0; i < r->n_rebalances; i++) {
        const sim_rebalance *b = &r->rebalances[i];
        fprintf(f, "%s,%s", zz_date_format(b->decision_date, d), zz_date_format(b->trade_date, e));
        num(f, b->value), num(f, b->turnover), num(f, b->bought), num(f, b->sold), num(f, b->costs);
        num(f, b->cash_weight), num(f, b->l1_target);
        fprintf(f, ",%d", b->n_unfilled);
        num(f, b->unfilled_value);
        fputc('\n', f);
      }
      break;
    default:
      fprintf(f, "key,value\nfirst_trade_date,%s\n", r->n_days ? zz_date_format(r->dates[0], d) : "");
      fputs("entry_slippage", f), num(f, r->entry_slippage), fputc('\n', f);
      fputs("entry_costs", f), num(f, r->entry_costs), fputc('\n', f);
      fputs("mean_invested", f), num(f, r->mean_invested), fputc('\n', f);
      fputs("total_costs", f), num(f, r->total_costs), fputc('\n', f);
      break;
  }
}

int sim_result_write(const sim_result *r, const char *dir, zz_err *err) {
  if (mkdir(dir, 0777) && errno != EEXIST) return zz_fail(err, ZZ_EIO, "cannot create directory %s: %s", dir, strerror(errno));
  char paths[N_FILES][4096], tmps[N_FILES][4096];
  int rc = ZZ_OK, k;
  for (k = 0; k < N_FILES && !rc; k++) {
    snprintf(paths[k], sizeof paths[k], "%s/%s", dir, file_names[k]);
    snprintf(tmps[k], sizeof tmps[k], "%s/.%s.tmp", dir, file_names[k]);
    FILE *f = fopen(tmps[k], "w");
    if (!f) {
      rc = zz_fail(err, ZZ_EIO, "cannot write %s: %s", tmps[k], strerror(errno));
      break;
    }
    write_one(f, k, r);
    const int bad = ferror(f);
    if (fclose(f) || bad) rc = zz_fail(err, ZZ_EIO, "cannot write %s: %s", tmps[k], strerror(errno));
  }
  if (rc) {
    for (int j = 0; j < k && j < N_FILES; j++) remove(tmps[j]);
    return rc;
  }
  for (k = 0; k < N_FILES; k++)
    if (rename(tmps[k], paths[k])) {
      rc = zz_fail(err, ZZ_EIO, "cannot rename %s to %s: %s", tmps[k], paths[k], strerror(errno));
      for (int j = k; j < N_FILES; j++) remove(tmps[j]);
      return rc;
    }
  return ZZ_OK;
}

/* ------------------------------------------------------------------ reader */

/* Opens dir/name and finds the columns `cols` (all required). */
static int open_cols(const char *dir, const char *name, const char *const *cols, int n, int *col, zz_csv **out,
                     zz_err *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int rc = zz_csv_open(out, path, err);
  for (int k = 0; k < n && !rc; k++) {
    const char *nm[2] = {cols[k], NULL};
    if ((col[k] = zz_csv_require(*out, nm, err)) < 0) rc = err ? err->code : ZZ_EDATA;
  }
  if (rc) zz_csv_close(*out), *out = NULL;
  return rc;
}

/* nav.csv: date, nav, benchmark, hedged required (positive); cash, turnover, costs, value optional
 * (turnover and costs 0, cash and value NaN when absent), so that older or hand-made files still read. */
static int read_nav(const char *dir, sim_result *r, zz_err *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/nav.csv", dir);
  zz_csv *c = NULL;
  int rc = zz_csv_open(&c, path, err), got = 0, col[N_NAV];
  if (rc) return rc;
  for (int k = 0; k < N_NAV && !rc; k++) {
    const char *nm[2] = {nav_cols[k], NULL};
    col[k] = k < 4 ? zz_csv_require(c, nm, err) : zz_csv_find(c, nm);
    if (k < 4 && col[k] < 0) rc = err ? err->code : ZZ_EDATA;
  }
  size_t cap = 0;
  double **arr[7] = {&r->nav, &r->benchmark, &r->hedged, &r->cash, &r->turnover, &r->costs, &r->value};
  while (!rc && (got = zz_csv_next(c, err)) == 1) {
    if ((size_t)r->n_days == cap) {
      cap = cap ? 2 * cap : 1024;
      int32_t *d = realloc(r->dates, cap * sizeof *d);
      if (!d) rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
      else r->dates = d;
      for (int k = 0; k < 7 && !rc; k++) {
        double *q = realloc(*arr[k], cap * sizeof *q);
        if (!q) rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
        else *arr[k] = q;
      }
      if (rc) break;
    }
    const int n = r->n_days;
    rc = zz_csv_date(c, col[0], &r->dates[n], err);
    if (!rc && n > 0 && r->dates[n] <= r->dates[n - 1])
      rc = zz_csv_fail(c, col[0], err, ZZ_EDATA, "dates must increase strictly; this one follows %d", (int)r->dates[n - 1]);
    for (int k = 0; k < 7 && !rc; k++) {
      double *v = &(*arr[k])[n];
      if (col[k + 1] < 0) {
        *v = k == 4 || k == 5 ? 0.0 : NAN;
        continue;
      }
      rc = zz_csv_double(c, col[k + 1], k >= 3, v, err);
      if (!rc && k < 3 && !(*v > 0) )
        rc = zz_csv_fail(c, col[k + 1], err, ZZ_EDATA, "expected a positive %s value, found '%s'", nav_cols[k + 1],
                         zz_csv_field(c, col[k + 1]));
      if (!rc && (k == 4 || k == 5) && !isfinite(*v)) *v = 0.0;
    }
    if (!rc) r->n_days++;
  }
  if (!rc && got < 0) rc = -got;
  if (!rc && r->n_days < 1) rc = zz_fail(err, ZZ_EDATA, "%s: no rows", path);
  zz_csv_close(c);
  return rc;
}

static int read_rebalances(const char *dir, sim_result *r, zz_err *err) {
  zz_csv *c;
  int col[N_REB], rc = open_cols(dir, "rebalances.csv", reb_cols, N_REB, col, &c, err), got, cap = 0;
  if (rc) return rc;
  while (!rc && (got = zz_csv_next(c, err)) == 1) {
    if (r->n_rebalances == cap) {
      cap = cap ? 2 * cap : 64;
      sim_rebalance *q = realloc(r->rebalances, (size_t)cap * sizeof *q);
      if (!q) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", zz_csv_path(c));
        break;
      }
      r->rebalances = q;
    }
    sim_rebalance *b = &r->rebalances[r->n_rebalances];
    memset(b, 0, sizeof *b);
    double *v[] = {&b->value, &b->turnover, &b->bought, &b->sold, &b->costs, &b->cash_weight, &b->l1_target};
    double nu = 0;
    rc = zz_csv_date(c, col[0], &b->decision_date, err);
    if (!rc) rc = zz_csv_date(c, col[1], &b->trade_date, err);
    for (int k = 0; k < 7 && !rc; k++) rc = zz_csv_double(c, col[k + 2], 0, v[k], err);
    if (!rc) rc = zz_csv_double(c, col[9], 0, &nu, err);
    if (!rc) rc = zz_csv_double(c, col[10], 0, &b->unfilled_value, err);
    b->n_unfilled = (int)nu;
    if (!rc) r->n_rebalances++;
  }
  if (!rc && got < 0) rc = -got;
  zz_csv_close(c);
  return rc;
}

static int read_summary(const char *dir, sim_result *r, zz_err *err) {
  static const char *const cols[] = {"key", "value"};
  zz_csv *c;
  int col[2], rc = open_cols(dir, "summary.csv", cols, 2, col, &c, err), got;
  if (rc) return rc;
  while (!rc && (got = zz_csv_next(c, err)) == 1) {
    const char *key = zz_csv_field(c, col[0]);
    double *dst = !strcmp(key, "entry_slippage") ? &r->entry_slippage
                  : !strcmp(key, "entry_costs")  ? &r->entry_costs
                  : !strcmp(key, "mean_invested") ? &r->mean_invested
                  : !strcmp(key, "total_costs")  ? &r->total_costs
                                                 : NULL;
    if (dst) rc = zz_csv_double(c, col[1], dst == &r->entry_slippage, dst, err); /* empty: never traded */
  }
  if (!rc && got < 0) rc = -got;
  zz_csv_close(c);
  return rc;
}

int sim_result_read(const char *dir, sim_result **out, zz_err *err) {
  *out = NULL;
  sim_result *r = calloc(1, sizeof *r);
  if (!r) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  r->benchmark_index = -1;
  int rc = read_nav(dir, r, err);
  char path[4096];
  snprintf(path, sizeof path, "%s/rebalances.csv", dir); /* both optional: a nav.csv from elsewhere */
  if (!rc && access(path, F_OK) == 0) rc = read_rebalances(dir, r, err);
  snprintf(path, sizeof path, "%s/summary.csv", dir);
  if (!rc && access(path, F_OK) == 0) rc = read_summary(dir, r, err);
  else
    for (int d = 0; !rc && d < r->n_days; d++) r->total_costs += r->costs[d];
  if (rc) {
    sim_result_free(r);
    return rc;
  }
  *out = r;
  return ZZ_OK;
}
