//go:build cgo

package data

/*
#cgo pkg-config: hdf5
#include <stdlib.h>
#include <hdf5.h>

static void itscope_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
static hid_t itscope_native_float(void) { return H5T_NATIVE_FLOAT; }
static hid_t itscope_c_s1(void) { return H5T_C_S1; }
static hid_t itscope_open_ro(const char *path) { return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// h5mu serialises libhdf5 calls: a build without thread safety needs it,
// and one with it would serialise them anyway.
var h5mu sync.Mutex

func openH5(path string) (*Dataset, error) {
	d, err := readH5(path)
	if err != nil {
		return nil, err
	}
	d.Hash = nx414Hash(d) // outside the lock: it reads only Go memory
	return d, nil
}

func readH5(path string) (*Dataset, error) {
	h5mu.Lock()
	defer h5mu.Unlock()
	// Errors are reported through return values; without H5Eset_auto2 HDF5
	// prints its error stack to stderr. A thread-safe libhdf5 (Debian's is)
	// keeps that setting per OS thread, so stay on one thread and set it here.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.itscope_h5_quiet()

	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	fid := C.itscope_open_ro(cpath)
	if fid < 0 {
		return nil, fmt.Errorf("%s: cannot open as HDF5 (damaged or truncated file?)", path)
	}
	defer C.H5Fclose(fid)
	return readNX414(&h5File{path: path, id: fid})
}

type h5File struct {
	path string
	id   C.hid_t
}

func (f *h5File) has(key string) bool {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	return C.H5Lexists(f.id, ck, C.H5P_DEFAULT) > 0
}

// dataset opens key and returns its id, dimensions and type class. The
// caller closes the id.
func (f *h5File) dataset(key string) (C.hid_t, []int, C.H5T_class_t, error) {
	if !f.has(key) {
		return -1, nil, 0, fmt.Errorf("%s: missing key %q", f.path, key)
	}
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	ds := C.H5Dopen2(f.id, ck, C.H5P_DEFAULT)
	if ds < 0 {
		return -1, nil, 0, fmt.Errorf("%s: key %q: not a dataset", f.path, key)
	}
	space := C.H5Dget_space(ds)
	defer C.H5Sclose(space)
	nd := int(C.H5Sget_simple_extent_ndims(space))
	if nd < 0 {
		C.H5Dclose(ds)
		return -1, nil, 0, fmt.Errorf("%s: key %q: cannot read its shape", f.path, key)
	}
	dims := make([]int, nd)
	if nd > 0 {
		cd := make([]C.hsize_t, nd)
		C.H5Sget_simple_extent_dims(space, &cd[0], nil)
		for i, d := range cd {
			dims[i] = int(d)
		}
	}
	ft := C.H5Dget_type(ds)
	class := C.H5Tget_class(ft)
	C.H5Tclose(ft)
	if err := f.checkStored(key, ds, dims); err != nil {
		C.H5Dclose(ds)
		return -1, nil, 0, err
	}
	return ds, dims, class, nil
}

// maxCompression bounds how much smaller than its float32 values a
// dataset's stored bytes may be: deflate, the strongest filter Debian's
// libhdf5 has, stops near 1032:1.
const maxCompression = 1100

// checkStored rejects a dataset whose shape promises far more values than
// the file holds (a chunked dataset never written, or a forged header): the
// loader allocates what the shape says, so a 10 kB file declaring
// (1000000,3,224,224) would otherwise ask for 600 GB and kill the process.
func (f *h5File) checkStored(key string, ds C.hid_t, dims []int) error {
	values := 1
	for _, d := range dims {
		if d > 0 && values > math.MaxInt/4/d {
			return fmt.Errorf("%s: key %q: want a shape that fits in memory, found %v", f.path, key, dims)
		}
		values *= d
	}
	stored := int(C.H5Dget_storage_size(ds))
	if values > 0 && 4*values/maxCompression > stored {
		return fmt.Errorf("%s: key %q: shape %v needs %d bytes as float32, but the file stores only %d bytes for it (damaged, truncated or never written?)",
			f.path, key, dims, 4*values, stored)
	}
	return nil
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
		space := C.H5Dget_space(ds)
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
		err = f.floats(key, ds, class, stim[start*chw:(start+s.n)*chw])
		f.close(ds)
		if err != nil {
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
