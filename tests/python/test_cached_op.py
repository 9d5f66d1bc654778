"""CachedOp (what hybridize() runs) over the C ABI: forward, recording into autograd as one node,
static memory, and errors.

References: the same ops run imperatively (mx.nd forward, mx.autograd gradients), numpy, and the
cached op with memory planning switched off.
"""
import gc

import numpy as np
import pytest

import mx
from mx import nd
from mx.base import check_call, ffi, lib
from mx.ndarray._call import wrap_handle

CPU = mx.cpu()


class Cached:
    """A raw-ABI cached op: inputs in sym.list_inputs() order; returns the list of outputs."""

    def __init__(self, sym, flags=None, plan=True):
        flags = dict(flags or {})
        keep = [ffi.new("char[]", str(x).encode()) for kv in flags.items() for x in kv]
        keys = ffi.new("const char*[]", keep[0::2]) if flags else ffi.NULL
        vals = ffi.new("const char*[]", keep[1::2]) if flags else ffi.NULL
        out = ffi.new("mx_cached_op**")
        check_call(lib.mx_cached_op_create(sym.handle, len(flags), keys, vals,
                                           0 if plan else lib.MX_EXEC_NO_MEMORY_PLAN, out))
        self.h = ffi.gc(out[0], lib.mx_cached_op_free)
        self.names = sym.list_inputs()

    def __call__(self, *inputs):
        lst = ffi.new("mx_ndarray_list**")
        arr = ffi.new("mx_ndarray*[]", [a.handle for a in inputs]) if inputs else ffi.NULL
        check_call(lib.mx_cached_op_invoke(self.h, len(inputs), arr, lst))
        lst = ffi.gc(lst[0], lib.mx_ndarray_list_free)
        n = ffi.new("size_t*")
        check_call(lib.mx_ndarray_list_size(lst, n))
        outs = []
        for i in range(n[0]):
            h = ffi.new("mx_ndarray**")
            check_call(lib.mx_ndarray_list_get(lst, i, h, ffi.NULL))
            outs.append(wrap_handle(h[0]))
        return outs

    def call(self, values):
        return self(*[values[n] for n in self.names])

    def memory(self):
        a, b = ffi.new("size_t*"), ffi.new("size_t*")
        check_call(lib.mx_cached_op_memory(self.h, a, b))
        return a[0], b[0]


def mlp_sym(drop=None):
    h = mx.sym.Variable("data")
    h = mx.sym.FullyConnected(h, num_hidden=16, name="fc1")
    h = mx.sym.Activation(h, act_type="relu", name="relu1")
    if drop is not None:
        h = mx.sym.Dropout(h, p=drop, name="drop")
    h = mx.sym.FullyConnected(h, num_hidden=8, name="fc2")
    h = mx.sym.Activation(h, act_type="tanh", name="tanh")
    return mx.sym.FullyConnected(h, num_hidden=3, name="fc3")


def mlp_nd(v):
    h = nd.relu(nd.FullyConnected(v["data"], v["fc1_weight"], v["fc1_bias"], num_hidden=16))
    h = nd.tanh(nd.FullyConnected(h, v["fc2_weight"], v["fc2_bias"], num_hidden=8))
    return nd.FullyConnected(h, v["fc3_weight"], v["fc3_bias"], num_hidden=3)


def values(sym, seed=0, **shapes):
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    rng = np.random.RandomState(seed)
    out = {n: rng.uniform(-1, 1, s).astype(np.float32) for n, s in zip(sym.list_arguments(), arg_shapes)}
    for n, s in zip(sym.list_auxiliary_states(), aux_shapes):
        out[n] = (rng.uniform(0.5, 1.5, s) if n.endswith("var") else rng.uniform(-0.2, 0.2, s)).astype(np.float32)
    return out


def nd_dict(v, grads=()):
    d = {k: nd.array(a) for k, a in v.items()}
    for k in grads:
        d[k].attach_grad()
    return d


