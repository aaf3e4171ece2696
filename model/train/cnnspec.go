package train

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CNNSpec describes a CNN trained from scratch: Layers conv blocks
// (conv, [batchnorm], ReLU, [pool], [dropout]) then a linear read-out to the
// neurons. Per-block settings hold one value per block.
//
// The spec string reads like
// "layers=3,channels=32-64-128,kernel=3,stride=1,pool=2,bn=on,dropout=0,size=64,readout=flatten".
// Every key has a default; a per-block key given one value applies it to
// every block.
type CNNSpec struct {
	Layers   int       // conv blocks, 1 to 5
	Channels []int     // output channels per block
	Kernel   []int     // square kernel per block; padding is Kernel/2 ("same" at stride 1)
	Stride   []int     // conv stride per block
	Pool     []int     // max-pool window and stride per block; 0 or 1 means no pool
	BN       []bool    // batchnorm after the conv, per block
	Dropout  []float64 // dropout after the block, per block
	Size     int       // input side in pixels: 64, 112 or 224
	// Readout is "flatten" (every position of the last block feeds the
	// linear layer, so the read-out keeps where things are in the image, as
	// receptive fields do) or "gap" (global average pool first: far fewer
	// parameters, no spatial information).
	Readout string
}

// defaultChannels are the channels of blocks 1..5 when the spec gives none;
// the first three are the study's 3-layer CNN.
var defaultChannels = []int{32, 64, 128, 256, 256}

// DefaultCNNSpec is the study's 3-layer CNN at 64x64.
func DefaultCNNSpec() CNNSpec {
	s, _ := ParseCNNSpec("")
	return s
}

// ParseCNNSpec reads a CNN spec string; see CNNSpec.
func ParseCNNSpec(text string) (CNNSpec, error) {
	kv := map[string]string{}
	for _, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" {
			return CNNSpec{}, fmt.Errorf("cnn spec %q: item %q: want key=value", text, item)
		}
		if _, dup := kv[k]; dup {
			return CNNSpec{}, fmt.Errorf("cnn spec %q: key %q given twice", text, k)
		}
		kv[k] = v
	}
	fail := func(key, want string) (CNNSpec, error) {
		return CNNSpec{}, fmt.Errorf("cnn spec %q: key %q: want %s, found %q", text, key, want, kv[key])
	}

	s := CNNSpec{Layers: 3, Size: 64, Readout: "flatten"}
	if v, ok := kv["layers"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5 {
			return fail("layers", "an integer from 1 to 5")
		}
		s.Layers = n
	} else if v, ok := kv["channels"]; ok {
		// layers may follow from the channel list alone.
		s.Layers = len(strings.Split(v, "-"))
		if s.Layers > 5 {
			return fail("channels", "1 to 5 values")
		}
	}
	n := s.Layers

	ints := func(key string, def, min, max int) ([]int, error) {
		parts, ok := perBlock(kv, key, strconv.Itoa(def), n)
		if !ok {
			return nil, fmt.Errorf("cnn spec %q: key %q: want 1 or %d dash-separated values (one per block), found %d", text, key, n, len(strings.Split(kv[key], "-")))
		}
		out := make([]int, n)
		for i, p := range parts {
			x, err := strconv.Atoi(p)
			if err != nil || x < min || x > max {
				return nil, fmt.Errorf("cnn spec %q: key %q: want integers from %d to %d, found %q", text, key, min, max, p)
			}
			out[i] = x
		}
		return out, nil
	}
	var err error
	if _, ok := kv["channels"]; ok {
		if s.Channels, err = ints("channels", 0, 1, 4096); err != nil {
			return CNNSpec{}, err
		}
	} else {
		s.Channels = append([]int(nil), defaultChannels[:n]...)
	}
	if s.Kernel, err = ints("kernel", 3, 1, 15); err != nil {
		return CNNSpec{}, err
	}
	if s.Stride, err = ints("stride", 1, 1, 8); err != nil {
		return CNNSpec{}, err
	}
	if s.Pool, err = ints("pool", 2, 0, 8); err != nil {
		return CNNSpec{}, err
	}

	s.BN = make([]bool, n)
	bn, ok := perBlock(kv, "bn", "on", n)
	if !ok {
		return fail("bn", fmt.Sprintf("on or off, once or once per block (%d)", n))
	}
	for i := range s.BN {
		switch strings.ToLower(bn[i]) {
		case "on", "true", "1", "yes":
			s.BN[i] = true
		case "off", "false", "0", "no":
		default:
			return fail("bn", "on or off")
		}
	}

	s.Dropout = make([]float64, n)
	drop, ok := perBlock(kv, "dropout", "0", n)
	if !ok {
		return fail("dropout", fmt.Sprintf("a probability, once or once per block (%d)", n))
	}
	for i := range s.Dropout {
		p, err := strconv.ParseFloat(drop[i], 64)
		if err != nil || p < 0 || p >= 1 {
			return fail("dropout", "probabilities in [0, 1)")
		}
		s.Dropout[i] = p
	}

	if v, ok := kv["size"]; ok {
		switch v {
		case "64", "112", "224":
			s.Size, _ = strconv.Atoi(v)
		default:
			return fail("size", "64, 112 or 224")
		}
	}
	if v, ok := kv["readout"]; ok {
		switch strings.ToLower(v) {
		case "flatten", "gap":
			s.Readout = strings.ToLower(v)
		default:
			return fail("readout", "flatten or gap")
		}
	}
	for k := range kv {
		switch k {
		case "layers", "channels", "kernel", "stride", "pool", "bn", "dropout", "size", "readout":
		default:
			return CNNSpec{}, fmt.Errorf("cnn spec %q: unknown key %q (want layers, channels, kernel, stride, pool, bn, dropout, size, readout)", text, k)
		}
	}
	if _, err := s.FeatureShape(); err != nil {
		return CNNSpec{}, fmt.Errorf("cnn spec %q: %w", text, err)
	}
	return s, nil
}

