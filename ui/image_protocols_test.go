package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"itscope/data"
	"itscope/model/readout"
)

// stimulus is a w x h picture with every channel varying, so that a
// swapped channel, a flipped axis or a shifted row shows; blue is a hash of
// the position, noise that PNG cannot shrink much.
func stimulus(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / max(1, w-1)), uint8(y * 255 / max(1, h-1)), noise(x, y), 255})
		}
	}
	return img
}

// noise is a hash of a position to a byte.
func noise(x, y int) uint8 {
	h := uint32(x)*374761393 + uint32(y)*668265263
	h = (h ^ h>>13) * 1274126177
	return uint8(h >> 16)
}

func TestImageModeDetection(t *testing.T) {
	for _, tc := range []struct {
		mode string
		env  []string
		want string
	}{
		{"", []string{"TERM=xterm-kitty", "KITTY_WINDOW_ID=1"}, imagesKitty},
		{"auto", []string{"TERM=xterm-256color", "KITTY_WINDOW_ID=3"}, imagesKitty},
		{"", []string{"TERM=xterm-ghostty", "TERM_PROGRAM=ghostty"}, imagesKitty},
		{"", []string{"TERM=xterm-256color", "TERM_PROGRAM=iTerm.app"}, imagesITerm},
		{"", []string{"TERM=xterm-256color", "LC_TERMINAL=iTerm2"}, imagesITerm},
		{"", []string{"TERM=foot"}, imagesSixel},
		{"", []string{"TERM=mlterm"}, imagesSixel},
		{"", []string{"TERM=xterm-256color"}, imagesBlocks},
		{"", []string{"TERM=screen-256color", "KITTY_WINDOW_ID=1"}, imagesBlocks},
		{"", []string{"TERM=xterm-kitty", "TMUX=/tmp/tmux-0/default,1,0"}, imagesBlocks},
		{"sixel", []string{"TERM=xterm-256color"}, imagesSixel},
		{"blocks", []string{"KITTY_WINDOW_ID=1"}, imagesBlocks},
	} {
		if got := imageMode(tc.mode, tc.env); got != tc.want {
			t.Errorf("mode %q env %v: %s, want %s", tc.mode, tc.env, got, tc.want)
		}
	}
	if err := CheckImageMode("png"); err == nil || !strings.Contains(err.Error(), `want one of auto, kitty, iterm, sixel, blocks, found "png"`) {
		t.Errorf("--images png: %v", err)
	}
}

