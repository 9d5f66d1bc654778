// Convolution and Deconvolution (transposed convolution), 1-D/2-D/3-D, channel-first layouts.
//
// Convolution lowers each sample to im2col + one GEMM per group (kernels/cpu/blas.h); Deconvolution
// is its adjoint: one transposed GEMM per group, then col2im. Samples are processed in chunks whose
// column buffers stay within a fixed budget; inside a chunk the transforms run in parallel over
// (sample, channel) and the GEMMs are batched over samples. float16/bfloat16 compute in float32.
//
// workspace, cudnn_tune and cudnn_off are accepted for MXNet compatibility and ignored: they only
// tune cuDNN / scratch-memory choices and never change results.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/blas.h"
#ifdef MX_USE_DNNL
#include "kernels/cpu/dnnl/dnnl_ops.h"
#endif
#include "op/kernel_util.h"
#include "op/nn/im2col.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

constexpr int64_t kColBudgetBytes = int64_t(64) << 20;  // column buffer per chunk of samples

const char* kKernelDoc = "Convolution kernel size: (w,), (h, w) or (d, h, w)";
const char* kStrideDoc = "Convolution stride: (w,), (h, w) or (d, h, w). Defaults to 1 for each dimension.";
const char* kDilateDoc = "Convolution dilate: (w,), (h, w) or (d, h, w). Defaults to 1 for each dimension.";
const char* kPadDoc = "Zero pad for convolution: (w,), (h, w) or (d, h, w). Defaults to no padding.";
const char* kHintDoc = "Accepted for MXNet compatibility and ignored (a cuDNN / scratch-memory performance hint).";
const char* kLayoutDoc =
    "Set layout for input, output and weight. Empty for default layout: NCW for 1d, NCHW for 2d and NCDHW for 3d. "
    "Only the channel-first layouts are supported on CPU (NHWC/NDHWC raise an unsupported error).";

struct ConvSetup {
  SpatialGeom g;           // convolution geometry: in = image, out = columns (Deconvolution: in = its output)
  int64_t N = 0, C = 0, F = 0, G = 1;
};

// Kernel, stride, dilate, pad of either op; data rank checked against the kernel.
int read_window(const char* op, const Params& p, int data_ndim, SpatialGeom* g) {
  const Shape& k = p.get_shape("kernel");
  const int nd = k.ndim();
  MX_CHECK(nd >= 1 && nd <= 3, kInvalidArgument, op, ": kernel=", k.str(),
           " must have 1, 2 or 3 entries (1-D, 2-D or 3-D convolution)");
  g->nd = nd;
  spatial_param(op, p, "kernel", nd, 1, 1, g->k);
  spatial_param(op, p, "stride", nd, 1, 1, g->s);
  spatial_param(op, p, "dilate", nd, 1, 1, g->d);
  spatial_param(op, p, "pad", nd, 0, 0, g->p);
  check_layout(op, p, data_ndim);
  MX_CHECK(data_ndim == nd + 2, kShape, op, ": a ", nd, "-d kernel needs ", nd + 2, "-d data (N, C, spatial...), got ",
           data_ndim, "-d data");
  return nd;
}

void read_channels(const char* op, const Params& p, const Shape& data, ConvSetup* cs) {
  cs->N = data[0];
  cs->C = data[1];
  cs->F = p.get_int("num_filter");
  cs->G = p.get_int("num_group");
  MX_CHECK(cs->F >= 1, kInvalidArgument, op, ": num_filter must be positive, got ", cs->F);
  MX_CHECK(cs->G >= 1, kInvalidArgument, op, ": num_group must be positive, got ", cs->G);
  MX_CHECK(cs->C % cs->G == 0, kShape, op, ": input channels ", cs->C, " of data ", data.str(),
           " are not divisible by num_group=", cs->G);
  MX_CHECK(cs->F % cs->G == 0, kShape, op, ": num_filter=", cs->F, " is not divisible by num_group=", cs->G);
}

ConvSetup conv_setup(const Params& p, const Shape& data) {
  ConvSetup cs;
  SpatialGeom& g = cs.g;
  const int nd = read_window("Convolution", p, data.ndim(), &g);
  read_channels("Convolution", p, data, &cs);
  for (int i = 3 - nd; i < 3; ++i) {
    g.in[i] = data[i - 3 + data.ndim()];
    const int64_t padded = g.in[i] + 2 * g.p[i];
    MX_CHECK(padded >= g.dilated(i), kShape, "Convolution: the dilated kernel size ", g.dilated(i),
             " exceeds the padded input size ", padded, " (data ", data.str(), ", kernel ",
             p.get_shape("kernel").str(), ")");
    g.out[i] = (padded - g.dilated(i)) / g.s[i] + 1;
  }
  return cs;
}

