// The graph-era loss layers and gradient stoppers of MXNet 1.x (forward halves):
//   BlockGrad (stop_gradient)   identity; gradient zero
//   make_loss                   identity; gradient ones (the head gradient is ignored)
//   MakeLoss                    identity; gradient grad_scale, normalized (null / batch / valid)
//   LinearRegressionOutput      identity;  gradient (out - label) * grad_scale / m
//   MAERegressionOutput         identity;  gradient sign(out - label) * grad_scale / m
//   LogisticRegressionOutput    sigmoid;   gradient (out - label) * grad_scale / m
//   SVMOutput                   identity;  gradient of the L1/L2 one-vs-all hinge loss
//   _rnn_param_concat           Concat whose shape inference also deduces unknown inputs from a
//                               known output (Gluon's RNN layers join their parameters with it)
// m is the number of label values per sample (label.size / label.shape[0]), as in MXNet.
//
// The loss layers' gradients are MXNet's rules, not derivatives of the forward output: they read
// the output and the label and ignore the head gradient. They are attached in
// libmx/op/grad/loss_output_grad.cc together with the backward ops that compute them.
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

// ------------------------------------------------------------------ identity forward
void identity_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  MX_CHECK(x.nbytes() == y.nbytes() && x.dtype == y.dtype, kInternal, "operator ", p.op().name(),
           ": output does not match the input");
  if (x.data == y.data || y.nbytes() == 0) return;  // in place
  const size_t es = dtype_size(x.dtype);
  const char* px = static_cast<const char*>(x.data);
  char* py = static_cast<char*>(y.data);
  parallel_range(y.size(), [&](int64_t s, int64_t e) {
    std::memcpy(py + s * es, px + s * es, static_cast<size_t>(e - s) * es);
  }, kParallelGrain * 4);
}

MX_REGISTER_OP(BlockGrad)
    .alias("stop_gradient")
    .describe("Stops gradient computation: returns the input unchanged, and no gradient flows back through it "
              "to the input (its gradient is zero).")
    .category("nn")
    .input("data")
    .infer_shape(infer_same_shape)
    .cpu(identity_compute)
    .inplace({{0, 0}})
    .differentiable(false);  // gradient (zero): libmx/op/grad/loss_output_grad.cc

MX_REGISTER_OP(make_loss)
    .describe("Marks its input as a loss: returns the input unchanged; its gradient with respect to the input is "
              "ones (the head gradient is ignored), so whatever feeds it is minimized.")
    .category("nn")
    .input("data")
    .infer_shape(infer_same_shape)
    .cpu(identity_compute)
    .inplace({{0, 0}})
    .differentiable(false);  // gradient: libmx/op/grad/loss_output_grad.cc

void make_loss_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!shape_known(d)) {
    if (shape_known((*out)[0])) (*in)[0] = (*out)[0];
    return;
  }
  (*out)[0] = d;
}

MX_REGISTER_OP(MakeLoss)
    .describe("Makes a custom loss: returns the input unchanged; in the backward pass the gradient with respect "
              "to the input is grad_scale whatever the head gradient, divided with normalization='batch' by "
              "the number of rows of the input viewed as 2-d (all dims but the last; 1 for 1-d input), with "
              "normalization='valid' by the number of input elements greater than valid_thresh (at least 1).")
    .category("nn")
    .input("data")
    .param_float("grad_scale", "1", "Gradient scale as a supplement to unary and binary operators")
    .param_float("valid_thresh", "0",
                 "clip each element in the array to 0 when it is less than ``valid_thresh``. This is used when "
                 "``normalization`` is set to ``'valid'``.")
    .param_enum("normalization", {"null", "batch", "valid"}, "null",
                "If this is set to null, the output gradient will not be normalized. If this is set to batch, the "
                "output gradient will be divided by the batch size. If this is set to valid, the output gradient "
                "will be divided by the number of valid input elements.")
    .infer_shape(make_loss_shape)
    .float_dtypes()
    .cpu(identity_compute)
    .inplace({{0, 0}})
    .differentiable(false);  // gradient: libmx/op/grad/loss_output_grad.cc

