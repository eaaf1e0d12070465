/* feat_day.c — model inputs: the "day" dataset from bars, extra datasets from features/<name>.csv, and
 * the per-feature preprocessing (winsorise median +- 7 MAD, standardise, fill 0) fitted on a
 * training period and saved in model files as a one-line string. See model.h. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct feat_ctx {
  const panel *p;
  char dataset[64];
  int ds;        /* -1: day dataset, else index into p->datasets */
  int seq, n_feat;
  double *vol_rel; /* day: n_dates x n_stocks, volume/adj relative to its 20-day mean */
  int32_t *run;    /* day: consecutive days ending at (t, i) whose 6 per-day inputs are finite */
};

static int day_inputs_ok(const panel *p, size_t k) {
  if (!(p->flags[k] & PANEL_LISTED)) return 0;
  const double adj = p->f[PF_ADJ][k];
  if (!isfinite(adj) || adj <= 0) return 0;
  const panel_field fs[5] = {PF_OPEN, PF_HIGH, PF_LOW, PF_CLOSE, PF_VWAP};
  for (int j = 0; j < 5; j++) {
    const double v = p->f[fs[j]][k];
    if (!isfinite(v) || v <= 0) return 0;
  }
  return 1;
}

int feat_create(feat_ctx **out, const panel *p, const char *dataset, int seq, zz_err *err) {
  *out = NULL;
  if (seq < 1 || seq > 1000) return zz_fail(err, ZZ_EUSAGE, "sequence length %d: expected 1..1000", seq);
  if (!dataset || !*dataset) dataset = "day";
  if (strlen(dataset) >= 64) return zz_fail(err, ZZ_EUSAGE, "dataset name '%s' is too long", dataset);
  int ds = -1, nf = FEAT_DAY_N;
  if (strcmp(dataset, "day") != 0) {
    for (int d = 0; d < p->n_datasets; d++)
      if (!strcmp(p->datasets[d].name, dataset)) ds = d;
    if (ds < 0)
      return zz_fail(err, ZZ_EUSAGE,
                     "dataset '%s': not 'day' and no features/%s.csv in the market directory (%d extra "
                     "datasets loaded)", dataset, dataset, p->n_datasets);
    nf = p->datasets[ds].n_cols;
    if (nf < 1) return zz_fail(err, ZZ_EDATA, "dataset '%s' has no feature columns", dataset);
  }
  feat_ctx *c = calloc(1, sizeof *c);
  if (!c) return zz_fail(err, ZZ_ENOMEM, "out of memory for the feature context");
  c->p = p;
  snprintf(c->dataset, sizeof c->dataset, "%s", dataset);
  c->ds = ds;
  c->seq = seq;
  c->n_feat = nf;
  if (ds < 0) {
    const int T = p->n_dates, N = p->n_stocks;
    const size_t n = (size_t)T * (size_t)N;
    c->vol_rel = malloc((n ? n : 1) * sizeof *c->vol_rel);
    c->run = malloc((n ? n : 1) * sizeof *c->run);
    if (!c->vol_rel || !c->run) {
      feat_free(c);
      return zz_fail(err, ZZ_ENOMEM, "out of memory for %d x %d day features", T, N);
    }
    for (int i = 0; i < N; i++) {
      /* mean of volume/adj over the last FEAT_VOL_WINDOW days (a ring), restarted after a gap */
      double ring[FEAT_VOL_WINDOW];
      int cnt = 0;
      for (int t = 0; t < T; t++) {
        const size_t k = panel_at(p, t, i);
        const double vol = p->f[PF_VOLUME][k], adj = p->f[PF_ADJ][k];
        double v = NAN;
        if ((p->flags[k] & PANEL_LISTED) && isfinite(vol) && vol >= 0 && isfinite(adj) && adj > 0)
          v = vol / adj;
        c->vol_rel[k] = NAN;
        if (!isfinite(v)) {
          cnt = 0;
        } else {
          ring[t % FEAT_VOL_WINDOW] = v;
          if (cnt < FEAT_VOL_WINDOW) cnt++;
          if (cnt == FEAT_VOL_WINDOW) {
            double sum = 0; /* oldest first, the same order as the reference */
            for (int j = FEAT_VOL_WINDOW - 1; j >= 0; j--) sum += ring[(t - j) % FEAT_VOL_WINDOW];
            const double mean = sum / FEAT_VOL_WINDOW;
            if (mean > 0) c->vol_rel[k] = v / mean;
          }
        }
        const int ok = day_inputs_ok(p, k) && isfinite(c->vol_rel[k]);
        c->run[k] = ok ? (t > 0 ? c->run[panel_at(p, t - 1, i)] : 0) + 1 : 0;
      }
    }
  }
  *out = c;
  return ZZ_OK;
}

