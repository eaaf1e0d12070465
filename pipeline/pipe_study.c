/* pipe_study.c — `zhizeng study`: the hyper-parameter study of seed 002 section 2 (tables 2-5, figures 6-11).
 * Every setting (the configuration with one value of each --vary key; several keys: their cartesian product)
 * trains one model (seed model.model_seed) of the first head of model.heads on the first dataset of
 * model.datasets for ONE rolling year, and is a cached stage of its own (OUT/stages/setting-<hash16>/, DONE
 * written last), independent of the others. The table (stopping epoch, best epoch, best validation RankIC, the
 * factor units' mutual correlation on the validation set), the curves by epoch and their charts are assembled
 * from the stages. docs/pipeline.md, "Hyper-parameter study". */
#include "pipe_internal.h"

#include "reports.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void pipe_study_init(pipe_study_opts *o) { memset(o, 0, sizeof *o); }

int pipe_study_add_vary(pipe_study_opts *o, const pipe_config *base, const char *arg, zz_err *err) {
  const char *eq = strchr(arg, '='), *dot = strchr(arg, '.');
  if (!eq || !dot || dot > eq || eq == arg)
    return zz_fail(err, ZZ_EUSAGE, "--vary '%s': expected section.key=value1,value2,...", arg);
  if (o->n_vary == PIPE_STUDY_MAX_VARY) return zz_fail(err, ZZ_EUSAGE, "at most %d --vary options", PIPE_STUDY_MAX_VARY);
  const int v = o->n_vary;
  if (eq - arg >= (long)sizeof o->key[v]) return zz_fail(err, ZZ_EUSAGE, "--vary '%s': key too long", arg);
  snprintf(o->key[v], sizeof o->key[v], "%.*s", (int)(eq - arg), arg);
  for (int k = 0; k < v; k++)
    if (!strcmp(o->key[k], o->key[v])) return zz_fail(err, ZZ_EUSAGE, "--vary %s given twice", o->key[v]);
  o->n_values[v] = 0;
  const char *p = eq + 1;
  for (;;) {
    const char *comma = strchr(p, ',');
    const size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == 0) return zz_fail(err, ZZ_EUSAGE, "--vary '%s': empty value", arg);
    if (len >= sizeof o->value[v][0]) return zz_fail(err, ZZ_EUSAGE, "--vary '%s': value too long", arg);
    if (o->n_values[v] == PIPE_STUDY_MAX_VALUES)
      return zz_fail(err, ZZ_EUSAGE, "--vary %s: at most %d values", o->key[v], PIPE_STUDY_MAX_VALUES);
    char *dst = o->value[v][o->n_values[v]++];
    snprintf(dst, sizeof o->value[v][0], "%.*s", (int)len, p);
    /* the key and every value must be accepted by the configuration (unknown key: the message names it) */
    pipe_config *c = malloc(sizeof *c);
    if (!c) return zz_fail(err, ZZ_ENOMEM, "out of memory");
    *c = *base;
    char as[256];
    snprintf(as, sizeof as, "%s=%s", o->key[v], dst);
    zz_err e2 = {0};
    const int bad = pipe_config_set(c, as, &e2);
    free(c);
    if (bad) return zz_fail(err, ZZ_EUSAGE, "--vary %s: %s", o->key[v], e2.msg);
    if (!comma) break;
    p = comma + 1;
  }
  o->n_vary++;
  return ZZ_OK;
}

typedef struct setting {
  pipe_config c;
  char label[1280];
  int vi[PIPE_STUDY_MAX_VARY]; /* the value index of each varied key */
  int head, year;
  char dataset[64];
  uint64_t hash;
  char dir[PIPE_PATH];
  int cached;
  /* results */
  int stop_epoch, best_epoch, K, val_days, val_ic_days;
  long val_rows;
  double val_ic, val_ic_log, units_corr;
  int n_ep;
  double *loss, *vic; /* by epoch */
} setting;

