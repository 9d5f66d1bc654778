/* C ABI tests of the symbol section: building graphs, MXNet's names for arguments / auxiliary
 * states / outputs, attributes, composition, JSON (round trip, MXNet 1.9.1 fixture files, bad
 * input), inference results and handle checks. Every call goes through include/mx/c_api.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* ---------------------------------------------------------------- helpers */
static mx_symbol* var(const char* name) {
  mx_symbol* s = NULL;
  OK(mx_symbol_variable(name, &s));
  return s;
}

/* op with n params (keys/vals) and positional inputs. */
static mx_symbol* op(const char* name, const char* node, int n, const char* const* keys,
                     const char* const* vals, int nin, mx_symbol* const* ins) {
  mx_symbol* s = NULL;
  OK(mx_symbol_create(name, n, keys, vals, nin, NULL, ins, node, &s));
  return s;
}

/* The list `which` of s equals the NULL-terminated expected names. */
static int list_is(mx_symbol* s, int which, const char* const* expected) {
  size_t n = 0, i, want = 0;
  const char* const* names = NULL;
  if (!OK(mx_symbol_list(s, which, &n, &names))) return 0;
  while (expected[want]) ++want;
  if (!CHECK(n == want)) {
    for (i = 0; i < n; ++i) fprintf(stderr, "  got[%zu] = %s\n", i, names[i]);
    return 0;
  }
  for (i = 0; i < n; ++i) {
    if (!CHECK(strcmp(names[i], expected[i]) == 0)) {
      fprintf(stderr, "  list %d item %zu: got '%s', expected '%s'\n", which, i, names[i], expected[i]);
      return 0;
    }
  }
  return 1;
}

static char* read_text(const char* path) {
  FILE* f = fopen(path, "rb");
  char* data;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = (char*)malloc((size_t)n + 1);
  if (fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    fclose(f);
    return NULL;
  }
  data[n] = 0;
  fclose(f);
  return data;
}

/* The MXNet 1.9.1 fixture directory: $MX_FIXTURES_DIR, else shared/fixtures/mxnet-1.9.1 beside
 * the source tree (located from this file's path as the compiler saw it). */
static int fixture_path(const char* file, char* out, size_t n) {
  const char* env = getenv("MX_FIXTURES_DIR");
  char root[2048];
  const char* src = __FILE__;
  const char* cut = strstr(src, "tests/c/test_symbol.c");
  FILE* f;
  if (env && *env) {
    snprintf(out, n, "%s/%s", env, file);
    if ((f = fopen(out, "rb")) != NULL) {
      fclose(f);
      return 1;
    }
  }
  if (cut) {
    size_t len = (size_t)(cut - src);
    if (len >= sizeof root) len = sizeof root - 1;
    memcpy(root, src, len);
    root[len] = 0;
    snprintf(out, n, "%s../shared/fixtures/mxnet-1.9.1/%s", root, file);
    if ((f = fopen(out, "rb")) != NULL) {
      fclose(f);
      return 1;
    }
    snprintf(out, n, "%sshared/fixtures/mxnet-1.9.1/%s", root, file);
    if ((f = fopen(out, "rb")) != NULL) {
      fclose(f);
      return 1;
    }
  }
  return 0;
}

/* An MLP: data -> fc1(64) -> bn1 -> relu -> dropout -> fc2(10) -> softmax. */
static mx_symbol* build_mlp(void) {
  const char* k_fc1[] = {"num_hidden"};
  const char* v_fc1[] = {"64"};
  const char* k_bn[] = {"fix_gamma", "eps"};
  const char* v_bn[] = {"False", "1e-05"};
  const char* k_act[] = {"act_type"};
  const char* v_act[] = {"relu"};
  const char* k_do[] = {"p"};
  const char* v_do[] = {"0.5"};
  const char* k_fc2[] = {"num_hidden", "__lr_mult__"};
  const char* v_fc2[] = {"10", "2.0"};
  mx_symbol *data = var("data"), *fc1, *bn, *act, *drop, *fc2, *out;
  fc1 = op("FullyConnected", "fc1", 1, k_fc1, v_fc1, 1, &data);
  bn = op("BatchNorm", "bn1", 2, k_bn, v_bn, 1, &fc1);
  act = op("Activation", "relu1", 1, k_act, v_act, 1, &bn);
  drop = op("Dropout", "drop1", 1, k_do, v_do, 1, &act);
  fc2 = op("FullyConnected", "fc2", 2, k_fc2, v_fc2, 1, &drop);
  out = op("SoftmaxOutput", "softmax", 0, NULL, NULL, 1, &fc2);
  mx_symbol_free(data);
  mx_symbol_free(fc1);
  mx_symbol_free(bn);
  mx_symbol_free(act);
  mx_symbol_free(drop);
  mx_symbol_free(fc2);
  return out;
}

