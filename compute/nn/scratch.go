package nn

import "sync"

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

// elementGrain is the smallest block of an elementwise loop worth its own
// goroutine; smaller tensors stay on one.
const elementGrain = 1 << 15