/* The training log (train_write_log: epoch,train_loss,val_rankic,seconds,best[,...]) into s. */
static int read_log(setting *s, const char *path, zz_err *err) {
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  static const char *const ep[] = {"epoch", NULL}, *const tl[] = {"train_loss", NULL}, *const vr[] = {"val_rankic", NULL},
                           *const be[] = {"best", NULL};
  int ce = zz_csv_require(r, ep, err), ct = ce < 0 ? -1 : zz_csv_require(r, tl, err);
  int cv = ct < 0 ? -1 : zz_csv_require(r, vr, err), cb = cv < 0 ? -1 : zz_csv_require(r, be, err);
  if (cb < 0) {
    zz_csv_close(r);
    return ZZ_EDATA;
  }
  int cap = 0, got;
  while ((got = zz_csv_next(r, err)) == 1) {
    if (s->n_ep == cap) {
      cap = cap ? 2 * cap : 64;
      double *a = realloc(s->loss, sizeof *a * (size_t)cap), *b = a ? realloc(s->vic, sizeof *b * (size_t)cap) : NULL;
      if (a) s->loss = a;
      if (b) s->vic = b;
      if (!a || !b) {
        zz_csv_close(r);
        return zz_fail(err, ZZ_ENOMEM, "out of memory");
      }
    }
    const int e = atoi(zz_csv_field(r, ce));
    if (e != s->n_ep + 1) {
      rc = zz_csv_fail(r, ce + 1, err, ZZ_EDATA, "expected epoch %d, found '%s'", s->n_ep + 1, zz_csv_field(r, ce));
      break;
    }
    const char *fl = zz_csv_field(r, ct), *fv = zz_csv_field(r, cv);
    s->loss[s->n_ep] = *fl ? strtod(fl, NULL) : NAN; /* empty: undefined */
    s->vic[s->n_ep] = *fv ? strtod(fv, NULL) : NAN;
    if (atoi(zz_csv_field(r, cb))) s->best_epoch = e, s->val_ic_log = s->vic[s->n_ep];
    s->n_ep++;
  }
  zz_csv_close(r);
  if (!rc && got < 0) rc = got;
  if (!rc && s->n_ep == 0) rc = zz_fail(err, ZZ_EDATA, "%s: no epoch", path);
  s->stop_epoch = s->n_ep;
  return rc;
}

static const char k_result_header[] =
    "stop_epoch,best_epoch,best_val_rankic,best_val_rankic_log,units_corr,units,val_days,val_ic_days,val_rows";

