package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"itscope/model/jobs"
)

// memoryFlag is a size in bytes given as 8GiB, 512MiB, 8G, 512M or bytes;
// 0 stands for a share of the machine's memory, resolved by bytes.
type memoryFlag int64

func (m *memoryFlag) String() string {
	if m == nil || *m == 0 {
		return "0"
	}
	return jobs.FormatBytes(int64(*m))
}

func (m *memoryFlag) Set(v string) error {
	n, err := parseMemory(v)
	if err != nil {
		return err
	}
	*m = memoryFlag(n)
	return nil
}

// bytes is the flag's value, or the machine's memory divided by share when
// it was left at 0.
func (m memoryFlag) bytes(share int64) int64 {
	if m > 0 {
		return int64(m)
	}
	return jobs.MachineMemory() / share
}

var memoryUnits = []struct {
	suffix string
	scale  int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

func parseMemory(v string) (int64, error) {
	s := strings.TrimSpace(v)
	scale := int64(1)
	for _, u := range memoryUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, scale = strings.TrimSpace(rest), u.scale
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 0) || f*float64(scale) > 1<<62 {
		return 0, fmt.Errorf("want a size such as 8GiB, 512MiB or a number of bytes, found %q", v)
	}
	return int64(f * float64(scale)), nil
}

// addMaxJobMemory registers --max-job-memory: jobs whose estimate is larger
// are refused before they start.
func addMaxJobMemory(fs *flag.FlagSet, m *memoryFlag, share string) {
	fs.Var(m, "max-job-memory", "refuse a job whose memory estimate is larger than `SIZE` (8GiB, 512MiB; 0: "+share+" of the machine's memory)")
}
