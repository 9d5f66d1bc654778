"""Graph passes through the C ABI: shape/dtype inference, the gradient graph, memory planning.

References are independent: shapes from the textbook formulas (numpy), gradients from finite
differences, and MXNet 1.9.1's own exported graphs.
"""
import numpy as np
import pytest

import mx
from mx.base import check_call, ffi, lib


# ------------------------------------------------------------------ a thin raw-ABI layer
class Sym:
    def __init__(self, handle):
        self.h = ffi.gc(handle, lib.mx_symbol_free)

    def _list(self, which):
        n = ffi.new("size_t*")
        names = ffi.new("const char***")
        check_call(lib.mx_symbol_list(self.h, which, n, names))
        return [ffi.string(names[0][i]).decode() for i in range(n[0])]

    def list_arguments(self):
        return self._list(0)

    def list_outputs(self):
        return self._list(1)

    def list_auxiliary_states(self):
        return self._list(2)

    def set_attr(self, key, value):
        check_call(lib.mx_symbol_set_attr(self.h, key.encode(), value.encode()))
        return self


def var(name, **attrs):
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_variable(name.encode(), out))
    s = Sym(out[0])
    for k, v in attrs.items():
        s.set_attr(k, v)
    return s


def op(op_name, *inputs, name=None, **params):
    keys = [ffi.new("char[]", k.encode()) for k in params]
    vals = [ffi.new("char[]", str(v).encode()) for v in params.values()]
    ins = ffi.new("mx_symbol*[]", [s.h for s in inputs]) if inputs else ffi.NULL
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_create(op_name.encode(), len(keys), ffi.new("const char*[]", keys) if keys else ffi.NULL,
                                    ffi.new("const char*[]", vals) if vals else ffi.NULL, len(inputs), ffi.NULL,
                                    ins, (name or "").encode(), out))
    return Sym(out[0])


def group(*syms):
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_group(len(syms), ffi.new("mx_symbol*[]", [s.h for s in syms]), out))
    return Sym(out[0])


def load_json_file(path):
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_load(str(path).encode(), out))
    return Sym(out[0])


def _result_shapes(res, which):
    n = ffi.new("size_t*")
    check_call(lib.mx_infer_result_size(res, which, n))
    shapes = []
    for i in range(n[0]):
        nd = ffi.new("int*")
        dims = ffi.new("const int64_t**")
        check_call(lib.mx_infer_result_shape(res, which, i, nd, dims))
        shapes.append(None if nd[0] < 0 else tuple(dims[0][j] for j in range(nd[0])))
    return shapes


def infer_shape(sym, partial=False, **shapes):
    keys = [ffi.new("char[]", k.encode()) for k in shapes]
    ndims = [len(s) for s in shapes.values()]
    dims = [d for s in shapes.values() for d in s]
    res = ffi.new("mx_infer_result**")
    check_call(lib.mx_symbol_infer_shape(sym.h, len(keys), ffi.new("const char*[]", keys) if keys else ffi.NULL,
                                         ffi.new("int[]", ndims) if ndims else ffi.NULL,
                                         ffi.new("int64_t[]", dims) if dims else ffi.NULL, int(partial), res))
    r = ffi.gc(res[0], lib.mx_infer_result_free)
    complete = ffi.new("int*")
    check_call(lib.mx_infer_result_complete(r, complete))
    return _result_shapes(r, 0), _result_shapes(r, 1), _result_shapes(r, 2), bool(complete[0])


DT = {np.float32: 0, np.float64: 1, np.float16: 2, np.uint8: 3, np.int32: 4, np.int8: 5, np.int64: 6}
DT_BACK = {v: k for k, v in DT.items()}


