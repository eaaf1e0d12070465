/* cmd_risk.c — `zhizeng risk --market DIR --out DIR [--dates weekly|monthly|daily]`: the CNE5-style risk
 * model of a market directory (risk/risk.h): exposures, daily factor returns, factor covariance and
 * specific variance as CSV, optionally one date in the optimizer's problem layout (SPEC 11.1). */
#include "cli.h"
#include "data.h"
#include "risk.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void risk_help(FILE *f) {
  risk_config c;
  risk_default_config(&c);
  fprintf(f,
          "usage: zhizeng risk --market DIR --out DIR [--dates weekly|monthly|daily] [--from DATE]\n"
          "                    [--to DATE] [--at DATE] [--vol-halflife D] [--corr-halflife D] [--spec-halflife D]\n"
          "                    [--nw-lags L] [--spec-nw-lags L] [--huber-k K] [--no-fundamentals]\n"
          "                    [--specific-returns] [--no-cache]\n\n"
          "Barra CNE5-style risk model (docs/risk_model.md): style exposures (size, beta, momentum, residual\n"
          "volatility, non-linear size, liquidity; book-to-price, earnings yield, growth, leverage when\n"
          "fundamentals.csv exists), one-hot industries, daily constrained WLS factor returns (Huber-robust),\n"
          "EW Newey-West factor covariance and EW Newey-West specific variance, using only data up to each\n"
          "output date. Risk is forecast for a 21-day (monthly) horizon and annualised.\n\n"
          "  --market DIR        market directory (as for 'zhizeng ingest')\n"
          "  --out DIR           output directory (created), receives:\n"
          "        exposures.csv        date,code,industry,<styles>      (output dates)\n"
          "        factor_returns.csv   date,<factors>,r2,n_stocks       (every regression day)\n"
          "        factor_cov.csv       date,factor,<factors>            (annualised, output dates)\n"
          "        specific_var.csv     date,code,var                    (annualised, output dates)\n"
          "        specific_returns.csv date,code,ret                    (with --specific-returns)\n"
          "  --dates weekly|monthly|daily  output dates: last trading day of each week (default) or\n"
          "                      month, or every day\n"
          "  --from, --to DATE   restrict the output dates (the model still uses all earlier history)\n"
          "  --at DATE           also write OUT/at_YYYYMMDD/ in the optimizer layout (SPEC 11.1):\n"
          "                      exposures.csv, industry.csv, factor_cov.csv, specific_var.csv, for the\n"
          "                      last trading day on or before DATE\n"
          "  --vol-halflife D    factor volatility half-life in days (default %g)\n"
          "  --corr-halflife D   factor correlation half-life (default %g)\n"
          "  --spec-halflife D   specific variance half-life (default %g)\n"
          "  --nw-lags L         Newey-West lags of the factor covariance (default %d)\n"
          "  --spec-nw-lags L    Newey-West lags of the specific variance (default %d)\n"
          "  --huber-k K         Huber threshold of the robust regression in MAD units (default %g; 0 = plain\n"
          "                      sqrt(cap)-weighted least squares)\n"
          "  --no-fundamentals   price-based styles only\n"
          "  --no-cache          do not read or write the panel cache\n\n"
          "Factor order: styles, industries (\"unclassified\" last when used), country.\n",
          c.vol_halflife, c.corr_halflife, c.spec_halflife, c.nw_lags, c.spec_nw_lags, c.huber_k);
}

static FILE *open_out(const char *dir, const char *name, zz_err *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) zz_fail(err, ZZ_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
  return f;
}

static int close_out(FILE *f, const char *dir, const char *name, zz_err *err) {
  if (ferror(f) | fclose(f)) return zz_fail(err, ZZ_EIO, "%s/%s: write failed", dir, name);
  return ZZ_OK;
}

static void put_num(FILE *f, double v) {
  char b[40];
  fputc(',', f);
  if (isfinite(v)) fputs(zz_fmt_double(b, sizeof b, v), f);
}

static const char *group_name(const risk_snapshot *s, int g) { return g >= 0 ? s->factor_names[s->n_styles + g] : ""; }

