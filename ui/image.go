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
	if img == nil || cols <= 0 || rows <= 0 {
		return ""
	}
	b := img.Bounds()
	if b.Dx() == 0 || b.Dy() == 0 {
		return ""
	}
	// sample averages the source box that maps onto target pixel (x, y) of a
	// cols x 2*rows grid, so shrinking does not alias.
	sample := func(x, y int) (r, g, bl uint32) {
		x0 := b.Min.X + x*b.Dx()/cols
		x1 := b.Min.X + (x+1)*b.Dx()/cols
		y0 := b.Min.Y + y*b.Dy()/(2*rows)
		y1 := b.Min.Y + (y+1)*b.Dy()/(2*rows)
		if x1 <= x0 {
			x1 = x0 + 1
		}
		if y1 <= y0 {
			y1 = y0 + 1
		}
		var n uint32
		for yy := y0; yy < y1; yy++ {
			for xx := x0; xx < x1; xx++ {
				cr, cg, cb, _ := img.At(xx, yy).RGBA()
				r += cr >> 8
				g += cg >> 8
				bl += cb >> 8
				n++
			}
		}
		return r / n, g / n, bl / n
	}
	var sb strings.Builder
	for row := 0; row < rows; row++ {
		for col := 0; col < cols; col++ {
			tr, tg, tb := sample(col, 2*row)
			br, bg, bb := sample(col, 2*row+1)
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

// luma is the Rec. 601 luminance of an 8-bit colour, 0..255.
func luma(r, g, b uint32) uint32 { return (299*r + 587*g + 114*b) / 1000 }

func hex(r, g, b uint32) string { return fmt.Sprintf("#%02x%02x%02x", r, g, b) }
