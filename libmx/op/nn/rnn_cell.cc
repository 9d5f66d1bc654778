// _backward_RNN: the gradient of the fused RNN operator (rnn.cc) from the forward's reserve.
//
// Per layer (top down) and direction, the steps run in reverse order of the forward pass: one
// fused pass over the batch rows turns dh (and dc) into the gate pre-activation gradients of the
// step, kept for all steps, and one (N, GH) x W_h2h product (step_gemm, else the BLAS) carries dh
// to the previous step. The
// weight gradients are then big GEMMs over all steps at once: dW_i2h = dG^T X, dW_h2h =
// dG_h^T H_prev (float32 on AVX-512: both in one pass over dG, wgrad_gemm in rnn.cc), the biases
// column sums of dG, and the input gradient dX = dG W_i2h.
// Vectorisable float selects in the gate math (rnn_cell.h); no code here relies on FP exceptions.
#pragma GCC optimize("no-trapping-math")
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/blas.h"
#include "op/kernel_util.h"
#include "op/nn/rnn_cell.h"
#include "op/registry.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && __GNUC__ >= 12
#define MX_RNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MX_RNN_CLONES
#endif

namespace mx {
namespace rnn {
namespace {

// One batch row of one step. dy: the gradient reaching h_t from above (the layer output); dh:
// in: the gradient from the next step, out: GRU's direct h_{t-1} term (others: untouched, the
// caller overwrites it with the GEMM). dg: the pre-activation gate gradients of the row.
template <typename T>
MX_RNN_INLINE void lstm_back_row(const T* dy, const T* dh, T* dc, const T* gates, const T* c, const T* c_prev, T* dg,
                          int64_t H, bool clip, T lo, T hi) {
  #pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T i = gates[j], f = gates[H + j], gg = gates[2 * H + j], o = gates[3 * H + j];
    const T cv = c[j];
    const T tc = act_tanh(cv);
    const T dht = dy[j] + dh[j];
    T dct = dc[j] + dht * o * (T(1) - tc * tc);
    // Clipped states pass no gradient (the clip's derivative is 0 outside (lo, hi)).
    if (clip && !(cv > lo && cv < hi)) dct = T(0);
    dg[j] = dct * gg * i * (T(1) - i);
    dg[H + j] = dct * c_prev[j] * f * (T(1) - f);
    dg[2 * H + j] = dct * i * (T(1) - gg * gg);
    dg[3 * H + j] = dht * tc * o * (T(1) - o);
    dc[j] = dct * f;
  }
}

template <typename T>
MX_RNN_INLINE void gru_back_row(const T* dy, T* dh, const T* gates, const T* hn, const T* h_prev, T* dgx, T* dgh,
                         int64_t H) {
  #pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T r = gates[j], z = gates[H + j], n = gates[2 * H + j];
    const T dht = dy[j] + dh[j];
    const T dpn = dht * (T(1) - z) * (T(1) - n * n);
    const T dpr = dpn * hn[j] * r * (T(1) - r);
    const T dpz = dht * (h_prev[j] - n) * z * (T(1) - z);
    dgx[j] = dpr;
    dgx[H + j] = dpz;
    dgx[2 * H + j] = dpn;
    dgh[j] = dpr;
    dgh[H + j] = dpz;
    dgh[2 * H + j] = dpn * r;
    dh[j] = dht * z;
  }
}

template <typename T>
MX_RNN_INLINE void rnn_back_row(const T* dy, const T* dh, const T* h, T* dg, int64_t H, bool relu) {
  if (relu) {
    #pragma omp simd
    for (int64_t j = 0; j < H; ++j) dg[j] = h[j] > T(0) ? dy[j] + dh[j] : T(0);
  } else {
    #pragma omp simd
    for (int64_t j = 0; j < H; ++j) dg[j] = (dy[j] + dh[j]) * (T(1) - h[j] * h[j]);
  }
}

MX_RNN_CLONES void lstm_back_row_f(const float* dy, const float* dh, float* dc, const float* gates, const float* c,
                                   const float* c_prev, float* dg, int64_t H, bool clip, float lo, float hi) {
  lstm_back_row<float>(dy, dh, dc, gates, c, c_prev, dg, H, clip, lo, hi);
}
MX_RNN_CLONES void gru_back_row_f(const float* dy, float* dh, const float* gates, const float* hn,
                                  const float* h_prev, float* dgx, float* dgh, int64_t H) {
  gru_back_row<float>(dy, dh, gates, hn, h_prev, dgx, dgh, H);
}
MX_RNN_CLONES void rnn_back_row_f(const float* dy, const float* dh, const float* h, float* dg, int64_t H, bool relu) {
  rnn_back_row<float>(dy, dh, h, dg, H, relu);
}
inline void lstm_back_any(const float* dy, const float* dh, float* dc, const float* g, const float* c,
                          const float* cp, float* dg, int64_t H, bool clip, float lo, float hi) {
  lstm_back_row_f(dy, dh, dc, g, c, cp, dg, H, clip, lo, hi);
}
inline void lstm_back_any(const double* dy, const double* dh, double* dc, const double* g, const double* c,
                          const double* cp, double* dg, int64_t H, bool clip, double lo, double hi) {
  lstm_back_row<double>(dy, dh, dc, g, c, cp, dg, H, clip, lo, hi);
}
inline void gru_back_any(const float* dy, float* dh, const float* g, const float* hn, const float* hp, float* dgx,
                         float* dgh, int64_t H) {
  gru_back_row_f(dy, dh, g, hn, hp, dgx, dgh, H);
}
inline void gru_back_any(const double* dy, double* dh, const double* g, const double* hn, const double* hp,
                         double* dgx, double* dgh, int64_t H) {
  gru_back_row<double>(dy, dh, g, hn, hp, dgx, dgh, H);
}
inline void rnn_back_any(const float* dy, const float* dh, const float* h, float* dg, int64_t H, bool relu) {
  rnn_back_row_f(dy, dh, h, dg, H, relu);
}
inline void rnn_back_any(const double* dy, const double* dh, const double* h, double* dg, int64_t H, bool relu) {
  rnn_back_row<double>(dy, dh, h, dg, H, relu);
}

constexpr int64_t kStepKC = 256;

// out[j] = sum over rows of m (rows x cols), rows split over the threads by column ranges.
template <typename T>
void col_sums(const T* m, int64_t rows, int64_t cols, T* out) {
  parallel_range(cols, [&](int64_t b, int64_t e) {
    std::fill(out + b, out + e, T(0));
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = m + r * cols;
#pragma omp simd
      for (int64_t j = b; j < e; ++j) out[j] += row[j];
    }
  }, std::max<int64_t>(1, cols * rows >= (1 << 16) ? cols / 2 : cols));
}

