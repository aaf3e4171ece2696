package compute

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// PCAOptions tune FitPCA.
type PCAOptions struct {
	// Project lists other rows (validation, test images) to express in the
	// components. Their scores come from their cross-Gram with the centred
	// training rows, accumulated in the same pass, so no features-by-
	// components matrix is needed.
	Project []Matrix32
	// Components asks for the components themselves (k x D, float32), for
	// projecting new data later with Transform. It costs a second pass over
	// the training features and 4*k*D bytes, which must not exceed
	// MaxComponentBytes (0 means 1 GiB).
	Components        bool
	MaxComponentBytes int64
	// PanelCols is how many feature columns are read at a time; 0 picks about
	// 32 MB of rows.
	PanelCols int
	// Precision is 32 or 64: the precision of the per-panel Gram products
	// (across panels the sum is always float64). 0 picks 64 when the Gram
	// costs under 1e10 multiply-adds and 32 otherwise, as scikit-learn
	// computes in the precision of its float32 input.
	Precision int
}

// PCA is principal component analysis fitted on training rows, as
// scikit-learn's PCA: centred on the training means, not whitened, and with
// scikit-learn's sign convention (the largest-magnitude entry of each left
// singular vector is positive).
type PCA struct {
	NComponents int // kept; may be fewer than asked, see Warning
	NTrain, Dim int
	// Mean is the training column mean.
	Mean []float64
	// ExplainedVariance is each component's variance (ddof 1), descending,
	// ExplainedVarianceRatio its share of TotalVariance, the summed variance
	// of all training columns; SingularValues are those of the centred
	// training matrix.
	ExplainedVariance      []float64
	ExplainedVarianceRatio []float64
	SingularValues         []float64
	TotalVariance          float64
	// TrainScores are the training rows in component space (NTrain x k):
	// U S in the SVD of the centred training matrix.
	TrainScores *mat.Dense
	// Projected holds the scores of each PCAOptions.Project matrix, in order.
	Projected []*mat.Dense
	// Components, when asked for, is k x Dim row-major: the principal axes
	// (scikit-learn's components_).
	Components []float32
	// Warning is non-empty when fewer components than asked were kept.
	Warning string
}

