/* nn_head.c — the heads on the last hidden state, batch statistics in double:
 *   univariate:   u = hl W^T + b  [N, 1];  loss = mean_i (BN(u)_i - y_i)^2
 *   multivariate: u = hl W^T + b  [N, K];  z = BN per column;  c_i = mean_k z_ik;
 *                 loss = mean_i (BN(c)_i - y_i)^2 + lambda / (N K^2) * ||Z^T Z||_F   (Frobenius norm)
 *   class3:       u = hl W^T + b  [N, 3] logits of (down, neutral, up);  p = softmax(u);  score = p_up - p_down;
 *                 loss = sum_i w_{y_i} (-log p_{i,y_i}) / sum_i w_{y_i}  (PyTorch's weighted cross_entropy)
 * BN(v) = (v - mean) / sqrt(biased var + 1e-5) over the N rows (BatchNorm1d(affine=False), training mode). */
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS 1e-5

/* s = BN(v) over n values with stride; returns 1/sigma. */
static double bn_forward(const double *v, int n, double *s) {
  double mean = 0, var = 0;
  for (int i = 0; i < n; i++) mean += v[i];
  mean /= n;
  for (int i = 0; i < n; i++) var += (v[i] - mean) * (v[i] - mean);
  var /= n;
  double inv = 1.0 / sqrt(var + BN_EPS);
  for (int i = 0; i < n; i++) s[i] = (v[i] - mean) * inv;
  return inv;
}

/* dv = inv * (ds - mean(ds) - s * mean(ds * s)); dv may alias ds. */
static void bn_backward(const double *s, const double *ds, int n, double inv, double *dv) {
  double m1 = 0, m2 = 0;
  for (int i = 0; i < n; i++) {
    m1 += ds[i];
    m2 += ds[i] * s[i];
  }
  m1 /= n;
  m2 /= n;
  for (int i = 0; i < n; i++) dv[i] = inv * (ds[i] - m1 - s[i] * m2);
}

/* z [K][N] column-normalised copy of u [N, K] (column-major in z for contiguous BN); inv [K]. */
static void columns_bn(const float *u, int N, int K, double *col, double *z, double *inv) {
  for (int k = 0; k < K; k++) {
    for (int i = 0; i < N; i++) col[i] = u[(size_t)i * K + k];
    inv[k] = bn_forward(col, N, z + (size_t)k * N);
  }
}

void head_forward(const float *hl /*[N,H]*/, int N, int H, int K, const float *w /*[K,H]*/,
                  const float *b /*[K]*/, float *u /*[N,K]*/, float *score /*[N]*/) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, K, H, 1.0f, hl, H, w, H, 0.0f, u, K);
  for (int i = 0; i < N; i++)
    for (int k = 0; k < K; k++) u[(size_t)i * K + k] += b[k];
  if (!score) return;
  if (K == 1) {
    for (int i = 0; i < N; i++) score[i] = u[i];
    return;
  }
  double *col = malloc((size_t)N * sizeof(double)), *z = malloc((size_t)N * K * sizeof(double)),
         *inv = malloc((size_t)K * sizeof(double));
  if (!col || !z || !inv) { /* scores are then NaN: the caller's finiteness check reports it */
    for (int i = 0; i < N; i++) score[i] = NAN;
  } else {
    columns_bn(u, N, K, col, z, inv);
    for (int i = 0; i < N; i++) {
      double c = 0;
      for (int k = 0; k < K; k++) c += z[(size_t)k * N + i];
      score[i] = (float)(c / K);
    }
  }
  free(col);
  free(z);
  free(inv);
}

