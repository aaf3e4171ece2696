package data

import (
	"fmt"
	"slices"
	"testing"
)

func TestReadNPYLayouts(t *testing.T) {
	// (2,3) int32 in Fortran order: columns [1 4] [2 5] [3 6].
	i32 := []byte{1, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0}
	a, err := readNPY("f.npy", npyBytes("<i4", true, "(2, 3)", i32))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, []int{2, 3}) || !slices.Equal(a.Data, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("fortran int32: shape %v data %v", a.Shape, a.Data)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"complex", npyBytes("<c8", false, "(1,)", make([]byte, 8)), `want a float or integer dtype (<f4, <f8, <i4, ...), found "<c8"`},
		{"big endian", npyBytes(">f8", false, "(1,)", make([]byte, 8)), `found ">f8"`},
		{"short", npyBytes("<f4", false, "(2, 2)", make([]byte, 12)), "truncated file: shape [2 2] of <f4 needs 16 data bytes, found 12"},
		{"malformed header", []byte("\x93NUMPY\x01\x00\x0a\x00{'x': 1}  \n"), "not a NumPy .npy file"},
		{"not npy", []byte("a,b\n1,2\n"), "not a NumPy .npy file"},
		{"beyond float32", npyBytes("<f8", false, "(2,)", []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 125, 195, 148, 37, 173, 73, 178, 84}), "element 1: want values within float32 range (±3.4e38), found 1e+100"},
		{"negative size", npyBytes("<f4", false, "(2, -1)", nil), "want a shape of non-negative sizes, found [2 -1]"},
		// 2^61 * 8 bytes wraps to 0 in int: the size check must not overflow.
		{"forged size", npyBytes("<f8", false, "(2305843009213693952,)", nil), "needs more than 0 data bytes, found 0"},
		{"element count overflows", npyBytes("<f4", false, "(4294967296, 4294967296, 4)", nil), "shape [4294967296 4294967296 4] has more elements than any file can hold"},
	} {
		_, err := readNPY("r.npy", tc.raw)
		if err == nil || !containsAll(err.Error(), "r.npy", tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// npyBytes builds a version-1 .npy file with the given header fields and raw payload.
func npyBytes(descr string, fortran bool, shape string, payload []byte) []byte {
	f := "False"
	if fortran {
		f = "True"
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), payload...)
}
