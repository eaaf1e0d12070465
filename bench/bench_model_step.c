/* bench_model_step.c — one training step (forward + backward + clip + Adam) of a 2-layer GRU and LSTM,
 * hidden 64, on one day of 4,000 stocks x 40 steps x 6 features, in sequences per second.
 * usage: bench_model_step [N] [T] [F] [H] [layers] [threads] [reps] [cells]
 *   (defaults 4000 40 6 64 2 2 5 gru,lstm; cells: a comma-separated list of gru, lstm, act_lstm; act_lstm
 *   always has 1 layer, and prints its mean ponder steps per time step: compare it with lstm at layers 1)
 * Run with OPENBLAS_NUM_THREADS=1; with threads = 2 the rows are split over two pthreads. Compare with
 * bench_model_step_torch.py on the same machine at the same time. */
#include "model.h"

#include <cblas.h>
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

int main(int argc, char **argv) {
  int N = argc > 1 ? atoi(argv[1]) : 4000, T = argc > 2 ? atoi(argv[2]) : 40, F = argc > 3 ? atoi(argv[3]) : 6;
  int H = argc > 4 ? atoi(argv[4]) : 64, L = argc > 5 ? atoi(argv[5]) : 2, th = argc > 6 ? atoi(argv[6]) : 2;
  int reps = argc > 7 ? atoi(argv[7]) : 5;
  char cells[256];
  snprintf(cells, sizeof cells, "%s", argc > 8 ? argv[8] : "gru,lstm");
  openblas_set_num_threads(1);
  float *x = malloc(sizeof(float) * (size_t)N * T * F), *y = malloc(sizeof(float) * N);
  uint64_t s = 1;
  for (size_t k = 0; k < (size_t)N * T * F; k++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[k] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
  }
  for (int i = 0; i < N; i++) y[i] = x[(size_t)i * T * F];
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
    nn_adam_config ac = nn_adam_default();
    double best = 1e30, loss = 0, adam = 0, ph0[NN_PHASES];
    for (int r = 0; r < reps + 1; r++) {
      double t0 = now();
      if (nn_forward(m, w, x, N, T, 1, (uint64_t)r, NULL, NULL, &err) || nn_backward(m, w, y, &loss, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
      double ta = now();
      nn_clip_grad_value(m, 3.0f);
      nn_adam_step(m, &ac);
      double dt = now() - t0;
      if (r > 0) adam += now() - ta;
      if (r == 0) nn_work_phase_seconds(w, ph0);
      if (r > 0 && dt < best) best = dt; /* the first step warms the workspace up */
    }
    double steps, cost;
    nn_work_act_stats(w, &steps, &cost);
    printf("zhizeng %-4s layers=%d H=%d batch %dx%dx%d threads=%d: best step %.3f s, %.0f sequences/s (loss %.4f)",
           nn_cell_name(c.cell), c.layers, H, N, T, F, th, best, N / best, loss);
    if (cell == NN_ACT_LSTM) printf(", mean ponder steps %.3f", steps);
    printf("\n");
    double ph[NN_PHASES];
    nn_work_phase_seconds(w, ph);
    printf("  mean seconds per step by phase (%d steps):", reps);
    for (int k = 0; k < NN_PHASES; k++) printf(" %s %.3f,", nn_phase_name(k), (ph[k] - ph0[k]) / reps);
    printf(" clip+adam %.4f\n", adam / reps);
    nn_work_free(w);
    nn_free(m);
  }
  free(x);
  free(y);
  return 0;
}
