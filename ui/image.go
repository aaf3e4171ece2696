package ui

import (
	"fmt"
	"image"
	"strings"

	"github.com/muesli/termenv"
)

// greyRamp draws luminance with characters where the terminal has no colour.
const greyRamp = " .:-=+*#%@"

// drawImage renders img into cols x rows terminal cells. With colour, each
// cell is an upper half block whose foreground is the top pixel and whose
// background is the bottom one, so a cell holds two pixels; true colour is
// used where the terminal has it, else the nearest of the 256 (or 16)
// colours. Without colour it falls back to a grey character ramp.
func drawImage(img image.Image, cols, rows int, profile termenv.Profile) string {
	if img == nil || cols <= 0 || rows <= 0 || img.Bounds().Empty() {
		return ""
	}
	px := resample(img, cols, 2*rows)
	at := func(x, y int) (r, g, b uint32) {
		o := px.PixOffset(x, y)
		return uint32(px.Pix[o]), uint32(px.Pix[o+1]), uint32(px.Pix[o+2])
	}
	var sb strings.Builder
	for row := 0; row < rows; row++ {
		for col := 0; col < cols; col++ {
			tr, tg, tb := at(col, 2*row)
			br, bg, bb := at(col, 2*row+1)
			switch profile {
			case termenv.Ascii:
				lum := (luma(tr, tg, tb) + luma(br, bg, bb)) / 2
				sb.WriteByte(greyRamp[int(lum)*(len(greyRamp)-1)/255])
			default:
				fg := profile.Convert(termenv.RGBColor(hex(tr, tg, tb)))
				bgc := profile.Convert(termenv.RGBColor(hex(br, bg, bb)))
				fmt.Fprintf(&sb, "%s%s;%sm▀", termenv.CSI, fg.Sequence(false), bgc.Sequence(true))
			}
		}
		if profile != termenv.Ascii {
			sb.WriteString(termenv.CSI + termenv.ResetSeq + "m")
		}
		if row < rows-1 {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// resample scales img to w x h pixels. Each target pixel is the mean of
// the source box that maps onto it, so shrinking does not alias; growing
// repeats pixels.
func resample(img image.Image, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	b := img.Bounds()
	for y := range h {
		y0 := b.Min.Y + y*b.Dy()/h
		y1 := max(y0+1, b.Min.Y+(y+1)*b.Dy()/h)
		for x := range w {
			x0 := b.Min.X + x*b.Dx()/w
			x1 := max(x0+1, b.Min.X+(x+1)*b.Dx()/w)
			var r, g, bl, n uint32
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					cr, cg, cb, _ := img.At(xx, yy).RGBA()
					r += cr >> 8
					g += cg >> 8
					bl += cb >> 8
					n++
				}
			}
			o := out.PixOffset(x, y)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = uint8(r/n), uint8(g/n), uint8(bl/n), 255
		}
	}
	return out
}

// luma is the Rec. 601 luminance of an 8-bit colour, 0..255.
func luma(r, g, b uint32) uint32 { return (299*r + 587*g + 114*b) / 1000 }

func hex(r, g, b uint32) string { return fmt.Sprintf("#%02x%02x%02x", r, g, b) }
