package features

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"itscope/data"
	"itscope/model/nets"
)

// maxSweepBatchFloats bounds one batch's outputs over all taps being cached
// at once (256 MB), so that filling every tap stays within memory.
const maxSweepBatchFloats = 64 << 20

// SweepLayers resolves "all" or "L1,L2" against a network's taps.
func SweepLayers(net nets.Network, list string) ([]string, error) {
	var layers []string
	if list == "" || list == "all" {
		for _, t := range net.Taps() {
			layers = append(layers, t.Name)
		}
		return layers, nil
	}
	for _, l := range strings.Split(list, ",") {
		if l = strings.TrimSpace(l); l != "" {
			layers = append(layers, l)
		}
	}
	return layers, nets.FindTaps(net.Name(), net.Taps(), layers)
}

// PinTaps pins the cache entries of layers of net over ds, so that no
// eviction removes them before the jobs that read them have run.
func (c *FeatureCache) PinTaps(ds *data.Dataset, net nets.Network, layers []string) (*Pin, error) {
	paths := make([]string, len(layers))
	for i, l := range layers {
		paths[i] = c.Path(ds.Hash, netCacheKey(net, l))
	}
	return c.Pin(paths...)
}

// fillLocks holds one token per (cache, dataset, network) being filled, so
// that concurrent fills of the same network's taps (the jobs of one sweep)
// run one pass: the later ones wait and then find their taps cached.
var fillLocks sync.Map // key string -> chan struct{} (capacity 1)

// FillTapCache makes sure the feature cache holds each of layers of net over
// every image of ds, computing all missing ones in a single pass: each batch
// goes through the network once and its outputs at every tap stream to their
// own .npy files. It returns the number of forward passes run.
func FillTapCache(ctx context.Context, cache *FeatureCache, ds *data.Dataset, net nets.Network, layers []string,
	batch int, rep CacheReport) (int64, error) {
	if err := nets.FindTaps(net.Name(), net.Taps(), layers); err != nil {
		return 0, err
	}
	token, _ := fillLocks.LoadOrStore(cache.Dir+"\x00"+ds.Hash+"\x00"+netCacheKey(net, ""), make(chan struct{}, 1))
	select {
	case token.(chan struct{}) <- struct{}{}:
		defer func() { <-token.(chan struct{}) }()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	sizes := map[string]int{}
	for _, t := range net.Taps() {
		sizes[t.Name] = t.Size()
	}
	pin, err := cache.PinTaps(ds, net, layers)
	if err != nil {
		return 0, err
	}
	defer pin.Release()
	n := ds.Images.Len()
	streams := map[string]*entryWriter{}
	var missing []string
	perImage := 0
	defer func() {
		for _, s := range streams {
			s.Abort()
		}
	}()
	for _, l := range layers {
		f, err := NewNetFeatures(net, l, batch)
		if err != nil {
			return 0, err
		}
		if m, ok := cache.Lookup(ds, f, rep); ok {
			m.Close()
			continue
		}
		s, err := createEntry(cache.Path(ds.Hash, f.CacheKey()), f.CacheKey(), n, sizes[l])
		if err != nil {
			return 0, err
		}
		streams[l] = s
		missing = append(missing, l)
		perImage += sizes[l]
	}
	if len(missing) == 0 {
		return 0, nil
	}
	if batch <= 0 {
		batch = DefaultNetBatch
	}
	batch = max(1, min(batch, maxSweepBatchFloats/max(1, perImage)))
	images := make([]int, n)
	for i := range images {
		images[i] = i
	}
	var forwards atomic.Int64
	done := 0
	err = extractTaps(ctx, net, ds, images, missing, batch, &forwards, func(first int, blocks map[string][]float32) error {
		rows := 0
		for _, l := range missing {
			if err := streams[l].WriteRows(first, blocks[l]); err != nil {
				return err
			}
			rows = len(blocks[l]) / sizes[l]
		}
		done += rows
		rep.progress(done, n)
		return nil
	})
	if err != nil {
		return forwards.Load(), err
	}
	for _, l := range missing {
		if err := streams[l].Commit(); err != nil {
			return forwards.Load(), err
		}
		delete(streams, l)
	}
	cache.evict(rep)
	return forwards.Load(), nil
}
