package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor runs fn(i) for i in [0,n) on GOMAXPROCS goroutines. Callers
// make each i write disjoint memory, so no locking is needed.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// parallelRange splits [0,n) into blocks of at least minBlock elements
// for elementwise loops; small tensors stay on one goroutine.
func parallelRange(n int, fn func(lo, hi int)) {
	const minBlock = 1 << 15
	blocks := min(runtime.GOMAXPROCS(0)*4, (n+minBlock-1)/minBlock)
	if blocks <= 1 {
		fn(0, n)
		return
	}
	size := (n + blocks - 1) / blocks
	parallelFor(blocks, func(b int) {
		fn(b*size, min(n, (b+1)*size))
	})
}

// scratch hands out reusable float32 buffers; it is safe for concurrent use,
// so inference through one network from several goroutines shares no buffer.
var scratch sync.Pool

// getScratch returns a buffer of length n (contents undefined).
func getScratch(n int) *[]float32 {
	if v, ok := scratch.Get().(*[]float32); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	b := make([]float32, n)
	return &b
}

func putScratch(b *[]float32) { scratch.Put(b) }
