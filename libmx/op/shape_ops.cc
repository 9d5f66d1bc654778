// Shape ops: Reshape, Flatten, expand_dims, squeeze, transpose, Concat, stack, split, tile, repeat,
// reverse. None of them computes: each is one or a few strided copies (op/shape_copy.h), so every
// dtype shares one code path per element width.
#include <algorithm>
#include <cstring>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

// Copies the bytes of in[0] into out[0] (same element count): the reshape family.
void copy_data(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  if (in[0].data == out[0].data) return;
  cast_copy(in[0], TBlob{out[0].data, in[0].shape, in[0].dtype, out[0].dev});
}

// ------------------------------------------------------------------ Reshape
// MXNet's special codes: 0 copy a dim, -1 infer one dim, -2 copy the remaining dims, -3 merge two
// dims, -4 split a dim into the two that follow (one may be -1). reverse applies them right to left.
Shape reshape_target(const Shape& param, const Shape& dshape, bool reverse) {
  std::vector<int64_t> d = dshape.vec(), ps = param.vec();
  if (reverse) {
    std::reverse(d.begin(), d.end());
    std::reverse(ps.begin(), ps.end());
  }
  auto fail = [&](const std::string& why) {
    MX_THROW(kShape, "Reshape: cannot reshape ", dshape.str(), " with shape=", param.str(),
             reverse ? " (reverse=True)" : "", ": ", why);
  };
  std::vector<int64_t> out;
  size_t src = 0;
  int inf = -1;
  for (size_t i = 0; i < ps.size(); ++i) {
    int64_t v = ps[i];
    if (v == 0) {
      if (src >= d.size()) fail("code 0 has no input dim left to copy");
      out.push_back(d[src++]);
    } else if (v == -1) {
      if (inf >= 0) fail("only one dim can be inferred (-1)");
      inf = static_cast<int>(out.size());
      out.push_back(1);
      ++src;
    } else if (v == -2) {
      while (src < d.size()) out.push_back(d[src++]);
    } else if (v == -3) {
      if (src + 1 >= d.size()) fail("code -3 needs two input dims to merge");
      out.push_back(d[src] * d[src + 1]);
      src += 2;
    } else if (v == -4) {
      if (i + 2 >= ps.size()) fail("code -4 must be followed by two dims");
      if (src >= d.size()) fail("code -4 has no input dim left to split");
      int64_t d0 = d[src++];
      int64_t d1 = ps[++i], d2 = ps[++i];
      if (d1 == -1 && d2 == -1) fail("the two dims after -4 cannot both be -1");
      if ((d1 < -1 || d1 == 0) || (d2 < -1 || d2 == 0)) fail("the dims after -4 must be positive or -1");
      if (d1 == -1) {
        if (d0 % d2 != 0) fail(str("split dim ", d2, " does not divide input dim ", d0));
        d1 = d0 / d2;
      }
      if (d2 == -1) {
        if (d0 % d1 != 0) fail(str("split dim ", d1, " does not divide input dim ", d0));
        d2 = d0 / d1;
      }
      if (d1 * d2 != d0) fail(str("split dims ", d1, ", ", d2, " do not multiply to input dim ", d0));
      out.push_back(d1);
      out.push_back(d2);
    } else if (v > 0) {
      out.push_back(v);
      ++src;
    } else {
      fail(str("invalid code ", v == kNoneDim ? std::string("None") : std::to_string(v),
               " (dims are positive, or one of 0, -1, -2, -3, -4)"));
    }
  }
  if (inf >= 0) {
    int64_t known = 1;
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int>(i) != inf) known *= out[i];
    if (known == 0) fail("cannot infer -1 next to a zero-size dim");
    if (dshape.size() % known != 0) fail(str("size ", dshape.size(), " is not divisible by ", known));
    out[inf] = dshape.size() / known;
  }
  if (reverse) std::reverse(out.begin(), out.end());
  Shape o(out);
  if (o.size() != dshape.size())
    MX_THROW(kShape, "Reshape: target shape ", o.str(), " (from shape=", param.str(), ") has ", o.size(),
             " elements but the input ", dshape.str(), " has ", dshape.size());
  return o;
}

void reshape_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  MX_CHECK(p.get_shape("target_shape").ndim() == 0 && !p.get_bool("keep_highest"), kUnsupported,
           "Reshape: the deprecated parameters target_shape/keep_highest are not supported; use shape=");
  const Shape& sp = p.get_shape("shape");
  MX_CHECK(sp.ndim() > 0, kInvalidArgument, "Reshape: parameter shape is required (got an empty shape)");
  if (!(*in)[0].known()) return;
  assign_shape("Reshape", out, 0, reshape_target(sp, (*in)[0], p.get_bool("reverse")));
}

