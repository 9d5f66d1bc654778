// Every error path of the C++ package throws mx::Error: for failures inside libmx with libmx's
// status and message unchanged (still mx_last_error() on this thread), for misuse the wrapper
// catches before calling with a message of its own. Nothing crashes and earlier data stays intact.
#include <cstdio>
#include <fstream>

#include "test_util.hpp"

using mx::NDArray;
using mx::Shape;
using mx::Symbol;
using mxtest::ExpectMxError;

namespace {
bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
Symbol Fc() { return mx::sym::FullyConnected("fc", Symbol::Variable("data"), Symbol(), Symbol(), 3); }
}  // namespace

TEST(Errors, OperatorsFromLibmx) {
  NDArray a = NDArray::Zeros(Shape(2, 3));
  EXPECT_TRUE(Contains(ExpectMxError([] { mx::Operator("NoSuchOp"); }, MX_ERR_NOT_FOUND), "NoSuchOp"));
  EXPECT_TRUE(Contains(ExpectMxError([&] { mx::Operator("Activation").SetParam("act_type", "nope").PushInput(a).Invoke(); },
                                     MX_ERR_INVALID_ARGUMENT),
                       "act_type"));
  EXPECT_TRUE(Contains(ExpectMxError([&] { mx::Operator("Activation").SetParam("act_type", "relu").SetParam("bogus", 1)
                                               .PushInput(a).Invoke(); },
                                     MX_ERR_INVALID_ARGUMENT),
                       "bogus"));
  ExpectMxError([&] { a + NDArray::Zeros(Shape(4)); }, MX_ERR_SHAPE);
  ExpectMxError([&] { mx::Operator("elemwise_add").PushInput(a).Invoke(); }, MX_ERR_INVALID_ARGUMENT);
  ExpectMxError([&] { mx::op::Activation(a, "nope"); }, MX_ERR_INVALID_ARGUMENT);
  ExpectMxError([&] { mx::op::Convolution(NDArray::Zeros(Shape(1, 1, 4, 4)), NDArray::Zeros(Shape(2, 1, 3, 3)), NDArray(),
                                          Shape(3, 3), 2); },  // bias required unless no_bias
                MX_ERR_INVALID_ARGUMENT);
  // The output slot must fit.
  NDArray wrong = NDArray::Zeros(Shape(5));
  ExpectMxError([&] { mx::Operator("_mul_scalar").SetParam("scalar", 2.0).PushInput(a).Invoke(wrong); }, MX_ERR_SHAPE);
  EXPECT_EQ(a.ToVector<float>(), std::vector<float>(6, 0.f));  // inputs intact
}

TEST(Errors, AsynchronousKernelErrorSurfacesOnRead) {
  NDArray a = NDArray::Zeros(Shape(2, 3));
  NDArray idx = NDArray::FromVector<float>({7}, Shape(1));
  // The threaded engine runs the kernel later and the error surfaces at the read; the naive
  // engine runs it inline and the invocation throws. Either way: mx::Error naming the op.
  std::string msg = ExpectMxError([&] { mx::op::take(a, idx, 0, "raise").WaitToRead(); }, MX_ERR_INDEX);
  EXPECT_TRUE(Contains(msg, "take"));
  // WaitAll may report that asynchronous error once more (the first since its last call), then nothing.
  try {
    mx::WaitAll();
  } catch (const mx::Error& e) {
    EXPECT_EQ(e.status(), MX_ERR_INDEX);
  }
  mx::WaitAll();
}

