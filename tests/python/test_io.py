"""NDArray files in MXNet's binary format: mx.nd.save / load / save_to_bytes / load_from_bytes.

Checked against the files real MXNet 1.9.1 wrote (../shared/fixtures/mxnet-1.9.1 beside the
repository, or $MX_FIXTURES_DIR): every dense fixture loads and equals its .npy, and what MX writes
for the same arrays is byte-identical. Records of the other versions (V1, V3, legacy V0) are built
here byte by byte from FORMATS.md. Bad input of every kind must give a clear mx.MXNetError.
"""
import hashlib
import json
import struct

import numpy as np
import pytest

import mx
from conftest import _mxnet_fixture_dir  # the one lookup of the fixture folder

ALL_DTYPES = ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"]
TYPE_FLAG = {"float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5, "int64": 6, "bool": 7,
             "bfloat16": 12}
V1, V2, V3 = 0xF993FAC8, 0xF993FAC9, 0xF993FACA


FIX = _mxnet_fixture_dir()


@pytest.fixture
def fixtures_present():
    # Missing fixtures are a broken checkout, not a reason to skip: fail loudly.
    if FIX is None:
        pytest.fail("MXNet 1.9.1 fixture files not found: keep shared/fixtures/mxnet-1.9.1 beside the "
                    "checkout or set MX_FIXTURES_DIR")


needs_fixtures = pytest.mark.usefixtures("fixtures_present")


@pytest.fixture(scope="module")
def manifest():
    return json.loads((FIX / "manifest.json").read_text())


def _dtype_name(a):
    d = a.dtype
    return getattr(d, "name", None) or (d.__name__ if isinstance(d, type) else str(d))


def _f64(x):
    """Values as float64 for comparisons (works for bfloat16 arrays however the binding shows them)."""
    x = x.asnumpy() if hasattr(x, "asnumpy") else np.asarray(x)
    return np.asarray(x).astype(np.float64)


