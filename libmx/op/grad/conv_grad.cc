// Gradients of the spatial nn ops: Convolution, Deconvolution, Pooling and UpSampling (nearest).
//
// Convolution and Deconvolution are the same linear map seen from two sides: an "image" side (the
// convolution's data, the deconvolution's output) and a "column" side (the convolution's output,
// the deconvolution's data), with weight (column channels, image channels / group, kernel...).
// Three kernels over that view -- image -> columns (im2col + GEMM), columns -> image (GEMM + col2im)
// and the weight gradient (im2col + GEMM, summed over samples) -- give all four data/weight
// gradients as dedicated backward ops; bias gradients are sums of the output gradient.
// Pooling's gradient is the dedicated _backward_Pooling; UpSampling's gradient sums each
// scale x scale block (Pooling with pool_type=sum) for a single input, and uses
// _backward_UpSampling for several inputs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/cpu/blas.h"
#ifdef MX_USE_DNNL
#include "kernels/cpu/dnnl/dnnl_ops.h"
#endif
#include "op/kernel_util.h"
#include "op/nn/im2col.h"
#include "op/nn/pool_geom.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

using V = GradValue;
using Vs = std::vector<GradValue>;

// ------------------------------------------------------------------ convolution geometry
struct ConvView {
  SpatialGeom g;          // in: image spatial size, out: column spatial size
  int64_t N = 0;
  int64_t Ci = 0;         // image-side channels
  int64_t Fc = 0;         // column-side channels
  int64_t G = 1;
};

int read_window(const char* op, const Params& p, int data_ndim, SpatialGeom* g) {
  const Shape& k = p.get_shape("kernel");
  const int nd = k.ndim();
  MX_CHECK(nd >= 1 && nd <= 3, kInvalidArgument, op, ": kernel=", k.str(), " must have 1, 2 or 3 entries");
  g->nd = nd;
  spatial_param(op, p, "kernel", nd, 1, 1, g->k);
  spatial_param(op, p, "stride", nd, 1, 1, g->s);
  spatial_param(op, p, "dilate", nd, 1, 1, g->d);
  spatial_param(op, p, "pad", nd, 0, 0, g->p);
  check_layout(op, p, data_ndim);
  MX_CHECK(data_ndim == nd + 2, kShape, op, ": a ", nd, "-d kernel needs ", nd + 2, "-d data, got ", data_ndim, "-d");
  return nd;
}

// Convolution: data (N, C, in...) is the image side.
ConvView conv_view(const char* op, const Params& p, const Shape& data) {
  ConvView v;
  SpatialGeom& g = v.g;
  const int nd = read_window(op, p, data.ndim(), &g);
  v.N = data[0];
  v.Ci = data[1];
  v.Fc = p.get_int("num_filter");
  v.G = p.get_int("num_group");
  MX_CHECK(v.G >= 1 && v.Fc >= 1 && v.Ci % v.G == 0 && v.Fc % v.G == 0, kShape, op, ": channels ", v.Ci,
           " / num_filter ", v.Fc, " not divisible by num_group ", v.G);
  for (int i = 3 - nd; i < 3; ++i) {
    g.in[i] = data[i - 3 + data.ndim()];
    const int64_t padded = g.in[i] + 2 * g.p[i];
    MX_CHECK(padded >= g.dilated(i), kShape, op, ": the dilated kernel exceeds the padded input ", data.str());
    g.out[i] = (padded - g.dilated(i)) / g.s[i] + 1;
  }
  return v;
}

