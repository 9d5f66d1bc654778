"""The Python Executor (Symbol.bind / simple_bind / eval, Executor.forward / backward / reshape /
copy_params_from): results against numpy and against the same ops run imperatively with
mx.autograd, arrays shared with libmx, MXNet 1.9.1's model files, and clear errors."""
import numpy as np
import pytest

import mx
from mx import autograd, base, nd


@pytest.fixture(autouse=True)
def _fresh_names():
    with mx.name.NameManager():
        yield


def _arr(x):
    x = np.asarray(x)
    return nd.array(x, dtype=x.dtype)


def _mlp_sym():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=6, name="fc1")
    act = mx.sym.Activation(fc1, act_type="tanh", name="act")
    return mx.sym.FullyConnected(act, num_hidden=3, name="fc2")


def _mlp_params(rng, n_in=5):
    return {"fc1_weight": rng.standard_normal((6, n_in)).astype(np.float32),
            "fc1_bias": rng.standard_normal(6).astype(np.float32),
            "fc2_weight": rng.standard_normal((3, 6)).astype(np.float32),
            "fc2_bias": rng.standard_normal(3).astype(np.float32)}


def _mlp_numpy(x, p):
    h = np.tanh(x @ p["fc1_weight"].T + p["fc1_bias"])
    return h @ p["fc2_weight"].T + p["fc2_bias"]


def _mlp_imperative(x, p, og):
    """Output and gradients of the same MLP run op by op under autograd."""
    arrs = {k: _arr(v) for k, v in dict(p, data=x).items()}
    for a in arrs.values():
        a.attach_grad()
    with autograd.record():
        h = nd.FullyConnected(arrs["data"], arrs["fc1_weight"], arrs["fc1_bias"], num_hidden=6)
        h = nd.Activation(h, act_type="tanh")
        y = nd.FullyConnected(h, arrs["fc2_weight"], arrs["fc2_bias"], num_hidden=3)
    y.backward(_arr(og))
    return y.asnumpy(), {k: a.grad.asnumpy() for k, a in arrs.items()}


# ------------------------------------------------------------------ bind
def test_bind_forward_backward_match_imperative_autograd():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    p = _mlp_params(rng)
    og = rng.standard_normal((4, 3)).astype(np.float32)
    sym = _mlp_sym()
    args = {k: _arr(v) for k, v in dict(p, data=x).items()}
    grads = {k: nd.zeros(v.shape) for k, v in args.items()}
    exe = sym.bind(mx.cpu(), args, args_grad=grads)
    outs = exe.forward(is_train=True)
    assert len(outs) == 1 and outs[0] is exe.outputs[0]
    np.testing.assert_allclose(outs[0].asnumpy(), _mlp_numpy(x, p), rtol=1e-5, atol=1e-5)
    exe.backward(_arr(og))
    want_y, want_g = _mlp_imperative(x, p, og)
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), want_y, rtol=1e-5, atol=1e-6)
    for name in sym.list_arguments():
        np.testing.assert_allclose(exe.grad_dict[name].asnumpy(), want_g[name], rtol=1e-4,
                                   atol=1e-5, err_msg=name)
        assert exe.grad_dict[name] is grads[name]      # the caller's arrays, written in place
        assert exe.arg_dict[name] is args[name]
    assert list(exe.output_dict) == ["fc2_output"]


