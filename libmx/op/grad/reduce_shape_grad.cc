// Gradients of the remaining reductions (prod, max, min, nansum, norm), batch_dot, and the joining,
// splitting, slicing, indexing, tiling and broadcasting ops, plus Cast. Most are compositions of
// registered ops; where the gradient needs input shapes (which a gradient function does not see)
// or a scatter-add, a dedicated backward op below computes it, and each of those has a gradient of
// its own, so second-order gradients work.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

using V = GradValue;
using Vs = std::vector<GradValue>;

// The explicitly given values of `keys` in the forward call, to pass on to another op whose
// parameters of those names have the same meaning and defaults.
ParamList forward_params(const GradArgs& a, std::initializer_list<const char*> keys) {
  ParamList pl;
  for (const auto& kv : a.params.explicit_values())
    for (const char* k : keys)
      if (kv.first == k) pl.push_back(kv);
  return pl;
}

std::string bool_str(bool v) { return v ? "True" : "False"; }

V mul(GradBuilder& b, V x, V y) { return b.call1("elemwise_mul", {x, y}); }

// ------------------------------------------------------------------ reductions
// Spreads `v` (shaped like the reduction's output) over the shape of the reduction's input.
V spread(GradBuilder& b, const GradArgs& a, V v) {
  ParamList pl = forward_params(a, {"axis", "keepdims", "exclude"});
  return b.call1("_reduce_grad_spread", {v, a.inputs[0]}, pl);
}

MX_REGISTER_GRADIENT(prod, [](GradBuilder& b, const GradArgs& a) {
  // d prod / dx_i = prod / x_i (inputs must be nonzero, as in MXNet).
  V g = spread(b, a, mul(b, a.ograds[0], a.outputs[0]));
  return Vs{b.call1("elemwise_div", {g, a.inputs[0]})};
});

// max/min: the gradient goes to the elements equal to the extreme (to every one of them on ties).
Vs extreme_grad(GradBuilder& b, const GradArgs& a) {
  V mask = b.call1("_equal", {a.inputs[0], spread(b, a, a.outputs[0])});
  return Vs{mul(b, spread(b, a, a.ograds[0]), mask)};
}
MX_REGISTER_GRADIENT(max, extreme_grad);
MX_REGISTER_GRADIENT(min, extreme_grad);

MX_REGISTER_GRADIENT(nansum, [](GradBuilder& b, const GradArgs& a) {
  V not_nan = b.call1("_equal", {a.inputs[0], a.inputs[0]});
  return Vs{mul(b, spread(b, a, a.ograds[0]), not_nan)};
});

MX_REGISTER_GRADIENT(norm, [](GradBuilder& b, const GradArgs& a) {
  V x = a.inputs[0], og = a.ograds[0], y = a.outputs[0];
  if (!a.params.is_none("out_dtype")) {  // the output's dtype differs: bring it back to the input's
    og = b.call1("_backward_Cast", {og, x});
    y = b.call1("_backward_Cast", {y, x});
  }
  V g = spread(b, a, og);
  if (a.params.get_int("ord") == 1) return Vs{mul(b, g, b.call1("sign", {x}))};
  // ord 2: x / ||x|| (the norm must be nonzero).
  return Vs{b.call1("elemwise_div", {mul(b, g, x), spread(b, a, y)})};
});

// ------------------------------------------------------------------ batch_dot
MX_REGISTER_GRADIENT(batch_dot, [](GradBuilder& b, const GradArgs& a) {
  const bool ta = a.params.get_bool("transpose_a"), tb = a.params.get_bool("transpose_b");
  V og = a.ograds[0], x = a.inputs[0], y = a.inputs[1];
  auto d = [&](V l, V r, bool tl, bool tr) {
    return b.call1("batch_dot", {l, r}, {{"transpose_a", bool_str(tl)}, {"transpose_b", bool_str(tr)}});
  };
  // C = op(A) op(B) per batch; dA = og op(B)^T (transposed back when A was), dB likewise.
  V ga = ta ? d(y, og, tb, true) : d(og, y, false, !tb);
  V gb = tb ? d(og, x, true, ta) : d(x, og, !ta, false);
  return Vs{ga, gb};
});

