"""Generates the C source of the cffi module ``mx._api`` (API mode).

    python build_ffi.py <path/to/include/mx/c_api.h> <out.c>

The cdef is derived from c_api.h itself -- comments, preprocessor lines, ``MX_API`` and the
``extern "C"`` braces are stripped -- so the binding can never drift from the ABI. Integer
``#define``s (MX_ABI_VERSION) are kept as cffi constants. A few small C helpers are appended:
PyCapsule handling for DLPack, the deleter that releases a borrowed numpy buffer, and
single-call invoke shims that keep the per-op Python work to one foreign call.
"""
import os
import re
import sys

from cffi import FFI

# Helpers compiled into the module. They receive Python objects as ``void*`` (from ``id()``)
# and take the GIL themselves, because cffi releases it around every call.
HELPERS_C = r"""
#include <Python.h>
#include <mx/c_api.h>
#include <mx/dlpack/dlpack.h>

static const char kCapsuleVersioned[] = "dltensor_versioned";
static const char kCapsuleLegacy[] = "dltensor";
static const char kCapsuleUsedVersioned[] = "used_dltensor_versioned";
static const char kCapsuleUsedLegacy[] = "used_dltensor";

/* A capsule nobody consumed still owns its tensor. */
static void mxpy_capsule_destructor_versioned(PyObject* cap) {
  if (PyCapsule_IsValid(cap, kCapsuleVersioned)) {
    DLManagedTensorVersioned* t = (DLManagedTensorVersioned*)PyCapsule_GetPointer(cap, kCapsuleVersioned);
    if (t != NULL && t->deleter != NULL) t->deleter(t);
  }
}

static void mxpy_capsule_destructor_legacy(PyObject* cap) {
  if (PyCapsule_IsValid(cap, kCapsuleLegacy)) {
    DLManagedTensor* t = (DLManagedTensor*)PyCapsule_GetPointer(cap, kCapsuleLegacy);
    if (t != NULL && t->deleter != NULL) t->deleter(t);
  }
}

/* Wraps tensor in a new capsule appended to the list `out_list`.
 * 0: done (the capsule owns tensor); -1: no capsule made, the caller still owns tensor. */
static int mxpy_capsule_new(void* out_list, void* tensor, int versioned) {
  int rc = -1;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject* cap = PyCapsule_New(tensor, versioned ? kCapsuleVersioned : kCapsuleLegacy,
                                versioned ? mxpy_capsule_destructor_versioned
                                          : mxpy_capsule_destructor_legacy);
  if (cap != NULL) {
    /* From here the capsule owns the tensor whatever happens to the append. */
    rc = PyList_Append((PyObject*)out_list, cap) == 0 ? 0 : -2;
    Py_DECREF(cap);
  }
  if (rc != 0) PyErr_Clear();
  PyGILState_Release(g);
  return rc;
}

/* Takes the tensor out of an unconsumed DLPack capsule and marks the capsule used.
 * *versioned tells which struct it is. NULL when obj is not an unconsumed DLPack capsule. */
static void* mxpy_capsule_take(void* obj, int* versioned) {
  void* t = NULL;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject* cap = (PyObject*)obj;
  if (PyCapsule_IsValid(cap, kCapsuleVersioned)) {
    t = PyCapsule_GetPointer(cap, kCapsuleVersioned);
    if (t != NULL && PyCapsule_SetName(cap, kCapsuleUsedVersioned) == 0) *versioned = 1;
    else t = NULL;
  } else if (PyCapsule_IsValid(cap, kCapsuleLegacy)) {
    t = PyCapsule_GetPointer(cap, kCapsuleLegacy);
    if (t != NULL && PyCapsule_SetName(cap, kCapsuleUsedLegacy) == 0) *versioned = 0;
    else t = NULL;
  }
  if (t == NULL) PyErr_Clear();
  PyGILState_Release(g);
  return t;
}

/* 1 when obj is a capsule whose DLPack tensor was already taken. */
static int mxpy_capsule_is_used(void* obj) {
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject* cap = (PyObject*)obj;
  int used = PyCapsule_IsValid(cap, kCapsuleUsedVersioned) || PyCapsule_IsValid(cap, kCapsuleUsedLegacy);
  PyErr_Clear();
  PyGILState_Release(g);
  return used;
}

/* Releases a tensor taken from a capsule that could not be imported. */
static void mxpy_dlpack_delete(void* tensor, int versioned) {
  if (tensor == NULL) return;
  if (versioned) {
    DLManagedTensorVersioned* t = (DLManagedTensorVersioned*)tensor;
    if (t->deleter != NULL) t->deleter(t);
  } else {
    DLManagedTensor* t = (DLManagedTensor*)tensor;
    if (t->deleter != NULL) t->deleter(t);
  }
}

/* Marks an exported versioned tensor as a copy (DLPack's IS_COPIED flag). */
static void mxpy_dlpack_set_copied(void* tensor) {
  ((DLManagedTensorVersioned*)tensor)->flags |= DLPACK_FLAG_BITMASK_IS_COPIED;
}

/* Device of an exported tensor, to honour dl_device requests. */
static void mxpy_dlpack_device(void* tensor, int versioned, int* dev_type, int* dev_id) {
  DLDevice d = versioned ? ((DLManagedTensorVersioned*)tensor)->dl_tensor.device
                         : ((DLManagedTensor*)tensor)->dl_tensor.device;
  *dev_type = (int)d.device_type;
  *dev_id = (int)d.device_id;
}

/* Set from an atexit hook: after it, deleters leave references to the OS instead of taking a
 * GIL that a finalizing interpreter may never hand out again. */
static volatile int mxpy_exiting = 0;
static void mxpy_mark_exiting(void) { mxpy_exiting = 1; }

static int mxpy_interpreter_alive(void) {
  if (mxpy_exiting || !Py_IsInitialized()) return 0;
#if PY_VERSION_HEX >= 0x030D0000
  if (Py_IsFinalizing()) return 0;
#endif
  return 1;
}

static void mxpy_incref(void* obj) {
  PyGILState_STATE g = PyGILState_Ensure();
  Py_INCREF((PyObject*)obj);
  PyGILState_Release(g);
}

/* The mx_deleter of a wrapped numpy buffer: drops the reference that kept it alive. May run
 * on an engine thread; during interpreter shutdown the reference is left to the OS. */
static void mxpy_decref(void* obj) {
  if (obj == NULL || !mxpy_interpreter_alive()) return;
  PyGILState_STATE g = PyGILState_Ensure();
  Py_DECREF((PyObject*)obj);
  PyGILState_Release(g);
}

/* One-call invokes for the operator hot path: a new output array, or NULL on failure
 * (mx_last_error() tells why). */
static mx_ndarray* mxpy_invoke1(const mx_op* op, const mx_op_params* params, mx_ndarray* a) {
  mx_ndarray* out = NULL;
  return mx_op_invoke(op, params, 1, &a, 1, &out) == MX_OK ? out : NULL;
}

static mx_ndarray* mxpy_invoke2(const mx_op* op, const mx_op_params* params, mx_ndarray* a,
                                mx_ndarray* b) {
  mx_ndarray* in[2];
  mx_ndarray* out = NULL;
  in[0] = a;
  in[1] = b;
  return mx_op_invoke(op, params, 2, in, 1, &out) == MX_OK ? out : NULL;
}

/* In-place variants: the result is written into `out`. Return the mx status. */
static int mxpy_invoke1_into(const mx_op* op, const mx_op_params* params, mx_ndarray* a,
                             mx_ndarray* out) {
  return mx_op_invoke(op, params, 1, &a, 1, &out);
}

static int mxpy_invoke2_into(const mx_op* op, const mx_op_params* params, mx_ndarray* a,
                             mx_ndarray* b, mx_ndarray* out) {
  mx_ndarray* in[2];
  in[0] = a;
  in[1] = b;
  return mx_op_invoke(op, params, 2, in, 1, &out);
}
"""

