package features

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"itscope/data"
	"itscope/data/npy"
)

// numberedImages are n images that are only numbers: countingFeatures
// needs no pixels.
type numberedImages int

func (n numberedImages) Len() int                                      { return int(n) }
func (numberedImages) Name(i int) string                               { return fmt.Sprint(i) }
func (numberedImages) RGB(int) (image.Image, error)                    { return nil, errors.New("no pixels") }
func (numberedImages) Normalized(int) ([]float32, int, int, int, bool) { return nil, 0, 0, 0, false }

func smallDataset(n int) *data.Dataset {
	return &data.Dataset{Name: "small", Hash: fmt.Sprint("test-", n), Images: numberedImages(n)}
}

// countingFeatures are cheap cacheable features, image i's row all i+key
// offset, that count their extractions.
type countingFeatures struct {
	key       string
	dim       int
	extracted int
}

func (f *countingFeatures) Name() string                   { return f.key }
func (f *countingFeatures) CacheKey() string               { return "test=" + f.key }
func (f *countingFeatures) Dim(*data.Dataset) (int, error) { return f.dim, nil }
func (f *countingFeatures) Extract(_ context.Context, _ *data.Dataset, images []int, emit func(int, []float32) error) error {
	f.extracted++
	block := make([]float32, len(images)*f.dim)
	for k, img := range images {
		for c := range f.dim {
			block[k*f.dim+c] = float32(img) + float32(c)/float32(f.dim)
		}
	}
	return emit(0, block)
}

// logLines collects what the cache says.
type logLines []string

func (l *logLines) report() CacheReport {
	return CacheReport{Log: func(m string) { *l = append(*l, m) }}
}

func TestCacheRebuildsAFileCorruptedInPlace(t *testing.T) {
	ds := smallDataset(12)
	cache, err := OpenFeatureCache(t.TempDir(), -1)
	if err != nil {
		t.Fatal(err)
	}
	f := &countingFeatures{key: "a", dim: 5}
	m, err := cache.Ensure(context.Background(), ds, f, CacheReport{})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	path := cache.Path(ds.Hash, f.CacheKey())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// One flipped bit in the last value: the header and size still agree.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-2] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(path); st2.Size() != st.Size() {
		t.Fatalf("corruption changed the size: %d, was %d", st2.Size(), st.Size())
	}
	var log logLines
	m, err = cache.Ensure(context.Background(), ds, f, log.report())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if f.extracted != 2 {
		t.Errorf("%d extractions, want 2: the corrupted file was used", f.extracted)
	}
	if len(log) == 0 || !strings.Contains(log[0], "checksum mismatch") || !strings.Contains(log[0], filepath.Base(path)) ||
		!strings.Contains(log[0], "extracting it again") {
		t.Errorf("log %q: want a checksum mismatch naming %s and saying it is extracted again", log, filepath.Base(path))
	}
	row := make([]float32, 5)
	if err := m.ReadRowCols(11, 0, row); err != nil {
		t.Fatal(err)
	}
	if want := []float32{11, 11.2, 11.4, 11.6, 11.8}; !slices.Equal(row, want) {
		t.Errorf("rebuilt last row %v, want %v", row, want)
	}
	// A file with no checksum (an older itscope's) is rebuilt too.
	os.Remove(path + sumSuffix)
	log = nil
	if _, ok := cache.Lookup(ds, f, log.report()); ok || len(log) != 1 || !strings.Contains(log[0], "no checksum") {
		t.Errorf("without a sidecar: found %v, log %q", ok, log)
	}
}

