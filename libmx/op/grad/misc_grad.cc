// Gradients of the remaining differentiable ops: binary maximum/minimum/power/hypot/mod (same-shape,
// scalar and broadcast forms), comparisons and logical ops (zero, as MXNet), axis shuffles (SwapAxis,
// depth_to_space, space_to_depth), diag, N-d indexing (gather_nd, scatter_nd, _scatter_set_nd),
// slice_like, the slice assignments, nanprod and sort/topk values. The dedicated
// backward ops they need live in misc_grad2.cc.
#include <string>
#include <vector>

#include "op/registry.h"

namespace mx {
namespace {

using V = GradValue;
using Vs = std::vector<GradValue>;

ParamList scalar(double s) { return {{"scalar", float_param(s)}}; }
V mul(GradBuilder& b, V x, V y) { return b.call1("elemwise_mul", {x, y}); }
V div(GradBuilder& b, V x, V y) { return b.call1("elemwise_div", {x, y}); }
V neg(GradBuilder& b, V x) { return b.call1("negative", {x}); }
V copy(GradBuilder& b, V x) { return b.call1("_copy", {x}); }
V one_minus(GradBuilder& b, V m) { return b.call1("_rminus_scalar", {m}, scalar(1.0)); }
V sum_to(GradBuilder& b, V g, V like) { return b.call1("_reduce_sum_to", {g, like}); }
ParamList given(const GradArgs& a) { return a.params.explicit_values(); }
ParamList given_except(const GradArgs& a, const std::string& drop) {
  ParamList pl;
  for (const auto& kv : a.params.explicit_values())
    if (kv.first != drop) pl.push_back(kv);
  return pl;
}

// ------------------------------------------------------------------ same-shape binary ops
MX_REGISTER_GRADIENT(_maximum, [](GradBuilder& b, const GradArgs& a) {
  V m = b.call1("_greater_equal", {a.inputs[0], a.inputs[1]});
  return Vs{mul(b, a.ograds[0], m), mul(b, a.ograds[0], one_minus(b, m))};
});
MX_REGISTER_GRADIENT(_minimum, [](GradBuilder& b, const GradArgs& a) {
  V m = b.call1("_lesser_equal", {a.inputs[0], a.inputs[1]});
  return Vs{mul(b, a.ograds[0], m), mul(b, a.ograds[0], one_minus(b, m))};
});
MX_REGISTER_GRADIENT(_power, [](GradBuilder& b, const GradArgs& a) {
  V og = a.ograds[0], x = a.inputs[0], e = a.inputs[1], y = a.outputs[0];
  V gx = mul(b, og, mul(b, e, b.call1("_power", {x, b.call1("_minus_scalar", {e}, scalar(1.0))})));
  V ge = mul(b, mul(b, og, y), b.call1("log", {x}));
  return Vs{gx, ge};
});
MX_REGISTER_GRADIENT(_hypot, [](GradBuilder& b, const GradArgs& a) {
  V r = div(b, a.ograds[0], a.outputs[0]);  // d hypot / dx = x / hypot
  return Vs{mul(b, r, a.inputs[0]), mul(b, r, a.inputs[1])};
});
// mod takes the divisor's sign (x - floor(x / y) y): d/dx = 1, d/dy = -floor(x / y).
MX_REGISTER_GRADIENT(_mod, [](GradBuilder& b, const GradArgs& a) {
  V q = b.call1("floor", {div(b, a.inputs[0], a.inputs[1])});
  return Vs{copy(b, a.ograds[0]), neg(b, mul(b, a.ograds[0], q))};
});

// ------------------------------------------------------------------ scalar forms
MX_REGISTER_GRADIENT(_maximum_scalar, [](GradBuilder& b, const GradArgs& a) {
  return Vs{mul(b, a.ograds[0], b.call1("_greater_equal_scalar", {a.inputs[0]}, given(a)))};
});
MX_REGISTER_GRADIENT(_minimum_scalar, [](GradBuilder& b, const GradArgs& a) {
  return Vs{mul(b, a.ograds[0], b.call1("_lesser_equal_scalar", {a.inputs[0]}, given(a)))};
});
MX_REGISTER_GRADIENT(_hypot_scalar, [](GradBuilder& b, const GradArgs& a) {
  return Vs{mul(b, div(b, a.ograds[0], a.outputs[0]), a.inputs[0])};
});
MX_REGISTER_GRADIENT(_mod_scalar, [](GradBuilder& b, const GradArgs& a) { return Vs{copy(b, a.ograds[0])}; });
MX_REGISTER_GRADIENT(_rmod_scalar, [](GradBuilder& b, const GradArgs& a) {
  // s mod x = s - floor(s / x) x: d/dx = -floor(s / x).
  V q = b.call1("floor", {b.call1("_rdiv_scalar", {a.inputs[0]}, given(a))});
  return Vs{neg(b, mul(b, a.ograds[0], q))};
});

// ------------------------------------------------------------------ broadcast forms
MX_REGISTER_GRADIENT(broadcast_hypot, [](GradBuilder& b, const GradArgs& a) {
  V r = div(b, a.ograds[0], a.outputs[0]);
  return Vs{sum_to(b, b.call1("broadcast_mul", {r, a.inputs[0]}), a.inputs[0]),
            sum_to(b, b.call1("broadcast_mul", {r, a.inputs[1]}), a.inputs[1])};
});
MX_REGISTER_GRADIENT(broadcast_mod, [](GradBuilder& b, const GradArgs& a) {
  V q = b.call1("floor", {b.call1("broadcast_div", {a.inputs[0], a.inputs[1]})});
  return Vs{sum_to(b, a.ograds[0], a.inputs[0]), sum_to(b, neg(b, mul(b, a.ograds[0], q)), a.inputs[1])};
});

// ------------------------------------------------------------------ comparisons and logic: zero
Vs zeros_for_inputs(GradBuilder& b, const GradArgs& a) {
  Vs out;
  for (const V& x : a.inputs) out.push_back(b.call1("zeros_like", {x}));
  return out;
}
#define MX_ZERO_GRAD(op) MX_REGISTER_GRADIENT(op, zeros_for_inputs)
MX_ZERO_GRAD(_equal);
MX_ZERO_GRAD(_not_equal);
MX_ZERO_GRAD(_greater);
MX_ZERO_GRAD(_greater_equal);
MX_ZERO_GRAD(_lesser);
MX_ZERO_GRAD(_lesser_equal);
MX_ZERO_GRAD(_logical_and);
MX_ZERO_GRAD(_logical_or);
MX_ZERO_GRAD(_logical_xor);
MX_ZERO_GRAD(_logical_and_scalar);
MX_ZERO_GRAD(_logical_or_scalar);
MX_ZERO_GRAD(_logical_xor_scalar);
MX_ZERO_GRAD(logical_not);
MX_ZERO_GRAD(broadcast_logical_and);
MX_ZERO_GRAD(broadcast_logical_or);
MX_ZERO_GRAD(broadcast_logical_xor);

// ------------------------------------------------------------------ axis shuffles
MX_REGISTER_GRADIENT(SwapAxis, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("SwapAxis", {a.ograds[0]}, given(a))};
});
MX_REGISTER_GRADIENT(depth_to_space, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("space_to_depth", {a.ograds[0]}, given(a))};
});
MX_REGISTER_GRADIENT(space_to_depth, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("depth_to_space", {a.ograds[0]}, given(a))};
});
MX_REGISTER_GRADIENT(diag, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_diag", {a.ograds[0], a.inputs[0]}, given(a))};
});