// requireSame compares decoded pixels with the stimulus, channel by
// channel, within tol.
func requireSame(t *testing.T, got image.Image, want func(x, y int) color.RGBA, w, h, tol int) {
	t.Helper()
	if b := got.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("decoded %dx%d pixels, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	worst := 0
	for y := range h {
		for x := range w {
			r, g, b, _ := got.At(x, y).RGBA()
			c := want(x, y)
			for i, d := range []int{int(r>>8) - int(c.R), int(g>>8) - int(c.G), int(b>>8) - int(c.B)} {
				if d < 0 {
					d = -d
				}
				worst = max(worst, d)
				if d > tol {
					t.Fatalf("pixel (%d,%d) channel %d off by %d (> %d): got %v, want %v", x, y, i, d, tol, got.At(x, y), c)
				}
			}
		}
	}
	t.Logf("largest channel error %d (allowed %d)", worst, tol)
}

func stimulusAt(img *image.RGBA) func(x, y int) color.RGBA {
	return func(x, y int) color.RGBA { return img.RGBAAt(x, y) }
}

var kittyChunkRe = regexp.MustCompile(`^\x1b_G([^;\x1b]*);([^\x1b]*)\x1b\\`)

// TestKittyRoundTrip decodes the Kitty escape: chunks of at most 4096
// base64 bytes, m=1 on all but the last, then base64 and PNG give back the
// stimulus exactly.
func TestKittyRoundTrip(t *testing.T) {
	img := stimulus(112, 112) // a demo stimulus's size
	seq := kittyImage(img, 20, 7)
	rest, ok := strings.CutPrefix(seq, kittyDeleteAll)
	if !ok {
		t.Fatalf("the escape does not delete the previous picture first: %.40q", seq)
	}
	var payload strings.Builder
	var params []string
	for rest != "" {
		m := kittyChunkRe.FindStringSubmatch(rest)
		if m == nil {
			t.Fatalf("not a kitty chunk: %.60q", rest)
		}
		params = append(params, m[1])
		if len(m[2]) > 4096 {
			t.Fatalf("chunk of %d bytes, want at most 4096", len(m[2]))
		}
		payload.WriteString(m[2])
		rest = rest[len(m[0]):]
	}
	if len(params) < 2 {
		t.Fatalf("%d chunk(s); the stimulus should need several", len(params))
	}
	if want := "a=T,f=100,q=2,C=1,c=20,r=7,m=1"; params[0] != want {
		t.Errorf("first chunk's keys %q, want %q", params[0], want)
	}
	for i, p := range params[1:] {
		want := "m=1"
		if i == len(params)-2 {
			want = "m=0"
		}
		if p != want {
			t.Errorf("chunk %d keys %q, want %q", i+1, p, want)
		}
	}
	raw, err := base64.StdEncoding.DecodeString(payload.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, got, stimulusAt(img), 112, 112, 0)
}

var itermRe = regexp.MustCompile(`^\x1b\]1337;File=inline=1;size=(\d+);width=(\d+);height=(\d+);preserveAspectRatio=1:([A-Za-z0-9+/=]+)\a$`)

// TestITermRoundTrip decodes the iTerm2 escape: its size is the file's,
// and base64 and PNG give back the stimulus exactly.
func TestITermRoundTrip(t *testing.T) {
	img := stimulus(40, 31)
	m := itermRe.FindStringSubmatch(itermImage(img, 24, 9))
	if m == nil {
		t.Fatalf("not an iTerm2 inline image: %.80q", itermImage(img, 24, 9))
	}
	raw, err := base64.StdEncoding.DecodeString(m[4])
	if err != nil {
		t.Fatal(err)
	}
	if size, _ := strconv.Atoi(m[1]); size != len(raw) {
		t.Errorf("size=%d, the file is %d bytes", size, len(raw))
	}
	if m[2] != "24" || m[3] != "9" {
		t.Errorf("width=%s height=%s, want 24 and 9 cells", m[2], m[3])
	}
	got, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, got, stimulusAt(img), 40, 31, 0)
}

// decodeSixel is a small sixel reader: DCS parameters and q, raster
// attributes, colour definitions in RGB percent (#n;2;r;g;b), colour
// selection, sixel characters, repeats (!n), carriage return ($) and next
// band (-), up to ST.
func decodeSixel(t *testing.T, seq string) (*image.RGBA, int) {
	t.Helper()
	body, ok := strings.CutPrefix(seq, "\x1bP")
	if !ok || !strings.HasSuffix(body, "\x1b\\") {
		t.Fatalf("not a DCS string: %.40q", seq)
	}
	body = strings.TrimSuffix(body, "\x1b\\")
	q := strings.IndexByte(body, 'q')
	if q < 0 {
		t.Fatal("no q in the DCS")
	}
	body = body[q+1:]
	num := func() int {
		i := 0
		for i < len(body) && body[i] >= '0' && body[i] <= '9' {
			i++
		}
		n, _ := strconv.Atoi(body[:i])
		body = body[i:]
		return n
	}
	var img *image.RGBA
	palette := map[int]color.RGBA{}
	var cur color.RGBA
	x, y := 0, 0
	paint := func(c byte, n int) {
		bits := int(c) - 63
		for range n {
			for k := range 6 {
				if bits&(1<<k) != 0 {
					if !image.Pt(x, y+k).In(img.Rect) {
						t.Fatalf("sixel paints (%d,%d) outside %v", x, y+k, img.Rect)
					}
					img.SetRGBA(x, y+k, cur)
				}
			}
			x++
		}
	}
	for body != "" {
		c := body[0]
		body = body[1:]
		switch {
		case c == '"':
			var v [4]int
			for i := range v {
				v[i] = num()
				if i < 3 {
					body = strings.TrimPrefix(body, ";")
				}
			}
			img = image.NewRGBA(image.Rect(0, 0, v[2], v[3]))
		case c == '#':
			n := num()
			if strings.HasPrefix(body, ";2;") {
				body = body[3:]
				var p [3]int
				for i := range p {
					p[i] = num()
					body = strings.TrimPrefix(body, ";")
				}
				pc := func(v int) uint8 { return uint8((v*255 + 50) / 100) }
				palette[n] = color.RGBA{pc(p[0]), pc(p[1]), pc(p[2]), 255}
				continue
			}
			col, ok := palette[n]
			if !ok {
				t.Fatalf("colour %d selected before it is defined", n)
			}
			cur = col
		case c == '!':
			n := num()
			paint(body[0], n)
			body = body[1:]
		case c == '$':
			x = 0
		case c == '-':
			x, y = 0, y+6
		case c >= '?' && c <= '~':
			paint(c, 1)
		default:
			t.Fatalf("unexpected byte %q in the sixel data", c)
		}
	}
	if img == nil {
		t.Fatal("no raster attributes")
	}
	return img, len(palette)
}

