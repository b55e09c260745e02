#!/usr/bin/env python3
"""Stratum's nets (nets/*.cc) in PyTorch, timed the way //tools:bench times them, for side-by-side figures.

Usage: torch_nets.py [--nets all|a,b] [--mode train|infer] [--batch N] [--size N] [--steps N] [--warmup N]
                     [--device cpu|cuda] [--threads N]
       torch_nets.py --export DIR [--nets all|a,b] [--opsets 13,17] [--batch N]
Exporting writes, per net and opset, DIR/<net>_opset<k>/model.onnx (eval mode, dynamic batch "N", batch
norm with non-trivial statistics) and test_data_set_0/input_0.pb, output_0.pb: a random batch in [0,1)
and PyTorch's logits for it, laid out as ONNX's own node tests are (onnx/pytorch_models_test reads them),
and the same as raw f32 (input.f32, output.f32) with pytorch.json, bench/ort_check.js's manifest.
Otherwise it prints one line per net, the columns of //tools:bench's summary:
  net size batch mode img/s ms/step GFLOP/img GFLOP/s
A step is what Stratum's is: in training, forward, mean cross-entropy, the count of correct predictions,
backward and a plain SGD update at the recipe's lr; in inference, forward, the loss and the count. Input
is random. GFLOP/img counts 2 x the multiply-adds of every conv and linear layer of one forward pass, three
times that for a training step. Runs on PyTorch 1.13 (Debian's python3-torch) and 2.x.
"""
import argparse
import ctypes
import json
import os
import time

import torch
from torch import nn


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def bn_lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(), nn.Linear(84, 10))


def dense_head(features):
    """AlexNet's and VGG's: two 4096-wide dense layers with dropout, then the 10 classes."""
    return [nn.Flatten(), nn.Linear(features, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 10)]


def alexnet():
    return nn.Sequential(
        nn.Conv2d(1, 96, 11, 4, 1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), *dense_head(6400))


def vgg11(ratio):
    layers, cin = [], 1
    for convs, channels in ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)):
        for _ in range(convs):
            layers += [nn.Conv2d(cin, channels // ratio, 3, padding=1), nn.ReLU()]
            cin = channels // ratio
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers, *dense_head(cin * 7 * 7))


def nin_block(cin, c, k, s, p):
    return [nn.Conv2d(cin, c, k, s, p), nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU()]


def nin():
    return nn.Sequential(
        *nin_block(1, 96, 11, 4, 0), nn.MaxPool2d(3, 2), *nin_block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
        *nin_block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2), nn.Dropout(0.5), *nin_block(384, 10, 3, 1, 1),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())


class Inception(nn.Module):
    """1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, each conv with ReLU, concatenated."""

    def __init__(self, cin, c1, c2, c3, c4):
        super().__init__()
        self.p1 = nn.Conv2d(cin, c1, 1)
        self.p2_1, self.p2_2 = nn.Conv2d(cin, c2[0], 1), nn.Conv2d(c2[0], c2[1], 3, padding=1)
        self.p3_1, self.p3_2 = nn.Conv2d(cin, c3[0], 1), nn.Conv2d(c3[0], c3[1], 5, padding=2)
        self.p4_1, self.p4_2 = nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, c4, 1)

    def forward(self, x):
        r = torch.relu
        return torch.cat((r(self.p1(x)), r(self.p2_2(r(self.p2_1(x)))), r(self.p3_2(r(self.p3_1(x)))),
                          r(self.p4_2(self.p4_1(x)))), dim=1)


def googlenet():
    return nn.Sequential(
        nn.Conv2d(1, 64, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        Inception(192, 64, (96, 128), (16, 32), 32), Inception(256, 128, (128, 192), (32, 96), 64),
        nn.MaxPool2d(3, 2, 1),
        Inception(480, 192, (96, 208), (16, 48), 64), Inception(512, 160, (112, 224), (24, 64), 64),
        Inception(512, 128, (128, 256), (24, 64), 64), Inception(512, 112, (144, 288), (32, 64), 64),
        Inception(528, 256, (160, 320), (32, 128), 128), nn.MaxPool2d(3, 2, 1),
        Inception(832, 256, (160, 320), (32, 128), 128), Inception(832, 384, (192, 384), (48, 128), 128),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(1024, 10))


def stem():
    """ResNet's and DenseNet's: 7x7 conv (stride 2), batch norm, ReLU, 3x3 max pool (stride 2)."""
    return [nn.Conv2d(1, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]


class Residual(nn.Module):
    """conv3-BN-ReLU-conv3-BN, plus the input (through a strided 1x1 conv where the shape changes), ReLU."""

    def __init__(self, cin, c, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, c, 3, stride, 1), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        self.shortcut = nn.Conv2d(cin, c, 1, stride) if stride != 1 or cin != c else None

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.shortcut is None else self.shortcut(x)))


