// Normalisation layers (forward): LayerNorm, InstanceNorm, GroupNorm, L2Normalization, LRN.
//
// Each views its input as (outer, A, inner) and reduces over the middle extent A:
//   LayerNorm        (prod before axis, d[axis], prod after axis), gamma/beta indexed by A
//   InstanceNorm     (N*C, spatial, 1), gamma/beta indexed by channel
//   GroupNorm        (N*G, C/G*spatial, 1), gamma/beta indexed by group (MXNet 1.x: shape (G,))
//   L2Normalization  instance (N, rest, 1), channel (N, C, spatial), spatial (N*C, spatial, 1)
// Statistics are accumulated in double (two passes: mean, then biased variance).
#include <algorithm>
#include <cmath>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

template <typename DT>
inline double ld(DT v) {
  return static_cast<double>(static_cast<typename AccType<DT>::type>(v));
}
template <typename DT>
inline DT st(double v) {
  return static_cast<DT>(static_cast<typename AccType<DT>::type>(v));
}

int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work_per_item));
}

// A blob of any float dtype as doubles.
std::vector<double> to_doubles(const TBlob& b) {
  std::vector<double> v(static_cast<size_t>(b.size()));
  TBlob dst = b;
  dst.data = v.data();
  dst.dtype = DType::kFloat64;
  cast_copy(b, dst);
  return v;
}

void check_eps(const char* op, const Params& p) {
  const double eps = p.get_float("eps");
  MX_CHECK(eps >= 0.0, kInvalidArgument, op, ": eps must be non-negative, got ", eps);
}

// Checks (or fills) input i to be `want`.
void expect_input(const char* op, const char* name, std::vector<Shape>* in, int i, const Shape& want,
                  const Shape& data) {
  Shape& s = (*in)[i];
  if (!s.known()) {
    s = want;
    return;
  }
  MX_CHECK(s == want, kShape, op, ": input ", name, " must have shape ", want.str(), " for data of shape ",
           data.str(), ", got ", s.str());
}

// y = (x - mean) / sqrt(var + eps) * g + b over the middle extent of (outer, A, inner). g and b are
// indexed by the middle index (period == 0) or by the outer index modulo period. mean_out and
// std_out (size outer*inner, may be null) receive the mean and sqrt(var + eps).
template <typename DT>
void normalize(const DT* x, DT* y, int64_t outer, int64_t A, int64_t inner, double eps,
               const std::vector<double>& g, const std::vector<double>& b, int64_t period, DT* mean_out,
               DT* std_out) {
  parallel_range(outer, [&](int64_t ob, int64_t oe) {
    std::vector<double> m(static_cast<size_t>(inner)), sd(static_cast<size_t>(inner));
    for (int64_t o = ob; o < oe; ++o) {
      const DT* xo = x + o * A * inner;
      DT* yo = y + o * A * inner;
      std::fill(m.begin(), m.end(), 0.0);
      std::fill(sd.begin(), sd.end(), 0.0);
      for (int64_t a = 0; a < A; ++a)
        for (int64_t j = 0; j < inner; ++j) m[j] += ld(xo[a * inner + j]);
      const double inv_n = A > 0 ? 1.0 / static_cast<double>(A) : 0.0;
      for (int64_t j = 0; j < inner; ++j) m[j] *= inv_n;
      for (int64_t a = 0; a < A; ++a)
        for (int64_t j = 0; j < inner; ++j) {
          const double d = ld(xo[a * inner + j]) - m[j];
          sd[j] += d * d;
        }
      for (int64_t j = 0; j < inner; ++j) sd[j] = std::sqrt(sd[j] * inv_n + eps);
      for (int64_t a = 0; a < A; ++a) {
        const int64_t k = period ? o % period : a;
        const double ga = g[k], ba = b[k];
        for (int64_t j = 0; j < inner; ++j)
          yo[a * inner + j] = st<DT>((ld(xo[a * inner + j]) - m[j]) / sd[j] * ga + ba);
      }
      if (mean_out)
        for (int64_t j = 0; j < inner; ++j) {
          mean_out[o * inner + j] = st<DT>(m[j]);
          std_out[o * inner + j] = st<DT>(sd[j]);
        }
    }
  }, grain_for(A * inner));
}

