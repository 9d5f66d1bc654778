// Unary elementwise ops (input "data", output of the same shape and dtype), plus clip and _copy.
//
// Float-only math (exp, log, trig, ...) declares the four float dtypes. Rounding, sign, abs,
// negative, square, relu and clip also run on integers (rounding is the identity there; integer
// negation and squaring wrap). logical_not and _copy run on every dtype; logical_not writes 1/0
// in the input dtype, as MXNet 1.x does.
//
// MXNet's rounding rules are kept: round() rounds halves away from zero, rint() rounds a half
// down to the lower integer (rint(1.5) == 1, rint(-1.5) == -2).
#include <cmath>

#include "op/simd_math.h"
#include <cstring>
#include <type_traits>

#include "op/elemwise_op.h"
#include "op/kernel_util.h"
#include "op/registry.h"


namespace mx {
namespace {

template <typename T>
using Acc = typename AccType<T>::type;
template <typename C>
constexpr bool kIsInt = std::is_integral<C>::value && !std::is_same<C, bool>::value;

// Which dtypes a functor runs on.
enum DTypeSet { kFloatSet = 0, kNumericSet = 1, kAllSet = 2 };

std::vector<DType> dtypes_of(DTypeSet s) {
  std::vector<DType> v = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};
  if (s >= kNumericSet) {
    for (DType t : {DType::kUInt8, DType::kInt8, DType::kInt32, DType::kInt64}) v.push_back(t);
  }
  if (s >= kAllSet) v.push_back(DType::kBool);
  return v;
}

template <typename C>
inline C wrap_neg(C a) {
  using U = std::make_unsigned_t<C>;
  return static_cast<C>(static_cast<U>(U(0) - static_cast<U>(a)));
}

// A float-only functor: static C apply(C x) with C float or double. kCostly picks smaller thread
// chunks.
#define MX_UNARY_FLOAT(Name, expr)             \
  struct Name {                                \
    static constexpr DTypeSet kSet = kFloatSet; \
    static constexpr bool kCostly = true;      \
    template <typename C>                      \
    static C apply(C x) {                      \
      return (expr);                           \
    }                                          \
  };
MX_UNARY_FLOAT(Reciprocal, C(1) / x)
MX_UNARY_FLOAT(Exp, std::exp(x))
MX_UNARY_FLOAT(Log, std::log(x))
MX_UNARY_FLOAT(Log1p, std::log1p(x))
MX_UNARY_FLOAT(Expm1, std::expm1(x))
MX_UNARY_FLOAT(Sqrt, std::sqrt(x))
MX_UNARY_FLOAT(Rsqrt, C(1) / std::sqrt(x))
MX_UNARY_FLOAT(Cbrt, std::cbrt(x))
MX_UNARY_FLOAT(Sin, std::sin(x))
MX_UNARY_FLOAT(Cos, std::cos(x))
MX_UNARY_FLOAT(Tan, std::tan(x))
MX_UNARY_FLOAT(Arcsin, std::asin(x))
MX_UNARY_FLOAT(Arccos, std::acos(x))
MX_UNARY_FLOAT(Arctan, std::atan(x))
MX_UNARY_FLOAT(Sinh, std::sinh(x))
MX_UNARY_FLOAT(Cosh, std::cosh(x))
MX_UNARY_FLOAT(Tanh, std::tanh(x))
MX_UNARY_FLOAT(Sigmoid, C(1) / (C(1) + std::exp(-x)))
MX_UNARY_FLOAT(Softsign, x / (C(1) + std::fabs(x)))
MX_UNARY_FLOAT(Erf, std::erf(x))
#undef MX_UNARY_FLOAT

// Functors that also run on integers: float_expr for floats, int_expr for integer types.
#define MX_UNARY_NUMERIC(Name, float_expr, int_expr) \
  struct Name {                                      \
    static constexpr DTypeSet kSet = kNumericSet;    \
    static constexpr bool kCostly = false;           \
    template <typename C>                            \
    static C apply(C x) {                            \
      if constexpr (kIsInt<C>) {                     \
        return (int_expr);                           \
      } else {                                       \
        return (float_expr);                         \
      }                                              \
    }                                                \
  };
MX_UNARY_NUMERIC(Abs, std::fabs(x), (std::is_signed<C>::value && x < C(0)) ? wrap_neg(x) : x)
MX_UNARY_NUMERIC(Negative, -x, wrap_neg(x))
MX_UNARY_NUMERIC(Square, x * x,
                 static_cast<C>(static_cast<std::make_unsigned_t<C>>(
                     static_cast<std::make_unsigned_t<C>>(x) * static_cast<std::make_unsigned_t<C>>(x))))
MX_UNARY_NUMERIC(Relu, (x != x || x > C(0)) ? x : C(0), x > C(0) ? x : C(0))
MX_UNARY_NUMERIC(Floor, std::floor(x), x)
MX_UNARY_NUMERIC(Ceil, std::ceil(x), x)
MX_UNARY_NUMERIC(Round, std::round(x), x)
MX_UNARY_NUMERIC(Trunc, std::trunc(x), x)
MX_UNARY_NUMERIC(Rint, (x - std::floor(x)) <= (std::ceil(x) - x) ? std::floor(x) : std::ceil(x), x)
MX_UNARY_NUMERIC(Sign, x != x ? x : (x < C(0) ? C(-1) : (x > C(0) ? C(1) : C(0))),
                 (std::is_signed<C>::value && x < C(0)) ? C(-1) : (x > C(0) ? C(1) : C(0)))
#undef MX_UNARY_NUMERIC

struct LogicalNot {
  static constexpr DTypeSet kSet = kAllSet;
  static constexpr bool kCostly = false;
  template <typename C>
  static C apply(C x) {
    return x == C(0) ? C(1) : C(0);
  }
};

using UnaryLoopFn = void (*)(const void* in, void* out, int64_t n);

template <typename OP, typename T>
void unary_loop(const void* pi, void* po, int64_t n) {
#ifdef MX_HAVE_LIBMVEC
  // float transcendentals evaluate in double: GCC maps the double functions onto libmvec's
  // vector variants here (not the float ones), which is still ~10x the scalar float calls.
  using C = std::conditional_t<OP::kCostly && std::is_same<T, float>::value, double, Acc<T>>;
#else
  using C = Acc<T>;
#endif
  const T* x = static_cast<const T*>(pi);
  T* o = static_cast<T*>(po);
  for (int64_t i = 0; i < n; ++i) o[i] = T(OP::template apply<C>(C(x[i])));
}

template <typename OP>
UnaryLoopFn pick_loop(const OpDef& op, DType t) {
  switch (t) {
    case DType::kFloat32: return &unary_loop<OP, float>;
    case DType::kFloat64: return &unary_loop<OP, double>;
    case DType::kFloat16: return &unary_loop<OP, half_t>;
    case DType::kBFloat16: return &unary_loop<OP, bf16_t>;
    default: break;
  }
  if constexpr (OP::kSet >= kNumericSet) {
    switch (t) {
      case DType::kUInt8: return &unary_loop<OP, uint8_t>;
      case DType::kInt8: return &unary_loop<OP, int8_t>;
      case DType::kInt32: return &unary_loop<OP, int32_t>;
      case DType::kInt64: return &unary_loop<OP, int64_t>;
      default: break;
    }
  }
  if constexpr (OP::kSet >= kAllSet) {
    if (t == DType::kBool) return &unary_loop<OP, bool>;
  }
  MX_THROW(kDType, "operator ", op.name(), " does not support dtype ", dtype_name(t));
}

template <typename OP>
void unary_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                   const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  MX_CHECK(x.size() == y.size() && x.dtype == y.dtype, kInternal, "operator ", p.op().name(),
           ": output does not match the input");
  const int64_t n = y.size();
  if (n == 0) return;
  UnaryLoopFn fn = pick_loop<OP>(p.op(), x.dtype);
  const size_t es = dtype_size(x.dtype);
  const char* px = static_cast<const char*>(x.data);
  char* py = static_cast<char*>(y.data);
  parallel_range(
      n, [&](int64_t s, int64_t e) { fn(px + s * es, py + s * es, e - s); },
      OP::kCostly ? kParallelGrain / 8 : kParallelGrain);
}

