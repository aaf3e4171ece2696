package features

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"itscope/data"
	"itscope/model/nets"
)

// NetPreprocessing says how images become network inputs; it is part of the
// feature cache key, so changing the preprocessing must change it.
const NetPreprocessing = "data.NetworkInput(224): NX-414 tensors as stored; images resized to 224x224 (antialiased bilinear), /255, ImageNet mean/std"

// DefaultNetBatch is the number of images per forward pass.
const DefaultNetBatch = 16

// defaultTap is the layer read when a spec names none: the study's best
// ResNet layer, and the last feature block of the others.
func defaultTap(net nets.Network) string {
	name := strings.TrimSuffix(net.Name(), "-random")
	switch name {
	case "resnet18", "resnet50":
		return "layer3"
	case "vgg19":
		return "features.36"
	case "mobilenetv2":
		return "features.18"
	}
	taps := net.Taps()
	return taps[len(taps)-1].Name
}

// NetFeatures are the activations at one tap of a network: --features
// NET[:LAYER], e.g. "resnet50-random:layer3", "onnx:model.onnx:/Relu_3".
type NetFeatures struct {
	spec  string
	net   nets.Network
	layer string
	batch int

	forwards atomic.Int64 // forward passes run, for tests and progress
}

// SplitNetSpec splits "NET[:LAYER]" ("onnx:PATH[:LAYER]", where a layer may
// follow the file name ending in .onnx).
func SplitNetSpec(spec string) (net, layer string) {
	if rest, ok := strings.CutPrefix(spec, "onnx:"); ok {
		if i := strings.Index(rest, ".onnx:"); i >= 0 {
			return "onnx:" + rest[:i+5], rest[i+6:]
		}
		return spec, ""
	}
	net, layer, _ = strings.Cut(spec, ":")
	return net, layer
}

var (
	openNetsMu sync.Mutex
	openNets   = map[string]nets.Network{}
)

// OpenNetworkShared is OpenNetwork, reusing a network already built in this
// process with the same spec and options (building resnet50 costs a second;
// a sweep or a grid asks for it once per layer).
func OpenNetworkShared(spec string, opt nets.NetOptions) (nets.Network, error) {
	key := fmt.Sprintf("%s\x00%s\x00%d", spec, opt.Weights, opt.Seed)
	openNetsMu.Lock()
	defer openNetsMu.Unlock()
	if n, ok := openNets[key]; ok {
		return n, nil
	}
	n, err := nets.OpenNetwork(spec, opt)
	if err != nil {
		return nil, err
	}
	openNets[key] = n
	return n, nil
}

func parseNetFeatures(spec string, opts FeatureOptions) (Features, error) {
	netName, layer := SplitNetSpec(spec)
	net, err := OpenNetworkShared(netName, nets.NetOptions{Weights: opts.Weights, Seed: opts.Seed})
	if err != nil {
		return nil, fmt.Errorf("features %q: %w", spec, err)
	}
	return NewNetFeatures(net, layer, opts.BatchSize)
}

// NewNetFeatures reads tap layer ("" for the default) of net, batch images
// per forward pass (0 for DefaultNetBatch).
func NewNetFeatures(net nets.Network, layer string, batch int) (*NetFeatures, error) {
	if layer == "" {
		layer = defaultTap(net)
	}
	if err := nets.FindTaps(net.Name(), net.Taps(), []string{layer}); err != nil {
		return nil, err
	}
	if batch <= 0 {
		batch = DefaultNetBatch
	}
	return &NetFeatures{spec: net.Name() + ":" + layer, net: net, layer: layer, batch: batch}, nil
}

// Name is "NET:LAYER".
func (f *NetFeatures) Name() string { return f.spec }

// Layer is the tap read.
func (f *NetFeatures) Layer() string { return f.layer }

// Network is the network read.
func (f *NetFeatures) Network() nets.Network { return f.net }

// Forwards counts the forward passes run so far.
func (f *NetFeatures) Forwards() int64 { return f.forwards.Load() }

// CacheKey names the network, its weights, the tap and the preprocessing.
func (f *NetFeatures) CacheKey() string {
	return netCacheKey(f.net, f.layer)
}

func netCacheKey(net nets.Network, layer string) string {
	return fmt.Sprintf("net=%s|layer=%s|weights=%s|pre=%s", net.Name(), layer, net.Identity(), NetPreprocessing)
}

// Dim is the tap's size per image.
func (f *NetFeatures) Dim(*data.Dataset) (int, error) {
	for _, t := range f.net.Taps() {
		if t.Name == f.layer {
			return t.Size(), nil
		}
	}
	return 0, fmt.Errorf("network %s has no tap %q", f.net.Name(), f.layer)
}

// Extract runs the network over images in batches.
func (f *NetFeatures) Extract(ctx context.Context, ds *data.Dataset, images []int, emit func(first int, block []float32) error) error {
	return extractTaps(ctx, f.net, ds, images, []string{f.layer}, f.batch, &f.forwards,
		func(first int, blocks map[string][]float32) error { return emit(first, blocks[f.layer]) })
}

// extractTaps runs net over images, batch at a time, and hands each batch's
// outputs at taps to emit. Preprocessing of the next batch overlaps the
// forward pass of the current one.
func extractTaps(ctx context.Context, net nets.Network, ds *data.Dataset, images []int, taps []string, batch int,
	forwards *atomic.Int64, emit func(first int, blocks map[string][]float32) error) error {
	in := net.Input()
	size := in[0] * in[1] * in[2]
	if in[0] != 3 || in[1] != in[2] {
		return fmt.Errorf("network %s: want a square RGB input, found %v", net.Name(), in)
	}
	type prepared struct {
		first int
		x     []float32
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan prepared, 1)
	go func() {
		defer close(ready)
		for first := 0; first < len(images); first += batch {
			n := min(batch, len(images)-first)
			x := make([]float32, n*size)
			var err error
			var wg sync.WaitGroup
			var mu sync.Mutex
			for k := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dst := x[k*size : (k+1)*size]
					v, e := data.NetworkInput(ds, images[first+k], in[1], dst)
					if e == nil && len(v) != size {
						e = fmt.Errorf("%s: image %s: preprocessing gave %d values, want %d", ds.Name, ds.Images.Name(images[first+k]), len(v), size)
					}
					if e != nil {
						mu.Lock()
						err = e
						mu.Unlock()
						return
					}
					copy(dst, v)
				}()
			}
			wg.Wait()
			select {
			case ready <- prepared{first, x, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for p := range ready {
		if p.err != nil {
			return p.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := net.Forward(p.x, len(p.x)/size, taps)
		if err != nil {
			return err
		}
		if forwards != nil {
			forwards.Add(1)
		}
		if err := emit(p.first, out); err != nil {
			return err
		}
	}
	return ctx.Err()
}
