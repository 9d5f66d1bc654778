// CPU pooled allocator: blocks are rounded up to size classes and kept on per-class free lists,
// so a training loop that allocates the same shapes every step stops calling the system allocator.
#include "storage/storage.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "engine/engine.h"

namespace mx {
namespace {

constexpr size_t kAlign = 64;

// Size classes: powers of two up to 4 KiB, then multiples of 4 KiB up to 1 MiB, then powers of
// two split in four (at most 25% slack).
size_t round_size(size_t n) {
  if (n <= kAlign) return kAlign;
  if (n <= 4096) {
    size_t p = kAlign;
    while (p < n) p <<= 1;
    return p;
  }
  if (n <= (1u << 20)) return (n + 4095) & ~size_t(4095);
  size_t p = 1u << 20;
  while (p * 2 < n) p <<= 1;
  size_t step = p / 4;
  return ((n + step - 1) / step) * step;
}

struct CpuPool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  size_t in_use = 0;
  size_t cached = 0;

  void* get(size_t cap) {
    {
      std::lock_guard<std::mutex> lk(mu);
      auto it = free_lists.find(cap);
      if (it != free_lists.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached -= cap;
        in_use += cap;
        return p;
      }
    }
    void* p = std::aligned_alloc(kAlign, cap);
    if (!p) {
      release_all();  // give cached blocks back and try once more
      p = std::aligned_alloc(kAlign, cap);
    }
    if (!p) MX_THROW(kOutOfMemory, "out of memory allocating ", cap, " bytes on cpu");
    std::lock_guard<std::mutex> lk(mu);
    in_use += cap;
    return p;
  }
  void put(void* p, size_t cap) {
    std::lock_guard<std::mutex> lk(mu);
    in_use -= cap;
    cached += cap;
    free_lists[cap].push_back(p);
  }
  void release_all() {
    std::lock_guard<std::mutex> lk(mu);
    for (auto& kv : free_lists)
      for (void* p : kv.second) std::free(p);
    free_lists.clear();
    cached = 0;
  }
};

CpuPool& cpu_pool() {
  static CpuPool* pool = new CpuPool();  // never destroyed: arrays may outlive static teardown
  return *pool;
}

std::atomic<uint64_t> g_next_id{1};

}  // namespace

Storage::~Storage() {
  if (pooled_) {
    cpu_pool().put(data_, capacity_);
  } else if (deleter_) {
    deleter_(deleter_ctx_);
  }
}

std::shared_ptr<Storage> Storage::alloc(size_t bytes, Device dev) {
  check_device(dev);
  auto s = std::make_shared<Storage>(Tag{});
  s->device_ = dev;
  s->size_ = bytes;
  s->id_ = g_next_id.fetch_add(1, std::memory_order_relaxed);
  if (dev.type == DeviceType::kGPU) MX_THROW(kUnsupported, "GPU storage is not available in this build");
  s->capacity_ = round_size(bytes);
  s->data_ = cpu_pool().get(s->capacity_);
  s->pooled_ = true;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t bytes, Device dev, Deleter deleter, void* ctx) {
  check_device(dev);
  auto s = std::make_shared<Storage>(Tag{});
  s->device_ = dev;
  s->size_ = bytes;
  s->capacity_ = bytes;
  s->data_ = data;
  s->deleter_ = deleter;
  s->deleter_ctx_ = ctx;
  s->id_ = g_next_id.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void Storage::stats(Device dev, size_t* in_use, size_t* cached) {
  check_device(dev);
  auto& p = cpu_pool();
  std::lock_guard<std::mutex> lk(p.mu);
  *in_use = p.in_use;
  *cached = p.cached;
}

void Storage::release_cached(Device dev) {
  check_device(dev);
  cpu_pool().release_all();
}

}  // namespace mx
