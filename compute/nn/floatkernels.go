package nn

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// floatKernels is one path's set of the elementwise float32 passes that run
// outside the GEMMs (bias and ReLU, residual add and ReLU, the Winograd
// transforms' column passes). Every path gives the same bits as the Go
// loops (same operations in the same order, no fused multiply-add); they
// differ only in speed. fkern is the path in use, chosen once when the
// package loads: the fastest the CPU runs, or a lower one named by
// ITSCOPE_FLOAT_KERNEL.
type floatKernels struct {
	name string
	// biasReLU sets dst[i] = max(src[i]+b, 0), biasAdd dst[i] = src[i]+b;
	// dst may be src.
	biasReLU func(dst, src []float32, b float32)
	biasAdd  func(dst, src []float32, b float32)
	// addReLU sets dst[i] = max(dst[i]+src[i], 0).
	addReLU func(dst, src []float32)
	// winogradCols sets, down the columns of a band of four input rows,
	// d = Bᵀ r: d0 = r0-r2, d1 = r1+r2, d2 = r2-r1, d3 = r1-r3.
	winogradCols func(r, d [4][]float32)
	// winogradTiles sets, across one combined row cr of a band's tiles
	// (2*len(o[0])+2 values), o = (cr Bᵀ) tile by tile: with a, b, c, d
	// = cr[2tx:2tx+4], o0 = a-c, o1 = b+c, o2 = c-b, o3 = b-d.
	winogradTiles func(cr []float32, o [4][]float32)
	// winogradRows sets t0 = m0+m1+m2 and t1 = m1-m2-m3 (rows of Aᵀ m).
	winogradRows func(m [4][]float32, t0, t1 []float32)
	// winogradPairs sets, for each tile tx < len(pairs)/2 of one output
	// row, pairs[2tx] = q0+q1+q2+b and pairs[2tx+1] = q1-q2-q3+b.
	winogradPairs func(q [4][]float32, pairs []float32, b float32)
	// winogradBandReLU, when set, is winogradBand in one pass for ActNone
	// and ActReLU.
	winogradBandReLU func(m []float32, xiStride int, s [2][4][]float32, b float32, act Activation, out [2][]float32)
	// fill sets every value of s to v (a bias seeding a GEMM's output).
	fill func(s []float32, v float32)
}

var goFloatKernels = &floatKernels{
	name:          "go",
	biasReLU:      biasReLUGo,
	biasAdd:       biasAddGo,
	addReLU:       addReLUGo,
	winogradCols:  winogradColsGo,
	winogradTiles: winogradTilesGo,
	winogradRows:  winogradRowsGo,
	winogradPairs: winogradPairsGo,
	fill:          fillGo,
}

// winogradBand writes one band of output tiles, act(Aᵀ m A + b), into the
// band's one or two output rows (out[1] nil for one) from the 16 products
// m[xi*xiStride+tx], tx < tw = len(s[0][0]); s is scratch of 8 rows of tw
// values. Without a one-pass kernel the rows of Aᵀ m go through s, then
// across each tile.
func (k *floatKernels) winogradBand(m []float32, xiStride int, s [2][4][]float32, b float32, act Activation, out [2][]float32) {
	tw := len(s[0][0])
	if k.winogradBandReLU != nil && act != ActReLU6 && tw > 0 {
		k.winogradBandReLU(m, xiStride, s, b, act, out)
		return
	}
	for q := range 4 {
		rows := [4][]float32{
			m[q*xiStride:][:tw],
			m[(4+q)*xiStride:][:tw],
			m[(8+q)*xiStride:][:tw],
			m[(12+q)*xiStride:][:tw],
		}
		k.winogradRows(rows, s[0][q], s[1][q])
	}
	for r, row := range out {
		if row == nil {
			break
		}
		t := s[r]
		whole := len(row) / 2 // tiles whose two output columns are both in the plane
		k.winogradPairs(t, row[:2*whole], b)
		if whole < tw { // odd width: the last tile's first column
			row[2*whole] = t[0][whole] + t[1][whole] + t[2][whole] + b
		}
		act.apply(row, row, 0)
	}
}

