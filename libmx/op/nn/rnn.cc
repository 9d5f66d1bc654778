// RNN: the fused multi-layer (bidirectional) recurrent operator of MXNet 1.9, modes rnn_relu,
// rnn_tanh, lstm (gates i, f, g, o) and gru (gates r, z, n with n = tanh(W_in x + b_in +
// r * (W_hn h + b_hn))), layout TNC.
//
// Speed: per layer and direction the input projection of all time steps is one GEMM
// (T*N, in) x W_i2h^T, written straight into the reserve's gate array; each step then does one
// (N, H) x W_h2h^T product and one fused pass over the batch rows for the gate math, each thread
// carrying a block of batch rows through the whole step. In float32 on AVX-512 CPUs the products
// run on step_gemm / seq_gemm below (weights packed once per call, no BLAS repacking per step, one
// thread pool); elsewhere on the BLAS (kernels/cpu/blas.h).
//
// The op always produces a hidden output, the reserve (rnn_cell.h describes its layout), which
// _backward_RNN (rnn_cell.cc) reads; gradient: libmx/op/grad/rnn_grad.cc.
// Vectorisable float selects in the gate math (rnn_cell.h); no code here relies on FP exceptions.
#pragma GCC optimize("no-trapping-math")
#include <algorithm>
#include <cmath>
#include <memory>
#include <type_traits>
#include <vector>

#include "base/random.h"
#include "kernels/cpu/blas.h"
#include "op/kernel_util.h"
#include "op/nn/rnn_cell.h"
#include "op/registry.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && __GNUC__ >= 12
#define MX_RNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MX_RNN_CLONES
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MX_RNN_HAVE_AVX512_KERNEL 1
#endif

namespace mx {
namespace rnn {

// ------------------------------------------------------------------ the step GEMM
#ifdef MX_RNN_HAVE_AVX512_KERNEL
namespace {

// R rows x (16 * V) columns of C, the whole K loop in registers (R * V <= 16 accumulators); B is a
// packed panel: row k at B + k * 16 * V.
// A's element (r, k) at A[r * lda + k * ak] (ak != 1: A used transposed).
template <int R, int V>
__attribute__((target("avx512f"))) void step_block(const float* A, int64_t lda, int64_t ak, const float* B, int64_t K,
                                                   float* C, int64_t ldc, bool accumulate, const float* bias) {
  __m512 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v)
      acc[r][v] = accumulate ? _mm512_loadu_ps(C + r * ldc + 16 * v)
                             : (bias ? _mm512_loadu_ps(bias + 16 * v) : _mm512_setzero_ps());
  for (int64_t k = 0; k < K; ++k) {
    __m512 b[V];
    for (int v = 0; v < V; ++v) b[v] = _mm512_loadu_ps(B + (k * V + v) * 16);
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + k * ak]);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(C + r * ldc + 16 * v, acc[r][v]);
}

// ablk: the distance between successive 8-row blocks of A (8 * lda for a plain row-major A).
template <int V>
__attribute__((target("avx512f"))) void step_rows(int64_t M, const float* A, int64_t lda, int64_t ak, int64_t ablk,
                                                  const float* B, int64_t K, float* C, int64_t ldc, bool accumulate,
                                                  const float* bias) {
  int64_t n = 0;
  for (; n + 8 <= M; n += 8) step_block<8, V>(A + (n / 8) * ablk, lda, ak, B, K, C + n * ldc, ldc, accumulate, bias);
  const float* a = A + (n / 8) * ablk;
  float* c = C + n * ldc;
  switch (M - n) {
    case 7: step_block<7, V>(a, lda, ak, B, K, c, ldc, accumulate, bias); break;
    case 6: step_block<6, V>(a, lda, ak, B, K, c, ldc, accumulate, bias); break;
    case 5: step_block<5, V>(a, lda, ak, B, K, c, ldc, accumulate, bias); break;
    case 4: step_block<4, V>(a, lda, ak, B, K, c, ldc, accumulate, bias); break;
    case 3: step_block<3, V>(a, lda, ak, B, K, c, ldc, accumulate, bias); break;
    case 2: step_block<2, V>(a, lda, ak, B, K, c, ldc, accumulate, bias); break;
    case 1: step_block<1, V>(a, lda, ak, B, K, c, ldc, accumulate, bias); break;
    default: break;
  }
}

bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}

