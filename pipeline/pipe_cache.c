/* pipe_cache.c — stage hashing and the stage cache: FNV-1a 64 hashes of canonical configuration
 * text chained with the input stages' hashes, the market directory's file stamp, and the
 * OUT/stages/<stage>-<hash16>/ directories whose DONE file marks a completed stage. */
#include "pipe_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bump when a stage's output format or meaning changes: every cached stage is then redone. The program
 * version is part of it, so a new release never reuses stages computed by an older one. */
#define PIPE_STAGE_VERSION "zhizeng-pipeline-stages-3 " ZZ_VERSION

uint64_t pipe_hash_bytes(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t k = 0; k < n; k++) {
    h ^= p[k];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t pipe_hash_str(uint64_t h, const char *s) { return pipe_hash_bytes(h, s, strlen(s) + 1); }

static uint64_t hash_u64(uint64_t h, uint64_t v) {
  unsigned char b[8];
  for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (8 * k));
  return pipe_hash_bytes(h, b, 8);
}

char *pipe_hash_hex(uint64_t h, char buf[17]) {
  snprintf(buf, 17, "%016llx", (unsigned long long)h);
  return buf;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Hashes the (sorted) names, sizes and mtimes of the regular files of dir whose names end in .csv. */
static int stamp_dir(const char *dir, const char *prefix, uint64_t *h, int required, zz_err *err) {
  DIR *d = opendir(dir);
  if (!d) {
    if (!required && errno == ENOENT) return ZZ_OK;
    return zz_fail(err, ZZ_EIO, "%s: cannot read the market directory", dir);
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int rc = ZZ_OK;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".csv")) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) {
        rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      break;
    }
    n++;
  }
  closedir(d);
  if (!rc && n) qsort(names, n, sizeof *names, cmp_str);
  for (size_t k = 0; k < n && !rc; k++) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    if (stat(path, &st)) {
      rc = zz_fail(err, ZZ_EIO, "%s: cannot stat", path);
      break;
    }
    *h = pipe_hash_str(*h, prefix);
    *h = pipe_hash_str(*h, names[k]);
    *h = hash_u64(*h, (uint64_t)st.st_size);
    *h = hash_u64(*h, (uint64_t)st.st_mtim.tv_sec);
    *h = hash_u64(*h, (uint64_t)st.st_mtim.tv_nsec);
  }
  for (size_t k = 0; k < n; k++) free(names[k]);
  free(names);
  return rc;
}

int pipe_market_stamp(const char *dir, uint64_t *h, zz_err *err) {
  uint64_t x = pipe_hash_str(PIPE_HASH_SEED, "market-dir");
  int rc = stamp_dir(dir, "", &x, 1, err);
  if (!rc) {
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/features", dir);
    rc = stamp_dir(sub, "features/", &x, 0, err);
  }
  if (!rc) *h = x;
  return rc;
}

/* Hash of the canonical text of a section, leaving out the keys named in skip (NULL-terminated). When
 * dataset is not NULL, the line of model.datasets is hashed as "model.dataset=<dataset>" (the key's
 * former single-name form), so a dataset's training hash does not depend on the other datasets listed
 * and a one-dataset configuration hashes as before the key became a list. */
static uint64_t hash_section_ds(uint64_t h, const pipe_config *c, const char *section, const char *const *skip,
                                const char *dataset) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) abort(); /* cannot hash: no memory */
  pipe_config_section_text(c, section, f);
  fclose(f);
  char *line = buf;
  while (line && *line) {
    char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    int keep = 1;
    for (int k = 0; skip && skip[k]; k++) {
      size_t sl = strlen(section), kl = strlen(skip[k]);
      if (n > sl + kl + 1 && !strncmp(line + sl + 1, skip[k], kl) && line[sl + 1 + kl] == '=') keep = 0;
    }
    if (keep && dataset && !strncmp(line, "model.datasets=", 15)) {
      char b[128];
      const int m = snprintf(b, sizeof b, "model.dataset=%s\n", dataset);
      h = pipe_hash_bytes(h, b, (size_t)m);
      keep = 0;
    }
    if (keep) h = pipe_hash_bytes(h, line, n + 1);
    line = nl ? nl + 1 : NULL;
  }
  free(buf);
  return h;
}

static uint64_t hash_section(uint64_t h, const pipe_config *c, const char *section, const char *const *skip) {
  return hash_section_ds(h, c, section, skip, NULL);
}

uint64_t pipe_market_config_hash(const pipe_config *c) {
  uint64_t h = pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION);
  h = pipe_hash_str(h, "synthetic market");
  static const char *const skip[] = {"dir", "cache", NULL};
  char anchor[32]; /* the oracle's dates follow backtest.first_year (pipe_run.c) */
  snprintf(anchor, sizeof anchor, "oracle_anchor=%d", c->first_year);
  return hash_section(pipe_hash_str(h, anchor), c, "market", skip);
}

