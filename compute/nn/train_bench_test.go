package nn

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
)

// cpuSeconds is the process's user+system CPU time: on a shared machine it
// varies far less with other people's load than wall time does.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// trainCNN is the study's small CNN as itscope trains it: three blocks of
// conv3x3(pad 1)-BN-ReLU-maxpool2 with 32, 64, 128 channels and a linear
// read-out to 168 neurons (bench/nn/train_step_torch.py builds the same).
func trainCNN(b *testing.B, size int) *Sequential {
	net := NewSequential()
	in := 3
	for i, ch := range []int{32, 64, 128} {
		c, err := NewConv2D(ConvSpec{InC: in, OutC: ch, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})
		if err != nil {
			b.Fatal(err)
		}
		c.NoInputGrad = i == 0
		pool, err := NewMaxPool2D(PoolSpec{Kernel: [2]int{2, 2}})
		if err != nil {
			b.Fatal(err)
		}
		net.Append(fmt.Sprint(4*i), c).Append(fmt.Sprint(4*i+1), NewBatchNorm2D(ch)).
			Append(fmt.Sprint(4*i+2), NewReLU()).Append(fmt.Sprint(4*i+3), pool)
		in = ch
	}
	fc, err := NewLinear(128*(size/8)*(size/8), 168, true)
	if err != nil {
		b.Fatal(err)
	}
	net.Append("12", &Flatten{}).Append("13", fc)
	InitDefault(net, NewRand(1))
	return net
}

// BenchmarkTrainStep times one Adam step (forward, MSE, backward, update) of
// trainCNN on a batch of 32 images.
func BenchmarkTrainStep(b *testing.B) {
	for _, size := range []int{64, 224} {
		b.Run(fmt.Sprintf("%dpx", size), func(b *testing.B) {
			net := trainCNN(b, size)
			rng := rand.New(rand.NewPCG(1, 1))
			x, target := randTensor(rng, 32, 3, size, size), randTensor(rng, 32, 168)
			opt := NewAdam(net.Params(), 1e-3, 1e-3)
			step := func() {
				opt.ZeroGrad()
				y, err := net.Forward(x, true)
				if err != nil {
					b.Fatal(err)
				}
				_, dy, err := MSELoss(y, target)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := net.Backward(dy); err != nil {
					b.Fatal(err)
				}
				opt.Step()
			}
			step()
			cpu0 := cpuSeconds()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
			b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/step")
		})
	}
}
