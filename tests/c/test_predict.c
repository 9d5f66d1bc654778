/* MXNet's C prediction API (mx/c_predict_api.h) on the real MXNet 1.9.1 files: predictions equal
 * the outputs MXNet stored, reshaping, partial outputs (checked against C references computed
 * from the parameters), step-wise forward, multi-thread predictors, monitoring, NDArray lists,
 * and every error path returning -1 with a message.
 *
 * The fixture directory is MX_FIXTURES_DIR, else shared/fixtures/mxnet-1.9.1 beside or inside the
 * checkout (found from this file's path). A missing directory fails the test. */
#include "mx/c_predict_api.h" /* first: it must work before mx/c_api.h too */

#include <math.h> /* NAN, INFINITY only: the test links no libm */

#include "check.h"

static double dabs(double x) { return x < 0 ? -x : x; }

static double dsqrt(double x) { /* Newton's method; x > 0 */
  double r = x > 1 ? x : 1;
  int i;
  for (i = 0; i < 100; ++i) r = 0.5 * (r + x / r);
  return r;
}

static double dexp(double x) { /* exp by halving into Taylor's range, then squaring */
  int k = 0, i;
  double t = 1, sum = 1;
  while (dabs(x) > 0.5) {
    x /= 2;
    ++k;
  }
  for (i = 1; i < 20; ++i) {
    t *= x / i;
    sum += t;
  }
  for (; k > 0; --k) sum *= sum;
  return sum;
}

static float pow2f(int e) { /* 2^e for |e| < 64 */
  float v = 1;
  for (; e > 0; --e) v *= 2;
  for (; e < 0; ++e) v *= 0.5f;
  return v;
}

/* ---------------------------------------------------------------- harness for 0 / -1 calls */
static int pred_ok_impl(int rc, const char* expr, const char* file, int line) {
  char buf[1024];
  if (rc == 0) {
    ++g_passed;
    return 1;
  }
  snprintf(buf, sizeof buf, "returned %d: %s", rc, MXGetLastError());
  fail_here(file, line, expr, buf);
  return 0;
}
#define POK(call) pred_ok_impl((call), #call, __FILE__, __LINE__)

static int pred_fails_impl(int rc, const char* needle, const char* expr, const char* file, int line) {
  char buf[2048];
  const char* msg = MXGetLastError();
  if (rc != -1) {
    snprintf(buf, sizeof buf, "expected -1, got %d", rc);
    fail_here(file, line, expr, buf);
    return 0;
  }
  if (!msg || !*msg || !message_has(msg, needle)) {
    snprintf(buf, sizeof buf, "message should mention '%s': %s", needle ? needle : "", msg ? msg : "(null)");
    fail_here(file, line, expr, buf);
    return 0;
  }
  ++g_passed;
  return 1;
}
#define PFAILS(call, needle) pred_fails_impl((call), (needle), #call, __FILE__, __LINE__)

/* ---------------------------------------------------------------- files */
static char g_dir[4096];

static int dir_ok(const char* d) {
  char p[4200];
  FILE* f;
  snprintf(p, sizeof p, "%s/manifest.json", d);
  f = fopen(p, "rb");
  if (!f) return 0;
  fclose(f);
  snprintf(g_dir, sizeof g_dir, "%s", d);
  return 1;
}

static int find_fixtures(void) {
  char root[4096], cand[4200];
  const char* env = getenv("MX_FIXTURES_DIR");
  char* cut;
  if (env && *env && dir_ok(env)) return 1;
  snprintf(root, sizeof root, "%s", __FILE__); /* <root>/tests/c/test_predict.c */
  cut = strstr(root, "tests/c/test_predict.c");
  if (!cut) return 0;
  *cut = 0;
  if (!*root) snprintf(root, sizeof root, "./");
  snprintf(cand, sizeof cand, "%s../shared/fixtures/mxnet-1.9.1", root);
  if (dir_ok(cand)) return 1;
  snprintf(cand, sizeof cand, "%sshared/fixtures/mxnet-1.9.1", root);
  return dir_ok(cand);
}

