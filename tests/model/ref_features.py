#!/usr/bin/env python3
"""ref_features.py — checks the "day" features, their preprocessing and the labels against an
independent numpy re-implementation (SPEC 3, model.h).

Writes a small random market directory (12 stocks, 90 trading days, an ex-rights day, a suspension
without bars, a late listing, 3 industries), runs test_feat_dump on it, recomputes everything in
numpy from the CSV values and the conventions of data.h (a suspended day carries the last close,
volume 0) and compares: preprocessing parameters to 1e-9 relative, features to 1e-6, labels to 1e-8.
usage: ref_features.py --dump PATH_TO_test_feat_dump
"""
import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy (python3-numpy) is not installed")
    sys.exit(77)

S, T, N = 5, 90, 12
T0, T1 = 20, 60  # preprocessing fitting range (date indices)


def make_market(d, rng):
    days = []
    day = dt.date(2021, 1, 4)
    while len(days) < T:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    ymd = [int(x.strftime("%Y%m%d")) for x in days]
    codes = ["%06d.SZ" % (1 + k) for k in range(N)]
    ind = [k % 3 for k in range(N)]
    first = [0] * N
    first[N - 1] = 30  # listed late
    missing = {(3, t) for t in range(40, 44)}  # suspended, no bars
    adj = np.ones((T, N))
    adj[50:, 5] = 2.0  # ex-rights on day 50: unadjusted price halves
    close = np.full((T, N), np.nan)
    bars = []
    for i in range(N):
        c = 10 + 5 * rng.random()
        for t in range(first[i], T):
            c = c * (1 + rng.normal(0, 0.02))
            ca = c / adj[t, i]
            if (i, t) in missing:
                continue
            close[t, i] = ca
            o = ca * (1 + rng.normal(0, 0.005))
            hi = max(o, ca) * (1 + abs(rng.normal(0, 0.005)))
            lo = min(o, ca) * (1 - abs(rng.normal(0, 0.005)))
            vol = float(rng.integers(1000, 100000)) * 100 * adj[t, i]
            vw = 0.5 * (o + ca)
            amt = vw * vol
            fmv = ca * 1e8 * (1 + i)
            bars.append((ymd[t], codes[i], o, hi, lo, ca, vol, amt, vw, adj[t, i], fmv, fmv * 1.5))
    with open(os.path.join(d, "bars.csv"), "w") as f:
        f.write("date,code,open,high,low,close,volume,amount,vwap,adj_factor,float_mv,total_mv\n")
        for b in bars:
            f.write("%d,%s,%.4f,%.4f,%.4f,%.4f,%.0f,%.2f,%.6f,%.6f,%.2f,%.2f\n" % b)
    with open(os.path.join(d, "index_bars.csv"), "w") as f:
        f.write("date,index,close\n")
        for y in ymd:
            f.write("%d,000300,%.2f\n" % (y, 4000 + rng.normal()))
    with open(os.path.join(d, "index_weights.csv"), "w") as f:
        f.write("date,index,code,weight\n")
        for k in range(4):
            f.write("%d,000300,%s,25\n" % (ymd[0], codes[k]))
    with open(os.path.join(d, "industry.csv"), "w") as f:
        f.write("code,industry\n")
        for i in range(N):
            f.write("%s,IND%d\n" % (codes[i], ind[i]))
    return ymd, codes, ind


def load_panel(d, ymd, codes):
    """Re-reads bars.csv into dense arrays with the data.h conventions."""
    idx_t = {y: t for t, y in enumerate(ymd)}
    idx_i = {c: i for i, c in enumerate(codes)}
    F = {k: np.full((T, N), np.nan) for k in ("open", "high", "low", "close", "volume", "vwap", "adj", "fmv")}
    has = np.zeros((T, N), bool)
    rows = np.genfromtxt(os.path.join(d, "bars.csv"), delimiter=",", names=True, dtype=None, encoding="utf-8")
    for r in rows:
        t, i = idx_t[int(r["date"])], idx_i[r["code"]]
        has[t, i] = True
        for k, col in (("open", "open"), ("high", "high"), ("low", "low"), ("close", "close"),
                       ("volume", "volume"), ("vwap", "vwap"), ("adj", "adj_factor"), ("fmv", "float_mv")):
            F[k][t, i] = float(r[col])
    listed = np.zeros((T, N), bool)
    susp = np.zeros((T, N), bool)
    for i in range(N):
        first = np.argmax(has[:, i])
        listed[first:, i] = True
        for t in range(first, T):
            if not has[t, i]:  # suspended: carry the last close, volume 0, same adj
                susp[t, i] = True
                for k in ("open", "high", "low", "close", "vwap"):
                    F[k][t, i] = F["close"][t - 1, i]
                F["volume"][t, i] = 0.0
                F["adj"][t, i] = F["adj"][t - 1, i]
    return F, listed, susp


