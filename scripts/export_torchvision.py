#!/usr/bin/python3
"""Export a torchvision ImageNet network to ONNX for itscope's --weights.

    /usr/bin/python3 scripts/export_torchvision.py resnet50 resnet50.onnx
    /usr/bin/python3 scripts/export_torchvision.py vgg19 vgg19.onnx
    itscope fit --data demo --features resnet50:layer3 --weights resnet50.onnx --pca 1000

Needs torch and torchvision (Debian: python3-torch python3-torchvision) and,
for the pretrained weights, internet access once (torchvision downloads them
to ~/.cache/torch). Architectures: resnet18, resnet50, vgg19, mobilenet_v2.

The export keeps torchvision's parameter names (conv1.weight,
layer3.0.bn1.running_mean, ...), which itscope matches by name and shape:
torch.onnx.export in eval mode would fold each BatchNorm into its conv and
rename the tensors "onnx::Conv_NNN" (itscope still loads such a file, by
conv order and shape, but its conv1 tap is then conv1 and bn1 together).
--random exports torchvision's random initialisation instead (for tests).
"""
import argparse
import sys

import torch
import torchvision

ARCHS = {
    "resnet18": ("resnet18", "ResNet18_Weights"),
    "resnet50": ("resnet50", "ResNet50_Weights"),
    "vgg19": ("vgg19", "VGG19_Weights"),
    "mobilenet_v2": ("mobilenet_v2", "MobileNet_V2_Weights"),
}


def build(arch, random):
    fn, weights = ARCHS[arch]
    w = None if random else getattr(torchvision.models, weights).IMAGENET1K_V1
    return getattr(torchvision.models, fn)(weights=w)


def export(model, path, opset=13):
    """Exports model (put in eval mode) keeping parameter names."""
    model.eval()
    x = torch.zeros(1, 3, 224, 224)
    torch.onnx.export(
        model, x, path,
        export_params=True,
        # PRESERVE keeps BatchNormalization nodes and their named parameters
        # (the model is in eval mode, so they use the running statistics);
        # no constant folding, so no tensor is renamed.
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        opset_version=opset,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("arch", choices=sorted(ARCHS))
    p.add_argument("out", help="the .onnx file to write")
    p.add_argument("--random", action="store_true", help="torchvision's random initialisation, not the ImageNet weights")
    a = p.parse_args()
    export(build(a.arch, a.random), a.out)
    print("wrote %s; use it with: itscope ... --weights %s" % (a.out, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
