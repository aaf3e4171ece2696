package jobs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"itscope/model/runs"
)

// Limits bound what Submit accepts; zero fields bound nothing.
type Limits struct {
	// JobMemory refuses a job whose Memory estimate is larger (bytes).
	JobMemory int64
	// JobsPerOwner bounds the jobs one non-empty Owner has queued and
	// running at once.
	JobsPerOwner int
}

// BaseMemory is what a job adds to its process besides the arrays its
// estimate counts (OpenBLAS thread buffers, goroutine stacks, heap slack),
// measured on small jobs; every estimate includes it.
const BaseMemory = 128 << 20

// SetLimits sets the bounds later submissions are checked against.
func (e *Engine) SetLimits(l Limits) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limits = l
}

// admitLocked checks a batch of jobs against the limits (and that the
// engine still takes jobs).
func (e *Engine) admitLocked(js []Job) error {
	if e.closed {
		return ErrEngineClosed
	}
	l := e.limits
	if l.JobMemory > 0 {
		for _, j := range js {
			if j.Memory > l.JobMemory {
				return fmt.Errorf("job %q needs about %s of memory (estimated from its spec), more than the limit of %s per job (--max-job-memory); make it smaller (batch, input size, channels, PCA components)",
					j.Name, FormatBytes(j.Memory), FormatBytes(l.JobMemory))
			}
		}
	}
	if l.JobsPerOwner <= 0 {
		return nil
	}
	adding := map[string]int{}
	for _, j := range js {
		if j.Owner != "" {
			adding[j.Owner]++
		}
	}
	for owner, n := range adding {
		active := 0
		for _, ent := range e.jobs {
			if ent.status.Owner == owner && (ent.status.State == runs.Queued || ent.status.State == runs.Running) {
				active++
			}
		}
		if active+n > l.JobsPerOwner {
			return fmt.Errorf("%d job(s) refused: you have %d queued or running and the limit is %d per user (--max-jobs-per-user); wait for them or cancel some",
				n, active, l.JobsPerOwner)
		}
	}
	return nil
}

type memoryLimitKey struct{}

// MemoryLimit is the per-job memory limit of the engine running the job
// whose context is ctx, 0 for none. A job whose estimate needs what it opens
// (a network's layer sizes) checks it against this once it knows.
func MemoryLimit(ctx context.Context) int64 {
	n, _ := ctx.Value(memoryLimitKey{}).(int64)
	return n
}

// FormatBytes writes n as "512 MiB", "3.2 GiB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// MachineMemory is the machine's physical memory in bytes (MemTotal of
// /proc/meminfo), or the memory limit of the process's cgroup when that is
// lower (a container), or 0 when neither can be read.
func MachineMemory() int64 {
	total := memTotal()
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			return n
		}
	}
	return total
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 2 && fields[1] == "kB" {
			if kb, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
