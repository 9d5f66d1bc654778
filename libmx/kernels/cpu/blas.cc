// GEMM adapter: OpenBLAS (the scipy-openblas32 wheel's scipy_-prefixed build, or a system one) for
// float32/float64, and a blocked, packed portable GEMM for builds without a BLAS and for the exact
// integer GEMM.
#include "kernels/cpu/blas.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <type_traits>
#include <vector>

#include "base/error.h"
#include "kernels/cpu/dnnl/dnnl_ops.h"
#include "op/kernel_util.h"

#if defined(MX_BLAS_SCIPY_OPENBLAS) || defined(MX_BLAS_OPENBLAS)
#include <cblas.h>
#define MX_HAVE_CBLAS 1
#if defined(MX_BLAS_SCIPY_OPENBLAS)
#define MX_CBLAS(fn) scipy_cblas_##fn
#define MX_BLAS_SET_THREADS scipy_openblas_set_num_threads
#else
#define MX_CBLAS(fn) cblas_##fn
#define MX_BLAS_SET_THREADS openblas_set_num_threads
#endif
#endif

// The portable micro-kernels are also compiled for AVX2+FMA and picked at load time where the
// toolchain supports function multi-versioning.
// (x86-64-v3 = AVX2 + FMA, dispatched on CPU features rather than on the CPU model.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && __GNUC__ >= 12
#define MX_GEMM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define MX_GEMM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MX_GEMM_CLONES
#endif

namespace mx {

const char* blas_name() {
#ifdef MX_BLAS_NAME
  return MX_BLAS_NAME;
#elif defined(MX_HAVE_CBLAS)
  return "openblas";
#else
  return "none";
#endif
}

namespace {

// Below this many multiply-adds per matrix a batched GEMM runs one matrix per thread (OpenBLAS
// itself stays single-threaded below 4 * 65536, so concurrent calls do not contend).
constexpr int64_t kSmallGemmMNK = int64_t(1) << 18;

// ------------------------------------------------------------------ portable GEMM
template <typename T> struct Tile;
template <> struct Tile<float> { static constexpr int MR = 6, NR = 16; };
template <> struct Tile<double> { static constexpr int MR = 6, NR = 8; };
template <> struct Tile<uint64_t> { static constexpr int MR = 4, NR = 4; };

constexpr int64_t kKC = 256;   // depth of a packed block
constexpr int64_t kMC = 96;    // rows of A per task (a multiple of every MR)
constexpr int64_t kNC = 2048;  // columns of B per packed block

// out[MR x NR] = sum_k a[k][i] * b[k][j] over packed panels. The float kernels hold the MR x NR
// accumulator tile in 32-byte vectors (two per row): 12 registers on AVX2.
typedef float f32x8 __attribute__((vector_size(32)));
typedef double f64x4 __attribute__((vector_size(32)));

template <typename V, typename T, int MR, int NR>
inline __attribute__((always_inline)) void micro_vec(int64_t kc, const T* __restrict a, const T* __restrict b,
                                                     T* __restrict out) {
  constexpr int L = static_cast<int>(sizeof(V) / sizeof(T));
  constexpr int NV = NR / L;
  V c[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) c[i][v] = V{};
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) std::memcpy(&bv[v], b + k * NR + v * L, sizeof(V));
    const T* ak = a + k * MR;
    for (int i = 0; i < MR; ++i) {
      const T ai = ak[i];
      for (int v = 0; v < NV; ++v) c[i][v] += ai * bv[v];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) std::memcpy(out + i * NR + v * L, &c[i][v], sizeof(V));
}

MX_GEMM_CLONES void micro_f32(int64_t kc, const float* a, const float* b, float* out) {
  micro_vec<f32x8, float, Tile<float>::MR, Tile<float>::NR>(kc, a, b, out);
}
MX_GEMM_CLONES void micro_f64(int64_t kc, const double* a, const double* b, double* out) {
  micro_vec<f64x4, double, Tile<double>::MR, Tile<double>::NR>(kc, a, b, out);
}
void micro_u64(int64_t kc, const uint64_t* a, const uint64_t* b, uint64_t* out) {
  constexpr int MR = Tile<uint64_t>::MR, NR = Tile<uint64_t>::NR;
  uint64_t c[MR * NR] = {};
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * NR + j] += a[k * MR + i] * b[k * NR + j];
  for (int x = 0; x < MR * NR; ++x) out[x] = c[x];
}
inline void micro(int64_t kc, const float* a, const float* b, float* out) { micro_f32(kc, a, b, out); }
inline void micro(int64_t kc, const double* a, const double* b, double* out) { micro_f64(kc, a, b, out); }
inline void micro(int64_t kc, const uint64_t* a, const uint64_t* b, uint64_t* out) { micro_u64(kc, a, b, out); }

