// Image resizing: _image_resize (mx.nd.image.resize: HWC / NHWC images, OpenCV's pixel mapping,
// as MXNet resizes with cv::resize) and _contrib_BilinearResize2D (NCHW feature maps, MXNet's own
// mapping with align_corners) with its backward _backward_contrib_BilinearResize2D.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

// ================================================================== _image_resize
// The output (height, width) of `size` / keep_ratio for an image of h x w (MXNet's rule: size is
// (width, height) or one edge; keep_ratio with one edge resizes the shorter edge).
void resize_hw(const Params& p, int64_t h, int64_t w, int64_t* oh, int64_t* ow) {
  const Shape& size = p.get_shape("size");
  MX_CHECK(size.ndim() == 1 || size.ndim() == 2, kInvalidArgument,
           "_image_resize: size must have 1 or 2 entries ((width, height) or one edge), got ", size.str());
  for (int64_t v : size) MX_CHECK(v > 0, kInvalidArgument, "_image_resize: size entries must be positive, got ", size.str());
  if (size.ndim() == 2) {
    *ow = size[0];
    *oh = size[1];
    return;
  }
  const int64_t s = size[0];
  if (!p.get_bool("keep_ratio")) {
    *oh = *ow = s;
  } else if (h > w) {
    *ow = s;
    *oh = h * s / w;
  } else {
    *oh = s;
    *ow = w * s / h;
  }
}

int resize_interp(const Params& p) {
  const int64_t interp = p.get_int("interp");
  MX_CHECK(interp == 0 || interp == 1, kUnsupported, "_image_resize: interp=", interp,
           " is not supported (0 nearest and 1 bilinear are; area (2), bicubic (3) and lanczos (4) are not)");
  return static_cast<int>(interp);
}

void image_resize_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  MX_CHECK(d.ndim() == 3 || d.ndim() == 4, kShape,
           "_image_resize: the image must be (H, W, C) or (N, H, W, C), got shape ", d.str());
  resize_interp(p);
  const int off = d.ndim() - 3;
  MX_CHECK(d[off] > 0 && d[off + 1] > 0, kShape, "_image_resize: cannot resize an empty image of shape ", d.str());
  int64_t oh, ow;
  resize_hw(p, d[off], d[off + 1], &oh, &ow);
  Shape o = d;
  o[off] = oh;
  o[off + 1] = ow;
  assign_shape("_image_resize", out, 0, o);
}

// OpenCV's linear taps along one axis: source indices i0, i1 and the weight of i1, computed in
// float as cv::resize does (half-pixel centres, replicated borders).
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<float> f;
};

Taps linear_taps(int64_t dst, int64_t src) {
  Taps t;
  t.i0.resize(dst);
  t.i1.resize(dst);
  t.f.resize(dst);
  const double scale = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));
  for (int64_t d = 0; d < dst; ++d) {
    float fx = static_cast<float>((d + 0.5) * scale - 0.5);
    int64_t s = static_cast<int64_t>(std::floor(fx));
    fx -= static_cast<float>(s);
    if (s < 0) {
      fx = 0.f;
      s = 0;
    }
    if (s >= src - 1) {
      fx = 0.f;
      s = src - 1;
    }
    t.i0[d] = s;
    t.i1[d] = std::min(s + 1, src - 1);
    t.f[d] = fx;
  }
  return t;
}

std::vector<int64_t> nearest_taps(int64_t dst, int64_t src) {
  std::vector<int64_t> r(dst);
  const double inv = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));
  for (int64_t d = 0; d < dst; ++d)
    r[d] = std::min<int64_t>(static_cast<int64_t>(std::floor(static_cast<double>(d) * inv)), src - 1);
  return r;
}

// One image (h, w, c) -> (oh, ow, c).
template <typename T>
void resize_nearest(const T* src, int64_t h, int64_t w, int64_t c, T* dst, int64_t oh, int64_t ow) {
  std::vector<int64_t> ys = nearest_taps(oh, h), xs = nearest_taps(ow, w);
  for (int64_t y = 0; y < oh; ++y) {
    const T* row = src + ys[y] * w * c;
    T* o = dst + y * ow * c;
    for (int64_t x = 0; x < ow; ++x) std::memcpy(o + x * c, row + xs[x] * c, sizeof(T) * c);
  }
}

