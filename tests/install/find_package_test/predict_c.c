/* Predicts with a model exported by MXNet or MX (symbol JSON + params) through MXNet's C prediction
 * API, as a program linked to an installed libmx does:
 *
 *   predict_c <symbol.json> <params> <input.npy> <output.f32>
 *
 * The input is a float32 .npy (C order); the output (index 0) is written as raw little-endian
 * float32, and its shape is printed as "shape d0 d1 ...". Also checks that the headers of the
 * package (mx/c_api.h, mx/c_predict_api.h) agree with the library it links. Exit status 0 on
 * success; on failure, 1 and libmx's message on stderr. */
#include <mx/c_api.h>
#include <mx/c_predict_api.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char* what, const char* msg) {
  fprintf(stderr, "predict_c: %s: %s\n", what, msg ? msg : "");
  return 1;
}

static char* read_file(const char* path, long* len) {
  FILE* f = fopen(path, "rb");
  char* buf;
  long n;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  buf = (char*)malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[n] = 0;
    *len = n;
  }
  return buf;
}

/* A float32 C-order .npy: its shape and a pointer to the data inside buf. */
static int parse_npy(const char* buf, long len, uint32_t* shape, uint32_t* ndim, const float** data,
                     size_t* count) {
  long hlen, off;
  const char* p;
  char hdr[1024];
  if (len < 12 || memcmp(buf, "\x93NUMPY", 6) != 0) return 0;
  if (buf[6] == 1) {
    hlen = (long)((unsigned char)buf[8] | ((unsigned char)buf[9] << 8));
    off = 10;
  } else {
    hlen = (long)((unsigned long)(unsigned char)buf[8] | ((unsigned long)(unsigned char)buf[9] << 8) |
                  ((unsigned long)(unsigned char)buf[10] << 16) | ((unsigned long)(unsigned char)buf[11] << 24));
    off = 12;
  }
  if (hlen <= 0 || hlen >= (long)sizeof hdr || off + hlen > len) return 0;
  memcpy(hdr, buf + off, (size_t)hlen);
  hdr[hlen] = 0;
  if (!strstr(hdr, "'descr': '<f4'") || !strstr(hdr, "'fortran_order': False")) return 0;
  p = strstr(hdr, "'shape': (");
  if (!p) return 0;
  p += 10;
  *ndim = 0;
  *count = 1;
  while (*p && *p != ')') {
    char* end;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p) {
      ++p;
      continue;
    }
    if (*ndim == 8) return 0;
    shape[(*ndim)++] = (uint32_t)v;
    *count *= v;
    p = end;
  }
  if (off + hlen + (long)(*count * sizeof(float)) > len) return 0;
  *data = (const float*)(const void*)(buf + off + hlen);
  return 1;
}

int main(int argc, char** argv) {
  const char* version = NULL;
  char *json, *params, *npy;
  long json_len = 0, params_len = 0, npy_len = 0;
  uint32_t in_shape[8], in_ndim = 0, indptr[2], *out_shape = NULL, out_ndim = 0, i;
  const float* input;
  size_t in_count = 0, out_count = 1;
  const char* keys[1] = {"data"};
  PredictorHandle pred = NULL;
  float* out;
  FILE* f;

  if (argc != 5) {
    fprintf(stderr, "usage: %s <symbol.json> <params> <input.npy> <output.f32>\n", argv[0]);
    return 2;
  }
  /* The package's headers, version file and library belong together. */
  if (mx_abi_version() != MX_ABI_VERSION) return fail("ABI version", "header and library differ");
  if (mx_lib_info("version", &version) != MX_OK) return fail("mx_lib_info", mx_last_error());
  if (strcmp(version, MX_PKG_VERSION) != 0) return fail("library version differs from the package's", version);

  json = read_file(argv[1], &json_len);
  params = read_file(argv[2], &params_len);
  npy = read_file(argv[3], &npy_len);
  if (!json || !params || !npy) return fail("cannot read", !json ? argv[1] : !params ? argv[2] : argv[3]);
  if (!parse_npy(npy, npy_len, in_shape, &in_ndim, &input, &in_count))
    return fail("not a float32 C-order .npy", argv[3]);

  indptr[0] = 0;
  indptr[1] = in_ndim;
  if (MXPredCreate(json, params, (int)params_len, 1, 0, 1, keys, indptr, in_shape, &pred) != 0)
    return fail("MXPredCreate", MXGetLastError());
  if (MXPredSetInput(pred, "data", input, (uint32_t)in_count) != 0) return fail("MXPredSetInput", MXGetLastError());
  if (MXPredForward(pred) != 0) return fail("MXPredForward", MXGetLastError());
  if (MXPredGetOutputShape(pred, 0, &out_shape, &out_ndim) != 0) return fail("MXPredGetOutputShape", MXGetLastError());
  printf("shape");
  for (i = 0; i < out_ndim; ++i) {
    printf(" %u", out_shape[i]);
    out_count *= out_shape[i];
  }
  printf("\n");
  out = (float*)malloc(out_count * sizeof(float));
  if (!out) return fail("out of memory", "");
  if (MXPredGetOutput(pred, 0, out, (uint32_t)out_count) != 0) return fail("MXPredGetOutput", MXGetLastError());
  f = fopen(argv[4], "wb");
  if (!f || fwrite(out, sizeof(float), out_count, f) != out_count || fclose(f) != 0) return fail("cannot write", argv[4]);

  /* An error path through the package: a wrong input size is refused with a message. */
  if (MXPredSetInput(pred, "data", input, (uint32_t)in_count + 1) != -1 || !*MXGetLastError())
    return fail("MXPredSetInput with a wrong size", "was not refused");

  if (MXPredFree(pred) != 0) return fail("MXPredFree", MXGetLastError());
  free(out);
  free(json);
  free(params);
  free(npy);
  return 0;
}
