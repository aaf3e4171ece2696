package nn

import (
	"math"
	"math/rand/v2"
)

// NewRand returns the package's seeded generator: PCG(seed, seed).
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func uniform(s []float32, bound float64, rng *rand.Rand) {
	for i := range s {
		s[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

func normal(s []float32, std float64, rng *rand.Rand) {
	for i := range s {
		s[i] = float32(rng.NormFloat64() * std)
	}
}

// fans follow torch.nn.init._calculate_fan_in_and_fan_out: a conv weight
// (out, in/groups, kh, kw) has fan_in in/groups·kh·kw and fan_out out·kh·kw.
func convFans(c *Conv2D) (in, out int) {
	kk := c.Spec.Kernel[0] * c.Spec.Kernel[1]
	return c.Spec.InC / c.Spec.Groups * kk, c.Spec.OutC * kk
}

// pytorchDefault is reset_parameters of torch's Conv2d and Linear:
// kaiming_uniform(a=√5), which is U(±1/√fan_in), and bias U(±1/√fan_in).
func pytorchDefault(w, b *Param, fanIn int, rng *rand.Rand) {
	bound := 1 / math.Sqrt(float64(fanIn))
	uniform(Float32s(w.Value), bound, rng)
	if b != nil {
		uniform(Float32s(b.Value), bound, rng)
	}
}

func resetBatchNorm(bn *BatchNorm2D) {
	fill(Float32s(bn.Weight.Value), 1)
	clear(Float32s(bn.Bias.Value))
	clear(Float32s(bn.RunningMean.Value))
	fill(Float32s(bn.RunningVar.Value), 1)
}

// kaimingFanOut is kaiming_normal_(mode='fan_out', nonlinearity='relu').
func kaimingFanOut(c *Conv2D, rng *rand.Rand) {
	_, fanOut := convFans(c)
	normal(Float32s(c.Weight.Value), math.Sqrt(2/float64(fanOut)), rng)
	if c.Bias != nil {
		clear(Float32s(c.Bias.Value))
	}
}

// InitDefault gives every Conv2D and Linear in l PyTorch's default
// initialisation and every BatchNorm2D weight 1, bias 0, in Walk order.
func InitDefault(l Layer, rng *rand.Rand) {
	initLayers(l, func(c *Conv2D) {
		in, _ := convFans(c)
		pytorchDefault(c.Weight, c.Bias, in, rng)
	}, func(v *Linear) { pytorchDefault(v.Weight, v.Bias, v.In, rng) })
}

// InitResNet is torchvision's ResNet initialisation: convs kaiming_normal
// (fan_out, relu), BatchNorm weight 1 bias 0, Linear PyTorch's default.
func InitResNet(l Layer, rng *rand.Rand) {
	initLayers(l, func(c *Conv2D) { kaimingFanOut(c, rng) },
		func(v *Linear) { pytorchDefault(v.Weight, v.Bias, v.In, rng) })
}

// InitVGG is torchvision's VGG (and MobileNetV2) initialisation: convs
// kaiming_normal (fan_out, relu) with bias 0, BatchNorm weight 1 bias 0,
// Linear normal(0, 0.01) with bias 0.
func InitVGG(l Layer, rng *rand.Rand) {
	initLayers(l, func(c *Conv2D) { kaimingFanOut(c, rng) }, func(v *Linear) {
		normal(Float32s(v.Weight.Value), 0.01, rng)
		if v.Bias != nil {
			clear(Float32s(v.Bias.Value))
		}
	})
}

// initLayers initialises l's layers in Walk order (the order the random
// draws follow): each Conv2D by conv, each Linear by linear, and each
// BatchNorm2D to weight 1, bias 0.
func initLayers(l Layer, conv func(*Conv2D), linear func(*Linear)) {
	Walk(l, func(_ string, l Layer) {
		switch v := l.(type) {
		case *Conv2D:
			conv(v)
		case *Linear:
			linear(v)
		case *BatchNorm2D:
			resetBatchNorm(v)
		}
	})
}
