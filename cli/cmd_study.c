/* cmd_study.c — `zhizeng study CONFIG --vary section.key=v1,v2 ...`: the hyper-parameter study (seed 002
 * section 2): one model per setting, cached per setting; table, validation dumps and curves
 * (pipeline/pipe_study.c, docs/pipeline.md "Hyper-parameter study"). */
#include "cli.h"
#include "data.h"
#include "pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
  printf("usage: zhizeng study CONFIG --vary section.key=v1,v2[,...] [--vary ...] [--set section.key=value ...]\n"
         "                     [--year Y] [--out DIR] [--force] [--no-progress] [--plan] [--tasks A-B] [--jobs N | --mpi]\n\n"
         "Trains one model per setting (the configuration with one value of each --vary key; several --vary: every\n"
         "combination, the first varying slowest) on the same split and seed, and compares them (seed 002 tables\n"
         "2-5, figures 6-11). Each setting trains the first head of model.heads on the first dataset of\n"
         "model.datasets, seed model.model_seed, for the rolling year Y (default backtest.first_year: validation\n"
         "on Y-1, training on the model.train_years before it, as `zhizeng run` trains year Y). market.dir must\n"
         "name a market directory. Each setting is a cached stage, OUT/stages/setting-<hash>/ (the hash of its\n"
         "[model] and [universe] keys, the market, Y, head and dataset): a rerun skips finished settings.\n\n"
         "Output (OUT = --out, else output.dir/study):\n"
         "  study.csv    per setting: the varied values, stopping epoch (last epoch trained), best epoch, best\n"
         "               validation RankIC, the factor units' mutual correlation on the validation set (multivariate\n"
         "               head), validation days and rows, its stage directory\n"
         "  curves.csv   training loss and validation RankIC by epoch per setting\n"
         "  study.md, study.html  the table; charts of the training loss and validation RankIC by epoch\n"
         "  stages/setting-<hash>/validation.csv  date,code,score,label[,f1..fK]: the best epoch's model on the\n"
         "               validation rows (label = the raw T+1 -> T+11 return); model, training log, setting.ini\n\n"
         "options:\n"
         "  --vary S.K=V1,V2  a key and its values (repeatable, at most %d keys, %d values each)\n"
         "  --set S.K=V    override one key for every setting (repeatable)\n"
         "  --year Y       the scoring year whose split is trained (default backtest.first_year)\n"
         "  --out DIR      output directory (default output.dir/study)\n"
         "  --force        retrain every setting\n"
         "  --plan         print the task list (one task per distinct setting, then the tables) and exit\n"
         "  --tasks A-B    run only tasks A..B of --plan (a job array's share)\n"
         "  --jobs N       train the settings in N worker processes (keep N x model.threads <= cores)\n"
         "  --mpi          under mpirun / srun: rank 0 hands the settings out (docs/distributed.md)\n"
         "  --no-progress  no progress bars\n"
         "  -h, --help     this help\n\n"
         "Definitions (units' mutual correlation: docs/model.md): docs/pipeline.md \"Hyper-parameter study\".\n",
         PIPE_STUDY_MAX_VARY, PIPE_STUDY_MAX_VALUES);
}

