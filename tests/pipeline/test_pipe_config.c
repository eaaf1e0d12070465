/* test_pipe_config.c — the pipeline's configuration and stage hashes:
 *   - FNV-1a 64 against the published test vectors;
 *   - defaults equal SPEC 7's limits (hand-written here);
 *   - INI text sets keys; unknown sections/keys and bad values fail with name:line;
 *   - --set overrides and its errors; the INI dump reads back to the same configuration;
 *   - changing one key changes exactly the stage hashes that depend on it;
 *   - docs/config.md (argv[1]) is exactly what pipe_config_doc writes. */
#include "pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int fails = 0;
#define CHECK(cond, ...)                                                                                               \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                             \
      fprintf(stderr, __VA_ARGS__);                                                                                    \
      fputc('\n', stderr);                                                                                             \
      fails++;                                                                                                         \
    }                                                                                                                  \
  } while (0)

static char *dump(const pipe_config *c) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  pipe_config_write(c, f);
  fclose(f);
  return buf;
}

static void test_hash_vectors(void) {
  /* FNV-1a 64 test vectors (Fowler/Noll/Vo): "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c,
   * "foobar" -> 85944171f73967e8 */
  CHECK(pipe_hash_bytes(PIPE_HASH_SEED, "", 0) == 0xcbf29ce484222325ull, "fnv('')");
  CHECK(pipe_hash_bytes(PIPE_HASH_SEED, "a", 1) == 0xaf63dc4c8601ec8cull, "fnv('a')");
  CHECK(pipe_hash_bytes(PIPE_HASH_SEED, "foobar", 6) == 0x85944171f73967e8ull, "fnv('foobar')");
  char hex[17];
  CHECK(!strcmp(pipe_hash_hex(0xaf63dc4c8601ec8cull, hex), "af63dc4c8601ec8c"), "hex %s", hex);
}

static void test_defaults(void) {
  pipe_config c;
  pipe_config_default(&c);
  CHECK(c.te_max[PANEL_CSI300] == 0.04 && c.te_max[PANEL_CSI500] == 0.05 && c.te_max[PANEL_CSI1000] == 0.05, "te");
  CHECK(c.style_bound == 0.5 && c.industry_bound == 0.02 && c.turnover_max == 0.2 && c.active_max == 0.01, "limits");
  CHECK(!strcmp(c.floors, "0.8,0") && !strcmp(c.indices, "csi300,csi500,csi1000"), "lists");
  CHECK(c.seq == 40 && c.hidden == 64 && c.outputs == 64 && c.seeds == 3 && c.train_years == 10 && c.patience == 20,
        "model defaults");
  CHECK(c.buy_rate == 0.001 && c.sell_rate == 0.002 && c.lot == 100 && c.capital == 1e7, "sim defaults");
  CHECK(c.end_date == 0 && c.market_dir[0] == 0, "empty defaults");
  zz_err e = {0};
  CHECK(pipe_config_check(&c, &e) == ZZ_OK, "defaults pass the checks: %s", e.msg);
  pipe_lists l;
  CHECK(pipe_config_lists(&c, &l, &e) == ZZ_OK, "lists");
  CHECK(l.n_heads == 2 && l.n_indices == 3 && l.n_floors == 2 && l.floors[0] == 0.8 && l.floors[1] == 0, "parsed");
}

