/* rep_inputs.c — reading a scores file (date,code,score[,...]) onto a panel, and a simulation result
 * (sim_result, as the simulator runs or reads it back) as a rep_run. */
#include "reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ simulator output */

void rep_run_free(rep_run *r) {
  if (!r) return;
  free(r->date);
  free(r->nav);
  free(r->bench);
  free(r->hedged);
  free(r->cash);
  free(r->turnover);
  free(r->costs);
  free(r);
}

int rep_run_from_sim(const sim_result *s, const char *label, rep_run **out, zz_err *err) {
  *out = NULL;
  if (s->n_days < 2)
    return zz_fail(err, ZZ_EDATA, "%s: expected at least two days of NAV (a start and one day)", label);
  rep_run *r = calloc(1, sizeof *r);
  const size_t n = (size_t)s->n_days;
  if (r) {
    r->date = malloc(n * sizeof *r->date);
    double **dst[6] = {&r->nav, &r->bench, &r->hedged, &r->cash, &r->turnover, &r->costs};
    const double *src[6] = {s->nav, s->benchmark, s->hedged, s->cash, s->turnover, s->costs};
    int ok = r->date != NULL;
    for (int k = 0; k < 6 && ok; k++)
      if ((*dst[k] = malloc(n * sizeof(double)))) memcpy(*dst[k], src[k], n * sizeof(double));
      else ok = 0;
    if (ok) {
      memcpy(r->date, s->dates, n * sizeof *r->date);
      r->n = s->n_days;
      snprintf(r->label, sizeof r->label, "%s", label);
      *out = r;
      return ZZ_OK;
    }
  }
  rep_run_free(r);
  return zz_fail(err, ZZ_ENOMEM, "out of memory for %s", label);
}
