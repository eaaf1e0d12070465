#!/usr/bin/env python3
"""ref_torch_class3.py — checks the 3-class head of `zhizeng model forward|step|import|export` against PyTorch
(float64 reference).

Random GRU and LSTM nets (1 and 2 layers) with head = nn.Linear(H, 3) (rows down, neutral, up) are written
as safetensors by hand with __metadata__ head=class3 (and class_weights for the weighted cases); `zhizeng
model forward` runs on random x and class ids y in {0, 1, 2}. Its h (the logits), score (P(up) - P(down)
of the softmax), loss (torch.nn.functional.cross_entropy, with weight= for the weighted cases) and every
parameter gradient must agree with PyTorch's to 1e-4 relative to the tensor's max |value|. `zhizeng model
step` must follow torch.optim.Adam + clip_grad_value_; import / export must round-trip tensors and the
metadata; a label outside 0/1/2 and a head.weight of the wrong shape must be refused. Exit 77 (ctest SKIP)
when torch or numpy is missing."""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_torch import Net, TOL, np, rel_err, run, st_read, st_write, torch  # noqa: E402  (exits 77 without torch)

F_CE = torch.nn.functional.cross_entropy


def make_case(rng, cell, L, F, H, N, T, cw, workdir, tag):
    torch.manual_seed(int(rng.integers(1 << 30)))
    net = Net(cell, F, H, L, 3)
    sd = {k: v.detach().numpy().astype(np.float32) * 1.5 for k, v in net.state_dict().items()}
    meta = {"cell": cell, "layers": L, "hidden": H, "input_size": F, "outputs": 3, "head": "class3",
            "lambda": "1", "dropout": "0.1"}
    if cw is not None:
        meta["class_weights"] = ",".join(repr(float(v)) for v in cw)
    mpath = os.path.join(workdir, f"{tag}.model.safetensors")
    st_write(mpath, sd, meta)
    x = rng.standard_normal((N, T, F)).astype(np.float32)
    y = rng.integers(0, 3, N).astype(np.float32)
    ipath = os.path.join(workdir, f"{tag}.in.safetensors")
    st_write(ipath, {"x": x, "y": y})
    net64 = Net(cell, F, H, L, 3).double()
    net64.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in sd.items()})
    return net64, sd, mpath, ipath, x, y, meta


def ref_forward(net, x):
    out, _ = net.rnn(x)
    u = net.head(out[:, -1, :])
    p = torch.softmax(u, dim=1)
    return u, p[:, 2] - p[:, 0]


def ref_loss(u, y, cw):
    w = None if cw is None else torch.tensor(cw, dtype=torch.float64)
    return F_CE(u, y.long(), weight=w)


def check_forward(zz, rng, workdir, cell, L, cw, failures):
    F, H, N, T = int(rng.integers(2, 7)), int(rng.integers(3, 12)), int(rng.integers(20, 80)), int(rng.integers(2, 12))
    tag = f"{cell}{L}{'w' if cw is not None else ''}"
    net, sd, mpath, ipath, x, y, meta = make_case(rng, cell, L, F, H, N, T, cw, workdir, tag)
    opath = os.path.join(workdir, f"{tag}.out.safetensors")
    rc, log = run([zz, "model", "forward", "--model", mpath, "--input", ipath, "--output", opath,
                   "--threads", "2" if L == 2 else "1"])
    if rc != 0:
        failures.append(f"{tag}: zhizeng model forward failed ({rc}): {log}")
        return
    got, _ = st_read(opath)
    u, score = ref_forward(net, torch.tensor(x, dtype=torch.float64))
    loss = ref_loss(u, torch.tensor(y, dtype=torch.float64), cw)
    loss.backward()
    ref = {"h": u.detach().numpy(), "score": score.detach().numpy(), "loss": np.array([loss.item()])}
    for n, p in net.named_parameters():
        ref["grad." + n] = p.grad.numpy()
    worst = 0.0
    for k, v in ref.items():
        if k not in got:
            failures.append(f"{tag}: output lacks {k}")
            continue
        e = rel_err(got[k], v)
        worst = max(worst, e)
        if not e <= TOL:
            failures.append(f"{tag} (F={F} H={H} N={N} T={T}): {k} differs from PyTorch, rel err {e:.3e}")
    # the weighted and the plain loss must differ, or the weights were not used
    if cw is not None:
        plain = F_CE(u.detach(), torch.tensor(y, dtype=torch.float64).long()).item()
        if abs(plain - loss.item()) < 1e-6 * abs(plain):
            failures.append(f"{tag}: the class weights {cw} do not change the loss: a useless case")
    print(f"forward class3 {tag:6s} F={F} H={H:2d} N={N:2d} T={T:2d}: {len(ref)} tensors, worst rel err {worst:.2e}")


