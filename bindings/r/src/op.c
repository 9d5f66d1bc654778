/*
 * op.c -- the operator registry and imperative invocation.
 *
 *   C_mxr_op_list()                 character: every registered op name, aliases included
 *   C_mxr_op_exists(name)           logical
 *   C_mxr_op_info(name)             list(name, doc, param.names, param.types, param.defaults,
 *                                   param.docs, input.names, key.var.num.args) -- all character
 *   C_mxr_op_attr(name, key)        character, or NULL when the op has no such fact
 *                                   (keys: dtypes, num_outputs, has_hidden_outputs, mutate_inputs,
 *                                   needs_rng, differentiable, aliases, category)
 *   C_mxr_op_arity(name, keys, vals)       integer c(num_inputs, num_outputs) under these params
 *   C_mxr_op_invoke(name, inputs, keys, vals, outputs)
 *        Runs op `name` (asynchronously). inputs: list of MXNDArrays (or one MXNDArray).
 *        keys/vals: character vectors of MXNet-syntax parameter strings (NULL for none).
 *        outputs: NULL (all new) or a list with one slot per output, each NULL (new array) or an
 *        MXNDArray written in place. Returns the list of outputs (the given objects for in-place
 *        slots).
 */
#include <string.h>

#include "mxr.h"

static const mx_op* find_op(SEXP name) {
  const char* n = mxr_string(name, "op name");
  const mx_op* op = NULL;
  MXR_CHECK(mx_op_find(n, &op));
  return op;
}

SEXP C_mxr_op_list(void) {
  MXR_ENTER();
  size_t n = 0;
  const char* const* names = NULL;
  MXR_CHECK(mx_op_list(&n, &names));
  return mxr_mkstrings(n, names);
}

SEXP C_mxr_op_exists(SEXP name) {
  MXR_ENTER();
  const char* n = mxr_string(name, "op name");
  const mx_op* op = NULL;
  return Rf_ScalarLogical(mx_op_find(n, &op) == MX_OK);
}

SEXP C_mxr_op_info(SEXP name) {
  MXR_ENTER();
  const mx_op* op = find_op(name);
  const char *nm = NULL, *doc = NULL, *kv = NULL;
  int np = 0, ni = 0;
  const char* const* pn = NULL;
  const char* const* pt = NULL;
  const char* const* pd = NULL;
  const char* const* pdoc = NULL;
  const char* const* in = NULL;
  MXR_CHECK(mx_op_info(op, &nm, &doc, &np, &pn, &pt, &pd, &pdoc, &ni, &in, &kv));
  const char* fields[] = {"name", "doc", "param.names", "param.types", "param.defaults",
                          "param.docs", "input.names", "key.var.num.args"};
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 8));
  SET_VECTOR_ELT(out, 0, Rf_mkString(nm ? nm : ""));
  SET_VECTOR_ELT(out, 1, Rf_mkString(doc ? doc : ""));
  SET_VECTOR_ELT(out, 2, mxr_mkstrings((size_t)np, pn));
  SET_VECTOR_ELT(out, 3, mxr_mkstrings((size_t)np, pt));
  SET_VECTOR_ELT(out, 4, mxr_mkstrings((size_t)np, pd));
  SET_VECTOR_ELT(out, 5, mxr_mkstrings((size_t)np, pdoc));
  SET_VECTOR_ELT(out, 6, mxr_mkstrings((size_t)ni, in));
  SET_VECTOR_ELT(out, 7, Rf_mkString(kv ? kv : ""));
  Rf_setAttrib(out, R_NamesSymbol, mxr_mkstrings(8, fields));
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_op_attr(SEXP name, SEXP key) {
  MXR_ENTER();
  const mx_op* op = find_op(name);
  const char* k = mxr_string(key, "key");
  const char* v = NULL;
  if (mx_op_attr(op, k, &v) != MX_OK) {
    if (mx_last_status() == MX_ERR_NOT_FOUND) return R_NilValue;
    mxr_fail();
  }
  return Rf_mkString(v ? v : "");
}

/* Parsed params (caller frees with mx_op_params_free); NULL when there are none. */
static mx_op_params* make_params(const mx_op* op, SEXP keys, SEXP vals) {
  int nk, nv;
  const char** k = mxr_strings(keys, &nk, "parameter names");
  const char** v = mxr_strings(vals, &nv, "parameter values");
  if (nk != nv) Rf_error("%d parameter names but %d values", nk, nv);
  if (nk == 0) return NULL;
  mx_op_params* p = NULL;
  MXR_CHECK(mx_op_params_create(op, nk, k, v, &p));
  return p;
}

SEXP C_mxr_op_arity(SEXP name, SEXP keys, SEXP vals) {
  MXR_ENTER();
  const mx_op* op = find_op(name);
  mx_op_params* p = make_params(op, keys, vals);
  int ni = 0, no = 0;
  int st = mx_op_arity(op, p, &ni, &no);
  mx_op_params_free(p);
  if (st != MX_OK) mxr_fail();
  SEXP out = PROTECT(Rf_allocVector(INTSXP, 2));
  INTEGER(out)[0] = ni;
  INTEGER(out)[1] = no;
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_op_invoke(SEXP name, SEXP inputs, SEXP keys, SEXP vals, SEXP outputs) {
  MXR_ENTER();
  const mx_op* op = find_op(name);
  int ni, no_given;
  mx_ndarray** in = mxr_nd_list(inputs, 0, &ni, "inputs");
  mx_ndarray** given = mxr_nd_list(outputs, 1, &no_given, "outputs");
  /* Validate every R argument before anything that needs freeing. */
  mx_op_params* p = make_params(op, keys, vals);
  int ai = 0, ao = 0;
  if (mx_op_arity(op, p, &ai, &ao) != MX_OK) {
    mx_op_params_free(p);
    mxr_fail();
  }
  if (!Rf_isNull(outputs) && no_given != ao) {
    mx_op_params_free(p);
    Rf_error("op %s has %d output(s) but %d output slot(s) were given", CHAR(STRING_ELT(name, 0)),
             ao, no_given);
  }
  mx_ndarray** out = (mx_ndarray**)R_alloc(ao > 0 ? ao : 1, sizeof(mx_ndarray*));
  for (int i = 0; i < ao; i++) out[i] = given ? given[i] : NULL;
  int st = mx_op_invoke(op, p, ni, in, ao, out);
  mx_op_params_free(p);
  if (st != MX_OK) mxr_fail();
  SEXP res = PROTECT(Rf_allocVector(VECSXP, ao));
  for (int i = 0; i < ao; i++) {
    if (given && given[i])
      SET_VECTOR_ELT(res, i, TYPEOF(outputs) == VECSXP ? VECTOR_ELT(outputs, i) : outputs);
    else
      SET_VECTOR_ELT(res, i, mxr_wrap_nd(out[i]));
  }
  UNPROTECT(1);
  return res;
}
