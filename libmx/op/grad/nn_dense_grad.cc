// Gradients of the dense nn ops: FullyConnected, Activation, LeakyReLU, softmax / log_softmax /
// softmin, softmax_cross_entropy and smooth_l1, written as other ops. Two dedicated backward ops
// cover what existing ops cannot express without knowing shapes: the per-channel sum of prelu's
// gamma gradient, and softmax_cross_entropy's (softmax - one_hot(label)).
//
// Not supported (a clear kUnsupported error when a gradient is asked for): LeakyReLU rrelu (its
// random slopes are not kept), softmax/log_softmax/softmin with use_length=True.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

using V = GradValue;
using Vs = std::vector<GradValue>;

ParamList scalar(double s) { return {{"scalar", float_param(s)}}; }

V mul(GradBuilder& b, V x, V y) { return b.call1("elemwise_mul", {x, y}); }
V add(GradBuilder& b, V x, V y) { return b.call1("elemwise_add", {x, y}); }
V mul_s(GradBuilder& b, V x, double s) { return b.call1("_mul_scalar", {x}, scalar(s)); }
V add_s(GradBuilder& b, V x, double s) { return b.call1("_plus_scalar", {x}, scalar(s)); }
V rsub_s(GradBuilder& b, V x, double s) { return b.call1("_rminus_scalar", {x}, scalar(s)); }
V pos_mask(GradBuilder& b, V x) { return b.call1("_greater_scalar", {x}, scalar(0.0)); }  // 1 where x > 0
V act(GradBuilder& b, V x, const char* t) { return b.call1("Activation", {x}, {{"act_type", t}}); }

// ------------------------------------------------------------------ FullyConnected
// Data viewed as the 2-d X (rows, K): Y = X W^T + b, so dX = dY W, dW = dY^T X, db = sum_rows dY.
MX_REGISTER_GRADIENT(FullyConnected, [](GradBuilder& b, const GradArgs& a) {
  const bool flatten = a.params.get_bool("flatten"), no_bias = a.params.get_bool("no_bias");
  V x = a.inputs[0], w = a.inputs[1], og = a.ograds[0];
  V x2, og2;
  if (flatten) {
    x2 = b.ndim(x) == 2 ? x : b.call1("Reshape", {x}, {{"shape", "(0,-1)"}});  // Reshape copies
    og2 = og;  // already (rows, num_hidden)
  } else if (b.ndim(x) == 2) {
    x2 = x;
    og2 = og;
  } else {
    // Merge all leading axes: codes applied right to left keep the last axis.
    ParamList p{{"shape", "(-1,0)"}, {"reverse", "True"}};
    x2 = b.call1("Reshape", {x}, p);
    og2 = b.call1("Reshape", {og}, p);
  }
  V gx = a.needs(0) ? b.call1("reshape_like", {b.call1("dot", {og2, w}), x}) : V{};
  V gw = a.needs(1) ? b.call1("dot", {og2, x2}, {{"transpose_a", "True"}}) : V{};
  Vs r{gx, gw};
  if (!no_bias) r.push_back(a.needs(2) ? b.call1("sum", {og2}, {{"axis", "(0,)"}}) : V{});
  return r;
});

// ------------------------------------------------------------------ Activation
MX_REGISTER_GRADIENT(Activation, [](GradBuilder& b, const GradArgs& a) {
  const std::string& t = a.params.get_string("act_type");
  V x = a.inputs[0], y = a.outputs[0], og = a.ograds[0];
  V d;
  if (t == "relu") {
    d = pos_mask(b, x);
  } else if (t == "sigmoid") {
    d = mul(b, y, rsub_s(b, y, 1.0));
  } else if (t == "tanh") {
    d = rsub_s(b, mul(b, y, y), 1.0);
  } else if (t == "softrelu") {
    d = act(b, x, "sigmoid");
  } else if (t == "softsign") {
    d = b.call1("reciprocal", {b.call1("square", {add_s(b, b.call1("abs", {x}), 1.0)})});
  } else if (t == "log_sigmoid") {
    d = act(b, b.call1("negative", {x}), "sigmoid");  // 1 - sigmoid(x)
  } else if (t == "mish") {
    // y = x tanh(sp(x)): y' = tanh(sp) + x (1 - tanh(sp)^2) sigmoid(x)
    V th = act(b, act(b, x, "softrelu"), "tanh");
    d = add(b, th, mul(b, mul(b, x, rsub_s(b, mul(b, th, th), 1.0)), act(b, x, "sigmoid")));
  } else {
    MX_THROW(kUnsupported, "Activation: no gradient for act_type '", t, "'");
  }
  return Vs{mul(b, og, d)};
});

