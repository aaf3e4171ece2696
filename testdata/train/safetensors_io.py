"""A minimal safetensors reader and writer (float32 only), independent of
itscope's Go code, so fixtures need no `safetensors` package. The format: an
8-byte little-endian header length, a JSON header padded with spaces to a
multiple of 8, then raw little-endian data; see
https://github.com/huggingface/safetensors#format."""
import json
import struct

import numpy as np


def write(path, tensors, metadata=None):
    """tensors: dict name -> float32 array; laid out in name order."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset, blobs = 0, []
    for name in sorted(tensors):
        a = np.asarray(tensors[name], dtype="<f4", order="C")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    js = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def read(path):
    """Returns (dict name -> float32 array, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(raw[base + b:base + end], dtype="<f4").reshape(e["shape"])
    return out, meta
