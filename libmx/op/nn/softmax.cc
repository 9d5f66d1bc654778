// softmax, log_softmax, softmin, SoftmaxOutput (forward) and softmax_cross_entropy.
//
// Every softmax here is the numerically stable form: the maximum along the axis is subtracted
// before exponentiating, so no input overflows. The data is viewed as (outer, M, inner) with the
// softmax axis in the middle; work items are (outer index, block of inner positions), so a softmax
// over a non-last axis still reads memory in order. Sums accumulate in float (double when either
// the input or the output is float64).
//
// use_length: the length input (int32/int64, data's shape without the axis) keeps the first
// length[i] entries of each softmax; the rest of the outputs are 0 (log_softmax too), as in MXNet.
//
// gradient: see libmx/op/grad/ (none yet where no file there names this op)
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

struct SoftmaxGeom {
  int64_t outer = 1, M = 1, inner = 1;
};

SoftmaxGeom geom_for_axis(const Shape& s, int axis) {
  SoftmaxGeom g;
  g.outer = s.prod(0, axis);
  g.M = s[axis];
  g.inner = s.prod(axis + 1, s.ndim());
  return g;
}

// y = softmax(sign * x / temperature) along the middle axis of g (log_softmax when `log`).
// len (may be null) holds outer*inner lengths, indexed o*inner + i.
template <typename T, typename O>
void softmax_kernel(const T* x, O* y, const int64_t* len, const SoftmaxGeom& g, double temperature, bool negate,
                    bool log) {
  using A = std::conditional_t<std::is_same<T, double>::value || std::is_same<O, double>::value, double, float>;
  const A scale = A((negate ? -1.0 : 1.0) / temperature);
  const int64_t B = g.inner == 1 ? 1 : std::min<int64_t>(g.inner, 64);
  const int64_t nblk = (g.inner + B - 1) / B;
  const int64_t items = g.outer * nblk;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, g.M * B));
  const int64_t M = g.M, inner = g.inner;
  parallel_range(items, [&](int64_t ib, int64_t ie) {
    A mx[64], sum[64];
    int64_t lim[64];
    for (int64_t it = ib; it < ie; ++it) {
      const int64_t o = it / nblk, i0 = (it % nblk) * B, i1 = std::min(inner, i0 + B), nb = i1 - i0;
      const T* xb = x + o * M * inner;
      O* yb = y + o * M * inner;
      for (int64_t t = 0; t < nb; ++t) {
        mx[t] = -std::numeric_limits<A>::infinity();
        sum[t] = A(0);
        int64_t l = len ? len[o * inner + i0 + t] : M;
        lim[t] = l < 0 ? 0 : (l > M ? M : l);
      }
      for (int64_t j = 0; j < M; ++j) {
        const T* xr = xb + j * inner + i0;
        for (int64_t t = 0; t < nb; ++t)
          if (j < lim[t]) mx[t] = std::max(mx[t], cast_value<A>(xr[t]) * scale);
      }
      for (int64_t j = 0; j < M; ++j) {
        const T* xr = xb + j * inner + i0;
        for (int64_t t = 0; t < nb; ++t)
          if (j < lim[t]) sum[t] += std::exp(cast_value<A>(xr[t]) * scale - mx[t]);
      }
      if (log)
        for (int64_t t = 0; t < nb; ++t) sum[t] = std::log(sum[t]);
      else
        for (int64_t t = 0; t < nb; ++t) sum[t] = A(1) / sum[t];
      for (int64_t j = 0; j < M; ++j) {
        const T* xr = xb + j * inner + i0;
        O* yr = yb + j * inner + i0;
        for (int64_t t = 0; t < nb; ++t) {
          A v = A(0);
          if (j < lim[t]) {
            const A z = cast_value<A>(xr[t]) * scale - mx[t];
            v = log ? z - sum[t] : std::exp(z) * sum[t];
          }
          yr[t] = cast_value<O>(v);
        }
      }
    }
  }, grain);
}