// ------------------------------------------------------------------ LeakyReLU
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;

// gamma broadcast to data's shape, the way prelu applies it: prelu(-1, gamma) = -gamma.
V prelu_spread(GradBuilder& b, V like, V gamma) {
  V m1 = mul_s(b, b.call1("ones_like", {like}), -1.0);
  return b.call1("negative", {b.call1("LeakyReLU", {m1, gamma}, {{"act_type", "prelu"}})});
}

MX_REGISTER_GRADIENT(LeakyReLU, [](GradBuilder& b, const GradArgs& a) {
  const std::string& t = a.params.get_string("act_type");
  const double slope = a.params.get_float("slope");
  V x = a.inputs[0], og = a.ograds[0];
  if (t == "gelu") {
    // 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)
    V cdf = mul_s(b, add_s(b, b.call1("erf", {mul_s(b, x, 0.70710678118654752440)}), 1.0), 0.5);
    V pdf = mul_s(b, b.call1("exp", {mul_s(b, mul(b, x, x), -0.5)}), 0.39894228040143267794);
    return Vs{mul(b, og, add(b, cdf, mul(b, x, pdf)))};
  }
  if (t == "rrelu") {  // replays the forward's random slopes (misc_grad2.cc)
    return Vs{b.call1("_backward_LeakyReLU_rrelu", {og, x},
                      {{"lower_bound", float_param(a.params.get_float("lower_bound"))},
                       {"upper_bound", float_param(a.params.get_float("upper_bound"))},
                       {"active", a.is_train ? "True" : "False"},
                       {"rng_seed", std::to_string(a.rng_seed)},
                       {"rng_stream", std::to_string(a.rng_stream)}})};
  }
  V m = pos_mask(b, x), n = rsub_s(b, m, 1.0);  // x > 0, x <= 0
  if (t == "leaky") return Vs{mul(b, og, add_s(b, mul_s(b, m, 1.0 - slope), slope))};
  if (t == "elu") return Vs{mul(b, og, add(b, m, mul(b, n, mul_s(b, b.call1("exp", {x}), slope))))};
  if (t == "selu") {
    V neg = mul(b, n, mul_s(b, b.call1("exp", {x}), kSeluAlpha));
    return Vs{mul(b, og, mul_s(b, add(b, m, neg), kSeluLambda))};
  }
  if (t == "prelu") {
    V gamma = a.inputs[1];
    V gx = mul(b, og, add(b, m, mul(b, n, prelu_spread(b, x, gamma))));
    return Vs{gx, b.call1("_prelu_gamma_grad", {og, x, gamma})};
  }
  MX_THROW(kUnsupported, "LeakyReLU: no gradient for act_type '", t, "'");
});

// The data axis gamma follows (-1: gamma has one value). The rule of LeakyReLU's prelu.
int prelu_axis(const Shape& data, const Shape& gamma) {
  MX_CHECK(gamma.ndim() == 1, kShape, "_prelu_gamma_grad: gamma must be 1-d, got shape ", gamma.str());
  MX_CHECK(data.ndim() >= 1, kShape, "_prelu_gamma_grad: data must have at least one axis, got ", data.str());
  if (gamma[0] == 1) return -1;
  if (data.ndim() >= 2 && data[1] == gamma[0]) return 1;
  if (data[0] == gamma[0]) return 0;
  MX_THROW(kShape, "_prelu_gamma_grad: gamma of shape ", gamma.str(), " does not fit data of shape ", data.str());
}