void feat_free(feat_ctx *c) {
  if (!c) return;
  free(c->vol_rel);
  free(c->run);
  free(c);
}

int feat_n_features(const feat_ctx *c) { return c->n_feat; }
int feat_seq(const feat_ctx *c) { return c->seq; }
const char *feat_dataset(const feat_ctx *c) { return c->dataset; }

int feat_valid(const feat_ctx *c, int t, int i) {
  const panel *p = c->p;
  if (t < c->seq - 1 || t >= p->n_dates || i < 0 || i >= p->n_stocks) return 0;
  const size_t k = panel_at(p, t, i);
  if (!(p->flags[k] & PANEL_LISTED) || (p->flags[k] & PANEL_SUSPENDED)) return 0;
  if (c->ds < 0) return c->run[k] >= c->seq;
  /* an extra dataset: the stock needs a row with at least one finite value on day t */
  const panel_dataset *d = &p->datasets[c->ds];
  for (int f = 0; f < c->n_feat; f++)
    if (isfinite(d->values[k * (size_t)c->n_feat + (size_t)f])) return 1;
  return 0;
}

/* Raw window into x[seq * F]; the caller has checked validity. */
static void raw_window(const feat_ctx *c, int t, int i, double *x) {
  const panel *p = c->p;
  const int F = c->n_feat, S = c->seq;
  if (c->ds < 0) {
    const size_t kt = panel_at(p, t, i);
    const double last = p->f[PF_CLOSE][kt] * p->f[PF_ADJ][kt];
    for (int s = 0; s < S; s++) {
      const size_t k = panel_at(p, t - S + 1 + s, i);
      const double adj = p->f[PF_ADJ][k];
      double *r = x + (size_t)s * F;
      r[0] = p->f[PF_OPEN][k] * adj / last;
      r[1] = p->f[PF_HIGH][k] * adj / last;
      r[2] = p->f[PF_LOW][k] * adj / last;
      r[3] = p->f[PF_CLOSE][k] * adj / last;
      r[4] = p->f[PF_VWAP][k] * adj / last;
      r[5] = c->vol_rel[k];
    }
  } else {
    const panel_dataset *d = &p->datasets[c->ds];
    for (int s = 0; s < S; s++) {
      const size_t k = panel_at(p, t - S + 1 + s, i);
      for (int f = 0; f < F; f++) {
        const double v = d->values[k * (size_t)F + (size_t)f];
        x[(size_t)s * F + f] = isfinite(v) ? v : NAN;
      }
    }
  }
}

int feat_raw_window(const feat_ctx *c, int t, int i, double *x) {
  const size_t n = (size_t)c->seq * (size_t)c->n_feat;
  if (!feat_valid(c, t, i)) {
    for (size_t j = 0; j < n; j++) x[j] = NAN;
    return 0;
  }
  raw_window(c, t, i, x);
  return 1;
}

/* --------------------------------------------------------------- preprocessing */

feat_prep *feat_prep_create(int n_feat) {
  feat_prep *pp = calloc(1, sizeof *pp);
  if (!pp) return NULL;
  pp->n_feat = n_feat;
  double **arrs[6] = {&pp->med, &pp->mad, &pp->lo, &pp->hi, &pp->mean, &pp->std};
  for (int j = 0; j < 6; j++) {
    *arrs[j] = calloc((size_t)(n_feat > 0 ? n_feat : 1), sizeof(double));
    if (!*arrs[j]) {
      feat_prep_free(pp);
      return NULL;
    }
  }
  return pp;
}

