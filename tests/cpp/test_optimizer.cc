// mx::Optimizer (over libmx's fused update ops) and mx::KVStore: three update steps of every
// optimizer against its formula written out here in double precision.
#include <cmath>
#include <functional>

#include "test_util.hpp"

using mx::NDArray;
using mx::Shape;

namespace {

using Vec = std::vector<double>;
const Vec kW0{0.5, -1.0, 2.0, 0.0, -0.3};
const std::vector<Vec> kGrads{{0.3, -2.0, 1.0, 0.5, -0.1}, {-0.4, 1.5, 0.2, -3.0, 0.05}, {1.2, 0.1, -0.7, 0.9, 2.0}};

double Clip(double g, double c) { return c >= 0 ? std::max(-c, std::min(c, g)) : g; }
double Sign(double x) { return (x > 0) - (x < 0); }

NDArray ToND(const Vec& v) { return NDArray(std::vector<float>(v.begin(), v.end()), Shape(static_cast<int64_t>(v.size()))); }

// Runs three updates of opt on index 7 and compares with ref(step t (1-based), weight, grad) after each.
void Check(mx::Optimizer& opt, const std::function<void(int, Vec&, const Vec&)>& ref, double tol = 1e-5) {
  NDArray w = ToND(kW0);
  Vec want = kW0;
  for (int t = 1; t <= 3; ++t) {
    opt.Update(7, w, ToND(kGrads[t - 1]));
    ref(t, want, kGrads[t - 1]);
    mxtest::ExpectNear(w.ToVector<float>(), want, tol, opt.GetType() + " step " + std::to_string(t));
  }
  EXPECT_EQ(opt.UpdateCount(7), 3);
  EXPECT_EQ(opt.NumUpdate(), 3);
}

}  // namespace

TEST(Optimizer, SGDPlainWithWdRescaleClip) {
  auto opt = mx::Optimizer::Create("sgd");
  opt->SetParam("lr", 0.1)->SetParam("wd", 0.01)->SetParam("rescale_grad", 0.5)->SetParam("clip_gradient", 0.6);
  Check(*opt, [](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) w[i] = (1 - 0.1 * 0.01) * w[i] - 0.1 * Clip(0.5 * g[i], 0.6);
  });
}

TEST(Optimizer, SGDMomentum) {
  auto opt = mx::Optimizer::Create("SGD");  // case-insensitive
  opt->SetParam("learning_rate", 0.05)->SetParam("momentum", 0.9)->SetParam("wd", 0.1);
  Vec mom(5, 0.0);
  Check(*opt, [&mom](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      mom[i] = 0.9 * mom[i] - 0.05 * 0.1 * w[i] - 0.05 * g[i];
      w[i] += mom[i];
    }
  });
  ASSERT_EQ(opt->GetState(7).size(), 1u);
  mxtest::ExpectNear(opt->GetState(7)[0].ToVector<float>(), mom, 1e-5);
}

TEST(Optimizer, NAG) {
  auto opt = mx::Optimizer::Create("nag");
  opt->SetParam("lr", 0.1)->SetParam("momentum", 0.8)->SetParam("wd", 0.05);
  // MXNet 1.x's Python NAG: mom = momentum*mom + G; w -= lr*(G + momentum*mom), G = grad + wd*w.
  Vec mom(5, 0.0);
  Check(*opt, [&mom](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      double G = g[i] + 0.05 * w[i];
      mom[i] = 0.8 * mom[i] + G;
      w[i] -= 0.1 * (G + 0.8 * mom[i]);
    }
  });
}

TEST(Optimizer, AdamWithBiasCorrection) {
  auto opt = mx::Optimizer::Create("adam");
  EXPECT_DOUBLE_EQ(opt->GetLearningRate(), 0.001);  // Adam's default
  opt->SetParam("lr", 0.01)->SetParam("wd", 0.1)->SetParam("clip_gradient", 1.0);
  Vec m(5, 0.0), v(5, 0.0);
  Check(*opt, [&](int t, Vec& w, const Vec& g) {
    double lr_t = 0.01 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (size_t i = 0; i < w.size(); ++i) {
      double gi = Clip(g[i] + 0.1 * w[i], 1.0);
      m[i] = 0.9 * m[i] + 0.1 * gi;
      v[i] = 0.999 * v[i] + 0.001 * gi * gi;
      w[i] -= lr_t * m[i] / (std::sqrt(v[i]) + 1e-8);
    }
  });
}

