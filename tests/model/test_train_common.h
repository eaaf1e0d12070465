/* test_train_common.h — a small hand-built panel for the training tests: weekdays of [y0, y1], n stocks
 * in 3 industries, random-walk prices whose next returns depend on the last 5 days' return (a signal a
 * model can learn), an ex-rights day, a suspension and a late listing. Deterministic from seed. */
#ifndef TEST_TRAIN_COMMON_H
#define TEST_TRAIN_COMMON_H

#include "data.h"
#include "model.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t tt_state;
static inline double tt_uniform(void) {
  uint64_t z = (tt_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return ((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}
static inline double tt_normal(void) {
  double u = tt_uniform(), v = tt_uniform();
  return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static inline panel *tt_panel(int y0, int y1, int n, uint64_t seed) {
  tt_state = seed;
  panel *p = calloc(1, sizeof *p);
  int cap = (y1 - y0 + 1) * 262, T = 0;
  p->dates = malloc((size_t)cap * sizeof *p->dates);
  for (int32_t d = zz_date_to_days(y0 * 10000 + 101); zz_days_to_date(d) <= y1 * 10000 + 1231; d++)
    if (zz_date_weekday(zz_days_to_date(d)) <= 5) p->dates[T++] = zz_days_to_date(d);
  p->n_dates = T, p->n_stocks = n;
  p->stocks = calloc((size_t)n, sizeof *p->stocks);
  for (int i = 0; i < n; i++) snprintf(p->stocks[i].code, ZZ_CODE_LEN, "%06d.SZ", i + 1);
  const size_t nn = (size_t)T * n;
  for (int k = 0; k < PF_N_FIELDS; k++) {
    p->f[k] = malloc(nn * sizeof(double));
    for (size_t j = 0; j < nn; j++) p->f[k][j] = NAN;
  }
  p->flags = calloc(nn, 1);
  p->n_industries = 3;
  p->industry_names = calloc(3, 64);
  for (int g = 0; g < 3; g++) snprintf(p->industry_names[g], 64, "IND%d", g);
  p->industry = malloc(nn * sizeof *p->industry);
  for (int i = 0; i < n; i++) {
    double c = 10 + 10 * tt_uniform(), adj = 1, r5[5] = {0};
    const int first = i == n - 1 ? T / 3 : 0;
    for (int t = 0; t < T; t++) {
      const size_t k = panel_at(p, t, i);
      p->industry[k] = (int16_t)(i % 3);
      if (t < first) continue;
      const double past = r5[0] + r5[1] + r5[2] + r5[3] + r5[4];
      const double r = -0.15 * past + 0.02 * tt_normal();
      for (int j = 4; j > 0; j--) r5[j] = r5[j - 1];
      r5[0] = r;
      c *= 1 + r;
      if (i == 2 && t == T / 2) adj *= 2; /* ex-rights: unadjusted price halves */
      const int susp = i == 4 && t % 97 < 3;
      p->flags[k] = PANEL_LISTED | (susp ? PANEL_SUSPENDED : PANEL_HAS_BAR);
      const double cu = c / adj, prev = t > first ? p->f[PF_CLOSE][k - (size_t)n] : cu;
      if (susp) {
        p->f[PF_OPEN][k] = p->f[PF_HIGH][k] = p->f[PF_LOW][k] = p->f[PF_CLOSE][k] = p->f[PF_VWAP][k] = prev;
        p->f[PF_VOLUME][k] = p->f[PF_AMOUNT][k] = 0;
        p->f[PF_ADJ][k] = t > first ? p->f[PF_ADJ][k - (size_t)n] : adj;
        c = prev * p->f[PF_ADJ][k];
      } else {
        const double o = cu * (1 + 0.005 * tt_normal());
        p->f[PF_OPEN][k] = o;
        p->f[PF_CLOSE][k] = cu;
        p->f[PF_HIGH][k] = fmax(o, cu) * (1 + 0.004 * tt_uniform());
        p->f[PF_LOW][k] = fmin(o, cu) * (1 - 0.004 * tt_uniform());
        p->f[PF_VWAP][k] = 0.5 * (o + cu);
        p->f[PF_VOLUME][k] = (1 + 3 * tt_uniform()) * 1e6 * adj * (1 + 20 * fabs(r));
        p->f[PF_AMOUNT][k] = p->f[PF_VOLUME][k] * p->f[PF_VWAP][k];
        p->f[PF_ADJ][k] = adj;
      }
      p->f[PF_FLOAT_MV][k] = p->f[PF_CLOSE][k] * 1e8 * (1 + i % 7);
      p->f[PF_TOTAL_MV][k] = 1.5 * p->f[PF_FLOAT_MV][k];
    }
  }
  return p;
}

/* Copies the whole file at path into a malloc'ed buffer; *n gets its size. NULL if unreadable. */
static inline unsigned char *tt_slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)len + 1);
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = (size_t)len;
  return b;
}

static inline int tt_same_file(const char *a, const char *b) {
  size_t na = 0, nb = 0;
  unsigned char *x = tt_slurp(a, &na), *y = tt_slurp(b, &nb);
  const int same = x && y && na == nb && memcmp(x, y, na) == 0;
  free(x), free(y);
  return same;
}

/* Removes the files of a directory left by an earlier run, then the directory (one level). */
static inline void tt_clean_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[8400];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < sizeof path) unlink(path);
    }
  closedir(d);
  rmdir(dir);
}

