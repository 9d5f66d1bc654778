// Gradients of the ops of libmx/op/nn/loss_output.cc, and the backward ops they call:
//   _backward_MakeLoss          grad_scale / normalization, shaped like data
//   _backward_linear_reg_out    (out - label) * grad_scale / m
//   _backward_mae_reg_out       sign(out - label) * grad_scale / m   (-1 where equal, as MXNet)
//   _backward_logistic_reg_out  (out - label) * grad_scale / m       (out is already the sigmoid)
//   _backward_SVMOutput         the L1 / L2 one-vs-all hinge gradient
// m = label.size / label.shape[0], the label values per sample. These are MXNet's loss-layer rules,
// not derivatives of the forward outputs: the head gradient is ignored and labels get no gradient,
// so the finite-difference harness exempts the forward ops (test_grad.py NOT_DERIVATIVES); they are
// checked against numpy in tests/python/test_loss_output.py.
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

using V = GradValue;
using Vs = std::vector<GradValue>;

ParamList given(const GradArgs& a) { return a.params.explicit_values(); }

// The arithmetic type of a float dtype: float, double for float64.
template <typename T>
using Acc = std::conditional_t<std::is_same<T, double>::value, double, float>;

// ------------------------------------------------------------------ gradients
MX_REGISTER_GRADIENT(BlockGrad, [](GradBuilder&, const GradArgs&) { return Vs{V{}}; });

MX_REGISTER_GRADIENT(make_loss, [](GradBuilder& b, const GradArgs& a) {
  if (!a.needs(0)) return Vs{V{}};
  return Vs{b.call1("ones_like", {a.inputs[0]})};
});

MX_REGISTER_GRADIENT(MakeLoss, [](GradBuilder& b, const GradArgs& a) {
  if (!a.needs(0)) return Vs{V{}};
  return Vs{b.call1("_backward_MakeLoss", {a.inputs[0]}, given(a))};
});

GradFn regression_grad(const char* backward_op) {
  const std::string op = backward_op;
  return [op](GradBuilder& b, const GradArgs& a) {
    if (!a.needs(0)) return Vs{V{}, V{}};
    return Vs{b.call1(op, {a.inputs[1], a.outputs[0]}, given(a)), V{}};
  };
}
MX_REGISTER_GRADIENT(LinearRegressionOutput, regression_grad("_backward_linear_reg_out"));
MX_REGISTER_GRADIENT(MAERegressionOutput, regression_grad("_backward_mae_reg_out"));
MX_REGISTER_GRADIENT(LogisticRegressionOutput, regression_grad("_backward_logistic_reg_out"));

MX_REGISTER_GRADIENT(SVMOutput, [](GradBuilder& b, const GradArgs& a) {
  if (!a.needs(0)) return Vs{V{}, V{}};
  const int nd = b.ndim(a.outputs[0]);
  MX_CHECK(nd >= 1 && nd <= 2, kUnsupported, "SVMOutput: the gradient is supported for data of 1 or 2 dims "
           "(samples, classes), got ", nd, " dims");
  return Vs{b.call1("_backward_SVMOutput", {a.inputs[1], a.outputs[0]}, given(a)), V{}};
});

MX_REGISTER_GRADIENT(_rnn_param_concat, [](GradBuilder& b, const GradArgs& a) {
  Vs in{a.ograds[0]};
  in.insert(in.end(), a.inputs.begin(), a.inputs.end());
  return b.call("_backward_Concat", in,
                {{"num_args", std::to_string(a.inputs.size())}, {"dim", std::to_string(a.params.get_int("dim"))}});
});

// ------------------------------------------------------------------ _backward_MakeLoss
template <typename T>
void make_loss_backward(const T* x, T* g, int64_t n, int64_t rows, double scale, const std::string& norm,
                        double thresh) {
  if (norm == "batch") {
    scale /= static_cast<double>(rows);
  } else if (norm == "valid") {
    int64_t valid = 0;
    for (int64_t i = 0; i < n; ++i) valid += cast_value<double>(x[i]) > thresh ? 1 : 0;
    scale /= static_cast<double>(valid > 1 ? valid : 1);
  }
  const T v = cast_value<T>(static_cast<Acc<T>>(scale));
  for (int64_t i = 0; i < n; ++i) g[i] = v;
}

