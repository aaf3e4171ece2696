package onnx

import (
	"fmt"
	"os"
	"strings"
)

// int8Kernels is one path's set of int8 kernels. Every path gives the same
// bits (ONNX Runtime's); they differ only in speed. kern is the path in
// use, chosen once when the package loads: the fastest the CPU runs, or a
// lower one named by ITSCOPE_INT8_KERNEL.
type int8Kernels struct {
	name string
	// qgemm8x8 multiplies 8 rows of channel-pair weights by 8-pixel blocks
	// of planes (packed for it by packQWeights).
	qgemm8x8 func(w []int32, x []uint8, plane, kp, nblk int, out []uint8, ldo int, post *requant8)
	// dwconv is one depthwise channel's taps over a run of n outputs, n a
	// multiple of 16 (see dwconvAsm).
	dwconv   func(out []uint8, base []uint8, offs []int, w []int32, n int, post *requant1)
	qadd     func(a, b, out []uint8, p *addParams)
	quantize func(in []float32, out []uint8, p *quantParams)
	// avgPlanes and avgRows are QLinearGlobalAveragePool's sums, plus
	// post.bias, requantized: over each plane of size bytes (NCHW), or over
	// size rows of len(out) channels (one channels_last image).
	avgPlanes func(x []uint8, size int, out []uint8, post *requant1)
	avgRows   func(x []uint8, size int, out []uint8, post *requant1)
	// subsample sets dst[i] = src[i*stride] (im2col at strides > 1).
	subsample func(dst, src []uint8, stride int)
	// vnni: 1x1 and im2col convolutions, matmuls and 3x3 depthwise
	// convolutions whose weights fit int8 take the AVX-512 VNNI kernels.
	vnni bool
}

var goKernels = &int8Kernels{
	name:      "go",
	qgemm8x8:  qgemm8x8Go,
	dwconv:    dwconv8Go,
	qadd:      qadd8Go,
	quantize:  quantize8Go,
	avgPlanes: avgPlanesGo,
	avgRows:   avgRowsGo,
	subsample: subsampleGo,
}

// Int8KernelEnv names the environment variable that forces a lower int8
// kernel path: vnni, avx2 or go.
const Int8KernelEnv = "ITSCOPE_INT8_KERNEL"

var (
	kern       = supportedKernels[0]
	kernChoice string // what ITSCOPE_INT8_KERNEL did, for Int8Kernel
)

func init() {
	want := strings.TrimSpace(os.Getenv(Int8KernelEnv))
	if want == "" {
		return
	}
	if err := setInt8Kernel(want); err != nil {
		kernChoice = fmt.Sprintf("; %s=%q ignored: %v", Int8KernelEnv, want, err)
		return
	}
	kernChoice = fmt.Sprintf(" (forced by %s; the CPU has %s)", Int8KernelEnv, supportedKernels[0].name)
}

// Int8Kernel names the int8 kernel path in use: "vnni" (AVX-512 VNNI),
// "avx2" or "go" (portable), and says when ITSCOPE_INT8_KERNEL chose it.
func Int8Kernel() string {
	return kern.name + kernChoice
}

// setInt8Kernel switches to a path the CPU supports (tests force each in
// turn). It is not safe while a model runs.
func setInt8Kernel(name string) error {
	var names []string
	for _, k := range supportedKernels {
		if k.name == name {
			kern = k
			return nil
		}
		names = append(names, k.name)
	}
	return fmt.Errorf("this CPU runs the int8 kernel paths %s", strings.Join(names, ", "))
}
