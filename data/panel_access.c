/* panel_access.c — freeing and reading a loaded panel: lookups by code and date, returns, index
 * snapshots and weights, point-in-time fundamentals, week ends, and the ingest summary. */
#include "data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void panel_free(panel *p) {
  if (!p) return;
  free(p->dates);
  free(p->stocks);
  for (int k = 0; k < PF_N_FIELDS; k++) free(p->f[k]);
  free(p->flags);
  free(p->industry_names);
  free(p->industry);
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    panel_index *I = &p->index[k];
    free(I->close);
    free(I->snap_t);
    free(I->snap_first);
    free(I->member);
    free(I->weight);
  }
  free(p->fund.stock);
  free(p->fund.date);
  for (int k = 0; k < PFUND_N_FIELDS; k++) free(p->fund.v[k]);
  free(p->fund.first);
  for (int k = 0; p->datasets && k < p->n_datasets; k++) { /* (a cache read can stop before the array) */
    free(p->datasets[k].col_names);
    free(p->datasets[k].values);
  }
  free(p->datasets);
  free(p);
}

const char *panel_field_name(panel_field f) {
  static const char *const names[PF_N_FIELDS] = {"open",     "high",     "low",        "close",      "volume",
                                                 "amount",   "pre_close", "vwap",      "adj_factor", "up_limit",
                                                 "down_limit", "float_mv", "total_mv"};
  return (unsigned)f < PF_N_FIELDS ? names[f] : "?";
}

