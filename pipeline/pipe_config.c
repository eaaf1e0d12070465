/* pipe_config.c — the pipeline's configuration: one table of keys (section, name, type, field,
 * default, documentation) drives INI parsing (libinih), --set overrides, range checks, the INI
 * dump, the canonical text hashed per stage, and docs/config.md. */
#include "pipe_internal.h"
#include "sim.h"

#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_INT, K_DBL, K_BOOL, K_STR, K_DATE } key_type;

typedef struct key_def {
  const char *section, *name;
  key_type type;
  size_t off, size; /* field offset; size of a string field */
  const char *dflt;
  double lo, hi;    /* range of numbers (inclusive) */
  const char *doc;
} key_def;

#define PIPE_XSTR(x) PIPE_XSTR1(x)
#define PIPE_XSTR1(x) #x
#define F(field) offsetof(pipe_config, field), sizeof(((pipe_config *)0)->field)
static const key_def keys[] = {
    {"market", "dir", K_STR, F(market_dir), "", 0, 0,
     "market directory (SPEC 2.1); empty: write a synthetic market (synth_*) into the stage cache"},
    {"market", "synth_stocks", K_INT, F(synth_stocks), "2400", 1900, 6000, "synthetic market: number of stocks"},
    {"market", "synth_start", K_DATE, F(synth_start), "2010-01-01", 0, 0, "synthetic market: first date"},
    {"market", "synth_end", K_DATE, F(synth_end), "2023-12-31", 0, 0, "synthetic market: last date"},
    {"market", "synth_seed", K_INT, F(synth_seed), "1", 0, 2147483647, "synthetic market: PRNG seed"},
    {"market", "synth_alpha_strength", K_DBL, F(synth_alpha_strength), PIPE_XSTR(SYNTH_ALPHA_STRENGTH), 0, 0.1,
     "synthetic market: strength of the planted alpha (daily expected return per unit of the signal's memory; "
     "the default is calibrated so that the demo's GRU RankIC is 0.07-0.11 over seeds, docs/synthetic_market.md \"Calibration\")"},
    {"market", "cache", K_BOOL, F(market_cache), "1", 0, 1, "read/write the market's binary panel cache"},
    {"model", "heads", K_STR, F(heads), "univariate,multivariate", 0, 0,
     "comma-separated heads to train and backtest: univariate, multivariate, class3 (3-class classification of the "
     "raw T+1 -> T+11 return, score = P(up) - P(down); keys class_*)"},
    {"model", "cell", K_STR, F(cell), "gru", 0, 0,
     "recurrent cell: gru, lstm or act_lstm (LSTM with Adaptive Computation Time, 1 layer; keys act_*)"},
    {"model", "datasets", K_STR, F(datasets), "day", 0, 0,
     "comma-separated input datasets: day and/or extra features/NAME.csv; one model per dataset and head, the "
     "head's score is the equal-weight mean of the per-date z-scored dataset scores (old name: dataset)"},
    {"model", "layers", K_INT, F(layers), "1", 1, 2, "stacked recurrent layers"},
    {"model", "hidden", K_INT, F(hidden), "64", 1, 4096, "hidden size"},
    {"model", "outputs", K_INT, F(outputs), "64", 2, 4096, "factor-unit size K of the multivariate head"},
    {"model", "lambda", K_DBL, F(lambda), "1", 0, 1e6, "orthogonality penalty of the multivariate head"},
    {"model", "class_label", K_STR, F(class_label), "absolute", 0, 0,
     "class3 head's labels from the raw T+1 -> T+11 return: absolute (thresholds class_up / class_down) or rank "
     "(per date, top class_top / bottom class_bottom of the cross-section)"},
    {"model", "class_up", K_DBL, F(class_up), "0.03", -10, 10, "class3, absolute labels: up when the return is above this"},
    {"model", "class_down", K_DBL, F(class_down), "-0.03", -10, 10,
     "class3, absolute labels: down when the return is below this (must be below class_up)"},
    {"model", "class_top", K_DBL, F(class_top), "0.3", 1e-6, 0.999999, "class3, rank labels: fraction of a date's stocks labelled up"},
    {"model", "class_bottom", K_DBL, F(class_bottom), "0.3", 1e-6, 0.999999,
     "class3, rank labels: fraction labelled down (class_top + class_bottom <= 1)"},
    {"model", "class_weights", K_STR, F(class_weights), "1,1,1", 0, 0,
     "class3 cross-entropy weights of down,neutral,up (for class imbalance; 1,1,1: the plain mean)"},
    {"model", "act_epsilon", K_DBL, F(act_epsilon), "0.1", 1e-6, 0.999999,
     "act_lstm: halting threshold epsilon (a time step stops pondering once the halting sum reaches 1 - epsilon)"},
    {"model", "act_max_steps", K_INT, F(act_max_steps), "30", 1, 1000, "act_lstm: most ponder steps per time step"},
    {"model", "act_tau", K_DBL, F(act_tau), "0.001", 0, 1e6,
     "act_lstm: ponder cost weight tau (loss += tau / stocks * sum over stocks and time steps of N(t) + R(t))"},
    {"model", "dropout", K_DBL, F(dropout), "0.1", 0, 0.99, "dropout rate"},
    {"model", "seq", K_INT, F(seq), "40", 2, 1000, "sequence length in trading days"},
    {"model", "epochs", K_INT, F(epochs), "100", 1, 100000, "maximum epochs"},
    {"model", "patience", K_INT, F(patience), "20", 1, 100000, "early-stopping patience in epochs"},
    {"model", "lr", K_DBL, F(lr), "0.001", 1e-9, 10, "Adam learning rate"},
    {"model", "clip", K_DBL, F(clip), "3", 1e-6, 1e6, "gradient clipping by value"},
    {"model", "seeds", K_INT, F(seeds), "3", 1, 64, "models per year (seeds), scores averaged"},
    {"model", "seed", K_INT, F(model_seed), "1", 0, 2147483647, "base seed of the models"},
    {"model", "train_years", K_INT, F(train_years), "10", 1, 50, "years of training history before the validation year"},
    {"model", "day_stride", K_INT, F(day_stride), "1", 1, 100, "train and validate on every k-th trading day (1: all)"},
    {"model", "threads", K_INT, F(threads), "2", 1, 2, "threads of one training step"},
    {"backtest", "first_year", K_INT, F(first_year), "2019", 1990, 2100, "first scored (out-of-sample) year"},
    {"backtest", "last_year", K_INT, F(last_year), "2023", 1990, 2100, "last scored year"},
    {"backtest", "end_date", K_DATE, F(end_date), "", 0, 0, "last backtest date (empty: end of last_year)"},
    {"risk", "vol_halflife", K_DBL, F(vol_halflife), "90", 1, 1e5, "factor volatility half-life (trading days)"},
    {"risk", "corr_halflife", K_DBL, F(corr_halflife), "480", 1, 1e5, "factor correlation half-life"},
    {"risk", "spec_halflife", K_DBL, F(spec_halflife), "90", 1, 1e5, "specific variance half-life"},
    {"risk", "nw_lags", K_INT, F(nw_lags), "10", 0, 60, "Newey-West lags of the factor covariance"},
    {"risk", "spec_nw_lags", K_INT, F(spec_nw_lags), "20", 0, 60, "Newey-West lags of the specific variance (20: monthly horizon)"},
    {"risk", "huber_k", K_DBL, F(huber_k), "1.345", 0, 100, "Huber threshold of the robust daily regressions (0: plain WLS)"},
    {"risk", "fundamentals", K_BOOL, F(fundamentals), "1", 0, 1, "fundamental styles when fundamentals.csv exists"},
    {"risk", "min_industry_eff", K_DBL, F(min_industry_eff), "5", 0, 1e6,
     "an industry whose effective count (sum w)^2 / sum w^2 is below this is left out of that day's regression"},
    {"risk", "spec_shrink_q", K_DBL, F(spec_shrink_q), "0.1", 0, 100, "Bayesian shrinkage intensity q of specific volatility toward its size decile"},
    {"risk", "spec_min_days", K_INT, F(spec_min_days), "60", 1, 100000,
     "specific-return days below which a stock's specific volatility is its size decile's mean"},
    {"risk", "spec_full_days", K_INT, F(spec_full_days), "180", 1, 100000,
     "specific-return days from which a stock's own (shrunk) specific volatility is used in full"},
    {"risk", "spec_vol_floor", K_DBL, F(spec_vol_floor), "0.05", 0, 10, "floor on annualised specific volatility"},
    {"optimizer", "indices", K_STR, F(indices), "csi300,csi500,csi1000", 0, 0,
     "comma-separated benchmark indices: csi300, csi500, csi1000"},
    {"optimizer", "floors", K_STR, F(floors), "0.8,0", 0, 0,
     "comma-separated constituent floors, one run each (0 = no floor)"},
    {"optimizer", "te_max_csi300", K_DBL, F(te_max[PANEL_CSI300]), "0.04", 0, 1, "annualised TE limit, CSI300"},
    {"optimizer", "te_max_csi500", K_DBL, F(te_max[PANEL_CSI500]), "0.05", 0, 1, "annualised TE limit, CSI500"},
    {"optimizer", "te_max_csi1000", K_DBL, F(te_max[PANEL_CSI1000]), "0.05", 0, 1, "annualised TE limit, CSI1000"},
    {"optimizer", "style_bound", K_DBL, F(style_bound), "0.5", 0, 100, "|active style exposure| limit"},
    {"optimizer", "industry_bound", K_DBL, F(industry_bound), "0.02", 0, 1, "|active industry weight| limit"},
    {"optimizer", "unclassified_bound", K_DBL, F(unclassified_bound), "0.05", 0, 1,
     "|active weight| limit of the stocks without an industry (one group, not an industry)"},
    {"optimizer", "spec_var_floor", K_DBL, F(spec_var_floor), "0.0001", 0, 1,
     "specific variances below this are raised to it before solving (repair, noted in diagnostics)"},
    {"optimizer", "turnover_max", K_DBL, F(turnover_max), "0.2", 0, 1, "one-way turnover limit per rebalance"},
    {"optimizer", "active_max", K_DBL, F(active_max), "0.01", 0, 1, "weight above benchmark weight per stock"},
    {"optimizer", "weight_max", K_DBL, F(weight_max), "0.05", 0, 1, "absolute weight cap per stock"},
    {"optimizer", "cash", K_DBL, F(cash), "0", 0, 0.5, "cash buffer (sum of weights = 1 - cash)"},
    {"optimizer", "gap_tol", K_DBL, F(gap_tol), "0.0001", 1e-9, 1, "relative optimality gap to stop"},
    {"optimizer", "max_rounds", K_INT, F(max_rounds), "300", 1, 100000, "cutting-plane rounds per solve"},
    {"optimizer", "warm_start", K_BOOL, F(warm_start), "0", 0, 1,
     "1: when TE binds, start from the previous week's binding cuts as well (same optimum; measured slower)"},
    {"optimizer", "relax", K_BOOL, F(relax), "1", 0, 1, "relax limits (documented order) when infeasible"},
    {"optimizer", "workers", K_INT, F(workers), "2", 1, 2, "processes solving runs in parallel"},
    {"sim", "capital", K_DBL, F(capital), "10000000", 1, 1e15, "initial capital, CNY"},
    {"sim", "costs", K_STR, F(costs), "proportional", 0, 0, "cost model: proportional, commission or none"},
    {"sim", "buy_rate", K_DBL, F(buy_rate), "0.001", 0, 1, "proportional cost of buys"},
    {"sim", "sell_rate", K_DBL, F(sell_rate), "0.002", 0, 1, "proportional cost of sells"},
    {"sim", "commission_rate", K_DBL, F(commission_rate), "0.00025", 0, 1, "commission mode: rate, both sides"},
    {"sim", "commission_min", K_DBL, F(commission_min), "5", 0, 1e6, "commission mode: minimum per trade, CNY"},
    {"sim", "stamp_old", K_DBL, F(stamp_old), "0.001", 0, 1, "commission mode: stamp duty before 2023-08-28"},
    {"sim", "stamp_new", K_DBL, F(stamp_new), "0.0005", 0, 1, "commission mode: stamp duty from 2023-08-28"},
    {"sim", "limit_test", K_STR, F(limit_test), "close", 0, 0, "limit-up/down test: close, sealed or vwap"},
    {"sim", "lot", K_DBL, F(lot), "100", 0, 1e6, "board lot in shares (0: fractional)"},
    {"sim", "exec_price", K_STR, F(exec_price), "vwap", 0, 0, "execution price: vwap, close or open"},
    {"sim", "exec_lag", K_INT, F(exec_lag), "1", 0, 10, "trading days from score date to trade date"},
    {"sim", "hedge_cost", K_DBL, F(hedge_cost), "0", -1, 1,
     "annual cost of the index hedge (futures basis), subtracted day by day (/252) from the hedged NAV"},
    {"sim", "allow_same_close", K_BOOL, F(allow_same_close), "0", 0, 1,
     "1 allows exec_lag = 0 with exec_price = close (a trade at the close that produced the score; relaxes SPEC "
     "10.1, stamped in the report); otherwise exec_lag = 0 is refused"},
    {"topn", "enabled", K_BOOL, F(topn_enabled), "0", 0, 1,
     "1: also run the top-N strategy of seed 004 on each head's daily score (equal weight on the N best-scored "
     "stocks of topn.universe, docs/pipeline.md \"Top-N strategy\"), reported beside the enhancement backtests"},
    {"topn", "universe", K_STR, F(topn_universe), "csi300", 0, 0,
     "top-N universe and benchmark: csi300, csi500, csi1000, or all (every listed stock; benchmark csi300)"},
    {"topn", "n", K_STR, F(topn_n), "20,30,50,100", 0, 0, "comma-separated numbers of stocks held (one run each, at most 8)"},
    {"topn", "rebalance", K_STR, F(topn_rebalance), "daily", 0, 0,
     "daily (the seed), weekly (last trading day of each ISO week) or monthly (last trading day of each month)"},
    {"topn", "costs", K_STR, F(topn_costs), "seed004", 0, 0,
     "seed004: commission max(0.1 %, 5 CNY) both sides, stamp duty max(0.1 %, 1 CNY) on sells; sim: the [sim] cost keys"},
    {"topn", "cash", K_DBL, F(topn_cash), "0", 0, 0.5, "weight kept in cash: each stock gets (1 - cash) / N"},
    {"universe", "exclude_st", K_BOOL, F(exclude_st), "1", 0, 1,
     "leave ST / *ST stock-days out of labels, scores, factor tests and the optimiser's buys (is_st of the day, "
     "else a 5 % up_limit; without either the report says ST not excluded)"},
    {"universe", "min_listed_days", K_INT, F(min_listed_days), "60", 0, 10000,
     "leave out stocks listed fewer than this many trading days (same places as exclude_st)"},
    {"report", "index_kind", K_STR, F(index_kind), "price", 0, 0,
     "what index_bars.csv closes are, stated in the report: price (hedged returns then include the dividend "
     "yield) or total; the synthetic market (market.dir empty) is always total"},
    {"report", "title", K_STR, F(title), "zhizeng index-enhancement report", 0, 0, "report title"},
    {"report", "note", K_STR, F(note), "", 0, 0, "free text shown under the title (e.g. what a demo shrinks); may continue on indented lines"},
    {"output", "dir", K_STR, F(out_dir), "zhizeng-out", 0, 0, "output directory (stages/ cache and report/)"},
};
#undef F
static const int n_keys = (int)(sizeof keys / sizeof keys[0]);

