// Connectionist Temporal Classification loss (Graves et al. 2006): CTCLoss (ctc_loss,
// _contrib_CTCLoss, _contrib_ctc_loss) and _backward_CTCLoss.
//
// data (T, N, C) holds unnormalised activations; a softmax over C is applied inside. label (N, L)
// holds class indices padded at the end (0 with blank_label='first', where class 0 is the blank;
// -1 with 'last', where class C-1 is). The forward runs the alpha and beta recursions in log space
// for each sample (in parallel over the batch, in double precision) and writes the loss
// -log p(label | data) and, as a hidden output, its gradient with respect to data, which the
// backward scales by the loss's output gradient.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "op/kernel_util.h"
#include "op/registry.h"
#include "op/shape_copy.h"

namespace mx {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

inline double log_add(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

bool blank_first(const Params& p) { return p.get_string("blank_label") == "first"; }
int data_len_index(const Params& p) { return p.get_bool("use_data_lengths") ? 2 : -1; }
int label_len_index(const Params& p) {
  return p.get_bool("use_label_lengths") ? 2 + (p.get_bool("use_data_lengths") ? 1 : 0) : -1;
}
int ctc_num_inputs(const Params& p) {
  return 2 + (p.get_bool("use_data_lengths") ? 1 : 0) + (p.get_bool("use_label_lengths") ? 1 : 0);
}

void ctc_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Shape& d = (*in)[0];
  if (!d.known()) return;
  MX_CHECK(d.ndim() == 3, kShape, "CTCLoss: data must be 3-d (sequence_length, batch_size, alphabet_size), got ",
           d.str());
  const int64_t N = d[1];
  MX_CHECK(d[2] >= 2, kShape, "CTCLoss: alphabet_size (the last dim of data ", d.str(),
           ") must be at least 2 (the blank and one class)");
  Shape& label = (*in)[1];
  if (label.known()) {
    MX_CHECK(label.ndim() == 2 && label[0] == N, kShape, "CTCLoss: label must have shape (", N,
             ", label_sequence_length) for data of shape ", d.str(), ", got ", label.str());
  }
  for (int idx : {data_len_index(p), label_len_index(p)}) {
    if (idx < 0) continue;
    Shape& s = (*in)[idx];
    if (!s.known()) s = Shape{N};
    MX_CHECK(s.ndim() == 1 && s[0] == N, kShape, "CTCLoss: ", idx == data_len_index(p) ? "data_lengths" : "label_lengths",
             " must have shape (", N, ",) for data of shape ", d.str(), ", got ", s.str());
  }
  assign_shape("CTCLoss", out, 0, Shape{N});
  assign_shape("CTCLoss", out, 1, d);
}

void ctc_type(const Params&, std::vector<DType>* in, std::vector<DType>* out) {
  // label and the lengths may have any dtype (floats truncate, as MXNet casts them).
  if ((*in)[0] == kUnknownDType) (*in)[0] = (*out)[0];
  for (size_t i = 1; i < in->size(); ++i)
    if ((*in)[i] == kUnknownDType) (*in)[i] = (*in)[0];
  (*out)[0] = (*in)[0];
  (*out)[1] = (*in)[0];
}

// One sample: its activations rows x(t) = data[t, n, :] (row stride N*C), T_n valid steps, labels.
// Writes loss and grad rows (all T steps; those past T_n are zero).
template <typename DT>
void ctc_sample(const DT* data, int64_t T, int64_t N, int64_t C, int64_t n, int64_t Tn,
                const std::vector<int64_t>& lab, int64_t blank, DT* loss, DT* grad) {
  const int64_t row = N * C;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) grad[t * row + n * C + c] = DT(0);
  const int64_t U = static_cast<int64_t>(lab.size());
  const int64_t S = 2 * U + 1;
  if (Tn == 0) {
    *loss = U == 0 ? DT(0) : DT(std::numeric_limits<double>::infinity());
    return;
  }
  // log softmax of each valid step.
  std::vector<double> lp(static_cast<size_t>(Tn * C));
  for (int64_t t = 0; t < Tn; ++t) {
    const DT* x = data + t * row + n * C;
    double m = kNegInf;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, static_cast<double>(x[c]));
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(x[c]) - m);
    const double lse = m + std::log(s);
    for (int64_t c = 0; c < C; ++c) lp[t * C + c] = static_cast<double>(x[c]) - lse;
  }
  // The extended label: blank, l1, blank, l2, ..., blank.
  std::vector<int64_t> ext(static_cast<size_t>(S), blank);
  for (int64_t u = 0; u < U; ++u) ext[2 * u + 1] = lab[u];
  auto skip_ok = [&](int64_t s) {  // may a path jump from s-2 to s?
    return s >= 2 && ext[s] != blank && ext[s] != ext[s - 2];
  };
  // alpha[t][s]: log prob of the prefixes that end in state s at step t (emissions up to t).
  // beta[t][s]: log prob of emitting steps t+1.. from state s at step t (emission at t excluded).
  std::vector<double> alpha(static_cast<size_t>(Tn * S), kNegInf), beta(static_cast<size_t>(Tn * S), kNegInf);
  alpha[0] = lp[ext[0]];
  if (S > 1) alpha[1] = lp[ext[1]];
  for (int64_t t = 1; t < Tn; ++t) {
    const double* a0 = &alpha[(t - 1) * S];
    double* a1 = &alpha[t * S];
    for (int64_t s = 0; s < S; ++s) {
      double v = a0[s];
      if (s >= 1) v = log_add(v, a0[s - 1]);
      if (skip_ok(s)) v = log_add(v, a0[s - 2]);
      a1[s] = v == kNegInf ? kNegInf : v + lp[t * C + ext[s]];
    }
  }
  double* bl = &beta[(Tn - 1) * S];
  bl[S - 1] = 0.0;
  if (S > 1) bl[S - 2] = 0.0;
  for (int64_t t = Tn - 2; t >= 0; --t) {
    const double* b1 = &beta[(t + 1) * S];
    double* b0 = &beta[t * S];
    for (int64_t s = 0; s < S; ++s) {
      double v = b1[s] + lp[(t + 1) * C + ext[s]];
      if (s + 1 < S) v = log_add(v, b1[s + 1] + lp[(t + 1) * C + ext[s + 1]]);
      if (s + 2 < S && skip_ok(s + 2)) v = log_add(v, b1[s + 2] + lp[(t + 1) * C + ext[s + 2]]);
      b0[s] = v;
    }
  }
  double logp = alpha[(Tn - 1) * S + S - 1];
  if (S > 1) logp = log_add(logp, alpha[(Tn - 1) * S + S - 2]);
  if (logp == kNegInf) {  // no alignment fits in T_n steps: infinite loss, no gradient
    *loss = DT(std::numeric_limits<double>::infinity());
    return;
  }
  *loss = DT(-logp);
  // d loss / d x[t, c] = softmax[t, c] - sum over states s labelled c of exp(alpha + beta - logp).
  std::vector<double> occ(static_cast<size_t>(C));
  for (int64_t t = 0; t < Tn; ++t) {
    std::fill(occ.begin(), occ.end(), kNegInf);
    for (int64_t s = 0; s < S; ++s) {
      const double v = alpha[t * S + s] + beta[t * S + s];
      if (v != kNegInf) occ[ext[s]] = log_add(occ[ext[s]], v);
    }
    DT* g = grad + t * row + n * C;
    for (int64_t c = 0; c < C; ++c) {
      const double post = occ[c] == kNegInf ? 0.0 : std::exp(occ[c] - logp);
      g[c] = DT(std::exp(lp[t * C + c]) - post);
    }
  }
}