// ------------------------------------------------------------------ join / split
MX_REGISTER_GRADIENT(Concat, [](GradBuilder& b, const GradArgs& a) {
  Vs in{a.ograds[0]};
  in.insert(in.end(), a.inputs.begin(), a.inputs.end());
  return b.call("_backward_Concat", in,
                {{"num_args", std::to_string(a.inputs.size())}, {"dim", std::to_string(a.params.get_int("dim"))}});
});

MX_REGISTER_GRADIENT(stack, [](GradBuilder& b, const GradArgs& a) {
  return b.call("SliceChannel", {a.ograds[0]},
                {{"num_outputs", std::to_string(a.inputs.size())},
                 {"axis", std::to_string(a.params.get_int("axis"))},
                 {"squeeze_axis", "True"}});
});

MX_REGISTER_GRADIENT(SliceChannel, [](GradBuilder& b, const GradArgs& a) {
  const std::string n = std::to_string(a.ograds.size()), axis = std::to_string(a.params.get_int("axis"));
  if (a.params.get_bool("squeeze_axis")) return Vs{b.call1("stack", a.ograds, {{"num_args", n}, {"axis", axis}})};
  return Vs{b.call1("Concat", a.ograds, {{"num_args", n}, {"dim", axis}})};
});

// ------------------------------------------------------------------ slicing, padding, flipping
MX_REGISTER_GRADIENT(slice, [](GradBuilder& b, const GradArgs& a) {
  V zeros = b.call1("zeros_like", {a.inputs[0]});
  return Vs{b.call1("_slice_assign", {zeros, a.ograds[0]}, forward_params(a, {"begin", "end", "step"}))};
});

MX_REGISTER_GRADIENT(Pad, [](GradBuilder& b, const GradArgs& a) {
  const std::string& mode = a.params.get_string("mode");
  if (mode != "constant")  // edge/reflect: sum the copies back (misc_grad2.cc)
    return Vs{b.call1("_backward_Pad", {a.ograds[0], a.inputs[0]},
                      {{"mode", mode}, {"pad_width", tuple_param(a.params.get_shape("pad_width"))}})};
  const Shape& pw = a.params.get_shape("pad_width");
  Shape begin, end;  // cut each axis's padding off the gradient
  for (int i = 0; i + 1 < pw.ndim(); i += 2) {
    begin.push_back(pw[i]);
    end.push_back(pw[i + 1] > 0 ? -pw[i + 1] : kNoneDim);
  }
  return Vs{b.call1("slice", {a.ograds[0]}, {{"begin", tuple_param(begin)}, {"end", tuple_param(end)}})};
});

MX_REGISTER_GRADIENT(reverse, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("reverse", {a.ograds[0]}, forward_params(a, {"axis"}))};
});

// ------------------------------------------------------------------ indexing
MX_REGISTER_GRADIENT(take, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_take", {a.ograds[0], a.inputs[1], a.inputs[0]}, forward_params(a, {"axis", "mode"})),
            V{}};
});

MX_REGISTER_GRADIENT(pick, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_pick", {a.ograds[0], a.inputs[1], a.inputs[0]},
                    forward_params(a, {"axis", "keepdims", "mode"})),
            V{}};
});

MX_REGISTER_GRADIENT(where, [](GradBuilder& b, const GradArgs& a) {
  V c = a.inputs[0], og = a.ograds[0];
  V zeros = b.call1("zeros_like", {og});
  return Vs{V{}, b.call1("where", {c, og, zeros}), b.call1("where", {c, zeros, og})};
});

// ------------------------------------------------------------------ tiling, broadcasting, casting
MX_REGISTER_GRADIENT(tile, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_tile", {a.ograds[0], a.inputs[0]}, forward_params(a, {"reps"}))};
});