// ------------------------------------------------------------------ indexing and slicing
MX_REGISTER_GRADIENT(gather_nd, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_gather_nd", {a.ograds[0], a.inputs[1], a.inputs[0]}), V{}};
});
// With duplicate indices the last write wins in the forward; the gradient reads every position.
MX_REGISTER_GRADIENT(scatter_nd, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("gather_nd", {a.ograds[0], a.inputs[1]}), V{}};
});
MX_REGISTER_GRADIENT(_scatter_set_nd, [](GradBuilder& b, const GradArgs& a) {
  V og = a.ograds[0], idx = a.inputs[2];
  V glhs = b.call1("_scatter_set_nd", {og, b.call1("zeros_like", {a.inputs[1]}), idx}, given(a));
  return Vs{glhs, b.call1("gather_nd", {og, idx}), V{}};
});
MX_REGISTER_GRADIENT(slice_like, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_slice_like", {a.ograds[0], a.inputs[0]}), V{}};
});
MX_REGISTER_GRADIENT(_slice_assign, [](GradBuilder& b, const GradArgs& a) {
  ParamList region = given(a);
  ParamList zero = region;
  zero.push_back({"scalar", "0"});
  return Vs{b.call1("_slice_assign_scalar", {a.ograds[0]}, zero), b.call1("slice", {a.ograds[0]}, region)};
});
MX_REGISTER_GRADIENT(_slice_assign_scalar, [](GradBuilder& b, const GradArgs& a) {
  ParamList zero = given_except(a, "scalar");
  zero.push_back({"scalar", "0"});
  return Vs{b.call1("_slice_assign_scalar", {a.ograds[0]}, zero)};
});