def check_step(zz, rng, workdir, cell, L, cw, failures):
    F, H, N, T, steps, clip, lr = 3, 6, 40, 5, 5, 0.05, 1e-2
    tag = f"step-{cell}{L}"
    net, sd, mpath, ipath, x, y, meta = make_case(rng, cell, L, F, H, N, T, cw, workdir, tag)
    opath = os.path.join(workdir, f"{tag}.out.safetensors")
    rc, log = run([zz, "model", "step", "--model", mpath, "--input", ipath, "--output", opath, "--steps", str(steps),
                   "--clip", str(clip), "--lr", str(lr)])
    if rc != 0:
        failures.append(f"{tag}: zhizeng model step failed ({rc}): {log}")
        return
    got, _ = st_read(opath)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    p0 = {n: p.detach().clone().numpy() for n, p in net.named_parameters()}
    worst = 0.0
    for s in range(1, steps + 1):
        opt.zero_grad()
        u, _ = ref_forward(net, xt)
        loss = ref_loss(u, yt, cw)
        loss.backward()
        torch.nn.utils.clip_grad_value_(net.parameters(), clip)
        opt.step()
        for n, p in net.named_parameters():
            d_ref = p.detach().numpy() - p0[n]
            d_got = got[f"step{s}.{n}"].astype(np.float64) - p0[n]
            e = rel_err(d_got, d_ref)
            worst = max(worst, e)
            if not e <= 1e-3:
                failures.append(f"{tag}: after step {s}, {n} moved differently from torch.optim.Adam (rel err {e:.3e})")
    print(f"adam   class3 {tag:10s}: {steps} steps, worst rel err of the parameter change {worst:.2e}")


def check_files(zz, rng, workdir, failures):
    cw = (2.0, 0.5, 1.25)
    net, sd, mpath, ipath, x, y, meta = make_case(rng, "gru", 2, 4, 5, 10, 3, cw, workdir, "files")
    native = os.path.join(workdir, "files.zzmodel")
    back = os.path.join(workdir, "files.back.safetensors")
    rc, log = run([zz, "model", "import", "--in", mpath, "--out", native])
    rc2, log2 = run([zz, "model", "export", "--model", native, "--out", back]) if rc == 0 else (rc, log)
    if rc or rc2:
        failures.append(f"class3 import/export failed: {log} {log2}")
        return
    got, gmeta = st_read(back)
    for k, v in sd.items():
        if k not in got or not np.array_equal(got[k], v):
            failures.append(f"class3 round trip changed tensor {k}")
    for k in ("cell", "layers", "hidden", "input_size", "outputs", "head"):
        if gmeta.get(k) != str(meta[k]):
            failures.append(f"class3 round trip metadata {k}: {gmeta.get(k)!r} != {meta[k]!r}")
    back_cw = tuple(float(v) for v in gmeta.get("class_weights", "").split(",")) if gmeta.get("class_weights") else ()
    if back_cw != cw:
        failures.append(f"class3 round trip class_weights: {gmeta.get('class_weights')!r} != {cw}")
    # a label that is not a class id
    bad_in = os.path.join(workdir, "badlabel.in.safetensors")
    yb = y.copy()
    yb[4] = 3.0
    st_write(bad_in, {"x": x, "y": yb})
    rc, log = run([zz, "model", "forward", "--model", native, "--input", bad_in,
                   "--output", os.path.join(workdir, "bad.out")])
    if rc != 3 or "y[4]" not in log or "class ids" not in log:
        failures.append(f"a label 3 must be refused with exit 3 naming y[4]; got {rc}: {log}")
    # head.weight of the multivariate shape under head=class3
    bad = dict(sd)
    bad["head.weight"] = np.zeros((4, 5), np.float32)
    badpath = os.path.join(workdir, "bad.safetensors")
    st_write(badpath, bad, meta)
    rc, log = run([zz, "model", "import", "--in", badpath, "--out", native + ".bad"])
    if rc != 3 or "head.weight" not in log or "expected [3, 5], found [4, 5]" not in log:
        failures.append(f"a wrong head shape must be refused with exit 3 naming the tensor; got {rc}: {log}")
    # outputs != 3 under head=class3, and a non-positive class weight
    for key, val, want in (("outputs", "4", "3 outputs"), ("class_weights", "1,0,1", "class_weights")):
        m2 = dict(meta)
        m2[key] = val
        st_write(badpath, sd, m2)
        rc, log = run([zz, "model", "import", "--in", badpath, "--out", native + ".bad"])
        if rc == 0 or want not in log:
            failures.append(f"metadata {key}={val} must be refused naming '{want}'; got {rc}: {log}")
    print("files  class3 import/export round trip (with class weights) and refusals checked")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhizeng", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(20261129)
    failures = []
    with tempfile.TemporaryDirectory() as wd:
        for cell in ("gru", "lstm"):
            for L in (1, 2):
                for cw in (None, (2.5, 0.4, 1.7)):
                    check_forward(args.zhizeng, rng, wd, cell, L, cw, failures)
        check_step(args.zhizeng, rng, wd, "gru", 2, (1.5, 0.5, 1.0), failures)
        check_step(args.zhizeng, rng, wd, "lstm", 1, None, failures)
        check_files(args.zhizeng, rng, wd, failures)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