static const char* const kMlpArgs[] = {"data", "fc1_weight", "fc1_bias", "bn1_gamma", "bn1_beta",
                                       "fc2_weight", "fc2_bias", "softmax_label", NULL};
static const char* const kMlpAux[] = {"bn1_moving_mean", "bn1_moving_var", NULL};
static const char* const kMlpOut[] = {"softmax_output", NULL};

/* ---------------------------------------------------------------- sections */
static void test_build_and_list(void) {
  mx_symbol* mlp;
  const char* const inputs[] = {"data",     "fc1_weight", "fc1_bias",   "bn1_gamma",  "bn1_beta",
                                "bn1_moving_mean", "bn1_moving_var", "fc2_weight", "fc2_bias",
                                "softmax_label", NULL};
  const char* name = NULL;
  size_t n = 0;
  section("build an MLP and list its names");
  mlp = build_mlp();
  if (!mlp) return;
  list_is(mlp, 0, kMlpArgs);
  list_is(mlp, 1, kMlpOut);
  list_is(mlp, 2, kMlpAux);
  list_is(mlp, 3, inputs);
  OK(mx_symbol_name(mlp, &name));
  CHECK(name && strcmp(name, "softmax") == 0);
  OK(mx_symbol_num_outputs(mlp, &n));
  CHECK(n == 1);
  FAILS(mx_symbol_list(mlp, 7, &n, NULL), MX_ERR_INVALID_ARGUMENT, "names", NULL);
  FAILS(mx_symbol_list(mlp, 7, &n, (const char* const**)&name), MX_ERR_INVALID_ARGUMENT, "which", NULL);
  mx_symbol_free(mlp);
}

static void test_create_rules(void) {
  mx_symbol *data = var("data"), *w = var("my_w"), *fc, *c, *bn3, *ins[2];
  const char* k[] = {"num_hidden", "no_bias"};
  const char* v[] = {"3", "True"};
  const char* ik[] = {"weight"};
  const char* kdim[] = {"dim"};
  const char* vdim[] = {"1"};
  const char* kmv[] = {"output_mean_var"};
  const char* vmv[] = {"True"};
  const char* value = NULL;
  int found = -1;
  mx_symbol* out = SENTINEL_PTR(mx_symbol*);
  section("create: defaults, named inputs, variadic count, automatic names, errors");
  {
    const char* const e[] = {"data", "fullyconnected_nb_weight", NULL};
    fc = op("FullyConnected", "fullyconnected_nb", 2, k, v, 1, &data);
    list_is(fc, 0, e);
    mx_symbol_free(fc);
  }
  {
    /* inputs by name: weight given, data and bias created */
    const char* const e[] = {"fcn_data", "my_w", "fcn_bias", NULL};
    OK(mx_symbol_create("FullyConnected", 1, k, v, 1, ik, &w, "fcn", &fc));
    list_is(fc, 0, e);
    mx_symbol_free(fc);
  }
  {
    const char* name = NULL;
    ins[0] = data;
    ins[1] = w;
    OK(mx_symbol_create("Concat", 1, kdim, vdim, 2, NULL, ins, NULL, &c));
    OK(mx_symbol_get_attr(c, "num_args", &value, &found));
    CHECK(found == 1 && value && strcmp(value, "2") == 0);
    OK(mx_symbol_name(c, &name));
    CHECK(name && strncmp(name, "concat", 6) == 0 && name[6] >= '0' && name[6] <= '9');
    mx_symbol_free(c);
  }
  {
    /* a BatchNorm with visible statistics: three outputs named after the op's output names */
    const char* const e[] = {"bn3_output", "bn3_mean", "bn3_var", NULL};
    bn3 = op("BatchNorm", "bn3", 1, kmv, vmv, 1, &data);
    const char* bname = NULL;
    list_is(bn3, 1, e);
    OK(mx_symbol_name(bn3, &bname)); /* outputs of one node: that node's name, as in MXNet */
    CHECK(bname && strcmp(bname, "bn3") == 0);
    /* an input with several outputs is refused */
    FAILS(mx_symbol_create("relu", 0, NULL, NULL, 1, NULL, &bn3, "a", &out), MX_ERR_INVALID_ARGUMENT,
          "a", "outputs");
    mx_symbol_free(bn3);
  }
  FAILS(mx_symbol_create("NoSuchOp", 0, NULL, NULL, 1, NULL, &data, "x", &out), MX_ERR_NOT_FOUND, "NoSuchOp",
        NULL);
  {
    const char* kb[] = {"num_hiden"};
    const char* vb[] = {"3"};
    FAILS(mx_symbol_create("FullyConnected", 1, kb, vb, 1, NULL, &data, "fcx", &out), MX_ERR_INVALID_ARGUMENT,
          "num_hiden", "fcx");
  }
  {
    const char* ikb[] = {"weights"};
    FAILS(mx_symbol_create("FullyConnected", 1, k, v, 1, ikb, &w, "fcy", &out), MX_ERR_INVALID_ARGUMENT,
          "weights", "fcy");
  }
  {
    mx_symbol* three[3] = {data, w, data};
    FAILS(mx_symbol_create("Activation", 0, NULL, NULL, 3, NULL, three, "act", &out), MX_ERR_INVALID_ARGUMENT,
          "act", NULL);
  }
  CHECK(out == SENTINEL_PTR(mx_symbol*));
  mx_symbol_free(data);
  mx_symbol_free(w);
}

