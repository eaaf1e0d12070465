#!/usr/bin/env python3
"""`zhizeng import qlib` against a qlib fixture built here (calendars/, instruments/, features/*.day.bin):
  - bars.csv: raw prices = round(adjusted / factor, 2), volume per --volume, vwap / amount given or derived,
    adj_factor = factor (close * adj_factor = qlib close up to rounding), NaN days without rows, a zero-volume
    day suspended, a split (factor change), a code directory in upper case, a file starting after day 0;
  - stocks.csv: list / delist dates from the listing spells (two spells, a delisting), boards;
  - index_bars.csv from features/sh000300 (or --index-bars), index_weights.csv: equal-weight proxy snapshots
    on membership changes of instruments/csi300.txt, the proxy's tracking error recomputed here; float-cap
    proxy snapshots from circ_mv with the equal-weight fallback;
  - --start/--end, --volume raw, --index-bars, --weights (tushare index_weight layout), --industry, re-import
    into a previous import, a non-empty --out refused; `zhizeng ingest` accepts each market;
  - bad inputs exit 3 naming file and byte offset / line, and leave nothing in --out.
usage: test_import_qlib.py --zhizeng BIN --workdir DIR
"""
import argparse
import datetime
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def rnd(x, nd):  # C round(x * 10^nd) / 10^nd, half away from zero (x > 0 here)
    s = 10 ** nd
    return math.floor(x * s + 0.5) / s


def weekdays(start, n):
    d, out = start, []
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += datetime.timedelta(days=1)
    return out


NC = 40
CAL = weekdays(datetime.date(2020, 1, 6), NC)
DS = [d.isoformat() for d in CAL]
NAN = float("nan")


def write_bin(path, start, values, extra=b""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<f", float(start)))
        f.write(struct.pack("<%df" % len(values), *values))
        f.write(extra)


def make_fixture(root):
    """Returns the fixture's truth: {code: {field: [n_cal values (NaN outside)]}}, index closes, spells."""
    rng = random.Random(7)
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(os.path.join(root, "calendars"))
    os.makedirs(os.path.join(root, "instruments"))
    with open(os.path.join(root, "calendars", "day.txt"), "w") as f:
        f.write("\n".join(DS) + "\n")
    # code -> (dir name, first day, last day, factor function, fields beyond OHLCV, NaN days)
    spec = {
        "SH600000": ("sh600000", 0, NC - 1, lambda t: 1.2, ("amount", "vwap"), {5, 6}),
        "SZ000001": ("sz000001", 0, NC - 1, lambda t: 3.5, (), set(range(10, 20))),  # two listing spells
        "SH688001": ("SH688001", 3, NC - 1, None, (), set()),  # upper-case directory, no factor file
        "SZ300750": ("sz300750", 0, NC - 1, lambda t: 1.0 if t < 15 else 2.0, (), set()),  # a 1:2 split on day 15
        "BJ830799": ("bj830799", 0, 30, lambda t: 1.0, (), set()),  # delisted after day 30
    }
    truth = {}
    for q, (dname, a, b, fac, extra, nan_days) in spec.items():
        adj = 10 + 20 * rng.random()
        fields = {k: [NAN] * NC for k in ("open", "high", "low", "close", "volume", "factor", "amount", "vwap")}
        for t in range(a, b + 1):
            adj *= math.exp(rng.gauss(0, 0.02))
            fct = fac(t) if fac else 1.0
            c = f32(adj)  # qlib stores adjusted prices
            o = f32(c * (1 + rng.uniform(-0.01, 0.01)))
            h = f32(max(o, c) * (1 + rng.uniform(0, 0.01)))
            lo = f32(min(o, c) * (1 - rng.uniform(0, 0.01)))
            v = f32(rng.randint(1000, 90000) / fct)  # adjusted volume
            if q == "SZ300750" and t == 25:
                v = 0.0
            vals = {"open": o, "high": h, "low": lo, "close": c, "volume": v, "factor": f32(fct),
                    "amount": f32(v * fct * c / fct * 1.001), "vwap": f32((h + lo + c) / 3 * 1.0005)}
            if t in nan_days:
                vals = {k: NAN for k in vals}
                if fac:
                    vals["factor"] = f32(fct)
            for k in fields:
                fields[k][t] = vals[k]
        if q == "SZ300750":  # qlib's change field: pre_close = close / (1 + change) / factor
            extra = ("change",)
            fields["change"] = [NAN] + [f32(fields["close"][t] / fields["close"][t - 1] - 1) for t in range(1, NC)]
        names = ["open", "high", "low", "close", "volume"] + (["factor"] if fac else []) + list(extra)
        for k in names:
            write_bin(os.path.join(root, "features", dname, k + ".day.bin"), a, fields[k][a:b + 1])
        if not fac:
            fields["factor"] = [1.0 if t >= a else NAN for t in range(NC)]
        for k in ("amount", "vwap"):
            if k not in extra:
                fields[k] = None
        truth[q] = fields
    idx = []
    lvl = 4000.0
    for t in range(NC):
        lvl *= math.exp(rng.gauss(0, 0.01))
        idx.append(f32(lvl))
    write_bin(os.path.join(root, "features", "sh000300", "close.day.bin"), 0, idx)
    spells = {
        "SH600000": [(0, NC - 1)], "SZ000001": [(0, 9), (20, NC - 1)], "SH688001": [(3, NC - 1)],
        "SZ300750": [(0, NC - 1)], "BJ830799": [(0, 30)],
    }
    with open(os.path.join(root, "instruments", "all.txt"), "w") as f:
        f.write("SH000300\t%s\t%s\n" % (DS[0], DS[-1]))  # an index: not a stock
        for q, sp in spells.items():
            for a, b in sp:
                f.write("%s\t%s\t%s\n" % (q, DS[a], DS[b]))
    members = {"SH600000": [(0, NC - 1)], "SZ300750": [(0, 19)], "SH688001": [(10, NC - 1)]}
    with open(os.path.join(root, "instruments", "csi300.txt"), "w") as f:
        for q, sp in members.items():
            for a, b in sp:
                f.write("%s\t%s\t%s\n" % (q, DS[a], DS[b]))
    return truth, idx, spells, members


def norm(q):
    return q[2:] + "." + q[:2]


def read_csv(path):
    with open(path) as f:
        lines = f.read().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, ln.split(","))) for ln in lines[1:] if ln]


