#!/usr/bin/env python3
"""`zhizeng import tushare`: builds a small set of tushare exports (5 stocks, 15 trading days around a
month end: a 1-for-2 split through adj_factor, a 2-day suspension in suspend_d, an ST name change in
namechange, a limit-up day from stk_limit, index_weight on 2020-12-31, index_daily, stock_basic with a
STAR and a ChiNext code, index_classify / index_member, daily split over daily_2020.csv and
daily_2021.csv), runs the importer and checks every written CSV against the fixture's values converted
by hand (vol x 100, amount x 1000, circ_mv / total_mv x 10000, exactly in decimal), that `zhizeng
ingest` accepts the market, and that bad inputs exit 3 naming file:line:column with nothing left in --out.
usage: test_import_tushare.py --zhizeng BIN --workdir DIR
"""
import argparse
import csv
import glob
import os
import shutil
import subprocess
import sys
from decimal import Decimal, ROUND_HALF_UP

DAYS = ["20201228", "20201229", "20201230", "20201231", "20210104", "20210105", "20210106", "20210107",
        "20210108", "20210111", "20210112", "20210113", "20210114", "20210115", "20210118"]
STOCKS = ["600000.SH", "600001.SH", "000001.SZ", "300750.SZ", "688001.SH"]
SUSP = {("000001.SZ", DAYS[6]), ("000001.SZ", DAYS[7])}  # in suspend_d, no daily row
SPLIT_DAY = 8      # 600000.SH: 1-for-2 split, adj_factor 1 -> 2
LIMIT_UP_DAY = 4   # 600000.SH closes at its up limit
ST_FROM = DAYS[8]  # 600001.SH named *ST from 2021-01-08


def r2(x):
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ratio(code, st):
    if code.startswith(("300", "688")):
        return Decimal("0.2")
    return Decimal("0.05") if st else Decimal("0.1")


