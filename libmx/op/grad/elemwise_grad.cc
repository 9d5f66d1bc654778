// Gradients of the elementwise, broadcast, scalar and reduction ops, written as other ops.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "op/registry.h"

namespace mx {
namespace {

using V = GradValue;
using Vs = std::vector<GradValue>;

ParamList scalar(double s) { return {{"scalar", float_param(s)}}; }
double sc(const GradArgs& a) { return a.params.get_float("scalar"); }

V mul(GradBuilder& b, V x, V y) { return b.call1("elemwise_mul", {x, y}); }
V div(GradBuilder& b, V x, V y) { return b.call1("elemwise_div", {x, y}); }
V neg(GradBuilder& b, V x) { return b.call1("negative", {x}); }
V mul_s(GradBuilder& b, V x, double s) { return b.call1("_mul_scalar", {x}, scalar(s)); }
V add_s(GradBuilder& b, V x, double s) { return b.call1("_plus_scalar", {x}, scalar(s)); }

// Unary ops: d = og * f'(x, y) with y the output.
#define UNARY_GRAD(op, expr)                                                    \
  MX_REGISTER_GRADIENT(op, [](GradBuilder& b, const GradArgs& a) {             \
    V x = a.inputs[0], y = a.outputs[0], og = a.ograds[0];                     \
    (void)x;                                                                   \
    (void)y;                                                                   \
    return Vs{expr};                                                           \
  })

UNARY_GRAD(negative, neg(b, og));
UNARY_GRAD(_copy, b.call1("_copy", {og}));
UNARY_GRAD(exp, mul(b, og, y));
UNARY_GRAD(expm1, mul(b, og, add_s(b, y, 1.0)));
UNARY_GRAD(log, div(b, og, x));
UNARY_GRAD(log1p, div(b, og, add_s(b, x, 1.0)));
UNARY_GRAD(sqrt, div(b, mul_s(b, og, 0.5), y));
UNARY_GRAD(rsqrt, mul(b, mul_s(b, og, -0.5), mul(b, y, mul(b, y, y))));
UNARY_GRAD(cbrt, div(b, og, mul_s(b, mul(b, y, y), 3.0)));
UNARY_GRAD(square, mul(b, mul_s(b, og, 2.0), x));
UNARY_GRAD(reciprocal, neg(b, mul(b, og, mul(b, y, y))));
UNARY_GRAD(sin, mul(b, og, b.call1("cos", {x})));
UNARY_GRAD(cos, neg(b, mul(b, og, b.call1("sin", {x}))));
UNARY_GRAD(tan, mul(b, og, add_s(b, mul(b, y, y), 1.0)));
UNARY_GRAD(arcsin, div(b, og, b.call1("sqrt", {b.call1("_rminus_scalar", {mul(b, x, x)}, scalar(1.0))})));
UNARY_GRAD(arccos, neg(b, div(b, og, b.call1("sqrt", {b.call1("_rminus_scalar", {mul(b, x, x)}, scalar(1.0))}))));
UNARY_GRAD(arctan, div(b, og, add_s(b, mul(b, x, x), 1.0)));
UNARY_GRAD(sinh, mul(b, og, b.call1("cosh", {x})));
UNARY_GRAD(cosh, mul(b, og, b.call1("sinh", {x})));
UNARY_GRAD(tanh, mul(b, og, b.call1("_rminus_scalar", {mul(b, y, y)}, scalar(1.0))));
UNARY_GRAD(sigmoid, mul(b, og, mul(b, y, b.call1("_rminus_scalar", {y}, scalar(1.0)))));
UNARY_GRAD(relu, mul(b, og, b.call1("_greater_scalar", {x}, scalar(0.0))));
UNARY_GRAD(abs, mul(b, og, b.call1("sign", {x})));
UNARY_GRAD(softsign, div(b, og, b.call1("square", {add_s(b, b.call1("abs", {x}), 1.0)})));
UNARY_GRAD(erf, mul(b, og, mul_s(b, b.call1("exp", {neg(b, mul(b, x, x))}), 1.1283791670955126)));
// Piecewise-constant functions: zero gradient almost everywhere.
UNARY_GRAD(floor, b.call1("zeros_like", {og}));
UNARY_GRAD(ceil, b.call1("zeros_like", {og}));
UNARY_GRAD(round, b.call1("zeros_like", {og}));
UNARY_GRAD(rint, b.call1("zeros_like", {og}));
UNARY_GRAD(trunc, b.call1("zeros_like", {og}));
UNARY_GRAD(sign, b.call1("zeros_like", {og}));

MX_REGISTER_GRADIENT(clip, [](GradBuilder& b, const GradArgs& a) {
  V x = a.inputs[0];
  V lo = b.call1("_greater_equal_scalar", {x}, scalar(a.params.get_float("a_min")));
  V hi = b.call1("_lesser_equal_scalar", {x}, scalar(a.params.get_float("a_max")));
  return Vs{mul(b, a.ograds[0], mul(b, lo, hi))};
});

// Same-shape binary ops.
MX_REGISTER_GRADIENT(elemwise_add, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_copy", {a.ograds[0]}), b.call1("_copy", {a.ograds[0]})};
});
MX_REGISTER_GRADIENT(elemwise_sub, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_copy", {a.ograds[0]}), neg(b, a.ograds[0])};
});
MX_REGISTER_GRADIENT(elemwise_mul, [](GradBuilder& b, const GradArgs& a) {
  return Vs{mul(b, a.ograds[0], a.inputs[1]), mul(b, a.ograds[0], a.inputs[0])};
});
MX_REGISTER_GRADIENT(elemwise_div, [](GradBuilder& b, const GradArgs& a) {
  V gl = div(b, a.ograds[0], a.inputs[1]);
  return Vs{gl, neg(b, div(b, mul(b, gl, a.inputs[0]), a.inputs[1]))};
});