def infer_type(sym, partial=False, **types):
    keys = [ffi.new("char[]", k.encode()) for k in types]
    codes = [DT[t] for t in types.values()]
    res = ffi.new("mx_infer_result**")
    check_call(lib.mx_symbol_infer_type(sym.h, len(keys), ffi.new("const char*[]", keys) if keys else ffi.NULL,
                                        ffi.new("int[]", codes) if codes else ffi.NULL, int(partial), res))
    r = ffi.gc(res[0], lib.mx_infer_result_free)

    def get(which):
        n = ffi.new("size_t*")
        check_call(lib.mx_infer_result_size(r, which, n))
        out = []
        for i in range(n[0]):
            t = ffi.new("int*")
            check_call(lib.mx_infer_result_dtype(r, which, i, t))
            out.append(DT_BACK.get(t[0]))
        return out
    return get(0), get(1), get(2)


def gradient(sym, wrt):
    names = [ffi.new("char[]", w.encode()) for w in wrt]
    out = ffi.new("mx_symbol**")
    check_call(lib.mx_symbol_gradient(sym.h, len(names), ffi.new("const char*[]", names), out))
    return Sym(out[0])


# ------------------------------------------------------------------ references
def conv_out(size, k, s=1, p=0, d=1):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pool_out(size, k, s):
    return (size - k) // s + 1


# ------------------------------------------------------------------ shape inference
def test_mlp_shapes_from_data_only():
    x = var("data")
    h = op("FullyConnected", x, name="fc1", num_hidden=64)
    h = op("Activation", h, name="relu1", act_type="relu")
    h = op("FullyConnected", h, name="fc2", num_hidden=10)
    out = op("SoftmaxOutput", h, name="softmax")
    assert out.list_arguments() == ["data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias", "softmax_label"]
    args, outs, aux, complete = infer_shape(out, data=(32, 3, 5, 7))
    assert complete
    assert args == [(32, 3, 5, 7), (64, 105), (64,), (10, 64), (10,), (32,)]
    assert outs == [(32, 10)] and aux == []


def test_conv_net_shapes_equal_formulas():
    n, c, hgt, wid = 4, 3, 29, 31
    x = var("data")
    h = op("Convolution", x, name="conv1", kernel="(3,3)", pad="(1,1)", num_filter=8)
    h = op("BatchNorm", h, name="bn1")
    h = op("Activation", h, name="relu1", act_type="relu")
    h = op("Pooling", h, name="pool1", kernel="(2,2)", stride="(2,2)", pool_type="max")
    h = op("Convolution", h, name="conv2", kernel="(5,3)", stride="(2,2)", dilate="(1,2)", num_filter=16)
    h = op("Flatten", h, name="flat")
    h = op("FullyConnected", h, name="fc", num_hidden=7)
    out = op("SoftmaxOutput", h, name="softmax")
    args, outs, aux, complete = infer_shape(out, data=(n, c, hgt, wid))
    assert complete
    h1, w1 = conv_out(hgt, 3, 1, 1), conv_out(wid, 3, 1, 1)
    h2, w2 = pool_out(h1, 2, 2), pool_out(w1, 2, 2)
    h3, w3 = conv_out(h2, 5, 2, 0, 1), conv_out(w2, 3, 2, 0, 2)
    want = dict(data=(n, c, hgt, wid), conv1_weight=(8, c, 3, 3), conv1_bias=(8,), bn1_gamma=(8,), bn1_beta=(8,),
                conv2_weight=(16, 8, 5, 3), conv2_bias=(16,), fc_weight=(7, 16 * h3 * w3), fc_bias=(7,),
                softmax_label=(n,))
    assert dict(zip(out.list_arguments(), args)) == want
    assert out.list_auxiliary_states() == ["bn1_moving_mean", "bn1_moving_var"]
    assert aux == [(8,), (8,)]
    assert outs == [(n, 7)]


