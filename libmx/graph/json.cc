// STUB: replaced by the real implementation.
#include "base/error.h"
#include "graph/symbol.h"

namespace mx {
namespace graph {
std::string to_json(const Symbol&) { MX_THROW(kUnsupported, "graph json: not implemented yet"); }
Symbol from_json(const std::string&) { MX_THROW(kUnsupported, "graph json: not implemented yet"); }
}  // namespace graph
}  // namespace mx
