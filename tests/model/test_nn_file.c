/* test_nn_file.c — native model files: save/load round trip of parameters, Adam state, step,
 * preprocessing string and extra blob (bit-exact), and refusal of a corrupted or truncated file. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c, ...)                  \
  do {                                 \
    if (!(c)) {                        \
      fprintf(stderr, __VA_ARGS__);    \
      fprintf(stderr, "\n");           \
      return 1;                        \
    }                                  \
  } while (0)

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  char path[4096];
  snprintf(path, sizeof path, "%s/test_nn_file.zzmodel", dir);
  nn_config c = nn_config_default(6);
  c.cell = NN_LSTM;
  c.layers = 2;
  c.hidden = 8;
  c.head = NN_HEAD_MULTIVARIATE;
  c.outputs = 3;
  c.lambda = 2.5;
  zz_err err;
  nn_model *m, *b;
  CHECK(nn_create(&m, &c, 42, &err) == 0, "create: %s", err.msg);
  for (size_t k = 0; k < m->n_params; k++) {
    m->adam_m[k] = (float)k * 0.5f;
    m->adam_v[k] = (float)k * 0.25f;
  }
  m->adam_step = 17;
  CHECK(nn_set_preprocessing(m, "{\"median\":[1,2]}", &err) == 0, "pre");
  const char extra[] = "epoch=12;best=0.0531";
  CHECK(nn_save(m, path, extra, sizeof extra, &err) == 0, "save: %s", err.msg);
  void *ex = NULL;
  size_t exl = 0;
  CHECK(nn_load(&b, path, &ex, &exl, &err) == 0, "load: %s", err.msg);
  CHECK(memcmp(&b->cfg, &m->cfg, sizeof c) == 0, "config differs");
  CHECK(b->n_params == m->n_params, "n_params differs");
  CHECK(!memcmp(b->params, m->params, m->n_params * 4) && !memcmp(b->adam_m, m->adam_m, m->n_params * 4) &&
            !memcmp(b->adam_v, m->adam_v, m->n_params * 4), "buffers differ");
  CHECK(b->adam_step == 17, "step %lld", (long long)b->adam_step);
  CHECK(b->preprocessing && !strcmp(b->preprocessing, m->preprocessing), "preprocessing differs");
  CHECK(exl == sizeof extra && !memcmp(ex, extra, exl), "extra blob differs");
  free(ex);
  nn_free(b);
  /* flip one parameter byte: the checksum must catch it */
  FILE *f = fopen(path, "r+b");
  CHECK(f, "reopen");
  fseek(f, 200, SEEK_SET);
  int ch = fgetc(f);
  fseek(f, 200, SEEK_SET);
  fputc(ch ^ 0x10, f);
  fclose(f);
  CHECK(nn_load(&b, path, NULL, NULL, &err) == ZZ_EDATA && strstr(err.msg, "checksum"), "corruption not detected: %s",
        err.msg);
  /* truncated file */
  CHECK(nn_save(m, path, NULL, 0, &err) == 0, "save2");
  f = fopen(path, "r+b");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  CHECK(truncate(path, n - 100) == 0, "truncate");
  CHECK(nn_load(&b, path, NULL, NULL, &err) == ZZ_EDATA, "truncation not detected");
  remove(path);
  nn_free(m);
  printf("native model file round trip, corruption and truncation checks passed\n");
  return 0;
}
