/* synth_out.c — fast, buffered CSV output for the synthetic market: hand-written fixed-point number
 * formatting (the market has ~8 M bar rows; printf would dominate the run time) and files written
 * under a temporary name, renamed only when the whole market was generated. */
#include "synth_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SYNTH_OUT_CAP (1u << 20)

int synth_out_open(synth_out *o, const char *dir, const char *name, zz_err *err) {
  memset(o, 0, sizeof *o);
  if ((size_t)snprintf(o->path, sizeof o->path, "%s/%s", dir, name) >= sizeof o->path ||
      (size_t)snprintf(o->tmp, sizeof o->tmp, "%s/%s.tmp", dir, name) >= sizeof o->tmp)
    return zz_fail(err, ZZ_EUSAGE, "%s/%s: path too long", dir, name);
  o->buf = malloc(SYNTH_OUT_CAP);
  if (!o->buf) return zz_fail(err, ZZ_ENOMEM, "out of memory for the output buffer of %s", o->path);
  o->cap = SYNTH_OUT_CAP;
  o->f = fopen(o->tmp, "wb");
  if (!o->f) {
    int e = errno;
    free(o->buf);
    o->buf = NULL;
    return zz_fail(err, ZZ_EIO, "%s: cannot create: %s", o->tmp, strerror(e));
  }
  return ZZ_OK;
}

static void flush(synth_out *o) {
  if (o->len && !o->failed && fwrite(o->buf, 1, o->len, o->f) != o->len) o->failed = errno ? errno : EIO;
  o->len = 0;
}

char *synth_out_reserve(synth_out *o, size_t n) {
  if (o->len + n > o->cap) flush(o);
  return o->buf + o->len;
}

void synth_out_advance(synth_out *o, char *end) { o->len = (size_t)(end - o->buf); }

void synth_out_str(synth_out *o, const char *s) {
  size_t n = strlen(s);
  if (n > o->cap / 2) {
    flush(o);
    if (!o->failed && fwrite(s, 1, n, o->f) != n) o->failed = errno ? errno : EIO;
    return;
  }
  char *p = synth_out_reserve(o, n);
  memcpy(p, s, n);
  o->len += n;
}

int synth_out_close(synth_out *o, int commit, zz_err *err) {
  if (!o->f) return ZZ_OK;
  flush(o);
  if (fclose(o->f) != 0 && !o->failed) o->failed = errno ? errno : EIO;
  o->f = NULL;
  free(o->buf);
  o->buf = NULL;
  int rc = ZZ_OK;
  if (commit && o->failed) {
    rc = zz_fail(err, ZZ_EIO, "%s: write failed: %s", o->tmp, strerror(o->failed));
    commit = 0;
  }
  if (commit && rename(o->tmp, o->path) != 0) {
    int e = errno;
    rc = zz_fail(err, ZZ_EIO, "%s: cannot rename to %s: %s", o->tmp, o->path, strerror(e));
    commit = 0;
  }
  if (!commit) remove(o->tmp);
  return rc;
}

char *synth_fmt_i64(char *p, int64_t v, int dec) {
  char tmp[32];
  int n = 0;
  uint64_t u;
  if (v < 0) {
    *p++ = '-';
    u = (uint64_t)(-(v + 1)) + 1u;
  } else {
    u = (uint64_t)v;
  }
  do {
    tmp[n++] = (char)('0' + u % 10u);
    u /= 10u;
  } while (u || n <= dec); /* at least one digit before the point */
  for (int k = n - 1; k >= 0; k--) {
    *p++ = tmp[k];
    if (k == dec && dec > 0) *p++ = '.';
  }
  return p;
}

char *synth_fmt_fixed(char *p, double x, int dec) {
  static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
  return synth_fmt_i64(p, (int64_t)llround(x * pow10[dec]), dec);
}
