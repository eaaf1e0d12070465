#!/usr/bin/env python3
"""ref_lrp.py — checks `zhizeng model lrp` (LRP explanations, Arras et al. 2017) against an independent numpy
implementation of the same rules, in float64.

For random GRU and LSTM nets (1 and 2 layers) with the univariate, multivariate and class3 heads, written as
safetensors by hand, every input relevance, every bias relevance (layer 1, layer 2, head) and the explained
output must agree with the reference to 1e-6 (absolute, scaled by max(1, max |reference|) of the tensor), at
epsilon 1e-6 and 1e-3. At epsilon 1e-6 the input relevances plus the bias relevances must give the explained
output within 1e-3 relative (conservation). An act_lstm model must be refused with exit status 2, and
zhizeng explain's usage errors exit 2.

The rules (docs/model.md "LRP explanations"): the epsilon rule on every linear map, a_i w_ji / (z_j + eps sgn z_j)
of R_j to input i and the rest (bias + eps sgn z_j) to the bias (sgn 0 = +1); tanh passes relevance unchanged;
gates get none (LSTM: h = o tanh c gives c all of R_h, c = f c_prev + i g is split by the epsilon rule over its two
terms, g = tanh(a_g) and a_g is split over x, h_prev; GRU: h = (1 - z) n + z h_prev split over its two terms,
n = tanh(a_n), a_n = W_in x + b_in + r (W_hn h_prev + b_hn) split by one epsilon rule with r as a fixed
coefficient). The explained output: univariate u (before batch-norm), multivariate c = mean_k (u_k - mu_k) / s_k
with the batch statistics of the N rows fixed, class3 u_up - u_down. Exit 77 (ctest SKIP) without numpy."""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"SKIP: python3-numpy missing ({e}); install python3-numpy")
    sys.exit(77)

from st_io import st_read, st_write  # noqa: E402

TOL = 1e-6


def sgn(v):
    return np.where(v < 0, -1.0, 1.0)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def eps_rule(contrib, bias, R, eps):
    """contrib [N, J, I] contributions of the inputs to z_j, bias [N, J]; R [N, J]. Returns the input relevances
    [N, I] and the bias relevance [N]."""
    z = contrib.sum(axis=2) + bias
    d = z + eps * sgn(z)
    share = R / d
    return (contrib * share[:, :, None]).sum(axis=1), ((bias + eps * sgn(z)) * share).sum(axis=1)


