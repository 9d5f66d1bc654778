/*
 * common.c -- handles, errors, argument conversion and the zero-copy keep-alive queue.
 *
 * Library-level routines (all return R values; see mxr.h for the conventions):
 *   C_mxr_abi_version()            integer: mx_abi_version()
 *   C_mxr_lib_info(key)            character: mx_lib_info(key) ("version", "cuda", "blas", ...)
 *   C_mxr_lib_path()               character: the file libmx was loaded from (dladdr)
 *   C_mxr_gpu_count()              integer
 *   C_mxr_wait_all()               NULL; rethrows the first asynchronous error
 *   C_mxr_random_seed(seed)        NULL; mx_random_seed (seed: a whole number >= 0)
 *   C_mxr_storage_stats(devtype, devid)    double c(in_use, cached) in bytes
 *   C_mxr_storage_release(devtype, devid)  NULL
 *   C_mxr_handle_valid(x)          logical: x is a live handle of any kind
 *   C_mxr_handle_free(x)           NULL; frees a handle now (later use is an R error)
 *   C_mxr_keep_stats()             double c(preserved, queued): R objects kept alive for
 *                                  zero-copy arrays, and releases waiting for the main thread
 *   C_mxr_drain()                  integer: runs the pending releases now, returns how many
 *   C_mxr_r_data_ptr(x)            double: address of the data of an R double/integer/logical
 *                                  vector (to compare with C_mxr_nd_data_ptr in zero-copy tests)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mxr.h"

/* ------------------------------------------------------------------ keep-alive queue
 * A lock-free stack: deleters (any thread) push; the main thread takes the whole stack with one
 * atomic exchange, so there is no ABA problem. Nodes are malloc'ed on the main thread in mxr_keep
 * so the deleter does nothing but an atomic push. */
typedef struct mxr_keep_node {
  SEXP obj;
  struct mxr_keep_node* next;
} mxr_keep_node;

static _Atomic(mxr_keep_node*) keep_queue = NULL;
static double keep_live = 0; /* main thread only */

void* mxr_keep(SEXP obj) {
  mxr_keep_node* n = (mxr_keep_node*)malloc(sizeof(mxr_keep_node));
  if (!n) Rf_error("mx: out of memory");
  n->obj = obj;
  n->next = NULL;
  R_PreserveObject(obj);
  keep_live += 1;
  return n;
}

void mxr_keep_cancel(void* ctx) {
  mxr_keep_node* n = (mxr_keep_node*)ctx;
  if (!n) return;
  R_ReleaseObject(n->obj);
  keep_live -= 1;
  free(n);
}

/* Runs on any thread: touches no R API. */
void mxr_keep_deleter(void* ctx) {
  mxr_keep_node* n = (mxr_keep_node*)ctx;
  mxr_keep_node* head = atomic_load(&keep_queue);
  do {
    n->next = head;
  } while (!atomic_compare_exchange_weak(&keep_queue, &head, n));
}

static int mxr_drain(void) {
  mxr_keep_node* n = atomic_exchange(&keep_queue, NULL);
  int count = 0;
  while (n) {
    mxr_keep_node* next = n->next;
    R_ReleaseObject(n->obj);
    keep_live -= 1;
    free(n);
    n = next;
    count++;
  }
  return count;
}

void mxr_enter(void) {
  if (atomic_load(&keep_queue) != NULL) mxr_drain();
}

SEXP C_mxr_drain(void) { return Rf_ScalarInteger(mxr_drain()); }

SEXP C_mxr_keep_stats(void) {
  double queued = 0;
  /* Counting the queue races with pushes only in the sense that the count can be stale. */
  for (mxr_keep_node* n = atomic_load(&keep_queue); n; n = n->next) queued += 1;
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = keep_live;
  REAL(out)[1] = queued;
  UNPROTECT(1);
  return out;
}

/* ------------------------------------------------------------------ errors */
void NORET mxr_fail(void) {
  char buf[8192];
  const char* msg = mx_last_error();
  if (!msg || !*msg) msg = "libmx call failed";
  strncpy(buf, msg, sizeof buf - 1);
  buf[sizeof buf - 1] = '\0';
  Rf_error("%s", buf);
}