static void test_parse(void) {
  pipe_config c;
  zz_err e = {0};
  pipe_config_default(&c);
  const char *ok = "; comment\n[model]\nhidden = 16\nseq=20\n\n[optimizer]\nfloors = 0.9, 0\nte_max_csi500 = 0.06\n"
                   "[backtest]\nend_date = 2023-06-30\n[report]\nnote = first part\n  second part\n";
  CHECK(pipe_config_parse(&c, ok, "t.ini", &e) == ZZ_OK, "parse: %s", e.msg);
  CHECK(c.hidden == 16 && c.seq == 20 && c.te_max[PANEL_CSI500] == 0.06 && c.end_date == 20230630, "values");
  CHECK(!strcmp(c.note, "first part second part"), "note continuation: '%s'", c.note);
  pipe_lists l;
  CHECK(pipe_config_lists(&c, &l, &e) == ZZ_OK && l.n_floors == 2 && l.floors[0] == 0.9, "floors");

  pipe_config_default(&c);
  CHECK(pipe_config_parse(&c, "[model]\nhidden = 16\n\n[model]\nhiden = 3\n", "t.ini", &e) == ZZ_EUSAGE, "unknown key");
  CHECK(strstr(e.msg, "t.ini:5:") && strstr(e.msg, "hiden"), "message names line 5 and the key: %s", e.msg);
  CHECK(pipe_config_parse(&c, "[modle]\nhidden = 16\n", "t.ini", &e) == ZZ_EUSAGE && strstr(e.msg, "t.ini:2:") &&
            strstr(e.msg, "modle"),
        "unknown section: %s", e.msg);
  CHECK(pipe_config_parse(&c, "[model]\n\nhidden = 1.5\n", "t.ini", &e) == ZZ_EUSAGE && strstr(e.msg, "t.ini:3:") &&
            strstr(e.msg, "integer"),
        "bad integer: %s", e.msg);
  CHECK(pipe_config_parse(&c, "[model]\nlayers = 3\n", "t.ini", &e) == ZZ_EUSAGE && strstr(e.msg, "[1, 2]"),
        "out of range: %s", e.msg);
  CHECK(pipe_config_parse(&c, "[backtest]\nend_date = 2023-02-30\n", "t.ini", &e) == ZZ_EUSAGE, "bad date");
  CHECK(pipe_config_parse(&c, "[model]\nthis line has no equals sign\n", "t.ini", &e) == ZZ_EUSAGE &&
            strstr(e.msg, "t.ini:2:"),
        "not an INI line: %s", e.msg);
  pipe_config_default(&c);
  snprintf(c.heads, sizeof c.heads, "univariate,bivariate");
  CHECK(pipe_config_check(&c, &e) == ZZ_EUSAGE && strstr(e.msg, "bivariate"), "bad head: %s", e.msg);
  pipe_config_default(&c);
  snprintf(c.floors, sizeof c.floors, "0.8,1.5");
  CHECK(pipe_config_check(&c, &e) == ZZ_EUSAGE && strstr(e.msg, "1.5"), "bad floor: %s", e.msg);
  pipe_config_default(&c);
  c.first_year = 2024;
  CHECK(pipe_config_check(&c, &e) == ZZ_EUSAGE, "first_year after last_year");
  /* a trade at or before the close that produced the score is refused (SPEC 10.1) ... */
  pipe_config_default(&c);
  CHECK(pipe_config_set(&c, "sim.exec_lag=0", &e) == ZZ_OK, "lag 0 parses: %s", e.msg);
  CHECK(pipe_config_check(&c, &e) == ZZ_EUSAGE && strstr(e.msg, "sim.exec_lag") && strstr(e.msg, "allow_same_close"),
        "lag 0 with vwap refused: %s", e.msg);
  pipe_config_set(&c, "sim.exec_price=close", &e);
  CHECK(pipe_config_check(&c, &e) == ZZ_EUSAGE, "lag 0 with close but without allow_same_close refused");
  pipe_config_set(&c, "sim.allow_same_close=1", &e);
  CHECK(pipe_config_check(&c, &e) == ZZ_OK, "lag 0, close, allow_same_close: allowed: %s", e.msg);
  pipe_config_set(&c, "sim.exec_price=open", &e);
  CHECK(pipe_config_check(&c, &e) == ZZ_EUSAGE, "lag 0 with open prices refused even when allowed");
}

