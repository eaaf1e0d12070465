/* linear_baseline.c — the linear baseline the RNN must beat: ridge regression of the label on the
 * flattened preprocessed window (seq x F inputs + intercept), trained on the same days as the RNN,
 * the ridge penalty picked from a grid on the validation mean daily RankIC. File format (text):
 *   zz_linear v1\n seq F\n lambda val_rankic\n preprocessing-line\n coef_1 .. coef_dim intercept\n
 */
#include "model.h"
#include "train_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Solves (A + lam * I') c = b, I' = identity without the last (intercept) entry, by Cholesky. */
static int ridge_solve(const double *A, const double *b, int n, double lam, double *c) {
  double *L = malloc((size_t)n * n * sizeof *L);
  if (!L) return -1;
  for (int i = 0; i < n; i++)
    for (int j = 0; j <= i; j++) L[(size_t)i * n + j] = A[(size_t)j * n + i] + (i == j && i < n - 1 ? lam : 0);
  for (int j = 0; j < n; j++) {
    double s = L[(size_t)j * n + j];
    for (int k = 0; k < j; k++) s -= L[(size_t)j * n + k] * L[(size_t)j * n + k];
    if (!(s > 0)) {
      free(L);
      return -1;
    }
    const double d = sqrt(s);
    L[(size_t)j * n + j] = d;
    for (int i = j + 1; i < n; i++) {
      double v = L[(size_t)i * n + j];
      for (int k = 0; k < j; k++) v -= L[(size_t)i * n + k] * L[(size_t)j * n + k];
      L[(size_t)i * n + j] = v / d;
    }
  }
  for (int i = 0; i < n; i++) {
    double v = b[i];
    for (int k = 0; k < i; k++) v -= L[(size_t)i * n + k] * c[k];
    c[i] = v / L[(size_t)i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double v = c[i];
    for (int k = i + 1; k < n; k++) v -= L[(size_t)k * n + i] * c[k];
    c[i] = v / L[(size_t)i * n + i];
  }
  free(L);
  return 0;
}

void lin_predict(const lin_model *m, const float *x, int n, float *score) {
  for (int r = 0; r < n; r++) {
    const float *xr = x + (size_t)r * m->dim;
    double s = m->coef[m->dim];
    for (int j = 0; j < m->dim; j++) s += m->coef[j] * xr[j];
    score[r] = (float)s;
  }
}

int lin_train(const train_data *d, const train_split *sp, const char *base, zz_err *err) {
  const panel *p = d->p;
  const int S = feat_seq(d->fc), F = feat_n_features(d->fc), D = S * F, n1 = D + 1;
  double *A = calloc((size_t)n1 * n1, sizeof *A), *b = calloc((size_t)n1, sizeof *b);
  double *X = malloc((size_t)(p->n_stocks ? p->n_stocks : 1) * n1 * sizeof *X);
  double *yv = malloc((size_t)(p->n_stocks ? p->n_stocks : 1) * sizeof *yv);
  double *c = malloc((size_t)n1 * sizeof *c), *best = malloc((size_t)n1 * sizeof *best);
  int rc = ZZ_OK;
  if (!A || !b || !X || !yv || !c || !best) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for the linear baseline");
    goto out;
  }
  size_t n_samples = 0;
  for (int t = sp->train0; t <= sp->train1; t++) {
    const int n = train_day_rows(d->fc, d->lab, p, t, d->idx);
    if (n < 2) continue;
    feat_batch(d->fc, d->pp, t, d->idx, n, d->x);
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < D; j++) X[(size_t)r * n1 + j] = d->x[(size_t)r * D + j];
      X[(size_t)r * n1 + D] = 1.0;
      yv[r] = d->lab[panel_at(p, t, d->idx[r])];
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n1, n, 1.0, X, n1, 1.0, A, n1);
    cblas_dgemv(CblasRowMajor, CblasTrans, n, n1, 1.0, X, n1, yv, 1, 1.0, b, 1);
    n_samples += (size_t)n;
  }
  if (n_samples < (size_t)n1) {
    rc = zz_fail(err, ZZ_EDATA, "linear baseline: %zu training samples for %d coefficients", n_samples, n1);
    goto out;
  }
  const double grid[] = {1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
  double best_ic = -INFINITY, best_lam = NAN;
  lin_model m = {.seq = S, .n_feat = F, .dim = D, .coef = c};
  for (size_t g = 0; g < sizeof grid / sizeof grid[0]; g++) {
    const double lam = grid[g] * (double)n_samples;
    if (ridge_solve(A, b, n1, lam, c)) continue;
    double sum = 0;
    int days = 0;
    for (int t = sp->val0; t <= sp->val1; t++) {
      const int n = train_day_rows(d->fc, d->ret, p, t, d->idx);
      if (n < 2) continue;
      feat_batch(d->fc, d->pp, t, d->idx, n, d->x);
      lin_predict(&m, d->x, n, d->s);
      for (int r = 0; r < n; r++) d->a[r] = d->s[r], d->b[r] = d->ret[panel_at(p, t, d->idx[r])];
      const double ic = train_rank_ic(d->a, d->b, n);
      if (isfinite(ic)) sum += ic, days++;
    }
    const double ic = days ? sum / days : NAN;
    fprintf(stderr, "Y%d linear: ridge lambda %g x n -> validation RankIC %.4f\n", sp->year, grid[g], ic);
    if (isfinite(best_lam) ? (isfinite(ic) && ic > best_ic) : 1) {
      best_ic = isfinite(ic) ? ic : -INFINITY;
      best_lam = grid[g];
      memcpy(best, c, (size_t)n1 * sizeof *c);
    }
  }
  if (!isfinite(best_lam)) {
    rc = zz_fail(err, ZZ_ENUMERIC, "linear baseline: the normal equations are singular for every ridge penalty");
    goto out;
  }
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s.lin", base);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    rc = zz_fail(err, ZZ_EIO, "%s: cannot write", tmp);
    goto out;
  }
  char nb[40];
  fprintf(f, "zz_linear v1\n%d %d\n%s ", S, F, zz_fmt_double(nb, sizeof nb, best_lam));
  fprintf(f, "%s\n%s\n", zz_fmt_double(nb, sizeof nb, best_ic), d->prep_str);
  for (int j = 0; j < n1; j++) fprintf(f, "%s%s", j ? " " : "", zz_fmt_double(nb, sizeof nb, best[j]));
  fprintf(f, "\n");
  if (fclose(f) || rename(tmp, path)) {
    remove(tmp);
    rc = zz_fail(err, ZZ_EIO, "%s: write failed", path);
    goto out;
  }
  fprintf(stderr, "Y%d linear: lambda %g x n, validation RankIC %.4f -> %s\n", sp->year, best_lam, best_ic, path);
