"""PyTorch's side of the ensemble benchmark (issue 8; bench/ensemble.ts is ours): the minimal-ratio workload — the deep
571-parameter MLP on f1's 500 points, full batch — as PyTorch users would run it.

  one by one   one nn.Sequential after another (what the issue compares against: "PyTorch running the 100 trainings
               one by one"), per step: zero_grad, forward, MSE, backward, Adam step;
  batched      all N networks as stacked weights [N, out, in] and torch.baddbmm, the PyTorch form of our MLPEnsemble.

Two phases, as the experiment: an Adam step on the MSE, and an Adam step on ½‖∇L‖² (torch.autograd.grad with
create_graph=True, then backward: a double backward). fp32 eager; TF32 off on CUDA.

    python3 bench/torch_ensemble.py [--device cpu|cuda] [--models 100] [--steps 50] [--reps 3] [--out file.json]

Prints per-step times for all N networks (one by one: timed on a sample and scaled, as bench/ensemble.ts does).
"""
import argparse
import json
import math
import statistics
import time

import torch
from torch import nn

SIZES = [1, 5, 10, 10, 10, 10, 10, 5, 1]


def f1_data(device):
    # f1 = sin(5πx)/(5πx) on linspace(-5, 5, 500), as src/data/functions.ts
    x = torch.linspace(-5, 5, 500, dtype=torch.float64).to(torch.float32).to(device).reshape(-1, 1)
    px = 5 * math.pi * x
    y = torch.where(x == 0, torch.ones_like(x), torch.sin(px) / px)
    return x, y


def mlp(gen):
    layers = []
    for i in range(len(SIZES) - 1):
        lin = nn.Linear(SIZES[i], SIZES[i + 1])
        with torch.no_grad():
            bound = 1 / math.sqrt(SIZES[i])
            lin.weight.uniform_(-bound, bound, generator=gen)
            lin.bias.uniform_(-bound, bound, generator=gen)
        layers.append(lin)
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def gn_loss(loss, params):
    grads = torch.autograd.grad(loss, params, create_graph=True)
    return 0.5 * sum((g * g).sum() for g in grads)


def phases(device, steps, params, loss_fn):
    """Seconds per step of Adam on the loss, then of Adam on ½‖∇L‖² (after 3 untimed steps each)."""
    opt = torch.optim.Adam(params, lr=1e-3)
    out = []
    for phase in ("adam", "gn"):
        for s in range(steps + 3):
            if s == 3:
                sync(device)
                t0 = time.perf_counter()
            opt.zero_grad()
            loss = loss_fn()
            (loss if phase == "adam" else gn_loss(loss, params)).backward()
            opt.step()
        sync(device)
        out.append((time.perf_counter() - t0) / steps)
    return out


def one_by_one(device, count, steps, x, y):
    """Seconds per step (Adam, ½‖∇L‖²) for `count` networks trained one after another."""
    adam = gn = 0.0
    for i in range(count):
        m = mlp(torch.Generator().manual_seed(i)).to(device)
        a, g = phases(device, steps, list(m.parameters()), lambda: nn.functional.mse_loss(m(x), y))
        adam += a
        gn += g
    return adam, gn


def batched(device, count, steps, x, y):
    """Seconds per step (Adam, ½‖∇L‖²) for `count` networks as stacked weights, one baddbmm per layer."""
    ws, bs = [], []
    for i in range(len(SIZES) - 1):
        bound = 1 / math.sqrt(SIZES[i])
        ws.append(((torch.rand(count, SIZES[i + 1], SIZES[i], device=device) * 2 - 1) * bound).requires_grad_())
        bs.append(((torch.rand(count, 1, SIZES[i + 1], device=device) * 2 - 1) * bound).requires_grad_())
    params = ws + bs
    xb = x.expand(count, -1, -1)

    def losses():
        h = xb
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b, h, w.transpose(1, 2))
            if i < len(ws) - 1:
                h = torch.relu(h)
        return ((h - y) ** 2).mean(dim=(1, 2)).sum()  # the sum of per-model losses: each model gets its own gradient

    return tuple(phases(device, steps, params, losses))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--models", type=int, default=100)
    ap.add_argument("--sample", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out")
    a = ap.parse_args()
    device = torch.device(a.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        name = torch.cuda.get_device_name(0)
    else:
        name = f"CPU, {torch.get_num_threads()} threads"
    x, y = f1_data(device)
    one_by_one(device, 1, 3, x, y)  # warm-up
    batched(device, a.models, 3, x, y)
    reps = {"one": [], "batched": []}
    for _ in range(a.reps):
        o = one_by_one(device, a.sample, a.steps, x, y)
        reps["one"].append((o[0] * a.models / a.sample, o[1] * a.models / a.sample))
        reps["batched"].append(batched(device, a.models, a.steps, x, y))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in reps.items()}
    fmt = lambda s: f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
    print(f"# PyTorch {torch.__version__} on {name}: {a.models} deep MLPs (571 parameters) on f1 (500 points); "
          f"one by one timed on {a.sample} networks and scaled; median of {a.reps}")
    print(f"| per step, all {a.models} networks | PyTorch one by one | PyTorch batched (baddbmm) | per network-step, one by one |")
    print("|---|---:|---:|---:|")
    for j, label in enumerate(["Adam step", "½‖∇L‖² step"]):
        print(f"| {label} | {fmt(med['one'][j])} | {fmt(med['batched'][j])} | {fmt(med['one'][j] / a.models)} |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"torch": torch.__version__, "device": name, "models": a.models,
                       "one_by_one": {"adam_s": med["one"][0], "gn_s": med["one"][1]},
                       "batched": {"adam_s": med["batched"][0], "gn_s": med["batched"][1]}}, f, indent=1)


if __name__ == "__main__":
    main()