/* Contents of a fixture file, NUL-terminated; *len = its size. NULL (a failed check) if absent. */
static char* read_fixture(const char* name, long* len) {
  char p[4400];
  FILE* f;
  char* buf;
  long n;
  snprintf(p, sizeof p, "%s/%s", g_dir, name);
  f = fopen(p, "rb");
  if (!CHECK(f != NULL)) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char*)malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) n = -1;
  fclose(f);
  if (!CHECK(n >= 0)) {
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

/* ---------------------------------------------------------------- .npy (little-endian, C order) */
typedef struct {
  float* data; /* converted to float */
  int ndim;
  uint32_t shape[8];
  size_t n;
} Npy;

static float half_to_float(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  float v;
  if (e == 0)
    v = (float)m * pow2f(-24);
  else if (e == 31)
    v = m ? NAN : INFINITY;
  else
    v = (float)(m | 0x400) * pow2f(e - 25);
  return (h & 0x8000) ? -v : v;
}

static int read_npy(const char* name, Npy* out) {
  long len = 0, hlen, off;
  char* buf = read_fixture(name, &len);
  char descr[8] = {0}, *p, *hdr;
  size_t i, item;
  const unsigned char* d;
  memset(out, 0, sizeof *out);
  if (!buf) return 0;
  if (!CHECK(len > 10 && memcmp(buf, "\x93NUMPY", 6) == 0)) goto bad;
  if (buf[6] == 1) {
    hlen = (unsigned char)buf[8] | ((unsigned char)buf[9] << 8);
    off = 10;
  } else {
    hlen = (long)((unsigned char)buf[8] | ((unsigned char)buf[9] << 8) | ((unsigned char)buf[10] << 16) |
                  ((unsigned long)(unsigned char)buf[11] << 24));
    off = 12;
  }
  hdr = buf + off;
  p = strstr(hdr, "'descr': '");
  if (!CHECK(p != NULL)) goto bad;
  p += 10;
  for (i = 0; i < 7 && p[i] != '\''; ++i) descr[i] = p[i];
  if (!CHECK(strstr(hdr, "'fortran_order': False") != NULL)) goto bad;
  p = strstr(hdr, "'shape': (");
  if (!CHECK(p != NULL)) goto bad;
  p += 10;
  out->n = 1;
  while (*p && *p != ')') {
    char* end;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p) {
      ++p;
      continue;
    }
    out->shape[out->ndim++] = (uint32_t)v;
    out->n *= v;
    p = end;
  }
  item = (size_t)atoi(descr + 2);
  if (!CHECK(off + hlen + (long)(out->n * item) <= len)) goto bad;
  d = (const unsigned char*)buf + off + hlen;
  out->data = (float*)malloc(out->n * sizeof(float) + 1);
  for (i = 0; i < out->n; ++i) {
    const unsigned char* e = d + i * item;
    float v;
    if (!strcmp(descr, "<f4")) { memcpy(&v, e, 4); }
    else if (!strcmp(descr, "<f8")) { double x; memcpy(&x, e, 8); v = (float)x; }
    else if (!strcmp(descr, "<f2")) { uint16_t h; memcpy(&h, e, 2); v = half_to_float(h); }
    else if (!strcmp(descr, "|u1")) { v = (float)e[0]; }
    else if (!strcmp(descr, "|i1")) { v = (float)(int8_t)e[0]; }
    else if (!strcmp(descr, "<i4")) { int32_t x; memcpy(&x, e, 4); v = (float)x; }
    else if (!strcmp(descr, "<i8")) { int64_t x; memcpy(&x, e, 8); v = (float)x; }
    else { CHECK(!"unexpected npy dtype"); fprintf(stderr, "npy dtype %s\n", descr); goto bad; }
    out->data[i] = v;
  }
  free(buf);
  return 1;
bad:
  free(buf);
  free(out->data);
  out->data = NULL;
  return 0;
}

/* Largest |a - b| over n values. */
static double max_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  size_t i;
  for (i = 0; i < n; ++i) {
    double d = dabs((double)a[i] - (double)b[i]);
    if (d != d) return INFINITY;
    if (d > m) m = d;
  }
  return m;
}

/* Values of the list entry named key (NULL, a failed check, if absent). */
static const float* nd_find(NDListHandle l, uint32_t len, const char* key, const uint32_t** shape, uint32_t* ndim) {
  uint32_t i;
  for (i = 0; i < len; ++i) {
    const char* k;
    const float* d;
    const uint32_t* s;
    uint32_t nd;
    if (MXNDListGet(l, i, &k, &d, &s, &nd) != 0) break;
    if (!strcmp(k, key)) {
      if (shape) *shape = s;
      if (ndim) *ndim = nd;
      return d;
    }
  }
  fprintf(stderr, "no entry %s\n", key);
  CHECK(!"list entry missing");
  return NULL;
}

typedef struct {
  char* json;
  char* params;
  long params_len;
  Npy in, out;
} Model;

static int load_model(const char* name, Model* m) {
  char p[256];
  long n;
  memset(m, 0, sizeof *m);
  snprintf(p, sizeof p, "%s-symbol.json", name);
  m->json = read_fixture(p, &n);
  snprintf(p, sizeof p, "%s-0000.params", name);
  m->params = read_fixture(p, &m->params_len);
  snprintf(p, sizeof p, "%s_input.npy", name);
  if (!read_npy(p, &m->in)) return 0;
  snprintf(p, sizeof p, "%s_output.npy", name);
  if (!read_npy(p, &m->out)) return 0;
  return m->json && m->params;
}

static void free_model(Model* m) {
  free(m->json);
  free(m->params);
  free(m->in.data);
  free(m->out.data);
}

static const char* kData[] = {"data"};