static void test_set_and_roundtrip(void) {
  pipe_config c, d;
  zz_err e = {0};
  pipe_config_default(&c);
  CHECK(pipe_config_set(&c, "model.hidden=8", &e) == ZZ_OK && c.hidden == 8, "set: %s", e.msg);
  CHECK(pipe_config_set(&c, "optimizer.indices=csi500", &e) == ZZ_OK && !strcmp(c.indices, "csi500"), "set list");
  CHECK(pipe_config_set(&c, "market.dir=/data/market", &e) == ZZ_OK, "set dir");
  CHECK(pipe_config_set(&c, "report.note=a, b = c", &e) == ZZ_OK && !strcmp(c.note, "a, b = c"), "value with '='");
  char longnote[600] = "report.note=";
  for (int k = 0; k < 60; k++) strcat(longnote, "word4567 ");
  strcat(longnote, "end");
  CHECK(pipe_config_set(&c, longnote, &e) == ZZ_OK && strlen(c.note) == 60 * 9 + 3, "long note");
  CHECK(pipe_config_set(&c, "model.nope=1", &e) == ZZ_EUSAGE && strstr(e.msg, "model.nope"), "unknown: %s", e.msg);
  CHECK(pipe_config_set(&c, "hidden=1", &e) == ZZ_EUSAGE, "no section");
  CHECK(pipe_config_set(&c, "sim.lot=-1", &e) == ZZ_EUSAGE, "range");
  char *a = dump(&c);
  pipe_config_default(&d);
  CHECK(pipe_config_parse(&d, a, "dump", &e) == ZZ_OK, "dump parses: %s", e.msg);
  char *b = dump(&d);
  CHECK(!strcmp(a, b), "dump -> parse -> dump differs:\n%s\n---\n%s", a, b);
  free(a), free(b);
}

