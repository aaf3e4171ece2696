package data

import (
	"image"
	"math"
	"slices"
	"sync"
	"testing"
)

func TestOpenDemo(t *testing.T) {
	for _, tc := range []struct {
		spec            string
		neurons, images int
		trials          int
		// spot responses (image, neuron, value) read with NumPy from the
		// (neurons, images) files
		spots [][3]float64
	}{
		{"demo", 89, 1200, 0, [][3]float64{{0, 0, 2.6363636363636362}, {1199, 88, 3.1818181818181817}, {17, 5, 1.0833333333333333}, {600, 40, 4.909090909090909}}},
		{"demo:210325", 50, 640, 10, [][3]float64{{639, 49, 1.125}, {3, 7, 4.285714285714286}}},
	} {
		d, err := Open(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if d.NumNeurons != tc.neurons || d.Images.Len() != tc.images || len(d.Responses) != tc.neurons*tc.images {
			t.Errorf("%s: got %d neurons x %d images (%d responses), want %d x %d", tc.spec, d.NumNeurons, d.Images.Len(), len(d.Responses), tc.neurons, tc.images)
		}
		if d.NumTrials != tc.trials || len(d.Repeats) != tc.neurons*tc.images*tc.trials {
			t.Errorf("%s: got %d trials (%d repeats), want %d", tc.spec, d.NumTrials, len(d.Repeats), tc.trials)
		}
		for _, sp := range tc.spots {
			if got := d.ResponseRow(int(sp[0]))[int(sp[1])]; got != float32(sp[2]) {
				t.Errorf("%s: response of neuron %d to image %d = %v, want %v", tc.spec, int(sp[1]), int(sp[0]), got, float32(sp[2]))
			}
		}
		train, _ := d.SplitByName(Train)
		val, _ := d.SplitByName(Val)
		if len(val.Indices) != int(math.Round(float64(tc.images)/10)) || len(train.Indices)+len(val.Indices) != tc.images {
			t.Errorf("%s: split %d/%d", tc.spec, len(train.Indices), len(val.Indices))
		}
		if len(d.Hash) != 64 || d.Description == "" {
			t.Errorf("%s: hash %q description %q", tc.spec, d.Hash, d.Description)
		}
		img, err := d.Images.RGB(0)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != image.Rect(0, 0, 112, 112) {
			t.Errorf("%s: image 0 bounds %v", tc.spec, img.Bounds())
		}
	}
}

func TestDemoRepeatsAverage(t *testing.T) {
	d, err := Open("demo:210325")
	if err != nil {
		t.Fatal(err)
	}
	// NumPy: raw[7, 3, :] (neuron 7, image 3).
	want := []float64{5, 5, 6, 5, 4, 4, 1, math.NaN(), math.NaN(), math.NaN()}
	for k, w := range want {
		got := float64(d.Repeats[(3*d.NumNeurons+7)*d.NumTrials+k])
		if got != w && !(math.IsNaN(got) && math.IsNaN(w)) {
			t.Errorf("repeat %d of neuron 7, image 3 = %v, want %v", k, got, w)
		}
	}
	// The averaged file is the NaN-mean of the raw repeats: check the
	// transposes agree.
	worst := 0.0
	for i := range d.Images.Len() {
		for j := range d.NumNeurons {
			sum, n := 0.0, 0
			for k := range d.NumTrials {
				v := d.Repeats[(i*d.NumNeurons+j)*d.NumTrials+k]
				if !math.IsNaN(float64(v)) {
					sum += float64(v)
					n++
				}
			}
			worst = max(worst, math.Abs(sum/float64(n)-float64(d.Responses[i*d.NumNeurons+j])))
		}
	}
	if worst > 1e-5 {
		t.Errorf("repeat mean differs from averaged responses by %g", worst)
	}
}

func TestDemoImagesConcurrent(t *testing.T) {
	d, err := Open("demo:210325")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < 40; i++ {
				if _, err := d.Images.RGB(i); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

func TestDemoImageOrder(t *testing.T) {
	d, err := Open("demo")
	if err != nil {
		t.Fatal(err)
	}
	if d.Images.Name(0) != "image0001.jpg" || d.Images.Name(1199) != "image1200.jpg" {
		t.Errorf("names %q .. %q", d.Images.Name(0), d.Images.Name(1199))
	}
	names := []string{"b10.jpg", "a2.jpg", "x.jpg", "c1.jpg", "a10.jpg"}
	slices.SortFunc(names, compareNumeric)
	if want := []string{"c1.jpg", "a2.jpg", "a10.jpg", "b10.jpg", "x.jpg"}; !slices.Equal(names, want) {
		t.Errorf("numeric order %q, want %q", names, want)
	}
}
