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

// FuzzOpenFolder builds a folder of seven images (the fewest that hold a
// train image and val and test splits of MinEvalImages) around fuzzed
// responses.csv, split.csv and objects.csv, and checks what Open returns.
func FuzzOpenFolder(f *testing.F) {
	img := readSeeds(f, "../testdata/data/fuzz_jpeg/gray_9x7.jpg")[0]
	split := "image,split\na.jpg,train\nb.jpg,val\nc.jpg,test\nd.jpg,val\ne.jpg,test\nf.jpg,val\ng.jpg,test\n"
	f.Add([]byte("1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n13,14\n"), []byte(split),
		[]byte("image,object\na.jpg,x\nb.jpg,y\nc.jpg,x\nd.jpg,x\ne.jpg,x\nf.jpg,x\ng.jpg,x\n"))
	f.Add([]byte("n\n1\n2\n3\n4\nNaN\nNaN\nNaN\n"), []byte(split), []byte(""))
	f.Add([]byte("1\n2\n3\n4\n5\n6\n7\n"), []byte(""), []byte("image,object\n"))
	f.Add([]byte("1.2,3x,4\n"), []byte(""), []byte(""))
	f.Fuzz(func(t *testing.T, responses, split, objects []byte) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "images"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg", "g.jpg"} {
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
		if d.Images.Len() != 7 || d.NumNeurons < 1 || len(d.Responses) != 7*d.NumNeurons {
			t.Fatalf("%d images, %d neurons, %d responses", d.Images.Len(), d.NumNeurons, len(d.Responses))
		}
		seen := 0
		for _, s := range d.Splits {
			for _, i := range s.Indices {
				if i < 0 || i >= 7 {
					t.Fatalf("split %s has image %d", s.Name, i)
				}
				seen++
			}
			if s.Name != Train && len(s.Indices) < MinEvalImages {
				t.Fatalf("split %s of %d images", s.Name, len(s.Indices))
			}
		}
		if seen != 7 {
			t.Fatalf("splits cover %d images, want 7", seen)
		}
	})
}

// FuzzH5Checks feeds forged HDF5 header values (a shape, an element width,
// the stored bytes the layout claims, the file's size) to the checks that
// run before the loader allocates: whatever they accept must fit the file
// (within maxCompression) and maxH5DatasetBytes. libhdf5 itself is not
// fuzzed here: it parses the header, and a crash inside it is its own.
func FuzzH5Checks(f *testing.F) {
	f.Add(uint64(24), uint64(3), uint64(224), uint64(224), 4, int64(14450688), int64(746305))
	f.Add(uint64(1000000), uint64(3), uint64(224), uint64(224), 4, int64(0), int64(10240))
	f.Add(uint64(24), uint64(0), uint64(0), uint64(0), 1000000000, int64(0), int64(400000))
	f.Add(uint64(1)<<62, uint64(1)<<62, uint64(1), uint64(1), 4, int64(1)<<40, int64(1)<<40)
	f.Add(uint64(8), uint64(7), uint64(0), uint64(0), 7, int64(-1), int64(100))
	f.Fuzz(func(t *testing.T, d0, d1, d2, d3 uint64, width int, stored, fileSize int64) {
		var dims []uint64
		for _, d := range []uint64{d0, d1, d2, d3} {
			if d != 0 || len(dims) == 0 {
				dims = append(dims, d)
			}
		}
		shape, err := checkStored("f.h5", "k", dims, width, stored, fileSize)
		if err != nil {
			if !strings.HasPrefix(err.Error(), `f.h5: key "k": `) {
				t.Fatalf("error %q does not name the file and key", err)
			}
			return
		}
		if width < 1 || width > maxLabelBytes || len(shape) != len(dims) {
			t.Fatalf("accepted width %d, shape %v for dims %v", width, shape, dims)
		}
		need := uint64(width)
		for i, d := range shape {
			if d < 0 || uint64(d) != dims[i] {
				t.Fatalf("shape %v for dims %v", shape, dims)
			}
			need *= uint64(d)
		}
		if need > 0 && (need > maxH5DatasetBytes || stored > fileSize || need/maxCompression > uint64(stored)) {
			t.Fatalf("accepted %d bytes from %d stored in a file of %d", need, stored, fileSize)
		}
		if need := uint64(d0) * 3; checkVarLabels("f.h5", "k", need, fileSize) == nil && need > uint64(max(fileSize, 0)) {
			t.Fatalf("accepted %d bytes of labels in a file of %d", need, fileSize)
		}
	})
}
