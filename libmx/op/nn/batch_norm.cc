// BatchNorm (MXNet 1.x semantics, forward).
//
// Inputs data, gamma, beta, moving_mean, moving_var; the moving statistics are auxiliary states
// written in place. The channel axis (param axis, default 1) splits data into (outer, C, inner).
//  - Training (OpContext::is_train and not use_global_stats): each channel is normalised with its
//    batch mean and biased batch variance, and the moving statistics are updated as
//        moving = moving * momentum + batch * (1 - momentum).
//  - Otherwise the moving statistics normalise and nothing is updated.
// fix_gamma=True treats gamma as 1. With output_mean_var=True the op has three outputs: out, the
// mean used and the inverse standard deviation 1/sqrt(var + eps) used (MXNet's CPU convention for
// its saved "var" output). For float16/bfloat16 data, gamma/beta/moving stats and the mean/var
// outputs are float32 (MXNet's rule); parameters in the data's own dtype are accepted too.
#include <algorithm>
#include <cmath>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

const char* const kInputNames[] = {"data", "gamma", "beta", "moving_mean", "moving_var"};

DType acc_dtype(DType d) {
  return (d == DType::kFloat16 || d == DType::kBFloat16) ? DType::kFloat32 : d;
}

int bn_axis(const Params& p, int ndim) {
  MX_CHECK(ndim >= 1, kShape, "BatchNorm: data must have at least 1 dim, got a 0-d array");
  const int64_t axis = p.get_int("axis");
  MX_CHECK(axis >= -ndim && axis < ndim, kInvalidArgument, "BatchNorm: axis ", axis,
           " is out of range for data of ndim ", ndim);
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

void bn_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  const int axis = bn_axis(p, d.ndim());
  const Shape c{d[axis]};
  for (int i = 1; i < 5; ++i) {
    Shape& s = (*in)[i];
    if (!s.known()) {
      s = c;
      continue;
    }
    MX_CHECK(s == c, kShape, "BatchNorm: input ", kInputNames[i], " must have shape ", c.str(),
             " (the channel count of data ", d.str(), " along axis ", axis, "), got ", s.str());
  }
  (*out)[0] = d;
  for (size_t i = 1; i < out->size(); ++i) (*out)[i] = c;
}

void bn_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  const DType d = (*in)[0];
  if (d == kUnknownDType) return;
  const DType a = acc_dtype(d);
  for (int i = 1; i < 5; ++i) {
    DType& t = (*in)[i];
    if (t == kUnknownDType) {
      t = a;
      continue;
    }
    MX_CHECK(t == a || t == d, kDType, "BatchNorm: input ", kInputNames[i], " has dtype ", dtype_name(t),
             " but data of dtype ", dtype_name(d), " needs ", dtype_name(a));
  }
  (*out)[0] = d;
  for (size_t i = 1; i < out->size(); ++i) (*out)[i] = a;
}

// A (C,) blob of any float dtype as doubles, and back.
std::vector<double> to_doubles(const TBlob& b) {
  std::vector<double> v(static_cast<size_t>(b.size()));
  TBlob dst = b;
  dst.data = v.data();
  dst.dtype = DType::kFloat64;
  cast_copy(b, dst);
  return v;
}

void from_doubles(std::vector<double>& v, const TBlob& b) {
  TBlob src = b;
  src.data = v.data();
  src.dtype = DType::kFloat64;
  cast_copy(src, b);
}

template <typename DT>
void bn_kernel(const TBlob& x, const TBlob& y, int axis, bool train, double eps, const std::vector<double>& gamma,
               const std::vector<double>& beta, std::vector<double>* mean, std::vector<double>* var) {
  using A = typename AccType<DT>::type;
  const int64_t C = x.shape[axis], outer = x.shape.prod(0, axis), inner = x.shape.prod(axis + 1, x.ndim());
  const int64_t count = outer * inner;
  const DT* xp = x.ptr<DT>();
  DT* yp = y.ptr<DT>();
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, count));
  parallel_range(C, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      double m = (*mean)[c], v = (*var)[c];
      if (train) {
        double s = 0.0;
        for (int64_t o = 0; o < outer; ++o) {
          const DT* row = xp + (o * C + c) * inner;
          for (int64_t i = 0; i < inner; ++i) s += static_cast<double>(static_cast<A>(row[i]));
        }
        m = count > 0 ? s / static_cast<double>(count) : 0.0;
        double ss = 0.0;
        for (int64_t o = 0; o < outer; ++o) {
          const DT* row = xp + (o * C + c) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            const double dv = static_cast<double>(static_cast<A>(row[i])) - m;
            ss += dv * dv;
          }
        }
        v = count > 0 ? ss / static_cast<double>(count) : 0.0;
        (*mean)[c] = m;
        (*var)[c] = v;
      }
      const double invstd = 1.0 / std::sqrt(v + eps);
      const double scale = gamma[c] * invstd, shift = beta[c] - m * scale;
      for (int64_t o = 0; o < outer; ++o) {
        const DT* row = xp + (o * C + c) * inner;
        DT* orow = yp + (o * C + c) * inner;
        for (int64_t i = 0; i < inner; ++i)
          orow[i] = static_cast<DT>(static_cast<A>(static_cast<double>(static_cast<A>(row[i])) * scale + shift));
      }
    }
  }, grain);
}

