#!/usr/bin/python3
"""Summary of bench/study/run.sh: report.py TMP PYTHON_LAYERS. Reads each side's JSON, time -v
output and (itscope) run.json timings from TMP; prints per-layer EV and r side by side, each
side's time by stage, and the itscope/Python time and memory ratios against the issue's targets
(time <= 0.5x, memory <= 0.25x)."""
import glob
import json
import os
import sys

TAPS = ["conv1", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
TIME_TARGET, MEMORY_TARGET = 0.5, 0.25
AGREE = 1e-2


def timev(path):
    """Wall seconds and peak RSS (GiB) from /usr/bin/time -v."""
    wall = rss = 0.0
    for line in open(path):
        k, _, v = line.strip().rpartition(": ")
        if k.startswith("Elapsed (wall clock)"):
            wall = sum(float(p) * 60 ** i for i, p in enumerate(reversed(v.split(":"))))
        elif k == "Maximum resident set size (kbytes)":
            rss = float(v) / 2 ** 20
    return wall, rss


def itscope_side(tmp):
    """Per-layer summaries of the sweep's JSON, each with the timings of its run.json."""
    layers = {r["layer"]: r for r in json.load(open(os.path.join(tmp, "itscope.json")))["layers"]}
    timings = {}
    for path in glob.glob(os.path.join(tmp, "runs", "*", "run.json")):
        meta = json.load(open(path))
        timings[meta["id"]] = meta.get("timings_s", {})
    for r in layers.values():
        r["timings"] = timings[r["run_id"]]
    wall, rss = timev(os.path.join(tmp, "itscope.time"))
    return layers, wall, rss


def fmt(v, spec=".4f"):
    return "-" if v is None else format(v, spec)


def main():
    tmp, pylayers = sys.argv[1], sys.argv[2].split(",")
    gl, gwall, grss = itscope_side(tmp)
    py = json.load(open(os.path.join(tmp, "python.json")))
    pyl = {r["layer"]: r for r in py["layers"]}
    pwall, prss = timev(os.path.join(tmp, "python.time"))

    print("\nPer-layer validation scores (mean over 168 neurons; Python's PCA solver: %s):" % py.get("pca_solver", "randomized"))
    print("| layer | itscope EV | itscope r | Python EV | Python r | EV diff | r diff | alpha itscope / Python |")
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for t in TAPS:
        g, p = gl[t], pyl.get(t)
        dev = dr = None
        if p is not None:
            dev, dr = g["ev_mean"] - p["ev_mean"], g["r_mean"] - p["r_mean"]
            worst = max(worst, abs(dev), abs(dr))
        alpha = "%.3g / %s" % (g["alpha"], "-" if p is None else "%.3g" % p["alpha"])
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            t, fmt(g["ev_mean"]), fmt(g["r_mean"]), fmt(p and p["ev_mean"]), fmt(p and p["r_mean"]),
            fmt(dev, "+.4f"), fmt(dr, "+.4f"), alpha))
    missing = [t for t in TAPS if t not in pylayers]
    if missing:
        print("Python ran %s only: with %s its estimate exceeds its memory budget (the plan above)."
              % (", ".join(pylayers), ", ".join(missing)))
    print("largest |difference| %.4f: %s the %.0e agreement" % (worst, "within" if worst <= AGREE else "OUTSIDE", AGREE))

    # The one extraction pass runs before the first fit and outside the runs' timings: it is the
    # wall time the fits do not account for (with start-up, a fraction of a second).
    fits = sum(r["timings"].get("total", 0.0) for r in gl.values())
    extract = gwall - fits

    def stage(layers, key):
        return sum(gl[t]["timings"].get(key, 0.0) for t in layers)

    print("\nTime by stage (s): itscope's extraction pass (every tap written to its cache: wall time"
          " outside the fits), then per layer reading the cache, PCA and ridge CV (run.json timings);"
          " Python's forward pass (hooks into memory), PCA, ridge CV:")
    print("| side | layers | wall s | peak RSS GiB | forward (+ cache writes) | cache reads | PCA | ridge CV |")
    print("|---|---|---|---|---|---|---|---|")
    print("| itscope | all 7 | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f |" % (
        gwall, grss, extract, stage(TAPS, "features"), stage(TAPS, "pca"), stage(TAPS, "fit")))
    common = extract + sum(gl[t]["timings"].get("total", 0.0) for t in pylayers)
    if missing:
        print("| itscope | %s | %.0f (upper bound) | %.2f (all 7) | %.0f | %.0f | %.0f | %.0f |" % (
            ",".join(pylayers), common, grss, extract, stage(pylayers, "features"), stage(pylayers, "pca"),
            stage(pylayers, "fit")))
    print("| Python | %s | %.0f | %.2f | %.0f | - | %.0f | %.0f |" % (
        ",".join(pylayers), pwall, prss, py["forward_s"], sum(r["pca_s"] for r in py["layers"]),
        sum(r["ridge_s"] for r in py["layers"])))

    def verdict(ratio, target):
        return "meets <= %.2fx" % target if ratio <= target else "misses %.2fx: %.2fx over" % (target, ratio / target)

    tr, mr = common / pwall, grss / prss
    print("\nitscope/Python on the layers both ran (%s): time %.2fx (%s), memory %.3fx (%s)%s"
          % (",".join(pylayers), tr, verdict(tr, TIME_TARGET), mr, verdict(mr, MEMORY_TARGET),
             "; itscope's figures include its extraction of the other taps" if missing else ""))
    if missing:
        print("itscope on all 7 layers / Python on its %d: time %.2fx, memory %.3fx"
              % (len(pylayers), gwall / pwall, grss / prss))


if __name__ == "__main__":
    main()
