// Gradients of the normalisation layers (BatchNorm, LayerNorm, InstanceNorm, GroupNorm,
// L2Normalization, LRN) and of Embedding, through dedicated backward ops: each recomputes the
// statistics it needs from the forward input (in double) and writes every input gradient at once.
// The backward ops themselves are not differentiable.
//
// BatchNorm: in training mode (the recorded mode, read from OpContext::is_train during backward)
// and without use_global_stats the gradient flows through the batch mean and variance; otherwise
// the moving statistics are constants. moving_mean / moving_var get no gradient; gamma gets zero
// with fix_gamma=True. The mean / var (inverse std) / std outputs of output_mean_var=True are
// differentiated too.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

using V = GradValue;
using Vs = std::vector<GradValue>;

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

int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work_per_item));
}

std::string b2s(bool v) { return v ? "True" : "False"; }
std::string i2s(int64_t v) { return std::to_string(v); }
std::string f2s(double v) { return float_param(v); }

bool mean_var(const Params& p) { return p.get_bool("output_mean_var"); }

// (ograd, data, gamma, ...) -> (dx like data, dgamma like gamma, dbeta like gamma).
void three_grad_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& og = (*in)[0];
  const Shape& d = (*in)[1];
  if (!og.known() || !d.known()) return;
  MX_CHECK(og == d, kShape, "norm backward: ograd of shape ", og.str(), " differs from data of shape ", d.str());
  (*out)[0] = d;
  if ((*in)[2].known()) (*out)[1] = (*out)[2] = (*in)[2];
}

void three_grad_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  const DType d = (*in)[1] == kUnknownDType ? (*in)[0] : (*in)[1];
  for (size_t i = 0; i < in->size(); ++i)
    MX_CHECK((*in)[i] == kUnknownDType || d == kUnknownDType || (*in)[i] == d, kDType, p.op().name(),
             ": input ", i, " has dtype ", dtype_name((*in)[i]), " but data has ", dtype_name(d));
  (*out)[0] = d;
  (*out)[1] = (*out)[2] = (*in)[2] == kUnknownDType ? d : (*in)[2];
}

// The per-channel (or per-group) inputs of a norm backward op must have the sizes its kernel
// indexes: in[first..] hold `size` elements each.
void check_sizes(const char* op, const std::vector<TBlob>& in, size_t first, size_t last, int64_t size,
                 const char* what) {
  static const char* const names[] = {"ograd", "data", "gamma", "moving_mean", "moving_var", "ograd_mean",
                                      "ograd_var"};
  for (size_t i = first; i < last && i < in.size(); ++i)
    MX_CHECK(in[i].size() == size, kShape, op, ": input ", i, " (", i < 7 ? names[i] : "?", ") has shape ",
             in[i].shape.str(), " but ", size, " elements (", what, ") are expected for data of shape ",
             in[1].shape.str());
}