void run_softmax(const TBlob& in, const TBlob& out, const int64_t* len, const SoftmaxGeom& g, double temperature,
                 bool negate, bool log) {
  MX_FLOAT_DTYPE_SWITCH(in.dtype, T, {
    MX_FLOAT_DTYPE_SWITCH(out.dtype, O, {
      softmax_kernel<T, O>(in.ptr<T>(), out.ptr<O>(), len, g, temperature, negate, log);
    });
  });
}

// ------------------------------------------------------------------ softmax / log_softmax / softmin
bool use_length(const Params& p) { return !p.is_none("use_length") && p.get_bool("use_length"); }

double temperature_of(const Params& p) {
  const double t = p.is_none("temperature") ? 1.0 : p.get_float("temperature");
  MX_CHECK(t != 0.0, kInvalidArgument, p.op().name(), ": temperature must be nonzero");
  return t;
}

void softmax_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!shape_known(d)) return;
  MX_CHECK(d.ndim() >= 1, kShape, p.op().name(), ": data must have at least one axis, got shape ", d.str());
  const int axis = normalize_axis(static_cast<int>(p.get_int("axis")), d.ndim());
  if (use_length(p)) {
    Shape want;
    for (int i = 0; i < d.ndim(); ++i)
      if (i != axis) want.push_back(d[i]);
    if (want.ndim() == 0) want.push_back(1);
    Shape& l = (*in)[1];
    if (!shape_known(l)) l = want;
    MX_CHECK(l == want, kShape, p.op().name(), ": length has shape ", l.str(), ", expected ", want.str(),
             " (data shape ", d.str(), " without axis ", axis, ")");
  }
  (*out)[0] = d;
}

void softmax_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  const bool override_dtype = !p.is_none("dtype") && p.get_string("dtype") != "None";
  DType& d = (*in)[0];
  if (use_length(p)) {
    const DType l = (*in)[1];
    MX_CHECK(l == kUnknownDType || l == DType::kInt32 || l == DType::kInt64, kDType, p.op().name(),
             ": length must be int32 or int64, got ", dtype_name(l));
  }
  if (override_dtype) {
    (*out)[0] = parse_dtype(p.get_string("dtype"));
    if (d == kUnknownDType) d = (*out)[0];
  } else if (d != kUnknownDType) {
    (*out)[0] = d;
  }
  if (d != kUnknownDType)
    MX_CHECK(dtype_is_float(d), kDType, p.op().name(), ": data must be a float dtype, got ", dtype_name(d));
}

template <bool kNegate, bool kLog>
void softmax_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const int axis = normalize_axis(static_cast<int>(p.get_int("axis")), x.ndim());
  const SoftmaxGeom g = geom_for_axis(x.shape, axis);
  std::vector<int64_t> len;
  if (use_length(p)) {
    const TBlob& l = in[1];
    len.resize(static_cast<size_t>(l.size()));
    if (l.dtype == DType::kInt64) {
      std::copy(l.ptr<int64_t>(), l.ptr<int64_t>() + l.size(), len.begin());
    } else {
      MX_CHECK(l.dtype == DType::kInt32, kDType, p.op().name(), ": length must be int32 or int64, got ",
               dtype_name(l.dtype));
      std::copy(l.ptr<int32_t>(), l.ptr<int32_t>() + l.size(), len.begin());
    }
    MX_CHECK(static_cast<int64_t>(len.size()) >= g.outer * g.inner, kShape, p.op().name(),
             ": length has ", len.size(), " entries, expected ", g.outer * g.inner);
  }
  run_softmax(x, out[0], len.empty() ? nullptr : len.data(), g, temperature_of(p), kNegate, kLog);
}