TEST(Optimizer, AdamW) {
  auto opt = mx::Optimizer::Create("adamw");
  opt->SetParam("lr", 0.02)->SetParam("wd", 0.1)->SetParam("rescale_grad", 2.0)->SetParam("beta1", 0.8);
  Vec m(5, 0.0), v(5, 0.0);
  Check(*opt, [&](int t, Vec& w, const Vec& g) {
    double c = std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.8, t));
    for (size_t i = 0; i < w.size(); ++i) {
      double gi = 2.0 * g[i];
      m[i] = 0.8 * m[i] + 0.2 * gi;
      v[i] = 0.999 * v[i] + 0.001 * gi * gi;
      w[i] -= 0.02 * (c * m[i] / (std::sqrt(v[i]) + 1e-6) + 0.1 * w[i]);
    }
  });
}

TEST(Optimizer, RMSPropPlainAndCentered) {
  auto opt = mx::Optimizer::Create("rmsprop");
  opt->SetParam("lr", 0.01)->SetParam("gamma1", 0.9)->SetParam("wd", 0.01);
  Vec n(5, 0.0);
  Check(*opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      double gi = g[i] + 0.01 * w[i];
      n[i] = 0.1 * gi * gi + 0.9 * n[i];
      w[i] -= 0.01 * gi / std::sqrt(n[i] + 1e-8);
    }
  });

  auto alex = mx::Optimizer::Create("rmsprop");
  alex->SetParam("lr", 0.01)->SetParam("centered", true)->SetParam("gamma1", 0.95)->SetParam("gamma2", 0.8);
  Vec n2(5, 0.0), gbar(5, 0.0), delta(5, 0.0);
  Check(*alex, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      n2[i] = 0.05 * g[i] * g[i] + 0.95 * n2[i];
      gbar[i] = 0.05 * g[i] + 0.95 * gbar[i];
      delta[i] = 0.8 * delta[i] - 0.01 * g[i] / std::sqrt(n2[i] - gbar[i] * gbar[i] + 1e-8);
      w[i] += delta[i];
    }
  }, 2e-4);
  EXPECT_EQ(alex->GetState(7).size(), 3u);
}

TEST(Optimizer, AdaGradWithDecay) {
  auto opt = mx::Optimizer::Create("adagrad");
  opt->SetParam("lr", 0.1)->SetParam("wd", 0.01)->SetParam("epsilon", 1e-6);
  EXPECT_DOUBLE_EQ(opt->GetParam("eps"), 1e-6);
  Vec h(5, 0.0);
  Check(*opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      h[i] += g[i] * g[i];
      w[i] = w[i] - 0.1 * g[i] / std::sqrt(h[i] + 1e-6) - 0.1 * 0.01 * w[i];
    }
  });
}

TEST(Optimizer, Ftrl) {
  auto opt = mx::Optimizer::Create("ftrl");
  opt->SetParam("lamda1", 0.05)->SetParam("beta", 1.0)->SetParam("wd", 0.01);
  double lr = 0.1;  // Ftrl's default
  Vec z(5, 0.0), n(5, 0.0);
  Check(*opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      z[i] += g[i] - (std::sqrt(n[i] + g[i] * g[i]) - std::sqrt(n[i])) * w[i] / lr;
      n[i] += g[i] * g[i];
      w[i] = std::fabs(z[i]) > 0.05 ? (Sign(z[i]) * 0.05 - z[i]) / ((1.0 + std::sqrt(n[i])) / lr + 0.01) : 0.0;
    }
  });
}

TEST(Optimizer, LAMB) {
  auto opt = mx::Optimizer::Create("lamb");
  opt->SetParam("lr", 0.01)->SetParam("wd", 0.01);
  Vec m(5, 0.0), v(5, 0.0);
  Check(*opt, [&](int t, Vec& w, const Vec& g) {
    Vec d(5);
    double r1 = 0, r2 = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.999, t));
      d[i] = mh / (std::sqrt(vh) + 1e-6) + 0.01 * w[i];
      r1 += w[i] * w[i];
      r2 += d[i] * d[i];
    }
    double ratio = std::sqrt(r1) / std::sqrt(r2);
    for (size_t i = 0; i < w.size(); ++i) w[i] -= 0.01 * ratio * d[i];
  });
}

