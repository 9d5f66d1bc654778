/*
 * symbol.c -- symbolic graphs. Shapes are R-order dims; indices 0-based.
 *
 *   C_mxr_sym_variable(name)                          new variable
 *   C_mxr_sym_create(op, keys, vals, inputs, name)    op node; keys/vals MXNet-syntax strings
 *        (keys "__x__" are node attributes); inputs: list of MXSymbols, positional or all named
 *        by the op's input names; missing inputs become variables "<name>_<input>"; name NULL/""
 *        gets an automatic name
 *   C_mxr_sym_compose(sym, name, args)   copy with free variables replaced (args named by
 *                                        variable name, or positional in list_arguments order)
 *   C_mxr_sym_copy(sym)  C_mxr_sym_group(list)  C_mxr_sym_get_internals(sym)
 *   C_mxr_sym_num_outputs(sym)            integer
 *   C_mxr_sym_get_output(sym, index)      0-based
 *   C_mxr_sym_get_children(sym)           symbol, or NULL for a variable
 *   C_mxr_sym_list(sym, which)            character: 0 arguments, 1 outputs, 2 auxiliary
 *                                         states, 3 inputs
 *   C_mxr_sym_name(sym)                   character, or NULL when it has several outputs
 *   C_mxr_sym_get_attr(sym, key)          character, or NULL when absent
 *   C_mxr_sym_set_attr(sym, key, value)   NULL (modifies sym)
 *   C_mxr_sym_list_attr(sym, recursive)   list(node=, key=, value=) character vectors
 *   C_mxr_sym_to_json(sym)  C_mxr_sym_from_json(json)
 *   C_mxr_sym_save(sym, path)  C_mxr_sym_load(path)
 *   C_mxr_sym_gradient(sym, wrt)          gradient symbol w.r.t. the named arguments
 *   C_mxr_sym_infer_shape(sym, shapes, partial)
 *        shapes: list of R-order dims, named by argument (or positional for the first
 *        arguments). Returns list(arg.shapes, out.shapes, aux.shapes, complete): named lists of
 *        R-order dims (NULL where unknown) and a logical
 *   C_mxr_sym_infer_type(sym, types, partial)
 *        types: named (or positional) dtype names/flags. Returns list(arg.types, out.types,
 *        aux.types, complete): named character vectors of dtype names (NA where unknown)
 */
#include <string.h>

#include "mxr.h"

SEXP C_mxr_sym_variable(SEXP name) {
  MXR_ENTER();
  mx_symbol* s = NULL;
  MXR_CHECK(mx_symbol_variable(mxr_string(name, "name"), &s));
  return mxr_wrap_sym(s);
}

SEXP C_mxr_sym_create(SEXP op, SEXP keys, SEXP vals, SEXP inputs, SEXP name) {
  MXR_ENTER();
  const char* o = mxr_string(op, "op name");
  int nk, nv, ni;
  const char** k = mxr_strings(keys, &nk, "parameter names");
  const char** v = mxr_strings(vals, &nv, "parameter values");
  if (nk != nv) Rf_error("%d parameter names but %d values", nk, nv);
  mx_symbol** in = mxr_sym_list(inputs, &ni, "inputs");
  const char** ik = TYPEOF(inputs) == VECSXP ? mxr_names(inputs, ni, "inputs") : NULL;
  const char* nm = mxr_string_or_null(name, "name");
  mx_symbol* s = NULL;
  MXR_CHECK(mx_symbol_create(o, nk, k, v, ni, ik, in, nm, &s));
  return mxr_wrap_sym(s);
}

SEXP C_mxr_sym_compose(SEXP sym, SEXP name, SEXP args) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int na;
  mx_symbol** a = mxr_sym_list(args, &na, "args");
  const char** k = TYPEOF(args) == VECSXP ? mxr_names(args, na, "args") : NULL;
  const char* nm = mxr_string_or_null(name, "name");
  mx_symbol* out = NULL;
  MXR_CHECK(mx_symbol_compose(s, nm, na, k, a, &out));
  return mxr_wrap_sym(out);
}

