/* model_file.c — zhizeng's native model file (little-endian, version 3):
 *   "ZZMODEL\0" | u32 version | u32 reserved(0)
 *   i32 cell, layers, hidden, input_size, outputs, head | f64 lambda, dropout | f64 class_weight[3]
 *   f64 act_epsilon | i32 act_max_steps | f64 act_tau
 *   u64 n_params | i64 adam_step | u64 preprocessing bytes | u64 extra bytes
 *   f32 params[n] | f32 adam_m[n] | f32 adam_v[n] | preprocessing bytes | extra bytes
 *   u64 FNV-1a 64 checksum of every byte before it.
 * Version 1 (read, no longer written) is the same without class_weight (read as 1, 1, 1) and the act_* fields;
 * version 2 (read) without the act_* fields (read as nn_config_default's).
 * Written to PATH.tmp and renamed, so a crash never leaves a half-written model under PATH. */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MF_MAGIC "ZZMODEL"
#define MF_VERSION 3u

typedef struct mf_out {
  FILE *fp;
  uint64_t h;
  int ok;
} mf_out;

static void fnv(uint64_t *h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t k = 0; k < n; k++) *h = (*h ^ c[k]) * 0x100000001B3ull;
}
static void put(mf_out *o, const void *p, size_t n) {
  if (!o->ok) return;
  fnv(&o->h, p, n);
  if (n && fwrite(p, 1, n, o->fp) != n) o->ok = 0;
}
static void put_u(mf_out *o, uint64_t v, int bytes) {
  unsigned char b[8];
  for (int k = 0; k < bytes; k++) b[k] = (unsigned char)(v >> (8 * k));
  put(o, b, (size_t)bytes);
}
static void put_f64(mf_out *o, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  put_u(o, u, 8);
}
static void put_floats(mf_out *o, const float *a, size_t n) {
  for (size_t k = 0; k < n; k++) {
    uint32_t u;
    memcpy(&u, &a[k], 4);
    put_u(o, u, 4);
  }
}

int nn_save(const nn_model *m, const char *path, const void *extra, size_t extra_len, zz_err *err) {
  size_t pl = strlen(path);
  char *tmp = malloc(pl + 5);
  if (!tmp) return zz_fail(err, ZZ_ENOMEM, "out of memory saving %s", path);
  memcpy(tmp, path, pl);
  memcpy(tmp + pl, ".tmp", 5);
  mf_out o = {fopen(tmp, "wb"), 0xCBF29CE484222325ull, 1};
  if (!o.fp) {
    int rc = zz_fail(err, ZZ_EIO, "cannot create %s: %s", tmp, strerror(errno));
    free(tmp);
    return rc;
  }
  const nn_config *c = &m->cfg;
  size_t prl = m->preprocessing ? strlen(m->preprocessing) : 0;
  put(&o, MF_MAGIC "\0", 8);
  put_u(&o, MF_VERSION, 4);
  put_u(&o, 0, 4);
  put_u(&o, (uint32_t)c->cell, 4);
  put_u(&o, (uint32_t)c->layers, 4);
  put_u(&o, (uint32_t)c->hidden, 4);
  put_u(&o, (uint32_t)c->input_size, 4);
  put_u(&o, (uint32_t)c->outputs, 4);
  put_u(&o, (uint32_t)c->head, 4);
  put_f64(&o, c->lambda);
  put_f64(&o, c->dropout);
  for (int k = 0; k < NN_CLASSES; k++) put_f64(&o, c->class_weight[k]);
  put_f64(&o, c->act_epsilon);
  put_u(&o, (uint32_t)c->act_max_steps, 4);
  put_f64(&o, c->act_tau);
  put_u(&o, m->n_params, 8);
  put_u(&o, (uint64_t)m->adam_step, 8);
  put_u(&o, prl, 8);
  put_u(&o, extra ? extra_len : 0, 8);
  put_floats(&o, m->params, m->n_params);
  put_floats(&o, m->adam_m, m->n_params);
  put_floats(&o, m->adam_v, m->n_params);
  put(&o, m->preprocessing, prl);
  if (extra) put(&o, extra, extra_len);
  uint64_t h = o.h;
  put_u(&o, h, 8);
  if (fclose(o.fp) != 0) o.ok = 0;
  int rc = ZZ_OK;
  if (!o.ok)
    rc = zz_fail(err, ZZ_EIO, "cannot write %s: %s", tmp, strerror(errno));
  else if (rename(tmp, path) != 0)
    rc = zz_fail(err, ZZ_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
  if (rc) remove(tmp);
  free(tmp);
  return rc;
}

typedef struct mf_in {
  const unsigned char *p;
  size_t n, i;
} mf_in;
static int get(mf_in *in, void *dst, size_t n) {
  if (in->n - in->i < n) return -1;
  memcpy(dst, in->p + in->i, n);
  in->i += n;
  return 0;
}
static uint64_t get_u(mf_in *in, int bytes, int *bad) {
  unsigned char b[8];
  if (get(in, b, (size_t)bytes)) {
    *bad = 1;
    return 0;
  }
  uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; k--) v = v << 8 | b[k];
  return v;
}
static double get_f64(mf_in *in, int *bad) {
  uint64_t u = get_u(in, 8, bad);
  double d;
  memcpy(&d, &u, 8);
  return d;
}
static void get_floats(mf_in *in, float *a, size_t n, int *bad) {
  for (size_t k = 0; k < n; k++) {
    uint32_t u = (uint32_t)get_u(in, 4, bad);
    memcpy(&a[k], &u, 4);
  }
}

