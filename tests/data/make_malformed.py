#!/usr/bin/env python3
"""Writes tests/data/malformed/: one tiny market directory per validation rule of SPEC 2.2.

Each case is the valid base market below with one change, plus a sidecar file `expect`:
line 1 is the "file:line:column" (or "file:line" / "file") the error must name, line 2 the exit
code. run_malformed.py checks them against `zhizeng ingest`. The output is committed; rerun this
script only when adding cases:  python3 tests/data/make_malformed.py
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "malformed")

BASE = {
    "index_bars.csv": [
        "date,index,close",
        "2020-01-02,000300,4000",
        "2020-01-03,000300,4010",
        "2020-01-06,000300,4020",
    ],
    "bars.csv": [
        "date,code,open,high,low,close,volume,amount",
        "2020-01-02,600000.SH,10,10.5,9.9,10.2,1000,10200",
        "2020-01-02,000001.SZ,15,15.5,14.8,15.2,2000,30400",
        "2020-01-03,600000.SH,10.2,10.6,10.1,10.4,1000,10400",
        "2020-01-03,000001.SZ,15.2,15.6,15,15.5,2000,31000",
        "2020-01-06,600000.SH,10.4,10.8,10.3,10.5,1000,10500",
    ],
    "index_weights.csv": [
        "date,index,code,weight",
        "2020-01-02,000300,600000.SH,60",
        "2020-01-02,000300,000001.SZ,40",
        "2020-01-06,000300,600000.SH,0.5",
        "2020-01-06,000300,000001.SZ,0.5",
    ],
    "stocks.csv": [
        "code,name,board,list_date,delist_date",
        "600000.SH,PF Bank,main,1999-11-10,",
        "000001.SZ,Ping An Bank,main,1991-04-03,",
    ],
    "industry.csv": [
        "code,industry,start_date,end_date",
        "600000.SH,Banks,2010-01-01,",
        "000001.SZ,Banks,2010-01-01,",
    ],
    "fundamentals.csv": [
        "date,code,float_shares,total_shares",
        "2019-10-30,600000.SH,28103763899,29352080397",
        "2019-10-22,000001.SZ,19405546950,19405918198",
    ],
}


def sub(lines, row, col, value):
    """lines[row] (0 = header) with field col (0-based) replaced."""
    out = list(lines)
    f = out[row].split(",")
    f[col] = value
    out[row] = ",".join(f)
    return out


B, W, I = BASE["bars.csv"], BASE["index_weights.csv"], BASE["index_bars.csv"]
S, N, F = BASE["stocks.csv"], BASE["industry.csv"], BASE["fundamentals.csv"]

# name: (changes {file: lines or None to delete}, expected location, exit code)
CASES = {
    "bars_extra_field": ({"bars.csv": B[:3] + [B[3] + ",7"] + B[4:]}, "bars.csv:4:9", 3),
    "bars_missing_field": ({"bars.csv": B[:2] + [B[2].rsplit(",", 1)[0]] + B[3:]}, "bars.csv:3:8", 3),
    "bars_non_numeric": ({"bars.csv": sub(B, 2, 5, "15.2x")}, "bars.csv:3:6", 3),
    "bars_infinite_value": ({"bars.csv": sub(B, 3, 6, "inf")}, "bars.csv:4:7", 3),
    "bars_empty_required": ({"bars.csv": sub(B, 2, 5, "")}, "bars.csv:3:6", 3),
    "bars_bad_date": ({"bars.csv": sub(B, 3, 0, "2020-13-03")}, "bars.csv:4:1", 3),
    "bars_bad_date_feb30": ({"bars.csv": sub(B, 2, 0, "2019-02-29")}, "bars.csv:3:1", 3),
    "bars_non_trading_day": ({"bars.csv": sub(B, 5, 0, "2020-01-04")}, "bars.csv:6:1", 3),
    "bars_duplicate_date_code": ({"bars.csv": B + [B[3]]}, "bars.csv:7:2", 3),
    "bars_duplicate_code_spelling": ({"bars.csv": B + ["2020-01-06,sh.600000,10.4,10.8,10.3,10.5,1000,10500"]},
                                     "bars.csv:7:2", 3),
    "bars_negative_price": ({"bars.csv": sub(B, 4, 4, "-15")}, "bars.csv:5:5", 3),
    "bars_zero_close": ({"bars.csv": sub(sub(B, 4, 5, "0"), 4, 4, "0")}, "bars.csv:5:5", 3),
    "bars_negative_volume": ({"bars.csv": sub(B, 2, 6, "-2000")}, "bars.csv:3:7", 3),
    "bars_negative_amount": ({"bars.csv": sub(B, 5, 7, "-10500")}, "bars.csv:6:8", 3),
    "bars_high_below_low": ({"bars.csv": sub(sub(B, 3, 3, "10.0"), 3, 2, "10.05")}, "bars.csv:4:4", 3),
    "bars_close_above_high": ({"bars.csv": sub(B, 2, 5, "15.6")}, "bars.csv:3:6", 3),
    "bars_close_below_low": ({"bars.csv": sub(B, 5, 5, "10.29")}, "bars.csv:6:6", 3),
    "bars_open_outside_range": ({"bars.csv": sub(B, 4, 2, "15.7")}, "bars.csv:5:3", 3),
    "bars_bad_code": ({"bars.csv": sub(B, 3, 1, "60000X.SH")}, "bars.csv:4:2", 3),
    "bars_bad_exchange": ({"bars.csv": sub(B, 3, 1, "600000.HK")}, "bars.csv:4:2", 3),
    "bars_bad_suspended_flag": ({"bars.csv": [B[0] + ",suspended"] + [l + ",0" for l in B[1:3]] + [B[3] + ",2"]
                                 + [l + ",0" for l in B[4:]]}, "bars.csv:4:9", 3),
    "bars_missing_column": ({"bars.csv": [",".join(l.split(",")[:7]) for l in B]}, "bars.csv:1:8", 3),
    "bars_missing_file": ({"bars.csv": None}, "bars.csv: missing required file", 3),
    "bars_unterminated_quote": ({"bars.csv": B[:5] + ['2020-01-06,"600000.SH,10.4,10.8,10.3,10.5,1000,10500']},
                                "bars.csv:6", 3),
    "bars_tushare_bad_trade_date": ({"bars.csv": ["ts_code,trade_date,open,high,low,close,pre_close,vol,amount",
                                                  "600000.SH,20200102,10,10.5,9.9,10.2,10,10,10.2",
                                                  "000001.SZ,2020012,15,15.5,14.8,15.2,15,20,30.4"]},
                                    "bars.csv:3:2", 3),
    "bars_negative_pre_close": ({"bars.csv": [B[0] + ",pre_close"] + [B[1] + ",-1"] + [l + "," for l in B[2:]]},
                                "bars.csv:2:9", 3),
    "index_bars_unknown_index": ({"index_bars.csv": sub(I, 2, 1, "000001")}, "index_bars.csv:3:2", 3),
    "index_bars_weekend": ({"index_bars.csv": I + ["2020-01-04,000300,4015"]}, "index_bars.csv:5:1", 3),
    "index_bars_bad_date": ({"index_bars.csv": sub(I, 1, 0, "2020/01/32")}, "index_bars.csv:2:1", 3),
    "index_bars_duplicate": ({"index_bars.csv": I + ["2020-01-03,csi300,4010"]}, "index_bars.csv:5:1", 3),
    "index_bars_negative_close": ({"index_bars.csv": sub(I, 3, 2, "-4020")}, "index_bars.csv:4:3", 3),
    "index_bars_missing_column": ({"index_bars.csv": [",".join(l.split(",")[:2]) for l in I]},
                                  "index_bars.csv:1:3", 3),
    "index_bars_missing_file": ({"index_bars.csv": None}, "index_bars.csv: missing required file", 3),
    "weights_sum_percent": ({"index_weights.csv": sub(W, 2, 3, "30")}, "index_weights.csv:2:4", 3),
    "weights_sum_fraction": ({"index_weights.csv": sub(W, 4, 3, "0.45")}, "index_weights.csv:4:4", 3),
    "weights_code_not_in_bars": ({"index_weights.csv": sub(W, 3, 2, "601318.SH")}, "index_weights.csv:4:3", 3),
    "weights_non_trading_day": ({"index_weights.csv": sub(sub(W, 3, 0, "2020-01-05"), 4, 0, "2020-01-05")},
                                "index_weights.csv:4:1", 3),
    "weights_unknown_index": ({"index_weights.csv": sub(W, 1, 1, "000016")}, "index_weights.csv:2:2", 3),
    "weights_bad_code": ({"index_weights.csv": sub(W, 2, 2, "1.SZ")}, "index_weights.csv:3:3", 3),
    "weights_duplicate": ({"index_weights.csv": W + ["2020-01-06,csi300,000001.SZ,0.5"]},
                          "index_weights.csv:6:3", 3),
    "weights_negative": ({"index_weights.csv": sub(sub(W, 1, 3, "-60"), 2, 3, "160")}, "index_weights.csv:2:4", 3),
    "weights_non_numeric": ({"index_weights.csv": sub(W, 4, 3, "half")}, "index_weights.csv:5:4", 3),
    "weights_missing_column": ({"index_weights.csv": [",".join(l.split(",")[:3]) for l in W]},
                               "index_weights.csv:1:4", 3),
    "weights_missing_file": ({"index_weights.csv": None}, "index_weights.csv: missing required file", 3),
    "stocks_bad_board": ({"stocks.csv": sub(S, 1, 2, "nasdaq")}, "stocks.csv:2:3", 3),
    "stocks_duplicate": ({"stocks.csv": S + ["sz.000001,Ping An,main,1991-04-03,"]}, "stocks.csv:4:1", 3),
    "stocks_bad_list_date": ({"stocks.csv": sub(S, 2, 3, "1991-04-31")}, "stocks.csv:3:4", 3),
    "industry_bad_code": ({"industry.csv": sub(N, 2, 0, "000001")}, "industry.csv:3:1", 3),
    "industry_end_before_start": ({"industry.csv": sub(N, 1, 3, "2009-12-31")}, "industry.csv:2:4", 3),
    "fundamentals_bad_date": ({"fundamentals.csv": sub(F, 1, 0, "30/10/2019")}, "fundamentals.csv:2:1", 3),
    "fundamentals_non_numeric": ({"fundamentals.csv": sub(F, 2, 3, "many")}, "fundamentals.csv:3:4", 3),
    "features_non_numeric": ({"features/mom.csv": ["date,code,mom5,mom20", "2020-01-02,600000.SH,0.1,0.2",
                                                   "2020-01-03,600000.SH,0.1,abc"]}, "features/mom.csv:3:4", 3),
    # issue 18 item 4: a NaN marker is a missing value where the column is optional; Inf is refused everywhere
    "features_infinite_value": ({"features/mom.csv": ["date,code,mom5,mom20", "2020-01-02,600000.SH,0.1,-Inf"]},
                                "features/mom.csv:2:4", 3),
    "weights_nan_weight": ({"index_weights.csv": sub(W, 3, 3, "NaN")}, "index_weights.csv:4:4", 3),
    "index_bars_nan_close": ({"index_bars.csv": sub(I, 2, 2, "nan")}, "index_bars.csv:3:3", 3),
    "features_non_trading_day": ({"features/mom.csv": ["date,code,mom5", "2020-01-01,600000.SH,0.1"]},
                                 "features/mom.csv:2:1", 3),
    # ---- added for issue 18: one case per remaining rule of data/panel_ingest.c and data/csv_reader.c
    "index_bars_empty_file": ({"index_bars.csv": []}, "index_bars.csv:1", 3),
    "index_bars_no_rows": ({"index_bars.csv": I[:1]}, "index_bars.csv:2", 3),
    "index_bars_non_numeric_close": ({"index_bars.csv": sub(I, 2, 2, "4010,5")}, "index_bars.csv:3:4", 3),
    "index_bars_zero_close": ({"index_bars.csv": sub(I, 2, 2, "0")}, "index_bars.csv:3:3", 3),
    "index_bars_empty_close": ({"index_bars.csv": sub(I, 2, 2, "")}, "index_bars.csv:3:3", 3),
    "bars_empty_file": ({"bars.csv": []}, "bars.csv:1", 3),
    "bars_no_rows": ({"bars.csv": B[:1]}, "bars.csv:2", 3),
    "bars_missing_code_column": ({"bars.csv": [",".join(l.split(",")[:1] + l.split(",")[2:]) for l in B]},
                                 "bars.csv:1:8", 3),
    "bars_bad_is_st_flag": ({"bars.csv": [B[0] + ",is_st"] + [l + ",0" for l in B[1:4]] + [B[4] + ",yes"]
                             + [l + ",0" for l in B[5:]]}, "bars.csv:5:9", 3),
    "bars_negative_adj_factor": ({"bars.csv": [B[0] + ",adj_factor"] + [l + ",1" for l in B[1:3]] + [B[3] + ",-1"]
                                  + [l + ",1" for l in B[4:]]}, "bars.csv:4:9", 3),
    "bars_negative_up_limit": ({"bars.csv": [B[0] + ",up_limit"] + [B[1] + ",-11"] + [l + "," for l in B[2:]]},
                               "bars.csv:2:9", 3),
    "bars_negative_float_mv": ({"bars.csv": [B[0] + ",float_mv"] + [l + ",1e9" for l in B[1:5]] + [B[5] + ",-5"]},
                               "bars.csv:6:9", 3),
    "bars_non_numeric_vwap": ({"bars.csv": [B[0] + ",vwap"] + [B[1] + ",10.2"] + [B[2] + ",n/a"]
                               + [l + "," for l in B[3:]]}, "bars.csv:3:9", 3),
    "bars_nan_volume": ({"bars.csv": sub(B, 5, 6, "nan")}, "bars.csv:6:7", 3),
    "bars_tushare_missing_vol": ({"bars.csv": ["ts_code,trade_date,open,high,low,close,amount",
                                               "600000.SH,20200102,10,10.5,9.9,10.2,10.2"]}, "bars.csv:1:8", 3),
    "weights_bad_date": ({"index_weights.csv": sub(W, 2, 0, "2020-1-2x")}, "index_weights.csv:3:1", 3),
    "weights_empty_weight": ({"index_weights.csv": sub(W, 3, 3, "")}, "index_weights.csv:4:4", 3),
    "weights_extra_field": ({"index_weights.csv": W[:2] + [W[2] + ",x"] + W[3:]}, "index_weights.csv:3:5", 3),
    "weights_empty_file": ({"index_weights.csv": []}, "index_weights.csv:1", 3),
    "stocks_bad_code": ({"stocks.csv": sub(S, 1, 0, "60000.SH")}, "stocks.csv:2:1", 3),
    "stocks_bad_delist_date": ({"stocks.csv": sub(S, 2, 4, "2030-02-30")}, "stocks.csv:3:5", 3),
    "stocks_missing_code_column": ({"stocks.csv": [",".join(l.split(",")[1:]) for l in S]}, "stocks.csv:1:5", 3),
    "stocks_delist_before_list": ({"stocks.csv": sub(S, 1, 4, "1998-01-01")}, "stocks.csv:2:5", 3),
    "stocks_missing_field": ({"stocks.csv": S[:2] + [S[2].rsplit(",", 1)[0]]}, "stocks.csv:3:5", 3),
    "industry_bad_start_date": ({"industry.csv": sub(N, 1, 2, "2010-00-01")}, "industry.csv:2:3", 3),
    "industry_bad_end_date": ({"industry.csv": sub(N, 2, 3, "tomorrow")}, "industry.csv:3:4", 3),
    "industry_missing_industry_column": ({"industry.csv": [",".join(l.split(",")[:1] + l.split(",")[2:]) for l in N]},
                                         "industry.csv:1:4", 3),
    "industry_unterminated_quote": ({"industry.csv": N[:2] + ['000001.SZ,"Banks,2010-01-01,']}, "industry.csv:3", 3),
    "fundamentals_bad_code": ({"fundamentals.csv": sub(F, 2, 1, "00001.SZ")}, "fundamentals.csv:3:2", 3),
    "fundamentals_negative_shares": ({"fundamentals.csv": sub(F, 1, 2, "-28103763899")}, "fundamentals.csv:2:3", 3),
    "fundamentals_missing_code_column": ({"fundamentals.csv": [",".join(l.split(",")[:1] + l.split(",")[2:])
                                                               for l in F]}, "fundamentals.csv:1:4", 3),
    "fundamentals_missing_date_column": ({"fundamentals.csv": [",".join(l.split(",")[1:]) for l in F]},
                                         "fundamentals.csv:1:4", 3),
    "fundamentals_infinite_value": ({"fundamentals.csv": [F[0] + ",book_equity"] + [F[1] + ",-inf"]
                                     + [F[2] + ",1e9"]}, "fundamentals.csv:2:5", 3),
    "features_duplicate_row": ({"features/mom.csv": ["date,code,mom5", "2020-01-02,600000.SH,0.1",
                                                     "2020-01-02,sh600000,0.2"]}, "features/mom.csv:3:2", 3),
    "features_no_feature_column": ({"features/mom.csv": ["date,code", "2020-01-02,600000.SH"]},
                                   "features/mom.csv:1", 3),
    "features_bad_code": ({"features/mom.csv": ["date,code,mom5", "2020-01-02,6000000.SH,0.1"]},
                          "features/mom.csv:2:2", 3),
    "features_bad_date": ({"features/mom.csv": ["date,code,mom5", "2020-01-32,600000.SH,0.1"]},
                          "features/mom.csv:2:1", 3),
    "features_missing_code_column": ({"features/mom.csv": ["date,mom5", "2020-01-02,0.1"]},
                                     "features/mom.csv:1:3", 3),
    "features_extra_field": ({"features/mom.csv": ["date,code,mom5", "2020-01-02,600000.SH,0.1,0.3"]},
                             "features/mom.csv:2:4", 3),
    "bars_nul_byte": ({"bars.csv": B[:3] + [B[3].replace(",10.6,", ",10.6\0,")] + B[4:]}, "bars.csv:4:4", 3),
    "bars_stray_quote": ({"bars.csv": B[:4] + ['2020-01-03,000001.SZ,15.2,15.6,1"5,15.5,2000,31000'] + B[5:]},
                         "bars.csv:5:5", 3),
    "bars_duplicate_column": ({"bars.csv": [B[0] + ",close"] + [l + ",1" for l in B[1:]]}, "bars.csv:1:9", 3),
    "index_bars_random_bytes": ({"index_bars.csv": I + ["\x01\x02\x00\xff"]}, "index_bars.csv:5:1", 3),
    "features_empty_file": ({"features/mom.csv": []}, "features/mom.csv:1", 3),
}

# inputs that are in fact valid and must be ACCEPTED (exit 0, a cache written): SPEC 2.1 allows them
VALID = {
    "valid_crlf_line_endings": {"bars.csv": "CRLF", "index_bars.csv": "CRLF"},
    "valid_utf8_bom": {"bars.csv": "BOM", "stocks.csv": "BOM", "index_weights.csv": "BOM"},
    "valid_quoted_fields": {"stocks.csv": ['code,name,board,list_date,delist_date',
                                           '"600000.SH","PF Bank, Shanghai",main,1999-11-10,',
                                           '000001.SZ,"Ping An ""Bank""",main,"1991-04-03",'],
                            "bars.csv": B[:2] + ['"2020-01-02","000001.SZ",15,15.5,14.8,15.2,2000,30400'] + B[3:]},
    "valid_unknown_extra_columns": {"bars.csv": [B[0] + ",turnover_rate"] + [l + ",0.5" for l in B[1:]],
                                    "industry.csv": [N[0] + ",source"] + [l + ",sw" for l in N[1:]],
                                    "stocks.csv": [S[0] + ",area"] + [l + ",x" for l in S[1:]]},
    "valid_blank_trailing_lines": {"bars.csv": B + ["", ""], "index_weights.csv": W + [""],
                                   "fundamentals.csv": F + ["", "", ""]},
    "valid_alternative_spellings": {"bars.csv": ["trade_date,code,open,high,low,close,volume,amount"]
                                    + [l.replace("2020-01-0", "2020010").replace("600000.SH", "sh.600000")
                                       .replace("000001.SZ", "SZ000001") for l in B[1:]],
                                    "index_weights.csv": [W[0]] + [l.replace("000300", "csi300") for l in W[1:]],
                                    "stocks.csv": [S[0], S[1].replace("main", "主板"), S[2].replace("main", "MAIN")]},
    "valid_columns_reordered": {"bars.csv": [",".join(reversed(l.split(","))) for l in B]},
    "valid_suspended_empty_prices": {"bars.csv": [B[0] + ",suspended"] + [l + ",0" for l in B[1:5]]
                                     + ["2020-01-06,600000.SH,,,,,0,0,1"]},
    "valid_unclassified_industry": {"industry.csv": N[:2] + ["000001.SZ,unclassified,2010-01-01,"]},
    "valid_optional_files_absent": {"stocks.csv": None, "industry.csv": None, "fundamentals.csv": None},
    "valid_no_final_newline": {"bars.csv": "NOEOL"},
    "valid_nan_markers_in_optional_columns": {"features/mom.csv": ["date,code,mom5,mom20", "2020-01-02,600000.SH,NaN,0.2",
                                                                   "2020-01-03,600000.SH,0.1,nan", "2020-01-06,600000.SH,NA,"],
                                              "fundamentals.csv": sub(F, 1, 2, "NaN")},
    "valid_cr_line_endings": {"bars.csv": "CR", "stocks.csv": "CR"},
    "valid_spaces_and_case": {"bars.csv": ["Date , Code , Open , High , Low , Close , Volume , Amount"]
                              + [" , ".join(l.split(",")) + " " for l in B[1:]],
                              "index_bars.csv": I[:2] + [""] + I[2:]},
}