func winogradPairsGo(q [4][]float32, pairs []float32, b float32) {
	whole := len(pairs) / 2
	q0, q1, q2, q3 := q[0][:whole], q[1][:whole], q[2][:whole], q[3][:whole]
	for tx := range whole {
		pair := pairs[2*tx : 2*tx+2 : 2*tx+2]
		pair[0] = q0[tx] + q1[tx] + q2[tx] + b
		pair[1] = q1[tx] - q2[tx] - q3[tx] + b
	}
}

func fillGo(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

func biasReLUGo(dst, src []float32, b float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = max(v+b, 0) // branch-free, unlike an if on random signs
	}
}

func biasAddGo(dst, src []float32, b float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v + b
	}
}

func addReLUGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = max(dst[i]+v, 0)
	}
}

func winogradColsGo(r, d [4][]float32) {
	d0 := d[0]
	r0, r1, r2, r3 := r[0][:len(d0)], r[1][:len(d0)], r[2][:len(d0)], r[3][:len(d0)]
	d1, d2, d3 := d[1][:len(d0)], d[2][:len(d0)], d[3][:len(d0)]
	for x := range d0 {
		a, b, c, e := r0[x], r1[x], r2[x], r3[x]
		d0[x], d1[x], d2[x], d3[x] = a-c, b+c, c-b, b-e
	}
}

func winogradTilesGo(cr []float32, o [4][]float32) {
	o0 := o[0]
	o1, o2, o3 := o[1][:len(o0)], o[2][:len(o0)], o[3][:len(o0)]
	cr = cr[:2*len(o0)+2]
	for tx := range o0 {
		q := cr[2*tx : 2*tx+4 : 2*tx+4]
		a, b, c, d := q[0], q[1], q[2], q[3]
		o0[tx], o1[tx], o2[tx], o3[tx] = a-c, b+c, c-b, b-d
	}
}

func winogradRowsGo(m [4][]float32, t0, t1 []float32) {
	m0, m1, m2, m3 := m[0][:len(t0)], m[1][:len(t0)], m[2][:len(t0)], m[3][:len(t0)]
	t1 = t1[:len(t0)]
	for x := range t0 {
		a, b, c, d := m0[x], m1[x], m2[x], m3[x]
		t0[x] = a + b + c
		t1[x] = b - c - d
	}
}

// FloatKernelEnv names the environment variable that forces a lower float
// kernel path: avx512, avx2 or go.
const FloatKernelEnv = "ITSCOPE_FLOAT_KERNEL"

var (
	fkern       = supportedFloatKernels[0]
	fkernChoice string // what ITSCOPE_FLOAT_KERNEL did, for FloatKernel
)

func init() {
	want := strings.TrimSpace(os.Getenv(FloatKernelEnv))
	if want == "" {
		return
	}
	if err := setFloatKernel(want); err != nil {
		fkernChoice = fmt.Sprintf("; %s=%q ignored: %v", FloatKernelEnv, want, err)
		return
	}
	fkernChoice = fmt.Sprintf(" (forced by %s; the CPU has %s)", FloatKernelEnv, supportedFloatKernels[0].name)
}

// FloatKernel names the float kernel path in use ("avx512", "avx2" or "go")
// and says when ITSCOPE_FLOAT_KERNEL chose it: `itscope version` prints it.
func FloatKernel() string {
	return fkern.name + fkernChoice
}

// setFloatKernel switches to a path the CPU supports (tests force each in
// turn). It is not safe while a network runs.
func setFloatKernel(name string) error {
	i := slices.IndexFunc(supportedFloatKernels, func(k *floatKernels) bool { return k.name == name })
	if i < 0 {
		names := make([]string, len(supportedFloatKernels))
		for j, k := range supportedFloatKernels {
			names[j] = k.name
		}
		return fmt.Errorf("this CPU runs the float kernel paths %s", strings.Join(names, ", "))
	}
	fkern = supportedFloatKernels[i]
	return nil
}
