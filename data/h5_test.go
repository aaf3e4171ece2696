//go:build cgo

package data

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type nx414Expected struct {
	File    string
	Neurons int
	Splits  map[string]struct {
		N        int
		Objects  []string
		Stimulus [][5]float64 // i, c, y, x, value
		RGB      [][5]int     // i, c, y, x, uint8
		Spikes   [][3]float64 // i, neuron, value
	}
}

func TestOpenNX414(t *testing.T) {
	raw, err := os.ReadFile("../testdata/data/nx414_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]nx414Expected
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	hashes := map[string]bool{}
	for variant, want := range all {
		d, err := Open(filepath.Join("../testdata/data", want.File))
		if err != nil {
			t.Fatalf("%s: %v", variant, err)
		}
		if d.NumNeurons != want.Neurons {
			t.Errorf("%s: %d neurons, want %d", variant, d.NumNeurons, want.Neurons)
		}
		if got := len(d.Splits); got != 3 {
			t.Fatalf("%s: %d splits, want 3", variant, got)
		}
		start := 0
		for k, name := range []string{Train, Val, Test} {
			s, e := d.Splits[k], want.Splits[name]
			if s.Name != name || len(s.Indices) != e.N || s.Indices[0] != start || s.HasResponses != (name != Test) {
				t.Errorf("%s: split %d = %s n=%d first=%d responses=%v; want %s n=%d first=%d", variant, k, s.Name, len(s.Indices), s.Indices[0], s.HasResponses, name, e.N, start)
			}
			if got := d.Objects[start : start+e.N]; !slices.Equal(got, e.Objects) {
				t.Errorf("%s %s: objects %q, want %q", variant, name, got, e.Objects)
			}
			for _, sp := range e.Stimulus {
				i, c, y, x := int(sp[0]), int(sp[1]), int(sp[2]), int(sp[3])
				chw, nc, h, w, ok := d.Images.Normalized(start + i)
				if !ok || nc != 3 || h != 224 || w != 224 {
					t.Fatalf("%s: Normalized: ok=%v shape (%d,%d,%d)", variant, ok, nc, h, w)
				}
				if got := chw[(c*h+y)*w+x]; got != float32(sp[4]) {
					t.Errorf("%s %s: stimulus[%d,%d,%d,%d] = %v, want %v", variant, name, i, c, y, x, got, float32(sp[4]))
				}
			}
			for _, sp := range e.RGB {
				img, err := d.Images.RGB(start + sp[0])
				if err != nil {
					t.Fatal(err)
				}
				px := img.(*image.RGBA).Pix[sp[2]*img.(*image.RGBA).Stride+4*sp[3]+sp[1]]
				if int(px) != sp[4] {
					t.Errorf("%s %s: RGB image %d channel %d at (%d,%d) = %d, want %d", variant, name, sp[0], sp[1], sp[3], sp[2], px, sp[4])
				}
			}
			for _, sp := range e.Spikes {
				got := d.ResponseRow(start + int(sp[0]))[int(sp[1])]
				if got != float32(sp[2]) {
					t.Errorf("%s %s: spikes[%d,%d] = %v, want %v", variant, name, int(sp[0]), int(sp[1]), got, float32(sp[2]))
				}
			}
			start += e.N
		}
		if len(d.Hash) != 64 || !strings.Contains(d.Description, "Majaj") {
			t.Errorf("%s: hash %q, description %q", variant, d.Hash, d.Description)
		}
		if again, err := Open(filepath.Join("../testdata/data", want.File)); err != nil {
			t.Error(err)
		} else if again.Hash != d.Hash {
			t.Errorf("%s: reopened hash %s, want %s", variant, again.Hash, d.Hash)
		}
		hashes[d.Hash] = true
	}
	if len(hashes) != len(all) {
		t.Errorf("%d distinct hashes for %d files", len(hashes), len(all))
	}
}

func TestOpenNX414Errors(t *testing.T) {
	dir := t.TempDir()
	fixed, err := os.ReadFile("../testdata/data/nx414_fixed.h5")
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "cut.h5")
	if err := os.WriteFile(truncated, fixed[:len(fixed)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	notH5 := filepath.Join(dir, "IT_data.h5")
	if err := os.WriteFile(notH5, []byte("this is not HDF5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"../testdata/data/nx414_missing_key.h5", []string{"nx414_missing_key.h5", `missing key "spikes_val"`}},
		{"../testdata/data/nx414_bad_shape.h5", []string{"nx414_bad_shape.h5", `key "spikes_val"`, "want shape (3,168)", "found [3 100]"}},
		{"../testdata/data/nx414_bad_type.h5", []string{"nx414_bad_type.h5", `key "object_train": want strings, found HDF5 integer data`}},
		// A 10 kB file whose shape asks for 600 GB: once a fatal out-of-memory.
		{"../testdata/data/nx414_forged_shape.h5", []string{"nx414_forged_shape.h5", `key "stimulus_train"`, "shape [1000000 3 224 224] needs 602112000000 bytes as float32, but the file stores only 0 bytes"}},
		{"../testdata/data/nx414_empty_train.h5", []string{"nx414_empty_train.h5", `key "stimulus_train": want at least one image, found shape [0 3 224 224]`}},
		{truncated, []string{"cut.h5", "damaged or truncated file"}},
		{notH5, []string{"IT_data.h5", "not an HDF5 file"}},
	} {
		checkOpenError(t, tc.path, tc.path, tc.want)
	}
}

func TestNetworkInputNormalized(t *testing.T) {
	d, err := Open("../testdata/data/nx414_vlen.h5")
	if err != nil {
		t.Fatal(err)
	}
	chw, _, _, _, _ := d.Images.Normalized(2)
	got, err := NetworkInput(d, 2, 224, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, chw) {
		t.Error("224: normalised stimulus not passed through unchanged")
	}
	small, err := NetworkInput(d, 2, 112, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's images are 8x8-pixel blocks: halving, output (18,10)
	// weighs input x 35..38, y 19..22, all inside one block.
	if len(small) != 3*112*112 {
		t.Fatalf("112: %d values", len(small))
	}
	for _, c := range []int{0, 2} {
		g := small[c*112*112+10*112+18]
		w := chw[c*224*224+21*224+37]
		if math.Abs(float64(g-w)) > 1e-5 {
			t.Errorf("112: channel %d at (18,10) = %v, want block value %v", c, g, w)
		}
	}
}
