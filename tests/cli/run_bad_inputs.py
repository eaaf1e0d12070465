#!/usr/bin/env python3
"""Bad-input corpus of the readers outside `zhizeng ingest` (issue 18), one case per validation rule:

  targets  `zhizeng simulate --targets FILE`          (sim/sim_targets.c)
  scores   `zhizeng evaluate --scores FILE`           (model/score_file.c)
  problem  `zhizeng optimize --problem DIR`           (portfolio/opt_problem_io.c, SPEC 11.1, limits.ini)
  config   `zhizeng run CONFIG`                       (pipeline/pipe_config.c)
  st       `zhizeng model import --in F.safetensors`  (model/safetensors.c, SPEC 11.2)
  input    `zhizeng model forward --input X`          (model/safetensors.c: the input tensors)
  native   `zhizeng model export --model NATIVE`      (model/model_file.c)
  linear   `zhizeng score --models DIR`               (model/linear_baseline.c: DIR/Y<year>_seed0.lin)

Every case is a valid input with one change. A refused case must exit with its code, name on stderr the
position (file:line:column, file:line, the key, or the byte offset), say what was expected ("expected"
in the message) and leave nothing at the output path. A case whose `where` is None is a valid edge input
that must be accepted (exit 0) and write its output.
The inputs are written at run time (nothing binary in the repository) into --workdir/<kind>/<case>/.
usage: run_bad_inputs.py --zhizeng BIN --workdir DIR [--only KIND] [--table]   (--table: the markdown table
of docs/bad_input.md, without running anything)
"""
import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys

# ------------------------------------------------------------------ a small valid market (for simulate/evaluate)
CODES = ["600000.SH", "600036.SH", "601318.SH", "600519.SH", "000001.SZ", "000002.SZ", "000333.SZ", "000651.SZ",
         "300750.SZ", "002415.SZ", "600276.SH", "601012.SH"]


def trading_days(n):
    """n weekdays from 2020-01-02 on, as YYYY-MM-DD (the market's calendar is index_bars.csv: any weekday works)."""
    import datetime
    d, out = datetime.date(2020, 1, 2), []
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d.isoformat())
        d += datetime.timedelta(days=1)
    return out


DAYS = trading_days(40)


def market_files():
    """Deterministic prices (a fixed pseudo-random walk, no RNG state shared with anything)."""
    bars = ["date,code,open,high,low,close,volume,amount,is_st"]
    for i, c in enumerate(CODES):
        px = 10.0 + i
        for t, d in enumerate(DAYS):
            r = ((i * 7919 + t * 104729) % 201 - 100) / 4000.0  # in [-2.5 %, 2.5 %]
            o, px = px, round(px * (1 + r), 2)
            hi, lo = max(o, px) + 0.01, min(o, px) - 0.01
            bars.append(f"{d},{c},{o:.2f},{hi:.2f},{lo:.2f},{px:.2f},{1000 + 10 * t},{round(1000 * px, 2)},0")
    ib = ["date,index,close"] + [f"{d},{x},{4000 + 3 * t + k}" for t, d in enumerate(DAYS)
                                 for k, x in enumerate(("000300", "000905"))]
    w = ["date,index,code,weight"] + [f"{DAYS[0]},{x},{c},{100 / len(CODES)}" for x in ("000300", "000905")
                                      for c in CODES]
    st = ["code,name,board,list_date,delist_date"] + [f"{c},S{c[:6]},main,2000-01-04," for c in CODES]
    ind = ["code,industry,start_date,end_date"] + [f"{c},{'Banks' if k % 2 else 'Tech'},2010-01-01,"
                                                   for k, c in enumerate(CODES)]
    return {"bars.csv": bars, "index_bars.csv": ib, "index_weights.csv": w, "stocks.csv": st, "industry.csv": ind}


