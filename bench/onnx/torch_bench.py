#!/usr/bin/python3
"""PyTorch CPU timing of torchvision's fp32 mobilenet_v2 (random weights): ms
per image at batch B with 2 threads. Usage: torch_bench.py [BATCH] [SECONDS]"""
import json
import sys
import time

import torch
import torchvision

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 1
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(2)
torch.manual_seed(0)
net = torchvision.models.mobilenet_v2().eval()
x = torch.randn(batch, 3, 224, 224)
with torch.inference_mode():
    for _ in range(5):
        net(x)
    runs, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        net(x)
        runs += 1
    dt = time.perf_counter() - t0
print(json.dumps({'runtime': 'torch ' + torch.__version__, 'batch': batch, 'runs': runs,
                  'ms_per_image': dt * 1000 / runs / batch}))
