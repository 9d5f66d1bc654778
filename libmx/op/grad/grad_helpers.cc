// Ops that gradients are built from: sum a broadcast result back to an input's shape, and spread
// a reduction's gradient back over the reduced axes. Each has its own gradient, so gradients of
// gradients work.
#include <algorithm>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

// Strides (in elements) of `small` aligned to `big`'s ndim on the right; 0 along broadcast axes.
void aligned_strides(const Shape& big, const Shape& small, int64_t* st) {
  const int nd = big.ndim(), off = big.ndim() - small.ndim();
  int64_t s = 1;
  for (int i = nd - 1; i >= 0; --i) {
    int64_t d = i < off ? 1 : small[i - off];
    st[i] = d == 1 ? 0 : s;
    s *= d;
  }
}

// `big` as rows of its (merged) last axis: adjacent axes merge when both broadcast or both are
// contiguous in `small`, so the inner loop runs over a long stretch with a stride of 0 or 1 in small.
struct RowPlan {
  int nd = 0;                      // merged outer axes
  int64_t size[Shape::kMaxDim];    // their sizes
  int64_t stride[Shape::kMaxDim];  // their strides in small
  int64_t inner = 1, inner_stride = 0;
  int64_t rows = 1;
  int64_t offset(int64_t r) const {  // small's offset of row r
    int64_t o = 0;
    for (int d = nd - 1; d >= 0; --d) {
      o += (r % size[d]) * stride[d];
      r /= size[d];
    }
    return o;
  }
};

RowPlan row_plan(const Shape& big, const Shape& small) {
  int64_t st[Shape::kMaxDim];
  aligned_strides(big, small, st);
  int64_t sz[Shape::kMaxDim], ss[Shape::kMaxDim];
  int n = 0;
  for (int i = 0; i < big.ndim(); ++i) {
    if (big[i] == 1) continue;  // contributes nothing
    if (n > 0 && ((ss[n - 1] == 0 && st[i] == 0) || (ss[n - 1] != 0 && st[i] != 0 && ss[n - 1] == st[i] * big[i]))) {
      sz[n - 1] *= big[i];
      ss[n - 1] = st[i];
    } else {
      sz[n] = big[i];
      ss[n] = st[i];
      ++n;
    }
  }
  RowPlan p;
  if (n == 0) return p;  // a single element
  p.inner = sz[n - 1];
  p.inner_stride = ss[n - 1];
  p.nd = n - 1;
  for (int d = 0; d < p.nd; ++d) {
    p.size[d] = sz[d];
    p.stride[d] = ss[d];
    p.rows *= sz[d];
  }
  return p;
}

// out (shape `small`) = sum of `in` (shape `big`) over the axes where small broadcasts.
template <typename T>
void sum_to(const T* in, const Shape& big, T* out, const Shape& small) {
  using A = typename AccType<T>::type;
  const RowPlan p = row_plan(big, small);
  const int64_t n_out = small.size();
  std::vector<double> acc(static_cast<size_t>(n_out), 0.0);
  for (int64_t r = 0; r < p.rows; ++r) {
    const int64_t o = p.offset(r);
    const T* x = in + r * p.inner;
    if (p.inner_stride == 0) {
      double s = 0.0;
      for (int64_t j = 0; j < p.inner; ++j) s += static_cast<double>(static_cast<A>(x[j]));
      acc[o] += s;
    } else {
      double* a = acc.data() + o;
      for (int64_t j = 0; j < p.inner; ++j) a[j] += static_cast<double>(static_cast<A>(x[j]));
    }
  }
  for (int64_t i = 0; i < n_out; ++i) out[i] = T(static_cast<A>(acc[i]));
}

// out (shape `big`) = in (shape `small`) broadcast, times scale.
template <typename T>
void spread(const T* in, const Shape& small, T* out, const Shape& big, double scale) {
  using A = typename AccType<T>::type;
  const RowPlan p = row_plan(big, small);
  const A k = static_cast<A>(scale);
  parallel_range(p.rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = p.offset(r);
      T* y = out + r * p.inner;
      if (p.inner_stride == 0) {
        const T v = T(static_cast<A>(in[o]) * k);
        for (int64_t j = 0; j < p.inner; ++j) y[j] = v;
      } else {
        const T* x = in + o;
        for (int64_t j = 0; j < p.inner; ++j) y[j] = T(static_cast<A>(x[j]) * k);
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(p.inner, 1)));
}