static const key_def *find_key(const char *section, const char *name) {
  if (!strcasecmp(section, "model") && !strcasecmp(name, "dataset")) name = "datasets"; /* the old name */
  for (int k = 0; k < n_keys; k++)
    if (!strcasecmp(keys[k].section, section) && !strcasecmp(keys[k].name, name)) return &keys[k];
  return NULL;
}

static int section_known(const char *section) {
  for (int k = 0; k < n_keys; k++)
    if (!strcasecmp(keys[k].section, section)) return 1;
  return 0;
}

/* Sets one key from text; msg receives the reason on failure. */
static int set_value(pipe_config *c, const key_def *d, const char *v, char *msg, size_t n) {
  char *base = (char *)c + d->off;
  while (*v == ' ' || *v == '\t') v++;
  switch (d->type) {
  case K_STR:
    if (strlen(v) >= d->size) {
      snprintf(msg, n, "%s.%s: value longer than %zu characters", d->section, d->name, d->size - 1);
      return -1;
    }
    snprintf(base, d->size, "%s", v);
    return 0;
  case K_DATE: {
    int32_t ymd = 0;
    if (*v && zz_date_parse(v, &ymd)) {
      snprintf(msg, n, "%s.%s: expected a date YYYY-MM-DD, found '%s'", d->section, d->name, v);
      return -1;
    }
    *(int32_t *)(void *)base = ymd;
    return 0;
  }
  case K_BOOL:
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
      *(int *)(void *)base = 1;
      return 0;
    }
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) {
      *(int *)(void *)base = 0;
      return 0;
    }
    snprintf(msg, n, "%s.%s: expected 0 or 1 (true/false), found '%s'", d->section, d->name, v);
    return -1;
  case K_INT: {
    char *end;
    long x = strtol(v, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (!*v || *end || x < d->lo || x > d->hi) {
      snprintf(msg, n, "%s.%s: expected an integer in [%.0f, %.0f], found '%s'", d->section, d->name, d->lo, d->hi, v);
      return -1;
    }
    *(int *)(void *)base = (int)x;
    return 0;
  }
  case K_DBL: {
    double x;
    if (zz_parse_double(v, 0, &x) || !isfinite(x) || x < d->lo || x > d->hi) {
      snprintf(msg, n, "%s.%s: expected a number in [%g, %g], found '%s'", d->section, d->name, d->lo, d->hi, v);
      return -1;
    }
    *(double *)(void *)base = x;
    return 0;
  }
  }
  return -1;
}

