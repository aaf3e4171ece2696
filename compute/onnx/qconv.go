package onnx

import (
	"fmt"
	"sync/atomic"

	"itscope/compute/parallel"
)

func init() {
	register("", "QLinearConv", 8, 9, prepareQLinearConv)
}

// convGeom is a 2-d convolution's geometry (NCHW).
type convGeom struct {
	kh, kw, sh, sw, dh, dw int
	pt, pl, pb, pr         int
	group                  int
}

func convGeomFrom(n *node, kh, kw int) (convGeom, error) {
	g := convGeom{kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1, group: int(attrInt(n, "group", 1))}
	if ks := attrInts(n, "kernel_shape"); ks != nil && (len(ks) != 2 || int(ks[0]) != kh || int(ks[1]) != kw) {
		return g, fmt.Errorf("kernel_shape %v does not match the weight's (%d,%d)", ks, kh, kw)
	}
	if s := attrInts(n, "strides"); s != nil {
		if len(s) != 2 || s[0] < 1 || s[1] < 1 {
			return g, fmt.Errorf("strides %v: want two positive values", s)
		}
		g.sh, g.sw = int(s[0]), int(s[1])
	}
	if d := attrInts(n, "dilations"); d != nil {
		if len(d) != 2 || d[0] < 1 || d[1] < 1 {
			return g, fmt.Errorf("dilations %v: want two positive values", d)
		}
		g.dh, g.dw = int(d[0]), int(d[1])
	}
	if p := attrInts(n, "pads"); p != nil {
		if len(p) != 4 || p[0] < 0 || p[1] < 0 || p[2] < 0 || p[3] < 0 {
			return g, fmt.Errorf("pads %v: want four non-negative values", p)
		}
		g.pt, g.pl, g.pb, g.pr = int(p[0]), int(p[1]), int(p[2]), int(p[3])
	}
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "VALID", "":
	default:
		return g, fmt.Errorf("auto_pad %s is not supported (want NOTSET or VALID with explicit pads)", ap)
	}
	if g.group < 1 {
		return g, fmt.Errorf("group %d: want a positive value", g.group)
	}
	return g, nil
}

// out returns the output size for an h x w input.
func (g convGeom) out(h, w int) (int, int, error) {
	oh := (h+g.pt+g.pb-g.dh*(g.kh-1)-1)/g.sh + 1
	ow := (w+g.pl+g.pr-g.dw*(g.kw-1)-1)/g.sw + 1
	if oh < 1 || ow < 1 {
		return 0, 0, fmt.Errorf("input %dx%d is smaller than the kernel %dx%d with pads", h, w, g.kh, g.kw)
	}
	return oh, ow, nil
}

// qweights are a QLinearConv's (or QLinearMatMul's) weights, zero point
// removed, packed for qgemm8x8: per group, per block of 8 output rows, per
// input pair, 8 int32s holding two int16s; and, on VNNI machines when they
// fit int8, for qgemmVNNI: the same with input quads of 4 int8s.
type qweights struct {
	m, k, groups int     // output rows in all, K per group
	kp, kq, rb   int     // input pairs, input quads and 8-row blocks per group
	packed       []int32 // [group][rb][kp][8]
	quads        []int32 // [group][rb][kq][8], nil when not VNNI or not int8
	eff          []int16 // [m][k] weights minus zero point (for depthwise)
	rowSum       []int32 // per output row: sum of eff, for the input zero point
	int8         bool    // every eff fits int8 (VPDPBUSD's signed operand)
}

// packQWeights takes weights w[r*k+kk] (r < m rows in groups of m/groups).
func packQWeights(m, k, groups int, depthwise bool, at func(i int) int32, zp int32) *qweights {
	q := &qweights{m: m, k: k, groups: groups, kp: (k + 1) / 2, kq: (k + 3) / 4, int8: true}
	mg := m / groups
	q.rb = (mg + 7) / 8
	q.eff = make([]int16, m*k)
	q.rowSum = make([]int32, m)
	for r := 0; r < m; r++ {
		for kk := 0; kk < k; kk++ {
			e := at(r*k+kk) - zp
			q.eff[r*k+kk] = int16(e)
			q.rowSum[r] += e
			q.int8 = q.int8 && e >= -128 && e <= 127
		}
	}
	if depthwise {
		return q // the depthwise loop reads eff directly
	}
	q.packed = q.pack(q.kp, 2, func(v int16, i int) uint32 { return uint32(uint16(v)) << (16 * i) })
	if vnniSupported && q.int8 {
		q.quads = q.pack(q.kq, 4, func(v int16, i int) uint32 { return uint32(uint8(int8(v))) << (8 * i) })
	}
	return q
}

