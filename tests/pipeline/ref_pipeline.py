#!/usr/bin/env python3
"""End-to-end checks of `zhizeng run` on a tiny configuration (tests/pipeline/CMakeLists.txt):

  setup        synthetic market (1,900 stocks, 2017-01 .. 2019-04) and run A
  reproducible run A again into a fresh directory: every CSV (stages and report) byte for byte equal
               (except the wall times: training logs *.log.csv, report/timings.csv and the optimiser's
               seconds per week, column opt_seconds of diagnostics.csv)
  causality    rewrite the market's bars after D = 2019-02-28 (volumes, and prices of half the stocks),
               run B: every score, target weight, diagnostics row and NAV dated <= D equals run A's bit
               for bit, and something after D differs (so the check can fail)
  diagnostics  every rebalance of run A holds the configured limits (or names a relaxation), with one
               row per week end of the backtest per backtest (week ends counted here from bars.csv);
               closed loop: the book each week's optimisation started from (w0.csv) is the simulator's
               holdings at that close (positions.csv) to 1e-9, and the realised one-way turnover of every
               non-exempt rebalance is within the cap + 0.5 pt or names its causes
  cached       a rerun recomputes nothing but the report; changing sim.buy_rate redoes the 4 closed-loop
               backtests and no training; a backtest stage left without DONE (a crash) is redone alone, with
               the same targets

Only the Python standard library is needed. Exits 77 (skip) when the zhizeng binary is missing.
"""
import argparse, csv, datetime, glob, io, os, shutil, subprocess, sys

D = "2019-02-28"
CONFIG = """[market]
dir = {market}
[model]
heads = univariate,multivariate
hidden = 4
outputs = 4
seq = 5
epochs = 1
seeds = 1
train_years = 1
day_stride = 10
threads = 1
[backtest]
first_year = 2019
last_year = 2019
end_date = 2019-03-29
[optimizer]
indices = csi300
floors = 0.8,0
workers = 2
[output]
dir = {out}
"""


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        print(r.stdout[-4000:])
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}")
    return r.stdout


def zrun(zz, work, name, market, extra=()):
    out = os.path.join(work, name)
    cfg = os.path.join(work, name + ".ini")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(market=market, out=out))
    log = run([zz, "run", cfg, "--no-progress", *extra])
    return out, log


def parse_args(modes=None):
    """The pipeline tests' command line, --zhizeng BIN --work DIR (and a mode when modes are given); exits 77
    (ctest's skip) when zhizeng is not built."""
    ap = argparse.ArgumentParser()
    if modes:
        ap.add_argument("mode", choices=modes)
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    if not os.access(a.zhizeng, os.X_OK):
        print(f"SKIP: {a.zhizeng} is not built")
        sys.exit(77)
    return a


