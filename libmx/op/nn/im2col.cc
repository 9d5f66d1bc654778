#include "op/nn/im2col.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace mx {

void spatial_param(const char* op, const Params& p, const char* name, int nd, int64_t fill, int64_t min_value,
                   int64_t* dst) {
  const Shape& v = p.get_shape(name);
  if (v.ndim() == 0) {
    for (int i = 0; i < nd; ++i) dst[3 - nd + i] = fill;
    return;
  }
  MX_CHECK(v.ndim() == nd, kInvalidArgument, op, ": ", name, "=", v.str(), " must have as many entries as kernel (",
           nd, ")");
  for (int i = 0; i < nd; ++i) {
    MX_CHECK(v[i] != kNoneDim && v[i] >= min_value, kInvalidArgument, op, ": ", name, "=", v.str(),
             " has an entry below ", min_value);
    dst[3 - nd + i] = v[i];
  }
}

void check_layout(const char* op, const Params& p, int data_ndim) {
  if (!p.has("layout") || p.is_none("layout")) return;
  const std::string& l = p.get_string("layout");
  MX_CHECK(l == "NCW" || l == "NCHW" || l == "NCDHW", kUnsupported, op, ": layout '", l,
           "' is not supported on CPU (use a channel-first layout: NCW, NCHW or NCDHW)");
  if (data_ndim >= 0)
    MX_CHECK(static_cast<int>(l.size()) == data_ndim, kShape, op, ": layout '", l, "' expects ", l.size(),
             "-d data, got ", data_ndim, "-d");
}

template <typename T>
void im2col(const T* x, int64_t C, const SpatialGeom& g, T* col) {
  const int64_t L = g.out_size(), IHW = g.in[1] * g.in[2];
  int64_t row = 0;
  for (int64_t c = 0; c < C; ++c) {
    const T* xc = x + c * g.in_size();
    for (int64_t kd = 0; kd < g.k[0]; ++kd)
      for (int64_t kh = 0; kh < g.k[1]; ++kh)
        for (int64_t kw = 0; kw < g.k[2]; ++kw, ++row) {
          T* dst = col + row * L;
          const int64_t ow_off = kw * g.d[2] - g.p[2];
          // Output columns ow whose input column lies inside [0, in[2]).
          int64_t ow_lo = ow_off >= 0 ? 0 : (-ow_off + g.s[2] - 1) / g.s[2];
          int64_t ow_hi = g.in[2] - ow_off <= 0 ? 0 : (g.in[2] - ow_off + g.s[2] - 1) / g.s[2];
          ow_lo = std::min(ow_lo, g.out[2]);
          ow_hi = std::min(std::max(ow_hi, ow_lo), g.out[2]);
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
            for (int64_t oh = 0; oh < g.out[1]; ++oh, dst += g.out[2]) {
              const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
              if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
                std::fill(dst, dst + g.out[2], T(0));
                continue;
              }
              const T* src = xc + id * IHW + ih * g.in[2] + ow_off;
              std::fill(dst, dst + ow_lo, T(0));
              if (g.s[2] == 1) {
                std::memcpy(dst + ow_lo, src + ow_lo, static_cast<size_t>(ow_hi - ow_lo) * sizeof(T));
              } else {
                for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow] = src[ow * g.s[2]];
              }
              std::fill(dst + ow_hi, dst + g.out[2], T(0));
            }
          }
        }
  }
}

template <typename T>
void col2im(const T* col, int64_t C, const SpatialGeom& g, T* x) {
  const int64_t IHW = g.in[1] * g.in[2];
  for (int64_t c = 0; c < C; ++c) {
    T* xc = x + c * g.in_size();
    for (int64_t kd = 0; kd < g.k[0]; ++kd)
      for (int64_t kh = 0; kh < g.k[1]; ++kh)
        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
          const int64_t ow_off = kw * g.d[2] - g.p[2];
          int64_t ow_lo = ow_off >= 0 ? 0 : (-ow_off + g.s[2] - 1) / g.s[2];
          int64_t ow_hi = g.in[2] - ow_off <= 0 ? 0 : (g.in[2] - ow_off + g.s[2] - 1) / g.s[2];
          ow_lo = std::min(ow_lo, g.out[2]);
          ow_hi = std::min(std::max(ow_hi, ow_lo), g.out[2]);
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
            for (int64_t oh = 0; oh < g.out[1]; ++oh, col += g.out[2]) {
              const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
              if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) continue;
              T* dst = xc + id * IHW + ih * g.in[2] + ow_off;
              for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow * g.s[2]] += col[ow];
            }
          }
        }
  }
}

template void im2col<float>(const float*, int64_t, const SpatialGeom&, float*);
template void im2col<double>(const double*, int64_t, const SpatialGeom&, double*);
template void col2im<float>(const float*, int64_t, const SpatialGeom&, float*);
template void col2im<double>(const double*, int64_t, const SpatialGeom&, double*);

}  // namespace mx
