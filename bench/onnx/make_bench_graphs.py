#!/usr/bin/env python3
"""Exports the ONNX fixture networks (test/fixtures/onnx/make_onnx_fixtures.py) at benchmark widths as
graphs WITHOUT weights (torch.onnx.export(export_params=False): parameters and BatchNorm statistics
become graph inputs, a few KB per file instead of tens of MB); bench/onnx.ts gives them seeded random
values as initializers before voxgpu and ONNX Runtime read the model. Also writes graphs.json: per
graph its input shape, parameter count and forward FLOPs (2 per multiply-add of every Conv and
ConvTranspose, counted by forward hooks, as bench/lib/flops.ts counts voxgpu's V-Net).

  monai_unet  MONAI UNet, channels (16, 32, 64, 128, 256), strides 2, 2 residual units (MONAI's
              spleen tutorial), opset 11
  monai_vnet  MONAI VNet, its fixed 16 base channels, opset 13
  meshnet     MeshNet, width 21, dilations 1 2 4 8 4 2 1 (brainchop's), opset 17
  paper_vnet  voxgpu's V-Net as the paper: base 16, 5x5x5, encoder 1 2 3 3 3, decoder 3 3 2 1, opset 15

Each at the cubic sizes given (default 32 and 128):
  /usr/bin/python3 bench/onnx/make_bench_graphs.py [SIZE ...] && npx biome format --write bench/onnx/graphs.json
(about 10 minutes on a 2-core host: the FLOP count runs each network once at each size).
"""
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures", "onnx"))
from make_onnx_fixtures import MeshNet, MonaiUNet, MonaiVNet, PaperVNet  # noqa: E402

NETWORKS = {
    "monai_unet": (lambda: MonaiUNet(1, 2, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2), num_res_units=2), 11),
    "monai_vnet": (lambda: MonaiVNet(1, 2, base=16), 13),
    "meshnet": (lambda: MeshNet(1, 3, width=21), 17),
    "paper_vnet": (lambda: PaperVNet(1, 2, base=16, enc=(1, 2, 3, 3, 3), dec=(3, 3, 2, 1), k=5), 15),
}


def conv_flops(model, x):
    total = [0]

    def hook(m, inputs, output):
        k = m.weight.shape[2:].numel()
        if isinstance(m, nn.ConvTranspose3d):
            total[0] += 2 * inputs[0].numel() * (m.out_channels // m.groups) * k
        else:
            total[0] += 2 * output.numel() * (m.in_channels // m.groups) * k

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total[0]


def main(sizes):
    index_path = os.path.join(HERE, "graphs.json")
    index = json.load(open(index_path)) if os.path.exists(index_path) else {}
    for name, (make, opset) in NETWORKS.items():
        model = make().eval()
        params = sum(p.numel() for p in model.parameters())
        for size in sizes:
            x = torch.zeros(1, 1, size, size, size)
            file = f"{name}_{size}.onnx"
            torch.onnx.export(model, x, os.path.join(HERE, file), opset_version=opset, input_names=["input"], output_names=["output"], export_params=False)
            index[file[:-5]] = {"network": name, "input": list(x.shape), "opset": opset, "parameters": params, "flops": conv_flops(model, x)}
            print(f"{file}: {params} parameters, {index[file[:-5]]['flops'] / 1e9:.2f} GFLOP, {os.path.getsize(os.path.join(HERE, file))} bytes")
    with open(index_path, "w") as f:
        json.dump(dict(sorted(index.items())), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [32, 128])
