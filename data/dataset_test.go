package data

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitWithImages(t *testing.T) {
	ds := &Dataset{Name: "toy", Splits: []Split{{Train, []int{0, 2}, true}, {Val, nil, true}}}
	for _, tc := range []struct {
		name, wantErr string
		want          []int
	}{
		{Train, "", []int{0, 2}},
		{Val, `dataset toy: no split "val" with images (want train, val or test)`, nil},
		{Test, `dataset toy: no split "test" with images (want train, val or test)`, nil},
	} {
		s, err := ds.SplitWithImages(tc.name)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case s.Name != tc.name || !slices.Equal(s.Indices, tc.want):
			t.Errorf("%s: split %s %v, want %v", tc.name, s.Name, s.Indices, tc.want)
		}
	}
}
