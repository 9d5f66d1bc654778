/*
 * ndarray.c -- NDArray routines. Shapes are R-order dims (reversed NDArray shape); indices 0-based.
 *
 *   C_mxr_nd_create(dims, dtype, devtype, devid)     new uninitialised array
 *   C_mxr_nd_from_r(x, dtype, devtype, devid, mode)  array from an R double/integer/logical
 *        vector, matrix or array (dims from dim(x), else length(x)). mode: 0 always copy;
 *        1 wrap without a copy when possible (x double and dtype float64, or x integer/logical and
 *        dtype int32, on the CPU), else copy; 2 wrap or error. A wrapped x is marked not mutable
 *        (R copies it on modification) and kept alive until libmx releases the storage.
 *   C_mxr_nd_to_r(h, type)        R array with dim = R-order shape ("double" or "integer";
 *                                 values are cast by libmx); a 0-d array gives a length-1 vector
 *   C_mxr_nd_copy_from_r(h, x)    writes x (numeric, length = size) into h (cast by libmx); h
 *   C_mxr_nd_shape(h)             R-order dims (integer; double when a dim exceeds INT_MAX)
 *   C_mxr_nd_dtype(h)             dtype name ("float32", ...)
 *   C_mxr_nd_device(h)            integer c(dev_type, dev_id) (1 cpu, 2 gpu, 3 cpu_pinned)
 *   C_mxr_nd_data_ptr(h)          double: address of the first element (waits for writes)
 *   C_mxr_nd_storage_id(h)        double: id shared by views of one storage
 *   C_mxr_nd_address(h)           double: the mx_ndarray* itself (for another binding in this process)
 *   C_mxr_nd_from_address(addr)   new handle viewing the array at that mx_ndarray* address
 *                                 (double or decimal/hex string from another binding; it must be live)
 *   C_mxr_nd_copyto(src, dst)     async copy/cast into dst; returns dst
 *   C_mxr_nd_copy(h, dtype, devtype, devid)  new array (dtype NULL: same dtype), async copy
 *   C_mxr_nd_reshape(h, dims)     view with new R-order dims (one may be -1)
 *   C_mxr_nd_slice(h, begin, end) view of rows [begin, end) along NDArray axis 0 (last R dim)
 *   C_mxr_nd_at(h, idx)           view of row idx along axis 0, axis dropped
 *   C_mxr_nd_wait(h, write)       wait_to_read (write FALSE) or wait_to_write; NULL
 *   C_mxr_nd_detach(h)            new handle cut from the autograd graph
 *   C_mxr_nd_save(path, arrays, names)  MXNet .nd/.params file; names NULL or one per array
 *   C_mxr_nd_save_raw(arrays, names)    the same bytes as a raw vector
 *   C_mxr_nd_load(path)           list of arrays, with names when the file has them
 *   C_mxr_nd_load_raw(raw)        same, from a raw vector
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mxr.h"

static int64_t shape_size(const int64_t* s, int nd) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= s[i];
  return n;
}

static int itemsize(int dtype) {
  switch (dtype) {
    case MX_FLOAT64: case MX_INT64: return 8;
    case MX_FLOAT32: case MX_INT32: return 4;
    case MX_FLOAT16: case MX_BFLOAT16: return 2;
    default: return 1;
  }
}

/* R-order dims of x: dim(x), else length(x) as one dim. NDArray order out. */
static int64_t* dims_of(SEXP x, int* ndim) {
  SEXP d = Rf_getAttrib(x, R_DimSymbol);
  if (!Rf_isNull(d)) return mxr_shape_from_r(d, ndim, "dim(x)");
  int64_t* s = (int64_t*)R_alloc(1, sizeof(int64_t));
  s[0] = (int64_t)XLENGTH(x);
  *ndim = 1;
  return s;
}

static int r_native_dtype(SEXP x) {
  if (Rf_isFactor(x)) Rf_error("data must be numeric, integer or logical, not a factor");
  switch (TYPEOF(x)) {
    case REALSXP: return MX_FLOAT64;
    case INTSXP: case LGLSXP: return MX_INT32;
    default:
      Rf_error("data must be a numeric, integer or logical vector, matrix or array, not %s",
               Rf_isFactor(x) ? "a factor" : Rf_type2char(TYPEOF(x)));
  }
  return -1;
}

