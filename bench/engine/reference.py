#!/usr/bin/env python3
"""PyTorch side of bench/engine: times one case and prints one JSON line. Same libtorch as tumorscope (Debian's);
the networks as users run them (NCHW, PyTorch's defaults).

usage: reference.py CASE THREADS ITERATIONS WARMUP SIZE BATCH
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from torch_reference import ResUNet, UNet  # noqa: E402


def build(model):
    if model == "unet":
        return UNet(3, 1, 32, 4)
    if model == "resunet":
        return ResUNet(3, 1, 16, 4)
    import torchvision
    return torchvision.models.densenet121(num_classes=2)


def main():
    case, threads, iterations, warmup, size, batch = sys.argv[1], *map(int, sys.argv[2:7])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model_name, mode = case.split("-")
    net = build(model_name)
    x = torch.rand(batch, 3, size, size)
    segmenting = model_name != "densenet"
    target = (torch.rand(batch, 1, size, size) > 0.8).float() if segmenting else torch.randint(0, 2, (batch,))
    loss_fn = F.binary_cross_entropy_with_logits if segmenting else F.cross_entropy
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), target).backward()
        opt.step()

    def infer_step():
        with torch.no_grad():
            net(x)

    if mode == "train":
        net.train()
        step = train_step
    else:
        net.eval()
        step = infer_step
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"case": case, "times": times, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
