//go:build cgo && linux

package data

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// HDF5 prints its error stack to stderr unless told not to, and a
// thread-safe libhdf5 keeps that setting per OS thread: damaged files opened
// from several goroutines must leave stderr empty.
func TestHDF5ErrorsStayOffStderr(t *testing.T) {
	fixed, err := os.ReadFile("../testdata/data/nx414_fixed.h5")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "cut.h5")
	write(t, bad, fixed[:200])
	capture, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(int(capture.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for g := range errs {
		wg.Go(func() {
			for range 5 {
				_, errs[g] = Open(bad)
			}
		})
	}
	wg.Wait()
	syscall.Dup3(saved, 2, 0)
	syscall.Close(saved)
	capture.Close()
	for _, err := range errs {
		if err == nil {
			t.Fatal("damaged file opened without error")
		}
	}
	if out, _ := os.ReadFile(filepath.Join(dir, "stderr")); len(out) > 0 {
		t.Errorf("HDF5 wrote to stderr:\n%.500s", out)
	}
}
