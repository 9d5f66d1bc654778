// Shared pieces of the spatial NN ops (Convolution, Deconvolution, Pooling): the window geometry of
// 1-D/2-D/3-D ops, held as 3-D with unit leading dims so one loop nest serves all three, and the
// im2col / col2im transforms that turn a convolution into one GEMM per group.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/shape.h"
#include "ndarray/tblob.h"
#include "op/registry.h"

namespace mx {

// Window geometry over up to 3 spatial dims, right-aligned into 3 slots: a 1-D op uses slot 2 only,
// the others hold kernel 1, stride 1, dilate 1, pad 0 and size 1.
struct SpatialGeom {
  int nd = 0;                          // 1, 2 or 3 spatial dims
  int64_t k[3] = {1, 1, 1};            // kernel
  int64_t s[3] = {1, 1, 1};            // stride
  int64_t d[3] = {1, 1, 1};            // dilation
  int64_t p[3] = {0, 0, 0};            // padding (before; also after unless stated)
  int64_t in[3] = {1, 1, 1};           // input spatial size
  int64_t out[3] = {1, 1, 1};          // output spatial size
  int64_t ksize() const { return k[0] * k[1] * k[2]; }
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t dilated(int i) const { return d[i] * (k[i] - 1) + 1; }
};

// Reads a per-dim tuple parameter: empty means `fill` for every dim, else its length must equal nd
// and every entry must be >= min_value. Writes into slots 3-nd .. 2.
void spatial_param(const char* op, const Params& p, const char* name, int nd, int64_t fill, int64_t min_value,
                   int64_t* dst);

// Checks the `layout` parameter (None or one of the channel-first layouts matching data_ndim);
// channel-last layouts are kUnsupported. data_ndim < 0 skips the rank check.
void check_layout(const char* op, const Params& p, int data_ndim);

// col (C * ksize, out_size) from x (C, in_size): row (c, kd, kh, kw), column (od, oh, ow) holds
// x[c, od*s - p + kd*d, ...] or 0 outside the input. Float/double only.
template <typename T>
void im2col(const T* x, int64_t C, const SpatialGeom& g, T* col);
// The adjoint: x (C, in_size) += every col entry scattered back to its input position
// (entries that fall in the padding are dropped). x must be initialised by the caller.
template <typename T>
void col2im(const T* col, int64_t C, const SpatialGeom& g, T* x);

}  // namespace mx
