// Dedicated backward ops for the gradients in misc_grad.cc: each takes the output gradient (and the
// forward input it is the gradient for, for its shape) and returns an array shaped like that input.
//   _backward_diag        places ograd back on diagonal k (or reads diagonal k for a 1-d input)
//   _backward_gather_nd   adds ograd into zeros at the gathered positions (duplicates accumulate)
//   _backward_slice_like  places ograd in the leading corner of zeros shaped like data
//   _backward_topk        adds ograd into zeros at the positions given by indices along an axis
//   _backward_SoftmaxOutput  MXNet's cross-entropy gradient of SoftmaxOutput
//   _backward_Pad         sums ograd of Pad back onto data (every mode: constant, edge, reflect)
//   _backward_LeakyReLU_rrelu  og * (x > 0 ? 1 : slope), replaying the forward's random slopes
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/random.h"
#include "op/kernel_util.h"
#include "op/registry.h"

namespace mx {
namespace {

using Vs = std::vector<GradValue>;

// Every element of a blob as double (any dtype).
std::vector<double> load_values(const TBlob& t) {
  std::vector<double> v(static_cast<size_t>(t.size()));
  MX_DTYPE_SWITCH(t.dtype, T, {
    const T* p = t.ptr<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = cast_value<double>(p[i]);
  });
  return v;
}

void store_values(const std::vector<double>& v, const TBlob& t) {
  MX_FLOAT_DTYPE_SWITCH(t.dtype, T, {
    T* p = t.ptr<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = cast_value<T>(v[i]);
  });
}

// An index value as an integer position in [0, n); throws kIndex otherwise.
int64_t index_at(const char* op, double v, int64_t n) {
  MX_CHECK(std::isfinite(v) && v == std::floor(v) && v >= 0 && v < static_cast<double>(n), kIndex, op, ": index ", v,
           " is out of bounds for an axis of size ", n);
  return static_cast<int64_t>(v);
}

void out_type_of_first(const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[0]; }

// ------------------------------------------------------------------ _backward_diag
struct DiagGeom {
  int a1 = 0, a2 = 1;
  int64_t len = 0;
};

DiagGeom diag_geom(const Params& p, const Shape& d) {
  DiagGeom g;
  const int64_t k = p.get_int("k");
  if (d.ndim() == 1) {
    g.len = d[0];
    return g;
  }
  g.a1 = normalize_axis(static_cast<int>(p.get_int("axis1")), d.ndim());
  g.a2 = normalize_axis(static_cast<int>(p.get_int("axis2")), d.ndim());
  MX_CHECK(g.a1 != g.a2, kInvalidArgument, "_backward_diag: axis1 and axis2 are the same axis ", g.a1);
  int64_t h = d[g.a1], w = d[g.a2];
  if (k > 0) w -= k;
  if (k < 0) h += k;
  g.len = std::max<int64_t>(0, std::min(h, w));
  return g;
}

Shape diag_out_shape(const Params& p, const Shape& d) {
  DiagGeom g = diag_geom(p, d);
  if (d.ndim() == 1) {
    const int64_t k = p.get_int("k"), m = d[0] + (k < 0 ? -k : k);
    return Shape{m, m};
  }
  Shape o;
  for (int i = 0; i < d.ndim(); ++i)
    if (i != g.a1 && i != g.a2) o.push_back(d[i]);
  o.push_back(g.len);
  return o;
}

MX_REGISTER_OP(_backward_diag)
    .describe("The gradient of diag: for a 1-d data, diagonal k of ograd; otherwise zeros shaped like data with "
              "ograd's last axis placed on diagonal k over (axis1, axis2).")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_int("k", "0", "The forward's diagonal offset.")
    .param_int("axis1", "0", "The forward's first axis.")
    .param_int("axis2", "1", "The forward's second axis.")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &d = (*in)[1];
      if (!shape_known(g) || !shape_known(d)) return;
      MX_CHECK(d.ndim() >= 1, kShape, "_backward_diag: data must have at least 1 dim");
      Shape want = diag_out_shape(p, d);
      MX_CHECK(g == want, kShape, "_backward_diag: ograd of shape ", g.str(), " does not match diag of data ",
               d.str(), " (expected ", want.str(), ")");
      (*out)[0] = d;
    })
    .infer_type(out_type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob &g = in[0], &o = out[0];
      const int64_t k = p.get_int("k");
      const Shape& d = o.shape;
      DiagGeom geo = diag_geom(p, d);
      std::vector<double> gv = load_values(g);
      std::vector<double> ov(static_cast<size_t>(o.size()), 0.0);
      if (d.ndim() == 1) {
        const int64_t m = g.shape[0], r0 = k < 0 ? -k : 0, c0 = k > 0 ? k : 0;
        for (int64_t i = 0; i < d[0]; ++i) ov[static_cast<size_t>(i)] = gv[static_cast<size_t>((i + r0) * m + i + c0)];
      } else {
        const int nd = d.ndim();
        std::vector<int64_t> idx(static_cast<size_t>(nd));
        for (int64_t lin = 0; lin < o.size(); ++lin) {
          int64_t rem = lin;
          for (int a = nd - 1; a >= 0; --a) {
            idx[static_cast<size_t>(a)] = rem % d[a];
            rem /= d[a];
          }
          const int64_t i1 = idx[static_cast<size_t>(geo.a1)], i2 = idx[static_cast<size_t>(geo.a2)];
          if (i2 - i1 != k) continue;
          int64_t r = 0;
          for (int a = 0; a < nd; ++a)
            if (a != geo.a1 && a != geo.a2) r = r * d[a] + idx[static_cast<size_t>(a)];
          ov[static_cast<size_t>(lin)] = gv[static_cast<size_t>(r * geo.len + std::min(i1, i2))];
        }
      }
      store_values(ov, o);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      ParamList pl{{"k", std::to_string(a.params.get_int("k"))},
                   {"axis1", std::to_string(a.params.get_int("axis1"))},
                   {"axis2", std::to_string(a.params.get_int("axis2"))}};
      return Vs{b.call1("diag", {a.ograds[0]}, pl), GradValue{}};
    });

