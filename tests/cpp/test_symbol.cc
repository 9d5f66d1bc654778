// mx::Symbol, mx::Executor and mx::CachedOp: graph construction (generated mx::sym functions and
// the Operator builder), listing, shape/type inference, JSON and files, binding, forward/backward
// against hand-computed values, and MXNet 1.9.1 exported models against their stored outputs.
#include <cstdio>
#include <numeric>

#include "test_util.hpp"

using mx::NDArray;
using mx::Shape;
using mx::Symbol;

namespace {

// fc = FullyConnected(data, num_hidden=3) named "fc1"; out = relu(fc) named "relu1".
Symbol SmallNet() {
  Symbol data = Symbol::Variable("data");
  Symbol fc = mx::sym::FullyConnected("fc1", data, Symbol(), Symbol(), 3);
  return mx::sym::Activation("relu1", fc, "relu");
}

std::map<std::string, NDArray> LoadParams(const std::string& path, std::map<std::string, NDArray>* aux) {
  std::map<std::string, NDArray> args;
  for (const auto& kv : NDArray::LoadToMap(path)) {
    if (kv.first.compare(0, 4, "arg:") == 0) args[kv.first.substr(4)] = kv.second;
    else if (kv.first.compare(0, 4, "aux:") == 0) (*aux)[kv.first.substr(4)] = kv.second;
  }
  return args;
}

}  // namespace

TEST(Symbol, BuildListAndInfer) {
  Symbol net = SmallNet();
  EXPECT_EQ(net.GetName(), "relu1");
  EXPECT_EQ(net.ListArguments(), (std::vector<std::string>{"data", "fc1_weight", "fc1_bias"}));
  EXPECT_EQ(net.ListOutputs(), (std::vector<std::string>{"relu1_output"}));
  EXPECT_TRUE(net.ListAuxiliaryStates().empty());
  EXPECT_EQ(net.NumOutputs(), 1u);
  std::vector<std::vector<int64_t>> in, aux, out;
  net.InferShape({{"data", {4, 5}}}, &in, &aux, &out);
  EXPECT_EQ(in, (std::vector<std::vector<int64_t>>{{4, 5}, {3, 5}, {3}}));
  EXPECT_EQ(out, (std::vector<std::vector<int64_t>>{{4, 3}}));
  EXPECT_TRUE(aux.empty());
  // Partial: nothing known about data.
  EXPECT_FALSE(net.InferShapePartial({}, &in, &aux, &out));
  EXPECT_TRUE(out[0].empty());
  std::vector<int> tin, taux, tout;
  net.InferType({{"data", mx::kFloat64}}, &tin, &taux, &tout);
  EXPECT_EQ(tin, (std::vector<int>{mx::kFloat64, mx::kFloat64, mx::kFloat64}));
  EXPECT_EQ(tout, (std::vector<int>{mx::kFloat64}));

  // Internals, outputs by name, children, groups.
  Symbol internals = net.GetInternals();
  auto names = internals.ListOutputs();
  EXPECT_NE(std::find(names.begin(), names.end(), "fc1_output"), names.end());
  Symbol fc = internals["fc1_output"];
  EXPECT_EQ(fc.GetName(), "fc1");
  EXPECT_EQ(net.GetChildren().ListOutputs(), (std::vector<std::string>{"fc1_output"}));
  Symbol g = Symbol::Group({fc, net});
  EXPECT_EQ(g.NumOutputs(), 2u);
  EXPECT_EQ(g[1].ListOutputs(), (std::vector<std::string>{"relu1_output"}));
  EXPECT_TRUE(Symbol::Variable("v").GetChildren().IsNone());
}