// Inputs: 0 dout, 1 dhy, 2 dcy, 3 data, 4 parameters, 5 state, 6 state_cell, 7 reserve.
// Outputs: 0 ddata, 1 dparameters, 2 dstate, 3 dstate_cell (lstm).
template <typename T>
void rnn_backward(const Geom& g, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  const int64_t T_ = g.T, N = g.N, H = g.H, D = g.D, GH = g.GH(), DH = D * H, TN = T_ * N;
  const bool lstm = g.mode == kLstm, gru = g.mode == kGru;
  const T* dout = in[0].ptr<T>();
  const T* dhy = in[1].ptr<T>();
  const T* dcy = lstm ? in[2].ptr<T>() : nullptr;
  const T* x = in[3].ptr<T>();
  const T* w = in[4].ptr<T>();
  const T* h0 = in[5].ptr<T>();
  const T* c0 = lstm ? in[6].ptr<T>() : nullptr;
  const T* res = in[7].ptr<T>();
  T* dx = out[0].ptr<T>();
  T* dw = out[1].ptr<T>();
  T* dh0 = out[2].ptr<T>();
  T* dc0 = lstm ? out[3].ptr<T>() : nullptr;

  const bool any_mask = g.p > 0 && g.L > 1;
  const int64_t ydim = TN * DH;
  T* dy = scratch<T>(ydim * (g.L > 1 ? 2 : 1) + TN * GH * (gru ? 2 : 1) + 2 * N * H + (any_mask ? ydim : 0) +
                     GH * H + 16);                      // gradient reaching the current layer's output
  T* dy_below = dy + ydim;                        // ... and the layer below's (L > 1)
  T* dgx = dy + ydim * (g.L > 1 ? 2 : 1);
  T* dgh = gru ? dgx + TN * GH : dgx;
  T* dh = dgh + TN * GH;
  T* dc = dh + N * H;
  T* xdrop = dc + N * H;
  T* whh_p = align64(xdrop + (any_mask ? ydim : 0));  // W_h2h packed for step_gemm
  std::copy(dout, dout + ydim, dy);

  for (int64_t l = g.L - 1; l >= 0; --l) {
    const int64_t in_l = g.in_size(l);
    const T* Y = res + g.y_offset(l);
    const T* X = x;
    if (l > 0) {
      X = res + g.y_offset(l - 1);
      if (g.has_mask(l - 1)) {
        const T* m = res + g.mask_offset(l - 1);
        for (int64_t i = 0; i < ydim; ++i) xdrop[i] = X[i] * m[i];
        X = xdrop;
      }
    }
    T* dX = l > 0 ? dy_below : dx;
    for (int64_t d = 0; d < D; ++d) {
      const int64_t sidx = (l * D + d) * N * H;
      const T* Wih = w + g.weight_offset(l, d);
      const T* Whh = Wih + GH * in_l;
      T* dWih = dw + g.weight_offset(l, d);
      T* dWhh = dWih + GH * in_l;
      T* dbih = dw + g.bias_offset(l, d);
      T* dbhh = dbih + GH;
      const T* gates = res + g.gates_offset(l, d);
      const T* aux = res + g.aux_offset(l, d);
      const T* hs0 = h0 + sidx;
      bool packed = false;
      if constexpr (std::is_same<T, float>::value) {
        packed = step_gemm_ok(H);  // B = W_h2h (GH, H) as it is stored
        if (packed) pack_step_b(Whh, H, 1, GH, H, whh_p);
      }
      std::copy(dhy + sidx, dhy + sidx + N * H, dh);
      if (lstm) std::copy(dcy + sidx, dcy + sidx + N * H, dc);
      for (int64_t s = T_ - 1; s >= 0; --s) {
        const int64_t t = d == 0 ? s : T_ - 1 - s, tp = d == 0 ? t - 1 : t + 1;
        const T* hp = s == 0 ? hs0 : Y + tp * N * DH + d * H;
        const int64_t ldh = s == 0 ? H : DH;
        const T* dyt = dy + t * N * DH + d * H;
        T* dgxt = dgx + t * N * GH;
        T* dght = dgh + t * N * GH;
        parallel_range(N, [&](int64_t b, int64_t e) {
          for (int64_t n = b; n < e; ++n) {
            if (lstm) {
              const T* cp = s == 0 ? c0 + sidx + n * H : aux + (tp * N + n) * H;
              lstm_back_any(dyt + n * DH, dh + n * H, dc + n * H, gates + (t * N + n) * GH, aux + (t * N + n) * H, cp,
                            dgxt + n * GH, H, g.clip, static_cast<T>(g.clip_min), static_cast<T>(g.clip_max));
            } else if (gru) {
              gru_back_any(dyt + n * DH, dh + n * H, gates + (t * N + n) * GH, aux + (t * N + n) * H, hp + n * ldh,
                           dgxt + n * GH, dght + n * GH, H);
            } else {
              rnn_back_any(dyt + n * DH, dh + n * H, Y + (t * N + n) * DH + d * H, dgxt + n * GH, H,
                           g.mode == kRnnRelu);
            }
          }
          // dh_{t-1} = dG_h W_h2h (+ GRU's direct z * dh term already in dh), for these rows only:
          // each thread carries its block of batch rows through the whole step.
          // K in chunks of kStepKC: a panel slice (kStepKC x 32) stays in L1 over the row blocks.
          if (packed)
            for (int64_t k0 = 0; k0 < GH; k0 += kStepKC)
              step_gemm(e - b, H, std::min(kStepKC, GH - k0), reinterpret_cast<const float*>(dght + b * GH + k0), GH,
                        reinterpret_cast<const float*>(whh_p), gru || k0 > 0, reinterpret_cast<float*>(dh + b * H),
                        H, nullptr, 1, k0, GH);
        }, packed ? (N * GH * H >= (1 << 17) ? 8 : N) : std::max<int64_t>(1, 4096 / GH));
        if (!packed) gemm(false, false, N, H, GH, T(1), dght, GH, Whh, H, gru ? T(1) : T(0), dh, H);
      }
      std::copy(dh, dh + N * H, dh0 + sidx);
      if (lstm) std::copy(dc, dc + N * H, dc0 + sidx);
      // dW_h2h pairs step t's gate gradients with h_{t-1}: the layer's own output shifted by one
      // step, h0 for the first step processed.
      const T* h_a = d == 0 ? hs0 : Y + N * DH + d * H;  // rows k < k_split of H_prev
      const int64_t ld_a = d == 0 ? H : DH, k_split = d == 0 ? N : (T_ - 1) * N;
      const T* h_b = d == 0 ? Y + d * H : hs0;           // rows from k_split on
      const int64_t ld_b = d == 0 ? DH : H;
      bool fused = false;
      if constexpr (std::is_same<T, float>::value) {
        // One pass over the gate gradients for both weight gradients (LSTM, RNN: dG_h is dG_x).
        const int64_t n1 = gru ? 0 : in_l;
        if (wgrad_gemm_ok(n1, H)) {
          wgrad_gemm(GH, TN, dgh, GH, n1, X, in_l, dWih, H, h_a, ld_a, k_split, h_b, ld_b, dWhh);
          if (gru) rnn_gemm(true, false, GH, in_l, TN, dgx, GH, X, in_l, false, dWih, in_l);
          fused = true;
        }
      }
      if (!fused) {
        if (k_split > 0) rnn_gemm(true, false, GH, H, k_split, dgh, GH, h_a, ld_a, false, dWhh, H);
        if (TN > k_split)
          rnn_gemm(true, false, GH, H, TN - k_split, dgh + k_split * GH, GH, h_b, ld_b, k_split > 0, dWhh, H);
        rnn_gemm(true, false, GH, in_l, TN, dgx, GH, X, in_l, false, dWih, in_l);
      }
      col_sums(dgx, TN, GH, dbih);
      if (gru)
        col_sums(dgh, TN, GH, dbhh);
      else
        std::copy(dbih, dbih + GH, dbhh);
      rnn_gemm(false, false, TN, in_l, GH, dgx, GH, Wih, in_l, d != 0, dX, in_l);
    }
    if (l > 0) {
      if (g.has_mask(l - 1)) {
        const T* m = res + g.mask_offset(l - 1);
        for (int64_t i = 0; i < ydim; ++i) dy_below[i] *= m[i];
      }
      std::swap(dy, dy_below);
    }
  }
}

