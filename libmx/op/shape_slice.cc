// Slicing ops: slice, slice_axis, slice_like, _slice_assign, _slice_assign_scalar, and Pad.
// A slice with steps is a strided view of its input, so each kernel is one strided copy.
#include <algorithm>
#include <cstring>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

// Begin index and step per axis of a slice, and the output shape (MXNet's rules: None entries take
// the defaults of the step's sign, negatives count from the end, out-of-range values are clamped,
// and a range that is empty under its step gives a zero-size dim).
struct SliceRange {
  Shape out;
  std::vector<int64_t> begin, step;
};

SliceRange slice_range(const char* op, const Shape& d, const Shape& pb, const Shape& pe, const Shape& pst) {
  MX_CHECK(d.ndim() >= 1, kShape, op, ": cannot slice a 0-d array");
  MX_CHECK(pb.ndim() == pe.ndim(), kInvalidArgument, op, ": begin ", pb.str(), " and end ", pe.str(),
           " must have the same length");
  MX_CHECK(pb.ndim() <= d.ndim(), kInvalidArgument, op, ": begin ", pb.str(), " has more entries than the ",
           d.ndim(), " dims of the input ", d.str());
  MX_CHECK(pst.ndim() == 0 || pst.ndim() == pb.ndim(), kInvalidArgument, op, ": step ", pst.str(),
           " must be empty or have the length of begin ", pb.str());
  SliceRange r;
  r.out = d;
  r.begin.assign(static_cast<size_t>(d.ndim()), 0);
  r.step.assign(static_cast<size_t>(d.ndim()), 1);
  for (int i = 0; i < pb.ndim(); ++i) {
    int64_t s = (pst.ndim() > 0 && pst[i] != kNoneDim) ? pst[i] : 1;
    MX_CHECK(s != 0, kInvalidArgument, op, ": step[", i, "] cannot be 0");
    const int64_t len = d[i];
    int64_t b = 0, e = 0;
    if (len > 0) {
      b = pb[i] != kNoneDim ? pb[i] : (s < 0 ? len - 1 : 0);
      e = pe[i] != kNoneDim ? pe[i] : (s < 0 ? -1 : len);
      if (b < 0) b += len;
      if (e < 0 && pe[i] != kNoneDim) e += len;
      if (b < 0 && s > 0) b = 0;
      if (b > len - 1 && s < 0) b = len - 1;
      if (b < 0 || b > len - 1) b = -1;  // empty under this step
      if (e < -1) e = -1;
      if (e > len) e = len;
    }
    int64_t n = 0;
    if (b >= 0 && e != b) n = s > 0 ? (e > b ? (e - b - 1) / s + 1 : 0) : (e < b ? (b - e - 1) / (-s) + 1 : 0);
    r.out[i] = n;
    r.begin[i] = n > 0 ? b : 0;
    r.step[i] = s;
  }
  return r;
}

SliceRange slice_params(const char* op, const Params& p, const Shape& d) {
  return slice_range(op, d, p.get_shape("begin"), p.get_shape("end"), p.get_shape("step"));
}

// Element offset of the slice's first element and the strides of the slice, inside an array of shape d.
void slice_view(const Shape& d, const SliceRange& r, int64_t* offset, std::vector<int64_t>* strides) {
  std::vector<int64_t> cs = contiguous_strides(d);
  *offset = 0;
  strides->resize(cs.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    *offset += r.begin[i] * cs[i];
    (*strides)[i] = cs[i] * r.step[i];
  }
}

void gather_slice(const TBlob& x, const SliceRange& r, const TBlob& out) {
  if (out.size() == 0) return;
  int64_t off;
  std::vector<int64_t> ss;
  slice_view(x.shape, r, &off, &ss);
  const size_t es = dtype_size(x.dtype);
  strided_gather(out.data, static_cast<const char*>(x.data) + static_cast<size_t>(off) * es, ss.data(), r.out, es);
}

// ------------------------------------------------------------------ slice
void slice_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].known()) return;
  assign_shape("slice", out, 0, slice_params("slice", p, (*in)[0]).out);
}

void slice_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  gather_slice(in[0], slice_params("slice", p, in[0].shape), out[0]);
}

