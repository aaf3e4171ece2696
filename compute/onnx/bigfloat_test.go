package onnx

import "math/big"

// bigFloat computes a*b + c exactly, then rounds once to float32.
type bigFloat struct{}

func (bigFloat) fma(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}
