#!/usr/bin/env python3
"""demo_ranges.py OUT [OUT ...] - checks a `zhizeng demo` (or run) output against the ranges a real study's
numbers fall in (issue 13 item 2; docs/synthetic_market.md "Calibration"):
  * CSI All RankIC of every head between 0.06 and 0.15;
  * every index's annualised benchmark return between -10 % and +15 %, every calendar year's between
    -40 % and +60 %;
  * in every backtest the hedged annualised return between 3 % and 30 % and the hedged Sharpe between 0.8
    and 4.
Reads OUT/report/factor_tables.csv, summary.csv and yearly.csv (standard library only). Prints one line per
figure and exits 1 when any is outside its range."""
import csv
import os
import sys

RANGES = {"rankic": (0.06, 0.15), "bench_annual": (-0.10, 0.15), "bench_year": (-0.40, 0.60),
          "hedged_annual": (0.03, 0.30), "hedged_sharpe": (0.8, 4.0)}


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check(out):
    rep = os.path.join(out, "report")
    bad = 0

    def put(what, v, key):
        nonlocal bad
        lo, hi = RANGES[key]
        ok = lo <= v <= hi
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {v:.4f} (range {lo:g} .. {hi:g})")

    heads = 0
    for r in rows(os.path.join(rep, "factor_tables.csv")):
        if r["universe"] == "CSI All" and r["score"] in ("univariate", "multivariate"):
            put(f"{out}: RankIC {r['score']} on CSI All", float(r["rankic_mean"]), "rankic")
            heads += 1
        elif r["universe"] == "CSI All" and r["score"].startswith("oracle"):
            print(f"     {out}: oracle (ceiling) RankIC on CSI All {float(r['rankic_mean']):.4f} (not checked)")
    summary = rows(os.path.join(rep, "summary.csv"))
    bench = {}
    for r in summary:
        bench.setdefault(r["index"], float(r["benchmark_annual"]))
        put(f"{out}: {r['run']} hedged annualised", float(r["hedged_annual"]), "hedged_annual")
        put(f"{out}: {r['run']} hedged Sharpe", float(r["hedged_sharpe"]), "hedged_sharpe")
    for ix, v in sorted(bench.items()):
        put(f"{out}: {ix} benchmark annualised", v, "bench_annual")
    years = {}
    for r in rows(os.path.join(rep, "yearly.csv")):
        years.setdefault((r["index"], r["year"]), float(r["benchmark"]))
    for (ix, y), v in sorted(years.items()):
        put(f"{out}: {ix} benchmark {y}", v, "bench_year")
    if not heads or not summary or not years:
        print(f"FAIL {out}: no heads ({heads}), backtests ({len(summary)}) or years ({len(years)}) found")
        bad += 1
    return bad


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bad = sum(check(out) for out in sys.argv[1:])
    print(f"{bad} figure(s) outside their range")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
