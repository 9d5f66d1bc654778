/*
 * predict_mnist: runs the seed CNN of examples/mnist_cnn.py from plain C through the MX C ABI.
 *
 *   predict_mnist PARAMS IDX_IMAGES N
 *
 * PARAMS is the file written by Gluon's net.save_parameters() for
 *   Conv2D(32, 3x3, pad 1, relu) -> MaxPool2D(2) -> Conv2D(64, 3x3, pad 1, relu) -> MaxPool2D(2)
 *   -> Flatten -> Dense(10)
 * (structural names 0.weight, 0.bias, 2.weight, 2.bias, 5.weight, 5.bias). IDX_IMAGES is an
 * uncompressed MNIST image file (idx3-ubyte); its first N images are scaled to [0, 1] float32 as
 * transforms.ToTensor does and classified. One line per image is printed:
 *
 *   <index> <class> <p0> ... <p9>        (softmax probabilities, %.6f)
 *
 * Every call is checked; on error the program prints mx_last_error() and exits with status 1
 * (2 for a usage error). Only include/mx/c_api.h is used.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx/c_api.h"

#define NUM_CLASSES 10
#define BATCH 256 /* images per forward pass: bounds the memory of the intermediates */

enum { P_W0, P_B0, P_W2, P_B2, P_W5, P_B5, NUM_PARAMS };
static const char* const kParamNames[NUM_PARAMS] = {"0.weight", "0.bias", "2.weight",
                                                     "2.bias",   "5.weight", "5.bias"};
/* Expected shapes; 0 means "any" (the rest is checked by the ops themselves). */
static const int64_t kParamShapes[NUM_PARAMS][4] = {
    {32, 1, 3, 3}, {32, 0, 0, 0}, {64, 32, 3, 3}, {64, 0, 0, 0}, {NUM_CLASSES, 0, 0, 0}, {NUM_CLASSES, 0, 0, 0}};
static const int kParamNdim[NUM_PARAMS] = {4, 1, 4, 1, 2, 1};

/* Prints the failed call and libmx's message. Always returns 0 so callers can `return fail_mx(..)`. */
static int fail_mx(const char* what) {
  fprintf(stderr, "predict_mnist: %s failed (status %d): %s\n", what, mx_last_status(), mx_last_error());
  return 0;
}

#define MX_TRY(call)               \
  do {                             \
    if ((call) != MX_OK) {         \
      fail_mx(#call);              \
      goto cleanup;                \
    }                              \
  } while (0)

/* ------------------------------------------------------------------ IDX reading */

static uint32_t read_be32(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Reads the first n images of an idx3-ubyte file into a new buffer of n*rows*cols bytes.
 * Returns NULL (after printing why) on error. */
static unsigned char* read_idx_images(const char* path, long n, int* rows, int* cols) {
  unsigned char head[16];
  unsigned char* pixels = NULL;
  size_t want;
  uint32_t count, r, c;
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "predict_mnist: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  if (fread(head, 1, 4, f) != 4) {
    fprintf(stderr, "predict_mnist: %s: file too short for an IDX header\n", path);
    goto bad;
  }
  if (head[0] == 0x1f && head[1] == 0x8b) {
    fprintf(stderr, "predict_mnist: %s is gzip-compressed: decompress it first (gunzip -k)\n", path);
    goto bad;
  }
  if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] != 3) {
    fprintf(stderr,
            "predict_mnist: %s is not an IDX image file (magic %02x %02x %02x %02x; want 00 00 08 03: "
            "unsigned bytes, 3 dimensions)\n",
            path, head[0], head[1], head[2], head[3]);
    goto bad;
  }
  if (fread(head + 4, 1, 12, f) != 12) {
    fprintf(stderr, "predict_mnist: %s: truncated IDX header\n", path);
    goto bad;
  }
  count = read_be32(head + 4);
  r = read_be32(head + 8);
  c = read_be32(head + 12);
  if (r != 28 || c != 28) {
    fprintf(stderr, "predict_mnist: %s holds %ux%u images; the seed CNN takes 28x28\n", path,
            (unsigned)r, (unsigned)c);
    goto bad;
  }
  if ((uint64_t)n > (uint64_t)count) {
    fprintf(stderr, "predict_mnist: N = %ld but %s holds only %u images\n", n, path, (unsigned)count);
    goto bad;
  }
  want = (size_t)n * r * c;
  pixels = (unsigned char*)malloc(want);
  if (!pixels) {
    fprintf(stderr, "predict_mnist: out of memory for %ld images\n", n);
    goto bad;
  }
  if (fread(pixels, 1, want, f) != want) {
    fprintf(stderr, "predict_mnist: %s: truncated image data (header says %u images)\n", path,
            (unsigned)count);
    free(pixels);
    pixels = NULL;
    goto bad;
  }
  fclose(f);
  *rows = (int)r;
  *cols = (int)c;
  return pixels;
