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

compare() { # how far itscope's PCA variances and per-neuron EVs are from scikit-learn's
	/usr/bin/python3 -c "
import numpy as np, sys
d, s = sys.argv[1], sys.argv[2]
a, b = np.load(d + '/go_explained_variance.npy'), np.load(d + '/sk_%s_explained_variance.npy' % s)
e, f = np.load(d + '/go_ev.npy'), np.load(d + '/sk_%s_ev.npy' % s)
print('vs %s PCA: max relative difference of explained_variance_ %.2e (first 100: %.2e); max |EV difference| %.2e' % (s, np.max(abs(a - b) / b), np.max(abs(a - b)[:100] / b[:100]), np.max(abs(e - f))))
" "$dir" "$1"
}
secs() { # wall-clock seconds from time -v
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"
}
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$1"; }
mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
compare "$solver"
gt=$(secs "$dir/go.time"); st=$(secs "$dir/sk.time")
gm=$(mib "$dir/go.time"); sm=$(mib "$dir/sk.time")
gc=$(cpu "$dir/go.time"); sc=$(cpu "$dir/sk.time")
echo "| $which | itscope ${gt} s (cpu ${gc} s), ${gm} MiB | scikit-learn ($solver PCA) ${st} s (cpu ${sc} s), ${sm} MiB | time ratio $(awk "BEGIN{printf \"%.2f\", $gt/$st}") | memory ratio $(awk "BEGIN{printf \"%.2f\", $gm/$sm}") |"

# itscope's PCA is exact; the randomized solver is not. At the small size an
# exact scikit-learn PCA is affordable too, for reference.
if [ "$which" = small ]; then
	/usr/bin/time -v /usr/bin/python3 bench/linear/bench_sklearn.py "$dir" full >"$dir/skfull.json" 2>"$dir/skfull.time"
	cat "$dir/skfull.json"
	compare full
	ft=$(secs "$dir/skfull.time"); fm=$(mib "$dir/skfull.time"); fc=$(cpu "$dir/skfull.time")
	echo "| $which | itscope ${gt} s (cpu ${gc} s), ${gm} MiB | scikit-learn (full PCA) ${ft} s (cpu ${fc} s), ${fm} MiB | time ratio $(awk "BEGIN{printf \"%.2f\", $gt/$ft}") | memory ratio $(awk "BEGIN{printf \"%.2f\", $gm/$fm}") |"
fi