def fixture():
    """Returns dict api -> list of rows (dicts of strings), plus the daily rows split by year."""
    daily, adj, basic, limit = [], [], [], []
    for k, code in enumerate(STOCKS):
        close = Decimal("10.00") + 3 * k
        a = Decimal("1.0")
        for t, d in enumerate(DAYS):
            st = code == "600001.SH" and d >= ST_FROM
            pre = close
            if code == "600000.SH" and t == SPLIT_DAY:
                pre = r2(close / 2)
                a = Decimal("2.0")
            up, down = r2(pre * (1 + ratio(code, st))), r2(pre * (1 - ratio(code, st)))
            if (code, d) in SUSP:
                adj.append({"ts_code": code, "trade_date": d, "adj_factor": str(a)})
                continue
            if code == "600000.SH" and t == LIMIT_UP_DAY:
                c = up
            else:
                c = r2(pre * (1 + Decimal((t * 7 + k * 3) % 11 - 5) / 200))
            o = r2(pre * Decimal("1.002"))
            hi, lo = max(o, c) + Decimal("0.05"), min(o, c) - Decimal("0.03")
            if code == "600000.SH" and t == LIMIT_UP_DAY:
                hi = c
            vol = Decimal(12345 + 1000 * k + 37 * t) + Decimal("0.67")
            amount = (vol * c / 10).quantize(Decimal("0.001"))
            daily.append({"ts_code": code, "trade_date": d, "open": str(o), "high": str(hi), "low": str(lo),
                          "close": str(c), "pre_close": str(pre), "change": str(c - pre), "pct_chg": "0",
                          "vol": str(vol), "amount": str(amount)})
            adj.append({"ts_code": code, "trade_date": d, "adj_factor": str(a)})
            basic.append({"ts_code": code, "trade_date": d, "close": str(c), "turnover_rate": "1.5",
                          "total_share": "1000.5", "float_share": "800.25",
                          "total_mv": str((c * Decimal("1000.5")).quantize(Decimal("0.0001"))),
                          "circ_mv": str((c * Decimal("800.25")).quantize(Decimal("0.0001")))})
            limit.append({"ts_code": code, "trade_date": d, "pre_close": str(pre), "up_limit": str(up),
                          "down_limit": str(down)})
            close = c
    idx = []
    for ic, base in (("000300.SH", 5000), ("000905.SH", 6000), ("399001.SZ", 9000)):
        for t, d in enumerate(DAYS):
            idx.append({"ts_code": ic, "trade_date": d, "close": "%.3f" % (base + 10 * t + 0.125),
                        "open": "1", "high": "1", "low": "1"})
    iw = [{"index_code": "399300.SZ", "con_code": "600000.SH", "trade_date": "20201231", "weight": "40.5"},
          {"index_code": "399300.SZ", "con_code": "600001.SH", "trade_date": "20201231", "weight": "29.5"},
          {"index_code": "399300.SZ", "con_code": "000001.SZ", "trade_date": "20201231", "weight": "30"},
          {"index_code": "000905.SH", "con_code": "300750.SZ", "trade_date": "20201231", "weight": "60.25"},
          {"index_code": "000905.SH", "con_code": "688001.SH", "trade_date": "20201231", "weight": "39.75"},
          {"index_code": "000016.SH", "con_code": "600000.SH", "trade_date": "20201231", "weight": "100"}]
    sb = [{"ts_code": "600000.SH", "symbol": "600000", "name": "浦发银行", "area": "上海", "industry": "银行",
           "market": "主板", "exchange": "SSE", "list_date": "19991110", "delist_date": ""},
          {"ts_code": "600001.SH", "symbol": "600001", "name": "邯郸钢铁", "area": "河北", "industry": "钢铁",
           "market": "主板", "exchange": "SSE", "list_date": "19980122", "delist_date": ""},
          {"ts_code": "000001.SZ", "symbol": "000001", "name": "平安银行", "area": "深圳", "industry": "银行",
           "market": "主板", "exchange": "SZSE", "list_date": "19910403", "delist_date": ""},
          {"ts_code": "300750.SZ", "symbol": "300750", "name": "宁德时代", "area": "福建", "industry": "电气设备",
           "market": "创业板", "exchange": "SZSE", "list_date": "20180611", "delist_date": ""},
          {"ts_code": "688001.SH", "symbol": "688001", "name": "华兴源创", "area": "江苏", "industry": "专用机械",
           "market": "科创板", "exchange": "SSE", "list_date": "20190722", "delist_date": ""},
          {"ts_code": "601999.SH", "symbol": "601999", "name": "无行情", "area": "", "industry": "",
           "market": "主板", "exchange": "SSE", "list_date": "20100101", "delist_date": ""}]
    icls = [{"index_code": "801780.SI", "industry_name": "银行", "level": "L1", "industry_code": "480000",
             "is_pub": "1", "parent_code": "0", "src": "SW2021"},
            {"index_code": "801730.SI", "industry_name": "电力设备", "level": "L1", "industry_code": "630000",
             "is_pub": "1", "parent_code": "0", "src": "SW2021"},
            {"index_code": "801080.SI", "industry_name": "电子", "level": "L1", "industry_code": "270000",
             "is_pub": "1", "parent_code": "0", "src": "SW2021"},
            {"index_code": "851911.SI", "industry_name": "股份制银行", "level": "L2", "industry_code": "480200",
             "is_pub": "1", "parent_code": "480000", "src": "SW2021"}]
    imem = [{"index_code": "801780.SI", "index_name": "银行", "con_code": "600000.SH", "con_name": "x",
             "in_date": "20050101", "out_date": "", "is_new": "Y"},
            {"index_code": "801780.SI", "index_name": "银行", "con_code": "000001.SZ", "con_name": "x",
             "in_date": "20050101", "out_date": "", "is_new": "Y"},
            {"index_code": "851911.SI", "index_name": "股份制银行", "con_code": "600000.SH", "con_name": "x",
             "in_date": "20050101", "out_date": "", "is_new": "Y"},
            {"index_code": "801730.SI", "index_name": "电力设备", "con_code": "300750.SZ", "con_name": "x",
             "in_date": "20180611", "out_date": "", "is_new": "Y"},
            {"index_code": "801080.SI", "index_name": "电子", "con_code": "688001.SH", "con_name": "x",
             "in_date": "20190722", "out_date": "20210111", "is_new": "N"},
            {"index_code": "801080.SI", "index_name": "电子", "con_code": "601999.SH", "con_name": "x",
             "in_date": "20190722", "out_date": "", "is_new": "Y"}]
    susp = [{"ts_code": c, "trade_date": d, "suspend_timing": "", "suspend_type": "S"} for c, d in sorted(SUSP)]
    susp.append({"ts_code": "000001.SZ", "trade_date": DAYS[8], "suspend_timing": "", "suspend_type": "R"})
    susp.append({"ts_code": "600000.SH", "trade_date": DAYS[3], "suspend_timing": "09:30-10:30",
                 "suspend_type": "S"})
    names = [{"ts_code": "600001.SH", "name": "邯郸钢铁", "start_date": "19980122", "end_date": "20210107",
              "ann_date": "", "change_reason": ""},
             {"ts_code": "600001.SH", "name": "*ST邯钢", "start_date": ST_FROM, "end_date": "",
              "ann_date": "", "change_reason": "*ST"}]
    return {"daily_2020": [r for r in daily if r["trade_date"] < "2021"],
            "daily_2021": [r for r in daily if r["trade_date"] >= "2021"],
            "adj_factor": adj, "daily_basic": basic, "stk_limit": limit, "index_daily": idx,
            "index_weight": iw, "stock_basic": sb, "index_classify": icls, "index_member": imem,
            "suspend_d": susp, "namechange": names}, daily, adj, basic, limit


