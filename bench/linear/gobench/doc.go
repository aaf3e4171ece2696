// Command gobench is the Go side of the linear read-out benchmark: PCA(1000)
// then ridge CV over 17 alphas with the folds in DIR/folds.npy, fitted on
// DIR/x_train.npy (streamed from disk in column panels) and scored on
// DIR/x_val.npy. See bench/linear/run.sh.
//
//	go run ./bench/linear/gobench DIR
package main
