/* errors.c — the zz_err type shared by every stage. */
#include "data.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int zz_fail(zz_err *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

int zz_wrap(zz_err *err, const char *fmt, ...) {
  if (!err) return ZZ_EINTERNAL;
  char prefix[ZZ_ERR_MSG], old[ZZ_ERR_MSG];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  /* "prefix: old", truncated to the buffer */
  size_t np = strnlen(prefix, sizeof err->msg - 1), no = strnlen(old, sizeof old);
  size_t cap = sizeof err->msg - 1, k = 0;
  memcpy(err->msg, prefix, np);
  k = np;
  if (k + 2 <= cap) {
    memcpy(err->msg + k, ": ", 2);
    k += 2;
  }
  if (no > cap - k) no = cap - k;
  memcpy(err->msg + k, old, no);
  err->msg[k + no] = '\0';
  if (err->code == ZZ_OK) err->code = ZZ_EINTERNAL;
  return err->code;
}

int zz_exit_code(int status) { return status <= 0 ? (status == 0 ? 0 : ZZ_EINTERNAL) : status; }
