// Indexing ops: take, pick, one_hot, where, gather_nd, scatter_nd, _scatter_set_nd.
// Index inputs may have any dtype (floats are truncated, as MXNet does); data moves as raw bytes.
#include <algorithm>
#include <cstring>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

// Copies rows of `inner` elements: dst row r <- src row rows[r], for r in [0, n).
template <typename T>
void gather_rows_typed(T* dst, const T* src, const int64_t* rows, int64_t n, int64_t inner) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1));
  parallel_range(n, [&](int64_t b, int64_t e) {
    if (inner == 1) {
      for (int64_t r = b; r < e; ++r) dst[r] = src[rows[r]];
    } else {
      for (int64_t r = b; r < e; ++r)
        std::memcpy(dst + r * inner, src + rows[r] * inner, static_cast<size_t>(inner) * sizeof(T));
    }
  }, grain);
}

void gather_rows(void* dst, const void* src, const int64_t* rows, int64_t n, int64_t inner, size_t es) {
  if (n == 0 || inner == 0) return;
  switch (es) {
    case 1: gather_rows_typed(static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(src), rows, n, inner); break;
    case 2: gather_rows_typed(static_cast<uint16_t*>(dst), static_cast<const uint16_t*>(src), rows, n, inner); break;
    case 4: gather_rows_typed(static_cast<uint32_t*>(dst), static_cast<const uint32_t*>(src), rows, n, inner); break;
    case 8: gather_rows_typed(static_cast<uint64_t*>(dst), static_cast<const uint64_t*>(src), rows, n, inner); break;
    default: MX_THROW(kInternal, "gather_rows: unsupported element size ", es);
  }
}

// Sequential so that duplicate indices resolve deterministically (the last write wins).
void scatter_rows(void* dst, const void* src, const int64_t* rows, int64_t n, int64_t inner, size_t es) {
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  const size_t row_bytes = static_cast<size_t>(inner) * es;
  for (int64_t r = 0; r < n; ++r) std::memcpy(d + rows[r] * row_bytes, s + r * row_bytes, row_bytes);
}

// Output dtype follows input 0 (the data); the other inputs keep their own dtype.
void data_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  if ((*in)[0] != kUnknownDType) (*out)[0] = (*in)[0];
  else if ((*out)[0] != kUnknownDType) (*in)[0] = (*out)[0];
}

// ------------------------------------------------------------------ take
void take_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& a = (*in)[0];
  const Shape& idx = (*in)[1];
  if (!a.known() || !idx.known()) return;
  MX_CHECK(a.ndim() >= 1, kShape, "take: the data must have at least 1 dim");
  int axis = check_axis("take", p.get_int("axis"), a.ndim());
  Shape o;
  for (int i = 0; i < axis; ++i) o.push_back(a[i]);
  for (int i = 0; i < idx.ndim(); ++i) o.push_back(idx[i]);
  for (int i = axis + 1; i < a.ndim(); ++i) o.push_back(a[i]);
  assign_shape("take", out, 0, o);
}

// Maps an index into [0, n) by the mode (clip, wrap or raise); raise throws kIndex.
inline int64_t fix_index(const char* op, int64_t j, int64_t n, char mode) {
  if (mode == 'c') return j < 0 ? 0 : (j >= n ? n - 1 : j);
  if (mode == 'w') {
    if (j == INT64_MIN) return 0;
    int64_t m = j % n;
    return m < 0 ? m + n : m;
  }
  if (j < 0 || j >= n)
    MX_THROW(kIndex, op, ": index ", j == INT64_MIN ? std::string("(not a finite integer)") : std::to_string(j),
             " is out of bounds for an axis of size ", n, " (mode='raise')");
  return j;
}

char mode_code(const std::string& m) { return m == "clip" ? 'c' : (m == "wrap" ? 'w' : 'r'); }

