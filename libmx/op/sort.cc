// Ordering ops: sort, argsort, topk.
//
// Each op orders every 1-d line along `axis` (axis None: the flattened array) independently, lines
// in parallel. The order is total and deterministic: values compare numerically with NaN above
// every number, and equal values keep their original order (a stable sort), ascending or descending.
// topk selects with a partial sort when k is small relative to the line.
//
// Indices are written in the `dtype` parameter (float32 by default, as MXNet); a dtype that cannot
// represent every index of the line exactly is rejected.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

const std::vector<DType> kSortTypes = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                                       DType::kUInt8,   DType::kInt8,    DType::kInt32,   DType::kInt64};
const std::vector<std::string> kIndexTypes = {"uint8", "int32", "int64", "float16", "float32", "float64"};

// How a call sees its input: `outer` lines before the axis, `len` along it, `inner` after it.
struct Lines {
  int64_t outer = 1, len = 1, inner = 1;
  int axis = -1;  // normalised; -1 when flattened (axis None)
};

Lines lines_of(const Params& p, const Shape& s) {
  Lines g;
  if (p.is_none("axis")) {
    g.len = s.size();
    return g;
  }
  const int64_t a = p.get_int("axis");
  MX_CHECK(s.ndim() > 0 && a >= -s.ndim() && a < s.ndim(), kInvalidArgument, p.op().name(), ": axis ", a,
           " is out of range for input shape ", s.str());
  g.axis = static_cast<int>(a < 0 ? a + s.ndim() : a);
  g.outer = s.prod(0, g.axis);
  g.len = s[g.axis];
  g.inner = s.prod(g.axis + 1, s.ndim());
  return g;
}

// The largest index count a dtype represents exactly (MXNet's "cannot precisely represent" check).
int64_t max_exact_count(DType t) {
  switch (t) {
    case DType::kUInt8: return 255;
    case DType::kFloat16: return 2048;
    case DType::kFloat32: return int64_t(1) << 24;
    case DType::kFloat64: return int64_t(1) << 53;
    case DType::kInt32: return INT32_MAX;
    default: return INT64_MAX;
  }
}

void check_index_dtype(const Params& p, DType t, int64_t len) {
  MX_CHECK(len <= max_exact_count(t), kInvalidArgument, p.op().name(), ": dtype=", dtype_name(t),
           " cannot represent the indices of ", len, " elements exactly; choose a wider dtype");
}

// ------------------------------------------------------------------ ordering one line
template <typename T> using Key = typename AccType<T>::type;
template <typename K> inline bool nan_key(K v) { return v != v; }

// Orders idx[0, n) by key (first `k` positions only when partial) under the total order above.
template <typename K>
void order_line(const K* key, int64_t* idx, int64_t n, int64_t k, bool ascend) {
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  auto asc = [key](int64_t i, int64_t j) {
    const K a = key[i], b = key[j];
    if (a < b) return true;
    if (b < a) return false;
    const bool an = nan_key(a), bn = nan_key(b);
    if (an != bn) return bn;  // numbers before NaN
    return i < j;
  };
  auto desc = [key](int64_t i, int64_t j) {
    const K a = key[i], b = key[j];
    if (a > b) return true;
    if (b > a) return false;
    const bool an = nan_key(a), bn = nan_key(b);
    if (an != bn) return an;  // NaN first
    return i < j;
  };
  // The index tie-break makes every comparison strict, so an unstable algorithm gives the stable order.
  const bool partial = k < n && k * 8 <= n;
  if (ascend) {
    if (partial) std::partial_sort(idx, idx + k, idx + n, asc);
    else std::sort(idx, idx + n, asc);
  } else {
    if (partial) std::partial_sort(idx, idx + k, idx + n, desc);
    else std::sort(idx, idx + n, desc);
  }
}

// Writes an index into an output of the index dtype.
using IndexStore = void (*)(void* base, int64_t pos, int64_t value);
template <typename I> void store_index(void* base, int64_t pos, int64_t value) {
  if constexpr (std::is_integral<I>::value) static_cast<I*>(base)[pos] = static_cast<I>(value);
  else static_cast<I*>(base)[pos] = I(static_cast<float>(value));
}
template <> void store_index<double>(void* base, int64_t pos, int64_t value) {
  static_cast<double*>(base)[pos] = static_cast<double>(value);
}
IndexStore index_store(DType t) {
  switch (t) {
    case DType::kUInt8: return store_index<uint8_t>;
    case DType::kInt32: return store_index<int32_t>;
    case DType::kInt64: return store_index<int64_t>;
    case DType::kFloat16: return store_index<half_t>;
    case DType::kFloat32: return store_index<float>;
    case DType::kFloat64: return store_index<double>;
    default: MX_THROW(kDType, "unsupported index dtype ", dtype_name(t));
  }
}