def test_bound_arrays_are_used_in_place():
    rng = np.random.default_rng(1)
    p = _mlp_params(rng)
    sym = _mlp_sym()
    names = sym.list_arguments()
    arrays = [_arr(dict(p, data=np.zeros((2, 5), np.float32))[n]) for n in names]
    exe = sym.bind(mx.cpu(), arrays)                    # a list in list_arguments order
    x = rng.standard_normal((2, 5)).astype(np.float32)
    arrays[0][:] = x                                    # the user's array is the executor's
    np.testing.assert_allclose(exe.forward()[0].asnumpy(), _mlp_numpy(x, p), rtol=1e-5, atol=1e-5)
    x2 = rng.standard_normal((2, 5)).astype(np.float32)
    exe.arg_dict["data"][:] = x2
    np.testing.assert_allclose(exe.forward()[0].asnumpy(), _mlp_numpy(x2, p), rtol=1e-5, atol=1e-5)
    x3 = rng.standard_normal((2, 5)).astype(np.float32)
    out = exe.forward(data=x3)                          # kwargs are copied in (numpy)
    np.testing.assert_allclose(out[0].asnumpy(), _mlp_numpy(x3, p), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(arrays[0].asnumpy(), x3)
    exe.forward(data=_arr(x))                           # ... or an NDArray
    np.testing.assert_array_equal(exe.arg_dict["data"].asnumpy(), x)
    assert exe.grad_arrays == [None] * len(names)       # no args_grad: no gradients


def test_grad_req_add_null_and_partial_grads():
    rng = np.random.default_rng(2)
    a_np = rng.standard_normal((3, 4)).astype(np.float32)
    b_np = rng.standard_normal((3, 4)).astype(np.float32)
    a, b = mx.sym.var("a"), mx.sym.var("b")
    y = a * b + a
    ga, gb = nd.ones((3, 4)), nd.ones((3, 4))
    exe = y.bind(mx.cpu(), {"a": _arr(a_np), "b": _arr(b_np)}, args_grad={"a": ga, "b": gb},
                 grad_req={"a": "add", "b": "write"})
    og = np.full((3, 4), 2.0, np.float32)
    for _ in range(2):
        exe.forward(is_train=True)
        exe.backward([_arr(og)])
    np.testing.assert_allclose(ga.asnumpy(), 1 + 2 * og * (b_np + 1), rtol=1e-6)  # added twice
    np.testing.assert_allclose(gb.asnumpy(), og * a_np, rtol=1e-6)                # overwritten
    # only a's gradient asked for: b gets none, even with grad_req 'write'
    ga2 = nd.zeros((3, 4))
    exe2 = y.bind(mx.cpu(), [_arr(a_np), _arr(b_np)], args_grad={"a": ga2})
    exe2.forward(is_train=True)
    exe2.backward(_arr(og))
    assert exe2.grad_dict["b"] is None
    np.testing.assert_allclose(ga2.asnumpy(), og * (b_np + 1), rtol=1e-6)
    # grad_req null for a, per-argument list
    gb3 = nd.zeros((3, 4))
    exe3 = y.bind(mx.cpu(), [_arr(a_np), _arr(b_np)], args_grad=[nd.ones((3, 4)), gb3],
                  grad_req=["null", "write"])
    exe3.forward(is_train=True)
    exe3.backward({y.list_outputs()[0]: _arr(og)})     # out_grads by output name
    np.testing.assert_array_equal(exe3.arg_arrays[0].asnumpy(), a_np)
    np.testing.assert_allclose(gb3.asnumpy(), og * a_np, rtol=1e-6)
    np.testing.assert_array_equal(exe3.grad_arrays[0].asnumpy(), np.ones((3, 4)))  # untouched


def test_softmax_output_loss_backward_without_out_grads():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    label = np.array([0, 3, 1, 2, 3], np.float32)
    sym = mx.sym.SoftmaxOutput(mx.sym.var("data"), name="softmax")
    assert sym.list_arguments() == ["data", "softmax_label"]
    gx = nd.zeros((5, 4))
    exe = sym.bind(mx.cpu(), {"data": _arr(x), "softmax_label": _arr(label)},
                   args_grad={"data": gx})
    p = exe.forward(is_train=True)[0].asnumpy()
    e = np.exp(x - x.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, want, rtol=1e-5, atol=1e-6)
    exe.backward()
    np.testing.assert_allclose(gx.asnumpy(), want - np.eye(4, dtype=np.float32)[label.astype(int)],
                               rtol=1e-5, atol=1e-6)


def test_batchnorm_aux_states_train_and_inference():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 3, 2, 2)).astype(np.float32) * 2 + 1
    gamma = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    beta = rng.standard_normal(3).astype(np.float32)
    mm0 = rng.standard_normal(3).astype(np.float32)
    mv0 = rng.uniform(0.5, 2, 3).astype(np.float32)
    sym = mx.sym.BatchNorm(mx.sym.var("data"), fix_gamma=False, momentum=0.9, eps=1e-5, name="bn")
    aux = {"bn_moving_mean": _arr(mm0), "bn_moving_var": _arr(mv0)}
    exe = sym.bind(mx.cpu(), {"data": _arr(x), "bn_gamma": _arr(gamma), "bn_beta": _arr(beta)},
                   aux_states=aux)
    assert exe.aux_dict["bn_moving_mean"] is aux["bn_moving_mean"]
    # inference: the moving statistics normalise, and nothing changes
    y = exe.forward(is_train=False)[0].asnumpy()
    c = (slice(None), None, None)
    want = (x - mm0[c]) / np.sqrt(mv0[c] + 1e-5) * gamma[c] + beta[c]
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(aux["bn_moving_mean"].asnumpy(), mm0)
    # training: the same as the imperative op in training mode (aux updated in place)
    ia = [_arr(v) for v in (x, gamma, beta, mm0, mv0)]
    with autograd.train_mode():
        want_y = nd.BatchNorm(*ia, fix_gamma=False, momentum=0.9, eps=1e-5)
    y = exe.forward(is_train=True)[0].asnumpy()
    np.testing.assert_allclose(y, want_y.asnumpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(aux["bn_moving_mean"].asnumpy(), ia[3].asnumpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(aux["bn_moving_var"].asnumpy(), ia[4].asnumpy(), rtol=1e-5, atol=1e-6)
    batch_mean = x.mean(axis=(0, 2, 3))
    np.testing.assert_allclose(aux["bn_moving_mean"].asnumpy(), 0.9 * mm0 + 0.1 * batch_mean,
                               rtol=1e-5, atol=1e-6)


def test_eval_and_gradient_symbol():
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal((3, 2)).astype(np.float32)
    w_np = rng.standard_normal((3, 2)).astype(np.float32)
    x, w = mx.sym.var("x"), mx.sym.var("w")
    loss = mx.sym.sum(mx.sym.square(x * w))
    out = loss.eval(x=_arr(x_np), w=_arr(w_np))
    np.testing.assert_allclose(out[0].asnumpy().reshape(()), np.sum((x_np * w_np) ** 2), rtol=1e-5)
    g = loss.gradient(["x", "w"])
    assert len(g) == 2
    gx, gw = g.eval(ctx=mx.cpu(), x=_arr(x_np), w=_arr(w_np))
    np.testing.assert_allclose(gx.asnumpy(), 2 * x_np * w_np ** 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gw.asnumpy(), 2 * w_np * x_np ** 2, rtol=1e-5, atol=1e-6)
    grp = mx.sym.Group([x * 2, x + w])
    a, b = grp.eval(x=_arr(x_np), w=_arr(w_np))
    np.testing.assert_allclose(a.asnumpy(), 2 * x_np)
    np.testing.assert_allclose(b.asnumpy(), x_np + w_np)


# ------------------------------------------------------------------ simple_bind, reshape
def test_simple_bind_allocates_from_shapes():
    rng = np.random.default_rng(6)
    sym = _mlp_sym()
    exe = sym.simple_bind(mx.cpu(), data=(4, 5))
    shapes = {k: v.shape for k, v in exe.arg_dict.items()}
    assert shapes == {"data": (4, 5), "fc1_weight": (6, 5), "fc1_bias": (6,),
                      "fc2_weight": (3, 6), "fc2_bias": (3,)}
    assert all((a.asnumpy() == 0).all() for a in exe.arg_arrays)
    assert all(g.shape == a.shape for g, a in zip(exe.grad_arrays, exe.arg_arrays))
    assert all(isinstance(a, nd.NDArray) for a in exe.arg_arrays + exe.grad_arrays)
    p = _mlp_params(rng)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    og = rng.standard_normal((4, 3)).astype(np.float32)
    exe.copy_params_from({k: _arr(v) for k, v in p.items()})
    exe.arg_dict["data"][:] = x                      # visible to libmx's executor
    exe.forward(is_train=True)
    exe.backward(_arr(og))
    want_y, want_g = _mlp_imperative(x, p, og)
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), want_y, rtol=1e-5, atol=1e-5)
    for k, g in exe.grad_dict.items():
        np.testing.assert_allclose(g.asnumpy(), want_g[k], rtol=1e-4, atol=1e-5, err_msg=k)
    # dtypes and grad_req
    e64 = sym.simple_bind(mx.cpu(), grad_req="null", type_dict={"data": "float64"}, data=(2, 5))
    assert all(a.dtype == np.float64 for a in e64.arg_arrays)
    assert e64.grad_arrays == [None] * 5
    ed = sym.simple_bind(mx.cpu(), grad_req={"fc1_weight": "write"}, data=(2, 5))
    assert [n for n, g in ed.grad_dict.items() if g is not None] == ["fc1_weight"]
    bn = mx.sym.BatchNorm(mx.sym.var("data"), name="bn")
    eb = bn.simple_bind(mx.cpu(), data=(2, 3, 4))
    assert {k: v.shape for k, v in eb.aux_dict.items()} == {"bn_moving_mean": (3,),
                                                            "bn_moving_var": (3,)}