def run(zz, *args):
    return subprocess.run([zz] + list(args), capture_output=True, text=True, timeout=120)


def proxy_te(truth, idx, snaps, t0, t1):
    """Annualised std of (drifted equal-weight portfolio return - index return), as IMPORT.txt states."""
    codes = sorted(truth)
    last = {c: NAN for c in codes}
    w = {c: 0.0 for c in codes}
    active, diffs = False, []
    for t in range(t0, t1 + 1):
        num = den = 0.0
        for c in codes:
            ac = truth[c]["close"][t]
            r = NAN
            if not math.isnan(last[c]):
                r = ac / last[c] - 1 if not math.isnan(ac) else 0.0
            if not math.isnan(ac):
                last[c] = ac
            if w[c] and not math.isnan(r):
                num += w[c] * r
                den += w[c]
                w[c] *= 1 + r
        if active and den > 0:
            diffs.append(num / den - (idx[t] / idx[t - 1] - 1))
        if t in snaps:
            w = {c: (1.0 / len(snaps[t]) if c in snaps[t] else 0.0) for c in codes}
            active = True
    n = len(diffs)
    m = sum(diffs) / n
    return math.sqrt(sum((d - m) ** 2 for d in diffs) / (n - 1)) * math.sqrt(252), n


def check_market(zz, out, truth, idx, spells, members, t0=0, t1=NC - 1, volume_raw=False, tag=""):
    bars = read_csv(os.path.join(out, "bars.csv"))
    got = {(r["date"], r["code"]): r for r in bars}
    n_expect = 0
    worst_adj = 0.0
    for q, fl in truth.items():
        code = norm(q)
        for t in range(t0, t1 + 1):
            key = (DS[t], code)
            if math.isnan(fl["close"][t]):
                check(key not in got, f"{tag}{key}: NaN day has a row")
                continue
            n_expect += 1
            r = got.get(key)
            if r is None:
                check(False, f"{tag}{key}: missing row")
                continue
            f = fl["factor"][t]
            for k in ("open", "high", "low", "close"):
                want = rnd(fl[k][t] / f, 2)
                check(abs(float(r[k]) - want) < 1e-9, f"{tag}{key} {k}: {r[k]} != round({fl[k][t]} / {f}, 2) = {want}")
            vol = rnd(fl["volume"][t] if volume_raw else fl["volume"][t] * f, 0)
            check(abs(float(r["volume"]) - vol) < 1e-6, f"{tag}{key} volume {r['volume']} != {vol}")
            check(r["suspended"] == ("1" if vol == 0 else "0"), f"{tag}{key} suspended {r['suspended']}")
            check(abs(float(r["adj_factor"]) / f - 1) < 1e-7, f"{tag}{key} adj_factor {r['adj_factor']} != {f}")
            worst_adj = max(worst_adj, abs(float(r["close"]) * float(r["adj_factor"]) - fl["close"][t]) / f)
            h, lo, c = (float(r[k]) for k in ("high", "low", "close"))
            if fl["vwap"] is not None:
                want_vwap = rnd(fl["vwap"][t] / f, 4)
            elif fl["amount"] is not None and vol > 0:
                want_vwap = rnd(fl["amount"][t] / vol, 4)
            else:
                want_vwap = rnd((h + lo + c) / 3, 4)
            check(abs(float(r["vwap"]) - want_vwap) < 1e-9, f"{tag}{key} vwap {r['vwap']} != {want_vwap}")
            want_amount = (0.0 if vol == 0 else fl["amount"][t]) if fl["amount"] is not None else rnd(want_vwap * vol, 2)
            check(abs(float(r["amount"]) - want_amount) <= 0.0051, f"{tag}{key} amount {r['amount']} != {want_amount}")
            prev = [s for s in range(t) if not math.isnan(fl["close"][s])]
            if "change" in fl and not math.isnan(fl["change"][t]):
                want_pc = rnd(fl["close"][t] / (1 + fl["change"][t]) / f, 2)
                check(abs(float(r["pre_close"]) - want_pc) < 1e-9, f"{tag}{key} pre_close {r['pre_close']} != {want_pc} (change)")
            elif prev:
                want_pc = rnd(fl["close"][prev[-1]] / f, 2)
                check(abs(float(r["pre_close"]) - want_pc) < 1e-9, f"{tag}{key} pre_close {r['pre_close']} != {want_pc}")
    check(len(bars) == n_expect, f"{tag}bars.csv has {len(bars)} rows, expected {n_expect}")
    check(worst_adj <= 0.005 + 1e-6, f"{tag}close * adj_factor differs from qlib's close by {worst_adj} x factor (> 0.005)")

    stocks = {r["code"]: r for r in read_csv(os.path.join(out, "stocks.csv"))}
    boards = {"600000.SH": "main", "000001.SZ": "main", "688001.SH": "star", "300750.SZ": "chinext", "830799.BJ": "bse"}
    check(sorted(stocks) == sorted(boards), f"{tag}stocks.csv codes {sorted(stocks)}")
    for code, b in boards.items():
        s = stocks.get(code, {})
        sp = spells[code[7:] + code[:6]]
        check(s.get("board") == b, f"{tag}{code} board {s.get('board')} != {b}")
        check(s.get("list_date") == DS[sp[0][0]], f"{tag}{code} list_date {s.get('list_date')} != {DS[sp[0][0]]}")
        want_delist = DS[sp[-1][1]] if sp[-1][1] < NC - 1 else ""
        check(s.get("delist_date") == want_delist, f"{tag}{code} delist_date {s.get('delist_date')} != '{want_delist}'")

    ib = read_csv(os.path.join(out, "index_bars.csv"))
    check(len(ib) == t1 - t0 + 1, f"{tag}index_bars.csv rows {len(ib)}")
    for r in ib:
        t = DS.index(r["date"])
        check(r["index"] == "000300" and abs(float(r["close"]) / idx[t] - 1) < 1e-7, f"{tag}index close {r}")

    snaps = {}
    for t in range(t0, t1 + 1):
        mem = sorted(norm(q) for q, sp in members.items() if any(a <= t <= b for a, b in sp))
        if not snaps or mem != snaps[max(snaps)]:
            snaps[t] = mem
    iw = read_csv(os.path.join(out, "index_weights.csv"))
    got_snaps = {}
    for r in iw:
        check(r["index"] == "000300", f"{tag}weight row index {r}")
        got_snaps.setdefault(DS.index(r["date"]), []).append((r["code"], float(r["weight"])))
    check(sorted(got_snaps) == sorted(snaps), f"{tag}snapshot days {sorted(got_snaps)} != {sorted(snaps)}")
    for t, mem in snaps.items():
        g = got_snaps.get(t, [])
        check(sorted(c for c, _ in g) == mem, f"{tag}members on {DS[t]}: {g} != {mem}")
        check(all(abs(w - 1.0 / len(mem)) < 1e-11 for _, w in g), f"{tag}equal weights on {DS[t]}: {g}")

    imp = open(os.path.join(out, "IMPORT.txt")).read()
    m = re.search(r"tracking error of the proxy against the index close: ([0-9.]+) % annualised over (\d+) days", imp)
    check(m is not None, f"{tag}IMPORT.txt states no proxy tracking error:\n{imp}")
    if m:
        sub = {c: {"close": [truth[c]["close"][t] if t0 <= t <= t1 else NAN for t in range(NC)]} for c in truth}
        subidx = list(idx)
        te, n = proxy_te({norm(q): v for q, v in sub.items()}, subidx, snaps, t0, t1)
        check(abs(float(m.group(1)) - 100 * te) < 0.006 and int(m.group(2)) == n,
              f"{tag}tracking error {m.group(1)} % over {m.group(2)} days, recomputed {100 * te:.4f} % over {n}")
    for s in ("PROXY: equal weights", "vwap = (high + low + close) / 3", "amount = vwap * volume",
              "volume: raw" if volume_raw else "volume: adjusted", "--src"):
        check(s in imp, f"{tag}IMPORT.txt lacks '{s}'")
    r = run(zz, "ingest", "--market", out, "--quiet")
    check(r.returncode == 0, f"{tag}zhizeng ingest rejects the imported market: {r.stderr}")


