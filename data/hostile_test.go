package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The hostile inputs of issues 14 and 15: each must give a clear error, with
// no panic, no hang, nothing of a file outside the root in the message, and
// (for the memory cases) a small peak RSS in a child process.

// secret is the content of files outside the dataset that a link points at;
// no error may quote it.
const secret = "root:x:0:0:SECRET-LINE:/root:/bin/bash"

// outsideFile writes a file outside every dataset folder and returns its path.
func outsideFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	write(t, p, content)
	return p
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// openWithin opens spec (with OpenIn when root is not nil) and fails the
// test if that takes more than 20 s: a FIFO must not block the loader.
func openWithin(t *testing.T, root *os.Root, spec string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		var err error
		if root != nil {
			_, err = OpenIn(root, spec)
		} else {
			_, err = Open(spec)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: still opening after 20 s (blocked on a FIFO?)", spec)
		return nil
	}
}

func checkHostile(t *testing.T, name string, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", name)
		return
	}
	msg := err.Error()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not contain %q", name, msg, w)
		}
	}
	if strings.Contains(msg, "SECRET") || strings.Contains(msg, "7777") {
		t.Errorf("%s: error %q quotes a file outside the root", name, msg)
	}
	if strings.ContainsAny(msg, "\x1b\x07\r\n") {
		t.Errorf("%s: error %q holds control characters", name, msg)
	}
}

func TestHostileLinksLeavingTheFolder(t *testing.T) {
	secretFile := outsideFile(t, "passwd", []byte(secret+"\n"))
	outsidePNG := outsideFile(t, "x.png", forgedPNG(8, 8))
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		wants []string
	}{
		{"responses.csv -> passwd", func(dir string) {
			symlink(t, secretFile, filepath.Join(dir, "responses.csv"))
		}, []string{"responses.csv: not found or outside the dataset folder"}},
		{"responses.csv -> ../../passwd (relative)", func(dir string) {
			rel, _ := filepath.Rel(dir, secretFile)
			symlink(t, rel, filepath.Join(dir, "responses.csv"))
		}, []string{"responses.csv: not found or outside the dataset folder"}},
		{"split.csv -> shadow", func(dir string) {
			symlink(t, secretFile, filepath.Join(dir, "split.csv"))
		}, []string{"split.csv: not found or outside the dataset folder"}},
		{"objects.csv -> shadow", func(dir string) {
			symlink(t, secretFile, filepath.Join(dir, "objects.csv"))
		}, []string{"objects.csv: not found or outside the dataset folder"}},
		{"image -> outside PNG", func(dir string) {
			symlink(t, outsidePNG, filepath.Join(dir, "images", "img02.png"))
		}, []string{"img02.png: not found or outside the dataset folder"}},
		{"image -> /dev/zero", func(dir string) {
			symlink(t, "/dev/zero", filepath.Join(dir, "images", "img02.png"))
		}, []string{"img02.png: not found or outside the dataset folder"}},
		{"images/ -> outside folder", func(dir string) {
			os.RemoveAll(filepath.Join(dir, "images"))
			symlink(t, filepath.Dir(outsidePNG), filepath.Join(dir, "images"))
		}, []string{"images: not found or outside the dataset folder"}},
		{"responses.npy -> outside", func(dir string) {
			symlink(t, secretFile, filepath.Join(dir, "responses.npy"))
		}, []string{"responses.npy: not found or outside the dataset folder"}},
	} {
		dir := userFolder(t, 6, nil, 0, 0, map[string]string{"responses.csv": "1\n2\n3\n4\n5\n6\n"})
		tc.setup(dir)
		checkHostile(t, tc.name, openWithin(t, nil, dir), tc.wants...)
	}
}

func TestHostileSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		wants []string
	}{
		{"FIFO image", func(dir string) { mkfifo(t, filepath.Join(dir, "images", "img03.png")) },
			[]string{"img03.png: want a regular file, found a named pipe (FIFO)"}},
		{"FIFO responses.csv", func(dir string) { mkfifo(t, filepath.Join(dir, "responses.csv")) },
			[]string{"responses.csv: want a regular file, found a named pipe (FIFO)"}},
		{"FIFO split.csv", func(dir string) { mkfifo(t, filepath.Join(dir, "split.csv")) },
			[]string{"split.csv: want a regular file, found a named pipe (FIFO)"}},
		{"FIFO images/", func(dir string) {
			os.RemoveAll(filepath.Join(dir, "images"))
			mkfifo(t, filepath.Join(dir, "images"))
		}, []string{"images: not found or outside the dataset folder"}},
		{"image links to a folder", func(dir string) {
			symlink(t, "..", filepath.Join(dir, "images", "img01.png"))
		}, []string{"img01.png: want a regular file, found a folder"}},
	} {
		dir := userFolder(t, 6, nil, 0, 0, map[string]string{"responses.csv": "1\n2\n3\n4\n5\n6\n"})
		tc.setup(dir)
		checkHostile(t, tc.name, openWithin(t, nil, dir), tc.wants...)
	}
	fifo := filepath.Join(t.TempDir(), "IT_data.h5")
	mkfifo(t, fifo)
	checkHostile(t, "FIFO as the dataset", openWithin(t, nil, fifo), "want a regular file, found a named pipe (FIFO)")
	checkHostile(t, "/dev/zero as the dataset", openWithin(t, nil, "/dev/zero"), "/dev/zero: want a regular file, found a device")
	// A device inside a root (mknod needs privileges a test must not
	// assume, so the root is /dev itself).
	dev, err := os.OpenRoot("/dev")
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	_, err = readBounded(dev, "zero", "images/zero.png", maxImageFileBytes)
	checkHostile(t, "device in the root", err, "images/zero.png: want a regular file, found a device")
}

// Under a data root, a missing name, a link leading outside and ".." get the
// same message: nothing tells a user which paths exist outside.
func TestOpenInNoOracle(t *testing.T) {
	rootDir := t.TempDir()
	ds := userFolder(t, 6, seq(18), 6, 3, nil)
	if err := os.Rename(ds, filepath.Join(rootDir, "ds")); err != nil {
		t.Fatal(err)
	}
	other := userFolder(t, 6, seq(18), 6, 3, nil)
	if err := os.Rename(other, filepath.Join(rootDir, "other")); err != nil {
		t.Fatal(err)
	}
	secretFile := outsideFile(t, "IT_data.h5", []byte(secret))
	symlink(t, secretFile, filepath.Join(rootDir, "exists.h5"))
	symlink(t, filepath.Join(filepath.Dir(secretFile), "missing.h5"), filepath.Join(rootDir, "dangling.h5"))
	// ds/images/img01.png leads to a sibling dataset: inside the data root,
	// outside the dataset folder.
	symlink(t, "../../other/images/img01.png", filepath.Join(rootDir, "ds", "images", "img01.png"))
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, spec := range []string{"missing.h5", "exists.h5", "dangling.h5", "../" + filepath.Base(filepath.Dir(secretFile)) + "/IT_data.h5", secretFile} {
		err := openWithin(t, root, spec)
		checkHostile(t, spec, err, "dataset "+spec+": not found or outside the data root")
		if err != nil && err.Error() != "dataset "+spec+": not found or outside the data root" {
			t.Errorf("%s: error %q; want exactly the shared message", spec, err)
		}
	}
	checkHostile(t, "sibling dataset's image", openWithin(t, root, "ds"), "img01.png: not found or outside the dataset folder")
	if _, err := OpenIn(root, "other"); err != nil {
		t.Errorf("a dataset inside the root: %v", err)
	}
}

