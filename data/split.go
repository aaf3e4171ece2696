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
//  3. nVal = max(3, round(n/10)) with halves rounded away from zero; val is
//     p[0:nVal], train is p[nVal:], each sorted ascending.
//
// It needs n >= 4: val needs MinEvalImages and train at least one.
func DefaultSplit(n int) (train, val []int, err error) {
	if n < MinEvalImages+1 {
		return nil, nil, fmt.Errorf("need at least %d images for a train/val split (%d for val, 1 for train), found %d", MinEvalImages+1, MinEvalImages, n)
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
	nVal := max(MinEvalImages, int(math.Round(float64(n)/10)))
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

// MinEvalImages is the fewest images a val or test split may have: over one
// image every score is 1 or undefined, and over two a correlation is +-1.
const MinEvalImages = 3

// checkSplitSizes refuses a dataset whose train split is empty or whose val
// or test split has fewer than MinEvalImages images.
func checkSplitSizes(splits []Split) error {
	for _, s := range splits {
		if err := checkSplitSize(s.Name, len(s.Indices)); err != nil {
			return err
		}
	}
	return nil
}

func checkSplitSize(name string, n int) error {
	switch {
	case name == Train && n == 0:
		return fmt.Errorf("want at least one train image, found none")
	case name != Train && n < MinEvalImages:
		return fmt.Errorf("want at least %d %s images (scores over fewer mean nothing), found %d", MinEvalImages, name, n)
	}
	return nil
}