void backward_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                      const std::vector<TBlob>& out) {
  Geom g = make_geom(p, "_backward_RNN");
  set_data_shape(&g, in[3].shape, "_backward_RNN");
  const bool lstm = g.mode == kLstm;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!lstm && (i == 2 || i == 6)) continue;
    MX_CHECK(in[i].dtype == in[3].dtype, kDType, "_backward_RNN: inputs have different dtypes ",
             dtype_name(in[3].dtype), " and ", dtype_name(in[i].dtype));
  }
  if (g.T == 0 || g.N == 0) {
    for (const TBlob& o : out) std::fill_n(static_cast<char*>(o.data), o.size() * dtype_size(o.dtype), 0);
    return;
  }
  switch (in[3].dtype) {
    case DType::kFloat32: rnn_backward<float>(g, in, out); break;
    case DType::kFloat64: rnn_backward<double>(g, in, out); break;
    default: MX_THROW(kDType, "_backward_RNN: dtype ", dtype_name(in[3].dtype), " is not supported (float32, float64)");
  }
}

void backward_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  Geom g = make_geom(p, "_backward_RNN");
  const Shape& d = (*in)[3];
  if (!shape_known(d)) return;
  set_data_shape(&g, d, "_backward_RNN");
  const Shape state{g.L * g.D, g.N, g.H};
  const bool lstm = g.mode == kLstm;
  struct Want {
    int idx;
    const char* name;
    Shape shape;
  };
  const Want wants[] = {{0, "ograd of out", Shape{g.T, g.N, g.D * g.H}},
                        {1, "ograd of hy", state},
                        {2, "ograd of cy", state},
                        {4, "parameters", Shape{g.param_size()}},
                        {5, "state", state},
                        {6, "state_cell", state},
                        {7, "reserve", Shape{g.reserve_size()}}};
  for (const Want& w : wants) {
    if (!lstm && (w.idx == 2 || w.idx == 6)) continue;  // ignored outside lstm
    Shape& s = (*in)[w.idx];
    if (!shape_known(s)) s = w.shape;
    MX_CHECK(s == w.shape, kShape, "_backward_RNN: ", w.name, " has shape ", s.str(), ", expected ", w.shape.str(),
             " for data shape ", d.str());
  }
  (*out)[0] = d;
  (*out)[1] = Shape{g.param_size()};
  (*out)[2] = state;
  if (lstm) (*out)[3] = state;
}

