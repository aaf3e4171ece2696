//go:build cgo

package compute

/*
#cgo LDFLAGS: -lopenblas -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

void openblas_set_num_threads(int);
int openblas_get_num_threads(void);

// restartIdleThreads makes OpenBLAS's idle worker threads go to sleep soon
// after a call instead of spinning on sched_yield for about 2^28 cycles. The
// timeout is read once, when the library loads, so the threads are restarted
// under the new value. The entry points are looked up rather than linked:
// an OpenMP build of OpenBLAS has none of them, and then nothing changes.
static int restartIdleThreads(const char *log2Cycles) {
	void (*readEnv)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "openblas_read_env");
	int (*shutdown)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
	int (*start)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "blas_thread_init");
	if (!readEnv || !shutdown || !start) return 0;
	setenv("OPENBLAS_THREAD_TIMEOUT", log2Cycles, 0); // a user's own setting wins
	readEnv();
	shutdown();
	start();
	return 1;
}

// coreName is the kernel family a DYNAMIC_ARCH OpenBLAS chose for this CPU
// (or OPENBLAS_CORETYPE forced), or NULL when the build cannot say.
static const char *coreName(void) {
	char *(*name)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
	return name ? name() : NULL;
}

// idleThreadTimeout is OpenBLAS's idle timeout as log2 cycles, or -1.
static int idleThreadTimeout(void) {
	int (*timeout)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_thread_timeout");
	return timeout ? timeout() : -1;
}
*/
import "C"

import (
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// UseOpenBLAS makes OpenBLAS serve gonum's blas32 and blas64 (until then
// gonum's pure-Go BLAS does) and returns the name of the BLAS now in use.
// main calls it once at start-up, before any numeric work; calling it again
// does nothing. It is a call rather than an import side effect so that a
// program or test chooses its BLAS where it can be seen.
func UseOpenBLAS() string {
	openBLAS.Do(func() {
		blas32.Use(netlib.Implementation{})
		blas64.Use(netlib.Implementation{})
		// Between two products the Go code (im2col, activations, pooling)
		// needs both cores; a spinning OpenBLAS thread took a quarter of the
		// CPU of a ResNet50 forward pass in sched_yield (BENCHMARKS.md). 2^6
		// cycles is OpenBLAS's floor of 2^4 with a little slack; waking a
		// sleeping thread costs microseconds against the milliseconds of a
		// layer's product.
		timeout := C.CString("6")
		C.restartIdleThreads(timeout)
		C.free(unsafe.Pointer(timeout))
		blasThreads.Store(int32(C.openblas_get_num_threads()))
	})
	return "OpenBLAS"
}

// BLASIdleTimeout reports how long OpenBLAS's idle threads spin before they
// sleep, as log2 cycles (6 after UseOpenBLAS unless OPENBLAS_THREAD_TIMEOUT
// says otherwise), or -1 when the BLAS has no thread server: `itscope
// version` shows it, since a long spin steals the cores training needs.
func BLASIdleTimeout() int {
	if blasThreads.Load() == 0 {
		return -1
	}
	return int(C.idleThreadTimeout())
}

// BLASCore names the kernels OpenBLAS runs on this CPU ("Cooperlake",
// "SkylakeX", "Haswell", ...), or "" before UseOpenBLAS or when the build
// cannot say, and forcedBy, OPENBLAS_CORETYPE's value when that variable
// chose them. `itscope version` shows both: a forced older family slows
// every float path.
func BLASCore() (name, forcedBy string) {
	if blasThreads.Load() == 0 {
		return "", ""
	}
	if c := C.coreName(); c != nil {
		return C.GoString(c), os.Getenv("OPENBLAS_CORETYPE")
	}
	return "", ""
}

var (
	openBLAS     sync.Once
	blasThreads  atomic.Int32 // OpenBLAS's current thread count; 0 before UseOpenBLAS
	singleMu     sync.Mutex
	singleUsers  int
	savedThreads C.int
)

// BLASThreads reports how many threads OpenBLAS uses for one call: 1 means
// callers should spread large products over goroutines themselves; 0 means
// the BLAS manages its own parallelism (gonum's, before UseOpenBLAS).
func BLASThreads() int { return int(blasThreads.Load()) }

// SingleThreadBLAS makes OpenBLAS run each call on the calling thread until
// every caller has called its restore function. Training loops that split
// their products over goroutines use it: OpenBLAS's own idle threads spin
// on sched_yield between calls and steal the cores the Go code needs. Before
// UseOpenBLAS it does nothing: gonum's BLAS has no idle threads.
func SingleThreadBLAS() (restore func()) {
	if blasThreads.Load() == 0 {
		return func() {}
	}
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
