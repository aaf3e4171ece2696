package nn

import (
	"math/rand/v2"
	"testing"
)

// ResNet-like convolutions, batch 16 (bench/nn_conv_torch.py times the
// same shapes in PyTorch). Reported GFLOP/s count 2 flops per MAC.
var benchConvs = []struct {
	name string
	spec ConvSpec
	hw   int
}{
	{"conv1_7x7s2_3-64_224", ConvSpec{InC: 3, OutC: 64, Kernel: [2]int{7, 7}, Stride: [2]int{2, 2}, Pad: [4]int{3, 3, 3, 3}}, 224},
	{"layer1_3x3_64-64_56", ConvSpec{InC: 64, OutC: 64, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}}, 56},
	{"layer1_1x1_64-256_56", ConvSpec{InC: 64, OutC: 256, Kernel: [2]int{1, 1}}, 56},
	{"layer2_3x3s2_128-128_56", ConvSpec{InC: 128, OutC: 128, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}, 56},
	{"layer3_3x3_256-256_14", ConvSpec{InC: 256, OutC: 256, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}}, 14},
	{"layer3_1x1_1024-256_14", ConvSpec{InC: 1024, OutC: 256, Kernel: [2]int{1, 1}}, 14},
	{"layer4_3x3_512-512_7", ConvSpec{InC: 512, OutC: 512, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}}, 7},
	{"dw_3x3_144_56", ConvSpec{InC: 144, OutC: 144, Groups: 144, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}}, 56},
}

const benchBatch = 16

func benchConv(b *testing.B, backward bool) {
	for _, bc := range benchConvs {
		b.Run(bc.name, func(b *testing.B) {
			c, err := NewConv2D(bc.spec)
			if err != nil {
				b.Fatal(err)
			}
			InitDefault(c, NewRand(1))
			x := randTensor(rand.New(rand.NewPCG(1, 1)), benchBatch, bc.spec.InC, bc.hw, bc.hw)
			y, err := c.Forward(x, true)
			if err != nil {
				b.Fatal(err)
			}
			dy := randTensor(rand.New(rand.NewPCG(2, 2)), y.Shape()...)
			oh, ow := c.OutSize(bc.hw, bc.hw)
			macs := float64(benchBatch*bc.spec.OutC*oh*ow) * float64(c.Spec.InC/c.Spec.Groups*c.Spec.Kernel[0]*c.Spec.Kernel[1])
			flops := 2 * macs
			if backward {
				flops *= 2 // dW and dX
			}
			cpu0 := cpuSeconds()
			b.ResetTimer()
			for b.Loop() {
				if backward {
					_, err = c.Backward(dy)
				} else {
					_, err = c.Forward(x, false)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/batch")
			b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/batch")
		})
	}
}

func BenchmarkConv2DForward(b *testing.B)  { benchConv(b, false) }
func BenchmarkConv2DBackward(b *testing.B) { benchConv(b, true) }
