/* pipe_internal.h — shared between the pipeline's files; not part of its public API. */
#ifndef ZZ_PIPE_INTERNAL_H
#define ZZ_PIPE_INTERNAL_H

#include "model.h"
#include "pipeline.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PIPE_PATH 4200
#define PIPE_MAX_RUNS (PANEL_N_INDEX * PIPE_N_HEADS * PIPE_MAX_FLOORS)
#define PIPE_MAX_TIMERS 64

/* The class3 head's label options and class weights from model.class_* (checked; the message names the key). */
int pipe_class3_opts(const pipe_config *c, class3_label_opts *o, double w[3], zz_err *err);

/* One backtest: an index, a score (head) and a constituent floor. */
typedef struct pipe_bt {
  int index, head, floor_k;
  double floor;
  char label[64];          /* "csi500/multivariate/floor80" */
  char dir[PIPE_PATH];     /* the closed loop's stage: targets.csv, w0.csv, diagnostics.csv and the
                              simulator's nav.csv, trades.csv, positions.csv, rebalances.csv, summary.csv */
} pipe_bt;

/* The [topn] keys parsed (pipe_topn.c): universe index (-1: all), benchmark, the list of N, the rebalance
 * frequency, 1 for the seed004 costs (0: the [sim] keys). */
#define PIPE_TOPN_MAX 8
typedef struct pipe_topn_setup {
  int universe, benchmark, rebalance, seed004, n_n, n[PIPE_TOPN_MAX];
} pipe_topn_setup;
int pipe_topn_parse(const pipe_config *c, pipe_topn_setup *s, zz_err *err);

/* One top-N run of a head's score. */
typedef struct pipe_topn_run_dir {
  int head, n;
  char label[64];          /* "univariate/top20" */
  char dir[PIPE_PATH];     /* its stage: targets.csv and the simulator's files */
} pipe_topn_run_dir;

typedef struct pipe_ctx {
  const pipe_config *c;
  const pipe_run_opts *o;
  pipe_lists l;
  pipe_hashes hs;
  char market_dir[PIPE_PATH];
  char report_dir[PIPE_PATH];
  panel *p;
  int t_first, t_last;                 /* backtest date indices (inclusive) */
  uint8_t *eligible;                   /* n_dates x n_stocks universe mask (panel_universe_mask) */
  int st_source;                       /* panel_st_source of the mask */
  double *scores[PIPE_N_HEADS];        /* daily scores, n_dates x n_stocks, NaN outside the backtest */
  /* with several model.datasets: each dataset's daily scores (as scores; NULL with one dataset) */
  double *ds_scores[PIPE_MAX_DATASETS][PIPE_N_HEADS];
  int n_bt;
  pipe_bt bt[PIPE_MAX_RUNS];
  int n_topn;                          /* [topn] runs (topn.enabled), heads x N */
  pipe_topn_run_dir topn[PIPE_N_HEADS * PIPE_TOPN_MAX];
  int n_timers;
  char timer_name[PIPE_MAX_TIMERS][112];
  double timer_s[PIPE_MAX_TIMERS];
  double timer_cpu[PIPE_MAX_TIMERS];   /* CPU seconds (this process and its waited-for workers) */
  double cpu_mark;
  int timer_cached[PIPE_MAX_TIMERS];
  /* the task list (pipe_run.c) */
  struct pipe_tasklist *tasks;
  int y_last;                          /* the last scored year */
  int bt_workers;                      /* optimizer.workers; 1 when tasks run in workers or ranks */
  int mpi_rank;
  /* scores handed over in memory by the tasks that ran in this process: a score stage's values as written
   * (before keep_backtest), per dataset and head, and each head's combination */
  double *raw[PIPE_MAX_DATASETS][PIPE_N_HEADS];
  double *comb_raw[PIPE_N_HEADS];
} pipe_ctx;