// ------------------------------------------------------------------ BatchNorm
int bn_axis(const Params& p, int ndim) {
  const int64_t axis = p.get_int("axis");
  MX_CHECK(axis >= -ndim && axis < ndim, kInvalidArgument, "_backward_BatchNorm: axis ", axis,
           " is out of range for data of ndim ", ndim);
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

// Inputs: ograd, data, gamma, moving_mean, moving_var[, ograd_mean, ograd_var].
void bn_backward_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in,
                     const std::vector<TBlob>& out) {
  const TBlob& x = in[1];
  const int axis = bn_axis(p, x.ndim());
  const double eps = p.get_float("eps");
  const bool fix_gamma = p.get_bool("fix_gamma");
  const bool train = ctx.is_train && !p.get_bool("use_global_stats");
  const int64_t C = x.shape[axis], outer = x.shape.prod(0, axis), inner = x.shape.prod(axis + 1, x.ndim());
  const int64_t N = outer * inner;
  check_sizes("_backward_BatchNorm", in, 2, in.size(), C, "one per channel");
  const std::vector<double> og = to_doubles(in[0]), xv = to_doubles(x);
  std::vector<double> gamma = to_doubles(in[2]);
  if (fix_gamma) gamma.assign(gamma.size(), 1.0);
  const std::vector<double> mm = to_doubles(in[3]), mv = to_doubles(in[4]);
  const bool extra = in.size() == 7;
  const std::vector<double> ogm = extra ? to_doubles(in[5]) : std::vector<double>();
  const std::vector<double> ogv = extra ? to_doubles(in[6]) : std::vector<double>();
  std::vector<double> dx(xv.size()), dg(static_cast<size_t>(C)), db(static_cast<size_t>(C));
  parallel_range(C, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      double m = mm[c], v = mv[c];
      if (train) {
        double s = 0.0, ss = 0.0;
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < inner; ++i) s += xv[(o * C + c) * inner + i];
        m = N > 0 ? s / static_cast<double>(N) : 0.0;
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < inner; ++i) {
            const double d = xv[(o * C + c) * inner + i] - m;
            ss += d * d;
          }
        v = N > 0 ? ss / static_cast<double>(N) : 0.0;
      }
      const double invstd = 1.0 / std::sqrt(v + eps);
      double sog = 0.0, sogx = 0.0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t k = (o * C + c) * inner + i;
          sog += og[k];
          sogx += og[k] * (xv[k] - m) * invstd;
        }
      db[c] = sog;
      dg[c] = fix_gamma ? 0.0 : sogx;
      const double g = gamma[c];
      const double inv_n = N > 0 ? 1.0 / static_cast<double>(N) : 0.0;
      // The mean output is m, the var output is invstd (both functions of the batch in training).
      const double em = extra && train ? ogm[c] * inv_n : 0.0;
      const double ev = extra && train ? -ogv[c] * invstd * invstd * inv_n : 0.0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t k = (o * C + c) * inner + i;
          const double xh = (xv[k] - m) * invstd;
          if (train)
            dx[k] = g * invstd * (og[k] - sog * inv_n - xh * sogx * inv_n) + em + ev * xh;
          else
            dx[k] = g * invstd * og[k];
        }
    }
  }, grain_for(N));
  from_doubles(dx, out[0]);
  from_doubles(dg, out[1]);
  from_doubles(db, out[2]);
}

MX_REGISTER_OP(_backward_BatchNorm)
    .describe("The gradient of BatchNorm with respect to data, gamma and beta (three outputs), given the "
              "output gradient, data, gamma and the moving statistics (and, with output_mean_var=True, the "
              "gradients of the mean and var outputs). Uses the batch statistics when run in training mode "
              "without use_global_stats, the moving statistics otherwise.")
    .category("grad")
    .input("ograd").input("data").input("gamma").input("moving_mean").input("moving_var")
    .input("ograd_mean").input("ograd_var")
    .num_inputs([](const Params& p) { return mean_var(p) ? 7 : 5; })
    .num_outputs(3)
    .output_names({"data_grad", "gamma_grad", "beta_grad"})
    .param_float("eps", "0.001", "The forward BatchNorm's eps.")
    .param_bool("fix_gamma", "True", "The forward BatchNorm's fix_gamma.")
    .param_bool("use_global_stats", "False", "The forward BatchNorm's use_global_stats.")
    .param_bool("output_mean_var", "False", "The forward BatchNorm's output_mean_var (adds two ograd inputs).")
    .param_int("axis", "1", "The forward BatchNorm's axis.")
    .infer_shape(three_grad_shape)
    .infer_type(three_grad_type)
    .float_dtypes()
    .cpu(bn_backward_cpu);