func TestCacheEvictsLeastRecentlyUsedButNotPinned(t *testing.T) {
	ds := smallDataset(64)
	cache, err := OpenFeatureCache(t.TempDir(), -1)
	if err != nil {
		t.Fatal(err)
	}
	const dim = 256 // 64 KiB of rows per entry
	keys := []string{"oldest", "pinned", "middle", "recent"}
	past := time.Now().Add(-time.Hour)
	var entrySize int64
	for i, k := range keys {
		m, err := cache.Ensure(context.Background(), ds, &countingFeatures{key: k, dim: dim}, CacheReport{})
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		// Last used a minute apart, oldest first.
		at := past.Add(time.Duration(i) * time.Minute)
		os.Chtimes(cache.Path(ds.Hash, "test="+k)+sumSuffix, at, at)
		ents, _ := cache.Entries()
		entrySize = ents[0].Bytes
	}
	pin, err := cache.Pin(cache.Path(ds.Hash, "test=oldest"))
	if err != nil {
		t.Fatal(err)
	}
	defer pin.Release()
	// Room for four entries: the fifth pushes out the two least recently
	// used unpinned ones ("pinned" was used after "oldest", but the pin keeps
	// "oldest").
	cache.Max = 4*entrySize + entrySize/2
	pin2, _ := cache.Pin(cache.Path(ds.Hash, "test=pinned"))
	pin2.Release() // a released pin protects nothing
	var log logLines
	m, err := cache.Ensure(context.Background(), ds, &countingFeatures{key: "new", dim: dim}, log.report())
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	ents, err := cache.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	var total int64
	for _, e := range ents {
		left = append(left, strings.TrimPrefix(e.Key, "test="))
		total += e.Bytes
	}
	if want := []string{"oldest", "middle", "recent", "new"}; !slices.Equal(left, want) {
		t.Errorf("entries left %v (least recently used first), want %v", left, want)
	}
	if total > cache.Max {
		t.Errorf("cache holds %d bytes, over its bound %d", total, cache.Max)
	}
	if len(log) != 1 || !strings.Contains(log[0], "evicted 1 least recently used") {
		t.Errorf("log %q", log)
	}
	if !ents[0].Pinned || ents[1].Pinned {
		t.Errorf("pinned flags %v %v, want the pinned entry alone pinned", ents[0].Pinned, ents[1].Pinned)
	}
	// Over the bound with everything else gone, the pinned entry stays.
	removed, err := cache.Prune(PruneOptions{MaxBytes: 0, OlderThan: -1})
	if err != nil || len(removed) != 3 {
		t.Fatalf("prune to 0: removed %d, %v", len(removed), err)
	}
	if ents, _ := cache.Entries(); len(ents) != 1 || ents[0].Key != "test=oldest" {
		t.Errorf("after pruning everything: %+v, want the pinned entry alone", ents)
	}
}

func TestCachePinOfADeadHolderIsRemoved(t *testing.T) {
	ds := smallDataset(4)
	cache, err := OpenFeatureCache(t.TempDir(), -1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cache.Ensure(context.Background(), ds, &countingFeatures{key: "x", dim: 3}, CacheReport{})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	// A pin file that no process holds locked, as a killed process leaves.
	dead := filepath.Join(cache.Dir, pinDir, "dead.pin")
	if err := os.WriteFile(dead, []byte(filepath.Base(cache.Path(ds.Hash, "test=x"))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := cache.Prune(PruneOptions{MaxBytes: 0})
	if err != nil || len(removed) != 1 {
		t.Errorf("prune removed %d entries (%v), want the one a dead process pinned", len(removed), err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead holder's pin is still there: %v", err)
	}
}

func TestOpenRemovesOnlyStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	files := map[string]bool{ // name -> removed on open
		".a.npy.tmp-123":                 true,
		".b.npy.tmp-456":                 false, // a writer may still be at it
		".c.npy.crc32c.tmp-789":          true,
		"orphan.npy" + sumSuffix:         true, // its .npy never arrived
		"kept.npy":                       false,
		"kept.npy" + sumSuffix:           false,
		filepath.Join(pinDir, ".tmp-42"): true,
	}
	os.Mkdir(filepath.Join(dir, pinDir), 0o755)
	for name := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if name != ".b.npy.tmp-456" {
			os.Chtimes(p, old, old)
		}
	}
	if _, err := OpenFeatureCache(dir, 0); err != nil {
		t.Fatal(err)
	}
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
}

func TestParseAndFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"20GB", 20 << 30}, {"500M", 500 << 20}, {"1.5g", 3 << 29}, {"4096", 4096}, {"2KiB", 2048}, {"0", 0},
	} {
		got, err := ParseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GB", "-1G", "12X", "NaN", "1e30G"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q): no error", bad)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 3 << 19: "1.5 MB", 20 << 30: "20.0 GB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// The sidecar's checksum is of the rows as the .npy file stores them: a