// ------------------------------------------------------------------ LayerNorm
void layer_norm_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  MX_CHECK(d.ndim() >= 1, kShape, "LayerNorm: data must have at least 1 dim, got a 0-d array");
  const int64_t ax = p.get_int("axis");
  MX_CHECK(ax >= -d.ndim() && ax < d.ndim(), kInvalidArgument, "LayerNorm: axis ", ax,
           " is out of range for data of shape ", d.str());
  const int axis = static_cast<int>(ax < 0 ? ax + d.ndim() : ax);
  const Shape c{d[axis]};
  expect_input("LayerNorm", "gamma", in, 1, c, d);
  expect_input("LayerNorm", "beta", in, 2, c, d);
  (*out)[0] = d;
  Shape ms = d;
  ms[axis] = 1;
  for (size_t i = 1; i < out->size(); ++i) (*out)[i] = ms;
}

void layer_norm_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  check_eps("LayerNorm", p);
  const TBlob& x = in[0];
  const int64_t ax = p.get_int("axis");
  const int axis = static_cast<int>(ax < 0 ? ax + x.ndim() : ax);
  const std::vector<double> g = to_doubles(in[1]), b = to_doubles(in[2]);
  const bool stats = out.size() == 3;
  MX_FLOAT_DTYPE_SWITCH(x.dtype, DT, {
    normalize<DT>(x.ptr<DT>(), out[0].ptr<DT>(), x.shape.prod(0, axis), x.shape[axis],
                  x.shape.prod(axis + 1, x.ndim()), p.get_float("eps"), g, b, 0,
                  stats ? out[1].ptr<DT>() : nullptr, stats ? out[2].ptr<DT>() : nullptr);
  });
}

// ------------------------------------------------------------------ InstanceNorm
void instance_norm_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  MX_CHECK(d.ndim() >= 3, kShape, "InstanceNorm: data must have at least 3 dims (N, C, ...), got shape ",
           d.str());
  const Shape c{d[1]};
  expect_input("InstanceNorm", "gamma", in, 1, c, d);
  expect_input("InstanceNorm", "beta", in, 2, c, d);
  (*out)[0] = d;
}

void instance_norm_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                       const std::vector<TBlob>& out) {
  check_eps("InstanceNorm", p);
  const TBlob& x = in[0];
  const std::vector<double> g = to_doubles(in[1]), b = to_doubles(in[2]);
  const int64_t C = x.shape[1];
  MX_FLOAT_DTYPE_SWITCH(x.dtype, DT, {
    normalize<DT>(x.ptr<DT>(), out[0].ptr<DT>(), x.shape[0] * C, x.shape.prod(2, x.ndim()), 1,
                  p.get_float("eps"), g, b, C, nullptr, nullptr);
  });
}

// ------------------------------------------------------------------ GroupNorm
int64_t num_groups(const Params& p) {
  const int64_t g = p.get_int("num_groups");
  MX_CHECK(g >= 1, kInvalidArgument, "GroupNorm: num_groups must be positive, got ", g);
  return g;
}

void group_norm_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  const int64_t G = num_groups(p);
  MX_CHECK(d.ndim() >= 3, kShape, "GroupNorm: data must have at least 3 dims (N, C, ...), got shape ", d.str());
  MX_CHECK(d[1] % G == 0, kShape, "GroupNorm: the channel count ", d[1], " of data ", d.str(),
           " is not divisible by num_groups=", G);
  const Shape gs{G};
  expect_input("GroupNorm", "gamma", in, 1, gs, d);
  expect_input("GroupNorm", "beta", in, 2, gs, d);
  (*out)[0] = d;
  for (size_t i = 1; i < out->size(); ++i) (*out)[i] = Shape{d[0], G};
}

void group_norm_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  check_eps("GroupNorm", p);
  const TBlob& x = in[0];
  const int64_t G = num_groups(p);
  const std::vector<double> g = to_doubles(in[1]), b = to_doubles(in[2]);
  const bool stats = out.size() == 3;
  MX_FLOAT_DTYPE_SWITCH(x.dtype, DT, {
    normalize<DT>(x.ptr<DT>(), out[0].ptr<DT>(), x.shape[0] * G, x.shape.prod(1, x.ndim()) / G, 1,
                  p.get_float("eps"), g, b, G, stats ? out[1].ptr<DT>() : nullptr,
                  stats ? out[2].ptr<DT>() : nullptr);
  });
}

