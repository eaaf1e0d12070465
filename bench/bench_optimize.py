#!/usr/bin/env python3
"""Benchmark: `zhizeng optimize` vs cvxopt (SOCP) on CSI300-, CSI500- and CSI1000-shaped problems over a
5,000-stock universe with 40 factors (10 styles, 29 industries, country), floor 80 %, 1 % untradable
stocks, TE 4 % / 5 % / 5 %; a first rebalance (TE binds) or, with --prev, a previous book under the 20 %
turnover limit. Prints a table with the time ratio and the
objective difference: "zhizeng s" is the whole `zhizeng optimize` process (reading the files included),
"solve s" its solve alone (solve_seconds of the diagnostics, what cvxopt's time also is); the speed-up is
cvxopt's solve time over zhizeng's solve time. Usage:
    /usr/bin/python3 bench/bench_optimize.py --zhizeng build/zhizeng [--n 5000] [--only csi500] [--prev] [--no-cvxopt] [--te 0.04,0.03,0.03]

Weekly-sequence mode: a backtest's problems in date order (DIR/<date>/, as `ZZ_OPT_DUMP=DIR zhizeng run`
writes them), solved warm and cold by build/bench/bench_opt_sequence in one run and every K-th one by
cvxopt; prints per problem the seconds and the objectives' relative differences, then the medians:
    /usr/bin/python3 bench/bench_optimize.py --zhizeng build/zhizeng --sequence DIR [--every 10]
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "portfolio"))
import opt_problem_gen as G  # noqa: E402

SHAPES = [("csi300", 300, 0.04), ("csi500", 500, 0.05), ("csi1000", 1000, 0.05)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-cvxopt", action="store_true")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--tol", type=float, default=1e-7, help="cvxopt abstol/reltol/feastol (its default 1e-7)")
    ap.add_argument("--prev", action="store_true",
                    help="a previous book with the 20 %% turnover limit (default: first rebalance from cash, "
                         "where the TE limit binds)")
    ap.add_argument("--te", default="",
                    help="comma list of TE limits for the three shapes (default 0.04,0.05,0.05); a tighter "
                         "limit makes TE bind on the CSI500/CSI1000 shapes, where 5 %% does not")
    ap.add_argument("--sequence", default="", help="a backtest's problem directories (DIR/<date>/): weekly mode")
    ap.add_argument("--every", type=int, default=10, help="weekly mode: cvxopt solves every K-th problem")
    a = ap.parse_args()
    if a.sequence:
        return sequence(a)
    shapes = SHAPES
    if a.te:
        tes = [float(x) for x in a.te.split(",")]
        if len(tes) != len(SHAPES):
            ap.error("--te needs %d values" % len(SHAPES))
        shapes = [(nm, mem, te) for (nm, mem, _), te in zip(SHAPES, tes)]
    tmp = tempfile.mkdtemp(prefix="zz_bench_opt_")
    print("%-8s %6s %8s | %9s %8s %7s %6s | %9s %14s %14s %10s" % (
        "index", "n", "members", "zhizeng s", "solve s", "rounds", "TE", "cvxopt s", "obj zhizeng", "obj cvxopt",
        "speed-up"))
    try:
        for k, (name, members, te_max) in enumerate(shapes):
            if a.only and name not in a.only.split(","):
                continue
            P = G.make_problem(a.n, members, n_style=10, n_ind=29, seed=a.seed + k, te_max=te_max, floor=0.8,
                               prev=a.prev, turnover=0.2, untradable=0.01)
            d = os.path.join(tmp, name)
            G.write_problem(P, d)
            out = os.path.join(tmp, name + "_w.csv")
            t0 = time.perf_counter()
            r = subprocess.run([a.zhizeng, "optimize", "--problem", d, "--out", out, "--quiet"],
                               capture_output=True, text=True)
            tz = time.perf_counter() - t0
            if r.returncode:
                print("%s: zhizeng failed: %s" % (name, r.stderr.strip()))
                continue
            w = G.read_weights(out, P["codes"])
            diag = G.read_diag(out + ".diag.ini")
            oz = float(P["score"] @ w)
            ts = float(diag["result.solve_seconds"])
            print("%-8s %6d %8d | %9.2f %8.3f %7s %6.4f | " % (name, a.n, members, tz, ts, diag["result.cut_rounds"],
                                                               float(diag["result.te"])), end="")
            sys.stdout.flush()
            if a.no_cvxopt:
                tc, oc = float("nan"), float("nan")
            else:
                t1 = time.perf_counter()
                try:
                    _, oc, tc = G.solve_cvxopt(P, tol=a.tol)
                except RuntimeError as e:  # cvxopt stalls numerically on some 5000-stock problems
                    print("cvxopt failed after %.1f s: %s" % (time.perf_counter() - t1, e))
                    continue
            print("%9.2f %14.8f %14.8f %9.1fx  (objective rel. diff %.1e)" % (
                tc, oz, oc, tc / ts, abs(oz - oc) / max(abs(oc), 1e-12)))
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sequence(a):
    """Weekly mode: bench_opt_sequence (warm and cold, one process) and cvxopt on every a.every-th week."""
    import csv
    import statistics

    dirs = sorted(d for d in glob.glob(os.path.join(a.sequence, "*")) if os.path.isfile(os.path.join(d, "alpha.csv")))
    if not dirs:
        sys.exit("no problem directories (with alpha.csv) under %s" % a.sequence)
    seq = os.path.join(os.path.dirname(os.path.abspath(a.zhizeng)), "bench", "bench_opt_sequence")
    tmp = tempfile.mkdtemp(prefix="zz_bench_seq_")
    try:
        r = subprocess.run([seq, "--mode", "both", "--out", tmp] + dirs, capture_output=True, text=True)
        if r.returncode:
            sys.exit("bench_opt_sequence failed: %s" % r.stderr.strip())
        rows = {}
        for row in csv.DictReader(r.stdout.splitlines()):
            rows[(int(row["k"]), row["mode"])] = row
        print(r.stderr.strip())
        print("%4s %-12s %6s | %8s %8s | %9s %12s %12s" % ("k", "problem", "n", "warm s", "cold s", "cvxopt s",
                                                          "warm-cvx", "cold-cvx"))
        dw, dc, tw, tcs, tx = [], [], [], [], []
        for k, d in enumerate(dirs):
            w, c = rows[(k, "warm")], rows[(k, "cold")]
            tw.append(float(w["seconds"]))
            tcs.append(float(c["seconds"]))
            if k % a.every or a.no_cvxopt:
                continue
            P = G.read_problem(d)
            try:
                _, oc, t = G.solve_cvxopt(P, tol=a.tol)
            except RuntimeError as e:
                print("%4d %-12s cvxopt failed: %s" % (k, os.path.basename(d), e))
                continue
            tx.append(t)
            ow, ocd = float(w["objective"]), float(c["objective"])
            dw.append(abs(ow - oc) / max(abs(oc), 1e-12))
            dc.append(abs(ocd - oc) / max(abs(oc), 1e-12))
            print("%4d %-12s %6s | %8.4f %8.4f | %9.2f %12.2e %12.2e" % (k, os.path.basename(d), w["n"], tw[-1],
                                                                        tcs[-1], t, dw[-1], dc[-1]))
            sys.stdout.flush()
        print("median seconds: warm %.4f, cold %.4f%s" % (statistics.median(tw), statistics.median(tcs),
              ", cvxopt %.2f (%d problems)" % (statistics.median(tx), len(tx)) if tx else ""))
        if dw:
            print("largest objective difference to cvxopt: warm %.2e, cold %.2e" % (max(dw), max(dc)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
