"""Symbol JSON in MXNet's nnvm format, through the raw C ABI (mx._api): the MXNet 1.9.1 fixture
graphs load with MXNet's names, are written back byte for byte, older layouts read, and bad files
give clear typed errors. Expectations are computed from the JSON text with Python's json module."""
import copy
import json

import pytest

from mx._api import ffi, lib
from mx.base import (InvalidArgumentError, NotFoundError, UnsupportedError, check_call)

FIXTURE_GRAPHS = ["cnn", "mlp_bn"]
# MXNet's BatchNorm declares inputs 3 and 4 (moving_mean, moving_var) mutated: aux states.
AUX_INPUTS = {"BatchNorm": (3, 4)}


class Sym:
    """A tiny owner of an mx_symbol handle (the Python mx.sym is tested elsewhere)."""

    def __init__(self, handle):
        self.h = handle

    def __del__(self):
        lib.mx_symbol_free(self.h)

    @classmethod
    def from_json(cls, text):
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_from_json(text.encode("utf-8"), out))
        return cls(out[0])

    @classmethod
    def var(cls, name):
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_variable(name.encode("utf-8"), out))
        return cls(out[0])

    @classmethod
    def create(cls, op, inputs, name, **params):
        keys = [ffi.new("char[]", k.encode()) for k in params]
        vals = [ffi.new("char[]", str(v).encode()) for v in params.values()]
        ins = ffi.new("mx_symbol*[]", [s.h for s in inputs])
        out = ffi.new("mx_symbol**")
        check_call(lib.mx_symbol_create(op.encode(), len(keys), keys, vals, len(inputs), ffi.NULL, ins,
                                        name.encode(), out))
        return cls(out[0])

    def tojson(self):
        out = ffi.new("const char**")
        check_call(lib.mx_symbol_to_json(self.h, out))
        return ffi.string(out[0]).decode("utf-8")

    def _list(self, which):
        n = ffi.new("size_t*")
        names = ffi.new("const char* const**")
        check_call(lib.mx_symbol_list(self.h, which, n, names))
        return [ffi.string(names[0][i]).decode("utf-8") for i in range(n[0])]

    def list_arguments(self):
        return self._list(0)

    def list_outputs(self):
        return self._list(1)

    def list_auxiliary_states(self):
        return self._list(2)

    def list_inputs(self):
        return self._list(3)


def expected_names(doc):
    """(arguments, aux states, inputs, outputs) of an nnvm JSON document, as MXNet lists them. The
    fixture files are in MXNet's depth-first order, so node order is list order."""
    nodes = doc["nodes"]
    aux = set()
    for n in nodes:
        for k in AUX_INPUTS.get(n["op"], ()):
            if k < len(n["inputs"]):
                aux.add(n["inputs"][k][0])
    variables = [i for i, n in enumerate(nodes) if n["op"] == "null"]
    args = [nodes[i]["name"] for i in variables if i not in aux]
    auxs = [nodes[i]["name"] for i in variables if i in aux]
    outs = []
    for nid, idx, _ in doc["heads"]:
        n = nodes[nid]
        outs.append(n["name"] if n["op"] == "null" else n["name"] + "_output")
    return args, auxs, [nodes[i]["name"] for i in variables], outs


def fixture_text(mxnet_fixtures, stem):
    return (mxnet_fixtures / (stem + "-symbol.json")).read_text()


def strip_row_ptr(doc):
    d = copy.deepcopy(doc)
    d.pop("node_row_ptr", None)
    return d


@pytest.mark.parametrize("stem", FIXTURE_GRAPHS)
def test_fixture_names_match_mxnet(mxnet_fixtures, stem):
    text = fixture_text(mxnet_fixtures, stem)
    args, auxs, inputs, outs = expected_names(json.loads(text))
    s = Sym.from_json(text)
    assert s.list_arguments() == args
    assert s.list_auxiliary_states() == auxs
    assert s.list_inputs() == inputs
    assert s.list_outputs() == outs
    if stem == "mlp_bn":
        assert len(auxs) == 4


@pytest.mark.parametrize("stem", FIXTURE_GRAPHS)
def test_fixture_written_back_as_mxnet_wrote_it(mxnet_fixtures, stem):
    text = fixture_text(mxnet_fixtures, stem)
    out = Sym.from_json(text).tojson()
    assert out == text  # MXNet's dmlc layout, byte for byte
    a, b = json.loads(out), json.loads(text)
    assert a["nodes"] == b["nodes"]
    assert a["heads"] == b["heads"]
    assert a["arg_nodes"] == b["arg_nodes"]
    assert a["attrs"] == {"mxnet_version": ["int", 10901]}
    # and again from our own output
    assert Sym.from_json(out).tojson() == text


