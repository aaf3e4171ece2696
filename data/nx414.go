package data

import (
	"fmt"
	"image"
	"math"
	"strconv"
)

// NX-414 IT_data.h5 layout (Majaj & Hong 2015 as distributed by EPFL NX-414):
//
//	stimulus_train (N,3,H,W) float32, ImageNet-normalised (224x224 in the course file)
//	spikes_train   (N,neurons)         float (any HDF5 numeric type; read as float32)
//	object_train   (N,)                fixed- or variable-length strings
//	stimulus_val, spikes_val, object_val   same, for val
//	stimulus_test, object_test             optional; there is no spikes_test
//
// The object_* keys are optional as a group (decided by object_train). Images
// are numbered train first, then val, then test.
const nx414Citation = `Majaj, Hong, Solomon, DiCarlo, "Simple learned weighted sums of inferior temporal neuronal firing rates accurately predict human core object recognition performance", J. Neurosci. 2015 (EPFL NX-414 file)`

type h5Split struct {
	name string
	n    int
}

func newNX414Dataset(path string, stim []float32, n, c, h, w int, responses []float32, neurons int,
	objects []string, haveObjects bool, splits []Split) *Dataset {
	d := &Dataset{
		Name: path,
		Description: fmt.Sprintf("Macaque IT, %d neurons x %d images (%s). %s.",
			neurons, n, splitCounts(splits), nx414Citation),
		Images:     &tensorImages{data: stim, n: n, c: c, h: h, w: w},
		NumNeurons: neurons,
		Responses:  responses,
		Splits:     splits,
	}
	if haveObjects {
		d.Objects = objects
	}
	return d
}

// checkFiniteStimuli refuses a NaN or Inf in stimuli (CHW planes of c x h x
// w, the first being image first): networks and pixel features would turn
// them into finite-looking scores.
func checkFiniteStimuli(path, key string, stim []float32, first, c, h, w int) error {
	for k, v := range stim {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			img, pos := k/(c*h*w), k%(c*h*w)
			return fmt.Errorf("%s: key %q: want finite stimuli, found %v in image %d (number %d of the dataset) at channel %d, y %d, x %d",
				path, key, v, img, first+img, pos/(h*w), pos/w%h, pos%w)
		}
	}
	return nil
}

// nx414Hash is Dataset.Hash for a dataset from newNX414Dataset.
func nx414Hash(d *Dataset) string {
	t := d.Images.(*tensorImages)
	hs := newContentHasher("nx414")
	for _, v := range []int{t.c, t.h, t.w} {
		hs.int(v)
	}
	hs.bigF32s(t.data)
	return hs.finish(d)
}

func splitCounts(splits []Split) string {
	s := ""
	for i, sp := range splits {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", sp.Name, len(sp.Indices))
	}
	return s
}

// ImageNet channel statistics (RGB) used by torchvision and by NX-414.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// TensorImages are n stimuli stored as NX-414 stores them: ImageNet-
// normalised CHW float32, c x h x w values each, image after image. Synthetic
// stimuli (training benchmarks and tests) are made this way.
func TensorImages(x []float32, n, c, h, w int) (Images, error) {
	if n < 0 || c < 1 || h < 1 || w < 1 || len(x) != n*c*h*w {
		return nil, fmt.Errorf("tensor images: want %d x (%d, %d, %d) = %d values, found %d", n, c, h, w, n*c*h*w, len(x))
	}
	return &tensorImages{data: x, n: n, c: c, h: h, w: w}, nil
}

// tensorImages are stimuli stored as ImageNet-normalised CHW float32.
type tensorImages struct {
	data       []float32
	n, c, h, w int
}

func (t *tensorImages) Len() int          { return t.n }
func (t *tensorImages) Name(i int) string { return strconv.Itoa(i) }

func (t *tensorImages) Normalized(i int) ([]float32, int, int, int, bool) {
	sz := t.c * t.h * t.w
	return t.data[i*sz : (i+1)*sz : (i+1)*sz], t.c, t.h, t.w, true
}

// RGB undoes the normalisation: round(255*(x*std+mean)), clamped to 0..255.
func (t *tensorImages) RGB(i int) (image.Image, error) {
	chw, c, h, w, _ := t.Normalized(i)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	for y := range h {
		for x := range w {
			p := out.Pix[y*out.Stride+4*x:]
			for k := range 3 {
				v := chw[min(k, c-1)*plane+y*w+x]
				p[k] = uint8(math.Round(math.Min(255, math.Max(0, 255*float64(v*ImageNetStd[k]+ImageNetMean[k])))))
			}
			p[3] = 255
		}
	}
	return out, nil
}