int nn_load(nn_model **out, const char *path, void **extra, size_t *extra_len, zz_err *err) {
  *out = NULL;
  if (extra) *extra = NULL;
  if (extra_len) *extra_len = 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) return zz_fail(err, ZZ_EIO, "cannot open %s: %s", path, strerror(errno));
  unsigned char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? 2 * cap : 1 << 16;
      unsigned char *b = realloc(buf, cap);
      if (!b) {
        free(buf);
        fclose(fp);
        return zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
      }
      buf = b;
    }
    size_t r = fread(buf + n, 1, cap - n, fp);
    n += r;
    if (r == 0) break;
  }
  int ioerr = ferror(fp);
  fclose(fp);
  nn_model *m = NULL;
  int rc = ZZ_OK, bad = 0;
  if (ioerr) {
    rc = zz_fail(err, ZZ_EIO, "cannot read %s", path);
    goto done;
  }
  if (n < 16 || memcmp(buf, MF_MAGIC "\0", 8) != 0) {
    rc = zz_fail(err, ZZ_EDATA, "%s: byte 0: not a zhizeng model file (expected the 8-byte magic 'ZZMODEL\\0' and at least 16 bytes, "
                 "found %zu bytes)", path, n);
    goto done;
  }
  mf_in in = {buf, n - 8, 8};
  uint64_t h = 0xCBF29CE484222325ull, stored = 0;
  fnv(&h, buf, n - 8);
  for (int k = 7; k >= 0; k--) stored = stored << 8 | buf[n - 8 + (size_t)k];
  uint32_t version = (uint32_t)get_u(&in, 4, &bad);
  if (version < 1u || version > MF_VERSION) {
    rc = zz_fail(err, ZZ_EDATA, "%s: byte 8: model file version %u, expected a version from 1 to %u", path, version,
                 MF_VERSION);
    goto done;
  }
  if (h != stored) {
    rc = zz_fail(err, ZZ_EDATA,
                 "%s: byte %zu: checksum mismatch (expected %016llx, the FNV-1a hash of bytes 0 to %zu, found %016llx): "
                 "the model file is corrupt or truncated", path, n - 8, (unsigned long long)h, n - 9,
                 (unsigned long long)stored);
    goto done;
  }
  get_u(&in, 4, &bad);
  nn_config c = nn_config_default(1); /* every field is read below except those older versions lack */
  c.cell = (nn_cell)get_u(&in, 4, &bad);
  c.layers = (int)get_u(&in, 4, &bad);
  c.hidden = (int)get_u(&in, 4, &bad);
  c.input_size = (int)get_u(&in, 4, &bad);
  c.outputs = (int)get_u(&in, 4, &bad);
  c.head = (nn_head_kind)get_u(&in, 4, &bad);
  c.lambda = get_f64(&in, &bad);
  c.dropout = get_f64(&in, &bad);
  if (version >= 2)
    for (int k = 0; k < NN_CLASSES; k++) c.class_weight[k] = get_f64(&in, &bad);
  if (version >= 3) {
    c.act_epsilon = get_f64(&in, &bad);
    c.act_max_steps = (int)get_u(&in, 4, &bad);
    c.act_tau = get_f64(&in, &bad);
  }
  uint64_t np = get_u(&in, 8, &bad);
  int64_t step = (int64_t)get_u(&in, 8, &bad);
  uint64_t prl = get_u(&in, 8, &bad), exl = get_u(&in, 8, &bad);
  if (bad) {
    rc = zz_fail(err, ZZ_EDATA, "%s: byte %zu: truncated model header (expected more fields before the checksum)",
                 path, n - 8);
    goto done;
  }
  if ((rc = nn_create(&m, &c, 0, err))) {
    /* a configuration refused by nn_create is bad data here, not a usage error */
    zz_wrap(err, "%s: byte 16: expected a valid model configuration", path);
    rc = ZZ_EDATA;
    if (err) err->code = ZZ_EDATA;
    goto done;
  }
  if (np != m->n_params || in.n - in.i != 12 * np + prl + exl) {
    rc = zz_fail(err, ZZ_EDATA,
                 "%s: byte %zu: expected %zu parameters for its configuration and %zu data bytes, found %llu parameters "
                 "and %zu data bytes", path, in.i - 32, m->n_params, (size_t)(12 * m->n_params + prl + exl),
                 (unsigned long long)np, in.n - in.i);
    goto done;
  }
  const size_t at_params = in.i;
  get_floats(&in, m->params, np, &bad);
  get_floats(&in, m->adam_m, np, &bad);
  get_floats(&in, m->adam_v, np, &bad);
  m->adam_step = step;
  /* a NaN or Inf weight would score every stock NaN (or train on garbage): the checksum only says the bytes are
   * the ones written, so a file written from a diverged run is refused here, at the value's byte */
  for (int arr = 0; arr < 3; arr++) {
    const float *v = arr == 0 ? m->params : arr == 1 ? m->adam_m : m->adam_v;
    for (size_t k = 0; k < np; k++)
      if (!isfinite(v[k]) || (arr == 2 && v[k] < 0)) {
        static const char *const what[3] = {"parameter", "Adam first moment", "Adam second moment"};
        rc = zz_fail(err, ZZ_EDATA, "%s: byte %zu: %s %zu is %g: expected a finite value%s", path,
                     at_params + 4 * ((size_t)arr * np + k), what[arr], k, (double)v[k], arr == 2 ? " >= 0" : "");
        goto done;
      }
  }
  if (prl) {
    m->preprocessing = malloc(prl + 1);
    if (!m->preprocessing || get(&in, m->preprocessing, prl)) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
      goto done;
    }
    m->preprocessing[prl] = 0;
  }
  if (extra && exl) {
    *extra = malloc(exl);
    if (!*extra || get(&in, *extra, exl)) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
      goto done;
    }
    *extra_len = exl;
  }
done:
  free(buf);
  if (rc) {
    nn_free(m);
    if (extra) {
      free(*extra);
      *extra = NULL;
    }
    return rc;
  }
  *out = m;
  return ZZ_OK;
}