TEST(Symbol, OperatorBuilderArithmeticAndAttributes) {
  Symbol a = Symbol::Variable("a"), b = Symbol::Variable("b");
  Symbol s = (a + b) * 2.0 - a / b;
  EXPECT_EQ(s.ListArguments(), (std::vector<std::string>{"a", "b"}));
  // The builder: named inputs, missing ones become variables <name>_<input>.
  Symbol conv = mx::Operator("Convolution").SetParam("kernel", Shape(3, 3)).SetParam("num_filter", 4)
                    .SetInput("data", a).CreateSymbol("conv");
  EXPECT_EQ(conv.ListArguments(), (std::vector<std::string>{"a", "conv_weight", "conv_bias"}));
  Symbol bn = mx::sym::BatchNorm("bn", conv, Symbol(), Symbol(), Symbol(), Symbol());
  EXPECT_EQ(bn.ListAuxiliaryStates(), (std::vector<std::string>{"bn_moving_mean", "bn_moving_var"}));
  EXPECT_EQ(bn.ListInputs(), (std::vector<std::string>{"a", "conv_weight", "conv_bias", "bn_gamma", "bn_beta",
                                                        "bn_moving_mean", "bn_moving_var"}));
  // Without a name: an automatic one.
  Symbol auto_named = mx::sym::Activation(a, "tanh");
  EXPECT_FALSE(auto_named.GetName().empty());
  // Attributes.
  Symbol v = Symbol::Variable("w");
  v.SetAttr("__lr_mult__", "0.5");
  bool found = false;
  EXPECT_EQ(v.GetAttr("__lr_mult__", &found), "0.5");
  EXPECT_TRUE(found);
  v.GetAttr("nope", &found);
  EXPECT_FALSE(found);
  EXPECT_EQ(v.ListAttr().at("w").at("__lr_mult__"), "0.5");
  // Compose: replace the variable a of s by tanh(c).
  Symbol c = Symbol::Variable("c");
  Symbol composed = s.Compose(std::map<std::string, Symbol>{{"a", mx::sym::tanh(c)}});
  EXPECT_EQ(composed.ListArguments(), (std::vector<std::string>{"c", "b"}));
}

TEST(Symbol, JSONAndFiles) {
  Symbol net = SmallNet();
  std::string json = net.ToJSON();
  EXPECT_NE(json.find("\"FullyConnected\""), std::string::npos);
  EXPECT_NE(json.find("\"num_hidden\": \"3\""), std::string::npos);
  Symbol back = Symbol::LoadJSON(json);
  EXPECT_EQ(back.ListArguments(), net.ListArguments());
  EXPECT_EQ(back.ToJSON(), json);
  std::string path = mxtest::TempPath("net-symbol.json");
  net.Save(path);
  EXPECT_EQ(Symbol::Load(path).ToJSON(), json);
  std::remove(path.c_str());
}

TEST(Executor, ForwardBackwardMatchesHandComputation) {
  Symbol net = SmallNet();
  mx::Executor exec = net.SimpleBind(mx::Context::cpu(), {{"data", Shape(2, 2)}});
  ASSERT_EQ(exec.arg_arrays.size(), 3u);
  // data = [[1, 2], [3, -4]], W = [[1, 0], [0, 1], [1, 1]], b = [0, 0, -1]
  exec.arg_arrays[0].SyncCopyFromCPU(std::vector<float>{1, 2, 3, -4});
  exec.ArgDict().at("fc1_weight").SyncCopyFromCPU(std::vector<float>{1, 0, 0, 1, 1, 1});
  exec.ArgDict().at("fc1_bias").SyncCopyFromCPU(std::vector<float>{0, 0, -1});
  exec.Forward(true);
  ASSERT_EQ(exec.outputs.size(), 1u);
  // fc = [[1, 2, 2], [3, -4, -2]] -> relu = [[1, 2, 2], [3, 0, 0]]
  EXPECT_EQ(exec.outputs[0].ToVector<float>(), (std::vector<float>{1, 2, 2, 3, 0, 0}));
  // head gradient ones; relu mask m = [[1,1,1],[1,0,0]]:
  // dW[j] = sum_n m[n,j] * data[n] ; db[j] = sum_n m[n,j] ; ddata[n] = sum_j m[n,j] W[j]
  exec.Backward();
  auto grads = exec.GradDict();
  EXPECT_EQ(grads.at("fc1_weight").ToVector<float>(), (std::vector<float>{4, -2, 1, 2, 1, 2}));
  EXPECT_EQ(grads.at("fc1_bias").ToVector<float>(), (std::vector<float>{2, 1, 1}));
  EXPECT_EQ(grads.at("data").ToVector<float>(), (std::vector<float>{2, 2, 1, 0}));
  // Explicit head gradient 2: everything doubles.
  exec.Backward({NDArray::Full(Shape(2, 3), 2.0)});
  EXPECT_EQ(exec.GradDict().at("fc1_bias").ToVector<float>(), (std::vector<float>{4, 2, 2}));
  // Reshape to a bigger batch shares the weights.
  mx::Executor big = exec.Reshape({{"data", Shape(3, 2)}}, false, true);
  big.ArgDict().at("data").SyncCopyFromCPU(std::vector<float>{1, 2, 3, -4, 0, 1});
  big.Forward(false);
  EXPECT_EQ(big.outputs[0].ToVector<float>(), (std::vector<float>{1, 2, 2, 3, 0, 0, 0, 1, 0}));
  auto mem = exec.MemoryBytes();
  EXPECT_LE(mem.first, mem.second);
}