TEST(Errors, ArraysFromLibmx) {
  NDArray a(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape(2, 3));
  ExpectMxError([&] { a.Reshape(Shape(4)); }, MX_ERR_SHAPE);
  ExpectMxError([&] { a.Slice(1, 5); }, MX_ERR_INDEX);
  ExpectMxError([&] { a.At(7); }, MX_ERR_INDEX);
  NDArray other = NDArray::Zeros(Shape(7));
  ExpectMxError([&] { a.CopyTo(&other); }, MX_ERR_SHAPE);
  if (mx::Context::NumGPUs() == 0) {
    EXPECT_TRUE(Contains(ExpectMxError([] { NDArray(Shape(2), mx::Context::gpu(0)); }, MX_ERR_UNSUPPORTED), "gpu"));
  }
  ExpectMxError([] { mx::LibInfo("nope"); }, MX_ERR_NOT_FOUND);
  EXPECT_FALSE(mx::LibInfo("version").empty());
  // Zero-copy wrap that fails: nothing is taken, the deleter never runs.
  int deleted = 0;
  float buf[2] = {1, 2};
  ExpectMxError([&] { NDArray::Wrap(static_cast<void*>(buf), Shape(2), 99, [&deleted] { ++deleted; }); }, MX_ERR_DTYPE);
  mx::WaitAll();
  EXPECT_EQ(deleted, 0);
  EXPECT_EQ(a.ToVector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(Errors, FilesFromLibmx) {
  NDArray a = NDArray::Ones(Shape(2));
  ExpectMxError([] { NDArray::LoadToList("/nonexistent_mx_dir/x.nd"); }, MX_ERR_NOT_FOUND);
  std::string garbage = mxtest::TempPath("garbage.nd");
  {
    std::ofstream f(garbage, std::ios::binary);
    f << "definitely not an MXNet file";
  }
  EXPECT_TRUE(Contains(ExpectMxError([&] { NDArray::LoadToList(garbage); }, MX_ERR_IO), "magic"));
  // Truncated: a valid file cut in half.
  std::string good = NDArray::SaveToBuffer({a, a});
  ExpectMxError([&] { NDArray::LoadFromBuffer(good.substr(0, good.size() / 2)); }, MX_ERR_IO);
  ExpectMxError([&] { NDArray::Save("/nonexistent_mx_dir/sub/x.nd", {a}); }, MX_ERR_IO);
  ExpectMxError([] { Symbol::LoadJSON("{bad"); }, MX_ERR_INVALID_ARGUMENT);
  ExpectMxError([] { Symbol::Load("/nonexistent_mx_dir/net-symbol.json"); }, MX_ERR_NOT_FOUND);
  ExpectMxError([&] { Symbol::Load(garbage); }, MX_ERR_INVALID_ARGUMENT);
  std::remove(garbage.c_str());
}

TEST(Errors, SymbolsExecutorsCachedOpsFromLibmx) {
  Symbol fc = Fc();
  std::vector<std::vector<int64_t>> in, aux, out;
  std::string msg = ExpectMxError([&] { fc.InferShape({{"data", {2, 4}}, {"fc_weight", {3, 5}}}, &in, &aux, &out); },
                                  MX_ERR_SHAPE);
  EXPECT_TRUE(Contains(msg, "fc"));
  ExpectMxError([&] { fc.InferShape({}, &in, &aux, &out); }, MX_ERR_SHAPE);
  NDArray a = NDArray::Zeros(Shape(2, 4));
  ExpectMxError([&] { fc.Bind(mx::Context::cpu(), {a}, {}, {}, {}); }, MX_ERR_INVALID_ARGUMENT);
  ExpectMxError([&] { fc.SimpleBind(mx::Context::cpu(), std::map<std::string, Shape>{{"nope", Shape(2)}}); },
                MX_ERR_INVALID_ARGUMENT);
  ExpectMxError([&] { mx::Operator("Activation").SetParam("act_type", "relu").SetInput("nope", fc).CreateSymbol("x"); },
                MX_ERR_INVALID_ARGUMENT);
  mx::CachedOp cop(fc);
  ExpectMxError([&] { cop({a}); }, MX_ERR_INVALID_ARGUMENT);
  ExpectMxError([&] { mx::CachedOp(fc, {{"bogus", "true"}}); }, MX_ERR_INVALID_ARGUMENT);
}

TEST(Errors, AutogradFromLibmx) {
  NDArray a = NDArray::Ones(Shape(2, 3));
  ExpectMxError([&] { (a * 2.0).Backward(); }, MX_ERR_INVALID_ARGUMENT);
  ExpectMxError([&] { mx::autograd::MarkVariables({a}, {NDArray::Zeros(Shape(5))}); }, MX_ERR_SHAPE);
  ExpectMxError([&] { mx::autograd::Grad({a * 2.0}, {a}); }, MX_ERR_INVALID_ARGUMENT);
}

// Misuse caught by the wrapper itself: a clear message, the right status.
TEST(Errors, WrapperChecks) {
  NDArray empty;
  EXPECT_TRUE(Contains(ExpectMxError([&] { empty.Shape(); }, MX_ERR_HANDLE, false), "empty"));
  ExpectMxError([&] { empty + 1.0; }, MX_ERR_HANDLE, false);
  NDArray f = NDArray::Zeros(Shape(3));
  EXPECT_TRUE(Contains(ExpectMxError([&] { f.data<double>(); }, MX_ERR_DTYPE, false), "float32"));
  ExpectMxError([&] { f.SyncCopyFromCPU(std::vector<float>{1, 2}); }, MX_ERR_INVALID_ARGUMENT, false);
  std::vector<float> small(2);
  ExpectMxError([&] { f.SyncCopyToCPU(small.data(), small.size()); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { f.CopyTo(static_cast<NDArray*>(nullptr)); }, MX_ERR_INVALID_ARGUMENT, false);
  std::string list = mxtest::TempPath("list_for_map.nd");
  NDArray::Save(list, {f});
  ExpectMxError([&] { NDArray::LoadToMap(list); }, MX_ERR_INVALID_ARGUMENT, false);
  std::remove(list.c_str());
  ExpectMxError([] { mx::DTypeName(42); }, MX_ERR_DTYPE, false);
  ExpectMxError([] { mx::DTypeFromName("float128"); }, MX_ERR_DTYPE, false);
  ExpectMxError([] { mx::Optional<int64_t>().value(); }, MX_ERR_INVALID_ARGUMENT, false);

  // Operator builder.
  NDArray x = NDArray::Ones(Shape(1, 1, 3, 3));
  EXPECT_TRUE(Contains(ExpectMxError([&] { mx::Operator("Convolution").SetInput("input", x).Invoke(); },
                                     MX_ERR_INVALID_ARGUMENT, false),
                       "no input named 'input'"));
  ExpectMxError([&] { mx::Operator("elemwise_add").SetInput("lhs", x).SetInput("lhs", x).Invoke(); },
                MX_ERR_INVALID_ARGUMENT, false);
  EXPECT_TRUE(Contains(ExpectMxError([&] { mx::Operator("elemwise_add").SetInput("rhs", x).Invoke(); },
                                     MX_ERR_INVALID_ARGUMENT, false),
                       "'lhs' is not given"));
  ExpectMxError([&] { mx::Operator("Concat").SetInput("data", x).Invoke(); }, MX_ERR_INVALID_ARGUMENT, false);
  std::vector<NDArray> three(3);
  ExpectMxError([&] { mx::Operator("negative").PushInput(x).Invoke(three); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { mx::Operator("negative").PushInput(Symbol::Variable("s")).Invoke(); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { mx::Operator("negative").PushInput(x).CreateSymbol(); }, MX_ERR_INVALID_ARGUMENT, false);

  // Symbols and executors.
  Symbol empty_sym;
  ExpectMxError([&] { empty_sym.ToJSON(); }, MX_ERR_HANDLE, false);
  ExpectMxError([&] { Fc()["no_such_output"]; }, MX_ERR_NOT_FOUND, false);
  ExpectMxError([&] { Fc().Bind(mx::Context::cpu(), {x, x, x}, {x}, {}, {}); }, MX_ERR_INVALID_ARGUMENT, false);
  mx::Executor none;
  ExpectMxError([&] { none.Forward(false); }, MX_ERR_HANDLE, false);
  mx::CachedOp none_op;
  ExpectMxError([&] { none_op({x}); }, MX_ERR_HANDLE, false);
  mx::CachedOp cop(Fc());
  ExpectMxError([&] { cop(std::map<std::string, NDArray>{{"data", x}}); }, MX_ERR_INVALID_ARGUMENT, false);

  // Autograd.
  ExpectMxError([&] { x.AttachGrad("sometimes"); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { mx::autograd::MarkVariables({x, x}, {x}); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { mx::autograd::Backward({x}, {x, x}); }, MX_ERR_INVALID_ARGUMENT, false);
}

TEST(Errors, OptimizerAndKVStore) {
  std::string msg = ExpectMxError([] { mx::Optimizer::Create("sgdx"); }, MX_ERR_NOT_FOUND, false);
  EXPECT_TRUE(Contains(msg, "sgdx"));
  EXPECT_TRUE(Contains(msg, "adam"));  // lists what exists
  auto opt = mx::Optimizer::Create("adam");
  EXPECT_TRUE(Contains(ExpectMxError([&] { opt->SetParam("momentum", 0.9); }, MX_ERR_INVALID_ARGUMENT, false), "beta1"));
  ExpectMxError([&] { opt->SetParam("multi_precision", true); }, MX_ERR_UNSUPPORTED, false);
  ExpectMxError([&] { opt->GetParam("nope"); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { opt->Update(0, NDArray(), NDArray::Ones(Shape(2))); }, MX_ERR_INVALID_ARGUMENT, false);
  // A gradient of the wrong shape is libmx's error.
  NDArray w = NDArray::Ones(Shape(2));
  ExpectMxError([&] { opt->Update(0, w, NDArray::Ones(Shape(3))); }, MX_ERR_SHAPE);
  EXPECT_EQ(w.ToVector<float>(), (std::vector<float>{1, 1}));

  ExpectMxError([] { mx::KVStore("dist_sync"); }, MX_ERR_UNSUPPORTED, false);
  mx::KVStore kv;
  kv.Init(0, w);
  ExpectMxError([&] { kv.Init(0, w); }, MX_ERR_INVALID_ARGUMENT, false);
  NDArray out = NDArray::Zeros(Shape(2));
  ExpectMxError([&] { kv.Pull(1, &out); }, MX_ERR_NOT_FOUND, false);
  ExpectMxError([&] { kv.Push(1, w); }, MX_ERR_NOT_FOUND, false);
  ExpectMxError([&] { kv.Init("name", w); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { kv.Push(0, std::vector<NDArray>{}); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { kv.Pull(0, static_cast<NDArray*>(nullptr)); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { kv.SetOptimizer(nullptr); }, MX_ERR_INVALID_ARGUMENT, false);
  ExpectMxError([&] { kv.Push(std::vector<int>{0, 0}, {w}); }, MX_ERR_INVALID_ARGUMENT, false);
  // Pushing values of another shape is libmx's error (add_n).
  ExpectMxError([&] { kv.Push(0, std::vector<NDArray>{w, NDArray::Ones(Shape(3))}); }, MX_ERR_SHAPE);
}
