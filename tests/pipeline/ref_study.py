#!/usr/bin/env python3
"""`zhizeng study` (the hyper-parameter study, docs/pipeline.md) and `zhizeng evaluate --units` (the factor-unit
statistics, docs/reports.md), recomputed independently with numpy/scipy from the files they save.

  setup  a synthetic market (1,900 stocks, 2016-07 .. 2018-01) into WORK/market
  study  a 2 x 2 grid (model.lr x model.lambda) of the multivariate head, one rolling year (2018: validation
         2017); for every setting, from its saved validation.csv (date,code,score,label,f1..fK):
           - the best validation RankIC (study.csv) = the mean over dates of scipy's Spearman(score, label), 1e-9,
             and = the training log's validation RankIC at its best epoch (the dump is the best epoch's model);
           - the units' mutual correlation (study.csv) = numpy: per date np.corrcoef of each pair of units,
             averaged over dates, mean |.| over pairs, 1e-9;
           - stopping / best epoch from the log (first epoch of the maximum; stop = min(epochs, best + patience));
           - curves.csv = the logs; the grid's order (first --vary slowest);
         an unknown --vary key is a usage error (exit 2) naming it
  cache  the same command again trains nothing and writes the same study.csv; a third model.lr value trains
         exactly the 2 new settings
  units  `zhizeng evaluate --units` on a scores file made of a setting's validation rows: each unit's RankIC mean,
         std, IC_IR (scipy Spearman of the unit with the label on every 10th trading day), the share with
         |RankIC mean| > 2 %, the units' mutual correlation (numpy) and the pairs, 1e-9
  report `zhizeng run` (univariate + multivariate, January 2018): the report's factor-unit section
         (report/units_summary.csv, units.csv, unit_correlation.csv) recomputed from the weekly factor units the
         run saves (stages/units-multivariate-*/units.csv) and the market's adjusted closes, 1e-9
"""
import argparse, csv, os, shutil, subprocess, sys

try:
    import numpy as np
    from scipy import stats
except ImportError as e:
    print(f"SKIP: numpy/scipy not available ({e})")
    sys.exit(77)

CONFIG = """[market]
dir = {market}
[model]
heads = multivariate
hidden = 4
outputs = 4
seq = 5
epochs = 4
patience = 2
seeds = 1
train_years = 1
day_stride = 10
threads = 1
[backtest]
first_year = 2018
last_year = 2018
[output]
dir = {work}/unused
"""
EPOCHS, PATIENCE = 4, 2
TOL = 1e-9


def run(cmd, expect=0):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != expect:
        print(r.stdout[-4000:])
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}, expected {expect}")
    return r.stdout


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def num(s):
    return float(s) if s != "" else float("nan")


def check(name, got, want, tol=TOL):
    if not (abs(got - want) <= tol):
        sys.exit(f"FAIL: {name}: got {got!r}, want {want!r}")


def units_corr(dates, U):
    """The units' mutual correlation of docs/model.md: U rows x K, dates per row."""
    K = U.shape[1]
    sums, cnt = np.zeros((K, K)), np.zeros((K, K))
    for d in np.unique(dates):
        X = U[dates == d]
        X = X[np.all(np.isfinite(X), axis=1)]
        if len(X) < 2:
            continue
        C = np.corrcoef(X, rowvar=False)
        for a in range(K):
            for b in range(a + 1, K):
                if np.all(X[:, a] == X[0, a]) or np.all(X[:, b] == X[0, b]):
                    continue
                sums[a, b] += C[a, b]
                cnt[a, b] += 1
    pairs = [(a, b) for a in range(K) for b in range(a + 1, K) if cnt[a, b]]
    P = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
    return np.mean([abs(P[a, b]) for a, b in pairs]), P


def load_validation(path):
    rows = read_csv(path)
    K = sum(1 for c in rows[0] if c[0] == "f" and c[1:].isdigit())
    dates = np.array([r["date"] for r in rows])
    score = np.array([float(r["score"]) for r in rows])
    label = np.array([float(r["label"]) for r in rows])
    U = np.array([[float(r[f"f{k + 1}"]) for k in range(K)] for r in rows]) if K else np.zeros((len(rows), 0))
    return rows, dates, score, label, U


def study_cmd(a, values_lr="1e-3,1e-2"):
    cfg = os.path.join(a.work, "study.ini")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(market=os.path.join(a.work, "market"), work=a.work))
    return [a.zhizeng, "study", cfg, "--vary", f"model.lr={values_lr}", "--vary", "model.lambda=0.1,10",
            "--out", os.path.join(a.work, "study"), "--no-progress"]