// Deconvolution: data (N, C, x...) is the column side; its output the image side.
ConvView deconv_view(const char* op, const Params& p, const Shape& data) {
  ConvView v;
  SpatialGeom& g = v.g;
  const int nd = read_window(op, p, data.ndim(), &g);
  v.N = data[0];
  v.Fc = data[1];
  v.Ci = p.get_int("num_filter");
  v.G = p.get_int("num_group");
  MX_CHECK(v.G >= 1 && v.Ci >= 1 && v.Ci % v.G == 0 && v.Fc % v.G == 0, kShape, op, ": channels ", v.Fc,
           " / num_filter ", v.Ci, " not divisible by num_group ", v.G);
  int64_t adj[3] = {0, 0, 0}, target[3] = {0, 0, 0};
  spatial_param(op, p, "adj", nd, 0, 0, adj);
  spatial_param(op, p, "target_shape", nd, 0, 0, target);
  const bool use_target = target[0] || target[1] || target[2];
  for (int i = 3 - nd; i < 3; ++i) {
    g.out[i] = data[i - 3 + data.ndim()];
    const int64_t full = g.s[i] * (g.out[i] - 1) + g.dilated(i);
    if (use_target) {
      MX_CHECK(full >= target[i], kShape, op, ": target_shape too big for data ", data.str());
      const int64_t total = full - target[i];
      g.p[i] = (total + 1) / 2;
      adj[i] = total % 2;
    }
    g.in[i] = full - 2 * g.p[i] + adj[i];
    MX_CHECK(g.in[i] >= 1, kShape, op, ": empty output for data ", data.str());
  }
  return v;
}

Shape image_shape(const ConvView& v) {
  Shape s{v.N, v.Ci};
  for (int i = 3 - v.g.nd; i < 3; ++i) s.push_back(v.g.in[i]);
  return s;
}
Shape col_shape(const ConvView& v) {
  Shape s{v.N, v.Fc};
  for (int i = 3 - v.g.nd; i < 3; ++i) s.push_back(v.g.out[i]);
  return s;
}
Shape weight_shape(const ConvView& v) {
  Shape s{v.Fc, v.Ci / v.G};
  for (int i = 3 - v.g.nd; i < 3; ++i) s.push_back(v.g.k[i]);
  return s;
}

// Image (N, Ci, I) -> columns (N, Fc, L): y = W * im2col(x) per group.
template <typename T>
void to_cols(const ConvView& v, const T* x, const T* w, T* y) {
  const SpatialGeom& g = v.g;
  const int64_t K = g.ksize(), L = g.out_size(), I = g.in_size(), CgK = v.Ci / v.G * K, Fg = v.Fc / v.G;
  std::vector<T> col(static_cast<size_t>(v.Ci * K * L));
  for (int64_t n = 0; n < v.N; ++n) {
    parallel_range(v.Ci, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) im2col(x + (n * v.Ci + c) * I, 1, g, col.data() + c * K * L);
    }, 1);
    for (int64_t gi = 0; gi < v.G; ++gi)
      gemm(false, false, Fg, L, CgK, T(1), w + gi * Fg * CgK, CgK, col.data() + gi * CgK * L, L, T(0),
           y + (n * v.Fc + gi * Fg) * L, L);
  }
}

// Columns (N, Fc, L) -> image (N, Ci, I): col2im(W^T * y) per group (the adjoint of to_cols).
template <typename T>
void to_image(const ConvView& v, const T* y, const T* w, T* x) {
  const SpatialGeom& g = v.g;
  const int64_t K = g.ksize(), L = g.out_size(), I = g.in_size(), CgK = v.Ci / v.G * K, Fg = v.Fc / v.G;
  std::fill(x, x + v.N * v.Ci * I, T(0));
  std::vector<T> col(static_cast<size_t>(v.Ci * K * L));
  for (int64_t n = 0; n < v.N; ++n) {
    for (int64_t gi = 0; gi < v.G; ++gi)
      gemm(true, false, CgK, L, Fg, T(1), w + gi * Fg * CgK, CgK, y + (n * v.Fc + gi * Fg) * L, L, T(0),
           col.data() + gi * CgK * L, L);
    parallel_range(v.Ci, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) col2im(col.data() + c * K * L, 1, g, x + (n * v.Ci + c) * I);
    }, 1);
  }
}

