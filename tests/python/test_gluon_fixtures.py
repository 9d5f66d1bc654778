"""Gluon models written by the real Apache MXNet 1.9.1 load into MX and compute the same outputs.

The fixtures (../shared/fixtures/mxnet-1.9.1 beside the repository, or $MX_FIXTURES_DIR) were made by
make_models.py there: a CNN (cnn_gluon.params, structural names `0.weight` ...) and an MLP with
BatchNorm and Dropout (mlp_bn_gluon.params, with BatchNorm running statistics), together with an
input and MXNet's output for each, plus the `export()` parameter files (`arg:`/`aux:` names).
The nets are built here exactly as make_models.py builds them. Missing fixtures fail the tests.
"""

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from mx.gluon import nn
from conftest import _mxnet_fixture_dir  # the one lookup of the fixture folder


FIX = _mxnet_fixture_dir()


@pytest.fixture
def fix():
    # A missing fixture directory is a broken checkout, not a reason to skip.
    if FIX is None:
        pytest.fail("MXNet 1.9.1 fixture files not found: keep shared/fixtures/mxnet-1.9.1 beside the "
                    "checkout or set MX_FIXTURES_DIR")
    for name in ("cnn_gluon.params", "cnn_input.npy", "cnn_output.npy", "cnn-0000.params",
                 "mlp_bn_gluon.params", "mlp_bn_input.npy", "mlp_bn_output.npy", "mlp_bn-0000.params"):
        if not (FIX / name).is_file():
            pytest.fail("fixture %s missing in %s" % (name, FIX))
    return FIX


def make_cnn(prefix="cnn_", in_channels=0):
    net = nn.HybridSequential(prefix=prefix)
    with net.name_scope():
        net.add(nn.Conv2D(32, 3, padding=1, activation="relu", in_channels=in_channels), nn.MaxPool2D(2),
                nn.Conv2D(64, 3, padding=1, activation="relu", in_channels=32 if in_channels else 0),
                nn.MaxPool2D(2), nn.Flatten(), nn.Dense(10, in_units=3136 if in_channels else 0))
    return net


def make_mlp_bn(prefix="mlpbn_", last=10):
    net = nn.HybridSequential(prefix=prefix)
    with net.name_scope():
        net.add(nn.Dense(64, in_units=20), nn.BatchNorm(in_channels=64), nn.Activation("relu"),
                nn.Dropout(0.5),
                nn.Dense(32, in_units=64), nn.BatchNorm(in_channels=32), nn.Activation("relu"),
                nn.Dropout(0.5),
                nn.Dense(last, in_units=32))
    return net


def _io(fix, stem):
    return np.load(fix / (stem + "_input.npy")), np.load(fix / (stem + "_output.npy"))


