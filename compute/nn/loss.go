package nn

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/tensor"
)

// MSELoss returns mean((pred-target)²), as torch.nn.MSELoss(), and its
// gradient with respect to pred.
func MSELoss(pred, target *tensor.Dense) (float64, *tensor.Dense, error) {
	if err := checkInput("mse: prediction", pred); err != nil {
		return 0, nil, err
	}
	if err := checkInput("mse: target", target); err != nil {
		return 0, nil, err
	}
	if !slices.Equal(pred.Shape(), target.Shape()) {
		return 0, nil, fmt.Errorf("mse: prediction shape %v does not match target shape %v", []int(pred.Shape()), []int(target.Shape()))
	}
	ps, ts := Float32s(pred), Float32s(target)
	if len(ps) == 0 {
		return 0, nil, fmt.Errorf("mse: empty prediction")
	}
	grad := New(pred.Shape()...)
	gs := Float32s(grad)
	scale := float32(2 / float64(len(ps)))
	var sum float64
	for i, p := range ps {
		d := p - ts[i]
		sum += float64(d) * float64(d)
		gs[i] = scale * d
	}
	return sum / float64(len(ps)), grad, nil
}

// CrossEntropyLoss returns the mean over samples of -log softmax(logits)[label],
// as torch.nn.CrossEntropyLoss(), and its gradient with respect to logits
// (N, C). A negative label marks a sample without a class: it is left out
// of the mean and gets zero gradient (PyTorch's ignore_index). With no
// labelled sample the loss and gradient are zero.
func CrossEntropyLoss(logits *tensor.Dense, labels []int) (float64, *tensor.Dense, error) {
	if err := checkInput("cross-entropy", logits); err != nil {
		return 0, nil, err
	}
	s := logits.Shape()
	if len(s) != 2 {
		return 0, nil, fmt.Errorf("cross-entropy: want (N, C) logits, found shape %v", []int(s))
	}
	n, c := s[0], s[1]
	if len(labels) != n {
		return 0, nil, fmt.Errorf("cross-entropy: %d labels for %d samples", len(labels), n)
	}
	count := 0
	for i, l := range labels {
		if l >= c {
			return 0, nil, fmt.Errorf("cross-entropy: label %d of sample %d is outside the %d classes", l, i, c)
		}
		if l >= 0 {
			count++
		}
	}
	grad := New(n, c)
	if count == 0 {
		return 0, grad, nil
	}
	xs, gs := Float32s(logits), Float32s(grad)
	var loss float64
	for i, l := range labels {
		if l < 0 {
			continue
		}
		row, g := xs[i*c:][:c], gs[i*c:][:c]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		lse := mx + math.Log(sum)
		loss += lse - float64(row[l])
		for j, v := range row {
			g[j] = float32(math.Exp(float64(v)-lse) / float64(count))
		}
		g[l] -= float32(1 / float64(count))
	}
	return loss / float64(count), grad, nil
}
