#!/usr/bin/python3
"""PyTorch peer of compute/nn's BenchmarkConv2DForward/Backward: the same
convolutions (batch 16, float32, 2 threads), ms per batch.

    /usr/bin/python3 bench/nn/conv_torch.py
"""
import time

import torch
import torch.nn as nn

torch.set_num_threads(2)
torch.manual_seed(0)
CASES = [
    ("conv1_7x7s2_3-64_224", dict(in_channels=3, out_channels=64, kernel_size=7, stride=2, padding=3), 224),
    ("layer1_3x3_64-64_56", dict(in_channels=64, out_channels=64, kernel_size=3, padding=1), 56),
    ("layer1_1x1_64-256_56", dict(in_channels=64, out_channels=256, kernel_size=1), 56),
    ("layer2_3x3s2_128-128_56", dict(in_channels=128, out_channels=128, kernel_size=3, stride=2, padding=1), 56),
    ("layer3_3x3_256-256_14", dict(in_channels=256, out_channels=256, kernel_size=3, padding=1), 14),
    ("layer3_1x1_1024-256_14", dict(in_channels=1024, out_channels=256, kernel_size=1), 14),
    ("layer4_3x3_512-512_7", dict(in_channels=512, out_channels=512, kernel_size=3, padding=1), 7),
    ("dw_3x3_144_56", dict(in_channels=144, out_channels=144, kernel_size=3, padding=1, groups=144), 56),
]


def timed(fn, reps=5):
    """Mean wall ms and mean CPU ms (all threads) per call."""
    fn()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps * 1e3, (time.process_time() - c0) / reps * 1e3


for name, kw, hw in CASES:
    conv = nn.Conv2d(bias=False, **kw)
    x = torch.randn(16, kw["in_channels"], hw, hw)
    with torch.no_grad():
        fwd = timed(lambda: conv(x))
    xg = x.clone().requires_grad_(True)
    y = conv(xg)
    dy = torch.randn_like(y)

    def backward():
        conv.weight.grad = None
        xg.grad = None
        torch.autograd.grad(y, [xg, conv.weight], dy, retain_graph=True)
    bwd = timed(backward)
    print(f"{name:26s} forward {fwd[0]:8.1f} ms (cpu {fwd[1]:8.1f})  backward {bwd[0]:8.1f} ms (cpu {bwd[1]:8.1f})")
