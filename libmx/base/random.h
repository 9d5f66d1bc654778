// Counter-based random numbers (Philox4x32-10). A random op reserves a stream id when it is
// pushed; element i of its output uses counter (i / 4, stream) under the global seed, so results
// depend only on the seed and the order of calls, not on threads.
#pragma once
#include <cmath>
#include <cstdint>

namespace mx {

struct Philox4x32 {
  uint32_t v[4];
};

inline Philox4x32 philox4x32(uint64_t counter, uint64_t stream, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

// A sequential generator over one stream (for kernels that draw a varying number of values, such
// as shuffle); parallel kernels index philox4x32 directly.
class RandomStream {
 public:
  RandomStream(uint64_t seed, uint64_t stream, uint64_t start = 0) : seed_(seed), stream_(stream), ctr_(start) {}
  uint32_t next_u32() {
    if (idx_ == 4) {
      buf_ = philox4x32(ctr_++, stream_, seed_);
      idx_ = 0;
    }
    return buf_.v[idx_++];
  }
  uint64_t next_u64() { return (static_cast<uint64_t>(next_u32()) << 32) | next_u32(); }
  // Uniform in [0, 1) with 24 (float) or 53 (double) random bits.
  float uniform_f() { return (next_u32() >> 8) * (1.0f / 16777216.0f); }
  double uniform_d() { return (next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  // Standard normal (Box-Muller).
  double normal() {
    double u1 = uniform_d(), u2 = uniform_d();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Uniform integer in [0, n) without modulo bias.
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next_u64(); while (x >= limit);
    return x % n;
  }

 private:
  uint64_t seed_, stream_, ctr_;
  Philox4x32 buf_{};
  int idx_ = 4;
};

// Global seed state (mx_random_seed resets the stream counter).
void random_set_seed(uint64_t seed);
uint64_t random_seed();
uint64_t random_next_stream();

}  // namespace mx
