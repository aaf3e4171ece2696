package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/train"
)

// cliChildEnv makes the test binary run the command line with the
// arguments it holds (separated by newlines) instead of the tests, so that a
// test can measure a command's peak memory in a process of its own.
const cliChildEnv = "ITSCOPE_CLI_CHILD"

// cliPeakEnv names the file where the child writes its own peak resident
// memory (VmHWM) as it exits. rusage's Maxrss of a child is not used: Go
// starts children with vfork, and Linux carries the parent's high-water RSS
// into the child (docs/reliability.md).
const cliPeakEnv = "ITSCOPE_CLI_CHILD_PEAK"

// recordPeak writes this process's VmHWM in bytes to path.
func recordPeak(path string) {
	if path == "" {
		return
	}
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			os.WriteFile(path, []byte(strconv.FormatInt(kb<<10, 10)), 0o644)
		}
	}
}

// runChild runs itscope args in a child process and returns its exit code,
// output and peak resident memory in bytes.
func runChild(t *testing.T, args ...string) (code int, stdout, stderr string, peak int64) {
	t.Helper()
	peakFile := filepath.Join(t.TempDir(), "peak")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliChildEnv+"="+strings.Join(args, "\n"), cliPeakEnv+"="+peakFile,
		"ITSCOPE_RUNS="+t.TempDir(), "ITSCOPE_CACHE="+t.TempDir())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("itscope %s: %v", strings.Join(args, " "), err)
	}
	b, err := os.ReadFile(peakFile)
	if err != nil {
		t.Fatalf("itscope %s: the child recorded no peak: %v", strings.Join(args, " "), err)
	}
	peak, err = strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String(), peak
}

// TestTrainTooBigIsRefusedBeforeItStarts is the finding: a 224-pixel
// CNN at batch 576 used to die of out-of-memory. Now it is refused with its
// estimate and the limit, and the process never grows past 400 MiB.
func TestTrainTooBigIsRefusedBeforeItStarts(t *testing.T) {
	args := []string{"train", "--data", "demo:210325", "--cnn", "layers=3,size=224", "--batch", "576", "--epochs", "1"}
	ds, err := data.Open("demo:210325")
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultTrainConfig()
	cfg.CNN, _ = train.ParseCNNSpec("layers=3,size=224")
	cfg.Batch, cfg.Epochs = 576, 1
	need, limit := train.TrainMemory(cfg, ds), jobs.MachineMemory()/2
	if need <= limit {
		t.Skipf("this machine's default limit (%s) admits the job (%s)", jobs.FormatBytes(limit), jobs.FormatBytes(need))
	}
	const budget = 400 << 20
	code, _, stderr, rss := runChild(t, args...)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"needs about " + jobs.FormatBytes(need), "the limit of " + jobs.FormatBytes(limit), "--max-job-memory"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if rss > budget && !raceEnabled {
		t.Errorf("peak RSS %s, want under %s", jobs.FormatBytes(rss), jobs.FormatBytes(budget))
	}
	t.Logf("estimate %s, limit %s, peak RSS of the refusing process %s", jobs.FormatBytes(need), jobs.FormatBytes(limit), jobs.FormatBytes(rss))

	// The same with an explicit limit, whatever the machine.
	code, _, stderr, _ = runChild(t, append(args, "--max-job-memory", "1GiB")...)
	if code != 1 || !strings.Contains(stderr, "the limit of 1.0 GiB") {
		t.Errorf("--max-job-memory 1GiB: exit %d, stderr %q", code, stderr)
	}
}

// TestSizesAreBounded checks that every size a user types has a bound named
// in its error, and that a huge alpha grid is refused before it is made.
func TestSizesAreBounded(t *testing.T) {
	const budget = 200 << 20
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"fit", "--data", "demo:210325", "--alphas", "1:10:100000000"}, "COUNT 100000000: want at most 1000 alphas"},
		{[]string{"fit", "--data", "demo:210325", "--alphas", strings.Repeat("1,", 1000) + "1"}, "1001 values: want at most 1000"},
		{[]string{"train", "--data", "demo:210325", "--batch", "5000"}, "batch: want a size from 1 to 4096, found 5000"},
		{[]string{"train", "--data", "demo:210325", "--batch", "0"}, "batch: want a size from 1 to 4096, found 0"},
		{[]string{"train", "--data", "demo:210325", "--cnn", "size=4096"}, `key "size": want 64, 112 or 224`},
		{[]string{"train", "--data", "demo:210325", "--cnn", "channels=9999"}, `key "channels": want integers from 1 to 4096`},
		{[]string{"fit", "--data", "demo:210325", "--features", "pixels:16", "--pca", "5000", "--model", "ridge", "--alpha", "1"}, "pca: n_components=5000 must be at most"},
		{[]string{"train", "--max-job-memory", "lots"}, "want a size such as 8GiB"},
	}
	for _, tt := range tests {
		code, _, stderr, rss := runChild(t, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("itscope %.80s: exit %d, stderr %q, want it to say %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
		if rss > budget && !raceEnabled {
			t.Errorf("itscope %.80s: peak RSS %s, want under %s", strings.Join(tt.args, " "), jobs.FormatBytes(rss), jobs.FormatBytes(budget))
		}
	}
}