def test_simple_bind_shared_exec_shares_parameters():
    rng = np.random.default_rng(7)
    sym = _mlp_sym()
    params = [n for n in sym.list_arguments() if n != "data"]
    big = sym.simple_bind(mx.cpu(), data=(8, 5))
    p = _mlp_params(rng)
    big.copy_params_from({k: _arr(v) for k, v in p.items()})
    small = sym.simple_bind(mx.cpu(), shared_arg_names=params, shared_exec=big, data=(3, 5))
    for n in params:
        assert small.arg_dict[n] is big.arg_dict[n]
        assert small.grad_dict[n] is big.grad_dict[n]
    assert small.arg_dict["data"].shape == (3, 5)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(small.forward(data=x)[0].asnumpy(), _mlp_numpy(x, p), rtol=1e-5,
                               atol=1e-5)
    big.arg_dict["fc2_bias"][:] = 0.0                 # one parameter array for both
    np.testing.assert_allclose(small.forward()[0].asnumpy(), _mlp_numpy(x, dict(p, fc2_bias=p["fc2_bias"] * 0)),
                               rtol=1e-5, atol=1e-5)
    buf = {}
    sym.simple_bind(mx.cpu(), shared_buffer=buf, data=(3, 5))
    assert set(buf) == set(sym.list_arguments())
    with pytest.raises(ValueError, match="fc1_weight"):
        sym.simple_bind(mx.cpu(), shared_arg_names=params, shared_exec=big, data=(3, 4))


