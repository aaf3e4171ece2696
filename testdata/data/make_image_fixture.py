#!/usr/bin/python3
"""Pillow references for itscope's image decoding and resizing tests.

Run from the repository root: /usr/bin/python3 testdata/data/make_image_fixture.py
(Debian python3-pil 9.4.0 with libjpeg-turbo 2.1, NumPy 1.24). Writes into testdata/data/images/:

  src_photo.png       160x120 crop of coral/cat.bmp at (200, 100), lossless
  src_noise.png       37x23 uniform random RGB (seed 5): the hardest case for rounding
  <src>_<W>x<H>.npy   uint8 (H, W, 3): Image.open(src).convert('RGB').resize((W, H), Image.BILINEAR)
  float_<W>x<H>.npy   float32 (H, W): channel 0 of src_noise as x = (u/255 - 0.485)/0.229 in
                      float32, Image.fromarray(x, mode='F').resize((W, H), Image.BILINEAR)
  jpeg_<kind>.jpg     157x117 crop of src_photo (odd sizes test the edges) saved by Pillow,
                      quality 90: 420, 422, 444 chroma subsampling, gray, progressive (420)
  jpeg_<kind>.npy     uint8 (117, 157, 3): Pillow's decoding of it, .convert('RGB')
  demo_image0001.npy, demo_image0500.npy   uint8 (112, 112, 3): Pillow's decoding
                      (libjpeg-turbo) of those JPEGs in data/demo/images_201025.zip
"""
import io
import os
import zipfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'images')

SIZES = {
    'src_photo': [(64, 48), (50, 75), (224, 224), (160, 37), (13, 120)],
    'src_noise': [(100, 61), (37, 10), (8, 8), (5, 40)],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    Image.open(os.path.join(HERE, 'coral', 'cat.bmp')).convert('RGB').crop((200, 100, 360, 220)).save(
        os.path.join(OUT, 'src_photo.png'))
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)).save(os.path.join(OUT, 'src_noise.png'))
    for src, sizes in SIZES.items():
        img = Image.open(os.path.join(OUT, src + '.png')).convert('RGB')
        for w, h in sizes:
            a = np.asarray(img.resize((w, h), Image.BILINEAR), dtype=np.uint8)
            assert a.shape == (h, w, 3)
            np.save(os.path.join(OUT, f'{src}_{w}x{h}.npy'), a)
    u = np.asarray(Image.open(os.path.join(OUT, 'src_noise.png')).convert('RGB'))[:, :, 0]
    x = (u.astype(np.float32) / np.float32(255.0) - np.float32(0.485)) / np.float32(0.229)
    for w, h in [(16, 10), (50, 30)]:
        a = np.asarray(Image.fromarray(x, mode='F').resize((w, h), Image.BILINEAR), dtype=np.float32)
        np.save(os.path.join(OUT, f'float_{w}x{h}.npy'), a)
    crop = Image.open(os.path.join(OUT, 'src_photo.png')).convert('RGB').crop((1, 2, 158, 119))
    for kind, img, kw in [('420', crop, dict(subsampling=2)), ('422', crop, dict(subsampling=1)),
                          ('444', crop, dict(subsampling=0)), ('gray', crop.convert('L'), {}),
                          ('progressive', crop, dict(subsampling=2, progressive=True))]:
        path = os.path.join(OUT, f'jpeg_{kind}.jpg')
        img.save(path, quality=90, **kw)
        np.save(os.path.join(OUT, f'jpeg_{kind}.npy'), np.asarray(Image.open(path).convert('RGB'), dtype=np.uint8))
    z = zipfile.ZipFile(os.path.join(HERE, '..', '..', 'data', 'demo', 'images_201025.zip'))
    for n in ['image0001', 'image0500']:
        a = np.asarray(Image.open(io.BytesIO(z.read(n + '.jpg'))).convert('RGB'), dtype=np.uint8)
        np.save(os.path.join(OUT, f'demo_{n}.npy'), a)


if __name__ == '__main__':
    main()
