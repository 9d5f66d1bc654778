/* C ABI tests of user-defined autograd functions (mx_autograd_record_function): a function
 * y = 2x computed by the caller with recording paused, whose backward callback doubles the output
 * gradient. Checks the gradient, that release runs exactly once (when the node is freed, or at
 * once when nothing is recorded), that a failing callback turns into an error of backward naming
 * the function and quoting its message, and that the library keeps working afterwards. */
#include <stdio.h>
#include <string.h>

#include "check.h"

struct fn_state {
  int backward_calls;
  int released;
  int fail;            /* the callback reports an error */
  int ograd_count;     /* what the callback saw */
  int igrad_count;
  int output_ok;
  const float* expect_y; /* the function's output, as the callback should see it */
  size_t n;
};

static int double_backward(void* user_data, int num_outputs, mx_ndarray* const* outputs, mx_ndarray* const* ograds,
                           int num_igrads, mx_ndarray** igrads, char* err, size_t err_len) {
  struct fn_state* st = (struct fn_state*)user_data;
  const char* keys[] = {"scalar"};
  const char* vals[] = {"2"};
  int nout = 1;
  mx_ndarray* out[1] = {NULL};
  st->backward_calls++;
  st->ograd_count = num_outputs;
  /* The outputs come back: y = 2x of the recorded call. */
  st->output_ok = num_outputs == 1 && outputs[0] != NULL && f32_equals(outputs[0], st->expect_y, st->n, 0);
  st->igrad_count = num_igrads;
  if (st->fail) {
    snprintf(err, err_len, "the test asked this backward to fail");
    return MX_ERR_INVALID_ARGUMENT;
  }
  if (num_outputs != 1 || num_igrads != 1 || igrads[0] != NULL) {
    snprintf(err, err_len, "unexpected arity");
    return MX_ERR_INTERNAL;
  }
  /* dL/dx = 2 * dL/dy, computed with an ordinary op; libmx takes the new handle over. */
  if (mx_op_invoke_by_name("_mul_scalar", 1, keys, vals, 1, ograds, &nout, out) != MX_OK) {
    snprintf(err, err_len, "%s", mx_last_error());
    return mx_last_status();
  }
  igrads[0] = out[0];
  return MX_OK;
}

static void release_state(void* user_data) { ((struct fn_state*)user_data)->released++; }

/* y = 2x with recording paused, then recorded as one function node. NULL on failure. */
static mx_ndarray* call_double(mx_ndarray* x, struct fn_state* st, int expect_ok) {
  const char* keys[] = {"scalar"};
  const char* vals[] = {"2"};
  int nout = 1, prev = 0, rc;
  mx_ndarray* y[1] = {NULL};
  OK(mx_autograd_set_recording(0, &prev));
  OK(mx_op_invoke_by_name("_mul_scalar", 1, keys, vals, 1, &x, &nout, y));
  OK(mx_autograd_set_recording(prev, NULL));
  rc = mx_autograd_record_function("Double", 1, &x, 1, y, double_backward, st, release_state);
  if (expect_ok) OK(rc);
  return y[0];
}

