"""Random ops with random (often invalid) parameters, input counts, shapes and dtypes, half of them
recorded for autograd with a backward pass (sometimes twice).

    python fuzz_ops.py SEED ITERATIONS

Every call must either work or raise a clear error; the process must never crash or hang. The
address space is capped so that an absurd size fails as an allocation error instead of paging.
"""
import random
import resource
import sys

resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))

import mx  # noqa: E402
from mx._api import ffi, lib  # noqa: E402

seed = int(sys.argv[1]); n = int(sys.argv[2])
random.seed(seed)
count = ffi.new("size_t*"); names = ffi.new("const char* const**"); lib.mx_op_list(count, names)
ops = [ffi.string(names[0][i]).decode() for i in range(count[0])]
def info(name):
    op = ffi.new("const mx_op**"); lib.mx_op_find(name.encode(), op)
    np_ = ffi.new("int*"); pn = ffi.new("const char* const**"); pt = ffi.new("const char* const**")
    ni = ffi.new("int*"); inn = ffi.new("const char* const**"); kv = ffi.new("const char**")
    lib.mx_op_info(op[0], ffi.NULL, ffi.NULL, np_, pn, pt, ffi.NULL, ffi.NULL, ni, inn, kv)
    params = [(ffi.string(pn[0][i]).decode(), ffi.string(pt[0][i]).decode()) for i in range(np_[0])]
    return params, ni[0], ffi.string(kv[0]).decode()
INFO = {o: info(o) for o in ops}
DT = ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"]
def rval(t):
    r = random.random()
    if t.startswith("int"): return random.choice([-3, -1, 0, 1, 2, 3, 7, 100000, -2**40, "x", "None"])
    if t.startswith("float"): return random.choice([0.0, -1.5, 2.0, 1e30, float("nan"), float("inf"), "None", "abc"])
    if t.startswith("boolean"): return random.choice([True, False, "maybe"])
    if t.startswith("Shape"): return random.choice([(), (0,), (2,), (-1,), (1, 2), (2, -1), (0, 0), (3, 4, 5), (-4, 1, 2), (None, 2), "bad", (10**12,)])
    if t.startswith("{"):
        vals = [v.strip(" '") for v in t[1:t.index("}")].split(",")]
        return random.choice(vals + ["nope"])
    return random.choice(["x", "float32", "cpu(0)", "gpu(0)", "", "None"])
ok_calls = 0
for it in range(n):
    name = random.choice(ops)
    params, ni, kv = INFO[name]
    p = {}
    for pname, ptype in params:
        if random.random() < 0.4:
            p[pname] = rval(ptype)
    nin = ni
    if kv:
        nin = random.choice([0, 1, 2, 3])
        if random.random() < 0.8: p[kv] = nin
    if random.random() < 0.1: nin += random.choice([-1, 1])
    ins = []
    for _ in range(max(nin, 0)):
        shp = random.choice([(), (1,), (3,), (2, 3), (3, 1), (0, 2), (2, 3, 4), (1, 1, 1, 1), (2, 2, 2, 2, 2)])
        dt = random.choice(DT)
        a = mx.nd.zeros(shp if shp else (1,), dtype=dt)
        if not shp: a = a.reshape(())
        ins.append(a)
    rec = random.random() < 0.5
    if rec:
        for a in ins:
            if random.random() < 0.7:
                try:
                    a.attach_grad()
                except mx.MXNetError:
                    pass
    try:
        if rec:
            with mx.autograd.record():
                r = mx.nd.invoke(name, ins, p)
            rs0 = r if isinstance(r, list) else [r]
            try:
                mx.autograd.backward(rs0, retain_graph=random.random() < 0.5)
            except mx.MXNetError:
                pass
            if random.random() < 0.3:
                try:
                    mx.autograd.backward(rs0)
                except mx.MXNetError:
                    pass
        else:
            r = mx.nd.invoke(name, ins, p)
        rs = r if isinstance(r, list) else [r]
        for x in rs: x.wait_to_read()
        ok_calls += 1
    except mx.MXNetError:
        pass
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        pass
try:
    mx.nd.waitall()
except mx.MXNetError:
    pass
print("ok", seed, "successful calls", ok_calls, "of", n)