// Weight gradient: dW_g = sum_n y_g * im2col(x)_g^T, y the column side, x the image side.
template <typename T>
void weight_grad(const ConvView& v, const T* y, const T* x, T* dw) {
  const SpatialGeom& g = v.g;
  const int64_t K = g.ksize(), L = g.out_size(), I = g.in_size(), CgK = v.Ci / v.G * K, Fg = v.Fc / v.G;
  std::fill(dw, dw + v.Fc * CgK, T(0));
  std::vector<T> col(static_cast<size_t>(v.Ci * K * L));
  for (int64_t n = 0; n < v.N; ++n) {
    parallel_range(v.Ci, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) im2col(x + (n * v.Ci + c) * I, 1, g, col.data() + c * K * L);
    }, 1);
    for (int64_t gi = 0; gi < v.G; ++gi)
      gemm(false, true, Fg, CgK, L, T(1), y + (n * v.Fc + gi * Fg) * L, L, col.data() + gi * CgK * L, L, T(1),
           dw + gi * Fg * CgK, CgK);
  }
}

enum class Kind { kToCols, kToImage, kWeight };

// Runs kind on (a, b) -> out in float32/float64; float16/bfloat16 go through float32 copies.
void run_kernel(Kind kind, const ConvView& v, const TBlob& a, const TBlob& b, const TBlob& out) {
  auto go = [&](auto* tag, const void* pa, const void* pb, void* po) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* x = static_cast<const T*>(pa);
    const T* y = static_cast<const T*>(pb);
    T* o = static_cast<T*>(po);
    if (kind == Kind::kToCols) to_cols<T>(v, x, y, o);
    else if (kind == Kind::kToImage) to_image<T>(v, x, y, o);
    else weight_grad<T>(v, x, y, o);
  };
  const DType t = a.dtype;
  if (t == DType::kFloat32) return go(static_cast<float*>(nullptr), a.data, b.data, out.data);
  if (t == DType::kFloat64) return go(static_cast<double*>(nullptr), a.data, b.data, out.data);
  MX_CHECK(t == DType::kFloat16 || t == DType::kBFloat16, kDType, "convolution gradient: expected a floating dtype, got ",
           dtype_name(t));
  auto to_float = [](const TBlob& src, std::vector<float>* buf) {
    buf->resize(static_cast<size_t>(src.size()));
    TBlob dst = src;
    dst.dtype = DType::kFloat32;
    dst.data = buf->data();
    cast_copy(src, dst);
  };
  std::vector<float> fa, fb, fo(static_cast<size_t>(out.size()));
  to_float(a, &fa);
  to_float(b, &fb);
  go(static_cast<float*>(nullptr), fa.data(), fb.data(), fo.data());
  TBlob src = out;
  src.dtype = DType::kFloat32;
  src.data = fo.data();
  cast_copy(src, out);
}

const char* kHint = "As the forward op (ignored).";

OpDef& conv_params(OpDef& d, bool deconv) {
  d.input("ograd").input("data").input("weight").category("grad")
      .param_shape("kernel", OpDef::kRequired, "The forward op's kernel.")
      .param_shape("stride", "()", "The forward op's stride.")
      .param_shape("dilate", "()", "The forward op's dilate.")
      .param_shape("pad", "()", "The forward op's pad.")
      .param_int("num_filter", OpDef::kRequired, "The forward op's num_filter.")
      .param_int("num_group", "1", "The forward op's num_group.")
      .param_int("workspace", deconv ? "512" : "1024", kHint)
      .param_bool("no_bias", deconv ? "True" : "False", kHint)
      .param_enum("cudnn_tune", {"fastest", "limited_workspace", "off"}, "None", kHint)
      .param_bool("cudnn_off", "False", kHint)
      .param_enum("layout", {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC"}, "None", "The forward op's layout.")
      .float_dtypes()
      .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; });
  if (deconv) {
    d.param_shape("adj", "()", "The forward op's adj.")
        .param_shape("target_shape", "()", "The forward op's target_shape.");
  }
  return d;
}

// Checks ograd and weight against the view built from data (deconv: data is the column side).
ConvView check_view(const char* op, const Params& p, const std::vector<Shape>& in, bool deconv) {
  ConvView v = deconv ? deconv_view(op, p, in[1]) : conv_view(op, p, in[1]);
  const Shape og = deconv ? image_shape(v) : col_shape(v);
  MX_CHECK(in[0] == og, kShape, op, ": ograd has shape ", in[0].str(), ", expected ", og.str(), " for data ",
           in[1].str());
  MX_CHECK(in[2] == weight_shape(v), kShape, op, ": weight has shape ", in[2].str(), ", expected ",
           weight_shape(v).str());
  return v;
}

