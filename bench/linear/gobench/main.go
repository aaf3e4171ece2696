package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"

	"itscope/compute"
	"itscope/data/npy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gobench DIR")
		os.Exit(2)
	}
	blas := compute.UseOpenBLAS()
	compute.BoundHeap() // as main does
	if err := run(os.Args[1], blas); err != nil {
		fmt.Fprintln(os.Stderr, "gobench:", err)
		os.Exit(1)
	}
}

func readResponses(path string) (*mat.Dense, error) {
	f, err := npy.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := compute.ToDense32(f)
	if err != nil {
		return nil, err
	}
	return compute.DenseFrom32(d.R, d.C, d.Data)
}

func saveNpy(path string, v []float64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := npyio.Write(f, v); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func run(dir, blasName string) error {
	t0 := time.Now()
	xtr, err := npy.Open(dir + "/x_train.npy")
	if err != nil {
		return err
	}
	defer xtr.Close()
	xva, err := npy.Open(dir + "/x_val.npy")
	if err != nil {
		return err
	}
	defer xva.Close()
	ytr, err := readResponses(dir + "/y_train.npy")
	if err != nil {
		return err
	}
	yva, err := readResponses(dir + "/y_val.npy")
	if err != nil {
		return err
	}
	folds64, err := npy.ReadFile[float64](dir + "/folds.npy")
	if err != nil {
		return err
	}
	folds := make([]int, len(folds64.Data))
	for i, f := range folds64.Data {
		folds[i] = int(f)
	}
	t1 := time.Now()
	pca, err := compute.FitPCA(xtr, 1000, compute.PCAOptions{Project: []compute.Matrix32{xva}})
	if err != nil {
		return err
	}
	t2 := time.Now()
	cv, err := compute.RidgeCV(pca.TrainScores, ytr, compute.RidgeCVOptions{FoldOf: folds})
	if err != nil {
		return err
	}
	pred, err := cv.Model.Predict(pca.Projected[0])
	if err != nil {
		return err
	}
	t3 := time.Now()
	s, err := compute.Score(yva, pred)
	if err != nil {
		return err
	}
	// Saved for run.sh to compare with scikit-learn's.
	if err := saveNpy(dir+"/go_explained_variance.npy", pca.ExplainedVariance); err != nil {
		return err
	}
	if err := saveNpy(dir+"/go_ev.npy", s.EV); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"side": "itscope (" + blasName + ")", "load_s": t1.Sub(t0).Seconds(),
		"pca_s": t2.Sub(t1).Seconds(), "ridgecv_s": t3.Sub(t2).Seconds(), "total_s": t3.Sub(t0).Seconds(),
		"alpha": cv.Alpha, "ev_mean": s.EVMean, "r_mean": s.RMean,
		"explained_variance_first":  pca.ExplainedVariance[:3],
		"explained_variance_1000th": pca.ExplainedVariance[len(pca.ExplainedVariance)-1],
		"components":                pca.NComponents,
	})
}
