#!/usr/bin/env python3
"""Train a small CNN on MNIST with Gluon, written as an MXNet 1.x user writes it.

    python tools/fetch_mnist.py                       # once: the four IDX files into data/mnist
    python examples/mnist_cnn.py                      # 2 epochs, >= 98.5% test accuracy
    python examples/mnist_cnn.py --limit 500 --epochs 3 --out-dir quick_run   # a quick check

Network (the seed CNN): Conv2D(32, 3x3, pad 1, relu) -> MaxPool2D(2) -> Conv2D(64, 3x3, pad 1,
relu) -> MaxPool2D(2) -> Flatten -> Dense(10); Xavier initialization, SGD with momentum,
softmax cross-entropy. A progress bar shows the running loss and accuracy, the throughput and the
time left; the test accuracy is printed after each epoch. The trained parameters
(``mnist_cnn.params``), the training history (``history.json``) and a plot of the training
curves (``mnist_cnn_training.png``, when matplotlib is installed) are written to --out-dir.
"""
import argparse
import json
import os
import sys
import time

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn
from mx.gluon.data.vision import transforms

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def build_net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(32, kernel_size=3, padding=1, activation="relu"),
                nn.MaxPool2D(pool_size=2),
                nn.Conv2D(64, kernel_size=3, padding=1, activation="relu"),
                nn.MaxPool2D(pool_size=2),
                nn.Flatten(),
                nn.Dense(10))
    return net


# ------------------------------------------------------------------------------ progress bar
def _fmt_time(seconds):
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%02d:%02d" % (m, s)


class ProgressBar(object):
    """One status line rewritten in place with \\r (a line every 10% when stdout is not a
    terminal): batch count, bar, running loss/accuracy, samples per second and time left."""

    def __init__(self, total, desc, width=24, stream=sys.stdout):
        self.total = max(1, total)
        self.desc = desc
        self.width = width
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.time()
        self.samples = 0
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, done, samples, **stats):
        self.samples += samples
        now = time.time()
        decile = (10 * done) // self.total
        if self.tty:
            if done < self.total and now - self._last_draw < 0.1:
                return
        elif decile == self._last_decile and done < self.total:
            return
        self._last_draw, self._last_decile = now, decile
        elapsed = max(now - self.start, 1e-9)
        rate = self.samples / elapsed
        left = elapsed / done * (self.total - done) if done else 0.0
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        parts = " ".join("%s %.4f" % (k, v) for k, v in stats.items())
        line = "%s %*d/%d [%s] %s | %.0f samples/s | %s left" % (
            self.desc, len(str(self.total)), done, self.total, bar, parts, rate, _fmt_time(left))
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done >= self.total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def elapsed(self):
        return time.time() - self.start


# ------------------------------------------------------------------------------ training
def evaluate(net, data_loader, ctx):
    metric = mx.metric.Accuracy()
    for data, label in data_loader:
        data = data.as_in_context(ctx)
        label = label.as_in_context(ctx)
        metric.update([label], [net(data)])
    return metric.get()[1]


