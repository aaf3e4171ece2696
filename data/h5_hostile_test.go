//go:build cgo

package data

import (
	"os"
	"path/filepath"
	"testing"
)

// Hostile NX-414 files from testdata/data/make_nx414_hostile.py: each is
// refused before anything outside it is read or anything it merely
// declares is allocated.
func TestHostileNX414(t *testing.T) {
	for _, tc := range []struct {
		file  string
		wants []string
	}{
		{"nx414_wide_labels.h5", []string{`key "object_train"`, "want elements of 1 to 4096 bytes, found 1000000000-byte elements"}},
		{"nx414_external_link.h5", []string{`key "stimulus_train"`, "found an external link (refused: it names another file)"}},
		{"nx414_virtual.h5", []string{`key "stimulus_train"`, "found a virtual dataset (refused: its values come from other files)"}},
		{"nx414_external_raw.h5", []string{`key "spikes_train"`, "found raw data in external files (refused)"}},
		{"nx414_int_stimuli.h5", []string{`key "stimulus_train"`, "want float32 ImageNet-normalised stimuli, found HDF5 integer data"}},
		{"nx414_nan_stimuli.h5", []string{`key "stimulus_val"`, "want finite stimuli, found NaN in image 1 (number 5 of the dataset) at channel 2, y 3, x 1"}},
		{"nx414_inf_stimuli.h5", []string{`key "stimulus_train"`, "found +Inf in image 2 (number 2 of the dataset) at channel 0, y 1, x 2"}},
		{"nx414_small_val.h5", []string{`key "stimulus_val"`, "want at least 3 val images", "found 2"}},
	} {
		path := filepath.Join("../testdata/data", tc.file)
		checkHostile(t, tc.file, openWithin(t, nil, path), append(tc.wants, tc.file)...)
	}
	// The control: the link target itself opens as HDF5 (and lacks keys).
	checkHostile(t, "outside", openWithin(t, nil, "../testdata/data/nx414_outside.h5"), `missing key "stimulus_val"`)
}

func TestHostileNX414Memory(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	checkChild(t, "labels of 10^9 bytes", "../testdata/data/nx414_wide_labels.h5", "1000000000-byte elements")
	checkChild(t, "shape of 600 GB, never written", "../testdata/data/nx414_forged_shape.h5", "file stores only 0 bytes")
}

// Under a data root, an .h5 is opened through the root and handed to
// libhdf5 as the open file: a link leading outside is refused, one inside
// is followed.
func TestOpenInNX414(t *testing.T) {
	rootDir := t.TempDir()
	raw, err := os.ReadFile("../testdata/data/nx414_vlen.h5")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(rootDir, "IT_data.h5"), raw)
	symlink(t, "IT_data.h5", filepath.Join(rootDir, "alias.h5"))
	abs, _ := filepath.Abs("../testdata/data/nx414_vlen.h5")
	symlink(t, abs, filepath.Join(rootDir, "outside.h5"))
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, spec := range []string{"IT_data.h5", "alias.h5"} {
		d, err := OpenIn(root, spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if d.Name != spec || d.Images.Len() != 12 {
			t.Errorf("%s: name %q, %d images; want %q, 12", spec, d.Name, d.Images.Len(), spec)
		}
	}
	checkHostile(t, "outside.h5", openWithin(t, root, "outside.h5"), "dataset outside.h5: not found or outside the data root")
}