/* A predictor of m for a batch of `batch` rows (other dims as the stored input). */
static PredictorHandle create(const Model* m, uint32_t batch) {
  PredictorHandle h = NULL;
  uint32_t indptr[2] = {0, (uint32_t)m->in.ndim};
  uint32_t shape[8];
  memcpy(shape, m->in.shape, sizeof shape);
  shape[0] = batch;
  if (!POK(MXPredCreate(m->json, m->params, (int)m->params_len, 1, 0, 1, kData, indptr, shape, &h))) return NULL;
  return h;
}

/* Runs h on the first `rows` input rows (repeated to fill `batch` rows) and compares each batch
 * row r with stored output row r % rows. */
static void predict_and_compare(const Model* m, PredictorHandle h, uint32_t batch, uint32_t rows) {
  size_t in_row = m->in.n / m->in.shape[0], out_row = m->out.n / m->out.shape[0];
  float* in = (float*)malloc(batch * in_row * sizeof(float));
  float* out = (float*)malloc(batch * out_row * sizeof(float));
  uint32_t r, *shape = NULL, ndim = 0;
  int dtype = -1;
  for (r = 0; r < batch; ++r) memcpy(in + r * in_row, m->in.data + (r % rows) * in_row, in_row * sizeof(float));
  POK(MXPredGetOutputShape(h, 0, &shape, &ndim));
  CHECK(ndim == 2 && shape[0] == batch && shape[1] == m->out.shape[1]);
  POK(MXPredGetOutputType(h, 0, &dtype));
  CHECK(dtype == 0);
  POK(MXPredSetInput(h, "data", in, (uint32_t)(batch * in_row)));
  POK(MXPredForward(h));
  if (POK(MXPredGetOutput(h, 0, out, (uint32_t)(batch * out_row)))) {
    for (r = 0; r < batch; ++r) {
      double d = max_diff(out + r * out_row, m->out.data + (r % rows) * out_row, out_row);
      if (!CHECK(d <= 1e-4)) {
        fprintf(stderr, "row %u differs by %g\n", r, d);
        break;
      }
    }
  }
  free(in);
  free(out);
}

/* ---------------------------------------------------------------- predict, reshape, steps, threads */
static void test_model(const char* name, uint32_t small, int num_nodes) {
  Model m;
  PredictorHandle h, h2 = NULL, h3 = NULL, mt[2] = {NULL, NULL};
  uint32_t batch, indptr[2], shape[8];
  int step, step_left = -1, steps = 0;
  section(name);
  if (!load_model(name, &m)) {
    free_model(&m);
    return;
  }
  batch = m.in.shape[0];
  h = create(&m, batch);
  if (h) {
    predict_and_compare(&m, h, batch, batch);
    predict_and_compare(&m, h, batch, batch); /* a second run reuses the buffers */

    /* a smaller batch: the first rows */
    indptr[0] = 0;
    indptr[1] = (uint32_t)m.in.ndim;
    memcpy(shape, m.in.shape, sizeof shape);
    shape[0] = small;
    if (POK(MXPredReshape(1, kData, indptr, shape, h, &h2))) predict_and_compare(&m, h2, small, small);
    /* a larger batch (rows repeated) */
    shape[0] = 2 * batch + 1;
    if (POK(MXPredReshape(1, kData, indptr, shape, h, &h3))) predict_and_compare(&m, h3, 2 * batch + 1, batch);
    /* the original is untouched */
    predict_and_compare(&m, h, batch, batch);

    /* step-wise forward: one step per graph node, as in MXNet */
    for (step = 0; step_left != 0 && steps < 1000; ++step, ++steps) {
      if (!POK(MXPredPartialForward(h, step, &step_left))) break;
      if (step == 0) CHECK(step_left == num_nodes - 1);
    }
    CHECK(steps == num_nodes);
    {
      float* out = (float*)malloc(m.out.n * sizeof(float));
      POK(MXPredGetOutput(h, 0, out, (uint32_t)m.out.n));
      CHECK(max_diff(out, m.out.data, m.out.n) <= 1e-4);
      free(out);
    }
    PFAILS(MXPredPartialForward(h, -1, &step_left), "step");
    POK(MXPredFree(h3));
    POK(MXPredFree(h2));
    POK(MXPredFree(h));
  }

  /* predictors sharing the parameters, run interleaved */
  indptr[0] = 0;
  indptr[1] = (uint32_t)m.in.ndim;
  if (POK(MXPredCreateMultiThread(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, 2, mt))) {
    CHECK(mt[0] != NULL && mt[1] != NULL && mt[0] != mt[1]);
    predict_and_compare(&m, mt[1], batch, batch);
    predict_and_compare(&m, mt[0], batch, batch);
    POK(MXPredFree(mt[0]));
    POK(MXPredFree(mt[1]));
  }
  /* MXPredCreateEx with an explicit float32 input */
  {
    const int dt[1] = {0};
    PredictorHandle hx = NULL;
    if (POK(MXPredCreateEx(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, 1, kData, dt,
                           &hx))) {
      predict_and_compare(&m, hx, batch, batch);
      POK(MXPredFree(hx));
    }
  }
  free_model(&m);
}

