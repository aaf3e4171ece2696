//go:build !cgo

package data

import (
	"fmt"
	"os"
)

func openH5(path string, _ *os.File) (*Dataset, error) {
	return nil, fmt.Errorf("%s: HDF5 support needs cgo and libhdf5 (this itscope was built with CGO_ENABLED=0); rebuild with cgo on Debian with libhdf5-dev and pkg-config installed, or convert the data to a folder (images/ + responses.npy)", Printable(path))
}
