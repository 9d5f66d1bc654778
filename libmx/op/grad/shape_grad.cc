// Gradients of the shape ops used by views and layers: reshapes give the gradient back its
// input's shape, transpose inverts its permutation, slice_axis pads the gradient with zeros.
#include <cstring>
#include <string>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

using Vs = std::vector<GradValue>;

Vs reshape_back(GradBuilder& b, const GradArgs& a) { return Vs{b.call1("reshape_like", {a.ograds[0], a.inputs[0]})}; }

MX_REGISTER_GRADIENT(Reshape, reshape_back);
MX_REGISTER_GRADIENT(Flatten, reshape_back);
MX_REGISTER_GRADIENT(expand_dims, reshape_back);
MX_REGISTER_GRADIENT(squeeze, reshape_back);
MX_REGISTER_GRADIENT(reshape_like, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("reshape_like", {a.ograds[0], a.inputs[0]}), GradValue{}};
});

MX_REGISTER_GRADIENT(transpose, [](GradBuilder& b, const GradArgs& a) {
  const Shape& axes = a.params.get_shape("axes");
  if (axes.ndim() == 0) return Vs{b.call1("transpose", {a.ograds[0]})};  // reversal is its own inverse
  Shape inv = Shape::filled(axes.ndim(), 0);
  for (int i = 0; i < axes.ndim(); ++i) inv[static_cast<int>(axes[i] < 0 ? axes[i] + axes.ndim() : axes[i])] = i;
  return Vs{b.call1("transpose", {a.ograds[0]}, {{"axes", tuple_param(inv)}})};
});

// Range [begin, end) of slice_axis along `axis` of a dim of size n (None end = n; negatives wrap).
void slice_range(const Params& p, int64_t n, int64_t* b, int64_t* e) {
  int64_t begin = p.get_int("begin");
  int64_t end = p.is_none("end") ? n : p.get_int("end");
  if (begin < 0) begin += n;
  if (end < 0) end += n;
  *b = begin;
  *e = end;
}

MX_REGISTER_OP(_slice_axis_grad)
    .describe("The gradient of slice_axis: `ograd` placed at [begin, end) along `axis` of zeros shaped like `data`.")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_int("axis", OpDef::kRequired, "The sliced axis.")
    .param_int("begin", OpDef::kRequired, "Start of the slice.")
    .param_int("end", "None", "End of the slice (None: the end of the axis).")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[0];
      const Shape& d = (*in)[1];
      if (!g.known() || !d.known()) return;
      int ax = normalize_axis(static_cast<int>(p.get_int("axis")), d.ndim());
      int64_t b, e;
      slice_range(p, d[ax], &b, &e);
      Shape expect = d;
      expect[ax] = e - b;
      MX_CHECK(b >= 0 && e <= d[ax] && b <= e && g == expect, kShape, "_slice_axis_grad: gradient of shape ", g.str(),
               " does not fit slice [", b, ", ", e, ") of axis ", ax, " of ", d.str());
      (*out)[0] = d;
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& g = in[0];
      const TBlob& o = out[0];
      const int ax = normalize_axis(static_cast<int>(p.get_int("axis")), o.ndim());
      int64_t b, e;
      slice_range(p, o.shape[ax], &b, &e);
      const size_t es = dtype_size(o.dtype);
      std::memset(o.data, 0, o.nbytes());
      const int64_t outer = o.shape.prod(0, ax), inner = o.shape.prod(ax + 1, o.ndim());
      const int64_t n = o.shape[ax], len = e - b;
      for (int64_t i = 0; i < outer; ++i)
        std::memcpy(static_cast<char*>(o.data) + static_cast<size_t>((i * n + b) * inner) * es,
                    static_cast<const char*>(g.data) + static_cast<size_t>(i * len * inner) * es,
                    static_cast<size_t>(len * inner) * es);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      ParamList pl{{"axis", std::to_string(a.params.get_int("axis"))}, {"begin", std::to_string(a.params.get_int("begin"))}};
      pl.push_back({"end", a.params.is_none("end") ? "None" : std::to_string(a.params.get_int("end"))});
      return Vs{b.call1("slice_axis", {a.ograds[0]}, pl), GradValue{}};
    });

MX_REGISTER_GRADIENT(slice_axis, [](GradBuilder& b, const GradArgs& a) {
  ParamList pl{{"axis", std::to_string(a.params.get_int("axis"))}, {"begin", std::to_string(a.params.get_int("begin"))}};
  pl.push_back({"end", a.params.is_none("end") ? "None" : std::to_string(a.params.get_int("end"))});
  return Vs{b.call1("_slice_axis_grad", {a.ograds[0], a.inputs[0]}, pl)};
});

}  // namespace
}  // namespace mx
