package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"itscope/model/runs"
)

// gridSettings are the Grid pane's field values as saved between sessions:
// the text of each field by key, and the read-out strategy.
type gridSettings struct {
	Readout string            `json:"readout"`
	Fit     map[string]string `json:"fit"`
	Train   map[string]string `json:"train"`
}

// gridSettingsPath is where a user's grid is kept: grid.json in the
// itscope folder of the config dir ($XDG_CONFIG_HOME, else ~/.config), or
// grid-USER.json for a server session's SSH user, so that users of one
// server keep their own grids. "" when no config dir is known.
func gridSettingsPath(configDir, user string) string {
	if configDir == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return ""
		}
		configDir = filepath.Join(d, "itscope")
	}
	name := "grid.json"
	if user != "" {
		name = "grid-" + strings.Map(func(r rune) rune {
			if r < 128 && (r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return r
			}
			return '_'
		}, user) + ".json"
	}
	return filepath.Join(configDir, name)
}

// loadGridSettings reads path; a missing file is no error (the defaults
// stand).
func loadGridSettings(path string) (*gridSettings, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s gridSettings
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: want the grid settings the explorer saves (JSON with readout, fit and train), found: %v", path, err)
	}
	return &s, nil
}

// saveGridSettings writes s to path atomically (a temp file renamed), so
// that two sessions saving at once leave one whole file.
func saveGridSettings(path string, s gridSettings) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return runs.WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	})
}
