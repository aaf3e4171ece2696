#!/bin/sh
# Load an NX-414-sized .h5 (about 1.9 GB of float32 stimuli) with itscope's data.Open and
# with h5py, one after the other, twice; prints wall time and peak memory of each.
# Run from the repository root: sh bench/data/run.sh   (needs about 4 GB of free disk and RAM)
set -e
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 bench/data/make_big_h5.py "$dir/IT_big.h5"
go build -o "$dir/loadh5" ./bench/data/loadh5
for i in 1 2; do
	/usr/bin/time -f "  itscope: wall %e s, peak RSS %M KB" "$dir/loadh5" "$dir/IT_big.h5"
	/usr/bin/time -f "  h5py:    wall %e s, peak RSS %M KB" /usr/bin/python3 bench/data/h5py_load.py "$dir/IT_big.h5"
done