def write_lines(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(lines, bytes):
        data = lines
    else:
        data = ("\n".join(lines) + "\n" if lines else "").encode()
    with open(path, "wb") as f:
        f.write(data)


def sub(lines, row, col, value):
    out = list(lines)
    f = out[row].split(",")
    f[col] = value
    out[row] = ",".join(f)
    return out


# ------------------------------------------------------------------ targets (simulate) and scores (evaluate)
TG = ["date,code,weight", f"{DAYS[0]},600000.SH,0.3", f"{DAYS[0]},000001.SZ,0.3", f"{DAYS[5]},600036.SH,0.5",
      f"{DAYS[5]},000002.SZ,0.4"]
TG_EXEC = ["date,code,weight,exec_date", f"{DAYS[0]},600000.SH,0.3,{DAYS[1]}", f"{DAYS[5]},600036.SH,0.5,{DAYS[6]}"]
TARGETS = {
    "targets_bad_date": (sub(TG, 2, 0, "2020-02-30"), "t.csv:3:1", 3),
    "targets_non_trading_day": (sub(TG, 2, 0, "2020-01-04"), "t.csv:3:1", 3),
    "targets_date_outside_market": (sub(TG, 1, 0, "2019-12-31"), "t.csv:2:1", 3),
    "targets_bad_exec_date": (sub(TG_EXEC, 1, 3, "2020-01-0x"), "t.csv:2:4", 3),
    "targets_exec_before_date": (sub(TG_EXEC, 2, 3, DAYS[4]), "t.csv:3:4", 3),
    "targets_unknown_code": (sub(TG, 3, 1, "601988.SH"), "t.csv:4:2", 3),
    "targets_bad_code": (sub(TG, 3, 1, "60003X.SH"), "t.csv:4:2", 3),
    "targets_non_numeric_weight": (sub(TG, 4, 2, "0.4x"), "t.csv:5:3", 3),
    "targets_empty_weight": (sub(TG, 4, 2, ""), "t.csv:5:3", 3),
    "targets_infinite_weight": (sub(TG, 1, 2, "inf"), "t.csv:2:3", 3),
    "targets_nan_weight": (sub(TG, 1, 2, "nan"), "t.csv:2:3", 3),
    "targets_negative_weight": (sub(TG, 2, 2, "-0.1"), "t.csv:3:3", 3),
    "targets_duplicate": (TG + [f"{DAYS[5]},sh.600036,0.05"], "t.csv:6:2", 3),
    "targets_sum_above_one": (sub(TG, 4, 2, "0.6"), "t.csv:4:3", 3),  # named where the sorted sum passes 1
    "targets_missing_weight_column": ([",".join(l.split(",")[:2]) for l in TG], "t.csv:1:3", 3),
    "targets_missing_code_column": ([l.split(",")[0] + "," + l.split(",")[2] for l in TG], "t.csv:1:3", 3),
    "targets_extra_field": (TG[:2] + [TG[2] + ",1"] + TG[3:], "t.csv:3:4", 3),
    "targets_empty_file": ([], "t.csv:1", 3),
    "targets_no_rows": (TG[:1] + ["", ""], "t.csv:2", 3),
    "targets_unterminated_quote": (TG[:4] + [f'{DAYS[5]},"000002.SZ,0.4'], "t.csv:5", 3),
    "targets_valid_crlf_bom_quotes": (b"\xef\xbb\xbf" + "\r\n".join(TG[:3] + [f'"{DAYS[5]}","600036.SH",0.5', ""])
                                      .encode(), None, 0),
    "targets_valid_cash_row_extra_column": (["date,code,weight,note", f"{DAYS[0]},600000.SH,0.3,a",
                                             f"{DAYS[5]},CASH,0,all cash", ""], None, 0),
}

SC = ["date,code,score"] + [f"{d},{c},{((k * 37 + t * 11) % 23) / 23.0:.4f}" for t, d in enumerate(DAYS[:25])
                            for k, c in enumerate(CODES)]
SCORES = {
    "scores_bad_date": (sub(SC, 3, 0, "2020-13-01"), "s.csv:4:1", 3),
    "scores_non_trading_day": (sub(SC, 3, 0, "2020-01-04"), "s.csv:4:1", 3),
    "scores_bad_code": (sub(SC, 5, 1, "000001"), "s.csv:6:2", 3),
    "scores_unknown_code": (sub(SC, 5, 1, "601988.SH"), "s.csv:6:2", 3),
    "scores_non_numeric": (sub(SC, 7, 2, "high"), "s.csv:8:3", 3),
    "scores_infinite": (sub(SC, 7, 2, "-inf"), "s.csv:8:3", 3),
    "scores_nan_marker": (sub(SC, 3, 2, "NaN"), "s.csv:4:3", 3),
    "scores_duplicate": (SC + [SC[1].replace("600000.SH", "SH600000")], f"s.csv:{len(SC) + 1}:2", 3),
    "scores_no_score_column": ([",".join(l.split(",")[:2]) for l in SC], "s.csv:1", 3),
    "scores_missing_date_column": ([",".join(l.split(",")[1:]) for l in SC], "s.csv:1:3", 3),
    "scores_extra_field": (SC[:4] + [SC[4] + ",1"] + SC[5:], "s.csv:5:4", 3),
    "scores_empty_file": ([], "s.csv:1", 3),
    "scores_no_rows": (SC[:1], "s.csv:2", 3),
    "scores_valid_empty_score_crlf": (("\r\n".join(sub(SC, 3, 2, "")) + "\r\n").encode(), None, 0),
}

# ------------------------------------------------------------------ optimisation problem directories (SPEC 11.1)
PROB = {
    "alpha.csv": ["code,score", "600000.SH,0.5", "000001.SZ,-0.2", "600519.SH,1.0", "300750.SZ,0.1"],
    "benchmark.csv": ["code,weight", "600000.SH,0.3", "000001.SZ,0.3", "600519.SH,0.4"],
    "previous.csv": ["code,weight", "600000.SH,0.5", "000001.SZ,0.4"],
    "exposures.csv": ["code,size,value", "600000.SH,0.1,0.2", "000001.SZ,-0.3,0.1", "600519.SH,1.2,-0.4",
                      "300750.SZ,0.5,0.0"],
    "industry.csv": ["code,industry", "600000.SH,Banks", "000001.SZ,Banks", "600519.SH,Food", "300750.SZ,Tech"],
    "factor_cov.csv": ["factor,size,value,Banks,Food,Tech", "size,0.01,0.002,0,0,0", "value,0.002,0.02,0,0,0",
                       "Banks,0,0,0.03,0.01,0", "Food,0,0,0.01,0.04,0", "Tech,0,0,0,0,0.05"],
    "specific_var.csv": ["code,var", "600000.SH,0.04", "000001.SZ,0.05", "600519.SH,0.06", "300750.SZ,0.09"],
    "tradable.csv": ["code,can_buy,can_sell", "600000.SH,1,1", "000001.SZ,1,1", "600519.SH,1,1", "300750.SZ,1,0"],
    "limits.ini": ["[limits]", "style_bound = 0.5", "industry_bound = 0.2", "te_max = 0.2", "constituent_floor = 0",
                   "turnover_max = 1", "active_max = 0.5", "weight_max = 0.6"],
}
P = PROB
PROBLEM = {
    "problem_alpha_missing_file": ({"alpha.csv": None}, "alpha.csv", 4),
    "problem_alpha_bad_score": ({"alpha.csv": sub(P["alpha.csv"], 2, 1, "x")}, "alpha.csv:3:2", 3),
    "problem_alpha_empty_code": ({"alpha.csv": sub(P["alpha.csv"], 2, 0, "")}, "alpha.csv:3:1", 3),
    "problem_alpha_duplicate": ({"alpha.csv": P["alpha.csv"] + ["600000.SH,0.2"]}, "alpha.csv:6:1", 3),
    "problem_alpha_constant": ({"alpha.csv": ["code,score"] + [l.split(",")[0] + ",0.3" for l in P["alpha.csv"][1:]]},
                               "alpha.csv:2:2", 3),
    "problem_alpha_no_rows": ({"alpha.csv": ["code,score"]}, "alpha.csv:2", 3),
    "problem_alpha_missing_score_column": ({"alpha.csv": [l.split(",")[0] for l in P["alpha.csv"]]}, "alpha.csv:1:2",
                                           3),
    "problem_benchmark_code_not_in_alpha": ({"benchmark.csv": sub(P["benchmark.csv"], 1, 0, "601988.SH")},
                                            "benchmark.csv:2:1", 3),
    "problem_benchmark_duplicate": ({"benchmark.csv": P["benchmark.csv"] + ["600519.SH,0"]}, "benchmark.csv:5:1", 3),
    "problem_benchmark_negative": ({"benchmark.csv": sub(sub(P["benchmark.csv"], 1, 1, "-0.1"), 3, 1, "0.8")},
                                   "benchmark.csv:2:2", 3),
    "problem_benchmark_sum": ({"benchmark.csv": sub(P["benchmark.csv"], 3, 1, "0.3")}, "benchmark.csv:2:2", 3),
    "problem_benchmark_missing_column": ({"benchmark.csv": [l.split(",")[0] for l in P["benchmark.csv"]]},
                                         "benchmark.csv:1:2", 3),
    "problem_previous_sum_above_one": ({"previous.csv": sub(P["previous.csv"], 2, 1, "0.6")}, "previous.csv:2:2", 3),
    "problem_previous_non_numeric": ({"previous.csv": sub(P["previous.csv"], 2, 1, "4O%")}, "previous.csv:3:2", 3),
    "problem_exposures_missing_code": ({"exposures.csv": P["exposures.csv"][:-1]}, "exposures.csv:5", 3),
    "problem_exposures_non_numeric": ({"exposures.csv": sub(P["exposures.csv"], 3, 2, "nan")}, "exposures.csv:4:3", 3),
    "problem_exposures_reserved_name": ({"exposures.csv": [P["exposures.csv"][0].replace("value", "country")]
                                         + P["exposures.csv"][1:]}, "exposures.csv:1:3", 3),
    "problem_exposures_repeated_name": ({"exposures.csv": [P["exposures.csv"][0].replace("value", "size")]
                                         + P["exposures.csv"][1:]}, "exposures.csv:1:3", 3),
    "problem_industry_missing_code": ({"industry.csv": P["industry.csv"][:2] + P["industry.csv"][3:]},
                                      "industry.csv:5", 3),
    "problem_industry_style_name": ({"industry.csv": sub(P["industry.csv"], 4, 1, "size")}, "industry.csv:5:2", 3),
    "problem_industry_unknown_code": ({"industry.csv": P["industry.csv"] + ["688981.SH,Tech"]}, "industry.csv:6:1", 3),
    "problem_cov_bad_header": ({"factor_cov.csv": ["name" + P["factor_cov.csv"][0][6:]] + P["factor_cov.csv"][1:]},
                               "factor_cov.csv:1:1", 3),
    "problem_cov_unknown_factor_column": ({"factor_cov.csv": [P["factor_cov.csv"][0].replace("Food", "Energy")]
                                           + P["factor_cov.csv"][1:]}, "factor_cov.csv:1:5", 3),
    "problem_cov_factor_twice_in_header": ({"factor_cov.csv": [P["factor_cov.csv"][0].replace("Food", "Tech")]
                                            + P["factor_cov.csv"][1:]}, "factor_cov.csv:1:6", 3),
    "problem_cov_factor_missing_from_header": ({"factor_cov.csv": [",".join(l.split(",")[:5])
                                                                   for l in P["factor_cov.csv"][:5]]},
                                               "factor_cov.csv:1", 3),
    "problem_cov_unknown_factor_row": ({"factor_cov.csv": sub(P["factor_cov.csv"], 3, 0, "Energy")},
                                       "factor_cov.csv:4:1", 3),
    "problem_cov_row_twice": ({"factor_cov.csv": P["factor_cov.csv"] + [P["factor_cov.csv"][1]]},
                              "factor_cov.csv:7:1", 3),
    "problem_cov_row_missing": ({"factor_cov.csv": P["factor_cov.csv"][:5]}, "factor_cov.csv:6", 3),
    "problem_cov_negative_variance": ({"factor_cov.csv": sub(P["factor_cov.csv"], 5, 5, "-0.05")},
                                      "factor_cov.csv:6:6", 3),
    "problem_cov_not_symmetric": ({"factor_cov.csv": sub(P["factor_cov.csv"], 4, 3, "0.02")}, "factor_cov.csv:5:4",
                                  3),
    "problem_cov_not_psd": ({"factor_cov.csv": sub(sub(P["factor_cov.csv"], 3, 4, "0.05"), 4, 3, "0.05")},
                            "factor_cov.csv:5", 3),
    "problem_cov_non_numeric": ({"factor_cov.csv": sub(P["factor_cov.csv"], 2, 2, "--")}, "factor_cov.csv:3:3", 3),
    "problem_specvar_negative": ({"specific_var.csv": sub(P["specific_var.csv"], 3, 1, "-0.06")},
                                 "specific_var.csv:4:2", 3),
    "problem_specvar_missing_code": ({"specific_var.csv": P["specific_var.csv"][:-1]}, "specific_var.csv:5", 3),
    "problem_tradable_bad_flag": ({"tradable.csv": sub(P["tradable.csv"], 2, 1, "yes")}, "tradable.csv:3:2", 3),
    "problem_tradable_missing_code": ({"tradable.csv": P["tradable.csv"][:-1]}, "tradable.csv:5", 3),
    "problem_limits_unknown_key": ({"limits.ini": P["limits.ini"] + ["te_maximum = 0.1"]}, "limits.ini:9", 3),
    "problem_limits_out_of_range": ({"limits.ini": P["limits.ini"] + ["weight_max = 1.5"]}, "limits.ini:9", 3),
    "problem_limits_not_a_number": ({"limits.ini": P["limits.ini"][:3] + ["te_max = five %"] + P["limits.ini"][4:]},
                                    "limits.ini:4", 3),
    "problem_limits_non_integer": ({"limits.ini": P["limits.ini"] + ["max_rounds = 2.5"]}, "limits.ini:9", 3),
    "problem_limits_malformed_line": ({"limits.ini": P["limits.ini"][:2] + ["industry_bound 0.2"]
                                       + P["limits.ini"][3:]}, "limits.ini:3", 3),
    "problem_valid_optional_absent_crlf": ({"previous.csv": None, "tradable.csv": None, "limits.ini": None,
                                            "alpha.csv": ("\r\n".join(P["alpha.csv"]) + "\r\n").encode()}, None, 0),
    "problem_valid_limits_bom_crlf_other_section": ({"limits.ini": b"\xef\xbb\xbf[other]\r\nx = 1\r\n[limits]\r\n"
                                                                    b"te_max = 0.3\r\n; note\r\n"}, None, 0),
    "problem_valid_unclassified_country": ({"industry.csv": sub(P["industry.csv"], 4, 1, ""),
                                            "factor_cov.csv": ["factor,size,value,Banks,Food,country",
                                                               "size,0.01,0.002,0,0,0", "value,0.002,0.02,0,0,0",
                                                               "Banks,0,0,0.03,0.01,0", "Food,0,0,0.01,0.04,0",
                                                               "country,0,0,0,0,0.02"]}, None, 0),
}

# ------------------------------------------------------------------ configuration files (zhizeng run CONFIG)
CFG = ["[market]", "dir = MARKET", "", "[model]", "cell = gru", "hidden = 8", "", "[backtest]", "first_year = 2020",
       "last_year = 2020", "", "[output]", "dir = OUT"]
CONFIG = {
    "config_unknown_section": (CFG + ["[modle]", "hidden = 8"], "c.ini:15", 2),  # named at its first key
    "config_unknown_key": (CFG[:5] + ["hiden = 8"] + CFG[6:], "c.ini:6", 2),
    "config_bad_integer": (CFG[:5] + ["hidden = eight"] + CFG[6:], "c.ini:6", 2),
    "config_integer_out_of_range": (CFG[:5] + ["hidden = -3"] + CFG[6:], "c.ini:6", 2),
    "config_bad_choice": (CFG[:4] + ["cell = transformer"] + CFG[5:], "c.ini: model.cell", 2),
    "config_not_ini": (CFG[:2] + ["this is not a key"] + CFG[2:], "c.ini:3", 2),
    "config_years_reversed": (CFG[:8] + ["first_year = 2021"] + CFG[9:], "c.ini: backtest.first_year", 2),
    "config_bad_list": (CFG + ["[optimizer]", "indices = csi300,csi400"], "c.ini: optimizer.indices", 2),
    "config_valid_bom": (b"\xef\xbb\xbf" + ("\n".join(CFG) + "\n").encode(), None, 0),
    "config_valid_crlf_comments": (("\r\n".join(["; a comment", "# another"] + CFG + ["", ""]) + "\r\n").encode(),
                                   None, 0),
    "config_bad_bool": (CFG + ["[risk]", "fundamentals = maybe"], "c.ini:15", 2),
    "config_bad_date": (CFG + ["[market]", "synth_start = 2010-02-30"], "c.ini:15", 2),
    "config_bad_number": (CFG + ["[sim]", "buy_rate = 0.0003x"], "c.ini:15", 2),
    "config_nan_number": (CFG + ["[sim]", "buy_rate = nan"], "c.ini:15", 2),
    "config_infinite_number": (CFG + ["[optimizer]", "te_max_csi300 = inf"], "c.ini:15", 2),
    "config_missing_file": (None, "c.ini", 4),
    # a valid configuration over a market with a bad bars.csv: the ingest error, and no output directory left
    "config_market_with_bad_bars": (CFG[:1] + ["dir = BADMARKET"] + CFG[2:], "market_bad/bars.csv:3:5", 3),
    "config_line_too_long": (CFG + ["[report]", "note = " + "x" * 5000], "c.ini:15", 2),
}

# ------------------------------------------------------------------ safetensors (SPEC 11.2) and native model files
F, H, K = 3, 2, 1


def floats(n, seed):
    return [((seed * 31 + k * 17) % 13 - 6) / 20.0 for k in range(n)]


def safetensors(tensors, metadata, header_patch=None):
    """tensors: name -> (dtype, shape, [values]); returns the bytes of a safetensors file."""
    hdr, data = {}, b""
    if metadata is not None:
        hdr["__metadata__"] = metadata
    for name, (dt, shape, vals) in tensors.items():
        b = struct.pack(f"<{len(vals)}{'f' if dt == 'F32' else 'd'}", *vals)
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    if header_patch:
        header_patch(hdr)
    h = json.dumps(hdr).encode()
    return struct.pack("<Q", len(h)) + h + data


META = {"cell": "gru", "layers": "1", "hidden": str(H), "input_size": str(F), "outputs": str(K),
        "head": "univariate", "lambda": "0"}


def model_tensors():
    shapes = {"rnn.weight_ih_l0": [3 * H, F], "rnn.weight_hh_l0": [3 * H, H], "rnn.bias_ih_l0": [3 * H],
              "rnn.bias_hh_l0": [3 * H], "head.weight": [K, H], "head.bias": [K]}
    return {n: ("F32", s, floats(math.prod(s), k)) for k, (n, s) in enumerate(shapes.items())}


def st_with(change=None, meta=None, patch=None):
    t = model_tensors()
    if change:
        change(t)
    m = dict(META)
    if meta:
        for k, v in meta.items():
            if v is None:
                m.pop(k, None)
            else:
                m[k] = v
    return safetensors(t, m, patch)


def good_st():
    return st_with()


def padded(b, k=7):
    """b with k spaces after its JSON header (the safetensors format pads headers to 8 bytes with spaces)."""
    hl = struct.unpack("<Q", b[:8])[0]
    return struct.pack("<Q", hl + k) + b[8:8 + hl] + b" " * k + b[8 + hl:]


def raw_header(text):
    h = text.encode()
    return struct.pack("<Q", len(h)) + h


def set_(d, k, v):
    d[k] = v


ST = {
    "st_empty_file": (b"", "m.safetensors: byte 0", 3),
    "st_short_header_length": (b"\x10\x00\x00", "m.safetensors: byte 0", 3),
    "st_header_length_too_large": (struct.pack("<Q", 1 << 40) + b"{}", "m.safetensors: byte 0", 3),
    "st_header_not_json": (raw_header("{\"a\": [1, 2,}"), "m.safetensors: safetensors header, byte", 3),
    "st_header_truncated_json": (raw_header("{\"rnn.weight_ih_l0\": {\"dtype\": \"F32\""),
                                 "m.safetensors: safetensors header, byte", 3),
    "st_trailing_garbage_in_header": (raw_header("{} x"), "m.safetensors: safetensors header, byte", 3),
    "st_wrong_dtype": (st_with(lambda t: t.update({"head.bias": ("F32", [K], [0.0])}),
                               patch=lambda h: h["head.bias"].update({"dtype": "I64"})),
                       "tensor 'head.bias'", 3),
    "st_wrong_shape": (st_with(lambda t: t.update({"head.weight": ("F32", [H, K], floats(H * K, 5))})),
                       "tensor 'head.weight'", 3),
    "st_missing_tensor": (st_with(lambda t: t.pop("rnn.bias_hh_l0")), "tensor 'rnn.bias_hh_l0'", 3),
    "st_unexpected_tensor": (st_with(lambda t: t.update({"rnn.weight_ih_l1": ("F32", [3 * H, H], floats(6 * H, 9))})),
                             "tensor 'rnn.weight_ih_l1'", 3),
    "st_offsets_mismatch": (st_with(patch=lambda h: h["head.bias"].update({"data_offsets": [0, 8]})),
                            "tensor 'head.bias'", 3),
    "st_data_truncated": (good_st()[:-3], "m.safetensors", 3),
    "st_unknown_tensor_field": (st_with(patch=lambda h: h["head.bias"].update({"dtyp": "F32"})),
                                "tensor 'head.bias'", 3),
    "st_metadata_missing_cell": (st_with(meta={"cell": None}), "'cell'", 3),
    "st_metadata_bad_cell": (st_with(meta={"cell": "rnn"}), "'cell'", 3),
    "st_metadata_bad_head": (st_with(meta={"head": "bivariate"}), "'head'", 3),
    "st_metadata_bad_hidden": (st_with(meta={"hidden": "two"}), "'hidden'", 3),
    "st_metadata_bad_lambda": (st_with(meta={"lambda": "1e"}), "'lambda'", 3),
    "st_metadata_layers_out_of_range": (st_with(meta={"layers": "3"}), "__metadata__", 3),
    "st_metadata_hidden_mismatch": (st_with(meta={"hidden": "4"}), "tensor 'rnn.weight_ih_l0'", 3),
    "st_nan_weight": (st_with(lambda t: t.update({"head.weight": ("F32", [K, H], [0.1, float("nan")])})),
                      "tensor 'head.weight'", 3),
    "st_infinite_bias": (st_with(lambda t: t.update({"rnn.bias_hh_l0": ("F32", [3 * H], [0.0] * 5 + [float("inf")])})),
                         "tensor 'rnn.bias_hh_l0'", 3),
    "st_valid_header_padded_with_spaces": (padded(good_st()), None, 0),
    "st_valid_f64_tensors": (safetensors({n: ("F64", s, v) for n, (d, s, v) in model_tensors().items()}, META), None,
                             0),
}


def x_input(n=4, t=5, patch=None, extra=None, dt="F32", nan_at=None):
    v = floats(n * t * F, 3)
    if nan_at is not None:
        v[nan_at] = float("nan")
    ts = {"x": (dt, [n, t, F], v)}
    if extra:
        ts.update(extra)
    return safetensors(ts, None, patch)


INPUT = {
    "input_missing_x": (safetensors({"y": ("F32", [4], [0.0] * 4)}, None), "'x'", 3),
    "input_x_wrong_rank": (safetensors({"x": ("F32", [4, F], floats(4 * F, 1))}, None), "'x'", 3),
    "input_x_wrong_features": (safetensors({"x": ("F32", [4, 5, F + 1], floats(20 * (F + 1), 1))}, None), "'x'", 3),
    "input_y_wrong_length": (x_input(extra={"y": ("F32", [3], [0.0] * 3)}), "'y'", 3),
    "input_not_safetensors": (b"x,y\n1,2\n", "x.safetensors: byte 0", 3),
    "input_x_nan": (x_input(extra=None, patch=None, n=4, t=5, nan_at=7), "'x'", 3),
    "input_valid_with_y": (x_input(extra={"y": ("F32", [4], [0.1, -0.2, 0.3, 0.0])}), None, 0),
}


def fnv1a(data):
    h = 0xCBF29CE484222325
    for c in data:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def resealed(native, offset, value, fmt="<I"):
    """native with the field at offset replaced and a correct checksum: only the field itself is wrong."""
    b = bytearray(native[:-8])
    b[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(b) + struct.pack("<Q", fnv1a(b))


LIN = ["zz_linear v1", "2 3", "0.1 0.05", "PREP", "1 2 3 4 5 6 7"]
LINEAR = {  # model/linear_baseline.c, read by `zhizeng score --models DIR` (DIR/Y<year>_seed0.lin)
    "linear_bad_magic": (["zz_linear v2"] + LIN[1:], "Y2020_seed0.lin:1", 3),
    "linear_empty": ([], "Y2020_seed0.lin:1", 3),
    "linear_bad_sizes": (LIN[:1] + ["2 x"] + LIN[2:], "Y2020_seed0.lin:2", 3),
    "linear_sizes_out_of_range": (LIN[:1] + ["0 3"] + LIN[2:], "Y2020_seed0.lin:2", 3),
    "linear_bad_lambda": (LIN[:2] + ["-1 0.05"] + LIN[3:], "Y2020_seed0.lin:3", 3),
    "linear_no_preprocessing": (LIN[:3], "Y2020_seed0.lin:4", 3),
    "linear_too_few_coefficients": (LIN[:4] + ["1 2 3 4 5 6"], "Y2020_seed0.lin:5:7", 3),
    "linear_too_many_coefficients": (LIN[:4] + ["1 2 3 4 5 6 7 8"], "Y2020_seed0.lin:5:8", 3),
    "linear_non_finite_coefficient": (LIN[:4] + ["1 2 nan 4 5 6 7"], "Y2020_seed0.lin:5:3", 3),
    "linear_bad_coefficient": (LIN[:4] + ["1 2 3x 4 5 6 7"], "Y2020_seed0.lin:5:3", 3),
    "linear_trailing_line": (LIN + ["8"], "Y2020_seed0.lin:6", 3),
}


def native_cases(native):
    """native: the bytes of a valid native model file (from `model import`)."""
    n = len(native)
    flip = bytearray(native)
    flip[n // 2] ^= 0x40
    ver = bytearray(native)
    ver[8:12] = struct.pack("<I", 99)
    return {
        "native_empty": (b"", "m.zzm: byte 0", 3),
        "native_bad_magic": (b"XXMODEL\0" + native[8:], "m.zzm: byte 0", 3),
        "native_bad_version": (bytes(ver), "m.zzm: byte 8", 3),
        "native_truncated": (native[: n - 100], f"m.zzm: byte {n - 108}", 3),
        "native_flipped_byte": (bytes(flip), f"m.zzm: byte {n - 8}", 3),
        "native_appended_bytes": (native + b"\0\0\0\0", f"m.zzm: byte {n - 4}", 3),
        # layout (version 3): cell at byte 16, layers at 20, hidden at 24, parameter count at 100
        "native_bad_cell": (resealed(native, 16, 9), "m.zzm: byte 16", 3),
        "native_zero_layers": (resealed(native, 20, 0), "m.zzm: byte 16", 3),
        "native_wrong_hidden": (resealed(native, 24, H + 1), "m.zzm: byte 100", 3),
        "native_wrong_param_count": (resealed(native, 100, 7, "<Q"), "m.zzm: byte 100", 3),
        # parameters from byte 132 (after the 132-byte header): a NaN weight, checksum correct
        "native_nan_parameter": (resealed(native, 132, float("nan"), "<f"), "m.zzm: byte 132", 3),
        "native_resealed_valid": (resealed(native, 100, struct.unpack_from("<Q", native, 100)[0], "<Q"), None, 0),
    }


# ------------------------------------------------------------------ running
def check(zz, name, argv, cwd, where, code, outputs, log):
    r = subprocess.run([zz] + argv, capture_output=True, text=True, timeout=120, cwd=cwd)
    problems = []
    if where is None:
        if r.returncode != 0:
            problems.append(f"a valid input was refused (exit {r.returncode})")
        elif outputs == ["<stdout>"] and "[market]" not in r.stdout:
            problems.append("accepted but printed no configuration")
        elif outputs != ["<stdout>"] and not any(os.path.exists(os.path.join(cwd, o)) for o in outputs):
            problems.append("accepted but wrote no output")
    else:
        if r.returncode != code:
            problems.append(f"exit code {r.returncode}, expected {code}")
        if where not in r.stderr:
            problems.append(f"stderr does not name '{where}'")
        if code == 3 and "expected" not in r.stderr:
            problems.append("the message does not say what was expected")
        left = [o for o in outputs if os.path.exists(os.path.join(cwd, o))] + (["stdout"] if r.stdout else [])
        if left:
            problems.append(f"output left behind: {left}")
        tmp = [f for f in os.listdir(cwd) if ".tmp" in f]
        if tmp:
            problems.append(f"temporary files left: {tmp}")
        if "Sanitizer" in r.stderr or r.returncode < 0:
            problems.append("crashed")
    msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    if problems:
        log.append(f"FAIL {name}: {'; '.join(problems)}\n  stderr: {r.stderr.strip()[-1500:]}")
        return 1
    log.append(f"ok   {name}: {'accepted' if where is None else msg}")
    return 0


def case_dir(root, kind, name, clean=True):
    d = os.path.join(root, kind, name)
    if clean and os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d, exist_ok=True)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng")
    ap.add_argument("--workdir")
    ap.add_argument("--only", default="")
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args()
    if a.table:
        return print_table()
    if not a.zhizeng or not a.workdir:
        ap.error("--zhizeng and --workdir are required")
    zz = os.path.abspath(a.zhizeng)
    root = os.path.abspath(a.workdir)
    os.makedirs(root, exist_ok=True)
    log, failed, total = [], 0, 0
    want = lambda k: not a.only or a.only == k

    mdir = os.path.join(root, "market")
    if os.path.isdir(mdir):
        shutil.rmtree(mdir)
    for fn, lines in market_files().items():
        write_lines(os.path.join(mdir, fn), lines)

    bad_mdir = os.path.join(root, "market_bad")
    if os.path.isdir(bad_mdir):
        shutil.rmtree(bad_mdir)
    for fn, lines in market_files().items():
        write_lines(os.path.join(bad_mdir, fn), sub(lines, 2, 4, "-1") if fn == "bars.csv" else lines)

    if want("targets"):
        for name, (lines, where, code) in sorted(TARGETS.items()):
            d = case_dir(root, "targets", name)
            write_lines(os.path.join(d, "t.csv"), lines)
            total += 1
            failed += check(zz, name, ["simulate", "--market", mdir, "--targets", "t.csv", "--out", "out", "--index",
                                       "000300", "--no-cache"], d, where, code, ["out"], log)
    if want("scores"):
        for name, (lines, where, code) in sorted(SCORES.items()):
            d = case_dir(root, "scores", name)
            write_lines(os.path.join(d, "s.csv"), lines)
            total += 1
            failed += check(zz, name, ["evaluate", "--market", mdir, "--scores", "s.csv", "--out", "out", "--groups",
                                       "2"], d, where, code, ["out"], log)
    if want("problem"):
        for name, (changes, where, code) in sorted(PROBLEM.items()):
            d = case_dir(root, "problem", name)
            files = dict(PROB)
            files.update(changes)
            for fn, lines in files.items():
                if lines is not None:
                    write_lines(os.path.join(d, "p", fn), lines)
            total += 1
            failed += check(zz, name, ["optimize", "--problem", "p", "--out", "w.csv"], d,
                            where and os.path.join("p", where), code, ["w.csv", "w.csv.diag.ini"], log)
    if want("config"):
        for name, (lines, where, code) in sorted(CONFIG.items()):
            d = case_dir(root, "config", name)
            fill = lambda l: (l.replace("BADMARKET", bad_mdir).replace("MARKET", mdir)
                              .replace("OUT", os.path.join(d, "out")))
            if isinstance(lines, bytes):
                write_lines(os.path.join(d, "c.ini"), fill(lines.decode()).encode())
            elif lines is not None:
                write_lines(os.path.join(d, "c.ini"), [fill(l) for l in lines])
            total += 1
            # a valid configuration is only printed (--print-config), not run: the runs are other tests' work
            failed += check(zz, name, ["run", "c.ini"] + (["--print-config"] if where is None else []), d, where, code,
                            ["<stdout>"] if where is None else ["out"], log)
    if want("st") or want("input") or want("native"):
        d0 = case_dir(root, "model", "valid")
        write_lines(os.path.join(d0, "m.safetensors"), good_st())
        r = subprocess.run([zz, "model", "import", "--in", "m.safetensors", "--out", "m.zzm"], cwd=d0,
                           capture_output=True, text=True, timeout=60)
        total += 1
        if r.returncode != 0 or not os.path.isfile(os.path.join(d0, "m.zzm")):
            failed += 1
            log.append(f"FAIL model_valid_import: the valid safetensors model was refused: {r.stderr.strip()}")
            native = None
        else:
            log.append("ok   model_valid_import: accepted")
            with open(os.path.join(d0, "m.zzm"), "rb") as f:
                native = f.read()
        if want("st"):
            for name, (data, where, code) in sorted(ST.items()):
                d = case_dir(root, "st", name)
                write_lines(os.path.join(d, "m.safetensors"), data)
                total += 1
                failed += check(zz, name, ["model", "import", "--in", "m.safetensors", "--out", "m.zzm"], d, where,
                                code, ["m.zzm"], log)
        if want("input"):
            for name, (data, where, code) in sorted(INPUT.items()):
                d = case_dir(root, "input", name)
                write_lines(os.path.join(d, "m.safetensors"), good_st())
                write_lines(os.path.join(d, "x.safetensors"), data)
                total += 1
                failed += check(zz, name, ["model", "forward", "--model", "m.safetensors", "--input", "x.safetensors",
                                           "--output", "y.safetensors"], d, where, code, ["y.safetensors"], log)
        if want("native") and native is not None:
            for name, (data, where, code) in sorted(native_cases(native).items()):
                d = case_dir(root, "native", name)
                write_lines(os.path.join(d, "m.zzm"), data)
                total += 1
                failed += check(zz, name, ["model", "export", "--model", "m.zzm", "--out", "e.safetensors"], d, where,
                                code, ["e.safetensors"], log)
    if want("linear"):
        for name, (lines, where, code) in sorted(LINEAR.items()):
            d = case_dir(root, "linear", name)
            write_lines(os.path.join(d, "models", "Y2020_seed0.lin"), lines)
            total += 1
            failed += check(zz, name, ["score", "--market", mdir, "--models", "models", "--out", "s.csv", "--year",
                                       "2020"], d, where and os.path.join("models", where), code, ["s.csv"], log)
    print("\n".join(log))
    print(f"{total - failed}/{total} bad-input cases behaved as expected")
    return 1 if failed else 0


def print_table():
    rows = []
    for kind, cases in (("targets CSV (simulate --targets)", TARGETS), ("scores CSV (evaluate --scores)", SCORES),
                        ("problem directory (optimize --problem)", PROBLEM), ("config (run CONFIG)", CONFIG),
                        ("safetensors model (model import --in)", ST), ("safetensors input (model forward --input)",
                                                                        INPUT),
                        ("linear model (score --models DIR: DIR/Y<year>_seed0.lin)", LINEAR)):
        for name, v in sorted(cases.items()):
            where, code = v[-2], v[-1]
            rule = name.split("_", 1)[1].replace("_", " ")
            rows.append(f"| {kind} | {rule} | `{name}` | {code} | {'accepted' if where is None else '`' + where + '`'} |")
    # the native file of this model is 680 bytes: the offsets below are those the run checks
    for name, v in sorted(native_cases(b"ZZMODEL\0" + bytes(672)).items()):
        where = "accepted" if v[1] is None else f"`{v[1]}`"
        rows.append(f"| native model (model export --model) | {name.split('_', 1)[1].replace('_', ' ')} | `{name}` | "
                    f"{v[2]} | {where} |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
