package nn

import (
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
	"gorgonia.org/tensor"
)

// fixtures reads testdata/nn/NAME.npz, written by make_torch_fixtures.py.
type fixtures struct {
	t *testing.T
	r *npz.Reader
}

var fixtureCache sync.Map

func openFixtures(t *testing.T, name string) *fixtures {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "nn", name+".npz")
	if r, ok := fixtureCache.Load(path); ok {
		return &fixtures{t: t, r: r.(*npz.Reader)}
	}
	r, err := npz.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	fixtureCache.Store(path, r)
	return &fixtures{t: t, r: r}
}

func (f *fixtures) has(key string) bool {
	return f.r.Header(key) != nil || f.r.Header(key+".npy") != nil
}

// get returns the float32 array key as a tensor of its stored shape.
func (f *fixtures) get(key string) *tensor.Dense {
	f.t.Helper()
	name := key
	if f.r.Header(name) == nil {
		name = key + ".npy"
	}
	h := f.r.Header(name)
	if h == nil {
		f.t.Fatalf("fixture %q missing", key)
	}
	var data []float32
	if err := f.r.Read(name, &data); err != nil {
		f.t.Fatalf("fixture %q: %v", key, err)
	}
	shape := h.Descr.Shape
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	x, err := FromSlice(data, shape...)
	if err != nil {
		f.t.Fatalf("fixture %q: %v", key, err)
	}
	return x
}

// relErr is max|got-want| / max|want|: the error relative to the tensor's
// scale, so near-zero entries do not dominate.
func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		num = max(num, math.Abs(float64(got[i])-float64(want[i])))
		den = max(den, math.Abs(float64(want[i])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// assertClose fails unless got matches want in shape and within tol.
func assertClose(t *testing.T, what string, got, want *tensor.Dense, tol float64) float64 {
	t.Helper()
	if !slices.Equal(got.Shape(), want.Shape()) {
		t.Errorf("%s: shape %v, want %v", what, []int(got.Shape()), []int(want.Shape()))
		return math.Inf(1)
	}
	e := relErr(Float32s(got), Float32s(want))
	if !(e <= tol) {
		t.Errorf("%s: relative error %.3g > %.g", what, e, tol)
	}
	return e
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
