#!/usr/bin/env python3
"""Writes tests/fuzz/seeds/<target>/: the fuzz targets' seed corpora, from the test fixtures.

  market       packs of the base market of tests/data/make_malformed.py and of every malformed case
  csv          the files of those markets, one CSV a seed
  number       numbers, dates, codes and index names (first byte: the scale 0..4)
  panel_cache  the payload of a valid cache of the base market (`zhizeng ingest --cache`)
  config       the demo's embedded configuration and the pipeline tests' configurations
  problem      packs of optimisation problem directories (tests/portfolio/opt_problem_gen.py, small)
  targets      target weights (first byte 0) and scores (first byte 1) on the base market
  model        a native model file (first byte 0) and safetensors (first byte 1): GRU / LSTM, heads
  import       packs of the tushare and qlib fixtures of tests/data/test_import_*.py

A pack is a directory in one input: "@@ name\\n<bytes>" per file, joined by "\\n" (tests/fuzz/fuzz_common.h).
The output is committed; rerun only when a fixture or a format changes:
  python3 tests/fuzz/make_seeds.py --zhizeng build/zhizeng
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(TESTS, "data"), os.path.join(TESTS, "portfolio")]


def pack_dir(d):
    parts = []
    for root, dirs, files in os.walk(d):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            rel = os.path.relpath(p, d)
            if f == "expect" or f.startswith("."):
                continue
            with open(p, "rb") as fh:
                parts.append(b"@@ " + rel.encode() + b"\n" + fh.read())
    return b"\n".join(parts)


def put(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def st_bytes(tensors, meta):
    hdr, blobs, off = {"__metadata__": meta}, [], 0
    for name, (shape, vals) in tensors.items():
        b = struct.pack("<%df" % len(vals), *vals)
        hdr[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def small_net(cell, layers, head, F=3, H=4):
    G = {"gru": 3, "lstm": 4}[cell]
    K = {"univariate": 1, "multivariate": 3, "class3": 3}[head]
    t, k = {}, 0

    def vals(n):
        nonlocal k
        k += n
        return [((i * 37 + k) % 11 - 5) / 20.0 for i in range(n)]

    for l in range(layers):
        fin = F if l == 0 else H
        t[f"rnn.weight_ih_l{l}"] = ([G * H, fin], vals(G * H * fin))
        t[f"rnn.weight_hh_l{l}"] = ([G * H, H], vals(G * H * H))
        t[f"rnn.bias_ih_l{l}"] = ([G * H], vals(G * H))
        t[f"rnn.bias_hh_l{l}"] = ([G * H], vals(G * H))
    t["head.weight"] = ([K, H], vals(K * H))
    t["head.bias"] = ([K], vals(K))
    meta = {"cell": cell, "layers": str(layers), "hidden": str(H), "input_size": str(F), "outputs": str(K),
            "head": head, "lambda": "0.1"}
    return t, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    a = ap.parse_args()
    zz = os.path.abspath(a.zhizeng)
    if os.path.exists(os.path.join(HERE, "seeds")):
        shutil.rmtree(os.path.join(HERE, "seeds"))
    import make_malformed
    malformed = os.path.join(TESTS, "data", "malformed")
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        os.makedirs(base)
        for name, lines in make_malformed.BASE.items():
            with open(os.path.join(base, name), "w") as f:
                f.write("\n".join(lines) + "\n")
        put("market", "base", pack_dir(base))
        for case in sorted(os.listdir(malformed)):
            put("market", case, pack_dir(os.path.join(malformed, case)))
        for name in sorted(os.listdir(base)):
            with open(os.path.join(base, name), "rb") as f:
                put("csv", name, f.read())
        for case in ("bars_unterminated_quote", "bars_extra_field", "bars_missing_field", "features_non_numeric"):
            d = os.path.join(malformed, case)
            for name in sorted(os.listdir(d)):
                if name.endswith(".csv") and ("bars" in name or "features" in case):
                    with open(os.path.join(d, name), "rb") as f:
                        put("csv", case + "-" + name, f.read())

        for i, (scale, s) in enumerate([(0, "12.5"), (2, "-1.25e3"), (0, " 0.1 "), (1, "+007"), (0, "1e308"),
                                        (0, "2020-02-29"), (0, "20210228"), (0, "sh.600000"), (0, "000001.SZ"),
                                        (0, "BJ830799"), (0, "csi300"), (0, "000905.SH"), (4, "123456789.123456789")]):
            put("number", f"n{i:02d}", bytes([scale]) + s.encode())

        cache = os.path.join(tmp, "base.cache")
        subprocess.run([zz, "ingest", "--market", base, "--cache", cache, "--quiet"], check=True,
                       capture_output=True)
        with open(cache, "rb") as f:
            raw = f.read()
        off = 16
        slen = struct.unpack("<Q", raw[off:off + 8])[0]
        off += 8 + slen
        plen = struct.unpack("<Q", raw[off:off + 8])[0]
        off += 16
        assert len(raw) - off == plen, "cache layout changed: update make_seeds.py and fuzz_panel_cache.c"
        put("panel_cache", "base", raw[off:])

        demo = subprocess.run([zz, "demo", "--print-config"], check=True, capture_output=True).stdout
        put("config", "demo.ini", demo)
        put("config", "small.ini", b"[market]\ndir = m\n[model]\nheads = univariate,class3\ncell = act_lstm\n"
                                   b"epochs = 2\n[backtest]\nindices = csi300\n")

        import opt_problem_gen as g
        for i, (n, members, prev) in enumerate([(12, 6, False), (20, 10, True)]):
            P = g.make_problem(n, members, n_style=3, n_ind=4, seed=i + 1, prev=prev)
            d = os.path.join(tmp, f"problem{i}")
            g.write_problem(P, d)
            put("problem", f"p{i}", pack_dir(d))
        singleton = os.path.join(TESTS, "..", "..", "shared", "cases", "optimize-singleton-industry")
        if os.path.isdir(singleton):
            for root, dirs, files in os.walk(singleton):
                if "alpha.csv" in files and sum(os.path.getsize(os.path.join(root, f)) for f in files) < 65536:
                    put("problem", "singleton-" + os.path.basename(root), pack_dir(root))

        put("targets", "weights", b"\x00date,code,weight\n2020-01-02,600000.SH,0.6\n2020-01-02,000001.SZ,0.4\n"
                                  b"2020-01-03,CASH,\n")
        put("targets", "weights_exec", b"\x00date,code,weight,exec_date\n2020-01-02,600000.SH,0.5,2020-01-06\n")
        put("targets", "scores", b"\x01date,code,score,f1,f2\n2020-01-02,600000.SH,0.5,1,2\n"
                                 b"2020-01-03,000001.SZ,-0.25,0.5,-1\n")

        for cell, layers, head in (("gru", 1, "univariate"), ("lstm", 2, "multivariate"), ("gru", 2, "class3")):
            t, meta = small_net(cell, layers, head)
            st = st_bytes(t, meta)
            name = f"{cell}{layers}_{head}"
            put("model", name + ".safetensors", b"\x01" + st)
            sp, npath = os.path.join(tmp, name + ".safetensors"), os.path.join(tmp, name + ".zzm")
            with open(sp, "wb") as f:
                f.write(st)
            subprocess.run([zz, "model", "import", "--in", sp, "--out", npath], check=True, capture_output=True)
            with open(npath, "rb") as f:
                put("model", name + ".native", b"\x00" + f.read())

        sim_out = os.path.join(tmp, "sim")
        tg = os.path.join(tmp, "targets.csv")
        with open(tg, "w") as f:
            f.write("date,code,weight\n2020-01-02,600000.SH,0.5\n2020-01-02,000001.SZ,0.4\n")
        subprocess.run([zz, "simulate", "--market", base, "--targets", tg, "--out", sim_out, "--index", "csi300"], check=True,
                       capture_output=True)
        for name in ("trades.csv", "positions.csv"):
            os.remove(os.path.join(sim_out, name))
        put("results", "sim", b"\x00" + pack_dir(sim_out))
        ex = os.path.join(tmp, "explain")
        os.makedirs(ex)
        with open(os.path.join(ex, "relevance.csv"), "w") as f:
            f.write("date,code,lag,feature,relevance\n")
            for code in ("000001.SZ", "600000.SH"):
                for lag in range(2):
                    for k, feat in enumerate(("close", "volume")):
                        f.write(f"2020-01-03,{code},{lag},{feat},{0.125 * (k + 1) - 0.0625 * lag}\n")
        with open(os.path.join(ex, "stocks.csv"), "w") as f:
            f.write("date,code,score,output,inputs,bias,bias_layer1,bias_layer2,bias_head\n"
                    "2020-01-03,000001.SZ,0.5,0.5,0.4375,0.0625,0.03125,0,0.03125\n"
                    "2020-01-03,600000.SH,0.5,0.5,0.4375,0.0625,0.03125,0,0.03125\n")
        put("results", "explain", b"\x01" + pack_dir(ex))
        put("results", "linear", b"\x02zz_linear v1\n2 2 0.1 0.05\nzscore\n0.5 -0.25 0.125 1 0.01\n")

        import test_import_tushare as tu
        files = tu.fixture()[0]
        src = os.path.join(tmp, "tushare")
        tu.write_src(src, files)
        put("import", "tushare", pack_dir(src))
        import test_import_qlib as ql
        q = os.path.join(tmp, "qlib")
        ql.make_fixture(q)
        put("import", "qlib", pack_dir(q))
    for t in sorted(os.listdir(os.path.join(HERE, "seeds"))):
        d = os.path.join(HERE, "seeds", t)
        n = len(os.listdir(d))
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"{t:12s} {n:3d} seeds {size:8d} bytes")


if __name__ == "__main__":
    main()
