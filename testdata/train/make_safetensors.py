"""Writes safetensors_fixture.safetensors with the independent writer in
safetensors_io.py (and checks it with the `safetensors` package when that is
installed). model/runs/safetensors_test.go reads it and writes the same tensors back,
byte for byte. Run: /usr/bin/python3 testdata/train/make_safetensors.py"""
import os

import numpy as np

import safetensors_io

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "safetensors_fixture.safetensors")
tensors = {
    "0.weight": (np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) * 0.5 - 3),
    "0.bias": np.array([1e-3, -2.5], dtype=np.float32),
    "readout.weight": np.array([[3.14159, -1e30, 1e-30]], dtype=np.float32),
    "scalar": np.array(7.25, dtype=np.float32),
}
safetensors_io.write(path, tensors, {"spec": "layers=1", "format": "pt"})
back, meta = safetensors_io.read(path)
for k, v in tensors.items():
    assert np.array_equal(back[k], v), k
try:
    from safetensors.numpy import load_file
    lib = load_file(path)
    for k, v in tensors.items():
        assert np.array_equal(lib[k], v), k
    print("checked with the safetensors package")
except ImportError:
    print("safetensors package not installed; checked with safetensors_io only")
print("wrote", path)
