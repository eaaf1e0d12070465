#!/usr/bin/env python3
"""`zhizeng run` with model.heads = univariate,class3 (issue 15 item 1) on the tiny configuration of
ref_pipeline.py, rank labels and class weights, on a copy of the pipeline_setup fixture's synthetic market.

Checks:
  - one training and one score stage for class3 beside univariate's; its model exports as safetensors with
    head=class3, outputs 3 and the configured class_weights;
  - the class3 scores.csv carries p_down,p_neutral,p_up (probabilities summing to 1), and its score is the
    per-date z-score of p_up - p_down (one seed), recomputed here;
  - report/class3.csv: per year and overall, n = the confusion matrix's total, accuracy = its diagonal share,
    precision / recall = its column / row shares; the rank labels' true classes hold about 30 % / 40 % / 30 %;
    the predicted classes never exceed the argmax counts of the scores file; report.md has the two tables;
  - report/factor_tables.csv has the RankIC of class3 beside univariate's and the oracle's (printed).
Only the Python standard library is needed.
usage: ref_pipe_class3.py --zhizeng PATH --work DIR (the pipeline_setup fixture's work directory)
"""
import csv, json, math, os, shutil, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_pipeline  # noqa: E402  (the tiny configuration)
from ref_pipe_datasets import one_stage  # noqa: E402

CLS = ("down", "neutral", "up")
WEIGHTS = "1.5,0.75,1.25"


def st_meta(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)).get("__metadata__", {})


def main():
    a = ref_pipeline.parse_args()
    market = ref_pipeline.fixture_market(a.work, "market_c3")
    out = os.path.join(a.work, "run_c3")
    if os.path.isdir(out):
        shutil.rmtree(out)
    cfg = os.path.join(a.work, "run_c3.ini")
    text = ref_pipeline.CONFIG.format(market=market, out=out)
    text = text.replace("heads = univariate,multivariate", "heads = univariate,class3")
    text = text.replace("[model]\n", f"[model]\nclass_label = rank\nclass_weights = {WEIGHTS}\n")
    text = text.replace("floors = 0.8,0", "floors = 0")
    with open(cfg, "w") as f:
        f.write(text)
    log = ref_pipeline.run([a.zhizeng, "run", cfg, "--no-progress"])
    print(log[-800:])
    bad = []

    # stages and the model file
    tdir = one_stage(out, "class3")
    one_stage(out, "univariate")
    model = os.path.join(tdir, "Y2019_seed0.zzm")
    st = os.path.join(a.work, "class3.safetensors")
    ref_pipeline.run([a.zhizeng, "model", "export", "--model", model, "--out", st])
    meta = st_meta(st)
    if meta.get("head") != "class3" or meta.get("outputs") != "3" or \
            [float(v) for v in meta.get("class_weights", "0,0,0").split(",")] != [float(v) for v in WEIGHTS.split(",")]:
        bad.append(f"exported class3 model metadata {meta}")

    # the scores: probabilities and score = z-score of p_up - p_down
    sdir = one_stage(out, "scores-class3")
    by_date, rows = {}, 0
    with open(os.path.join(sdir, "scores.csv")) as f:
        r = csv.DictReader(f)
        if r.fieldnames != ["date", "code", "score", "p_down", "p_neutral", "p_up"]:
            bad.append(f"class3 scores.csv columns {r.fieldnames}")
        for row in r:
            p = [float(row["p_" + c]) for c in CLS]
            if abs(sum(p) - 1) > 1e-9 or min(p) < 0:
                bad.append(f"probabilities of {row['date']} {row['code']} do not sum to 1: {p}")
                break
            by_date.setdefault(row["date"], []).append((float(row["score"]), p))
            rows += 1
    worst = 0.0
    for d, lst in by_date.items():
        v = [p[2] - p[0] for _, p in lst]
        m = sum(v) / len(v)
        sd = math.sqrt(sum((x - m) ** 2 for x in v) / len(v))
        for (s, _), x in zip(lst, v):
            worst = max(worst, abs(s - ((x - m) / sd if sd > 0 else 0.0)))
    if worst > 1e-4:
        bad.append(f"score differs from the z-scored P(up) - P(down) by up to {worst:.3g}")
    print(f"class3 scores: {rows} rows, score vs z-score of p_up - p_down: max |diff| {worst:.2e}")

    # report/class3.csv: internal consistency and the rank labels' class shares
    first, last = "2019-01-01", "2019-03-29"
    argmax = [0, 0, 0]
    for d, lst in by_date.items():
        if first <= d <= last:
            for _, p in lst:
                argmax[max(range(3), key=lambda k: (p[k], -k))] += 1
    with open(os.path.join(out, "report", "class3.csv")) as f:
        recs = list(csv.DictReader(f))
    if [r["year"] for r in recs] != ["2019", "all"]:
        bad.append(f"class3.csv years {[r['year'] for r in recs]}")
    for r in recs:
        n = [[int(r[f"n_{t}_{q}"]) for q in CLS] for t in CLS]
        tot = sum(map(sum, n))
        if tot != int(r["n"]) or tot < 1000:
            bad.append(f"{r['year']}: n {r['n']} vs confusion total {tot}")
            continue

        def close(field, want):
            got = r[field]
            if (want is None) != (got == "") or (want is not None and abs(float(got) - want) > 1e-9):
                bad.append(f"{r['year']}: {field} {got!r}, from the confusion matrix {want}")

        close("accuracy", sum(n[k][k] for k in range(3)) / tot)
        for k, c in enumerate(CLS):
            col, row = sum(n[t][k] for t in range(3)), sum(n[k])
            close(f"precision_{c}", n[k][k] / col if col else None)
            close(f"recall_{c}", n[k][k] / row if row else None)
            if sum(n[t][k] for t in range(3)) > argmax[k]:
                bad.append(f"{r['year']}: {col} stock-days predicted {c}, the scores' argmax has only {argmax[k]}")
        share = [sum(n[k]) / tot for k in range(3)]
        if not (0.26 <= share[0] <= 0.31 and 0.26 <= share[2] <= 0.31):
            bad.append(f"{r['year']}: rank labels (top / bottom 30 %) give true-class shares {share}")
        print(f"class3 {r['year']}: n {tot}, accuracy {float(r['accuracy']):.3f}, true shares "
              f"{', '.join(f'{s:.3f}' for s in share)}, RankIC {r['rankic_mean']}")
    with open(os.path.join(out, "report", "report.md")) as f:
        md = f.read()
    for cap in ("class3: accuracy, precision and recall per class, RankIC, by year",
                "class3: confusion matrix (stock-days, rows the true class), by year"):
        if cap not in md:
            bad.append(f"report.md lacks the table '{cap}'")

    # the RankIC beside the univariate GRU's and the oracle's
    with open(os.path.join(out, "report", "factor_tables.csv")) as f:
        ft = {r["score"]: r for r in csv.DictReader(f) if r["universe"] == "CSI All"}
    for name in ("univariate", "class3", "oracle (ceiling)"):
        if name not in ft:
            bad.append(f"factor_tables.csv has no CSI All row for {name}")
    print("RankIC on CSI All: " + ", ".join(f"{k} {ft[k]['rankic_mean']}" for k in ft))
    for b in bad:
        print("FAIL:", b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
