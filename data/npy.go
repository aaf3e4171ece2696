package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// npyArray is a NumPy array converted to float32, in C order.
type npyArray struct {
	Shape []int
	Data  []float32
}

// readNPY parses a whole .npy file held in memory. name is used in errors.
// npyio parses the header; the payload is decoded here so that its length can
// be checked first (npyio reads a file cut at an element boundary as zeros)
// and so that float64 and integer files convert straight to float32.
func readNPY(name string, raw []byte) (*npyArray, error) {
	payload := npyPayload(raw)
	if !bytes.HasPrefix(raw, []byte("\x93NUMPY")) || payload < 0 || payload > len(raw) || raw[payload-1] != '\n' {
		return nil, fmt.Errorf("%s: not a NumPy .npy file (bad or truncated header)", name)
	}
	r, err := newNPYReader(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a NumPy .npy file: %v", name, err)
	}
	hdr := r.Header.Descr
	n := 1
	for _, d := range hdr.Shape {
		if d < 0 {
			return nil, fmt.Errorf("%s: want a shape of non-negative sizes, found %v", name, hdr.Shape)
		}
		if d > 0 && n > math.MaxInt/d {
			return nil, fmt.Errorf("%s: shape %v has more elements than any file can hold", name, hdr.Shape)
		}
		n *= d
	}
	dtype := strings.Trim(hdr.Type, "'\"")
	size, conv, ok := npyConverter(dtype)
	if !ok {
		return nil, fmt.Errorf("%s: want a float or integer dtype (<f4, <f8, <i4, ...), found %q", name, dtype)
	}
	// Compare in elements: n*size may overflow for a forged shape.
	if avail := len(raw) - payload; n > avail/size {
		need := "more than " + strconv.Itoa(avail)
		if n <= math.MaxInt/size {
			need = strconv.Itoa(n * size)
		}
		return nil, fmt.Errorf("%s: truncated file: shape %v of %s needs %s data bytes, found %d",
			name, hdr.Shape, dtype, need, avail)
	}
	data := make([]float32, n)
	body := raw[payload:]
	for i := range data {
		data[i] = conv(body[i*size:])
	}
	if dtype == "<f8" {
		// A finite float64 beyond float32's range would become Inf and be
		// reported later as an Inf the file does not hold.
		for i, x := range data {
			if v := math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:])); math.IsInf(float64(x), 0) && !math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: element %d: want values within float32 range (±3.4e38), found %g", name, i, v)
			}
		}
	}
	if hdr.Fortran && len(hdr.Shape) > 1 {
		data = fortranToC(data, hdr.Shape)
	}
	return &npyArray{Shape: append([]int(nil), hdr.Shape...), Data: data}, nil
}

// newNPYReader parses the header with npyio, turning its panics on
// malformed headers into errors.
func newNPYReader(raw []byte) (r *npy.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("malformed header: %v", p)
		}
	}()
	return npy.NewReader(bytes.NewReader(raw))
}

// npyPayload returns the offset of the data after the .npy header, or -1.
func npyPayload(raw []byte) int {
	if len(raw) < 10 {
		return -1
	}
	switch raw[6] {
	case 1:
		return 10 + int(binary.LittleEndian.Uint16(raw[8:10]))
	case 2, 3:
		if len(raw) < 12 {
			return -1
		}
		return 12 + int(binary.LittleEndian.Uint32(raw[8:12]))
	}
	return -1
}

func npyConverter(dtype string) (int, func([]byte) float32, bool) {
	le := binary.LittleEndian
	switch dtype {
	case "<f4":
		return 4, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) }, true
	case "<f8":
		return 8, func(b []byte) float32 { return float32(math.Float64frombits(le.Uint64(b))) }, true
	case "|u1", "<u1":
		return 1, func(b []byte) float32 { return float32(b[0]) }, true
	case "|i1", "<i1":
		return 1, func(b []byte) float32 { return float32(int8(b[0])) }, true
	case "<i2":
		return 2, func(b []byte) float32 { return float32(int16(le.Uint16(b))) }, true
	case "<u2":
		return 2, func(b []byte) float32 { return float32(le.Uint16(b)) }, true
	case "<i4":
		return 4, func(b []byte) float32 { return float32(int32(le.Uint32(b))) }, true
	case "<u4":
		return 4, func(b []byte) float32 { return float32(le.Uint32(b)) }, true
	case "<i8":
		return 8, func(b []byte) float32 { return float32(int64(le.Uint64(b))) }, true
	case "<u8":
		return 8, func(b []byte) float32 { return float32(le.Uint64(b)) }, true
	}
	return 0, nil, false
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC(src []float32, shape []int) []float32 {
	dst := make([]float32, len(src))
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

// transpose2 returns the (cols, rows) transpose of a row-major (rows, cols) matrix.
func transpose2(src []float32, rows, cols int) []float32 {
	dst := make([]float32, len(src))
	for r := range rows {
		for c := range cols {
			dst[c*rows+r] = src[r*cols+c]
		}
	}
	return dst
}
