"""Gradient specs of the fused RNN operator (finite differences of the first output, out; the
state outputs' gradients are checked in test_nn_rnn.py)."""
from grad_specs import U


def _p(mode, I, H, L, D):
    G = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}[mode]
    return sum(D * (G * H * ((I if l == 0 else D * H) + H) + 2 * G * H) for l in range(L))


def _case(mode, T, N, I, H, L, D, **extra):
    S = (L * D, N, H)
    makers = [U(T, N, I, low=-1, high=1), U(_p(mode, I, H, L, D), low=-0.6, high=0.6), U(*S, low=-1, high=1)]
    if mode == "lstm":
        makers.append(U(*S, low=-1, high=1))
    params = {"mode": mode, "state_size": H, "num_layers": L, "bidirectional": D == 2}
    params.update(extra)
    return (makers, params)


GRAD_SPECS = {
    "RNN": [_case(m, 3, 2, 3, 2, 2, 2) for m in ("rnn_tanh", "lstm", "gru", "rnn_relu")]
    + [_case("lstm", 2, 2, 2, 3, 1, 1, state_outputs=True)],
}