InferShapeFn conv_grad_shape(const char* op, bool deconv, bool weight) {
  return [=](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
    for (const Shape& s : *in)
      if (!s.known()) return;
    check_view(op, p, *in, deconv);
    assign_shape(op, out, 0, (*in)[weight ? 2 : 1]);
  };
}

template <bool kDeconv, bool kWeight>
void conv_grad_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const char* op = kDeconv ? "_backward_Deconvolution" : "_backward_Convolution";
  ConvView v = kDeconv ? deconv_view(op, p, in[1].shape) : conv_view(op, p, in[1].shape);
  if (out[0].size() == 0) return;
#ifdef MX_USE_DNNL
  if (!kDeconv) {
    const dnnl::ConvShape cs{v.g, v.N, v.Ci, v.Fc, v.G};
    if (kWeight ? dnnl::try_conv_backward_weight(cs, in[0], in[1], out[0])
                : dnnl::try_conv_backward_data(cs, in[0], in[2], out[0]))
      return;
  }
#endif
  if (kWeight) {
    // column side first, image side second
    if (kDeconv) run_kernel(Kind::kWeight, v, in[1], in[0], out[0]);
    else run_kernel(Kind::kWeight, v, in[0], in[1], out[0]);
  } else if (kDeconv) {
    run_kernel(Kind::kToCols, v, in[0], in[2], out[0]);  // ograd is the image
  } else {
    run_kernel(Kind::kToImage, v, in[0], in[2], out[0]);  // ograd is the columns
  }
}

OpDef& reg_conv_data = conv_params(register_op("_backward_Convolution_data"), false)
    .describe("The gradient of Convolution with respect to data: ograd (N, num_filter, out...) mapped back through "
              "weight onto data's shape (a transposed convolution). Takes Convolution's parameters.")
    .infer_shape(conv_grad_shape("_backward_Convolution_data", false, false))
    .cpu(conv_grad_cpu<false, false>);
OpDef& reg_conv_weight = conv_params(register_op("_backward_Convolution_weight"), false)
    .describe("The gradient of Convolution with respect to weight: sum over samples of ograd times the im2col "
              "columns of data, shaped like weight. Takes Convolution's parameters.")
    .infer_shape(conv_grad_shape("_backward_Convolution_weight", false, true))
    .cpu(conv_grad_cpu<false, true>);
OpDef& reg_deconv_data = conv_params(register_op("_backward_Deconvolution_data"), true)
    .describe("The gradient of Deconvolution with respect to data: the convolution of ograd (N, num_filter, out...) "
              "with weight in the same geometry, shaped like data. Takes Deconvolution's parameters.")
    .infer_shape(conv_grad_shape("_backward_Deconvolution_data", true, false))
    .cpu(conv_grad_cpu<true, false>);
OpDef& reg_deconv_weight = conv_params(register_op("_backward_Deconvolution_weight"), true)
    .describe("The gradient of Deconvolution with respect to weight: sum over samples of data times the im2col "
              "columns of ograd, shaped like weight. Takes Deconvolution's parameters.")
    .infer_shape(conv_grad_shape("_backward_Deconvolution_weight", true, true))
    .cpu(conv_grad_cpu<true, true>);

// The forward op's parameters with no_bias=True (the backward ops' own gradients call the forward op
// without bias).
ParamList without_bias(const Params& p) {
  ParamList pl;
  for (const auto& kv : p.explicit_values())
    if (kv.first != "no_bias") pl.push_back(kv);
  pl.push_back({"no_bias", "True"});
  return pl;
}