// What to write per line: the first k ordered values and/or indices, or a 0/1 mask of them.
struct Outputs {
  void* values = nullptr;   // input dtype, k per line
  void* indices = nullptr;  // index dtype, k per line
  IndexStore store = nullptr;
  void* mask = nullptr;     // input dtype, len per line
};

template <typename T>
void order_lines(const T* x, const Lines& g, int64_t k, bool ascend, const Outputs& o) {
  using K = Key<T>;
  const int64_t n = g.len, lines = g.outer * g.inner;
  if (lines == 0 || n == 0) return;
  parallel_range(lines, [&](int64_t b, int64_t e) {
    std::vector<K> key(static_cast<size_t>(n));
    std::vector<int64_t> idx(static_cast<size_t>(n));
    for (int64_t line = b; line < e; ++line) {
      const int64_t o_ = line / g.inner, j = line % g.inner;
      const T* src = x + o_ * n * g.inner + j;
      for (int64_t i = 0; i < n; ++i) key[i] = static_cast<K>(src[i * g.inner]);
      order_line(key.data(), idx.data(), n, k, ascend);
      // Line element t of an output with `m` entries per line sits at ((o_ * m) + t) * inner + j.
      if (o.values) {
        T* dst = static_cast<T*>(o.values);
        for (int64_t t = 0; t < k; ++t) dst[(o_ * k + t) * g.inner + j] = src[idx[t] * g.inner];
      }
      if (o.indices)
        for (int64_t t = 0; t < k; ++t) o.store(o.indices, (o_ * k + t) * g.inner + j, idx[t]);
      if (o.mask) {
        T* dst = static_cast<T*>(o.mask);
        for (int64_t t = 0; t < n; ++t) dst[(o_ * n + t) * g.inner + j] = T(0);
        for (int64_t t = 0; t < k; ++t) dst[(o_ * n + idx[t]) * g.inner + j] = T(1);
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / (n * 8)));
}

void run_order(const Params& p, const TBlob& in, const Lines& g, int64_t k, bool ascend, const Outputs& o) {
  MX_DTYPE_SWITCH(in.dtype, T, {
    if constexpr (std::is_same<T, bool>::value) {
      MX_THROW(kDType, p.op().name(), ": bool input is not supported");
    } else {
      order_lines<T>(in.ptr<T>(), g, k, ascend, o);
    }
  });
}

// Shape of an output holding m entries per line (axis None: a flat (m,)).
Shape line_shape(const Shape& in, const Lines& g, int64_t m) {
  if (g.axis < 0) return Shape{m};
  Shape s = in;
  s[g.axis] = m;
  return s;
}

// ------------------------------------------------------------------ sort / argsort
void sort_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!shape_known((*in)[0])) return;
  const Lines g = lines_of(p, (*in)[0]);
  (*out)[0] = line_shape((*in)[0], g, g.len);
}

void sort_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Lines g = lines_of(p, in[0].shape);
  Outputs o;
  o.values = out[0].data;
  run_order(p, in[0], g, g.len, p.get_bool("is_ascend"), o);
}

void argsort_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  (void)in;
  (*out)[0] = parse_dtype(p.get_string("dtype"));
}

void argsort_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                     const std::vector<TBlob>& out) {
  const Lines g = lines_of(p, in[0].shape);
  check_index_dtype(p, out[0].dtype, g.len);
  Outputs o;
  o.indices = out[0].data;
  o.store = index_store(out[0].dtype);
  run_order(p, in[0], g, g.len, p.get_bool("is_ascend"), o);
}

// ------------------------------------------------------------------ topk
enum class RetTyp { kValue, kIndices, kMask, kBoth };

RetTyp ret_typ(const Params& p) {
  const std::string& r = p.get_string("ret_typ");
  if (r == "value") return RetTyp::kValue;
  if (r == "mask") return RetTyp::kMask;
  if (r == "both") return RetTyp::kBoth;
  return RetTyp::kIndices;
}

