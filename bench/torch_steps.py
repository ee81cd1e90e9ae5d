"""PyTorch's side of the training-step benchmark (bench/training.ts builds the same three models for gpugrad and TF.js).

One step = zero_grad, forward, loss, backward, Adam step, in fp32 eager mode. TF32 is turned OFF for matmuls and
convolutions (PyTorch enables it for cuDNN convolutions by default), so every library does fp32 arithmetic.

    python3 bench/torch_steps.py [--device cuda] [--out torch.json] [--quick]

Prints a small table and writes JSON that `node dist/bench/main.js --torch torch.json` merges into its training table:
{ "torch": version, "device": name, "tf32": false, "models": { key: { "ms": median synced ms/step,
  "ms_min", "ms_max", "pipelined_ms", "gpu_ms", "params" } }, "matmul": { "4096": TFLOP/s } }
"""
import argparse
import json
import math
import statistics
import time

import torch
from torch import nn


def mlp571():
    sizes = [1, 5, 10, 10, 10, 10, 10, 5, 1]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def cnn_a():
    return nn.Sequential(
        nn.Conv2d(1, 10, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(10, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
        nn.Linear(256, 125), nn.ReLU(), nn.Linear(125, 10))


def cnn_2():
    return nn.Sequential(
        nn.Conv2d(3, 96, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(96, 80, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(80, 96, 3, padding=1), nn.ReLU(),
        nn.Conv2d(96, 64, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(4096, 512), nn.ReLU(), nn.Linear(512, 10))


# key, builder, batch, input shape (without batch), loss, lr — as MODELS in bench/training.ts
MODELS = [
    ("mlp571", mlp571, 500, (1,), "mse", 1e-3),
    ("cnnA", cnn_a, 64, (1, 28, 28), "ce", 1e-4),
    ("cnn2", cnn_2, 64, (3, 32, 32), "ce", 1e-4),
]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_model(key, build, batch, shape, loss_kind, lr, device, quick):
    torch.manual_seed(0)
    model = build().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    if loss_kind == "mse":
        x = torch.linspace(-5, 5, batch, device=device).unsqueeze(1)
        y = torch.sin(5 * math.pi * x) / (5 * math.pi * x)
        loss_fn = nn.MSELoss()
    else:
        x = torch.rand(batch, *shape, device=device)
        y = torch.randint(0, 10, (batch,), device=device)
        loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(5 if quick else 20):
        step()
    sync(device)
    reps = 20 if quick else 200
    times, gpu = [], []
    for _ in range(reps):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
        if device.type == "cuda":
            end.record()
            end.synchronize()
            gpu.append(start.elapsed_time(end))
    n = 10 if quick else 50
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    sync(device)
    pipelined = (time.perf_counter() - t0) * 1e3 / n
    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    return {
        "ms": statistics.median(times), "ms_min": min(times), "ms_max": max(times),
        "pipelined_ms": pipelined, "gpu_ms": statistics.median(gpu) if gpu else None,
        "params": sum(p.numel() for p in model.parameters()), "loss": final, "reps": reps,
    }


def bench_matmul(n, device):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    sync(device)
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    sec = (time.perf_counter() - t0) / reps
    return 2 * n ** 3 / sec / 1e12


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    doc = {"torch": torch.__version__, "device": name, "tf32": False,
           "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
           "models": {}, "matmul": {}}
    for key, build, batch, shape, loss_kind, lr in MODELS:
        r = bench_model(key, build, batch, shape, loss_kind, lr, device, args.quick)
        doc["models"][key] = r
        print(f"{key:8s} batch {batch:4d}: {r['ms']:.3f} ms/step synced (min {r['ms_min']:.3f}), "
              f"{r['pipelined_ms']:.3f} ms/step pipelined, loss {r['loss']:.4f}", flush=True)
    if device.type == "cuda":
        for n in (1024, 4096):
            doc["matmul"][str(n)] = bench_matmul(n, device)
            print(f"matmul {n}^3 fp32 (TF32 off): {doc['matmul'][str(n)]:.1f} TFLOP/s", flush=True)
    print(f"PyTorch {torch.__version__} on {name}; TF32 off (cuda.matmul and cudnn); eager; torch.optim.Adam defaults")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