void flatten_shape(const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  MX_CHECK(d.ndim() >= 1, kShape, "Flatten: the input must have at least 1 dim, got shape ", d.str());
  assign_shape("Flatten", out, 0, Shape{d[0], d.prod(1, d.ndim())});
}

void expand_dims_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  int64_t axis = p.get_int("axis");
  int nd = d.ndim();
  MX_CHECK(axis >= -nd - 1 && axis <= nd, kInvalidArgument, "expand_dims: axis ", axis,
           " is out of range for an input of ndim ", nd, " (expected ", -nd - 1, " <= axis <= ", nd, ")");
  if (axis < 0) axis += nd + 1;
  Shape o = d;
  o.insert(static_cast<int>(axis), 1);
  assign_shape("expand_dims", out, 0, o);
}

void squeeze_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  std::vector<bool> drop(static_cast<size_t>(d.ndim()), false);
  if (!p.is_none("axis")) {
    const Shape& axes = p.get_shape("axis");
    for (int i = 0; i < axes.ndim(); ++i) {
      int a = check_axis("squeeze", axes[i], d.ndim());
      MX_CHECK(d[a] == 1, kShape, "squeeze: cannot squeeze axis ", axes[i], " of shape ", d.str(),
               ": its size is ", d[a], ", not 1");
      MX_CHECK(!drop[a], kInvalidArgument, "squeeze: axis ", axes[i], " is given twice");
      drop[a] = true;
    }
  } else {
    for (int i = 0; i < d.ndim(); ++i) drop[i] = d[i] == 1;
  }
  Shape o;
  for (int i = 0; i < d.ndim(); ++i)
    if (!drop[i]) o.push_back(d[i]);
  if (o.ndim() == 0) o.push_back(1);  // MXNet keeps (1,) rather than a 0-d array
  assign_shape("squeeze", out, 0, o);
}

// ------------------------------------------------------------------ transpose
std::vector<int> transpose_axes(const Params& p, int nd) {
  const Shape& ax = p.get_shape("axes");
  std::vector<int> axes(static_cast<size_t>(nd));
  if (ax.ndim() == 0) {
    for (int i = 0; i < nd; ++i) axes[i] = nd - 1 - i;
    return axes;
  }
  MX_CHECK(ax.ndim() == nd, kInvalidArgument, "transpose: axes ", ax.str(), " has ", ax.ndim(),
           " entries but the input has ", nd, " dims");
  std::vector<bool> seen(static_cast<size_t>(nd), false);
  for (int i = 0; i < nd; ++i) {
    int a = check_axis("transpose", ax[i], nd);
    MX_CHECK(!seen[a], kInvalidArgument, "transpose: axes ", ax.str(), " is not a permutation (axis ", ax[i],
             " repeats)");
    seen[a] = true;
    axes[i] = a;
  }
  return axes;
}

void transpose_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  std::vector<int> axes = transpose_axes(p, d.ndim());
  Shape o = Shape::filled(d.ndim(), 0);
  for (int i = 0; i < d.ndim(); ++i) o[i] = d[axes[i]];
  assign_shape("transpose", out, 0, o);
}

void transpose_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  std::vector<int> axes = transpose_axes(p, x.ndim());
  std::vector<int64_t> is = contiguous_strides(x.shape), ss(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) ss[i] = is[axes[i]];
  strided_gather(out[0].data, x.data, ss.data(), out[0].shape, dtype_size(x.dtype));
}

// ------------------------------------------------------------------ Concat / stack / split
void concat_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  for (auto& s : *in)
    if (!s.known()) return;
  const Shape& first = (*in)[0];
  MX_CHECK(first.ndim() >= 1, kShape, "Concat: inputs must have at least 1 dim");
  int dim = check_axis("Concat", p.get_int("dim"), first.ndim());
  Shape o = first;
  o[dim] = 0;
  for (size_t k = 0; k < in->size(); ++k) {
    const Shape& s = (*in)[k];
    bool ok = s.ndim() == first.ndim();
    for (int i = 0; ok && i < s.ndim(); ++i)
      if (i != dim && s[i] != first[i]) ok = false;
    MX_CHECK(ok, kShape, "Concat: input ", k, " has shape ", s.str(), " but input 0 has shape ", first.str(),
             " (all dims but dim=", dim, " must match)");
    o[dim] += s[dim];
  }
  assign_shape("Concat", out, 0, o);
}

