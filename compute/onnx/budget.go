package onnx

import "fmt"

// maxActivationElements bounds every tensor a node computes, checked from
// its shape before the node allocates it. Each node's attributes are
// bounded (maxWindow) and so are the graph's declared inputs
// (maxInputElements), but a chain of nodes is not: MaxPools padded by 127
// on a declared (1,65536,4,4) input (1M values) ask for 65536x258x258
// values (17 GB) at the first and grow from there. 1<<28 float32s (1 GiB)
// hold the largest activation of one image at the largest input a graph
// may declare (a 64-channel convolution over 3x2048x2048 at full
// resolution: 64x2048x2048 = 1<<28), and VGG-19's largest at 224x224 for
// 83 images in one part of a Run (which splits its batch across the
// cores).
const maxActivationElements = 1 << 28

// checkActivation refuses an output or input shape of more than
// maxActivationElements values, computing the count without overflow.
func checkActivation(shape []int) error {
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	if _, _, err := checkedShape(dims, maxActivationElements); err != nil {
		return fmt.Errorf("tensor of %w (1 GiB of float32 per tensor; run fewer images at once)", err)
	}
	return nil
}
