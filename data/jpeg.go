package data

import (
	"encoding/binary"
	"errors"
	"image"
)

// decodeJPEGLibjpeg decodes an 8-bit Huffman-coded JPEG (baseline,
// extended sequential or progressive) as libjpeg-turbo does with its
// default settings (the decoder behind Pillow): the integer "islow" IDCT
// (jidctint.c), fancy chroma upsampling and fixed-point YCbCr->RGB. ok is
// false for files it does not handle (arithmetic-coded, 12-bit, lossless,
// Adobe/CMYK, odd sampling); the caller then uses Go's decoder.
func decodeJPEGLibjpeg(b []byte) (img *image.RGBA, ok bool) {
	defer func() {
		if recover() != nil { // damaged input: let Go's decoder speak
			img, ok = nil, false
		}
	}()
	d := &jpegDecoder{data: b, adobe: -1}
	img, err := d.decode()
	if err != nil {
		return nil, false
	}
	return img, true
}

var errJPEGUnsupported = errors.New("jpeg: unsupported")

type jpegComponent struct {
	id, h, v, tq int
	td, ta       int
	plane        []uint8 // padded to whole MCUs
	stride       int
	pred         int32
	coefs        []int32 // progressive: 64 natural-order coefficients a block
}

type huffTable struct {
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []uint8
	ok      bool
}

type jpegDecoder struct {
	data        []byte
	pos         int
	width       int
	height      int
	comps       []jpegComponent
	hmax        int
	vmax        int
	mcusx       int
	mcusy       int
	quant       [4][64]int32
	dc, ac      [4]huffTable
	restart     int
	sawSOF      bool
	progressive bool
	eobrun      int
	sawJFIF     bool
	adobe       int // APP14 colour transform, -1 without the marker
	// bit reader
	bits      uint32
	nbits     int
	hitMarker bool
}

// zigzag[k] is the natural (row-major) index of the k-th coefficient.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

func (d *jpegDecoder) decode() (*image.RGBA, error) {
	if len(d.data) < 4 || d.data[0] != 0xFF || d.data[1] != 0xD8 {
		return nil, errJPEGUnsupported
	}
	d.pos = 2
	for {
		// Find the next marker, skipping fill bytes.
		for d.pos < len(d.data) && d.data[d.pos] != 0xFF {
			d.pos++
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xFF {
			d.pos++
		}
		if d.pos >= len(d.data) {
			return nil, errJPEGUnsupported
		}
		m := d.data[d.pos]
		d.pos++
		if m == 0xD9 { // EOI
			break
		}
		if m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			continue
		}
		if d.pos+2 > len(d.data) {
			return nil, errJPEGUnsupported
		}
		n := int(binary.BigEndian.Uint16(d.data[d.pos:]))
		if n < 2 || d.pos+n > len(d.data) {
			return nil, errJPEGUnsupported
		}
		seg := d.data[d.pos+2 : d.pos+n]
		d.pos += n
		var err error
		switch {
		case m == 0xC0 || m == 0xC1 || m == 0xC2:
			d.progressive = m == 0xC2
			err = d.readSOF(seg)
		case m == 0xC4:
			err = d.readDHT(seg)
		case m == 0xDB:
			err = d.readDQT(seg)
		case m == 0xDD:
			if len(seg) < 2 {
				return nil, errJPEGUnsupported
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case m == 0xE0:
			d.sawJFIF = d.sawJFIF || (len(seg) >= 5 && string(seg[:5]) == "JFIF\x00")
		case m == 0xEE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = int(seg[11])
			}
		case m == 0xDA:
			err = d.readScan(seg)
		case m >= 0xC2 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return nil, errJPEGUnsupported // progressive, lossless, arithmetic
		case m == 0xCC || m == 0xDC:
			return nil, errJPEGUnsupported
		}
		if err != nil {
			return nil, err
		}
	}
	if !d.sawSOF {
		return nil, errJPEGUnsupported
	}
	return d.toRGB()
}