#define MX_SOFTMAX_OP(name, negate, log, doc)                                                          \
  MX_REGISTER_OP(name)                                                                                 \
      .describe(doc)                                                                                   \
      .category("nn")                                                                                  \
      .input("data")                                                                                   \
      .input("length")                                                                                 \
      .num_inputs([](const Params& p) { return use_length(p) ? 2 : 1; })                               \
      .param_int("axis", "-1", "The axis along which to compute softmax.")                             \
      .param_float("temperature", "None", "Temperature parameter in softmax")                         \
      .param_enum("dtype", {"None", "float16", "float32", "float64"}, "None",                          \
                  "DType of the output in case this can't be inferred. Defaults to the same as "      \
                  "input's dtype if not defined (dtype=None).")                                        \
      .param_bool("use_length", "False", "Whether to use the length input as a mask over the data input.") \
      .optional()                                                                                      \
      .infer_shape(softmax_shape)                                                                      \
      .infer_type(softmax_type)                                                                        \
      .float_dtypes()                                                                                  \
      .differentiable(false) /* gradient: with autograd */                                             \
      .cpu(softmax_compute<negate, log>)

MX_SOFTMAX_OP(softmax, false, false,
              "Softmax along an axis: exp(x/t) / sum(exp(x/t)) with temperature t (default 1), computed "
              "stably. use_length=True masks each softmax to its first length entries (other outputs 0).");
MX_SOFTMAX_OP(log_softmax, false, true,
              "Log of the softmax along an axis: x/t - logsumexp(x/t), computed stably.");
MX_SOFTMAX_OP(softmin, true, false,
              "Softmin along an axis: softmax(-x/t), computed stably.");

// ------------------------------------------------------------------ SoftmaxOutput (forward)
void softmax_output_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!shape_known(d)) return;
  MX_CHECK(d.ndim() >= 1, kShape, "SoftmaxOutput: data must have at least one axis, got ", d.str());
  Shape& l = (*in)[1];
  if (p.get_bool("multi_output")) {
    MX_CHECK(d.ndim() >= 2, kShape, "SoftmaxOutput(multi_output): data must have at least 2 axes, got ", d.str());
    const Shape l1{d[0], d[1] == 0 || d[0] == 0 ? 0 : d.size() / d[0] / d[1]};
    Shape l2;
    l2.push_back(d[0]);
    for (int i = 2; i < d.ndim(); ++i) l2.push_back(d[i]);
    if (!shape_known(l)) l = l2;
    MX_CHECK(l == l1 || l == l2 || l == d, kShape, "SoftmaxOutput(multi_output): label has shape ", l.str(),
             ", expected ", l1.str(), " or ", l2.str(), " (data shape ", d.str(), ")");
  } else {
    Shape want;
    for (int i = 0; i + 1 < d.ndim(); ++i) want.push_back(d[i]);
    if (!shape_known(l)) l = want;
    MX_CHECK(l == want, kShape, "SoftmaxOutput: label has shape ", l.str(), ", expected ", want.str(),
             " (data shape ", d.str(), ")");
  }
  (*out)[0] = d;
}

void softmax_output_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                            const std::vector<TBlob>& out) {
  const Shape& s = in[0].shape;
  SoftmaxGeom g;
  if (p.get_bool("multi_output")) {
    g = geom_for_axis(s, 1);
  } else if (p.get_bool("preserve_shape")) {
    g = geom_for_axis(s, s.ndim() - 1);
  } else {
    g.outer = s[0];
    g.M = s.prod(1, s.ndim());
    g.inner = 1;
  }
  run_softmax(in[0], out[0], nullptr, g, 1.0, false, false);
}

