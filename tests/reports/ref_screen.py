#!/usr/bin/env python3
"""Factor screening (`zhizeng screen`, seed 004 section 3.1.3) on a panel with planted columns.

On a `zhizeng synth` market (1,900 stocks, 2021) the script computes each stock-day's forward return the
factor tests use (adjusted close of t+1 to t+11) from bars.csv and writes a factor file:
  sig_a       forward return + noise (a strong signal)
  sig_a_dup   an exact copy of sig_a
  sig_a_near  sig_a + noise (Spearman with sig_a ~0.8 > 0.7; weaker)
  noise1      pure noise
  sig_b       -(forward return + independent noise): a signal with the wrong sign (flipped, then kept)
  sig_c       sig_a + noise, in another group than sig_a (correlated across groups, weaker)
  noise2      pure noise
  flat        a constant (no factor test possible)
with groups value = {sig_a, sig_a_dup, sig_a_near, noise1}, momentum = {sig_b, sig_c, noise2, flat}, and
checks every decision and its reason: sig_a and sig_b kept (sig_b flipped), the duplicate and the near
duplicate dropped in favour of sig_a within the group (the duplicate by the earlier-column tie rule), sig_c
dropped across groups, the noise columns and the constant dropped by the thresholds / the factor test.
Independently of the C code (pure Python, average ranks) it recomputes sig_a's mean RankIC and IC_IR, sig_b's
(after the flip), and the mean daily Spearman of (sig_a, sig_a_near) and (sig_a, sig_c), to 1e-9 relative
(the CSV's 10 significant digits). Without the
groups file sig_c's reason names sig_a without a group. The kept columns' features/screened.csv has the
kept factors (sig_b negated) and is accepted as a dataset by `zhizeng ingest`.
"""
import argparse
import csv
import math
import os
import random
import shutil
import subprocess
import sys


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ranks(v):
    order = sorted(range(len(v)), key=lambda k: v[k])
    r = [0.0] * len(v)
    j = 0
    while j < len(order):
        e = j
        while e + 1 < len(order) and v[order[e + 1]] == v[order[j]]:
            e += 1
        for q in range(j, e + 1):
            r[order[q]] = (j + e) / 2.0 + 1
        j = e + 1
    return r


def pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    return sab / math.sqrt(saa * sbb) if saa > 0 and sbb > 0 else float("nan")


def spearman(a, b):
    return pearson(ranks(a), ranks(b))


