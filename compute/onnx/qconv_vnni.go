package onnx

import (
	"sync"

	"itscope/compute/parallel"
)

// The AVX-512 VNNI path. VPDPBUSD multiplies 4 unsigned bytes (inputs) by
// 4 signed bytes (weights minus their zero point, when those fit int8) and
// adds them exactly into an int32, so the sums, and the requantization
// after them, are the other paths' bits.

// scratch holds the per-task buffers of the VNNI kernels (packed inputs,
// padded planes) between calls.
var scratch = sync.Pool{New: func() any { return new([]uint8) }}

func getScratch(n int) *[]uint8 {
	b := scratch.Get().(*[]uint8)
	if cap(*b) < n {
		*b = make([]uint8, n)
	}
	*b = (*b)[:n]
	return b
}

// multiplyQuads is kern.multiply for qgemmVNNI, over the images' pixels as
// one run. Each chunk's pixels are interleaved by input quads (4 bytes per
// pixel per quad, as VPDPBUSD reads them) once, then every row block runs
// over them: a task packs its own chunk, except when the rows are split too
// (small layers), where every chunk is packed first.
func multiplyQuads(q *qweights, gi int, io gemmIO, posts []requant8, chunk, pchunks, rsplit, rbPer int) {
	csize := q.kq * quadStride(chunk) // bytes of one packed chunk
	total := io.nb * io.p
	if rsplit == 1 {
		parallel.Blocks(pchunks, 1, func(t0, t1 int) {
			sb := getScratch(csize + 8*chunk)
			defer scratch.Put(sb)
			for pc := t0; pc < t1; pc++ {
				j0, j1 := pc*chunk, min(total, (pc+1)*chunk)
				packChunk(q, io, j0, j1, (*sb)[:csize])
				rowsQuads(q, gi, (*sb)[:csize], io, j0, j1, posts, 0, q.rb, (*sb)[csize:])
			}
		})
		return
	}
	sb := getScratch(pchunks * csize)
	defer scratch.Put(sb)
	for pc := 0; pc < pchunks; pc++ {
		packChunk(q, io, pc*chunk, min(total, (pc+1)*chunk), (*sb)[pc*csize:(pc+1)*csize])
	}
	parallel.Blocks(pchunks*rsplit, 1, func(t0, t1 int) {
		tmp := make([]uint8, 8*chunk)
		for t := t0; t < t1; t++ {
			pc, rs := t/rsplit, t%rsplit
			rowsQuads(q, gi, (*sb)[pc*csize:(pc+1)*csize], io, pc*chunk, min(total, (pc+1)*chunk), posts, rs*rbPer, min((rs+1)*rbPer, q.rb), tmp)
		}
	})
}

// quadStride is the bytes per input quad of a packed chunk of npx pixels:
// whole blocks of 32, and 16 pixels of slack, since packQuads finishes an
// image's last group of 16 wherever that group starts.
func quadStride(npx int) int {
	return 4 * ((npx+31)&^31 + 16)
}

// segments calls fn for each image's part of pixels [j0, j1) of the run:
// image i, its pixels [a, b), and where they start in the chunk.
func (io gemmIO) segments(j0, j1 int, fn func(i, a, b, col int)) {
	for j := j0; j < j1; {
		i, a := j/io.p, j%io.p
		b := min(io.p, a+j1-j)
		fn(i, a, b, j-j0)
		j += b - a
	}
}

