package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// Float is the element type an array is read into.
type Float interface{ ~float32 | ~float64 }

// Array is a NumPy array converted to T, in C order.
type Array[T Float] struct {
	Shape []int
	Data  []T // the product of Shape values
}

// Decode parses a whole .npy file held in memory (an embedded file, say).
// name is used in errors. Any float or integer dtype converts to T.
func Decode[T Float](name string, raw []byte) (*Array[T], error) {
	h, err := readHeader(name, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	elem, err := elemSize(name, h.dtype)
	if err != nil {
		return nil, err
	}
	if err := h.checkSize(name, int64(len(raw)), elem); err != nil {
		return nil, err
	}
	return convert[T](name, h, raw[h.offset:])
}

// ReadFile reads a whole .npy file, checking its size against the header
// before reading the data.
func ReadFile[T Float](path string) (*Array[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		kind := "a special file"
		if st.IsDir() {
			kind = "a folder"
		}
		return nil, fmt.Errorf("%s: want a file, found %s", path, kind)
	}
	h, err := readHeader(path, f)
	if err != nil {
		return nil, err
	}
	elem, err := elemSize(path, h.dtype)
	if err != nil {
		return nil, err
	}
	if err := h.checkSize(path, st.Size(), elem); err != nil {
		return nil, err
	}
	body := make([]byte, st.Size()-h.offset)
	if _, err := io.ReadFull(f, body); err != nil {
		return nil, fmt.Errorf("%s: reading %d data bytes: %w", path, len(body), err)
	}
	return convert[T](path, h, body)
}

// elemSize is the size in bytes of one element of a supported dtype.
func elemSize(name, dtype string) (int, error) {
	switch dtype {
	case "|u1", "<u1", "|i1", "<i1":
		return 1, nil
	case "<i2", "<u2":
		return 2, nil
	case "<f4", "<i4", "<u4":
		return 4, nil
	case "<f8", "<i8", "<u8":
		return 8, nil
	}
	return 0, fmt.Errorf("%s: want a little-endian float or integer dtype (<f4, <f8, <i4, ...), found %q", name, dtype)
}

// fill converts body, little-endian integers of size bytes each read by
// get, into data.
func fill[T Float, I int8 | uint8 | int16 | uint16 | int32 | uint32 | int64 | uint64](data []T, body []byte, size int, get func([]byte) I) {
	for i := range data {
		data[i] = T(get(body[size*i:]))
	}
}

// convert turns the data of a checked header into T, C order.
func convert[T Float](name string, h header, body []byte) (*Array[T], error) {
	le := binary.LittleEndian
	data := make([]T, h.n)
	switch h.dtype {
	case "<f4":
		for i := range data {
			data[i] = T(math.Float32frombits(le.Uint32(body[4*i:])))
		}
	case "<f8":
		for i := range data {
			v := math.Float64frombits(le.Uint64(body[8*i:]))
			data[i] = T(v)
			// A finite float64 beyond float32's range would become an
			// Inf that the file does not hold.
			if math.IsInf(float64(data[i]), 0) && !math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: element %d: want values within float32 range (±3.4e38), found %g", name, i, v)
			}
		}
	case "|u1", "<u1":
		fill(data, body, 1, func(b []byte) uint8 { return b[0] })
	case "|i1", "<i1":
		fill(data, body, 1, func(b []byte) int8 { return int8(b[0]) })
	case "<i2":
		fill(data, body, 2, func(b []byte) int16 { return int16(le.Uint16(b)) })
	case "<u2":
		fill(data, body, 2, le.Uint16)
	case "<i4":
		fill(data, body, 4, func(b []byte) int32 { return int32(le.Uint32(b)) })
	case "<u4":
		fill(data, body, 4, le.Uint32)
	case "<i8":
		fill(data, body, 8, func(b []byte) int64 { return int64(le.Uint64(b)) })
	case "<u8":
		fill(data, body, 8, le.Uint64)
	}
	if h.fortran && len(h.shape) > 1 {
		data = fortranToC(data, h.shape)
	}
	return &Array[T]{Shape: append([]int{}, h.shape...), Data: data}, nil
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC[T Float](src []T, shape []int) []T {
	dst := make([]T, len(src))
	idx := make([]int, len(shape))
	for f := range src {
		// f walks the Fortran order: the first index varies fastest.
		c := 0
		for k := range shape {
			c = c*shape[k] + idx[k]
		}
		dst[c] = src[f]
		for k := range idx {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}
