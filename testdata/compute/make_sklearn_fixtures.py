#!/usr/bin/python3
"""Fixtures for itscope/compute, made with Debian's scikit-learn (1.2.1).

Run from the repository root:
  /usr/bin/python3 testdata/compute/make_sklearn_fixtures.py [COWLEY_DIR]
  /usr/bin/python3 testdata/compute/make_sklearn_fixtures.py --only metrics,small
(--only remakes just the named folders; pixels needs COWLEY_DIR.)

Writes into testdata/compute/:
  small/      a random problem (80 train + 40 val images, 300 features, 7 neurons,
              one of them constant): StandardScaler, PCA(20) + LinearRegression,
              min-norm least squares on the raw (rank-deficient) features (numpy
              lstsq, see small()), Ridge(alpha),
              RidgeCV and GridSearchCV (R2 and MSE scoring) over explicit folds,
              per-neuron alpha by hand from per-fold Ridge fits, metrics.
  pixels/     the Cowley et al. 2023 V4 session 201025 images as 16x16 grayscale
              pixels (PIL bilinear), their repeat-averaged responses, a seeded
              90/10 split and folds; StandardScaler -> PCA(100) -> RidgeCV and
              StandardScaler -> RidgeCV, with every per-neuron EV and r on val.
  metrics/    explained_variance_score, r2_score (force_finite=False),
              mean_squared_error (raw_values) and scipy pearsonr on hand-made
              cases, including constant targets (NaN or -Inf there; itscope
              gives NaN for both, see ev_r).
  ceiling/    NaN-padded repeats and the split-half Spearman-Brown ceiling with
              the first-half / second-half split (the procedure itscope uses,
              with its random trial order replaced by the identity).

Arrays are .npy (float64 unless noted); scalars and grids are in each folder's
expected.json. The Go side reads features as float32 so both sides see identical
inputs. COWLEY_DIR defaults to ../shared/assets/cowley_v4 (the data is GPL-3.0,
see data/demo for provenance); only the pixel fixture needs it.
"""
import io
import json
import os
import sys
import zipfile

import numpy as np
import scipy.stats
import sklearn
from PIL import Image
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression, Ridge, RidgeCV
from sklearn.metrics import explained_variance_score, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
GRID = np.logspace(-2, 6, 17)


def save(folder, name, arr):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    np.save(os.path.join(HERE, folder, name + ".npy"), np.ascontiguousarray(arr))


def dump(folder, obj):
    obj["sklearn_version"] = sklearn.__version__
    with open(os.path.join(HERE, folder, "expected.json"), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)


def ev_r(y, p):
    """Per-neuron EV (sklearn, force_finite=False: NaN or -Inf for a neuron
    with constant responses, where the default would say 1 or 0) and Pearson
    r (scipy; NaN when constant)."""
    ev = explained_variance_score(y, p, multioutput="raw_values", force_finite=False)
    r = []
    for j in range(y.shape[1]):
        if np.ptp(y[:, j]) == 0 or np.ptp(p[:, j]) == 0:
            r.append(np.nan)
        else:
            r.append(scipy.stats.pearsonr(y[:, j], p[:, j])[0])
    return ev, np.array(r)


def grid_scores(x, y, folds, scoring):
    gs = GridSearchCV(Ridge(), {"alpha": GRID}, cv=PredefinedSplit(folds), scoring=scoring)
    gs.fit(x, y)
    return gs.best_params_["alpha"], gs.cv_results_["mean_test_score"]


def per_neuron_cv_r2(x, y, folds):
    """Each neuron's R2 averaged over folds, for every alpha (len(GRID) x neurons).
    force_finite stays True (the default), as in the r2 scorer RidgeCV and
    GridSearchCV choose alphas by."""
    out = np.zeros((len(GRID), y.shape[1]))
    k = folds.max() + 1
    for f in range(k):
        tr, ho = folds != f, folds == f
        for a, alpha in enumerate(GRID):
            p = Ridge(alpha=alpha).fit(x[tr], y[tr]).predict(x[ho])
            out[a] += r2_score(y[ho], p, multioutput="raw_values")
    return out / k


