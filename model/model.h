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

/* NN_ACT_LSTM: an LSTM with Adaptive Computation Time (Graves 2016; docs/model.md "ACT-LSTM"), 1 layer. */
typedef enum { NN_GRU = 0, NN_LSTM = 1, NN_ACT_LSTM = 2 } nn_cell;
typedef enum { NN_HEAD_UNIVARIATE = 0, NN_HEAD_MULTIVARIATE = 1, NN_HEAD_CLASS3 = 2 } nn_head_kind;
/* The 3-class head's classes, in the order of the rows of head.weight [3, H] and head.bias [3]. */
enum { NN_CLASS_DOWN = 0, NN_CLASS_NEUTRAL = 1, NN_CLASS_UP = 2, NN_CLASSES = 3 };

typedef struct nn_config {
  nn_cell cell;      /* NN_GRU (default), NN_LSTM or NN_ACT_LSTM */
  int layers;        /* 1 or 2 (1 for NN_ACT_LSTM) */
  int hidden;        /* H >= 1 (64 default) */
  int input_size;    /* F >= 1 */
  int outputs;       /* K: 1 for the univariate head, K >= 2 for the multivariate head (64 default), 3 for
                        the class3 head */
  nn_head_kind head;
  double lambda;     /* orthogonal penalty weight of the multivariate head (1 default) */
  double class_weight[NN_CLASSES]; /* class3 head: cross-entropy weights of (down, neutral, up), each > 0
                                      (1, 1, 1 default: the plain mean cross-entropy) */
  double dropout;    /* p in [0, 1): between stacked layers and on the last hidden state (0.1 default) */
  /* NN_ACT_LSTM only (ignored otherwise): halting threshold epsilon in (0, 1) (0.1), the most ponder steps per
     time step N_max in 1..1000 (30), the ponder cost weight tau >= 0 (1e-3) */
  double act_epsilon;
  int act_max_steps;
  double act_tau;
} nn_config;

/* SPEC 4 defaults for an input size: GRU, 1 layer, hidden 64, univariate (K 1), lambda 1, dropout 0.1. */
nn_config nn_config_default(int input_size);
/* Checks ranges; the message names the offending field. */
int nn_config_check(const nn_config *cfg, zz_err *err);
const char *nn_cell_name(nn_cell c);          /* "gru" | "lstm" | "act_lstm" */
/* The cell named s (exact, lower case); -1 when unknown. */
int nn_cell_parse(const char *s);
const char *nn_head_name(nn_head_kind h);     /* "univariate" | "multivariate" | "class3" */
/* The head named s (exact, lower case); -1 when unknown. */
int nn_head_parse(const char *s);
/* Parses class weights "down,neutral,up" (three finite numbers > 0) into w[3]; ZZ_EUSAGE naming s otherwise. */
int nn_class_weights_parse(const char *s, double w[NN_CLASSES], zz_err *err);

/* A named view into the parameter buffer. */
#define NN_MAX_PARAMS 12
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
/* Wall seconds spent in each phase of nn_forward / nn_backward since the workspace was created, summed over
 * layers (for benchmarks): NN_PHASE_* indexes; nn_phase_name(k) names them. */
enum { NN_PHASE_INPUT, NN_PHASE_PROJECTION, NN_PHASE_RECURRENCE, NN_PHASE_DROPOUT, NN_PHASE_HEAD,
       NN_PHASE_HEAD_BACKWARD, NN_PHASE_RECURRENCE_BACKWARD, NN_PHASE_WEIGHT_GRADS, NN_PHASES };
void nn_work_phase_seconds(const nn_work *w, double out[NN_PHASES]);
/* NN_ACT_LSTM: the mean ponder steps N(t) per (row, time step) of the last nn_forward and its ponder cost
 * tau / N_rows * sum_rows sum_t (N(t) + R(t)) (the term nn_backward adds to the loss); 0 and 0 for the other
 * cells or before a forward pass. */
void nn_work_act_stats(const nn_work *w, double *mean_steps, double *ponder_cost);
const char *nn_phase_name(int phase);