// A stored K x M (used transposed) copied into blocks of 8 rows, (r, k) of block rb at
// rb * 8 * K + k * 8 + r, so the kernel reads each row block contiguously (row k of the stored A gives
// 8 contiguous values per block). In scratch slot 2.
const float* pack_a_t(int64_t M, int64_t K, const float* A, int64_t lda) {
  const int64_t MB = (M + 7) / 8;
  float* ap = scratch<float>(MB * 8 * K, 2);
  parallel_range(MB, [&](int64_t b, int64_t e) {
    for (int64_t rb = b; rb < e; ++rb) {
      const int64_t r0 = rb * 8, w = std::min<int64_t>(8, M - r0);
      float* dst = ap + rb * 8 * K;
      if (w == 8) {
        for (int64_t k = 0; k < K; ++k) std::memcpy(dst + k * 8, A + k * lda + r0, 8 * sizeof(float));
      } else {
        for (int64_t k = 0; k < K; ++k)
          for (int64_t r = 0; r < w; ++r) dst[k * 8 + r] = A[k * lda + r0 + r];
      }
    }
  }, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, 8 * K)));
  return ap;
}

}  // namespace

bool step_gemm_ok(int64_t Nc) { return Nc > 0 && Nc % 16 == 0 && have_avx512(); }

void pack_step_b(const float* B, int64_t sk, int64_t sc, int64_t K, int64_t Nc, float* out) {
  for (int64_t c0 = 0; c0 < Nc; c0 += 32) {
    const int64_t w = std::min<int64_t>(32, Nc - c0);
    float* panel = out + c0 * K;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t c = 0; c < w; ++c) panel[k * w + c] = B[k * sk + (c0 + c) * sc];
  }
}

void step_gemm(int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* packed_b,
               bool accumulate, float* C, int64_t ldc, const float* bias, int64_t ak, int64_t k0, int64_t panel_k,
               int64_t ablk) {
  if (M <= 0) return;
  if (panel_k <= 0) panel_k = K;
  if (ablk <= 0) ablk = 8 * lda;
  for (int64_t c0 = 0; c0 < Nc; c0 += 32) {
    if (c0 + 32 <= Nc)
      step_rows<2>(M, A, lda, ak, ablk, packed_b + c0 * panel_k + k0 * 32, K, C + c0, ldc, accumulate,
                   bias ? bias + c0 : nullptr);
    else
      step_rows<1>(M, A, lda, ak, ablk, packed_b + c0 * panel_k + k0 * 16, K, C + c0, ldc, accumulate,
                   bias ? bias + c0 : nullptr);
  }
}

// The whole-sequence products with the same kernel, rows split over the threads: all of the RNN's
// parallelism then runs on one thread pool (a second, the BLAS's, would contend for the cores).
void seq_gemm(bool ta, bool tb, int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* B,
              int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  float* bp = scratch<float>(K * Nc, 1);
  parallel_range((Nc + 31) / 32, [&](int64_t b, int64_t e) {
    const int64_t c0 = b * 32, c1 = std::min(Nc, e * 32);
    const int64_t sk = tb ? 1 : ldb, sc = tb ? ldb : 1;
    pack_step_b(B + c0 * sc, sk, sc, K, c1 - c0, bp + c0 * K);
  }, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, 32 * K)));
  constexpr int64_t kKC = 256;  // K in chunks whose panel slices (kKC x 32 floats) stay in L1
  if (ta) {
    // A is stored K x M: the kernel reads it from blocks of 8 rows (pack_a_t).
    const int64_t MB = (M + 7) / 8;
    const float* ap = pack_a_t(M, K, A, lda);
    parallel_range(MB, [&](int64_t b, int64_t e) {
      const int64_t r0 = b * 8, r1 = std::min(M, e * 8);
      for (int64_t k0 = 0; k0 < K; k0 += kKC)
        step_gemm(r1 - r0, Nc, std::min(kKC, K - k0), ap + b * 8 * K + k0 * 8, 1, bp, accumulate || k0 > 0,
                  C + r0 * ldc, ldc, nullptr, 8, k0, K, 8 * K);
    }, M * Nc * K >= (1 << 18) ? 1 : MB);
    return;
  }
  parallel_range(M, [&](int64_t b, int64_t e) {
    for (int64_t k0 = 0; k0 < K; k0 += kKC)
      step_gemm(e - b, Nc, std::min(kKC, K - k0), A + b * lda + k0, lda, bp, accumulate || k0 > 0, C + b * ldc, ldc,
                nullptr, 1, k0, K);
  }, M * Nc * K >= (1 << 18) ? 8 : M);
}

