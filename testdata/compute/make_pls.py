#!/usr/bin/python3
"""Brain-Score protocol fixture for itscope/compute, made with Debian's
scikit-learn (1.2.1) and NumPy.

Run from the repository root:  /usr/bin/python3 testdata/compute/make_pls.py

Writes testdata/compute/pls/:
  x.npy          120 images x 60 features, float32 (the Go side reads float32,
                 so both sides see identical inputs), low-rank plus noise, with
                 a large offset as raw activations have
  y.npy          120 x 8 responses, linear in x plus noise
  labels.json    the object label of each image (4 labels, 30 images each)
  train.npy      10 x 108 and test.npy 10 x 12 (int64): the splits of
                 StratifiedShuffleSplit(n_splits=10, test_size=0.1,
                 random_state=0) by label, fixed here so both sides see them
  pls{3,25}_r.npy    per split and neuron, Pearson r between responses and
                 PLSRegression(n_components, scale=False) predictions on the
                 split's test images
  ridge_r.npy    the same for Ridge(alpha=10)
  pls3_pred.npy  PLSRegression(3, scale=False) fitted on all 120 images: its
                 predictions of those images
  repeats.npy    120 x 8 x 6 single trials (float32, NaN for missing ones)
  halves.npy     10 x 3 (int64): the trials of half A in each half-split
  ceiling_r.npy  10 x 8: per split and neuron, Pearson r between the halves'
                 mean responses (over the trials present), Spearman-Brown
                 corrected; NaN with fewer than 3 usable images
  expected.json  per-split medians over neurons, score (mean over splits) and
                 standard error (std with ddof 0 / sqrt(10)) for each read-out;
                 the ceiling (mean over splits of the median over neurons)
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import Ridge
from sklearn.model_selection import StratifiedShuffleSplit

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pls")


def save(name, arr):
    np.save(os.path.join(HERE, name + ".npy"), np.ascontiguousarray(arr))


def pearson_cols(y, p):
    yc, pc = y - y.mean(0), p - p.mean(0)
    saa, sbb = (yc * yc).sum(0), (pc * pc).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (yc * pc).sum(0) / np.sqrt(saa * sbb)
    r[(saa == 0) | (sbb == 0)] = np.nan
    return r


def summary(r):
    med = np.nanmedian(r, axis=1)
    return {"split_median": med.tolist(), "score": float(med.mean()),
            "stderr": float(med.std(ddof=0) / np.sqrt(len(med)))}


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = np.random.default_rng(20261204)
    n, d, t, trials = 120, 60, 8, 6
    labels = np.repeat(["car", "face", "fruit", "plane"], n // 4)
    latent = rng.normal(size=(n, 10))
    x = (latent @ rng.normal(size=(10, d)) + 0.5 * rng.normal(size=(n, d)) + 5).astype(np.float32)
    x64 = x.astype(np.float64)
    w = rng.normal(size=(d, t)) / np.sqrt(d)
    y = x64 @ w + 0.8 * rng.normal(size=(n, t))
    save("x", x)
    save("y", y)
    with open(os.path.join(HERE, "labels.json"), "w") as f:
        json.dump(labels.tolist(), f)

    sss = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=0)
    splits = list(sss.split(x64, labels))
    save("train", np.array([tr for tr, _ in splits], dtype=np.int64))
    save("test", np.array([te for _, te in splits], dtype=np.int64))

    exp = {}
    for name, make in [("pls3", lambda: PLSRegression(n_components=3, scale=False)),
                       ("pls25", lambda: PLSRegression(n_components=25, scale=False)),
                       ("ridge", lambda: Ridge(alpha=10.0))]:
        r = np.array([pearson_cols(y[te], make().fit(x64[tr], y[tr]).predict(x64[te])) for tr, te in splits])
        save(name + "_r", r)
        exp[name] = summary(r)

    pls = PLSRegression(n_components=3, scale=False).fit(x64, y)
    save("pls3_pred", pls.predict(x64))

    # Single trials: the responses plus trial noise, some trials missing.
    rep = y[:, :, None] + 1.5 * rng.normal(size=(n, t, trials))
    rep[rng.random(size=rep.shape) < 0.1] = np.nan
    rep[:, 7, :] = np.nan  # a neuron never recorded twice: ceiling undefined
    rep[:, 7, 0] = 1.0
    rep = rep.astype(np.float32)
    save("repeats", rep)
    halves = np.array([np.sort(rng.permutation(trials)[: trials // 2]) for _ in range(10)], dtype=np.int64)
    save("halves", halves)
    rep64 = rep.astype(np.float64)
    cr = np.full((10, t), np.nan)
    for s, h in enumerate(halves):
        in_a = np.zeros(trials, bool)
        in_a[h] = True
        with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
            sup.filter(RuntimeWarning)
            ma = np.nanmean(rep64[:, :, in_a], axis=2)
            mb = np.nanmean(rep64[:, :, ~in_a], axis=2)
        for j in range(t):
            ok = ~np.isnan(ma[:, j]) & ~np.isnan(mb[:, j])
            if ok.sum() < 3:
                continue
            r = pearson_cols(ma[ok, j:j + 1], mb[ok, j:j + 1])[0]
            cr[s, j] = 2 * r / (1 + r)
    save("ceiling_r", cr)
    med = np.nanmedian(cr, axis=1)
    exp["ceiling"] = {"split_median": med.tolist(), "ceiling": float(med.mean())}
    exp["sklearn_version"] = sklearn.__version__
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
