/* synth_index.c — CSI300 / CSI500 / CSI1000 of the synthetic market: semi-annual reviews ranking
 * eligible stocks by average float market cap, exactly 300 / 500 / 1000 members on every date
 * (a delisting member is replaced on its last trading day by the next ranked stock, cascading down
 * the three indices), float-cap weights that drift with adjusted prices between reviews, and
 * total-return index closes R_t = sum_i w_{i,t-1} r_{i,t}, and beside them price-index closes from the
 * same weights and the stocks' price returns (cash dividends left out). */
#include "synth_private.h"

#include <stdlib.h>
#include <string.h>

static const int index_size[PANEL_N_INDEX] = {300, 500, 1000};
static const double index_base[PANEL_N_INDEX] = {3000.0, 4000.0, 5000.0};

typedef struct { double key; int idx; } rank_item;
struct synth_index {
  int n;
  int8_t *member_of;  /* -1 or PANEL_CSI300 .. PANEL_CSI1000 */
  double *units;      /* index units: weight_i ∝ units_i * close_i * adj_i */
  double *w;          /* weight at the last close (fraction of its index) */
  double *cap_sum;    /* float market cap summed since the last review */
  int *cap_cnt;
  int *ranked, n_ranked; /* the last review's ranking, best first */
  int pending;        /* a review ranking waits for its effective day */
  uint8_t *review;    /* per calendar day: 1 on review days, 2 on effective days */
  double close[PANEL_N_INDEX];
  double close_px[PANEL_N_INDEX]; /* price index: sum_i w_{i,t-1} ret_px_{i,t} */
  rank_item *tmp;     /* scratch for ranking */
};

static int cmp_rank(const void *a, const void *b) {
  const rank_item *x = a, *y = b;
  if (x->key != y->key) return x->key > y->key ? -1 : 1;
  return x->idx - y->idx;
}

int synth_index_create(synth_index **out, const synth_market *m, zz_err *err) {
  *out = NULL;
  synth_index *x = calloc(1, sizeof *x);
  if (!x) return zz_fail(err, ZZ_ENOMEM, "out of memory for the indices");
  x->n = m->n;
  x->member_of = malloc((size_t)m->n);
  x->units = calloc((size_t)m->n, sizeof *x->units);
  x->w = calloc((size_t)m->n, sizeof *x->w);
  x->cap_sum = calloc((size_t)m->n, sizeof *x->cap_sum);
  x->cap_cnt = calloc((size_t)m->n, sizeof *x->cap_cnt);
  x->ranked = malloc((size_t)m->n * sizeof *x->ranked);
  x->tmp = malloc((size_t)m->n * sizeof *x->tmp);
  x->review = calloc((size_t)m->n_days, 1);
  if (!x->member_of || !x->units || !x->w || !x->cap_sum || !x->cap_cnt || !x->ranked || !x->tmp || !x->review) {
    synth_index_free(x);
    return zz_fail(err, ZZ_ENOMEM, "out of memory for the indices");
  }
  memset(x->member_of, -1, (size_t)m->n);
  for (int k = 0; k < PANEL_N_INDEX; k++) x->close[k] = x->close_px[k] = index_base[k];
  /* reviews: June and December; effective the first trading day after the second Friday, ranked on
   * the trading day before */
  for (int t = 1; t < m->n_days; t++) {
    const int32_t d = m->dates[t], prev = m->dates[t - 1];
    const int mo = d / 100 % 100;
    if (mo != 6 && mo != 12) continue;
    /* second Friday of the month */
    int32_t first = d / 100 * 100 + 1;
    int wd = zz_date_weekday(first);
    int fri = 1 + (5 - wd + 7) % 7 + 7;
    int32_t second_friday = d / 100 * 100 + fri;
    if (d > second_friday && prev <= second_friday) {
      x->review[t - 1] = 1;
      x->review[t] = 2;
    }
  }
  *out = x;
  return ZZ_OK;
}

void synth_index_free(synth_index *x) {
  if (!x) return;
  free(x->member_of);
  free(x->units);
  free(x->w);
  free(x->cap_sum);
  free(x->cap_cnt);
  free(x->ranked);
  free(x->tmp);
  free(x->review);
  free(x);
}

double synth_index_close(const synth_index *x, int k) { return x->close[k]; }
double synth_index_close_price(const synth_index *x, int k) { return x->close_px[k]; }
int synth_index_review_day(const synth_index *x, int t) { return x->review[t]; }

int synth_index_member(const synth_index *x, int i, double *w) {
  if (w) *w = x->w[i];
  return x->member_of[i];
}

static int eligible(const synth_stock *s, int t, int n_days) {
  return synth_listed(s, t) && t - s->list_t >= SYNTH_LISTED_DAYS && !s->st && s->has_bar &&
         (s->delist_t > t + 2 || s->delist_t >= n_days);
}