MX_REGISTER_GRADIENT(repeat, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_repeat", {a.ograds[0], a.inputs[0]}, forward_params(a, {"repeats", "axis"}))};
});

Vs sum_back(GradBuilder& b, const GradArgs& a) { return Vs{b.call1("_reduce_sum_to", {a.ograds[0], a.inputs[0]})}; }
MX_REGISTER_GRADIENT(broadcast_to, sum_back);
MX_REGISTER_GRADIENT(broadcast_axis, sum_back);
MX_REGISTER_GRADIENT(broadcast_like, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_reduce_sum_to", {a.ograds[0], a.inputs[0]}), V{}};
});

MX_REGISTER_GRADIENT(Cast, [](GradBuilder& b, const GradArgs& a) {
  return Vs{b.call1("_backward_Cast", {a.ograds[0], a.inputs[0]})};
});

// ================================================================== dedicated backward ops
void type_of_first(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  if ((*in)[0] != kUnknownDType) (*out)[0] = (*in)[0];
}

// Writes acc (double) into a float blob.
void store(const std::vector<double>& acc, const TBlob& o) {
  MX_FLOAT_DTYPE_SWITCH(o.dtype, T, {
    using A = typename AccType<T>::type;
    T* y = o.ptr<T>();
    for (size_t i = 0; i < acc.size(); ++i) y[i] = T(static_cast<A>(acc[i]));
  });
}

// Reads a float blob as double.
std::vector<double> load(const TBlob& x) {
  std::vector<double> v(static_cast<size_t>(x.size()));
  MX_FLOAT_DTYPE_SWITCH(x.dtype, T, {
    using A = typename AccType<T>::type;
    const T* p = x.ptr<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(static_cast<A>(p[i]));
  });
  return v;
}

// ------------------------------------------------------------------ _backward_Cast
MX_REGISTER_OP(_backward_Cast)
    .describe("The gradient of Cast: `ograd` cast to the dtype of `data` (the forward input); the result has "
              "ograd's shape (data only gives the dtype, so reductions with out_dtype use it too).")
    .category("grad")
    .input("ograd")
    .input("data")
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      if ((*in)[0].known()) (*out)[0] = (*in)[0];
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) { (*out)[0] = (*in)[1]; })
    .cpu([](const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      cast_copy(in[0], out[0]);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return Vs{b.call1("_backward_Cast", {a.ograds[0], a.inputs[0]}), V{}};
    });

// ------------------------------------------------------------------ _backward_Concat
int concat_count(const Params& p) {
  int64_t n = p.get_int("num_args");
  MX_CHECK(n >= 1, kInvalidArgument, "_backward_Concat: num_args must be at least 1, got ", n);
  return static_cast<int>(n);
}