/* ------------------------------------------------------------------ handles */
static const char* kind_tag[MXR_NKINDS] = {"mx_ndarray", "mx_symbol", "mx_executor", "mx_cached_op"};
static const char* kind_class[MXR_NKINDS] = {"MXNDArray", "MXSymbol", "MXExecutor", "MXCachedOp"};
static const char* kind_desc[MXR_NKINDS] = {"an MXNDArray", "an MXSymbol", "an MXExecutor",
                                            "an MXCachedOp"};

static int handle_kind(SEXP x) {
  if (TYPEOF(x) != EXTPTRSXP) return -1;
  SEXP tag = R_ExternalPtrTag(x);
  if (TYPEOF(tag) != SYMSXP) return -1;
  for (int k = 0; k < MXR_NKINDS; k++)
    if (tag == Rf_install(kind_tag[k])) return k;
  return -1;
}

static void free_kind(int kind, void* p) {
  switch (kind) {
    case MXR_ND: mx_ndarray_free((mx_ndarray*)p); break;
    case MXR_SYM: mx_symbol_free((mx_symbol*)p); break;
    case MXR_EXEC: mx_executor_free((mx_executor*)p); break;
    case MXR_COP: mx_cached_op_free((mx_cached_op*)p); break;
  }
}

static void handle_finalizer(SEXP x) {
  int kind = handle_kind(x);
  void* p = R_ExternalPtrAddr(x);
  if (kind < 0 || !p) return;
  R_ClearExternalPtr(x);
  free_kind(kind, p);
}

SEXP mxr_wrap_handle(int kind, void* p, SEXP prot) {
  SEXP x = PROTECT(R_MakeExternalPtr(p, Rf_install(kind_tag[kind]), prot));
  R_RegisterCFinalizerEx(x, handle_finalizer, TRUE);
  Rf_setAttrib(x, R_ClassSymbol, Rf_mkString(kind_class[kind]));
  UNPROTECT(1);
  return x;
}

SEXP mxr_wrap_nd(mx_ndarray* h) {
  /* If allocating the wrapper fails R longjmps; free h first would be better, but an allocation
   * failure of a few bytes is not recoverable anyway. */
  return mxr_wrap_handle(MXR_ND, h, R_NilValue);
}
SEXP mxr_wrap_sym(mx_symbol* h) { return mxr_wrap_handle(MXR_SYM, h, R_NilValue); }

int mxr_is_handle(SEXP x, int kind) {
  return handle_kind(x) == kind && R_ExternalPtrAddr(x) != NULL;
}

void* mxr_get_handle(SEXP x, int kind, const char* what) {
  int k = handle_kind(x);
  if (k != kind) Rf_error("%s must be %s, not %s", what, kind_desc[kind],
                          k >= 0 ? kind_desc[k] : Rf_type2char(TYPEOF(x)));
  void* p = R_ExternalPtrAddr(x);
  if (!p) Rf_error("%s is a freed or NULL %s handle", what, kind_class[kind]);
  return p;
}

SEXP C_mxr_handle_valid(SEXP x) {
  return Rf_ScalarLogical(handle_kind(x) >= 0 && R_ExternalPtrAddr(x) != NULL);
}

SEXP C_mxr_handle_free(SEXP x) {
  MXR_ENTER();
  int kind = handle_kind(x);
  if (kind < 0) Rf_error("not an mx handle");
  handle_finalizer(x);
  return R_NilValue;
}

/* ------------------------------------------------------------------ argument helpers */
mx_ndarray** mxr_nd_list(SEXP x, int allow_null, int* n, const char* what) {
  if (Rf_isNull(x)) {
    *n = 0;
    return NULL;
  }
  if (mxr_is_handle(x, MXR_ND)) { /* a single array */
    mx_ndarray** out = (mx_ndarray**)R_alloc(1, sizeof(mx_ndarray*));
    out[0] = (mx_ndarray*)R_ExternalPtrAddr(x);
    *n = 1;
    return out;
  }
  if (TYPEOF(x) != VECSXP) Rf_error("%s must be a list of MXNDArrays", what);
  R_xlen_t len = XLENGTH(x);
  if (len > INT_MAX) Rf_error("%s: too many arrays", what);
  mx_ndarray** out = (mx_ndarray**)R_alloc(len > 0 ? len : 1, sizeof(mx_ndarray*));
  for (R_xlen_t i = 0; i < len; i++) {
    SEXP e = VECTOR_ELT(x, i);
    if (Rf_isNull(e) && allow_null) {
      out[i] = NULL;
      continue;
    }
    int k = handle_kind(e);
    if (k != MXR_ND)
      Rf_error("%s[[%ld]] must be an MXNDArray%s", what, (long)i + 1, allow_null ? " or NULL" : "");
    out[i] = (mx_ndarray*)R_ExternalPtrAddr(e);
    if (!out[i]) Rf_error("%s[[%ld]] is a freed MXNDArray handle", what, (long)i + 1);
  }
  *n = (int)len;
  return out;
}