static void test_attrs_compose_internals(void) {
  mx_symbol *mlp = build_mlp(), *fc2, *internals, *children, *grp, *x, *y, *composed, *o2, *parts[2];
  const char* value = NULL;
  int found = -1;
  size_t n = 0;
  const char* const* triples = NULL;
  mx_symbol* out = SENTINEL_PTR(mx_symbol*);
  section("attributes, internals, children, group, compose");
  if (!mlp) return;
  OK(mx_symbol_get_internals(mlp, &internals));
  {
    const char* const e[] = {"data", "fc1_weight", "fc1_bias", "fc1_output", "bn1_gamma", "bn1_beta",
                             "bn1_moving_mean", "bn1_moving_var", "bn1_output", "relu1_output",
                             "drop1_output", "fc2_weight", "fc2_bias", "fc2_output", "softmax_label",
                             "softmax_output", NULL};
    list_is(internals, 1, e);
  }
  OK(mx_symbol_get_output(internals, 13, &fc2));
  FAILS(mx_symbol_get_output(internals, 16, &out), MX_ERR_INDEX, "16", NULL);
  OK(mx_symbol_get_attr(fc2, "num_hidden", &value, &found));
  CHECK(found == 1 && strcmp(value, "10") == 0);
  OK(mx_symbol_get_attr(fc2, "__lr_mult__", &value, &found));
  CHECK(found == 1 && strcmp(value, "2.0") == 0);
  OK(mx_symbol_get_attr(fc2, "nope", &value, &found));
  CHECK(found == 0 && value == NULL);
  OK(mx_symbol_set_attr(fc2, "__wd_mult__", "0.5"));
  OK(mx_symbol_get_attr(fc2, "__wd_mult__", &value, &found));
  CHECK(found == 1 && strcmp(value, "0.5") == 0);
  OK(mx_symbol_list_attr(fc2, 0, &n, &triples));
  CHECK(n == 3);
  if (n == 3) {
    CHECK(strcmp(triples[0], "fc2") == 0 && strcmp(triples[1], "num_hidden") == 0 && strcmp(triples[2], "10") == 0);
    CHECK(strcmp(triples[3], "fc2") == 0 && strcmp(triples[4], "__lr_mult__") == 0);
  }
  /* created variables take the node's attributes (nnvm), and BatchNorm's statistics their __init__ */
  {
    mx_symbol* w;
    OK(mx_symbol_get_output(internals, 11, &w));
    OK(mx_symbol_get_attr(w, "__lr_mult__", &value, &found));
    CHECK(found == 1 && strcmp(value, "2.0") == 0);
    mx_symbol_free(w);
    OK(mx_symbol_get_output(internals, 7, &w));
    OK(mx_symbol_get_attr(w, "__init__", &value, &found));
    CHECK(found == 1 && strcmp(value, "[\"one\", {}]") == 0);
    mx_symbol_free(w);
  }
  OK(mx_symbol_list_attr(mlp, 1, &n, &triples));
  CHECK(n >= 8);

  OK(mx_symbol_get_children(fc2, &children));
  {
    const char* const e[] = {"drop1_output", "fc2_weight", "fc2_bias", NULL};
    list_is(children, 1, e);
  }
  {
    mx_symbol* none = SENTINEL_PTR(mx_symbol*);
    mx_symbol* d = var("d");
    OK(mx_symbol_get_children(d, &none));
    CHECK(none == NULL);
    mx_symbol_free(d);
  }
  parts[0] = fc2;
  parts[1] = mlp;
  OK(mx_symbol_group(2, parts, &grp));
  {
    const char* const e[] = {"fc2_output", "softmax_output", NULL};
    const char* name = SENTINEL_PTR(const char*);
    list_is(grp, 1, e);
    OK(mx_symbol_name(grp, &name));
    CHECK(name == NULL);
    FAILS(mx_symbol_set_attr(grp, "__k__", "v"), MX_ERR_INVALID_ARGUMENT, "fc2", "softmax");
  }

  /* compose: replace 'data' by tanh(x), rename the head */
  x = var("x");
  {
    const char* ka[] = {"act_type"};
    const char* va[] = {"tanh"};
    const char* keys[] = {"data"};
    const char* const e[] = {"x", "fc1_weight", "fc1_bias", "bn1_gamma", "bn1_beta", "fc2_weight",
                             "fc2_bias", "softmax_label", NULL};
    y = op("Activation", "pre", 1, ka, va, 1, &x);
    OK(mx_symbol_compose(mlp, "head", 1, keys, &y, &composed));
    list_is(composed, 0, e);
    {
      const char* const eo[] = {"head_output", NULL};
      list_is(composed, 1, eo);
    }
    list_is(mlp, 0, kMlpArgs); /* the original is untouched */
    {
      const char* bad[] = {"dat"};
      FAILS(mx_symbol_compose(mlp, NULL, 1, bad, &y, &out), MX_ERR_INVALID_ARGUMENT, "dat", "fc1_weight");
    }
    /* positional: the first argument */
    OK(mx_symbol_compose(mlp, NULL, 1, NULL, &y, &o2));
    list_is(o2, 0, e);
    mx_symbol_free(o2);
    mx_symbol_free(composed);
    mx_symbol_free(y);
  }
  CHECK(out == SENTINEL_PTR(mx_symbol*));
  mx_symbol_free(x);
  mx_symbol_free(grp);
  mx_symbol_free(children);
  mx_symbol_free(fc2);
  mx_symbol_free(internals);
  mx_symbol_free(mlp);
}

