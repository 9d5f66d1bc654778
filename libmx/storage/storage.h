// Memory blocks. Owned blocks come from a per-device pool and return to it when the last user
// drops them; external blocks (numpy buffers, R vectors, DLPack tensors) call their deleter.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/device.h"
#include "engine/engine.h"

namespace mx {

class Storage {
 public:
  using Deleter = void (*)(void* ctx);

  struct Tag {};  // for make_shared (one allocation); create blocks through alloc / wrap
  explicit Storage(Tag) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  const Device& device() const { return device_; }
  bool external() const { return deleter_ != nullptr || !pooled_; }
  // Process-unique id: views of one block share it.
  uint64_t id() const { return id_; }
  // The engine variable that orders every read and write of this block.
  engine::Var* var() const { return &var_; }

  // A block of at least `bytes` bytes (64-byte aligned) from the device's pool. Throws
  // kOutOfMemory or kUnsupported (GPU in a CPU-only build).
  static std::shared_ptr<Storage> alloc(size_t bytes, Device dev);
  // Borrows caller memory; deleter(ctx) runs once when the block dies (deleter may be null).
  static std::shared_ptr<Storage> wrap(void* data, size_t bytes, Device dev, Deleter deleter, void* ctx);

  // Sets the deleter of a wrapped block (used once the caller's ownership may be taken).
  void set_deleter(Deleter deleter, void* ctx) {
    deleter_ = deleter;
    deleter_ctx_ = ctx;
  }

  // Pool statistics and trimming.
  static void stats(Device dev, size_t* in_use, size_t* cached);
  static void release_cached(Device dev);

 private:
  void* data_ = nullptr;
  size_t size_ = 0;       // bytes usable by the caller
  size_t capacity_ = 0;   // bytes held (pool bucket size)
  Device device_;
  bool pooled_ = false;
  Deleter deleter_ = nullptr;
  void* deleter_ctx_ = nullptr;
  uint64_t id_ = 0;
  mutable engine::Var var_;
};

}  // namespace mx