/* ---------------------------------------------------------------- partial outputs */
static void test_partial_cnn(void) {
  Model m;
  NDListHandle l = NULL;
  uint32_t len = 0, indptr[2] = {0, 4}, *shape, ndim;
  const char* keys[3] = {"cnn_conv0_relu_fwd", "cnn_flatten0_flatten0_output", "cnn_dense0_fwd"};
  PredictorHandle h = NULL;
  section("partial outputs (cnn)");
  if (!load_model("cnn", &m) || !POK(MXNDListCreate(m.params, (int)m.params_len, &l, &len))) {
    free_model(&m);
    return;
  }
  if (POK(MXPredCreatePartialOut(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, 3, keys,
                                 &h))) {
    size_t n0 = 32 * 32 * 28 * 28, n1 = 32 * 3136, n2 = 32 * 10;
    float* o0 = (float*)malloc(n0 * sizeof(float));
    float* o1 = (float*)malloc(n1 * sizeof(float));
    float* o2 = (float*)malloc(n2 * sizeof(float));
    POK(MXPredGetOutputShape(h, 0, &shape, &ndim));
    CHECK(ndim == 4 && shape[0] == 32 && shape[1] == 32 && shape[2] == 28 && shape[3] == 28);
    POK(MXPredGetOutputShape(h, 1, &shape, &ndim));
    CHECK(ndim == 2 && shape[0] == 32 && shape[1] == 3136);
    POK(MXPredGetOutputShape(h, 2, &shape, &ndim));
    CHECK(ndim == 2 && shape[0] == 32 && shape[1] == 10);
    PFAILS(MXPredGetOutputShape(h, 3, &shape, &ndim), "3");
    POK(MXPredSetInput(h, "data", m.in.data, (uint32_t)m.in.n));
    POK(MXPredForward(h));
    if (POK(MXPredGetOutput(h, 0, o0, (uint32_t)n0)) && POK(MXPredGetOutput(h, 1, o1, (uint32_t)n1)) &&
        POK(MXPredGetOutput(h, 2, o2, (uint32_t)n2))) {
      const float *w0 = nd_find(l, len, "arg:cnn_conv0_weight", NULL, NULL),
                  *b0 = nd_find(l, len, "arg:cnn_conv0_bias", NULL, NULL),
                  *wd = nd_find(l, len, "arg:cnn_dense0_weight", NULL, NULL),
                  *bd = nd_find(l, len, "arg:cnn_dense0_bias", NULL, NULL);
      double worst = 0;
      int n, f, y, x, ky, kx, o, k;
      CHECK(max_diff(o2, m.out.data, n2) <= 1e-4);
      /* conv 3x3 pad 1 + relu on images 0 and 31, from the parameters */
      for (n = 0; w0 && b0 && n < 32; n += 31)
        for (f = 0; f < 32; ++f)
          for (y = 0; y < 28; ++y)
            for (x = 0; x < 28; ++x) {
              double s = b0[f];
              for (ky = 0; ky < 3; ++ky)
                for (kx = 0; kx < 3; ++kx) {
                  int iy = y + ky - 1, ix = x + kx - 1;
                  if (iy < 0 || iy >= 28 || ix < 0 || ix >= 28) continue;
                  s += (double)w0[f * 9 + ky * 3 + kx] * m.in.data[(size_t)n * 784 + iy * 28 + ix];
                }
              if (s < 0) s = 0;
              s = dabs(s - o0[(((size_t)n * 32 + f) * 28 + y) * 28 + x]);
              if (s > worst) worst = s;
            }
      CHECK(worst <= 1e-4);
      /* the flattened features through the dense layer give MXNet's stored output */
      worst = 0;
      for (n = 0; wd && bd && n < 32; ++n)
        for (o = 0; o < 10; ++o) {
          double s = bd[o];
          for (k = 0; k < 3136; ++k) s += (double)wd[(size_t)o * 3136 + k] * o1[(size_t)n * 3136 + k];
          s = dabs(s - m.out.data[n * 10 + o]);
          if (s > worst) worst = s;
        }
      CHECK(worst <= 1e-4);
    }
    free(o0);
    free(o1);
    free(o2);
    POK(MXPredFree(h));
  }
  {
    const char* bad[1] = {"no_such_layer"};
    h = SENTINEL_PTR(PredictorHandle);
    PFAILS(MXPredCreatePartialOut(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, 1, bad,
                                  &h),
           "no_such_layer");
    CHECK(h == SENTINEL_PTR(PredictorHandle));
  }
  POK(MXNDListFree(l));
  free_model(&m);
}

