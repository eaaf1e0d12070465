#!/usr/bin/env python3
"""Style exposures vs an independent numpy re-implementation of the CNE5 definitions (direct window
sums, not the C recursion) on a small random panel written to CSV by this script.
Definitions (docs/risk_model.md): see the function `reference` below."""
import argparse, datetime, os, subprocess, sys, tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--driver", required=True)
args = ap.parse_args()
rng = np.random.default_rng(11)

T, n, NI = 230, 36, 4
CFG = dict(beta_window=60, beta_halflife=15, rstr_window=80, rstr_lag=5, rstr_halflife=30, dastd_window=50,
           dastd_halflife=10, cmra_months=12, month_days=5, min_obs_frac=0.25, winsor_sigma=3)
NAMES = ["size", "beta", "momentum", "residual_volatility", "non_linear_size", "liquidity", "book_to_price",
         "earnings_yield", "growth", "leverage"]

# ---------------------------------------------------------------- the random panel
d0 = datetime.date(2015, 1, 5)
days = []
d = d0
while len(days) < T:
    if d.weekday() < 5:
        days.append(d)
    d += datetime.timedelta(days=1)
ymd = np.array([x.year * 10000 + x.month * 100 + x.day for x in days])
listed = np.ones((T, n), bool)
start = rng.integers(0, T // 2, n); start[: n // 2] = 0          # IPOs
for i in range(n):
    listed[: start[i], i] = False
listed[150:, 3] = False                                         # a delisting
susp = (rng.random((T, n)) < 0.03) & listed
susp[40:90, 5] = True                                           # a long suspension
mret = rng.normal(0, 0.012, T)
beta_true = rng.uniform(0.5, 1.5, n)
r = beta_true * mret[:, None] + rng.normal(0, 0.02, (T, n)) * rng.uniform(0.5, 2, n)
r[susp] = 0.0
close = 10 * np.exp(np.cumsum(np.log1p(r), axis=0)) * rng.uniform(0.5, 5, n)
adj = np.ones((T, n)); adj[100:, 7] = 1.3                      # an ex-rights day: close jumps down
close[100:, 7] /= 1.3
shares = np.exp(rng.normal(20, 1.0, n))
float_mv = close * shares
total_mv = float_mv * rng.uniform(1, 2, n)
volume = np.where(susp, 0.0, shares * np.exp(rng.normal(-4, 0.8, (T, n))))
industry = np.tile(rng.integers(-1, NI, n), (T, 1))            # -1 = unclassified
industry[120:, 9] = 2                                          # reclassification
for a in (close, adj, float_mv, total_mv, volume):
    a[~listed] = np.nan
industry[~listed] = -1
# fundamentals: quarterly announcements for most stocks
fund = []
for i in range(n):
    if i % 7 == 6:
        continue
    base = rng.uniform(1e8, 1e10)
    for q in range(-4, 12):
        dd = d0 + datetime.timedelta(days=91 * q + int(rng.integers(0, 30)))
        rec = [i, dd.year * 10000 + dd.month * 100 + dd.day, base * rng.uniform(0.5, 1.5),
               base * rng.normal(0.1, 0.1), base * rng.uniform(0.8, 1.2) * (1 + 0.02 * q),
               base * rng.uniform(0.5, 3), base * rng.uniform(3, 5)]
        if rng.random() < 0.1:
            rec[3] = np.nan                                    # a missing field keeps the earlier value
        fund.append(rec)
fund.sort(key=lambda x: (x[0], x[1]))


def write(tmp):
    def mat(name, a):
        with open(os.path.join(tmp, name + ".csv"), "w") as f:
            f.write(",".join("s%d" % i for i in range(a.shape[1])) + "\n")
            for row in a:
                f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")
    for nm, a in [("close", close), ("adj", adj), ("volume", volume), ("float_mv", float_mv),
                  ("total_mv", total_mv), ("industry", industry.astype(float)), ("listed", listed.astype(float)),
                  ("suspended", susp.astype(float)), ("dates", ymd[:, None].astype(float))]:
        mat(nm, a)
    with open(os.path.join(tmp, "fund.csv"), "w") as f:
        f.write("stock,date,book_equity,net_profit_ttm,revenue_ttm,total_liabilities,total_assets\n")
        for rec in fund:
            f.write(",".join("" if (isinstance(v, float) and np.isnan(v)) else repr(v) for v in rec) + "\n")


# ---------------------------------------------------------------- the reference
def reference():
    c = CFG
    md = c["month_days"]
    ret = np.full((T, n), np.nan)
    ret[1:] = (close[1:] * adj[1:]) / (close[:-1] * adj[:-1]) - 1
    ret[1:][~(listed[1:] & listed[:-1])] = np.nan
    use = np.isfinite(ret) & ~susp
    logx = np.where(np.isfinite(ret), np.log1p(np.where(np.isfinite(ret), ret, 0)), 0.0)
    mkt = np.full(T, np.nan)
    for u in range(1, T):
        ok = np.isfinite(ret[u]) & (float_mv[u - 1] > 0)
        if ok.any():
            w = float_mv[u - 1][ok]
            mkt[u] = np.sum(w * ret[u][ok]) / w.sum()
    turn = np.where(listed & ~susp, volume * close / float_mv, 0.0)
    turn = np.where(np.isfinite(turn), turn, 0.0)
    minobs = lambda W: max(1, int(np.ceil(c["min_obs_frac"] * W - 1e-9)))
    lam = lambda h: 0.5 ** (1.0 / h)
    out = np.full((T, n, 10), np.nan)
    fdates = np.array([f[1] for f in fund]) if fund else np.zeros(0)

    def asof(i, date, col):
        v = np.nan
        for rec in fund:
            if rec[0] == i and rec[1] <= date and not np.isnan(rec[col]):
                v = rec[col]
        return v

    def stdz(x, cap, univ, wins):
        x = x.copy()
        for p in range(2 if wins > 0 else 1):
            ok = univ & np.isfinite(x)
            if not ok.any():
                break
            cm = np.sum(cap[ok] * x[ok]) / cap[ok].sum()
            sd = np.std(x[ok])
            z = (x - cm) / sd if sd > 0 else np.where(np.isfinite(x), 0.0, np.nan)
            if p == 0 and wins > 0:
                z = np.clip(z, -wins, wins)
            x = np.where(ok, z, x)
        x[~univ] = np.nan
        return x

    def fill(x, cap, univ, grp):
        x = x.copy()
        for g in set(grp[univ & ~np.isfinite(x)].tolist()):
            have = univ & (grp == g) & np.isfinite(x)
            med = np.median(x[have]) if have.any() else 0.0
            x[univ & (grp == g) & ~np.isfinite(x)] = med
        return stdz(x, cap, univ, 0)

    def combine(ds, ws, univ):
        num = np.zeros(n); den = np.zeros(n)
        for dsc, w in zip(ds, ws):
            ok = np.isfinite(dsc)
            num += np.where(ok, w * np.nan_to_num(dsc), 0); den += np.where(ok, w, 0)
        res = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        res[~univ] = np.nan
        return res

    for t in range(T):
        cap = np.where(listed[t] & (float_mv[t] > 0), float_mv[t], 0.0)
        univ = listed[t] & (float_mv[t] > 0)
        grp = np.where(industry[t] >= 0, industry[t], NI)
        D = {k: np.full(n, np.nan) for k in ["size", "beta", "hsigma", "rstr", "dastd", "cmra", "stom", "stoq",
                                            "stoa", "btop", "eyield", "sgro", "egro", "mlev", "dtoa", "blev"]}
        dlag = datetime.date(ymd[t] // 10000, ymd[t] // 100 % 100, ymd[t] % 100) - datetime.timedelta(days=365)
        ylag = dlag.year * 10000 + dlag.month * 100 + dlag.day
        for i in range(n):
            if not univ[i]:
                continue
            D["size"][i] = np.log(cap[i])
            # beta / hsigma
            us = [u for u in range(max(1, t - c["beta_window"] + 1), t + 1) if use[u, i] and np.isfinite(mkt[u])]
            if len(us) >= minobs(c["beta_window"]):
                w = lam(c["beta_halflife"]) ** (t - np.array(us))
                X = np.column_stack([np.ones(len(us)), mkt[us]]) * np.sqrt(w)[:, None]
                y = ret[us, i] * np.sqrt(w)
                coef = np.linalg.lstsq(X, y, rcond=None)[0]
                D["beta"][i] = coef[1]
                e = ret[us, i] - coef[0] - coef[1] * mkt[us]
                D["hsigma"][i] = np.sqrt(np.sum(w * e * e) / w.sum())
            # rstr
            lo, hi = t - c["rstr_lag"] - c["rstr_window"] + 1, t - c["rstr_lag"]
            cnt = sum(1 for u in range(max(1, lo), hi + 1) if use[u, i])
            if cnt >= minobs(c["rstr_window"]):
                D["rstr"][i] = sum(lam(c["rstr_halflife"]) ** (hi - u) * logx[u, i] for u in range(max(1, lo), hi + 1))
            # dastd
            us = [u for u in range(max(1, t - c["dastd_window"] + 1), t + 1) if use[u, i]]
            if len(us) >= minobs(c["dastd_window"]):
                w = lam(c["dastd_halflife"]) ** (t - np.array(us))
                mu = np.sum(w * ret[us, i]) / w.sum()
                D["dastd"][i] = np.sqrt(np.sum(w * (ret[us, i] - mu) ** 2) / w.sum())
            # cmra
            W = c["cmra_months"] * md
            if sum(use[max(0, t - W + 1): t + 1, i]) >= minobs(W):
                Z = [np.sum(logx[max(0, t - T_ * md + 1): t + 1, i]) for T_ in range(1, c["cmra_months"] + 1)]
                D["cmra"][i] = max(Z) - min(Z)
            # liquidity
            for key, months, div in (("stom", 1, 1), ("stoq", 3, 3), ("stoa", 12, 12)):
                W = months * md
                s = np.sum(turn[max(0, t - W + 1): t + 1, i])
                if sum(use[max(0, t - W + 1): t + 1, i]) >= minobs(W) and s > 0:
                    D[key][i] = np.log(s / div)
            # fundamentals
            me = total_mv[t, i] if total_mv[t, i] > 0 else cap[i]
            be, npf, rev, tl, ta = (asof(i, ymd[t], k) for k in (2, 3, 4, 5, 6))
            rev1, np1 = asof(i, ylag, 4), asof(i, ylag, 3)
            D["btop"][i] = be / me
            D["eyield"][i] = npf / me
            if np.isfinite(rev1) and rev1 != 0:
                D["sgro"][i] = (rev - rev1) / abs(rev1)
            if np.isfinite(np1) and np1 != 0:
                D["egro"][i] = (npf - np1) / abs(np1)
            D["mlev"][i] = (me + tl) / me
            if ta > 0:
                D["dtoa"][i] = tl / ta
            if be > 0:
                D["blev"][i] = (be + tl) / be
        Z = {k: stdz(v, cap, univ, c["winsor_sigma"]) for k, v in D.items()}
        size = fill(Z["size"], cap, univ, grp)
        out[t, :, 0] = size
        out[t, :, 1] = fill(Z["beta"], cap, univ, grp)
        out[t, :, 2] = fill(Z["rstr"], cap, univ, grp)
        rv = stdz(combine([Z["dastd"], Z["cmra"], Z["hsigma"]], [0.74, 0.16, 0.10], univ), cap, univ, 3)
        out[t, :, 3] = fill(rv, cap, univ, grp)
        cube = size ** 3
        if univ.any():
            w = np.sqrt(cap[univ])
            X = np.column_stack([np.ones(univ.sum()), size[univ]]) * np.sqrt(w)[:, None]
            coef = np.linalg.lstsq(X, cube[univ] * np.sqrt(w), rcond=None)[0]
            nl = np.full(n, np.nan)
            nl[univ] = cube[univ] - coef[0] - coef[1] * size[univ]
            out[t, :, 4] = fill(stdz(nl, cap, univ, 3), cap, univ, grp)
        lq = stdz(combine([Z["stom"], Z["stoq"], Z["stoa"]], [0.35, 0.35, 0.30], univ), cap, univ, 3)
        out[t, :, 5] = fill(lq, cap, univ, grp)
        out[t, :, 6] = fill(Z["btop"], cap, univ, grp)
        out[t, :, 7] = fill(Z["eyield"], cap, univ, grp)
        out[t, :, 8] = fill(stdz(combine([Z["sgro"], Z["egro"]], [0.5, 0.5], univ), cap, univ, 3), cap, univ, grp)
        out[t, :, 9] = fill(stdz(combine([Z["mlev"], Z["dtoa"], Z["blev"]], [0.38, 0.35, 0.27], univ), cap, univ, 3),
                            cap, univ, grp)
    return out


with tempfile.TemporaryDirectory() as tmp:
    write(tmp)
    outp = os.path.join(tmp, "expo.csv")
    subprocess.run([args.driver, "styles", tmp, outp] + ["%s=%s" % kv for kv in CFG.items()], check=True)
    lines = open(outp).read().strip().split("\n")
    header = lines[0].split(",")
    assert header[2:] == NAMES, header
    got = np.full((T, n, 10), np.nan)
    for ln in lines[1:]:
        v = ln.split(",")
        got[int(v[0]), int(v[1])] = [float(x) for x in v[2:]]
ref = reference()
fail = False
for k, nm in enumerate(NAMES):
    a, b = got[:, :, k], ref[:, :, k]
    same_nan = np.array_equal(np.isnan(a), np.isnan(b))
    ok = np.isfinite(a) & np.isfinite(b)
    err = np.max(np.abs(a[ok] - b[ok])) if ok.any() else 0.0
    print("%-20s %6d values, max |C - numpy| = %.3g%s" % (nm, ok.sum(), err, "" if same_nan else "  NaN PATTERN DIFFERS"))
    if err > 1e-8 or not same_nan:
        fail = True
# the final convention: cap-weighted mean 0, equal-weighted std 1 on every date
t = T - 1
univ = listed[t] & (float_mv[t] > 0)
for k in range(10):
    x = got[t, univ, k]
    assert abs(np.sum(float_mv[t, univ] * x) / float_mv[t, univ].sum()) < 1e-10 and abs(np.std(x) - 1) < 1e-10
print("FAIL" if fail else "PASS: every style exposure equals the numpy CNE5 re-implementation within 1e-8")
sys.exit(1 if fail else 0)
