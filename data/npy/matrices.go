package npy

import (
	"fmt"
	"io"
)

// Matrices is the run store's codec for float32 matrices (predictions.npy):
// model/runs takes it from its caller so that it imports no itscope package.
type Matrices struct{}

// WriteMatrix encodes data, rows x cols in C order, as an .npy file onto w.
func (Matrices) WriteMatrix(w io.Writer, data []float32, rows, cols int) error {
	return Write(w, data, rows, cols)
}

// ReadMatrix reads a 2-D .npy file of any float dtype as float32.
func (Matrices) ReadMatrix(path string) (data []float32, rows, cols int, err error) {
	a, err := ReadFile[float32](path)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(a.Shape) != 2 {
		return nil, 0, 0, fmt.Errorf("%s: shape: want 2 dimensions (rows, cols), found %v", path, a.Shape)
	}
	return a.Data, a.Shape[0], a.Shape[1], nil
}
