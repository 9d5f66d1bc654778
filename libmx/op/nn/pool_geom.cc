// Pooling window geometry (see pool_geom.h).
#include "op/nn/pool_geom.h"

#include <string>

namespace mx {

PoolSetup pool_setup(const char* op, const Params& p, const Shape& data) {
  PoolSetup ps;
  SpatialGeom& g = ps.g;
  const int dn = data.ndim();
  MX_CHECK(dn >= 3 && dn <= 5, kShape, op, ": data must be 3-d (N, C, w), 4-d (N, C, h, w) or 5-d (N, C, d, h, w), got ",
           data.str());
  check_layout(op, p, dn);
  const std::string& t = p.get_string("pool_type");
  ps.type = t == "max" ? PoolType::kMax : t == "avg" ? PoolType::kAvg : t == "sum" ? PoolType::kSum : PoolType::kLp;
  if (ps.type == PoolType::kLp) {
    MX_CHECK(!p.is_none("p_value"), kInvalidArgument, op, ": pool_type='lp' needs p_value");
    ps.p_value = p.get_int("p_value");
    MX_CHECK(ps.p_value >= 1, kInvalidArgument, op, ": p_value must be a positive integer, got ", ps.p_value);
  }
  ps.include_pad = p.is_none("count_include_pad") ? true : p.get_bool("count_include_pad");
  ps.planes = data[0] * data[1];
  const std::string& conv = p.get_string("pooling_convention");
  const int nd = dn - 2;
  g.nd = nd;
  if (p.get_bool("global_pool")) {
    for (int i = 3 - nd; i < 3; ++i) {
      g.in[i] = data[i - 3 + dn];
      g.k[i] = g.in[i];
      g.out[i] = 1;
    }
    return ps;
  }
  const Shape& k = p.get_shape("kernel");
  MX_CHECK(k.ndim() >= 1, kInvalidArgument, op, ": kernel is required unless global_pool=True");
  MX_CHECK(k.ndim() == nd, kShape, op, ": kernel=", k.str(), " has ", k.ndim(), " entries but data ", data.str(),
           " has ", nd, " spatial dims");
  spatial_param(op, p, "kernel", nd, 1, 1, g.k);
  spatial_param(op, p, "stride", nd, 1, 1, g.s);
  spatial_param(op, p, "pad", nd, 0, 0, g.p);
  if (conv == "same") {
    MX_CHECK(nd == 1, kShape, op, ": pooling_convention='same' supports 1-d pooling only (data (N, C, w)), got ",
             data.str());
    MX_CHECK(g.p[2] == 0, kInvalidArgument, op, ": pooling_convention='same' does not take pad");
  }
  for (int i = 3 - nd; i < 3; ++i) {
    g.in[i] = data[i - 3 + dn];
    const int64_t padded = g.in[i] + 2 * g.p[i];
    MX_CHECK(g.k[i] <= padded, kShape, op, ": kernel=", k.str(), " exceeds the padded input (data ", data.str(),
             ", pad ", g.p[i], " on each side of that axis)");
    if (conv == "valid") {
      g.out[i] = 1 + (padded - g.k[i]) / g.s[i];
    } else if (conv == "full") {
      g.out[i] = 1 + (padded - g.k[i] + g.s[i] - 1) / g.s[i];
    } else {  // same: out = ceil(in / stride); windows start at o * stride and are cut at the end
      g.out[i] = (g.in[i] + g.s[i] - 1) / g.s[i];
    }
  }
  return ps;
}

}  // namespace mx
