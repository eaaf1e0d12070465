#!/usr/bin/env python3
"""bench_sim_numpy.py DIR - the same simulation as bench_sim, in vectorised numpy (the reference simulator
of tests/sim/ref_sim.py, vectorised over stocks, one loop over days), on the market bench_sim --dump DIR
wrote. Prints days per second, the ratio to the C figure, and checks the two final NAVs agree."""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "sim"))
import ref_sim  # noqa: E402


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    T, N = meta["n_dates"], meta["n_stocks"]
    M = {}
    for k in ("open", "high", "low", "close", "volume", "amount", "pre_close", "vwap", "adj_factor", "up_limit", "down_limit"):
        M[k] = np.fromfile(os.path.join(d, k + ".f64"), dtype=np.float64).reshape(T, N)
    flags = np.fromfile(os.path.join(d, "flags.u8"), dtype=np.uint8).reshape(T, N)
    M["listed"] = (flags & 1) != 0
    M["suspended"] = (flags & 4) != 0
    dates = [int(x) for x in np.fromfile(os.path.join(d, "dates.i32"), dtype=np.int32)]
    tt = np.fromfile(os.path.join(d, "target_t.i32"), dtype=np.int32)
    ti = np.fromfile(os.path.join(d, "target_i.i32"), dtype=np.int32)
    tw = np.fromfile(os.path.join(d, "target_w.f64"), dtype=np.float64)
    batches = []
    for t in np.unique(tt):
        w = np.zeros(N)
        sel = tt == t
        w[ti[sel]] = tw[sel]
        batches.append((int(t), w))
    cfg = ref_sim.Cfg(capital=meta["capital"], bench=None)
    secs = float("inf")
    for _ in range(3):  # best of 3, as the C side takes its best of 5
        t0 = time.perf_counter()
        out = ref_sim.simulate(dates, M, {}, batches, cfg)
        secs = min(secs, time.perf_counter() - t0)
    nav_c = np.fromfile(os.path.join(d, "nav.f64"), dtype=np.float64)
    days = len(out["nav"])
    print(f"bench_sim_numpy: {N} stocks x {days} days: {secs:.2f} s = {days / secs:.0f} days/s; "
          f"C: {meta['c_seconds']:.3f} s = {days / meta['c_seconds']:.0f} days/s; C is {secs / meta['c_seconds']:.1f}x faster")
    diff = float(np.max(np.abs(nav_c - out["nav"])))
    print(f"bench_sim_numpy: max |nav C - nav numpy| = {diff:.3e} ({'agree' if diff <= 1e-9 else 'DIFFER'})")
    return 0 if diff <= 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