void feat_prep_free(feat_prep *pp) {
  if (!pp) return;
  free(pp->med);
  free(pp->mad);
  free(pp->lo);
  free(pp->hi);
  free(pp->mean);
  free(pp->std);
  free(pp);
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median_sorted(const double *v, size_t n) {
  if (n == 0) return NAN;
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int feat_prep_fit(const feat_ctx *c, int t0, int t1, int stride, feat_prep **out, zz_err *err) {
  *out = NULL;
  const panel *p = c->p;
  const int F = c->n_feat, S = c->seq;
  if (stride < 1) stride = 1;
  if (t0 < 0) t0 = 0;
  if (t1 >= p->n_dates) t1 = p->n_dates - 1;
  if (t1 < t0) return zz_fail(err, ZZ_EUSAGE, "preprocessing: empty fitting period");
  size_t n_win = 0;
  for (int t = t0; t <= t1; t += stride)
    for (int i = 0; i < p->n_stocks; i++) n_win += (size_t)feat_valid(c, t, i);
  if (n_win == 0)
    return zz_fail(err, ZZ_EDATA,
                   "preprocessing: no valid %d-day '%s' window on %d..%d (too little history?)", S,
                   c->dataset, p->dates[t0], p->dates[t1]);
  const size_t per = n_win * (size_t)S;
  double *vals = malloc((size_t)F * per * sizeof *vals);
  double *win = malloc((size_t)S * (size_t)F * sizeof *win);
  size_t *cnt = calloc((size_t)F, sizeof *cnt);
  feat_prep *pp = feat_prep_create(F);
  if (!vals || !win || !cnt || !pp) {
    free(vals), free(win), free(cnt), feat_prep_free(pp);
    return zz_fail(err, ZZ_ENOMEM, "out of memory fitting preprocessing on %zu windows", n_win);
  }
  for (int t = t0; t <= t1; t += stride)
    for (int i = 0; i < p->n_stocks; i++) {
      if (!feat_valid(c, t, i)) continue;
      raw_window(c, t, i, win);
      for (int s = 0; s < S; s++)
        for (int f = 0; f < F; f++) {
          const double v = win[(size_t)s * F + f];
          if (isfinite(v)) vals[(size_t)f * per + cnt[f]++] = v;
        }
    }
  for (int f = 0; f < F; f++) {
    double *v = vals + (size_t)f * per;
    const size_t n = cnt[f];
    if (n == 0) {
      pp->med[f] = pp->mad[f] = pp->mean[f] = 0;
      pp->lo[f] = -INFINITY, pp->hi[f] = INFINITY;
      pp->std[f] = 1;
      continue;
    }
    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted) {
      free(vals), free(win), free(cnt), feat_prep_free(pp);
      return zz_fail(err, ZZ_ENOMEM, "out of memory fitting preprocessing");
    }
    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    const double med = median_sorted(sorted, n);
    for (size_t j = 0; j < n; j++) sorted[j] = fabs(v[j] - med);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    const double mad = median_sorted(sorted, n);
    free(sorted);
    const double lo = med - FEAT_MAD_K * mad, hi = med + FEAT_MAD_K * mad;
    double sum = 0;
    for (size_t j = 0; j < n; j++) sum += fmin(fmax(v[j], lo), hi);
    const double mean = sum / (double)n;
    double ss = 0;
    for (size_t j = 0; j < n; j++) {
      const double d = fmin(fmax(v[j], lo), hi) - mean;
      ss += d * d;
    }
    const double sd = sqrt(ss / (double)n);
    pp->med[f] = med, pp->mad[f] = mad, pp->lo[f] = lo, pp->hi[f] = hi;
    pp->mean[f] = mean;
    pp->std[f] = sd > 0 && isfinite(sd) ? sd : 1;
  }
  free(vals), free(win), free(cnt);
  snprintf(pp->dataset, sizeof pp->dataset, "%s", c->dataset);
  pp->seq = S;
  pp->stride = stride;
  pp->fit_first = p->dates[t0];
  pp->fit_last = p->dates[t1];
  *out = pp;
  return ZZ_OK;
}

void feat_batch(const feat_ctx *c, const feat_prep *pp, int t, const int *idx, int n, float *x) {
  const int F = c->n_feat, S = c->seq;
  const size_t row = (size_t)S * (size_t)F;
  double win[4096];
  double *w = row <= 4096 ? win : malloc(row * sizeof *w);
  for (int r = 0; r < n; r++) {
    float *xr = x + (size_t)r * row;
    if (!w || !feat_valid(c, t, idx[r])) {
      memset(xr, 0, row * sizeof *xr);
      continue;
    }
    raw_window(c, t, idx[r], w);
    for (size_t j = 0; j < row; j++) {
      const int f = (int)(j % (size_t)F);
      const double v = w[j];
      xr[j] = isfinite(v) ? (float)((fmin(fmax(v, pp->lo[f]), pp->hi[f]) - pp->mean[f]) / pp->std[f]) : 0.0f;
    }
  }
  if (w != win) free(w);
}

/* ------------------------------------------------------------ text form */

static void put_array(char **buf, size_t *len, size_t *cap, const char *key, const double *a, int n) {
  char tmp[64];
  for (int pass = 0; pass < 1; pass++) {
    size_t need = strlen(key) + 2 + (size_t)n * 28;
    if (*len + need + 1 > *cap) {
      size_t nc = (*cap + need + 1) * 2;
      char *nb = realloc(*buf, nc);
      if (!nb) {
        free(*buf);
        *buf = NULL;
        return;
      }
      *buf = nb, *cap = nc;
    }
    *len += (size_t)sprintf(*buf + *len, ";%s=", key);
    for (int j = 0; j < n; j++)
      *len += (size_t)sprintf(*buf + *len, "%s%s", j ? "," : "", zz_fmt_double(tmp, sizeof tmp, a[j]));
  }
}

char *feat_prep_to_string(const feat_prep *pp) {
  size_t cap = 256, len = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  len = (size_t)snprintf(buf, cap, "feat_prep v1;dataset=%s;seq=%d;n=%d;stride=%d;fit=%d-%d", pp->dataset,
                         pp->seq, pp->n_feat, pp->stride, (int)pp->fit_first, (int)pp->fit_last);
  const char *keys[6] = {"med", "mad", "lo", "hi", "mean", "std"};
  const double *arrs[6] = {pp->med, pp->mad, pp->lo, pp->hi, pp->mean, pp->std};
  for (int j = 0; j < 6 && buf; j++) put_array(&buf, &len, &cap, keys[j], arrs[j], pp->n_feat);
  return buf;
}

static int parse_array(const char *s, const char *key, double *a, int n, zz_err *err) {
  char pat[32];
  snprintf(pat, sizeof pat, ";%s=", key);
  const char *q = strstr(s, pat);
  if (!q) return zz_fail(err, ZZ_EDATA, "feature preprocessing metadata: missing '%s'", key);
  q += strlen(pat);
  for (int j = 0; j < n; j++) {
    char *end;
    if (!strncmp(q, "inf", 3) || !strncmp(q, "-inf", 4)) {
      a[j] = *q == '-' ? -INFINITY : INFINITY;
      end = (char *)q + (*q == '-' ? 4 : 3);
    } else {
      a[j] = strtod(q, &end);
    }
    if (end == q) return zz_fail(err, ZZ_EDATA, "feature preprocessing metadata: bad number in '%s'", key);
    q = end;
    if (j + 1 < n) {
      if (*q != ',') return zz_fail(err, ZZ_EDATA, "feature preprocessing metadata: '%s' has fewer than %d values", key, n);
      q++;
    }
  }
  return ZZ_OK;
}

int feat_prep_from_string(const char *s, feat_prep **out, zz_err *err) {
  *out = NULL;
  char ds[64] = {0};
  int seq = 0, n = 0, stride = 0, f0 = 0, f1 = 0;
  if (!s || sscanf(s, "feat_prep v1;dataset=%63[^;];seq=%d;n=%d;stride=%d;fit=%d-%d", ds, &seq, &n, &stride, &f0,
                   &f1) != 6 || n < 1 || n > 100000 || seq < 1)
    return zz_fail(err, ZZ_EDATA, "feature preprocessing metadata: expected 'feat_prep v1;dataset=..;seq=..', found '%.60s'",
                   s ? s : "(none)");
  feat_prep *pp = feat_prep_create(n);
  if (!pp) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  snprintf(pp->dataset, sizeof pp->dataset, "%s", ds);
  pp->seq = seq, pp->stride = stride, pp->fit_first = f0, pp->fit_last = f1;
  const char *keys[6] = {"med", "mad", "lo", "hi", "mean", "std"};
  double *arrs[6] = {pp->med, pp->mad, pp->lo, pp->hi, pp->mean, pp->std};
  for (int j = 0; j < 6; j++) {
    int rc = parse_array(s, keys[j], arrs[j], n, err);
    if (rc) {
      feat_prep_free(pp);
      return rc;
    }
  }
  *out = pp;
  return ZZ_OK;
}