TEST(Executor, BindOwnArraysAndAuxStates) {
  Symbol x = Symbol::Variable("x");
  Symbol bn = mx::sym::BatchNorm("bn", x, Symbol(), Symbol(), Symbol(), Symbol(), 1e-5, 0.5, false);
  NDArray xv(std::vector<float>{1, 2, 3, 5}, Shape(4, 1));
  NDArray gamma = NDArray::Ones(Shape(1)), beta = NDArray::Zeros(Shape(1));
  NDArray mean = NDArray::Zeros(Shape(1)), var = NDArray::Ones(Shape(1));
  NDArray gx = NDArray::Zeros(Shape(4, 1));
  mx::Executor exec = bn.Bind(mx::Context::cpu(), {xv, gamma, beta}, {gx, NDArray(), NDArray()},
                              {mx::kWriteTo, mx::kNullOp, mx::kNullOp}, {mean, var});
  EXPECT_EQ(exec.AuxDict().size(), 2u);
  EXPECT_EQ(exec.GradDict().size(), 1u);
  exec.Forward(true);
  // Training: batch mean 2.75, biased var 2.1875; running stats move halfway (momentum 0.5).
  double m = 2.75, v = 2.1875;
  std::vector<double> want;
  for (double xi : {1.0, 2.0, 3.0, 5.0}) want.push_back((xi - m) / std::sqrt(v + 1e-5));
  mxtest::ExpectNear(exec.outputs[0].ToVector<float>(), want, 1e-5);
  mxtest::ExpectNear(mean.ToVector<float>(), std::vector<double>{0.5 * m}, 1e-6);  // the bound array itself
  // MXNet's CPU kernel: moving = moving * momentum + batch * (1 - momentum), batch var biased.
  mxtest::ExpectNear(exec.AuxDict().at("bn_moving_var").ToVector<float>(), std::vector<double>{0.5 * 1 + 0.5 * v},
                     1e-5);
  // The executor's arrays are the bound ones.
  EXPECT_EQ(exec.GradDict().at("x").StorageId(), gx.StorageId());
  EXPECT_EQ(exec.ArgDict().at("x").StorageId(), xv.StorageId());
  // Backward with head gradient ones: sum of a normalised batch has zero gradient.
  exec.Backward();
  mxtest::ExpectNear(gx.ToVector<float>(), std::vector<double>{0, 0, 0, 0}, 1e-5);
}

