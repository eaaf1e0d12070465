#!/usr/bin/env python3
"""ref_torch.py — checks `zhizeng model forward|step|import|export` against PyTorch (float64 reference).

For random GRU and LSTM nets (1 and 2 layers) with the univariate and the multivariate head, the weights
are written as safetensors by hand (struct + json), `zhizeng model forward` runs on random x / y, and
h, score, loss and every parameter gradient must agree with PyTorch's to 1e-4 relative to the tensor's
max |value|. `zhizeng model step` must follow torch.optim.Adam + clip_grad_value_ step by step. Exit 77
(ctest SKIP) when torch or numpy is missing."""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    print(f"SKIP: python3-torch / python3-numpy missing ({e}); install python3-torch python3-numpy")
    sys.exit(77)

from st_io import st_read, st_write  # noqa: E402

TOL = 1e-4


class Net(torch.nn.Module):
    def __init__(self, cell, F, H, L, K):
        super().__init__()
        cls = torch.nn.GRU if cell == "gru" else torch.nn.LSTM
        self.rnn = cls(F, H, L, batch_first=True)
        self.head = torch.nn.Linear(H, K)


def bn(v):
    return torch.nn.functional.batch_norm(v, None, None, training=True, eps=1e-5)


def ref_forward(net, x, K):
    out, _ = net.rnn(x)
    u = net.head(out[:, -1, :])
    if K == 1:
        c = u[:, 0]
        z = None
    else:
        z = bn(u)
        c = z.mean(dim=1)
    return u, c, z


def ref_loss(u, c, z, y, K, lam):
    s = bn(c.unsqueeze(1))[:, 0]
    loss = ((s - y) ** 2).mean()
    if K > 1:
        N = u.shape[0]
        loss = loss + lam / (N * K * K) * torch.linalg.norm(z.t() @ z, "fro")
    return loss


def make_case(rng, cell, L, K, F, H, N, T, lam, workdir, tag):
    torch.manual_seed(int(rng.integers(1 << 30)))
    net = Net(cell, F, H, L, K)
    sd = {k: v.detach().numpy().astype(np.float32) * 1.5 for k, v in net.state_dict().items()}
    names = list(sd.keys())
    meta = {"cell": cell, "layers": L, "hidden": H, "input_size": F, "outputs": K,
            "head": "univariate" if K == 1 else "multivariate", "lambda": repr(lam), "dropout": "0.1"}
    mpath = os.path.join(workdir, f"{tag}.model.safetensors")
    st_write(mpath, sd, meta)
    x = rng.standard_normal((N, T, F)).astype(np.float32)
    y = rng.standard_normal(N).astype(np.float32)
    ipath = os.path.join(workdir, f"{tag}.in.safetensors")
    st_write(ipath, {"x": x, "y": y})
    net64 = Net(cell, F, H, L, K).double()
    net64.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in sd.items()})
    return net64, names, sd, mpath, ipath, x, y, meta


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = max(np.max(np.abs(b)), 1e-8)  # head.bias has a mathematically zero gradient
    return float(np.max(np.abs(a - b)) / scale)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def run_model(zz, args, tag, failures):
    """zhizeng model ARGS...; the tensors of its --output (the argument after it), or None with a failure."""
    rc, log = run([zz, "model"] + args)
    if rc != 0:
        failures.append(f"{tag}: zhizeng model {args[0]} failed ({rc}): {log}")
        return None
    return st_read(args[args.index("--output") + 1])[0]


def run_step(zz, mpath, ipath, workdir, tag, steps, clip, lr, failures):
    """zhizeng model step: `steps` Adam steps with value clipping; its tensors, or None with a failure."""
    return run_model(zz, ["step", "--model", mpath, "--input", ipath, "--output",
                          os.path.join(workdir, f"{tag}.out.safetensors"), "--steps", str(steps), "--clip", str(clip),
                          "--lr", str(lr)], tag, failures)


