#!/bin/sh
# Network benchmarks: itscope (Go) beside PyTorch on the same machine, in the
# same run. From the repository root:
#
#   bench/nets/run.sh [DIR]
#
# 1. resnet50-random forward, batch 16 at 224x224: `go test -bench
#    ResNet50RandomForward` (ms/image) vs torch_peer.py forward (2 threads).
# 2. Whole-dataset extraction, every tap, 1200 demo images, into an empty
#    feature cache: `itscope sweep --extract-only --layers all` for
#    resnet50-random (7 taps, ~11 GB of .npy) and the embedded mobilenetv2
#    (20 taps), vs torch_peer.py extract (resnet50, same taps, streamed to .npy).
#    Wall time and peak RSS from /usr/bin/time -v.
# Scratch (caches, ~22 GB at peak) goes to DIR (default /tmp/itscope-bench-nets)
# and is removed as it goes.
set -eu
dir=${1:-/tmp/itscope-bench-nets}
mkdir -p "$dir"
go build -o "$dir/itscope" .
echo "date: $(date -u +%FT%TZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
trap 'echo "end: $(date -u +%FT%TZ)  load: $(cut -d" " -f1-3 /proc/loadavg)"' EXIT
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}"

secs() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"; }
mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$1"; }

echo "== resnet50-random forward, batch 16"
go test ./model/nets -run '^$' -bench 'ResNet50RandomForward' -benchtime 3x | grep -E 'Benchmark|ok'
/usr/bin/python3 bench/nets/torch_peer.py forward

echo "== whole-dataset extraction, every tap, demo (1200 images)"
for net in resnet50-random mobilenetv2; do
	rm -rf "$dir/cache"
	/usr/bin/time -v "$dir/itscope" sweep --data demo --net "$net" --layers all --extract-only --cache "$dir/cache" \
		>"$dir/$net.out" 2>"$dir/$net.time"
	echo "itscope $net: $(secs "$dir/$net.time") s wall, $(cpu "$dir/$net.time") s CPU, peak RSS $(mib "$dir/$net.time") MiB, cache $(du -sh "$dir/cache" | cut -f1)"
done
rm -rf "$dir/cache"
/usr/bin/time -v /usr/bin/python3 bench/nets/torch_peer.py extract "$dir/torch" 1200 >"$dir/torch.json" 2>"$dir/torch.time"
echo "pytorch resnet50: $(secs "$dir/torch.time") s wall (incl. start-up), $(cpu "$dir/torch.time") s CPU, peak RSS $(mib "$dir/torch.time") MiB: $(cat "$dir/torch.json")"
rm -rf "$dir/torch"