static void test_json_round_trip(void) {
  mx_symbol *mlp = build_mlp(), *back = NULL, *copy = NULL;
  const char* json = NULL;
  const char* json2 = NULL;
  char* first;
  section("JSON round trip and copies");
  if (!mlp) return;
  OK(mx_symbol_to_json(mlp, &json));
  CHECK(json && strstr(json, "\"mxnet_version\": [\"int\", 10901]") != NULL);
  CHECK(json && strstr(json, "\"op\": \"BatchNorm\"") != NULL);
  /* auxiliary inputs carry version 1 as nnvm writes them */
  CHECK(json && strstr(json, "[6, 0, 1], [7, 0, 1]") != NULL);
  first = json ? strdup(json) : NULL;
  OK(mx_symbol_from_json(json, &back));
  list_is(back, 0, kMlpArgs);
  list_is(back, 1, kMlpOut);
  list_is(back, 2, kMlpAux);
  OK(mx_symbol_to_json(back, &json2));
  CHECK(first && json2 && strcmp(first, json2) == 0);
  OK(mx_symbol_copy(mlp, &copy));
  OK(mx_symbol_to_json(copy, &json2));
  CHECK(first && json2 && strcmp(first, json2) == 0);
  {
    char path[256];
    const char* eng = getenv("MX_ENGINE_TYPE");
    mx_symbol* loaded = NULL;
    snprintf(path, sizeof path, "test_symbol_%s-symbol.json", eng ? eng : "default");
    OK(mx_symbol_save(mlp, path));
    OK(mx_symbol_load(path, &loaded));
    OK(mx_symbol_to_json(loaded, &json2));
    CHECK(first && json2 && strcmp(first, json2) == 0);
    mx_symbol_free(loaded);
    remove(path);
  }
  {
    mx_symbol* out = SENTINEL_PTR(mx_symbol*);
    FAILS(mx_symbol_load("no/such/dir/x-symbol.json", &out), MX_ERR_NOT_FOUND, "x-symbol.json", NULL);
    CHECK(out == SENTINEL_PTR(mx_symbol*));
  }
  free(first);
  mx_symbol_free(copy);
  mx_symbol_free(back);
  mx_symbol_free(mlp);
}

