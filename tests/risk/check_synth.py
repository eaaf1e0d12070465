#!/usr/bin/env python3
"""Risk model on the synthetic market (zhizeng synth), against its known truth:
 1. estimated daily factor returns vs truth/factor_returns.csv: correlation >= 0.95 for size, momentum
    and every industry (after the 525-day momentum warm-up). Industry returns are identified only up
    to a common daily shift (country + industries are collinear: the model pins it with the cap-weighted
    constraint, the truth draws industries freely and adds a separate country), so both sides are
    compared net of their cross-industry mean of the day;
 2. bias statistics std(realised monthly return / predicted monthly volatility) for 100 random long-only
    portfolios and 100 random active portfolios against CSI500: the median must lie in [0.8, 1.2];
    the distribution is printed.
usage: check_synth.py --zhizeng BIN [--market DIR] [--work DIR] [--risk-out DIR]
       [--stocks N --start DATE --end DATE --seed S]   (the market generated when --market is not given)"""
import argparse, array, bisect, csv, os, subprocess, sys, tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--zhizeng", required=True)
ap.add_argument("--market")
ap.add_argument("--work")
ap.add_argument("--risk-out", help="read this finished 'zhizeng risk --dates monthly|weekly' output instead of "
                                   "running it")
ap.add_argument("--stocks", default="1900")
ap.add_argument("--start", default="2016-01-01")
ap.add_argument("--end", default="2019-12-31")
ap.add_argument("--seed", default="3")
ap.add_argument("--oracle-paths", default="1", help="synth's Monte Carlo oracle (not used here): 1 = fastest")
args = ap.parse_args()
tmpobj = None
work = args.work
if not work:
    tmpobj = tempfile.TemporaryDirectory()
    work = tmpobj.name
market = args.market or os.path.join(work, "mkt")
if not args.market:
    subprocess.run([args.zhizeng, "synth", "--out", market, "--stocks", args.stocks, "--start", args.start,
                    "--end", args.end, "--seed", args.seed, "--oracle-paths", args.oracle_paths], check=True, stdout=subprocess.DEVNULL)
out = args.risk_out or os.path.join(work, "risk")
if not args.risk_out:
    subprocess.run([args.zhizeng, "risk", "--market", market, "--out", out, "--dates", "monthly"], check=True)


def read_table(path):
    with open(path) as f:
        r = csv.reader(f)
        hdr = next(r)
        return hdr, [row for row in r]


# ------------------------------------------------------------------ 1. factor returns vs truth
th, trows = read_table(os.path.join(market, "truth", "factor_returns.csv"))
eh, erows = read_table(os.path.join(out, "factor_returns.csv"))
truth = {row[0]: row for row in trows}
all_dates = [row[0] for row in trows]
warm = all_dates[min(525, len(all_dates) - 1)]
common = [row for row in erows if row[0] in truth and row[0] >= warm]
ok1 = True
cors = {}
missing = [name for name in th[1:] if name not in eh]
for name in missing:
    print("factor %s of the truth is missing from the model's factor_returns.csv" % name)
    ok1 = False
est = {name: np.array([float(row[eh.index(name)]) for row in common]) for name in th[1:] if name in eh}
tru = {name: np.array([float(truth[row[0]][th.index(name)]) for row in common]) for name in th[1:]}
industries = [name for name in th[1:] if name not in ("country", "size", "momentum")]
if industries and not missing:
    em = np.mean([est[name] for name in industries], axis=0)
    tm = np.mean([tru[name] for name in industries], axis=0)
    for name in industries:
        est[name] = est[name] - em
        tru[name] = tru[name] - tm
for name in est:
    cors[name] = float(np.corrcoef(est[name], tru[name])[0, 1])
checked = [n for n in cors if n != "country"]
bad = [n for n in checked if not cors[n] >= 0.95]
print("factor-return correlation with the truth over %d days from %s:" % (len(common), warm))
for n in th[1:]:
    if n in cors:
        print("  %-20s %.4f%s" % (n, cors[n], "" if n == "country" else ("  < 0.95" if n in bad else "")))
if bad:
    ok1 = False

# ------------------------------------------------------------------ 2. bias statistics
# adjusted closes, streamed (a default-size market has millions of rows)
di, si, dates, codes = {}, {}, [], []
b_t, b_i, b_p = array.array("i"), array.array("i"), array.array("d")
with open(os.path.join(market, "bars.csv")) as f:
    r = csv.reader(f)
    bh = next(r)
    ci, ki, xi, ai = bh.index("date"), bh.index("code"), bh.index("close"), bh.index("adj_factor")
    for row in r:
        d, c = row[ci], row[ki]
        t = di.get(d)
        if t is None:
            t = di[d] = len(dates); dates.append(d)
        i = si.get(c)
        if i is None:
            i = si[c] = len(codes); codes.append(c)
        b_t.append(t); b_i.append(i); b_p.append(float(row[xi]) * (float(row[ai]) if row[ai] else 1.0))
order = sorted(range(len(dates)), key=lambda k: dates[k])   # bars.csv is date-sorted; be safe
rank = np.empty(len(dates), int); rank[order] = np.arange(len(dates))
dates = [dates[k] for k in order]
di = {d: k for k, d in enumerate(dates)}
px = np.full((len(dates), len(codes)), np.nan)
px[rank[np.frombuffer(b_t, dtype=np.int32)], np.frombuffer(b_i, dtype=np.int32)] = np.frombuffer(b_p)
del b_t, b_i, b_p
# forward fill (suspensions, delisting: the last price holds)
for t in range(1, len(dates)):
    m = np.isnan(px[t])
    px[t, m] = px[t - 1, m]

