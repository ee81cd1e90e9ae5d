"""PyTorch's side of the CPU benchmark (bench/cpu.ts is ours), as a server so that the repetitions interleave with
gpugrad's and TF.js's in one run: bench/cpu.ts starts it, then sends one line per repetition on stdin,

    <case> <threads>        e.g.  "matmul512 2"

and reads back one JSON line {"ms": ...}: the time of one repetition (the case's work once, after its set-up, which is
built on first use and kept). "quit" ends it. The cases (the same work as bench/cpu.ts's gpugrad cases):

    matmul512, matmul1024, matmul64x400x512   fp32 A @ B
    cnnA          one CNN-A training step, batch 64 (zero_grad, forward, cross-entropy, backward, Adam)
    ensemble      one Adam step of 100 deep 571-parameter MLPs on f1's 500 points, batched with baddbmm
                  (bench/torch_ensemble.py's batched form)
    hessian       the 571×571 float64 Hessian of one deep MLP's MSE on f1 (torch.autograd.functional.hessian,
                  vectorize=True: one batched double backward), the minimal-ratio experiment's Hessian

fp32 eager (float64 for the Hessian). The thread count of a request is set twice: torch.set_num_threads (ATen's
OpenMP pool: conv through oneDNN, elementwise ops) and, when the matmuls go to OpenBLAS, openblas_set_num_threads —
Debian's build calls the system's libblas.so.3 (BLAS_INFO=generic), and OpenBLAS's pthread build keeps its own pool
that set_num_threads does not reach (1024²: 26 ms pinned to one thread, 17 ms with its default two, at load ~2). The
ready line names the BLAS the process loaded, for the table's header.
"""
import json
import math
import os
import sys
import time
import ctypes

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ensemble import SIZES, f1_data  # noqa: E402
from torch_steps import cnn_a  # noqa: E402


def matmul_case(m, k, n):
    a, b = torch.randn(m, k), torch.randn(k, n)
    return lambda: a @ b


def cnn_case():
    torch.manual_seed(0)
    model = cnn_a()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def ensemble_case(count=100):
    x, y = f1_data(torch.device("cpu"))
    ws, bs = [], []
    for i in range(len(SIZES) - 1):
        bound = 1 / math.sqrt(SIZES[i])
        ws.append(((torch.rand(count, SIZES[i + 1], SIZES[i]) * 2 - 1) * bound).requires_grad_())
        bs.append(((torch.rand(count, 1, SIZES[i + 1]) * 2 - 1) * bound).requires_grad_())
    opt = torch.optim.Adam(ws + bs, lr=1e-3)
    xb = x.expand(count, -1, -1)

    def step():
        opt.zero_grad()
        h = xb
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b, h, w.transpose(1, 2))
            if i < len(ws) - 1:
                h = torch.relu(h)
        ((h - y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
    return step


def hessian_case():
    x, y = f1_data(torch.device("cpu"))
    x, y = x.double(), y.double()
    shapes = [(SIZES[i + 1], SIZES[i]) for i in range(len(SIZES) - 1)]
    n = sum(o * i + o for o, i in shapes)
    theta = torch.randn(n, dtype=torch.float64) * 0.3

    def loss(t):
        h, at = x, 0
        for j, (o, i) in enumerate(shapes):
            w = t[at:at + o * i].view(o, i)
            at += o * i
            b = t[at:at + o]
            at += o
            h = h @ w.T + b
            if j < len(shapes) - 1:
                h = torch.relu(h)
        return ((h - y) ** 2).mean()
    return lambda: torch.autograd.functional.hessian(loss, theta, vectorize=True)


FACTORIES = {
    "matmul512": lambda: matmul_case(512, 512, 512),
    "matmul1024": lambda: matmul_case(1024, 1024, 1024),
    "matmul64x400x512": lambda: matmul_case(64, 400, 512),
    "cnnA": cnn_case,
    "ensemble": ensemble_case,
    "hessian": hessian_case,
}


def loaded_blas():
    """The BLAS library this process mapped (after a matmul loaded it), and a setter of its thread count or None.

    Read from /proc/self/maps (Linux): Debian's alternatives decide what libblas.so.3 is (reference BLAS, OpenBLAS
    pthread / openmp / serial, BLIS), and torch.__config__ says only "generic"."""
    torch.randn(8, 8) @ torch.randn(8, 8)
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({ln.split()[-1] for ln in maps if "blas" in ln.lower() and ln.split()[-1].startswith("/")})
    except OSError:
        return "unknown (no /proc/self/maps)", None
    for path in paths:
        lib = ctypes.CDLL(path)
        if hasattr(lib, "openblas_set_num_threads"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            return f"{lib.openblas_get_config().decode()} ({path})", lib.openblas_set_num_threads
    if paths:
        return f"{'reference BLAS' if any('/blas/' in p for p in paths) else 'not OpenBLAS'} ({', '.join(paths)})", None
    return f"none mapped (BLAS_INFO in torch.__config__: {torch.__config__.show().split('BLAS_INFO=')[-1].split(',')[0]})", None


def main():
    cases = {}
    blas, set_blas_threads = loaded_blas()
    print(json.dumps({"ready": True, "torch": torch.__version__, "blas": blas}), flush=True)
    last_threads = None
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        name, threads = parts[0], int(parts[1])
        torch.set_num_threads(threads)
        if set_blas_threads:
            set_blas_threads(threads)
        if name not in cases:
            cases[name] = FACTORIES[name]()
            cases[name]()  # warm-up
        elif threads != last_threads:
            # a changed thread count starts or wakes OpenBLAS's pool on the next call: 1024² at two threads timed
            # 15-19 ms on that first call against 7 ms warm, which made PyTorch look no faster on two threads than on
            # one. gpugrad's workers stay warm between cases, so PyTorch gets an untimed call to warm up too.
            cases[name]()
        last_threads = threads
        t0 = time.perf_counter()
        cases[name]()
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1000}), flush=True)


if __name__ == "__main__":
    main()
