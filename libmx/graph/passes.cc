// STUB: replaced by the real implementation.
#include "graph/passes.h"

#include "base/error.h"

namespace mx {
namespace graph {
#define STUB MX_THROW(kUnsupported, "graph passes: not implemented yet")
IndexedGraph::IndexedGraph(const Symbol&) { STUB; }
uint32_t IndexedGraph::node_id(const Node*) const { STUB; }
uint32_t IndexedGraph::entry_node(uint32_t) const { STUB; }
bool infer_shapes(const IndexedGraph&, std::vector<Shape>*, bool) { STUB; }
bool infer_types(const IndexedGraph&, std::vector<DType>*, bool) { STUB; }
std::vector<Entry> build_gradient(const IndexedGraph&, const std::vector<Shape>&, const std::vector<Entry>&,
                                  const std::vector<NodePtr>&, bool) { STUB; }
Symbol gradient_symbol(const Symbol&, const std::vector<std::string>&) { STUB; }
std::string rng_placeholder_source(const Node&) { STUB; }
MemoryPlan plan_memory(const IndexedGraph&, const std::vector<size_t>&, const std::vector<bool>&, bool) { STUB; }
Symbol eliminate_dead_nodes(const Symbol&) { STUB; }
}  // namespace graph
}  // namespace mx