static void test_fixture(void) {
  char path[4096];
  char* text;
  mx_symbol *cnn = NULL, *bn = NULL;
  const char* json = NULL;
  section("MXNet 1.9.1 fixture graphs");
  if (!CHECK(fixture_path("cnn-symbol.json", path, sizeof path))) {
    fprintf(stderr, "  fixture cnn-symbol.json not found: set MX_FIXTURES_DIR\n");
    return;
  }
  text = read_text(path);
  if (!CHECK(text != NULL)) return;
  {
    const char* const args[] = {"data", "cnn_conv0_weight", "cnn_conv0_bias", "cnn_conv1_weight",
                                "cnn_conv1_bias", "cnn_dense0_weight", "cnn_dense0_bias", NULL};
    const char* const outs[] = {"cnn_dense0_fwd_output", NULL};
    const char* const none[] = {NULL};
    OK(mx_symbol_load(path, &cnn));
    list_is(cnn, 0, args);
    list_is(cnn, 1, outs);
    list_is(cnn, 2, none);
    /* written back exactly as MXNet wrote it */
    OK(mx_symbol_to_json(cnn, &json));
    CHECK(json && strcmp(json, text) == 0);
  }
  free(text);
  if (!CHECK(fixture_path("mlp_bn-symbol.json", path, sizeof path))) return;
  text = read_text(path);
  if (!CHECK(text != NULL)) return;
  {
    const char* const aux[] = {"mlpbn_batchnorm0_running_mean", "mlpbn_batchnorm0_running_var",
                               "mlpbn_batchnorm1_running_mean", "mlpbn_batchnorm1_running_var", NULL};
    OK(mx_symbol_from_json(text, &bn));
    list_is(bn, 2, aux);
    OK(mx_symbol_to_json(bn, &json));
    CHECK(json && strcmp(json, text) == 0);
  }
  free(text);
  mx_symbol_free(bn);
  mx_symbol_free(cnn);
}

static void test_bad_json(void) {
  mx_symbol* out = SENTINEL_PTR(mx_symbol*);
  section("bad JSON");
  FAILS(mx_symbol_from_json("{\"nodes\": [", &out), MX_ERR_INVALID_ARGUMENT, "JSON", NULL);
  FAILS(mx_symbol_from_json("", &out), MX_ERR_INVALID_ARGUMENT, "JSON", NULL);
  FAILS(mx_symbol_from_json("[1, 2]", &out), MX_ERR_INVALID_ARGUMENT, "graph", NULL);
  FAILS(mx_symbol_from_json("{\"heads\": []}", &out), MX_ERR_INVALID_ARGUMENT, "nodes", NULL);
  FAILS(mx_symbol_from_json("{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []},"
                            "{\"op\": \"Frobnicate\", \"name\": \"f\", \"inputs\": [[0, 0, 0]]}],"
                            "\"heads\": [[1, 0, 0]]}",
                            &out),
        MX_ERR_NOT_FOUND, "Frobnicate", "'f'");
  FAILS(mx_symbol_from_json("{\"nodes\": [{\"op\": \"relu\", \"name\": \"r\", \"inputs\": [[1, 0, 0]]},"
                            "{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}],"
                            "\"heads\": [[0, 0, 0]]}",
                            &out),
        MX_ERR_INVALID_ARGUMENT, "'r'", "later");
  FAILS(mx_symbol_from_json("{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []},"
                            "{\"op\": \"relu\", \"name\": \"r\", \"inputs\": [[0, 3, 0]]}],"
                            "\"heads\": [[1, 0, 0]]}",
                            &out),
        MX_ERR_INVALID_ARGUMENT, "'r'", "output 3");
  FAILS(mx_symbol_from_json("{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []}],"
                            "\"heads\": [[4, 0, 0]]}",
                            &out),
        MX_ERR_INVALID_ARGUMENT, "head 0", "node 4");
  FAILS(mx_symbol_from_json("{\"nodes\": [{\"op\": \"null\", \"name\": \"a\", \"inputs\": []},"
                            "{\"op\": \"Activation\", \"name\": \"act\", \"attrs\": {\"act_type\": \"relu\","
                            " \"colour\": \"blue\"}, \"inputs\": [[0, 0, 0]]}],"
                            "\"heads\": [[1, 0, 0]]}",
                            &out),
        MX_ERR_INVALID_ARGUMENT, "'act'", "colour");
  CHECK(out == SENTINEL_PTR(mx_symbol*));
  FAILS(mx_symbol_from_json(NULL, &out), MX_ERR_INVALID_ARGUMENT, "json", NULL);
}

