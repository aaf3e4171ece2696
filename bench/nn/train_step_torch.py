#!/usr/bin/python3
"""PyTorch peer of compute/nn's BenchmarkTrainStep: one Adam step (forward,
MSE, backward, update) of the 3-block CNN (32-64-128 channels, 3x3, BN,
ReLU, maxpool 2, linear read-out to 168), batch 32, 2 threads, ms per step.

    /usr/bin/python3 bench/nn/train_step_torch.py
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)


def cnn(size):
    layers, c = [], 3
    for ch in (32, 64, 128):
        layers += [nn.Conv2d(c, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(), nn.MaxPool2d(2)]
        c = ch
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * (size // 8) ** 2, 168))


for size in (64, 224):
    net = cnn(size).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-3)
    x, target = torch.randn(32, 3, size, size), torch.randn(32, 168)

    def step():
        opt.zero_grad()
        F.mse_loss(net(x), target).backward()
        opt.step()
    step()
    reps = 10 if size == 64 else 3
    times = []
    cpu0 = time.process_time()
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu0) / reps
    print(f"train step {size}px: mean {sum(times)/reps*1e3:.1f} ms, best {min(times)*1e3:.1f} ms, "
          f"cpu {cpu*1e3:.1f} ms/step")