void concat_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& o = out[0];
  int dim = check_axis("Concat", p.get_int("dim"), o.ndim());
  std::vector<int64_t> os = contiguous_strides(o.shape);
  const size_t es = dtype_size(o.dtype);
  int64_t at = 0;
  for (const TBlob& x : in) {
    std::vector<int64_t> is = contiguous_strides(x.shape);
    char* dst = static_cast<char*>(o.data) + static_cast<size_t>(at * os[dim]) * es;
    strided_copy(dst, os.data(), x.data, is.data(), x.shape, es);
    at += x.shape[dim];
  }
}

void stack_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  for (auto& s : *in)
    if (!s.known()) return;
  const Shape& first = (*in)[0];
  for (size_t k = 1; k < in->size(); ++k)
    MX_CHECK((*in)[k] == first, kShape, "stack: input ", k, " has shape ", (*in)[k].str(),
             " but input 0 has shape ", first.str(), " (all inputs must have the same shape)");
  int axis = check_axis("stack", p.get_int("axis"), first.ndim() + 1);
  Shape o = first;
  o.insert(axis, static_cast<int64_t>(in->size()));
  assign_shape("stack", out, 0, o);
}

void stack_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& o = out[0];
  int axis = check_axis("stack", p.get_int("axis"), o.ndim());
  std::vector<int64_t> os = contiguous_strides(o.shape);
  std::vector<int64_t> ds;  // out strides without the stacked axis
  for (int i = 0; i < o.ndim(); ++i)
    if (i != axis) ds.push_back(os[i]);
  const size_t es = dtype_size(o.dtype);
  for (size_t k = 0; k < in.size(); ++k) {
    std::vector<int64_t> is = contiguous_strides(in[k].shape);
    char* dst = static_cast<char*>(o.data) + static_cast<size_t>(static_cast<int64_t>(k) * os[axis]) * es;
    strided_copy(dst, ds.data(), in[k].data, is.data(), in[k].shape, es);
  }
}

int split_outputs(const Params& p) {
  int64_t n = p.get_int("num_outputs");
  MX_CHECK(n >= 1, kInvalidArgument, "split: num_outputs must be at least 1, got ", n);
  return static_cast<int>(n);
}

void split_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  const int n = split_outputs(p);
  MX_CHECK(d.ndim() >= 1, kShape, "split: the input must have at least 1 dim");
  int axis = check_axis("split", p.get_int("axis"), d.ndim());
  MX_CHECK(d[axis] % n == 0, kShape, "split: axis ", axis, " of shape ", d.str(), " (size ", d[axis],
           ") cannot be split evenly into num_outputs=", n);
  Shape o = d;
  o[axis] = d[axis] / n;
  if (p.get_bool("squeeze_axis")) {
    MX_CHECK(d[axis] == n, kShape, "split: squeeze_axis=True needs input.shape[axis] == num_outputs, got shape ",
             d.str(), " with axis=", axis, " and num_outputs=", n);
    o.erase(axis);
  }
  for (int k = 0; k < n; ++k) assign_shape("split", out, k, o);
}

void split_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  int axis = check_axis("split", p.get_int("axis"), x.ndim());
  const int64_t n = static_cast<int64_t>(out.size());
  Shape part = x.shape;
  part[axis] = x.shape[axis] / n;
  std::vector<int64_t> is = contiguous_strides(x.shape), ds = contiguous_strides(part);
  const size_t es = dtype_size(x.dtype);
  for (int64_t k = 0; k < n; ++k) {
    const char* src = static_cast<const char*>(x.data) + static_cast<size_t>(k * part[axis] * is[axis]) * es;
    strided_copy(out[k].data, ds.data(), src, is.data(), part, es);
  }
}

// ------------------------------------------------------------------ tile / repeat / reverse
void tile_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  const Shape& reps = p.get_shape("reps");
  for (int i = 0; i < reps.ndim(); ++i)
    MX_CHECK(reps[i] >= 0, kInvalidArgument, "tile: reps ", reps.str(), " must be non-negative integers");
  const int nd = std::max(d.ndim(), reps.ndim());
  Shape o = Shape::filled(nd, 1);
  for (int i = 0; i < nd; ++i) {
    int id = i - (nd - d.ndim()), ir = i - (nd - reps.ndim());
    o[i] = (id >= 0 ? d[id] : 1) * (ir >= 0 ? reps[ir] : 1);
  }
  assign_shape("tile", out, 0, o);
}

