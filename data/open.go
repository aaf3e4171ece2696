package data

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
//
// A folder is its own root: every file in it is opened through an os.Root
// for the folder, so a symbolic link leading out of it is refused. Only
// regular files are read.
func Open(spec string) (*Dataset, error) {
	if s, ok := strings.CutPrefix(CanonicalSpec(spec), "demo:"); ok {
		return openDemo(s)
	}
	f, err := os.OpenFile(spec, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: not demo, demo:SESSION, an .h5 file or a folder: %v", Printable(spec), Printable(err.Error()))
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		f.Close()
		root, err := os.OpenRoot(spec)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %v", Printable(spec), Printable(err.Error()))
		}
		return openFolder(spec, root)
	}
	if f, err = checkRegular(f, err, spec, "data root"); err != nil {
		return nil, err
	}
	return openH5File(spec, f)
}

// OpenIn loads a dataset confined to root, as a server given a data root
// does: spec is "demo", "demo:SESSION", or a path relative to root naming an
// NX-414 .h5 file or a folder. Every file is opened through root (a folder
// through an os.Root for the folder itself, as Open does), so neither ".."
// nor a symbolic link leads outside; a name that is missing or leads
// outside gets one message, "not found or outside the data root".
// Dataset.Name is spec.
func OpenIn(root *os.Root, spec string) (*Dataset, error) {
	if s, ok := strings.CutPrefix(CanonicalSpec(spec), "demo:"); ok {
		return openDemo(s)
	}
	display := "dataset " + spec
	f, err := root.OpenFile(filepath.Clean(spec), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, openError(err, display, "data root")
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		f.Close()
		sub, err := root.OpenRoot(filepath.Clean(spec))
		if err != nil {
			return nil, openError(err, display, "data root")
		}
		return openFolder(spec, sub)
	}
	if f, err = checkRegular(f, err, display, "data root"); err != nil {
		return nil, err
	}
	return openH5File(spec, f)
}

// openH5File checks the signature of an opened file and reads it as NX-414;
// it closes f.
func openH5File(path string, f *os.File) (*Dataset, error) {
	defer f.Close()
	if err := checkHDF5Signature(path, f); err != nil {
		return nil, err
	}
	return openH5(path, f)
}

// hdf5Signature starts every HDF5 file, at offset 0 or, after a user block,
// at 512, 1024, 2048, ...
var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

func checkHDF5Signature(path string, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	buf := make([]byte, len(hdf5Signature))
	for off := int64(0); off+int64(len(buf)) <= st.Size(); {
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			return fmt.Errorf("%s: %v", Printable(path), Printable(err.Error()))
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
	return fmt.Errorf("%s: not an HDF5 file (no HDF5 signature); want an NX-414 .h5 file or a folder", Printable(path))
}
