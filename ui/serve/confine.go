package serve

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"itscope/data"
)

// confinedOpener returns a dataset opener that accepts the embedded demo and
// paths under root only. A relative path is taken from root. Paths with a
// ".." element are refused outright, and symbolic links are resolved before
// the check, so neither can lead out of root.
func confinedOpener(root string, open func(string) (*data.Dataset, error)) func(string) (*data.Dataset, error) {
	return func(spec string) (*data.Dataset, error) {
		path, err := confine(root, spec)
		if err != nil {
			return nil, err
		}
		return open(path)
	}
}

// confine maps a dataset spec typed by a remote user to what may be opened.
func confine(root, spec string) (string, error) {
	if spec == "demo" || strings.HasPrefix(spec, "demo:") {
		return spec, nil
	}
	if root == "" {
		return "", fmt.Errorf("dataset %q: this server opens only the embedded demo (it was started without --data-root)", spec)
	}
	if slices.Contains(strings.Split(filepath.ToSlash(spec), "/"), "..") {
		return "", fmt.Errorf("dataset %q: paths with '..' are not allowed on this server", spec)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("data root %s: %w", root, err)
	}
	realRoot, err = filepath.Abs(realRoot)
	if err != nil {
		return "", fmt.Errorf("data root %s: %w", root, err)
	}
	path := spec
	if !filepath.IsAbs(path) {
		path = filepath.Join(realRoot, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("dataset %q: not found under the data root", spec)
	}
	rel, err := filepath.Rel(realRoot, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("dataset %q: outside the data root %s", spec, root)
	}
	return real, nil
}