/* Forward pass over x [N, T, F]. train = 1: dropout on (masks drawn deterministically from dropout_seed);
 * train = 0: dropout off. Activations are always cached for nn_backward. Writes the head outputs before batch-norm
 * to h_out [N, K] and the score to score_out [N] (h for K = 1; c_i = mean_k BN(h)_{i,k} for K > 1; for the
 * class3 head h holds the logits of (down, neutral, up) and score = P(up) - P(down) of their softmax);
 * either may be NULL. N >= 2 for the multivariate head (batch-norm). */
int nn_forward(nn_model *m, nn_work *w, const float *x, int N, int T, int train, uint64_t dropout_seed,
               float *h_out, float *score_out, zz_err *err);
/* Scoring: the forward pass of nn_forward with train = 0 (same h_out and score_out, bit for bit), without the
 * state nn_backward needs (one step's gates are kept instead of every step's), so it moves less memory; a
 * following nn_backward is refused. Used by validation and scoring. */
int nn_score(nn_model *m, nn_work *w, const float *x, int N, int T, float *h_out, float *score_out, zz_err *err);
/* Loss of the last nn_forward against y [N] (training-mode batch-norm over the N rows) and its gradient
 * with respect to every parameter, written to m->grads. It consumes the cached activations: a second
 * nn_backward needs another nn_forward first. loss_out may be NULL. For the class3 head y holds
 * class ids 0 (down), 1 (neutral), 2 (up) and the loss is the softmax cross-entropy, weighted as PyTorch's
 * cross_entropy(weight = class_weight): sum_i w_{y_i} (-log p_{i,y_i}) / sum_i w_{y_i}. For NN_ACT_LSTM the
 * loss also holds the ponder cost (nn_work_act_stats), whose gradient flows through the remainders R(t) only. */
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

/* LRP explanations (nn_lrp.c; Arras et al. 2017; docs/model.md "LRP explanations"), in double: the relevance
 * rel [N, T, F] of every input of the rows with rows[i] != 0 (NULL: every row; the others are left untouched) for
 * the explained output out [N]: the univariate head's output before batch-norm; the multivariate head's c =
 * mean_k BN(u)_k with the batch-norm over the N rows taken as a fixed affine map; the class3 head's logit
 * difference u_up - u_down. bias [N, NN_LRP_PARTS] receives the relevance absorbed by the biases and the epsilon
 * stabilisers of layer 1, layer 2 (0 for one layer) and the head, so that sum(rel) + sum(bias) = out up to
 * rounding. eps >= 0 is the epsilon rule's stabiliser. gru and lstm cells, 1 or 2 layers; act_lstm is refused
 * (ZZ_EUSAGE). Dropout is off (as in scoring). */
enum { NN_LRP_LAYER1 = 0, NN_LRP_LAYER2 = 1, NN_LRP_HEAD = 2, NN_LRP_PARTS = 3 };
int nn_lrp(const nn_model *m, const float *x /*[N,T,F]*/, int N, int T, const uint8_t *rows /*[N] or NULL*/,
           double eps, double *rel /*[N,T,F]*/, double *bias /*[N,NN_LRP_PARTS]*/, double *out /*[N]*/, zz_err *err);

/* ---- features, labels, training (model-train) ---- */

/* Sequence features (SPEC 3). A feature context turns a panel into model inputs x[N, seq, F] for
 * the stocks of one trading day, reading only data on or before that day.
 *
 * Dataset "day" (F = 6), for the window of `seq` trading days s = t-seq+1 .. t ending on day t,
 * with back-adjusted prices P = price * adj:
 *   open_s, high_s, low_s, close_s, vwap_s  each divided by close_t (the window's LAST close);
 *   volume_s / adj_s divided by the mean of volume/adj over the 20 trading days s-19 .. s.
 * A (stock, day t) window is valid when the stock is listed and not suspended on t and every one
 * of the seq x 6 values is finite (so a NaN / Inf anywhere in the inputs masks the window, it is
 * never propagated); a suspended day inside the window carries the last close and volume 0.
 * Any other name is an extra dataset from features/<name>.csv (panel->datasets): the raw column
 * values of days t-seq+1 .. t (F = n_cols); missing or non-finite values become 0 after
 * preprocessing; the window is valid when t >= seq-1, the stock is listed, not suspended on t and
 * has at least one finite value on day t (so a stock without a row on t is neither trained on nor scored).
 *
 * Preprocessing (feat_prep), per feature over the window values of the valid samples on every
 * `stride`-th date of a fitting range [t0, t1] (t0, t0+stride, ...): winsorise to
 * median +- 7 x MAD (MAD = median |v - median|, unscaled; medians of even counts average the two
 * middle values), then mean and population std of the winsorised values; the transform is
 * (clip(v) - mean) / std (std 0 -> 1) and non-finite -> 0. */
