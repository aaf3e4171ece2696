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

// BenchmarkElementwiseKernels times QuantizeLinear, QLinearAdd and the
// global average pool on each kernel path the CPU has, at MobileNetV2's
// sizes: the input image (3x224x224 floats), its largest residual add
// (24x56x56) and its pool (1280 planes of 7x7).
func BenchmarkElementwiseKernels(b *testing.B) {
	in := make([]float32, 3*224*224)
	for i := range in {
		in[i] = float32(i%509)/100 - 2.5
	}
	xa, xb := make([]uint8, 24*56*56), make([]uint8, 24*56*56)
	for i := range xa {
		xa[i], xb[i] = uint8(i*7), uint8(i*13)
	}
	planes := xa[:1280*49]
	q8, sum8, pool8 := make([]uint8, len(in)), make([]uint8, len(xa)), make([]uint8, 1280)
	pq := quantParams{scale: 0.0186, lo: -114, hi: 141, zp: 114}
	pa := addParams{rA: 0.75, rB: 1.3, fixed: -60.5}
	pp := requant1{bias: -100 * 49, scale: 0.05 / (0.01 * 49), lo: -128, hi: 127, zp: 128}
	for _, k := range supportedKernels {
		b.Run("quantize/"+k.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(in)))
			for range b.N {
				k.quantize(in, q8, &pq)
			}
		})
		b.Run("qadd/"+k.name, func(b *testing.B) {
			b.SetBytes(int64(2 * len(xa)))
			for range b.N {
				k.qadd(xa, xb, sum8, &pa)
			}
		})
		b.Run("pool/"+k.name, func(b *testing.B) {
			b.SetBytes(int64(len(planes)))
			for range b.N {
				k.avgPlanes(planes, 49, pool8, &pp)
			}
		})
	}
}