// ------------------------------------------------------------------ _backward_gather_nd
MX_REGISTER_OP(_backward_gather_nd)
    .describe("The gradient of gather_nd with respect to data: zeros shaped like data with ograd added at the "
              "positions that indices (M, Y...) address (repeated positions accumulate).")
    .category("grad")
    .input("ograd")
    .input("indices")
    .input("data")
    .float_dtypes()
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &idx = (*in)[1], &d = (*in)[2];
      if (!shape_known(g) || !shape_known(idx) || !shape_known(d)) return;
      MX_CHECK(idx.ndim() >= 2 && idx[0] >= 1 && idx[0] <= d.ndim(), kShape, "_backward_gather_nd: indices of shape ",
               idx.str(), " do not index data of shape ", d.str());
      Shape want;
      for (int i = 1; i < idx.ndim(); ++i) want.push_back(idx[i]);
      for (int i = static_cast<int>(idx[0]); i < d.ndim(); ++i) want.push_back(d[i]);
      MX_CHECK(g == want, kShape, "_backward_gather_nd: ograd has shape ", g.str(), ", expected ", want.str());
      (*out)[0] = d;
    })
    .infer_type(out_type_of_first)
    .cpu([](const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob &g = in[0], &ind = in[1], &o = out[0];
      const int64_t m = ind.shape[0], n = ind.size() / std::max<int64_t>(m, 1);
      const int64_t inner = o.shape.prod(static_cast<int>(m), o.ndim());
      std::vector<double> iv = load_values(ind), gv = load_values(g);
      std::vector<double> ov(static_cast<size_t>(o.size()), 0.0);
      for (int64_t i = 0; i < n; ++i) {
        int64_t row = 0;
        for (int64_t j = 0; j < m; ++j) {
          const int64_t dim = o.shape[static_cast<int>(j)];
          double v = iv[static_cast<size_t>(j * n + i)];
          if (v < 0) v += static_cast<double>(dim);  // negative indices count from the end, as gather_nd
          row = row * dim + index_at("_backward_gather_nd", v, dim);
        }
        for (int64_t t = 0; t < inner; ++t) ov[static_cast<size_t>(row * inner + t)] += gv[static_cast<size_t>(i * inner + t)];
      }
      store_values(ov, o);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return Vs{b.call1("gather_nd", {a.ograds[0], a.inputs[1]}), GradValue{}, GradValue{}};
    });