static void test_partial_bn(void) {
  Model m;
  NDListHandle l = NULL;
  uint32_t len = 0, indptr[2] = {0, 2}, *shape, ndim;
  const char* keys[1] = {"mlpbn_batchnorm0_fwd"};
  PredictorHandle h = NULL;
  section("partial output (BatchNorm in inference mode)");
  if (!load_model("mlp_bn", &m) || !POK(MXNDListCreate(m.params, (int)m.params_len, &l, &len))) {
    free_model(&m);
    return;
  }
  CHECK(len == 14);
  if (POK(MXPredCreatePartialOut(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, 1, keys,
                                 &h))) {
    float out[8 * 64];
    const float *w = nd_find(l, len, "arg:mlpbn_dense0_weight", NULL, NULL),
                *b = nd_find(l, len, "arg:mlpbn_dense0_bias", NULL, NULL),
                *g = nd_find(l, len, "arg:mlpbn_batchnorm0_gamma", NULL, NULL),
                *be = nd_find(l, len, "arg:mlpbn_batchnorm0_beta", NULL, NULL),
                *rm = nd_find(l, len, "aux:mlpbn_batchnorm0_running_mean", NULL, NULL),
                *rv = nd_find(l, len, "aux:mlpbn_batchnorm0_running_var", NULL, NULL);
    POK(MXPredGetOutputShape(h, 0, &shape, &ndim));
    CHECK(ndim == 2 && shape[0] == 8 && shape[1] == 64);
    POK(MXPredSetInput(h, "data", m.in.data, (uint32_t)m.in.n));
    POK(MXPredForward(h));
    if (POK(MXPredGetOutput(h, 0, out, 8 * 64)) && w && b && g && be && rm && rv) {
      double worst = 0;
      int n, c, k;
      for (n = 0; n < 8; ++n)
        for (c = 0; c < 64; ++c) {
          double s = b[c], y;
          for (k = 0; k < 20; ++k) s += (double)w[c * 20 + k] * m.in.data[n * 20 + k];
          y = (s - rm[c]) / dsqrt((double)rv[c] + 1e-5) * g[c] + be[c];
          y = dabs(y - out[n * 64 + c]);
          if (y > worst) worst = y;
        }
      CHECK(worst <= 1e-4);
    }
    POK(MXPredFree(h));
  }
  POK(MXNDListFree(l));
  free_model(&m);
}

/* ---------------------------------------------------------------- output layers: labels */
/* data -> FullyConnected(3) -> SoftmaxOutput(label): inference never reads the label, so a
 * predictor needs no value for it. */
static const char* kSoftmaxJson =
    "{\"nodes\": [{\"op\": \"null\", \"name\": \"data\", \"inputs\": []},"
    " {\"op\": \"null\", \"name\": \"fc_weight\", \"inputs\": []},"
    " {\"op\": \"null\", \"name\": \"fc_bias\", \"inputs\": []},"
    " {\"op\": \"FullyConnected\", \"name\": \"fc\", \"attrs\": {\"num_hidden\": \"3\"},"
    "  \"inputs\": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]},"
    " {\"op\": \"null\", \"name\": \"softmax_label\", \"inputs\": []},"
    " {\"op\": \"SoftmaxOutput\", \"name\": \"softmax\", \"inputs\": [[3, 0, 0], [4, 0, 0]]}],"
    " \"arg_nodes\": [0, 1, 2, 4], \"node_row_ptr\": [0, 1, 2, 3, 4, 5, 6],"
    " \"heads\": [[5, 0, 0]], \"attrs\": {\"mxnet_version\": [\"int\", 10901]}}";

static void check_softmax(PredictorHandle h, const float* x, const float* w, const float* b, uint32_t batch,
                          int softmax) {
  float out[5 * 3];
  uint32_t n, o, k;
  double worst = 0;
  POK(MXPredSetInput(h, "data", x, batch * 4));
  POK(MXPredForward(h));
  if (!POK(MXPredGetOutput(h, 0, out, batch * 3))) return;
  for (n = 0; n < batch; ++n) {
    double z[3], sum = 0;
    for (o = 0; o < 3; ++o) {
      z[o] = b[o];
      for (k = 0; k < 4; ++k) z[o] += (double)w[o * 4 + k] * x[n * 4 + k];
    }
    for (o = 0; softmax && o < 3; ++o) sum += dexp(z[o]);
    for (o = 0; o < 3; ++o) {
      double want = softmax ? dexp(z[o]) / sum : z[o];
      double d = dabs(want - out[n * 3 + o]);
      if (d > worst) worst = d;
    }
  }
  CHECK(worst <= 1e-5);
}

