// Pooling window geometry, shared by the forward op (nn/pooling.cc) and its gradient
// (grad/conv_grad.cc) so both read exactly the same windows.
//
// A window of output o along one dim starts at o * stride - pad and covers
// [start, min(start + kernel, in + pad)); the elements read are its part inside [0, in).
#pragma once
#include <algorithm>
#include <cstdint>

#include "op/nn/im2col.h"
#include "op/registry.h"

namespace mx {

enum class PoolType { kMax, kAvg, kSum, kLp };

struct PoolSetup {
  SpatialGeom g;
  PoolType type = PoolType::kMax;
  int64_t planes = 0;  // N * C
  bool include_pad = true;
  int64_t p_value = 0;
};

// Parses and checks Pooling's parameters against data's shape; errors are prefixed with `op`.
PoolSetup pool_setup(const char* op, const Params& p, const Shape& data);

struct Span {
  int64_t lo, hi, full;  // elements read [lo, hi); window size counting padding
};

inline Span span(const SpatialGeom& g, int i, int64_t o) {
  const int64_t st = o * g.s[i] - g.p[i];
  const int64_t en = std::min(st + g.k[i], g.in[i] + g.p[i]);
  return {std::max<int64_t>(st, 0), std::min(en, g.in[i]), en - st};
}

}  // namespace mx
