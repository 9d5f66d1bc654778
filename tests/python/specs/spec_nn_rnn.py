"""Specs for the fused RNN operator and its backward op _backward_RNN.

The numpy model below (float64) follows MXNet 1.9's RNN: parameters packed as all weights (per
layer and direction W_i2h (G*H, in) then W_h2h (G*H, H)) followed by all biases (b_i2h, b_h2h) in
the same order; LSTM gates i, f, g, o; GRU gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h +
b_hn)). It also returns the reserve (the intermediates _backward_RNN reads) in the op's layout, so
_backward_RNN can be checked on its own: its reference is the finite-difference vector-Jacobian
product of the numpy model.
"""
import numpy as np

from opspec import Case

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def param_size(mode, I, H, L, D):
    G = GATES[mode]
    n = 0
    for l in range(L):
        n += D * (G * H * ((I if l == 0 else D * H) + H) + 2 * G * H)
    return n


def unpack(w, mode, I, H, L, D):
    """[(W_i2h, W_h2h, b_i2h, b_h2h) per layer and direction]."""
    G = GATES[mode]
    w = np.asarray(w, dtype=np.float64)
    mats, off = [], 0
    for l in range(L):
        ins = I if l == 0 else D * H
        for d in range(D):
            wi = w[off:off + G * H * ins].reshape(G * H, ins)
            off += G * H * ins
            wh = w[off:off + G * H * H].reshape(G * H, H)
            off += G * H * H
            mats.append([wi, wh])
    for k in range(L * D):
        mats[k].append(w[off:off + G * H])
        off += G * H
        mats[k].append(w[off:off + G * H])
        off += G * H
    assert off == w.size
    return mats


def rnn_model(x, w, h0, c0=None, *, mode, state_size, num_layers=1, bidirectional=False, clip=None):
    """(out, hy, cy, reserve) in float64. clip: (lo, hi) for LSTM cell states."""
    x = np.asarray(x, dtype=np.float64)
    T, N, I = x.shape
    H, L, D = state_size, num_layers, 2 if bidirectional else 1
    mats = unpack(w, mode, I, H, L, D)
    h0 = np.asarray(h0, dtype=np.float64)
    c0 = None if c0 is None else np.asarray(c0, dtype=np.float64)
    hy, cy = np.zeros((L * D, N, H)), np.zeros((L * D, N, H))
    reserve = []
    inp = x
    for l in range(L):
        Y = np.zeros((T, N, D * H))
        per_dir = []
        for d in range(D):
            wi, wh, bi, bh = mats[l * D + d]
            h = h0[l * D + d]
            c = c0[l * D + d] if mode == "lstm" else None
            gates = np.zeros((T, N, GATES[mode] * H))
            aux = np.zeros((T, N, H))
            for t in (range(T) if d == 0 else range(T - 1, -1, -1)):
                xw = inp[t] @ wi.T + bi
                hw = h @ wh.T + bh
                if mode == "lstm":
                    pre = xw + hw
                    i, f = _sig(pre[:, :H]), _sig(pre[:, H:2 * H])
                    g, o = np.tanh(pre[:, 2 * H:3 * H]), _sig(pre[:, 3 * H:])
                    c = f * c + i * g
                    if clip is not None:
                        c = np.clip(c, clip[0], clip[1])
                    h = o * np.tanh(c)
                    gates[t] = np.concatenate([i, f, g, o], axis=1)
                    aux[t] = c
                elif mode == "gru":
                    r = _sig(xw[:, :H] + hw[:, :H])
                    z = _sig(xw[:, H:2 * H] + hw[:, H:2 * H])
                    n = np.tanh(xw[:, 2 * H:] + r * hw[:, 2 * H:])
                    gates[t] = np.concatenate([r, z, n], axis=1)
                    aux[t] = hw[:, 2 * H:]
                    h = (1 - z) * n + z * h
                else:
                    pre = xw + hw
                    h = np.maximum(pre, 0) if mode == "rnn_relu" else np.tanh(pre)
                Y[t, :, d * H:(d + 1) * H] = h
            hy[l * D + d] = h
            if mode == "lstm":
                cy[l * D + d] = c
            if mode in ("lstm", "gru"):
                per_dir += [gates.ravel(), aux.ravel()]
        reserve += [Y.ravel()] + per_dir
        inp = Y
    return inp, hy, cy, np.concatenate(reserve)


def rnn_ref(*ins, mode, state_size, num_layers=1, bidirectional=False, state_outputs=False,
            lstm_state_clip_min=None, lstm_state_clip_max=None, **_):
    """The visible outputs of RNN, cast to the input dtype."""
    clip = None if lstm_state_clip_min is None else (lstm_state_clip_min, lstm_state_clip_max)
    c0 = ins[3] if mode == "lstm" else None
    out, hy, cy, _r = rnn_model(ins[0], ins[1], ins[2], c0, mode=mode, state_size=state_size,
                                num_layers=num_layers, bidirectional=bidirectional, clip=clip)
    dt = ins[0].dtype
    res = [out.astype(dt)]
    if state_outputs:
        res.append(hy.astype(dt))
        if mode == "lstm":
            res.append(cy.astype(dt))
    return res if len(res) > 1 else res[0]