xh, xrows = read_table(os.path.join(out, "exposures.csv"))
styles = xh[3:]
fh, frows = read_table(os.path.join(out, "factor_cov.csv"))
factors = fh[2:]
sh_, srows = read_table(os.path.join(out, "specific_var.csv"))
cov_dates = sorted(set(r[0] for r in frows))
# month-end output dates with a covariance, one year after the start (styles warmed up)
by_month = {}
for d in cov_dates:
    by_month[d[:7]] = d
month_ends = sorted(by_month.values())
month_ends = [d for d in month_ends if d >= all_dates[min(252, len(all_dates) - 1)]]

iw_h, iw_rows = read_table(os.path.join(market, "index_weights.csv"))
snap = {}
for r in iw_rows:
    idx = r[iw_h.index("index")]
    if idx not in ("000905", "000905.SH", "csi500"):
        continue
    snap.setdefault(r[iw_h.index("date")], {})[r[iw_h.index("code")]] = float(r[iw_h.index("weight")])
snap_dates = sorted(snap)

expo = {}
for r in xrows:
    if r[0] in by_month.values():
        expo.setdefault(r[0], []).append(r)
covs = {}
for r in frows:
    if r[0] in by_month.values():
        covs.setdefault(r[0], []).append([float(v) for v in r[2:]])
svar = {}
for r in srows:
    if r[0] in by_month.values():
        svar.setdefault(r[0], {})[r[1]] = float(r[2])

rng = np.random.default_rng(5)
NP = 100
z_long = [[] for _ in range(NP)]
z_act = [[] for _ in range(NP)]
for m in range(len(month_ends) - 1):
    d0, d1 = month_ends[m], month_ends[m + 1]
    rows = expo[d0]
    cds = [r[1] for r in rows]
    X = np.array([[float(v) for v in r[3:]] for r in rows])
    inds = [r[2] for r in rows]
    K = len(factors)
    B = np.zeros((len(rows), K))
    B[:, :len(styles)] = X
    for i, g in enumerate(inds):
        B[i, factors.index(g)] = 1.0
    B[:, factors.index("country")] = 1.0
    F = np.array(covs[d0])
    D = np.array([svar[d0][c] for c in cds])
    col = np.array([si[c] for c in cds])
    ret = px[di[d1], col] / px[di[d0], col] - 1
    usable = np.isfinite(ret)
    ret = np.where(usable, ret, 0.0)
    # CSI500 weights in force at d0
    k = bisect.bisect_right(snap_dates, d0) - 1
    wb = np.zeros(len(rows))
    if k >= 0:
        pos = {c: i for i, c in enumerate(cds)}
        for c, w in snap[snap_dates[k]].items():
            if c in pos:
                wb[pos[c]] = w
        wb /= wb.sum() if wb.sum() > 0 else 1
    members = np.where((wb > 0) & usable)[0]
    cand = np.where(usable)[0]
    for p in range(NP):
        pick = rng.choice(cand, size=100, replace=False)
        w = np.zeros(len(rows)); w[pick] = rng.dirichlet(np.ones(100))
        v = (w @ B) @ F @ (B.T @ w) + np.sum(w * w * D)
        z_long[p].append((w @ ret) / np.sqrt(v / 12))
        if len(members) >= 100:
            pick = rng.choice(members, size=100, replace=False)
            w = np.zeros(len(rows)); w[pick] = rng.dirichlet(np.ones(100))
            a = w - wb
            v = (a @ B) @ F @ (B.T @ a) + np.sum(a * a * D)
            z_act[p].append((a @ ret) / np.sqrt(v / 12))

# reference for the long-only figure: the TRUE country factor returns forecast by their own EW variance
# (half-life 90): the part of the long-only bias that this sample of the market has whatever the model
tc = np.array([float(row[th.index("country")]) for row in trows])
lam, g, wsum, vtc = 0.5 ** (1 / 90), 0.0, 0.0, np.zeros(len(tc))
for t in range(len(tc)):
    g, wsum = lam * g + tc[t] ** 2, lam * wsum + 1
    vtc[t] = g / wsum
pos = {d: k for k, d in enumerate(all_dates)}
zc = [tc[pos[a] + 1:pos[b] + 1].sum() / np.sqrt(vtc[pos[a]] * (pos[b] - pos[a]))
      for a, b in zip(month_ends[:-1], month_ends[1:]) if a in pos and b in pos]
if len(zc) > 2:
    print("reference: the true country factor returns against their own EW(90) forecast give a bias statistic "
          "of %.3f over %d months" % (np.std(zc, ddof=1), len(zc)))
ok2 = True
for name, zs in (("long-only", z_long), ("active vs CSI500", z_act)):
    zs = [z for z in zs if len(z) >= 6]
    if not zs:
        print("bias %s: no months" % name); ok2 = False; continue
    b = np.array([np.std(z, ddof=1) for z in zs])
    q = np.percentile(b, [5, 25, 50, 75, 95])
    inside = np.mean((b >= 0.8) & (b <= 1.2))
    print("bias statistic, %d %s portfolios over %d months: min %.3f p5 %.3f p25 %.3f median %.3f p75 %.3f "
          "p95 %.3f max %.3f; %.0f%% in [0.8, 1.2]" % (len(b), name, len(zs[0]), b.min(), *q, b.max(), 100 * inside))
    if not (0.8 <= q[2] <= 1.2):
        ok2 = False
print("PASS" if ok1 and ok2 else "FAIL")
sys.exit(0 if ok1 and ok2 else 1)
