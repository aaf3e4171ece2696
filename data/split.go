package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SplitSeed seeds the default train/val split.
const SplitSeed = 0x17

// DefaultSplit is the deterministic 90/10 train/val split used by the demo and
// by folders without split.csv. The rule, exactly:
//
//  1. p = [0, 1, ..., n-1]; r = rand.NewPCG(SplitSeed, SplitSeed) (math/rand/v2,
//     PCG-DXSM, both seed words 0x17).
//  2. Fisher-Yates: for i = n-1 down to 1, j = r.Uint64() mod (i+1), swap p[i], p[j].
//  3. nVal = max(1, round(n/10)) with halves rounded away from zero; val is
//     p[0:nVal], train is p[nVal:], each sorted ascending.
//
// It needs n >= 2 so that both splits are non-empty.
func DefaultSplit(n int) (train, val []int, err error) {
	if n < 2 {
		return nil, nil, fmt.Errorf("need at least 2 images for a train/val split, found %d", n)
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r := rand.NewPCG(SplitSeed, SplitSeed)
	for i := n - 1; i >= 1; i-- {
		j := int(r.Uint64() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	nVal := max(1, int(math.Round(float64(n)/10)))
	val = slices.Clone(p[:nVal])
	train = slices.Clone(p[nVal:])
	slices.Sort(val)
	slices.Sort(train)
	return train, val, nil
}

func defaultSplits(n int) ([]Split, error) {
	train, val, err := DefaultSplit(n)
	if err != nil {
		return nil, err
	}
	return []Split{
		{Name: Train, Indices: train, HasResponses: true},
		{Name: Val, Indices: val, HasResponses: true},
	}, nil
}
