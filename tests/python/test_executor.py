"""The bound executor (Symbol.bind / simple_bind / reshape) and its C ABI.

References: the same ops run imperatively through mx.nd (forward) and mx.autograd (gradients),
numpy formulas (softmax cross-entropy, BatchNorm running statistics), and the executor with
memory planning switched off.
"""
import numpy as np
import pytest

import mx
from mx import nd
from mx.base import check_call, ffi, lib

CPU = mx.cpu()


# ------------------------------------------------------------------ networks and references
def mlp_sym(hidden=(16, 8), classes=3):
    h = mx.sym.Variable("data")
    for i, n in enumerate(hidden):
        h = mx.sym.FullyConnected(h, num_hidden=n, name="fc%d" % i)
        h = mx.sym.Activation(h, act_type="relu" if i % 2 == 0 else "tanh", name="act%d" % i)
    return mx.sym.FullyConnected(h, num_hidden=classes, name="out")


def mlp_nd(v, hidden=(16, 8), classes=3):
    h = v["data"]
    for i, n in enumerate(hidden):
        h = nd.FullyConnected(h, v["fc%d_weight" % i], v["fc%d_bias" % i], num_hidden=n)
        h = nd.Activation(h, act_type="relu" if i % 2 == 0 else "tanh")
    return nd.FullyConnected(h, v["out_weight"], v["out_bias"], num_hidden=classes)


