#!/usr/bin/env python3
"""Numerical guards end to end (issue 18, docs/reliability.md "Numerical guards"): `zhizeng run` on a copy of run A
of the pipeline_setup fixture whose score stages are replaced by degenerate scores, so only the backtests and the
report run again:
- the univariate head's scores are one constant (0.5) on every day: every week of its backtests is held with the
  note "all equal" (the optimiser has nothing to rank by), its book stays in cash, and its factor-test rows are
  "—" with a footnote saying the scores are constant; the run does not fail;
- the multivariate head's scores are all equal on one rebalance date only: that week is held, the others solved;
- the report never shows nan, inf or "undefined"; every "—" of a table carries a footnote mark and every mark has
  its note under that table (Markdown and HTML alike); the CSVs leave undefined values empty.
usage: ref_pipe_guards.py --zhizeng PATH --work DIR (the pipeline_setup fixture's work directory)
"""
import csv, glob, html, os, re, shutil, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_pipeline  # noqa: E402  (the tiny configuration)

SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹"
CELL_MARK = re.compile("—([" + SUP + "]*)")
NOTE = re.compile("^([" + SUP + "]+) (.+?)\\s*$")
bad = 0


def fail(msg):
    global bad
    print("FAIL: " + msg)
    bad += 1


def stage(out, prefix):
    d = [p for p in glob.glob(os.path.join(out, "stages", prefix + "-*")) if len(p.rsplit("-", 1)[1]) == 16]
    if len(d) != 1:
        sys.exit(f"FAIL: expected one stage {prefix}-<hash> in {out}, found {d}")
    return d[0]


def rewrite_scores(path, const_dates=None):
    """Every score 0.5 (const_dates None), or 0.5 on the given dates only; rows and codes unchanged."""
    with open(path) as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    k = head.index("score")
    for r in body:
        if r[k] != "" and (const_dates is None or r[0] in const_dates):
            r[k] = "0.5"
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(body)


def diag_rows(out, name):
    with open(os.path.join(stage(out, name), "diagnostics.csv")) as f:
        return list(csv.DictReader(f))


def check_tables(text, where):
    """Markdown: each table's "—" cells carry a mark, and the marks are exactly the notes under the table."""
    lines = text.split("\n")
    k, n_tables, n_dash = 0, 0, 0
    while k < len(lines):
        if not lines[k].startswith("|"):
            k += 1
            continue
        t0 = k
        while k < len(lines) and lines[k].startswith("|"):
            k += 1
        marks = set()
        for line in lines[t0 + 2:k]:
            for cell in line.strip("|").split(" | "):
                cell = cell.strip()
                for m in CELL_MARK.finditer(cell):
                    n_dash += 1
                    if not m.group(1):
                        fail(f"{where}: a '—' without a footnote mark in table line {t0 + 1}: {line[:160]}")
                    marks.add(m.group(1))
        while k < len(lines) and lines[k].strip() == "":
            k += 1
        notes = {}
        while k < len(lines) and NOTE.match(lines[k]):
            m = NOTE.match(lines[k])
            notes[m.group(1)] = m.group(2)
            k += 1
        marks.discard("")
        if marks != set(notes):
            fail(f"{where}: table at line {t0 + 1}: marks {sorted(marks)}, notes {sorted(notes)}")
        n_tables += 1
    return n_tables, n_dash


