/* panel_cache.c — the binary panel cache: one file, read section by section straight into the panel's
 * arrays (no second copy of the data), checked before it is trusted.
 *
 * Layout (native byte order, checked by a marker):
 *   magic "ZZPANEL\0" | u32 version | u32 0x01020304 | u64 stamp length | stamp bytes |
 *   u64 payload length | u64 checksum | payload sections
 * The stamp lists each market file's name, size and modification time; the checksum is a 64-bit
 * hash over every payload section. A cache whose magic, version, stamp, length or checksum do not
 * match is reported as invalid and the caller parses the CSVs again.
 */
#include "panel_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_VERSION ZZ_PANEL_CACHE_VERSION
static const char cache_magic[8] = {'Z', 'Z', 'P', 'A', 'N', 'E', 'L', 0};

/* ---------------------------------------------------------------- stamp */

static int stamp_add(cache_stamp *s, size_t *cap, const void *b, size_t n) {
  if (s->len + n > *cap) {
    size_t c = *cap ? *cap * 2 : 1024;
    while (c < s->len + n) c *= 2;
    char *q = realloc(s->bytes, c);
    if (!q) return -1;
    s->bytes = q;
    *cap = c;
  }
  memcpy(s->bytes + s->len, b, n);
  s->len += n;
  return 0;
}

static int stamp_file(cache_stamp *s, size_t *cap, const char *dir, const char *name) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  struct stat st;
  int64_t v[3] = {-1, -1, -1};
  if (stat(path, &st) == 0) {
    v[0] = (int64_t)st.st_size;
    v[1] = (int64_t)st.st_mtim.tv_sec;
    v[2] = (int64_t)st.st_mtim.tv_nsec;
  }
  uint32_t nl = (uint32_t)strlen(name);
  return stamp_add(s, cap, &nl, sizeof nl) || stamp_add(s, cap, name, nl) || stamp_add(s, cap, v, sizeof v);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cache_stamp_make(const char *dir, cache_stamp *s, zz_err *err) {
  static const char *const files[] = {"bars.csv",  "index_bars.csv",   "index_weights.csv", "stocks.csv",
                                      "industry.csv", "fundamentals.csv", "features"};
  size_t cap = 0;
  s->bytes = NULL;
  s->len = 0;
  int bad = 0;
  /* the program version: a new release may derive the panel differently */
  static const char version[] = "zhizeng " ZZ_VERSION;
  bad |= stamp_add(s, &cap, version, sizeof version);
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) bad |= stamp_file(s, &cap, dir, files[k]);
  char fdir[1024];
  snprintf(fdir, sizeof fdir, "%s/features", dir);
  DIR *d = opendir(fdir);
  if (d) {
    char **names = NULL;
    size_t n = 0, ncap = 0;
    struct dirent *e;
    while (!bad && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      if (n == ncap) {
        ncap = ncap ? ncap * 2 : 8;
        char **q = realloc(names, ncap * sizeof *q);
        if (!q) {
          bad = 1;
          break;
        }
        names = q;
      }
      if (!(names[n] = malloc(strlen(e->d_name) + 10))) {
        bad = 1;
        break;
      }
      snprintf(names[n], strlen(e->d_name) + 10, "features/%s", e->d_name);
      n++;
    }
    closedir(d);
    if (!bad) qsort(names, n, sizeof *names, cmp_str);
    for (size_t k = 0; k < n; k++) {
      if (!bad) bad |= stamp_file(s, &cap, dir, names[k]);
      free(names[k]);
    }
    free(names);
  }
  if (bad) {
    cache_stamp_free(s);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  return ZZ_OK;
}

void cache_stamp_free(cache_stamp *s) {
  free(s->bytes);
  s->bytes = NULL;
  s->len = 0;
}

/* ---------------------------------------------------------------- hash */

/* Four independent multiply-xor lanes over 8-byte words: each step is a bijection of the lane state,
 * so a single changed word always changes that lane; the lanes are folded with a final mixer. */
static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static uint64_t hash_bytes(const void *data, size_t n, uint64_t seed) {
  const unsigned char *p = data;
  const uint64_t K = 0x9E3779B97F4A7C15ULL;
  uint64_t h[4] = {seed ^ 1, seed ^ 2, seed ^ 3, seed ^ 4};
  size_t k = 0;
  for (; k + 32 <= n; k += 32) {
    for (int j = 0; j < 4; j++) {
      uint64_t w;
      memcpy(&w, p + k + 8 * (size_t)j, 8);
      uint64_t x = (h[j] ^ w) * K;
      h[j] = (x << 31) | (x >> 33);
    }
  }
  uint64_t t = 0;
  for (; k < n; k++) t = (t ^ p[k]) * 0x100000001b3ULL;
  uint64_t r = mix64(h[0]) ^ mix64(h[1] + 1) * 3 ^ mix64(h[2] + 2) * 5 ^ mix64(h[3] + 3) * 7;
  return mix64(r ^ mix64(t) ^ (uint64_t)n);
}

/* ---------------------------------------------------------------- sections */