// ------------------------------------------------------------------ nanprod
// d/dx_i = prod / x_i over the non-NaN entries (which must be nonzero, as for prod); NaNs get 0.
MX_REGISTER_GRADIENT(nanprod, [](GradBuilder& b, const GradArgs& a) {
  V x = a.inputs[0];
  ParamList pl;
  for (const char* k : {"axis", "keepdims", "exclude"})
    for (const auto& kv : a.params.explicit_values())
      if (kv.first == k) pl.push_back(kv);
  V spread = b.call1("_reduce_grad_spread", {mul(b, a.ograds[0], a.outputs[0]), x}, pl);
  V ok = b.call1("_equal", {x, x});
  V safe = b.call1("where", {ok, x, b.call1("ones_like", {x})});
  return Vs{mul(b, div(b, spread, safe), ok)};
});

// ------------------------------------------------------------------ sort / topk
ParamList sort_params(const GradArgs& a) {
  ParamList pl;
  pl.push_back({"axis", a.params.is_none("axis") ? "None" : std::to_string(a.params.get_int("axis"))});
  pl.push_back({"is_ascend", a.params.get_bool("is_ascend") ? "True" : "False"});
  return pl;
}
ParamList axis_param(const GradArgs& a) {
  return {{"axis", a.params.is_none("axis") ? "None" : std::to_string(a.params.get_int("axis"))}};
}

MX_REGISTER_GRADIENT(sort, [](GradBuilder& b, const GradArgs& a) {
  ParamList pl = sort_params(a);
  pl.push_back({"dtype", "int64"});
  V idx = b.call1("argsort", {a.inputs[0]}, pl);
  return Vs{b.call1("_backward_topk", {a.ograds[0], idx, a.inputs[0]}, axis_param(a))};
});
MX_REGISTER_GRADIENT(topk, [](GradBuilder& b, const GradArgs& a) {
  const std::string& rt = a.params.get_string("ret_typ");
  if (rt != "value" && rt != "both") return Vs{V{}};  // indices and masks: no gradient
  V idx;
  if (rt == "both") {
    idx = a.outputs[1];
  } else {
    ParamList pl = sort_params(a);
    pl.push_back({"k", std::to_string(a.params.get_int("k"))});
    pl.push_back({"ret_typ", "indices"});
    pl.push_back({"dtype", "int64"});
    idx = b.call1("topk", {a.inputs[0]}, pl);
  }
  return Vs{b.call1("_backward_topk", {a.ograds[0], idx, a.inputs[0]}, axis_param(a))};
});

// SoftmaxOutput: MXNet's gradient, (softmax - onehot(label)) scaled, is computed by the op
// _backward_SoftmaxOutput (misc_grad2.cc). It is not the derivative of SoftmaxOutput's output (MXNet's
// loss-layer rule), so the finite-difference harness exempts it (test_grad.py NOT_DERIVATIVES); it is
// checked against numpy in test_misc_grad.py. The label gets no gradient.
MX_REGISTER_GRADIENT(SoftmaxOutput, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_SoftmaxOutput", {a.ograds[0], a.outputs[0], a.inputs[1]}, given(a)), V{}};
});

}  // namespace
}  // namespace mx
