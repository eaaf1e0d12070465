#!/usr/bin/env python3
"""kill_loop.py — crash safety of `zhizeng run` (issue 18, docs/reliability.md "Crash safety").

A run of the pipeline tests' small configuration on the fixture's market (pipeline_setup) is the reference.
Then, KILLS times: a fresh output directory, `zhizeng run` killed with SIGKILL (the whole process group) at a
random moment of its wall time (uniform over 2 %..98 % of the reference run's), then the same command again
to completion. Every time, the rerun must succeed and leave
  - report/report.md and report/report.html identical byte for byte to the reference's,
  - every CSV of report/ and of every stage identical (the wall-time fields excepted: timings.csv, training
    logs and diagnostics.csv's opt_seconds column, as in pipeline_reproducible),
  - no stage directory marked DONE that differs, and no *.tmp file anywhere.
The kill moments are drawn from --seed, so a failure is reproducible; the moment and the stage being run are
printed. Only the Python standard library is needed.
Then, for each size of --full (bytes), a "disk full" run: the same command in a fresh directory with the
largest file it may write limited to that size (RLIMIT_FSIZE with SIGXFSZ ignored, so a write past it fails
with EFBIG the way a full disk fails with ENOSPC: the same error paths). It must exit 4 (i/o error) naming a
path, or 0 when no file reached the limit, leave no *.tmp file and no stage marked DONE that differs from the
reference, and the rerun without the limit must give the reference's bytes.
With --demo the command is `zhizeng demo --out DIR` (the whole demo, its synthetic market included) instead.
usage: kill_loop.py --zhizeng BIN --work DIR [--kills N] [--seed S] [--market DIR | --demo]
"""
import argparse
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_pipeline import CONFIG, fixture_market, stage_files  # noqa: E402


def command(zz, work, name, market):
    """The command line of one run into work/name and its output directory."""
    out = os.path.join(work, name)
    if market is None:
        return [zz, "demo", "--out", out, "--no-progress"], out
    cfg = os.path.join(work, name + ".ini")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(market=market, out=out))
    return [zz, "run", cfg, "--no-progress"], out


def report_bytes(out):
    res = {}
    for f in ("report.md", "report.html"):
        with open(os.path.join(out, "report", f), "rb") as fh:
            res["report/" + f] = fh.read()
    res.update(stage_files(out))
    return res


def leftovers(out):
    bad = []
    for root, _, files in os.walk(out):
        bad += [os.path.join(root, f) for f in files if ".tmp" in f]
    return bad


def running_stage(out):
    """The stage directories without DONE at the moment of the kill (what was being computed)."""
    d = os.path.join(out, "stages")
    if not os.path.isdir(d):
        return "(before the first stage)"
    busy = [s.rsplit("-", 1)[0] for s in sorted(os.listdir(d)) if not os.path.exists(os.path.join(d, s, "DONE"))]
    return ", ".join(busy) if busy else "(between stages or in the report)"


def fsize_limit(n):
    def set_limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return set_limit


def check_rerun(cmd, out, ref):
    """Reruns cmd to completion; the problems with its output against the reference (empty: none)."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"the rerun exited {r.returncode}: {r.stderr[-1500:]}"]
    problems = []
    got = report_bytes(out)
    if sorted(got) != sorted(ref):
        problems.append(f"different files: {sorted(set(got) ^ set(ref))}")
    diff = [f for f in ref if f in got and got[f] != ref[f]]
    if diff:
        problems.append(f"files differ from the reference: {diff}")
    tmp = leftovers(out)
    if tmp:
        problems.append(f"temporary files left: {tmp}")
    return problems


def verdict(what, problems, out):
    """Prints one interrupted run's line (its problems below it); a clean run's directory is removed. 1 if failed."""
    print(("FAIL " if problems else "ok   ") + what + "".join("\n     " + p for p in problems))
    if not problems:
        shutil.rmtree(out)
    return int(bool(problems))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--market", help="a market directory (default: a copy of the pipeline_setup fixture's)")
    ap.add_argument("--demo", action="store_true", help="kill `zhizeng demo` instead of the small run")
    ap.add_argument("--full", default="", help="comma-separated file size limits for the disk-full runs")
    a = ap.parse_args()
    if not os.access(a.zhizeng, os.X_OK):
        print(f"SKIP: {a.zhizeng} is not built")
        sys.exit(77)
    work = os.path.join(a.work, "kill_loop")
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    market = None if a.demo else a.market or fixture_market(a.work, "kill_loop_market")

    cmd, ref_out = command(a.zhizeng, work, "reference", market)
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"FAIL: the reference run exited {r.returncode}: {r.stderr[-2000:]}")
    ref = report_bytes(ref_out)
    print(f"reference: {wall:.1f} s, {len(ref)} files compared")

    rng = random.Random(a.seed)
    failures = 0
    for k in range(a.kills):
        cmd, out = command(a.zhizeng, work, f"kill{k}", market)
        at = rng.uniform(0.02, 0.98) * wall
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            p.wait(timeout=at)
            where = "finished before the kill"
        except subprocess.TimeoutExpired:
            where = running_stage(out)
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        failures += verdict(f"kill {k + 1}/{a.kills} at {at:.1f} s during {where}", check_rerun(cmd, out, ref), out)
    sizes = [int(x) for x in a.full.split(",") if x]
    for n in sizes:
        cmd, out = command(a.zhizeng, work, f"full{n}", market)
        r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=fsize_limit(n))
        last = (r.stderr.strip().splitlines() or [""])[-1]
        problems = []
        if r.returncode not in (0, 4):
            problems.append(f"exited {r.returncode}, expected 4 (i/o error): {last}")
        if r.returncode == 4 and "/" not in last:
            problems.append(f"the i/o error names no path: {last}")
        tmp = leftovers(out)
        if tmp:
            problems.append(f"temporary files left after the failed run: {tmp}")
        problems += check_rerun(cmd, out, ref)
        failures += verdict(f"files limited to {n} bytes: exit {r.returncode}: {last[-200:]}", problems, out)
    if failures:
        sys.exit(f"FAIL: {failures} of {a.kills + len(sizes)} interrupted runs did not finish with the reference's "
                 "bytes")
    print(f"kill loop: {a.kills} kills and {len(sizes)} disk-full runs, every rerun identical to the reference")


if __name__ == "__main__":
    main()