void batch_norm_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in,
                    const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const int axis = bn_axis(p, x.ndim());
  const double eps = p.get_float("eps"), momentum = p.get_float("momentum");
  const bool train = ctx.is_train && !p.get_bool("use_global_stats");
  std::vector<double> gamma = to_doubles(in[1]), beta = to_doubles(in[2]);
  if (p.get_bool("fix_gamma")) gamma.assign(gamma.size(), 1.0);
  std::vector<double> mean = to_doubles(in[3]), var = to_doubles(in[4]);
  MX_FLOAT_DTYPE_SWITCH(x.dtype, DT, { bn_kernel<DT>(x, out[0], axis, train, eps, gamma, beta, &mean, &var); });
  if (train) {
    std::vector<double> mm = to_doubles(in[3]), mv = to_doubles(in[4]);
    for (size_t c = 0; c < mm.size(); ++c) {
      mm[c] = mm[c] * momentum + mean[c] * (1.0 - momentum);
      mv[c] = mv[c] * momentum + var[c] * (1.0 - momentum);
    }
    from_doubles(mm, in[3]);
    from_doubles(mv, in[4]);
  }
  if (out.size() == 3) {
    for (size_t c = 0; c < var.size(); ++c) var[c] = 1.0 / std::sqrt(var[c] + eps);
    from_doubles(mean, out[1]);
    from_doubles(var, out[2]);
  }
}

void check_bn_params(const Params& p) {
  const double eps = p.get_float("eps");
  MX_CHECK(eps >= 0.0, kInvalidArgument, "BatchNorm: eps must be non-negative, got ", eps);
}

void batch_norm_cpu_checked(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in,
                            const std::vector<TBlob>& out) {
  check_bn_params(p);
  batch_norm_cpu(ctx, p, in, out);
}

}  // namespace

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(BatchNorm)
    .describe("Batch normalization: normalises data per channel (axis) with batch statistics in "
              "training mode (updating moving_mean/moving_var in place) or with the moving statistics "
              "otherwise, then scales by gamma and shifts by beta.")
    .category("nn")
    .input("data").input("gamma").input("beta").input("moving_mean").input("moving_var")
    .num_outputs([](const Params& p) { return p.get_bool("output_mean_var") ? 3 : 1; })
    .output_names({"output", "mean", "var"})
    .param_float("eps", "0.001", "Epsilon to prevent div 0. Must be no less than CUDNN_BN_MIN_EPSILON "
                                 "defined in cudnn.h when using cudnn (usually 1e-5)")
    .param_float("momentum", "0.9", "Momentum for moving average")
    .param_bool("fix_gamma", "True", "Fix gamma while training")
    .param_bool("use_global_stats", "False",
                "Whether use global moving statistics instead of local batch-norm. This will force "
                "change batch-norm into a scale shift operator.")
    .param_bool("output_mean_var", "False", "Output the mean and inverse std ")
    .param_int("axis", "1", "Specify which shape axis the channel is specified")
    .param_bool("cudnn_off", "False", "Do not select CUDNN operator, if available")
    .param_float("min_calib_range", "None",
                 "The minimum scalar value in the form of float32 obtained through calibration. "
                 "Only used by quantization.")
    .optional()
    .param_float("max_calib_range", "None",
                 "The maximum scalar value in the form of float32 obtained through calibration. "
                 "Only used by quantization.")
    .optional()
    .infer_shape(bn_shape)
    .infer_type(bn_type)
    .float_dtypes()
    .mutate_inputs({3, 4})
    .differentiable(false)
    .cpu(batch_norm_cpu_checked);

}  // namespace mx