FILE_OF = {"bars": "bars.csv", "index": "index_bars.csv", "weights": "index_weights.csv", "stocks": "stocks.csv",
           "industry": "industry.csv", "fundamentals": "fundamentals.csv", "features": "features/NAME.csv"}


def print_table():
    """The ingest rows of docs/bad_input.md: file | rule | case | exit code | what the message names."""
    for name, (changes, where, code) in sorted(CASES.items()):
        kind = name.split("_")[0]
        rule = name.split("_", 2)[2] if name.startswith("index_bars") else name.split("_", 1)[1]
        fname = "index_bars.csv" if name.startswith("index_bars") else FILE_OF[kind]
        print(f"| {fname} | {rule.replace('_', ' ')} | `{name}` | {code} | `{where}` |")
    for name in sorted(VALID):
        print(f"| {', '.join(sorted(VALID[name]))} | valid: {name[6:].replace('_', ' ')} | `{name}` | 0 | accepted |")


def main():
    if "--table" in sys.argv:
        return print_table()
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for name, (changes, where, code) in sorted(CASES.items()):
        d = os.path.join(OUT, name)
        os.makedirs(d)
        files = dict(BASE)
        files.update(changes)
        for fn, lines in files.items():
            if lines is None:
                continue
            path = os.path.join(d, fn)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", newline="", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n" if lines else "")
        with open(os.path.join(d, "expect"), "w") as f:
            f.write(f"{where}\n{code}\n")
    for name, changes in sorted(VALID.items()):
        d = os.path.join(OUT, name)
        os.makedirs(d)
        for fn in list(BASE) + [k for k in changes if k not in BASE]:
            lines = BASE.get(fn, [])
            change = changes.get(fn, lines)
            if change is None:
                continue
            data = "\n".join(lines) + "\n"
            if change == "CRLF":
                data = data.replace("\n", "\r\n")
            elif change == "BOM":
                data = "\ufeff" + data
            elif change == "CR":
                data = data.replace("\n", "\r")
            elif change == "NOEOL":
                data = data.rstrip("\n")
            elif isinstance(change, list):
                data = "\n".join(change) + "\n"
            os.makedirs(os.path.dirname(os.path.join(d, fn)), exist_ok=True)
            with open(os.path.join(d, fn), "w", newline="", encoding="utf-8") as f:
                f.write(data)
        with open(os.path.join(d, "expect"), "w") as f:
            f.write("valid\n0\n")
    print(f"{len(CASES)} malformed and {len(VALID)} valid cases in {OUT}")


if __name__ == "__main__":
    main()