// ------------------------------------------------------------------ _backward_slice_like
MX_REGISTER_OP(_backward_slice_like)
    .describe("The gradient of slice_like with respect to data: zeros shaped like data with ograd in the corner "
              "that starts at index 0 on every axis.")
    .category("grad")
    .input("ograd")
    .input("data")
    .float_dtypes()
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &d = (*in)[1];
      if (!shape_known(g) || !shape_known(d)) return;
      bool fits = g.ndim() == d.ndim();
      for (int i = 0; fits && i < d.ndim(); ++i) fits = g[i] <= d[i];
      MX_CHECK(fits, kShape, "_backward_slice_like: ograd of shape ", g.str(), " does not fit in data of shape ",
               d.str());
      (*out)[0] = d;
    })
    .infer_type(out_type_of_first)
    .cpu([](const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob &g = in[0], &o = out[0];
      const size_t es = dtype_size(o.dtype);
      if (o.size() > 0) std::memset(o.data, 0, o.nbytes());
      if (g.size() == 0) return;
      const int nd = o.ndim();
      if (nd == 0) {  // a 0-d array: the one element
        std::memcpy(o.data, g.data, es);
        return;
      }
      const int64_t row = g.shape[nd - 1];
      const int64_t rows = g.size() / row;
      for (int64_t r = 0; r < rows; ++r) {
        int64_t rem = r, off = 0, stride = o.shape[nd - 1];
        for (int a = nd - 2; a >= 0; --a) {
          off += (rem % g.shape[a]) * stride;
          rem /= g.shape[a];
          stride *= o.shape[a];
        }
        std::memcpy(static_cast<char*>(o.data) + static_cast<size_t>(off) * es,
                    static_cast<const char*>(g.data) + static_cast<size_t>(r * row) * es, static_cast<size_t>(row) * es);
      }
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return Vs{b.call1("slice_like", {a.ograds[0], a.inputs[0]}), GradValue{}};
    });

// ------------------------------------------------------------------ _backward_topk
MX_REGISTER_OP(_backward_topk)
    .describe("The gradient of sort/topk values: zeros shaped like data with ograd added, line by line along "
              "axis, at the positions in indices (the same shape as ograd). axis None: data is read flattened.")
    .category("grad")
    .input("ograd")
    .input("indices")
    .input("data")
    .param_int("axis", "-1", "The forward's axis (None: the flattened array).")
    .optional()
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &idx = (*in)[1], &d = (*in)[2];
      if (!shape_known(g) || !shape_known(idx) || !shape_known(d)) return;
      MX_CHECK(g == idx, kShape, "_backward_topk: ograd of shape ", g.str(), " differs from indices of shape ",
               idx.str());
      if (p.is_none("axis")) {
        MX_CHECK(g.ndim() == 1, kShape, "_backward_topk (axis None): ograd must be 1-d, got ", g.str());
      } else {
        MX_CHECK(d.ndim() >= 1, kShape, "_backward_topk: data must have at least 1 dim");
        const int ax = normalize_axis(static_cast<int>(p.get_int("axis")), d.ndim());
        bool ok = g.ndim() == d.ndim();
        for (int i = 0; ok && i < d.ndim(); ++i) ok = i == ax || g[i] == d[i];
        MX_CHECK(ok, kShape, "_backward_topk: ograd of shape ", g.str(), " does not match data of shape ", d.str(),
                 " outside axis ", ax);
      }
      (*out)[0] = d;
    })
    .infer_type(out_type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob &g = in[0], &ind = in[1], &o = out[0];
      int64_t outer = 1, n = o.size(), inner = 1, m = g.size();
      if (!p.is_none("axis")) {
        const int ax = normalize_axis(static_cast<int>(p.get_int("axis")), o.ndim());
        outer = o.shape.prod(0, ax);
        n = o.shape[ax];
        inner = o.shape.prod(ax + 1, o.ndim());
        m = g.shape[ax];
      }
      std::vector<double> iv = load_values(ind), gv = load_values(g);
      std::vector<double> ov(static_cast<size_t>(o.size()), 0.0);
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t j = 0; j < m; ++j)
          for (int64_t t = 0; t < inner; ++t) {
            const size_t src = static_cast<size_t>((a * m + j) * inner + t);
            const int64_t pos = index_at("_backward_topk", iv[src], n);
            ov[static_cast<size_t>((a * n + pos) * inner + t)] += gv[src];
          }
      store_values(ov, o);
    });