// pack lays eff out as [group][rb][n][8] int32s, each holding per inputs
// of a row, put there by field; inputs past k stay zero.
func (q *qweights) pack(n, per int, field func(v int16, i int) uint32) []int32 {
	mg := q.m / q.groups
	out := make([]int32, q.groups*q.rb*n*8)
	for g := 0; g < q.groups; g++ {
		for r := 0; r < mg; r++ {
			row := q.eff[(g*mg+r)*q.k : (g*mg+r+1)*q.k]
			base := (g*q.rb+r/8)*n*8 + r%8
			for kk, v := range row {
				out[base+kk/per*8] |= int32(field(v, kk%per))
			}
		}
	}
	return out
}

// posts gathers each 8-row block's requantization: bias and scale per row,
// for every group.
func (q *qweights) posts(bias []int32, scales []float32, lo, hi float32, zp int32) []requant8 {
	mg := q.m / q.groups
	posts := make([]requant8, q.groups*q.rb)
	for gi := 0; gi < q.groups; gi++ {
		for rb := 0; rb < q.rb; rb++ {
			ps := &posts[gi*q.rb+rb]
			ps.lo, ps.hi, ps.zp = lo, hi, zp
			for l := 0; l < 8; l++ {
				if r := rb*8 + l; r < mg {
					ps.bias[l] = bias[gi*mg+r]
					ps.scale[l] = scales[gi*mg+r]
				}
			}
		}
	}
	return posts
}

// gemmIO locates a multiply's operands: nb images, image i's input planes
// (planes of p pixels; 2*kp of them, or k when k is even) at
// in[i*inStride:] and its output rows (p bytes each) at out[i*outStride:].
type gemmIO struct {
	in, out             []uint8
	p, planes, nb       int
	inStride, outStride int
}

// image returns image i's planes and output rows alone.
func (io gemmIO) image(i int) gemmIO {
	return gemmIO{in: io.in[i*io.inStride:], out: io.out[i*io.outStride:], p: io.p, planes: io.planes, nb: 1}
}

// multiply computes group gi's output rows = requant(W_g * planes) for
// every image, split over the cores by pixel chunks and, when there are
// few, by row blocks too. The VNNI kernels take the images' pixels as one
// run (a batch of small late layers fills whole blocks); the others go
// image by image.
func (kt *int8Kernels) multiply(q *qweights, gi int, io gemmIO, posts []requant8) {
	const chunk = 256
	if kt.vnni && q.quads != nil {
		pchunks := (io.nb*io.p + chunk - 1) / chunk
		rsplit, rbPer := rowSplit(q.rb, pchunks)
		multiplyQuads(q, gi, io, posts, chunk, pchunks, rsplit, rbPer)
		return
	}
	pchunks := (io.p + chunk - 1) / chunk
	rsplit, rbPer := rowSplit(q.rb, pchunks)
	for i := 0; i < io.nb; i++ {
		img := io.image(i)
		parallel.Blocks(pchunks*rsplit, 1, func(t0, t1 int) {
			for t := t0; t < t1; t++ {
				pc, rs := t/rsplit, t%rsplit
				kt.gemmPairs(q, gi, img.in, img.p, pc*chunk, min(img.p, (pc+1)*chunk), img.out, posts, rs*rbPer, min((rs+1)*rbPer, q.rb))
			}
		})
	}
}

