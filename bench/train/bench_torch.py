"""One training epoch of the study's 3-layer CNN in PyTorch, the peer of
itscope's `go run ./bench/train`: conv3x3(32)-BN-ReLU-maxpool2, then 64, then
128, flatten, linear to 168 neurons; MSE loss, Adam (lr 1e-3, weight decay
1e-3), batch 32, over 2592 random images held in memory (as NX-414's train
split). Prints one JSON line per size with the epoch time and peak RSS.

Run: /usr/bin/python3 bench/train/bench_torch.py [--sizes 64,224] [--threads 2]"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn


def cnn(size, neurons=168, channels=(32, 64, 128)):
    layers, c_in, side = [], 3, size
    for c in channels:
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
        c_in, side = c, side // 2
    layers += [nn.Flatten(), nn.Linear(c_in * side * side, neurons)]
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="64,224")
    ap.add_argument("--images", type=int, default=2592)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for size in [int(s) for s in args.sizes.split(",")]:
        x = torch.randn(args.images, 3, size, size)
        y = torch.randn(args.images, 168)
        model = cnn(size)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3)
        loss_fn = nn.MSELoss()
        model.train()
        perm = torch.randperm(args.images)
        start, cpu0 = time.perf_counter(), time.process_time()
        for i in range(0, args.images, args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        secs, cpu = time.perf_counter() - start, time.process_time() - cpu0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": args.threads,
                          "size": size, "images": args.images, "batch": args.batch,
                          "epoch_s": round(secs, 3), "cpu_s": round(cpu, 3), "last_loss": round(loss.item(), 4),
                          "peak_rss_mb": round(peak)}), flush=True)
        del x, y


if __name__ == "__main__":
    main()
