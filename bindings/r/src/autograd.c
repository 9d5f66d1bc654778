/*
 * autograd.c -- recording, training mode and gradients (per thread: R's main thread).
 *
 *   C_mxr_ag_set_recording(flag)   logical: previous setting
 *   C_mxr_ag_is_recording()        logical
 *   C_mxr_ag_set_training(flag)    logical: previous setting
 *   C_mxr_ag_is_training()         logical
 *   C_mxr_ag_mark_variables(vars, reqs, grads)
 *        vars, grads: lists of MXNDArrays (same length; grads[[i]] same shape/dtype as vars[[i]]);
 *        reqs: grad_req per variable ("null", "write", "add" or 0/1/3), recycled from length 1. NULL
 *   C_mxr_ag_backward(heads, head_grads, retain_graph, create_graph, is_train)
 *        head_grads: NULL (ones) or a list as long as heads with NULL entries (ones). NULL
 *   C_mxr_ag_grad(heads, head_grads, variables, retain_graph, create_graph, is_train)
 *        list of new arrays: d heads / d variables (the variables' grad buffers untouched)
 *   C_mxr_nd_get_grad(h)           the gradient buffer of a marked array, or NULL
 *   C_mxr_nd_grad_state(h)         logical: the "fresh gradient" flag
 *   C_mxr_nd_set_grad_state(h, fresh)  NULL
 */
#include "mxr.h"

SEXP C_mxr_ag_set_recording(SEXP flag) {
  MXR_ENTER();
  int prev = 0;
  MXR_CHECK(mx_autograd_set_recording(mxr_flag(flag, "recording"), &prev));
  return Rf_ScalarLogical(prev != 0);
}

SEXP C_mxr_ag_is_recording(void) {
  MXR_ENTER();
  int v = 0;
  MXR_CHECK(mx_autograd_is_recording(&v));
  return Rf_ScalarLogical(v != 0);
}

SEXP C_mxr_ag_set_training(SEXP flag) {
  MXR_ENTER();
  int prev = 0;
  MXR_CHECK(mx_autograd_set_training(mxr_flag(flag, "training"), &prev));
  return Rf_ScalarLogical(prev != 0);
}

SEXP C_mxr_ag_is_training(void) {
  MXR_ENTER();
  int v = 0;
  MXR_CHECK(mx_autograd_is_training(&v));
  return Rf_ScalarLogical(v != 0);
}

SEXP C_mxr_ag_mark_variables(SEXP vars, SEXP reqs, SEXP grads) {
  MXR_ENTER();
  int nv, ng;
  mx_ndarray** v = mxr_nd_list(vars, 0, &nv, "variables");
  mx_ndarray** g = mxr_nd_list(grads, 0, &ng, "gradients");
  if (nv != ng) Rf_error("%d variables but %d gradient buffers", nv, ng);
  R_xlen_t nr = Rf_length(reqs);
  if (nr != 1 && nr != nv) Rf_error("grad_req must have length 1 or %d", nv);
  int* r = (int*)R_alloc(nv > 0 ? nv : 1, sizeof(int));
  for (int i = 0; i < nv; i++) r[i] = mxr_grad_req_one(reqs, nr == 1 ? 0 : i, "grad_req");
  MXR_CHECK(mx_autograd_mark_variables(nv, v, r, g));
  return R_NilValue;
}

static mx_ndarray** head_grads_of(SEXP head_grads, int nh) {
  if (Rf_isNull(head_grads)) return NULL;
  int n;
  mx_ndarray** hg = mxr_nd_list(head_grads, 1, &n, "head_grads");
  if (n != nh) Rf_error("%d head gradients for %d heads", n, nh);
  return hg;
}

SEXP C_mxr_ag_backward(SEXP heads, SEXP head_grads, SEXP retain, SEXP create, SEXP train) {
  MXR_ENTER();
  int nh;
  mx_ndarray** h = mxr_nd_list(heads, 0, &nh, "heads");
  mx_ndarray** hg = head_grads_of(head_grads, nh);
  MXR_CHECK(mx_autograd_backward(nh, h, hg, mxr_flag(retain, "retain_graph"),
                                 mxr_flag(create, "create_graph"), mxr_flag(train, "is_train")));
  return R_NilValue;
}

SEXP C_mxr_ag_grad(SEXP heads, SEXP head_grads, SEXP variables, SEXP retain, SEXP create,
                   SEXP train) {
  MXR_ENTER();
  int nh, nv;
  mx_ndarray** h = mxr_nd_list(heads, 0, &nh, "heads");
  mx_ndarray** hg = head_grads_of(head_grads, nh);
  mx_ndarray** v = mxr_nd_list(variables, 0, &nv, "variables");
  int r = mxr_flag(retain, "retain_graph"), c = mxr_flag(create, "create_graph"),
      t = mxr_flag(train, "is_train");
  mx_ndarray** out = (mx_ndarray**)R_alloc(nv > 0 ? nv : 1, sizeof(mx_ndarray*));
  for (int i = 0; i < nv; i++) out[i] = NULL;
  MXR_CHECK(mx_autograd_grad(nh, h, hg, nv, v, r, c, t, out));
  SEXP res = PROTECT(Rf_allocVector(VECSXP, nv));
  for (int i = 0; i < nv; i++) SET_VECTOR_ELT(res, i, out[i] ? mxr_wrap_nd(out[i]) : R_NilValue);
  UNPROTECT(1);
  return res;
}

SEXP C_mxr_nd_get_grad(SEXP hx) {
  MXR_ENTER();
  mx_ndarray* g = NULL;
  MXR_CHECK(mx_ndarray_get_grad(mxr_nd(hx, "x"), &g));
  return g ? mxr_wrap_nd(g) : R_NilValue;
}

SEXP C_mxr_nd_grad_state(SEXP hx) {
  MXR_ENTER();
  int f = 0;
  MXR_CHECK(mx_ndarray_get_grad_state(mxr_nd(hx, "x"), &f));
  return Rf_ScalarLogical(f != 0);
}

SEXP C_mxr_nd_set_grad_state(SEXP hx, SEXP fresh) {
  MXR_ENTER();
  MXR_CHECK(mx_ndarray_set_grad_state(mxr_nd(hx, "x"), mxr_flag(fresh, "fresh")));
  return R_NilValue;
}
