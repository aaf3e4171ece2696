#!/usr/bin/python3
"""The Python side of bench/study/run.sh: the study's pipeline as a user writes it with PyTorch and
scikit-learn, on the same network and data as itscope's sweep.

    study_torch.py export DIR SEED          seeded torchvision resnet50(weights=None): DIR/resnet50.pt
                                            (state dict) and DIR/resnet50.onnx for itscope
                                            (scripts/export_torchvision.py's export)
    study_torch.py responses H5 DIR         rewrite spikes_train/val of a make_big_h5.py file with
                                            responses the taps can predict (see make_responses)
    study_torch.py plan H5 DIR BUDGET_GB PCA
                                            the memory each tap needs on this side; prints the taps
                                            that fit in BUDGET_GB (the rest run on itscope only)
    study_torch.py run H5 DIR PCA ALPHAS TAP...
                                            forward hooks (clone) on the taps in one pass over train and
                                            val, then per tap PCA(PCA, svd_solver="randomized") and
                                            RidgeCV(alphas=ALPHAS, cv=5); prints JSON: per tap mean EV
                                            (explained_variance_score) and mean Pearson r on val, and
                                            the seconds of each stage

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, scikit-learn 1.2, h5py).
"""
import json
import os
import sys
import time

import h5py
import numpy as np
import torch
import torchvision