ConvSetup deconv_setup(const Params& p, const Shape& data) {
  ConvSetup cs;
  SpatialGeom& g = cs.g;
  const int nd = read_window("Deconvolution", p, data.ndim(), &g);
  read_channels("Deconvolution", p, data, &cs);
  int64_t adj[3] = {0, 0, 0}, target[3] = {0, 0, 0};
  spatial_param("Deconvolution", p, "adj", nd, 0, 0, adj);
  spatial_param("Deconvolution", p, "target_shape", nd, 0, 0, target);
  const bool use_target = target[0] || target[1] || target[2];
  for (int i = 3 - nd; i < 3; ++i) {
    // Columns live on the deconvolution input; the image is its output.
    g.out[i] = data[i - 3 + data.ndim()];
    const int64_t full = g.s[i] * (g.out[i] - 1) + g.dilated(i);
    if (use_target) {
      MX_CHECK(full >= target[i], kShape, "Deconvolution: target_shape=", p.get_shape("target_shape").str(),
               " is too big for data ", data.str(), " (at most ", full, " in that dim)");
      const int64_t total = full - target[i];
      g.p[i] = (total + 1) / 2;
      adj[i] = total % 2;
    } else {
      MX_CHECK(adj[i] < std::max(g.s[i], g.d[i]), kInvalidArgument, "Deconvolution: adj=", p.get_shape("adj").str(),
               " must be smaller than stride (or dilate) in every dim");
    }
    g.in[i] = full - 2 * g.p[i] + adj[i];
    MX_CHECK(g.in[i] >= 1, kShape, "Deconvolution: pad=", p.get_shape("pad").str(), " leaves an empty output for data ",
             data.str());
  }
  return cs;
}

// Fills or checks weight and bias, writes the output shape.
void finish_shapes(const char* op, const Params& p, const ConvSetup& cs, const Shape& wshape,
                   std::vector<Shape>* in, std::vector<Shape>* out, const Shape& oshape) {
  const char* names[3] = {"data", "weight", "bias"};
  Shape bshape{cs.F};
  for (int i = 1; i < static_cast<int>(in->size()); ++i) {
    const Shape& want = i == 1 ? wshape : bshape;
    Shape& s = (*in)[i];
    if (!s.known()) {
      s = want;
      continue;
    }
    MX_CHECK(s == want, kShape, op, ": ", names[i], " has shape ", s.str(), ", expected ", want.str(), " for data ",
             (*in)[0].str(), " with num_filter=", cs.F, ", num_group=", cs.G, ", kernel=", p.get_shape("kernel").str());
  }
  assign_shape(op, out, 0, oshape);
}

void conv_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  ConvSetup cs = conv_setup(p, d);
  Shape w{cs.F, cs.C / cs.G}, o{cs.N, cs.F};
  for (int i = 3 - cs.g.nd; i < 3; ++i) {
    w.push_back(cs.g.k[i]);
    o.push_back(cs.g.out[i]);
  }
  finish_shapes("Convolution", p, cs, w, in, out, o);
}

void deconv_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  ConvSetup cs = deconv_setup(p, d);
  Shape w{cs.C, cs.F / cs.G}, o{cs.N, cs.F};
  for (int i = 3 - cs.g.nd; i < 3; ++i) {
    w.push_back(cs.g.k[i]);
    o.push_back(cs.g.in[i]);
  }
  finish_shapes("Deconvolution", p, cs, w, in, out, o);
}

template <typename T>
void add_bias(const T* b, int64_t N, int64_t F, int64_t plane, T* y) {
  parallel_range(N * F, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const T v = b[i % F];
      T* yi = y + i * plane;
      for (int64_t j = 0; j < plane; ++j) yi[j] += v;
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(plane, 1)));
}

int64_t chunk_of(int64_t N, int64_t per_sample, size_t elem) {
  const int64_t bytes = std::max<int64_t>(per_sample, 1) * static_cast<int64_t>(elem);
  return std::min<int64_t>(N, std::max<int64_t>(1, kColBudgetBytes / bytes));
}

