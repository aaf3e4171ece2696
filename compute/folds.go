package compute

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
)

// KFold assigns each of n rows to one of k folds after a seeded shuffle
// (math/rand/v2 PCG), like scikit-learn's KFold(k, shuffle=True): the first
// n mod k folds get one row more than the others. The result holds a fold
// number per row.
func KFold(n, k int, seed uint64) ([]int, error) {
	inOrder, err := KFoldInOrder(n, k)
	if err != nil {
		return nil, err
	}
	perm := rand.New(rand.NewPCG(seed, seed)).Perm(n)
	fold := make([]int, n)
	for pos, i := range perm {
		fold[i] = inOrder[pos]
	}
	return fold, nil
}

// KFoldInOrder assigns n rows to k folds of consecutive rows, unshuffled,
// as scikit-learn's KFold(k) and so RidgeCV(cv=k) do: the first n mod k
// folds get one row more than the others.
func KFoldInOrder(n, k int) ([]int, error) {
	if k < 2 || k > n {
		return nil, fmt.Errorf("compute: %d folds for %d rows: want 2 <= folds <= rows", k, n)
	}
	fold := make([]int, 0, n)
	for f := range k {
		size := n / k
		if f < n%k {
			size++
		}
		for range size {
			fold = append(fold, f)
		}
	}
	return fold, nil
}

// StratifiedKFold assigns rows to k folds so each label is spread over the
// folds as evenly as possible, like scikit-learn's StratifiedKFold with
// shuffling (though not with the same random draws): labels are taken in
// sorted order, each label's rows are shuffled (seeded PCG) and all are dealt
// round-robin across the folds, continuing from where the previous label
// stopped, so fold sizes differ by at most one.
func StratifiedKFold(labels []string, k int, seed uint64) ([]int, error) {
	n := len(labels)
	if k < 2 || k > n {
		return nil, fmt.Errorf("compute: %d folds for %d rows: want 2 <= folds <= rows", k, n)
	}
	groups, names := groupByLabel(labels)
	rng := rand.New(rand.NewPCG(seed, seed))
	fold := make([]int, n)
	pos := 0
	for _, l := range names {
		rows := groups[l]
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		for _, i := range rows {
			fold[i] = pos % k
			pos++
		}
	}
	return fold, nil
}

// checkFolds validates an explicit fold assignment and returns the number of
// folds.
func checkFolds(fold []int, n int) (int, error) {
	if len(fold) != n {
		return 0, fmt.Errorf("compute: ridge CV: fold assignment has %d entries for %d rows", len(fold), n)
	}
	k := 0
	for i, f := range fold {
		if f < 0 {
			return 0, fmt.Errorf("compute: ridge CV: row %d has fold %d, want >= 0", i, f)
		}
		k = max(k, f+1)
	}
	size := make([]int, k)
	for _, f := range fold {
		size[f]++
	}
	if k < 2 {
		return 0, fmt.Errorf("compute: ridge CV: %d fold, want at least 2", k)
	}
	for f, s := range size {
		if s == 0 {
			return 0, fmt.Errorf("compute: ridge CV: fold %d of %d has no rows", f, k)
		}
		if n-s < 2 {
			return 0, fmt.Errorf("compute: ridge CV: fold %d leaves %d training rows, want at least 2", f, n-s)
		}
	}
	return k, nil
}

// groupByLabel lists the indices of each label, and the labels in sorted
// order so that seeded draws over the groups do not depend on map order.
func groupByLabel(labels []string) (groups map[string][]int, names []string) {
	groups = map[string][]int{}
	for i, l := range labels {
		groups[l] = append(groups[l], i)
	}
	return groups, slices.Sorted(maps.Keys(groups))
}
