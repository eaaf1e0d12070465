/* nn_internal.h — private to model/: layer kernels (one forward and one backward per layer, shapes in the
 * signature), the seeded PRNG and small helpers shared by the nn_*.c files. Not part of the public API. */
#ifndef ZZ_NN_INTERNAL_H
#define ZZ_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64: the generator and a stateless hash of (seed, counter) used for dropout masks. */
static inline uint64_t nn_splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline uint64_t nn_hash2(uint64_t seed, uint64_t k) {
  uint64_t s = seed ^ (k * 0xD1B54A32D192ED03ull);
  return nn_splitmix64(&s);
}
/* Uniform in [0, 1) with 53 random bits. */
static inline double nn_u01(uint64_t r) { return (double)(r >> 11) * (1.0 / 9007199254740992.0); }

/* Fast float exp, sigmoid and tanh for the gate math, written so that the compiler vectorises loops over
 * them (no libm calls, no branches): exp(x) = 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (Cody-Waite,
 * two constants), p the degree-6 Taylor polynomial (relative error < 2e-7 on |r| <= ln 2 / 2). x is
 * clamped to [-87, 88] so 2^n stays a normal float. sigmoid(a) = 1 / (1 + exp(-a)); tanh(a) =
 * 2 sigmoid(2a) - 1 (absolute error ~1e-7, which is what float storage gives anyway). Forward and backward
 * use these same functions, so the gradients are those of the function computed. */
static inline float nn_expf(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  /* n = round(x / ln 2) via the 1.5 * 2^23 shift; its low mantissa bits are n itself, read as bits so that
   * no float -> int conversion happens (a NaN x stays NaN through p, with no undefined behaviour) */
  union {
    float f;
    uint32_t u;
  } sh, e;
  sh.f = x * 1.44269504088896341f + 12582912.0f;
  float n = sh.f - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  e.u = (sh.u - 0x4B400000u + 127u) << 23; /* 2^n, n in [-126, 127] */
  return p * e.f;
}
static inline float nn_sigmoidf(float a) { return 1.0f / (1.0f + nn_expf(-a)); }
static inline float nn_tanhf(float a) { return 2.0f / (1.0f + nn_expf(-2.0f * a)) - 1.0f; }

/* The layer kernels are compiled twice on x86-64 (baseline SSE2 and AVX2, chosen at load time by the
 * CPU): the gate loops are bound by the divisions of the sigmoids, which AVX2 does 8 at a time. The
 * elementwise code has no reductions and no contraction (-std=c11 keeps fp-contract off), so both versions
 * give bit-identical results. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones) /* (gcc only: clang 14's clones stay undefined at link time) */
#define NN_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef NN_SIMD_CLONES
#define NN_SIMD_CLONES
#endif

/* Recurrent layers. Internal layout is TIME-MAJOR: x [T, N, F], hs [T, N, H], so the N rows of one time
 * step are one contiguous matrix for sgemm. G = 3 (GRU: r, z, n) or 4 (LSTM: i, f, g, o); weights are
 * PyTorch's (w_ih [G*H, F], w_hh [G*H, H], b_ih [G*H], b_hh [G*H]); h0 = c0 = 0.
 * A layer runs in phases so that two threads can share it: the recurrence over rows [r0, r1) of the N (per step
 * the input product x_t w_ih^T and the recurrent product written into the step's gate rows, then the gate math in
 * place), and the weight gradients over rows [q0, q1) of the T*N (partial sums per thread, added in a fixed order).
 * keep = 1 (training) caches the gates of every step for the backward; keep = 0 (scoring) reuses one step's gate
 * rows (gates [N, 4H]) and, for the LSTM, two steps' cell states (cs [2, N, H]) and one step's tanh(c) (tcs [N, H]). */

/* The weight gradients of a layer, summed step by step inside the layer backward while each step's gradients are
 * in cache: per thread partial sums dw_ih [GH, F] and dw_hh [GH, H] (zeroed by the caller, accumulated in step
 * order T-1 .. 0, added over the threads in thread order afterwards), and the gradient into the layer below dx
 * [T, N, F] (times the dropout mask of the layer's input, when there is one). */
typedef struct rnn_wgrad {
  int gru, F, H, N;
  const float *x;      /* [T,N,F] the layer's input (after dropout) */
  const float *hs;     /* [T,N,H] the layer's outputs */
  const float *w_ih;   /* [GH,F] */
  float *dw_ih, *dw_hh; /* this thread's partial sums */
  float *dx;           /* [T,N,F] or NULL (the first layer) */
  const float *mask;   /* [T,N,F] dropout mask of the layer's input, or NULL */
} rnn_wgrad;
/* Step t's share over rows [r0, r0 + n): dG [n, 4H] are the step's gate-row gradients (the layouts of
 * gru_layer_backward / lstm_layer_backward): dw_ih += dg_in^T x_t, dw_hh += dg_rec^T h_{t-1} (t > 0),
 * dx_t = dg_in w_ih (times the mask). */
