#!/usr/bin/env python3
"""bench_model_step_torch.py — PyTorch's CPU training step on the same problem as bench_model_step
(2-layer GRU and LSTM, hidden 64, batch 4000 x 40 x 6, univariate head with batch-norm MSE, clip 3, Adam),
and its scoring pass (the forward under torch.no_grad(), dropout off) on the same batch, in turn with the steps.
Run at PyTorch's best setting: OPENBLAS_NUM_THREADS=1 python3 bench_model_step_torch.py [N T F H L threads reps]"""
import sys
import time

import torch

args = [int(a) for a in sys.argv[1:]] + [None] * 7
N, T, F, H, L, TH, REPS = [a if a is not None else d for a, d in zip(args, (4000, 40, 6, 64, 2, 2, 5))]
torch.set_num_threads(TH)
torch.manual_seed(0)
x = torch.rand(N, T, F) * 2 - 1
y = x[:, 0, 0].clone()
for cell in ("gru", "lstm"):
    rnn = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(F, H, L, batch_first=True, dropout=0.1)
    head = torch.nn.Linear(H, 1)
    drop = torch.nn.Dropout(0.1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    best = best_score = 1e30
    for r in range(REPS + 1):
        rnn.train()
        drop.train()
        t0 = time.perf_counter()
        opt.zero_grad()
        out, _ = rnn(x)
        u = head(drop(out[:, -1, :]))[:, 0]
        s = torch.nn.functional.batch_norm(u.unsqueeze(1), None, None, training=True, eps=1e-5)[:, 0]
        loss = ((s - y) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, 3.0)
        opt.step()
        dt = time.perf_counter() - t0
        # scoring: forward only, no autograd state, dropout off
        rnn.eval()
        drop.eval()
        t1 = time.perf_counter()
        with torch.no_grad():
            out, _ = rnn(x)
            score = head(out[:, -1, :])[:, 0]
        ds = time.perf_counter() - t1
        if r > 0:
            best = min(best, dt)
            best_score = min(best_score, ds)
    print(f"torch   {cell:4s} layers={L} H={H} batch {N}x{T}x{F} threads={TH}: best step {best:.3f} s, "
          f"{N / best:.0f} sequences/s (loss {loss.item():.4f})")
    print(f"torch   {cell:4s} scoring (forward only, torch.no_grad()): best {best_score:.3f} s, "
          f"{N / best_score:.0f} sequences/s")
