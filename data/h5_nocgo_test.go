//go:build !cgo

package data

import (
	"strings"
	"testing"
)

func TestOpenH5WithoutCgo(t *testing.T) {
	_, err := Open("../testdata/data/nx414_vlen.h5")
	if err == nil || !strings.Contains(err.Error(), "nx414_vlen.h5: HDF5 support needs cgo") {
		t.Errorf("error %v, want it to say HDF5 needs cgo", err)
	}
}
