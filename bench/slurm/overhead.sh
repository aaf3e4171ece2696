#!/usr/bin/env bash
# Slurm's overhead per task: 16 small fit jobs (a ridge grid on pixels:8 of
# demo:210325) run by the local executor (2 at once, one process) and, back
# to back, by the Slurm executor on a single-node Slurm of this machine (2
# CPUs: 2 tasks at once, each its own `itscope job run` process), from
# submission until `itscope jobs` shows all 16 done. Prints one line per
# pair and the median overhead per task, (Slurm - local) / 16. Needs root
# and Debian's slurmctld slurmd slurm-client munge. From the repository root:
#
#   bench/slurm/overhead.sh [PAIRS]
set -euo pipefail
pairs=${1:-3}
work=$(mktemp -d)
export SLURM_CI_DIR="$work/slurm" SLURM_CONF="$work/slurm/slurm.conf"
export ITSCOPE_CACHE="$work/cache" XDG_CONFIG_HOME="$work/config"
trap 'scripts/slurm/stop.sh >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
go build -o "$work/itscope" .
bin=$work/itscope
scripts/slurm/start.sh > "$work/start.out" 2>&1 || { cat "$work/start.out" >&2; exit 1; }
cat > "$work/grid.json" <<'JSON'
{"kind": "fit", "features": ["pixels:8"], "pca": [0], "model": ["ridge"],
 "alphas": [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]}
JSON
# Warm the feature cache, so both sides read the same cached pixels.
"$bin" grid --runs "$work/warm" --data demo:210325 --grid "$work/grid.json" --jobs 2 > /dev/null
now() { date +%s.%N; }
for p in $(seq "$pairs"); do
	t0=$(now)
	"$bin" grid --runs "$work/local$p" --data demo:210325 --grid "$work/grid.json" --jobs 2 > /dev/null
	t1=$(now)
	"$bin" grid --executor slurm --runs "$work/slurm$p" --data demo:210325 --grid "$work/grid.json" > /dev/null
	until [ "$("$bin" jobs --json --runs "$work/slurm$p" | grep -c '"state": "done"')" -eq 16 ]; do sleep 0.2; done
	t2=$(now)
	echo "$t0 $t1 $t2" | awk '{ printf "pair: local %.2f s, slurm %.2f s, overhead %.3f s/task\n", $2-$1, $3-$2, (($3-$2)-($2-$1))/16 }'
done | tee "$work/pairs"
sort -t, -k3 "$work/pairs" | awk '{ print $(NF-1) }' | sort -n | awk '{ a[NR] = $1 } END { printf "median overhead per task: %.3f s\n", a[int((NR+1)/2)] }'