MX_REGISTER_OP(SoftmaxOutput)
    .alias("Softmax")
    .describe("Softmax with a cross-entropy gradient (the gradient comes with autograd). The forward output "
              "is the softmax of data: over axis 1 with multi_output=True, over the last axis with "
              "preserve_shape=True, else over all axes but the first. label has data's shape without the "
              "last axis (multi_output: (n, d2, ..., dk) or (n, d2*...*dk)). grad_scale, ignore_label, "
              "use_ignore, normalization, out_grad and smooth_alpha shape the gradient only.")
    .category("nn")
    .input("data")
    .input("label")
    .param_float("grad_scale", "1", "Scales the gradient by a float factor.")
    .param_float("ignore_label", "-1",
                 "The instances whose `labels` == `ignore_label` will be ignored during backward, if "
                 "`use_ignore` is set to ``true``).")
    .param_bool("multi_output", "False",
                "If set to ``true``, the softmax function will be computed along axis ``1``. This is "
                "applied when the shape of input array differs from the shape of label array.")
    .param_bool("use_ignore", "False",
                "If set to ``true``, the `ignore_label` value will not contribute to the backward gradient.")
    .param_bool("preserve_shape", "False",
                "If set to ``true``, the softmax function will be computed along the last axis (``-1``).")
    .param_enum("normalization", {"batch", "null", "valid"}, "null",
                "Normalizes the gradient.")
    .param_bool("out_grad", "False", "Multiplies gradient with output gradient element-wise.")
    .param_float("smooth_alpha", "0",
                 "Constant for computing a label smoothed version of cross-entropyfor the backwards pass.")
    .infer_shape(softmax_output_shape)
    .float_dtypes()
    .differentiable(false)  // gradient: see libmx/op/grad/ (none yet where no file there names this op)
    .cpu(softmax_output_compute);

// ------------------------------------------------------------------ softmax_cross_entropy
void sce_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  Shape& l = (*in)[1];
  if (shape_known(d)) {
    MX_CHECK(d.ndim() == 2, kShape, "softmax_cross_entropy: data must be 2-d (batch, classes), got ", d.str());
    if (!shape_known(l)) l = Shape{d[0]};
    MX_CHECK(l == Shape{d[0]}, kShape, "softmax_cross_entropy: label has shape ", l.str(), ", expected ",
             Shape{d[0]}.str(), " for data shape ", d.str());
  }
  (*out)[0] = Shape{1};
}

void sce_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  DType d = (*in)[0];
  if (d == kUnknownDType) return;
  MX_CHECK(dtype_is_float(d), kDType, "softmax_cross_entropy: data must be a float dtype, got ", dtype_name(d));
  if ((*in)[1] == kUnknownDType) (*in)[1] = d;
  MX_CHECK((*in)[1] != DType::kBool, kDType, "softmax_cross_entropy: label must be numeric, got bool");
  (*out)[0] = d;
}

void sce_compute(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& lab = in[1];
  const int64_t n = x.shape[0], k = x.shape[1];
  std::vector<int64_t> cls(static_cast<size_t>(n));
  MX_DTYPE_SWITCH(lab.dtype, L, {
    const L* lp = lab.ptr<L>();
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(cast_value<double>(lp[i]));
      MX_CHECK(v >= 0 && v < static_cast<double>(k), kIndex, "softmax_cross_entropy: label ", v, " at row ", i,
               " is outside [0, ", k, ")");
      cls[static_cast<size_t>(i)] = static_cast<int64_t>(v);
    }
  });
  MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
    using A = std::conditional_t<std::is_same<T, double>::value, double, float>;
    const T* xp = x.ptr<T>();
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const T* r = xp + i * k;
      A m = -std::numeric_limits<A>::infinity();
      for (int64_t j = 0; j < k; ++j) m = std::max(m, cast_value<A>(r[j]));
      A s = A(0);
      for (int64_t j = 0; j < k; ++j) s += std::exp(cast_value<A>(r[j]) - m);
      total += static_cast<double>(m + std::log(s) - cast_value<A>(r[cls[static_cast<size_t>(i)]]));
    }
    out[0].ptr<T>()[0] = cast_value<T>(static_cast<A>(total));
  });
}

MX_REGISTER_OP(softmax_cross_entropy)
    .describe("Cross entropy of softmax(data) against integer class labels, summed over the batch: "
              "sum_i (logsumexp(data[i]) - data[i, label[i]]). data is (batch, classes), label (batch,); "
              "the output has shape (1,).")
    .category("nn")
    .input("data")
    .input("label")
    .infer_shape(sce_shape)
    .infer_type(sce_type)
    .float_dtypes()
    .differentiable(false)  // gradient: see libmx/op/grad/ (none yet where no file there names this op)
    .cpu(sce_compute);

}  // namespace
}  // namespace mx