double head_backward(const float *hl, int N, int H, int K, const float *w, const float *u /*[N,K]*/,
                     const float *y /*[N]*/, double lambda, float *dw, float *db, float *dhl /*[N,H]*/) {
  double *c = calloc((size_t)N, sizeof(double)), *s = calloc((size_t)N, sizeof(double)),
         *ds = calloc((size_t)N, sizeof(double)), *z = NULL, *dz = NULL, *inv = NULL, *gm = NULL;
  float *du = calloc((size_t)N * K, sizeof(float));
  double *bsum = calloc((size_t)K, sizeof(double)); /* db from the double du: exactly ~0, as it should be */
  double loss = NAN;
  if (!c || !s || !ds || !du || !bsum) goto done;
  if (K == 1) {
    for (int i = 0; i < N; i++) c[i] = u[i];
  } else {
    z = malloc((size_t)N * K * sizeof(double));
    dz = malloc((size_t)N * K * sizeof(double));
    inv = malloc((size_t)K * sizeof(double));
    gm = calloc((size_t)K * K, sizeof(double));
    if (!z || !dz || !inv || !gm) goto done;
    columns_bn(u, N, K, ds /* scratch */, z, inv);
    for (int i = 0; i < N; i++) {
      double a = 0;
      for (int k = 0; k < K; k++) a += z[(size_t)k * N + i];
      c[i] = a / K;
    }
  }
  double inv_c = bn_forward(c, N, s);
  double mse = 0;
  for (int i = 0; i < N; i++) {
    double e = s[i] - y[i];
    mse += e * e;
    ds[i] = 2.0 * e / N;
  }
  loss = mse / N;
  bn_backward(s, ds, N, inv_c, ds); /* ds := dL/dc */
  if (K == 1) {
    for (int i = 0; i < N; i++) {
      du[i] = (float)ds[i];
      bsum[0] += ds[i];
    }
  } else {
    /* Gram matrix G = Z^T Z (K x K), penalty P = ||G||_F, dP/dZ = 2 Z G / P. */
    for (int a = 0; a < K; a++)
      for (int bb = a; bb < K; bb++) {
        const double *za = z + (size_t)a * N, *zb = z + (size_t)bb * N;
        double acc = 0;
        for (int i = 0; i < N; i++) acc += za[i] * zb[i];
        gm[(size_t)a * K + bb] = gm[(size_t)bb * K + a] = acc;
      }
    double fro = 0;
    for (size_t q = 0; q < (size_t)K * K; q++) fro += gm[q] * gm[q];
    fro = sqrt(fro);
    double coef = lambda / ((double)N * K * K);
    loss += coef * fro;
    double pen = fro > 0 ? coef * 2.0 / fro : 0.0;
    for (int k = 0; k < K; k++) {
      double *dzk = dz + (size_t)k * N;
      for (int i = 0; i < N; i++) dzk[i] = ds[i] / K;
      if (pen != 0)
        for (int a = 0; a < K; a++) {
          double gak = pen * gm[(size_t)a * K + k];
          const double *za = z + (size_t)a * N;
          for (int i = 0; i < N; i++) dzk[i] += za[i] * gak;
        }
      bn_backward(z + (size_t)k * N, dzk, N, inv[k], dzk);
      for (int i = 0; i < N; i++) {
        du[(size_t)i * K + k] = (float)dzk[i];
        bsum[k] += dzk[i];
      }
    }
  }
  /* dw = du^T hl, db = colsum du, dhl = du w */
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, H, N, 1.0f, du, K, hl, H, 0.0f, dw, H);
  for (int k = 0; k < K; k++) db[k] = (float)bsum[k];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, K, 1.0f, du, K, w, H, 0.0f, dhl, H);
done:
  free(c);
  free(s);
  free(ds);
  free(du);
  free(bsum);
  free(z);
  free(dz);
  free(inv);
  free(gm);
  return loss;
}

/* p [3] = softmax of the logits u [3], in double (shifted by the max, so no overflow); returns log sum exp. */
static double softmax3(const float *u, double *p) {
  double mx = u[0] > u[1] ? u[0] : u[1];
  if (u[2] > mx) mx = u[2];
  double e0 = exp(u[0] - mx), e1 = exp(u[1] - mx), e2 = exp(u[2] - mx), s = e0 + e1 + e2;
  p[0] = e0 / s;
  p[1] = e1 / s;
  p[2] = e2 / s;
  return mx + log(s);
}

void head_class3_forward(const float *hl /*[N,H]*/, int N, int H, const float *w /*[3,H]*/, const float *b /*[3]*/,
                         float *u /*[N,3]*/, float *score /*[N]*/) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, 3, H, 1.0f, hl, H, w, H, 0.0f, u, 3);
  for (int i = 0; i < N; i++)
    for (int k = 0; k < 3; k++) u[(size_t)i * 3 + k] += b[k];
  if (!score) return;
  for (int i = 0; i < N; i++) {
    double p[3];
    softmax3(u + (size_t)i * 3, p);
    score[i] = (float)(p[2] - p[0]);
  }
}

double head_class3_backward(const float *hl /*[N,H]*/, int N, int H, const float *w /*[3,H]*/, const float *u /*[N,3]*/,
                            const float *y /*[N]*/, const double *cw /*[3]*/, float *dw /*[3,H]*/, float *db /*[3]*/,
                            float *dhl /*[N,H]*/) {
  float *du = malloc((size_t)N * 3 * sizeof(float));
  if (!du) return NAN;
  double wsum = 0, nll = 0, bsum[3] = {0, 0, 0};
  for (int i = 0; i < N; i++) wsum += cw[(int)y[i]];
  for (int i = 0; i < N; i++) {
    int c = (int)y[i];
    double p[3];
    double lse = softmax3(u + (size_t)i * 3, p);
    double a = cw[c] / wsum;
    nll += cw[c] * (lse - u[(size_t)i * 3 + c]);
    for (int k = 0; k < 3; k++) {
      double g = a * (p[k] - (k == c ? 1.0 : 0.0));
      du[(size_t)i * 3 + k] = (float)g;
      bsum[k] += g;
    }
  }
  /* dw = du^T hl, db = colsum du, dhl = du w */
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 3, H, N, 1.0f, du, 3, hl, H, 0.0f, dw, H);
  for (int k = 0; k < 3; k++) db[k] = (float)bsum[k];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, 3, 1.0f, du, 3, w, H, 0.0f, dhl, H);
  free(du);
  return nll / wsum;
}