MX_REGISTER_OP(_prelu_gamma_grad)
    .describe("The gradient of LeakyReLU(act_type='prelu') with respect to gamma: the sum of ograd * data over "
              "the elements where data <= 0, per channel of gamma (one value when gamma has size 1).")
    .category("grad")
    .input("ograd")
    .input("data")
    .input("gamma")
    .float_dtypes()
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[0];
      const Shape& d = (*in)[1];
      const Shape& gm = (*in)[2];
      if (!shape_known(g) || !shape_known(d) || !shape_known(gm)) return;
      MX_CHECK(g == d, kShape, "_prelu_gamma_grad: ograd of shape ", g.str(), " differs from data of shape ", d.str());
      prelu_axis(d, gm);
      (*out)[0] = gm;
    })
    .cpu([](const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& g = in[0];
      const TBlob& x = in[1];
      const int axis = prelu_axis(x.shape, in[2].shape);
      const int64_t C = axis < 0 ? 1 : x.shape[axis];
      const int64_t inner = axis < 0 ? 1 : x.shape.prod(axis + 1, x.ndim());
      MX_CHECK(g.dtype == x.dtype && in[2].dtype == x.dtype, kDType, "_prelu_gamma_grad: inputs differ in dtype");
      MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
        using A = std::conditional_t<std::is_same<T, double>::value, double, float>;
        std::vector<A> acc(static_cast<size_t>(C), A(0));
        const T* gp = g.ptr<T>();
        const T* xp = x.ptr<T>();
        const int64_t n = x.size();
        for (int64_t i = 0; i < n; ++i) {
          const A v = cast_value<A>(xp[i]);
          if (!(v > A(0))) acc[static_cast<size_t>(axis < 0 ? 0 : (i / inner) % C)] += cast_value<A>(gp[i]) * v;
        }
        T* op = out[0].ptr<T>();
        for (int64_t c = 0; c < C; ++c) op[c] = cast_value<T>(acc[static_cast<size_t>(c)]);
      });
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      // out[c] = sum_{i in c, x <= 0} og[i] x[i]: d/d og = w_c x n, d/dx = w_c og n (almost everywhere).
      V og = a.inputs[0], x = a.inputs[1];
      V n = rsub_s(b, pos_mask(b, x), 1.0);
      V wn = mul(b, prelu_spread(b, x, a.ograds[0]), n);
      return Vs{mul(b, wn, x), mul(b, wn, og), GradValue{}};
    });

// ------------------------------------------------------------------ softmax family
struct SoftmaxArgs {
  std::string axis;
  double inv_t;
};

SoftmaxArgs softmax_args(const GradArgs& a, const char* op) {
  const double t = a.params.is_none("temperature") ? 1.0 : a.params.get_float("temperature");
  return SoftmaxArgs{"(" + std::to_string(a.params.get_int("axis")) + ",)", 1.0 / t};
}

V sum_keep(GradBuilder& b, V x, const std::string& axis) {
  return b.call1("sum", {x}, {{"axis", axis}, {"keepdims", "True"}});
}

// y = softmax(s x): dx = s y (og - sum(og y)).
V softmax_back(GradBuilder& b, V y, V og, const std::string& axis, double s) {
  V c = b.call1("broadcast_sub", {og, sum_keep(b, mul(b, og, y), axis)});
  return mul_s(b, mul(b, y, c), s);
}

bool with_length(const GradArgs& a) { return !a.params.is_none("use_length") && a.params.get_bool("use_length"); }

// Masked positions (use_length) output 0 in softmax/softmin, so y * (...) vanishes there; the length
// input gets no gradient.
Vs softmax_grads(const GradArgs& a, V g) { return with_length(a) ? Vs{g, V{}} : Vs{g}; }

MX_REGISTER_GRADIENT(softmax, [](GradBuilder& b, const GradArgs& a) {
  SoftmaxArgs s = softmax_args(a, "softmax");
  return softmax_grads(a, softmax_back(b, a.outputs[0], a.ograds[0], s.axis, s.inv_t));
});
MX_REGISTER_GRADIENT(softmin, [](GradBuilder& b, const GradArgs& a) {
  SoftmaxArgs s = softmax_args(a, "softmin");
  return softmax_grads(a, softmax_back(b, a.outputs[0], a.ograds[0], s.axis, -s.inv_t));
});
MX_REGISTER_GRADIENT(log_softmax, [](GradBuilder& b, const GradArgs& a) {
  // y = s x - logsumexp(s x): dx = s (og - exp(y) sum(og)); with use_length, over the kept entries
  // only (mask: 1 where softmax of zeros under the same lengths is positive).
  SoftmaxArgs s = softmax_args(a, "log_softmax");
  V og = a.ograds[0], mask;
  if (with_length(a)) {
    V u = b.call1("softmax", {b.call1("zeros_like", {a.inputs[0]}), a.inputs[1]},
                  {{"axis", std::to_string(a.params.get_int("axis"))}, {"use_length", "True"}});
    mask = pos_mask(b, u);
    og = mul(b, og, mask);
  }
  V c = b.call1("broadcast_mul", {b.call1("exp", {a.outputs[0]}), sum_keep(b, og, s.axis)});
  V g = mul_s(b, b.call1("elemwise_sub", {og, c}), s.inv_t);
  if (with_length(a)) g = mul(b, g, mask);
  return softmax_grads(a, g);
});