def readouts(folder, xtr, ytr, xva, yva, folds, prefix):
    """RidgeCV (shared alpha, R2 and MSE), per-neuron alpha; saves val EV and r."""
    exp = {}
    rcv = RidgeCV(alphas=GRID, cv=PredefinedSplit(folds)).fit(xtr, ytr)
    alpha, scores = grid_scores(xtr, ytr, folds, None)
    assert alpha == rcv.alpha_, (alpha, rcv.alpha_)
    exp[prefix + "ridgecv_alpha"] = float(rcv.alpha_)
    exp[prefix + "ridgecv_cv_r2"] = scores.tolist()
    ev, r = ev_r(yva, rcv.predict(xva))
    save(folder, prefix + "ridgecv_ev", ev)
    save(folder, prefix + "ridgecv_r", r)

    alpha, scores = grid_scores(xtr, ytr, folds, "neg_mean_squared_error")
    exp[prefix + "ridgecv_mse_alpha"] = float(alpha)
    exp[prefix + "ridgecv_cv_mse"] = (-scores).tolist()
    ev, r = ev_r(yva, Ridge(alpha=alpha).fit(xtr, ytr).predict(xva))
    save(folder, prefix + "ridgecv_mse_ev", ev)
    save(folder, prefix + "ridgecv_mse_r", r)

    per = per_neuron_cv_r2(xtr, ytr, folds)
    save(folder, prefix + "neuron_cv_r2", per)
    best = GRID[np.argmax(per, axis=0)]
    exp[prefix + "per_neuron_alpha"] = best.tolist()
    pred = np.column_stack([Ridge(alpha=a).fit(xtr, ytr[:, j]).predict(xva) for j, a in enumerate(best)])
    ev, r = ev_r(yva, pred)
    save(folder, prefix + "per_neuron_ev", ev)
    save(folder, prefix + "per_neuron_r", r)
    return exp


def small():
    rng = np.random.default_rng(20261127)
    n_tr, n_va, d, t = 80, 40, 300, 7
    latent = rng.normal(size=(n_tr + n_va, 12))
    x = latent @ rng.normal(size=(12, d)) + 0.5 * rng.normal(size=(n_tr + n_va, d)) + 3
    x[:, 5] = 1.5  # a constant feature
    x = x.astype(np.float32)
    w = rng.normal(size=(d, t)) / np.sqrt(d)
    y = x.astype(np.float64) @ w + 0.3 * rng.normal(size=(n_tr + n_va, t))
    y[:, 3] = 2.0  # a constant neuron
    xtr, xva = x[:n_tr].astype(np.float64), x[n_tr:].astype(np.float64)
    ytr, yva = y[:n_tr], y[n_tr:]
    folds = np.arange(n_tr) % 5
    rng.shuffle(folds)
    save("small", "x_train", x[:n_tr])
    save("small", "x_val", x[n_tr:])
    save("small", "y_train", ytr)
    save("small", "y_val", yva)
    save("small", "folds", folds.astype(np.int64))
    exp = {"grid": GRID.tolist(), "ridge_alpha": 10.0}

    sc = StandardScaler().fit(xtr)
    save("small", "scaler_mean", sc.mean_)
    save("small", "scaler_scale", sc.scale_)

    pca = PCA(20, svd_solver="full").fit(xtr)
    save("small", "pca_explained_variance", pca.explained_variance_)
    save("small", "pca_explained_variance_ratio", pca.explained_variance_ratio_)
    save("small", "pca_singular_values", pca.singular_values_)
    ztr, zva = pca.transform(xtr), pca.transform(xva)
    save("small", "pca_val_scores", zva)
    lr = LinearRegression().fit(ztr, ytr)
    save("small", "pca_lr_pred", lr.predict(zva))
    ev, r = ev_r(yva, lr.predict(zva))
    save("small", "pca_lr_ev", ev)
    save("small", "pca_lr_r", r)

    # 300 features > 80 images: the minimum-norm solution. scikit-learn's
    # LinearRegression (scipy gelsd, cond=eps) keeps the ~1e-13 singular value
    # that centring leaves, so its predictions here carry rounding noise of
    # ~1e-2; numpy's lstsq (cut-off max(n, p) * eps) is the exact min-norm fit.
    xm, ym = xtr.mean(0), ytr.mean(0)
    w = np.linalg.lstsq(xtr - xm, ytr - ym, rcond=None)[0]
    pred = (xva - xm) @ w + ym
    exp["sklearn_lr_vs_lstsq_max_abs_diff"] = float(abs(LinearRegression().fit(xtr, ytr).predict(xva) - pred).max())
    ev, r = ev_r(yva, pred)
    save("small", "lr_pred", pred)
    save("small", "lr_ev", ev)
    save("small", "lr_r", r)

    rd = Ridge(alpha=10.0).fit(xtr, ytr)
    save("small", "ridge_coef", rd.coef_.T)
    save("small", "ridge_intercept", rd.intercept_)
    ev, r = ev_r(yva, rd.predict(xva))
    save("small", "ridge_ev", ev)
    save("small", "ridge_r", r)

    exp.update(readouts("small", xtr, ytr, xva, yva, folds, "raw_"))
    exp.update(readouts("small", ztr, ytr, zva, yva, folds, "pca_"))
    dump("small", exp)


