package onnx

import (
	"context"
	"testing"

	"gorgonia.org/tensor"
)

// BenchmarkMobilenetBatch1 is the embedded int8 MobileNetV2 at batch 1
// (ns/op is the time per image); bench/onnx/run.sh sets it against ONNX
// Runtime and PyTorch.
func BenchmarkMobilenetBatch1(b *testing.B) {
	m := loadMobilenet(b)
	b.Logf("int8 kernels: %s", Int8Kernel())
	in := map[string]*tensor.Dense{"input": inputTensor(b, "grace_hopper")}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := m.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMobilenetBatch8 reports the time per batch of 8 images.
func BenchmarkMobilenetBatch8(b *testing.B) {
	m := loadMobilenet(b)
	b.Logf("int8 kernels: %s", Int8Kernel())
	names := []string{"cat", "dragonfly", "grace_hopper", "parrot", "cat", "dragonfly", "grace_hopper", "parrot"}
	in := map[string]*tensor.Dense{"input": inputTensor(b, names...)}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := m.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
