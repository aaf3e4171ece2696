package nn

import "itscope/compute/parallel"

// Depthwise convolutions (one input channel per group) are direct loops: as
// GEMMs they would be one-row products, far slower than this.

func (c *Conv2D) depthwiseForward(g *convGeom, xs, ws, bias, ys []float32) {
	s := &c.Spec
	kh, kw := s.Kernel[0], s.Kernel[1]
	parallel.For(g.n*s.OutC, func(t int) {
		n, o := t/s.OutC, t%s.OutC
		ch := o / g.ocg
		plane := xs[(n*g.c+ch)*g.h*g.w:][:g.h*g.w]
		out := ys[t*g.p:][:g.p]
		if bias != nil {
			fill(out, bias[o])
		}
		w := ws[o*g.kk:][:g.kk]
		for oy := range g.oh {
			row := out[oy*g.ow:][:g.ow]
			for ki := range kh {
				iy := oy*s.Stride[0] - s.Pad[0] + ki*s.Dilation[0]
				if iy < 0 || iy >= g.h {
					continue
				}
				src := plane[iy*g.w:][:g.w]
				for kj := range kw {
					wv := w[ki*kw+kj]
					lo, hi := validRange(g.ow, g.w, s.Stride[1], s.Pad[1], kj*s.Dilation[1])
					ix := lo*s.Stride[1] - s.Pad[1] + kj*s.Dilation[1]
					if s.Stride[1] == 1 {
						seg := src[ix : ix+hi-lo]
						for k, v := range row[lo:hi] {
							row[lo+k] = v + wv*seg[k]
						}
						continue
					}
					for ox := lo; ox < hi; ox++ {
						row[ox] += wv * src[ix]
						ix += s.Stride[1]
					}
				}
			}
		}
	})
}

func (c *Conv2D) depthwiseBackward(g *convGeom, xs, ws, dys, dxs, dws []float32) {
	s := &c.Spec
	kh, kw := s.Kernel[0], s.Kernel[1]
	if dxs != nil {
		c.depthwiseInputGrad(g, ws, dys, dxs)
	}
	// dW: each output channel sums over the batch.
	parallel.For(s.OutC, func(o int) {
		ch := o / g.ocg
		dw := dws[o*g.kk:][:g.kk]
		for n := range g.n {
			plane := xs[(n*g.c+ch)*g.h*g.w:][:g.h*g.w]
			dout := dys[(n*s.OutC+o)*g.p:][:g.p]
			for ki := range kh {
				for kj := range kw {
					lo, hi := validRange(g.ow, g.w, s.Stride[1], s.Pad[1], kj*s.Dilation[1])
					var sum float32
					for oy := range g.oh {
						iy := oy*s.Stride[0] - s.Pad[0] + ki*s.Dilation[0]
						if iy < 0 || iy >= g.h {
							continue
						}
						src := plane[iy*g.w:][:g.w]
						drow := dout[oy*g.ow:][:g.ow]
						ix := lo*s.Stride[1] - s.Pad[1] + kj*s.Dilation[1]
						for ox := lo; ox < hi; ox++ {
							sum += src[ix] * drow[ox]
							ix += s.Stride[1]
						}
					}
					dw[ki*kw+kj] += sum
				}
			}
		}
	})
}

// depthwiseInputGrad: each (image, input channel) gathers from its own
// output channels, so no two goroutines write the same plane.
func (c *Conv2D) depthwiseInputGrad(g *convGeom, ws, dys, dxs []float32) {
	s := &c.Spec
	kh, kw := s.Kernel[0], s.Kernel[1]
	parallel.For(g.n*g.c, func(t int) {
		n, ch := t/g.c, t%g.c
		plane := dxs[t*g.h*g.w:][:g.h*g.w]
		for o := ch * g.ocg; o < (ch+1)*g.ocg; o++ {
			dout := dys[(n*s.OutC+o)*g.p:][:g.p]
			w := ws[o*g.kk:][:g.kk]
			for oy := range g.oh {
				drow := dout[oy*g.ow:][:g.ow]
				for ki := range kh {
					iy := oy*s.Stride[0] - s.Pad[0] + ki*s.Dilation[0]
					if iy < 0 || iy >= g.h {
						continue
					}
					dst := plane[iy*g.w:][:g.w]
					for kj := range kw {
						wv := w[ki*kw+kj]
						lo, hi := validRange(g.ow, g.w, s.Stride[1], s.Pad[1], kj*s.Dilation[1])
						ix := lo*s.Stride[1] - s.Pad[1] + kj*s.Dilation[1]
						for ox := lo; ox < hi; ox++ {
							dst[ix] += wv * drow[ox]
							ix += s.Stride[1]
						}
					}
				}
			}
		}
	})
}