// ------------------------------------------------------------------ _backward_SoftmaxOutput
MX_REGISTER_OP(_backward_SoftmaxOutput)
    .describe("MXNet's gradient of SoftmaxOutput with respect to data, from its output (the softmax) and label: "
              "(out - onehot(label)) (label smoothed by smooth_alpha; a label shaped like data is read as "
              "probabilities), rows labelled ignore_label zeroed with use_ignore, scaled by grad_scale and "
              "normalization, and multiplied by ograd only with out_grad=True.")
    .category("grad")
    .input("ograd")
    .input("output")
    .input("label")
    .param_float("grad_scale", "1", "Scales the gradient by a float factor.")
    .param_float("ignore_label", "-1", "The label value ignored with use_ignore.")
    .param_bool("multi_output", "False", "Softmax over axis 1.")
    .param_bool("use_ignore", "False", "Zero the gradient of instances labelled ignore_label.")
    .param_bool("preserve_shape", "False", "Softmax over the last axis.")
    .param_enum("normalization", {"batch", "null", "valid"}, "null", "Normalizes the gradient.")
    .param_bool("out_grad", "False", "Multiplies gradient with output gradient element-wise.")
    .param_float("smooth_alpha", "0", "Label smoothing constant.")
    .float_dtypes()
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &o = (*in)[1];
      if (!shape_known(g) || !shape_known(o)) return;
      MX_CHECK(g == o, kShape, "_backward_SoftmaxOutput: ograd of shape ", g.str(), " differs from output of shape ",
               o.str());
      (*out)[0] = o;
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[1]; })
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob &og = in[0], &y = in[1], &lab = in[2], &o = out[0];
      const Shape& s = y.shape;
      std::vector<double> pv = load_values(y), lv = load_values(lab);
      std::vector<double> gv(pv.size(), 0.0);
      const double scale0 = p.get_float("grad_scale");
      const std::string& norm = p.get_string("normalization");
      const bool use_ignore = p.get_bool("use_ignore");
      const int ignore = static_cast<int>(p.get_float("ignore_label"));
      const double alpha = p.get_float("smooth_alpha");
      double scale = scale0;
      if (lab.shape == s) {  // probabilities as label
        for (size_t i = 0; i < pv.size(); ++i) gv[i] = pv[i] - lv[i];
      } else {
        // Lines of K classes: entry (r, c, t) of a (R, K, D) view; label has R*D entries.
        int64_t R, K, D = 1;
        if (p.get_bool("multi_output")) {
          MX_CHECK(s.ndim() >= 2, kShape, "_backward_SoftmaxOutput(multi_output): out must have 2 or more dims");
          R = s[0];
          K = s[1];
          D = (R == 0 || K == 0) ? 0 : y.size() / R / K;
        } else if (p.get_bool("preserve_shape")) {
          K = s[s.ndim() - 1];
          R = K == 0 ? 0 : y.size() / K;
        } else {
          R = s[0];
          K = R == 0 ? 0 : y.size() / R;
        }
        MX_CHECK(lab.size() == R * D, kUnsupported, "SoftmaxOutput: no gradient for label of shape ",
                 lab.shape.str(), " with data of shape ", s.str(), ": the softmax runs over ", K,
                 " classes in ", R * D, " lines (use preserve_shape or multi_output for data of more than 2 dims)");
        const double off = K > 1 ? alpha / static_cast<double>(K - 1) : 0.0;
        int64_t ignored = 0;
        for (int64_t r = 0; r < R; ++r)
          for (int64_t t = 0; t < D; ++t) {
            const int l = static_cast<int>(lv[static_cast<size_t>(r * D + t)]);
            if (l == ignore) ++ignored;
            if (use_ignore && l == ignore) continue;
            for (int64_t c = 0; c < K; ++c) {
              const size_t i = static_cast<size_t>((r * K + c) * D + t);
              gv[i] = pv[i] - (c == l ? 1.0 - alpha : off);
            }
          }
        double valid_cnt = 1.0;
        if (norm == "batch") {
          valid_cnt = static_cast<double>(R);
        } else if (norm == "valid") {
          valid_cnt = static_cast<double>(R * D - ignored);
          if (valid_cnt == 0) valid_cnt = 1.0;
        }
        // MXNet divides multi_output gradients by the spatial size except with normalization 'valid'.
        if (p.get_bool("multi_output") && norm != "valid" && D > 0) scale /= static_cast<double>(D);
        scale /= valid_cnt;
      }
      if (p.get_bool("out_grad")) {
        std::vector<double> w = load_values(og);
        for (size_t i = 0; i < gv.size(); ++i) gv[i] *= scale * w[i];
      } else {
        for (double& v : gv) v *= scale;
      }
      store_values(gv, o);
    });

