/* pipeline.h — `zhizeng run` / `zhizeng demo`: the INI configuration (a table of keys with types,
 * defaults and documentation), stage hashing and caching, the orchestration of
 * ingest -> training -> scores -> risk model -> weekly optimisation -> simulation -> evaluation, and
 * the final report. See docs/pipeline.md and docs/config.md.
 *
 * Stage outputs live in OUT/stages/<stage>-<hash16>/; a stage's DONE file is written last, so a
 * directory without it is an interrupted stage that is redone (training resumes from its
 * checkpoints). The hash covers the stage's configuration keys and its input stages' hashes. */
#ifndef ZZ_PIPELINE_H
#define ZZ_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "data.h"

#define PIPE_STR 256

/* ---------------------------------------------------------------- configuration */

typedef struct pipe_config {
  /* [market] */
  char market_dir[PIPE_STR];      /* empty: a synthetic market written into the stage cache */
  int synth_stocks;
  int32_t synth_start, synth_end;
  int synth_seed;
  double synth_alpha_strength;    /* synth_opts.alpha_strength */
  int market_cache;
  /* [model] */
  char heads[PIPE_STR];           /* "univariate,multivariate" */
  char cell[PIPE_STR];
  char datasets[PIPE_STR];        /* "day" or e.g. "day,fund": one model per dataset and head */
  int layers, hidden, outputs, seq, epochs, patience, seeds, model_seed, train_years, day_stride, threads;
  double lambda, dropout, lr, clip;
  double act_epsilon, act_tau;    /* act_lstm cell: halting threshold, ponder cost weight */
  int act_max_steps;              /* act_lstm cell: most ponder steps per time step */
  char class_label[PIPE_STR];     /* class3 head: "absolute" or "rank" */
  double class_up, class_down, class_top, class_bottom;
  char class_weights[PIPE_STR];   /* class3 head: "down,neutral,up" cross-entropy weights */
  /* [backtest] */
  int first_year, last_year;
  int32_t end_date;               /* 0: end of last_year */
  /* [risk] */
  double vol_halflife, corr_halflife, spec_halflife;
  int nw_lags, spec_nw_lags, fundamentals;
  double huber_k;
  double min_industry_eff, spec_shrink_q, spec_vol_floor;
  int spec_min_days, spec_full_days;
  /* [optimizer] */
  char indices[PIPE_STR];         /* "csi300,csi500,csi1000" */
  char floors[PIPE_STR];          /* "0.8,0" */
  double te_max[PANEL_N_INDEX];
  double style_bound, industry_bound, unclassified_bound, spec_var_floor, turnover_max, active_max, weight_max, cash,
      gap_tol;
  int max_rounds, relax, warm_start, workers;
  /* [sim] */
  double capital, buy_rate, sell_rate, commission_rate, commission_min, stamp_old, stamp_new, lot;
  char costs[PIPE_STR], limit_test[PIPE_STR], exec_price[PIPE_STR];
  int exec_lag;
  double hedge_cost;               /* annual, subtracted day by day from the hedged NAV */
  int allow_same_close;            /* exec_lag 0 with close prices allowed (relaxes SPEC 10.1) */
  /* [topn] the top-N strategy of seed 004 on each head's score (pipe_topn.c) */
  int topn_enabled;
  char topn_universe[PIPE_STR];    /* csi300 | csi500 | csi1000 | all */
  char topn_n[PIPE_STR];           /* "20,30,50,100" */
  char topn_rebalance[PIPE_STR];   /* daily | weekly | monthly */
  char topn_costs[PIPE_STR];       /* seed004 | sim (the [sim] cost keys) */
  double topn_cash;
  /* [universe] */
  int exclude_st, min_listed_days;
  /* [report] */
  char index_kind[PIPE_STR];       /* "price" or "total": what the index closes are */
  char title[PIPE_STR];
  char note[1024];                /* free text shown under the report's title */
  /* [output] */
  char out_dir[PIPE_STR];
} pipe_config;

/* The defaults of every key (docs/config.md). */
void pipe_config_default(pipe_config *c);
/* Reads an INI file over *c. Unknown sections or keys, bad values: ZZ_EUSAGE "file:line: ...". */
int pipe_config_read(pipe_config *c, const char *path, zz_err *err);
/* Parses INI text (name is used in messages) over *c. */
int pipe_config_parse(pipe_config *c, const char *text, const char *name, zz_err *err);
/* Applies one "section.key=value" override (as --set gives it). */
int pipe_config_set(pipe_config *c, const char *assignment, zz_err *err);
/* Cross-key checks (years, lists, ranges) after reading. */
int pipe_config_check(const pipe_config *c, zz_err *err);
/* Writes the whole configuration as INI (every key, current values) to f. */
void pipe_config_write(const pipe_config *c, FILE *f);
/* Writes the Markdown table of every key with its type, default and meaning (docs/config.md). */
void pipe_config_doc(FILE *f);
/* Canonical "section.key=value\n" text of the keys of `section` (NULL: all), for hashing. */
void pipe_config_section_text(const pipe_config *c, const char *section, FILE *f);

