#!/bin/sh
# The embedded int8 MobileNetV2 in Go against ONNX Runtime's int8 run and
# PyTorch's fp32 mobilenet_v2, on this machine, in one go. Prints ms/image.
# Needs: go, node with npm, /usr/bin/python3 with torch. ONNX Runtime comes
# from package-lock.json by `npm ci --ignore-scripts` (the package's own
# binaries; npm ci reads package.json and the lock file and writes neither).
# Usage: bench/onnx/run.sh [SECONDS per measurement, default 5]
# THREADS=1 runs itscope (GOMAXPROCS) and ONNX Runtime (intra-op threads) on
# one thread each: on a loaded machine ONNX Runtime's spinning pool collapses
# at 2; ITSCOPE_INT8_KERNEL=avx2|go forces a lower itscope kernel path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-5}
threads=${THREADS:-2}
model="$root/model/nets/weights/mobilenetv2-12-int8.onnx"
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
	sum=$(cat "$here/package.json" "$here/package-lock.json" | cksum)
	(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
	[ "$sum" = "$(cat "$here/package.json" "$here/package-lock.json" | cksum)" ] ||
		{ echo "run.sh: npm ci changed package.json or package-lock.json" >&2; exit 1; }
fi
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $threads thread(s)"
torch=yes
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	torch=
	echo "# PyTorch skipped: /usr/bin/python3 has no torch (Debian: apt-get install python3-torch)"
fi
for b in 1 8; do
	echo "## batch $b"
	(cd "$root" && go test ./compute/onnx/ -run '^$' -bench "BenchmarkMobilenetBatch$b\$" -benchtime "${secs}s" -count 1 -cpu "$threads") |
		awk -v b="$b" '/int8 kernels:/ && !seen++ { sub(/.*int8 kernels: /, "int8 kernels: "); print "# itscope " $0 }
			/^BenchmarkMobilenet/ { printf "{\"runtime\": \"itscope (Go, int8)\", \"batch\": %d, \"ms_per_image\": %.3f}\n", b, $3/1e6/b }'
	(cd "$here" && node ort_bench.mjs "$model" "$b" "$secs" "$threads")
	if [ -n "$torch" ]; then
		/usr/bin/python3 "$here/torch_bench.py" "$b" "$secs" 2>/dev/null
	fi
done
