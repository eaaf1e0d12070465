/* sim_output.c — writes a simulation result: nav.csv, trades.csv, positions.csv. Each file is written
 * to a temporary name and all three are renamed at the end, so a failed run leaves no partial file. */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int open_tmp(const char *dir, const char *name, char *path, char *tmp, size_t n, FILE **f, zz_err *err) {
  snprintf(path, n, "%s/%s", dir, name);
  snprintf(tmp, n, "%s/.%s.tmp", dir, name);
  *f = fopen(tmp, "w");
  if (!*f) return zz_fail(err, ZZ_EIO, "cannot write %s: %s", tmp, strerror(errno));
  return ZZ_OK;
}

static void num(FILE *f, double v) {
  char b[40];
  fputc(',', f);
  fputs(zz_fmt_double(b, sizeof b, v), f);
}

int sim_result_write(const sim_result *r, const char *dir, zz_err *err) {
  if (mkdir(dir, 0777) && errno != EEXIST) return zz_fail(err, ZZ_EIO, "cannot create directory %s: %s", dir, strerror(errno));
  char path[4096], tmp[4096], d[11];
  FILE *f;
  int rc;
  /* write all three to temporary names first, then rename */
  char paths[3][4096], tmps[3][4096];
  const char *names[3] = {"nav.csv", "trades.csv", "positions.csv"};
  for (int k = 0; k < 3; k++) {
    if ((rc = open_tmp(dir, names[k], path, tmp, sizeof path, &f, err))) {
      for (int j = 0; j < k; j++) remove(tmps[j]);
      return rc;
    }
    memcpy(paths[k], path, sizeof path);
    memcpy(tmps[k], tmp, sizeof tmp);
    if (k == 0) {
      fputs("date,nav,benchmark,hedged,cash,turnover,costs,value\n", f);
      for (int i = 0; i < r->n_days; i++) {
        fputs(zz_date_format(r->dates[i], d), f);
        num(f, r->nav[i]);
        num(f, r->benchmark[i]);
        num(f, r->hedged[i]);
        num(f, r->cash[i]);
        num(f, r->turnover[i]);
        num(f, r->costs[i]);
        num(f, r->value[i]);
        fputc('\n', f);
      }
    } else if (k == 1) {
      fputs("date,code,side,shares,price,cost,status,reason,ordered\n", f);
      for (size_t i = 0; i < r->n_trades; i++) {
        const sim_trade *t = &r->trades[i];
        fprintf(f, "%s,%s,%s", zz_date_format(t->date, d), t->code, t->side > 0 ? "buy" : "sell");
        num(f, t->shares);
        num(f, t->price);
        num(f, t->cost);
        fprintf(f, ",%s,%s", sim_status_name(t->status), t->reason);
        num(f, t->ordered);
        fputc('\n', f);
      }
    } else {
      fputs("date,code,shares,close,value,weight,cost_basis\n", f);
      for (size_t i = 0; i < r->n_positions; i++) {
        const sim_position *q = &r->positions[i];
        fprintf(f, "%s,%s", zz_date_format(q->date, d), q->code);
        num(f, q->shares);
        num(f, q->close);
        num(f, q->value);
        num(f, q->weight);
        num(f, q->cost_basis);
        fputc('\n', f);
      }
    }
    int bad = ferror(f);
    if (fclose(f) || bad) {
      rc = zz_fail(err, ZZ_EIO, "cannot write %s: %s", tmp, strerror(errno));
      for (int j = 0; j <= k; j++) remove(tmps[j]);
      return rc;
    }
  }
  for (int k = 0; k < 3; k++)
    if (rename(tmps[k], paths[k])) {
      rc = zz_fail(err, ZZ_EIO, "cannot rename %s to %s: %s", tmps[k], paths[k], strerror(errno));
      for (int j = k; j < 3; j++) remove(tmps[j]);
      return rc;
    }
  return ZZ_OK;
}
