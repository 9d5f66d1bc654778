// Symbols: graphs of op nodes and variables, in nnvm's shape (MXNet 1.x). A Symbol is a list of
// output entries; nodes are shared between symbols (composition copies only what it changes).
// Everything here is graph logic; the bindings reach it through include/mx/c_api.h
// (libmx/c_api/c_api_symbol.cc).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "op/registry.h"

namespace mx {
namespace graph {

struct Node;
using NodePtr = std::shared_ptr<Node>;

// One output of a node.
struct Entry {
  NodePtr node;
  uint32_t index = 0;
  bool operator==(const Entry& o) const { return node == o.node && index == o.index; }
};

struct Node {
  const OpDef* op = nullptr;  // null: a variable (argument or auxiliary state)
  std::string name;
  ParamsPtr params;           // op nodes; explicit_values() is what JSON stores
  std::vector<Entry> inputs;  // op nodes: op->num_inputs(*params) entries
  // Attributes outside the op's parameters, MXNet's keys kept verbatim: "__shape__", "__dtype__",
  // "__init__", "__lr_mult__", "__wd_mult__", "__storage_type__", "ctx_group", "__layout__", ...
  std::map<std::string, std::string> attrs;

  Node() = default;
  Node(const Node&) = default;
  Node& operator=(const Node&) = default;
  // Releases the inputs without recursion, so dropping a very long chain does not overflow the
  // stack.
  ~Node();

  bool is_variable() const { return op == nullptr; }
  // All outputs of the node, hidden ones included (1 for a variable).
  uint32_t num_outputs() const;
  // The outputs a symbol made from this node exposes (the op's visible outputs; 1 for a variable).
  uint32_t num_visible_outputs() const;
  // MXNet's output name: "<name>" for a variable, "<name>_output" for a one-output op,
  // "<name>_<output_name>" where the op names its outputs, else "<name>_output<i>".
  std::string output_name(uint32_t i) const;
};

class Symbol {
 public:
  std::vector<Entry> outputs;

  // A free variable (an argument until an op uses it as a mutated input: then an aux state).
  static Symbol variable(const std::string& name);
  // An op node. params: MXNet-syntax key/values; keys written "__x__" are node attributes, not
  // op parameters. inputs are positional (input_keys empty) or named by the op's input names
  // (input_keys[i] names inputs[i]); each input symbol must have exactly one output. Inputs not
  // given become new variables "<name>_<input name>" (MXNet: fc1_weight, bn_moving_mean). A
  // variadic op's count parameter (num_args) is set from the inputs when not given. An empty name
  // gets an automatic one: the op name in lower case plus a per-op counter ("convolution0").
  // Errors (kInvalidArgument/kNotFound) name the op, the node and the offending key or input.
  static Symbol create(const OpDef& op, const std::vector<std::pair<std::string, std::string>>& params,
                       const std::vector<std::string>& input_keys, const std::vector<Symbol>& inputs,
                       const std::string& name);
  // A copy in which the free variables named by keys (or, with keys empty, the arguments in
  // list_arguments order) are replaced by args (one output each). Unknown keys: kInvalidArgument.
  // With a non-empty name and a single-op head the head node is renamed.
  Symbol compose(const std::vector<std::string>& keys, const std::vector<Symbol>& args,
                 const std::string& name) const;
  // A deep copy (new nodes, same params and attributes).
  Symbol copy() const;
  static Symbol group(const std::vector<Symbol>& syms);

  size_t num_outputs() const { return outputs.size(); }
  Symbol output(size_t i) const;  // kIndex when out of range
  // Every output of every node (variables included), in topological order (MXNet get_internals).
  Symbol internals() const;
  // The inputs of the head nodes, as one symbol (empty outputs when the heads are variables).
  Symbol children() const;

  // Nodes reachable from the outputs, inputs before their users (nnvm's DFS post-order, inputs
  // visited in order). Throws kInvalidArgument when the graph has a cycle.
  std::vector<NodePtr> topo_order() const;
  // Variables in topological order: all of them, arguments only, auxiliary states only.
  std::vector<NodePtr> input_nodes() const;
  std::vector<NodePtr> argument_nodes() const;
  std::vector<NodePtr> aux_nodes() const;
  std::vector<std::string> list_arguments() const;
  std::vector<std::string> list_auxiliary_states() const;
  std::vector<std::string> list_inputs() const;
  std::vector<std::string> list_outputs() const;
  // The name of the single head node ("" with several outputs).
  std::string name() const;

  // Attributes of the single head node (op nodes: parameters are readable too, as MXNet shows
  // them). Setting a key on a symbol with several outputs is kInvalidArgument.
  bool get_attr(const std::string& key, std::string* value) const;
  void set_attr(const std::string& key, const std::string& value);
  // (node name, key, value) of every node (recursive) or of the head node only.
  std::vector<std::vector<std::string>> list_attr(bool recursive) const;
};

// True when node n consumes variable v as an auxiliary state (a mutated input of n's op).
bool is_aux_use(const Node& n, size_t input_index);

// ---------------------------------------------------------------- JSON (graph/json.cc)
// MXNet's nnvm JSON: nodes (op, name, attrs as strings, inputs as [node, index, version]),
// arg_nodes, node_row_ptr, heads, attrs.mxnet_version. Reads files of MXNet 1.x, including the
// older "param"/"attr" keys and graphs without trailing auxiliary inputs. Errors (kInvalidArgument,
// kNotFound for unknown ops) name the node.
std::string to_json(const Symbol& sym);
Symbol from_json(const std::string& json);

}  // namespace graph
}  // namespace mx