uint64_t pipe_market_config_hash(const pipe_config *c);
/* The universe keys of a configuration ([universe]). */
panel_universe_opts pipe_universe(const pipe_config *c);
void pipe_stage_dir(const char *out, const char *name, uint64_t h, char *buf, size_t n);
int pipe_stage_done(const char *dir);
int pipe_stage_mark(const char *dir, const char *what, zz_err *err);
/* Writes dir/name (one line, what) atomically: the completion marker of a task (DONE is the stage's). */
int pipe_file_mark(const char *dir, const char *name, const char *what, zz_err *err);
int pipe_file_exists(const char *dir, const char *name);
double pipe_now(void);
/* Records a stage's wall time; its CPU time is the CPU used since the previous record. */
void pipe_timer_add(pipe_ctx *x, const char *name, double seconds, int cached);

/* The training options of head `head` with dataset `dataset` from the [model] and [universe] keys (the pipeline's
 * training stage and the study use the same). */
int pipe_train_opts(const pipe_config *c, int head, const char *dataset, train_opts *o, zz_err *err);
/* The cache hash of one study setting (pipe_study.c): the [model] keys (not heads, seeds, datasets), [universe], the
 * market's hash, the year, head and dataset. */
uint64_t pipe_study_hash(const pipe_config *c, uint64_t market_hash, int year, int head, const char *dataset);

/* The closed-loop backtests whose stage is missing (pipe_backtest.c). */
int pipe_backtests(pipe_ctx *x, const int *todo, int n_todo, zz_err *err);
/* The simulator's configuration of a run's backtest on `index` (-1: none) ending on `end` (0: the
 * market's end) (pipe_config.c). */
struct sim_config;
void pipe_sim_config(const pipe_config *c, int index, int32_t end, struct sim_config *sc);
/* A backtest's diagnostics.csv: rows appended (without the header) to f, summary into *d. */
typedef struct pipe_diag_sum {
  int rebalances, relaxed, gap_status, held, repaired, retried, carried_weeks;
  double max_te, mean_turnover, min_constituent;
  double cov_universe, cov_bench; /* mean industry coverage: share of universe / benchmark classified */
  double mean_realised, max_realised; /* realised one-way turnover of the non-exempt rebalances */
  int over_cap, over_cap_named;       /* rebalances above turnover_max + 0.5 pt; those with a named cause */
  double mean_cash;                   /* mean cash weight right after the rebalances */
  double opt_seconds, mean_rounds;    /* optimiser wall seconds (all solved weeks), cutting-plane rounds */
  int warm;                           /* solved weeks that started warm from the week before */
} pipe_diag_sum;
int pipe_diag_copy(const char *dir, FILE *f, pipe_diag_sum *d, zz_err *err);
extern const char *const pipe_diag_header;
/* The report's factor-unit section for the multivariate head (pipe_units.c): md and HTML, CSVs in report_dir. */
struct rep_html;
int pipe_units_section(pipe_ctx *x, FILE *md, struct rep_html *h, zz_err *err);
/* The top-N runs of every head (topn.enabled; cached stages topn-<head>-top<N>-<hash>) (pipe_topn.c). */
int pipe_topn_stage(pipe_ctx *x, zz_err *err);
/* The report directory (pipe_report.c). */
int pipe_report(pipe_ctx *x, zz_err *err);

/* ---------------------------------------------------------------- task lists (pipe_sched.c, pipe_mpi.c)
 * A sweep is a list of independent tasks in dependency order (a task's dependencies have smaller ids), each
 * with the stage directory it writes. The schedulers run a list serially, over a pool of forked worker
 * processes (--jobs) or over MPI ranks (--mpi); the caller's ops say whether a task is done and run one. */