void take_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& a = in[0];
  const TBlob& o = out[0];
  const int axis = check_axis("take", p.get_int("axis"), a.ndim());
  const int64_t n = a.shape[axis];
  std::vector<int64_t> idx = load_indices(in[1]);
  const int64_t m = static_cast<int64_t>(idx.size());
  if (m == 0 || o.size() == 0) return;
  MX_CHECK(n > 0, kIndex, "take: cannot take from axis ", axis, " of size 0 (data shape ", a.shape.str(), ")");
  const char mode = mode_code(p.get_string("mode"));
  for (auto& j : idx) j = fix_index("take", j, n, mode);
  const int64_t outer = a.shape.prod(0, axis), inner = a.shape.prod(axis + 1, a.ndim());
  // Output rows are (outer, m); each is one input row of `inner` elements.
  std::vector<int64_t> rows(static_cast<size_t>(outer * m));
  for (int64_t q = 0; q < outer; ++q)
    for (int64_t k = 0; k < m; ++k) rows[q * m + k] = q * n + idx[k];
  gather_rows(o.data, a.data, rows.data(), outer * m, inner, dtype_size(a.dtype));
}

// ------------------------------------------------------------------ pick
int pick_axis(const Params& p, int nd) {
  MX_CHECK(!p.is_none("axis"), kUnsupported, "pick: axis=None is not supported (as in MXNet); give an axis");
  return check_axis("pick", p.get_int("axis"), nd);
}

void pick_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  MX_CHECK(d.ndim() >= 1, kShape, "pick: the data must have at least 1 dim");
  int axis = pick_axis(p, d.ndim());
  Shape reduced = d, kept = d;
  reduced.erase(axis);
  kept[axis] = 1;
  const Shape& idx = (*in)[1];
  if (idx.known())
    MX_CHECK(idx == reduced || idx == kept, kShape, "pick: index has shape ", idx.str(), " but data ", d.str(),
             " with axis=", axis, " needs index shape ", reduced.str(), " or ", kept.str());
  assign_shape("pick", out, 0, p.get_bool("keepdims") ? kept : reduced);
}

void pick_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& d = in[0];
  const int axis = pick_axis(p, d.ndim());
  const int64_t n = d.shape[axis];
  const int64_t outer = d.shape.prod(0, axis), inner = d.shape.prod(axis + 1, d.ndim());
  std::vector<int64_t> idx = load_indices(in[1]);
  if (idx.empty()) return;
  MX_CHECK(n > 0, kIndex, "pick: cannot pick from axis ", axis, " of size 0 (data shape ", d.shape.str(), ")");
  const char mode = mode_code(p.get_string("mode"));
  for (int64_t q = 0; q < outer; ++q)
    for (int64_t k = 0; k < inner; ++k) {
      int64_t& j = idx[q * inner + k];
      j = (q * n + fix_index("pick", j, n, mode)) * inner + k;
    }
  gather_rows(out[0].data, d.data, idx.data(), static_cast<int64_t>(idx.size()), 1, dtype_size(d.dtype));
}

// ------------------------------------------------------------------ one_hot
void one_hot_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& idx = (*in)[0];
  if (!idx.known()) return;
  int64_t depth = p.get_int("depth");
  MX_CHECK(depth >= 0, kInvalidArgument, "one_hot: depth must be non-negative, got ", depth);
  Shape o = idx;
  o.push_back(depth);
  assign_shape("one_hot", out, 0, o);
}

void one_hot_type(const Params& p, std::vector<DType>*, std::vector<DType>* out) { (*out)[0] = p.get_dtype("dtype"); }

void one_hot_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& o = out[0];
  if (o.size() == 0) return;
  const int64_t depth = p.get_int("depth");
  const size_t es = dtype_size(o.dtype);
  unsigned char on[8], off[8];
  scalar_to_bytes(p.get_float("on_value"), o.dtype, on);
  scalar_to_bytes(p.get_float("off_value"), o.dtype, off);
  fill_bytes(o.data, o.size(), off, es);
  std::vector<int64_t> idx = load_indices(in[0]);
  char* base = static_cast<char*>(o.data);
  const int64_t n = static_cast<int64_t>(idx.size());
  parallel_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      int64_t j = idx[i];
      if (j >= 0 && j < depth) std::memcpy(base + static_cast<size_t>(i * depth + j) * es, on, es);
    }
  });
}

