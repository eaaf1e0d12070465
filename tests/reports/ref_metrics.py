#!/usr/bin/env python3
"""Checks reports/ metrics (rep_mean, rep_std, rep_annual_return, rep_sharpe, rep_max_drawdown,
rep_tracking_error, rep_info_ratio, rep_pearson, zz_spearman, zz_rank_avg, rep_weekly_win_rate) against
numpy/scipy on random series, to 1e-9. Undefined statistics must come back as nan."""
import argparse, datetime, math, os, subprocess, sys, tempfile

try:
    import numpy as np
    from scipy import stats
except ImportError as e:  # ctest SKIP
    print(f"SKIP: numpy/scipy not available ({e})")
    sys.exit(77)


def parse(out):
    res = {}
    for line in out.splitlines():
        parts = line.split()
        res[parts[0]] = np.array([float(x) for x in parts[1:]])
    return res


def trading_days(rng, n, start=datetime.date(2019, 12, 30)):
    days, d = [], start
    while len(days) < n:
        if d.weekday() < 5 and rng.random() > 0.04:  # weekends and a few holidays
            days.append(d)
        d += datetime.timedelta(days=1)
    return days


def close(name, got, want, tol=1e-9):
    got, want = np.atleast_1d(got), np.atleast_1d(np.asarray(want, dtype=float))
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape} != {want.shape}")
    nan_ok = np.isnan(got) == np.isnan(want)
    if not nan_ok.all():
        raise AssertionError(f"{name}: nan mismatch got {got[:5]} want {want[:5]}")
    g, w = got[~np.isnan(got)], want[~np.isnan(want)]
    err = np.abs(g - w) / np.maximum(1.0, np.abs(w))
    if err.size and err.max() > tol:
        k = int(err.argmax())
        raise AssertionError(f"{name}: got {g[k]!r} want {w[k]!r} (rel err {err[k]:.3g})")


def check(driver, seed, n):
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0004, 0.015, n)
    b = 0.7 * r + rng.normal(0.0, 0.01, n)
    dates = trading_days(rng, n)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in.csv")
        with open(path, "w") as f:
            f.write("date,r,b\n")
            for d, x, y in zip(dates, r, b):
                f.write(f"{d.isoformat()},{x!r},{y!r}\n")
        out = subprocess.run([driver, "metrics", path], capture_output=True, text=True, check=True).stdout
    got = parse(out)
    close("mean", got["mean"], r.mean())
    close("std1", got["std1"], r.std(ddof=1))
    close("std0", got["std0"], r.std(ddof=0))
    close("std1_one_point", got["std1_one_point"], np.nan)
    nav = np.cumprod(1.0 + r)
    close("nav", got["nav"], nav)
    close("annual", got["annual"], nav[-1] ** (252.0 / n) - 1.0)
    close("sharpe", got["sharpe"], r.mean() / r.std(ddof=1) * math.sqrt(252))
    peak = np.maximum.accumulate(np.concatenate([[1.0], nav]))[1:]
    dd = nav / peak - 1.0
    close("drawdown", got["drawdown"], dd)
    close("mdd", got["mdd"], min(dd.min(), 0.0))
    e = r - b
    te = e.std(ddof=1) * math.sqrt(252)
    close("te", got["te"], te)
    close("ir", got["ir"], e.mean() * 252 / te)
    close("pearson", got["pearson"], stats.pearsonr(r, b)[0])
    close("spearman", got["spearman"], stats.spearmanr(r, b)[0])
    rr, bb = np.round(r * 200) / 200, np.round(b * 200) / 200
    assert n < 20 or len(np.unique(rr)) < n, "the tie case must have ties"
    close("rank_ties", got["rank_ties"], stats.rankdata(rr, method="average"))
    close("spearman_ties", got["spearman_ties"], stats.spearmanr(rr, bb)[0])
    close("spearman_one_point", got["spearman_one_point"], np.nan)
    close("pearson_constant", got["pearson_constant"], np.nan)
    # weekly win rate: base NAV 1 on the calendar day before the first date, weeks = ISO weeks
    all_dates = [dates[0] - datetime.timedelta(days=1)] + dates
    all_nav = np.concatenate([[1.0], nav])
    keys = [d.isocalendar()[:2] for d in all_dates]
    week_end_vals = []
    for k in range(1, len(all_dates)):
        if k == len(all_dates) - 1 or keys[k + 1] != keys[k]:
            week_end_vals.append(all_nav[k])
    prev = np.concatenate([[1.0], week_end_vals[:-1]])
    wret = np.array(week_end_vals) / prev - 1.0
    close("weeks", got["weeks"], len(wret))
    close("weekly_win", got["weekly_win"], (wret > 0).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    a = ap.parse_args()
    for seed, n in [(1, 600), (2, 37), (3, 2500), (4, 2)]:
        check(a.driver, seed, n)
    print("ok: metrics agree with numpy/scipy to 1e-9 on 4 random series")


if __name__ == "__main__":
    main()
