/* cmd_run.c — `zhizeng run CONFIG`: the whole pipeline from an INI configuration (pipeline/pipeline.h),
 * and the option handling it shares with `zhizeng demo` (cmd_demo.c). */
#include "cli.h"
#include "data.h"
#include "pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help_run(void) {
  printf("usage: zhizeng run CONFIG [--set section.key=value ...] [--out DIR] [--force] [--no-progress]\n"
         "                  [--jobs N | --mpi | --mpi-gather] [--tasks A-B]\n"
         "       zhizeng run CONFIG --plan             print the task list and exit\n"
         "       zhizeng run CONFIG --print-config     print the configuration in effect (INI) and exit\n"
         "       zhizeng run --config-doc              print the table of every key (docs/config.md) and exit\n\n"
         "Runs the whole pipeline: market (a directory, or a synthetic market when market.dir is empty) ->\n"
         "ingest -> rolling yearly training of each head -> daily out-of-sample scores -> risk model ->\n"
         "weekly optimisation for every index x head x constituent floor -> simulation -> report.\n"
         "Every stage is cached in OUT/stages/<stage>-<hash>/ by a hash of its configuration keys and its\n"
         "inputs' hashes: a rerun after a crash or a change recomputes only what changed (an interrupted\n"
         "training continues from its checkpoints).\n\n"
         "Output (OUT = output.dir): OUT/report/report.html, report.md, factor_tables.csv, yearly.csv,\n"
         "summary.csv, comparison.csv, diagnostics.csv (one row per rebalance per backtest), timings.csv;\n"
         "OUT/config.ini (the configuration in effect).\n\n"
         "options:\n"
         "  --set S.K=V    override one key (repeatable), e.g. --set model.epochs=5\n"
         "  --out DIR      output directory (same as --set output.dir=DIR)\n"
         "  --force        recompute every stage\n"
         "  --plan         print the task list, one line a task: id kind name stage-dir deps=ids (it writes\n"
         "                 the synthetic market first when there is none: the years come from the market)\n"
         "  --tasks A-B    run only tasks A..B of --plan (a job array's share); a dependency outside the\n"
         "                 range must be done already\n"
         "  --jobs N       run the tasks in N worker processes (keep N x model.threads <= cores); a worker\n"
         "                 killed by a signal has its task rerun\n"
         "  --mpi          under mpirun / srun: rank 0 hands the tasks out, the other ranks run them; the\n"
         "                 output directory must be shared by every rank (docs/distributed.md)\n"
         "  --mpi-gather   --mpi without a shared directory: rank 0 sends each task its input stages and\n"
         "                 receives its output; rank R > 0 works in OUT-rankR on its node\n"
         "  --no-progress  no progress bars (they are shown only when stderr is a terminal)\n"
         "  -h, --help     this help\n\n"
         "Keys, types and defaults: docs/config.md (or --config-doc).\n");
}

int cli_pipeline(const char *cmd, int argc, char **argv, const char *embedded) {
  static const struct option opts[] = {{"set", required_argument, 0, 's'},   {"out", required_argument, 0, 'o'},
                                       {"force", no_argument, 0, 'f'},       {"no-progress", no_argument, 0, 'n'},
                                       {"print-config", no_argument, 0, 'p'}, {"config-doc", no_argument, 0, 'd'},
                                       {"verbose", no_argument, 0, 'v'},     {"plan", no_argument, 0, 'P'},
                                       {"tasks", required_argument, 0, 'T'}, {"jobs", required_argument, 0, 'j'},
                                       {"mpi", no_argument, 0, 'M'},         {"mpi-gather", no_argument, 0, 'G'},
                                       {0, 0, 0, 0}};
  const char *sets[64], *out = NULL;
  int n_sets = 0, print = 0, doc = 0, c;
  pipe_run_opts ro;
  memset(&ro, 0, sizeof ro);
  ro.progress = 1;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 's':
      if (n_sets == 64) return cli_usage_error(cmd, "at most 64 --set options");
      sets[n_sets++] = optarg;
      break;
    case 'o': out = optarg; break;
    case 'f': ro.force = 1; break;
    case 'n': ro.progress = 0; break;
    case 'p': print = 1; break;
    case 'd': doc = 1; break;
    case 'v': ro.verbose = 1; break;
    case 'P': ro.plan = 1; break;
    case 'T': {
      zz_err e = {0};
      if (pipe_tasks_parse_range(optarg, &ro.task_first, &ro.task_last, &e)) return cli_usage_error(cmd, "%s", e.msg);
      ro.tasks_set = 1;
      break;
    }
    case 'j':
      if (cli_parse_int(optarg, 1, 1024, &ro.jobs)) return cli_usage_error(cmd, "--jobs expects 1..1024, found '%s'", optarg);
      break;
    case 'M': ro.mpi = 1; break;
    case 'G': ro.mpi = ro.mpi_gather = 1; break;
    default: return cli_usage_error(cmd, "unknown option");
    }
  }
  if (doc) {
    pipe_config_doc(stdout);
    return 0;
  }
  if (ro.mpi && ro.jobs >= 2) return cli_usage_error(cmd, "--mpi and --jobs: choose one (under MPI, one rank a task)");
  if (ro.mpi && !pipe_have_mpi())
    return cli_usage_error(cmd, "--mpi: this build of zhizeng has no MPI (install an MPI implementation, e.g. "
                                "Debian's libopenmpi-dev, and configure again)");
  pipe_config cfg;
  pipe_config_default(&cfg);
  zz_err err = {0};
  int rc = ZZ_OK;
  if (embedded) {
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    rc = pipe_config_parse(&cfg, embedded, "(embedded demo config)", &err);
  } else {
    if (optind >= argc) return cli_usage_error(cmd, "give the configuration file: zhizeng run CONFIG");
    if (optind + 1 < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    rc = pipe_config_read(&cfg, argv[optind], &err);
  }
  for (int k = 0; k < n_sets && !rc; k++) rc = pipe_config_set(&cfg, sets[k], &err);
  if (!rc && out) {
    if (strlen(out) >= sizeof cfg.out_dir) return cli_usage_error(cmd, "--out: path too long");
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", out);
  }
  if (!rc) {
    rc = pipe_config_check(&cfg, &err);
    if (rc && !embedded) zz_wrap(&err, "%s", argv[optind]); /* a cross-key rule: name the file beside the keys */
  }
  if (rc) {
    fprintf(stderr, "zhizeng %s: %s\n", cmd, err.msg);
    return zz_exit_code(rc);
  }
  if (print) {
    pipe_config_write(&cfg, stdout);
    return 0;
  }
  rc = pipe_run(&cfg, &ro, &err);
  if (rc) {
    fprintf(stderr, "zhizeng %s: %s\n", cmd, err.msg);
    return zz_exit_code(rc);
  }
  return 0;
}

int cmd_run(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help_run();
    return 0;
  }
  return cli_pipeline("run", argc, argv, NULL);
}
