// Package nets defines the networks features are taken from: the embedded
// int8 MobileNetV2 (run exactly as ONNX Runtime runs it), float ResNet18/50,
// VGG19 and MobileNetV2 with torchvision or random weights, and any ONNX
// file. Each names its taps (the layer outputs a read-out can use) and
// classifies images.
//
// The float architectures are one type, Net: compute/nn layers (Sequential,
// Residual, depthwise convs) arranged and named as torchvision's modules, so
// the same object gives taps for feature extraction and trains, whole or
// from a tap on (TrainableStages, for co-training). ONNX exports load into
// it by state_dict name, or conv by conv in graph order when torch folded
// the BatchNorms; the int8 MobileNetV2's dequantized weights load the same
// way for co-training.
package nets
