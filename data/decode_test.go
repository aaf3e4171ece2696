package data

import (
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"
)

// Damaged images must give an error or an image, never a panic.
func FuzzDecodeImage(f *testing.F) {
	paths := []string{"../testdata/data/images/src_noise.png"}
	for _, name := range fuzzJPEGSeeds {
		paths = append(paths, filepath.Join("../testdata/data/fuzz_jpeg", name))
	}
	for _, b := range readSeeds(f, paths...) {
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

// forgedPNG is a valid 66-byte PNG whose header claims w x h RGBA pixels:
// image.Decode alone dies allocating them (fatal "out of memory" for
// 100000 x 100000, which no recover catches).
func forgedPNG(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	b := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	b = append(b, chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1})...)
	return append(b, chunk("IEND", nil)...)
}

func TestDecodeImageRejectsForgedSize(t *testing.T) {
	for _, tc := range []struct {
		w, h uint32
		want string
	}{
		{100000, 100000, "want an image of 1 to 67108864 pixels, found 100000 x 100000"},
		{8193, 8192, "found 8193 x 8192"},
	} {
		_, err := DecodeImage(forgedPNG(tc.w, tc.h))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%dx%d: error %v, want it to contain %q", tc.w, tc.h, err, tc.want)
		}
	}
	// Within the limit the forged file decodes as far as its data goes and
	// then fails on the missing rows, not on the size.
	if _, err := DecodeImage(forgedPNG(64, 64)); err == nil || strings.Contains(err.Error(), "pixels") {
		t.Errorf("64x64: error %v, want a data error", err)
	}
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
