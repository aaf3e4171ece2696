package nn

import (
	"fmt"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gorgonia.org/tensor"

	"itscope/compute/parallel"
)

// ConvSpec describes a 2-d convolution as PyTorch's Conv2d and ONNX's Conv do.
// Zero Stride, Dilation and Groups mean 1.
type ConvSpec struct {
	InC, OutC int
	Kernel    [2]int // (kh, kw)
	Stride    [2]int // (sh, sw)
	Pad       [4]int // top, left, bottom, right: ONNX's pads order
	Dilation  [2]int // (dh, dw)
	Groups    int    // InC for depthwise
	Bias      bool
}

// Conv2D is a grouped, strided, dilated, padded 2-d convolution computed by
// im2col and sgemm. Weight is (OutC, InC/Groups, KH, KW) as in PyTorch; Bias
// is (OutC) or nil.
type Conv2D struct {
	Spec   ConvSpec
	Weight *Param
	Bias   *Param
	// NoInputGrad skips dL/dx (Backward returns nil): set it on a network's
	// first layer, whose input needs no gradient, to save a third of its
	// backward pass.
	NoInputGrad bool

	x *tensor.Dense // input cached by Forward(x, true)
	stepBuffers
}

// maxColFloats bounds the im2col buffer: images are batched into one GEMM
// until their columns reach it (small feature maps gain most from batching).
// An image whose columns exceed bandColFloats is cut into bands of output
// rows instead, so that its column matrix stays in cache for the GEMM.
var (
	maxColFloats  = 1 << 20
	bandColFloats = 1 << 20
)

// pointwiseMinP: a 1x1 convolution over at least this many pixels is one
// GEMM per image straight on the input; below it, images are gathered into
// one wider GEMM, which OpenBLAS runs faster than many thin ones.
var pointwiseMinP = 128

// NewConv2D returns a convolution with zero weights (see InitDefault).
func NewConv2D(s ConvSpec) (*Conv2D, error) {
	for _, p := range []*int{&s.Stride[0], &s.Stride[1], &s.Dilation[0], &s.Dilation[1], &s.Groups} {
		if *p == 0 {
			*p = 1
		}
	}
	switch {
	case s.InC <= 0 || s.OutC <= 0 || s.Kernel[0] <= 0 || s.Kernel[1] <= 0:
		return nil, fmt.Errorf("conv: want positive channels and kernel, found in=%d out=%d kernel=%v", s.InC, s.OutC, s.Kernel)
	case s.Stride[0] < 0 || s.Stride[1] < 0 || s.Dilation[0] < 0 || s.Dilation[1] < 0 || s.Groups < 0:
		return nil, fmt.Errorf("conv: want positive stride, dilation and groups, found %v %v %d", s.Stride, s.Dilation, s.Groups)
	case s.Pad[0] < 0 || s.Pad[1] < 0 || s.Pad[2] < 0 || s.Pad[3] < 0:
		return nil, fmt.Errorf("conv: want non-negative pads, found %v", s.Pad)
	case s.InC%s.Groups != 0 || s.OutC%s.Groups != 0:
		return nil, fmt.Errorf("conv: groups %d must divide in=%d and out=%d channels", s.Groups, s.InC, s.OutC)
	}
	c := &Conv2D{Spec: s, Weight: newParam("weight", s.OutC, s.InC/s.Groups, s.Kernel[0], s.Kernel[1])}
	if s.Bias {
		c.Bias = newParam("bias", s.OutC)
	}
	return c, nil
}

// Params returns weight and, if present, bias.
func (c *Conv2D) Params() []*Param {
	if c.Bias == nil {
		return []*Param{c.Weight}
	}
	return []*Param{c.Weight, c.Bias}
}

// OutSize returns the output height and width for an h x w input.
func (c *Conv2D) OutSize(h, w int) (int, int) {
	s := &c.Spec
	oh := (h+s.Pad[0]+s.Pad[2]-s.Dilation[0]*(s.Kernel[0]-1)-1)/s.Stride[0] + 1
	ow := (w+s.Pad[1]+s.Pad[3]-s.Dilation[1]*(s.Kernel[1]-1)-1)/s.Stride[1] + 1
	return oh, ow
}

// convGeom is one call's sizes.
type convGeom struct {
	n, c, h, w, oh, ow int
	p                  int // oh*ow
	kk                 int // kh*kw
	cg, ocg            int // channels per group in and out
	kg                 int // rows of a group's im2col block: cg*kk
	pointwise          bool
	depthwise          bool
}

