/* C ABI tests, part 2: the operator registry (list, find, info, attr, arity), parameters, invoke
 * (by handle and by name, new and preallocated outputs, in-place chains), random seeding, and every
 * error path of those calls. Expected values are computed here in plain C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* No libm: the tests link only libmx. */
#define ABS(x) ((x) < 0 ? -(x) : (x))

static int g_built_with_cuda = 0;

static const mx_op* find(const char* name) {
  const mx_op* op = NULL;
  if (!OK(mx_op_find(name, &op))) return NULL;
  return op;
}

/* Calls op with string params; one output, new array. NULL on failure (recorded). */
static mx_ndarray* run1(const char* name, int np, const char* const* keys, const char* const* vals, int nin,
                        mx_ndarray* const* in) {
  mx_ndarray* out[1] = {NULL};
  int nout = 1;
  if (!OK(mx_op_invoke_by_name(name, np, keys, vals, nin, in, &nout, out))) return NULL;
  CHECK(nout == 1 && out[0] != NULL);
  return out[0];
}

/* ================================================================ registry introspection */
static void test_registry(void) {
  size_t count = 0, i;
  const char* const* names = NULL;
  int seen_add = 0, seen_sum = 0, seen_dot = 0, bad_info = 0, bad_attr = 0;
  section("registry: list, find, info and attrs of every op");
  if (!OK(mx_op_list(&count, &names))) return;
  CHECK(count > 0 && names != NULL);
  for (i = 0; i < count; ++i) {
    const mx_op* op = NULL;
    const char *name = NULL, *doc = NULL, *kvar = NULL, *val = NULL;
    int np = -1, ni = -1, k;
    const char *const *pn = NULL, *const *pt = NULL, *const *pd = NULL, *const *pdoc = NULL, *const *in = NULL;
    const char* attrs[] = {"dtypes", "num_outputs", "mutate_inputs", "needs_rng", "differentiable", "aliases", "category"};
    size_t a;
    if (!names[i] || !*names[i]) {
      CHECK(!"empty op name in mx_op_list");
      continue;
    }
    if (strcmp(names[i], "broadcast_add") == 0) seen_add = 1;
    if (strcmp(names[i], "sum") == 0) seen_sum = 1;
    if (strcmp(names[i], "dot") == 0) seen_dot = 1;
    if (mx_op_find(names[i], &op) != MX_OK || !op) {
      fprintf(stderr, "      mx_op_find(%s): %s\n", names[i], mx_last_error());
      ++bad_info;
      continue;
    }
    if (mx_op_info(op, &name, &doc, &np, &pn, &pt, &pd, &pdoc, &ni, &in, &kvar) != MX_OK || !name || !doc ||
        np < 0 || ni < 0 || !kvar || (np > 0 && (!pn || !pt || !pd || !pdoc)) || (ni > 0 && !in)) {
      fprintf(stderr, "      mx_op_info(%s) incomplete: %s\n", names[i], mx_last_error());
      ++bad_info;
      continue;
    }
    for (k = 0; k < np; ++k) {
      if (!pn[k] || !*pn[k] || !pt[k] || !*pt[k] || !pd[k] || !pdoc[k] ||
          !(strstr(pt[k], "optional") || strstr(pt[k], "required"))) {
        fprintf(stderr, "      %s param %d (%s): type '%s'\n", names[i], k, pn[k] ? pn[k] : "?", pt[k] ? pt[k] : "?");
        ++bad_info;
      }
    }
    for (k = 0; k < ni; ++k)
      if (!in[k] || !*in[k]) ++bad_info;
    for (a = 0; a < sizeof attrs / sizeof attrs[0]; ++a) {
      val = NULL;
      if (mx_op_attr(op, attrs[a], &val) != MX_OK || !val) {
        fprintf(stderr, "      mx_op_attr(%s, %s): %s\n", names[i], attrs[a], mx_last_error());
        ++bad_attr;
      }
    }
    val = NULL;
    /* A count, or a word such as "variable" when parameters decide it. */
    if (mx_op_attr(op, "num_outputs", &val) == MX_OK && val && isdigit((unsigned char)val[0]) && atoi(val) < 1) {
      fprintf(stderr, "      %s: num_outputs '%s'\n", names[i], val);
      ++bad_attr;
    }
  }
  CHECK(bad_info == 0);
  CHECK(bad_attr == 0);
  CHECK(seen_add && seen_sum && seen_dot);

  section("registry: details of broadcast_add, sum, dot");
  {
    const mx_op* add = find("broadcast_add");
    const char *name = NULL, *kvar = NULL, *val = NULL;
    int np = -1, ni = -1, nin = -1, nout = -1;
    const char* const* in = NULL;
    if (add && OK(mx_op_info(add, &name, NULL, &np, NULL, NULL, NULL, NULL, &ni, &in, &kvar))) {
      CHECK(strcmp(name, "broadcast_add") == 0);
      CHECK(ni == 2 && strcmp(in[0], "lhs") == 0 && strcmp(in[1], "rhs") == 0);
      CHECK(strcmp(kvar, "") == 0);
    }
    if (add && OK(mx_op_attr(add, "num_outputs", &val))) CHECK(strcmp(val, "1") == 0);
    if (add && OK(mx_op_attr(add, "dtypes", &val))) CHECK(strstr(val, "float32") != NULL && strstr(val, "float64") != NULL);
    if (add && OK(mx_op_attr(add, "differentiable", &val))) CHECK(strcmp(val, "0") == 0 || strcmp(val, "1") == 0);
    if (add && OK(mx_op_attr(add, "needs_rng", &val))) CHECK(strcmp(val, "0") == 0);
    if (add && OK(mx_op_attr(add, "mutate_inputs", &val))) CHECK(strcmp(val, "") == 0);
    if (add && OK(mx_op_arity(add, NULL, &nin, &nout))) CHECK(nin == 2 && nout == 1);
  }
  {
    const mx_op* sum = find("sum");
    const char* name = NULL;
    int np = -1, ni = -1, k, found = 0;
    const char *const *pn = NULL, *const *pt = NULL, *const *pd = NULL, *const *in = NULL;
    if (sum && OK(mx_op_info(sum, &name, NULL, &np, &pn, &pt, &pd, NULL, &ni, &in, NULL))) {
      CHECK(ni == 1 && strcmp(in[0], "data") == 0);
      for (k = 0; k < np; ++k) {
        if (strcmp(pn[k], "axis") == 0) {
          ++found;
          CHECK(strstr(pt[k], "optional") != NULL);
        } else if (strcmp(pn[k], "keepdims") == 0 || strcmp(pn[k], "exclude") == 0) {
          ++found;
          CHECK(strstr(pt[k], "boolean") != NULL);
          CHECK(strcmp(pd[k], "False") == 0 || strcmp(pd[k], "false") == 0 || strcmp(pd[k], "0") == 0);
        }
      }
      CHECK(found == 3);
    }
  }
  {
    /* An alias resolves to the same op; MXNet calls sum's alias sum_axis. */
    const mx_op *sum = find("sum"), *alias = NULL;
    const char* val = NULL;
    if (sum && OK(mx_op_attr(sum, "aliases", &val)) && strstr(val, "sum_axis")) {
      if (OK(mx_op_find("sum_axis", &alias))) CHECK(alias == sum);
    }
  }
  {
    const mx_op* dot = find("dot");
    const char* const* pn = NULL;
    int np = 0, k, tb = 0;
    if (dot && OK(mx_op_info(dot, NULL, NULL, &np, &pn, NULL, NULL, NULL, NULL, NULL, NULL)))
      for (k = 0; k < np; ++k) tb |= strcmp(pn[k], "transpose_a") == 0 || strcmp(pn[k], "transpose_b") == 0;
    CHECK(tb);
  }

  section("registry errors");
  {
    const mx_op *op = SENTINEL_PTR(const mx_op*), *add = find("broadcast_add");
    const char* val = SENTINEL_PTR(const char*);
    const char* name = SENTINEL_PTR(const char*);
    size_t n = 77;
    const char* const* list = SENTINEL_PTR(const char* const*);
    int nin = -77, nout = -77;
    FAILS(mx_op_find("no_such_op_xyz", &op), MX_ERR_NOT_FOUND, "no_such_op_xyz", NULL);
    FAILS(mx_op_find("", &op), MX_ERR_NOT_FOUND, NULL, NULL);
    FAILS(mx_op_find(NULL, &op), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_op_find("broadcast_add", NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    CHECK(op == SENTINEL_PTR(const mx_op*));
    FAILS(mx_op_list(NULL, &list), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_op_list(&n, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    CHECK(n == 77 && list == SENTINEL_PTR(const char* const*));
    FAILS(mx_op_info(NULL, &name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), MX_ERR_HANDLE, "null", NULL);
    CHECK(name == SENTINEL_PTR(const char*));
    FAILS(mx_op_attr(NULL, "dtypes", &val), MX_ERR_HANDLE, "null", NULL);
    if (add) {
      FAILS(mx_op_attr(add, "no_such_attr", &val), MX_ERR_NOT_FOUND, "no_such_attr", NULL);
      FAILS(mx_op_attr(add, NULL, &val), MX_ERR_INVALID_ARGUMENT, "null", NULL);
      FAILS(mx_op_attr(add, "dtypes", NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    }
    CHECK(val == SENTINEL_PTR(const char*));
    FAILS(mx_op_arity(NULL, NULL, &nin, &nout), MX_ERR_HANDLE, "null", NULL);
    CHECK(nin == -77 && nout == -77);
  }
}

/* ================================================================ parameters */
static void test_params(void) {
  const mx_op *sum = find("sum"), *dot = NULL;
  mx_op_params *p = NULL, *q = NULL, *out = SENTINEL_PTR(mx_op_params*);
  section("parameters: parse, validate");
  mx_op_find("dot", &dot); /* its absence is reported by test_registry */
  if (!sum) return;
  {
    const char* k[2] = {"axis", "keepdims"};
    const char* v[2] = {"(0, 1)", "True"};
    if (OK(mx_op_params_create(sum, 2, k, v, &p))) CHECK(p != NULL);
    /* The same set again (and in another order) is fine; the library shares the parsed object. */
    {
      const char* k2[2] = {"keepdims", "axis"};
      const char* v2[2] = {"true", "[0,1]"};
      if (OK(mx_op_params_create(sum, 2, k2, v2, &q))) CHECK(q != NULL);
    }
    mx_op_params_free(p);
    mx_op_params_free(q);
    p = q = NULL;
  }
  OK(mx_op_params_create(sum, 0, NULL, NULL, &p));
  mx_op_params_free(p);

  section("parameter errors");
  {
    const char* k[1] = {"bogus_key"};
    const char* v[1] = {"1"};
    FAILS(mx_op_params_create(sum, 1, k, v, &out), MX_ERR_INVALID_ARGUMENT, "bogus_key", "sum");
  }
  {
    const char* k[1] = {"axis"};
    const char* v[1] = {"abc"};
    FAILS(mx_op_params_create(sum, 1, k, v, &out), MX_ERR_INVALID_ARGUMENT, "axis", "abc");
  }
  {
    const char* k[1] = {"keepdims"};
    const char* v[1] = {"maybe"};
    FAILS(mx_op_params_create(sum, 1, k, v, &out), MX_ERR_INVALID_ARGUMENT, "keepdims", "maybe");
  }
  if (dot) {
    const char* k[1] = {"transpose_a"};
    const char* v[1] = {"2.5"};
    FAILS(mx_op_params_create(dot, 1, k, v, &out), MX_ERR_INVALID_ARGUMENT, "transpose_a", "2.5");
  }
  {
    const char* k[2] = {"axis", NULL};
    const char* v[2] = {"1", "1"};
    FAILS(mx_op_params_create(sum, 2, k, v, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_op_params_create(sum, 1, NULL, v, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_op_params_create(sum, 1, k, NULL, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_op_params_create(sum, -1, k, v, &out), MX_ERR_INVALID_ARGUMENT, "num", NULL);
    FAILS(mx_op_params_create(NULL, 1, k, v, &out), MX_ERR_HANDLE, "null", NULL);
    FAILS(mx_op_params_create(sum, 1, k, v, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  }
  {
    /* A required parameter left out, and an enum value outside its set, where such ops exist. */
    const mx_op *fc = NULL, *act = NULL;
    if (mx_op_find("FullyConnected", &fc) == MX_OK) {
      FAILS(mx_op_params_create(fc, 0, NULL, NULL, &out), MX_ERR_INVALID_ARGUMENT, "num_hidden", NULL);
    }
    if (mx_op_find("Activation", &act) == MX_OK) {
      const char* k[1] = {"act_type"};
      const char* v[1] = {"bogus_act"};
      FAILS(mx_op_params_create(act, 1, k, v, &out), MX_ERR_INVALID_ARGUMENT, "bogus_act", NULL);
    }
  }
  CHECK(out == SENTINEL_PTR(mx_op_params*));
}

/* ================================================================ invoke */
static void test_invoke(void) {
  const int64_t s23[2] = {2, 3}, s13[2] = {1, 3}, s32[2] = {3, 2}, s22[2] = {2, 2};
  const float a_v[6] = {1, 2, 3, 4, 5, 6};
  const float b_v[3] = {10, 20, 30};
  const float c_v[6] = {1, -1, 2, 0, 0.5f, 3};
  mx_ndarray *a = make_f32(s23, 2, a_v), *b = make_f32(s13, 2, b_v), *c = make_f32(s32, 2, c_v);
  const mx_op *add = find("broadcast_add"), *sum = find("sum"), *dot = NULL;
  section("invoke: broadcast_add, sum, dot");
  mx_op_find("dot", &dot); /* its absence is reported by test_registry */
  if (!a || !b || !c || !add || !sum) goto done;
  {
    mx_ndarray* in[2];
    mx_ndarray* out[1] = {NULL};
    const float want[6] = {11, 22, 33, 14, 25, 36};
    in[0] = a;
    in[1] = b;
    if (OK(mx_op_invoke(add, NULL, 2, in, 1, out))) {
      CHECK(has_shape(out[0], s23, 2));
      CHECK(f32_equals(out[0], want, 6, 0));
      mx_ndarray_free(out[0]);
    }
  }
  {
    /* sum over axis 1, over axis 0 with keepdims, over everything (MXNet gives shape (1,)). */
    const char* k1[1] = {"axis"};
    const char* v1[1] = {"1"};
    const char* k2[2] = {"axis", "keepdims"};
    const char* v2[2] = {"0", "True"};
    const char* k3[2] = {"axis", "exclude"};
    const char* v3[2] = {"(1,)", "True"};
    const float w1[2] = {6, 15}, w2[3] = {5, 7, 9}, w_all[1] = {21};
    const int64_t sh1[1] = {2}, sh2[2] = {1, 3}, sh_all[1] = {1};
    mx_op_params* p = NULL;
    mx_ndarray* r;
    if (OK(mx_op_params_create(sum, 1, k1, v1, &p))) {
      mx_ndarray* out[1] = {NULL};
      if (OK(mx_op_invoke(sum, p, 1, &a, 1, out))) {
        CHECK(has_shape(out[0], sh1, 1));
        CHECK(f32_equals(out[0], w1, 2, 0));
        mx_ndarray_free(out[0]);
      }
      mx_op_params_free(p);
    }
    r = run1("sum", 2, k2, v2, 1, &a);
    CHECK(has_shape(r, sh2, 2));
    CHECK(f32_equals(r, w2, 3, 0));
    mx_ndarray_free(r);
    r = run1("sum", 2, k3, v3, 1, &a); /* exclude axis 1: reduce axis 0 */
    CHECK(f32_equals(r, w2, 3, 0));
    mx_ndarray_free(r);
    r = run1("sum", 0, NULL, NULL, 1, &a);
    CHECK(has_shape(r, sh_all, 1));
    CHECK(f32_equals(r, w_all, 1, 0));
    mx_ndarray_free(r);
    r = run1("sum_axis", 1, k1, v1, 1, &a); /* MXNet's alias */
    CHECK(f32_equals(r, w1, 2, 0));
    mx_ndarray_free(r);
  }
  if (dot) {
    /* dot: (2,3)x(3,2), then a x a^T through transpose_b. */
    mx_ndarray* in[2];
    const char* kt[1] = {"transpose_b"};
    const char* vt[1] = {"True"};
    float want[4], want_t[4];
    int i, j, k;
    mx_ndarray* r;
    for (i = 0; i < 2; ++i)
      for (j = 0; j < 2; ++j) {
        float s = 0, st = 0;
        for (k = 0; k < 3; ++k) {
          s += a_v[i * 3 + k] * c_v[k * 2 + j];
          st += a_v[i * 3 + k] * a_v[j * 3 + k];
        }
        want[i * 2 + j] = s;
        want_t[i * 2 + j] = st;
      }
    in[0] = a;
    in[1] = c;
    r = run1("dot", 0, NULL, NULL, 2, in);
    CHECK(has_shape(r, s22, 2));
    CHECK(f32_equals(r, want, 4, 1e-5f));
    mx_ndarray_free(r);
    in[1] = a;
    r = run1("dot", 1, kt, vt, 2, in);
    CHECK(has_shape(r, s22, 2));
    CHECK(f32_equals(r, want_t, 4, 1e-5f));
    mx_ndarray_free(r);
  }
  if (dot) {
    /* float64 dot of a larger matrix (the BLAS path), checked against a plain loop. */
    enum { M = 37, K = 53, N = 29 };
    const int64_t sa[2] = {M, K}, sb[2] = {K, N};
    double *x = (double*)malloc(sizeof(double) * M * K), *y = (double*)malloc(sizeof(double) * K * N);
    double *want = (double*)malloc(sizeof(double) * M * N), *got = (double*)malloc(sizeof(double) * M * N);
    mx_ndarray *da = NULL, *db = NULL, *r;
    mx_ndarray* in[2];
    int i, j, k, bad = 0;
    for (i = 0; i < M * K; ++i) x[i] = ((i * 7919) % 1000) / 250.0 - 2.0;
    for (i = 0; i < K * N; ++i) y[i] = ((i * 104729) % 997) / 300.0 - 1.5;
    for (i = 0; i < M; ++i)
      for (j = 0; j < N; ++j) {
        double s = 0;
        for (k = 0; k < K; ++k) s += x[i * K + k] * y[k * N + j];
        want[i * N + j] = s;
      }
    if (OK(mx_ndarray_create(sa, 2, MX_FLOAT64, MX_CPU, 0, &da)) && OK(mx_ndarray_create(sb, 2, MX_FLOAT64, MX_CPU, 0, &db)) &&
        OK(mx_ndarray_copy_from_host(da, x, sizeof(double) * M * K)) &&
        OK(mx_ndarray_copy_from_host(db, y, sizeof(double) * K * N))) {
      in[0] = da;
      in[1] = db;
      r = run1("dot", 0, NULL, NULL, 2, in);
      if (r && OK(mx_ndarray_copy_to_host(r, got, sizeof(double) * M * N))) {
        for (i = 0; i < M * N; ++i)
          if (ABS(got[i] - want[i]) > 1e-9 * (1 + ABS(want[i]))) ++bad;
        CHECK(bad == 0);
      }
      mx_ndarray_free(r);
    }
    mx_ndarray_free(da);
    mx_ndarray_free(db);
    free(x);
    free(y);
    free(want);
    free(got);
  }

  section("invoke: preallocated outputs and in-place chains");
  {
    mx_ndarray *dst = NULL, *keep;
    mx_ndarray* in[2];
    mx_ndarray* out[1];
    const float want[6] = {11, 22, 33, 14, 25, 36};
    int nout = 1;
    if (OK(mx_ndarray_create(s23, 2, MX_FLOAT32, MX_CPU, 0, &dst))) {
      in[0] = a;
      in[1] = b;
      out[0] = dst;
      keep = dst;
      if (OK(mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, &nout, out))) {
        CHECK(nout == 1 && out[0] == keep); /* written in place, same handle */
        CHECK(f32_equals(dst, want, 6, 0));
      }
      mx_ndarray_free(dst);
    }
  }
  {
    /* acc += one, 200 times, into the input itself: every step depends on the previous one. */
    enum { N = 5000, STEPS = 200 };
    const int64_t sn[1] = {N};
    float* host = (float*)calloc(N, sizeof(float));
    float* want = (float*)malloc(N * sizeof(float));
    mx_ndarray *acc = make_f32(sn, 1, host), *one = NULL;
    const float one_v = 1;
    const int64_t s1[1] = {1};
    int i, ok = 1;
    one = make_f32(s1, 1, &one_v);
    for (i = 0; i < STEPS && acc && one && ok; ++i) {
      mx_ndarray* in[2];
      mx_ndarray* out[1];
      in[0] = acc;
      in[1] = one;
      out[0] = acc;
      ok = OK(mx_op_invoke(add, NULL, 2, in, 1, out));
    }
    for (i = 0; i < N; ++i) want[i] = STEPS;
    if (acc && ok) CHECK(f32_equals(acc, want, N, 0));
    mx_ndarray_free(acc);
    mx_ndarray_free(one);
    free(host);
    free(want);
  }
  {
    /* Many independent chains at once (the threaded engine runs them concurrently). */
    enum { CHAINS = 8, LEN = 20 };
    const int64_t sn[1] = {4096};
    mx_ndarray* x[CHAINS];
    float* want = (float*)malloc(4096 * sizeof(float));
    float* init = (float*)malloc(4096 * sizeof(float));
    int c, s, i;
    for (c = 0; c < CHAINS; ++c) {
      for (i = 0; i < 4096; ++i) init[i] = (float)c;
      x[c] = make_f32(sn, 1, init);
    }
    for (s = 0; s < LEN; ++s)
      for (c = 0; c < CHAINS; ++c) {
        mx_ndarray* in[2];
        mx_ndarray* out[1];
        if (!x[c]) continue;
        in[0] = x[c];
        in[1] = x[c];
        out[0] = x[c];
        if (!OK(mx_op_invoke(add, NULL, 2, in, 1, out))) {
          mx_ndarray_free(x[c]);
          x[c] = NULL;
        }
      }
    OK(mx_wait_all());
    for (c = 0; c < CHAINS; ++c) {
      if (!x[c]) continue;
      for (i = 0; i < 4096; ++i) want[i] = (float)c * (float)(1 << LEN);
      CHECK(f32_equals(x[c], want, 4096, 0));
      mx_ndarray_free(x[c]);
    }
    free(want);
    free(init);
  }

  section("invoke errors");
  {
    const int64_t s45[2] = {4, 5};
    mx_ndarray *d = NULL, *pre = NULL, *wrong_shape = NULL, *i32 = NULL, *wrong_dtype = NULL;
    mx_ndarray* in[3];
    mx_ndarray* out[2];
    float sentinel[6] = {-9, -9, -9, -9, -9, -9};
    int nout;
    const char* kbad[1] = {"axis"};
    const char* vbad[1] = {"5"};
    OK(mx_ndarray_create(s45, 2, MX_FLOAT32, MX_CPU, 0, &d));
    pre = make_f32(s23, 2, sentinel);
    OK(mx_ndarray_create(s22, 2, MX_FLOAT32, MX_CPU, 0, &wrong_shape));
    OK(mx_ndarray_create(s23, 2, MX_INT32, MX_CPU, 0, &i32));
    OK(mx_ndarray_create(s23, 2, MX_FLOAT64, MX_CPU, 0, &wrong_dtype));
    if (!d || !pre || !wrong_shape || !i32 || !wrong_dtype) goto errors_done;
    /* Shapes that do not broadcast: both named; a NULL slot stays NULL, a given one keeps its data. */
    in[0] = a;
    in[1] = d;
    out[0] = NULL;
    FAILS(mx_op_invoke(add, NULL, 2, in, 1, out), MX_ERR_SHAPE, "(2,3)", "(4,5)");
    CHECK(out[0] == NULL);
    out[0] = pre;
    FAILS(mx_op_invoke(add, NULL, 2, in, 1, out), MX_ERR_SHAPE, "(2,3)", "(4,5)");
    CHECK(out[0] == pre);
    CHECK(f32_equals(pre, sentinel, 6, 0));
    nout = 1;
    out[0] = NULL;
    FAILS(mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, &nout, out), MX_ERR_SHAPE, "(4,5)", NULL);
    CHECK(out[0] == NULL && nout == 1);
    /* dot with inner dimensions that differ. */
    in[0] = a;
    in[1] = a;
    if (dot) FAILS(mx_op_invoke(dot, NULL, 2, in, 1, out), MX_ERR_SHAPE, "(2,3)", NULL);
    /* Mixed dtypes. */
    in[0] = a;
    in[1] = i32;
    FAILS(mx_op_invoke(add, NULL, 2, in, 1, out), MX_ERR_DTYPE, "float32", "int32");
    /* A preallocated output of the wrong shape or dtype. */
    in[0] = a;
    in[1] = b;
    out[0] = wrong_shape;
    FAILS(mx_op_invoke(add, NULL, 2, in, 1, out), MX_ERR_SHAPE, "(2,2)", "(2,3)");
    out[0] = wrong_dtype;
    FAILS(mx_op_invoke(add, NULL, 2, in, 1, out), MX_ERR_DTYPE, "float64", "float32");
    CHECK(out[0] == wrong_dtype);
    /* Wrong input / output counts (every slot passed holds a valid handle). */
    out[0] = NULL;
    out[1] = NULL;
    in[2] = a;
    FAILS(mx_op_invoke(add, NULL, 1, in, 1, out), MX_ERR_INVALID_ARGUMENT, "broadcast_add", NULL);
    FAILS(mx_op_invoke(add, NULL, 3, in, 1, out), MX_ERR_INVALID_ARGUMENT, "broadcast_add", NULL);
    FAILS(mx_op_invoke(add, NULL, 2, in, 2, out), MX_ERR_INVALID_ARGUMENT, "broadcast_add", NULL);
    FAILS(mx_op_invoke(add, NULL, 2, in, 0, out), MX_ERR_INVALID_ARGUMENT, "broadcast_add", NULL);
    nout = 0;
    FAILS(mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, &nout, out), MX_ERR_INVALID_ARGUMENT, NULL, NULL);
    CHECK(nout == 0);
    /* NULL handles and arrays. */
    in[1] = NULL;
    FAILS(mx_op_invoke(add, NULL, 2, in, 1, out), MX_ERR_HANDLE, "null", NULL);
    in[1] = b;
    FAILS(mx_op_invoke(add, NULL, 2, NULL, 1, out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_op_invoke(add, NULL, 2, in, 1, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_op_invoke(NULL, NULL, 2, in, 1, out), MX_ERR_HANDLE, "null", NULL);
    FAILS(mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, NULL, out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    CHECK(out[0] == NULL);
    /* Unknown op by name. */
    nout = 1;
    FAILS(mx_op_invoke_by_name("no_such_op_abc", 0, NULL, NULL, 2, in, &nout, out), MX_ERR_NOT_FOUND, "no_such_op_abc", NULL);
    FAILS(mx_op_invoke_by_name(NULL, 0, NULL, NULL, 2, in, &nout, out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    /* Parameters: unknown key, bad value, and an axis out of range for the input. */
    {
      const char* k[1] = {"bogus_key"};
      const char* v[1] = {"1"};
      const char* kv[1] = {"keepdims"};
      const char* vv[1] = {"sometimes"};
      FAILS(mx_op_invoke_by_name("sum", 1, k, v, 1, &a, &nout, out), MX_ERR_INVALID_ARGUMENT, "bogus_key", NULL);
      FAILS(mx_op_invoke_by_name("sum", 1, kv, vv, 1, &a, &nout, out), MX_ERR_INVALID_ARGUMENT, "sometimes", NULL);
    }
    FAILS(mx_op_invoke_by_name("sum", 1, kbad, vbad, 1, &a, &nout, out), MX_ERR_INVALID_ARGUMENT, "axis", "5");
    {
      mx_op_params* p = NULL;
      if (OK(mx_op_params_create(sum, 1, kbad, vbad, &p))) {
        int nin = -1, no = -1;
        FAILS(mx_op_invoke(sum, p, 1, &a, 1, out), MX_ERR_INVALID_ARGUMENT, "axis", "5");
        /* Parameters of one op handed to another. */
        in[0] = a;
        in[1] = b;
        FAILS(mx_op_invoke(add, p, 2, in, 1, out), MX_ERR_INVALID_ARGUMENT, "sum", NULL);
        FAILS(mx_op_arity(add, p, &nin, &no), MX_ERR_INVALID_ARGUMENT, "sum", NULL);
        CHECK(nin == -1 && no == -1);
        mx_op_params_free(p);
      }
    }
    CHECK(out[0] == NULL);
    OK(mx_wait_all());
  errors_done:
    mx_ndarray_free(d);
    mx_ndarray_free(pre);
    mx_ndarray_free(wrong_shape);
    mx_ndarray_free(i32);
    mx_ndarray_free(wrong_dtype);
  }
done:
  mx_ndarray_free(a);
  mx_ndarray_free(b);
  mx_ndarray_free(c);
}

/* ================================================================ creation ops and random numbers */
static void test_random(void) {
  enum { N = 4000 };
  const char* keys[4] = {"shape", "low", "high", "dtype"};
  const char* vals[4] = {"(4000,)", "-1", "3", "float32"};
  const mx_op* op = NULL;
  float *x = (float*)malloc(N * sizeof(float)), *y = (float*)malloc(N * sizeof(float));
  float *z = (float*)malloc(N * sizeof(float)), *w = (float*)malloc(N * sizeof(float));
  mx_ndarray* r;
  int i, in_range = 1, nin = -1, nout = -1;
  double mean = 0;
  const char* rng = NULL;
  section("random: seeding reproduces draws");
  if (!OK(mx_op_find("random_uniform", &op))) goto done;
  if (OK(mx_op_attr(op, "needs_rng", &rng))) CHECK(strcmp(rng, "1") == 0);
  if (OK(mx_op_arity(op, NULL, &nin, &nout))) CHECK(nin == 0 && nout == 1);
  OK(mx_random_seed(42));
  r = run1("random_uniform", 4, keys, vals, 0, NULL);
  if (!r || !OK(mx_ndarray_copy_to_host(r, x, N * sizeof(float)))) goto done;
  mx_ndarray_free(r);
  r = run1("random_uniform", 4, keys, vals, 0, NULL); /* the next draw differs */
  if (r && OK(mx_ndarray_copy_to_host(r, w, N * sizeof(float)))) CHECK(memcmp(x, w, N * sizeof(float)) != 0);
  mx_ndarray_free(r);
  OK(mx_random_seed(42));
  r = run1("random_uniform", 4, keys, vals, 0, NULL);
  if (r && OK(mx_ndarray_copy_to_host(r, y, N * sizeof(float)))) CHECK(memcmp(x, y, N * sizeof(float)) == 0);
  mx_ndarray_free(r);
  OK(mx_random_seed(43));
  r = run1("random_uniform", 4, keys, vals, 0, NULL);
  if (r && OK(mx_ndarray_copy_to_host(r, z, N * sizeof(float)))) CHECK(memcmp(x, z, N * sizeof(float)) != 0);
  mx_ndarray_free(r);
  for (i = 0; i < N; ++i) {
    if (!(x[i] >= -1.0f && x[i] < 3.0f)) in_range = 0;
    mean += x[i];
  }
  mean /= N;
  CHECK(in_range);
  CHECK(ABS(mean - 1.0) < 0.1); /* uniform(-1, 3): mean 1, sd of the mean ~0.018 */
  {
    /* dtype and shape params are honoured. */
    const char* v64[4] = {"(2, 5)", "0", "1", "float64"};
    const int64_t want[2] = {2, 5};
    int dt = -1;
    r = run1("random_uniform", 4, keys, v64, 0, NULL);
    CHECK(has_shape(r, want, 2));
    if (r && OK(mx_ndarray_dtype(r, &dt))) CHECK(dt == MX_FLOAT64);
    mx_ndarray_free(r);
  }

  section("creation ops: ctx errors");
  {
    const char* kc[2] = {"shape", "ctx"};
    const char* vgpu[2] = {"(2,)", "gpu(0)"};
    const char* vbad[2] = {"(2,)", "tpu(0)"};
    mx_ndarray* out[1] = {NULL};
    int n1 = 1;
    if (!g_built_with_cuda)
      FAILS(mx_op_invoke_by_name("random_uniform", 2, kc, vgpu, 0, NULL, &n1, out), MX_ERR_UNSUPPORTED, "gpu", NULL);
    FAILS(mx_op_invoke_by_name("random_uniform", 2, kc, vbad, 0, NULL, &n1, out), MX_ERR_INVALID_ARGUMENT, "tpu", NULL);
    CHECK(out[0] == NULL);
  }
done:
  free(x);
  free(y);
  free(z);
  free(w);
}

/* ================================================================ errors inside asynchronous ops */
static void test_async_errors(void) {
  const int64_t s3[1] = {3}, s2[1] = {2};
  const float data_v[3] = {10, 20, 30}, idx_v[2] = {0, 5}; /* index 5 is out of range */
  const char* k[1] = {"mode"};
  const char* v[1] = {"raise"};
  const char* eng = NULL;
  mx_ndarray *data = make_f32(s3, 1, data_v), *idx = make_f32(s2, 1, idx_v);
  mx_ndarray* in[2];
  mx_ndarray* out[1] = {NULL};
  int nout = 1, naive, rc;
  float got[2] = {-1, -1};
  section("errors raised inside a kernel surface at the next wait");
  if (!data || !idx || !OK(mx_lib_info("engine", &eng))) goto done;
  naive = strcmp(eng, "NaiveEngine") == 0;
  OK(mx_wait_all());
  in[0] = data;
  in[1] = idx;
  rc = mx_op_invoke_by_name("take", 1, k, v, 2, in, &nout, out);
  if (naive) {
    /* Synchronous: the invoke itself reports it, and no output is handed out. */
    FAILS(rc, MX_ERR_INDEX, "take", "5");
    CHECK(out[0] == NULL);
  } else if (OK(rc) && CHECK(out[0] != NULL)) {
    mx_ndarray* res[1] = {NULL};
    mx_ndarray* pair[2];
    int n1 = 1;
    /* The kernel's kIndex comes back, with the op's name, wherever the output is read. */
    FAILS(mx_ndarray_wait_to_read(out[0]), MX_ERR_INDEX, "take", "5");
    FAILS(mx_ndarray_copy_to_host(out[0], got, sizeof got), MX_ERR_INDEX, "take", NULL);
    CHECK(got[0] == -1 && got[1] == -1);
    /* An op reading the failed array does not run; its output carries the same error. */
    pair[0] = out[0];
    pair[1] = out[0];
    if (OK(mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, pair, &n1, res))) {
      FAILS(mx_ndarray_wait_to_read(res[0]), MX_ERR_INDEX, "take", NULL);
      mx_ndarray_free(res[0]);
    }
    /* wait_all reports the first error once. */
    FAILS(mx_wait_all(), MX_ERR_INDEX, "take", NULL);
    OK(mx_wait_all());
    mx_ndarray_free(out[0]);
  }
  {
    /* The inputs are unharmed and later work runs normally. */
    const float want[3] = {10, 20, 30};
    CHECK(f32_equals(data, want, 3, 0));
  }
done:
  OK(mx_wait_all());
  mx_ndarray_free(data);
  mx_ndarray_free(idx);
}

int main(void) {
  const char* v = NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (mx_lib_info("cuda", &v) == MX_OK) g_built_with_cuda = strcmp(v, "1") == 0;
  test_registry();
  test_params();
  test_invoke();
  test_random();
  test_async_errors();
  OK(mx_wait_all());
  return summary();
}
