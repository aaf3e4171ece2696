package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// fmtNum is the one way the explorer prints a number: at most three
// decimals and no trailing zeros (0.1, 0.123, 1000), and powers of ten
// outside [1e-3, 1e4) in exponent form with three significant digits
// (3.16e+04, 1e-04), so that an alpha from a log grid does not print as
// 31622.776601683796. NaN, for a score that does not exist, is a dash.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 0):
		return strings.Replace(fmt.Sprint(v), "Inf", "∞", 1)
	case v == 0:
		return "0"
	case a >= 1e4 || a < 1e-3:
		mant, exp, _ := strings.Cut(strconv.FormatFloat(v, 'e', 2, 64), "e")
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		return mant + "e" + exp
	default:
		s := strconv.FormatFloat(v, 'f', 3, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		if s == "-0" {
			return "0"
		}
		return s
	}
}

// fmtNums prints a list of numbers with fmtNum.
func fmtNums(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmtNum(v)
	}
	return strings.Join(parts, ", ")
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func fmtRate(r float64) string { return fmtNum(r) + "/s" }
