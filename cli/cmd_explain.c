/* cmd_explain.c — `zhizeng explain`: LRP explanations (Arras et al. 2017) of one trained model's output for the
 * stocks it scores on one date: relevance per input feature and lag, per-feature totals, bias relevances, the
 * per-date summary (mean |R| share by feature and by lag) and an HTML page charting it (docs/model.md). */
#include "cli.h"
#include "data.h"
#include "model.h"
#include "reports.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
  printf("usage: zhizeng explain --model M --market DIR --date D --out OUTDIR [--codes C1,C2,...] [--eps E]\n\n"
         "Explains a trained model's output on trading day D by Layer-wise Relevance Propagation (Arras et al.\n"
         "2017: epsilon rule on linear maps, nonlinearities pass relevance unchanged, gates get none), computed\n"
         "in double, for every stock the model scores that day (the universe and windows of 'zhizeng score'),\n"
         "or only the --codes given. The explained output is the univariate head's output before batch-norm,\n"
         "the multivariate head's c (mean of the batch-normed units, the batch-norm of that day's stocks taken\n"
         "as a fixed affine map), or the class3 head's logit difference up - down. gru and lstm cells, 1 or 2\n"
         "layers; act_lstm models are refused.\n\n"
         "OUTDIR receives (CSV; lag 0 = D, lag k = k trading days before):\n"
         "  relevance.csv  date,code,lag,feature,relevance\n"
         "  totals.csv     date,code,feature,relevance       (sum over the lags)\n"
         "  stocks.csv     date,code,score,output,inputs,bias,bias_layer1,bias_layer2,bias_head\n"
         "                 (score as 'zhizeng score' computes it for this one model before z-scoring; inputs\n"
         "                 + bias = output up to rounding)\n"
         "  summary.csv    date,kind,name,mean_abs,share     (kind feature | lag: mean |R| over the stocks)\n"
         "  explain.html   bar charts of the summary's shares\n\n"
         "options:\n"
         "  --model M      a model file from 'zhizeng train' (.zzm), or its directory (then Y<year of D>_seed0.zzm)\n"
         "  --market DIR   market directory\n"
         "  --date D       trading day, YYYY-MM-DD or YYYYMMDD\n"
         "  --out OUTDIR   output directory (created when missing)\n"
         "  --codes LIST   comma-separated stock codes (each must be scored on D)\n"
         "  --eps E        the epsilon rule's stabiliser, >= 0 (1e-3)\n"
         "  -h, --help     this help\n");
}

static int write_html(const explain_result *r, const char *model, const char *dir, zz_err *err) {
  char path[4200], title[256], para[1024], db[16];
  snprintf(path, sizeof path, "%s/explain.html", dir);
  double *bf = malloc(sizeof *bf * (size_t)r->F), *bl = malloc(sizeof *bl * (size_t)r->T);
  const char **fl = malloc(sizeof *fl * (size_t)r->F), **ll = malloc(sizeof *ll * (size_t)r->T);
  char(*lab)[12] = malloc(sizeof *lab * (size_t)r->T);
  rep_html *h = NULL;
  int rc = ZZ_OK;
  if (!bf || !bl || !fl || !ll || !lab) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
  if (!rc) rc = rep_html_open(&h, path, "zhizeng LRP explanation", err);
  if (!rc) {
    explain_shares(r, NULL, bf, bl);
    double worst = 0;
    for (int i = 0; i < r->n; i++) {
      double s = 0;
      for (size_t k = 0; k < (size_t)r->T * r->F; k++) s += r->rel[(size_t)i * r->T * r->F + k];
      for (int k = 0; k < NN_LRP_PARTS; k++) s += r->bias[(size_t)i * NN_LRP_PARTS + k];
      const double e = fabs(s - r->out[i]) / fmax(fabs(r->out[i]), 1e-300);
      if (e > worst) worst = e;
    }
    zz_date_format(r->date, db);
    snprintf(title, sizeof title, "LRP explanation of %s on %s", model, db);
    rep_html_heading(h, title);
    snprintf(para, sizeof para,
             "%d stocks, %d lags x %d features, epsilon %g. Shares of the mean |relevance| over the stocks (summed "
             "over the other axis); inputs + bias relevances reproduce the explained output within %.2g relative.",
             r->n, r->T, r->F, r->eps, worst);
    rep_html_para(h, para);
    for (int f = 0; f < r->F; f++) fl[f] = r->features[f];
    for (int l = 0; l < r->T; l++) snprintf(lab[l], sizeof lab[l], "%d", l), ll[l] = lab[l];
    rep_html_bar_chart(h, "by_feature", "share of mean |R| by feature", r->F, fl, bf, 0, 1);
    rep_html_bar_chart(h, "by_lag", "share of mean |R| by lag (trading days before the date)", r->T, ll, bl, 0, 1);
    rc = rep_html_close(h, err);
  }
  free(bf), free(bl), free(fl), free(ll), free(lab);
  return rc;
}

