#!/usr/bin/env python3
"""Sweeps beyond one process (issue 17, docs/distributed.md): the task list of `zhizeng run`, --tasks, the --jobs
pool and the MPI driver, on a small configuration (two heads, two seeds: 4 training tasks) over the pipeline
tests' market (pipeline_setup).

  setup     the reference: `zhizeng run` in one process (the default scheduler)
  plan      --plan lists every task exactly once, ids 0..n-1 in order, every dependency before its dependent, its
            input stages' hashes (those ending its dependencies' stage directories),
            one task per (year, seed, head) training, one per backtest, the report last depending on every
            backtest; --tasks with a dependency outside the range that is not done is refused (exit 2, naming
            both tasks); the plan run in three consecutive --tasks ranges (a job array run in order) gives the
            reference's bytes
  jobs      --jobs 2: the reference's bytes
  jobs_kill --jobs 2 with a worker process SIGKILLed in the middle of a training task: the sweep completes in
            the same invocation ("running it again" in its log) with the reference's bytes
  mpi2      mpirun -n 2 zhizeng run --mpi: the reference's bytes
  mpi3      mpirun -n 3 --oversubscribe: the reference's bytes
  mpi_kill  mpirun -n 3 with rank 1 SIGKILLed during its second training task: the job ends with an error; the same
            command again completes with the reference's bytes, runs fewer tasks than the plan has and leaves the
            files of every task finished before the kill untouched (same bytes and modification times)
  mpi_gather mpirun -n 3 --oversubscribe zhizeng run --mpi-gather: ranks 1 and 2 work in their own directories
            (OUT-rank1, OUT-rank2: no shared output); rank 0 receives every model and stage: the reference's bytes;
            the ranks' directories hold the 4 models between them and no report
  study     `zhizeng study --vary model.hidden=3,4,3`: --plan lists one task per distinct setting (the third is the
            first's stage) and the tables last; --jobs 2 (and mpirun -n 2 when the build has MPI) write the same
            study.csv, curves.csv, validation scores and models as the single-process study

"The reference's bytes": report.md, report.html and every CSV of the stages and the report, the wall-time
fields excepted (ref_pipeline.stage_files: training logs, timings.csv, diagnostics.csv's opt_seconds), and every
model file (*.zzm). The MPI modes exit 77 (skip) when the build has no MPI or mpirun is missing. Open MPI under
root needs --allow-run-as-root, given when running as root. In a sanitizer build the mpirun commands run with
detect_leaks=0 added to ASAN_OPTIONS (see mpi_env): Open MPI's allocations in its unloaded components cannot be
suppressed by module; AddressSanitizer and UBSan stay on.
usage: ref_pipe_dist.py MODE --zhizeng BIN --work DIR [--mpiexec PATH] [--have-mpi 0|1]
"""
import argparse, glob, os, re, shutil, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_pipeline  # noqa: E402
from ref_pipeline import fixture_market, stage_files  # noqa: E402

# ref_pipeline's tiny configuration with two epochs, two seeds, one floor and one backtest worker: 4 training
# tasks per head, so a pool and ranks have work to share
CONFIG = (ref_pipeline.CONFIG.replace("epochs = 1", "epochs = 2").replace("seeds = 1", "seeds = 2")
          .replace("floors = 0.8,0", "floors = 0").replace("workers = 2", "workers = 1"))
assert CONFIG.count("= 2\n") >= 2 and "workers = 1" in CONFIG, "ref_pipeline.CONFIG changed: update ref_pipe_dist.py"


def write_cfg(work, name):
    out = os.path.join(work, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    cfg = os.path.join(work, name + ".ini")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(market=os.path.join(work, "dist_market"), out=out))
    return cfg, out


def run(cmd, expect=0, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if expect is not None and r.returncode != expect:
        print(r.stdout[-5000:])
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}, expected {expect}")
    return r