MX_REGISTER_GRADIENT(BatchNorm, [](GradBuilder& b, const GradArgs& a) {
  const Params& p = a.params;
  const bool mv = mean_var(p);
  Vs in{a.ograds[0], a.inputs[0], a.inputs[1], a.inputs[3], a.inputs[4]};
  if (mv) {
    in.push_back(a.ograds[1]);
    in.push_back(a.ograds[2]);
  }
  Vs r = b.call("_backward_BatchNorm", in,
                {{"eps", f2s(p.get_float("eps"))}, {"fix_gamma", b2s(p.get_bool("fix_gamma"))},
                 {"use_global_stats", b2s(p.get_bool("use_global_stats"))}, {"output_mean_var", b2s(mv)},
                 {"axis", i2s(p.get_int("axis"))}});
  return Vs{r[0], r[1], r[2], V{}, V{}};
});

// ------------------------------------------------------------------ LayerNorm / InstanceNorm / GroupNorm
// Data viewed as (outer, A, inner), normalised over A; gamma indexed by the middle index (period 0)
// or by the outer index modulo period. ogm / ogs (size outer*inner, may be empty): gradients of the
// mean and std outputs.
void norm_backward(const TBlob& ogb, const TBlob& xb, const TBlob& gb, const std::vector<TBlob>& out,
                   int64_t outer, int64_t A, int64_t inner, int64_t period, double eps,
                   const std::vector<double>& ogm, const std::vector<double>& ogs) {
  const std::vector<double> og = to_doubles(ogb), xv = to_doubles(xb), g = to_doubles(gb);
  std::vector<double> dx(xv.size()), mean(static_cast<size_t>(outer * inner)), sd(mean.size());
  const double inv_n = A > 0 ? 1.0 / static_cast<double>(A) : 0.0;
  parallel_range(outer, [&](int64_t ob, int64_t oe) {
    for (int64_t o = ob; o < oe; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t base = o * A * inner + j, mi = o * inner + j;
        double m = 0.0, v = 0.0;
        for (int64_t a = 0; a < A; ++a) m += xv[base + a * inner];
        m *= inv_n;
        for (int64_t a = 0; a < A; ++a) {
          const double d = xv[base + a * inner] - m;
          v += d * d;
        }
        const double s = std::sqrt(v * inv_n + eps);
        mean[mi] = m;
        sd[mi] = s;
        double sgg = 0.0, sggx = 0.0;
        for (int64_t a = 0; a < A; ++a) {
          const int64_t k = base + a * inner;
          const double gg = og[k] * g[period ? o % period : a];
          sgg += gg;
          sggx += gg * (xv[k] - m) / s;
        }
        const double em = ogm.empty() ? 0.0 : ogm[mi] * inv_n;
        const double es = ogs.empty() ? 0.0 : ogs[mi] * inv_n;
        for (int64_t a = 0; a < A; ++a) {
          const int64_t k = base + a * inner;
          const double xh = (xv[k] - m) / s;
          const double gg = og[k] * g[period ? o % period : a];
          dx[k] = (gg - sgg * inv_n - xh * sggx * inv_n) / s + em + es * xh;
        }
      }
  }, grain_for(A * inner));
  std::vector<double> dg(g.size(), 0.0), db(g.size(), 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < A; ++a) {
      const int64_t gi = period ? o % period : a;
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t k = (o * A + a) * inner + j, mi = o * inner + j;
        dg[gi] += og[k] * (xv[k] - mean[mi]) / sd[mi];
        db[gi] += og[k];
      }
    }
  from_doubles(dx, out[0]);
  from_doubles(dg, out[1]);
  from_doubles(db, out[2]);
}

std::vector<double> opt_doubles(const std::vector<TBlob>& in, size_t i) {
  return in.size() > i ? to_doubles(in[i]) : std::vector<double>();
}

