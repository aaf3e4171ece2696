package data

import (
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
