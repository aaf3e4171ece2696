// Package figures draws a run's figures as publication-quality PNG or SVG
// with gonum/plot: the study's Figure 1a (mean EV across a sweep's layers),
// 1b (the histogram of EV over neurons) and 1c (predicted against actual
// val responses, the mean over neurons or one neuron), the training curves
// of several runs (loss and val EV against steps) and a comparison of runs'
// mean EV with their bootstrap intervals.
//
// It reads runs (model/runs) and datasets (data) and computes nothing but
// the per-image averages a figure shows: the explorer and `itscope plot`
// both draw through it, so a saved figure is the figure on screen.
package figures