@pytest.mark.parametrize("stem", FIXTURE_GRAPHS)
def test_older_layout_reads(mxnet_fixtures, stem):
    """MXNet 0.x/1.0 files: "param" for op parameters, "attr" for node attributes, two-element
    input pairs, backward_source_id, no node_row_ptr, compact separators."""
    text = fixture_text(mxnet_fixtures, stem)
    doc = json.loads(text)
    old = strip_row_ptr(doc)
    for n in old["nodes"]:
        attrs = n.pop("attrs", {})
        if n["op"] == "null":
            n["attr"] = attrs
        else:
            n["param"] = {k: v for k, v in attrs.items() if not k.startswith("__")}
            n["attr"] = {k: v for k, v in attrs.items() if k.startswith("__")}
        n["inputs"] = [[e[0], e[1]] for e in n["inputs"]]
        n["backward_source_id"] = -1
    old["heads"] = [[h[0], h[1]] for h in old["heads"]]
    del old["attrs"]
    s = Sym.from_json(json.dumps(old, separators=(",", ":")))
    args, auxs, _, outs = expected_names(doc)
    assert s.list_arguments() == args and s.list_auxiliary_states() == auxs and s.list_outputs() == outs
    assert s.tojson() == text


def test_batchnorm_without_aux_inputs_gets_them(mxnet_fixtures):
    doc = json.loads(fixture_text(mxnet_fixtures, "mlp_bn"))
    bn_names = []
    for n in doc["nodes"]:
        if n["op"] == "BatchNorm":
            n["inputs"] = n["inputs"][:3]  # very old files: moving statistics not listed
            bn_names.append(n["name"])
    s = Sym.from_json(json.dumps(doc))
    assert s.list_auxiliary_states() == [f"{b}_{k}" for b in bn_names for k in ("moving_mean", "moving_var")]
    # the dropped statistics nodes are unreachable and not listed
    assert not any("running" in a for a in s.list_arguments() + s.list_auxiliary_states())


def test_row_ptr_is_optional_and_not_trusted(mxnet_fixtures):
    text = fixture_text(mxnet_fixtures, "cnn")
    doc = json.loads(text)
    for bad in (None, [0] * len(doc["node_row_ptr"]), [7, 3]):
        d = strip_row_ptr(doc)
        if bad is not None:
            d["node_row_ptr"] = bad
        assert Sym.from_json(json.dumps(d)).tojson() == text


def test_numbers_and_bools_as_attribute_values(mxnet_fixtures):
    doc = json.loads(fixture_text(mxnet_fixtures, "cnn"))
    fc = next(n for n in doc["nodes"] if n["op"] == "FullyConnected")
    fc["attrs"]["num_hidden"] = 10
    conv = next(n for n in doc["nodes"] if n["op"] == "Convolution")
    conv["attrs"]["no_bias"] = False
    out = json.loads(Sym.from_json(json.dumps(doc)).tojson())
    fc_out = next(n for n in out["nodes"] if n["op"] == "FullyConnected")
    conv_out = next(n for n in out["nodes"] if n["op"] == "Convolution")
    assert fc_out["attrs"]["num_hidden"] == "10"
    assert conv_out["attrs"]["no_bias"] == "false"


def test_mxnet_tuning_params_are_kept(mxnet_fixtures):
    doc = json.loads(fixture_text(mxnet_fixtures, "cnn"))
    conv = next(n for n in doc["nodes"] if n["op"] == "Convolution")
    conv["attrs"].update({"cudnn_tune": "limited_workspace", "workspace": "1024"})
    out = json.loads(Sym.from_json(json.dumps(doc)).tojson())
    conv_out = next(n for n in out["nodes"] if n["name"] == conv["name"])
    assert conv_out["attrs"] == conv["attrs"]


def test_unknown_parameter_names_node_and_key(mxnet_fixtures):
    doc = json.loads(fixture_text(mxnet_fixtures, "cnn"))
    conv = next(n for n in doc["nodes"] if n["op"] == "Convolution")
    conv["attrs"]["kernal"] = "(3, 3)"
    with pytest.raises(InvalidArgumentError, match="kernal") as e:
        Sym.from_json(json.dumps(doc))
    assert conv["name"] in str(e.value)


