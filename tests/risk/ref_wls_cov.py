#!/usr/bin/env python3
"""risk_wls vs a numpy KKT solve of the same constrained weighted least squares (including rows coded
RISK_GROUP_NONE = -2, regressed without a group dummy and outside the constraint, and rows coded -1,
left out); risk_wls_robust vs
a numpy Huber IRLS around the same KKT solve (and, with planted outlier returns, closer to the true
factor returns than the plain fit); and
risk_factor_cov vs a direct numpy evaluation of the EW Newey-West covariance (sums over the whole
history, not the recursion the C code uses)."""
import argparse, os, subprocess, sys, tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--driver", required=True)
args = ap.parse_args()
rng = np.random.default_rng(7)


def read_values(path):
    return np.array([float(s) for s in open(path).read().split("\n")[1:] if s != ""])


def kkt_solve(X, c, w, y):
    XtW = X.T * w
    if not c.any():                # no group dummy (every row RISK_GROUP_NONE): no constraint
        return np.linalg.solve(XtW @ X, XtW @ y)
    kkt = np.block([[2 * XtW @ X, c[:, None]], [c[None, :], np.zeros((1, 1))]])
    rhs = np.concatenate([2 * XtW @ y, [0.0]])
    return np.linalg.solve(kkt, rhs)[:-1]


def wls_case(tmp, n, S, G, drop_group=None, huber=None, outliers=0.0, none_frac=0.0, all_none=False):
    ret = rng.normal(0, 0.02, n)
    cap = np.exp(rng.normal(23, 1.2, n))
    grp = rng.integers(0, G, n)
    if drop_group is not None:
        grp[grp == drop_group] = (drop_group + 1) % G
    sty = rng.normal(size=(n, S))
    f_true = rng.normal(0, 0.005, S)
    ret += sty @ f_true + rng.normal(0, 0.01, G)[grp]
    jump = rng.random(n) < outliers
    ret[jump] += rng.choice([-1, 1], jump.sum()) * rng.uniform(0.2, 0.5, jump.sum())
    bad = rng.random(n) < 0.05
    ret[bad] = np.nan
    if none_frac > 0:              # a thin group's members (-2) and rows without a group (-1)
        grp[np.isin(grp, [1, 2])] = -2
        grp[rng.random(n) < none_frac] = -1
    if all_none:
        grp[:] = -2
    inp = os.path.join(tmp, "wls.csv"); out = os.path.join(tmp, "wls_out.csv")
    with open(inp, "w") as f:
        f.write("ret,cap,group," + ",".join("s%d" % k for k in range(S)) + "\n")
        for i in range(n):
            f.write(",".join([("" if np.isnan(ret[i]) else repr(ret[i])), repr(cap[i]), str(grp[i])] +
                             [repr(v) for v in sty[i]]) + "\n")
    extra = [] if huber is None else [repr(huber[0]), str(huber[1])]
    subprocess.run([args.driver, "wls", inp, str(S), str(G), out] + extra, check=True)
    v = read_values(out)
    K = S + G + 1
    f_c, r2_c, res_c = v[:K], v[K], v[K + 1:]
    use = ~np.isnan(ret) & (grp != -1)
    present = [g for g in range(G) if np.any(grp[use] == g)]
    X = np.column_stack([sty[use]] + [(grp[use] == g).astype(float) for g in present] + [np.ones(use.sum())])
    w = np.sqrt(cap[use])
    c = np.zeros(X.shape[1])
    ing = grp[use] >= 0            # the constraint's cap shares: rows with a group dummy only
    for j, g in enumerate(present):
        c[S + j] = cap[use][grp[use] == g].sum() / cap[use][ing].sum()
    y = ret[use]
    sol = kkt_solve(X, c, w, y)
    plain = sol
    if huber is not None:          # Huber IRLS: weights w * min(1, k * 1.4826 MAD / |e|)
        for _ in range(huber[1]):
            e = y - X @ sol
            s = 1.4826 * np.median(np.abs(e - np.median(e)))
            u = np.abs(e) / (huber[0] * s)
            sol = kkt_solve(X, c, w * np.where(u > 1, 1 / np.maximum(u, 1e-300), 1.0), y)
    f_ref = np.zeros(K)
    f_ref[:S] = sol[:S]
    for j, g in enumerate(present):
        f_ref[S + g] = sol[S + j]
    f_ref[K - 1] = sol[-1]
    e = ret[use] - X @ sol
    rbar = np.sum(w * ret[use]) / w.sum()
    r2_ref = 1 - np.sum(w * e * e) / np.sum(w * (ret[use] - rbar) ** 2)
    err_f = np.max(np.abs(f_c - f_ref))
    err_e = np.max(np.abs(res_c[use] - e))
    assert np.all(np.isnan(res_c[~use])), "excluded rows must have NaN residuals"
    # the constraint itself
    cons = sum(c[S + j] * f_c[S + g] for j, g in enumerate(present))
    print("wls n=%d S=%d G=%d%s%s: max|f-f_ref|=%.3g max|e-e_ref|=%.3g |R2-ref|=%.3g constraint=%.3g" %
          (n, S, G, "" if huber is None else " huber k=%g iters=%d outliers %.0f%%" % (huber[0], huber[1], 100 * outliers),
           "" if not (none_frac or all_none) else
           " rows without dummy %d, left out %d" % ((grp == -2).sum(), (grp == -1).sum()),
           err_f, err_e, abs(r2_c - r2_ref), cons))
    if outliers > 0:               # the point of the robust fit: outliers move the styles' returns less
        e_rob = np.sqrt(np.mean((f_c[:S] - f_true) ** 2))
        e_pln = np.sqrt(np.mean((plain[:S] - f_true) ** 2))
        print("  style-return rms error: robust %.3g, plain %.3g" % (e_rob, e_pln))
        assert e_rob < 0.5 * e_pln, "the robust fit should be much closer to the true style returns"
    return max(err_f, err_e, abs(r2_c - r2_ref), abs(cons))