def setup(a):
    if os.path.isdir(a.work):
        shutil.rmtree(a.work)
    os.makedirs(a.work)
    run([a.zhizeng, "synth", "--out", os.path.join(a.work, "market"), "--stocks", "1900", "--start", "2016-07-01",
         "--end", "2018-01-31", "--seed", "5"])
    print("setup: ok")


def study(a):
    out = os.path.join(a.work, "study")
    if os.path.isdir(out):
        shutil.rmtree(out)
    log = run(study_cmd(a))
    tab = read_csv(os.path.join(out, "study.csv"))
    if [(r["model.lr"], r["model.lambda"]) for r in tab] != [("1e-3", "0.1"), ("1e-3", "10"), ("1e-2", "0.1"),
                                                            ("1e-2", "10")]:
        sys.exit(f"FAIL: grid order {[(r['model.lr'], r['model.lambda']) for r in tab]}")
    curves = read_csv(os.path.join(out, "curves.csv"))
    for r in tab:
        sd = os.path.join(out, r["stage"])
        rows, dates, score, label, U = load_validation(os.path.join(sd, "validation.csv"))
        ics = []
        for d in np.unique(dates):
            m = dates == d
            if m.sum() >= 2:
                v = stats.spearmanr(score[m], label[m])[0]
                if np.isfinite(v):
                    ics.append(v)
        want = float(np.mean(ics))
        check(f"setting {r['setting']}: best validation RankIC", num(r["best_val_rankic"]), want)
        lg = read_csv(os.path.join(sd, "Y2018_seed0.log.csv"))
        vic = [num(x["val_rankic"]) for x in lg]
        best = 0
        for e in range(1, len(vic)):
            if vic[e] > vic[best]:
                best = e
        check(f"setting {r['setting']}: RankIC of the saved scores vs the log's best epoch", want, vic[best], 1e-12)
        if int(r["best_epoch"]) != best + 1 or int(r["stop_epoch"]) != len(lg) or \
                len(lg) != min(EPOCHS, best + 1 + PATIENCE):
            sys.exit(f"FAIL: setting {r['setting']}: epochs best {r['best_epoch']} stop {r['stop_epoch']}, log "
                     f"{len(lg)} rows, best {best + 1}")
        if U.shape[1] != 4 or int(r["units"]) != 4:
            sys.exit(f"FAIL: setting {r['setting']}: {U.shape[1]} unit columns")
        mc, _ = units_corr(dates, U)
        check(f"setting {r['setting']}: units' mutual correlation", num(r["units_corr"]), mc)
        if int(r["val_days"]) != len(np.unique(dates)) or int(r["val_rows"]) != len(rows):
            sys.exit(f"FAIL: setting {r['setting']}: validation days / rows")
        mine = [c for c in curves if c["setting"] == r["setting"]]
        if [(num(c["train_loss"]), num(c["val_rankic"])) for c in mine] != \
                [(num(x["train_loss"]), num(x["val_rankic"])) for x in lg]:
            sys.exit(f"FAIL: setting {r['setting']}: curves.csv differs from the training log")
        print(f"setting {r['setting']} (lr {r['model.lr']}, lambda {r['model.lambda']}): stop {r['stop_epoch']}, "
              f"best {r['best_epoch']}, RankIC {want:.6f}, units' correlation {mc:.6f} over {len(rows)} rows: ok")
    if len({r["units_corr"] for r in tab}) < 2:
        sys.exit("FAIL: every setting has the same units' correlation (lambda changes nothing?)")
    html = open(os.path.join(out, "study.html")).read()
    for id_ in ("study_loss", "study_rankic"):
        if f'id="{id_}"' not in html:
            sys.exit(f"FAIL: study.html has no chart {id_}")
    # an unknown key: a usage error naming it
    bad = run([a.zhizeng, "study", os.path.join(a.work, "study.ini"), "--vary", "model.nope=1,2"], expect=2)
    if "model.nope" not in bad:
        sys.exit(f"FAIL: the unknown key is not named: {bad}")
    bad = run([a.zhizeng, "study", os.path.join(a.work, "study.ini"), "--vary", "model.lr=1e-3,abc"], expect=2)
    print("study: ok")


