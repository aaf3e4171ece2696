#!/bin/sh
# Back-to-back pairs of itscope and its PyTorch peer, the way the speed targets
# in BENCHMARKS.md were measured: on a shared VM only pairs run seconds apart
# are comparable. From the repository root:
#
#   bench/pairs.sh forward [N]    resnet50-random forward, batch 16 (ms/image)
#   bench/pairs.sh train64 [N]    one epoch of the 3-layer CNN, 2592 images at 64x64 (s)
#   bench/pairs.sh train224 [N]   the same over 320 images at 224x224 (s)
#
# Prints one line per pair and the median and mean ratio itscope/PyTorch;
# the training pairs also give each side's peak RSS (MB) and their ratio.
# Needs /usr/bin/python3 with Debian's python3-torch and python3-torchvision.
set -eu
what=${1:?forward, train64 or train224}
pairs=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case $what in
forward)
	go test -c -o "$tmp/model.test" ./model/nets
	ours() { "$tmp/model.test" -test.run '^$' -test.bench ResNet50RandomForward -test.benchtime 3x | awk '/^Benchmark/ { print $7 }'; }
	theirs() { /usr/bin/python3 bench/nets/torch_peer.py forward | sed 's/.*"ms_per_image_mean": \([0-9.]*\).*/\1/'; }
	header="pair itscope pytorch ratio"
	;;
train64 | train224)
	size=${what#train}
	images=2592
	[ "$size" = 224 ] && images=320
	go build -o "$tmp/train-bench" ./bench/train
	# epoch seconds and peak RSS (MB), from each side's JSON line
	ours() {
		"$tmp/train-bench" -sizes "$size" -images "$images" |
			sed 's/.*"epoch_s":\([0-9.]*\).*"peak_rss_mb":\([0-9]*\).*/\1 \2/'
	}
	theirs() {
		/usr/bin/python3 bench/train/bench_torch.py --sizes "$size" --images "$images" --threads 2 |
			sed 's/.*"epoch_s": \([0-9.]*\).*"peak_rss_mb": \([0-9]*\).*/\1 \2/'
	}
	header="pair itscope pytorch ratio itscope_rss_mb pytorch_rss_mb rss_ratio"
	;;
*)
	echo "bench/pairs.sh: want forward, train64 or train224, found $what" >&2
	exit 2
	;;
esac

echo "# $what, $pairs pairs, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"
echo "$header"
for i in $(seq "$pairs"); do
	a=$(ours)
	b=$(theirs)
	# time: itscope pytorch ratio; training adds rss: itscope pytorch ratio
	echo "$a $b" | awk -v i="$i" '{
		if (NF == 4) printf "%s %s %s %.2f %s %s %.2f\n", i, $1, $3, $1 / $3, $2, $4, $2 / $4
		else printf "%s %s %s %.2f\n", i, $1, $2, $1 / $2 }'
done | tee "$tmp/pairs"
sort -k4 -n "$tmp/pairs" | awk '{ r[NR] = $4; s += $4 } END {
	m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
	printf "median ratio %.2f, mean %.2f over %d pairs\n", m, s / NR, NR }'
if [ "$(awk 'NR == 1 { print NF }' "$tmp/pairs")" = 7 ]; then
	sort -k7 -n "$tmp/pairs" | awk '{ r[NR] = $7 } END {
		m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
		printf "median peak RSS ratio %.2f over %d pairs\n", m, NR }'
fi
