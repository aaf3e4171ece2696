#!/usr/bin/python3
"""Check full-size torchvision resnet18 and resnet50 in itscope against PyTorch.

    go build -o bin/itscope . && /usr/bin/python3 scripts/check_full_resnets.py bin/itscope

For each network: random weights (torchvision's initialisation, then random
BatchNorm statistics and affine parameters so that folding is exercised),
exported with scripts/export_torchvision.py into a temporary folder (the files
are too large to commit), loaded by `itscope layers --net NAME --weights F
--input X.npy --dump DIR`, and each tap (conv1, layer1..4, avgpool, fc) is
compared with PyTorch's forward hooks on the same two 224x224 inputs. The
relative error is max|itscope - torch| / max|torch|; it must be <= 1e-4.
Both parameter-named (PRESERVE) and BatchNorm-folded (eval) exports are checked.
With --more, torchvision's mobilenet_v2 (as itscope's float `mobilenetv2
--weights`, taps features.0..18, avgpool, classifier) and vgg19 (every
features.N, avgpool and classifier.N; a 550 MB export) are checked too.
Exit status 1 if any tap fails. Needs Debian python3-torch and python3-torchvision.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torchvision import export  # noqa: E402

TOL = 1e-4


def taps_of(arch, model):
    """(tap name, module) pairs, and an extra hook-less tap computed from them."""
    if arch.startswith("resnet"):
        return [(t, getattr(model, t)) for t in ["conv1", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]]
    taps = [("features.%d" % i, m) for i, m in enumerate(model.features)]
    if arch == "vgg19":
        taps.append(("avgpool", model.avgpool))
        taps += [("classifier.%d" % i, m) for i, m in enumerate(model.classifier)]
    else:
        taps.append(("classifier", model.classifier))
    return taps


ITSCOPE_NAME = {"resnet18": "resnet18", "resnet50": "resnet50", "vgg19": "vgg19", "mobilenet_v2": "mobilenetv2"}


def randomise_bn(model, g):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    binary = args[0] if args else "bin/itscope"
    torch.manual_seed(414)
    g = torch.Generator().manual_seed(414)
    x = torch.randn(2, 3, 224, 224, generator=g)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), x.numpy().astype(np.float32))
        archs = ["resnet18", "resnet50"] + (["mobilenet_v2", "vgg19"] if "--more" in sys.argv else [])
        for arch in archs:
            model = getattr(torchvision.models, arch)(weights=None)
            randomise_bn(model, g)
            model.eval()
            want = {}
            # Copy at hook time: torchvision's in-place ReLUs overwrite a
            # conv's output afterwards.
            taps = taps_of(arch, model)
            hooks = [m.register_forward_hook(
                lambda mod, inp, out, tap=tap: want.__setitem__(tap, out.detach().numpy().copy()))
                for tap, m in taps]
            with torch.no_grad():
                model(x)
            for h in hooks:
                h.remove()  # the export runs the model again
            if arch == "mobilenet_v2":
                want["avgpool"] = want["features.18"].mean(axis=(2, 3), keepdims=True)
                taps.insert(-1, ("avgpool", None))
            for form in ["named", "folded"]:
                path = os.path.join(tmp, "%s_%s.onnx" % (arch, form))
                if form == "named":
                    export(model, path)
                else:
                    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, opset_version=13,
                                      input_names=["input"], output_names=["output"],
                                      dynamic_axes={"input": {0: "batch"}})
                out = os.path.join(tmp, "%s_%s_taps" % (arch, form))
                subprocess.run([binary, "layers", "--net", ITSCOPE_NAME[arch], "--weights", path,
                                "--input", os.path.join(tmp, "x.npy"), "--dump", out],
                               check=True, stdout=subprocess.DEVNULL)
                for tap, _ in taps:
                    if form == "folded" and tap == "conv1":
                        continue  # the folded export has no conv1-only output
                    got = np.load(os.path.join(out, tap + ".npy")).reshape(want[tap].shape)
                    err = np.abs(got - want[tap]).max() / np.abs(want[tap]).max()
                    ok = err <= TOL
                    failed |= not ok
                    print("%-12s %-6s %-13s shape %-20s rel err %.2e %s" % (
                        arch, form, tap, tuple(want[tap].shape), err, "ok" if ok else "FAIL"))
                os.remove(path)
    print("FAILED" if failed else "all taps within %.0e" % TOL)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