MX_REGISTER_OP(_backward_LayerNorm)
    .describe("The gradient of LayerNorm with respect to data, gamma and beta (three outputs), given the "
              "output gradient, data and gamma (and, with output_mean_var=True, the gradients of the mean "
              "and std outputs).")
    .category("grad")
    .input("ograd").input("data").input("gamma").input("ograd_mean").input("ograd_std")
    .num_inputs([](const Params& p) { return mean_var(p) ? 5 : 3; })
    .num_outputs(3)
    .output_names({"data_grad", "gamma_grad", "beta_grad"})
    .param_int("axis", "-1", "The forward LayerNorm's axis.")
    .param_float("eps", "1e-05", "The forward LayerNorm's eps.")
    .param_bool("output_mean_var", "False", "The forward LayerNorm's output_mean_var (adds two ograd inputs).")
    .infer_shape(three_grad_shape)
    .infer_type(three_grad_type)
    .float_dtypes()
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& x = in[1];
      const int64_t ax = p.get_int("axis");
      MX_CHECK(ax >= -x.ndim() && ax < x.ndim(), kInvalidArgument, "_backward_LayerNorm: axis ", ax,
               " is out of range for data of shape ", x.shape.str());
      const int axis = static_cast<int>(ax < 0 ? ax + x.ndim() : ax);
      check_sizes("_backward_LayerNorm", in, 2, 3, x.shape[axis], "one per normalised element");
      check_sizes("_backward_LayerNorm", in, 3, in.size(), x.shape.prod(0, axis) * x.shape.prod(axis + 1, x.ndim()),
                  "one per normalised vector");
      norm_backward(in[0], x, in[2], out, x.shape.prod(0, axis), x.shape[axis], x.shape.prod(axis + 1, x.ndim()),
                    0, p.get_float("eps"), opt_doubles(in, 3), opt_doubles(in, 4));
    });

MX_REGISTER_GRADIENT(LayerNorm, [](GradBuilder& b, const GradArgs& a) {
  const bool mv = mean_var(a.params);
  Vs in{a.ograds[0], a.inputs[0], a.inputs[1]};
  if (mv) {
    in.push_back(a.ograds[1]);
    in.push_back(a.ograds[2]);
  }
  return b.call("_backward_LayerNorm", in,
                {{"axis", i2s(a.params.get_int("axis"))}, {"eps", f2s(a.params.get_float("eps"))},
                 {"output_mean_var", b2s(mv)}});
});

MX_REGISTER_OP(_backward_InstanceNorm)
    .describe("The gradient of InstanceNorm with respect to data, gamma and beta (three outputs), given the "
              "output gradient, data and gamma.")
    .category("grad")
    .input("ograd").input("data").input("gamma")
    .num_outputs(3)
    .output_names({"data_grad", "gamma_grad", "beta_grad"})
    .param_float("eps", "0.001", "The forward InstanceNorm's eps.")
    .infer_shape(three_grad_shape)
    .infer_type(three_grad_type)
    .float_dtypes()
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& x = in[1];
      MX_CHECK(x.ndim() >= 3, kShape, "_backward_InstanceNorm: data must have at least 3 dims, got shape ",
               x.shape.str());
      const int64_t C = x.shape[1];
      check_sizes("_backward_InstanceNorm", in, 2, 3, C, "one per channel");
      norm_backward(in[0], x, in[2], out, x.shape[0] * C, x.shape.prod(2, x.ndim()), 1, C, p.get_float("eps"), {},
                    {});
    });

MX_REGISTER_GRADIENT(InstanceNorm, [](GradBuilder& b, const GradArgs& a) {
  return b.call("_backward_InstanceNorm", {a.ograds[0], a.inputs[0], a.inputs[1]},
                {{"eps", f2s(a.params.get_float("eps"))}});
});

