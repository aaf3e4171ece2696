// Package nn holds itscope's tensor layers: one set of types serves inference
// (the pretrained networks, the ONNX float operators) and training (CNNs from
// scratch, co-training), so every layer has a forward and a backward pass.
//
// Tensors are *tensor.Dense (gorgonia.org/tensor), float32, contiguous, NCHW;
// New, FromSlice and Float32s make and read them. The heavy work is sgemm
// through gonum's blas32 on the backing slices: OpenBLAS once the program
// has called compute.UseOpenBLAS (main does; so does this package's
// TestMain), gonum's pure-Go BLAS otherwise; gorgonia's own arithmetic is
// not used.
// Loops over images, channels and elements run on GOMAXPROCS goroutines
// (compute/parallel), each writing its own memory.
// With OpenBLAS single-threaded (compute.SingleThreadBLAS, as training and the
// networks' forward passes set it) large products are split the same way.
// The elementwise passes around the products (bias and ReLU, residual add
// and ReLU, the Winograd transforms) run as AVX-512 or AVX2 assembly where
// the CPU has it, with the Go loops' exact bits; ITSCOPE_FLOAT_KERNEL=avx2
// or go forces a lower path, and the purego build tag keeps only Go.
//
// # Layers
//
// A Layer has Forward(x, train) and Backward(dy). Backward uses what the most
// recent Forward(x, true) cached and is only valid after one (it returns an
// error otherwise): an inference Forward(x, false) caches nothing, so
// inference holds no activations. Backward returns dL/dx and ADDS the
// parameter gradients into each Param.Grad (as PyTorch accumulates .grad);
// call the optimiser's ZeroGrad between steps. Outputs and gradients may
// share storage with inputs (Flatten, Identity, Add): treat them as read-only.
// Inference passes write nothing into a layer (once a first inference pass
// has dropped any training caches), so after one Forward(x, false) a network
// may serve concurrent inference; training is one goroutine per network.
//
// Single-input layers:
//   - Conv2D: NewConv2D(ConvSpec{InC, OutC, Kernel, Stride, Pad (top, left,
//     bottom, right), Dilation, Groups, Bias}); im2col + sgemm, batched over
//     images; at inference 3x3 stride-1 kernels use Winograd's F(2x2, 3x3);
//     depthwise (one input channel per group) by direct loops. Infer(x, act)
//     applies a ReLU/ReLU6 in the bias pass. Weight (OutC, InC/Groups, KH,
//     KW). NoInputGrad skips dL/dx for a first layer.
//   - BatchNorm2D: NewBatchNorm2D(c), torch.nn.BatchNorm2d's train and eval
//     behaviour; UseRunningStats for a frozen BatchNorm that passes gradients;
//     FoldInto(conv) for inference.
//   - ReLU (NewReLU), Clip (NewClip(lo, hi); NewReLU6), Identity.
//     FuseReLUMaxPool hands a ReLU that a MaxPool2D follows to the pool.
//   - MaxPool2D, AvgPool2D: NewMaxPool2D(PoolSpec), NewAvgPool2D(PoolSpec,
//     countIncludePad) with 4-sided pads and CeilMode as PyTorch.
//   - GlobalAvgPool (N,C,H,W) to (N,C,1,1); Flatten to (N, rest);
//     Softmax over axis 1.
//   - Linear: NewLinear(in, out, bias), y = x Wᵀ + b with W (out, in).
//   - Dropout: NewDropout(p, seed), seeded mask scaled by 1/(1-p) in training.
//
// Multi-input layers (MultiInput): Add; Backward returns one gradient per
// input.
//
// Composites (Container): Sequential (NewSequential, Append, Replace), whose
// children have names, so a ResNet is built as torchvision names it
// ("layer3.0.conv1"); Residual (NewResidual(body, shortcut, act)),
// y = act(body(x) + shortcut(x)), with the body's children at the block's
// level and the shortcut named "downsample" as in torchvision. Params,
// Buffers and State return dotted names ("layer3.0.bn1.running_mean", as a
// PyTorch state_dict) whose Value tensors are the layers' own: load weights
// by copying into them (LoadParam checks the shape), never by replacing the
// pointer. Walk visits every descendant with its dotted name.
// At inference a Sequential runs a Conv2D and the ReLU or ReLU6 after it as
// one Conv2D.Infer, and a Residual adds its shortcut and applies its
// activation in place. FoldBatchNorm folds each BatchNorm2D that follows a
// Conv2D into it (load weights first; inference only).
//
// # Losses and optimisers
//
// MSELoss and CrossEntropyLoss return the mean loss and dLoss/dOutput, like
// torch.nn.MSELoss and torch.nn.CrossEntropyLoss (labels < 0 are ignored, as
// PyTorch's ignore_index). NewSGD (momentum, weight decay), NewAdam (weight
// decay added to the gradient, as torch.optim.Adam) and NewAdamW (decoupled
// decay) step over []*Param with PyTorch's formulas, bias corrections
// included; they skip buffers, so State(net) may be passed.
//
// # Initialisation
//
// InitDefault (PyTorch's Conv2d/Linear reset_parameters), InitResNet and
// InitVGG (torchvision's schemes; MobileNetV2's is InitVGG's) draw from
// NewRand(seed), a math/rand/v2 PCG: the same seed gives the same weights,
// with PyTorch's distributions though not its random stream.
//
// # Correctness
//
// testdata/nn/make_torch_fixtures.py records PyTorch's forward outputs and
// autograd gradients for every layer type and a one-epoch training run with
// each optimiser; the tests compare against them and against finite
// differences.
package nn
