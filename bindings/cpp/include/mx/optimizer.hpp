// MX C++ package: optimizers over libmx's fused update ops (sgd_update, sgd_mom_update,
// nag_mom_update, adam_update, _adamw_update, rmsprop_update, rmspropalex_update,
// _sparse_adagrad_update, ftrl_update, lamb_update_phase1/2). The C++ side keeps the bookkeeping
// (hyper-parameters, per-index update counts and states) exactly as MXNet's Python optimizers do;
// every tensor computation is a libmx op writing the weight in place.
// Include <mx/mx.hpp> rather than this file.
#ifndef MX_CPP_OPTIMIZER_HPP_
#define MX_CPP_OPTIMIZER_HPP_

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include "mx/base.hpp"
#include "mx/ndarray.hpp"
#include "mx/operator.hpp"

namespace mx {

// auto opt = mx::Optimizer::Create("sgd");
// opt->SetParam("lr", 0.1)->SetParam("momentum", 0.9)->SetParam("wd", 1e-4);
// opt->Update(index, weight, grad);   // weight updated in place; index's state made on first use
//
// Parameters common to all: lr (alias learning_rate), wd, rescale_grad, clip_gradient (< 0: off).
//   sgd      momentum (0), lazy_update (1)          nag      momentum (0)
//   adam     lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8, lazy_update (1)
//            (bias corrections folded into lr: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t))
//   adamw    lr 0.001, beta1, beta2, epsilon 1e-6, correct_bias (1)
//   rmsprop  lr 0.001, gamma1 0.9, gamma2 0.9, epsilon 1e-8, centered (0), clip_weights (< 0: off)
//   adagrad  eps 1e-7 (alias epsilon)               ftrl     lr 0.1, lamda1 0.01, beta 1
//   lamb     lr 0.001, beta1, beta2, epsilon 1e-6, lower_bound, upper_bound (< 0: off), bias_correction (1)
// An unknown optimizer name or parameter throws mx::Error.
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Case-insensitive: "sgd", "nag", "adam", "adamw", "rmsprop", "adagrad", "ftrl", "lamb".
  static std::unique_ptr<Optimizer> Create(const std::string& name);
  static std::vector<std::string> ListOptimizers() {
    return {"adagrad", "adam", "adamw", "ftrl", "lamb", "nag", "rmsprop", "sgd"};
  }

  const std::string& GetType() const { return type_; }

  // Returns this, so calls chain as in MXNet's cpp-package.
  Optimizer* SetParam(const std::string& name, double value) {
    std::string key = name == "learning_rate" ? "lr" : name;
    if (key == "multi_precision") {
      if (value != 0.0)
        detail::Fail(MX_ERR_UNSUPPORTED, "Optimizer(" + type_ + "): multi_precision is not supported by the C++ package");
      return this;
    }
    if (key == "epsilon" && type_ == "adagrad") key = "eps";
    auto it = params_.find(key);
    if (it == params_.end()) {
      std::string known;
      for (const auto& kv : params_) known += (known.empty() ? "" : ", ") + kv.first;
      detail::Fail(MX_ERR_INVALID_ARGUMENT,
                   "Optimizer(" + type_ + "): unknown parameter '" + name + "' (parameters: " + known + ")");
    }
    it->second = value;
    return this;
  }
  Optimizer* SetParam(const std::string& name, bool value) { return SetParam(name, value ? 1.0 : 0.0); }
  Optimizer* SetParam(const std::string& name, int value) { return SetParam(name, static_cast<double>(value)); }
  double GetParam(const std::string& name) const {
    auto it = params_.find(name == "learning_rate" ? "lr" : name);
    if (it == params_.end())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Optimizer(" + type_ + "): unknown parameter '" + name + "'");
    return it->second;
  }