// rowSplit: with fewer than 8 pixel chunks, the row blocks are split too
// (into rsplit runs of rbPer), so both cores get several tasks.
func rowSplit(rb, pchunks int) (rsplit, rbPer int) {
	rsplit = 1
	if pchunks < 8 {
		rsplit = min(rb, (8+pchunks-1)/pchunks)
	}
	rbPer = (rb + rsplit - 1) / rsplit
	return (rb + rbPer - 1) / rbPer, rbPer
}

// gemmPairs computes pixels [px0, px1) of row blocks [rb0, rb1) of group
// gi with kt.qgemm8x8.
func (kt *int8Kernels) gemmPairs(q *qweights, gi int, planes []uint8, p, px0, px1 int, out []uint8, posts []requant8, rb0, rb1 int) {
	mg := q.m / q.groups
	nblk := (px1 - px0) / 8
	tail := (px1 - px0) % 8
	var tmpIn []uint8
	var tmpOut [64]uint8
	var buf []uint8
	for rb := rb0; rb < rb1; rb++ {
		wbase := (gi*q.rb + rb) * q.kp * 8
		wp := q.packed[wbase : wbase+q.kp*8]
		post := &posts[gi*q.rb+rb]
		rows := min(8, mg-rb*8)
		if nblk > 0 {
			if rows == 8 {
				kt.qgemm8x8(wp, planes[px0:], p, q.kp, nblk, out[rb*8*p+px0:], p, post)
			} else {
				if buf == nil {
					buf = make([]uint8, 8*8*nblk)
				}
				kt.qgemm8x8(wp, planes[px0:], p, q.kp, nblk, buf, 8*nblk, post)
				for r := 0; r < rows; r++ {
					copy(out[(rb*8+r)*p+px0:], buf[r*8*nblk:(r+1)*8*nblk])
				}
			}
		}
		if tail == 0 {
			continue
		}
		t0 := px0 + 8*nblk
		if tmpIn == nil {
			tmpIn = make([]uint8, 2*q.kp*8)
			for k := 0; k < 2*q.kp; k++ {
				copy(tmpIn[k*8:k*8+tail], planes[k*p+t0:k*p+px1])
			}
		}
		kt.qgemm8x8(wp, tmpIn, 8, q.kp, 1, tmpOut[:], 8, post)
		for r := 0; r < rows; r++ {
			copy(out[(rb*8+r)*p+t0:], tmpOut[r*8:r*8+tail])
		}
	}
}

type qconv struct {
	geom  convGeom
	m, cg int // output channels, input channels per group
	w     *qweights
	wdims []int
	// scales are the requantization scales when x, w and y's scales are
	// all initializers (computed once, not on every run).
	scales []float32
	// dwRows are a 3x3 depthwise convolution's weights as dw3x3VNNI takes
	// them, 3 per channel: one kernel row's 3 int8 taps in bytes 0-2.
	dwRows []int32
	// constParams: the bias and the scales are initializers, so the
	// requantization depends on the zero points alone and is kept in fixed
	// from one run to the next.
	constParams bool
	fixed       atomic.Pointer[requantSet]
}

// requantSet is a convolution's requantization for input and output zero
// points xz and yz: the bias less xz times each row's weight sum, and the
// GEMM path's per-row-block parameters (nil for a depthwise convolution).
type requantSet struct {
	xz, yz int32
	bias   []int32
	posts  []requant8
}

