package compute

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// LinearModel maps features to responses: ŷ = x·Coef + Intercept.
type LinearModel struct {
	Coef      *mat.Dense // features x neurons
	Intercept []float64  // one per neuron
	// Alpha is each neuron's ridge penalty; nil for least squares.
	Alpha []float64
}

// Predict returns the predicted responses of the rows of x (images x neurons).
func (m *LinearModel) Predict(x mat.Matrix) (*mat.Dense, error) {
	r, c := x.Dims()
	p, t := m.Coef.Dims()
	if c != p {
		return nil, fmt.Errorf("compute: model has %d features, data has %d", p, c)
	}
	if r == 0 {
		return &mat.Dense{}, nil
	}
	out := mat.NewDense(r, t, nil)
	out.Mul(x, m.Coef)
	out.Apply(func(_, j int, v float64) float64 { return v + m.Intercept[j] }, out)
	return out, nil
}

// centred returns x minus its column means, and the means.
func centred(x mat.Matrix) (*mat.Dense, []float64) {
	r, c := x.Dims()
	mu := make([]float64, c)
	xc := mat.DenseCopyOf(x)
	for j := range c {
		var s float64
		for i := range r {
			s += xc.At(i, j)
		}
		mu[j] = s / float64(r)
	}
	xc.Apply(func(_, j int, v float64) float64 { return v - mu[j] }, xc)
	return xc, mu
}

func checkXY(x, y mat.Matrix) error {
	n, p := x.Dims()
	ny, t := y.Dims()
	if n != ny {
		return fmt.Errorf("compute: %d rows of features but %d rows of responses", n, ny)
	}
	if n < 2 || p < 1 || t < 1 {
		return fmt.Errorf("compute: need at least 2 images, 1 feature and 1 neuron, found %d, %d, %d", n, p, t)
	}
	if i, j, bad := firstNonFinite(x); bad {
		return fmt.Errorf("compute: feature %d of image %d is %v, want a finite number", j, i, x.At(i, j))
	}
	if i, j, bad := firstNonFinite(y); bad {
		return fmt.Errorf("compute: response of neuron %d to image %d is %v, want a finite number", j, i, y.At(i, j))
	}
	return nil
}

// intercept is ȳ - x̄·W.
func intercept(xmean, ymean []float64, w *mat.Dense) []float64 {
	_, t := w.Dims()
	b := make([]float64, t)
	for j := range t {
		s := ymean[j]
		for i, m := range xmean {
			s -= m * w.At(i, j)
		}
		b[j] = s
	}
	return b
}

// LeastSquares fits ordinary least squares with an intercept, as
// scikit-learn's LinearRegression: on centred data, through the SVD, giving
// the minimum-norm solution when the features are rank deficient (more
// features than images, or collinear ones).
//
// Singular values at or below max(n, p) x machine epsilon x the largest are
// treated as zero (numpy.linalg.lstsq's default). scikit-learn's cut-off
// (scipy's gelsd with cond = epsilon) is max(n, p) times tighter, and keeps
// the rounding-level singular value that centring leaves when features
// outnumber images; its predictions then carry noise of order 1e-2 in that
// case, which this solution does not.
func LeastSquares(x, y mat.Matrix) (*LinearModel, error) {
	if err := checkXY(x, y); err != nil {
		return nil, err
	}
	n, p := x.Dims()
	xc, xmean := centred(x)
	yc, ymean := centred(y)
	s, u, vt, err := thinSVD(xc.RawMatrix().Data, n, p)
	if err != nil {
		return nil, fmt.Errorf("compute: least squares: %w", err)
	}
	r := len(s)
	U := mat.NewDense(n, r, u)
	Vt := mat.NewDense(r, p, vt)
	var q mat.Dense // Uᵀ y scaled by 1/s
	q.Mul(U.T(), yc)
	cut := float64(max(n, p)) * 0x1p-52 * s[0]
	q.Apply(func(i, _ int, v float64) float64 {
		if s[i] <= cut {
			return 0
		}
		return v / s[i]
	}, &q)
	w := mat.NewDense(p, yc.RawMatrix().Cols, nil)
	w.Mul(Vt.T(), &q)
	return &LinearModel{Coef: w, Intercept: intercept(xmean, ymean, w)}, nil
}

// Ridge fits ridge regression with an intercept, as scikit-learn's Ridge:
// minimises ||y - Xw - b||² + alpha ||w||² per neuron, the intercept b
// unpenalised.
func Ridge(x, y mat.Matrix, alpha float64) (*LinearModel, error) {
	if !(alpha >= 0) || math.IsInf(alpha, 0) {
		return nil, fmt.Errorf("compute: ridge: alpha %v, want a finite number >= 0", alpha)
	}
	if err := checkXY(x, y); err != nil {
		return nil, err
	}
	_, t := y.Dims()
	path, err := newRidgePath(x, y)
	if err != nil {
		return nil, err
	}
	alphas := make([]float64, t)
	for j := range alphas {
		alphas[j] = alpha
	}
	return path.model(alphas), nil
}

