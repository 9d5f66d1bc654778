// Shared pieces of the fused RNN operator (rnn.cc: forward, rnn_cell.cc: _backward_RNN): the
// geometry of the packed parameter vector and of the reserve (the forward intermediates the
// backward pass reads), and the parameter declarations both ops share.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

#include "kernels/cpu/blas.h"
#include "op/kernel_util.h"

#include "op/registry.h"

namespace mx {
namespace rnn {

enum Mode { kRnnRelu = 0, kRnnTanh = 1, kLstm = 2, kGru = 3 };

// Everything the kernels need to know about one call.
struct Geom {
  Mode mode = kLstm;
  int64_t T = 0, N = 0, I = 0, H = 0, L = 1, D = 1, G = 4;
  double p = 0.0;              // dropout between layers
  bool clip = false;           // LSTM state clipping
  double clip_min = 0, clip_max = 0;
  bool clip_nan = false;

  int64_t GH() const { return G * H; }
  int64_t in_size(int64_t l) const { return l == 0 ? I : D * H; }
  // Packed parameters (MXNet's layout): all weights, per layer and direction W_i2h (GH, in) then
  // W_h2h (GH, H); then all biases in the same order, b_i2h (GH) then b_h2h (GH).
  int64_t weight_offset(int64_t l, int64_t d) const;  // W_i2h; W_h2h follows at + GH * in_size(l)
  int64_t bias_offset(int64_t l, int64_t d) const;    // b_i2h; b_h2h follows at + GH
  int64_t param_size() const;
  // Reserve, per layer: Y (T, N, D*H) the layer's output; the dropout scale applied to it (same
  // shape) when p > 0 and a layer follows; per direction the activated gates (T, N, GH) and an
  // auxiliary (T, N, H) array (LSTM: cell state c_t; GRU: W_hn h_{t-1} + b_hn). Plain RNNs keep
  // only Y.
  bool has_mask(int64_t l) const { return p > 0.0 && l + 1 < L; }
  int64_t gate_size() const { return (mode == kLstm || mode == kGru) ? T * N * GH() : 0; }
  int64_t aux_size() const { return (mode == kLstm || mode == kGru) ? T * N * H : 0; }
  int64_t y_offset(int64_t l) const;
  int64_t mask_offset(int64_t l) const { return y_offset(l) + T * N * D * H; }
  int64_t gates_offset(int64_t l, int64_t d) const {
    return mask_offset(l) + (has_mask(l) ? T * N * D * H : 0) + d * (gate_size() + aux_size());
  }
  int64_t aux_offset(int64_t l, int64_t d) const { return gates_offset(l, d) + gate_size(); }
  int64_t reserve_size() const { return y_offset(L); }
};

// ------------------------------------------------------------------ activations
// (The .cc files including this compile with no-trapping-math: otherwise GCC does not if-convert the
// float selects below and the loops stay scalar.)
// float: a branch-free exp (range reduction to r in [-ln2/2, ln2/2], degree-7 polynomial, 2^n
// from the exponent bits; relative error ~1e-7) that the compiler vectorises inside the per-row
// loops; tanh switches to its odd series near 0 where 1 - 2/(e^2x + 1) would lose relative
// precision. double: the C library's functions.
#define MX_RNN_INLINE inline __attribute__((always_inline))
MX_RNN_INLINE float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Round to nearest by the 1.5 * 2^23 trick (no floor: that is a library call without SSE4.1).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  float q = 1.0f / 5040.0f;
  q = q * r + 1.0f / 720.0f;
  q = q * r + 1.0f / 120.0f;
  q = q * r + 1.0f / 24.0f;
  q = q * r + 1.0f / 6.0f;
  q = q * r + 0.5f;
  q = q * r + 1.0f;
  q = q * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return q * scale;
}
MX_RNN_INLINE float act_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
MX_RNN_INLINE float act_tanh(float x) {
  const float x2 = x * x;
  float s = 1382.0f / 155925.0f;  // tanh x = x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 - ...
  s = s * -x2 + 62.0f / 2835.0f;
  s = s * -x2 + 17.0f / 315.0f;
  s = s * -x2 + 2.0f / 15.0f;
  s = s * -x2 + 1.0f / 3.0f;
  const float small = x - x * x2 * s;
  const float big = 1.0f - 2.0f / (fast_exp(2.0f * x) + 1.0f);
  return std::fabs(x) < 0.3f ? small : big;
}
inline double act_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double act_tanh(double x) { return std::tanh(x); }

// The recurrent product of one step, C (M x Nc) = A (M x K) B (K x Nc) (+ C when accumulate), for
// the skinny shapes of a step (M = batch) with B fixed over all steps: B is packed once per call
// into column panels (32 columns, contiguous over k), and a register-blocked AVX-512 kernel streams
// them (a BLAS would repack the whole weight matrix on every step). step_gemm_ok says whether the
// kernel applies (AVX-512 present, Nc a multiple of 16); otherwise callers use gemm().
bool step_gemm_ok(int64_t Nc);
// Packs B (K x Nc), element (k, c) at B[k * sk + c * sc], into out (K * Nc floats).
void pack_step_b(const float* B, int64_t sk, int64_t sc, int64_t K, int64_t Nc, float* out);
// C starts from C itself (accumulate), else from the row vector bias (Nc values) when given, else 0.
// A's element (r, k) is at A[r * lda + k * ak].
// k0/panel_k: use rows [k0, k0 + K) of panels packed with panel_k rows (0: K). ablk: the distance
// between successive blocks of 8 rows of A (0: 8 * lda).
void step_gemm(int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* packed_b,
               bool accumulate, float* C, int64_t ldc, const float* bias = nullptr, int64_t ak = 1, int64_t k0 = 0,
               int64_t panel_k = 0, int64_t ablk = 0);
// C (M x Nc) = op(A) op(B) (+ C when accumulate) with the same kernel, B packed (and a transposed
// A transposed) here, the rows of C split over the threads. Only where step_gemm_ok(Nc).
void seq_gemm(bool ta, bool tb, int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* B,
              int64_t ldb, bool accumulate, float* C, int64_t ldc);

// The weight gradients of one layer and direction in one pass over A (K x M stored, used transposed:
// the gate gradients of all steps): C1 (M x n1) = A^T B1 and C2 (M x n2) = A^T B2, where B1 is
// K x n1 (row k at B1 + k * ldb1) and row k of B2 is at B2a + k * ldb2a for k < k_split, else at
// B2b + (k - k_split) * ldb2b (the previous hidden state: h0 for the first step). n1 may be 0.
// Only where wgrad_gemm_ok(n1, n2).
bool wgrad_gemm_ok(int64_t n1, int64_t n2);
void wgrad_gemm(int64_t M, int64_t K, const float* A, int64_t lda, int64_t n1, const float* B1, int64_t ldb1,
                float* C1, int64_t n2, const float* B2a, int64_t ldb2a, int64_t k_split, const float* B2b,
                int64_t ldb2b, float* C2);

// Per-thread scratch memory (three slots), kept between calls (grow-only) so the per-call workspace
// costs no allocation or page faults; valid until the next use of the slot on this thread.
void* scratch_bytes(size_t bytes, int slot);
template <typename T>
T* scratch(int64_t n, int slot = 0) {
  return static_cast<T*>(scratch_bytes(static_cast<size_t>(n > 0 ? n : 1) * sizeof(T), slot));
}
// p rounded up to a 64-byte boundary (within a scratch block, reserve 64 bytes more for it).
template <typename T>
T* align64(T* p) {
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(p) + 63) & ~static_cast<uintptr_t>(63));
}