int cmd_study(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  static const struct option opts[] = {{"vary", required_argument, 0, 'v'}, {"set", required_argument, 0, 's'},
                                       {"year", required_argument, 0, 'y'}, {"out", required_argument, 0, 'o'},
                                       {"force", no_argument, 0, 'f'},      {"no-progress", no_argument, 0, 'n'},
                                       {"plan", no_argument, 0, 'P'},       {"tasks", required_argument, 0, 'T'},
                                       {"jobs", required_argument, 0, 'j'}, {"mpi", no_argument, 0, 'M'},
                                       {"verbose", no_argument, 0, 'V'},    {0, 0, 0, 0}};
  const char *sets[64], *varies[PIPE_STUDY_MAX_VARY + 1], *out = NULL;
  int n_sets = 0, n_vary = 0, year = 0, force = 0, progress = 1, c;
  int plan = 0, tasks_set = 0, task_first = 0, task_last = 0, jobs = 0, mpi = 0, verbose = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'v':
      if (n_vary == PIPE_STUDY_MAX_VARY) return cli_usage_error("study", "at most %d --vary options", PIPE_STUDY_MAX_VARY);
      varies[n_vary++] = optarg;
      break;
    case 's':
      if (n_sets == 64) return cli_usage_error("study", "at most 64 --set options");
      sets[n_sets++] = optarg;
      break;
    case 'y':
      if (cli_parse_int(optarg, 1990, 2100, &year)) return cli_usage_error("study", "--year expects a year, found '%s'", optarg);
      break;
    case 'o': out = optarg; break;
    case 'f': force = 1; break;
    case 'n': progress = 0; break;
    case 'P': plan = 1; break;
    case 'T': {
      zz_err e = {0};
      if (pipe_tasks_parse_range(optarg, &task_first, &task_last, &e)) return cli_usage_error("study", "%s", e.msg);
      tasks_set = 1;
      break;
    }
    case 'j':
      if (cli_parse_int(optarg, 1, 1024, &jobs)) return cli_usage_error("study", "--jobs expects 1..1024, found '%s'", optarg);
      break;
    case 'M': mpi = 1; break;
    case 'V': verbose = 1; break;
    default: return cli_usage_error("study", "unknown option");
    }
  }
  if (optind >= argc) return cli_usage_error("study", "give the configuration file: zhizeng study CONFIG --vary ...");
  if (optind + 1 < argc) return cli_usage_error("study", "unexpected argument '%s'", argv[optind + 1]);
  if (n_vary == 0) return cli_usage_error("study", "give at least one --vary section.key=v1,v2");
  if (mpi && jobs >= 2) return cli_usage_error("study", "--mpi and --jobs: choose one (under MPI, one rank a task)");
  if (mpi && !pipe_have_mpi())
    return cli_usage_error("study", "--mpi: this build of zhizeng has no MPI (install an MPI implementation, e.g. "
                                    "Debian's libopenmpi-dev, and configure again)");
  pipe_config *cfg = malloc(sizeof *cfg);
  pipe_study_opts *so = malloc(sizeof *so);
  if (!cfg || !so) {
    free(cfg), free(so);
    fprintf(stderr, "zhizeng study: out of memory\n");
    return zz_exit_code(ZZ_ENOMEM);
  }
  pipe_config_default(cfg);
  pipe_study_init(so);
  so->year = year, so->force = force, so->progress = progress;
  so->plan = plan, so->tasks_set = tasks_set, so->task_first = task_first, so->task_last = task_last;
  so->jobs = jobs, so->mpi = mpi, so->verbose = verbose;
  if (out) {
    if (strlen(out) >= sizeof so->out_dir) {
      free(cfg), free(so);
      return cli_usage_error("study", "--out: path too long");
    }
    snprintf(so->out_dir, sizeof so->out_dir, "%s", out);
  }
  zz_err err = {0};
  int rc = pipe_config_read(cfg, argv[optind], &err);
  for (int k = 0; k < n_sets && !rc; k++) rc = pipe_config_set(cfg, sets[k], &err);
  if (!rc) rc = pipe_config_check(cfg, &err);
  for (int k = 0; k < n_vary && !rc; k++) rc = pipe_study_add_vary(so, cfg, varies[k], &err);
  if (rc == ZZ_EUSAGE) {
    free(cfg), free(so);
    return cli_usage_error("study", "%s", err.msg);
  }
  if (!rc) rc = pipe_study(cfg, so, &err);
  free(cfg), free(so);
  if (rc) {
    fprintf(stderr, "zhizeng study: %s\n", err.msg);
    return zz_exit_code(rc);
  }
  return 0;
}
