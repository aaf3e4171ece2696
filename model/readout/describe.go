package readout

import (
	"fmt"
	"math"

	"itscope/compute"
	"itscope/data"
)

// DataInfo summarises a dataset for `itscope data` and the explorer.
type DataInfo struct {
	Name        string      `json:"name"`
	Hash        string      `json:"hash"`
	Description string      `json:"description"`
	Images      int         `json:"images"`
	Neurons     int         `json:"neurons"`
	ImageSize   string      `json:"image_size"` // "112x112 RGB", "3x224x224 normalised"
	Splits      []SplitInfo `json:"splits"`
	Objects     int         `json:"objects"` // distinct object labels, 0 without labels
	// Response range over the images that have responses.
	ResponseMin  float64 `json:"response_min"`
	ResponseMax  float64 `json:"response_max"`
	ResponseMean float64 `json:"response_mean"`
	// Trials is the largest number of repeats per image, 0 without repeats.
	Trials int `json:"trials"`
	// The split-half noise ceiling (Spearman-Brown) over every image with
	// responses, mean and median over neurons; absent without repeats.
	CeilingMean   *float64 `json:"ceiling_mean,omitempty"`
	CeilingMedian *float64 `json:"ceiling_median,omitempty"`
}

// SplitInfo is one split's size.
type SplitInfo struct {
	Name         string `json:"name"`
	Images       int    `json:"images"`
	HasResponses bool   `json:"has_responses"`
}

// CeilingSeed seeds the split-halves of every noise ceiling itscope reports,
// so the same data always gives the same ceiling.
const CeilingSeed = 0

// DescribeDataset computes ds's summary, its noise ceiling included.
func DescribeDataset(ds *data.Dataset) (*DataInfo, error) {
	info := &DataInfo{Name: ds.Name, Hash: ds.Hash, Description: ds.Description,
		Images: ds.Images.Len(), Neurons: ds.NumNeurons, Trials: ds.NumTrials}
	if info.Images > 0 {
		if _, c, h, w, ok := ds.Images.Normalized(0); ok {
			info.ImageSize = fmt.Sprintf("%dx%dx%d ImageNet-normalised", c, h, w)
		} else if img, err := ds.Images.RGB(0); err != nil {
			return nil, err
		} else {
			b := img.Bounds()
			info.ImageSize = fmt.Sprintf("%dx%d RGB", b.Dx(), b.Dy())
		}
	}
	objects := map[string]bool{}
	for _, o := range ds.Objects {
		objects[o] = true
	}
	info.Objects = len(objects)

	var withResponses []int
	for _, s := range ds.Splits {
		info.Splits = append(info.Splits, SplitInfo{Name: s.Name, Images: len(s.Indices), HasResponses: s.HasResponses})
		if s.HasResponses {
			withResponses = append(withResponses, s.Indices...)
		}
	}
	lo, hi, sum, n := math.Inf(1), math.Inf(-1), 0.0, 0
	for _, i := range withResponses {
		for _, v := range ds.ResponseRow(i) {
			x := float64(v)
			lo, hi, sum, n = math.Min(lo, x), math.Max(hi, x), sum+x, n+1
		}
	}
	if n > 0 {
		info.ResponseMin, info.ResponseMax, info.ResponseMean = lo, hi, sum/float64(n)
	}
	if ds.Repeats != nil && ds.NumTrials > 1 {
		c, err := compute.NoiseCeiling(ds.Repeats, ds.Images.Len(), ds.NumNeurons, ds.NumTrials, withResponses,
			compute.CeilingOptions{Seed: CeilingSeed})
		if err != nil {
			return nil, fmt.Errorf("dataset %s: noise ceiling: %w", ds.Name, err)
		}
		info.CeilingMean, info.CeilingMedian = finitePtr(c.Mean), finitePtr(c.Median)
	}
	return info, nil
}

func finitePtr(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
