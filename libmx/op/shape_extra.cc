// More shape ops: SwapAxis (swapaxes), depth_to_space, space_to_depth, reshape_like, shape_array,
// size_array and diag. Like the other shape ops they move bytes only: each kernel is one strided
// copy (op/shape_copy.h) shared by every dtype of the same element width.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

const std::vector<DType> kAllNine = {DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                     DType::kBFloat16, DType::kUInt8,  DType::kInt8,
                                     DType::kInt32,   DType::kInt64,   DType::kBool};

// ------------------------------------------------------------------ SwapAxis
void swap_dims(const Params& p, int nd, int* a1, int* a2) {
  MX_CHECK(nd >= 1, kShape, "SwapAxis: the input must have at least 1 dim, got a 0-d array");
  *a1 = check_axis("SwapAxis (dim1)", p.get_int("dim1"), nd);
  *a2 = check_axis("SwapAxis (dim2)", p.get_int("dim2"), nd);
}

void swapaxis_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  int a1, a2;
  swap_dims(p, d.ndim(), &a1, &a2);
  Shape o = d;
  std::swap(o[a1], o[a2]);
  assign_shape("SwapAxis", out, 0, o);
}

void swapaxis_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (x.size() == 0) return;
  int a1, a2;
  swap_dims(p, x.ndim(), &a1, &a2);
  std::vector<int64_t> ss = contiguous_strides(x.shape);
  std::swap(ss[a1], ss[a2]);
  strided_gather(out[0].data, x.data, ss.data(), out[0].shape, dtype_size(x.dtype));
}

// ------------------------------------------------------------------ depth_to_space / space_to_depth
// Both work on NCHW. depth_to_space reads channel (i*b + j)*C' + c for output pixel (c, h*b+i, w*b+j);
// space_to_depth is its inverse.
int64_t block_size(const char* op, const Params& p, const Shape& d) {
  int64_t b = p.get_int("block_size");
  MX_CHECK(b > 0, kInvalidArgument, op, ": block_size must be positive, got ", b);
  MX_CHECK(d.ndim() == 4, kShape, op, ": the input must be 4-d (N, C, H, W), got shape ", d.str());
  return b;
}

void depth_to_space_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  int64_t b = block_size("depth_to_space", p, d);
  MX_CHECK(d[1] % (b * b) == 0, kShape, "depth_to_space: the channel dim ", d[1], " of shape ", d.str(),
           " is not divisible by block_size^2 = ", b * b);
  assign_shape("depth_to_space", out, 0, Shape{d[0], d[1] / (b * b), d[2] * b, d[3] * b});
}

void depth_to_space_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                        const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (x.size() == 0) return;
  const int64_t b = p.get_int("block_size");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], Co = C / (b * b);
  // The output in its C order as (N, C', H, b_i, W, b_j), read from the input.
  Shape view{N, Co, H, b, W, b};
  const int64_t hw = H * W;
  std::vector<int64_t> ss = {C * hw, hw, W, b * Co * hw, 1, Co * hw};
  strided_gather(out[0].data, x.data, ss.data(), view, dtype_size(x.dtype));
}

void space_to_depth_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  int64_t b = block_size("space_to_depth", p, d);
  MX_CHECK(d[2] % b == 0 && d[3] % b == 0, kShape, "space_to_depth: the spatial dims (", d[2], ", ", d[3],
           ") of shape ", d.str(), " must both be divisible by block_size = ", b);
  assign_shape("space_to_depth", out, 0, Shape{d[0], d[1] * b * b, d[2] / b, d[3] / b});
}

void space_to_depth_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                        const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (x.size() == 0) return;
  const int64_t b = p.get_int("block_size");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  // The output in its C order as (N, b_i, b_j, C, H/b, W/b), read from the input.
  Shape view{N, b, b, C, H / b, W / b};
  std::vector<int64_t> ss = {C * H * W, W, 1, H * W, b * W, b};
  strided_gather(out[0].data, x.data, ss.data(), view, dtype_size(x.dtype));
}

