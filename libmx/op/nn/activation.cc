// Elementwise activations of MXNet 1.9: Activation (relu, sigmoid, tanh, softrelu, softsign,
// log_sigmoid, mish), LeakyReLU (leaky, prelu, elu, selu, gelu, rrelu) and smooth_l1.
//
// Float dtypes only; float16/bfloat16 compute in float, float32 in float, float64 in double.
// The formulas are written in their overflow-free forms (softrelu/log_sigmoid never exponentiate
// a large positive number). LeakyReLU's prelu takes a second input, gamma, that scales the
// negative part per channel (axis 1; a 1-d input uses axis 0) or by one value when it has size 1.
// rrelu draws one slope per element from U(lower_bound, upper_bound) in training mode and uses
// their mean in prediction mode, as MXNet does.
//
// gradient: see libmx/op/grad/ (none yet where no file there names this op)
#include <cmath>

#include "op/simd_math.h"
#include <string>
#include <type_traits>
#include <vector>

#include "base/random.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;

// Runs y[i] = f(x[i]) over a float blob, computing in float (or double for float64).
template <typename F>
void map_float(const TBlob& x, const TBlob& y, F f) {
  MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
    using A = typename AccType<T>::type;
    const T* xp = x.ptr<T>();
    T* yp = y.ptr<T>();
    parallel_range(x.size(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) yp[i] = cast_value<T>(f(cast_value<A>(xp[i])));
    });
  });
}

template <typename A>
inline A softplus(A x) {  // log(1 + exp(x)) without overflow
  return x > A(20) ? x : std::log1p(std::exp(x));
}

// ------------------------------------------------------------------ Activation
enum class Act { kRelu, kSigmoid, kTanh, kSoftrelu, kSoftsign, kLogSigmoid, kMish };

Act parse_act(const std::string& s) {
  if (s == "relu") return Act::kRelu;
  if (s == "sigmoid") return Act::kSigmoid;
  if (s == "tanh") return Act::kTanh;
  if (s == "softrelu") return Act::kSoftrelu;
  if (s == "softsign") return Act::kSoftsign;
  if (s == "log_sigmoid") return Act::kLogSigmoid;
  if (s == "mish") return Act::kMish;
  MX_THROW(kInvalidArgument, "Activation: unknown act_type '", s, "'");
}

template <typename A>
inline A activate(Act a, A x) {
  switch (a) {
    case Act::kRelu: return std::isnan(x) ? x : (x > A(0) ? x : A(0));
    case Act::kSigmoid:
      if (x >= A(0)) return A(1) / (A(1) + std::exp(-x));
      else {
        const A e = std::exp(x);
        return e / (A(1) + e);
      }
    case Act::kTanh: return std::tanh(x);
    case Act::kSoftrelu: return softplus(x);
    case Act::kSoftsign: return x / (A(1) + std::fabs(x));
    case Act::kLogSigmoid: return -softplus(-x);
    case Act::kMish: return x * std::tanh(softplus(x));
  }
  return x;
}

void activation_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                        const std::vector<TBlob>& out) {
  // One loop per activation (a switch inside the element loop keeps it from vectorising).
  switch (parse_act(p.get_string("act_type"))) {
    case Act::kRelu:
      return map_float(in[0], out[0], [](auto x) { return (x != x || x > decltype(x)(0)) ? x : decltype(x)(0); });
    // Evaluated in double (exact for float inputs after rounding): the loops vectorise onto
    // libmvec where the build has it. 1/(1+exp(-x)) is safe in double for every x (exp overflows
    // to inf for very negative x, giving 0).
    case Act::kSigmoid:
      return map_float(in[0], out[0], [](auto x) { return decltype(x)(1.0 / (1.0 + std::exp(-double(x)))); });
    case Act::kTanh: return map_float(in[0], out[0], [](auto x) { return decltype(x)(std::tanh(double(x))); });
    case Act::kSoftrelu: return map_float(in[0], out[0], [](auto x) { return activate(Act::kSoftrelu, x); });
    case Act::kSoftsign: return map_float(in[0], out[0], [](auto x) { return activate(Act::kSoftsign, x); });
    case Act::kLogSigmoid: return map_float(in[0], out[0], [](auto x) { return activate(Act::kLogSigmoid, x); });
    case Act::kMish: return map_float(in[0], out[0], [](auto x) { return activate(Act::kMish, x); });
  }
}

