package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"itscope/data/npy"
)

// TestCacheCommand lists a cache with two entries (one pinned by nothing, one
// with no checksum), prunes by age and then by size, and refuses bad flags.
func TestCacheCommand(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-100 * time.Hour)
	for _, name := range []string{"old.npy", "new.npy"} {
		p := filepath.Join(dir, name)
		if err := npy.WriteFile(p, make([]float32, 1000), 10, 100); err != nil {
			t.Fatal(err)
		}
		if name == "old.npy" {
			os.Chtimes(p, old, old)
		}
	}
	code, out, errOut := run(t, "cache", "--cache", dir, "--json")
	if code != 0 {
		t.Fatalf("cache --json: exit %d: %s", code, errOut)
	}
	var listing struct {
		Bytes    int64 `json:"bytes"`
		MaxBytes int64 `json:"max_bytes"`
		Entries  []struct {
			Name  string `json:"name"`
			Bytes int64  `json:"bytes"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out), &listing); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(listing.Entries) != 2 || listing.Entries[0].Name != "old.npy" || listing.Bytes != 2*(128+4000) ||
		listing.MaxBytes != 20<<30 {
		t.Errorf("listing %+v: want old.npy then new.npy, 2 x 4128 bytes, bound 20 GiB", listing)
	}
	code, out, _ = run(t, "cache", "--cache", dir, "--cache-max", "1GB")
	if code != 0 || !strings.Contains(out, "2 files, 8.1 KB (bound 1.0 GB)") || !strings.Contains(out, "old.npy (no checksum") {
		t.Errorf("cache table (exit %d):\n%s", code, out)
	}
	code, out, _ = run(t, "cache", "prune", "--cache", dir, "--older-than", "72h")
	if code != 0 || !strings.Contains(out, "removed 1 files (4.0 KB)") {
		t.Errorf("prune --older-than 72h (exit %d): %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.npy")); !os.IsNotExist(err) {
		t.Error("old.npy survived pruning by age")
	}
	code, out, _ = run(t, "cache", "prune", "--cache", dir, "--max", "0")
	if code != 0 || !strings.Contains(out, "removed 1 files") {
		t.Errorf("prune --max 0 (exit %d): %s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cache", "prune", "--cache", dir}, "say what to remove"},
		{[]string{"cache", "--cache", dir, "--cache-max", "lots"}, `size "lots"`},
		{[]string{"fit", "--cache-max", "-3G"}, `size "-3G"`},
	} {
		if code, _, errOut := run(t, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
