#!/usr/bin/env python3
"""ref_synth.py - independent checks of `zhizeng synth` output with numpy, reading only the CSV files.

Generates a small market (1,900 stocks, 2010-01-01 .. 2010-08-31, --truth) with the zhizeng binary
(or takes --market DIR) and checks:
  * memberships: exactly 300 / 500 / 1000 members of 000300 / 000905 / 000852 on every trading day,
    disjoint, weights summing to 100 +- 1e-6;
  * index closes: close_t / close_{t-1} - 1 == sum_i w_{i,t-1} r_{i,t} (r = adjusted close-to-close
    return from bars.csv, 0 on a day without a row) to 1e-9;
  * bars: low <= open, close, vwap <= high; limits = round-half-up(pre_close x (1 +- p), 2) with the
    board / ST ratio; close within the limits; amount = volume x vwap; adj_t = adj_{t-1} close_{t-1} /
    pre_close_t; limit-up and limit-down days, ST rows, suspended rows and missing rows all occur;
  * realism: median stock daily return volatility in 1.5 % .. 4 %;
  * the true size and industry factor returns (truth/factor_returns.csv) are recovered by a
    cross-sectional WLS of the written returns (corr > 0.9 size, > 0.85 every industry);
  * the three oracle RankICs per sampled date recomputed (Spearman of each truth/expected_return.csv
    score against the realised T+1 -> T+11 adjusted return) equal truth/oracle_rankic.csv to 1e-8;
  * the oracle is a ceiling in fact: above the conditional oracle and above the 5-day reversal and an
    in-sample ridge regression on the last 20 days' returns computed from bars.csv on the same dates.
Two markets (1,900 stocks, 2010-01 .. 2010-08, seed 11): the default one for every check but the ceiling's,
and one with a strong planted alpha (--alpha-strength 0.025, four times the calibrated default) for all
checks, including the ceiling's: its 14 dates separate the ceiling from the simple models beyond
date-sampling noise (at the default the oracle's IC_IR is about 1: 14 dates cannot), except the factor
recovery (the strong alpha's noisy payoff, alpha (1 + nu), then rivals the industry factors).
Exit 77 (skip) when numpy is missing.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
from decimal import Decimal, ROUND_HALF_UP

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (Debian: python3-numpy): skipping")
    sys.exit(77)

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def limit_ratio(board, st, date):
    if board == "chinext":
        return 20 if date >= "2020-08-24" else (5 if st else 10)
    if board == "star":
        return 20
    if board == "bse":
        return 30
    return 5 if st else 10


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
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng")
    ap.add_argument("--workdir", default=".")
    ap.add_argument("--market", help="check this market (all checks but the ceiling's) instead of writing two")
    a = ap.parse_args()
    if a.market:
        check_market(a.market, ceiling=False)
    else:
        for name, extra, ceiling in (("ref_synth_market", [], False),
                                     ("ref_synth_market_strong", ["--alpha-strength", "0.025"], True)):
            mdir = os.path.join(a.workdir, name)
            shutil.rmtree(mdir, ignore_errors=True)
            cmd = [a.zhizeng, "synth", "--out", mdir, "--stocks", "1900", "--start", "2010-01-01", "--end",
                   "2010-08-31", "--seed", "11", "--truth", "--oracle-paths", "8"] + extra
            res = subprocess.run(cmd, capture_output=True, text=True)
            print(" ".join(cmd[1:]))
            print(res.stdout, res.stderr)
            if res.returncode != 0:
                print("zhizeng synth failed:", res.returncode)
                return 1
            check_market(mdir, ceiling)
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


def check_market(mdir, ceiling):
    """Every check on one market; the ceiling's (oracle above simple models) only where ceiling."""
    stocks = {r["code"]: r for r in read(os.path.join(mdir, "stocks.csv"))}
    bars = read(os.path.join(mdir, "bars.csv"))
    dates = sorted({r["date"] for r in bars})
    codes = sorted(stocks)
    di = {d: k for k, d in enumerate(dates)}
    ci = {c: k for k, c in enumerate(codes)}
    T, N = len(dates), len(codes)
    close = np.full((T, N), np.nan)
    adj = np.full((T, N), np.nan)
    pre = np.full((T, N), np.nan)
    trading = np.zeros((T, N), bool)
    n_up = n_down = n_st = n_susp = 0
    bad = []
    for r in bars:
        t, i = di[r["date"]], ci[r["code"]]
        o, h, l, c = (float(r[k]) for k in ("open", "high", "low", "close"))
        v, amt, pc, vw = float(r["volume"]), float(r["amount"]), float(r["pre_close"]), float(r["vwap"])
        up, dn, st, su = float(r["up_limit"]), float(r["down_limit"]), r["is_st"] == "1", r["suspended"] == "1"
        close[t, i], adj[t, i], pre[t, i] = c, float(r["adj_factor"]), pc
        trading[t, i] = not su
        n_st += st
        n_susp += su
        if not (l <= o <= h and l <= c <= h and l <= vw <= h and l > 0):
            bad.append(("ohlc", r))
        if abs(amt - v * vw) > 0.006:
            bad.append(("amount", r))
        p = limit_ratio(stocks[r["code"]]["board"], st, r["date"])
        pcd = Decimal(r["pre_close"])
        eu = (pcd * (100 + p) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        ed = (pcd * (100 - p) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if Decimal(r["up_limit"]) != eu or Decimal(r["down_limit"]) != ed:
            bad.append(("limits", r))
        if not (dn <= c <= up):
            bad.append(("close outside limits", r))
        if not su:
            n_up += c == up
            n_down += c == dn
    check(not bad, "%d bad bar rows, first: %s" % (len(bad), bad[:2]))
    n_missing = sum(1 for t in range(T) for i in range(N)
                    if np.isnan(close[t, i]) and stocks[codes[i]]["list_date"] <= dates[t]
                    and (not stocks[codes[i]]["delist_date"] or dates[t] < stocks[codes[i]]["delist_date"]))
    print("rows %d, limit-up %d, limit-down %d, ST rows %d, suspended rows %d, missing listed rows %d"
          % (len(bars), n_up, n_down, n_st, n_susp, n_missing))
    check(len(bars) > 0.9 * T * 1900, "too few bar rows")
    check(n_up > 0 and n_down > 0 and n_st > 0 and n_susp > 0 and n_missing > 0,
          "missing limit-up/down, ST, suspended or missing rows")

    # carry prices over days without a row (suspended), adjusted close and returns
    for t in range(1, T):
        m = np.isnan(close[t]) & ~np.isnan(close[t - 1])
        close[t, m], adj[t, m] = close[t - 1, m], adj[t - 1, m]
    # adj consistency on consecutive rows
    both = trading[1:] & ~np.isnan(close[:-1])
    exp_adj = adj[:-1] * close[:-1] / pre[1:]
    err = np.abs(adj[1:] - exp_adj)[both] / exp_adj[both]
    check(err.max() < 1e-9, "adj_factor inconsistent with pre_close: max rel error %g" % err.max())
    check(np.any((np.abs(pre[1:] - close[:-1]) > 0.001) & both), "no ex-rights day")
    P = close * adj
    ret = np.where(np.isnan(P[1:]) | np.isnan(P[:-1]), 0.0, P[1:] / P[:-1] - 1)
    vol = np.nanstd(np.where(trading[1:], ret, np.nan), axis=0)
    mv = np.nanmedian(vol)
    print("median daily stock vol %.4f" % mv)
    check(0.015 < mv < 0.04, "median daily stock volatility %.4f outside 1.5 %% .. 4 %%" % mv)

    # memberships and index closes
    sizes = {"000300": 300, "000905": 500, "000852": 1000}
    W = {k: np.zeros((T, N)) for k in sizes}
    for r in read(os.path.join(mdir, "index_weights.csv")):
        W[r["index"]][di[r["date"]], ci[r["code"]]] = float(r["weight"])
    closes = {k: np.full(T, np.nan) for k in sizes}
    for r in read(os.path.join(mdir, "index_bars.csv")):
        closes[r["index"]][di[r["date"]]] = float(r["close"])
    overlap = sum((W[k] > 0).astype(int) for k in sizes)
    check(overlap.max() <= 1, "indices overlap")
    for k, n in sizes.items():
        cnt = (W[k] > 0).sum(axis=1)
        check(np.all(cnt == n), "%s: member counts %d .. %d, expected %d" % (k, cnt.min(), cnt.max(), n))
        s = W[k].sum(axis=1)
        check(np.all(np.abs(s - 100) < 1e-6), "%s: weights sum to %.9f .. %.9f" % (k, s.min(), s.max()))
        R = (W[k][:-1] / 100 * ret).sum(axis=1)
        got = closes[k][1:] / closes[k][:-1] - 1
        e = np.abs(R - got).max()
        print("%s: max |index return - sum w r| = %.3g" % (k, e))
        check(e < 1e-9, "%s: index return differs from sum w_{t-1} r_t by %g" % (k, e))

    # oracle RankICs: the oracle (Monte Carlo expected alpha), the conditional oracle, the realised drift
    cols = [("expected_return", "rankic"), ("expected_return_conditional", "rankic_conditional"),
            ("realised_drift", "rankic_realised_drift")]
    exp = {}
    for r in read(os.path.join(mdir, "truth", "expected_return.csv")):
        exp.setdefault(r["date"], []).append((r["code"], [float(r[c]) for c, _ in cols]))
    ics = read(os.path.join(mdir, "truth", "oracle_rankic.csv"))
    check(len(ics) > 5, "too few oracle dates")
    delist = {c: s["delist_date"] for c, s in stocks.items()}
    lP = np.log(P)
    maxd = 0
    ours = {"reversal5": [], "ridge": []}
    feats, labels = [], []
    for r in ics:
        t = di[r["date"]]
        x, y, idx = [], [], []
        for c, e in exp[r["date"]]:
            if delist[c] and delist[c] <= dates[t + 11]:
                continue
            i = ci[c]
            x.append(e)
            y.append(P[t + 11, i] / P[t + 1, i] - 1)
            idx.append(i)
        x, y, idx = np.array(x), np.array(y), np.array(idx)
        ry = rankdata(y)
        for k, (_, col) in enumerate(cols):
            ic = np.corrcoef(rankdata(x[:, k]), ry)[0, 1]
            maxd = max(maxd, abs(ic - float(r[col])))
        # simple models from bars.csv: 5-day reversal; features for a ridge on 20 daily log returns
        if t >= 20:
            rev = -(lP[t, idx] - lP[t - 5, idx])
            ok = np.isfinite(rev)
            ours["reversal5"].append(np.corrcoef(rankdata(rev[ok]), rankdata(y[ok]))[0, 1])
            F = np.nan_to_num(np.diff(lP[t - 20:t + 1, idx], axis=0).T)
            feats.append((F - F.mean(0)) / (F.std(0) + 1e-12))
            labels.append((ry - ry.mean()) / ry.std())
    mean = {col: np.mean([float(r[col]) for r in ics]) for _, col in cols}
    print("oracle RankIC mean %.4f, conditional %.4f, realised drift %.4f over %d dates; "
          "max |recomputed - written| %.3g" % (mean["rankic"], mean["rankic_conditional"],
                                               mean["rankic_realised_drift"], len(ics), maxd))
    check(maxd < 1e-8, "oracle RankICs differ from the recomputation by %g" % maxd)
    # the oracle is a ceiling: compare on the dates where the simple models exist
    later = [float(r["rankic"]) for r in ics if di[r["date"]] >= 20]
    Xa, ya = np.vstack(feats), np.concatenate(labels)
    beta = np.linalg.solve(Xa.T @ Xa + 1e-3 * len(ya) * np.eye(Xa.shape[1]), Xa.T @ ya)
    for F, ry in zip(feats, labels):
        ours["ridge"].append(np.corrcoef(rankdata(F @ beta), ry)[0, 1])
    o, rv, rg = np.mean(later), np.mean(ours["reversal5"]), np.mean(ours["ridge"])
    print("same %d dates: oracle %.4f, 5-day reversal %.4f, in-sample ridge on 20 daily returns %.4f"
          % (len(later), o, rv, rg))
    if ceiling:
        check(o > mean["rankic_conditional"], "oracle %.4f not above the conditional oracle %.4f"
              % (mean["rankic"], mean["rankic_conditional"]))
        check(o > rv + 0.05 and o > rg + 0.03, "oracle %.4f not clearly above the 5-day reversal %.4f and the "
              "in-sample ridge %.4f" % (o, rv, rg))
    # the true factor returns are recoverable: cross-sectional WLS (weights sqrt(float cap)) of the
    # adjusted returns on industry dummies and SIZE (log float cap at t-1, cap-weighted mean 0,
    # equal-weighted std 1, clipped to +-3), compared with truth/factor_returns.csv
    fmv = np.full((T, N), np.nan)
    for r in bars:
        fmv[di[r["date"]], ci[r["code"]]] = float(r["float_mv"])
    for t in range(1, T):
        m = np.isnan(fmv[t]) & ~np.isnan(fmv[t - 1])
        fmv[t, m] = fmv[t - 1, m]
    inds = read(os.path.join(mdir, "industry.csv"))
    names = sorted({r["industry"] for r in inds})
    ni = {n: k for k, n in enumerate(names)}
    ind = np.full((T, N), -1)
    dates_arr = np.array(dates)
    for r in inds:
        sel = (dates_arr >= (r["start_date"] or "0000")) & (dates_arr <= (r["end_date"] or "9999"))
        ind[sel, ci[r["code"]]] = ni[r["industry"]]
    fr = read(os.path.join(mdir, "truth", "factor_returns.csv"))
    check([r["date"] for r in fr] == dates, "factor_returns.csv dates differ from bars.csv")
    truth = {k: np.array([float(r[k]) for r in fr]) for k in fr[0] if k != "date"}
    K = len(names)
    est = []
    for t in range(1, T):
        ok = trading[t] & ~np.isnan(P[t - 1]) & (ind[t] >= 0)
        cap = fmv[t - 1, ok]
        x = np.log(cap)
        x = np.clip((x - (cap * x).sum() / cap.sum()) / x.std(ddof=1), -3, 3)
        X = np.zeros((ok.sum(), K + 1))
        X[np.arange(ok.sum()), ind[t, ok]] = 1
        X[:, K] = x
        w = cap ** 0.25
        est.append(np.linalg.lstsq(X * w[:, None], (P[t, ok] / P[t - 1, ok] - 1) * w, rcond=None)[0])
    est = np.array(est)
    c_size = np.corrcoef(est[:, K], truth["size"][1:])[0, 1]
    ei = est[:, :K] - est[:, :K].mean(axis=1, keepdims=True)  # industry returns net of their mean
    ti = np.array([truth[n][1:] for n in names]).T
    ti = ti - ti.mean(axis=1, keepdims=True)
    c_ind = [np.corrcoef(ei[:, k], ti[:, k])[0, 1] for k in range(K)]
    print("factor recovery: size corr %.3f, industries corr min %.3f median %.3f"
          % (c_size, min(c_ind), np.median(c_ind)))
    if not ceiling:  # the strong alpha's noisy payoff rivals the industry factors (docstring)
        check(c_size > 0.9, "size factor returns not recovered: corr %.3f" % c_size)
        check(min(c_ind) > 0.85, "industry factor returns not recovered: min corr %.3f" % min(c_ind))


if __name__ == "__main__":
    sys.exit(main())