// ------------------------------------------------------------------ regression outputs
// MXNet's rule: an unknown label is (n,) for data (n, 1) and data's shape otherwise; a given label
// must have data's first dim and data's number of elements.
void regression_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape& d = (*in)[0];
  if (!shape_known(d) && shape_known((*out)[0])) d = (*out)[0];
  if (!shape_known(d)) return;
  const std::string& name = p.op().name();
  MX_CHECK(d.ndim() >= 1, kShape, name, ": data must have at least one axis (a batch), got shape ", d.str());
  Shape& l = (*in)[1];
  if (!shape_known(l)) {
    l = (d.ndim() == 2 && d[1] == 1) ? Shape{d[0]} : d;
  } else {
    MX_CHECK(l.ndim() >= 1 && l[0] == d[0] && l.size() == d.size(), kShape, name, ": label has shape ", l.str(),
             " but data has shape ", d.str(), " (the label needs data's first dim and its number of elements)");
  }
  (*out)[0] = d;
}

template <typename T>
void sigmoid_kernel(const T* x, T* y, int64_t n) {
  using A = std::conditional_t<std::is_same<T, double>::value, double, float>;
  parallel_range(n, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = cast_value<T>(A(1) / (A(1) + std::exp(-cast_value<A>(x[i]))));
  });
}

void logistic_compute(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  MX_FLOAT_DTYPE_SWITCH(in[0].dtype, T, { sigmoid_kernel<T>(in[0].ptr<T>(), out[0].ptr<T>(), out[0].size()); });
}

#define MX_REGRESSION_OP(name, fwd, doc)                                                 \
  MX_REGISTER_OP(name)                                                                   \
      .describe(doc)                                                                     \
      .category("nn")                                                                    \
      .input("data")                                                                     \
      .input("label")                                                                    \
      .param_float("grad_scale", "1", "Scale the gradient by a float factor")            \
      .infer_shape(regression_shape)                                                     \
      .float_dtypes()                                                                    \
      .cpu(fwd)                                                                          \
      .inplace({{0, 0}})                                                                 \
      .differentiable(false) /* gradient: libmx/op/grad/loss_output_grad.cc */

MX_REGRESSION_OP(LinearRegressionOutput, identity_compute,
                 "Squared-loss output layer: returns data unchanged; the gradient with respect to data is "
                 "(data - label) * grad_scale / m, m the number of label values per sample, whatever the head "
                 "gradient. label has data's shape, or (n,) for data (n, 1), or any shape with data's first dim "
                 "and number of elements; it gets no gradient.");
MX_REGRESSION_OP(MAERegressionOutput, identity_compute,
                 "Absolute-error output layer: returns data unchanged; the gradient with respect to data is "
                 "sign(data - label) * grad_scale / m (-1 where equal, as MXNet), m the number of label values per "
                 "sample, whatever the head gradient. label shapes as for LinearRegressionOutput.");
MX_REGRESSION_OP(LogisticRegressionOutput, logistic_compute,
                 "Logistic output layer: returns sigmoid(data); the gradient with respect to data is "
                 "(sigmoid(data) - label) * grad_scale / m (binary cross entropy), m the number of label values per "
                 "sample, whatever the head gradient. label shapes as for LinearRegressionOutput.");

// ------------------------------------------------------------------ SVMOutput
void svm_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape& d = (*in)[0];
  if (!shape_known(d) && shape_known((*out)[0])) d = (*out)[0];
  if (!shape_known(d)) return;
  MX_CHECK(d.ndim() >= 1, kShape, "SVMOutput: data must have at least one axis (the classes), got shape ", d.str());
  Shape want;
  for (int i = 0; i + 1 < d.ndim(); ++i) want.push_back(d[i]);
  Shape& l = (*in)[1];
  if (!shape_known(l)) l = want;
  MX_CHECK(l == want, kShape, "SVMOutput: label has shape ", l.str(), ", expected ", want.str(), " (data shape ",
           d.str(), " without its last axis)");
  (*out)[0] = d;
}

MX_REGISTER_OP(SVMOutput)
    .describe("Support-vector-machine output layer: returns data (n, classes) unchanged; the gradient with respect "
              "to data is that of the one-vs-all hinge loss with integer class labels (label has data's shape "
              "without the last axis): squared hinge (L2-SVM) by default, hinge with use_linear=True, scaled by "
              "regularization_coefficient, whatever the head gradient.")
    .category("nn")
    .input("data")
    .input("label")
    .param_float("margin", "1",
                 "The loss function penalizes outputs that lie outside this margin. Default margin is 1.")
    .param_float("regularization_coefficient", "1",
                 "Regularization parameter for the SVM. This balances the tradeoff between coefficient size and "
                 "error.")
    .param_bool("use_linear", "False",
                "Whether to use L1-SVM objective. L2-SVM objective is used by default.")
    .infer_shape(svm_shape)
    .float_dtypes()
    .cpu(identity_compute)
    .inplace({{0, 0}})
    .differentiable(false);  // gradient: libmx/op/grad/loss_output_grad.cc