/* Parsed lists. */
typedef enum { PIPE_HEAD_UNI = 0, PIPE_HEAD_MULTI = 1, PIPE_HEAD_CLASS3 = 2, PIPE_N_HEADS = 3 } pipe_head;
const char *pipe_head_name(int h);
#define PIPE_MAX_FLOORS 4
#define PIPE_MAX_DATASETS 8
typedef struct pipe_lists {
  int n_heads, heads[PIPE_N_HEADS];
  int n_datasets;
  char datasets[PIPE_MAX_DATASETS][64]; /* model.datasets, in the order given */
  int n_indices, indices[PANEL_N_INDEX];
  int n_floors;
  double floors[PIPE_MAX_FLOORS];
} pipe_lists;
int pipe_config_lists(const pipe_config *c, pipe_lists *l, zz_err *err);

/* ---------------------------------------------------------------- hashing */

/* FNV-1a 64 of bytes, chained from h (start with PIPE_HASH_SEED). */
#define PIPE_HASH_SEED 0xcbf29ce484222325ull
uint64_t pipe_hash_bytes(uint64_t h, const void *data, size_t n);
uint64_t pipe_hash_str(uint64_t h, const char *s);
/* 16 lowercase hex digits of h into buf[17]. */
char *pipe_hash_hex(uint64_t h, char buf[17]);
/* Stamp of a market directory: names, sizes and modification times of its CSV files (and
 * features/). ZZ_EIO when the directory cannot be read. */
int pipe_market_stamp(const char *dir, uint64_t *h, zz_err *err);

/* The stage hashes of a configuration (market_hash = the market stage's hash). Exposed for tests:
 * a change to one key must change exactly the stages that read it. */
typedef struct pipe_hashes {
  uint64_t market;
  /* per dataset d of model.datasets and head h: its training and score stages. With one dataset,
   * scores[h] == ds_scores[0][h]; with several, scores[h] is the combination stage (per-date z-scores
   * averaged). train[h] == ds_train[0][h]. The hash of dataset "day" does not depend on the other
   * datasets listed (the canonical text carries model.dataset=<that dataset>). */
  uint64_t ds_train[PIPE_MAX_DATASETS][PIPE_N_HEADS], ds_scores[PIPE_MAX_DATASETS][PIPE_N_HEADS];
  uint64_t train[PIPE_N_HEADS], scores[PIPE_N_HEADS];
  uint64_t risk;
  uint64_t opt[PANEL_N_INDEX][PIPE_N_HEADS][PIPE_MAX_FLOORS];
  uint64_t sim[PANEL_N_INDEX][PIPE_N_HEADS][PIPE_MAX_FLOORS];
} pipe_hashes;
int pipe_stage_hashes(const pipe_config *c, uint64_t market_hash, pipe_hashes *h, zz_err *err);

/* ---------------------------------------------------------------- running */

typedef struct pipe_run_opts {
  int force;      /* recompute every stage */
  int progress;   /* progress bars on stderr when it is a terminal */
  int verbose;
  /* the task list (docs/distributed.md): every stage's work as independent tasks in dependency order */
  int plan;       /* print the task list ("id kind name dir deps=...") to stdout and stop */
  int tasks_set;  /* run only the tasks task_first..task_last (--tasks A-B, a job array's share) */
  int task_first, task_last;
  int jobs;       /* >= 2: tasks in that many forked worker processes (--jobs); 0 or 1: in this process */
  int mpi;        /* run under MPI (--mpi): rank 0 schedules, the other ranks run tasks */
  int mpi_gather; /* with mpi: no shared directory; rank 0 sends each task its input stages and receives its
                     output stage; rank R > 0 works in <output.dir>-rank<R> */
} pipe_run_opts;

/* Runs the whole pipeline for c into c->out_dir. On success the report is in OUT/report/ and the
 * wall time per stage in OUT/report/timings.csv (also printed). */
int pipe_run(const pipe_config *c, const pipe_run_opts *o, zz_err *err);
/* --tasks "A-B" or "A" into *first, *last (ZZ_EUSAGE with a message otherwise). */
int pipe_tasks_parse_range(const char *s, int *first, int *last, zz_err *err);
/* 1 when this build has the MPI driver (--mpi). */
int pipe_have_mpi(void);