bool wgrad_gemm_ok(int64_t n1, int64_t n2) { return n1 % 32 == 0 && n2 > 0 && step_gemm_ok(n2); }

void wgrad_gemm(int64_t M, int64_t K, const float* A, int64_t lda, int64_t n1, const float* B1, int64_t ldb1,
                float* C1, int64_t n2, const float* B2a, int64_t ldb2a, int64_t k_split, const float* B2b,
                int64_t ldb2b, float* C2) {
  const int64_t Nc = n1 + n2, P = (Nc + 31) / 32, MB = (M + 7) / 8;
  float* bp = scratch<float>(K * Nc, 1);
  // Panels of 32 columns (the last may have 16), n1 % 32 == 0: no panel mixes the two products.
  parallel_range(P, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const int64_t c0 = p * 32, w = std::min<int64_t>(32, Nc - c0);
      float* panel = bp + c0 * K;
      for (int64_t k = 0; k < K; ++k) {
        const float* row = c0 < n1 ? B1 + k * ldb1 + c0
                                   : (k < k_split ? B2a + k * ldb2a : B2b + (k - k_split) * ldb2b) + (c0 - n1);
        std::memcpy(panel + k * w, row, static_cast<size_t>(w) * sizeof(float));
      }
    }
  }, 1);
  const float* ap = pack_a_t(M, K, A, lda);
  constexpr int64_t kKC = 256;
  parallel_range(MB, [&](int64_t b, int64_t e) {
    const int64_t r0 = b * 8, rows = std::min(M, e * 8) - r0;
    const float* a = ap + b * 8 * K;
    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      const int64_t kc = std::min(kKC, K - k0);
      for (int64_t c0 = 0; c0 < Nc; c0 += 32) {
        const bool first = c0 < n1;
        float* c = first ? C1 + r0 * n1 + c0 : C2 + r0 * n2 + (c0 - n1);
        const int64_t ldc = first ? n1 : n2;
        if (c0 + 32 <= Nc)
          step_rows<2>(rows, a + k0 * 8, 1, 8, 8 * K, bp + c0 * K + k0 * 32, kc, c, ldc, k0 > 0, nullptr);
        else
          step_rows<1>(rows, a + k0 * 8, 1, 8, 8 * K, bp + c0 * K + k0 * 16, kc, c, ldc, k0 > 0, nullptr);
      }
    }
  }, 1);
}
#else
bool wgrad_gemm_ok(int64_t, int64_t) { return false; }
void wgrad_gemm(int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t,
                const float*, int64_t, int64_t, const float*, int64_t, float*) {}
bool step_gemm_ok(int64_t) { return false; }
void pack_step_b(const float*, int64_t, int64_t, int64_t, int64_t, float*) {}
void step_gemm(int64_t, int64_t, int64_t, const float*, int64_t, const float*, bool, float*, int64_t, const float*,
               int64_t, int64_t, int64_t, int64_t) {}
void seq_gemm(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, bool, float*,
              int64_t) {}
#endif

void* scratch_bytes(size_t bytes, int slot) {
  // 64-byte aligned: the kernel's 64-byte loads of packed panels then never straddle cache lines.
  thread_local std::unique_ptr<char[]> buf[3];
  thread_local size_t cap[3] = {0, 0, 0};
  if (bytes > cap[slot]) {
    buf[slot].reset();
    buf[slot].reset(new char[bytes + 64]);
    cap[slot] = bytes;
  }
  const uintptr_t p = reinterpret_cast<uintptr_t>(buf[slot].get());
  return reinterpret_cast<void*>((p + 63) & ~static_cast<uintptr_t>(63));
}

// ------------------------------------------------------------------ geometry
// Closed forms (layers past the first all have the same sizes), so an absurd num_layers costs nothing
// before check_sizes rejects it.
int64_t Geom::weight_offset(int64_t l, int64_t d) const {
  const int64_t first = D * GH() * (I + H), rest = D * GH() * (D * H + H);
  if (l == 0) return d * GH() * (I + H);
  return first + (l - 1) * rest + d * GH() * (D * H + H);
}
int64_t Geom::bias_offset(int64_t l, int64_t d) const { return weight_offset(L, 0) + (l * D + d) * 2 * GH(); }
int64_t Geom::param_size() const { return bias_offset(L, 0); }
int64_t Geom::y_offset(int64_t l) const {
  // Every layer before the last has the mask when p > 0.
  const int64_t per = T * N * D * H * (p > 0.0 ? 2 : 1) + D * (gate_size() + aux_size());
  if (l < L) return l * per;
  return (L - 1) * per + T * N * D * H + D * (gate_size() + aux_size());
}

