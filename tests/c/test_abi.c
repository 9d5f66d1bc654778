/* C ABI tests, part 1: library info, NDArray creation, host copies, views, wrapped memory and
 * storage statistics. Every call goes through include/mx/c_api.h only; expected values are
 * computed here. Each error path checks the status code, mx_last_status(), a message that names
 * the problem, and that out-parameters were left untouched. Save/load and DLPack are in
 * test_abi_io.c, the registry and ops in test_abi_ops.c. ctest runs each under both engines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int g_built_with_cuda = 0;

/* ================================================================ library */
static void test_library(void) {
  const char* v = SENTINEL_PTR(const char*);
  const char* keys[] = {"version", "cuda", "blas", "openmp", "engine", "num_threads"};
  const char* env = getenv("MX_ENGINE_TYPE");
  size_t i;
  int n = -1;
  section("library");
  /* Before any failure: no error recorded on this thread. */
  CHECK(mx_last_error() != NULL);
  CHECK(mx_last_status() == MX_OK);
  CHECK(mx_abi_version() == MX_ABI_VERSION);
  for (i = 0; i < sizeof keys / sizeof keys[0]; ++i) {
    v = NULL;
    if (OK(mx_lib_info(keys[i], &v))) CHECK(v != NULL && v[0] != 0);
  }
  if (OK(mx_lib_info("cuda", &v))) {
    CHECK(strcmp(v, "0") == 0 || strcmp(v, "1") == 0);
    g_built_with_cuda = strcmp(v, "1") == 0;
  }
  if (OK(mx_lib_info("engine", &v))) {
    CHECK(strcmp(v, "ThreadedEngine") == 0 || strcmp(v, "NaiveEngine") == 0);
    if (env && strcmp(env, "NaiveEngine") == 0) CHECK(strcmp(v, "NaiveEngine") == 0);
    if (env && strcmp(env, "ThreadedEngine") == 0) CHECK(strcmp(v, "ThreadedEngine") == 0);
  }
  if (OK(mx_lib_info("num_threads", &v))) CHECK(atoi(v) >= 1);
  if (OK(mx_gpu_count(&n))) {
    CHECK(n >= 0);
    if (!g_built_with_cuda) CHECK(n == 0);
  }
  v = SENTINEL_PTR(const char*);
  FAILS(mx_lib_info("no_such_key", &v), MX_ERR_NOT_FOUND, "no_such_key", NULL);
  CHECK(v == SENTINEL_PTR(const char*));
  FAILS(mx_lib_info(NULL, &v), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  FAILS(mx_lib_info("version", NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  FAILS(mx_gpu_count(NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  /* The message stays until the next failing call, even across successful calls. */
  FAILS(mx_lib_info("another_bad_key", &v), MX_ERR_NOT_FOUND, "another_bad_key", NULL);
  OK(mx_lib_info("version", &v));
  CHECK(message_has(mx_last_error(), "another_bad_key"));
}

/* ================================================================ create, inspect, copy */
struct dtype_case {
  int flag;
  size_t itemsize;
};
static const struct dtype_case kDTypes[] = {
    {MX_FLOAT32, 4}, {MX_FLOAT64, 8}, {MX_FLOAT16, 2}, {MX_UINT8, 1},    {MX_INT32, 4},
    {MX_INT8, 1},    {MX_INT64, 8},   {MX_BOOL, 1},    {MX_BFLOAT16, 2},
};
#define NUM_DTYPES (sizeof kDTypes / sizeof kDTypes[0])

static void test_create(void) {
  const int64_t shape[3] = {2, 3, 4};
  unsigned char src[24 * 8], dst[24 * 8];
  size_t i, k;
  section("create and copy, every dtype");
  for (k = 0; k < NUM_DTYPES; ++k) {
    mx_ndarray* a = NULL;
    int ndim = -1, dtype = -1, dev_type = -1, dev_id = -1;
    const int64_t* got = NULL;
    void* data = NULL;
    size_t nbytes = 24 * kDTypes[k].itemsize;
    if (!OK(mx_ndarray_create(shape, 3, kDTypes[k].flag, MX_CPU, 0, &a))) continue;
    CHECK(a != NULL);
    if (OK(mx_ndarray_shape(a, &ndim, &got)))
      CHECK(ndim == 3 && got[0] == 2 && got[1] == 3 && got[2] == 4);
    if (OK(mx_ndarray_dtype(a, &dtype))) CHECK(dtype == kDTypes[k].flag);
    if (OK(mx_ndarray_device(a, &dev_type, &dev_id))) CHECK(dev_type == MX_CPU && dev_id == 0);
    /* bool bytes must be 0/1; other dtypes take any pattern. */
    for (i = 0; i < nbytes; ++i)
      src[i] = kDTypes[k].flag == MX_BOOL ? (unsigned char)(i % 3 == 0) : (unsigned char)(i * 7 + k);
    memset(dst, 0xAB, sizeof dst);
    OK(mx_ndarray_copy_from_host(a, src, nbytes));
    OK(mx_ndarray_copy_to_host(a, dst, nbytes));
    CHECK(memcmp(src, dst, nbytes) == 0);
    if (OK(mx_ndarray_data(a, &data))) CHECK(data != NULL && memcmp(data, src, nbytes) == 0);
    /* Wrong byte counts: both directions, destination untouched. */
    memset(dst, 0xAB, sizeof dst);
    FAILS(mx_ndarray_copy_to_host(a, dst, nbytes - 1), MX_ERR_INVALID_ARGUMENT, NULL, NULL);
    CHECK(dst[0] == 0xAB && dst[nbytes - 2] == 0xAB);
    FAILS(mx_ndarray_copy_from_host(a, dst, nbytes + 1), MX_ERR_INVALID_ARGUMENT, NULL, NULL);
    OK(mx_ndarray_copy_to_host(a, dst, nbytes));
    CHECK(memcmp(src, dst, nbytes) == 0); /* the array kept its data */
    mx_ndarray_free(a);
  }

  {
    /* A scalar (ndim 0, shape NULL), an empty array, cpu_pinned memory. */
    mx_ndarray *s = NULL, *e = NULL, *p = NULL;
    const int64_t empty[2] = {0, 3};
    const int64_t* got = NULL;
    int ndim = -1, dev_type = -1, dev_id = -1;
    double x = 2.5, y = 0;
    float f[2] = {1.5f, -4.0f}, g[2] = {0, 0};
    if (OK(mx_ndarray_create(NULL, 0, MX_FLOAT64, MX_CPU, 0, &s))) {
      if (OK(mx_ndarray_shape(s, &ndim, &got))) CHECK(ndim == 0);
      OK(mx_ndarray_copy_from_host(s, &x, sizeof x));
      OK(mx_ndarray_copy_to_host(s, &y, sizeof y));
      CHECK(y == 2.5);
    }
    if (OK(mx_ndarray_create(empty, 2, MX_FLOAT32, MX_CPU, 0, &e))) {
      CHECK(array_size(e) == 0);
      OK(mx_ndarray_copy_from_host(e, f, 0));
      OK(mx_ndarray_copy_to_host(e, g, 0));
      FAILS(mx_ndarray_copy_to_host(e, g, 4), MX_ERR_INVALID_ARGUMENT, NULL, NULL);
    }
    {
      const int64_t two = 2;
      if (OK(mx_ndarray_create(&two, 1, MX_FLOAT32, MX_CPU_PINNED, 0, &p))) {
        if (OK(mx_ndarray_device(p, &dev_type, &dev_id))) CHECK(dev_type == MX_CPU_PINNED && dev_id == 0);
        OK(mx_ndarray_copy_from_host(p, f, sizeof f));
        OK(mx_ndarray_copy_to_host(p, g, sizeof g));
        CHECK(g[0] == 1.5f && g[1] == -4.0f);
      }
    }
    mx_ndarray_free(s);
    mx_ndarray_free(e);
    mx_ndarray_free(p);
  }

  {
    /* Storage identity: views share, distinct arrays differ. */
    const int64_t sh[1] = {4};
    mx_ndarray *a = make_f32(sh, 1, NULL), *b = make_f32(sh, 1, NULL);
    uint64_t ia = 0, ib = 0;
    if (a && b && OK(mx_ndarray_storage_id(a, &ia)) && OK(mx_ndarray_storage_id(b, &ib))) CHECK(ia != ib);
    mx_ndarray_free(a);
    mx_ndarray_free(b);
  }
}

static void test_create_errors(void) {
  const int64_t good[2] = {2, 3};
  const int64_t neg[2] = {2, -3};
  const int64_t overflow[3] = {(int64_t)1 << 40, (int64_t)1 << 40, 16};
  const int64_t huge[1] = {(int64_t)1 << 52}; /* 16 PiB of float32 */
  mx_ndarray* out = SENTINEL_PTR(mx_ndarray*);
  mx_ndarray* a = NULL;
  float buf[6] = {0};
  int ndim = -77, dtype = -77, dt = -77, di = -77;
  const int64_t* shp = SENTINEL_PTR(const int64_t*);
  void* data = SENTINEL_PTR(void*);
  uint64_t sid = 77;
  int64_t many[40];
  int i;
  for (i = 0; i < 40; ++i) many[i] = 1;
  section("create errors");
  FAILS(mx_ndarray_create(neg, 2, MX_FLOAT32, MX_CPU, 0, &out), MX_ERR_SHAPE, "-3", NULL);
  CHECK(out == SENTINEL_PTR(mx_ndarray*));
  FAILS_ANY(mx_ndarray_create(good, -1, MX_FLOAT32, MX_CPU, 0, &out), MX_ERR_SHAPE, MX_ERR_INVALID_ARGUMENT, "ndim");
  FAILS_ANY(mx_ndarray_create(many, 40, MX_FLOAT32, MX_CPU, 0, &out), MX_ERR_SHAPE, MX_ERR_INVALID_ARGUMENT, "40");
  FAILS(mx_ndarray_create(NULL, 2, MX_FLOAT32, MX_CPU, 0, &out), MX_ERR_INVALID_ARGUMENT, "shape", NULL);
  FAILS(mx_ndarray_create(good, 2, 42, MX_CPU, 0, &out), MX_ERR_DTYPE, "42", NULL);
  FAILS(mx_ndarray_create(good, 2, -1, MX_CPU, 0, &out), MX_ERR_DTYPE, "-1", NULL);
  FAILS(mx_ndarray_create(good, 2, 9, MX_CPU, 0, &out), MX_ERR_DTYPE, "9", NULL); /* uint16: not an MX dtype */
  FAILS(mx_ndarray_create(good, 2, MX_FLOAT32, 9, 0, &out), MX_ERR_INVALID_ARGUMENT, "device", NULL);
  FAILS(mx_ndarray_create(good, 2, MX_FLOAT32, MX_CPU, -1, &out), MX_ERR_INVALID_ARGUMENT, "-1", NULL);
  if (!g_built_with_cuda)
    FAILS(mx_ndarray_create(good, 2, MX_FLOAT32, MX_GPU, 0, &out), MX_ERR_UNSUPPORTED, "gpu", "cuda");
  FAILS(mx_ndarray_create(good, 2, MX_FLOAT32, MX_CPU, 0, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  /* Sizes whose byte count overflows 64 bits must not wrap to a small allocation. */
  FAILS_ANY(mx_ndarray_create(overflow, 3, MX_FLOAT32, MX_CPU, 0, &out), MX_ERR_SHAPE, MX_ERR_OUT_OF_MEMORY, NULL);
  FAILS(mx_ndarray_create(huge, 1, MX_FLOAT32, MX_CPU, 0, &out), MX_ERR_OUT_OF_MEMORY, NULL, NULL);
  CHECK(out == SENTINEL_PTR(mx_ndarray*));

  /* NULL handles and NULL out pointers on the inspectors. */
  FAILS(mx_ndarray_shape(NULL, &ndim, &shp), MX_ERR_HANDLE, "null", NULL);
  CHECK(ndim == -77 && shp == SENTINEL_PTR(const int64_t*));
  FAILS(mx_ndarray_dtype(NULL, &dtype), MX_ERR_HANDLE, "null", NULL);
  CHECK(dtype == -77);
  FAILS(mx_ndarray_device(NULL, &dt, &di), MX_ERR_HANDLE, "null", NULL);
  CHECK(dt == -77 && di == -77);
  FAILS(mx_ndarray_data(NULL, &data), MX_ERR_HANDLE, "null", NULL);
  CHECK(data == SENTINEL_PTR(void*));
  FAILS(mx_ndarray_storage_id(NULL, &sid), MX_ERR_HANDLE, "null", NULL);
  CHECK(sid == 77);
  FAILS(mx_ndarray_copy_from_host(NULL, buf, sizeof buf), MX_ERR_HANDLE, "null", NULL);
  FAILS(mx_ndarray_copy_to_host(NULL, buf, sizeof buf), MX_ERR_HANDLE, "null", NULL);
  FAILS(mx_ndarray_wait_to_read(NULL), MX_ERR_HANDLE, "null", NULL);
  FAILS(mx_ndarray_wait_to_write(NULL), MX_ERR_HANDLE, "null", NULL);
  if (OK(mx_ndarray_create(good, 2, MX_FLOAT32, MX_CPU, 0, &a))) {
    FAILS(mx_ndarray_shape(a, NULL, &shp), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_shape(a, &ndim, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_dtype(a, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_device(a, NULL, &di), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_data(a, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_storage_id(a, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_copy_from_host(a, NULL, 24), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_copy_to_host(a, NULL, 24), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    /* 23 bytes into an array of 24: the message names both counts. */
    FAILS(mx_ndarray_copy_from_host(a, buf, 23), MX_ERR_INVALID_ARGUMENT, "23", "24");
    FAILS(mx_ndarray_copy_to_host(a, buf, 25), MX_ERR_INVALID_ARGUMENT, "25", "24");
    OK(mx_ndarray_wait_to_read(a));
    OK(mx_ndarray_wait_to_write(a));
    mx_ndarray_free(a);
  }
  OK(mx_wait_all());

  /* A freed handle is detected (libmx keeps handle slots, so this is defined), and a second free
   * is harmless. Nothing else allocates a handle in between on this thread. */
  if (OK(mx_ndarray_create(good, 2, MX_FLOAT32, MX_CPU, 0, &a))) {
    mx_ndarray_free(a);
    FAILS(mx_ndarray_dtype(a, &dtype), MX_ERR_HANDLE, "freed", NULL);
    CHECK(dtype == -77);
    mx_ndarray_free(a);
  }

  /* Free functions accept NULL. */
  mx_ndarray_free(NULL);
  mx_ndarray_list_free(NULL);
  mx_buffer_free(NULL);
  mx_op_params_free(NULL);
  CHECK(1);
}

/* ================================================================ copyto (casts) */
static void test_copyto(void) {
  const int64_t sh[2] = {2, 3};
  const int64_t sh_t[2] = {3, 2};
  const float vals[6] = {1.7f, -2.2f, 0.0f, 3.9f, -0.5f, 100.25f};
  mx_ndarray *src = make_f32(sh, 2, vals), *i32 = NULL, *f64 = NULL, *f16 = NULL, *bf16 = NULL,
             *u8 = NULL, *b = NULL, *wrong = NULL;
  int32_t gi[6];
  double gd[6];
  uint16_t gh[6];
  uint8_t gb[6];
  int i;
  section("copyto and casts");
  if (!src) return;
  OK(mx_ndarray_create(sh, 2, MX_INT32, MX_CPU, 0, &i32));
  OK(mx_ndarray_create(sh, 2, MX_FLOAT64, MX_CPU, 0, &f64));
  OK(mx_ndarray_create(sh, 2, MX_FLOAT16, MX_CPU, 0, &f16));
  OK(mx_ndarray_create(sh, 2, MX_BFLOAT16, MX_CPU, 0, &bf16));
  OK(mx_ndarray_create(sh, 2, MX_UINT8, MX_CPU, 0, &u8));
  OK(mx_ndarray_create(sh, 2, MX_BOOL, MX_CPU, 0, &b));
  OK(mx_ndarray_create(sh_t, 2, MX_FLOAT32, MX_CPU, 0, &wrong));
  OK(mx_ndarray_copyto(src, i32));
  OK(mx_ndarray_copyto(src, f64));
  OK(mx_ndarray_copyto(src, f16));
  OK(mx_ndarray_copyto(src, bf16));
  OK(mx_ndarray_copyto(src, b));
  if (OK(mx_ndarray_copy_to_host(i32, gi, sizeof gi)))
    CHECK(gi[0] == 1 && gi[1] == -2 && gi[2] == 0 && gi[3] == 3 && gi[4] == 0 && gi[5] == 100);
  if (OK(mx_ndarray_copy_to_host(f64, gd, sizeof gd)))
    for (i = 0; i < 6; ++i) CHECK(gd[i] == (double)vals[i]);
  /* IEEE half bits: 1.7 -> 0x3ECD, -2.2 -> 0xC066, 0 -> 0, 3.9 -> 0x43CD, -0.5 -> 0xB800, 100.25 -> 0x5644 */
  if (OK(mx_ndarray_copy_to_host(f16, gh, sizeof gh)))
    CHECK(gh[0] == 0x3ECD && gh[1] == 0xC066 && gh[2] == 0 && gh[3] == 0x43CD && gh[4] == 0xB800 &&
          gh[5] == 0x5644);
  /* bfloat16 rounds to nearest even: 1.7 -> 0x3FDA, -0.5 -> 0xBF00, 100.25 -> 0x42C8 */
  if (OK(mx_ndarray_copy_to_host(bf16, gh, sizeof gh))) CHECK(gh[0] == 0x3FDA && gh[4] == 0xBF00 && gh[5] == 0x42C8);
  if (OK(mx_ndarray_copy_to_host(b, gb, sizeof gb)))
    CHECK(gb[0] == 1 && gb[1] == 1 && gb[2] == 0 && gb[3] == 1 && gb[4] == 1 && gb[5] == 1);
  /* And back: int32 -> float32 over the source. */
  OK(mx_ndarray_copyto(i32, src));
  {
    const float want[6] = {1, -2, 0, 3, 0, 100};
    CHECK(f32_equals(src, want, 6, 0));
  }
  FAILS(mx_ndarray_copyto(src, wrong), MX_ERR_SHAPE, "(2,3)", "(3,2)");
  FAILS(mx_ndarray_copyto(NULL, src), MX_ERR_HANDLE, "null", NULL);
  FAILS(mx_ndarray_copyto(src, NULL), MX_ERR_HANDLE, "null", NULL);
  OK(mx_wait_all());
  mx_ndarray_free(src);
  mx_ndarray_free(i32);
  mx_ndarray_free(f64);
  mx_ndarray_free(f16);
  mx_ndarray_free(bf16);
  mx_ndarray_free(u8);
  mx_ndarray_free(b);
  mx_ndarray_free(wrong);
}

/* ================================================================ views */
static void test_views(void) {
  const int64_t sh[2] = {4, 3};
  float vals[12];
  mx_ndarray *base, *r = NULL, *r2 = NULL, *s = NULL, *row = NULL, *flat = NULL, *fs = NULL;
  mx_ndarray* out = SENTINEL_PTR(mx_ndarray*);
  void *pb = NULL, *pv = NULL;
  uint64_t ib = 0, iv = 1;
  int i;
  section("views share storage");
  for (i = 0; i < 12; ++i) vals[i] = (float)i;
  base = make_f32(sh, 2, vals);
  if (!base) return;
  OK(mx_ndarray_data(base, &pb));
  {
    const int64_t rs[2] = {2, 6}, want[2] = {2, 6};
    if (OK(mx_ndarray_reshape(base, rs, 2, &r))) {
      CHECK(has_shape(r, want, 2));
      if (OK(mx_ndarray_data(r, &pv))) CHECK(pv == pb);
      if (OK(mx_ndarray_storage_id(base, &ib)) && OK(mx_ndarray_storage_id(r, &iv))) CHECK(ib == iv);
      CHECK(f32_equals(r, vals, 12, 0));
    }
  }
  {
    const int64_t rs[2] = {-1, 4}, want[2] = {3, 4};
    if (OK(mx_ndarray_reshape(base, rs, 2, &r2))) CHECK(has_shape(r2, want, 2));
  }
  if (OK(mx_ndarray_slice(base, 1, 3, &s))) {
    const int64_t want[2] = {2, 3};
    const float newrows[6] = {-1, -2, -3, -4, -5, -6};
    CHECK(has_shape(s, want, 2));
    if (OK(mx_ndarray_data(s, &pv))) CHECK((char*)pv == (char*)pb + 3 * sizeof(float));
    CHECK(f32_equals(s, vals + 3, 6, 0));
    /* Writing through the view changes the base. */
    OK(mx_ndarray_copy_from_host(s, newrows, sizeof newrows));
    for (i = 3; i < 9; ++i) vals[i] = newrows[i - 3];
    CHECK(f32_equals(base, vals, 12, 0));
    CHECK(f32_equals(r, vals, 12, 0));
  }
  if (OK(mx_ndarray_at(base, -1, &row))) {
    const int64_t want[1] = {3};
    CHECK(has_shape(row, want, 1));
    CHECK(f32_equals(row, vals + 9, 3, 0));
  }
  {
    /* A view of a view: flat (12,), then rows [2, 5) of it. */
    const int64_t fsh[1] = {12}, want[1] = {3};
    if (OK(mx_ndarray_reshape(base, fsh, 1, &flat)) && OK(mx_ndarray_slice(flat, 2, 5, &fs))) {
      CHECK(has_shape(fs, want, 1));
      if (OK(mx_ndarray_data(fs, &pv))) CHECK((char*)pv == (char*)pb + 2 * sizeof(float));
      CHECK(f32_equals(fs, vals + 2, 3, 0));
    }
  }
  /* Views outlive the handle they came from. */
  mx_ndarray_free(base);
  base = NULL;
  CHECK(f32_equals(row, vals + 9, 3, 0));
  CHECK(f32_equals(s, vals + 3, 6, 0));

  section("view errors");
  if (r) {
    const int64_t bad[2] = {5, 2}, two_infer[2] = {-1, -1}, negdim[2] = {-2, -6};
    FAILS(mx_ndarray_reshape(r, bad, 2, &out), MX_ERR_SHAPE, "(2,6)", "(5,2)");
    FAILS(mx_ndarray_reshape(r, two_infer, 2, &out), MX_ERR_SHAPE, "-1", NULL);
    FAILS(mx_ndarray_reshape(r, negdim, 2, &out), MX_ERR_SHAPE, "-2", NULL);
    FAILS(mx_ndarray_reshape(r, NULL, 2, &out), MX_ERR_INVALID_ARGUMENT, "shape", NULL);
    FAILS(mx_ndarray_reshape(r, bad, 2, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_slice(r, 1, 3, &out), MX_ERR_INDEX, "3", NULL);
    FAILS(mx_ndarray_slice(r, 1, 0, &out), MX_ERR_INDEX, NULL, NULL);
    FAILS(mx_ndarray_slice(r, -1, 1, &out), MX_ERR_INDEX, "-1", NULL);
    FAILS(mx_ndarray_slice(r, 0, 1, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_at(r, 2, &out), MX_ERR_INDEX, "2", NULL);
    FAILS(mx_ndarray_at(r, -3, &out), MX_ERR_INDEX, "-3", NULL);
    FAILS(mx_ndarray_at(r, 0, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  }
  FAILS(mx_ndarray_reshape(NULL, sh, 2, &out), MX_ERR_HANDLE, "null", NULL);
  FAILS(mx_ndarray_slice(NULL, 0, 1, &out), MX_ERR_HANDLE, "null", NULL);
  FAILS(mx_ndarray_at(NULL, 0, &out), MX_ERR_HANDLE, "null", NULL);
  {
    mx_ndarray* scalar = NULL;
    if (OK(mx_ndarray_create(NULL, 0, MX_FLOAT32, MX_CPU, 0, &scalar))) {
      FAILS_ANY(mx_ndarray_at(scalar, 0, &out), MX_ERR_SHAPE, MX_ERR_INDEX, "scalar");
      FAILS_ANY(mx_ndarray_slice(scalar, 0, 1, &out), MX_ERR_SHAPE, MX_ERR_INDEX, "scalar");
    }
    mx_ndarray_free(scalar);
  }
  CHECK(out == SENTINEL_PTR(mx_ndarray*));
  mx_ndarray_free(r);
  mx_ndarray_free(r2);
  mx_ndarray_free(s);
  mx_ndarray_free(row);
  mx_ndarray_free(flat);
  mx_ndarray_free(fs);
}

/* ================================================================ wrapped memory */
static int g_deleted = 0;
static void count_and_free(void* ctx) {
  ++g_deleted;
  free(ctx);
}
static int g_noop_deleted = 0;
static void count_only(void* ctx) {
  (void)ctx;
  ++g_noop_deleted;
}

static void test_wrap(void) {
  const int64_t sh[2] = {2, 3}, flat[1] = {6};
  const float vals[6] = {1, 2, 3, 4, 5, 6};
  float* buf = (float*)malloc(sizeof vals);
  mx_ndarray *w = NULL, *v = NULL, *out = SENTINEL_PTR(mx_ndarray*);
  void* p = NULL;
  section("wrapped memory: deleter once, after the last view");
  memcpy(buf, vals, sizeof vals);
  g_deleted = 0;
  if (OK(mx_ndarray_wrap(buf, sh, 2, MX_FLOAT32, MX_CPU, 0, count_and_free, buf, &w))) {
    if (OK(mx_ndarray_data(w, &p))) CHECK(p == buf); /* no copy */
    CHECK(f32_equals(w, vals, 6, 0));
    buf[0] = 10; /* the array sees the caller's writes */
    {
      const float want[6] = {10, 2, 3, 4, 5, 6};
      CHECK(f32_equals(w, want, 6, 0));
    }
    buf[0] = 1;
    OK(mx_ndarray_reshape(w, flat, 1, &v));
    mx_ndarray_free(w);
    OK(mx_wait_all());
    CHECK(g_deleted == 0); /* the view keeps it alive */
    CHECK(f32_equals(v, vals, 6, 0));
    mx_ndarray_free(v);
    OK(mx_wait_all());
    CHECK(g_deleted == 1);
  } else {
    free(buf);
  }

  section("wrapped memory: pending ops keep it alive");
  buf = (float*)malloc(sizeof vals);
  memcpy(buf, vals, sizeof vals);
  g_deleted = 0;
  w = NULL;
  if (OK(mx_ndarray_wrap(buf, sh, 2, MX_FLOAT32, MX_CPU, 0, count_and_free, buf, &w))) {
    mx_ndarray* in[2];
    mx_ndarray* res[1] = {NULL};
    int nout = 1;
    in[0] = w;
    in[1] = w;
    if (OK(mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, &nout, res))) {
      const float want[6] = {2, 4, 6, 8, 10, 12};
      mx_ndarray_free(w); /* freed while the op may still be pending */
      CHECK(f32_equals(res[0], want, 6, 0));
      mx_ndarray_free(res[0]);
    } else {
      mx_ndarray_free(w);
    }
    OK(mx_wait_all());
    CHECK(g_deleted == 1);
  } else {
    free(buf);
  }

  section("wrapped memory: NULL deleter, failures take nothing");
  {
    float local[6];
    memcpy(local, vals, sizeof vals);
    w = NULL;
    if (OK(mx_ndarray_wrap(local, sh, 2, MX_FLOAT32, MX_CPU, 0, NULL, NULL, &w))) {
      CHECK(f32_equals(w, vals, 6, 0));
      mx_ndarray_free(w);
      OK(mx_wait_all());
    }
    g_noop_deleted = 0;
    FAILS(mx_ndarray_wrap(local, sh, 2, 42, MX_CPU, 0, count_only, NULL, &out), MX_ERR_DTYPE, "42", NULL);
    {
      const int64_t neg[2] = {2, -3};
      FAILS(mx_ndarray_wrap(local, neg, 2, MX_FLOAT32, MX_CPU, 0, count_only, NULL, &out), MX_ERR_SHAPE, "-3", NULL);
    }
    FAILS(mx_ndarray_wrap(NULL, sh, 2, MX_FLOAT32, MX_CPU, 0, count_only, NULL, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_wrap(local, NULL, 2, MX_FLOAT32, MX_CPU, 0, count_only, NULL, &out), MX_ERR_INVALID_ARGUMENT, "shape", NULL);
    FAILS(mx_ndarray_wrap(local, sh, 2, MX_FLOAT32, 9, 0, count_only, NULL, &out), MX_ERR_INVALID_ARGUMENT, "device", NULL);
    if (!g_built_with_cuda)
      FAILS(mx_ndarray_wrap(local, sh, 2, MX_FLOAT32, MX_GPU, 0, count_only, NULL, &out), MX_ERR_UNSUPPORTED, "gpu", NULL);
    FAILS(mx_ndarray_wrap(local, sh, 2, MX_FLOAT32, MX_CPU, 0, count_only, NULL, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    OK(mx_wait_all());
    CHECK(g_noop_deleted == 0);
    CHECK(out == SENTINEL_PTR(mx_ndarray*));
  }
}

/* ================================================================ storage statistics */
static void test_storage(void) {
  const int64_t sh[1] = {1 << 18}; /* 1 MiB of float32 */
  size_t used0 = 0, cached0 = 0, used1 = 0, cached1 = 0, used2 = 0, cached2 = 0;
  size_t u = 77, c = 77;
  mx_ndarray* a = NULL;
  section("storage statistics");
  OK(mx_wait_all());
  OK(mx_storage_release_cached(MX_CPU, 0));
  if (!OK(mx_storage_stats(MX_CPU, 0, &used0, &cached0))) return;
  CHECK(cached0 == 0);
  if (OK(mx_ndarray_create(sh, 1, MX_FLOAT32, MX_CPU, 0, &a))) {
    OK(mx_storage_stats(MX_CPU, 0, &used1, &cached1));
    CHECK(used1 >= used0 + ((size_t)1 << 20));
    mx_ndarray_free(a);
    OK(mx_wait_all());
    OK(mx_storage_stats(MX_CPU, 0, &used2, &cached2));
    CHECK(used2 + ((size_t)1 << 20) <= used1);
    CHECK(cached2 >= ((size_t)1 << 20)); /* pooled, not returned */
    OK(mx_storage_release_cached(MX_CPU, 0));
    OK(mx_storage_stats(MX_CPU, 0, &used2, &cached2));
    CHECK(cached2 == 0);
  }
  if (!g_built_with_cuda) {
    FAILS(mx_storage_stats(MX_GPU, 0, &u, &c), MX_ERR_UNSUPPORTED, "gpu", NULL);
    FAILS(mx_storage_release_cached(MX_GPU, 0), MX_ERR_UNSUPPORTED, "gpu", NULL);
  }
  FAILS(mx_storage_stats(9, 0, &u, &c), MX_ERR_INVALID_ARGUMENT, "device", NULL);
  FAILS(mx_storage_stats(MX_CPU, 0, NULL, &c), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  CHECK(u == 77 && c == 77);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_library();
  test_create();
  test_create_errors();
  test_copyto();
  test_views();
  test_wrap();
  test_storage();
  OK(mx_wait_all());
  return summary();
}