#define FEAT_DAY_N 6
#define FEAT_VOL_WINDOW 20
#define FEAT_MAD_K 7.0

typedef struct feat_ctx feat_ctx;

typedef struct feat_prep {
  char dataset[64];
  int seq, n_feat, stride;
  int32_t fit_first, fit_last; /* YYYYMMDD of the fitting range */
  double *med, *mad, *lo, *hi, *mean, *std; /* n_feat each */
} feat_prep;

int feat_create(feat_ctx **out, const panel *p, const char *dataset, int seq, zz_err *err);
void feat_free(feat_ctx *c);
int feat_n_features(const feat_ctx *c);
int feat_seq(const feat_ctx *c);
/* 1 when the window of stock i ending on day t is valid (see above). */
int feat_valid(const feat_ctx *c, int t, int i);
/* Raw (unpreprocessed) window of stock i ending on t into x[seq * F] (double); NaN where missing.
 * Returns 1 when valid. */
int feat_raw_window(const feat_ctx *c, int t, int i, double *x);

feat_prep *feat_prep_create(int n_feat);
void feat_prep_free(feat_prep *pp);
/* Estimates the preprocessing on dates t0..t1 (date indices, inclusive), every stride-th date. */
int feat_prep_fit(const feat_ctx *c, int t0, int t1, int stride, feat_prep **out, zz_err *err);
/* Text form for model-file metadata (one line, round-trips every double) and back. */
char *feat_prep_to_string(const feat_prep *pp);
int feat_prep_from_string(const char *s, feat_prep **out, zz_err *err);
/* Preprocessed inputs x[n, seq, F] (float) of stocks idx[0..n-1] on day t. Rows of invalid
 * windows are written as zeros (callers pass valid stocks). */
void feat_batch(const feat_ctx *c, const feat_prep *pp, int t, const int *idx, int n, float *x);

/* Labels (SPEC 3): y(t, i) = P_close(t+skip+horizon) / P_close(t+skip) - 1 on adjusted closes
 * (defaults skip 1, horizon 10: close of T+1 to close of T+11). label_raw writes that return
 * (NaN when t+skip+horizon is beyond the calendar or the stock is unlisted at either end).
 * label_compute neutralises it per date t (risk_neutralise: industry dummies + log market cap,
 * cap = float_mv, else total_mv) over the stocks listed and not suspended on t with a finite
 * return and cap, then z-scores the residuals (zz_zscore: mean 0, population std 1; residuals all
 * equal give 0). Dates with fewer than 3 such stocks get NaN. Both write n_dates * n_stocks doubles, date-major.
 * eligible (n_dates x n_stocks, panel_universe_mask; NULL: every stock-day) restricts label_compute to the
 * universe: an ineligible (t, i) gets NaN (neither trained nor validated on) and is left out of date t's
 * neutralisation and z-score. Only eligibility on the label's date t counts, not on t+1 .. t+11. */
#define LABEL_SKIP 1
#define LABEL_HORIZON 10
int label_raw(const panel *p, int skip, int horizon, double *y, zz_err *err);
int label_compute(const panel *p, int skip, int horizon, const uint8_t *eligible, double *y, zz_err *err);
const char *feat_dataset(const feat_ctx *c);

/* Labels of the class3 head (seeds 000, 001; issue 15): class ids NN_CLASS_DOWN 0 / NEUTRAL 1 / UP 2 from the
 * RAW T+1 -> T+11 return (label_raw, not the neutralised label), either
 *   absolute (CLASS3_ABSOLUTE): up when r > up (0.03), down when r < down (-0.03), else neutral; or
 *   rank (CLASS3_RANK), per date over the stocks listed and not suspended on t with a finite r: with
 *     a = the average rank of r (1-based, ascending, ties share their mean rank) among those n stocks, up
 *     when n + 1 - a <= n * top (top 0.3), down when a <= n * bottom (bottom 0.3), else neutral (distinct
 *     returns: floor(n top) ups, floor(n bottom) downs); dates with fewer than 3 such stocks get NaN. */
