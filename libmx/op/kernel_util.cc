// Thread count and the dtype-converting copy every kernel family shares.
#include "op/kernel_util.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#ifdef MX_USE_OPENMP
#include <omp.h>
#endif

namespace mx {
namespace {

// A positive integer from the environment, or 0 when unset or not a positive number.
int env_threads(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  // OMP_NUM_THREADS may be a list ("4,2"): its first entry is the outer level.
  if (end == v || n <= 0) return 0;
  if (*end != 0 && *end != ',') return 0;
  return n > 4096 ? 4096 : static_cast<int>(n);
}

int detect_threads() {
  int n = env_threads("MX_NUM_THREADS");
  if (n > 0) return n;
  n = env_threads("OMP_NUM_THREADS");
  if (n > 0) return n;
#ifdef MX_USE_OPENMP
  n = omp_get_max_threads();
  if (n > 0) return n;
#endif
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

// double -> float rounded to odd (truncate, then set the last bit when inexact). Rounding that
// float to nearest-even in a type of at most 22 mantissa bits (half, bfloat16) equals rounding the
// double directly; plain double -> float -> half would round twice and miss some ties.
inline float round_to_odd_float(double d) {
  float f = static_cast<float>(d);
  if (std::isnan(d) || static_cast<double>(f) == d) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u |= 1u;
  std::memcpy(&f, &u, 4);
  return f;
}

template <typename To, typename From>
struct Converter {
  static To run(From v) { return cast_value<To, From>(v); }
};
// Sources wider than float going to a 16-bit float: one correct rounding.
template <typename From>
struct OddConverter {
  template <typename To>
  static To to(From v) { return To(round_to_odd_float(static_cast<double>(v))); }
};
template <> struct Converter<half_t, double> { static half_t run(double v) { return OddConverter<double>::to<half_t>(v); } };
template <> struct Converter<bf16_t, double> { static bf16_t run(double v) { return OddConverter<double>::to<bf16_t>(v); } };
template <> struct Converter<half_t, int64_t> { static half_t run(int64_t v) { return OddConverter<int64_t>::to<half_t>(v); } };
template <> struct Converter<bf16_t, int64_t> { static bf16_t run(int64_t v) { return OddConverter<int64_t>::to<bf16_t>(v); } };
template <> struct Converter<half_t, int32_t> { static half_t run(int32_t v) { return OddConverter<int32_t>::to<half_t>(v); } };
template <> struct Converter<bf16_t, int32_t> { static bf16_t run(int32_t v) { return OddConverter<int32_t>::to<bf16_t>(v); } };

template <typename To, typename From>
void cast_range(const From* src, To* dst, int64_t n) {
  parallel_range(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = Converter<To, From>::run(src[i]);
  });
}

template <typename From>
void cast_from(const From* src, const TBlob& dst, int64_t n) {
  MX_DTYPE_SWITCH(dst.dtype, To, { cast_range<To, From>(src, dst.ptr<To>(), n); });
}

}  // namespace

int num_threads() {
  // Read once: the environment is fixed for the life of the process as far as kernels go.
  static const int n = detect_threads();
  return n;
}

void cast_copy(const TBlob& src, const TBlob& dst) {
  const int64_t n = src.size();
  MX_CHECK(n == dst.size(), kShape, "cast_copy: source has ", n, " elements (shape ", src.shape.str(),
           ") but destination has ", dst.size(), " (shape ", dst.shape.str(), ")");
  if (n == 0) return;
  if (src.dtype == dst.dtype) {
    if (src.data == dst.data) return;
    const size_t es = dtype_size(src.dtype);
    const char* s = static_cast<const char*>(src.data);
    char* d = static_cast<char*>(dst.data);
    // Chunked so a large copy uses every core; each chunk is a plain memcpy.
    parallel_range(n, [&](int64_t b, int64_t e) {
      std::memcpy(d + b * es, s + b * es, static_cast<size_t>(e - b) * es);
    }, int64_t(1) << 18);
    return;
  }
  MX_DTYPE_SWITCH(src.dtype, From, { cast_from<From>(src.ptr<From>(), dst, n); });
}

}  // namespace mx