// packChunk interleaves pixels [j0, j1) of the run by quads into dst (kq
// quads of quadStride bytes). Lanes past j1 are left as they are: their
// sums are never stored. Inputs past the planes meet zero weights.
func packChunk(q *qweights, io gemmIO, j0, j1 int, dst []uint8) {
	qs := quadStride(j1 - j0)
	nplanes := io.planes
	full := min(q.kq, nplanes/4)
	_ = dst[q.kq*qs-1]
	io.segments(j0, j1, func(i, a, b, col int) {
		planes := io.in[i*io.inStride:]
		if full > 0 {
			_ = planes[(4*full-1)*io.p+b-1]
			packQuads(&dst[4*col], &planes[a], io.p, qs, full, b-a, (b-a+15)/16)
		}
		for qd := full; qd < q.kq; qd++ { // the quad past the last plane
			d := dst[qd*qs+4*col : qd*qs+4*(col+b-a)]
			for j := 0; j < 4; j++ {
				if c := 4*qd + j; c < nplanes {
					for px, v := range planes[c*io.p+a : c*io.p+b] {
						d[4*px+j] = v
					}
				} else {
					for px := j; px < len(d); px += 4 {
						d[px] = 0
					}
				}
			}
		}
	})
}

// rowsQuads runs row blocks [rb0, rb1) of group gi over a packed chunk,
// pixels [j0, j1) of the run; tmp (8*chunk bytes) takes blocks whose rows
// or pixels do not all exist or that span images.
func rowsQuads(q *qweights, gi int, packed []uint8, io gemmIO, j0, j1 int, posts []requant8, rb0, rb1 int, tmp []uint8) {
	mg := q.m / q.groups
	npx := j1 - j0
	npad := (npx + 31) &^ 31
	qs := quadStride(npx)
	_ = packed[q.kq*qs-1]
	_ = tmp[8*npad-1]
	i0, a0 := j0/io.p, j0%io.p
	direct := npx == npad && a0+npx <= io.p // whole blocks, one image
	for rb := rb0; rb < rb1; rb++ {
		wbase := (gi*q.rb + rb) * q.kq * 8
		wq := q.quads[wbase : wbase+q.kq*8]
		post := &posts[gi*q.rb+rb]
		rows := min(8, mg-rb*8)
		if rows == 8 && direct {
			out := io.out[i0*io.outStride+rb*8*io.p+a0:]
			_ = out[7*io.p+npx-1]
			qgemmVNNI(&wq[0], &packed[0], qs, q.kq, npad/32, &out[0], io.p, post)
			continue
		}
		qgemmVNNI(&wq[0], &packed[0], qs, q.kq, npad/32, &tmp[0], npad, post)
		io.segments(j0, j1, func(i, a, b, col int) {
			for r := 0; r < rows; r++ {
				row := io.out[i*io.outStride+(rb*8+r)*io.p:]
				copy(row[a:b], tmp[r*npad+col:])
			}
		})
	}
}

// dwArgs are dw3x3VNNI's arguments (TestKernelParamOffsets pins them).
type dwArgs struct {
	w       [3]int32 // per kernel row: its 3 taps as int8 bytes, byte 3 zero
	_       int32
	pw      int // input bytes between rows
	rowStep int // input bytes between output rows (stride * pw)
	colStep int // input bytes between blocks of 16 outputs (16 * stride)
	nfull   int // full blocks of 16 outputs per row
	tail    int // outputs in the last, partial block (0: none)
	oh, ow  int // output rows, and outputs per row
	post    requant1
	idx     [64]uint8 // VPERMB: byte 4i+j picks input byte stride*i + j
}

// dw3x3VNNIFits: dw3x3VNNI runs 3x3 depthwise convolutions, undilated, at
// stride 1 or 2 both ways, with int8 weights.
func dw3x3VNNIFits(k *qconv) bool {
	g := k.geom
	return k.w.int8 && g.kh == 3 && g.kw == 3 && g.dh == 1 && g.dw == 1 && g.sh == g.sw && (g.sh == 1 || g.sh == 2)
}