static void* r_data(SEXP x) { return TYPEOF(x) == REALSXP ? (void*)REAL(x) : (void*)INTEGER(x); }

/* Wraps x's memory as a temporary array libmx does not keep (NULL deleter): the caller waits for
 * every use and frees it before returning to R. */
static mx_ndarray* wrap_temp(SEXP x, const int64_t* shape, int nd) {
  mx_ndarray* t = NULL;
  MXR_CHECK(mx_ndarray_wrap(r_data(x), shape, nd, r_native_dtype(x), MX_CPU, 0, NULL, NULL, &t));
  return t;
}

SEXP C_mxr_nd_create(SEXP dims, SEXP dtype, SEXP dev_type, SEXP dev_id) {
  MXR_ENTER();
  int nd;
  int64_t* shape = mxr_shape_from_r(dims, &nd, "shape");
  int dt = mxr_dtype(dtype, "dtype");
  int devt = mxr_int(dev_type, "dev_type"), devi = mxr_int(dev_id, "dev_id");
  mx_ndarray* h = NULL;
  MXR_CHECK(mx_ndarray_create(shape, nd, dt, devt, devi, &h));
  return mxr_wrap_nd(h);
}

SEXP C_mxr_nd_from_r(SEXP x, SEXP dtype, SEXP dev_type, SEXP dev_id, SEXP mode_) {
  MXR_ENTER();
  int native = r_native_dtype(x);
  int dt = Rf_isNull(dtype) ? native : mxr_dtype(dtype, "dtype");
  int devt = mxr_int(dev_type, "dev_type"), devi = mxr_int(dev_id, "dev_id");
  int mode = mxr_int(mode_, "mode");
  int nd;
  int64_t* shape = dims_of(x, &nd);
  int64_t size = shape_size(shape, nd);
  if (size != (int64_t)XLENGTH(x)) Rf_error("dim(x) does not match length(x)");
  int can_wrap = dt == native && devt == MX_CPU && size > 0;
  mx_ndarray* h = NULL;
  if (mode != 0 && can_wrap) {
    void* ctx = mxr_keep(x);
    if (mx_ndarray_wrap(r_data(x), shape, nd, dt, devt, devi, mxr_keep_deleter, ctx, &h) != MX_OK) {
      mxr_keep_cancel(ctx);
      mxr_fail();
    }
    MARK_NOT_MUTABLE(x); /* R copies x before modifying it; writes through libmx stay visible */
    return mxr_wrap_nd(h);
  }
  if (mode == 2)
    Rf_error("cannot wrap without a copy: needs a double vector with dtype float64 or an "
             "integer/logical vector with dtype int32, on the CPU (got %s data, dtype %s, %s)",
             Rf_type2char(TYPEOF(x)), mxr_dtype_name(dt), devt == MX_CPU ? "cpu" : "another device");
  MXR_CHECK(mx_ndarray_create(shape, nd, dt, devt, devi, &h));
  int st = MX_OK;
  if (size == 0) {
    /* nothing to copy */
  } else if (dt == native) {
    st = mx_ndarray_copy_from_host(h, r_data(x), (size_t)size * itemsize(dt));
  } else {
    mx_ndarray* t = NULL;
    if (mx_ndarray_wrap(r_data(x), shape, nd, native, MX_CPU, 0, NULL, NULL, &t) != MX_OK) {
      mx_ndarray_free(h);
      mxr_fail();
    }
    st = mx_ndarray_copyto(t, h);
    if (st == MX_OK) st = mx_ndarray_wait_to_read(h);
    if (st != MX_OK) mx_wait_all(); /* x's memory must not be read after we return */
    mx_ndarray_free(t);
  }
  if (st != MX_OK) {
    mx_ndarray_free(h);
    mxr_fail();
  }
  return mxr_wrap_nd(h);
}

