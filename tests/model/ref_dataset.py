#!/usr/bin/env python3
"""ref_dataset.py — `zhizeng train --dataset NAME` and `zhizeng score` on an extra dataset from
features/NAME.csv (SPEC 2.1, 3), against an independent numpy re-implementation (model.h).

Writes a small market (24 stocks, 2019-01 .. 2021-12, a late listing, a suspension without bars) and
features/extra.csv with three columns (the daily return plus noise, log volume plus noise, heavy-tailed
noise that the winsorisation clips); one stock has no feature rows at all, about 10 % of the other rows
are left out and about 3 % of the cells are empty. Trains scoring year 2021 (1 training year, 2 epochs,
1 seed, sequence 5), scores 2021 daily, and checks:
  - the preprocessing saved in the model: fitting range = the training period (first trading day of 2019
    .. 12 trading days before the first of 2020), and med, MAD, clip bounds, mean, std of each column over
    every finite value of the valid windows on the fitting dates, to 1e-9 relative;
  - the scored (date, code) pairs are exactly the valid windows of 2021: listed, not suspended, t >= seq-1
    and at least one finite feature value on the day (so the stock without rows is never scored);
  - every score is finite and each date's scores have mean 0 and population std 1 (one seed, z-scored).
usage: ref_dataset.py --zhizeng PATH_TO_zhizeng
"""
import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy (python3-numpy) is not installed")
    sys.exit(77)

S, N, YEAR = 5, 24, 2021
NOROWS = 0          # stock without any feature row
LATE, LATE_T = 7, 100
SUSP, SUSP_T = 3, range(300, 306)


def calendar():
    days, day = [], dt.date(2019, 1, 2)
    while day <= dt.date(2021, 12, 31):
        if day.weekday() < 5:
            days.append(int(day.strftime("%Y%m%d")))
        day += dt.timedelta(days=1)
    return days


def make_market(d, rng):
    ymd = calendar()
    T = len(ymd)
    codes = ["%06d.SZ" % (1 + k) for k in range(N)]
    has = np.zeros((T, N), bool)
    close = np.full((T, N), np.nan)
    vol = np.full((T, N), np.nan)
    with open(os.path.join(d, "bars.csv"), "w") as f:
        f.write("date,code,open,high,low,close,volume,amount,vwap,adj_factor,float_mv,total_mv\n")
        for i in range(N):
            c = 10 + 5 * rng.random()
            for t in range(LATE_T if i == LATE else 0, T):
                c *= 1 + rng.normal(0, 0.02)
                if i == SUSP and t in SUSP_T:
                    continue
                o = c * (1 + rng.normal(0, 0.005))
                hi, lo = max(o, c) * 1.003, min(o, c) * 0.997
                v = float(rng.integers(1000, 100000)) * 100
                fmv = c * 1e8 * (1 + i)
                f.write("%d,%s,%.4f,%.4f,%.4f,%.4f,%.0f,%.2f,%.4f,1,%.2f,%.2f\n"
                        % (ymd[t], codes[i], o, hi, lo, c, v, v * c, c, fmv, fmv * 1.5))
                has[t, i], close[t, i], vol[t, i] = True, c, v
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
            f.write("%s,IND%d\n" % (codes[i], i % 3))
    # the extra dataset
    X = np.full((T, N, 3), np.nan)
    os.makedirs(os.path.join(d, "features"))
    with open(os.path.join(d, "features", "extra.csv"), "w") as f:
        f.write("date,code,ret_noisy,logvol_noisy,heavy\n")
        for t in range(1, T):
            for i in range(N):
                if i == NOROWS or not has[t, i] or rng.random() < 0.1:
                    continue
                r = close[t, i] / close[t - 1, i] - 1 if has[t - 1, i] else 0.0
                v = [r + rng.normal(0, 0.01), np.log(vol[t, i]) + rng.normal(0, 0.1), rng.standard_t(2)]
                cells = []
                for j in range(3):
                    if rng.random() < 0.03:
                        cells.append("")
                    else:
                        s = "%.7g" % v[j]
                        cells.append(s)
                        X[t, i, j] = float(np.float32(float(s)))  # the panel stores floats
                f.write("%d,%s,%s\n" % (ymd[t], codes[i], ",".join(cells)))
    listed = np.zeros((T, N), bool)
    for i in range(N):
        listed[np.argmax(has[:, i]):, i] = True
    susp = listed & ~has
    return ymd, codes, X, listed, susp


def valid(X, listed, susp):
    T = X.shape[0]
    ok = listed & ~susp & np.isfinite(X).any(axis=2)
    ok[:S - 1] = False
    return ok