namespace {
// Sizes in double first: parameters or shapes whose buffers could not exist (or would overflow the
// int64 arithmetic) are rejected with a clear error instead.
void check_sizes(const Geom& g, const char* op) {
  const double GH = static_cast<double>(g.G) * g.H, TN = static_cast<double>(g.T) * g.N, D = g.D, H = g.H;
  const double params = D * GH * (g.I + H + 2) + (g.L - 1.0) * D * GH * (D * H + H + 2);
  const double per = TN * D * H * 2 + D * (TN * GH + TN * H);
  const double reserve = g.L * per;
  const double work = TN * GH * 2 + TN * D * H * 3 + GH * H + TN * g.I;
  const double limit = 1.0 * (int64_t(1) << 50);
  MX_CHECK(params < limit && reserve < limit && work < limit, kInvalidArgument, op,
           ": sizes too large (state_size=", g.H, ", num_layers=", g.L, ", data (", g.T, ", ", g.N, ", ", g.I,
           ")): ", params, " parameters, ", reserve, " reserved values");
}
}  // namespace

Geom make_geom(const Params& p, const char* op) {
  Geom g;
  const std::string& m = p.get_string("mode");
  g.mode = m == "rnn_relu" ? kRnnRelu : m == "rnn_tanh" ? kRnnTanh : m == "lstm" ? kLstm : kGru;
  g.G = g.mode == kLstm ? 4 : g.mode == kGru ? 3 : 1;
  g.H = p.get_int("state_size");
  g.L = p.get_int("num_layers");
  g.D = p.get_bool("bidirectional") ? 2 : 1;
  g.p = p.get_float("p");
  MX_CHECK(g.H >= 1, kInvalidArgument, op, ": state_size must be positive, got ", g.H);
  MX_CHECK(g.L >= 1, kInvalidArgument, op, ": num_layers must be positive, got ", g.L);
  MX_CHECK(g.p >= 0.0 && g.p < 1.0, kInvalidArgument, op, ": dropout p must be in [0, 1), got ", g.p);
  MX_CHECK(p.is_none("projection_size"), kUnsupported, op, ": projection_size (LSTMP) is not supported, got ",
           p.get_int("projection_size"));
  MX_CHECK(!p.get_bool("use_sequence_length"), kUnsupported, op,
           ": use_sequence_length=True (variable-length sequences) is not supported");
  const bool has_min = !p.is_none("lstm_state_clip_min"), has_max = !p.is_none("lstm_state_clip_max");
  if (has_min || has_max) {
    MX_CHECK(g.mode == kLstm, kInvalidArgument, op, ": lstm_state_clip_min/max apply to mode='lstm' only, got mode='",
             m, "'");
    MX_CHECK(has_min && has_max, kInvalidArgument, op,
             ": lstm_state_clip_min and lstm_state_clip_max must be given together");
    g.clip = true;
    g.clip_min = p.get_float("lstm_state_clip_min");
    g.clip_max = p.get_float("lstm_state_clip_max");
    MX_CHECK(g.clip_min <= g.clip_max, kInvalidArgument, op, ": lstm_state_clip_min ", g.clip_min,
             " exceeds lstm_state_clip_max ", g.clip_max);
    g.clip_nan = p.get_bool("lstm_state_clip_nan");
  }
  return g;
}

void set_data_shape(Geom* g, const Shape& data, const char* op) {
  MX_CHECK(data.ndim() == 3, kShape, op, ": data must be (seq_len, batch, input_size), got shape ", data.str());
  g->T = data[0];
  g->N = data[1];
  g->I = data[2];
  MX_CHECK(g->I >= 1, kShape, op, ": input_size (data.shape[2]) must be positive, got shape ", data.str());
  check_sizes(*g, op);
}

