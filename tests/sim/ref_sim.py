#!/usr/bin/env python3
"""ref_sim.py - an independent numpy reference for zhizeng's simulator (docs/simulator.md).

It reads a market directory's CSV files itself (not through the C panel), writes weekly random
targets, runs `zhizeng simulate` under several configurations, simulates the same rules day by day
(sizing in shares at the decision close; lots by board: main and ChiNext 100 / 100, STAR 200 then 1,
BSE 100 then 1; sells, then buys cut lot by lot from the largest overshoot when cash binds and
leftover cash added a lot at a time to the largest shortfall; NAV from the first execution day) and
compares nav.csv (nav, benchmark, hedged, turnover 1e-9; cash, costs, value 1e-9 of capital),
rebalances.csv, summary.csv and positions.csv.

Markets:
  --gen python  a small random market written by this script (limit-up/down days, sealed limits,
                suspensions, ex-rights days, a delisting, an IPO, an ST stock, ChiNext, STAR (688xxx.SH,
                priced 40-250 so that the 200-share minimum binds), BSE (.BJ), the stamp-duty switch of
                2023-08-28, and a total-return index R_t = sum_i w_{i,t-1} r_{i,t});
  --gen synth   `zhizeng synth` (exit 77 when the binary has no synth command yet);
  --market DIR  an existing market directory.
Also checked: holding the index weights in --ideal mode tracks the index (|r_p - r_b| <= 1e-6 per day
between reviews); refused with exit 3 and nothing written: a bad targets file, a benchmark close missing
on a simulated day, a benchmark absent from index_bars.csv; refused with exit 2: --lag 0 at the VWAP.
Exit 0 pass, 1 fail, 77 skipped.
"""
import argparse
import csv
import heapq
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

EPS = 1e-9  # share counts at or below this are zero
BUY_EPS = 1e-6  # a buy of fewer shares is no order (the rounding of an unchanged target)
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
    with open(os.path.join(d, "index_bars.csv"), newline="") as f:
        irows = list(csv.DictReader(f))
    # the calendar: the dates of index_bars.csv (a bars.csv date outside it would be refused by ingest)
    dates = sorted({parse_date(r.get("date") or r.get("trade_date")) for r in irows} | {r["_d"] for r in rows})
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
    M["board"] = [info[c]["board"] for c in codes]
    M["lc"] = last_close_table(M["close"])
    index = {}
    for r in irows:
        name = (r.get("index") or r.get("index_code") or r.get("ts_code")).strip().split(".")[0]
        name = {"csi300": "000300", "csi500": "000905", "csi1000": "000852"}.get(name.lower(), name)
        t = ti.get(parse_date(r.get("date") or r.get("trade_date")))
        if t is not None and r["close"].strip():
            index.setdefault(name, np.full(T, np.nan))[t] = float(r["close"])
    return dates, codes, M, index


