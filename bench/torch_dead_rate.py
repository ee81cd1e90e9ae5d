"""PyTorch's side of the dead-network measurement (bench/dead-rate.ts drives it, one batch per call; issue 15, item 7).

N deep 571-parameter MLPs on f1's 500 points, trained at once as stacked weights with torch.baddbmm (the form of
bench/torch_ensemble.py; each network's gradient is its own, Adam is elementwise, so each trains as it would alone),
full batch, MSE, Adam lr 1e-3. "Dead" is the experiment's test (src/experiments/regression.ts, isConstant): the
network's 500 outputs span at most 1e-6·(1 + |max|). Counted at initialisation and every --every steps.

    /usr/bin/python3 bench/torch_dead_rate.py --n 500 --seed 0 [--steps 1000] [--every 100] [--dtype float64]
        [--init FILE] [--dump-init FILE] [--data FILE] [--adam torch|keras] [--eps 1e-8]

  --seed S        the initial values: torch.manual_seed(S), then N nn.Sequential(nn.Linear, nn.ReLU, ...) built one
                  after another — nn.Linear's own default init, exactly what a PyTorch user's N trainings draw
  --init FILE     start from these initial values instead (a safetensors file with the ensemble's keys
                  '<2l>.weight' [N, out, in] and '<2l>.bias' [N, out], as gpugrad's MLPEnsemble names them)
  --dump-init F   write the initial values so drawn to F (the same keys), for gpugrad to train from
  --data FILE     train on the x, y stored in FILE ('x', 'y' [500, 1]) instead of computing f1 here; either way the
                  reply says how far this side's own f1 is from the file's
  --adam keras    Adam with ε added to the un-corrected √v (TF/Keras: p -= lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + ε)), to see
                  whether where ε sits can move the rate at all
Writes one JSON object to stdout: {"dead": {"<step>": [indices of dead networks]}, "near_dead": [...], ...}.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ensemble import SIZES, f1_data  # noqa: E402

DTYPES = {"F32": torch.float32, "F64": torch.float64}


def read_safetensors(path):
    """{name: tensor} from a safetensors file (the format is 8 bytes of header length, a JSON header, the data)."""
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        buf = bytearray(raw[8 + size + a:8 + size + b])
        out[name] = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return out


def write_safetensors(tensors, path):
    header, blobs, at = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.float64: "F64"}[t.dtype], "shape": list(t.shape),
                        "data_offsets": [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def torch_init(n, seed):
    """N networks' initial values as nn.Linear draws them, stacked: {'<2l>.weight': [N, out, in], '<2l>.bias': [N, out]}."""
    torch.manual_seed(seed)
    nets = []
    for _ in range(n):
        layers = []
        for i in range(len(SIZES) - 1):
            layers.append(nn.Linear(SIZES[i], SIZES[i + 1]))
            if i < len(SIZES) - 2:
                layers.append(nn.ReLU())
        nets.append(nn.Sequential(*layers))
    out = {}
    for l in range(len(SIZES) - 1):
        out[f"{2 * l}.weight"] = torch.stack([net[2 * l].weight.detach() for net in nets])
        out[f"{2 * l}.bias"] = torch.stack([net[2 * l].bias.detach() for net in nets])
    return out


def constant(pred):
    """[N, P] → [N] bools: the experiment's dead test, hi − lo ≤ 1e-6·(1 + |hi|)."""
    hi, lo = pred.max(dim=1).values, pred.min(dim=1).values
    return (hi - lo) <= 1e-6 * (1 + hi.abs())


class KerasAdam:
    """Adam as TF/Keras writes it: ε is added to √v before the bias correction (ε̂), which weighs ε by 1/√(1−β2ᵗ)."""

    def __init__(self, params, lr, eps, betas=(0.9, 0.999)):
        self.params, self.lr, self.eps, self.betas, self.t = params, lr, eps, betas, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        b1, b2 = self.betas
        lr_t = self.lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.sub_(lr_t * m / (v.sqrt() + self.eps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--adam", choices=["torch", "keras"], default="torch")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--init")
    ap.add_argument("--dump-init")
    ap.add_argument("--data")
    a = ap.parse_args()
    torch.set_num_threads(1)
    dtype = getattr(torch, a.dtype)
    t0 = time.perf_counter()

    x, y = f1_data(torch.device("cpu"))
    reply = {"torch": torch.__version__, "n": a.n, "seed": a.seed, "dtype": a.dtype, "adam": a.adam, "eps": a.eps,
             "init": "file" if a.init else "torch"}
    if a.data:
        d = read_safetensors(a.data)
        reply["data_max_diff"] = {"x": (d["x"].double() - x.double()).abs().max().item(),
                                  "y": (d["y"].double() - y.double()).abs().max().item()}
        x, y = d["x"], d["y"]
    x, y = x.to(dtype), y.to(dtype)

    init = read_safetensors(a.init) if a.init else torch_init(a.n, a.seed)
    if a.dump_init:
        write_safetensors(init, a.dump_init)
    L = len(SIZES) - 1
    ws = [init[f"{2 * l}.weight"].to(dtype).clone().requires_grad_() for l in range(L)]
    bs = [init[f"{2 * l}.bias"].to(dtype).unsqueeze(1).clone().requires_grad_() for l in range(L)]
    n = ws[0].shape[0]
    xb = x.expand(n, -1, -1)

    def forward():
        h = xb
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b, h, w.transpose(1, 2))
            if i < L - 1:
                h = torch.relu(h)
        return h

    params = ws + bs
    opt = torch.optim.Adam(params, lr=a.lr, eps=a.eps) if a.adam == "torch" else KerasAdam(params, a.lr, a.eps)
    dead = {}
    for s in range(a.steps + 1):
        if s % a.every == 0 or s == a.steps:
            with torch.no_grad():
                dead[str(s)] = constant(forward()[:, :, 0]).nonzero().flatten().tolist()
        if s == a.steps:
            break
        opt.zero_grad()
        ((forward() - y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
    with torch.no_grad():
        losses = ((forward() - y) ** 2).mean(dim=(1, 2))
    var = ((y - y.mean()) ** 2).mean().item()
    reply.update({"dead": dead, "near_dead": (losses >= 0.99 * var).nonzero().flatten().tolist(),
                  "var": var, "seconds": time.perf_counter() - t0})
    print(json.dumps(reply))


if __name__ == "__main__":
    main()
