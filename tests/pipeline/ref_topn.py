#!/usr/bin/env python3
"""Top-N strategy (`zhizeng topn`, seed 004 section 4) on a hand-made market, checked against an
independent pure-Python reference.

The script writes a tiny market (7 stocks, 2024-01-02 .. 2024-02-08, six CSI300 members and one
non-member that always has the best score; a two-day suspension, a limit-up close, a limit-down close, a
6-CNY stock whose 100-share trades fall under both fee minimums) and a scores file, runs
`zhizeng topn --n 2,3` with daily, weekly and monthly rebalancing under the seed004 costs, and checks:

- the targets of every rebalance: the N best-scored members that can be bought on the decision day (not
  suspended, not at the up limit) or are held, each at (1 - cash) / N, never the non-member;
- the holdings at every close in positions.csv and every trade (date, code, side, shares, status, reason)
  against a reference simulation written here from the documented rules (sizing at the decision close,
  sells before buys, floor to lots for sells, lots added one at a time to the largest shortfall for buys,
  suspension / limit refusals);
- total costs: summary.csv's total equals the hand sum over trades.csv of max(0.001 v, 5) for every trade
  plus max(0.001 v, 1) for every sell (v = shares x price), each trade's cost equals its own formula, and
  the reference's total agrees; both minimums are seen binding and not binding;
- the final portfolio value against the reference; `zhizeng simulate --costs seed004` on the run's
  targets.csv gives the same nav.csv, trades.csv and summary.csv; the decision dates of weekly (ISO week ends) and
  monthly (month ends) rebalancing; the report files with one row per N.
Exit 0 on success, 1 on a mismatch. No numpy needed.
"""
import argparse
import csv
import datetime
import math
import os
import random
import shutil
import subprocess
import sys

CAPITAL = 300000.0
CASH = 0.05
MEMBERS = ["600001.SH", "600002.SH", "600003.SH", "600004.SH", "600005.SH", "600007.SH"]
OUTSIDER = "600006.SH"
CODES = sorted(MEMBERS + [OUTSIDER])


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def r2(x):
    return math.floor(x * 100 + 0.5) / 100


def ymd(d):
    return d.year * 10000 + d.month * 100 + d.day


