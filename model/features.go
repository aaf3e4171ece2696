package model

import (
	"context"

	"itscope/data"
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
