// STUB: replaced by the real implementation.
#include "graph/symbol.h"

#include "base/error.h"

namespace mx {
namespace graph {
#define STUB MX_THROW(kUnsupported, "graph: not implemented yet")
uint32_t Node::num_outputs() const { STUB; }
uint32_t Node::num_visible_outputs() const { STUB; }
std::string Node::output_name(uint32_t) const { STUB; }
Symbol Symbol::variable(const std::string&) { STUB; }
Symbol Symbol::create(const OpDef&, const std::vector<std::pair<std::string, std::string>>&,
                      const std::vector<std::string>&, const std::vector<Symbol>&, const std::string&) { STUB; }
Symbol Symbol::compose(const std::vector<std::string>&, const std::vector<Symbol>&, const std::string&) const { STUB; }
Symbol Symbol::copy() const { STUB; }
Symbol Symbol::group(const std::vector<Symbol>&) { STUB; }
Symbol Symbol::output(size_t) const { STUB; }
Symbol Symbol::internals() const { STUB; }
Symbol Symbol::children() const { STUB; }
std::vector<NodePtr> Symbol::topo_order() const { STUB; }
std::vector<NodePtr> Symbol::input_nodes() const { STUB; }
std::vector<NodePtr> Symbol::argument_nodes() const { STUB; }
std::vector<NodePtr> Symbol::aux_nodes() const { STUB; }
std::vector<std::string> Symbol::list_arguments() const { STUB; }
std::vector<std::string> Symbol::list_auxiliary_states() const { STUB; }
std::vector<std::string> Symbol::list_inputs() const { STUB; }
std::vector<std::string> Symbol::list_outputs() const { STUB; }
std::string Symbol::name() const { STUB; }
bool Symbol::get_attr(const std::string&, std::string*) const { STUB; }
void Symbol::set_attr(const std::string&, const std::string&) { STUB; }
std::vector<std::vector<std::string>> Symbol::list_attr(bool) const { STUB; }
bool is_aux_use(const Node&, size_t) { STUB; }
}  // namespace graph
}  // namespace mx
