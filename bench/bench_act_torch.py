#!/usr/bin/env python3
"""bench_act_torch.py — a PyTorch ACT-LSTM training step written the obvious way, beside bench_model_step's
act_lstm (docs/model.md "ACT-LSTM"): a loop over time steps and ponder steps on the whole batch with
nn.LSTMCell(F + 1, H) and a halting nn.Linear(H, 1), rows that have halted masked out (their weights 0) until
every row has halted or N_max is reached; h and c are the halting-weighted means; ponder cost
tau / N * sum (N(t) + R(t)); univariate head with batch-norm MSE, dropout 0.1 on the last hidden state, clip 3,
Adam. The halting bias is set so that the mean ponder steps match the C run's (--bias). Run:
OPENBLAS_NUM_THREADS=1 python3 bench_act_torch.py [N T F H threads reps] [--bias B]"""
import sys
import time

import torch

argv = [a for a in sys.argv[1:] if not a.startswith("--")]
bias = None
if "--bias" in sys.argv:
    bias = float(sys.argv[sys.argv.index("--bias") + 1])
    argv = [a for a in argv if a != sys.argv[sys.argv.index("--bias") + 1]]
args = [int(a) for a in argv] + [None] * 6
N, T, F, H, TH, REPS = [a if a is not None else d for a, d in zip(args, (4000, 40, 6, 64, 2, 3))]
EPS, NMAX, TAU = 0.1, 30, 1e-3
torch.set_num_threads(TH)
torch.manual_seed(0)
x = torch.rand(N, T, F) * 2 - 1
y = x[:, 0, 0].clone()
cell = torch.nn.LSTMCell(F + 1, H)
halt = torch.nn.Linear(H, 1)
if bias is not None:
    with torch.no_grad():
        halt.bias.fill_(bias)
head = torch.nn.Linear(H, 1)
drop = torch.nn.Dropout(0.1)
params = list(cell.parameters()) + list(halt.parameters()) + list(head.parameters())
opt = torch.optim.Adam(params, lr=1e-3)
flag1 = torch.ones(N, 1)
flag0 = torch.zeros(N, 1)


def forward():
    h = torch.zeros(N, H)
    c = torch.zeros(N, H)
    ponder = torch.zeros(())
    steps = 0
    for t in range(T):
        hp, cp = h, c
        hm = torch.zeros(N, H)
        cm = torch.zeros(N, H)
        s = torch.zeros(N)          # halting sum of the finished ponder steps
        running = torch.ones(N, dtype=torch.bool)
        nt = torch.zeros(N)
        for n in range(1, NMAX + 1):
            hp, cp = cell(torch.cat([x[:, t], flag1 if n == 1 else flag0], 1), (hp, cp))
            p = torch.sigmoid(halt(hp))[:, 0]
            stop = running & (((s + p) >= 1 - EPS) | (n == NMAX))
            cont = running & ~stop
            w = torch.where(stop, 1 - s, torch.where(cont, p, torch.zeros_like(p)))
            hm = hm + w[:, None] * hp
            cm = cm + w[:, None] * cp
            ponder = ponder + torch.where(stop, n + (1 - s), torch.zeros_like(p)).sum()
            nt = nt + running.float()
            s = s + torch.where(cont, p, torch.zeros_like(p))
            running = cont
            if not bool(running.any()):
                break
        steps += float(nt.sum())
        h, c = hm, cm
    return h, ponder, steps / (N * T)


best = 1e30
for r in range(REPS + 1):
    t0 = time.perf_counter()
    opt.zero_grad()
    h, ponder, mean_steps = forward()
    u = head(drop(h))[:, 0]
    sc = torch.nn.functional.batch_norm(u.unsqueeze(1), None, None, training=True, eps=1e-5)[:, 0]
    loss = ((sc - y) ** 2).mean() + TAU / N * ponder
    loss.backward()
    torch.nn.utils.clip_grad_value_(params, 3.0)
    opt.step()
    dt = time.perf_counter() - t0
    if r > 0:
        best = min(best, dt)
print(f"torch   act_lstm layers=1 H={H} batch {N}x{T}x{F} threads={TH}: best step {best:.3f} s, "
      f"{N / best:.0f} sequences/s (loss {loss.item():.4f}), mean ponder steps {mean_steps:.3f}")