OpDef& declare_params(OpDef& def) {
  return def.param_int("state_size", OpDef::kRequired, "size of the state for each layer")
      .param_int("num_layers", OpDef::kRequired, "number of stacked layers")
      .param_bool("bidirectional", "False", "whether to use bidirectional recurrent layers")
      .param_enum("mode", {"gru", "lstm", "rnn_relu", "rnn_tanh"}, OpDef::kRequired, "the type of RNN to compute")
      .param_float("p", "0", "drop rate of the dropout on the outputs of each RNN layer, except the last layer")
      .param_bool("state_outputs", "False", "whether to have the states as symbol outputs")
      .param_int("projection_size", "None", "size of project size (not supported)")
      .optional()
      .param_float("lstm_state_clip_min", "None",
                   "minimum clip value of LSTM states; must be used together with lstm_state_clip_max")
      .optional()
      .param_float("lstm_state_clip_max", "None",
                   "maximum clip value of LSTM states; must be used together with lstm_state_clip_min")
      .optional()
      .param_bool("lstm_state_clip_nan", "False",
                  "whether to stop NaN from propagating in state by clipping it to min/max (NaN becomes "
                  "lstm_state_clip_max); ignored without a clipping range")
      .param_bool("use_sequence_length", "False",
                  "if set to true, this layer takes in an extra input parameter sequence_length (not supported)");
}

namespace {

// ------------------------------------------------------------------ shape / type inference
void rnn_shape(const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
  Geom g = make_geom(p, "RNN");
  const Shape& d = (*in)[0];
  if (!shape_known(d)) return;
  set_data_shape(&g, d, "RNN");
  const Shape want_state{g.L * g.D, g.N, g.H};
  const Shape want_params{g.param_size()};
  Shape& w = (*in)[1];
  if (!shape_known(w)) w = want_params;
  MX_CHECK(w == want_params, kShape, "RNN: parameters has shape ", w.str(), ", expected ", want_params.str(),
           " (", g.param_size(), " values for input_size=", g.I, ", state_size=", g.H, ", num_layers=", g.L,
           ", bidirectional=", g.D == 2 ? "True" : "False", ", mode='", p.get_string("mode"), "')");
  const char* names[] = {"data", "parameters", "state", "state_cell"};
  for (size_t i = 2; i < in->size() && i < 4; ++i) {
    Shape& s = (*in)[i];
    if (!shape_known(s)) s = want_state;
    MX_CHECK(s == want_state, kShape, "RNN: ", names[i], " has shape ", s.str(), ", expected ", want_state.str(),
             " (num_layers * directions, batch, state_size) for data shape ", d.str());
  }
  size_t k = 0;
  (*out)[k++] = Shape{g.T, g.N, g.D * g.H};
  if (p.get_bool("state_outputs")) {
    (*out)[k++] = want_state;
    if (g.mode == kLstm) (*out)[k++] = want_state;
  }
  (*out)[k] = Shape{g.reserve_size()};
}

void same_type(const char* op, const std::vector<std::string>& names, std::vector<DType>* in,
               std::vector<DType>* out) {
  DType t = kUnknownDType;
  for (DType x : *in)
    if (t == kUnknownDType) t = x;
  if (t == kUnknownDType) return;
  for (size_t i = 0; i < in->size(); ++i) {
    if ((*in)[i] == kUnknownDType) (*in)[i] = t;
    MX_CHECK((*in)[i] == t, kDType, op, ": ", i < names.size() ? names[i] : "input", " has dtype ",
             dtype_name((*in)[i]), ", expected ", dtype_name(t), " (all inputs share one dtype)");
  }
  for (DType& o : *out) o = t;
}

// ------------------------------------------------------------------ per-row gate math
// One batch row of one step. xg: the input projection of the row (no biases), overwritten with the
// activated gates; hw: the recurrent projection plus the biases (for GRU's n gate b_hn only: b_in
// is added separately, outside r * (W_hn h + b_hn)).
template <typename T>
MX_RNN_INLINE void lstm_row(T* xg, const T* hw, const T* c_prev, T* c, T* h, int64_t H, bool clip, T lo, T hi,
                            bool clip_nan) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T i = act_sigmoid(xg[j] + hw[j]);
    const T f = act_sigmoid(xg[H + j] + hw[H + j]);
    const T gg = act_tanh(xg[2 * H + j] + hw[2 * H + j]);
    const T o = act_sigmoid(xg[3 * H + j] + hw[3 * H + j]);
    xg[j] = i;
    xg[H + j] = f;
    xg[2 * H + j] = gg;
    xg[3 * H + j] = o;
    c[j] = f * c_prev[j] + i * gg;
  }
  if (clip) {
    for (int64_t j = 0; j < H; ++j) {
      T cv = c[j];
      if (clip_nan && cv != cv) cv = hi;
      c[j] = cv < lo ? lo : (cv > hi ? hi : cv);
    }
  }
  const T* o = xg + 3 * H;
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) h[j] = o[j] * act_tanh(c[j]);
}