// Broadcasting binary ops: the same, summed back to each input's shape.
Vs to_inputs(GradBuilder& b, const GradArgs& a, V gl, V gr) {
  return Vs{b.call1("_reduce_sum_to", {gl, a.inputs[0]}), b.call1("_reduce_sum_to", {gr, a.inputs[1]})};
}
V bcast(GradBuilder& b, V x, V like) { return b.call1("broadcast_like", {x, like}); }

MX_REGISTER_GRADIENT(broadcast_add, [](GradBuilder& b, const GradArgs& a) {
  return to_inputs(b, a, a.ograds[0], a.ograds[0]);
});
MX_REGISTER_GRADIENT(broadcast_sub, [](GradBuilder& b, const GradArgs& a) {
  return to_inputs(b, a, a.ograds[0], neg(b, a.ograds[0]));
});
MX_REGISTER_GRADIENT(broadcast_mul, [](GradBuilder& b, const GradArgs& a) {
  V og = a.ograds[0];
  return to_inputs(b, a, b.call1("broadcast_mul", {og, a.inputs[1]}), b.call1("broadcast_mul", {og, a.inputs[0]}));
});
MX_REGISTER_GRADIENT(broadcast_div, [](GradBuilder& b, const GradArgs& a) {
  V og = a.ograds[0];
  V gl = b.call1("broadcast_div", {og, a.inputs[1]});
  V gr = neg(b, mul(b, gl, a.outputs[0]));  // -og * x / y^2 = -(og / y) * (x / y)
  return to_inputs(b, a, gl, gr);
});
MX_REGISTER_GRADIENT(broadcast_maximum, [](GradBuilder& b, const GradArgs& a) {
  V og = a.ograds[0];
  V m = b.call1("broadcast_greater_equal", {a.inputs[0], a.inputs[1]});
  return to_inputs(b, a, mul(b, og, m), mul(b, og, b.call1("_rminus_scalar", {m}, scalar(1.0))));
});
MX_REGISTER_GRADIENT(broadcast_minimum, [](GradBuilder& b, const GradArgs& a) {
  V og = a.ograds[0];
  V m = b.call1("broadcast_lesser_equal", {a.inputs[0], a.inputs[1]});
  return to_inputs(b, a, mul(b, og, m), mul(b, og, b.call1("_rminus_scalar", {m}, scalar(1.0))));
});
MX_REGISTER_GRADIENT(broadcast_power, [](GradBuilder& b, const GradArgs& a) {
  V og = a.ograds[0], x = a.inputs[0], e = a.inputs[1], y = a.outputs[0];
  V gl = b.call1("broadcast_mul", {og, b.call1("broadcast_mul", {e, b.call1("broadcast_power", {x, b.call1("_minus_scalar", {e}, scalar(1.0))})})});
  V gr = mul(b, mul(b, og, y), bcast(b, b.call1("log", {x}), og));
  return to_inputs(b, a, gl, gr);
});

// Ops whose value does not change smoothly with their inputs: zero gradient, registered so that
// higher-order gradients can flow through the masks that first-order gradients build from them.
Vs zero_grads(GradBuilder&, const GradArgs& a) { return Vs(a.inputs.size(), GradValue{}); }
MX_REGISTER_GRADIENT(zeros_like, zero_grads);
MX_REGISTER_GRADIENT(ones_like, zero_grads);
#define ZERO_GRAD(op) MX_REGISTER_GRADIENT(op, zero_grads)
ZERO_GRAD(_greater_scalar);
ZERO_GRAD(_greater_equal_scalar);
ZERO_GRAD(_lesser_scalar);
ZERO_GRAD(_lesser_equal_scalar);
ZERO_GRAD(_equal_scalar);
ZERO_GRAD(_not_equal_scalar);
ZERO_GRAD(broadcast_greater);
ZERO_GRAD(broadcast_greater_equal);
ZERO_GRAD(broadcast_lesser);
ZERO_GRAD(broadcast_lesser_equal);
ZERO_GRAD(broadcast_equal);
ZERO_GRAD(broadcast_not_equal);

