// NDArray: shared storage + shape + dtype + byte offset. Contiguous, C order, as in MXNet.
// Reshape and axis-0 slicing are views sharing storage (and so the engine variable).
#pragma once
#include <memory>

#include "base/device.h"
#include "base/dtype.h"
#include "base/shape.h"
#include "ndarray/tblob.h"
#include "storage/storage.h"

namespace mx {

namespace autograd {
struct Node;
}

class NDArray {
 public:
  NDArray() = default;  // a "none" array
  // Allocates (contents uninitialised).
  NDArray(const Shape& shape, Device dev, DType dtype);
  // Views existing storage.
  NDArray(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype, size_t byte_offset);

  bool is_none() const { return !storage_; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_->device(); }
  int64_t size() const { return shape_.size(); }
  size_t nbytes() const { return static_cast<size_t>(size()) * dtype_size(dtype_); }
  size_t byte_offset() const { return offset_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  engine::Var* var() const { return storage_->var(); }
  // Raw address; does not wait for the engine.
  void* raw_data() const { return static_cast<char*>(storage_->data()) + offset_; }
  TBlob blob() const;

  // Views (shapes checked; throw kShape / kIndex).
  NDArray reshape(const Shape& shape) const;
  NDArray slice(int64_t begin, int64_t end) const;
  NDArray at(int64_t idx) const;

  // Autograd: the recorded node (and output index) that produced this array, or the variable
  // node of an array marked for gradients; null when the array is not part of a graph.
  const std::shared_ptr<autograd::Node>& ag_node() const { return ag_node_; }
  int ag_index() const { return ag_index_; }
  void set_ag(std::shared_ptr<autograd::Node> node, int index) {
    ag_node_ = std::move(node);
    ag_index_ = index;
  }
  NDArray detached() const {
    NDArray d = *this;
    d.ag_node_.reset();
    d.ag_index_ = 0;
    return d;
  }

  void wait_to_read() const;
  void wait_to_write() const;

  // Synchronous host copies (nbytes must equal this->nbytes()).
  void copy_from_host(const void* src, size_t nbytes) const;
  void copy_to_host(void* dst, size_t nbytes) const;

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::kFloat32;
  size_t offset_ = 0;
  std::shared_ptr<autograd::Node> ag_node_;
  int ag_index_ = 0;
};

// Bytes an array of this shape and dtype holds; throws kShape for negative dims or overflow.
size_t checked_nbytes(const Shape& shape, DType dtype);

// Copies (and casts) src into dst through the engine. Same shape required.
void copy_ndarray(const NDArray& src, const NDArray& dst);

}  // namespace mx