func (c *Conv2D) geom(x *tensor.Dense) (convGeom, error) {
	n, ch, h, w, err := dims4("conv", x)
	if err != nil {
		return convGeom{}, err
	}
	s := &c.Spec
	if ch != s.InC {
		return convGeom{}, fmt.Errorf("conv: want %d input channels, found shape %v", s.InC, []int(x.Shape()))
	}
	oh, ow := c.OutSize(h, w)
	if oh <= 0 || ow <= 0 {
		return convGeom{}, fmt.Errorf("conv: input %dx%d too small for kernel %v dilation %v pads %v", h, w, s.Kernel, s.Dilation, s.Pad)
	}
	g := convGeom{n: n, c: ch, h: h, w: w, oh: oh, ow: ow, p: oh * ow, kk: s.Kernel[0] * s.Kernel[1],
		cg: ch / s.Groups, ocg: s.OutC / s.Groups}
	g.kg = g.cg * g.kk
	g.pointwise = g.kk == 1 && s.Stride == [2]int{1, 1} && s.Pad == [4]int{} && g.p >= pointwiseMinP
	g.depthwise = g.cg == 1 && s.Groups > 1
	return g, nil
}

// span is one im2col matrix's worth of work: images n0..n0+m-1, output
// rows oy0..oy1-1 (all rows when m > 1).
type span struct{ n0, m, oy0, oy1 int }

func (sp span) cols(g *convGeom) int { return sp.m * (sp.oy1 - sp.oy0) * g.ow }

// spans cuts the batch so each im2col matrix stays under maxColFloats:
// several small images share one wider GEMM; a large image is cut into
// bands of output rows.
func (g *convGeom) spans() []span {
	var out []span
	if g.pointwise { // the input is its own im2col matrix
		for n := range g.n {
			out = append(out, span{n, 1, 0, g.oh})
		}
		return out
	}
	perImage := g.c * g.kk * g.p
	if perImage <= bandColFloats {
		nb := max(1, maxColFloats/max(1, perImage))
		for n0 := 0; n0 < g.n; n0 += nb {
			out = append(out, span{n0, min(nb, g.n-n0), 0, g.oh})
		}
		return out
	}
	band := max(1, bandColFloats/max(1, g.c*g.kk*g.ow))
	for n := range g.n {
		for oy := 0; oy < g.oh; oy += band {
			out = append(out, span{n, 1, oy, min(g.oh, oy+band)})
		}
	}
	return out
}

// maxCols is the widest span's column count.
func maxCols(g *convGeom, spans []span) int {
	w := 0
	for _, sp := range spans {
		w = max(w, sp.cols(g))
	}
	return w
}

// Forward computes the convolution; with train it keeps x for Backward.
func (c *Conv2D) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	return c.forward(x, train, ActNone)
}

// Infer is an inference Forward followed by act, which rides along the pass
// that adds the bias (or scatters a batched product) instead of making one
// of its own over the output.
func (c *Conv2D) Infer(x *tensor.Dense, act Activation) (*tensor.Dense, error) {
	return c.forward(x, false, act)
}

func (c *Conv2D) forward(x *tensor.Dense, train bool, act Activation) (*tensor.Dense, error) {
	g, err := c.geom(x)
	if err != nil {
		return nil, err
	}
	y := c.output(train, g.depthwise, g.n, c.Spec.OutC, g.oh, g.ow)
	xs, ys, ws := Float32s(x), Float32s(y), Float32s(c.Weight.Value)
	var bias []float32
	if c.Bias != nil {
		bias = Float32s(c.Bias.Value)
	}
	switch {
	case g.depthwise:
		c.depthwiseForward(&g, xs, ws, bias, ys)
		act.applyTo(ys)
	case !train && c.useWinograd(&g):
		c.winogradForward(&g, xs, ws, bias, ys, act)
	default:
		c.gemmForward(&g, xs, ws, bias, ys, act)
	}
	if train || c.x != nil {
		c.x = trainOnly(train, x)
	}
	return y, nil
}

