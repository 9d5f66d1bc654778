// Binary elementwise kernels: one strided loop per (operation, dtype), shared by the same-shape,
// scalar and broadcast op forms.
//
// Semantics follow MXNet 1.x:
//  - integer arithmetic wraps (computed in the unsigned type, so overflow is defined);
//  - integer division truncates toward zero; x / 0 == 0 and x % 0 == 0 for integers (MXNet leaves
//    these undefined / crashing; we define them so nothing traps), INT_MIN / -1 wraps to INT_MIN;
//  - mod takes the sign of the divisor (numpy's rule); mod by zero is 0 for every dtype, as MXNet;
//  - integer power is exact (repeated squaring, wrapping); a negative exponent gives 1 for base 1,
//    +-1 for base -1 and 0 otherwise (the truncated value of 1 / a^n);
//  - integer hypot is the float result truncated toward zero;
//  - maximum/minimum propagate NaN; comparisons and logical ops write 1/0 in the input dtype;
//  - float16/bfloat16 compute in float and round once on store.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "op/elemwise_op.h"
#include "op/kernel_util.h"

namespace mx {
namespace elemwise {
namespace {

template <typename T>
using Acc = typename AccType<T>::type;
template <typename C>
constexpr bool kIsInt = std::is_integral<C>::value && !std::is_same<C, bool>::value;
template <typename C>
constexpr bool kIsSignedInt = kIsInt<C> && std::is_signed<C>::value;

template <typename C>
struct Unsigned { using type = std::make_unsigned_t<C>; };

// Float -> integer without undefined behaviour: truncates toward zero, then wraps modulo 2^64 and
// to C's width (as a cast from int64 does); NaN and infinities give 0.
template <typename C>
inline C int_from_double(double v) {
  if (!std::isfinite(v)) return C(0);
  const double t = std::trunc(v);
  const double two63 = 9223372036854775808.0, two64 = 18446744073709551616.0;
  if (t > -two63 && t < two63) return static_cast<C>(static_cast<int64_t>(t));
  // |t| >= 2^63: t is a multiple of 2^11, so these steps are exact.
  double m = std::fmod(t, two64);
  if (m < 0) m += two64;
  return static_cast<C>(static_cast<uint64_t>(m));
}

template <typename C>
inline C ipow(C base, C e) {
  if constexpr (std::is_signed<C>::value) {
    if (e < 0) {
      if (base == C(1)) return C(1);
      if (base == C(-1)) return (e & 1) ? C(-1) : C(1);
      return C(0);
    }
  }
  using U = typename Unsigned<C>::type;
  U r = 1, x = static_cast<U>(base);
  auto n = static_cast<U>(e);
  while (n) {
    if (n & 1u) r = static_cast<U>(r * x);
    x = static_cast<U>(x * x);
    n = static_cast<U>(n >> 1);
  }
  return static_cast<C>(r);
}

// Each functor: static C apply(C a, C b) on the compute type; kBool says whether it runs on bool.
struct Add {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (kIsInt<C>) {
      using U = typename Unsigned<C>::type;
      return static_cast<C>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
    } else {
      return a + b;
    }
  }
};
struct Sub {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (kIsInt<C>) {
      using U = typename Unsigned<C>::type;
      return static_cast<C>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
    } else {
      return a - b;
    }
  }
};
struct Mul {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (kIsInt<C>) {
      using U = typename Unsigned<C>::type;
      return static_cast<C>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
    } else {
      return a * b;
    }
  }
};
struct Div {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (kIsInt<C>) {
      if (b == C(0)) return C(0);
      if constexpr (kIsSignedInt<C>) {
        using U = typename Unsigned<C>::type;
        if (b == C(-1)) return static_cast<C>(static_cast<U>(U(0) - static_cast<U>(a)));
      }
      return static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
};
struct Mod {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (kIsInt<C>) {
      if (b == C(0)) return C(0);
      if constexpr (kIsSignedInt<C>) {
        if (b == C(-1)) return C(0);
        C r = static_cast<C>(a % b);
        if (r != C(0) && ((r < C(0)) != (b < C(0)))) r = static_cast<C>(r + b);
        return r;
      } else {
        return static_cast<C>(a % b);
      }
    } else {
      if (b == C(0)) return C(0);
      C r = std::fmod(a, b);
      if (r != C(0)) {
        if ((r < C(0)) != (b < C(0))) r += b;
      } else {
        r = std::copysign(C(0), b);
      }
      return r;
    }
  }
};
struct Power {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (kIsInt<C>) return ipow(a, b);
    else return std::pow(a, b);
  }
};
struct Maximum {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (!kIsInt<C>) {
      if (a != a) return a;  // NaN propagates (a NaN b fails a > b and yields b)
    }
    return a > b ? a : b;
  }
};
struct Minimum {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (!kIsInt<C>) {
      if (a != a) return a;
    }
    return a < b ? a : b;
  }
};
struct Hypot {
  static constexpr bool kBool = false;
  template <typename C>
  static C apply(C a, C b) {
    if constexpr (kIsInt<C>) {
      return int_from_double<C>(std::hypot(static_cast<double>(a), static_cast<double>(b)));
    } else {
      return std::hypot(a, b);
    }
  }
};

