package train

import (
	"fmt"
	"strconv"

	"itscope/compute/nn"
)

// NewCNN builds the network a CNN spec describes, with PyTorch's default
// initialisation drawn from seed, ending in a linear read-out to outputs
// units. Its children are numbered as a flat torch.nn.Sequential
// (conv, [bn], relu, [pool], [dropout], ..., [gap], flatten, linear), so the
// saved weights load into that PyTorch model by name
// (testdata/train/cnn_torch.py builds it from the same spec).
func NewCNN(spec CNNSpec, outputs int, seed uint64) (*nn.Sequential, error) {
	if outputs < 1 {
		return nil, fmt.Errorf("cnn: want at least one output, found %d", outputs)
	}
	net := nn.NewSequential()
	idx := 0
	add := func(l nn.Layer) {
		net.Append(strconv.Itoa(idx), l)
		idx++
	}
	in := 3
	for b := 0; b < spec.Layers; b++ {
		k := spec.Kernel[b]
		conv, err := nn.NewConv2D(nn.ConvSpec{InC: in, OutC: spec.Channels[b], Kernel: [2]int{k, k},
			Stride: [2]int{spec.Stride[b], spec.Stride[b]}, Pad: [4]int{k / 2, k / 2, k / 2, k / 2}, Bias: true})
		if err != nil {
			return nil, fmt.Errorf("cnn block %d: %w", b+1, err)
		}
		add(conv)
		if spec.BN[b] {
			add(nn.NewBatchNorm2D(spec.Channels[b]))
		}
		add(nn.NewReLU())
		if spec.Pool[b] > 1 {
			pool, err := nn.NewMaxPool2D(nn.PoolSpec{Kernel: [2]int{spec.Pool[b], spec.Pool[b]}})
			if err != nil {
				return nil, fmt.Errorf("cnn block %d: %w", b+1, err)
			}
			add(pool)
		}
		if spec.Dropout[b] > 0 {
			drop, err := nn.NewDropout(spec.Dropout[b], seed+uint64(b)+1)
			if err != nil {
				return nil, fmt.Errorf("cnn block %d: %w", b+1, err)
			}
			add(drop)
		}
		in = spec.Channels[b]
	}
	if spec.Readout == "gap" {
		add(&nn.GlobalAvgPool{})
	}
	add(&nn.Flatten{})
	feat, err := spec.FeatureShape()
	if err != nil {
		return nil, err
	}
	lin, err := nn.NewLinear(feat[0]*feat[1]*feat[2], outputs, true)
	if err != nil {
		return nil, err
	}
	add(lin)
	nn.InitDefault(net, nn.NewRand(seed))
	nn.FuseReLUMaxPool(net)
	return net, nil
}
