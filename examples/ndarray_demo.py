"""A short tour of MX's NDArray: create, compute, save/load, and hand memory to numpy via DLPack.

    python examples/ndarray_demo.py        (tools/run_main.sh runs it after installing mx)

Every result is checked against numpy; the script exits non-zero if anything disagrees.
"""
import os
import sys
import tempfile

import numpy as np

import mx


def show(title, value):
    print(f"{title}:\n{value}\n")


def main():
    print(f"MX {mx.__version__ if hasattr(mx, '__version__') else ''} -- NDArray demo\n")

    # --- create
    a = mx.nd.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = mx.nd.ones((2, 3)) * 0.5
    w = mx.nd.array(np.arange(12, dtype=np.float32).reshape(3, 4) / 10)
    show("a", a)
    show("b = ones((2, 3)) * 0.5", b)

    # --- compute (ops are queued on the engine; asnumpy() waits for them)
    c = (a + b) * 2 - 1
    s = c.sum(axis=1)
    y = mx.nd.dot(a, w)
    show("c = (a + b) * 2 - 1", c)
    show("c.sum(axis=1)", s)
    show("dot(a, w)", y)
    an, bn, wn = a.asnumpy(), b.asnumpy(), w.asnumpy()
    np.testing.assert_allclose(c.asnumpy(), (an + bn) * 2 - 1, rtol=1e-6)
    np.testing.assert_allclose(s.asnumpy(), ((an + bn) * 2 - 1).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(y.asnumpy(), an @ wn, rtol=1e-5)

    # --- save / load in MXNet's .nd format (a dict of named arrays)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "demo.nd")
        mx.nd.save(path, {"c": c, "y": y, "idx": mx.nd.array([3, 1, 2], dtype="int64")})
        loaded = mx.nd.load(path)
        print(f"saved and loaded {path.rsplit(os.sep, 1)[-1]} ({os.path.getsize(path)} bytes): "
              f"{sorted(loaded)}\n")
        np.testing.assert_array_equal(loaded["c"].asnumpy(), c.asnumpy())
        np.testing.assert_array_equal(loaded["y"].asnumpy(), y.asnumpy())
        assert loaded["idx"].dtype == np.int64 and loaded["idx"].asnumpy().tolist() == [3, 1, 2]

    # --- DLPack: numpy reads MX memory without a copy
    view = np.from_dlpack(c)
    show("np.from_dlpack(c)", view)
    np.testing.assert_array_equal(view, c.asnumpy())
    c += 100  # an in-place MX op: the numpy view sees it once the engine has run it
    c.wait_to_read()
    assert view[0, 0] == c.asnumpy()[0, 0], "the DLPack view should share memory with c"
    print(f"after c += 100, the numpy view reads {view[0, 0]} at [0, 0] (same memory)\n")

    print("all results match numpy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
