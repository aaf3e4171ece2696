#!/usr/bin/python3
"""Bootstrap fixture for itscope/compute (NumPy only).

Run from the repository root:  /usr/bin/python3 testdata/compute/make_bootstrap.py

Writes testdata/compute/bootstrap/: responses y_true (40 images x 6 neurons), two
runs' predictions pred_a and pred_b (pred_a's neuron 2 is constant, so its r is
undefined), 200 resamples of the images (indices.npy, int64, drawn here with
NumPy's generator), and expected.json with the mean EV and mean r on the
original images, their 95% percentile intervals, the paired differences B - A
with intervals and the share of resamples in which B's mean is larger.

The statistic, written independently of the Go code: per resample, each
neuron's explained variance 1 - Var(y - p)/Var(y) and Pearson r (NaN when either
side is constant), the mean over neurons skipping NaN; for the paired
difference, the NaN-skipping mean over neurons of B - A. Intervals are
numpy.percentile (linear) at 2.5 and 97.5 of the resample means.
"""
import json
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")


def ev(y, p):
    num = np.var(y - p, axis=0)
    den = np.var(y, axis=0)
    out = 1 - num / np.where(den == 0, 1, den)
    out[num == 0] = 1.0
    out[(num != 0) & (den == 0)] = 0.0
    return out


def pearson(y, p):
    yc, pc = y - y.mean(0), p - p.mean(0)
    saa, sbb = (yc * yc).sum(0), (pc * pc).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (yc * pc).sum(0) / np.sqrt(saa * sbb)
    r[(saa == 0) | (sbb == 0)] = np.nan
    return np.clip(r, -1, 1)


def summary(est, reps):
    reps = reps[~np.isnan(reps)]
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return {"estimate": float(est), "lo": float(lo), "hi": float(hi), "used": int(reps.size)}


def main():
    rng = np.random.default_rng(20261204)
    n, t, b = 40, 6, 200
    y = rng.normal(size=(n, t))
    pa = 0.6 * y + 0.8 * rng.normal(size=(n, t))
    pb = 0.62 * y + 0.78 * rng.normal(size=(n, t))
    pa[:, 2] = 0.25
    idx = rng.integers(0, n, size=(b, n))
    os.makedirs(HERE, exist_ok=True)
    for name, arr in [("y_true", y), ("pred_a", pa), ("pred_b", pb), ("indices", idx.astype(np.int64))]:
        np.save(os.path.join(HERE, name + ".npy"), np.ascontiguousarray(arr))

    rows = [np.arange(n)] + list(idx)
    stats = {}
    for run, p in [("a", pa), ("b", pb)]:
        stats[run] = [(ev(y[r], p[r]), pearson(y[r], p[r])) for r in rows]
    exp = {"resamples": b}
    for k, name in [(0, "ev"), (1, "r")]:
        for run in "ab":
            m = np.array([np.nanmean(s[k]) for s in stats[run]])
            exp[f"{run}_{name}"] = summary(m[0], m[1:])
        d = np.array([np.nanmean(sb[k] - sa[k]) for sa, sb in zip(stats["a"], stats["b"])])
        out = summary(d[0], d[1:])
        reps = d[1:][~np.isnan(d[1:])]
        out["b_better"] = float(np.mean(reps > 0))
        exp[f"diff_{name}"] = out
    exp["numpy_version"] = np.__version__
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