// The backward ops are bilinear, so their gradients are the forward op and the other backward op:
// with F(x, w) the forward op and G = ograd, data_grad(G, x, w) = d<G, F(x, w)>/dx, hence
// <H, data_grad> = <G, F(H, w)>; likewise for weight_grad with F(x, H).
Vs data_grad_grad(GradBuilder& b, const GradArgs& a, const char* fwd, const char* wgrad) {
  V h = a.ograds[0], g = a.inputs[0], w = a.inputs[2];
  return Vs{b.call1(fwd, {h, w}, without_bias(a.params)), GradValue{},
            b.call1(wgrad, {g, h, w}, a.params.explicit_values())};
}
Vs weight_grad_grad(GradBuilder& b, const GradArgs& a, const char* fwd, const char* dgrad) {
  V h = a.ograds[0], g = a.inputs[0], x = a.inputs[1];
  return Vs{b.call1(fwd, {x, h}, without_bias(a.params)), b.call1(dgrad, {g, x, h}, a.params.explicit_values()),
            GradValue{}};
}

MX_REGISTER_GRADIENT(_backward_Convolution_data, [](GradBuilder& b, const GradArgs& a) {
  return data_grad_grad(b, a, "Convolution", "_backward_Convolution_weight");
});
MX_REGISTER_GRADIENT(_backward_Convolution_weight, [](GradBuilder& b, const GradArgs& a) {
  return weight_grad_grad(b, a, "Convolution", "_backward_Convolution_data");
});
MX_REGISTER_GRADIENT(_backward_Deconvolution_data, [](GradBuilder& b, const GradArgs& a) {
  return data_grad_grad(b, a, "Deconvolution", "_backward_Deconvolution_weight");
});
MX_REGISTER_GRADIENT(_backward_Deconvolution_weight, [](GradBuilder& b, const GradArgs& a) {
  return weight_grad_grad(b, a, "Deconvolution", "_backward_Deconvolution_data");
});

V bias_grad(GradBuilder& b, V og) { return b.call1("sum", {og}, {{"axis", "(1,)"}, {"exclude", "True"}}); }

MX_REGISTER_GRADIENT(Convolution, [](GradBuilder& b, const GradArgs& a) {
  const ParamList& pl = a.params.explicit_values();
  V og = a.ograds[0], x = a.inputs[0], w = a.inputs[1];
  Vs r{a.needs(0) ? b.call1("_backward_Convolution_data", {og, x, w}, pl) : V{},
       a.needs(1) ? b.call1("_backward_Convolution_weight", {og, x, w}, pl) : V{}};
  if (a.inputs.size() > 2) r.push_back(a.needs(2) ? bias_grad(b, og) : V{});
  return r;
});

MX_REGISTER_GRADIENT(Deconvolution, [](GradBuilder& b, const GradArgs& a) {
  const ParamList& pl = a.params.explicit_values();
  V og = a.ograds[0], x = a.inputs[0], w = a.inputs[1];
  Vs r{a.needs(0) ? b.call1("_backward_Deconvolution_data", {og, x, w}, pl) : V{},
       a.needs(1) ? b.call1("_backward_Deconvolution_weight", {og, x, w}, pl) : V{}};
  if (a.inputs.size() > 2) r.push_back(a.needs(2) ? bias_grad(b, og) : V{});
  return r;
});

