/* Bad input to the NN ops over the C ABI: each call returns the right status with a message that
 * names the problem, leaves its output slots untouched, and a valid call afterwards succeeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* An array of ones (float32 unless dtype says otherwise). NULL on failure. */
static mx_ndarray* ones(const int64_t* shape, int ndim, int dtype) {
  mx_ndarray* a = NULL;
  size_t n = 1, i;
  int k;
  for (k = 0; k < ndim; ++k) n *= (size_t)shape[k];
  if (!OK(mx_ndarray_create(shape, ndim, dtype, MX_CPU, 0, &a))) return NULL;
  if (dtype == MX_FLOAT64) {
    double* v = (double*)malloc(n * sizeof(double) + 1);
    for (i = 0; i < n; ++i) v[i] = 1.0;
    OK(mx_ndarray_copy_from_host(a, v, n * sizeof(double)));
    free(v);
  } else {
    float* v = (float*)malloc(n * sizeof(float) + 1);
    for (i = 0; i < n; ++i) v[i] = 1.0f;
    OK(mx_ndarray_copy_from_host(a, v, n * sizeof(float)));
    free(v);
  }
  return a;
}

#define MAX_IN 5
struct call {
  const char* op;
  int nparams;
  const char* keys[8];
  const char* vals[8];
  int nin;
  mx_ndarray* in[MAX_IN];
};

/* Invokes c; on failure checks that the output slot stayed NULL. Returns the status. */
static int run(const struct call* c) {
  mx_ndarray* out[3] = {NULL, NULL, NULL};
  int nout = 3, rc, i;
  rc = mx_op_invoke_by_name(c->op, c->nparams, c->keys, c->vals, c->nin, c->in, &nout, out);
  if (rc == MX_OK) {
    for (i = 0; i < nout; ++i) {
      if (mx_ndarray_wait_to_read(out[i]) != MX_OK) rc = mx_last_status();
      mx_ndarray_free(out[i]);
    }
  } else {
    CHECK(out[0] == NULL && out[1] == NULL && out[2] == NULL);
  }
  return rc;
}

/* A valid FullyConnected: ones(2,3) x ones(4,3)^T + 0 = 3 everywhere. */
static void valid_call_works(void) {
  const int64_t xs[] = {2, 3}, ws[] = {4, 3}, bs[] = {4};
  const float want[8] = {3, 3, 3, 3, 3, 3, 3, 3};
  const char* keys[] = {"num_hidden"};
  const char* vals[] = {"4"};
  mx_ndarray *x = ones(xs, 2, MX_FLOAT32), *w = ones(ws, 2, MX_FLOAT32), *b = ones(bs, 1, MX_FLOAT32);
  mx_ndarray* in[3];
  mx_ndarray* out = NULL;
  int nout = 1;
  const char* z_keys[] = {"scalar"};
  const char* z_vals[] = {"0"};
  mx_ndarray* bz = NULL;
  int nz = 1;
  if (!x || !w || !b) return;
  OK(mx_op_invoke_by_name("_mul_scalar", 1, z_keys, z_vals, 1, &b, &nz, &bz));
  in[0] = x;
  in[1] = w;
  in[2] = bz;
  if (OK(mx_op_invoke_by_name("FullyConnected", 1, keys, vals, 3, in, &nout, &out))) CHECK(f32_equals(out, want, 8, 0));
  mx_ndarray_free(out);
  mx_ndarray_free(bz);
  mx_ndarray_free(x);
  mx_ndarray_free(w);
  mx_ndarray_free(b);
}

static void free_call(struct call* c) {
  int i;
  for (i = 0; i < c->nin; ++i) mx_ndarray_free(c->in[i]);
}

/* Runs a call expected to fail with code and the two needles, frees its inputs, then checks that
 * a valid call still works. */
#define EXPECT(c, code, n1, n2)                                   \
  do {                                                            \
    FAILS(run(&(c)), code, n1, n2);                               \
    free_call(&(c));                                              \
    valid_call_works();                                           \
  } while (0)