void pipe_config_default(pipe_config *c) {
  memset(c, 0, sizeof *c);
  char msg[256];
  for (int k = 0; k < n_keys; k++)
    if (set_value(c, &keys[k], keys[k].dflt, msg, sizeof msg)) abort(); /* a bad default is a bug */
}

/* Debian's libinih calls the handler without a line number, so the reader counts lines itself:
 * the handler runs right after the reader returned the line it belongs to. */
typedef struct parse_ctx {
  pipe_config *c;
  const char *name;
  zz_err *err;
  int failed;
  int line;
  FILE *f;          /* reading a file, or */
  const char *text; /* reading a string */
  int note_seen;    /* report.note continues on indented lines */
} parse_ctx;

static char *read_line(char *str, int num, void *stream) {
  parse_ctx *x = stream;
  if (num < 2) return NULL;
  if (x->f) {
    if (!fgets(str, num, x->f)) return NULL;
  } else {
    if (!*x->text) return NULL;
    int k = 0;
    while (k < num - 1 && x->text[0]) {
      const char ch = *x->text++;
      str[k++] = ch;
      if (ch == '\n') break;
    }
    str[k] = 0;
  }
  x->line++;
  const size_t len = strlen(str);
  if (len == (size_t)num - 1 && str[len - 1] != '\n') {
    x->failed = 1;
    zz_fail(x->err, ZZ_EUSAGE, "%s:%d: line longer than %d characters (continue report.note on indented lines)",
            x->name, x->line, num - 2);
    return NULL;
  }
  return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value) {
  parse_ctx *x = user;
  if (x->failed) return 0;
  const int lineno = x->line;
  const key_def *d = find_key(section, name);
  if (!d) {
    x->failed = 1;
    if (!section_known(section))
      zz_fail(x->err, ZZ_EUSAGE, "%s:%d: unknown section [%s] (expected market, model, backtest, risk, optimizer, "
                                 "sim, topn, universe, report, output)", x->name, lineno, section);
    else
      zz_fail(x->err, ZZ_EUSAGE, "%s:%d: unknown key '%s' in [%s] (expected a key of docs/config.md)", x->name, lineno, name,
              section);
    return 0;
  }
  char msg[512];
  if (!strcmp(d->name, "note") && x->note_seen) { /* a continuation line of the note */
    const size_t used = strlen(x->c->note);
    if (used + 1 + strlen(value) >= sizeof x->c->note) {
      x->failed = 1;
      zz_fail(x->err, ZZ_EUSAGE, "%s:%d: report.note longer than %zu characters", x->name, lineno,
              sizeof x->c->note - 1);
      return 0;
    }
    snprintf(x->c->note + used, sizeof x->c->note - used, " %s", value);
    return 1;
  }
  if (!strcmp(d->name, "note")) x->note_seen = 1;
  if (set_value(x->c, d, value, msg, sizeof msg)) {
    x->failed = 1;
    zz_fail(x->err, ZZ_EUSAGE, "%s:%d: %s", x->name, lineno, msg);
    return 0;
  }
  return 1;
}