TEST(Executor, SimpleBindWithArrayMap) {
  Symbol net = SmallNet();
  NDArray data(std::vector<float>{1, 2, 3, -4}, Shape(2, 2));
  NDArray w(std::vector<float>{1, 0, 0, 1, 1, 1}, Shape(3, 2));
  NDArray b(std::vector<float>{0, 0, -1}, Shape(3));
  mx::Executor exec = net.SimpleBind(mx::Context::cpu(), {{"data", data}, {"fc1_weight", w}, {"fc1_bias", b}}, {},
                                     {{"data", mx::kNullOp}, {"fc1_weight", mx::kNullOp}, {"fc1_bias", mx::kNullOp}});
  exec.Forward(false);
  EXPECT_EQ(exec.outputs[0].ToVector<float>(), (std::vector<float>{1, 2, 2, 3, 0, 0}));
  // The executor uses the given arrays in place: change the input, forward again.
  data.SyncCopyFromCPU(std::vector<float>{-1, -1, 0, 0});
  exec.Forward(false);
  EXPECT_EQ(exec.outputs[0].ToVector<float>(), (std::vector<float>{0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(exec.GradDict().empty());
}

TEST(CachedOp, ForwardAndAutograd) {
  Symbol net = SmallNet();
  mx::CachedOp op(net, {{"static_alloc", "true"}, {"static_shape", "true"}});
  NDArray data(std::vector<float>{1, 2, 3, -4}, Shape(2, 2));
  NDArray w(std::vector<float>{1, 0, 0, 1, 1, 1}, Shape(3, 2));
  NDArray b(std::vector<float>{0, 0, -1}, Shape(3));
  std::vector<NDArray> out = op({data, w, b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ToVector<float>(), (std::vector<float>{1, 2, 2, 3, 0, 0}));
  out = op(std::map<std::string, NDArray>{{"fc1_bias", b}, {"data", data}, {"fc1_weight", w}});
  EXPECT_EQ(out[0].ToVector<float>(), (std::vector<float>{1, 2, 2, 3, 0, 0}));
  // Recorded into autograd as one node: gradients as in the executor test.
  w.AttachGrad();
  b.AttachGrad();
  {
    mx::autograd::RecordScope rec;
    out = op({data, w, b});
  }
  out[0].Backward();
  EXPECT_EQ(w.Grad().ToVector<float>(), (std::vector<float>{4, -2, 1, 2, 1, 2}));
  EXPECT_EQ(b.Grad().ToVector<float>(), (std::vector<float>{2, 1, 1}));
}

// Real MXNet 1.9.1 exports: the CNN and the MLP with BatchNorm (running statistics as aux states)
// reproduce the outputs MXNet stored, through the executor and through a cached op.
TEST(Executor, PredictsMXNetExports) {
  std::string dir = mxtest::FixturesDir();
  ASSERT_FALSE(dir.empty());
  for (const std::string model : {"cnn", "mlp_bn"}) {
    SCOPED_TRACE(model);
    Symbol sym = Symbol::Load(dir + "/" + model + "-symbol.json");
    std::map<std::string, NDArray> aux;
    std::map<std::string, NDArray> args = LoadParams(dir + "/" + model + "-0000.params", &aux);
    mxtest::Npy in = mxtest::ReadNpy(dir + "/" + model + "_input.npy");
    mxtest::Npy want = mxtest::ReadNpy(dir + "/" + model + "_output.npy");
    ASSERT_EQ(in.descr, "<f4");
    args["data"] = NDArray(in.As<float>(), Shape(in.shape));
    std::map<std::string, mx::OpReqType> reqs;
    for (const auto& n : sym.ListArguments()) reqs[n] = mx::kNullOp;
    mx::Executor exec = sym.SimpleBind(mx::Context::cpu(), args, {}, reqs, aux);
    exec.Forward(false);
    EXPECT_EQ(exec.outputs[0].GetShape(), want.shape);
    std::vector<float> ref = want.As<float>();
    mxtest::ExpectNear(exec.outputs[0].ToVector<float>(), ref, 1e-4);

    std::vector<NDArray> inputs;
    for (const auto& n : sym.ListInputs()) inputs.push_back(args.count(n) ? args.at(n) : aux.at(n));
    mx::CachedOp cop(sym);
    mxtest::ExpectNear(cop(inputs)[0].ToVector<float>(), ref, 1e-4);
  }
}
