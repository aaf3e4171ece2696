#!/usr/bin/env bash
# End-to-end check of the Slurm executor on a real single-node Slurm
# (scripts/slurm/start.sh: slurmctld, slurmd and munged, no systemd). It
# runs a 4-point read-out grid and a 2-point CNN grid with --executor slurm
# and checks that every job saved one run with the scores, bit for bit, of
# the same grids run by the local executor; cancels a queued task, kills a
# running training with kill -9, requeues a finished task, fails a sweep's
# extraction, lets a training reach its time limit, finds the cluster jobs
# in the explorer's Jobs pane and sends a grid from its Grid pane. The
# daemons it started are stopped by PID on exit, whatever happened.
#
# Usage: scripts/e2e-slurm.sh            (builds the binary from the repo)
#        ITSCOPE_BIN=path scripts/e2e-slurm.sh
# Needs root (munged, the daemons), Debian's slurmctld slurmd slurm-client
# munge, and tmux.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo "e2e-slurm: needs root (slurmd, slurmctld and munged run as root)" >&2; exit 1; }
for c in slurmctld slurmd sbatch munge tmux; do
	command -v $c >/dev/null || { echo "e2e-slurm: $c is not installed (make deps)" >&2; exit 1; }
done

e2e_on_exit="$repo/scripts/slurm/stop.sh"
. scripts/e2e-lib.sh
export SLURM_CI_DIR="$work/slurm" SLURM_CONF="$work/slurm/slurm.conf"
export ITSCOPE_CACHE="$work/cache" XDG_CONFIG_HOME="$work/config"

fail() {
	echo "e2e-slurm: FAIL: $*" >&2
	squeue -r -h -o '%i %T %r' >&2 2>/dev/null || true
	exit 1
}

scripts/slurm/start.sh > "$work/start.out" 2>&1 || { cat "$work/start.out" >&2; fail "the cluster did not start"; }

store="$work/cluster"
local="$work/local"
cat > "$work/readout.json" <<'JSON'
{"kind": "fit", "features": ["pixels:8"], "pca": [0], "model": ["ridge"], "alphas": [1, 10, 100, 1000]}
JSON
cat > "$work/cnn.json" <<'JSON'
{"cnn": "layers=1,channels=4,size=64", "lr": [0.001, 0.003], "epochs": [2], "batch": [64], "patience": 100, "seeds": [1]}
JSON
data=demo:210325