// Floating images: horizontal pass then vertical pass with float weights (double sums for float64).
template <typename T>
void resize_linear_float(const T* src, int64_t h, int64_t w, int64_t c, T* dst, int64_t oh, int64_t ow) {
  Taps tx = linear_taps(ow, w), ty = linear_taps(oh, h);
  const int64_t n = ow * c;
  std::vector<T> r0(n), r1(n);
  auto hpass = [&](int64_t y, T* buf) {
    const T* row = src + y * w * c;
    for (int64_t x = 0; x < ow; ++x) {
      const T a1 = static_cast<T>(tx.f[x]), a0 = static_cast<T>(1.f - tx.f[x]);
      const T* p0 = row + tx.i0[x] * c;
      const T* p1 = row + tx.i1[x] * c;
      for (int64_t k = 0; k < c; ++k) buf[x * c + k] = p0[k] * a0 + p1[k] * a1;
    }
  };
  for (int64_t y = 0; y < oh; ++y) {
    hpass(ty.i0[y], r0.data());
    hpass(ty.i1[y], r1.data());
    const T b1 = static_cast<T>(ty.f[y]), b0 = static_cast<T>(1.f - ty.f[y]);
    T* o = dst + y * n;
    for (int64_t i = 0; i < n; ++i) o[i] = r0[i] * b0 + r1[i] * b1;
  }
}

// uint8 images: OpenCV's fixed-point scheme. Weights are rounded to 11 bits (x2048); the horizontal
// pass sums in int; the vertical pass combines rows as OpenCV's vectorised path does:
// ((r0 >> 4) * b0 >> 16) + ((r1 >> 4) * b1 >> 16), rounded by (+2) >> 2 and saturated.
void resize_linear_u8(const uint8_t* src, int64_t h, int64_t w, int64_t c, uint8_t* dst, int64_t oh, int64_t ow) {
  Taps tx = linear_taps(ow, w), ty = linear_taps(oh, h);
  auto fix = [](float v) { return static_cast<int32_t>(std::nearbyint(v * 2048.f)); };
  const int64_t n = ow * c;
  std::vector<int32_t> r0(n), r1(n), a0(ow), a1(ow);
  for (int64_t x = 0; x < ow; ++x) {
    a0[x] = fix(1.f - tx.f[x]);
    a1[x] = fix(tx.f[x]);
  }
  auto hpass = [&](int64_t y, int32_t* buf) {
    const uint8_t* row = src + y * w * c;
    for (int64_t x = 0; x < ow; ++x) {
      const uint8_t* p0 = row + tx.i0[x] * c;
      const uint8_t* p1 = row + tx.i1[x] * c;
      for (int64_t k = 0; k < c; ++k) buf[x * c + k] = p0[k] * a0[x] + p1[k] * a1[x];
    }
  };
  for (int64_t y = 0; y < oh; ++y) {
    hpass(ty.i0[y], r0.data());
    hpass(ty.i1[y], r1.data());
    const int32_t b0 = fix(1.f - ty.f[y]), b1 = fix(ty.f[y]);
    uint8_t* o = dst + y * n;
    for (int64_t i = 0; i < n; ++i) {
      int32_t v = (((r0[i] >> 4) * b0) >> 16) + (((r1[i] >> 4) * b1) >> 16);
      v = (v + 2) >> 2;
      o[i] = static_cast<uint8_t>(std::min(255, std::max(0, v)));
    }
  }
}