// Scalar ops.
MX_REGISTER_GRADIENT(_plus_scalar, [](GradBuilder& b, const GradArgs& a) { return Vs{b.call1("_copy", {a.ograds[0]})}; });
MX_REGISTER_GRADIENT(_minus_scalar, [](GradBuilder& b, const GradArgs& a) { return Vs{b.call1("_copy", {a.ograds[0]})}; });
MX_REGISTER_GRADIENT(_rminus_scalar, [](GradBuilder& b, const GradArgs& a) { return Vs{neg(b, a.ograds[0])}; });
MX_REGISTER_GRADIENT(_mul_scalar, [](GradBuilder& b, const GradArgs& a) { return Vs{mul_s(b, a.ograds[0], sc(a))}; });
MX_REGISTER_GRADIENT(_div_scalar, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_div_scalar", {a.ograds[0]}, scalar(sc(a)))};
});
MX_REGISTER_GRADIENT(_rdiv_scalar, [](GradBuilder& b, const GradArgs& a) {
  // d(s/x) = -s/x^2 = -y/x
  return Vs{neg(b, mul(b, a.ograds[0], div(b, a.outputs[0], a.inputs[0])))};
});
MX_REGISTER_GRADIENT(_power_scalar, [](GradBuilder& b, const GradArgs& a) {
  double s = sc(a);
  V d = mul_s(b, b.call1("_power_scalar", {a.inputs[0]}, scalar(s - 1.0)), s);
  return Vs{mul(b, a.ograds[0], d)};
});
MX_REGISTER_GRADIENT(_rpower_scalar, [](GradBuilder& b, const GradArgs& a) {
  return Vs{mul_s(b, mul(b, a.ograds[0], a.outputs[0]), std::log(sc(a)))};
});

// Reductions: spread the gradient back over the reduced axes.
ParamList reduce_params(const GradArgs& a, bool mean) {
  ParamList pl{{"keepdims", a.params.get_bool("keepdims") ? "True" : "False"},
               {"exclude", a.params.get_bool("exclude") ? "True" : "False"},
               {"mean", mean ? "True" : "False"}};
  if (!a.params.is_none("axis")) pl.push_back({"axis", tuple_param(a.params.get_shape("axis"))});
  return pl;
}
MX_REGISTER_GRADIENT(sum, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_reduce_grad_spread", {a.ograds[0], a.inputs[0]}, reduce_params(a, false))};
});
MX_REGISTER_GRADIENT(mean, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_reduce_grad_spread", {a.ograds[0], a.inputs[0]}, reduce_params(a, true))};
});

// dot of matrices (2-d), with either operand transposed.
MX_REGISTER_GRADIENT(dot, [](GradBuilder& b, const GradArgs& a) {
  // dot is one GEMM over 2-d views: lhs as (M, K) (or (K, M) with transpose_a), rhs as (K, N) (or
  // (N, K) with transpose_b), the output as (M, N). The gradients are the two GEMMs of those views,
  // reshaped back to the inputs' shapes.
  const bool ta = a.params.get_bool("transpose_a"), tb = a.params.get_bool("transpose_b");
  V og = a.ograds[0], x = a.inputs[0], y = a.inputs[1];
  const int xn = b.ndim(x), yn = b.ndim(y);
  if (xn == 1 && yn == 1)  // inner product, shape (1,)
    return Vs{b.call1("broadcast_mul", {og, y}), b.call1("broadcast_mul", {og, x})};
  auto d = [&](V l, V r, bool tl, bool tr) {
    return b.call1("dot", {l, r}, {{"transpose_a", tl ? "True" : "False"}, {"transpose_b", tr ? "True" : "False"}});
  };
  auto lead_last = [&](V v) { return b.call1("Reshape", {v}, {{"shape", "(-1, 0)"}, {"reverse", "True"}}); };
  auto first_rest = [&](V v) { return b.call1("Reshape", {v}, {{"shape", "(0, -1)"}}); };
  V l2 = ta ? first_rest(x) : lead_last(x);   // (K, M) or (M, K)
  V r2 = tb ? lead_last(y) : first_rest(y);   // (N, K) or (K, N)
  const int p = xn - 1, q = yn - 1;           // output = p dims of lhs, then q of rhs
  V og2;
  if (p == 0) {
    og2 = b.call1("Reshape", {og}, {{"shape", "(1, -1)"}});
  } else {
    // The p leading output dims become M (taken from the lhs view), the rest N.
    V om = b.call1("reshape_like", {og, l2},
                   {{"lhs_begin", "0"}, {"lhs_end", std::to_string(p)},
                    {"rhs_begin", ta ? "1" : "0"}, {"rhs_end", ta ? "2" : "1"}});
    og2 = b.call1("Reshape", {om}, {{"shape", q == 0 ? "(-1, 1)" : "(0, -1)"}});
  }
  V gx, gy;
  if (a.needs(0)) gx = b.call1("reshape_like", {ta ? d(r2, og2, tb, true) : d(og2, r2, false, !tb), x});
  if (a.needs(1)) gy = b.call1("reshape_like", {tb ? d(og2, l2, true, ta) : d(l2, og2, !ta, false), y});
  return Vs{gx, gy};
});

}  // namespace
}  // namespace mx
