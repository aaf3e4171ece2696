package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // registers GIF with image.Decode
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"sync"

	_ "golang.org/x/image/bmp" // registers BMP with image.Decode
)

// maxImagePixels bounds the images DecodeImage accepts (8192 x 8192): far
// above any stimulus set, and a decoded image of that size already takes 256 MB.
const maxImagePixels = 1 << 26

// DecodeImage decodes a JPEG, PNG, BMP or GIF of at most maxImagePixels
// into opaque 8-bit RGB (an *image.RGBA whose alpha is 255), as Pillow's
// Image.open(f).convert("RGB") does: alpha is dropped, not composited.
//
// JPEGs decode bit-exactly as libjpeg-turbo does (the decoder behind Pillow,
// and so behind every Python reference; see jpeg.go): Go's own decoder uses
// another IDCT and repeats chroma samples, which is off by up to 13 levels.
// Files jpeg.go does not handle (CMYK, arithmetic coding, 12-bit) keep Go's
// decoding, with libjpeg's chroma upsampling and colour conversion where
// the planes are YCbCr.
func DecodeImage(b []byte) (*image.RGBA, error) {
	// The decoders allocate what the header claims: a few forged bytes
	// could ask for gigabytes, so the size is checked first.
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxImagePixels/cfg.Height {
		return nil, fmt.Errorf("want an image of 1 to %d pixels, found %d x %d", maxImagePixels, cfg.Width, cfg.Height)
	}
	weight := decodeWeight(cfg, len(b))
	decodeBudget.acquire(weight)
	defer decodeBudget.release(weight)
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if format == "jpeg" {
		// Go's decoder has validated the file; redo it as libjpeg would.
		if out, ok := decodeJPEGLibjpeg(b); ok {
			return out, nil
		}
		if yc, ok := img.(*image.YCbCr); ok {
			if out, ok := libjpegRGB(yc); ok {
				return out, nil
			}
		}
	}
	return toRGBA(img), nil
}

// decodeBudgetBytes bounds the memory that decodes in progress may hold
// together (1 GiB), whatever the number of cores: eight 8192 x 8192 16-bit
// PNGs decoding at once would otherwise take 12 GB.
const decodeBudgetBytes = 1 << 30

var decodeBudget = newWeighted(decodeBudgetBytes)

// decodeWeight estimates the bytes a decode of an image described by cfg,
// from an encoded file of fileBytes, holds at its peak: the file, the
// decoder's image, and the RGBA copy (4 bytes a pixel). JPEG counts the
// YCbCr planes plus the progressive coefficients (3 planes of int32) and the
// upsampled chroma; the other formats' decoders hold one image in their
// colour model.
func decodeWeight(cfg image.Config, fileBytes int) int64 {
	var perPixel int64
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model:
		perPixel = 8
	case color.GrayModel:
		perPixel = 1
	case color.Gray16Model:
		perPixel = 2
	case color.YCbCrModel, color.CMYKModel:
		perPixel = 3 + 12 + 2 + 4 // planes, coefficients, upsampled chroma, RGBA
	default: // RGBA, NRGBA, paletted
		perPixel = 4
	}
	return int64(cfg.Width)*int64(cfg.Height)*(perPixel+4) + int64(fileBytes)
}

// weighted is a counting semaphore of weights: acquire(w) waits until w
// fits. A weight above the capacity is clamped to it, so one large decode
// still runs, alone.
type weighted struct {
	mu        sync.Mutex
	cond      *sync.Cond
	used, cap int64
}

func newWeighted(capacity int64) *weighted {
	w := &weighted{cap: capacity}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *weighted) acquire(n int64) {
	n = min(n, w.cap)
	w.mu.Lock()
	for w.used+n > w.cap {
		w.cond.Wait()
	}
	w.used += n
	w.mu.Unlock()
}

func (w *weighted) release(n int64) {
	n = min(n, w.cap)
	w.mu.Lock()
	w.used -= n
	w.mu.Unlock()
	w.cond.Broadcast()
}

// toRGBA copies img to an opaque *image.RGBA at the origin, dropping alpha
// from non-premultiplied colour as Pillow's convert("RGB") does. The common
// decoder outputs take direct paths; the rest go through color.NRGBAModel.
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		dst := out.Pix[y*out.Stride : y*out.Stride+4*w]
		switch m := img.(type) {
		case *image.NRGBA:
			copy(dst, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
			for x := 3; x < len(dst); x += 4 {
				dst[x] = 255
			}
			continue
		case *image.Gray:
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				v := src[x]
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, 255
			}
			continue
		case *image.RGBA:
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			opaque := true
			for x := range w {
				opaque = opaque && src[4*x+3] == 255
			}
			if opaque {
				copy(dst, src)
				continue
			}
		}
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = c.R, c.G, c.B, 255
		}
	}
	return out
}

