/*
 * mxr.h -- shared helpers of the R glue (the .c files of bindings/r/src). Not an R-level API.
 *
 * Conventions of every .Call routine (C_mxr_*):
 *  - Runs on R's main thread. MXR_ENTER() first: it releases the R objects whose zero-copy
 *    NDArrays libmx has finished with (the deleters only enqueue them, see common.c).
 *  - Handles are external pointers (tag = handle kind, class attribute set) with C finalizers.
 *    A NULL, freed or wrong-kind handle is an R error, never a crash.
 *  - Every non-zero libmx status becomes Rf_error("%s", mx_last_error()) after the routine has
 *    freed the libmx resources it owns. Temporary C arrays come from R_alloc (R reclaims them on
 *    error), so only libmx handles need explicit cleanup before an error.
 *  - Shapes cross the .Call boundary in R order: R dim c(W,H,C,N) is the NDArray (N,C,H,W).
 *  - Indices (slice, get_output, ...) are 0-based at this level; the R wrappers convert.
 */
#ifndef MXR_H_
#define MXR_H_

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <stdint.h>
#include <mx/c_api.h>

/* ---- entry / errors */
void mxr_enter(void);
#define MXR_ENTER() mxr_enter()
/* Raises an R error carrying mx_last_error(). Call only after freeing what you own. */
void NORET mxr_fail(void);
#define MXR_CHECK(call)                 \
  do {                                  \
    if ((call) != MX_OK) mxr_fail();    \
  } while (0)

/* ---- handle kinds */
enum { MXR_ND = 0, MXR_SYM = 1, MXR_EXEC = 2, MXR_COP = 3, MXR_NKINDS = 4 };
/* New external pointer owning p (finalizer frees it). prot: kept alive with the handle. */
SEXP mxr_wrap_handle(int kind, void* p, SEXP prot);
/* The pointer behind x; R error when x is not a live handle of that kind. what names the arg. */
void* mxr_get_handle(SEXP x, int kind, const char* what);
#define mxr_nd(x, what) ((mx_ndarray*)mxr_get_handle((x), MXR_ND, (what)))
#define mxr_sym(x, what) ((mx_symbol*)mxr_get_handle((x), MXR_SYM, (what)))
#define mxr_exec(x, what) ((mx_executor*)mxr_get_handle((x), MXR_EXEC, (what)))
#define mxr_cop(x, what) ((mx_cached_op*)mxr_get_handle((x), MXR_COP, (what)))
SEXP mxr_wrap_nd(mx_ndarray* h); /* a new NDArray handle object (takes h) */
SEXP mxr_wrap_sym(mx_symbol* h);
int mxr_is_handle(SEXP x, int kind);

/* ---- list helpers (R_alloc'ed results) */
/* Handles of a list of NDArrays; allow_null: NULL entries give NULL slots. x may be R NULL (n=0). */
mx_ndarray** mxr_nd_list(SEXP x, int allow_null, int* n, const char* what);
mx_symbol** mxr_sym_list(SEXP x, int* n, const char* what);
/* The names of a list / vector, or NULL when it has none; error when only some are set. */
const char** mxr_names(SEXP x, int n, const char* what);
/* A character vector as C strings (NA is an error). */
const char** mxr_strings(SEXP x, int* n, const char* what);
/* A single string / logical / integer / double argument. */
const char* mxr_string(SEXP x, const char* what);
const char* mxr_string_or_null(SEXP x, const char* what);
int mxr_flag(SEXP x, const char* what);
int mxr_int(SEXP x, const char* what);
double mxr_double(SEXP x, const char* what);
SEXP mxr_mkstrings(size_t n, const char* const* s);

/* ---- shapes, dtypes */
/* R-order dims (integer or double, whole numbers) -> NDArray-order int64 (R_alloc). */
int64_t* mxr_shape_from_r(SEXP dims, int* ndim, const char* what);
/* NDArray-order shape -> R-order dims (integer, or double when a dim exceeds INT_MAX). */
SEXP mxr_shape_to_r(const int64_t* shape, int ndim);
/* A dtype given by name ("float32", ...) or MXNet type flag; error when unknown. */
int mxr_dtype(SEXP x, const char* what);
const char* mxr_dtype_name(int dtype);
/* grad_req by name ("null", "write", "inplace", "add") or number. */
int mxr_grad_req_one(SEXP x, R_xlen_t i, const char* what);

/* ---- zero-copy keep-alive: R_PreserveObject(obj) now; the returned deleter/ctx (to hand to
 * mx_ndarray_wrap) enqueues the release, which the next MXR_ENTER() performs on the main thread.
 * On wrap failure call mxr_keep_cancel(ctx). */
void* mxr_keep(SEXP obj);
void mxr_keep_cancel(void* ctx);
void mxr_keep_deleter(void* ctx);

#endif
