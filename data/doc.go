// Package data reads datasets: stimuli (images), the neural responses to them,
// optional trial repeats and object labels, and the train/val/test splits.
//
// Loaders: the embedded demo (macaque V4, Cowley et al. 2023), NX-414
// IT_data.h5 files (through Debian's libhdf5 with cgo), and a folder of the
// user's own images and responses. data imports neither compute, model nor ui.
package data
