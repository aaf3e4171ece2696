package runs

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// HparamNames are a run's settings as TensorBoard's hparams table shows
// them, in column order: the read-out's (features, PCA, read-out, alpha,
// its CV grid) and the trained network's (CNN spec, learning rate, weight
// decay, batch, epochs, patience, optimiser), then the seed.
var HparamNames = []string{"features", "pca", "readout", "alpha", "grid", "cnn", "lr", "wd", "batch", "epochs",
	"patience", "optimizer", "seed"}

// Hparams are run m's settings by name (HparamNames), read from run.json's
// spec and summary; a setting the run does not have is "".
func (m RunMeta) Hparams() map[string]string {
	var spec map[string]any
	json.Unmarshal(m.Spec, &spec) // a missing or foreign spec leaves the summary's settings
	text := func(key string) string {
		switch v := spec[key].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			return strconv.FormatBool(v)
		}
		return ""
	}
	h := map[string]string{"readout": m.Model, "seed": strconv.FormatUint(m.Seed, 10)}
	if _, trained := spec["lr"]; trained {
		h["cnn"] = text("cnn")
		if h["cnn"] == "" {
			h["cnn"] = m.Strategy
		}
		for _, k := range []string{"lr", "wd", "batch", "epochs", "patience", "optimizer"} {
			h[k] = text(k)
		}
		return h
	}
	h["features"] = m.Strategy
	h["pca"] = strconv.Itoa(m.Summary.PCA)
	if m.Model != "linear" && !math.IsNaN(m.Summary.Alpha) && m.Summary.Alpha != 0 {
		h["alpha"] = strconv.FormatFloat(m.Summary.Alpha, 'g', 4, 64)
	}
	if g := m.AlphaGrid; g != nil && len(g.Alphas) > 0 {
		h["grid"] = fmt.Sprintf("%d alphas %.3g..%.3g", len(g.Alphas), slices.Min(g.Alphas), slices.Max(g.Alphas))
		if g.Default {
			h["grid"] = "default, " + h["grid"]
		}
	}
	return h
}

// DistinctHparams are the names of the settings that take two values among
// the metas that have them, in HparamNames order: what tells the runs
// apart. A setting only some runs have (a training's lr beside read-outs)
// tells nothing apart by itself.
func DistinctHparams(metas []RunMeta) []string {
	all := make([]map[string]string, len(metas))
	for i, m := range metas {
		all[i] = m.Hparams()
	}
	var names []string
	for _, name := range HparamNames {
		first := ""
		for _, h := range all {
			v := h[name]
			if v == "" {
				continue
			}
			if first == "" {
				first = v
			} else if v != first {
				names = append(names, name)
				break
			}
		}
	}
	return names
}

// HparamText is m's settings named in names as "name=value" pairs, leaving
// out those m does not have.
func HparamText(m RunMeta, names []string) string {
	h := m.Hparams()
	var parts []string
	for _, n := range names {
		if v := h[n]; v != "" {
			parts = append(parts, n+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