// Packs rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into MR-row panels, zero-padded.
template <typename T>
void pack_a(bool ta, const T* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* Ap) {
  constexpr int MR = Tile<T>::MR;
  for (int64_t ip = 0; ip * MR < mc; ++ip) {
    T* dst = Ap + ip * kc * MR;
    const int64_t rows = std::min<int64_t>(MR, mc - ip * MR);
    const int64_t r0 = i0 + ip * MR;
    if (!ta) {
      for (int64_t ii = 0; ii < rows; ++ii) {
        const T* src = A + (r0 + ii) * lda + p0;
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + ii] = src[k];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = A + (p0 + k) * lda + r0;
        for (int64_t ii = 0; ii < rows; ++ii) dst[k * MR + ii] = src[ii];
      }
    }
    for (int64_t ii = rows; ii < MR; ++ii)
      for (int64_t k = 0; k < kc; ++k) dst[k * MR + ii] = T(0);
  }
}

// Packs depth [p0, p0+kc) x columns [j0+jp0*NR, ...) of op(B) panels [jp0, jp1) into NR-column
// panels, zero-padded.
template <typename T>
void pack_b(bool tb, const T* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int64_t jp0,
            int64_t jp1, T* Bp) {
  constexpr int NR = Tile<T>::NR;
  for (int64_t jp = jp0; jp < jp1; ++jp) {
    T* dst = Bp + jp * kc * NR;
    const int64_t cols = std::min<int64_t>(NR, nc - jp * NR);
    const int64_t c0 = j0 + jp * NR;
    if (!tb) {
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = B + (p0 + k) * ldb + c0;
        T* d = dst + k * NR;
        for (int64_t jj = 0; jj < cols; ++jj) d[jj] = src[jj];
        for (int64_t jj = cols; jj < NR; ++jj) d[jj] = T(0);
      }
    } else {
      for (int64_t jj = 0; jj < cols; ++jj) {
        const T* src = B + (c0 + jj) * ldb + p0;
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + jj] = src[k];
      }
      for (int64_t jj = cols; jj < NR; ++jj)
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + jj] = T(0);
    }
  }
}

template <typename T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc, bool parallel) {
  if (beta == T(1)) return;
  auto rows = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T* c = C + i * ldc;
      if (beta == T(0)) {
        for (int64_t j = 0; j < N; ++j) c[j] = T(0);
      } else {
        for (int64_t j = 0; j < N; ++j) c[j] *= beta;
      }
    }
  };
  if (parallel) parallel_range(M, rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(N, 1)));
  else rows(0, M);
}