void make_loss_backward_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                                const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  // MXNet views the data as 2-d (all dims but the last, the last): 'batch' divides by its rows.
  const int64_t rows = x.ndim() <= 1 ? 1 : x.shape.prod(0, x.ndim() - 1);
  MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
    make_loss_backward<T>(x.ptr<T>(), out[0].ptr<T>(), x.size(), rows, p.get_float("grad_scale"),
                          p.get_string("normalization"), p.get_float("valid_thresh"));
  });
}

MX_REGISTER_OP(_backward_MakeLoss)
    .describe("MXNet's gradient of MakeLoss with respect to data: grad_scale everywhere, divided with "
              "normalization='batch' by the rows of data viewed as 2-d, with 'valid' by the number of data "
              "elements greater than valid_thresh (at least 1).")
    .category("grad")
    .input("data")
    .param_float("grad_scale", "1", "Gradient scale.")
    .param_float("valid_thresh", "0", "Elements greater than this count as valid.")
    .param_enum("normalization", {"null", "batch", "valid"}, "null", "Normalizes the gradient.")
    .infer_shape(infer_same_shape)
    .float_dtypes()
    .cpu(make_loss_backward_compute)
    .differentiable(false);

// ------------------------------------------------------------------ regression backward ops
enum class RegKind { kLinear, kMae, kLogistic };

void reg_backward_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &l = (*in)[0], &o = (*in)[1];
  if (!shape_known(o)) return;
  if (shape_known(l))
    MX_CHECK(l.ndim() >= 1 && o.ndim() >= 1 && l[0] == o[0] && l.size() == o.size(), kShape, p.op().name(),
             ": label has shape ", l.str(), " but the output has shape ", o.str(),
             " (the label needs the output's first dim and its number of elements)");
  (*out)[0] = o;
}

template <typename T, RegKind K>
void reg_backward(const T* lab, const T* y, T* g, int64_t n, double scale) {
  using A = Acc<T>;
  const A s = static_cast<A>(scale);
  parallel_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const A d = cast_value<A>(y[i]) - cast_value<A>(lab[i]);
      const A v = K == RegKind::kMae ? (d > A(0) ? A(1) : A(-1)) : d;
      g[i] = cast_value<T>(v * s);
    }
  });
}

template <RegKind K>
void reg_backward_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                          const std::vector<TBlob>& out) {
  const TBlob &lab = in[0], &y = in[1];
  MX_CHECK(lab.dtype == y.dtype, kDType, p.op().name(), ": label dtype ", dtype_name(lab.dtype),
           " differs from the output's ", dtype_name(y.dtype));
  MX_CHECK(lab.size() == y.size() && lab.ndim() >= 1, kShape, p.op().name(), ": label of shape ", lab.shape.str(),
           " does not fit the output of shape ", y.shape.str());
  const int64_t n = y.size();
  if (n == 0) return;
  const double per_sample = static_cast<double>(lab.size()) / static_cast<double>(lab.shape[0]);
  const double scale = p.get_float("grad_scale") / per_sample;
  MX_FLOAT_DTYPE_SWITCH(y.dtype, T, { reg_backward<T, K>(lab.ptr<T>(), y.ptr<T>(), out[0].ptr<T>(), n, scale); });
}

#define MX_REG_BACKWARD_OP(name, kind, doc)                                        \
  MX_REGISTER_OP(name)                                                             \
      .describe(doc)                                                               \
      .category("grad")                                                            \
      .input("label")                                                              \
      .input("output")                                                             \
      .param_float("grad_scale", "1", "Scale the gradient by a float factor")      \
      .infer_shape(reg_backward_shape)                                             \
      .float_dtypes()                                                              \
      .cpu(reg_backward_compute<kind>)                                             \
      .differentiable(false)

MX_REG_BACKWARD_OP(_backward_linear_reg_out, RegKind::kLinear,
                   "Gradient of LinearRegressionOutput with respect to data, from its label and output: "
                   "(output - label) * grad_scale / m, m = label.size / label.shape[0].");
MX_REG_BACKWARD_OP(_backward_mae_reg_out, RegKind::kMae,
                   "Gradient of MAERegressionOutput with respect to data, from its label and output: "
                   "sign(output - label) * grad_scale / m (-1 where equal), m = label.size / label.shape[0].");
