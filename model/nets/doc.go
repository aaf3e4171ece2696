// Package nets defines the networks features are taken from: the embedded
// int8 MobileNetV2 (run exactly as ONNX Runtime runs it), float ResNet18/50,
// VGG19 and MobileNetV2 built from compute/nn layers with torchvision or
// random weights, and any ONNX file. Each names its taps (the layer outputs a
// read-out can use) and classifies images.
package nets
