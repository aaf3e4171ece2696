#!/bin/sh
# Decode + classifier preprocessing of one JPEG and one BMP: Go (data package benchmark)
# and Pillow/NumPy, back to back. Run from the repository root: sh bench/data/preprocess.sh
set -e
go test -run '^$' -bench BenchmarkDecodeClassifyPreprocess -benchtime 200x ./data
/usr/bin/python3 bench/data/pillow_preprocess.py testdata/data/coral/face.jpg testdata/data/coral/cat.bmp
