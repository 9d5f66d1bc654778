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

void pool_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  PoolSetup ps = pool_setup("Pooling", p, d);
  Shape o{d[0], d[1]};
  for (int i = 3 - ps.g.nd; i < 3; ++i) o.push_back(ps.g.out[i]);
  assign_shape("Pooling", out, 0, o);
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
  PoolSetup ps = pool_setup("Pooling", p, in[0].shape);
  if (out[0].size() == 0) return;
#ifdef MX_USE_DNNL
  if (dnnl::try_pool_forward(ps, in[0], out[0])) return;
#endif
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
