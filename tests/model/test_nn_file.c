/* test_nn_file.c — native model files: save/load round trip of parameters, Adam state, step,
 * preprocessing string and extra blob (bit-exact), and refusal of a corrupted or truncated file; the class3
 * head's class weights round-trip, and a version-1 file (no class weights) still loads with weights 1, 1, 1. */
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
  nn_free(m);
  /* class3 head with class weights: version 2 round trip */
  c = nn_config_default(4);
  c.head = NN_HEAD_CLASS3;
  c.outputs = 3;
  c.hidden = 8;
  c.class_weight[NN_CLASS_DOWN] = 1.75;
  c.class_weight[NN_CLASS_UP] = 0.3;
  CHECK(nn_create(&m, &c, 7, &err) == 0, "create class3: %s", err.msg);
  CHECK(nn_save(m, path, NULL, 0, &err) == 0, "save class3: %s", err.msg);
  CHECK(nn_load(&b, path, NULL, NULL, &err) == 0, "load class3: %s", err.msg);
  CHECK(memcmp(&b->cfg, &m->cfg, sizeof c) == 0 && b->cfg.class_weight[NN_CLASS_UP] == 0.3, "class3 config differs");
  CHECK(!memcmp(b->params, m->params, m->n_params * 4), "class3 parameters differ");
  nn_free(b);
  /* rewrite it as version 1: version word 1, the 24 bytes of class weights (offset 56) and the 20 bytes of act_*
   * fields after them removed, checksum redone */
  f = fopen(path, "rb");
  CHECK(f, "reopen class3");
  unsigned char *buf = malloc(1 << 16);
  size_t len = fread(buf, 1, 1 << 16, f);
  fclose(f);
  CHECK(len > 100 && len < (1 << 16), "class3 file size %zu", len);
  buf[8] = 1;
  memmove(buf + 56, buf + 100, len - 100);
  len -= 44;
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t k = 0; k < len - 8; k++) h = (h ^ buf[k]) * 0x100000001B3ull;
  for (int k = 0; k < 8; k++) buf[len - 8 + (size_t)k] = (unsigned char)(h >> (8 * k));
  f = fopen(path, "wb");
  CHECK(f && fwrite(buf, 1, len, f) == len, "rewrite as version 1");
  fclose(f);
  free(buf);
  CHECK(nn_load(&b, path, NULL, NULL, &err) == 0, "load version 1: %s", err.msg);
  CHECK(b->cfg.head == NN_HEAD_CLASS3 && b->cfg.class_weight[0] == 1 && b->cfg.class_weight[1] == 1 &&
            b->cfg.class_weight[2] == 1 && !memcmp(b->params, m->params, m->n_params * 4),
        "version 1 file: class weights should read as 1, 1, 1 and parameters unchanged");
  nn_free(b);
  nn_free(m);
  /* the ACT-LSTM cell: its act.* tensors and act_* settings round-trip */
  c = nn_config_default(3);
  c.cell = NN_ACT_LSTM;
  c.hidden = 5;
  c.act_epsilon = 0.05;
  c.act_max_steps = 7;
  c.act_tau = 2.5e-3;
  CHECK(nn_create(&m, &c, 11, &err) == 0, "create act_lstm: %s", err.msg);
  CHECK(nn_param_find(m, "act.weight") && nn_param_find(m, "rnn.weight_ih_l0")->shape[1] == 4,
        "act_lstm views: act.weight and a flag column in rnn.weight_ih_l0 expected");
  CHECK(nn_save(m, path, NULL, 0, &err) == 0, "save act_lstm: %s", err.msg);
  CHECK(nn_load(&b, path, NULL, NULL, &err) == 0, "load act_lstm: %s", err.msg);
  CHECK(b->cfg.cell == NN_ACT_LSTM && b->cfg.act_epsilon == 0.05 && b->cfg.act_max_steps == 7 &&
            b->cfg.act_tau == 2.5e-3 && b->n_params == m->n_params && !memcmp(b->params, m->params, m->n_params * 4),
        "act_lstm config or parameters differ after the round trip");
  nn_free(b);
  c.layers = 2;
  CHECK(nn_create(&b, &c, 11, &err) == ZZ_EUSAGE && strstr(err.msg, "1 layer"), "a 2-layer act_lstm must be refused");
  nn_free(m);
  remove(path);
  printf("native model file round trip, corruption, truncation, class3, act_lstm and version-1 checks passed\n");
  return 0;
}
