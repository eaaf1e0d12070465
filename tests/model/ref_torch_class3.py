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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# (ref_torch exits 77 without torch)
from ref_torch import (Net, adam_compare, cli_main, compare, import_bad, np, round_trip, run,  # noqa: E402
                       run_model, run_step, st_write, torch)

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
    got = run_model(zz, ["forward", "--model", mpath, "--input", ipath, "--output",
                         os.path.join(workdir, f"{tag}.out.safetensors"), "--threads", "2" if L == 2 else "1"],
                    tag, failures)
    if got is None:
        return
    u, score = ref_forward(net, torch.tensor(x, dtype=torch.float64))
    loss = ref_loss(u, torch.tensor(y, dtype=torch.float64), cw)
    loss.backward()
    ref = {"h": u.detach().numpy(), "score": score.detach().numpy(), "loss": np.array([loss.item()])}
    for n, p in net.named_parameters():
        ref["grad." + n] = p.grad.numpy()
    worst = compare(got, ref, tag, f"F={F} H={H} N={N} T={T}", failures)
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
    got = run_step(zz, mpath, ipath, workdir, tag, steps, clip, lr, failures)
    if got is None:
        return
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    worst = adam_compare(net, got, lambda m: ref_loss(ref_forward(m, xt)[0], yt, cw), steps, clip, lr, tag, failures)
    print(f"adam   class3 {tag:10s}: {steps} steps, worst rel err of the parameter change {worst:.2e}")


def check_files(zz, rng, workdir, failures):
    cw = (2.0, 0.5, 1.25)
    net, sd, mpath, ipath, x, y, meta = make_case(rng, "gru", 2, 4, 5, 10, 3, cw, workdir, "files")
    native, gmeta = round_trip(zz, sd, meta, mpath, workdir, failures, "class3 ")
    if native is None:
        return
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
    rc, log = import_bad(zz, bad, meta, workdir, native)
    if rc != 3 or "head.weight" not in log or "expected [3, 5], found [4, 5]" not in log:
        failures.append(f"a wrong head shape must be refused with exit 3 naming the tensor; got {rc}: {log}")
    # outputs != 3 under head=class3, and a non-positive class weight
    for key, val, want in (("outputs", "4", "3 outputs"), ("class_weights", "1,0,1", "class_weights")):
        m2 = dict(meta)
        m2[key] = val
        rc, log = import_bad(zz, sd, m2, workdir, native)
        if rc == 0 or want not in log:
            failures.append(f"metadata {key}={val} must be refused naming '{want}'; got {rc}: {log}")
    print("files  class3 import/export round trip (with class weights) and refusals checked")


def main():
    def body(zz, wd, failures):
        rng = np.random.default_rng(20261129)
        for cell in ("gru", "lstm"):
            for L in (1, 2):
                for cw in (None, (2.5, 0.4, 1.7)):
                    check_forward(zz, rng, wd, cell, L, cw, failures)
        check_step(zz, rng, wd, "gru", 2, (1.5, 0.5, 1.0), failures)
        check_step(zz, rng, wd, "lstm", 1, None, failures)
        check_files(zz, rng, wd, failures)
    return cli_main(body)


if __name__ == "__main__":
    sys.exit(main())