// ------------------------------------------------------------------ reshape_like
// [begin, end) of a side's dims: None begin is 0, None end is ndim, negatives count from the end.
void like_range(const Params& p, const char* side, int nd, int* b, int* e) {
  const std::string bn = std::string(side) + "_begin", en = std::string(side) + "_end";
  int64_t vb = p.is_none(bn) ? 0 : p.get_int(bn);
  int64_t ve = p.is_none(en) ? nd : p.get_int(en);
  if (vb < 0) vb += nd;
  if (ve < 0) ve += nd;
  auto txt = [&](const std::string& n) { return p.is_none(n) ? std::string("None") : std::to_string(p.get_int(n)); };
  MX_CHECK(vb >= 0 && vb <= nd, kInvalidArgument, "reshape_like: ", bn, "=", txt(bn),
           " is out of range for an input of ndim ", nd);
  MX_CHECK(ve >= 0 && ve <= nd, kInvalidArgument, "reshape_like: ", en, "=", txt(en),
           " is out of range for an input of ndim ", nd);
  MX_CHECK(vb < ve, kInvalidArgument, "reshape_like: empty range ", bn, "=", txt(bn), ", ", en, "=", txt(en),
           " (begin must be before end) for an input of ndim ", nd);
  *b = static_cast<int>(vb);
  *e = static_cast<int>(ve);
}

void reshape_like_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape &l = (*in)[0], &r = (*in)[1];
  if (!l.known() || !r.known()) return;
  int lb, le, rb, re;
  like_range(p, "lhs", l.ndim(), &lb, &le);
  like_range(p, "rhs", r.ndim(), &rb, &re);
  Shape o;
  for (int i = 0; i < lb; ++i) o.push_back(l[i]);
  for (int i = rb; i < re; ++i) o.push_back(r[i]);
  for (int i = le; i < l.ndim(); ++i) o.push_back(l[i]);
  MX_CHECK(o.size() == l.size(), kShape, "reshape_like: cannot reshape lhs of shape ", l.str(), " (", l.size(),
           " elements) to ", o.str(), " (", o.size(), " elements) taken from rhs of shape ", r.str());
  assign_shape("reshape_like", out, 0, o);
}

void reshape_like_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  // The output takes lhs's dtype; rhs only lends its shape and may have any dtype.
  if ((*in)[0] == kUnknownDType) (*in)[0] = (*out)[0];
  (*out)[0] = (*in)[0];
}

void copy_lhs(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  if (in[0].data == out[0].data || in[0].size() == 0) return;
  std::memcpy(out[0].data, in[0].data, in[0].nbytes());
}

// ------------------------------------------------------------------ shape_array / size_array
void shape_array_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  assign_shape("shape_array", out, 0, Shape{static_cast<int64_t>(d.ndim())});
}

void size_array_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  assign_shape("size_array", out, 0, Shape{1});
}

void int64_type(const Params&, std::vector<DType>*, std::vector<DType>* out) { (*out)[0] = DType::kInt64; }

void shape_array_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  int64_t* o = out[0].ptr<int64_t>();
  for (int i = 0; i < in[0].ndim(); ++i) o[i] = in[0].shape[i];
}

void size_array_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  out[0].ptr<int64_t>()[0] = in[0].size();
}

// ------------------------------------------------------------------ diag
// A 1-d input becomes a square matrix with the input on diagonal k; an input of 2 or more dims gives
// its diagonal k over (axis1, axis2), appended as the last axis (numpy's diagonal).
struct DiagPlan {
  int a1 = 0, a2 = 0;
  int64_t len = 0;  // diagonal length
};