SEXP C_mxr_sym_copy(SEXP sym) {
  MXR_ENTER();
  mx_symbol* out = NULL;
  MXR_CHECK(mx_symbol_copy(mxr_sym(sym, "symbol"), &out));
  return mxr_wrap_sym(out);
}

SEXP C_mxr_sym_group(SEXP syms) {
  MXR_ENTER();
  int n;
  mx_symbol** s = mxr_sym_list(syms, &n, "symbols");
  mx_symbol* out = NULL;
  MXR_CHECK(mx_symbol_group(n, s, &out));
  return mxr_wrap_sym(out);
}

SEXP C_mxr_sym_num_outputs(SEXP sym) {
  MXR_ENTER();
  size_t n = 0;
  MXR_CHECK(mx_symbol_num_outputs(mxr_sym(sym, "symbol"), &n));
  return Rf_ScalarInteger((int)n);
}

SEXP C_mxr_sym_get_output(SEXP sym, SEXP index) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int i = mxr_int(index, "index");
  if (i < 0) Rf_error("index must be >= 0");
  mx_symbol* out = NULL;
  MXR_CHECK(mx_symbol_get_output(s, (size_t)i, &out));
  return mxr_wrap_sym(out);
}

SEXP C_mxr_sym_get_internals(SEXP sym) {
  MXR_ENTER();
  mx_symbol* out = NULL;
  MXR_CHECK(mx_symbol_get_internals(mxr_sym(sym, "symbol"), &out));
  return mxr_wrap_sym(out);
}

SEXP C_mxr_sym_get_children(SEXP sym) {
  MXR_ENTER();
  mx_symbol* out = NULL;
  MXR_CHECK(mx_symbol_get_children(mxr_sym(sym, "symbol"), &out));
  return out ? mxr_wrap_sym(out) : R_NilValue;
}

static SEXP list_names(mx_symbol* s, int which) {
  size_t n = 0;
  const char* const* names = NULL;
  MXR_CHECK(mx_symbol_list(s, which, &n, &names));
  return mxr_mkstrings(n, names); /* copied before any other list call on s */
}

SEXP mxr_symbol_list_names(mx_symbol* s, int which) { return list_names(s, which); }

SEXP C_mxr_sym_list(SEXP sym, SEXP which) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int w = mxr_int(which, "which");
  if (w < 0 || w > 3) Rf_error("which must be 0 (arguments), 1 (outputs), 2 (aux) or 3 (inputs)");
  return list_names(s, w);
}

SEXP C_mxr_sym_name(SEXP sym) {
  MXR_ENTER();
  const char* n = NULL;
  MXR_CHECK(mx_symbol_name(mxr_sym(sym, "symbol"), &n));
  return n ? Rf_mkString(n) : R_NilValue;
}

SEXP C_mxr_sym_get_attr(SEXP sym, SEXP key) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  const char* v = NULL;
  int found = 0;
  MXR_CHECK(mx_symbol_get_attr(s, mxr_string(key, "key"), &v, &found));
  return found && v ? Rf_mkString(v) : R_NilValue;
}

SEXP C_mxr_sym_set_attr(SEXP sym, SEXP key, SEXP value) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  MXR_CHECK(mx_symbol_set_attr(s, mxr_string(key, "key"), mxr_string(value, "value")));
  return R_NilValue;
}

SEXP C_mxr_sym_list_attr(SEXP sym, SEXP recursive) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  size_t n = 0;
  const char* const* t = NULL;
  MXR_CHECK(mx_symbol_list_attr(s, mxr_flag(recursive, "recursive"), &n, &t));
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
  for (int j = 0; j < 3; j++) {
    SEXP v = Rf_allocVector(STRSXP, (R_xlen_t)n);
    SET_VECTOR_ELT(out, j, v);
    for (size_t i = 0; i < n; i++) SET_STRING_ELT(v, i, Rf_mkCharCE(t[3 * i + j], CE_UTF8));
  }
  const char* nm[] = {"node", "key", "value"};
  Rf_setAttrib(out, R_NamesSymbol, mxr_mkstrings(3, nm));
  UNPROTECT(1);
  return out;
}

