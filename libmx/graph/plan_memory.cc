// Memory planning: slots for the entries of a graph run in node order, shared between entries
// whose lifetimes do not overlap, with in-place reuse where an op allows it.
#include <algorithm>
#include <map>

#include "base/error.h"
#include "graph/passes.h"

namespace mx {
namespace graph {
namespace {

// A free slot is reused for an entry up to this many times smaller or larger (MXNet's match
// range): a much bigger slot wastes memory, a much smaller one grows too much.
constexpr size_t kMatchRange = 16;

class SlotPool {
 public:
  explicit SlotPool(MemoryPlan* plan) : plan_(plan) {}

  int take(size_t bytes) {
    // Best fit among free slots at least as large (within the match range) ...
    auto it = free_.lower_bound(bytes);
    if (it != free_.end() && it->first / kMatchRange <= bytes) return reuse(it, bytes);
    // ... else the largest smaller slot, grown (cheaper than a new one).
    if (it != free_.begin()) {
      auto prev = std::prev(it);
      if (prev->first * kMatchRange >= bytes) return reuse(prev, bytes);
    }
    return fresh(bytes);
  }
  // A slot of its own, never shared.
  int fresh(size_t bytes) {
    plan_->slot_bytes.push_back(bytes);
    users_.push_back(1);
    return static_cast<int>(plan_->slot_bytes.size()) - 1;
  }
  void share(int slot) { ++users_[slot]; }
  void release(int slot) {
    if (--users_[slot] == 0) free_.emplace(plan_->slot_bytes[slot], slot);
  }

 private:
  int reuse(std::multimap<size_t, int>::iterator it, size_t bytes) {
    const int s = it->second;
    free_.erase(it);
    plan_->slot_bytes[s] = std::max(plan_->slot_bytes[s], bytes);
    users_[s] = 1;
    return s;
  }
  MemoryPlan* plan_;
  std::multimap<size_t, int> free_;  // size -> slot
  std::vector<int> users_;           // live entries per slot
};

}  // namespace

MemoryPlan plan_memory(const IndexedGraph& g, const std::vector<size_t>& bytes, const std::vector<bool>& external,
                       bool enable) {
  const uint32_t ne = g.num_entries();
  MX_CHECK(bytes.size() == ne && external.size() == ne, kInternal, "plan_memory: ", bytes.size(), " sizes and ",
           external.size(), " external flags for ", ne, " entries");
  MemoryPlan plan;
  plan.slot.assign(ne, -1);
  for (uint32_t e = 0; e < ne; ++e)
    if (!external[e]) plan.naive_bytes += bytes[e];
  if (!enable) {
    for (uint32_t e = 0; e < ne; ++e) {
      if (external[e]) continue;
      plan.slot[e] = static_cast<int>(plan.slot_bytes.size());
      plan.slot_bytes.push_back(bytes[e]);
    }
    plan.planned_bytes = plan.naive_bytes;
    return plan;
  }

  // Remaining reads of each entry; graph outputs hold one read forever (never released).
  std::vector<uint32_t> refs(ne, 0);
  for (const auto& ins : g.inputs)
    for (uint32_t e : ins) ++refs[e];
  for (uint32_t e : g.outputs) ++refs[e];
  std::vector<char> pinned(ne, 0);  // graph outputs: their slot is never shared
  for (uint32_t e : g.outputs) pinned[e] = 1;

  SlotPool pool(&plan);
  std::vector<int> uses;  // per input position: how often this node reads that entry
  for (uint32_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = *g.nodes[i];
    const auto& ins = g.inputs[i];
    const uint32_t o0 = g.entry_start[i], o1 = g.entry_start[i + 1];
    std::vector<char> taken(ins.size(), 0);  // input slots already handed to an output of this node
    for (uint32_t o = o0; o < o1; ++o) {
      if (external[o]) continue;
      int slot = -1;
      if (!n.is_variable() && !pinned[o]) {
        for (const auto& pr : n.op->inplace_pairs()) {
          if (pr.second != static_cast<int>(o - o0) || pr.first < 0 || pr.first >= static_cast<int>(ins.size()))
            continue;
          const uint32_t ie = ins[pr.first];
          if (taken[pr.first] || external[ie] || pinned[ie] || plan.slot[ie] < 0 || bytes[ie] != bytes[o]) continue;
          // The input must die here, read by this node once (a kernel may read another input
          // after writing the output, so a twice-read entry is not overwritten).
          if (refs[ie] != 1 || std::count(ins.begin(), ins.end(), ie) != 1) continue;
          slot = plan.slot[ie];
          taken[pr.first] = 1;
          pool.share(slot);
          ++plan.inplace_count;
          break;
        }
      }
      // A graph output the caller did not mark external gets a slot of its own.
      if (slot < 0) slot = pinned[o] ? pool.fresh(bytes[o]) : pool.take(bytes[o]);
      plan.slot[o] = slot;
    }
    for (uint32_t e : ins) {
      if (--refs[e] == 0 && plan.slot[e] >= 0 && !pinned[e]) pool.release(plan.slot[e]);
    }
    // Outputs nobody reads (unused hidden outputs) are written, then free at once.
    for (uint32_t o = o0; o < o1; ++o)
      if (refs[o] == 0 && plan.slot[o] >= 0 && !pinned[o]) pool.release(plan.slot[o]);
  }
  for (size_t b : plan.slot_bytes) plan.planned_bytes += b;
  return plan;
}

}  // namespace graph
}  // namespace mx