// ------------------------------------------------------------------ Pooling
// dx for each plane: every window sends its output gradient back to the elements it read.
template <typename T>
void pool_backward(const PoolSetup& ps, const T* gy, const T* x, const T* y, T* gx) {
  using A = typename AccType<T>::type;
  const SpatialGeom& g = ps.g;
  const int64_t I = g.in_size(), O = g.out_size(), HW = g.in[1] * g.in[2];
  const A pv = static_cast<A>(ps.p_value);
  // The windows along each dim, once (the same for every plane).
  std::vector<Span> spans[3];
  for (int i = 0; i < 3; ++i)
    for (int64_t o = 0; o < g.out[i]; ++o) spans[i].push_back(span(g, i, o));
  if (ps.type == PoolType::kMax && g.out[0] == 1 && g.in[0] == 1) {
    // 2-d max pooling (the common case): each window's first maximum receives the gradient.
    parallel_range(ps.planes, [&](int64_t lo, int64_t hi) {
      std::vector<A> acc(static_cast<size_t>(I));
      for (int64_t pl = lo; pl < hi; ++pl) {
        std::fill(acc.begin(), acc.end(), A(0));
        const T* xp = x + pl * I;
        const T* gp = gy + pl * O;
        const int64_t W = g.in[2];
        int64_t oi = 0;
        for (const Span& sh : spans[1])
          for (const Span& sw : spans[2]) {
            // Branch-free running maximum (which element wins is data-dependent: a branch on it
            // mispredicts half the time); the first maximum wins, as in the forward.
            if (sh.lo >= sh.hi || sw.lo >= sw.hi) {
              ++oi;
              continue;
            }
            int64_t arg = sh.lo * W + sw.lo;
            A best = static_cast<A>(xp[arg]);
            for (int64_t ih = sh.lo; ih < sh.hi; ++ih) {
              const T* row = xp + ih * W;
              for (int64_t iw = sw.lo; iw < sw.hi; ++iw) {
                const A v = static_cast<A>(row[iw]);
                const bool take = v > best;
                best = take ? v : best;
                arg = take ? ih * W + iw : arg;
              }
            }
            if (arg >= 0) acc[static_cast<size_t>(arg)] += static_cast<A>(gp[oi]);
            ++oi;
          }
        T* gxp = gx + pl * I;
        for (int64_t j = 0; j < I; ++j) gxp[j] = static_cast<T>(acc[static_cast<size_t>(j)]);
      }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(O * g.ksize(), 1)));
    return;
  }
  parallel_range(ps.planes, [&](int64_t lo, int64_t hi) {
    std::vector<A> acc(static_cast<size_t>(I));
    for (int64_t pl = lo; pl < hi; ++pl) {
      std::fill(acc.begin(), acc.end(), A(0));
      const T* xp = x + pl * I;
      const T* gp = gy + pl * O;
      const T* yp = y + pl * O;
      int64_t oi = 0;
      for (const Span& sd : spans[0]) {
        for (const Span& sh : spans[1]) {
          for (const Span& sw : spans[2]) {
            const A go = static_cast<A>(gp[oi++]);
            if (ps.type == PoolType::kMax) {
              A best = std::numeric_limits<A>::lowest();
              int64_t arg = -1;
              for (int64_t id = sd.lo; id < sd.hi; ++id)
                for (int64_t ih = sh.lo; ih < sh.hi; ++ih)
                  for (int64_t iw = sw.lo; iw < sw.hi; ++iw) {
                    const int64_t j = id * HW + ih * g.in[2] + iw;
                    const A v = static_cast<A>(xp[j]);
                    if (arg < 0 || v > best) {
                      best = v;
                      arg = j;
                    }
                  }
              if (arg >= 0) acc[static_cast<size_t>(arg)] += go;
              continue;
            }
            A scale = A(1), yv = static_cast<A>(yp[oi - 1]);
            if (ps.type == PoolType::kAvg) {
              const int64_t n = ps.include_pad ? sd.full * sh.full * sw.full
                                               : (sd.hi - sd.lo) * (sh.hi - sh.lo) * (sw.hi - sw.lo);
              scale = A(1) / static_cast<A>(n);
            }
            for (int64_t id = sd.lo; id < sd.hi; ++id)
              for (int64_t ih = sh.lo; ih < sh.hi; ++ih)
                for (int64_t iw = sw.lo; iw < sw.hi; ++iw) {
                  const int64_t j = id * HW + ih * g.in[2] + iw;
                  A d = go * scale;
                  if (ps.type == PoolType::kLp) {
                    const A v = static_cast<A>(xp[j]);
                    const A sg = v > 0 ? A(1) : v < 0 ? A(-1) : A(0);
                    if (ps.p_value == 1) {
                      d = go * sg;
                    } else {
                      // d/dx (sum |x|^p)^(1/p) = |x|^(p-1) sign(x) / y^(p-1)
                      const A num = ps.p_value == 2 ? v : std::pow(std::abs(v), pv - 1) * sg;
                      const A den = ps.p_value == 2 ? yv : std::pow(yv, pv - 1);
                      d = den > 0 ? go * num / den : A(0);
                    }
                  }
                  acc[static_cast<size_t>(j)] += d;
                }
          }
        }
      }
      T* gxp = gx + pl * I;
      for (int64_t j = 0; j < I; ++j) gxp[j] = static_cast<T>(acc[static_cast<size_t>(j)]);
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(O * g.ksize(), 1)));
}

OpDef& reg_pool_backward = register_op("_backward_Pooling")
    .describe("The gradient of Pooling with respect to data, from (ograd, data, out_data) and Pooling's parameters: max "
              "routes each window's gradient to its first maximum, avg/sum spread it (avg divided by the window's "
              "count), lp scales it by |x|^(p-1) sign(x) / out_data^(p-1).")
    .category("grad")
    .input("ograd")
    .input("data")
    .input("out_data")
    .param_shape("kernel", "()", "The forward op's kernel.")
    .param_enum("pool_type", {"avg", "lp", "max", "sum"}, "max", "The forward op's pool_type.")
    .param_bool("global_pool", "False", "The forward op's global_pool.")
    .param_bool("cudnn_off", "False", kHint)
    .param_enum("pooling_convention", {"full", "same", "valid"}, "valid", "The forward op's pooling_convention.")
    .param_shape("stride", "()", "The forward op's stride.")
    .param_shape("pad", "()", "The forward op's pad.")
    .param_int("p_value", "None", "The forward op's p_value.")
    .param_bool("count_include_pad", "None", "The forward op's count_include_pad.")
    .param_enum("layout", {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"}, "None", "The forward op's layout.")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      for (const Shape& s : *in)
        if (!s.known()) return;
      const Shape& d = (*in)[1];
      PoolSetup ps = pool_setup("_backward_Pooling", p, d);
      Shape o{d[0], d[1]};
      for (int i = 3 - ps.g.nd; i < 3; ++i) o.push_back(ps.g.out[i]);
      MX_CHECK((*in)[0] == o && (*in)[2] == o, kShape, "_backward_Pooling: ograd ", (*in)[0].str(), " and out_data ",
               (*in)[2].str(), " must have the pooled shape ", o.str(), " of data ", d.str());
      assign_shape("_backward_Pooling", out, 0, d);
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      PoolSetup ps = pool_setup("_backward_Pooling", p, in[1].shape);
      if (out[0].size() == 0) return;
      MX_FLOAT_DTYPE_SWITCH(in[1].dtype, T, {
        pool_backward<T>(ps, in[0].ptr<T>(), in[1].ptr<T>(), in[2].ptr<T>(), out[0].ptr<T>());
      });
    });

MX_REGISTER_GRADIENT(Pooling, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_Pooling", {a.ograds[0], a.inputs[0], a.outputs[0]}, a.params.explicit_values())};
});