static void test_output_layer_label(void) {
  static const float w[12] = {0.5f, -1, 0.25f, 2, -0.5f, 1, 1.5f, -2, 0.1f, 0.2f, -0.3f, 0.4f};
  static const float b[3] = {0.1f, -0.2f, 0.3f};
  static const float x[20] = {1, 2, -1, 0.5f, 0, -1, 2, 1, 0.3f, 0.3f, -0.7f, 1, 2, 2, 0, -1, -1, 0.5f, 1, 0};
  const int64_t ws[2] = {3, 4}, bs[1] = {3};
  const char* names[2] = {"arg:fc_weight", "arg:fc_bias"};
  mx_ndarray* arrs[2] = {NULL, NULL};
  void* buf = NULL;
  size_t len = 0;
  uint32_t indptr[2] = {0, 2}, shape[2] = {2, 4}, *oshape, ondim;
  PredictorHandle h = NULL, h5 = NULL, hp = NULL;
  const char* fc[1] = {"fc"};
  section("output layer labels (SoftmaxOutput)");
  if (!OK(mx_ndarray_create(ws, 2, MX_FLOAT32, MX_CPU, 0, &arrs[0])) ||
      !OK(mx_ndarray_create(bs, 1, MX_FLOAT32, MX_CPU, 0, &arrs[1])) ||
      !OK(mx_ndarray_copy_from_host(arrs[0], w, sizeof w)) || !OK(mx_ndarray_copy_from_host(arrs[1], b, sizeof b)) ||
      !OK(mx_ndarray_save_to_buffer(2, arrs, names, &buf, &len)))
    goto done;
  if (POK(MXPredCreate(kSoftmaxJson, buf, (int)len, 1, 0, 1, kData, indptr, shape, &h))) {
    const float label[2] = {2, 0};
    check_softmax(h, x, w, b, 2, 1);
    POK(MXPredSetInput(h, "softmax_label", label, 2)); /* the label is an argument: settable, unused */
    check_softmax(h, x, w, b, 2, 1);
    shape[0] = 5;
    if (POK(MXPredReshape(1, kData, indptr, shape, h, &h5))) {
      POK(MXPredGetOutputShape(h5, 0, &oshape, &ondim));
      CHECK(ondim == 2 && oshape[0] == 5 && oshape[1] == 3);
      check_softmax(h5, x, w, b, 5, 1);
      POK(MXPredFree(h5));
    }
    POK(MXPredFree(h));
  }
  shape[0] = 2;
  if (POK(MXPredCreatePartialOut(kSoftmaxJson, buf, (int)len, 1, 0, 1, kData, indptr, shape, 1, fc, &hp))) {
    check_softmax(hp, x, w, b, 2, 0);
    PFAILS(MXPredSetInput(hp, "softmax_label", x, 2), "softmax_label"); /* not in the partial graph */
    POK(MXPredFree(hp));
  }
  /* without parameters the weight has no value: an error naming it */
  PFAILS(MXPredCreate(kSoftmaxJson, NULL, 0, 1, 0, 1, kData, indptr, shape, &h), "fc_weight");
done:
  mx_buffer_free(buf);
  mx_ndarray_free(arrs[0]);
  mx_ndarray_free(arrs[1]);
}

/* ---------------------------------------------------------------- monitor */
typedef struct {
  int calls;
  int saw_dense_out, saw_conv_weight, saw_conv_data;
  double dense_diff;
  const Model* m;
} MonitorLog;

static void on_array(const char* name, NDArrayHandle arr, void* ctx) {
  MonitorLog* log = (MonitorLog*)ctx;
  mx_ndarray* a = (mx_ndarray*)arr;
  int ndim = 0;
  const int64_t* shape = NULL;
  ++log->calls;
  if (mx_ndarray_shape(a, &ndim, &shape) != MX_OK) return;
  if (!strcmp(name, "cnn_dense0_fwd_output") && ndim == 2 && shape[0] == 32 && shape[1] == 10) {
    float out[320];
    if (mx_ndarray_copy_to_host(a, out, sizeof out) == MX_OK) {
      log->saw_dense_out = 1;
      log->dense_diff = max_diff(out, log->m->out.data, 320);
    }
  }
  if (!strcmp(name, "cnn_conv0_fwd_weight") && ndim == 4 && shape[0] == 32 && shape[1] == 1) log->saw_conv_weight = 1;
  if (!strcmp(name, "cnn_conv0_fwd_data") && ndim == 4 && shape[0] == 32) log->saw_conv_data = 1;
}

static void test_monitor(void) {
  Model m;
  PredictorHandle h;
  MonitorLog log;
  float out[320];
  section("monitor callback");
  if (!load_model("cnn", &m) || !(h = create(&m, 32))) {
    free_model(&m);
    return;
  }
  memset(&log, 0, sizeof log);
  log.m = &m;
  POK(MXPredSetInput(h, "data", m.in.data, (uint32_t)m.in.n));
  POK(MXPredSetMonitorCallback(h, on_array, &log, false));
  POK(MXPredForward(h));
  CHECK(log.calls == 8); /* one visible output per op node */
  CHECK(log.saw_dense_out && log.dense_diff <= 1e-4);
  CHECK(!log.saw_conv_weight);
  POK(MXPredGetOutput(h, 0, out, 320));
  CHECK(max_diff(out, m.out.data, 320) <= 1e-4);

  memset(&log, 0, sizeof log);
  log.m = &m;
  POK(MXPredSetMonitorCallback(h, on_array, &log, true));
  POK(MXPredForward(h));
  CHECK(log.calls == 8 + 14); /* and every op input */
  CHECK(log.saw_conv_weight && log.saw_conv_data && log.saw_dense_out);

  memset(&log, 0, sizeof log);
  POK(MXPredSetMonitorCallback(h, NULL, NULL, false));
  memset(out, 0, sizeof out);
  POK(MXPredGetOutput(h, 0, out, 320)); /* the monitored run's outputs stay readable */
  CHECK(max_diff(out, m.out.data, 320) <= 1e-4);
  POK(MXPredForward(h));
  CHECK(log.calls == 0);
  POK(MXPredGetOutput(h, 0, out, 320));
  CHECK(max_diff(out, m.out.data, 320) <= 1e-4);
  POK(MXPredFree(h));
  free_model(&m);
}

