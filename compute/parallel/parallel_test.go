package parallel

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelForEveryIndexOnce runs regions back to back (the crew), from
// several goroutines at once and nested inside one another (the fallback),
// and after the helpers have parked, and checks each index runs exactly once.
func TestParallelForEveryIndexOnce(t *testing.T) {
	check := func(n int) {
		counts := make([]atomic.Int32, n)
		For(n, func(i int) {
			counts[i].Add(1)
			if i%97 == 0 {
				inner := make([]atomic.Int32, 13)
				For(len(inner), func(j int) { inner[j].Add(1) })
				for j := range inner {
					if c := inner[j].Load(); c != 1 {
						t.Errorf("nested index %d ran %d times", j, c)
					}
				}
			}
		})
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Errorf("n=%d: index %d ran %d times", n, i, c)
			}
		}
	}
	for n := range 300 {
		check(n)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; n < 200; n += 7 {
				check(n)
			}
		}()
	}
	wg.Wait()
	time.Sleep(3 * crewSpin) // helpers park; the next region must wake them
	check(1000)
}

// TestBlocksCoverEachIndexOnce checks that the blocks tile [0,n) without
// overlap, in no more than n/grain (rounded up) blocks whose sizes differ
// by one at most, for sizes around the grain and the block count.
func TestBlocksCoverEachIndexOnce(t *testing.T) {
	for _, grain := range []int{0, 1, 4, 100} {
		for n := range 900 {
			counts := make([]atomic.Int32, n)
			var blocks atomic.Int32
			var smallest, largest atomic.Int64
			smallest.Store(int64(n))
			Blocks(n, grain, func(lo, hi int) {
				if lo > hi || hi > n {
					t.Errorf("n=%d grain=%d: block [%d,%d)", n, grain, lo, hi)
					return
				}
				blocks.Add(1)
				for size := int64(hi - lo); ; {
					s := smallest.Load()
					if size >= s || smallest.CompareAndSwap(s, size) {
						break
					}
				}
				for size := int64(hi - lo); ; {
					l := largest.Load()
					if size <= l || largest.CompareAndSwap(l, size) {
						break
					}
				}
				for i := lo; i < hi; i++ {
					counts[i].Add(1)
				}
			})
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("n=%d grain=%d: index %d ran %d times", n, grain, i, c)
				}
			}
			if b, most := int(blocks.Load()), max(1, (n+max(grain, 1)-1)/max(grain, 1)); b > most {
				t.Errorf("n=%d grain=%d: %d blocks, want at most %d", n, grain, b, most)
			}
			if n > 0 && largest.Load()-smallest.Load() > 1 {
				t.Errorf("n=%d grain=%d: blocks of %d to %d indices", n, grain, smallest.Load(), largest.Load())
			}
		}
	}
}

// TestWorkerRunsItsShareFirst: a worker alone in a region runs its own
// share of the indices in order, then the others' from the next one on,
// so the same worker gets the same rows of every region when all are there.
func TestWorkerRunsItsShareFirst(t *testing.T) {
	cases := []struct {
		n, workers, worker int
		want               []int
	}{
		{n: 10, workers: 3, worker: 0, want: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{n: 10, workers: 3, worker: 1, want: []int{3, 4, 5, 6, 7, 8, 9, 0, 1, 2}},
		{n: 10, workers: 3, worker: 2, want: []int{6, 7, 8, 9, 0, 1, 2, 3, 4, 5}},
		{n: 5, workers: 2, worker: 1, want: []int{2, 3, 4, 0, 1}},
		{n: 2, workers: 2, worker: 1, want: []int{1, 0}},
	}
	for _, c := range cases {
		var got []int
		newRegion(c.n, c.workers, func(i int) { got = append(got, i) }).work(c.worker)
		if !slices.Equal(got, c.want) {
			t.Errorf("n=%d, worker %d of %d ran %v, want %v", c.n, c.worker, c.workers, got, c.want)
		}
	}
}
