package readout

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
	"itscope/model/jobs"
)

// memoryChildEnv makes the test binary run one fit and report its memory
// instead of running tests (see TestFitMemoryEstimate).
const memoryChildEnv = "ITSCOPE_FIT_MEMORY_CHILD"

func procStatusBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n << 10
		}
	}
	return -1
}

type memoryReport struct{ Base, Peak, Estimate int64 }

// fitMemoryChild runs "FEATURES;PCA;MODEL" on demo:210325 and prints the
// resident memory before the fit, the peak during it (VmHWM, reset before)
// and FitMemory's estimate.
func fitMemoryChild(arg string) {
	parts := strings.Split(arg, ";")
	pca, _ := strconv.Atoi(parts[1])
	die := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	ds, err := data.Open("demo:210325")
	if err != nil {
		die(err)
	}
	spec := FitSpec{Data: ds.Name, Dataset: ds, Features: parts[0], PCA: pca, Model: parts[2], Alpha: 10}
	f, err := features.ParseFeatures(spec.Features, features.FeatureOptions{})
	if err != nil {
		die(err)
	}
	dim, err := f.Dim(ds)
	if err != nil {
		die(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	base := procStatusBytes("VmRSS")
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		die(err)
	}
	if _, err := Fit(context.Background(), spec, nil); err != nil {
		die(err)
	}
	json.NewEncoder(os.Stdout).Encode(memoryReport{Base: base, Peak: procStatusBytes("VmHWM"), Estimate: FitMemory(spec, ds, dim)})
	os.Exit(0)
}

// TestFitMemoryEstimate runs fits in child processes and checks FitMemory
// within a factor of 2 of what each added to its process at the peak.
func TestFitMemoryEstimate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures fits in child processes (not under -race, which multiplies memory)")
	}
	for _, arg := range []string{"pixels:64;0;ridge", "pixels:96;300;ridgecv", "pixels:32;0;ridgecv"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), memoryChildEnv+"="+arg)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: child: %v\n%s", arg, err, out)
		}
		var r memoryReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: child printed %q: %v", arg, out, err)
		}
		used := r.Peak - r.Base
		ratio := float64(r.Estimate) / float64(used)
		t.Logf("%s: estimate %.1f MiB, measured %.1f MiB, ratio %.2f", arg, float64(r.Estimate)/(1<<20), float64(used)/(1<<20), ratio)
		if ratio < 0.5 || ratio > 2 {
			t.Errorf("%s: estimate %d bytes, measured %d: ratio %.2f, want within [0.5, 2]", arg, r.Estimate, used, ratio)
		}
	}
}

// TestFitRefusedByTheEngineLimit: a fit whose size is known only once its
// features are open (a grid or sweep job) checks the engine's limit then,
// before extracting anything.
func TestFitRefusedByTheEngineLimit(t *testing.T) {
	ds, err := data.Open("demo:210325")
	if err != nil {
		t.Fatal(err)
	}
	e := jobs.NewEngine(nil, 1)
	e.SetLimits(jobs.Limits{JobMemory: 150 << 20})
	spec := FitSpec{Data: ds.Name, Dataset: ds, Features: "pixels:96", Model: ModelRidge, Alpha: 1}
	id, err := e.Submit(FitJob(spec)) // no estimate stated: the job checks
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.Wait(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	need := jobs.FormatBytes(FitMemory(spec, ds, 3*96*96))
	for _, want := range []string{"needs about " + need, "640 images x 27648 features", "the limit of 150 MiB per job"} {
		if !strings.Contains(st.Err, want) {
			t.Errorf("error %q does not say %q", st.Err, want)
		}
	}
}
