#!/usr/bin/env python3
"""Loads the HTML pages of reports/ in headless Chromium: `zhizeng report` on two hand-made runs (NAV and
drawdown charts), the factor-test charts (RankIC bars with cumulative line, group returns) written by
rep_driver, and rep_driver's page of every chart kind (multi-series lines with legend and y-axis label over
calendar time, a drawdown in %, grouped bars with legend, bars with a cumulative line on a right axis).
Fails on any browser console message, any external reference or script, any <svg> chart without drawn
content, a contents link without its anchor, a page without print rules. On the chart-kinds page it also
checks the drawing against the inputs: one polyline per series, legends and axis labels, y ticks distinct
and evenly spaced, bar heights proportional to the values, the drawdown line at the right tick heights.
--page FILE [--expect ID_PREFIX ...] checks one more page (the pipeline's report.html in
rep_html_pipeline_report) and that it has charts whose ids start with each prefix.
The console detector is first shown to catch a deliberately broken page.
Skips (77) when chromium is not installed."""
import argparse, math, os, random, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def load(browser, html, shot=None):
    """Returns (dom, console lines) of a page loaded headless."""
    with tempfile.TemporaryDirectory() as prof:
        base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={prof}",
                "--enable-logging=stderr", "--v=0"]
        p = subprocess.run(base + ["--dump-dom", "file://" + os.path.abspath(html)], capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"chromium failed on {html}: {p.stderr[-2000:]}")
        console = [l for l in p.stderr.splitlines() if ":CONSOLE" in l or "Uncaught" in l]
        if shot:
            subprocess.run(base + ["--hide-scrollbars", "--window-size=1100,2600", f"--screenshot={shot}",
                                   "file://" + os.path.abspath(html)], capture_output=True, timeout=120)
        return p.stdout, console


def check_page(browser, html, min_charts, shot=None):
    raw = open(html, encoding="utf-8").read()
    assert "<script" not in raw.lower(), f"{html}: contains a script"
    ext = re.findall(r'(?:src|href)\s*=\s*"(?:https?:)?//[^"]*"', raw)
    assert not ext, f"{html}: external references {ext[:3]}"
    assert "@import" not in raw and "url(" not in raw, f"{html}: external CSS resources"
    dom, console = load(browser, html, shot)
    assert not console, f"{html}: browser console messages: {console[:5]}"
    check_structure(html, dom, raw)
    charts = re.findall(r"<svg\b[^>]*class=\"chart\"[^>]*>(.*?)</svg>", dom, flags=re.S)
    assert len(charts) >= min_charts, f"{html}: {len(charts)} charts in the rendered DOM, expected {min_charts}"
    for k, body in enumerate(charts):
        lines = [pts for pts in re.findall(r'<polyline[^>]*points="([^"]*)"', body) if len(pts.split()) >= 2]
        # data bars: not the background (x=0), the frame (fill none) or a legend swatch
        bars = [h for h in re.findall(r'<rect x="(?!0")[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="([0-9.]+)" fill="#', body)
                if float(h) > 0.4]
        coords = [float(v) for pts in lines for pair in pts.split() for v in pair.split(",")]
        assert all(math.isfinite(v) for v in coords), f"{html}: chart {k} has non-finite coordinates"
        assert lines or len(bars) > 2, f"{html}: chart {k} draws nothing"
    if shot:
        assert os.path.getsize(shot) > 20000, f"{shot}: screenshot suspiciously small"
    return len(charts), dom


def charts_of(dom):
    """{id: svg body} of the rendered charts."""
    return dict(re.findall(r'<svg\b[^>]*id="([^"]*)"[^>]*class="chart"[^>]*>(.*?)</svg>', dom, flags=re.S))


def check_structure(html, dom, raw):
    """Contents list links resolve; print rules keep a chart on one page; headings have anchors."""
    assert "@media print" in raw and "break-inside:avoid" in raw, f"{html}: no print rules"
    ids = set(re.findall(r'\bid="([^"]+)"', dom))
    links = re.findall(r'<a href="#([^"]+)"', dom)
    heads = re.findall(r"<h2\b", dom)
    if len(heads) > 1:
        assert '<nav class="contents">' in dom, f"{html}: {len(heads)} sections and no contents list"
        assert len(links) == len(heads), f"{html}: {len(links)} contents links for {len(heads)} sections"
    missing = [l for l in links if l not in ids]
    assert not missing, f"{html}: contents links without an anchor: {missing[:3]}"