void rnn_step_weights(const rnn_wgrad *g, int t, int r0, int n, const float *dG /*[n,4H]*/);

/* GRU recurrence over rows [r0, r1) of the layer input x: gates [T, N, 4H] = r, z, n, (W_hn h + b_hn); hs [T, N, H]. */
void gru_layer_forward(const float *x /*[T,N,F]*/, int F, const float *w_ih /*[3H,F]*/, int T, int N, int H, int r0,
                       int r1, const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/, const float *b_hh /*[3H]*/,
                       int keep, float *gates /*[T,N,4H] or [N,4H]*/, float *hs /*[T,N,H]*/);
/* GRU backward over rows [r0, r1): dhs [T, N, H] holds dL/d(hs) from above (clobbered: the recurrent gradient is
 * accumulated into it). Overwrites each step's gate rows with the pre-activation gradients [da_r, da_z, da_n r, da_n]
 * (the input product's gradient is columns (0, 1, 3), the recurrent product's columns (0, 1, 2)); db [2, 3H] gets
 * the bias gradients (b_ih, b_hh) summed over these rows in double (per step a float partial in bpart [4H], added in
 * step order). Each step's weight gradients and gradient into the layer's input follow it (rnn_step_weights). */
void gru_layer_backward(int T, int N, int H, int r0, int r1, const float *w_hh /*[3H,H]*/, float *gates /*[T,N,4H]*/,
                        const float *hs, float *dhs /*[T,N,H]*/, float *bpart /*[4H]*/, double *db /*[6H]*/,
                        const rnn_wgrad *wg);
/* LSTM recurrence over rows [r0, r1): gates [T, N, 4H] = i, f, g, o (activated), cell states cs [T, N, H], tanh(cs)
 * in tcs [T, N, H] and hs [T, N, H]. */
void lstm_layer_forward(const float *x /*[T,N,F]*/, int F, const float *w_ih /*[4H,F]*/, int T, int N, int H, int r0,
                        int r1, const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/, const float *b_hh /*[4H]*/,
                        int keep, float *gates /*[T,N,4H] or [N,4H]*/, float *cs /*[T,N,H] or [2,N,H]*/,
                        float *tcs /*[T,N,H] or [N,H]*/, float *hs /*[T,N,H]*/);
/* LSTM backward over rows [r0, r1): overwrites each step's gate rows with dL/d(pre-activations) (both products);
 * dc [N, H] is scratch. db [2, 4H] gets their column sums over these rows (twice), bpart [4H] is scratch. */
void lstm_layer_backward(int T, int N, int H, int r0, int r1, const float *w_hh /*[4H,H]*/, float *gates,
                         const float *cs, const float *tcs, float *dhs /*[T,N,H]*/, float *dc /*[N,H]*/,
                         float *bpart /*[4H]*/, double *db /*[8H]*/, const rnn_wgrad *wg);

/* ACT-LSTM (nn_act.c; Graves 2016, docs/model.md), one layer, rows processed one at a time (gemv per ponder
 * step). The weights: w_ih [4H, F+1] (the last column multiplies the first-ponder-step flag), w_hh [4H, H],
 * b_ih, b_hh [4H], the halting unit w_act [H], b_act; eps the halting threshold, nmax the most ponder steps. */
typedef struct act_weights {
  int F, H, nmax;
  double eps;
  const float *w_ih, *w_hh, *b_ih, *b_hh, *w_act;
  float b_act;
} act_weights;
/* Floats of scratch one thread needs for act_layer_forward / act_layer_backward over T time steps. */
size_t act_scratch_floats(int H, int nmax, int T);
/* Forward over rows [r0, r1): gi [T, N, 4H] holds x_t w_ih[:, :F]^T (no bias, no flag); writes the time steps'
 * halting-weighted states hs, cs [T, N, H]; adds sum N(t) and sum (N(t) + R(t)) over these rows to stats[0],
 * stats[1]. */
void act_layer_forward(const act_weights *a, const float *gi /*[T,N,4H]*/, int T, int N, int r0, int r1,
                       float *hs /*[T,N,H]*/, float *cs /*[T,N,H]*/, float *scratch, double stats[2]);