out:
  free(A), free(b), free(X), free(yv), free(c), free(best);
  return rc;
}

void lin_free(lin_model *m) {
  if (!m) return;
  free(m->coef);
  free(m->prep);
  free(m);
}

/* line k of the file without its line ending ("" past the end); returns the length or -1 at EOF */
static ssize_t lin_line(FILE *f, char **line, size_t *cap) {
  ssize_t len = getline(line, cap, f);
  if (len < 0) return -1;
  while (len > 0 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r')) (*line)[--len] = 0;
  return len;
}

int lin_load(lin_model **out, const char *path, zz_err *err) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot open", path);
  lin_model *m = calloc(1, sizeof *m);
  size_t cap = 0;
  char *line = NULL;
  int rc = ZZ_OK;
  if (!m) {
    fclose(f);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  int used = 0;
  if (lin_line(f, &line, &cap) < 0 || strcmp(line, "zz_linear v1")) {
    rc = zz_fail(err, ZZ_EDATA, "%s:1: not a zhizeng linear model: expected the line 'zz_linear v1'", path);
    goto out;
  }
  if (lin_line(f, &line, &cap) < 0 || sscanf(line, "%d %d %n", &m->seq, &m->n_feat, &used) != 2 || line[used] ||
      m->seq < 1 || m->n_feat < 1 || m->seq > 1000 || m->n_feat > 10000) {
    rc = zz_fail(err, ZZ_EDATA, "%s:2: expected 'SEQ FEATURES' (integers in 1..1000 and 1..10000)", path);
    goto out;
  }
  used = 0;
  if (lin_line(f, &line, &cap) < 0 || sscanf(line, "%lf %lf %n", &m->lambda, &m->val_ic, &used) != 2 || line[used] ||
      !isfinite(m->lambda) || m->lambda < 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s:3: expected 'LAMBDA VALIDATION_IC' (a ridge penalty >= 0 and a number)", path);
    goto out;
  }
  if (lin_line(f, &line, &cap) <= 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s:4: expected the preprocessing line", path);
    goto out;
  }
  m->prep = strdup(line);
  m->dim = m->seq * m->n_feat;
  m->coef = malloc((size_t)(m->dim + 1) * sizeof *m->coef);
  if (!m->prep || !m->coef) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto out;
  }
  if (lin_line(f, &line, &cap) < 0) line[0] = 0;
  const char *q = line;
  for (int j = 0; j <= m->dim + 1; j++) {
    char *end;
    while (*q == ' ' || *q == '\t') q++;
    if (j == m->dim + 1) {
      if (*q) {
        rc = zz_fail(err, ZZ_EDATA, "%s:5:%d: expected %d coefficients (SEQ x FEATURES + 1), found more", path, j + 1,
                     m->dim + 1);
        goto out;
      }
      break;
    }
    m->coef[j] = strtod(q, &end);
    if (end == q || (*end && *end != ' ' && *end != '\t') || !isfinite(m->coef[j])) {
      rc = zz_fail(err, ZZ_EDATA, "%s:5:%d: expected %d finite coefficients (SEQ x FEATURES + 1), found %s", path,
                   j + 1, m->dim + 1, *q ? "a bad value" : "fewer");
      goto out;
    }
    q = end;
  }
  if (lin_line(f, &line, &cap) > 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s:6: expected the end of the file after the coefficients", path);
    goto out;
  }
out:
  free(line);
  fclose(f);
  if (rc) lin_free(m);
  else *out = m;
  return rc;
}