func (d *jpegDecoder) readSOF(seg []byte) error {
	if d.sawSOF || len(seg) < 6 || seg[0] != 8 {
		return errJPEGUnsupported
	}
	d.height = int(binary.BigEndian.Uint16(seg[1:]))
	d.width = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if d.height == 0 || d.width == 0 || d.width*d.height > maxImagePixels || (nc != 1 && nc != 3) || len(seg) < 6+3*nc {
		return errJPEGUnsupported
	}
	d.comps = make([]jpegComponent, nc)
	for i := range d.comps {
		c := &d.comps[i]
		c.id = int(seg[6+3*i])
		c.h, c.v = int(seg[7+3*i]>>4), int(seg[7+3*i]&15)
		c.tq = int(seg[8+3*i])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return errJPEGUnsupported
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	if nc == 1 {
		// A single component is never subsampled: libjpeg treats it as 1x1.
		d.comps[0].h, d.comps[0].v, d.hmax, d.vmax = 1, 1, 1, 1
	}
	d.mcusx = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusy = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range d.comps {
		c := &d.comps[i]
		c.stride = d.mcusx * c.h * 8
		c.plane = make([]uint8, c.stride*d.mcusy*c.v*8)
		if d.progressive {
			c.coefs = make([]int32, len(c.plane))
		}
	}
	d.sawSOF = true
	return nil
}

func (d *jpegDecoder) readDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return errJPEGUnsupported
		}
		tc, th := int(seg[0]>>4), int(seg[0]&15)
		if tc > 1 || th > 3 {
			return errJPEGUnsupported
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			total += counts[l]
		}
		if total > 256 || len(seg) < 17+total {
			return errJPEGUnsupported
		}
		t := &d.dc[th]
		if tc == 1 {
			t = &d.ac[th]
		}
		*t = huffTable{vals: append([]uint8(nil), seg[17:17+total]...), ok: true}
		code, k := int32(0), int32(0)
		for l := 1; l <= 16; l++ {
			t.valptr[l] = k
			t.mincode[l] = code
			code += int32(counts[l])
			k += int32(counts[l])
			if counts[l] > 0 {
				t.maxcode[l] = code - 1
			} else {
				t.maxcode[l] = -1
			}
			code <<= 1
		}
		t.maxcode[17] = 1 << 30
		seg = seg[17+total:]
	}
	return nil
}

func (d *jpegDecoder) readDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := int(seg[0]>>4), int(seg[0]&15)
		if tq > 3 || pq > 1 {
			return errJPEGUnsupported
		}
		need := 1 + 64*(pq+1)
		if len(seg) < need {
			return errJPEGUnsupported
		}
		for k := range 64 {
			var q int32
			if pq == 0 {
				q = int32(seg[1+k])
			} else {
				q = int32(binary.BigEndian.Uint16(seg[1+2*k:]))
			}
			d.quant[tq][zigzag[k]] = q
		}
		seg = seg[need:]
	}
	return nil
}

func (d *jpegDecoder) readScan(seg []byte) error {
	if !d.sawSOF || len(seg) < 1 {
		return errJPEGUnsupported
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.comps) || len(seg) < 1+2*ns+3 {
		return errJPEGUnsupported
	}
	scan := make([]*jpegComponent, ns)
	for i := range ns {
		id := int(seg[1+2*i])
		var c *jpegComponent
		for k := range d.comps {
			if d.comps[k].id == id {
				c = &d.comps[k]
			}
		}
		if c == nil {
			return errJPEGUnsupported
		}
		c.td, c.ta = int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		if c.td > 3 || c.ta > 3 {
			return errJPEGUnsupported
		}
		c.pred = 0
		scan[i] = c
	}
	ss, se := int(seg[1+2*ns]), int(seg[2+2*ns])
	ah, al := int(seg[3+2*ns]>>4), int(seg[3+2*ns]&15)
	block, err := d.blockDecoder(scan, ss, se, ah, al)
	if err != nil {
		return err
	}
	d.bits, d.nbits, d.hitMarker, d.eobrun = 0, 0, false, 0
	var mcusx, mcusy int
	if ns == 1 {
		c := scan[0]
		// A non-interleaved scan covers only the component's own blocks.
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		ch := (d.height*c.v + d.vmax - 1) / d.vmax
		mcusx, mcusy = (cw+7)/8, (ch+7)/8
	} else {
		mcusx, mcusy = d.mcusx, d.mcusy
	}
	n := 0
	for my := range mcusy {
		for mx := range mcusx {
			if d.restart > 0 && n > 0 && n%d.restart == 0 {
				d.nextRestart()
				d.eobrun = 0
				for _, c := range scan {
					c.pred = 0
				}
			}
			n++
			if ns == 1 {
				block(scan[0], mx, my)
				continue
			}
			for _, c := range scan {
				for v := range c.v {
					for h := range c.h {
						block(c, mx*c.h+h, my*c.v+v)
					}
				}
			}
		}
	}
	// Leave the position at the marker after the entropy-coded data.
	for d.pos < len(d.data) {
		if d.data[d.pos] == 0xFF && d.pos+1 < len(d.data) {
			if nx := d.data[d.pos+1]; nx != 0 && (nx < 0xD0 || nx > 0xD7) {
				break
			}
		}
		d.pos++
	}
	return nil
}