bad:
  fclose(f);
  return NULL;
}

/* ------------------------------------------------------------------ parameters */

/* Loads the six parameters by name into params[] as float32 CPU arrays (new handles). */
static int load_params(const char* path, mx_ndarray* params[NUM_PARAMS]) {
  mx_ndarray_list* list = NULL;
  size_t n = 0, i;
  int k, ok = 0;
  for (k = 0; k < NUM_PARAMS; ++k) params[k] = NULL;
  MX_TRY(mx_ndarray_load(path, &list));
  MX_TRY(mx_ndarray_list_size(list, &n));
  for (i = 0; i < n; ++i) {
    const char* name = NULL;
    MX_TRY(mx_ndarray_list_get(list, i, NULL, &name));
    if (!name) {
      fprintf(stderr,
              "predict_mnist: %s holds a list without names; expected the dict written by "
              "save_parameters\n",
              path);
      goto cleanup;
    }
    for (k = 0; k < NUM_PARAMS; ++k) {
      if (strcmp(name, kParamNames[k]) != 0) continue;
      if (params[k]) {
        fprintf(stderr, "predict_mnist: %s holds '%s' twice\n", path, name);
        goto cleanup;
      }
      MX_TRY(mx_ndarray_list_get(list, i, &params[k], NULL));
      break;
    }
    if (k == NUM_PARAMS) {
      fprintf(stderr,
              "predict_mnist: %s holds an unexpected parameter '%s' (is it the seed CNN of "
              "examples/mnist_cnn.py?)\n",
              path, name);
      goto cleanup;
    }
  }
  for (k = 0; k < NUM_PARAMS; ++k) {
    int ndim = 0, dtype = -1, dev_type = 0, dev_id = 0, d;
    const int64_t* shape = NULL;
    if (!params[k]) {
      fprintf(stderr, "predict_mnist: %s lacks the parameter '%s'\n", path, kParamNames[k]);
      goto cleanup;
    }
    MX_TRY(mx_ndarray_shape(params[k], &ndim, &shape));
    if (ndim != kParamNdim[k]) {
      fprintf(stderr, "predict_mnist: parameter '%s' has %d dimensions, expected %d\n", kParamNames[k],
              ndim, kParamNdim[k]);
      goto cleanup;
    }
    for (d = 0; d < ndim; ++d) {
      if (kParamShapes[k][d] != 0 && shape[d] != kParamShapes[k][d]) {
        fprintf(stderr, "predict_mnist: parameter '%s' has dimension %d of size %lld, expected %lld\n",
                kParamNames[k], d, (long long)shape[d], (long long)kParamShapes[k][d]);
        goto cleanup;
      }
    }
    MX_TRY(mx_ndarray_dtype(params[k], &dtype));
    MX_TRY(mx_ndarray_device(params[k], &dev_type, &dev_id));
    if (dtype != MX_FLOAT32 || dev_type != MX_CPU) {
      /* A float16/float64 or GPU-saved file: cast/copy into a float32 CPU array. */
      mx_ndarray* f32 = NULL;
      MX_TRY(mx_ndarray_create(shape, ndim, MX_FLOAT32, MX_CPU, 0, &f32));
      if (mx_ndarray_copyto(params[k], f32) != MX_OK || mx_ndarray_wait_to_read(f32) != MX_OK) {
        fail_mx("casting a parameter to float32 on the CPU");
        mx_ndarray_free(f32);
        goto cleanup;
      }
      mx_ndarray_free(params[k]);
      params[k] = f32;
    }
  }
  ok = 1;
cleanup:
  mx_ndarray_list_free(list);
  if (!ok) {
    for (k = 0; k < NUM_PARAMS; ++k) {
      mx_ndarray_free(params[k]);
      params[k] = NULL;
    }
  }
  return ok;
}

