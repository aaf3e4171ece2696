package compute

import (
	"errors"
	"fmt"
)

// RowBlocks is a float32 matrix read as consecutive blocks of whole rows, the
// way features come out of an extractor: a batch of images at a time.
type RowBlocks interface {
	Rows() int
	Cols() int
	// Each calls fn with consecutive row blocks, top to bottom. block holds
	// len(block)/Cols() rows, row-major; fn must not keep it after returning.
	Each(fn func(firstRow int, block []float32) error) error
}

// Matrix32 is a float32 matrix whose columns can be read in ranges. The PCA
// and the standardiser read column panels: every row of a few thousand
// columns at once is what lets them form the rows-by-rows Gram matrix and
// exact column statistics in one pass without ever holding the whole matrix.
type Matrix32 interface {
	RowBlocks
	// ReadCols copies columns [firstCol, firstCol+cols) of every row into
	// dst, which holds Rows() x cols values, row-major.
	ReadCols(firstCol, cols int, dst []float32) error
}

// EachPanel calls fn with consecutive column panels of m of at most maxCols
// columns, left to right; panel holds Rows() x cols values, row-major, in a
// scratch buffer that fn may modify but must not keep.
func EachPanel(m Matrix32, maxCols int, fn func(firstCol, cols int, panel []float32) error) error {
	if maxCols <= 0 {
		return errors.New("compute: panel width must be positive")
	}
	r, c := m.Rows(), m.Cols()
	buf := make([]float32, r*min(maxCols, c))
	for c0 := 0; c0 < c; c0 += maxCols {
		w := min(maxCols, c-c0)
		p := buf[:r*w]
		if err := m.ReadCols(c0, w, p); err != nil {
			return err
		}
		if err := fn(c0, w, p); err != nil {
			return err
		}
	}
	return nil
}

func checkColRange(m Matrix32, c0, w int, dst []float32) error {
	if c0 < 0 || w < 0 || c0+w > m.Cols() {
		return fmt.Errorf("compute: columns [%d,%d) outside [0,%d)", c0, c0+w, m.Cols())
	}
	if len(dst) != m.Rows()*w {
		return fmt.Errorf("compute: column buffer has %d values, want %d rows x %d columns", len(dst), m.Rows(), w)
	}
	return nil
}

// Dense32 is an in-memory row-major float32 matrix.
type Dense32 struct {
	R, C int
	Data []float32 // R*C values, row-major
	// BlockRows is how many rows Each hands over at a time; 0 means 256.
	BlockRows int
}

// NewDense32 wraps data (rows*cols values, row-major) without copying.
func NewDense32(rows, cols int, data []float32) (*Dense32, error) {
	if rows < 0 || cols < 0 {
		return nil, fmt.Errorf("compute: matrix shape (%d,%d) is negative", rows, cols)
	}
	if len(data) != rows*cols {
		return nil, fmt.Errorf("compute: matrix (%d,%d) needs %d values, found %d", rows, cols, rows*cols, len(data))
	}
	return &Dense32{R: rows, C: cols, Data: data}, nil
}

// Rows is the number of rows.
func (m *Dense32) Rows() int { return m.R }

// Cols is the number of columns.
func (m *Dense32) Cols() int { return m.C }

// Each hands over views of the backing data; fn must not modify them.
func (m *Dense32) Each(fn func(firstRow int, block []float32) error) error {
	step := m.BlockRows
	if step <= 0 {
		step = 256
	}
	for r := 0; r < m.R; r += step {
		end := min(r+step, m.R)
		if err := fn(r, m.Data[r*m.C:end*m.C]); err != nil {
			return err
		}
	}
	return nil
}

// ReadCols copies a column range of every row.
func (m *Dense32) ReadCols(c0, w int, dst []float32) error {
	if err := checkColRange(m, c0, w, dst); err != nil {
		return err
	}
	for i := 0; i < m.R; i++ {
		copy(dst[i*w:(i+1)*w], m.Data[i*m.C+c0:i*m.C+c0+w])
	}
	return nil
}

// RowSubset is the view of some rows of a Matrix32, in the order given; the
// folds of a cross-validation and the train rows of a dataset are subsets.
type RowSubset struct {
	M       Matrix32
	Indices []int
}

// Rows is the number of selected rows.
func (s RowSubset) Rows() int { return len(s.Indices) }

// Cols is the number of columns.
func (s RowSubset) Cols() int { return s.M.Cols() }

// Each hands over the selected rows in blocks of up to 256.
func (s RowSubset) Each(fn func(firstRow int, block []float32) error) error {
	const step = 256
	c := s.M.Cols()
	// Read in column panels of the parent (bounded memory for wide rows),
	// then hand over whole rows: a block of 256 wide rows fits in memory.
	buf := make([]float32, min(step, len(s.Indices))*c)
	for r := 0; r < len(s.Indices); r += step {
		end := min(r+step, len(s.Indices))
		sub := RowSubset{M: s.M, Indices: s.Indices[r:end]}
		blk := buf[:(end-r)*c]
		if err := sub.ReadCols(0, c, blk); err != nil {
			return err
		}
		if err := fn(r, blk); err != nil {
			return err
		}
	}
	return nil
}

// ReadCols reads the parent's columns and keeps the selected rows.
func (s RowSubset) ReadCols(c0, w int, dst []float32) error {
	if err := checkColRange(s, c0, w, dst); err != nil {
		return err
	}
	n := s.M.Rows()
	for _, i := range s.Indices {
		if i < 0 || i >= n {
			return fmt.Errorf("compute: row subset: index %d outside [0,%d)", i, n)
		}
	}
	if r, ok := s.M.(rowReader); ok {
		for k, i := range s.Indices {
			if err := r.ReadRowCols(i, c0, dst[k*w:(k+1)*w]); err != nil {
				return err
			}
		}
		return nil
	}
	full := make([]float32, n*w)
	if err := s.M.ReadCols(c0, w, full); err != nil {
		return err
	}
	for k, i := range s.Indices {
		copy(dst[k*w:(k+1)*w], full[i*w:(i+1)*w])
	}
	return nil
}

// rowReader is implemented by matrices that read part of one row cheaply
// (Dense32, and npy.File on disk).
type rowReader interface {
	// ReadRowCols copies columns [c0, c0+len(dst)) of row i into dst.
	ReadRowCols(i, c0 int, dst []float32) error
}

// ReadRowCols copies columns [c0, c0+len(dst)) of row i into dst.
func (m *Dense32) ReadRowCols(i, c0 int, dst []float32) error {
	if i < 0 || i >= m.R || c0 < 0 || c0+len(dst) > m.C {
		return fmt.Errorf("compute: row %d, columns [%d,%d) outside (%d,%d)", i, c0, c0+len(dst), m.R, m.C)
	}
	copy(dst, m.Data[i*m.C+c0:])
	return nil
}

// ToDense32 reads a whole RowBlocks into memory.
func ToDense32(m RowBlocks) (*Dense32, error) {
	r, c := m.Rows(), m.Cols()
	out := &Dense32{R: r, C: c, Data: make([]float32, r*c)}
	seen := 0
	err := m.Each(func(first int, block []float32) error {
		if c == 0 || len(block)%c != 0 || first*c+len(block) > len(out.Data) {
			return fmt.Errorf("compute: row block at row %d has %d values, not whole rows of %d within %d rows", first, len(block), c, r)
		}
		copy(out.Data[first*c:], block)
		seen += len(block) / c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen != r {
		return nil, fmt.Errorf("compute: row blocks covered %d rows, want %d", seen, r)
	}
	return out, nil
}
