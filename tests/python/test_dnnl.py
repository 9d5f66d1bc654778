"""The oneDNN paths of Convolution (forward, data and weight gradients), Pooling and float32 GEMM
(dot, FullyConnected, ...) agree with the portable kernels and OpenBLAS; BatchNorm and the cases MX keeps portable on purpose run no oneDNN primitive.

Every case runs twice in child processes on the same inputs: once as the library is built (oneDNN
when the build has it, with ONEDNN_VERBOSE=1 so its primitives report each execution) and once with
MX_DNNL=0 (the portable kernels only). The results must agree within float32 tolerance. When the
build links oneDNN, a case that oneDNN takes must show its primitive in the verbose log: a build that
claims oneDNN but silently falls back fails here, it does not skip. The MX_DNNL=0 run must show none.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mx

HERE = os.path.dirname(os.path.abspath(__file__))


def dnnl_built():
    """Whether this libmx uses oneDNN: lib_info('dnnl') when the library reports it, else whether
    libdnnl was loaded with libmx."""
    try:
        return mx.base.lib_info("dnnl") not in ("", "none")
    except Exception:  # older library without the key: look at what the process mapped
        with open("/proc/self/maps") as f:
            return "libdnnl" in f.read()


# (name, op, input shapes, params, train, the oneDNN primitive expected, or None where MX keeps
#  its portable kernel on purpose)
CONV = "convolution"
GEMM = "gemm_api"
CASES = [
    # ---- Convolution forward
    ("conv1d_stride_pad_dilate", "Convolution", [(2, 4, 17), (6, 4, 3), (6,)],
     {"kernel": (3,), "stride": (2,), "pad": (1,), "dilate": (2,), "num_filter": 6}, False, CONV),
    ("conv2d_first_layer", "Convolution", [(4, 3, 20, 20), (16, 3, 3, 3), (16,)],
     {"kernel": (3, 3), "pad": (1, 1), "num_filter": 16}, False, CONV),
    ("conv2d_stride2_nopad", "Convolution", [(2, 8, 11, 12), (8, 8, 3, 3), (8,)],
     {"kernel": (3, 3), "stride": (2, 2), "num_filter": 8}, False, CONV),
    ("conv2d_groups_dilate_nobias", "Convolution", [(2, 8, 13, 9), (12, 4, 3, 2)],
     {"kernel": (3, 2), "dilate": (2, 1), "pad": (2, 1), "num_group": 2, "num_filter": 12, "no_bias": True},
     False, CONV),
    ("conv2d_depthwise", "Convolution", [(2, 16, 10, 10), (16, 1, 3, 3), (16,)],
     {"kernel": (3, 3), "pad": (1, 1), "stride": (2, 2), "num_group": 16, "num_filter": 16}, False, CONV),
    ("conv2d_1x1", "Convolution", [(3, 32, 7, 7), (24, 32, 1, 1), (24,)],
     {"kernel": (1, 1), "num_filter": 24}, False, CONV),
    ("conv3d", "Convolution", [(2, 3, 6, 7, 8), (5, 3, 3, 3, 3), (5,)],
     {"kernel": (3, 3, 3), "stride": (1, 2, 2), "pad": (1, 1, 0), "num_filter": 5}, False, CONV),
    # ---- Convolution gradients (ograd, data, weight)
    ("conv2d_bwd_data", "_backward_Convolution_data", [(2, 8, 10, 10), (2, 16, 10, 10), (8, 16, 3, 3)],
     {"kernel": (3, 3), "pad": (1, 1), "num_filter": 8}, False, CONV),
    ("conv2d_bwd_data_stride_groups", "_backward_Convolution_data",
     [(2, 6, 5, 5), (2, 32, 11, 12), (6, 16, 3, 3)],
     {"kernel": (3, 3), "stride": (2, 2), "num_group": 2, "num_filter": 6}, False, CONV),
    ("conv1d_bwd_data_dilate", "_backward_Convolution_data", [(3, 5, 9), (3, 16, 13), (5, 16, 3)],
     {"kernel": (3,), "dilate": (2,), "num_filter": 5}, False, CONV),
    ("conv2d_bwd_data_depthwise", "_backward_Convolution_data", [(2, 16, 5, 5), (2, 16, 10, 10), (16, 1, 3, 3)],
     {"kernel": (3, 3), "pad": (1, 1), "stride": (2, 2), "num_group": 16, "num_filter": 16}, False, CONV),
    # A few image channels (a first layer): the portable kernel is faster there and keeps it.
    ("conv2d_bwd_data_first_layer", "_backward_Convolution_data", [(2, 8, 10, 10), (2, 3, 10, 10), (8, 3, 3, 3)],
     {"kernel": (3, 3), "pad": (1, 1), "num_filter": 8}, False, None),
    ("conv2d_bwd_weight", "_backward_Convolution_weight", [(2, 8, 10, 10), (2, 16, 10, 10), (8, 16, 3, 3)],
     {"kernel": (3, 3), "pad": (1, 1), "num_filter": 8}, False, CONV),
    ("conv2d_bwd_weight_stride_groups", "_backward_Convolution_weight",
     [(2, 6, 5, 5), (2, 32, 11, 12), (6, 16, 3, 3)],
     {"kernel": (3, 3), "stride": (2, 2), "num_group": 2, "num_filter": 6}, False, CONV),
    ("conv3d_bwd_weight", "_backward_Convolution_weight", [(2, 4, 4, 5, 6), (2, 16, 4, 5, 6), (4, 16, 3, 3, 3)],
     {"kernel": (3, 3, 3), "pad": (1, 1, 1), "num_filter": 4}, False, CONV),
    ("conv2d_bwd_weight_depthwise", "_backward_Convolution_weight",
     [(2, 16, 5, 5), (2, 16, 10, 10), (16, 1, 3, 3)],
     {"kernel": (3, 3), "pad": (1, 1), "stride": (2, 2), "num_group": 16, "num_filter": 16}, False, CONV),
    ("conv2d_bwd_weight_first_layer", "_backward_Convolution_weight",
     [(2, 8, 10, 10), (2, 3, 10, 10), (8, 3, 3, 3)],
     {"kernel": (3, 3), "pad": (1, 1), "num_filter": 8}, False, None),
    # ---- GEMM (dot, FullyConnected, and every GEMM inside other kernels) on oneDNN's sgemm
    ("dot_mid", "dot", [(64, 784), (784, 256)], {}, False, GEMM),
    ("dot_transpose_a", "dot", [(256, 64), (256, 300)], {"transpose_a": True}, False, GEMM),
    ("dot_transpose_b", "dot", [(64, 300), (128, 300)], {"transpose_b": True}, False, GEMM),
    ("fc_forward", "FullyConnected", [(64, 784), (256, 784), (256,)], {"num_hidden": 256}, False, GEMM),
    ("dot_tiny_stays_on_blas", "dot", [(8, 16), (16, 4)], {}, False, None),
    # ---- Pooling
    ("pool2d_max_valid", "Pooling", [(2, 3, 9, 10)],
     {"kernel": (3, 3), "stride": (2, 2), "pool_type": "max"}, False, "pooling"),
    ("pool2d_max_full_pad", "Pooling", [(2, 3, 10, 10)],
     {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "max", "pooling_convention": "full"},
     False, "pooling"),
    ("pool2d_avg_include_pad", "Pooling", [(2, 4, 8, 8)],
     {"kernel": (3, 3), "stride": (1, 1), "pad": (1, 1), "pool_type": "avg"}, False, "pooling"),
    ("pool2d_avg_exclude_pad_full", "Pooling", [(2, 4, 10, 11)],
     {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg", "count_include_pad": False,
      "pooling_convention": "full"}, False, "pooling"),
    # MXNet divides by the clipped window here, oneDNN by the whole kernel: the portable kernel runs.
    ("pool2d_avg_include_pad_full", "Pooling", [(2, 4, 9, 9)],
     {"kernel": (2, 2), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg", "pooling_convention": "full"},
     False, None),
    ("pool1d_max", "Pooling", [(2, 3, 15)], {"kernel": (4,), "stride": (3,), "pool_type": "max"}, False, "pooling"),
    ("pool1d_max_same", "Pooling", [(2, 3, 15)],
     {"kernel": (4,), "stride": (3,), "pool_type": "max", "pooling_convention": "same"}, False, "pooling"),
    ("pool1d_avg_same", "Pooling", [(2, 3, 15)],
     {"kernel": (4,), "stride": (3,), "pool_type": "avg", "pooling_convention": "same"}, False, None),
    ("pool3d_avg", "Pooling", [(2, 2, 6, 7, 8)],
     {"kernel": (2, 2, 2), "stride": (2, 2, 2), "pool_type": "avg"}, False, "pooling"),
    ("pool2d_global_max", "Pooling", [(2, 5, 7, 6)], {"global_pool": True, "pool_type": "max"}, False, "pooling"),
    ("pool2d_global_avg", "Pooling", [(2, 5, 7, 6)], {"global_pool": True, "pool_type": "avg"}, False, "pooling"),
    ("pool2d_sum", "Pooling", [(2, 5, 7, 6)], {"kernel": (2, 2), "pool_type": "sum"}, False, None),
    # ---- BatchNorm (data, gamma, beta, moving_mean, moving_var): oneDNN's plain-layout kernel is slower
    # than the portable one, so BatchNorm never takes it.
    ("bn4d_inference", "BatchNorm", [(4, 6, 5, 5), (6,), (6,), (6,), (6,)],
     {"fix_gamma": False, "eps": 1e-5}, False, None),
    ("bn4d_train", "BatchNorm", [(4, 6, 5, 5), (6,), (6,), (6,), (6,)],
     {"fix_gamma": False, "momentum": 0.8, "output_mean_var": True}, True, None),
]

CHILD = textwrap.dedent("""
    import json, sys, zlib
    import numpy as np
    import mx
    cases = json.load(open(sys.argv[1]))
    outdir = sys.argv[2]
    for name, op, shapes, params, train in cases:
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        arrays = []
        for i, s in enumerate(shapes):
            a = rng.uniform(-1, 1, size=s).astype(np.float32)
            if op == "BatchNorm" and i == 4:
                a = np.abs(a) + 0.5  # a variance
            arrays.append(a)
        nds = [mx.nd.array(a) for a in arrays]
        print("MX_CASE_BEGIN " + name, flush=True)
        if train:
            with mx.autograd.train_mode():
                out = mx.nd.invoke(op, nds, {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        else:
            out = mx.nd.invoke(op, nds, {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        outs = out if isinstance(out, list) else [out]
        res = {"out%d" % i: o.asnumpy() for i, o in enumerate(outs)}
        if op == "BatchNorm":
            res["moving_mean"] = nds[3].asnumpy()
            res["moving_var"] = nds[4].asnumpy()
        print("MX_CASE_END " + name, flush=True)
        np.savez(outdir + "/" + name + ".npz", **res)
""")


def _run_child(tmp_path, tag, env_extra):
    outdir = tmp_path / tag
    outdir.mkdir()
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([[c[0], c[1], c[2], c[3], c[4]] for c in CASES]))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ)
    env.pop("ONEDNN_VERBOSE", None)
    env.pop("DNNL_VERBOSE", None)
    env.update(env_extra)
    r = subprocess.run([sys.executable, str(script), str(cases), str(outdir)], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, "child (%s) failed:\n%s\n%s" % (tag, r.stdout[-4000:], r.stderr[-4000:])
    # The oneDNN primitives that executed in each case (reorders aside).
    seen, cur = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("MX_CASE_BEGIN "):
            cur = line.split(" ", 1)[1]
            seen[cur] = set()
        elif line.startswith("MX_CASE_END "):
            cur = None
        elif cur is not None and ",exec,cpu," in line:
            prim = line.split(",exec,cpu,")[1].split(",")[0]
            if prim != "reorder":
                seen[cur].add(prim)
    return outdir, seen


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dnnl")
    fast = _run_child(tmp, "dnnl", {"MX_DNNL": "1", "ONEDNN_VERBOSE": "1"})
    ref = _run_child(tmp, "portable", {"MX_DNNL": "0", "ONEDNN_VERBOSE": "1"})
    return fast, ref


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_dnnl_matches_portable(runs, case):
    name, op, _, _, _, prim = case
    (fast_dir, fast_seen), (ref_dir, ref_seen) = runs
    fast = np.load(str(fast_dir / (name + ".npz")))
    ref = np.load(str(ref_dir / (name + ".npz")))
    assert sorted(fast.files) == sorted(ref.files)
    for k in ref.files:
        scale = max(1.0, float(np.abs(ref[k]).max(initial=0.0)))
        np.testing.assert_allclose(fast[k], ref[k], rtol=1e-4, atol=1e-5 * scale, err_msg="%s: %s" % (name, k))
    assert not ref_seen.get(name), "MX_DNNL=0 still ran oneDNN primitives %s" % ref_seen.get(name)
    if dnnl_built():
        if prim is None:
            # The portable kernels may multiply on oneDNN's GEMM; no other primitive may run.
            others = fast_seen.get(name, set()) - ({GEMM} if op != "dot" else set())
            assert not others, "%s should use the portable kernel, ran %s" % (name, fast_seen[name])
        else:
            assert prim in fast_seen.get(name, set()), (
                "the build links oneDNN but %s did not run a oneDNN %s primitive (saw %s)"
                % (name, prim, sorted(fast_seen.get(name, set()))))



def test_concurrent_convolutions_match_reference():
    """Independent convolutions of several shapes pushed without waiting (the threaded engine may run
    them on different workers at once, sharing cached primitives) all match numpy."""
    sys.path.insert(0, HERE)
    from specs.spec_nn_conv import ref_convolution

    rng = np.random.default_rng(7)
    jobs = []
    for i in range(12):
        c, f, h = (3, 8, 12) if i % 2 else (16, 16, 9)
        x = rng.uniform(-1, 1, size=(3, c, h, h)).astype(np.float32)
        w = rng.uniform(-1, 1, size=(f, c, 3, 3)).astype(np.float32)
        b = rng.uniform(-1, 1, size=(f,)).astype(np.float32)
        p = {"kernel": (3, 3), "pad": (1, 1), "stride": (1 + i % 3, 1), "num_filter": f}
        out = mx.nd.invoke("Convolution", [mx.nd.array(x), mx.nd.array(w), mx.nd.array(b)], p)
        jobs.append((out, x, w, b, p))
    for out, x, w, b, p in jobs:
        np.testing.assert_allclose(out.asnumpy(), ref_convolution(x, w, b, **p), rtol=1e-4, atol=1e-4)
