/* cmd_optimize.c — `zhizeng optimize --problem DIR --out FILE`: one enhanced-index optimisation
 * (portfolio/portfolio.h) from the SPEC 11.1 files; writes FILE (code,weight) and FILE.diag.ini. */
#include "cli.h"
#include "data.h"
#include "portfolio.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void optimize_help(FILE *f) {
  fprintf(f,
          "usage: zhizeng optimize --problem DIR --out FILE [--quiet]\n\n"
          "Maximises score'w over long-only weights with full investment, per-stock caps, style and industry\n"
          "exposure bounds, a tracking-error limit (factor model), a constituent floor, a one-way turnover\n"
          "limit and tradability, with GLPK and cutting planes on the lifted TE cone (docs/optimizer.md).\n\n"
          "  --problem DIR   alpha.csv, benchmark.csv, exposures.csv, industry.csv, factor_cov.csv,\n"
          "                  specific_var.csv; optional previous.csv (absent: first rebalance, no turnover\n"
          "                  limit), tradable.csv (absent: all tradable), limits.ini (absent: defaults)\n"
          "  --out FILE      writes code,weight for every code of alpha.csv, and FILE.diag.ini (status, LP\n"
          "                  iterations, cuts, TE, exposures, turnover, floor, relaxations, solve time)\n"
          "  --quiet         no summary on stderr\n\n"
          "limits.ini [limits]: style_bound (0.5), industry_bound (0.02), te_max (0.05; 0 = none),\n"
          "constituent_floor (0.8; 0 = none), turnover_max (0.2), active_max (0.01), weight_max (0.05),\n"
          "cash (0), gap_tol (1e-4), max_rounds (300), relax (1: relax limits in the documented order when\n"
          "infeasible, each relaxation reported; 0: fail).\n"
          "Exit codes: 0 ok, 2 usage, 3 invalid data, 4 i/o, 5 out of memory, 6 infeasible / numerical.\n");
}

int cmd_optimize(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    optimize_help(stdout);
    return 0;
  }
  static const struct option longopts[] = {{"problem", required_argument, NULL, 'p'},
                                           {"out", required_argument, NULL, 'o'},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {NULL, 0, NULL, 0}};
  const char *dir = NULL, *out = NULL;
  int quiet = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "p:o:q", longopts, NULL)) != -1) {
    switch (c) {
    case 'p': dir = optarg; break;
    case 'o': out = optarg; break;
    case 'q': quiet = 1; break;
    default: return cli_usage_error("optimize", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("optimize", "unexpected argument '%s'", argv[optind]);
  if (!dir || !out) return cli_usage_error("optimize", "--problem DIR and --out FILE are required");

  zz_err err = {0};
  opt_problem *p = NULL;
  opt_result *r = NULL;
  opt_limits lim;
  opt_limits_default(&lim);
  char path[4096];
  snprintf(path, sizeof path, "%s/limits.ini", dir);
  int rc = ZZ_OK;
  if (access(path, F_OK) == 0) rc = opt_limits_read(path, &lim, &err);
  if (!rc) rc = opt_problem_read(dir, &p, &err);
  if (!rc) rc = opt_solve(p, &lim, &r, &err);
  if (!rc) rc = opt_result_write(p, r, out, &err);
  if (rc) {
    fprintf(stderr, "zhizeng optimize: %s\n", err.msg);
  } else if (!quiet) {
    fprintf(stderr,
            "zhizeng optimize: %d stocks, %s, objective %.8g (gap %.2g), TE %.4f%%, turnover %.4f%%, %d rounds, "
            "%d LP iterations, %d relaxation(s), %.3f s -> %s\n",
            p->n, opt_status_name(r->status), r->objective, r->gap, 100 * r->te, 100 * r->turnover, r->rounds,
            r->lp_iterations, r->n_relax, r->solve_seconds, out);
    for (int k = 0; k < r->n_relax; k++)
      fprintf(stderr, "zhizeng optimize: relaxed %s from %g to %g\n", r->relax[k].limit, r->relax[k].from,
              r->relax[k].to);
  }
  opt_result_free(r);
  opt_problem_free(p);
  return zz_exit_code(rc);
}
