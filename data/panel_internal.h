/* panel_internal.h — private to data/: the binary panel cache used by panel_load (panel_ingest.c)
 * and implemented in panel_cache.c. */
#ifndef ZZ_PANEL_INTERNAL_H
#define ZZ_PANEL_INTERNAL_H

#include "data.h"

/* The cache's layout version (panel_cache.c). Bump when the layout or the derivation rules of panel_ingest.c
 * change. 2: has_is_st, has_limits; list_date 0 when stocks.csv does not give it. */
#define ZZ_PANEL_CACHE_VERSION 2u

/* A stamp identifies the inputs a cache was built from: for every market file that panel_load reads
 * (present or absent), its name, size and modification time in nanoseconds. */
typedef struct cache_stamp {
  char *bytes;
  size_t len;
} cache_stamp;

int cache_stamp_make(const char *dir, cache_stamp *s, zz_err *err);
void cache_stamp_free(cache_stamp *s);

/* Reads a cache. Returns ZZ_OK with *out set when the cache exists, matches the stamp and its
 * checksum; otherwise *out is NULL and the return value is 1 with a reason in why (missing, stale,
 * corrupt, truncated); never trusts a partial cache. ZZ_ENOMEM on allocation failure. */
int cache_read(const char *path, const cache_stamp *s, panel **out, char *why, size_t why_len, zz_err *err);
/* Writes the cache to a temporary name beside path and renames it into place; on failure removes
 * the temporary file and returns ZZ_EIO. */
int cache_write(const char *path, const cache_stamp *s, const panel *p, zz_err *err);

#endif
