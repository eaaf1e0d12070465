/* train_internal.h — private to model/: the state shared by train_loop.c, train_rolling.c,
 * linear_baseline.c and score.c. */
#ifndef ZZ_TRAIN_INTERNAL_H
#define ZZ_TRAIN_INTERNAL_H

#include "model.h"

typedef struct train_rec {
  int32_t epoch, best;
  double train_loss, val_ic, seconds;
  double train_s, validate_s; /* seconds of the epoch's training days and of its validation (seconds = their sum,
                                 taken as one interval) */
  double batch_s;             /* of train_s: preparing the batches (row selection, feature windows, labels) */
  double ponder_steps; /* act_lstm: mean ponder steps per (stock-day, time step) of the epoch's training batches;
                          NaN for the other cells */
} train_rec;

/* Everything a year's training reads: features, preprocessing, labels and raw returns, scratch. */
typedef struct train_data {
  const panel *p;
  const feat_ctx *fc;
  const feat_prep *pp;
  const char *prep_str;
  const double *lab; /* neutralised z-scored labels, n_dates x n_stocks */
  const double *ret; /* raw T+1 -> T+11 returns (validation RankIC) */
  int *idx;          /* n_stocks scratch */
  float *x;          /* n_stocks x seq x F scratch */
  float *s;          /* n_stocks scores */
  double *a, *b;     /* n_stocks scratch */
  int val_stride;    /* validate on every k-th day (train_opts.day_stride; <= 1: every day) */
} train_data;

double train_now(void);
int train_day_rows(const feat_ctx *fc, const double *target, const panel *p, int t, int *idx);
/* Columns epoch,train_loss,val_rankic,seconds,best,train_s,validate_s,batch_s; act = 1 (the act_lstm cell) adds
 * ponder_steps. */
int train_write_log(const char *path, const train_rec *rec, int n, int act, zz_err *err);
int train_save_atomic(const nn_model *m, const char *path, const void *extra, size_t n, zz_err *err);
double train_validate_nn(nn_model *m, nn_work *w, const train_data *d, int t0, int t1, zz_err *err, int *rc);
int train_one_nn(const train_data *d, const train_opts *o, const train_split *sp, uint64_t seed, const char *base,
                 int *stopped, zz_err *err);

/* Ridge baseline (linear_baseline.c): trains on the flattened preprocessed window, picks the ridge
 * penalty on the validation RankIC, writes base.lin. */
typedef struct lin_model {
  int seq, n_feat, dim; /* dim = seq * n_feat; coef has dim + 1 entries (last = intercept) */
  double lambda, val_ic;
  double *coef;
  char *prep;
} lin_model;
int lin_train(const train_data *d, const train_split *sp, const char *base, zz_err *err);
int lin_load(lin_model **out, const char *path, zz_err *err);
void lin_free(lin_model *m);
void lin_predict(const lin_model *m, const float *x, int n, float *score);

#endif