static void test_hashes(void) {
  pipe_config c, d;
  zz_err e = {0};
  pipe_config_default(&c);
  pipe_hashes h0, h1;
  CHECK(pipe_stage_hashes(&c, 42, &h0, &e) == ZZ_OK, "hashes");
  const int I = PANEL_CSI300, J = PANEL_CSI500;
  /* sim key: only simulations */
  d = c;
  pipe_config_set(&d, "sim.buy_rate=0.0015", &e);
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(h1.train[0] == h0.train[0] && h1.scores[1] == h0.scores[1] && h1.risk == h0.risk, "sim: upstream same");
  CHECK(h1.opt[I][0][0] == h0.opt[I][0][0] && h1.sim[I][0][0] != h0.sim[I][0][0], "sim: only backtests change");
  /* universe keys: from training on (labels, scores and the backtests' buys) */
  d = c;
  pipe_config_set(&d, "universe.min_listed_days=120", &e);
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(h1.train[0] != h0.train[0] && h1.scores[1] != h0.scores[1] && h1.sim[I][0][0] != h0.sim[I][0][0] &&
            h1.risk == h0.risk,
        "universe: training, scores and backtests change, the risk model does not");
  /* one index's TE limit: only that index's optimisation and simulation */
  d = c;
  pipe_config_set(&d, "optimizer.te_max_csi300=0.03", &e);
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(h1.opt[I][1][1] != h0.opt[I][1][1] && h1.sim[I][1][1] != h0.sim[I][1][1], "te300 changes csi300");
  CHECK(h1.opt[J][1][1] == h0.opt[J][1][1] && h1.sim[J][1][1] == h0.sim[J][1][1], "te300 leaves csi500");
  CHECK(h1.risk == h0.risk && h1.train[1] == h0.train[1], "te300 leaves risk/train");
  /* model key: training, scores and everything downstream, not the risk model */
  d = c;
  pipe_config_set(&d, "model.hidden=32", &e);
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(h1.train[0] != h0.train[0] && h1.scores[0] != h0.scores[0] && h1.opt[J][0][0] != h0.opt[J][0][0] &&
            h1.sim[J][0][0] != h0.sim[J][0][0] && h1.risk == h0.risk,
        "model key");
  /* risk key: risk and downstream, not training */
  d = c;
  pipe_config_set(&d, "risk.nw_lags=3", &e);
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(h1.risk != h0.risk && h1.opt[I][0][1] != h0.opt[I][0][1] && h1.train[0] == h0.train[0], "risk key");
  /* the list of heads, indices, floors and the number of workers change nothing already computed */
  d = c;
  pipe_config_set(&d, "model.heads=multivariate", &e);
  pipe_config_set(&d, "optimizer.workers=1", &e);
  pipe_config_set(&d, "optimizer.indices=csi1000", &e);
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(!memcmp(&h1, &h0, sizeof h0), "heads/indices/workers leave every hash unchanged");
  /* heads are distinct stages; the market hash reaches everything */
  CHECK(h0.train[0] != h0.train[1] && h0.opt[I][0][0] != h0.opt[I][0][1] && h0.opt[I][0][0] != h0.opt[J][0][0], "distinct");
  pipe_stage_hashes(&c, 43, &h1, &e);
  CHECK(h1.train[0] != h0.train[0] && h1.risk != h0.risk && h1.sim[J][1][0] != h0.sim[J][1][0], "market hash");
  /* backtest end: risk, optimisation, simulation; not training */
  d = c;
  pipe_config_set(&d, "backtest.end_date=2023-06-30", &e);
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(h1.train[0] == h0.train[0] && h1.risk != h0.risk && h1.sim[I][0][0] != h0.sim[I][0][0], "end_date");
  /* model.datasets: the old key name is an alias; a second dataset leaves day's training and scores as
   * they were, adds its own stages and changes the head's final score and everything downstream */
  d = c;
  CHECK(pipe_config_parse(&d, "[model]\ndataset = day\n", "alias.ini", &e) == ZZ_OK && !strcmp(d.datasets, "day"),
        "model.dataset is an alias of model.datasets");
  pipe_stage_hashes(&d, 42, &h1, &e);
  CHECK(!memcmp(&h1, &h0, sizeof h0), "datasets=day hashes as the default");
  d = c;
  pipe_config_set(&d, "model.datasets=day, extra", &e);
  pipe_lists l;
  CHECK(pipe_config_lists(&d, &l, &e) == ZZ_OK && l.n_datasets == 2 && !strcmp(l.datasets[1], "extra"), "list");
  CHECK(pipe_stage_hashes(&d, 42, &h1, &e) == ZZ_OK, "hashes of two datasets");
  CHECK(h1.ds_train[0][0] == h0.train[0] && h1.ds_scores[0][1] == h0.scores[1] && h1.ds_train[1][0] != h0.train[0] &&
            h1.ds_scores[1][0] != h1.ds_scores[0][0] && h1.scores[0] != h0.scores[0] &&
            h1.scores[0] != h1.ds_scores[1][0] && h1.opt[I][0][0] != h0.opt[I][0][0] && h1.risk == h0.risk,
        "a second dataset");
  d = c;
  CHECK(pipe_config_set(&d, "model.datasets=day,day", &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_EUSAGE &&
            strstr(e.msg, "twice"),
        "a dataset listed twice is an error: %s", e.msg);
  d = c;
  CHECK(pipe_config_set(&d, "model.datasets=../x", &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_EUSAGE,
        "a path is not a dataset name");
  /* the class3 head (issue 15): its own stages; its keys reach only them */
  d = c;
  CHECK(pipe_config_set(&d, "model.heads=univariate,class3", &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_OK &&
            pipe_config_lists(&d, &l, &e) == ZZ_OK && l.n_heads == 2 && l.heads[1] == PIPE_HEAD_CLASS3 &&
            !strcmp(pipe_head_name(PIPE_HEAD_CLASS3), "class3"),
        "heads univariate,class3: %s", e.msg);
  CHECK(h0.train[PIPE_HEAD_CLASS3] != h0.train[PIPE_HEAD_UNI] && h0.train[PIPE_HEAD_CLASS3] != h0.train[PIPE_HEAD_MULTI],
        "class3 is a distinct stage");
  static const char *const class_keys[] = {"model.class_label=rank", "model.class_up=0.05", "model.class_down=-0.04",
                                           "model.class_top=0.2", "model.class_bottom=0.25",
                                           "model.class_weights=1,0.5,1"};
  for (size_t k = 0; k < sizeof class_keys / sizeof class_keys[0]; k++) {
    d = c;
    CHECK(pipe_config_set(&d, class_keys[k], &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_OK, "%s: %s",
          class_keys[k], e.msg);
    pipe_stage_hashes(&d, 42, &h1, &e);
    CHECK(h1.train[PIPE_HEAD_CLASS3] != h0.train[PIPE_HEAD_CLASS3] && h1.train[PIPE_HEAD_UNI] == h0.train[PIPE_HEAD_UNI] &&
              h1.train[PIPE_HEAD_MULTI] == h0.train[PIPE_HEAD_MULTI] && h1.risk == h0.risk,
          "%s changes the class3 stages only", class_keys[k]);
  }
  d = c;
  CHECK(pipe_config_set(&d, "model.class_label=quantile", &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_EUSAGE &&
            strstr(e.msg, "model.class_label"),
        "a bad class_label is refused naming the key: %s", e.msg);
  d = c;
  CHECK(pipe_config_set(&d, "model.class_weights=1,-1,1", &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_EUSAGE &&
            strstr(e.msg, "model.class_"),
        "a bad class weight is refused naming the keys: %s", e.msg);
  d = c;
  CHECK(pipe_config_set(&d, "model.class_top=0.6", &e) == ZZ_OK && pipe_config_set(&d, "model.class_bottom=0.5", &e) == ZZ_OK &&
            pipe_config_check(&d, &e) == ZZ_EUSAGE && strstr(e.msg, "top + bottom"),
        "class_top + class_bottom > 1 is refused: %s", e.msg);
  /* the ACT-LSTM cell (issue 15): its keys reach the model stages only when cell = act_lstm */
  static const char *const act_keys[] = {"model.act_epsilon=0.05", "model.act_max_steps=12", "model.act_tau=0.01"};
  pipe_hashes ha;
  d = c;
  CHECK(pipe_config_set(&d, "model.cell=act_lstm", &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_OK, "act_lstm: %s",
        e.msg);
  pipe_stage_hashes(&d, 42, &ha, &e);
  CHECK(ha.train[PIPE_HEAD_UNI] != h0.train[PIPE_HEAD_UNI] && ha.risk == h0.risk, "cell act_lstm is a distinct stage");
  for (size_t k = 0; k < sizeof act_keys / sizeof act_keys[0]; k++) {
    d = c;
    CHECK(pipe_config_set(&d, act_keys[k], &e) == ZZ_OK && pipe_config_check(&d, &e) == ZZ_OK, "%s: %s", act_keys[k],
          e.msg);
    pipe_stage_hashes(&d, 42, &h1, &e);
    CHECK(h1.train[PIPE_HEAD_UNI] == h0.train[PIPE_HEAD_UNI] && h1.train[PIPE_HEAD_CLASS3] == h0.train[PIPE_HEAD_CLASS3],
          "%s leaves the gru stages unchanged", act_keys[k]);
    CHECK(pipe_config_set(&d, "model.cell=act_lstm", &e) == ZZ_OK, "cell");
    pipe_stage_hashes(&d, 42, &h1, &e);
    CHECK(h1.train[PIPE_HEAD_UNI] != ha.train[PIPE_HEAD_UNI] && h1.train[PIPE_HEAD_CLASS3] != ha.train[PIPE_HEAD_CLASS3],
          "%s changes the act_lstm stages", act_keys[k]);
  }
  d = c;
  CHECK(pipe_config_set(&d, "model.cell=act_lstm", &e) == ZZ_OK && pipe_config_set(&d, "model.layers=2", &e) == ZZ_OK &&
            pipe_config_check(&d, &e) == ZZ_EUSAGE && strstr(e.msg, "1 layer"),
        "a 2-layer act_lstm is refused: %s", e.msg);
}

static void test_doc(const char *path) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  pipe_config_doc(f);
  fclose(f);
  FILE *g = fopen(path, "rb");
  CHECK(g != NULL, "cannot open %s", path);
  if (g) {
    char *file = malloc(n + 2);
    size_t got = fread(file, 1, n + 1, g);
    fclose(g);
    CHECK(got == n && !memcmp(file, buf, n),
          "%s differs from the code's table of keys: regenerate it with 'zhizeng run --config-doc > docs/config.md'",
          path);
    free(file);
  }
  free(buf);
}

int main(int argc, char **argv) {
  test_hash_vectors();
  test_defaults();
  test_parse();
  test_set_and_roundtrip();
  test_hashes();
  if (argc > 1) test_doc(argv[1]);
  if (fails) {
    fprintf(stderr, "%d check(s) failed\n", fails);
    return 1;
  }
  printf("test_pipe_config: ok\n");
  return 0;
}