mx_symbol** mxr_sym_list(SEXP x, int* n, const char* what) {
  if (mxr_is_handle(x, MXR_SYM)) {
    mx_symbol** out = (mx_symbol**)R_alloc(1, sizeof(mx_symbol*));
    out[0] = (mx_symbol*)R_ExternalPtrAddr(x);
    *n = 1;
    return out;
  }
  if (Rf_isNull(x)) {
    *n = 0;
    return NULL;
  }
  if (TYPEOF(x) != VECSXP) Rf_error("%s must be a list of MXSymbols", what);
  R_xlen_t len = XLENGTH(x);
  if (len > INT_MAX) Rf_error("%s: too many symbols", what);
  mx_symbol** out = (mx_symbol**)R_alloc(len > 0 ? len : 1, sizeof(mx_symbol*));
  for (R_xlen_t i = 0; i < len; i++) {
    SEXP e = VECTOR_ELT(x, i);
    if (handle_kind(e) != MXR_SYM) Rf_error("%s[[%ld]] must be an MXSymbol", what, (long)i + 1);
    out[i] = (mx_symbol*)R_ExternalPtrAddr(e);
    if (!out[i]) Rf_error("%s[[%ld]] is a freed MXSymbol handle", what, (long)i + 1);
  }
  *n = (int)len;
  return out;
}

const char** mxr_names(SEXP x, int n, const char* what) {
  SEXP nm = Rf_getAttrib(x, R_NamesSymbol);
  if (Rf_isNull(nm) || n == 0) return NULL;
  int set = 0;
  for (int i = 0; i < n; i++)
    if (STRING_ELT(nm, i) != NA_STRING && CHAR(STRING_ELT(nm, i))[0]) set++;
  if (set == 0) return NULL;
  if (set != n) Rf_error("%s: either name every element or none", what);
  const char** out = (const char**)R_alloc(n, sizeof(char*));
  for (int i = 0; i < n; i++) out[i] = Rf_translateCharUTF8(STRING_ELT(nm, i));
  return out;
}

const char** mxr_strings(SEXP x, int* n, const char* what) {
  if (Rf_isNull(x)) {
    *n = 0;
    return NULL;
  }
  if (TYPEOF(x) != STRSXP) Rf_error("%s must be a character vector", what);
  R_xlen_t len = XLENGTH(x);
  if (len > INT_MAX) Rf_error("%s: too long", what);
  const char** out = (const char**)R_alloc(len > 0 ? len : 1, sizeof(char*));
  for (R_xlen_t i = 0; i < len; i++) {
    if (STRING_ELT(x, i) == NA_STRING) Rf_error("%s[%ld] is NA", what, (long)i + 1);
    out[i] = Rf_translateCharUTF8(STRING_ELT(x, i));
  }
  *n = (int)len;
  return out;
}

const char* mxr_string(SEXP x, const char* what) {
  if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
    Rf_error("%s must be a single string", what);
  return Rf_translateCharUTF8(STRING_ELT(x, 0));
}

const char* mxr_string_or_null(SEXP x, const char* what) {
  if (Rf_isNull(x)) return NULL;
  return mxr_string(x, what);
}

int mxr_flag(SEXP x, const char* what) {
  if ((TYPEOF(x) != LGLSXP && TYPEOF(x) != INTSXP && TYPEOF(x) != REALSXP) || XLENGTH(x) != 1)
    Rf_error("%s must be TRUE or FALSE", what);
  int v = Rf_asLogical(x);
  if (v == NA_LOGICAL) Rf_error("%s must be TRUE or FALSE, not NA", what);
  return v != 0;
}

