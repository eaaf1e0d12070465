#!/usr/bin/env python3
"""bench_sweep.py — scaling of a training sweep over worker processes (--jobs) and MPI ranks (--mpi)
(docs/distributed.md, "Scaling measured").

A synthetic market (zhizeng synth) and one training sweep: the univariate head with the reference's network
(GRU, 64 hidden units, 40-day windows, 2 threads a step unless --threads), SEEDS seeds of one scored year, a
fixed number of epochs (patience = epochs: no early stop, so every task does the same work), one year of
training, every DAY_STRIDE-th day. Only the sweep's
training tasks and their gather run (--tasks 0-G of --plan), each time into a fresh output directory, with
--jobs N for each N of --jobs and under `mpirun -n R` for each R of --ranks (R = 1: rank 0 runs every task; R >= 2:
rank 0 schedules, R - 1 ranks train). Per run it prints:
  wall          seconds of the whole command (start-up, market load on every rank, the tasks, the end)
  tasks         training tasks run, and their mean seconds as the process running them measured them
  sum           their sum
  dispatch      per task, the scheduler's time from handing a task out to receiving its result minus the task's
                own time: messages, fork/waitpid, the scheduler's loop (the scheduling overhead per task)
  overhead      per task, (wall x workers - sum) / tasks: everything that is not training, start-up and idle
                workers at the end of the sweep included
  speed-up      the wall of --jobs 1 over this run's
More workers than cores (oversubscribed) show the overhead, not a speed-up. One training step of the model also
gives the seconds per stock-day-epoch used for the protocol's expected wall time (docs/distributed.md).
usage: bench_sweep.py --zhizeng BIN --work DIR [--jobs 1,2,4] [--ranks 1,2,4] [--seeds 4] [--stocks 1900]
                      [--epochs 2] [--threads 1] [--day-stride 5] [--mpiexec mpirun]
"""
import argparse, os, re, shutil, statistics, subprocess, sys, time

CONFIG = """[market]
dir = {market}
[model]
heads = univariate
seeds = {seeds}
epochs = {epochs}
patience = {epochs}
train_years = 1
day_stride = {stride}
threads = {threads}
[backtest]
first_year = 2019
last_year = 2019
[optimizer]
indices = csi300
floors = 0
[output]
dir = {out}
"""


def sh(cmd, env=None):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    wall = time.monotonic() - t0
    if r.returncode:
        print(r.stdout[-4000:])
        sys.exit(f"bench_sweep: {' '.join(cmd)} exited {r.returncode}")
    return r.stdout, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--jobs", default="1,2,4")
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--stocks", type=int, default=1900)
    ap.add_argument("--day-stride", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mpiexec", default=shutil.which("mpirun") or "")
    a = ap.parse_args()
    zz = os.path.abspath(a.zhizeng)
    os.makedirs(a.work, exist_ok=True)
    market = os.path.join(a.work, "market")
    if not os.path.isfile(os.path.join(market, "bars.csv")):
        sh([zz, "synth", "--out", market, "--stocks", str(a.stocks), "--start", "2017-01-01", "--end", "2019-12-31",
            "--seed", "5"])
    runs = [("jobs", int(n)) for n in a.jobs.split(",") if n] + [("mpi", int(r)) for r in a.ranks.split(",") if r]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    print(f"sweep: univariate head, {a.seeds} seeds of 2019, {a.epochs} epochs, {a.stocks} stocks, every "
          f"{a.day_stride}th day, model.threads {a.threads}; {os.cpu_count()} cores")
    print(f"{'run':>10} {'wall s':>8} {'tasks':>5} {'mean s':>8} {'sum s':>8} {'dispatch s':>10} {'overhead s':>10} "
          f"{'speed-up':>8}")
    base = None
    for kind, n in runs:
        if kind == "mpi" and not a.mpiexec:
            print(f"{'mpi ' + str(n):>10}  skipped: no mpirun")
            continue
        out = os.path.join(a.work, f"{kind}{n}")
        if os.path.isdir(out):
            shutil.rmtree(out)
        cfg = out + ".ini"
        with open(cfg, "w") as f:
            f.write(CONFIG.format(market=market, out=out, seeds=a.seeds, epochs=a.epochs, threads=a.threads,
                                    stride=a.day_stride))
        plan, _ = sh([zz, "run", cfg, "--plan"])
        ids = [int(l.split()[0]) for l in plan.splitlines() if re.match(r"\d+ (train|gather) ", l)]
        rng = f"0-{max(ids)}"
        shutil.rmtree(out)
        cmd = [zz, "run", cfg, "--tasks", rng, "--verbose", "--no-progress"]
        if kind == "jobs":
            cmd += ["--jobs", str(n)]
        else:
            cmd = [a.mpiexec, "-n", str(n), "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else []) \
                + cmd + ["--mpi"]
        log, wall = sh(cmd, env=env)
        own = {int(m.group(1) or m.group(2)): float(m.group(3))
               for m in re.finditer(r"(?:\[task (\d+)\]|\[rank \d+\] task (\d+)) ran in ([\d.]+) s", log)}
        seen = {int(m.group(1)): float(m.group(2))
                for m in re.finditer(r"\[sched\] task (\d+) done (?:on rank \d+|in worker \d+) after ([\d.]+) s", log)}
        train = [i for i in own if re.search(rf"^{i} train ", plan, re.M)]
        s = sum(own[i] for i in train)
        workers = n if kind == "jobs" else max(1, n - 1)
        disp = [seen[i] - own[i] for i in train if i in seen]
        d = f"{statistics.mean(disp):.4f}" if disp else "-"
        over = (wall * min(workers, len(train)) - s) / max(1, len(train))
        if base is None and kind == "jobs" and n == 1:
            base = wall
        sp = f"{base / wall:.2f}" if base else "-"
        print(f"{kind + ' ' + str(n):>10} {wall:8.1f} {len(train):5d} {s / max(1, len(train)):8.2f} {s:8.1f} {d:>10} "
              f"{over:10.2f} {sp:>8}")


if __name__ == "__main__":
    main()
