/*
 * executor.c -- executors (bind / simple_bind) and cached ops. Shapes are R-order dims.
 * An executor handle keeps its symbol (and bound arrays) alive; arrays it returns are new handles.
 *
 *   C_mxr_exec_bind(sym, devtype, devid, args, arg_grads, grad_reqs, aux, flags)
 *        args: list of MXNDArrays in list_arguments order; arg_grads: NULL or a list of the same
 *        length (NULL entries where grad_req is null); grad_reqs: NULL (all null) or grad_req per
 *        argument (recycled from length 1); aux: list in list_auxiliary_states order; flags:
 *        integer (1 = MX_EXEC_NO_MEMORY_PLAN)
 *   C_mxr_exec_simple_bind(sym, devtype, devid, shapes, types, reqs, flags)
 *        shapes: named list of R-order dims; types: NULL or named dtypes; reqs: NULL (all write),
 *        an unnamed single grad_req (the default for every argument) or named grad_reqs (a name
 *        "*" sets the default). Arrays are zero-filled.
 *   C_mxr_exec_forward(exec, is_train)          NULL
 *   C_mxr_exec_backward(exec, out_grads)        NULL; out_grads NULL or list (NULL entries = ones)
 *   C_mxr_exec_arrays(exec, which)   list of arrays, named (which: 0 arguments, 1 argument
 *                                    gradients (NULL where req null), 2 aux states, 3 outputs)
 *   C_mxr_exec_reshape(exec, shapes, partial_shaping, allow_up_sizing)   new executor
 *   C_mxr_exec_memory(exec)          double c(planned_bytes, naive_bytes)
 *   C_mxr_cop_create(sym, keys, vals, exec_flags)   cached op (flags: static_alloc, static_shape)
 *   C_mxr_cop_invoke(cop, inputs)    list of outputs (inputs in list_inputs order); recorded into
 *                                    autograd as one node when recording
 *   C_mxr_cop_memory(cop)            double c(planned_bytes, naive_bytes)
 */
#include "mxr.h"

void mxr_shapes_arg(SEXP shapes, int* n, const char*** keys, int** ndims, int64_t** dims,
                    int allow_positional);
void mxr_types_arg(SEXP types, int* n, const char*** keys, int** dtypes);
SEXP mxr_symbol_list_names(mx_symbol* s, int which);
SEXP mxr_list_to_r(mx_ndarray_list* list);

SEXP C_mxr_exec_bind(SEXP sym, SEXP dev_type, SEXP dev_id, SEXP args, SEXP arg_grads,
                     SEXP grad_reqs, SEXP aux, SEXP flags) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int devt = mxr_int(dev_type, "dev_type"), devi = mxr_int(dev_id, "dev_id");
  int na, ng, nx;
  mx_ndarray** a = mxr_nd_list(args, 0, &na, "args");
  mx_ndarray** g = mxr_nd_list(arg_grads, 1, &ng, "arg_grads");
  if (!Rf_isNull(arg_grads) && ng != na) Rf_error("%d arguments but %d gradient slots", na, ng);
  mx_ndarray** x = mxr_nd_list(aux, 0, &nx, "aux");
  int* reqs = NULL;
  if (!Rf_isNull(grad_reqs)) {
    R_xlen_t nr = Rf_length(grad_reqs);
    if (nr != 1 && nr != na) Rf_error("grad_req must have length 1 or %d", na);
    reqs = (int*)R_alloc(na > 0 ? na : 1, sizeof(int));
    for (int i = 0; i < na; i++) reqs[i] = mxr_grad_req_one(grad_reqs, nr == 1 ? 0 : i, "grad_req");
  }
  if (!g && na > 0) { /* the ABI takes an array; all NULL means no gradients */
    g = (mx_ndarray**)R_alloc(na, sizeof(mx_ndarray*));
    for (int i = 0; i < na; i++) g[i] = NULL;
  }
  int fl = mxr_int(flags, "flags");
  mx_executor* e = NULL;
  MXR_CHECK(mx_executor_bind(s, devt, devi, na, a, g, reqs, nx, x, fl, &e));
  SEXP keep = PROTECT(Rf_allocVector(VECSXP, 4));
  SET_VECTOR_ELT(keep, 0, sym);
  SET_VECTOR_ELT(keep, 1, args);
  SET_VECTOR_ELT(keep, 2, arg_grads);
  SET_VECTOR_ELT(keep, 3, aux);
  SEXP out = mxr_wrap_handle(MXR_EXEC, e, keep);
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_exec_simple_bind(SEXP sym, SEXP dev_type, SEXP dev_id, SEXP shapes, SEXP types,
                            SEXP reqs, SEXP flags) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int devt = mxr_int(dev_type, "dev_type"), devi = mxr_int(dev_id, "dev_id");
  int ns, *nd;
  const char** sk;
  int64_t* dims;
  mxr_shapes_arg(shapes, &ns, &sk, &nd, &dims, 0);
  int nt, *dt;
  const char** tk;
  mxr_types_arg(types, &nt, &tk, &dt);
  if (nt > 0 && !tk) Rf_error("types must be named by argument");
  int nr = 0;
  const char** rk = NULL;
  int* rv = NULL;
  if (!Rf_isNull(reqs)) {
    nr = Rf_length(reqs);
    rk = mxr_names(reqs, nr, "grad_req");
    if (!rk) {
      if (nr != 1) Rf_error("grad_req must be named by argument, or one value for all");
      rk = (const char**)R_alloc(1, sizeof(char*));
      rk[0] = "*";
    }
    rv = (int*)R_alloc(nr > 0 ? nr : 1, sizeof(int));
    for (int i = 0; i < nr; i++) {
      SEXP e = TYPEOF(reqs) == VECSXP ? VECTOR_ELT(reqs, i) : reqs;
      rv[i] = mxr_grad_req_one(e, TYPEOF(reqs) == VECSXP ? 0 : i, "grad_req");
    }
  }
  int fl = mxr_int(flags, "flags");
  mx_executor* e = NULL;
  MXR_CHECK(mx_executor_simple_bind(s, devt, devi, ns, sk, nd, dims, nt, tk, dt, nr, rk, rv, fl, &e));
  SEXP keep = PROTECT(Rf_allocVector(VECSXP, 1));
  SET_VECTOR_ELT(keep, 0, sym);
  SEXP out = mxr_wrap_handle(MXR_EXEC, e, keep);
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_exec_forward(SEXP exec, SEXP is_train) {
  MXR_ENTER();
  MXR_CHECK(mx_executor_forward(mxr_exec(exec, "executor"), mxr_flag(is_train, "is_train")));
  return R_NilValue;
}