template <typename T>
void conv_forward(const ConvSetup& cs, const T* x, const T* w, const T* b, T* y) {
  const SpatialGeom& g = cs.g;
  const int64_t N = cs.N, C = cs.C, F = cs.F, G = cs.G, K = g.ksize(), L = g.out_size(), I = g.in_size();
  const int64_t CgK = C / G * K, Fg = F / G;
  if (N == 0 || F == 0 || L == 0) return;
  const bool direct = K == 1 && g.s[0] == 1 && g.s[1] == 1 && g.s[2] == 1 && g.p[0] == 0 && g.p[1] == 0 &&
                      g.p[2] == 0;  // a 1x1 convolution reads the image as its own column matrix
  const int64_t chunk = direct ? N : chunk_of(N, C * K * L, sizeof(T));
  std::vector<T> col(direct ? 0 : static_cast<size_t>(chunk * C * K * L));
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t nb = std::min(chunk, N - n0);
    const T* cols = x + n0 * C * I;
    if (!direct) {
      parallel_range(nb * C, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) im2col(x + (n0 * C + i) * I, 1, g, col.data() + i * K * L);
      }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(K * L, 1)));
      cols = col.data();
    }
    for (int64_t gi = 0; gi < G; ++gi)
      gemm_batched(false, false, nb, Fg, L, CgK, T(1), w + gi * Fg * CgK, CgK, 0, cols + gi * CgK * L, L, C * K * L,
                   T(0), y + n0 * F * L + gi * Fg * L, L, F * L);
  }
  if (b) add_bias(b, N, F, L, y);
}

template <typename T>
void deconv_forward(const ConvSetup& cs, const T* x, const T* w, const T* b, T* y) {
  const SpatialGeom& g = cs.g;  // g.out: this op's input, g.in: its output
  const int64_t N = cs.N, C = cs.C, F = cs.F, G = cs.G, K = g.ksize(), Lin = g.out_size(), O = g.in_size();
  const int64_t Cg = C / G, FgK = F / G * K;
  std::fill(y, y + N * F * O, T(0));
  if (N == 0 || Lin == 0 || C == 0) {
    if (b) add_bias(b, N, F, O, y);
    return;
  }
  const int64_t chunk = chunk_of(N, F * K * Lin, sizeof(T));
  std::vector<T> col(static_cast<size_t>(chunk * F * K * Lin));
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t nb = std::min(chunk, N - n0);
    for (int64_t gi = 0; gi < G; ++gi)
      gemm_batched(true, false, nb, FgK, Lin, Cg, T(1), w + gi * Cg * FgK, FgK, 0, x + n0 * C * Lin + gi * Cg * Lin,
                   Lin, C * Lin, T(0), col.data() + gi * FgK * Lin, Lin, F * K * Lin);
    parallel_range(nb * F, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) col2im(col.data() + i * K * Lin, 1, g, y + (n0 * F + i) * O);
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(K * Lin, 1)));
  }
  if (b) add_bias(b, N, F, O, y);
}

using ForwardF = void (*)(const ConvSetup&, const float*, const float*, const float*, float*);
using ForwardD = void (*)(const ConvSetup&, const double*, const double*, const double*, double*);

// Runs the float32/float64 kernel; float16/bfloat16 go through float32 copies.
void dispatch(const ConvSetup& cs, const std::vector<TBlob>& in, const std::vector<TBlob>& out, ForwardF ff,
              ForwardD fd) {
  const bool has_bias = in.size() > 2;
  const DType t = in[0].dtype;
  if (t == DType::kFloat32) {
    ff(cs, in[0].ptr<float>(), in[1].ptr<float>(), has_bias ? in[2].ptr<float>() : nullptr, out[0].ptr<float>());
    return;
  }
  if (t == DType::kFloat64) {
    fd(cs, in[0].ptr<double>(), in[1].ptr<double>(), has_bias ? in[2].ptr<double>() : nullptr, out[0].ptr<double>());
    return;
  }
  MX_CHECK(t == DType::kFloat16 || t == DType::kBFloat16, kDType, "convolution: expected a floating dtype, got ",
           dtype_name(t));
  std::vector<std::vector<float>> bufs(in.size() + 1);
  auto to_float = [&](const TBlob& src, std::vector<float>* buf) {
    buf->resize(static_cast<size_t>(src.size()));
    TBlob dst = src;
    dst.dtype = DType::kFloat32;
    dst.data = buf->data();
    cast_copy(src, dst);
    return buf->data();
  };
  const float* x = to_float(in[0], &bufs[0]);
  const float* w = to_float(in[1], &bufs[1]);
  const float* b = has_bias ? to_float(in[2], &bufs[2]) : nullptr;
  std::vector<float>& yb = bufs.back();
  yb.resize(static_cast<size_t>(out[0].size()));
  ff(cs, x, w, b, yb.data());
  TBlob ys = out[0];
  ys.dtype = DType::kFloat32;
  ys.data = yb.data();
  cast_copy(ys, out[0]);
}

void conv_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  ConvSetup cs = conv_setup(p, in[0].shape);
#ifdef MX_USE_DNNL
  if (dnnl::try_conv_forward({cs.g, cs.N, cs.C, cs.F, cs.G}, in[0], in[1], in.size() > 2 ? &in[2] : nullptr, out[0]))
    return;