// TestSixelRoundTrip decodes the sixel picture: at the stimulus's own size
// every pixel is within 25 of the stimulus per channel (half a step of the
// 6x6x6 cube); scaled up to the cells it is given, every pixel is the
// stimulus pixel it covers, within the same error.
func TestSixelRoundTrip(t *testing.T) {
	img := stimulus(45, 29) // 29 rows: the last band is partial
	got, colours := decodeSixel(t, sixelImage(resample(img, 45, 29)))
	requireSame(t, got, stimulusAt(img), 45, 29, 25)
	if colours > 216 {
		t.Errorf("%d palette entries, want at most the 216 of the cube", colours)
	}

	cols, rows := 10, 4
	w, h := cols*sixelCellW, rows*sixelCellH
	got, _ = decodeSixel(t, encodeImage(imagesSixel, img, cols, rows))
	requireSame(t, got, func(x, y int) color.RGBA { return img.RGBAAt(x*45/w, y*29/h) }, w, h, 25)
}

// TestPictureInFrame: with an image protocol the Data pane leaves the
// picture's cells blank and the frame carries the escape at the end of the
// picture's last line, moved to its top-left cell; every line keeps the
// terminal's width; a change under the picture rewrites that line; leaving
// the pane clears the screen and deletes the kitty picture.
func TestPictureInFrame(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH, Images: "kitty"})
	ds := syntheticDataset(40, 6, 2)
	drive(a, datasetMsg{spec: "synthetic", ds: ds, info: describe(t, ds)})
	img, err := ds.Images.RGB(0)
	if err != nil {
		t.Fatal(err)
	}
	drive(a, imageMsg{ds: ds, index: 0, img: img})
	d := a.panes[paneData].(*dataPane)
	cols, rows := d.pictureSize(testW - 30)
	frame := a.frame()
	lines := strings.Split(frame, "\n")
	at := -1
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != testW {
			t.Errorf("line %d is %d cells wide", i, w)
		}
		if strings.Contains(l, "a=T,f=100") {
			at = i
		}
	}
	// The tab bar, the box's top border, then the picture's rows: the
	// first on line 2 (row 3 counting from 1), the last on line 1+rows.
	if at != 1+rows {
		t.Fatalf("the picture escape is on line %d, want %d, its last line", at, 1+rows)
	}
	for i := 2; i <= 1+rows; i++ {
		if cells := ansi.Strip(ansi.Cut(lines[i], 31, 31+cols)); cells != strings.Repeat(" ", cols) {
			t.Errorf("line %d: the picture's cells hold %q, want them blank", i, cells)
		}
	}
	if ansi.Cut(lines[1], 30, 31) != "╭" || ansi.Cut(lines[2], 30, 31) != "│" {
		t.Errorf("the picture does not start inside the Stimulus box: %q / %q", ansi.Cut(lines[1], 30, 32), ansi.Cut(lines[2], 30, 32))
	}
	move := fmt.Sprintf("\x1b7\x1b[3;32H%s\x1b_Ga=T,f=100,q=2,C=1,c=%d,r=%d", kittyDeleteAll, cols, rows)
	if !strings.Contains(lines[at], move) {
		t.Errorf("line %d does not save the cursor and move to row 3, column 32 before the picture: %.120q", at, lines[at])
	}
	if again := a.frame(); again != frame {
		t.Error("the same screen drew a different frame: the picture would be sent again for nothing")
	}
	drive(a, runes("]")) // the neuron shown beside the picture changes
	if next := strings.Split(a.frame(), "\n"); next[at] == lines[at] {
		t.Error("a line beside the picture changed, but its last line did not: the renderer would not redraw it")
	}
	_, cmd := a.Update(gotoPaneMsg(paneJobs))
	if !clears(cmd) {
		t.Errorf("leaving the picture did not clear the screen")
	}
	if f := a.frame(); !strings.Contains(strings.Split(f, "\n")[0], kittyDeleteAll) {
		t.Error("the frame after leaving does not delete the kitty picture")
	}
}