static int write_all(const panel *p, const risk_model *m, const char *out, int spec_rets, zz_err *err) {
  int K = risk_model_n_factors(m), n_out = risk_model_n_outputs(m), rc;
  char d[16];
  FILE *f = open_out(out, "factor_returns.csv", err);
  if (!f) return err->code;
  fprintf(f, "date");
  for (int k = 0; k < K; k++) fprintf(f, ",%s", risk_model_factor_name(m, k));
  fprintf(f, ",r2,n_stocks\n");
  const double *fr = risk_model_factor_returns(m), *r2 = risk_model_r2(m);
  const int *nr = risk_model_n_regressed(m);
  for (int t = 0; t < p->n_dates; t++) {
    if (!isfinite(fr[(size_t)t * K])) continue;
    fputs(zz_date_format(p->dates[t], d), f);
    for (int k = 0; k < K; k++) put_num(f, fr[(size_t)t * K + k]);
    put_num(f, r2[t]);
    fprintf(f, ",%d\n", nr[t]);
  }
  if ((rc = close_out(f, out, "factor_returns.csv", err))) return rc;
  if (spec_rets) {
    if (!(f = open_out(out, "specific_returns.csv", err))) return err->code;
    fprintf(f, "date,code,ret\n");
    const double *e = risk_model_specific_returns(m);
    for (int t = 0; t < p->n_dates; t++)
      for (int i = 0; i < p->n_stocks; i++)
        if (isfinite(e[(size_t)t * p->n_stocks + i])) {
          fprintf(f, "%s,%s", zz_date_format(p->dates[t], d), p->stocks[i].code);
          put_num(f, e[(size_t)t * p->n_stocks + i]);
          fputc('\n', f);
        }
    if ((rc = close_out(f, out, "specific_returns.csv", err))) return rc;
  }
  FILE *fe = open_out(out, "exposures.csv", err), *fc = fe ? open_out(out, "factor_cov.csv", err) : NULL;
  FILE *fs = fc ? open_out(out, "specific_var.csv", err) : NULL;
  if (!fs) {
    if (fe) fclose(fe);
    if (fc) fclose(fc);
    return err->code;
  }
  for (int k = 0; k < n_out; k++) {
    risk_snapshot s;
    if ((rc = risk_model_snapshot(m, k, &s, err))) break;
    if (k == 0) {
      fprintf(fe, "date,code,industry");
      for (int j = 0; j < s.n_styles; j++) fprintf(fe, ",%s", s.factor_names[j]);
      fprintf(fe, "\n");
      fprintf(fc, "date,factor");
      for (int j = 0; j < K; j++) fprintf(fc, ",%s", s.factor_names[j]);
      fprintf(fc, "\n");
      fprintf(fs, "date,code,var\n");
    }
    zz_date_format(s.date, d);
    for (int i = 0; i < s.n_stocks; i++) {
      if (!s.in_universe[i]) continue;
      fprintf(fe, "%s,%s,", d, p->stocks[i].code);
      zz_csv_write_field(fe, group_name(&s, s.group[i]));
      for (int j = 0; j < s.n_styles; j++) put_num(fe, s.style[(size_t)i * s.n_styles + j]);
      fputc('\n', fe);
      fprintf(fs, "%s,%s", d, p->stocks[i].code);
      put_num(fs, s.specific_var[i]);
      fputc('\n', fs);
    }
    if (s.cov_ready)
      for (int a = 0; a < K; a++) {
        fprintf(fc, "%s,", d);
        zz_csv_write_field(fc, s.factor_names[a]);
        for (int b = 0; b < K; b++) put_num(fc, s.factor_cov[(size_t)a * K + b]);
        fputc('\n', fc);
      }
  }
  int r1 = close_out(fe, out, "exposures.csv", err), r2_ = close_out(fc, out, "factor_cov.csv", err);
  int r3 = close_out(fs, out, "specific_var.csv", err);
  return rc ? rc : r1 ? r1 : r2_ ? r2_ : r3;
}