MX_REGISTER_OP(_backward_Concat)
    .describe("The gradient of Concat: splits `ograd` along `dim` into pieces shaped like the forward inputs "
              "`data` (num_args of them); one output per input.")
    .category("grad")
    .input("ograd")
    .input("data")
    .num_inputs([](const Params& p) { return concat_count(p) + 1; })
    .param_int("num_args", OpDef::kRequired, "Number of forward inputs.")
    .param_int("dim", "1", "The forward concatenation axis.")
    .num_outputs(concat_count)
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const int n = concat_count(p);
      const Shape& g = (*in)[0];
      for (int i = 0; i <= n; ++i)
        if (!(*in)[i].known()) return;
      const int ax = check_axis("_backward_Concat", p.get_int("dim"), g.ndim());
      int64_t total = 0;
      for (int i = 0; i < n; ++i) {
        const Shape& di = (*in)[i + 1];
        MX_CHECK(di.ndim() == g.ndim(), kShape, "_backward_Concat: input ", di.str(), " and gradient ", g.str(),
                 " differ in rank");
        total += di[ax];
        Shape s = di, gs = g;
        s[ax] = gs[ax] = 0;
        MX_CHECK(s == gs, kShape, "_backward_Concat: input ", (*in)[i + 1].str(), " does not fit gradient ", g.str(),
                 " on the axes other than ", ax);
        (*out)[i] = (*in)[i + 1];
      }
      MX_CHECK(total == g[ax], kShape, "_backward_Concat: inputs add up to ", total, " along axis ", ax,
               " but the gradient ", g.str(), " has ", g[ax]);
    })
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) {
      for (auto& t : *out) t = (*in)[0];
    })
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& g = in[0];
      const int ax = check_axis("_backward_Concat", p.get_int("dim"), g.ndim());
      const size_t es = dtype_size(g.dtype);
      const int64_t outer = g.shape.prod(0, ax), inner = g.shape.prod(ax + 1, g.ndim()), total = g.shape[ax];
      int64_t off = 0;
      for (const TBlob& o : out) {
        const int64_t len = o.shape[ax];
        for (int64_t q = 0; q < outer && len * inner > 0; ++q)
          std::memcpy(static_cast<char*>(o.data) + static_cast<size_t>(q * len * inner) * es,
                      static_cast<const char*>(g.data) + static_cast<size_t>((q * total + off) * inner) * es,
                      static_cast<size_t>(len * inner) * es);
        off += len;
      }
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      const size_t n = a.ograds.size();
      Vs r{b.call1("Concat", a.ograds, {{"num_args", std::to_string(n)}, {"dim", std::to_string(a.params.get_int("dim"))}})};
      r.resize(n + 1);
      return r;
    });

// ------------------------------------------------------------------ _backward_take
char index_mode(const std::string& m) { return m == "clip" ? 'c' : (m == "wrap" ? 'w' : 'r'); }

int64_t fix_index(const char* op, int64_t j, int64_t n, char mode) {
  if (mode == 'c') return j < 0 ? 0 : (j >= n ? n - 1 : j);
  if (mode == 'w') {
    if (j == INT64_MIN) return 0;
    int64_t m = j % n;
    return m < 0 ? m + n : m;
  }
  MX_CHECK(j >= 0 && j < n, kIndex, op, ": index ", j, " is out of bounds for an axis of size ", n, " (mode='raise')");
  return j;
}

MX_REGISTER_OP(_backward_take)
    .describe("The gradient of take with respect to its data: `ograd` summed into zeros shaped like `a` at the "
              "taken positions (repeated indices accumulate).")
    .category("grad")
    .input("ograd")
    .input("indices")
    .input("a")
    .param_int("axis", "0", "The forward axis.")
    .param_enum("mode", {"raise", "wrap", "clip"}, "clip", "The forward mode.")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[0];
      const Shape& idx = (*in)[1];
      const Shape& d = (*in)[2];
      if (!g.known() || !idx.known() || !d.known()) return;
      const int ax = check_axis("_backward_take", p.get_int("axis"), d.ndim());
      Shape e;
      for (int i = 0; i < ax; ++i) e.push_back(d[i]);
      for (int i = 0; i < idx.ndim(); ++i) e.push_back(idx[i]);
      for (int i = ax + 1; i < d.ndim(); ++i) e.push_back(d[i]);
      MX_CHECK(g == e, kShape, "_backward_take: gradient of shape ", g.str(), " does not match take's output ",
               e.str());
      (*out)[0] = d;
    })
    .infer_type(type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& o = out[0];
      const int ax = check_axis("_backward_take", p.get_int("axis"), o.ndim());
      const int64_t n = o.shape[ax], outer = o.shape.prod(0, ax), inner = o.shape.prod(ax + 1, o.ndim());
      std::vector<int64_t> idx = load_indices(in[1]);
      const int64_t m = static_cast<int64_t>(idx.size());
      std::vector<double> acc(static_cast<size_t>(o.size()), 0.0);
      if (m > 0 && n > 0) {
        const char mode = index_mode(p.get_string("mode"));
        for (auto& j : idx) j = fix_index("_backward_take", j, n, mode);
        std::vector<double> g = load(in[0]);
        for (int64_t q = 0; q < outer; ++q)
          for (int64_t k = 0; k < m; ++k) {
            const double* src = &g[static_cast<size_t>((q * m + k) * inner)];
            double* dst = &acc[static_cast<size_t>((q * n + idx[k]) * inner)];
            for (int64_t t = 0; t < inner; ++t) dst[t] += src[t];
          }
      }
      store(acc, o);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return Vs{b.call1("take", {a.ograds[0], a.inputs[1]}, forward_params(a, {"axis", "mode"})), V{}, V{}};
    });

