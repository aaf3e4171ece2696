package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For runs fn(i) for i in [0,n) on GOMAXPROCS goroutines: the warm crew
// and the caller, or fresh goroutines when the crew is busy (a nested or
// concurrent region). Callers make each i write disjoint memory, so no
// locking is needed.
func For(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	r := &region{n: int64(n), fn: fn}
	if crew.run(r) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			r.work()
		}()
	}
	wg.Wait()
}

// crew is a team of helper goroutines kept warm between parallel regions.
// A training step or forward pass runs hundreds of regions with a little
// serial work between them; a fresh goroutine per region has to wake a
// parked thread each time (tens of microseconds in a VM, with a core idle
// meanwhile), while a helper that spins briefly after a region picks up the
// next at once. Helpers park after crewSpin without work, so an idle
// program burns nothing. One region uses the crew at a time; a nested or
// concurrent region falls back to fresh goroutines.
var crew team

// crewSpin is how long an idle helper keeps looking for work before parking.
const crewSpin = 100 * time.Microsecond

type team struct {
	busy     sync.Mutex
	start    sync.Once
	job      atomic.Pointer[region]
	sleepers atomic.Int32
	wake     chan struct{}
}

// region is one For call handed to the crew. state counts the
// helpers working on it, with closed set once the caller has seen every
// index handed out: a helper that arrives later leaves it alone, so the
// caller never waits for a helper that has not started.
type region struct {
	n     int64
	next  atomic.Int64
	fn    func(int)
	state atomic.Int64
}

const closed = 1 << 40

func (r *region) work() {
	for {
		i := r.next.Add(1) - 1
		if i >= r.n {
			return
		}
		r.fn(int(i))
	}
}

// run runs r on the crew and the caller; false if the crew is busy.
func (t *team) run(r *region) bool {
	if !t.busy.TryLock() {
		return false
	}
	defer t.busy.Unlock()
	t.start.Do(func() {
		helpers := runtime.GOMAXPROCS(0) - 1
		t.wake = make(chan struct{}, helpers)
		for range helpers {
			go t.help()
		}
	})
	t.job.Store(r)
	for range t.sleepers.Load() {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	r.work()
	for {
		s := r.state.Load()
		if r.state.CompareAndSwap(s, s|closed) {
			break
		}
	}
	for r.state.Load() != closed {
		runtime.Gosched()
	}
	t.job.Store(nil)
	return true
}

func (t *team) help() {
	var last *region
	idle := time.Now()
	for {
		r := t.job.Load()
		if r == nil || r == last {
			if time.Since(idle) < crewSpin {
				runtime.Gosched()
				continue
			}
			t.sleepers.Add(1)
			if r := t.job.Load(); r == nil || r == last {
				<-t.wake
			}
			t.sleepers.Add(-1)
			idle = time.Now()
			continue
		}
		last = r
		for {
			s := r.state.Load()
			if s&closed != 0 {
				break
			}
			if r.state.CompareAndSwap(s, s+1) {
				r.work()
				r.state.Add(-1)
				break
			}
		}
		idle = time.Now()
	}
}

// Blocks runs fn over [0,n) cut into contiguous blocks [lo,hi): about four
// per core, so uneven blocks and a busy machine even out, but no more than
// n/grain of them (grain is the smallest piece worth a goroutine). Up to
// grain elements, or on one core, fn(0, n) runs on the caller. The block boundaries
// depend only on n, grain and GOMAXPROCS, so a kernel whose result depends
// on them (a split reduction) stays reproducible.
func Blocks(n, grain int, fn func(lo, hi int)) {
	grain = max(grain, 1)
	workers := runtime.GOMAXPROCS(0)
	if workers <= 1 || n <= grain {
		fn(0, n)
		return
	}
	blocks := min(workers*4, (n+grain-1)/grain)
	size := (n + blocks - 1) / blocks
	For(blocks, func(b int) {
		if lo := b * size; lo < n {
			fn(lo, min(lo+size, n))
		}
	})
}