// gemm (kernels/cpu/blas.h) with alpha 1 and beta 0 or 1, through seq_gemm where it applies.
template <typename T>
void rnn_gemm(bool ta, bool tb, int64_t M, int64_t Nc, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
              bool accumulate, T* C, int64_t ldc) {
  if constexpr (std::is_same<T, float>::value) {
    // A transposed A (the weight gradients) costs the kernel a copy into row blocks; single-threaded
    // the BLAS does as well there, with threads one pool for the whole op wins (the BLAS's own
    // threads would spin against ours on the same cores).
    if (M > 0 && K > 0 && step_gemm_ok(Nc) && (!ta || num_threads() > 1)) {
      seq_gemm(ta, tb, M, Nc, K, A, lda, B, ldb, accumulate, C, ldc);
      return;
    }
  }
  gemm(ta, tb, M, Nc, K, T(1), A, lda, B, ldb, accumulate ? T(1) : T(0), C, ldc);
}

// Reads the parameters (validating them) and, when data's shape is known, the sizes.
Geom make_geom(const Params& p, const char* op);
void set_data_shape(Geom* g, const Shape& data, const char* op);

// The parameters RNN and _backward_RNN share (MXNet 1.9's names and defaults).
OpDef& declare_params(OpDef& def);

}  // namespace rnn
}  // namespace mx