// k after MXNet's rule (k < 1: the whole line), checked against the line length.
int64_t topk_k(const Params& p, const Lines& g) {
  const int64_t k = p.get_int("k") < 1 ? g.len : p.get_int("k");
  MX_CHECK(k >= 1 && k <= g.len, kInvalidArgument, "topk: k=", p.get_int("k"), " must be between 1 and the ", g.len,
           " elements along the axis");
  return k;
}

void topk_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!shape_known((*in)[0])) return;
  const Shape& s = (*in)[0];
  const Lines g = lines_of(p, s);
  const int64_t k = topk_k(p, g);
  const RetTyp r = ret_typ(p);
  if (r == RetTyp::kMask) {
    (*out)[0] = s;
    return;
  }
  (*out)[0] = line_shape(s, g, k);
  if (r == RetTyp::kBoth) (*out)[1] = (*out)[0];
}

void topk_type(const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
  const DType idx = parse_dtype(p.get_string("dtype"));
  const DType data = (*in)[0];
  switch (ret_typ(p)) {
    case RetTyp::kIndices: (*out)[0] = idx; break;
    case RetTyp::kBoth: (*out)[0] = data; (*out)[1] = idx; break;
    default: (*out)[0] = data; break;
  }
}

void topk_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const Lines g = lines_of(p, in[0].shape);
  const int64_t k = topk_k(p, g);
  Outputs o;
  switch (ret_typ(p)) {
    case RetTyp::kValue: o.values = out[0].data; break;
    case RetTyp::kMask: o.mask = out[0].data; break;
    case RetTyp::kIndices:
      check_index_dtype(p, out[0].dtype, g.len);
      o.indices = out[0].data;
      o.store = index_store(out[0].dtype);
      break;
    case RetTyp::kBoth:
      check_index_dtype(p, out[1].dtype, g.len);
      o.values = out[0].data;
      o.indices = out[1].data;
      o.store = index_store(out[1].dtype);
      break;
  }
  run_order(p, in[0], g, k, p.get_bool("is_ascend"), o);
}

// ------------------------------------------------------------------ registration
const char* kAxisDoc = "Axis along which to sort. None sorts the flattened array. Default -1 (the last axis).";
const char* kIndexDtypeDoc =
    "DType of the output indices. An error is raised if it cannot represent every index exactly.";

MX_REGISTER_OP(sort)
    .describe("Returns a sorted copy of the input along an axis (equal values keep their order; NaN sorts "
              "above every number).")
    .input("data")
    .param_int("axis", "-1", kAxisDoc)
    .optional()
    .param_bool("is_ascend", "True", "Whether to sort in ascending or descending order.")
    .infer_shape(sort_shape)
    .dtypes(kSortTypes)
    .differentiable(false)
    .cpu(sort_compute);

MX_REGISTER_OP(argsort)
    .describe("Returns the indices that sort the input along an axis (a stable order; NaN sorts above every "
              "number).")
    .input("data")
    .param_int("axis", "-1", kAxisDoc)
    .optional()
    .param_bool("is_ascend", "True", "Whether to sort in ascending or descending order.")
    .param_enum("dtype", kIndexTypes, "float32", kIndexDtypeDoc)
    .infer_shape(sort_shape)
    .infer_type(argsort_type)
    .dtypes(kSortTypes)
    .differentiable(false)
    .cpu(argsort_compute);

MX_REGISTER_OP(topk)
    .describe("Returns the top k elements along an axis: their indices (ret_typ='indices'), values "
              "('value'), both ('both': values then indices) or a 0/1 mask of the input's shape ('mask'). "
              "is_ascend=False picks the k largest, in descending order. Equal values keep their order.")
    .input("data")
    .param_int("axis", "-1", "Axis along which to choose the top k. None uses the flattened array.")
    .optional()
    .param_int("k", "1", "Number of top elements to select; k < 1 selects the whole axis (a full sort).")
    .param_enum("ret_typ", {"value", "indices", "mask", "both"}, "indices",
                "The return type: 'value', 'indices', 'mask' or 'both' (values and indices).")
    .param_bool("is_ascend", "False", "Whether to choose the k smallest (True) or largest (False) elements.")
    .param_enum("dtype", kIndexTypes, "float32", kIndexDtypeDoc)
    .num_outputs([](const Params& p) { return ret_typ(p) == RetTyp::kBoth ? 2 : 1; })
    .infer_shape(topk_shape)
    .infer_type(topk_type)
    .dtypes(kSortTypes)
    .differentiable(false)
    .cpu(topk_compute);

}  // namespace
}  // namespace mx
