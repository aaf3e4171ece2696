package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"
)

// histogram counts values into bins equal-width bins over [lo, hi); values
// outside are clamped into the end bins so that nothing disappears. NaNs are
// skipped.
func histogram(values []float64, bins int, lo, hi float64) []int {
	counts := make([]int, bins)
	if bins == 0 || !(hi > lo) {
		return counts
	}
	for _, v := range values {
		if math.IsNaN(v) {
			continue
		}
		b := int(math.Floor((v - lo) / (hi - lo) * float64(bins)))
		b = max(0, min(bins-1, b))
		counts[b]++
	}
	return counts
}

// drawHistogram draws vertical bars of counts, height rows tall, scaled so
// that maxCount fills the height (pass the same maxCount to put several
// histograms on the same axes), with the x range written under it.
func drawHistogram(st Styles, counts []int, maxCount, height int, lo, hi float64, xlabel string) string {
	if maxCount <= 0 {
		maxCount = 1
	}
	eighths := []rune(" ▁▂▃▄▅▆▇█")
	axisW := len(fmt.Sprint(maxCount))
	var sb strings.Builder
	for row := height - 1; row >= 0; row-- {
		label := ""
		if row == height-1 {
			label = fmt.Sprint(maxCount)
		} else if row == 0 {
			label = "0"
		}
		sb.WriteString(st.Dim.Render(fmt.Sprintf("%*s ┤", axisW, label)))
		for _, c := range counts {
			filled := float64(c) / float64(maxCount) * float64(height) * 8
			cell := int(math.Round(filled)) - row*8
			cell = max(0, min(8, cell))
			if c > 0 && row == 0 && cell == 0 {
				cell = 1 // a non-empty bin is never invisible
			}
			ch := string(eighths[cell])
			if st.Plain && cell > 0 {
				ch = "#"
			}
			sb.WriteString(st.BarFull.Render(ch))
		}
		sb.WriteByte('\n')
	}
	w := len(counts)
	sb.WriteString(strings.Repeat(" ", axisW+1) + "└" + strings.Repeat("─", w) + "\n")
	left := fmtNum(lo)
	right := fmtNum(hi)
	gap := max(1, w+1-len(left)-len(right))
	sb.WriteString(strings.Repeat(" ", axisW+1) + left + strings.Repeat(" ", gap) + right + "\n")
	sb.WriteString(strings.Repeat(" ", axisW+2) + st.Dim.Render(xlabel))
	return sb.String()
}

// lineChart plots one or two series with asciigraph. In plain mode the
// series differ by glyph instead of colour, and all escapes are stripped.
func lineChart(st Styles, series [][]float64, width, height int, caption string) string {
	var nonEmpty [][]float64
	for _, s := range series {
		if len(s) > 0 {
			nonEmpty = append(nonEmpty, s)
		}
	}
	if len(nonEmpty) == 0 || width < 12 || height < 2 {
		return st.Dim.Render("(no points yet)")
	}
	opts := []asciigraph.Option{
		asciigraph.Height(height), asciigraph.Width(width - 9), asciigraph.Precision(3),
	}
	if caption != "" {
		opts = append(opts, asciigraph.Caption(caption))
	}
	if st.Plain {
		chars := []asciigraph.CharSet{asciigraph.DefaultCharSet, asciigraph.CreateCharSet("·")}
		opts = append(opts, asciigraph.SeriesChars(chars[:len(nonEmpty)]...))
	} else {
		opts = append(opts, asciigraph.SeriesColors(asciigraph.DodgerBlue, asciigraph.Orange))
	}
	out := asciigraph.PlotMany(series, opts...)
	if st.Plain {
		out = ansi.Strip(out)
	}
	return out
}

// scatter draws points (x[i], y[i]) in a width x height grid over the same
// range on both axes, with the identity line, for predicted-against-actual.
func scatter(st Styles, x, y []float64, width, height int, xlabel, ylabel string) string {
	if len(x) == 0 || width < 10 || height < 4 {
		return st.Dim.Render("(no points)")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range x {
		for _, v := range []float64{x[i], y[i]} {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	plotW := width - 8
	grid := make([][]rune, height)
	for r := range grid {
		grid[r] = []rune(strings.Repeat(" ", plotW))
	}
	cell := func(v float64, n int) int {
		return max(0, min(n-1, int((v-lo)/(hi-lo)*float64(n-1)+0.5)))
	}
	for c := 0; c < plotW; c++ {
		v := lo + (hi-lo)*float64(c)/float64(plotW-1)
		grid[height-1-cell(v, height)][c] = '·'
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		grid[height-1-cell(y[i], height)][cell(x[i], plotW)] = 'o'
	}
	var sb strings.Builder
	for r, line := range grid {
		label := ""
		switch r {
		case 0:
			label = fmtNum(hi)
		case height - 1:
			label = fmtNum(lo)
		case height / 2:
			label = ylabel
		}
		sb.WriteString(st.Dim.Render(fmt.Sprintf("%7.7s", label)) + "│")
		for _, ch := range line {
			switch ch {
			case 'o':
				sb.WriteString(st.Series[0].Render("o"))
			case '·':
				sb.WriteString(st.Dim.Render("·"))
			default:
				sb.WriteRune(ch)
			}
		}
		sb.WriteByte('\n')
	}
	sb.WriteString(strings.Repeat(" ", 7) + "└" + strings.Repeat("─", plotW) + "\n")
	left, right := fmtNum(lo), fmtNum(hi)
	mid := max(1, plotW-len(left)-len(right)-len(xlabel))
	sb.WriteString(strings.Repeat(" ", 8) + left + strings.Repeat(" ", mid/2) + st.Dim.Render(xlabel) +
		strings.Repeat(" ", mid-mid/2) + right)
	return sb.String()
}

// hbars draws one labelled horizontal bar per value, scaled to [0, hi].
func hbars(st Styles, labels []string, values []float64, width int, best int) string {
	labelW := 0
	for _, l := range labels {
		labelW = max(labelW, len(l))
	}
	labelW = min(labelW, width/3)
	hi := 0.0
	for _, v := range values {
		if !math.IsNaN(v) {
			hi = math.Max(hi, v)
		}
	}
	if hi <= 0 {
		hi = 1
	}
	barW := max(1, width-labelW-16)
	var lines []string
	for i, l := range labels {
		v := values[i]
		n := 0
		if !math.IsNaN(v) && v > 0 {
			n = int(math.Round(v / hi * float64(barW)))
		}
		bar := strings.Repeat("█", n)
		if st.Plain {
			bar = strings.Repeat("#", n)
		}
		line := fmt.Sprintf("%-*.*s ", labelW, labelW, l) + st.BarFull.Render(bar) + fmt.Sprintf(" %s", fmtNum(v))
		if i == best {
			line += st.Good.Render(" ◀ best")
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// progressBar draws a bar width cells wide for fraction f of 1.
func progressBar(st Styles, f float64, width int) string {
	if width < 1 {
		return ""
	}
	f = math.Max(0, math.Min(1, f))
	n := int(math.Round(f * float64(width)))
	full, empty := "█", "░"
	if st.Plain {
		full, empty = "#", "-"
	}
	return st.BarFull.Render(strings.Repeat(full, n)) + st.BarEmpty.Render(strings.Repeat(empty, width-n))
}
