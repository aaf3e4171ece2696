package train

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCNNSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CNNSpec
		feat [3]int
	}{
		{"", CNNSpec{Layers: 3, Channels: []int{32, 64, 128}, Kernel: []int{3, 3, 3}, Stride: []int{1, 1, 1},
			Pool: []int{2, 2, 2}, BN: []bool{true, true, true}, Dropout: []float64{0, 0, 0}, Size: 64, Readout: "flatten"}, [3]int{128, 8, 8}},
		{"layers=1,channels=8,kernel=5,stride=2,pool=0,bn=off,dropout=0.5,size=112,readout=gap",
			CNNSpec{Layers: 1, Channels: []int{8}, Kernel: []int{5}, Stride: []int{2}, Pool: []int{0},
				BN: []bool{false}, Dropout: []float64{0.5}, Size: 112, Readout: "gap"}, [3]int{8, 1, 1}},
		{"channels=16-32,bn=on-off,pool=2-0,size=224",
			CNNSpec{Layers: 2, Channels: []int{16, 32}, Kernel: []int{3, 3}, Stride: []int{1, 1}, Pool: []int{2, 0},
				BN: []bool{true, false}, Dropout: []float64{0, 0}, Size: 224, Readout: "flatten"}, [3]int{32, 112, 112}},
		{"layers=5", CNNSpec{Layers: 5, Channels: []int{32, 64, 128, 256, 256}, Kernel: []int{3, 3, 3, 3, 3}, Stride: []int{1, 1, 1, 1, 1},
			Pool: []int{2, 2, 2, 2, 2}, BN: []bool{true, true, true, true, true}, Dropout: []float64{0, 0, 0, 0, 0}, Size: 64, Readout: "flatten"}, [3]int{256, 2, 2}},
	} {
		got, err := ParseCNNSpec(tc.in)
		if err != nil {
			t.Fatalf("ParseCNNSpec(%q): %v", tc.in, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCNNSpec(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		feat, err := got.FeatureShape()
		if err != nil || feat != tc.feat {
			t.Errorf("%q: FeatureShape = %v, %v; want %v", tc.in, feat, err, tc.feat)
		}
		back, err := ParseCNNSpec(got.String())
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("%q: String %q reads back as %+v, %v", tc.in, got.String(), back, err)
		}
	}
}

func TestParseCNNSpecErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"layers=6", `key "layers": want an integer from 1 to 5, found "6"`},
		{"layers=x", `key "layers"`},
		{"layers=3,channels=8-16", `key "channels": want 1 or 3 dash-separated values`},
		{"size=100", `key "size": want 64, 112 or 224, found "100"`},
		{"bn=maybe", `key "bn": want on or off`},
		{"dropout=1", `key "dropout": want probabilities in [0, 1)`},
		{"colour=red", `unknown key "colour"`},
		{"layers", `item "layers": want key=value`},
		{"layers=3,layers=2", `key "layers" given twice`},
		{"layers=5,pool=4,size=64", `pool 4 is larger than the`},
		{"readout=max", `key "readout": want flatten or gap`},
		{"kernel=0", `key "kernel": want integers from 1 to 15, found "0"`},
	} {
		_, err := ParseCNNSpec(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCNNSpec(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}
