// Dropout (forward).
//
// Active in training mode (OpContext::is_train) or always with mode='always'; otherwise the output
// is a copy of the input. When active, each element of a mask is kept with probability 1 - p and
// kept elements are scaled by 1 / (1 - p). With `axes`, the mask has size 1 along those axes and
// is shared (broadcast) along them, as in variational dropout.
//
// Mask element i draws u in [0, 1) from word i % 4 of philox4x32(i / 4, stream, seed) (24 random
// bits) and is kept when u < 1 - p, so the result depends only on mx.random.seed and call order.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/random.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

constexpr double k2Pow24Inv = 1.0 / 16777216.0;

double drop_p(const Params& p) {
  const double v = p.get_float("p");
  MX_CHECK(v >= 0.0 && v <= 1.0, kInvalidArgument, "Dropout: p must be in [0, 1], got ", v);
  return v;
}

// The mask shape: data's shape with the listed axes set to 1.
Shape mask_shape(const Params& p, const Shape& d) {
  Shape m = d;
  const Shape& axes = p.get_shape("axes");
  for (int k = 0; k < axes.ndim(); ++k) {
    const int64_t a = axes[k];
    MX_CHECK(a != kNoneDim && a >= -d.ndim() && a < d.ndim(), kInvalidArgument, "Dropout: axis ",
             a == kNoneDim ? std::string("None") : std::to_string(a), " in axes ", axes.str(),
             " is out of range for data of shape ", d.str());
    m[static_cast<int>(a < 0 ? a + d.ndim() : a)] = 1;
  }
  return m;
}

void dropout_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  drop_p(p);
  mask_shape(p, d);
  (*out)[0] = d;
}

template <typename DT>
void dropout_kernel(const OpContext& ctx, const TBlob& x, const TBlob& y, const Shape& ms, double p) {
  using A = typename AccType<DT>::type;
  const int64_t n = x.size(), nm = ms.size();
  const DT* xp = x.ptr<DT>();
  DT* yp = y.ptr<DT>();
  const double keep = 1.0 - p;
  const A scale = keep > 0.0 ? static_cast<A>(1.0 / keep) : A(0);
  auto draw = [&](int64_t i, int64_t b, Philox4x32* r) {
    if (i == b || (i & 3) == 0) *r = philox4x32(static_cast<uint64_t>(i) >> 2, ctx.rng_stream, ctx.rng_seed);
    return static_cast<double>(r->v[i & 3] >> 8) * k2Pow24Inv < keep;
  };
  if (nm == n) {  // one mask value per element: no mask buffer
    parallel_range(n, [&](int64_t b, int64_t e) {
      Philox4x32 r{};
      for (int64_t i = b; i < e; ++i) yp[i] = draw(i, b, &r) ? static_cast<DT>(static_cast<A>(xp[i]) * scale) : DT(A(0));
    });
    return;
  }
  // Mask values: 0 or scale.
  std::vector<A> mask(static_cast<size_t>(nm));
  parallel_range(nm, [&](int64_t b, int64_t e) {
    Philox4x32 r{};
    for (int64_t i = b; i < e; ++i) mask[i] = draw(i, b, &r) ? scale : A(0);
  });
  // Broadcast: mask strides are 0 along the shared axes.
  const Shape& d = x.shape;
  const int nd = d.ndim();
  std::vector<int64_t> mstride(static_cast<size_t>(nd), 0);
  int64_t s = 1;
  for (int k = nd - 1; k >= 0; --k) {
    mstride[k] = ms[k] == 1 ? 0 : s;
    s *= ms[k];
  }
  const int64_t last = nd > 0 ? d[nd - 1] : 1;
  const int64_t rows = last > 0 ? n / last : 0;
  parallel_range(rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t rem = r, moff = 0;
      for (int k = nd - 2; k >= 0; --k) {
        moff += (rem % d[k]) * mstride[k];
        rem /= d[k];
      }
      const DT* xr = xp + r * last;
      DT* yr = yp + r * last;
      const int64_t ls = nd > 0 ? mstride[nd - 1] : 0;
      for (int64_t j = 0; j < last; ++j) yr[j] = static_cast<DT>(static_cast<A>(xr[j]) * mask[moff + j * ls]);
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, last)));
}

