// broadcast_to, broadcast_like and broadcast_axis: copy an array into a larger shape along axes
// of size 1 (dtype-agnostic: elements are moved as bytes).
#include <cstring>

#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

// out = in broadcast to out.shape (in has out's ndim after left-padding with 1s).
void broadcast_copy(const TBlob& in, const TBlob& out) {
  const int nd = out.ndim();
  const size_t es = dtype_size(out.dtype);
  if (out.size() == 0) return;
  if (nd == 0) {
    std::memcpy(out.data, in.data, es);
    return;
  }
  int64_t in_dims[Shape::kMaxDim], in_strides[Shape::kMaxDim];
  const int off = nd - in.ndim();
  for (int i = 0; i < nd; ++i) in_dims[i] = i < off ? 1 : in.shape[i - off];
  int64_t st = 1;
  for (int i = nd - 1; i >= 0; --i) {
    in_strides[i] = in_dims[i] == 1 ? 0 : st;
    st *= in_dims[i];
  }
  const int64_t inner = out.shape[nd - 1];
  const int64_t rows = out.size() / inner;
  const char* src = static_cast<const char*>(in.data);
  char* dst = static_cast<char*>(out.data);
  const bool inner_contig = in_strides[nd - 1] == 1;
  parallel_range(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, ioff = 0;
      for (int d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % out.shape[d];
        rem /= out.shape[d];
        ioff += idx * in_strides[d];
      }
      char* o = dst + static_cast<size_t>(r * inner) * es;
      const char* s = src + static_cast<size_t>(ioff) * es;
      if (inner_contig) {
        std::memcpy(o, s, static_cast<size_t>(inner) * es);
      } else if (es == 4) {
        uint32_t v;
        std::memcpy(&v, s, 4);
        for (int64_t i = 0; i < inner; ++i) std::memcpy(o + i * 4, &v, 4);
      } else {
        for (int64_t i = 0; i < inner; ++i) std::memcpy(o + i * es, s, es);
      }
    }
  }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, inner)));
}

void check_broadcastable(const char* op, const Shape& in, const Shape& out) {
  MX_CHECK(in.ndim() <= out.ndim(), kShape, op, ": cannot broadcast shape ", in.str(), " to ", out.str(),
           " (fewer dimensions in the target)");
  const int off = out.ndim() - in.ndim();
  for (int i = 0; i < in.ndim(); ++i)
    MX_CHECK(in[i] == out[i + off] || in[i] == 1, kShape, op, ": cannot broadcast shape ", in.str(), " to ",
             out.str(), " (dimension ", i, " is ", in[i], ", not 1 or ", out[i + off], ")");
}

void broadcast_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  broadcast_copy(in[0], out[0]);
}

MX_REGISTER_OP(broadcast_to)
    .describe("Broadcasts the input to a new shape: dimensions of size 1 are repeated; a 0 in `shape` keeps "
              "the input's dimension.")
    .category("broadcast")
    .input("data")
    .param_shape("shape", "()", "The shape of the output; 0 keeps the input's dimension at that position.")
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& s = (*in)[0];
      if (!s.known()) return;
      Shape t = p.get_shape("shape");
      MX_CHECK(t.ndim() == s.ndim(), kShape, "broadcast_to: target shape ", t.str(), " must have as many dimensions ",
               "as the input ", s.str());
      for (int i = 0; i < t.ndim(); ++i) {
        if (t[i] == 0) t[i] = s[i];
        MX_CHECK(t[i] >= 0, kInvalidArgument, "broadcast_to: negative dimension in ", t.str());
      }
      check_broadcastable("broadcast_to", s, t);
      (*out)[0] = t;
    })
    .cpu(broadcast_cpu);

MX_REGISTER_OP(broadcast_like)
    .describe("Broadcasts lhs to the shape of rhs (along all axes, or lhs_axes onto rhs_axes). A lhs with fewer "
              "dimensions is aligned on the right, as in numpy.")
    .category("broadcast")
    .input("lhs")
    .input("rhs")
    .param_shape("lhs_axes", "None", "Axes of lhs to broadcast (default: all).")
    .param_shape("rhs_axes", "None", "Axes of rhs whose sizes lhs_axes take (default: all).")
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& l = (*in)[0];
      const Shape& r = (*in)[1];
      if (!l.known() || !r.known()) return;
      if (p.is_none("lhs_axes") && p.is_none("rhs_axes")) {
        // MXNet requires equal ndim; MX also aligns a shorter lhs on the right, as numpy does.
        check_broadcastable("broadcast_like", l, r);
        (*out)[0] = r;
        return;
      }
      MX_CHECK(!p.is_none("lhs_axes") && !p.is_none("rhs_axes"), kInvalidArgument,
               "broadcast_like: give both lhs_axes and rhs_axes, or neither");
      const Shape& la = p.get_shape("lhs_axes");
      const Shape& ra = p.get_shape("rhs_axes");
      MX_CHECK(la.ndim() == ra.ndim(), kInvalidArgument, "broadcast_like: lhs_axes ", la.str(), " and rhs_axes ",
               ra.str(), " differ in length");
      Shape t = l;
      for (int i = 0; i < la.ndim(); ++i) {
        int a = normalize_axis(static_cast<int>(la[i]), l.ndim());
        int b = normalize_axis(static_cast<int>(ra[i]), r.ndim());
        MX_CHECK(l[a] == 1 || l[a] == r[b], kShape, "broadcast_like: axis ", a, " of lhs ", l.str(),
                 " has size ", l[a], ", cannot broadcast to ", r[b]);
        t[a] = r[b];
      }
      (*out)[0] = t;
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; })
    .cpu([](const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      broadcast_copy(in[0], out[0]);
    });

MX_REGISTER_OP(broadcast_axis)
    .alias("broadcast_axes")
    .describe("Broadcasts the input along the given axes (each of size 1) to the given sizes.")
    .category("broadcast")
    .input("data")
    .param_shape("axis", "()", "The axes to broadcast.")
    .param_shape("size", "()", "Target size of each axis.")
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& s = (*in)[0];
      if (!s.known()) return;
      const Shape& ax = p.get_shape("axis");
      const Shape& sz = p.get_shape("size");
      MX_CHECK(ax.ndim() == sz.ndim(), kInvalidArgument, "broadcast_axis: axis ", ax.str(), " and size ", sz.str(),
               " differ in length");
      Shape t = s;
      for (int i = 0; i < ax.ndim(); ++i) {
        int a = normalize_axis(static_cast<int>(ax[i]), s.ndim());
        MX_CHECK(s[a] == 1, kShape, "broadcast_axis: axis ", a, " of ", s.str(), " has size ", s[a], ", not 1");
        MX_CHECK(sz[i] >= 0, kInvalidArgument, "broadcast_axis: negative size ", sz[i]);
        t[a] = sz[i];
      }
      (*out)[0] = t;
    })
    .cpu(broadcast_cpu);

}  // namespace
}  // namespace mx
