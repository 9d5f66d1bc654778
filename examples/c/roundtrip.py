#!/usr/bin/env python3
"""Cross-language round trip of the main job: the seed CNN trained in Python
(examples/mnist_cnn.py, parameters in --params) predicts MNIST test images from a C program.

The C program, examples/c/predict_mnist.c, includes only mx/c_api.h and links the libmx of the
installed `mx` package (its headers and library ship inside the package). This script compiles it,
runs it on the first --count test images, runs the same images through the Gluon net in Python,
and prints both predictions side by side with the largest probability difference. Exits 1 when the
two disagree (classes differ or probabilities differ by more than 1e-5).
"""
import argparse
import os
import subprocess
import sys

import numpy as np

import mx
from mx import gluon, nd
from mx.gluon import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def seed_net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(32, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
                nn.Conv2D(64, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
                nn.Flatten(), nn.Dense(10))
    return net


def build_c_program(out_dir):
    pkg = os.path.dirname(mx.__file__)
    inc, lib = os.path.join(pkg, "include"), os.path.join(pkg, "lib")
    if not os.path.isdir(inc):  # an in-tree development build: the headers are in the checkout
        inc = os.path.join(HERE, "..", "..", "include")
    exe = os.path.join(out_dir, "predict_mnist")
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-std=c99", "-O2", os.path.join(HERE, "predict_mnist.c"), "-I", inc, "-L", lib, "-lmx",
           "-Wl,-rpath," + lib, "-o", exe]
    subprocess.run(cmd, check=True)
    return exe


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=os.path.join("mnist_out", "mnist_cnn.params"))
    ap.add_argument("--data-root", default=os.path.join("data", "mnist"))
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--out-dir", default="mnist_out")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    images = os.path.join(args.data_root, "t10k-images-idx3-ubyte")

    exe = build_c_program(args.out_dir)
    run = subprocess.run([exe, args.params, images, str(args.count)], capture_output=True, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stdout + run.stderr)
        return 1
    rows = [line.split() for line in run.stdout.strip().splitlines()]
    c_class = np.array([int(r[1]) for r in rows])
    c_prob = np.array([[float(v) for v in r[2:12]] for r in rows])

    net = seed_net()
    net.load_parameters(args.params)
    test = gluon.data.vision.MNIST(root=args.data_root, train=False)
    x = nd.stack(*[gluon.data.vision.transforms.ToTensor()(test[i][0]) for i in range(args.count)])
    py_prob = nd.softmax(net(x)).asnumpy()
    py_class = py_prob.argmax(axis=1)
    labels = [test[i][1] for i in range(args.count)]

    print(f"{'image':>5} {'label':>5} {'Python':>6} {'C':>3}")
    for i in range(args.count):
        print(f"{i:>5} {labels[i]:>5} {py_class[i]:>6} {c_class[i]:>3}")
    diff = float(np.abs(py_prob - c_prob).max())
    same = bool((py_class == c_class).all()) and diff <= 1e-5
    print(f"max |p_Python - p_C| = {diff:.2e}: {'identical predictions' if same else 'MISMATCH'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
