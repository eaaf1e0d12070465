#!/usr/bin/env python3
"""The whole risk model's daily regressions and specific variance (risk_model_build through
`risk_driver model`) vs an independent numpy evaluation on a random panel written by this script:

 1. every day's factor and specific returns = a numpy KKT solve of the constrained sqrt(cap)-weighted
    regression of day t's returns on the exposures at t-1, with Huber reweighting (k = 1.345 on
    1.4826 MAD, 3 passes) or plain (huber_k=0), to 1e-10;
 2. specific variance = 252 * EW mean (half-life h) of (sum of the last L+1 specific returns)^2 /
    (number of them present), over days with a specific return, industry median below spec_min_obs
    returns: direct sums over the whole history (not the C running sums), to 1e-9 relative;
 3. closed form: the specific returns are MA(1) (e_t = u_t - 0.5 u_{t-1}); with L = 20 lags the
    Newey-West variance per day is gamma_0 + 2 (1 - 1/21) gamma_1 = 0.298 sigma^2 against
    gamma_0 = 1.25 sigma^2 without lags: the median ratio over stocks must be near 0.238.
The exposures themselves are checked by ref_styles.py."""
import argparse, datetime, os, subprocess, sys, tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--driver", required=True)
args = ap.parse_args()
rng = np.random.default_rng(23)

T, n, NI = 320, 150, 5
STY = ["beta_window=60", "beta_halflife=15", "rstr_window=80", "rstr_lag=5", "rstr_halflife=30",
       "dastd_window=50", "dastd_halflife=10", "month_days=5", "use_fundamentals=0"]

days, d = [], datetime.date(2016, 1, 4)
while len(days) < T:
    if d.weekday() < 5:
        days.append(d)
    d += datetime.timedelta(days=1)
