/* train_loop.c — one model's training: per-day batches in a seeded shuffled order, Adam with
 * gradient clipping, validation mean daily RankIC, early stopping with the best epoch's weights,
 * an atomically written checkpoint after every epoch (resume gives the same bytes as an
 * uninterrupted run), the training log CSV and the terminal progress bar. See model.h. */
#include "model.h"
#include "nn_internal.h"
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void train_default_opts(train_opts *o) {
  memset(o, 0, sizeof *o);
  o->net = nn_config_default(FEAT_DAY_N);
  o->dataset = "day";
  o->seq = 40;
  o->epochs = 100;
  o->patience = 20;
  o->lr = 1e-3;
  o->clip = 3.0f;
  o->seeds = 3;
  o->seed = 1;
  o->threads = 1;
  o->train_years = 10;
  panel_universe_init(&o->universe);
  class3_label_init(&o->class3);
}

/* splitmix64 of a value, as a hash: the networks' generator (nn_internal.h) applied to a copy */
static uint64_t train_mix(uint64_t x) { return nn_splitmix64(&x); }

double train_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- RankIC */

double train_rank_ic(const double *a, const double *b, int n) { return zz_spearman(a, b, n); }

/* ----------------------------------------------------------- checkpoint blob */

#define CKPT_MAGIC 0x54504B435A5Au /* "ZZCKPT" */
typedef struct ckpt_head {
  uint64_t magic;
  uint64_t seed;
  int32_t epoch_done, best_epoch, bad, done;
  double best_ic;
  int32_t n_rec, pad;
  uint64_t n_params;
} ckpt_head;

