/* bench_model_step.c — one training step (forward + backward + clip + Adam) of a 2-layer GRU and LSTM,
 * hidden 64, on one day of 4,000 stocks x 40 steps x 6 features, in sequences per second; beside it, in turn
 * with every step: the sgemm ceiling (the step's own sgemm products timed alone, same shapes and thread split,
 * and a square 1024 sgemm per thread) and scoring (nn_score, forward only).
 * usage: bench_model_step [N] [T] [F] [H] [layers] [threads] [reps] [cells]
 *   (defaults 4000 40 6 64 2 2 5 gru,lstm; cells: a comma-separated list of gru, lstm, act_lstm; act_lstm
 *   always has 1 layer, and prints its mean ponder steps per time step: compare it with lstm at layers 1)
 * Run with OPENBLAS_NUM_THREADS=1; with threads = 2 the rows are split over two pthreads. Compare with
 * bench_model_step_torch.py on the same machine at the same time. */
#include "model.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ---- the sgemm ceiling: the step's own sgemm shapes, timed alone with the same thread split ----
 * Per layer l (input width Fl = F or H, G H gate columns): the input projection [T N, Fl] x [Fl, G H]; the
 * recurrent products of steps 1..T-1, forward [N, H] x [H, G H] and backward [N, G H] x [G H, H], the rows split
 * over the threads; the weight gradients [G H, T N] x [T N, Fl] and [G H, (T-1) N] x [(T-1) N, H] and, for layers
 * above the first, the gradient into the layer below [T N, G H] x [G H, Fl], the T N rows split over the threads.
 * The flop count of these products is the step's sgemm work; the time of them alone is the ceiling. */
typedef struct ceil_job {
  int k, nt, N, T, F, H, L, G;
  float *a, *b, *c; /* scratch big enough for every operand (one set per thread) */
} ceil_job;

static void ceil_part(int n, int k, int nt, int *a, int *b) {
  *a = (int)((long long)n * k / nt);
  *b = (int)((long long)n * (k + 1) / nt);
}

static void *ceil_run(void *arg) {
  ceil_job *j = arg;
  int N = j->N, T = j->T, H = j->H, GH = j->G * H, r0, r1, q0, q1;
  ceil_part(N, j->k, j->nt, &r0, &r1);
  ceil_part(T * N, j->k, j->nt, &q0, &q1);
  int n = r1 - r0, q = q1 - q0, qh = q - (j->k == 0 ? N : 0); /* rows with a previous step (not t = 0) */
  for (int l = 0; l < j->L; l++) {
    int Fl = l == 0 ? j->F : H;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, q, GH, Fl, 1.0f, j->a, Fl, j->b, Fl, 0.0f, j->c, GH);
    for (int t = 1; t < T; t++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, GH, H, 1.0f, j->a + (size_t)t * n * H, H, j->b, H, 1.0f,
                  j->c + (size_t)t * n * GH, GH);
    for (int t = T - 1; t > 0; t--)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, GH, 1.0f, j->c + (size_t)t * n * GH, GH, j->b, H,
                  1.0f, j->a + (size_t)(t - 1) * n * H, H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, Fl, q, 1.0f, j->c, GH, j->a, Fl, 0.0f, j->b, Fl);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, qh, 1.0f, j->c, GH, j->a, H, 0.0f, j->b, H);
    if (l > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q, Fl, GH, 1.0f, j->c, GH, j->b, Fl, 0.0f, j->a, Fl);
  }
  return NULL;
}

/* GFLOP of the step's sgemm products (the count ceil_run performs) */
static double step_gflop(int N, int T, int F, int H, int L, int G) {
  double TN = (double)T * N, T1N = (double)(T - 1) * N, GH = (double)G * H, f = 0;
  for (int l = 0; l < L; l++) {
    double Fl = l == 0 ? F : H;
    f += 2 * TN * Fl * GH * (l > 0 ? 3 : 2) + 2 * T1N * H * GH * 3;
  }
  return f * 1e-9;
}