/* Backward over rows [r0, r1), recomputing each time step's ponder steps from hs, cs of the step before:
 * dlast [N, H] = dL/d(h_{T-1}); tau_row = the ponder cost's weight per (row, time step) remainder (tau / N_rows).
 * gi is overwritten, row by row, by dgi [T, N, 4H] = dL/d(pre-activations) summed over the ponder steps (for
 * w_ih[:, :F] = dgi^T x, done by the caller). Adds to dw_hh [4H, H] (one sgemm per row over its ponder steps) and dw_flag [4H] (w_ih's last column), to
 * dact [H + 1] (act.weight, act.bias) and to db [4H] (b_ih = b_hh gradient). */
void act_layer_backward(const act_weights *a, float *gi /*[T,N,4H]*/, int T, int N, int r0, int r1,
                        const float *hs /*[T,N,H]*/, const float *cs /*[T,N,H]*/, const float *dlast /*[N,H]*/,
                        double tau_row, float *scratch, float *dw_hh /*[4H,H]*/, float *dw_flag /*[4H]*/,
                        double *dact /*[H+1]*/, double *db /*[4H]*/);

/* Heads (nn_head.c), in double for the batch statistics. hl [N, H] last hidden state (after dropout),
 * w [K, H], b [K]. Forward writes u [N, K] (pre-BN outputs) and score [N]. */
void head_forward(const float *hl /*[N,H]*/, int N, int H, int K, const float *w /*[K,H]*/,
                  const float *b /*[K]*/, float *u /*[N,K]*/, float *score /*[N]*/);
/* Loss and gradients: dw [K,H], db [K] overwritten, dhl [N,H] overwritten. Returns the loss. */
double head_backward(const float *hl, int N, int H, int K, const float *w, const float *u /*[N,K]*/,
                     const float *y /*[N]*/, double lambda, float *dw, float *db, float *dhl /*[N,H]*/);
/* The 3-class head (no batch-norm): u = hl w^T + b [N, 3] logits of (down, neutral, up); p = softmax(u) per row
 * in double; score = p_up - p_down. */
void head_class3_forward(const float *hl /*[N,H]*/, int N, int H, const float *w /*[3,H]*/, const float *b /*[3]*/,
                         float *u /*[N,3]*/, float *score /*[N]*/);
/* Weighted softmax cross-entropy against class ids y [N] in {0, 1, 2} (checked by the caller), as PyTorch's
 * cross_entropy(weight = cw): L = sum_i cw[y_i] (-log p_{i,y_i}) / sum_i cw[y_i]; du_ik = cw[y_i] (p_ik - [k = y_i])
 * / sum_i cw[y_i]. dw [3,H], db [3], dhl [N,H] overwritten. Returns the loss (NaN when out of memory). */
double head_class3_backward(const float *hl /*[N,H]*/, int N, int H, const float *w /*[3,H]*/, const float *u /*[N,3]*/,
                            const float *y /*[N]*/, const double *cw /*[3]*/, float *dw /*[3,H]*/, float *db /*[3]*/,
                            float *dhl /*[N,H]*/);


/* LRP (nn_lrp.c): one recurrent layer for ONE row, in double (forward recomputed from the float weights).
 * Forward caches act [T, 4H] = r, z, n, a_n (GRU) or [T, 6H] = i, f, g, o, a_g, c (LSTM) and writes hs [T, H].
 * Backward: rh [T, H] holds the relevance injected at each h_t from above (clobbered: the recurrent relevance is
 * accumulated into it); writes the input relevance rx [T, F] and the relevance absorbed by the biases and the
 * epsilon stabilisers to rbias; q (and rc) are scratch [H]. */
void lrp_gru_forward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[3H,F]*/,
                     const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/, const float *b_hh /*[3H]*/,
                     double *act /*[T,4H]*/, double *hs /*[T,H]*/);
void lrp_gru_backward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[3H,F]*/,
                      const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/, const float *b_hh /*[3H]*/,
                      const double *act /*[T,4H]*/, const double *hs /*[T,H]*/, double eps, double *rh /*[T,H]*/,
                      double *rx /*[T,F]*/, double *rbias /*[1]*/, double *q /*[H]*/);
void lrp_lstm_forward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[4H,F]*/,
                      const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/, const float *b_hh /*[4H]*/,
                      double *act /*[T,6H]*/, double *hs /*[T,H]*/);
void lrp_lstm_backward(const double *x /*[T,F]*/, int T, int F, int H, const float *w_ih /*[4H,F]*/,
                       const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/, const float *b_hh /*[4H]*/,
                       const double *act /*[T,6H]*/, const double *hs /*[T,H]*/, double eps, double *rh /*[T,H]*/,
                       double *rx /*[T,F]*/, double *rbias /*[1]*/, double *rc /*[H]*/, double *q /*[H]*/);

#endif
