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
	got := idleThreadTimeout()
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