static void test_gradient(void) {
  const int64_t shape[] = {2, 3};
  const float xv[] = {1, -2, 3, 0.5f, 0, -1};
  const float yv[] = {2, -4, 6, 1, 0, -2};
  /* L = sum(y * y) with y = 2x: dL/dy = 2y = 4x, dL/dx = 8x. */
  float want[6];
  struct fn_state st;
  mx_ndarray *x, *gx = NULL, *y, *yy = NULL, *g = NULL;
  mx_ndarray* in2[2];
  int nout = 1, i, req = 1;
  section("gradient through a C function");
  memset(&st, 0, sizeof st);
  st.expect_y = yv;
  st.n = 6;
  for (i = 0; i < 6; ++i) want[i] = 8 * xv[i];
  x = make_f32(shape, 2, xv);
  gx = make_f32(shape, 2, NULL);
  if (!x || !gx) return;
  OK(mx_autograd_mark_variables(1, &x, &req, &gx));
  OK(mx_autograd_set_recording(1, NULL));
  y = call_double(x, &st, 1);
  CHECK(f32_equals(y, yv, 6, 0));
  in2[0] = y;
  in2[1] = y;
  OK(mx_op_invoke_by_name("elemwise_mul", 0, NULL, NULL, 2, in2, &nout, &yy));
  OK(mx_autograd_set_recording(0, NULL));
  CHECK(st.released == 0);
  OK(mx_autograd_backward(1, &yy, NULL, 0, 0, 1));
  CHECK(st.backward_calls == 1);
  CHECK(st.ograd_count == 1 && st.igrad_count == 1);
  CHECK(st.output_ok);
  OK(mx_ndarray_get_grad(x, &g));
  CHECK(f32_equals(g, want, 6, 1e-5f));
  /* backward without retain_graph frees the node: the state is released then, once. */
  CHECK(st.released == 1);
  mx_ndarray_free(g);
  mx_ndarray_free(yy);
  mx_ndarray_free(y);
  CHECK(st.released == 1);

  /* Kept graph: released when the last array of the graph dies. */
  memset(&st, 0, sizeof st);
  st.expect_y = yv;
  st.n = 6;
  OK(mx_autograd_set_recording(1, NULL));
  y = call_double(x, &st, 1);
  OK(mx_autograd_set_recording(0, NULL));
  OK(mx_autograd_backward(1, &y, NULL, 1, 0, 1));
  OK(mx_autograd_backward(1, &y, NULL, 1, 0, 1));
  CHECK(st.backward_calls == 2);
  for (i = 0; i < 6; ++i) want[i] = 2;
  g = NULL;
  OK(mx_ndarray_get_grad(x, &g));
  CHECK(f32_equals(g, want, 6, 0));
  mx_ndarray_free(g);
  CHECK(st.released == 0);
  mx_ndarray_free(y);
  CHECK(st.released == 1);

  /* Not recording: nothing is recorded and the state is released before the call returns. */
  memset(&st, 0, sizeof st);
  st.expect_y = yv;
  st.n = 6;
  y = call_double(x, &st, 1);
  CHECK(st.released == 1);
  CHECK(f32_equals(y, yv, 6, 0));
  mx_ndarray_free(y);
  mx_ndarray_free(gx);
  mx_ndarray_free(x);
}

static void test_errors(void) {
  const int64_t shape[] = {3};
  const float xv[] = {1, 2, 3};
  const float yv[] = {2, 4, 6};
  struct fn_state st;
  mx_ndarray *x, *gx, *y, *g = NULL;
  int req = 1;
  section("errors");
  memset(&st, 0, sizeof st);
  st.expect_y = yv;
  st.n = 3;
  x = make_f32(shape, 1, xv);
  gx = make_f32(shape, 1, NULL);
  if (!x || !gx) return;
  OK(mx_autograd_mark_variables(1, &x, &req, &gx));
  OK(mx_autograd_set_recording(1, NULL));
  /* Bad arguments take nothing: release is not called. */
  FAILS(mx_autograd_record_function("Double", 1, &x, 1, &x, double_backward, &st, release_state),
        MX_ERR_INVALID_ARGUMENT, "Double", "input");
  FAILS(mx_autograd_record_function("Double", 1, &x, 1, &x, NULL, &st, release_state), MX_ERR_INVALID_ARGUMENT,
        "callback", NULL);
  FAILS(mx_autograd_record_function("Double", 1, &x, 0, NULL, double_backward, &st, release_state),
        MX_ERR_INVALID_ARGUMENT, "output", NULL);
  CHECK(st.released == 0);

  st.fail = 1;
  y = call_double(x, &st, 1);
  OK(mx_autograd_set_recording(0, NULL));
  FAILS(mx_autograd_backward(1, &y, NULL, 1, 0, 1), MX_ERR_INVALID_ARGUMENT, "Double",
        "the test asked this backward to fail");
  CHECK(st.backward_calls == 1);
  /* The library keeps working: the same graph succeeds once the callback does. */
  st.fail = 0;
  OK(mx_autograd_backward(1, &y, NULL, 0, 0, 1));
  OK(mx_ndarray_get_grad(x, &g));
  {
    float want[3] = {2, 2, 2};
    CHECK(f32_equals(g, want, 3, 0));
  }
  CHECK(st.released == 1);
  mx_ndarray_free(g);
  mx_ndarray_free(y);
  mx_ndarray_free(gx);
  mx_ndarray_free(x);
  CHECK(st.released == 1);
}

int main(void) {
  test_gradient();
  test_errors();
  return summary();
}