def resnet18():
    blocks, cin = [], 64
    for stage, c in enumerate((64, 128, 256, 512)):
        blocks += [Residual(cin, c, 1 if stage == 0 else 2), Residual(c, c, 1)]
        cin = c
    return nn.Sequential(*stem(), *blocks, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10))


def bn_relu_conv(cin, c, k):
    """DenseNet's pre-activation order."""
    return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, c, k, padding=k // 2))


class DenseBlock(nn.Module):
    """Each conv sees every earlier output of the block, concatenated."""

    def __init__(self, convs, cin, growth):
        super().__init__()
        self.convs = nn.ModuleList([bn_relu_conv(cin + i * growth, growth, 3) for i in range(convs)])

    def forward(self, x):
        for conv in self.convs:
            x = torch.cat((x, conv(x)), dim=1)
        return x


def densenet():
    layers, c = stem(), 64
    for block in range(4):
        layers.append(DenseBlock(4, c, 32))
        c += 4 * 32
        if block < 3:  # transition: halve the channels (1x1 conv) and the resolution
            layers += [bn_relu_conv(c, c // 2, 1), nn.AvgPool2d(2, 2)]
            c //= 2
    return nn.Sequential(*layers, nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                         nn.Linear(c, 10))


class RegNetBlock(nn.Module):
    """RegNetX's (ResNeXt's, bottleneck ratio 1): 1x1 conv-BN-ReLU, grouped 3x3 conv-BN-ReLU (groups of
    `group_width` channels), 1x1 conv-BN, plus the input (1x1 conv and BN where strided), ReLU."""

    def __init__(self, cin, c, group_width, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, c, 1), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, stride, 1, groups=c // group_width), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 1), nn.BatchNorm2d(c))
        self.shortcut = nn.Sequential(nn.Conv2d(cin, c, 1, stride), nn.BatchNorm2d(c)) if stride != 1 else None

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.shortcut is None else self.shortcut(x)))


def regnetx32():
    layers, cin = [nn.Conv2d(1, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU()], 32
    for blocks, c in ((4, 32), (6, 80)):
        for i in range(blocks):
            layers.append(RegNetBlock(cin, c, 16, 2 if i == 0 else 1))
            cin = c
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(80, 10))


# name: (builder, recipe batch, lr, input size), as nets/*.cc
NETS = {
    "lenet": (lenet, 256, 0.9, 28),
    "bn_lenet": (bn_lenet, 256, 1.0, 28),
    "alexnet": (alexnet, 128, 0.01, 224),
    "vgg11": (lambda: vgg11(1), 128, 0.05, 224),
    "vgg11_4": (lambda: vgg11(4), 128, 0.05, 224),
    "nin": (nin, 128, 0.1, 224),
    "googlenet": (googlenet, 128, 0.1, 96),
    "resnet18": (resnet18, 256, 0.05, 96),
    "densenet": (densenet, 256, 0.1, 96),
    "regnetx32": (regnetx32, 128, 0.05, 96),
}


