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
//
// Each worker has a home share of the indices, the same share of every
// region (the caller the first, helper h the h-th), and runs it in order
// before taking what is left of another's. A worker then claims indices
// from a counter no other core writes until the work runs out, and
// consecutive regions over the same rows give each core the same rows:
// MobileNetV2 int8 at batch 1 ran 6% faster and ResNet50's forward pass
// 5-10% faster than with one shared counter (BENCHMARKS.md).
func For(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	r := newRegion(n, workers, fn)
	if crew.run(r) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			r.work(w)
		}()
	}
	r.work(0)
	wg.Wait()
}

// crew is a team of helper goroutines kept warm between parallel regions.
// A training step or forward pass runs hundreds of regions with a little
// serial work between them; a fresh goroutine per region has to wake a
// parked thread each time (tens of microseconds in a VM, with a core idle
// meanwhile), while a helper that spins briefly after a region picks up the
// next at once. The spin goes through runtime.Gosched: a spin on the job
// pointer alone made the int8 network 2-4% faster but ResNet50's forward
// pass 15-25% slower; PAUSE loops and sched_yield were slower still
// (BENCHMARKS.md). Helpers park after crewSpin without work, so an idle
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

// region is one For call. Its indices are cut into one share per worker,
// each with its own cursor padded to a cache line. state counts the helpers
// working on it, with closed set once the caller has seen every index
// handed out: a helper that arrives later leaves it alone, so the caller
// never waits for a helper that has not started.
type region struct {
	fn     func(int)
	shares []share
	state  atomic.Int64
}

type share struct {
	next atomic.Int64
	end  int64
	_    [48]byte
}

const closed = 1 << 40

func newRegion(n, workers int, fn func(int)) *region {
	r := &region{fn: fn, shares: make([]share, workers)}
	for w := range r.shares {
		r.shares[w].next.Store(int64(w * n / workers))
		r.shares[w].end = int64((w + 1) * n / workers)
	}
	return r
}

// work runs worker w's share, then what is left of the others', each from
// its front: a worker that finishes early takes over where a slow one has
// not yet been.
func (r *region) work(w int) {
	for k := range r.shares {
		s := &r.shares[(w+k)%len(r.shares)]
		for {
			i := s.next.Add(1) - 1
			if i >= s.end {
				break
			}
			r.fn(int(i))
		}
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
		for h := range helpers {
			go t.help(h + 1)
		}
	})
	t.job.Store(r)
	for range t.sleepers.Load() {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	r.work(0)
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

// help is helper id's loop: its home share in every region is share id
// (the caller's is 0); in a region with fewer shares it takes its place
// among them modulo their number.
func (t *team) help(id int) {
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
				r.work(id % len(r.shares))
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
// grain elements, or on one core, fn(0, n) runs on the caller. Block sizes
// differ by one at most, so a core's share (see For) is the same fraction
// of [0,n) whatever n is: regions over the planes of successive layers give
// each core the same rows. The boundaries depend only on n, grain and
// GOMAXPROCS, so a kernel whose result depends on them (a split reduction)
// stays reproducible.
func Blocks(n, grain int, fn func(lo, hi int)) {
	grain = max(grain, 1)
	workers := runtime.GOMAXPROCS(0)
	if workers <= 1 || n <= grain {
		fn(0, n)
		return
	}
	blocks := min(workers*4, (n+grain-1)/grain)
	For(blocks, func(b int) { fn(b*n/blocks, (b+1)*n/blocks) })
}
