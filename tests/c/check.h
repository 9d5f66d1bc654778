/* A tiny check harness for the C ABI tests (plain C99, header only: each test_*.c is one program).
 *
 *   OK(call)                          the call returns MX_OK
 *   FAILS(call, code, "a", "b")       the call returns code, mx_last_status() agrees, and
 *                                     mx_last_error() mentions each non-NULL needle
 *   FAILS_ANY(call, c1, c2, needle)   as FAILS where the header allows either of two codes
 *   CHECK(cond)                       a plain condition
 *
 * Needles are compared case-insensitively with whitespace removed on both sides, so "(2,3)"
 * matches "(2, 3)". Each program ends with `return summary();`, which prints "N passed, M failed"
 * and returns non-zero when anything failed.
 */
#ifndef MX_TESTS_C_CHECK_H_
#define MX_TESTS_C_CHECK_H_

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx/c_api.h"

static int g_passed = 0;
static int g_failed = 0;
static const char* g_section = "";

static void section(const char* name) {
  g_section = name;
  printf("-- %s\n", name);
  fflush(stdout);
}

static void fail_here(const char* file, int line, const char* what, const char* detail) {
  ++g_failed;
  fprintf(stderr, "FAIL [%s] %s:%d: %s%s%s\n", g_section, file, line, what, detail ? "\n      " : "",
          detail ? detail : "");
  fflush(stderr);
}

static int check_impl(int cond, const char* expr, const char* file, int line) {
  if (cond) {
    ++g_passed;
    return 1;
  }
  fail_here(file, line, expr, NULL);
  return 0;
}
#define CHECK(cond) check_impl((cond) ? 1 : 0, #cond, __FILE__, __LINE__)

static int ok_impl(int rc, const char* expr, const char* file, int line) {
  char buf[1024];
  if (rc == MX_OK) {
    ++g_passed;
    return 1;
  }
  snprintf(buf, sizeof buf, "status %d: %s", rc, mx_last_error());
  fail_here(file, line, expr, buf);
  return 0;
}
#define OK(call) ok_impl((call), #call, __FILE__, __LINE__)

/* Lower-cased copy of s without whitespace, into out (size n). */
static void squash(const char* s, char* out, size_t n) {
  size_t j = 0;
  for (; s && *s && j + 1 < n; ++s)
    if (!isspace((unsigned char)*s)) out[j++] = (char)tolower((unsigned char)*s);
  out[j] = 0;
}

static int message_has(const char* msg, const char* needle) {
  static char m[4096], n[512];
  if (!needle) return 1;
  squash(msg, m, sizeof m);
  squash(needle, n, sizeof n);
  return strstr(m, n) != NULL;
}

static int fails_impl(int rc, int code1, int code2, const char* n1, const char* n2, const char* expr,
                      const char* file, int line) {
  char buf[2048];
  const char* msg = mx_last_error();
  int status = mx_last_status();
  if (rc == MX_OK) {
    snprintf(buf, sizeof buf, "expected status %d, the call succeeded", code1);
    fail_here(file, line, expr, buf);
    return 0;
  }
  if (rc != code1 && rc != code2) {
    snprintf(buf, sizeof buf, "expected status %d, got %d: %s", code1, rc, msg ? msg : "(null)");
    fail_here(file, line, expr, buf);
    return 0;
  }
  if (status != rc) {
    snprintf(buf, sizeof buf, "returned %d but mx_last_status() is %d", rc, status);
    fail_here(file, line, expr, buf);
    return 0;
  }
  if (!msg || !*msg) {
    fail_here(file, line, expr, "empty error message");
    return 0;
  }
  if (!message_has(msg, n1) || !message_has(msg, n2)) {
    snprintf(buf, sizeof buf, "message should mention '%s'%s%s%s: %s", n1 ? n1 : "",
             n2 ? " and '" : "", n2 ? n2 : "", n2 ? "'" : "", msg);
    fail_here(file, line, expr, buf);
    return 0;
  }
  ++g_passed;
  return 1;
}
#define FAILS(call, code, n1, n2) fails_impl((call), (code), (code), (n1), (n2), #call, __FILE__, __LINE__)
#define FAILS_ANY(call, c1, c2, n1) fails_impl((call), (c1), (c2), (n1), NULL, #call, __FILE__, __LINE__)

/* A pointer value no allocator returns: out-parameters are preset to it to prove they were not
 * written on failure. */
#define SENTINEL_PTR(T) ((T)(uintptr_t)0x5EEDu)

static int summary(void) {
  printf("%d passed, %d failed\n", g_passed, g_failed);
  fflush(stdout);
  return g_failed ? 1 : 0;
}

/* ---------------------------------------------------------------- small helpers */

/* A float32 array of the given shape filled from vals (may be NULL: left uninitialised). NULL on
 * failure (recorded as a failed check). */
static mx_ndarray* make_f32(const int64_t* shape, int ndim, const float* vals) {
  mx_ndarray* a = NULL;
  size_t n = 1;
  int i;
  for (i = 0; i < ndim; ++i) n *= (size_t)shape[i];
  if (!OK(mx_ndarray_create(shape, ndim, MX_FLOAT32, MX_CPU, 0, &a))) return NULL;
  if (vals && !OK(mx_ndarray_copy_from_host(a, vals, n * sizeof(float)))) {
    mx_ndarray_free(a);
    return NULL;
  }
  return a;
}

/* Number of elements of an array (-1 on failure). */
static int64_t array_size(const mx_ndarray* a) {
  int ndim = 0, i;
  const int64_t* shape = NULL;
  int64_t n = 1;
  if (mx_ndarray_shape(a, &ndim, &shape) != MX_OK) return -1;
  for (i = 0; i < ndim; ++i) n *= shape[i];
  return n;
}

/* True when a has exactly this shape. */
static int has_shape(const mx_ndarray* a, const int64_t* want, int ndim) {
  int got_ndim = -1, i;
  const int64_t* got = NULL;
  if (!a || mx_ndarray_shape(a, &got_ndim, &got) != MX_OK || got_ndim != ndim) return 0;
  for (i = 0; i < ndim; ++i)
    if (got[i] != want[i]) return 0;
  return 1;
}

/* Compares n floats read from a float32 array with want, within tol. */
static int f32_equals(mx_ndarray* a, const float* want, size_t n, float tol) {
  float* got;
  size_t i;
  int ok = 1;
  if (!a || array_size(a) != (int64_t)n) return 0;
  got = (float*)malloc(n * sizeof(float) + 1);
  if (mx_ndarray_copy_to_host(a, got, n * sizeof(float)) != MX_OK) {
    free(got);
    return 0;
  }
  for (i = 0; i < n; ++i) {
    float d = got[i] - want[i];
    if (d < 0) d = -d;
    if (!(d <= tol)) {
      fprintf(stderr, "      element %lu: got %g, want %g\n", (unsigned long)i, got[i], want[i]);
      ok = 0;
      break;
    }
  }
  free(got);
  return ok;
}

#endif /* MX_TESTS_C_CHECK_H_ */
