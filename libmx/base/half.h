// float16 and bfloat16 storage types with exact round-to-nearest-even conversions.
// Arithmetic happens in float: kernels convert on load and store.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace mx {

inline float bits_to_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t float_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

inline uint16_t float_to_half_bits(float f) {
  uint32_t x = float_to_bits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  if (mag >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (mag > 0x7f800000u ? 0x200u | ((mag >> 13) & 0x3ffu) : 0u));
  }
  if (mag >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (mag < 0x38800000u) {  // subnormal half (or zero)
    if (mag < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t e = mag >> 23;
    uint32_t m = (mag & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;  // 14 + (112 - e) + 1 - 1
    uint32_t half_m = m >> (shift);
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_m & 1u))) ++half_m;
    return static_cast<uint16_t>(sign | half_m);
  }
  uint32_t h = ((mag - 0x38000000u) >> 13);
  uint32_t rem = mag & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

inline float half_bits_to_float(uint16_t h) {
  uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu;
  uint32_t m = h & 0x3ffu;
  if (e == 0) {
    if (m == 0) return bits_to_float(sign);
    float f = static_cast<float>(m) * (1.0f / 16777216.0f);  // m * 2^-24
    return sign ? -f : f;
  }
  if (e == 31) return bits_to_float(sign | 0x7f800000u | (m << 13));
  return bits_to_float(sign | ((e + 112) << 23) | (m << 13));
}

inline uint16_t float_to_bf16_bits(float f) {
  uint32_t x = float_to_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet nan
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}
inline float bf16_bits_to_float(uint16_t b) { return bits_to_float(static_cast<uint32_t>(b) << 16); }

// double -> float rounded to odd (truncate, then set the last bit when inexact). Rounding that
// float once more to a 16-bit format gives the correctly rounded result (no double rounding).
inline float round_to_odd_float(double d) {
  float f = static_cast<float>(d);
  if (std::isnan(d) || std::isinf(f) || static_cast<double>(f) == d) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);
  return bits_to_float(float_to_bits(f) | 1u);
}

// The float a 16-bit conversion starts from: exact for float, round-to-odd for wider sources.
template <typename T>
inline float narrow_for_16bit(T v) {
  if constexpr (std::is_same<T, float>::value || std::is_same<T, bool>::value) return static_cast<float>(v);
  else return round_to_odd_float(static_cast<double>(v));
}

struct half_t {
  uint16_t bits;
  half_t() = default;
  half_t(float f) : bits(float_to_half_bits(f)) {}  // NOLINT: implicit by design, like numpy
  template <typename T>
  explicit half_t(T v) : bits(float_to_half_bits(narrow_for_16bit(v))) {}
  operator float() const { return half_bits_to_float(bits); }  // NOLINT
};

struct bf16_t {
  uint16_t bits;
  bf16_t() = default;
  bf16_t(float f) : bits(float_to_bf16_bits(f)) {}  // NOLINT
  template <typename T>
  explicit bf16_t(T v) : bits(float_to_bf16_bits(narrow_for_16bit(v))) {}
  operator float() const { return bf16_bits_to_float(bits); }  // NOLINT
};

}  // namespace mx
