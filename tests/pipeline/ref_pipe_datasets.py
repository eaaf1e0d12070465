#!/usr/bin/env python3
"""`zhizeng run` with two datasets (model.datasets = day,extra) on the tiny configuration of
ref_pipeline.py (SPEC 3, 4: "Per-dataset scores are z-scored per date and averaged with equal weights").

Copies the synthetic market of the pipeline_setup fixture, writes features/extra.csv into the copy (two
columns derived from the bars plus noise: the close relative to the open, the log volume; about 15 % of
the rows left out, so that some stocks are scored by one dataset only), runs the pipeline, and checks:
  - one training and one score stage per (head, dataset), and the head's final score stage;
  - the final scores equal an independent recomputation from the two per-dataset score files: per date,
    each dataset's scores z-scored over the stocks it scores (mean, population std), then the mean over
    the datasets that score the stock; to 1e-12, on exactly the union of the scored stock-days;
  - stock-days scored by only one dataset exist (so the "mean of the datasets it has" rule is exercised);
  - the report's factor tables carry a row per (head, dataset).
Only the Python standard library is needed.
usage: ref_pipe_datasets.py --zhizeng PATH --work DIR (the pipeline_setup fixture's work directory)
"""
import csv, glob, math, os, random, shutil, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_pipeline  # noqa: E402  (the tiny configuration)


def write_features(market):
    rng = random.Random(5)
    os.makedirs(os.path.join(market, "features"), exist_ok=True)
    with open(os.path.join(market, "bars.csv")) as f, \
            open(os.path.join(market, "features", "extra.csv"), "w") as g:
        r = csv.DictReader(f)
        g.write("date,code,close_open,log_volume\n")
        for row in r:
            if rng.random() < 0.15:
                continue
            try:
                o, c, v = float(row["open"]), float(row["close"]), float(row["volume"])
            except ValueError:
                continue
            if o <= 0 or v <= 0:
                continue
            g.write("%s,%s,%.6g,%.6g\n" % (row["date"], row["code"], c / o - 1 + rng.gauss(0, 0.01),
                                            math.log(v) + rng.gauss(0, 0.2)))


def read_scores(path):
    res = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            res.setdefault(row["date"], {})[row["code"]] = float(row["score"])
    return res


def one_stage(out, name):
    d = [p for p in glob.glob(os.path.join(out, "stages", name + "-*")) if p.rsplit("-", 1)[0].endswith(name)
         and len(p.rsplit("-", 1)[1]) == 16]
    if len(d) != 1 or not os.path.isfile(os.path.join(d[0], "DONE")):
        sys.exit(f"FAIL: expected one finished stage {name}-<hash>, found {d}")
    return d[0]


def main():
    a = ref_pipeline.parse_args()
    market = ref_pipeline.fixture_market(a.work, "market_ds")
    write_features(market)
    out = os.path.join(a.work, "run_ds")
    if os.path.isdir(out):
        shutil.rmtree(out)
    cfg = os.path.join(a.work, "run_ds.ini")
    text = ref_pipeline.CONFIG.format(market=market, out=out)
    text = text.replace("[model]\n", "[model]\ndatasets = day, extra\n").replace("floors = 0.8,0", "floors = 0")
    with open(cfg, "w") as f:
        f.write(text)
    log = ref_pipeline.run([a.zhizeng, "run", cfg, "--no-progress"])
    print(log[-1200:])
    bad = 0
    n_single = 0
    for head in ("univariate", "multivariate"):
        for ds in ("day", "extra"):
            one_stage(out, f"{head}-{ds}")
        s = {ds: read_scores(os.path.join(one_stage(out, f"scores-{head}-{ds}"), "scores.csv"))
             for ds in ("day", "extra")}
        got = read_scores(os.path.join(one_stage(out, f"scores-{head}"), "scores.csv"))
        ref = {}
        for ds in ("day", "extra"):
            for date, row in s[ds].items():
                n = len(row)
                m = sum(row.values()) / n
                sd = math.sqrt(sum((v - m) ** 2 for v in row.values()) / n)
                for code, v in row.items():
                    ref.setdefault(date, {}).setdefault(code, []).append((v - m) / sd if sd > 0 else 0.0)
        keys_ref = {(d, c) for d, r in ref.items() for c in r}
        keys_got = {(d, c) for d, r in got.items() for c in r}
        if keys_ref != keys_got:
            print(f"FAIL {head}: scored stock-days differ: {len(keys_got - keys_ref)} only in the run, "
                  f"{len(keys_ref - keys_got)} only in the recomputation")
            bad += 1
        worst = 0.0
        for d, c in keys_ref & keys_got:
            z = ref[d][c]
            worst = max(worst, abs(got[d][c] - sum(z) / len(z)))
            n_single += len(z) == 1
        if worst > 1e-12:
            print(f"FAIL {head}: combined score differs from the recomputation by up to {worst:.3g}")
            bad += 1
        print(f"{head}: {len(keys_got)} combined scores, max |diff| {worst:.3g}")
    if n_single == 0:
        print("FAIL: no stock-day is scored by one dataset only; the test does not exercise that rule")
        bad += 1
    with open(os.path.join(out, "report", "factor_tables.csv")) as f:
        names = {row["score"] for row in csv.DictReader(f)}
    for head in ("univariate", "multivariate"):
        for ds in ("day", "extra"):
            if f"{head} (dataset {ds})" not in names:
                print(f"FAIL: report/factor_tables.csv has no row for {head} (dataset {ds}) (has {sorted(names)})")
                bad += 1
    print(f"{n_single} stock-days scored by one dataset only; {bad} failures")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
