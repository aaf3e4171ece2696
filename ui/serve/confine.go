package serve

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"itscope/data"
)

// confinedOpener returns the dataset opener of remote users: the embedded
// demo always, and with a data root (opened once, at start, as root) names
// under it, opened through root by data.OpenIn. The kernel resolves every
// file of the dataset inside root, so neither ".." nor a symbolic link
// leads out, and there is no window between a check and the open.
// rootPath is the root's absolute path.
func confinedOpener(root *os.Root, rootPath string) func(string) (*data.Dataset, error) {
	return func(spec string) (*data.Dataset, error) {
		name, err := confine(root, rootPath, spec)
		if err != nil {
			return nil, err
		}
		if root == nil { // the demo: OpenIn opens it without a root
			return data.Open(name)
		}
		return data.OpenIn(root, name)
	}
}

// confine maps a dataset spec typed by a remote user to a name inside root.
// An absolute path is accepted when it starts with the root's path, which is
// cut off as a string (nothing is resolved outside the root); any other
// absolute path gets the one message OpenIn gives for a name missing or
// outside the root, so that a user cannot tell which paths exist.
func confine(root *os.Root, rootPath, spec string) (string, error) {
	if spec == "demo" || strings.HasPrefix(spec, "demo:") {
		return spec, nil
	}
	if root == nil {
		return "", fmt.Errorf("dataset %s: this server opens only the embedded demo (it was started without --data-root)", data.Printable(spec))
	}
	if !filepath.IsAbs(spec) {
		return spec, nil
	}
	clean := filepath.Clean(spec)
	if clean == rootPath {
		return ".", nil
	}
	rel, ok := strings.CutPrefix(clean, rootPath+string(filepath.Separator))
	if !ok {
		return "", fmt.Errorf("dataset %s: not found or outside the data root", data.Printable(spec))
	}
	return rel, nil
}
