// Symbol handles for the other C API files (executor, cached op, predict): make a handle from a
// graph::Symbol and read the Symbol behind one. Defined in c_api_symbol.cc.
#pragma once
#include "c_api/c_api_internal.h"
#include "graph/symbol.h"

namespace mx {
namespace capi {

// A new live handle (caller frees with mx_symbol_free).
mx_symbol* new_symbol_handle(graph::Symbol sym);
// Empties sym without recursion through long chains of nodes it alone owns (a Symbol dropped
// normally destroys its nodes recursively: very deep graphs would overflow the stack). Use it
// where a long-lived Symbol (executor, cached op) is destroyed.
void release_symbol(graph::Symbol* sym);
// The symbol behind a handle; kHandle for NULL, freed or foreign handles.
const graph::Symbol& get_symbol(const mx_symbol* h);

}  // namespace capi
}  // namespace mx
