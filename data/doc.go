// Package data reads datasets: stimuli (images), the neural responses to them,
// optional trial repeats and object labels, and the train/val/test splits.
//
// Open(spec) takes:
//
//   - "demo" or "demo:201025": embedded macaque V4 (Cowley, Stan, Pillow,
//     Smith, "Compact deep neural network models of visual cortex", bioRxiv
//     2023; GPL-3.0), 89 neurons x 1200 images of 112x112;
//   - "demo:210325": 50 neurons x 640 images with single-trial repeats;
//   - an NX-414 IT_data.h5 (Majaj & Hong 2015; through Debian's libhdf5 with
//     cgo): stimulus_{train,val,test} (N,3,224,224) float32 ImageNet-normalised,
//     spikes_{train,val} (N,neurons), object_{train,val,test} strings; images
//     are numbered train, then val, then test; test has no responses;
//   - a folder: images/ (JPEG/PNG/BMP/GIF, file-name order), responses.npy
//     (images x neurons) or responses.csv (a row per image; a first row with
//     any non-numeric field is a header), optional split.csv (header
//     image,split) and objects.csv (header image,object). CSV files may start
//     with the UTF-8 byte-order mark Excel writes.
//
// Every loader reports bad input as an error naming the file, the key or
// line, what was expected and what was found; none panics (fuzz_test.go
// holds the fuzz targets). Shapes are checked against the bytes a file holds
// before anything is allocated, and images are limited to 64 megapixels
// (8192 x 8192), so a few forged bytes cannot ask for gigabytes.
//
// The demo, and folders without split.csv, use DefaultSplit (90/10 train/val,
// seed 0x17). Images decode as Pillow decodes them (libjpeg-turbo for JPEG),
// and ResizeBilinearAntialias, ImageNetTensor, ClassifyPreprocess and
// NetworkInput reproduce Pillow/torchvision preprocessing.
// data imports neither compute, model nor ui.
package data
