// Creation ops: _zeros, _ones, _full, _arange, _linspace, _eye (no inputs: the shape, dtype and
// device come from parameters) and zeros_like / ones_like.
#include <cmath>
#include <cstring>
#include <limits>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

const char* const kShapeDoc = "The shape of the output";
const char* const kCtxDoc = "Context of output, in format [cpu|gpu|cpu_pinned](n). Only used for imperative calls.";
const char* const kDTypeDoc = "Target data type.";

// double -> element type as numpy's astype does for finite values: truncation toward zero for
// integers, saturating (and NaN -> 0) where C++ would leave the result undefined.
template <typename T>
inline T from_double(double v) {
  if constexpr (std::is_same<T, bool>::value) {
    return v != 0.0;
  } else if constexpr (std::is_integral<T>::value) {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else if constexpr (std::is_same<T, double>::value) {
    return v;
  } else {
    return T(v);  // float: one rounding; half_t/bf16_t round once too (half.h)
  }
}

// Every element of out set to v.
void fill_blob(const TBlob& out, double v) {
  MX_DTYPE_SWITCH(out.dtype, DT, {
    const DT x = from_double<DT>(v);
    DT* p = out.ptr<DT>();
    parallel_range(out.size(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = x;
    });
  });
}

// The `shape` parameter of a creation op, checked.
Shape creation_shape(const Params& p) {
  const Shape& s = p.get_shape("shape");
  for (int i = 0; i < s.ndim(); ++i) {
    MX_CHECK(s[i] != kNoneDim && s[i] >= 0, kShape, "operator ", p.op().name(), ": invalid shape ",
             s[i] == kNoneDim ? std::string("with an unknown (None) dimension") : s.str(),
             " (dimensions must be known and non-negative)");
  }
  return s;
}

void infer_creation_shape(const Params& p, std::vector<Shape>*, std::vector<Shape>* out) {
  (*out)[0] = creation_shape(p);
}

void infer_dtype_param(const Params& p, std::vector<DType>*, std::vector<DType>* out) {
  (*out)[0] = p.get_dtype("dtype");
}

// ------------------------------------------------------------------ kernels
void zeros_cpu(const OpContext&, const Params&, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  if (out[0].size() > 0) std::memset(out[0].data, 0, out[0].nbytes());
}

void ones_cpu(const OpContext&, const Params&, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  fill_blob(out[0], 1.0);
}

void full_cpu(const OpContext&, const Params& p, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  fill_blob(out[0], p.get_float("value"));
}

// _arange's interval after MXNet's rule: with no stop, the single number is the stop and 0 the start.
struct Range {
  double start, stop, step;
  int64_t repeat;
};

Range arange_range(const Params& p) {
  Range r;
  r.start = p.get_float("start");
  r.step = p.get_float("step");
  r.repeat = p.get_int("repeat");
  const std::string& name = p.op().name();
  if (p.is_none("stop")) {
    MX_CHECK(!p.get_bool("infer_range"), kUnsupported, "operator ", name,
             ": infer_range=True without stop (the length is taken from the graph) is not supported");
    r.stop = r.start;
    r.start = 0.0;
  } else {
    r.stop = p.get_float("stop");
  }
  MX_CHECK(r.step != 0.0, kInvalidArgument, "operator ", name, ": step must not be 0");
  MX_CHECK(std::isfinite(r.start) && std::isfinite(r.stop) && std::isfinite(r.step), kInvalidArgument,
           "operator ", name, ": start, stop and step must be finite (got start=", r.start, ", stop=", r.stop,
           ", step=", r.step, ")");
  MX_CHECK(r.repeat >= 1, kInvalidArgument, "operator ", name, ": repeat must be at least 1, got ", r.repeat);
  return r;
}

int64_t arange_length(const Params& p) {
  Range r = arange_range(p);
  double n = std::ceil((r.stop - r.start) / r.step);
  if (!(n > 0)) return 0;
  MX_CHECK(n * static_cast<double>(r.repeat) < 9.0e15, kInvalidArgument, "operator ", p.op().name(),
           ": the range [", r.start, ", ", r.stop, ") with step ", r.step, " and repeat ", r.repeat,
           " has too many elements");
  return static_cast<int64_t>(n) * r.repeat;
}

void arange_cpu(const OpContext&, const Params& p, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  Range r = arange_range(p);
  MX_DTYPE_SWITCH(out[0].dtype, DT, {
    DT* o = out[0].ptr<DT>();
    parallel_range(out[0].size(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = from_double<DT>(r.start + static_cast<double>(i / r.repeat) * r.step);
    });
  });
}

void linspace_cpu(const OpContext&, const Params& p, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  const double start = p.get_float("start"), stop = p.get_float("stop");
  const int64_t num = p.get_int("num");
  const bool endpoint = p.get_bool("endpoint");
  const int64_t div = endpoint ? num - 1 : num;
  const double step = div > 0 ? (stop - start) / static_cast<double>(div) : 0.0;
  MX_DTYPE_SWITCH(out[0].dtype, DT, {
    DT* o = out[0].ptr<DT>();
    parallel_range(num, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = from_double<DT>(start + static_cast<double>(i) * step);
    });
    // As numpy: the last sample is exactly stop when it is included.
    if (endpoint && num > 1) o[num - 1] = from_double<DT>(stop);
  });
}