int panel_find_stock(const panel *p, const char *code) {
  char c[ZZ_CODE_LEN];
  if (zz_code_normalise(code, c) != 0) return -1;
  int lo = 0, hi = p->n_stocks - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2, k = strcmp(p->stocks[mid].code, c);
    if (k == 0) return mid;
    if (k < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

int panel_date_at_or_before(const panel *p, int32_t ymd) {
  int lo = 0, hi = p->n_dates - 1, best = -1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (p->dates[mid] <= ymd) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

int panel_find_date(const panel *p, int32_t ymd) {
  int t = panel_date_at_or_before(p, ymd);
  return t >= 0 && p->dates[t] == ymd ? t : -1;
}

double panel_return(const panel *p, int t, int i) {
  if (t < 1 || t >= p->n_dates || i < 0 || i >= p->n_stocks) return NAN;
  size_t a = panel_at(p, t, i), b = panel_at(p, t - 1, i);
  if (!(p->flags[a] & PANEL_LISTED) || !(p->flags[b] & PANEL_LISTED)) return NAN;
  return p->f[PF_CLOSE][a] * p->f[PF_ADJ][a] / (p->f[PF_CLOSE][b] * p->f[PF_ADJ][b]) - 1.0;
}

int panel_index_snapshot(const panel *p, int index, int t) {
  if (index < 0 || index >= PANEL_N_INDEX) return -1;
  const panel_index *I = &p->index[index];
  int lo = 0, hi = I->n_snap - 1, best = -1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (I->snap_t[mid] <= t) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

int panel_index_weights(const panel *p, int index, int t, double *w, uint8_t *is_member) {
  for (int i = 0; i < p->n_stocks; i++) {
    w[i] = 0;
    if (is_member) is_member[i] = 0;
  }
  int s = panel_index_snapshot(p, index, t);
  if (s < 0) return 0;
  const panel_index *I = &p->index[index];
  for (size_t k = I->snap_first[s]; k < I->snap_first[s + 1]; k++) {
    w[I->member[k]] = I->weight[k];
    if (is_member) is_member[I->member[k]] = 1;
  }
  return (int)(I->snap_first[s + 1] - I->snap_first[s]);
}

/* Last finite adjusted close of stock i on a date in [t0, t], or NaN. */
static double last_adj_close(const panel *p, int t0, int t, int i) {
  for (int u = t; u >= t0; u--) {
    const size_t a = panel_at(p, u, i);
    const double c = p->f[PF_CLOSE][a] * p->f[PF_ADJ][a];
    if ((p->flags[a] & PANEL_LISTED) && isfinite(c) && c > 0) return c;
  }
  return NAN;
}

int panel_index_weights_drifted(const panel *p, int index, int t, double *w, uint8_t *is_member) {
  const int m = panel_index_weights(p, index, t, w, is_member);
  if (m <= 0) return m;
  const panel_index *I = &p->index[index];
  const int s = panel_index_snapshot(p, index, t), ts = I->snap_t[s];
  if (ts == t) return m;
  double sum = 0;
  for (size_t k = I->snap_first[s]; k < I->snap_first[s + 1]; k++) {
    const int i = I->member[k];
    const double c0 = last_adj_close(p, 0, ts, i), c1 = last_adj_close(p, ts, t, i);
    /* a member without a price at the snapshot, or none since, keeps its snapshot weight's units */
    const double r = isfinite(c0) && isfinite(c1) ? c1 / c0 : 1.0;
    w[i] *= r;
    sum += w[i];
  }
  if (sum > 0)
    for (size_t k = I->snap_first[s]; k < I->snap_first[s + 1]; k++) w[I->member[k]] /= sum;
  return m;
}

double panel_fund_asof(const panel *p, panel_fund_field f, int i, int32_t ymd) {
  const panel_fundamentals *F = &p->fund;
  if (!F->first || i < 0 || i >= p->n_stocks || (unsigned)f >= PFUND_N_FIELDS) return NAN;
  size_t lo = F->first[i], hi = F->first[i + 1];
  /* last record with date <= ymd */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (F->date[mid] <= ymd) lo = mid + 1;
    else hi = mid;
  }
  for (size_t k = lo; k-- > F->first[i];)
    if (!isnan(F->v[f][k])) return F->v[f][k];
  return NAN;
}

int panel_week_ends(const panel *p, int *out) {
  int n = 0;
  for (int t = 0; t < p->n_dates; t++) {
    /* ISO weeks start on Monday; 1970-01-05 was a Monday */
    int32_t w = (zz_date_to_days(p->dates[t]) - 4 + 7 * 100000) / 7;
    int32_t wn = t + 1 < p->n_dates ? (zz_date_to_days(p->dates[t + 1]) - 4 + 7 * 100000) / 7 : w + 1;
    if (wn != w) out[n++] = t;
  }
  return n;
}

void panel_print_summary(const panel *p, FILE *f) {
  char a[11], b[11];
  if (p->n_dates == 0) {
    fprintf(f, "empty panel\n");
    return;
  }
  fprintf(f, "dates:          %s .. %s (%d trading days)\n", zz_date_format(p->dates[0], a),
          zz_date_format(p->dates[p->n_dates - 1], b), p->n_dates);
  int nb[4] = {0, 0, 0, 0};
  for (int i = 0; i < p->n_stocks; i++) nb[p->stocks[i].board & 3]++;
  fprintf(f, "stocks:         %d (main %d, chinext %d, star %d, bse %d)\n", p->n_stocks, nb[0], nb[1], nb[2], nb[3]);
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    const panel_index *I = &p->index[k];
    if (!I->present) continue;
    int s0 = panel_index_snapshot(p, k, 0), s1 = panel_index_snapshot(p, k, p->n_dates - 1);
    long m0 = s0 < 0 ? 0 : (long)(I->snap_first[s0 + 1] - I->snap_first[s0]);
    long m1 = s1 < 0 ? 0 : (long)(I->snap_first[s1 + 1] - I->snap_first[s1]);
    fprintf(f, "%-8s        members %ld on %s, %ld on %s (%d snapshots)\n", zz_index_name(k), m0, a, m1, b, I->n_snap);
  }
  size_t listed = 0, susp = 0, up = 0, down = 0, cells = (size_t)p->n_dates * (size_t)p->n_stocks;
  for (size_t c = 0; c < cells; c++) {
    uint8_t fl = p->flags[c];
    listed += (fl & PANEL_LISTED) != 0;
    susp += (fl & PANEL_SUSPENDED) != 0;
    up += (fl & PANEL_LIMIT_UP) != 0;
    down += (fl & PANEL_LIMIT_DOWN) != 0;
  }
  fprintf(f, "stock-days:     %zu listed, %zu suspended (%.2f %%)\n", listed, susp,
          listed ? 100.0 * (double)susp / (double)listed : 0.0);
  fprintf(f, "limit closes:   %zu limit-up, %zu limit-down\n", up, down);
  fprintf(f, "industries:     %d\n", p->n_industries);
  fprintf(f, "fundamentals:   %zu records\n", p->fund.n);
  for (int k = 0; k < p->n_datasets; k++)
    fprintf(f, "dataset:        %s (%d columns)\n", p->datasets[k].name, p->datasets[k].n_cols);
}