// ------------------------------------------------------------------ _backward_Pad
// Pad maps every output position, axis by axis, to one data position: inside (shifted), the border
// (edge) or the mirror image without repeating the border (reflect); constant padding reads none.
int64_t pad_source(const std::string& mode, int64_t q, int64_t n) {
  if (q >= 0 && q < n) return q;
  if (mode == "constant") return -1;
  if (mode == "edge") return q < 0 ? 0 : n - 1;
  return q < 0 ? -q : 2 * (n - 1) - q;  // reflect (the forward keeps the padding below n)
}

MX_REGISTER_OP(_backward_Pad)
    .describe("The gradient of Pad with respect to data: each element of ograd added to the data element it was "
              "copied from (none for constant padding; the border for edge; the mirrored element for reflect).")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_enum("mode", {"constant", "edge", "reflect"}, OpDef::kRequired, "The forward's padding type.")
    .param_shape("pad_width", OpDef::kRequired, "The forward's pad_width.")
    .param_float("constant_value", "0", "The forward's constant_value (does not affect the gradient).")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &d = (*in)[1];
      if (!shape_known(g) || !shape_known(d)) return;
      const Shape& w = p.get_shape("pad_width");
      MX_CHECK(w.ndim() == 2 * d.ndim(), kInvalidArgument, "_backward_Pad: pad_width ", w.str(), " must have ",
               2 * d.ndim(), " entries for data of shape ", d.str());
      Shape want = d;
      for (int i = 0; i < d.ndim(); ++i) {
        MX_CHECK(w[2 * i] >= 0 && w[2 * i + 1] >= 0, kInvalidArgument, "_backward_Pad: pad_width ", w.str(),
                 " must be non-negative");
        if (p.get_string("mode") == "reflect")
          MX_CHECK(w[2 * i] < d[i] && w[2 * i + 1] < d[i], kInvalidArgument, "_backward_Pad: reflect padding ",
                   w.str(), " must be smaller than every axis of ", d.str());
        if (p.get_string("mode") == "edge")
          MX_CHECK(d[i] > 0 || (w[2 * i] == 0 && w[2 * i + 1] == 0), kInvalidArgument,
                   "_backward_Pad: edge padding of an empty axis (shape ", d.str(), ")");
        want[i] = d[i] + w[2 * i] + w[2 * i + 1];
      }
      MX_CHECK(g == want, kShape, "_backward_Pad: ograd of shape ", g.str(), " does not match the padded shape ",
               want.str());
      (*out)[0] = d;
    })
    .infer_type(out_type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob &g = in[0], &o = out[0];
      const Shape& w = p.get_shape("pad_width");
      const std::string& mode = p.get_string("mode");
      const int nd = o.ndim();
      std::vector<double> gv = load_values(g);
      std::vector<double> ov(static_cast<size_t>(o.size()), 0.0);
      std::vector<int64_t> idx(static_cast<size_t>(nd));
      for (int64_t lin = 0; lin < g.size(); ++lin) {
        int64_t rem = lin, src = 0, stride = 1;
        bool inside = true;
        for (int a = nd - 1; a >= 0; --a) {
          const int64_t q = rem % g.shape[a] - w[2 * a];
          rem /= g.shape[a];
          const int64_t s = pad_source(mode, q, o.shape[a]);
          if (s < 0) {
            inside = false;
            break;
          }
          src += s * stride;
          stride *= o.shape[a];
        }
        if (inside) ov[static_cast<size_t>(src)] += gv[static_cast<size_t>(lin)];
      }
      store_values(ov, o);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      // Linear in ograd: its adjoint is Pad itself with a zero constant.
      ParamList pl{{"mode", a.params.get_string("mode")}, {"pad_width", tuple_param(a.params.get_shape("pad_width"))},
                   {"constant_value", "0"}};
      return Vs{b.call1("Pad", {a.ograds[0]}, pl), GradValue{}};
    });

