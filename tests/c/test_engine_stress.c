/* Engine stress through the C ABI: many short-lived arrays whose last handle is freed right after a
 * wait, with every op handed to worker threads (MX_ENGINE_INLINE=0 is set here unless the caller
 * set it), so that the waiting thread and the worker race on the same engine variable. Covers the
 * error path too (a kernel that fails, then a wait that rethrows, then a free). A watchdog alarm
 * turns a hang into a failure with a message instead of a stuck test run. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { ROUNDS = 10000, WATCHDOG_S = 60 };

static void on_alarm(int sig) {
  static const char msg[] = "FAIL: engine stress did not finish in time (deadlock?)\n0 passed, 1 failed\n";
  (void)sig;
  if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
  _exit(2);
}

/* take(mode=raise) with an index out of range: the kernel throws on a worker. */
static void failing_round(const char* const* keys, const char* const* vals, int* bad) {
  const int64_t s3[1] = {3}, s2[1] = {2};
  const float d[3] = {1, 2, 3}, ix[2] = {0, 5};
  mx_ndarray *a = make_f32(s3, 1, d), *b = make_f32(s2, 1, ix);
  mx_ndarray* in[2];
  mx_ndarray* out[1] = {NULL};
  int n = 1, rc;
  in[0] = a;
  in[1] = b;
  rc = mx_op_invoke_by_name("take", 1, keys, vals, 2, in, &n, out);
  if (rc == MX_OK) {
    if (mx_ndarray_wait_to_read(out[0]) != MX_ERR_INDEX) ++*bad;
    mx_ndarray_free(out[0]);
  } else if (rc != MX_ERR_INDEX) {
    ++*bad;
  }
  mx_ndarray_free(a);
  mx_ndarray_free(b);
  if (mx_wait_all() != MX_ERR_INDEX && rc == MX_OK) ++*bad;
}

/* A chain on a fresh array, waited on and freed at once. */
static void plain_round(int* bad) {
  const int64_t s[1] = {64};
  float v[64], got[64];
  mx_ndarray *a, *t = NULL;
  mx_ndarray* in[2];
  mx_ndarray* out[1];
  int i, n = 1;
  for (i = 0; i < 64; ++i) v[i] = (float)i;
  a = make_f32(s, 1, v);
  if (!a) {
    ++*bad;
    return;
  }
  in[0] = a;
  in[1] = a;
  out[0] = NULL;
  if (mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, &n, out) != MX_OK) {
    ++*bad;
  } else {
    t = out[0];
    in[0] = t;
    in[1] = a;
    out[0] = t; /* t += a, in place */
    if (mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, &n, out) != MX_OK) ++*bad;
    mx_ndarray_free(a); /* the pending ops keep its storage */
    if (mx_ndarray_wait_to_read(t) != MX_OK || mx_ndarray_copy_to_host(t, got, sizeof got) != MX_OK) {
      ++*bad;
    } else {
      for (i = 0; i < 64; ++i)
        if (got[i] != 3.0f * (float)i) {
          ++*bad;
          break;
        }
    }
    mx_ndarray_free(t);
    return;
  }
  mx_ndarray_free(a);
}

int main(void) {
  const char* keys[1] = {"mode"};
  const char* vals[1] = {"raise"};
  const mx_op* take = NULL;
  int i, bad_fail = 0, bad_plain = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!getenv("MX_ENGINE_INLINE")) setenv("MX_ENGINE_INLINE", "0", 1); /* before the engine starts */
  signal(SIGALRM, on_alarm);
  alarm(WATCHDOG_S);

  section("wait, then free at once: plain ops");
  for (i = 0; i < ROUNDS; ++i) plain_round(&bad_plain);
  CHECK(bad_plain == 0);
  OK(mx_wait_all());

  section("wait, then free at once: ops that fail on a worker");
  if (OK(mx_op_find("take", &take))) {
    for (i = 0; i < ROUNDS; ++i) failing_round(keys, vals, &bad_fail);
    CHECK(bad_fail == 0);
  }
  OK(mx_wait_all());
  alarm(0);
  return summary();
}