// ------------------------------------------------------------------ where
void where_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &c = (*in)[0], &x = (*in)[1], &y = (*in)[2];
  if (!c.known() || !x.known() || !y.known()) return;
  MX_CHECK(x == y, kShape, "where: x has shape ", x.str(), " but y has shape ", y.str(), " (they must match)");
  bool row_cond = c.ndim() == 1 && x.ndim() >= 1 && c[0] == x[0];
  MX_CHECK(c == x || row_cond, kShape, "where: condition has shape ", c.str(), " but x has shape ", x.str(),
           " (condition must have the shape of x, or be 1-d of size x.shape[0])");
  assign_shape("where", out, 0, x);
}

void where_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  DType tx = (*in)[1], ty = (*in)[2];
  if (tx != kUnknownDType && ty != kUnknownDType)
    MX_CHECK(tx == ty, kDType, "where: x has dtype ", dtype_name(tx), " but y has dtype ", dtype_name(ty),
             " (they must match)");
  DType t = tx != kUnknownDType ? tx : (ty != kUnknownDType ? ty : (*out)[0]);
  if (t == kUnknownDType) return;
  (*in)[1] = (*in)[2] = (*out)[0] = t;
}

template <typename C>
void cond_to_bool(const C* c, uint8_t* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) b[i] = cast_value<bool, C>(c[i]) ? 1 : 0;
}

template <typename T>
void select_typed(T* o, const T* x, const T* y, const uint8_t* c, int64_t n, int64_t inner) {
  // inner == 1: one flag per element; otherwise one flag per row of `inner` elements.
  const int64_t rows = n / std::max<int64_t>(inner, 1);
  parallel_range(rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* s = c[r] ? x : y;
      if (inner == 1) o[r] = s[r];
      else std::memcpy(o + r * inner, s + r * inner, static_cast<size_t>(inner) * sizeof(T));
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1)));
}

void where_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob &c = in[0], &x = in[1], &y = in[2], &o = out[0];
  const int64_t n = o.size();
  if (n == 0) return;
  std::vector<uint8_t> flags(static_cast<size_t>(c.size()));
  MX_DTYPE_SWITCH(c.dtype, C, { cond_to_bool(c.ptr<C>(), flags.data(), c.size()); });
  const int64_t inner = c.size() == n ? 1 : n / c.size();
  switch (dtype_size(o.dtype)) {
    case 1: select_typed(o.ptr<uint8_t>(), x.ptr<uint8_t>(), y.ptr<uint8_t>(), flags.data(), n, inner); break;
    case 2: select_typed(o.ptr<uint16_t>(), x.ptr<uint16_t>(), y.ptr<uint16_t>(), flags.data(), n, inner); break;
    case 4: select_typed(o.ptr<uint32_t>(), x.ptr<uint32_t>(), y.ptr<uint32_t>(), flags.data(), n, inner); break;
    default: select_typed(o.ptr<uint64_t>(), x.ptr<uint64_t>(), y.ptr<uint64_t>(), flags.data(), n, inner); break;
  }
}

// ------------------------------------------------------------------ gather_nd / scatter_nd
// indices has shape (M, Y...): column i addresses data[idx[0][i], ..., idx[M-1][i], ...]. Negative
// entries count from the end; out-of-range entries raise kIndex.
void check_nd_indices(const char* op, const Shape& idx, const Shape& target) {
  MX_CHECK(idx.ndim() >= 2, kShape, op, ": indices must have at least 2 dims (M, ...), got shape ", idx.str());
  MX_CHECK(idx[0] >= 1 && idx[0] <= target.ndim(), kShape, op, ": indices.shape[0]=", idx[0],
           " must be between 1 and the ", target.ndim(), " dims of ", target.str());
}

// Row offsets (in units of the trailing block) of every index column.
std::vector<int64_t> nd_rows(const char* op, const TBlob& indices, const Shape& target) {
  const int64_t m = indices.shape[0];
  const int64_t n = indices.size() / m;
  std::vector<int64_t> idx = load_indices(indices);
  std::vector<int64_t> rows(static_cast<size_t>(n), 0);
  for (int64_t j = 0; j < m; ++j) {
    const int64_t dim = target[static_cast<int>(j)];
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = idx[j * n + i];
      MX_CHECK(v >= -dim && v < dim, kIndex, op, ": index ",
               v == INT64_MIN ? std::string("(not a finite integer)") : std::to_string(v),
               " is out of bounds for axis ", j, " of size ", dim, " (shape ", target.str(), ")");
      if (v < 0) v += dim;
      rows[i] = rows[i] * dim + v;
    }
  }
  return rows;
}

