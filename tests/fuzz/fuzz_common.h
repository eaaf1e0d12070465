/* fuzz_common.h — what the fuzz targets of tests/fuzz/ share (docs/reliability.md "Fuzzing").
 *
 * Every target is a libFuzzer entry point, LLVMFuzzerTestOneInput, over one reader of zhizeng. The readers
 * take paths, so a target writes its input into a private work directory first. Readers of a directory (a
 * market, an optimisation problem, tushare or qlib exports) take a *pack*: several files in one input,
 *
 *   @@ name\n<bytes of the file>\n@@ other/name\n<bytes>...
 *
 * a file's bytes run to the next "\n@@ " (the newline before it belongs to the marker). Seeds are packs of the
 * test fixtures (make_seeds.py), so the fuzzer mutates real directories, and across files.
 *
 * The invariants every target checks (fz_check aborts, which libFuzzer reports as a crash):
 *   - a reader either succeeds or returns an error class a user can act on (usage, data, i/o, memory,
 *     numeric), never ZZ_EINTERNAL, with a non-empty message;
 *   - a data error names the file it is about (a path under the work directory);
 *   - on error the output pointer is NULL.
 * The sanitizers (ASan + UBSan) catch the rest; libFuzzer's -timeout catches hangs. */
#ifndef ZZ_FUZZ_COMMON_H
#define ZZ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process's work directory (created on first use under $TMPDIR or /tmp, removed at exit). Each call
 * returns the same path. */
const char *fz_workdir(void);
/* A fresh, empty subdirectory <workdir>/<name> (its old contents removed). */
const char *fz_subdir(const char *name, char *buf, size_t cap);
/* Writes bytes to dir/name (creating parent directories); 0 or -1. */
int fz_write(const char *dir, const char *name, const uint8_t *data, size_t size);
/* Unpacks a pack into dir (emptied first). Returns the number of files, or -1 when the input is not a pack
 * the target can use (a name that is empty, absolute, has "..", odd characters, or is too deep), which
 * the target then skips. */
int fz_unpack(const char *dir, const uint8_t *data, size_t size);
/* The whole file in a malloc'ed buffer of exactly its size (so ASan sees overreads), *n its length; NULL when it
 * cannot be read. */
uint8_t *fz_read_file(const char *path, size_t *n);
/* Unpacks a seed pack file from tests/fuzz/seeds/ into dir; aborts if it cannot (a broken checkout). */
void fz_unpack_file(const char *dir, const char *seed_path);
/* Reads every return of a loaded panel (its accessors over its whole range), then frees it; NULL is ignored. */
void fz_use_panel(panel *p);
/* The invariants above: rc the reader's return, out_is_null whether its output pointer is NULL (-1: the
 * function has no output pointer), where the reader's input path (a data error must name a path under it). */
void fz_check(int rc, const zz_err *err, int out_is_null, const char *where);

#endif
