/* zhizeng ingest reads what synth_write writes (coordinated through SPEC 2.1 only): a small
 * synthetic market loads, satisfies the panel's invariants (prices inside [low, high], limit flags
 * consistent with the limits, suspended days carry the close with no volume, index snapshots sum to
 * 1 with 300/500/1000 members), and the cached reload gives the identical panel. */
#include "data/panel_testlib.h"

#include <stdlib.h>
#include <unistd.h>

int main(void) {
  char root[] = "/tmp/zz_test_synth_XXXXXX", dir[128], cache[128];
  if (!mkdtemp(root)) return 1;
  snprintf(dir, sizeof dir, "%s/market", root);
  snprintf(cache, sizeof cache, "%s/panel.cache", root);
  synth_opts so;
  synth_default_opts(&so);
  so.n_stocks = 1900;
  so.start = 20230101;
  so.end = 20230331;
  synth_report rep;
  zz_err err = {0};
  if (synth_write(dir, &so, &rep, &err)) {
    fprintf(stderr, "synth_write: %s\n", err.msg);
    return 1;
  }
  panel_load_opts o = {.cache_path = cache, .use_cache = 1, .verbose = 0};
  panel *p = NULL, *q = NULL;
  if (panel_load(dir, &o, &p, &err)) {
    fprintf(stderr, "panel_load: %s\n", err.msg);
    return 1;
  }
  if (panel_load(dir, &o, &q, &err)) {
    fprintf(stderr, "panel_load (cached): %s\n", err.msg);
    return 1;
  }
  CHECK(!p->from_cache && q->from_cache);
  CHECK(tl_compare(p, q) == 0);
  CHECK(p->n_dates > 50 && p->n_dates < 70);
  CHECK(p->n_stocks >= 1800);
  long bad_range = 0, bad_flags = 0, bad_susp = 0, listed = 0;
  for (int t = 0; t < p->n_dates; t++)
    for (int i = 0; i < p->n_stocks; i++) {
      size_t a = panel_at(p, t, i);
      uint8_t fl = p->flags[a];
      if (!(fl & PANEL_LISTED)) continue;
      listed++;
      double c = p->f[PF_CLOSE][a], h = p->f[PF_HIGH][a], l = p->f[PF_LOW][a], op = p->f[PF_OPEN][a];
      if (!(l <= c && c <= h && l <= op && op <= h && l > 0 && p->f[PF_ADJ][a] > 0 && p->f[PF_VOLUME][a] >= 0))
        bad_range++;
      if (fl & PANEL_SUSPENDED) {
        if (p->f[PF_VOLUME][a] != 0 || (t > 0 && (p->flags[panel_at(p, t - 1, i)] & PANEL_LISTED) &&
                                         c != p->f[PF_CLOSE][panel_at(p, t - 1, i)]))
          bad_susp++;
        if (fl & (PANEL_LIMIT_UP | PANEL_LIMIT_DOWN)) bad_flags++;
      } else {
        double up = p->f[PF_UP_LIMIT][a], dn = p->f[PF_DOWN_LIMIT][a];
        int want_up = !isnan(up) && c >= up - 0.005, want_dn = !isnan(dn) && c <= dn + 0.005;
        if (want_up != !!(fl & PANEL_LIMIT_UP) || want_dn != !!(fl & PANEL_LIMIT_DOWN)) bad_flags++;
      }
    }
  CHECK(listed > 0);
  CHECK(bad_range == 0);
  CHECK(bad_flags == 0);
  CHECK(bad_susp == 0);
  static const int want_members[PANEL_N_INDEX] = {300, 500, 1000};
  double *w = malloc((size_t)p->n_stocks * sizeof *w);
  for (int k = 0; w && k < PANEL_N_INDEX; k++) {
    CHECK(p->index[k].present);
    int m = panel_index_weights(p, k, p->n_dates - 1, w, NULL);
    double sum = 0;
    for (int i = 0; i < p->n_stocks; i++) sum += w[i];
    CHECK(m == want_members[k]);
    CHECK(fabs(sum - 1) <= 0.005);
  }
  free(w);
  panel_free(p);
  panel_free(q);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
  if (zz_failures) fprintf(stderr, "%d checks failed\n", zz_failures);
  return zz_failures ? 1 : 0;
}