def layer_forward(cell, x, W):
    """x [N, T, I] in float64; returns the per-step caches and hs [N, T, H]."""
    w_ih, w_hh, b_ih, b_hh = W
    N, T, _ = x.shape
    H = w_hh.shape[1]
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    hs, cache = np.zeros((N, T, H)), []
    for t in range(T):
        gi = x[:, t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        if cell == "gru":
            r = sigmoid(gi[:, :H] + gh[:, :H])
            z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            cache.append(dict(h_prev=h, r=r, z=z, n=n))
            h = (1 - z) * n + z * h
        else:
            a = gi + gh
            i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
            g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            c_prev = c
            c = f * c + i * g
            cache.append(dict(h_prev=h, c_prev=c_prev, i=i, f=f, g=g, c=c))
            h = o * np.tanh(c)
        hs[:, t] = h
    return cache, hs


def layer_lrp(cell, x, W, cache, R_h, eps):
    """R_h [N, T, H] relevance injected at each h_t; returns R_x [N, T, I] and the bias relevance [N]."""
    w_ih, w_hh, b_ih, b_hh = W
    N, T, I = x.shape
    H = w_hh.shape[1]
    R_x = np.zeros((N, T, I))
    R_b = np.zeros(N)
    R_h = R_h.copy()
    R_c = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        k = cache[t]
        if cell == "gru":
            # h = (1 - z) n + z h_prev: two terms, one epsilon rule per unit
            terms = np.stack([(1 - k["z"]) * k["n"], k["z"] * k["h_prev"]], axis=2)
            pair, rb = eps_rule(terms.reshape(N * H, 1, 2), np.zeros((N * H, 1)), R_h[:, t].reshape(N * H, 1), eps)
            R_n, R_hp_direct = pair[:, 0].reshape(N, H), pair[:, 1].reshape(N, H)
            R_b += rb.reshape(N, H).sum(axis=1)
            # a_n = W_in x + b_in + r (W_hn h_prev + b_hn)
            cx = x[:, t][:, None, :] * w_ih[None, 2 * H:, :]
            ch = k["r"][:, :, None] * (k["h_prev"][:, None, :] * w_hh[None, 2 * H:, :])
            bias = b_ih[2 * H:][None, :] + k["r"] * b_hh[2 * H:][None, :]
            R_in, rb = eps_rule(np.concatenate([cx, ch], axis=2), bias, R_n, eps)
            R_b += rb
            R_x[:, t] += R_in[:, :I]
            if t > 0:
                R_h[:, t - 1] += R_in[:, I:] + R_hp_direct
        else:
            Rc = R_c + R_h[:, t]  # h = o tanh(c): all to c
            terms = np.stack([k["f"] * k["c_prev"], k["i"] * k["g"]], axis=2)
            pair, rb = eps_rule(terms.reshape(N * H, 1, 2), np.zeros((N * H, 1)), Rc.reshape(N * H, 1), eps)
            R_c, R_g = pair[:, 0].reshape(N, H), pair[:, 1].reshape(N, H)
            R_b += rb.reshape(N, H).sum(axis=1)
            cx = x[:, t][:, None, :] * w_ih[None, 2 * H:3 * H, :]
            ch = k["h_prev"][:, None, :] * w_hh[None, 2 * H:3 * H, :]
            bias = np.broadcast_to(b_ih[2 * H:3 * H] + b_hh[2 * H:3 * H], (N, H))
            R_in, rb = eps_rule(np.concatenate([cx, ch], axis=2), bias, R_g, eps)
            R_b += rb
            R_x[:, t] += R_in[:, :I]
            if t > 0:
                R_h[:, t - 1] += R_in[:, I:]
    return R_x, R_b


def ref_lrp(cell, L, head, sd, x, eps):
    """Returns rel [N, T, F], bias [N, 3] (layer 1, layer 2, head), out [N]."""
    N, T, F = x.shape
    inp = x.astype(np.float64)
    Ws, caches, ins = [], [], []
    for l in range(L):
        W = tuple(sd[f"rnn.{n}_l{l}"].astype(np.float64) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        cache, hs = layer_forward(cell, inp, W)
        Ws.append(W), caches.append(cache), ins.append(inp)
        inp = hs
    hl = inp[:, -1]
    w, b = sd["head.weight"].astype(np.float64), sd["head.bias"].astype(np.float64)
    if head == "univariate":
        w_eff, b_eff = w[0], np.full(N, b[0])
    elif head == "class3":
        w_eff, b_eff = w[2] - w[0], np.full(N, b[2] - b[0])
    else:
        u = hl @ w.T + b
        mu, s = u.mean(axis=0), np.sqrt(u.var(axis=0) + 1e-5)
        K = w.shape[0]
        w_eff = (w / s[:, None]).sum(axis=0) / K
        b_eff = np.full(N, ((b - mu) / s).sum() / K)
    out = hl @ w_eff + b_eff
    R_hl, rb_head = eps_rule((hl * w_eff[None, :])[:, None, :], b_eff[:, None], out[:, None], eps)
    bias = np.zeros((N, 3))
    bias[:, 2] = rb_head
    R = np.zeros((N, T, hl.shape[1]))
    R[:, -1] = R_hl
    for l in range(L - 1, -1, -1):
        R, bias[:, l] = layer_lrp(cell, ins[l], Ws[l], caches[l], R, eps)
    return R, bias, out


def read_csv(path, N, T, F):
    rel, bias, out = np.full((N, T, F), np.nan), np.full((N, 3), np.nan), np.full(N, np.nan)
    with open(path) as f:
        assert f.readline().strip() == "kind,row,step,feature,value"
        for line in f:
            kind, i, t, k, v = line.strip().split(",")
            i, t, k, v = int(i), int(t), int(k), float(v)
            if kind == "rel":
                rel[i, t, k] = v
            elif kind == "bias":
                bias[i, k] = v
            else:
                out[i] = v
    return rel, bias, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    zz = ap.parse_args().zhizeng
    rng = np.random.default_rng(2017)
    failures, worst, worst_cons, cases = [], 0.0, 0.0, 0
    with tempfile.TemporaryDirectory() as wd:
        for cell in ("gru", "lstm"):
            for L in (1, 2):
                for head in ("univariate", "multivariate", "class3"):
                    F, H, T, N = 3, 5, 7, 6
                    K = {"univariate": 1, "multivariate": 4, "class3": 3}[head]
                    G = 3 if cell == "gru" else 4
                    bound = 1.0 / np.sqrt(H)
                    sd = {}
                    for l in range(L):
                        I = F if l == 0 else H
                        sd[f"rnn.weight_ih_l{l}"] = rng.uniform(-2 * bound, 2 * bound, (G * H, I))
                        sd[f"rnn.weight_hh_l{l}"] = rng.uniform(-2 * bound, 2 * bound, (G * H, H))
                        sd[f"rnn.bias_ih_l{l}"] = rng.uniform(-bound, bound, G * H)
                        sd[f"rnn.bias_hh_l{l}"] = rng.uniform(-bound, bound, G * H)
                    sd["head.weight"] = rng.uniform(-bound, bound, (K, H))
                    sd["head.bias"] = rng.uniform(-bound, bound, K)
                    sd = {k: v.astype(np.float32) for k, v in sd.items()}
                    meta = {"cell": cell, "layers": L, "hidden": H, "input_size": F, "outputs": K, "head": head}
                    tag = f"{cell}_L{L}_{head}"
                    mpath, ipath = os.path.join(wd, tag + ".st"), os.path.join(wd, tag + ".in.st")
                    st_write(mpath, sd, meta)
                    x = rng.standard_normal((N, T, F)).astype(np.float32)
                    st_write(ipath, {"x": x})
                    # the explained output is what the float forward pass computes (h, c or the logit difference)
                    fpath = os.path.join(wd, tag + ".fw.st")
                    p = subprocess.run([zz, "model", "forward", "--model", mpath, "--input", ipath, "--output", fpath],
                                       capture_output=True, text=True)
                    fw = ({k: v.astype(np.float64) for k, v in st_read(fpath)[0].items()}
                          if p.returncode == 0 else None)
                    for eps in (1e-6, 1e-3):
                        opath = os.path.join(wd, f"{tag}_{eps}.csv")
                        p = subprocess.run([zz, "model", "lrp", "--model", mpath, "--input", ipath, "--output", opath,
                                            "--eps", repr(eps)], capture_output=True, text=True)
                        if p.returncode != 0:
                            failures.append(f"{tag}: zhizeng model lrp failed ({p.returncode}): {p.stderr}")
                            continue
                        cases += 1
                        got = read_csv(opath, N, T, F)
                        ref = ref_lrp(cell, L, head, sd, x, eps)
                        for name, g, r in zip(("rel", "bias", "out"), got, ref):
                            e = float(np.max(np.abs(g - r)) / max(1.0, float(np.max(np.abs(r)))))
                            worst = max(worst, e) if e == e else float("inf")
                            if not e <= TOL:
                                failures.append(f"{tag} eps {eps}: {name} differs from numpy, err {e:.3e}")
                        if fw is None:
                            failures.append(f"{tag}: zhizeng model forward failed: {p.stderr}")
                        else:
                            want = (fw["h"][:, 0] if head == "univariate" else fw["score"] if head == "multivariate"
                                    else fw["h"][:, 2] - fw["h"][:, 0])
                            e = float(np.max(np.abs(got[2] - want)) / max(1.0, float(np.max(np.abs(want)))))
                            if not e <= 1e-4:
                                failures.append(f"{tag}: explained output differs from model forward by {e:.3e}")
                        if eps == 1e-6:
                            rel, bias, out = got
                            total = rel.sum(axis=(1, 2)) + bias.sum(axis=1)
                            ce = float(np.max(np.abs(total - out) / np.maximum(np.abs(out), 1e-300)))
                            worst_cons = max(worst_cons, ce)
                            if not ce <= 1e-3:
                                failures.append(f"{tag}: inputs + bias relevances miss the output by {ce:.3e} relative")
                            if L == 1 and np.any(bias[:, 1] != 0):
                                failures.append(f"{tag}: a one-layer net reports layer-2 bias relevance")
        # act_lstm is refused with a usage error
        H, F = 4, 3
        sd = {"rnn.weight_ih_l0": np.zeros((4 * H, F + 1)), "rnn.weight_hh_l0": np.zeros((4 * H, H)),
              "rnn.bias_ih_l0": np.zeros(4 * H), "rnn.bias_hh_l0": np.zeros(4 * H), "act.weight": np.zeros((1, H)),
              "act.bias": np.zeros(1), "head.weight": np.zeros((1, H)), "head.bias": np.zeros(1)}
        mpath, ipath = os.path.join(wd, "act.st"), os.path.join(wd, "act.in.st")
        st_write(mpath, sd, {"cell": "act_lstm", "layers": 1, "hidden": H, "input_size": F, "outputs": 1,
                             "head": "univariate"})
        st_write(ipath, {"x": np.zeros((2, 3, F))})
        p = subprocess.run([zz, "model", "lrp", "--model", mpath, "--input", ipath, "--output",
                            os.path.join(wd, "act.csv")], capture_output=True, text=True)
        if p.returncode != 2 or "act_lstm" not in p.stderr:
            failures.append(f"act_lstm: expected exit 2 naming act_lstm, got {p.returncode}: {p.stderr}")
        # zhizeng explain's command line: --help, missing options and a bad date are usage errors (2)
        for args, want in ((["--help"], 0), ([], 2), (["--model", "m", "--market", "d", "--out", "o"], 2),
                           (["--model", "m", "--market", "d", "--out", "o", "--date", "2020-13-01"], 2),
                           (["--model", "m", "--market", "d", "--out", "o", "--date", "2020-01-02", "--eps", "-1"], 2)):
            p = subprocess.run([zz, "explain"] + args, capture_output=True, text=True)
            if p.returncode != want or (want == 0 and "relevance.csv" not in p.stdout):
                failures.append(f"zhizeng explain {' '.join(args)}: exit {p.returncode}, expected {want}")
    for f in failures:
        print("FAIL:", f)
    print(f"lrp: {cases} cases, worst difference from numpy {worst:.2e}, worst conservation error at eps 1e-6 "
          f"{worst_cons:.2e}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
