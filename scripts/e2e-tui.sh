#!/usr/bin/env bash
# End-to-end check of the terminal explorer, as a person would use it: the
# real binary runs in tmux (Debian's tmux), keys are typed with send-keys and
# the screen is read with capture-pane. It opens the small demo session,
# picks a MobileNetV2 layer, fits a grid of two ridge alphas on it, opens a run's EV
# histogram, exports it, compares the two runs, checks the resize message,
# the help, two trainings' lr in Compare at 80x24 and a saved figure, and
# NO_COLOR, and quits. Key bursts (ten j typed in one write) move
# ten rows, and with --mouse a click on a tab (an SGR mouse report written
# into the pane) switches panes. Then the job queue: a CLI grid submitted
# with --detach and run by `itscope job run-queued` in another window shows
# in an explorer started after it, with its live loss curve; SIGKILL of the
# runner shows its jobs failed ("process gone") within 35 s, and the store
# stays readable with no half-written run. Exits non-zero with the screen on
# failure.
#
# Usage: scripts/e2e-tui.sh            (builds bin/itscope-e2e from the repo)
#        ITSCOPE_BIN=path scripts/e2e-tui.sh   (tests a binary already built)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tmux >/dev/null || { echo "e2e-tui: tmux is not installed (apt-get install tmux)" >&2; exit 1; }

. scripts/e2e-lib.sh

# start NAME ENV...: the explorer in a 100x30 tmux window, with the flags in
# $flags, on the run store $store. CI is unset for it: termenv takes a set CI
# to mean "no terminal" and would draw without colour.
flags=
store="$work/runs"
start() {
	local name=$1
	shift
	tmux -S "$sock" new-session -d -s "$name" -x 100 -y 30 \
		"cd '$work' && env -u CI ITSCOPE_CACHE='$work/cache' XDG_CONFIG_HOME='$work/config' $* '$bin' tui $flags --runs '$store' --export-dir '$work'; echo \"exit \$?\" > '$work/$name.exit'; sleep 600"
}
screen() { tmux -S "$sock" capture-pane -p -t "$1"; }
send() {
	local name=$1
	shift
	tmux -S "$sock" send-keys -t "$name" "$@"
	sleep 0.2
}
fail() {
	echo "e2e-tui: FAIL: $1; the screen shows:" >&2
	screen "$2" >&2 || true
	exit 1
}
# wait_for NAME TEXT [SECONDS]: until TEXT is on the screen.
wait_for() {
	local name=$1 text=$2 timeout=${3:-30}
	local end=$((SECONDS + timeout))
	while [ $SECONDS -lt $end ]; do
		if screen "$name" | grep -qF -- "$text"; then
			return 0
		fi
		sleep 0.1
	done
	fail "waited ${timeout}s for \"$text\"" "$name"
}

s=main
start $s COLORTERM=truecolor TERM=xterm-256color
wait_for $s "1 Data"
wait_for $s "demo:210325"

# Data: open the small demo session and browse to the second image.
send $s Down Enter
wait_for $s "opened demo:210325: 640 images, 50 neurons" 60
wait_for $s "image 1 of 640"
send $s Right
wait_for $s "image 2 of 640"
# The stimulus is drawn in true colour with half blocks.
tmux -S "$sock" capture-pane -e -p -t $s | grep -q $'38;2;[0-9]*;[0-9]*;[0-9]*' ||
	fail "no true-colour cells in the image" $s

# Model: a layer of the pretrained MobileNetV2 from its own tap list, then
# Grid: PCA 20, ridge alphas 1 and 100.
send $s 2 Down Enter Enter
wait_for $s "(24×56×56)" 60
send $s Down Down
wait_for $s "mobilenetv2:features.2"
# A burst: ten j written at once reach the explorer in one read, as fast
# typing over SSH does; they move ten rows, and ten k move back.
send $s -l jjjjjjjjjj
wait_for $s "send mobilenetv2:features.12 to Grid" 5
send $s -l kkkkkkkkkk
wait_for $s "send mobilenetv2:features.2 to Grid" 5
send $s Enter
wait_for $s "read-out fits on mobilenetv2:features.2"
send $s Enter C-u 2 0 Enter Down Enter C-u
send $s "1, 100" Enter
wait_for $s "2 job(s)"
send $s s
wait_for $s "started 2 job(s)"
wait_for $s "0 running, 0 queued, 2 done" 300

