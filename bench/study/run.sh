#!/bin/sh
# The study end to end, itscope against the Python pipeline a user would write, back to back on
# the same data and the same network. From the repository root:
#
#   bench/study/run.sh          # full: 2592 train + 288 val images of 3x224x224, 168 neurons, PCA 1000
#   bench/study/run.sh quick    # 256 train + 64 val images, PCA 100 (a few minutes)
#   bench/study/run.sh tiny     # 40 + 20 images, PCA 10: checks the script (a minute or two)
#
# Every ResNet50 tap (conv1, layer1..layer4, avgpool, fc) -> PCA -> ridge CV over the same 37
# alphas (1e-3 .. 1e15, half a decade apart: the taps' scales differ by orders of magnitude) and
# the same 5 folds (consecutive blocks of the train rows: scikit-learn's RidgeCV(cv=5), itscope's
# --folds-in-order), scored on val as itscope scores (mean explained variance, mean Pearson r). One torchvision resnet50(weights=None), seeded, is
# saved for PyTorch and exported once to ONNX for itscope (scripts/export_torchvision.py). The
# responses are a random mix of the network's avgpool features plus as much noise (study_torch.py
# responses), so that the taps' EVs range from about 0 to about 0.5 and their agreement means
# something.
#
# Sides, one after the other, each under /usr/bin/time -v (wall time, peak RSS):
#   1. itscope sweep on every tap (its own empty cache, no cap)
#   2. Python (study_torch.py run): forward hooks that clone, PCA(svd_solver="randomized"), RidgeCV
# Python holds every tap's features in memory; study_torch.py plan adds taps narrowest first while
# its estimate fits in STUDY_PY_BUDGET_GB (default: half the machine's memory, as itscope's
# --max-job-memory), and runs only those. itscope's time on those taps is its whole extraction pass
# (which also writes the taps Python skips: an upper bound) plus their fits. Large files go to a
# folder under /tmp (STUDY_TMP to choose another), removed on exit unless STUDY_KEEP=1; the full
# size needs about 30 GB of disk there (itscope caches every tap of every image).
# STUDY_PY_SOLVER=full gives Python an exact PCA, as itscope's, instead of the randomized one: the
# per-layer differences then fall below 1e-3 (a check of where they come from; slow at full size).
set -eu
size=${1:-full}
case $size in
quick) ntrain=256 nval=64 pca=100 ;;
tiny) ntrain=40 nval=20 pca=10 ;; # a check of the script itself
full) ntrain=2592 nval=288 pca=1000 ;;
*)
	echo "usage: bench/study/run.sh [tiny|quick|full]" >&2
	exit 2
	;;
esac
budget=${STUDY_PY_BUDGET_GB:-$(awk '/MemTotal/ { printf "%.1f", $2 * 1024 / 2 / 1e9 }' /proc/meminfo)}
py=/usr/bin/python3
here=bench/study
tmp=$(mktemp -d "${STUDY_TMP:-/tmp}/itscope-study-XXXXXX")
[ "${STUDY_KEEP:-}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

echo "bench/study/run.sh $size: $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "CPU flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16)$' | tr '\n' ' ')"
echo "temp folder $tmp; $(df -h "$tmp" | awk 'NR == 2 { print $4 }') free"

go build -o "$tmp/itscope" .
h5=$tmp/IT_study.h5
$py bench/data/make_big_h5.py "$h5" "$ntrain" "$nval" # no test split: neither side would use it
$py $here/study_torch.py export "$tmp" 0 2>/dev/null
$py $here/study_torch.py responses "$h5" "$tmp"
alphas=$($py -c "import numpy as np; print(','.join(repr(float(a)) for a in np.logspace(-3, 15, 37)))")
pylayers=$($py $here/study_torch.py plan "$h5" "$tmp" "$budget" "$pca")
alllayers=conv1,layer1,layer2,layer3,layer4,avgpool,fc
echo "dataset: $ntrain train + $nval val images of 3x224x224, 168 neurons; PCA $pca; ridge CV over 37 alphas 1e-3..1e15, 5 folds in order"

side() { # NAME COMMAND...: runs one side under time -v with the load before and after
	name=$1
	shift
	echo "--- $name: load before $(cut -d' ' -f1-3 /proc/loadavg)"
	/usr/bin/time -v -o "$tmp/$name.time" "$@" >"$tmp/$name.json" 2>"$tmp/$name.log" || {
		echo "$name failed:" >&2
		tail -20 "$tmp/$name.log" >&2
		exit 1
	}
	echo "--- $name: load after  $(cut -d' ' -f1-3 /proc/loadavg)"
	grep -i 'warning\|chose alpha' "$tmp/$name.log" || true
}
side itscope "$tmp/itscope" sweep --data "$h5" --net resnet50 --weights "$tmp/resnet50.onnx" --layers "$alllayers" \
	--pca "$pca" --model ridgecv --alphas "$alphas" --folds 5 --folds-in-order \
	--cache "$tmp/cache" --cache-max 0 --runs "$tmp/runs" --json
rm -rf "$tmp/cache" # the disk, before Python's side
side python $py $here/study_torch.py run "$h5" "$tmp" "$pca" "$alphas" $(echo "$pylayers" | tr , ' ')
grep '^python:' "$tmp/python.log" || true
$py $here/report.py "$tmp" "$pylayers"
