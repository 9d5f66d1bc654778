// GEMM for CPU kernels: a real BLAS for float32/float64 when the build links one, else a blocked
// portable GEMM; exact wrapping integer GEMM for the integer dtypes.
//
// Matrices are row-major (C order). With ta == false, A is M x K (element (i, k) at A[i*lda + k]);
// with ta == true, A is stored K x M and used transposed (element (i, k) at A[k*lda + i]). B is
// K x N, or N x K stored when tb. C (M x N, element (i, j) at C[i*ldc + j]) becomes
// alpha * op(A) op(B) + beta * C; with beta == 0, C is not read (it may hold garbage or NaN).
//
// Threads: multi-threaded calls use num_threads() (MX_NUM_THREADS) threads, the BLAS included.
// Dimensions are int64: a BLAS with 32-bit indices gets the work split into pieces it can index.
#pragma once
#include <cstdint>

namespace mx {

// Which GEMM backs float32/float64: "scipy_openblas32", "openblas" or "none" (the portable GEMM).
const char* blas_name();

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc);
// Integer GEMM in two's-complement int64 arithmetic (products and sums wrap modulo 2^64, which is
// what a cast of the exact result to a narrower integer type needs).
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t alpha, const int64_t* A, int64_t lda,
          const int64_t* B, int64_t ldb, int64_t beta, int64_t* C, int64_t ldc);

// `batch` independent GEMMs of the same geometry: matrix b of A starts at A + b * stride_a (likewise
// B and C). Small matrices run in parallel across the batch, large ones one after another with
// every thread on each.
void gemm_batched(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
                  int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c);
void gemm_batched(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                  const double* A, int64_t lda, int64_t stride_a, const double* B, int64_t ldb,
                  int64_t stride_b, double beta, double* C, int64_t ldc, int64_t stride_c);
void gemm_batched(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, int64_t alpha,
                  const int64_t* A, int64_t lda, int64_t stride_a, const int64_t* B, int64_t ldb,
                  int64_t stride_b, int64_t beta, int64_t* C, int64_t ldc, int64_t stride_c);

}  // namespace mx
