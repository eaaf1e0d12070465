#!/usr/bin/env python3
"""`zhizeng run` with [topn] enabled on the tiny configuration of ref_pipeline.py (a copy of run A of the
pipeline_setup fixture, so every earlier stage is cached): one top-N stage per (head, N); each equals
`zhizeng topn` run by hand on the same market with that head's scores.csv and the same options (targets.csv,
nav.csv, trades.csv, positions.csv and summary.csv byte for byte: the stage passes the right scores, dates,
universe, screen and the seed004 costs); the earlier stages were not recomputed; the report has
topn_yearly.csv, topn_summary.csv (a row per head and N) and a Top-N section with its NAV chart. The algorithm
itself is checked against an independent reference by ref_topn.py (pipeline_topn).
usage: ref_pipe_topn.py --zhizeng PATH --work DIR (the pipeline_setup fixture's work directory)
"""
import csv, glob, os, shutil, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_pipeline  # noqa: E402  (the tiny configuration)


def one_stage(out, name):
    d = [p for p in glob.glob(os.path.join(out, "stages", name + "-*")) if len(p.rsplit("-", 1)[1]) == 16
         and p.rsplit("-", 1)[0].endswith(name)]
    if len(d) != 1 or not os.path.isfile(os.path.join(d[0], "DONE")):
        sys.exit(f"FAIL: expected one finished stage {name}-<hash>, found {d}")
    return d[0]


def main():
    a = ref_pipeline.parse_args()
    out = ref_pipeline.fixture_run_copy(a.work, "run_topn")
    market = os.path.join(a.work, "market")
    cfg = os.path.join(a.work, "run_topn.ini")
    text = ref_pipeline.CONFIG.format(market=market, out=out)
    text += "[topn]\nenabled = 1\nn = 5,10\nrebalance = weekly\n"
    with open(cfg, "w") as f:
        f.write(text)
    log = ref_pipeline.run([a.zhizeng, "run", cfg, "--no-progress"])
    print(log[-1500:])
    with open(os.path.join(out, "report", "timings.csv")) as f:
        for row in csv.DictReader(f):
            st = row["stage"]
            if st in ("total", "report") or st.startswith("top-N"):
                continue
            if row["cached"] != "1":
                sys.exit(f"FAIL: stage {st} was recomputed; only the top-N runs should be")
    bad = 0
    for head in ("univariate", "multivariate"):
        scores = os.path.join(one_stage(out, f"scores-{head}"), "scores.csv")
        for n in (5, 10):
            stage = one_stage(out, f"topn-{head}-top{n}")
            hand = os.path.join(a.work, f"topn_hand_{head}")
            if os.path.isdir(hand):
                shutil.rmtree(hand)
            ref_pipeline.run([a.zhizeng, "topn", "--market", market, "--scores", scores, "--out", hand,
                              "--universe", "csi300", "--n", str(n), "--rebalance", "weekly",
                              "--start", "2019-01-01", "--end", "2019-03-29"])
            for fn in ("targets.csv", "nav.csv", "trades.csv", "summary.csv", "positions.csv"):
                x = open(os.path.join(stage, fn)).read()
                y = open(os.path.join(hand, f"top{n}", fn)).read()
                if x != y:
                    print(f"FAIL {head} top{n}: {fn} differs from zhizeng topn's")
                    bad += 1
            with open(os.path.join(stage, "targets.csv")) as f:
                rows = list(csv.DictReader(f))
            dates = sorted({r["date"] for r in rows})
            if not rows or any(abs(float(r["weight"]) - 1.0 / n) > 1e-15 for r in rows):
                print(f"FAIL {head} top{n}: targets are not 1/{n} each")
                bad += 1
            print(f"{head} top{n}: {len(dates)} weekly rebalances, {len(rows)} target rows; equal to zhizeng topn")
    with open(os.path.join(out, "report", "topn_summary.csv")) as f:
        runs = [r["run"] for r in csv.DictReader(f)]
    if runs != ["univariate/top5", "univariate/top10", "multivariate/top5", "multivariate/top10"]:
        print(f"FAIL: topn_summary.csv runs {runs}")
        bad += 1
    md = open(os.path.join(out, "report", "report.md")).read()
    html = open(os.path.join(out, "report", "report.html")).read()
    if "Top-N strategy, univariate score" not in md or "topn_nav_multivariate" not in html:
        print("FAIL: the report has no Top-N section / NAV chart")
        bad += 1
    if not os.path.getsize(os.path.join(out, "report", "topn_yearly.csv")):
        print("FAIL: empty topn_yearly.csv")
        bad += 1
    print(f"{bad} failures")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