func prepareQLinearConv(m *Model, n *node) (kernel, error) {
	m.recordQuant(n, 6, 7)
	k := &qconv{}
	wv := m.constInput(n, 3)
	if wv == nil {
		return nil, fmt.Errorf("weight %q must be an initializer", n.Inputs[3])
	}
	if len(wv.shape) != 4 {
		return nil, fmt.Errorf("weight %q: want 4-d (M,C/group,kH,kW) for a 2-d convolution, found shape %v", n.Inputs[3], wv.shape)
	}
	g, err := convGeomFrom(n, wv.shape[2], wv.shape[3])
	if err != nil {
		return nil, err
	}
	k.geom, k.m, k.cg, k.wdims = g, wv.shape[0], wv.shape[1], wv.shape
	if k.m%g.group != 0 {
		return nil, fmt.Errorf("group %d does not divide the %d output channels", g.group, k.m)
	}
	var at func(i int) int32
	switch wv.dt {
	case Int8:
		at = func(i int) int32 { return int32(wv.i8[i]) }
	case Uint8:
		at = func(i int) int32 { return int32(wv.u8[i]) }
	default:
		return nil, fmt.Errorf("weight %q: want int8 or uint8, found %v", n.Inputs[3], wv.dt)
	}
	zpv := m.constInput(n, 5)
	if zpv == nil {
		return nil, fmt.Errorf("weight zero point %q must be an initializer", n.Inputs[5])
	}
	if zpv.dt != wv.dt || (zpv.len() != 1 && zpv.len() != k.m) {
		return nil, fmt.Errorf("weight zero point %q: want %v scalar or (%d), found %v %v", n.Inputs[5], wv.dt, k.m, zpv.dt, zpv.shape)
	}
	zp := func(i int) int32 {
		if zpv.dt == Int8 {
			return int32(zpv.i8[i])
		}
		return int32(zpv.u8[i])
	}
	for i := 1; i < zpv.len(); i++ {
		if zp(i) != zp(0) {
			return nil, fmt.Errorf("weight zero point %q: per-channel zero points must all be equal (as in ONNX Runtime), found %d and %d", n.Inputs[5], zp(0), zp(i))
		}
	}
	k.w = packQWeights(k.m, k.cg*g.kh*g.kw, g.group, k.cg == 1 && k.m == g.group && g.group > 1, at, zp(0))
	if k.w.packed == nil && dw3x3VNNIFits(k) {
		k.dwRows = make([]int32, 3*k.m)
		for r := range k.dwRows {
			e := k.w.eff[3*r:]
			k.dwRows[r] = int32(uint32(uint8(int8(e[0]))) | uint32(uint8(int8(e[1])))<<8 | uint32(uint8(int8(e[2])))<<16)
		}
	}
	b := m.constInput(n, 8)
	if b != nil && (b.dt != Int32 || b.len() != k.m) {
		return nil, fmt.Errorf("bias %q: want int32 (%d), found %v %v", n.Inputs[8], k.m, b.dt, b.shape)
	}
	if k.scales, err = constScales(m, n, k.m); err != nil {
		return nil, err
	}
	k.constParams = k.scales != nil && (b != nil || len(n.Inputs) <= 8 || n.Inputs[8] == "")
	return k, nil
}

// constScales is outputScales of node n's x, w and y scales (inputs 1, 4
// and 6 of QLinearConv and QLinearMatMul) when all three are initializers,
// else nil.
func constScales(m *Model, n *node, count int) ([]float32, error) {
	xs, ws, ys := m.constInput(n, 1), m.constInput(n, 4), m.constInput(n, 6)
	if xs == nil || ws == nil || ys == nil {
		return nil, nil
	}
	return outputScales(xs, ws, ys, count)
}

// scales returns x_scale * w_scale[i] / y_scale per output channel, in
// float32 as ONNX Runtime computes them.
func outputScales(xs *value, ws *value, ys *value, m int) ([]float32, error) {
	x, err := xs.scalarF32("x_scale")
	if err != nil {
		return nil, err
	}
	y, err := ys.scalarF32("y_scale")
	if err != nil {
		return nil, err
	}
	if ws.dt != Float32 || (len(ws.f32) != 1 && len(ws.f32) != m) {
		return nil, fmt.Errorf("w_scale: want float32 scalar or (%d), found %v %v", m, ws.dt, ws.shape)
	}
	out := make([]float32, m)
	for i := range out {
		s := ws.f32[0]
		if len(ws.f32) > 1 {
			s = ws.f32[i]
		}
		out[i] = x * s / y
	}
	return out, nil
}

