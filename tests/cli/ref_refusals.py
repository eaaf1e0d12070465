#!/usr/bin/env python3
"""What `zhizeng simulate` and `zhizeng run` must refuse (issue: closed loop), each with the documented exit
code, a message naming the file or key and the date, and no output written:

  missing-close   a simulated day without the benchmark's close in index_bars.csv   exit 3 (invalid data)
  absent-index    the benchmark index has no rows in index_bars.csv at all           exit 3
  unknown-index   index_bars.csv names an index that is not CSI300/500/1000           exit 3
  lag0-vwap       --lag 0 with VWAP fills (a trade before the close that scored it)   exit 2 (usage)
  lag0-close      --lag 0 --price close without --allow-same-close                    exit 2
  run-lag0        zhizeng run with sim.exec_lag = 0                                   exit 2, nothing written

and what the same market accepts: the complete market, and --lag 0 --price close --allow-same-close.
The market is a tiny hand-made one (three stocks, six days, CSI300 and CSI500 closes: the calendar is the set
of index_bars.csv dates, so a CSI300 close can be missing only where CSI500 has one). Standard library only; exit 77 (skip)
when the binary is missing.
"""
import os, shutil, subprocess, sys, tempfile

DAYS = ["2021-03-01", "2021-03-02", "2021-03-03", "2021-03-04", "2021-03-05", "2021-03-08"]
CODES = ["600000.SH", "600036.SH", "000001.SZ"]


def market(d, drop_close=None, drop_index=False, extra_index=False):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "bars.csv"), "w") as f:
        f.write("date,code,open,high,low,close,volume,amount\n")
        for t, day in enumerate(DAYS):
            for k, c in enumerate(CODES):
                p = 10.0 + k + 0.1 * t
                f.write(f"{day},{c},{p:.2f},{p + 0.2:.2f},{p - 0.2:.2f},{p:.2f},100000,{100000 * p:.2f}\n")
    with open(os.path.join(d, "stocks.csv"), "w") as f:
        f.write("code,name,board,list_date,delist_date\n")
        for c in CODES:
            f.write(f"{c},{c},main,2000-01-04,\n")
    with open(os.path.join(d, "index_weights.csv"), "w") as f:
        f.write("date,index,code,weight\n")
        for c in CODES:
            f.write(f"{DAYS[0]},000300,{c},{1 / 3!r}\n")
    with open(os.path.join(d, "index_bars.csv"), "w") as f:
        f.write("date,index,close\n")
        for t, day in enumerate(DAYS):  # the calendar is the set of index_bars.csv dates: CSI500 keeps it
            f.write(f"{day},000905,{6000 + 10 * t}\n")
            if drop_index or day == drop_close:
                continue
            f.write(f"{day},000300,{4000 + 10 * t}\n")
        if extra_index:
            f.write(f"{DAYS[0]},000001,3500\n")
    with open(os.path.join(d, "targets.csv"), "w") as f:
        f.write("date,code,weight\n")
        for c in CODES:
            f.write(f"{DAYS[1]},{c},{1 / 3!r}\n")
    return d


def expect(zz, name, args, code, must, out):
    r = subprocess.run([zz] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    msg = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if r.returncode != code:
        sys.exit(f"FAIL {name}: exit {r.returncode}, expected {code}: {r.stdout[-2000:]}")
    for m in must:
        if m not in r.stdout:
            sys.exit(f"FAIL {name}: the message does not name '{m}': {msg}")
    if code and out and os.path.exists(out):
        sys.exit(f"FAIL {name}: {out} was written although the command failed")
    print(f"ok {name}: exit {code}: {msg[:160]}")


def main():
    zz = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.access(zz, os.X_OK):
        print(f"SKIP: {zz} is not built")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="zz_refusals_")
    try:
        sim = lambda m, o, *extra: ["simulate", "--market", m, "--targets", os.path.join(m, "targets.csv"), "--out",
                                    o, "--index", "csi300", "--no-cache", *extra]
        ok = market(os.path.join(work, "ok"))
        expect(zz, "complete market", sim(ok, os.path.join(work, "o1")), 0, [], None)
        expect(zz, "lag0-close-allowed", sim(ok, os.path.join(work, "o2"), "--lag", "0", "--price", "close",
                                              "--allow-same-close"), 0, [], None)
        m = market(os.path.join(work, "m1"), drop_close=DAYS[4])
        expect(zz, "missing-close", sim(m, os.path.join(work, "x1")), 3,
               ["index_bars.csv", "csi300", "000300", "2021-03-05"], os.path.join(work, "x1"))
        m = market(os.path.join(work, "m2"), drop_index=True)
        expect(zz, "absent-index", sim(m, os.path.join(work, "x2")), 3, ["index_bars.csv", "000300"],
               os.path.join(work, "x2"))
        m = market(os.path.join(work, "m3"), extra_index=True)
        expect(zz, "unknown-index", sim(m, os.path.join(work, "x3")), 3, ["index_bars.csv", "000001"],
               os.path.join(work, "x3"))
        expect(zz, "lag0-vwap", sim(ok, os.path.join(work, "x4"), "--lag", "0"), 2, ["--lag", "allow-same-close"],
               os.path.join(work, "x4"))
        expect(zz, "lag0-close", sim(ok, os.path.join(work, "x5"), "--lag", "0", "--price", "close"), 2,
               ["sim.exec_lag"], os.path.join(work, "x5"))
        cfg = os.path.join(work, "run.ini")
        out = os.path.join(work, "runout")
        with open(cfg, "w") as f:
            f.write(f"[market]\ndir = {ok}\n[sim]\nexec_lag = 0\n[output]\ndir = {out}\n")
        expect(zz, "run-lag0", ["run", cfg, "--no-progress"], 2, ["sim.exec_lag"], out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
