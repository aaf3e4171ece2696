package features

import (
	"context"
	"fmt"
	"image"
	"strconv"
	"strings"

	"itscope/compute/parallel"
	"itscope/data"
)

// DefaultPixelSize is the side pixels features resize images to when the
// spec gives none: 32x32 RGB, 3072 features, enough to show what raw pixels
// can and cannot predict while keeping a fit without PCA to a few seconds.
const DefaultPixelSize = 32

// Pixels are the raw-pixel features `pixels[:SIZE][:gray|rgb]`: each image
// resized to SIZE x SIZE with data.ResizeBilinearAntialias (Pillow's
// antialiased BILINEAR, bit for bit), scaled to [0, 1] and flattened
// row-major with channels last (NumPy's np.asarray(img).ravel() / 255).
// gray converts the resized RGB image as Pillow's convert("L") does:
// L = (19595 R + 38470 G + 7471 B + 32768) >> 16. The fit pipeline
// standardises pixels with the training images' statistics.
type Pixels struct {
	Size int
	Gray bool
}

func parsePixels(spec string, _ FeatureOptions) (Features, error) { return parsePixelsSpec(spec) }

// parsePixelsSpec reads a pixels spec: pixels, pixels:16, pixels:gray,
// pixels:64:gray, pixels:rgb:32.
func parsePixelsSpec(spec string) (*Pixels, error) {
	parts := strings.Split(spec, ":")
	if parts[0] != "pixels" {
		return nil, fmt.Errorf("features %q: not a pixels spec", spec)
	}
	p := &Pixels{Size: DefaultPixelSize}
	sized := false
	for _, part := range parts[1:] {
		switch part {
		case "gray", "grey":
			p.Gray = true
		case "rgb":
			p.Gray = false
		default:
			n, err := strconv.Atoi(part)
			if err != nil || n < 1 || n > 1024 || sized {
				return nil, fmt.Errorf("features %q: want pixels[:SIZE][:gray|rgb] with SIZE from 1 to 1024, found %q", spec, part)
			}
			p.Size, sized = n, true
		}
	}
	return p, nil
}

// Name is the canonical spec, e.g. pixels:32 or pixels:16:gray.
func (p *Pixels) Name() string {
	if p.Gray {
		return fmt.Sprintf("pixels:%d:gray", p.Size)
	}
	return fmt.Sprintf("pixels:%d", p.Size)
}

// CacheKey is empty: pixels are cheaper to compute than to read back.
func (p *Pixels) CacheKey() string { return "" }

// StandardiseOnTrain tells the fit pipeline to standardise pixels.
func (p *Pixels) StandardiseOnTrain() bool { return true }

func (p *Pixels) channels() int {
	if p.Gray {
		return 1
	}
	return 3
}

// Dim is Size*Size*channels.
func (p *Pixels) Dim(*data.Dataset) (int, error) { return p.Size * p.Size * p.channels(), nil }

// pixelBatch is how many images Extract hands over at a time.
const pixelBatch = 64

// Extract resizes the images in batches, using every core.
func (p *Pixels) Extract(ctx context.Context, ds *data.Dataset, images []int, emit func(first int, block []float32) error) error {
	dim, _ := p.Dim(ds)
	block := make([]float32, pixelBatch*dim)
	for first := 0; first < len(images); first += pixelBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := images[first:min(first+pixelBatch, len(images))]
		errs := make([]error, len(batch))
		parallel.For(len(batch), func(k int) {
			errs[k] = p.image(ds, batch[k], block[k*dim:(k+1)*dim])
		})
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		if err := emit(first, block[:len(batch)*dim]); err != nil {
			return err
		}
	}
	return nil
}

// image writes image i's pixel features into dst.
func (p *Pixels) image(ds *data.Dataset, i int, dst []float32) error {
	img, err := ds.Images.RGB(i)
	if err != nil {
		return err
	}
	return p.fromImage(img, dst)
}

func (p *Pixels) fromImage(img image.Image, dst []float32) error {
	r := data.ResizeBilinearAntialias(img, p.Size, p.Size)
	k := 0
	for y := 0; y < p.Size; y++ {
		row := r.Pix[y*r.Stride : y*r.Stride+4*p.Size]
		for x := 0; x < p.Size; x++ {
			px := row[4*x : 4*x+3]
			if p.Gray {
				l := (19595*uint32(px[0]) + 38470*uint32(px[1]) + 7471*uint32(px[2]) + 0x8000) >> 16
				dst[k] = float32(l) / 255
				k++
				continue
			}
			dst[k] = float32(px[0]) / 255
			dst[k+1] = float32(px[1]) / 255
			dst[k+2] = float32(px[2]) / 255
			k += 3
		}
	}
	return nil
}