// ------------------------------------------------------------------ slice_axis
SliceRange slice_axis_range(const Params& p, const Shape& d) {
  MX_CHECK(d.ndim() >= 1, kShape, "slice_axis: cannot slice a 0-d array");
  const int axis = check_axis("slice_axis", p.get_int("axis"), d.ndim());
  const int64_t len = d[axis];
  int64_t b = p.get_int("begin"), e = len;
  if (b < 0) b += len;
  if (len > 0) {
    if (!p.is_none("end")) {
      e = p.get_int("end");
      if (e < 0) e += len;
    }
    MX_CHECK(e <= len, kInvalidArgument, "slice_axis: end ", p.get_string("end"), " is beyond the size ", len,
             " of axis ", axis);
    MX_CHECK(b >= 0 && b < e, kInvalidArgument, "slice_axis: invalid range begin=", p.get_int("begin"),
             ", end=", p.get_string("end"), " for axis ", axis, " of size ", len);
  } else {
    b = e = 0;
  }
  SliceRange r;
  r.out = d;
  r.out[axis] = e - b;
  r.begin.assign(static_cast<size_t>(d.ndim()), 0);
  r.step.assign(static_cast<size_t>(d.ndim()), 1);
  r.begin[axis] = b;
  return r;
}

void slice_axis_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].known()) return;
  assign_shape("slice_axis", out, 0, slice_axis_range(p, (*in)[0]).out);
}

void slice_axis_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  gather_slice(in[0], slice_axis_range(p, in[0].shape), out[0]);
}

// ------------------------------------------------------------------ slice_like
SliceRange slice_like_range(const Params& p, const Shape& d, const Shape& like) {
  const Shape& axes = p.get_shape("axes");
  SliceRange r;
  r.out = d;
  r.begin.assign(static_cast<size_t>(d.ndim()), 0);
  r.step.assign(static_cast<size_t>(d.ndim()), 1);
  auto take_axis = [&](int a) {
    MX_CHECK(like[a] <= d[a], kShape, "slice_like: axis ", a, " of shape_like ", like.str(), " (size ", like[a],
             ") exceeds that of data ", d.str());
    r.out[a] = like[a];
  };
  if (axes.ndim() == 0) {
    MX_CHECK(d.ndim() == like.ndim(), kShape, "slice_like: with no axes the inputs must have the same ndim, got ",
             d.str(), " and ", like.str());
    for (int i = 0; i < d.ndim(); ++i) take_axis(i);
  } else {
    for (int i = 0; i < axes.ndim(); ++i) {
      int a = check_axis("slice_like", axes[i], d.ndim());
      MX_CHECK(a < like.ndim(), kShape, "slice_like: axis ", axes[i], " is beyond shape_like ", like.str());
      take_axis(a);
    }
  }
  return r;
}

void slice_like_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].known() || !(*in)[1].known()) return;
  assign_shape("slice_like", out, 0, slice_like_range(p, (*in)[0], (*in)[1]).out);
}

void slice_like_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  if ((*in)[0] != kUnknownDType) (*out)[0] = (*in)[0];
  else if ((*out)[0] != kUnknownDType) (*in)[0] = (*out)[0];
}

void slice_like_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  gather_slice(in[0], slice_like_range(p, in[0].shape, in[1].shape), out[0]);
}

// ------------------------------------------------------------------ _slice_assign(_scalar)
void copy_if_distinct(const TBlob& src, const TBlob& dst) {
  if (src.data != dst.data) cast_copy(src, dst);
}

void slice_assign_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& lhs = (*in)[0];
  if (!lhs.known()) return;
  SliceRange r = slice_params("_slice_assign", p, lhs);
  if ((*in)[1].known())
    MX_CHECK((*in)[1] == r.out, kShape, "_slice_assign: rhs has shape ", (*in)[1].str(), " but the slice of lhs ",
             lhs.str(), " has shape ", r.out.str());
  else
    (*in)[1] = r.out;
  assign_shape("_slice_assign", out, 0, lhs);
}

void slice_assign_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& o = out[0];
  copy_if_distinct(in[0], o);
  SliceRange r = slice_params("_slice_assign", p, o.shape);
  if (r.out.size() == 0) return;
  int64_t off;
  std::vector<int64_t> ds;
  slice_view(o.shape, r, &off, &ds);
  std::vector<int64_t> ss = contiguous_strides(r.out);
  const size_t es = dtype_size(o.dtype);
  strided_copy(static_cast<char*>(o.data) + static_cast<size_t>(off) * es, ds.data(), in[1].data, ss.data(), r.out,
               es);
}

void slice_assign_scalar_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  if (!(*in)[0].known()) return;
  slice_params("_slice_assign_scalar", p, (*in)[0]);
  assign_shape("_slice_assign_scalar", out, 0, (*in)[0]);
}