TAPS = ["conv1", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
BATCH = 16  # itscope sweep's default --batch
OVERSAMPLES = 10  # randomized_svd's n_oversamples default
# "full" (exact PCA, as itscope's) shows that the EV and r differences come from the randomized solver.
SOLVER = os.environ.get("STUDY_PY_SOLVER", "randomized")


def model_from(folder):
    m = torchvision.models.resnet50(weights=None)
    m.load_state_dict(torch.load(os.path.join(folder, "resnet50.pt")))
    return m.eval()


def export(folder, seed):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
    from export_torchvision import export as export_onnx
    torch.manual_seed(seed)
    m = torchvision.models.resnet50(weights=None).eval()
    torch.save(m.state_dict(), os.path.join(folder, "resnet50.pt"))
    export_onnx(m, os.path.join(folder, "resnet50.onnx"))


def make_responses(path, folder):
    """168 neurons, each a fixed random mix of the network's own avgpool features (centred on train,
    scaled to unit variance on train) plus as much Gaussian noise: the random-valued responses of
    make_big_h5.py leave every tap at EV 0, which would make the comparison vacuous. This way the
    avgpool and fc taps predict about half the variance and the earlier taps less."""
    model = model_from(folder)
    rng = np.random.default_rng(1)
    w = rng.standard_normal((2048, 168))
    pooled = []
    model.avgpool.register_forward_hook(lambda _m, _i, out: pooled.append(out.flatten(1).numpy().astype(np.float64)))
    with h5py.File(path, "r+") as f:
        n_tr = f["stimulus_train"].shape[0]
        with torch.no_grad():
            for split in ("train", "val"):
                x = f["stimulus_" + split]
                for i in range(0, x.shape[0], BATCH):
                    model(torch.from_numpy(x[i:i + BATCH]))
        a = np.concatenate(pooled)
        signal = (a - a[:n_tr].mean(axis=0)) @ w
        y = signal / signal[:n_tr].std(axis=0) + rng.standard_normal(signal.shape)
        for split, rows in (("train", y[:n_tr]), ("val", y[n_tr:])):
            del f["spikes_" + split]
            f["spikes_" + split] = rows


def tap_dims(model):
    dims = {}
    hooks = [getattr(model, t).register_forward_hook(lambda _m, _i, out, t=t: dims.__setitem__(t, out[0].numel()))
             for t in TAPS]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    return dims


def plan(path, folder, budget_gb, pca):
    """The bytes this side holds for a set of taps: every tap's train and val features (float32,
    one forward pass fills them all), then, for the widest tap, PCA's own copy of its train rows
    and randomized_svd's p x (PCA+10) blocks (the Gaussian start in float64 and its float32 cast,
    then B = QᵀX and its SVD's Vᵀ: about 12 bytes per entry at the peak), plus 0.5 GB for the
    interpreter, torch and the model. Taps are added narrowest first while the total fits."""
    with h5py.File(path, "r") as f:
        n_tr, n_va = f["stimulus_train"].shape[0], f["stimulus_val"].shape[0]
    dims = tap_dims(model_from(folder))
    held, chosen, lines, full = 0, [], [], False
    for t in sorted(TAPS, key=lambda t: dims[t]):
        p = dims[t]
        feats = 4 * (n_tr + n_va) * p
        work = 4 * n_tr * p + 12 * p * (pca + OVERSAMPLES)
        need = held + feats + work + 0.5e9
        full = full or need > budget_gb * 1e9
        if not full:
            chosen.append(t)
            held += feats
        lines.append("  %-8s %9d features: train+val %6.2f GB; with the narrower taps and PCA work %6.2f GB -> %s"
                     % (t, p, feats / 1e9, need / 1e9, "Python and itscope" if t in chosen else "itscope only"))
    print("Python memory plan (budget %.1f GB; %d train + %d val images, PCA %d):" % (budget_gb, n_tr, n_va, pca),
          file=sys.stderr)
    print("\n".join(lines), file=sys.stderr)
    print(",".join(t for t in TAPS if t in chosen))


def pearson(y, p):
    y = y - y.mean(axis=0)
    p = p - p.mean(axis=0)
    return (y * p).sum(axis=0) / np.sqrt((y * y).sum(axis=0) * (p * p).sum(axis=0))


def run(path, folder, pca, alphas, taps):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import explained_variance_score

    t0 = time.time()
    model = model_from(folder)
    torch.manual_seed(0)
    with h5py.File(path, "r") as f:
        n_tr, n_va = f["stimulus_train"].shape[0], f["stimulus_val"].shape[0]
        y_tr, y_va = f["spikes_train"][:], f["spikes_val"][:]
        dims = tap_dims(model)
        feats = {t: np.empty((n_tr + n_va, dims[t]), dtype=np.float32) for t in taps}
        row = [0]

        def hook(t):
            def keep(_module, _inp, out):
                a = out.detach().clone().reshape(out.shape[0], -1)
                feats[t][row[0]:row[0] + a.shape[0]] = a.numpy()
            return keep

        hooks = [getattr(model, t).register_forward_hook(hook(t)) for t in taps]
        with torch.no_grad():
            for split, n in (("train", n_tr), ("val", n_va)):
                x = f["stimulus_" + split]
                for i in range(0, n, BATCH):
                    model(torch.from_numpy(x[i:i + BATCH]))
                    row[0] += min(BATCH, n - i)
        for h in hooks:
            h.remove()
    out = {"forward_s": time.time() - t0, "pca_solver": SOLVER, "layers": []}
    # Widest first, freeing each after its fit: the peak is with every tap held.
    for t in sorted(taps, key=lambda t: -dims[t]):
        x = feats.pop(t)
        r = {"layer": t, "features": dims[t]}
        t1 = time.time()
        p = PCA(n_components=pca, svd_solver=SOLVER, random_state=0).fit(x[:n_tr])
        z_tr, z_va = p.transform(x[:n_tr]), p.transform(x[n_tr:])
        del x
        t2 = time.time()
        rcv = RidgeCV(alphas=alphas, cv=5).fit(z_tr, y_tr)
        pred = rcv.predict(z_va)
        t3 = time.time()
        with np.errstate(invalid="ignore"):  # r is NaN where a prediction is constant, as in itscope
            r_mean = float(np.nanmean(pearson(y_va, pred)))
        r.update(pca_s=t2 - t1, ridge_s=t3 - t2, alpha=float(rcv.alpha_),
                 ev_mean=float(explained_variance_score(y_va, pred, multioutput="raw_values").mean()),
                 r_mean=r_mean)
        out["layers"].append(r)
        print("python: %s done (PCA %.1f s, ridge CV %.1f s)" % (t, t2 - t1, t3 - t2), file=sys.stderr)
    out["total_s"] = time.time() - t0
    json.dump(out, sys.stdout)
    print()


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "export":
        export(a[0], int(a[1]))
    elif cmd == "responses":
        make_responses(a[0], a[1])
    elif cmd == "plan":
        plan(a[0], a[1], float(a[2]), int(a[3]))
    elif cmd == "run":
        run(a[0], a[1], int(a[2]), [float(v) for v in a[3].split(",")], a[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