// ------------------------------------------------------------------ L2Normalization
void l2_layout(const Params& p, const Shape& d, int64_t* outer, int64_t* A, int64_t* inner) {
  const std::string& mode = p.get_string("mode");
  MX_CHECK(d.ndim() >= 2, kShape, "L2Normalization: data must have at least 2 dims, got shape ", d.str());
  if (mode == "instance") {
    *outer = d[0];
    *A = d.prod(1, d.ndim());
    *inner = 1;
    return;
  }
  MX_CHECK(d.ndim() >= 3, kShape, "L2Normalization: mode '", mode,
           "' needs data of at least 3 dims (N, C, ...), got shape ", d.str());
  if (mode == "channel") {
    *outer = d[0];
    *A = d[1];
    *inner = d.prod(2, d.ndim());
  } else {  // spatial
    *outer = d[0] * d[1];
    *A = d.prod(2, d.ndim());
    *inner = 1;
  }
}

void l2norm_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  int64_t o, a, i;
  l2_layout(p, d, &o, &a, &i);
  (*out)[0] = d;
}

template <typename DT>
void l2norm_kernel(const DT* x, DT* y, int64_t outer, int64_t A, int64_t inner, double eps) {
  parallel_range(outer, [&](int64_t ob, int64_t oe) {
    std::vector<double> ss(static_cast<size_t>(inner));
    for (int64_t o = ob; o < oe; ++o) {
      const DT* xo = x + o * A * inner;
      DT* yo = y + o * A * inner;
      std::fill(ss.begin(), ss.end(), 0.0);
      for (int64_t a = 0; a < A; ++a)
        for (int64_t j = 0; j < inner; ++j) {
          const double v = ld(xo[a * inner + j]);
          ss[j] += v * v;
        }
      for (int64_t j = 0; j < inner; ++j) ss[j] = 1.0 / std::sqrt(ss[j] + eps);
      for (int64_t a = 0; a < A; ++a)
        for (int64_t j = 0; j < inner; ++j) yo[a * inner + j] = st<DT>(ld(xo[a * inner + j]) * ss[j]);
    }
  }, grain_for(A * inner));
}

void l2norm_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  check_eps("L2Normalization", p);
  const TBlob& x = in[0];
  int64_t o, a, i;
  l2_layout(p, x.shape, &o, &a, &i);
  MX_FLOAT_DTYPE_SWITCH(x.dtype, DT, { l2norm_kernel<DT>(x.ptr<DT>(), out[0].ptr<DT>(), o, a, i, p.get_float("eps")); });
}

// ------------------------------------------------------------------ LRN
// norm[n, c] = knorm + alpha / nsize * sum of x[n, c']^2 over c' in [c - nsize/2, c - nsize/2 + nsize)
// (clipped to the channels); out = x * norm^(-beta).
int64_t lrn_nsize(const Params& p) {
  const int64_t n = p.get_int("nsize");
  MX_CHECK(n >= 1, kInvalidArgument, "LRN: nsize must be positive, got ", n);
  return n;
}

void lrn_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  lrn_nsize(p);
  MX_CHECK(d.ndim() == 4, kShape, "LRN: data must be 4-d (N, C, H, W), got shape ", d.str());
  (*out)[0] = d;
}

template <typename DT>
void lrn_kernel(const TBlob& x, const TBlob& y, int64_t nsize, double alpha, double beta, double knorm) {
  const int64_t N = x.shape[0], C = x.shape[1], S = x.shape[2] * x.shape[3];
  const int64_t half = nsize / 2;
  const double salpha = alpha / static_cast<double>(nsize);
  const DT* xp = x.ptr<DT>();
  DT* yp = y.ptr<DT>();
  parallel_range(N * C, [&](int64_t b, int64_t e) {
    std::vector<double> acc(static_cast<size_t>(S));
    for (int64_t nc = b; nc < e; ++nc) {
      const int64_t n = nc / C, c = nc % C;
      const int64_t lo = std::max<int64_t>(0, c - half), hi = std::min<int64_t>(C, c - half + nsize);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = lo; k < hi; ++k) {
        const DT* xk = xp + (n * C + k) * S;
        for (int64_t s = 0; s < S; ++s) {
          const double v = ld(xk[s]);
          acc[s] += v * v;
        }
      }
      const DT* xc = xp + nc * S;
      DT* yc = yp + nc * S;
      for (int64_t s = 0; s < S; ++s) yc[s] = st<DT>(ld(xc[s]) * std::pow(knorm + salpha * acc[s], -beta));
    }
  }, grain_for(S * nsize));
}

