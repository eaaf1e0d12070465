#!/usr/bin/env python3
"""risk_specific_shrink (CNE5 Bayesian shrinkage of specific volatility towards size-decile means, through
`risk_driver shrink`) vs an independent numpy implementation, to 1e-10, on random cross-sections that
exercise every branch: short / mid / long histories, stocks without history, ties in cap (broken by the
stock index), deciles without a long-history stock (date-wide fallback), no long history at all (median
fallback), no history at all (floor), a zero dispersion with q = 0 (v = 0/0 -> 0), the floor, carried
stocks (decile of their cap among the universe, above the largest cap -> top decile, none of them in the
statistics), spec_min_days == spec_full_days, and an empty universe with carried stocks.
The rules are those of risk/risk.h (risk_specific_shrink) and docs/risk_model.md."""
import argparse, os, subprocess, sys, tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--driver", required=True)
args = ap.parse_args()
rng = np.random.default_rng(11)


def reference(sh, h, univ, carr, cap, dmin, dfull, q, floor):
    n = len(sh)
    U = np.flatnonzero(univ)
    m = len(U)
    dec = np.full(n, -1)
    order = U[np.lexsort((U, cap[U]))]              # by cap, then by index
    for r, i in enumerate(order):
        dec[i] = (10 * r) // m
    for i in np.flatnonzero(carr):
        below = np.sum((cap[U] < cap[i]) | ((cap[U] == cap[i]) & (U < i)))
        dec[i] = min(9, (10 * below) // m) if m else 0
    long_ = univ & (h >= dmin)

    def stats(mask):
        w, x = cap[mask], sh[mask]
        mu = np.sum(w * x) / np.sum(w)
        return mu, np.sqrt(np.mean((x - mu) ** 2))

    if long_.any():
        mu_all, dev_all = stats(long_)
    else:
        anyh = univ & (h >= 1)
        mu_all, dev_all = (np.median(sh[anyh]) if anyh.any() else floor), 0.0
    mu_d, dev_d, fallback = np.zeros(10), np.zeros(10), 0
    for s in range(10):
        sel = long_ & (dec == s)
        if sel.any():
            mu_d[s], dev_d[s] = stats(sel)
        else:
            mu_d[s], dev_d[s] = mu_all, dev_all
            fallback += 1
    sig = np.full(n, np.nan)
    cnt = dict(short=0, blend=0, full=0, floored=0)
    for i in np.flatnonzero(univ | carr):
        mu, dv = mu_d[dec[i]], dev_d[dec[i]]
        if h[i] < dmin:
            s = mu
            cnt["short"] += 1
        else:
            a = q * abs(sh[i] - mu)
            v = a / (dv + a) if dv + a > 0 else 0.0
            shr = v * mu + (1 - v) * sh[i]
            if h[i] >= dfull:
                s = shr
                cnt["full"] += 1
            else:
                lam = (h[i] - dmin) / (dfull - dmin)
                s = lam * shr + (1 - lam) * mu
                cnt["blend"] += 1
        if s < floor:
            s = floor
            cnt["floored"] += 1
        sig[i] = s
    return sig, [cnt["short"], cnt["blend"], cnt["full"], cnt["floored"], fallback]


def run_case(tmp, name, sh, h, univ, carr, cap, dmin=60, dfull=180, q=0.1, floor=0.05):
    inp, out = os.path.join(tmp, "shrink.csv"), os.path.join(tmp, "shrink_out.csv")
    with open(inp, "w") as f:
        f.write("sigma_hat,n_obs,in_universe,carried,cap\n")
        for i in range(len(sh)):
            f.write("%s,%d,%d,%d,%r\n" % ("" if np.isnan(sh[i]) else repr(float(sh[i])), h[i], univ[i], carr[i],
                                          float(cap[i])))
    keys = ["spec_min_days=%d" % dmin, "spec_full_days=%d" % dfull, "spec_shrink_q=%r" % q,
            "spec_vol_floor=%r" % floor]
    subprocess.run([args.driver, "shrink", inp, out] + keys, check=True)
    v = np.array([float(x) for x in open(out).read().split("\n")[1:] if x != ""])
    n = len(sh)
    sig_c, st_c = v[:n], [int(x) for x in v[n:]]
    sig_r, st_r = reference(sh, h, univ, carr, cap, dmin, dfull, q, floor)
    nan_ok = np.array_equal(np.isnan(sig_c), np.isnan(sig_r))
    d = np.nanmax(np.abs(sig_c - sig_r)) if np.isfinite(sig_r).any() else 0.0
    print("%-44s n=%4d universe %4d carried %3d: max|sigma - ref| %.3g, counts short/blend/full/floored/fallback "
          "%s (ref %s)%s" % (name, n, univ.sum(), carr.sum(), d, st_c, st_r, "" if nan_ok else ", NaN patterns DIFFER"))
    return max(d, 0.0 if nan_ok and st_c == st_r else 1.0), st_r


def random_section(n, tie_frac=0.2, p_carr=0.05, p_out=0.1):
    cap = np.exp(rng.normal(22, 1.5, n))
    tie = rng.random(n) < tie_frac
    cap[tie] = rng.choice(cap[~tie][:5], tie.sum())     # ties in cap
    kind = rng.random(n)
    univ = kind >= p_carr + p_out
    carr = kind < p_carr
    h = rng.choice([0, 1, 30, 59, 60, 61, 100, 179, 180, 181, 500], n)
    h = np.where(rng.random(n) < 0.5, rng.integers(0, 400, n), h)
    sh = rng.uniform(0.08, 0.7, n)
    sh[h == 0] = np.where(rng.random((h == 0).sum()) < 0.5, np.nan, 9.9)   # ignored without history
    return sh, h, univ.astype(int), carr.astype(int), cap


worst, seen = 0.0, np.zeros(5, int)
with tempfile.TemporaryDirectory() as tmp:
    def case(name, sh, h, univ, carr, cap, **kw):
        global worst, seen
        e, st = run_case(tmp, name, sh, h, np.asarray(univ, bool).astype(int) != 0, np.asarray(carr, int) != 0,
                         cap, **kw)
        worst = max(worst, e)
        seen += np.array(st) > 0

    for n in (400, 1203):
        case("random, defaults", *random_section(n))
    case("random, q 0.5, floor 0.3, min 10 full 40", *random_section(600), dmin=10, dfull=40, q=0.5, floor=0.3)
    case("random, min days == full days", *random_section(300), dmin=90, dfull=90)
    sh, h, univ, carr, cap = random_section(500, tie_frac=0.0)
    top = np.argmax(cap)
    carr[top], univ[top], cap[top] = 1, 0, 2 * cap[top]                # carried above every universe cap
    r = np.argsort(np.argsort(np.where(univ == 1, cap, np.inf)))       # universe ranks first
    m = univ.sum()
    sel = (univ == 1) & (r * 10 >= 3 * m) & (r * 10 < 5 * m)
    h[sel], sh[sel] = 30, rng.uniform(0.08, 0.7, sel.sum())            # deciles 3 and 4: short histories only
    case("deciles 3-4 without a long history", sh, h, univ, carr, cap)
    sh = np.array([0.2, 0.2, 0.2, 0.5, 0.5, 0.5, 0.3, 0.4, np.nan, 0.25])
    h = np.array([200, 200, 200, 200, 200, 200, 100, 10, 0, 300])
    cap = np.array([1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 3.0, 2.0, 4.0, 6.0])
    univ = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]); carr = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    case("9 stocks, tied caps, zero dispersion, q 0", sh, h, univ, carr, cap, q=0.0)
    case("9 stocks, tied caps, zero dispersion, q 0.1", sh, h, univ, carr, cap)
    sh, h, univ, carr, cap = random_section(300, tie_frac=0.5)
    sh[h > 0] = 0.3
    case("one volatility for all, many tied caps", sh, h, univ, carr, cap)
    sh, h, univ, carr, cap = random_section(200)
    h = np.minimum(h, 59)
    h[np.flatnonzero(carr)[:3]] = 250                                   # carried long history, no universe one
    case("no long history in the universe (median)", sh, h, univ, carr, cap)
    sh, h, univ, carr, cap = random_section(150)
    h[:] = 0
    sh[:] = np.nan
    case("no history at all (floor)", sh, h, univ, carr, cap)
    sh, h, univ, carr, cap = random_section(40, p_carr=0.3)
    univ[:] = 0
    case("empty universe, carried stocks only", sh, h, univ, carr, cap, floor=0.07)
    case("nobody", *random_section(30, p_carr=0.0, p_out=1.1))
ok = worst < 1e-10 and seen.all()
print("worst abs diff %.3g (tolerance 1e-10); branches short/blend/full/floored/fallback each seen: %s: %s" %
      (worst, bool(seen.all()), "PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
