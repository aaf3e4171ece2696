// Package nn holds itscope's tensor layers: one set of types serves inference
// (the pretrained networks, the ONNX float operators) and training (CNNs from
// scratch, co-training), so every layer has a forward and a backward pass.
//
// Tensors are *tensor.Dense (gorgonia.org/tensor), float32, contiguous, NCHW.
// The heavy work is OpenBLAS sgemm through gonum's blas32 on the backing
// slice (importing itscope/compute configures OpenBLAS); gorgonia's own
// arithmetic is not used in hot paths.
//
// # Layers
//
// A Layer has Forward(x, train) and Backward(dy). Backward uses what the most
// recent Forward(x, true) cached and is only valid after one: an inference
// Forward(x, false) caches nothing, so inference holds no activations. Backward
// returns dL/dx and ADDS the parameter gradients into each Param.Grad (as
// PyTorch accumulates .grad); call the optimiser's ZeroGrad between steps.
// Inference passes write nothing into a layer (once any training caches have
// been dropped by a first inference pass), so after one Forward(x, false) a
// network may serve concurrent inference; training is one goroutine per
// network.
//
// Single-input layers: Conv2D (NewConv2D(ConvSpec)), BatchNorm2D
// (NewBatchNorm2D(c)), ReLU, Clip (ReLU6 is NewReLU6()), MaxPool2D and
// AvgPool2D (PoolSpec), GlobalAvgPool, Linear (NewLinear(in, out, bias)),
// Dropout (NewDropout(p, seed)), Flatten, Softmax, Identity.
//
// Multi-input layers (the MultiInput interface): Add and Concat{Axis}; their
// Backward returns one gradient per input.
//
// Composites (the Container interface): Sequential, whose children have
// names (so a ResNet is built as torchvision names it: "layer3.0.conv1"), and
// Residual, y = act(body(x) + shortcut(x)), with the shortcut's children named
// "downsample.N" as in torchvision. Params and Buffers of a composite carry
// dotted names ("layer3.0.bn1.running_mean"); the Value tensors are shared with
// the layers, so load weights by copying into Value's data (LoadParam does it
// with shape checks), never by replacing the pointer.
// Sequential.ForwardTaps reports each named child's output, at any depth.
// FoldBatchNorm folds each eval-mode BatchNorm2D into the Conv2D before it.
//
// # Losses and optimisers
//
// MSELoss and CrossEntropyLoss return the mean loss and dLoss/dOutput, like
// torch.nn.MSELoss and torch.nn.CrossEntropyLoss (labels < 0 are ignored, as
// PyTorch's ignore_index). SGD (momentum, weight decay), Adam (weight decay
// added to the gradient, as torch.optim.Adam) and AdamW (decoupled decay) step
// over []*Param with PyTorch's update formulas, bias corrections included.
//
// # Initialisation
//
// InitDefault (PyTorch's Conv2d/Linear reset_parameters), InitResNet and
// InitVGG (torchvision's schemes; MobileNetV2's is InitVGG's) draw from a
// math/rand/v2 PCG seeded generator: the same seed gives the same weights,
// with the same distributions as PyTorch though not its random stream.
package nn