/* Trains `to` for `year` again into tmp/name and compares its model file with model_path byte for byte
 * (training is deterministic given the seed); 1 when they are equal. The directory is removed. */
static inline int tt_rerun_same(const panel *p, const train_opts *to, int year, const char *tmp, const char *name,
                                const char *model_path, zz_err *err) {
  char dir[4200], mp[4300];
  int stopped = 0;
  snprintf(dir, sizeof dir, "%s/%s", tmp, name);
  tt_clean_dir(dir);
  const int rc = train_year(p, to, year, dir, &stopped, err);
  snprintf(mp, sizeof mp, "%s/Y%d_seed0.zzm", dir, year);
  const int same = rc == 0 && tt_same_file(model_path, mp);
  tt_clean_dir(dir);
  return same;
}

/* Scores `year` with the models in dir into dir/scores.csv (score_write_ex) and reads the table back; NULL,
 * with err, when either fails. */
static inline score_table *tt_score_year(const panel *p, const char *dir, int year, zz_err *err) {
  char sp[4200];
  score_table *st = NULL;
  snprintf(sp, sizeof sp, "%s/scores.csv", dir);
  if (score_write_ex(p, dir, year, year, 0, 0, NULL, sp, err) || score_table_read(sp, p, &st, err)) return NULL;
  return st;
}

/* The best validation RankIC a model file records in its extra text ("val_rankic=..."); NAN if absent. */
static inline double tt_val_rankic(const void *extra) {
  const char *v = extra ? strstr((const char *)extra, "val_rankic=") : NULL;
  return v ? atof(v + 11) : NAN;
}

/* Mean over the panel's days of the Spearman correlation between score and r (days with at least 10
 * stocks having both); *days gets how many days counted. NAN when none. */
static inline double tt_mean_rankic(const panel *p, const double *score, const double *r, int *days) {
  const int T = p->n_dates, N = p->n_stocks;
  double sum = 0, *a = malloc((size_t)(N ? N : 1) * sizeof *a), *b = malloc((size_t)(N ? N : 1) * sizeof *b);
  *days = 0;
  for (int t = 0; a && b && t < T; t++) {
    int n = 0;
    for (int i = 0; i < N; i++) {
      const size_t k = panel_at(p, t, i);
      if (isfinite(score[k]) && isfinite(r[k])) a[n] = score[k], b[n++] = r[k];
    }
    if (n < 10) continue;
    const double ic = zz_spearman(a, b, n);
    if (isfinite(ic)) sum += ic, (*days)++;
  }
  free(a), free(b);
  return *days ? sum / *days : NAN;
}

#define TT_CHECK(cond, ...)                                                    \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      fails++;                                                                 \
    }                                                                          \
  } while (0)

#endif
