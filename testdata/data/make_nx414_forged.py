"""Writes tiny NX-414-layout .h5 files whose shapes promise more than they hold.

  nx414_forged_shape.h5  stimulus_train declared (1000000,3,224,224) float32
                         (600 GB) but chunked and never written: a 10 kB file
  nx414_empty_train.h5   stimulus_train (0,3,224,224)

The loader must reject both with a clear error instead of allocating what
the shape says. Run with /usr/bin/python3 (Debian's python3-h5py).
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def common(f, n_val=3):
    f.create_dataset('stimulus_val', data=np.zeros((n_val, 3, 224, 224), np.float32), compression='gzip')
    f.create_dataset('spikes_val', data=np.zeros((n_val, 4), np.float32))


with h5py.File(os.path.join(HERE, 'nx414_forged_shape.h5'), 'w') as f:
    f.create_dataset('stimulus_train', shape=(1000000, 3, 224, 224), dtype=np.float32, chunks=(1, 3, 224, 224))
    f.create_dataset('spikes_train', shape=(1000000, 4), dtype=np.float32, chunks=(1000, 4))
    common(f)

with h5py.File(os.path.join(HERE, 'nx414_empty_train.h5'), 'w') as f:
    f.create_dataset('stimulus_train', data=np.zeros((0, 3, 224, 224), np.float32))
    f.create_dataset('spikes_train', data=np.zeros((0, 4), np.float32))
    common(f)