SEXP C_mxr_nd_to_r(SEXP hx, SEXP type) {
  MXR_ENTER();
  mx_ndarray* h = mxr_nd(hx, "x");
  const char* ty = mxr_string(type, "type");
  int want;
  SEXPTYPE rt;
  if (!strcmp(ty, "double")) {
    want = MX_FLOAT64;
    rt = REALSXP;
  } else if (!strcmp(ty, "integer")) {
    want = MX_INT32;
    rt = INTSXP;
  } else {
    Rf_error("type must be \"double\" or \"integer\"");
  }
  int nd, dt;
  const int64_t* s;
  MXR_CHECK(mx_ndarray_shape(h, &nd, &s));
  MXR_CHECK(mx_ndarray_dtype(h, &dt));
  int64_t size = shape_size(s, nd);
  SEXP out = PROTECT(Rf_allocVector(rt, (R_xlen_t)size));
  SEXP dim = PROTECT(mxr_shape_to_r(s, nd)); /* copy now: s is borrowed from h */
  int st = MX_OK;
  if (size == 0) {
    st = mx_ndarray_wait_to_read(h);
  } else if (dt == want) {
    st = mx_ndarray_copy_to_host(h, r_data(out), (size_t)size * itemsize(want));
  } else {
    int64_t* shape = (int64_t*)R_alloc(nd > 0 ? nd : 1, sizeof(int64_t));
    memcpy(shape, s, sizeof(int64_t) * nd);
    mx_ndarray* t = NULL;
    MXR_CHECK(mx_ndarray_wrap(r_data(out), shape, nd, want, MX_CPU, 0, NULL, NULL, &t));
    st = mx_ndarray_copyto(h, t);
    if (st == MX_OK) st = mx_ndarray_wait_to_read(t);
    if (st != MX_OK) mx_wait_all();
    mx_ndarray_free(t);
  }
  if (st != MX_OK) mxr_fail();
  if (nd > 0) Rf_setAttrib(out, R_DimSymbol, dim);
  UNPROTECT(2);
  return out;
}

SEXP C_mxr_nd_copy_from_r(SEXP hx, SEXP x) {
  MXR_ENTER();
  mx_ndarray* h = mxr_nd(hx, "x");
  int native = r_native_dtype(x);
  int nd, dt;
  const int64_t* s;
  MXR_CHECK(mx_ndarray_shape(h, &nd, &s));
  MXR_CHECK(mx_ndarray_dtype(h, &dt));
  int64_t size = shape_size(s, nd);
  if (size != (int64_t)XLENGTH(x))
    Rf_error("cannot copy %ld values into an array of %ld elements", (long)XLENGTH(x), (long)size);
  int st = MX_OK;
  if (size == 0) {
    /* nothing to copy */
  } else if (dt == native) {
    st = mx_ndarray_copy_from_host(h, r_data(x), (size_t)size * itemsize(dt));
  } else {
    int64_t* shape = (int64_t*)R_alloc(nd > 0 ? nd : 1, sizeof(int64_t));
    memcpy(shape, s, sizeof(int64_t) * nd);
    mx_ndarray* t = wrap_temp(x, shape, nd);
    st = mx_ndarray_copyto(t, h);
    if (st == MX_OK) st = mx_ndarray_wait_to_read(h);
    if (st != MX_OK) mx_wait_all();
    mx_ndarray_free(t);
  }
  if (st != MX_OK) mxr_fail();
  return hx;
}

SEXP C_mxr_nd_shape(SEXP hx) {
  MXR_ENTER();
  int nd;
  const int64_t* s;
  MXR_CHECK(mx_ndarray_shape(mxr_nd(hx, "x"), &nd, &s));
  return mxr_shape_to_r(s, nd);
}

SEXP C_mxr_nd_dtype(SEXP hx) {
  MXR_ENTER();
  int dt;
  MXR_CHECK(mx_ndarray_dtype(mxr_nd(hx, "x"), &dt));
  return Rf_mkString(mxr_dtype_name(dt));
}