// ------------------------------------------------------------------ UpSampling (nearest)
template <typename T>
void upsample_grad_one(const T* gy, int64_t OC, int64_t coff, int64_t OH, int64_t OW, int64_t N, int64_t C, int64_t H,
                       int64_t W, T* gx) {
  using A = typename AccType<T>::type;
  const int64_t sh = OH / H, sw = OW / W;
  parallel_range(N * C, [&](int64_t lo, int64_t hi) {
    std::vector<A> acc(static_cast<size_t>(H * W));
    for (int64_t pl = lo; pl < hi; ++pl) {
      const int64_t n = pl / C, c = pl % C;
      const T* gp = gy + (n * OC + coff + c) * OH * OW;
      std::fill(acc.begin(), acc.end(), A(0));
      for (int64_t oy = 0; oy < OH; ++oy) {
        A* row = acc.data() + (oy / sh) * W;
        const T* grow = gp + oy * OW;
        for (int64_t ox = 0; ox < OW; ++ox) row[ox / sw] += static_cast<A>(grow[ox]);
      }
      T* xp = gx + pl * H * W;
      for (int64_t j = 0; j < H * W; ++j) xp[j] = static_cast<T>(acc[static_cast<size_t>(j)]);
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(OH * OW, 1)));
}

OpDef& reg_upsampling_backward = register_op("_backward_UpSampling")
    .describe("The gradient of nearest UpSampling with respect to each of its num_args inputs, from (ograd, "
              "data_0, ..., data_{num_args-1}) and UpSampling's parameters: each input's gradient sums ograd (its "
              "channel range under multi_input_mode='concat') over the block every element was repeated into.")
    .category("grad")
    .input("ograd")
    .input("data")
    .num_inputs([](const Params& p) { return static_cast<int>(p.get_int("num_args")) + 1; })
    .num_outputs([](const Params& p) { return static_cast<int>(p.get_int("num_args")); })
    .param_int("scale", OpDef::kRequired, "The forward op's scale.")
    .param_int("num_filter", "0", kHint)
    .param_enum("sample_type", {"bilinear", "nearest"}, OpDef::kRequired, "The forward op's sample_type.")
    .param_enum("multi_input_mode", {"concat", "sum"}, "concat", "The forward op's multi_input_mode.")
    .param_int("num_args", OpDef::kRequired, "The forward op's num_args (number of data inputs).")
    .param_int("workspace", "512", kHint)
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const char* op = "_backward_UpSampling";
      MX_CHECK(p.get_string("sample_type") == "nearest", kUnsupported,
               op, ": sample_type='bilinear' is not supported (only 'nearest')");
      for (const Shape& s : *in)
        if (!s.known()) return;
      const Shape& g = (*in)[0];
      const int64_t scale = p.get_int("scale");
      const bool sum = p.get_string("multi_input_mode") == "sum";
      MX_CHECK(scale >= 1 && g.ndim() == 4, kShape, op, ": ograd must be 4-d, got ", g.str());
      int64_t chans = 0;
      for (size_t i = 1; i < in->size(); ++i) {
        const Shape& s = (*in)[i];
        MX_CHECK(s.ndim() == 4 && s[0] == g[0] && s[2] > 0 && s[3] > 0 && g[2] % s[2] == 0 && g[3] % s[3] == 0,
                 kShape, op, ": input ", i - 1, " of shape ", s.str(), " does not fit ograd ", g.str());
        if (i == 1)
          MX_CHECK(g[2] == s[2] * scale && g[3] == s[3] * scale, kShape, op, ": ograd ", g.str(),
                   " is not input 0 ", s.str(), " times scale ", scale);
        chans = sum ? std::max(chans, s[1]) : chans + s[1];
        if (sum) MX_CHECK(s[1] == g[1], kShape, op, ": input ", i - 1, " ", s.str(), " channels differ from ograd ", g.str());
        assign_shape(op, out, static_cast<int>(i - 1), s);
      }
      MX_CHECK(chans == g[1], kShape, op, ": ograd ", g.str(), " has ", g[1], " channels, the inputs ", chans);
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) {
      for (auto& t : *out) t = (*in)[0];
    })
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& g = in[0];
      const bool sum = p.get_string("multi_input_mode") == "sum";
      MX_FLOAT_DTYPE_SWITCH(g.dtype, T, {
        int64_t coff = 0;
        for (size_t i = 0; i < out.size(); ++i) {
          const Shape& s = out[i].shape;
          if (out[i].size() > 0)
            upsample_grad_one<T>(g.ptr<T>(), g.shape[1], coff, g.shape[2], g.shape[3], s[0], s[1], s[2], s[3],
                                 out[i].ptr<T>());
          if (!sum) coff += s[1];
        }
      });
    });

MX_REGISTER_GRADIENT(UpSampling, [](GradBuilder& b, const GradArgs& a) {
  MX_CHECK(a.params.get_string("sample_type") == "nearest", kUnsupported,
           "UpSampling: the gradient of sample_type='bilinear' is not supported");
  if (a.inputs.size() == 1) {
    const std::string s = std::to_string(a.params.get_int("scale"));
    const std::string k = "(" + s + "," + s + ")";
    return Vs{b.call1("Pooling", {a.ograds[0]}, {{"kernel", k}, {"stride", k}, {"pool_type", "sum"}})};
  }
  Vs in{a.ograds[0]};
  in.insert(in.end(), a.inputs.begin(), a.inputs.end());
  return b.call("_backward_UpSampling", in, a.params.explicit_values());
});

}  // namespace
}  // namespace mx