typedef enum { CLASS3_ABSOLUTE = 0, CLASS3_RANK = 1 } class3_label_mode;
typedef struct class3_label_opts {
  class3_label_mode mode; /* CLASS3_ABSOLUTE default */
  double up, down;        /* absolute thresholds on the return: 0.03, -0.03 (down < up) */
  double top, bottom;     /* rank fractions: 0.3, 0.3 (each in (0, 1), top + bottom <= 1) */
} class3_label_opts;
void class3_label_init(class3_label_opts *o);
/* Checks the ranges; the message names the option. */
int class3_label_check(const class3_label_opts *o, zz_err *err);
const char *class3_label_mode_name(class3_label_mode m); /* "absolute" | "rank" */
/* Class ids (as doubles 0, 1, 2; NaN where r is NaN, where the stock is not listed or is suspended on t
 * (rank mode: also on dates with fewer than 3 stocks)) from the raw returns r (n_dates x n_stocks,
 * label_raw's, possibly NaN-masked by the caller's universe) into y (same shape; y may be r). */
int class3_label_compute(const panel *p, const double *r, const class3_label_opts *o, double *y, zz_err *err);

/* Classification statistics of the class3 head (class3_eval.c): a confusion matrix n[true][predicted] over
 * stock-days; the predicted class is the argmax of the class probabilities (the first on ties, in the order
 * down, neutral, up). */
typedef struct class3_confusion {
  int64_t n[NN_CLASSES][NN_CLASSES]; /* [true class][predicted class] */
} class3_confusion;
/* The argmax of p[3] (-1 when a p is not finite). */
int class3_predict(const double p[NN_CLASSES]);
/* Adds the stock-days k of [k0, k1) with a finite label y[k] in {0, 1, 2} and finite probabilities
 * prob[c][k] (c = down, neutral, up) to *cm; returns how many were added. */
int64_t class3_confusion_add(class3_confusion *cm, const double *y, const double *const prob[NN_CLASSES], size_t k0,
                             size_t k1);
int64_t class3_confusion_total(const class3_confusion *cm);
/* Share of the diagonal; NaN when empty. */
double class3_accuracy(const class3_confusion *cm);
/* precision of class c: n[c][c] / (stock-days predicted c); recall: n[c][c] / (stock-days truly c); NaN when the
 * denominator is 0. */
double class3_precision(const class3_confusion *cm, int c);
double class3_recall(const class3_confusion *cm, int c);

/* Training (SPEC 4, seed 002 1.2). One trading day is one batch (its valid stocks with a finite
 * label), days shuffled per epoch from (seed, epoch); Adam, clipping by value; early stopping on
 * the validation mean daily RankIC (Spearman of score vs the raw T+1 -> T+11 return) with
 * `patience`, keeping the best epoch's weights. After every epoch a checkpoint (parameters, Adam
 * state, best weights, epoch and patience counters, the log so far; the shuffle and dropout
 * streams are functions of (seed, epoch, day), so no other RNG state exists) is written atomically
 * next to the model; resume continues from it and ends with the same bytes as an uninterrupted
 * run. */
