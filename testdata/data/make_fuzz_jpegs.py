"""Writes the tiny JPEGs that seed data's JPEG fuzz targets (fuzz_jpeg/).

Small files let the fuzzer mutate every marker and scan quickly; between them
they cover what jpeg.go decodes: baseline 4:2:0, 4:2:2 and 4:4:4, grey,
progressive and odd sizes (Pillow 9.4 cannot write restart markers;
the fuzzer inserts DRI/RSTn itself). Run with /usr/bin/python3.
"""
import os
import random

from PIL import Image

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_jpeg")
os.makedirs(out, exist_ok=True)
rng = random.Random(414)


def noise(w, h, mode="RGB"):
    img = Image.new(mode, (w, h))
    n = 3 if mode == "RGB" else 1
    img.putdata([tuple(rng.randrange(256) for _ in range(n)) if n == 3 else rng.randrange(256)
                 for _ in range(w * h)])
    return img


noise(16, 16).save(os.path.join(out, "b420_16x16.jpg"), quality=75, subsampling=2)
noise(17, 9).save(os.path.join(out, "b422_17x9.jpg"), quality=75, subsampling=1)
noise(8, 8).save(os.path.join(out, "b444_8x8.jpg"), quality=90, subsampling=0)
noise(9, 7, "L").save(os.path.join(out, "gray_9x7.jpg"), quality=75)
noise(16, 16).save(os.path.join(out, "prog420_16x16.jpg"), quality=75, subsampling=2, progressive=True)
noise(24, 8).save(os.path.join(out, "b444_24x8.jpg"), quality=50, subsampling=0)
