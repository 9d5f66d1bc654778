// Pooling: max / avg / sum / lp over 1-D, 2-D or 3-D windows of channel-first data, with MXNet's
// valid / full / same output conventions, global pooling and count_include_pad.
//
// Window semantics (as MXNet): a window of output o along one dim starts at o * stride - pad and
// covers [start, min(start + kernel, in + pad)); the elements read are its part inside [0, in).
// avg divides by that window's size when count_include_pad (default) and by the number of elements
// read otherwise. max ignores padding. lp computes (sum |x|^p)^(1/p). cudnn_off is accepted and
// ignored (it only picks cuDNN on GPU).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "op/kernel_util.h"
#include "op/nn/im2col.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

enum class PoolType { kMax, kAvg, kSum, kLp };

struct PoolSetup {
  SpatialGeom g;
  PoolType type = PoolType::kMax;
  int64_t planes = 0;  // N * C
  bool include_pad = true;
  int64_t p_value = 0;
};

PoolSetup pool_setup(const Params& p, const Shape& data) {
  PoolSetup ps;
  SpatialGeom& g = ps.g;
  const int dn = data.ndim();
  MX_CHECK(dn >= 3 && dn <= 5, kShape, "Pooling: data must be 3-d (N, C, w), 4-d (N, C, h, w) or 5-d (N, C, d, h, w), got ",
           data.str());
  check_layout("Pooling", p, dn);
  const std::string& t = p.get_string("pool_type");
  ps.type = t == "max" ? PoolType::kMax : t == "avg" ? PoolType::kAvg : t == "sum" ? PoolType::kSum : PoolType::kLp;
  if (ps.type == PoolType::kLp) {
    MX_CHECK(!p.is_none("p_value"), kInvalidArgument, "Pooling: pool_type='lp' needs p_value");
    ps.p_value = p.get_int("p_value");
    MX_CHECK(ps.p_value >= 1, kInvalidArgument, "Pooling: p_value must be a positive integer, got ", ps.p_value);
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
  MX_CHECK(k.ndim() >= 1, kInvalidArgument, "Pooling: kernel is required unless global_pool=True");
  MX_CHECK(k.ndim() == nd, kShape, "Pooling: kernel=", k.str(), " has ", k.ndim(), " entries but data ", data.str(),
           " has ", nd, " spatial dims");
  spatial_param("Pooling", p, "kernel", nd, 1, 1, g.k);
  spatial_param("Pooling", p, "stride", nd, 1, 1, g.s);
  spatial_param("Pooling", p, "pad", nd, 0, 0, g.p);
  if (conv == "same") {
    MX_CHECK(nd == 1, kShape, "Pooling: pooling_convention='same' supports 1-d pooling only (data (N, C, w)), got ",
             data.str());
    MX_CHECK(g.p[2] == 0, kInvalidArgument, "Pooling: pooling_convention='same' does not take pad");
  }
  for (int i = 3 - nd; i < 3; ++i) {
    g.in[i] = data[i - 3 + dn];
    const int64_t padded = g.in[i] + 2 * g.p[i];
    MX_CHECK(g.k[i] <= padded, kShape, "Pooling: kernel=", k.str(), " exceeds the padded input (data ", data.str(),
             ", pad ", p.get_shape("pad").str(), ")");
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

void pool_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  PoolSetup ps = pool_setup(p, d);
  Shape o{d[0], d[1]};
  for (int i = 3 - ps.g.nd; i < 3; ++i) o.push_back(ps.g.out[i]);
  assign_shape("Pooling", out, 0, o);
}

struct Span {
  int64_t lo, hi, full;  // elements read [lo, hi); window size counting padding
};

inline Span span(const SpatialGeom& g, int i, int64_t o) {
  const int64_t st = o * g.s[i] - g.p[i];
  const int64_t en = std::min(st + g.k[i], g.in[i] + g.p[i]);
  return {std::max<int64_t>(st, 0), std::min(en, g.in[i]), en - st};
}

template <typename T>
void pool_forward(const PoolSetup& ps, const T* x, T* y) {
  using A = typename AccType<T>::type;
  const SpatialGeom& g = ps.g;
  const int64_t I = g.in_size(), O = g.out_size(), HW = g.in[1] * g.in[2];
  const A pv = static_cast<A>(ps.p_value);
  parallel_range(ps.planes, [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      const T* xp = x + pl * I;
      T* yp = y + pl * O;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const Span sd = span(g, 0, od);
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          const Span sh = span(g, 1, oh);
          for (int64_t ow = 0; ow < g.out[2]; ++ow, ++yp) {
            const Span sw = span(g, 2, ow);
            A acc = ps.type == PoolType::kMax ? std::numeric_limits<A>::lowest() : A(0);
            for (int64_t id = sd.lo; id < sd.hi; ++id)
              for (int64_t ih = sh.lo; ih < sh.hi; ++ih) {
                const T* row = xp + id * HW + ih * g.in[2];
                for (int64_t iw = sw.lo; iw < sw.hi; ++iw) {
                  const A v = static_cast<A>(row[iw]);
                  switch (ps.type) {
                    case PoolType::kMax: acc = v > acc ? v : acc; break;
                    case PoolType::kLp:
                      acc += ps.p_value == 1 ? std::abs(v) : ps.p_value == 2 ? v * v : std::pow(std::abs(v), pv);
                      break;
                    default: acc += v;
                  }
                }
              }
            if (ps.type == PoolType::kAvg) {
              const int64_t n = ps.include_pad ? sd.full * sh.full * sw.full
                                               : (sd.hi - sd.lo) * (sh.hi - sh.lo) * (sw.hi - sw.lo);
              acc = acc / static_cast<A>(n);
            } else if (ps.type == PoolType::kLp && ps.p_value > 1) {
              acc = ps.p_value == 2 ? std::sqrt(acc) : std::pow(acc, A(1) / pv);
            }
            *yp = static_cast<T>(acc);
          }
        }
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(O * g.ksize(), 1)));
}

void pool_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  PoolSetup ps = pool_setup(p, in[0].shape);
  if (out[0].size() == 0) return;
  MX_FLOAT_DTYPE_SWITCH(in[0].dtype, T, { pool_forward<T>(ps, in[0].ptr<T>(), out[0].ptr<T>()); });
}

}  // namespace

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(Pooling)
    .alias("_npx_pooling")
    .category("nn")
    .describe(
        "Performs pooling on data (N, C, w), (N, C, h, w) or (N, C, d, h, w). pool_type: max, avg, sum or lp "
        "((sum |x|^p_value)^(1/p_value)). Output size per dim: valid: floor((x + 2 * pad - kernel) / stride) + 1; "
        "full: ceil((x + 2 * pad - kernel) / stride) + 1; same (1-d only, no pad): ceil(x / stride), the last "
        "windows cut at the end of the input. global_pool "
        "pools each whole channel (kernel = spatial size, no pad) to size 1. avg counts padded positions unless "
        "count_include_pad=False. cudnn_off is accepted and ignored (performance hint only).")
    .input("data")
    .param_shape("kernel", "()", "Pooling kernel size: (y, x) or (d, y, x)")
    .param_enum("pool_type", {"avg", "lp", "max", "sum"}, "max", "Pooling type to be applied.")
    .param_bool("global_pool", "False",
                "Ignore kernel size, do global pooling based on current input feature map. ")
    .param_bool("cudnn_off", "False", "Accepted for MXNet compatibility and ignored (selects cuDNN on GPU only).")
    .param_enum("pooling_convention", {"full", "same", "valid"}, "valid", "Pooling convention to be applied.")
    .param_shape("stride", "()", "Stride: for pooling (y, x) or (d, y, x). Defaults to 1 for each dimension.")
    .param_shape("pad", "()", "Pad for pooling: (y, x) or (d, y, x). Defaults to no padding.")
    .param_int("p_value", "None", "Value of p for Lp pooling, can be 1 or 2, required for Lp Pooling.")
    .param_bool("count_include_pad", "None",
                "Only used for AvgPool, specify whether to count padding elements for averagecalculation. For "
                "example, with a 5*5 kernel on a 3*3 corner of a image,the sum of the 9 valid elements will be "
                "divided by 25 if this is set to true,or it will be divided by 9 if this is set to false. Defaults "
                "to true.")
    .param_enum("layout", {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"}, "None",
                "Set layout for input and output. Empty for default layout: NCW for 1d, NCHW for 2d and NCDHW for "
                "3d. Only the channel-first layouts are supported on CPU.")
    .infer_shape(pool_shape)
    .float_dtypes()
    .cpu(pool_cpu)
    .differentiable(false);

}  // namespace mx