// The keepdims shape of reducing `data` by (axis, exclude); also the element count reduced.
Shape keepdims_shape(const Params& p, const Shape& data, int64_t* count) {
  const int nd = data.ndim();
  std::vector<bool> red(nd, false);
  if (p.is_none("axis") || p.get_shape("axis").ndim() == 0) {
    for (int i = 0; i < nd; ++i) red[i] = true;
  } else {
    for (int64_t a : p.get_shape("axis")) red[normalize_axis(static_cast<int>(a), nd)] = true;
  }
  if (p.get_bool("exclude"))
    for (int i = 0; i < nd; ++i) red[i] = !red[i];
  Shape s = data;
  *count = 1;
  for (int i = 0; i < nd; ++i)
    if (red[i]) {
      *count *= data[i];
      s[i] = 1;
    }
  return s;
}

MX_REGISTER_OP(_reduce_sum_to)
    .describe("Sums `data` over the axes along which `like` broadcasts to it; the result has `like`'s shape "
              "(the gradient of a broadcasting op with respect to a broadcast input).")
    .category("grad")
    .input("data")
    .input("like")
    .float_dtypes()
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& d = (*in)[0];
      const Shape& l = (*in)[1];
      if (!d.known() || !l.known()) return;
      MX_CHECK(l.ndim() <= d.ndim(), kShape, "_reduce_sum_to: ", l.str(), " has more dimensions than ", d.str());
      for (int i = 0; i < l.ndim(); ++i) {
        int64_t dd = d[i + d.ndim() - l.ndim()];
        MX_CHECK(l[i] == dd || l[i] == 1, kShape, "_reduce_sum_to: ", l.str(), " does not broadcast to ", d.str());
      }
      (*out)[0] = l;
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .cpu([](const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      MX_FLOAT_DTYPE_SWITCH(in[0].dtype, T, { sum_to(in[0].ptr<T>(), in[0].shape, out[0].ptr<T>(), out[0].shape); });
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return std::vector<GradValue>{b.call1("broadcast_like", {a.ograds[0], a.inputs[0]}), GradValue{}};
    });

MX_REGISTER_OP(_reduce_grad_spread)
    .describe("Spreads the gradient of a reduction (sum, or mean with mean=True) back over `data`'s shape.")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_shape("axis", "None", "The reduction's axis.")
    .param_bool("keepdims", "False", "The reduction's keepdims (either way ograd is read as keepdims).")
    .param_bool("exclude", "False", "The reduction's exclude.")
    .param_bool("mean", "False", "Divide by the number of reduced elements.")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& d = (*in)[1];
      if (!d.known() || !(*in)[0].known()) return;
      int64_t count;
      Shape k = keepdims_shape(p, d, &count);
      MX_CHECK((*in)[0].size() == k.size(), kShape, "_reduce_grad_spread: gradient of shape ", (*in)[0].str(),
               " does not match the reduced shape ", k.str());
      (*out)[0] = d;
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      int64_t count;
      Shape k = keepdims_shape(p, in[1].shape, &count);
      double scale = p.get_bool("mean") ? (count ? 1.0 / static_cast<double>(count) : 0.0) : 1.0;
      MX_FLOAT_DTYPE_SWITCH(in[0].dtype, T, { spread(in[0].ptr<T>(), k, out[0].ptr<T>(), out[0].shape, scale); });
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      // d/d(ograd) of the spread is the reduction itself, shaped like ograd.
      const char* red = a.params.get_bool("mean") ? "mean" : "sum";
      ParamList pl{{"keepdims", "True"}, {"exclude", a.params.get_bool("exclude") ? "True" : "False"}};
      if (!a.params.is_none("axis")) pl.push_back({"axis", tuple_param(a.params.get_shape("axis"))});
      GradValue r = b.call1(red, {a.ograds[0]}, pl);
      return std::vector<GradValue>{b.call1("reshape_like", {r, a.inputs[0]}), GradValue{}};
    });

}  // namespace
}  // namespace mx
