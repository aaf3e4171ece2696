#!/usr/bin/python3
"""Make small HDF5 files with the NX-414 IT_data.h5 layout for itscope's data tests.

Run from the repository root: /usr/bin/python3 testdata/data/make_nx414_fixture.py
(Debian python3-h5py 3.7.0, NumPy 1.24). Writes into testdata/data/:

  nx414_fixed.h5    24/8/6 train/val/test images, object_* as fixed-length byte strings
                    (numpy 'S'), spikes float32, stimuli gzip+shuffle, one image a chunk
  nx414_vlen.h5     6/3/3 images, object_* as variable-length strings, spikes float64,
                    stimuli gzip without shuffle in chunks of (2,3,112,112)
  nx414_missing_key.h5   like nx414_vlen.h5 but without spikes_val
  nx414_bad_shape.h5     spikes_val has 100 neurons where spikes_train has 168
  nx414_bad_type.h5      object_* hold integers instead of strings
  nx414_expected.json    shapes, all object labels, and spot values of every array

Stimuli are (N,3,224,224) float32 ImageNet-normalised: uint8 RGB images made of random
8x8-pixel blocks, x = (u/255 - mean)/std in float32 (as torchvision does), so that the
inverse (itscope's RGB) must give back u exactly and gzip can shrink the file.
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)
OBJECTS = ['animals', 'boats', 'cars', 'chairs', 'faces', 'fruits', 'planes', 'tables']
NEURONS = 168


def images(rng, n):
    blocks = rng.integers(0, 256, size=(n, 3, 28, 28), dtype=np.uint8)
    u = blocks.repeat(8, axis=2).repeat(8, axis=3)
    x = (u.astype(np.float32) / np.float32(255.0) - MEAN) / STD
    return u, np.ascontiguousarray(x, dtype=np.float32)


def spots(n):
    return [(0, 0, 0, 0), (min(1, n - 1), 2, 223, 223), (n - 1, 1, 100, 57)]


def make(path, counts, seed, vlen, spikes_dtype, compress=True, drop=(), override=None, int_objects=False):
    rng = np.random.default_rng(seed)
    exp = {'file': os.path.basename(path), 'neurons': NEURONS, 'splits': {}}
    with h5py.File(path, 'w') as f:
        for split, n in zip(['train', 'val', 'test'], counts):
            u, x = images(rng, n)
            if compress:
                kw = dict(chunks=(1, 3, 224, 224), compression='gzip', compression_opts=9, shuffle=True)
            else:  # chunks that straddle images, gzip without shuffle
                kw = dict(chunks=(2, 3, 112, 112), compression='gzip', compression_opts=6)
            f.create_dataset('stimulus_' + split, data=x, **kw)
            labels = [OBJECTS[i] for i in rng.integers(0, len(OBJECTS), size=n)]
            labels[0] = 'animals'  # the widest label: fills a fixed-length string exactly
            if int_objects:
                f.create_dataset('object_' + split, data=np.arange(n))
            elif vlen:
                f.create_dataset('object_' + split, data=labels, dtype=h5py.string_dtype('utf-8'))
            else:
                f.create_dataset('object_' + split, data=np.array([s.encode() for s in labels]))
            e = {'n': n, 'objects': labels,
                 'stimulus': [list(s) + [float(x[s])] for s in spots(n)],
                 'rgb': [list(s) + [int(u[s])] for s in spots(n)]}
            if split != 'test':
                sp = (rng.gamma(2.0, 3.0, size=(n, NEURONS))).astype(spikes_dtype)
                key = 'spikes_' + split
                if override and key in override:
                    sp = override[key](sp)
                if key not in drop:
                    f.create_dataset(key, data=sp)
                e['spikes'] = [[0, 0, float(np.float32(sp[0, 0]))], [n - 1, NEURONS - 1, float(np.float32(sp[n - 1, -1]))],
                               [n // 2, 7, float(np.float32(sp[n // 2, 7]))]]
            exp['splits'][split] = e
    return exp


def main():
    out = {}
    out['fixed'] = make(os.path.join(HERE, 'nx414_fixed.h5'), (24, 8, 6), 1, vlen=False, spikes_dtype=np.float32, compress=True)
    out['vlen'] = make(os.path.join(HERE, 'nx414_vlen.h5'), (6, 3, 3), 2, vlen=True, spikes_dtype=np.float64, compress=False)
    make(os.path.join(HERE, 'nx414_missing_key.h5'), (2, 3, 3), 3, vlen=True, spikes_dtype=np.float32, compress=True,
         drop=('spikes_val',))
    make(os.path.join(HERE, 'nx414_bad_shape.h5'), (2, 3, 3), 4, vlen=True, spikes_dtype=np.float32, compress=True,
         override={'spikes_val': lambda sp: sp[:, :100]})
    make(os.path.join(HERE, 'nx414_bad_type.h5'), (2, 3, 3), 5, vlen=True, spikes_dtype=np.float32, compress=True,
         int_objects=True)
    with open(os.path.join(HERE, 'nx414_expected.json'), 'w') as f:
        json.dump(out, f, indent=1)
    for name in ['nx414_fixed.h5', 'nx414_vlen.h5', 'nx414_missing_key.h5', 'nx414_bad_shape.h5', 'nx414_bad_type.h5']:
        print(name, os.path.getsize(os.path.join(HERE, name)))


if __name__ == '__main__':
    main()