  // The learning rate at the current update count: the scheduler's value when one is set.
  double GetLearningRate() const { return scheduler_ ? scheduler_(num_update_) : params_.at("lr"); }
  // A function of num_update (the largest update count of any index) giving the learning rate.
  Optimizer* SetLRScheduler(std::function<double(int64_t)> scheduler) {
    scheduler_ = std::move(scheduler);
    return this;
  }
  // Per-index multipliers of the learning rate and of wd (default 1).
  Optimizer* SetLRMult(int index, double mult) {
    lr_mult_[index] = mult;
    return this;
  }
  Optimizer* SetWDMult(int index, double mult) {
    wd_mult_[index] = mult;
    return this;
  }
  int64_t NumUpdate() const { return num_update_; }
  // How many times index was updated.
  int64_t UpdateCount(int index) const {
    auto it = counts_.find(index);
    return it == counts_.end() ? 0 : it->second;
  }
  // The state arrays of index (empty before its first update or for a stateless optimizer).
  std::vector<NDArray> GetState(int index) const {
    auto it = states_.find(index);
    return it == states_.end() ? std::vector<NDArray>() : it->second;
  }

  // Updates weight in place from grad; the state of index is created (zeros) on first use.
  void Update(int index, NDArray weight, const NDArray& grad) {
    if (weight.IsNone() || grad.IsNone())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Optimizer(" + type_ + ")::Update: empty weight or gradient");
    auto st = states_.find(index);
    if (st == states_.end()) st = states_.emplace(index, CreateState(weight)).first;
    int64_t t = ++counts_[index];
    num_update_ = std::max(num_update_, t);
    double lr = GetLearningRate() * Mult(lr_mult_, index);
    double wd = params_.at("wd") * Mult(wd_mult_, index);
    Step(weight, grad, st->second, lr, wd, t);
  }

 protected:
  Optimizer(std::string type, std::map<std::string, double> extra, double lr) : type_(std::move(type)) {
    params_ = {{"lr", lr}, {"wd", 0.0}, {"rescale_grad", 1.0}, {"clip_gradient", -1.0}};
    for (const auto& kv : extra) params_[kv.first] = kv.second;
  }
  virtual std::vector<NDArray> CreateState(const NDArray& weight) = 0;
  virtual void Step(NDArray& weight, const NDArray& grad, std::vector<NDArray>& state, double lr, double wd,
                    int64_t t) = 0;

  double P(const char* key) const { return params_.at(key); }
  static NDArray ZerosLike(const NDArray& w) { return NDArray::Zeros(w.Shape(), w.GetContext(), w.Dtype()); }
  // rescale_grad, and clip_gradient when it is on (as MXNet's Python passes them).
  void Common(Operator& op, bool with_rescale = true) const {
    if (with_rescale) op.SetParam("rescale_grad", P("rescale_grad"));
    if (P("clip_gradient") >= 0) op.SetParam("clip_gradient", P("clip_gradient"));
  }
  static void Run(Operator& op, NDArray& weight) { op.Invoke(weight); }

 private:
  static double Mult(const std::map<int, double>& m, int index) {
    auto it = m.find(index);
    return it == m.end() ? 1.0 : it->second;
  }

  std::string type_;
  std::map<std::string, double> params_;
  std::map<int, std::vector<NDArray>> states_;
  std::map<int, int64_t> counts_;
  std::map<int, double> lr_mult_, wd_mult_;
  int64_t num_update_ = 0;
  std::function<double(int64_t)> scheduler_;
};

namespace optimizer {

class SGD : public Optimizer {
 public:
  SGD() : Optimizer("sgd", {{"momentum", 0.0}, {"lazy_update", 1.0}}, 0.01) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override {
    if (P("momentum") != 0.0) return {ZerosLike(w)};
    return {};
  }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t) override {
    if (P("momentum") != 0.0 && s.empty()) s.push_back(ZerosLike(w));  // momentum set after the first update
    Operator op(s.empty() ? "sgd_update" : "sgd_mom_update");
    op.PushInput(w).PushInput(g);
    if (!s.empty()) op.PushInput(s[0]).SetParam("momentum", P("momentum"));
    op.SetParam("lr", lr).SetParam("wd", wd).SetParam("lazy_update", P("lazy_update") != 0.0);
    Common(op);
    Run(op, w);
  }
};