void lrn_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const int64_t nsize = lrn_nsize(p);
  MX_FLOAT_DTYPE_SWITCH(in[0].dtype, DT, {
    lrn_kernel<DT>(in[0], out[0], nsize, p.get_float("alpha"), p.get_float("beta"), p.get_float("knorm"));
  });
}

}  // namespace

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(LayerNorm)
    .describe("Layer normalization: normalises data over `axis` to zero mean and unit variance, then "
              "scales by gamma and shifts by beta (both of shape (data.shape[axis],)).")
    .category("nn")
    .input("data").input("gamma").input("beta")
    .num_outputs([](const Params& p) { return p.get_bool("output_mean_var") ? 3 : 1; })
    .output_names({"output", "mean", "std"})
    .param_int("axis", "-1", "The axis to perform layer normalization. Usually, this should be be axis of "
                             "the channel dimension. Negative values means indexing from right to left.")
    .param_float("eps", "1e-05", "An `epsilon` parameter to prevent division by 0.")
    .param_bool("output_mean_var", "False", "Output the mean and std calculated along the given axis.")
    .infer_shape(layer_norm_shape)
    .float_dtypes()
    .differentiable(false)
    .cpu(layer_norm_cpu);

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(InstanceNorm)
    .describe("Instance normalization: normalises each (sample, channel) over its spatial dims, then "
              "scales by gamma and shifts by beta (both of shape (C,)).")
    .category("nn")
    .input("data").input("gamma").input("beta")
    .param_float("eps", "0.001", "An `epsilon` parameter to prevent division by 0.")
    .infer_shape(instance_norm_shape)
    .float_dtypes()
    .differentiable(false)
    .cpu(instance_norm_cpu);

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(GroupNorm)
    .describe("Group normalization: splits the channels into num_groups groups and normalises each "
              "(sample, group), then scales by gamma and shifts by beta (both of shape (num_groups,)).")
    .category("nn")
    .input("data").input("gamma").input("beta")
    .num_outputs([](const Params& p) { return p.get_bool("output_mean_var") ? 3 : 1; })
    .output_names({"output", "mean", "std"})
    .param_int("num_groups", "1", "Total number of groups.")
    .param_float("eps", "1e-05", "An `epsilon` parameter to prevent division by 0.")
    .param_bool("output_mean_var", "False", "Output the mean and std calculated along the given axis.")
    .infer_shape(group_norm_shape)
    .float_dtypes()
    .differentiable(false)
    .cpu(group_norm_cpu);

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(L2Normalization)
    .describe("Divides data by its L2 norm sqrt(sum(x^2) + eps): over each instance (mode instance), "
              "across channels at each position (channel) or over the spatial dims of each channel "
              "(spatial).")
    .category("nn")
    .input("data")
    .param_float("eps", "1e-10", "A small constant for numerical stability.")
    .param_enum("mode", {"channel", "instance", "spatial"}, "instance", "Specify the dimension along which to compute L2 norm.")
    .infer_shape(l2norm_shape)
    .float_dtypes()
    .differentiable(false)
    .cpu(l2norm_cpu);

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(LRN)
    .describe("Local response normalization across channels of NCHW data: "
              "out = x / (knorm + alpha / nsize * sum of x^2 over nsize neighbouring channels)^beta.")
    .category("nn")
    .input("data")
    .param_float("alpha", "0.0001", "The variance scaling parameter :math:`\\alpha` in the LRN expression.")
    .param_float("beta", "0.75", "The power parameter :math:`\\beta` in the LRN expression.")
    .param_float("knorm", "2", "The parameter :math:`k` in the LRN expression.")
    .param_int("nsize", OpDef::kRequired, "normalization window width in elements.")
    .infer_shape(lrn_shape)
    .float_dtypes()
    .differentiable(false)
    .cpu(lrn_cpu);

}  // namespace mx
