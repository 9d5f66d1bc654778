// Graph passes over an indexed graph: shape and dtype inference, the gradient graph, memory
// planning with in-place reuse and buffer sharing, dead-node elimination.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/shape.h"
#include "graph/symbol.h"

namespace mx {
namespace graph {

// Nodes in topological order; every node output is an "entry" numbered densely.
struct IndexedGraph {
  std::vector<NodePtr> nodes;
  std::vector<uint32_t> entry_start;  // nodes.size() + 1 entries: node i's outputs are
                                      // entry_start[i] .. entry_start[i+1]-1
  std::vector<uint32_t> outputs;      // entry ids of the heads
  std::vector<uint32_t> input_nodes;  // variable node ids, topological order (list_inputs)
  std::vector<uint32_t> arg_nodes;    // the arguments among them (list_arguments order)
  std::vector<uint32_t> aux_nodes;    // the auxiliary states (list_auxiliary_states order)
  // inputs[i][k] = entry id of input k of node i
  std::vector<std::vector<uint32_t>> inputs;

  explicit IndexedGraph(const Symbol& sym);
  IndexedGraph() = default;
  uint32_t num_entries() const { return entry_start.back(); }
  uint32_t entry_id(uint32_t node, uint32_t index) const { return entry_start[node] + index; }
  uint32_t node_id(const Node* n) const;  // kInternal when absent
  // Node owning an entry.
  uint32_t entry_node(uint32_t entry) const;
};

// Shapes of all entries. On entry, shapes holds what is known (ndim < 0: unknown; variables'
// "__shape__" attributes are read too); on return every entry that could be inferred. Returns
// true when all are known. Errors (kShape) name the node, its op, the input (by the op's input
// name and the producing node) and both shapes; with partial == false an entry left unknown is an
// error naming the first such node.
bool infer_shapes(const IndexedGraph& g, std::vector<Shape>* shapes, bool partial);
// Same for dtypes ("__dtype__" attributes read; kUnknownDType unknown); kDType errors.
bool infer_types(const IndexedGraph& g, std::vector<DType>* dtypes, bool partial);

// The gradient graph. Builds, from the ops' gradient definitions, the gradients of
// sum(outputs[i] * head_grads[i]) with respect to the variables wrt. head_grads are entries the
// caller supplies (variables, or ones_like nodes). Gradients reaching an entry from several
// consumers are summed (ElementWiseSum); a variable that receives none gets zeros_like. The
// returned entries are in wrt order. g is the forward graph and shapes its entries' shapes from
// infer_shapes (may be partial; gradients that depend on ranks need them); the builder infers the
// shapes of the gradient nodes it adds as it goes. Only paths from wrt to the outputs get
// gradient nodes (GradArgs::needs_grad).
//
// Ops with random streams (Dropout, rrelu) replay the forward call's draws in their gradient: in
// a graph the stream is only known when the forward node runs, so the gradient node gets the
// parameters rng_seed="0" and rng_stream="@<forward node name>"; executors substitute the values
// of that run (see rng_placeholder_source).
std::vector<Entry> build_gradient(const IndexedGraph& g, const std::vector<Shape>& shapes,
                                  const std::vector<Entry>& head_grads, const std::vector<NodePtr>& wrt,
                                  bool is_train = true);
// Symbol.gradient of MXNet: gradients of the (loss) outputs w.r.t. the named arguments, head
// gradients ones.
Symbol gradient_symbol(const Symbol& forward, const std::vector<std::string>& wrt);
// For a gradient node carrying an rng placeholder: the forward node's name; "" otherwise.
std::string rng_placeholder_source(const Node& n);

// Memory plan for running the nodes of g in order: every entry that is not external gets a slot;
// entries whose lifetimes do not overlap share slots (buffer sharing), and an output may take
// over an input's slot when the op declares that in-place pair and the input dies at that node
// (in-place reuse). external[e]: the entry has its own array (arguments, aux states, gradients
// bound by the user, graph outputs the caller reads): never shared. bytes[e]: size of entry e.
struct MemoryPlan {
  std::vector<int> slot;             // per entry; -1 for external entries
  std::vector<size_t> slot_bytes;    // per slot
  size_t planned_bytes = 0;          // sum of slot_bytes
  size_t naive_bytes = 0;            // sum of bytes of every non-external entry
  size_t inplace_count = 0;          // outputs placed in their input's slot
};
// enable == false: one slot per entry (the reference for "planning off").
MemoryPlan plan_memory(const IndexedGraph& g, const std::vector<size_t>& bytes,
                       const std::vector<bool>& external, bool enable);

// Dead-node elimination: a symbol with only the nodes the outputs need (a copy when something
// was dropped; nodes are shared otherwise).
Symbol eliminate_dead_nodes(const Symbol& sym);

}  // namespace graph
}  // namespace mx