void slice_assign_scalar_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                             const std::vector<TBlob>& out) {
  const TBlob& o = out[0];
  copy_if_distinct(in[0], o);
  SliceRange r = slice_params("_slice_assign_scalar", p, o.shape);
  if (r.out.size() == 0) return;
  int64_t off;
  std::vector<int64_t> ds;
  slice_view(o.shape, r, &off, &ds);
  const size_t es = dtype_size(o.dtype);
  unsigned char v[8];
  scalar_to_bytes(p.get_float("scalar"), o.dtype, v);
  strided_fill(static_cast<char*>(o.data) + static_cast<size_t>(off) * es, ds.data(), r.out, v, es);
}

// ------------------------------------------------------------------ Pad
// MXNet pads 4-d and 5-d inputs on their spatial axes only (the first four widths must be 0).
void check_pad(const Params& p, const Shape& d) {
  const Shape& w = p.get_shape("pad_width");
  MX_CHECK(d.ndim() == 4 || d.ndim() == 5, kUnsupported, "Pad: only 4-d or 5-d inputs are supported, got shape ",
           d.str());
  MX_CHECK(w.ndim() == 2 * d.ndim(), kInvalidArgument, "Pad: pad_width ", w.str(), " must have 2*ndim = ",
           2 * d.ndim(), " entries for input shape ", d.str());
  MX_CHECK(w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0, kUnsupported, "Pad: pad_width ", w.str(),
           " pads the first two axes; only the spatial axes (2 and up) can be padded");
  for (int i = 0; i < w.ndim(); ++i)
    MX_CHECK(w[i] >= 0 && w[i] != kNoneDim, kInvalidArgument, "Pad: pad_width ", w.str(), " must be non-negative");
  if (p.get_string("mode") == "reflect") {
    for (int i = 2; i < d.ndim(); ++i)
      MX_CHECK(w[2 * i] < d[i] && w[2 * i + 1] < d[i], kInvalidArgument, "Pad: reflect padding ", w.str(),
               " must be smaller than the input size on every padded axis (shape ", d.str(), ")");
  }
  if (p.get_string("mode") == "edge") {
    for (int i = 2; i < d.ndim(); ++i)
      MX_CHECK(d[i] > 0 || (w[2 * i] == 0 && w[2 * i + 1] == 0), kInvalidArgument,
               "Pad: edge padding of an empty axis (shape ", d.str(), ")");
  }
}

void pad_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  check_pad(p, d);
  const Shape& w = p.get_shape("pad_width");
  Shape o = d;
  for (int i = 0; i < d.ndim(); ++i) o[i] = d[i] + w[2 * i] + w[2 * i + 1];
  assign_shape("Pad", out, 0, o);
}

void pad_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& o = out[0];
  if (o.size() == 0) return;
  const Shape& w = p.get_shape("pad_width");
  const std::string& mode = p.get_string("mode");
  const int nd = x.ndim();
  const size_t es = dtype_size(x.dtype);
  std::vector<int64_t> os = contiguous_strides(o.shape), is = contiguous_strides(x.shape);
  char* obase = static_cast<char*>(o.data);
  auto at = [&](const std::vector<int64_t>& idx) {
    int64_t off = 0;
    for (int i = 0; i < nd; ++i) off += idx[i] * os[i];
    return obase + static_cast<size_t>(off) * es;
  };
  std::vector<int64_t> lo(static_cast<size_t>(nd));
  for (int i = 0; i < nd; ++i) lo[i] = w[2 * i];
  if (mode == "constant") {
    unsigned char v[8];
    scalar_to_bytes(p.get_float("constant_value"), o.dtype, v);
    fill_bytes(o.data, o.size(), v, es);
  }
  if (x.size() > 0) strided_copy(at(lo), os.data(), x.data, is.data(), x.shape, es);
  if (mode == "constant") return;
  // Axis by axis, as numpy.pad: axis k is extended over the full range of the axes already padded
  // (< k) and the interior of the others, one hyperplane at a time.
  for (int k = 2; k < nd; ++k) {
    const int64_t n = x.shape[k], before = w[2 * k], after = w[2 * k + 1];
    if (before == 0 && after == 0) continue;
    Shape plane = Shape::filled(nd, 1);
    std::vector<int64_t> base(static_cast<size_t>(nd), 0);
    for (int i = 0; i < nd; ++i) {
      if (i == k) continue;
      if (i < k) {
        plane[i] = o.shape[i];
      } else {
        plane[i] = x.shape[i];
        base[i] = lo[i];
      }
    }
    if (plane.size() == 0) continue;
    auto copy_plane = [&](int64_t to, int64_t from) {
      std::vector<int64_t> di = base, si = base;
      di[k] = to;
      si[k] = from;
      strided_copy(at(di), os.data(), at(si), os.data(), plane, es);
    };
    for (int64_t t = 0; t < before; ++t) {
      // Output position t lies before - t steps ahead of the first interior element.
      int64_t from = mode == "edge" ? before : before + (before - t);
      copy_plane(t, from);
    }
    for (int64_t t = 0; t < after; ++t) {
      int64_t to = before + n + t;
      int64_t from = mode == "edge" ? before + n - 1 : before + n - 2 - t;
      copy_plane(to, from);
    }
  }
}

}  // namespace