def xavier_init(net):
    """The book's init: Xavier-uniform conv and linear weights (biases and batch norm as PyTorch's)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)


def forward_flops(net, size, device):
    """2 x the multiply-adds of every Conv2d and Linear for one image, one forward pass."""
    total = [0]

    def hook(m, inputs, out):
        if isinstance(m, nn.Conv2d):
            total[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            total[0] += 2 * m.in_features * m.out_features

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, size, size, device=device))
    for h in hooks:
        h.remove()
    return total[0]


def step_fn(net, x, y, lr, training):
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=lr)

    def train_step():
        opt.zero_grad()
        logits = net(x)
        loss_fn(logits, y).backward()
        opt.step()
        (logits.argmax(1) == y).sum()

    def infer_step():
        with torch.no_grad():
            logits = net(x)
            loss_fn(logits, y)
            (logits.argmax(1) == y).sum()

    net.train(training)
    return train_step if training else infer_step


def bench(name, args, device):
    make, recipe_batch, lr, recipe_size = NETS[name]
    batch, size = args.batch or recipe_batch, args.size or recipe_size
    net = make().to(device)
    xavier_init(net)
    flops = forward_flops(net, size, device) * (3 if args.mode == "train" else 1)
    x = torch.rand(batch, 1, size, size, device=device) * 2 - 1
    y = torch.randint(0, 10, (batch,), device=device)
    step = step_fn(net, x, y, lr, args.mode == "train")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    dt = (time.perf_counter() - start) / args.steps
    print(f"{name} {size} {batch} {args.mode} {batch / dt:.1f} img/s {dt * 1e3:.1f} ms/step "
          f"{flops / 1e9:.3f} GFLOP/img {flops * batch / dt / 1e9:.1f} GFLOP/s", flush=True)


def export(name, args):
    import onnx
    from onnx import numpy_helper
    make, _, _, size = NETS[name]
    torch.manual_seed(0)
    net = make()
    xavier_init(net)
    for m in net.modules():  # statistics and affine params away from their defaults, so that they matter
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
    net.eval()
    x = torch.rand(args.batch or 4, 1, size, size)
    with torch.no_grad():
        logits = net(x)
    for opset in (int(k) for k in args.opsets.split(",")):
        folder = os.path.join(args.export, f"{name}_opset{opset}")
        os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
        torch.onnx.export(net, x, os.path.join(folder, "model.onnx"), opset_version=opset, input_names=["x"],
                          output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
        for kind, tensor in (("input", x), ("output", logits)):
            proto = numpy_helper.from_array(tensor.numpy())
            with open(os.path.join(folder, "test_data_set_0", f"{kind}_0.pb"), "wb") as f:
                f.write(proto.SerializeToString())
            tensor.numpy().tofile(os.path.join(folder, f"{kind}.f32"))
        with open(os.path.join(folder, "pytorch.json"), "w") as f:  # for bench/ort_check.js
            json.dump({"net": name, "onnx": "model.onnx", "input": "input.f32", "input_shape": list(x.shape),
                       "logits": "output.f32", "logits_shape": list(logits.shape)}, f)
        onnx.checker.check_model(os.path.join(folder, "model.onnx"))
        print(f"{name} opset {opset} -> {folder}", flush=True)


def setup():
    """PyTorch's version, threads and the BLAS libraries it loaded (Debian's PyTorch uses whatever libblas.so.3
    points at: the reference BLAS unless libopenblas0-openmp is installed), with the kernels OpenBLAS chose for
    this CPU (0.3.21 takes an AMD Zen 5 for a Haswell, and runs AVX2 kernels on it)."""
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps")
                   if "blas" in line.rsplit("/", 1)[-1].lower()})
    for i, path in enumerate(blas):
        if "libopenblas" in path:
            corename = ctypes.CDLL(path).openblas_get_corename
            corename.restype = ctypes.c_char_p
            blas[i] += f" (core: {corename().decode()})"
    return f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {', '.join(blas) or 'none'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default="all", help="all, or a comma-separated list of " + ", ".join(NETS))
    ap.add_argument("--mode", default="train", choices=("train", "infer"))
    ap.add_argument("--batch", type=int, default=0, help="images per step (0: the recipe's)")
    ap.add_argument("--size", type=int, default=0, help="image size in pixels (0: the recipe's)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps before them")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: all cores)")
    ap.add_argument("--tf32", action="store_true",
                    help="on a GPU, let convolutions and matrix products use TF32 (default: FP32, as Stratum)")
    ap.add_argument("--export", metavar="DIR", help="export the nets to ONNX in DIR instead of timing them")
    ap.add_argument("--opsets", default="13,17", help="with --export: the ONNX opsets to export")
    ap.add_argument("--setup", action="store_true", help="print the version, threads and BLAS, and stop")
    args = ap.parse_args()
    names = list(NETS) if args.nets == "all" else args.nets.split(",")
    unknown = [n for n in names if n not in NETS]
    if unknown:
        ap.error(f"no net {', '.join(unknown)}; the nets are: {', '.join(NETS)}")
    if args.steps < 1:
        ap.error("--steps must be at least 1")
    torch.set_num_threads(args.threads)
    if args.setup:
        print(setup())
        return
    if args.export:
        for name in names:
            export(name, args)
        return
    torch.manual_seed(0)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its algorithms, as users do
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = args.tf32
    for name in names:
        bench(name, args, device)


if __name__ == "__main__":
    main()
