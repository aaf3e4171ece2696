package compute

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// scikit-learn's PLSRegression defaults for the NIPALS power iteration.
const (
	plsMaxIter = 500
	plsTol     = 1e-6
)

func checkPLSShape(n, p, components int) error {
	if n < 2 || p < 1 {
		return fmt.Errorf("compute: PLS needs at least 2 images and 1 feature, found %d x %d", n, p)
	}
	if components < 1 || components > p {
		return fmt.Errorf("compute: PLS: %d components, want between 1 and the number of features (%d)", components, p)
	}
	return nil
}

// plsPanelCols reads about 32 MB of rows at a time.
func plsPanelCols(n, p int) int {
	return min(p, max(64, (32<<20)/(4*n)/64*64))
}

// plsGram is the Gram matrix Xc Xcᵀ (images x images, float64) of the
// features centred on their column means, and those means, in one pass over
// column panels.
func plsGram(x Matrix32) (*mat.Dense, []float64, error) {
	n, p := x.Rows(), x.Cols()
	acc := newGramAccumulator(n, nil, 64)
	mean := make([]float64, p)
	err := EachPanel(x, plsPanelCols(n, p), func(c0, w int, panel []float32) error {
		mu := mean[c0 : c0+w]
		if err := columnMeans(panel, n, w, mu); err != nil {
			return fmt.Errorf("compute: PLS: features %d..%d: %w", c0, c0+w-1, err)
		}
		centre(panel, w, mu)
		acc.add(panel, w, nil)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	acc.finish()
	return mat.NewDense(n, n, acc.gram), mean, nil
}

// plsFit is a PLS regression in dual form: with Xc the centred training
// features, the coefficients are Xcᵀ dual, so the prediction for centred
// rows Z is (Z Xcᵀ) dual + ȳ.
type plsFit struct {
	dual       *mat.Dense // training images x neurons
	components int
}

// plsDual runs scikit-learn's NIPALS PLS regression (mode A, regression
// deflation, unscaled) on the centred training Gram matrix K = Xc Xcᵀ and
// centred responses yc. Every X-side vector is kept as a combination of the
// rows of the current deflated X: a weight vector w = Xkᵀ a, scores
// t = Xk w = Kk a, and deflating X by t (Xk+1 = (I - t tᵀ/tᵀt) Xk) is
// Kk+1 = (I - t tᵀ/tᵀt) Kk (I - t tᵀ/tᵀt). Mapped back through the
// deflations, W = Xcᵀ A and the X loadings P = Xcᵀ B, so scikit-learn's
// rotations W (PᵀW)⁺ are Xcᵀ A (Bᵀ K A)⁺.
func plsDual(K, yc *mat.Dense, components int) (*plsFit, error) {
	n, t := yc.Dims()
	const eps = 0x1p-52
	Kk := mat.DenseCopyOf(K)
	Yk := mat.DenseCopyOf(yc)
	var ts [][]float64 // X scores of the fitted components
	var tts []float64  // their squared norms
	A := mat.NewDense(n, components, nil)
	B := mat.NewDense(n, components, nil)
	Q := mat.NewDense(t, components, nil) // Y loadings
	fit := &plsFit{}
	for k := range components {
		// Responses whose residual is all below 10 eps become exact zeros.
		for j := range t {
			small := true
			for i := range n {
				small = small && math.Abs(Yk.At(i, j)) < 10*eps
			}
			if small {
				for i := range n {
					Yk.Set(i, j, 0)
				}
			}
		}
		start := -1
		for j := 0; j < t && start < 0; j++ {
			for i := range n {
				if math.Abs(Yk.At(i, j)) > eps {
					start = j
					break
				}
			}
		}
		if start < 0 {
			break // Y residual is constant
		}
		// The iteration's y score u stays in the span of Yk's columns:
		// u = Yk v. With KY = Kk Yk, M = Ykᵀ Kk Yk, G = Ykᵀ Yk and
		// S = KYᵀ KY every step is a neurons-sized product, and the
		// images-sized vectors are formed once, after convergence.
		var KY, M, G, S mat.Dense
		KY.Mul(Kk, Yk)
		M.Mul(Yk.T(), &KY)
		G.Mul(Yk.T(), Yk)
		S.Mul(KY.T(), &KY)
		v := mat.NewVecDense(t, nil)
		v.SetVec(start, 1)
		av := mat.NewVecDense(t, nil) // a = Yk av: x_weights = Xkᵀ a
		var avOld *mat.VecDense
		var gv, mv, sv mat.VecDense
		iter := 0
		for iter < plsMaxIter {
			iter++
			// x_weights = Xkᵀu / uᵀu, normalised (+eps): a = alpha u.
			gv.MulVec(&G, v)
			mv.MulVec(&M, v)
			uu := mat.Dot(v, &gv)
			alpha := (1 / uu) / (math.Sqrt(math.Max(mat.Dot(v, &mv), 0))/uu + eps)
			av.ScaleVec(alpha, v)
			// x_score = Xk x_weights = KY av; y_weights = Ykᵀ x_score /
			// x_scoreᵀx_score = alpha M v / tt; y_score = Yk y_weights /
			// (y_weightsᵀy_weights + eps).
			sv.MulVec(&S, v)
			tt := alpha * alpha * mat.Dot(v, &sv)
			v.ScaleVec(alpha/tt, &mv)
			v.ScaleVec(1/(mat.Dot(v, v)+eps), v)
			if t == 1 {
				break
			}
			if avOld != nil {
				// |Δ x_weights|² = Δaᵀ Kk Δa = Δavᵀ M Δav.
				var d, md mat.VecDense
				d.SubVec(av, avOld)
				md.MulVec(&M, &d)
				if mat.Dot(&d, &md) < plsTol {
					break
				}
			} else {
				avOld = mat.NewVecDense(t, nil)
			}
			avOld.CopyVec(av)
		}
		a := mat.NewVecDense(n, nil)
		a.MulVec(Yk, av)
		score := mat.NewVecDense(n, nil)
		score.MulVec(&KY, av)
		tt := mat.Dot(score, score)
		// y_loadings = Ykᵀ score / tt; Yk -= score qᵀ.
		q := Q.ColView(k).(*mat.VecDense)
		q.MulVec(Yk.T(), score)
		q.ScaleVec(1/tt, q)
		Yk.RankOne(Yk, -1, score, q)
		// Kk = P Kk P with P = I - score scoreᵀ / tt.
		var kt mat.VecDense
		kt.MulVec(Kk, score)
		s := mat.Dot(score, &kt) / (tt * tt)
		Kk.RankOne(Kk, -1/tt, score, &kt)
		Kk.RankOne(Kk, -1/tt, &kt, score)
		Kk.RankOne(Kk, s, score, score)
		// Map a and the loading combination score/tt back to Xc's rows:
		// Xk = P_{k-1}...P_0 Xc, so Xkᵀv = Xcᵀ P_0...P_{k-1} v.
		b := mat.VecDenseCopyOf(score)
		b.ScaleVec(1/tt, b)
		for m := len(ts) - 1; m >= 0; m-- {
			tm := mat.NewVecDense(n, ts[m])
			a.AddScaledVec(a, -mat.Dot(tm, a)/tts[m], tm)
			b.AddScaledVec(b, -mat.Dot(tm, b)/tts[m], tm)
		}
		A.ColView(k).(*mat.VecDense).CopyVec(a)
		B.ColView(k).(*mat.VecDense).CopyVec(b)
		ts = append(ts, append([]float64(nil), score.RawVector().Data...))
		tts = append(tts, tt)
	}
	m := len(ts)
	fit.components = m
	if m == 0 {
		fit.dual = mat.NewDense(n, t, nil) // every prediction is ȳ
		return fit, nil
	}
	Am := A.Slice(0, n, 0, m)
	var kb, pw mat.Dense
	kb.Mul(K, Am)
	pw.Mul(B.Slice(0, n, 0, m).T(), &kb) // PᵀW
	pinv, err := pseudoInverse(&pw)
	if err != nil {
		return nil, fmt.Errorf("compute: PLS: %w", err)
	}
	var rot mat.Dense
	rot.Mul(Am, pinv)
	fit.dual = mat.NewDense(n, t, nil)
	fit.dual.Mul(&rot, Q.Slice(0, t, 0, m).T())
	return fit, nil
}

// pseudoInverse is scipy.linalg.pinv: singular values at or below
// max(rows, cols) x epsilon x the largest count as zero.
func pseudoInverse(a *mat.Dense) (*mat.Dense, error) {
	r, c := a.Dims()
	s, u, vt, err := thinSVD(mat.DenseCopyOf(a).RawMatrix().Data, r, c)
	if err != nil {
		return nil, err
	}
	k := len(s)
	cut := float64(max(r, c)) * 0x1p-52 * s[0]
	U := mat.NewDense(r, k, u)
	Vt := mat.NewDense(k, c, vt)
	var us mat.Dense
	us.Apply(func(_, j int, v float64) float64 {
		if s[j] <= cut {
			return 0
		}
		return v / s[j]
	}, U)
	out := mat.NewDense(c, r, nil)
	out.Mul(Vt.T(), us.T())
	return out, nil
}