func (k *qconv) run(ins []*value) ([]*value, error) {
	x := ins[0]
	if x.dt != Uint8 {
		return nil, fmt.Errorf("input: want uint8, found %v", x.dt)
	}
	if len(x.shape) != 4 || x.shape[1] != k.cg*k.geom.group {
		return nil, fmt.Errorf("input: want (N,%d,H,W), found %v", k.cg*k.geom.group, x.shape)
	}
	xz, err := ins[2].zeroPoint("x_zero_point")
	if err != nil {
		return nil, err
	}
	if ins[2].dt != Uint8 {
		return nil, fmt.Errorf("x_zero_point: want uint8, found %v", ins[2].dt)
	}
	yz, err := ins[7].zeroPoint("y_zero_point")
	if err != nil {
		return nil, err
	}
	scales := k.scales
	if scales == nil {
		if scales, err = outputScales(ins[1], ins[4], ins[6], k.m); err != nil {
			return nil, err
		}
	}
	lo, hi := float32(0-yz), float32(255-yz)
	rq := k.fixed.Load()
	if !k.constParams || rq == nil || rq.xz != xz || rq.yz != yz {
		bias := make([]int32, k.m)
		if len(ins) > 8 && ins[8] != nil {
			if ins[8].dt != Int32 || len(ins[8].i32) != k.m {
				return nil, fmt.Errorf("bias: want int32 (%d), found %v %v", k.m, ins[8].dt, ins[8].shape)
			}
			copy(bias, ins[8].i32)
		}
		// Inputs are raw uint8, so the zero point comes off as -xz * sum(w).
		for i := range bias {
			bias[i] -= xz * k.w.rowSum[i]
		}
		rq = &requantSet{xz: xz, yz: yz, bias: bias}
		if k.w.packed != nil {
			rq.posts = k.w.posts(bias, scales, lo, hi, yz)
		}
		if k.constParams {
			k.fixed.Store(rq)
		}
	}
	nb, h, w := x.shape[0], x.shape[2], x.shape[3]
	oh, ow, err := k.geom.out(h, w)
	if err != nil {
		return nil, err
	}
	y := newOutputU8([]int{nb, k.m, oh, ow})
	if k.w.packed == nil {
		kern.depthwise(k, x, y, xz, rq.bias, scales, lo, hi, yz)
	} else {
		k.gemm(x, y, xz, rq.posts)
	}
	return []*value{y}, nil
}

// depthwise runs one channel at a time on a copy of its plane padded with
// the input zero point (so the zero point comes off through the bias, as in
// the GEMM path). At stride 1 one kernel call computes the whole plane in
// padded-width rows, whose extra columns are dropped; at larger strides each
// output row is computed at stride 1 across and subsampled.
func (kt *int8Kernels) depthwise(k *qconv, x, y *value, xz int32, bias []int32, scales []float32, lo, hi float32, yz int32) {
	if kt.vnni && dw3x3VNNIFits(k) {
		depthwiseVNNI(k, x, y, xz, bias, scales, lo, hi, yz)
		return
	}
	g := k.geom
	nb, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := y.shape[2], y.shape[3]
	pw := w + g.pl + g.pr
	ph := h + g.pt + g.pb
	taps := g.kh * g.kw
	full := (ow-1)*g.sw + 1 // one output row computed at stride 1 across
	n := (full + 15) &^ 15
	if g.sh == 1 && g.sw == 1 {
		n = (oh*pw + 15) &^ 15
	}
	parallel.Blocks(nb*c, 4, func(lo0, hi0 int) {
		// Borders and slack keep the zero point; only interiors are rewritten.
		pad := make([]uint8, ph*pw+n+g.kw*g.dw+16)
		fillU8(pad, uint8(xz))
		res := make([]uint8, n)
		offs := make([]int, taps)
		wt := make([]int32, taps)
		for job := lo0; job < hi0; job++ {
			img, ch := job/c, job%c
			src := x.u8[(img*c+ch)*h*w:]
			for r := 0; r < h; r++ {
				copy(pad[(r+g.pt)*pw+g.pl:], src[r*w:(r+1)*w])
			}
			for t := range wt {
				wt[t] = int32(k.w.eff[ch*taps+t])
			}
			post := requant1{bias: bias[ch], scale: scales[ch], lo: lo, hi: hi, zp: yz}
			dst := y.u8[(img*c+ch)*oh*ow:]
			if g.sh == 1 && g.sw == 1 {
				for ky := 0; ky < g.kh; ky++ {
					for kx := 0; kx < g.kw; kx++ {
						offs[ky*g.kw+kx] = ky*g.dh*pw + kx*g.dw
					}
				}
				kt.dwconv(res, pad, offs, wt, n, &post)
				for oy := 0; oy < oh; oy++ {
					copy(dst[oy*ow:(oy+1)*ow], res[oy*pw:])
				}
				continue
			}
			for oy := 0; oy < oh; oy++ {
				for ky := 0; ky < g.kh; ky++ {
					for kx := 0; kx < g.kw; kx++ {
						offs[ky*g.kw+kx] = (oy*g.sh+ky*g.dh)*pw + kx*g.dw
					}
				}
				kt.dwconv(res, pad, offs, wt, n, &post)
				out := dst[oy*ow : (oy+1)*ow]
				for ox := range out {
					out[ox] = res[ox*g.sw]
				}
			}
		}
	})
}

