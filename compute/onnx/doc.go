// Package onnx loads ONNX models and runs them on the CPU with taps at any
// node output: the int8 (QOperator) operators bit-exact with ONNX Runtime
// 1.20 on x86-64, and the float operators of torchvision-style CNNs.
//
// # Loading and running
//
//	m, err := onnx.LoadFile("model.onnx")       // or onnx.LoadBytes(embedded, "mobilenetv2-12-int8.onnx")
//	out, err := m.Run(ctx, map[string]*tensor.Dense{"input": x}, "474_quantized", "output")
//
// Load checks the whole graph: a truncated or corrupt file, an unsupported
// operator, a missing initializer or input, or a bad attribute is an error
// naming the file, the node (its index in the graph, and its name) and its
// operator, e.g.
//
//	onnx: net.onnx: node 3 "conv_7" (Conv): input "w7" is neither a graph input, an initializer nor any node's output (missing initializer?)
//
// Nothing a file declares is allocated before it is checked: each
// initializer's (and Constant's) dims are bounded (rank 8, 1<<30 elements,
// computed without overflow) and must match the bytes or values present; a
// graph input's declared shape may hold at most 1<<25 elements; kernel_shape,
// strides, dilations and pads at most 128 and group at most 65536. A forged
// file gets an error naming the file, the tensor, node or attribute, and what
// was expected and found. Float32Tensor decodes one tensor with the same checks
// (for tools that read weights from an ONNX export).
//
// Tensors in and out are *tensor.Dense (gorgonia.org/tensor), contiguous and
// row-major: float32 NCHW images, uint8 for quantized taps, int64 for shape
// tensors. The batch dimension is free. Run computes only the nodes the
// requested tensors need and drops each intermediate after its last
// consumer. Run is safe for concurrent use. It keeps GOMAXPROCS cores busy:
// a batch is split into one sub-batch per core, each run through the whole
// graph (so each core's activations stay in its caches), and inside the heavy
// operators work is split over pixels and channels (which is what a batch of
// one uses).
//
// Nodes lists the operators in execution order (name, op type, input and
// output tensor names); Shapes gives each tensor's shape for an input shape
// (one forward pass on zeros), which is what `itscope layers` needs;
// Quantization gives a quantized tensor's scale and zero point and Dequantize
// turns a uint8 tap into its float32 real values, scale*(q - zero_point).
//
// # Operators
//
// Quantized, with ONNX Runtime's arithmetic (MLAS on AVX2): QuantizeLinear
// (x/scale, round half to even, saturate), DequantizeLinear, QLinearConv
// (exact int32 accumulation, per-tensor or per-channel weight scales,
// requantized as float32(acc) * float32(x_scale*w_scale/y_scale), rounded half
// to even, plus the zero point, saturated), com.microsoft QLinearAdd (MLAS's
// FMA formula), com.microsoft QLinearGlobalAveragePool (NCHW or
// channels_last), QLinearMatMul (per-column scales). Shape handling: Shape,
// Gather, Unsqueeze, Squeeze, Concat, Reshape, Flatten, Constant, Identity,
// Dropout (identity). Float: the register calls in floatops.go list them.
//
// ONNX Runtime's own int8 results depend on the CPU: on x86-64 without VNNI its
// uint8 x int8 kernels (vpmaddubsw) saturate each pair of products to int16,
// while with VNNI (and in its portable code) the int32 accumulation is exact.
// This package accumulates exactly, so it matches ONNX Runtime on VNNI
// machines, where the MobileNetV2 references in testdata/onnx were made; on an
// AVX2-only machine ONNX Runtime 1.20.1 itself gives other logits (same top-1
// on the references). See testdata/onnx/README.md.
//
// The int8 kernels come in three paths with the same bits, one chosen when the
// package loads (kernelpath.go; Int8Kernel names it):
//
//   - "vnni" on CPUs with AVX-512 F/BW/VL/VBMI/VNNI (kernels_vnni_amd64.s):
//     VPDPBUSD, unsigned input bytes times signed weight bytes summed exactly
//     into int32, on input quads packed per chunk of pixels, 8 channels x 32
//     pixels (1x1 and im2col convolutions); 3x3 depthwise rows lined up by
//     VPERMB; a 16-column matmul for few rows (QLinearMatMul), all for
//     weights that fit int8 after their zero point; and QLinearAdd,
//     QuantizeLinear and QLinearGlobalAveragePool (VPSADBW plane sums for
//     NCHW, 16-channel column sums for channels_last) on 16 lanes, the
//     last values of any length under a mask.
//   - "avx2" (kernels_amd64.s): the uint8 x int16 VPMADDWD micro-kernel on 8
//     channels x 8 pixels, a depthwise kernel, QLinearAdd, QuantizeLinear
//     and the NCHW global average pool (VPSADBW, planes of 32 bytes or
//     more); it also serves VNNI machines for weights that do not fit int8
//     and for depthwise kernels other than undilated 3x3 at stride 1 or 2.
//     Its channels_last pool is the Go one.
//   - "go", the portable versions, on other machines or under the purego
//     build tag.
//
// ITSCOPE_INT8_KERNEL=avx2 or go forces a lower path; the tests run every
// path the CPU has, each against the Go versions (including lengths that
// leave a masked tail, and saturation) and against ONNX Runtime's outputs.
//
// # The embedded MobileNetV2 (model/nets/weights/mobilenetv2-12-int8.onnx)
//
// Input "input" float32 (N,3,224,224), ImageNet-normalised; output "output"
// float32 (N,1000) logits, which are dequantized uint8: 0.16014458*(q-75).
// Its 73 nodes are named after the PyTorch export ("Conv_0_quant", ...).
// torchvision's mobilenet_v2 modules end at these tensors (uint8 NCHW; use
// Dequantize for real values):
//
//	features.0   474_quantized  (32,112,112)   Conv_0_quant (3x3 s2; ReLU6 folded into the range)
//	features.1   480_quantized  (16,112,112)   Conv_4_quant
//	features.2   489_quantized  (24,56,56)     Conv_9_quant
//	features.3   339_quantized  (24,56,56)     Add_15_quant
//	features.4   507_quantized  (32,28,28)     Conv_20_quant
//	features.5   356_quantized  (32,28,28)     Add_26_quant
//	features.6   365_quantized  (32,28,28)     Add_32_quant
//	features.7   534_quantized  (64,14,14)     Conv_37_quant
//	features.8   382_quantized  (64,14,14)     Add_43_quant
//	features.9   391_quantized  (64,14,14)     Add_49_quant
//	features.10  400_quantized  (64,14,14)     Add_55_quant
//	features.11  570_quantized  (96,14,14)     Conv_60_quant
//	features.12  417_quantized  (96,14,14)     Add_66_quant
//	features.13  426_quantized  (96,14,14)     Add_72_quant
//	features.14  597_quantized  (160,7,7)      Conv_77_quant
//	features.15  443_quantized  (160,7,7)      Add_83_quant
//	features.16  452_quantized  (160,7,7)      Add_89_quant
//	features.17  624_quantized  (320,7,7)      Conv_94_quant
//	features.18  627_quantized  (1280,7,7)     Conv_95_quant
//	(avgpool)    464_quantized  (1280,1,1)     GlobalAveragePool_97_quant
//	classifier   output         (1000)         float logits (output_quantized is the uint8)
//
// MobileNetV2Taps holds this table.
package onnx

// MobileNetV2Taps maps torchvision's mobilenet_v2 module names to the tensors
// of the embedded int8 model (mobilenetv2-12-int8.onnx) where they end.
var MobileNetV2Taps = []struct{ Module, Tensor string }{
	{"features.0", "474_quantized"},
	{"features.1", "480_quantized"},
	{"features.2", "489_quantized"},
	{"features.3", "339_quantized"},
	{"features.4", "507_quantized"},
	{"features.5", "356_quantized"},
	{"features.6", "365_quantized"},
	{"features.7", "534_quantized"},
	{"features.8", "382_quantized"},
	{"features.9", "391_quantized"},
	{"features.10", "400_quantized"},
	{"features.11", "570_quantized"},
	{"features.12", "417_quantized"},
	{"features.13", "426_quantized"},
	{"features.14", "597_quantized"},
	{"features.15", "443_quantized"},
	{"features.16", "452_quantized"},
	{"features.17", "624_quantized"},
	{"features.18", "627_quantized"},
	{"avgpool", "464_quantized"},
	{"classifier", "output"},
}
