/* The executor and cached-op ABI from plain C: bind a FullyConnected layer, forward/backward
 * against hand-computed values, grad_req add, simple_bind, a cached op, and the error paths. */
#include <math.h>

#include "check.h"

static int close_to(const float* a, const float* b, int n) {
  int i;
  for (i = 0; i < n; ++i)
    if (fabsf(a[i] - b[i]) > 1e-5f * (1.0f + fabsf(b[i]))) return 0;
  return 1;
}

static void read_f32(mx_ndarray* a, float* dst, int n) { OK(mx_ndarray_copy_to_host(a, dst, (size_t)n * sizeof(float))); }

int main(void) {
  /* y = x W^T + b, x (3,4), W (2,4), b (2). */
  const int64_t xs[2] = {3, 4}, ws[2] = {2, 4}, bs[1] = {2}, ys[2] = {3, 2};
  float x[12], w[8], b[2] = {0.5f, -1.0f}, og[6], ref[12], got[12];
  int i, j, k;
  for (i = 0; i < 12; ++i) x[i] = (float)(i % 5) - 1.5f;
  for (i = 0; i < 8; ++i) w[i] = 0.25f * (float)i - 0.8f;
  for (i = 0; i < 6; ++i) og[i] = (float)i * 0.5f - 1.0f;

  mx_symbol *data = NULL, *fc = NULL;
  const char* keys[1] = {"num_hidden"};
  const char* vals[1] = {"2"};
  OK(mx_symbol_variable("data", &data));
  OK(mx_symbol_create("FullyConnected", 1, keys, vals, 1, NULL, &data, "fc", &fc));

  mx_ndarray* args[3] = {make_f32(xs, 2, x), make_f32(ws, 2, w), make_f32(bs, 1, b)};
  mx_ndarray* grads[3] = {make_f32(xs, 2, NULL), make_f32(ws, 2, NULL), make_f32(bs, 1, NULL)};
  mx_ndarray* ograd = make_f32(ys, 2, og);
  float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  OK(mx_ndarray_copy_from_host(grads[1], ones, sizeof ones)); /* req add starts from ones */
  int reqs[3] = {MX_GRAD_WRITE, MX_GRAD_ADD, MX_GRAD_NULL};
  mx_executor* ex = NULL;

  section("bind errors");
  mx_executor* untouched = SENTINEL_PTR(mx_executor*);
  FAILS(mx_executor_bind(fc, MX_CPU, 0, 2, args, grads, reqs, 0, NULL, 0, &untouched), MX_ERR_INVALID_ARGUMENT,
        "fc_weight", "fc_bias");
  CHECK(untouched == SENTINEL_PTR(mx_executor*));
  mx_ndarray* wrong[3] = {args[0], args[2], args[2]};
  FAILS(mx_executor_bind(fc, MX_CPU, 0, 3, wrong, NULL, NULL, 0, NULL, 0, &ex), MX_ERR_SHAPE, "fc_weight", "(2,)");

  section("forward and backward");
  OK(mx_executor_bind(fc, MX_CPU, 0, 3, args, grads, reqs, 0, NULL, 0, &ex));
  FAILS(mx_executor_backward(ex, 1, &ograd), MX_ERR_INVALID_ARGUMENT, "before forward", NULL);
  OK(mx_executor_forward(ex, 1));
  size_t n = 0;
  OK(mx_executor_num(ex, 3, &n));
  CHECK(n == 1);
  mx_ndarray* out = NULL;
  OK(mx_executor_get(ex, 3, 0, &out));
  read_f32(out, got, 6);
  for (i = 0; i < 3; ++i)
    for (j = 0; j < 2; ++j) {
      float s = b[j];
      for (k = 0; k < 4; ++k) s += x[i * 4 + k] * w[j * 4 + k];
      ref[i * 2 + j] = s;
    }
  CHECK(close_to(got, ref, 6));
  OK(mx_executor_backward(ex, 1, &ograd));
  read_f32(grads[0], got, 12); /* dx = og W */
  for (i = 0; i < 3; ++i)
    for (k = 0; k < 4; ++k) {
      float s = 0;
      for (j = 0; j < 2; ++j) s += og[i * 2 + j] * w[j * 4 + k];
      ref[i * 4 + k] = s;
    }
  CHECK(close_to(got, ref, 12));
  read_f32(grads[1], got, 8); /* dW = 1 + og^T x */
  for (j = 0; j < 2; ++j)
    for (k = 0; k < 4; ++k) {
      float s = 1.0f;
      for (i = 0; i < 3; ++i) s += og[i * 2 + j] * x[i * 4 + k];
      ref[j * 4 + k] = s;
    }
  CHECK(close_to(got, ref, 8));
  mx_ndarray* g2 = SENTINEL_PTR(mx_ndarray*);
  OK(mx_executor_get(ex, 1, 2, &g2));
  CHECK(g2 == NULL); /* req null */
  size_t planned = 0, naive = 0;
  OK(mx_executor_memory(ex, &planned, &naive));
  CHECK(planned <= naive);
  mx_ndarray_free(out);

  section("simple_bind");
  mx_executor* sb = NULL;
  const char* skeys[1] = {"data"};
  int nd[1] = {2};
  int64_t dims[2] = {5, 4};
  OK(mx_executor_simple_bind(fc, MX_CPU, 0, 1, skeys, nd, dims, 0, NULL, NULL, 0, NULL, NULL, 0, &sb));
  OK(mx_executor_num(sb, 0, &n));
  CHECK(n == 3);
  OK(mx_executor_forward(sb, 0));
  OK(mx_executor_get(sb, 3, 0, &out));
  int ndim = 0;
  const int64_t* shp = NULL;
  OK(mx_ndarray_shape(out, &ndim, &shp));
  CHECK(ndim == 2 && shp[0] == 5 && shp[1] == 2);
  mx_ndarray_free(out);
  mx_executor_free(sb);

  section("cached op");
  mx_cached_op* op = NULL;
  const char* fk[1] = {"static_alloc"};
  const char* fv[1] = {"true"};
  OK(mx_cached_op_create(fc, 1, fk, fv, 0, &op));
  mx_ndarray_list* outs = NULL;
  FAILS(mx_cached_op_invoke(op, 1, args, &outs), MX_ERR_INVALID_ARGUMENT, "fc_weight", NULL);
  OK(mx_cached_op_invoke(op, 3, args, &outs));
  OK(mx_ndarray_list_size(outs, &n));
  CHECK(n == 1);
  OK(mx_ndarray_list_get(outs, 0, &out, NULL));
  read_f32(out, got, 6);
  for (i = 0; i < 3; ++i)
    for (j = 0; j < 2; ++j) {
      float s = b[j];
      for (k = 0; k < 4; ++k) s += x[i * 4 + k] * w[j * 4 + k];
      ref[i * 2 + j] = s;
    }
  CHECK(close_to(got, ref, 6));
  mx_ndarray_free(out);
  mx_ndarray_list_free(outs);
  const char* bad[1] = {"bulk"};
  FAILS(mx_cached_op_create(fc, 1, bad, fv, 0, &op), MX_ERR_INVALID_ARGUMENT, "bulk", NULL);
  mx_cached_op_free(op);
  mx_cached_op_free(NULL);

  section("freed handles");
  mx_executor_free(ex);
  FAILS(mx_executor_forward(ex, 0), MX_ERR_HANDLE, NULL, NULL);
  FAILS(mx_executor_forward(NULL, 0), MX_ERR_HANDLE, NULL, NULL);
  mx_executor_free(NULL);

  for (i = 0; i < 3; ++i) {
    mx_ndarray_free(args[i]);
    mx_ndarray_free(grads[i]);
  }
  mx_ndarray_free(ograd);
  mx_symbol_free(fc);
  mx_symbol_free(data);
  return summary();
}