// gemmForward writes act(convolution + bias) (bias nil for none) into ys.
// Bias and act ride along a pass the data makes anyway: the bias seeds the
// GEMM's output (beta 1) when there is no act, else both are applied in one
// pass after it, or while a batched result is scattered into images.
func (c *Conv2D) gemmForward(g *convGeom, xs, ws, bias, ys []float32, act Activation) {
	s := &c.Spec
	spans := g.spans()
	rows := g.c * g.kk
	width := maxCols(g, spans)
	var colBuf, outBuf *[]float32
	if !g.pointwise {
		colBuf = getScratch(rows * width)
		defer putScratch(colBuf)
	}
	if spans[0].m > 1 {
		outBuf = getScratch(s.OutC * width)
		defer putScratch(outBuf)
	}
	for _, sp := range spans {
		cols := sp.cols(g)
		var col []float32
		if g.pointwise {
			col = xs[sp.n0*g.c*g.p:][:g.c*g.p]
		} else {
			col = (*colBuf)[:rows*cols]
			c.im2col(g, xs, sp, col)
		}
		// The GEMM writes straight into the output image (ldc = P) unless
		// several images share it.
		out, ldc, beta := ys[sp.n0*s.OutC*g.p+sp.oy0*g.ow:], g.p, float32(0)
		if sp.m > 1 {
			out, ldc = (*outBuf)[:s.OutC*cols], cols
		} else if bias != nil && act == ActNone {
			parallel.For(s.OutC, func(o int) { fill(out[o*g.p:][:cols], bias[o]) })
			beta = 1
		}
		for gr := range s.Groups {
			gemm(blas.NoTrans, blas.NoTrans, 1,
				blas32.General{Rows: g.ocg, Cols: g.kg, Stride: g.kg, Data: ws[gr*g.ocg*g.kg:]},
				blas32.General{Rows: g.kg, Cols: cols, Stride: cols, Data: col[gr*g.kg*cols:]},
				beta,
				blas32.General{Rows: g.ocg, Cols: cols, Stride: ldc, Data: out[gr*g.ocg*ldc:]})
		}
		if sp.m > 1 {
			// (OutC, m*P) -> m images of (OutC, P)
			parallel.For(sp.m, func(i int) {
				dst := ys[(sp.n0+i)*s.OutC*g.p:]
				for o := range s.OutC {
					d, src := dst[o*g.p:][:g.p], out[o*cols+i*g.p:][:g.p]
					switch {
					case bias == nil && act == ActNone:
						copy(d, src)
					case bias == nil:
						act.apply(d, src, 0)
					default:
						act.apply(d, src, bias[o])
					}
				}
			})
		} else if act != ActNone {
			parallel.For(s.OutC, func(o int) {
				d := out[o*ldc:][:cols]
				var b float32
				if bias != nil {
					b = bias[o]
				}
				act.apply(d, d, b)
			})
		}
	}
}

// im2col fills col (rows = C*KH*KW in (c,kh,kw) order, one column per
// output pixel of the span). Each (image, channel) writes its own block, so
// the work is spread over the cores without sharing.
func (c *Conv2D) im2col(g *convGeom, xs []float32, sp span, col []float32) {
	s := &c.Spec
	kh, kw := s.Kernel[0], s.Kernel[1]
	cols, per := sp.cols(g), (sp.oy1-sp.oy0)*g.ow
	// With stride 1 and as many output as input columns, the rows a kernel
	// tap reads are consecutive in the input: one block copy, then the
	// padded columns zeroed.
	blockRows := s.Stride == [2]int{1, 1} && g.ow == g.w
	parallel.For(sp.m*g.c, func(t int) {
		i, ch := t/g.c, t%g.c
		plane := xs[((sp.n0+i)*g.c+ch)*g.h*g.w:][:g.h*g.w]
		for ki := range kh {
			for kj := range kw {
				r := (ch*kh+ki)*kw + kj
				dst := col[r*cols+i*per:][:per]
				lo, hi := validRange(g.ow, g.w, s.Stride[1], s.Pad[1], kj*s.Dilation[1])
				if blockRows {
					im2colBlock(g, plane, dst, sp.oy0, sp.oy1, ki*s.Dilation[0]-s.Pad[0], kj*s.Dilation[1]-s.Pad[1], lo, hi)
					continue
				}
				for oy := sp.oy0; oy < sp.oy1; oy++ {
					row := dst[(oy-sp.oy0)*g.ow:][:g.ow]
					iy := oy*s.Stride[0] - s.Pad[0] + ki*s.Dilation[0]
					if iy < 0 || iy >= g.h || lo >= hi {
						clear(row)
						continue
					}
					clear(row[:lo])
					clear(row[hi:])
					src := plane[iy*g.w:][:g.w]
					ix := lo*s.Stride[1] - s.Pad[1] + kj*s.Dilation[1]
					if s.Stride[1] == 1 {
						copy(row[lo:hi], src[ix:])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						row[ox] = src[ix]
						ix += s.Stride[1]
					}
				}
			}
		}
	})
}