/* ---------------------------------------------------------------- NDArray lists */
static void test_ndlist(void) {
  static const char* kNames[8] = {"f32", "f32_special", "f64", "f16", "u8", "i32", "i8", "i64"};
  long len = 0;
  char* buf;
  NDListHandle l = NULL;
  uint32_t n = 0, i, nd;
  const char* key;
  const float* d;
  const uint32_t* s;
  section("NDList");
  buf = read_fixture("cnn-0000.params", &len);
  if (buf && POK(MXNDListCreate(buf, (int)len, &l, &n))) {
    CHECK(n == 6);
    d = nd_find(l, n, "arg:cnn_dense0_weight", &s, &nd);
    CHECK(d && nd == 2 && s[0] == 10 && s[1] == 3136);
    PFAILS(MXNDListGet(l, 6, &key, &d, &s, &nd), "6");
    POK(MXNDListFree(l));
  }
  if (buf) {
    l = SENTINEL_PTR(NDListHandle);
    PFAILS(MXNDListCreate(buf, (int)len / 2, &l, &n), "");
    CHECK(l == SENTINEL_PTR(NDListHandle));
  }
  free(buf);

  /* every dtype, cast to float32, against numpy's values */
  buf = read_fixture("arrays_dict.nd", &len);
  if (buf && POK(MXNDListCreate(buf, (int)len, &l, &n))) {
    CHECK(n == 8);
    for (i = 0; i < 8; ++i) {
      char p[64];
      Npy ref;
      uint32_t k, same = 1;
      d = nd_find(l, n, kNames[i], &s, &nd);
      snprintf(p, sizeof p, "arrays_npy/%s.npy", kNames[i]);
      if (!d || !read_npy(p, &ref)) continue;
      CHECK(nd == (uint32_t)ref.ndim);
      for (k = 0; k < nd && k < 8; ++k) same &= s[k] == ref.shape[k];
      for (k = 0; k < ref.n; ++k) {
        float a = d[k], b = ref.data[k];
        if (!(a == b || (a != a && b != b))) same = 0;
      }
      if (!CHECK(same)) fprintf(stderr, "entry %s differs\n", kNames[i]);
      free(ref.data);
    }
    POK(MXNDListFree(l));
  }
  free(buf);
  buf = read_fixture("arrays_list.nd", &len);
  if (buf && POK(MXNDListCreate(buf, (int)len, &l, &n))) {
    CHECK(n == 8);
    if (POK(MXNDListGet(l, 2, &key, &d, &s, &nd))) CHECK(key && key[0] == 0 && nd == 2 && s[0] == 2 && s[1] == 4);
    POK(MXNDListFree(l));
  }
  free(buf);
  PFAILS(MXNDListGet(NULL, 0, &key, &d, &s, &nd), "NULL");
  PFAILS(MXNDListCreate(NULL, 10, &l, &n), "NULL");
  PFAILS(MXNDListCreate("", -1, &l, &n), "negative");
  POK(MXNDListFree(NULL));
}

