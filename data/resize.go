package data

import (
	"image"
	"math"
)

// Pillow's fixed-point precision for 8-bit resampling (Resample.c).
const resamplePrecision = 32 - 8 - 2

// resampleCoeffs computes Pillow's (9.4, Resample.c precompute_coeffs)
// antialiased bilinear weights for resizing inSize samples to outSize: the
// triangle filter is widened by the downscale factor, so every input sample
// under an output pixel contributes. Output pixel o reads inputs
// start[o] .. start[o]+len(k[o])-1 with weights k[o], which sum to 1.
func resampleCoeffs(inSize, outSize int) (start []int, k [][]float64) {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1.0)
	support := 1.0 * filterscale // bilinear support is 1
	ss := 1.0 / filterscale
	start = make([]int, outSize)
	k = make([][]float64, outSize)
	for o := range outSize {
		center := (float64(o) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		w := make([]float64, max(xmax, 0))
		ww := 0.0
		for x := range w {
			t := math.Abs((float64(x+xmin) - center + 0.5) * ss)
			if t < 1 {
				w[x] = 1 - t
			}
			ww += w[x]
		}
		if ww != 0 {
			for x := range w {
				w[x] /= ww
			}
		}
		start[o], k[o] = xmin, w
	}
	return start, k
}

// fixedCoeffs rounds weights to Pillow's 22-bit fixed point
// (normalize_coeffs_8bpc: half away from zero, then truncation).
func fixedCoeffs(k [][]float64) [][]int32 {
	out := make([][]int32, len(k))
	for i, ws := range k {
		out[i] = make([]int32, len(ws))
		for j, w := range ws {
			if w < 0 {
				out[i][j] = int32(-0.5 + float64(w*(1<<resamplePrecision)))
			} else {
				out[i][j] = int32(0.5 + float64(w*(1<<resamplePrecision)))
			}
		}
	}
	return out
}

func clipFixed(ss int32) uint8 {
	v := ss >> resamplePrecision
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resamplePixel writes one opaque RGBA pixel to dst: the fixed-point sum of
// the taps over src's pixels step bytes apart (4 along a row, the stride
// down a column), rounded as Pillow rounds.
func resamplePixel(dst []uint8, taps []int32, src []uint8, step int) {
	const round = 1 << (resamplePrecision - 1)
	r, g, b := int32(round), int32(round), int32(round)
	for j, c := range taps {
		p := src[j*step:]
		r += int32(p[0]) * c
		g += int32(p[1]) * c
		b += int32(p[2]) * c
	}
	dst[0], dst[1], dst[2], dst[3] = clipFixed(r), clipFixed(g), clipFixed(b), 255
}

// resamplePass resizes src to w x h along one axis (the other keeps its
// size): horizontally, each output pixel mixes input pixels 4 bytes apart
// in its row; vertically, a row stride apart in its column.
func resamplePass(src *image.RGBA, w, h int, horizontal bool) *image.RGBA {
	from, to, step := src.Rect.Dy(), h, src.Stride
	if horizontal {
		from, to, step = src.Rect.Dx(), w, 4
	}
	start, k := resampleCoeffs(from, to)
	kk := fixedCoeffs(k)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		o := out.Pix[y*out.Stride:]
		for x := range w {
			if horizontal {
				resamplePixel(o[4*x:], kk[x], src.Pix[y*src.Stride+4*start[x]:], step)
			} else {
				resamplePixel(o[4*x:], kk[y], src.Pix[start[y]*src.Stride+4*x:], step)
			}
		}
	}
	return out
}

// ResizeBilinearAntialias resizes img to w x h as Pillow 9.4's
// img.resize((w, h), Image.BILINEAR) does on an RGB image, with the same
// fixed-point arithmetic: a horizontal pass to 8 bits, then a vertical one
// (each pass only when its size changes). The result is opaque RGB.
func ResizeBilinearAntialias(img image.Image, w, h int) *image.RGBA {
	src := asRGBA(img)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	cur := src
	if w != sw {
		cur = resamplePass(cur, w, sh, true)
	}
	if h != sh {
		cur = resamplePass(cur, w, h, false)
	}
	if cur == src {
		out := image.NewRGBA(src.Rect)
		copy(out.Pix, src.Pix)
		return out
	}
	return cur
}

// asRGBA returns img as an opaque *image.RGBA at the origin, converting
// only when needed (the result may share img's pixels: do not modify it).
func asRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	return toRGBA(img)
}

// resizePlanes resizes c planes of (sh, sw) float32 to (h, w) with the same
// antialiased bilinear weights as ResizeBilinearAntialias, in floating point
// (as Pillow does for mode "F"): horizontal pass, then vertical.
func resizePlanes(src []float32, c, sh, sw, h, w int, dst []float32) []float32 {
	if len(dst) < c*h*w {
		dst = make([]float32, c*h*w)
	}
	dst = dst[:c*h*w]
	hs, hk := resampleCoeffs(sw, w)
	vs, vk := resampleCoeffs(sh, h)
	tmp := make([]float32, sh*w)
	for ch := range c {
		in := src[ch*sh*sw : (ch+1)*sh*sw]
		for y := range sh {
			for x := range w {
				s := 0.0
				for j, k := range hk[x] {
					s += float64(in[y*sw+hs[x]+j]) * k
				}
				tmp[y*w+x] = float32(s)
			}
		}
		out := dst[ch*h*w : (ch+1)*h*w]
		for y := range h {
			for x := range w {
				s := 0.0
				for j, k := range vk[y] {
					s += float64(tmp[(vs[y]+j)*w+x]) * k
				}
				out[y*w+x] = float32(s)
			}
		}
	}
	return dst
}