def y_ticks(body, right=False):
    """[(y, label)] of the y-axis tick labels (left axis at x=72, right axis at x=888)."""
    x = "888" if right else "72"
    return [(float(y), t) for y, t in re.findall(r'<text x="' + x + r'" y="([0-9.]+)" text-anchor="(?:end|start)">([^<]*)</text>', body)]


def tick_value(label):
    return float(label.rstrip("%")) / (100 if label.endswith("%") else 1)


def check_ticks(name, ticks):
    assert len(ticks) >= 3, f"{name}: {len(ticks)} y ticks"
    labels = [t for _, t in ticks]
    assert len(set(labels)) == len(labels), f"{name}: repeated tick labels {labels}"
    vals = [tick_value(t) for t in labels]
    ys = [y for y, _ in ticks]
    dv = [b - a for a, b in zip(vals, vals[1:])]
    dy = [b - a for a, b in zip(ys, ys[1:])]
    assert all(abs(d - dv[0]) < 1e-9 * max(1, abs(dv[0])) + 1e-12 for d in dv), f"{name}: uneven tick values {labels}"
    assert all(abs(d - dy[0]) < 0.15 for d in dy), f"{name}: uneven tick spacing {ys}"
    return vals, ys


def check_chart_kinds(html, dom):
    """The drawing of rep_driver's chart-kinds page against its inputs (rep_driver.c, charts())."""
    ch = charts_of(dom)
    for cid in ("lines", "drawdown", "grouped", "rankic", "wrap_lines", "wrap_bars"):
        assert cid in ch, f"{html}: chart {cid} missing"
    body = ch["lines"]
    polys = re.findall(r'<polyline[^>]*points="([^"]*)"', body)
    assert len(polys) == 2, f"lines: {len(polys)} polylines for 2 series"
    assert len(polys[1].split()) == 300 - 20 - 1, "lines: series b should have 279 points (one NaN)"
    assert "series &lt;a&gt;" in body and "series \"b\" &amp; co" in body, "lines: legend names missing"
    assert "NAV (start = 1)" in body, "lines: y-axis label missing"
    # series b starts 20 trading days later: its first x is to the right of a's
    assert float(polys[1].split()[0].split(",")[0]) > float(polys[0].split()[0].split(",")[0]) + 30
    # drawdown: recomputed here from the page's input, then placed with the page's own ticks
    a = [1 + 0.001 * k + 0.03 * math.sin(k / 9.0) for k in range(300)]
    dd, peak = [], -1e9
    for v in a:
        peak = max(peak, v)
        dd.append(v / peak - 1)
    body = ch["drawdown"]
    vals, ys = check_ticks("drawdown", y_ticks(body))
    assert all(t.endswith("%") for _, t in y_ticks(body)), "drawdown: ticks are not in %"
    assert "drawdown (%)" in body, "drawdown: y-axis label missing"
    slope = (ys[-1] - ys[0]) / (vals[-1] - vals[0])
    pts = [tuple(map(float, p.split(","))) for p in re.findall(r'<polyline[^>]*points="([^"]*)"', body)[0].split()]
    assert len(pts) == 300, f"drawdown: {len(pts)} points"
    for k in (0, 50, 137, 299, min(range(300), key=lambda i: dd[i])):
        want = ys[0] - 4 + slope * (dd[k] - vals[0])  # tick labels sit 4 px below their value
        assert abs(pts[k][1] - want) < 0.6, f"drawdown[{k}] drawn at y={pts[k][1]}, expected {want:.1f}"
    # grouped bars: 11 bars (one NaN) with heights proportional to |value|, 3 legend swatches
    body = ch["grouped"]
    bars = re.findall(r'<rect x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="([0-9.]+)" fill="#', body)
    legend = re.findall(r'<rect class="legend"', body)
    assert len(legend) == 3, f"grouped: {len(legend)} legend swatches"
    vals_in = [0.05, -0.02, 0.11, 0.03, 0.01, -0.04, 0.02, -0.01, 0.0, 0.07, 0.015]
    assert len(bars) == len(vals_in) + 1, f"grouped: {len(bars)} rects, expected {len(vals_in)} bars + background"
    hs = [float(h) for h in bars[1:]]
    scale = hs[2] / 0.11
    for v, h in zip(vals_in, hs):
        assert abs(h - max(abs(v) * scale, 0.5)) < 0.02, f"grouped: bar of {v} is {h} px high, expected {abs(v) * scale:.2f}"
    for label in ("uni, no floor", "multi, no floor", "uni, floor 80%", "calendar year", "excess return (%)", "2023 *"):
        assert label in body, f"grouped: '{label}' missing"
    check_ticks("grouped", y_ticks(body))
    # RankIC: bars, a cumulative line of 30 points on a right axis with its label, in the legend
    body = ch["rankic"]
    polys = re.findall(r'<polyline[^>]*points="([^"]*)"', body)
    assert len(polys) == 1 and len(polys[0].split()) == 30, "rankic: cumulative line missing or wrong length"
    assert body.count("cumulative RankIC") >= 2, "rankic: right-axis label or legend entry missing"
    check_ticks("rankic left", y_ticks(body))
    check_ticks("rankic right", y_ticks(body, right=True))