int train_write_log(const char *path, const train_rec *rec, int n, int act, zz_err *err) {
  FILE *f = fopen(path, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot write the training log", path);
  fprintf(f, "epoch,train_loss,val_rankic,seconds,best,train_s,validate_s,batch_s%s\n", act ? ",ponder_steps" : "");
  char a[40], b[40], c[40], d[40];
  for (int k = 0; k < n; k++) {
    fprintf(f, "%d,%s,%s,%s,%d", rec[k].epoch, zz_fmt_double(a, sizeof a, rec[k].train_loss),
            zz_fmt_double(b, sizeof b, rec[k].val_ic), zz_fmt_double(c, sizeof c, rec[k].seconds), rec[k].best);
    fprintf(f, ",%s,%s,%s", zz_fmt_double(a, sizeof a, rec[k].train_s), zz_fmt_double(b, sizeof b, rec[k].validate_s),
            zz_fmt_double(c, sizeof c, rec[k].batch_s));
    if (act) fprintf(f, ",%s", zz_fmt_double(d, sizeof d, rec[k].ponder_steps));
    fputc('\n', f);
  }
  if (fclose(f)) return zz_fail(err, ZZ_EIO, "%s: write failed", path);
  return ZZ_OK;
}

/* Saves m (and its Adam state) with extra to path atomically (path.tmp, then rename). */
int train_save_atomic(const nn_model *m, const char *path, const void *extra, size_t n, zz_err *err) {
  char tmp[4200];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
    return zz_fail(err, ZZ_EUSAGE, "path too long: %.100s...", path);
  int rc = nn_save(m, tmp, extra, n, err);
  if (rc) return rc;
  if (rename(tmp, path)) {
    remove(tmp);
    return zz_fail(err, ZZ_EIO, "%s: cannot rename %s into place", path, tmp);
  }
  return ZZ_OK;
}

static int save_ckpt(const nn_model *m, const char *path, const ckpt_head *h, const train_rec *rec,
                     const float *best, zz_err *err) {
  const size_t n = sizeof *h + (size_t)h->n_rec * sizeof *rec + (size_t)h->n_params * sizeof *best;
  unsigned char *blob = malloc(n);
  if (!blob) return zz_fail(err, ZZ_ENOMEM, "out of memory for a checkpoint");
  memcpy(blob, h, sizeof *h);
  memcpy(blob + sizeof *h, rec, (size_t)h->n_rec * sizeof *rec);
  memcpy(blob + sizeof *h + (size_t)h->n_rec * sizeof *rec, best, (size_t)h->n_params * sizeof *best);
  int rc = train_save_atomic(m, path, blob, n, err);
  free(blob);
  return rc;
}

static int same_cfg(const nn_config *a, const nn_config *b) {
  return a->cell == b->cell && a->layers == b->layers && a->hidden == b->hidden && a->input_size == b->input_size &&
         a->outputs == b->outputs && a->head == b->head && a->lambda == b->lambda && a->dropout == b->dropout &&
         !memcmp(a->class_weight, b->class_weight, sizeof a->class_weight) && a->act_epsilon == b->act_epsilon &&
         a->act_max_steps == b->act_max_steps && a->act_tau == b->act_tau;
}

/* The final model: the best epoch's weights with a fresh optimiser state, the preprocessing and a
 * summary blob. */
static int write_final(const nn_config *cfg, uint64_t seed, const float *best, const char *prep, const ckpt_head *h,
                       int year, const char *model_path, zz_err *err) {
  nn_model *bm = NULL;
  int rc = nn_create(&bm, cfg, seed, err);
  if (rc) return rc;
  memcpy(bm->params, best, bm->n_params * sizeof *best);
  char summary[256];
  snprintf(summary, sizeof summary, "best_epoch=%d;val_rankic=%.17g;epochs=%d;year=%d;seed=%llu", h->best_epoch,
           h->best_ic, h->epoch_done, year, (unsigned long long)seed);
  if (!(rc = nn_set_preprocessing(bm, prep, err))) rc = train_save_atomic(bm, model_path, summary, strlen(summary) + 1, err);
  nn_free(bm);
  return rc;
}

/* ------------------------------------------------------------------ batches */

/* Stocks of day t with a valid window and a finite target. */
int train_day_rows(const feat_ctx *fc, const double *target, const panel *p, int t, int *idx) {
  int n = 0;
  for (int i = 0; i < p->n_stocks; i++)
    if (feat_valid(fc, t, i) && isfinite(target[panel_at(p, t, i)])) idx[n++] = i;
  return n;
}

double train_validate_nn(nn_model *m, nn_work *w, const train_data *d, int t0, int t1, zz_err *err, int *rc) {
  const panel *p = d->p;
  double sum = 0;
  int days = 0;
  *rc = ZZ_OK;
  const int step = d->val_stride > 1 ? d->val_stride : 1;
  for (int t = t0; t <= t1; t += step) {
    const int n = train_day_rows(d->fc, d->ret, p, t, d->idx);
    if (n < 2) continue;
    feat_batch(d->fc, d->pp, t, d->idx, n, d->x);
    *rc = nn_score(m, w, d->x, n, feat_seq(d->fc), NULL, d->s, err);
    if (*rc) return NAN;
    for (int r = 0; r < n; r++) d->a[r] = d->s[r], d->b[r] = d->ret[panel_at(p, t, d->idx[r])];
    const double ic = train_rank_ic(d->a, d->b, n);
    if (isfinite(ic)) sum += ic, days++;
  }
  return days ? sum / days : NAN;
}

void train_progress(const char *tag, int epoch, int max_epochs, double loss, double ic, double best, double eta) {
  char l[40], v[40], b[40];
  snprintf(l, sizeof l, "%.5f", loss);
  snprintf(v, sizeof v, "%+.4f", ic);
  snprintf(b, sizeof b, "%+.4f", best);
  const int width = 20, fill = max_epochs > 0 ? (int)((double)width * epoch / max_epochs) : width;
  char bar[32];
  for (int k = 0; k < width; k++) bar[k] = k < fill ? '#' : '.';
  bar[width] = 0;
  fprintf(stderr, "\r%s [%s] epoch %d/%d loss %s val RankIC %s best %s left <= %.0fs   ", tag, bar, epoch,
          max_epochs, l, v, b, eta);
  fflush(stderr);
}

int train_one_nn(const train_data *d, const train_opts *o, const train_split *sp, uint64_t seed, const char *base,
                 int *stopped, zz_err *err) {
  const panel *p = d->p;
  const int S = feat_seq(d->fc);
  char model_path[4096], ckpt_path[4200], log_path[4200], tag[64];
  if ((size_t)snprintf(model_path, sizeof model_path, "%s.zzm", base) >= sizeof model_path ||
      (size_t)snprintf(ckpt_path, sizeof ckpt_path, "%s.ckpt", base) >= sizeof ckpt_path ||
      (size_t)snprintf(log_path, sizeof log_path, "%s.log.csv", base) >= sizeof log_path)
    return zz_fail(err, ZZ_EUSAGE, "model path too long: %.100s...", base);
  snprintf(tag, sizeof tag, "Y%d seed %llu", sp->year, (unsigned long long)seed);

  nn_config cfg = o->net;
  cfg.input_size = feat_n_features(d->fc);
  nn_model *m = NULL;
  nn_work *w = NULL;
  train_rec *rec = calloc((size_t)(o->epochs > 0 ? o->epochs : 1), sizeof *rec);
  float *best = NULL;
  int *order = malloc((size_t)(sp->train1 - sp->train0 + 1) * sizeof *order);
  float *y = malloc((size_t)(p->n_stocks ? p->n_stocks : 1) * sizeof *y);
  ckpt_head h = {.magic = CKPT_MAGIC, .seed = seed, .best_ic = -INFINITY};
  int rc = ZZ_OK;
  if (!rec || !order || !y) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for training");
    goto out;
  }
  if ((rc = nn_create(&m, &cfg, seed, err)) || (rc = nn_work_create(&w, o->threads, err))) goto out;
  best = malloc(m->n_params * sizeof *best);
  if (!best) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory for training");
    goto out;
  }
  memcpy(best, m->params, m->n_params * sizeof *best);
  h.n_params = m->n_params;

  if (o->resume && access(ckpt_path, F_OK) == 0) {
    nn_model *cm = NULL;
    void *blob = NULL;
    size_t blen = 0;
    if ((rc = nn_load(&cm, ckpt_path, &blob, &blen, err))) {
      zz_wrap(err, "resuming from %s", ckpt_path);
      goto out;
    }
    ckpt_head ch;
    int ok = blen >= sizeof ch;
    if (ok) memcpy(&ch, blob, sizeof ch);
    ok = ok && ch.magic == CKPT_MAGIC && ch.seed == seed && ch.n_params == m->n_params && ch.n_rec >= 0 &&
         ch.n_rec <= o->epochs && same_cfg(&cm->cfg, &cfg) &&
         blen == sizeof ch + (size_t)ch.n_rec * sizeof *rec + ch.n_params * sizeof *best;
    if (ok) {
      h = ch;
      memcpy(rec, (unsigned char *)blob + sizeof ch, (size_t)ch.n_rec * sizeof *rec);
      memcpy(best, (unsigned char *)blob + sizeof ch + (size_t)ch.n_rec * sizeof *rec, ch.n_params * sizeof *best);
      memcpy(m->params, cm->params, m->n_params * sizeof *m->params);
      memcpy(m->adam_m, cm->adam_m, m->n_params * sizeof *m->adam_m);
      memcpy(m->adam_v, cm->adam_v, m->n_params * sizeof *m->adam_v);
      m->adam_step = cm->adam_step;
    }
    nn_free(cm);
    free(blob);
    if (!ok) {
      rc = zz_fail(err, ZZ_EUSAGE,
                   "%s: checkpoint does not match these options (network, seed or max epochs differ); delete it "
                   "or train without --resume",
                   ckpt_path);
      goto out;
    }
    if (h.done && access(model_path, F_OK) == 0) {
      fprintf(stderr, "%s: already complete (epoch %d best), skipping\n", model_path, h.best_epoch);
      goto out;
    }
    fprintf(stderr, "%s: resuming after epoch %d\n", tag, h.epoch_done);
    if (h.done || h.epoch_done >= o->epochs || h.bad >= o->patience) {
      /* already at the (possibly lowered) epoch or patience limit: finish without another epoch */
      h.done = 1;
      if ((rc = write_final(&cfg, seed, best, d->prep_str, &h, sp->year, model_path, err)) ||
          (rc = nn_set_preprocessing(m, d->prep_str, err)) || (rc = save_ckpt(m, ckpt_path, &h, rec, best, err)))
        goto out;
    }
  }

  const nn_adam_config ad0 = nn_adam_default();
  nn_adam_config ad = ad0;
  ad.lr = o->lr;
  const int tty = o->progress && isatty(2);
  int ran = 0;
  double last_draw = train_now();
  while (!h.done) {
    const int epoch = h.epoch_done + 1;
    const double t_start = train_now();
    /* the day order of this epoch: Fisher-Yates from (seed, epoch) */
    int nd = 0;
    const int dstep = o->day_stride > 1 ? o->day_stride : 1;
    for (int t = sp->train0; t <= sp->train1; t += dstep) order[nd++] = t;
    uint64_t st = train_mix(seed ^ train_mix((uint64_t)epoch * 0x100000001B3ull));
    for (int k = nd - 1; k > 0; k--) {
      st = train_mix(st);
      const int j = (int)(st % (uint64_t)(k + 1));
      const int tmp = order[k];
      order[k] = order[j], order[j] = tmp;
    }
    double loss_sum = 0, ponder_sum = 0, ponder_rows = 0, batch_s = 0;
    int loss_days = 0;
    for (int k = 0; k < nd; k++) {
      const int t = order[k];
      const double tb = train_now();
      const int n = train_day_rows(d->fc, d->lab, p, t, d->idx);
      if (n < 2) continue;
      feat_batch(d->fc, d->pp, t, d->idx, n, d->x);
      for (int r = 0; r < n; r++) y[r] = (float)d->lab[panel_at(p, t, d->idx[r])];
      batch_s += train_now() - tb;
      const uint64_t dseed = train_mix(seed ^ train_mix(((uint64_t)epoch << 32) ^ (uint64_t)t));
      double loss = NAN;
      if ((rc = nn_forward(m, w, d->x, n, S, 1, dseed, NULL, NULL, err)) ||
          (rc = nn_backward(m, w, y, &loss, err))) {
        char dbuf[16];
        zz_wrap(err, "training epoch %d, day %s (the checkpoint after epoch %d stays in %s)", epoch,
                zz_date_format(p->dates[t], dbuf), h.epoch_done, ckpt_path);
        goto out;
      }
      if (!isfinite(loss)) {
        char dbuf[16];
        rc = zz_fail(err, ZZ_ENUMERIC,
                     "non-finite training loss at epoch %d, day %s (%d stocks); stopped, the last good checkpoint "
                     "(after epoch %d) is kept in %s; try a lower --lr",
                     epoch, zz_date_format(p->dates[t], dbuf), n, h.epoch_done, ckpt_path);
        goto out;
      }
      double steps, cost;
      nn_work_act_stats(w, &steps, &cost);
      ponder_sum += steps * n, ponder_rows += n;
      nn_clip_grad_value(m, o->clip);
      nn_adam_step(m, &ad);
      loss_sum += loss, loss_days++;
      if (tty && train_now() - last_draw > 1.0) { /* within-epoch progress, at most once a second */
        last_draw = train_now();
        fprintf(stderr, "\r%s epoch %d/%d day %d/%d loss %.5f   ", tag, epoch, o->epochs, k + 1, nd,
                loss_sum / loss_days);
        fflush(stderr);
      }
    }
    const double t_val = train_now();
    const double val = train_validate_nn(m, w, d, sp->val0, sp->val1, err, &rc);
    if (rc) {
      zz_wrap(err, "validation after epoch %d", epoch);
      goto out;
    }
    train_rec *r = &rec[h.n_rec++];
    r->epoch = epoch;
    r->train_loss = loss_days ? loss_sum / loss_days : NAN;
    r->val_ic = val;
    r->ponder_steps = cfg.cell == NN_ACT_LSTM && ponder_rows > 0 ? ponder_sum / ponder_rows : NAN;
    const double t_end = train_now();
    r->train_s = t_val - t_start;
    r->validate_s = t_end - t_val;
    r->batch_s = batch_s;
    r->seconds = t_end - t_start;
    if (epoch == 1 || (isfinite(val) && val > h.best_ic)) {
      if (isfinite(val) || epoch == 1) h.best_ic = isfinite(val) ? val : -INFINITY;
      h.best_epoch = epoch;
      h.bad = 0;
      memcpy(best, m->params, m->n_params * sizeof *best);
      r->best = 1;
    } else {
      h.bad++;
    }
    h.epoch_done = epoch;
    if (h.bad >= o->patience || epoch >= o->epochs) h.done = 1;
    if (h.done) {
      if ((rc = write_final(&cfg, seed, best, d->prep_str, &h, sp->year, model_path, err))) goto out;
    }
    if ((rc = nn_set_preprocessing(m, d->prep_str, err)) || (rc = save_ckpt(m, ckpt_path, &h, rec, best, err)) ||
        (rc = train_write_log(log_path, rec, h.n_rec, cfg.cell == NN_ACT_LSTM, err)))
      goto out;
    double mean_s = 0;
    for (int k = 0; k < h.n_rec; k++) mean_s += rec[k].seconds;
    mean_s /= h.n_rec;
    int left = o->epochs - epoch;
    if (o->patience - h.bad < left) left = o->patience - h.bad;
    if (tty) train_progress(tag, epoch, o->epochs, r->train_loss, val, h.best_ic, h.done ? 0 : mean_s * left);
    ran++;
    if (!h.done && o->stop_after_epochs > 0 && ran >= o->stop_after_epochs) {
      *stopped = 1;
      break;
    }
  }
  if (tty) fputc('\n', stderr);
  if (h.done)
    fprintf(stderr, "%s: %d epochs, best epoch %d, validation RankIC %.4f -> %s\n", tag, h.epoch_done, h.best_epoch,
            h.best_ic, model_path);
out:
  nn_free(m);
  nn_work_free(w);
  free(rec), free(best), free(order), free(y);
  return rc;
}
