#!/bin/sh
# One training epoch of the 3-layer CNN (32-64-128, 3x3, batch 32, Adam) at
# 64x64 and 224x224: itscope (go run ./bench/train), then PyTorch with 2
# threads (bench_torch.py), in one go on the same machine. Each size runs in
# its own process so that the peak RSS is that size's.
#   bench/train/run.sh                 2592 images at both sizes (NX-414's train split)
#   IMAGES_224=320 bench/train/run.sh  fewer images at 224 on a slow or busy machine
set -e
cd "$(dirname "$0")/../.."
images64=${IMAGES_64:-2592}
images224=${IMAGES_224:-2592}
go build -o /tmp/itscope-train-bench ./bench/train
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for pair in 64:$images64 224:$images224; do
	size=${pair%%:*}
	n=${pair#*:}
	/tmp/itscope-train-bench -sizes "$size" -images "$n"
	/usr/bin/python3 bench/train/bench_torch.py --sizes "$size" --images "$n" --threads 2
	echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
