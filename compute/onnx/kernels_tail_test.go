package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// canary fills the bytes past a kernel's output: a masked store that
// writes past the end changes them.
const canary = 0xA5

// outWithGuard is n output bytes followed by 64 canary bytes.
func outWithGuard(n int) (out, whole []uint8) {
	whole = make([]uint8, n+64)
	for i := range whole {
		whole[i] = canary
	}
	return whole[:n:n], whole
}

func guardIntact(whole []uint8, n int) bool {
	for _, v := range whole[n:] {
		if v != canary {
			return false
		}
	}
	return true
}

// elementwiseLengths are around the 16-lane and 64-byte blocks, so every
// kernel runs with no full block, full blocks only, and a masked tail.
var elementwiseLengths = []int{0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 1021}

// TestQAddQuantizeTails: every path's QLinearAdd and QuantizeLinear give
// the Go versions' bytes at every length, with sums that saturate at both
// ends, values on .5 and NaN and infinities, and write nothing past the end.
func TestQAddQuantizeTails(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const most = 1021
	a, b := make([]uint8, most), make([]uint8, most)
	for i := range a {
		a[i], b[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
	}
	f := make([]float32, most)
	for i := range f {
		f[i] = float32(rng.NormFloat64() * 3)
	}
	// Special values at the start, in the first masked tail and in the last.
	for _, at := range []int{0, 17, most - 7} {
		copy(f[at:], []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30, 0.5 * 0.02, 2.5 * 0.02, -0.5 * 0.02})
	}
	for _, c := range []struct {
		name string
		add  addParams
		q    quantParams
	}{
		{"mid", addParams{rA: 0.75, rB: 1.3, fixed: -60.5}, quantParams{scale: 0.02, lo: -114, hi: 141, zp: 114}},
		// Every sum above 255 or below 0; quantized values past both ends.
		{"saturate high", addParams{rA: 3, rB: 2, fixed: 300}, quantParams{scale: 1e-4, lo: 0, hi: 255, zp: 0}},
		{"saturate low", addParams{rA: -3, rB: -2, fixed: -0.5}, quantParams{scale: 1e-4, lo: -255, hi: 0, zp: 255}},
		// Sums landing on .5: rA = rB = 0.5 with an odd a+b.
		{"halves", addParams{rA: 0.5, rB: 0.5, fixed: 0}, quantParams{scale: 0.5, lo: -128, hi: 127, zp: 128}},
	} {
		for _, n := range elementwiseLengths {
			wantAdd, wantQ := make([]uint8, n), make([]uint8, n)
			qadd8Go(a[:n], b[:n], wantAdd, &c.add)
			quantize8Go(f[:n], wantQ, &c.q)
			for _, k := range supportedKernels {
				got, whole := outWithGuard(n)
				k.qadd(a[:n], b[:n], got, &c.add)
				if !slices.Equal(got, wantAdd) || !guardIntact(whole, n) {
					t.Errorf("%s: qadd %s, n=%d: %v, want %v (then %v)", k.name, c.name, n, got, wantAdd, whole[n:n+4])
				}
				got, whole = outWithGuard(n)
				k.quantize(f[:n], got, &c.q)
				if !slices.Equal(got, wantQ) || !guardIntact(whole, n) {
					t.Errorf("%s: quantize %s, n=%d: %v, want %v (then %v)", k.name, c.name, n, got, wantQ, whole[n:n+4])
				}
			}
		}
	}
}