def conv_sym():
    d = mx.sym.Variable("data")
    h = mx.sym.Convolution(d, kernel=(3, 3), num_filter=4, pad=(1, 1), name="conv")
    h = mx.sym.BatchNorm(h, fix_gamma=False, name="bn")
    h = mx.sym.Activation(h, act_type="relu", name="relu")
    h = mx.sym.Pooling(h, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool")
    h = mx.sym.Flatten(h, name="flat")
    return mx.sym.FullyConnected(h, num_hidden=5, name="fc")


def conv_nd(v, aux):
    h = nd.Convolution(v["data"], v["conv_weight"], v["conv_bias"], kernel=(3, 3), num_filter=4, pad=(1, 1))
    h = nd.BatchNorm(h, v["bn_gamma"], v["bn_beta"], aux["bn_moving_mean"], aux["bn_moving_var"], fix_gamma=False)
    h = nd.Activation(h, act_type="relu")
    h = nd.Pooling(h, kernel=(2, 2), stride=(2, 2), pool_type="max")
    h = nd.Flatten(h)
    return nd.FullyConnected(h, v["fc_weight"], v["fc_bias"], num_hidden=5)


def random_values(sym, seed=0, **shapes):
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    rng = np.random.RandomState(seed)
    args = {n: rng.uniform(-1, 1, s).astype(np.float32) for n, s in zip(sym.list_arguments(), arg_shapes)}
    aux = {}
    for n, s in zip(sym.list_auxiliary_states(), aux_shapes):
        aux[n] = (rng.uniform(0.5, 1.5, s) if n.endswith("var") else rng.uniform(-0.2, 0.2, s)).astype(np.float32)
    return args, aux


def to_nd(d):
    return {k: nd.array(v) for k, v in d.items()}


def imperative_grads(fn, args, ograd, aux=None, train=True):
    """Gradients of sum(fn(args) * ograd) by mx.autograd (the reference); also the output."""
    v = to_nd(args)
    for a in v.values():
        a.attach_grad()
    a_nd = to_nd(aux) if aux is not None else None
    with mx.autograd.record(train_mode=train):
        out = fn(v, a_nd) if aux is not None else fn(v)
    out.backward(nd.array(ograd))
    return out.asnumpy(), {k: a.grad.asnumpy() for k, a in v.items()}, a_nd


def bind(sym, args, grad_req="write", aux=None, plan=True):
    """Binds through the raw ABI (so memory planning can be switched off); returns
    (handle, args, grads, aux) with the NDArrays used in place."""
    names = sym.list_arguments()
    a = [nd.array(args[n]) for n in names]
    g = [nd.zeros(args[n].shape) for n in names]
    reqs = {"null": 0, "write": 1, "add": 3}
    r = [reqs[grad_req[n]] if isinstance(grad_req, dict) else reqs[grad_req] for n in names]
    x = [nd.array(aux[n]) for n in sym.list_auxiliary_states()] if aux else []
    out = ffi.new("mx_executor**")
    check_call(lib.mx_executor_bind(
        sym.handle, 1, 0, len(a), ffi.new("mx_ndarray*[]", [t.handle for t in a]),
        ffi.new("mx_ndarray*[]", [t.handle for t in g]), ffi.new("int[]", r), len(x),
        ffi.new("mx_ndarray*[]", [t.handle for t in x]) if x else ffi.NULL,
        0 if plan else lib.MX_EXEC_NO_MEMORY_PLAN, out))
    return ffi.gc(out[0], lib.mx_executor_free), dict(zip(names, a)), dict(zip(names, g)), \
        dict(zip(sym.list_auxiliary_states(), x))


def raw_outputs(h):
    n = ffi.new("size_t*")
    check_call(lib.mx_executor_num(h, 3, n))
    res = []
    for i in range(n[0]):
        o = ffi.new("mx_ndarray**")
        check_call(lib.mx_executor_get(h, 3, i, o))
        res.append(nd.NDArray(o[0]).asnumpy())
    return res


def raw_backward(h, ograds):
    arr = ffi.new("mx_ndarray*[]", [g.handle for g in ograds]) if ograds else ffi.NULL
    check_call(lib.mx_executor_backward(h, len(ograds), arr))


# ------------------------------------------------------------------ forward / backward
def test_mlp_forward_and_gradients_equal_imperative():
    sym = mlp_sym()
    args, _ = random_values(sym, data=(6, 10))
    ex = sym.bind(CPU, to_nd(args), args_grad={k: nd.zeros(v.shape) for k, v in args.items()})
    out = ex.forward(is_train=True)[0].asnumpy()
    ograd = np.random.RandomState(3).randn(6, 3).astype(np.float32)
    ex.backward(nd.array(ograd))
    ref_out, ref_grads, _ = imperative_grads(mlp_nd, args, ograd)
    np.testing.assert_allclose(out, ref_out, rtol=1e-6, atol=1e-6)
    for name, g in ref_grads.items():
        np.testing.assert_allclose(ex.grad_dict[name].asnumpy(), g, rtol=1e-5, atol=1e-6, err_msg=name)


def test_conv_net_training_forward_gradients_and_aux_equal_imperative():
    sym = conv_sym()
    args, aux = random_values(sym, data=(3, 2, 6, 6))
    ex = sym.bind(CPU, to_nd(args), args_grad={k: nd.zeros(v.shape) for k, v in args.items()},
                  aux_states=to_nd(aux))
    out = ex.forward(is_train=True)[0].asnumpy()
    ograd = np.random.RandomState(4).randn(*out.shape).astype(np.float32)
    ex.backward(nd.array(ograd))
    ref_out, ref_grads, ref_aux = imperative_grads(conv_nd, args, ograd, aux=aux)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    for name, g in ref_grads.items():
        np.testing.assert_allclose(ex.grad_dict[name].asnumpy(), g, rtol=1e-4, atol=1e-5, err_msg=name)
    for name, a in ref_aux.items():
        np.testing.assert_allclose(ex.aux_dict[name].asnumpy(), a.asnumpy(), rtol=1e-5, atol=1e-6, err_msg=name)
        assert not np.allclose(ex.aux_dict[name].asnumpy(), aux[name])  # training updated it


def test_inference_forward_equals_imperative_and_leaves_aux_alone():
    sym = conv_sym()
    args, aux = random_values(sym, seed=5, data=(2, 2, 6, 6))
    ex = sym.bind(CPU, to_nd(args), aux_states=to_nd(aux), grad_req="null")
    out = ex.forward(is_train=False)[0].asnumpy()
    v, a = to_nd(args), to_nd(aux)
    ref = conv_nd(v, a).asnumpy()
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)
    for name in aux:
        np.testing.assert_array_equal(ex.aux_dict[name].asnumpy(), aux[name])


