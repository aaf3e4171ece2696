package nets

import (
	"fmt"
	"math"
	"os"
	"sort"

	"itscope/data"
)

// ClassScore is one class of a classification.
type ClassScore struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Prob  float64 `json:"prob"`
}

// Classification is the top classes of one image.
type Classification struct {
	Image string       `json:"image"`
	Top5  []ClassScore `json:"top5"`
}

// Classify runs photos through net's last tap (the logits) with the
// classifier preprocessing (data.ClassifyPreprocess: shorter side to 256,
// centre crop 224, ImageNet mean/std) and returns the k most probable
// classes of each, by softmax; equal logits rank by ascending index, as the
// ONNX Runtime reference does.
func Classify(net Network, images []string, k int) ([]Classification, error) {
	taps := net.Taps()
	last := taps[len(taps)-1]
	if in := net.Input(); in != [3]int{3, data.ClassifySize, data.ClassifySize} {
		return nil, fmt.Errorf("network %s: classify needs a (3, 224, 224) input, found %v", net.Name(), in)
	}
	labels := net.Labels()
	out := make([]Classification, 0, len(images))
	for _, path := range images {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		img, err := data.DecodeImage(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		x := data.ClassifyPreprocess(img)
		res, err := net.Forward(x, 1, []string{last.Name})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, Classification{Image: path, Top5: topK(res[last.Name], labels, k)})
	}
	return out, nil
}

// topK returns the k largest logits with their softmax probabilities.
func topK(logits []float32, labels []string, k int) []ClassScore {
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	maxv := float64(logits[idx[0]])
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - maxv)
	}
	k = min(k, len(idx))
	top := make([]ClassScore, k)
	for r := range k {
		i := idx[r]
		label := fmt.Sprintf("class %d", i)
		if i < len(labels) {
			label = labels[i]
		}
		top[r] = ClassScore{Index: i, Label: label, Prob: math.Exp(float64(logits[i])-maxv) / sum}
	}
	return top
}
