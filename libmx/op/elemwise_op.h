// Shared machinery of the elementwise op family (unary, same-shape binary, broadcast, scalar).
//
// The binary kernels are instantiated once per (operation, dtype) in elemwise_binary_kernels.cc
// as a strided inner loop; same-shape, scalar and broadcast ops all drive that one loop, so adding
// a form costs no new template instantiations.
#pragma once
#include <cstdint>
#include <vector>

#include "base/dtype.h"
#include "ndarray/tblob.h"

namespace mx {
namespace elemwise {

enum class BinaryKind : int {
  kAdd, kSub, kMul, kDiv, kMod, kPower, kMaximum, kMinimum, kHypot,
  kEqual, kNotEqual, kGreater, kGreaterEqual, kLesser, kLesserEqual,
  kLogicalAnd, kLogicalOr, kLogicalXor,
  kCount
};

// Comparison and logical kinds also run on bool; the arithmetic ones on the eight numeric dtypes.
bool binary_kind_allows_bool(BinaryKind k);
// The dtypes a same-shape or broadcast op of this kind declares.
std::vector<DType> binary_dtypes(BinaryKind k);

// For each row r < rows and i < n: out[r * n + i] = OP(a[r * a_row + i * sa], b[r * b_row + i * sb]),
// strides in elements, sa and sb 0 or 1. One call covers many short rows (a small broadcast inner
// dim); rows == 1 is a plain loop. Pointers are of the dtype the function was looked up for. out
// may alias a (or b) where that operand is read at the same index it is written.
using BinaryRowsFn = void (*)(const void* a, int64_t a_row, int64_t sa, const void* b, int64_t b_row,
                              int64_t sb, void* out, int64_t rows, int64_t n);
// Throws kDType when the kind has no kernel for the dtype.
BinaryRowsFn binary_rows(BinaryKind k, DType t);

// Elements per thread chunk for a kind (expensive kinds use smaller chunks).
int64_t binary_grain(BinaryKind k);

// a, b and out have the same number of elements and dtype.
void binary_same_shape(BinaryKind k, const TBlob& a, const TBlob& b, const TBlob& out);
// out = OP(a, scalar), or OP(scalar, a) when reverse; the scalar is first converted to a's dtype
// (as MXNet's DType(scalar)). a and out share dtype and size.
void binary_scalar(BinaryKind k, bool reverse, const TBlob& a, double scalar, const TBlob& out);
// numpy broadcasting of a and b into out (out's shape is the broadcast shape). broadcast.cc.
void binary_broadcast(BinaryKind k, const TBlob& a, const TBlob& b, const TBlob& out);

// Writes `v` converted to dtype t into *dst (room for one element of t). Integer targets
// truncate toward zero and wrap modulo 2^bits (NaN and infinities become 0); bool is v != 0.
void scalar_to_dtype(double v, DType t, void* dst);

}  // namespace elemwise
}  // namespace mx
