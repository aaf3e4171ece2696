#!/bin/sh
# One training epoch of the 3-layer CNN (32-64-128, 3x3, batch 32, Adam) over
# 2592 images at 64x64 and 224x224: itscope, then PyTorch with 2 threads, in
# one go on the same machine. Each size runs in its own process so that the
# peak RSS is that size's. Usage: bench/train/run.sh [SIZES]   (default 64,224)
set -e
cd "$(dirname "$0")/../.."
sizes=${1:-64,224}
go build -o /tmp/itscope-train-bench ./bench/train
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $(echo "$sizes" | tr , ' '); do
	/tmp/itscope-train-bench -sizes "$s"
	/usr/bin/python3 bench/train/bench_torch.py --sizes "$s" --threads 2
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
