package serve

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeFolder writes a folder dataset of n 8x8 PNGs (img00.png, ...) with
// one response per image in responses.csv.
func writeFolder(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	var resp strings.Builder
	for k := range n {
		writeFile(t, filepath.Join(dir, "images", fmt.Sprintf("img%02d.png", k)), pngBytes(t, k))
		fmt.Fprintf(&resp, "%d\n", k+1)
	}
	writeFile(t, filepath.Join(dir, "responses.csv"), []byte(resp.String()))
}

func pngBytes(t *testing.T, k int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for i := range 64 {
		img.Set(i%8, i/8, color.NRGBA{uint8(10 * k), uint8(i), 7, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}

// TestHostileDatasetsOverSSH opens, from a real SSH session, datasets made
// to leak files outside the data root, hang or kill the loader, or drive
// the viewer's terminal. Each gets a clear message; after each a second
// session still works; no byte of /etc/passwd or of a secret outside the
// root, and no raw escape sequence from a file name, reaches the channel.
func TestHostileDatasetsOverSSH(t *testing.T) {
	outside := t.TempDir()
	const secret = "SECRET-OUTSIDE-THE-ROOT:x:0:0"
	secretFile := filepath.Join(outside, "secret.csv")
	writeFile(t, secretFile, []byte(secret+"\n"))
	copyFile(t, "../../testdata/data/nx414_outside.h5", filepath.Join(outside, "nx414_outside.h5"))
	passwd, _ := os.ReadFile("/etc/passwd")
	firstPasswdLine, _, _ := strings.Cut(string(passwd), "\n")

	var root string
	ts := startServer(t, func(c *Config) { root = c.DataRoot })
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	const evil = "img\x1b]0;PWNED\x07\x1b[2J.png"
	tests := []struct {
		name, spec string
		setup      func()
		want       string
	}{
		{"responses.csv -> /etc/passwd", "pw", func() {
			writeFolder(t, filepath.Join(root, "pw"), 6)
			os.Remove(filepath.Join(root, "pw", "responses.csv"))
			link("/etc/passwd", "pw/responses.csv")
		}, "responses.csv: not found or outside the dataset folder"},
		{"split.csv -> a secret outside", "split", func() {
			writeFolder(t, filepath.Join(root, "split"), 6)
			link(secretFile, "split/split.csv")
		}, "split.csv: not found or outside the dataset folder"},
		{"image -> /dev/zero", "zero", func() {
			writeFolder(t, filepath.Join(root, "zero"), 6)
			os.Remove(filepath.Join(root, "zero", "images", "img02.png"))
			link("/dev/zero", "zero/images/img02.png")
		}, "img02.png: not found or outside the dataset folder"},
		{"image is a FIFO", "fifo", func() {
			writeFolder(t, filepath.Join(root, "fifo"), 6)
			path := filepath.Join(root, "fifo", "images", "img03.png")
			os.Remove(path)
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "img03.png: want a regular file, found a named pipe (FIFO)"},
		{"folder linked outside the root", "away", func() { link(outside, "away") },
			"dataset away: not found or outside the data root"},
		{"typed /etc", "/etc", func() {}, "dataset /etc: not found or outside the data root"},
		{"typed ../", "../" + filepath.Base(outside), func() {}, "not found or outside the data root"},
		{"HDF5 external link", "link.h5", func() {
			copyFile(t, "../../testdata/data/nx414_external_link.h5", filepath.Join(root, "link.h5"))
		}, "found an external link (refused"},
		{"HDF5 virtual dataset", "virtual.h5", func() {
			copyFile(t, "../../testdata/data/nx414_virtual.h5", filepath.Join(root, "virtual.h5"))
		}, "found a virtual dataset (refused"},
		{"file name with terminal escapes", "esc", func() {
			writeFolder(t, filepath.Join(root, "esc"), 5)
			writeFile(t, filepath.Join(root, "esc", "images", evil), pngBytes(t, 9))
			// Six images now: one more response.
			writeFile(t, filepath.Join(root, "esc", "responses.csv"), []byte("1\n2\n3\n4\n5\n6\n"))
		}, `img\x1b]0;PWNED\a\x1b[2J.png`},
	}
	for _, tt := range tests {
		tt.setup()
		term := openTerminal(t, ts.addr, ts.client, 160, 30)
		term.waitFor(t, "▶ Datasets", 10*time.Second)
		term.send(t, "o")
		time.Sleep(200 * time.Millisecond)
		term.send(t, tt.spec+"\r")
		term.waitFor(t, tt.want, 15*time.Second)
		raw := term.out.String()
		for _, leak := range []string{secret, firstPasswdLine, "\x1b]0;PWNED", "PWNED\x07"} {
			if leak != "" && strings.Contains(raw, leak) {
				t.Errorf("%s: the channel carried %q", tt.name, leak)
			}
		}
		term.close()

		// The server still serves.
		next := openTerminal(t, ts.addr, ts.client, 100, 30)
		next.waitFor(t, "▶ Datasets", 10*time.Second)
		next.close()
	}
}