static const int64_t DATA[] = {2, 3, 8, 8};

static struct call conv(const int64_t* wshape, const int64_t* bshape, const char* num_filter) {
  struct call c;
  memset(&c, 0, sizeof c);
  c.op = "Convolution";
  c.nparams = 2;
  c.keys[0] = "kernel";
  c.vals[0] = "(3,3)";
  c.keys[1] = "num_filter";
  c.vals[1] = num_filter;
  c.nin = 3;
  c.in[0] = ones(DATA, 4, MX_FLOAT32);
  c.in[1] = ones(wshape, 4, MX_FLOAT32);
  c.in[2] = ones(bshape, 1, MX_FLOAT32);
  return c;
}

static void test_convolution(void) {
  const int64_t w_bad_c[] = {4, 5, 3, 3}, w_ok[] = {4, 3, 3, 3}, w_big[] = {4, 3, 11, 11}, w_g[] = {4, 1, 3, 3};
  const int64_t b4[] = {4}, b5[] = {5};
  struct call c;
  section("Convolution");
  c = conv(w_bad_c, b4, "4");
  EXPECT(c, MX_ERR_SHAPE, "weight", "(4,5,3,3)");

  c = conv(w_big, b4, "4");
  c.vals[0] = "(11,11)";
  EXPECT(c, MX_ERR_SHAPE, "kernel", "exceeds the padded input");

  c = conv(w_ok, b5, "4");
  EXPECT(c, MX_ERR_SHAPE, "bias", "(5,)");

  c = conv(w_g, b4, "4");
  c.keys[2] = "num_group";
  c.vals[2] = "2";
  c.nparams = 3;
  EXPECT(c, MX_ERR_SHAPE, "num_group=2", "divisible");

  c = conv(w_ok, b4, "4");
  c.keys[2] = "layout";
  c.vals[2] = "XYZW";
  c.nparams = 3;
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "layout", "XYZW");

  c = conv(w_ok, b4, "4");
  c.keys[2] = "stride";
  c.vals[2] = "(0,0)";
  c.nparams = 3;
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "stride", NULL);

  /* The same inputs with a valid geometry run. */
  c = conv(w_ok, b4, "4");
  OK(run(&c));
  free_call(&c);
}

static void test_fully_connected(void) {
  const int64_t xs[] = {2, 5}, w_bad[] = {3, 4}, w_ok[] = {3, 5}, b3[] = {3}, b4[] = {4};
  struct call c;
  section("FullyConnected");
  memset(&c, 0, sizeof c);
  c.op = "FullyConnected";
  c.nparams = 1;
  c.keys[0] = "num_hidden";
  c.vals[0] = "3";
  c.nin = 3;
  c.in[0] = ones(xs, 2, MX_FLOAT32);
  c.in[1] = ones(w_bad, 2, MX_FLOAT32);
  c.in[2] = ones(b3, 1, MX_FLOAT32);
  EXPECT(c, MX_ERR_SHAPE, "weight", "(3,4)");

  c.in[0] = ones(xs, 2, MX_FLOAT32);
  c.in[1] = ones(w_ok, 2, MX_FLOAT32);
  c.in[2] = ones(b4, 1, MX_FLOAT32);
  EXPECT(c, MX_ERR_SHAPE, "bias", "(4,)");

  c.in[0] = ones(xs, 2, MX_FLOAT32);
  c.in[1] = ones(w_ok, 2, MX_FLOAT64);
  c.in[2] = ones(b3, 1, MX_FLOAT32);
  EXPECT(c, MX_ERR_DTYPE, "FullyConnected", "float64");
}

