package model

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

func smallResNet(t *testing.T) *archNet {
	t.Helper()
	n, err := newResNet("tiny", resNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.setWeights(7, ""); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFeatureCacheSecondFitRunsNoForwardPass(t *testing.T) {
	ds := smallDataset(21, 32)
	net := smallResNet(t)
	cache, err := OpenFeatureCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewNetFeatures(net, "layer2", 8)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cache.Ensure(context.Background(), ds, f, nil)
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

	f2, _ := NewNetFeatures(net, "layer2", 8)
	m, err = cache.Ensure(context.Background(), ds, f2, nil)
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
	m, err = cache.Ensure(context.Background(), ds, f2, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got := f2.Forwards(); got != 3 {
		t.Errorf("after truncation: %d forward passes, want 3", got)
	}
	// Another seed is another network: another cache entry.
	other, _ := newResNet("tiny", resNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 32})
	other.setWeights(8, "")
	f3, _ := NewNetFeatures(other, "layer2", 8)
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
	cache, err := OpenFeatureCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	layers := []string{"conv1", "layer3", "fc"}
	var last int
	passes, err := FillTapCache(context.Background(), cache, ds, net, layers, 4, func(done, total int) { last = done })
	if err != nil {
		t.Fatal(err)
	}
	if passes != 3 || last != 10 {
		t.Errorf("%d forward passes, progress ended at %d; want 3 passes (10 images, batch 4) and 10", passes, last)
	}
	for _, l := range layers {
		f, _ := NewNetFeatures(net, l, 4)
		m, err := cache.Ensure(context.Background(), ds, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		if f.Forwards() != 0 {
			t.Errorf("layer %s: %d forward passes after the sweep filled the cache", l, f.Forwards())
		}
	}
	if passes, _ := FillTapCache(context.Background(), cache, ds, net, layers, 4, nil); passes != 0 {
		t.Errorf("refill ran %d forward passes, want 0", passes)
	}
	if _, err := FillTapCache(context.Background(), cache, ds, net, []string{"layer9"}, 4, nil); err == nil {
		t.Error("unknown layer: no error")
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(CacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := DefaultCacheDir(); got != "/x/cache/itscope" {
		t.Errorf("with XDG_CACHE_HOME: %q", got)
	}
	t.Setenv(CacheEnv, "/y")
	if got := DefaultCacheDir(); got != "/y" {
		t.Errorf("with %s: %q", CacheEnv, got)
	}
}

func TestRandomInitIsTorchvisions(t *testing.T) {
	cfg := resNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 16, Classes: 1000}
	a, _ := newResNet("resnet", cfg)
	if err := a.setWeights(3, ""); err != nil {
		t.Fatal(err)
	}
	// A conv's weights are N(0, 2/fan_out) (kaiming_normal_, mode fan_out,
	// relu); folding BatchNorm at its initial state (weight 1, bias 0, running
	// mean 0, variance 1) scales them by 1/sqrt(1+eps). fc's are U(-b, b) with
	// b = 1/sqrt(fan_in), whose standard deviation is b/sqrt(3).
	for _, u := range a.units {
		if u.name != "layer4.0.conv2" {
			continue
		}
		std := sampleStd(u.conv.Weight.Value.Data().([]float32))
		want := math.Sqrt(2.0/(128*9)) / math.Sqrt(1+1e-5)
		if d := std/want - 1; math.Abs(d) > 0.01 {
			t.Errorf("%s: weight std %.5f, want %.5f", u.name, std, want)
		}
	}
	fc := a.linears[0].l
	if std, want := sampleStd(fc.Weight.Value.Data().([]float32)), 1/math.Sqrt(3*128); math.Abs(std/want-1) > 0.01 {
		t.Errorf("fc: weight std %.5f, want %.5f", std, want)
	}
	b, _ := newResNet("resnet", cfg)
	b.setWeights(3, "")
	c, _ := newResNet("resnet", cfg)
	c.setWeights(4, "")
	pa, pb, pc := a.params(), b.params(), c.params()
	same := true
	for i := range pa {
		for k := range pa[i].Data {
			if pa[i].Data[k] != pb[i].Data[k] {
				t.Fatalf("seed 3 twice: %s differs at %d", pa[i].Name, k)
			}
			same = same && pa[i].Data[k] == pc[i].Data[k]
		}
	}
	if same {
		t.Error("seeds 3 and 4 give the same weights")
	}
}

func sampleStd(w []float32) float64 {
	var ss float64
	for _, v := range w {
		ss += float64(v) * float64(v)
	}
	return math.Sqrt(ss / float64(len(w)))
}
