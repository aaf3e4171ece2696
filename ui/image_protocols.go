package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"slices"
	"strings"
)

// Image modes of the Data pane (Options.Images).
const (
	imagesAuto   = "auto"
	imagesKitty  = "kitty"
	imagesITerm  = "iterm"
	imagesSixel  = "sixel"
	imagesBlocks = "blocks"
)

// ImageModes are the values Options.Images takes ("" is auto).
var ImageModes = []string{imagesAuto, imagesKitty, imagesITerm, imagesSixel, imagesBlocks}

// CheckImageMode says whether mode is one of ImageModes, for a command
// line flag.
func CheckImageMode(mode string) error {
	if mode == "" || slices.Contains(ImageModes, mode) {
		return nil
	}
	return fmt.Errorf("--images: want one of %s, found %q", strings.Join(ImageModes, ", "), mode)
}

// imageMode picks how stimuli are drawn: the mode asked for, or for auto
// the protocol the session's terminal announces in its environment. Inside
// tmux or screen it is always half blocks: they pass images through only
// when configured to, and redraw their panes from their own cell grid,
// which has no room for an image.
func imageMode(mode string, env []string) string {
	if mode != "" && mode != imagesAuto {
		return mode
	}
	get := func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	term, prog := get("TERM"), get("TERM_PROGRAM")
	switch {
	case get("TMUX") != "" || strings.HasPrefix(term, "screen") || strings.HasPrefix(term, "tmux") || prog == "tmux":
		return imagesBlocks
	case get("KITTY_WINDOW_ID") != "" || term == "xterm-kitty" || prog == "ghostty" || term == "xterm-ghostty":
		return imagesKitty
	case prog == "iTerm.app" || get("LC_TERMINAL") == "iTerm2" || prog == "WezTerm":
		return imagesITerm
	case strings.Contains(term, "sixel") || term == "mlterm" || strings.HasPrefix(term, "foot") || prog == "mlterm":
		return imagesSixel
	}
	return imagesBlocks
}

// Cell size assumed for sixel, which draws pixels rather than cells: small
// enough that on most terminals the picture fits the cells kept for it
// (on bigger cells it is drawn smaller, never over the text beside it).
const sixelCellW, sixelCellH = 8, 16

// encodeImage is the escape sequence that draws img into cols x rows cells
// at the cursor, in one of the image protocols.
func encodeImage(mode string, img image.Image, cols, rows int) string {
	switch mode {
	case imagesKitty:
		return kittyImage(img, cols, rows)
	case imagesITerm:
		return itermImage(img, cols, rows)
	case imagesSixel:
		return sixelImage(resample(img, cols*sixelCellW, rows*sixelCellH))
	}
	return ""
}

func pngBytes(img image.Image) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, img) // writing to memory cannot fail
	return b.Bytes()
}

// kittyDeleteAll removes every image the explorer placed (a=d, d=A), when
// the picture changes or the Data pane is left: kitty images live above the
// text and stay until deleted. q=2 asks the terminal not to answer, since
// an answer would arrive as keys.
const kittyDeleteAll = "\x1b_Ga=d,d=A,q=2\x1b\\"

// kittyImage sends img as PNG at its own resolution (f=100) and lets the
// terminal scale it into cols x rows cells (c, r), without moving the
// cursor (C=1). The payload is base64 in chunks of 4096 bytes, each but the
// last marked m=1.
func kittyImage(img image.Image, cols, rows int) string {
	data := base64.StdEncoding.EncodeToString(pngBytes(img))
	var b strings.Builder
	b.WriteString(kittyDeleteAll)
	for first := true; first || data != ""; first = false {
		chunk := data[:min(4096, len(data))]
		data = data[len(chunk):]
		more := 0
		if data != "" {
			more = 1
		}
		if first {
			fmt.Fprintf(&b, "\x1b_Ga=T,f=100,q=2,C=1,c=%d,r=%d,m=%d;%s\x1b\\", cols, rows, more, chunk)
		} else {
			fmt.Fprintf(&b, "\x1b_Gm=%d;%s\x1b\\", more, chunk)
		}
	}
	return b.String()
}

// itermImage is iTerm2's inline image: the PNG file, base64, drawn into
// cols x rows cells keeping its aspect.
func itermImage(img image.Image, cols, rows int) string {
	file := pngBytes(img)
	return fmt.Sprintf("\x1b]1337;File=inline=1;size=%d;width=%d;height=%d;preserveAspectRatio=1:%s\a",
		len(file), cols, rows, base64.StdEncoding.EncodeToString(file))
}

// sixelLevel is the palette level (0..5) nearest to an 8-bit value: the
// palette is the 6x6x6 cube, levels 0, 51, ..., 255, so no channel is off by
// more than 25 (half a step).
func sixelLevel(v uint8) int { return (int(v)*5 + 127) / 255 }

// sixelImage encodes img in sixel: a palette of the cube's colours it uses
// (in percent, which the cube's levels are exactly: 0, 20, ..., 100), then
// bands of six rows, one pass per colour of the band with runs of four or
// more compressed (!n). P2=1 leaves pixels no colour covers as they were.
func sixelImage(img *image.RGBA) string {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	idx := make([]int, w*h) // cube index of every pixel
	for y := range h {
		for x := range w {
			o := img.PixOffset(x, y)
			p := img.Pix[o : o+3]
			idx[y*w+x] = sixelLevel(p[0])*36 + sixelLevel(p[1])*6 + sixelLevel(p[2])
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\x1bP0;1;0q\"1;1;%d;%d", w, h)
	reg := map[int]int{} // cube index -> colour register, in order of use
	for _, c := range idx {
		if _, ok := reg[c]; !ok {
			reg[c] = len(reg)
			fmt.Fprintf(&b, "#%d;2;%d;%d;%d", reg[c], c/36*20, c/6%6*20, c%6*20)
		}
	}
	// One pass over a band's pixels sets each colour's six bits per
	// column; then each colour present writes its row.
	var rows [216][]byte
	var present [216]bool
	for y0 := 0; y0 < h; y0 += 6 {
		var colours []int // of this band, in order of first use
		for k := range min(6, h-y0) {
			for x, c := range idx[(y0+k)*w : (y0+k+1)*w] {
				if rows[c] == nil {
					rows[c] = make([]byte, w)
				}
				if !present[c] {
					present[c] = true
					colours = append(colours, c)
				}
				rows[c][x] |= 1 << k
			}
		}
		for n, c := range colours {
			present[c] = false
			row := rows[c]
			for x := range row {
				row[x] += 63
			}
			fmt.Fprintf(&b, "#%d", reg[c])
			writeSixelRuns(&b, row)
			clear(row)
			if n < len(colours)-1 {
				b.WriteByte('$')
			}
		}
		b.WriteByte('-')
	}
	b.WriteString("\x1b\\")
	return b.String()
}

// writeSixelRuns writes a band's sixels, a run of four or more as !n.
func writeSixelRuns(b *strings.Builder, row []byte) {
	for i := 0; i < len(row); {
		j := i
		for j < len(row) && row[j] == row[i] {
			j++
		}
		if n := j - i; n >= 4 {
			fmt.Fprintf(b, "!%d%c", n, row[i])
		} else {
			b.Write(row[i:j])
		}
		i = j
	}
}