def test_batchnorm_moving_mean_follows_numpy_formula():
    d = mx.sym.Variable("data")
    sym = mx.sym.BatchNorm(d, momentum=0.8, name="bn")
    x = np.random.RandomState(0).randn(8, 3, 2, 2).astype(np.float32) * 2 + 1
    ex = sym.simple_bind(CPU, data=x.shape, grad_req="null")
    ex.aux_dict["bn_moving_var"][:] = 1.0
    ex.forward(is_train=True, data=x)
    batch_mean = x.mean(axis=(0, 2, 3))
    np.testing.assert_allclose(ex.aux_dict["bn_moving_mean"].asnumpy(), 0.2 * batch_mean, rtol=1e-5, atol=1e-6)
    # The output is normalised with the batch statistics in training.
    xm = (x - batch_mean[None, :, None, None]) / np.sqrt(x.var(axis=(0, 2, 3))[None, :, None, None] + 1e-3)
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), xm, rtol=1e-4, atol=1e-4)


def test_softmax_output_loss_gradient_matches_numpy():
    d, lab = mx.sym.Variable("data"), mx.sym.Variable("label")
    sym = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(d, num_hidden=4, name="fc"), lab, name="sm")
    rng = np.random.RandomState(1)
    x = rng.randn(5, 3).astype(np.float32)
    w = rng.randn(4, 3).astype(np.float32)
    b = rng.randn(4).astype(np.float32)
    y = np.array([0, 3, 1, 2, 3], dtype=np.float32)
    ex = sym.bind(CPU, {"data": nd.array(x), "fc_weight": nd.array(w), "fc_bias": nd.array(b), "label": nd.array(y)},
                  args_grad={"data": nd.zeros(x.shape), "fc_weight": nd.zeros(w.shape), "fc_bias": nd.zeros(b.shape)})
    p = ex.forward(is_train=True)[0].asnumpy()
    z = x @ w.T + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    sm = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, sm, rtol=1e-5, atol=1e-6)
    ex.backward()  # a loss output: no head gradient needed
    dz = sm - np.eye(4, dtype=np.float32)[y.astype(int)]
    np.testing.assert_allclose(ex.grad_dict["fc_weight"].asnumpy(), dz.T @ x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ex.grad_dict["fc_bias"].asnumpy(), dz.sum(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ex.grad_dict["data"].asnumpy(), dz @ w, rtol=1e-4, atol=1e-5)


def test_default_head_gradient_is_ones_and_repeated_backward_is_stable():
    sym = mlp_sym()
    args, _ = random_values(sym, seed=2, data=(4, 10))
    ex = sym.bind(CPU, to_nd(args), args_grad={k: nd.zeros(v.shape) for k, v in args.items()})
    ex.forward(is_train=True)
    ex.backward()
    first = {k: v.asnumpy().copy() for k, v in ex.grad_dict.items()}
    _, ref, _ = imperative_grads(mlp_nd, args, np.ones((4, 3), np.float32))
    for k in ref:
        np.testing.assert_allclose(first[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)
    ex.backward()  # the forward's values are intact: the same gradients again (req write)
    for k in first:
        np.testing.assert_array_equal(ex.grad_dict[k].asnumpy(), first[k])


def test_grad_req_add_accumulates_and_null_leaves_no_gradient():
    sym = mlp_sym()
    args, _ = random_values(sym, seed=6, data=(4, 10))
    reqs = {k: "add" for k in args}
    reqs["data"] = "null"
    init = {k: np.full(v.shape, 0.5, np.float32) for k, v in args.items() if k != "data"}
    grads = {k: nd.array(v) for k, v in init.items()}
    ex = sym.bind(CPU, to_nd(args), args_grad=grads, grad_req=reqs)
    assert ex.grad_dict["data"] is None
    ograd = np.random.RandomState(7).randn(4, 3).astype(np.float32)
    _, ref, _ = imperative_grads(mlp_nd, args, ograd)
    ex.forward(is_train=True)
    ex.backward(nd.array(ograd))
    ex.backward(nd.array(ograd))
    for k in init:
        np.testing.assert_allclose(grads[k].asnumpy(), init[k] + 2 * ref[k], rtol=1e-5, atol=1e-5, err_msg=k)


def test_mixed_reqs_and_shared_gradient_entries():
    # d(a+b)/da and d(a+b)/db are the same value (the head gradient): both users get it.
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    sym = mx.sym.Group([a + b, a * 3.0])
    va, vb = np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((2, 3), np.float32)
    ga, gb = nd.zeros((2, 3)), nd.ones((2, 3))
    ex = sym.bind(CPU, {"a": nd.array(va), "b": nd.array(vb)}, args_grad={"a": ga, "b": gb},
                  grad_req={"a": "write", "b": "add"})
    outs = ex.forward(is_train=True)
    np.testing.assert_array_equal(outs[0].asnumpy(), va + vb)
    np.testing.assert_array_equal(outs[1].asnumpy(), va * 3)
    h0 = np.full((2, 3), 2.0, np.float32)
    h1 = np.full((2, 3), -1.0, np.float32)
    ex.backward([nd.array(h0), nd.array(h1)])
    np.testing.assert_array_equal(ga.asnumpy(), h0 + 3 * h1)
    np.testing.assert_array_equal(gb.asnumpy(), 1 + h0)


def test_output_that_is_an_argument():
    a = mx.sym.Variable("a")
    sym = mx.sym.Group([a, mx.sym.exp(a)])
    va = np.array([[0.5, -1.0]], np.float32)
    g = nd.zeros((1, 2))
    ex = sym.bind(CPU, {"a": nd.array(va)}, args_grad={"a": g})
    outs = ex.forward(is_train=True)
    np.testing.assert_array_equal(outs[0].asnumpy(), va)
    ex.backward([nd.ones((1, 2)), nd.ones((1, 2))])
    np.testing.assert_allclose(g.asnumpy(), 1 + np.exp(va), rtol=1e-6)


# ------------------------------------------------------------------ memory planning
def test_planning_on_and_off_give_identical_results():
    sym = conv_sym()
    args, aux = random_values(sym, seed=8, data=(2, 2, 6, 6))
    ograd = nd.array(np.random.RandomState(9).randn(2, 5).astype(np.float32))
    res = []
    for plan in (True, False):
        h, _, g, x = bind(sym, args, aux=aux, plan=plan)
        check_call(lib.mx_executor_forward(h, 1))
        raw_backward(h, [ograd])
        res.append((raw_outputs(h)[0], {k: v.asnumpy() for k, v in g.items()}, {k: v.asnumpy() for k, v in x.items()}))
        planned, naive = ffi.new("size_t*"), ffi.new("size_t*")
        check_call(lib.mx_executor_memory(h, planned, naive))
        if plan:
            assert planned[0] < naive[0]
        else:
            assert planned[0] == naive[0]
    np.testing.assert_array_equal(res[0][0], res[1][0])
    for k in res[0][1]:
        np.testing.assert_array_equal(res[0][1][k], res[1][1][k], err_msg=k)
    for k in res[0][2]:
        np.testing.assert_array_equal(res[0][2][k], res[1][2][k], err_msg=k)


def deep_mlp(layers):
    h = mx.sym.Variable("data")
    for i in range(layers):
        h = mx.sym.FullyConnected(h, num_hidden=64, name="fc%d" % i)
        h = mx.sym.Activation(h, act_type="relu", name="relu%d" % i)
    return h


def test_deep_mlp_memory_plan_shares_buffers():
    sym = deep_mlp(20)
    # Inference: a chain needs two live buffers whatever its depth (measured 0.05).
    ex = sym.simple_bind(CPU, data=(32, 64), grad_req="null")
    planned, naive = ex.memory_bytes()
    assert naive == 39 * 32 * 64 * 4  # every intermediate but the head, float32
    assert planned / naive < 0.1
    # Training: the activations the gradient reads stay whole; gradient buffers are shared
    # (measured 0.35).
    ex = sym.simple_bind(CPU, data=(32, 64), grad_req="write")
    planned, naive = ex.memory_bytes()
    assert planned / naive < 0.45
    ex.arg_dict["data"][:] = np.random.RandomState(0).randn(32, 64).astype(np.float32)
    for k, v in ex.arg_dict.items():
        if k.endswith("weight"):
            v[:] = np.random.RandomState(len(k)).randn(*v.shape).astype(np.float32) * 0.15
    ex.forward(is_train=True)
    ex.backward()
    v = {k: a.asnumpy() for k, a in ex.arg_dict.items()}
    ref_out, ref, _ = imperative_grads(
        lambda t: _deep_nd(t, 20), v, np.ones((32, 64), np.float32))
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), ref_out, rtol=1e-5, atol=1e-5)
    for k in ("fc0_weight", "fc19_weight", "data"):
        np.testing.assert_allclose(ex.grad_dict[k].asnumpy(), ref[k], rtol=1e-4, atol=1e-4, err_msg=k)