def test_reshape_shares_unchanged_arrays():
    rng = np.random.default_rng(8)
    sym = _mlp_sym()
    exe = sym.simple_bind(mx.cpu(), data=(6, 5))
    p = _mlp_params(rng)
    exe.copy_params_from({k: _arr(v) for k, v in p.items()})
    small = exe.reshape(data=(2, 5))
    assert small.arg_dict["data"].shape == (2, 5)
    for n in p:
        assert small.arg_dict[n].storage_id() == exe.arg_dict[n].storage_id()
    x = rng.standard_normal((2, 5)).astype(np.float32)
    np.testing.assert_allclose(small.forward(data=x)[0].asnumpy(), _mlp_numpy(x, p), rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(base.MXNetError, match="data"):
        small.reshape(data=(6, 5))                     # growing needs allow_up_sizing
    big = small.reshape(allow_up_sizing=True, data=(9, 5))
    x9 = rng.standard_normal((9, 5)).astype(np.float32)
    np.testing.assert_allclose(big.forward(data=x9)[0].asnumpy(), _mlp_numpy(x9, p), rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(base.MXNetError, match="fc1_weight"):
        exe.reshape(data=(6, 4))                       # changes a weight: needs partial_shaping
    other = exe.reshape(partial_shaping=True, data=(6, 4))
    assert other.arg_dict["fc1_weight"].shape == (6, 4)


def test_copy_params_from():
    sym = _mlp_sym()
    exe = sym.simple_bind(mx.cpu(), data=(2, 5))
    w = np.arange(30, dtype=np.float64).reshape(6, 5)
    exe.copy_params_from({"fc1_weight": _arr(w)})     # cast to the executor's dtype
    np.testing.assert_array_equal(exe.arg_dict["fc1_weight"].asnumpy(), w.astype(np.float32))
    with pytest.raises(ValueError, match="extra"):
        exe.copy_params_from({"extra": nd.ones(2)})
    exe.copy_params_from({"extra": nd.ones(2)}, {"more": nd.ones(1)}, allow_extra_params=True)
    with pytest.raises(ValueError, match="auxiliary"):
        exe.copy_params_from({}, {"more": nd.ones(1)})
    with pytest.raises(base.ShapeError, match="fc1_bias"):
        exe.copy_params_from({"fc1_bias": nd.ones(7)})


# ------------------------------------------------------------------ MXNet 1.9.1 models
@pytest.mark.parametrize("model", ["cnn", "mlp_bn"])
def test_mxnet_checkpoint_predicts_stored_output(mxnet_fixtures, model):
    sym = mx.sym.load(str(mxnet_fixtures / ("%s-symbol.json" % model)))
    saved = nd.load(str(mxnet_fixtures / ("%s-0000.params" % model)))
    arg_params = {k[4:]: v for k, v in saved.items() if k.startswith("arg:")}
    aux_params = {k[4:]: v for k, v in saved.items() if k.startswith("aux:")}
    x = np.load(str(mxnet_fixtures / ("%s_input.npy" % model)))
    want = np.load(str(mxnet_fixtures / ("%s_output.npy" % model)))
    exe = sym.simple_bind(mx.cpu(), grad_req="null", data=x.shape)
    exe.copy_params_from(arg_params, aux_params)
    got = exe.forward(is_train=False, data=x)[0].asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    args = dict(arg_params, data=_arr(x))
    got2 = sym.bind(mx.cpu(), args, aux_states=aux_params).forward()[0].asnumpy()
    np.testing.assert_allclose(got2, want, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ errors
def test_bind_errors_name_the_argument():
    sym = _mlp_sym()
    rng = np.random.default_rng(9)
    p = {k: _arr(v) for k, v in _mlp_params(rng).items()}
    with pytest.raises(ValueError, match="`data`, `fc2_bias` are missing"):
        sym.bind(mx.cpu(), dict((k, v) for k, v in p.items() if k != "fc2_bias"))
    with pytest.raises(ValueError, match="Length of args"):
        sym.bind(mx.cpu(), [p["fc1_weight"]])
    bad = dict(p, data=nd.ones((4, 5)), fc1_weight=nd.ones((6, 7)))
    with pytest.raises(base.MXNetError) as e:
        sym.bind(mx.cpu(), bad)
    msg = str(e.value)
    assert "fc1_weight" in msg and "(6, 7)" in msg and "(6, 5)" in msg
    with pytest.raises(TypeError, match="data"):
        sym.bind(mx.cpu(), dict(p, data=np.ones((4, 5))))
    with pytest.raises(ValueError, match="grad_req"):
        sym.bind(mx.cpu(), dict(p, data=nd.ones((4, 5))), grad_req="sometimes")
    with pytest.raises(NotImplementedError, match="group2ctx"):
        sym.bind(mx.cpu(), dict(p, data=nd.ones((4, 5))), group2ctx={"dev1": mx.cpu()})
    with pytest.raises(TypeError, match="Context"):
        sym.bind(3, dict(p, data=nd.ones((4, 5))))
    bn = mx.sym.BatchNorm(mx.sym.var("data"), name="bn")
    with pytest.raises(ValueError, match="bn_moving_mean"):
        bn.bind(mx.cpu(), {"data": nd.ones((2, 3)), "bn_gamma": nd.ones(3), "bn_beta": nd.ones(3)})


def test_executor_errors():
    sym = _mlp_sym()
    exe = sym.simple_bind(mx.cpu(), data=(4, 5))
    with pytest.raises(TypeError, match="nosuch"):
        exe.forward(nosuch=np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match="data"):
        exe.forward(data=np.ones((3, 5), np.float32))
    exe.forward(is_train=True)
    with pytest.raises(ValueError, match="out_grads"):
        exe.backward([nd.ones((4, 3)), nd.ones((4, 3))])
    with pytest.raises(TypeError):
        exe.backward([np.ones((4, 3))])
    with pytest.raises(base.MXNetError):
        exe.backward([nd.ones((4, 2))])                # wrong head gradient shape
    with pytest.raises(NotImplementedError, match="monitor"):
        exe.set_monitor_callback(lambda *a: None)
    with pytest.raises(NotImplementedError, match="sparse"):
        sym.simple_bind(mx.cpu(), stype_dict={"data": "csr"}, data=(4, 5))
    with pytest.raises(TypeError, match="shape"):
        sym.simple_bind(mx.cpu(), data=4)
    with pytest.raises(base.MXNetError):
        sym.simple_bind(mx.cpu(), nosuch=(4, 5))
    planned, naive = exe.memory_bytes()
    assert 0 <= planned <= naive
    assert "fc2" in exe.debug_str()