def import_bad(zz, tensors, meta, workdir, native):
    """model import of a deliberately bad file; (exit status, log)."""
    badpath = os.path.join(workdir, "bad.safetensors")
    st_write(badpath, tensors, meta)
    return run([zz, "model", "import", "--in", badpath, "--out", native + ".bad"])


def cli_main(body):
    """The cross-checks' command line (--zhizeng BIN): body(zz, workdir, failures) in a temporary directory
    with torch on one thread; prints the failures, returns the exit status."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    failures = []
    with tempfile.TemporaryDirectory() as wd:
        body(args.zhizeng, wd, failures)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


def compare(got, ref, tag, dims, failures):
    """Every reference tensor against zhizeng's, relative error <= TOL; returns the worst."""
    worst = 0.0
    for k, v in ref.items():
        if k not in got:
            failures.append(f"{tag}: output lacks {k}")
            continue
        e = rel_err(got[k], v)
        worst = max(worst, e)
        if not e <= TOL:
            failures.append(f"{tag} ({dims}): {k} differs from PyTorch, rel err {e:.3e}")
    return worst


def adam_compare(net, got, loss_fn, steps, clip, lr, tag, failures, skip=()):
    """torch.optim.Adam for `steps` steps on loss_fn(net) with value clipping, against zhizeng's step<s>.<name>
    tensors: the parameter change since the start, relative error <= 1e-3; returns the worst."""
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    p0 = {n: p.detach().clone().numpy() for n, p in net.named_parameters()}
    worst = 0.0
    for s in range(1, steps + 1):
        opt.zero_grad()
        loss_fn(net).backward()
        torch.nn.utils.clip_grad_value_(net.parameters(), clip)
        opt.step()
        for n, p in net.named_parameters():
            if n in skip:
                continue
            d_ref = p.detach().numpy() - p0[n]
            d_got = got[f"step{s}.{n}"].astype(np.float64) - p0[n]
            e = rel_err(d_got, d_ref)
            worst = max(worst, e)
            if not e <= 1e-3:
                failures.append(f"{tag}: after step {s}, {n} moved differently from torch.optim.Adam (rel err {e:.3e})")
    return worst


def round_trip(zz, sd, meta, mpath, workdir, failures, what=""):
    """model import then export: every tensor and the shape metadata unchanged; returns (native model path,
    exported metadata), or (None, None) with a failure."""
    native = os.path.join(workdir, "files.zzmodel")
    back = os.path.join(workdir, "files.back.safetensors")
    rc, log = run([zz, "model", "import", "--in", mpath, "--out", native])
    rc2, log2 = run([zz, "model", "export", "--model", native, "--out", back]) if rc == 0 else (rc, log)
    if rc or rc2:
        failures.append(f"{what}import/export failed: {log} {log2}")
        return None, None
    got, gmeta = st_read(back)
    for k, v in sd.items():
        if k not in got or not np.array_equal(got[k], v):
            failures.append(f"{what}round trip changed tensor {k}")
    for k in ("cell", "layers", "hidden", "input_size", "outputs", "head"):
        if gmeta.get(k) != str(meta[k]):
            failures.append(f"{what}round trip metadata {k}: {gmeta.get(k)!r} != {meta[k]!r}")
    return native, gmeta


