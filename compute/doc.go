// Package compute holds itscope's numerics: per-neuron metrics and noise
// ceilings, PCA that never forms a features-by-features matrix, least squares
// and ridge read-outs with cross-validated regularisation.
//
// A read-out runs in four steps, each checked against scikit-learn by the
// fixtures in testdata/compute:
//
//   - Features are float32 matrices (Matrix32): in memory (Dense32), on disk
//     (npy.File of itscope/data/npy, written in row blocks by npy.Create),
//     or a subset of rows of either (RowSubset). Wide features are read in
//     column panels, so memory stays bounded by a few panels and the
//     images-by-images Gram matrix.
//   - FitStandardiser (StandardScaler) on the training rows; Wrap standardises
//     any rows on the fly.
//   - FitPCA on the training rows, projecting the validation rows in the same
//     pass (PCAOptions.Project), or materialising components for Transform.
//   - LeastSquares (LinearRegression), Ridge, or RidgeCV over an alpha grid by
//     k-fold CV (KFold, StratifiedKFold or explicit folds); then Score per
//     neuron (EV, r, MSE, R2 with mean and median; at least 3 images; a
//     neuron with constant responses scores NaN and is left out of the
//     summaries, see docs/scores.md) and, with repeats, NoiseCeiling and
//     Scores.WithCeiling.
//
// Around a read-out (docs/scores.md): BootstrapScores and BootstrapPaired
// give percentile intervals of a run's mean EV and r and of the difference
// between two runs, resampling images with explicit BootstrapIndices;
// BestLayerPerNeuron picks each neuron's layer by its training CV score
// (RidgeCVResult.ChosenNeuronCVScore); BrainScore runs Brain-Score's
// protocol (PLS regression as scikit-learn's PLSRegression,
// StratifiedShuffleSplits, BrainScoreCeiling).
//
// Small matrices (PCA scores, responses, coefficients) are float64 gonum
// mat.Dense.
//
// Sub-packages hold the deep-network numerics: nn (tensor layers with forward
// and backward passes, losses, optimisers) and onnx (the ONNX graph runner,
// float and int8). compute imports neither model nor ui.
//
// With cgo, UseOpenBLAS makes OpenBLAS serve gonum's BLAS (blas_cgo.go);
// main calls it at start-up, and tests that want its speed call it from
// their TestMain. Importing compute changes nothing. Eigen and singular value
// decompositions call OpenBLAS's LAPACK (lapack_cgo.go); without cgo the
// pure-Go gonum routines serve, slower but the same results. BoundHeap
// (heap.go), also called by main, keeps the Go heap near its live data.
package compute