class NAG : public Optimizer {
 public:
  NAG() : Optimizer("nag", {{"momentum", 0.0}}, 0.01) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override {
    if (P("momentum") != 0.0) return {ZerosLike(w)};
    return {};
  }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t) override {
    if (P("momentum") != 0.0 && s.empty()) s.push_back(ZerosLike(w));
    Operator op(s.empty() ? "sgd_update" : "nag_mom_update");
    op.PushInput(w).PushInput(g);
    if (!s.empty()) op.PushInput(s[0]).SetParam("momentum", P("momentum"));
    op.SetParam("lr", lr).SetParam("wd", wd);
    Common(op);
    Run(op, w);
  }
};

class Adam : public Optimizer {
 public:
  Adam() : Optimizer("adam", {{"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-8}, {"lazy_update", 1.0}}, 0.001) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return {ZerosLike(w), ZerosLike(w)}; }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t t) override {
    double td = static_cast<double>(t);
    lr *= std::sqrt(1.0 - std::pow(P("beta2"), td)) / (1.0 - std::pow(P("beta1"), td));
    Operator op("adam_update");
    op.PushInput(w).PushInput(g).PushInput(s[0]).PushInput(s[1]);
    op.SetParam("lr", lr).SetParam("wd", wd).SetParam("beta1", P("beta1")).SetParam("beta2", P("beta2"));
    op.SetParam("epsilon", P("epsilon")).SetParam("lazy_update", P("lazy_update") != 0.0);
    Common(op);
    Run(op, w);
  }
};

class AdamW : public Optimizer {
 public:
  AdamW() : Optimizer("adamw", {{"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-6}, {"correct_bias", 1.0}}, 0.001) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return {ZerosLike(w), ZerosLike(w)}; }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t t) override {
    double coef = 1.0;
    if (P("correct_bias") != 0.0) {
      double td = static_cast<double>(t);
      coef = std::sqrt(1.0 - std::pow(P("beta2"), td)) / (1.0 - std::pow(P("beta1"), td));
    }
    // _adamw_update takes rescale_grad as an array input.
    NDArray rescale = NDArray::Full(mx::Shape(1), P("rescale_grad"), w.GetContext(), kFloat32);
    Operator op("_adamw_update");
    op.PushInput(w).PushInput(g).PushInput(s[0]).PushInput(s[1]).PushInput(rescale);
    op.SetParam("lr", coef).SetParam("eta", lr).SetParam("wd", wd).SetParam("beta1", P("beta1"));
    op.SetParam("beta2", P("beta2")).SetParam("epsilon", P("epsilon"));
    Common(op, false);
    Run(op, w);
  }
};

class RMSProp : public Optimizer {
 public:
  RMSProp()
      : Optimizer("rmsprop", {{"gamma1", 0.9}, {"gamma2", 0.9}, {"epsilon", 1e-8}, {"centered", 0.0}, {"clip_weights", -1.0}},
                  0.001) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override {
    if (P("centered") != 0.0) return {ZerosLike(w), ZerosLike(w), ZerosLike(w)};
    return {ZerosLike(w)};
  }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t) override {
    bool centered = P("centered") != 0.0;
    if (centered != (s.size() == 3))
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Optimizer(rmsprop): 'centered' changed after the first update of this index");
    Operator op(centered ? "rmspropalex_update" : "rmsprop_update");
    op.PushInput(w).PushInput(g);
    for (const auto& x : s) op.PushInput(x);
    op.SetParam("lr", lr).SetParam("wd", wd).SetParam("gamma1", P("gamma1")).SetParam("epsilon", P("epsilon"));
    if (centered) op.SetParam("gamma2", P("gamma2"));
    if (P("clip_weights") > 0) op.SetParam("clip_weights", P("clip_weights"));
    Common(op);
    Run(op, w);
  }
};

class AdaGrad : public Optimizer {
 public:
  AdaGrad() : Optimizer("adagrad", {{"eps", 1e-7}}, 0.01) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return {ZerosLike(w)}; }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t) override {
    // The fused op has no weight decay: as MXNet, the decay term uses the weight before the step.
    NDArray decay;
    if (wd != 0.0) decay = w * (-lr * wd);
    Operator op("_sparse_adagrad_update");
    op.PushInput(w).PushInput(g).PushInput(s[0]).SetParam("lr", lr).SetParam("epsilon", P("eps"));
    Common(op);
    Run(op, w);
    if (wd != 0.0) w += decay;
  }
};

class Ftrl : public Optimizer {
 public:
  Ftrl() : Optimizer("ftrl", {{"lamda1", 0.01}, {"beta", 1.0}}, 0.1) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return {ZerosLike(w), ZerosLike(w)}; }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t) override {
    Operator op("ftrl_update");
    op.PushInput(w).PushInput(g).PushInput(s[0]).PushInput(s[1]);
    op.SetParam("lr", lr).SetParam("wd", wd).SetParam("lamda1", P("lamda1")).SetParam("beta", P("beta"));
    Common(op);
    Run(op, w);
  }
};