static int finish_parse(parse_ctx *x, int r, zz_err *err) {
  if (x->failed) return ZZ_EUSAGE;
  if (r > 0) return zz_fail(err, ZZ_EUSAGE, "%s:%d: not an INI line (expected [section] or key = value)", x->name, r);
  if (r < 0) return zz_fail(err, ZZ_EIO, "%s: cannot read", x->name);
  return ZZ_OK;
}

int pipe_config_read(pipe_config *c, const char *path, zz_err *err) {
  FILE *f = fopen(path, "r");
  if (!f) return zz_fail(err, ZZ_EIO, "%s: cannot open the configuration file", path);
  parse_ctx x = {c, path, err, 0, 0, f, NULL, 0};
  int r = ini_parse_stream(read_line, &x, on_key, &x);
  fclose(f);
  return finish_parse(&x, r, err);
}

int pipe_config_parse(pipe_config *c, const char *text, const char *name, zz_err *err) {
  parse_ctx x = {c, name, err, 0, 0, NULL, text, 0};
  int r = ini_parse_stream(read_line, &x, on_key, &x);
  return finish_parse(&x, r, err);
}

int pipe_config_set(pipe_config *c, const char *a, zz_err *err) {
  const char *dot = strchr(a, '.'), *eq = strchr(a, '=');
  if (!dot || !eq || dot > eq)
    return zz_fail(err, ZZ_EUSAGE, "--set '%s': expected section.key=value", a);
  char section[64], name[64];
  if (dot - a >= (long)sizeof section || eq - dot - 1 >= (long)sizeof name)
    return zz_fail(err, ZZ_EUSAGE, "--set '%s': section or key too long", a);
  snprintf(section, sizeof section, "%.*s", (int)(dot - a), a);
  snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
  const key_def *d = find_key(section, name);
  if (!d) return zz_fail(err, ZZ_EUSAGE, "--set '%s': unknown key %s.%s (see docs/config.md)", a, section, name);
  char msg[512];
  if (set_value(c, d, eq + 1, msg, sizeof msg)) return zz_fail(err, ZZ_EUSAGE, "--set: %s", msg);
  return ZZ_OK;
}