def test_partial_inference_leaves_unknowns():
    x = var("data")
    w = var("w")
    fc = op("FullyConnected", x, w, name="fc1", num_hidden=6, no_bias=True)
    y = op("elemwise_add", fc, var("other"), name="add")
    # Nothing known: partial inference fills what the parameters decide alone.
    args, outs, aux, complete = infer_shape(y, partial=True)
    assert not complete
    assert args == [None, None, None] and outs == [None]
    # Only the other addend known: the sum's shape flows back to fc1's output, but not to data.
    args, outs, aux, complete = infer_shape(y, partial=True, other=(5, 6))
    assert not complete
    assert dict(zip(y.list_arguments(), args)) == {"data": None, "w": None, "other": (5, 6)}
    assert outs == [(5, 6)]
    # Without partial, the unknown is an error naming the node that cannot be inferred.
    with pytest.raises(mx.MXNetError) as e:
        infer_shape(y, other=(5, 6))
    assert "data" in str(e.value) or "fc1" in str(e.value)


def test_shape_conflict_names_node_input_and_both_shapes():
    x = var("data")
    fc = op("FullyConnected", x, name="fc1", num_hidden=10)
    with pytest.raises(mx.base.ShapeError) as e:
        infer_shape(fc, data=(2, 3), fc1_weight=(10, 4))
    msg = str(e.value)
    assert "fc1" in msg and "FullyConnected" in msg
    assert "(10, 4)" in msg and "(10, 3)" in msg
    assert "fc1_weight" in msg


def test_shape_conflict_between_two_consumers():
    x = var("x")
    a = op("FullyConnected", x, name="fa", num_hidden=4)
    b = op("elemwise_add", x, var("y"), name="plus")
    with pytest.raises(mx.base.ShapeError) as e:
        infer_shape(group(a, b), x=(3, 5), y=(3, 6))
    msg = str(e.value)
    assert "plus" in msg and "(3, 5)" in msg and "(3, 6)" in msg


def test_variable_shape_attr_with_unknown_dims():
    # Gluon exports deferred parameters with 0 for the dims it did not know: "(8, 0)".
    x = var("data")
    w = var("w", __shape__="(8, 0)")
    fc = op("FullyConnected", x, w, name="fc", num_hidden=8, no_bias=True)
    args, outs, _, complete = infer_shape(fc, data=(2, 5))
    assert complete and args == [(2, 5), (8, 5)] and outs == [(2, 8)]
    # A fully given __shape__ is used like a given shape.
    w2 = var("w2", __shape__="(3, 4)")
    y = op("elemwise_add", var("a"), w2, name="s")
    args, outs, _, complete = infer_shape(y)
    assert complete and args == [(3, 4), (3, 4)] and outs == [(3, 4)]
    # The known dims of a partial __shape__ must agree with what inference finds.
    w3 = var("w3", __shape__="(9, 0)")
    fc3 = op("FullyConnected", var("d"), w3, name="fc3", num_hidden=8, no_bias=True)
    with pytest.raises(mx.base.ShapeError) as e:
        infer_shape(fc3, d=(2, 5))
    assert "w3" in str(e.value) or "fc3" in str(e.value)


def test_fixture_cnn_infers_from_data(mxnet_fixtures):
    sym = load_json_file(mxnet_fixtures / "cnn-symbol.json")
    args, outs, aux, complete = infer_shape(sym, data=(32, 1, 28, 28))
    assert complete
    got = dict(zip(sym.list_arguments(), args))
    assert got["cnn_conv0_weight"] == (32, 1, 3, 3)
    assert got["cnn_conv1_weight"] == (64, 32, 3, 3)
    assert got["cnn_dense0_weight"] == (10, 64 * 7 * 7)
    assert outs == [tuple(np.load(mxnet_fixtures / "cnn_output.npy").shape)]


# ------------------------------------------------------------------ dtype inference
def test_type_inference_propagates_and_reads_dtype_attr():
    x = var("data")
    h = op("FullyConnected", x, name="fc1", num_hidden=4)
    h = op("Activation", h, name="r", act_type="tanh")
    args, outs, aux = infer_type(h, data=np.float64)
    assert args == [np.float64] * 3 and outs == [np.float64]
    # __dtype__ is MXNet's integer flag (1: float64).
    x2 = var("x2", __dtype__="1")
    y = op("elemwise_mul", x2, var("z"), name="m")
    args, outs, _ = infer_type(y)
    assert args == [np.float64, np.float64] and outs == [np.float64]


