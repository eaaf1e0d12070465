#!/usr/bin/env python3
"""Checks the factor units' statistics of reports/ (rep_unit_stats: each unit's RankIC mean, std and IC_IR,
the share of units with |RankIC mean| > 2 %, and the units' mutual correlation of docs/model.md) against
numpy/scipy on the hand-built market of ref_factor.py, to 1e-9, on CSI All and on an index universe."""
import argparse, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    from scipy import stats
except ImportError as e:
    print(f"SKIP: numpy/scipy not available ({e})")
    sys.exit(77)
from ref_factor import H, STEP, close, eligible, make_market, universe, write_market  # noqa: E402


def parse(text):
    res = {}
    for line in text.splitlines():
        p = line.split()
        res[p[0]] = line if p[0].endswith("error") else np.array([float(x) for x in p[1:]])
    return res


def make_units(m, rng):
    sc = m["score"]
    nd, n = sc.shape
    base = np.where(np.isnan(sc), 0.0, sc)
    noise = lambda s: rng.normal(0, s, (nd, n))
    u = [sc, -0.7 * base + noise(1.0), noise(1.0), 0.3 * base + noise(2.0), np.round(base + noise(0.5), 1)]
    u = [np.where(np.isnan(sc), np.nan, x) for x in u]
    u[2][rng.random((nd, n)) < 0.1] = np.nan  # rows where not every unit is defined
    u[4][40:55] = np.nan                      # a stretch of dates without unit 5
    return u


def write_units(d, u):
    nd, n = u[0].shape
    with open(os.path.join(d, "units.csv"), "w") as f:
        f.write("t,i," + ",".join(f"u{k + 1}" for k in range(len(u))) + "\n")
        for t in range(nd):
            for i in range(n):
                v = [x[t, i] for x in u]
                if all(np.isnan(v)):
                    continue
                f.write(f"{t},{i}," + ",".join("" if np.isnan(x) else repr(float(x)) for x in v) + "\n")


def reference(m, u_all, uni, min_n):
    C = np.where((m["flags"] & 1) > 0, m["close"] * m["adj"], np.nan)
    nd, n = C.shape
    K = len(u_all)
    out = {k: [] for k in ("unit_ic_mean", "unit_ic_std", "unit_ic_ir", "unit_n_ic")}
    for x in u_all:
        has = ~np.all(np.isnan(x), axis=1)
        sd, last = [], None
        for t in range(nd):
            if has[t] and (last is None or t - last >= STEP):
                sd.append(t); last = t
        ics = []
        for s in sd:
            if s + 1 + H >= nd:
                break
            y = C[s + 1 + H] / C[s + 1] - 1
            ok = universe(m, uni, s) & np.isfinite(x[s]) & np.isfinite(y)
            if ok.sum() < min_n or len(set(x[s][ok])) < 2:
                continue
            ics.append(stats.spearmanr(x[s][ok], y[ok])[0])
        ics = np.array(ics)
        mean = ics.mean() if len(ics) else np.nan
        std = ics.std(ddof=1) if len(ics) > 1 else np.nan
        out["unit_ic_mean"].append(mean); out["unit_ic_std"].append(std)
        out["unit_ic_ir"].append(mean / std if std > 0 else np.nan); out["unit_n_ic"].append(len(ics))
    means = np.array(out["unit_ic_mean"])
    defined = means[np.isfinite(means)]
    out["unit_share"] = [(np.abs(defined) > 0.02).mean()]
    out["unit_n_defined"] = [len(defined)]
    irs = np.array(out["unit_ic_ir"])
    out["unit_avg"] = [defined.mean(), irs[np.isfinite(irs)].mean()]
    # mutual correlation: per date, Pearson of each pair over the universe's rows with every unit finite;
    # mean over dates per pair; mean |.| over pairs
    rho = [[[] for _ in range(K)] for _ in range(K)]
    used = 0
    for t in range(nd):
        ok = universe(m, uni, t)
        for x in u_all:
            ok = ok & np.isfinite(x[t])
        if ok.sum() < 2:
            continue
        used += 1
        for a in range(K):
            for b in range(a + 1, K):
                xa, xb = u_all[a][t][ok], u_all[b][t][ok]
                if np.all(xa == xa[0]) or np.all(xb == xb[0]):
                    continue
                rho[a][b].append(np.corrcoef(xa, xb)[0, 1])
    pairs = np.eye(K)
    vals = []
    for a in range(K):
        for b in range(a + 1, K):
            pairs[a, b] = pairs[b, a] = np.mean(rho[a][b]) if rho[a][b] else np.nan
            if rho[a][b]:
                vals.append(abs(pairs[a, b]))
    out["unit_mutual"] = [np.mean(vals)]
    out["unit_corr_dates"] = [used]
    out["unit_pairs"] = pairs.ravel()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    m = make_market(rng)
    u = make_units(m, np.random.default_rng(11))
    with tempfile.TemporaryDirectory() as tmp:
        for uni, G, min_n, screen in [(-1, 5, 10, (1, 1, 60)), (0, 3, 8, (1, 1, 60)), (-1, 5, 10, (1, 0, 0))]:
            write_market(m, tmp, screen=screen)
            write_units(tmp, u)
            m["elig"] = eligible(m, screen)
            out = subprocess.run([a.driver, "factor", tmp, str(uni), str(G), str(min_n)], capture_output=True,
                                 text=True, check=True).stdout
            got = parse(out)
            assert "unit_error" not in got and "error" not in got, out[-2000:]
            want = reference(m, u, uni, min_n)
            for k, v in want.items():
                close(f"universe {uni} screen {screen}: {k}", got[k], v)
            print(f"universe {uni}, screen {screen}: RankIC means {np.round(want['unit_ic_mean'], 4)}, share "
                  f"{want['unit_share'][0]:.2f}, mutual correlation {want['unit_mutual'][0]:.6f} over "
                  f"{want['unit_corr_dates'][0]} dates: ok")
        # one unit: refused with a message
        write_units(tmp, u[:1])
        got = parse(subprocess.run([a.driver, "factor", tmp, "-1", "5", "10"], capture_output=True, text=True,
                                   check=True).stdout)
        assert "at least 2" in got.get("unit_error", ""), got.get("unit_error")
    print("ok: unit statistics agree with numpy/scipy to 1e-9")


if __name__ == "__main__":
    main()