def test_unknown_operator_is_not_found(mxnet_fixtures):
    doc = json.loads(fixture_text(mxnet_fixtures, "cnn"))
    node = next(n for n in doc["nodes"] if n["op"] == "Activation")
    node["op"] = "Frobnicate"
    with pytest.raises(NotFoundError, match="Frobnicate") as e:
        Sym.from_json(json.dumps(doc))
    assert node["name"] in str(e.value)


def test_hidden_mxnet_output_is_unsupported(mxnet_fixtures):
    doc = json.loads(fixture_text(mxnet_fixtures, "mlp_bn"))
    bn = next(i for i, n in enumerate(doc["nodes"]) if n["op"] == "BatchNorm")
    d = copy.deepcopy(doc)
    d["heads"] = [[bn, 1, 0]]  # MXNet's BatchNorm mean output (hidden there, absent in MX)
    with pytest.raises(UnsupportedError, match=doc["nodes"][bn]["name"]):
        Sym.from_json(json.dumps(d))
    d["heads"] = [[bn, 5, 0]]
    with pytest.raises(InvalidArgumentError, match="output 5"):
        Sym.from_json(json.dumps(d))
    d["heads"] = [[bn, 0, 0]]  # output 0 just works
    assert Sym.from_json(json.dumps(d)).list_outputs() == [doc["nodes"][bn]["name"] + "_output"]


def test_structural_errors_name_the_node(mxnet_fixtures):
    doc = json.loads(fixture_text(mxnet_fixtures, "cnn"))
    act = next(i for i, n in enumerate(doc["nodes"]) if n["op"] == "Activation")
    name = doc["nodes"][act]["name"]
    cases = []
    d = copy.deepcopy(doc)
    d["nodes"][act]["inputs"] = [[act + 1, 0, 0]]
    cases.append((d, "later"))
    d = copy.deepcopy(doc)
    d["nodes"][act]["inputs"] = [[999, 0, 0]]
    cases.append((d, "does not exist"))
    d = copy.deepcopy(doc)
    d["nodes"][act]["inputs"] = [[0, 1, 0]]
    cases.append((d, "output 1"))
    d = copy.deepcopy(doc)
    d["nodes"][act]["inputs"] = [[act - 1, 0, 0], [0, 0, 0]]
    cases.append((d, "inputs"))
    d = copy.deepcopy(doc)
    d["nodes"][act]["inputs"] = [["x", 0, 0]]
    cases.append((d, "number"))
    for bad, needle in cases:
        with pytest.raises(InvalidArgumentError, match=needle) as e:
            Sym.from_json(json.dumps(bad))
        assert name in str(e.value)


@pytest.mark.parametrize("text,needle", [
    ("", "end of input"),
    ("{", "expected a string key"),
    ('{"nodes": [}', "unexpected character"),
    ('{"nodes": [], "heads": []} trailing', "after the JSON value"),
    ("[]", "not a graph"),
    ('"a graph"', "not a graph"),
    ('{"heads": []}', "nodes"),
    ('{"nodes": []}', "heads"),
    ('{"nodes": [3], "heads": []}', "node 0"),
    ('{"nodes": [{"op": "null"}], "heads": []}', "name"),
    ('{"nodes": [{"name": "a", "op": "null", "attrs": {"k": [1]}}], "heads": []}', "'k'"),
    ('{"nodes": [], "heads": [], "x": "\\q"}', "escape"),
    ('{"nodes": [], "heads": [], "x": 01.}', "number"),
])
def test_bad_json_is_invalid_argument(text, needle):
    with pytest.raises(InvalidArgumentError, match=needle):
        Sym.from_json(text)


def test_every_truncation_fails_cleanly(mxnet_fixtures):
    text = fixture_text(mxnet_fixtures, "mlp_bn").rstrip()
    for cut in range(0, len(text) - 1, 41):
        with pytest.raises(InvalidArgumentError):
            Sym.from_json(text[:cut])


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(InvalidArgumentError, match="deep"):
        Sym.from_json("[" * 200000 + "]" * 200000)


def test_names_with_special_characters_round_trip():
    names = ['quote"d', "back\\slash", "new\nline", "tab\tbed", "\u00fcnic\u00f6de \u2603 \U0001F600"]
    vs = [Sym.var(n) for n in names]
    s = Sym.create("add_n", vs, "sum\u00e9")
    text = s.tojson()
    doc = json.loads(text)  # valid JSON
    assert [n["name"] for n in doc["nodes"]] == names + ["sum\u00e9"]
    back = Sym.from_json(text)
    assert back.list_arguments() == names
    assert back.list_outputs() == ["sum\u00e9_output"]
    assert back.tojson() == text
    # \u escapes (with a surrogate pair) read as the characters they stand for
    esc = json.dumps(doc, ensure_ascii=True)
    assert "\\ud83d" in esc
    assert Sym.from_json(esc).list_arguments() == names


