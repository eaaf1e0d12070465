#!/usr/bin/env python3
"""index_cash.py - investing 1e7 CNY from cash in an index's weights through `zhizeng simulate` leaves
almost no cash (the add phase puts what the lot floors leave a lot at a time into the largest shortfalls).

One `zhizeng synth` market (1,900 stocks, 2021-2022, monthly index weights) is shared by three runs: the
weights of CSI300, CSI500 and CSI1000 on one decision date (the snapshot of index_weights.csv nearest the
middle of the calendar, normalised to fractions) held from cash with the default rules (lag 1 at the VWAP,
lots by board, proportional costs), capital 1e7, the same index as benchmark. Checked on the first trade
day: rebalances.csv's first row has cash_weight <= 0.3 % (CSI300) / 0.5 % (CSI500, CSI1000) and a turnover
of about 100 % (a purchase from cash, cash counted as a position), and nav.csv's first row (the same day)
has cash / value within the same bound. Pure Python (no numpy). Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys

INDEXES = [("000300", "csi300", 0.003), ("000905", "csi500", 0.005), ("000852", "csi1000", 0.005)]


def parse_date(s):
    s = s.strip()
    return int(s) if len(s) == 8 and s.isdigit() else int(s.replace("-", ""))


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--stocks", default="1900")
    ap.add_argument("--start", default="2021-01-01")
    ap.add_argument("--end", default="2022-12-31")
    ap.add_argument("--capital", default="1e7")
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    market = os.path.join(a.workdir, "market")
    p = subprocess.run([a.zhizeng, "synth", "--out", market, "--stocks", a.stocks, "--start", a.start, "--end", a.end,
                        "--weights", "monthly"], capture_output=True, text=True)
    if p.returncode != 0:
        if "unknown command" in p.stderr:
            print("index_cash.py: this zhizeng has no 'synth' command; skipping", file=sys.stderr)
            return 77
        print(p.stderr, file=sys.stderr)
        return 1
    calendar = sorted({parse_date(r["date"]) for r in rows(os.path.join(market, "index_bars.csv"))})
    middle = calendar[len(calendar) // 2]
    weights = {}
    for r in rows(os.path.join(market, "index_weights.csv")):
        weights.setdefault(r["index"].split(".")[0], {}).setdefault(parse_date(r["date"]), []).append(
            (r["code"], float(r["weight"])))
    bad = 0
    for code, name, bound in INDEXES:
        snaps = weights.get(code)
        if not snaps:
            print(f"[{name}] no weights for {code} in index_weights.csv")
            bad += 1
            continue
        d = min(snaps, key=lambda x: (abs(x - middle), x))
        total = sum(w for _, w in snaps[d])
        targets = os.path.join(a.workdir, f"targets_{name}.csv")
        ds = f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}"
        with open(targets, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["date", "code", "weight"])
            for c, x in snaps[d]:
                w.writerow([ds, c, repr(x / total * (1.0 - 1e-12))])
        out = os.path.join(a.workdir, "out_" + name)
        p = subprocess.run([a.zhizeng, "simulate", "--market", market, "--targets", targets, "--out", out,
                            "--capital", a.capital, "--index", code], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"[{name}] zhizeng simulate failed ({p.returncode}): {p.stderr.strip()}")
            bad += 1
            continue
        reb = rows(os.path.join(out, "rebalances.csv"))
        nav = rows(os.path.join(out, "nav.csv"))
        summ = {r["key"]: r["value"] for r in rows(os.path.join(out, "summary.csv"))}
        r0, n0 = reb[0], nav[0]
        cw = float(r0["cash_weight"])
        cash_nav = float(n0["cash"]) / float(n0["value"])
        turn = float(r0["turnover"])
        ok = (cw <= bound and cash_nav <= bound and 0.99 <= turn <= 1.0 + 1e-9
              and parse_date(r0["decision_date"]) == d and parse_date(r0["trade_date"]) == parse_date(n0["date"])
              and parse_date(summ.get("first_trade_date", "0")) == parse_date(n0["date"]))
        print(f"[{name}] {len(snaps[d])} members on {ds}, traded {r0['trade_date']}: cash weight {cw:.5f} after the "
              f"trade, {cash_nav:.5f} at the close (bound {bound}), turnover {turn:.4f}, {r0['n_unfilled']} orders "
              f"unfilled or partial ({float(r0['unfilled_value']):.4f} of the value), entry slippage "
              f"{float(summ.get('entry_slippage', 'nan')):+.5f}: {'ok' if ok else 'FAIL'}")
        bad += 0 if ok else 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