// FeatureShape is the (C, H, W) that the last block hands to the read-out.
func (s CNNSpec) FeatureShape() ([3]int, error) {
	h := s.Size
	for i := 0; i < s.Layers; i++ {
		pad := s.Kernel[i] / 2
		h = (h+2*pad-s.Kernel[i])/s.Stride[i] + 1
		if h < 1 {
			return [3]int{}, fmt.Errorf("block %d: the image shrinks to nothing (kernel %d, stride %d)", i+1, s.Kernel[i], s.Stride[i])
		}
		if s.Pool[i] > 1 {
			if h < s.Pool[i] {
				return [3]int{}, fmt.Errorf("block %d: pool %d is larger than the %dx%d map", i+1, s.Pool[i], h, h)
			}
			h /= s.Pool[i]
		}
	}
	c := s.Channels[s.Layers-1]
	if s.Readout == "gap" {
		return [3]int{c, 1, 1}, nil
	}
	return [3]int{c, h, h}, nil
}

// String is the canonical spec, which ParseCNNSpec reads back to s.
func (s CNNSpec) String() string {
	bn := make([]string, len(s.BN))
	for i, b := range s.BN {
		bn[i] = "off"
		if b {
			bn[i] = "on"
		}
	}
	drop := make([]string, len(s.Dropout))
	for i, p := range s.Dropout {
		drop[i] = strconv.FormatFloat(p, 'g', -1, 64)
	}
	return fmt.Sprintf("layers=%d,channels=%s,kernel=%s,stride=%s,pool=%s,bn=%s,dropout=%s,size=%d,readout=%s",
		s.Layers, JoinInts(s.Channels), JoinInts(s.Kernel), JoinInts(s.Stride), JoinInts(s.Pool),
		collapse(bn), collapse(drop), s.Size, s.Readout)
}

func JoinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return collapse(parts)
}

// collapse writes a per-block list as one value when every block agrees.
func collapse(parts []string) string {
	for _, p := range parts {
		if p != parts[0] {
			return strings.Join(parts, "-")
		}
	}
	return strings.Join(parts[:min(len(parts), 1)], "")
}

// perBlock is the value of key for each of n blocks: the "-"-separated list
// kv holds (def when it holds none), one value standing for all blocks; ok
// is false unless the list has 1 or n values.
func perBlock(kv map[string]string, key, def string, n int) (vals []string, ok bool) {
	vals = []string{def}
	if v, has := kv[key]; has {
		vals = strings.Split(v, "-")
	}
	switch len(vals) {
	case n:
		return vals, true
	case 1:
		return slices.Repeat(vals, n), true
	}
	return nil, false
}
