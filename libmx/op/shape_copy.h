// Dtype-agnostic data movement shared by the shape and indexing ops: strided N-d copies (a
// transpose, a slice, a flip, a tile are all one strided copy), scalar fills, and index loading.
// Internal to libmx/op; kernels of other families may use it too.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/shape.h"
#include "ndarray/tblob.h"

namespace mx {

// C-order element strides of a shape.
std::vector<int64_t> contiguous_strides(const Shape& s);

// For every index i of `shape`: dst[sum i_k*dst_stride_k] = src[sum i_k*src_stride_k].
// Strides are in elements (may be 0 or negative); dst/src point at the element of index 0.
// Adjacent dims that are contiguous in both are merged, so plain copies become memcpy.
void strided_copy(void* dst, const int64_t* dst_stride, const void* src, const int64_t* src_stride,
                  const Shape& shape, size_t elem_size);
// Same, with a contiguous destination.
void strided_gather(void* dst, const void* src, const int64_t* src_stride, const Shape& shape,
                    size_t elem_size);

// n elements of `elem_size` bytes at dst all set to the bytes at value.
void fill_bytes(void* dst, int64_t n, const void* value, size_t elem_size);
// The bytes of v converted to dtype t (at most 8 bytes written to out).
void scalar_to_bytes(double v, DType t, void* out);
// Sets, for every index of `shape`, dst[sum i_k*stride_k] to value (elem_size bytes).
void strided_fill(void* dst, const int64_t* dst_stride, const Shape& shape, const void* value,
                  size_t elem_size);

// Index arrays of any dtype as int64 (floats truncated toward zero, NaN and values beyond int64 map
// to INT64_MIN so that range checks reject them).
std::vector<int64_t> load_indices(const TBlob& idx);

// Normalises axis against ndim with a message naming the op (kInvalidArgument).
int check_axis(const char* op, int64_t axis, int ndim);

// Throws kShape when an output slot already holds a shape that differs from `s`, then stores it.
void assign_shape(const char* op, std::vector<Shape>* out, int i, const Shape& s);

}  // namespace mx