def _assert_same(a, expect, dtype):
    assert tuple(a.shape) == tuple(expect.shape)
    assert _dtype_name(a) == dtype
    got = _f64(a)
    exp = np.asarray(expect).astype(np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    np.testing.assert_array_equal(got[~np.isnan(got)], exp[~np.isnan(exp)])
    # Signed zeros and exact bits survive for the float types.
    np.testing.assert_array_equal(np.signbit(got), np.signbit(exp))


def _bf16_round(x):
    b = np.ascontiguousarray(x, np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


def _sample(dtype, shape, seed=0):
    """Values that each dtype holds exactly (so a round trip must reproduce them bit for bit)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype in ("uint8", "int8", "int32", "int64"):
        info = np.iinfo(dtype)
        v = rng.integers(info.min, info.max, size=n, dtype=np.int64, endpoint=True).astype(dtype)
        if n >= 2:
            v[0], v[1] = info.min, info.max
        return v.reshape(shape)
    v = rng.standard_normal(n) * 100
    if dtype == "bfloat16":
        return _bf16_round(v.astype(np.float32)).reshape(shape)
    v = v.astype(dtype)
    if n >= 4:
        v[:4] = [0.0, -0.0, np.inf, -np.inf]
    return v.reshape(shape)


def _nd(x, dtype):
    x = np.asarray(x)
    if x.ndim == 0:  # mx.nd.array follows MXNet 1.x (0-d input -> shape (1,)); make a 0-d view
        return mx.nd.array(x.reshape(1), dtype=dtype).reshape(())
    return mx.nd.array(x, dtype=dtype)


def _header(n):
    return struct.pack("<QQQ", 0x112, 0, n)


def _names(names):
    out = struct.pack("<Q", len(names))
    for n in names:
        b = n.encode()
        out += struct.pack("<Q", len(b)) + b
    return out


def _v2_record(x, flag, magic=V2, dev=(1, 0)):
    x = np.array(x, order="C")  # (ascontiguousarray would turn a 0-d array into 1-d)
    return (struct.pack("<Iii", magic, 0, x.ndim) + struct.pack(f"<{x.ndim}q", *x.shape)
            + struct.pack("<iii", dev[0], dev[1], flag) + x.tobytes())


# ------------------------------------------------------------------ MXNet 1.9.1 files
@needs_fixtures
@pytest.mark.parametrize("fname", ["arrays_dict.nd", "arrays_list.nd"])
def test_fixture_loads_equal_npy(fname, manifest):
    entries = manifest["files"][fname]["entries"]
    loaded = mx.nd.load(str(FIX / fname))
    if fname == "arrays_dict.nd":
        assert isinstance(loaded, dict)
        assert list(loaded.keys()) == manifest["checks"]["arrays_dict_key_order_in_file"]
        items = [(e["name"], loaded[e["name"]], e) for e in entries]
    else:
        assert isinstance(loaded, list) and len(loaded) == len(entries)
        items = [(k, a, e) for k, a, e in zip(manifest["arrays_list_order"], loaded, entries)]
    for key, arr, entry in items:
        expect = np.load(FIX / "arrays_npy" / f"{key}.npy")
        assert list(arr.shape) == entry["shape"]
        _assert_same(arr, expect, entry["dtype"])


@needs_fixtures
def test_fixture_bytes_identical(manifest):
    arrays = {k: np.load(FIX / "arrays_npy" / f"{k}.npy") for k in manifest["arrays_list_order"]}
    nd = {k: _nd(v, v.dtype.name) for k, v in arrays.items()}
    as_dict = {k: nd[k] for k in manifest["checks"]["arrays_dict_key_order_in_file"]}
    as_list = [nd[k] for k in manifest["arrays_list_order"]]
    for fname, data in (("arrays_dict.nd", as_dict), ("arrays_list.nd", as_list)):
        expect = (FIX / fname).read_bytes()
        got = mx.nd.save_to_bytes(data)
        assert got == expect, f"{fname}: first difference at byte " + str(
            next((i for i, (a, b) in enumerate(zip(got, expect)) if a != b), min(len(got), len(expect))))
        assert hashlib.sha256(got).hexdigest() == manifest["files"][fname]["sha256"]


@needs_fixtures
def test_fixture_file_save_identical(manifest, tmp_path):
    arrays = {k: np.load(FIX / "arrays_npy" / f"{k}.npy") for k in manifest["checks"]["arrays_dict_key_order_in_file"]}
    out = tmp_path / "again.nd"
    mx.nd.save(str(out), {k: _nd(v, v.dtype.name) for k, v in arrays.items()})
    assert out.read_bytes() == (FIX / "arrays_dict.nd").read_bytes()


@needs_fixtures
@pytest.mark.parametrize("fname", ["cnn-0000.params", "mlp_bn-0000.params", "cnn_gluon.params", "mlp_bn_gluon.params"])
def test_fixture_params_load(fname, manifest):
    entries = manifest["files"][fname]["entries"]
    loaded = mx.nd.load(str(FIX / fname))
    assert list(loaded.keys()) == [e["name"] for e in entries]
    for e in entries:
        a = loaded[e["name"]]
        assert list(a.shape) == e["shape"] and _dtype_name(a) == e["dtype"]
        assert np.all(np.isfinite(_f64(a)))
    # Re-saving reproduces the file exactly (names, order, records).
    assert mx.nd.save_to_bytes(loaded) == (FIX / fname).read_bytes()


@needs_fixtures
def test_fixture_sparse_not_supported():
    with pytest.raises(mx.MXNetError, match="sparse storage is not supported"):
        mx.nd.load(str(FIX / "arrays_sparse.nd"))
    with pytest.raises(mx.MXNetError, match="sparse storage is not supported"):
        mx.nd.load_from_bytes((FIX / "arrays_sparse.nd").read_bytes())


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (7,), (), (0, 3), (2, 0, 5), (2, 3, 1, 4)])
def test_round_trip_every_dtype(dtype, shape, tmp_path):
    x = _sample(dtype, shape)
    a = _nd(x, dtype)
    for data in ([a], {"w": a}):
        b = mx.nd.save_to_bytes(data)
        back = mx.nd.load_from_bytes(b)
        got = back[0] if isinstance(data, list) else back["w"]
        if isinstance(data, dict):
            assert list(back.keys()) == ["w"]
        _assert_same(got, x, dtype)
        path = tmp_path / f"{dtype}.nd"
        mx.nd.save(str(path), data)
        assert path.read_bytes() == b
        again = mx.nd.load(str(path))
        _assert_same(again[0] if isinstance(data, list) else again["w"], x, dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_record_layout(dtype):
    """A saved record is exactly header + V2 record (V3 for a 0-d array) + name table."""
    x = _sample(dtype, (2, 3), seed=3)
    # bfloat16 is stored as the top half of the float32 bit pattern.
    raw = (x.view(np.uint32) >> 16).astype(np.uint16) if dtype == "bfloat16" else x
    expect = _header(1) + _v2_record(raw, TYPE_FLAG[dtype]) + _names(["x"])
    assert mx.nd.save_to_bytes({"x": _nd(x, dtype)}) == expect
    s = np.asarray(_sample(dtype, (1,), seed=4)).reshape(())
    raw_s = (s.view(np.uint32) >> 16).astype(np.uint16) if dtype == "bfloat16" else s
    expect = _header(1) + _v2_record(raw_s, TYPE_FLAG[dtype], magic=V3) + _names([])
    assert mx.nd.save_to_bytes([_nd(s, dtype)]) == expect


def test_mixed_list_and_names(tmp_path):
    xs = {f"arg:{d}": _sample(d, (3, 2), seed=i) for i, d in enumerate(ALL_DTYPES)}
    xs["aux:scalar"] = np.float64(2.5)
    xs["ünïcödé name"] = np.arange(5, dtype=np.int64)
    xs[""] = np.zeros((0,), np.float32)
    dtypes = {k: (k.split(":")[1] if k.startswith("arg:") else np.asarray(v).dtype.name) for k, v in xs.items()}
    data = {k: _nd(np.asarray(v), dtypes[k]) for k, v in xs.items()}
    back = mx.nd.load_from_bytes(mx.nd.save_to_bytes(data))
    assert list(back.keys()) == list(xs.keys())
    for k, v in xs.items():
        _assert_same(back[k], np.asarray(v), dtypes[k])
    # A list keeps its order and has no names.
    lst = mx.nd.load_from_bytes(mx.nd.save_to_bytes(list(data.values())))
    assert isinstance(lst, list) and len(lst) == len(xs)
    for a, (k, v) in zip(lst, xs.items()):
        _assert_same(a, np.asarray(v), dtypes[k])


def test_empty(tmp_path):
    assert mx.nd.save_to_bytes([]) == _header(0) + _names([])
    assert len(mx.nd.load_from_bytes(_header(0) + _names([]))) == 0
    path = tmp_path / "empty.nd"
    mx.nd.save(str(path), [])
    assert len(mx.nd.load(str(path))) == 0
    assert len(mx.nd.load_from_bytes(mx.nd.save_to_bytes({}))) == 0


def test_large_array_round_trip(tmp_path):
    x = np.random.default_rng(5).standard_normal((1000, 1000)).astype(np.float32)
    path = tmp_path / "big.params"
    mx.nd.save(str(path), {"big": _nd(x, "float32")})
    assert path.stat().st_size == 24 + 4 * 3 + 16 + 12 + x.nbytes + 8 + 8 + 3
    _assert_same(mx.nd.load(str(path))["big"], x, "float32")


def test_save_waits_for_pending_writes():
    a = mx.nd.invoke("_full", [], {"shape": (300, 400), "value": 3.5})
    a = a[0] if isinstance(a, (list, tuple)) else a
    back = mx.nd.load_from_bytes(mx.nd.save_to_bytes([a]))
    _assert_same(back[0], np.full((300, 400), 3.5, np.float32), "float32")


# ------------------------------------------------------------------ other record versions
def test_read_v3_records():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    s = np.array(7, dtype=np.int32)
    none_unknown_ndim = struct.pack("<Iii", V3, 0, -1)
    none_unknown_dim = struct.pack("<Iii", V3, 0, 2) + struct.pack("<2q", 3, -1)
    blob = (_header(4) + _v2_record(x, 0, magic=V3) + _v2_record(s, 4, magic=V3) + none_unknown_ndim
            + none_unknown_dim + _names([]))
    out = mx.nd.load_from_bytes(blob)
    assert len(out) == 4
    _assert_same(out[0], x, "float32")
    _assert_same(out[1], s, "int32")


def test_read_v1_record():
    x = np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5
    rec = struct.pack("<Ii", V1, 2) + struct.pack("<2q", 3, 4) + struct.pack("<iii", 1, 0, 1) + x.tobytes()
    out = mx.nd.load_from_bytes(_header(1) + rec + _names(["old"]))
    _assert_same(out["old"], x, "float64")


def test_read_v0_record():
    x = np.arange(-4, 4, dtype=np.int8).reshape(2, 2, 2)
    rec = struct.pack("<I", 3) + struct.pack("<3I", 2, 2, 2) + struct.pack("<iii", 1, 0, 5) + x.tobytes()
    y = np.array([1.5, -2.5], dtype=np.float16)
    rec2 = struct.pack("<I", 1) + struct.pack("<I", 2) + struct.pack("<iii", 2, 1, 2) + y.tobytes()  # saved on gpu(1)
    out = mx.nd.load_from_bytes(_header(2) + rec + rec2 + _names(["a", "b"]))
    _assert_same(out["a"], x, "int8")
    _assert_same(out["b"], y, "float16")


def test_read_none_records():
    """ndim 0 in V2 / V1 / V0 is a none array; the arrays around it load intact."""
    x = np.arange(3, dtype=np.float32)
    blob = (_header(5) + _v2_record(x, 0) + struct.pack("<Iii", V2, 0, 0) + struct.pack("<Iii", V2, -1, 0)
            + struct.pack("<Ii", V1, 0) + struct.pack("<I", 0) + _names([]))
    out = mx.nd.load_from_bytes(blob)
    assert len(out) == 5
    _assert_same(out[0], x, "float32")


def test_read_cpu_pinned_and_shared_devices():
    x = np.arange(4, dtype=np.float32)
    blob = _header(2) + _v2_record(x, 0, dev=(3, 0)) + _v2_record(x, 0, dev=(5, 2)) + _names([])
    out = mx.nd.load_from_bytes(blob)
    for a in out:
        _assert_same(a, x, "float32")


# ------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def good_blob():
    data = {"a": _nd(np.arange(6, dtype=np.float32).reshape(2, 3), "float32"),
            "b": _nd(np.array([1, 2, 3], dtype=np.int64), "int64")}
    return mx.nd.save_to_bytes(data)


def _expect_error(blob, *fragments):
    with pytest.raises(mx.MXNetError) as ei:
        mx.nd.load_from_bytes(blob)
    msg = str(ei.value)
    for f in fragments:
        assert f in msg, msg
    return msg


def test_truncated_at_every_offset(good_blob):
    for n in range(len(good_blob)):
        _expect_error(good_blob[:n], "truncated")


@needs_fixtures
@pytest.mark.parametrize("fname", ["arrays_dict.nd", "arrays_list.nd"])
def test_fixture_truncated_at_every_offset(fname, tmp_path):
    blob = (FIX / fname).read_bytes()
    for n in range(len(blob)):
        _expect_error(blob[:n], "truncated")
    # And through a file (a few cut points: header, first record, data, names).
    for n in (0, 7, 30, 100, len(blob) - 1):
        p = tmp_path / f"cut{n}.nd"
        p.write_bytes(blob[:n])
        with pytest.raises(mx.MXNetError, match="truncated"):
            mx.nd.load(str(p))


def test_bad_list_magic(good_blob):
    _expect_error(b"\x13" + good_blob[1:], "not an MXNet NDArray file", "0x113")
    _expect_error(b"PK\x03\x04" + good_blob[4:], "not an MXNet NDArray file")
    _expect_error(b"", "truncated")


def test_bad_record_magic(good_blob):
    blob = bytearray(good_blob)
    blob[24:28] = struct.pack("<I", 0xDEADBEEF)
    _expect_error(bytes(blob), "array 0", "0xDEADBEEF")


def test_wrong_counts(good_blob):
    n_off = 16
    more = good_blob[:n_off] + struct.pack("<Q", 3) + good_blob[n_off + 8:]
    _expect_error(more)  # the names table is read as a third record
    huge = good_blob[:n_off] + struct.pack("<Q", 2 ** 62) + good_blob[n_off + 8:]
    _expect_error(huge, "claims")
    fewer = good_blob[:n_off] + struct.pack("<Q", 1) + good_blob[n_off + 8:]
    _expect_error(fewer)
    # Name count neither 0 nor the array count.
    names_at = len(good_blob) - (8 + 8 + 1 + 8 + 1)
    assert struct.unpack_from("<Q", good_blob, names_at)[0] == 2
    bad_names = good_blob[:names_at] + struct.pack("<Q", 1) + good_blob[names_at + 8:]
    _expect_error(bad_names, "1 names for 2 arrays")
    huge_len = good_blob[:names_at + 8] + struct.pack("<Q", 2 ** 60) + good_blob[names_at + 16:]
    _expect_error(huge_len, "truncated", "name 0")


def test_corrupt_record_fields():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    rec = bytearray(_v2_record(x, 0))
    def with_field(offset, fmt, value):
        r = bytearray(rec)
        struct.pack_into(fmt, r, offset, value)
        return _header(1) + bytes(r) + _names([])
    _expect_error(with_field(4, "<i", 7), "storage type 7")
    _expect_error(with_field(8, "<i", 100), "ndim 100")
    _expect_error(with_field(8, "<i", -3), "ndim -3")
    _expect_error(with_field(12, "<q", -2), "negative dimension")
    _expect_error(with_field(12, "<q", 2 ** 40), "truncated")  # huge shape: no allocation, just too few bytes
    _expect_error(with_field(12, "<q", 2 ** 62), "overflow")
    _expect_error(with_field(28, "<i", 9), "device type 9")
    _expect_error(with_field(36, "<i", 99), "type flag 99")
    for flag, name in ((8, "int16"), (9, "uint16"), (10, "uint32"), (11, "uint64")):
        with pytest.raises(mx.MXNetError, match=f"{name}.*not supported"):
            mx.nd.load_from_bytes(with_field(36, "<i", flag))
    # Legacy V0 with an absurd ndim is not mistaken for a record.
    _expect_error(_header(1) + struct.pack("<I", 1000) + b"\0" * 64 + _names([]), "0x3E8")


def test_sparse_records_not_supported():
    rsp = struct.pack("<Iii", V2, 1, 1) + struct.pack("<q", 2) + b"\0" * 64
    csr = struct.pack("<Iii", V2, 2, 1) + struct.pack("<q", 2) + b"\0" * 64
    for rec, kind in ((rsp, "row_sparse"), (csr, "csr")):
        msg = _expect_error(_header(1) + rec + _names([]), "sparse storage is not supported")
        assert kind in msg


def test_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "does_not_exist.params"
    with pytest.raises(mx.MXNetError, match="does_not_exist.params"):
        mx.nd.load(str(missing))
    with pytest.raises(mx.MXNetError):
        mx.nd.load(str(tmp_path))  # a directory
    bad = tmp_path / "bad.params"
    bad.write_bytes(b"hello world, not a params file at all")
    with pytest.raises(mx.MXNetError, match="bad.params"):
        mx.nd.load(str(bad))


def test_save_errors(tmp_path):
    a = _nd(np.ones(3, np.float32), "float32")
    with pytest.raises(mx.MXNetError, match="no_such_dir"):
        mx.nd.save(str(tmp_path / "no_such_dir" / "x.nd"), [a])


def test_random_corruption_never_crashes(good_blob):
    """Random byte flips either load (a value changed) or raise MXNetError; the process survives."""
    rng = np.random.default_rng(11)
    for _ in range(500):
        blob = bytearray(good_blob)
        for pos in rng.integers(0, len(blob), size=rng.integers(1, 4)):
            blob[pos] = int(rng.integers(0, 256))
        try:
            mx.nd.load_from_bytes(bytes(blob))
        except mx.MXNetError:
            pass