// FitPCA fits k principal components to the rows of train without forming a
// Dim x Dim matrix: it reads column panels of the training rows, centres each
// column, accumulates the rows-by-rows Gram matrix X Xᵀ (NTrain x NTrain) and
// the cross-Gram of every Project matrix with the training rows, and takes the
// top k eigenpairs of the Gram matrix (LAPACK dsyevr). With X = U S Vᵀ the
// Gram matrix is U S² Uᵀ: the training scores are U S and the scores of other
// rows Y are (Y - mean) Xᵀ U S⁻¹.
//
// k must be at least 1 and at most min(NTrain, Dim), as in scikit-learn.
// Centring leaves at most NTrain-1 directions with variance, so when k
// reaches past the numerical rank of the centred training matrix (an
// eigenvalue at or below max eigenvalue x 1e-12 in 64-bit, x 1e-6 in 32-bit)
// the zero-variance components are dropped: NComponents says how many were
// kept and Warning says why. Their scores would be zero, so downstream least
// squares and ridge predictions are the same as with them.
func FitPCA(train Matrix32, k int, opt PCAOptions) (*PCA, error) {
	n, d := train.Rows(), train.Cols()
	if n < 2 || d < 1 {
		return nil, fmt.Errorf("compute: PCA needs at least 2 training rows and 1 feature, found %d x %d", n, d)
	}
	if k < 1 || k > min(n, d) {
		return nil, fmt.Errorf("compute: PCA: n_components=%d must be between 1 and min(n_train, features) = min(%d, %d) = %d", k, n, d, min(n, d))
	}
	for s, p := range opt.Project {
		if p.Cols() != d {
			return nil, fmt.Errorf("compute: PCA: rows to project (set %d) have %d features, training rows have %d", s, p.Cols(), d)
		}
	}
	prec := opt.Precision
	if prec == 0 {
		prec = 32
		if float64(n)*float64(n)*float64(d) < 1e10 {
			prec = 64
		}
	}
	if prec != 32 && prec != 64 {
		return nil, fmt.Errorf("compute: PCA: precision %d, want 32 or 64", prec)
	}
	width := opt.PanelCols
	if width <= 0 {
		rows := n
		for _, p := range opt.Project {
			rows += p.Rows()
		}
		width = max(64, (32<<20)/(4*rows)/64*64)
	}
	width = min(width, d)

	acc := newGramAccumulator(n, opt.Project, prec)
	mean := make([]float64, d)
	var trace float64
	bufs := make([][]float32, len(opt.Project))
	err := EachPanel(train, width, func(c0, w int, p []float32) error {
		mu := mean[c0 : c0+w]
		if err := columnMeans(p, n, w, mu); err != nil {
			return fmt.Errorf("compute: PCA: training features: %w", err)
		}
		centre(p, w, mu)
		for _, v := range p {
			trace += float64(v) * float64(v)
		}
		var proj [][]float32
		for s, pm := range opt.Project {
			need := pm.Rows() * w
			if cap(bufs[s]) < need {
				bufs[s] = make([]float32, need)
			}
			b := bufs[s][:need]
			if err := pm.ReadCols(c0, w, b); err != nil {
				return fmt.Errorf("compute: PCA: rows to project (set %d): %w", s, err)
			}
			centre(b, w, mu)
			proj = append(proj, b)
		}
		acc.add(p, w, proj)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if math.IsNaN(trace) || math.IsInf(trace, 0) {
		return nil, errors.New("compute: PCA: training features have NaN or Inf values")
	}

	acc.finish()
	vals, u, err := symEigTop(acc.gram, n, k)
	if err != nil {
		return nil, fmt.Errorf("compute: PCA: %w", err)
	}
	tol := 1e-12
	if prec == 32 {
		tol = 1e-6
	}
	kept := 0
	for kept < k && vals[kept] > vals[0]*tol && vals[kept] > 0 {
		kept++
	}
	pca := &PCA{NComponents: kept, NTrain: n, Dim: d, Mean: mean,
		TotalVariance: trace / float64(n-1)}
	if kept < k {
		pca.Warning = fmt.Sprintf("PCA: kept %d of %d components: the centred training features (%d x %d) have rank %d", kept, k, n, d, kept)
	}
	if kept == 0 {
		return nil, errors.New("compute: PCA: the training features are constant: no component has variance")
	}
	// svd_flip on U, then keep the first kept columns.
	uk := make([]float64, n*kept)
	for j := range kept {
		big, sign := 0.0, 1.0
		for i := range n {
			if v := u[i*k+j]; math.Abs(v) > big {
				big = math.Abs(v)
				sign = math.Copysign(1, v)
			}
		}
		for i := range n {
			uk[i*kept+j] = sign * u[i*k+j]
		}
	}
	s := make([]float64, kept)
	pca.SingularValues = s
	pca.ExplainedVariance = make([]float64, kept)
	pca.ExplainedVarianceRatio = make([]float64, kept)
	for j := range kept {
		s[j] = math.Sqrt(vals[j])
		pca.ExplainedVariance[j] = vals[j] / float64(n-1)
		pca.ExplainedVarianceRatio[j] = pca.ExplainedVariance[j] / pca.TotalVariance
	}
	U := mat.NewDense(n, kept, uk)
	pca.TrainScores = mat.NewDense(n, kept, nil)
	pca.TrainScores.Apply(func(_, j int, v float64) float64 { return v * s[j] }, U)
	for sIdx, cross := range acc.cross {
		m := opt.Project[sIdx].Rows()
		if m == 0 {
			pca.Projected = append(pca.Projected, &mat.Dense{})
			continue
		}
		sc := mat.NewDense(m, kept, nil)
		sc.Mul(mat.NewDense(m, n, cross), U)
		sc.Apply(func(_, j int, v float64) float64 { return v / s[j] }, sc)
		pca.Projected = append(pca.Projected, sc)
	}
	if opt.Components {
		if err := pca.materialise(train, U, width, opt.MaxComponentBytes); err != nil {
			return nil, err
		}
	}
	return pca, nil
}

// materialise computes the principal axes Vᵀ = S⁻¹ Uᵀ X in a second pass.
func (p *PCA) materialise(train Matrix32, U *mat.Dense, width int, budget int64) error {
	if budget <= 0 {
		budget = 1 << 30
	}
	k, n, d := p.NComponents, p.NTrain, p.Dim
	if need := 4 * int64(k) * int64(d); need > budget {
		return fmt.Errorf("compute: PCA: components need %d MB (%d x %d float32), over the %d MB budget; project rows with PCAOptions.Project instead",
			need>>20, k, d, budget>>20)
	}
	// a = S⁻¹ Uᵀ in float32, k x n.
	a := make([]float32, k*n)
	for i := range n {
		for j := range k {
			a[j*n+i] = float32(U.At(i, j) / p.SingularValues[j])
		}
	}
	comp := make([]float32, k*d)
	A := blas32.General{Rows: k, Cols: n, Stride: n, Data: a}
	err := EachPanel(train, width, func(c0, w int, x []float32) error {
		centre(x, w, p.Mean[c0:c0+w])
		B := blas32.General{Rows: n, Cols: w, Stride: w, Data: x}
		C := blas32.General{Rows: k, Cols: w, Stride: d, Data: comp[c0:]}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, A, B, 0, C)
		return nil
	})
	if err != nil {
		return fmt.Errorf("compute: PCA: components: %w", err)
	}
	p.Components = comp
	return nil
}

// Transform expresses new rows in the components; it needs Components (fit
// with PCAOptions.Components).
func (p *PCA) Transform(m Matrix32) (*mat.Dense, error) {
	if p.Components == nil {
		return nil, errors.New("compute: PCA was fitted without components: pass the rows in PCAOptions.Project, or fit with Components")
	}
	if m.Cols() != p.Dim {
		return nil, fmt.Errorf("compute: PCA fitted on %d features, rows have %d", p.Dim, m.Cols())
	}
	r, k, d := m.Rows(), p.NComponents, p.Dim
	if r == 0 {
		return &mat.Dense{}, nil
	}
	width := min(d, max(64, (32<<20)/(4*r)/64*64))
	acc := make([]float32, r*k)
	tmp := make([]float32, r*k)
	out := mat.NewDense(r, k, nil)
	C := blas32.General{Rows: r, Cols: k, Stride: k, Data: tmp}
	err := EachPanel(m, width, func(c0, w int, x []float32) error {
		centre(x, w, p.Mean[c0:c0+w])
		A := blas32.General{Rows: r, Cols: w, Stride: w, Data: x}
		B := blas32.General{Rows: k, Cols: w, Stride: d, Data: p.Components[c0:]}
		blas32.Gemm(blas.NoTrans, blas.Trans, 1, A, B, 0, C)
		for i, v := range tmp {
			acc[i] += v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	raw := out.RawMatrix().Data
	for i, v := range acc {
		raw[i] = float64(v)
	}
	return out, nil
}

func columnMeans(p []float32, n, w int, mu []float64) error {
	clear(mu)
	for i := range n {
		for c, v := range p[i*w : (i+1)*w] {
			mu[c] += float64(v)
		}
	}
	for c := range mu {
		mu[c] /= float64(n)
		if math.IsNaN(mu[c]) || math.IsInf(mu[c], 0) {
			return fmt.Errorf("feature column has NaN or Inf values")
		}
	}
	return nil
}

func centre(p []float32, w int, mu []float64) {
	if w <= 0 {
		return
	}
	for i := 0; i+w <= len(p); i += w {
		row := p[i : i+w]
		for c, v := range row {
			row[c] = float32(float64(v) - mu[c])
		}
	}
}

// gramAccumulator sums X Xᵀ and Yₛ Xᵀ over column panels in float64, with
// each panel's product in the chosen precision.
type gramAccumulator struct {
	n     int
	prec  int
	gram  []float64   // n x n, upper triangle until finish mirrors it
	cross [][]float64 // m_s x n
	g32   []float32
	c32   [][]float32
	x64   []float64
	y64   []float64
}

func newGramAccumulator(n int, project []Matrix32, prec int) *gramAccumulator {
	a := &gramAccumulator{n: n, prec: prec, gram: make([]float64, n*n)}
	for _, p := range project {
		a.cross = append(a.cross, make([]float64, p.Rows()*n))
	}
	if prec == 32 {
		a.g32 = make([]float32, n*n)
		for _, p := range project {
			a.c32 = append(a.c32, make([]float32, p.Rows()*n))
		}
	}
	return a
}

func (a *gramAccumulator) add(x []float32, w int, proj [][]float32) {
	n := a.n
	if a.prec == 32 {
		X := blas32.General{Rows: n, Cols: w, Stride: w, Data: x}
		blas32.Syrk(blas.NoTrans, 1, X, 0, blas32.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: a.g32})
		for i := range n {
			row, src := a.gram[i*n+i:(i+1)*n], a.g32[i*n+i:(i+1)*n]
			for j, v := range src {
				row[j] += float64(v)
			}
		}
		for s, y := range proj {
			m := len(y) / w
			if m == 0 {
				continue
			}
			Y := blas32.General{Rows: m, Cols: w, Stride: w, Data: y}
			blas32.Gemm(blas.NoTrans, blas.Trans, 1, Y, X, 0, blas32.General{Rows: m, Cols: n, Stride: n, Data: a.c32[s]})
			for i, v := range a.c32[s] {
				a.cross[s][i] += float64(v)
			}
		}
		return
	}
	a.x64 = widen(a.x64, x)
	X := blas64.General{Rows: n, Cols: w, Stride: w, Data: a.x64}
	blas64.Syrk(blas.NoTrans, 1, X, 1, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: a.gram})
	for s, y := range proj {
		m := len(y) / w
		if m == 0 {
			continue
		}
		a.y64 = widen(a.y64, y)
		Y := blas64.General{Rows: m, Cols: w, Stride: w, Data: a.y64}
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, Y, X, 1, blas64.General{Rows: m, Cols: n, Stride: n, Data: a.cross[s]})
	}
}

// finish mirrors the upper triangle into the lower.
func (a *gramAccumulator) finish() {
	n := a.n
	for i := range n {
		for j := i + 1; j < n; j++ {
			a.gram[j*n+i] = a.gram[i*n+j]
		}
	}
}

func widen(dst []float64, src []float32) []float64 {
	if cap(dst) < len(src) {
		dst = make([]float64, len(src))
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float64(v)
	}
	return dst
}
