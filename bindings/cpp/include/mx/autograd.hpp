// MX C++ package: mx::autograd (recording scopes, variables, backward, grad). The tape lives in
// libmx; these are per-thread switches and calls. Include <mx/mx.hpp> rather than this file.
#ifndef MX_CPP_AUTOGRAD_HPP_
#define MX_CPP_AUTOGRAD_HPP_

#include "mx/base.hpp"
#include "mx/ndarray.hpp"
#include "mx/operator.hpp"

namespace mx {
namespace autograd {

inline bool IsRecording() {
  int r = 0;
  detail::Check(mx_autograd_is_recording(&r));
  return r != 0;
}
inline bool IsTraining() {
  int r = 0;
  detail::Check(mx_autograd_is_training(&r));
  return r != 0;
}
// Each returns the previous setting.
inline bool SetRecording(bool recording) {
  int prev = 0;
  detail::Check(mx_autograd_set_recording(recording ? 1 : 0, &prev));
  return prev != 0;
}
inline bool SetTraining(bool training) {
  int prev = 0;
  detail::Check(mx_autograd_set_training(training ? 1 : 0, &prev));
  return prev != 0;
}

// Python's `with autograd.record(train_mode)`: records ops on arrays that need gradients (and
// sets training mode) until the scope ends, then restores both settings.
class RecordScope {
 public:
  explicit RecordScope(bool train_mode = true) : prev_rec_(SetRecording(true)) {
    try {
      prev_train_ = SetTraining(train_mode);
    } catch (...) {
      mx_autograd_set_recording(prev_rec_ ? 1 : 0, nullptr);
      throw;
    }
  }
  ~RecordScope() {
    // Restoring a boolean flag cannot fail; a destructor must not throw anyway.
    mx_autograd_set_training(prev_train_ ? 1 : 0, nullptr);
    mx_autograd_set_recording(prev_rec_ ? 1 : 0, nullptr);
  }
  RecordScope(const RecordScope&) = delete;
  RecordScope& operator=(const RecordScope&) = delete;

 private:
  bool prev_rec_;
  bool prev_train_ = false;
};

// Python's `with autograd.pause(train_mode)`: stops recording inside a RecordScope.
class PauseScope {
 public:
  explicit PauseScope(bool train_mode = false) : prev_rec_(SetRecording(false)) {
    try {
      prev_train_ = SetTraining(train_mode);
    } catch (...) {
      mx_autograd_set_recording(prev_rec_ ? 1 : 0, nullptr);
      throw;
    }
  }
  ~PauseScope() {
    mx_autograd_set_training(prev_train_ ? 1 : 0, nullptr);
    mx_autograd_set_recording(prev_rec_ ? 1 : 0, nullptr);
  }
  PauseScope(const PauseScope&) = delete;
  PauseScope& operator=(const PauseScope&) = delete;

 private:
  bool prev_rec_;
  bool prev_train_ = false;
};

// Training mode only (Dropout drops, BatchNorm uses batch statistics), recording untouched.
class TrainModeScope {
 public:
  TrainModeScope() : prev_(SetTraining(true)) {}
  ~TrainModeScope() { mx_autograd_set_training(prev_ ? 1 : 0, nullptr); }
  TrainModeScope(const TrainModeScope&) = delete;
  TrainModeScope& operator=(const TrainModeScope&) = delete;

 private:
  bool prev_;
};
class PredictModeScope {
 public:
  PredictModeScope() : prev_(SetTraining(false)) {}
  ~PredictModeScope() { mx_autograd_set_training(prev_ ? 1 : 0, nullptr); }
  PredictModeScope(const PredictModeScope&) = delete;
  PredictModeScope& operator=(const PredictModeScope&) = delete;

