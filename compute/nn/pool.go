package nn

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/tensor"

	"itscope/compute/parallel"
)

// PoolSpec describes a 2-d pooling window. Zero Stride means the kernel size
// (PyTorch's default). CeilMode rounds the output size up as PyTorch does,
// never starting a window in the bottom/right padding.
type PoolSpec struct {
	Kernel   [2]int
	Stride   [2]int
	Pad      [4]int // top, left, bottom, right
	CeilMode bool
}

func (p *PoolSpec) norm(what string) error {
	if p.Stride == [2]int{} {
		p.Stride = p.Kernel
	}
	if p.Kernel[0] <= 0 || p.Kernel[1] <= 0 || p.Stride[0] <= 0 || p.Stride[1] <= 0 {
		return fmt.Errorf("%s: want positive kernel and stride, found %v and %v", what, p.Kernel, p.Stride)
	}
	for _, v := range p.Pad {
		if v < 0 {
			return fmt.Errorf("%s: want non-negative pads, found %v", what, p.Pad)
		}
	}
	return nil
}

func poolOut(in, k, s, lo, hi int, ceil bool) int {
	span := in + lo + hi - k
	if span < 0 {
		return 0
	}
	if !ceil {
		return span/s + 1
	}
	out := (span+s-1)/s + 1
	if (out-1)*s >= in+lo {
		out--
	}
	return out
}

// OutSize returns the output height and width for an h x w input.
func (p *PoolSpec) OutSize(h, w int) (int, int) {
	return poolOut(h, p.Kernel[0], p.Stride[0], p.Pad[0], p.Pad[2], p.CeilMode),
		poolOut(w, p.Kernel[1], p.Stride[1], p.Pad[1], p.Pad[3], p.CeilMode)
}

type poolGeom struct{ n, c, h, w, oh, ow int }

func (p *PoolSpec) geom(what string, x *tensor.Dense) (poolGeom, error) {
	n, c, h, w, err := dims4(what, x)
	if err != nil {
		return poolGeom{}, err
	}
	oh, ow := p.OutSize(h, w)
	if oh <= 0 || ow <= 0 {
		return poolGeom{}, fmt.Errorf("%s: input %dx%d too small for kernel %v pads %v", what, h, w, p.Kernel, p.Pad)
	}
	return poolGeom{n, c, h, w, oh, ow}, nil
}

// MaxPool2D takes the maximum over each window; padding never wins. With
// ReLU it pools max(x, 0) instead (see FuseReLUMaxPool).
type MaxPool2D struct {
	Spec   PoolSpec
	ReLU   bool
	argmax []int32 // per output, the input index within its plane
	g      poolGeom
	argBuf []int32 // argmax's storage, kept when reusing buffers
	stepBuffers
}

// NewMaxPool2D checks s and returns the pool.
func NewMaxPool2D(s PoolSpec) (*MaxPool2D, error) {
	if err := s.norm("maxpool"); err != nil {
		return nil, err
	}
	return &MaxPool2D{Spec: s}, nil
}

// Params returns nil.
func (*MaxPool2D) Params() []*Param { return nil }