const char *pipe_head_name(int h) {
  return h == PIPE_HEAD_MULTI ? "multivariate" : h == PIPE_HEAD_CLASS3 ? "class3" : "univariate";
}

int pipe_class3_opts(const pipe_config *c, class3_label_opts *o, double w[3], zz_err *err) {
  class3_label_init(o);
  if (!strcasecmp(c->class_label, "rank")) o->mode = CLASS3_RANK;
  else if (strcasecmp(c->class_label, "absolute"))
    return zz_fail(err, ZZ_EUSAGE, "model.class_label: expected absolute or rank, found '%s'", c->class_label);
  o->up = c->class_up;
  o->down = c->class_down;
  o->top = c->class_top;
  o->bottom = c->class_bottom;
  /* name the key: the thresholds, the rank fractions or the weights */
  int rc = class3_label_check(o, err);
  if (rc) {
    int thresholds = isfinite(o->up) && isfinite(o->down) && o->down < o->up;
    return zz_wrap(err, thresholds ? "model.class_top, model.class_bottom" : "model.class_up, model.class_down");
  }
  rc = nn_class_weights_parse(c->class_weights, w, err);
  if (rc) zz_wrap(err, "model.class_weights");
  return rc;
}

/* Splits a comma-separated list into trimmed items; returns the count or -1 when more than cap. */
static int split_list(const char *s, char items[][64], int cap) {
  int n = 0;
  const char *p = s;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (!*p) break;
    const char *q = p;
    while (*q && *q != ',') q++;
    const char *e = q;
    while (e > p && e[-1] == ' ') e--;
    if (n == cap) return -1;
    snprintf(items[n++], 64, "%.*s", (int)(e - p < 63 ? e - p : 63), p);
    p = q;
  }
  return n;
}