MX_REGISTER_OP(_backward_GroupNorm)
    .describe("The gradient of GroupNorm with respect to data, gamma and beta (three outputs), given the "
              "output gradient, data and gamma (and, with output_mean_var=True, the gradients of the mean "
              "and std outputs).")
    .category("grad")
    .input("ograd").input("data").input("gamma").input("ograd_mean").input("ograd_std")
    .num_inputs([](const Params& p) { return mean_var(p) ? 5 : 3; })
    .num_outputs(3)
    .output_names({"data_grad", "gamma_grad", "beta_grad"})
    .param_int("num_groups", "1", "The forward GroupNorm's num_groups.")
    .param_float("eps", "1e-05", "The forward GroupNorm's eps.")
    .param_bool("output_mean_var", "False", "The forward GroupNorm's output_mean_var (adds two ograd inputs).")
    .infer_shape(three_grad_shape)
    .infer_type(three_grad_type)
    .float_dtypes()
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& x = in[1];
      const int64_t G = p.get_int("num_groups");
      MX_CHECK(G >= 1 && x.ndim() >= 3 && x.shape[1] % G == 0, kShape, "_backward_GroupNorm: data of shape ",
               x.shape.str(), " does not split into num_groups=", G);
      check_sizes("_backward_GroupNorm", in, 2, 3, G, "one per group");
      check_sizes("_backward_GroupNorm", in, 3, in.size(), x.shape[0] * G, "one per sample and group");
      norm_backward(in[0], x, in[2], out, x.shape[0] * G, x.shape.prod(1, x.ndim()) / G, 1, G, p.get_float("eps"),
                    opt_doubles(in, 3), opt_doubles(in, 4));
    });

MX_REGISTER_GRADIENT(GroupNorm, [](GradBuilder& b, const GradArgs& a) {
  const bool mv = mean_var(a.params);
  Vs in{a.ograds[0], a.inputs[0], a.inputs[1]};
  if (mv) {
    in.push_back(a.ograds[1]);
    in.push_back(a.ograds[2]);
  }
  return b.call("_backward_GroupNorm", in,
                {{"num_groups", i2s(a.params.get_int("num_groups"))}, {"eps", f2s(a.params.get_float("eps"))},
                 {"output_mean_var", b2s(mv)}});
});

// ------------------------------------------------------------------ L2Normalization
// y = x r with r = (sum x^2 + eps)^(-1/2) over each group: dx = r og - x r^3 sum(og x).
void l2_layout(const std::string& mode, const Shape& d, int64_t* outer, int64_t* A, int64_t* inner) {
  MX_CHECK(d.ndim() >= 2, kShape, "_backward_L2Normalization: data must have at least 2 dims, got shape ", d.str());
  if (mode == "instance") {
    *outer = d[0];
    *A = d.prod(1, d.ndim());
    *inner = 1;
    return;
  }
  MX_CHECK(d.ndim() >= 3, kShape, "_backward_L2Normalization: mode '", mode,
           "' needs data of at least 3 dims, got shape ", d.str());
  if (mode == "channel") {
    *outer = d[0];
    *A = d[1];
    *inner = d.prod(2, d.ndim());
  } else {
    *outer = d[0] * d[1];
    *A = d.prod(2, d.ndim());
    *inner = 1;
  }
}

MX_REGISTER_OP(_backward_L2Normalization)
    .describe("The gradient of L2Normalization with respect to data, given the output gradient and data.")
    .category("grad")
    .input("ograd").input("data")
    .param_float("eps", "1e-10", "The forward L2Normalization's eps.")
    .param_enum("mode", {"channel", "instance", "spatial"}, "instance", "The forward L2Normalization's mode.")
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& og = (*in)[0];
      const Shape& d = (*in)[1];
      if (!og.known() || !d.known()) return;
      MX_CHECK(og == d, kShape, "_backward_L2Normalization: ograd of shape ", og.str(),
               " differs from data of shape ", d.str());
      (*out)[0] = d;
    })
    .float_dtypes()
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      int64_t outer, A, inner;
      l2_layout(p.get_string("mode"), in[1].shape, &outer, &A, &inner);
      const double eps = p.get_float("eps");
      const std::vector<double> og = to_doubles(in[0]), xv = to_doubles(in[1]);
      std::vector<double> dx(xv.size());
      parallel_range(outer, [&](int64_t ob, int64_t oe) {
        for (int64_t o = ob; o < oe; ++o)
          for (int64_t j = 0; j < inner; ++j) {
            const int64_t base = o * A * inner + j;
            double ss = 0.0, sox = 0.0;
            for (int64_t a = 0; a < A; ++a) {
              const double v = xv[base + a * inner];
              ss += v * v;
              sox += v * og[base + a * inner];
            }
            const double r = 1.0 / std::sqrt(ss + eps);
            for (int64_t a = 0; a < A; ++a) {
              const int64_t k = base + a * inner;
              dx[k] = r * og[k] - xv[k] * r * r * r * sox;
            }
          }
      }, grain_for(A * inner));
      from_doubles(dx, out[0]);
    });

