"""Writes tiny NX-414-layout .h5 files built to attack the loader (issues 14, 15).

Run from the repository root: /usr/bin/python3 testdata/data/make_nx414_hostile.py
(Debian python3-h5py 3.7.0). Stimuli are (N,3,4,4): the loader accepts any
H and W, and the files stay a few kB. Each file but the outside one must be
refused with a clear error:

  nx414_wide_labels.h5    object_train declared as 'S1000000000' (a GB per label), never written
  nx414_external_link.h5  stimulus_train is an external link to nx414_outside.h5
  nx414_virtual.h5        stimulus_train is a virtual dataset mapping nx414_outside.h5
  nx414_external_raw.h5   spikes_train keeps its values in the raw file nx414_external_raw.bin
  nx414_int_stimuli.h5    stimuli stored as uint8 pixels, not normalised float32
  nx414_nan_stimuli.h5    stimulus_val image 1, channel 2, y 3, x 1 is NaN
  nx414_inf_stimuli.h5    stimulus_train float64 with 1e300 at image 2, channel 0, y 1, x 2:
                          finite in the file, +Inf once converted to float32
  nx414_small_val.h5      stimulus_val has 2 images (a val split needs 3)
  nx414_outside.h5        a valid file, the target of the links above (7777 everywhere)
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTS = {'train': 4, 'val': 3, 'test': 3}


def path(name):
    return os.path.join(HERE, name)


def write(name, counts=COUNTS, stim_dtype=np.float32, edit=None, skip=(), objects=True):
    rng = np.random.default_rng(7)
    with h5py.File(path(name), 'w') as f:
        for split, n in counts.items():
            x = rng.normal(size=(n, 3, 4, 4)).astype(stim_dtype)
            if edit and ('stimulus_' + split) in edit:
                x = edit['stimulus_' + split](x)
            if 'stimulus_' + split not in skip:
                f.create_dataset('stimulus_' + split, data=x)
            if split != 'test' and 'spikes_' + split not in skip:
                f.create_dataset('spikes_' + split, data=rng.gamma(2.0, 3.0, size=(n, 5)).astype(np.float32))
            if objects:
                f.create_dataset('object_' + split, data=np.array([b'car'] * n))


def nan_val(x):
    x[1, 2, 3, 1] = np.nan
    return x


def huge_train(x):
    x[2, 0, 1, 2] = 1e300
    return x


def main():
    with h5py.File(path('nx414_outside.h5'), 'w') as f:
        f.create_dataset('stimulus_train', data=np.full((4, 3, 4, 4), 7777, np.float32))

    write('nx414_wide_labels.h5', objects=False)
    with h5py.File(path('nx414_wide_labels.h5'), 'a') as f:
        for split, n in COUNTS.items():
            f.create_dataset('object_' + split, shape=(n,), dtype='S1000000000', chunks=(1,), compression='gzip')

    write('nx414_external_link.h5', skip=('stimulus_train',))
    with h5py.File(path('nx414_external_link.h5'), 'a') as f:
        f['stimulus_train'] = h5py.ExternalLink('nx414_outside.h5', '/stimulus_train')

    write('nx414_virtual.h5', skip=('stimulus_train',))
    with h5py.File(path('nx414_virtual.h5'), 'a') as f:
        layout = h5py.VirtualLayout(shape=(4, 3, 4, 4), dtype=np.float32)
        layout[:] = h5py.VirtualSource('nx414_outside.h5', 'stimulus_train', shape=(4, 3, 4, 4))
        f.create_virtual_dataset('stimulus_train', layout)

    write('nx414_external_raw.h5', skip=('spikes_train',))
    raw = np.full((4, 5), 7777, np.float32)
    raw.tofile(path('nx414_external_raw.bin'))
    with h5py.File(path('nx414_external_raw.h5'), 'a') as f:
        f.create_dataset('spikes_train', shape=(4, 5), dtype=np.float32,
                         external=[('nx414_external_raw.bin', 0, raw.nbytes)])

    write('nx414_int_stimuli.h5', stim_dtype=np.uint8)
    write('nx414_nan_stimuli.h5', edit={'stimulus_val': nan_val})
    write('nx414_inf_stimuli.h5', stim_dtype=np.float64, edit={'stimulus_train': huge_train})
    write('nx414_small_val.h5', counts={'train': 4, 'val': 2, 'test': 3})
    for name in sorted(os.listdir(HERE)):
        if name.startswith(('nx414_wide', 'nx414_ext', 'nx414_virt', 'nx414_int', 'nx414_nan', 'nx414_inf', 'nx414_small', 'nx414_outside')):
            print(name, os.path.getsize(path(name)))


if __name__ == '__main__':
    main()
