#!/usr/bin/python3
"""Read every key of an .h5 file into NumPy with h5py: the peer of data.Open."""
import sys
import time

import h5py

t = time.time()
with h5py.File(sys.argv[1], 'r') as f:
    arrays = {k: f[k][()] for k in f}
print(f'h5py read: {time.time() - t:.2f}s, stimulus_train {arrays["stimulus_train"].shape} {arrays["stimulus_train"].dtype}')