SEXP C_mxr_exec_backward(SEXP exec, SEXP out_grads) {
  MXR_ENTER();
  mx_executor* e = mxr_exec(exec, "executor");
  int n;
  mx_ndarray** g = mxr_nd_list(out_grads, 1, &n, "out_grads");
  MXR_CHECK(mx_executor_backward(e, n, g));
  return R_NilValue;
}

static SEXP exec_symbol(SEXP exec) {
  SEXP keep = R_ExternalPtrProtected(exec);
  if (TYPEOF(keep) == VECSXP && Rf_length(keep) > 0) return VECTOR_ELT(keep, 0);
  return R_NilValue;
}

SEXP C_mxr_exec_arrays(SEXP exec, SEXP which) {
  MXR_ENTER();
  mx_executor* e = mxr_exec(exec, "executor");
  int w = mxr_int(which, "which");
  if (w < 0 || w > 3) Rf_error("which must be 0 (args), 1 (grads), 2 (aux) or 3 (outputs)");
  size_t n = 0;
  MXR_CHECK(mx_executor_num(e, w, &n));
  SEXP out = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n));
  for (size_t i = 0; i < n; i++) {
    mx_ndarray* h = NULL;
    MXR_CHECK(mx_executor_get(e, w, i, &h));
    SET_VECTOR_ELT(out, i, h ? mxr_wrap_nd(h) : R_NilValue);
  }
  SEXP sym = exec_symbol(exec);
  if (mxr_is_handle(sym, MXR_SYM)) {
    static const int list_of[4] = {0, 0, 2, 1};
    SEXP nm = PROTECT(mxr_symbol_list_names((mx_symbol*)R_ExternalPtrAddr(sym), list_of[w]));
    if ((size_t)Rf_length(nm) == n) Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(1);
  }
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_exec_reshape(SEXP exec, SEXP shapes, SEXP partial, SEXP allow_up) {
  MXR_ENTER();
  mx_executor* e = mxr_exec(exec, "executor");
  int ns, *nd;
  const char** sk;
  int64_t* dims;
  mxr_shapes_arg(shapes, &ns, &sk, &nd, &dims, 0);
  mx_executor* out = NULL;
  MXR_CHECK(mx_executor_reshape(e, ns, sk, nd, dims, mxr_flag(partial, "partial_shaping"),
                                mxr_flag(allow_up, "allow_up_sizing"), &out));
  SEXP keep = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(keep, 0, exec_symbol(exec));
  SET_VECTOR_ELT(keep, 1, exec);
  SEXP res = mxr_wrap_handle(MXR_EXEC, out, keep);
  UNPROTECT(1);
  return res;
}

SEXP C_mxr_exec_memory(SEXP exec) {
  MXR_ENTER();
  size_t p = 0, n = 0;
  MXR_CHECK(mx_executor_memory(mxr_exec(exec, "executor"), &p, &n));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = (double)p;
  REAL(out)[1] = (double)n;
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_cop_create(SEXP sym, SEXP keys, SEXP vals, SEXP exec_flags) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int nk, nv;
  const char** k = mxr_strings(keys, &nk, "flag names");
  const char** v = mxr_strings(vals, &nv, "flag values");
  if (nk != nv) Rf_error("%d flag names but %d values", nk, nv);
  mx_cached_op* c = NULL;
  MXR_CHECK(mx_cached_op_create(s, nk, k, v, mxr_int(exec_flags, "exec_flags"), &c));
  return mxr_wrap_handle(MXR_COP, c, sym);
}

SEXP C_mxr_cop_invoke(SEXP cop, SEXP inputs) {
  MXR_ENTER();
  mx_cached_op* c = mxr_cop(cop, "cached op");
  int n;
  mx_ndarray** in = mxr_nd_list(inputs, 0, &n, "inputs");
  mx_ndarray_list* out = NULL;
  MXR_CHECK(mx_cached_op_invoke(c, n, in, &out));
  return mxr_list_to_r(out);
}

SEXP C_mxr_cop_memory(SEXP cop) {
  MXR_ENTER();
  size_t p = 0, n = 0;
  MXR_CHECK(mx_cached_op_memory(mxr_cop(cop, "cached op"), &p, &n));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = (double)p;
  REAL(out)[1] = (double)n;
  UNPROTECT(1);
  return out;
}
