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
int pipe_mpi_sched(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, const char *gather_out,
                   zz_err *err) {
  (void)tl, (void)ops, (void)so, (void)gather_out;
  return zz_fail(err, ZZ_EUSAGE, "--mpi: this build of zhizeng has no MPI");
}
void pipe_mpi_finish(void) {}

#else

#include <mpi.h>

#include <dirent.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

enum { TAG_TASK = 1, TAG_RESULT = 2, TAG_MSG = 3, TAG_FILES = 4 };

/* A blocking receive that sleeps while it waits: Open MPI's MPI_Recv polls at full speed, so rank 0 waiting out a
 * whole sweep (and a rank waiting for its next task) would take a core from the ranks that train on its node.
 * Polling every millisecond costs at most a millisecond a task. */
static void recv_idle(void *buf, int count, MPI_Datatype type, int src, int tag, MPI_Status *st) {
  MPI_Request rq;
  MPI_Irecv(buf, count, type, src, tag, MPI_COMM_WORLD, &rq);
  const struct timespec ms = {0, 1000000};
  for (int done = 0;;) {
    MPI_Test(&rq, &done, st);
    if (done) break;
    nanosleep(&ms, NULL);
  }
}

/* ---------------------------------------------------------------- --mpi-gather: stage files as messages
 * A directory's files travel as: the number of files, then per file its name relative to the output directory
 * (char[PIPE_PATH]), its size (int64) and its bytes (in chunks of at most 1 GiB). The markers (DONE, *.done) go
 * last, and the receiver writes each file to a temporary name renamed into place, so a stage is never marked done
 * before its files are there. */
#define CHUNK (1 << 30)

static int is_marker(const char *n) {
  const size_t l = strlen(n);
  return !strcmp(n, "DONE") || (l > 5 && !strcmp(n + l - 5, ".done"));
}

static int cmp_files(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  const int mx = is_marker(x), my = is_marker(y);
  return mx != my ? mx - my : strcmp(x, y);
}

/* Sends the files of dir whose names start with prefix (""/NULL: all) to rank dest. */
static int send_dir(const char *out, const char *dir, const char *prefix, int dest, zz_err *err) {
  const size_t ol = strlen(out), pl = prefix ? strlen(prefix) : 0;
  char **names = NULL;
  int n = 0, cap = 0, rc = ZZ_OK;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)) && !rc) {
    if (e->d_name[0] == '.' || (pl && strncmp(e->d_name, prefix, pl)) || strstr(e->d_name, ".tmp")) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 32;
      char **nn = realloc(names, sizeof *nn * (size_t)cap);
      if (!nn) rc = zz_fail(err, ZZ_ENOMEM, "out of memory");
      else names = nn;
    }
    if (!rc && !(names[n++] = strdup(e->d_name))) rc = zz_fail(err, ZZ_ENOMEM, "out of memory"), n--;
  }
  if (d) closedir(d);
  if (!rc && n) qsort(names, (size_t)n, sizeof *names, cmp_files);
  const int count = rc ? 0 : n;
  MPI_Send(&count, 1, MPI_INT, dest, TAG_FILES, MPI_COMM_WORLD);
  for (int k = 0; k < count; k++) {
    char path[PIPE_PATH + 300], rel[PIPE_PATH];
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    memset(rel, 0, sizeof rel);
    snprintf(rel, sizeof rel, "%s/%s", strncmp(dir, out, ol) ? dir : dir + ol + 1, names[k]);
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    int64_t size = 0;
    if (f && !fseek(f, 0, SEEK_END)) size = ftell(f);
    if (f && size >= 0 && !fseek(f, 0, SEEK_SET) && (buf = malloc((size_t)size + 1)) &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
    } else {
      if (!rc) rc = zz_fail(err, ZZ_EIO, "%s: cannot read (to send it to rank %d)", path, dest);
      size = -1; /* the receiver stops with an error */
    }
    if (f) fclose(f);
    MPI_Send(rel, (int)sizeof rel, MPI_CHAR, dest, TAG_FILES, MPI_COMM_WORLD);
    MPI_Send(&size, 1, MPI_INT64_T, dest, TAG_FILES, MPI_COMM_WORLD);
    for (int64_t at = 0; at < size; at += CHUNK) {
      const int m = (int)(size - at < CHUNK ? size - at : CHUNK);
      MPI_Send(buf + at, m, MPI_BYTE, dest, TAG_FILES, MPI_COMM_WORLD);
    }
    free(buf);
  }
  for (int k = 0; k < n; k++) free(names[k]);
  free(names);
  return rc;
}