/* ---------------------------------------------------------------- errors */
static void test_errors(void) {
  Model m, other;
  PredictorHandle h, bogus;
  uint32_t indptr[2] = {0, 4}, bad_shape[4] = {32, 1, 28, 27};
  NDListHandle l = NULL;
  uint32_t n = 0;
  float out[320];
  int step_left;
  char* gluon;
  long gluon_len = 0;
  section("errors");
  if (!load_model("cnn", &m) || !load_model("mlp_bn", &other)) {
    free_model(&m);
    return;
  }
  h = SENTINEL_PTR(PredictorHandle);
  PFAILS(MXPredCreate("{not json", m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, &h), "JSON");
  CHECK(h == SENTINEL_PTR(PredictorHandle));
  PFAILS(MXPredCreate(NULL, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, &h), "NULL");
  /* parameters of another model: the first missing weight is named */
  PFAILS(MXPredCreate(m.json, other.params, (int)other.params_len, 1, 0, 1, kData, indptr, m.in.shape, &h),
         "cnn_conv0_weight");
  /* a Gluon save_parameters file has no arg:/aux: names */
  gluon = read_fixture("cnn_gluon.params", &gluon_len);
  if (gluon) PFAILS(MXPredCreate(m.json, gluon, (int)gluon_len, 1, 0, 1, kData, indptr, m.in.shape, &h), "save_parameters");
  free(gluon);
  PFAILS(MXPredCreate(m.json, m.params, (int)m.params_len / 2, 1, 0, 1, kData, indptr, m.in.shape, &h), "");
  PFAILS(MXPredCreate(m.json, m.params, -5, 1, 0, 1, kData, indptr, m.in.shape, &h), "negative");
  PFAILS(MXPredCreate(m.json, NULL, 100, 1, 0, 1, kData, indptr, m.in.shape, &h), "NULL");
  /* input shapes that do not fit the weights */
  PFAILS(MXPredCreate(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, bad_shape, &h), "cnn_dense0");
  PFAILS(MXPredCreate(m.json, m.params, (int)m.params_len, 1, 0, 1, NULL, indptr, m.in.shape, &h), "input_keys");
  {
    const char* wrong[1] = {"dta"};
    PFAILS(MXPredCreate(m.json, m.params, (int)m.params_len, 1, 0, 1, wrong, indptr, m.in.shape, &h), "dta");
  }
  PFAILS(MXPredCreate(m.json, m.params, (int)m.params_len, 9, 0, 1, kData, indptr, m.in.shape, &h), "dev_type");
  PFAILS(MXPredCreate(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, NULL), "out");
  {
    const int dt[1] = {99};
    PFAILS(MXPredCreateEx(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, 1, kData, dt, &h),
           "99");
  }
  PFAILS(MXPredCreateMultiThread(m.json, m.params, (int)m.params_len, 1, 0, 1, kData, indptr, m.in.shape, 0, &h),
         "num_threads");
  CHECK(h == SENTINEL_PTR(PredictorHandle));

  h = create(&m, 32);
  if (h) {
    uint32_t* shape;
    uint32_t ndim;
    int dtype;
    PFAILS(MXPredSetInput(h, "data", m.in.data, (uint32_t)m.in.n - 1), "data");
    PFAILS(MXPredSetInput(h, "nope", m.in.data, (uint32_t)m.in.n), "nope");
    PFAILS(MXPredSetInput(h, NULL, m.in.data, (uint32_t)m.in.n), "key");
    POK(MXPredSetInput(h, "data", m.in.data, (uint32_t)m.in.n));
    POK(MXPredForward(h));
    PFAILS(MXPredGetOutput(h, 0, out, 319), "319");
    PFAILS(MXPredGetOutput(h, 1, out, 320), "1");
    PFAILS(MXPredGetOutputType(h, 1, &dtype), "1");
    PFAILS(MXPredGetOutputShape(h, 0, NULL, &ndim), "shape_data");
    /* only input shapes may change */
    {
      const char* k[1] = {"cnn_dense0_weight"};
      uint32_t ip[2] = {0, 2}, sh[2] = {10, 100};
      bogus = SENTINEL_PTR(PredictorHandle);
      PFAILS(MXPredReshape(1, k, ip, sh, h, &bogus), "cnn_dense0_weight");
      PFAILS(MXPredReshape(1, kData, indptr, bad_shape, h, &bogus), "input shapes");
      CHECK(bogus == SENTINEL_PTR(PredictorHandle));
    }
    /* h still works after the failures */
    POK(MXPredGetOutput(h, 0, out, 320));
    CHECK(max_diff(out, m.out.data, 320) <= 1e-4);
    POK(MXPredGetOutputShape(h, 0, &shape, &ndim));
    POK(MXPredFree(h));
    /* a freed handle is refused, not used */
    PFAILS(MXPredForward(h), "not a live");
    PFAILS(MXPredFree(h), "not a live");
  }
  /* NULL and foreign handles */
  PFAILS(MXPredForward(NULL), "NULL");
  PFAILS(MXPredSetInput(NULL, "data", m.in.data, (uint32_t)m.in.n), "NULL");
  PFAILS(MXPredGetOutput(NULL, 0, out, 320), "NULL");
  PFAILS(MXPredPartialForward(NULL, 0, &step_left), "NULL");
  PFAILS(MXPredReshape(1, kData, indptr, m.in.shape, NULL, &bogus), "NULL");
  PFAILS(MXPredSetMonitorCallback(NULL, NULL, NULL, false), "NULL");
  PFAILS(MXPredForward(&n), "not a live");
  if (POK(MXNDListCreate(m.params, (int)m.params_len, &l, &n))) {
    PFAILS(MXPredForward(l), "not a live"); /* a list is not a predictor */
    POK(MXNDListFree(l));
    PFAILS(MXNDListFree(l), "not a live");
  }
  POK(MXPredFree(NULL));
  free_model(&m);
  free_model(&other);
}

int main(void) {
  section("fixtures");
  if (!CHECK(find_fixtures())) {
    fprintf(stderr, "MXNet 1.9.1 fixture files not found: keep shared/fixtures/mxnet-1.9.1 beside the checkout "
                    "or set MX_FIXTURES_DIR\n");
    return summary();
  }
  test_model("cnn", 5, 15);
  test_model("mlp_bn", 3, 24);
  test_partial_cnn();
  test_partial_bn();
  test_output_layer_label();
  test_monitor();
  test_ndlist();
  test_errors();
  return summary();
}