void tile_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (out[0].size() == 0) return;
  const Shape& reps = p.get_shape("reps");
  const int nd = std::max(x.ndim(), reps.ndim());
  std::vector<int64_t> is = contiguous_strides(x.shape);
  // The output as (r0, d0, r1, d1, ...): a repeat axis (source stride 0) before each input axis.
  Shape view;
  std::vector<int64_t> ss;
  for (int i = 0; i < nd; ++i) {
    int id = i - (nd - x.ndim()), ir = i - (nd - reps.ndim());
    int64_t r = ir >= 0 ? reps[ir] : 1;
    if (r != 1) {
      view.push_back(r);
      ss.push_back(0);
    }
    if (id >= 0) {
      view.push_back(x.shape[id]);
      ss.push_back(is[id]);
    }
  }
  strided_gather(out[0].data, x.data, ss.data(), view, dtype_size(x.dtype));
}

void repeat_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  int64_t r = p.get_int("repeats");
  MX_CHECK(r >= 0, kInvalidArgument, "repeat: repeats must be non-negative, got ", r);
  int axis = -1;
  if (!p.is_none("axis")) axis = check_axis("repeat", p.get_int("axis"), d.ndim());
  if (r == 0) {  // MXNet returns an empty 1-d array whatever the axis
    assign_shape("repeat", out, 0, Shape{0});
    return;
  }
  if (axis < 0) {
    assign_shape("repeat", out, 0, Shape{d.size() * r});
    return;
  }
  Shape o = d;
  o[axis] *= r;
  assign_shape("repeat", out, 0, o);
}

void repeat_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (out[0].size() == 0) return;
  const int64_t r = p.get_int("repeats");
  Shape view;
  std::vector<int64_t> ss;
  if (p.is_none("axis")) {
    view = Shape{x.size(), r};
    ss = {1, 0};
  } else {
    int axis = check_axis("repeat", p.get_int("axis"), x.ndim());
    std::vector<int64_t> is = contiguous_strides(x.shape);
    for (int i = 0; i < x.ndim(); ++i) {
      view.push_back(x.shape[i]);
      ss.push_back(is[i]);
      if (i == axis) {
        view.push_back(r);
        ss.push_back(0);
      }
    }
  }
  strided_gather(out[0].data, x.data, ss.data(), view, dtype_size(x.dtype));
}

std::vector<bool> reverse_axes(const Params& p, int nd) {
  const Shape& ax = p.get_shape("axis");
  std::vector<bool> flip(static_cast<size_t>(nd), false);
  for (int i = 0; i < ax.ndim(); ++i) {
    int a = check_axis("reverse", ax[i], nd);
    MX_CHECK(!flip[a], kInvalidArgument, "reverse: axis ", ax[i], " is given twice in ", ax.str());
    flip[a] = true;
  }
  return flip;
}

void reverse_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  reverse_axes(p, d.ndim());
  assign_shape("reverse", out, 0, d);
}

void reverse_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  if (x.size() == 0) return;
  std::vector<bool> flip = reverse_axes(p, x.ndim());
  std::vector<int64_t> ss = contiguous_strides(x.shape);
  int64_t start = 0;
  for (int i = 0; i < x.ndim(); ++i) {
    if (!flip[i]) continue;
    start += (x.shape[i] - 1) * ss[i];
    ss[i] = -ss[i];
  }
  const size_t es = dtype_size(x.dtype);
  strided_gather(out[0].data, static_cast<const char*>(x.data) + static_cast<size_t>(start) * es, ss.data(),
                 x.shape, es);
}

}  // namespace

MX_REGISTER_OP(Reshape)
    .alias("reshape")
    .category("shape")
    .describe(
        "Reshapes the input to a new shape with the same number of elements. shape entries may be MXNet's "
        "special codes: 0 copies the input dim, -1 infers one dim from the rest, -2 copies all remaining "
        "input dims, -3 merges two consecutive input dims, -4 splits one input dim into the two entries that "
        "follow (one of them may be -1). With reverse=True the codes are matched from right to left. "
        "Example: (2,3,4) with shape=(-4,1,2,-2) gives (1,2,3,4).")
    .input("data")
    .param_shape("shape", "()", "The target shape (with the special codes 0, -1, -2, -3, -4).")
    .param_bool("reverse", "False", "If true, the special values are inferred from right to left.")
    .param_shape("target_shape", "()", "(Deprecated, unsupported: use shape.)")
    .param_bool("keep_highest", "False", "(Deprecated, unsupported: use shape.)")
    .infer_shape(reshape_shape)
    .inplace({{0, 0}})
    .cpu(copy_data)
    .differentiable(false);

