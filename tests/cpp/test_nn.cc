// mx::nn (bindings/cpp/include/mx/nn.hpp): names, parameters, deferred shapes, initializers,
// layers against values computed here, BatchNorm's running statistics, Dropout, the Trainer's
// update against the SGD formula, save/load and export, the nets of the MXNet 1.9.1 fixtures
// (parameters written by real MXNet's save_parameters must reproduce MXNet's outputs), and errors.
#include <gtest/gtest.h>

#include <mx/mx.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace nn = mx::nn;

namespace {

// ---------------------------------------------------------------- helpers

// The MXNet 1.9.1 fixture folder: $MX_FIXTURES_DIR, else ../shared/fixtures/mxnet-1.9.1 beside
// the checkout (or shared/ inside it).
fs::path FixtureDir() {
  if (const char* env = std::getenv("MX_FIXTURES_DIR")) return fs::path(env);
  fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  for (const fs::path& c : {root.parent_path() / "shared" / "fixtures" / "mxnet-1.9.1",
                            root / "shared" / "fixtures" / "mxnet-1.9.1"})
    if (fs::exists(c / "manifest.json")) return c;
  return fs::path();
}

// A float32 C-order .npy file (what the fixtures hold).
std::vector<float> ReadNpy(const fs::path& path, std::vector<int64_t>* shape) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string b = ss.str();
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error("not a .npy file: " + path.string());
  size_t hlen = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
  size_t start = 10;
  if (b[6] != 1) {
    hlen = 0;
    for (int i = 3; i >= 0; --i) hlen = (hlen << 8) | static_cast<unsigned char>(b[8 + i]);
    start = 12;
  }
  std::string h = b.substr(start, hlen);
  if (h.find("'<f4'") == std::string::npos || h.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error("expected a C-order float32 .npy: " + path.string());
  size_t p = h.find('(', h.find("'shape'")), q = h.find(')', p);
  std::stringstream dims(h.substr(p + 1, q - p - 1));
  shape->clear();
  std::string tok;
  while (std::getline(dims, tok, ','))
    if (tok.find_first_not_of(' ') != std::string::npos) shape->push_back(std::stoll(tok));
  std::vector<float> v((b.size() - start - hlen) / 4);
  std::memcpy(v.data(), b.data() + start + hlen, v.size() * 4);
  return v;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mx_test_nn_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

std::vector<std::string> Keys(const nn::ParameterDict& d) { return d.Keys(); }

// Runs f and returns the mx::Error it throws (fails the test when it throws none).
template <typename F>
mx::Error Throws(F&& f) {
  try {
    f();
  } catch (const mx::Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected mx::Error";
  return mx::Error(MX_OK, "");
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// MXNet's fixture nets, as Gluon builds them.
std::shared_ptr<nn::Sequential> FixtureCNN() {
  auto net = std::make_shared<nn::Sequential>();
  net->Add(nn::Conv2D(32, mx::Shape(3, 3), mx::Shape(1, 1), mx::Shape(1, 1), "relu"))
      .Add(nn::MaxPool2D(mx::Shape(2, 2)))
      .Add(nn::Conv2D(64, mx::Shape(3, 3), mx::Shape(1, 1), mx::Shape(1, 1), "relu"))
      .Add(nn::MaxPool2D(mx::Shape(2, 2)))
      .Add(nn::Flatten())
      .Add(nn::Dense(10));
  return net;
}
std::shared_ptr<nn::Sequential> FixtureMLPBN() {
  auto net = std::make_shared<nn::Sequential>();
  net->Add(nn::Dense(64, "", true, 20))
      .Add(nn::BatchNorm(1, 0.9, 1e-5, true, true, false, 64))
      .Add(nn::Activation("relu"))
      .Add(nn::Dropout(0.5))
      .Add(nn::Dense(32, "", true, 64))
      .Add(nn::BatchNorm(1, 0.9, 1e-5, true, true, false, 32))
      .Add(nn::Activation("relu"))
      .Add(nn::Dropout(0.5))
      .Add(nn::Dense(10, "", true, 32));
  return net;
}

// ---------------------------------------------------------------- names and parameters

TEST(NN, GluonNamesAndStructuralNames) {
  nn::Sequential net;
  std::string p = net.Prefix();  // sequential<k>_
  ASSERT_EQ(p.compare(0, 10, "sequential"), 0);
  net.Add(nn::Dense(8, "relu", true, 4)).Add(nn::BatchNorm()).Add(nn::Dropout(0.1)).Add(nn::Dense(3));
  EXPECT_EQ(Keys(net.CollectParams()),
            (std::vector<std::string>{p + "dense0_weight", p + "dense0_bias", p + "batchnorm0_gamma", p + "batchnorm0_beta",
                                      p + "batchnorm0_running_mean", p + "batchnorm0_running_var", p + "dense1_weight",
                                      p + "dense1_bias"}));
  EXPECT_EQ(Keys(net.CollectParamsWithPrefix()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.gamma", "1.beta", "1.running_mean", "1.running_var",
                                      "3.weight", "3.bias"}));
  EXPECT_EQ(net[0].Prefix(), p + "dense0_");
  EXPECT_EQ(net[2].Name(), p + "dropout0");

  // An explicit prefix, and nesting: the parent's prefix goes in front of the child's names.
  nn::Sequential outer;
  outer.SetPrefix("model_");
  auto inner = std::make_shared<nn::Sequential>();
  inner->Add(nn::Dense(2, "", false, 3));
  outer.Add(inner).Add(nn::Dense(1));
  EXPECT_EQ(Keys(outer.CollectParams()),
            (std::vector<std::string>{"model_sequential0_dense0_weight", "model_dense0_weight", "model_dense0_bias"}));
  EXPECT_EQ(Keys(outer.CollectParamsWithPrefix()), (std::vector<std::string>{"0.0.weight", "1.weight", "1.bias"}));
  EXPECT_EQ(outer.CollectParams()["model_dense0_bias"]->GetShape(), mx::Shape(1));
}

TEST(NN, DeferredShapesAndInitializationErrors) {
  nn::Dense d(5);
  d.SetPrefix("d_");
  EXPECT_EQ(d.Weight()->GetShape(), mx::Shape(5, 0));
  // Forward before Initialize: libmx is never reached; the error names the parameter.
  mx::Error e = Throws([&] { d(mx::NDArray::Ones(mx::Shape(2, 3))); });
  EXPECT_TRUE(Contains(e.what(), "'d_weight' has not been initialized")) << e.what();
  d.Initialize(nn::Xavier());
  EXPECT_TRUE(d.Weight()->DeferredInitPending());
  e = Throws([&] { d.Weight()->Data(); });
  EXPECT_TRUE(Contains(e.what(), "deferred")) << e.what();
  e = Throws([&] { d.Export("/nonexistent-dir/never"); });  // shapes unknown: export refuses
  EXPECT_TRUE(Contains(e.what(), "d_weight")) << e.what();
  mx::NDArray y = d(mx::NDArray::Ones(mx::Shape(2, 3, 2)));  // flatten: in_units 6
  EXPECT_EQ(y.Shape(), mx::Shape(2, 5));
  EXPECT_EQ(d.Weight()->Data().Shape(), mx::Shape(5, 6));
  EXPECT_EQ(d.Bias()->Data().ToVector<float>(), std::vector<float>(5, 0.0f));  // bias_init zeros
  // A later input with other features: libmx's shape check fails, with libmx's message.
  e = Throws([&] { d(mx::NDArray::Ones(mx::Shape(2, 4))).WaitToRead(); });
  EXPECT_EQ(e.status(), MX_ERR_SHAPE);
  EXPECT_TRUE(Contains(e.what(), "FullyConnected")) << e.what();

  nn::Dense flat_off(4, "", true, 0, /*flatten=*/false);
  flat_off.Initialize();
  EXPECT_EQ(flat_off(mx::NDArray::Ones(mx::Shape(2, 3, 7))).Shape(), mx::Shape(2, 3, 4));
  EXPECT_EQ(flat_off.Weight()->GetShape(), mx::Shape(4, 7));
}

TEST(NN, Initializers) {
  nn::Dense d(50, "", true, 40);
  mx::RandomSeed(7);
  d.Initialize(nn::Xavier());
  std::vector<float> w1 = d.Weight()->Data().ToVector<float>();
  double bound = std::sqrt(3.0 / ((40.0 + 50.0) / 2.0));
  float lo = *std::min_element(w1.begin(), w1.end()), hi = *std::max_element(w1.begin(), w1.end());
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_LT(lo, -0.8 * bound);  // 2000 uniform draws fill the interval
  EXPECT_GT(hi, 0.8 * bound);
  // An initialized parameter is left alone unless force_reinit; the generator moves on; seeded
  // again, the same draws come back.
  d.Initialize(nn::Constant(0.25));
  EXPECT_EQ(d.Weight()->Data().ToVector<float>(), w1);
  d.Initialize(nn::Xavier(), mx::Context::cpu(), true);
  EXPECT_NE(d.Weight()->Data().ToVector<float>(), w1);
  mx::RandomSeed(7);
  d.Initialize(nn::Xavier(), mx::Context::cpu(), true);
  EXPECT_EQ(d.Weight()->Data().ToVector<float>(), w1);

  d.Initialize(nn::Normal(0.5), mx::Context::cpu(), true);
  std::vector<float> w = d.Weight()->Data().ToVector<float>();
  double mean = 0, var = 0;
  for (float v : w) mean += v;
  mean /= static_cast<double>(w.size());
  for (float v : w) var += (v - mean) * (v - mean);
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(std::sqrt(var / static_cast<double>(w.size())), 0.5, 0.05);

  d.Initialize(nn::Constant(0.25), mx::Context::cpu(), true);
  EXPECT_EQ(d.Weight()->Data().ToVector<float>(), std::vector<float>(2000, 0.25f));
  EXPECT_EQ(d.Bias()->Data().ToVector<float>(), std::vector<float>(50, 0.0f));  // its own init: zeros
  d.Initialize(nn::Zeros(), mx::Context::cpu(), true);
  EXPECT_EQ(d.Weight()->Data().ToVector<float>(), std::vector<float>(2000, 0.0f));

  nn::BatchNorm bn(1, 0.9, 1e-5, true, true, false, 3);
  bn.Initialize(nn::Xavier());  // gamma/beta/running stats by their own initializers
  EXPECT_EQ(bn.Gamma()->Data().ToVector<float>(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(bn.RunningVar()->Data().ToVector<float>(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(bn.Beta()->Data().ToVector<float>(), std::vector<float>(3, 0.0f));

  // Xavier needs >= 2 dims.
  nn::Parameter vec("v_weight", mx::Shape(4));
  mx::Error e = Throws([&] { vec.Initialize(nn::Xavier()); });
  EXPECT_EQ(e.status(), MX_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.what(), "Xavier initializer cannot be applied to vector v_weight")) << e.what();
  nn::Parameter odd("alpha", mx::Shape(2, 2));
  e = Throws([&] { odd.Initialize(nn::Uniform()); });
  EXPECT_TRUE(Contains(e.what(), "Unknown initialization pattern for alpha")) << e.what();
  EXPECT_THROW(nn::Xavier("triangular"), mx::Error);
}

// ---------------------------------------------------------------- layers against references

TEST(NN, DenseAndActivationValues) {
  nn::Dense d(2, "tanh", true, 3);
  d.Initialize();
  std::vector<float> w = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f}, b = {0.05f, -0.1f};
  d.Weight()->Data().SyncCopyFromCPU(w);
  d.Bias()->Data().SyncCopyFromCPU(b);
  std::vector<float> x = {1, 2, 3, -1, 0.5f, 2};
  std::vector<float> got = d(mx::NDArray(x, mx::Shape(2, 3))).ToVector<float>();
  std::vector<float> want;
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 2; ++o) {
      double s = b[o];
      for (int i = 0; i < 3; ++i) s += x[n * 3 + i] * w[o * 3 + i];
      want.push_back(static_cast<float>(std::tanh(s)));
    }
  ExpectNear(got, want, 1e-6f);

  nn::Activation relu("relu");
  ExpectNear(relu(mx::NDArray(std::vector<float>{-1, 2, -3, 4}, mx::Shape(4))).ToVector<float>(), {0, 2, 0, 4}, 0);
  nn::Flatten flat;
  EXPECT_EQ(flat(mx::NDArray::Ones(mx::Shape(2, 3, 4))).Shape(), mx::Shape(2, 12));
}

TEST(NN, ConvAndPoolValues) {
  nn::Conv2D conv(4, mx::Shape(3, 3));
  conv.Initialize(nn::Ones());
  mx::NDArray x = mx::NDArray::Ones(mx::Shape(1, 3, 8, 8));
  mx::NDArray y = conv(x);
  EXPECT_EQ(conv.Weight()->GetShape(), mx::Shape(4, 3, 3, 3));  // in_channels inferred
  EXPECT_EQ(y.Shape(), mx::Shape(1, 4, 6, 6));
  ExpectNear(y.ToVector<float>(), std::vector<float>(4 * 36, 27.0f), 1e-5f);  // 3*3*3 ones

  nn::Conv2D padded(2, mx::Shape(3, 3), mx::Shape(2, 2), mx::Shape(1, 1), "", false, 3);
  padded.Initialize(nn::Ones());
  EXPECT_FALSE(padded.Bias());
  std::vector<float> corner = padded(x).ToVector<float>();
  EXPECT_EQ(padded(x).Shape(), mx::Shape(1, 2, 4, 4));
  EXPECT_NEAR(corner[0], 12.0f, 1e-5f);  // top-left window: 2x2 inside the image, 3 channels
  EXPECT_NEAR(corner[5], 27.0f, 1e-5f);  // an inner window

  std::vector<float> img(16);
  for (int i = 0; i < 16; ++i) img[static_cast<size_t>(i)] = static_cast<float>((i * 7) % 11);
  mx::NDArray xi(img, mx::Shape(1, 1, 4, 4));
  std::vector<float> want;
  for (int r = 0; r < 4; r += 2)
    for (int c = 0; c < 4; c += 2)
      want.push_back(std::max({img[r * 4 + c], img[r * 4 + c + 1], img[(r + 1) * 4 + c], img[(r + 1) * 4 + c + 1]}));
  nn::MaxPool2D pool;
  ExpectNear(pool(xi).ToVector<float>(), want, 0);
  nn::AvgPool2D avg(mx::Shape(4, 4));
  float sum = 0;
  for (float v : img) sum += v;
  ExpectNear(avg(xi).ToVector<float>(), {sum / 16}, 1e-5f);

  EXPECT_THROW(nn::Conv2D(4, mx::Shape(3, 3), mx::Shape(1, 1), mx::Shape(0, 0), "", true, 0, mx::Shape(1, 1), 1, "NCW"),
               mx::Error);
  EXPECT_THROW(nn::Conv2D(4, mx::Shape(3)), mx::Error);
  mx::Error e = Throws([] { nn::Conv2D c(6, mx::Shape(1, 1), mx::Shape(1, 1), mx::Shape(0, 0), "", true, 0, mx::Shape(1, 1), 3);
                            c.Initialize();
                            c(mx::NDArray::Ones(mx::Shape(1, 4, 2, 2))); });
  EXPECT_TRUE(Contains(e.what(), "divisible by groups")) << e.what();
}

TEST(NN, BatchNormRunningStatisticsAndDropout) {
  std::vector<float> x = {1, 2, 0.5f, 3, -1, 4, 2, 0, 1, -2, 5, 2};  // (4, 3)
  nn::BatchNorm bn;  // momentum 0.9, eps 1e-5, channels on axis 1, deferred
  bn.Initialize();
  mx::NDArray in(x, mx::Shape(4, 3));
  // Inference mode: running stats (0, 1) are used and stay.
  ExpectNear(bn(in).ToVector<float>(), [&] {
    std::vector<float> v;
    for (float a : x) v.push_back(a / std::sqrt(1.0f + 1e-5f));
    return v;
  }(), 1e-5f);
  ExpectNear(bn.RunningMean()->Data().ToVector<float>(), {0, 0, 0}, 0);
  // Training mode: batch statistics normalize; running = 0.9 * running + 0.1 * batch (biased var).
  mx::NDArray y;
  {
    mx::autograd::RecordScope record;
    y = bn(in);
  }
  std::vector<float> want_mean, want_var, want_y(12);
  for (int c = 0; c < 3; ++c) {
    double m = 0, v = 0;
    for (int n = 0; n < 4; ++n) m += x[n * 3 + c];
    m /= 4;
    for (int n = 0; n < 4; ++n) v += (x[n * 3 + c] - m) * (x[n * 3 + c] - m);
    v /= 4;
    want_mean.push_back(static_cast<float>(0.1 * m));
    want_var.push_back(static_cast<float>(0.9 + 0.1 * v));
    for (int n = 0; n < 4; ++n) want_y[n * 3 + c] = static_cast<float>((x[n * 3 + c] - m) / std::sqrt(v + 1e-5));
  }
  ExpectNear(y.ToVector<float>(), want_y, 1e-4f);
  ExpectNear(bn.RunningMean()->Data().ToVector<float>(), want_mean, 1e-6f);
  ExpectNear(bn.RunningVar()->Data().ToVector<float>(), want_var, 1e-5f);
  EXPECT_EQ(bn.RunningMean()->GradReq(), "null");

  nn::Dropout drop(0.5);
  mx::NDArray ones = mx::NDArray::Ones(mx::Shape(1000));
  EXPECT_EQ(drop(ones).ToVector<float>(), std::vector<float>(1000, 1.0f));  // inference: identity
  std::vector<float> dropped;
  {
    mx::autograd::TrainModeScope train;
    dropped = drop(ones).ToVector<float>();
  }
  size_t zeros = 0;
  for (float v : dropped) {
    EXPECT_TRUE(v == 0.0f || v == 2.0f) << v;  // kept elements scaled by 1 / (1 - p)
    zeros += v == 0.0f;
  }
  EXPECT_GT(zeros, 400u);
  EXPECT_LT(zeros, 600u);
  EXPECT_THROW(nn::Dropout(1.0), mx::Error);
}

// ---------------------------------------------------------------- training

TEST(NN, TrainerStepIsSGDAndStaleGradientsAreErrors) {
  nn::Dense d(2, "", false, 3);
  d.Initialize(nn::Constant(0.5));
  std::vector<float> x = {1, 2, 3, -1, 0, 4};  // batch of 2
  nn::Trainer trainer(d.CollectParams(), "sgd", {{"lr", 0.1}});
  {
    mx::autograd::RecordScope record;
    mx::NDArray out = d(mx::NDArray(x, mx::Shape(2, 3)));
    out.Backward();  // d sum(out) / dW[o][i] = sum_n x[n][i]
  }
  EXPECT_TRUE(d.Weight()->FreshGrad());
  trainer.Step(2);
  std::vector<float> want;
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 3; ++i) want.push_back(0.5f - 0.1f * (x[i] + x[3 + i]) / 2.0f);
  ExpectNear(d.Weight()->Data().ToVector<float>(), want, 1e-6f);
  EXPECT_FALSE(d.Weight()->FreshGrad());

  mx::Error e = Throws([&] { trainer.Step(2); });
  EXPECT_TRUE(Contains(e.what(), "has not been updated by backward since last `Step`")) << e.what();
  EXPECT_TRUE(Contains(e.what(), d.Weight()->Name())) << e.what();
  trainer.Step(2, /*ignore_stale_grad=*/true);  // skipped: nothing changes
  ExpectNear(d.Weight()->Data().ToVector<float>(), want, 1e-6f);
  EXPECT_THROW(trainer.Step(0), mx::Error);
  EXPECT_THROW(nn::Trainer(d.CollectParams(), "no-such-optimizer"), mx::Error);
}

TEST(NN, TrainingLowersTheLoss) {
  // Two separable blobs; a Dense -> BatchNorm -> Dense net trained with SGD + momentum.
  std::vector<float> x, y;
  for (int i = 0; i < 64; ++i) {
    float s = i % 2 ? 1.0f : -1.0f;
    x.push_back(s * 1.5f + 0.3f * static_cast<float>((i * 37) % 11 - 5) / 5.0f);
    x.push_back(-s + 0.3f * static_cast<float>((i * 17) % 7 - 3) / 3.0f);
    y.push_back(i % 2 ? 1.0f : 0.0f);
  }
  mx::NDArray X(x, mx::Shape(64, 2)), Y(y, mx::Shape(64));
  mx::RandomSeed(3);
  nn::Sequential net;
  net.Add(nn::Dense(8, "relu")).Add(nn::BatchNorm()).Add(nn::Dense(2));
  net.Initialize(nn::Xavier());
  nn::Trainer trainer(net.CollectParams(), "sgd", {{"lr", 0.2}, {"momentum", 0.9}});
  nn::SoftmaxCrossEntropyLoss loss_fn;
  auto mean_loss = [&] { return mx::Operator("mean").SetInput("data", loss_fn(net(X), Y)).Invoke()[0].ToVector<float>()[0]; };
  float before = mean_loss();
  EXPECT_NEAR(loss_fn(mx::NDArray::Zeros(mx::Shape(1, 2)), mx::NDArray::Zeros(mx::Shape(1))).ToVector<float>()[0],
              std::log(2.0f), 1e-6f);
  for (int step = 0; step < 30; ++step) {
    mx::NDArray loss;
    {
      mx::autograd::RecordScope record;
      loss = loss_fn(net(X), Y);
    }
    loss.Backward();
    trainer.Step(64);
  }
  float after = mean_loss();
  EXPECT_LT(after, 0.25f * before) << before << " -> " << after;
}

// ---------------------------------------------------------------- files

TEST(NN, SaveLoadParametersRoundTrip) {
  TempDir tmp;
  mx::RandomSeed(11);
  auto a = FixtureMLPBN();
  a->Initialize(nn::Xavier());
  mx::NDArray x = mx::NDArray(std::vector<float>(40, 0.3f), mx::Shape(2, 20));
  {
    mx::autograd::RecordScope record;  // moves the running statistics off (0, 1)
    a->Forward(x);
  }
  std::vector<float> ya = a->Forward(x).ToVector<float>();
  a->SaveParameters(tmp / "a.params");
  std::map<std::string, mx::NDArray> saved = mx::NDArray::LoadToMap(tmp / "a.params");
  EXPECT_EQ(saved.size(), 14u);
  EXPECT_TRUE(saved.count("1.running_mean"));
  EXPECT_TRUE(saved.count("8.bias"));

  auto b = FixtureMLPBN();  // other names (sequential<k+1>_...), same structure
  b->LoadParameters(tmp / "a.params");
  ExpectNear(b->Forward(x).ToVector<float>(), ya, 1e-6f);

  // Full names (collect_params().save with the prefix stripped) load too.
  a->CollectParams().Save(tmp / "full.params", a->Prefix());
  auto c = FixtureMLPBN();
  c->LoadParameters(tmp / "full.params");
  ExpectNear(c->Forward(x).ToVector<float>(), ya, 1e-6f);

  // Errors carry the names; libmx's own message for a missing file.
  auto small = std::make_shared<nn::Sequential>();
  small->Add(nn::Dense(64, "", true, 20));
  mx::Error e = Throws([&] { small->LoadParameters(tmp / "a.params"); });
  EXPECT_EQ(e.status(), MX_ERR_NOT_FOUND);
  EXPECT_TRUE(Contains(e.what(), "' loaded from file '" + tmp / "a.params" + "' is not present in this block")) << e.what();
  small->LoadParameters(tmp / "a.params", mx::Context::cpu(), false, /*ignore_extra=*/true);
  auto wide = std::make_shared<nn::Sequential>();
  wide->Add(nn::Dense(64, "", true, 21));
  e = Throws([&] { wide->LoadParameters(tmp / "a.params", mx::Context::cpu(), false, true); });
  EXPECT_EQ(e.status(), MX_ERR_SHAPE);
  EXPECT_TRUE(Contains(e.what(), "shape incompatible")) << e.what();
  auto more = FixtureMLPBN();
  more->Add(nn::Dense(3));
  e = Throws([&] { more->LoadParameters(tmp / "a.params"); });
  EXPECT_TRUE(Contains(e.what(), "'9.weight' is missing")) << e.what();
  e = Throws([&] { more->LoadParameters(tmp / "no-such-file.params"); });
  EXPECT_NE(e.status(), MX_OK);
  EXPECT_TRUE(Contains(e.what(), "no-such-file.params")) << e.what();
  mx::NDArray::Save(tmp / "list.nd", std::vector<mx::NDArray>{x});
  e = Throws([&] { more->LoadParameters(tmp / "list.nd"); });
  EXPECT_TRUE(Contains(e.what(), "without names")) << e.what();
}

TEST(NN, ExportRunsInAnExecutorWithArgAndAuxNames) {
  TempDir tmp;
  mx::RandomSeed(5);
  nn::Sequential net;
  net.SetPrefix("net_");
  net.Add(nn::Conv2D(3, mx::Shape(3, 3), mx::Shape(1, 1), mx::Shape(1, 1), "relu"))
      .Add(nn::BatchNorm())
      .Add(nn::MaxPool2D())
      .Add(nn::Flatten())
      .Add(nn::Dropout(0.3))
      .Add(nn::Dense(4));
  net.Initialize(nn::Xavier());
  std::vector<float> xv(2 * 2 * 6 * 6);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin(static_cast<float>(i));
  mx::NDArray x(xv, mx::Shape(2, 2, 6, 6));
  {
    mx::autograd::RecordScope record;
    net(x);
  }
  std::vector<float> want = net(x).ToVector<float>();
  net.Export(tmp / "net", 3);

  mx::Symbol sym = mx::Symbol::Load(tmp / "net-symbol.json");
  EXPECT_EQ(sym.ListAuxiliaryStates(), (std::vector<std::string>{"net_batchnorm0_running_mean", "net_batchnorm0_running_var"}));
  std::map<std::string, mx::NDArray> params = mx::NDArray::LoadToMap(tmp / "net-0003.params");
  EXPECT_EQ(params.size(), 8u);
  EXPECT_TRUE(params.count("arg:net_conv0_weight"));
  EXPECT_TRUE(params.count("aux:net_batchnorm0_running_var"));
  EXPECT_TRUE(params.count("arg:net_dense0_bias"));
  std::vector<mx::NDArray> args, aux;
  for (const auto& n : sym.ListArguments()) args.push_back(n == "data" ? x : params.at("arg:" + n));
  for (const auto& n : sym.ListAuxiliaryStates()) aux.push_back(params.at("aux:" + n));
  mx::Executor exec = sym.Bind(mx::Context::cpu(), args, {}, {}, aux);
  exec.Forward(false);
  ExpectNear(exec.Outputs()[0].ToVector<float>(), want, 1e-5f);
  // The variables carry Gluon's attributes (Python's SymbolBlock reads them).
  auto attrs = sym.ListAttr();
  EXPECT_EQ(attrs["net_dense0_weight"]["__shape__"], "(4, 27)");
  EXPECT_EQ(attrs["net_dense0_bias"]["__init__"], "zeros");
  EXPECT_EQ(attrs["net_dropout0_fwd"]["p"], "0.3");
}

// ---------------------------------------------------------------- real MXNet 1.9.1 files

TEST(NN, LoadsMXNetSaveParametersAndReproducesMXNetOutputs) {
  fs::path dir = FixtureDir();
  ASSERT_FALSE(dir.empty()) << "MXNet 1.9.1 fixtures not found: keep shared/fixtures/mxnet-1.9.1 beside the "
                               "checkout or set MX_FIXTURES_DIR";
  struct Case {
    const char* name;
    std::shared_ptr<nn::Sequential> net;
  };
  for (Case c : {Case{"cnn", FixtureCNN()}, Case{"mlp_bn", FixtureMLPBN()}}) {
    SCOPED_TRACE(c.name);
    std::vector<int64_t> in_shape, out_shape;
    std::vector<float> in = ReadNpy(dir / (std::string(c.name) + "_input.npy"), &in_shape);
    std::vector<float> want = ReadNpy(dir / (std::string(c.name) + "_output.npy"), &out_shape);
    c.net->LoadParameters((dir / (std::string(c.name) + "_gluon.params")).string());
    mx::NDArray y = c.net->Forward(mx::NDArray(in, mx::Shape(in_shape)));  // inference mode
    EXPECT_EQ(y.GetShape(), out_shape);
    ExpectNear(y.ToVector<float>(), want, 1e-4f);
    // And its export (names of this net) predicts the same.
    TempDir tmp;
    mx::Symbol sym = c.net->Export(tmp / "m");
    std::map<std::string, mx::NDArray> params = mx::NDArray::LoadToMap(tmp / "m-0000.params");
    std::vector<mx::NDArray> args, aux;
    for (const auto& n : sym.ListArguments())
      args.push_back(n == "data" ? mx::NDArray(in, mx::Shape(in_shape)) : params.at("arg:" + n));
    for (const auto& n : sym.ListAuxiliaryStates()) aux.push_back(params.at("aux:" + n));
    mx::Executor exec = sym.Bind(mx::Context::cpu(), args, {}, {}, aux);
    exec.Forward(false);
    ExpectNear(exec.Outputs()[0].ToVector<float>(), want, 1e-4f);
  }
}

TEST(NN, SequentialErrors) {
  nn::Sequential net;
  EXPECT_THROW(net.Add(std::shared_ptr<nn::Block>()), mx::Error);
  mx::Error e = Throws([&] { net[0]; });
  EXPECT_EQ(e.status(), MX_ERR_INDEX);
  EXPECT_THROW(nn::Dense(0), mx::Error);
  EXPECT_THROW(nn::Parameter("w", mx::Shape(2), "sometimes"), mx::Error);
  nn::ParameterDict d = net.CollectParams();
  e = Throws([&] { d["missing"]; });
  EXPECT_EQ(e.status(), MX_ERR_NOT_FOUND);
}

}  // namespace
