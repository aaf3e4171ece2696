#!/usr/bin/python3
"""Reproduce itscope's default train/val split from its written rule, in plain Python.

Run from the repository root: /usr/bin/python3 testdata/data/make_split_fixture.py
Writes testdata/data/split_expected.json: the val indices for several image counts.

The rule (data.DefaultSplit): a 128-bit PCG generator (math/rand/v2's PCG: state
(hi, lo) = (0x17, 0x17); each step state = state * M + C mod 2^128, then the DXSM
output of the new state), a Fisher-Yates shuffle of [0..n) with j = next() mod (i+1)
for i = n-1 down to 1, and val = the first max(3, round(n/10)) entries (halves away
from zero), sorted; train is the rest, sorted.
"""
import json
import os

MASK64 = (1 << 64) - 1
MASK128 = (1 << 128) - 1
MUL = (2549297995355413924 << 64) | 4865540595714422341
INC = (6364136223846793005 << 64) | 1442695040888963407


class PCG:
    def __init__(self, hi, lo):
        self.state = (hi << 64) | lo

    def next(self):
        self.state = (self.state * MUL + INC) & MASK128
        hi, lo = self.state >> 64, self.state & MASK64
        hi ^= hi >> 32
        hi = (hi * 0xda942042e4dd58b5) & MASK64
        hi ^= hi >> 48
        return (hi * (lo | 1)) & MASK64


def split(n, seed=0x17):
    p = list(range(n))
    r = PCG(seed, seed)
    for i in range(n - 1, 0, -1):
        j = r.next() % (i + 1)
        p[i], p[j] = p[j], p[i]
    n_val = max(3, int(n / 10 + 0.5))  # n/10 >= 0: round half away from zero
    return sorted(p[:n_val])


def main():
    out = {str(n): split(n) for n in [4, 5, 15, 20, 34, 35, 640, 1200]}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'split_expected.json'), 'w') as f:
        json.dump(out, f)
    print({n: v[:8] for n, v in out.items()})


if __name__ == '__main__':
    main()
