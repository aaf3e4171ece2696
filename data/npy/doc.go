// Package npy reads and writes NumPy .npy files, the one implementation
// itscope uses for them: user response matrices, the embedded demo data,
// the feature cache, saved predictions and layer dumps.
//
//   - Decode and ReadFile read a whole array of any float or integer dtype
//     (C or Fortran order) into float32 or float64, C order.
//   - Open reads a 2-D float32 matrix from disk in row blocks or column
//     ranges (ReadAt, safe for concurrent use), for features larger than
//     memory.
//   - Create streams a float32 array into a temporary file beside its path
//     and renames it into place on Commit (Abort discards it), so a reader
//     never sees half a file; WriteFile does it for an array in memory and
//     Write encodes one onto any writer.
//   - Matrices is the run store's codec for predictions.npy (model/runs
//     takes it from its caller, so that it imports no itscope package).
//
// Every reader checks the header against the bytes present before it
// allocates: the data must be exactly shape x dtype size bytes (a truncated
// file or junk after the data is an error naming the file and both byte
// counts), and headers longer than 64 KiB are refused. The package imports
// nothing from itscope, so compute and data may both use it.
package npy
