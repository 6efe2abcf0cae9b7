#!/usr/bin/env python3
"""Per-layer probe behind the training layout (src/models/training.ts): forward + backward of the convolution and
batch-norm shapes that DenseNet121 (128x128), the ResUNet and the U-Net (256x256) train on, batch 16, in NCHW
and channels-last, through the same libtorch as tumorscope (Debian's python3-torch). Not a test; prints a table.

usage: /usr/bin/python3 bench/engine/layers.py [THREADS] [REPEATS]
"""
import sys
import time

import torch
import torch.nn.functional as F

BATCH = 16

# (network, what, in channels, out channels, kernel, stride, padding, input size)
CONVS = [
    ("densenet121@128", "stem 7x7/2", 3, 64, 7, 2, 3, 128),
    ("densenet121@128", "block1 1x1", 256, 128, 1, 1, 0, 32),
    ("densenet121@128", "block1 3x3", 128, 32, 3, 1, 1, 32),
    ("densenet121@128", "block2 1x1", 384, 128, 1, 1, 0, 16),
    ("densenet121@128", "block3 1x1", 768, 128, 1, 1, 0, 8),
    ("densenet121@128", "block3 3x3", 128, 32, 3, 1, 1, 8),
    ("densenet121@128", "block4 1x1", 992, 128, 1, 1, 0, 4),
    ("resunet@256", "stem 3x3", 16, 16, 3, 1, 1, 256),
    ("resunet@256", "encoder1 1x1", 16, 32, 1, 1, 0, 128),
    ("resunet@256", "encoder1 3x3", 32, 32, 3, 1, 1, 128),
    ("resunet@256", "decoder1 1x1", 48, 16, 1, 1, 0, 256),
    ("resunet@256", "bottleneck 3x3", 256, 256, 3, 1, 1, 16),
    ("unet@256", "encoder1 3x3", 32, 32, 3, 1, 1, 256),
    ("unet@256", "encoder3 3x3", 128, 128, 3, 1, 1, 64),
]


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def conv_step(cin, cout, k, stride, pad, size, channels_last):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(BATCH, cin, size, size).to(memory_format=fmt).requires_grad_(cin != 3)
    w = torch.randn(cout, cin, k, k).to(memory_format=fmt).requires_grad_()

    def step():
        y = F.conv2d(x, w, None, stride, pad)
        y.backward(torch.ones_like(y))
        w.grad = None
        x.grad = None

    return step


def bn_step(channels, size, channels_last):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(BATCH, channels, size, size).to(memory_format=fmt).requires_grad_()
    bn = torch.nn.BatchNorm2d(channels)

    def step():
        y = F.relu(bn(x))
        y.backward(torch.ones_like(y))
        x.grad = None

    return step


def upconv_step(cin, cout, size, channels_last):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(BATCH, cin, size, size).to(memory_format=fmt).requires_grad_()
    w = torch.randn(cin, cout, 2, 2).to(memory_format=fmt).requires_grad_()

    def step():
        y = F.conv_transpose2d(x, w, None, 2).contiguous(memory_format=fmt)
        y.backward(torch.ones_like(y))
        x.grad = None
        w.grad = None

    return step


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(threads)
    print(f"layers.py: forward + backward, batch {BATCH}, {threads} threads, median of {repeats}; ms")
    print(f"{'network':16} {'layer':16} {'NCHW':>8} {'NHWC':>8} {'NHWC/NCHW':>10}")
    rows = [(net, what, lambda cl, a=(cin, cout, k, s, p, n): conv_step(*a, cl))
            for net, what, cin, cout, k, s, p, n in CONVS]
    rows += [("densenet121@128", "BN+ReLU 512@16", lambda cl: bn_step(512, 16, cl)),
             ("resunet@256", "BN+ReLU 16@256", lambda cl: bn_step(16, 256, cl)),
             ("unet@256", "upconv 64->32@128", lambda cl: upconv_step(64, 32, 128, cl))]
    for net, what, make in rows:
        nchw = timed(make(False), repeats) * 1e3
        nhwc = timed(make(True), repeats) * 1e3
        print(f"{net:16} {what:16} {nchw:8.1f} {nhwc:8.1f} {nhwc / nchw:10.2f}")


if __name__ == "__main__":
    main()