double mxr_double(SEXP x, const char* what) {
  if ((TYPEOF(x) != INTSXP && TYPEOF(x) != REALSXP && TYPEOF(x) != LGLSXP) || XLENGTH(x) != 1)
    Rf_error("%s must be a single number", what);
  double v = Rf_asReal(x);
  if (ISNAN(v)) Rf_error("%s must be a number, not NA", what);
  return v;
}

int mxr_int(SEXP x, const char* what) {
  double v = mxr_double(x, what);
  if (v != floor(v) || v < INT_MIN || v > INT_MAX) Rf_error("%s must be a whole number", what);
  return (int)v;
}

SEXP mxr_mkstrings(size_t n, const char* const* s) {
  SEXP out = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n));
  for (size_t i = 0; i < n; i++)
    SET_STRING_ELT(out, i, s[i] ? Rf_mkCharCE(s[i], CE_UTF8) : NA_STRING);
  UNPROTECT(1);
  return out;
}

/* ------------------------------------------------------------------ shapes and dtypes */
int64_t* mxr_shape_from_r(SEXP dims, int* ndim, const char* what) {
  if (Rf_isNull(dims)) {
    *ndim = 0;
    return (int64_t*)R_alloc(1, sizeof(int64_t));
  }
  if (TYPEOF(dims) != INTSXP && TYPEOF(dims) != REALSXP)
    Rf_error("%s must be a numeric vector of dimensions", what);
  R_xlen_t n = XLENGTH(dims);
  if (n > 32) Rf_error("%s: %ld dimensions is too many", what, (long)n);
  int64_t* out = (int64_t*)R_alloc(n > 0 ? n : 1, sizeof(int64_t));
  for (R_xlen_t i = 0; i < n; i++) {
    double v;
    if (TYPEOF(dims) == INTSXP) {
      if (INTEGER(dims)[i] == NA_INTEGER) Rf_error("%s[%ld] is NA", what, (long)i + 1);
      v = INTEGER(dims)[i];
    } else {
      v = REAL(dims)[i];
      if (!R_FINITE(v) || v != floor(v) || fabs(v) > 9.0e15)
        Rf_error("%s[%ld] must be a whole number", what, (long)i + 1);
    }
    out[n - 1 - i] = (int64_t)v;
  }
  *ndim = (int)n;
  return out;
}

SEXP mxr_shape_to_r(const int64_t* shape, int ndim) {
  int big = 0;
  for (int i = 0; i < ndim; i++)
    if (shape[i] > INT_MAX || shape[i] < INT_MIN + 1) big = 1;
  SEXP out = PROTECT(Rf_allocVector(big ? REALSXP : INTSXP, ndim));
  for (int i = 0; i < ndim; i++) {
    if (big)
      REAL(out)[i] = (double)shape[ndim - 1 - i];
    else
      INTEGER(out)[i] = (int)shape[ndim - 1 - i];
  }
  UNPROTECT(1);
  return out;
}

static const struct {
  const char* name;
  int code;
} dtype_names[] = {{"float32", MX_FLOAT32}, {"float64", MX_FLOAT64}, {"float16", MX_FLOAT16},
                   {"uint8", MX_UINT8},     {"int32", MX_INT32},     {"int8", MX_INT8},
                   {"int64", MX_INT64},     {"bool", MX_BOOL},       {"bfloat16", MX_BFLOAT16},
                   {"float", MX_FLOAT32},   {"double", MX_FLOAT64},  {"half", MX_FLOAT16}};

const char* mxr_dtype_name(int dtype) {
  for (size_t i = 0; i < sizeof dtype_names / sizeof dtype_names[0]; i++)
    if (dtype_names[i].code == dtype) return dtype_names[i].name;
  return "unknown";
}

int mxr_dtype(SEXP x, const char* what) {
  if (TYPEOF(x) == STRSXP && XLENGTH(x) == 1 && STRING_ELT(x, 0) != NA_STRING) {
    const char* s = CHAR(STRING_ELT(x, 0));
    for (size_t i = 0; i < sizeof dtype_names / sizeof dtype_names[0]; i++)
      if (strcmp(dtype_names[i].name, s) == 0) return dtype_names[i].code;
    Rf_error("%s: unknown dtype '%s' (float32, float64, float16, uint8, int32, int8, int64, bool, "
             "bfloat16)", what, s);
  }
  if ((TYPEOF(x) == INTSXP || TYPEOF(x) == REALSXP) && XLENGTH(x) == 1) {
    int v = mxr_int(x, what);
    if (strcmp(mxr_dtype_name(v), "unknown") == 0) Rf_error("%s: unknown dtype flag %d", what, v);
    return v;
  }
  Rf_error("%s must be a dtype name such as \"float32\"", what);
  return -1;
}

