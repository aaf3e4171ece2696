//go:build cgo

package data

/*
#cgo pkg-config: hdf5
#include <stdlib.h>
#include <hdf5.h>

static void itscope_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
// A dataset naming a filter libhdf5 lacks would make it load a plugin
// library from its search path; the built-in filters (deflate, shuffle,
// ...) are all an NX-414 file uses.
static herr_t itscope_no_plugins(void) { return H5PLset_loading_state(0); }
static hid_t itscope_native_float(void) { return H5T_NATIVE_FLOAT; }
static hid_t itscope_c_s1(void) { return H5T_C_S1; }
static hid_t itscope_open_ro(const char *path) { return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }

// External links name other files: traversing one would read outside the
// file the loader was given, so the callback refuses every traversal.
static herr_t itscope_deny_elink(const char *pf, const char *pg, const char *cf, const char *co,
                                 unsigned *flags, hid_t fapl, void *op) { return -1; }
static hid_t itscope_no_elink(hid_t cls) {
	hid_t p = H5Pcreate(cls);
	if (p >= 0 && H5Pset_elink_cb(p, itscope_deny_elink, NULL) < 0) { H5Pclose(p); return -1; }
	return p;
}
static hid_t itscope_lapl(void) { return itscope_no_elink(H5P_LINK_ACCESS); }
static hid_t itscope_dapl(void) { return itscope_no_elink(H5P_DATASET_ACCESS); }

// itscope_link_type is H5L_TYPE_HARD, _SOFT, _EXTERNAL, a user type, or -1.
static int itscope_link_type(hid_t loc, const char *name, hid_t lapl) {
	H5L_info_t info;
	if (H5Lget_info(loc, name, &info, lapl) < 0) return -1;
	return (int)info.type;
}

// itscope_layout is the dataset's H5D_layout_t, or -2 when its raw data
// lives in external files (H5Pset_external), or -1 on error.
static int itscope_layout(hid_t ds) {
	hid_t dcpl = H5Dget_create_plist(ds);
	if (dcpl < 0) return -1;
	int layout = (int)H5Pget_layout(dcpl);
	int ext = H5Pget_external_count(dcpl);
	H5Pclose(dcpl);
	if (ext != 0) return -2;
	return layout;
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// h5mu serialises libhdf5 calls: a build without thread safety needs it,
// and one with it would serialise them anyway.
var h5mu sync.Mutex

// openH5 reads the NX-414 file f (already opened, through a root when
// there is one) named path in messages. libhdf5 opens files by name: it is
// given /proc/self/fd/N, which reaches the very file f holds open, so a
// path swapped after the open cannot redirect it.
func openH5(path string, f *os.File) (*Dataset, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", Printable(path), Printable(err.Error()))
	}
	fdPath := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	d, err := readH5(Printable(path), fdPath, st.Size())
	runtime.KeepAlive(f)
	if err != nil {
		return nil, err
	}
	d.Name = path
	d.Hash = nx414Hash(d) // outside the lock: it reads only Go memory
	return d, nil
}

func readH5(path, fdPath string, fileSize int64) (*Dataset, error) {
	if _, err := os.Stat(fdPath); err != nil {
		return nil, fmt.Errorf("%s: cannot hand the open file to libhdf5 (is /proc mounted?): %v", path, err)
	}
	h5mu.Lock()
	defer h5mu.Unlock()
	// Errors are reported through return values; without H5Eset_auto2 HDF5
	// prints its error stack to stderr. A thread-safe libhdf5 (Debian's is)
	// keeps that setting per OS thread, so stay on one thread and set it here.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.itscope_h5_quiet()
	if C.itscope_no_plugins() < 0 {
		return nil, fmt.Errorf("%s: libhdf5 refused to turn off filter plugins", path)
	}

	cpath := C.CString(fdPath)
	defer C.free(unsafe.Pointer(cpath))
	fid := C.itscope_open_ro(cpath)
	if fid < 0 {
		return nil, fmt.Errorf("%s: cannot open as HDF5 (damaged or truncated file?)", path)
	}
	defer C.H5Fclose(fid)
	lapl, dapl := C.itscope_lapl(), C.itscope_dapl()
	if lapl < 0 || dapl < 0 {
		return nil, fmt.Errorf("%s: libhdf5 refused the link access settings", path)
	}
	defer C.H5Pclose(lapl)
	defer C.H5Pclose(dapl)
	return readNX414(&h5File{path: path, id: fid, size: fileSize, lapl: lapl, dapl: dapl})
}

type h5File struct {
	path       string // for errors, already Printable
	id         C.hid_t
	size       int64 // bytes in the file
	lapl, dapl C.hid_t
}

func (f *h5File) has(key string) bool {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	return C.H5Lexists(f.id, ck, f.lapl) > 0
}

// dataset opens key and returns its id, dimensions and type class. The
// caller closes the id. Only a dataset stored in this file is opened: an
// external link, a virtual dataset (whose values come from other files) or
// external raw storage is refused before anything is read through it.
func (f *h5File) dataset(key string) (C.hid_t, []int, C.H5T_class_t, error) {
	if !f.has(key) {
		return -1, nil, 0, fmt.Errorf("%s: missing key %q", f.path, key)
	}
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	switch lt := C.itscope_link_type(f.id, ck, f.lapl); lt {
	case C.H5L_TYPE_HARD:
	case C.H5L_TYPE_EXTERNAL:
		return -1, nil, 0, fmt.Errorf("%s: key %q: want a dataset stored in this file, found an external link (refused: it names another file)", f.path, key)
	default:
		return -1, nil, 0, fmt.Errorf("%s: key %q: want a dataset stored in this file, found a link of type %d (soft and user-defined links are refused)", f.path, key, int(lt))
	}
	ds := C.H5Dopen2(f.id, ck, f.dapl)
	if ds < 0 {
		return -1, nil, 0, fmt.Errorf("%s: key %q: not a dataset", f.path, key)
	}
	switch layout := C.itscope_layout(ds); layout {
	case C.H5D_COMPACT, C.H5D_CONTIGUOUS, C.H5D_CHUNKED:
	case C.H5D_VIRTUAL:
		C.H5Dclose(ds)
		return -1, nil, 0, fmt.Errorf("%s: key %q: want a dataset stored in this file, found a virtual dataset (refused: its values come from other files)", f.path, key)
	case -2:
		C.H5Dclose(ds)
		return -1, nil, 0, fmt.Errorf("%s: key %q: want a dataset stored in this file, found raw data in external files (refused)", f.path, key)
	default:
		C.H5Dclose(ds)
		return -1, nil, 0, fmt.Errorf("%s: key %q: cannot read its storage layout (damaged file?)", f.path, key)
	}
	space := C.H5Dget_space(ds)
	defer C.H5Sclose(space)
	nd := int(C.H5Sget_simple_extent_ndims(space))
	if nd < 0 {
		C.H5Dclose(ds)
		return -1, nil, 0, fmt.Errorf("%s: key %q: cannot read its shape", f.path, key)
	}
	dims := make([]uint64, nd)
	if nd > 0 {
		cd := make([]C.hsize_t, nd)
		C.H5Sget_simple_extent_dims(space, &cd[0], nil)
		for i, d := range cd {
			dims[i] = uint64(d)
		}
	}
	ft := C.H5Dget_type(ds)
	class := C.H5Tget_class(ft)
	width := 4 // numbers are read as float32
	if class == C.H5T_STRING {
		width = 1 // variable-length: checked by strings against the file
		if C.H5Tis_variable_str(ft) <= 0 {
			width = int(C.H5Tget_size(ft))
		}
	}
	C.H5Tclose(ft)
	shape, err := checkStored(f.path, key, dims, width, int64(C.H5Dget_storage_size(ds)), f.size)
	if err != nil {
		C.H5Dclose(ds)
		return -1, nil, 0, err
	}
	return ds, shape, class, nil
}

// floats reads a numeric dataset straight into dst (already sized),
// converting to float32 inside HDF5, so no wider copy is ever made.
func (f *h5File) floats(key string, ds C.hid_t, class C.H5T_class_t, dst []float32) error {
	if class != C.H5T_FLOAT && class != C.H5T_INTEGER {
		return fmt.Errorf("%s: key %q: want numbers, found HDF5 %s data", f.path, key, h5ClassName(class))
	}
	if len(dst) == 0 {
		return nil
	}
	if C.H5Dread(ds, C.itscope_native_float(), C.H5S_ALL, C.H5S_ALL, C.H5P_DEFAULT, unsafe.Pointer(&dst[0])) < 0 {
		return fmt.Errorf("%s: key %q: read failed (damaged or truncated file?)", f.path, key)
	}
	return nil
}

// strings reads a 1-D dataset of fixed- or variable-length strings.
func (f *h5File) strings(key string, ds C.hid_t, class C.H5T_class_t, n int) ([]string, error) {
	if class != C.H5T_STRING {
		return nil, fmt.Errorf("%s: key %q: want strings, found HDF5 %s data", f.path, key, h5ClassName(class))
	}
	ft := C.H5Dget_type(ds)
	defer C.H5Tclose(ft)
	out := make([]string, n)
	if n == 0 {
		return out, nil
	}
	failed := fmt.Errorf("%s: key %q: read failed (damaged or truncated file?)", f.path, key)
	if C.H5Tis_variable_str(ft) > 0 {
		mt := C.H5Tcopy(C.itscope_c_s1())
		defer C.H5Tclose(mt)
		C.H5Tset_size(mt, C.H5T_VARIABLE)
		C.H5Tset_cset(mt, C.H5Tget_cset(ft))
		// Each string's length comes from the file: their sum must fit
		// in the file before HDF5 allocates them.
		var need C.hsize_t
		space := C.H5Dget_space(ds)
		ok := C.H5Dvlen_get_buf_size(ds, mt, space, &need) >= 0
		C.H5Sclose(space)
		if !ok {
			return nil, failed
		}
		if err := checkVarLabels(f.path, key, uint64(need), f.size); err != nil {
			return nil, err
		}
		// HDF5 writes C pointers into the buffer, so it lives in C memory.
		buf := (**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(buf))
		if C.H5Dread(ds, mt, C.H5S_ALL, C.H5S_ALL, C.H5P_DEFAULT, unsafe.Pointer(buf)) < 0 {
			return nil, failed
		}
		ptrs := unsafe.Slice(buf, n)
		for i, p := range ptrs {
			if p != nil {
				out[i] = C.GoString(p)
			}
		}
		space = C.H5Dget_space(ds)
		C.H5Dvlen_reclaim(mt, space, C.H5P_DEFAULT, unsafe.Pointer(buf))
		C.H5Sclose(space)
		return out, nil
	}
	// Fixed length: read with the file's own string type so HDF5 does no
	// padding conversion (NULLPAD to NULLTERM would drop a full-width
	// string's last byte), then trim the padding here.
	size := int(C.H5Tget_size(ft))
	pad := C.H5Tget_strpad(ft)
	mt := C.H5Tcopy(ft)
	defer C.H5Tclose(mt)
	buf := make([]byte, n*size)
	if size > 0 && C.H5Dread(ds, mt, C.H5S_ALL, C.H5S_ALL, C.H5P_DEFAULT, unsafe.Pointer(&buf[0])) < 0 {
		return nil, failed
	}
	for i := range out {
		s := buf[i*size : (i+1)*size]
		end := len(s)
		for j, c := range s {
			if c == 0 {
				end = j
				break
			}
		}
		s = s[:end]
		if pad == C.H5T_STR_SPACEPAD {
			for len(s) > 0 && s[len(s)-1] == ' ' {
				s = s[:len(s)-1]
			}
		}
		out[i] = string(s)
	}
	return out, nil
}

func (f *h5File) close(ds C.hid_t) { C.H5Dclose(ds) }

func h5ClassName(class C.H5T_class_t) string {
	names := []string{"integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "variable-length", "array"}
	if int(class) >= 0 && int(class) < len(names) {
		return names[class]
	}
	return fmt.Sprintf("type class %d", int(class))
}

// readNX414 reads the NX-414 layout (see nx414Layout) from an open file.
func readNX414(f *h5File) (*Dataset, error) {
	var (
		splits    []h5Split
		c, hh, ww int
	)
	for _, name := range []string{Train, Val, Test} {
		stimKey := "stimulus_" + name
		if name == Test && !f.has(stimKey) {
			break // test is optional
		}
		if name == Test {
			// An empty test split is no split.
			if ds, dims, _, err := f.dataset(stimKey); err == nil {
				f.close(ds)
				if len(dims) > 0 && dims[0] == 0 {
					break
				}
			}
		}
		ds, dims, _, err := f.dataset(stimKey)
		if err != nil {
			return nil, err
		}
		f.close(ds)
		if len(dims) != 4 || dims[1] != 3 || dims[2] < 1 || dims[3] < 1 {
			return nil, fmt.Errorf("%s: key %q: want shape (N,3,224,224), found %v", f.path, stimKey, dims)
		}
		if name != Test && dims[0] < 1 {
			return nil, fmt.Errorf("%s: key %q: want at least one image, found shape %v", f.path, stimKey, dims)
		}
		if c == 0 {
			c, hh, ww = dims[1], dims[2], dims[3]
		} else if dims[2] != hh || dims[3] != ww {
			return nil, fmt.Errorf("%s: key %q: want shape (N,3,%d,%d) like stimulus_train, found %v", f.path, stimKey, hh, ww, dims)
		}
		splits = append(splits, h5Split{name: name, n: dims[0]})
	}
	total := 0
	for _, s := range splits {
		if err := checkSplitSize(s.name, s.n); err != nil {
			return nil, fmt.Errorf("%s: key \"stimulus_%s\": %v", f.path, s.name, err)
		}
		total += s.n
	}
	chw := c * hh * ww
	stim := make([]float32, total*chw)
	objects := make([]string, 0, total)
	haveObjects := f.has("object_" + Train)
	var responses []float32
	neurons := 0
	start := 0
	var out []Split
	for _, s := range splits {
		// Stimuli.
		key := "stimulus_" + s.name
		ds, _, class, err := f.dataset(key)
		if err != nil {
			return nil, err
		}
		if class != C.H5T_FLOAT {
			f.close(ds)
			return nil, fmt.Errorf("%s: key %q: want float32 ImageNet-normalised stimuli, found HDF5 %s data (raw pixels? normalise them: (x/255 - mean) / std)",
				f.path, key, h5ClassName(class))
		}
		block := stim[start*chw : (start+s.n)*chw]
		err = f.floats(key, ds, class, block)
		f.close(ds)
		if err != nil {
			return nil, err
		}
		if err := checkFiniteStimuli(f.path, key, block, start, c, hh, ww); err != nil {
			return nil, err
		}
		// Responses: none for test.
		hasResp := s.name != Test
		if hasResp {
			key := "spikes_" + s.name
			ds, dims, class, err := f.dataset(key)
			if err != nil {
				return nil, err
			}
			if neurons == 0 && len(dims) == 2 {
				neurons = dims[1]
				responses = make([]float32, total*neurons)
			}
			if len(dims) != 2 || dims[0] != s.n || dims[1] != neurons || neurons == 0 {
				f.close(ds)
				return nil, fmt.Errorf("%s: key %q: want shape (%d,%s) to match stimulus_%s, found %v",
					f.path, key, s.n, neuronsWant(neurons), s.name, dims)
			}
			rows := responses[start*neurons : (start+s.n)*neurons]
			err = f.floats(key, ds, class, rows)
			f.close(ds)
			if err != nil {
				return nil, err
			}
			if err := checkFinite(f.path, "key \""+key+"\"", rows, neurons, nil); err != nil {
				return nil, err
			}
		}
		// Object labels.
		if haveObjects {
			key := "object_" + s.name
			ds, dims, class, err := f.dataset(key)
			if err != nil {
				return nil, err
			}
			if len(dims) != 1 || dims[0] != s.n {
				f.close(ds)
				return nil, fmt.Errorf("%s: key %q: want shape (%d,) to match stimulus_%s, found %v", f.path, key, s.n, s.name, dims)
			}
			labels, err := f.strings(key, ds, class, s.n)
			f.close(ds)
			if err != nil {
				return nil, err
			}
			objects = append(objects, labels...)
		}
		idx := make([]int, s.n)
		for i := range idx {
			idx[i] = start + i
		}
		out = append(out, Split{Name: s.name, Indices: idx, HasResponses: hasResp})
		start += s.n
	}
	return newNX414Dataset(f.path, stim, total, c, hh, ww, responses, neurons, objects, haveObjects, out), nil
}

func neuronsWant(n int) string {
	if n == 0 {
		return "neurons"
	}
	return fmt.Sprint(n)
}
