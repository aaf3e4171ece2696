package nn_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"itscope/compute/nn"
)

// A training loop: forward in train mode, a loss, backward, an optimiser step.
func Example() {
	conv, err := nn.NewConv2D(nn.ConvSpec{InC: 1, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})
	if err != nil {
		log.Fatal(err)
	}
	fc, err := nn.NewLinear(4, 2, true)
	if err != nil {
		log.Fatal(err)
	}
	net := nn.NewSequential().
		Append("conv", conv).Append("bn", nn.NewBatchNorm2D(4)).Append("relu", nn.NewReLU()).
		Append("pool", &nn.GlobalAvgPool{}).Append("flatten", &nn.Flatten{}).Append("fc", fc)
	nn.InitDefault(net, nn.NewRand(1))

	x := nn.New(8, 1, 6, 6)
	for i := range nn.Float32s(x) {
		nn.Float32s(x)[i] = float32(i%7) / 7
	}
	target := nn.New(8, 2)
	for i := range nn.Float32s(target) {
		nn.Float32s(target)[i] = float32(i % 2)
	}
	opt := nn.NewAdam(net.Params(), 1e-2, 0)
	var first, last float64
	for step := range 50 {
		opt.ZeroGrad()
		y, err := net.Forward(x, true)
		if err != nil {
			log.Fatal(err)
		}
		loss, dy, err := nn.MSELoss(y, target)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := net.Backward(dy); err != nil {
			log.Fatal(err)
		}
		opt.Step()
		if step == 0 {
			first = loss
		}
		last = loss
	}
	fmt.Println("loss fell by more than half:", last < first/2)
	// Output: loss fell by more than half: true
}

// Taps report every named layer's output, at any depth, in execution order.
func ExampleSequential_ForwardTaps() {
	conv, _ := nn.NewConv2D(nn.ConvSpec{InC: 3, OutC: 8, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	pool, _ := nn.NewMaxPool2D(nn.PoolSpec{Kernel: [2]int{2, 2}})
	net := nn.NewSequential().
		Append("features", nn.NewSequential().Append("0", conv).Append("1", nn.NewReLU()).Append("2", pool)).
		Append("avgpool", &nn.GlobalAvgPool{})
	_, err := net.ForwardTaps(nn.New(1, 3, 32, 32), false, func(name string, y *tensor.Dense) (bool, error) {
		fmt.Println(name, y.Shape())
		return name == "features", nil // stop: avgpool is not needed
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// features.0 (1, 8, 16, 16)
	// features.1 (1, 8, 16, 16)
	// features.2 (1, 8, 8, 8)
	// features (1, 8, 8, 8)
}