 private:
  bool prev_;
};

// grad_req by name: "write" (1), "add" (3), "null" (0), as MXNet spells them.
inline int GradReqFromName(const std::string& req) {
  if (req == "write") return MX_GRAD_WRITE;
  if (req == "add") return MX_GRAD_ADD;
  if (req == "null") return MX_GRAD_NULL;
  if (req == "inplace") return MX_GRAD_INPLACE;
  detail::Fail(MX_ERR_INVALID_ARGUMENT, "unknown grad_req '" + req + "' (expected write, add or null)");
}

// Marks variables: gradients[i] (same shape and dtype as variables[i]) receives the gradient.
inline void MarkVariables(const std::vector<NDArray>& variables, const std::vector<NDArray>& gradients,
                          const std::vector<std::string>& grad_reqs = {}) {
  if (gradients.size() != variables.size())
    detail::Fail(MX_ERR_INVALID_ARGUMENT, "autograd::MarkVariables: " + std::to_string(gradients.size()) +
                                              " gradients for " + std::to_string(variables.size()) + " variables");
  if (!grad_reqs.empty() && grad_reqs.size() != variables.size())
    detail::Fail(MX_ERR_INVALID_ARGUMENT, "autograd::MarkVariables: " + std::to_string(grad_reqs.size()) +
                                              " grad_reqs for " + std::to_string(variables.size()) + " variables");
  std::vector<int> reqs;
  for (size_t i = 0; i < variables.size(); ++i)
    reqs.push_back(grad_reqs.empty() ? MX_GRAD_WRITE : GradReqFromName(grad_reqs[i]));
  auto v = NDArray::Handles(variables);
  auto g = NDArray::Handles(gradients);
  detail::Check(mx_autograd_mark_variables(static_cast<int>(v.size()), v.data(), reqs.data(), g.data()));
}

// Backward from heads into the variables' gradient buffers. head_grads: empty (ones) or one per
// head (IsNone() entries mean ones).
inline void Backward(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads = {},
                     bool retain_graph = false, bool train_mode = true) {
  if (!head_grads.empty() && head_grads.size() != heads.size())
    detail::Fail(MX_ERR_INVALID_ARGUMENT, "autograd::Backward: " + std::to_string(head_grads.size()) +
                                              " head gradients for " + std::to_string(heads.size()) + " heads");
  auto h = NDArray::Handles(heads);
  std::vector<mx_ndarray*> g;
  for (const auto& x : head_grads) g.push_back(x.GetHandle());
  detail::Check(mx_autograd_backward(static_cast<int>(h.size()), h.data(), g.empty() ? nullptr : g.data(),
                                     retain_graph ? 1 : 0, 0, train_mode ? 1 : 0));
}
inline void Backward(const NDArray& head, const NDArray& head_grad = NDArray(), bool retain_graph = false,
                     bool train_mode = true) {
  Backward(std::vector<NDArray>{head}, std::vector<NDArray>{head_grad}, retain_graph, train_mode);
}

// Gradients of heads with respect to variables, returned as new arrays (the variables' gradient
// buffers are untouched). create_graph records the computation for higher-order gradients.
inline std::vector<NDArray> Grad(const std::vector<NDArray>& heads, const std::vector<NDArray>& variables,
                                 const std::vector<NDArray>& head_grads = {}, bool retain_graph = false,
                                 bool create_graph = false, bool train_mode = true) {
  if (!head_grads.empty() && head_grads.size() != heads.size())
    detail::Fail(MX_ERR_INVALID_ARGUMENT, "autograd::Grad: " + std::to_string(head_grads.size()) +
                                              " head gradients for " + std::to_string(heads.size()) + " heads");
  auto h = NDArray::Handles(heads);
  auto v = NDArray::Handles(variables);
  std::vector<mx_ndarray*> g;
  for (const auto& x : head_grads) g.push_back(x.GetHandle());
  std::vector<mx_ndarray*> out(v.size(), nullptr);
  detail::Check(mx_autograd_grad(static_cast<int>(h.size()), h.data(), g.empty() ? nullptr : g.data(),
                                 static_cast<int>(v.size()), v.data(), retain_graph || create_graph ? 1 : 0,
                                 create_graph ? 1 : 0, train_mode ? 1 : 0, out.data()));
  std::vector<NDArray> grads;
  for (auto* x : out) grads.emplace_back(x);
  return grads;
}

}  // namespace autograd

inline void NDArray::AttachGrad(const std::string& grad_req) {
  int req = autograd::GradReqFromName(grad_req);
  NDArray grad = NDArray::Zeros(Shape(), GetContext(), Dtype());
  mx_ndarray* v = Checked();
  mx_ndarray* g = grad.GetHandle();
  detail::Check(mx_autograd_mark_variables(1, &v, &req, &g));
}

inline void NDArray::Backward(const NDArray& head_grad, bool retain_graph, bool train_mode) const {
  autograd::Backward(*this, head_grad, retain_graph, train_mode);
}

}  // namespace mx

#endif  // MX_CPP_AUTOGRAD_HPP_
