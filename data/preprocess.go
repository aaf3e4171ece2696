package data

import (
	"fmt"
	"image"
)

// ImageNetTensor writes img as a CHW float32 tensor normalised as torchvision
// does: x = u/255, then (x - ImageNetMean[c]) / ImageNetStd[c], all in float32
// (bit-identical to NumPy's float32 arithmetic). dst is reused when it holds
// 3*H*W values; the tensor is returned.
func ImageNetTensor(img image.Image, dst []float32) []float32 {
	src := asRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	plane := w * h
	if len(dst) < 3*plane {
		dst = make([]float32, 3*plane)
	}
	dst = dst[:3*plane]
	for y := range h {
		row := src.Pix[y*src.Stride:]
		for x := range w {
			for c := range 3 {
				v := float32(row[4*x+c]) / float32(255)
				dst[c*plane+y*w+x] = (v - ImageNetMean[c]) / ImageNetStd[c]
			}
		}
	}
	return dst
}

// ClassifySize is the side of ClassifyPreprocess's output.
const ClassifySize = 224

// ClassifyPreprocess prepares a photo for an ImageNet classifier as the
// MobileNetV2 reference (and torchvision's Resize(256), CenterCrop(224)) does:
// resize so the shorter side is 256 (the longer side is int(256*long/short),
// truncated) with Pillow's antialiased bilinear, crop 224x224 at
// ((W-224)/2, (H-224)/2) rounded down, then ImageNetTensor. The result is
// (3, 224, 224) float32.
func ClassifyPreprocess(img image.Image) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var nw, nh int
	if w <= h {
		nw, nh = 256, int(float64(256*h)/float64(w))
	} else {
		nw, nh = int(float64(256*w)/float64(h)), 256
	}
	r := ResizeBilinearAntialias(img, nw, nh)
	left, top := (nw-ClassifySize)/2, (nh-ClassifySize)/2
	crop := r.SubImage(image.Rect(left, top, left+ClassifySize, top+ClassifySize)).(*image.RGBA)
	return ImageNetTensor(toRGBAView(crop), nil)
}

// toRGBAView moves a sub-image's origin to (0,0) without copying pixels.
func toRGBAView(m *image.RGBA) *image.RGBA {
	return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy())}
}

// NetworkInput returns image i of ds as a (3, size, size) ImageNet-normalised
// float32 tensor for a network. Stimuli stored normalised (NX-414) pass
// through unchanged when already size x size, and are otherwise resized in
// float with the antialiased bilinear weights; ordinary images are resized as
// RGB with ResizeBilinearAntialias (Pillow BILINEAR), then ImageNetTensor.
// dst is reused when it holds 3*size*size values.
func NetworkInput(ds *Dataset, i, size int, dst []float32) ([]float32, error) {
	if size < 1 {
		return nil, fmt.Errorf("network input size: want >= 1, found %d", size)
	}
	if chw, c, h, w, ok := ds.Images.Normalized(i); ok {
		if c != 3 {
			return nil, fmt.Errorf("%s: image %s: want 3 channels, found %d", Printable(ds.Name), Printable(ds.Images.Name(i)), c)
		}
		if h == size && w == size {
			if len(dst) < len(chw) {
				dst = make([]float32, len(chw))
			}
			dst = dst[:len(chw)]
			copy(dst, chw)
			return dst, nil
		}
		return resizePlanes(chw, c, h, w, size, size, dst), nil
	}
	img, err := ds.Images.RGB(i)
	if err != nil {
		return nil, err
	}
	return ImageNetTensor(ResizeBilinearAntialias(img, size, size), dst), nil
}
