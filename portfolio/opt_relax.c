/* opt_relax.c — the fixed relaxation order used when the limits cannot all hold (docs/optimizer.md):
 *   1. turnover_max       x1.25 per step (at least +1 %), up to 100 % (no limit)
 *   2. style_bound        +0.1 per step, up to +1.0 over the given bound
 *   3. industry_bound     +0.5 % per step, up to +5 %
 *   4. te_max             +0.5 % per step, up to +5 %
 *   5. constituent_floor  -5 % per step, down to 0 (no floor)
 * Turnover goes first: after an index review the old book may be far from the new benchmark, and
 * trading more is what a manager does before loosening risk limits; the constituent floor goes last
 * because it is a mandate constraint rather than a risk preference. */
#include "opt_internal.h"

#include <math.h>

static const char *const RELAX_NAMES[OPT_RELAX_N] = {"turnover_max", "style_bound", "industry_bound", "te_max",
                                                     "constituent_floor"};

const char *opt_relax_name(int stage) { return stage >= 0 && stage < OPT_RELAX_N ? RELAX_NAMES[stage] : "?"; }

double *opt_relax_field(int stage, opt_limits *l) {
  switch (stage) {
  case OPT_RELAX_TURNOVER: return &l->turnover_max;
  case OPT_RELAX_STYLE: return &l->style_bound;
  case OPT_RELAX_INDUSTRY: return &l->industry_bound;
  case OPT_RELAX_TE: return &l->te_max;
  default: return &l->constituent_floor;
  }
}

int opt_relax_step(int stage, const opt_model *m, const opt_limits *base, opt_limits *cur) {
  switch (stage) {
  case OPT_RELAX_TURNOVER:
    if (!m->use_turnover || cur->turnover_max >= 1.0) return 0;
    cur->turnover_max = fmin(1.0, fmax(cur->turnover_max * 1.25, cur->turnover_max + 0.01));
    return 1;
  case OPT_RELAX_STYLE:
    if (m->ns == 0 || cur->style_bound >= base->style_bound + 1.0 - 1e-9) return 0;
    cur->style_bound += 0.1;
    return 1;
  case OPT_RELAX_INDUSTRY:
    if (m->ni == 0 || cur->industry_bound >= base->industry_bound + 0.05 - 1e-9) return 0;
    cur->industry_bound += 0.005;
    return 1;
  case OPT_RELAX_TE:
    if (!m->use_te || cur->te_max >= base->te_max + 0.05 - 1e-9) return 0;
    cur->te_max += 0.005;
    return 1;
  case OPT_RELAX_FLOOR:
    if (cur->constituent_floor <= 0) return 0;
    cur->constituent_floor = fmax(0.0, cur->constituent_floor - 0.05);
    if (cur->constituent_floor < 1e-12) cur->constituent_floor = 0;
    return 1;
  default: return 0;
  }
}