// gemm computes each group as out(M_g x P) = W_g(M_g x K) * cols(K x P) on
// planes of P pixels: the input itself for a 1x1 convolution, else an
// im2col copy padded with the input zero point.
func (k *qconv) gemm(x, y *value, xz int32, posts []requant8) {
	g := k.geom
	nb, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := y.shape[2], y.shape[3]
	p := oh * ow
	kk := k.w.k
	kpad := 2 * k.w.kp
	mg := k.m / g.group
	direct := g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0 && kk == kpad
	if direct {
		for gi := 0; gi < g.group; gi++ {
			kern.multiply(k.w, gi, gemmIO{in: x.u8[gi*k.cg*h*w:], out: y.u8[gi*mg*p:], p: p, planes: k.cg, nb: nb, inStride: c * h * w, outStride: k.m * p}, posts)
		}
		return
	}
	cols := getScratch(kpad * p) // the im2col planes, when not direct
	defer scratch.Put(cols)
	for img := 0; img < nb; img++ {
		for gi := 0; gi < g.group; gi++ {
			planes := *cols
			k.im2col(planes, x.u8[(img*c+gi*k.cg)*h*w:], h, w, oh, ow, uint8(xz))
			kern.multiply(k.w, gi, gemmIO{in: planes, out: y.u8[(img*k.m+gi*mg)*p : (img*k.m+(gi+1)*mg)*p], p: p, planes: kpad, nb: 1}, posts)
		}
	}
}

// im2col lays the input patches out as kpad planes of oh*ow pixels (plane
// index = (c*kh + ky)*kw + kx, as the weights), padding with the zero point;
// planes past K (to make K even) are zero-point filled and meet zero weights.
func (k *qconv) im2col(col, src []uint8, h, w, oh, ow int, zp uint8) {
	g := k.geom
	p := oh * ow
	fillU8(col, zp)
	parallel.Blocks(k.cg*g.kh*g.kw, 4, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			ci, ky, kx := q/(g.kh*g.kw), q/g.kw%g.kh, q%g.kw
			plane := src[ci*h*w : (ci+1)*h*w]
			dst := col[q*p : (q+1)*p]
			for oy := 0; oy < oh; oy++ {
				iy := oy*g.sh - g.pt + ky*g.dh
				if iy < 0 || iy >= h {
					continue
				}
				srow := plane[iy*w : (iy+1)*w]
				drow := dst[oy*ow : (oy+1)*ow]
				// Only the columns whose input is inside the row are copied.
				last := w - 1 + g.pl - kx*g.dw // ox*sw may not pass it
				if last < 0 {
					continue
				}
				ox0 := max(0, (g.pl-kx*g.dw+g.sw-1)/g.sw)
				ox1 := min(ow, last/g.sw+1)
				if ox1 <= ox0 {
					continue
				}
				ix := ox0*g.sw - g.pl + kx*g.dw
				if g.sw == 1 {
					copy(drow[ox0:ox1], srow[ix:])
					continue
				}
				kern.subsample(drow[ox0:ox1], srow[ix:], g.sw)
			}
		}
	})
}

// fillU8 sets every byte of s to v, doubling copies (memmove) as it goes.
func fillU8(s []uint8, v uint8) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for done := 1; done < len(s); done *= 2 {
		copy(s[done:], s[:done])
	}
}