static void join(synth_index *x, const synth_market *m, int i, int k) {
  x->member_of[i] = (int8_t)k;
  x->units[i] = (double)m->s[i].float_shares / m->s[i].adj;
}

/* Index k lost a member on day t: take the best-ranked live stock outside indices 0..k; if it came
 * from a lower index, that index is replenished in turn. */
static int replace(synth_index *x, const synth_market *m, int k, int t, zz_err *err) {
  for (int r = 0; r < x->n_ranked; r++) {
    const int c = x->ranked[r];
    const synth_stock *s = &m->s[c];
    if (x->member_of[c] >= 0 && x->member_of[c] <= k) continue;
    if (!synth_listed(s, t) || (s->delist_t <= t + 1 && s->delist_t < m->n_days) || s->st) continue;
    const int from = x->member_of[c];
    join(x, m, c, k);
    return from >= 0 ? replace(x, m, from, t, err) : ZZ_OK;
  }
  return zz_fail(err, ZZ_EDATA, "%d: no stock left to replace a delisted member of %s: use more --stocks",
                 (int)m->dates[t], zz_index_name(k));
}

int synth_index_step(synth_index *x, const synth_market *m, int t, zz_err *err) {
  const int n = m->n;
  /* 1. index returns over day t with the weights of t-1's close */
  if (t > 0) {
    double R[PANEL_N_INDEX] = {0, 0, 0}, P[PANEL_N_INDEX] = {0, 0, 0};
    for (int i = 0; i < n; i++)
      if (x->member_of[i] >= 0) {
        R[x->member_of[i]] += x->w[i] * m->s[i].ret;
        P[x->member_of[i]] += x->w[i] * m->s[i].ret_px;
      }
    for (int k = 0; k < PANEL_N_INDEX; k++) {
      x->close[k] *= 1 + R[k];
      x->close_px[k] *= 1 + P[k];
    }
  }
  /* 2. average float caps for the next review */
  for (int i = 0; i < n; i++) {
    const synth_stock *s = &m->s[i];
    if (!synth_listed(s, t)) continue;
    x->cap_sum[i] += (double)s->float_shares * (double)s->close_c / 100.0;
    x->cap_cnt[i]++;
  }
  /* 3. review: rank the eligible stocks */
  if (t == 0 || x->review[t] == 1) {
    int ne = 0;
    for (int i = 0; i < n; i++) {
      const double key = x->cap_cnt[i] ? x->cap_sum[i] / x->cap_cnt[i] : 0;
      if (eligible(&m->s[i], t, m->n_days) || (t == 0 && synth_listed(&m->s[i], t) && !m->s[i].st))
        x->tmp[ne++] = (rank_item){key, i};
      x->cap_sum[i] = 0;
      x->cap_cnt[i] = 0;
    }
    int need = 0;
    for (int k = 0; k < PANEL_N_INDEX; k++) need += index_size[k];
    if (ne < need)
      return zz_fail(err, ZZ_EDATA,
                     "index review on %d: only %d eligible stocks (listed >= %d days, not ST, trading), %d needed "
                     "for CSI300 + CSI500 + CSI1000: use more --stocks",
                     (int)m->dates[t], ne, SYNTH_LISTED_DAYS, need);
    qsort(x->tmp, (size_t)ne, sizeof *x->tmp, cmp_rank);
    for (int r = 0; r < ne; r++) x->ranked[r] = x->tmp[r].idx;
    x->n_ranked = ne;
    x->pending = 1;
  }
  /* 4. effective day: the new memberships */
  if (x->pending && (t == 0 || x->review[t] == 2)) {
    memset(x->member_of, -1, (size_t)n);
    int r = 0;
    for (int k = 0; k < PANEL_N_INDEX; k++)
      for (int c = 0; c < index_size[k]; c++) join(x, m, x->ranked[r++], k);
    x->pending = 0;
  }
  /* 5. a member trading for the last time today leaves now, replaced by the next ranked stock */
  for (int i = 0; i < n; i++) {
    if (x->member_of[i] < 0 || m->s[i].delist_t != t + 1 || m->s[i].delist_t >= m->n_days) continue;
    const int k = x->member_of[i];
    x->member_of[i] = -1;
    int rc = replace(x, m, k, t, err);
    if (rc) return rc;
  }
  /* 6. weights at today's close */
  double sum[PANEL_N_INDEX] = {0, 0, 0};
  for (int i = 0; i < n; i++)
    if (x->member_of[i] >= 0) {
      x->w[i] = x->units[i] * (double)m->s[i].close_c * m->s[i].adj;
      sum[x->member_of[i]] += x->w[i];
    } else {
      x->w[i] = 0;
    }
  for (int i = 0; i < n; i++)
    if (x->member_of[i] >= 0) x->w[i] /= sum[x->member_of[i]];
  return ZZ_OK;
}
