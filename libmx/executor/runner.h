// What the bound executor and the CachedOp share: a graph compiled for known input shapes and
// dtypes (forward nodes, then the gradient nodes), its memory plan, and the loop that pushes the
// nodes through invoke_with. Internal to libmx/executor.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/passes.h"
#include "graph/symbol.h"
#include "ndarray/ndarray.h"
#include "op/registry.h"

namespace mx {
namespace exec {
namespace detail {

// One op node, resolved once: the op, its parsed parameters and its entries. in/out hold the
// arrays while a run is bound (bind_steps), so the loop does no lookups.
struct Step {
  const OpDef* op = nullptr;
  ParamsPtr params;
  const graph::Node* node = nullptr;  // null for helper steps (copies into user arrays)
  std::vector<uint32_t> in_eid, out_eid;
  std::vector<NDArray> in, out;
  int rng_slot = -1;  // forward node with a random stream: where the stream it used is kept
  int rng_src = -1;   // gradient node replaying a forward stream: that node's rng_slot
  std::vector<std::pair<std::string, std::string>> rng_kv;  // its parameters without the stream keys
  bool rng_bound = false;
  uint64_t bound_seed = 0, bound_stream = 0;
};

// The random streams one forward run used (per rng_slot), replayed by its backward.
struct RngState {
  std::vector<uint64_t> seed, stream;
};

struct Compiled {
  graph::IndexedGraph g;             // forward nodes first, then the gradient nodes
  uint32_t num_fwd_nodes = 0;        // the split: nodes [0, num_fwd_nodes) are the forward graph
  uint32_t num_fwd_entries = 0;      // entries of the forward nodes (same ids as in the forward graph)
  std::vector<Shape> shapes;         // per entry
  std::vector<DType> dtypes;         // per entry
  std::vector<uint32_t> output_eids;     // forward heads
  std::vector<uint32_t> head_grad_eids;  // per head: the variable carrying its gradient
  std::vector<uint32_t> grad_eids;       // per wrt variable: its gradient entry
  std::vector<Step> steps;           // op nodes in order
  size_t num_fwd_steps = 0;
  int num_rng = 0;
  // Planned entries have slot >= 0. Forward entries use slots [0, num_fwd_slots) (entries the
  // gradient reads get slots of their own), gradient entries the others: a backward never
  // overwrites what a forward left for it, so a retained graph can be differentiated again.
  graph::MemoryPlan plan;
  int num_fwd_slots = 0;
  bool has_backward() const { return !head_grad_eids.empty(); }
  bool is_variable_entry(uint32_t eid) const { return g.nodes[g.entry_node(eid)]->is_variable(); }
};

// Compiles sym (whose indexed graph is fwd, with every entry's shape and dtype known) for a run;
// wrt: forward node ids of the variables to differentiate (empty: forward only). is_train is
// the mode the gradient is built for. Throws what the gradient builder throws.
std::shared_ptr<Compiled> compile(const graph::Symbol& sym, const graph::IndexedGraph& fwd,
                                  const std::vector<Shape>& shapes, const std::vector<DType>& dtypes,
                                  const std::vector<uint32_t>& wrt, bool is_train, bool plan_memory);

// Storage for slots [slot_begin, slot_end) and views of it for the planned entries whose slots
// fall there (views[e] for every entry e of c; others none).
struct SlotSet {
  std::vector<std::shared_ptr<Storage>> blocks;
  std::vector<NDArray> views;
};
std::shared_ptr<SlotSet> make_slots(const Compiled& c, int slot_begin, int slot_end, Device dev);

// Points steps [begin, end) at entries; unbind drops the references again.
void bind_steps(std::vector<Step>* steps, size_t begin, size_t end, const std::vector<NDArray>& entries);
void unbind_steps(std::vector<Step>* steps, size_t begin, size_t end);
// Pushes steps [begin, end): forward nodes record their random streams into rng, gradient nodes
// replay them. Errors name the node.
void run_steps(std::vector<Step>* steps, size_t begin, size_t end, bool is_train, RngState* rng);

// A helper step (op with default parameters) on fixed arrays.
Step make_step(const char* op, std::vector<NDArray> in, std::vector<NDArray> out);
// A zero-filled array (at bind time).
NDArray zeros(const Shape& shape, DType dtype, Device dev);
// A copy of a (a fresh array), pushed through the engine.
NDArray copy_of(const NDArray& a);

}  // namespace detail
}  // namespace exec
}  // namespace mx
