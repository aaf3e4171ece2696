#!/usr/bin/python3
"""scikit-learn's predictions from a saved itscope read-out.

Inputs (written by Go from a fit on the embedded demo: pixels:8, standardised,
PCA 12, ridge CV with an alpha per neuron):
    go test ./model/readout -run TestSavedReadoutAgainstSklearn -args -update-readout-fixture
writes readout.safetensors and x_val.npy (the raw pixels:8 features of the
120 val images). This script reads the safetensors file with NumPy alone (an
8-byte little-endian header length, a JSON header, then the raw arrays),
sets the arrays on scikit-learn's StandardScaler, PCA and Ridge instead of
fitting them, and writes their predictions on x_val to sklearn_pred.npy
(float32, images x neurons). TestSavedReadoutAgainstSklearn compares.

Run with Debian's python3 (scikit-learn 1.2, NumPy 1.24):
    /usr/bin/python3 testdata/readout/make_readout_fixture.py
"""
import json
import os
import struct

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "F64": "<f8"}
    arrays = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        arrays[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
    return arrays, meta


t, meta = load_safetensors(os.path.join(HERE, "readout.safetensors"))
x = np.load(os.path.join(HERE, "x_val.npy"))
print("metadata:", meta)
print({k: (v.dtype.str, v.shape) for k, v in t.items()})

scaler = StandardScaler()
scaler.mean_, scaler.scale_ = t["standardiser.mean"], t["standardiser.scale"]
scaler.var_ = scaler.scale_ ** 2
scaler.n_features_in_ = x.shape[1]

pca = PCA(n_components=t["pca.components"].shape[0])
pca.mean_, pca.components_ = t["pca.mean"], t["pca.components"].astype(np.float64)
pca.n_components_, pca.n_features_in_, pca.whiten = pca.components_.shape[0], x.shape[1], False

ridge = Ridge()
ridge.coef_, ridge.intercept_ = t["coef"].T, t["intercept"]  # itscope stores coef as (p, neurons)
ridge.n_features_in_ = t["coef"].shape[0]

pred = make_pipeline(scaler, pca, ridge).predict(x.astype(np.float64))
# The same with NumPy alone, as docs/models.md shows it.
z = ((x - t["standardiser.mean"]) / t["standardiser.scale"] - t["pca.mean"]) @ t["pca.components"].T.astype(np.float64)
numpy_pred = z @ t["coef"] + t["intercept"]
print(f"{pred.shape[0]} images x {pred.shape[1]} neurons; max |sklearn - numpy| = {np.abs(pred - numpy_pred).max():.3g}")
np.save(os.path.join(HERE, "sklearn_pred.npy"), pred.astype(np.float32))