// blockDecoder checks a scan's parameters and returns what decodes one of
// its blocks: sequential blocks go straight through the IDCT; progressive
// ones refine stored coefficients (jdphuff.c's four cases).
func (d *jpegDecoder) blockDecoder(scan []*jpegComponent, ss, se, ah, al int) (func(c *jpegComponent, bx, by int), error) {
	need := func(dc, ac bool) error {
		for _, c := range scan {
			if (dc && !d.dc[c.td].ok) || (ac && !d.ac[c.ta].ok) {
				return errJPEGUnsupported
			}
		}
		return nil
	}
	if !d.progressive {
		if ss != 0 || se != 63 {
			return nil, errJPEGUnsupported
		}
		var coef [64]int32
		return func(c *jpegComponent, bx, by int) {
			d.decodeBlock(c, &coef)
			idctIslow(&coef, &d.quant[c.tq], c.plane[by*8*c.stride+bx*8:], c.stride)
		}, need(true, true)
	}
	if se > 63 || ss > se || (ss == 0) != (se == 0) || (ss > 0 && len(scan) != 1) || al > 13 {
		return nil, errJPEGUnsupported
	}
	coefs := func(c *jpegComponent, bx, by int) []int32 {
		k := (by*(c.stride/8) + bx) * 64
		return c.coefs[k : k+64]
	}
	switch {
	case ss == 0 && ah == 0:
		return func(c *jpegComponent, bx, by int) {
			s := d.decodeHuff(&d.dc[c.td])
			if s > 0 {
				c.pred += extend(d.getBits(min(s, 16)), min(s, 16))
			}
			coefs(c, bx, by)[0] = c.pred << al
		}, need(true, false)
	case ss == 0:
		return func(c *jpegComponent, bx, by int) {
			if d.getBits(1) != 0 {
				coefs(c, bx, by)[0] |= 1 << al
			}
		}, nil
	case ah == 0:
		return func(c *jpegComponent, bx, by int) { d.acFirst(coefs(c, bx, by), &d.ac[c.ta], ss, se, al) }, need(false, true)
	default:
		return func(c *jpegComponent, bx, by int) { d.acRefine(coefs(c, bx, by), &d.ac[c.ta], ss, se, al) }, need(false, true)
	}
}

// acFirst is jdphuff.c's decode_mcu_AC_first.
func (d *jpegDecoder) acFirst(coef []int32, t *huffTable, ss, se, al int) {
	if d.eobrun > 0 {
		d.eobrun--
		return
	}
	for k := ss; k <= se; k++ {
		rs := d.decodeHuff(t)
		r, s := rs>>4, rs&15
		if s != 0 {
			k += r
			if k > 63 {
				return
			}
			coef[zigzag[k]] = extend(d.getBits(s), s) << al
			continue
		}
		if r != 15 {
			d.eobrun = 1 << r
			if r > 0 {
				d.eobrun += int(d.getBits(r))
			}
			d.eobrun--
			return
		}
		k += 15
	}
}