/* the step's sgemm products alone on th threads: buffers, one timed run, release */
static int ceil_setup(ceil_job *j, int N, int T, int F, int H, int L, int G, int th) {
  int Fm = F > H ? F : H, GH = G * H;
  size_t na = (size_t)T * N * Fm, nb = (size_t)GH * Fm, nc = (size_t)T * N * GH;
  for (int k = 0; k < th; k++) {
    j[k] = (ceil_job){k, th, N, T, F, H, L, G, calloc(na, sizeof(float)), calloc(nb, sizeof(float)),
                      calloc(nc, sizeof(float))};
    if (!j[k].a || !j[k].b || !j[k].c) return -1;
    for (size_t q = 0; q < na; q++) j[k].a[q] = (float)((q % 7) - 3) * 0.01f;
    for (size_t q = 0; q < nb; q++) j[k].b[q] = (float)((q % 5) - 2) * 0.01f;
    for (size_t q = 0; q < nc; q++) j[k].c[q] = (float)((q % 3) - 1) * 0.01f;
  }
  return 0;
}

/* runs fn(arg[0]) here and fn(arg[1]) on a second thread (th = 2); returns the wall seconds */
static double run2(void *(*fn)(void *), void *a0, void *a1, int th) {
  double t0 = now();
  pthread_t pt;
  int started = th > 1 && pthread_create(&pt, NULL, fn, a1) == 0;
  fn(a0);
  if (started) pthread_join(pt, NULL);
  else if (th > 1) fn(a1);
  return now() - t0;
}

/* the plain sgemm peak: each thread multiplies its own square 1024 x 1024 matrices */
typedef struct sq_job {
  float *a, *b, *c;
} sq_job;
enum { SQ = 1024 };
static void *sq_run(void *arg) {
  sq_job *j = arg;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, SQ, SQ, SQ, 1.0f, j->a, SQ, j->b, SQ, 0.0f, j->c, SQ);
  return NULL;
}