// file written by npy.WriteFile with the same rows gets the same one.
func TestEntryChecksumCoversTheStoredRows(t *testing.T) {
	dir := t.TempDir()
	rows := []float32{1, -2, 3.5, 4, 5, 6}
	w, err := createEntry(filepath.Join(dir, "e.npy"), "k", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRows(0, rows[:2]); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRows(1, rows[2:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteFile(filepath.Join(dir, "f.npy"), rows, 3, 2); err != nil {
		t.Fatal(err)
	}
	os.Link(filepath.Join(dir, "e.npy"+sumSuffix), filepath.Join(dir, "f.npy"+sumSuffix))
	for _, name := range []string{"e.npy", "f.npy"} {
		m, err := npy.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyEntry(m); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		m.Close()
	}
	s, err := readEntrySum(filepath.Join(dir, "e.npy"))
	if err != nil || s != (entrySum{Key: "k", Rows: 3, Cols: 2, CRC32C: s.CRC32C}) || s.CRC32C == 0 {
		t.Errorf("sidecar %+v, %v", s, err)
	}
}

// pinHolderEnv makes the test binary a process that pins an entry of the
// cache in the folder it names and holds the pin until killed.
const pinHolderEnv = "ITSCOPE_TEST_PIN_HOLDER"

func TestPinHolderChild(t *testing.T) {
	dir := os.Getenv(pinHolderEnv)
	if dir == "" {
		t.Skip("run by TestCachePinHeldByAnotherProcess")
	}
	cache := &FeatureCache{Dir: dir}
	if _, err := cache.Pin(filepath.Join(dir, "held.npy")); err != nil {
		t.Fatal(err)
	}
	fmt.Println("pinned")
	select {} // until killed
}

// A pin made by another process protects its entry while that process
// lives; once it is killed, the next eviction removes the pin and may evict
// the entry.
func TestCachePinHeldByAnotherProcess(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("pins are told alive by file locks, which this system lacks")
	}
	dir := t.TempDir()
	cache, err := OpenFeatureCache(dir, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"held.npy", "free.npy"} {
		if err := npy.WriteFile(filepath.Join(dir, name), []float32{1, 2}, 1, 2); err != nil {
			t.Fatal(err)
		}
	}
	child := exec.Command(os.Args[0], "-test.run=^TestPinHolderChild$")
	child.Env = append(os.Environ(), pinHolderEnv+"="+dir)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "pinned\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	removed, err := cache.Prune(PruneOptions{MaxBytes: 0})
	if err != nil || len(removed) != 1 || removed[0].Name != "free.npy" {
		t.Fatalf("with the child alive, prune removed %+v (%v), want free.npy alone", removed, err)
	}
	child.Process.Kill()
	child.Wait()
	removed, err = cache.Prune(PruneOptions{MaxBytes: 0})
	if err != nil || len(removed) != 1 || removed[0].Name != "held.npy" {
		t.Errorf("after the child was killed, prune removed %+v (%v), want held.npy", removed, err)
	}
}

// BenchmarkVerifyEntry measures what checking an entry's checksum on open
// costs: one sequential read of a 64 MiB entry (from the page cache here)
// and its CRC-32C.
func BenchmarkVerifyEntry(b *testing.B) {
	dir := b.TempDir()
	const rows, cols = 1024, 16384
	w, err := createEntry(filepath.Join(dir, "e.npy"), "k", rows, cols)
	if err != nil {
		b.Fatal(err)
	}
	row := make([]float32, cols)
	for i := range rows {
		for c := range row {
			row[c] = float32(i*c%977) / 977
		}
		if err := w.WriteRows(i, row); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	m, err := npy.Open(filepath.Join(dir, "e.npy"))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.SetBytes(4 * rows * cols)
	for b.Loop() {
		if err := verifyEntry(m); err != nil {
			b.Fatal(err)
		}
	}
}