void copy_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                  const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  MX_CHECK(x.nbytes() == y.nbytes(), kInternal, "operator ", p.op().name(), ": output does not match the input");
  if (x.data == y.data || y.nbytes() == 0) return;
  const size_t es = dtype_size(x.dtype);
  const char* px = static_cast<const char*>(x.data);
  char* py = static_cast<char*>(y.data);
  parallel_range(y.size(), [&](int64_t s, int64_t e) {
    std::memcpy(py + s * es, px + s * es, static_cast<size_t>(e - s) * es);
  }, kParallelGrain * 4);
}

// clip: MXNet's rule, x > a_max -> a_max, else x < a_min -> a_min, else x (NaN passes through).
// The bounds are first converted to the array's dtype, as MXNet's DType(a_min).
template <typename T>
void clip_loop(const T* x, T* o, int64_t n, T lo_t, T hi_t) {
  using C = Acc<T>;
  const C lo = C(lo_t), hi = C(hi_t);
  for (int64_t i = 0; i < n; ++i) {
    C v = C(x[i]);
    o[i] = T(v > hi ? hi : (v < lo ? lo : v));
  }
}

void clip_compute(const OpContext&, const Params& p, const std::vector<TBlob>& in,
                  const std::vector<TBlob>& out) {
  const TBlob& x = in[0];
  const TBlob& y = out[0];
  const int64_t n = y.size();
  if (n == 0) return;
  const double a_min = p.get_float("a_min"), a_max = p.get_float("a_max");
  MX_CHECK(x.dtype != DType::kBool, kDType, "operator clip does not support dtype bool");
  MX_DTYPE_SWITCH(x.dtype, T, {
    T lo, hi;
    elemwise::scalar_to_dtype(a_min, x.dtype, &lo);
    elemwise::scalar_to_dtype(a_max, x.dtype, &hi);
    const T* px = x.ptr<T>();
    T* py = y.ptr<T>();
    parallel_range(n, [&](int64_t s, int64_t e) { clip_loop<T>(px + s, py + s, e - s, lo, hi); });
  });
}

}  // namespace

