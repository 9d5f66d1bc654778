// Helpers every CPU kernel uses: parallel loops and typed casts between dtypes.
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>

#include "base/dtype.h"
#include "ndarray/tblob.h"

namespace mx {

// Ops whose outputs have at most this many elements run in the pushing thread when their inputs
// are ready (dispatch to a worker costs more than the work).
constexpr int64_t kSmallOpElements = 1 << 14;
// Below this many elements a loop stays on one thread.
constexpr int64_t kParallelGrain = 1 << 15;

// Intra-op thread count (MX_NUM_THREADS, else OMP_NUM_THREADS, else the core count).
int num_threads();

// Calls f(begin, end) on disjoint chunks covering [0, n), in parallel when n >= grain.
template <typename F>
void parallel_range(int64_t n, F&& f, int64_t grain = kParallelGrain) {
  if (n <= 0) return;
  int nt = num_threads();
  if (n < grain || nt <= 1) {
    f(int64_t(0), n);
    return;
  }
  int64_t chunks = (n + grain - 1) / grain;
  if (chunks > nt) chunks = nt;
  // An exception must not leave an OpenMP region (that terminates the process): keep the first
  // one and rethrow it after the loop.
  std::exception_ptr err;
  std::atomic<bool> failed{false};
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    if (failed.load(std::memory_order_relaxed)) continue;
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    try {
      f(b, e);
    } catch (...) {
#pragma omp critical(mx_parallel_range_error)
      if (!err) err = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
  }
  if (err) std::rethrow_exception(err);
}

// Converts between element types as numpy's astype does (bool: nonzero -> true).
template <typename To, typename From>
inline To cast_value(From v) {
  using A = typename AccType<From>::type;
  return static_cast<To>(static_cast<A>(v));
}
template <>
inline bool cast_value<bool, half_t>(half_t v) { return static_cast<float>(v) != 0.0f; }
template <>
inline bool cast_value<bool, bf16_t>(bf16_t v) { return static_cast<float>(v) != 0.0f; }
template <>
inline half_t cast_value<half_t, bf16_t>(bf16_t v) { return half_t(static_cast<float>(v)); }
template <>
inline bf16_t cast_value<bf16_t, half_t>(half_t v) { return bf16_t(static_cast<float>(v)); }

// dst = src converted elementwise to dst's dtype (same number of elements).
void cast_copy(const TBlob& src, const TBlob& dst);

}  // namespace mx
