//go:build cgo

package compute

import (
	"os"
	"strconv"
	"testing"
)

// TestIdleThreadTimeout checks that OpenBLAS's idle threads were restarted
// with the short timeout (or the user's own OPENBLAS_THREAD_TIMEOUT).
func TestIdleThreadTimeout(t *testing.T) {
	UseOpenBLAS()
	got := BLASIdleTimeout()
	if got == -1 {
		t.Skip("this OpenBLAS build has no thread server (OpenMP build)")
	}
	want := 6
	if v, err := strconv.Atoi(os.Getenv("OPENBLAS_THREAD_TIMEOUT")); err == nil {
		want = min(max(v, 4), 30)
	}
	if got != want {
		t.Errorf("OpenBLAS idle-thread timeout 2^%d cycles, want 2^%d", got, want)
	}
}

// TestUseOpenBLAS checks what UseOpenBLAS (called by TestMain) reports and
// that SingleThreadBLAS then pins OpenBLAS to one thread until restored.
func TestUseOpenBLAS(t *testing.T) {
	if got := UseOpenBLAS(); got != "OpenBLAS" {
		t.Errorf("UseOpenBLAS() = %q, want OpenBLAS", got)
	}
	threads := BLASThreads()
	if threads < 1 {
		t.Fatalf("BLASThreads() = %d after UseOpenBLAS, want at least 1", threads)
	}
	restore := SingleThreadBLAS()
	if got := BLASThreads(); got != 1 {
		t.Errorf("BLASThreads() = %d under SingleThreadBLAS, want 1", got)
	}
	restore()
	if got := BLASThreads(); got != threads {
		t.Errorf("BLASThreads() = %d after restore, want %d", got, threads)
	}
}