class LAMB : public Optimizer {
 public:
  LAMB()
      : Optimizer("lamb",
                  {{"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-6}, {"lower_bound", -1.0}, {"upper_bound", -1.0},
                   {"bias_correction", 1.0}},
                  0.001) {}

 protected:
  std::vector<NDArray> CreateState(const NDArray& w) override { return {ZerosLike(w), ZerosLike(w)}; }
  void Step(NDArray& w, const NDArray& g, std::vector<NDArray>& s, double lr, double wd, int64_t t) override {
    Operator p1("lamb_update_phase1");
    p1.PushInput(w).PushInput(g).PushInput(s[0]).PushInput(s[1]);
    p1.SetParam("wd", wd).SetParam("beta1", P("beta1")).SetParam("beta2", P("beta2")).SetParam("epsilon", P("epsilon"));
    p1.SetParam("t", t).SetParam("bias_correction", P("bias_correction") != 0.0);
    Common(p1);
    NDArray dir = p1.Invoke()[0];
    NDArray r1 = Operator("norm").PushInput(w).Invoke()[0].Reshape(mx::Shape(1));
    NDArray r2 = Operator("norm").PushInput(dir).Invoke()[0].Reshape(mx::Shape(1));
    Operator p2("lamb_update_phase2");
    p2.PushInput(w).PushInput(dir).PushInput(r1).PushInput(r2).SetParam("lr", lr);
    if (P("lower_bound") > 0) p2.SetParam("lower_bound", P("lower_bound"));
    if (P("upper_bound") > 0) p2.SetParam("upper_bound", P("upper_bound"));
    Run(p2, w);
  }
};

}  // namespace optimizer

inline std::unique_ptr<Optimizer> Optimizer::Create(const std::string& name) {
  std::string key = name;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (key == "sgd") return std::make_unique<optimizer::SGD>();
  if (key == "nag") return std::make_unique<optimizer::NAG>();
  if (key == "adam") return std::make_unique<optimizer::Adam>();
  if (key == "adamw") return std::make_unique<optimizer::AdamW>();
  if (key == "rmsprop") return std::make_unique<optimizer::RMSProp>();
  if (key == "adagrad") return std::make_unique<optimizer::AdaGrad>();
  if (key == "ftrl") return std::make_unique<optimizer::Ftrl>();
  if (key == "lamb") return std::make_unique<optimizer::LAMB>();
  std::string known;
  for (const auto& n : ListOptimizers()) known += (known.empty() ? "" : ", ") + n;
  detail::Fail(MX_ERR_NOT_FOUND, "Cannot find optimizer '" + name + "' (registered: " + known + ")");
}

}  // namespace mx

#endif  // MX_CPP_OPTIMIZER_HPP_