def fixture_run_copy(work, name):
    """A fresh copy, work/name, of the pipeline_setup fixture's run A (every stage cached); returns its path."""
    src, out = os.path.join(work, "runA"), os.path.join(work, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    shutil.copytree(src, out, symlinks=True)
    return out


def fixture_market(work, name):
    """A fresh copy, work/name, of the market the pipeline_setup test wrote (its caches left out)."""
    src = os.path.join(work, "market")
    if not os.path.isfile(os.path.join(src, "bars.csv")):
        sys.exit("FAIL: run the pipeline_setup test first (ctest fixture)")
    market = os.path.join(work, name)
    if os.path.isdir(market):
        shutil.rmtree(market)
    shutil.copytree(src, market, ignore=shutil.ignore_patterns("*.bin", "*cache*"))
    return market


def stage_files(out):
    """{relative path with the hash removed: bytes} of every CSV under stages/ and report/."""
    res = {}
    for p in glob.glob(os.path.join(out, "stages", "*", "*.csv")) + glob.glob(os.path.join(out, "report", "*.csv")):
        if p.endswith(".log.csv"):  # training logs carry wall-clock seconds per epoch
            continue
        rel = os.path.relpath(p, out)
        parts = rel.split(os.sep)
        if parts[0] == "stages":
            parts[1] = parts[1].rsplit("-", 1)[0]
        if parts[-1] == "timings.csv":
            continue
        key = "/".join(parts)
        if key in res:
            sys.exit(f"FAIL: two stage directories named {key} (besides their hash)")
        with open(p, "rb") as f:
            res[key] = f.read()
        if parts[-1] == "diagnostics.csv":  # opt_seconds is a wall time: every other column must be equal
            rows = list(csv.reader(io.StringIO(res[key].decode())))
            if "opt_seconds" not in rows[0]:
                sys.exit(f"FAIL: {key} has no opt_seconds column")
            c = rows[0].index("opt_seconds")
            res[key] = "\n".join(",".join(r[:c] + r[c + 1:]) for r in rows).encode()
    return res


def setup(zz, work):
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    run([zz, "synth", "--out", os.path.join(work, "market"), "--stocks", "1900", "--start", "2017-01-01",
         "--end", "2019-04-30", "--seed", "3"])
    out, log = zrun(zz, work, "runA", os.path.join(work, "market"))
    print(log[-1500:])
    for f in ["report.md", "report.html", "factor_tables.csv", "yearly.csv", "summary.csv", "comparison.csv",
              "diagnostics.csv"]:
        if not os.path.isfile(os.path.join(out, "report", f)):
            sys.exit(f"FAIL: report/{f} missing")
    print("setup: ok")


def reproducible(zz, work):
    a = stage_files(os.path.join(work, "runA"))
    out, _ = zrun(zz, work, "runA2", os.path.join(work, "market"))
    b = stage_files(out)
    if sorted(a) != sorted(b):
        sys.exit(f"FAIL: different file sets: {sorted(set(a) ^ set(b))}")
    bad = [k for k in a if a[k] != b[k]]
    if bad:
        sys.exit(f"FAIL: files differ between two runs of the same config: {bad}")
    if len(a) < 10:
        sys.exit(f"FAIL: only {len(a)} CSV files compared")
    print(f"reproducible: {len(a)} CSV files identical byte for byte")
    shutil.rmtree(out)


def perturb(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".zhizeng.cache", "truth"))
    path = os.path.join(dst, "bars.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    h = rows[0]
    col = {n: k for k, n in enumerate(h)}
    price = [c for c in ["open", "high", "low", "close", "pre_close", "vwap", "up_limit", "down_limit"] if c in col]
    changed = 0
    for r in rows[1:]:
        if r[col["date"]] <= D:
            continue
        changed += 1
        for c in ["volume", "amount"]:
            r[col[c]] = "%.2f" % (float(r[col[c]]) * 1.37)
        if int(r[col["code"]][5]) % 2 == 1:  # half the stocks: prices up 5 % from D+1 on
            for c in price:
                if r[col[c]] != "":
                    r[col[c]] = "%.4f" % (float(r[col[c]]) * 1.05)
            for c in ["float_mv", "total_mv"]:
                if c in col and r[col[c]] != "":
                    r[col[c]] = "%.2f" % (float(r[col[c]]) * 1.05)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return changed


def dated_rows(data, datecol="date"):
    """Rows known at the close of D and the others. A diagnostics row is dated by its rebalance date but
    also holds the fills of its trade date (the next day): it counts as known once both are <= D."""
    lines = list(csv.reader(data.decode().splitlines()))
    h = lines[0]
    k = h.index(datecol)
    kt = h.index("trade_date") if "trade_date" in h else None
    when = lambda r: max(r[k], r[kt]) if kt is not None and r[kt] else r[k]
    before = [",".join(r) for r in lines[1:] if when(r) <= D]
    after = [",".join(r) for r in lines[1:] if when(r) > D]
    return before, after


def causality(zz, work):
    mb = os.path.join(work, "market_b")
    if os.path.isdir(mb):
        shutil.rmtree(mb)
    n = perturb(os.path.join(work, "market"), mb)
    print(f"perturbed {n} bar rows after {D}")
    out, _ = zrun(zz, work, "runB", mb)
    a, b = stage_files(os.path.join(work, "runA")), stage_files(out)
    compared = differ_after = 0
    for k in sorted(a):
        name = k.split("/")[-1]
        if not k.startswith("stages/") or name not in ("scores.csv", "targets.csv", "diagnostics.csv", "nav.csv"):
            continue
        if k not in b:
            sys.exit(f"FAIL: {k} missing in the perturbed run")
        ba, aa = dated_rows(a[k])
        bb, ab = dated_rows(b[k])
        if not ba:
            sys.exit(f"FAIL: {k} has no rows dated <= {D}")
        if ba != bb:
            first = next(i for i in range(min(len(ba), len(bb))) if ba[i] != bb[i]) if min(len(ba), len(bb)) else 0
            sys.exit(f"FAIL: {k}: rows dated <= {D} differ after changing the market after {D} "
                     f"(first difference: {ba[first:first+1]} vs {bb[first:first+1]})")
        compared += len(ba)
        differ_after += aa != ab
    if compared == 0:
        sys.exit("FAIL: nothing compared")
    if differ_after == 0:
        sys.exit(f"FAIL: no file changed after {D}: the perturbation did not reach the pipeline")
    print(f"causality: {compared} rows dated <= {D} identical; {differ_after} files differ after {D}")
    shutil.rmtree(out)
    shutil.rmtree(mb)


def week_ends(market, first, last):
    dates = set()
    with open(os.path.join(market, "index_bars.csv")) as f:
        for r in csv.DictReader(f):
            dates.add(r["date"])
    dates = sorted(dates)
    ends = []
    for i, d in enumerate(dates):
        y, m, dd = map(int, d.split("-"))
        w = datetime.date(y, m, dd).isocalendar()[:2]
        if i + 1 < len(dates):
            y2, m2, d2 = map(int, dates[i + 1].split("-"))
            if datetime.date(y2, m2, d2).isocalendar()[:2] == w:
                continue
        ends.append((i, d))
    last_i = max(i for i, d in enumerate(dates) if d <= last)
    return [d for i, d in ends if d >= first and i + 1 <= last_i]


def diagnostics(zz, work):
    out = os.path.join(work, "runA")
    rows = list(csv.DictReader(open(os.path.join(out, "report", "diagnostics.csv"))))
    lim = {"te_max": 0.04, "style_bound": 0.5, "industry_bound": 0.02, "turnover_max": 0.2, "active_max": 0.01,
           "weight_max": 0.05}
    tol = 1e-6
    expect = week_ends(os.path.join(work, "market"), "2019-01-01", "2019-03-29")
    runs = {}
    for r in rows:
        runs.setdefault(r["run"], []).append(r["date"])
        f = {k: float(r[k]) for k in r
             if k not in ("run", "date", "status", "relaxations", "note", "trade_date", "turnover_causes") and r[k] != ""}
        relaxed = {x.split(":")[0] for x in r["relaxations"].split(";") if x}
        floor = 0.8 if "floor80" in r["run"] else 0.0
        for k, v in list(lim.items()) + [("constituent_floor", floor)]:
            if abs(f[k] - v) > 1e-12 and k not in relaxed:
                sys.exit(f"FAIL: {r['run']} {r['date']}: limit {k} in force {f[k]} differs from the configured {v} "
                         "without a reported relaxation")
        checks = [("te", f["te"] <= f["te_max"] * (1 + tol) + 1e-9),
                  ("style", f["max_abs_style"] <= f["style_bound"] + tol),
                  ("industry", f["max_abs_industry"] <= f["industry_bound"] + tol),
                  ("constituent", f["constituent_weight"] >= f["constituent_floor"] - tol),
                  ("turnover", f["turnover_exempt"] == 1 or f["turnover"] <= f["turnover_max"] + tol),
                  ("active", f["forced_bounds"] > 0 or f["max_active"] <= f["active_max"] + tol),
                  ("weight", f["forced_bounds"] > 0 or f["max_weight"] <= f["weight_max"] + tol),
                  ("invested", abs(f["invested"] - 1) <= 1e-6),
                  ("realised turnover", f["turnover_exempt"] == 1 or r["turnover_causes"] != ""
                   or f["realised_turnover"] <= f["turnover_max"] + 0.005),
                  # cash an unfilled buy (limit-up, suspension) could not spend stays cash
                  ("cash after the rebalance", f["cash_weight"] <= 0.003 + f["unfilled_value"])]
        for name, ok in checks:
            if not ok:
                sys.exit(f"FAIL: {r['run']} {r['date']}: {name} limit violated: {r}")
        if r["status"] not in ("optimal", "gap"):
            sys.exit(f"FAIL: {r['run']} {r['date']}: status {r['status']}")
    if sorted(runs) != sorted(["csi300/univariate/floor80", "csi300/univariate/nofloor",
                               "csi300/multivariate/floor80", "csi300/multivariate/nofloor"]):
        sys.exit(f"FAIL: backtests in diagnostics.csv: {sorted(runs)}")
    for k, d in runs.items():
        if d != expect:
            sys.exit(f"FAIL: {k}: rebalance dates {d} != week ends {expect}")
    print(f"diagnostics: {len(rows)} rebalances within limits (realised turnover max "
          f"{max(float(r['realised_turnover']) for r in rows if r['turnover_exempt'] == '0'):.4f}), "
          f"{len(expect)} week ends per backtest")
    # closed loop: w0 (what the optimiser started from) is the simulator's book at that close
    n_w0 = 0
    for d in glob.glob(os.path.join(out, "stages", "bt-*")):
        pos = {}
        for r in csv.DictReader(open(os.path.join(d, "positions.csv"))):
            pos.setdefault(r["date"], {})[r["code"]] = float(r["weight"])
        w0 = {}
        for r in csv.DictReader(open(os.path.join(d, "w0.csv"))):
            w0.setdefault(r["date"], {})[r["code"]] = float(r["weight"])
        cash = {r["date"]: float(r["w0_cash"]) for r in csv.DictReader(open(os.path.join(d, "diagnostics.csv")))}
        for date, c in cash.items():
            a, b = w0.get(date, {}), pos.get(date, {})
            if date != min(cash) and set(a) != set(b):
                sys.exit(f"FAIL: {d} {date}: w0 holds {len(a)} stocks, the simulator {len(b)}")
            bad = [k for k in a if abs(a[k] - b.get(k, 0.0)) > 1e-9]
            if bad:
                sys.exit(f"FAIL: {d} {date}: w0 differs from the simulator's holdings for {bad[:5]}")
            if abs(sum(a.values()) + c - 1) > 1e-9:
                sys.exit(f"FAIL: {d} {date}: w0 {sum(a.values())} + cash {c} != 1")
            n_w0 += len(a)
    if n_w0 == 0:
        sys.exit("FAIL: no w0 rows compared")
    print(f"closed loop: {n_w0} w0 weights equal the simulator's positions at the rebalance closes (1e-9)")
    # the report's yearly table against the simulator's NAV files, recomputed here
    yearly = {r["run"]: r for r in csv.DictReader(open(os.path.join(out, "report", "yearly.csv")))}
    for label, y in yearly.items():
        d = glob.glob(os.path.join(out, "stages", "bt-" + label.replace("/", "-") + "-*", "nav.csv"))
        if len(d) != 1:
            sys.exit(f"FAIL: {label}: expected one simulation directory, found {d}")
        nav = list(csv.DictReader(open(d[0])))
        for col, key in (("nav", "absolute"), ("hedged", "hedged")):
            want = float(nav[-1][col]) / float(nav[0][col]) - 1
            if abs(float(y[key]) - want) > 1e-9 * max(1, abs(want)):
                sys.exit(f"FAIL: {label}: yearly {key} {y[key]} != {want} from {d[0]}")
    print(f"report: yearly returns of {len(yearly)} backtests match their nav.csv")


def cached(zz, work):
    src, dst = os.path.join(work, "runA"), os.path.join(work, "runC")
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)  # run A stays as the other checks read it
    out, log = zrun(zz, work, "runC", os.path.join(work, "market"))
    lines = [l for l in log.splitlines() if l.startswith("  ")]
    redone = [l for l in lines if not l.endswith("cached") and not l.strip().startswith(("report", "total"))]
    if redone or "rebalances (" in log:
        sys.exit(f"FAIL: a rerun recomputed stages: {redone}")
    out, log = zrun(zz, work, "runC", os.path.join(work, "market"), ["--set", "sim.buy_rate=0.0015"])
    if log.count("rebalances (") != 4 or "[train" in log and "cached" not in log:
        sys.exit("FAIL: changing sim.buy_rate should redo the 4 closed-loop backtests only:\n" + log[-3000:])
    # an interrupted backtest (no DONE) is redone, alone, with the same result
    opt = glob.glob(os.path.join(dst, "stages", "bt-csi300-multivariate-nofloor-*"))
    opt = sorted(opt, key=lambda d: os.path.getmtime(os.path.join(d, "DONE")))[:1]  # run A's (the older)
    if len(opt) != 1:
        sys.exit(f"FAIL: expected a bt-csi300-multivariate-nofloor stage, found {opt}")
    before = open(os.path.join(opt[0], "targets.csv"), "rb").read()
    os.remove(os.path.join(opt[0], "DONE"))
    with open(os.path.join(opt[0], "targets.csv"), "w") as f:
        f.write("date,code,weight\n")  # a half-written file from a crash
    out, log = zrun(zz, work, "runC", os.path.join(work, "market"))
    redone = [l for l in log.splitlines() if "rebalances (" in l]
    if len(redone) != 1 or "csi300/multivariate/nofloor" not in redone[0] or "[train" in log and "cached" not in log:
        sys.exit("FAIL: after an interrupted backtest exactly that backtest should be redone:\n" + log[-3000:])
    if open(os.path.join(opt[0], "targets.csv"), "rb").read() != before:
        sys.exit("FAIL: the redone backtest differs from the first one")
    print("cached: a rerun reuses every stage; a cost change redoes the 4 closed-loop backtests only; an "
          "interrupted backtest is redone alone, identically")
    shutil.rmtree(dst)


def main():
    a = parse_args(["setup", "reproducible", "causality", "diagnostics", "cached"])
    if a.mode != "setup" and not os.path.isfile(os.path.join(a.work, "runA", "report", "diagnostics.csv")):
        sys.exit("FAIL: run the pipeline_setup test first (ctest fixture)")
    {"setup": setup, "reproducible": reproducible, "causality": causality, "diagnostics": diagnostics,
     "cached": cached}[a.mode](a.zhizeng, a.work)


if __name__ == "__main__":
    main()