func TestHostileEscapeSequences(t *testing.T) {
	evil := "img\x1b]0;PWNED\x07\x1b[2J.png"
	dir := userFolder(t, 5, seq(18), 6, 3, nil)
	write(t, filepath.Join(dir, "images", evil), []byte("not an image"))
	// "img\x1b..." sorts before "img00.png": its failure is the one reported.
	checkHostile(t, "file name with terminal escapes", openWithin(t, nil, dir), `img\x1b]0;PWNED\a\x1b[2J.png`, "does not decode")

	missing := filepath.Join(t.TempDir(), "x\x1b[2J\x07.h5")
	checkHostile(t, "missing path with escapes", openWithin(t, nil, missing), `x\x1b[2J\a.h5`, "not demo, demo:SESSION")

	long := strings.Repeat("A", 30) + "\x1b[2J" + strings.Repeat("B", 60)
	dir = userFolder(t, 6, seq(18), 6, 3, map[string]string{"split.csv": "image,split\nimg00.png," + long +
		"\nimg01.png,val\nimg02.png,val\nimg03.png,val\nimg04.png,train\nimg05.png,train\n"})
	err := openWithin(t, nil, dir)
	// 40 characters: 30 A, ESC, "[2J", 6 B.
	checkHostile(t, "split label with escapes", err, `found "`+strings.Repeat("A", 30)+`\x1b[2JBBBBBB"...`)
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain name.png", "plain name.png"},
		{"caf\u00e9 \u732b.jpg", "caf\u00e9 \u732b.jpg"},
		{"img\x1b]0;PWNED\x07\x1b[2J.png", `img\x1b]0;PWNED\a\x1b[2J.png`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"del\x7f c1\u009b", `del\x7f c1\u009b`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"", ""},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQuoteContentBounded(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"short", `"short"`},
		{strings.Repeat("x", 40), `"` + strings.Repeat("x", 40) + `"`},
		{strings.Repeat("x", 41), `"` + strings.Repeat("x", 40) + `"...`},
		{strings.Repeat("\u00e9", 50), `"` + strings.Repeat("\u00e9", 40) + `"...`},
		{"\x1b[31mred", `"\x1b[31mred"`},
	} {
		if got := quoteContent(tc.in); got != tc.want {
			t.Errorf("quoteContent(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestResponsesCSVFirstRow(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		wants     []string
	}{
		{"typo in first data row", "1.2,3x,4\n5,6,7\n8,9,10\n", []string{"line 1, column 2", `found "3x"`, "a header row has no numeric field; this row has 2"}},
		{"first field typo", "1.2x,3,4\n5,6,7\n8,9,10\n", []string{"line 1, column 1", `found "1.2x"`}},
		{"more rows than images", "1\n2\n3\n4\n", []string{"line 4: want 3 rows (one per image in images/), found more"}},
		{"a line of junk", "1\n2\n" + strings.Repeat("\x00", maxCSVLine+10), []string{"want lines of at most 1.0 MiB"}},
	} {
		_, _, err := parseResponsesCSV("responses.csv", strings.NewReader(tc.csv), 3)
		checkHostile(t, tc.name, err, tc.wants...)
	}
	// A header (no numeric field) is still skipped.
	resp, neurons, err := parseResponsesCSV("responses.csv", strings.NewReader("n1,n2\n1,2\n3,4\n5,6\n"), 3)
	if err != nil || neurons != 2 || len(resp) != 6 || resp[5] != 6 {
		t.Errorf("header row: %v %d %v", resp, neurons, err)
	}
}

func TestSplitsNeedThreeEvalImages(t *testing.T) {
	dir := userFolder(t, 3, seq(3), 3, 1, nil)
	checkHostile(t, "3 images, default split", openWithin(t, nil, dir), "need at least 4 images for a train/val split (3 for val, 1 for train), found 3")
	dir = userFolder(t, 6, seq(6), 6, 1, map[string]string{
		"split.csv": "image,split\nimg00.png,train\nimg01.png,val\nimg02.png,val\nimg03.png,val\nimg04.png,test\nimg05.png,test\n"})
	checkHostile(t, "2 test images", openWithin(t, nil, dir), "split.csv: want at least 3 test images", "found 2")
	dir = userFolder(t, 4, seq(4), 4, 1, nil)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if val, _ := d.SplitByName(Val); len(val.Indices) != 3 {
		t.Errorf("4 images: val %v, want 3 images", val.Indices)
	}
}

// Trailing bytes after a PNG's IEND are ignored, as Pillow ignores them;
// the padding that matters, a file padded to gigabytes, is refused by size
// before it is read (TestHostileMemory).
func TestPNGTrailingJunkIgnored(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	b := append(buf.Bytes(), strings.Repeat("junk", 1000)...)
	if _, err := DecodeImage(b); err != nil {
		t.Errorf("PNG with junk after IEND: %v", err)
	}
}

// The decode budget lets decodes run together only while their weights fit.
func TestDecodeBudgetBoundsConcurrentWeight(t *testing.T) {
	w := newWeighted(1000)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	for k := range 16 {
		wg.Go(func() {
			n := int64(300 + 100*(k%3)) // 300, 400, 500
			if k == 5 {
				n = 5000 // above the capacity: runs alone
			}
			w.acquire(n)
			c := cur.Add(min(n, 1000))
			for {
				p := peak.Load()
				if c <= p || peak.CompareAndSwap(p, c) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			cur.Add(-min(n, 1000))
			w.release(n)
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 1000 || p < 500 {
		t.Errorf("peak weight held %d, want 500..1000", p)
	}
	// An 8192 x 8192 16-bit RGBA PNG weighs 64 Mi pixels x (8 + 4) bytes.
	cfg := image.Config{ColorModel: color.NRGBA64Model, Width: 8192, Height: 8192}
	if got := decodeWeight(cfg, 10); got != 8192*8192*12+10 {
		t.Errorf("decodeWeight = %d", got)
	}
}

// childRSS runs this test binary's TestHostileChild on spec in a child
// process, with env added to its environment, and returns its output and two peaks in bytes: maxrss from
// wait4's rusage, and the child's own VmHWM. Go starts children with vfork,
// and Linux carries the parent's high-water mark into the child at exec,
// so maxrss is at least the parent's peak (large under -race); VmHWM,
// which the child reads from /proc/self/status before exiting, counts the
// child's own memory only.
func childRSS(t *testing.T, spec string, env ...string) (out string, maxrss, hwm int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileChild$")
	cmd.Env = append(append(os.Environ(), env...), "ITSCOPE_HOSTILE_SPEC="+spec)
	b, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	out = string(b)
	if _, rest, ok := strings.Cut(out, "VmHWM-KB: "); ok {
		fmt.Sscan(rest, &hwm)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return out, ru.Maxrss * 1024, hwm * 1024 // Linux reports kilobytes
}

// selfHWM is this process's VmHWM in bytes, or 0 where /proc lacks it.
func selfHWM() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(string(status), "VmHWM:")
	var kb int64
	if ok {
		fmt.Sscan(rest, &kb)
	}
	return kb * 1024
}

// TestHostileChild is the child of childRSS: it opens one dataset.
func TestHostileChild(t *testing.T) {
	spec := os.Getenv("ITSCOPE_HOSTILE_SPEC")
	if spec == "" {
		t.Skip("run by childRSS")
	}
	_, err := Open(spec)
	fmt.Printf("OPEN-ERROR: %v\nVmHWM-KB: %d\n", err, selfHWM()>>10)
}

// hostileRSSBudget is the peak RSS a child refusing a hostile file may
// reach: the test binary with libhdf5 loaded starts near 20 MB (more under
// -race).
const hostileRSSBudget = 150 << 20

func checkChild(t *testing.T, name, spec string, wants ...string) {
	t.Helper()
	out, maxrss, hwm := childRSS(t, spec)
	if !strings.Contains(out, "OPEN-ERROR: ") || strings.Contains(out, "OPEN-ERROR: <nil>") {
		t.Errorf("%s: child output %q, want an error", name, out)
		return
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: child output %q does not contain %q", name, out, w)
		}
	}
	checkPeak(t, name, maxrss, hwm, hostileRSSBudget)
}

// checkPeak asserts a child's peaks: its own VmHWM within budget, and
// rusage's maxrss within budget unless the parent's own peak, which maxrss
// inherits, is already above it.
func checkPeak(t *testing.T, name string, maxrss, hwm, budget int64) {
	t.Helper()
	if hwm == 0 || hwm > budget {
		t.Errorf("%s: child VmHWM %d MB, want 1 to %d MB", name, hwm>>20, budget>>20)
	}
	if parent := selfHWM(); maxrss > max(budget, parent+(8<<20)) {
		t.Errorf("%s: child maxrss %d MB, want at most %d MB (parent's peak %d MB)", name, maxrss>>20, budget>>20, parent>>20)
	}
	t.Logf("%s: child peak RSS %.1f MB (maxrss %.1f MB)", name, float64(hwm)/(1<<20), float64(maxrss)/(1<<20))
}

// padSparse truncates path up to size: a sparse file that reads as zeros.
func padSparse(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func TestHostileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := userFolder(t, 6, seq(18), 6, 3, nil)
	padSparse(t, filepath.Join(dir, "images", "img02.png"), 2<<30)
	checkChild(t, "PNG padded to 2 GB", dir, "img02.png: want a file of at most 128.0 MiB, found 2.0 GiB")

	dir = userFolder(t, 6, seq(18), 6, 3, nil)
	padSparse(t, filepath.Join(dir, "responses.npy"), 2<<30)
	checkChild(t, "responses.npy padded to 2 GB", dir, "responses.npy: want a file of at most 1.0 GiB, found 2.0 GiB")

	dir = userFolder(t, 6, nil, 0, 0, map[string]string{"responses.csv": "1\n2\n3\n4\n5\n6\n"})
	padSparse(t, filepath.Join(dir, "responses.csv"), 2<<30)
	checkChild(t, "responses.csv padded to 2 GB", dir, "responses.csv: want a file of at most 1.0 GiB, found 2.0 GiB")

	dir = userFolder(t, 6, nil, 0, 0, map[string]string{"responses.csv": "1\n2\n"})
	padSparse(t, filepath.Join(dir, "responses.csv"), 900<<20)
	checkChild(t, "responses.csv padded to 900 MB (under the cap)", dir, "responses.csv", "want lines of at most 1.0 MiB")

	dir = userFolder(t, 6, seq(18), 6, 3, nil)
	symlink(t, "/dev/zero", filepath.Join(dir, "images", "img04.png"))
	checkChild(t, "image -> /dev/zero", dir, "img04.png: not found or outside the dataset folder")
	checkChild(t, "/dev/zero as the dataset", "/dev/zero", "want a regular file, found a device")

	dir = userFolder(t, 6, seq(18), 6, 3, nil)
	write(t, filepath.Join(dir, "images", "img01.png"), forgedPNG(100000, 100000))
	checkChild(t, "PNG header of 100000 x 100000", dir, "img01.png", "want an image of 1 to 67108864 pixels")

	// The measure is real: a child that decodes a 4096 x 4096 PNG (16 MB
	// gray, 64 MB as RGBA) shows it. The image is generated pixel by pixel
	// so that the parent, whose high-water mark the vforked child inherits
	// at exec, stays small.
	dir = userFolder(t, 6, seq(18), 6, 3, nil)
	f, err := os.Create(filepath.Join(dir, "images", "img03.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, stripes{}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, maxrss, hwm := childRSS(t, dir)
	if !strings.Contains(out, "OPEN-ERROR: <nil>") || hwm < 70<<20 || maxrss < 70<<20 {
		t.Errorf("control: a child decoding a 4096 x 4096 PNG peaked at %d MB, maxrss %d MB (%s); want above 70 MB: the RSS measure is broken", hwm>>20, maxrss>>20, out)
	}
	t.Logf("control: child peak RSS %.1f MB (maxrss %.1f MB)", float64(hwm)/(1<<20), float64(maxrss)/(1<<20))
}

// stripes is a 4096 x 4096 gray image computed per pixel, holding no pixels.
type stripes struct{}

func (stripes) ColorModel() color.Model { return color.GrayModel }
func (stripes) Bounds() image.Rectangle { return image.Rect(0, 0, 4096, 4096) }
func (stripes) At(x, y int) color.Color { return color.Gray{uint8(x ^ y)} }

// bombRSSBudget is the peak RSS allowed to a child opening a folder of eight
// 8192 x 8192 16-bit RGBA PNGs. Each decode weighs 64 Mi pixels x (8 + 4)
// bytes = 768 MiB (the 512 MiB decoder image and the 256 MiB RGBA copy), so
// the 1 GiB decode budget runs them one at a time and at most 1 GiB is live.
// The collector lets the heap grow to twice its live data (GOGC=100) before
// it collects, and toRGBA's per-pixel colour conversion of 16-bit images
// allocates garbage at every pixel, so the heap legitimately reaches 2 x
// 1 GiB; the mutator keeps allocating while a collection is under way, up to
// one more decode (768 MiB), and freed pages stay resident until the
// scavenger returns them: 2 GiB + 768 MiB = 2.75 GiB (measured: 2321 and
// 2386 MiB in two runs).
// Without the budget the eight decode at once, one per core: measured
// 12.1 GB, as in the issue.
const bombRSSBudget = 2816 << 20

// The finding of issue 15: PNG decompression bombs decoded one per core, so
// a folder of eight 16-bit 8192 x 8192 PNGs took 11.8 GB at 8 cores. Open
// decodes every image of a folder in parallel (checkImages, one worker per
// GOMAXPROCS); a child with GOMAXPROCS=8 must stay within bombRSSBudget.
func TestHostilePNGBombsWithinDecodeBudget(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("decodes 4 GiB of pixels in a child process (not under -race, which multiplies memory)")
	}
	// A flat half-transparent 16-bit RGBA image compresses to about 500 KB;
	// every file is the same one.
	img := image.NewRGBA64(image.Rect(0, 0, 8192, 8192))
	copy(img.Pix, []byte{0x40, 0x00, 0x20, 0x00, 0x10, 0x00, 0x80, 0x00})
	for n := 8; n < len(img.Pix); n *= 2 {
		copy(img.Pix[n:], img.Pix[:n])
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	img = nil
	if cfg, err := png.DecodeConfig(bytes.NewReader(buf.Bytes())); err != nil || cfg.ColorModel != color.NRGBA64Model {
		t.Fatalf("bomb PNG: %v, colour model %v; want 16-bit RGBA", err, cfg.ColorModel)
	}
	dir := userFolder(t, 8, seq(8*3), 8, 3, nil)
	for k := range 8 {
		write(t, filepath.Join(dir, "images", fmt.Sprintf("img%02d.png", k)), buf.Bytes())
	}
	out, maxrss, hwm := childRSS(t, dir, "GOMAXPROCS=8")
	if !strings.Contains(out, "OPEN-ERROR: <nil>") {
		t.Fatalf("child output %q, want the folder to open", out)
	}
	// The measure is real: one decode alone holds 768 MiB.
	if hwm < 500<<20 {
		t.Errorf("child decoding eight 8192 x 8192 PNGs peaked at %d MB; want above 500 MB: the images were not decoded or the RSS measure is broken", hwm>>20)
	}
	checkPeak(t, "eight 8192 x 8192 16-bit PNGs, GOMAXPROCS=8", maxrss, hwm, bombRSSBudget)
	t.Logf("PNG of %d bytes", buf.Len())
}