#define MX_SLICE_PARAMS                                                                                 \
  param_shape("begin", OpDef::kRequired, "Starting indices of the slice; None entries take the default.") \
      .param_shape("end", OpDef::kRequired, "Ending indices (exclusive); None entries take the default.")  \
      .param_shape("step", "()", "Step per axis; empty or None entries mean 1.")

MX_REGISTER_OP(slice)
    .alias("crop")
    .category("shape")
    .describe(
        "Slices a region of the input: begin, end and step per leading axis, like x[b0:e0:s0, b1:e1:s1]. "
        "Entries may be None or negative; out-of-range bounds are clamped.")
    .input("data")
    .MX_SLICE_PARAMS
    .infer_shape(slice_shape)
    .cpu(slice_cpu)
    .differentiable(false);

MX_REGISTER_OP(slice_axis)
    .category("shape")
    .describe("Slices the input along one axis: [begin, end); negative indices count from the end.")
    .input("data")
    .param_int("axis", OpDef::kRequired, "Axis along which to slice; negative counts from the end.")
    .param_int("begin", OpDef::kRequired, "The beginning index along the axis; may be negative.")
    .param_int("end", OpDef::kRequired, "The ending index along the axis (exclusive); may be negative or None.")
    .optional()
    .infer_shape(slice_axis_shape)
    .cpu(slice_axis_cpu)
    .differentiable(false);

MX_REGISTER_OP(slice_like)
    .category("shape")
    .describe(
        "Slices data to the shape of shape_like (from index 0) on the given axes, or on all axes when axes is "
        "empty.")
    .input("data")
    .input("shape_like")
    .param_shape("axes", "()", "Axes to slice; empty means all axes. Negative axes count from the end.")
    .infer_shape(slice_like_shape)
    .infer_type(slice_like_type)
    .cpu(slice_like_cpu)
    .differentiable(false);

MX_REGISTER_OP(_slice_assign)
    .alias("_crop_assign")
    .category("shape")
    .describe("Returns lhs with the region lhs[begin:end:step] replaced by rhs.")
    .input("lhs")
    .input("rhs")
    .MX_SLICE_PARAMS
    .infer_shape(slice_assign_shape)
    .inplace({{0, 0}})
    .cpu(slice_assign_cpu)
    .differentiable(false);

MX_REGISTER_OP(_slice_assign_scalar)
    .alias("_crop_assign_scalar")
    .category("shape")
    .describe("Returns data with the region data[begin:end:step] set to scalar.")
    .input("data")
    .param_float("scalar", "0", "The value to assign.")
    .MX_SLICE_PARAMS
    .infer_shape(slice_assign_scalar_shape)
    .inplace({{0, 0}})
    .cpu(slice_assign_scalar_cpu)
    .differentiable(false);

MX_REGISTER_OP(Pad)
    .alias("pad")
    .category("shape")
    .describe(
        "Pads a 4-d or 5-d input on its spatial axes. mode constant fills with constant_value, edge repeats "
        "the border values, reflect mirrors the values next to the border (numpy.pad's modes). pad_width is "
        "(before_1, after_1, ..., before_N, after_N) and must be 0 for the first two axes.")
    .input("data")
    .param_enum("mode", {"constant", "edge", "reflect"}, OpDef::kRequired, "Padding type to use.")
    .param_shape("pad_width", OpDef::kRequired, "Widths (before, after) per axis, flattened.")
    .param_float("constant_value", "0", "The value used for padding when mode is constant.")
    .infer_shape(pad_shape)
    .cpu(pad_cpu)
    .differentiable(false);

}  // namespace mx