def test_type_conflict_is_dtype_error():
    y = op("elemwise_add", var("a"), var("b"), name="addab")
    with pytest.raises(mx.base.DTypeError) as e:
        infer_type(y, a=np.float32, b=np.float64)
    assert "addab" in str(e.value)


# ------------------------------------------------------------------ the gradient graph
def to_json(sym):
    import json
    s = ffi.new("const char**")
    check_call(lib.mx_symbol_to_json(sym.h, s))
    return json.loads(ffi.string(s[0]).decode())


def evaluate(sym, values):
    """Runs a symbol's JSON node by node with imperative ops (the reference for graph == ops)."""
    from mx.ndarray._call import invoke
    g = to_json(sym)
    outs = []
    for node in g["nodes"]:
        if node["op"] == "null":
            outs.append([mx.nd.array(values[node["name"]], dtype=np.float64)])
            continue
        params = {k: v for k, v in node.get("attrs", {}).items() if not k.startswith("__")}
        ins = [outs[i][j] for i, j, *_ in node["inputs"]]
        r = invoke(node["op"], ins, params)
        outs.append(r if isinstance(r, list) else [r])
    return [outs[i][j].asnumpy() for i, j, *_ in g["heads"]]


def _mlp_loss_graph(batch=4):
    # FullyConnected's gradient depends on the data's rank: a graph gradient needs it, as a shape
    # attribute here (mx.sym.var("x", shape=...)) or from bind-time shapes in an executor.
    x, w, b = var("x", __shape__="(%d, 5)" % batch), var("w"), var("b")
    h = op("FullyConnected", x, w, b, name="fc", num_hidden=3)
    a = op("tanh", h, name="act")
    sq = op("elemwise_mul", a, a, name="sq")     # a read twice by one node
    out = op("elemwise_add", sq, a, name="out")  # and once more: three contributions summed
    return out


def _mlp_loss_numpy(x, w, b):
    a = np.tanh(x @ w.T + b)
    return np.sum(a * a + a)


