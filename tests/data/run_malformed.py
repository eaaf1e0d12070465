#!/usr/bin/env python3
"""Runs `zhizeng ingest` on every case of tests/data/malformed/ and checks that it
  - exits with the expected non-zero code (line 2 of the case's `expect` file),
  - names the file, line and column of line 1 of `expect` on stderr ("<dir>/<where>") and says what
    was expected (the word "expected"),
  - leaves no cache behind
Cases whose `expect` line 1 is "valid" are valid edge inputs (CRLF, BOM, quotes, ...): they must
be accepted (exit 0) and a cache written in place of the stale one: a stale cache planted at --cache beforehand is removed, and no
    temporary file remains beside it.
usage: run_malformed.py --zhizeng BIN [--corpus DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "malformed"))
    a = ap.parse_args()
    cases = sorted(d for d in os.listdir(a.corpus) if os.path.isfile(os.path.join(a.corpus, d, "expect")))
    if len(cases) < 30:
        print(f"expected at least 30 malformed cases in {a.corpus}, found {len(cases)}")
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in cases:
            d = os.path.join(a.corpus, name)
            with open(os.path.join(d, "expect")) as f:
                where, code = f.read().split("\n")[:2]
            cache = os.path.join(tmp, name + ".cache")
            with open(cache, "wb") as f:
                f.write(b"an old cache that must not survive a failed ingest")
            r = subprocess.run([a.zhizeng, "ingest", "--market", d, "--cache", cache, "--quiet"],
                               capture_output=True, text=True, timeout=60)
            want = os.path.join(d, where)
            problems = []
            if where == "valid":  # a valid edge case: must be accepted and a cache written
                if r.returncode != 0:
                    problems.append(f"a valid input was refused (exit {r.returncode})")
                elif not os.path.isfile(cache) or os.path.getsize(cache) < 64:
                    problems.append("accepted but no cache written")
                left = [f for f in os.listdir(tmp) if f.startswith(name + ".cache") and f != name + ".cache"]
                if left:
                    problems.append(f"temporary files left: {left}")
                if problems:
                    failed += 1
                    print(f"FAIL {name}: {'; '.join(problems)}\n  stderr: {r.stderr.strip()}")
                else:
                    print(f"ok   {name}: accepted")
                continue
            if r.returncode != int(code):
                problems.append(f"exit code {r.returncode}, expected {code}")
            if want not in r.stderr:
                problems.append(f"stderr does not name '{want}'")
            if "expected" not in r.stderr:
                problems.append("the message does not say what was expected")
            if os.path.exists(cache):
                problems.append("a cache file was left behind")
            left = [f for f in os.listdir(tmp) if f.startswith(name + ".cache")]
            if left:
                problems.append(f"temporary files left: {left}")
            if r.stdout:
                problems.append("wrote a summary to stdout despite the error")
            if problems:
                failed += 1
                print(f"FAIL {name}: {'; '.join(problems)}\n  stderr: {r.stderr.strip()}")
            else:
                print(f"ok   {name}: {r.stderr.strip()}")
    # command-line errors: usage 2, a market directory that does not exist i/o 4, --help 0 on stdout
    for args, want in ((["ingest"], 2), (["ingest", "--market"], 2), (["ingest", "--market", "x", "extra"], 2),
                       (["ingest", "--bogus"], 2), (["ingest", "--market", os.path.join(a.corpus, "no such dir")], 4),
                       (["ingest", "--help"], 0)):
        r = subprocess.run([a.zhizeng] + args, capture_output=True, text=True, timeout=60)
        if r.returncode != want or (want == 0 and "usage: zhizeng ingest" not in r.stdout) or (want and not r.stderr):
            failed += 1
            print(f"FAIL zhizeng {' '.join(args)}: exit {r.returncode}, expected {want}; stderr: {r.stderr.strip()}")
    print(f"{len(cases) - failed}/{len(cases)} malformed cases rejected as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
