#!/usr/bin/env python3
"""synth_ceiling_check.py MARKET_DIR [--train-end YYYY-MM-DD] - compares the oracle RankIC of a market
written by `zhizeng synth --truth` with two simple models computed from bars.csv only, on the oracle's
dates after --train-end: (a) the 5-day reversal -(P_t / P_{t-5} - 1); (b) a ridge regression of the
cross-sectionally ranked T+1 -> T+11 return on the flattened 40 x 6 window of day features (log return,
open / high / low / vwap relative to close, log turnover; each z-scored per date), fitted on every 2nd
trading day before --train-end. Not a ctest (a minute of CPU on 1,900 stocks x 3 years); the ctest
data_synth_ref runs a smaller check of the same kind."""
import csv
import os
import sys

import numpy as np


def rankdata(v):
    order = np.argsort(v, kind="mergesort")
    r = np.empty(len(v))
    sv = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sv[j + 1] == sv[i]:
            j += 1
        r[order[i:j + 1]] = 0.5 * (i + j) + 1
        i = j + 1
    return r


def main():
    mdir = sys.argv[1]
    train_end = sys.argv[sys.argv.index("--train-end") + 1] if "--train-end" in sys.argv else None
    with open(os.path.join(mdir, "bars.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    dates = sorted({r["date"] for r in rows})
    codes = sorted({r["code"] for r in rows})
    di = {d: k for k, d in enumerate(dates)}
    ci = {c: k for k, c in enumerate(codes)}
    T, N = len(dates), len(codes)
    A = {k: np.full((T, N), np.nan) for k in ("open", "high", "low", "close", "vwap", "adj_factor", "volume",
                                               "float_mv")}
    for r in rows:
        t, i = di[r["date"]], ci[r["code"]]
        if r["suspended"] == "1":
            A["close"][t, i], A["adj_factor"][t, i] = float(r["close"]), float(r["adj_factor"])
            continue
        for k in A:
            A[k][t, i] = float(r[k])
    del rows
    close = A["close"].copy()
    adj = A["adj_factor"].copy()
    for t in range(1, T):
        m = np.isnan(close[t]) & ~np.isnan(close[t - 1])
        close[t, m], adj[t, m] = close[t - 1, m], adj[t - 1, m]
    P = close * adj
    lP = np.log(P)
    c = A["close"]
    day = np.stack([np.vstack([np.full(N, np.nan), np.diff(lP, axis=0)]), A["open"] / c - 1, A["high"] / c - 1,
                    A["low"] / c - 1, A["vwap"] / c - 1,
                    np.log(A["volume"] / (A["float_mv"] / c) + 1e-6)], axis=2)  # T x N x 6
    mu = np.nanmean(day, axis=1, keepdims=True)
    sd = np.nanstd(day, axis=1, keepdims=True) + 1e-12
    day = np.nan_to_num(np.clip((day - mu) / sd, -5, 5))  # missing days -> 0

    delist = {}
    with open(os.path.join(mdir, "stocks.csv"), newline="") as f:
        for r in csv.DictReader(f):
            delist[r["code"]] = r["delist_date"]
    ok_code = np.array([True] * N)

    def sample(t):
        """stocks of the oracle's sample at t: trading at t, listed through t+11, 40 days of history"""
        lab = P[t + 11] / P[t + 1] - 1
        ok = ~np.isnan(A["volume"][t]) & np.isfinite(lab) & ~np.isnan(P[t - 40]) & ok_code
        ok &= np.array([not delist[cd] or delist[cd] > dates[t + 11] for cd in codes])
        X = day[t - 39:t + 1, ok, :].transpose(1, 0, 2).reshape(ok.sum(), 240)
        ry = rankdata(lab[ok])
        return ok, X, (ry - ry.mean()) / ry.std(), lab[ok]

    oracle = {}
    with open(os.path.join(mdir, "truth", "oracle_rankic.csv"), newline="") as f:
        for r in csv.DictReader(f):
            oracle[r["date"]] = (float(r["rankic"]), float(r["rankic_conditional"]), float(r["rankic_realised_drift"]))
    if train_end is None:
        train_end = dates[int(T * 2 / 3)]
    XtX = np.zeros((240, 240))
    Xty = np.zeros(240)
    n = 0
    for t in range(41, T - 11, 2):
        if dates[t + 11] >= train_end:
            break
        ok, X, y, _ = sample(t)
        XtX += X.T @ X
        Xty += X.T @ y
        n += len(y)
    beta = np.linalg.solve(XtX + 1e-2 * n * np.eye(240) / 240, Xty)
    res = []
    for d, (o, oc, od) in sorted(oracle.items()):
        t = di[d]
        if d <= train_end or t < 41:
            continue
        ok, X, y, lab = sample(t)
        rev = -(lP[t, ok] - lP[t - 5, ok])
        ry = rankdata(lab)
        res.append((o, oc, od, np.corrcoef(rankdata(rev), ry)[0, 1], np.corrcoef(rankdata(X @ beta), ry)[0, 1]))
    res = np.array(res)
    m, s = res.mean(0), res.std(0, ddof=1)
    print("%d test dates after %s (ridge fitted on %d stock-days before it)" % (len(res), train_end, n))
    for k, name in enumerate(["oracle (ceiling)", "conditional oracle", "realised drift", "5-day reversal",
                              "ridge 40x6 (out of sample)"]):
        print("  %-28s RankIC mean %.4f  IC_IR %.2f" % (name, m[k], m[k] / s[k]))
    return 0 if m[0] > m[3] and m[0] > m[4] else 1


if __name__ == "__main__":
    sys.exit(main())