/* ------------------------------------------------------------------ forward pass */

/* Runs one op with one output; *out receives a new array. Returns 1 on success. */
static int run_op(const char* name, int np, const char* const* keys, const char* const* vals, int nin,
                  mx_ndarray* const* in, mx_ndarray** out) {
  mx_ndarray* res[1] = {NULL};
  int nout = 1;
  if (mx_op_invoke_by_name(name, np, keys, vals, nin, in, &nout, res) != MX_OK) {
    fprintf(stderr, "predict_mnist: op %s failed (status %d): %s\n", name, mx_last_status(),
            mx_last_error());
    return 0;
  }
  if (nout != 1 || res[0] == NULL) {
    fprintf(stderr, "predict_mnist: op %s returned %d outputs, expected 1\n", name, nout);
    mx_ndarray_free(res[0]);
    return 0;
  }
  *out = res[0];
  return 1;
}

/* Convolution(3x3, pad 1) + bias, then relu. */
static int conv_relu(mx_ndarray* x, mx_ndarray* w, mx_ndarray* b, const char* num_filter, mx_ndarray** out) {
  static const char* const keys[] = {"kernel", "stride", "pad", "num_filter", "no_bias", "layout"};
  const char* vals[] = {"(3, 3)", "(1, 1)", "(1, 1)", num_filter, "False", "NCHW"};
  static const char* const akeys[] = {"act_type"};
  static const char* const avals[] = {"relu"};
  mx_ndarray* in[3];
  mx_ndarray* conv = NULL;
  int ok;
  in[0] = x;
  in[1] = w;
  in[2] = b;
  if (!run_op("Convolution", 6, keys, vals, 3, in, &conv)) return 0;
  ok = run_op("Activation", 1, akeys, avals, 1, &conv, out);
  mx_ndarray_free(conv);
  return ok;
}

/* MaxPool2D(pool_size=2): 2x2 window, stride 2, no padding, floor (valid) convention. */
static int max_pool2(mx_ndarray* x, mx_ndarray** out) {
  static const char* const keys[] = {"kernel", "stride", "pad", "pool_type", "pooling_convention",
                                     "global_pool"};
  static const char* const vals[] = {"(2, 2)", "(2, 2)", "(0, 0)", "max", "valid", "False"};
  return run_op("Pooling", 6, keys, vals, 1, &x, out);
}

/* data (b, 1, 28, 28) float32 -> probabilities (b, 10). *probs: new array. */
static int forward(mx_ndarray* data, mx_ndarray* const params[NUM_PARAMS], mx_ndarray** probs) {
  static const char* const fkeys[] = {"num_hidden", "no_bias", "flatten"};
  static const char* const fvals[] = {"10", "False", "True"};
  static const char* const skeys[] = {"axis"};
  static const char* const svals[] = {"-1"};
  mx_ndarray *c1 = NULL, *p1 = NULL, *c2 = NULL, *p2 = NULL, *flat = NULL, *logits = NULL;
  mx_ndarray* in[3];
  int ok = 0;
  if (!conv_relu(data, params[P_W0], params[P_B0], "32", &c1)) goto done;
  if (!max_pool2(c1, &p1)) goto done;
  if (!conv_relu(p1, params[P_W2], params[P_B2], "64", &c2)) goto done;
  if (!max_pool2(c2, &p2)) goto done;
  if (!run_op("Flatten", 0, NULL, NULL, 1, &p2, &flat)) goto done;
  in[0] = flat;
  in[1] = params[P_W5];
  in[2] = params[P_B5];
  if (!run_op("FullyConnected", 3, fkeys, fvals, 3, in, &logits)) goto done;
  if (!run_op("softmax", 1, skeys, svals, 1, &logits, probs)) goto done;
  ok = 1;
done:
  mx_ndarray_free(c1);
  mx_ndarray_free(p1);
  mx_ndarray_free(c2);
  mx_ndarray_free(p2);
  mx_ndarray_free(flat);
  mx_ndarray_free(logits);
  return ok;
}