def last_close_table(close):
    """lc[t, i] = the last close > 0 of stock i on a panel day <= t (NaN before its first one)."""
    T, N = close.shape
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(close) & (close > 0)
    idx = np.where(ok, np.arange(T)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    return np.where(idx >= 0, close[np.maximum(idx, 0), np.arange(N)[None, :]], np.nan)


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
        self.hedge_cost, self.allow_same_close, self.end = 0.0, False, 0  # end: last simulated YYYYMMDD (0: all)
        if kw.pop("ideal", False):
            self.costs, self.lot, self.lag, self.price, self.rules = "none", 0.0, 0, "close", False
            self.allow_same_close = True
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


def cost1(cfg, side, value, ymd):
    """The cost of one trade of `value` CNY (scalar)."""
    if not value > 0:
        return 0.0
    if cfg.costs == "proportional":
        return value * (cfg.buy if side > 0 else cfg.sell)
    if cfg.costs == "commission":
        c = max(value * cfg.comm, cfg.cmin)
        return c if side > 0 else c + value * (cfg.stamp_old if ymd < cfg.stamp_switch else cfg.stamp_new)
    return 0.0


def lot_rule(board, lot):
    """(minimum, step) in shares: main and ChiNext L / L, STAR 2L / 1, BSE L / 1; lot 0: fractional."""
    if not lot > 0:
        return 0.0, 0.0
    if board == "star":
        return 2.0 * lot, 1.0
    if board == "bse":
        return lot, 1.0
    return lot, lot


def floor_lot(x, mn, step):
    """0 below the minimum, else x rounded down to the step (both with a 1e-9-share tolerance)."""
    if not step > 0:
        return x
    x = x + 1e-9
    if x < mn:
        return 0.0
    return math.floor(x / step) * step


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


# what the reference saw (printed per configuration, so that a run shows which rules it exercised)
STATS = {}


def stat(key, n=1):
    STATS[key] = STATS.get(key, 0) + n


class RefError(Exception):
    """What zhizeng must refuse (the reference stops where the engine must)."""


def exec_prices(M, cfg, t, lc):
    """Day t's execution price of every stock: VWAP, else amount / volume, else the close (or the open / the
    close by cfg.price); else the last close > 0 on a panel day before t."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if cfg.price == "vwap":
            px = M["vwap"][t].copy()
            vol, amt = M["volume"][t], M["amount"][t]
            alt = np.where((vol > 0) & (amt > 0), amt / vol, M["close"][t])
            bad = ~(px > 0)
            px[bad] = alt[bad]
        else:
            px = M[cfg.price][t].copy()
        bad = ~(px > 0)
        px[bad] = lc[t - 1][bad] if t > 0 else np.nan
    return px


class Batch:
    def __init__(self, k, d, tb, w):
        self.k, self.d, self.tb, self.w = k, d, tb, w
        self.T = {}  # stock -> target shares at the decision close, None when it has no price


def size_batch(b, V, M, lc):
    """Target shares at the close of the decision date: T_i = w_i x V_d / P_i, P_i the close of d, else the
    last close > 0 on an earlier panel day."""
    for i in np.nonzero(b.w > 0)[0]:
        P = lc[b.d, i]
        b.T[int(i)] = float(b.w[i] * V / P) if np.isfinite(P) and P > 0 else None


class Book:
    def __init__(self, N, capital):
        self.shares = np.zeros(N)
        self.bought_t = np.full(N, -1)
        self.bought_q = np.zeros(N)
        self.cash = capital


class Buy:
    __slots__ = ("i", "q0", "q", "px", "T", "H", "mn", "st")

    def __init__(self, i, q0, px, T, H, mn, st):
        self.i, self.q0, self.q, self.px, self.T, self.H, self.mn, self.st = i, q0, q0, px, T, H, mn, st


def size_buys_lots(buys, A, cfg, ymd):
    """Cut phase (cash binds: one step at a time from the largest overshoot (H + q - T) px, ties to the lower
    panel index, below the minimum -> 0) and add phase (leftover cash one increment at a time to the largest
    shortfall (T - H - q) px > 0, ties to the lower index; a candidate whose next increment does not fit is
    dropped for good)."""
    C = 0.0
    for b in buys:
        v = b.q * b.px
        C += v + cost1(cfg, 1, v, ymd)
    if C > A:
        heap = [(-((b.H + b.q - b.T) * b.px), b.i, j) for j, b in enumerate(buys) if b.q > 0]
        heapq.heapify(heap)
        while C > A and heap:
            _, _, j = heapq.heappop(heap)
            b = buys[j]
            nq = b.q - b.st
            if nq < b.mn:
                nq = 0.0
            old, new = b.q * b.px, nq * b.px
            C -= (old + cost1(cfg, 1, old, ymd)) - (new + cost1(cfg, 1, new, ymd))
            stat("cut steps")
            if nq == 0 and b.mn > b.st:
                stat("cut below the STAR minimum")
            b.q = nq
            if nq > 0:
                heapq.heappush(heap, (-((b.H + b.q - b.T) * b.px), b.i, j))
    heap = []
    for j, b in enumerate(buys):
        sf = (b.T - b.H - b.q) * b.px
        if sf > 0:
            heap.append((-sf, b.i, j))
    heapq.heapify(heap)
    while heap:
        _, _, j = heapq.heappop(heap)
        b = buys[j]
        inc = b.mn if b.q == 0 else b.st
        old, new = b.q * b.px, (b.q + inc) * b.px
        marginal = inc * b.px + cost1(cfg, 1, new, ymd) - cost1(cfg, 1, old, ymd)
        if marginal <= A - C:
            stat("add steps")
            b.q += inc
            C += marginal
            sf = (b.T - b.H - b.q) * b.px
            if sf > 0:
                heapq.heappush(heap, (-sf, b.i, j))
        else:
            stat("add drops")


def size_buys_fractional(buys, A, cfg, ymd):
    """lot 0: q = Delta; when the buys and their costs exceed the cash, one factor scales them all (iterated
    until it fits; with minimum commissions, the largest buys are then dropped)."""
    q = np.array([b.q0 for b in buys])
    p = np.array([b.px for b in buys])
    need = float(np.sum(q * p + cost_of(cfg, 1, q * p, 0)))
    if not need > A:
        return
    scale = A / need if A > 0 else 0.0
    fill = q
    total = need
    for _ in range(100):
        fill = q * scale
        total = float(np.sum(fill * p + cost_of(cfg, 1, fill * p, 0)))
        if total <= A:
            break
        scale *= min(A / total, 1.0 - 1e-12)
    while total > A and np.any(fill > 0):
        v = fill * p
        k = int(np.argmax(np.where(fill > 0, v, -1.0)))
        total -= v[k] + cost1(cfg, 1, v[k], 0)
        fill[k] = 0.0
    for b, f in zip(buys, fill):
        b.q = float(f)
    stat("fractional buys scaled to the cash")


def rebalance(M, cfg, t, ymd, b, book, lc, boards, options):
    """Executes batch b on day t. Returns (rebalance row, costs)."""
    sh = book.shares
    px_all = exec_prices(M, cfg, t, lc)
    T = {}
    for i, Ti in b.T.items():  # scaled by the corporate actions since the decision close
        if Ti is not None:
            a1, a0 = M["adj_factor"][t, i], M["adj_factor"][b.d, i]
            if np.isfinite(a1) and np.isfinite(a0) and a1 > 0 and a0 > 0:
                Ti = Ti * (a1 / a0)
        T[i] = Ti
    held = [int(i) for i in np.nonzero(sh > EPS)[0]]
    cand = sorted(set(held) | set(T))
    V = book.cash
    for i in held:
        V += sh[i] * px_all[i]
    rules = cfg.rules
    if rules:
        vol = M["volume"][t]
        with np.errstate(invalid="ignore"):
            susp_all = M["suspended"][t] | (np.isfinite(vol) & (vol <= 0))
        up_all, dn_all = at_limit(M, cfg, t, True), at_limit(M, cfg, t, False)
    recs = []  # (side, ordered, filled, px, status)
    S = Bv = K = 0.0
    buys = []
    for i in cand:
        H = sh[i]
        if i in T and T[i] is None:  # no price at the decision close
            recs.append((+1, 0.0, 0.0, math.nan, "unfilled"))
            continue
        Ti = T.get(i, 0.0)
        if H <= EPS and not Ti > 0:
            continue
        if not M["listed"][t, i]:
            if Ti > 0 and H <= EPS:
                recs.append((+1, 0.0, 0.0, math.nan, "unfilled"))  # not_listed
            continue
        p = px_all[i]
        if not (np.isfinite(p) and p > 0):
            recs.append((+1 if Ti > 0 else -1, 0.0, 0.0, math.nan, "unfilled"))  # no_price
            continue
        mn, st = lot_rule(boards[i], cfg.lot)
        delta = Ti - H
        if delta > BUY_EPS:
            q0 = floor_lot(delta, mn, st)
            if 0 < delta < mn:
                stat("buys below the minimum")
            if rules and (susp_all[i] or up_all[i]):
                if q0 > EPS or (susp_all[i] and options.get("record_zero_suspended")):
                    recs.append((+1, q0, 0.0, p, "unfilled"))
                continue
            buys.append(Buy(i, q0, p, Ti, H, mn, st))
        elif delta < -EPS:
            q = H if Ti <= 1e-9 else floor_lot(-delta, mn, st)
            if q <= EPS:
                stat("sells below the minimum")
                continue
            if rules and (susp_all[i] or dn_all[i]):
                recs.append((-1, q, 0.0, p, "unfilled"))
                continue
            fill, partial = q, False
            if rules and book.bought_t[i] == t:  # T+1: today's purchases are locked
                sellable = H - book.bought_q[i]
                if sellable < fill - EPS:
                    fill = sellable if (Ti <= 1e-9 and sellable > EPS) else floor_lot(max(sellable, 0.0), mn, st)
                    partial = True
                    stat("t+1")
            if fill <= EPS:
                recs.append((-1, q, 0.0, p, "unfilled"))
                continue
            value = fill * p
            c = cost1(cfg, -1, value, ymd)
            book.cash += value - c
            sh[i] -= fill
            if sh[i] <= EPS:
                sh[i] = 0.0
            S += value
            K += c
            recs.append((-1, q, fill, p, "partial" if partial else "filled"))
    A = book.cash
    if buys:
        if cfg.lot > 0:
            size_buys_lots(buys, A, cfg, ymd)
        else:
            size_buys_fractional(buys, A, cfg, ymd)
    for bb in buys:
        i, q, q0, p = bb.i, bb.q, bb.q0, bb.px
        if q <= EPS:
            if q0 > EPS:
                recs.append((+1, q0, 0.0, p, "unfilled"))  # cash
            continue
        value = q * p
        c = cost1(cfg, 1, value, ymd)
        book.cash -= value + c
        if -1e-6 < book.cash < 0:
            book.cash = 0.0
        sh[i] += q
        if book.bought_t[i] != t:
            book.bought_t[i], book.bought_q[i] = t, 0.0
        book.bought_q[i] += q
        if bb.st == 1.0 and q % 100:
            stat("STAR/BSE odd-share buys")
        Bv += value
        K += c
        recs.append((+1, max(q0, q), q, p, "partial" if q < q0 - EPS else "filled"))
    after = V - K
    l1 = 0.0
    for i in sorted(set(int(x) for x in np.nonzero(sh > EPS)[0]) | set(T)):
        wi = float(b.w[i]) if i in T else 0.0
        hv = sh[i] * px_all[i] if sh[i] > EPS else 0.0
        l1 += abs(hv / after - wi)
    bad = [r for r in recs if r[4] in ("unfilled", "partial")]
    stat("unfilled or partial orders", len(bad))
    uv = sum((r[1] - r[2]) * r[3] for r in bad if np.isfinite(r[3]))
    row = {"decision_date": b.d, "trade_date": t, "value": V,
           "turnover": 0.5 * (S + Bv + abs(S - Bv - K)) / V if V > 0 else 0.0,
           "bought": Bv, "sold": S, "costs": K, "cash_weight": book.cash / after, "l1_target": l1,
           "n_unfilled": len(bad), "unfilled_value": uv / V if V > 0 else 0.0}
    return row, K


def simulate(dates, M, index, batches, cfg, options=None):
    """batches: list of (decision date index, weight vector[, trade date index or None]). Returns the daily
    columns from the first execution day e (date, nav, benchmark, hedged, cash, turnover, costs, value),
    'rebalances' (rows of rebalances.csv), 'summary' and 'positions' {date index: {stock: shares}}.
    Raises RefError where zhizeng must refuse."""
    options = options or {}
    T, N = M["close"].shape
    boards = M.get("board") or ["main"] * N
    lc = M.get("lc")
    if lc is None:
        lc = last_close_table(M["close"])
    if cfg.lag == 0 and not (cfg.price == "close" and cfg.allow_same_close):
        raise RefError("exec_lag 0 needs price close and allow_same_close")
    end = T - 1
    while cfg.end and dates[end] > cfg.end:
        end -= 1
    bl = sorted(enumerate(batches), key=lambda kb: (kb[1][0], kb[0]))
    t0 = bl[0][1][0]
    decide = {}
    for k, bt in bl:
        d, w = bt[0], bt[1]
        if d > end:  # decided after the end: never simulated
            continue
        tb = bt[2] if len(bt) > 2 and bt[2] is not None else d + cfg.lag
        if tb == d and not (cfg.price == "close" and cfg.allow_same_close):
            raise RefError("a batch trading on its own date")
        decide.setdefault(d, []).append(Batch(k, d, tb, np.asarray(w, float)))
    bclose = index.get(cfg.bench) if cfg.bench else None
    if cfg.bench and bclose is None:
        raise RefError(f"no closes at all for index {cfg.bench}")
    book = Book(N, cfg.capital)
    sh = book.shares
    pending = []
    days = []  # (t, value, cash, turnover, costs)
    rebs = []
    positions = {}
    e = None
    for t in range(t0, end + 1):
        if t > t0:  # corporate actions and delistings
            held = sh > EPS
            gone = held & ~M["listed"][t]
            for i in np.nonzero(gone)[0]:
                stat("delistings")
                book.cash += sh[i] * lc[t - 1, i]  # liquidated at the last close, no costs
                sh[i] = 0.0
            a1, a0 = M["adj_factor"][t], M["adj_factor"][t - 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                ok = held & ~gone & np.isfinite(a1) & np.isfinite(a0) & (a0 > 0) & (a1 != a0)
                sh[ok] *= a1[ok] / a0[ok]
        day_cost = day_turn = 0.0
        traded = False
        due = [b for b in pending if b.tb == t]
        pending = [b for b in pending if b.tb != t]
        for b in due:
            row, k = rebalance(M, cfg, t, dates[t], b, book, lc, boards, options)
            rebs.append(row)
            day_cost += k
            day_turn += row["turnover"]
            traded = True

        def mark():
            held = sh > EPS
            return book.cash + float(np.sum(sh[held] * lc[t, held]))

        value = mark()
        for b in decide.get(t, []):  # decided and sized at this close
            size_batch(b, value, M, lc)
            if b.tb == t:  # the ideal mode: traded at this same close
                row, k = rebalance(M, cfg, t, dates[t], b, book, lc, boards, options)
                rebs.append(row)
                day_cost += k
                day_turn += row["turnover"]
                traded = True
                value = mark()
            elif b.tb <= end:
                pending.append(b)
        if traded and e is None:
            e = t
        if traded or t in decide or t == end:
            positions[t] = {int(i): float(sh[i]) for i in np.nonzero(sh > EPS)[0]}
        days.append((t, value, book.cash, day_turn, day_cost))
    if e is None:
        raise RefError("no batch traded")
    days = [x for x in days if x[0] >= e]
    ts = np.array([x[0] for x in days])
    value = np.array([x[1] for x in days])
    out = {"date": np.array([dates[t] for t in ts]), "value": value, "cash": np.array([x[2] for x in days]),
           "turnover": np.array([x[3] for x in days]), "costs": np.array([x[4] for x in days])}
    if bclose is not None:
        I = bclose[ts]
        badI = ~(np.isfinite(I) & (I > 0))
        if np.any(badI):
            raise RefError(f"index {cfg.bench} has no close on {dates[ts[np.argmax(badI)]]}")
        bench = I / I[0]
        rb = np.concatenate([[0.0], I[1:] / I[:-1] - 1.0])
    else:
        bench = np.ones(len(ts))
        rb = np.zeros(len(ts))
    K_e = out["costs"][0]
    nav_e = 1.0 - K_e / cfg.capital
    nav = nav_e * value / value[0]
    hedged = np.empty(len(ts))
    hedged[0] = nav_e
    for k in range(1, len(ts)):
        rp = value[k] / value[k - 1] - 1.0
        hedged[k] = hedged[k - 1] * (1.0 + rp - rb[k] - cfg.hedge_cost / 252.0)
    out.update(nav=nav, benchmark=bench, hedged=hedged)
    for r in rebs:
        r["decision_date"], r["trade_date"] = dates[r["decision_date"]], dates[r["trade_date"]]
    out["rebalances"] = rebs
    out["summary"] = {"first_trade_date": dates[e], "entry_slippage": value[0] / (cfg.capital - K_e) - 1.0,
                      "entry_costs": K_e, "mean_invested": float(np.mean(1.0 - out["cash"] / value)),
                      "total_costs": float(np.sum(out["costs"]))}
    out["positions"] = {dates[t]: p for t, p in positions.items()}
    return out


# ----------------------------------------------------------------------------- a random market

def gen_market(d, seed):
    """~44 stocks x 90 days from 2023-06-01: 33 main board (one delisted at day 50, one ST), 4 ChiNext,
    4 STAR (688xxx.SH, prices 40-250, one an IPO at day 30), 3 BSE (.BJ); index 000905 (20 members of
    every board, a total-return index of daily weights) and 000300 (a random walk, so that the calendar
    survives when a test removes a 000905 close)."""
    rng = np.random.default_rng(seed)
    os.makedirs(d, exist_ok=True)
    day = dt.date(2023, 6, 1)
    dates = []
    while len(dates) < 90:
        if day.weekday() < 5:
            dates.append(day.year * 10000 + day.month * 100 + day.day)
        day += dt.timedelta(days=1)
    T = len(dates)
    main = [f"{600000 + 7 * i:06d}.SH" for i in range(33)]
    gem = [f"{300001 + i:06d}.SZ" for i in range(4)]
    star = ["688001.SH", "688012.SH", "688101.SH", "688599.SH"]
    bse = ["430047.BJ", "830799.BJ", "871981.BJ"]
    codes = sorted(main + gem + star + bse)
    first = {c: 0 for c in codes}
    last = {c: T - 1 for c in codes}
    delisted = main[5]
    last[delisted] = 50
    ipo = star[3]
    first[ipo] = 30
    st_code = main[7]
    members = sorted(main[:6] + main[8:15] + gem[:2] + star[:3] + bse[:2])
    members = [c for c in members if c != delisted]
    assert len(members) == 19 and board_of(ipo) == "star"
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
                lo_p, hi_p = (40, 250) if board == "star" else (5, 30) if board == "bse" else (5, 40)
                pc = round(float(rng.uniform(lo_p, hi_p)), 2)
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
            for k, c in enumerate(members):
                w.writerow([fdate(dates[t]), "000905", c, repr(float(x[k]))])
    # the index: R_t = sum_i w_{i,t-1} r_{i,t}, from the weights as they read back from the CSV
    back = read_weights_raw(os.path.join(d, "index_weights.csv"), dates, members)
    for t in range(1, T):
        lvl.append(lvl[-1] * (1.0 + float(np.sum(back[t - 1] * rets[t, m]))))
    walk = 3000.0 * np.cumprod(1.0 + rng.normal(0, 0.01, T))
    with open(os.path.join(d, "index_bars.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "index", "close"])
        for t in range(T):
            w.writerow([fdate(dates[t]), "000905", repr(lvl[t])])
            w.writerow([fdate(dates[t]), "000300", repr(float(round(walk[t], 4)))])


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


def fmt_date(x):
    return f"{x // 10000:04d}-{x // 100 % 100:02d}-{x % 100:02d}"


def write_targets(path, dates, codes, batches):
    """batches: (date index, weights[, exec date index or None]); exec_date written when given."""
    with_exec = any(len(b) > 2 and b[2] is not None for b in batches)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "code", "weight"] + (["exec_date"] if with_exec else []))
        for b in batches:
            t, wt = b[0], b[1]
            ex = [fmt_date(dates[b[2]]) if len(b) > 2 and b[2] is not None else ""] if with_exec else []
            ds = fmt_date(dates[t])
            nz = np.nonzero(wt)[0]
            if nz.size == 0:
                w.writerow([ds, "CASH", ""] + ex)
            for i in nz:
                w.writerow([ds, codes[i], repr(float(wt[i]))] + ex)


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_nav(path):
    rows = read_csv_rows(path)
    return {k: np.array([parse_date(r[k]) if k == "date" else float(r[k]) for r in rows])
            for k in ("date", "nav", "benchmark", "hedged", "cash", "turnover", "costs", "value")}


REB_COLS = ["decision_date", "trade_date", "value", "turnover", "bought", "sold", "costs", "cash_weight", "l1_target",
            "n_unfilled", "unfilled_value"]


def run_zhizeng(args, market, targets, out, extra):
    cmd = [args.zhizeng, "simulate", "--market", market, "--targets", targets, "--out", out] + extra
    return subprocess.run(cmd, capture_output=True, text=True)


def report(name, what, ref, got, err, where):
    print(f"[{name}] {what}: max |diff| {err:.3e} at {where} (ref {ref!r}, zhizeng {got!r})")


def compare(name, ref, out, capital, tol, check_positions, codes):
    """nav.csv, rebalances.csv, summary.csv and positions.csv of zhizeng against the reference."""
    got = read_nav(os.path.join(out, "nav.csv"))
    bad = 0
    if len(ref["date"]) != len(got["date"]) or np.any(ref["date"] != got["date"]):
        print(f"[{name}] nav.csv dates differ: reference {len(ref['date'])} rows from {ref['date'][:1]}, "
              f"zhizeng {len(got['date'])} rows from {got['date'][:1]}")
        return 1
    for k, scale in (("nav", 1.0), ("benchmark", 1.0), ("hedged", 1.0), ("turnover", 1.0), ("cash", capital),
                     ("costs", capital), ("value", capital)):
        d = np.abs(ref[k] - got[k]) / scale
        if not np.max(d) <= tol:
            j = int(np.argmax(d))
            report(name, f"nav.csv {k}" + (" / capital" if scale != 1.0 else ""), ref[k][j], got[k][j], float(d[j]),
                   got["date"][j])
            bad += 1
    # rebalances.csv: one row per executed batch
    path = os.path.join(out, "rebalances.csv")
    if not os.path.exists(path):
        print(f"[{name}] rebalances.csv missing")
        bad += 1
    else:
        with open(path, newline="") as f:
            header = next(csv.reader(f), [])
        rows = read_csv_rows(path)
        if header != REB_COLS:
            print(f"[{name}] rebalances.csv header {header}, expected {REB_COLS}")
            bad += 1
        if len(rows) != len(ref["rebalances"]):
            print(f"[{name}] rebalances.csv: {len(rows)} rows, reference {len(ref['rebalances'])}")
            bad += 1
        else:
            worst = {}
            for g, r in zip(rows, ref["rebalances"]):
                where = f"{r['decision_date']}->{r['trade_date']}"
                for k in ("decision_date", "trade_date"):
                    if parse_date(g[k]) != r[k]:
                        worst.setdefault(k, (math.inf, r[k], g[k], where))
                if int(g["n_unfilled"]) != r["n_unfilled"]:
                    worst.setdefault("n_unfilled", (math.inf, r["n_unfilled"], int(g["n_unfilled"]), where))
                for k in ("value", "bought", "sold", "costs", "turnover", "cash_weight", "l1_target", "unfilled_value"):
                    scale = capital if k in ("value", "bought", "sold", "costs") else 1.0
                    d = abs(float(g[k]) - r[k]) / scale
                    if not d <= tol and d > worst.get(k, (0,))[0]:
                        worst[k] = (d, r[k], float(g[k]), where)
            for k, (d, rv, gv, where) in worst.items():
                report(name, f"rebalances.csv {k}", rv, gv, d, where)
                bad += 1
    # summary.csv: key,value
    path = os.path.join(out, "summary.csv")
    if not os.path.exists(path):
        print(f"[{name}] summary.csv missing")
        bad += 1
    else:
        s = {r["key"]: r["value"] for r in read_csv_rows(path)}
        for k, rv in ref["summary"].items():
            if k not in s:
                print(f"[{name}] summary.csv has no {k}")
                bad += 1
            elif k == "first_trade_date":
                if parse_date(s[k]) != rv:
                    print(f"[{name}] summary.csv first_trade_date {s[k]}, reference {rv}")
                    bad += 1
            else:
                scale = capital if k in ("entry_costs", "total_costs") else 1.0
                d = abs(float(s[k]) - rv) / scale
                if not d <= tol:
                    report(name, f"summary.csv {k}", rv, float(s[k]), d, "-")
                    bad += 1
    # positions.csv: the book at every decision date, trade day and the last day
    if check_positions:
        gp = {}
        for r in read_csv_rows(os.path.join(out, "positions.csv")):
            gp.setdefault(parse_date(r["date"]), {})[r["code"]] = float(r["shares"])
        rp = {d: {codes[i]: s for i, s in p.items()} for d, p in ref["positions"].items() if p}
        if sorted(gp) != sorted(rp):
            extra, missing = sorted(set(gp) - set(rp)), sorted(set(rp) - set(gp))
            print(f"[{name}] positions.csv dates: {len(extra)} not in the reference (e.g. {extra[:3]}), "
                  f"{len(missing)} missing (e.g. {missing[:3]})")
            bad += 1
        else:
            nbad = 0
            for d in rp:
                if sorted(gp[d]) != sorted(rp[d]):
                    if not nbad:
                        print(f"[{name}] positions.csv on {d}: codes {sorted(set(gp[d]) ^ set(rp[d]))} differ")
                    nbad += 1
                    continue
                for c, s in rp[d].items():
                    if not abs(gp[d][c] - s) <= 1e-9 * max(1.0, abs(s)):
                        if not nbad:
                            print(f"[{name}] positions.csv on {d}: {c} {gp[d][c]!r} shares, reference {s!r}")
                        nbad += 1
            bad += nbad > 0
    print(f"[{name}] {len(got['date'])} days, {len(ref['rebalances'])} rebalances, final nav {got['nav'][-1]:.6f} "
          f"(reference {ref['nav'][-1]:.6f}), costs {np.sum(got['costs']):.2f}: {'ok' if not bad else 'MISMATCH'}")
    return bad


def link_market(src, dst, skip):
    """A market directory of symbolic links to src's files, except `skip` (to be written by the caller)."""
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    for name in os.listdir(src):
        if name != skip and name.endswith(".csv"):
            os.symlink(os.path.abspath(os.path.join(src, name)), os.path.join(dst, name))


def expect_refusal(args, name, market, targets, extra, code, needles, out):
    p = run_zhizeng(args, market, targets, out, extra)
    ok = p.returncode == code and not os.path.exists(out) and all(n in p.stderr for n in needles)
    if ok:
        print(f"[{name}] refused with exit {code}, nothing written: ok ({p.stderr.strip().splitlines()[-1]})")
    else:
        print(f"[{name}] expected exit {code}, no output and {needles} in the message; got {p.returncode}, output "
              f"{'present' if os.path.exists(out) else 'absent'}, stderr: {p.stderr.strip()}")
    return 0 if ok else 1


def make_batches(rng, dates, M, n_pick):
    """Weekly batches at week ends: random picks with Dirichlet weights; now and then an empty batch (sell
    everything), the previous batch with weights moved by a few percent (small orders, where the board
    minimums decide), or an exec_date on the next batch's trade day (two batches trading the same day: T+1)."""
    T, N = M["close"].shape
    wk = week_ends(dates)
    batches = []
    prev = None
    for n_b, t in enumerate(wk[:-1]):
        cand = np.nonzero(M["listed"][t])[0]
        wt = np.zeros(N)
        u = rng.random()
        if n_b % 7 == 5:
            pass  # an empty target: sell everything
        elif prev is not None and prev.sum() > 0 and u < 0.35:
            wt = prev * np.exp(rng.normal(0, 0.05, N))
            wt[~M["listed"][t]] = 0.0
            if wt.sum() > 0:
                wt = wt / wt.sum() * rng.uniform(0.9, 1.0)
        else:
            k = min(cand.size, n_pick)
            pick = rng.choice(cand, k, replace=False)
            gone = np.nonzero(M["listed"][t] & ~M["listed"][-1])[0]  # hold stocks that will be delisted
            pick = np.union1d(pick, gone)
            wt[pick] = rng.dirichlet(np.ones(pick.size)) * rng.uniform(0.9, 1.0)
        tb = None
        if n_b % 6 == 2 and n_b + 1 < len(wk) - 1 and wk[n_b + 1] + 1 < T:
            tb = wk[n_b + 1] + 1
        batches.append((t, wt, tb))
        prev = wt
    return batches


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
    boards = M["board"]
    counts = ", ".join(f"{b} {boards.count(b)}" for b in ("main", "chinext", "star", "bse"))
    print(f"market: {len(codes)} stocks ({counts}) x {len(dates)} days")
    rng = np.random.default_rng(args.seed + 1)
    T, N = M["close"].shape
    batches = make_batches(rng, dates, M, 12 if N < 100 else 100)
    targets = os.path.join(args.workdir, "targets.csv")
    write_targets(targets, dates, codes, batches)
    bench = "000905" if "000905" in index else (sorted(index)[0] if index else None)
    # --end on the Monday after a decision of the lag-2 configuration: that batch never trades
    wk = week_ends(dates)
    end = dates[min(wk[int(0.8 * len(wk))] + 1, T - 1)]
    configs = [
        ("default", Cfg(capital=1e6, bench=bench), []),
        ("commission-sealed", Cfg(capital=3e5, bench=bench, costs="commission", limit="sealed"),
         ["--capital", "300000", "--costs", "commission", "--limit-test", "sealed"]),
        ("vwap-open-lag2-hedge-end", Cfg(capital=2e6, bench=bench, limit="vwap", price="open", lag=2, hedge_cost=0.02,
                                         end=end),
         ["--capital", "2000000", "--limit-test", "vwap", "--price", "open", "--lag", "2", "--hedge-cost", "0.02",
          "--end", fmt_date(end)]),
        ("same-close", Cfg(capital=1e6, bench=bench, lag=0, price="close", allow_same_close=True),
         ["--lag", "0", "--price", "close", "--allow-same-close"]),
        ("fractional-commission", Cfg(capital=3e5, bench=bench, lot=0.0, costs="commission"),
         ["--capital", "300000", "--lot", "0", "--costs", "commission"]),
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
        STATS.clear()
        try:
            ref = simulate(dates, M, index, batches, cfg)
        except RefError as e:
            print(f"[{name}] zhizeng ran, but the reference refuses: {e}")
            bad += 1
            continue
        print(f"[{name}] exercised: " + ", ".join(f"{k} {v}" for k, v in sorted(STATS.items())))
        bad += compare(name, ref, out, cfg.capital, args.tol, True, codes)

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
            ok = worst <= 1e-6 and got["date"][0] == dates[tb[0]] and abs(got["nav"][0] - 1.0) <= 1e-12
            print(f"[index] ideal holding of {bench} weights from {got['date'][0]} (nav {got['nav'][0]!r}): max daily "
                  f"|r_p - r_b| {worst:.3e} over {dev.size} days ({int(skip.sum())} days on which an unpriced member "
                  f"started trading left out): {'ok' if ok else 'MISMATCH'}")
            bad += 0 if ok else 1

    # refused input: nothing written
    badt = os.path.join(args.workdir, "bad_targets.csv")
    with open(badt, "w") as f:
        f.write("date,code,weight\n")
        f.write(f"{fmt_date(dates[0])},{codes[0]},0.6\n")
        f.write(f"{fmt_date(dates[0])},{codes[1]},0.5\n")
    bad += expect_refusal(args, "bad targets", market, badt, [], 3, ["bad_targets.csv:3:"],
                          os.path.join(args.workdir, "out-bad"))
    bad += expect_refusal(args, "lag 0 at the VWAP", market, targets, ["--lag", "0"], 2, ["lag"],
                          os.path.join(args.workdir, "out-lag0"))
    bad += expect_refusal(args, "lag 0 at the close without --allow-same-close", market, targets,
                          ["--lag", "0", "--price", "close"], 2, ["allow"], os.path.join(args.workdir, "out-lag0c"))
    if bench:
        # a benchmark close missing on a simulated day (the calendar kept by the other indexes' rows)
        first_trade = min(b[2] if b[2] is not None else b[0] + 1 for b in batches)
        gap = (first_trade + T) // 2
        others = [k for k in index if k != bench]
        if others and all(np.isfinite(index[k][gap]) for k in others):
            gm = os.path.join(args.workdir, "market-gap")
            link_market(market, gm, "index_bars.csv")
            with open(os.path.join(market, "index_bars.csv"), newline="") as f, \
                    open(os.path.join(gm, "index_bars.csv"), "w", newline="") as g:
                rd = csv.reader(f)
                w = csv.writer(g)
                hdr = next(rd)
                w.writerow(hdr)
                di, ii = hdr.index("date"), hdr.index("index")
                for r in rd:
                    if not (parse_date(r[di]) == dates[gap] and r[ii].split(".")[0] in (bench, "csi500")):
                        w.writerow(r)
            bad += expect_refusal(args, "benchmark close missing", gm, targets, ["--index", bench, "--no-cache"], 3,
                                  [bench, fmt_date(dates[gap])], os.path.join(args.workdir, "out-gap"))
        absent = [k for k in ("000300", "000905", "000852") if k not in index]
        if absent:
            bad += expect_refusal(args, "benchmark absent", market, targets, ["--index", absent[0]], 3, [absent[0]],
                                  os.path.join(args.workdir, "out-absent"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
