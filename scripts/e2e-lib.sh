# Sourced by the end-to-end scripts (e2e-tui.sh, e2e-slurm.sh) from the
# repository root. It makes $work, a temporary folder, and $sock, a tmux
# socket in it; on exit it kills that tmux server, runs the command in
# $e2e_on_exit (set it before sourcing; its failure is ignored) and removes
# $work. $bin is the itscope binary by its absolute path (Slurm tasks run
# the submitter's binary by it): $ITSCOPE_BIN, else one built from the
# repository into $work.
work=$(mktemp -d)
sock="$work/tmux.sock"
e2e_cleanup() {
	tmux -S "$sock" kill-server 2>/dev/null || true
	if [ -n "${e2e_on_exit:-}" ]; then "$e2e_on_exit" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap e2e_cleanup EXIT

bin=${ITSCOPE_BIN:-}
if [ -z "$bin" ]; then
	bin="$work/itscope"
	go build -o "$bin" .
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