template <typename T>
void gemm_portable(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                   const T* B, int64_t ldb, T beta, T* C, int64_t ldc, bool parallel) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  if (M <= 0 || N <= 0) return;
  scale_c(M, N, beta, C, ldc, parallel);
  if (K <= 0 || alpha == T(0)) return;
  const int nt = parallel ? num_threads() : 1;
  std::vector<T> Bp(static_cast<size_t>(kKC * ((std::min(kNC, N) + NR - 1) / NR) * NR));
  const int64_t mblocks = (M + kMC - 1) / kMC;
  for (int64_t j0 = 0; j0 < N; j0 += kNC) {
    const int64_t nc = std::min(kNC, N - j0);
    const int64_t npanels = (nc + NR - 1) / NR;
    // With few row blocks, tasks also split the column panels so every thread has work.
    const int64_t groups = mblocks >= nt ? 1 : std::min<int64_t>(npanels, (nt + mblocks - 1) / mblocks);
    for (int64_t p0 = 0; p0 < K; p0 += kKC) {
      const int64_t kc = std::min(kKC, K - p0);
      T* bp = Bp.data();
      auto pack = [&](int64_t b, int64_t e) { pack_b(tb, B, ldb, p0, kc, j0, nc, b, e, bp); };
      if (parallel) parallel_range(npanels, pack, std::max<int64_t>(1, kParallelGrain / (kc * NR)));
      else pack(0, npanels);
      auto tasks = [&](int64_t tb_, int64_t te) {
        thread_local std::vector<T> Ap;
        Ap.resize(static_cast<size_t>(((kMC + MR - 1) / MR) * MR * kKC));
        T out[MR * NR];
        int64_t packed_block = -1;
        for (int64_t t = tb_; t < te; ++t) {
          const int64_t ib = t / groups, g = t % groups;
          const int64_t i0 = ib * kMC, mc = std::min(kMC, M - i0);
          if (packed_block != ib) {
            pack_a(ta, A, lda, i0, mc, p0, kc, Ap.data());
            packed_block = ib;
          }
          const int64_t jp_begin = npanels * g / groups, jp_end = npanels * (g + 1) / groups;
          for (int64_t jp = jp_begin; jp < jp_end; ++jp) {
            const int64_t cols = std::min<int64_t>(NR, nc - jp * NR);
            for (int64_t ip = 0; ip * MR < mc; ++ip) {
              const int64_t rows = std::min<int64_t>(MR, mc - ip * MR);
              micro(kc, Ap.data() + ip * kc * MR, bp + jp * kc * NR, out);
              T* c = C + (i0 + ip * MR) * ldc + j0 + jp * NR;
              for (int64_t ii = 0; ii < rows; ++ii)
                for (int64_t jj = 0; jj < cols; ++jj) c[ii * ldc + jj] += alpha * out[ii * NR + jj];
            }
          }
        }
      };
      if (parallel) parallel_range(mblocks * groups, tasks, 1);
      else tasks(0, mblocks * groups);
    }
  }
}

// ------------------------------------------------------------------ BLAS dispatch
#ifdef MX_HAVE_CBLAS
// OpenBLAS keeps one global thread count: set it when MX's differs from what was last set.
void sync_blas_threads() {
  static std::atomic<int> last{0};
  const int nt = num_threads();
  if (last.load(std::memory_order_relaxed) != nt) {
    MX_BLAS_SET_THREADS(nt);
    last.store(nt, std::memory_order_relaxed);
  }
}

inline void cblas_call(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                       const float* B, int ldb, float beta, float* C, int ldc) {
  MX_CBLAS(sgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                  A, lda, B, ldb, beta, C, ldc);
}
inline void cblas_call(bool ta, bool tb, int M, int N, int K, double alpha, const double* A, int lda,
                       const double* B, int ldb, double beta, double* C, int ldc) {
  MX_CBLAS(dgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                  A, lda, B, ldb, beta, C, ldc);
}

// The BLAS indexes with 32-bit ints: M, N and K are cut into pieces below INT_MAX (K pieces
// accumulate with beta = 1). Leading dimensions cannot be cut: those GEMMs take the portable path.
template <typename T>
bool gemm_blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
               int64_t ldb, T beta, T* C, int64_t ldc) {
  if (lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX) return false;
  // lda etc. must be >= 1 for the BLAS even when a dimension is 1.
  const int64_t kPiece = int64_t(1) << 30;
  for (int64_t m0 = 0; m0 < M; m0 += kPiece) {
    const int64_t m = std::min(kPiece, M - m0);
    for (int64_t n0 = 0; n0 < N; n0 += kPiece) {
      const int64_t n = std::min(kPiece, N - n0);
      for (int64_t k0 = 0; k0 < K; k0 += kPiece) {
        const int64_t k = std::min(kPiece, K - k0);
        const T* a = ta ? A + k0 * lda + m0 : A + m0 * lda + k0;
        const T* b = tb ? B + n0 * ldb + k0 : B + k0 * ldb + n0;
        cblas_call(ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                   static_cast<int>(std::max<int64_t>(lda, 1)), b, static_cast<int>(std::max<int64_t>(ldb, 1)),
                   k0 == 0 ? beta : T(1), C + m0 * ldc + n0, static_cast<int>(std::max<int64_t>(ldc, 1)));
      }
    }
  }
  return true;
}
#endif

