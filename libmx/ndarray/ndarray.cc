#include "ndarray/ndarray.h"

#include <cstring>

#include "engine/engine.h"
#include "op/kernel_util.h"

namespace mx {

size_t checked_nbytes(const Shape& shape, DType dtype) {
  MX_CHECK(dtype_valid(static_cast<int>(dtype)), kDType, "unknown dtype flag ", static_cast<int>(dtype));
  int64_t n = 1;
  for (int i = 0; i < shape.ndim(); ++i) {
    MX_CHECK(shape[i] >= 0, kShape, "negative dimension in shape ", shape.str());
    MX_CHECK(!__builtin_mul_overflow(n, shape[i], &n), kShape, "shape ", shape.str(), " has too many elements");
  }
  int64_t bytes;
  MX_CHECK(!__builtin_mul_overflow(n, static_cast<int64_t>(dtype_size(dtype)), &bytes), kShape, "shape ",
           shape.str(), " is too large for dtype ", dtype_name(dtype));
  return static_cast<size_t>(bytes);
}

NDArray::NDArray(const Shape& shape, Device dev, DType dtype) : shape_(shape), dtype_(dtype) {
  storage_ = Storage::alloc(checked_nbytes(shape, dtype), dev);
}

NDArray::NDArray(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype, size_t byte_offset)
    : storage_(std::move(storage)), shape_(shape), dtype_(dtype), offset_(byte_offset) {}

TBlob NDArray::blob() const {
  TBlob b;
  b.data = raw_data();
  b.shape = shape_;
  b.dtype = dtype_;
  b.dev = device();
  return b;
}

NDArray NDArray::reshape(const Shape& shape) const {
  MX_CHECK(!is_none(), kInvalidArgument, "reshape of a none array");
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < s.ndim(); ++i) {
    if (s[i] == -1) {
      MX_CHECK(infer < 0, kShape, "reshape: more than one -1 in ", shape.str());
      infer = i;
    } else {
      MX_CHECK(s[i] >= 0, kShape, "reshape: negative dimension in ", shape.str());
      known *= s[i];
    }
  }
  if (infer >= 0) {
    MX_CHECK(known > 0 && size() % known == 0, kShape, "cannot reshape array of shape ", shape_.str(),
             " into ", shape.str());
    s[infer] = size() / known;
  }
  MX_CHECK(s.size() == size(), kShape, "cannot reshape array of shape ", shape_.str(), " (size ", size(),
           ") into ", shape.str());
  return NDArray(storage_, s, dtype_, offset_);
}

NDArray NDArray::slice(int64_t begin, int64_t end) const {
  MX_CHECK(shape_.ndim() >= 1, kShape, "slice of a scalar array");
  int64_t n = shape_[0];
  MX_CHECK(begin >= 0 && end >= begin && end <= n, kIndex, "slice [", begin, ", ", end,
           ") out of range for axis 0 of size ", n);
  Shape s = shape_;
  s[0] = end - begin;
  size_t row = static_cast<size_t>(shape_.prod(1, shape_.ndim())) * dtype_size(dtype_);
  return NDArray(storage_, s, dtype_, offset_ + static_cast<size_t>(begin) * row);
}

NDArray NDArray::at(int64_t idx) const {
  MX_CHECK(shape_.ndim() >= 1, kShape, "indexing a scalar array");
  int64_t n = shape_[0];
  MX_CHECK(idx >= -n && idx < n, kIndex, "index ", idx, " is out of bounds for axis 0 with size ", n);
  if (idx < 0) idx += n;
  Shape s;
  for (int i = 1; i < shape_.ndim(); ++i) s.push_back(shape_[i]);
  size_t row = static_cast<size_t>(shape_.prod(1, shape_.ndim())) * dtype_size(dtype_);
  return NDArray(storage_, s, dtype_, offset_ + static_cast<size_t>(idx) * row);
}

void NDArray::wait_to_read() const { engine::wait_to_read(var()); }
void NDArray::wait_to_write() const { engine::wait_to_write(var()); }

void NDArray::copy_from_host(const void* src, size_t n) const {
  MX_CHECK(n == nbytes(), kInvalidArgument, "copy_from_host: got ", n, " bytes, array of shape ",
           shape_.str(), " and dtype ", dtype_name(dtype_), " holds ", nbytes());
  wait_to_write();
  if (n) std::memcpy(raw_data(), src, n);
}

void NDArray::copy_to_host(void* dst, size_t n) const {
  MX_CHECK(n == nbytes(), kInvalidArgument, "copy_to_host: got ", n, " bytes, array of shape ",
           shape_.str(), " and dtype ", dtype_name(dtype_), " holds ", nbytes());
  wait_to_read();
  if (n) std::memcpy(dst, raw_data(), n);
}

void copy_ndarray(const NDArray& src, const NDArray& dst) {
  MX_CHECK(src.shape() == dst.shape(), kShape, "copyto: source shape ", src.shape().str(),
           " differs from destination shape ", dst.shape().str());
  if (src.storage() == dst.storage() && src.byte_offset() == dst.byte_offset() && src.dtype() == dst.dtype())
    return;
  TBlob s = src.blob(), d = dst.blob();
  auto keep_src = src.storage();
  auto keep_dst = dst.storage();
  engine::Var* r = src.var();
  engine::Var* w = dst.var();
  engine::push([s, d, keep_src, keep_dst] { cast_copy(s, d); }, &r, 1, &w, 1, "copyto",
               src.size() <= kSmallOpElements);
}

}  // namespace mx