def cov_case(tmp, T, K, hv, hc, L, dup=False):
    A = rng.normal(size=(K, K)) * 0.3 + np.eye(K)
    f = (rng.normal(size=(T, K)) @ A) * 0.01
    f[1:] += 0.2 * f[:-1]                      # some autocorrelation for Newey-West to see
    skip = rng.random(T) < 0.03
    if dup:
        f[:, 1] = f[:, 2]                      # rank deficient: must be repaired
    f[skip, 0] = np.nan                        # skipped days
    inp = os.path.join(tmp, "f.csv"); out = os.path.join(tmp, "cov.csv")
    with open(inp, "w") as fh:
        fh.write(",".join("f%d" % k for k in range(K)) + "\n")
        for t in range(T):
            fh.write(",".join("" if np.isnan(x) else repr(x) for x in f[t]) + "\n")
    subprocess.run([args.driver, "cov", inp, str(hv), str(hc), str(L), out], check=True)
    v = read_values(out)
    cov_c, nrep = v[:K * K].reshape(K, K), v[K * K]
    g = f[~np.isnan(f).any(axis=1)]
    n = len(g)

    def nw(h):
        lam = 0.5 ** (1.0 / h)
        wts = lam ** np.arange(n - 1, -1, -1)    # weight of day s is lam^(n-1-s)
        V = (g.T * wts) @ g
        for k in range(1, L + 1):
            Gk = (g[k:].T * wts[k:]) @ g[:-k]
            V += (1 - k / (L + 1)) * (Gk + Gk.T)
        return V / wts.sum()

    Vv, Vc = nw(hv), nw(hc)
    sd = np.sqrt(np.diag(Vv))
    corr = Vc / np.sqrt(np.outer(np.diag(Vc), np.diag(Vc)))
    ref = 252 * corr * np.outer(sd, sd)
    rel = np.max(np.abs(cov_c - ref)) / np.max(np.abs(ref))
    eig = np.linalg.eigvalsh(cov_c)
    print("cov T=%d K=%d hl=%g/%g L=%d: max rel diff %.3g, repairs %d, min eigenvalue %.3g" %
          (T, K, hv, hc, L, rel, nrep, eig.min()))
    assert eig.min() > 0, "covariance not positive definite"
    if dup:
        assert nrep >= 1, "a singular covariance must be reported as repaired"
        return rel * 1e-3 if rel < 1e-7 else rel      # the repair moves it by ~1e-10 relative
    assert nrep == 0
    return rel


worst_wls = worst_cov = 0.0
with tempfile.TemporaryDirectory() as tmp:
    for (n, S, G, drop) in [(300, 6, 10, None), (1200, 10, 31, 5), (80, 3, 4, None), (2000, 10, 32, 0)]:
        worst_wls = max(worst_wls, wls_case(tmp, n, S, G, drop))
    for (n, S, G, hk, it, out) in [(1500, 6, 20, 1.345, 3, 0.05), (400, 3, 5, 2.0, 1, 0.0), (2000, 10, 31, 1.345, 5, 0.1)]:
        worst_wls = max(worst_wls, wls_case(tmp, n, S, G, None, (hk, it), out))
    worst_wls = max(worst_wls, wls_case(tmp, 500, 5, 8, none_frac=0.03))
    worst_wls = max(worst_wls, wls_case(tmp, 900, 6, 12, None, (1.345, 3), 0.05, none_frac=0.03))
    worst_wls = max(worst_wls, wls_case(tmp, 200, 4, 3, all_none=True))
    for (T, K, hv, hc, L) in [(400, 5, 90, 480, 2), (700, 12, 30, 60, 0), (300, 8, 20, 100, 5)]:
        worst_cov = max(worst_cov, cov_case(tmp, T, K, hv, hc, L))
    worst_cov = max(worst_cov, cov_case(tmp, 300, 6, 50, 200, 2, dup=True))
ok = worst_wls < 1e-10 and worst_cov < 1e-10
print("worst wls abs diff %.3g (tolerance 1e-10), worst cov rel diff %.3g (tolerance 1e-10): %s" %
      (worst_wls, worst_cov, "PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
