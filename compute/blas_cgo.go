//go:build cgo

package compute

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
import "C"

import (
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// OpenBLAS does the heavy matrix work whenever cgo is available; every package
// that does linear algebra imports compute, so this runs before any of it.
func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	blasThreads.Store(int32(C.openblas_get_num_threads()))
}

// BLASName says which BLAS serves gonum, for benchmarks and `itscope version`.
const BLASName = "OpenBLAS"

var (
	blasThreads  atomic.Int32 // OpenBLAS's current thread count
	singleMu     sync.Mutex
	singleUsers  int
	savedThreads C.int
)

// BLASThreads reports how many threads OpenBLAS uses for one call: 1 means
// callers should spread large products over goroutines themselves; 0 means
// the BLAS manages its own parallelism.
func BLASThreads() int { return int(blasThreads.Load()) }

// SingleThreadBLAS makes OpenBLAS run each call on the calling thread until
// every caller has called its restore function. Training loops that split
// their products over goroutines use it: OpenBLAS's own idle threads spin
// on sched_yield between calls and steal the cores the Go code needs.
func SingleThreadBLAS() (restore func()) {
	singleMu.Lock()
	defer singleMu.Unlock()
	if singleUsers == 0 {
		savedThreads = C.openblas_get_num_threads()
		C.openblas_set_num_threads(1)
		blasThreads.Store(1)
	}
	singleUsers++
	var once sync.Once
	return func() {
		once.Do(func() {
			singleMu.Lock()
			defer singleMu.Unlock()
			singleUsers--
			if singleUsers == 0 {
				C.openblas_set_num_threads(savedThreads)
				blasThreads.Store(int32(savedThreads))
			}
		})
	}
}