static void test_infer(void) {
  mx_symbol* mlp = build_mlp();
  mx_infer_result* res = NULL;
  const char* keys[] = {"data"};
  const int ndims[] = {2};
  const int64_t dims[] = {4, 20};
  const int dts[] = {MX_FLOAT32};
  size_t n = 0;
  int nd = -2, complete = -1, dt = -2;
  const int64_t* d = NULL;
  section("shape and dtype inference results");
  if (!mlp) return;
  if (OK(mx_symbol_infer_shape(mlp, 1, keys, ndims, dims, 0, &res))) {
    OK(mx_infer_result_size(res, 0, &n));
    CHECK(n == 8);
    OK(mx_infer_result_shape(res, 0, 1, &nd, &d)); /* fc1_weight */
    CHECK(nd == 2 && d[0] == 64 && d[1] == 20);
    OK(mx_infer_result_shape(res, 1, 0, &nd, &d));
    CHECK(nd == 2 && d[0] == 4 && d[1] == 10);
    OK(mx_infer_result_size(res, 2, &n));
    CHECK(n == 2);
    OK(mx_infer_result_shape(res, 2, 1, &nd, &d)); /* bn1_moving_var */
    CHECK(nd == 1 && d[0] == 64);
    OK(mx_infer_result_complete(res, &complete));
    CHECK(complete == 1);
    FAILS(mx_infer_result_shape(res, 0, 8, &nd, &d), MX_ERR_INDEX, "8", NULL);
    FAILS(mx_infer_result_dtype(res, 0, 0, &dt), MX_ERR_INVALID_ARGUMENT, "shapes", NULL);
    mx_infer_result_free(res);
  }
  {
    const char* bad[] = {"dta"};
    res = SENTINEL_PTR(mx_infer_result*);
    FAILS(mx_symbol_infer_shape(mlp, 1, bad, ndims, dims, 0, &res), MX_ERR_INVALID_ARGUMENT, "dta", "data");
    CHECK(res == SENTINEL_PTR(mx_infer_result*));
  }
  if (OK(mx_symbol_infer_type(mlp, 1, keys, dts, 0, &res))) {
    OK(mx_infer_result_dtype(res, 0, 5, &dt));
    CHECK(dt == MX_FLOAT32);
    OK(mx_infer_result_dtype(res, 1, 0, &dt));
    CHECK(dt == MX_FLOAT32);
    OK(mx_infer_result_complete(res, &complete));
    CHECK(complete == 1);
    mx_infer_result_free(res);
  }
  mx_infer_result_free(NULL);
  mx_symbol_free(mlp);
}

static void test_handles(void) {
  mx_symbol* s = var("v");
  size_t n = 0;
  section("handle checks");
  FAILS(mx_symbol_num_outputs(NULL, &n), MX_ERR_HANDLE, "symbol", NULL);
  mx_symbol_free(s);
  FAILS(mx_symbol_num_outputs(s, &n), MX_ERR_HANDLE, "freed", NULL);
  mx_symbol_free(s); /* a second free is ignored */
  mx_symbol_free(NULL);
  FAILS(mx_symbol_variable(NULL, &s), MX_ERR_INVALID_ARGUMENT, "name", NULL);
  FAILS(mx_symbol_variable("v", NULL), MX_ERR_INVALID_ARGUMENT, "out", NULL);
  FAILS(mx_infer_result_complete(NULL, (int*)&n), MX_ERR_HANDLE, "infer", NULL);
}

int main(void) {
  test_build_and_list();
  test_create_rules();
  test_attrs_compose_internals();
  test_json_round_trip();
  test_fixture();
  test_bad_json();
  test_infer();
  test_handles();
  return summary();
}
