// What a kernel sees of an array: a typed pointer, a shape, a device. No ownership, no engine.
#pragma once
#include "base/device.h"
#include "base/dtype.h"
#include "base/shape.h"

namespace mx {

struct TBlob {
  void* data = nullptr;
  Shape shape;
  DType dtype = DType::kFloat32;
  Device dev;

  int ndim() const { return shape.ndim(); }
  int64_t size() const { return shape.size(); }
  size_t nbytes() const { return static_cast<size_t>(size()) * dtype_size(dtype); }
  template <typename T>
  T* ptr() const { return static_cast<T*>(data); }
};

}  // namespace mx
