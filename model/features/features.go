package features

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"itscope/data"
	"itscope/model/nets"
)

// Features turns stimuli into one feature vector per image: pixels, or the
// activations at a tap of a network.
type Features interface {
	// Name is the spec a user typed: "pixels:32", "mobilenetv2:features.14".
	Name() string
	// CacheKey identifies the features for the on-disk cache: source, weights
	// hash, layer and preprocessing. An empty key means never cache (cheap
	// features such as pixels).
	CacheKey() string
	// Dim is the length of one image's feature vector for this dataset.
	Dim(ds *data.Dataset) (int, error)
	// Extract computes the features of the given images in order, in batches:
	// emit receives the position in images of the batch's first image and a
	// row-major block of len(batch)*Dim floats that it must not keep.
	Extract(ctx context.Context, ds *data.Dataset, images []int, emit func(first int, block []float32) error) error
}

// FeatureOptions are the settings a features spec may need besides its text.
type FeatureOptions struct {
	Weights   string // --weights FILE.onnx for a pretrained network
	Seed      uint64 // for random-weight networks
	CacheDir  string // the feature cache; "" for the default
	CacheMax  int64  // its size bound in bytes (see OpenFeatureCache)
	BatchSize int    // images per forward pass; 0 for the default
	// Progress, when not nil, receives (done, total) images during extraction.
	Progress func(done, total int)
	// Log, when not nil, hears when a damaged cache entry is rebuilt or
	// entries are evicted.
	Log func(msg string)
}

// featureParser makes Features from a spec.
type featureParser func(spec string, opts FeatureOptions) (Features, error)

// featureParsers maps the prefix of a spec (the text before the first ':')
// to the parser that reads it: pixels, every network name, and onnx.
func featureParsers() map[string]featureParser {
	parsers := map[string]featureParser{"pixels": parsePixels, "onnx": parseNetFeatures}
	for _, name := range nets.NetworkNames() {
		parsers[name] = parseNetFeatures
	}
	return parsers
}

// ParseFeatures turns a --features spec into Features.
func ParseFeatures(spec string, opts FeatureOptions) (Features, error) {
	prefix, _, _ := strings.Cut(spec, ":")
	parsers := featureParsers()
	parse, ok := parsers[prefix]
	if !ok {
		known := make([]string, 0, len(parsers))
		for p := range parsers {
			known = append(known, p)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("features %q: unknown kind %q (known: %s)", spec, prefix, strings.Join(known, ", "))
	}
	return parse(spec, opts)
}