void check_dims(int64_t M, int64_t N, int64_t K) {
  MX_CHECK(M >= 0 && N >= 0 && K >= 0, kInvalidArgument, "gemm: negative dimension M=", M, " N=", N, " K=", K);
}

// Callers have checked the dimensions (this also runs inside parallel regions, where nothing may throw).
template <typename T>
void gemm_float(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                int64_t ldb, T beta, T* C, int64_t ldc, bool parallel) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta * C; a BLAS may not touch C at all for K == 0.
    scale_c(M, N, beta, C, ldc, parallel);
    return;
  }
  if constexpr (std::is_same<T, float>::value) {
    if (parallel && dnnl::try_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  }
#ifdef MX_HAVE_CBLAS
  if (parallel) sync_blas_threads();
  if (gemm_blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
#endif
  gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, parallel);
}

template <typename T, typename G>
void batched(int64_t batch, int64_t M, int64_t N, int64_t K, G&& one) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  const double mnk = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(std::max<int64_t>(K, 1));
  if (batch > 1 && mnk <= static_cast<double>(kSmallGemmMNK) && num_threads() > 1) {
    parallel_range(batch, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) one(i, false);
    }, std::max<int64_t>(1, static_cast<int64_t>(kParallelGrain / std::max(mnk, 1.0))));
  } else {
    for (int64_t i = 0; i < batch; ++i) one(i, true);
  }
}

}  // namespace

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  check_dims(M, N, K);
  gemm_float(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, true);
}
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  check_dims(M, N, K);
  gemm_float(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, true);
}
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t alpha, const int64_t* A, int64_t lda,
          const int64_t* B, int64_t ldb, int64_t beta, int64_t* C, int64_t ldc) {
  check_dims(M, N, K);
  // Unsigned arithmetic wraps by definition; the bit patterns equal two's-complement int64 results.
  gemm_portable<uint64_t>(ta, tb, M, N, K, static_cast<uint64_t>(alpha), reinterpret_cast<const uint64_t*>(A), lda,
                          reinterpret_cast<const uint64_t*>(B), ldb, static_cast<uint64_t>(beta),
                          reinterpret_cast<uint64_t*>(C), ldc, true);
}

void gemm_batched(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                  int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c) {
  check_dims(M, N, K);
#ifdef MX_HAVE_CBLAS
  sync_blas_threads();
#endif
  batched<float>(batch, M, N, K, [&](int64_t i, bool par) {
    gemm_float(ta, tb, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta, C + i * stride_c, ldc,
               par);
  });
}
void gemm_batched(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                  const double* A, int64_t lda, int64_t stride_a, const double* B, int64_t ldb,
                  int64_t stride_b, double beta, double* C, int64_t ldc, int64_t stride_c) {
  check_dims(M, N, K);
#ifdef MX_HAVE_CBLAS
  sync_blas_threads();
#endif
  batched<double>(batch, M, N, K, [&](int64_t i, bool par) {
    gemm_float(ta, tb, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta, C + i * stride_c, ldc,
               par);
  });
}
void gemm_batched(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, int64_t alpha,
                  const int64_t* A, int64_t lda, int64_t stride_a, const int64_t* B, int64_t ldb,
                  int64_t stride_b, int64_t beta, int64_t* C, int64_t ldc, int64_t stride_c) {
  check_dims(M, N, K);
  const auto* a = reinterpret_cast<const uint64_t*>(A);
  const auto* b = reinterpret_cast<const uint64_t*>(B);
  auto* c = reinterpret_cast<uint64_t*>(C);
  batched<uint64_t>(batch, M, N, K, [&](int64_t i, bool par) {
    gemm_portable<uint64_t>(ta, tb, M, N, K, static_cast<uint64_t>(alpha), a + i * stride_a, lda, b + i * stride_b,
                            ldb, static_cast<uint64_t>(beta), c + i * stride_c, ldc, par);
  });
}

}  // namespace mx
