package data

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"itscope/data/npy"
)

func loadNPY(t *testing.T, path string) *npy.Array[float32] {
	t.Helper()
	a, err := npy.ReadFile[float32](path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func loadImage(t *testing.T, path string) *image.RGBA {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := DecodeImage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// rgbDiff compares an image with a Pillow (H, W, 3) uint8 array: the largest
// absolute difference and the fraction of values that differ.
func rgbDiff(t *testing.T, img *image.RGBA, want *npy.Array[float32]) (maxDiff int, frac float64) {
	t.Helper()
	h, w := img.Rect.Dy(), img.Rect.Dx()
	if len(want.Shape) != 3 || want.Shape[0] != h || want.Shape[1] != w || want.Shape[2] != 3 {
		t.Fatalf("image %dx%d, reference shape %v", w, h, want.Shape)
	}
	differ := 0
	for y := range h {
		for x := range w {
			for c := range 3 {
				d := int(img.Pix[y*img.Stride+4*x+c]) - int(want.Data[(y*w+x)*3+c])
				if d != 0 {
					differ++
				}
				maxDiff = max(maxDiff, d, -d)
			}
		}
	}
	return maxDiff, float64(differ) / float64(3*w*h)
}

func TestResizeMatchesPillow(t *testing.T) {
	dir := "../testdata/data/images"
	for _, tc := range []struct {
		src  string
		w, h int
	}{
		{"src_photo", 64, 48}, {"src_photo", 50, 75}, {"src_photo", 224, 224}, {"src_photo", 160, 37}, {"src_photo", 13, 120},
		{"src_noise", 100, 61}, {"src_noise", 37, 10}, {"src_noise", 8, 8}, {"src_noise", 5, 40},
	} {
		name := fmt.Sprintf("%s_%dx%d", tc.src, tc.w, tc.h)
		src := loadImage(t, filepath.Join(dir, tc.src+".png"))
		got := ResizeBilinearAntialias(src, tc.w, tc.h)
		maxDiff, frac := rgbDiff(t, got, loadNPY(t, filepath.Join(dir, name+".npy")))
		t.Logf("%s: max |Go - Pillow| = %d, %.4f%% of values differ", name, maxDiff, 100*frac)
		if maxDiff > 1 || frac > 0.01 {
			t.Errorf("%s: max diff %d, %.2f%% differ; want <= 1 on < 1%%", name, maxDiff, 100*frac)
		}
	}
}

// JPEGs decode bit-exactly as libjpeg-turbo (Pillow) decodes them:
// baseline with each chroma subsampling, grayscale and progressive.
func TestDecodeJPEGMatchesPillow(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		maxDiff int
		frac    float64
	}{
		{"420", 0, 0}, {"422", 0, 0}, {"444", 0, 0}, {"gray", 0, 0},
		{"progressive", 0, 0},
	} {
		img := loadImage(t, "../testdata/data/images/jpeg_"+tc.kind+".jpg")
		maxDiff, frac := rgbDiff(t, img, loadNPY(t, "../testdata/data/images/jpeg_"+tc.kind+".npy"))
		t.Logf("jpeg %s: max |Go - Pillow| = %d, %.3f%% of values differ", tc.kind, maxDiff, 100*frac)
		if maxDiff > tc.maxDiff || frac > tc.frac {
			t.Errorf("jpeg %s: max diff %d, %.3f%% differ; want <= %d on <= %.1f%%", tc.kind, maxDiff, 100*frac, tc.maxDiff, 100*tc.frac)
		}
	}
	d, err := Open("demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 499} {
		img, err := d.Images.RGB(i)
		if err != nil {
			t.Fatal(err)
		}
		want := loadNPY(t, fmt.Sprintf("../testdata/data/images/demo_image%04d.npy", i+1))
		if maxDiff, frac := rgbDiff(t, img.(*image.RGBA), want); maxDiff > 0 {
			t.Errorf("demo image %d: max diff %d, %.2f%% differ; want identical", i, maxDiff, 100*frac)
		}
	}
}

func TestClassifyPreprocessMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		file    string
		maxDiff float64 // in normalised units; 1 level is 1/(255*0.225) = 0.0174
	}{
		{"cat.bmp", 0},
		{"face.jpg", 0}, // sequential JPEGs with restart markers
		{"pets.jpg", 0},
	} {
		img := loadImage(t, filepath.Join("../testdata/data/coral", tc.file))
		got := ClassifyPreprocess(img)
		stem := tc.file[:len(tc.file)-4]
		want := loadNPY(t, filepath.Join("../testdata/data/coral", stem+".input.npy"))
		if len(got) != 3*224*224 || len(want.Data) != len(got) {
			t.Fatalf("%s: %d values, reference %d", tc.file, len(got), len(want.Data))
		}
		worst, differ := 0.0, 0
		for k := range got {
			d := math.Abs(float64(got[k] - want.Data[k]))
			worst = max(worst, d)
			if d > 0 {
				differ++
			}
		}
		t.Logf("%s: max |Go - reference| = %.6g (%.2f levels), %.3f%% of values differ", tc.file, worst, worst*255*0.225, 100*float64(differ)/float64(len(got)))
		if worst > tc.maxDiff {
			t.Errorf("%s: max diff %g, want <= %g", tc.file, worst, tc.maxDiff)
		}
	}
}