// Forward pools x (N,C,H,W).
func (mp *MaxPool2D) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	g, err := mp.Spec.geom("maxpool", x)
	if err != nil {
		return nil, err
	}
	s := &mp.Spec
	y := mp.output(train, false, g.n, g.c, g.oh, g.ow)
	xs, ys := Float32s(x), Float32s(y)
	var arg []int32
	switch {
	case train && mp.reuse && cap(mp.argBuf) >= len(ys):
		arg = mp.argBuf[:len(ys)]
	case train:
		arg = make([]int32, len(ys))
		if mp.reuse {
			mp.argBuf = arg
		}
	}
	if s.Kernel == [2]int{2, 2} && s.Stride == [2]int{2, 2} && s.Pad == [4]int{} && !s.CeilMode {
		parallel.For(g.n*g.c, func(t int) { maxPool2x2(&g, t, xs, ys, arg, mp.ReLU) })
		mp.keep(train, arg, g)
		return y, nil
	}
	if arg == nil {
		parallel.For(g.n*g.c, func(t int) {
			rowMax := getScratch(g.h * g.ow)
			out := ys[t*g.oh*g.ow:][:g.oh*g.ow]
			maxPoolSeparable(s, &g, xs[t*g.h*g.w:][:g.h*g.w], out, *rowMax)
			putScratch(rowMax)
			if mp.ReLU {
				ActReLU.apply(out, out, 0)
			}
		})
		mp.keep(train, arg, g)
		return y, nil
	}
	parallel.For(g.n*g.c, func(t int) {
		plane := xs[t*g.h*g.w:][:g.h*g.w]
		out := ys[t*g.oh*g.ow:][:g.oh*g.ow]
		for oy := range g.oh {
			y0 := oy*s.Stride[0] - s.Pad[0]
			y1 := min(y0+s.Kernel[0], g.h)
			y0 = max(y0, 0)
			for ox := range g.ow {
				x0 := ox*s.Stride[1] - s.Pad[1]
				x1 := min(x0+s.Kernel[1], g.w)
				x0 = max(x0, 0)
				best, bi := float32(math.Inf(-1)), y0*g.w+x0
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						if v := plane[iy*g.w+ix]; v > best || v != v {
							best, bi = v, iy*g.w+ix
						}
					}
				}
				a := int32(bi)
				if mp.ReLU {
					best, a = reluPooled(best, a)
				}
				out[oy*g.ow+ox] = best
				if arg != nil {
					arg[t*g.oh*g.ow+oy*g.ow+ox] = a
				}
			}
		}
	})
	mp.keep(train, arg, g)
	return y, nil
}

// maxPoolSeparable pools one plane as a maximum over each window's rows of
// the maximum along each row (rowMax holds those, h x ow): the max of a
// rectangle is separable, and this does kh+kw rather than kh*kw compares per
// output. It keeps no argmax, so it serves inference only; Go's max is
// branch-free (the data make branches unpredictable) and differs from the
// training rule only in the sign of a zero maximum.
func maxPoolSeparable(s *PoolSpec, g *poolGeom, plane, out, rowMax []float32) {
	for iy := range g.h {
		row, hr := plane[iy*g.w:][:g.w], rowMax[iy*g.ow:][:g.ow]
		for ox := range hr {
			x0 := ox*s.Stride[1] - s.Pad[1]
			x1 := min(x0+s.Kernel[1], g.w)
			x0 = max(x0, 0)
			m := float32(math.Inf(-1))
			for _, v := range row[x0:x1] {
				m = max(m, v)
			}
			hr[ox] = m
		}
	}
	for oy := range g.oh {
		y0 := oy*s.Stride[0] - s.Pad[0]
		y1 := min(y0+s.Kernel[0], g.h)
		y0 = max(y0, 0)
		o := out[oy*g.ow:][:g.ow]
		if y0 >= y1 {
			fill(o, float32(math.Inf(-1)))
			continue
		}
		copy(o, rowMax[y0*g.ow:][:g.ow])
		for iy := y0 + 1; iy < y1; iy++ {
			for ox, v := range rowMax[iy*g.ow:][:g.ow] {
				o[ox] = max(o[ox], v)
			}
		}
	}
}

func (mp *MaxPool2D) keep(train bool, arg []int32, g poolGeom) {
	if train || mp.argmax != nil {
		mp.argmax, mp.g = arg, g
	}
}

// noGrad marks an argmax whose window the fused ReLU zeroed: Backward sends
// it nothing. The index stays in the low bits so the scatter needs no branch.
const noGrad = -1 << 31

// reluPooled applies a fused ReLU to a window's maximum best won by input a.
// Only a positive maximum passes gradient, as the ReLU before the pool
// would have let through; NaN stays NaN.
func reluPooled(best float32, a int32) (float32, int32) {
	// masks rather than branches: half the windows of a layer pass
	var pass, nan uint32
	if best > 0 {
		pass = ^uint32(0)
	}
	if best != best {
		nan = ^uint32(0)
	}
	keep := pass | nan
	return math.Float32frombits(math.Float32bits(best) & keep), a | noGrad&^int32(pass)
}

// maxPool2x2 is the common 2x2, stride 2, unpadded pool of plane t, with no
// window clipping to handle.
func maxPool2x2(g *poolGeom, t int, xs, ys []float32, arg []int32, relu bool) {
	w, ow := g.w, g.ow
	plane := xs[t*g.h*w:][:g.h*w]
	out := ys[t*g.oh*ow:][:g.oh*ow]
	var args []int32
	if arg != nil {
		args = arg[t*g.oh*ow:][:g.oh*ow]
	}
	for oy := range g.oh {
		var rowArgs []int32
		if args != nil {
			rowArgs = args[oy*ow:][:ow]
		}
		maxPool2x2Row(plane[2*oy*w:][:2*ow], plane[(2*oy+1)*w:][:2*ow], out[oy*ow:][:ow], rowArgs, int32(2*oy*w), int32(w), relu)
	}
}