typedef struct train_opts {
  nn_config net;         /* input_size is set from the features */
  int linear;            /* 1: ridge baseline on the flattened window instead of an RNN */
  const char *dataset;   /* "day" or an extra dataset name */
  int seq;               /* 40 */
  int epochs;            /* maximum epochs (100) */
  int patience;          /* 20 */
  double lr;             /* 1e-3 */
  float clip;            /* 3 */
  int seeds;             /* 3 */
  uint64_t seed;         /* base seed; model k uses seed + k */
  int first_seed;        /* train models first_seed .. seeds-1 only (0: all); one model per call when a
                            sweep's task list trains each (year, seed) as its own task: model k's bytes do
                            not depend on which models were trained before it in the process */
  int threads;           /* 1 or 2 */
  int train_years;       /* 10 */
  int resume;            /* continue from checkpoints */
  int stop_after_epochs; /* test hook: stop (as if killed) after this many epochs of a run; 0 off */
  int prep_stride;       /* preprocessing fitting date stride; 0 = automatic */
  int day_stride;        /* train and validate on every k-th day of the training and validation
                            periods (0 or 1: every day); a smaller, faster run (the demo) */
  int progress;          /* 1: progress bar on stderr */
  panel_universe_opts universe; /* universe screen of labels and validation (data.h): ST excluded, listed
                                   >= 60 trading days (panel_universe_init's defaults) */
  class3_label_opts class3;     /* labels of the class3 head (net.head == NN_HEAD_CLASS3): class ids from the raw
                                   return instead of the neutralised z-scored label */
} train_opts;
void train_default_opts(train_opts *o);

/* Date-index split for scoring year Y: training [train0, train1], validation [val0, val1],
 * scoring [score0, score1]. Validation is year Y-1, training the train_years years before it;
 * the last skip+horizon dates before val0 and before score0 are purged from training and
 * validation respectively, so no label reaches past the next period's start. */
typedef struct train_split {
  int year;
  int train0, train1, val0, val1, score0, score1;
  int short_history; /* 1 when fewer than train_years years of training data exist */
} train_split;
int train_split_year(const panel *p, int year, int train_years, int seq, train_split *sp, zz_err *err);

/* Trains (or resumes) all seeds (o->first_seed .. o->seeds-1) of one year into dir/Y<year>_seed<k>.zzm (.lin for linear), with
 * .ckpt checkpoints and .log.csv training logs. Trains and validates on the stock-days of
 * o->universe only (the label and the validation return of an ineligible stock-day are NaN); the
 * feature preprocessing is fitted on every valid window of the training period. Returns ZZ_OK, or ZZ_ENUMERIC for a non-finite
 * loss (the message names epoch and day; the last good checkpoint stays). *stopped is set to 1 when
 * stop_after_epochs ended the run early. */
int train_year(const panel *p, const train_opts *o, int year, const char *dir, int *stopped, zz_err *err);

/* Scores every trading day (freq 0) or the last trading day of each week (freq 1) of years
 * y0..y1 with the models found in dir, averaging the per-date z-scored scores of the seeds, and
 * writes path: date,code,score (and f1..fK, the first seed's batch-normalised factor unit, for the
 * multivariate head; and always, for the class3 head, p_down,p_neutral,p_up: the seeds' mean softmax
 * probabilities, whose argmax is the predicted class). Only stock-days of the universe (panel_universe_mask with the default
 * panel_universe_opts: no ST, listed >= 60 trading days) with a valid window are scored; the
 * per-date z-scores are taken over them. */
int score_write(const panel *p, const char *dir, int y0, int y1, int weekly, const char *path, zz_err *err);
/* As score_write; factor_unit = 0 leaves out the f1..fK columns (date,code,score and, for class3, the
 * p_* columns); u is the
 * universe screen (NULL: panel_universe_init's defaults). */
int score_write_ex(const panel *p, const char *dir, int y0, int y1, int weekly, int factor_unit,
                   const panel_universe_opts *u, const char *path, zz_err *err);
/* Daily scores (date,code,score) written to path as score_write_ex does, and handed over in memory:
 * *scores = an n_dates x n_stocks matrix (NaN where not scored) holding exactly the values written,
 * for the caller to free. */
int score_write_keep(const panel *p, const char *dir, int y0, int y1, const panel_universe_opts *u, const char *path,
                     double **scores, zz_err *err);

/* Validation dump (the hyper-parameter study; docs/model.md "Validation dump"). The model at model_path (a .zzm
 * of train_year for `year`) scores again the validation days of year (train_split_year with o->train_years and
 * the model's seq; every o->day_stride-th day from the first, as training validates) on the rows validation uses:
 * a valid window and a finite raw T+1 -> T+11 return on a stock-day of o->universe. Writes csv_path (to a
 * temporary name renamed at the end): date,code,score,label[,f1..fK] with score = the network's output (float),
 * label = that raw return, and for the multivariate head f1..fK = the head outputs batch-normalised per date,
 * (h - mean) / sqrt(population var + 1e-5), rounded to float (as scores.csv). From exactly the values written:
 * val_ic = the mean over the days with a defined RankIC of zz_spearman(score, label) (the number early stopping
 * maximised for the best epoch); units_corr = the units' mutual correlation (zz_unit_correlation) over the days
 * (NaN without units). */
