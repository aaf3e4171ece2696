//go:build cgo

package compute

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
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

// TestBLASCoreFollowsCoreType checks BLASCore against OpenBLAS's own choice:
// a child process started with OPENBLAS_CORETYPE=Haswell must report
// Haswell, forced by that variable. Skipped when this OpenBLAS cannot name
// its kernels.
func TestBLASCoreFollowsCoreType(t *testing.T) {
	if os.Getenv("ITSCOPE_BLAS_CORE_CHILD") != "" {
		UseOpenBLAS()
		name, forcedBy := BLASCore()
		fmt.Println(name, forcedBy)
		return
	}
	UseOpenBLAS()
	if name, _ := BLASCore(); name == "" {
		t.Skip("this OpenBLAS cannot name its kernels")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestBLASCoreFollowsCoreType$")
	cmd.Env = append(os.Environ(), "ITSCOPE_BLAS_CORE_CHILD=1", "OPENBLAS_CORETYPE=Haswell")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if got, _, _ := strings.Cut(string(out), "\n"); !strings.HasPrefix(got, "Haswell") {
		t.Errorf("BLASCore() under OPENBLAS_CORETYPE=Haswell = %q, want Haswell", got)
	}
}
