package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConstantNeuronsAreCounted fits a dataset with one neuron whose
// responses never change: fit, fit --json and runs say that the means leave
// it out.
func TestConstantNeuronsAreCounted(t *testing.T) {
	dir := smallFolder(t, 40, 3)
	b, err := os.ReadFile(filepath.Join(dir, "responses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range lines {
		f := strings.Split(l, ",")
		f[2] = "0.5"
		lines[i] = strings.Join(f, ",")
	}
	os.WriteFile(filepath.Join(dir, "responses.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	runsDir := t.TempDir()
	const note = "ev_mean over 2 of 3 neurons; 1 constant on val, left out"
	code, out, errOut := run(t, "fit", "--data", dir, "--features", "pixels:8", "--model", "ridge", "--alpha", "100", "--runs", runsDir)
	if code != 0 || !strings.Contains(out, note) {
		t.Errorf("fit (exit %d, %s) does not say %q:\n%s", code, errOut, note, out)
	}
	code, out, _ = run(t, "fit", "--data", dir, "--features", "pixels:8", "--model", "ridge", "--alpha", "100", "--no-save", "--json")
	var sum map[string]any
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || sum["n_constant"] != 1.0 {
		t.Errorf("fit --json: n_constant %v (exit %d, %v): %s", sum["n_constant"], code, err, out)
	}
	code, out, _ = run(t, "runs", "--runs", runsDir)
	if code != 0 || !strings.Contains(out, ": "+note) {
		t.Errorf("runs does not say %q:\n%s", note, out)
	}
	// Without constant neurons nothing is said, and JSON has no n_constant.
	code, out, _ = run(t, "fit", "--data", smallFolder(t, 40, 3), "--features", "pixels:8", "--model", "ridge", "--alpha", "100",
		"--no-save", "--json")
	if code != 0 || strings.Contains(out, "n_constant") {
		t.Errorf("fit --json without constant neurons: %s", out)
	}
}
