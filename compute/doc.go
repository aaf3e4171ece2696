// Package compute holds itscope's numerics: per-neuron metrics and noise
// ceilings, PCA that never forms a features-by-features matrix, least squares
// and ridge read-outs with cross-validated regularisation.
//
// Sub-packages hold the deep-network numerics: nn (tensor layers with forward
// and backward passes, losses, optimisers) and onnx (the ONNX graph runner,
// float and int8). compute imports neither model nor ui.
//
// With cgo, gonum's BLAS is OpenBLAS (see blas_cgo.go); without it the pure-Go
// gonum BLAS serves, slower but the same results.
package compute
