// Global state of the counter-based generators: one seed, and a counter handing each random call
// its own stream. Seeding resets the counter, so the same seed followed by the same sequence of
// calls gives the same numbers whatever the threads or the engine.
#include <atomic>

#include "base/random.h"

namespace mx {
namespace {

// Any fixed value works; this one gives reproducible results for a program that never seeds.
constexpr uint64_t kDefaultSeed = 0x5EED2024ULL;

std::atomic<uint64_t>& seed_state() {
  static std::atomic<uint64_t> s{kDefaultSeed};
  return s;
}
std::atomic<uint64_t>& stream_counter() {
  static std::atomic<uint64_t> c{0};
  return c;
}

}  // namespace

void random_set_seed(uint64_t seed) {
  seed_state().store(seed, std::memory_order_relaxed);
  stream_counter().store(0, std::memory_order_relaxed);
}

uint64_t random_seed() { return seed_state().load(std::memory_order_relaxed); }

uint64_t random_next_stream() { return stream_counter().fetch_add(1, std::memory_order_relaxed); }

}  // namespace mx