#define MX_ELEMWISE_CMP(Name, expr)        \
  struct Name {                            \
    static constexpr bool kBool = true;    \
    template <typename C>                  \
    static C apply(C a, C b) {             \
      return (expr) ? C(1) : C(0);         \
    }                                      \
  };
MX_ELEMWISE_CMP(Equal, a == b)
MX_ELEMWISE_CMP(NotEqual, a != b)
MX_ELEMWISE_CMP(Greater, a > b)
MX_ELEMWISE_CMP(GreaterEqual, a >= b)
MX_ELEMWISE_CMP(Lesser, a < b)
MX_ELEMWISE_CMP(LesserEqual, a <= b)
MX_ELEMWISE_CMP(LogicalAnd, a != C(0) && b != C(0))
MX_ELEMWISE_CMP(LogicalOr, a != C(0) || b != C(0))
MX_ELEMWISE_CMP(LogicalXor, (a != C(0)) != (b != C(0)))
#undef MX_ELEMWISE_CMP

// The strided kernel. Each (sa, sb) shape gets its own inner loop so each vectorises.
template <typename OP, typename T>
void binary_rows_impl(const void* pa, int64_t a_row, int64_t sa, const void* pb, int64_t b_row, int64_t sb,
                      void* po, int64_t rows, int64_t n) {
  using C = Acc<T>;
  const T* a = static_cast<const T*>(pa);
  const T* b = static_cast<const T*>(pb);
  T* o = static_cast<T*>(po);
  if (sa && sb) {
    for (int64_t r = 0; r < rows; ++r, a += a_row, b += b_row, o += n)
      for (int64_t i = 0; i < n; ++i) o[i] = T(OP::template apply<C>(C(a[i]), C(b[i])));
  } else if (sa) {
    for (int64_t r = 0; r < rows; ++r, a += a_row, b += b_row, o += n) {
      const C bv = C(b[0]);
      for (int64_t i = 0; i < n; ++i) o[i] = T(OP::template apply<C>(C(a[i]), bv));
    }
  } else if (sb) {
    for (int64_t r = 0; r < rows; ++r, a += a_row, b += b_row, o += n) {
      const C av = C(a[0]);
      for (int64_t i = 0; i < n; ++i) o[i] = T(OP::template apply<C>(av, C(b[i])));
    }
  } else {
    for (int64_t r = 0; r < rows; ++r, a += a_row, b += b_row, o += n) {
      const T v = T(OP::template apply<C>(C(a[0]), C(b[0])));
      for (int64_t i = 0; i < n; ++i) o[i] = v;
    }
  }
}

// Slot of a dtype in the kernel table (MXNet's flags are 0..7 and 12).
constexpr int kSlots = 9;
inline int dtype_slot(DType t) {
  switch (t) {
    case DType::kFloat32: return 0;
    case DType::kFloat64: return 1;
    case DType::kFloat16: return 2;
    case DType::kUInt8: return 3;
    case DType::kInt32: return 4;
    case DType::kInt8: return 5;
    case DType::kInt64: return 6;
    case DType::kBool: return 7;
    case DType::kBFloat16: return 8;
  }
  return -1;
}

struct KernelTable {
  BinaryRowsFn rows[static_cast<int>(BinaryKind::kCount)][kSlots] = {};

  template <typename OP, typename T>
  void put(BinaryKind k, int slot) {
    rows[int(k)][slot] = &binary_rows_impl<OP, T>;
  }
  template <typename OP>
  void fill(BinaryKind k) {
    put<OP, float>(k, 0);
    put<OP, double>(k, 1);
    put<OP, half_t>(k, 2);
    put<OP, uint8_t>(k, 3);
    put<OP, int32_t>(k, 4);
    put<OP, int8_t>(k, 5);
    put<OP, int64_t>(k, 6);
    if constexpr (OP::kBool) put<OP, bool>(k, 7);
    put<OP, bf16_t>(k, 8);
  }

  KernelTable() {
    fill<Add>(BinaryKind::kAdd);
    fill<Sub>(BinaryKind::kSub);
    fill<Mul>(BinaryKind::kMul);
    fill<Div>(BinaryKind::kDiv);
    fill<Mod>(BinaryKind::kMod);
    fill<Power>(BinaryKind::kPower);
    fill<Maximum>(BinaryKind::kMaximum);
    fill<Minimum>(BinaryKind::kMinimum);
    fill<Hypot>(BinaryKind::kHypot);
    fill<Equal>(BinaryKind::kEqual);
    fill<NotEqual>(BinaryKind::kNotEqual);
    fill<Greater>(BinaryKind::kGreater);
    fill<GreaterEqual>(BinaryKind::kGreaterEqual);
    fill<Lesser>(BinaryKind::kLesser);
    fill<LesserEqual>(BinaryKind::kLesserEqual);
    fill<LogicalAnd>(BinaryKind::kLogicalAnd);
    fill<LogicalOr>(BinaryKind::kLogicalOr);
    fill<LogicalXor>(BinaryKind::kLogicalXor);
  }
};

