/* opt_result_io.c — writing a result: `code,weight` CSV and the FILE.diag.ini diagnostics. */
#include "portfolio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ANCHOR_NAMES[] = {"previous", "benchmark", "lp", "none", "mix", "tradable_benchmark"};

static void ini_name(FILE *f, const char *s) {
  /* INI keys: keep names readable, replace characters INI readers treat specially */
  for (; *s; s++) fputc((*s == '=' || *s == ':' || *s == ';' || *s == '#' || *s == '[' || *s == ']') ? '_' : *s, f);
}

int opt_result_write(const opt_problem *p, const opt_result *r, const char *path, zz_err *err) {
  char buf[64];
  double *w = malloc(sizeof *w * (size_t)(p->n + 1));
  if (!w) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  opt_targets(p, r, w);
  FILE *f = fopen(path, "w");
  if (!f) {
    free(w);
    return zz_fail(err, ZZ_EIO, "%s: cannot create: %s", path, strerror(errno));
  }
  fprintf(f, "code,weight\n");
  for (int i = 0; i < p->n; i++) {
    zz_csv_write_field(f, p->codes[i]);
    fprintf(f, ",%s\n", zz_fmt_double(buf, sizeof buf, w[i]));
  }
  free(w);
  if (fclose(f) != 0) return zz_fail(err, ZZ_EIO, "%s: write failed: %s", path, strerror(errno));

  size_t L = strlen(path) + 16;
  char *dpath = malloc(L);
  if (!dpath) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  snprintf(dpath, L, "%s.diag.ini", path);
  f = fopen(dpath, "w");
  if (!f) {
    int rc = zz_fail(err, ZZ_EIO, "%s: cannot create: %s", dpath, strerror(errno));
    free(dpath);
    return rc;
  }
  const opt_limits *l = &r->limits;
#define D(v) zz_fmt_double(buf, sizeof buf, (v))
  fprintf(f, "[result]\n");
  fprintf(f, "status = %s\n", opt_status_name(r->status));
  fprintf(f, "objective = %s\n", D(r->objective));
  fprintf(f, "upper_bound = %s\n", D(r->upper_bound));
  fprintf(f, "gap = %s\n", D(r->gap));
  fprintf(f, "lp_iterations = %d\n", r->lp_iterations);
  fprintf(f, "cut_rounds = %d\n", r->rounds);
  fprintf(f, "cuts_factor = %d\n", r->cuts_factor);
  fprintf(f, "cuts_specific = %d\n", r->cuts_specific);
  fprintf(f, "seed_cuts = %d\n", r->seed_cuts);
  fprintf(f, "anchor = %s\n", ANCHOR_NAMES[r->anchor >= 0 && r->anchor <= 5 ? r->anchor : 3]);
  fprintf(f, "te = %s\n", D(r->te));
  fprintf(f, "te_factor = %s\n", D(r->te_factor));
  fprintf(f, "te_specific = %s\n", D(r->te_specific));
  fprintf(f, "turnover = %s\n", D(r->turnover));
  fprintf(f, "turnover_exempt = %d\n", p->has_prev ? 0 : 1);
  fprintf(f, "constituent_weight = %s\n", D(r->constituent_weight));
  fprintf(f, "invested = %s\n", D(r->invested));
  fprintf(f, "max_violation = %s\n", D(r->max_violation));
  fprintf(f, "forced_bounds = %d\n", r->forced_bounds);
  fprintf(f, "spec_floored = %d\n", r->spec_floored);
  fprintf(f, "attempts = %d\n", r->attempts);
  fprintf(f, "warm = %d\n", r->warm);
  fprintf(f, "note = %s\n", r->note);
  fprintf(f, "solve_seconds = %.6f\n", r->solve_seconds);
  fprintf(f, "\n[limits]\n");
  fprintf(f, "style_bound = %s\n", D(l->style_bound));
  fprintf(f, "industry_bound = %s\n", D(l->industry_bound));
  fprintf(f, "unclassified_bound = %s\n", D(l->unclassified_bound));
  fprintf(f, "te_max = %s\n", D(l->te_max));
  fprintf(f, "constituent_floor = %s\n", D(l->constituent_floor));
  fprintf(f, "turnover_max = %s\n", D(l->turnover_max));
  fprintf(f, "active_max = %s\n", D(l->active_max));
  fprintf(f, "weight_max = %s\n", D(l->weight_max));
  fprintf(f, "spec_var_floor = %s\n", D(l->spec_var_floor));
  fprintf(f, "cash = %s\n", D(l->cash));
  fprintf(f, "\n[relaxations]\n");
  fprintf(f, "count = %d\n", r->n_relax);
  for (int k = 0; k < r->n_relax; k++)
    fprintf(f, "%d = %s from %.10g to %.10g in %d steps\n", k + 1, r->relax[k].limit, r->relax[k].from, r->relax[k].to,
            r->relax[k].steps);
  fprintf(f, "\n[style_exposure]\n");
  for (int k = 0; k < p->n_style; k++) {
    ini_name(f, p->style_names[k]);
    fprintf(f, " = %s\n", D(r->style_exposure[k]));
  }
  fprintf(f, "\n[industry_active]\n");
  for (int j = 0; j < p->n_ind; j++) {
    ini_name(f, p->ind_names[j]);
    fprintf(f, " = %s\n", D(r->industry_active[j]));
  }
#undef D
  int bad = fclose(f) != 0;
  int rc = bad ? zz_fail(err, ZZ_EIO, "%s: write failed", dpath) : ZZ_OK;
  free(dpath);
  return rc;
}
