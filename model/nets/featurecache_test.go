package nets_test

// The feature cache's tests run here, on a tiny ResNet of this package
// (export_test.go), since package features cannot build one.

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"itscope/data"
	"itscope/model/features"
	"itscope/model/nets"
)

// tensorImages are stimuli stored as normalised CHW tensors, as NX-414's.
type tensorImages struct {
	n, size int
	chw     [][]float32
}

func (t *tensorImages) Len() int                     { return t.n }
func (t *tensorImages) Name(i int) string            { return fmt.Sprint(i) }
func (t *tensorImages) RGB(int) (image.Image, error) { return nil, fmt.Errorf("no RGB") }
func (t *tensorImages) Normalized(i int) ([]float32, int, int, int, bool) {
	return t.chw[i], 3, t.size, t.size, true
}

func smallDataset(n, size int) *data.Dataset {
	rng := rand.New(rand.NewPCG(1, 2))
	imgs := &tensorImages{n: n, size: size}
	for range n {
		x := make([]float32, 3*size*size)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		imgs.chw = append(imgs.chw, x)
	}
	return &data.Dataset{Name: "small", Hash: fmt.Sprintf("test-%d-%d", n, size), Images: imgs}
}

func smallResNet(t *testing.T) nets.Network {
	t.Helper()
	n, err := nets.NewTinyResNet(7)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFeatureCacheSecondFitRunsNoForwardPass(t *testing.T) {
	ds := smallDataset(21, 32)
	net := smallResNet(t)
	cache, err := features.OpenFeatureCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := features.NewNetFeatures(net, "layer2", 8)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cache.Ensure(context.Background(), ds, f, features.CacheReport{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Forwards(); got != 3 {
		t.Errorf("first extraction: %d forward passes, want 3 (21 images in batches of 8)", got)
	}
	if m.Rows() != 21 || m.Cols() != 8*4*4 {
		t.Errorf("cached matrix is %dx%d, want 21x128", m.Rows(), m.Cols())
	}
	// The file holds what a direct forward pass of all images gives (to
	// rounding: batches of another size sum in another order).
	var x []float32
	for i := range 21 {
		x = append(x, ds.Images.(*tensorImages).chw[i]...)
	}
	direct, err := net.Forward(x, 21, []string{"layer2"})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Each(func(first int, block []float32) error {
		for k, v := range block {
			if w := direct["layer2"][first*m.Cols()+k]; math.Abs(float64(v-w)) > 1e-5*(1+math.Abs(float64(w))) {
				return fmt.Errorf("row %d col %d: cached %v, forward %v", first+k/m.Cols(), k%m.Cols(), v, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()

	f2, _ := features.NewNetFeatures(net, "layer2", 8)
	m, err = cache.Ensure(context.Background(), ds, f2, features.CacheReport{})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got := f2.Forwards(); got != 0 {
		t.Errorf("second fit of the same layer ran %d forward passes, want 0", got)
	}

	// A truncated file is not trusted: it is extracted again.
	path := cache.Path(ds.Hash, f2.CacheKey())
	if err := os.Truncate(path, 1000); err != nil {
		t.Fatal(err)
	}
	m, err = cache.Ensure(context.Background(), ds, f2, features.CacheReport{})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got := f2.Forwards(); got != 3 {
		t.Errorf("after truncation: %d forward passes, want 3", got)
	}
	// Another seed is another network: another cache entry.
	other, err := nets.NewTinyResNet(8)
	if err != nil {
		t.Fatal(err)
	}
	f3, _ := features.NewNetFeatures(other, "layer2", 8)
	if f3.CacheKey() == f2.CacheKey() {
		t.Errorf("seeds 7 and 8 share the cache key %q", f3.CacheKey())
	}
	leftovers, _ := filepath.Glob(filepath.Join(cache.Dir, ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestFillTapCacheOnePassForManyLayers(t *testing.T) {
	ds := smallDataset(10, 32)
	net := smallResNet(t)
	cache, err := features.OpenFeatureCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	layers := []string{"conv1", "layer3", "fc"}
	var last int
	passes, err := features.FillTapCache(context.Background(), cache, ds, net, layers, 4, features.CacheReport{Progress: func(done, total int) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	if passes != 3 || last != 10 {
		t.Errorf("%d forward passes, progress ended at %d; want 3 passes (10 images, batch 4) and 10", passes, last)
	}
	for _, l := range layers {
		f, _ := features.NewNetFeatures(net, l, 4)
		m, err := cache.Ensure(context.Background(), ds, f, features.CacheReport{})
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		if f.Forwards() != 0 {
			t.Errorf("layer %s: %d forward passes after the sweep filled the cache", l, f.Forwards())
		}
	}
	if passes, _ := features.FillTapCache(context.Background(), cache, ds, net, layers, 4, features.CacheReport{}); passes != 0 {
		t.Errorf("refill ran %d forward passes, want 0", passes)
	}
	if _, err := features.FillTapCache(context.Background(), cache, ds, net, []string{"layer9"}, 4, features.CacheReport{}); err == nil {
		t.Error("unknown layer: no error")
	}
}
