/* main.c — `zhizeng`: dispatch to a subcommand. */
#include "cli.h"
#include "data.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_command commands[] = {
    /* {"name", cmd_name, "one-line summary"}, in pipeline order */
    {"version", NULL, "print the version"},
    {"synth", cmd_synth, "write a synthetic A-share market directory with a planted alpha (SPEC 2.4)"},
    {"risk", cmd_risk, "Barra CNE5-style risk model: exposures, factor returns, covariance, specific variance"},
    {"optimize", cmd_optimize, "one enhanced-index optimisation (GLPK, TE cuts) from a problem directory"},
    {"model", cmd_model, "export/import network weights as safetensors; forward/backward pass on given inputs"},
    {"import", cmd_import, "turn qlib binary data or tushare exports into a market directory (then validated)"},
    {"ingest", cmd_ingest, "validate a market directory, build the panel and its binary cache, print a summary"},
    {"train", cmd_train, "rolling yearly training of GRU/LSTM scores (and a ridge baseline), with resume"},
    {"score", cmd_score, "daily or weekly out-of-sample scores of trained models into scores.csv"},
    {"explain", cmd_explain, "LRP explanations of a trained model's scores on one date: relevance per feature and lag"},
    {"evaluate", cmd_evaluate, "factor tests of scores: RankIC, layered test, decay, correlations"},
    {"simulate", cmd_simulate, "simulate target weights day by day with A-share rules and costs (nav, trades, positions)"},
    {"demo", cmd_demo, "synthetic market + the whole pipeline with an embedded small config (the main demo)"},
    {"run", cmd_run, "the whole pipeline from an INI config: train, score, optimise, simulate, report (cached stages)"},
    {"study", cmd_study, "hyper-parameter study: one model per --vary setting, table and curves by epoch"},
    {"screen", cmd_screen, "factor screening: single-factor tests, thresholds, correlation filter (seed 004)"},
    {"topn", cmd_topn, "top-N equal-weight strategy on scores (seed 004), N side by side against the benchmark"},
    {"report", cmd_report, "yearly and summary tables, charts and HTML from simulator outputs"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "zhizeng %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see 'zhizeng %s --help')\n", cmd);
  va_end(ap);
  return ZZ_EUSAGE;
}

int cli_parse_double(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return errno || end == s || *end || !isfinite(*v) ? -1 : 0;
}

int cli_parse_int(const char *s, long lo, long hi, int *v) {
  char *end;
  errno = 0;
  const long x = strtol(s, &end, 10);
  if (errno || end == s || *end || x < lo || x > hi) return -1;
  *v = (int)x;
  return 0;
}

int cli_wants_help(int argc, char **argv) {
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--")) break;
    if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help")) return 1;
  }
  return 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "zhizeng %s: GRU/LSTM stock scoring and CSI300/500/1000 index enhancement for China A-shares\n\n"
          "usage: zhizeng COMMAND [options]   (zhizeng COMMAND --help for its options)\n\ncommands:\n",
          ZZ_VERSION);
  for (int k = 0; k < n_commands; k++) fprintf(f, "  %-10s %s\n", commands[k].name, commands[k].summary);
  fprintf(f, "\nexit codes: 0 ok, 1 internal error, 2 usage error, 3 invalid data, 4 i/o error, 5 out of memory,\n"
             "            6 numerical failure\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return ZZ_EUSAGE;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("zhizeng %s\n", ZZ_VERSION);
    return 0;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  for (int k = 0; k < n_commands; k++)
    if (commands[k].run && !strcmp(argv[1], commands[k].name)) return commands[k].run(argc - 1, argv + 1);
  fprintf(stderr, "zhizeng: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return ZZ_EUSAGE;
}