void dropout_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const double prob = drop_p(p);
  const TBlob& x = in[0];
  const bool active = ctx.is_train || p.get_string("mode") == "always";
  if (!active || prob == 0.0) {
    if (out[0].data != x.data) std::memcpy(out[0].data, x.data, x.nbytes());
    return;
  }
  const Shape ms = mask_shape(p, x.shape);
  MX_FLOAT_DTYPE_SWITCH(x.dtype, DT, { dropout_kernel<DT>(ctx, x, out[0], ms, prob); });
}

// The gradient of Dropout: the same mask applied to the output gradient. The counter-based
// generator replays the forward call's draws from its (seed, stream), so no mask is stored.
void dropout_backward_cpu(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in,
                          const std::vector<TBlob>& out) {
  const double prob = drop_p(p);
  const TBlob& g = in[0];
  if (!p.get_bool("active") || prob == 0.0) {
    if (out[0].data != g.data) std::memcpy(out[0].data, g.data, g.nbytes());
    return;
  }
  OpContext replay = ctx;
  replay.rng_seed = std::strtoull(p.get_string("rng_seed").c_str(), nullptr, 10);
  replay.rng_stream = std::strtoull(p.get_string("rng_stream").c_str(), nullptr, 10);
  const Shape ms = mask_shape(p, g.shape);
  MX_FLOAT_DTYPE_SWITCH(g.dtype, DT, { dropout_kernel<DT>(replay, g, out[0], ms, prob); });
}

ParamList backward_params(const GradArgs& a) {
  const Params& p = a.params;
  const bool active = a.is_train || p.get_string("mode") == "always";
  // p exactly as the forward read it: the replayed mask compares draws against 1 - p.
  return {{"p", float_param(p.get_float("p"))}, {"axes", tuple_param(p.get_shape("axes"))},
          {"active", active ? "True" : "False"},
          {"rng_seed", std::to_string(a.rng_seed)}, {"rng_stream", std::to_string(a.rng_stream)}};
}

}  // namespace

MX_REGISTER_OP(_backward_Dropout)
    .describe("The gradient of Dropout: ograd times the forward call's mask (replayed from its random stream).")
    .category("grad")
    .input("ograd")
    .param_float("p", "0.5", "The forward's p.")
    .param_shape("axes", "()", "The forward's axes.")
    .param_bool("active", "True", "Whether the forward dropped (training mode or mode='always').")
    .param_string("rng_seed", "0", "The forward call's seed.")
    .param_string("rng_stream", "0", "The forward call's random stream.")
    .infer_shape(dropout_shape)
    .float_dtypes()
    .inplace({{0, 0}})
    .cpu(dropout_backward_cpu)
    .gradient([](GradBuilder& b, const GradArgs& a) {  // linear in ograd: the same mask again
      ParamList pl;
      for (const char* k : {"p", "axes", "active", "rng_seed", "rng_stream"}) {
        std::string v = a.params.get_string(k);
        pl.push_back({k, v});
      }
      return std::vector<GradValue>{b.call1("_backward_Dropout", {a.ograds[0]}, pl)};
    });

MX_REGISTER_OP(Dropout)
    .describe("Applies dropout: in training mode (or always with mode='always') each element is zeroed "
              "with probability p and the others are scaled by 1/(1-p); `axes` shares one mask value "
              "along the listed axes. Identity in predict mode.")
    .category("nn")
    .input("data")
    .param_float("p", "0.5", "Fraction of the input that gets dropped out during training time.")
    .param_enum("mode", {"always", "training"}, "training",
                "Whether to only turn on dropout during training or to also turn on for inference.")
    .param_shape("axes", "()", "Axes for variational dropout kernel.")
    .param_bool("cudnn_off", "False", "Whether to turn off cudnn in dropout operator. This option is ignored "
                                      "if axes is specified.")
    .optional()
    .infer_shape(dropout_shape)
    .float_dtypes()
    .inplace({{0, 0}})
    .needs_rng()
    .cpu(dropout_cpu)
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return std::vector<GradValue>{b.call1("_backward_Dropout", {a.ograds[0]}, backward_params(a))};
    });

}  // namespace mx