// Resizing normalised tensors (NetworkInput on NX-414 stimuli of another
// size) follows Pillow's mode "F" resize.
func TestResizePlanesMatchesPillowFloat(t *testing.T) {
	src := loadImage(t, "../testdata/data/images/src_noise.png")
	h, w := src.Rect.Dy(), src.Rect.Dx()
	plane := make([]float32, h*w)
	for y := range h {
		for x := range w {
			u := float32(src.Pix[y*src.Stride+4*x]) / float32(255)
			plane[y*w+x] = (u - float32(0.485)) / float32(0.229)
		}
	}
	for _, sz := range [][2]int{{16, 10}, {50, 30}} {
		want := loadNPY(t, fmt.Sprintf("../testdata/data/images/float_%dx%d.npy", sz[0], sz[1]))
		got := resizePlanes(plane, 1, h, w, sz[1], sz[0], nil)
		worst := 0.0
		for k := range got {
			worst = max(worst, math.Abs(float64(got[k]-want.Data[k])))
		}
		t.Logf("float %dx%d: max |Go - Pillow| = %g", sz[0], sz[1], worst)
		if worst > 1e-5 {
			t.Errorf("float %dx%d: max diff %g, want <= 1e-5", sz[0], sz[1], worst)
		}
	}
}

func TestNetworkInputImages(t *testing.T) {
	d, err := Open("demo:210325")
	if err != nil {
		t.Fatal(err)
	}
	img, err := d.Images.RGB(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{112, 64, 224} {
		want := ImageNetTensor(ResizeBilinearAntialias(img, size, size), nil)
		dst := make([]float32, 3*size*size)
		got, err := NetworkInput(d, 3, size, dst)
		if err != nil {
			t.Fatal(err)
		}
		if &got[0] != &dst[0] {
			t.Errorf("size %d: dst not reused", size)
		}
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("size %d: value %d = %v, want %v", size, k, got[k], want[k])
			}
		}
	}
	// At the native size no resampling happens: the tensor is the pixels'.
	got, _ := NetworkInput(d, 3, 112, nil)
	p := img.(*image.RGBA).Pix
	if want := (float32(p[0])/255 - ImageNetMean[0]) / ImageNetStd[0]; got[0] != want {
		t.Errorf("native size: first value %v, want %v", got[0], want)
	}
	if _, err := NetworkInput(d, 3, 0, nil); err == nil {
		t.Error("size 0: no error")
	}
}

// Peer: bench/data/pillow_preprocess.py (Pillow + NumPy on the same files).
func BenchmarkDecodeClassifyPreprocess(b *testing.B) {
	for _, name := range []string{"face.jpg", "cat.bmp"} {
		raw, err := os.ReadFile(filepath.Join("../testdata/data/coral", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				img, err := DecodeImage(raw)
				if err != nil {
					b.Fatal(err)
				}
				ClassifyPreprocess(img)
			}
		})
	}
}