static void test_batch_norm(void) {
  const int64_t g4[] = {4}, c3[] = {3};
  struct call c;
  int which;
  const char* names[] = {"gamma", "beta", "moving_mean", "moving_var"};
  section("BatchNorm");
  for (which = 0; which < 4; ++which) {
    int k;
    memset(&c, 0, sizeof c);
    c.op = "BatchNorm";
    c.nin = 5;
    c.in[0] = ones(DATA, 4, MX_FLOAT32);
    for (k = 1; k < 5; ++k) c.in[k] = ones(k - 1 == which ? g4 : c3, 1, MX_FLOAT32);
    EXPECT(c, MX_ERR_SHAPE, names[which], "(4,)");
  }
  memset(&c, 0, sizeof c);
  c.op = "BatchNorm";
  c.nin = 5;
  c.in[0] = ones(DATA, 4, MX_FLOAT32);
  {
    int k;
    for (k = 1; k < 5; ++k) c.in[k] = ones(c3, 1, MX_FLOAT32);
  }
  c.nparams = 1;
  c.keys[0] = "axis";
  c.vals[0] = "7";
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "axis 7", "out of range");
}

static void test_enums_and_pooling(void) {
  struct call c;
  section("enums and Pooling");
  memset(&c, 0, sizeof c);
  c.op = "Activation";
  c.nparams = 1;
  c.keys[0] = "act_type";
  c.vals[0] = "foo";
  c.nin = 1;
  c.in[0] = ones(DATA, 4, MX_FLOAT32);
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "act_type", "foo");

  memset(&c, 0, sizeof c);
  c.op = "Pooling";
  c.nparams = 2;
  c.keys[0] = "kernel";
  c.vals[0] = "(2,2)";
  c.keys[1] = "pool_type";
  c.vals[1] = "foo";
  c.nin = 1;
  c.in[0] = ones(DATA, 4, MX_FLOAT32);
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "pool_type", "foo");

  c.in[0] = ones(DATA, 4, MX_FLOAT32);
  c.keys[1] = "layout";
  c.vals[1] = "ABCD";
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "layout", "ABCD");

  c.in[0] = ones(DATA, 4, MX_FLOAT32);
  c.vals[0] = "(9,9)";
  c.keys[1] = "pool_type";
  c.vals[1] = "max";
  EXPECT(c, MX_ERR_SHAPE, "kernel=(9,9)", "exceeds");

  c.in[0] = ones(DATA, 4, MX_FLOAT32);
  c.vals[0] = "(2,2)";
  OK(run(&c));
  free_call(&c);
}

static void test_embedding_and_softmax(void) {
  const int64_t idx_shape[] = {3}, w_shape[] = {10, 4}, x_shape[] = {2, 3};
  struct call c;
  section("Embedding and softmax");
  memset(&c, 0, sizeof c);
  c.op = "Embedding";
  c.nparams = 2;
  c.keys[0] = "input_dim";
  c.vals[0] = "10";
  c.keys[1] = "output_dim";
  c.vals[1] = "5";
  c.nin = 2;
  c.in[0] = ones(idx_shape, 1, MX_FLOAT32);
  c.in[1] = ones(w_shape, 2, MX_FLOAT32);
  EXPECT(c, MX_ERR_SHAPE, "Embedding", "(10,5)");

  memset(&c, 0, sizeof c);
  c.op = "softmax";
  c.nparams = 1;
  c.keys[0] = "axis";
  c.vals[0] = "2";
  c.nin = 1;
  c.in[0] = ones(x_shape, 2, MX_FLOAT32);
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "axis 2", "out of range");

  c.in[0] = ones(x_shape, 2, MX_FLOAT32);
  c.vals[0] = "-3";
  EXPECT(c, MX_ERR_INVALID_ARGUMENT, "axis -3", "out of range");

  c.in[0] = ones(x_shape, 2, MX_FLOAT32);
  c.vals[0] = "-1";
  OK(run(&c));
  free_call(&c);
}

int main(void) {
  test_convolution();
  test_fully_connected();
  test_batch_norm();
  test_enums_and_pooling();
  test_embedding_and_softmax();
  return summary();
}