#endif
  dispatch(cs, in, out, conv_forward<float>, conv_forward<double>);
}

void deconv_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  ConvSetup cs = deconv_setup(p, in[0].shape);
  dispatch(cs, in, out, deconv_forward<float>, deconv_forward<double>);
}

int bias_inputs(const Params& p) { return p.get_bool("no_bias") ? 2 : 3; }

}  // namespace

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(Convolution)
    .alias("_npx_convolution")
    .category("nn")
    .describe(
        "Computes 1-D, 2-D or 3-D convolution of data (N, C, w) / (N, C, h, w) / (N, C, d, h, w) with weight "
        "(num_filter, C / num_group, kernel...) plus bias (num_filter,) unless no_bias. Output spatial size: "
        "floor((x + 2 * pad - (dilate * (kernel - 1) + 1)) / stride) + 1. num_group splits the input and output "
        "channels into groups convolved independently. workspace, cudnn_tune and cudnn_off are accepted and ignored "
        "(performance hints only).")
    .input("data")
    .input("weight")
    .input("bias")
    .num_inputs(bias_inputs)
    .param_shape("kernel", OpDef::kRequired, kKernelDoc)
    .param_shape("stride", "()", kStrideDoc)
    .param_shape("dilate", "()", kDilateDoc)
    .param_shape("pad", "()", kPadDoc)
    .param_int("num_filter", OpDef::kRequired, "Convolution filter(channel) number")
    .param_int("num_group", "1", "Number of group partitions.")
    .param_int("workspace", "1024", kHintDoc)
    .param_bool("no_bias", "False", "Whether to disable bias parameter.")
    .param_enum("cudnn_tune", {"fastest", "limited_workspace", "off"}, "None", kHintDoc)
    .param_bool("cudnn_off", "False", kHintDoc)
    .param_enum("layout", {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC"}, "None", kLayoutDoc)
    .infer_shape(conv_shape)
    .float_dtypes()
    .cpu(conv_cpu)
    .differentiable(false);

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(Deconvolution)
    .alias("_npx_deconvolution")
    .category("nn")
    .describe(
        "Computes 1-D, 2-D or 3-D transposed convolution (the adjoint of Convolution with respect to its data) of "
        "data (N, C, spatial...) with weight (C, num_filter / num_group, kernel...) plus bias (num_filter,) unless "
        "no_bias (the default). Output spatial size: stride * (x - 1) + dilate * (kernel - 1) + 1 - 2 * pad + adj; "
        "a nonzero target_shape instead picks pad and adj to produce exactly that size. workspace, cudnn_tune and "
        "cudnn_off are accepted and ignored (performance hints only).")
    .input("data")
    .input("weight")
    .input("bias")
    .num_inputs(bias_inputs)
    .param_shape("kernel", OpDef::kRequired,
                 "Deconvolution kernel size: (w,), (h, w) or (d, h, w). This is same as the kernel size used for the "
                 "corresponding convolution")
    .param_shape("stride", "()",
                 "The stride used for the corresponding convolution: (w,), (h, w) or (d, h, w). Defaults to 1 for "
                 "each dimension.")
    .param_shape("dilate", "()",
                 "Dilation factor for each dimension of the input: (w,), (h, w) or (d, h, w). Defaults to 1 for each "
                 "dimension.")
    .param_shape("pad", "()",
                 "The amount of implicit zero padding added during convolution for each dimension of the input: "
                 "(w,), (h, w) or (d, h, w). If target_shape is set, pad will be ignored and a padding that will "
                 "generate the target shape will be used. Defaults to no padding.")
    .param_shape("adj", "()",
                 "Adjustment for output shape: (w,), (h, w) or (d, h, w). If target_shape is set, adj will be "
                 "ignored and computed accordingly.")
    .param_shape("target_shape", "()",
                 "Shape of the output tensor: (w,), (h, w) or (d, h, w). All zeros (or empty) means unset.")
    .param_int("num_filter", OpDef::kRequired, "Number of output filters.")
    .param_int("num_group", "1", "Number of groups partition.")
    .param_int("workspace", "512", kHintDoc)
    .param_bool("no_bias", "True", "Whether to disable bias parameter.")
    .param_enum("cudnn_tune", {"fastest", "limited_workspace", "off"}, "None", kHintDoc)
    .param_bool("cudnn_off", "False", kHintDoc)
    .param_enum("layout", {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC"}, "None", kLayoutDoc)
    .infer_shape(deconv_shape)
    .float_dtypes()
    .cpu(deconv_cpu)
    .differentiable(false);

}  // namespace mx
