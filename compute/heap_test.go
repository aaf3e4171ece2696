package compute

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestHeapLimit(t *testing.T) {
	for _, tt := range []struct {
		live uint64
		want int64
	}{
		{0, HeapSlack},
		{100 << 20, 100<<20 + HeapSlack},
		{1 << 30, 1<<30 + HeapSlack},
		{4 << 30, 4<<30 + 1<<30},
		{math.MaxUint64, math.MaxInt64},
	} {
		if got := heapLimit(tt.live); got != tt.want {
			t.Errorf("heapLimit(%d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}

// TestBoundHeapFollowsLiveHeap holds 1.5 GiB of pointer-free data live,
// collects, and checks the soft limit BoundHeap set is the live heap plus a
// quarter: above what is live, and far below the 3 GiB GOGC=100 would let the
// heap reach.
func TestBoundHeapFollowsLiveHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 1.5 GiB")
	}
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	defer debug.SetMemoryLimit(math.MaxInt64)
	if !BoundHeap() {
		t.Fatal("BoundHeap declined with GOMEMLIMIT and GOGC unset")
	}
	held := make([]float32, 3<<27) // 1.5 GiB
	held[len(held)-1] = 1
	const size = int64(6 << 28)
	deadline := time.Now().Add(10 * time.Second)
	var limit int64
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // the finalizer goroutine runs the hook
		if limit = debug.SetMemoryLimit(-1); limit >= size && limit < math.MaxInt64 {
			break
		}
	}
	runtime.KeepAlive(held)
	if limit < size+size/4 || limit > size+size/4+256<<20 {
		t.Errorf("soft memory limit %d with %d bytes held live, want the live heap plus a quarter (%d plus the rest of the heap)", limit, size, size+size/4)
	}
}

func TestBoundHeapLeavesUsersChoice(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "8GiB")
	if BoundHeap() {
		t.Error("BoundHeap took over with GOMEMLIMIT set")
	}
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "50")
	if BoundHeap() {
		t.Error("BoundHeap took over with GOGC set")
	}
}