def fit_prep(X, ok, t0, t1, stride):
    vals = [[] for _ in range(3)]
    for t in range(t0, t1 + 1, stride):
        for i in np.where(ok[t])[0]:
            w = X[t - S + 1:t + 1, i, :]
            for j in range(3):
                vals[j].extend(w[np.isfinite(w[:, j]), j])
    out = []
    for j in range(3):
        v = np.array(vals[j])
        med = np.median(v)
        mad = np.median(np.abs(v - med))
        lo, hi = med - 7 * mad, med + 7 * mad
        c = np.clip(v, lo, hi)
        sd = c.std()
        out.append([med, mad, lo, hi, c.mean(), sd if sd > 0 else 1.0])
    return np.array(out).T  # rows: med, mad, lo, hi, mean, std


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(" ".join(cmd), "failed:\n", r.stdout[-2000:], r.stderr[-4000:])
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    a = ap.parse_args()
    if not os.path.exists(a.zhizeng):
        print("SKIP: no zhizeng binary at", a.zhizeng)
        return 77
    rng = np.random.default_rng(11)
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        market, models = os.path.join(d, "m"), os.path.join(d, "models")
        os.makedirs(market)
        ymd, codes, X, listed, susp = make_market(market, rng)
        run([a.zhizeng, "train", "--market", market, "--out", models, "--year", str(YEAR), "--dataset", "extra",
             "--seq", str(S), "--epochs", "2", "--patience", "2", "--seeds", "1", "--train-years", "1",
             "--hidden", "4", "--threads", "1", "--no-progress"])
        scores = os.path.join(d, "scores.csv")
        run([a.zhizeng, "score", "--market", market, "--models", models, "--out", scores, "--year", str(YEAR)])

        # --- the preprocessing in the model file
        blob = open(os.path.join(models, "Y%d_seed0.zzm" % YEAR), "rb").read()
        m = re.search(rb"feat_prep v1;dataset=([^;]*);seq=(\d+);n=(\d+);stride=(\d+);fit=(\d+)-(\d+)", blob)
        if not m:
            print("no feature preprocessing found in the model file")
            return 1
        ds, seq, n, stride, f0, f1 = m.group(1).decode(), *[int(v) for v in m.groups()[1:]]
        idx = {y: t for t, y in enumerate(ymd)}
        first = lambda y: min(t for t, v in enumerate(ymd) if v // 10000 == y)
        t0, t1 = first(YEAR - 2), first(YEAR - 1) - 12
        if (ds, seq, n) != ("extra", S, 3) or (idx[f0], idx[f1]) != (t0, t1):
            print("preprocessing header: got dataset %s seq %d n %d fit %d-%d; expected extra %d 3 fit %d-%d"
                  % (ds, seq, n, f0, f1, S, ymd[t0], ymd[t1]))
            bad += 1
        num = rb"(?:-?inf|[-+0-9.eE]+)"
        got = []
        for key in (b"med", b"mad", b"lo", b"hi", b"mean", b"std"):
            mm = re.search(rb";" + key + rb"=(" + num + rb"(?:," + num + rb"){2})", blob)
            got.append([float(v) for v in mm.group(1).decode().split(",")])
        got = np.array(got)
        ok = valid(X, listed, susp)
        ref = fit_prep(X, ok, t0, t1, stride)
        if not np.allclose(got, ref, rtol=1e-9, atol=1e-12):
            print("preprocessing differs:\nC:\n", got, "\nnumpy:\n", ref)
            bad += 1
        if not (ref[2, 2] > np.nanmin(X[t0:t1 + 1, :, 2]) or ref[3, 2] < np.nanmax(X[t0:t1 + 1, :, 2])):
            print("the heavy-tailed column was not clipped: the winsorisation is not exercised")
            bad += 1

        # --- which stock-days are scored
        rows = np.genfromtxt(scores, delimiter=",", names=True, dtype=None, encoding="utf-8")
        seen = {}
        for r in rows:
            t = idx[int(r["date"].replace("-", ""))]
            seen.setdefault(t, []).append((codes.index(r["code"]), float(r["score"])))
        expect = {(t, i) for t in range(len(ymd)) if ymd[t] // 10000 == YEAR for i in np.where(ok[t])[0]}
        gotset = {(t, i) for t, v in seen.items() for i, _ in v}
        if gotset != expect:
            print("scored stock-days differ: %d only in C, %d only in numpy; e.g. %s / %s"
                  % (len(gotset - expect), len(expect - gotset), sorted(gotset - expect)[:3],
                     sorted(expect - gotset)[:3]))
            bad += 1
        if any(i == NOROWS for _, i in gotset):
            print("the stock without feature rows was scored")
            bad += 1
        for t, v in seen.items():
            s = np.array([x for _, x in v])
            if not np.isfinite(s).all() or abs(s.mean()) > 1e-9 or abs(s.std() - 1) > 1e-9:
                print("scores of %d are not z-scored: mean %g std %g" % (ymd[t], s.mean(), s.std()))
                bad += 1
                break
        if len(gotset) < 3000:
            print("too few scores to be a meaningful test:", len(gotset))
            bad += 1
        print("checked %d preprocessing values, %d scored stock-days; %d mismatches" % (got.size, len(gotset), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
