package data

import (
	"strings"
	"testing"
)

// TensorImages serves each image's CHW slice as is, and refuses a length
// that does not match the sizes given.
func TestTensorImages(t *testing.T) {
	x := make([]float32, 2*3*2*2)
	for i := range x {
		x[i] = float32(i)
	}
	imgs, err := TensorImages(x, 2, 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	chw, c, h, w, ok := imgs.Normalized(1)
	if imgs.Len() != 2 || !ok || c != 3 || h != 2 || w != 2 || len(chw) != 12 || chw[0] != 12 || chw[11] != 23 {
		t.Errorf("image 1: %v (%d, %d, %d, %v), %d images; want values 12..23 as (3, 2, 2)", chw, c, h, w, ok, imgs.Len())
	}
	if _, err := TensorImages(x[:5], 2, 3, 2, 2); err == nil || !strings.Contains(err.Error(), "want 2 x (3, 2, 2) = 24 values, found 5") {
		t.Errorf("short data: err = %v", err)
	}
}