void image_resize_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const int off = x.ndim() - 3;
  const int64_t N = off ? x.shape[0] : 1, h = x.shape[off], w = x.shape[off + 1], c = x.shape[off + 2];
  const int64_t oh = out[0].shape[off], ow = out[0].shape[off + 1];
  if (out[0].size() == 0) return;
  const int interp = resize_interp(p);
  parallel_range(N, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      switch (x.dtype) {
        case DType::kUInt8: {
          const uint8_t* s = x.ptr<uint8_t>() + i * h * w * c;
          uint8_t* d = out[0].ptr<uint8_t>() + i * oh * ow * c;
          if (interp == 0) resize_nearest(s, h, w, c, d, oh, ow);
          else resize_linear_u8(s, h, w, c, d, oh, ow);
          break;
        }
        case DType::kFloat32: {
          const float* s = x.ptr<float>() + i * h * w * c;
          float* d = out[0].ptr<float>() + i * oh * ow * c;
          if (interp == 0) resize_nearest(s, h, w, c, d, oh, ow);
          else resize_linear_float(s, h, w, c, d, oh, ow);
          break;
        }
        case DType::kFloat64: {
          const double* s = x.ptr<double>() + i * h * w * c;
          double* d = out[0].ptr<double>() + i * oh * ow * c;
          if (interp == 0) resize_nearest(s, h, w, c, d, oh, ow);
          else resize_linear_float(s, h, w, c, d, oh, ow);
          break;
        }
        default:
          MX_THROW(kDType, "_image_resize: dtype ", dtype_name(x.dtype), " is not supported (uint8, float32, float64)");
      }
    }
  }, 1);
}

MX_REGISTER_OP(_image_resize)
    .describe("Resizes an image (H, W, C) or a batch of images (N, H, W, C) to `size`: (width, height), or one "
              "edge length for both (keep_ratio=True: the shorter edge becomes size and the other keeps the "
              "aspect ratio). interp 0 is nearest neighbour, 1 bilinear, with OpenCV's pixel mapping (cv::resize "
              "INTER_NEAREST / INTER_LINEAR; uint8 uses its 11-bit fixed-point weights).")
    .category("image")
    .input("data")
    .param_shape("size", "()", "Size of the new image: (width, height) or (size).")
    .param_bool("keep_ratio", "False", "Whether to resize the short edge or both edges to `size`, if size is given "
                                       "as an integer.")
    .param_int("interp", "1", "Interpolation method: 0 nearest neighbour, 1 bilinear (2 area, 3 bicubic and "
                              "4 lanczos are not supported).")
    .infer_shape(image_resize_shape)
    .dtypes({DType::kUInt8, DType::kFloat32, DType::kFloat64})
    .cpu(image_resize_cpu);

// ================================================================== _contrib_BilinearResize2D
// MXNet's mapping: with align_corners the corner pixels' centres meet (scale (in-1)/(out-1), src =
// scale*dst); otherwise src = scale*(dst+0.5)-0.5 with scale in/out, clamped at 0. Computed in float.
struct Tap2 {
  int64_t i0, step;  // step: 1 when a second tap exists (i0 < in-1), else 0
  float l1;          // weight of the second tap
};

std::vector<Tap2> bilinear_taps(int64_t in, int64_t out, bool align) {
  std::vector<Tap2> t(out);
  float scale = 0.f;
  if (out > 1) scale = align ? static_cast<float>(in - 1) / (out - 1) : static_cast<float>(in) / out;
  for (int64_t d = 0; d < out; ++d) {
    float r;
    if (in == out) {
      r = static_cast<float>(d);
    } else if (align) {
      r = scale * d;
    } else {
      r = scale * (d + 0.5f) - 0.5f;
      if (r < 0) r = 0;
    }
    const int64_t i0 = static_cast<int64_t>(r);
    t[d] = Tap2{i0, i0 < in - 1 ? 1 : 0, r - static_cast<float>(i0)};
  }
  return t;
}

int64_t scaled(float s, int64_t v) { return static_cast<int64_t>(s * static_cast<float>(v)); }

