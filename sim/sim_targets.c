/* sim_targets.c — target weights for the simulator: built in memory or read from a CSV
 * (date, code, weight[, trade_date]), validated against the panel's calendar and stocks. */
#include "sim_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sim_targets *sim_targets_create(void) { return calloc(1, sizeof(sim_targets)); }

void sim_targets_free(sim_targets *t) {
  if (!t) return;
  free(t->e);
  free(t->b);
  free(t);
}

int sim_targets_count(const sim_targets *t) { return t->nb; }

static int find_batch(const sim_targets *t, int32_t date) {
  for (int k = t->nb - 1; k >= 0; k--) /* batches are usually appended in date order */
    if (t->b[k].date == date) return k;
  return -1;
}

static int add_batch(sim_targets *t, int32_t date, int32_t trade_date, size_t line, zz_err *err) {
  int k = find_batch(t, date);
  if (k >= 0) {
    if (trade_date) t->b[k].trade_date = trade_date;
    return k;
  }
  if (t->nb == t->capb) {
    int cap = t->capb ? 2 * t->capb : 64;
    sim_batch *nb = realloc(t->b, (size_t)cap * sizeof *nb);
    if (!nb) return -zz_fail(err, ZZ_ENOMEM, "out of memory for target batches");
    t->b = nb;
    t->capb = cap;
  }
  t->b[t->nb] = (sim_batch){date, trade_date, line, 0, 0};
  t->sorted = 0;
  return t->nb++;
}

int sim_targets_add_date(sim_targets *t, int32_t date, int32_t trade_date, zz_err *err) {
  int k = add_batch(t, date, trade_date, 0, err);
  return k < 0 ? -k : ZZ_OK;
}

static int add_entry(sim_targets *t, int32_t date, int stock, double weight, size_t line, zz_err *err) {
  int k = add_batch(t, date, 0, line, err);
  if (k < 0) return -k;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 1024;
    sim_entry *ne = realloc(t->e, cap * sizeof *ne);
    if (!ne) return zz_fail(err, ZZ_ENOMEM, "out of memory for target weights");
    t->e = ne;
    t->cap = cap;
  }
  t->e[t->n++] = (sim_entry){date, stock, weight, line};
  t->sorted = 0;
  return ZZ_OK;
}

int sim_targets_add(sim_targets *t, int32_t date, int stock, double weight, zz_err *err) {
  return add_entry(t, date, stock, weight, 0, err);
}