// im2colBlock fills dst, one kernel tap's row of im2col for output rows
// oy0..oy1-1, when output row oy, column ox reads input (oy+dy, ox+dx) and
// rows are as wide as the input's: output columns [lo, hi) are in range.
func im2colBlock(g *convGeom, plane, dst []float32, oy0, oy1, dy, dx, lo, hi int) {
	w := g.w
	// output rows whose input row exists
	a, b := max(oy0, -dy), min(oy1, g.h-dy)
	if a >= b || lo >= hi {
		clear(dst)
		return
	}
	clear(dst[:(a-oy0)*w])
	clear(dst[(b-oy0)*w:])
	block := dst[(a-oy0)*w : (b-oy0)*w]
	// block[k] = plane[start+k]; indices off the plane land in padded
	// columns, which are zeroed below.
	start := (a+dy)*w + dx
	from, to := max(0, -start), min(len(block), len(plane)-start)
	copy(block[from:to], plane[start+from:])
	zeroPaddedColumns(block, w, lo, hi)
}

// zeroPaddedColumns zeroes columns outside [lo, hi) of each w-wide row of
// block (loops, not clear: the runs are a column or two).
func zeroPaddedColumns(block []float32, w, lo, hi int) {
	if lo == 0 && hi == w {
		return
	}
	for r := 0; r < len(block); r += w {
		row := block[r : r+w]
		for j := 0; j < lo; j++ {
			row[j] = 0
		}
		for j := hi; j < w; j++ {
			row[j] = 0
		}
	}
}

// col2im adds the column gradients back into dx (the reverse of im2col).
// Spans run one after another, so overlapping bands never race.
func (c *Conv2D) col2im(g *convGeom, col []float32, sp span, dxs []float32) {
	s := &c.Spec
	kh, kw := s.Kernel[0], s.Kernel[1]
	cols, per := sp.cols(g), (sp.oy1-sp.oy0)*g.ow
	blockRows := s.Stride == [2]int{1, 1} && g.ow == g.w
	parallel.For(sp.m*g.c, func(t int) {
		i, ch := t/g.c, t%g.c
		plane := dxs[((sp.n0+i)*g.c+ch)*g.h*g.w:][:g.h*g.w]
		for ki := range kh {
			for kj := range kw {
				r := (ch*kh+ki)*kw + kj
				src := col[r*cols+i*per:][:per]
				lo, hi := validRange(g.ow, g.w, s.Stride[1], s.Pad[1], kj*s.Dilation[1])
				if lo >= hi {
					continue
				}
				if blockRows {
					col2imBlock(g, plane, src, sp.oy0, sp.oy1, ki*s.Dilation[0]-s.Pad[0], kj*s.Dilation[1]-s.Pad[1], lo, hi)
					continue
				}
				for oy := sp.oy0; oy < sp.oy1; oy++ {
					iy := oy*s.Stride[0] - s.Pad[0] + ki*s.Dilation[0]
					if iy < 0 || iy >= g.h {
						continue
					}
					row := src[(oy-sp.oy0)*g.ow:][:g.ow]
					dst := plane[iy*g.w:][:g.w]
					ix := lo*s.Stride[1] - s.Pad[1] + kj*s.Dilation[1]
					if s.Stride[1] == 1 {
						d := dst[ix:][:hi-lo]
						for j, v := range row[lo:hi] {
							d[j] += v
						}
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ix] += row[ox]
						ix += s.Stride[1]
					}
				}
			}
		}
	})
}

// col2imBlock is im2colBlock's reverse: it adds src, one kernel tap's row of
// column gradients, into plane. It zeroes src's padded columns (src is
// scratch) so that the rows add as one block: those zeros land on other
// rows' pixels and change nothing.
func col2imBlock(g *convGeom, plane, src []float32, oy0, oy1, dy, dx, lo, hi int) {
	w := g.w
	a, b := max(oy0, -dy), min(oy1, g.h-dy)
	if a >= b {
		return
	}
	block := src[(a-oy0)*w : (b-oy0)*w]
	zeroPaddedColumns(block, w, lo, hi)
	start := (a+dy)*w + dx
	from, to := max(0, -start), min(len(block), len(plane)-start)
	d := plane[start+from : start+to]
	for j, v := range block[from:to] {
		d[j] += v
	}
}

