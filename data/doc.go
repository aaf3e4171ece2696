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
//     no numeric field is a header, one mixing numbers and other text is an
//     error), optional split.csv (header image,split) and objects.csv (header
//     image,object). CSV files may start with the UTF-8 byte-order mark Excel
//     writes.
//
// OpenIn(root, spec) opens the same specs confined to an os.Root (a server's
// data root). Every file of a dataset is opened through an os.Root: the
// folder itself for a folder (by Open or OpenIn), so a symbolic link out of
// the folder is refused; the data root for an .h5, which libhdf5 then reads
// as /proc/self/fd/N, the file already opened. HDF5 external links, virtual
// datasets and external raw storage are refused. Only regular files are
// read (a FIFO is refused without blocking). A missing file and one outside
// the root get the same message, and errors quote at most 40 characters of
// a file, escaped. Printable escapes control characters in any string headed
// for a terminal.
//
// Limits: images of at most 64 megapixels (from the header, before
// decoding) and 128 MiB of file; decodes in progress share a 1 GiB memory
// budget whatever the core count; responses and CSV files at most 1 GiB,
// CSV lines at most 1 MiB; HDF5 datasets at most 16 GiB as read and never
// more than 1100 times their stored bytes, which must lie within the file;
// fixed-length HDF5 labels at most 4 KiB each. NX-414 stimuli must be float
// and finite (NaN or Inf is reported with the image and position); val and
// test splits need at least MinEvalImages (3) images. Bytes after a PNG's
// IEND are ignored, as Pillow ignores them. docs/reliability.md lists the
// hostile inputs the tests try.
//
// Every loader reports bad input as an error naming the file, the key or
// line, what was expected and what was found; none panics (fuzz_test.go
// holds the fuzz targets). Shapes are checked against the bytes a file holds
// before anything is allocated, and images are limited to 64 megapixels
// (8192 x 8192), so a few forged bytes cannot ask for gigabytes.
//
// The demo, and folders without split.csv, use DefaultSplit (90/10 train/val,
// at least 3 val images, seed 0x17). Images decode as Pillow decodes them (libjpeg-turbo for JPEG),
// and ResizeBilinearAntialias, ImageNetTensor, ClassifyPreprocess and
// NetworkInput reproduce Pillow/torchvision preprocessing.
// data imports neither compute, model nor ui.
package data
