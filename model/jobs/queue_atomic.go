package jobs

import (
	"encoding/json"
	"io"

	"itscope/model/runs"
)

// writeJSONAtomic writes v, indented, so that readers see the old file or
// the complete new one, never a torn one (runs.WriteFileAtomic: a synced
// temporary file renamed into place, which is atomic on a local disk and on
// NFS, where the server performs the rename).
func writeJSONAtomic(path string, v any) error {
	return runs.WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
