#!/usr/bin/python3
"""Benchmark data for the linear read-outs (not committed; generated into DIR).

  /usr/bin/python3 bench/linear/make_data.py small DIR   # 3000 x 4096 (+300 val), 168 neurons
  /usr/bin/python3 bench/linear/make_data.py big DIR     # 2592 x 200,704 (+288 val), 168 neurons, ~2.3 GB

Features are float32: a 64-dimensional latent structure plus unit noise (so PCA
has a spectrum to find, as network activations do). Responses are a noisy
linear read-out of the latents (float32, as itscope holds responses). folds.npy is a seeded 5-fold assignment of the
training rows that both the Go and the scikit-learn side use, so their ridge CV
sees the same folds. Rows are written in chunks through a memory map: the
generator never holds the big matrix.
"""
import os
import sys

import numpy as np

SIZES = {"small": (3000, 300, 4096), "big": (2592, 288, 200704)}
NEURONS, LATENT, CHUNK = 168, 64, 128


def main():
    which, out = sys.argv[1], sys.argv[2]
    n_tr, n_va, d = SIZES[which]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(2026)
    mix = (rng.standard_normal((LATENT, d)) / 2).astype(np.float32)
    readout = rng.standard_normal((LATENT, NEURONS))
    for name, n in (("x_train", n_tr), ("x_val", n_va)):
        z = rng.standard_normal((n, LATENT))
        y = z @ readout + 4 * rng.standard_normal((n, NEURONS))
        x = np.lib.format.open_memmap(os.path.join(out, name + ".npy.tmp"), mode="w+", dtype=np.float32, shape=(n, d))
        for r in range(0, n, CHUNK):
            e = min(r + CHUNK, n)
            block = z[r:e].astype(np.float32) @ mix
            block += rng.standard_normal((e - r, d), dtype=np.float32)
            x[r:e] = block
        x.flush()
        del x
        os.replace(os.path.join(out, name + ".npy.tmp"), os.path.join(out, name + ".npy"))
        np.save(os.path.join(out, name.replace("x_", "y_") + ".npy"), y.astype(np.float32))
    folds = np.arange(n_tr) % 5
    rng.shuffle(folds)
    np.save(os.path.join(out, "folds.npy"), folds.astype(np.int64))


if __name__ == "__main__":
    main()