def pixels(cowley):
    zf = zipfile.ZipFile(os.path.join(cowley, "images", "images_201025.zip"))
    names = sorted(n for n in zf.namelist() if n.endswith(".jpg"))
    feats = []
    for n in names:
        im = Image.open(io.BytesIO(zf.read(n))).convert("L").resize((16, 16), Image.BILINEAR)
        feats.append(np.asarray(im, dtype=np.float32).ravel())
    x = np.stack(feats)  # 1200 x 256, values 0..255
    y = np.load(os.path.join(cowley, "responses_repeat_averaged", "responses_201025.npy")).T
    y = y.astype(np.float32)  # itscope holds responses as float32
    rng = np.random.default_rng(7)
    perm = rng.permutation(len(x))
    tr, va = np.sort(perm[:1080]), np.sort(perm[1080:])
    folds = np.arange(len(tr)) % 5
    rng.shuffle(folds)
    save("pixels", "x", x)
    save("pixels", "y", y)
    save("pixels", "train", tr.astype(np.int64))
    save("pixels", "val", va.astype(np.int64))
    save("pixels", "folds", folds.astype(np.int64))
    xtr, xva = x[tr].astype(np.float64), x[va].astype(np.float64)
    ytr, yva = y[tr].astype(np.float64), y[va].astype(np.float64)
    sc = StandardScaler().fit(xtr)
    str_, sva = sc.transform(xtr), sc.transform(xva)
    exp = {"grid": GRID.tolist(), "pca": 100}
    pca = PCA(100, svd_solver="full").fit(str_)
    save("pixels", "pca_explained_variance", pca.explained_variance_)
    ztr, zva = pca.transform(str_), pca.transform(sva)
    exp.update(readouts("pixels", ztr, ytr, zva, yva, folds, "pca_"))
    exp.update(readouts("pixels", str_, ytr, sva, yva, folds, "std_"))
    lr = LinearRegression().fit(ztr, ytr)
    ev, r = ev_r(yva, lr.predict(zva))
    save("pixels", "pca_lr_ev", ev)
    save("pixels", "pca_lr_r", r)
    dump("pixels", exp)


def metrics():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(25, 6))
    p = y + 0.7 * rng.normal(size=(25, 6))
    y[:, 1] = 4.0          # constant target, imperfect prediction: EV, R2 -Inf
    y[:, 2] = 4.0          # constant target, perfect prediction: EV, R2 NaN
    p[:, 2] = 4.0
    p[:, 3] = y[:, 3] + 1  # offset: EV 1, R2 < 1
    p[:, 4] = 0.25         # constant prediction: r NaN
    save("metrics", "y_true", y)
    save("metrics", "y_pred", p)
    save("metrics", "ev", explained_variance_score(y, p, multioutput="raw_values", force_finite=False))
    save("metrics", "r2", r2_score(y, p, multioutput="raw_values", force_finite=False))
    save("metrics", "mse", mean_squared_error(y, p, multioutput="raw_values"))
    save("metrics", "r", ev_r(y, p)[1])
    dump("metrics", {})


def ceiling():
    rng = np.random.default_rng(11)
    n_img, n_neu, n_tr = 40, 5, 7
    signal = rng.normal(size=(n_img, n_neu)) * np.array([1.0, 0.5, 0.2, 2.0, 0.0])
    rep = signal[:, :, None] + rng.normal(size=(n_img, n_neu, n_tr))
    avail = rng.integers(1, n_tr + 1, size=n_img)  # trials per image, some with 1
    for i, m in enumerate(avail):
        rep[i, :, m:] = np.nan
    rep[3, 2, 0] = np.nan  # a gap in the middle for one neuron
    rep = rep.astype(np.float32)
    half_r, rel = [], []
    for j in range(n_neu):
        a, b = [], []
        for i in range(n_img):
            v = rep[i, j][~np.isnan(rep[i, j])].astype(np.float64)
            if len(v) < 2:
                continue
            h = len(v) // 2
            a.append(v[:h].mean())
            b.append(v[h:].mean())
        r = scipy.stats.pearsonr(a, b)[0]
        half_r.append(r)
        rel.append(2 * r / (1 + r))
    save("ceiling", "repeats", rep)
    save("ceiling", "half_r", np.array(half_r))
    save("ceiling", "reliability", np.array(rel))
    dump("ceiling", {"images": n_img, "neurons": n_neu, "trials": n_tr})


if __name__ == "__main__":
    args = sys.argv[1:]
    only = None
    if args[:1] == ["--only"]:
        only, args = set(args[1].split(",")), args[2:]
    cowley = args[0] if args else os.path.join(HERE, "..", "..", "..", "shared", "assets", "cowley_v4")
    for name, make in [("metrics", metrics), ("ceiling", ceiling), ("small", small), ("pixels", lambda: pixels(cowley))]:
        if only is None or name in only:
            make()