DiagPlan diag_plan(const Params& p, const Shape& d) {
  MX_CHECK(d.ndim() >= 1, kShape, "diag: the input must have at least 1 dim, got a 0-d array");
  DiagPlan r;
  const int64_t k = p.get_int("k");
  if (d.ndim() == 1) {
    r.len = d[0];
    return r;
  }
  r.a1 = check_axis("diag (axis1)", p.get_int("axis1"), d.ndim());
  r.a2 = check_axis("diag (axis2)", p.get_int("axis2"), d.ndim());
  MX_CHECK(r.a1 != r.a2, kInvalidArgument, "diag: axis1 (", p.get_int("axis1"), ") and axis2 (",
           p.get_int("axis2"), ") refer to the same axis ", r.a1, " of shape ", d.str());
  int64_t h = d[r.a1], w = d[r.a2];
  if (k > 0) w -= k;
  if (k < 0) h += k;
  r.len = std::max<int64_t>(0, std::min(h, w));
  return r;
}

void diag_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  DiagPlan r = diag_plan(p, d);
  if (d.ndim() == 1) {
    const int64_t k = p.get_int("k");
    const int64_t m = d[0] + (k < 0 ? -k : k);
    assign_shape("diag", out, 0, Shape{m, m});
    return;
  }
  Shape o;
  for (int i = 0; i < d.ndim(); ++i)
    if (i != r.a1 && i != r.a2) o.push_back(d[i]);
  o.push_back(r.len);
  assign_shape("diag", out, 0, o);
}

void diag_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob &x = in[0], &o = out[0];
  const size_t es = dtype_size(x.dtype);
  const int64_t k = p.get_int("k");
  DiagPlan r = diag_plan(p, x.shape);
  if (x.ndim() == 1) {
    // Zero bytes are zero in every dtype (0, 0.0, +0 half/bfloat16, false).
    if (o.size() > 0) std::memset(o.data, 0, o.nbytes());
    if (r.len == 0) return;
    const int64_t m = o.shape[0];
    const int64_t start = k >= 0 ? k : -k * m;
    const int64_t dstride = m + 1, sstride = 1;
    strided_copy(static_cast<char*>(o.data) + static_cast<size_t>(start) * es, &dstride, x.data, &sstride,
                 Shape{r.len}, es);
    return;
  }
  if (o.size() == 0) return;
  std::vector<int64_t> is = contiguous_strides(x.shape), ss;
  Shape view;
  for (int i = 0; i < x.ndim(); ++i) {
    if (i == r.a1 || i == r.a2) continue;
    view.push_back(x.shape[i]);
    ss.push_back(is[i]);
  }
  view.push_back(r.len);
  ss.push_back(is[r.a1] + is[r.a2]);
  const int64_t start = k >= 0 ? k * is[r.a2] : -k * is[r.a1];
  strided_gather(o.data, static_cast<const char*>(x.data) + static_cast<size_t>(start) * es, ss.data(), view, es);
}

}  // namespace

MX_REGISTER_OP(SwapAxis)
    .alias("swapaxes")
    .category("shape")
    .describe("Interchanges two axes of an array (dim1 and dim2; negative values count from the end).")
    .input("data")
    .param_int("dim1", "0", "the first axis to be swapped.")
    .param_int("dim2", "0", "the second axis to be swapped.")
    .infer_shape(swapaxis_shape)
    .dtypes(kAllNine)
    .cpu(swapaxis_cpu)
    .differentiable(false);

MX_REGISTER_OP(depth_to_space)
    .category("shape")
    .describe(
        "Rearranges (permutes) data from depth into blocks of spatial data (NCHW): an input of shape "
        "(N, C, H, W) gives (N, C/(block_size^2), H*block_size, W*block_size). Equivalent to reshaping to "
        "(N, b, b, C/b^2, H, W), transposing to (0, 3, 4, 1, 5, 2) and reshaping to the output shape.")
    .input("data")
    .param_int("block_size", OpDef::kRequired, "Blocks of [block_size. block_size] are moved")
    .infer_shape(depth_to_space_shape)
    .dtypes(kAllNine)
    .cpu(depth_to_space_cpu)
    .differentiable(false);

