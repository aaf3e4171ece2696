package compute

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// BoundHeap keeps the Go heap near its live data: after every collection it
// sets the soft memory limit to the live heap plus a quarter of it, and at
// least HeapSlack. It returns false, and does nothing, when the user chose
// a policy with GOMEMLIMIT or GOGC. main calls it once at start-up, as it
// chooses the BLAS.
//
// itscope's heap is mostly a few large pointer-free arrays that live for
// the whole job (an NX-414 dataset's 1.7 GB of stimuli, a network's
// weights): under Go's default of GOGC=100 the heap grows to twice all of
// that before each collection, so a sweep whose live data was 2.3-2.9 GB
// peaked at 5.7 GiB. Marking pointer-free arrays costs next to nothing, so
// collecting more often is cheap here: the same sweep ran as fast with the
// limit (BENCHMARKS.md). The limit moves with the live heap, so it is never
// below it and the collector never runs back to back for want of room.
func BoundHeap() bool {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return false
	}
	heapBound.Do(func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var afterGC func()
		afterGC = func() {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetMemoryLimit(heapLimit(sample[0].Value.Uint64()))
			}
			onNextGC(afterGC)
		}
		onNextGC(afterGC)
	})
	return true
}

// HeapSlack is the least room BoundHeap leaves above the live heap: small
// heaps (the explorer, a demo fit) keep Go's own pacing.
const HeapSlack = 256 << 20

var heapBound sync.Once

// heapLimit is the soft memory limit for a live heap of live bytes.
func heapLimit(live uint64) int64 {
	if live > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return int64(live) + max(int64(live)/4, HeapSlack)
}

// gcSentinel is an object nothing refers to: its finalizer runs after the
// first collection that finds it unreachable. It holds a pointer so that it
// is not batched with other small objects by the tiny allocator, whose
// finalizers may never run.
type gcSentinel struct{ _ *int }

// onNextGC runs f on the finalizer goroutine after the next collection.
func onNextGC(f func()) {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) { f() })
}
