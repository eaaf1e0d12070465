/* cli.h — the zhizeng command line: one function per subcommand, each in cli/cmd_<name>.c.
 * A subcommand gets argc/argv starting at its own name (argv[0] = "synth"), parses its options with
 * getopt_long, prints --help to stdout, logs to stderr, and returns a process exit code
 * (zz_exit_code of a zz_status: 0 ok, 2 usage, 3 data, 4 io, ...). */
#ifndef ZZ_CLI_H
#define ZZ_CLI_H

#include <stdio.h>

typedef struct cli_command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} cli_command;

/* Prints "zhizeng NAME: message" to stderr and returns ZZ_EUSAGE (2). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A whole option value as a finite number (strtod syntax): 0, else -1. */
int cli_parse_double(const char *s, double *v);
/* A whole option value as a decimal integer in [lo, hi]: 0, else -1. */
int cli_parse_int(const char *s, long lo, long hi, int *v);
/* Returns 1 when argv holds -h or --help (and prints nothing). */
int cli_wants_help(int argc, char **argv);

int cmd_synth(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_optimize(int argc, char **argv);
int cmd_risk(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_import(int argc, char **argv);
/* The layouts of `zhizeng import` (argv[0] = "qlib" / "tushare"). */
int cmd_import_qlib(int argc, char **argv);
int cmd_import_tushare(int argc, char **argv);
int cmd_topn(int argc, char **argv);
int cmd_screen(int argc, char **argv);
/* The report of simulator output directories specs[k] ("[LABEL=]DIR") into out_dir (cmd_report.c): yearly.csv,
 * summary.csv, report.md, report.html. title NULL: `zhizeng report`'s page; else that title, the benchmark's
 * yearly row and every run's NAV and hedged NAV on shared charts (runs compared against one index). cmd names
 * the command in messages. Returns a process exit code. */
int cli_report_runs(const char *cmd, const char *const *specs, int n_runs, const char *out_dir, const char *title);
/* Shared by run and demo (cmd_run.c): embedded = the demo's INI text, or NULL to read argv's CONFIG. */
int cli_pipeline(const char *cmd, int argc, char **argv, const char *embedded);

#endif
