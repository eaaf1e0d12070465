#!/usr/bin/env python3
"""ref_stats.py - checks the shared statistics of data/zz_stats.c against scipy/numpy, through the
test_stats driver (tests/data/test_stats.c):
  * zz_spearman / zz_spearman_ws == scipy.stats.spearmanr(a, b) (nan_policy="propagate") to 1e-12 on
    random vectors of every size 1 .. 500, with ties (rounded values), all-equal sides, n = 1 and 2,
    NaN entries (-> NaN) and +-inf entries (ranked as the extremes); NaN when n < 2 or a side is
    constant (scipy warns and returns nan there, or refuses n < 2);
  * zz_rank_avg == scipy.stats.rankdata(method="average"), NaN entries ranked NaN and the others among
    themselves;
  * +-inf: scipy ranks +inf alone fine, but takes +inf and -inf together for NaN (its NaN test is
    isnan(sum(a))), so for scipy the infinities are replaced by +-1e300 (same order, same ranks);
  * zz_zscore == (x - mean) / std(ddof=0) over the finite entries (numpy), non-finite -> NaN, all equal or
    one finite value -> 0, to 1e-12.
Exit 77 (skip) when numpy or scipy is missing.
"""
import argparse
import subprocess
import sys
import warnings

try:
    import numpy as np
    from scipy import stats
except ImportError as e:
    print(f"numpy/scipy not available ({e}; Debian: python3-numpy python3-scipy): skipping")
    sys.exit(77)

TOL = 1e-12
failures = []


def fmt(v):
    return " ".join(repr(float(x)) for x in v)


def run(driver, mode, cases):
    text = "".join(f"{len(c[0])} " + " ".join(fmt(v) for v in c) + "\n" for c in cases)
    out = subprocess.run([driver, mode], input=text, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr)
        sys.exit(f"{driver} {mode} exited {out.returncode}")
    rows = [line.split() for line in out.stdout.splitlines()]
    return [(r[0], np.array([float(x) for x in r[1:]])) for r in rows]


def close(name, got, want):
    got, want = np.atleast_1d(np.asarray(got, float)), np.atleast_1d(np.asarray(want, float))
    if got.shape != want.shape:
        failures.append(f"{name}: shape {got.shape} != {want.shape}")
        return
    if not (np.isnan(got) == np.isnan(want)).all():
        failures.append(f"{name}: nan mismatch got {got[:6]} want {want[:6]}")
        return
    g, w = got[~np.isnan(got)], want[~np.isnan(want)]
    if g.size and np.max(np.abs(g - w)) > TOL:
        k = int(np.argmax(np.abs(g - w)))
        failures.append(f"{name}: got {g[k]!r} want {w[k]!r} (abs err {abs(g[k] - w[k]):.3g})")


def no_inf(a):
    return np.where(np.isposinf(a), 1e300, np.where(np.isneginf(a), -1e300, a))


def ref_spearman(a, b):
    a, b = no_inf(a), no_inf(b)
    if len(a) < 2:
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = stats.spearmanr(a, b, nan_policy="propagate").statistic
    return float(r)


def ref_ranks(a):
    out = np.full(len(a), np.nan)
    ok = ~np.isnan(a)
    if ok.any():
        out[ok] = stats.rankdata(no_inf(a[ok]), method="average")
    return out


def ref_zscore(x):
    f = np.isfinite(x)
    z = np.full(len(x), np.nan)
    if f.any():
        v = x[f]
        sd = v.std(ddof=0)
        z[f] = 0.0 if (v == v[0]).all() or sd == 0 else (v - v.mean()) / sd
    return f.sum(), z


def spearman_cases(rng):
    cases = []
    for n in range(1, 501):  # continuous, then ties from rounding, then a correlated pair
        a = rng.normal(size=n)
        b = 0.3 * a + rng.normal(size=n)
        cases.append((f"random n={n}", a, b))
        cases.append((f"ties n={n}", np.round(a * 2), np.round(b)))
    for n in (1, 2, 3, 7):
        cases.append((f"all equal a n={n}", np.full(n, 0.25), rng.normal(size=n)))
        cases.append((f"all equal b n={n}", rng.normal(size=n), np.full(n, -3.0)))
    cases.append(("n=2 up", np.array([1.0, 2.0]), np.array([5.0, 9.0])))
    cases.append(("n=2 down", np.array([1.0, 2.0]), np.array([9.0, 5.0])))
    cases.append(("n=2 tie", np.array([1.0, 1.0]), np.array([9.0, 5.0])))
    for n in (2, 5, 50):
        a, b = rng.normal(size=n), rng.normal(size=n)
        a2 = a.copy()
        a2[n // 2] = np.nan
        cases.append((f"nan in a n={n}", a2, b))
        cases.append((f"nan in b n={n}", b, a2))
        a3 = a.copy()
        a3[0], a3[-1] = np.inf, -np.inf
        cases.append((f"+-inf in a n={n}", a3, b))
        a4 = a.copy()
        a4[n - 1] = np.inf
        cases.append((f"+inf in a n={n}", a4, b))  # scipy copes with this one unmapped
        close(f"scipy +inf n={n}", ref_spearman(a4, b), stats.spearmanr(a4, b).statistic if n > 1 else np.nan)
    return cases


def zscore_cases(rng):
    cases = [("empty", np.array([]))]
    for n in range(1, 501, 7):
        cases.append((f"random n={n}", rng.normal(3.0, 2.0, size=n)))
        x = rng.normal(size=n)
        x[rng.random(n) < 0.2] = np.nan
        cases.append((f"with nan n={n}", x))
    cases += [
        ("std 0", np.full(6, 0.1)),
        ("std 0 with nan", np.array([7.0, np.nan, 7.0, np.inf, 7.0])),
        ("one finite", np.array([np.nan, 3.5, -np.inf])),
        ("all nan", np.array([np.nan, np.nan, np.nan])),
        ("two values", np.array([-1.0, 5.0])),
        ("inf entries", np.array([1.0, np.inf, 2.0, -np.inf, 4.0])),
    ]
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True, help="the test_stats executable")
    args = ap.parse_args()
    rng = np.random.default_rng(20240607)

    sc = spearman_cases(rng)
    got = run(args.driver, "spearman", [(a, b) for _, a, b in sc])
    if len(got) != 2 * len(sc):
        sys.exit(f"spearman: {len(got)} lines for {len(sc)} cases")
    for k, (name, a, b) in enumerate(sc):
        close(f"spearman {name}", got[2 * k][1], ref_spearman(a, b))
        close(f"ranks {name}", got[2 * k + 1][1], ref_ranks(a))

    zc = zscore_cases(rng)
    got = run(args.driver, "zscore", [(x,) for _, x in zc])
    if len(got) != len(zc):
        sys.exit(f"zscore: {len(got)} lines for {len(zc)} cases")
    for (name, x), (_, v) in zip(zc, got):
        m, z = ref_zscore(x)
        if int(v[0]) != m:
            failures.append(f"zscore {name}: count {int(v[0])} != {m}")
        close(f"zscore {name}", v[1:], z)

    for f in failures[:20]:
        print("FAIL", f)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print(f"stats: {len(sc)} Spearman/rank cases and {len(zc)} z-score cases match scipy/numpy to {TOL:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