int pipe_config_lists(const pipe_config *c, pipe_lists *l, zz_err *err) {
  memset(l, 0, sizeof *l);
  char it[8][64];
  int n = split_list(c->heads, it, 8);
  if (n <= 0)
    return zz_fail(err, ZZ_EUSAGE, "model.heads: expected univariate, multivariate and/or class3, found '%s'", c->heads);
  for (int k = 0; k < n; k++) {
    int h = !strcasecmp(it[k], "univariate")     ? PIPE_HEAD_UNI
            : !strcasecmp(it[k], "multivariate") ? PIPE_HEAD_MULTI
            : !strcasecmp(it[k], "class3")       ? PIPE_HEAD_CLASS3
                                                 : -1;
    if (h < 0) return zz_fail(err, ZZ_EUSAGE, "model.heads: unknown head '%s' (univariate, multivariate, class3)", it[k]);
    for (int j = 0; j < l->n_heads; j++)
      if (l->heads[j] == h) return zz_fail(err, ZZ_EUSAGE, "model.heads: '%s' listed twice", it[k]);
    if (l->n_heads == PIPE_N_HEADS) return zz_fail(err, ZZ_EUSAGE, "model.heads: too many heads");
    l->heads[l->n_heads++] = h;
  }
  n = split_list(c->datasets, it, 8);
  if (n <= 0 || n > PIPE_MAX_DATASETS)
    return zz_fail(err, ZZ_EUSAGE, "model.datasets: expected 1 to %d names (day or features/NAME.csv), found '%s'",
                   PIPE_MAX_DATASETS, c->datasets);
  for (int k = 0; k < n; k++) {
    if (strlen(it[k]) > 59 || strpbrk(it[k], "/\\ =;"))
      return zz_fail(err, ZZ_EUSAGE, "model.datasets: '%s' is not a dataset name (day or the NAME of features/NAME.csv)",
                     it[k]);
    for (int j = 0; j < l->n_datasets; j++)
      if (!strcmp(l->datasets[j], it[k])) return zz_fail(err, ZZ_EUSAGE, "model.datasets: '%s' listed twice", it[k]);
    snprintf(l->datasets[l->n_datasets++], 64, "%s", it[k]);
  }
  n = split_list(c->indices, it, 8);
  if (n <= 0) return zz_fail(err, ZZ_EUSAGE, "optimizer.indices: expected csi300, csi500 and/or csi1000");
  for (int k = 0; k < n; k++) {
    int x = zz_index_parse(it[k]);
    if (x < 0) return zz_fail(err, ZZ_EUSAGE, "optimizer.indices: unknown index '%s' (csi300, csi500, csi1000)", it[k]);
    for (int j = 0; j < l->n_indices; j++)
      if (l->indices[j] == x) return zz_fail(err, ZZ_EUSAGE, "optimizer.indices: '%s' listed twice", it[k]);
    if (l->n_indices == PANEL_N_INDEX) return zz_fail(err, ZZ_EUSAGE, "optimizer.indices: too many indices");
    l->indices[l->n_indices++] = x;
  }
  n = split_list(c->floors, it, 8);
  if (n <= 0 || n > PIPE_MAX_FLOORS)
    return zz_fail(err, ZZ_EUSAGE, "optimizer.floors: expected 1 to %d numbers in [0, 1], found '%s'",
                   PIPE_MAX_FLOORS, c->floors);
  for (int k = 0; k < n; k++) {
    double v;
    if (zz_parse_double(it[k], 0, &v) || !(v >= 0 && v <= 1))
      return zz_fail(err, ZZ_EUSAGE, "optimizer.floors: expected a number in [0, 1], found '%s'", it[k]);
    for (int j = 0; j < l->n_floors; j++)
      if (l->floors[j] == v) return zz_fail(err, ZZ_EUSAGE, "optimizer.floors: '%s' listed twice", it[k]);
    l->floors[l->n_floors++] = v;
  }
  return ZZ_OK;
}