int cmd_explain(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    help();
    return 0;
  }
  const char *model = NULL, *market = NULL, *out = NULL, *codes = NULL;
  int32_t date = 0;
  double eps = 1e-3;
  enum { O_MODEL = 256, O_MARKET, O_DATE, O_OUT, O_CODES, O_EPS };
  static const struct option lo[] = {{"model", required_argument, 0, O_MODEL}, {"market", required_argument, 0, O_MARKET},
                                     {"date", required_argument, 0, O_DATE},   {"out", required_argument, 0, O_OUT},
                                     {"codes", required_argument, 0, O_CODES}, {"eps", required_argument, 0, O_EPS},
                                     {0, 0, 0, 0}};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (c) {
    case O_MODEL: model = optarg; break;
    case O_MARKET: market = optarg; break;
    case O_OUT: out = optarg; break;
    case O_CODES: codes = optarg; break;
    case O_DATE:
      if (zz_date_parse(optarg, &date)) return cli_usage_error("explain", "--date '%s': expected YYYY-MM-DD", optarg);
      break;
    case O_EPS: {
      char *end;
      eps = strtod(optarg, &end);
      if (end == optarg || *end || !(eps >= 0) || eps > 1e300)
        return cli_usage_error("explain", "--eps '%s': expected a number >= 0", optarg);
      break;
    }
    case ':': return cli_usage_error("explain", "option %s needs a value", argv[optind - 1]);
    default: return cli_usage_error("explain", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("explain", "unexpected argument '%s'", argv[optind]);
  if (!model || !market || !date || !out)
    return cli_usage_error("explain", "--model, --market, --date and --out are required");
  /* --codes: split on commas */
  char *buf = codes ? strdup(codes) : NULL;
  const char **list = NULL;
  int n_codes = 0;
  if (codes) {
    list = malloc(sizeof *list * (strlen(codes) + 1));
    if (!buf || !list) {
      free(buf), free(list);
      fprintf(stderr, "zhizeng explain: out of memory\n");
      return zz_exit_code(ZZ_ENOMEM);
    }
    for (char *s = strtok(buf, ","); s; s = strtok(NULL, ",")) list[n_codes++] = s;
    if (n_codes == 0) {
      free(buf), free(list);
      return cli_usage_error("explain", "--codes '%s': expected comma-separated codes", codes);
    }
  }
  zz_err err = {0};
  panel *p = NULL;
  explain_result *r = NULL;
  int rc = panel_load(market, NULL, &p, &err);
  if (!rc) rc = explain_run(p, model, date, list, n_codes, eps, &r, &err);
  if (!rc && (rc = zz_mkdir_p(out, &err)) == ZZ_OK) rc = explain_write(r, out, &err);
  if (!rc) rc = write_html(r, model, out, &err);
  if (!rc) fprintf(stderr, "explain: %d stocks x %d lags x %d features -> %s\n", r->n, r->T, r->F, out);
  explain_free(r);
  panel_free(p);
  free(buf), free(list);
  if (rc) fprintf(stderr, "zhizeng explain: %s\n", err.msg);
  return zz_exit_code(rc);
}