MX_REGISTER_OP(Flatten)
    .alias("flatten")
    .category("shape")
    .describe("Flattens the input to 2-d: (d0, d1*...*dn).")
    .input("data")
    .infer_shape(flatten_shape)
    .inplace({{0, 0}})
    .cpu(copy_data)
    .differentiable(false);

MX_REGISTER_OP(expand_dims)
    .category("shape")
    .describe("Inserts a new axis of size 1 at position axis (-ndim-1 <= axis <= ndim).")
    .input("data")
    .param_int("axis", OpDef::kRequired, "Position of the new axis; negative counts from the end.")
    .infer_shape(expand_dims_shape)
    .inplace({{0, 0}})
    .cpu(copy_data)
    .differentiable(false);

MX_REGISTER_OP(squeeze)
    .category("shape")
    .describe(
        "Removes axes of size 1: the given axes (each must have size 1), or all of them when axis is None. "
        "Squeezing every axis leaves shape (1,).")
    .input("data")
    .param_shape("axis", "None", "Axes to remove; None removes every axis of size 1.")
    .optional()
    .infer_shape(squeeze_shape)
    .inplace({{0, 0}})
    .cpu(copy_data)
    .differentiable(false);

MX_REGISTER_OP(transpose)
    .category("shape")
    .describe("Permutes the axes; by default reverses them. Negative axes count from the end.")
    .input("data")
    .param_shape("axes", "()", "Target axis order; empty reverses the axes.")
    .infer_shape(transpose_shape)
    .cpu(transpose_cpu)
    .differentiable(false);

MX_REGISTER_OP(Concat)
    .alias("concat")
    .category("shape")
    .describe("Joins the inputs along axis dim; all other dims must match.")
    .variadic_input("data", "num_args")
    .param_int("num_args", OpDef::kRequired, "Number of inputs to be concatenated.")
    .param_int("dim", "1", "The dimension to concatenate along; negative counts from the end.")
    .infer_shape(concat_shape)
    .cpu(concat_cpu)
    .differentiable(false);

MX_REGISTER_OP(stack)
    .category("shape")
    .describe("Joins inputs of one shape along a new axis.")
    .variadic_input("data", "num_args")
    .param_int("axis", "0", "The axis in the result along which the inputs are stacked.")
    .param_int("num_args", OpDef::kRequired, "Number of inputs to be stacked.")
    .infer_shape(stack_shape)
    .cpu(stack_cpu)
    .differentiable(false);

MX_REGISTER_OP(SliceChannel)
    .alias("split")
    .category("shape")
    .describe(
        "Splits the input along axis into num_outputs equal parts. With squeeze_axis=True (which needs "
        "input.shape[axis] == num_outputs) the split axis is removed from the outputs.")
    .input("data")
    .param_int("num_outputs", OpDef::kRequired, "Number of splits; must divide input.shape[axis].")
    .param_int("axis", "1", "Axis along which to split; negative counts from the end.")
    .param_bool("squeeze_axis", "False", "Remove the split axis from the outputs (its size must become 1).")
    .num_outputs(split_outputs)
    .infer_shape(split_shape)
    .cpu(split_cpu)
    .differentiable(false);

MX_REGISTER_OP(tile)
    .category("shape")
    .describe(
        "Repeats the whole array reps times along each axis (numpy.tile): reps shorter than ndim is padded "
        "with leading 1s, longer reps prepend axes to the input.")
    .input("data")
    .param_shape("reps", OpDef::kRequired, "Repetitions per axis (non-negative).")
    .infer_shape(tile_shape)
    .cpu(tile_cpu)
    .differentiable(false);

MX_REGISTER_OP(repeat)
    .category("shape")
    .describe(
        "Repeats each element repeats times along axis; with axis None the input is flattened first. "
        "repeats=0 gives an empty 1-d array, as in MXNet.")
    .input("data")
    .param_int("repeats", OpDef::kRequired, "The number of repetitions for each element.")
    .param_int("axis", "None", "The axis along which to repeat; None uses the flattened input.")
    .optional()
    .infer_shape(repeat_shape)
    .cpu(repeat_cpu)
    .differentiable(false);

MX_REGISTER_OP(reverse)
    .alias("flip")
    .category("shape")
    .describe("Reverses the order of elements along the given axes.")
    .input("data")
    .param_shape("axis", OpDef::kRequired, "The axes to reverse; negative counts from the end.")
    .infer_shape(reverse_shape)
    .cpu(reverse_cpu)
    .differentiable(false);

}  // namespace mx