TOL = dict(rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- CNN
@pytest.mark.parametrize("hybridize", [False, True])
def test_cnn_gluon_params_reproduce_mxnet_output(fix, hybridize):
    x, ref = _io(fix, "cnn")
    net = make_cnn()                               # deferred shapes: taken from the file
    net.load_parameters(str(fix / "cnn_gluon.params"))
    if hybridize:
        net.hybridize()
    assert net[0].weight.shape == (32, 1, 3, 3) and net[5].weight.shape == (10, 3136)
    out = net(nd.array(x))
    assert out.shape == (32, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out.asnumpy(), ref, **TOL)


def test_cnn_params_overwrite_initialized_net(fix):
    x, ref = _io(fix, "cnn")
    net = make_cnn(in_channels=1)
    net.initialize(mx.init.Xavier())
    before = net(nd.array(x)).asnumpy()
    assert np.abs(before - ref).max() > 1e-2       # a fresh net is not the trained one
    net.load_parameters(str(fix / "cnn_gluon.params"))
    np.testing.assert_allclose(net(nd.array(x)).asnumpy(), ref, **TOL)


def test_cnn_first_layer_matches_numpy(fix):
    # An independent check of what the loaded weights mean: conv0 + relu written out in numpy.
    x, _ = _io(fix, "cnn")
    net = make_cnn()
    net.load_parameters(str(fix / "cnn_gluon.params"))
    w = net[0].weight.data().asnumpy()
    b = net[0].bias.data().asnumpy()
    xs = x[:4]
    xp = np.pad(xs, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((4, 32, 28, 28), np.float64)
    for i in range(3):
        for j in range(3):
            ref += np.einsum("nchw,oc->nohw", xp[:, :, i:i + 28, j:j + 28], w[:, :, i, j])
    ref = np.maximum(ref + b[None, :, None, None], 0)
    np.testing.assert_allclose(net[0](nd.array(xs)).asnumpy(), ref, rtol=1e-4, atol=1e-5)


def test_cnn_save_parameters_is_mxnet_file_and_reloads(fix, tmp_path):
    x, ref = _io(fix, "cnn")
    net = make_cnn()
    net.load_parameters(str(fix / "cnn_gluon.params"))
    path = tmp_path / "cnn_mx.params"
    net.save_parameters(str(path))
    # Same names, order, dtypes and values: MX writes the very bytes MXNet wrote.
    assert path.read_bytes() == (fix / "cnn_gluon.params").read_bytes()
    net2 = make_cnn(prefix="other_")               # structural names: the prefix does not matter
    net2.load_parameters(str(path))
    np.testing.assert_allclose(net2(nd.array(x)).asnumpy(), ref, **TOL)


def test_cnn_export_params_load_by_full_name(fix):
    # cnn-0000.params (export) holds 'arg:cnn_conv0_weight' ...: ParameterDict.load strips arg:/aux:.
    x, ref = _io(fix, "cnn")
    net = make_cnn()
    net.collect_params().load(str(fix / "cnn-0000.params"))
    np.testing.assert_allclose(net(nd.array(x)).asnumpy(), ref, **TOL)


# ----------------------------------------------------------------------------- MLP + BatchNorm
def test_mlp_bn_reproduces_mxnet_inference_output(fix):
    x, ref = _io(fix, "mlp_bn")
    net = make_mlp_bn()
    net.load_parameters(str(fix / "mlp_bn_gluon.params"))
    net.hybridize()
    out = net(nd.array(x))                         # not recording: running stats, no dropout
    np.testing.assert_allclose(out.asnumpy(), ref, **TOL)
    with autograd.record(train_mode=False):
        out2 = net(nd.array(x))
    np.testing.assert_allclose(out2.asnumpy(), ref, **TOL)
    # Inference must not touch the loaded running statistics.
    loaded = nd.load(str(fix / "mlp_bn_gluon.params"))
    np.testing.assert_array_equal(net[1].running_mean.data().asnumpy(), loaded["1.running_mean"].asnumpy())
    np.testing.assert_array_equal(net[5].running_var.data().asnumpy(), loaded["5.running_var"].asnumpy())


def test_mlp_bn_inference_matches_numpy(fix):
    # The whole inference path written out in numpy from the file's arrays.
    x, ref = _io(fix, "mlp_bn")
    p = {k: v.asnumpy().astype(np.float64) for k, v in nd.load(str(fix / "mlp_bn_gluon.params")).items()}
    h = x.astype(np.float64)
    for d, bn in ((0, 1), (4, 5)):
        h = h @ p["%d.weight" % d].T + p["%d.bias" % d]
        h = (h - p["%d.running_mean" % bn]) / np.sqrt(p["%d.running_var" % bn] + 1e-5)
        h = np.maximum(h * p["%d.gamma" % bn] + p["%d.beta" % bn], 0)
    h = h @ p["8.weight"].T + p["8.bias"]
    np.testing.assert_allclose(h, ref, rtol=1e-4, atol=1e-5)   # the fixture is what we think it is
    net = make_mlp_bn()
    net.load_parameters(str(fix / "mlp_bn_gluon.params"))
    np.testing.assert_allclose(net(nd.array(x)).asnumpy(), h, rtol=1e-5, atol=1e-5)


def test_mlp_bn_training_mode_differs_and_updates_stats(fix):
    x, ref = _io(fix, "mlp_bn")
    net = make_mlp_bn()
    net.load_parameters(str(fix / "mlp_bn_gluon.params"))
    rm0 = net[1].running_mean.data().asnumpy().copy()
    with autograd.record():                        # training: batch statistics + dropout
        out = net(nd.array(x))
    assert np.abs(out.asnumpy() - ref).max() > 1e-3
    assert not np.allclose(net[1].running_mean.data().asnumpy(), rm0)


def test_mlp_bn_save_parameters_roundtrip(fix, tmp_path):
    x, ref = _io(fix, "mlp_bn")
    net = make_mlp_bn()
    net.load_parameters(str(fix / "mlp_bn_gluon.params"))
    path = tmp_path / "mlp_mx.params"
    net.save_parameters(str(path))
    assert path.read_bytes() == (fix / "mlp_bn_gluon.params").read_bytes()
    net2 = make_mlp_bn()
    net2.initialize(mx.init.Xavier())
    net2.load_parameters(str(path))
    np.testing.assert_allclose(net2(nd.array(x)).asnumpy(), ref, **TOL)
    for a, b in zip(net.collect_params().values(), net2.collect_params().values()):
        np.testing.assert_array_equal(a.data().asnumpy(), b.data().asnumpy())


def test_mlp_bn_export_params_load_by_full_name(fix):
    x, ref = _io(fix, "mlp_bn")
    net = make_mlp_bn()
    net.collect_params().load(str(fix / "mlp_bn-0000.params"))   # aux: running stats included
    np.testing.assert_allclose(net(nd.array(x)).asnumpy(), ref, **TOL)


# ----------------------------------------------------------------------------- errors
def test_load_into_wrong_structure_names_the_parameter(fix):
    net = make_mlp_bn()
    with pytest.raises(KeyError) as e:
        net.load_parameters(str(fix / "cnn_gluon.params"))
    msg = str(e.value)
    assert "missing" in msg or "extra" in msg


def test_load_shape_mismatch_names_both_shapes(fix):
    net = make_mlp_bn(last=12)
    with pytest.raises(ValueError) as e:
        net.load_parameters(str(fix / "mlp_bn_gluon.params"))
    msg = str(e.value)
    assert "8.weight" in msg or "dense2_weight" in msg
    assert "12" in msg and "10" in msg


def test_export_file_with_other_prefix_is_refused(fix):
    net = make_mlp_bn(prefix="other_")
    with pytest.raises(KeyError) as e:
        net.collect_params().load(str(fix / "mlp_bn-0000.params"))
    assert "other_dense0_weight" in str(e.value)