def write_run(d, seed, mu):
    os.makedirs(d, exist_ok=True)
    rng = random.Random(seed)
    import datetime
    day, nav, b, h, rows = datetime.date(2017, 1, 3), 1.0, 1.0, 1.0, []
    while day <= datetime.date(2019, 4, 28):
        if day.weekday() < 5:
            rb = rng.gauss(0.0002, 0.012)
            rp = rb + rng.gauss(mu, 0.004)
            if rows:
                nav, b, h = nav * (1 + rp), b * (1 + rb), h * (1 + rp - rb)
            to = 0.2 if day.weekday() == 0 else 0.0
            rows.append(f"{day},{nav!r},{b!r},{h!r},{nav*1e5!r},{to},{to*1500}")
        day += datetime.timedelta(days=1)
    with open(os.path.join(d, "nav.csv"), "w") as f:
        f.write("date,nav,benchmark,hedged,cash,turnover,costs\n" + "\n".join(rows) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--keep", help="directory to keep the pages and screenshots in")
    ap.add_argument("--page", help="check only this page (e.g. the pipeline's report.html)")
    ap.add_argument("--expect", nargs="*", default=[], help="with --page: chart id prefixes that must be drawn")
    a = ap.parse_args()
    browser = chromium_binary()
    if not browser:
        print("SKIP: chromium is not installed (Debian package 'chromium')")
        sys.exit(77)
    tmp = a.keep or tempfile.mkdtemp()
    os.makedirs(tmp, exist_ok=True)
    try:
        bad = os.path.join(tmp, "broken.html")
        with open(bad, "w") as f:
            f.write('<html><body><svg class="chart"></svg><script>console.error("x"); nope();</script></body></html>')
        _, console = load(browser, bad)
        assert console, "the console detector missed a page with console errors: the check cannot work here"

        if a.page:
            n, dom = check_page(browser, a.page, len(a.expect), os.path.join(tmp, "page.png"))
            ids = list(charts_of(dom))
            for prefix in a.expect:
                assert any(i.startswith(prefix) for i in ids), f"{a.page}: no chart whose id starts with {prefix}"
                for i in ids:
                    if i.startswith(prefix):
                        check_ticks(f"{a.page} {i}", y_ticks(charts_of(dom)[i]))
            print(f"{a.page}: {n} charts drawn ({', '.join(ids)}), no console messages")
            return

        page = os.path.join(tmp, "kinds.html")
        subprocess.run([a.driver, "charts", page], check=True)
        n, dom = check_page(browser, page, 6, os.path.join(tmp, "kinds.png"))
        check_chart_kinds(page, dom)
        print(f"kinds.html: {n} charts drawn and checked against their inputs, no console messages")

        write_run(os.path.join(tmp, "uni"), 1, 0.0003)
        write_run(os.path.join(tmp, "multi"), 2, 0.0004)
        out = os.path.join(tmp, "report")
        subprocess.run([a.zhizeng, "report", "--run", f"univariate={tmp}/uni", "--run", f"multivariate={tmp}/multi",
                        "--out", out], check=True)
        n, _ = check_page(browser, os.path.join(out, "report.html"), 4, os.path.join(tmp, "report.png"))
        print(f"report.html: {n} charts drawn, no console messages")

        try:
            import numpy  # noqa: F401  (the factor market is built with numpy)
        except ImportError:
            print("note: numpy missing, factor charts not checked")
            return
        sys.path.insert(0, HERE)
        import ref_factor
        m = ref_factor.make_market(numpy.random.default_rng(7))
        mdir = os.path.join(tmp, "market")
        os.makedirs(mdir, exist_ok=True)
        ref_factor.write_market(m, mdir)
        page = os.path.join(tmp, "factor.html")
        subprocess.run([a.driver, "factor", mdir, "-1", "5", "10", page], check=True, capture_output=True)
        n, _ = check_page(browser, page, 2, os.path.join(tmp, "factor.png"))
        print(f"factor.html: {n} charts drawn, no console messages")
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("ok: pages load in headless chromium without console messages and every chart has content")


if __name__ == "__main__":
    main()