int mxr_grad_req_one(SEXP x, R_xlen_t i, const char* what) {
  if (TYPEOF(x) == STRSXP) {
    if (STRING_ELT(x, i) == NA_STRING) Rf_error("%s[%ld] is NA", what, (long)i + 1);
    const char* s = CHAR(STRING_ELT(x, i));
    if (!strcmp(s, "null")) return MX_GRAD_NULL;
    if (!strcmp(s, "write")) return MX_GRAD_WRITE;
    if (!strcmp(s, "inplace")) return MX_GRAD_INPLACE;
    if (!strcmp(s, "add")) return MX_GRAD_ADD;
    Rf_error("%s: unknown grad_req '%s' (null, write, inplace, add)", what, s);
  }
  if (TYPEOF(x) == INTSXP || TYPEOF(x) == REALSXP || TYPEOF(x) == LGLSXP) {
    double v = TYPEOF(x) == REALSXP ? REAL(x)[i] : (double)INTEGER(x)[i];
    if (TYPEOF(x) != REALSXP && INTEGER(x)[i] == NA_INTEGER) Rf_error("%s is NA", what);
    if (v == 0 || v == 1 || v == 2 || v == 3) return (int)v;
    Rf_error("%s: grad_req must be 0 (null), 1 (write), 2 (inplace) or 3 (add)", what);
  }
  Rf_error("%s must be a character or integer vector of grad_req values", what);
  return 0;
}

/* ------------------------------------------------------------------ library routines */
SEXP C_mxr_abi_version(void) { return Rf_ScalarInteger(mx_abi_version()); }

SEXP C_mxr_lib_info(SEXP key) {
  MXR_ENTER();
  const char* k = mxr_string(key, "key");
  const char* v = NULL;
  MXR_CHECK(mx_lib_info(k, &v));
  return Rf_mkString(v ? v : "");
}

SEXP C_mxr_lib_path(void) {
  Dl_info info;
  if (dladdr((void*)&mx_abi_version, &info) && info.dli_fname) return Rf_mkString(info.dli_fname);
  return Rf_ScalarString(NA_STRING);
}

SEXP C_mxr_gpu_count(void) {
  MXR_ENTER();
  int n = 0;
  MXR_CHECK(mx_gpu_count(&n));
  return Rf_ScalarInteger(n);
}

SEXP C_mxr_wait_all(void) {
  MXR_ENTER();
  MXR_CHECK(mx_wait_all());
  MXR_ENTER();
  return R_NilValue;
}

SEXP C_mxr_random_seed(SEXP seed) {
  MXR_ENTER();
  double s = mxr_double(seed, "seed");
  if (s < 0 || s != floor(s) || s > 1.8e19) Rf_error("seed must be a whole number >= 0");
  MXR_CHECK(mx_random_seed((uint64_t)s));
  return R_NilValue;
}

SEXP C_mxr_storage_stats(SEXP dev_type, SEXP dev_id) {
  MXR_ENTER();
  size_t in_use = 0, cached = 0;
  MXR_CHECK(mx_storage_stats(mxr_int(dev_type, "dev_type"), mxr_int(dev_id, "dev_id"), &in_use,
                             &cached));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = (double)in_use;
  REAL(out)[1] = (double)cached;
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_storage_release(SEXP dev_type, SEXP dev_id) {
  MXR_ENTER();
  MXR_CHECK(mx_storage_release_cached(mxr_int(dev_type, "dev_type"), mxr_int(dev_id, "dev_id")));
  return R_NilValue;
}

SEXP C_mxr_r_data_ptr(SEXP x) {
  if (TYPEOF(x) == REALSXP) return Rf_ScalarReal((double)(uintptr_t)REAL(x));
  if (TYPEOF(x) == INTSXP) return Rf_ScalarReal((double)(uintptr_t)INTEGER(x));
  if (TYPEOF(x) == LGLSXP) return Rf_ScalarReal((double)(uintptr_t)LOGICAL(x));
  Rf_error("x must be a double, integer or logical vector");
  return R_NilValue;
}
