#!/usr/bin/env python3
"""ref_torch_act.py — checks the ACT-LSTM cell (Graves 2016; docs/model.md "ACT-LSTM") of `zhizeng model
forward|step|import|export` against a PyTorch float64 reference written as a plain loop over rows, time steps
and ponder steps.

Random nets (rnn = nn.LSTM(F + 1, H) for the names, act = nn.Linear(H, 1), head = nn.Linear(H, K)) with the
univariate, multivariate and class3 heads are written as safetensors with __metadata__ cell=act_lstm,
act_epsilon, act_max_steps, act_tau. Cases where the halting units mostly stop early, and cases where the
ponder steps hit N_max, each checked to really do so. h, score, loss (the head's loss plus the ponder cost
tau / N_rows * sum_rows sum_t (N(t) + R(t))) and every parameter gradient must agree to 1e-4 relative to the
tensor's max |value|. A case whose halting sums come within 1e-4 of the threshold 1 - epsilon (a jump of N(t))
is redrawn. `zhizeng model step` must follow torch.optim.Adam; import / export must round-trip the tensors
and the act_* metadata; a 2-layer act_lstm and a weight_ih_l0 without the flag column must be refused. Exit 77
(ctest SKIP) when torch or numpy is missing."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# (ref_torch exits 77 without torch)
from ref_torch import (adam_compare, bn, cli_main, compare, import_bad, np, ref_loss, round_trip,  # noqa: E402
                       run_model, run_step, st_write, torch)

F_CE = torch.nn.functional.cross_entropy
MARGIN = 1e-4


class ActNet(torch.nn.Module):
    def __init__(self, F, H, K):
        super().__init__()
        self.rnn = torch.nn.LSTM(F + 1, H, 1, batch_first=True)
        self.act = torch.nn.Linear(H, 1)
        self.head = torch.nn.Linear(H, K)


def act_forward(net, x, eps, nmax, stats):
    """The last time step's h [N, H] and the ponder sum sum_rows sum_t (N(t) + R(t)); stats gathers the number
    of time steps, ponder steps, N_max hits and the smallest distance of a halting sum to 1 - eps."""
    w_ih, w_hh = net.rnn.weight_ih_l0, net.rnn.weight_hh_l0
    b = net.rnn.bias_ih_l0 + net.rnn.bias_hh_l0
    H = w_hh.shape[1]
    rows, ponder = [], 0
    for i in range(x.shape[0]):
        h = torch.zeros(H, dtype=torch.float64)
        c = torch.zeros(H, dtype=torch.float64)
        for t in range(x.shape[1]):
            hp, cp, s, hm, cm = h, c, 0, 0, 0
            for n in range(1, nmax + 1):
                flag = torch.tensor([1.0 if n == 1 else 0.0], dtype=torch.float64)
                g = w_ih @ torch.cat([x[i, t], flag]) + w_hh @ hp + b
                gi, gf, gg, go = g.chunk(4)
                cn = torch.sigmoid(gf) * cp + torch.sigmoid(gi) * torch.tanh(gg)
                hn = torch.sigmoid(go) * torch.tanh(cn)
                p = torch.sigmoid(net.act(hn))[0]
                total = (s + p).item() if n > 1 else p.item()
                stats["margin"] = min(stats["margin"], abs(total - (1 - eps)))
                if total >= 1 - eps or n == nmax:
                    r = 1 - s
                    hm = hm + r * hn
                    cm = cm + r * cn
                    ponder = ponder + n + r
                    stats["steps"] += n
                    stats["hits"] += n == nmax and total < 1 - eps
                    break
                hm = hm + p * hn
                cm = cm + p * cn
                s = s + p
                hp, cp = hn, cn
            h, c = hm, cm
            stats["cells"] += 1
        rows.append(h)
    return torch.stack(rows), ponder


def head_out(net, hl, head):
    u = net.head(hl)
    if head == "class3":
        p = torch.softmax(u, dim=1)
        return u, p[:, 2] - p[:, 0], None
    if u.shape[1] == 1:
        return u, u[:, 0], None
    z = bn(u)
    return u, z.mean(dim=1), z


def head_loss(u, c, z, y, head, cw, lam):
    if head == "class3":
        return F_CE(u, y.long(), weight=None if cw is None else torch.tensor(cw, dtype=torch.float64))
    return ref_loss(u, c, z, y, u.shape[1], lam)


def full(net, xt, yt, case, stats):
    hl, ponder = act_forward(net, xt, case["eps"], case["nmax"], stats)
    u, c, z = head_out(net, hl, case["head"])
    loss = head_loss(u, c, z, yt, case["head"], case.get("cw"), 0.7) + case["tau"] / xt.shape[0] * ponder
    return u, c, loss


def make_case(rng, case, F, H, N, T, workdir, tag):
    K = {"univariate": 1, "multivariate": 4, "class3": 3}[case["head"]]
    torch.manual_seed(int(rng.integers(1 << 30)))
    net = ActNet(F, H, K)
    sd = {k: v.detach().numpy().astype(np.float32) * 1.5 for k, v in net.state_dict().items()}
    sd["act.bias"] = np.array([case["bias"]], np.float32)
    meta = {"cell": "act_lstm", "layers": 1, "hidden": H, "input_size": F, "outputs": K, "head": case["head"],
            "lambda": "0.7", "dropout": "0.1", "act_epsilon": repr(case["eps"]), "act_max_steps": case["nmax"],
            "act_tau": repr(case["tau"])}
    if case.get("cw"):
        meta["class_weights"] = ",".join(repr(float(v)) for v in case["cw"])
    mpath = os.path.join(workdir, f"{tag}.model.safetensors")
    st_write(mpath, sd, meta)
    x = rng.standard_normal((N, T, F)).astype(np.float32)
    y = (rng.integers(0, 3, N) if case["head"] == "class3" else rng.standard_normal(N)).astype(np.float32)
    ipath = os.path.join(workdir, f"{tag}.in.safetensors")
    st_write(ipath, {"x": x, "y": y})
    net64 = ActNet(F, H, K).double()
    net64.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in sd.items()})
    return net64, sd, mpath, ipath, x, y, meta


def check_forward(zz, rng, workdir, case, threads, failures):
    tag = case["tag"]
    for _ in range(10):  # redraw a case that sits on a jump of N(t)
        F, H, N, T = int(rng.integers(2, 6)), int(rng.integers(3, 9)), int(rng.integers(12, 30)), int(rng.integers(2, 7))
        net, sd, mpath, ipath, x, y, meta = make_case(rng, case, F, H, N, T, workdir, tag)
        xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        stats = {"margin": 1.0, "steps": 0, "hits": 0, "cells": 0}
        u, c, loss = full(net, xt, yt, case, stats)
        if stats["margin"] >= MARGIN:
            break
    else:
        failures.append(f"{tag}: no case away from the jumps of N(t) in 10 draws")
        return
    got = run_model(zz, ["forward", "--model", mpath, "--input", ipath, "--output",
                         os.path.join(workdir, f"{tag}.out.safetensors"), "--threads", str(threads)], tag, failures)
    if got is None:
        return
    loss.backward()
    ref = {"h": u.detach().numpy(), "score": c.detach().numpy(), "loss": np.array([loss.item()])}
    for n, p in net.named_parameters():
        ref["grad." + n] = p.grad.numpy()
    worst = compare(got, ref, tag, f"F={F} H={H} N={N} T={T}", failures)
    mean = stats["steps"] / stats["cells"]
    if case["want"] == "nmax" and stats["hits"] < stats["cells"] // 2:
        failures.append(f"{tag}: only {stats['hits']} of {stats['cells']} time steps hit N_max: a useless case")
    if case["want"] == "early" and (stats["hits"] > 0 or not 1.0 < mean < case["nmax"]):
        failures.append(f"{tag}: mean ponder steps {mean:.2f}, {stats['hits']} N_max hits: expected early halting")
    print(f"forward act {tag:10s} F={F} H={H} N={N:2d} T={T}: mean ponder steps {mean:5.2f}, N_max hits "
          f"{stats['hits']:3d}/{stats['cells']}, margin {stats['margin']:.1e}; {len(ref)} tensors, worst rel err "
          f"{worst:.2e}")


def check_step(zz, rng, workdir, failures):
    case = {"head": "univariate", "bias": 0.0, "eps": 0.1, "nmax": 6, "tau": 0.02}
    F, H, N, T, steps, clip, lr = 3, 5, 16, 4, 4, 0.05, 1e-2
    net, sd, mpath, ipath, x, y, meta = make_case(rng, case, F, H, N, T, workdir, "step-act")
    got = run_step(zz, mpath, ipath, workdir, "step-act", steps, clip, lr, failures)
    if got is None:
        return
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    stats = {"margin": 1.0, "steps": 0, "hits": 0, "cells": 0}
    worst = adam_compare(net, got, lambda m: full(m, xt, yt, case, stats)[2], steps, clip, lr, "step-act", failures,
                         skip=("head.bias",))
    if stats["margin"] < MARGIN:
        print(f"note: an Adam step came within {stats['margin']:.1e} of a jump of N(t)")
    print(f"adam    act: {steps} steps, worst rel err of the parameter change {worst:.2e}")


def check_files(zz, rng, workdir, failures):
    case = {"head": "class3", "bias": 0.5, "eps": 0.05, "nmax": 9, "tau": 0.004, "cw": (1.5, 0.5, 1.0)}
    net, sd, mpath, ipath, x, y, meta = make_case(rng, case, 4, 5, 10, 3, workdir, "files")
    native, gmeta = round_trip(zz, sd, meta, mpath, workdir, failures, "act ")
    if native is None:
        return
    for k in ("act_epsilon", "act_max_steps", "act_tau"):
        if gmeta.get(k) is None or float(gmeta[k]) != float(meta[k]):
            failures.append(f"act round trip metadata {k}: {gmeta.get(k)!r} != {meta[k]!r}")
    bad = dict(sd)
    bad["rnn.weight_ih_l0"] = np.zeros((20, 4), np.float32)
    rc, log = import_bad(zz, bad, meta, workdir, native)
    if rc != 3 or "rnn.weight_ih_l0" not in log or "expected [20, 5], found [20, 4]" not in log:
        failures.append(f"a weight_ih_l0 without the flag column must be refused naming it; got {rc}: {log}")
    for key, val, want in (("layers", "2", "1 layer"), ("act_epsilon", "1.5", "act_epsilon"),
                           ("act_max_steps", "0", "act_max_steps")):
        m2 = dict(meta)
        m2[key] = val
        rc, log = import_bad(zz, sd, m2, workdir, native)
        if rc == 0 or want not in log:
            failures.append(f"metadata {key}={val} must be refused naming '{want}'; got {rc}: {log}")
    print("files   act import/export round trip (act_* metadata) and refusals checked")


def main():
    def body(zz, wd, failures):
        rng = np.random.default_rng(20261130)
        cases = []
        for head in ("univariate", "multivariate", "class3"):
            cw = (2.0, 0.5, 1.2) if head == "class3" else None
            # early: the halting units stop after a few ponder steps; nmax: most time steps hit N_max
            cases.append({"tag": f"{head[:5]}-early", "head": head, "bias": 0.0, "eps": 0.1, "nmax": 30,
                          "tau": 0.01, "want": "early", "cw": cw})
            cases.append({"tag": f"{head[:5]}-nmax", "head": head, "bias": -2.5, "eps": 0.01, "nmax": 4,
                          "tau": 0.05, "want": "nmax", "cw": cw})
        for k, case in enumerate(cases):
            check_forward(zz, rng, wd, case, 1 + k % 2, failures)
        check_step(zz, rng, wd, failures)
        check_files(zz, rng, wd, failures)
    return cli_main(body)


if __name__ == "__main__":
    sys.exit(main())
