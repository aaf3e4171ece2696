package train

import (
	"context"
	"runtime"
	"sync"

	"itscope/data"
)

// inputBudget bounds the bytes of prepared network inputs held in memory for
// training; a dataset whose inputs would need more is prepared batch by batch
// (NX-414's stimuli at 224 are read straight from the dataset's tensors).
const inputBudget = 768 << 20

// imageInputs turns dataset images into network inputs (3, size, size),
// ImageNet-normalised, by position in a list of image indices.
type imageInputs struct {
	ds     *data.Dataset
	images []int
	size   int
	cached []float32 // all inputs, or nil when prepared per batch
}

// newImageInputs prepares the inputs of images at size, all at once when
// they fit inputBudget.
func newImageInputs(ctx context.Context, ds *data.Dataset, images []int, size int) (*imageInputs, error) {
	in := &imageInputs{ds: ds, images: images, size: size}
	per := 3 * size * size
	if int64(len(images))*int64(per)*4 <= inputBudget && !in.direct() {
		in.cached = make([]float32, len(images)*per)
		all := make([]int, len(images))
		for i := range all {
			all[i] = i
		}
		if err := in.prepare(ctx, all, in.cached); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// direct reports whether the dataset holds its stimuli as tensors of the
// right size already, which need no copy.
func (in *imageInputs) direct() bool {
	if len(in.images) == 0 {
		return false
	}
	_, c, h, w, ok := in.ds.Images.Normalized(in.images[0])
	return ok && c == 3 && h == in.size && w == in.size
}

// fill writes the inputs at positions into dst (len(positions)*3*size*size).
func (in *imageInputs) fill(positions []int, dst []float32) error {
	per := 3 * in.size * in.size
	if in.cached != nil {
		for k, p := range positions {
			copy(dst[k*per:(k+1)*per], in.cached[p*per:(p+1)*per])
		}
		return nil
	}
	return in.prepare(context.Background(), positions, dst)
}

// prepare computes the inputs at positions into dst, decoding in parallel.
func (in *imageInputs) prepare(ctx context.Context, positions []int, dst []float32) error {
	per := 3 * in.size * in.size
	workers := min(runtime.GOMAXPROCS(0), len(positions))
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := w; k < len(positions); k += workers {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				img := in.images[positions[k]]
				if err := networkInput(in.ds, img, in.size, dst[k*per:(k+1)*per]); err != nil {
					errs[w] = err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// networkInput writes image i of ds as a (3, size, size) ImageNet-normalised
// tensor into dst (data.NetworkInput: stored tensors of that size as they
// are, anything else resized with antialiased bilinear weights, no crop).
func networkInput(ds *data.Dataset, i, size int, dst []float32) error {
	out, err := data.NetworkInput(ds, i, size, dst)
	if err != nil {
		return err
	}
	if len(out) != len(dst) || &out[0] != &dst[0] {
		copy(dst, out)
	}
	return nil
}