typedef struct cio {
  FILE *f;
  int reading;
  uint64_t hash;
  uint64_t left;   /* reading: payload bytes not yet read */
  uint64_t bytes;  /* writing: payload bytes written */
  int failed;      /* reading: short or inconsistent */
  int oom;
} cio;

/* Transfers one section; in read mode *ptr is allocated first when alloc is set. */
static void sec(cio *io, void **ptr, size_t n, int alloc) {
  if (io->failed || io->oom) return;
  if (io->reading) {
    if ((uint64_t)n > io->left) {
      io->failed = 1;
      return;
    }
    if (alloc) {
      *ptr = malloc(n ? n : 1);
      if (!*ptr) {
        io->oom = 1;
        return;
      }
    }
    if (n && fread(*ptr, 1, n, io->f) != n) {
      io->failed = 1;
      return;
    }
    io->left -= n;
  } else {
    if (n && fwrite(*ptr, 1, n, io->f) != n) {
      io->failed = 1;
      return;
    }
    io->bytes += n;
  }
  io->hash = mix64(io->hash ^ hash_bytes(*ptr, n, io->hash));
}

#define SEC_VAL(io, v) do { void *vp_ = &(v); sec(io, &vp_, sizeof(v), 0); } while (0)
#define SEC_ARR(io, a, n) do { void *ap_ = (void *)(a); sec(io, &ap_, (n) * sizeof *(a), (io)->reading); \
                               (a) = ap_; } while (0)

/* Moves a whole panel through io; in read mode p starts zeroed. */
static void xfer(cio *io, panel *p) {
  int64_t dims[6] = {p->n_dates, p->n_stocks, p->n_industries, (int64_t)p->fund.n, p->n_datasets,
                     (int64_t)sizeof(panel_stock)};
  SEC_VAL(io, dims);
  if (io->failed || io->oom) return;
  if (io->reading) {
    if (dims[0] <= 0 || dims[0] > 1000000 || dims[1] <= 0 || dims[1] > 10000000 || dims[2] < 0 || dims[2] > 32767 ||
        dims[3] < 0 || dims[4] < 0 || dims[4] > 1000 || dims[5] != (int64_t)sizeof(panel_stock) ||
        (uint64_t)dims[0] * (uint64_t)dims[1] > io->left) {
      io->failed = 1;
      return;
    }
    p->n_dates = (int)dims[0];
    p->n_stocks = (int)dims[1];
    p->n_industries = (int)dims[2];
    p->fund.n = (size_t)dims[3];
    p->n_datasets = (int)dims[4];
  }
  int64_t cols[2] = {p->has_is_st, p->has_limits}; /* optional bars.csv columns the universe screen needs */
  SEC_VAL(io, cols);
  if (io->failed || io->oom) return;
  if (io->reading) {
    if ((cols[0] != 0 && cols[0] != 1) || (cols[1] != 0 && cols[1] != 1)) {
      io->failed = 1;
      return;
    }
    p->has_is_st = (int)cols[0];
    p->has_limits = (int)cols[1];
  }
  size_t nd = (size_t)p->n_dates, ns = (size_t)p->n_stocks, cells = nd * ns;
  SEC_ARR(io, p->dates, nd);
  SEC_ARR(io, p->stocks, ns);
  for (int k = 0; k < PF_N_FIELDS; k++) SEC_ARR(io, p->f[k], cells);
  SEC_ARR(io, p->flags, cells);
  SEC_ARR(io, p->industry_names, (size_t)p->n_industries);
  SEC_ARR(io, p->industry, cells);
  for (int k = 0; k < PANEL_N_INDEX; k++) {
    panel_index *I = &p->index[k];
    int64_t h[3] = {I->present, I->n_snap, I->snap_first ? (int64_t)I->snap_first[I->n_snap] : 0};
    SEC_VAL(io, h);
    if (io->failed || io->oom) return;
    if (io->reading) {
      if (h[1] < 0 || h[1] > (int64_t)nd || h[2] < 0 || (uint64_t)h[2] > io->left) {
        io->failed = 1;
        return;
      }
      I->present = (int)h[0];
      I->n_snap = (int)h[1];
    }
    if (!I->present) continue;
    SEC_ARR(io, I->close, nd);
    SEC_ARR(io, I->snap_t, (size_t)I->n_snap);
    SEC_ARR(io, I->snap_first, (size_t)I->n_snap + 1);
    SEC_ARR(io, I->member, (size_t)h[2]);
    SEC_ARR(io, I->weight, (size_t)h[2]);
  }
  panel_fundamentals *F = &p->fund;
  SEC_ARR(io, F->stock, F->n);
  SEC_ARR(io, F->date, F->n);
  for (int k = 0; k < PFUND_N_FIELDS; k++) SEC_ARR(io, F->v[k], F->n);
  SEC_ARR(io, F->first, ns + 1);
  if (io->reading && !io->failed && !io->oom) {
    p->datasets = calloc((size_t)(p->n_datasets ? p->n_datasets : 1), sizeof *p->datasets);
    if (!p->datasets) {
      io->oom = 1;
      return;
    }
  }
  for (int k = 0; k < p->n_datasets && !io->failed && !io->oom; k++) {
    panel_dataset *d = &p->datasets[k];
    char name[64];
    int64_t nc = d->n_cols;
    memcpy(name, d->name, sizeof name);
    SEC_VAL(io, name);
    SEC_VAL(io, nc);
    if (io->failed || io->oom) return;
    if (io->reading) {
      if (nc <= 0 || nc > 100000 || cells * (uint64_t)nc > io->left) {
        io->failed = 1;
        return;
      }
      memcpy(d->name, name, sizeof name);
      d->name[63] = '\0';
      d->n_cols = (int)nc;
    }
    SEC_ARR(io, d->col_names, (size_t)d->n_cols);
    SEC_ARR(io, d->values, cells * (size_t)d->n_cols);
  }
}

