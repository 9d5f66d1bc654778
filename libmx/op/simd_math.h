// Declarations that let GCC vectorise loops over the C library's math functions into glibc's
// libmvec SIMD variants (2.35+, found by CMake: MX_HAVE_LIBMVEC). Special values -- NaN,
// infinities, overflow -- behave as in the scalar functions; errors within 4 ulp. Only the double
// variants are used in practice: GCC maps float loops onto them when they evaluate in double.
// Include before anything else that may use these functions.
#pragma once
#include <cmath>

#ifdef MX_HAVE_LIBMVEC
#define MX_SIMD_MATH(f) \
  extern "C" float f##f(float) __attribute__((simd("notinbranch"))); \
  extern "C" double f(double) __attribute__((simd("notinbranch")));
MX_SIMD_MATH(exp)
MX_SIMD_MATH(log)
MX_SIMD_MATH(log1p)
MX_SIMD_MATH(expm1)
MX_SIMD_MATH(cbrt)
MX_SIMD_MATH(sin)
MX_SIMD_MATH(cos)
MX_SIMD_MATH(tan)
MX_SIMD_MATH(asin)
MX_SIMD_MATH(acos)
MX_SIMD_MATH(atan)
MX_SIMD_MATH(sinh)
MX_SIMD_MATH(cosh)
MX_SIMD_MATH(tanh)
MX_SIMD_MATH(asinh)
MX_SIMD_MATH(acosh)
MX_SIMD_MATH(atanh)
MX_SIMD_MATH(log2)
MX_SIMD_MATH(log10)
MX_SIMD_MATH(exp2)
MX_SIMD_MATH(erf)
#undef MX_SIMD_MATH
#endif