// acRefine is jdphuff.c's decode_mcu_AC_refine: one more bit for every
// non-zero coefficient in the band, and new coefficients of magnitude 1<<al.
func (d *jpegDecoder) acRefine(coef []int32, t *huffTable, ss, se, al int) {
	p1, m1 := int32(1)<<al, int32(-1)<<al
	refine := func(k int) {
		if v := coef[zigzag[k]]; v != 0 && d.getBits(1) != 0 && v&p1 == 0 {
			if v >= 0 {
				coef[zigzag[k]] += p1
			} else {
				coef[zigzag[k]] += m1
			}
		}
	}
	k := ss
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			rs := d.decodeHuff(t)
			r, s := rs>>4, rs&15
			var val int32
			if s != 0 {
				val = m1
				if d.getBits(1) != 0 {
					val = p1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r > 0 {
					d.eobrun += int(d.getBits(r))
				}
				break
			}
			// Skip r zero coefficients (refining the non-zero ones met),
			// stopping on the zero that receives val.
			for ; k <= se; k++ {
				if coef[zigzag[k]] != 0 {
					refine(k)
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if val != 0 && k <= se {
				coef[zigzag[k]] = val
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= se; k++ {
			refine(k)
		}
		d.eobrun--
	}
}

// nextRestart discards buffered bits and skips to just past an RSTn marker.
func (d *jpegDecoder) nextRestart() {
	d.bits, d.nbits, d.hitMarker = 0, 0, false
	for d.pos+1 < len(d.data) {
		if d.data[d.pos] == 0xFF {
			nx := d.data[d.pos+1]
			if nx >= 0xD0 && nx <= 0xD7 {
				d.pos += 2
				return
			}
			if nx != 0 && nx != 0xFF {
				return // another marker: libjpeg resyncs; leave it
			}
		}
		d.pos++
	}
}

// fill tops up the bit buffer; past a marker or the end it feeds zeros, as
// libjpeg does for corrupt data.
func (d *jpegDecoder) fill() {
	for d.nbits <= 24 {
		var b byte
		if !d.hitMarker && d.pos < len(d.data) {
			b = d.data[d.pos]
			if b == 0xFF {
				nx := byte(0)
				if d.pos+1 < len(d.data) {
					nx = d.data[d.pos+1]
				}
				if nx == 0 {
					d.pos += 2
				} else {
					d.hitMarker = true
					b = 0
				}
			} else {
				d.pos++
			}
		}
		d.bits |= uint32(b) << (24 - d.nbits)
		d.nbits += 8
	}
}

func (d *jpegDecoder) getBits(n int) int32 {
	if n == 0 {
		return 0
	}
	if d.nbits < n {
		d.fill()
	}
	v := int32(d.bits >> (32 - n))
	d.bits <<= n
	d.nbits -= n
	return v
}

func (d *jpegDecoder) decodeHuff(t *huffTable) int {
	if d.nbits < 16 {
		d.fill()
	}
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | int32(d.bits>>31)
		d.bits <<= 1
		d.nbits--
		if code <= t.maxcode[l] {
			i := t.valptr[l] + code - t.mincode[l]
			if int(i) < len(t.vals) {
				return int(t.vals[i])
			}
			return 0
		}
	}
	return 0 // bad code: libjpeg warns and uses 0
}

func extend(v int32, s int) int32 {
	if v < 1<<(s-1) {
		return v - (1 << s) + 1
	}
	return v
}

func (d *jpegDecoder) decodeBlock(c *jpegComponent, coef *[64]int32) {
	*coef = [64]int32{}
	s := d.decodeHuff(&d.dc[c.td])
	if s > 0 {
		if s > 16 {
			s = 16
		}
		c.pred += extend(d.getBits(s), s)
	}
	coef[0] = c.pred
	ac := &d.ac[c.ta]
	for k := 1; k < 64; k++ {
		rs := d.decodeHuff(ac)
		r, s := rs>>4, rs&15
		if s == 0 {
			if r != 15 {
				break
			}
			k += 15
			continue
		}
		k += r
		if k > 63 {
			break
		}
		coef[zigzag[k]] = extend(d.getBits(s), s)
	}
}

// jidctint.c (libjpeg 6b / libjpeg-turbo) constants: FIX(x) = round(x * 2^13).
const (
	idctConstBits  = 13
	idctPass1Bits  = 2
	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

func descale(x int64, n uint) int64 { return (x + 1<<(n-1)) >> n }

// idctIslow is libjpeg's jpeg_idct_islow: dequantise, columns then rows in
// scaled integers, output level-shifted and clamped into dst (8 rows of stride).
func idctIslow(coef *[64]int32, q *[64]int32, dst []uint8, stride int) {
	var ws [64]int64
	for col := range 8 {
		in := func(r int) int64 { return int64(coef[r*8+col]) * int64(q[r*8+col]) }
		if coef[8+col] == 0 && coef[16+col] == 0 && coef[24+col] == 0 && coef[32+col] == 0 &&
			coef[40+col] == 0 && coef[48+col] == 0 && coef[56+col] == 0 {
			dc := in(0) << idctPass1Bits
			for r := range 8 {
				ws[r*8+col] = dc
			}
			continue
		}
		o := idct1D(in(0), in(1), in(2), in(3), in(4), in(5), in(6), in(7))
		for r := range 8 {
			ws[r*8+col] = descale(o[r], idctConstBits-idctPass1Bits)
		}
	}
	for row := range 8 {
		w := ws[row*8 : row*8+8]
		out := dst[row*stride : row*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := clampSample(descale(w[0], idctPass1Bits+3))
			for k := range out {
				out[k] = v
			}
			continue
		}
		o := idct1D(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7])
		for k := range 8 {
			out[k] = clampSample(descale(o[k], idctConstBits+idctPass1Bits+3))
		}
	}
}

// idct1D is one 8-point pass of jidctint.c before descaling.
func idct1D(x0, x1, x2, x3, x4, x5, x6, x7 int64) [8]int64 {
	// Even part.
	z2, z3 := x2, x6
	z1 := (z2 + z3) * fix0_541196100
	tmp2 := z1 + z3*(-fix1_847759065)
	tmp3 := z1 + z2*fix0_765366865
	tmp0 := (x0 + x4) << idctConstBits
	tmp1 := (x0 - x4) << idctConstBits
	tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
	tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
	// Odd part.
	tmp0, tmp1, tmp2, tmp3 = x7, x5, x3, x1
	z1 = tmp0 + tmp3
	z2 = tmp1 + tmp2
	z3 = tmp0 + tmp2
	z4 := tmp1 + tmp3
	z5 := (z3 + z4) * fix1_175875602
	tmp0 *= fix0_298631336
	tmp1 *= fix2_053119869
	tmp2 *= fix3_072711026
	tmp3 *= fix1_501321110
	z1 *= -fix0_899976223
	z2 *= -fix2_562915447
	z3 *= -fix1_961570560
	z4 *= -fix0_390180644
	z3 += z5
	z4 += z5
	tmp0 += z1 + z3
	tmp1 += z2 + z4
	tmp2 += z2 + z3
	tmp3 += z1 + z4
	return [8]int64{
		tmp10 + tmp3, tmp11 + tmp2, tmp12 + tmp1, tmp13 + tmp0,
		tmp13 - tmp0, tmp12 - tmp1, tmp11 - tmp2, tmp10 - tmp3,
	}
}

func clampSample(v int64) uint8 {
	v += 128
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// toRGB upsamples and converts the decoded planes.
func (d *jpegDecoder) toRGB() (*image.RGBA, error) {
	if d.progressive {
		for i := range d.comps {
			c := &d.comps[i]
			bw := c.stride / 8
			for k := 0; k < len(c.coefs); k += 64 {
				bx, by := (k/64)%bw, (k/64)/bw
				idctIslow((*[64]int32)(c.coefs[k:k+64]), &d.quant[c.tq], c.plane[by*8*c.stride+bx*8:], c.stride)
			}
		}
	}
	w, h := d.width, d.height
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	if len(d.comps) == 1 {
		y := &d.comps[0]
		for r := range h {
			row := out.Pix[r*out.Stride:]
			for x := range w {
				v := y.plane[r*y.stride+x]
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 255
			}
		}
		return out, nil
	}
	var planes [3][]uint8
	for k := range 3 {
		c := &d.comps[k]
		if d.hmax%c.h != 0 || d.vmax%c.v != 0 {
			return nil, errJPEGUnsupported
		}
		hs, vs := d.hmax/c.h, d.vmax/c.v
		if hs > 2 || vs > 2 {
			return nil, errJPEGUnsupported
		}
		cw := (w*c.h + d.hmax - 1) / d.hmax
		ch := (h*c.v + d.vmax - 1) / d.vmax
		p := make([]uint8, cw*ch)
		for r := range ch {
			copy(p[r*cw:(r+1)*cw], c.plane[r*c.stride:])
		}
		planes[k] = upsampleFancy(p, cw, ch, hs, vs, w, h)
	}
	// libjpeg's colour space guess (jdapimin.c default_decompress_parms):
	// JFIF means YCbCr, else an Adobe marker decides, else component ids
	// 'R','G','B' mean RGB.
	rgb := !d.sawJFIF && (d.adobe == 0 || (d.adobe < 0 &&
		d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B'))
	for r := range h {
		row := out.Pix[r*out.Stride:]
		for x := range w {
			i := r*w + x
			if rgb {
				row[4*x], row[4*x+1], row[4*x+2] = planes[0][i], planes[1][i], planes[2][i]
			} else {
				row[4*x], row[4*x+1], row[4*x+2] = yccToRGB(int32(planes[0][i]), int32(planes[1][i]), int32(planes[2][i]))
			}
			row[4*x+3] = 255
		}
	}
	return out, nil
}