def rnn_inputs(mode, T, N, I, H, L=1, D=1, scale=0.5):
    """inputs(dtype, rng) for RNN: data, parameters, state (, state_cell)."""
    def make(dtype, rng):
        P = param_size(mode, I, H, L, D)
        xs = [rng.uniform(-1, 1, size=(T, N, I)), rng.uniform(-scale, scale, size=P),
              rng.uniform(-1, 1, size=(L * D, N, H))]
        if mode == "lstm":
            xs.append(rng.uniform(-1, 1, size=(L * D, N, H)))
        return [a.astype(dtype) for a in xs]
    return make


def vjp_fd(x, w, h0, c0, dout, dhy, dcy, *, mode, H, L, D, clip=None, eps=1e-6):
    """Finite-difference gradients of sum(dout*out) + sum(dhy*hy) + sum(dcy*cy) w.r.t. x, w, h0, c0."""
    lstm = mode == "lstm"
    args = [np.array(a, dtype=np.float64) for a in (x, w, h0, c0 if lstm else h0)]

    def loss(a):
        out, hy, cy, _ = rnn_model(a[0], a[1], a[2], a[3] if lstm else None, mode=mode, state_size=H,
                                   num_layers=L, bidirectional=D == 2, clip=clip)
        s = np.sum(dout * out) + np.sum(dhy * hy)
        return s + (np.sum(dcy * cy) if lstm else 0.0)

    grads = []
    for k in range(4 if lstm else 3):
        g = np.zeros_like(args[k])
        flat, gf = args[k].reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            v = flat[i]
            flat[i] = v + eps
            lp = loss(args)
            flat[i] = v - eps
            lm = loss(args)
            flat[i] = v
            gf[i] = (lp - lm) / (2 * eps)
        grads.append(g)
    return grads


def backward_case(mode, T, N, I, H, L, D, clip=None, name=""):
    params = {"mode": mode, "state_size": H, "num_layers": L, "bidirectional": D == 2}
    if clip is not None:
        params.update(lstm_state_clip_min=clip[0], lstm_state_clip_max=clip[1])
    lstm = mode == "lstm"

    def inputs(dtype, rng):
        x, w, h0 = rnn_inputs(mode, T, N, I, H, L, D)("float64", rng)[:3]
        c0 = rng.uniform(-1, 1, size=h0.shape) if lstm else h0
        x, w, h0, c0 = (a.astype(dtype).astype(np.float64) for a in (x, w, h0, c0))
        _o, _h, _c, res = rnn_model(x, w, h0, c0 if lstm else None, mode=mode, state_size=H, num_layers=L,
                                    bidirectional=D == 2, clip=clip)
        dout = rng.uniform(-1, 1, size=(T, N, D * H))
        dhy = rng.uniform(-1, 1, size=h0.shape)
        dcy = rng.uniform(-1, 1, size=h0.shape)
        return [a.astype(dtype) for a in (dout, dhy, dcy, x, w, h0, c0, res)]

    def ref(dout, dhy, dcy, x, w, h0, c0, res, **_):
        gs = vjp_fd(x, w, h0, c0, dout.astype(np.float64), dhy.astype(np.float64), dcy.astype(np.float64),
                    mode=mode, H=H, L=L, D=D, clip=clip)
        return [g.astype(x.dtype) for g in gs]

    return [Case(inputs, ref, params, dtypes=["float64"], rtol=1e-6, atol=1e-8, name=name + "-f64"),
            Case(inputs, ref, params, dtypes=["float32"], rtol=2e-3, atol=2e-4, name=name + "-f32")]


def _cases():
    out = []
    shapes = [(4, 3, 5, 6, 1, 1), (3, 2, 4, 5, 2, 1), (3, 2, 3, 4, 2, 2), (1, 1, 2, 3, 1, 2)]
    for mode in ("rnn_relu", "rnn_tanh", "lstm", "gru"):
        for (T, N, I, H, L, D) in shapes:
            for so in (False, True):
                out.append(Case(rnn_inputs(mode, T, N, I, H, L, D), rnn_ref,
                                {"mode": mode, "state_size": H, "num_layers": L, "bidirectional": D == 2,
                                 "state_outputs": so}, dtypes=["float32", "float64"], rtol=1e-5, atol=2e-6,
                                name=f"{mode}-T{T}N{N}I{I}H{H}L{L}D{D}-so{int(so)}"))
    # LSTM state clipping (a range tight enough to bite).
    out.append(Case(rnn_inputs("lstm", 5, 3, 4, 6, 2, 2, scale=1.5), rnn_ref,
                    {"mode": "lstm", "state_size": 6, "num_layers": 2, "bidirectional": True, "state_outputs": True,
                     "lstm_state_clip_min": -0.3, "lstm_state_clip_max": 0.25},
                    dtypes=["float32", "float64"], rtol=1e-5, atol=2e-6, name="lstm-clip"))
    # Explicit p=0 and a larger hidden size (exercises the vectorised gate math).
    out.append(Case(rnn_inputs("lstm", 4, 5, 7, 33), rnn_ref,
                    {"mode": "lstm", "state_size": 33, "num_layers": 1, "p": 0.0},
                    dtypes=["float32", "float64"], rtol=1e-5, atol=2e-6, name="lstm-H33"))
    return out


def _backward_cases():
    out = []
    for mode in ("rnn_relu", "rnn_tanh", "lstm", "gru"):
        out += backward_case(mode, 3, 2, 3, 2, 2, 2, name=mode)
    out += backward_case("lstm", 2, 2, 2, 3, 1, 1, clip=(-0.4, 0.35), name="lstm-clip")
    return out


SPECS = {"RNN": _cases(), "_backward_RNN": _backward_cases()}
