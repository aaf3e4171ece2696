package nets

import (
	"math/rand/v2"
	"syscall"
	"testing"
)

// BenchmarkResNet50RandomForward is resnet50-random on a batch of 16
// 224x224 images, all taps computed (fc requested); bench/nets/run.sh sets it
// beside PyTorch's CPU forward. Reported per image as ms/image.
func BenchmarkResNet50RandomForward(b *testing.B) {
	net, err := OpenNetwork("resnet50-random", NetOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 16
	x := make([]float32, batch*3*224*224)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	if _, err := net.Forward(x, batch, []string{"fc"}); err != nil { // warm up buffers
		b.Fatal(err)
	}
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for range b.N {
		if _, err := net.Forward(x, batch, []string{"fc"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// CPU time (all threads) moves less than wall time with other people's
	// load on a shared machine.
	b.ReportMetric(1000*(cpuSeconds()-cpu0)/float64(b.N*batch), "cpu-ms/image")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*batch), "ms/image")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
