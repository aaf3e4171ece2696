#!/usr/bin/python3
"""Write an NX-414-sized IT_data.h5 (2592/288/320 images of 3x224x224 float32, 168 neurons,
uncompressed, about 1.9 GB) of random values to sys.argv[1], for bench/data/run.sh.
Optional sys.argv[2:5] give other train, val and test sizes (bench/study/run.sh quick)."""
import sys

import h5py
import numpy as np

sizes = [int(a) for a in sys.argv[2:5]] or [2592, 288, 320]
rng = np.random.default_rng(0)
with h5py.File(sys.argv[1], 'w') as f:
    for split, n in zip(['train', 'val', 'test'], sizes):
        d = f.create_dataset('stimulus_' + split, (n, 3, 224, 224), dtype='f4')
        for i in range(0, n, 288):
            d[i:i + 288] = rng.standard_normal((min(288, n - i), 3, 224, 224), dtype=np.float32)
        f['object_' + split] = np.array([b'car'] * n, dtype='S3')
        if split != 'test':
            f['spikes_' + split] = rng.random((n, 168))