void gather_nd_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &d = (*in)[0], &idx = (*in)[1];
  if (!d.known() || !idx.known()) return;
  check_nd_indices("gather_nd", idx, d);
  Shape o;
  for (int i = 1; i < idx.ndim(); ++i) o.push_back(idx[i]);
  for (int i = static_cast<int>(idx[0]); i < d.ndim(); ++i) o.push_back(d[i]);
  assign_shape("gather_nd", out, 0, o);
}

void gather_nd_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob &d = in[0], &ind = in[1];
  if (out[0].size() == 0) return;
  std::vector<int64_t> rows = nd_rows("gather_nd", ind, d.shape);
  const int64_t inner = d.shape.prod(static_cast<int>(ind.shape[0]), d.ndim());
  gather_rows(out[0].data, d.data, rows.data(), static_cast<int64_t>(rows.size()), inner, dtype_size(d.dtype));
}

// data (Y..., X...) scattered into `target` through indices (M, Y...): checks the combination.
void check_scatter(const char* op, const Shape& data, const Shape& idx, const Shape& target) {
  check_nd_indices(op, idx, target);
  Shape want;
  for (int i = 1; i < idx.ndim(); ++i) want.push_back(idx[i]);
  for (int i = static_cast<int>(idx[0]); i < target.ndim(); ++i) want.push_back(target[i]);
  MX_CHECK(data == want, kShape, op, ": data has shape ", data.str(), " but indices ", idx.str(),
           " into shape ", target.str(), " need data of shape ", want.str());
}

void scatter_nd_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& target = p.get_shape("shape");
  for (int i = 0; i < target.ndim(); ++i)
    MX_CHECK(target[i] >= 0 && target[i] != kNoneDim, kInvalidArgument, "scatter_nd: invalid shape ", target.str());
  const Shape &d = (*in)[0], &idx = (*in)[1];
  if (d.known() && idx.known()) check_scatter("scatter_nd", d, idx, target);
  assign_shape("scatter_nd", out, 0, target);
}

void scatter_nd_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob &d = in[0], &ind = in[1], &o = out[0];
  if (o.size() == 0) return;
  const size_t es = dtype_size(o.dtype);
  std::memset(o.data, 0, o.nbytes());  // zero bits are 0 in every dtype
  if (d.size() == 0) return;
  std::vector<int64_t> rows = nd_rows("scatter_nd", ind, o.shape);
  const int64_t inner = o.shape.prod(static_cast<int>(ind.shape[0]), o.ndim());
  scatter_rows(o.data, d.data, rows.data(), static_cast<int64_t>(rows.size()), inner, es);
}

void scatter_set_nd_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &lhs = (*in)[0], &rhs = (*in)[1], &idx = (*in)[2];
  if (!lhs.known()) return;
  const Shape& target = p.get_shape("shape");
  MX_CHECK(target == lhs, kShape, "_scatter_set_nd: shape ", target.str(), " must equal the shape of lhs ",
           lhs.str());
  if (rhs.known() && idx.known()) check_scatter("_scatter_set_nd", rhs, idx, lhs);
  assign_shape("_scatter_set_nd", out, 0, lhs);
}

void scatter_set_nd_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  DType a = (*in)[0], b = (*in)[1];
  if (a != kUnknownDType && b != kUnknownDType)
    MX_CHECK(a == b, kDType, "_scatter_set_nd: lhs has dtype ", dtype_name(a), " but rhs has dtype ", dtype_name(b),
             " (they must match)");
  DType t = a != kUnknownDType ? a : (b != kUnknownDType ? b : (*out)[0]);
  if (t == kUnknownDType) return;
  (*in)[0] = (*in)[1] = (*out)[0] = t;
}

void scatter_set_nd_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob &lhs = in[0], &rhs = in[1], &ind = in[2], &o = out[0];
  if (lhs.data != o.data) cast_copy(lhs, o);
  if (rhs.size() == 0 || o.size() == 0) return;
  std::vector<int64_t> rows = nd_rows("_scatter_set_nd", ind, o.shape);
  const int64_t inner = o.shape.prod(static_cast<int>(ind.shape[0]), o.ndim());
  scatter_rows(o.data, rhs.data, rows.data(), static_cast<int64_t>(rows.size()), inner, dtype_size(o.dtype));
}

}  // namespace