MX_REGISTER_GRADIENT(L2Normalization, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_L2Normalization", {a.ograds[0], a.inputs[0]},
                    {{"eps", f2s(a.params.get_float("eps"))}, {"mode", a.params.get_string("mode")}})};
});

// ------------------------------------------------------------------ LRN
// y_c = x_c n_c^(-beta), n_c = knorm + alpha / nsize * sum of x_k^2 over the window of c
// (k in [c - nsize/2, c - nsize/2 + nsize), clipped): dx_j = og_j n_j^(-beta)
//   - 2 beta alpha / nsize x_j * sum over the c whose window holds j of og_c x_c n_c^(-beta-1).
MX_REGISTER_OP(_backward_LRN)
    .describe("The gradient of LRN with respect to data, given the output gradient and data.")
    .category("grad")
    .input("ograd").input("data")
    .param_float("alpha", "0.0001", "The forward LRN's alpha.")
    .param_float("beta", "0.75", "The forward LRN's beta.")
    .param_float("knorm", "2", "The forward LRN's knorm.")
    .param_int("nsize", OpDef::kRequired, "The forward LRN's nsize.")
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& og = (*in)[0];
      const Shape& d = (*in)[1];
      if (!og.known() || !d.known()) return;
      MX_CHECK(d.ndim() == 4 && og == d, kShape, "_backward_LRN: ograd ", og.str(), " and data ", d.str(),
               " must be the same 4-d shape");
      (*out)[0] = d;
    })
    .float_dtypes()
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const int64_t nsize = p.get_int("nsize");
      MX_CHECK(nsize >= 1, kInvalidArgument, "_backward_LRN: nsize must be positive, got ", nsize);
      const double alpha = p.get_float("alpha"), beta = p.get_float("beta"), knorm = p.get_float("knorm");
      const TBlob& x = in[1];
      const int64_t N = x.shape[0], C = x.shape[1], S = x.shape[2] * x.shape[3], half = nsize / 2;
      const double sa = alpha / static_cast<double>(nsize);
      const std::vector<double> og = to_doubles(in[0]), xv = to_doubles(x);
      std::vector<double> dx(xv.size()), nrm(xv.size()), t(xv.size());
      parallel_range(N * C, [&](int64_t b, int64_t e) {  // n_c and og_c x_c n_c^(-beta-1)
        for (int64_t nc = b; nc < e; ++nc) {
          const int64_t n = nc / C, c = nc % C;
          const int64_t lo = std::max<int64_t>(0, c - half), hi = std::min<int64_t>(C, c - half + nsize);
          for (int64_t s = 0; s < S; ++s) {
            double acc = 0.0;
            for (int64_t k = lo; k < hi; ++k) acc += xv[(n * C + k) * S + s] * xv[(n * C + k) * S + s];
            const double v = knorm + sa * acc;
            const int64_t i = nc * S + s;
            nrm[i] = v;
            t[i] = og[i] * xv[i] * std::pow(v, -beta - 1.0);
          }
        }
      }, grain_for(S * nsize));
      parallel_range(N * C, [&](int64_t b, int64_t e) {
        for (int64_t nj = b; nj < e; ++nj) {
          const int64_t n = nj / C, j = nj % C;
          const int64_t lo = std::max<int64_t>(0, j + half - nsize + 1), hi = std::min<int64_t>(C - 1, j + half);
          for (int64_t s = 0; s < S; ++s) {
            double acc = 0.0;
            for (int64_t c = lo; c <= hi; ++c) acc += t[(n * C + c) * S + s];
            const int64_t i = nj * S + s;
            dx[i] = og[i] * std::pow(nrm[i], -beta) - 2.0 * beta * sa * xv[i] * acc;
          }
        }
      }, grain_for(S * nsize));
      from_doubles(dx, out[0]);
    });