// validRange returns the output columns [lo,hi) whose input column
// ox*stride - pad + off falls inside [0,w).
func validRange(ow, w, stride, pad, off int) (lo, hi int) {
	// smallest ox with ox*stride >= pad-off
	need := pad - off
	if need > 0 {
		lo = (need + stride - 1) / stride
	}
	// largest ox with ox*stride - pad + off <= w-1
	lim := w - 1 + pad - off
	if lim < 0 {
		return 0, 0
	}
	hi = min(ow, lim/stride+1)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// Backward returns dL/dx and adds dL/dW (and dL/db) into the gradients.
func (c *Conv2D) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if c.x == nil {
		return nil, noForward("conv")
	}
	g, err := c.geom(c.x)
	if err != nil {
		return nil, err
	}
	s := &c.Spec
	if want := []int{g.n, s.OutC, g.oh, g.ow}; !slices.Equal(dy.Shape(), want) {
		return nil, fmt.Errorf("conv: gradient shape %v does not match output shape %v", []int(dy.Shape()), want)
	}
	var dx *tensor.Dense
	var dxs []float32
	if !c.NoInputGrad {
		dx = c.gradient(true, g.n, g.c, g.h, g.w)
		dxs = Float32s(dx)
	}
	xs, dys := Float32s(c.x), Float32s(dy)
	ws, dws := Float32s(c.Weight.Value), Float32s(c.Weight.Grad)
	if c.Bias != nil {
		db := Float32s(c.Bias.Grad)
		parallel.For(s.OutC, func(o int) {
			var sum float32
			for n := range g.n {
				sum += sum4(dys[(n*s.OutC+o)*g.p:][:g.p])
			}
			db[o] += sum
		})
	}
	if g.depthwise {
		c.depthwiseBackward(&g, xs, ws, dys, dxs, dws)
		return dx, nil
	}
	spans := g.spans()
	rows := g.c * g.kk
	width := maxCols(&g, spans)
	var colBuf, dcolBuf, dyBuf *[]float32
	if !g.pointwise {
		colBuf = getScratch(rows * width)
		defer putScratch(colBuf)
		if dx != nil {
			dcolBuf = getScratch(rows * width)
			defer putScratch(dcolBuf)
		}
	}
	if spans[0].m > 1 {
		dyBuf = getScratch(s.OutC * width)
		defer putScratch(dyBuf)
	}
	for _, sp := range spans {
		cols := sp.cols(&g)
		var col, dcol []float32
		if g.pointwise {
			col = xs[sp.n0*g.c*g.p:][:g.c*g.p]
			if dx != nil {
				dcol = dxs[sp.n0*g.c*g.p:][:g.c*g.p]
			}
		} else {
			col = (*colBuf)[:rows*cols]
			if dx != nil {
				dcol = (*dcolBuf)[:rows*cols]
			}
			c.im2col(&g, xs, sp, col)
		}
		// dY for the span, read in place (ld = P) unless several images share it.
		dyc, ld := dys[sp.n0*s.OutC*g.p+sp.oy0*g.ow:], g.p
		if sp.m > 1 {
			dyc, ld = (*dyBuf)[:s.OutC*cols], cols
			parallel.For(sp.m, func(i int) {
				src := dys[(sp.n0+i)*s.OutC*g.p:]
				for o := range s.OutC {
					copy(dyc[o*cols+i*g.p:][:g.p], src[o*g.p:])
				}
			})
		}
		for gr := range s.Groups {
			dyg := blas32.General{Rows: g.ocg, Cols: cols, Stride: ld, Data: dyc[gr*g.ocg*ld:]}
			colg := blas32.General{Rows: g.kg, Cols: cols, Stride: cols, Data: col[gr*g.kg*cols:]}
			// dW_g += dY_g col_gᵀ
			gemm(blas.NoTrans, blas.Trans, 1, dyg, colg, 1,
				blas32.General{Rows: g.ocg, Cols: g.kg, Stride: g.kg, Data: dws[gr*g.ocg*g.kg:]})
			if dx == nil {
				continue
			}
			// dcol_g = W_gᵀ dY_g
			gemm(blas.Trans, blas.NoTrans, 1,
				blas32.General{Rows: g.ocg, Cols: g.kg, Stride: g.kg, Data: ws[gr*g.ocg*g.kg:]}, dyg, 0,
				blas32.General{Rows: g.kg, Cols: cols, Stride: cols, Data: dcol[gr*g.kg*cols:]})
		}
		if !g.pointwise && dx != nil {
			c.col2im(&g, dcol, sp, dxs)
		}
	}
	return dx, nil
}

// setReuse also forgets, when turned off, what Forward kept for Backward.
func (c *Conv2D) setReuse(on bool) {
	c.stepBuffers.setReuse(on)
	if !on {
		c.x = nil
	}
}
