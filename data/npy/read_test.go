package npy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const fixtureDir = "../../testdata/npy"

// wantFixture reads NAME.txt written by make_npy_fixtures.py: the shape,
// then the C-order values as numpy printed them.
func wantFixture(t *testing.T, name string) ([]int, []float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	shape := []int{}
	for d := range strings.FieldsSeq(sc.Text()) {
		v, err := strconv.Atoi(d)
		if err != nil {
			t.Fatal(err)
		}
		shape = append(shape, v)
	}
	var vals []float64
	for sc.Scan() {
		v, err := strconv.ParseFloat(sc.Text(), 64)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, v)
	}
	return shape, vals
}

// TestReadNumpyFiles reads every dtype and layout numpy wrote, into float32
// and float64, through Decode and ReadFile, and compares with numpy's values.
func TestReadNumpyFiles(t *testing.T) {
	for _, name := range []string{"f4_3x4", "f8_2x3x2", "f8_fortran_3x2", "i4_fortran_2x3", "u1_2x2x3",
		"i1_5", "i2_4", "u2_3", "u4_2", "i8_3", "u8_2", "f4_0x5", "f4_scalar", "f4_v2_2x2"} {
		t.Run(name, func(t *testing.T) {
			shape, want := wantFixture(t, name)
			path := filepath.Join(fixtureDir, name+".npy")
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			check := func(how string, gotShape []int, got []float64, exact func(i int) bool) {
				if fmt.Sprint(gotShape) != fmt.Sprint(shape) || len(got) != len(want) {
					t.Fatalf("%s: shape %v with %d values, want %v with %d", how, gotShape, len(got), shape, len(want))
				}
				for i := range want {
					if !exact(i) {
						t.Errorf("%s: value %d = %v, want %v", how, i, got[i], want[i])
					}
				}
			}
			a32, err := ReadFile[float32](path)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, len(a32.Data))
			for i, v := range a32.Data {
				got[i] = float64(v)
			}
			check("ReadFile float32", a32.Shape, got, func(i int) bool { return a32.Data[i] == float32(want[i]) })
			a64, err := Decode[float64](path, raw)
			if err != nil {
				t.Fatal(err)
			}
			check("Decode float64", a64.Shape, a64.Data, func(i int) bool { return a64.Data[i] == want[i] })
		})
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

// TestReadErrors feeds damaged and forged files to Decode, ReadFile and
// Open: each error names the file and says what was expected and found.
func TestReadErrors(t *testing.T) {
	good := npyBytes("<f4", false, "(2, 2)", make([]byte, 16))
	bigHeader := append([]byte("\x93NUMPY\x02\x00"), 0, 0, 2, 0) // 131072 bytes
	for _, tc := range []struct {
		name string
		raw  []byte
		want string // in every reader's error
	}{
		{"not npy", []byte("a,b\n1,2\n3,4\n"), "not a NumPy .npy file (bad magic)"},
		{"empty", nil, "not a NumPy .npy file (shorter than the 10-byte preamble)"},
		{"cut in header", good[:20], "not a NumPy .npy file (truncated header)"},
		{"malformed header", []byte("\x93NUMPY\x01\x00\x0b\x00{'x': 1}  \n"), "not a NumPy .npy file (header lacks descr, fortran_order or shape)"},
		{"header without newline", append([]byte("\x93NUMPY\x01\x00\x04\x00"), "{}  "...), "header is not a dictionary ending in a newline"},
		{"version 9", append([]byte("\x93NUMPY\x09\x00"), good[8:]...), "unsupported version 9"},
		{"huge header", bigHeader, "want an .npy header of at most 65536 bytes, found 131072"},
		{"short", good[:len(good)-4], "shape [2 2] of <f4 needs 16 data bytes, found 12 (truncated file)"},
		{"junk after data", append(append([]byte{}, good...), 0, 0, 0, 0, 0), "shape [2 2] of <f4 needs 16 data bytes, found 21 (data after the array)"},
		{"negative size", npyBytes("<f4", false, "(2, -1)", nil), "want a shape of non-negative sizes, found (2, -1)"},
		{"not a number", npyBytes("<f4", false, "(2, x)", nil), "want a shape of non-negative sizes, found (2, x)"},
		{"forged size", npyBytes("<f4", false, "(2305843009213693952, 2)", nil), "needs more than 9223372036854775807 data bytes, found 0 (truncated file)"},
		{"element count overflows", npyBytes("<f4", false, "(4294967296, 4294967296, 4)", nil), "shape (4294967296, 4294967296, 4) has more elements than any file can hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.npy")
			if err := os.WriteFile(path, tc.raw, 0o644); err != nil {
				t.Fatal(err)
			}
			_, derr := Decode[float32](path, tc.raw)
			_, rerr := ReadFile[float64](path)
			_, oerr := Open(path)
			for how, err := range map[string]error{"Decode": derr, "ReadFile": rerr, "Open": oerr} {
				if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %v, want %q after the path", how, err, tc.want)
				}
			}
		})
	}
}

// TestReadDtypeErrors covers what the whole-array readers refuse.
func TestReadDtypeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"complex", npyBytes("<c8", false, "(1,)", make([]byte, 8)), `want a little-endian float or integer dtype (<f4, <f8, <i4, ...), found "<c8"`},
		{"big endian", npyBytes(">f8", false, "(1,)", make([]byte, 8)), `found ">f8"`},
		{"beyond float32", npyBytes("<f8", false, "(2,)", []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 125, 195, 148, 37, 173, 73, 178, 84}), "element 1: want values within float32 range (±3.4e38), found 1e+100"},
	} {
		_, err := Decode[float32]("r.npy", tc.raw)
		if err == nil || !strings.HasPrefix(err.Error(), "r.npy: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// float64 holds 1e100.
	a, err := Decode[float64]("r.npy", npyBytes("<f8", false, "(1,)", []byte{125, 195, 148, 37, 173, 73, 178, 84}))
	if err != nil || a.Data[0] != 1e100 {
		t.Errorf("float64 read of 1e100: %v, %v", a, err)
	}
	dir := t.TempDir()
	if _, err := ReadFile[float32](dir); err == nil || !strings.Contains(err.Error(), dir+": want a file, found a folder") {
		t.Errorf("folder: error %v", err)
	}
}