// ------------------------------------------------------------------ LeakyReLU
enum class Leaky { kLeaky, kPrelu, kElu, kSelu, kGelu, kRrelu };

Leaky parse_leaky(const std::string& s) {
  if (s == "leaky") return Leaky::kLeaky;
  if (s == "prelu") return Leaky::kPrelu;
  if (s == "elu") return Leaky::kElu;
  if (s == "selu") return Leaky::kSelu;
  if (s == "gelu") return Leaky::kGelu;
  if (s == "rrelu") return Leaky::kRrelu;
  MX_THROW(kInvalidArgument, "LeakyReLU: unknown act_type '", s, "'");
}

// The data axis that gamma (1-d) scales, or -1 when gamma has a single value. Follows MXNet's
// rule: gamma matches axis 1 when it can, else axis 0 (the only axis of 1-d data).
int prelu_axis(const Shape& data, const Shape& gamma) {
  MX_CHECK(gamma.ndim() == 1, kShape, "LeakyReLU(prelu): gamma must be 1-d, got shape ", gamma.str(),
           " for data shape ", data.str());
  MX_CHECK(data.ndim() >= 1, kShape, "LeakyReLU(prelu): data must have at least one axis, got ", data.str());
  if (gamma[0] == 1) return -1;
  if (data.ndim() >= 2 && data[1] == gamma[0]) return 1;
  if (data[0] == gamma[0]) return 0;
  MX_THROW(kShape, "LeakyReLU(prelu): cannot broadcast gamma of shape ", gamma.str(), " to data of shape ",
           data.str(), " (gamma needs one value per channel, axis 1, or a single value)");
}

void leaky_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!shape_known(d)) return;
  if (parse_leaky(p.get_string("act_type")) == Leaky::kPrelu) {
    Shape& g = (*in)[1];
    if (!shape_known(g)) g = Shape{d.ndim() >= 2 ? d[1] : (d.ndim() == 1 ? d[0] : 1)};
    prelu_axis(d, g);
  }
  (*out)[0] = d;
}

void leaky_compute(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in,
                   const std::vector<TBlob>& out) {
  const Leaky k = parse_leaky(p.get_string("act_type"));
  const double slope = p.get_float("slope");
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  switch (k) {
    case Leaky::kLeaky:
      map_float(x, y, [slope](auto v) {
        using A = decltype(v);
        return v > A(0) ? v : A(slope) * v;
      });
      return;
    case Leaky::kElu:
      map_float(x, y, [slope](auto v) {
        using A = decltype(v);
        return v > A(0) ? v : A(slope) * std::expm1(v);
      });
      return;
    case Leaky::kSelu:
      map_float(x, y, [](auto v) {
        using A = decltype(v);
        return A(kSeluLambda) * (v > A(0) ? v : A(kSeluAlpha) * std::expm1(v));
      });
      return;
    case Leaky::kGelu:
      map_float(x, y, [](auto v) {
        using A = decltype(v);
        return A(0.5) * v * (A(1) + std::erf(v * A(0.70710678118654752440)));
      });
      return;
    case Leaky::kRrelu: {
      const double lo = p.get_float("lower_bound"), hi = p.get_float("upper_bound");
      if (!ctx.is_train) {
        const double mid = (lo + hi) / 2;
        map_float(x, y, [mid](auto v) {
          using A = decltype(v);
          return v > A(0) ? v : A(mid) * v;
        });
        return;
      }
      MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
        using A = typename AccType<T>::type;
        const T* xp = x.ptr<T>();
        T* yp = y.ptr<T>();
        const uint64_t seed = ctx.rng_seed, stream = ctx.rng_stream;
        // Element i uses word i % 4 of Philox block i / 4: independent of the thread split.
        parallel_range((x.size() + 3) / 4, [&](int64_t b, int64_t e) {
          for (int64_t blk = b; blk < e; ++blk) {
            const Philox4x32 r = philox4x32(static_cast<uint64_t>(blk), stream, seed);
            for (int w = 0; w < 4; ++w) {
              const int64_t i = blk * 4 + w;
              if (i >= x.size()) break;
              const double u = (r.v[w] >> 8) * (1.0 / 16777216.0);
              const A v = cast_value<A>(xp[i]);
              yp[i] = cast_value<T>(v > A(0) ? v : A(lo + (hi - lo) * u) * v);
            }
          }
        }, kParallelGrain / 4);
      });
      return;
    }
    case Leaky::kPrelu: {
      const TBlob& g = in[1];
      MX_CHECK(g.dtype == x.dtype, kDType, "LeakyReLU(prelu): gamma dtype ", dtype_name(g.dtype),
               " differs from data dtype ", dtype_name(x.dtype));
      const int axis = prelu_axis(x.shape, g.shape);
      const int64_t C = axis < 0 ? 1 : x.shape[axis];
      const int64_t inner = axis < 0 ? 1 : x.shape.prod(axis + 1, x.ndim());
      MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
        using A = typename AccType<T>::type;
        const T* xp = x.ptr<T>();
        const T* gp = g.ptr<T>();
        T* yp = y.ptr<T>();
        parallel_range(x.size(), [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            const A v = cast_value<A>(xp[i]);
            const A s = cast_value<A>(gp[axis < 0 ? 0 : (i / inner) % C]);
            yp[i] = cast_value<T>(v > A(0) ? v : s * v);
          }
        });
      });
      return;
    }
  }
}

