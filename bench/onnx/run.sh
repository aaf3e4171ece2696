#!/bin/sh
# The embedded int8 MobileNetV2 in Go against ONNX Runtime's int8 run and
# PyTorch's fp32 mobilenet_v2, on this machine, in one go. Prints ms/image.
# Needs: go, node (npm install --ignore-scripts here first), /usr/bin/python3 with torch.
# Usage: bench/onnx/run.sh [SECONDS per measurement, default 5]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-5}
model="$root/model/nets/weights/mobilenetv2-12-int8.onnx"
[ -d "$here/node_modules/onnxruntime-node" ] || (cd "$here" && npm install --ignore-scripts onnxruntime-node@1.20.1 >/dev/null)
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for b in 1 8; do
	echo "## batch $b"
	(cd "$root" && go test ./compute/onnx/ -run '^$' -bench "BenchmarkMobilenetBatch$b\$" -benchtime "${secs}s" -count 1) |
		awk -v b="$b" '/^BenchmarkMobilenet/ { printf "{\"runtime\": \"itscope (Go, int8)\", \"batch\": %d, \"ms_per_image\": %.3f}\n", b, $3/1e6/b }'
	(cd "$here" && node ort_bench.mjs "$model" "$b" "$secs")
	/usr/bin/python3 "$here/torch_bench.py" "$b" "$secs" 2>/dev/null
done