def _finite_diff(f, arrays, key, eps=1e-6):
    base = dict(arrays)
    g = np.zeros_like(arrays[key])
    it = np.nditer(arrays[key], flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        plus, minus = {k: v.copy() for k, v in base.items()}, {k: v.copy() for k, v in base.items()}
        plus[key][idx] += eps
        minus[key][idx] -= eps
        g[idx] = (f(**plus) - f(**minus)) / (2 * eps)
    return g


def test_gradient_symbol_equals_finite_differences():
    rng = np.random.RandomState(0)
    vals = dict(x=rng.randn(4, 5), w=rng.randn(3, 5) * 0.5, b=rng.randn(3) * 0.1)
    grad = gradient(_mlp_loss_graph(), ["w", "x", "b"])
    assert len(grad.list_outputs()) == 3
    gw, gx, gb = evaluate(grad, vals)
    for key, got in (("w", gw), ("x", gx), ("b", gb)):
        want = _finite_diff(_mlp_loss_numpy, vals, key)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_gradient_only_builds_paths_from_wrt():
    # Gradient w.r.t. w only: nothing computes the gradient of x (FullyConnected's data input).
    grad = gradient(_mlp_loss_graph(2), ["w"])
    ops = [n["op"] for n in to_json(grad)["nodes"]]
    assert "FullyConnected" in ops  # forward nodes are shared
    rng = np.random.RandomState(1)
    vals = dict(x=rng.randn(2, 5), w=rng.randn(3, 5), b=rng.randn(3))
    (gw,) = evaluate(grad, vals)
    np.testing.assert_allclose(gw, _finite_diff(_mlp_loss_numpy, vals, "w"), rtol=1e-6, atol=1e-7)
    # The number of gradient nodes grows when x's gradient is asked for too.
    n_w = len(to_json(grad)["nodes"])
    n_wx = len(to_json(gradient(_mlp_loss_graph(2), ["w", "x"]))["nodes"])
    assert n_wx > n_w


def test_gradient_without_path_is_zeros():
    # SoftmaxOutput gives its label no gradient: the label's gradient is zeros; the data's is
    # softmax(x) - onehot(label) whatever the head gradient.
    x, label = var("x"), var("label")
    y = op("SoftmaxOutput", op("exp", x, name="e"), label, name="sm")
    grad = gradient(y, ["label", "x"])
    vals = dict(x=np.array([[0.5, -1.0, 0.25], [0.0, 0.3, -0.2]]), label=np.array([2.0, 0.0]))
    gl, gx = evaluate(grad, vals)
    np.testing.assert_array_equal(gl, np.zeros(2))
    e = np.exp(vals["x"])
    p = np.exp(e) / np.exp(e).sum(axis=1, keepdims=True)
    onehot = np.eye(3)[vals["label"].astype(int)]
    np.testing.assert_allclose(gx, (p - onehot) * e, rtol=1e-12)


def test_gradient_unknown_argument_lists_arguments():
    with pytest.raises(mx.base.InvalidArgumentError) as e:
        gradient(_mlp_loss_graph(), ["nope"])
    msg = str(e.value)
    assert "nope" in msg and "x" in msg and "w" in msg and "b" in msg


def test_dropout_gradient_carries_rng_placeholder():
    x = var("x")
    d = op("Dropout", x, name="drop1", p=0.5)
    y = op("elemwise_mul", d, d, name="y")
    nodes = to_json(gradient(y, ["x"]))["nodes"]
    bw = [n for n in nodes if n["op"] == "_backward_Dropout"]
    assert len(bw) == 1
    assert bw[0]["attrs"]["rng_seed"] == "0"
    assert bw[0]["attrs"]["rng_stream"] == "@drop1"


# ------------------------------------------------------------------ through the executor
class Exec:
    def __init__(self, sym, args, with_grads=True, aux=None, flags=0, dtype=np.float64):
        from mx.ndarray._call import wrap_handle  # noqa: F401  (used by get)
        names = sym.list_arguments()
        self.args = [mx.nd.array(args[n], dtype=dtype) for n in names]
        self.grads = [mx.nd.zeros(args[n].shape, dtype=dtype) for n in names] if with_grads else []
        aux = aux or {}
        self.aux = [mx.nd.array(aux[n], dtype=dtype) for n in sym.list_auxiliary_states()]
        out = ffi.new("mx_executor**")
        hargs = ffi.new("mx_ndarray*[]", [a._h for a in self.args])
        hgrads = ffi.new("mx_ndarray*[]", [g._h for g in self.grads]) if with_grads else ffi.NULL
        reqs = ffi.new("int[]", [lib.MX_GRAD_WRITE] * len(names)) if with_grads else ffi.NULL
        haux = ffi.new("mx_ndarray*[]", [a._h for a in self.aux]) if self.aux else ffi.NULL
        check_call(lib.mx_executor_bind(sym.h, lib.MX_CPU, 0, len(names), hargs, hgrads, reqs, len(self.aux), haux,
                                        flags, out))
        self.h = ffi.gc(out[0], lib.mx_executor_free)

    def forward(self, is_train=False):
        check_call(lib.mx_executor_forward(self.h, int(is_train)))
        n = ffi.new("size_t*")
        check_call(lib.mx_executor_num(self.h, 3, n))
        return [self._get(3, i).asnumpy() for i in range(n[0])]

    def backward(self):
        check_call(lib.mx_executor_backward(self.h, 0, ffi.NULL))
        return [g.asnumpy() for g in self.grads]

    def _get(self, which, i):
        from mx.ndarray._call import wrap_handle
        out = ffi.new("mx_ndarray**")
        check_call(lib.mx_executor_get(self.h, which, i, out))
        return wrap_handle(out[0])

    def memory(self):
        planned, naive = ffi.new("size_t*"), ffi.new("size_t*")
        check_call(lib.mx_executor_memory(self.h, planned, naive))
        return planned[0], naive[0]


def test_executor_backward_equals_finite_differences():
    rng = np.random.RandomState(2)
    vals = dict(x=rng.randn(4, 5), w=rng.randn(3, 5) * 0.5, b=rng.randn(3) * 0.1)
    sym = _mlp_loss_graph()
    ex = Exec(sym, vals)
    (y,) = ex.forward(is_train=True)
    a = np.tanh(vals["x"] @ vals["w"].T + vals["b"])
    np.testing.assert_allclose(y, a * a + a, rtol=1e-12)
    grads = dict(zip(sym.list_arguments(), ex.backward()))
    for key in ("x", "w", "b"):
        np.testing.assert_allclose(grads[key], _finite_diff(_mlp_loss_numpy, vals, key), rtol=1e-6, atol=1e-7)


def test_executor_runs_gradient_symbol():
    # The symbol of gradient_symbol binds like any other and equals the executor's own backward.
    rng = np.random.RandomState(3)
    vals = dict(x=rng.randn(4, 5), w=rng.randn(3, 5), b=rng.randn(3))
    gsym = gradient(_mlp_loss_graph(), ["x", "w", "b"])
    outs = Exec(gsym, {n: vals[n] for n in gsym.list_arguments()}, with_grads=False).forward()
    for key, got in zip(("x", "w", "b"), outs):
        np.testing.assert_allclose(got, _finite_diff(_mlp_loss_numpy, vals, key), rtol=1e-6, atol=1e-7)


def _deep_mlp(depth, width):
    h = var("data")
    for i in range(depth):
        h = op("FullyConnected", h, name="fc%d" % i, num_hidden=width)
        h = op("Activation", h, name="act%d" % i, act_type="relu" if i % 2 else "tanh")
    return op("FullyConnected", h, name="head", num_hidden=10)


def _deep_mlp_values(sym, batch, width, rng):
    shapes = dict(zip(sym.list_arguments(), infer_shape(sym, data=(batch, width))[0]))
    return {k: rng.randn(*s) * (1.0 / np.sqrt(s[-1]) if k != "data" else 1.0) for k, s in shapes.items()}


def test_memory_plan_shares_buffers_and_keeps_results():
    depth, width, batch = 16, 64, 32
    sym = _deep_mlp(depth, width)
    vals = _deep_mlp_values(sym, batch, width, np.random.RandomState(4))
    planned_ex = Exec(sym, vals, with_grads=False, dtype=np.float32)
    naive_ex = Exec(sym, vals, with_grads=False, dtype=np.float32, flags=lib.MX_EXEC_NO_MEMORY_PLAN)
    planned, naive = planned_ex.memory()
    p_off, n_off = naive_ex.memory()
    # Without planning every intermediate has its own buffer.
    assert p_off == n_off == naive
    # 2 * depth intermediates of batch x width floats: a chain needs about two buffers live.
    assert naive >= 2 * depth * batch * width * 4
    assert planned <= naive // 4, (planned, naive)
    np.testing.assert_array_equal(planned_ex.forward()[0], naive_ex.forward()[0])


def test_memory_plan_with_backward_matches_unplanned():
    depth, width, batch = 8, 32, 16
    sym = _deep_mlp(depth, width)
    vals = _deep_mlp_values(sym, batch, width, np.random.RandomState(5))
    a = Exec(sym, vals, dtype=np.float32)
    b = Exec(sym, vals, dtype=np.float32, flags=lib.MX_EXEC_NO_MEMORY_PLAN)
    np.testing.assert_array_equal(a.forward(True)[0], b.forward(True)[0])
    for ga, gb in zip(a.backward(), b.backward()):
        np.testing.assert_array_equal(ga, gb)
    planned, naive = a.memory()
    assert planned < naive, (planned, naive)
