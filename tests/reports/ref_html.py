#!/usr/bin/env python3
"""Loads the HTML pages of reports/ in headless Chromium: `zhizeng report` on two hand-made runs (NAV and
drawdown charts) and the factor-test charts (RankIC bars with cumulative line, group returns) written by
rep_driver. Fails on any browser console message, any external reference or script, and any <svg> chart
without drawn content. The console detector is first shown to catch a deliberately broken page.
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
    charts = re.findall(r"<svg\b[^>]*class=\"chart\"[^>]*>(.*?)</svg>", dom, flags=re.S)
    assert len(charts) >= min_charts, f"{html}: {len(charts)} charts in the rendered DOM, expected {min_charts}"
    for k, body in enumerate(charts):
        lines = [pts for pts in re.findall(r'<polyline[^>]*points="([^"]*)"', body) if len(pts.split()) >= 2]
        bars = [h for h in re.findall(r'<rect[^>]*height="([0-9.]+)"', body) if float(h) > 0.4]
        coords = [float(v) for pts in lines for pair in pts.split() for v in pair.split(",")]
        assert all(math.isfinite(v) for v in coords), f"{html}: chart {k} has non-finite coordinates"
        assert lines or len(bars) > 2, f"{html}: chart {k} draws nothing"
    if shot:
        assert os.path.getsize(shot) > 20000, f"{shot}: screenshot suspiciously small"
    return len(charts)


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

        write_run(os.path.join(tmp, "uni"), 1, 0.0003)
        write_run(os.path.join(tmp, "multi"), 2, 0.0004)
        out = os.path.join(tmp, "report")
        subprocess.run([a.zhizeng, "report", "--run", f"univariate={tmp}/uni", "--run", f"multivariate={tmp}/multi",
                        "--out", out], check=True)
        n = check_page(browser, os.path.join(out, "report.html"), 4, os.path.join(tmp, "report.png"))
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
        n = check_page(browser, page, 2, os.path.join(tmp, "factor.png"))
        print(f"factor.html: {n} charts drawn, no console messages")
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("ok: pages load in headless chromium without console messages and every chart has content")


if __name__ == "__main__":
    main()