def write_src(d, files):
    os.makedirs(d, exist_ok=True)
    for name, rows in files.items():
        with open(os.path.join(d, name + ".csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)
    with open(os.path.join(d, "README.txt"), "w") as f:
        f.write("not a csv\n")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(s):
    return float(s) if s != "" else None


def dec(s, scale):
    return float(Decimal(s) * scale)


def iso(d):
    return f"{d[:4]}-{d[4:6]}-{d[6:]}"


class Checker:
    def __init__(self):
        self.failures = 0

    def eq(self, what, got, want):
        if got != want:
            self.failures += 1
            if self.failures <= 40:
                print(f"FAIL {what}: got {got!r}, expected {want!r}")


def check_market(ck, out, daily, adj, basic, limit):
    bars = read_csv(os.path.join(out, "bars.csv"))
    by = {(r["code"], r["date"]): r for r in bars}
    ck.eq("bars.csv rows", len(bars), len(daily) + len(SUSP))
    ck.eq("bars.csv header", list(bars[0].keys()),
          ["date", "code", "open", "high", "low", "close", "volume", "amount", "pre_close", "vwap", "adj_factor",
           "up_limit", "down_limit", "suspended", "is_st", "float_mv", "total_mv"])
    adj_by = {(r["ts_code"], r["trade_date"]): r for r in adj}
    basic_by = {(r["ts_code"], r["trade_date"]): r for r in basic}
    lim_by = {(r["ts_code"], r["trade_date"]): r for r in limit}
    for r in daily:
        key = (r["ts_code"], iso(r["trade_date"]))
        b = by.get(key)
        if b is None:
            ck.eq(f"row {key}", None, "present")
            continue
        src = (r["ts_code"], r["trade_date"])
        for f in ("open", "high", "low", "close", "pre_close"):
            ck.eq(f"{key} {f}", num(b[f]), float(r[f]))
        vol, amt = dec(r["vol"], 100), dec(r["amount"], 1000)
        ck.eq(f"{key} volume = vol x 100", num(b["volume"]), vol)
        ck.eq(f"{key} amount = amount x 1000", num(b["amount"]), amt)
        ck.eq(f"{key} vwap", num(b["vwap"]), amt / vol)
        ck.eq(f"{key} adj_factor", num(b["adj_factor"]), float(adj_by[src]["adj_factor"]))
        ck.eq(f"{key} up_limit", num(b["up_limit"]), float(lim_by[src]["up_limit"]))
        ck.eq(f"{key} down_limit", num(b["down_limit"]), float(lim_by[src]["down_limit"]))
        ck.eq(f"{key} float_mv = circ_mv x 10000", num(b["float_mv"]), dec(basic_by[src]["circ_mv"], 10000))
        ck.eq(f"{key} total_mv = total_mv x 10000", num(b["total_mv"]), dec(basic_by[src]["total_mv"], 10000))
        ck.eq(f"{key} suspended", b["suspended"], "0")
        st = r["ts_code"] == "600001.SH" and r["trade_date"] >= ST_FROM
        ck.eq(f"{key} is_st", b["is_st"], "1" if st else "0")
    for code, d in SUSP:
        b = by.get((code, iso(d)), {})
        ck.eq(f"suspended row {code} {d}", (b.get("suspended"), b.get("close"), b.get("volume"), b.get("adj_factor")),
              ("1", "", "0", "1"))
    lu = by[("600000.SH", iso(DAYS[LIMIT_UP_DAY]))]
    ck.eq("limit-up day close == up_limit", lu["close"], lu["up_limit"])
    sp = by[("600000.SH", iso(DAYS[SPLIT_DAY]))]
    ck.eq("split day adj_factor", sp["adj_factor"], "2")
    ck.eq("bars sorted by (date, code)", [(r["date"], r["code"]) for r in bars],
          sorted((r["date"], r["code"]) for r in bars))

    ib = read_csv(os.path.join(out, "index_bars.csv"))
    ck.eq("index_bars rows (399001.SZ ignored)", len(ib), 2 * len(DAYS))
    ck.eq("index_bars first", (ib[0]["date"], ib[0]["index"], ib[0]["close"]), ("2020-12-28", "000300", "5000.125"))
    ck.eq("index_bars 000905 last", [(r["index"], r["close"]) for r in ib if r["date"] == "2021-01-18"],
          [("000300", "5140.125"), ("000905", "6140.125")])

    iw = read_csv(os.path.join(out, "index_weights.csv"))
    ck.eq("index_weights", [(r["date"], r["index"], r["code"], r["weight"]) for r in iw],
          [("2020-12-31", "000300", "600000.SH", "40.5"), ("2020-12-31", "000300", "600001.SH", "29.5"),
           ("2020-12-31", "000300", "000001.SZ", "30"), ("2020-12-31", "000905", "300750.SZ", "60.25"),
           ("2020-12-31", "000905", "688001.SH", "39.75")])

    st = read_csv(os.path.join(out, "stocks.csv"))
    ck.eq("stocks", [(r["code"], r["name"], r["board"], r["list_date"], r["delist_date"]) for r in st],
          [("000001.SZ", "平安银行", "main", "1991-04-03", ""), ("300750.SZ", "宁德时代", "chinext", "2018-06-11", ""),
           ("600000.SH", "浦发银行", "main", "1999-11-10", ""), ("600001.SH", "邯郸钢铁", "main", "1998-01-22", ""),
           ("688001.SH", "华兴源创", "star", "2019-07-22", "")])

    ind = read_csv(os.path.join(out, "industry.csv"))
    ck.eq("industry", sorted((r["code"], r["industry"], r["start_date"], r["end_date"]) for r in ind),
          [("000001.SZ", "银行", "2005-01-01", ""), ("300750.SZ", "电力设备", "2018-06-11", ""),
           ("600000.SH", "银行", "2005-01-01", ""), ("688001.SH", "电子", "2019-07-22", "2021-01-11")])
    with open(os.path.join(out, "IMPORT.txt")) as f:
        txt = f.read()
    for want in ("daily_2020.csv", "daily_2021.csv", "daily_basic.csv", "namechange",
                 "vol x 100", "suspend_d"):
        ck.eq(f"IMPORT.txt mentions {want}", want in txt, True)


def leftovers(out):
    return [p for p in [out] + glob.glob(out + ".tmp*") if os.path.exists(p)]


def run(bin_, *args):
    return subprocess.run([bin_, *args], capture_output=True, text=True, timeout=120)


def bad_case(ck, bin_, work, src_files, name, mutate, want):
    d = os.path.join(work, "src_" + name)
    shutil.rmtree(d, ignore_errors=True)
    write_src(d, src_files)
    mutate(d)
    out = os.path.join(work, "out_" + name)
    r = run(bin_, "import", "tushare", "--src", d, "--out", out, "--quiet")
    ck.eq(f"{name}: exit code", r.returncode, 3)
    ck.eq(f"{name}: stderr names {want} ({r.stderr.strip()})", os.path.join(d, want) in r.stderr, True)
    ck.eq(f"{name}: nothing left in --out", leftovers(out), [])


def edit_line(path, lineno, col, value):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    rows[lineno - 1][col - 1] = value
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    work = a.workdir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    files, daily, adj, basic, limit = fixture()
    src = os.path.join(work, "src")
    write_src(src, files)
    ck = Checker()

    out = os.path.join(work, "market")
    r = run(a.zhizeng, "import", "tushare", "--src", src, "--out", out, "--quiet")
    ck.eq(f"import exit code ({r.stderr.strip()})", r.returncode, 0)
    if r.returncode == 0:
        ck.eq("summary printed", "market:" in r.stdout, True)
        check_market(ck, out, daily, adj, basic, limit)
        g = run(a.zhizeng, "ingest", "--market", out, "--no-cache", "--quiet")
        ck.eq(f"zhizeng ingest accepts the market ({g.stderr.strip()})", g.returncode, 0)
        ck.eq("no temporary directory left", glob.glob(out + ".tmp*"), [])
        again = run(a.zhizeng, "import", "tushare", "--src", src, "--out", out, "--quiet")
        ck.eq("a non-empty --out is refused (usage)", again.returncode, 2)

    # --end keeps the dates up to it
    out2 = os.path.join(work, "market_end")
    r = run(a.zhizeng, "import", "tushare", "--src", src, "--out", out2, "--end", "2021-01-12", "--quiet")
    ck.eq(f"--end exit code ({r.stderr.strip()})", r.returncode, 0)
    if r.returncode == 0:
        dates = {x["date"] for x in read_csv(os.path.join(out2, "bars.csv"))}
        ck.eq("--end: last bar date", max(dates), "2021-01-12")
        ck.eq("--end: index_bars rows", len(read_csv(os.path.join(out2, "index_bars.csv"))), 2 * 11)

    # --start after the month-end snapshot: it is carried to the first date
    out5 = os.path.join(work, "market_start")
    r = run(a.zhizeng, "import", "tushare", "--src", src, "--out", out5, "--start", "20210104", "--quiet")
    ck.eq(f"--start exit code ({r.stderr.strip()})", r.returncode, 0)
    if r.returncode == 0:
        ck.eq("--start: first bar date", min(x["date"] for x in read_csv(os.path.join(out5, "bars.csv"))), "2021-01-04")
        iw = read_csv(os.path.join(out5, "index_weights.csv"))
        ck.eq("--start: 2020-12-31 snapshot written on 2021-01-04", sorted((x["date"], x["index"], x["code"], x["weight"])
                                                                          for x in iw),
              [("2021-01-04", "000300", "000001.SZ", "30"), ("2021-01-04", "000300", "600000.SH", "40.5"),
               ("2021-01-04", "000300", "600001.SH", "29.5"), ("2021-01-04", "000905", "300750.SZ", "60.25"),
               ("2021-01-04", "000905", "688001.SH", "39.75")])
        with open(os.path.join(out5, "IMPORT.txt")) as f:
            ck.eq("--start: IMPORT.txt says so", "latest before --start" in f.read(), True)

    # only the required files: optional columns absent, IMPORT.txt says what was missing
    only = {k: v for k, v in files.items() if k.startswith(("daily_20", "index_daily", "index_weight"))}
    out3, src3 = os.path.join(work, "market_min"), os.path.join(work, "src_min")
    write_src(src3, only)
    r = run(a.zhizeng, "import", "tushare", "--src", src3, "--out", out3, "--quiet")
    ck.eq(f"required files only: exit code ({r.stderr.strip()})", r.returncode, 0)
    if r.returncode == 0:
        bars = read_csv(os.path.join(out3, "bars.csv"))
        ck.eq("required files only: bars header", list(bars[0].keys()),
              ["date", "code", "open", "high", "low", "close", "volume", "amount", "pre_close", "vwap", "suspended"])
        ck.eq("required files only: rows (no suspend_d rows)", len(bars), len(daily))
        with open(os.path.join(out3, "IMPORT.txt")) as f:
            txt = f.read()
        for want in ("namechange     missing", "ST cannot be determined", "suspend_d missing", "no industry.csv",
                     "stock_basic missing"):
            ck.eq(f"required files only: IMPORT.txt says '{want}'", want in txt, True)
        g = run(a.zhizeng, "ingest", "--market", out3, "--no-cache", "--quiet")
        ck.eq(f"required files only: ingest accepts ({g.stderr.strip()})", g.returncode, 0)

    # no namechange but stk_limit: no is_st column, ST left to ingest's limit rule
    nost = {k: v for k, v in files.items() if k != "namechange"}
    out4, src4 = os.path.join(work, "market_nost"), os.path.join(work, "src_nost")
    write_src(src4, nost)
    r = run(a.zhizeng, "import", "tushare", "--src", src4, "--out", out4, "--quiet")
    ck.eq(f"no namechange: exit code ({r.stderr.strip()})", r.returncode, 0)
    if r.returncode == 0:
        hdr = list(read_csv(os.path.join(out4, "bars.csv"))[0].keys())
        ck.eq("no namechange: is_st not written, limits written", ("is_st" in hdr, "up_limit" in hdr), (False, True))
        with open(os.path.join(out4, "IMPORT.txt")) as f:
            ck.eq("no namechange: IMPORT.txt names the 5 % rule", "5 % limits" in f.read(), True)

    # bad inputs: exit 3, file:line:column, nothing left in --out
    bad_case(ck, a.zhizeng, work, files, "missing_weight",
             lambda d: os.remove(os.path.join(d, "index_weight.csv")), "index_weight.csv: missing required file")
    bad_case(ck, a.zhizeng, work, files, "bad_vol",
             lambda d: edit_line(os.path.join(d, "daily_2021.csv"), 3, 10, "12x45"), "daily_2021.csv:3:10:")
    iw_extra = dict(files)
    iw_extra["index_weight"] = files["index_weight"] + [
        {"index_code": "000300.SH", "con_code": "601888.SH", "trade_date": "20201231", "weight": "1"}]
    bad_case(ck, a.zhizeng, work, iw_extra, "unknown_code", lambda d: None, "index_weight.csv:8:2:")
    bad_case(ck, a.zhizeng, work, files, "bad_limit",
             lambda d: edit_line(os.path.join(d, "stk_limit.csv"), 5, 4, "-1"), "stk_limit.csv:5:4:")

    bad_case(ck, a.zhizeng, work, files, "bad_weight_sum",
             lambda d: edit_line(os.path.join(d, "index_weight.csv"), 5, 4, "70.25"), "index_weight.csv:5:4:")
    dup = dict(files)
    dup["daily_2021"] = files["daily_2021"] + [files["daily_2020"][2]]
    bad_case(ck, a.zhizeng, work, dup, "duplicate_day",
             lambda d: None, "daily_2021.csv:%d:1: duplicate row" % (len(files["daily_2021"]) + 2))

    if ck.failures:
        print(f"{ck.failures} check(s) failed")
        return 1
    print("ok: import tushare checked against the hand-converted fixture; ingest accepts it; 6 bad inputs rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
