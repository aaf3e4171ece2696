package data

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The expected val sets come from a plain-Python reimplementation of the
// rule written in DefaultSplit's doc (testdata/data/make_split_fixture.py).
func TestDefaultSplitMatchesWrittenRule(t *testing.T) {
	raw, err := os.ReadFile("../testdata/data/split_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]int
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for ns, wantVal := range want {
		n, _ := strconv.Atoi(ns)
		train, val, err := DefaultSplit(n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(val, wantVal) {
			t.Errorf("n=%d: val %v, want %v", n, val, wantVal)
		}
		all := slices.Concat(train, val)
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("n=%d: train+val is not a partition of 0..n-1", n)
			}
		}
	}
	if _, _, err := DefaultSplit(1); err == nil {
		t.Error("n=1: no error")
	}
}

func TestReadNPYLayouts(t *testing.T) {
	npyBytes := func(descr string, fortran bool, shape string, payload []byte) []byte {
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
	} {
		_, err := readNPY("r.npy", tc.raw)
		if err == nil || !containsAll(err.Error(), "r.npy", tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