// ------------------------------------------------------------------ _backward_pick
MX_REGISTER_OP(_backward_pick)
    .describe("The gradient of pick with respect to its data: zeros shaped like `data` with `ograd` at the "
              "picked positions.")
    .category("grad")
    .input("ograd")
    .input("index")
    .input("data")
    .param_int("axis", "-1", "The forward axis.")
    .param_bool("keepdims", "False", "The forward keepdims (either way ograd is read in order).")
    .param_enum("mode", {"wrap", "clip"}, "clip", "The forward mode.")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[0];
      const Shape& d = (*in)[2];
      if (!g.known() || !d.known()) return;
      const int ax = check_axis("_backward_pick", p.get_int("axis"), d.ndim());
      Shape reduced = d, kept = d;
      reduced.erase(ax);
      kept[ax] = 1;
      MX_CHECK(g == reduced || g == kept, kShape, "_backward_pick: gradient of shape ", g.str(),
               " does not match pick's output ", reduced.str(), " or ", kept.str());
      MX_CHECK(!(*in)[1].known() || (*in)[1].size() == reduced.size(), kShape, "_backward_pick: index of shape ",
               (*in)[1].str(), " does not match ", reduced.str());
      (*out)[0] = d;
    })
    .infer_type(type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& o = out[0];
      const int ax = check_axis("_backward_pick", p.get_int("axis"), o.ndim());
      const int64_t n = o.shape[ax], outer = o.shape.prod(0, ax), inner = o.shape.prod(ax + 1, o.ndim());
      std::vector<int64_t> idx = load_indices(in[1]);
      std::vector<double> acc(static_cast<size_t>(o.size()), 0.0);
      if (n > 0 && !idx.empty()) {
        const char mode = index_mode(p.get_string("mode"));
        std::vector<double> g = load(in[0]);
        for (int64_t q = 0; q < outer; ++q)
          for (int64_t k = 0; k < inner; ++k) {
            const size_t i = static_cast<size_t>(q * inner + k);
            acc[static_cast<size_t>((q * n + fix_index("_backward_pick", idx[i], n, mode)) * inner + k)] += g[i];
          }
      }
      store(acc, o);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return Vs{b.call1("pick", {a.ograds[0], a.inputs[1]}, forward_params(a, {"axis", "keepdims", "mode"})), V{},
                V{}};
    });

// ------------------------------------------------------------------ _backward_tile
// The input's shape and the reps, both padded with leading 1s to the output's rank.
void tile_dims(const Shape& d, const Shape& reps, std::vector<int64_t>* s, std::vector<int64_t>* r) {
  const int nd = std::max(d.ndim(), reps.ndim());
  s->assign(static_cast<size_t>(nd), 1);
  r->assign(static_cast<size_t>(nd), 1);
  for (int i = 0; i < d.ndim(); ++i) (*s)[static_cast<size_t>(nd - d.ndim() + i)] = d[i];
  for (int i = 0; i < reps.ndim(); ++i) (*r)[static_cast<size_t>(nd - reps.ndim() + i)] = reps[i];
}