def _deep_nd(v, layers):
    h = v["data"]
    for i in range(layers):
        h = nd.relu(nd.FullyConnected(h, v["fc%d_weight" % i], v["fc%d_bias" % i], num_hidden=64))
    return h


# ------------------------------------------------------------------ randomness
def test_dropout_gradient_replays_the_forward_mask():
    d = mx.sym.Variable("data")
    sym = mx.sym.Dropout(d * 1.0, p=0.5, name="drop")
    x = np.random.RandomState(0).uniform(1, 2, (40, 50)).astype(np.float32)
    g = nd.zeros(x.shape)
    ex = sym.bind(CPU, {"data": nd.array(x)}, args_grad={"data": g})
    masks = []
    for _ in range(2):
        out = ex.forward(is_train=True)[0].asnumpy()
        ex.backward(nd.ones(x.shape))
        dx = g.asnumpy()
        kept = out != 0
        assert 0.4 < kept.mean() < 0.6
        np.testing.assert_allclose(out, x * 2 * kept, rtol=1e-6)
        np.testing.assert_allclose(dx, 2.0 * kept, rtol=1e-6)  # the same mask, scaled by 1/(1-p)
        np.testing.assert_allclose(dx * x, out, rtol=1e-6)
        masks.append(kept)
    assert (masks[0] != masks[1]).any()  # each forward draws a new mask
    out = ex.forward(is_train=False)[0].asnumpy()
    np.testing.assert_array_equal(out, x)