def cache(a):
    out = os.path.join(a.work, "study")
    before = open(os.path.join(out, "study.csv")).read()
    log = run(study_cmd(a))
    if "training year" in log or log.count("cached:") != 4:
        sys.exit(f"FAIL: a rerun trained again:\n{log[-3000:]}")
    if open(os.path.join(out, "study.csv")).read() != before:
        sys.exit("FAIL: the cached rerun wrote a different study.csv")
    log = run(study_cmd(a, "1e-3,1e-2,5e-3"))
    if log.count("training year") != 2 or log.count("cached:") != 4:
        sys.exit(f"FAIL: a third lr value should train exactly 2 settings:\n{log[-3000:]}")
    tab = read_csv(os.path.join(out, "study.csv"))
    if len(tab) != 6 or open(os.path.join(out, "study.csv")).read().splitlines()[1:5] != before.splitlines()[1:5]:
        sys.exit("FAIL: the extended grid's first 4 rows differ from the first run's")
    print("cache: ok")


def units(a):
    out = os.path.join(a.work, "study")
    tab = read_csv(os.path.join(out, "study.csv"))
    rows, dates, score, label, U = load_validation(os.path.join(out, tab[0]["stage"], "validation.csv"))
    K = U.shape[1]
    scores = os.path.join(a.work, "unit_scores.csv")
    with open(scores, "w") as f:
        f.write("date,code,score," + ",".join(f"f{k + 1}" for k in range(K)) + "\n")
        for r in rows:
            f.write(",".join([r["date"], r["code"], r["score"]] + [r[f"f{k + 1}"] for k in range(K)]) + "\n")
    ev = os.path.join(a.work, "evaluate_units")
    run([a.zhizeng, "evaluate", "--market", os.path.join(a.work, "market"), "--scores", scores, "--units",
         "--keep-st", "--min-listed-days", "0", "--out", ev])
    # the validation dates are every 10th trading day (model.day_stride 10): each is a RankIC sampling date
    cal = sorted({r["date"] for r in read_csv(os.path.join(a.work, "market", "index_bars.csv"))})
    ud = sorted(set(dates))
    pos = [cal.index(d) for d in ud]
    if any(q - p != 10 for p, q in zip(pos, pos[1:])):
        sys.exit("FAIL: validation dates are not 10 trading days apart")
    got = {r["unit"]: r for r in read_csv(os.path.join(ev, "units.csv"))}
    means, irs = [], []
    for k in range(K):
        ics = []
        for d in ud:
            m = dates == d
            ics.append(stats.spearmanr(U[m, k], label[m])[0])
        ics = np.array(ics)
        mean, sd = ics.mean(), ics.std(ddof=1)
        g = got[f"f{k + 1}"]
        check(f"f{k + 1} RankIC mean", num(g["rankic_mean"]), mean)
        check(f"f{k + 1} RankIC std", num(g["rankic_std"]), sd)
        check(f"f{k + 1} IC_IR", num(g["ic_ir"]), mean / sd)
        if int(g["n_ic"]) != len(ud):
            sys.exit(f"FAIL: f{k + 1}: {g['n_ic']} RankIC dates, expected {len(ud)}")
        means.append(mean), irs.append(mean / sd)
    summ = read_csv(os.path.join(ev, "units_summary.csv"))[0]
    mc, P = units_corr(dates, U)
    check("share |RankIC| > 2 %", num(summ["share_abs_rankic_above_2pct"]), np.mean(np.abs(means) > 0.02))
    check("mean RankIC of the units", num(summ["rankic_mean_avg"]), np.mean(means))
    check("mean IC_IR of the units", num(summ["ic_ir_avg"]), np.mean(irs))
    check("units' mutual correlation", num(summ["mutual_corr"]), mc)
    for r in read_csv(os.path.join(ev, "unit_correlation.csv")):
        a_, b_ = int(r["unit_a"][1:]) - 1, int(r["unit_b"][1:]) - 1
        check(f"pair {r['unit_a']},{r['unit_b']}", num(r["mean_pearson"]), P[a_, b_])
    # the same number as the study's table for that setting
    check("evaluate --units vs study.csv units_corr", num(summ["mutual_corr"]), num(tab[0]["units_corr"]), 1e-12)
    html = open(os.path.join(ev, "report.html")).read()
    if 'id="unit_ic_hist0"' not in html or 'id="unit_icir_hist0"' not in html:
        sys.exit("FAIL: report.html lacks the units' histograms")
    print(f"units: {K} units, RankIC means {np.round(means, 4)}, mutual correlation {mc:.6f}: ok")