SEXP C_mxr_nd_device(SEXP hx) {
  MXR_ENTER();
  int t, i;
  MXR_CHECK(mx_ndarray_device(mxr_nd(hx, "x"), &t, &i));
  SEXP out = PROTECT(Rf_allocVector(INTSXP, 2));
  INTEGER(out)[0] = t;
  INTEGER(out)[1] = i;
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_nd_data_ptr(SEXP hx) {
  MXR_ENTER();
  void* p = NULL;
  MXR_CHECK(mx_ndarray_data(mxr_nd(hx, "x"), &p));
  return Rf_ScalarReal((double)(uintptr_t)p);
}

SEXP C_mxr_nd_storage_id(SEXP hx) {
  MXR_ENTER();
  uint64_t id = 0;
  MXR_CHECK(mx_ndarray_storage_id(mxr_nd(hx, "x"), &id));
  return Rf_ScalarReal((double)id);
}

SEXP C_mxr_nd_address(SEXP hx) {
  MXR_ENTER();
  return Rf_ScalarReal((double)(uintptr_t)mxr_nd(hx, "x"));
}

SEXP C_mxr_nd_from_address(SEXP addr) {
  MXR_ENTER();
  uintptr_t a = 0;
  if (TYPEOF(addr) == STRSXP) {
    const char* s = mxr_string(addr, "address");
    char* end = NULL;
    unsigned long long v = strtoull(s, &end, 0);
    if (!end || *end) Rf_error("address must be a decimal or 0x-prefixed hexadecimal number");
    a = (uintptr_t)v;
  } else {
    double d = mxr_double(addr, "address");
    if (d <= 0 || d != floor(d) || d > 9.0e15) Rf_error("address must be a positive whole number");
    a = (uintptr_t)d;
  }
  if (a == 0) Rf_error("address is NULL");
  mx_ndarray* src = (mx_ndarray*)a;
  int nd;
  const int64_t* s;
  MXR_CHECK(mx_ndarray_shape(src, &nd, &s)); /* detects freed handles */
  int64_t* shape = (int64_t*)R_alloc(nd > 0 ? nd : 1, sizeof(int64_t));
  memcpy(shape, s, sizeof(int64_t) * nd);
  mx_ndarray* h = NULL;
  MXR_CHECK(mx_ndarray_reshape(src, shape, nd, &h));
  return mxr_wrap_nd(h);
}

SEXP C_mxr_nd_copyto(SEXP src, SEXP dst) {
  MXR_ENTER();
  MXR_CHECK(mx_ndarray_copyto(mxr_nd(src, "src"), mxr_nd(dst, "dst")));
  return dst;
}

SEXP C_mxr_nd_copy(SEXP hx, SEXP dtype, SEXP dev_type, SEXP dev_id) {
  MXR_ENTER();
  mx_ndarray* src = mxr_nd(hx, "x");
  int nd, dt;
  const int64_t* s;
  MXR_CHECK(mx_ndarray_shape(src, &nd, &s));
  MXR_CHECK(mx_ndarray_dtype(src, &dt));
  if (!Rf_isNull(dtype)) dt = mxr_dtype(dtype, "dtype");
  int devt = mxr_int(dev_type, "dev_type"), devi = mxr_int(dev_id, "dev_id");
  mx_ndarray* h = NULL;
  MXR_CHECK(mx_ndarray_create(s, nd, dt, devt, devi, &h));
  if (mx_ndarray_copyto(src, h) != MX_OK) {
    mx_ndarray_free(h);
    mxr_fail();
  }
  return mxr_wrap_nd(h);
}

SEXP C_mxr_nd_reshape(SEXP hx, SEXP dims) {
  MXR_ENTER();
  mx_ndarray* src = mxr_nd(hx, "x");
  int nd;
  int64_t* shape = mxr_shape_from_r(dims, &nd, "shape");
  mx_ndarray* h = NULL;
  MXR_CHECK(mx_ndarray_reshape(src, shape, nd, &h));
  return mxr_wrap_nd(h);
}

static int64_t int64_arg(SEXP x, const char* what) {
  double v = mxr_double(x, what);
  if (v != floor(v) || fabs(v) > 9.0e15) Rf_error("%s must be a whole number", what);
  return (int64_t)v;
}

SEXP C_mxr_nd_slice(SEXP hx, SEXP begin, SEXP end) {
  MXR_ENTER();
  mx_ndarray* src = mxr_nd(hx, "x");
  int64_t b = int64_arg(begin, "begin"), e = int64_arg(end, "end");
  mx_ndarray* h = NULL;
  MXR_CHECK(mx_ndarray_slice(src, b, e, &h));
  return mxr_wrap_nd(h);
}

SEXP C_mxr_nd_at(SEXP hx, SEXP idx) {
  MXR_ENTER();
  mx_ndarray* src = mxr_nd(hx, "x");
  mx_ndarray* h = NULL;
  MXR_CHECK(mx_ndarray_at(src, int64_arg(idx, "index"), &h));
  return mxr_wrap_nd(h);
}

SEXP C_mxr_nd_wait(SEXP hx, SEXP write) {
  MXR_ENTER();
  mx_ndarray* h = mxr_nd(hx, "x");
  if (mxr_flag(write, "write"))
    MXR_CHECK(mx_ndarray_wait_to_write(h));
  else
    MXR_CHECK(mx_ndarray_wait_to_read(h));
  return R_NilValue;
}

SEXP C_mxr_nd_detach(SEXP hx) {
  MXR_ENTER();
  mx_ndarray* h = NULL;
  MXR_CHECK(mx_ndarray_detach(mxr_nd(hx, "x"), &h));
  return mxr_wrap_nd(h);
}

/* ---- files */
static const char** save_names(SEXP names, int n) {
  if (Rf_isNull(names)) return NULL;
  int nn;
  const char** nm = mxr_strings(names, &nn, "names");
  if (nn != n) Rf_error("names: %d names for %d arrays", nn, n);
  return nm;
}

SEXP C_mxr_nd_save(SEXP path, SEXP arrays, SEXP names) {
  MXR_ENTER();
  const char* p = mxr_string(path, "filename");
  int n;
  mx_ndarray** a = mxr_nd_list(arrays, 0, &n, "ndarray");
  const char** nm = save_names(names, n);
  MXR_CHECK(mx_ndarray_save(R_ExpandFileName(p), (size_t)n, a, nm));
  return R_NilValue;
}

SEXP C_mxr_nd_save_raw(SEXP arrays, SEXP names) {
  MXR_ENTER();
  int n;
  mx_ndarray** a = mxr_nd_list(arrays, 0, &n, "ndarray");
  const char** nm = save_names(names, n);
  void* buf = NULL;
  size_t len = 0;
  MXR_CHECK(mx_ndarray_save_to_buffer((size_t)n, a, nm, &buf, &len));
  SEXP out = Rf_allocVector(RAWSXP, (R_xlen_t)len); /* on allocation failure buf leaks */
  memcpy(RAW(out), buf, len);
  mx_buffer_free(buf);
  return out;
}

static SEXP list_to_r(mx_ndarray_list* list) {
  size_t n = 0;
  if (mx_ndarray_list_size(list, &n) != MX_OK) {
    mx_ndarray_list_free(list);
    mxr_fail();
  }
  SEXP out = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n));
  SEXP names = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n));
  int any_name = 0;
  for (size_t i = 0; i < n; i++) {
    mx_ndarray* h = NULL;
    const char* name = NULL;
    if (mx_ndarray_list_get(list, i, &h, &name) != MX_OK) {
      mx_ndarray_list_free(list);
      mxr_fail();
    }
    SET_VECTOR_ELT(out, i, mxr_wrap_nd(h));
    if (name) {
      any_name = 1;
      SET_STRING_ELT(names, i, Rf_mkCharCE(name, CE_UTF8));
    } else {
      SET_STRING_ELT(names, i, R_BlankString);
    }
  }
  mx_ndarray_list_free(list);
  if (any_name) Rf_setAttrib(out, R_NamesSymbol, names);
  UNPROTECT(2);
  return out;
}

SEXP C_mxr_nd_load(SEXP path) {
  MXR_ENTER();
  const char* p = mxr_string(path, "filename");
  mx_ndarray_list* list = NULL;
  MXR_CHECK(mx_ndarray_load(R_ExpandFileName(p), &list));
  return list_to_r(list);
}

SEXP C_mxr_nd_load_raw(SEXP raw) {
  MXR_ENTER();
  if (TYPEOF(raw) != RAWSXP) Rf_error("buffer must be a raw vector");
  mx_ndarray_list* list = NULL;
  MXR_CHECK(mx_ndarray_load_from_buffer(RAW(raw), (size_t)XLENGTH(raw), &list));
  return list_to_r(list);
}

/* Used by other files: a list of handles from an mx_ndarray_list (frees the list). */
SEXP mxr_list_to_r(mx_ndarray_list* list) { return list_to_r(list); }