static int write_result(const setting *s, zz_err *err) {
  char path[PIPE_PATH + 32], a[40], b[40], c[40];
  snprintf(path, sizeof path, "%s/result.csv", s->dir);
  FILE *f = fopen(path, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  fprintf(f, "%s\n%d,%d,%s,%s,%s,%d,%d,%d,%ld\n", k_result_header, s->stop_epoch, s->best_epoch,
          zz_fmt_double(a, sizeof a, s->val_ic), zz_fmt_double(b, sizeof b, s->val_ic_log),
          zz_fmt_double(c, sizeof c, s->units_corr), s->K, s->val_days, s->val_ic_days, s->val_rows);
  if (fclose(f)) return zz_fail(err, ZZ_EIO, "%s: write failed", path);
  return ZZ_OK;
}

static int read_result(setting *s, zz_err *err) {
  char path[PIPE_PATH + 32];
  snprintf(path, sizeof path, "%s/result.csv", s->dir);
  zz_csv *r = NULL;
  int rc = zz_csv_open(&r, path, err);
  if (rc) return rc;
  double v[9];
  int got = zz_csv_next(r, err);
  if (got == 1 && zz_csv_ncols(r) != 9) got = zz_csv_fail(r, 0, err, ZZ_EDATA, "expected 9 columns: %s", k_result_header);
  for (int k = 0; got == 1 && k < 9; k++)
    if (zz_csv_double(r, k, 1, &v[k], err)) got = -ZZ_EDATA;
  zz_csv_close(r);
  if (got != 1) return got == 0 ? zz_fail(err, ZZ_EDATA, "%s: no result row", path) : ZZ_EDATA;
  s->val_ic = v[2], s->units_corr = v[4], s->K = (int)v[5], s->val_days = (int)v[6], s->val_ic_days = (int)v[7];
  s->val_rows = (long)v[8];
  return ZZ_OK;
}

/* Trains setting s (or reuses its stage) and fills its results. *p holds the panel of market directory pdir. */
static int run_setting(setting *s, const pipe_study_opts *o, panel **p, char *pdir, zz_err *err) {
  char path[PIPE_PATH + 64], model[PIPE_PATH + 64], logp[PIPE_PATH + 64];
  snprintf(model, sizeof model, "%s/Y%d_seed0.zzm", s->dir, s->year);
  snprintf(logp, sizeof logp, "%s/Y%d_seed0.log.csv", s->dir, s->year);
  int rc = ZZ_OK;
  s->cached = !o->force && pipe_stage_done(s->dir);
  if (s->cached) {
    fprintf(stderr, "[study %s] cached: %s\n", s->label, s->dir);
    if ((rc = read_result(s, err)) || (rc = read_log(s, logp, err))) return rc;
    return ZZ_OK;
  }
  if (!*p || strcmp(pdir, s->c.market_dir)) {
    panel_free(*p), *p = NULL;
    panel_load_opts lo = {NULL, s->c.market_cache, 0};
    fprintf(stderr, "[study] loading %s\n", s->c.market_dir);
    if ((rc = panel_load(s->c.market_dir, &lo, p, err))) return zz_wrap(err, "ingest");
    snprintf(pdir, PIPE_STR, "%s", s->c.market_dir);
  }
  train_opts to;
  if ((rc = pipe_train_opts(&s->c, s->head, s->dataset, &to, err))) return rc;
  to.seeds = 1;
  to.resume = !o->force; /* an interrupted setting continues from its checkpoint */
  to.progress = o->progress;
  fprintf(stderr, "[study %s] training year %d (%s head, dataset %s) -> %s\n", s->label, s->year,
          pipe_head_name(s->head), s->dataset, s->dir);
  int stopped = 0;
  train_val_dump vd;
  snprintf(path, sizeof path, "%s/validation.csv", s->dir);
  if ((rc = zz_mkdir_p(s->dir, err)) || (rc = train_year(*p, &to, s->year, s->dir, &stopped, err)) ||
      (rc = train_validation_dump(*p, &to, s->year, model, path, &vd, err)) || (rc = read_log(s, logp, err)))
    return zz_wrap(err, "study setting %s", s->label);
  s->val_ic = vd.val_ic, s->units_corr = vd.units_corr, s->K = vd.K, s->val_days = vd.n_days;
  s->val_ic_days = vd.n_ic_days, s->val_rows = vd.n_rows;
  if (isfinite(s->val_ic) && isfinite(s->val_ic_log) && fabs(s->val_ic - s->val_ic_log) > 1e-12)
    fprintf(stderr, "[study %s] note: the saved validation scores give RankIC %.17g, the training log %.17g\n",
            s->label, s->val_ic, s->val_ic_log);
  snprintf(path, sizeof path, "%s/setting.ini", s->dir);
  FILE *f = fopen(path, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  fprintf(f, "; study setting %s: the configuration in effect\n", s->label);
  pipe_config_write(&s->c, f);
  if (fclose(f)) return zz_fail(err, ZZ_EIO, "%s: write failed", path);
  if ((rc = write_result(s, err))) return rc;
  return pipe_stage_mark(s->dir, "study setting", err);
}

/* ---------------------------------------------------------------- the outputs */

static int write_outputs(const char *out, setting *st, int n, const pipe_study_opts *o, zz_err *err) {
  char path[PIPE_PATH + 32], a[40], b[40];
  snprintf(path, sizeof path, "%s/study.csv", out);
  FILE *f = fopen(path, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  fputs("setting", f);
  for (int v = 0; v < o->n_vary; v++) fputc(',', f), zz_csv_write_field(f, o->key[v]);
  fputs(",head,dataset,year,stop_epoch,best_epoch,best_val_rankic,units_corr,units,val_days,val_rows,stage\n", f);
  for (int k = 0; k < n; k++) {
    const setting *s = &st[k];
    fprintf(f, "%d", k + 1);
    for (int v = 0; v < o->n_vary; v++) fputc(',', f), zz_csv_write_field(f, o->value[v][s->vi[v]]);
    fprintf(f, ",%s,", pipe_head_name(s->head));
    zz_csv_write_field(f, s->dataset);
    fprintf(f, ",%d,%d,%d,%s,%s,%d,%d,%ld,", s->year, s->stop_epoch, s->best_epoch, zz_fmt_double(a, sizeof a, s->val_ic),
            zz_fmt_double(b, sizeof b, s->units_corr), s->K, s->val_days, s->val_rows);
    const char *rel = strstr(s->dir, "/stages/");
    zz_csv_write_field(f, rel ? rel + 1 : s->dir);
    fputc('\n', f);
  }
  if (fclose(f)) return zz_fail(err, ZZ_EIO, "%s: write failed", path);
  snprintf(path, sizeof path, "%s/curves.csv", out);
  if (!(f = fopen(path, "w"))) return zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  fputs("setting,epoch,train_loss,val_rankic\n", f);
  for (int k = 0; k < n; k++)
    for (int e = 0; e < st[k].n_ep; e++)
      fprintf(f, "%d,%d,%s,%s\n", k + 1, e + 1, zz_fmt_double(a, sizeof a, st[k].loss[e]),
              zz_fmt_double(b, sizeof b, st[k].vic[e]));
  if (fclose(f)) return zz_fail(err, ZZ_EIO, "%s: write failed", path);
  /* the table for Markdown and HTML */
  enum { NC = 7 };
  char(*cells)[128] = calloc((size_t)n * NC + 1, sizeof *cells);
  const char **pc = calloc((size_t)n * NC + 1, sizeof *pc);
  const char **names = calloc((size_t)n + 1, sizeof *names);
  int *ns = calloc((size_t)n + 1, sizeof *ns);
  const double **yl = calloc((size_t)n + 1, sizeof *yl), **yv = calloc((size_t)n + 1, sizeof *yv);
  int rc = ZZ_OK;
  if (!cells || !pc || !names || !ns || !yl || !yv) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  rep_notes notes; /* why a "—" cell is undefined */
  rep_notes_init(&notes);
  static const char *const head[NC] = {"setting", "stopping epoch", "best epoch", "best validation RankIC",
                                       "units' mutual correlation", "validation days", "validation rows"};
  for (int k = 0; !rc && k < n; k++) {
    char(*row)[128] = cells + (size_t)k * NC;
    const setting *s = &st[k];
    snprintf(row[0], sizeof row[0], "%.127s", s->label); /* cells hold 128 */
    snprintf(row[1], sizeof row[1], "%d", s->stop_epoch);
    snprintf(row[2], sizeof row[2], "%d", s->best_epoch);
    rep_cell(row[3], sizeof row[3], s->val_ic, 1, &notes, "the validation RankIC is defined on no day");
    if (s->K >= 2)
      rep_cell(row[4], sizeof row[4], s->units_corr, 0, &notes, "no validation day has two units that vary");
    else snprintf(row[4], sizeof row[4], "-");
    snprintf(row[5], sizeof row[5], "%d", s->val_days);
    snprintf(row[6], sizeof row[6], "%ld", s->val_rows);
    for (int j = 0; j < NC; j++) pc[(size_t)k * NC + j] = row[j];
    names[k] = s->label, ns[k] = s->n_ep, yl[k] = s->loss, yv[k] = s->vic;
  }
  char cap[512];
  snprintf(cap, sizeof cap, "Hyper-parameter study: one model per setting (seed %d, %s head, dataset %s), scoring year "
                            "%d (validation %d)", n ? st[0].c.model_seed : 0, n ? pipe_head_name(st[0].head) : "-",
           n ? st[0].dataset : "-", n ? st[0].year : 0, n ? st[0].year - 1 : 0);
  if (!rc) {
    snprintf(path, sizeof path, "%s/study.md", out);
    if (!(f = fopen(path, "w"))) rc = zz_fail(err, ZZ_EIO, "%s: cannot write", path);
  }
  if (!rc) {
    fprintf(f, "# zhizeng hyper-parameter study\n\n");
    rep_md_table(f, cap, n, NC, head, pc);
    rep_notes_md(f, &notes);
    fprintf(f, "Stopping epoch: the last epoch trained (early stopping after model.patience epochs without a better "
               "validation RankIC, or model.epochs). Best validation RankIC: the mean daily RankIC of the best epoch, "
               "recomputed from the saved validation scores (stages/setting-*/validation.csv). Curves: curves.csv, "
               "study.html.\n");
    if (fclose(f)) rc = zz_fail(err, ZZ_EIO, "%s: write failed", path);
  }
  rep_html *h = NULL;
  if (!rc) {
    snprintf(path, sizeof path, "%s/study.html", out);
    rc = rep_html_open(&h, path, "zhizeng hyper-parameter study", err);
  }
  if (!rc) {
    rep_html_table(h, cap, n, NC, head, pc);
    rep_notes_html(h, &notes);
    rep_html_epochs(h, "study_loss", "Training loss by epoch", "training loss", n, ns, yl, names, 0);
    rep_html_epochs(h, "study_rankic", "Validation RankIC by epoch", "validation RankIC", n, ns, yv, names, 1);
    rc = rep_html_close(h, err);
  }
  free(cells), free(pc), free(names), free(ns), free(yl), free(yv);
  return rc;
}

/* ---------------------------------------------------------------- the study's tasks: one per distinct setting
 * (its stage), then the tables (local: they read every setting's stage). */
typedef struct study_ctx {
  setting *st;
  int n;
  const pipe_study_opts *o;
  const char *out;
  panel *p;
  char pdir[PIPE_STR];
  int *precached; /* done before this run, or the same stage as an earlier setting */
  int tables_done;
} study_ctx;

static int study_done(void *ctx, const pipe_task *t) {
  (void)ctx;
  return strcmp(t->kind, "tables") ? pipe_stage_done(t->dir) : 0;
}

static int study_run(void *ctx, int id, const pipe_task *t, zz_err *err) {
  study_ctx *sx = ctx;
  (void)id;
  if (strcmp(t->kind, "tables")) {
    setting *s = &sx->st[t->a];
    const int rc = run_setting(s, sx->o, &sx->p, sx->pdir, err);
    if (!rc)
      fprintf(stderr, "[study %s] stopping epoch %d, best epoch %d, best validation RankIC %.4f, units' mutual "
                      "correlation %.4f\n", s->label, s->stop_epoch, s->best_epoch, s->val_ic, s->units_corr);
    return rc;
  }
  /* every setting's results from its stage (a task may have run in another process) */
  int rc = ZZ_OK;
  for (int k = 0; k < sx->n && !rc; k++) {
    setting *s = &sx->st[k];
    free(s->loss), free(s->vic);
    s->loss = s->vic = NULL, s->n_ep = 0;
    char logp[PIPE_PATH + 64];
    snprintf(logp, sizeof logp, "%s/Y%d_seed0.log.csv", s->dir, s->year);
    if (sx->precached[k]) fprintf(stderr, "[study %s] cached: %s\n", s->label, s->dir);
    if (!(rc = read_result(s, err))) rc = read_log(s, logp, err);
  }
  if (!rc) rc = write_outputs(sx->out, sx->st, sx->n, sx->o, err);
  if (!rc) fprintf(stderr, "[study] table: %s/study.csv, %s/study.md; charts: %s/study.html\n", sx->out, sx->out, sx->out);
  sx->tables_done = !rc;
  return rc;
}

int pipe_study(const pipe_config *base, const pipe_study_opts *o, zz_err *err) {
  int n = 1;
  for (int v = 0; v < o->n_vary; v++) {
    n *= o->n_values[v];
    if (n > PIPE_STUDY_MAX_SETTINGS)
      return zz_fail(err, ZZ_EUSAGE, "more than %d settings in the grid", PIPE_STUDY_MAX_SETTINGS);
  }
  char out[PIPE_PATH], sdir[PIPE_PATH + 16];
  if (o->out_dir[0]) snprintf(out, sizeof out, "%s", o->out_dir);
  else snprintf(out, sizeof out, "%s/study", base->out_dir);
  setting *st = calloc((size_t)n, sizeof *st);
  if (!st) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  openblas_set_num_threads(1); /* as the pipeline: training threads call single-threaded OpenBLAS */
  int rc = ZZ_OK;
  /* the settings: decode k into one value index per key, the first key varying slowest */
  for (int k = 0; k < n && !rc; k++) {
    setting *s = &st[k];
    s->c = *base;
    int rem = k;
    for (int v = o->n_vary - 1; v >= 0; v--) s->vi[v] = rem % o->n_values[v], rem /= o->n_values[v];
    size_t at = 0;
    s->label[0] = 0;
    for (int v = 0; v < o->n_vary && !rc; v++) {
      char as[256];
      snprintf(as, sizeof as, "%s=%s", o->key[v], o->value[v][s->vi[v]]);
      rc = pipe_config_set(&s->c, as, err);
      at += (size_t)snprintf(s->label + at, at < sizeof s->label ? sizeof s->label - at : 0, "%s%s", v ? " " : "", as);
    }
    if (!o->n_vary) snprintf(s->label, sizeof s->label, "configuration as given");
    pipe_lists l;
    if (!rc) rc = pipe_config_check(&s->c, err);
    if (!rc) rc = pipe_config_lists(&s->c, &l, err);
    if (rc) {
      zz_wrap(err, "study setting %s", s->label);
      break;
    }
    if (!s->c.market_dir[0]) {
      rc = zz_fail(err, ZZ_EUSAGE, "study setting %s: market.dir is empty; the study needs a market directory "
                                   "(write one with 'zhizeng synth')", s->label);
      break;
    }
    s->head = l.heads[0];
    snprintf(s->dataset, sizeof s->dataset, "%s", l.datasets[0]);
    s->year = o->year ? o->year : s->c.first_year;
    uint64_t mh;
    if ((rc = pipe_market_stamp(s->c.market_dir, &mh, err))) break;
    s->hash = pipe_study_hash(&s->c, mh, s->year, s->head, s->dataset);
    snprintf(sdir, sizeof sdir, "%s", out);
    pipe_stage_dir(sdir, "setting", s->hash, s->dir, sizeof s->dir);
  }
  fprintf(stderr, "[study] %d setting(s) -> %s\n", n, out);
  study_ctx sx = {st, n, o, out, NULL, "", NULL, 0};
  pipe_tasklist tl = {0};
  int rank = 0, n_ranks = 1;
  if (!rc && o->mpi) rc = pipe_mpi_init(&rank, &n_ranks, err);
  if (!rc && !rank) {
    snprintf(sdir, sizeof sdir, "%s/stages", out);
    rc = zz_mkdir_p(sdir, err);
  }
  if (o->mpi && n_ranks > 1) rc = pipe_mpi_barrier_rc(rc);
  if (!rc && !(sx.precached = calloc((size_t)n, sizeof *sx.precached))) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  int *ids = rc ? NULL : malloc(sizeof *ids * (size_t)n);
  if (!rc && !ids) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  int n_ids = 0;
  for (int k = 0; k < n && !rc; k++) {
    setting *s = &st[k];
    int dup = -1; /* a setting equal to an earlier one (a key the training does not read): same stage */
    for (int q = 0; q < k && dup < 0; q++)
      if (st[q].hash == s->hash) dup = q;
    if (dup >= 0) {
      if (!rank && !o->plan) fprintf(stderr, "[study %s] same training as %s\n", s->label, st[dup].label);
      sx.precached[k] = 1;
      continue;
    }
    sx.precached[k] = !o->force && pipe_stage_done(s->dir);
    pipe_task t;
    memset(&t, 0, sizeof t);
    snprintf(t.kind, sizeof t.kind, "setting");
    snprintf(t.name, sizeof t.name, "setting %d", k + 1);
    snprintf(t.group, sizeof t.group, "settings");
    snprintf(t.dir, sizeof t.dir, "%s", s->dir);
    t.a = k;
    if ((ids[n_ids++] = pipe_tasks_add(&tl, &t, NULL, 0)) < 0) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  if (!rc) {
    pipe_task t;
    memset(&t, 0, sizeof t);
    snprintf(t.kind, sizeof t.kind, "tables");
    snprintf(t.name, sizeof t.name, "tables");
    snprintf(t.group, sizeof t.group, "tables");
    snprintf(t.dir, sizeof t.dir, "%s", out);
    t.local = 1;
    if (pipe_tasks_add(&tl, &t, ids, n_ids) < 0) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  free(ids);
  if (!rc && o->plan) {
    if (!rank) pipe_tasks_plan(&tl, out, stdout);
  } else if (!rc) {
    /* the panel of the first setting's market, loaded before any worker starts (shared by fork) */
    if (o->jobs >= 2 && n && !pipe_stage_done(st[0].dir)) {
      panel_load_opts lo = {NULL, st[0].c.market_cache, 0};
      if (!(rc = panel_load(st[0].c.market_dir, &lo, &sx.p, err))) snprintf(sx.pdir, sizeof sx.pdir, "%s", st[0].c.market_dir);
    }
    pipe_sched_opts so = {o->tasks_set ? o->task_first : -1, o->tasks_set ? o->task_last : -1, o->jobs, o->force, 2,
                          o->verbose};
    pipe_task_ops ops = {&sx, study_done, study_run, NULL, NULL, NULL};
    if (!rc) rc = o->mpi ? pipe_mpi_sched(&tl, &ops, &so, NULL, err) : pipe_sched_run(&tl, &ops, &so, err);
    if (!rc && !rank && !sx.tables_done)
      fprintf(stderr, "[study] the tasks asked for are done (the tables were not among them)\n");
  }
  if (o->mpi) pipe_mpi_finish();
  pipe_tasks_free(&tl);
  free(sx.precached);
  panel_free(sx.p);
  for (int k = 0; k < n; k++) free(st[k].loss), free(st[k].vic);
  free(st);
  return rc;
}
