/* pipe_mpi.c — the MPI driver of a sweep (--mpi): rank 0 hands the tasks of a task list out dynamically in
 * dependency order (one task id per idle rank) and runs the local ones itself; the other ranks run the tasks they
 * are sent with the same task runner as every other scheduler and report back. Outputs go to the stage cache,
 * a directory every rank sees. The only file of the program that includes mpi.h; without MPI in the build
 * (ZZ_HAVE_MPI undefined) its functions refuse. docs/distributed.md. */
#include "pipe_internal.h"

#include <stdlib.h>
#include <string.h>

#ifndef ZZ_HAVE_MPI

int pipe_have_mpi(void) { return 0; }
int pipe_mpi_init(int *rank, int *size, zz_err *err) {
  *rank = 0, *size = 1;
  return zz_fail(err, ZZ_EUSAGE, "--mpi: this build of zhizeng has no MPI (install an MPI implementation, e.g. "
                                 "Debian's libopenmpi-dev, and configure again)");
}
int pipe_mpi_barrier_rc(int rc) { return rc; }
int pipe_mpi_sched(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, int gather,
                   zz_err *err) {
  (void)tl, (void)ops, (void)so, (void)gather;
  return zz_fail(err, ZZ_EUSAGE, "--mpi: this build of zhizeng has no MPI");
}
void pipe_mpi_finish(void) {}

#else

#include <mpi.h>

enum { TAG_TASK = 1, TAG_RESULT = 2, TAG_MSG = 3 };

int pipe_have_mpi(void) { return 1; }

int pipe_mpi_init(int *rank, int *size, zz_err *err) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS) return zz_fail(err, ZZ_EINTERNAL, "MPI_Init failed");
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return ZZ_OK;
}

int pipe_mpi_barrier_rc(int rc) {
  int all = rc;
  MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return all;
}

void pipe_mpi_finish(void) {
  int inited = 0, fin = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&fin);
  if (inited && !fin) MPI_Finalize();
}

/* A rank other than 0: run the tasks sent until the id -1 comes. */
static int serve(const pipe_tasklist *tl, const pipe_task_ops *ops, int rank, int verbose) {
  for (;;) {
    int id = -1;
    MPI_Recv(&id, 1, MPI_INT, 0, TAG_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (id < 0 || id >= tl->n) break;
    zz_err e = {0};
    const double t0 = pipe_now();
    const int r = ops->run(ops->ctx, id, &tl->t[id], &e);
    if (verbose) fprintf(stderr, "[rank %d] task %d ran in %.3f s\n", rank, id, pipe_now() - t0);
    if (r) fprintf(stderr, "[rank %d] task %d (%s): %s\n", rank, id, tl->t[id].name, e.msg);
    int res[2] = {id, r};
    MPI_Send(res, 2, MPI_INT, 0, TAG_RESULT, MPI_COMM_WORLD);
    MPI_Send(e.msg, (int)sizeof e.msg, MPI_CHAR, 0, TAG_MSG, MPI_COMM_WORLD);
  }
  return ZZ_OK;
}

int pipe_mpi_sched(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, int gather,
                   zz_err *err) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (gather) return zz_fail(err, ZZ_EUSAGE, "--mpi-gather is not implemented");
  if (rank) return serve(tl, ops, rank, so->verbose);
  int *st = calloc((size_t)tl->n + 1, sizeof *st), *busy = malloc(sizeof *busy * (size_t)size);
  double *start = calloc((size_t)size, sizeof *start);
  if (!st || !busy || !start) {
    free(st), free(busy), free(start);
    return zz_fail(err, ZZ_ENOMEM, "out of memory");
  }
  int n_todo = 0, rc = pipe_sched_states(tl, ops, so, st, &n_todo, err);
  if (!rc) fprintf(stderr, "[sched] %d task(s) of %d to run on %d MPI rank(s)\n", n_todo, tl->n, size);
  if (!rc && size == 1) rc = pipe_sched_serial(tl, ops, st, so->verbose, err);
  else if (!rc) {
    int n_busy = 0;
    for (int r = 0; r < size; r++) busy[r] = -1;
    for (;;) {
      int progressed = 1;
      while (!rc && progressed) { /* local tasks run here, on rank 0 */
        progressed = 0;
        for (int i = 0; i < tl->n && !rc; i++)
          if (tl->t[i].local && pipe_task_ready(tl, st, i)) {
            const double t0 = pipe_now();
            rc = ops->run(ops->ctx, i, &tl->t[i], err);
            if (!rc) st[i] = PIPE_ST_DONE, progressed = 1;
            if (ops->timer) ops->timer(ops->ctx, tl->t[i].group, pipe_now() - t0, 0);
          }
      }
      for (int r = 1; r < size && !rc; r++) {
        if (busy[r] >= 0) continue;
        int i = 0;
        while (i < tl->n && (tl->t[i].local || !pipe_task_ready(tl, st, i))) i++;
        if (i == tl->n) break;
        MPI_Send(&i, 1, MPI_INT, r, TAG_TASK, MPI_COMM_WORLD);
        if (so->verbose) fprintf(stderr, "[sched] task %d (%s) sent to rank %d\n", i, tl->t[i].name, r);
        st[i] = PIPE_ST_RUNNING, busy[r] = i, start[r] = pipe_now(), n_busy++;
      }
      if (!n_busy) break;
      int res[2];
      MPI_Status ms;
      char msg[sizeof err->msg];
      MPI_Recv(res, 2, MPI_INT, MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &ms);
      MPI_Recv(msg, (int)sizeof msg, MPI_CHAR, ms.MPI_SOURCE, TAG_MSG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      msg[sizeof msg - 1] = 0;
      const int r = ms.MPI_SOURCE, i = res[0];
      if (i < 0 || i >= tl->n || busy[r] != i) {
        if (!rc) rc = zz_fail(err, ZZ_EINTERNAL, "rank %d reported task %d, which it was not running", r, i);
        continue;
      }
      busy[r] = -1, n_busy--;
      if (so->verbose) fprintf(stderr, "[sched] task %d done on rank %d after %.3f s\n", i, r, pipe_now() - start[r]);
      if (ops->timer) ops->timer(ops->ctx, tl->t[i].group, pipe_now() - start[r], 0);
      if (!res[1] && ops->done(ops->ctx, &tl->t[i])) st[i] = PIPE_ST_DONE;
      else if (!rc) {
        rc = res[1] ? zz_fail(err, res[1] <= 6 ? res[1] : ZZ_EINTERNAL, "task %d (%s) failed on rank %d: %s", i,
                              tl->t[i].name, r, msg)
                    : zz_fail(err, ZZ_EIO, "task %d (%s) on rank %d: its output is not in %s (is the output "
                                           "directory shared by every rank?)",
                              i, tl->t[i].name, r, tl->t[i].dir);
      }
    }
  }
  /* every other rank stops, also after an error */
  for (int r = 1; r < size; r++) {
    int stop = -1;
    MPI_Send(&stop, 1, MPI_INT, r, TAG_TASK, MPI_COMM_WORLD);
  }
  free(st), free(busy), free(start);
  return rc;
}

#endif