void pipe_sim_config(const pipe_config *c, int index, int32_t end, sim_config *sc) {
  sim_config_default(sc);
  sc->capital = c->capital;
  sc->benchmark = index;
  sc->costs = (sim_cost_mode)sim_cost_mode_parse(c->costs);
  sc->buy_rate = c->buy_rate;
  sc->sell_rate = c->sell_rate;
  sc->commission_rate = c->commission_rate;
  sc->commission_min = c->commission_min;
  sc->stamp_old = c->stamp_old;
  sc->stamp_new = c->stamp_new;
  sc->limit_test = (sim_limit_test)sim_limit_test_parse(c->limit_test);
  sc->lot = c->lot;
  sc->exec_lag = c->exec_lag;
  sc->exec_price = (sim_price)sim_price_parse(c->exec_price);
  sc->allow_same_close = c->allow_same_close;
  sc->end = end;
  sc->hedge_cost = c->hedge_cost;
}

int pipe_config_check(const pipe_config *c, zz_err *err) {
  pipe_lists l;
  int rc = pipe_config_lists(c, &l, err);
  if (rc) return rc;
  if (strcasecmp(c->cell, "gru") && strcasecmp(c->cell, "lstm") && strcasecmp(c->cell, "act_lstm"))
    return zz_fail(err, ZZ_EUSAGE, "model.cell: expected gru, lstm or act_lstm, found '%s'", c->cell);
  if (!strcasecmp(c->cell, "act_lstm") && c->layers != 1)
    return zz_fail(err, ZZ_EUSAGE, "model.layers: the act_lstm cell has 1 layer, found %d (set model.layers = 1)",
                   c->layers);
  {
    class3_label_opts co;
    double cw[3];
    if ((rc = pipe_class3_opts(c, &co, cw, err))) return rc;
  }
  if (c->first_year > c->last_year)
    return zz_fail(err, ZZ_EUSAGE, "backtest.first_year %d is after backtest.last_year %d", c->first_year, c->last_year);
  if (c->end_date && (c->end_date / 10000 < c->first_year || c->end_date / 10000 > c->last_year))
    return zz_fail(err, ZZ_EUSAGE, "backtest.end_date %d lies outside %d..%d", (int)c->end_date, c->first_year,
                   c->last_year);
  if (!c->market_dir[0] && c->synth_start >= c->synth_end)
    return zz_fail(err, ZZ_EUSAGE, "market.synth_start must be before market.synth_end");
  if (!c->market_dir[0] && (c->first_year > c->synth_end / 10000 || c->first_year - 2 < c->synth_start / 10000))
    return zz_fail(err, ZZ_EUSAGE,
                   "backtest.first_year %d needs a validation year and training history inside the synthetic "
                   "market %d..%d",
                   c->first_year, (int)c->synth_start, (int)c->synth_end);
  if (sim_cost_mode_parse(c->costs) < 0)
    return zz_fail(err, ZZ_EUSAGE, "sim.costs: expected proportional, commission or none, found '%s'", c->costs);
  if (sim_limit_test_parse(c->limit_test) < 0)
    return zz_fail(err, ZZ_EUSAGE, "sim.limit_test: expected close, sealed or vwap, found '%s'", c->limit_test);
  if (sim_price_parse(c->exec_price) < 0)
    return zz_fail(err, ZZ_EUSAGE, "sim.exec_price: expected vwap, close or open, found '%s'", c->exec_price);
  if (c->topn_enabled) {
    pipe_topn_setup ts;
    if ((rc = pipe_topn_parse(c, &ts, err))) return rc;
  }
  sim_config sc; /* the simulator's own rules (exec_lag 0 only at the close with allow_same_close, ...) */
  pipe_sim_config(c, -1, 0, &sc);
  rc = sim_config_check(&sc, err);
  if (rc) return rc;
  if (c->spec_full_days < c->spec_min_days)
    return zz_fail(err, ZZ_EUSAGE, "risk.spec_full_days (%d) must not be below risk.spec_min_days (%d)",
                   c->spec_full_days, c->spec_min_days);
  if (strcmp(c->index_kind, "price") && strcmp(c->index_kind, "total"))
    return zz_fail(err, ZZ_EUSAGE, "report.index_kind: expected price or total, found '%s'", c->index_kind);
  if (!c->out_dir[0]) return zz_fail(err, ZZ_EUSAGE, "output.dir is empty");
  return ZZ_OK;
}