/* ------------------------------------------------------------------ main */

static int parse_count(const char* s, long* out) {
  char* end = NULL;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1) return 0;
  *out = v;
  return 1;
}

int main(int argc, char** argv) {
  mx_ndarray* params[NUM_PARAMS] = {NULL};
  mx_ndarray* data = NULL;
  mx_ndarray* probs = NULL;
  unsigned char* pixels = NULL;
  float* batch_in = NULL;
  float* batch_out = NULL;
  int rows = 0, cols = 0, status = 1, k;
  long n = 0, start, i, j;

  if (argc != 4 || !parse_count(argv[3], &n)) {
    fprintf(stderr,
            "usage: %s PARAMS IDX_IMAGES N\n"
            "  PARAMS      parameters saved by examples/mnist_cnn.py (net.save_parameters)\n"
            "  IDX_IMAGES  an uncompressed MNIST idx3-ubyte image file\n"
            "  N           how many images to classify, from the first (a positive integer)\n",
            argc > 0 ? argv[0] : "predict_mnist");
    return 2;
  }
  pixels = read_idx_images(argv[2], n, &rows, &cols);
  if (!pixels) goto cleanup;
  if (!load_params(argv[1], params)) goto cleanup;

  batch_in = (float*)malloc(sizeof(float) * (size_t)BATCH * rows * cols);
  batch_out = (float*)malloc(sizeof(float) * (size_t)BATCH * NUM_CLASSES);
  if (!batch_in || !batch_out) {
    fprintf(stderr, "predict_mnist: out of memory\n");
    goto cleanup;
  }
  for (start = 0; start < n; start += BATCH) {
    long b = n - start < BATCH ? n - start : BATCH;
    int64_t shape[4];
    size_t npix = (size_t)b * rows * cols;
    int ndim = 0;
    const int64_t* oshape = NULL;
    shape[0] = b;
    shape[1] = 1;
    shape[2] = rows;
    shape[3] = cols;
    for (i = 0; i < (long)npix; ++i) batch_in[i] = (float)pixels[(size_t)start * rows * cols + i] / 255.0f;
    MX_TRY(mx_ndarray_create(shape, 4, MX_FLOAT32, MX_CPU, 0, &data));
    MX_TRY(mx_ndarray_copy_from_host(data, batch_in, sizeof(float) * npix));
    if (!forward(data, params, &probs)) goto cleanup;
    MX_TRY(mx_ndarray_shape(probs, &ndim, &oshape));
    if (ndim != 2 || oshape[0] != b || oshape[1] != NUM_CLASSES) {
      fprintf(stderr, "predict_mnist: the network returned an output of unexpected shape\n");
      goto cleanup;
    }
    /* Errors raised inside asynchronous kernels surface here. */
    MX_TRY(mx_ndarray_copy_to_host(probs, batch_out, sizeof(float) * (size_t)b * NUM_CLASSES));
    for (i = 0; i < b; ++i) {
      const float* p = batch_out + i * NUM_CLASSES;
      int best = 0;
      for (j = 1; j < NUM_CLASSES; ++j)
        if (p[j] > p[best]) best = (int)j;
      printf("%ld %d", start + i, best);
      for (j = 0; j < NUM_CLASSES; ++j) printf(" %.6f", p[j]);
      printf("\n");
    }
    mx_ndarray_free(data);
    data = NULL;
    mx_ndarray_free(probs);
    probs = NULL;
  }
  MX_TRY(mx_wait_all());
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "predict_mnist: writing the output failed\n");
    goto cleanup;
  }
  status = 0;
cleanup:
  mx_ndarray_free(data);
  mx_ndarray_free(probs);
  for (k = 0; k < NUM_PARAMS; ++k) mx_ndarray_free(params[k]);
  free(batch_in);
  free(batch_out);
  free(pixels);
  return status;
}