// libjpegRGB converts planar YCbCr as libjpeg-turbo's decoder does with its
// defaults (do_fancy_upsampling on). ok is false for subsampling ratios it
// does not handle (4:1:1, 4:1:0), which then take Go's path.
func libjpegRGB(yc *image.YCbCr) (*image.RGBA, bool) {
	b := yc.Rect
	w, h := b.Dx(), b.Dy()
	var hs, vs int // chroma subsampling factors
	switch yc.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio422:
		hs, vs = 2, 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		hs, vs = 1, 2
	default:
		return nil, false
	}
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	plane := func(p []uint8) []uint8 {
		c := make([]uint8, cw*ch)
		for y := range ch {
			copy(c[y*cw:(y+1)*cw], p[y*yc.CStride:])
		}
		return upsampleFancy(c, cw, ch, hs, vs, w, h)
	}
	if len(yc.Cb) < (ch-1)*yc.CStride+cw || len(yc.Y) < (h-1)*yc.YStride+w {
		return nil, false
	}
	cb, cr := plane(yc.Cb), plane(yc.Cr)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		yrow := yc.Y[y*yc.YStride:]
		orow := out.Pix[y*out.Stride:]
		for x := range w {
			r, g, bl := yccToRGB(int32(yrow[x]), int32(cb[y*w+x]), int32(cr[y*w+x]))
			orow[4*x], orow[4*x+1], orow[4*x+2], orow[4*x+3] = r, g, bl, 255
		}
	}
	return out, true
}

// libjpeg's jdcolor.c constants: FIX(x) = round(x * 2^16).
const (
	fixCrR = 91881  // FIX(1.40200)
	fixCbB = 116130 // FIX(1.77200)
	fixCrG = 46802  // FIX(0.71414)
	fixCbG = 22554  // FIX(0.34414)
	half16 = 1 << 15
)

func yccToRGB(y, cb, cr int32) (uint8, uint8, uint8) {
	cb -= 128
	cr -= 128
	r := y + (fixCrR*cr+half16)>>16
	g := y + (-fixCbG*cb-fixCrG*cr+half16)>>16
	b := y + (fixCbB*cb+half16)>>16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// upsampleFancy brings a (cw, ch) chroma plane to (w, h) as libjpeg-turbo's
// jdsample.c does: h2v1_fancy_upsample, h1v2_fancy_upsample and
// h2v2_fancy_upsample (triangle filters with alternating rounding biases),
// replicating edge rows; planes too narrow for the fancy path (2 samples or
// fewer) are replicated as libjpeg does.
func upsampleFancy(c []uint8, cw, ch, hs, vs, w, h int) []uint8 {
	if hs == 1 && vs == 1 {
		return c
	}
	row := func(k int) []uint8 {
		k = min(max(k, 0), ch-1)
		return c[k*cw : (k+1)*cw]
	}
	// colsum holds the vertical pass at 4x (vs=2) or 1x (vs=1) scale.
	colsum := make([]int32, cw)
	out := make([]uint8, w*h)
	for y := range h {
		k := y / vs
		in0 := row(k)
		if vs == 2 {
			in1 := row(k - 1)
			if y%2 == 1 {
				in1 = row(k + 1)
			}
			for i := range cw {
				colsum[i] = 3*int32(in0[i]) + int32(in1[i])
			}
		} else {
			for i := range cw {
				colsum[i] = int32(in0[i])
			}
		}
		o := out[y*w : (y+1)*w]
		switch {
		case hs == 1: // h1v2: (3*near + far + bias) / 4, bias 1 then 2
			bias := int32(1 + y%2)
			for x := range w {
				o[x] = uint8((colsum[x] + bias) >> 2)
			}
		case vs == 1 && cw > 2: // h2v1
			put := func(x int, v int32) {
				if x < w {
					o[x] = uint8(v)
				}
			}
			for i := range cw {
				t := 3 * colsum[i]
				switch {
				case i == 0:
					put(0, colsum[0])
					put(1, (t+colsum[1]+2)>>2)
				case i == cw-1:
					put(2*i, (t+colsum[i-1]+1)>>2)
					put(2*i+1, colsum[i])
				default:
					put(2*i, (t+colsum[i-1]+1)>>2)
					put(2*i+1, (t+colsum[i+1]+2)>>2)
				}
			}
		case vs == 2 && cw > 2: // h2v2
			put := func(x int, v int32) {
				if x < w {
					o[x] = uint8(v)
				}
			}
			for i := range cw {
				t := colsum[i]
				switch {
				case i == 0:
					put(0, (t*4+8)>>4)
					put(1, (t*3+colsum[1]+7)>>4)
				case i == cw-1:
					put(2*i, (t*3+colsum[i-1]+8)>>4)
					put(2*i+1, (t*4+7)>>4)
				default:
					put(2*i, (t*3+colsum[i-1]+8)>>4)
					put(2*i+1, (t*3+colsum[i+1]+7)>>4)
				}
			}
		default: // narrow planes: plain replication
			for x := range w {
				o[x] = row(k)[min(x/hs, cw-1)]
			}
		}
	}
	return out
}

// errImage names an image that failed to decode.
func errImage(file, name string, err error) error {
	if file == "" {
		return fmt.Errorf("image %s: does not decode as JPEG/PNG/BMP/GIF: %v", Printable(name), Printable(err.Error()))
	}
	return fmt.Errorf("%s: image %s: does not decode as JPEG/PNG/BMP/GIF: %v", Printable(file), Printable(name), Printable(err.Error()))
}
