// oneDNN fast paths for the spatial nn ops: Convolution forward and its data/weight gradients,
// Pooling forward. The portable kernels in op/nn and op/grad stay the reference and the fallback:
// every try_* returns false (having written nothing) when oneDNN is not built in, is switched off
// at run time (environment MX_DNNL=0, read once), or the case is not one it takes (a dtype other
// than float32, a layout or parameter it does not cover, a primitive it refuses, a shape where it
// measured slower). BatchNorm stays portable: oneDNN's kernel for plain NCHW data measured slower
// than MX's (inference 7.7 ms vs 4.2 ms, training 13.3 ms vs 9.4 ms on 32x64x56x56, 2 cores).
//
// This header is light on purpose: the oneDNN headers are included by dnnl_ops.cc only.
// Primitives are created once per (op, shapes, params, thread count) and cached; oneDNN's OpenMP
// threads follow MX's num_threads() (MX_NUM_THREADS).
#pragma once
#include <cstdint>

#include "ndarray/tblob.h"
#include "op/nn/im2col.h"
#include "op/nn/pool_geom.h"

namespace mx {
namespace dnnl {

// "onednn <version> (<threading>)" when built with oneDNN, else "none".
const char* library_info();
// Whether the oneDNN paths are taken at all: built in and not disabled with MX_DNNL=0.
// (Tests prove a path ran with oneDNN's own log, ONEDNN_VERBOSE=1.)
bool enabled();

// Convolution geometry as the portable kernels see it: g.in is the image (the convolution's data),
// g.out the convolution's output; N samples, C image channels, F output channels, G groups.
struct ConvShape {
  SpatialGeom g;
  int64_t N = 0, C = 0, F = 0, G = 1;
};

// y = conv(x, w) + b (b may be null); x (N, C, in...), w (F, C/G, k...), y (N, F, out...).
bool try_conv_forward(const ConvShape& cs, const TBlob& x, const TBlob& w, const TBlob* b, const TBlob& y);
// dx = the gradient of conv with respect to its data, from dy (N, F, out...) and w; dx is overwritten.
bool try_conv_backward_data(const ConvShape& cs, const TBlob& dy, const TBlob& w, const TBlob& dx);
// dw = the gradient with respect to the weight, from dy and x; dw is overwritten.
bool try_conv_backward_weight(const ConvShape& cs, const TBlob& dy, const TBlob& x, const TBlob& dw);

// Pooling forward (max and avg; sum and lp are left to the portable kernel).
bool try_pool_forward(const PoolSetup& ps, const TBlob& x, const TBlob& y);

// Row-major float32 C = alpha op(A) op(B) + beta C with oneDNN's GEMM (faster than OpenBLAS for
// the small and mid-sized products of training steps on this kind of machine, and on the same
// OpenMP threads as every other kernel). False when off, or for GEMMs small enough that the call
// overhead dominates (the caller's BLAS then runs it).
bool try_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace dnnl
}  // namespace mx