def outputs(out):
    res = stage_files(out)
    for f in ("report.md", "report.html"):
        with open(os.path.join(out, "report", f), "rb") as fh:
            res["report/" + f] = fh.read()
    for p in glob.glob(os.path.join(out, "stages", "*", "*.zzm")):
        rel = os.path.relpath(p, out).split(os.sep)
        rel[1] = rel[1].rsplit("-", 1)[0]
        with open(p, "rb") as fh:
            res["/".join(rel)] = fh.read()
    return res


def same_as_reference(work, out, what):
    ref = os.path.join(work, "dist_ref")
    if not os.path.isfile(os.path.join(ref, "report", "report.md")):
        sys.exit("FAIL: run the pipeline_dist_setup test first (ctest fixture)")
    a, b = outputs(ref), outputs(out)
    if sorted(a) != sorted(b):
        sys.exit(f"FAIL: {what}: different files than the single-process run: {sorted(set(a) ^ set(b))}")
    bad = [k for k in a if a[k] != b[k]]
    if bad:
        sys.exit(f"FAIL: {what}: files differ from the single-process run: {bad}")
    n_zzm = sum(k.endswith(".zzm") for k in a)
    if n_zzm != 4:
        sys.exit(f"FAIL: {what}: expected 4 model files, found {n_zzm}")
    print(f"{what}: {len(a)} files ({n_zzm} models) identical to the single-process run")


def plan_of(zz, cfg):
    r = run([zz, "run", cfg, "--plan"])
    rows = []
    for line in r.stdout.splitlines():
        m = re.fullmatch(r"(\d+) (\S+) (\S+) (\S+) deps=(\S+) inputs=(\S+)", line)
        if m:
            deps = [] if m.group(5) == "-" else [int(d) for d in m.group(5).split(",")]
            rows.append((int(m.group(1)), m.group(2), m.group(3), m.group(4), deps, m.group(6)))
    return rows


