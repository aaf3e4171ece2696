package nn

import (
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
		parallelFor(n, func(i int) {
			counts[i].Add(1)
			if i%97 == 0 {
				inner := make([]atomic.Int32, 13)
				parallelFor(len(inner), func(j int) { inner[j].Add(1) })
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