HELPERS_CDEF = """
int mxpy_capsule_new(void* out_list, void* tensor, int versioned);
void* mxpy_capsule_take(void* obj, int* versioned);
int mxpy_capsule_is_used(void* obj);
void mxpy_dlpack_delete(void* tensor, int versioned);
void mxpy_dlpack_set_copied(void* tensor);
void mxpy_dlpack_device(void* tensor, int versioned, int* dev_type, int* dev_id);
void mxpy_incref(void* obj);
void mxpy_mark_exiting(void);
void mxpy_decref(void* obj);
mx_ndarray* mxpy_invoke1(const mx_op* op, const mx_op_params* params, mx_ndarray* a);
mx_ndarray* mxpy_invoke2(const mx_op* op, const mx_op_params* params, mx_ndarray* a, mx_ndarray* b);
int mxpy_invoke1_into(const mx_op* op, const mx_op_params* params, mx_ndarray* a, mx_ndarray* out);
int mxpy_invoke2_into(const mx_op* op, const mx_op_params* params, mx_ndarray* a, mx_ndarray* b,
                      mx_ndarray* out);
"""


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _remove_extern_c(text):
    """Drops every ``extern "C" {`` together with its matching closing brace."""
    pattern = re.compile(r'extern\s+"C"\s*\{')
    while True:
        m = pattern.search(text)
        if not m:
            return text
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth:  # unbalanced: the brace closes in a preprocessor block already dropped
            return text[: m.start()] + text[m.end():]
        text = text[: m.start()] + text[m.end(): i - 1] + text[i:]


def cdef_from_header(header_text):
    """The cffi cdef equivalent of c_api.h."""
    text = _strip_comments(header_text)
    text = re.sub(r"\\\n", " ", text)  # join continued preprocessor lines
    kept = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#"):
            m = re.match(r"#\s*define\s+([A-Za-z_]\w*)\s+(-?(?:0x[0-9a-fA-F]+|\d+))[uUlL]*\s*$", s)
            if m:
                kept.append("#define %s %s" % (m.group(1), m.group(2)))
            continue
        kept.append(line)
    text = "\n".join(kept)
    text = _remove_extern_c(text)
    text = re.sub(r"\bMX_API\b", "", text)
    return re.sub(r"\n\s*\n+", "\n", text).strip() + "\n"


def make_ffibuilder(header_path):
    with open(header_path, encoding="utf-8") as f:
        cdef = cdef_from_header(f.read())
    ffibuilder = FFI()
    ffibuilder.cdef(cdef + HELPERS_CDEF)
    ffibuilder.set_source("mx._api", HELPERS_C)
    return ffibuilder


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: build_ffi.py <c_api.h> <out.c>\n")
        return 2
    header, out = argv[1], argv[2]
    ffibuilder = make_ffibuilder(header)
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    ffibuilder.emit_c_code(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