MX_REGISTER_OP(space_to_depth)
    .category("shape")
    .describe(
        "Rearranges (permutes) blocks of spatial data into depth (NCHW), the inverse of depth_to_space: an "
        "input of shape (N, C, H, W) gives (N, C*block_size^2, H/block_size, W/block_size).")
    .input("data")
    .param_int("block_size", OpDef::kRequired, "Blocks of [block_size. block_size] are moved")
    .infer_shape(space_to_depth_shape)
    .dtypes(kAllNine)
    .cpu(space_to_depth_cpu)
    .differentiable(false);

MX_REGISTER_OP(reshape_like)
    .category("shape")
    .describe(
        "Reshapes lhs to the shape of rhs, or dims [lhs_begin, lhs_end) of lhs to dims [rhs_begin, rhs_end) "
        "of rhs, keeping the other lhs dims. Negative indices count from the end; None for a begin is 0 and "
        "for an end is ndim. Example: lhs (30, 7), rhs (15, 2, 4), lhs_begin=0, lhs_end=1, rhs_begin=0, "
        "rhs_end=2 gives (15, 2, 7).")
    .input("lhs")
    .input("rhs")
    .param_int("lhs_begin", "None", "Defaults to 0. The beginning index along which the lhs dimensions are to be reshaped. Supports negative indices.")
    .optional()
    .param_int("lhs_end", "None", "Defaults to None. The ending index along which the lhs dimensions are to be used for reshaping. Supports negative indices.")
    .optional()
    .param_int("rhs_begin", "None", "Defaults to 0. The beginning index along which the rhs dimensions are to be used for reshaping. Supports negative indices.")
    .optional()
    .param_int("rhs_end", "None", "Defaults to None. The ending index along which the rhs dimensions are to be used for reshaping. Supports negative indices.")
    .optional()
    .infer_shape(reshape_like_shape)
    .infer_type(reshape_like_type)
    .dtypes(kAllNine)
    .inplace({{0, 0}})
    .cpu(copy_lhs)
    .differentiable(false);

MX_REGISTER_OP(shape_array)
    .category("shape")
    .describe("Returns a 1-d int64 array holding the shape of data.")
    .input("data")
    .infer_shape(shape_array_shape)
    .infer_type(int64_type)
    .dtypes(kAllNine)
    .cpu(shape_array_cpu)
    .differentiable(false);

MX_REGISTER_OP(size_array)
    .category("shape")
    .describe("Returns a 1-d int64 array of shape (1,) holding the number of elements of data.")
    .input("data")
    .infer_shape(size_array_shape)
    .infer_type(int64_type)
    .dtypes(kAllNine)
    .cpu(size_array_cpu)
    .differentiable(false);

MX_REGISTER_OP(diag)
    .category("shape")
    .describe(
        "Extracts a diagonal or constructs a diagonal array. A 1-d input gives a 2-d array with the input on "
        "diagonal k (k>0 above the main diagonal, k<0 below). An input of 2 or more dims gives diagonal k of "
        "the 2-d sub-arrays over axis1 and axis2, those axes removed and the diagonal appended as the last "
        "axis (numpy.diagonal).")
    .input("data")
    .param_int("k", "0", "Diagonal in question. The default is 0. Use k>0 for diagonals above the main diagonal, and k<0 for diagonals below the main diagonal. If input has shape (S0 S1) k must be between -S0 and S1")
    .param_int("axis1", "0", "The first axis of the sub-arrays of interest. Ignored when the input is a 1-D array.")
    .param_int("axis2", "1", "The second axis of the sub-arrays of interest. Ignored when the input is a 1-D array.")
    .infer_shape(diag_shape)
    .dtypes(kAllNine)
    .cpu(diag_cpu)
    .differentiable(false);

}  // namespace mx
