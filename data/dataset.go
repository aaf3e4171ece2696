package data

import (
	"fmt"
	"image"
)

// Split names. Every dataset has train and val; test may lack responses
// (NX-414's test split has none).
const (
	Train = "train"
	Val   = "val"
	Test  = "test"
)

// Dataset is a set of stimuli and the neural responses to them.
//
// Responses are stored image-major: Responses[i*NumNeurons+j] is neuron j's
// response to image i. Rows of images whose split has no responses are zero and
// must not be read; ask Split.HasResponses.
type Dataset struct {
	// Name is what the user typed to get it: "demo:201025", a path.
	Name string
	// Hash identifies the content (stimuli, responses, splits), hex sha256; the
	// feature cache and run provenance key on it.
	Hash string
	// Description says where the data comes from, with its citation.
	Description string

	Images     Images
	NumNeurons int
	Responses  []float32

	// Repeats, when not nil, holds single-trial responses image-major:
	// Repeats[(i*NumNeurons+j)*NumTrials+t], NaN where a trial is missing.
	Repeats   []float32
	NumTrials int

	// Objects holds an object label per image, or is nil.
	Objects []string

	Splits []Split
}

// Split is a named subset of the images.
type Split struct {
	Name         string
	Indices      []int // image indices, ascending
	HasResponses bool
}

// Images are the stimuli. Implementations decode lazily where that saves
// memory; every method is safe for concurrent use.
type Images interface {
	Len() int
	// Name is a stable per-image name (a file name, or an index for arrays).
	Name(i int) string
	// RGB returns image i as 8-bit RGB for display and pixel features. For
	// stimuli stored already normalised, it undoes the ImageNet normalisation.
	RGB(i int) (image.Image, error)
	// Normalized, when the stimuli are stored as ImageNet-normalised CHW
	// float32 tensors (NX-414), returns image i's tensor and its (C, H, W);
	// ok is false for ordinary images.
	Normalized(i int) (chw []float32, c, h, w int, ok bool)
}

// SplitByName returns the split called name.
func (d *Dataset) SplitByName(name string) (Split, bool) {
	for _, s := range d.Splits {
		if s.Name == name {
			return s, true
		}
	}
	return Split{}, false
}

// SplitWithImages returns the split called name, or an error naming the
// dataset when it has none with images.
func (d *Dataset) SplitWithImages(name string) (Split, error) {
	s, ok := d.SplitByName(name)
	if !ok || len(s.Indices) == 0 {
		return s, fmt.Errorf("dataset %s: no split %q with images (want train, val or test)", d.Name, name)
	}
	return s, nil
}

// ResponseRow returns neuron responses to image i, a view into Responses.
func (d *Dataset) ResponseRow(i int) []float32 {
	return d.Responses[i*d.NumNeurons : (i+1)*d.NumNeurons]
}