def bad_case(zz, work, name, mutate, expect, extra=()):
    src = os.path.join(work, "bad_" + name)
    make_fixture(src)
    mutate(src)
    out = os.path.join(work, "out_bad_" + name)
    if os.path.exists(out):
        shutil.rmtree(out)
    r = run(zz, "import", "qlib", "--src", src, "--out", out, *extra)
    msg = r.stderr.strip()
    check(r.returncode == 3, f"bad {name}: exit {r.returncode}, expected 3: {msg}")
    for e in expect:
        check(e in msg, f"bad {name}: message lacks '{e}': {msg}")
    check(not os.path.exists(out), f"bad {name}: {out} left behind: {os.listdir(out) if os.path.isdir(out) else ''}")
    print(f"bad {name}: {msg}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    zz = a.zhizeng
    work = os.path.join(a.workdir, "import_qlib")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "qlib")
    truth, idx, spells, members = make_fixture(src)

    out = os.path.join(work, "market")
    if os.path.exists(out):
        shutil.rmtree(out)
    r = run(zz, "import", "qlib", "--src", src, "--out", out)
    check(r.returncode == 0, f"import failed ({r.returncode}): {r.stderr}")
    if r.returncode == 0:
        check("PROXY" in r.stderr and "tracking error" in r.stderr, "stderr does not state the proxy weights")
        check("(high + low + close) / 3" in r.stderr, "stderr does not state the vwap proxy")
        check("stocks:" in r.stdout, "no summary on stdout")
        check(not os.path.exists(os.path.join(out, ".import.tmp")), ".import.tmp left behind")
        check_market(zz, out, truth, idx, spells, members)
        # a second import into the same (previous import) directory replaces it
        r = run(zz, "import", "qlib", "--src", src, "--out", out, "--volume", "raw", "--quiet")
        check(r.returncode == 0, f"re-import --volume raw failed: {r.stderr}")
        if r.returncode == 0:
            check_market(zz, out, truth, idx, spells, members, volume_raw=True, tag="[raw] ")

    out2 = os.path.join(work, "market_range")
    if os.path.exists(out2):
        shutil.rmtree(out2)
    r = run(zz, "import", "qlib", "--src", src, "--out", out2, "--start", DS[5], "--end", DS[25].replace("-", ""), "--quiet")
    check(r.returncode == 0, f"import --start/--end failed: {r.stderr}")
    if r.returncode == 0:
        check_market(zz, out2, truth, idx, spells, members, t0=5, t1=25, tag="[range] ")

    # index closes from --index-bars when features/sh000300 is absent; weights from --weights (tushare layout)
    src3 = os.path.join(work, "qlib_noindex")
    make_fixture(src3)
    shutil.rmtree(os.path.join(src3, "features", "sh000300"))
    ibcsv = os.path.join(work, "index_bars_in.csv")
    with open(ibcsv, "w") as f:
        f.write("date,index,close\n" + "".join("%s,000300.SH,%r\n" % (DS[t], idx[t]) for t in range(NC)))
    wcsv = os.path.join(work, "index_weight.csv")
    with open(wcsv, "w") as f:
        f.write("index_code,con_code,trade_date,weight\n")
        f.write("399300.SZ,600000.SH,%s,60.0\n399300.SZ,300750.SZ,%s,40.0\n" % (DS[0].replace("-", ""), DS[0].replace("-", "")))
        f.write("000300.SH,600000.SH,%s,55.5\n000300.SH,688001.SH,%s,44.5\n" % (DS[20].replace("-", ""), DS[20].replace("-", "")))
    out3 = os.path.join(work, "market_csv")
    if os.path.exists(out3):
        shutil.rmtree(out3)
    r = run(zz, "import", "qlib", "--src", src3, "--out", out3, "--index-bars", ibcsv, "--weights", wcsv, "--quiet")
    # 399300.SZ is not an index zhizeng knows: the importer must say so, naming the line
    check(r.returncode == 3 and "index_weight.csv:2:1" in r.stderr, f"unknown index in --weights: {r.returncode} {r.stderr}")
    check(not os.path.exists(out3), "out left behind after a bad --weights")
    with open(wcsv, "w") as f:
        f.write("index_code,con_code,trade_date,weight\n")
        f.write("000300.SH,600000.SH,%s,60.0\n000300.SH,300750.SZ,%s,40.0\n" % (DS[0].replace("-", ""), DS[0].replace("-", "")))
        f.write("000300.SH,600000.SH,%s,55.5\n000300.SH,688001.SH,%s,44.5\n" % (DS[20].replace("-", ""), DS[20].replace("-", "")))
    indcsv = os.path.join(work, "industry_in.csv")
    with open(indcsv, "w") as f:
        f.write("code,industry\nSH600000,Banks\n300750.SZ,\"Power, equipment\"\n601999.SH,Media\n")
    r = run(zz, "import", "qlib", "--src", src3, "--out", out3, "--index-bars", ibcsv, "--weights", wcsv,
            "--industry", indcsv, "--quiet")
    check(r.returncode == 0, f"import with --index-bars/--weights failed: {r.stderr}")
    if r.returncode == 0:
        ib = read_csv(os.path.join(out3, "index_bars.csv"))
        check(len(ib) == NC and all(abs(float(x["close"]) / idx[DS.index(x["date"])] - 1) < 1e-9 for x in ib),
              "index closes from --index-bars")
        iw = [(x["date"], x["code"], float(x["weight"])) for x in read_csv(os.path.join(out3, "index_weights.csv"))]
        want = [(DS[0], "300750.SZ", 40.0), (DS[0], "600000.SH", 60.0), (DS[20], "600000.SH", 55.5), (DS[20], "688001.SH", 44.5)]
        check(iw == want, f"weights from --weights: {iw} != {want}")
        imp = open(os.path.join(out3, "IMPORT.txt")).read()
        check("--index-bars" in imp and "from " + wcsv in imp, "IMPORT.txt does not name --index-bars / --weights")
        ind = open(os.path.join(out3, "industry.csv")).read()
        check(ind == 'code,industry\n600000.SH,Banks\n300750.SZ,"Power, equipment"\n', f"industry.csv from --industry: {ind!r}")
        r = run(zz, "ingest", "--market", out3, "--quiet")
        check(r.returncode == 0, f"ingest of the --weights market: {r.stderr}")
        # importing again without --industry into this previous import removes its industry.csv
        r = run(zz, "import", "qlib", "--src", src3, "--out", out3, "--index-bars", ibcsv, "--weights", wcsv, "--quiet")
        check(r.returncode == 0 and not os.path.exists(os.path.join(out3, "industry.csv")), f"re-import: {r.stderr}")

    # float caps (circ_mv) for two of the three members: the first snapshot is float-cap weighted, the two
    # after 688001.SH joins (it has no cap) fall back to equal weights
    src4 = os.path.join(work, "qlib_caps")
    make_fixture(src4)
    caps = {}
    for q, dname in (("SH600000", "sh600000"), ("SZ300750", "sz300750")):
        caps[norm(q)] = [f32(1e9 * (1 + 0.5 * len(caps)) * (1 + 0.01 * t)) for t in range(NC)]
        write_bin(os.path.join(src4, "features", dname, "circ_mv.day.bin"), 0, caps[norm(q)])
    out4 = os.path.join(work, "market_caps")
    if os.path.exists(out4):
        shutil.rmtree(out4)
    r = run(zz, "import", "qlib", "--src", src4, "--out", out4, "--quiet")
    check(r.returncode == 0, f"import with circ_mv failed: {r.stderr}")
    if r.returncode == 0:
        iw = read_csv(os.path.join(out4, "index_weights.csv"))
        d0 = [(x["code"], float(x["weight"])) for x in iw if x["date"] == DS[0]]
        tot = caps["600000.SH"][0] + caps["300750.SZ"][0]
        want0 = [("300750.SZ", caps["300750.SZ"][0] / tot), ("600000.SH", caps["600000.SH"][0] / tot)]
        check(len(d0) == 2 and all(a[0] == b[0] and abs(a[1] - b[1]) < 1e-11 for a, b in zip(d0, want0)),
              f"float-cap snapshot {d0} != {want0}")
        d10 = [float(x["weight"]) for x in iw if x["date"] == DS[10]]
        check(len(d10) == 3 and all(abs(w - 1 / 3) < 1e-11 for w in d10), f"equal-weight fallback {d10}")
        imp = open(os.path.join(out4, "IMPORT.txt")).read()
        check("1 float-cap weighted by float_mv/circ_mv, 2 equal-weighted: a member without a cap" in imp,
              f"IMPORT.txt does not state the cap / equal mix:\n{imp}")
        r = run(zz, "ingest", "--market", out4, "--quiet")
        check(r.returncode == 0, f"ingest of the float-cap market: {r.stderr}")

    # an --out that is neither empty nor a previous import is refused (usage), untouched
    busy = os.path.join(work, "busy")
    os.makedirs(busy, exist_ok=True)
    open(os.path.join(busy, "notes.txt"), "w").write("mine\n")
    r = run(zz, "import", "qlib", "--src", src, "--out", busy)
    check(r.returncode == 2 and os.listdir(busy) == ["notes.txt"], f"non-empty --out: {r.returncode} {r.stderr}")

    def truncate(s):
        with open(os.path.join(s, "features", "sh600000", "close.day.bin"), "ab") as f:
            f.write(b"\x00\x01")

    def far_start(s):
        write_bin(os.path.join(s, "features", "sz000001", "open.day.bin"), 9999, [1.0, 2.0])

    def too_long(s):
        write_bin(os.path.join(s, "features", "sz300750", "high.day.bin"), 30, [1.0] * 12)

    def inf_close(s):  # NaN is qlib's "no value"; an infinity is refused at its byte
        write_bin(os.path.join(s, "features", "sz000001", "close.day.bin"), 0, [10.0, 10.1, float("inf"), 10.2])

    def bad_cal(s):
        p = os.path.join(s, "calendars", "day.txt")
        lines = open(p).read().splitlines()
        lines[2] = "2020-13-45"
        open(p, "w").write("\n".join(lines) + "\n")

    def unsorted_cal(s):
        p = os.path.join(s, "calendars", "day.txt")
        lines = open(p).read().splitlines()
        lines[4], lines[5] = lines[5], lines[4]
        open(p, "w").write("\n".join(lines) + "\n")

    def bad_instr(s):
        with open(os.path.join(s, "instruments", "all.txt"), "a") as f:
            f.write("SH600004\t2020-01-06\n")

    def bad_instr_date(s):
        with open(os.path.join(s, "instruments", "csi300.txt"), "a") as f:
            f.write("SH600004\t2020-01-06\t2020-02-30\n")

    def no_index(s):
        shutil.rmtree(os.path.join(s, "features", "sh000300"))

    bad_case(zz, work, "truncated", truncate, ["features/sh600000/close.day.bin: byte 164:", "not a multiple of 4"])
    bad_case(zz, work, "start_index", far_start,
             ["features/sz000001/open.day.bin: byte 0: start index 9999 is beyond the calendar (40 days"])
    bad_case(zz, work, "too_long", too_long, ["features/sz300750/high.day.bin: byte 44:", "past the calendar's end"])
    bad_case(zz, work, "infinite_close", inf_close, ["features/sz000001/close.day.bin: byte 12:", "expected a finite"])
    bad_case(zz, work, "calendar_line", bad_cal, ["calendars/day.txt:3:1:", "2020-13-45"])
    bad_case(zz, work, "calendar_order", unsorted_cal, ["calendars/day.txt:6:1:", "increasing"])
    bad_case(zz, work, "instrument_fields", bad_instr, ["instruments/all.txt:", ":3: expected 3 fields"])
    bad_case(zz, work, "instrument_date", bad_instr_date, ["instruments/csi300.txt:", ":3: expected a date", "2020-02-30"])
    bad_case(zz, work, "no_index_closes", no_index, ["features/sh000300/close.day.bin", "--index-bars"])

    if FAILS:
        print(f"{len(FAILS)} checks failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