/* ---------------------------------------------------------------- read / write */

int cache_read(const char *path, const cache_stamp *s, panel **out, char *why, size_t why_len, zz_err *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(why, why_len, "no cache at %s", path);
    return 1;
  }
  struct stat st;
  char magic[8];
  uint32_t ver[2];
  uint64_t slen, plen, sum;
  int rc = 1;
  char *sb = NULL;
  panel *p = NULL;
  if (fstat(fileno(f), &st) != 0 || fread(magic, 1, 8, f) != 8 || memcmp(magic, cache_magic, 8) ||
      fread(ver, sizeof ver, 1, f) != 1 || ver[0] != CACHE_VERSION || ver[1] != 0x01020304u) {
    snprintf(why, why_len, "cache %s has another format or version: rebuilt", path);
    goto done;
  }
  if (fread(&slen, 8, 1, f) != 1 || slen != s->len || !(sb = malloc(slen ? slen : 1)) ||
      (slen && fread(sb, 1, slen, f) != slen) || memcmp(sb, s->bytes, slen)) {
    snprintf(why, why_len, "cache %s is stale: the CSV files changed since it was written", path);
    goto done;
  }
  if (fread(&plen, 8, 1, f) != 1 || fread(&sum, 8, 1, f) != 1 ||
      (uint64_t)st.st_size != 8 + sizeof ver + 8 + slen + 8 + 8 + plen) {
    snprintf(why, why_len, "cache %s is truncated or has a bad length", path);
    goto done;
  }
  p = calloc(1, sizeof *p);
  if (!p) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  cio io = {.f = f, .reading = 1, .hash = 0x7a685a656e67ULL, .left = plen};
  xfer(&io, p);
  if (io.oom) {
    rc = zz_fail(err, ZZ_ENOMEM, "out of memory reading cache %s", path);
    goto done;
  }
  if (io.failed || io.left != 0) {
    snprintf(why, why_len, "cache %s is corrupt (inconsistent sizes)", path);
    goto done;
  }
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  /* (fuzzing builds skip it, so that mutated payloads reach the section decoder: tests/fuzz) */
  if (io.hash != sum) {
    snprintf(why, why_len, "cache %s is corrupt (checksum mismatch)", path);
    goto done;
  }
#else
  (void)sum;
#endif
  p->from_cache = 1;
  *out = p;
  p = NULL;
  rc = ZZ_OK;
done:
  if (p) panel_free(p);
  free(sb);
  fclose(f);
  return rc;
}

int cache_write(const char *path, const cache_stamp *s, const panel *pc, zz_err *err) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot create: %s", tmp, strerror(errno));
  panel *p = (panel *)pc; /* xfer only reads the panel when writing */
  uint32_t ver[2] = {CACHE_VERSION, 0x01020304u};
  uint64_t slen = s->len, zero = 0;
  int ok = fwrite(cache_magic, 1, 8, f) == 8 && fwrite(ver, sizeof ver, 1, f) == 1 && fwrite(&slen, 8, 1, f) == 1 &&
           (!slen || fwrite(s->bytes, 1, slen, f) == slen) && fwrite(&zero, 8, 1, f) == 1 &&
           fwrite(&zero, 8, 1, f) == 1;
  cio io = {.f = f, .reading = 0, .hash = 0x7a685a656e67ULL};
  if (ok) {
    xfer(&io, p);
    ok = !io.failed;
  }
  long off = (long)(8 + sizeof ver + 8 + slen);
  ok = ok && fseek(f, off, SEEK_SET) == 0 && fwrite(&io.bytes, 8, 1, f) == 1 && fwrite(&io.hash, 8, 1, f) == 1;
  int e = errno;
  if (fclose(f) != 0) ok = 0;
  if (!ok) {
    unlink(tmp);
    return zz_fail(err, ZZ_EIO, "%s: cannot write the cache: %s", path, strerror(e));
  }
  if (rename(tmp, path) != 0) {
    e = errno;
    unlink(tmp);
    return zz_fail(err, ZZ_EIO, "%s: cannot rename the cache into place: %s", path, strerror(e));
  }
  return ZZ_OK;
}
