#!/usr/bin/python3
"""PyTorch peers of the itscope network benchmarks (bench/nets/run.sh).

    torch_peer.py forward            resnet50 (random weights), batch 16 at 224x224,
                                     torch.no_grad, eval, 2 threads: ms per image
    torch_peer.py extract DIR N      resnet50 over N random 224x224 images, batch 16,
                                     forward hooks on every tap itscope has (conv1,
                                     layer1..4, avgpool, fc), each streamed to
                                     DIR/<tap>.npy (float32, one row per image) as
                                     itscope's feature cache does: seconds in total
Prints one JSON object.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision

torch.set_num_threads(2)
TAPS = ["conv1", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]


def model():
    torch.manual_seed(1)
    return torchvision.models.resnet50(weights=None).eval()


def forward():
    m = model()
    x = torch.randn(16, 3, 224, 224)
    with torch.no_grad():
        m(x)  # warm up
        times = []
        cpu0 = time.process_time()
        for _ in range(3):
            t = time.perf_counter()
            m(x)
            times.append(time.perf_counter() - t)
        cpu = time.process_time() - cpu0
    best, mean = min(times), sum(times) / len(times)
    print(json.dumps({"peer": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
                      "batch": 16, "ms_per_image_mean": 1000 * mean / 16, "ms_per_image_best": 1000 * best / 16,
                      "cpu_ms_per_image": 1000 * cpu / (3 * 16)}))


def extract(out, n):
    m = model()
    os.makedirs(out, exist_ok=True)
    got = {}
    for tap in TAPS:
        getattr(m, tap).register_forward_hook(lambda mod, i, o, tap=tap: got.__setitem__(tap, o))
    files = {}
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    with torch.no_grad():
        for first in range(0, n, 16):
            b = min(16, n - first)
            m(torch.randn(b, 3, 224, 224, generator=g))
            for tap in TAPS:
                v = got[tap].reshape(b, -1).numpy()
                if tap not in files:
                    files[tap] = np.lib.format.open_memmap(os.path.join(out, tap + ".npy"), mode="w+",
                                                          dtype=np.float32, shape=(n, v.shape[1]))
                files[tap][first:first + b] = v
        for f in files.values():
            f.flush()
    secs = time.perf_counter() - t0
    print(json.dumps({"peer": "pytorch", "images": n, "taps": len(TAPS), "seconds": secs,
                      "images_per_second": n / secs}))


if __name__ == "__main__":
    if sys.argv[1] == "forward":
        forward()
    else:
        extract(sys.argv[2], int(sys.argv[3]))