// ------------------------------------------------------------------ smooth_l1
void smooth_l1_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                       const std::vector<TBlob>& out) {
  const double sigma = p.get_float("scalar");
  const double s2 = sigma * sigma;
  map_float(in[0], out[0], [s2](auto v) {
    using A = decltype(v);
    const A b = A(s2);
    if (v > A(1) / b) return v - A(0.5) / b;
    if (v < A(-1) / b) return -v - A(0.5) / b;
    return A(0.5) * v * v * b;
  });
}

MX_REGISTER_OP(Activation)
    .describe("Applies an activation function elementwise: relu max(x, 0); sigmoid 1/(1+exp(-x)); tanh; "
              "softrelu log(1+exp(x)); softsign x/(1+|x|); log_sigmoid log(1/(1+exp(-x))); mish "
              "x*tanh(softrelu(x)).")
    .category("nn")
    .input("data")
    .param_enum("act_type", {"log_sigmoid", "mish", "relu", "sigmoid", "softrelu", "softsign", "tanh"},
                OpDef::kRequired, "Activation function to be applied.")
    .infer_shape(infer_same_shape)
    .float_dtypes()
    .inplace({{0, 0}})
    .differentiable(false)  // gradient: see libmx/op/grad/ (none yet where no file there names this op)
    .cpu(activation_compute);

MX_REGISTER_OP(LeakyReLU)
    .describe("Leaky ReLU family, elementwise: leaky x>0 ? x : slope*x; prelu x>0 ? x : gamma*x (gamma "
              "per channel, axis 1); elu x>0 ? x : slope*(exp(x)-1); selu lambda*(x>0 ? x : "
              "alpha*(exp(x)-1)); gelu 0.5*x*(1+erf(x/sqrt(2))); rrelu x>0 ? x : s*x with s drawn "
              "from U(lower_bound, upper_bound) per element in training, their mean otherwise.")
    .category("nn")
    .input("data")
    .input("gamma")
    .num_inputs([](const Params& p) { return p.get_string("act_type") == "prelu" ? 2 : 1; })
    .param_enum("act_type", {"elu", "gelu", "leaky", "prelu", "rrelu", "selu"}, "leaky",
                "Activation function to be applied.")
    .param_float("slope", "0.25", "Init slope for the activation. (For leaky and elu only)")
    .param_float("lower_bound", "0.125", "Lower bound of random slope. (For rrelu only)")
    .param_float("upper_bound", "0.334", "Upper bound of random slope. (For rrelu only)")
    .infer_shape(leaky_shape)
    .float_dtypes()
    .needs_rng()
    .differentiable(false)  // gradient: see libmx/op/grad/ (none yet where no file there names this op)
    .cpu(leaky_compute);

MX_REGISTER_OP(smooth_l1)
    .describe("Smooth L1 loss, elementwise with sigma = scalar: 0.5*(sigma*x)^2 where |x| < 1/sigma^2, "
              "|x| - 0.5/sigma^2 elsewhere.")
    .category("nn")
    .input("data")
    .param_float("scalar", "1", "Scalar input value")
    .param_bool("is_int", "True", "Indicate whether scalar input is int type")
    .infer_shape(infer_same_shape)
    .float_dtypes()
    .inplace({{0, 0}})
    .differentiable(false)  // gradient: see libmx/op/grad/ (none yet where no file there names this op)
    .cpu(smooth_l1_compute);

}  // namespace
}  // namespace mx