FLAG_SETS = [{}, {"static_alloc": "true"}, {"static_alloc": "true", "static_shape": "true"}]


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("flags", FLAG_SETS)
def test_forward_equals_imperative_and_outputs_are_fresh(flags):
    sym = mlp_sym()
    co = Cached(sym, flags)
    v1 = values(sym, seed=1, data=(4, 10))
    v2 = dict(v1, data=np.random.RandomState(2).randn(4, 10).astype(np.float32))
    a = co.call(nd_dict(v1))[0]
    b = co.call(nd_dict(v2))[0]
    # The first result is not a buffer the second call overwrote.
    np.testing.assert_allclose(a.asnumpy(), mlp_nd(nd_dict(v1)).asnumpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.asnumpy(), mlp_nd(nd_dict(v2)).asnumpy(), rtol=1e-6, atol=1e-6)


def test_new_input_shapes_get_their_own_plan():
    sym = mlp_sym()
    co = Cached(sym, {"static_alloc": "true"})
    for batch in (4, 7, 4):
        v = values(sym, seed=batch, data=(batch, 10))
        out = co.call(nd_dict(v))[0]
        assert out.shape == (batch, 3)
        np.testing.assert_allclose(out.asnumpy(), mlp_nd(nd_dict(v)).asnumpy(), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ autograd
@pytest.mark.parametrize("flags,plan", [({}, True), ({"static_alloc": "true"}, True), ({}, False)])
def test_recorded_call_gives_imperative_gradients(flags, plan):
    sym = mlp_sym()
    co = Cached(sym, flags, plan=plan)
    v = values(sym, seed=3, data=(5, 10))
    params = [k for k in v if k != "data"]  # data needs no gradient: not part of the graph
    ograd = np.random.RandomState(4).randn(5, 3).astype(np.float32)
    ref = nd_dict(v, params)
    with mx.autograd.record():
        out_ref = mlp_nd(ref)
    out_ref.backward(nd.array(ograd))
    for _ in range(2):  # the second call reuses the cached plan (and static buffers)
        got = nd_dict(v, params)
        with mx.autograd.record():
            out = co.call(got)[0]
        out.backward(nd.array(ograd))
        np.testing.assert_allclose(out.asnumpy(), out_ref.asnumpy(), rtol=1e-6, atol=1e-6)
        for k in params:
            np.testing.assert_allclose(got[k].grad.asnumpy(), ref[k].grad.asnumpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=k)


def test_gradient_flows_through_surrounding_imperative_ops():
    sym = mlp_sym()
    co = Cached(sym)
    v = values(sym, seed=5, data=(3, 10))
    res = []
    for cached in (True, False):
        d = nd_dict(v, v.keys())
        with mx.autograd.record():
            x = d["data"] * 2.0
            inputs = dict(d, data=x)
            y = co.call(inputs)[0] if cached else mlp_nd(inputs)
            loss = (y * y).sum()
        loss.backward()
        res.append({k: a.grad.asnumpy() for k, a in d.items()})
    for k in res[0]:
        np.testing.assert_allclose(res[0][k], res[1][k], rtol=1e-5, atol=1e-5, err_msg=k)


def test_retained_graph_backward_twice_accumulates_with_grad_req_add():
    sym = mlp_sym()
    co = Cached(sym, {"static_alloc": "true"})
    v = values(sym, seed=6, data=(4, 10))
    d = nd_dict(v)
    for a in d.values():
        a.attach_grad(grad_req="add")
    with mx.autograd.record():
        out = co.call(d)[0]
    out.backward(retain_graph=True)
    once = {k: a.grad.asnumpy().copy() for k, a in d.items()}
    # Another call in between must not disturb the first call's saved values.
    with mx.autograd.record():
        co.call(nd_dict(values(sym, seed=7, data=(4, 10)), v.keys()))
    out.backward()
    for k, a in d.items():
        np.testing.assert_allclose(a.grad.asnumpy(), 2 * once[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_batchnorm_training_updates_aux_and_gradients_match():
    d = mx.sym.Variable("data")
    h = mx.sym.Convolution(d, kernel=(3, 3), num_filter=3, name="conv")
    h = mx.sym.BatchNorm(h, fix_gamma=False, name="bn")
    sym = mx.sym.FullyConnected(mx.sym.Activation(h, act_type="relu"), num_hidden=2, name="fc")
    assert "bn_moving_mean" in sym.list_inputs()  # aux states are inputs of the cached op
    v = values(sym, seed=8, data=(4, 2, 5, 5))
    params = [k for k in sym.list_arguments() if k != "data"]

    def imperative(t):
        y = nd.Convolution(t["data"], t["conv_weight"], t["conv_bias"], kernel=(3, 3), num_filter=3)
        y = nd.BatchNorm(y, t["bn_gamma"], t["bn_beta"], t["bn_moving_mean"], t["bn_moving_var"], fix_gamma=False)
        return nd.FullyConnected(nd.relu(y), t["fc_weight"], t["fc_bias"], num_hidden=2)

    ref = nd_dict(v, params)
    with mx.autograd.record():
        imperative(ref).backward()
    got = nd_dict(v, params)
    co = Cached(sym, {"static_alloc": "true"})
    with mx.autograd.record():
        co.call(got)[0].backward()
    for k in params:
        np.testing.assert_allclose(got[k].grad.asnumpy(), ref[k].grad.asnumpy(), rtol=1e-4, atol=1e-5, err_msg=k)
    for k in ("bn_moving_mean", "bn_moving_var"):
        np.testing.assert_allclose(got[k].asnumpy(), ref[k].asnumpy(), rtol=1e-5, atol=1e-6, err_msg=k)
        assert not np.allclose(got[k].asnumpy(), v[k])
    # Predict mode: batch statistics unused, running statistics untouched.
    before = got["bn_moving_mean"].asnumpy().copy()
    out = co.call(got)[0]
    np.testing.assert_allclose(out.asnumpy(), imperative(nd_dict({**v, "bn_moving_mean": before,
                                                                   "bn_moving_var": got["bn_moving_var"].asnumpy()}))
                               .asnumpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got["bn_moving_mean"].asnumpy(), before)


def test_dropout_gradient_uses_the_forward_mask():
    d = mx.sym.Variable("data")
    sym = mx.sym.Dropout(d * 1.0, p=0.5, name="drop")
    co = Cached(sym, {"static_alloc": "true"})
    x = nd.array(np.random.RandomState(0).uniform(1, 2, (30, 40)).astype(np.float32))
    masks = []
    for _ in range(2):
        x.attach_grad()
        with mx.autograd.record():
            out = co(x)[0]
        out.backward()
        o, g, xv = out.asnumpy(), x.grad.asnumpy(), x.asnumpy()
        kept = o != 0
        assert 0.4 < kept.mean() < 0.6
        np.testing.assert_allclose(g * xv, o, rtol=1e-6)  # grad = mask / (1 - p), out = x * mask / (1 - p)
        masks.append(kept)
    assert (masks[0] != masks[1]).any()
    # Not training: the identity.
    np.testing.assert_array_equal(co(x)[0].asnumpy(), x.asnumpy())
    with mx.autograd.train_mode():
        assert (co(x)[0].asnumpy() == 0).any()


def test_outputs_that_are_inputs_or_repeated():
    a = mx.sym.Variable("a")
    e = mx.sym.exp(a)
    sym = mx.sym.Group([a, e, e])
    co = Cached(sym)
    x = nd.array([[0.5, -1.0, 2.0]])
    x.attach_grad()
    with mx.autograd.record():
        o0, o1, o2 = co(x)
        loss = (o0 * 2.0 + o1 * 3.0 + o2 * 5.0).sum()
    loss.backward()
    np.testing.assert_array_equal(o0.asnumpy(), x.asnumpy())
    np.testing.assert_allclose(o1.asnumpy(), np.exp(x.asnumpy()), rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), 2 + 8 * np.exp(x.asnumpy()), rtol=1e-6)


def test_higher_order_gradient_is_refused():
    x = mx.sym.Variable("x")
    co = Cached(mx.sym.sin(x))
    a = nd.array([0.3, 0.7])
    a.attach_grad()
    with mx.autograd.record():
        y = co(a)[0]
    with pytest.raises(mx.base.UnsupportedError, match="higher-order gradients through a hybridized"):
        mx.autograd.grad(y, a, create_graph=True)
    # A first-order gradient still works.
    with mx.autograd.record():
        y = co(a)[0]
    g = mx.autograd.grad(y, a)
    np.testing.assert_allclose(g.asnumpy(), np.cos(a.asnumpy()), rtol=1e-6)


def test_non_differentiable_op_fails_at_backward_like_imperative():
    x = mx.sym.Variable("x")
    co = Cached(mx.sym.argmax(x * 2.0, axis=1) * 1.0)
    a = nd.array([[1.0, 3.0], [4.0, 2.0]])
    a.attach_grad()
    with mx.autograd.record():
        y = co(a)[0]  # the forward works
    np.testing.assert_array_equal(y.asnumpy(), [1.0, 0.0])
    with pytest.raises(mx.base.MXNetError, match="argmax"):
        y.backward()


# ------------------------------------------------------------------ memory
@pytest.mark.parametrize("flags", FLAG_SETS)
def test_memory_is_flat_over_many_recorded_calls(flags):
    sym = mlp_sym(drop=0.3)
    co = Cached(sym, flags)
    v = values(sym, seed=9, data=(16, 10))
    d = nd_dict(v, [k for k in v if k != "data"])

    def step():
        with mx.autograd.record():
            out = co.call(d)[0]
            loss = (out * out).sum()
        loss.backward()
        nd.waitall()

    for _ in range(5):
        step()
    gc.collect()
    nd.waitall()
    base = CPU.memory_stats()[0]
    for _ in range(50):
        step()
    gc.collect()
    nd.waitall()
    assert CPU.memory_stats()[0] == base


def test_memory_plan_statistics():
    h = mx.sym.Variable("data")
    for i in range(20):
        h = mx.sym.Activation(mx.sym.FullyConnected(h, num_hidden=32, name="fc%d" % i), act_type="relu")
    v = values(h, data=(8, 32))
    co = Cached(h)
    co.call(nd_dict(v))
    planned, naive = co.memory()
    assert naive == 39 * 8 * 32 * 4
    assert planned / naive < 0.1  # measured 0.05: a chain needs two live buffers
    d = nd_dict(v, [k for k in v if k != "data"])
    with mx.autograd.record():
        out = co.call(d)[0]
    out.backward()
    planned, naive = co.memory()
    assert 0 < planned / naive < 0.45  # measured 0.35: the activations the gradient reads stay whole
    off = Cached(h, plan=False)
    off.call(nd_dict(v))
    planned, naive = off.memory()
    assert planned == naive


# ------------------------------------------------------------------ errors
def test_errors():
    sym = mlp_sym()
    co = Cached(sym)
    with pytest.raises(mx.base.InvalidArgumentError, match="fc1_weight"):
        co(nd.ones((2, 10)))
    v = values(sym, data=(2, 10))
    bad = nd_dict(v)
    bad["fc2_weight"] = nd.ones((8, 17))
    with pytest.raises(mx.base.ShapeError, match="fc2_weight.*\\(8, 17\\)"):
        co.call(bad)
    with pytest.raises(mx.base.InvalidArgumentError, match="unknown cached op flag 'inline_limit'"):
        Cached(sym, {"inline_limit": "2"})
    with pytest.raises(mx.base.InvalidArgumentError, match="true or false"):
        Cached(sym, {"static_alloc": "maybe"})
    lst = ffi.new("mx_ndarray_list**")
    assert lib.mx_cached_op_invoke(ffi.NULL, 0, ffi.NULL, lst) == lib.MX_ERR_HANDLE
    lib.mx_cached_op_free(ffi.NULL)
