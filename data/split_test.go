package data

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
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
