package data

import (
	"image"
	"sync"
)

// encodedImages are stimuli held as encoded files (JPEG, PNG, ...), decoded
// on first use. With cache set, each decoded image is kept (the demo: 1200
// images of 112x112); without, every call decodes again, so a large folder
// never sits decoded in memory.
type encodedImages struct {
	file  string // for errors: the zip or folder
	names []string
	load  func(i int) ([]byte, error)
	cache bool

	once []sync.Once
	imgs []*image.RGBA
	errs []error
}

func newEncodedImages(file string, names []string, load func(int) ([]byte, error), cache bool) *encodedImages {
	e := &encodedImages{file: file, names: names, load: load, cache: cache}
	if cache {
		e.once = make([]sync.Once, len(names))
		e.imgs = make([]*image.RGBA, len(names))
		e.errs = make([]error, len(names))
	}
	return e
}

func (e *encodedImages) Len() int          { return len(e.names) }
func (e *encodedImages) Name(i int) string { return e.names[i] }

func (e *encodedImages) Normalized(int) ([]float32, int, int, int, bool) {
	return nil, 0, 0, 0, false
}

// RGB returns an *image.RGBA (opaque). With caching it is shared: callers
// must not modify it.
func (e *encodedImages) RGB(i int) (image.Image, error) {
	if !e.cache {
		return e.decode(i)
	}
	e.once[i].Do(func() { e.imgs[i], e.errs[i] = e.decode(i) })
	if e.errs[i] != nil {
		return nil, e.errs[i]
	}
	return e.imgs[i], nil
}

func (e *encodedImages) decode(i int) (*image.RGBA, error) {
	b, err := e.load(i)
	if err != nil {
		return nil, err
	}
	img, err := DecodeImage(b)
	if err != nil {
		return nil, errImage(e.file, e.names[i], err)
	}
	return img, nil
}
