/* model.h — zhizeng's model stage: GRU/LSTM networks with their heads, Adam, native model files and
 * safetensors exchange (networks section), then features, labels and the training loop (training
 * section).
 *
 * Conventions of the networks section (see docs/model.md):
 *   - one trading day is one batch: x is [N, T, F] row-major (stock-major, as PyTorch batch_first);
 *   - all parameters live in ONE contiguous float buffer m->params in PyTorch state_dict order
 *     (rnn.weight_ih_l0 [G*H, F], rnn.weight_hh_l0 [G*H, H], rnn.bias_ih_l0 [G*H], rnn.bias_hh_l0 [G*H],
 *     then _l1, then head.weight [K, H], head.bias [K]; G = 3 for GRU (r, z, n), 4 for LSTM (i, f, g, o));
 *     m->grads, m->adam_m, m->adam_v are parallel buffers of the same length m->n_params;
 *   - rows are independent through the recurrent layers; batch-norm couples them in the head. Rows with
 *     missing inputs or labels must be REMOVED by the caller before nn_forward (compact the batch):
 *     nn_forward refuses non-finite x and nn_backward non-finite y, naming the row.
 */
#ifndef ZZ_MODEL_H
#define ZZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"

/* ---- networks (model-nets) ---- */

typedef enum { NN_GRU = 0, NN_LSTM = 1 } nn_cell;
typedef enum { NN_HEAD_UNIVARIATE = 0, NN_HEAD_MULTIVARIATE = 1 } nn_head_kind;

typedef struct nn_config {
  nn_cell cell;      /* NN_GRU (default) or NN_LSTM */
  int layers;        /* 1 or 2 */
  int hidden;        /* H >= 1 (64 default) */
  int input_size;    /* F >= 1 */
  int outputs;       /* K: 1 for the univariate head, K >= 2 for the multivariate head (64 default) */
  nn_head_kind head;
  double lambda;     /* orthogonal penalty weight of the multivariate head (1 default) */
  double dropout;    /* p in [0, 1): between stacked layers and on the last hidden state (0.1 default) */
} nn_config;

/* SPEC 4 defaults for an input size: GRU, 1 layer, hidden 64, univariate (K 1), lambda 1, dropout 0.1. */
nn_config nn_config_default(int input_size);
/* Checks ranges; the message names the offending field. */
int nn_config_check(const nn_config *cfg, zz_err *err);
const char *nn_cell_name(nn_cell c);          /* "gru" | "lstm" */
const char *nn_head_name(nn_head_kind h);     /* "univariate" | "multivariate" */

/* A named view into the parameter buffer. */
#define NN_MAX_PARAMS 10
typedef struct nn_param_view {
  char name[32];   /* PyTorch name, e.g. "rnn.weight_ih_l0" */
  size_t offset;   /* in floats from m->params */
  int ndim;        /* 1 or 2 */
  int shape[2];
  size_t size;     /* shape[0] * shape[1] (or shape[0]) */
} nn_param_view;

typedef struct nn_model {
  nn_config cfg;
  size_t n_params;
  float *params;      /* [n_params], one contiguous buffer */
  float *grads;       /* [n_params], written by nn_backward (overwritten, not accumulated) */
  float *adam_m;      /* [n_params] first moments */
  float *adam_v;      /* [n_params] second moments */
  int64_t adam_step;  /* Adam steps taken so far */
  int n_views;
  nn_param_view views[NN_MAX_PARAMS];
  char *preprocessing; /* owned NUL-terminated string (feature preprocessing, filled by training) or NULL */
} nn_model;

/* Allocates a model for cfg, parameters initialised like PyTorch from seed (RNN: U(-1/sqrt(H), 1/sqrt(H));
 * Linear: U(-1/sqrt(H), 1/sqrt(H)) for weight and bias), Adam state zero. */