MX_REGISTER_OP(_backward_tile)
    .describe("The gradient of tile: `ograd` summed over the repetitions into the shape of `data`.")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_shape("reps", OpDef::kRequired, "The forward reps.")
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[0];
      const Shape& d = (*in)[1];
      if (!g.known() || !d.known()) return;
      std::vector<int64_t> s, r;
      tile_dims(d, p.get_shape("reps"), &s, &r);
      bool ok = g.ndim() == static_cast<int>(s.size());
      for (size_t i = 0; ok && i < s.size(); ++i) ok = g[static_cast<int>(i)] == s[i] * r[i];
      MX_CHECK(ok, kShape, "_backward_tile: gradient of shape ", g.str(), " does not match tiling ", d.str(), " by ",
               p.get_shape("reps").str());
      (*out)[0] = d;
    })
    .infer_type(type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& g = in[0];
      std::vector<int64_t> s, r;
      tile_dims(out[0].shape, p.get_shape("reps"), &s, &r);
      std::vector<int64_t> st(s.size());
      int64_t acc_stride = 1;
      for (size_t i = s.size(); i-- > 0;) {
        st[i] = acc_stride;
        acc_stride *= s[i];
      }
      std::vector<double> gv = load(g), acc(static_cast<size_t>(out[0].size()), 0.0);
      const int nd = g.ndim();
      for (int64_t i = 0; i < g.size(); ++i) {
        int64_t rem = i, o = 0;
        for (int d = nd - 1; d >= 0; --d) {
          o += (rem % g.shape[d]) % s[static_cast<size_t>(d)] * st[static_cast<size_t>(d)];
          rem /= g.shape[d];
        }
        acc[static_cast<size_t>(o)] += gv[static_cast<size_t>(i)];
      }
      store(acc, out[0]);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return Vs{b.call1("tile", {a.ograds[0]}, forward_params(a, {"reps"})), V{}};
    });

// ------------------------------------------------------------------ _backward_repeat
MX_REGISTER_OP(_backward_repeat)
    .describe("The gradient of repeat: each group of `repeats` consecutive entries of `ograd` along `axis` (of the "
              "flattened input with axis None) summed into the shape of `data`.")
    .category("grad")
    .input("ograd")
    .input("data")
    .param_int("repeats", OpDef::kRequired, "The forward repeats.")
    .param_int("axis", "None", "The forward axis.")
    .optional()
    .float_dtypes()
    .infer_shape([](const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[0];
      const Shape& d = (*in)[1];
      if (!g.known() || !d.known()) return;
      MX_CHECK(g.size() == d.size() * p.get_int("repeats"), kShape, "_backward_repeat: gradient of shape ", g.str(),
               " does not match ", d.str(), " repeated ", p.get_int("repeats"), " times");
      (*out)[0] = d;
    })
    .infer_type(type_of_first)
    .cpu([](const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
      const TBlob& o = out[0];
      const int64_t r = p.get_int("repeats");
      int64_t outer = 1, n = o.size(), inner = 1;
      if (!p.is_none("axis")) {
        const int ax = check_axis("_backward_repeat", p.get_int("axis"), o.ndim());
        outer = o.shape.prod(0, ax);
        n = o.shape[ax];
        inner = o.shape.prod(ax + 1, o.ndim());
      }
      std::vector<double> g = load(in[0]), acc(static_cast<size_t>(o.size()), 0.0);
      for (int64_t q = 0; q < outer; ++q)
        for (int64_t i = 0; i < n; ++i)
          for (int64_t k = 0; k < r; ++k)
            for (int64_t t = 0; t < inner; ++t)
              acc[static_cast<size_t>((q * n + i) * inner + t)] += g[static_cast<size_t>(((q * n + i) * r + k) * inner + t)];
      store(acc, o);
    })
    .gradient([](GradBuilder& b, const GradArgs& a) {
      return Vs{b.call1("repeat", {a.ograds[0]}, forward_params(a, {"repeats", "axis"})), V{}};
    });

}  // namespace
}  // namespace mx