MX_REG_BACKWARD_OP(_backward_logistic_reg_out, RegKind::kLogistic,
                   "Gradient of LogisticRegressionOutput with respect to data, from its label and output (the "
                   "sigmoid): (output - label) * grad_scale / m, m = label.size / label.shape[0].");

// ------------------------------------------------------------------ _backward_SVMOutput
void svm_backward_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &l = (*in)[0], &o = (*in)[1];
  if (!shape_known(o)) return;
  MX_CHECK(o.ndim() == 1 || o.ndim() == 2, kUnsupported, "_backward_SVMOutput: the gradient is supported for "
           "output of 1 or 2 dims (samples, classes), got shape ", o.str());
  const Shape want = o.ndim() == 1 ? Shape{} : Shape{o[0]};
  if (shape_known(l))
    MX_CHECK(l == want, kShape, "_backward_SVMOutput: label has shape ", l.str(), ", expected ", want.str(),
             " for output of shape ", o.str());
  (*out)[0] = o;
}

// Per row r, class c with label k: L1: c == k ? -(margin > y) : (margin > -y); L2: c == k ?
// -2 (margin - y) where margin > y : 2 (margin + y) where margin > -y; both times the coefficient.
// A label outside [0, classes) matches no class (MXNet); fractional labels truncate.
template <typename T>
void svm_backward(const T* lab, const T* y, T* g, int64_t rows, int64_t classes, double margin, double coef,
                  bool linear) {
  using A = Acc<T>;
  const A m = static_cast<A>(margin), c = static_cast<A>(coef);
  parallel_range(rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const double lv = cast_value<double>(lab[r]);
      const int64_t k = (lv > -1.0 && lv < static_cast<double>(classes)) ? static_cast<int64_t>(lv) : -1;
      const T* yr = y + r * classes;
      T* gr = g + r * classes;
      for (int64_t j = 0; j < classes; ++j) {
        const A v = cast_value<A>(yr[j]);
        A d;
        if (j == k) d = linear ? (m > v ? -c : A(0)) : (m > v ? A(-2) * (m - v) * c : A(0));
        else d = linear ? (m > -v ? c : A(0)) : (m > -v ? A(2) * (m + v) * c : A(0));
        gr[j] = cast_value<T>(d);
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, classes)));
}

void svm_backward_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                          const std::vector<TBlob>& out) {
  const TBlob &lab = in[0], &y = in[1];
  MX_CHECK(y.ndim() == 1 || y.ndim() == 2, kUnsupported, "_backward_SVMOutput: the gradient is supported for "
           "output of 1 or 2 dims (samples, classes), got shape ", y.shape.str());
  MX_CHECK(lab.dtype == y.dtype, kDType, "_backward_SVMOutput: label dtype ", dtype_name(lab.dtype),
           " differs from the output's ", dtype_name(y.dtype));
  const int64_t classes = y.shape[y.ndim() - 1];
  const int64_t rows = y.ndim() == 1 ? 1 : y.shape[0];
  MX_CHECK(lab.size() == rows, kShape, "_backward_SVMOutput: label has ", lab.size(), " entries for ", rows,
           " rows of output shape ", y.shape.str());
  MX_FLOAT_DTYPE_SWITCH(y.dtype, T, {
    svm_backward<T>(lab.ptr<T>(), y.ptr<T>(), out[0].ptr<T>(), rows, classes, p.get_float("margin"),
                    p.get_float("regularization_coefficient"), p.get_bool("use_linear"));
  });
}

MX_REGISTER_OP(_backward_SVMOutput)
    .describe("Gradient of SVMOutput with respect to data, from its label and output (rows of classes): the "
              "one-vs-all hinge gradient, squared (L2-SVM) unless use_linear, times regularization_coefficient.")
    .category("grad")
    .input("label")
    .input("output")
    .param_float("margin", "1", "The margin of the hinge.")
    .param_float("regularization_coefficient", "1", "Scales the gradient.")
    .param_bool("use_linear", "False", "L1-SVM (hinge) instead of L2-SVM (squared hinge).")
    .infer_shape(svm_backward_shape)
    .float_dtypes()
    .cpu(svm_backward_compute)
    .differentiable(false);

}  // namespace
}  // namespace mx
