/* C ABI tests, part 3: save/load (files and buffers, MXNet's list format, truncated and corrupt
 * input) and DLPack export/import (every dtype, views, foreign memory, ownership on failure).
 * Every call goes through include/mx/c_api.h only. Runs under both engines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mx/dlpack/dlpack.h"

static int g_built_with_cuda = 0;

/* ================================================================ save / load */
/* A file name per engine, so the two ctest runs of this program never share files. */
static const char* file_name(char* buf, size_t n, const char* stem) {
  const char* eng = getenv("MX_ENGINE_TYPE");
  snprintf(buf, n, "%s_%s.nd", stem, eng ? eng : "default");
  return buf;
}

static unsigned char* read_file(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  unsigned char* data;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = (unsigned char*)malloc((size_t)n + 1);
  if (fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return data;
}

static int write_file(const char* path, const void* data, size_t len) {
  FILE* f = fopen(path, "wb");
  size_t w;
  if (!f) return 0;
  w = fwrite(data, 1, len, f);
  fclose(f);
  return w == len;
}

static uint64_t le64(const unsigned char* p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

/* The arrays every save/load test writes: several dtypes and ranks, and a view. */
#define NSAVE 5
static mx_ndarray* g_saved[NSAVE];
static unsigned char g_saved_bytes[NSAVE][64];
static size_t g_saved_nbytes[NSAVE];
static const char* const g_names[NSAVE] = {"arg:weight", "aux:moving_mean", "bytes", "half", "row_view"};

static int make_saved_arrays(void) {
  const int64_t s0[2] = {2, 3}, s1[1] = {4}, s2[3] = {2, 2, 2}, s3[1] = {3}, s4[2] = {4, 2};
  const float f[6] = {0.5f, -1.0f, 3.25f, 1e-8f, -7.0f, 1e30f};
  const int64_t i64[4] = {-1, 0, ((int64_t)1 << 40) + 3, 7};
  const uint8_t u8[8] = {0, 1, 2, 127, 128, 200, 254, 255};
  const uint16_t h[3] = {0x3C00, 0xC000, 0x7C00}; /* 1, -2, inf */
  const int32_t rows[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  mx_ndarray* whole = NULL;
  int ok = 1;
  ok &= OK(mx_ndarray_create(s0, 2, MX_FLOAT32, MX_CPU, 0, &g_saved[0]));
  ok &= OK(mx_ndarray_create(s1, 1, MX_INT64, MX_CPU, 0, &g_saved[1]));
  ok &= OK(mx_ndarray_create(s2, 3, MX_UINT8, MX_CPU, 0, &g_saved[2]));
  ok &= OK(mx_ndarray_create(s3, 1, MX_FLOAT16, MX_CPU, 0, &g_saved[3]));
  ok &= OK(mx_ndarray_create(s4, 2, MX_INT32, MX_CPU, 0, &whole));
  if (!ok) return 0;
  ok &= OK(mx_ndarray_copy_from_host(g_saved[0], f, sizeof f));
  ok &= OK(mx_ndarray_copy_from_host(g_saved[1], i64, sizeof i64));
  ok &= OK(mx_ndarray_copy_from_host(g_saved[2], u8, sizeof u8));
  ok &= OK(mx_ndarray_copy_from_host(g_saved[3], h, sizeof h));
  ok &= OK(mx_ndarray_copy_from_host(whole, rows, sizeof rows));
  ok &= OK(mx_ndarray_slice(whole, 1, 3, &g_saved[4])); /* rows 1..2 only: {3,4,5,6} */
  mx_ndarray_free(whole);
  memcpy(g_saved_bytes[0], f, sizeof f);
  g_saved_nbytes[0] = sizeof f;
  memcpy(g_saved_bytes[1], i64, sizeof i64);
  g_saved_nbytes[1] = sizeof i64;
  memcpy(g_saved_bytes[2], u8, sizeof u8);
  g_saved_nbytes[2] = sizeof u8;
  memcpy(g_saved_bytes[3], h, sizeof h);
  g_saved_nbytes[3] = sizeof h;
  memcpy(g_saved_bytes[4], rows + 2, 4 * sizeof(int32_t));
  g_saved_nbytes[4] = 4 * sizeof(int32_t);
  return ok;
}

/* Checks that list holds the saved arrays (with names when named). */
static void check_loaded(const mx_ndarray_list* list, int named) {
  size_t n = 0, i;
  if (!OK(mx_ndarray_list_size(list, &n)) || !CHECK(n == NSAVE)) return;
  for (i = 0; i < NSAVE; ++i) {
    mx_ndarray* a = NULL;
    const char* name = SENTINEL_PTR(const char*);
    int dt_want = -1, dt_got = -2, nd_want = 0, nd_got = -1, k;
    const int64_t *sh_want = NULL, *sh_got = NULL;
    unsigned char got[64];
    if (!OK(mx_ndarray_list_get(list, i, &a, &name))) continue;
    if (named) CHECK(name != NULL && strcmp(name, g_names[i]) == 0);
    else CHECK(name == NULL);
    OK(mx_ndarray_dtype(g_saved[i], &dt_want));
    OK(mx_ndarray_dtype(a, &dt_got));
    CHECK(dt_want == dt_got);
    OK(mx_ndarray_shape(g_saved[i], &nd_want, &sh_want));
    OK(mx_ndarray_shape(a, &nd_got, &sh_got));
    if (CHECK(nd_want == nd_got))
      for (k = 0; k < nd_want; ++k) CHECK(sh_want[k] == sh_got[k]);
    if (OK(mx_ndarray_copy_to_host(a, got, g_saved_nbytes[i])))
      CHECK(memcmp(got, g_saved_bytes[i], g_saved_nbytes[i]) == 0);
    mx_ndarray_free(a);
  }
}

static void test_save_load(void) {
  char path_buf[256], list_buf[256], cut_buf[256];
  const char* path = file_name(path_buf, sizeof path_buf, "test_abi_dict");
  const char* list_path = file_name(list_buf, sizeof list_buf, "test_abi_list");
  mx_ndarray_list *list = NULL, *out = SENTINEL_PTR(mx_ndarray_list*);
  unsigned char *file_bytes = NULL, *copy;
  void* buf = NULL;
  size_t file_len = 0, buf_len = 0, i;
  int ok_prefixes;
  section("save and load: file, buffer, dict and list");
  if (!make_saved_arrays()) return;
  if (OK(mx_ndarray_save(path, NSAVE, g_saved, g_names))) {
    file_bytes = read_file(path, &file_len);
    if (CHECK(file_bytes != NULL && file_len > 24)) {
      /* MXNet's list container: magic 0x112, reserved 0, count; then a V2 dense record. */
      CHECK(le64(file_bytes) == 0x112);
      CHECK(le64(file_bytes + 8) == 0);
      CHECK(le64(file_bytes + 16) == NSAVE);
      CHECK(file_bytes[24] == 0xC9 && file_bytes[25] == 0xFA && file_bytes[26] == 0x93 && file_bytes[27] == 0xF9);
    }
    if (OK(mx_ndarray_load(path, &list))) {
      check_loaded(list, 1);
      mx_ndarray_list_free(list);
      list = NULL;
    }
  }
  /* The same bytes in memory. */
  if (OK(mx_ndarray_save_to_buffer(NSAVE, g_saved, g_names, &buf, &buf_len))) {
    CHECK(buf != NULL && buf_len == file_len);
    if (file_bytes && buf_len == file_len) CHECK(memcmp(buf, file_bytes, file_len) == 0);
    if (OK(mx_ndarray_load_from_buffer(buf, buf_len, &list))) {
      mx_buffer_free(buf); /* loaded arrays own their data */
      buf = NULL;
      check_loaded(list, 1);
      {
        /* Either out pointer of list_get may be NULL. */
        const char* name = NULL;
        mx_ndarray* a = NULL;
        OK(mx_ndarray_list_get(list, 0, NULL, &name));
        CHECK(name && strcmp(name, g_names[0]) == 0);
        OK(mx_ndarray_list_get(list, 1, &a, NULL));
        CHECK(a != NULL);
        mx_ndarray_free(a);
        OK(mx_ndarray_list_get(list, 0, NULL, NULL));
      }
    }
    mx_buffer_free(buf);
  }
  /* A list without names. */
  if (OK(mx_ndarray_save(list_path, NSAVE, g_saved, NULL))) {
    mx_ndarray_list* l2 = NULL;
    if (OK(mx_ndarray_load(list_path, &l2))) check_loaded(l2, 0);
    mx_ndarray_list_free(l2);
  }
  /* Zero arrays. */
  buf = NULL;
  if (OK(mx_ndarray_save_to_buffer(0, NULL, NULL, &buf, &buf_len))) {
    mx_ndarray_list* l3 = NULL;
    size_t n = 99;
    if (OK(mx_ndarray_load_from_buffer(buf, buf_len, &l3)) && OK(mx_ndarray_list_size(l3, &n))) CHECK(n == 0);
    mx_ndarray_list_free(l3);
    mx_buffer_free(buf);
  }

  section("save and load errors");
  if (list) {
    mx_ndarray* a = SENTINEL_PTR(mx_ndarray*);
    const char* name = SENTINEL_PTR(const char*);
    size_t n = 77;
    FAILS(mx_ndarray_list_get(list, NSAVE, &a, &name), MX_ERR_INDEX, "5", NULL);
    CHECK(a == SENTINEL_PTR(mx_ndarray*) && name == SENTINEL_PTR(const char*));
    FAILS(mx_ndarray_list_get(NULL, 0, &a, &name), MX_ERR_HANDLE, "null", NULL);
    FAILS(mx_ndarray_list_size(NULL, &n), MX_ERR_HANDLE, "null", NULL);
    FAILS(mx_ndarray_list_size(list, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    CHECK(n == 77);
  }
  mx_ndarray_list_free(list);
  list = NULL;
  FAILS(mx_ndarray_load("no_such_dir/no_such_file.nd", &out), MX_ERR_NOT_FOUND, "no_such_file.nd", NULL);
  FAILS(mx_ndarray_load(NULL, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  FAILS(mx_ndarray_save("no_such_dir/x.nd", NSAVE, g_saved, g_names), MX_ERR_IO, "no_such_dir/x.nd", NULL);
  FAILS(mx_ndarray_save(NULL, NSAVE, g_saved, g_names), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  FAILS(mx_ndarray_save(path, NSAVE, NULL, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  {
    mx_ndarray* with_null[2];
    const char* bad_names[2] = {"a", NULL};
    with_null[0] = g_saved[0];
    with_null[1] = NULL;
    FAILS(mx_ndarray_save(path, 2, with_null, NULL), MX_ERR_HANDLE, "null", NULL);
    FAILS(mx_ndarray_save(path, 2, g_saved, bad_names), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  }
  {
    void* b = SENTINEL_PTR(void*);
    size_t l = 77;
    FAILS(mx_ndarray_save_to_buffer(NSAVE, g_saved, g_names, NULL, &l), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_save_to_buffer(NSAVE, g_saved, g_names, &b, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    CHECK(b == SENTINEL_PTR(void*) && l == 77);
  }
  FAILS(mx_ndarray_load_from_buffer(NULL, 16, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
  if (file_bytes) {
    /* A truncated file: the message names it. */
    const char* cut = file_name(cut_buf, sizeof cut_buf, "test_abi_truncated");
    if (CHECK(write_file(cut, file_bytes, file_len / 2)))
      FAILS(mx_ndarray_load(cut, &out), MX_ERR_IO, cut, NULL);
    FAILS(mx_ndarray_load_from_buffer(file_bytes, 0, &out), MX_ERR_IO, NULL, NULL);
    /* Every strict prefix of a valid buffer is an I/O error, never a crash or a partial list. */
    ok_prefixes = 1;
    for (i = 1; i < file_len; ++i) {
      int rc = mx_ndarray_load_from_buffer(file_bytes, i, &out);
      if (rc != MX_ERR_IO || out != SENTINEL_PTR(mx_ndarray_list*)) {
        fprintf(stderr, "      prefix of %lu bytes: status %d: %s\n", (unsigned long)i, rc, mx_last_error());
        ok_prefixes = 0;
        break;
      }
    }
    CHECK(ok_prefixes);
    copy = (unsigned char*)malloc(file_len);
    /* Corrupt container magic. */
    memcpy(copy, file_bytes, file_len);
    copy[0] ^= 0x55;
    FAILS(mx_ndarray_load_from_buffer(copy, file_len, &out), MX_ERR_IO, "magic", NULL);
    /* Corrupt record magic. */
    memcpy(copy, file_bytes, file_len);
    copy[24] ^= 0x55;
    FAILS(mx_ndarray_load_from_buffer(copy, file_len, &out), MX_ERR_IO, NULL, NULL);
    /* A record claiming a huge dimension (bytes 36..43 hold dim 0 of the first array): an I/O error
     * for running past the data, not an attempt to allocate it. */
    memcpy(copy, file_bytes, file_len);
    copy[36 + 6] = 0x40;
    FAILS(mx_ndarray_load_from_buffer(copy, file_len, &out), MX_ERR_IO, NULL, NULL);
    /* A record claiming a huge ndim (bytes 32..35). */
    memcpy(copy, file_bytes, file_len);
    copy[32 + 2] = 0x7F;
    FAILS(mx_ndarray_load_from_buffer(copy, file_len, &out), MX_ERR_IO, NULL, NULL);
    /* An unknown type flag: header 24 + magic 4 + stype 4 + ndim 4 + two dims 16 + device 8 = byte 60. */
    memcpy(copy, file_bytes, file_len);
    copy[60] = 99;
    FAILS_ANY(mx_ndarray_load_from_buffer(copy, file_len, &out), MX_ERR_IO, MX_ERR_DTYPE, "99");
    /* An array count larger than what follows. */
    memcpy(copy, file_bytes, file_len);
    copy[16] = 200;
    FAILS(mx_ndarray_load_from_buffer(copy, file_len, &out), MX_ERR_IO, NULL, NULL);
    free(copy);
    remove(cut);
  }
  CHECK(out == SENTINEL_PTR(mx_ndarray_list*));
  free(file_bytes);
  remove(path);
  remove(list_path);
  for (i = 0; i < NSAVE; ++i) mx_ndarray_free(g_saved[i]);
}

/* ================================================================ DLPack */
struct dl_expect {
  int flag;
  uint8_t code, bits;
};
static const struct dl_expect kDL[] = {
    {MX_FLOAT32, kDLFloat, 32}, {MX_FLOAT64, kDLFloat, 64}, {MX_FLOAT16, kDLFloat, 16},
    {MX_BFLOAT16, kDLBfloat, 16}, {MX_UINT8, kDLUInt, 8},    {MX_INT8, kDLInt, 8},
    {MX_INT32, kDLInt, 32},     {MX_INT64, kDLInt, 64},     {MX_BOOL, kDLBool, 8},
};

static int g_dl_deleted = 0;
static void dl_versioned_deleter(DLManagedTensorVersioned* self) {
  (void)self;
  ++g_dl_deleted;
}
static void dl_legacy_deleter(DLManagedTensor* self) {
  (void)self;
  ++g_dl_deleted;
}

static void fill_versioned(DLManagedTensorVersioned* t, void* data, int64_t* shape, int32_t ndim, uint8_t code,
                           uint8_t bits) {
  memset(t, 0, sizeof *t);
  t->version.major = DLPACK_MAJOR_VERSION;
  t->version.minor = DLPACK_MINOR_VERSION;
  t->deleter = dl_versioned_deleter;
  t->dl_tensor.data = data;
  t->dl_tensor.device.device_type = kDLCPU;
  t->dl_tensor.device.device_id = 0;
  t->dl_tensor.ndim = ndim;
  t->dl_tensor.dtype.code = code;
  t->dl_tensor.dtype.bits = bits;
  t->dl_tensor.dtype.lanes = 1;
  t->dl_tensor.shape = shape;
  t->dl_tensor.strides = NULL;
}

static void test_dlpack(void) {
  const int64_t sh[2] = {2, 3};
  size_t k;
  section("DLPack export, every dtype");
  for (k = 0; k < sizeof kDL / sizeof kDL[0]; ++k) {
    mx_ndarray *a = NULL, *back = NULL;
    DLManagedTensorVersioned* t = NULL;
    DLManagedTensor* lt = NULL;
    void *pa = NULL, *pb = NULL;
    int dtype = -1;
    if (!OK(mx_ndarray_create(sh, 2, kDL[k].flag, MX_CPU, 0, &a))) continue;
    OK(mx_ndarray_data(a, &pa));
    if (OK(mx_ndarray_to_dlpack(a, &t))) {
      DLTensor* d = &t->dl_tensor;
      CHECK(t->version.major == 1);
      CHECK(t->deleter != NULL);
      CHECK((t->flags & DLPACK_FLAG_BITMASK_READ_ONLY) == 0);
      CHECK(d->ndim == 2 && d->shape[0] == 2 && d->shape[1] == 3);
      CHECK(d->strides == NULL || (d->strides[0] == 3 && d->strides[1] == 1));
      CHECK(d->dtype.code == kDL[k].code && d->dtype.bits == kDL[k].bits && d->dtype.lanes == 1);
      CHECK(d->device.device_type == kDLCPU && d->device.device_id == 0);
      CHECK((char*)d->data + d->byte_offset == (char*)pa);
      /* Back into MX: zero copy, same dtype. libmx now owns t. */
      if (OK(mx_ndarray_from_dlpack(t, &back))) {
        OK(mx_ndarray_data(back, &pb));
        CHECK(pb == pa);
        OK(mx_ndarray_dtype(back, &dtype));
        CHECK(dtype == kDL[k].flag);
        CHECK(has_shape(back, sh, 2));
        mx_ndarray_free(back);
      } else {
        t->deleter(t);
      }
    }
    if (OK(mx_ndarray_to_dlpack_legacy(a, &lt))) {
      CHECK(lt->dl_tensor.ndim == 2 && lt->dl_tensor.shape[1] == 3);
      CHECK(lt->dl_tensor.dtype.code == kDL[k].code && lt->dl_tensor.dtype.bits == kDL[k].bits);
      CHECK((char*)lt->dl_tensor.data + lt->dl_tensor.byte_offset == (char*)pa);
      back = NULL;
      if (OK(mx_ndarray_from_dlpack_legacy(lt, &back))) {
        OK(mx_ndarray_data(back, &pb));
        CHECK(pb == pa);
        mx_ndarray_free(back);
      } else {
        lt->deleter(lt);
      }
    }
    mx_ndarray_free(a);
  }

  section("DLPack export keeps storage alive; views export their offset");
  {
    const float vals[6] = {1, 2, 3, 4, 5, 6};
    mx_ndarray *a = make_f32(sh, 2, vals), *row = NULL;
    DLManagedTensorVersioned* t = NULL;
    if (a && OK(mx_ndarray_at(a, 1, &row)) && OK(mx_ndarray_to_dlpack(row, &t))) {
      const float* p;
      mx_ndarray_free(a);
      mx_ndarray_free(row);
      OK(mx_wait_all());
      p = (const float*)((char*)t->dl_tensor.data + t->dl_tensor.byte_offset);
      CHECK(t->dl_tensor.ndim == 1 && t->dl_tensor.shape[0] == 3);
      CHECK(p[0] == 4 && p[1] == 5 && p[2] == 6);
      t->deleter(t);
    } else {
      mx_ndarray_free(a);
      mx_ndarray_free(row);
    }
  }

  section("DLPack import of foreign memory");
  {
    int32_t data[4] = {10, 20, 30, 40};
    int64_t shape[2] = {2, 2}, strides[2] = {2, 1}, bad_strides[2] = {1, 2};
    DLManagedTensorVersioned t;
    DLManagedTensor lt;
    mx_ndarray *a = NULL, *out = SENTINEL_PTR(mx_ndarray*);
    void* p = NULL;
    int32_t got[4];
    g_dl_deleted = 0;
    fill_versioned(&t, data, shape, 2, kDLInt, 32);
    t.dl_tensor.strides = strides; /* compact strides are fine */
    if (OK(mx_ndarray_from_dlpack(&t, &a))) {
      if (OK(mx_ndarray_data(a, &p))) CHECK(p == data);
      if (OK(mx_ndarray_copy_to_host(a, got, sizeof got))) CHECK(got[0] == 10 && got[3] == 40);
      {
        /* Use it in an op, drop the handle before waiting: the deleter waits for the op. */
        mx_ndarray* in[2];
        mx_ndarray* res[1] = {NULL};
        int nout = 1;
        in[0] = a;
        in[1] = a;
        if (OK(mx_op_invoke_by_name("broadcast_add", 0, NULL, NULL, 2, in, &nout, res))) {
          mx_ndarray_free(a);
          a = NULL;
          if (OK(mx_ndarray_copy_to_host(res[0], got, sizeof got)))
            CHECK(got[0] == 20 && got[1] == 40 && got[2] == 60 && got[3] == 80);
          mx_ndarray_free(res[0]);
        }
      }
      mx_ndarray_free(a);
      OK(mx_wait_all());
      CHECK(g_dl_deleted == 1);
    }
    /* byte_offset is honoured. */
    {
      int64_t three[1] = {3};
      g_dl_deleted = 0;
      fill_versioned(&t, data, three, 1, kDLInt, 32);
      t.dl_tensor.byte_offset = sizeof(int32_t);
      a = NULL;
      if (OK(mx_ndarray_from_dlpack(&t, &a)) && OK(mx_ndarray_copy_to_host(a, got, 3 * sizeof(int32_t))))
        CHECK(got[0] == 20 && got[1] == 30 && got[2] == 40);
      mx_ndarray_free(a);
      OK(mx_wait_all());
      CHECK(g_dl_deleted == 1);
    }
    /* Legacy struct. */
    memset(&lt, 0, sizeof lt);
    lt.dl_tensor = t.dl_tensor;
    lt.dl_tensor.byte_offset = 0;
    lt.dl_tensor.shape = shape;
    lt.dl_tensor.ndim = 2;
    lt.deleter = dl_legacy_deleter;
    g_dl_deleted = 0;
    a = NULL;
    if (OK(mx_ndarray_from_dlpack_legacy(&lt, &a))) {
      if (OK(mx_ndarray_data(a, &p))) CHECK(p == data);
      mx_ndarray_free(a);
      OK(mx_wait_all());
      CHECK(g_dl_deleted == 1);
    }

    section("DLPack import errors leave ownership with the caller");
    g_dl_deleted = 0;
    fill_versioned(&t, data, shape, 2, kDLInt, 32);
    t.dl_tensor.strides = bad_strides;
    FAILS_ANY(mx_ndarray_from_dlpack(&t, &out), MX_ERR_UNSUPPORTED, MX_ERR_INVALID_ARGUMENT, "strides");
    fill_versioned(&t, data, shape, 2, kDLComplex, 64);
    FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_DTYPE, NULL, NULL);
    fill_versioned(&t, data, shape, 2, kDLFloat, 32);
    t.dl_tensor.dtype.lanes = 4;
    FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_DTYPE, "lanes", NULL);
    fill_versioned(&t, data, shape, 2, kDLInt, 16);
    FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_DTYPE, "16", NULL);
    fill_versioned(&t, data, shape, 2, kDLInt, 32);
    t.version.major = DLPACK_MAJOR_VERSION + 1;
    FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_UNSUPPORTED, "version", NULL);
    fill_versioned(&t, data, shape, 2, kDLInt, 32);
    t.dl_tensor.device.device_type = kDLVulkan;
    FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_UNSUPPORTED, "device", NULL);
    if (!g_built_with_cuda) {
      fill_versioned(&t, data, shape, 2, kDLInt, 32);
      t.dl_tensor.device.device_type = kDLCUDA;
      FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_UNSUPPORTED, NULL, NULL);
    }
    {
      int64_t neg[2] = {2, -2};
      fill_versioned(&t, data, neg, 2, kDLInt, 32);
      FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_SHAPE, "-2", NULL);
    }
    fill_versioned(&t, NULL, shape, 2, kDLInt, 32);
    FAILS(mx_ndarray_from_dlpack(&t, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    fill_versioned(&t, data, shape, 2, kDLInt, 32);
    FAILS(mx_ndarray_from_dlpack(&t, NULL), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    FAILS(mx_ndarray_from_dlpack(NULL, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    lt.dl_tensor.dtype.code = kDLComplex;
    lt.dl_tensor.dtype.bits = 64;
    FAILS(mx_ndarray_from_dlpack_legacy(&lt, &out), MX_ERR_DTYPE, NULL, NULL);
    FAILS(mx_ndarray_from_dlpack_legacy(NULL, &out), MX_ERR_INVALID_ARGUMENT, "null", NULL);
    OK(mx_wait_all());
    CHECK(g_dl_deleted == 0);
    CHECK(out == SENTINEL_PTR(mx_ndarray*));
  }
  {
    DLManagedTensorVersioned* t = SENTINEL_PTR(DLManagedTensorVersioned*);
    DLManagedTensor* lt = SENTINEL_PTR(DLManagedTensor*);
    FAILS(mx_ndarray_to_dlpack(NULL, &t), MX_ERR_HANDLE, "null", NULL);
    FAILS(mx_ndarray_to_dlpack_legacy(NULL, &lt), MX_ERR_HANDLE, "null", NULL);
    CHECK(t == SENTINEL_PTR(DLManagedTensorVersioned*) && lt == SENTINEL_PTR(DLManagedTensor*));
  }
}

int main(void) {
  const char* v = NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (mx_lib_info("cuda", &v) == MX_OK) g_built_with_cuda = strcmp(v, "1") == 0;
  test_save_load();
  test_dlpack();
  OK(mx_wait_all());
  return summary();
}
