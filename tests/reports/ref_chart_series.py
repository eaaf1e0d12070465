#!/usr/bin/env python3
"""The series reports/rep_html.c's charts draw (rep_chart_drawdown, rep_chart_cumsum, rep_chart_long_short),
run by rep_driver on hand-made inputs with gaps (NaN), against an independent pure-Python computation:
  drawdown[t]   = nav[t] / max(finite nav[0..t]) - 1   (NaN where nav[t] is NaN)
  cumsum[t]     = sum of the finite v[0..t]
  long_short[t] = prod over j <= t of (1 + top[j] - bottom[j]), a NaN difference skipped
Also a NAV that first falls and never recovers, and one that only rises (drawdown 0 throughout)."""
import argparse, math, os, random, subprocess, sys, tempfile


def drawdown(nav):
    out, seen = [], []
    for v in nav:
        if not math.isnan(v):
            seen.append(v)
        out.append(float("nan") if math.isnan(v) or not seen else v / max(seen) - 1.0)
    return out


def cumsum(v):
    return [math.fsum(x for x in v[: t + 1] if not math.isnan(x)) for t in range(len(v))]


def long_short(top, bottom):
    out, p = [], 1.0
    for a, b in zip(top, bottom):
        if not (math.isnan(a) or math.isnan(b)):
            p *= 1.0 + a - b
        out.append(p)
    return out


def run(driver, rows, tmp):
    path = os.path.join(tmp, "in.csv")
    with open(path, "w") as f:
        f.write("nav,v,top,bottom\n")
        for r in rows:
            f.write(",".join("" if math.isnan(x) else repr(x) for x in r) + "\n")
    p = subprocess.run([driver, "chartdata", path], capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"FAIL: rep_driver chartdata: {p.stderr}")
    return {l.split()[0]: [float(x) for x in l.split()[1:]] for l in p.stdout.splitlines()}


def same(name, got, want, tol=1e-12):
    assert len(got) == len(want), f"{name}: {len(got)} values, expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        if math.isnan(w):
            assert math.isnan(g), f"{name}[{k}] = {g}, expected undefined"
        else:
            assert abs(g - w) <= tol * max(1.0, abs(w)), f"{name}[{k}] = {g!r}, expected {w!r}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    a = ap.parse_args()
    rng = random.Random(13)
    nan = float("nan")
    cases = []
    # random walks with gaps
    for n in (1, 2, 50, 400):
        nav, rows = 1.0, []
        for t in range(n):
            nav *= 1 + rng.gauss(0.0003, 0.012)
            v = rng.gauss(0.03, 0.08)
            top, bot = rng.gauss(0.001, 0.01), rng.gauss(-0.001, 0.01)
            rows.append([nan if rng.random() < 0.05 else nav, nan if rng.random() < 0.1 else v,
                         nan if rng.random() < 0.05 else top, bot])
        cases.append(rows)
    # falls and never recovers; only rises; starts undefined
    cases.append([[1.0 - 0.01 * t, 0.0, 0.0, 0.01] for t in range(20)])
    cases.append([[1.0 + 0.01 * t, -0.01, 0.02, 0.0] for t in range(20)])
    cases.append([[nan, nan, nan, nan], [1.2, 0.5, 0.1, 0.0], [0.9, nan, 0.0, 0.1], [1.5, 1.0, 0.0, 0.0]])
    with tempfile.TemporaryDirectory() as tmp:
        for k, rows in enumerate(cases):
            got = run(a.driver, rows, tmp)
            cols = list(zip(*rows))
            same(f"case {k} drawdown", got["drawdown"], drawdown(cols[0]))
            same(f"case {k} cumsum", got["cumsum"], cumsum(cols[1]))
            same(f"case {k} long_short", got["long_short"], long_short(cols[2], cols[3]))
    # hand-checked values of the last case
    assert got["drawdown"][2] == 0.9 / 1.2 - 1 and got["drawdown"][3] == 0.0
    print(f"ok: drawdown, cumulative sum and top-minus-bottom NAV of {len(cases)} inputs match the reference")


if __name__ == "__main__":
    main()