const KernelTable& table() {
  static const KernelTable t;
  return t;
}

}  // namespace

int64_t binary_grain(BinaryKind k) {
  switch (k) {
    case BinaryKind::kDiv:
    case BinaryKind::kMod:
    case BinaryKind::kPower:
    case BinaryKind::kHypot:
      return kParallelGrain / 8;
    default:
      return kParallelGrain;
  }
}

bool binary_kind_allows_bool(BinaryKind k) {
  return static_cast<int>(k) >= static_cast<int>(BinaryKind::kEqual);
}

std::vector<DType> binary_dtypes(BinaryKind k) {
  std::vector<DType> v = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                          DType::kUInt8,   DType::kInt8,    DType::kInt32,   DType::kInt64};
  if (binary_kind_allows_bool(k)) v.push_back(DType::kBool);
  return v;
}

namespace {
int checked_slot(BinaryKind k, DType t) {
  const int kind = static_cast<int>(k);
  const int slot = dtype_slot(t);
  MX_CHECK(kind >= 0 && kind < static_cast<int>(BinaryKind::kCount), kInternal, "bad binary kind ", kind);
  MX_CHECK(slot >= 0, kDType, "unknown dtype flag ", static_cast<int>(t));
  MX_CHECK(table().rows[kind][slot] != nullptr, kDType, "this operator does not support dtype ", dtype_name(t));
  return slot;
}
}  // namespace

BinaryRowsFn binary_rows(BinaryKind k, DType t) {
  const int slot = checked_slot(k, t);
  return table().rows[static_cast<int>(k)][slot];
}

void binary_same_shape(BinaryKind k, const TBlob& a, const TBlob& b, const TBlob& out) {
  const int64_t n = out.size();
  MX_CHECK(a.size() == n && b.size() == n, kShape, "elementwise operands have ", a.size(), " and ",
           b.size(), " elements, output ", n);
  if (n == 0) return;
  BinaryRowsFn fn = binary_rows(k, a.dtype);
  const size_t es = dtype_size(a.dtype);
  const char* pa = static_cast<const char*>(a.data);
  const char* pb = static_cast<const char*>(b.data);
  char* po = static_cast<char*>(out.data);
  parallel_range(
      n, [&](int64_t s, int64_t e) { fn(pa + s * es, 0, 1, pb + s * es, 0, 1, po + s * es, 1, e - s); },
      binary_grain(k));
}

void binary_scalar(BinaryKind k, bool reverse, const TBlob& a, double scalar, const TBlob& out) {
  const int64_t n = out.size();
  MX_CHECK(a.size() == n, kShape, "scalar op input has ", a.size(), " elements, output ", n);
  if (n == 0) return;
  BinaryRowsFn fn = binary_rows(k, a.dtype);
  alignas(8) unsigned char buf[8];
  scalar_to_dtype(scalar, a.dtype, buf);
  const size_t es = dtype_size(a.dtype);
  const char* pa = static_cast<const char*>(a.data);
  char* po = static_cast<char*>(out.data);
  parallel_range(
      n,
      [&](int64_t s, int64_t e) {
        if (reverse) fn(buf, 0, 0, pa + s * es, 0, 1, po + s * es, 1, e - s);
        else fn(pa + s * es, 0, 1, buf, 0, 0, po + s * es, 1, e - s);
      },
      binary_grain(k));
}

void scalar_to_dtype(double v, DType t, void* dst) {
  switch (t) {
    case DType::kFloat32: { float x = static_cast<float>(v); std::memcpy(dst, &x, sizeof x); break; }
    case DType::kFloat64: std::memcpy(dst, &v, sizeof v); break;
    case DType::kFloat16: { half_t x(static_cast<float>(v)); std::memcpy(dst, &x, sizeof x); break; }
    case DType::kBFloat16: { bf16_t x(static_cast<float>(v)); std::memcpy(dst, &x, sizeof x); break; }
    case DType::kUInt8: { uint8_t x = int_from_double<uint8_t>(v); std::memcpy(dst, &x, sizeof x); break; }
    case DType::kInt8: { int8_t x = int_from_double<int8_t>(v); std::memcpy(dst, &x, sizeof x); break; }
    case DType::kInt32: { int32_t x = int_from_double<int32_t>(v); std::memcpy(dst, &x, sizeof x); break; }
    case DType::kInt64: { int64_t x = int_from_double<int64_t>(v); std::memcpy(dst, &x, sizeof x); break; }
    case DType::kBool: { bool x = (v != 0.0); std::memcpy(dst, &x, sizeof x); break; }
    default: MX_THROW(kDType, "unknown dtype flag ", static_cast<int>(t));
  }
}

}  // namespace elemwise
}  // namespace mx
