/* safetensors.c — reading and writing safetensors files (SPEC 11.2): 8-byte little-endian header length,
 * a JSON header {"name": {"dtype", "shape", "data_offsets"}, ..., "__metadata__": {string: string}}, then
 * raw little-endian tensor data. A minimal strict JSON parser for exactly that header (no dependency).
 * Also the model <-> safetensors conversion with PyTorch's parameter names. */
#include "model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ JSON parse */

typedef struct jp {
  const char *s;
  size_t n, i;
  const char *path;
  zz_err *err;
} jp;

static int jp_fail(jp *p, const char *what) {
  return zz_fail(p->err, ZZ_EDATA, "%s: safetensors header, byte %zu: expected %s", p->path, p->i + 8, what);
}
static void jp_ws(jp *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
    p->i++;
}
static int jp_eat(jp *p, char c) {
  jp_ws(p);
  if (p->i < p->n && p->s[p->i] == c) {
    p->i++;
    return 1;
  }
  return 0;
}
static int jp_expect(jp *p, char c) {
  if (jp_eat(p, c)) return ZZ_OK;
  char what[16];
  snprintf(what, sizeof what, "'%c'", c);
  return jp_fail(p, what);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parses a JSON string into a malloc'ed UTF-8 C string. */
static int jp_string(jp *p, char **out) {
  *out = NULL;
  jp_ws(p);
  if (p->i >= p->n || p->s[p->i] != '"') return jp_fail(p, "a string");
  p->i++;
  char *b = malloc(p->n - p->i + 1);
  if (!b) return zz_fail(p->err, ZZ_ENOMEM, "out of memory parsing %s", p->path);
  size_t k = 0;
  for (;;) {
    if (p->i >= p->n) {
      free(b);
      return jp_fail(p, "a closing '\"'");
    }
    unsigned char c = (unsigned char)p->s[p->i++];
    if (c == '"') break;
    if (c < 0x20) {
      free(b);
      p->i--;
      return jp_fail(p, "no control character inside a string");
    }
    if (c != '\\') {
      b[k++] = (char)c;
      continue;
    }
    if (p->i >= p->n) break;
    char e = p->s[p->i++];
    switch (e) {
      case '"': b[k++] = '"'; break;
      case '\\': b[k++] = '\\'; break;
      case '/': b[k++] = '/'; break;
      case 'b': b[k++] = '\b'; break;
      case 'f': b[k++] = '\f'; break;
      case 'n': b[k++] = '\n'; break;
      case 'r': b[k++] = '\r'; break;
      case 't': b[k++] = '\t'; break;
      case 'u': {
        unsigned cp = 0;
        for (int q = 0; q < 4; q++) {
          int h = p->i < p->n ? hexval(p->s[p->i]) : -1;
          if (h < 0) {
            free(b);
            return jp_fail(p, "4 hex digits after \\u");
          }
          cp = cp * 16 + (unsigned)h;
          p->i++;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF && p->i + 6 <= p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
          unsigned lo = 0;
          int okh = 1;
          for (int q = 0; q < 4; q++) {
            int h = hexval(p->s[p->i + 2 + q]);
            if (h < 0) okh = 0;
            lo = lo * 16 + (unsigned)(h < 0 ? 0 : h);
          }
          if (okh && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p->i += 6;
          }
        }
        if (cp < 0x80) {
          b[k++] = (char)cp;
        } else if (cp < 0x800) {
          b[k++] = (char)(0xC0 | (cp >> 6));
          b[k++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          b[k++] = (char)(0xE0 | (cp >> 12));
          b[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
          b[k++] = (char)(0x80 | (cp & 0x3F));
        } else {
          b[k++] = (char)(0xF0 | (cp >> 18));
          b[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
          b[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
          b[k++] = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        free(b);
        p->i--;
        return jp_fail(p, "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
  }
  b[k] = 0;
  *out = b;
  return ZZ_OK;
}

static int jp_uint(jp *p, uint64_t *v) {
  jp_ws(p);
  if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return jp_fail(p, "a non-negative integer");
  uint64_t a = 0;
  while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
    if (a > (UINT64_MAX - 9) / 10) return jp_fail(p, "an integer that fits 64 bits");
    a = a * 10 + (uint64_t)(p->s[p->i++] - '0');
  }
  *v = a;
  return ZZ_OK;
}

/* [u, u, ...] into v (at most maxn), count in *n. */
static int jp_uint_array(jp *p, uint64_t *v, int maxn, int *n) {
  int rc;
  *n = 0;
  if ((rc = jp_expect(p, '['))) return rc;
  if (jp_eat(p, ']')) return ZZ_OK;
  do {
    if (*n >= maxn) return jp_fail(p, "fewer array elements (at most 4 dimensions)");
    if ((rc = jp_uint(p, &v[(*n)++]))) return rc;
  } while (jp_eat(p, ','));
  return jp_expect(p, ']');
}

/* ---------------------------------------------------------------- reading */

static void st_free_partial(st_file *f) {
  if (!f) return;
  for (int k = 0; k < f->n; k++) {
    free(f->t[k].name);
    free(f->t[k].data);
  }
  free(f->t);
  for (int k = 0; k < f->n_meta; k++) {
    free(f->meta_key[k]);
    free(f->meta_val[k]);
  }
  free(f->meta_key);
  free(f->meta_val);
  free(f);
}
void st_free(st_file *f) { st_free_partial(f); }

typedef struct raw_tensor {
  int dtype; /* 4 = F32, 8 = F64 */
  uint64_t off0, off1;
} raw_tensor;

static int parse_header(jp *p, st_file *f, raw_tensor **raw_out) {
  int rc, cap = 0, mcap = 0;
  raw_tensor *raw = NULL;
  *raw_out = NULL;
  if ((rc = jp_expect(p, '{'))) return rc;
  if (jp_eat(p, '}')) goto end;
  do {
    char *key = NULL;
    if ((rc = jp_string(p, &key))) goto fail;
    if ((rc = jp_expect(p, ':'))) {
      free(key);
      goto fail;
    }
    if (!strcmp(key, "__metadata__")) {
      free(key);
      if ((rc = jp_expect(p, '{'))) goto fail;
      if (!jp_eat(p, '}')) {
        do {
          if (f->n_meta == mcap) {
            mcap = mcap ? 2 * mcap : 16;
            char **a = realloc(f->meta_key, (size_t)mcap * sizeof *a), **b;
            if (a) f->meta_key = a;
            b = realloc(f->meta_val, (size_t)mcap * sizeof *b);
            if (b) f->meta_val = b;
            if (!a || !b) {
              rc = zz_fail(p->err, ZZ_ENOMEM, "out of memory reading %s", p->path);
              goto fail;
            }
          }
          char *k = NULL, *v = NULL;
          if ((rc = jp_string(p, &k))) goto fail;
          if ((rc = jp_expect(p, ':')) || (rc = jp_string(p, &v))) {
            free(k);
            goto fail;
          }
          f->meta_key[f->n_meta] = k;
          f->meta_val[f->n_meta++] = v;
        } while (jp_eat(p, ','));
        if ((rc = jp_expect(p, '}'))) goto fail;
      }
      continue;
    }
    if (f->n == cap) {
      cap = cap ? 2 * cap : 16;
      st_tensor *t = realloc(f->t, (size_t)cap * sizeof *t);
      raw_tensor *r = realloc(raw, (size_t)cap * sizeof *r);
      if (t) f->t = t;
      if (r) raw = r;
      if (!t || !r) {
        free(key);
        rc = zz_fail(p->err, ZZ_ENOMEM, "out of memory reading %s", p->path);
        goto fail;
      }
    }
    st_tensor *t = &f->t[f->n];
    raw_tensor *r = &raw[f->n];
    memset(t, 0, sizeof *t);
    memset(r, 0, sizeof *r);
    t->name = key;
    f->n++;
    int have_dtype = 0, have_shape = 0, have_off = 0;
    if ((rc = jp_expect(p, '{'))) goto fail;
    do {
      char *fk = NULL;
      if ((rc = jp_string(p, &fk))) goto fail;
      if ((rc = jp_expect(p, ':'))) {
        free(fk);
        goto fail;
      }
      if (!strcmp(fk, "dtype")) {
        char *dt = NULL;
        free(fk);
        if ((rc = jp_string(p, &dt))) goto fail;
        r->dtype = !strcmp(dt, "F32") ? 4 : !strcmp(dt, "F64") ? 8 : 0;
        if (!r->dtype) {
          rc = zz_fail(p->err, ZZ_EDATA, "%s: tensor '%s': expected dtype F32 (or F64), found %s", p->path, key, dt);
          free(dt);
          goto fail;
        }
        free(dt);
        have_dtype = 1;
      } else if (!strcmp(fk, "shape")) {
        free(fk);
        uint64_t sh[ST_MAX_DIMS];
        int nd;
        if ((rc = jp_uint_array(p, sh, ST_MAX_DIMS, &nd))) goto fail;
        t->ndim = nd;
        t->numel = 1;
        for (int d = 0; d < nd; d++) {
          if (sh[d] > (uint64_t)INT32_MAX) {
            rc = zz_fail(p->err, ZZ_EDATA, "%s: tensor '%s': dimension %d too large", p->path, key, d);
            goto fail;
          }
          t->shape[d] = (int64_t)sh[d];
          t->numel *= (size_t)sh[d];
        }
        have_shape = 1;
      } else if (!strcmp(fk, "data_offsets")) {
        free(fk);
        uint64_t o[ST_MAX_DIMS];
        int no;
        if ((rc = jp_uint_array(p, o, ST_MAX_DIMS, &no))) goto fail;
        if (no != 2 || o[1] < o[0]) {
          rc = zz_fail(p->err, ZZ_EDATA, "%s: tensor '%s': expected data_offsets [begin, end]", p->path, key);
          goto fail;
        }
        r->off0 = o[0];
        r->off1 = o[1];
        have_off = 1;
      } else {
        rc = zz_fail(p->err, ZZ_EDATA, "%s: tensor '%s': unexpected field '%s' (expected dtype, shape, data_offsets)",
                     p->path, key, fk);
        free(fk);
        goto fail;
      }
    } while (jp_eat(p, ','));
    if ((rc = jp_expect(p, '}'))) goto fail;
    if (!have_dtype || !have_shape || !have_off) {
      rc = zz_fail(p->err, ZZ_EDATA, "%s: tensor '%s': expected dtype, shape and data_offsets", p->path, key);
      goto fail;
    }
  } while (jp_eat(p, ','));
  if ((rc = jp_expect(p, '}'))) goto fail;
end:
  jp_ws(p);
  if (p->i != p->n) {
    rc = jp_fail(p, "the end of the header after the closing '}'");
    goto fail;
  }
  *raw_out = raw;
  return ZZ_OK;
fail:
  free(raw);
  return rc;
}

int st_read(st_file **out, const char *path, zz_err *err) {
  *out = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) return zz_fail(err, ZZ_EIO, "cannot open %s: %s", path, strerror(errno));
  st_file *f = calloc(1, sizeof *f);
  char *hdr = NULL;
  raw_tensor *raw = NULL;
  int rc = ZZ_OK;
  unsigned char lb[8];
  if (!f) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading %s", path);
    goto done;
  }
  if (fseek(fp, 0, SEEK_END) != 0) {
    rc = zz_fail(err, ZZ_EIO, "cannot seek in %s", path);
    goto done;
  }
  long fsize = ftell(fp);
  rewind(fp);
  if (fsize < 8 || fread(lb, 1, 8, fp) != 8) {
    rc = zz_fail(err, ZZ_EDATA, "%s: byte 0: not a safetensors file (expected an 8-byte header length, the file is shorter)", path);
    goto done;
  }
  uint64_t hl = 0;
  for (int k = 7; k >= 0; k--) hl = hl * 256 + lb[k];
  if (hl > (uint64_t)fsize - 8 || hl > 100u * 1024 * 1024) {
    rc = zz_fail(err, ZZ_EDATA, "%s: byte 0: not a safetensors file (header length %" PRIu64 " exceeds the file size %ld; "
                 "expected an 8-byte little-endian length of the JSON header that follows)", path, hl, fsize);
    goto done;
  }
  hdr = malloc(hl + 1);
  if (!hdr || fread(hdr, 1, hl, fp) != hl) {
    rc = zz_fail(err, hdr ? ZZ_EIO : ZZ_ENOMEM, "cannot read the header of %s", path);
    goto done;
  }
  jp p = {hdr, hl, 0, path, err};
  if ((rc = parse_header(&p, f, &raw))) goto done;
  uint64_t data_size = (uint64_t)fsize - 8 - hl;
  for (int k = 0; k < f->n; k++) {
    st_tensor *t = &f->t[k];
    raw_tensor *r = &raw[k];
    if (r->off1 > data_size || r->off1 - r->off0 != (uint64_t)t->numel * (uint64_t)r->dtype) {
      rc = zz_fail(err, ZZ_EDATA, "%s: byte %" PRIu64 ": tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "]: expected "
                   "%zu values of %d bytes inside the %" PRIu64 " data bytes", path, 8 + hl + r->off0, t->name, r->off0,
                   r->off1, t->numel, r->dtype, data_size);
      goto done;
    }
    t->data = malloc((t->numel ? t->numel : 1) * sizeof(float));
    unsigned char *buf = malloc(r->off1 - r->off0 + 1);
    if (!t->data || !buf) {
      free(buf);
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading tensor '%s' of %s", t->name, path);
      goto done;
    }
    if (fseek(fp, (long)(8 + hl + r->off0), SEEK_SET) != 0 || fread(buf, 1, r->off1 - r->off0, fp) != r->off1 - r->off0) {
      free(buf);
      rc = zz_fail(err, ZZ_EIO, "%s: cannot read the data of tensor '%s'", path, t->name);
      goto done;
    }
    for (size_t q = 0; q < t->numel; q++) {
      if (r->dtype == 4) {
        uint32_t u = (uint32_t)buf[4 * q] | (uint32_t)buf[4 * q + 1] << 8 | (uint32_t)buf[4 * q + 2] << 16 |
                     (uint32_t)buf[4 * q + 3] << 24;
        memcpy(&t->data[q], &u, 4);
      } else {
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--) u = u << 8 | buf[8 * q + (size_t)b];
        double d;
        memcpy(&d, &u, 8);
        t->data[q] = (float)d;
      }
      /* zhizeng reads weights and network inputs from safetensors: a NaN or Inf (or an F64 beyond float range)
       * would score every stock NaN, so it is refused at its byte */
      if (!isfinite(t->data[q])) {
        const size_t at = 8 + (size_t)hl + (size_t)r->off0 + q * (size_t)r->dtype;
        rc = zz_fail(err, ZZ_EDATA, "%s: byte %zu: tensor '%s' element %zu is not a finite float: expected finite "
                     "values (a missing input is left out, not written as NaN)", path, at, t->name, q);
        break;
      }
    }
    free(buf);
    if (rc) goto done;
  }
done:
  fclose(fp);
  free(hdr);
  free(raw);
  if (rc) {
    st_free_partial(f);
    return rc;
  }
  *out = f;
  return ZZ_OK;
}

const st_tensor *st_find(const st_file *f, const char *name) {
  for (int k = 0; k < f->n; k++)
    if (!strcmp(f->t[k].name, name)) return &f->t[k];
  return NULL;
}

const char *st_meta(const st_file *f, const char *key) {
  for (int k = 0; k < f->n_meta; k++)
    if (!strcmp(f->meta_key[k], key)) return f->meta_val[k];
  return NULL;
}

/* ---------------------------------------------------------------- writing */

static void json_string(FILE *fp, const char *s) {
  fputc('"', fp);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(fp, "\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", fp);
    else if (*c == '\t')
      fputs("\\t", fp);
    else if (*c == '\r')
      fputs("\\r", fp);
    else if (*c < 0x20)
      fprintf(fp, "\\u%04x", *c);
    else
      fputc(*c, fp);
  }
  fputc('"', fp);
}

int st_write(const char *path, int n, const st_tensor *t, int n_meta, const char *const *keys,
             const char *const *vals, zz_err *err) {
  /* header into a memory stream, padded with spaces to a multiple of 8 bytes */
  char *hdr = NULL;
  size_t hl = 0;
  FILE *hs = open_memstream(&hdr, &hl);
  if (!hs) return zz_fail(err, ZZ_ENOMEM, "out of memory writing %s", path);
  fputc('{', hs);
  int first = 1;
  if (n_meta > 0) {
    fputs("\"__metadata__\":{", hs);
    for (int k = 0; k < n_meta; k++) {
      if (k) fputc(',', hs);
      json_string(hs, keys[k]);
      fputc(':', hs);
      json_string(hs, vals[k]);
    }
    fputc('}', hs);
    first = 0;
  }
  uint64_t off = 0;
  for (int k = 0; k < n; k++) {
    if (!first) fputc(',', hs);
    first = 0;
    json_string(hs, t[k].name);
    fputs(":{\"dtype\":\"F32\",\"shape\":[", hs);
    for (int d = 0; d < t[k].ndim; d++) fprintf(hs, "%s%" PRId64, d ? "," : "", t[k].shape[d]);
    fprintf(hs, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, off + 4 * (uint64_t)t[k].numel);
    off += 4 * (uint64_t)t[k].numel;
  }
  fputc('}', hs);
  while ((ftell(hs) % 8) != 0) fputc(' ', hs);
  if (fclose(hs) != 0) {
    free(hdr);
    return zz_fail(err, ZZ_ENOMEM, "out of memory writing %s", path);
  }
  FILE *fp = fopen(path, "wb");
  if (!fp) {
    free(hdr);
    return zz_fail(err, ZZ_EIO, "cannot create %s: %s", path, strerror(errno));
  }
  unsigned char lb[8];
  for (int k = 0; k < 8; k++) lb[k] = (unsigned char)((uint64_t)hl >> (8 * k));
  int ok = fwrite(lb, 1, 8, fp) == 8 && fwrite(hdr, 1, hl, fp) == hl;
  free(hdr);
  for (int k = 0; k < n && ok; k++)
    for (size_t q = 0; q < t[k].numel && ok; q++) {
      uint32_t u;
      memcpy(&u, &t[k].data[q], 4);
      unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                            (unsigned char)(u >> 24)};
      ok = fwrite(b, 1, 4, fp) == 4;
    }
  if (fclose(fp) != 0) ok = 0;
  if (!ok) return zz_fail(err, ZZ_EIO, "cannot write %s: %s", path, strerror(errno));
  return ZZ_OK;
}

/* ------------------------------------------------------- model <-> file */

int nn_export_safetensors(const nn_model *m, const char *path, zz_err *err) {
  st_tensor t[NN_MAX_PARAMS];
  for (int k = 0; k < m->n_views; k++) {
    const nn_param_view *v = &m->views[k];
    t[k].name = (char *)v->name;
    t[k].ndim = v->ndim;
    t[k].shape[0] = v->shape[0];
    t[k].shape[1] = v->shape[1];
    t[k].numel = v->size;
    t[k].data = m->params + v->offset;
  }
  char s_layers[32], s_hidden[32], s_in[32], s_out[32], s_lambda[64], s_drop[64];
  snprintf(s_layers, sizeof s_layers, "%d", m->cfg.layers);
  snprintf(s_hidden, sizeof s_hidden, "%d", m->cfg.hidden);
  snprintf(s_in, sizeof s_in, "%d", m->cfg.input_size);
  snprintf(s_out, sizeof s_out, "%d", m->cfg.outputs);
  zz_fmt_double(s_lambda, sizeof s_lambda, m->cfg.lambda);
  zz_fmt_double(s_drop, sizeof s_drop, m->cfg.dropout);
  /* the class3 head also carries its cross-entropy weights, "down,neutral,up" */
  char s_cw[3 * 40], one[40];
  s_cw[0] = 0;
  for (int k = 0; k < NN_CLASSES; k++) {
    zz_fmt_double(one, sizeof one, m->cfg.class_weight[k]);
    size_t l = strlen(s_cw);
    snprintf(s_cw + l, sizeof s_cw - l, "%s%s", k ? "," : "", one);
  }
  /* the ACT cell's halting threshold, most ponder steps and ponder cost weight */
  char s_eps[40], s_nmax[32], s_tau[40];
  zz_fmt_double(s_eps, sizeof s_eps, m->cfg.act_epsilon);
  snprintf(s_nmax, sizeof s_nmax, "%d", m->cfg.act_max_steps);
  zz_fmt_double(s_tau, sizeof s_tau, m->cfg.act_tau);
  const char *keys[14] = {"format", "cell", "layers", "hidden", "input_size", "outputs", "head", "lambda", "dropout",
                          "preprocessing"};
  const char *vals[14] = {"zhizeng", nn_cell_name(m->cfg.cell), s_layers, s_hidden, s_in, s_out,
                          nn_head_name(m->cfg.head), s_lambda, s_drop, m->preprocessing ? m->preprocessing : ""};
  int n_meta = 10;
  if (m->cfg.head == NN_HEAD_CLASS3) {
    keys[n_meta] = "class_weights";
    vals[n_meta++] = s_cw;
  }
  if (m->cfg.cell == NN_ACT_LSTM) {
    keys[n_meta] = "act_epsilon";
    vals[n_meta++] = s_eps;
    keys[n_meta] = "act_max_steps";
    vals[n_meta++] = s_nmax;
    keys[n_meta] = "act_tau";
    vals[n_meta++] = s_tau;
  }
  return st_write(path, m->n_views, t, n_meta, keys, vals, err);
}

static int meta_int(const st_file *f, const char *path, const char *key, int *v, zz_err *err) {
  const char *s = st_meta(f, key);
  if (!s) return zz_fail(err, ZZ_EDATA, "%s: __metadata__ lacks '%s'", path, key);
  char *end;
  errno = 0;
  long a = strtol(s, &end, 10);
  if (errno || end == s || *end || a < 0 || a > INT32_MAX)
    return zz_fail(err, ZZ_EDATA, "%s: __metadata__ '%s': expected a non-negative integer, found '%s'", path, key, s);
  *v = (int)a;
  return ZZ_OK;
}

static int meta_double(const st_file *f, const char *path, const char *key, double dflt, double *v, zz_err *err) {
  const char *s = st_meta(f, key);
  if (!s) {
    *v = dflt;
    return ZZ_OK;
  }
  char *end;
  double a = strtod(s, &end);
  if (end == s || *end || !isfinite(a))
    return zz_fail(err, ZZ_EDATA, "%s: __metadata__ '%s': expected a number, found '%s'", path, key, s);
  *v = a;
  return ZZ_OK;
}

/* "a,b,c": the class3 head's cross-entropy weights (down, neutral, up); absent: 1, 1, 1. */
static int meta_class_weights(const st_file *f, const char *path, double *w, zz_err *err) {
  const char *s = st_meta(f, "class_weights");
  if (!s || !nn_class_weights_parse(s, w, err)) return ZZ_OK;
  return zz_fail(err, ZZ_EDATA, "%s: __metadata__ 'class_weights': expected three numbers > 0 'down,neutral,up', "
                 "found '%s'", path, s);
}

static void fmt_shape(char *b, size_t n, int ndim, const int64_t *sh) {
  size_t k = (size_t)snprintf(b, n, "[");
  for (int d = 0; d < ndim && k < n; d++) k += (size_t)snprintf(b + k, n - k, "%s%" PRId64, d ? ", " : "", sh[d]);
  if (k < n) snprintf(b + k, n - k, "]");
}

int nn_import_safetensors(nn_model **out, const char *path, zz_err *err) {
  *out = NULL;
  st_file *f;
  int rc = st_read(&f, path, err);
  if (rc) return rc;
  nn_config c = nn_config_default(1);
  const char *cell = st_meta(f, "cell"), *head = st_meta(f, "head");
  if (!cell || nn_cell_parse(cell) < 0)
    rc = zz_fail(err, ZZ_EDATA, "%s: __metadata__ 'cell': expected gru, lstm or act_lstm, found '%s'", path,
                 cell ? cell : "(none)");
  else if (!head || nn_head_parse(head) < 0)
    rc = zz_fail(err, ZZ_EDATA, "%s: __metadata__ 'head': expected univariate, multivariate or class3, found '%s'",
                 path, head ? head : "(none)");
  if (!rc) {
    c.cell = (nn_cell)nn_cell_parse(cell);
    int nmax_given = st_meta(f, "act_max_steps") != NULL;
    c.head = (nn_head_kind)nn_head_parse(head);
    if ((rc = meta_int(f, path, "layers", &c.layers, err)) || (rc = meta_int(f, path, "hidden", &c.hidden, err)) ||
        (rc = meta_int(f, path, "input_size", &c.input_size, err)) ||
        (rc = meta_int(f, path, "outputs", &c.outputs, err)) ||
        (rc = meta_double(f, path, "lambda", 1.0, &c.lambda, err)) ||
        (rc = meta_double(f, path, "dropout", 0.1, &c.dropout, err)) ||
        (rc = meta_class_weights(f, path, c.class_weight, err)) ||
        (rc = meta_double(f, path, "act_epsilon", c.act_epsilon, &c.act_epsilon, err)) ||
        (rc = meta_double(f, path, "act_tau", c.act_tau, &c.act_tau, err)) ||
        (nmax_given && (rc = meta_int(f, path, "act_max_steps", &c.act_max_steps, err)))) {
    }
  }
  nn_model *m = NULL;
  if (!rc && (rc = nn_create(&m, &c, 0, err))) { /* bad data in the file, not a usage error */
    zz_wrap(err, "%s: __metadata__: expected a valid model configuration", path);
    rc = ZZ_EDATA;
    if (err) err->code = ZZ_EDATA;
  }
  for (int k = 0; !rc && k < m->n_views; k++) {
    const nn_param_view *v = &m->views[k];
    const st_tensor *t = st_find(f, v->name);
    if (!t) {
      rc = zz_fail(err, ZZ_EDATA, "%s: tensor '%s' is missing: expected it for a %d-layer %s with a %s head", path,
                   v->name, c.layers, nn_cell_name(c.cell), nn_head_name(c.head));
      break;
    }
    int64_t want[2] = {v->shape[0], v->shape[1]};
    int same = t->ndim == v->ndim;
    for (int d = 0; same && d < v->ndim; d++) same = t->shape[d] == want[d];
    if (!same) {
      char a[96], b[96];
      fmt_shape(a, sizeof a, v->ndim, want);
      fmt_shape(b, sizeof b, t->ndim, t->shape);
      rc = zz_fail(err, ZZ_EDATA, "%s: tensor '%s': expected %s, found %s", path, v->name, a, b);
      break;
    }
    memcpy(m->params + v->offset, t->data, v->size * sizeof(float));
  }
  for (int k = 0; !rc && k < f->n; k++)
    if (!nn_param_find(m, f->t[k].name))
      rc = zz_fail(err, ZZ_EDATA, "%s: unexpected tensor '%s' for a %d-layer %s with a %s head (expected only its parameters)", path, f->t[k].name,
                   c.layers, nn_cell_name(c.cell), nn_head_name(c.head));
  const char *pre = st_meta(f, "preprocessing");
  if (!rc && pre && *pre) rc = nn_set_preprocessing(m, pre, err);
  st_free(f);
  if (rc) {
    nn_free(m);
    return rc;
  }
  *out = m;
  return ZZ_OK;
}