// ridgePath holds one decomposition of the centred design from which the
// ridge solution for any alpha is a diagonal rescale:
// W(α) = Basis diag(1/(λ+α)) Q.
//
// With p <= n features it is the eigendecomposition XᵀX = V Λ Vᵀ, Basis = V
// and Q = Vᵀ Xᵀ y; with more features than images it is the dual one,
// X Xᵀ = U Λ Uᵀ, Basis = Xᵀ U and Q = Uᵀ y. Directions with eigenvalue at or
// below max(n, p) x epsilon x the largest are exactly X's null space, where
// the solution has no component, so they get weight 0 (which also makes
// alpha = 0 the minimum-norm least-squares solution).
type ridgePath struct {
	xmean, ymean []float64
	lam          []float64
	basis        *mat.Dense // p x r
	q            *mat.Dense // r x t
	cut          float64
}

func newRidgePath(x, y mat.Matrix) (*ridgePath, error) {
	n, p := x.Dims()
	xc, xmean := centred(x)
	yc, ymean := centred(y)
	rp := &ridgePath{xmean: xmean, ymean: ymean}
	var g mat.Dense
	if p <= n {
		g.Mul(xc.T(), xc)
	} else {
		g.Mul(xc, xc.T())
	}
	r, _ := g.Dims()
	lam, vec, err := symEigTop(g.RawMatrix().Data, r, r)
	if err != nil {
		return nil, fmt.Errorf("compute: ridge: %w", err)
	}
	E := mat.NewDense(r, r, vec)
	rp.lam = lam
	rp.cut = float64(max(n, p)) * 0x1p-52 * math.Max(lam[0], 0)
	rp.q = &mat.Dense{}
	if p <= n {
		rp.basis = E
		var xy mat.Dense
		xy.Mul(xc.T(), yc)
		rp.q.Mul(E.T(), &xy)
	} else {
		rp.basis = &mat.Dense{}
		rp.basis.Mul(xc.T(), E)
		rp.q.Mul(E.T(), yc)
	}
	return rp, nil
}

// shrink is 1/(λ+α), or 0 in the null space.
func (rp *ridgePath) shrink(i int, alpha float64) float64 {
	if rp.lam[i] <= rp.cut {
		return 0
	}
	return 1 / (rp.lam[i] + alpha)
}

// model builds the fitted model for per-neuron alphas.
func (rp *ridgePath) model(alphas []float64) *LinearModel {
	r, t := rp.q.Dims()
	var scaled mat.Dense
	scaled.Apply(func(i, j int, v float64) float64 { return v * rp.shrink(i, alphas[j]) }, rp.q)
	p, _ := rp.basis.Dims()
	w := mat.NewDense(p, t, nil)
	if r > 0 {
		w.Mul(rp.basis, &scaled)
	}
	return &LinearModel{Coef: w, Intercept: intercept(rp.xmean, rp.ymean, w), Alpha: append([]float64(nil), alphas...)}
}

// heldOut prepares predictions on other rows: P = (x - x̄) Basis, so that
// the prediction for alpha is P diag(shrink) Q + ȳ.
func (rp *ridgePath) heldOut(x mat.Matrix) *mat.Dense {
	xc := mat.DenseCopyOf(x)
	xc.Apply(func(_, j int, v float64) float64 { return v - rp.xmean[j] }, xc)
	var P mat.Dense
	P.Mul(xc, rp.basis)
	return &P
}

// predictInto writes P diag(shrink(α)) Q + ȳ into dst, using scratch of P's shape.
func (rp *ridgePath) predictInto(dst, scratch, P *mat.Dense, alpha float64) {
	scratch.Apply(func(_, i int, v float64) float64 { return v * rp.shrink(i, alpha) }, P)
	dst.Mul(scratch, rp.q)
	dst.Apply(func(_, j int, v float64) float64 { return v + rp.ymean[j] }, dst)
}

var errNoAlphas = errors.New("compute: ridge CV: no alphas to try")

// scale is trace(XcᵀXc)/p, the mean eigenvalue of the centred design's XᵀX
// (the eigenvalues of XcXcᵀ have the same sum).
func (rp *ridgePath) scale() float64 {
	var s float64
	for _, l := range rp.lam {
		s += l
	}
	return s / float64(len(rp.xmean))
}