// TestAvgPoolKernels: every path's global average pool sums, NCHW and
// channels_last, give the Go versions' bytes for plane sizes and channel
// counts on both sides of 16 and 64, requantized with saturation at both
// ends, and write nothing past the end. The Go versions are checked
// against a direct mean and rounding here too.
func TestAvgPoolKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		size, ch int
		post     requant1
	}{
		{1, 1, requant1{bias: -100, scale: 0.5, lo: -128, hi: 127, zp: 128}},
		{49, 1280, requant1{bias: -100 * 49, scale: 0.05 / (0.01 * 49), lo: -128, hi: 127, zp: 128}}, // MobileNetV2's
		{30, 7, requant1{bias: -100 * 30, scale: 0.05 / (0.01 * 30), lo: -128, hi: 127, zp: 128}},    // the ORT reference's
		{63, 17, requant1{bias: -127 * 63, scale: 1.0 / 63, lo: -3, hi: 252, zp: 3}},
		{64, 16, requant1{bias: 0, scale: 1.0 / 64, lo: 0, hi: 255, zp: 0}},
		{65, 33, requant1{bias: -65 * 20, scale: 5.0 / 65, lo: -10, hi: 245, zp: 10}},    // saturates high
		{200, 3, requant1{bias: -200 * 250, scale: 3.0 / 200, lo: -250, hi: 5, zp: 250}}, // saturates low
		{129, 100, requant1{bias: -129 * 128, scale: 0.5 / 129, lo: -128, hi: 127, zp: 128}},
		{7, 100, requant1{bias: 7, scale: 200, lo: -1, hi: 254, zp: 1}}, // scale near ONNX Runtime's limit
	} {
		x := make([]uint8, c.size*c.ch)
		for i := range x {
			x[i] = uint8(rng.IntN(256))
		}
		direct := func(sum int) uint8 {
			f := float32(int32(sum)+c.post.bias) * c.post.scale
			f = min(max(f, c.post.lo), c.post.hi)
			return uint8(min(max(int32(math.RoundToEven(float64(f)))+c.post.zp, 0), 255))
		}
		wantP, wantR := make([]uint8, c.ch), make([]uint8, c.ch)
		avgPlanesGo(x, c.size, wantP, &c.post)
		avgRowsGo(x, c.size, wantR, &c.post)
		for j := range c.ch {
			sumP, sumR := 0, 0
			for i := range c.size {
				sumP += int(x[j*c.size+i])
				sumR += int(x[i*c.ch+j])
			}
			if wantP[j] != direct(sumP) || wantR[j] != direct(sumR) {
				t.Fatalf("size %d, channel %d: Go pool gives %d and %d, the direct mean %d and %d", c.size, j, wantP[j], wantR[j], direct(sumP), direct(sumR))
			}
		}
		name := fmt.Sprintf("size %d x %d channels", c.size, c.ch)
		for _, k := range supportedKernels {
			got, whole := outWithGuard(c.ch)
			k.avgPlanes(x, c.size, got, &c.post)
			if !slices.Equal(got, wantP) || !guardIntact(whole, c.ch) {
				t.Errorf("%s: avgPlanes, %s: differs from the Go version", k.name, name)
			}
			got, whole = outWithGuard(c.ch)
			k.avgRows(x, c.size, got, &c.post)
			if !slices.Equal(got, wantR) || !guardIntact(whole, c.ch) {
				t.Errorf("%s: avgRows, %s: differs from the Go version", k.name, name)
			}
		}
	}
}

// FuzzElementwiseKernels: on any bytes, lengths and parameters, every
// path's QLinearAdd, QuantizeLinear and pool kernels give the Go versions'
// bytes.
func FuzzElementwiseKernels(f *testing.F) {
	f.Add([]byte{1, 2, 3, 255, 0, 128}, uint8(3), float32(0.75), float32(1.3), float32(-60.5), float32(0.02), uint8(114))
	f.Add(make([]byte, 300), uint8(17), float32(3), float32(2), float32(300), float32(1e-4), uint8(0))
	f.Add([]byte{0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0x80, 0x7f}, uint8(64), float32(-1), float32(0.5), float32(0.5), float32(0.5), uint8(255))
	f.Fuzz(func(t *testing.T, data []byte, size uint8, rA, rB, fixed, scale float32, zp uint8) {
		n := len(data) / 2
		a, b := data[:n], data[n:2*n]
		fl := make([]float32, len(data)/4)
		for i := range fl {
			fl[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		add := addParams{rA: rA, rB: rB, fixed: fixed}
		q := quantParams{scale: scale, lo: float32(0 - int32(zp)), hi: float32(255 - int32(zp)), zp: int32(zp)}
		sz := max(int(size), 1)
		post := requant1{bias: -int32(zp) * int32(sz), scale: scale, lo: q.lo, hi: q.hi, zp: q.zp}
		nch := len(data) / sz
		wantAdd, wantQ := make([]uint8, n), make([]uint8, len(fl))
		wantP, wantR := make([]uint8, nch), make([]uint8, nch)
		qadd8Go(a, b, wantAdd, &add)
		quantize8Go(fl, wantQ, &q)
		avgPlanesGo(data, sz, wantP, &post)
		avgRowsGo(data, sz, wantR, &post)
		for _, k := range supportedKernels {
			got := make([]uint8, n)
			if k.qadd(a, b, got, &add); !slices.Equal(got, wantAdd) {
				t.Errorf("%s: qadd %v, want %v", k.name, got, wantAdd)
			}
			got = make([]uint8, len(fl))
			if k.quantize(fl, got, &q); !slices.Equal(got, wantQ) {
				t.Errorf("%s: quantize %v, want %v", k.name, got, wantQ)
			}
			got = make([]uint8, nch)
			if k.avgPlanes(data, sz, got, &post); !slices.Equal(got, wantP) {
				t.Errorf("%s: avgPlanes %v, want %v", k.name, got, wantP)
			}
			got = make([]uint8, nch)
			if k.avgRows(data, sz, got, &post); !slices.Equal(got, wantR) {
				t.Errorf("%s: avgRows %v, want %v", k.name, got, wantR)
			}
		}
	})
}