# Results: the newest run's EV histogram, exported as CSV.
send $s 6 Enter
wait_for $s "explained variance of 50 neurons" 30
send $s e
wait_for $s "wrote "
csv=$(ls "$work"/*-neurons.csv 2>/dev/null | head -1)
[ -n "$csv" ] || fail "no neuron table was exported" $s
[ "$(wc -l < "$csv")" -eq 51 ] || fail "the exported table has $(wc -l < "$csv") lines, want 51" $s

# Compare: mark both runs and put them side by side.
send $s 7
wait_for $s "Compare — 2 runs, 0 marked"
send $s Space Space
wait_for $s "2 marked"
send $s Enter
wait_for $s "2 runs on the same EV axis"

# Resize below 80x24, then back.
tmux -S "$sock" resize-window -t $s -x 70 -y 20
wait_for $s "this one is 70x20"
tmux -S "$sock" resize-window -t $s -x 100 -y 30
wait_for $s "2 runs on the same EV axis"

# Help, then quit.
send $s Escape
send $s "?"
wait_for $s "go to pane"
send $s q
for _ in $(seq 100); do [ -f "$work/$s.exit" ] && break; sleep 0.1; done
[ "$(cat "$work/$s.exit" 2>/dev/null)" = "exit 0" ] || fail "the explorer did not exit cleanly: $(cat "$work/$s.exit" 2>/dev/null)" $s
runs=$(ls "$work"/runs/*/run.json 2>/dev/null | wc -l)
[ "$runs" -eq 2 ] || fail "the store holds $runs runs, want 2" $s

# Hyperparameters at 80x24: two tiny CNNs trained from the command line at
# lr 0.001 and 0.0003 read apart in Compare's settings column; C opens the
# column chooser with lr ticked, and closing it makes lr a column of its own;
# f saves the marked runs' figure and says its full path.
for lr in 0.001 0.0003; do
	"$bin" train --data demo:210325 --cnn layers=1,channels=4,size=64 --epochs 1 --lr $lr --runs "$work/lr-runs" >/dev/null ||
		{ echo "e2e-tui: FAIL: itscope train --lr $lr" >&2; exit 1; }
done
h=hparams
tmux -S "$sock" new-session -d -s $h -x 80 -y 24 \
	"cd '$work' && env -u CI ITSCOPE_CACHE='$work/cache' XDG_CONFIG_HOME='$work/config' '$bin' tui --runs '$work/lr-runs' --export-dir '$work/figs'; sleep 600"
wait_for $h "1 Data"
send $h 7
wait_for $h "Compare — 2 runs"
wait_for $h "lr=0.001"
wait_for $h "lr=0.0003"
send $h C
wait_for $h "choose columns, 1 shown"
wait_for $h "[x] lr         2 values: "
send $h C
wait_for $h "1 columns (C)"
for lr in 0.001 0.0003; do
	screen $h | grep -Eq " $lr +[^[:alnum:][:space:]]+ *\$" || fail "Compare's lr column does not show $lr at 80x24" $h