void bilinear_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  MX_CHECK(d.ndim() == 4, kShape, "BilinearResize2D: data must be 4-d (N, C, H, W), got shape ", d.str());
  const std::string& mode = p.get_string("mode");
  const int64_t H = d[2], W = d[3];
  int64_t oh = 0, ow = 0;
  auto need_scales = [&]() {
    MX_CHECK(!p.is_none("scale_height") && !p.is_none("scale_width"), kInvalidArgument,
             "BilinearResize2D: mode='", mode, "' needs scale_height and scale_width");
  };
  if (mode == "size") {
    oh = p.is_none("scale_height") ? p.get_int("height") : scaled(static_cast<float>(p.get_float("scale_height")), H);
    ow = p.is_none("scale_width") ? p.get_int("width") : scaled(static_cast<float>(p.get_float("scale_width")), W);
  } else if (mode == "odd_scale") {
    need_scales();
    const float sh = static_cast<float>(p.get_float("scale_height")), sw = static_cast<float>(p.get_float("scale_width"));
    oh = H % 2 == 0 ? scaled(sh, H) : scaled(sh, H - 1) + 1;
    ow = W % 2 == 0 ? scaled(sw, W) : scaled(sw, W - 1) + 1;
  } else if (mode == "like") {
    const Shape& l = (*in)[1];
    if (!l.known()) return;
    MX_CHECK(l.ndim() == 4, kShape, "BilinearResize2D: like must be 4-d (N, C, H, W), got shape ", l.str());
    oh = l[2];
    ow = l[3];
  } else if (mode == "to_even_down") {
    oh = H % 2 == 0 ? H : H - 1;
    ow = W % 2 == 0 ? W : W - 1;
  } else if (mode == "to_even_up") {
    oh = H % 2 == 0 ? H : H + 1;
    ow = W % 2 == 0 ? W : W + 1;
  } else if (mode == "to_odd_down") {
    oh = H % 2 == 1 ? H : H - 1;
    ow = W % 2 == 1 ? W : W - 1;
  } else {  // to_odd_up
    oh = H % 2 == 1 ? H : H + 1;
    ow = W % 2 == 1 ? W : W + 1;
  }
  MX_CHECK(oh > 0 && ow > 0, kInvalidArgument, "BilinearResize2D: the output size (", oh, ", ", ow,
           ") from mode='", mode, "' and input shape ", d.str(), " must be positive");
  MX_CHECK(H > 0 && W > 0, kShape, "BilinearResize2D: cannot resize an empty image of shape ", d.str());
  assign_shape("BilinearResize2D", out, 0, Shape{d[0], d[1], oh, ow});
}

template <typename T>
void bilinear_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW, bool align) {
  using A = typename AccType<T>::type;
  std::vector<Tap2> ty = bilinear_taps(H, OH, align), tx = bilinear_taps(W, OW, align);
  parallel_range(planes, [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      const T* src = x + pl * H * W;
      T* dst = y + pl * OH * OW;
      for (int64_t i = 0; i < OH; ++i) {
        const A h1 = static_cast<A>(ty[i].l1), h0 = A(1) - h1;
        const T* r0 = src + ty[i].i0 * W;
        const T* r1 = r0 + ty[i].step * W;
        for (int64_t j = 0; j < OW; ++j) {
          const A w1 = static_cast<A>(tx[j].l1), w0 = A(1) - w1;
          const int64_t c0 = tx[j].i0, c1 = c0 + tx[j].step;
          const A v = h0 * (w0 * static_cast<A>(r0[c0]) + w1 * static_cast<A>(r0[c1])) +
                      h1 * (w0 * static_cast<A>(r1[c0]) + w1 * static_cast<A>(r1[c1]));
          dst[i * OW + j] = T(v);
        }
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, OH * OW)));
}

// The adjoint: each output gradient spreads back onto the four taps it was read from.
template <typename T>
void bilinear_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW, bool align) {
  using A = typename AccType<T>::type;
  std::vector<Tap2> ty = bilinear_taps(H, OH, align), tx = bilinear_taps(W, OW, align);
  parallel_range(planes, [&](int64_t b, int64_t e) {
    std::vector<A> acc(static_cast<size_t>(H * W));
    for (int64_t pl = b; pl < e; ++pl) {
      std::fill(acc.begin(), acc.end(), A(0));
      const T* g = gy + pl * OH * OW;
      for (int64_t i = 0; i < OH; ++i) {
        const A h1 = static_cast<A>(ty[i].l1), h0 = A(1) - h1;
        const int64_t r0 = ty[i].i0 * W, r1 = r0 + ty[i].step * W;
        for (int64_t j = 0; j < OW; ++j) {
          const A w1 = static_cast<A>(tx[j].l1), w0 = A(1) - w1;
          const int64_t c0 = tx[j].i0, c1 = c0 + tx[j].step;
          const A v = static_cast<A>(g[i * OW + j]);
          acc[r0 + c0] += h0 * w0 * v;
          acc[r0 + c1] += h0 * w1 * v;
          acc[r1 + c0] += h1 * w0 * v;
          acc[r1 + c1] += h1 * w1 * v;
        }
      }
      T* dst = gx + pl * H * W;
      for (int64_t k = 0; k < H * W; ++k) dst[k] = T(acc[k]);
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, OH * OW)));
}