def test_created_graph_json_layout():
    """An MLP made with MX: MXNet's JSON conventions (attrs only when present, aux version 1,
    arg_nodes every variable, heads)."""
    data = Sym.var("data")
    fc = Sym.create("FullyConnected", [data], "fc1", num_hidden=8)
    bn = Sym.create("BatchNorm", [fc], "bn1", fix_gamma="False")
    act = Sym.create("Activation", [bn], "relu1", act_type="relu")
    drop = Sym.create("Dropout", [act], "drop1", p=0.25)
    doc = json.loads(drop.tojson())
    by_name = {n["name"]: (i, n) for i, n in enumerate(doc["nodes"])}
    assert [n["name"] for n in doc["nodes"]] == [
        "data", "fc1_weight", "fc1_bias", "fc1", "bn1_gamma", "bn1_beta", "bn1_moving_mean",
        "bn1_moving_var", "bn1", "relu1", "drop1"]
    assert "attrs" not in by_name["data"][1]
    assert by_name["fc1"][1]["attrs"] == {"num_hidden": "8"}
    assert by_name["bn1_moving_var"][1]["attrs"] == {"__init__": '["one", {}]'}
    assert by_name["bn1"][1]["inputs"] == [[3, 0, 0], [4, 0, 0], [5, 0, 0], [6, 0, 1], [7, 0, 1]]
    assert doc["arg_nodes"] == [i for i, n in enumerate(doc["nodes"]) if n["op"] == "null"]
    assert doc["heads"] == [[by_name["drop1"][0], 0, 0]]
    assert doc["attrs"] == {"mxnet_version": ["int", 10901]}
    rp = doc["node_row_ptr"]
    assert rp[0] == 0 and len(rp) == len(doc["nodes"]) + 1 and all(b > a for a, b in zip(rp, rp[1:]))


def test_pre_09_scope_attributes_get_markers():
    """Before MXNet 0.9 scope attributes were written without "__" (upgraded on load, as MXNet does)."""
    doc = {"nodes": [{"op": "null", "name": "w", "attr": {"lr_mult": "2.0", "ctx_group": "dev1"}, "inputs": []},
                     {"op": "relu", "name": "r", "attr": {"wd_mult": "0"}, "inputs": [[0, 0]]}],
           "arg_nodes": [0], "heads": [[1, 0]]}
    out = json.loads(Sym.from_json(json.dumps(doc)).tojson())
    assert out["nodes"][0]["attrs"] == {"__ctx_group__": "dev1", "__lr_mult__": "2.0"}
    assert out["nodes"][1]["attrs"] == {"__wd_mult__": "0"}
    # a current file keeps such a key as it is for a variable, and refuses it on an op
    doc["attrs"] = {"mxnet_version": ["int", 10901]}
    doc["nodes"][1]["attr"] = {}
    out = json.loads(Sym.from_json(json.dumps(doc)).tojson())
    assert out["nodes"][0]["attrs"] == {"ctx_group": "dev1", "lr_mult": "2.0"}
    doc["nodes"][1]["attr"] = {"wd_mult": "0"}
    with pytest.raises(InvalidArgumentError, match="wd_mult"):
        Sym.from_json(json.dumps(doc))


def test_very_deep_chain_loads_writes_and_frees():
    """A 200000-node chain: traversal, JSON and teardown must not recurse per node."""
    n = 200000
    nodes = [{"op": "null", "name": "x", "inputs": []}]
    nodes += [{"op": "relu", "name": "r%d" % i, "inputs": [[i, 0, 0]]} for i in range(n)]
    with pytest.raises(InvalidArgumentError, match="node %d" % (n + 5)):
        Sym.from_json(json.dumps({"nodes": nodes, "heads": [[n + 5, 0, 0]]}))
    s = Sym.from_json(json.dumps({"nodes": nodes, "heads": [[n, 0, 0]]}))
    assert s.list_arguments() == ["x"]
    doc = json.loads(s.tojson())
    assert len(doc["nodes"]) == n + 1 and doc["nodes"][-1]["inputs"] == [[n - 1, 0, 0]]
    del s