TEST(Optimizer, MultipliersSchedulerAndIndependentIndices) {
  auto opt = mx::Optimizer::Create("sgd");
  opt->SetParam("lr", 1.0)->SetLRMult(1, 0.5)->SetWDMult(1, 0.0)->SetParam("wd", 0.1);
  opt->SetLRScheduler([](int64_t num_update) { return num_update <= 1 ? 0.1 : 0.01; });
  NDArray a = ToND({1.0}), b = ToND({1.0});
  opt->Update(0, a, ToND({1.0}));  // num_update 1: lr 0.1, wd 0.1
  opt->Update(1, b, ToND({1.0}));  // num_update still 1 (index 1's first): lr 0.1 * 0.5, wd 0
  mxtest::ExpectNear(a.ToVector<float>(), Vec{(1 - 0.1 * 0.1) * 1.0 - 0.1}, 1e-6);
  mxtest::ExpectNear(b.ToVector<float>(), Vec{1.0 - 0.05}, 1e-6);
  opt->Update(0, a, ToND({1.0}));  // num_update 2: lr 0.01
  mxtest::ExpectNear(a.ToVector<float>(), Vec{(1 - 0.01 * 0.1) * 0.89 - 0.01}, 1e-6);
  EXPECT_EQ(opt->NumUpdate(), 2);
  EXPECT_DOUBLE_EQ(opt->GetLearningRate(), 0.01);
}

TEST(KVStore, LocalInitPushPull) {
  mx::KVStore kv;  // "local"
  EXPECT_EQ(kv.GetType(), "local");
  kv.Init(3, ToND({1, 2}));
  NDArray out = NDArray::Zeros(Shape(2));
  kv.Pull(3, &out);
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{1, 2}));
  // Without an updater the sum of the pushed values replaces the stored value.
  kv.Push(3, std::vector<NDArray>{ToND({1, 1}), ToND({2, 3}), ToND({0.5, 0.5})});
  kv.Pull(3, &out);
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{3.5, 4.5}));
  // Several keys, repeated keys summed, pull into several outputs.
  kv.Init(std::vector<int>{4, 5}, {ToND({0}), ToND({0})});
  kv.Push(std::vector<int>{4, 5, 4}, {ToND({1}), ToND({10}), ToND({2})});
  std::vector<NDArray> outs{NDArray::Zeros(Shape(1)), NDArray::Zeros(Shape(1))};
  kv.Pull(std::vector<int>{4, 5}, &outs);
  EXPECT_EQ(outs[0].ToVector<float>(), (std::vector<float>{3}));
  EXPECT_EQ(outs[1].ToVector<float>(), (std::vector<float>{10}));
  // The stored value is a copy: changing the initial array does not change it.
  NDArray src = ToND({7});
  kv.Init(6, src);
  src += 1.0;
  kv.Pull(6, &outs[0]);
  EXPECT_EQ(outs[0].ToVector<float>(), (std::vector<float>{7}));
}

TEST(KVStore, OptimizerAndUpdaterAndStringKeys) {
  mx::KVStore kv("local");
  auto opt = mx::Optimizer::Create("sgd");
  opt->SetParam("lr", 0.1);
  kv.SetOptimizer(std::move(opt));
  kv.Init(0, ToND({1.0, -1.0}));
  kv.Push(0, std::vector<NDArray>{ToND({1.0, 2.0}), ToND({1.0, 0.0})});  // grad sum (2, 2)
  NDArray w = NDArray::Zeros(Shape(2));
  kv.Pull(0, &w);
  mxtest::ExpectNear(w.ToVector<float>(), Vec{0.8, -1.2}, 1e-6);

  mx::KVStore named;
  std::vector<int> seen;
  named.SetUpdater([&seen](int key, const NDArray& recv, NDArray* local) {
    seen.push_back(key);
    *local += recv * 2.0;
  });
  named.Init("fc_weight", ToND({1}));
  named.Init("fc_bias", ToND({0}));
  named.Push("fc_bias", ToND({5}));
  NDArray o = NDArray::Zeros(Shape(1));
  named.Pull("fc_bias", &o);
  EXPECT_EQ(o.ToVector<float>(), (std::vector<float>{10}));
  EXPECT_EQ(seen, (std::vector<int>{1}));  // string keys numbered in order of Init
}
