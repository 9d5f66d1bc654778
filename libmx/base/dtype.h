// Element types, numbered by MXNet's type flags so files interoperate.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"
#include "base/half.h"

namespace mx {

enum class DType : int32_t {
  kFloat32 = 0,
  kFloat64 = 1,
  kFloat16 = 2,
  kUInt8 = 3,
  kInt32 = 4,
  kInt8 = 5,
  kInt64 = 6,
  kBool = 7,
  kBFloat16 = 12,
};

bool dtype_valid(int flag);
size_t dtype_size(DType t);
const char* dtype_name(DType t);  // numpy names: "float32", "bfloat16", "bool"
// Parses "float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"
// (and MXNet's "None" is not a dtype: callers handle optional). Throws kDType.
DType parse_dtype(const std::string& s);
bool dtype_is_float(DType t);  // float16/32/64, bfloat16
inline bool dtype_is_int(DType t) { return !dtype_is_float(t) && t != DType::kBool; }

// C++ type for each dtype.
template <DType D> struct DTypeOf;
template <> struct DTypeOf<DType::kFloat32> { using type = float; };
template <> struct DTypeOf<DType::kFloat64> { using type = double; };
template <> struct DTypeOf<DType::kFloat16> { using type = half_t; };
template <> struct DTypeOf<DType::kBFloat16> { using type = bf16_t; };
template <> struct DTypeOf<DType::kUInt8> { using type = uint8_t; };
template <> struct DTypeOf<DType::kInt8> { using type = int8_t; };
template <> struct DTypeOf<DType::kInt32> { using type = int32_t; };
template <> struct DTypeOf<DType::kInt64> { using type = int64_t; };
template <> struct DTypeOf<DType::kBool> { using type = bool; };

// Type used for arithmetic on a storage type: float for half_t/bf16_t, the type itself otherwise.
template <typename T> struct AccType { using type = T; };
template <> struct AccType<half_t> { using type = float; };
template <> struct AccType<bf16_t> { using type = float; };

}  // namespace mx

// Runs the statement with `DT` bound to the C++ type of dtype `t` (all nine dtypes).
#define MX_TYPE_CASE(D, DT, ...) \
  case D: {                      \
    using DT = typename ::mx::DTypeOf<D>::type; \
    __VA_ARGS__;                 \
  } break;
#define MX_DTYPE_SWITCH(t, DT, ...)                                                   \
  switch (t) {                                                                        \
    MX_TYPE_CASE(::mx::DType::kFloat32, DT, __VA_ARGS__)                              \
    MX_TYPE_CASE(::mx::DType::kFloat64, DT, __VA_ARGS__)                              \
    MX_TYPE_CASE(::mx::DType::kFloat16, DT, __VA_ARGS__)                              \
    MX_TYPE_CASE(::mx::DType::kBFloat16, DT, __VA_ARGS__)                             \
    MX_TYPE_CASE(::mx::DType::kUInt8, DT, __VA_ARGS__)                                \
    MX_TYPE_CASE(::mx::DType::kInt8, DT, __VA_ARGS__)                                 \
    MX_TYPE_CASE(::mx::DType::kInt32, DT, __VA_ARGS__)                                \
    MX_TYPE_CASE(::mx::DType::kInt64, DT, __VA_ARGS__)                                \
    MX_TYPE_CASE(::mx::DType::kBool, DT, __VA_ARGS__)                                 \
    default: MX_THROW(kDType, "unknown dtype flag ", static_cast<int>(t));            \
  }
// Floating types only (float32, float64, float16, bfloat16).
#define MX_FLOAT_DTYPE_SWITCH(t, DT, ...)                                             \
  switch (t) {                                                                        \
    MX_TYPE_CASE(::mx::DType::kFloat32, DT, __VA_ARGS__)                              \
    MX_TYPE_CASE(::mx::DType::kFloat64, DT, __VA_ARGS__)                              \
    MX_TYPE_CASE(::mx::DType::kFloat16, DT, __VA_ARGS__)                              \
    MX_TYPE_CASE(::mx::DType::kBFloat16, DT, __VA_ARGS__)                             \
    default: MX_THROW(kDType, "expected a floating dtype, got ", ::mx::dtype_name(t)); \
  }