static void write_value(const pipe_config *c, const key_def *d, FILE *f) {
  const char *base = (const char *)c + d->off;
  char b[40];
  switch (d->type) {
  case K_STR: fputs(base, f); break;
  case K_INT:
  case K_BOOL: fprintf(f, "%d", *(const int *)(const void *)base); break;
  case K_DBL: fputs(zz_fmt_double(b, sizeof b, *(const double *)(const void *)base), f); break;
  case K_DATE: {
    int32_t v = *(const int32_t *)(const void *)base;
    if (v) fputs(zz_date_format(v, b), f);
    break;
  }
  }
}

void pipe_config_write(const pipe_config *c, FILE *f) {
  const char *sec = "";
  for (int k = 0; k < n_keys; k++) {
    if (strcmp(sec, keys[k].section)) fprintf(f, "%s[%s]\n", k ? "\n" : "", sec = keys[k].section);
    fprintf(f, "%s = ", keys[k].name);
    if (keys[k].type == K_STR && !strcmp(keys[k].name, "note")) { /* long text on indented lines */
      const char *s = c->note;
      int col = 0;
      while (*s) {
        const char *sp = strchr(s, ' ');
        const int w = sp ? (int)(sp - s) : (int)strlen(s);
        if (col > 0 && col + w > 100) fputs("\n  ", f), col = 0;
        else if (col > 0) fputc(' ', f), col++;
        fwrite(s, 1, (size_t)w, f);
        col += w;
        s += w;
        if (*s == ' ') s++;
      }
    } else
      write_value(c, &keys[k], f);
    fputc('\n', f);
  }
}

void pipe_config_section_text(const pipe_config *c, const char *section, FILE *f) {
  for (int k = 0; k < n_keys; k++) {
    if (section && strcmp(section, keys[k].section)) continue;
    fprintf(f, "%s.%s=", keys[k].section, keys[k].name);
    write_value(c, &keys[k], f);
    fputc('\n', f);
  }
}

static const char *type_name(key_type t) {
  switch (t) {
  case K_INT: return "integer";
  case K_DBL: return "number";
  case K_BOOL: return "0/1";
  case K_STR: return "text";
  case K_DATE: return "date";
  }
  return "?";
}

void pipe_config_doc(FILE *f) {
  fprintf(f, "# zhizeng run: configuration keys\n\n"
             "Generated by `zhizeng run --config-doc` from the table of keys in pipeline/pipe_config.c (a test\n"
             "checks that this file matches it). A config file is INI: `[section]` headers and `key = value` lines;\n"
             "`;` or `#` start a comment. Every key is optional (the default applies); an unknown section or key is\n"
             "an error naming file:line. Any key can be overridden on the command line with\n"
             "`--set section.key=value`. `zhizeng run --print-config` prints the configuration in effect.\n");
  const char *sec = "";
  for (int k = 0; k < n_keys; k++) {
    if (strcmp(sec, keys[k].section)) {
      fprintf(f, "\n## [%s]\n\n| key | type | default | meaning |\n|---|---|---|---|\n", sec = keys[k].section);
    }
    char range[96] = "";
    if (keys[k].type == K_INT || keys[k].type == K_DBL) snprintf(range, sizeof range, " (%g .. %g)", keys[k].lo, keys[k].hi);
    fprintf(f, "| `%s` | %s%s | `%s` | %s |\n", keys[k].name, type_name(keys[k].type), range, keys[k].dflt,
            keys[k].doc);
  }
}
