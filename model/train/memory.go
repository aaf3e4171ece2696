package train

import (
	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/nets"
)

// MaxBatch bounds the minibatch size a user may ask for.
const MaxBatch = 4096

// im2colBytes bounds the im2col buffers of a convolution (compute/nn's
// maxColFloats, 1<<20 floats, forward and backward).
const im2colBytes = 2 * 4 << 20

// liveCopies is how many float32 copies of each block's feature maps a
// training step holds at its peak: the conv, batchnorm and ReLU outputs
// kept for the backward pass, and the gradients flowing back through them.
// Measured against the peak RSS of a real run (memory_test.go).
const liveCopies = 6

// TrainMemory estimates the peak bytes TrainCNN needs to train cfg on ds:
// the prepared inputs, the targets, the weights with their gradients, Adam
// moments and best-epoch copy, and batch x activations x 4 bytes for the
// feature maps of one step. The dataset itself is not counted: it is open
// before the job is made.
func TrainMemory(cfg TrainConfig, ds *data.Dataset) int64 {
	nTrain, nVal := 0, 0
	if tr, va, err := responseSplits(ds); err == nil {
		nTrain, nVal = len(tr.Indices), len(va.Indices)
	}
	return trainMemory(cfg, nTrain, nVal, ds.NumNeurons)
}

func trainMemory(cfg TrainConfig, nTrain, nVal, neurons int) int64 {
	s := cfg.CNN
	per := int64(3 * s.Size * s.Size)
	var total int64
	for _, n := range []int64{int64(nTrain), int64(nVal)} {
		if n*per*4 <= inputBudget {
			total += n * per * 4 // prepared once for every epoch
		}
	}
	total += 2 * 4 * int64(nTrain+nVal) * int64(neurons) // targets and validation outputs

	// Per image: the input batch, then each block's feature maps at the
	// conv's resolution (before its pool) and after the pool.
	act := 2 * per
	var params int64
	h, in := s.Size, 3
	for b := 0; b < s.Layers && b < len(s.Channels); b++ {
		k, c := s.Kernel[b], s.Channels[b]
		h = (h+2*(k/2)-k)/s.Stride[b] + 1
		if h < 1 {
			break
		}
		act += liveCopies * int64(c) * int64(h) * int64(h)
		params += int64(in)*int64(c)*int64(k)*int64(k) + 3*int64(c)
		if s.Pool[b] > 1 {
			h /= s.Pool[b]
			act += 2 * int64(c) * int64(h) * int64(h)
		}
		in = c
	}
	if feat, err := s.FeatureShape(); err == nil {
		f := int64(feat[0]) * int64(feat[1]) * int64(feat[2])
		params += f*int64(neurons) + int64(neurons)
		act += 2 * int64(neurons)
	}
	total += int64(max(cfg.Batch, 1)) * act * 4
	total += 5 * 4 * params // weights, gradients, two Adam moments, the best epoch's copy
	return total + im2colBytes + jobs.BaseMemory
}

// stageCopies is how many float32 copies of each trainable tap's output a
// co-training step holds per image: a tap is a whole block (an inverted
// residual expands its input six times; a residual block has two or three
// convs with batchnorm and ReLU), each kept for the backward pass with its
// gradient. Measured against the peak RSS of a real run (memory_test.go).
const stageCopies = 40

// CotrainMemory estimates the peak bytes Cotrain needs for cfg on ds with
// the trunk network net: the frozen trunk's output for the train and val
// images, batch x the trainable taps' outputs x stageCopies x 4 bytes, and
// the trainable stages' weights five times (weights, gradients, Adam
// moments, best epoch). The network and dataset are not counted: they are
// open before the job is made.
func CotrainMemory(cfg CotrainConfig, ds *data.Dataset, net nets.Network) (int64, error) {
	trunk, frozenTap, _, err := nets.TrainableStages(net, cfg.Trainable)
	if err != nil {
		return 0, err
	}
	var frozen, trainable int64
	after := false
	for _, t := range net.Taps() {
		switch {
		case t.Name == frozenTap:
			frozen, after = int64(t.Size()), true
		case after:
			trainable += int64(t.Size())
		}
	}
	var params int64
	for _, p := range trunk.Params() {
		params += int64(p.Value.Size())
	}
	nTrain, nVal := 0, 0
	if tr, va, err := responseSplits(ds); err == nil {
		nTrain, nVal = len(tr.Indices), len(va.Indices)
	}
	n := int64(nTrain + nVal)
	total := 4*n*frozen + 2*4*n*int64(ds.NumNeurons)
	total += int64(max(cfg.Train.Batch, 1)) * 4 * (2*frozen + stageCopies*trainable)
	total += 5 * 4 * params
	return total + im2colBytes + jobs.BaseMemory, nil
}