def dstr(v):
    return "%04d-%02d-%02d" % (v // 10000, v // 100 % 100, v % 100)


def make_market(root):
    rng = random.Random(20240102)
    d, dates = datetime.date(2024, 1, 2), []
    while d <= datetime.date(2024, 2, 8):
        if d.weekday() < 5:
            dates.append(ymd(d))
        d += datetime.timedelta(days=1)
    start = {c: p for c, p in zip(CODES, [12.0, 25.0, 18.0, 33.0, 9.5, 40.0, 6.0])}
    bars, M = [], {}
    last = dict(start)
    for t, day in enumerate(dates):
        for c in CODES:
            pre = last[c]
            if c == "600002.SH" and day in (20240109, 20240110):  # suspended: no row
                M[(t, c)] = None
                continue
            up, dn = r2(pre * 1.1), r2(pre * 0.9)
            if c == "600003.SH" and day == 20240111:  # closes at the up limit
                op, cl = r2(pre * 1.03), up
            elif c == "600004.SH" and day == 20240117:  # closes at the down limit
                op, cl = r2(pre * 0.97), dn
            else:
                op, cl = r2(pre * (1 + rng.uniform(-0.02, 0.02))), r2(pre * (1 + rng.uniform(-0.04, 0.04)))
            hi = min(up, r2(max(op, cl) * (1 + rng.uniform(0, 0.01))))
            lo = max(dn, r2(min(op, cl) * (1 - rng.uniform(0, 0.01))))
            vw = r2((op + cl + hi + lo) / 4)
            vol = 100000 * rng.randint(5, 50)
            row = dict(date=dstr(day), code=c, open=op, high=hi, low=lo, close=cl, volume=vol, amount=r2(vol * vw),
                       pre_close=pre, vwap=vw, up_limit=up, down_limit=dn, is_st=0)
            bars.append(row)
            M[(t, c)] = row
            last[c] = cl
    os.makedirs(root)
    with open(os.path.join(root, "bars.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(bars[0].keys()))
        w.writeheader()
        w.writerows(bars)
    with open(os.path.join(root, "index_bars.csv"), "w") as f:
        f.write("date,index,close\n")
        lvl = 3500.0
        for day in dates:
            lvl = r2(lvl * (1 + rng.uniform(-0.015, 0.015)))
            f.write("%s,000300,%.2f\n" % (dstr(day), lvl))
    with open(os.path.join(root, "index_weights.csv"), "w") as f:
        f.write("date,index,code,weight\n")
        for c, wt in zip(MEMBERS, [20, 15, 25, 10, 20, 10]):
            f.write("%s,000300,%s,%d\n" % (dstr(dates[0]), c, wt))
    # scores: random, planted where the rules matter; none on suspended days
    S = {}
    for t, day in enumerate(dates):
        for c in CODES:
            if M[(t, c)] is None:
                continue
            s = rng.uniform(-1, 1)
            if c == OUTSIDER:
                s = 5.0  # best every day, never in the universe
            if c == "600002.SH" and day in (20240105, 20240108):
                s = 3.0 if day == 20240105 else -3.0  # held from the 5th, sold on the 9th (suspended)
            if c == "600003.SH" and day in (20240110, 20240111):
                s = 4.0  # selected on the 10th, limit-up on the 11th (buy refused; not buyable on the 11th)
            if c == "600004.SH" and day in (20240112, 20240115):
                s = 4.0  # bought
            if c == "600004.SH" and day == 20240116:
                s = -4.0  # to sell on the 17th: limit-down, refused
            if c == "600007.SH":
                s = 2.5 + 0.1 * rng.uniform(-1, 1)  # nearly always held: small drift trades
            S[(t, c)] = round(s, 6)
    with open(os.path.join(root, "scores.csv"), "w") as f:
        f.write("date,code,score\n")
        for (t, c), s in sorted(S.items()):
            f.write("%s,%s,%r\n" % (dstr(dates[t]), c, s))
    return dates, M, S


seen_cut = [False]


def reference(dates, M, S, n, rebalance):
    """The top-N backtest by the documented rules. Returns decisions, trades, books (per date) and costs."""
    T = len(dates)

    def listed_bar(t, c):
        return M[(t, c)]

    def close_of(t, c):  # carried over suspended days
        for u in range(t, -1, -1):
            if M[(u, c)] is not None:
                return M[(u, c)]["close"]
        return float("nan")

    def can_buy(t, c):
        b = listed_bar(t, c)
        return b is not None and b["volume"] > 0 and not (b["close"] >= b["up_limit"] - 0.005)

    def can_sell(t, c):
        b = listed_bar(t, c)
        return b is not None and b["volume"] > 0 and not (b["close"] <= b["down_limit"] + 0.005)

    def is_decision(t):
        if t + 1 > T - 1:
            return False
        if rebalance == "daily":
            return True
        a = datetime.date(dates[t] // 10000, dates[t] // 100 % 100, dates[t] % 100)
        b = datetime.date(dates[t + 1] // 10000, dates[t + 1] // 100 % 100, dates[t + 1] % 100)
        if rebalance == "weekly":
            return a.isocalendar()[:2] != b.isocalendar()[:2]
        return a.month != b.month

    def c_buy(v):
        return max(0.001 * v, 5.0)

    def c_sell(v):
        return max(0.001 * v, 5.0) + max(0.001 * v, 1.0)

    cash, sh = CAPITAL, {}
    started, pending = False, None
    decisions, trades, books, costs = [], [], {}, 0.0
    for t in range(T):
        if pending is not None and pending[0] == t:
            tgt = pending[1]
            cands = sorted(set(sh) | set(tgt))
            buys = []
            for c in cands:
                b = listed_bar(t, c)
                H, Tq = sh.get(c, 0.0), tgt.get(c, 0.0)
                delta = Tq - H
                px = b["vwap"] if b is not None else close_of(t, c)
                if delta > 1e-6:
                    q0 = math.floor(delta / 100 + 1e-9) * 100 if delta >= 100 - 1e-9 else 0.0
                    if not can_buy(t, c):
                        if q0 > 0:
                            trades.append((dates[t], c, "buy", 0.0, "unfilled",
                                           "suspended" if b is None else "limit_up"))
                        continue
                    buys.append([c, q0, px, Tq, H])
                elif delta < -1e-9:
                    q = H if Tq <= 1e-9 else (math.floor(-delta / 100 + 1e-9) * 100 if -delta >= 100 - 1e-9 else 0.0)
                    if q <= 0:
                        continue
                    if not can_sell(t, c):
                        trades.append((dates[t], c, "sell", 0.0, "unfilled", "suspended" if b is None else "limit_down"))
                        continue
                    v = q * px
                    cash += v - c_sell(v)
                    costs += c_sell(v)
                    sh[c] = H - q
                    if sh[c] <= 1e-9:
                        del sh[c]
                    trades.append((dates[t], c, "sell", q, "filled", ""))

            def need_of(q, px):
                return q * px + c_buy(q * px) if q > 0 else 0.0

            need = sum(need_of(q, px) for _, q, px, _, _ in buys)
            # cut phase: a lot at a time from the largest overshoot (H + q - T) x price, ties to the lower code
            while need > cash:
                live = [k for k in range(len(buys)) if buys[k][1] > 0]
                if not live:
                    break
                k = max(live, key=lambda j: ((buys[j][4] + buys[j][1] - buys[j][3]) * buys[j][2], -CODES.index(buys[j][0])))
                q, px = buys[k][1], buys[k][2]
                nq = q - 100 if q - 100 >= 100 - 1e-9 else 0.0
                need += need_of(nq, px) - need_of(q, px)
                buys[k][1] = nq
                seen_cut[0] = True
            active = [k for k in range(len(buys)) if (buys[k][3] - buys[k][4] - buys[k][1]) * buys[k][2] > 0]
            while active:
                # the largest shortfall, ties to the lower code (panel order)
                k = max(active, key=lambda j: ((buys[j][3] - buys[j][4] - buys[j][1]) * buys[j][2], -CODES.index(buys[j][0])))
                c, q, px, Tq, H = buys[k]
                marg = need_of(q + 100, px) - need_of(q, px)
                if marg > cash - need:
                    active.remove(k)
                    continue
                buys[k][1] = q + 100
                need += marg
                if (Tq - H - buys[k][1]) * px <= 0:
                    active.remove(k)
            for c, q, px, Tq, H in buys:
                q0 = math.floor((Tq - H) / 100 + 1e-9) * 100 if Tq - H >= 100 - 1e-9 else 0.0
                if q <= 0:
                    if q0 > 0:
                        trades.append((dates[t], c, "buy", 0.0, "unfilled", "cash"))
                    continue
                v = q * px
                cash -= v + c_buy(v)
                costs += c_buy(v)
                sh[c] = sh.get(c, 0.0) + q
                trades.append((dates[t], c, "buy", q, "partial" if q < q0 - 1e-9 else "filled", "cash" if q < q0 - 1e-9 else ""))
            pending = None
        value = cash + sum(q * close_of(t, c) for c, q in sh.items())
        books[dates[t]] = (dict(sh), value)
        if not is_decision(t):
            continue
        cand = [c for c in MEMBERS if (t, c) in S and (can_buy(t, c) or sh.get(c, 0) > 0)]
        if not started:
            if len(cand) < n:
                continue
            started = True
        if not cand:
            continue
        top = sorted(cand, key=lambda c: (-S[(t, c)], c))[:n]
        w = (1 - CASH) / n
        decisions.append((dates[t], top, w))
        pending = (t + 1, {c: w * value / close_of(t, c) for c in top})
    return decisions, trades, books, costs


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def pdate(s):
    return int(s.replace("-", ""))


def check_run(out, label, dates, M, S, n, rebalance, seen):
    d = os.path.join(out, "top%d" % n)
    dec, trades, books, costs = reference(dates, M, S, n, rebalance)
    # targets
    tg = read_csv(os.path.join(d, "targets.csv"))
    got = {}
    for r in tg:
        got.setdefault(pdate(r["date"]), []).append((r["code"], float(r["weight"])))
    if sorted(got) != [x[0] for x in dec]:
        fail("%s: decision dates %s, expected %s" % (label, sorted(got), [x[0] for x in dec]))
    for day, top, w in dec:
        rows = got[day]
        if sorted(c for c, _ in rows) != sorted(top):
            fail("%s %d: targets %s, expected %s" % (label, day, sorted(c for c, _ in rows), sorted(top)))
        for c, x in rows:
            if abs(x - w) > 1e-12:
                fail("%s %d: weight of %s %r, expected %r" % (label, day, c, x, w))
            if c == OUTSIDER:
                fail("%s: the non-member was selected" % label)
    # trades
    ct = read_csv(os.path.join(d, "trades.csv"))
    mine = sorted((pdate(r["date"]), r["code"], r["side"], float(r["shares"]), r["status"], r["reason"]) for r in ct)
    ref = sorted(trades)
    if mine != ref:
        extra = [x for x in mine if x not in ref][:5]
        missing = [x for x in ref if x not in mine][:5]
        fail("%s: trades differ; zhizeng only: %s; reference only: %s" % (label, extra, missing))
    # holdings at every close in positions.csv
    pos = {}
    for r in read_csv(os.path.join(d, "positions.csv")):
        if float(r["shares"]) > 0:
            pos.setdefault(pdate(r["date"]), {})[r["code"]] = float(r["shares"])
    pdates = sorted(set(pdate(r["date"]) for r in read_csv(os.path.join(d, "positions.csv"))))
    for day in pdates:
        want = books[day][0]
        have = pos.get(day, {})
        if set(want) != set(have) or any(abs(want[c] - have[c]) > 1e-9 for c in want):
            fail("%s %d: holdings %s, expected %s" % (label, day, have, want))
    # costs: the hand sum over trades.csv, each trade's own cost, the reference's total
    hand = 0.0
    for r in ct:
        q, px, cost = float(r["shares"]), float(r["price"] or "nan"), float(r["cost"])
        seen[r["reason"]] = True
        if q <= 0:
            if cost != 0:
                fail("%s: an unfilled order has a cost" % label)
            continue
        v = q * px
        c = max(0.001 * v, 5.0) + (max(0.001 * v, 1.0) if r["side"] == "sell" else 0.0)
        if abs(c - cost) > 1e-9 * max(1.0, c):
            fail("%s: %s %s %s: cost %r, expected %r" % (label, r["date"], r["code"], r["side"], cost, c))
        hand += c
        seen["comm_min"] |= 0.001 * v < 5
        seen["comm_rate"] |= 0.001 * v > 5
        if r["side"] == "sell":
            seen["stamp_min"] |= 0.001 * v < 1
            seen["stamp_rate"] |= 0.001 * v > 1
    summ = {r["key"]: r["value"] for r in read_csv(os.path.join(d, "summary.csv"))}
    total = float(summ["total_costs"])
    if abs(total - hand) > 1e-6 or abs(total - costs) > 1e-6:
        fail("%s: total costs %r, hand sum over trades %r, reference %r" % (label, total, hand, costs))
    nav = read_csv(os.path.join(d, "nav.csv"))
    last = pdate(nav[-1]["date"])
    if abs(float(nav[-1]["value"]) - books[last][1]) > 1e-6:
        fail("%s: final value %s, expected %r" % (label, nav[-1]["value"], books[last][1]))
    print("%s: %d rebalances, %d orders, total costs %.2f CNY (hand sum %.2f), final value %.2f: ok"
          % (label, len(dec), len(ct), total, hand, books[last][1]))
    return [x[0] for x in dec]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    mk = os.path.join(a.work, "market")
    dates, M, S = make_market(mk)
    seen = {"comm_min": False, "comm_rate": False, "stamp_min": False, "stamp_rate": False}
    for rebalance in ("daily", "weekly", "monthly"):
        out = os.path.join(a.work, rebalance)
        cmd = [a.zhizeng, "topn", "--market", mk, "--scores", os.path.join(mk, "scores.csv"), "--out", out,
               "--n", "2,3", "--rebalance", rebalance, "--capital", str(CAPITAL), "--cash", str(CASH),
               "--min-listed", "0", "--no-cache"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            fail("%s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr[-2000:]))
        for n in (2, 3):
            dd = check_run(out, "%s top%d" % (rebalance, n), dates, M, S, n, rebalance, seen)
            if rebalance == "weekly" and dd[0] != 20240105:
                fail("weekly: first decision %d, expected the first ISO week end 2024-01-05" % dd[0])
            if rebalance == "monthly" and dd != [20240131]:
                fail("monthly: decisions %s, expected the month end 2024-01-31 only" % dd)
        # the same batches through `zhizeng simulate --costs seed004`: the same book, day for day
        sim_out = os.path.join(a.work, rebalance + "_simulate")
        p = subprocess.run([a.zhizeng, "simulate", "--market", mk, "--targets", os.path.join(out, "top3", "targets.csv"),
                            "--out", sim_out, "--index", "000300", "--capital", str(CAPITAL), "--costs", "seed004",
                            "--no-cache"], capture_output=True, text=True)
        if p.returncode != 0:
            fail("simulate --costs seed004: " + p.stderr[-1000:])
        for fn in ("nav.csv", "trades.csv", "summary.csv"):
            if open(os.path.join(sim_out, fn)).read() != open(os.path.join(out, "top3", fn)).read():
                fail("%s: zhizeng simulate --costs seed004 on top3's targets gives another %s" % (rebalance, fn))
        summ = read_csv(os.path.join(out, "summary.csv"))
        if [r["label"] for r in summ] != ["top2", "top3"]:
            fail("%s: summary.csv labels %s" % (rebalance, [r["label"] for r in summ]))
        for f in ("yearly.csv", "report.md", "report.html"):
            if not os.path.getsize(os.path.join(out, f)):
                fail("%s: %s is empty" % (rebalance, f))
        html = open(os.path.join(out, "report.html")).read()
        if "benchmark" not in html or "nav_all" not in html:
            fail("%s: report.html lacks the side-by-side NAV chart against the benchmark" % rebalance)
    seen["cut"] = seen_cut[0]
    for k in ("comm_min", "comm_rate", "stamp_min", "stamp_rate", "suspended", "limit_up", "limit_down", "cash", "cut"):
        if not seen.get(k):
            fail("the scenario did not exercise %s" % k)
    # refusals
    p = subprocess.run([a.zhizeng, "topn", "--market", mk, "--scores", os.path.join(mk, "scores.csv"), "--out",
                        os.path.join(a.work, "bad"), "--rebalance", "hourly"], capture_output=True, text=True)
    if p.returncode != 2 or "--rebalance" not in p.stderr:
        fail("--rebalance hourly: exit %d, %s" % (p.returncode, p.stderr))
    p = subprocess.run([a.zhizeng, "topn", "--market", mk, "--scores", os.path.join(mk, "scores.csv"), "--out",
                        os.path.join(a.work, "bad"), "--n", "2,50", "--min-listed", "0", "--no-cache"],
                       capture_output=True, text=True)
    if p.returncode != 3 or "50 scored" not in p.stderr:
        fail("--n 50 on 6 members: exit %d, %s" % (p.returncode, p.stderr))
    if os.path.exists(os.path.join(a.work, "bad")):
        fail("a refused run left an output directory")
    print("all top-N checks passed; minimums binding and not binding, suspension, limit-up and limit-down seen")


if __name__ == "__main__":
    main()
