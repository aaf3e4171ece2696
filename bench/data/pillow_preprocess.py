#!/usr/bin/python3
"""Peer of BenchmarkDecodeClassifyPreprocess: decode + resize 256 + crop 224 + normalise with
Pillow and NumPy (the MobileNetV2 reference's preprocess.py steps), mean time per image."""
import io
import sys
import time

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess(raw):
    img = Image.open(io.BytesIO(raw)).convert('RGB')
    w, h = img.size
    nw, nh = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - 224) // 2, (nh - 224) // 2
    a = np.asarray(img.crop((left, top, left + 224, top + 224)), dtype=np.uint8)
    x = (a.astype(np.float32) / np.float32(255.0) - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))


for path in sys.argv[1:]:
    raw = open(path, 'rb').read()
    n = 200
    t = time.perf_counter()
    for _ in range(n):
        preprocess(raw)
    print(f'Pillow {path.rsplit("/", 1)[-1]}: {(time.perf_counter() - t) / n * 1e3:.2f} ms/op')