SEXP C_mxr_sym_to_json(SEXP sym) {
  MXR_ENTER();
  const char* j = NULL;
  MXR_CHECK(mx_symbol_to_json(mxr_sym(sym, "symbol"), &j));
  return Rf_ScalarString(Rf_mkCharCE(j, CE_UTF8));
}

SEXP C_mxr_sym_from_json(SEXP json) {
  MXR_ENTER();
  mx_symbol* s = NULL;
  MXR_CHECK(mx_symbol_from_json(mxr_string(json, "json"), &s));
  return mxr_wrap_sym(s);
}

SEXP C_mxr_sym_save(SEXP sym, SEXP path) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  MXR_CHECK(mx_symbol_save(s, R_ExpandFileName(mxr_string(path, "filename"))));
  return R_NilValue;
}

SEXP C_mxr_sym_load(SEXP path) {
  MXR_ENTER();
  mx_symbol* s = NULL;
  MXR_CHECK(mx_symbol_load(R_ExpandFileName(mxr_string(path, "filename")), &s));
  return mxr_wrap_sym(s);
}

SEXP C_mxr_sym_gradient(SEXP sym, SEXP wrt) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int n;
  const char** w = mxr_strings(wrt, &n, "wrt");
  mx_symbol* out = NULL;
  MXR_CHECK(mx_symbol_gradient(s, n, w, &out));
  return mxr_wrap_sym(out);
}

/* ---- inference */

/* Shapes from a (named) list of R-order dims: keys (NULL when positional), ndims, dims. */
void mxr_shapes_arg(SEXP shapes, int* n, const char*** keys, int** ndims, int64_t** dims,
                    int allow_positional) {
  if (Rf_isNull(shapes)) {
    *n = 0;
    *keys = NULL;
    *ndims = NULL;
    *dims = NULL;
    return;
  }
  if (TYPEOF(shapes) != VECSXP) Rf_error("shapes must be a list of dimension vectors");
  int len = Rf_length(shapes);
  *keys = mxr_names(shapes, len, "shapes");
  if (!*keys && len > 0 && !allow_positional) Rf_error("shapes must be named by argument");
  *ndims = (int*)R_alloc(len > 0 ? len : 1, sizeof(int));
  int total = 0;
  int64_t** each = (int64_t**)R_alloc(len > 0 ? len : 1, sizeof(int64_t*));
  for (int i = 0; i < len; i++) {
    each[i] = mxr_shape_from_r(VECTOR_ELT(shapes, i), &(*ndims)[i], "shape");
    total += (*ndims)[i];
  }
  *dims = (int64_t*)R_alloc(total > 0 ? total : 1, sizeof(int64_t));
  int pos = 0;
  for (int i = 0; i < len; i++) {
    memcpy(*dims + pos, each[i], sizeof(int64_t) * (*ndims)[i]);
    pos += (*ndims)[i];
  }
  *n = len;
}

