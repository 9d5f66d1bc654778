"""Specs of CTCLoss and _backward_CTCLoss. The CTCLoss reference sums the probability of every
alignment path explicitly (tiny cases: C**T paths), independent of the op's recursions."""
import itertools

import numpy as np

from opspec import Case


def _nll(x, labels, blank):
    T, C = x.shape
    logp = x - x.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        out, prev = [], None
        for c in path:
            if c != prev and c != blank:
                out.append(c)
            prev = c
        if out == labels:
            total += np.exp(sum(logp[t, c] for t, c in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


def ctc_ref(data, label, *lengths, use_data_lengths=False, use_label_lengths=False, blank_label="first"):
    T, N, C = data.shape
    lengths = list(lengths)
    dlen = lengths.pop(0).astype(np.int64) if use_data_lengths else np.full(N, T)
    llen = lengths.pop(0).astype(np.int64) if use_label_lengths else None
    blank, pad = (0, 0) if blank_label == "first" else (C - 1, -1)
    out = []
    for n in range(N):
        lab = [int(v) for v in label[n]]
        if llen is not None:
            lab = lab[:llen[n]]
        elif pad in lab:
            lab = lab[:lab.index(pad)]
        out.append(_nll(data[:dlen[n], n].astype(np.float64), lab, blank))
    return np.asarray(out, dtype=data.dtype)


def ctc_inputs(T, N, C, label, dlen=None, llen=None):
    def make(dt, rng):
        xs = [rng.normal(size=(T, N, C)).astype(dt), np.asarray(label, dtype="float32")]
        if dlen is not None:
            xs.append(np.asarray(dlen, dtype="int32"))
        if llen is not None:
            xs.append(np.asarray(llen, dtype="int64"))
        return xs
    return make


def backward_ref(ograd, grad):
    return grad * ograd[None, :, None]


def backward_inputs(dt, rng):
    return [rng.uniform(-1, 1, size=(3,)).astype(dt), rng.uniform(-1, 1, size=(4, 3, 5)).astype(dt)]


SPECS = {
    "CTCLoss": [
        Case(ctc_inputs(4, 3, 3, [[1, 2], [2, 0], [1, 1]]), ctc_ref, {}, name="first-padding"),
        Case(ctc_inputs(5, 2, 3, [[0, 1, 0], [1, -1, -1]]), ctc_ref, {"blank_label": "last"}, name="last-padding"),
        Case(ctc_inputs(4, 3, 3, [[1, 2], [2, 2], [1, 1]], dlen=[4, 2, 3], llen=[2, 1, 0]), ctc_ref,
             {"use_data_lengths": True, "use_label_lengths": True}, name="both-lengths"),
        Case(ctc_inputs(4, 2, 3, [[1, 0], [0, 1]], llen=[2, 1]), ctc_ref,
             {"use_label_lengths": True, "blank_label": "last"}, name="label-lengths-only"),
    ],
    "_backward_CTCLoss": [Case(backward_inputs, backward_ref, {})],
}