// ------------------------------------------------------------------ _rnn_param_concat
// Concat's rule, plus MXNet's reverse inference for RNN parameters: with the output known and one or
// two inputs unknown, the unknown inputs take the output's shape with the rest of the concatenated
// axis (split evenly between two). Gluon exports RNN weights whose input size is deferred, so
// their flattened size is only known from the fused RNN op's `parameters` input.
void rnn_param_concat_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const char* name = "_rnn_param_concat";
  const Shape& o = (*out)[0];
  int ndim = shape_known(o) ? o.ndim() : -1;
  for (const Shape& s : *in)
    if (shape_known(s)) {
      MX_CHECK(s.ndim() >= 1, kShape, name, ": inputs must have at least 1 dim, got shape ", s.str());
      if (ndim < 0) ndim = s.ndim();
    }
  if (ndim < 0) return;
  MX_CHECK(ndim >= 1, kShape, name, ": the output must have at least 1 dim, got shape ", o.str());
  const int axis = check_axis(name, p.get_int("dim"), ndim);
  // The common shape (the axis entry is not compared), from the inputs and the output.
  const Shape* ref = shape_known(o) ? &o : nullptr;
  int64_t total = 0;
  std::vector<size_t> unknown;
  for (size_t k = 0; k < in->size(); ++k) {
    const Shape& s = (*in)[k];
    if (!shape_known(s)) {
      unknown.push_back(k);
      continue;
    }
    if (ref == nullptr) ref = &s;
    bool ok = s.ndim() == ref->ndim();
    for (int i = 0; ok && i < s.ndim(); ++i)
      if (i != axis && s[i] != (*ref)[i]) ok = false;
    MX_CHECK(ok, kShape, name, ": input ", k, " has shape ", s.str(), " but ", ref == &o ? "the output" : "an input",
             " has shape ", ref->str(), " (all dims but dim=", axis, " must match)");
    total += s[axis];
  }
  if (unknown.empty()) {
    Shape r = *ref;
    r[axis] = total;
    assign_shape(name, out, 0, r);
    return;
  }
  if (!shape_known(o) || unknown.size() > 2) return;  // not deducible (yet)
  const int64_t rest = o[axis] - total;
  MX_CHECK(rest >= 0, kShape, name, ": the known inputs already have ", total, " entries along dim ", axis,
           " but the output has shape ", o.str());
  MX_CHECK(rest % static_cast<int64_t>(unknown.size()) == 0, kShape, name, ": ", rest,
           " entries along dim ", axis, " cannot be split evenly between the ", unknown.size(), " unknown inputs");
  Shape r = o;
  r[axis] = rest / static_cast<int64_t>(unknown.size());
  for (size_t k : unknown) (*in)[k] = r;
}

void rnn_param_concat_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                              const std::vector<TBlob>& out) {
  const TBlob& o = out[0];
  const int axis = check_axis("_rnn_param_concat", p.get_int("dim"), o.ndim());
  const std::vector<int64_t> os = contiguous_strides(o.shape);
  const size_t es = dtype_size(o.dtype);
  int64_t at = 0;
  for (const TBlob& x : in) {
    const std::vector<int64_t> xs = contiguous_strides(x.shape);
    char* dst = static_cast<char*>(o.data) + static_cast<size_t>(at * os[axis]) * es;
    strided_copy(dst, os.data(), x.data, xs.data(), x.shape, es);
    at += x.shape[axis];
  }
}

MX_REGISTER_OP(_rnn_param_concat)
    .alias("_npi_rnn_param_concat")
    .describe("Joins the inputs along dim, as Concat. Shape inference also works backwards: with the output's "
              "shape known, one or two inputs of unknown shape get the rest of the output along dim (split "
              "evenly between two). MXNet's Gluon RNN layers join their flattened parameters with it.")
    .category("shape")
    .variadic_input("data", "num_args")
    .param_int("num_args", OpDef::kRequired, "Number of inputs to be concated.")
    .param_int("dim", "1", "the dimension to be concated.")
    .infer_shape(rnn_param_concat_shape)
    .cpu(rnn_param_concat_compute)
    .differentiable(false);  // gradient (as Concat's): libmx/op/grad/loss_output_grad.cc

}  // namespace
}  // namespace mx