int sim_find_date(const panel *p, int32_t ymd) {
  int lo = 0, hi = p->n_dates - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (p->dates[mid] == ymd) return mid;
    if (p->dates[mid] < ymd) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

int sim_find_stock(const panel *p, const char *code) {
  int lo = 0, hi = p->n_stocks - 1;
  while (lo <= hi) { /* panel stocks are sorted by code */
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(p->stocks[mid].code, code);
    if (!c) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  for (int i = 0; i < p->n_stocks; i++) /* a hand-built panel may not be sorted */
    if (!strcmp(p->stocks[i].code, code)) return i;
  return -1;
}

static int cmp_batch(const void *a, const void *b) {
  const sim_batch *x = a, *y = b;
  return (x->date > y->date) - (x->date < y->date);
}
static int cmp_entry(const void *a, const void *b) {
  const sim_entry *x = a, *y = b;
  if (x->date != y->date) return (x->date > y->date) - (x->date < y->date);
  if (x->stock != y->stock) return (x->stock > y->stock) - (x->stock < y->stock);
  return (x->line > y->line) - (x->line < y->line);
}

/* "path:line:column: " for rows read from a file, "" for targets built in memory */
static const char *where(const sim_targets *t, size_t line, int col, char *buf, size_t n) {
  if (line && t->path[0] && col > 0) snprintf(buf, n, "%s:%zu:%d: ", t->path, line, col);
  else if (line && t->path[0]) snprintf(buf, n, "%s:%zu: ", t->path, line);
  else buf[0] = 0;
  return buf;
}

int sim_targets_validate(sim_targets *t, const panel *p, zz_err *err) {
  char w[600], d[11], d2[11];
  if (t->nb) qsort(t->b, (size_t)t->nb, sizeof *t->b, cmp_batch);
  if (t->n) qsort(t->e, t->n, sizeof *t->e, cmp_entry);
  size_t j = 0;
  for (int k = 0; k < t->nb; k++) {
    sim_batch *b = &t->b[k];
    if (sim_find_date(p, b->date) < 0)
      return zz_fail(err, ZZ_EDATA, "%starget date %s is not a trading day of the market (expected a date of index_bars.csv)",
                     where(t, b->line, t->col_date, w, sizeof w),
                     zz_date_format(b->date, d));
    if (b->trade_date && (b->trade_date < b->date || sim_find_date(p, b->trade_date) < 0))
      return zz_fail(err, ZZ_EDATA, "%strade date %s of target date %s: expected a trading day on or after it",
                     where(t, b->line, 0, w, sizeof w), zz_date_format(b->trade_date, d), zz_date_format(b->date, d2));
    while (j < t->n && t->e[j].date < b->date) j++;
    b->first = j;
    double sum = 0.0;
    for (; j < t->n && t->e[j].date == b->date; j++) {
      const sim_entry *e = &t->e[j];
      const char *code = e->stock >= 0 && e->stock < p->n_stocks ? p->stocks[e->stock].code : "?";
      if (e->stock < 0 || e->stock >= p->n_stocks)
        return zz_fail(err, ZZ_EDATA, "%sstock index %d: expected an index of the market's %d stocks",
                       where(t, e->line, t->col_code, w, sizeof w),
                       e->stock, p->n_stocks);
      if (!isfinite(e->weight) || e->weight < 0)
        return zz_fail(err, ZZ_EDATA, "%sweight of %s on %s: expected a finite number >= 0, found %g",
                       where(t, e->line, t->col_weight, w, sizeof w), code, zz_date_format(b->date, d), e->weight);
      if (j > b->first && t->e[j - 1].stock == e->stock)
        return zz_fail(err, ZZ_EDATA, "%sduplicate target for %s on %s: expected one row per date and code",
                       where(t, e->line, t->col_code, w, sizeof w), code,
                       zz_date_format(b->date, d));
      sum += e->weight;
      if (sum > 1.0 + 1e-9)
        return zz_fail(err, ZZ_EDATA, "%starget weights of %s sum to more than 1 (%.12g after %s): expected at most 1, the "
                       "rest being cash", where(t, e->line, t->col_weight, w, sizeof w), zz_date_format(b->date, d), sum, code);
    }
    b->end = j;
  }
  t->sorted = 1;
  return ZZ_OK;
}

int sim_targets_read(const char *path, const panel *p, sim_targets **out, zz_err *err) {
  static const char *const c_date[] = {"date", "signal_date", NULL};
  static const char *const c_code[] = {"code", "ts_code", NULL};
  static const char *const c_weight[] = {"weight", "target_weight", NULL};
  static const char *const c_trade[] = {"exec_date", NULL};
  *out = NULL;
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  sim_targets *t = sim_targets_create();
  if (!t) {
    zz_csv_close(r);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for targets");
  }
  snprintf(t->path, sizeof t->path, "%s", path);
  int cd = zz_csv_require(r, c_date, err), cc = cd >= 0 ? zz_csv_require(r, c_code, err) : -1;
  int cw = cc >= 0 ? zz_csv_require(r, c_weight, err) : -1, ct = zz_csv_find(r, c_trade);
  t->col_date = cd + 1;
  t->col_code = cc + 1;
  t->col_weight = cw + 1;
  if (cd < 0 || cc < 0 || cw < 0) {
    rc = err ? err->code : ZZ_EDATA;
    goto fail;
  }
  for (;;) {
    int st = zz_csv_next(r, err);
    if (st < 0) {
      rc = -st;
      goto fail;
    }
    if (st == 0) break;
    int32_t date, trade = 0;
    if ((rc = zz_csv_date(r, cd, &date, err))) goto fail;
    if (sim_find_date(p, date) < 0) {
      char d[11];
      rc = zz_csv_fail(r, cd, err, ZZ_EDATA, "date %s is not a trading day of the market: expected a date of index_bars.csv",
                       zz_date_format(date, d));
      goto fail;
    }
    if (ct >= 0 && zz_csv_field(r, ct)[0]) {
      if ((rc = zz_csv_date(r, ct, &trade, err))) goto fail;
      if (trade < date || sim_find_date(p, trade) < 0) {
        rc = zz_csv_fail(r, ct, err, ZZ_EDATA, "exec_date %s: expected a trading day on or after date",
                         zz_csv_field(r, ct));
        goto fail;
      }
    }
    const char *raw = zz_csv_field(r, cc);
    size_t line = zz_csv_line(r);
    int k = add_batch(t, date, trade, line, err);
    if (k < 0) {
      rc = -k;
      goto fail;
    }
    if (!raw[0] || !strcmp(raw, "CASH") || !strcmp(raw, "cash")) continue; /* an empty batch */
    char code[ZZ_CODE_LEN];
    int stock = zz_code_normalise(raw, code) ? -1 : sim_find_stock(p, code);
    if (stock < 0) {
      rc = zz_csv_fail(r, cc, err, ZZ_EDATA, "unknown stock code '%s': expected a code of the market's bars.csv", raw);
      goto fail;
    }
    double wt;
    if ((rc = zz_csv_double(r, cw, 0, &wt, err))) goto fail;
    if (wt < 0) {
      rc = zz_csv_fail(r, cw, err, ZZ_EDATA, "expected a weight >= 0, found %g", wt);
      goto fail;
    }
    if ((rc = add_entry(t, date, stock, wt, line, err))) goto fail;
  }
  if (t->nb == 0) { /* a header alone: nothing to simulate */
    rc = zz_fail(err, ZZ_EDATA, "%s:2: no rows: expected at least one row date,code,weight after the header", path);
    goto fail;
  }
  zz_csv_close(r);
  r = NULL;
  if ((rc = sim_targets_validate(t, p, err))) goto fail;
  *out = t;
  return ZZ_OK;
fail:
  if (r) zz_csv_close(r);
  sim_targets_free(t);
  return rc ? rc : ZZ_EINTERNAL;
}

int sim_targets_write(const sim_targets *t, const panel *p, const char *path, zz_err *err) {
  char tmp[4200];
  FILE *f = zz_out_open(path, tmp, sizeof tmp, err);
  if (!f) return ZZ_EIO;
  fputs("date,code,weight\n", f);
  char db[16], nb[40];
  for (int k = 0; k < t->nb; k++) {
    int rows = 0;
    zz_date_format(t->b[k].date, db);
    for (size_t j = 0; j < t->n; j++)
      if (t->e[j].date == t->b[k].date) {
        fprintf(f, "%s,%s,%s\n", db, p->stocks[t->e[j].stock].code, zz_fmt_double(nb, sizeof nb, t->e[j].weight));
        rows++;
      }
    if (!rows) fprintf(f, "%s,CASH,0\n", db);
  }
  return zz_out_close(f, tmp, path, err);
}
