/* fuzz_model.c — the model file readers (model/): safetensors (st_read, and nn_import_safetensors, which
 * checks names, shapes and metadata, SPEC 11.2) and zhizeng's native binary model file (nn_load: version,
 * checksum, config, parameters, Adam state, extra blob). The first byte picks the reader. A model that
 * loads must export and reimport. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char dir[600], path[700];
  fz_subdir("model", dir, sizeof dir);
  if (fz_write(dir, "in.bin", data + 1, size - 1) != 0) return 0;
  snprintf(path, sizeof path, "%s/in.bin", dir);
  zz_err err = {0};
  nn_model *m = NULL;
  int rc;
  if (data[0] & 1) {
    st_file *f = NULL;
    rc = st_read(&f, path, &err);
    fz_check(rc, &err, f == NULL, path);
    if (f) {
      for (int i = 0; i < f->n; i++) (void)st_find(f, f->t[i].name);
      st_free(f);
    }
    zz_err e2 = {0};
    rc = nn_import_safetensors(&m, path, &e2);
    fz_check(rc, &e2, m == NULL, path);
  } else {
    void *extra = NULL;
    size_t extra_len = 0;
    rc = nn_load(&m, path, &extra, &extra_len, &err);
    fz_check(rc, &err, m == NULL, path);
    free(extra);
  }
  if (m) {
    char out[700];
    snprintf(out, sizeof out, "%s/out.safetensors", dir);
    zz_err e3 = {0};
    if (nn_export_safetensors(m, out, &e3) != ZZ_OK) {
      fprintf(stderr, "fuzz: a model that loaded does not export: %s\n", e3.msg);
      abort();
    }
    nn_model *m2 = NULL;
    if (nn_import_safetensors(&m2, out, &e3) != ZZ_OK) {
      fprintf(stderr, "fuzz: a model that loaded does not reimport: %s\n", e3.msg);
      abort();
    }
    nn_free(m2);
    nn_free(m);
  }
  return 0;
}