/* SPEC 11.1 files for output k into dir. */
static int write_problem(const panel *p, const risk_model *m, int k, const char *dir, zz_err *err) {
  risk_snapshot s;
  int rc = risk_model_snapshot(m, k, &s, err);
  if (rc) return rc;
  if (!s.cov_ready)
    return zz_fail(err, ZZ_EDATA, "risk: too few regression days before %d for a factor covariance", s.date);
  if (mkdir(dir, 0777) && errno != EEXIST) return zz_fail(err, ZZ_EIO, "%s: cannot create: %s", dir, strerror(errno));
  FILE *fe = open_out(dir, "exposures.csv", err), *fi = fe ? open_out(dir, "industry.csv", err) : NULL;
  FILE *fc = fi ? open_out(dir, "factor_cov.csv", err) : NULL, *fs = fc ? open_out(dir, "specific_var.csv", err) : NULL;
  if (!fs) {
    if (fe) fclose(fe);
    if (fi) fclose(fi);
    if (fc) fclose(fc);
    return err->code;
  }
  int K = s.n_factors;
  fprintf(fe, "code");
  for (int j = 0; j < s.n_styles; j++) fprintf(fe, ",%s", s.factor_names[j]);
  fprintf(fe, "\n");
  fprintf(fi, "code,industry\n");
  fprintf(fs, "code,var\n");
  for (int i = 0; i < s.n_stocks; i++) {
    if (!s.in_universe[i]) continue;
    fprintf(fe, "%s", p->stocks[i].code);
    for (int j = 0; j < s.n_styles; j++) put_num(fe, s.style[(size_t)i * s.n_styles + j]);
    fputc('\n', fe);
    fprintf(fi, "%s,", p->stocks[i].code);
    zz_csv_write_field(fi, group_name(&s, s.group[i]));
    fputc('\n', fi);
    fprintf(fs, "%s", p->stocks[i].code);
    put_num(fs, s.specific_var[i]);
    fputc('\n', fs);
  }
  fprintf(fc, "factor");
  for (int j = 0; j < K; j++) {
    fputc(',', fc);
    zz_csv_write_field(fc, s.factor_names[j]);
  }
  fputc('\n', fc);
  for (int a = 0; a < K; a++) {
    zz_csv_write_field(fc, s.factor_names[a]);
    for (int b = 0; b < K; b++) put_num(fc, s.factor_cov[(size_t)a * K + b]);
    fputc('\n', fc);
  }
  int r1 = close_out(fe, dir, "exposures.csv", err), r2 = close_out(fi, dir, "industry.csv", err);
  int r3 = close_out(fc, dir, "factor_cov.csv", err), r4 = close_out(fs, dir, "specific_var.csv", err);
  return r1 ? r1 : r2 ? r2 : r3 ? r3 : r4;
}