void ctc_cpu(const OpContext&, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const int64_t T = x.shape[0], N = x.shape[1], C = x.shape[2];
  if (N == 0) return;
  const bool first = blank_first(p);
  const int64_t blank = first ? 0 : C - 1;
  const int64_t pad = first ? 0 : -1;
  const int64_t L = in[1].shape[1];
  std::vector<int64_t> label = load_indices(in[1]);
  std::vector<int64_t> dlen(static_cast<size_t>(N), T), llen(static_cast<size_t>(N), -1);
  if (data_len_index(p) >= 0) dlen = load_indices(in[data_len_index(p)]);
  if (label_len_index(p) >= 0) llen = load_indices(in[label_len_index(p)]);
  // Validate everything before any sample runs, so errors are reported from this thread.
  std::vector<std::vector<int64_t>> labs(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    MX_CHECK(dlen[n] >= 0 && dlen[n] <= T, kInvalidArgument, "CTCLoss: data_lengths[", n, "] = ",
             dlen[n] == INT64_MIN ? std::string("nan") : std::to_string(dlen[n]), " is outside [0, ", T,
             "] (sequence_length of data)");
    int64_t len = llen[n];
    if (len < 0) {  // from the padding
      len = 0;
      while (len < L && label[n * L + len] != pad) ++len;
    } else {
      MX_CHECK(len <= L, kInvalidArgument, "CTCLoss: label_lengths[", n, "] = ", len,
               " exceeds the label_sequence_length ", L);
    }
    MX_CHECK(label_len_index(p) < 0 || llen[n] >= 0, kInvalidArgument, "CTCLoss: label_lengths[", n,
             "] is negative");
    for (int64_t u = 0; u < len; ++u) {
      const int64_t v = label[n * L + u];
      MX_CHECK(v >= 0 && v < C && v != blank, kInvalidArgument, "CTCLoss: label[", n, ", ", u, "] = ",
               v == INT64_MIN ? std::string("nan") : std::to_string(v), " is not a class index in [",
               first ? 1 : 0, ", ", first ? C - 1 : C - 2, "] (blank_label='", p.get_string("blank_label"),
               "' reserves ", blank, " for the blank)");
      labs[n].push_back(v);
    }
  }
  MX_FLOAT_DTYPE_SWITCH(x.dtype, DT, {
    const DT* d = x.ptr<DT>();
    DT* loss = out[0].ptr<DT>();
    DT* grad = out[1].ptr<DT>();
    parallel_range(N, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) ctc_sample(d, T, N, C, n, dlen[n], labs[n], blank, loss + n, grad);
    }, 1);
  });
}

