// UpSampling with sample_type='nearest': every input (N, C_i, h_i, w_i) is repeated up to the size
// of the first one times `scale`, then the results are concatenated along channels
// (multi_input_mode='concat') or summed ('sum'). sample_type='bilinear' (a learned deconvolution in
// MXNet) is not implemented and raises an unsupported error. workspace is accepted and ignored
// (scratch-memory hint); num_filter is only meaningful for bilinear.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

void check_nearest(const Params& p) {
  MX_CHECK(p.get_string("sample_type") == "nearest", kUnsupported,
           "UpSampling: sample_type='bilinear' is not supported (only 'nearest')");
  MX_CHECK(p.get_int("scale") >= 1, kInvalidArgument, "UpSampling: scale must be positive, got ", p.get_int("scale"));
  MX_CHECK(p.get_int("num_args") >= 1, kInvalidArgument, "UpSampling: num_args must be positive, got ",
           p.get_int("num_args"));
}

void upsampling_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  check_nearest(p);
  for (const Shape& s : *in)
    if (!s.known()) return;
  const Shape& d = (*in)[0];
  MX_CHECK(d.ndim() == 4, kShape, "UpSampling: inputs must be 4-d (N, C, h, w), got ", d.str());
  const int64_t scale = p.get_int("scale");
  const bool sum = p.get_string("multi_input_mode") == "sum";
  Shape o{d[0], d[1], d[2] * scale, d[3] * scale};
  for (size_t i = 1; i < in->size(); ++i) {
    const Shape& s = (*in)[i];
    MX_CHECK(s.ndim() == 4, kShape, "UpSampling: inputs must be 4-d (N, C, h, w), input ", i, " has shape ", s.str());
    MX_CHECK(s[0] == d[0], kShape, "UpSampling: input ", i, " has batch size ", s[0], " (shape ", s.str(),
             "), input 0 has ", d[0], " (shape ", d.str(), ")");
    MX_CHECK(s[2] > 0 && s[3] > 0 && o[2] % s[2] == 0 && o[3] % s[3] == 0, kShape, "UpSampling: the output size (",
             o[2], ", ", o[3], ") is not a multiple of input ", i, "'s size (", s[2], ", ", s[3], ")");
    if (sum) {
      MX_CHECK(s[1] == d[1], kShape, "UpSampling: multi_input_mode='sum' needs equal channel counts, input ", i,
               " has shape ", s.str(), ", input 0 has ", d.str());
    } else {
      o[1] += s[1];
    }
  }
  assign_shape("UpSampling", out, 0, o);
}

template <typename T>
void upsample_one(const T* x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t coff, int64_t OH,
                  int64_t OW, bool add, T* y) {
  using A = typename AccType<T>::type;
  const int64_t sh = OH / H, sw = OW / W;
  parallel_range(N * C, [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      const int64_t n = pl / C, c = pl % C;
      const T* xp = x + pl * H * W;
      T* yp = y + ((n * OC) + coff + c) * OH * OW;
      for (int64_t oy = 0; oy < OH; ++oy) {
        const T* row = xp + (oy / sh) * W;
        T* orow = yp + oy * OW;
        if (add) {
          for (int64_t ox = 0; ox < OW; ++ox)
            orow[ox] = static_cast<T>(static_cast<A>(orow[ox]) + static_cast<A>(row[ox / sw]));
        } else {
          for (int64_t ox = 0; ox < OW; ++ox) orow[ox] = row[ox / sw];
        }
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(OH * OW, 1)));
}

void upsampling_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  check_nearest(p);
  const TBlob& y = out[0];
  if (y.size() == 0) return;
  const bool sum = p.get_string("multi_input_mode") == "sum";
  const int64_t OC = y.shape[1], OH = y.shape[2], OW = y.shape[3];
  MX_FLOAT_DTYPE_SWITCH(y.dtype, T, {
    int64_t coff = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const Shape& s = in[i].shape;
      upsample_one<T>(in[i].ptr<T>(), s[0], s[1], s[2], s[3], OC, coff, OH, OW, sum && i > 0, y.ptr<T>());
      if (!sum) coff += s[1];
    }
  });
}

}  // namespace

// gradient: see libmx/op/grad/ (none yet where no file there names this op)
MX_REGISTER_OP(UpSampling)
    .category("nn")
    .describe(
        "Upsamples the given inputs (N, C, h, w) by nearest-neighbour repetition. The output size is "
        "(scale * h_0, scale * w_0) of the first input; every other input is repeated up to that size (which must "
        "be a multiple of its own) and the results are concatenated along channels (multi_input_mode='concat') or "
        "summed ('sum'). sample_type='bilinear' is not supported (raises an unsupported error). workspace is "
        "accepted and ignored (performance hint only).")
    .variadic_input("data", "num_args")
    .param_int("scale", OpDef::kRequired, "Up sampling scale")
    .param_int("num_filter", "0",
               "Input filter. Only used by bilinear sample_type.Since bilinear upsampling uses deconvolution, "
               "num_filters is set to the number of channels.")
    .param_enum("sample_type", {"bilinear", "nearest"}, OpDef::kRequired, "upsampling method")
    .param_enum("multi_input_mode", {"concat", "sum"}, "concat",
                "How to handle multiple input. concat means concatenate upsampled images along the channel "
                "dimension. sum means add all images together, only available for nearest neighbor upsampling.")
    .param_int("num_args", OpDef::kRequired,
               "Number of inputs to be upsampled. For nearest neighbor upsampling, this can be 1-N; the size of "
               "output will be(scale*h_0,scale*w_0) and all other inputs will be upsampled to thesame size.")
    .param_int("workspace", "512", "Accepted for MXNet compatibility and ignored (a scratch-memory hint).")
    .infer_shape(upsampling_shape)
    .float_dtypes()
    .cpu(upsampling_cpu)
    .differentiable(false);

}  // namespace mx
