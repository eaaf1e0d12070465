/* pipe_sched.c — a sweep's task list and its local schedulers: in this process in id order (the default), or
 * over a pool of forked worker processes (--jobs N) that reruns the task of a worker killed by a signal. The
 * MPI scheduler (pipe_mpi.c) runs the same lists. docs/distributed.md. */
#include "pipe_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int pipe_tasks_add(pipe_tasklist *tl, const pipe_task *t, const int *deps, int n_deps) {
  if (tl->n == tl->cap) {
    const int cap = tl->cap ? 2 * tl->cap : 64;
    pipe_task *nt = realloc(tl->t, sizeof *nt * (size_t)cap);
    if (!nt) return -1;
    tl->t = nt, tl->cap = cap;
  }
  if (tl->n_deps + n_deps > tl->cap_deps) {
    int cap = tl->cap_deps ? 2 * tl->cap_deps : 256;
    while (cap < tl->n_deps + n_deps) cap *= 2;
    int *nd = realloc(tl->deps, sizeof *nd * (size_t)cap);
    if (!nd) return -1;
    tl->deps = nd, tl->cap_deps = cap;
  }
  pipe_task *x = &tl->t[tl->n];
  *x = *t;
  x->dep0 = tl->n_deps, x->n_deps = n_deps;
  for (int k = 0; k < n_deps; k++) tl->deps[tl->n_deps++] = deps[k];
  return tl->n++;
}

void pipe_tasks_free(pipe_tasklist *tl) {
  free(tl->t), free(tl->deps);
  memset(tl, 0, sizeof *tl);
}

/* The 16 hex digits that end a stage directory's name, or NULL. */
static const char *stage_hash(const char *dir) {
  const size_t n = strlen(dir);
  if (n < 17 || dir[n - 17] != '-') return NULL;
  for (size_t k = n - 16; k < n; k++)
    if (!strchr("0123456789abcdef", dir[k])) return NULL;
  return dir + n - 16;
}

void pipe_tasks_plan(const pipe_tasklist *tl, const char *out, FILE *f) {
  const size_t ol = strlen(out);
  for (int i = 0; i < tl->n; i++) {
    const pipe_task *t = &tl->t[i];
    const char *dir = t->dir;
    if (!strncmp(dir, out, ol) && dir[ol] == '/') dir += ol + 1;
    /* the name without spaces (after the kind when it starts with it), so a line splits on blanks */
    char key[sizeof t->name];
    const size_t kl = strlen(t->kind);
    snprintf(key, sizeof key, "%s", !strncmp(t->name, t->kind, kl) && t->name[kl] == ' ' ? t->name + kl + 1 : t->name);
    for (char *q = key; *q; q++)
      if (*q == ' ') *q = '/';
    fprintf(f, "%d %s %s %s%s%s%s deps=", i, t->kind, key, *dir ? dir : "-", t->files[0] ? "/" : "", t->files,
            t->files[0] ? "*" : "");
    if (!t->n_deps) fputc('-', f);
    for (int k = 0; k < t->n_deps; k++) fprintf(f, "%s%d", k ? "," : "", tl->deps[t->dep0 + k]);
    /* the hashes of the input stages (the 16 hex digits ending a dependency's stage directory), each once */
    fputs(" inputs=", f);
    int n_in = 0;
    for (int k = 0; k < t->n_deps; k++) {
      const char *h = stage_hash(tl->t[tl->deps[t->dep0 + k]].dir);
      int seen = !h;
      for (int q = 0; q < k && !seen; q++) {
        const char *h2 = stage_hash(tl->t[tl->deps[t->dep0 + q]].dir);
        seen = h2 && !strncmp(h, h2, 16);
      }
      if (!seen) fprintf(f, "%s%.16s", n_in++ ? "," : "", h);
    }
    if (!n_in) fputc('-', f);
    fputc('\n', f);
  }
}

int pipe_tasks_parse_range(const char *s, int *first, int *last, zz_err *err) {
  char *end;
  errno = 0;
  long a = strtol(s, &end, 10), b = a;
  if (end == s || a < 0 || errno) return zz_fail(err, ZZ_EUSAGE, "--tasks '%s': expected A-B or A (task ids of --plan)", s);
  if (*end == '-') {
    const char *q = end + 1;
    b = strtol(q, &end, 10);
    if (end == q || b < a || errno) return zz_fail(err, ZZ_EUSAGE, "--tasks '%s': expected A-B with A <= B", s);
  }
  if (*end) return zz_fail(err, ZZ_EUSAGE, "--tasks '%s': expected A-B or A (task ids of --plan)", s);
  if (b > 1000000) return zz_fail(err, ZZ_EUSAGE, "--tasks '%s': id too large", s);
  *first = (int)a, *last = (int)b;
  return ZZ_OK;
}