# ------------------------------------------------------------------ simple_bind and reshape
def test_simple_bind_allocates_zeros_with_dtypes_and_reqs():
    sym = mlp_sym()
    ex = sym.simple_bind(CPU, grad_req={"data": "null", "fc0_weight": "add"}, type_dict={"data": "float64"},
                         data=(3, 7))
    assert ex.arg_dict["fc0_weight"].shape == (16, 7)
    assert ex.arg_dict["fc0_weight"].dtype == np.float64  # deduced from data
    assert all(not a.asnumpy().any() for a in ex.arg_arrays)
    assert ex.grad_dict["data"] is None
    assert ex.grad_dict["fc0_bias"] is None  # a dict leaves the others null
    assert ex.grad_dict["fc0_weight"].shape == (16, 7)
    assert ex.outputs[0].shape == (3, 3)


def test_simple_bind_raw_abi_default_req_star():
    sym = mlp_sym()
    keys = [ffi.new("char[]", b"data")]
    rkeys = [ffi.new("char[]", b"*"), ffi.new("char[]", b"data")]
    out = ffi.new("mx_executor**")
    check_call(lib.mx_executor_simple_bind(
        sym.handle, 1, 0, 1, ffi.new("const char*[]", keys), ffi.new("int[]", [2]), ffi.new("int64_t[]", [2, 5]),
        0, ffi.NULL, ffi.NULL, 2, ffi.new("const char*[]", rkeys), ffi.new("int[]", [3, 0]), 0, out))
    h = ffi.gc(out[0], lib.mx_executor_free)
    n = ffi.new("size_t*")
    check_call(lib.mx_executor_num(h, 1, n))
    assert n[0] == len(sym.list_arguments())
    g = ffi.new("mx_ndarray**")
    check_call(lib.mx_executor_get(h, 1, 0, g))
    assert g[0] == ffi.NULL  # data: null
    check_call(lib.mx_executor_get(h, 1, 1, g))
    assert g[0] != ffi.NULL
    lib.mx_ndarray_free(g[0])