typedef struct pipe_task {
  char kind[16];       /* "train", "gather", "scores", ... */
  char name[112];      /* "train univariate Y2019 seed0": the task in messages and --plan */
  char group[112];     /* the timings.csv row its wall time adds to */
  char dir[PIPE_PATH]; /* the stage directory it writes */
  char files[64];      /* the files of dir it owns: names starting with this ("" = the whole directory) */
  int local;           /* 1: runs in the scheduling process (cheap, or needs that process's memory) */
  int batch;           /* 1: the serial scheduler hands ready tasks of one kind together to ops->run_batch */
  int a, b, c, d;      /* the caller's indices */
  int dep0, n_deps;    /* its dependencies: deps[dep0 .. dep0 + n_deps - 1] */
} pipe_task;
typedef struct pipe_tasklist {
  int n, cap;
  pipe_task *t;
  int n_deps, cap_deps;
  int *deps;
} pipe_tasklist;
/* Appends a task (deps: ids of earlier tasks); returns its id, or -1 without memory. */
int pipe_tasks_add(pipe_tasklist *tl, const pipe_task *t, const int *deps, int n_deps);
void pipe_tasks_free(pipe_tasklist *tl);
/* --plan: one line a task, "id kind name dir deps=i,j inputs=h1,h2" (dir relative to out; the input stages'
 * hashes; "-" when none). */
void pipe_tasks_plan(const pipe_tasklist *tl, const char *out, FILE *f);
typedef struct pipe_task_ops {
  void *ctx;
  int (*done)(void *ctx, const pipe_task *t);                         /* its outputs exist */
  int (*run)(void *ctx, int id, const pipe_task *t, zz_err *err);     /* runs it in this process */
  int (*run_batch)(void *ctx, const int *ids, int n, zz_err *err);    /* optional: several tasks of one kind */
  void (*timer)(void *ctx, const char *group, double seconds, int cached);
  void (*before_fork)(void *ctx);                                     /* optional: e.g. drop memory handoffs */
} pipe_task_ops;
/* Runs the tasks first..last (inclusive; -1,-1: all) that are not done (force: all of them), each after its
 * dependencies. A dependency outside the range must be done already (else ZZ_EUSAGE naming both). jobs <= 1: in
 * this process, in id order; jobs >= 2: non-local tasks each in a forked worker process, at most jobs at a time;
 * a worker killed by a signal has its task rerun (at most `retries` times), one that exits with an error fails
 * the sweep (after the running workers finish). */
typedef struct pipe_sched_opts {
  int first, last, jobs, force, retries, verbose;
} pipe_sched_opts;
int pipe_sched_run(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, zz_err *err);
/* For the schedulers: the state of each task (PIPE_ST_*) for a run of so->first..last, ZZ_EUSAGE when a dependency
 * outside the range is not done; whether task i is pending with every dependency done; the serial run. */
enum { PIPE_ST_SKIP = 0, PIPE_ST_PENDING = 1, PIPE_ST_RUNNING = 2, PIPE_ST_DONE = 3 };
int pipe_sched_states(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, int *st,
                      int *n_todo, zz_err *err);
int pipe_task_ready(const pipe_tasklist *tl, const int *st, int i);
/* Runs on this process every local task (gather, top-N, report) that is ready, and those that become ready by
 * it, marking each done in st. */
int pipe_sched_local(const pipe_tasklist *tl, const pipe_task_ops *ops, int *st, zz_err *err);
int pipe_sched_serial(const pipe_tasklist *tl, const pipe_task_ops *ops, int *st, int verbose, zz_err *err);

/* MPI (pipe_mpi.c; without MPI in the build these refuse with ZZ_EUSAGE "this build has no MPI"). init: MPI_Init
 * and the rank and size; sched: rank 0 hands the tasks out dynamically in dependency order and runs the local ones,
 * the other ranks run what they are sent until told to stop; every rank returns the sweep's result. gather_out (NULL:
 * the output directory is shared by every rank) is this rank's output directory under --mpi-gather: rank 0 sends
 * each task the stages it needs and receives its output stage into the cache. */
int pipe_mpi_init(int *rank, int *size, zz_err *err);
int pipe_mpi_barrier_rc(int rc);   /* the largest rc over the ranks (an error anywhere stops every rank) */
int pipe_mpi_sched(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, const char *gather_out,
                   zz_err *err);
void pipe_mpi_finish(void);

#endif