ymd = np.array([x.year * 10000 + x.month * 100 + x.day for x in days])
listed = np.ones((T, n), bool)
start = rng.integers(0, T // 3, n); start[: n // 2] = 0          # IPOs
for i in range(n):
    listed[: start[i], i] = False
listed[200:, 3] = False                                         # a delisting
susp = (rng.random((T, n)) < 0.02) & listed
susp[40:90, 5] = True                                           # a long suspension
industry = np.tile(rng.integers(0, NI, n), (T, 1))
industry[150:, 9] = (industry[0, 9] + 1) % NI                   # reclassification
mret = rng.normal(0.0003, 0.012, T)
indret = rng.normal(0, 0.008, (T, NI))
beta = np.ones(n)                                               # the country factor captures the market exactly
sig = rng.uniform(0.01, 0.03, n)
u = rng.standard_t(5, (T + 1, n)) / np.sqrt(5 / 3) * sig
spec = u[1:] - 0.5 * u[:-1]                                     # MA(1), theta = -0.5
r = beta * mret[:, None] + indret[np.arange(T)[:, None], industry] + spec
r[susp] = 0.0
close = 10 * np.exp(np.cumsum(np.log1p(r), axis=0)) * rng.uniform(0.5, 5, n)
adj = np.ones((T, n)); adj[100:, 7] = 1.3
close[100:, 7] /= 1.3
shares = np.exp(rng.normal(20, 1.0, n))
float_mv = close * shares
total_mv = float_mv * 1.5
volume = np.where(susp, 0.0, shares * np.exp(rng.normal(-4, 0.8, (T, n))))
for a in (close, adj, float_mv, total_mv, volume):
    a[~listed] = np.nan
industry[~listed] = -1


def write(tmp):
    for nm, a in [("close", close), ("adj", adj), ("volume", volume), ("float_mv", float_mv),
                  ("total_mv", total_mv), ("industry", industry.astype(float)), ("listed", listed.astype(float)),
                  ("suspended", susp.astype(float)), ("dates", ymd[:, None].astype(float))]:
        with open(os.path.join(tmp, nm + ".csv"), "w") as f:
            f.write(",".join("s%d" % i for i in range(a.shape[1])) + "\n")
            for row in a:
                f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")


def run(tmp, keys):
    out = os.path.join(tmp, "model.csv")
    subprocess.run([args.driver, "model", tmp, out] + STY + keys, check=True)
    with open(out) as f:
        hdr = f.readline().strip().split(",")
        rows = np.array([[float(v) if v.strip() else np.nan for v in line.split(",")] for line in f])
    S = len(hdr) - 5
    univ = np.zeros((T, n), bool)
    grp = np.full((T, n), -1)
    e_c = np.full((T, n), np.nan); v_c = np.full((T, n), np.nan); X = np.full((T, n, S), np.nan)
    t_, i_ = rows[:, 0].astype(int), rows[:, 1].astype(int)
    univ[t_, i_] = True
    grp[t_, i_] = rows[:, 2].astype(int)
    e_c[t_, i_] = rows[:, 3]; v_c[t_, i_] = rows[:, 4]; X[t_, i_] = rows[:, 5:]
    with open(out + ".fret") as f:
        f.readline()
        fr = np.array([[float(v) if v.strip() else np.nan for v in line.split(",")[1:]] for line in f])
    return univ, grp, e_c, v_c, X, fr


def kkt(A, c, w, y):
    AtW = A.T * w
    M = np.block([[2 * AtW @ A, c[:, None]], [c[None, :], np.zeros((1, 1))]])
    return np.linalg.solve(M, np.concatenate([2 * AtW @ y, [0.0]]))[:-1]


def reference(univ, grp, X, huber_k, iters, L, hl, min_obs):
    S = X.shape[2]
    G = NI
    ret = np.full((T, n), np.nan)
    ret[1:] = (close[1:] * adj[1:]) / (close[:-1] * adj[:-1]) - 1
    ok_all = np.isfinite(ret) & ~susp
    E = np.full((T, n), np.nan)
    F = np.full((T, S + G + 1), np.nan)
    for t in range(1, T):
        rows = np.where(ok_all[t] & univ[t - 1] & (grp[t - 1] >= 0))[0]
        w = np.sqrt(float_mv[t - 1, rows])
        xs = X[t - 1, rows]
        keep = [k for k in range(S) if np.sum(w * xs[:, k] ** 2) > 1e-12 * w.sum()]
        present = [g for g in range(G) if np.any(grp[t - 1, rows] == g)]
        A = np.column_stack([xs[:, keep]] + [(grp[t - 1, rows] == g).astype(float) for g in present] +
                            [np.ones(len(rows))])
        capr = float_mv[t - 1, rows]
        c = np.zeros(A.shape[1])
        for j, g in enumerate(present):
            c[len(keep) + j] = capr[grp[t - 1, rows] == g].sum() / capr.sum()
        y = ret[t, rows]
        sol = kkt(A, c, w, y)
        for _ in range(iters if huber_k > 0 else 0):
            e = y - A @ sol
            s = 1.4826 * np.median(np.abs(e - np.median(e)))
            q = np.abs(e) / (huber_k * s)
            sol = kkt(A, c, w * np.where(q > 1, 1 / np.maximum(q, 1e-300), 1.0), y)
        E[t, rows] = y - A @ sol
        F[t] = 0.0
        F[t, keep] = sol[:len(keep)]
        for j, g in enumerate(present):
            F[t, S + g] = sol[len(keep) + j]
        F[t, -1] = sol[-1]
    # specific variance by direct sums
    lam = 0.5 ** (1.0 / hl)
    V = np.full((T, n), np.nan)
    Z = np.where(np.isfinite(E), E, 0.0)
    P = np.isfinite(E).astype(float)
    for t in range(1, T):
        lo = max(0, t - L)
        wsum = Z[lo:t + 1].sum(axis=0)           # the L+1 days t-L .. t
        wcnt = P[lo:t + 1].sum(axis=0)
        E2 = np.where(P[t] > 0, wsum ** 2 / np.maximum(wcnt, 1), 0.0)
        if t == 1:
            se, sw, cnt = E2, P[t].copy(), P[t].copy()
        else:
            se, sw, cnt = lam * se + E2, lam * sw + P[t], cnt + P[t]
        v = np.where(univ[t] & (cnt >= min_obs), 252 * se / np.where(sw > 0, sw, 1), np.nan)
        allmed = np.median(v[np.isfinite(v)]) if np.isfinite(v).any() else np.nan
        for g in range(NI + 1):
            need = univ[t] & (grp[t] == g) & ~np.isfinite(v)
            if need.any():
                have = v[(grp[t] == g) & np.isfinite(v)]
                v[need] = np.median(have) if len(have) else allmed
        V[t] = v
    return E, F, V


worst = 0.0
ratio_inputs = {}
with tempfile.TemporaryDirectory() as tmp:
    write(tmp)
    for (hk, it, L, hl, mo) in [(1.345, 3, 20, 90, 42), (0.0, 3, 0, 40, 10), (2.0, 1, 5, 60, 30), (1.345, 3, 0, 90, 42)]:
        keys = ["huber_k=%r" % hk, "huber_iters=%d" % it, "spec_nw_lags=%d" % L, "spec_halflife=%r" % hl,
                "spec_min_obs=%d" % mo]
        univ, grp, e_c, v_c, X, fr = run(tmp, keys)
        E, F, V = reference(univ, grp, X, hk, it, L, hl, mo)
        de = np.nanmax(np.abs(e_c - E))
        same_nan = np.array_equal(np.isnan(e_c[univ]), np.isnan(E[univ]))
        df = np.nanmax(np.abs(fr[1:] - F[1:]))
        m = univ.copy(); m[0] = False
        dv = np.nanmax(np.abs(v_c[m] - V[m]) / V[m])
        vnan = np.array_equal(np.isnan(v_c[m]), np.isnan(V[m]))
        print("huber k=%g iters=%d, NW lags %d, half-life %g, min obs %d: max|f - ref| %.3g, max|e - ref| %.3g, "
              "max rel |var - ref| %.3g, NaN patterns %s" %
              (hk, it, L, hl, mo, df, de, dv, "equal" if same_nan and vnan else "DIFFER"))
        worst = max(worst, df, de, dv * 0.1, 0.0 if same_nan and vnan else 1.0)
        if hl == 90:
            ratio_inputs[L] = v_c[-1]
ratio = np.nanmedian(ratio_inputs[20] / ratio_inputs[0])
theory = (1.25 - 2 * (1 - 1 / 21) * 0.5) / 1.25
print("MA(1) specific returns: median NW(20) / plain specific variance %.3f, closed form %.3f" % (ratio, theory))
ok = worst < 1e-10 and abs(ratio / theory - 1) < 0.35
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