/* ---------------------------------------------------------------- hyper-parameter study */

/* `zhizeng study` (pipe_study.c, docs/pipeline.md "Hyper-parameter study"): settings = the configuration with one
 * value of each varied key (the cartesian product, the first --vary varying slowest); each trains one model (seed
 * model.model_seed, the first of model.heads and of model.datasets) for one rolling year, cached as a stage. */
#define PIPE_STUDY_MAX_VARY 8
#define PIPE_STUDY_MAX_VALUES 16
#define PIPE_STUDY_MAX_SETTINGS 256
typedef struct pipe_study_opts {
  int n_vary;
  char key[PIPE_STUDY_MAX_VARY][64]; /* "section.key" */
  int n_values[PIPE_STUDY_MAX_VARY];
  char value[PIPE_STUDY_MAX_VARY][PIPE_STUDY_MAX_VALUES][64];
  int year;               /* the scoring year whose split is trained (validation = year - 1); 0: backtest.first_year */
  char out_dir[PIPE_STR]; /* empty: <output.dir>/study */
  int force, progress;
  /* the task list (one task per distinct setting, then the tables; docs/distributed.md): as pipe_run_opts */
  int plan, tasks_set, task_first, task_last, jobs, mpi, verbose;
} pipe_study_opts;
void pipe_study_init(pipe_study_opts *o);
/* Adds "section.key=v1,v2,..." (values separated by commas): every value is applied to a copy of base with
 * pipe_config_set, so an unknown key or a bad value is ZZ_EUSAGE naming the key. */
int pipe_study_add_vary(pipe_study_opts *o, const pipe_config *base, const char *arg, zz_err *err);
/* Runs (or reuses) every setting and writes OUT/study.csv, curves.csv, study.md, study.html. */
int pipe_study(const pipe_config *base, const pipe_study_opts *o, zz_err *err);
/* ---------------------------------------------------------------- top-N strategy (seed 004 section 4)
 * pipe_topn.c; docs/pipeline.md "Top-N strategy". On each rebalance date d (decided at d's close with
 * d's scores, traded exec_lag days later like every backtest): the candidates are the universe's members
 * on d (the snapshot in force) that are eligible under the universe screen, have a finite score on d and
 * can be bought on d (sim_tradable on d's bar: listed, not suspended, not at the up limit) or are held
 * already; the n best scores (ties: lower panel index) get weight (1 - cash) / n each; a held stock not
 * among them is sold. Fewer than n candidates: each still gets (1 - cash) / n, the rest stays in cash; none:
 * no batch (the book is held). The book starts on the first rebalance date with n candidates. */
struct sim_config;
struct sim_result;
struct sim_targets;
typedef enum { PIPE_REBAL_DAILY = 0, PIPE_REBAL_WEEKLY = 1, PIPE_REBAL_MONTHLY = 2 } pipe_rebalance;
int pipe_rebalance_parse(const char *s);      /* "daily|weekly|monthly", -1 if unknown */
const char *pipe_rebalance_name(int r);
typedef struct pipe_topn_opts {
  int universe;               /* PANEL_CSI300 (default), PANEL_CSI500, PANEL_CSI1000; -1: every listed stock */
  int n;                      /* stocks held (20) */
  int rebalance;              /* PIPE_REBAL_DAILY (default) */
  double cash;                /* weight kept in cash (0): each stock gets (1 - cash) / n */
  int32_t start;              /* first possible decision date YYYYMMDD (0: the panel's first) */
  int32_t end;                /* last simulated date (0: the panel's last, or the sim config's end) */
  panel_universe_opts screen; /* ST / new listings out (panel_universe_init) */
} pipe_topn_opts;
void pipe_topn_init(pipe_topn_opts *o);
/* Decision dates in [t0, t1] (date indices into out, capacity n_dates; returns the count): daily every
 * trading day; weekly the last trading day of each ISO week (panel_week_ends); monthly the last trading
 * day of each calendar month. The panel's last day counts as the end of its week / month. */
int pipe_topn_dates(const panel *p, int rebalance, int t0, int t1, int *out);
/* One top-N backtest of scores[n_dates x n_stocks] (NaN = no score) on a simulator book with settings sc
 * (its benchmark is the NAV's benchmark). *out: the simulator's result; *targets (may be NULL): the batches
 * submitted (sim_targets_write writes them). */
int pipe_topn_run(const panel *p, const double *scores, const pipe_topn_opts *o, const struct sim_config *sc,
                  struct sim_targets **targets, struct sim_result **out, zz_err *err);

#endif