def load_market(d):
    dates, rows = [], {}
    with open(os.path.join(d, "index_bars.csv")) as f:
        for r in csv.DictReader(f):
            dates.append(r["date"])
    dates = sorted(set(dates))
    ti = {x: k for k, x in enumerate(dates)}
    with open(os.path.join(d, "bars.csv")) as f:
        for r in csv.DictReader(f):
            rows[(ti[r["date"]], r["code"])] = (float(r["close"]) * float(r["adj_factor"]), r["suspended"] == "1")
    delist = {}
    with open(os.path.join(d, "stocks.csv")) as f:
        for r in csv.DictReader(f):
            if r.get("delist_date"):
                delist[r["code"]] = r["delist_date"]
    codes = sorted(set(c for _, c in rows))
    T = len(dates)
    adj, univ = {}, {}
    for c in codes:
        ts = [t for t in range(T) if (t, c) in rows]
        first, last = ts[0], ts[-1]
        end = last if c in delist and delist[c] <= dates[-1] else T - 1
        cur = float("nan")
        for t in range(first, end + 1):
            if (t, c) in rows:
                cur = rows[(t, c)][0]
                univ[(t, c)] = not rows[(t, c)][1]
            else:
                univ[(t, c)] = False
            adj[(t, c)] = cur
    return dates, codes, adj, univ


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    mk = os.path.join(a.work, "market")
    p = subprocess.run([a.zhizeng, "synth", "--out", mk, "--stocks", "1900", "--start", "2021-01-01", "--end",
                        "2021-12-31"], capture_output=True, text=True)
    if p.returncode != 0:
        fail("synth: " + p.stderr[-1000:])
    dates, codes, adj, univ = load_market(mk)
    T = len(dates)
    rng = random.Random(4)
    fwd = {}
    for t in range(T - 11):
        for c in codes:
            x0, x1 = adj.get((t + 1, c), float("nan")), adj.get((t + 11, c), float("nan"))
            if (t, c) in adj and not math.isnan(x0) and not math.isnan(x1):
                fwd[(t, c)] = x1 / x0 - 1
    names = ["sig_a", "sig_a_dup", "sig_a_near", "noise1", "sig_b", "sig_c", "noise2", "flat"]
    F = {n: {} for n in names}
    for t in range(T - 11):
        keys = [c for c in codes if (t, c) in fwd]
        if len(keys) < 2:
            continue
        v = [fwd[(t, c)] for c in keys]
        m = sum(v) / len(v)
        sd = math.sqrt(sum((x - m) ** 2 for x in v) / len(v))
        for c in keys:
            x = fwd[(t, c)]
            sa = x + 2.5 * sd * rng.gauss(0, 1)
            F["sig_a"][(t, c)] = sa
            F["sig_a_dup"][(t, c)] = sa
            F["sig_a_near"][(t, c)] = sa + 2.0 * sd * rng.gauss(0, 1)  # sd(sig_a) ~ 2.7 sd: rho ~ 0.8
            F["noise1"][(t, c)] = rng.gauss(0, 1)
            F["sig_b"][(t, c)] = -(x + 2.5 * sd * rng.gauss(0, 1))
            F["sig_c"][(t, c)] = sa + 1.5 * sd * rng.gauss(0, 1)
            F["noise2"][(t, c)] = rng.gauss(0, 1)
            F["flat"][(t, c)] = 1.0
    fpath = os.path.join(a.work, "factors.csv")
    with open(fpath, "w") as f:
        f.write("date,code," + ",".join(names) + "\n")
        for (t, c) in sorted(F["sig_a"]):
            f.write("%s,%s,%s\n" % (dates[t], c, ",".join(repr(F[n][(t, c)]) for n in names)))
    gpath = os.path.join(a.work, "groups.csv")
    with open(gpath, "w") as f:
        f.write("factor,group\n")
        for n in names:
            f.write("%s,%s\n" % (n, "value" if n in ("sig_a", "sig_a_dup", "sig_a_near", "noise1") else "momentum"))

    def run(out, grouped):
        cmd = [a.zhizeng, "screen", "--market", mk, "--factors", fpath, "--out", out, "--keep-st",
               "--min-listed-days", "0"] + (["--groups", gpath] if grouped else [])
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            fail("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr[-2000:]))
        with open(os.path.join(out, "decisions.csv")) as f:
            return {r["factor"]: r for r in csv.DictReader(f)}

    out = os.path.join(a.work, "screen")
    D = run(out, True)
    want = {"sig_a": "kept", "sig_b": "kept", "sig_a_dup": "dropped", "sig_a_near": "dropped", "sig_c": "dropped",
            "noise1": "dropped", "noise2": "dropped", "flat": "dropped"}
    for n, dec in want.items():
        if D[n]["decision"] != dec:
            fail("%s: %s (%s), expected %s" % (n, D[n]["decision"], D[n]["reason"], dec))
        print("%-11s %-8s flipped=%s %s" % (n, D[n]["decision"], D[n]["sign_flipped"], D[n]["reason"]))
    if D["sig_b"]["sign_flipped"] != "1" or any(D[n]["sign_flipped"] != "0" for n in ("sig_a", "sig_a_near", "sig_c")):
        fail("sign flips: %s" % {n: D[n]["sign_flipped"] for n in names})
    r = D["sig_a_dup"]["reason"]
    if not r.startswith("correlated with sig_a in group value") or "earlier column" not in r:
        fail("sig_a_dup's reason: " + r)
    r = D["sig_a_near"]["reason"]
    if not r.startswith("correlated with sig_a in group value"):
        fail("sig_a_near's reason: " + r)
    if not abs(float(D["sig_a_near"]["ic_ir"])) < abs(float(D["sig_a"]["ic_ir"])):
        fail("sig_a_near dropped but its |IC_IR| is not below sig_a's")
    r = D["sig_c"]["reason"]
    if not r.startswith("correlated with sig_a across groups"):
        fail("sig_c's reason: " + r)
    for n in ("noise1", "noise2"):
        if not D[n]["reason"].startswith("weak:") or "< 0.02" not in D[n]["reason"]:
            fail("%s's reason: %s" % (n, D[n]["reason"]))
    if not D["flat"]["reason"].startswith("no factor test"):
        fail("flat's reason: " + D["flat"]["reason"])
    for n in ("sig_a", "sig_b"):
        if not D[n]["reason"].startswith("kept:"):
            fail("%s's reason: %s" % (n, D[n]["reason"]))
    # independent statistics: RankIC every 10 trading days from the first date, Spearman on the universe
    def rankic(col, sign):
        ics = []
        for t in range(0, T - 11, 10):
            xs, ys = [], []
            for c in codes:
                if univ.get((t, c)) and (t, c) in F[col] and (t, c) in fwd:
                    xs.append(sign * F[col][(t, c)])
                    ys.append(fwd[(t, c)])
            if len(xs) >= 10:
                ics.append(spearman(xs, ys))
        m = sum(ics) / len(ics)
        s = math.sqrt(sum((x - m) ** 2 for x in ics) / (len(ics) - 1))
        return m, m / s
    for n, sign in (("sig_a", 1), ("sig_b", -1)):
        m, ir = rankic(n, sign)
        # the CSV carries 10 significant digits
        if abs(m - float(D[n]["rankic_mean"])) > 1e-9 * max(1, abs(m)) or abs(ir - float(D[n]["ic_ir"])) > 1e-9 * max(1, abs(ir)):
            fail("%s: RankIC mean %s IC_IR %s, reference %r %r" % (n, D[n]["rankic_mean"], D[n]["ic_ir"], m, ir))
        print("%s: RankIC mean %.6f, IC_IR %.4f (reference agrees)" % (n, m, ir))
    with open(os.path.join(out, "correlation.csv")) as f:
        rows = list(csv.reader(f))
    hdr = rows[0][1:]
    C = {(r[0], hdr[k]): r[k + 1] for r in rows[1:] for k in range(len(hdr))}
    if sorted(hdr) != sorted(["sig_a", "sig_a_dup", "sig_a_near", "sig_b", "sig_c"]):
        fail("correlation.csv covers %s, expected the five factors that passed" % hdr)
    for b in ("sig_a_near", "sig_c"):
        ss = []
        for t in range(T):
            xs, ys = [], []
            for c in codes:
                if univ.get((t, c)) and (t, c) in F["sig_a"]:
                    xs.append(F["sig_a"][(t, c)])
                    ys.append(F[b][(t, c)])
            if len(xs) >= 10:
                ss.append(spearman(xs, ys))
        ref = sum(ss) / len(ss)
        got = float(C[("sig_a", b)])
        if abs(ref - got) > 1e-9 * max(1, abs(ref)) or ref <= 0.7:
            fail("mean daily Spearman sig_a/%s: %r, reference %r (must exceed 0.7)" % (b, got, ref))
        if ("%.4f" % ref) not in D[b]["reason"]:
            fail("%s's reason does not give the Spearman %.4f: %s" % (b, ref, D[b]["reason"]))
        print("mean daily Spearman sig_a/%s over %d dates: %.6f (reference agrees)" % (b, len(ss), ref))
    svg = open(os.path.join(out, "correlation.svg")).read()
    if not svg.startswith("<svg") or svg.count("<rect") < 26 or "sig_a_near" not in svg:
        fail("correlation.svg is not the 5 x 5 heat map")
    with open(os.path.join(out, "kept.csv")) as f:
        kept = [(r["factor"], r["sign"]) for r in csv.DictReader(f)]
    if kept != [("sig_a", "1"), ("sig_b", "-1")]:
        fail("kept.csv: %s" % kept)
    # the kept columns as a dataset
    feat = os.path.join(out, "features", "screened.csv")
    with open(feat) as f:
        rd = csv.DictReader(f)
        if rd.fieldnames != ["date", "code", "sig_a", "sig_b"]:
            fail("features/screened.csv header %s" % rd.fieldnames)
        t_of = {x: k for k, x in enumerate(dates)}
        n = 0
        for r in rd:
            key = (t_of[r["date"]], r["code"])
            if float(r["sig_a"]) != F["sig_a"][key] or float(r["sig_b"]) != -F["sig_b"][key]:
                fail("features/screened.csv row %s differs from the planted columns" % r)
            n += 1
        if n != len(F["sig_a"]):
            fail("features/screened.csv has %d rows, expected %d" % (n, len(F["sig_a"])))
    m2 = os.path.join(a.work, "market2")
    os.makedirs(os.path.join(m2, "features"))
    for fn in os.listdir(mk):
        if fn.endswith(".csv"):
            os.symlink(os.path.join(mk, fn), os.path.join(m2, fn))
    shutil.copy(feat, os.path.join(m2, "features", "screened.csv"))
    p = subprocess.run([a.zhizeng, "ingest", "--market", m2, "--no-cache"], capture_output=True, text=True)
    if p.returncode != 0:
        fail("ingest of the market with features/screened.csv: " + p.stderr[-1000:])
    # without groups: one pass over all factors, no group in the reasons
    D2 = run(os.path.join(a.work, "screen_nogroups"), False)
    for n, dec in want.items():
        if D2[n]["decision"] != dec:
            fail("no groups: %s %s (%s)" % (n, D2[n]["decision"], D2[n]["reason"]))
    if not D2["sig_c"]["reason"].startswith("correlated with sig_a: "):
        fail("no groups: sig_c's reason " + D2["sig_c"]["reason"])
    print("all screening checks passed")


if __name__ == "__main__":
    main()