MX_REGISTER_GRADIENT(LRN, [](GradBuilder& b, const GradArgs& a) {
  const Params& p = a.params;
  return Vs{b.call1("_backward_LRN", {a.ograds[0], a.inputs[0]},
                    {{"alpha", f2s(p.get_float("alpha"))}, {"beta", f2s(p.get_float("beta"))},
                     {"knorm", f2s(p.get_float("knorm"))}, {"nsize", i2s(p.get_int("nsize"))}})};
});

// ------------------------------------------------------------------ Embedding
MX_REGISTER_OP(_backward_Embedding)
    .describe("The gradient of Embedding with respect to weight: the output gradient rows scatter-added into "
              "the rows their (clipped) indices select; shaped like weight.")
    .category("grad")
    .input("ograd").input("data").input("weight")
    .param_int("input_dim", OpDef::kRequired, "The forward Embedding's input_dim.")
    .param_int("output_dim", OpDef::kRequired, "The forward Embedding's output_dim.")
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const int64_t in_dim = p.get_int("input_dim"), out_dim = p.get_int("output_dim");
      MX_CHECK(in_dim >= 1 && out_dim >= 1, kInvalidArgument, "_backward_Embedding: input_dim and output_dim ",
               "must be positive, got ", in_dim, " and ", out_dim);
      const Shape& og = (*in)[0];
      const Shape& d = (*in)[1];
      if (og.known() && d.known()) {
        Shape want = d;
        want.push_back(out_dim);
        MX_CHECK(og == want, kShape, "_backward_Embedding: ograd must have shape ", want.str(), " for data of shape ",
                 d.str(), ", got ", og.str());
      }
      (*out)[0] = Shape{in_dim, out_dim};
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .float_dtypes()
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const int64_t in_dim = p.get_int("input_dim"), out_dim = p.get_int("output_dim");
      const std::vector<int64_t> idx = load_indices(in[1]);
      const std::vector<double> og = to_doubles(in[0]);
      std::vector<double> gw(static_cast<size_t>(in_dim * out_dim), 0.0);
      // Parallel over the output columns: every thread walks all indices, no write conflicts.
      parallel_range(out_dim, [&](int64_t cb, int64_t ce) {
        for (size_t i = 0; i < idx.size(); ++i) {
          int64_t k = idx[i];
          k = k < 0 ? 0 : (k >= in_dim ? in_dim - 1 : k);
          for (int64_t c = cb; c < ce; ++c) gw[k * out_dim + c] += og[i * out_dim + c];
        }
      }, grain_for(static_cast<int64_t>(idx.size())));
      from_doubles(gw, out[0]);
    });

MX_REGISTER_GRADIENT(Embedding, [](GradBuilder& b, const GradArgs& a) {
  V gw = b.call1("_backward_Embedding", {a.ograds[0], a.inputs[0], a.inputs[1]},
                 {{"input_dim", i2s(a.params.get_int("input_dim"))},
                  {"output_dim", i2s(a.params.get_int("output_dim"))}});
  return Vs{V{}, gw};
});

}  // namespace
}  // namespace mx
