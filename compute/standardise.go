package compute

import (
	"fmt"
	"math"
)

// Standardiser centres and scales each feature column with statistics of the
// training rows, as scikit-learn's StandardScaler: Scale is the population
// standard deviation, and 1 for columns that are constant up to rounding
// (the same test scikit-learn applies), so constant columns become zero.
type Standardiser struct {
	Mean, Scale []float64
}

// standardisePanelCols is how many columns are read at once when fitting.
const standardisePanelCols = 4096

// FitStandardiser computes column means and scales of m, reading column panels
// so each column's statistics are exact two-pass ones in float64.
func FitStandardiser(m Matrix32) (*Standardiser, error) {
	n, d := m.Rows(), m.Cols()
	if n == 0 || d == 0 {
		return nil, fmt.Errorf("compute: standardiser: no data (%d rows, %d columns)", n, d)
	}
	s := &Standardiser{Mean: make([]float64, d), Scale: make([]float64, d)}
	sum := make([]float64, standardisePanelCols)
	err := EachPanel(m, standardisePanelCols, func(c0, w int, p []float32) error {
		sum := sum[:w]
		clear(sum)
		for i := range n {
			row := p[i*w : (i+1)*w]
			for c, v := range row {
				sum[c] += float64(v)
			}
		}
		for c := range w {
			s.Mean[c0+c] = sum[c] / float64(n)
		}
		clear(sum)
		mu := s.Mean[c0 : c0+w]
		for i := range n {
			row := p[i*w : (i+1)*w]
			for c, v := range row {
				dv := float64(v) - mu[c]
				sum[c] += dv * dv
			}
		}
		for c := range w {
			col := c0 + c
			mean, v := s.Mean[col], sum[c]/float64(n)
			if math.IsNaN(v) || math.IsInf(v, 0) || math.IsInf(mean, 0) {
				return fmt.Errorf("compute: standardiser: feature column %d has NaN or Inf values", col)
			}
			// scikit-learn's _is_constant_feature bound on the two-pass error.
			eps := 0x1p-52
			bound := float64(n)*eps*v + math.Pow(float64(n)*mean*eps, 2)
			if v <= bound {
				s.Scale[col] = 1
			} else {
				s.Scale[col] = math.Sqrt(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Apply standardises a row-major block of whole rows in place, starting at
// column firstCol (0 for full rows) and spanning cols columns per row.
func (s *Standardiser) Apply(block []float32, firstCol, cols int) {
	if cols <= 0 {
		return
	}
	mu := s.Mean[firstCol : firstCol+cols]
	sc := s.Scale[firstCol : firstCol+cols]
	for i := 0; i+cols <= len(block); i += cols {
		row := block[i : i+cols]
		for c, v := range row {
			row[c] = float32((float64(v) - mu[c]) / sc[c])
		}
	}
}

// Wrap returns m standardised on the fly; m must have as many columns as the
// standardiser was fitted on.
func (s *Standardiser) Wrap(m Matrix32) (Matrix32, error) {
	if m.Cols() != len(s.Mean) {
		return nil, fmt.Errorf("compute: standardiser fitted on %d columns, data has %d", len(s.Mean), m.Cols())
	}
	return standardised{m: m, s: s}, nil
}

type standardised struct {
	m Matrix32
	s *Standardiser
}

func (t standardised) Rows() int { return t.m.Rows() }
func (t standardised) Cols() int { return t.m.Cols() }

func (t standardised) Each(fn func(firstRow int, block []float32) error) error {
	var buf []float32
	return t.m.Each(func(r0 int, block []float32) error {
		// The source's blocks may be views of its data: copy before scaling.
		buf = append(buf[:0], block...)
		t.s.Apply(buf, 0, t.m.Cols())
		return fn(r0, buf)
	})
}

func (t standardised) ReadCols(c0, w int, dst []float32) error {
	if err := t.m.ReadCols(c0, w, dst); err != nil {
		return err
	}
	t.s.Apply(dst, c0, w)
	return nil
}