done
send $h Space Space f
wait_for $h "wrote $work/figs/"
ls "$work"/figs/*-compare.png >/dev/null 2>&1 || fail "f wrote no compare figure" $h
send $h q

# Mouse (--mouse): a click on a tab switches panes. tmux has no command to
# send a click, so the SGR report of a left press and release at the tab's
# cell (1-based) is written into the pane as the terminal would send it.
m=mouse
flags=--mouse
start $m COLORTERM=truecolor TERM=xterm-256color
flags=
wait_for $m "1 Data"
bar=$(screen $m | head -1)
before=${bar%%4 Jobs*}
x=$((${#before} + 2))
send $m -l $'\e[<0;'"$x"$';1M\e[<0;'"$x"$';1m'
wait_for $m "▶ Jobs" 5
bar=$(screen $m | head -1)
before=${bar%%2 Model*}
x=$((${#before} + 2))
send $m -l $'\e[<0;'"$x"$';1M\e[<0;'"$x"$';1m'
wait_for $m "next → " 5
send $m q

# NO_COLOR: the same screens without a single colour escape.
n=nocolor
start $n NO_COLOR=1 COLORTERM=truecolor TERM=xterm-256color
wait_for $n "demo:210325"
send $n Down Enter
wait_for $n "image 1 of 640" 60
if tmux -S "$sock" capture-pane -e -p -t $n | grep -q $'\e\[[0-9;]*3[0-9;]*m'; then
	fail "colour escapes on screen with NO_COLOR set" $n
fi
send $n 7
wait_for $n "[7 Compare]"
send $n q

# The job queue. A grid of two long trainings, submitted from the command
# line and run by `itscope job run-queued` in a window of its own.
store="$work/queued-runs"
cat > "$work/grid.json" <<'JSON'
{"cnn": "layers=1,channels=4,size=64", "lr": [0.001, 0.003], "epochs": [500], "batch": [64], "patience": 1000, "seeds": [1]}
JSON
"$bin" grid --detach --runs "$store" --data demo:210325 --grid "$work/grid.json" > "$work/detach.out" ||
	{ echo "e2e-tui: FAIL: grid --detach: $(cat "$work/detach.out")" >&2; exit 1; }
tmux -S "$sock" new-session -d -s runner -x 100 -y 30 \
	"cd '$work' && echo \$\$ > '$work/runner.pid' && exec env ITSCOPE_CACHE='$work/cache' '$bin' job run-queued --jobs 2 --runs '$store'"
# jobs_json: the queue as `itscope jobs --json` sees it from yet another process.
jobs_json() { "$bin" jobs --json --runs "$store"; }
for _ in $(seq 300); do
	[ "$(jobs_json | grep -c '"state": "running"')" -eq 2 ] && break
	sleep 0.2
done
[ "$(jobs_json | grep -c '"state": "running"')" -eq 2 ] || fail "itscope jobs does not show the 2 grid points running: $(jobs_json)" runner

# An explorer started after the grid shows its jobs and a live loss curve.
q=queued
start $q COLORTERM=truecolor TERM=xterm-256color
wait_for $q "1 Data"
send $q 4
wait_for $q "2 running, 0 queued" 30
send $q 5
wait_for $q "train lr=0.00" 30
wait_for $q "state    running"
livesteps() { screen $q | grep -o 'training loss per step ([0-9]* steps)' | grep -o '[0-9][0-9]*' || echo 0; }
for _ in $(seq 600); do [ "$(livesteps)" -gt 0 ] && break; sleep 0.2; done
steps1=$(livesteps)
sleep 3
steps2=$(livesteps)
[ "${steps2:-0}" -gt "${steps1:-0}" ] || fail "the live loss curve does not grow ($steps1 then $steps2 steps)" $q

# Compare lists both trainings while they run, each with its lr; marked,
# their curves are overlaid and grow.
send $q 7
wait_for $q "Compare — 2 runs, 0 marked" 10
wait_for $q "lr=0.001"
wait_for $q "lr=0.003"
[ "$(screen $q | grep -c '(live)')" -eq 2 ] || fail "Compare does not list both trainings as live" $q
send $q Space Space Enter
wait_for $q "curves of 2 runs"
livepoints() { screen $q | grep -o 'live: [0-9]* points' | grep -o '[0-9][0-9]*' | head -1 || echo 0; }
points1=$(livepoints)
sleep 3
points2=$(livepoints)
[ "${points2:-0}" -gt "${points1:-0}" ] || fail "the live curves in Compare do not grow ($points1 then $points2 points)" $q
send $q Escape

# SIGKILL of the process running the jobs: within 35 s both show failed
# ("process gone"), in itscope jobs and in the explorer; the store stays
# readable and holds no run, whole or half-written.
kill -9 "$(cat "$work/runner.pid")"
killed=$SECONDS
until [ "$(jobs_json | grep -c '"reason": "process gone"')" -eq 2 ]; do
	[ $((SECONDS - killed)) -le 35 ] || fail "35 s after kill -9 itscope jobs shows: $(jobs_json)" $q
	sleep 0.5
done
echo "e2e-tui: jobs of the killed runner failed (process gone) after $((SECONDS - killed)) s"
send $q 4
wait_for $q "process gone" 10
[ "$(screen $q | grep -c ' failed ')" -eq 2 ] || fail "the explorer does not show both jobs failed" $q
"$bin" runs --runs "$store" > "$work/runs.out" 2>&1 || fail "itscope runs after the kill: $(cat "$work/runs.out")" $q
[ -z "$(ls "$store" | grep -v '^\.')" ] || fail "the store holds runs after the kill: $(ls "$store")" $q
send $q q

echo "e2e-tui: ok (open, key bursts, grid of 2 fits, histogram, export, compare, resize, help, lr at 80x24 and as a chosen column, figure, mouse, NO_COLOR, quit; a queued CLI grid live in the explorer and in Compare's overlay, SIGKILL of its runner)"