void bilinear_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  if (y.size() == 0) return;
  MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
    bilinear_forward(x.ptr<T>(), y.ptr<T>(), x.shape[0] * x.shape[1], x.shape[2], x.shape[3], y.shape[2], y.shape[3],
                     p.get_bool("align_corners"));
  });
}

void bilinear_backward_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                           const std::vector<TBlob>& out) {
  const TBlob& g = in[0];
  const TBlob& gx = out[0];
  if (gx.size() == 0) return;
  if (g.size() == 0) {
    std::memset(gx.data, 0, gx.nbytes());
    return;
  }
  MX_FLOAT_DTYPE_SWITCH(g.dtype, T, {
    bilinear_backward(g.ptr<T>(), gx.ptr<T>(), gx.shape[0] * gx.shape[1], gx.shape[2], gx.shape[3], g.shape[2],
                      g.shape[3], p.get_bool("align_corners"));
  });
}

void like_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  if ((*in)[0] == kUnknownDType) (*in)[0] = (*out)[0];
  for (size_t i = 1; i < in->size(); ++i)
    if ((*in)[i] == kUnknownDType) (*in)[i] = (*in)[0];
  (*out)[0] = (*in)[0];
}

MX_REGISTER_OP(_contrib_BilinearResize2D)
    .describe("Resizes a 4-d (N, C, H, W) input bilinearly to (N, C, height, width). mode 'size': height / "
              "width, or the input size times scale_height / scale_width when given; 'odd_scale': even sizes "
              "scale, odd sizes map to (size - 1) * scale + 1; 'like': the H, W of the second input `like`; "
              "'to_even_down', 'to_even_up', 'to_odd_down', 'to_odd_up': the nearest even / odd size. "
              "align_corners=True (MXNet's default) aligns the corner pixels' centres.")
    .alias("BilinearResize2D")
    .category("image")
    .input("data")
    .input("like")
    .num_inputs([](const Params& p) { return p.get_string("mode") == "like" ? 2 : 1; })
    .param_int("height", "1", "Output height (mode 'size' without scale_height).")
    .param_int("width", "1", "Output width (mode 'size' without scale_width).")
    .param_float("scale_height", "None", "Sampling scale of the height (modes 'size' and 'odd_scale').")
    .optional()
    .param_float("scale_width", "None", "Sampling scale of the width (modes 'size' and 'odd_scale').")
    .optional()
    .param_enum("mode", {"size", "odd_scale", "like", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up"},
                "size", "How the output size is chosen (see the description).")
    .param_bool("align_corners", "True", "Align the centres of the corner pixels of input and output.")
    .infer_shape(bilinear_shape)
    .infer_type(like_type)
    .float_dtypes()
    .cpu(bilinear_cpu);

MX_REGISTER_OP(_backward_contrib_BilinearResize2D)
    .describe("Gradient of BilinearResize2D with respect to data: ograd (N, C, OH, OW) spread back onto data's "
              "(N, C, H, W) grid (the adjoint of the bilinear resize between these sizes).")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_bool("align_corners", "True", "As in the forward call.")
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &d = (*in)[1];
      if (!d.known()) return;
      MX_CHECK(d.ndim() == 4, kShape, "_backward_contrib_BilinearResize2D: data must be 4-d, got ", d.str());
      if (g.known())
        MX_CHECK(g.ndim() == 4 && g[0] == d[0] && g[1] == d[1], kShape,
                 "_backward_contrib_BilinearResize2D: ograd of shape ", g.str(), " does not match data of shape ",
                 d.str(), " in N and C");
      assign_shape("_backward_contrib_BilinearResize2D", out, 0, d);
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .float_dtypes()
    .cpu(bilinear_backward_cpu);

}  // namespace
}  // namespace mx
