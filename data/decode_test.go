package data

import (
	"image"
	"image/color"
	"os"
	"testing"
)

// Damaged images must give an error or an image, never a panic.
func FuzzDecodeImage(f *testing.F) {
	for _, name := range []string{"jpeg_420.jpg", "jpeg_422.jpg", "jpeg_gray.jpg", "jpeg_progressive.jpg", "src_noise.png"} {
		b, err := os.ReadFile("../testdata/data/images/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := DecodeImage(b)
		if err == nil && img == nil {
			t.Fatal("nil image without error")
		}
	})
}

// Pillow's convert("RGB") keeps the colour of translucent pixels and drops
// alpha; the result is opaque whatever the decoder returned.
func TestToRGBADropsAlpha(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(2, 3, 4, 4))
	nrgba.SetNRGBA(3, 3, color.NRGBA{200, 100, 50, 128})
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.SetGray(1, 0, color.Gray{77})
	rgba := image.NewRGBA(image.Rect(0, 0, 2, 1))
	rgba.SetRGBA(1, 0, color.RGBA{100, 50, 25, 128}) // premultiplied
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{9, 8, 7, 10}})
	pal.SetColorIndex(1, 0, 1)
	for _, tc := range []struct {
		name string
		img  image.Image
		want [4]uint8 // pixel (1, 0) of the result
	}{
		{"nrgba", nrgba, [4]uint8{200, 100, 50, 255}},
		{"gray", gray, [4]uint8{77, 77, 77, 255}},
		{"rgba", rgba, [4]uint8{199, 99, 49, 255}},
		{"paletted", pal, [4]uint8{9, 8, 7, 255}},
	} {
		out := toRGBA(tc.img)
		if out.Rect != image.Rect(0, 0, 2, 1) {
			t.Errorf("%s: bounds %v", tc.name, out.Rect)
		}
		if got := [4]uint8(out.Pix[4:8]); got != tc.want {
			t.Errorf("%s: pixel (1,0) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