jobs_json() { "$bin" jobs --json --all --runs "$store"; }
# field JOB KEY: a key of one job in `itscope jobs --json`.
field() {
	jobs_json | tr -d '\n' | sed 's/},\s*{/}\n{/g' | grep "\"id\": \"$1\"" |
		grep -o "\"$2\": \"[^\"]*\"" | head -1 | sed 's/.*: "\(.*\)"/\1/'
}
# wait_state JOB STATE [SECONDS]
wait_state() {
	local end=$((SECONDS + ${3:-300}))
	until [ "$(field "$1" state)" = "$2" ]; do
		[ $SECONDS -lt $end ] || fail "job $1 is $(field "$1" state) ($(field "$1" reason)), want $2"
		sleep 0.5
	done
}
# submitted FILE: the job ids a --executor slurm submission printed.
submitted() { awk '$1 == "submitted" {print $2}' "$1"; }
# summary RUNDIR: a run's scores, the parts of run.json that do not hold times.
summary() { sed -n '/"summary": {/,/^  }/p' "$1/run.json"; }
# request RUNDIR: what made a run: its name and spec.
request() { grep -m1 '"name":' "$1/run.json"; sed -n '/^  "spec": {/,/^  }/p' "$1/run.json"; }
# twin RUNDIR: the local run made by the same request.
twin() {
	local want r
	want=$(request "$1")
	for r in "$local"/*/; do
		[ "$(request "$r")" = "$want" ] && { echo "${r%/}"; return; }
	done
}

# 1. The grids on the cluster, and the same grids run here by the local
# executor; every job saves one run, with the same scores bit for bit.
"$bin" grid --executor slurm --requeue --runs "$store" --data $data --grid "$work/readout.json" > "$work/g1.out" ||
	fail "grid --executor slurm: $(cat "$work/g1.out")"
"$bin" grid --executor slurm --runs "$store" --data $data --grid "$work/cnn.json" > "$work/g2.out" ||
	fail "grid --executor slurm: $(cat "$work/g2.out")"
"$bin" grid --runs "$local" --data $data --grid "$work/readout.json" --jobs 2 > "$work/l1.out" || fail "local grid: $(cat "$work/l1.out")"
"$bin" grid --runs "$local" --data $data --grid "$work/cnn.json" --jobs 2 > "$work/l2.out" || fail "local grid: $(cat "$work/l2.out")"
grid_jobs=$(submitted "$work/g1.out"; submitted "$work/g2.out")
[ "$(echo "$grid_jobs" | wc -l)" -eq 6 ] || fail "submitted $(echo "$grid_jobs" | wc -l) jobs, want 6"
for j in $grid_jobs; do wait_state "$j" done; done
for j in $grid_jobs; do
	run=$(field "$j" run_id)
	[ -n "$run" ] && [ -f "$store/$run/run.json" ] || fail "job $j names run '$run', which is not in the store"
	[ -n "$(field "$j" slurm_id)" ] && [ -f "$(field "$j" log)" ] || fail "job $j has no Slurm id or log"
	name="job $j ($(grep -m1 '"name":' "$store/$run/run.json" | cut -d'"' -f4))"
	twin=$(twin "$store/$run")
	[ -n "$twin" ] || fail "$name: no local run of the same spec"
	[ "$(summary "$store/$run")" = "$(summary "$twin")" ] || fail "$name: scores differ from the local run's"
	for f in neurons.csv predictions.npy; do
		[ ! -f "$twin/$f" ] || cmp -s "$store/$run/$f" "$twin/$f" || fail "$name: $f differs from the local run's"
	done
done
nruns=$(ls "$store" | grep -v '^\.' | wc -l)
[ "$nruns" -eq 6 ] || fail "the store holds $nruns runs for 6 jobs"
echo "e2e-slurm: 6 grid jobs ran on Slurm, one run each, scores equal to the local executor's bit for bit"

# 2. A finished task requeued by Slurm starts again and saves no second run.
requeued=$(echo "$grid_jobs" | head -1)
task=$(field "$requeued" slurm_id)
run=$(field "$requeued" run_id)
scontrol requeue "$task" || fail "scontrol requeue $task"
scontrol update JobId="$task" StartTime=now || true # requeued jobs otherwise wait two minutes
ran_again() { scontrol show job -o "$task" | grep 'JobState=COMPLETED' | grep -q 'Restarts=1'; }
for _ in $(seq 300); do ran_again && break; sleep 0.5; done
ran_again || fail "task $task did not run again: $(scontrol show job -o "$task")"
[ "$(field "$requeued" state)" = done ] && [ "$(field "$requeued" run_id)" = "$run" ] ||
	fail "requeued job $requeued: $(field "$requeued" state), run $(field "$requeued" run_id), want done, run $run"
[ "$(ls "$store" | grep -v '^\.' | wc -l)" -eq 6 ] || fail "the requeued task saved a second run"
echo "e2e-slurm: a requeued finished task saved no second run"

# 3. Two long trainings, one at a time: the queued one is cancelled, the
# running one killed with kill -9; neither leaves a run.
sed 's/"epochs": \[2\]/"epochs": [500]/' "$work/cnn.json" > "$work/long.json"
"$bin" grid --executor slurm --slurm-max-running 1 --runs "$store" --data $data --grid "$work/long.json" > "$work/g3.out" ||
	fail "grid: $(cat "$work/g3.out")"
set -- $(submitted "$work/g3.out")
running=$1 queued=$2
wait_state "$running" running 120
[ "$(field "$queued" state)" = queued ] || fail "job $queued is $(field "$queued" state), want queued"

# 4. The explorer on the same store shows the cluster's jobs.
tmux -S "$sock" new-session -d -s tui -x 120 -y 30 \
	"env -u CI TERM=xterm-256color '$bin' tui --runs '$store'; sleep 600"
screen() { tmux -S "$sock" capture-pane -p -t tui; }
for _ in $(seq 150); do screen | grep -q "1 Data" && break; sleep 0.2; done
tmux -S "$sock" send-keys -t tui 4
for _ in $(seq 150); do screen | grep -q "1 running, 1 queued" && break; sleep 0.2; done
screen | grep -q "1 running, 1 queued" || { screen >&2; fail "the Jobs pane does not show the cluster's running and queued jobs"; }
echo "e2e-slurm: the explorer's Jobs pane shows the cluster's jobs"

"$bin" cancel --runs "$store" "$queued" > "$work/cancel.out" || fail "cancel: $(cat "$work/cancel.out")"
wait_state "$queued" cancelled 30
squeue -h -r -o %i | grep -qx "$(field "$queued" slurm_id)" && fail "the cancelled task is still in Slurm's queue"
pid=$(pgrep -f -- "job run --runs $store $running" || true)
[ -n "$pid" ] || fail "no process runs job $running"
kill -9 $pid
wait_state "$running" failed 60
echo "e2e-slurm: killed task's job failed: $(field "$running" reason)"
[ -z "$(field "$running" run_id)" ] || fail "the killed job names a run"
[ "$(ls "$store" | grep -v '^\.' | wc -l)" -eq 6 ] || fail "the killed or cancelled job left a run: $(ls "$store")"
"$bin" runs --runs "$store" > "$work/runs.out" 2>&1 || fail "itscope runs after the kill: $(cat "$work/runs.out")"

# 5. A sweep whose extraction fails (its dataset is gone): the fits that
# wait for it end failed, nothing stays queued.
"$bin" sweep --executor slurm --runs "$store" --data "$work/gone" --net mobilenetv2 --layers features.2,features.4,features.6 \
	--pca 10 > "$work/sweep.out" || fail "sweep: $(cat "$work/sweep.out")"
set -- $(submitted "$work/sweep.out")
for j in "$@"; do wait_state "$j" failed 120; done
for j in "${@:2}"; do
	[ "$(field "$j" reason)" = "extraction failed" ] || fail "sweep fit $j failed with '$(field "$j" reason)', want 'extraction failed'"
done
[ "$(jobs_json | grep -c '"state": "\(queued\|running\)"')" -eq 0 ] || fail "jobs still queued or running: $(jobs_json)"
echo "e2e-slurm: a failed extraction failed its sweep's fits"

# 6. A training that reaches its time limit (--slurm-time 1 minute: Slurm's
# TERM, 60 s before, comes at once) stops at its next batch, saves its best
# epoch so far as a cancelled run and says why.
"$bin" train --executor slurm --slurm-time 1 --runs "$store" --data $data --cnn layers=1,channels=4,size=64 \
	--epochs 500 --patience 1000 > "$work/train.out" || fail "train: $(cat "$work/train.out")"
set -- $(submitted "$work/train.out")
wait_state "$1" cancelled 120
case "$(field "$1" reason)" in "time limit"*) ;; *) fail "timed-out job's reason: $(field "$1" reason)" ;; esac
run=$(field "$1" run_id)
[ -n "$run" ] && grep -q '"status": "cancelled"' "$store/$run/run.json" || fail "the timed-out training saved no cancelled run"
echo "e2e-slurm: a training at its time limit saved its best epoch: $(field "$1" reason)"

# 7. The explorer's Grid pane sends a grid to Slurm (c: the Slurm
# executor, offered since sbatch is on PATH; s: start).
tmux -S "$sock" new-session -d -s grid -x 120 -y 30 \
	"env -u CI TERM=xterm-256color '$bin' tui --runs '$work/from-tui'; sleep 600"
gscreen() { tmux -S "$sock" capture-pane -p -t grid; }
gwait() {
	for _ in $(seq 300); do gscreen | grep -qF -- "$1" && return; sleep 0.2; done
	gscreen >&2
	fail "the explorer does not show \"$1\""
}
gwait "demo:210325"
tmux -S "$sock" send-keys -t grid Down Enter
gwait "opened demo:210325"
tmux -S "$sock" send-keys -t grid 3
gwait "c: Slurm"
tmux -S "$sock" send-keys -t grid c
gwait "slurm: job arrays"
# Ridge CV over its own alpha grid: the read-out that needs no alphas typed.
until gscreen | grep -q "read-out ridgecv"; do tmux -S "$sock" send-keys -t grid m; sleep 0.3; done
gwait "s: start"
n=$(gscreen | grep -o 's: start [0-9]* job' | grep -o '[0-9][0-9]*')
tmux -S "$sock" send-keys -t grid s
gwait "to Slurm (arrays"
end=$((SECONDS + 300))
until [ "$("$bin" jobs --json --runs "$work/from-tui" | grep -c '"state": "done"')" -eq "$n" ]; do
	[ $SECONDS -lt $end ] || fail "the explorer's Slurm grid: $("$bin" jobs --runs "$work/from-tui")"
	sleep 0.5
done
[ "$("$bin" jobs --json --runs "$work/from-tui" | grep -c '"slurm_id"')" -eq "$n" ] || fail "the explorer's grid did not run on Slurm"
echo "e2e-slurm: the explorer's Grid pane ran a grid of $n on Slurm"

echo "e2e-slurm: ok (grids bit for bit, requeue, cancel, kill -9, failed extraction, Jobs pane, time limit, Grid pane)"
