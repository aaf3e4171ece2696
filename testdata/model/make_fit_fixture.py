#!/usr/bin/python3
"""Reference results of itscope's fit pipeline, computed with scikit-learn.

Inputs (written by Go, so that scikit-learn sees exactly itscope's features):
    go test ./model/readout -run TestFitFixtureInputs -update-fit-fixture
writes fit_inputs/: x_train.npy, x_val.npy (pixels:16:gray of the embedded
demo, session 201025, train and val splits), y_train.npy, y_val.npy (the
responses) and meta.json (image indices and names, the CV fold of each
training image from itscope's KFold with seed 3; the folds_in_order case uses
scikit-learn's cv=5 instead).

This script first re-derives the pixel features independently with Pillow
(resize((16, 16), BILINEAR), convert("L"), / 255) from the embedded JPEGs and
reports how far they are from the Go features (0 when last run: itscope's
JPEG decoder, resize and gray conversion reproduce Pillow 9.4 exactly). It then runs each pipeline in scikit-learn
and writes fit_sklearn.json: per-neuron EV (explained_variance_score), Pearson
r, MSE and R2 on val, and the chosen alpha.

Run with Debian's python3 (scikit-learn 1.2, Pillow 9.4, NumPy 1.24):
    /usr/bin/python3 testdata/model/make_fit_fixture.py
"""
import io
import json
import os
import zipfile

import numpy as np
from PIL import Image
from sklearn.linear_model import LinearRegression, Ridge, RidgeCV
from sklearn.decomposition import PCA
from sklearn.metrics import explained_variance_score, mean_squared_error, r2_score
from sklearn.model_selection import PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "fit_inputs")
DEMO_ZIP = os.path.join(HERE, "..", "..", "data", "demo", "images_201025.zip")

x_train = np.load(os.path.join(INPUTS, "x_train.npy")).astype(np.float64)
x_val = np.load(os.path.join(INPUTS, "x_val.npy")).astype(np.float64)
y_train = np.load(os.path.join(INPUTS, "y_train.npy")).astype(np.float64)
y_val = np.load(os.path.join(INPUTS, "y_val.npy")).astype(np.float64)
with open(os.path.join(INPUTS, "meta.json")) as f:
    meta = json.load(f)

# Independent check of the features: Pillow on the embedded JPEGs.
with zipfile.ZipFile(DEMO_ZIP) as z:
    pil = np.stack([
        np.asarray(Image.open(io.BytesIO(z.read(name))).convert("RGB")
                   .resize((16, 16), Image.BILINEAR).convert("L"), dtype=np.float32).ravel() / np.float32(255)
        for name in meta["names"]])
go = np.concatenate([x_train, x_val]).astype(np.float32)
pillow_diff = float(np.abs(pil - go).max())
print(f"pixels:16:gray, Go vs Pillow: max |diff| = {pillow_diff:.3g} "
      f"({int((np.abs(pil - go) > 1e-6).sum())} of {go.size} values differ)")

alphas = np.logspace(-2, 6, 17)  # given explicitly (itscope's default grid is now scale-free)
cv = PredefinedSplit(np.asarray(meta["folds"]))
fine = np.logspace(2, 5, 31)


class ScaleFreeRidgeCV(RidgeCV):
    """itscope's default ridge CV grid (docs/models.md), independently: alphas
    logspace(-6, 6, 25) times trace(XcᵀXc)/p of the centred design, grown by a
    decade (two half-decade alphas) past the chosen end while CV picks an end,
    at most 6 times."""

    def fit(self, X, y):
        xc = X - X.mean(axis=0)
        self.scale_ = float((xc * xc).sum() / X.shape[1])
        grid = list(np.logspace(-6, 6, 25) * self.scale_)
        self.extensions_ = 0
        while True:
            self.alphas = np.asarray(grid)
            super().fit(X, y)
            at = grid.index(self.alpha_)
            if self.extensions_ == 6 or at not in (0, len(grid) - 1):
                return self
            step = np.sqrt(10) if at else 1 / np.sqrt(10)
            new = [grid[at] * step, grid[at] * step * step]
            grid = grid + new if at else new[::-1] + grid
            self.extensions_ += 1


def pearson(a, b):
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    return (a * b).sum(axis=0) / np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))


cases = {
    "linear": (dict(pca=0, model="linear"), LinearRegression()),
    "linear_pca50": (dict(pca=50, model="linear"), LinearRegression()),
    "ridge_alpha100": (dict(pca=0, model="ridge", alpha=100.0), Ridge(alpha=100.0)),
    "ridgecv": (dict(pca=0, model="ridgecv", folds=5, alphas=alphas.tolist()), RidgeCV(alphas=alphas, cv=cv)),
    "ridgecv_pca100": (dict(pca=100, model="ridgecv", folds=5, alphas=alphas.tolist()), RidgeCV(alphas=alphas, cv=cv)),
    # --folds-in-order: scikit-learn's own cv=5, KFold(5) without shuffle. On
    # this finer grid the folds matter: itscope's shuffled ones choose 3981.
    "ridgecv_pca100_folds_in_order": (dict(pca=100, model="ridgecv", folds=5, folds_in_order=True, alphas=fine.tolist()),
                                      RidgeCV(alphas=fine, cv=5)),
    "ridgecv_default": (dict(pca=0, model="ridgecv", folds=5), ScaleFreeRidgeCV(cv=cv)),
    "ridgecv_default_pca100": (dict(pca=100, model="ridgecv", folds=5), ScaleFreeRidgeCV(cv=cv)),
}

out = {}
for name, (spec, readout) in cases.items():
    steps = [StandardScaler()]
    if spec["pca"]:
        steps.append(PCA(n_components=spec["pca"], svd_solver="full"))
    steps.append(readout)
    pipe = make_pipeline(*steps).fit(x_train, y_train)
    pred = pipe.predict(x_val)
    alpha = float(getattr(readout, "alpha_", getattr(readout, "alpha", 0.0)))
    full = dict(data="demo", features=meta["features"], seed=meta["seed"], **spec)
    out[name] = dict(
        spec=full,
        ev=explained_variance_score(y_val, pred, multioutput="raw_values").tolist(),
        r=pearson(y_val, pred).tolist(),
        mse=mean_squared_error(y_val, pred, multioutput="raw_values").tolist(),
        r2=r2_score(y_val, pred, multioutput="raw_values").tolist(),
        alpha=alpha,
    )
    if isinstance(readout, ScaleFreeRidgeCV):
        out[name].update(scale=readout.scale_, extensions=readout.extensions_)
    print(f"{name}: ev_mean {np.mean(out[name]['ev']):.4f} r_mean {np.nanmean(out[name]['r']):.4f} alpha {alpha:g}")

out["_provenance"] = dict(pillow_max_abs_diff=pillow_diff, sklearn=__import__("sklearn").__version__,
                          script="testdata/model/make_fit_fixture.py")
with open(os.path.join(HERE, "fit_sklearn.json"), "w") as f:
    json.dump(out, f, indent=1)
