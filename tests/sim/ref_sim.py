#!/usr/bin/env python3
"""ref_sim.py - an independent numpy reference for zhizeng's simulator (docs/simulator.md).

It reads a market directory's CSV files itself (not through the C panel), writes weekly random
targets, runs `zhizeng simulate` under several configurations, simulates the same rules day by day
with numpy (vectorised over stocks) and compares nav.csv column by column (1e-9).

Markets:
  --gen python  a small random market written by this script (limit-up/down days, sealed limits,
                suspensions, ex-rights days, a delisting, an IPO, an ST stock, ChiNext, the stamp-duty
                switch of 2023-08-28, and a total-return index R_t = sum_i w_{i,t-1} r_{i,t});
  --gen synth   `zhizeng synth` (exit 77 when the binary has no synth command yet);
  --market DIR  an existing market directory.
Also checked: holding the index weights in --ideal mode tracks the index (|r_p - r_b| <= 1e-6 per day
between reviews) and a bad targets file writes nothing. Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import csv
import datetime as dt
import math
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("ref_sim.py: numpy is not installed (Debian python3-numpy); skipping", file=sys.stderr)
    sys.exit(77)

EPS = 1e-9
TOL = 0.005


# ----------------------------------------------------------------------------- market reading

def parse_date(s):
    s = s.strip()
    if len(s) == 8 and s.isdigit():
        return int(s)
    y, m, d = s.split("-")
    return int(y) * 10000 + int(m) * 100 + int(d)


def norm_code(s):
    """600000.SH, SH600000, sh.600000 -> 600000.SH"""
    s = s.strip().upper()
    if "." in s:
        a, b = s.split(".", 1)
        return b + "." + a if a in ("SH", "SZ", "BJ") else a + "." + b
    if s[:2] in ("SH", "SZ", "BJ"):
        return s[2:] + "." + s[:2]
    return s


def fnum(row, key, default=float("nan")):
    v = row.get(key)
    if v is None or v.strip() == "":
        return default
    return float(v)


def limit_ratio(board, st, ymd):
    if board == "chinext":
        return 0.20 if ymd >= 20200824 else (0.05 if st else 0.10)
    if board == "star":
        return 0.20
    if board == "bse":
        return 0.30
    return 0.05 if st else 0.10


def board_of(code):
    if code.endswith(".BJ"):
        return "bse"
    if code.startswith(("300", "301")):
        return "chinext"
    if code.startswith(("688", "689")):
        return "star"
    return "main"


def round2(x):
    return math.floor(x * 100.0 + 0.5 + 1e-7) / 100.0


def read_market(d):
    """Dense T x N arrays following SPEC 2 conventions, straight from the CSV files."""
    with open(os.path.join(d, "bars.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    tushare = rows and "ts_code" in rows[0]
    for r in rows:
        r["_d"] = parse_date(r.get("date") or r.get("trade_date"))
        r["_c"] = norm_code(r.get("code") or r.get("ts_code"))
    dates = sorted({r["_d"] for r in rows})
    codes = sorted({r["_c"] for r in rows})
    T, N = len(dates), len(codes)
    ti = {x: k for k, x in enumerate(dates)}
    ci = {x: k for k, x in enumerate(codes)}
    info = {c: {"board": board_of(c), "delist": 0} for c in codes}
    sp = os.path.join(d, "stocks.csv")
    if os.path.exists(sp):
        with open(sp, newline="") as f:
            for r in csv.DictReader(f):
                c = norm_code(r.get("code") or r.get("ts_code"))
                if c in info:
                    if r.get("board"):
                        info[c]["board"] = r["board"].strip()
                    if r.get("delist_date", "").strip():
                        info[c]["delist"] = parse_date(r["delist_date"])
    F = ["open", "high", "low", "close", "volume", "amount", "pre_close", "vwap", "adj_factor", "up_limit", "down_limit"]
    M = {k: np.full((T, N), np.nan) for k in F}
    has = np.zeros((T, N), bool)
    susp = np.zeros((T, N), bool)
    st = np.zeros((T, N), bool)
    adj_given = rows and ("adj_factor" in rows[0])
    for r in rows:
        t, i = ti[r["_d"]], ci[r["_c"]]
        has[t, i] = True
        for k in F:
            key = "vol" if (k == "volume" and tushare) else k
            M[k][t, i] = fnum(r, key)
        if tushare:
            M["volume"][t, i] *= 100.0
            M["amount"][t, i] *= 1000.0
        susp[t, i] = fnum(r, "suspended", 0.0) != 0
        st[t, i] = fnum(r, "is_st", 0.0) != 0
    listed = np.zeros((T, N), bool)
    for i, c in enumerate(codes):
        idx = np.nonzero(has[:, i])[0]
        t0, t1 = idx[0], idx[-1]
        delisted = info[c]["delist"] and info[c]["delist"] <= dates[-1]
        end = t1 if delisted else T - 1
        last_close, last_adj, is_st = np.nan, 1.0, False
        for t in range(t0, end + 1):
            listed[t, i] = True
            if has[t, i]:
                is_st = st[t, i]
            else:
                st[t, i] = is_st
            pre_given = M["pre_close"][t, i]
            if not has[t, i] or susp[t, i]:
                susp[t, i] = True
                c0 = last_close
                if math.isnan(c0) and has[t, i]:
                    c0 = M["close"][t, i]
                for k in ("open", "high", "low", "close", "vwap", "pre_close"):
                    M[k][t, i] = c0
                M["volume"][t, i] = M["amount"][t, i] = 0.0
                pre_given = np.nan
            else:
                if math.isnan(pre_given):
                    M["pre_close"][t, i] = last_close
                if math.isnan(M["vwap"][t, i]):
                    v = M["volume"][t, i]
                    M["vwap"][t, i] = M["amount"][t, i] / v if v > 0 else M["close"][t, i]
            if adj_given:
                if math.isnan(M["adj_factor"][t, i]):
                    M["adj_factor"][t, i] = last_adj
            else:
                a = last_adj
                if not math.isnan(pre_given) and not math.isnan(last_close) and abs(pre_given - last_close) > 1e-9 * last_close:
                    a = last_adj * last_close / pre_given
                M["adj_factor"][t, i] = a
            pc = M["pre_close"][t, i]
            ratio = limit_ratio(info[c]["board"], st[t, i], dates[t])
            if math.isnan(M["up_limit"][t, i]):
                M["up_limit"][t, i] = np.nan if math.isnan(pc) else round2(pc * (1 + ratio))
            if math.isnan(M["down_limit"][t, i]):
                M["down_limit"][t, i] = np.nan if math.isnan(pc) else round2(pc * (1 - ratio))
            last_close = M["close"][t, i]
            last_adj = M["adj_factor"][t, i]
        # after delisting (and before listing) every field is NaN
        for k in F:
            M[k][~listed[:, i], i] = np.nan
    M["listed"], M["suspended"], M["st"] = listed, susp, st
    index = {}
    with open(os.path.join(d, "index_bars.csv"), newline="") as f:
        for r in csv.DictReader(f):
            name = (r.get("index") or r.get("index_code") or r.get("ts_code")).strip().split(".")[0]
            name = {"csi300": "000300", "csi500": "000905", "csi1000": "000852"}.get(name.lower(), name)
            t = ti.get(parse_date(r.get("date") or r.get("trade_date")))
            if t is not None:
                index.setdefault(name, np.full(T, np.nan))[t] = float(r["close"])
    return dates, codes, M, index


def read_index_weights(d, dates, codes, name):
    ti = {x: k for k, x in enumerate(dates)}
    ci = {x: k for k, x in enumerate(codes)}
    snaps = {}
    with open(os.path.join(d, "index_weights.csv"), newline="") as f:
        for r in csv.DictReader(f):
            nm = (r.get("index") or r.get("index_code")).strip().split(".")[0]
            nm = {"csi300": "000300", "csi500": "000905", "csi1000": "000852"}.get(nm.lower(), nm)
            if nm != name:
                continue
            t = ti[parse_date(r.get("date") or r.get("trade_date"))]
            snaps.setdefault(t, np.zeros(len(codes)))[ci[norm_code(r.get("code") or r.get("con_code"))]] = float(r["weight"])
    for t in snaps:
        s = snaps[t].sum()
        snaps[t] = snaps[t] / s * (1.0 - 1e-12)  # fractions summing to (just under) 1
    return snaps


# ----------------------------------------------------------------------------- the reference simulator

class Cfg:
    def __init__(self, **kw):
        self.capital, self.bench = 1e7, "000905"
        self.costs, self.buy, self.sell, self.comm, self.cmin = "proportional", 0.001, 0.002, 0.00025, 5.0
        self.stamp_old, self.stamp_new, self.stamp_switch = 0.001, 0.0005, 20230828
        self.limit, self.lot, self.lag, self.price, self.rules = "close", 100.0, 1, "vwap", True
        if kw.pop("ideal", False):
            self.costs, self.lot, self.lag, self.price, self.rules = "none", 0.0, 0, "close", False
        self.__dict__.update(kw)


def cost_of(cfg, side, value, ymd):
    value = np.asarray(value, float)
    pos = value > 0
    if cfg.costs == "proportional":
        c = value * (cfg.buy if side > 0 else cfg.sell)
    elif cfg.costs == "commission":
        c = np.maximum(value * cfg.comm, cfg.cmin)
        if side < 0:
            c = c + value * (cfg.stamp_old if ymd < cfg.stamp_switch else cfg.stamp_new)
    else:
        c = np.zeros_like(value)
    return np.where(pos, c, 0.0)


def lots_down(q, lot):
    return np.floor(q / lot + 1e-9) * lot if lot > 0 else q


def at_limit(M, cfg, t, up):
    lim = M["up_limit" if up else "down_limit"][t]
    if cfg.limit == "sealed":
        x = M["low" if up else "high"][t]
    elif cfg.limit == "vwap":
        x = M["vwap"][t]
    else:
        x = M["close"][t]
    with np.errstate(invalid="ignore"):
        r = (x >= lim - TOL) if up else (x <= lim + TOL)
    return r & np.isfinite(lim) & np.isfinite(x)


def simulate(dates, M, index, batches, cfg):
    """batches: list of (date index, weight vector). Returns dict of daily columns."""
    T, N = M["close"].shape
    t0 = min(b[0] for b in batches)
    due = {}
    for k, (tb, w) in enumerate(sorted(batches, key=lambda b: b[0])):
        if tb + cfg.lag < T:
            due.setdefault(tb + cfg.lag, []).append(w)
    bclose = index.get(cfg.bench) if cfg.bench else None
    shares = np.zeros(N)
    bought_t = np.full(N, -1)
    bought_q = np.zeros(N)
    last_close = np.zeros(N)
    cash = cfg.capital
    prev_value = cfg.capital
    out = {k: [] for k in ("date", "nav", "benchmark", "hedged", "cash", "turnover", "costs")}
    bench, hedged = 1.0, 1.0
    for t in range(t0, T):
        listed = M["listed"][t]
        day_cost, day_turn = 0.0, 0.0
        if t > t0:
            held = shares > EPS
            gone = held & ~listed
            cash += float(np.sum(shares[gone] * last_close[gone]))
            shares[gone] = 0.0
            a1, a0 = M["adj_factor"][t], M["adj_factor"][t - 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                ok = held & ~gone & np.isfinite(a1) & np.isfinite(a0) & (a0 > 0) & (a1 != a0)
                shares[ok] *= a1[ok] / a0[ok]
        rb = 0.0
        if bclose is not None and t > t0 and np.isfinite(bclose[t]) and np.isfinite(bclose[t - 1]) and bclose[t - 1] > 0:
            rb = bclose[t] / bclose[t - 1] - 1.0
        for w in due.get(t, []):
            cash, c, tv = rebalance(M, cfg, t, dates[t], w, shares, bought_t, bought_q, last_close, cash)
            day_cost += c
            day_turn += tv
        cl = M["close"][t]
        with np.errstate(invalid="ignore"):
            upd = np.isfinite(cl) & (cl > 0)
        last_close[upd] = cl[upd]
        held = shares > EPS
        value = cash + float(np.sum(shares[held] * last_close[held]))
        rp = value / prev_value - 1.0
        bench = bench * (1.0 + rb) if t > t0 else 1.0
        hedged = hedged * (1.0 + rp - rb)
        prev_value = value
        for k, v in (("date", dates[t]), ("nav", value / cfg.capital), ("benchmark", bench), ("hedged", hedged),
                     ("cash", cash), ("turnover", day_turn), ("costs", day_cost)):
            out[k].append(v)
    return {k: np.array(v) for k, v in out.items()}


def rebalance(M, cfg, t, ymd, w, shares, bought_t, bought_q, last_close, cash):
    N = shares.size
    lot = cfg.lot
    px = M["vwap" if cfg.price == "vwap" else cfg.price][t].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        if cfg.price == "vwap":
            bad = ~(px > 0)
            vol, amt = M["volume"][t], M["amount"][t]
            alt = np.where((vol > 0) & (amt > 0), amt / vol, M["close"][t])
            px[bad] = alt[bad]
        bad = ~(px > 0)
        px[bad] = last_close[bad]
        held = shares > EPS
        V = cash + float(np.sum(shares[held] * px[held]))
        consider = held | (w > 0)
        active = consider & M["listed"][t] & (px > 0) & np.isfinite(px)
        desired = np.where(w > 0, lots_down(w * V / px, lot), 0.0)
        delta = desired - shares
        q_buy = lots_down(delta, lot)
        buys = active & (delta > EPS) & (q_buy > EPS)
        q_sell = np.where(desired <= 0, shares, lots_down(-delta, lot))
        sells = active & (delta < -EPS) & (q_sell > EPS)
    if cfg.rules:
        vol = M["volume"][t]
        with np.errstate(invalid="ignore"):
            susp = M["suspended"][t] | (np.isfinite(vol) & (vol <= 0))
        buys &= ~susp & ~at_limit(M, cfg, t, True)
        sells &= ~susp & ~at_limit(M, cfg, t, False)
        locked = np.where(bought_t == t, bought_q, 0.0)
        sellable = shares - locked
        cut = (bought_t == t) & (sellable < q_sell - EPS)
        alt = np.where((desired <= 0) & (sellable > EPS), sellable, lots_down(np.maximum(sellable, 0.0), lot))
        fill = np.where(cut, alt, q_sell)
        sells &= fill > EPS
    else:
        fill = q_sell
    fill = np.where(sells, fill, 0.0)
    sv = fill * px
    sc = cost_of(cfg, -1, np.where(sells, sv, 0.0), ymd)
    idx = np.nonzero(sells)[0]
    for i in idx:  # cash is booked order by order, as a ledger would
        cash += sv[i] - sc[i]
    sold = float(np.sum(sv[idx]))
    costs = float(np.sum(sc[idx]))
    shares[idx] -= fill[idx]
    shares[(shares <= EPS)] = 0.0
    bi = np.nonzero(buys)[0]
    q = q_buy[bi]
    p = px[bi]
    bfill = q.copy()
    need = float(np.sum(q * p + cost_of(cfg, 1, q * p, ymd)))
    if need > cash:
        scale = cash / need if cash > 0 else 0.0
        total = need
        for _ in range(100):
            bfill = lots_down(q * scale, lot)
            total = float(np.sum(bfill * p + cost_of(cfg, 1, bfill * p, ymd)))
            if total <= cash:
                break
            scale *= min(cash / total, 1.0 - 1e-12)
        while total > cash:
            if not np.any(bfill > 0):
                break
            v = bfill * p
            k = int(np.argmax(np.where(bfill > 0, v, -1.0)))
            before = v[k]
            bfill[k] = max(bfill[k] - lot, 0.0) if lot > 0 else 0.0
            after = bfill[k] * p[k]
            total -= before + float(cost_of(cfg, 1, before, ymd)) - after - float(cost_of(cfg, 1, after, ymd))
    bought = 0.0
    for j, i in enumerate(bi):
        if bfill[j] <= EPS:
            continue
        value = bfill[j] * p[j]
        c = float(cost_of(cfg, 1, value, ymd))
        cash -= value + c
        if -1e-6 < cash < 0:
            cash = 0.0
        shares[i] += bfill[j]
        if bought_t[i] != t:
            bought_t[i], bought_q[i] = t, 0.0
        bought_q[i] += bfill[j]
        bought += value
        costs += c
    turn = (sold + bought) / 2.0 / V if V > 0 else 0.0
    return cash, costs, turn


# ----------------------------------------------------------------------------- a random market

def gen_market(d, seed, n=40):
    rng = np.random.default_rng(seed)
    os.makedirs(d, exist_ok=True)
    day = dt.date(2023, 6, 1)
    dates = []
    while len(dates) < 90:
        if day.weekday() < 5:
            dates.append(day.year * 10000 + day.month * 100 + day.day)
        day += dt.timedelta(days=1)
    T = len(dates)
    codes = sorted([f"{600000 + 7 * i:06d}.SH" for i in range(n - 4)] + [f"{300001 + i:06d}.SZ" for i in range(4)])
    first = {c: 0 for c in codes}
    last = {c: T - 1 for c in codes}
    delisted = codes[5]
    last[delisted] = 50
    first[codes[6]] = 30  # an IPO
    st_code = codes[7]
    members = [c for c in codes if c not in (delisted, codes[6])][:20]
    fs = {c: float(rng.uniform(1e8, 1e9)) for c in codes}
    fdate = lambda x: f"{x // 10000:04d}-{x // 100 % 100:02d}-{x % 100:02d}"
    bars = []
    close = {}
    adj = {}
    rets = np.zeros((T, len(codes)))
    for t in range(T):
        for i, c in enumerate(codes):
            if t < first[c] or t > last[c]:
                continue
            board = board_of(c)
            ratio = limit_ratio(board, c == st_code, dates[t])
            if c not in close:
                pc = round(float(rng.uniform(5, 40)), 2)
                a = 1.0
                pre = pc
            else:
                pc = close[c]
                a = adj[c]
                pre = pc
                if rng.random() < 0.02:  # ex-rights: dividend or bonus shares
                    f = float(rng.choice([1.3, 1.5, 2.0])) if rng.random() < 0.5 else pc / max(pc - float(rng.uniform(0.1, 0.8)), 0.5)
                    pre = round(pc / f, 2)
                    a = a * pc / pre
            up, dn = round2(pre * (1 + ratio)), round2(pre * (1 - ratio))
            u = rng.random()
            if u < 0.03 and c in close:  # missing row: suspended
                continue
            susp = 1 if (u < 0.045 and c in close) else 0
            if u > 0.96:
                cl = up
            elif u > 0.93:
                cl = dn
            else:
                cl = min(max(round(pre * (1 + float(rng.normal(0, 0.025))), 2), dn), up)
            sealed = u > 0.98 or (0.93 < u < 0.945)
            if sealed:
                op = hi = lo = cl
            else:
                op = min(max(round(pre * (1 + float(rng.normal(0, 0.01))), 2), dn), up)
                hi = min(max(op, cl) + round(float(rng.uniform(0, 0.03)) * pre, 2), up)
                lo = max(min(op, cl) - round(float(rng.uniform(0, 0.03)) * pre, 2), dn)
            vol = float(rng.integers(1000, 100000)) * 100.0
            vw = lo + (hi - lo) * float(rng.uniform(0.2, 0.8)) if hi > lo else cl
            amt = round(vol * vw, 2)
            if susp:
                op = hi = lo = cl = pc
                vol = amt = 0.0
                up, dn = round2(pc * (1 + ratio)), round2(pc * (1 - ratio))
            row = [fdate(dates[t]), c, op, hi, lo, cl, vol, amt, pre if not susp else pc,
                   (amt / vol if vol > 0 else ""), a, up, dn, susp, int(c == st_code), cl * fs[c], cl * fs[c] * 1.2]
            bars.append(row)
            if c in close:
                rets[t, i] = cl * a / (close[c] * adj[c]) - 1.0
            close[c], adj[c] = cl, a
    with open(os.path.join(d, "bars.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "code", "open", "high", "low", "close", "volume", "amount", "pre_close", "vwap", "adj_factor",
                    "up_limit", "down_limit", "suspended", "is_st", "float_mv", "total_mv"])
        for r in bars:
            w.writerow([x if isinstance(x, str) else repr(x) if isinstance(x, float) else x for x in r])
    with open(os.path.join(d, "stocks.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "board", "list_date", "delist_date"])
        for c in codes:
            w.writerow([c, "S" + c[:6], board_of(c), fdate(dates[first[c]]),
                        fdate(dates[last[c] + 1]) if last[c] < T - 1 else ""])
    # daily weight snapshots (fixed random shares drifting with total return) and the total-return index
    ci = {c: k for k, c in enumerate(codes)}
    m = np.array([ci[c] for c in members])
    base = rng.uniform(0.5, 2.0, m.size)
    wts = []
    lvl = [1000.0]
    with open(os.path.join(d, "index_weights.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "index", "code", "weight"])
        growth = np.ones(m.size)
        for t in range(T):
            if t:
                growth = growth * (1.0 + rets[t, m])
            x = base * growth
            x = x / x.sum()
            wts.append(x)
            for k, c in enumerate(members):
                w.writerow([fdate(dates[t]), "000905", c, repr(float(x[k]))])
    # the index: R_t = sum_i w_{i,t-1} r_{i,t}, from the weights as they read back from the CSV
    back = read_weights_raw(os.path.join(d, "index_weights.csv"), dates, members)
    for t in range(1, T):
        lvl.append(lvl[-1] * (1.0 + float(np.sum(back[t - 1] * rets[t, m]))))
    with open(os.path.join(d, "index_bars.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "index", "close"])
        for t in range(T):
            w.writerow([fdate(dates[t]), "000905", repr(lvl[t])])


def read_weights_raw(path, dates, members):
    ti = {x: k for k, x in enumerate(dates)}
    mi = {c: k for k, c in enumerate(members)}
    out = np.zeros((len(dates), len(members)))
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out[ti[parse_date(r["date"])], mi[r["code"]]] = float(r["weight"])
    return out / out.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- driver

def week_ends(dates):
    out = []
    for k, x in enumerate(dates):
        d0 = dt.date(x // 10000, x // 100 % 100, x % 100).isocalendar()[:2]
        if k + 1 == len(dates):
            out.append(k)
        else:
            y = dates[k + 1]
            if dt.date(y // 10000, y // 100 % 100, y % 100).isocalendar()[:2] != d0:
                out.append(k)
    return out


def write_targets(path, dates, codes, batches):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "code", "weight"])
        for t, wt in batches:
            ds = f"{dates[t] // 10000:04d}-{dates[t] // 100 % 100:02d}-{dates[t] % 100:02d}"
            nz = np.nonzero(wt)[0]
            if nz.size == 0:
                w.writerow([ds, "CASH", ""])
            for i in nz:
                w.writerow([ds, codes[i], repr(float(wt[i]))])


def read_nav(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([parse_date(r[k]) if k == "date" else float(r[k]) for r in rows])
            for k in ("date", "nav", "benchmark", "hedged", "cash", "turnover", "costs")}


def run_zhizeng(args, market, targets, out, extra):
    cmd = [args.zhizeng, "simulate", "--market", market, "--targets", targets, "--out", out] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p


def compare(name, ref, got, capital, tol):
    bad = 0
    if len(ref["date"]) != len(got["date"]) or np.any(ref["date"] != got["date"]):
        print(f"[{name}] dates differ: {len(ref['date'])} reference rows, {len(got['date'])} from zhizeng")
        return 1
    for k in ("nav", "benchmark", "hedged", "turnover"):
        err = np.max(np.abs(ref[k] - got[k]))
        if not err <= tol:
            j = int(np.argmax(np.abs(ref[k] - got[k])))
            print(f"[{name}] {k}: max |diff| {err:.3e} at {got['date'][j]} (ref {ref[k][j]!r}, zhizeng {got[k][j]!r})")
            bad += 1
    for k in ("cash", "costs"):
        err = np.max(np.abs(ref[k] - got[k])) / capital
        if not err <= tol:
            j = int(np.argmax(np.abs(ref[k] - got[k])))
            print(f"[{name}] {k}: max |diff|/capital {err:.3e} at {got['date'][j]} (ref {ref[k][j]!r}, zhizeng {got[k][j]!r})")
            bad += 1
    print(f"[{name}] {len(got['date'])} days, final nav {got['nav'][-1]:.6f} (reference {ref['nav'][-1]:.6f}), "
          f"costs {np.sum(got['costs']):.2f}: {'ok' if not bad else 'MISMATCH'}")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--gen", choices=["python", "synth"], default="python")
    ap.add_argument("--market")
    ap.add_argument("--stocks", type=int, default=1900)
    ap.add_argument("--start", default="2022-01-01")
    ap.add_argument("--end", default="2022-12-31")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tol", type=float, default=1e-9)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    market = args.market
    if not market:
        market = os.path.join(args.workdir, "market")
        if args.gen == "python":
            gen_market(market, args.seed)
        else:
            p = subprocess.run([args.zhizeng, "synth", "--out", market, "--stocks", str(args.stocks), "--start", args.start,
                                "--end", args.end, "--seed", str(args.seed)], capture_output=True, text=True)
            if p.returncode != 0:
                if "unknown command" in p.stderr:
                    print("ref_sim.py: this zhizeng has no 'synth' command yet; skipping", file=sys.stderr)
                    return 77
                print(p.stderr, file=sys.stderr)
                return 1
    dates, codes, M, index = read_market(market)
    rng = np.random.default_rng(args.seed + 1)
    T, N = M["close"].shape
    wk = week_ends(dates)
    batches = []
    for n_b, t in enumerate(wk[:-1]):
        cand = np.nonzero(M["listed"][t])[0]
        k = min(cand.size, 12 if N < 100 else 100)
        wt = np.zeros(N)
        if n_b % 7 != 5:  # now and then an empty target (sell everything)
            pick = rng.choice(cand, k, replace=False)
            gone = np.nonzero(M["listed"][t] & ~M["listed"][-1])[0]  # hold stocks that will be delisted
            pick = np.union1d(pick, gone)
            k = pick.size
            wt[pick] = rng.dirichlet(np.ones(k)) * rng.uniform(0.9, 1.0)
        batches.append((t, wt))
    targets = os.path.join(args.workdir, "targets.csv")
    write_targets(targets, dates, codes, batches)
    bench = "000905" if "000905" in index else (sorted(index)[0] if index else None)
    configs = [
        ("default", Cfg(capital=1e6, bench=bench), []),
        ("commission-sealed", Cfg(capital=3e5, bench=bench, costs="commission", limit="sealed"),
         ["--capital", "300000", "--costs", "commission", "--limit-test", "sealed"]),
        ("vwap-open-lag2", Cfg(capital=2e6, bench=bench, limit="vwap", price="open", lag=2),
         ["--capital", "2000000", "--limit-test", "vwap", "--price", "open", "--lag", "2"]),
        ("ideal", Cfg(capital=1e6, bench=bench, ideal=True), ["--ideal"]),
    ]
    bad = 0
    for name, cfg, extra in configs:
        out = os.path.join(args.workdir, "out-" + name)
        extra = ["--index", bench or "none"] + (["--capital", "1000000"] if "--capital" not in extra else []) + extra
        p = run_zhizeng(args, market, targets, out, extra)
        if p.returncode != 0:
            print(f"[{name}] zhizeng simulate failed ({p.returncode}): {p.stderr}")
            bad += 1
            continue
        ref = simulate(dates, M, index, batches, cfg)
        bad += compare(name, ref, read_nav(os.path.join(out, "nav.csv")), cfg.capital, args.tol)

    # index tracking in ideal mode: hold the index weights in force each day
    if bench and os.path.exists(os.path.join(market, "index_weights.csv")):
        snaps = read_index_weights(market, dates, codes, bench)
        tb = sorted(snaps)
        tw = []
        if len(tb) >= 0.9 * (T - tb[0]):  # daily snapshots: hold each day's weights
            for t in range(tb[0], T):
                s = max(x for x in tb if x <= t)
                tw.append((t, snaps[s]))
        else:  # snapshots at reviews only: buy and hold the float-cap weights in between
            tw = [(t, snaps[t]) for t in tb]
        tpath = os.path.join(args.workdir, "index_targets.csv")
        write_targets(tpath, dates, codes, tw)
        out = os.path.join(args.workdir, "out-index")
        p = run_zhizeng(args, market, tpath, out, ["--ideal", "--index", bench])
        if p.returncode != 0:
            print(f"[index] zhizeng simulate failed ({p.returncode}): {p.stderr}")
            bad += 1
        else:
            got = read_nav(os.path.join(out, "nav.csv"))
            rp = got["nav"][1:] / got["nav"][:-1] - 1
            rb = got["benchmark"][1:] / got["benchmark"][:-1] - 1
            # excluded: the day a member that had no price yet starts trading (a member suspended since before
            # the market's first date has no close, so its weight stays in cash; while it stays suspended cash
            # and stock both return 0, but its first return is not earned)
            held = {t: w for t, w in tw}
            cur, skip = None, []
            for t in range(tb[0] + 1, T):
                cur = held.get(t - 1, cur)
                skip.append(bool(np.any((cur > 0) & ~M["listed"][t - 1] & M["listed"][t])))
            skip = np.array(skip, bool)
            dev = np.abs(rp - rb)[~skip]
            worst = float(np.max(dev)) if dev.size else 0.0
            ok = worst <= 1e-6
            print(f"[index] ideal holding of {bench} weights: max daily |r_p - r_b| {worst:.3e} over {dev.size} days "
                  f"({int(skip.sum())} days on which an unpriced member started trading left out): "
                  f"{'ok' if ok else 'MISMATCH'}")
            bad += 0 if ok else 1

    # bad input: refused, nothing written
    badt = os.path.join(args.workdir, "bad_targets.csv")
    with open(badt, "w") as f:
        f.write("date,code,weight\n")
        f.write(f"{dates[0] // 10000:04d}-{dates[0] // 100 % 100:02d}-{dates[0] % 100:02d},{codes[0]},0.6\n")
        f.write(f"{dates[0] // 10000:04d}-{dates[0] // 100 % 100:02d}-{dates[0] % 100:02d},{codes[1]},0.5\n")
    out = os.path.join(args.workdir, "out-bad")
    p = run_zhizeng(args, market, badt, out, [])
    if p.returncode != 3 or os.path.exists(out) or "bad_targets.csv:3:" not in p.stderr:
        print(f"[bad input] expected exit 3, no output and 'bad_targets.csv:3:' in the message; got {p.returncode}, "
              f"output {'present' if os.path.exists(out) else 'absent'}, stderr: {p.stderr.strip()}")
        bad += 1
    else:
        print("[bad input] refused with file:line, nothing written: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