typedef struct train_val_dump {
  double val_ic, units_corr;
  int K;            /* factor units (0: not a multivariate head) */
  int n_days;       /* validation days with at least 2 rows */
  int n_ic_days;    /* of which with a defined RankIC */
  long n_rows;
} train_val_dump;
int train_validation_dump(const panel *p, const train_opts *o, int year, const char *model_path, const char *csv_path,
                          train_val_dump *out, zz_err *err);

/* The daily RankIC of validation: zz_spearman (data.h, "shared statistics"): Spearman rank correlation
 * of a[n], b[n] with average ranks for ties; NaN when n < 2, a side is constant or a value is NaN. */
double train_rank_ic(const double *a, const double *b, int n);

/* scores.csv (written by score_write / score_write_matrix, read back here, score_file.c): CSV
 * date,code,score[,more columns]. Each column becomes a dense n_dates x n_stocks matrix
 * aligned to the panel (NaN where absent). Dates outside the panel's calendar, unknown codes, NaN or
 * non-numeric values are errors naming file:line:column. */
typedef struct score_table {
  int n_cols;
  char (*names)[64];
  double **values;     /* n_cols matrices */
  int32_t first_date, last_date;
  size_t n_rows;
} score_table;
int score_table_read(const char *path, const panel *p, score_table **out, zz_err *err);
void score_table_free(score_table *s);
/* Writes a dense n_dates x n_stocks score matrix (NaN = no row) as scores.csv (date,code,score), to a
 * temporary name renamed at the end. */
int score_write_matrix(const panel *p, const double *v, const char *path, zz_err *err);



/* LRP explanations of one trained model on one date (explain.c; docs/model.md "LRP explanations"). */
typedef struct explain_result {
  int n, T, F;                 /* stocks, time steps (lags), features */
  int32_t date;                /* YYYYMMDD */
  double eps;                  /* the epsilon rule's stabiliser (NaN when read back) */
  char (*codes)[ZZ_CODE_LEN];  /* [n], in the panel's (code) order */
  char (*features)[64];        /* [F]: open,high,low,close,vwap,volume for the day dataset, else the columns */
  double *rel;                 /* [n, T, F] by time step s (s = T-1 is the date itself: lag = T-1-s) */
  double *bias;                /* [n, NN_LRP_PARTS] relevance absorbed by biases and stabilisers */
  double *out;                 /* [n] the explained output (nn_lrp) */
  double *score;               /* [n] the model's score as nn_forward gives it (float) */
} explain_result;
/* Explains the model file `model` (a .zzm with its preprocessing; a directory: its Y<year of date>_seed0.zzm) on
 * trading day `date` for the stocks score_write scores that day (default universe, valid window), or only for
 * codes[0..n_codes-1] (each must be scored that day; the multivariate head's batch-norm still runs over all of
 * them). eps >= 0 the stabiliser. ZZ_EUSAGE for a date not in the calendar or an act_lstm model. */
int explain_run(const panel *p, const char *model, int32_t date, const char *const *codes, int n_codes, double eps,
                explain_result **out, zz_err *err);
void explain_free(explain_result *r);
/* Mean |R| over the stocks per (lag, feature) cell, as shares of their sum: cell [T, F] (lag-major, lag 0 first;
 * NULL: not wanted), summed by feature [F] and by lag [T]. All zero when every relevance is 0. */
void explain_shares(const explain_result *r, double *cell, double *by_feature, double *by_lag);
/* Writes dir/relevance.csv, totals.csv, stocks.csv and summary.csv (formats in explain.c and docs/model.md);
 * creates dir when missing. */
int explain_write(const explain_result *r, const char *dir, zz_err *err);
/* Reads dir/relevance.csv and dir/stocks.csv back (eps NaN). */
int explain_read(const char *dir, explain_result **out, zz_err *err);


#endif