template <typename T>
MX_RNN_INLINE void gru_row(T* xg, const T* hw, const T* b_in, const T* h_prev, T* hn, T* h, int64_t H) {
  #pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T r = act_sigmoid(xg[j] + hw[j]);
    const T z = act_sigmoid(xg[H + j] + hw[H + j]);
    const T hv = hw[2 * H + j];
    const T n = act_tanh(xg[2 * H + j] + b_in[j] + r * hv);
    xg[j] = r;
    xg[H + j] = z;
    xg[2 * H + j] = n;
    hn[j] = hv;
    h[j] = (T(1) - z) * n + z * h_prev[j];
  }
}

template <typename T>
MX_RNN_INLINE void rnn_row(const T* xw, const T* hw, T* h, int64_t H, bool relu) {
  if (relu) {
    #pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const T v = xw[j] + hw[j];
      h[j] = v > T(0) ? v : T(0);
    }
  } else {
    #pragma omp simd
    for (int64_t j = 0; j < H; ++j) h[j] = act_tanh(xw[j] + hw[j]);
  }
}

// float versions compiled for AVX2+FMA too (the exp polynomial vectorises).
MX_RNN_CLONES void lstm_row_f(float* xg, const float* hw, const float* c_prev, float* c, float* h, int64_t H,
                              bool clip, float lo, float hi, bool clip_nan) {
  lstm_row<float>(xg, hw, c_prev, c, h, H, clip, lo, hi, clip_nan);
}
MX_RNN_CLONES void gru_row_f(float* xg, const float* hw, const float* b_in, const float* h_prev, float* hn,
                             float* h, int64_t H) {
  gru_row<float>(xg, hw, b_in, h_prev, hn, h, H);
}
MX_RNN_CLONES void rnn_row_f(const float* xw, const float* hw, float* h, int64_t H, bool relu) {
  rnn_row<float>(xw, hw, h, H, relu);
}
inline void lstm_row_any(float* xg, const float* hw, const float* cp, float* c, float* h, int64_t H, bool clip,
                         float lo, float hi, bool nan) {
  lstm_row_f(xg, hw, cp, c, h, H, clip, lo, hi, nan);
}
inline void lstm_row_any(double* xg, const double* hw, const double* cp, double* c, double* h, int64_t H,
                         bool clip, double lo, double hi, bool nan) {
  lstm_row<double>(xg, hw, cp, c, h, H, clip, lo, hi, nan);
}
inline void gru_row_any(float* xg, const float* hw, const float* b, const float* hp, float* hn, float* h,
                        int64_t H) {
  gru_row_f(xg, hw, b, hp, hn, h, H);
}
inline void gru_row_any(double* xg, const double* hw, const double* b, const double* hp, double* hn, double* h,
                        int64_t H) {
  gru_row<double>(xg, hw, b, hp, hn, h, H);
}
inline void rnn_row_any(const float* xw, const float* hw, float* h, int64_t H, bool relu) {
  rnn_row_f(xw, hw, h, H, relu);
}
inline void rnn_row_any(const double* xw, const double* hw, double* h, int64_t H, bool relu) {
  rnn_row<double>(xw, hw, h, H, relu);
}

// Rows per parallel chunk: a few thousand gate values each; with the step product in the chunk,
// blocks of 8 rows (the kernel's) when the step is big enough to split at all.
inline int64_t row_grain(const Geom& g) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(1, g.GH())); }
inline int64_t step_grain(const Geom& g) { return g.N * g.GH() * g.H >= (1 << 17) ? 8 : g.N; }