// depthwiseVNNI copies each channel's plane into a buffer bordered with
// the input zero point (copyRows), then dw3x3VNNI computes every output row
// straight into the result: per 16 outputs and kernel row, one VPERMB lines
// up each output's 3 input bytes and one VPDPBUSD adds their products.
func depthwiseVNNI(k *qconv, x, y *value, xz int32, bias []int32, scales []float32, lo, hi float32, yz int32) {
	g := k.geom
	nb, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := y.shape[2], y.shape[3]
	s := g.sh
	pw := w + g.pl + g.pr
	ph := h + g.pt + g.pb
	nblk := (ow + 15) / 16
	// The last row's last block reads 64 bytes from its start.
	need := max(ph*pw, (oh-1)*s*pw+2*pw+(nblk-1)*16*s+64)
	base := dwArgs{pw: pw, rowStep: s * pw, colStep: 16 * s, nfull: ow / 16, tail: ow % 16, oh: oh, ow: ow}
	for i := 0; i < 16; i++ {
		for j := 0; j < 4; j++ {
			base.idx[4*i+j] = uint8(s*i + j)
		}
	}
	parallel.Blocks(nb*c, 4, func(j0, j1 int) {
		sb := getScratch(need)
		defer scratch.Put(sb)
		pad := *sb
		// Borders and slack keep the zero point; only interiors are rewritten.
		fillU8(pad, uint8(xz))
		a := base
		a.post = requant1{lo: lo, hi: hi, zp: yz}
		// Plane job is channel job % c of image job / c.
		for job, ch := j0, j0%c; job < j1; job, ch = job+1, ch+1 {
			if ch == c {
				ch = 0
			}
			src := x.u8[job*h*w : (job+1)*h*w]
			copyRows(&pad[g.pt*pw+g.pl], &src[0], w, h, pw)
			a.w = [3]int32(k.dwRows[3*ch : 3*ch+3])
			a.post.bias, a.post.scale = bias[ch], scales[ch]
			dw3x3VNNI(&y.u8[job*oh*ow], &pad[0], &a)
		}
	})
}

// requant16 is requant8 for 16 output columns (qgemvVNNI).
type requant16 struct {
	bias   [16]int32
	scale  [16]float32
	lo, hi float32
	zp     int32
	_      int32
}

// packCols16 lays a matmul's weights out for qgemvVNNI, [16-column
// block][kq][16] int32s of 4 int8 weights each: nil unless the CPU has
// VNNI and the weights fit int8.
func packCols16(q *qweights) []int32 {
	if !vnniSupported || !q.int8 {
		return nil
	}
	nb := (q.m + 15) / 16
	out := make([]int32, nb*q.kq*16)
	for c := 0; c < q.m; c++ {
		for kk, v := range q.eff[c*q.k : (c+1)*q.k] {
			out[(c/16*q.kq+kk/4)*16+c%16] |= int32(uint32(uint8(int8(v))) << (8 * (kk % 4)))
		}
	}
	return out
}

// rowsVNNI is the matmul for few rows (a batch of feature vectors): each
// row's input quads are broadcast against 16 columns' weights at a time,
// so no lane is spent on padding rows and the output comes out row-major.
func (q *qmatmul) rowsVNNI(a []uint8, rows int, az int32, scales []float32, yz int32, y []uint8) {
	kq4 := 4 * q.w.kq
	ap := make([]uint8, rows*kq4) // rows padded to whole quads with zeros
	for r := 0; r < rows; r++ {
		copy(ap[r*kq4:], a[r*q.k:(r+1)*q.k])
	}
	nb := (q.nOut + 15) / 16
	parallel.Blocks(nb, 4, func(b0, b1 int) {
		var post requant16
		var tmp [16]uint8
		post.lo, post.hi, post.zp = float32(0-yz), float32(255-yz), yz
		for cb := b0; cb < b1; cb++ {
			n := min(16, q.nOut-16*cb)
			for l := 0; l < n; l++ {
				post.bias[l] = -az * q.w.rowSum[16*cb+l]
				post.scale[l] = scales[16*cb+l]
			}
			w := q.cols[cb*q.w.kq*16 : (cb+1)*q.w.kq*16]
			for r := 0; r < rows; r++ {
				qgemvVNNI(&w[0], &ap[r*kq4], q.w.kq, &tmp[0], &post)
				copy(y[r*q.nOut+16*cb:r*q.nOut+16*cb+n], tmp[:n])
			}
		}
	})
}
