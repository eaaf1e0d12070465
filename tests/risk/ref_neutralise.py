#!/usr/bin/env python3
"""risk_neutralise vs numpy.linalg.lstsq on random cross-sections (industry dummies + log cap)."""
import argparse, os, subprocess, sys, tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--driver", required=True)
args = ap.parse_args()
rng = np.random.default_rng(20240607)
worst = 0.0
with tempfile.TemporaryDirectory() as tmp:
    for case in range(12):
        n = int(rng.integers(5, 400))
        k = int(rng.integers(1, 12))
        ind = rng.integers(-1, k, size=n)          # -1 = unclassified
        if k > 2:
            ind[ind == 1] = 2                      # industry 1 left empty
        x = rng.normal(22.0, 1.5, size=n)
        y = 0.3 * x + rng.normal(size=n) + 0.5 * ind
        valid = (rng.random(n) > 0.1).astype(int)
        ynan = rng.random(n) < 0.05
        xnan = rng.random(n) < 0.05
        if case == 0:                              # one stock per industry: log cap fully absorbed
            n, k = 4, 3
            ind = np.array([0, 1, 2, -1]); x = rng.normal(22, 1, 4); y = rng.normal(size=4)
            valid = np.ones(4, int); ynan = np.zeros(4, bool); xnan = np.zeros(4, bool)
        inp = os.path.join(tmp, "in.csv"); out = os.path.join(tmp, "out.csv")
        with open(inp, "w") as f:
            f.write("y,valid,industry,log_cap\n")
            for i in range(n):
                f.write("%s,%d,%d,%s\n" % ("" if ynan[i] else repr(float(y[i])), valid[i], ind[i],
                                           "" if xnan[i] else repr(float(x[i]))))
        subprocess.run([args.driver, "neutralise", inp, str(k), out], check=True)
        got = np.array([float(s) for s in open(out).read().split("\n")[1:] if s != ""]
                       ) if n else np.zeros(0)
        use = (valid == 1) & ~ynan & ~xnan
        groups = sorted(set(ind[use].tolist()))
        X = np.column_stack([(ind[use] == g).astype(float) for g in groups] + [x[use]])
        beta, *_ = np.linalg.lstsq(X, y[use], rcond=None)
        ref = np.full(n, np.nan)
        ref[use] = y[use] - X @ beta
        assert got.shape == ref.shape, (got.shape, ref.shape)
        assert np.array_equal(np.isnan(got), np.isnan(ref)), "NaN pattern differs in case %d" % case
        err = float(np.max(np.abs(got[use] - ref[use]))) if use.any() else 0.0
        worst = max(worst, err)
        if err > 1e-9:
            print("case %d: max |resid - numpy| = %g" % (case, err)); sys.exit(1)
print("risk_neutralise matches numpy lstsq: worst abs diff %.3g over 12 cases" % worst)