// ograd (N,), grad (T, N, C) -> grad[t, n, c] * ograd[n].
void ctc_backward_cpu(const OpContext&, const Params&, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const TBlob& og = in[0];
  const TBlob& g = in[1];
  const int64_t T = g.shape[0], N = g.shape[1], C = g.shape[2];
  MX_FLOAT_DTYPE_SWITCH(g.dtype, DT, {
    using A = typename AccType<DT>::type;
    const DT* w = og.ptr<DT>();
    const DT* src = g.ptr<DT>();
    DT* dst = out[0].ptr<DT>();
    parallel_range(T * N, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const A s = static_cast<A>(w[i % N]);
        for (int64_t c = 0; c < C; ++c) dst[i * C + c] = DT(static_cast<A>(src[i * C + c]) * s);
      }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, C)));
  });
}

MX_REGISTER_OP(CTCLoss)
    .describe("Connectionist Temporal Classification loss. data (sequence_length, batch_size, alphabet_size) "
              "holds unnormalised activations (softmax is applied inside); label (batch_size, "
              "label_sequence_length) holds class indices padded at the end with 0 (blank_label='first': "
              "class 0 is the blank) or -1 (blank_label='last': class alphabet_size-1 is the blank). "
              "Optional inputs data_lengths and label_lengths (batch_size,) are used with use_data_lengths / "
              "use_label_lengths. Output: the loss -log p(label | data) per sample, shape (batch_size,); "
              "+inf (with zero gradient) when the label cannot be aligned within the data length.")
    .alias("ctc_loss")
    .alias("_contrib_CTCLoss")
    .alias("_contrib_ctc_loss")
    .category("nn")
    .input("data")
    .input("label")
    .input("data_lengths")
    .input("label_lengths")
    .num_inputs(ctc_num_inputs)
    .param_bool("use_data_lengths", "False",
                "Whether the data lengths are given by data_lengths; otherwise every sample has sequence_length "
                "steps.")
    .param_bool("use_label_lengths", "False",
                "Whether the label lengths are given by label_lengths; otherwise a label ends at the first "
                "padding value (0 for blank_label='first', -1 for 'last').")
    .param_enum("blank_label", {"first", "last"}, "first",
                "Which class is the blank: 'first' (0) or 'last' (alphabet_size-1).")
    .num_outputs(2)
    .output_names({"output", "grad"})
    .num_visible_outputs([](const Params&) { return 1; })
    .infer_shape(ctc_shape)
    .infer_type(ctc_type)
    .dtypes({DType::kFloat32, DType::kFloat64})
    .cpu(ctc_cpu);

MX_REGISTER_OP(_backward_CTCLoss)
    .describe("Gradient of CTCLoss with respect to data: the forward's per-sample gradient grad (T, N, C) "
              "scaled by the loss's output gradient ograd (N,).")
    .category("grad")
    .input("ograd")
    .input("grad")
    .infer_shape([](const Params&, std::vector<Shape>* in, std::vector<Shape>* out) {
      const Shape& g = (*in)[1];
      if (!g.known()) return;
      MX_CHECK(g.ndim() == 3, kShape, "_backward_CTCLoss: grad must be 3-d, got ", g.str());
      if ((*in)[0].known())
        MX_CHECK((*in)[0] == Shape{g[1]}, kShape, "_backward_CTCLoss: ograd of shape ", (*in)[0].str(),
                 " does not match grad of shape ", g.str());
      assign_shape("_backward_CTCLoss", out, 0, g);
    })
    .dtypes({DType::kFloat32, DType::kFloat64})
    .cpu(ctc_backward_cpu);

// The hidden output already holds d loss / d data; second-order gradients are not provided
// (_backward_CTCLoss is not differentiable).
MX_REGISTER_GRADIENT(CTCLoss, [](GradBuilder& b, const GradArgs& a) {
  std::vector<GradValue> r(a.inputs.size());
  r[0] = b.call1("_backward_CTCLoss", {a.ograds[0], a.outputs[1]});
  return r;
});

}  // namespace
}  // namespace mx