def check_plan(zz, work):
    cfg, out = write_cfg(work, "dist_plan")
    rows = plan_of(zz, cfg)
    ids = [r[0] for r in rows]
    if ids != list(range(len(rows))) or not rows:
        sys.exit(f"FAIL: plan ids are not 0..n-1 in order: {ids}")
    keys = [(r[1], r[2]) for r in rows]
    if len(set(keys)) != len(keys):
        sys.exit("FAIL: a task is listed twice")
    for i, kind, key, d, deps, inputs in rows:
        for j in deps:
            if not 0 <= j < i:
                sys.exit(f"FAIL: task {i} depends on {j}, which does not come before it")
        # the inputs are the hashes ending the dependencies' stage directories
        want = []
        for j in deps:
            h = re.search(r"-([0-9a-f]{16})(/|$)", rows[j][3])
            if h and h.group(1) not in want:
                want.append(h.group(1))
        if inputs != (",".join(want) or "-"):
            sys.exit(f"FAIL: task {i}: inputs={inputs}, expected the dependencies' stage hashes {want}")
    train = sorted(k for kind, k in keys if kind == "train")
    want = sorted(f"{h}/Y2019/seed{s}" for h in ("univariate", "multivariate") for s in (0, 1))
    if train != want:
        sys.exit(f"FAIL: training tasks {train}, expected {want}")
    bts = [r for r in rows if r[1] == "backtest"]
    if sorted(r[2] for r in bts) != ["csi300/multivariate/nofloor", "csi300/univariate/nofloor"]:
        sys.exit(f"FAIL: backtest tasks {[r[2] for r in bts]}")
    last = rows[-1]
    if last[1] != "report" or not set(r[0] for r in bts) <= set(last[4]):
        sys.exit(f"FAIL: the report is not last or does not depend on every backtest: {last}")
    # a scores task depends on its gather, which depends on that head's training tasks
    for i, kind, key, d, deps, _ in rows:
        if kind == "gather":
            tr = sorted(rows[j][2] for j in deps)
            if tr != sorted(f"{key.split('/')[-1]}/Y2019/seed{s}" for s in (0, 1)):
                sys.exit(f"FAIL: gather {key} depends on {tr}")
    n = len(rows)
    print(f"plan: {n} tasks, each once, dependencies first")
    # a range whose dependency is outside it and not done is refused
    scores = next(r for r in rows if r[1] == "scores")
    r = run([zz, "run", cfg, "--tasks", f"{scores[0]}-{n - 1}", "--no-progress"], expect=2)
    if "outside the range and not done" not in r.stdout:
        print(r.stdout[-2000:])
        sys.exit("FAIL: --tasks with a missing dependency: no message naming it")
    print("plan: a range needing an unfinished task outside it is refused (exit 2)")
    # the plan in three consecutive ranges (a job array run one after the other)
    cuts = [0, n // 3, 2 * n // 3, n]
    for a, b in zip(cuts, cuts[1:]):
        run([zz, "run", cfg, "--tasks", f"{a}-{b - 1}", "--no-progress"])
    same_as_reference(work, out, f"--tasks in ranges {cuts}")


def children(pid):
    res = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if int(st[st.rindex(")") + 2:].split()[1]) == pid:
            res.append(int(p))
    return res


def jobs_kill(zz, work):
    cfg, out = write_cfg(work, "dist_jobs_kill")
    log = open(os.path.join(work, "dist_jobs_kill.log"), "w+")
    pr = subprocess.Popen([zz, "run", cfg, "--jobs", "2", "--no-progress", "--verbose"], stdout=log,
                          stderr=subprocess.STDOUT)
    killed, tried, t_end = None, set(), time.time() + 120
    while killed is None and pr.poll() is None and time.time() < t_end:
        with open(log.name) as f:
            text = f.read()
        for m in re.finditer(r"\[sched\] task \d+ \(train [^)]*\) started in worker (\d+)", text):
            w = int(m.group(1))
            if w in tried or w not in children(pr.pid):
                continue
            tried.add(w)
            time.sleep(0.7)  # in the middle of its training (each takes a few seconds)
            if w in children(pr.pid):
                os.kill(w, signal.SIGKILL)
                killed = w
            break
        time.sleep(0.05)
    rc = pr.wait(timeout=300)
    with open(log.name) as f:
        text = f.read()
    if killed is None:
        sys.exit("FAIL: no training worker was found running to kill")
    if rc != 0:
        print(text[-4000:])
        sys.exit(f"FAIL: --jobs 2 with worker {killed} killed exited {rc}")
    if "was killed by signal 9: running it again" not in text:
        print(text[-4000:])
        sys.exit("FAIL: the killed worker's task was not rerun")
    print(f"jobs_kill: worker {killed} killed with SIGKILL; its task ran again and the sweep completed")
    same_as_reference(work, out, "--jobs 2 with a worker killed")


def mpi_cmd(a, n):
    cmd = [a.mpiexec, "-n", str(n), "--oversubscribe"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    return cmd


def mpi_env():
    """The environment of the mpirun commands: in a sanitizer build, LeakSanitizer off (AddressSanitizer and UBSan
    stay on). Open MPI keeps allocations until exit in components it loads with dlopen and unloads in MPI_Finalize,
    so their leak reports have no module to suppress them by; zhizeng's own code is leak-checked by the runs
    without MPI (setup, plan, jobs and the rest of the suite)."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    return env


def snapshot(out, done_markers):
    """bytes and mtimes of every file owned by the tasks whose marker is listed"""
    res = {}
    for m in done_markers:
        d, name = os.path.split(m)
        prefix = name[: -len("done")]
        for p in glob.glob(os.path.join(d, prefix + "*")):
            st = os.stat(p)
            with open(p, "rb") as f:
                res[p] = (st.st_mtime_ns, f.read())
    return res


def mpi_kill(a, zz, work):
    cfg, out = write_cfg(work, "dist_mpi_kill")
    logp = os.path.join(work, "dist_mpi_kill.log")
    log = open(logp, "w")
    pr = subprocess.Popen(mpi_cmd(a, 3) + [zz, "run", cfg, "--mpi", "--no-progress", "--verbose"], stdout=log,
                          stderr=subprocess.STDOUT, env=mpi_env(), start_new_session=True)
    killed, t_end = False, time.time() + 200
    while not killed and pr.poll() is None and time.time() < t_end:
        with open(logp) as f:
            sent = re.findall(r"task \d+ \(train [^)]*\) sent to rank 1", f.read())
        if len(sent) >= 2:
            time.sleep(0.7)
            for p in os.listdir("/proc"):
                if not p.isdigit():
                    continue
                try:
                    with open(f"/proc/{p}/environ", "rb") as f:
                        env = f.read().split(b"\0")
                    with open(f"/proc/{p}/cmdline", "rb") as f:
                        cmdl = f.read()
                except OSError:
                    continue
                if b"OMPI_COMM_WORLD_RANK=1" in env and b"zhizeng" in cmdl and b"--mpi" in cmdl:
                    os.kill(int(p), signal.SIGKILL)
                    killed = True
        time.sleep(0.05)
    try:
        rc = pr.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(pr.pid, signal.SIGKILL)
        rc = pr.wait()
        print("mpi_kill: mpirun did not end by itself after the kill: its process group was killed")
    log.close()
    if not killed:
        with open(logp) as f:
            print(f.read()[-4000:])
        sys.exit("FAIL: rank 1 never received a second training task to be killed in")
    if rc == 0:
        sys.exit("FAIL: mpirun exited 0 although rank 1 was killed")
    markers = sorted(glob.glob(os.path.join(out, "stages", "*", "*.done")))
    if not markers:
        sys.exit("FAIL: no training task had finished before the kill")
    before = snapshot(out, markers)
    r = run(mpi_cmd(a, 3) + [zz, "run", cfg, "--mpi", "--no-progress"], env=mpi_env())
    m = re.search(r"\[sched\] (\d+) task\(s\) of (\d+) to run", r.stdout)
    if not m or int(m.group(1)) >= int(m.group(2)):
        print(r.stdout[-3000:])
        sys.exit("FAIL: the rerun did not skip the tasks finished before the kill")
    after = snapshot(out, markers)
    changed = [p for p in before if before[p] != after.get(p)]
    if changed:
        sys.exit(f"FAIL: the rerun rewrote files of tasks finished before the kill: {changed}")
    print(f"mpi_kill: mpirun exited {rc} after rank 1 was killed; the rerun ran {m.group(1)} of {m.group(2)} tasks "
          f"and left the {len(markers)} finished training task(s) untouched")
    same_as_reference(work, out, "mpirun -n 3 with rank 1 killed, then rerun")


def study_files(out):
    res = {}
    for f in ("study.csv", "curves.csv"):
        with open(os.path.join(out, f), "rb") as fh:
            res[f] = fh.read()
    for p in glob.glob(os.path.join(out, "stages", "*", "*")):
        if p.endswith((".zzm", "validation.csv", "result.csv")):
            with open(p, "rb") as fh:
                res[os.path.relpath(p, out)] = fh.read()
    return res


def study(a, zz, work):
    cfg, _ = write_cfg(work, "dist_study")
    vary = ["--vary", "model.hidden=3,4,3", "--set", "model.heads=multivariate", "--no-progress"]
    r = run([zz, "study", cfg, "--out", os.path.join(work, "dist_study_plan"), "--plan"] + vary)
    rows = [l.split() for l in r.stdout.splitlines() if re.match(r"\d+ ", l)]
    kinds = [(x[0], x[1]) for x in rows]
    if kinds != [("0", "setting"), ("1", "setting"), ("2", "tables")] or rows[2][4] != "deps=0,1":
        sys.exit(f"FAIL: study plan {rows}")
    print("study: --plan lists the 2 distinct settings and the tables")
    outs = {}
    for name, pre, extra in [("serial", [], []), ("jobs", [], ["--jobs", "2"]),
                             ("mpi", mpi_cmd(a, 2) if a.have_mpi and a.mpiexec else None, ["--mpi"])]:
        if pre is None:
            print("study: no MPI in this build: the MPI study is skipped")
            continue
        out = os.path.join(work, "dist_study_" + name)
        if os.path.isdir(out):
            shutil.rmtree(out)
        run(pre + [zz, "study", cfg, "--out", out] + vary + extra, env=mpi_env())
        outs[name] = study_files(out)
    ref = outs.pop("serial")
    n_zzm = sum(k.endswith(".zzm") for k in ref)
    if n_zzm != 2:
        sys.exit(f"FAIL: expected 2 study models, found {n_zzm}")
    for name, b in outs.items():
        if sorted(ref) != sorted(b) or any(ref[k] != b[k] for k in ref):
            sys.exit(f"FAIL: study with {name}: files differ: {[k for k in ref if ref[k] != b.get(k)]}")
        print(f"study: {name}: {len(b)} files identical to the single-process study")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["setup", "plan", "jobs", "jobs_kill", "mpi2", "mpi3", "mpi_kill", "mpi_gather", "study"])
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mpiexec", default="")
    ap.add_argument("--have-mpi", type=int, default=0)
    a = ap.parse_args()
    if not os.access(a.zhizeng, os.X_OK):
        print(f"SKIP: {a.zhizeng} is not built")
        sys.exit(77)
    zz, work = a.zhizeng, a.work
    if a.mode.startswith("mpi"):
        if not a.have_mpi:
            print("SKIP: this build has no MPI (install libopenmpi-dev or libmpich-dev and configure again)")
            sys.exit(77)
        if not a.mpiexec or not os.access(a.mpiexec, os.X_OK):
            print(f"SKIP: no mpiexec/mpirun found ('{a.mpiexec}')")
            sys.exit(77)
    if a.mode == "setup":
        fixture_market(work, "dist_market")  # a copy: the runs write its binary cache
        cfg, out = write_cfg(work, "dist_ref")
        r = run([zz, "run", cfg, "--no-progress"])
        if "[sched] " not in r.stdout:
            sys.exit("FAIL: no scheduler line in the log")
        print("setup: the single-process reference run is done")
    elif a.mode == "plan":
        check_plan(zz, work)
    elif a.mode == "jobs":
        cfg, out = write_cfg(work, "dist_jobs")
        run([zz, "run", cfg, "--jobs", "2", "--no-progress"])
        same_as_reference(work, out, "--jobs 2")
    elif a.mode == "jobs_kill":
        jobs_kill(zz, work)
    elif a.mode in ("mpi2", "mpi3"):
        n = int(a.mode[-1])
        cfg, out = write_cfg(work, f"dist_{a.mode}")
        run(mpi_cmd(a, n) + [zz, "run", cfg, "--mpi", "--no-progress"], env=mpi_env())
        same_as_reference(work, out, f"mpirun -n {n}")
    elif a.mode == "mpi_kill":
        mpi_kill(a, zz, work)
    elif a.mode == "mpi_gather":
        cfg, out = write_cfg(work, "dist_mpi_gather")
        for r in (1, 2):
            shutil.rmtree(f"{out}-rank{r}", ignore_errors=True)
        run(mpi_cmd(a, 3) + [zz, "run", cfg, "--mpi-gather", "--no-progress"], env=mpi_env())
        same_as_reference(work, out, "mpirun -n 3 --mpi-gather")
        # the ranks' directories: the models they trained or received as a score task's input, never a report
        models = [{os.path.relpath(p, f"{out}-rank{r}") for p in glob.glob(f"{out}-rank{r}/stages/*/Y*_seed*.zzm")}
                  for r in (1, 2)]
        if not models[0] or not models[1] or len(models[0] | models[1]) != 4 or glob.glob(f"{out}-rank*/report"):
            sys.exit(f"FAIL: the ranks' own directories hold {models} (expected the 4 models between them, no report)")
        print(f"mpi_gather: ranks 1 and 2 worked in their own directories ({len(models[0])} and {len(models[1])} "
              "models there); rank 0 gathered every stage into its own")
    elif a.mode == "study":
        study(a, zz, work)


if __name__ == "__main__":
    main()