def features(F, listed, susp):
    v = F["volume"] / F["adj"]
    volrel = np.full((T, N), np.nan)
    for i in range(N):
        for t in range(19, T):
            w = v[t - 19:t + 1, i]
            if listed[t - 19:t + 1, i].all() and np.isfinite(w).all():
                m = sum(w) / 20.0
                if m > 0:
                    volrel[t, i] = v[t, i] / m
    dayok = listed & np.isfinite(volrel)
    for k in ("open", "high", "low", "close", "vwap", "adj"):
        dayok &= np.isfinite(F[k]) & (F[k] > 0)
    X = {}
    for t in range(S - 1, T):
        for i in range(N):
            if not listed[t, i] or susp[t, i] or not dayok[t - S + 1:t + 1, i].all():
                continue
            last = F["close"][t, i] * F["adj"][t, i]
            w = np.zeros((S, 6))
            for s in range(S):
                u = t - S + 1 + s
                a = F["adj"][u, i]
                w[s, :5] = [F[k][u, i] * a / last for k in ("open", "high", "low", "close", "vwap")]
                w[s, 5] = volrel[u, i]
            X[(t, i)] = w
    return X


def fit_prep(X):
    vals = np.concatenate([X[k] for k in sorted(X) if T0 <= k[0] <= T1], axis=0)
    out = []
    for f in range(6):
        v = vals[:, f]
        med = np.median(v)
        mad = np.median(np.abs(v - med))
        lo, hi = med - 7 * mad, med + 7 * mad
        c = np.clip(v, lo, hi)
        mean, sd = c.mean(), c.std()
        out.append((med, mad, lo, hi, mean, sd if sd > 0 else 1.0))
    return np.array(out)


def labels(F, listed, susp, ind, n_ind=3):
    P = F["close"] * F["adj"]
    raw = np.full((T, N), np.nan)
    raw[:T - 11] = P[11:] / P[1:T - 10] - 1
    raw[~np.isfinite(raw)] = np.nan
    lab = np.full((T, N), np.nan)
    for t in range(T):
        ok = listed[t] & ~susp[t] & np.isfinite(raw[t]) & np.isfinite(F["fmv"][t]) & (F["fmv"][t] > 0)
        if ok.sum() < 3:
            continue
        rows = np.where(ok)[0]
        A = np.zeros((len(rows), n_ind + 1))
        for r, i in enumerate(rows):
            A[r, ind[i]] = 1
            A[r, n_ind] = np.log(F["fmv"][t, i])
        A = A[:, np.abs(A).sum(axis=0) > 0]
        coef, *_ = np.linalg.lstsq(A, raw[t, rows], rcond=None)
        res = raw[t, rows] - A @ coef
        lab[t, rows] = (res - res.mean()) / res.std()
    return raw, lab


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as d:
        market, out = os.path.join(d, "m"), os.path.join(d, "o")
        os.makedirs(market), os.makedirs(out)
        ymd, codes, ind = make_market(market, rng)
        r = subprocess.run([a.dump, market, out, str(S), str(T0), str(T1)], capture_output=True, text=True)
        if r.returncode != 0:
            print("test_feat_dump failed:", r.stderr)
            return 1
        F, listed, susp = load_panel(market, ymd, codes)
        X = features(F, listed, susp)
        prep = fit_prep(X)
        bad = 0
        got = np.genfromtxt(os.path.join(out, "prep.csv"), delimiter=",", skip_header=1)[:, 1:]
        if not np.allclose(got, prep, rtol=1e-9, atol=1e-12):
            print("preprocessing parameters differ:\nC:\n", got, "\nnumpy:\n", prep)
            bad += 1
        idx_t = {y: t for t, y in enumerate(ymd)}
        idx_i = {c: i for i, c in enumerate(codes)}
        seen = set()
        for line in open(os.path.join(out, "x.csv")):
            parts = line.strip().split(",")
            t, i = idx_t[int(parts[0])], idx_i[parts[1]]
            seen.add((t, i))
            x = np.array([float(v) for v in parts[2:]]).reshape(S, 6)
            if (t, i) not in X:
                print("C has a window numpy considers invalid:", parts[0], parts[1])
                bad += 1
                continue
            ref = (np.clip(X[(t, i)], prep[:, 2], prep[:, 3]) - prep[:, 4]) / prep[:, 5]
            if not np.allclose(x, ref, rtol=0, atol=1e-6 * max(1.0, np.abs(ref).max())):
                print("features differ at", parts[0], parts[1], "max |diff|", np.abs(x - ref).max())
                bad += 1
        missing = set(X) - seen
        if missing:
            print("numpy windows missing from C:", sorted(missing)[:5])
            bad += 1
        if len(seen) < 200:
            print("too few valid windows to be a meaningful test:", len(seen))
            bad += 1
        raw, lab = labels(F, listed, susp, ind)
        L = np.genfromtxt(os.path.join(out, "labels.csv"), delimiter=",", names=True, dtype=None, encoding="utf-8")
        for row in L:
            t, i = idx_t[int(row["date"])], idx_i[row["code"]]
            for name, ref in (("raw", raw[t, i]), ("label", lab[t, i])):
                v = row[name]
                v = float(v) if v not in ("", None) and not (isinstance(v, float) and np.isnan(v)) else np.nan
                if np.isnan(v) != np.isnan(ref) or (not np.isnan(v) and abs(v - ref) > 1e-8 * max(1, abs(ref))):
                    print("%s differs at %s %s: C %r numpy %r" % (name, row["date"], row["code"], v, ref))
                    bad += 1
        n_lab = int(np.isfinite(lab).sum())
        print("compared %d windows, %d labels; %d mismatches" % (len(seen), n_lab, bad))
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