// ------------------------------------------------------------------ forward
template <typename T>
void rnn_forward(const OpContext& ctx, const Geom& g, const std::vector<TBlob>& in, const std::vector<TBlob>& out,
                 bool state_outputs) {
  const int64_t T_ = g.T, N = g.N, H = g.H, D = g.D, GH = g.GH(), DH = D * H, TN = T_ * N;
  const T* x = in[0].ptr<T>();
  const T* w = in[1].ptr<T>();
  const T* h0 = in[2].ptr<T>();
  const T* c0 = g.mode == kLstm ? in[3].ptr<T>() : nullptr;
  T* res = out.back().ptr<T>();
  const bool train = ctx.is_train;

  T* hw = scratch<T>(N * GH + (g.mode <= kRnnTanh ? TN * H : 0) + (g.p > 0 && g.L > 1 ? TN * DH : 0) + H * GH + 16);
  T* xw_plain = hw + N * GH;                                  // rnn modes: the input projection
  T* xdrop = xw_plain + (g.mode <= kRnnTanh ? TN * H : 0);   // the masked input of the next layer
  T* whh_t = align64(xdrop + (g.p > 0 && g.L > 1 ? TN * DH : 0));  // W_h2h^T packed for step_gemm
  std::vector<T> bias(static_cast<size_t>(GH));

  for (int64_t l = 0; l < g.L; ++l) {
    const int64_t in_l = g.in_size(l);
    const T* X = l == 0 ? x : (g.has_mask(l - 1) ? xdrop : res + g.y_offset(l - 1));
    T* Y = res + g.y_offset(l);
    for (int64_t d = 0; d < D; ++d) {
      const T* Wih = w + g.weight_offset(l, d);
      const T* Whh = Wih + GH * in_l;
      const T* bih = w + g.bias_offset(l, d);
      const T* bhh = bih + GH;
      T* gates = g.mode <= kRnnTanh ? xw_plain : res + g.gates_offset(l, d);
      T* aux = res + g.aux_offset(l, d);
      rnn_gemm(false, true, TN, GH, in_l, X, in_l, Wih, in_l, false, gates, GH);
      // Biases ride with the recurrent product (GRU's b_in goes to the row math).
      for (int64_t k = 0; k < GH; ++k) bias[k] = ((g.mode == kGru && k >= 2 * H) ? T(0) : bih[k]) + bhh[k];
      bool packed = false;
      if constexpr (std::is_same<T, float>::value) {
        packed = step_gemm_ok(GH);  // B = W_h2h^T: element (k, c) at Whh[c * H + k]
        if (packed) pack_step_b(Whh, 1, H, H, GH, whh_t);
      }
      const T* b_in = bih + 2 * H;
      const T* hs0 = h0 + (l * D + d) * N * H;
      const T* cs0 = c0 ? c0 + (l * D + d) * N * H : nullptr;
      for (int64_t s = 0; s < T_; ++s) {
        const int64_t t = d == 0 ? s : T_ - 1 - s, tp = d == 0 ? t - 1 : t + 1;
        const T* hp = s == 0 ? hs0 : Y + tp * N * DH + d * H;
        const int64_t ldh = s == 0 ? H : DH;
        if (!packed) {
          for (int64_t n = 0; n < N; ++n) std::copy(bias.begin(), bias.end(), hw + n * GH);
          gemm(false, true, N, GH, H, T(1), hp, ldh, Whh, H, T(1), hw, GH);
        }
        T* ht = Y + t * N * DH + d * H;
        T* gt = gates + t * N * GH;
        // Each thread takes a block of batch rows through the whole step (its rows of the recurrent
        // product, then their gate math): no barrier inside a step.
        parallel_range(N, [&](int64_t b, int64_t e) {
          if (packed)
            step_gemm(e - b, GH, H, reinterpret_cast<const float*>(hp + b * ldh), ldh,
                      reinterpret_cast<const float*>(whh_t), false, reinterpret_cast<float*>(hw + b * GH), GH,
                      reinterpret_cast<const float*>(bias.data()));
          for (int64_t n = b; n < e; ++n) {
            if (g.mode == kLstm) {
              const T* cp = s == 0 ? cs0 + n * H : aux + (tp * N + n) * H;
              lstm_row_any(gt + n * GH, hw + n * GH, cp, aux + (t * N + n) * H, ht + n * DH, H, g.clip,
                           static_cast<T>(g.clip_min), static_cast<T>(g.clip_max), g.clip_nan);
            } else if (g.mode == kGru) {
              gru_row_any(gt + n * GH, hw + n * GH, b_in, hp + n * ldh, aux + (t * N + n) * H, ht + n * DH, H);
            } else {
              rnn_row_any(gt + n * GH, hw + n * GH, ht + n * DH, H, g.mode == kRnnRelu);
            }
          }
        }, packed ? step_grain(g) : row_grain(g));
      }
    }
    if (g.has_mask(l)) {
      // Dropout on this layer's output as the next layer sees it: scale 0 or 1/(1-p) per element
      // (element i draws word i % 4 of philox(i / 4) on this call's stream, offset per layer).
      T* mask = res + g.mask_offset(l);
      const int64_t n = TN * DH;
      const uint64_t base = static_cast<uint64_t>(l) * static_cast<uint64_t>((n + 3) / 4);
      const T keep = T(1) / T(1 - g.p);
      const double p = g.p;
      parallel_range(n, [&](int64_t b, int64_t e) {
        Philox4x32 r{};
        for (int64_t i = b; i < e; ++i) {
          T m = T(1);
          if (train) {
            if (i == b || (i & 3) == 0) r = philox4x32(base + (static_cast<uint64_t>(i) >> 2), ctx.rng_stream, ctx.rng_seed);
            const double u = (r.v[i & 3] >> 8) * (1.0 / 16777216.0);
            m = u < p ? T(0) : keep;
          }
          mask[i] = m;
          xdrop[i] = Y[i] * m;
        }
      });
    }
  }
  const T* Ylast = res + g.y_offset(g.L - 1);
  std::copy(Ylast, Ylast + TN * DH, out[0].ptr<T>());
  if (state_outputs) {
    T* hy = out[1].ptr<T>();
    T* cy = g.mode == kLstm ? out[2].ptr<T>() : nullptr;
    for (int64_t l = 0; l < g.L; ++l)
      for (int64_t d = 0; d < D; ++d) {
        const int64_t t = d == 0 ? T_ - 1 : 0;
        const T* Y = res + g.y_offset(l);
        T* dst = hy + (l * D + d) * N * H;
        for (int64_t n = 0; n < N; ++n) std::copy(Y + (t * N + n) * DH + d * H, Y + (t * N + n) * DH + d * H + H, dst + n * H);
        if (cy) {
          const T* c = res + g.aux_offset(l, d) + t * N * H;
          std::copy(c, c + N * H, cy + (l * D + d) * N * H);
        }
      }
  }
}

