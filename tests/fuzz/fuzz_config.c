/* fuzz_config.c — the pipeline's INI config parser (pipeline/pipe_config.c, over inih) and its cross-key
 * checks: any text is either a config or refused with a message naming the config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 16) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  pipe_config *c = calloc(1, sizeof *c);
  if (!c) {
    free(text);
    return 0;
  }
  pipe_config_default(c);
  zz_err err = {0};
  int rc = pipe_config_parse(c, text, "fuzz.ini", &err);
  if (rc == ZZ_OK) rc = pipe_config_check(c, &err);
  fz_check(rc, &err, -1, "fuzz.ini");
  /* a config error names the file, or the section.key it is about (the cross-key checks) */
  size_t key = strspn(err.msg, "abcdefghijklmnopqrstuvwxyz_0123456789.");
  int names_key = key > 2 && memchr(err.msg, '.', key) && (err.msg[key] == ':' || err.msg[key] == ' ' || err.msg[key] == ',');
  if (rc == ZZ_EUSAGE && !strstr(err.msg, "fuzz.ini") && !names_key) {
    fprintf(stderr, "fuzz: a config error names neither the file nor the key: %s\n", err.msg);
    abort();
  }
  free(c);
  free(text);
  return 0;
}