int pipe_stage_hashes(const pipe_config *c, uint64_t market_hash, pipe_hashes *hs, zz_err *err) {
  pipe_lists l;
  int rc = pipe_config_lists(c, &l, err);
  if (rc) return rc;
  memset(hs, 0, sizeof *hs);
  hs->market = market_hash;
  char yb[64];
  snprintf(yb, sizeof yb, "years=%d-%d", c->first_year, c->last_year);
  /* the class3 head's keys reach only its own stages (the other heads hash as before they existed) */
  static const char *const skip_model[] = {"heads", "class_label", "class_up", "class_down", "class_top",
                                           "class_bottom", "class_weights", NULL};
  static const char *const skip_model_class3[] = {"heads", NULL};
  /* likewise the ACT cell's keys reach only the stages of cell = act_lstm */
  static const char *const skip_model_noact[] = {"heads", "class_label", "class_up", "class_down", "class_top",
                                                 "class_bottom", "class_weights", "act_epsilon", "act_max_steps",
                                                 "act_tau", NULL};
  static const char *const skip_model_class3_noact[] = {"heads", "act_epsilon", "act_max_steps", "act_tau", NULL};
  const int act = !strcasecmp(c->cell, "act_lstm");
  for (int h = 0; h < PIPE_N_HEADS; h++) {
    for (int d = 0; d < l.n_datasets; d++) {
      uint64_t x = pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION);
      x = hash_u64(pipe_hash_str(x, "train"), market_hash);
      const char *const *skip = h == PIPE_HEAD_CLASS3 ? (act ? skip_model_class3 : skip_model_class3_noact)
                                                     : (act ? skip_model : skip_model_noact);
      x = hash_section_ds(x, c, "model", skip, l.datasets[d]);
      x = hash_section(x, c, "universe", NULL);
      x = pipe_hash_str(pipe_hash_str(x, yb), pipe_head_name(h));
      hs->ds_train[d][h] = x;
      hs->ds_scores[d][h] = pipe_hash_str(hash_u64(pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION), x), "scores");
    }
    hs->train[h] = hs->ds_train[0][h];
    hs->scores[h] = hs->ds_scores[0][h];
    if (l.n_datasets > 1) { /* the combination of the datasets' scores */
      uint64_t x = pipe_hash_str(pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION), "combined scores");
      for (int d = 0; d < l.n_datasets; d++) x = hash_u64(pipe_hash_str(x, l.datasets[d]), hs->ds_scores[d][h]);
      hs->scores[h] = pipe_hash_str(x, pipe_head_name(h));
    }
  }
  char eb[32];
  snprintf(eb, sizeof eb, "end=%d", (int)c->end_date);
  uint64_t r = pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION);
  r = hash_u64(pipe_hash_str(r, "risk"), market_hash);
  r = hash_section(r, c, "risk", NULL);
  r = pipe_hash_str(pipe_hash_str(r, yb), eb);
  hs->risk = r;
  static const char *const skip_opt[] = {"indices", "floors", "workers", "te_max_csi300", "te_max_csi500",
                                         "te_max_csi1000", NULL};
  for (int i = 0; i < PANEL_N_INDEX; i++)
    for (int h = 0; h < PIPE_N_HEADS; h++)
      for (int f = 0; f < l.n_floors; f++) {
        uint64_t x = pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION);
        x = hash_u64(hash_u64(pipe_hash_str(x, "opt"), hs->risk), hs->scores[h]);
        x = hash_section(x, c, "optimizer", skip_opt);
        char b[160], d1[40], d2[40];
        snprintf(b, sizeof b, "index=%s floor=%s te_max=%s", zz_index_name(i), zz_fmt_double(d1, sizeof d1, l.floors[f]),
                 zz_fmt_double(d2, sizeof d2, c->te_max[i]));
        x = pipe_hash_str(x, b);
        hs->opt[i][h][f] = x;
        uint64_t s = pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION);
        s = hash_u64(pipe_hash_str(s, "sim"), x);
        s = hash_section(s, c, "sim", NULL);
        hs->sim[i][h][f] = pipe_hash_str(s, eb);
      }
  return ZZ_OK;
}

uint64_t pipe_study_hash(const pipe_config *c, uint64_t market_hash, int year, int head, const char *dataset) {
  static const char *const skip[] = {"heads", "seeds", "datasets", NULL};
  uint64_t x = pipe_hash_str(PIPE_HASH_SEED, PIPE_STAGE_VERSION);
  x = hash_u64(pipe_hash_str(x, "study setting"), market_hash);
  x = hash_section(x, c, "model", skip);
  x = hash_section(x, c, "universe", NULL);
  char b[160];
  snprintf(b, sizeof b, "year=%d head=%s dataset=%s", year, pipe_head_name(head), dataset);
  return pipe_hash_str(x, b);
}

/* ---------------------------------------------------------------- stage directories */

void pipe_stage_dir(const char *out, const char *name, uint64_t h, char *buf, size_t n) {
  char hex[17];
  snprintf(buf, n, "%s/stages/%s-%s", out, name, pipe_hash_hex(h, hex));
}

int pipe_stage_done(const char *dir) {
  char p[4200];
  snprintf(p, sizeof p, "%s/DONE", dir);
  return access(p, F_OK) == 0;
}

int pipe_file_mark(const char *dir, const char *name, const char *what, zz_err *err) {
  char p[4200], tmp[4300];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", p);
  FILE *f = fopen(tmp, "w");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot write", tmp);
  fprintf(f, "%s\n", what);
  if (fclose(f) || rename(tmp, p)) {
    remove(tmp);
    return zz_fail(err, ZZ_EIO, "%s: cannot write", p);
  }
  return ZZ_OK;
}

int pipe_file_exists(const char *dir, const char *name) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

int pipe_stage_mark(const char *dir, const char *what, zz_err *err) { return pipe_file_mark(dir, "DONE", what, err); }
