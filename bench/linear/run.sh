#!/bin/sh
# Linear read-out benchmark: itscope (Go) beside scikit-learn on the same data,
# the same machine, in the same run. From the repository root:
#
#   bench/linear/run.sh small   # PCA(1000) + ridge CV (17 alphas, 5 folds), 3000 x 4096 -> 168 neurons
#   bench/linear/run.sh big     # the same on 2592 x 200,704 float32 streamed from disk (~2.3 GB in DIR)
#
# Data goes to DIR (second argument; default /tmp/itscope-bench-linear-WHICH)
# and is made once by make_data.py. Wall time and peak RSS come from
# /usr/bin/time -v. Prints both sides' JSON and a Markdown table row.
set -eu
which=${1:-small}
dir=${2:-/tmp/itscope-bench-linear-$which}
solver=randomized # what scikit-learn's 'auto' picks at both sizes
[ -f "$dir/folds.npy" ] || /usr/bin/python3 bench/linear/make_data.py "$which" "$dir"
go build -o "$dir/gobench" ./bench/linear/gobench

echo "date: $(date -u +%FT%TZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}"

/usr/bin/time -v "$dir/gobench" "$dir" >"$dir/go.json" 2>"$dir/go.time"
/usr/bin/time -v /usr/bin/python3 bench/linear/bench_sklearn.py "$dir" "$solver" >"$dir/sk.json" 2>"$dir/sk.time"
cat "$dir/go.json" "$dir/sk.json"

secs() { # wall-clock seconds from time -v
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"
}
mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
gt=$(secs "$dir/go.time"); st=$(secs "$dir/sk.time")
gm=$(mib "$dir/go.time"); sm=$(mib "$dir/sk.time")
echo "| $which | itscope ${gt} s, ${gm} MiB | scikit-learn ${st} s, ${sm} MiB | time ratio $(awk "BEGIN{printf \"%.2f\", $gt/$st}") | memory ratio $(awk "BEGIN{printf \"%.2f\", $gm/$sm}") |"