/* The state of every task for a run of first..last; ZZ_EUSAGE when a dependency outside the range is not done. */
int pipe_sched_states(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, int *st,
                          int *n_todo, zz_err *err) {
  int first = so->first < 0 ? 0 : so->first, last = so->last < 0 ? tl->n - 1 : so->last;
  if (first >= tl->n) return zz_fail(err, ZZ_EUSAGE, "--tasks: the plan has tasks 0-%d only", tl->n - 1);
  if (last >= tl->n) last = tl->n - 1;
  *n_todo = 0;
  for (int i = 0; i < tl->n; i++) {
    const int in = i >= first && i <= last;
    if (in) st[i] = !so->force && ops->done(ops->ctx, &tl->t[i]) ? PIPE_ST_DONE : PIPE_ST_PENDING;
    else st[i] = PIPE_ST_SKIP;
    if (st[i] == PIPE_ST_PENDING) (*n_todo)++;
  }
  for (int i = first; i <= last; i++) {
    if (st[i] != PIPE_ST_PENDING) continue;
    const pipe_task *t = &tl->t[i];
    for (int k = 0; k < t->n_deps; k++) {
      const int j = tl->deps[t->dep0 + k];
      if (st[j] == PIPE_ST_SKIP) {
        if (ops->done(ops->ctx, &tl->t[j])) st[j] = PIPE_ST_DONE;
        else
          return zz_fail(err, ZZ_EUSAGE,
                         "--tasks %d-%d: task %d (%s) needs task %d (%s), which is outside the range and not done "
                         "yet: run it first",
                         first, last, i, t->name, j, tl->t[j].name);
      }
    }
  }
  if (ops->timer)
    for (int i = first; i <= last; i++)
      if (st[i] == PIPE_ST_DONE) ops->timer(ops->ctx, tl->t[i].group, 0, 1);
  return ZZ_OK;
}

int pipe_task_ready(const pipe_tasklist *tl, const int *st, int i) {
  if (st[i] != PIPE_ST_PENDING) return 0;
  const pipe_task *t = &tl->t[i];
  for (int k = 0; k < t->n_deps; k++)
    if (st[tl->deps[t->dep0 + k]] != PIPE_ST_DONE) return 0;
  return 1;
}

/* In this process, in id order; ready tasks marked batch of one kind go together to run_batch. */
int pipe_sched_local(const pipe_tasklist *tl, const pipe_task_ops *ops, int *st, zz_err *err) {
  int rc = ZZ_OK, progressed = 1;
  while (!rc && progressed) {
    progressed = 0;
    for (int i = 0; i < tl->n && !rc; i++)
      if (tl->t[i].local && pipe_task_ready(tl, st, i)) {
        const double t0 = pipe_now();
        rc = ops->run(ops->ctx, i, &tl->t[i], err);
        if (!rc) st[i] = PIPE_ST_DONE, progressed = 1;
        if (ops->timer) ops->timer(ops->ctx, tl->t[i].group, pipe_now() - t0, 0);
      }
  }
  return rc;
}

int pipe_sched_serial(const pipe_tasklist *tl, const pipe_task_ops *ops, int *st, int verbose, zz_err *err) {
  int *ids = malloc(sizeof *ids * (size_t)(tl->n + 1));
  if (!ids) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  int rc = ZZ_OK;
  for (int i = 0; i < tl->n && !rc; i++) {
    if (st[i] != PIPE_ST_PENDING) continue;
    const pipe_task *t = &tl->t[i];
    const double t0 = pipe_now();
    if (t->batch && ops->run_batch) {
      int n = 0;
      for (int j = i; j < tl->n; j++)
        if (tl->t[j].batch && !strcmp(tl->t[j].kind, t->kind) && pipe_task_ready(tl, st, j)) ids[n++] = j;
      rc = ops->run_batch(ops->ctx, ids, n, err);
      for (int k = 0; k < n && !rc; k++) st[ids[k]] = PIPE_ST_DONE;
    } else {
      rc = ops->run(ops->ctx, i, t, err);
      if (!rc) st[i] = PIPE_ST_DONE;
      if (verbose) fprintf(stderr, "[task %d] ran in %.3f s\n", i, pipe_now() - t0);
    }
    if (ops->timer) ops->timer(ops->ctx, t->group, pipe_now() - t0, 0);
  }
  free(ids);
  return rc;
}