int nn_create(nn_model **out, const nn_config *cfg, uint64_t seed, zz_err *err);
void nn_free(nn_model *m);
/* Re-initialises parameters from seed and clears Adam state. */
void nn_init(nn_model *m, uint64_t seed);
/* The view named `name`, or NULL. */
const nn_param_view *nn_param_find(const nn_model *m, const char *name);
/* Replaces m->preprocessing by a copy of s (NULL clears). */
int nn_set_preprocessing(nn_model *m, const char *s, zz_err *err);
/* Copies parameters (not Adam state) from src to dst of the same config. */
int nn_copy_params(nn_model *dst, const nn_model *src, zz_err *err);

/* Activation cache and scratch for one batch shape; grows on demand, reuse it across days. threads: 1 or 2
 * (rows split over pthreads, each calling single-threaded OpenBLAS; set openblas_set_num_threads(1) when
 * using 2). */
typedef struct nn_work nn_work;
int nn_work_create(nn_work **out, int threads, zz_err *err);
void nn_work_free(nn_work *w);

/* Forward pass over x [N, T, F]. train = 1: dropout on (masks drawn deterministically from dropout_seed),
 * activations cached for nn_backward; train = 0: dropout off. Writes the head outputs before batch-norm
 * to h_out [N, K] and the score to score_out [N] (h for K = 1; c_i = mean_k BN(h)_{i,k} for K > 1);
 * either may be NULL. N >= 2 for the multivariate head (batch-norm). */
int nn_forward(nn_model *m, nn_work *w, const float *x, int N, int T, int train, uint64_t dropout_seed,
               float *h_out, float *score_out, zz_err *err);
/* Loss of the last nn_forward against y [N] (training-mode batch-norm over the N rows) and its gradient
 * with respect to every parameter, written to m->grads. loss_out may be NULL. */
int nn_backward(nn_model *m, nn_work *w, const float *y, double *loss_out, zz_err *err);

/* torch.nn.utils.clip_grad_value_: clamps every gradient to [-clip, clip]. */
void nn_clip_grad_value(nn_model *m, float clip);

typedef struct nn_adam_config {
  double lr, beta1, beta2, eps; /* 1e-3, 0.9, 0.999, 1e-8 */
} nn_adam_config;
nn_adam_config nn_adam_default(void);
/* One torch.optim.Adam step (bias-corrected, no weight decay) on m->params from m->grads. */
void nn_adam_step(nn_model *m, const nn_adam_config *cfg);

/* Native model file: versioned binary with a checksum holding config, parameters, Adam state and step,
 * the preprocessing string and an opaque extra blob (training state owned by the caller). */
int nn_save(const nn_model *m, const char *path, const void *extra, size_t extra_len, zz_err *err);
/* Loads a model; *extra (malloc'ed, caller frees) and *extra_len receive the blob when extra != NULL. */
int nn_load(nn_model **out, const char *path, void **extra, size_t *extra_len, zz_err *err);

/* safetensors (SPEC 11.2) */
int nn_export_safetensors(const nn_model *m, const char *path, zz_err *err);
int nn_import_safetensors(nn_model **out, const char *path, zz_err *err);

/* Generic safetensors reading / writing (float32; F64 tensors are converted to float on reading). */
#define ST_MAX_DIMS 4
typedef struct st_tensor {
  char *name;
  int ndim;
  int64_t shape[ST_MAX_DIMS];
  size_t numel;
  float *data;  /* owned by the st_file (reading) or the caller (writing) */
} st_tensor;
typedef struct st_file {
  int n;
  st_tensor *t;
  int n_meta;
  char **meta_key, **meta_val;
} st_file;
int st_read(st_file **out, const char *path, zz_err *err);
void st_free(st_file *f);
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);
int st_write(const char *path, int n, const st_tensor *t, int n_meta, const char *const *keys,
             const char *const *vals, zz_err *err);

/* ---- training (model-train) ---- */

#endif
