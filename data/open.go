package data

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// CanonicalSpec is the name a dataset spec opens under (Dataset.Name for the
// demo): "demo" is the default session, "demo:201025". Lists of specs compare
// canonical names so that one dataset is not offered twice.
func CanonicalSpec(spec string) string {
	if spec == "demo" {
		return "demo:" + DemoSessions[0]
	}
	return spec
}

// Open loads a dataset. spec is one of:
//
//   - "demo": the embedded macaque V4 session 201025 (89 neurons x 1200 images);
//   - "demo:SESSION": an embedded session, 201025 or 210325 (50 x 640, with repeats);
//   - a path to an NX-414 .h5 file (needs cgo and libhdf5);
//   - a path to a folder: images/ plus responses.npy or responses.csv, and
//     optionally split.csv and objects.csv (see openFolder).
func Open(spec string) (*Dataset, error) {
	if s, ok := strings.CutPrefix(CanonicalSpec(spec), "demo:"); ok {
		return openDemo(s)
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: not demo, demo:SESSION, an .h5 file or a folder: %v", spec, err)
	}
	if st.IsDir() {
		return openFolder(spec)
	}
	if err := checkHDF5Signature(spec); err != nil {
		return nil, err
	}
	return openH5(spec)
}

// hdf5Signature starts every HDF5 file, at offset 0 or, after a user block,
// at 512, 1024, 2048, ...
var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

func checkHDF5Signature(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	buf := make([]byte, len(hdf5Signature))
	for off := int64(0); off+int64(len(buf)) <= st.Size(); {
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			return fmt.Errorf("%s: %v", path, err)
		}
		if bytes.Equal(buf, hdf5Signature) {
			return nil
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return fmt.Errorf("%s: not an HDF5 file (no HDF5 signature); want an NX-414 .h5 file or a folder", path)
}