def save_plot(history, path):
    """Loss and accuracy curves (per iteration and per epoch) as a PNG; False without
    matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    it = history["iter_loss"]
    per_epoch = max(1, history["iters_per_epoch"])
    xs = [(i + 1) / per_epoch for i in range(len(it))]
    ax_loss.plot(xs, it, lw=0.6, alpha=0.6, label="batch loss")
    epochs = list(range(1, len(history["train_loss"]) + 1))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="epoch mean loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("softmax cross-entropy")
    ax_loss.set_yscale("log")
    ax_loss.legend()
    ax_loss.set_title("training loss")
    ax_acc.plot(xs, history["iter_acc"], lw=0.6, alpha=0.6, label="train (running)")
    ax_acc.plot(epochs, history["train_acc"], "o-", label="train (epoch)")
    ax_acc.plot(epochs, history["test_acc"], "s-", label="test")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.legend()
    ax_acc.set_title("accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train the seed CNN on MNIST with mx.gluon")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05, help="SGD learning rate")
    ap.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    ap.add_argument("--wd", type=float, default=0.0, help="weight decay")
    ap.add_argument("--data-root", default=os.path.join("data", "mnist"),
                    help="folder with the MNIST IDX files (see tools/fetch_mnist.py)")
    ap.add_argument("--limit", type=int, default=None,
                    help="use only the first N training and N test images (quick runs, CI)")
    ap.add_argument("--out-dir", default="mnist_out",
                    help="where the parameters, history and plot are written")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    ap.add_argument("--no-hybridize", action="store_true")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or (args.limit is not None and args.limit < 1):
        print("error: --epochs, --batch-size and --limit must be positive", file=sys.stderr)
        return 2
    root = os.path.expanduser(args.data_root)
    missing = [n for n in IDX_NAMES
               if not any(os.path.isfile(os.path.join(root, c))
                          for c in (n, n + ".gz", n.replace("-idx", ".idx")))]
    if missing:
        print("error: MNIST files missing in %s: %s\n  fetch them with: python tools/fetch_mnist.py "
              "--data-root %s" % (root, ", ".join(missing), args.data_root), file=sys.stderr)
        return 2

    mx.random.seed(args.seed)
    ctx = mx.cpu()

    to_tensor = transforms.ToTensor()
    train_set = gluon.data.vision.MNIST(root=root, train=True)
    test_set = gluon.data.vision.MNIST(root=root, train=False)
    if args.limit:
        train_set, test_set = train_set.take(args.limit), test_set.take(args.limit)
    train_data = gluon.data.DataLoader(train_set.transform_first(to_tensor),
                                       batch_size=args.batch_size, shuffle=True,
                                       num_workers=args.num_workers)
    test_data = gluon.data.DataLoader(test_set.transform_first(to_tensor),
                                      batch_size=256, shuffle=False,
                                      num_workers=args.num_workers)

    net = build_net()
    net.initialize(mx.init.Xavier(), ctx=ctx)
    if not args.no_hybridize:
        net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": args.lr, "momentum": args.momentum, "wd": args.wd})
    train_acc = mx.metric.Accuracy()
    train_loss = mx.metric.Loss()

    os.makedirs(args.out_dir, exist_ok=True)
    history = {"iter_loss": [], "iter_acc": [], "train_loss": [], "train_acc": [],
               "test_acc": [], "epoch_time_s": [], "iters_per_epoch": len(train_data),
               "args": vars(args), "train_samples": len(train_set), "test_samples": len(test_set)}
    print("training on %d images, testing on %d (batch %d, lr %g, momentum %g, %d epochs)"
          % (len(train_set), len(test_set), args.batch_size, args.lr, args.momentum, args.epochs))
    t_start = time.time()
    for epoch in range(args.epochs):
        train_acc.reset()
        train_loss.reset()
        bar = ProgressBar(len(train_data), "epoch %d/%d" % (epoch + 1, args.epochs))
        for i, (data, label) in enumerate(train_data):
            data = data.as_in_context(ctx)
            label = label.as_in_context(ctx)
            with autograd.record():
                output = net(data)
                loss = loss_fn(output, label)
            loss.backward()
            trainer.step(data.shape[0])
            train_acc.update([label], [output])
            train_loss.update(None, [loss])
            history["iter_loss"].append(float(loss.mean().asscalar()))
            history["iter_acc"].append(train_acc.get()[1])
            bar.update(i + 1, data.shape[0], loss=train_loss.get()[1], acc=train_acc.get()[1])
        epoch_time = bar.elapsed()
        test_acc = evaluate(net, test_data, ctx)
        history["train_loss"].append(train_loss.get()[1])
        history["train_acc"].append(train_acc.get()[1])
        history["test_acc"].append(test_acc)
        history["epoch_time_s"].append(epoch_time)
        print("epoch %d: train loss %.4f, train accuracy %.4f, test accuracy %.4f (%.1f s, %.0f "
              "samples/s)" % (epoch + 1, train_loss.get()[1], train_acc.get()[1], test_acc,
                              epoch_time, len(train_set) / max(epoch_time, 1e-9)))
    total = time.time() - t_start
    history["total_time_s"] = total

    params_path = os.path.join(args.out_dir, "mnist_cnn.params")
    net.save_parameters(params_path)
    with open(os.path.join(args.out_dir, "history.json"), "w") as f:
        json.dump(history, f, indent=1)
    plot_path = os.path.join(args.out_dir, "mnist_cnn_training.png")
    if save_plot(history, plot_path):
        print("saved the training curves to %s" % plot_path)
    else:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
    print("saved the parameters to %s" % params_path)
    print("final test accuracy %.4f after %d epochs, %.1f s in all"
          % (history["test_acc"][-1], args.epochs, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