int cmd_risk(int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    risk_help(stdout);
    return 0;
  }
  static const struct option longopts[] = {
      {"market", required_argument, NULL, 'm'},       {"out", required_argument, NULL, 'o'},
      {"dates", required_argument, NULL, 'd'},        {"from", required_argument, NULL, 'f'},
      {"to", required_argument, NULL, 't'},           {"at", required_argument, NULL, 'a'},
      {"vol-halflife", required_argument, NULL, 'V'}, {"corr-halflife", required_argument, NULL, 'C'},
      {"spec-halflife", required_argument, NULL, 'S'}, {"nw-lags", required_argument, NULL, 'L'},
      {"no-fundamentals", no_argument, NULL, 'F'},    {"specific-returns", no_argument, NULL, 'R'},
      {"no-cache", no_argument, NULL, 'n'},           {"spec-nw-lags", required_argument, NULL, 'l'},
      {"huber-k", required_argument, NULL, 'H'},      {NULL, 0, NULL, 0}};
  const char *market = NULL, *out = NULL, *dates = "weekly";
  int32_t from = 0, to = 99991231, at = 0;
  int spec_rets = 0;
  risk_config cfg;
  risk_default_config(&cfg);
  panel_load_opts lo = {.cache_path = NULL, .use_cache = 1, .verbose = 1};
  optind = 1;
  opterr = 0;
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 'm': market = optarg; break;
      case 'o': out = optarg; break;
      case 'd': dates = optarg; break;
      case 'f':
      case 't':
      case 'a': {
        int32_t v;
        if (zz_date_parse(optarg, &v)) return cli_usage_error("risk", "bad date '%s' (expected YYYY-MM-DD)", optarg);
        if (c == 'f') from = v;
        else if (c == 't') to = v;
        else at = v;
        break;
      }
      case 'V':
      case 'C':
      case 'S': {
        double v = strtod(optarg, &end);
        if (*end || !(v > 0)) return cli_usage_error("risk", "half-life must be a positive number, found '%s'", optarg);
        if (c == 'V') cfg.vol_halflife = v;
        else if (c == 'C') cfg.corr_halflife = v;
        else cfg.spec_halflife = v;
        break;
      }
      case 'L':
      case 'l': {
        long v = strtol(optarg, &end, 10);
        if (*end || v < 0 || v > 63)
          return cli_usage_error("risk", "--%s must be an integer 0..63, found '%s'", c == 'L' ? "nw-lags" : "spec-nw-lags",
                                 optarg);
        if (c == 'L') cfg.nw_lags = (int)v;
        else cfg.spec_nw_lags = (int)v;
        break;
      }
      case 'H': {
        double v = strtod(optarg, &end);
        if (*end || !(v >= 0) || !isfinite(v))
          return cli_usage_error("risk", "--huber-k must be a number >= 0 (0: plain WLS), found '%s'", optarg);
        cfg.huber_k = v;
        break;
      }
      case 'F': cfg.use_fundamentals = 0; break;
      case 'R': spec_rets = 1; break;
      case 'n': lo.use_cache = 0; break;
      case ':': return cli_usage_error("risk", "option '%s' needs a value", argv[optind - 1]);
      default: return cli_usage_error("risk", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("risk", "unexpected argument '%s'", argv[optind]);
  if (!market || !out) return cli_usage_error("risk", "--market DIR and --out DIR are required");
  if (strcmp(dates, "weekly") && strcmp(dates, "daily") && strcmp(dates, "monthly"))
    return cli_usage_error("risk", "--dates must be 'weekly', 'monthly' or 'daily', found '%s'", dates);
  panel *p = NULL;
  zz_err err = {0};
  int rc = panel_load(market, &lo, &p, &err);
  if (rc) {
    fprintf(stderr, "zhizeng risk: %s\n", err.msg);
    return zz_exit_code(rc);
  }
  int *ot = malloc(sizeof(int) * (size_t)(p->n_dates + 1));
  risk_model *m = NULL;
  if (!ot) {
    rc = zz_fail(&err, ZZ_ENOMEM, "out of memory");
    goto done;
  }
  int n_all = 0;
  if (!strcmp(dates, "weekly")) n_all = risk_week_ends(p, ot);
  else
    for (int t = 0; t < p->n_dates; t++) /* daily, or the last trading day of each month */
      if (dates[0] == 'd' || t + 1 == p->n_dates || p->dates[t] / 100 != p->dates[t + 1] / 100) ot[n_all++] = t;
  int t_at = at ? panel_date_at_or_before(p, at) : -1;
  if (at && t_at < 0) {
    rc = zz_fail(&err, ZZ_EUSAGE, "--at %d is before the first trading day", at);
    goto done;
  }
  int n_out = 0;
  for (int k = 0; k < n_all; k++)
    if (p->dates[ot[k]] >= from && p->dates[ot[k]] <= to) ot[n_out++] = ot[k];
  if (t_at >= 0) { /* --at is an output date too, kept in ascending order */
    int pos = 0;
    while (pos < n_out && ot[pos] < t_at) pos++;
    if (pos == n_out || ot[pos] != t_at) {
      memmove(ot + pos + 1, ot + pos, sizeof(int) * (size_t)(n_out - pos));
      ot[pos] = t_at;
      n_out++;
    }
  }
  if (mkdir(out, 0777) && errno != EEXIST) {
    rc = zz_fail(&err, ZZ_EIO, "%s: cannot create: %s", out, strerror(errno));
    goto done;
  }
  fprintf(stderr, "zhizeng risk: %d dates x %d stocks, %d output dates\n", p->n_dates, p->n_stocks, n_out);
  if ((rc = risk_model_build(p, &cfg, ot, n_out, &m, &err))) goto done;
  const risk_stats *st = risk_model_stats(m);
  fprintf(stderr, "zhizeng risk: %d factors, %d regression days (mean R^2 %.3f), %d days skipped (too few stocks or a singular regression)\n",
          risk_model_n_factors(m), st->regressions, st->mean_r2, st->skipped_days);
  fprintf(stderr, "zhizeng risk: industry-median filled stock-days:");
  for (int k = 0; k < RISK_N_STYLES; k++)
    if (st->filled[k]) fprintf(stderr, " %s %ld", risk_style_name(k), st->filled[k]);
  fprintf(stderr,
          "\nzhizeng risk: unclassified stock-days %ld, thin industry group-days left out %ld, covariance repairs %d\n",
          st->unclassified, st->thin_group_days, st->cov_repairs);
  int thin_max = 0;
  for (int k = 0; k < n_out; k++) {
    risk_snapshot s;
    if (!risk_model_snapshot(m, k, &s, NULL) && s.n_thin_groups > thin_max) thin_max = s.n_thin_groups;
  }
  fprintf(stderr,
          "zhizeng risk: thin groups on an output date at most %d; specific risk: size-decile mean (short history) "
          "%ld, floored %ld stock-dates; carried (listed, no float cap) %ld stock-dates\n",
          thin_max, st->spec_short, st->spec_floored, st->carried);
  if ((rc = write_all(p, m, out, spec_rets, &err))) goto done;
  if (t_at >= 0) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/at_%d", out, p->dates[t_at]);
    for (int k = 0; k < n_out; k++)
      if (ot[k] == t_at) rc = write_problem(p, m, k, dir, &err);
    if (!rc) fprintf(stderr, "zhizeng risk: optimizer inputs for %d in %s\n", p->dates[t_at], dir);
  }
done:
  if (rc) fprintf(stderr, "zhizeng risk: %s\n", err.msg);
  risk_model_free(m);
  free(ot);
  panel_free(p);
  return zz_exit_code(rc);
}