def check_forward(zz, rng, workdir, cell, L, K, failures):
    F, H, N, T = int(rng.integers(2, 7)), int(rng.integers(3, 12)), int(rng.integers(20, 80)), int(rng.integers(2, 12))
    lam = 0.7
    tag = f"{cell}{L}k{K}"
    net, names, sd, mpath, ipath, x, y, meta = make_case(rng, cell, L, K, F, H, N, T, lam, workdir, tag)
    got = run_model(zz, ["forward", "--model", mpath, "--input", ipath, "--output",
                         os.path.join(workdir, f"{tag}.out.safetensors"), "--threads", "2" if L == 2 else "1"],
                    tag, failures)
    if got is None:
        return
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    u, c, z = ref_forward(net, xt, K)
    loss = ref_loss(u, c, z, yt, K, lam)
    loss.backward()
    ref = {"h": u.detach().numpy(), "score": c.detach().numpy(), "loss": np.array([loss.item()])}
    for n, p in net.named_parameters():
        ref["grad." + n] = p.grad.numpy()
    worst = compare(got, ref, tag, f"F={F} H={H} N={N} T={T}", failures)
    print(f"forward {tag:10s} F={F} H={H:2d} N={N:2d} T={T:2d}: {len(ref)} tensors, worst rel err {worst:.2e}")
    # scoring: an input without y runs the forward-only pass (nn_score, no backward state), on 2 threads
    spath = os.path.join(workdir, f"{tag}.x.safetensors")
    st_write(spath, {"x": x})
    got = run_model(zz, ["forward", "--model", mpath, "--input", spath, "--output",
                         os.path.join(workdir, f"{tag}.score.safetensors"), "--threads", "2"], tag + " scoring", failures)
    if got is None:
        return
    if "loss" in got:
        failures.append(f"{tag} scoring: an input without y must give no loss")
    worst = compare(got, {"h": ref["h"], "score": ref["score"]}, tag + " scoring", f"F={F} H={H} N={N} T={T}", failures)
    print(f"score   {tag:10s} (forward only, no y): h and score, worst rel err {worst:.2e}")


def check_step(zz, rng, workdir, cell, L, K, failures):
    F, H, N, T, steps, clip, lr = 3, 6, 40, 5, 5, 0.05, 1e-2
    lam = 1.0
    tag = f"step-{cell}{L}k{K}"
    net, names, sd, mpath, ipath, x, y, meta = make_case(rng, cell, L, K, F, H, N, T, lam, workdir, tag)
    got = run_step(zz, mpath, ipath, workdir, tag, steps, clip, lr, failures)
    if got is None:
        return
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)

    def loss_fn(m):
        u, c, z = ref_forward(m, xt, K)
        return ref_loss(u, c, z, yt, K, lam)

    # head.bias: its gradient is mathematically zero (batch-norm follows the head), so Adam only amplifies
    # rounding noise there, in torch as in zhizeng: nothing to compare
    worst = adam_compare(net, got, loss_fn, steps, clip, lr, tag, failures, skip=("head.bias",))
    print(f"adam    {tag:14s}: {steps} steps, worst rel err of the parameter change {worst:.2e}")


def check_files(zz, rng, workdir, failures):
    net, names, sd, mpath, ipath, x, y, meta = make_case(rng, "lstm", 2, 4, 5, 7, 10, 3, 1.0, workdir, "files")
    native, _ = round_trip(zz, sd, meta, mpath, workdir, failures)
    if native is None:
        return
    bad = dict(sd)
    bad["rnn.weight_hh_l1"] = np.zeros((28, 6), np.float32)
    rc, log = import_bad(zz, bad, meta, workdir, native)
    if rc != 3 or "rnn.weight_hh_l1" not in log or "expected [28, 7], found [28, 6]" not in log:
        failures.append(f"a wrong shape must be refused with exit 3 naming the tensor; got {rc}: {log}")
    print("files   import/export round trip and wrong-shape refusal checked")


def main():
    def body(zz, wd, failures):
        rng = np.random.default_rng(20240521)
        for cell in ("gru", "lstm"):
            for L in (1, 2):
                for K in (1, 5):
                    check_forward(zz, rng, wd, cell, L, K, failures)
        for cell in ("gru", "lstm"):
            check_step(zz, rng, wd, cell, 2, 4 if cell == "gru" else 1, failures)
        check_files(zz, rng, wd, failures)
    return cli_main(body)


if __name__ == "__main__":
    sys.exit(main())