/* Receives what send_dir sent from rank src into out/<relative name> (temporary file, then rename). */
static int recv_dir(const char *out, int src, zz_err *err) {
  int count = 0, rc = ZZ_OK;
  MPI_Recv(&count, 1, MPI_INT, src, TAG_FILES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  for (int k = 0; k < count; k++) {
    char rel[PIPE_PATH], path[2 * PIPE_PATH + 8], tmp[2 * PIPE_PATH + 16];
    int64_t size = 0;
    MPI_Recv(rel, (int)sizeof rel, MPI_CHAR, src, TAG_FILES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    rel[sizeof rel - 1] = 0;
    MPI_Recv(&size, 1, MPI_INT64_T, src, TAG_FILES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    unsigned char *buf = size > 0 ? malloc((size_t)size) : NULL;
    for (int64_t at = 0; at < size; at += CHUNK) {
      const int m = (int)(size - at < CHUNK ? size - at : CHUNK);
      if (buf) MPI_Recv(buf + at, m, MPI_BYTE, src, TAG_FILES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      else { /* no memory: drain the message, fail below */
        unsigned char one[1];
        MPI_Status st;
        MPI_Probe(src, TAG_FILES, MPI_COMM_WORLD, &st);
        int got = 0;
        MPI_Get_count(&st, MPI_BYTE, &got);
        unsigned char *sink = malloc((size_t)got + 1);
        MPI_Recv(sink ? sink : one, sink ? got : 0, MPI_BYTE, src, TAG_FILES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        free(sink);
      }
    }
    if (rc) {
      free(buf);
      continue;
    }
    if (size < 0 || strstr(rel, "..") || rel[0] == '/') {
      rc = zz_fail(err, ZZ_EIO, "rank %d could not send %s", src, rel);
    } else if (size > 0 && !buf) {
      rc = zz_fail(err, ZZ_ENOMEM, "out of memory for %s from rank %d", rel, src);
    } else {
      snprintf(path, sizeof path, "%s/%s", out, rel);
      char dir[sizeof path];
      snprintf(dir, sizeof dir, "%s", path);
      char *slash = strrchr(dir, '/');
      if (slash) *slash = 0;
      snprintf(tmp, sizeof tmp, "%s.tmp", path);
      if (!(rc = zz_mkdir_p(dir, err))) {
        FILE *f = fopen(tmp, "wb");
        int bad = !f;
        if (f) {
          if (size && fwrite(buf, 1, (size_t)size, f) != (size_t)size) bad = 1;
          if (fclose(f)) bad = 1;
        }
        if (bad || rename(tmp, path)) {
          remove(tmp);
          rc = zz_fail(err, ZZ_EIO, "%s: cannot write (received from rank %d)", path, src);
        }
      }
    }
    free(buf);
  }
  return rc;
}

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
static int serve(const pipe_tasklist *tl, const pipe_task_ops *ops, int rank, int verbose, const char *gather_out) {
  for (;;) {
    int id = -1;
    recv_idle(&id, 1, MPI_INT, 0, TAG_TASK, MPI_STATUS_IGNORE);
    if (id < 0 || id >= tl->n) break;
    zz_err e = {0};
    const double t0 = pipe_now();
    int r = ZZ_OK;
    if (gather_out) { /* the task's inputs (its dependencies' stages, its own checkpoint) from rank 0 */
      int n_dirs = 0;
      MPI_Recv(&n_dirs, 1, MPI_INT, 0, TAG_FILES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      for (int k = 0; k < n_dirs; k++) {
        zz_err e2 = {0};
        const int r2 = recv_dir(gather_out, 0, &e2);
        if (r2 && !r) r = r2, e = e2;
      }
    }
    if (!r) r = ops->run(ops->ctx, id, &tl->t[id], &e);
    if (verbose) fprintf(stderr, "[rank %d] task %d ran in %.3f s\n", rank, id, pipe_now() - t0);
    if (r) fprintf(stderr, "[rank %d] task %d (%s): %s\n", rank, id, tl->t[id].name, e.msg);
    int res[2] = {id, r};
    MPI_Send(res, 2, MPI_INT, 0, TAG_RESULT, MPI_COMM_WORLD);
    MPI_Send(e.msg, (int)sizeof e.msg, MPI_CHAR, 0, TAG_MSG, MPI_COMM_WORLD);
    if (gather_out) { /* its output back to rank 0 (none after a failure) */
      zz_err e2 = {0};
      if (r) {
        const int zero = 0;
        MPI_Send(&zero, 1, MPI_INT, 0, TAG_FILES, MPI_COMM_WORLD);
      } else if (send_dir(gather_out, tl->t[id].dir, tl->t[id].files, 0, &e2))
        fprintf(stderr, "[rank %d] task %d: %s\n", rank, id, e2.msg);
    }
  }
  return ZZ_OK;
}

/* --mpi-gather: the stages task i needs, to rank r: every dependency's directory and, for a training task, its own
 * files (an interrupted model's checkpoint). */
static int send_inputs(const pipe_tasklist *tl, int i, int r, const char *out, zz_err *err) {
  const pipe_task *t = &tl->t[i];
  const int n_dirs = t->n_deps + (t->files[0] ? 1 : 0);
  int rc = ZZ_OK;
  MPI_Send(&n_dirs, 1, MPI_INT, r, TAG_FILES, MPI_COMM_WORLD);
  for (int k = 0; k < t->n_deps; k++) {
    const pipe_task *d = &tl->t[tl->deps[t->dep0 + k]];
    const int r2 = send_dir(out, d->dir, d->files, r, err);
    if (!rc) rc = r2;
  }
  if (t->files[0]) {
    const int r2 = send_dir(out, t->dir, t->files, r, err);
    if (!rc) rc = r2;
  }
  return rc;
}

int pipe_mpi_sched(const pipe_tasklist *tl, const pipe_task_ops *ops, const pipe_sched_opts *so, const char *gather_out,
                   zz_err *err) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank) return serve(tl, ops, rank, so->verbose, gather_out);
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
      if (!rc) rc = pipe_sched_local(tl, ops, st, err); /* local tasks run here, on rank 0 */
      for (int r = 1; r < size && !rc; r++) {
        if (busy[r] >= 0) continue;
        int i = 0;
        while (i < tl->n && (tl->t[i].local || !pipe_task_ready(tl, st, i))) i++;
        if (i == tl->n) break;
        MPI_Send(&i, 1, MPI_INT, r, TAG_TASK, MPI_COMM_WORLD);
        if (gather_out) rc = send_inputs(tl, i, r, gather_out, err);
        if (so->verbose) fprintf(stderr, "[sched] task %d (%s) sent to rank %d\n", i, tl->t[i].name, r);
        st[i] = PIPE_ST_RUNNING, busy[r] = i, start[r] = pipe_now(), n_busy++;
      }
      if (!n_busy) break;
      int res[2];
      MPI_Status ms;
      char msg[sizeof err->msg];
      recv_idle(res, 2, MPI_INT, MPI_ANY_SOURCE, TAG_RESULT, &ms);
      MPI_Recv(msg, (int)sizeof msg, MPI_CHAR, ms.MPI_SOURCE, TAG_MSG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      msg[sizeof msg - 1] = 0;
      const int r = ms.MPI_SOURCE, i = res[0];
      if (gather_out) { /* the task's output stage into the cache */
        zz_err e2 = {0};
        const int r2 = recv_dir(gather_out, r, &e2);
        if (r2 && !rc) rc = r2, *err = e2;
      }
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