func describe(t *testing.T, ds *data.Dataset) *readout.DataInfo {
	t.Helper()
	info, err := readout.DescribeDataset(ds)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// clears reports whether cmd, or a command of its batch, is tea.ClearScreen.
func clears(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch m := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range m {
			if clears(c) {
				return true
			}
		}
	default:
		return fmt.Sprintf("%T", m) == "tea.clearScreenMsg"
	}
	return false
}

// TestPictureScalesToPane: the stimulus gets the cells the pane leaves it,
// in its aspect; half blocks stop at the image's own pixels, protocols let
// the terminal scale further.
func TestPictureScalesToPane(t *testing.T) {
	for _, tc := range []struct {
		mode             string
		w, h             int // terminal
		imgW, imgH       int
		wantCols, wantRo int
	}{
		{imagesBlocks, 100, 30, 112, 112, 28, 14},
		{imagesBlocks, 160, 50, 112, 112, 68, 34},
		{imagesBlocks, 160, 50, 20, 10, 20, 5},
		{imagesKitty, 160, 50, 20, 10, 92, 23},
		{imagesSixel, 220, 60, 112, 112, 88, 44},
	} {
		a := New(Options{Renderer: plainRenderer(), Width: tc.w, Height: tc.h, Images: tc.mode})
		d := a.panes[paneData].(*dataPane)
		d.img = stimulus(tc.imgW, tc.imgH)
		cols, rows := d.pictureSize(d.w - min(30, d.w/3))
		if cols != tc.wantCols || rows != tc.wantRo {
			t.Errorf("%s %dx%d terminal, %dx%d image: %dx%d cells, want %dx%d", tc.mode, tc.w, tc.h, tc.imgW, tc.imgH, cols, rows, tc.wantCols, tc.wantRo)
		}
	}
}

// TestKittyThroughRenderer runs the program and reads what it writes to the
// terminal: bubbletea's renderer passes the picture's escape through whole,
// and its payload is the demo's first stimulus.
func TestKittyThroughRenderer(t *testing.T) {
	tm, pr := startApp(t, Options{Initial: "demo", Images: "kitty"})
	m := pr.waitMsg(t, 30*time.Second, "decoded image", func(m tea.Msg) bool { _, ok := m.(imageMsg); return ok })
	want := m.(imageMsg).img
	var out []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		i := bytes.Index(b, []byte("\x1b_Ga=T,f=100"))
		if i < 0 {
			return false
		}
		end := bytes.Index(b[i:], []byte("m=0;"))
		if end < 0 || !bytes.Contains(b[i+end:], []byte("\x1b\\")) {
			return false
		}
		out = append([]byte(nil), b[i:]...)
		return true
	}, teatest.WithDuration(10*time.Second))
	var payload strings.Builder
	rest := string(out)
	for {
		c := kittyChunkRe.FindStringSubmatch(rest)
		if c == nil {
			t.Fatalf("the output breaks the escape: %.80q", rest)
		}
		payload.WriteString(c[2])
		rest = rest[len(c[0]):]
		if strings.HasSuffix(c[1], "m=0") {
			break
		}
	}
	raw, err := base64.StdEncoding.DecodeString(payload.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b := want.Bounds()
	requireSame(t, got, func(x, y int) color.RGBA {
		r, g, bl, _ := want.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}
	}, b.Dx(), b.Dy(), 0)
}
