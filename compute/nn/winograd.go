package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"itscope/compute"
	"itscope/compute/parallel"
)

// Winograd's F(2x2, 3x3) computes a 3x3, stride-1 convolution over 4x4 input
// tiles, each giving 2x2 outputs, with 16 multiplies per tile and channel
// pair where im2col's GEMM makes 36: the input and weights are transformed
// (Lavin & Gray 2016), multiplied as 16 GEMMs of (out x in) by (in x tiles),
// and the products transformed back. The transforms are additions and
// halvings; in float32 they move results by about 1e-6 relative.

// winogradMinC: below this many input channels the transforms cost more than
// the multiplies they save.
var winogradMinC = 16

// winogradMinP: on smaller output planes the tiles' padding and per-tile
// work outweigh the multiplies saved (ResNet50's 7x7 layer4 runs faster by
// im2col).
var winogradMinP = 100

// winogradMaxFloats bounds the transformed input of one batch of images.
var winogradMaxFloats = 2 << 20

func (c *Conv2D) useWinograd(g *convGeom) bool {
	s := &c.Spec
	return s.Kernel == [2]int{3, 3} && s.Stride == [2]int{1, 1} && s.Dilation == [2]int{1, 1} &&
		s.Groups == 1 && g.c >= winogradMinC && g.oh >= 2 && g.ow >= 2 && g.p >= winogradMinP
}

// winogradForward writes act(conv(x) + bias) into ys.
func (c *Conv2D) winogradForward(g *convGeom, xs, ws, bias, ys []float32, act Activation) {
	s := &c.Spec
	in, out := g.c, s.OutC
	th, tw := (g.oh+1)/2, (g.ow+1)/2
	perImage := th * tw
	batch := max(1, min(g.n, winogradMaxFloats/(16*in*perImage)))

	// Transformed per call, not cached: weights change in place (loading,
	// co-training), and the transform is 1-2% of a ResNet50 forward pass.
	u := getScratch(16 * out * in)
	defer putScratch(u)
	winogradWeights(ws, *u, out, in)

	v := getScratch(16 * in * batch * perImage)
	defer putScratch(v)
	m := getScratch(16 * out * batch * perImage)
	defer putScratch(m)

	for n0 := 0; n0 < g.n; n0 += batch {
		nb := min(batch, g.n-n0)
		tiles := nb * perImage
		vs, ms := (*v)[:16*in*tiles], (*m)[:16*out*tiles]
		parallel.For(nb*in, func(t int) {
			i, ch := t/in, t%in
			winogradInput(g, s, xs[((n0+i)*in+ch)*g.h*g.w:][:g.h*g.w], vs, ch*tiles+i*perImage, in*tiles, tw, th)
		})
		product := func(xi int) {
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
				blas32.General{Rows: out, Cols: in, Stride: in, Data: (*u)[xi*out*in:]},
				blas32.General{Rows: in, Cols: tiles, Stride: tiles, Data: vs[xi*in*tiles:]},
				0, blas32.General{Rows: out, Cols: tiles, Stride: tiles, Data: ms[xi*out*tiles:]})
		}
		if compute.BLASThreads() == 1 {
			parallel.For(16, product) // whole products side by side
		} else {
			for xi := range 16 {
				product(xi)
			}
		}
		parallel.For(nb*out, func(t int) {
			i, o := t/out, t%out
			var b float32
			if bias != nil {
				b = bias[o]
			}
			winogradOutput(g, ms, o*tiles+i*perImage, out*tiles, tw, th, b, act,
				ys[((n0+i)*out+o)*g.p:][:g.p])
		})
	}
}

// winogradWeights sets u[xi][o][c] = (G w[o][c] Gᵀ)[xi] for the 3x3 kernels
// w, G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1].
func winogradWeights(w, u []float32, out, in int) {
	stride := out * in
	parallel.For(out, func(o int) {
		for ch := range in {
			k := w[(o*in+ch)*9:][:9]
			var gg [4][3]float32 // G k
			for j := range 3 {
				a, b, c := k[j], k[3+j], k[6+j]
				gg[0][j] = a
				gg[1][j] = (a + b + c) / 2
				gg[2][j] = (a - b + c) / 2
				gg[3][j] = c
			}
			for r := range 4 {
				a, b, c := gg[r][0], gg[r][1], gg[r][2]
				base := r*4*stride + o*in + ch
				u[base] = a
				u[base+stride] = (a + b + c) / 2
				u[base+2*stride] = (a - b + c) / 2
				u[base+3*stride] = c
			}
		}
	})
}

// winogradInput transforms one channel plane's tiles, Bᵀ d B with
// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], into v at column offset
// col of each of the 16 matrices (xiStride apart; row stride = tiles). Each
// band of four input rows is combined down the columns (Bᵀ d for every
// column at once) straight from the plane, rows and columns outside it
// being zero padding, then across each tile.
func winogradInput(g *convGeom, s *ConvSpec, plane, v []float32, col, xiStride, tw, th int) {
	padT, padL := s.Pad[0], s.Pad[1]
	wp := 2*tw + 2
	buf := getScratch(5 * wp)
	defer putScratch(buf)
	comb, zeros := (*buf)[:4*wp], (*buf)[4*wp:5*wp]
	clear(zeros)
	c0, c1, c2, c3 := comb[:wp], comb[wp:2*wp], comb[2*wp:3*wp], comb[3*wp:]
	// padded column x is plane column x-padL; [lo, hi) are inside the plane
	lo, hi := min(wp, padL), min(wp, g.w+padL)
	for _, c := range [4][]float32{c0, c1, c2, c3} {
		clear(c[:lo])
		clear(c[max(lo, hi):])
	}
	var out [16][]float32
	for ty := range th {
		y0 := 2*ty - padT
		if lo < hi {
			var r [4][]float32
			for k := range r {
				r[k] = zeros[lo:hi]
				if y := y0 + k; y >= 0 && y < g.h {
					r[k] = plane[y*g.w+lo-padL : y*g.w+hi-padL]
				}
			}
			d := [4][]float32{c0[lo:hi], c1[lo:hi], c2[lo:hi], c3[lo:hi]}
			fkern.winogradCols(r, d)
		}
		at := col + ty*tw
		for xi := range out {
			out[xi] = v[xi*xiStride+at:][:tw]
		}
		for r, cr := range [4][]float32{c0, c1, c2, c3} {
			fkern.winogradTiles(cr, [4][]float32(out[4*r:4*r+4]))
		}
	}
}

// winogradOutput transforms one output channel's products back, Aᵀ m A with
// Aᵀ = [1 1 1 0; 0 1 -1 -1], adds b, applies act and writes the plane.
func winogradOutput(g *convGeom, m []float32, col, xiStride, tw, th int, b float32, act Activation, plane []float32) {
	buf := getScratch(8 * tw)
	defer putScratch(buf)
	// rows 0 and 1 of Aᵀ m, one slice per column q of the tiles
	var s0, s1 [4][]float32
	for q := range 4 {
		s0[q], s1[q] = (*buf)[q*tw:][:tw], (*buf)[(4+q)*tw:][:tw]
	}
	for ty := range th {
		out := [2][]float32{plane[2*ty*g.ow:][:g.ow]}
		if 2*ty+1 < g.oh {
			out[1] = plane[(2*ty+1)*g.ow:][:g.ow]
		}
		fkern.winogradBand(m[col+ty*tw:], xiStride, [2][4][]float32{s0, s1}, b, act, out)
	}
}