static OpDef& backward_def __attribute__((unused)) = declare_params(register_op("_backward_RNN"))
    .describe("The gradient of RNN: from the ograds of out, hy and cy (zeros where an output was not used), "
              "the forward inputs and the forward's reserve output, the gradients of data, parameters, state "
              "and (lstm) state_cell. ograd_cy and state_cell are ignored unless mode='lstm' (pass any array of "
              "the same dtype). Not differentiable itself (as in MXNet).")
    .category("grad")
    .input("ograd_out")
    .input("ograd_hy")
    .input("ograd_cy")
    .input("data")
    .input("parameters")
    .input("state")
    .input("state_cell")
    .input("reserve")
    .num_outputs([](const Params& p) { return p.get_string("mode") == "lstm" ? 4 : 3; })
    .infer_shape(backward_shape)
    .infer_type([](const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
      const DType t = (*in)[3];
      if (t == kUnknownDType) return;
      const bool lstm = p.get_string("mode") == "lstm";
      static const char* names[] = {"ograd_out", "ograd_hy", "ograd_cy", "data", "parameters", "state", "state_cell",
                                    "reserve"};
      for (size_t i = 0; i < in->size(); ++i) {
        if (!lstm && (i == 2 || i == 6)) continue;
        if ((*in)[i] == kUnknownDType) (*in)[i] = t;
        MX_CHECK((*in)[i] == t, kDType, "_backward_RNN: ", names[i], " has dtype ", dtype_name((*in)[i]),
                 ", expected ", dtype_name(t));
      }
      for (DType& o : *out) o = t;
    })
    .dtypes({DType::kFloat32, DType::kFloat64})
    .differentiable(false)
    .cpu(backward_compute);

}  // namespace
}  // namespace rnn
}  // namespace mx