void rnn_compute(const OpContext& ctx, const Params& p, const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  Geom g = make_geom(p, "RNN");
  set_data_shape(&g, in[0].shape, "RNN");
  for (size_t i = 1; i < in.size(); ++i)
    MX_CHECK(in[i].dtype == in[0].dtype, kDType, "RNN: inputs have different dtypes ", dtype_name(in[0].dtype),
             " and ", dtype_name(in[i].dtype));
  if (g.T == 0 || g.N == 0) {
    for (const TBlob& o : out) std::fill_n(static_cast<char*>(o.data), o.size() * dtype_size(o.dtype), 0);
    return;
  }
  const bool so = p.get_bool("state_outputs");
  switch (in[0].dtype) {
    case DType::kFloat32: rnn_forward<float>(ctx, g, in, out, so); break;
    case DType::kFloat64: rnn_forward<double>(ctx, g, in, out, so); break;
    default: MX_THROW(kDType, "RNN: dtype ", dtype_name(in[0].dtype), " is not supported (float32, float64)");
  }
}

int rnn_visible(const Params& p) {
  return 1 + (p.get_bool("state_outputs") ? (p.get_string("mode") == "lstm" ? 2 : 1) : 0);
}

static OpDef& rnn_def __attribute__((unused)) = declare_params(register_op("RNN"))
    .describe("Applies a multi-layer recurrent network (rnn_relu, rnn_tanh, lstm, gru; optionally bidirectional) "
              "to data of shape (seq_len, batch, input_size). parameters is one flat vector: all weights "
              "(per layer and direction W_i2h then W_h2h) followed by all biases (b_i2h then b_h2h) in the same "
              "order; LSTM gates are ordered i, f, g, o and GRU gates r, z, n with n = tanh(W_in x + b_in + "
              "r * (W_hn h + b_hn)). state (and state_cell for lstm) are (num_layers * directions, batch, "
              "state_size). Outputs: out (seq_len, batch, directions * state_size) and, with state_outputs, "
              "the final hidden state (and cell state for lstm). Dropout p applies between layers in training "
              "mode. Not supported: projection_size, use_sequence_length.")
    .category("nn")
    .input("data")
    .input("parameters")
    .input("state")
    .input("state_cell")
    .input("sequence_length")
    .num_inputs([](const Params& p) { return p.get_string("mode") == "lstm" ? 4 : 3; })
    .num_outputs([](const Params& p) { return rnn_visible(p) + 1; })
    .num_visible_outputs(rnn_visible)
    .infer_shape(rnn_shape)
    .infer_type([](const Params&, std::vector<DType>* in, std::vector<DType>* out) {
      same_type("RNN", {"data", "parameters", "state", "state_cell"}, in, out);
    })
    .dtypes({DType::kFloat32, DType::kFloat64})
    .needs_rng()
    .cpu(rnn_compute);  // gradient: libmx/op/grad/rnn_grad.cc (_backward_RNN in rnn_cell.cc)

}  // namespace
}  // namespace rnn
}  // namespace mx