static SEXP infer_to_r(mx_symbol* s, mx_infer_result* res, int shapes) {
  static const char* fields[] = {"arg", "out", "aux"};
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
  SEXP onames = PROTECT(Rf_allocVector(STRSXP, 4));
  for (int w = 0; w < 3; w++) {
    char f[32];
    snprintf(f, sizeof f, "%s.%s", fields[w], shapes ? "shapes" : "types");
    SET_STRING_ELT(onames, w, Rf_mkChar(f));
    size_t n = 0;
    if (mx_infer_result_size(res, w, &n) != MX_OK) {
      mx_infer_result_free(res);
      mxr_fail();
    }
    size_t nn = 0;
    const char* const* names = NULL;
    if (mx_symbol_list(s, w, &nn, &names) != MX_OK) {
      mx_infer_result_free(res);
      mxr_fail();
    }
    SEXP nm = PROTECT(mxr_mkstrings(nn, names));
    SEXP v = PROTECT(Rf_allocVector(shapes ? VECSXP : STRSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) {
      if (shapes) {
        int nd = 0;
        const int64_t* d = NULL;
        if (mx_infer_result_shape(res, w, i, &nd, &d) != MX_OK) {
          mx_infer_result_free(res);
          mxr_fail();
        }
        SET_VECTOR_ELT(v, i, nd < 0 ? R_NilValue : mxr_shape_to_r(d, nd));
      } else {
        int dt = -1;
        if (mx_infer_result_dtype(res, w, i, &dt) != MX_OK) {
          mx_infer_result_free(res);
          mxr_fail();
        }
        SET_STRING_ELT(v, i, dt < 0 ? NA_STRING : Rf_mkChar(mxr_dtype_name(dt)));
      }
    }
    if (nn == n) Rf_setAttrib(v, R_NamesSymbol, nm);
    SET_VECTOR_ELT(out, w, v);
    UNPROTECT(2);
  }
  int complete = 0;
  int st = mx_infer_result_complete(res, &complete);
  mx_infer_result_free(res);
  if (st != MX_OK) mxr_fail();
  SET_STRING_ELT(onames, 3, Rf_mkChar("complete"));
  SET_VECTOR_ELT(out, 3, Rf_ScalarLogical(complete != 0));
  Rf_setAttrib(out, R_NamesSymbol, onames);
  UNPROTECT(2);
  return out;
}

SEXP C_mxr_sym_infer_shape(SEXP sym, SEXP shapes, SEXP partial) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int n, *nd;
  const char** keys;
  int64_t* dims;
  mxr_shapes_arg(shapes, &n, &keys, &nd, &dims, 1);
  int p = mxr_flag(partial, "partial");
  mx_infer_result* res = NULL;
  MXR_CHECK(mx_symbol_infer_shape(s, n, keys, nd, dims, p, &res));
  return infer_to_r(s, res, 1);
}

/* dtypes from a named (or positional) character/integer vector or list. */
void mxr_types_arg(SEXP types, int* n, const char*** keys, int** dtypes) {
  if (Rf_isNull(types)) {
    *n = 0;
    *keys = NULL;
    *dtypes = NULL;
    return;
  }
  int len = Rf_length(types);
  *keys = mxr_names(types, len, "types");
  *dtypes = (int*)R_alloc(len > 0 ? len : 1, sizeof(int));
  for (int i = 0; i < len; i++) {
    SEXP e;
    if (TYPEOF(types) == VECSXP)
      e = VECTOR_ELT(types, i);
    else if (TYPEOF(types) == STRSXP)
      e = Rf_ScalarString(STRING_ELT(types, i));
    else if (TYPEOF(types) == INTSXP)
      e = Rf_ScalarInteger(INTEGER(types)[i]);
    else if (TYPEOF(types) == REALSXP)
      e = Rf_ScalarReal(REAL(types)[i]);
    else
      Rf_error("types must be dtype names");
    PROTECT(e);
    (*dtypes)[i] = mxr_dtype(e, "type");
    UNPROTECT(1);
  }
  *n = len;
}

SEXP C_mxr_sym_infer_type(SEXP sym, SEXP types, SEXP partial) {
  MXR_ENTER();
  mx_symbol* s = mxr_sym(sym, "symbol");
  int n, *dt;
  const char** keys;
  mxr_types_arg(types, &n, &keys, &dt);
  int p = mxr_flag(partial, "partial");
  mx_infer_result* res = NULL;
  MXR_CHECK(mx_symbol_infer_type(s, n, keys, dt, p, &res));
  return infer_to_r(s, res, 0);
}