/* Over worker processes: one fork per task, at most jobs running; local tasks in this process between. */
static int run_pool(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, int *st,
                    zz_err *err) {
  pid_t *pid = calloc((size_t)tl->n + 1, sizeof *pid);
  int *tries = calloc((size_t)tl->n + 1, sizeof *tries);
  double *start = calloc((size_t)tl->n + 1, sizeof *start);
  if (!pid || !tries || !start) {
    free(pid), free(tries), free(start);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  int rc = ZZ_OK, running = 0;
  for (;;) {
    /* local tasks that are ready run here, then start workers for the ready non-local ones */
    if (!rc) rc = pipe_sched_local(tl, ops, st, err);
    for (int i = 0; i < tl->n && !rc && running < so->jobs; i++) {
      if (tl->t[i].local || !pipe_task_ready(tl, st, i)) continue;
      if (ops->before_fork) ops->before_fork(ops->ctx);
      fflush(stdout), fflush(stderr);
      const pid_t p = fork();
      if (p < 0) {
        rc = zz_fail(err, ZZ_EINTERNAL, "cannot start a worker process for task %d (%s)", i, tl->t[i].name);
        break;
      }
      if (p == 0) {
        zz_err e = {0};
        const double t0 = pipe_now();
        const int r = ops->run(ops->ctx, i, &tl->t[i], &e);
        if (so->verbose) fprintf(stderr, "[task %d] ran in %.3f s\n", i, pipe_now() - t0);
        if (r) fprintf(stderr, "[task %d] %s: %s\n", i, tl->t[i].name, e.msg);
        fflush(stdout), fflush(stderr);
        _exit(r ? (r & 0x7f) : 0);
      }
      if (so->verbose) fprintf(stderr, "[sched] task %d (%s) started in worker %d\n", i, tl->t[i].name, (int)p);
      pid[i] = p, st[i] = PIPE_ST_RUNNING, start[i] = pipe_now(), running++;
    }
    if (!running) break;
    int ws = 0;
    const pid_t p = waitpid(-1, &ws, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      if (!rc) rc = zz_fail(err, ZZ_EINTERNAL, "waiting for the worker processes failed");
      break;
    }
    int i = -1;
    for (int k = 0; k < tl->n && i < 0; k++)
      if (st[k] == PIPE_ST_RUNNING && pid[k] == p) i = k;
    if (i < 0) continue; /* not ours */
    running--;
    if (so->verbose) fprintf(stderr, "[sched] task %d done in worker %d after %.3f s\n", i, (int)p, pipe_now() - start[i]);
    if (ops->timer) ops->timer(ops->ctx, tl->t[i].group, pipe_now() - start[i], 0);
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && ops->done(ops->ctx, &tl->t[i])) {
      st[i] = PIPE_ST_DONE;
    } else if (WIFSIGNALED(ws) && tries[i] < so->retries) {
      tries[i]++;
      st[i] = PIPE_ST_PENDING;
      fprintf(stderr, "[sched] the worker of task %d (%s) was killed by signal %d: running it again (%d/%d)\n", i,
              tl->t[i].name, WTERMSIG(ws), tries[i], so->retries);
    } else {
      st[i] = PIPE_ST_PENDING;
      if (!rc) {
        if (WIFSIGNALED(ws))
          rc = zz_fail(err, ZZ_EINTERNAL, "task %d (%s): its worker was killed by signal %d %d times", i,
                       tl->t[i].name, WTERMSIG(ws), tries[i] + 1);
        else if (WIFEXITED(ws) && WEXITSTATUS(ws))
          rc = zz_fail(err, WEXITSTATUS(ws) <= 6 ? WEXITSTATUS(ws) : ZZ_EINTERNAL,
                       "task %d (%s) failed (its message is above)", i, tl->t[i].name);
        else
          rc = zz_fail(err, ZZ_EINTERNAL, "task %d (%s): its worker ended without its output", i, tl->t[i].name);
      }
    }
    if (rc && !running) break;
  }
  free(pid), free(tries), free(start);
  return rc;
}

int pipe_sched_run(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, zz_err *err) {
  int *st = calloc((size_t)tl->n + 1, sizeof *st);
  if (!st) return zz_fail(err, ZZ_ENOMEM, "out of memory");
  int n_todo = 0;
  int rc = pipe_sched_states(tl, ops, so, st, &n_todo, err);
  if (!rc) {
    fprintf(stderr, "[sched] %d task(s) of %d to run%s\n", n_todo, tl->n,
            so->jobs >= 2 ? " on a pool of worker processes" : "");
    if (so->jobs >= 2) rc = run_pool(tl, ops, so, st, err);
    else rc = pipe_sched_serial(tl, ops, st, so->verbose, err);
  }
  free(st);
  return rc;
}
