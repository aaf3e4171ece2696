package train

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"itscope/data"
	"itscope/model/features"
	"itscope/model/nets"
)

// memoryChildEnv makes the test binary train one CNN and report its memory
// instead of running tests (see TestTrainMemoryEstimate).
const memoryChildEnv = "ITSCOPE_TRAIN_MEMORY_CHILD"

// procStatusKB reads a "VmRSS:"-like field of /proc/self/status in KiB.
func procStatusKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n
		}
	}
	return -1
}

type memoryReport struct {
	Base, Peak, Estimate int64 // bytes
}

// trainMemoryChild runs in the child process: it opens the dataset, settles
// the heap, trains one epoch and reports the resident memory before and
// the peak resident memory during training (VmHWM), with the estimate.
func trainMemoryChild(arg string) {
	spec, batchText, _ := strings.Cut(arg, ";")
	batch, _ := strconv.Atoi(batchText)
	die := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	ds, err := data.Open("demo:210325")
	if err != nil {
		die(err)
	}
	var run func() (int64, error)
	if tap, ok := strings.CutPrefix(spec, "cotrain:"); ok {
		cfg := DefaultCotrainConfig()
		cfg.Net, cfg.Trainable, cfg.CacheDir = "mobilenetv2", tap, os.Getenv("ITSCOPE_TRAIN_MEMORY_CACHE")
		cfg.Train.Batch, cfg.Train.Epochs = batch, 1
		net, err := features.OpenNetworkShared(cfg.Net, nets.NetOptions{Seed: cfg.Train.Seed})
		if err != nil {
			die(err)
		}
		// The network is open before the baseline, as it is before a job
		// is made; the peak measured includes the frozen trunk's one pass
		// over the images.
		run = func() (int64, error) {
			if _, err := Cotrain(context.Background(), ds, cfg, nil); err != nil {
				return 0, err
			}
			return CotrainMemory(cfg, ds, net)
		}
	} else {
		cfg := DefaultTrainConfig()
		if cfg.CNN, err = ParseCNNSpec(spec); err != nil {
			die(err)
		}
		cfg.Batch, cfg.Epochs = batch, 1
		run = func() (int64, error) {
			_, err := TrainCNN(context.Background(), ds, cfg, nil)
			return TrainMemory(cfg, ds), err
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	base := procStatusKB("VmRSS") << 10
	// The peak so far (opening the dataset) must not hide the training's:
	// writing 5 to clear_refs resets VmHWM to the current RSS.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	estimate, err := run()
	if err != nil {
		die(err)
	}
	peak := procStatusKB("VmHWM") << 10
	json.NewEncoder(os.Stdout).Encode(memoryReport{Base: base, Peak: peak, Estimate: estimate})
	os.Exit(0)
}

// TestTrainMemoryEstimate trains small CNNs in child processes and checks
// that TrainMemory is within a factor of 2 of the memory the training added
// to the process at its peak (VmHWM after minus VmRSS before).
func TestTrainMemoryEstimate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures training in child processes (not under -race, which multiplies memory)")
	}
	tests := []struct {
		cnn   string
		batch int
	}{
		{"layers=2,channels=16-32,size=64", 64},
		{"layers=3,size=64", 128},
		{"layers=3,channels=16-32-64,size=112", 32},
		{"cotrain:features.14", 32},
	}
	for _, tt := range tests {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), memoryChildEnv+"="+tt.cnn+";"+strconv.Itoa(tt.batch), "ITSCOPE_TRAIN_MEMORY_CACHE="+t.TempDir())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s batch %d: child: %v\n%s", tt.cnn, tt.batch, err, out)
		}
		var r memoryReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: child printed %q: %v", tt.cnn, out, err)
		}
		used := r.Peak - r.Base
		ratio := float64(r.Estimate) / float64(used)
		t.Logf("%s batch %d: estimate %.1f MiB, measured %.1f MiB (peak %.1f MiB), ratio %.2f", tt.cnn, tt.batch,
			float64(r.Estimate)/(1<<20), float64(used)/(1<<20), float64(r.Peak)/(1<<20), ratio)
		if ratio < 0.5 || ratio > 2 {
			t.Errorf("%s batch %d: estimate %d bytes, measured %d: ratio %.2f, want within [0.5, 2]", tt.cnn, tt.batch, r.Estimate, used, ratio)
		}
	}
}
