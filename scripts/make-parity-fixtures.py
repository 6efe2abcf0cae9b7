#!/usr/bin/env python3
"""Regenerates test/fixtures/parity/*.safetensors with PyTorch (Debian's python3-torch, the same libtorch 1.13).

For a small conv net, a small U-Net, a small ResUNet and a small DenseNet (torchvision's own code) with seeded
weights and inputs, stores the weights ("param.*"), the input and target, the forward output in train mode, the loss, every gradient ("grad.*"), the batch-norm buffers after
that forward ("buffer.*") and the weights after one Adam step ("adam.*"). tests/engine/parity.test.ts rebuilds
the same networks in tumorscope and compares. Run: /usr/bin/python3 scripts/make-parity-fixtures.py

With --out DIR --skip-unavailable (how the parity test recomputes the reference on its own machine) it writes to
DIR and leaves out the networks whose Python code is not installed (torchvision's DenseNet).
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

from torch_reference import ResUNet, UNet, conv_net, save_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "parity")


def loaded_libtorch():
    """The libtorch_cpu this process runs on, so that a recomputed reference says which build made it."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "libtorch_cpu" in path:
                return os.path.realpath(path)
    return "unknown"


def record(out_dir, name, net, x, target, loss_fn):
    tensors = {f"param.{k}": v.clone() for k, v in net.state_dict().items()}
    net.train()
    out = net(x)
    loss = loss_fn(out, target)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=1e-4)
    opt.zero_grad()
    loss.backward()
    tensors.update({"input": x, "target": target, "output": out, "loss": loss.reshape(1)})
    tensors.update({f"grad.{k}": p.grad for k, p in net.named_parameters()})
    tensors.update({f"buffer.{k}": b for k, b in net.named_buffers()})
    opt.step()
    tensors.update({f"adam.{k}": p for k, p in net.named_parameters()})
    save_safetensors(os.path.join(out_dir, f"{name}.safetensors"), tensors,
                     {"torch": torch.__version__, "threads": str(torch.get_num_threads()), "adam": "lr=1e-2,wd=1e-4",
                      "libtorch": loaded_libtorch()})
    print(f"{name}: {len(tensors)} tensors, loss {loss.item():.6f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT, help="folder for the .safetensors files (default: the test fixtures)")
    parser.add_argument("--skip-unavailable", action="store_true",
                        help="leave out networks whose Python code is not installed instead of failing")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    net = conv_net()
    x = torch.randn(4, 3, 16, 16)
    y = torch.tensor([0, 1, 1, 0])
    record(args.out, "convnet", net, x, y, lambda out, t: F.cross_entropy(out, t))
    torch.manual_seed(1)
    unet = UNet(3, 1, 4, 2)
    x = torch.rand(2, 3, 32, 32)
    m = (torch.rand(2, 1, 32, 32) > 0.7).float()
    record(args.out, "unet", unet, x, m, lambda out, t: F.binary_cross_entropy_with_logits(out, t))
    torch.manual_seed(3)
    resunet = ResUNet(3, 1, 4, 2)
    x = torch.rand(2, 3, 32, 32)
    m = (torch.rand(2, 1, 32, 32) > 0.7).float()
    record(args.out, "resunet", resunet, x, m, lambda out, t: F.binary_cross_entropy_with_logits(out, t))
    try:
        import torchvision
    except ImportError:
        if not args.skip_unavailable:
            raise
        print("densenet: left out, torchvision is not installed", file=sys.stderr)
        return

    torch.manual_seed(2)
    densenet = torchvision.models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2,
                                           num_classes=2)
    x = torch.rand(4, 3, 32, 32)
    y = torch.tensor([1, 0, 0, 1])
    record(args.out, "densenet", densenet, x, y, lambda out, t: F.cross_entropy(out, t))


if __name__ == "__main__":
    main()
