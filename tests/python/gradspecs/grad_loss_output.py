"""Gradient specs of libmx/op/grad/loss_output_grad.cc. Only _rnn_param_concat's gradient is a
derivative (Concat's); the loss layers (BlockGrad, make_loss, MakeLoss, the regression outputs,
SVMOutput) follow MXNet's rules instead and are checked against numpy in test_loss_output.py."""
from grad_specs import U

GRAD_SPECS = {
    "_rnn_param_concat": [([U(6), U(4), U(2)], {"num_args": 3, "dim": 0}),
                          ([U(2, 3), U(2, 1)], {"num_args": 2}),
                          ([U(2, 1, 3), U(2, 1, 2)], {"num_args": 2, "dim": -1})],
}