MX_REGISTER_OP(take)
    .category("indexing")
    .describe(
        "Takes elements from an array along an axis: out = a[..., indices, ...] with the indices' shape in "
        "place of the axis. mode: clip (clamp to the range), wrap (modulo) or raise (error when out of "
        "range).")
    .input("a")
    .input("indices")
    .param_int("axis", "0", "The axis of the input array to take from; negative counts from the end.")
    .param_enum("mode", {"raise", "wrap", "clip"}, "clip", "How out-of-bound indices behave.")
    .infer_shape(take_shape)
    .infer_type(data_type)
    .cpu(take_cpu)
    .differentiable(false);

MX_REGISTER_OP(pick)
    .alias("choose_element_0index")
    .category("indexing")
    .describe(
        "Picks one element per position along axis: out[i, j] = data[i, index[i, j], j]. index has the data's "
        "shape without the axis (or with it as 1). mode: clip or wrap for out-of-range indices.")
    .input("data")
    .input("index")
    .param_int("axis", "-1", "The axis to pick along; negative counts from the end. None is not supported.")
    .optional()
    .param_bool("keepdims", "False", "Keep the picked axis as size 1.")
    .param_enum("mode", {"wrap", "clip"}, "clip", "How out-of-bound indices behave.")
    .infer_shape(pick_shape)
    .infer_type(data_type)
    .cpu(pick_cpu)
    .differentiable(false);

MX_REGISTER_OP(one_hot)
    .category("indexing")
    .describe(
        "One-hot encoding: out has shape indices.shape + (depth,), on_value where the last index equals the "
        "index value and off_value elsewhere (indices outside [0, depth) give an all-off row).")
    .input("indices")
    .param_int("depth", OpDef::kRequired, "Depth of the one-hot dimension.")
    .param_float("on_value", "1", "The value at the positions given by indices.")
    .param_float("off_value", "0", "The value everywhere else.")
    .param_dtype("dtype", "float32", "DType of the output.")
    .infer_shape(one_hot_shape)
    .infer_type(one_hot_type)
    .cpu(one_hot_cpu)
    .differentiable(false);

MX_REGISTER_OP(where)
    .category("indexing")
    .describe(
        "Elements of x where condition is nonzero, else of y. condition has the shape of x, or is 1-d of size "
        "x.shape[0] and selects whole rows.")
    .input("condition")
    .input("x")
    .input("y")
    .infer_shape(where_shape)
    .infer_type(where_type)
    .cpu(where_cpu)
    .differentiable(false);

MX_REGISTER_OP(gather_nd)
    .category("indexing")
    .describe(
        "Gathers slices of data by N-d indices of shape (M, Y...): out[y...] = data[indices[0][y...], ..., "
        "indices[M-1][y...]], of shape Y... + data.shape[M:]. Negative indices count from the end.")
    .input("data")
    .input("indices")
    .infer_shape(gather_nd_shape)
    .infer_type(data_type)
    .cpu(gather_nd_cpu)
    .differentiable(false);

MX_REGISTER_OP(scatter_nd)
    .category("indexing")
    .describe(
        "Scatters data into a zero array of the given shape by N-d indices (the inverse of gather_nd). With "
        "duplicate indices the last one wins.")
    .input("data")
    .input("indices")
    .param_shape("shape", OpDef::kRequired, "Shape of the output.")
    .infer_shape(scatter_nd_shape)
    .infer_type(data_type)
    .cpu(scatter_nd_cpu)
    .differentiable(false);

MX_REGISTER_OP(_scatter_set_nd)
    .category("indexing")
    .describe("Returns lhs with the elements addressed by N-d indices set from rhs (as scatter_nd).")
    .input("lhs")
    .input("rhs")
    .input("indices")
    .param_shape("shape", OpDef::kRequired, "Shape of lhs (and of the output).")
    .infer_shape(scatter_set_nd_shape)
    .infer_type(scatter_set_nd_type)
    .inplace({{0, 0}})
    .cpu(scatter_set_nd_cpu)
    .differentiable(false);

}  // namespace mx
