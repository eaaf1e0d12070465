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

/* Recurrent layers. Internal layout is TIME-MAJOR: x [T, N, F], hs [T, N, H]. Rows [r0, r1) of the N
 * are processed (a thread's share); weights are PyTorch's (w_ih [G*H, F], w_hh [G*H, H]).
 * Forward caches: GRU gates [T, N, 4H] = r, z, n, (W_hn h + b_hn); LSTM gates [T, N, 4H] = i, f, g, o and
 * cs [T, N, H] cell states. h0 = c0 = 0. */
void gru_layer_forward(const float *x /*[T,N,F]*/, int T, int N, int F, int H, int r0, int r1,
                       const float *w_ih /*[3H,F]*/, const float *w_hh /*[3H,H]*/, const float *b_ih /*[3H]*/,
                       const float *b_hh /*[3H]*/, float *gates /*[T,N,4H]*/, float *hs /*[T,N,H]*/);
/* Backward over rows [r0, r1): dhs [T, N, H] is dL/d(hs) from above (read, clobbered as scratch).
 * Writes dgi [T, N, 3H] (dL/d input pre-activations) and dgh [T, N, 3H] (dL/d recurrent pre-activations);
 * dx [T, N, F] when non-NULL. Weight gradients come after all rows are done: gru_layer_backward_weights. */
void gru_layer_backward_rows(const float *x /*[T,N,F]*/, int T, int N, int F, int H, int r0, int r1,
                             const float *w_ih, const float *w_hh, const float *gates, const float *hs,
                             float *dhs /*[T,N,H]*/, float *dgi /*[T,N,3H]*/, float *dgh /*[T,N,3H]*/,
                             float *dx /*[T,N,F] or NULL*/);
/* Gate rows [j0, j1) of the G*H rows of the weight gradients (split between threads by gate rows):
 * dw_ih = dgi^T x, dw_hh = dgh[1:]^T hs[:-1], db_ih = colsum dgi, db_hh = colsum dgh. Overwrites. */
void rnn_layer_backward_weights(const float *x /*[T,N,F]*/, const float *hs /*[T,N,H]*/, int T, int N, int F,
                                int H, int G, int j0, int j1, const float *dgi /*[T,N,GH]*/,
                                const float *dgh /*[T,N,GH]*/, float *dw_ih, float *dw_hh, float *db_ih,
                                float *db_hh);

void lstm_layer_forward(const float *x /*[T,N,F]*/, int T, int N, int F, int H, int r0, int r1,
                        const float *w_ih /*[4H,F]*/, const float *w_hh /*[4H,H]*/, const float *b_ih /*[4H]*/,
                        const float *b_hh /*[4H]*/, float *gates /*[T,N,4H]*/, float *cs /*[T,N,H]*/,
                        float *hs /*[T,N,H]*/);
/* As gru_layer_backward_rows; for the LSTM dgi == dgh, so only dg [T, N, 4H] is written. */
void lstm_layer_backward_rows(const float *x, int T, int N, int F, int H, int r0, int r1, const float *w_ih,
                              const float *w_hh, const float *gates, const float *cs, const float *hs,
                              float *dhs /*[T,N,H]*/, float *dg /*[T,N,4H]*/, float *dx /*[T,N,F] or NULL*/);

/* Heads (nn_head.c), in double for the batch statistics. hl [N, H] last hidden state (after dropout),
 * w [K, H], b [K]. Forward writes u [N, K] (pre-BN outputs) and score [N]. */
void head_forward(const float *hl /*[N,H]*/, int N, int H, int K, const float *w /*[K,H]*/,
                  const float *b /*[K]*/, float *u /*[N,K]*/, float *score /*[N]*/);
/* Loss and gradients: dw [K,H], db [K] overwritten, dhl [N,H] overwritten. Returns the loss. */
double head_backward(const float *hl, int N, int H, int K, const float *w, const float *u /*[N,K]*/,
                     const float *y /*[N]*/, double lambda, float *dw, float *db, float *dhl /*[N,H]*/);

#endif