void eye_cpu(const OpContext&, const Params& p, const std::vector<TBlob>&, const std::vector<TBlob>& out) {
  const TBlob& o = out[0];
  if (o.size() == 0) return;
  std::memset(o.data, 0, o.nbytes());
  const int64_t rows = o.shape[0], cols = o.shape[1], k = p.get_int("k");
  // Row i holds its one at column i + k.
  const int64_t first = k >= 0 ? 0 : -k;
  MX_DTYPE_SWITCH(o.dtype, DT, {
    DT* d = o.ptr<DT>();
    const DT one = from_double<DT>(1.0);
    for (int64_t i = first; i < rows && i + k < cols; ++i) d[i * cols + i + k] = one;
  });
}

const std::vector<DType> kNumericDTypes = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                                           DType::kUInt8,   DType::kInt8,    DType::kInt32,   DType::kInt64};

}  // namespace

// ------------------------------------------------------------------ registration
MX_REGISTER_OP(_zeros)
    .describe("Returns a new array of the given shape and type, filled with zeros.")
    .alias("zeros")
    .category("init")
    .param_shape("shape", "()", kShapeDoc)
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "float32", kDTypeDoc)
    .infer_shape(infer_creation_shape)
    .infer_type(infer_dtype_param)
    .cpu(zeros_cpu);

MX_REGISTER_OP(_ones)
    .describe("Returns a new array of the given shape and type, filled with ones.")
    .category("init")
    .param_shape("shape", "()", kShapeDoc)
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "float32", kDTypeDoc)
    .infer_shape(infer_creation_shape)
    .infer_type(infer_dtype_param)
    .cpu(ones_cpu);

MX_REGISTER_OP(_full)
    .describe("Returns a new array of the given shape and type, filled with `value`.")
    .category("init")
    .param_shape("shape", "()", kShapeDoc)
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "float32", kDTypeDoc)
    .param_float("value", OpDef::kRequired, "Value with which to fill newly created tensor")
    .infer_shape(infer_creation_shape)
    .infer_type(infer_dtype_param)
    .cpu(full_cpu);

MX_REGISTER_OP(_arange)
    .describe(
        "Returns evenly spaced values within the half-open interval [start, stop) in steps of `step`, "
        "each repeated `repeat` times. With stop omitted the interval is [0, start).")
    .category("init")
    .param_float("start", OpDef::kRequired, "Start of interval. The interval includes this value. The default start value is 0.")
    .param_float("stop", "None",
                 "End of interval. The interval does not include this value, except in some cases where step is "
                 "not an integer and floating point round-off affects the length of out.")
    .param_float("step", "1", "Spacing between values.")
    .param_int("repeat", "1", "The repeating time of all elements. E.g repeat=3, the element a will be repeated three times --> a, a, a.")
    .param_bool("infer_range", "False",
                "When set to True, infer the stop position from the start, step, repeat, and output tensor size.")
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "float32", kDTypeDoc)
    .dtypes(kNumericDTypes)
    .infer_shape([](const Params& p, std::vector<Shape>*, std::vector<Shape>* out) {
      (*out)[0] = Shape{arange_length(p)};
    })
    .infer_type(infer_dtype_param)
    .cpu(arange_cpu);

MX_REGISTER_OP(_linspace)
    .describe("Returns `num` evenly spaced samples over [start, stop] (or [start, stop) with endpoint=False).")
    .category("init")
    .param_float("start", OpDef::kRequired, "Start of interval.")
    .param_float("stop", OpDef::kRequired, "End of interval.")
    .param_int("num", OpDef::kRequired, "Number of samples to generate. Must be non-negative.")
    .param_bool("endpoint", "True", "If True, stop is the last sample. Otherwise, it is not included.")
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "float32", kDTypeDoc)
    .dtypes(kNumericDTypes)
    .infer_shape([](const Params& p, std::vector<Shape>*, std::vector<Shape>* out) {
      const int64_t num = p.get_int("num");
      MX_CHECK(num >= 0, kInvalidArgument, "operator ", p.op().name(), ": num must be non-negative, got ", num);
      MX_CHECK(std::isfinite(p.get_float("start")) && std::isfinite(p.get_float("stop")), kInvalidArgument,
               "operator ", p.op().name(), ": start and stop must be finite");
      (*out)[0] = Shape{num};
    })
    .infer_type(infer_dtype_param)
    .cpu(linspace_cpu);

MX_REGISTER_OP(_eye)
    .describe("Returns a 2-D array with ones on the k-th diagonal and zeros elsewhere.")
    .category("init")
    .param_int("N", OpDef::kRequired, "Number of rows in the output.")
    .param_int("M", "0", "Number of columns in the output. If 0, defaults to N")
    .param_int("k", "0",
               "Index of the diagonal. 0 (the default) refers to the main diagonal. A positive value refers to an "
               "upper diagonal. A negative value to a lower diagonal.")
    .param_device("ctx", "cpu(0)", kCtxDoc)
    .param_dtype("dtype", "float32", kDTypeDoc)
    .infer_shape([](const Params& p, std::vector<Shape>*, std::vector<Shape>* out) {
      const int64_t n = p.get_int("N"), m = p.get_int("M");
      MX_CHECK(n >= 0, kInvalidArgument, "operator ", p.op().name(), ": N must be non-negative, got ", n);
      MX_CHECK(m >= 0, kInvalidArgument, "operator ", p.op().name(), ": M must be non-negative, got ", m);
      (*out)[0] = Shape{n, m > 0 ? m : n};
    })
    .infer_type(infer_dtype_param)
    .cpu(eye_cpu);

MX_REGISTER_OP(zeros_like)
    .describe("Returns an array of zeros with the same shape, type and storage type as the input array.")
    .category("init")
    .input("data")
    .cpu(zeros_cpu);

MX_REGISTER_OP(ones_like)
    .describe("Returns an array of ones with the same shape and type as the input array.")
    .category("init")
    .input("data")
    .cpu(ones_cpu);

}  // namespace mx