// maxPool2x2Row pools input rows r0 and r1 into row and, unless nil,
// rowArgs (plane indices, counted from base). It is its own function so
// that its loop keeps everything in registers.
func maxPool2x2Row(r0, r1, row []float32, rowArgs []int32, base, w int32, relu bool) {
	r0, r1 = r0[:2*len(row)], r1[:2*len(row)]
	for ox := range row {
		i := 2 * ox
		// the same order and tie rule as the general loop, as selects
		// rather than branches (which the data make unpredictable)
		best, bi := r0[i], int32(i)
		best, bi = maxSelect(best, bi, r0[i+1], int32(i+1))
		best, bi = maxSelect(best, bi, r1[i], w+int32(i))
		best, bi = maxSelect(best, bi, r1[i+1], w+int32(i+1))
		a := base + bi
		if relu {
			best, a = reluPooled(best, a)
		}
		row[ox] = best
		if rowArgs != nil {
			rowArgs[ox] = a
		}
	}
}

// Backward sends each output's gradient to the input that won its window.
func (mp *MaxPool2D) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if mp.argmax == nil {
		return nil, noForward("maxpool")
	}
	g := mp.g
	if want := []int{g.n, g.c, g.oh, g.ow}; !slices.Equal(dy.Shape(), want) {
		return nil, fmt.Errorf("maxpool: gradient shape %v does not match output shape %v", []int(dy.Shape()), want)
	}
	dx := mp.gradient(true, g.n, g.c, g.h, g.w)
	dxs, dys := Float32s(dx), Float32s(dy)
	parallel.For(g.n*g.c, func(t int) {
		plane := dxs[t*g.h*g.w:][:g.h*g.w]
		base := t * g.oh * g.ow
		for i, d := range dys[base:][:g.oh*g.ow] {
			a := mp.argmax[base+i]
			keep := ^uint32(a >> 31) // all ones unless a carries noGrad
			plane[a&^noGrad] += math.Float32frombits(math.Float32bits(d) & keep)
		}
	})
	return dx, nil
}

// AvgPool2D averages each window. With CountIncludePad (PyTorch's default;
// ONNX's default is without) padding counts towards the divisor.
type AvgPool2D struct {
	Spec            PoolSpec
	CountIncludePad bool
	g               poolGeom
	trained         bool
}

// NewAvgPool2D checks s and returns the pool.
func NewAvgPool2D(s PoolSpec, countIncludePad bool) (*AvgPool2D, error) {
	if err := s.norm("avgpool"); err != nil {
		return nil, err
	}
	return &AvgPool2D{Spec: s, CountIncludePad: countIncludePad}, nil
}

// Params returns nil.
func (*AvgPool2D) Params() []*Param { return nil }

// window returns the clipped window and its divisor, as PyTorch computes
// them: the divisor with padding counts the window up to the padded edge.
func (ap *AvgPool2D) window(g *poolGeom, oy, ox int) (y0, y1, x0, x1 int, div float32) {
	s := &ap.Spec
	y0 = oy*s.Stride[0] - s.Pad[0]
	x0 = ox*s.Stride[1] - s.Pad[1]
	y1 = min(y0+s.Kernel[0], g.h+s.Pad[2])
	x1 = min(x0+s.Kernel[1], g.w+s.Pad[3])
	padded := (y1 - y0) * (x1 - x0)
	y0, x0 = max(y0, 0), max(x0, 0)
	y1, x1 = min(y1, g.h), min(x1, g.w)
	if ap.CountIncludePad {
		return y0, y1, x0, x1, float32(padded)
	}
	return y0, y1, x0, x1, float32((y1 - y0) * (x1 - x0))
}