int main(int argc, char **argv) {
  int N = argc > 1 ? atoi(argv[1]) : 4000, T = argc > 2 ? atoi(argv[2]) : 40, F = argc > 3 ? atoi(argv[3]) : 6;
  int H = argc > 4 ? atoi(argv[4]) : 64, L = argc > 5 ? atoi(argv[5]) : 2, th = argc > 6 ? atoi(argv[6]) : 2;
  int reps = argc > 7 ? atoi(argv[7]) : 5;
  char cells[256];
  snprintf(cells, sizeof cells, "%s", argc > 8 ? argv[8] : "gru,lstm");
  if (th < 1 || th > 2 || reps < 1) {
    fprintf(stderr, "threads must be 1 or 2 and reps >= 1\n");
    return 2;
  }
  openblas_set_num_threads(1);
  float *x = malloc(sizeof(float) * (size_t)N * T * F), *y = malloc(sizeof(float) * N), *sc = malloc(sizeof(float) * N);
  uint64_t s = 1;
  for (size_t k = 0; k < (size_t)N * T * F; k++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[k] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
  }
  for (int i = 0; i < N; i++) y[i] = x[(size_t)i * T * F];
  sq_job sq[2];
  for (int k = 0; k < th; k++) {
    sq[k] = (sq_job){malloc(sizeof(float) * SQ * SQ), malloc(sizeof(float) * SQ * SQ), malloc(sizeof(float) * SQ * SQ)};
    if (!sq[k].a || !sq[k].b || !sq[k].c) return 1;
    for (int q = 0; q < SQ * SQ; q++) sq[k].a[q] = sq[k].b[q] = (float)((q % 7) - 3) * 0.01f;
  }
  for (char *save = NULL, *name = strtok_r(cells, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    int cell = nn_cell_parse(name);
    if (cell < 0) {
      fprintf(stderr, "unknown cell '%s' (expected gru, lstm or act_lstm)\n", name);
      return 2;
    }
    nn_config c = nn_config_default(F);
    c.cell = (nn_cell)cell;
    c.layers = cell == NN_ACT_LSTM ? 1 : L;
    c.hidden = H;
    zz_err err;
    nn_model *m;
    nn_work *w;
    if (nn_create(&m, &c, 7, &err) || nn_work_create(&w, th, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    int G = cell == NN_GRU ? 3 : 4, ceil = cell != NN_ACT_LSTM;
    ceil_job cj[2];
    if (ceil && ceil_setup(cj, N, T, F, H, c.layers, G, th)) return 1;
    nn_adam_config ac = nn_adam_default();
    double best = 1e30, best_ceil = 1e30, best_sq = 1e30, best_score = 1e30, loss = 0, adam = 0;
    double ph[NN_PHASES] = {0}, pa[NN_PHASES], pb[NN_PHASES];
    /* in turn, rep by rep: a training step, the step's sgemm products alone, the square sgemm and a forward-only
     * pass (scoring), so that the ratios between them hold while the machine's load drifts */
    for (int r = 0; r < reps + 1; r++) {
      nn_work_phase_seconds(w, pa);
      double t0 = now();
      if (nn_forward(m, w, x, N, T, 1, (uint64_t)r, NULL, NULL, &err) || nn_backward(m, w, y, &loss, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      double ta = now();
      nn_clip_grad_value(m, 3.0f);
      nn_adam_step(m, &ac);
      double dt = now() - t0;
      nn_work_phase_seconds(w, pb);
      if (r > 0) { /* the first round warms the workspace and the buffers up */
        adam += now() - ta;
        for (int k = 0; k < NN_PHASES; k++) ph[k] += pb[k] - pa[k];
        if (dt < best) best = dt;
      }
      if (ceil) {
        double tc = run2(ceil_run, &cj[0], &cj[1], th), tq = run2(sq_run, &sq[0], &sq[1], th);
        if (r > 0 && tc < best_ceil) best_ceil = tc;
        if (r > 0 && tq < best_sq) best_sq = tq;
      }
      double t1 = now();
      if (nn_score(m, w, x, N, T, NULL, sc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      double ts = now() - t1;
      if (r > 0 && ts < best_score) best_score = ts;
    }
    double steps, cost;
    nn_work_act_stats(w, &steps, &cost);
    printf("zhizeng %-4s layers=%d H=%d batch %dx%dx%d threads=%d: best step %.3f s, %.0f sequences/s (loss %.4f)",
           nn_cell_name(c.cell), c.layers, H, N, T, F, th, best, N / best, loss);
    if (cell == NN_ACT_LSTM) printf(", mean ponder steps %.3f", steps);
    printf("\n");
    if (ceil) {
      double gf = step_gflop(N, T, F, H, c.layers, G), sqgf = 2.0 * SQ * SQ * SQ * th / best_sq * 1e-9;
      printf("  sgemm ceiling: the step's %.1f GFLOP of sgemm products alone (same shapes, same thread split) best "
             "%.3f s = %.1f GFLOP/s; square %d sgemm %.1f GFLOP/s; the step %.1f GFLOP/s = %.0f %% of the first, "
             "%.0f %% of the second\n",
             gf, best_ceil, gf / best_ceil, SQ, sqgf, gf / best, 100.0 * best_ceil / best, 100.0 * gf / best / sqgf);
    }
    printf("zhizeng %-4s scoring (forward only, nn_score): best %.3f s, %.0f sequences/s\n", nn_cell_name(c.cell),
           best_score, N / best_score);
    printf("  mean seconds per step by phase (%d steps):", reps);
    for (int k = 0; k < NN_PHASES; k++) printf(" %s %.3f,", nn_phase_name(k), ph[k] / reps);
    printf(" clip+adam %.4f\n", adam / reps);
    for (int k = 0; ceil && k < th; k++) free(cj[k].a), free(cj[k].b), free(cj[k].c);
    nn_work_free(w);
    nn_free(m);
  }
  for (int k = 0; k < th; k++) free(sq[k].a), free(sq[k].b), free(sq[k].c);
  free(x);
  free(y);
  free(sc);
  return 0;
}
