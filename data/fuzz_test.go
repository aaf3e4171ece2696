package data

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets below feed damaged user files to each parser: every one
// must return a value or an error, never panic or hang. Their seeds are the
// committed fixtures; crashers found by `go test -fuzz` are kept in
// testdata/fuzz/<target>/ and run with every `go test`.

func readSeeds(f *testing.F, paths ...string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzResponsesCSV(f *testing.F) {
	f.Add([]byte("n1,n2\n0, 0.5\n1,1.5\n2,2e1\n"), uint8(3))
	f.Add([]byte("\ufeff1,2\r\n\r\n3,4\r\n"), uint8(2))
	f.Add([]byte("1,2\n3,\"4\n5\"\n"), uint8(2))
	f.Add([]byte("NaN,1e39\n-Inf,x\n"), uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, nImages uint8) {
		n := int(nImages%8) + 1
		resp, neurons, err := parseResponsesCSV("responses.csv", bytes.NewReader(raw), n)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "responses.csv: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if neurons < 1 || len(resp) != n*neurons {
			t.Fatalf("%d values for %d images x %d neurons", len(resp), n, neurons)
		}
	})
}

func FuzzLabelCSV(f *testing.F) {
	f.Add([]byte("image,split\na.png,train\nb.png,val\nc.png,test\n"))
	f.Add([]byte("\ufeffimage,split\r\n c.png, val\r\n\r\na.png,train\r\nb.png,train\r\n"))
	f.Add([]byte("image,split\na.png,train,extra\n\"b.png\nc\",val\n"))
	names := []string{"a.png", "b.png", "c.png"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		labels, err := parseLabelCSV("split.csv", bytes.NewReader(raw), "split", names)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "split.csv: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(labels) != len(names) {
			t.Fatalf("%d labels for %d images", len(labels), len(names))
		}
	})
}

var fuzzJPEGSeeds = []string{
	"b420_16x16.jpg", "b422_17x9.jpg", "b444_8x8.jpg", "b444_24x8.jpg", "gray_9x7.jpg", "prog420_16x16.jpg",
}

// FuzzJPEGDecoder drives jpeg.go without DecodeImage's recover and without
// Go's decoder vetting the file first, so that its own bounds are tested.
func FuzzJPEGDecoder(f *testing.F) {
	for _, name := range fuzzJPEGSeeds {
		for _, b := range readSeeds(f, filepath.Join("../testdata/data/fuzz_jpeg", name)) {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if claimsOver(b, 1<<16) {
			// A forged size makes the decoder fill seconds of zero blocks
			// (as libjpeg does): correct, but it starves the fuzzer.
			t.Skip()
		}
		d := &jpegDecoder{data: b, adobe: -1}
		img, err := d.decode()
		if err == nil && (img == nil || img.Rect != image.Rect(0, 0, d.width, d.height)) {
			t.Fatalf("no error, image %v for a %dx%d file", img, d.width, d.height)
		}
	})
}

// claimsOver reports whether any SOF0-2 marker in b gives a size over pixels.
func claimsOver(b []byte, pixels int) bool {
	for i := 0; i+9 <= len(b); i++ {
		if b[i] == 0xFF && b[i+1] >= 0xC0 && b[i+1] <= 0xC2 {
			h, w := int(b[i+5])<<8|int(b[i+6]), int(b[i+7])<<8|int(b[i+8])
			if w*h > pixels {
				return true
			}
		}
	}
	return false
}

// FuzzOpenFolder builds a folder of three images around fuzzed
// responses.csv, split.csv and objects.csv, and checks what Open returns.
func FuzzOpenFolder(f *testing.F) {
	img := readSeeds(f, "../testdata/data/fuzz_jpeg/gray_9x7.jpg")[0]
	f.Add([]byte("1,2\n3,4\n5,6\n"), []byte("image,split\na.jpg,train\nb.jpg,val\nc.jpg,test\n"), []byte("image,object\na.jpg,x\nb.jpg,y\nc.jpg,x\n"))
	f.Add([]byte("n\n1\n2\nNaN\n"), []byte("image,split\na.jpg,train\nb.jpg,val\nc.jpg,test\n"), []byte(""))
	f.Add([]byte("1\n2\n3\n"), []byte(""), []byte("image,object\n"))
	f.Fuzz(func(t *testing.T, responses, split, objects []byte) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "images"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a.jpg", "b.jpg", "c.jpg"} {
			if err := os.WriteFile(filepath.Join(dir, "images", name), img, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for name, b := range map[string][]byte{"responses.csv": responses, "split.csv": split, "objects.csv": objects} {
			if len(b) == 0 {
				continue // absent, as a user may leave split.csv and objects.csv out
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := Open(dir)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q does not name the folder or file", err)
			}
			return
		}
		if d.Images.Len() != 3 || d.NumNeurons < 1 || len(d.Responses) != 3*d.NumNeurons {
			t.Fatalf("%d images, %d neurons, %d responses", d.Images.Len(), d.NumNeurons, len(d.Responses))
		}
		seen := 0
		for _, s := range d.Splits {
			for _, i := range s.Indices {
				if i < 0 || i >= 3 {
					t.Fatalf("split %s has image %d", s.Name, i)
				}
				seen++
			}
		}
		if seen != 3 {
			t.Fatalf("splits cover %d images, want 3", seen)
		}
	})
}