// Forward pools x (N,C,H,W).
func (ap *AvgPool2D) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	g, err := ap.Spec.geom("avgpool", x)
	if err != nil {
		return nil, err
	}
	y := New(g.n, g.c, g.oh, g.ow)
	xs, ys := Float32s(x), Float32s(y)
	parallel.For(g.n*g.c, func(t int) {
		plane := xs[t*g.h*g.w:][:g.h*g.w]
		out := ys[t*g.oh*g.ow:][:g.oh*g.ow]
		for oy := range g.oh {
			for ox := range g.ow {
				y0, y1, x0, x1, div := ap.window(&g, oy, ox)
				var sum float32
				for iy := y0; iy < y1; iy++ {
					for _, v := range plane[iy*g.w+x0 : iy*g.w+x1] {
						sum += v
					}
				}
				if div > 0 {
					out[oy*g.ow+ox] = sum / div
				}
			}
		}
	})
	if train || ap.trained {
		ap.g, ap.trained = g, train
	}
	return y, nil
}

// Backward spreads each output's gradient evenly over its window.
func (ap *AvgPool2D) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if !ap.trained {
		return nil, noForward("avgpool")
	}
	g := ap.g
	if want := []int{g.n, g.c, g.oh, g.ow}; !slices.Equal(dy.Shape(), want) {
		return nil, fmt.Errorf("avgpool: gradient shape %v does not match output shape %v", []int(dy.Shape()), want)
	}
	dx := New(g.n, g.c, g.h, g.w)
	dxs, dys := Float32s(dx), Float32s(dy)
	parallel.For(g.n*g.c, func(t int) {
		plane := dxs[t*g.h*g.w:][:g.h*g.w]
		dout := dys[t*g.oh*g.ow:][:g.oh*g.ow]
		for oy := range g.oh {
			for ox := range g.ow {
				y0, y1, x0, x1, div := ap.window(&g, oy, ox)
				if div == 0 {
					continue
				}
				d := dout[oy*g.ow+ox] / div
				for iy := y0; iy < y1; iy++ {
					row := plane[iy*g.w+x0 : iy*g.w+x1]
					for i := range row {
						row[i] += d
					}
				}
			}
		}
	})
	return dx, nil
}

// GlobalAvgPool averages each channel: (N,C,H,W) to (N,C,1,1), as ONNX's
// GlobalAveragePool and PyTorch's AdaptiveAvgPool2d(1).
type GlobalAvgPool struct {
	shape []int
}

// Params returns nil.
func (*GlobalAvgPool) Params() []*Param { return nil }

// Forward averages each (image, channel) plane.
func (gp *GlobalAvgPool) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	n, c, h, w, err := dims4("globalavgpool", x)
	if err != nil {
		return nil, err
	}
	y := New(n, c, 1, 1)
	xs, ys := Float32s(x), Float32s(y)
	hw := h * w
	for t := range n * c {
		var sum float32
		for _, v := range xs[t*hw:][:hw] {
			sum += v
		}
		ys[t] = sum / float32(hw)
	}
	if train {
		gp.shape = []int{n, c, h, w}
	} else if gp.shape != nil {
		gp.shape = nil
	}
	return y, nil
}

// Backward spreads each gradient evenly over its plane.
func (gp *GlobalAvgPool) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if gp.shape == nil {
		return nil, noForward("globalavgpool")
	}
	n, c, hw := gp.shape[0], gp.shape[1], gp.shape[2]*gp.shape[3]
	if dy.Shape().TotalSize() != n*c {
		return nil, fmt.Errorf("globalavgpool: gradient shape %v does not match output shape %v", []int(dy.Shape()), []int{n, c, 1, 1})
	}
	dx := New(gp.shape...)
	dxs, dys := Float32s(dx), Float32s(dy)
	for t, d := range dys {
		fill(dxs[t*hw:][:hw], d/float32(hw))
	}
	return dx, nil
}

// maxSelect returns (v, vi) if v > best or v is NaN, else (best, bi).
// The two conditions exclude each other, so != is their or, and the
// compiler turns the ifs into conditional moves.
func maxSelect(best float32, bi int32, v float32, vi int32) (float32, int32) {
	take := (v > best) != (v != v)
	var t uint32
	if take {
		t = 1
		bi = vi
	}
	mask := -t
	return math.Float32frombits(math.Float32bits(best)&^mask | math.Float32bits(v)&mask), bi
}

// setReuse also forgets, when turned off, what Forward kept for Backward.
func (mp *MaxPool2D) setReuse(on bool) {
	mp.stepBuffers.setReuse(on)
	if !on {
		mp.argmax, mp.argBuf = nil, nil
	}
}