#define MX_UNARY_OP(name, Functor)                 \
  MX_REGISTER_OP(name)                             \
      .input("data")                               \
      .infer_shape(infer_same_shape)               \
      .dtypes(dtypes_of(Functor::kSet))            \
      .cpu(unary_compute<Functor>)                 \
      .inplace({{0, 0}})                           \
      .differentiable(false)

MX_UNARY_OP(abs, Abs).describe("Absolute value, elementwise: abs(x) = |x|.");
MX_UNARY_OP(negative, Negative).describe("Numerical negative, elementwise: negative(x) = -x.");
MX_UNARY_OP(reciprocal, Reciprocal).describe("Reciprocal, elementwise: reciprocal(x) = 1/x.");
MX_UNARY_OP(exp, Exp).describe("Exponential, elementwise: exp(x) = e^x.");
MX_UNARY_OP(log, Log).describe("Natural logarithm, elementwise.");
MX_UNARY_OP(log1p, Log1p).describe("log(1 + x), elementwise, accurate for small x.");
MX_UNARY_OP(expm1, Expm1).describe("exp(x) - 1, elementwise, accurate for small x.");
MX_UNARY_OP(sqrt, Sqrt).describe("Square root, elementwise.");
MX_UNARY_OP(rsqrt, Rsqrt).describe("Reciprocal square root, elementwise: rsqrt(x) = 1/sqrt(x).");
MX_UNARY_OP(square, Square).describe("Square, elementwise: square(x) = x*x.");
MX_UNARY_OP(cbrt, Cbrt).describe("Cube root, elementwise.");
MX_UNARY_OP(sin, Sin).describe("Sine (radians), elementwise.");
MX_UNARY_OP(cos, Cos).describe("Cosine (radians), elementwise.");
MX_UNARY_OP(tan, Tan).describe("Tangent (radians), elementwise.");
MX_UNARY_OP(arcsin, Arcsin).describe("Inverse sine, elementwise; NaN outside [-1, 1].");
MX_UNARY_OP(arccos, Arccos).describe("Inverse cosine, elementwise; NaN outside [-1, 1].");
MX_UNARY_OP(arctan, Arctan).describe("Inverse tangent, elementwise.");
MX_UNARY_OP(sinh, Sinh).describe("Hyperbolic sine, elementwise.");
MX_UNARY_OP(cosh, Cosh).describe("Hyperbolic cosine, elementwise.");
MX_UNARY_OP(tanh, Tanh).describe("Hyperbolic tangent, elementwise.");
MX_UNARY_OP(sigmoid, Sigmoid).describe("Logistic sigmoid, elementwise: 1 / (1 + exp(-x)).");
MX_UNARY_OP(relu, Relu).describe("Rectified linear unit, elementwise: max(x, 0); NaN stays NaN.");
MX_UNARY_OP(softsign, Softsign).describe("Softsign, elementwise: x / (1 + |x|).");
MX_UNARY_OP(erf, Erf).describe("Gauss error function, elementwise.");
MX_UNARY_OP(floor, Floor).describe("Largest integer not above x, elementwise.");
MX_UNARY_OP(ceil, Ceil).describe("Smallest integer not below x, elementwise.");
MX_UNARY_OP(round, Round).describe("Nearest integer, elementwise; halves round away from zero.");
MX_UNARY_OP(rint, Rint).describe(
    "Nearest integer, elementwise; a value exactly halfway rounds down (rint(1.5) = 1, rint(-1.5) = -2), "
    "as MXNet's rint.");
MX_UNARY_OP(trunc, Trunc).describe("Integer part (rounds toward zero), elementwise.");
MX_UNARY_OP(sign, Sign).describe("Sign, elementwise: -1, 0 or 1 (NaN stays NaN).");
MX_UNARY_OP(logical_not, LogicalNot).describe(
    "Logical not, elementwise: 1 where x == 0, else 0, in the input dtype.");

MX_REGISTER_OP(_copy)
    .alias("identity")
    .describe("Returns a copy of the input.")
    .input("data")
    .infer_shape(infer_same_shape)
    .cpu(copy_compute)
    .inplace({{0, 0}})
    .differentiable(false);

MX_REGISTER_OP(clip)
    .describe(
        "Clips (limits) values to [a_min, a_max]: values above a_max become a_max, then values below "
        "a_min become a_min. The bounds are converted to the input dtype first.")
    .input("data")
    .param_float("a_min", OpDef::kRequired, "Minimum value")
    .param_float("a_max", OpDef::kRequired, "Maximum value")
    .infer_shape(infer_same_shape)
    .dtypes(dtypes_of(kNumericSet))
    .cpu(clip_compute)
    .inplace({{0, 0}})
    .differentiable(false);

}  // namespace mx