// ------------------------------------------------------------------ _backward_LeakyReLU_rrelu
// The forward (LeakyReLU act_type='rrelu', training) gives element i the slope lower + (upper - lower) u
// with u from word i % 4 of Philox block i / 4 of its stream; predict mode uses (lower + upper) / 2.
MX_REGISTER_OP(_backward_LeakyReLU_rrelu)
    .describe("The gradient of LeakyReLU(act_type='rrelu') with respect to data: ograd * (data > 0 ? 1 : slope), "
              "with the forward call's random slopes replayed from rng_seed/rng_stream when active (training), "
              "else slope (lower_bound + upper_bound) / 2.")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_float("lower_bound", "0.125", "The forward's lower_bound.")
    .param_float("upper_bound", "0.334", "The forward's upper_bound.")
    .param_bool("active", "True", "Whether the forward ran in training mode (random slopes).")
    .param_string("rng_seed", "0", "The forward call's seed.")
    .param_string("rng_stream", "0", "The forward call's random stream.")
    .float_dtypes()
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape &g = (*in)[0], &d = (*in)[1];
      if (!shape_known(g) || !shape_known(d)) return;
      MX_CHECK(g == d, kShape, "_backward_LeakyReLU_rrelu: ograd of shape ", g.str(), " differs from data of shape ",
               d.str());
      (*out)[0] = d;
    })
    .infer_type(out_type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob &g = in[0], &x = in[1], &o = out[0];
      MX_CHECK(g.dtype == x.dtype, kDType, "_backward_LeakyReLU_rrelu: ograd and data differ in dtype");
      const double lo = p.get_float("lower_bound"), hi = p.get_float("upper_bound");
      const bool active = p.get_bool("active");
      const uint64_t seed = std::strtoull(p.get_string("rng_seed").c_str(), nullptr, 10);
      const uint64_t stream = std::strtoull(p.get_string("rng_stream").c_str(), nullptr, 10);
      MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
        using A = typename AccType<T>::type;
        const T* gp = g.ptr<T>();
        const T* xp = x.ptr<T>();
        T* op = o.ptr<T>();
        const int64_t n = x.size();
        for (int64_t blk = 0; blk * 4 < n; ++blk) {
          Philox4x32 r{};
          if (active) r = philox4x32(static_cast<uint64_t>(blk), stream, seed);
          for (int k = 0; k < 4; ++k) {
            const int64_t i = blk * 4 + k;
            if (i >= n) break;
            const A v = cast_value<A>(xp[i]);
            const double u = active ? (r.v[k] >> 8) * (1.0 / 16777216.0) : 0.5;
            const A s = v > A(0) ? A(1) : A(lo + (hi - lo) * u);
            op[i] = cast_value<T>(cast_value<A>(gp[i]) * s);
          }
        }
      });
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      // A diagonal linear map of ograd (its own adjoint); piecewise constant in data.
      return Vs{b.call1("_backward_LeakyReLU_rrelu", {a.ograds[0], a.inputs[1]}, a.params.explicit_values()),
                GradValue{}};
    });

}  // namespace
}  // namespace mx