// ------------------------------------------------------------------ softmax_cross_entropy
MX_REGISTER_GRADIENT(softmax_cross_entropy, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_softmax_cross_entropy_grad", {a.ograds[0], a.inputs[0], a.inputs[1]}), GradValue{}};
});

MX_REGISTER_OP(_softmax_cross_entropy_grad)
    .describe("The gradient of softmax_cross_entropy with respect to data: ograd * (softmax(data, axis=-1) - "
              "one_hot(label)), with ograd of shape (1,), data (batch, classes) and label (batch,).")
    .category("grad")
    .input("ograd")
    .input("data")
    .input("label")
    .float_dtypes()
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[0];
      const Shape& d = (*in)[1];
      const Shape& l = (*in)[2];
      if (!shape_known(g) || !shape_known(d) || !shape_known(l)) return;
      MX_CHECK(g.size() == 1, kShape, "_softmax_cross_entropy_grad: ograd must have one element, got ", g.str());
      MX_CHECK(d.ndim() == 2 && l.ndim() == 1 && l[0] == d[0], kShape,
               "_softmax_cross_entropy_grad: expected data (batch, classes) and label (batch,), got ", d.str(),
               " and ", l.str());
      (*out)[0] = d;
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[1]; })
    .cpu([](const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& g = in[0];
      const TBlob& x = in[1];
      const TBlob& lab = in[2];
      MX_CHECK(g.dtype == x.dtype, kDType, "_softmax_cross_entropy_grad: ograd dtype ", dtype_name(g.dtype),
               " differs from data dtype ", dtype_name(x.dtype));
      const int64_t n = x.shape[0], k = x.shape[1];
      std::vector<int64_t> cls(static_cast<size_t>(n));
      MX_DTYPE_SWITCH(lab.dtype, L, {
        const L* lp = lab.ptr<L>();
        for (int64_t i = 0; i < n; ++i) {
          const double v = cast_value<double>(lp[i]);
          MX_CHECK(v >= 0 && v < static_cast<double>(k), kIndex, "_softmax_cross_entropy_grad: label ", v,
                   " at row ", i, " is outside [0, ", k, ")");
          cls[static_cast<size_t>(i)] = static_cast<int64_t>(v);
        }
      });
      MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
        using A = std::conditional_t<std::is_same<T, double>::value, double, float>;
        const A scale = cast_value<A>(g.ptr<T>()[0]);
        const T* xp = x.ptr<T>();
        T* yp = out[0].ptr<T>();
        parallel_range(n, [&](int64_t rb, int64_t re) {
          for (int64_t i = rb; i < re; ++i) {
            const T* r = xp + i * k;
            T* o = yp + i * k;
            A m = -std::numeric_limits<A>::infinity();
            for (int64_t j = 0; j < k; ++j) m = std::max(m, cast_value<A>(r[j]));
            A s = A(0);
            for (int64_t j = 0; j < k; ++j) s += std::exp(cast_value<A>(r[j]) - m);
            const A inv = A(1) / s;
            for (int64_t j = 0; j < k; ++j) {
              A p = std::exp(cast_value<A>(r[j]) - m) * inv;
              if (j == cls[static_cast<size_t>(i)]) p -= A(1);
              o[j] = cast_value<T>(scale * p);
            }
          }
        }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, k)));
      });
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      // out = og (p - onehot), p = softmax(x): d/d og = sum(w (p - onehot)); d/dx = og p (w - sum(w p)).
      V og = a.inputs[0], x = a.inputs[1], lab = a.inputs[2], w = a.ograds[0];
      V unit = b.call1("_softmax_cross_entropy_grad", {b.call1("ones_like", {og}), x, lab});
      V gog = b.call1("reshape_like", {b.call1("sum", {mul(b, w, unit)}), og});
      V p = b.call1("softmax", {x}, {{"axis", "-1"}});
      V gx = b.call1("broadcast_mul", {softmax_back(b, p, w, "(-1,)", 1.0), og});
      return Vs{gog, gx, GradValue{}};
    });

// ------------------------------------------------------------------ smooth_l1
// d/dx = sigma^2 x inside |x| < 1/sigma^2, sign(x) outside: clip(sigma^2 x, -1, 1).
MX_REGISTER_GRADIENT(smooth_l1, [](GradBuilder& b, const GradArgs& a) {
  const double sigma = a.params.get_float("scalar");
  V d = b.call1("clip", {mul_s(b, a.inputs[0], sigma * sigma)}, {{"a_min", "-1"}, {"a_max", "1"}});
  return Vs{mul(b, a.ograds[0], d)};
});

}  // namespace
}  // namespace mx
