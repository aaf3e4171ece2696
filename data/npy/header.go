package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// maxHeaderBytes bounds the header dictionary: numpy's own reader refuses
// more than 10000 bytes by default; a plain array needs under 200.
const maxHeaderBytes = 1 << 16

var (
	descrRe   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRe = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// header is what an .npy file says about its array.
type header struct {
	dtype   string // numpy's descr, such as "<f4"
	fortran bool
	shape   []int
	n       int   // elements: the product of shape, checked not to overflow
	offset  int64 // where the data starts
}

// readHeader reads the magic, version and header dictionary from r. name is
// used in errors.
func readHeader(name string, r io.Reader) (header, error) {
	notNpy := func(why string) (header, error) {
		return header{}, fmt.Errorf("%s: not a NumPy .npy file (%s)", name, why)
	}
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return notNpy("shorter than the 10-byte preamble")
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return notNpy("bad magic")
	}
	var hlen, start int64
	switch pre[6] {
	case 1:
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return notNpy("truncated header")
		}
		hlen = int64(binary.LittleEndian.Uint16(pre[8:10])) | int64(binary.LittleEndian.Uint16(b[:]))<<16
		start = 12
	default:
		return notNpy(fmt.Sprintf("unsupported version %d", pre[6]))
	}
	if hlen > maxHeaderBytes {
		return header{}, fmt.Errorf("%s: want an .npy header of at most %d bytes, found %d", name, maxHeaderBytes, hlen)
	}
	dict := make([]byte, hlen)
	if _, err := io.ReadFull(r, dict); err != nil {
		return notNpy("truncated header")
	}
	h, err := parseDict(string(dict))
	if err != nil {
		return notNpy(err.Error())
	}
	h.offset = start + hlen
	return h, nil
}

// parseDict reads descr, fortran_order and shape from the header dictionary.
func parseDict(dict string) (header, error) {
	if !strings.HasSuffix(dict, "\n") || !strings.HasPrefix(strings.TrimSpace(dict), "{") {
		return header{}, errors.New("header is not a dictionary ending in a newline")
	}
	d, f, s := descrRe.FindStringSubmatch(dict), fortranRe.FindStringSubmatch(dict), shapeRe.FindStringSubmatch(dict)
	if d == nil || f == nil || s == nil {
		return header{}, errors.New("header lacks descr, fortran_order or shape")
	}
	h := header{dtype: d[1], fortran: f[1] == "True", n: 1}
	for p := range strings.SplitSeq(s[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return header{}, fmt.Errorf("want a shape of non-negative sizes, found (%s)", s[1])
		}
		if v > 0 && h.n > math.MaxInt/v {
			return header{}, fmt.Errorf("shape (%s) has more elements than any file can hold", s[1])
		}
		h.n *= v
		h.shape = append(h.shape, v)
	}
	return h, nil
}

// checkSize checks that the file holds exactly the data the header
// declares, given its total size in bytes and the dtype's element size.
func (h header) checkSize(name string, size int64, elem int) error {
	found := size - h.offset
	if h.n <= math.MaxInt64/elem && int64(h.n*elem) == found {
		return nil
	}
	need := "more than " + strconv.FormatInt(math.MaxInt64, 10)
	if h.n <= math.MaxInt64/elem {
		need = strconv.FormatInt(int64(h.n)*int64(elem), 10)
	}
	why := "truncated file"
	if h.n <= math.MaxInt64/elem && int64(h.n*elem) < found {
		why = "data after the array"
	}
	return fmt.Errorf("%s: shape %v of %s needs %s data bytes, found %d (%s)", name, h.shape, h.dtype, need, found, why)
}
