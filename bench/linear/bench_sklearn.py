#!/usr/bin/python3
"""scikit-learn peer of bench/linear/gobench: PCA(1000) then RidgeCV over 17
alphas with the same 5 folds, fitted on DIR/x_train.npy, scored on DIR/x_val.npy.

  /usr/bin/python3 bench/linear/bench_sklearn.py DIR [SVD_SOLVER]

SVD_SOLVER defaults to scikit-learn's 'auto' (randomized at these sizes).
Prints one JSON line with phase times and the validation scores.
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.metrics import explained_variance_score
from sklearn.model_selection import PredefinedSplit

d = sys.argv[1]
solver = sys.argv[2] if len(sys.argv) > 2 else "auto"
t0 = time.perf_counter()
xtr = np.load(d + "/x_train.npy")
xva = np.load(d + "/x_val.npy")
ytr, yva = np.load(d + "/y_train.npy"), np.load(d + "/y_val.npy")
folds = np.load(d + "/folds.npy")
t1 = time.perf_counter()
pca = PCA(1000, svd_solver=solver, random_state=0).fit(xtr)
ztr, zva = pca.transform(xtr), pca.transform(xva)
t2 = time.perf_counter()
rcv = RidgeCV(alphas=np.logspace(-2, 6, 17), cv=PredefinedSplit(folds)).fit(ztr, ytr)
pred = rcv.predict(zva)
t3 = time.perf_counter()
ev = explained_variance_score(yva, pred, multioutput="raw_values")
np.save(d + "/sk_%s_explained_variance.npy" % solver, pca.explained_variance_)
np.save(d + "/sk_%s_ev.npy" % solver, ev)
r = [np.corrcoef(yva[:, j], pred[:, j])[0, 1] for j in range(yva.shape[1])]
print(json.dumps({
    "side": "scikit-learn " + sklearn.__version__, "solver": solver,
    "load_s": t1 - t0, "pca_s": t2 - t1, "ridgecv_s": t3 - t2, "total_s": t3 - t0,
    "alpha": float(rcv.alpha_), "ev_mean": float(ev.mean()), "r_mean": float(np.mean(r)),
    "explained_variance_first": pca.explained_variance_[:3].tolist(),
    "explained_variance_1000th": float(pca.explained_variance_[-1]),
}))