RUN_CONFIG = """[market]
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
first_year = 2018
last_year = 2018
end_date = 2018-01-31
[optimizer]
indices = csi300
floors = 0
workers = 2
[output]
dir = {out}
"""


def report(a):
    import glob
    out = os.path.join(a.work, "run")
    if os.path.isdir(out):
        shutil.rmtree(out)
    cfg = os.path.join(a.work, "run.ini")
    with open(cfg, "w") as f:
        f.write(RUN_CONFIG.format(market=os.path.join(a.work, "market"), out=out))
    run([a.zhizeng, "run", cfg, "--no-progress"])
    st = glob.glob(os.path.join(out, "stages", "units-multivariate-*", "units.csv"))
    if len(st) != 1:
        sys.exit(f"FAIL: expected one units stage, found {st}")
    rows = [r for r in read_csv(st[0]) if r["date"] <= "2018-01-31"]
    K = sum(1 for c in rows[0] if c[0] == "f" and c[1:].isdigit())
    dates = np.array([r["date"] for r in rows])
    U = np.array([[float(r[f"f{k + 1}"]) for k in range(K)] for r in rows])
    cal = sorted({r["date"] for r in read_csv(os.path.join(a.work, "market", "index_bars.csv"))})
    ci = {d: k for k, d in enumerate(cal)}
    C = {}
    with open(os.path.join(a.work, "market", "bars.csv")) as f:
        for r in csv.DictReader(f):
            if r["date"] >= "2017-12-01" and r["close"]:
                C[(r["date"], r["code"])] = float(r["close"]) * float(r["adj_factor"] or 1)
    ud = sorted(set(dates))
    sd, last = [], None
    for d in ud:
        if last is None or ci[d] - ci[last] >= 10:
            sd.append(d)
            last = d
    codes = np.array([r["code"] for r in rows])
    got = {r["unit"]: r for r in read_csv(os.path.join(out, "report", "units.csv"))}
    means = []
    for k in range(K):
        ics = []
        for d in sd:
            t = ci[d]
            if t + 11 >= len(cal):
                break
            m = dates == d
            x, y = [], []
            for v, c in zip(U[m, k], codes[m]):
                a1, a2 = C.get((cal[t + 1], c)), C.get((cal[t + 11], c))
                if a1 is not None and a2 is not None:
                    x.append(v), y.append(a2 / a1 - 1)
            if len(x) >= 10:
                ics.append(stats.spearmanr(x, y)[0])
        ics = np.array(ics)
        g = got[f"f{k + 1}"]
        check(f"run report f{k + 1} RankIC mean", num(g["rankic_mean"]), ics.mean())
        if len(ics) > 1:
            check(f"run report f{k + 1} IC_IR", num(g["ic_ir"]), ics.mean() / ics.std(ddof=1))
        if int(g["n_ic"]) != len(ics):
            sys.exit(f"FAIL: run report f{k + 1}: {g['n_ic']} RankIC dates, expected {len(ics)}")
        means.append(ics.mean())
    summ = read_csv(os.path.join(out, "report", "units_summary.csv"))
    if len(summ) != 1 or summ[0]["model"] != "multivariate":
        sys.exit(f"FAIL: units_summary.csv rows {summ}")
    mc, P = units_corr(dates, U)
    check("run report units' mutual correlation", num(summ[0]["mutual_corr"]), mc)
    check("run report share |RankIC| > 2 %", num(summ[0]["share_abs_rankic_above_2pct"]), np.mean(np.abs(means) > 0.02))
    for r in read_csv(os.path.join(out, "report", "unit_correlation.csv")):
        check(f"run report pair {r['unit_a']},{r['unit_b']}", num(r["mean_pearson"]),
              P[int(r["unit_a"][1:]) - 1, int(r["unit_b"][1:]) - 1])
    html = open(os.path.join(out, "report", "report.html")).read()
    if 'id="unit_ic_hist0"' not in html or "Factor units of the multivariate model" not in html:
        sys.exit("FAIL: report.html lacks the factor-unit section")
    print(f"report: {K} units on {len(ud)} weekly dates ({len(sd)} RankIC dates), mutual correlation {mc:.6f}: ok")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["setup", "study", "cache", "units", "report"])
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    if not os.access(a.zhizeng, os.X_OK):
        print(f"SKIP: {a.zhizeng} is not built")
        sys.exit(77)
    {"setup": setup, "study": study, "cache": cache, "units": units, "report": report}[a.mode](a)


if __name__ == "__main__":
    main()