def test_reshape_shares_parameters_and_checks_growth():
    sym = mlp_sym()
    args, _ = random_values(sym, data=(8, 10))
    ex = sym.bind(CPU, to_nd(args), args_grad={k: nd.zeros(v.shape) for k, v in args.items()})
    small = ex.reshape(data=(3, 10))
    small.arg_dict["data"][:] = args["data"][:3]
    out = small.forward(is_train=False)[0].asnumpy()
    np.testing.assert_allclose(out, mlp_nd(to_nd(args)).asnumpy()[:3], rtol=1e-6, atol=1e-6)
    ex.arg_dict["fc0_bias"][:] = 5.0  # parameters are shared, not copied
    np.testing.assert_array_equal(small.arg_dict["fc0_bias"].asnumpy(), np.full(16, 5.0, np.float32))
    with pytest.raises(mx.base.ShapeError, match="allow_up_sizing"):
        ex.reshape(data=(16, 10))
    big = ex.reshape(data=(16, 10), allow_up_sizing=True)
    assert big.arg_dict["data"].shape == (16, 10)
    with pytest.raises(mx.base.ShapeError, match="fc0_weight.*partial_shaping"):
        ex.reshape(data=(6, 12))  # data itself does not grow (72 <= 80 elements)
    wide = ex.reshape(data=(6, 12), partial_shaping=True, allow_up_sizing=True)
    assert wide.arg_dict["fc0_weight"].shape == (16, 12)


# ------------------------------------------------------------------ errors
def test_bind_errors_name_the_argument_and_both_shapes():
    sym = mlp_sym()
    args, _ = random_values(sym, data=(4, 10))
    bad = dict(args, fc0_weight=np.zeros((16, 11), np.float32))
    with pytest.raises(mx.base.ShapeError) as e:
        sym.bind(CPU, to_nd(bad))
    msg = str(e.value)
    assert "fc0_weight" in msg and "(16, 11)" in msg and "(16, 10)" in msg
    # Wrong count over the raw ABI: the message lists the arguments.
    a = [nd.array(args["data"])]
    out = ffi.new("mx_executor**")
    rc = lib.mx_executor_bind(sym.handle, 1, 0, 1, ffi.new("mx_ndarray*[]", [a[0].handle]), ffi.NULL, ffi.NULL,
                              0, ffi.NULL, 0, out)
    assert rc == lib.MX_ERR_INVALID_ARGUMENT
    msg = ffi.string(lib.mx_last_error()).decode()
    assert "fc0_weight" in msg and "got 1" in msg
    # A gradient array of the wrong shape.
    grads = {k: nd.zeros(v.shape) for k, v in args.items()}
    grads["out_bias"] = nd.zeros((4,))
    with pytest.raises(mx.base.ShapeError, match="out_bias.*\\(4,\\).*\\(3,\\)"):
        sym.bind(CPU, to_nd(args), args_grad=grads)


def test_backward_before_forward_and_after_inference_forward():
    sym = mlp_sym()
    args, _ = random_values(sym, data=(2, 10))
    ex = sym.bind(CPU, to_nd(args), args_grad={k: nd.zeros(v.shape) for k, v in args.items()})
    with pytest.raises(mx.base.MXNetError, match="before forward"):
        ex.backward(nd.ones((2, 3)))
    ex.forward(is_train=False)
    with pytest.raises(mx.base.UnsupportedError, match="is_train"):
        ex.backward(nd.ones((2, 3)))
    ex.forward(is_train=True)
    with pytest.raises(mx.base.ShapeError, match="\\(2, 4\\).*\\(2, 3\\)"):
        ex.backward(nd.ones((2, 4)))
    ex.backward(nd.ones((2, 3)))


def test_simple_bind_without_enough_shapes_names_the_variable():
    with pytest.raises(mx.base.ShapeError, match="data"):
        mlp_sym().simple_bind(CPU)


def test_freed_and_null_handles():
    sym = mlp_sym()
    ex = sym.simple_bind(CPU, data=(2, 10))
    h = ex.handle
    assert lib.mx_executor_forward(ffi.NULL, 0) == lib.MX_ERR_HANDLE
    n = ffi.new("size_t*")
    assert lib.mx_executor_num(h, 7, n) == lib.MX_ERR_INVALID_ARGUMENT
    o = ffi.new("mx_ndarray**")
    assert lib.mx_executor_get(h, 0, 99, o) == lib.MX_ERR_INDEX
    assert lib.mx_executor_memory(h, ffi.NULL, n) == lib.MX_ERR_INVALID_ARGUMENT
    lib.mx_executor_free(ffi.NULL)  # a no-op
