package nn_test

import (
	"fmt"
	"log"

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