def main():
    a = ref_pipeline.parse_args()
    out = ref_pipeline.fixture_run_copy(a.work, "run_guards")
    dates = [r["date"] for r in diag_rows(out, "bt-csi300-multivariate-floor80")]
    flat_day = dates[2]
    rewrite_scores(os.path.join(stage(out, "scores-univariate"), "scores.csv"))
    rewrite_scores(os.path.join(stage(out, "scores-multivariate"), "scores.csv"), {flat_day})
    for d in glob.glob(os.path.join(out, "stages", "bt-*")):
        shutil.rmtree(d)
    cfg = os.path.join(a.work, "run_guards.ini")
    with open(cfg, "w") as f:
        f.write(ref_pipeline.CONFIG.format(market=os.path.join(a.work, "market"), out=out))
    log = ref_pipeline.run([a.zhizeng, "run", cfg, "--no-progress"])
    with open(os.path.join(out, "report", "timings.csv")) as f:
        for row in csv.DictReader(f):
            if row["stage"].startswith("scores") and row["cached"] != "1":
                fail(f"stage {row['stage']} was recomputed: the degenerate scores were not used")
    # the backtests: univariate held every week, multivariate held on flat_day only
    for floor in ("floor80", "nofloor"):
        rows = diag_rows(out, f"bt-csi300-univariate-{floor}")
        held = [r for r in rows if r["status"] == "held" and "all equal" in r["note"]]
        if len(held) != len(rows) or not rows:
            fail(f"univariate {floor}: {len(held)} of {len(rows)} weeks held for equal scores")
        with open(os.path.join(stage(out, f"bt-csi300-univariate-{floor}"), "nav.csv")) as f:
            navs = {float(r["nav"]) for r in csv.DictReader(f)}
        if navs != {1.0}:
            fail(f"univariate {floor}: the book traded (NAV values {sorted(navs)[:3]}...)")
        rows = diag_rows(out, f"bt-csi300-multivariate-{floor}")
        for r in rows:
            want_held = r["date"] == flat_day
            if (r["status"] == "held") != want_held or (want_held and "all equal" not in r["note"]):
                fail(f"multivariate {floor} {r['date']}: status {r['status']} ({r['note'][:80]})")
        print(f"{floor}: univariate {len(rows)} weeks held (NAV 1 throughout); multivariate held on {flat_day} only")
    rep = os.path.join(out, "report")
    md = open(os.path.join(rep, "report.md"), encoding="utf-8").read()
    page = open(os.path.join(rep, "report.html"), encoding="utf-8").read()
    cells_md = "\n".join(l for l in md.split("\n") if l.startswith("|"))  # table rows (notes are prose)
    for word in ("nan", "NaN", "inf", "undefined"):
        if re.search(r"\b" + word + r"\b", cells_md) or re.search(r"<td>[^<]*\b" + word + r"\b", page):
            fail(f"a table of the report shows '{word}'")
    n_tables, n_dash = check_tables(md, "report.md")
    # the univariate factor-test rows: all "—", the note saying the scores are constant
    uni, in_factor = [], False
    for l in md.split("\n"):
        if l.startswith("**"):
            in_factor = l.startswith("**Factor test on")
        elif in_factor and l.startswith("| univariate |"):
            uni.append(l)
    if len(uni) != 4 or any(len(CELL_MARK.findall(l)) != 8 for l in uni):  # CSI All, CSI300, CSI500, CSI1000
        fail(f"univariate factor-test rows are not all '—': {uni[:2]}")
    if "constant" not in md:
        fail("no footnote says the univariate scores are constant")
    # Sharpe of a NAV that never moves: '—' with the zero-volatility note
    if "the daily returns do not vary" not in md:
        fail("no footnote for the Sharpe ratio of the flat NAV")
    # HTML: the same notes, each in a paragraph
    for m in NOTE.finditer("\n".join(l for l in md.split("\n") if NOTE.match(l))):
        if html.escape(m.group(2), quote=False) not in page:
            fail(f"report.html lacks the note '{m.group(2)[:80]}'")
    for fn in glob.glob(os.path.join(rep, "*.csv")):
        text = open(fn).read()
        if re.search(r"(^|,)(-?nan|-?inf|NaN)(,|$)", text, re.M):
            fail(f"{os.path.basename(fn)} holds nan/inf")
    print(f"report: {n_tables} tables, {n_dash} '—' cells, each with its footnote; no nan/inf/undefined")
    if bad:
        print(log[-3000:])
        sys.exit(f"FAIL: {bad} problem(s)")
    print("ok: equal scores hold the book, undefined statistics are '—' with a footnote saying why")


if __name__ == "__main__":
    main()
