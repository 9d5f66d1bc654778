// Symbol core: nnvm-like graphs whose nodes are shared between symbols. Composition copies the
// graph it changes; everything else only reads nodes.
#include "graph/symbol.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"

namespace mx {
namespace graph {

Node::~Node() {
  // Inputs this node owns alone are detached and dropped one by one from a local stack.
  std::vector<NodePtr> stack;
  for (Entry& e : inputs) stack.push_back(std::move(e.node));
  inputs.clear();
  while (!stack.empty()) {
    NodePtr n = std::move(stack.back());
    stack.pop_back();
    if (n && n.use_count() == 1) {
      for (Entry& e : n->inputs) stack.push_back(std::move(e.node));
      n->inputs.clear();
    }
  }
}


namespace {

bool is_attr_key(const std::string& k) {
  return k.size() > 4 && k.compare(0, 2, "__") == 0 && k.compare(k.size() - 2, 2, "__") == 0;
}

// MXNet's NameManager: "<op name in lower case><counter>", one counter per hint, process-wide.
std::string auto_name(const std::string& op_name) {
  static std::mutex mu;
  static std::unordered_map<std::string, uint64_t> counters;
  std::string hint = op_name;
  for (char& c : hint) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t n;
  {
    std::lock_guard<std::mutex> lk(mu);
    n = counters[hint]++;
  }
  return hint + std::to_string(n);
}

std::vector<std::string> split_commas(const char* s) {
  std::vector<std::string> out;
  if (!s || !*s) return out;
  std::string cur;
  for (const char* p = s; *p; ++p) {
    if (*p == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += *p;
    }
  }
  out.push_back(cur);
  return out;
}

NodePtr single_head(const Symbol& s, const char* what) {
  MX_CHECK(!s.outputs.empty(), kInvalidArgument, what, ": the symbol is empty");
  const NodePtr& n = s.outputs[0].node;
  for (const Entry& e : s.outputs)
    MX_CHECK(e.node == n, kInvalidArgument, what, ": the symbol groups outputs of several nodes (",
             n->name, ", ", e.node->name, "); use it on one output");
  return n;
}

// Set of variable nodes that some op in `order` consumes as a mutated input (aux states).
std::unordered_set<const Node*> aux_set(const std::vector<NodePtr>& order) {
  std::unordered_set<const Node*> aux;
  for (const NodePtr& n : order) {
    if (n->is_variable()) continue;
    for (int idx : n->op->mutated_inputs()) {
      if (idx >= 0 && static_cast<size_t>(idx) < n->inputs.size() && n->inputs[idx].node->is_variable())
        aux.insert(n->inputs[idx].node.get());
    }
  }
  return aux;
}

// MXNet's FSetInputVarAttrOnCompose: BatchNorm's moving statistics start at zero and one unless
// the variable says otherwise (initializers read "__init__").
void set_input_var_inits(const OpDef& op, const std::vector<Entry>& inputs) {
  const std::string& n = op.name();
  if (n != "BatchNorm" && n != "SyncBatchNorm" && n != "_contrib_SyncBatchNorm") return;
  static const char* const kInit[2] = {"[\"zero\", {}]", "[\"one\", {}]"};
  for (size_t k = 3; k < 5 && k < inputs.size(); ++k) {
    Node& v = *inputs[k].node;
    if (v.is_variable() && !v.attrs.count("__init__")) v.attrs["__init__"] = kInit[k - 3];
  }
}

void copy_node_fields(const Node& from, Node* to) {
  to->op = from.op;
  to->name = from.name;
  to->params = from.params;
  to->attrs = from.attrs;
}

// A deep copy of the graph of `s`; old -> new node map returned in *map when given.
Symbol deep_copy(const Symbol& s, std::unordered_map<const Node*, NodePtr>* map_out) {
  std::unordered_map<const Node*, NodePtr> local;
  std::unordered_map<const Node*, NodePtr>& m = map_out ? *map_out : local;
  for (const NodePtr& n : s.topo_order()) {
    auto nn = std::make_shared<Node>();
    copy_node_fields(*n, nn.get());
    nn->inputs.reserve(n->inputs.size());
    for (const Entry& e : n->inputs) nn->inputs.push_back(Entry{m.at(e.node.get()), e.index});
    m[n.get()] = std::move(nn);
  }
  Symbol out;
  out.outputs.reserve(s.outputs.size());
  for (const Entry& e : s.outputs) out.outputs.push_back(Entry{m.at(e.node.get()), e.index});
  return out;
}

}  // namespace

// ------------------------------------------------------------------ Node
uint32_t Node::num_outputs() const {
  if (is_variable()) return 1;
  return static_cast<uint32_t>(op->num_outputs(*params));
}

uint32_t Node::num_visible_outputs() const {
  if (is_variable()) return 1;
  return static_cast<uint32_t>(op->num_visible_outputs(*params));
}

std::string Node::output_name(uint32_t i) const {
  if (is_variable()) return name;
  std::vector<std::string> names = split_commas(op->attr("output_names"));
  if (i < names.size() && !names[i].empty()) return name + "_" + names[i];
  if (num_outputs() == 1) return name + "_output";
  return name + "_output" + std::to_string(i);
}

bool is_aux_use(const Node& n, size_t input_index) {
  if (n.is_variable()) return false;
  for (int idx : n.op->mutated_inputs())
    if (idx >= 0 && static_cast<size_t>(idx) == input_index) return true;
  return false;
}

// ------------------------------------------------------------------ construction
Symbol Symbol::variable(const std::string& name) {
  MX_CHECK(!name.empty(), kInvalidArgument, "Symbol.variable: the name is empty");
  auto n = std::make_shared<Node>();
  n->name = name;
  Symbol s;
  s.outputs.push_back(Entry{std::move(n), 0});
  return s;
}

Symbol Symbol::create(const OpDef& op, const std::vector<std::pair<std::string, std::string>>& params,
                      const std::vector<std::string>& input_keys, const std::vector<Symbol>& inputs,
                      const std::string& name) {
  const std::string shown = name.empty() ? std::string("(unnamed)") : name;
  auto node = std::make_shared<Node>();
  node->op = &op;
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(params.size());
  for (const auto& p : params) {
    if (is_attr_key(p.first)) node->attrs[p.first] = p.second;
    else kv.push_back(p);
  }
  const std::string& count_param = op.key_var_num_args();
  const bool variadic = !count_param.empty();
  MX_CHECK(input_keys.empty() || input_keys.size() == inputs.size(), kInvalidArgument, "operator ",
           op.name(), ", node ", shown, ": ", input_keys.size(), " input names for ", inputs.size(), " inputs");
  if (variadic) {
    MX_CHECK(input_keys.empty(), kInvalidArgument, "operator ", op.name(), ", node ", shown,
             ": takes a variable number of inputs; give them by position, not by name");
    bool has_count = false;
    for (const auto& p : kv) has_count = has_count || p.first == count_param;
    if (!has_count) kv.emplace_back(count_param, std::to_string(inputs.size()));
  }
  try {
    node->params = Params::parse(op, kv);
  } catch (const Error& e) {
    throw Error(e.code(), str("node ", shown, ": ", e.what()));
  }
  const int n_in = op.num_inputs(*node->params);
  MX_CHECK(n_in >= 0, kInvalidArgument, "operator ", op.name(), ", node ", shown, ": ", n_in, " inputs");
  std::vector<std::string> in_names;
  if (variadic) {
    MX_CHECK(static_cast<int>(inputs.size()) == n_in, kInvalidArgument, "operator ", op.name(), ", node ",
             shown, ": ", count_param, "=", n_in, " but ", inputs.size(), " inputs were given");
  } else {
    const auto& all = op.input_names();
    for (int i = 0; i < n_in && static_cast<size_t>(i) < all.size(); ++i) in_names.push_back(all[i]);
    MX_CHECK(static_cast<int>(in_names.size()) == n_in, kInternal, "operator ", op.name(), " declares ",
             all.size(), " input names but takes ", n_in, " inputs");
  }
  auto list_names = [&]() {
    std::string s;
    for (size_t i = 0; i < in_names.size(); ++i) s += (i ? ", " : "") + in_names[i];
    return s.empty() ? std::string("none") : s;
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    MX_CHECK(inputs[i].outputs.size() == 1, kInvalidArgument, "operator ", op.name(), ", node ", shown,
             ": input ", input_keys.empty() ? std::to_string(i) : "'" + input_keys[i] + "'", " has ",
             inputs[i].outputs.size(), " outputs; an input must have exactly one");
  }
  std::vector<Entry> slots(static_cast<size_t>(n_in));
  std::vector<bool> given(static_cast<size_t>(n_in), false);
  if (input_keys.empty()) {
    MX_CHECK(static_cast<int>(inputs.size()) <= n_in, kInvalidArgument, "operator ", op.name(), ", node ",
             shown, ": ", inputs.size(), " inputs given but it takes ", n_in, " (", list_names(), ")");
    for (size_t i = 0; i < inputs.size(); ++i) {
      slots[i] = inputs[i].outputs[0];
      given[i] = true;
    }
  } else {
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto it = std::find(in_names.begin(), in_names.end(), input_keys[i]);
      MX_CHECK(it != in_names.end(), kInvalidArgument, "operator ", op.name(), ", node ", shown,
               ": no input named '", input_keys[i], "' (inputs: ", list_names(), ")");
      const size_t k = static_cast<size_t>(it - in_names.begin());
      MX_CHECK(!given[k], kInvalidArgument, "operator ", op.name(), ", node ", shown, ": input '",
               input_keys[i], "' given twice");
      slots[k] = inputs[i].outputs[0];
      given[k] = true;
    }
  }
  node->name = name.empty() ? auto_name(op.name()) : name;
  for (size_t k = 0; k < slots.size(); ++k) {
    if (given[k]) continue;
    slots[k] = variable(node->name + "_" + in_names[k]).outputs[0];
    // nnvm gives created variables the node's attributes (lr_mult, ctx_group scopes reach them).
    slots[k].node->attrs = node->attrs;
  }
  set_input_var_inits(op, slots);
  node->inputs = std::move(slots);
  Symbol out;
  const uint32_t nv = node->num_visible_outputs();
  out.outputs.reserve(nv);
  for (uint32_t i = 0; i < nv; ++i) out.outputs.push_back(Entry{node, i});
  return out;
}

Symbol Symbol::copy() const { return deep_copy(*this, nullptr); }

Symbol Symbol::compose(const std::vector<std::string>& keys, const std::vector<Symbol>& args,
                       const std::string& name) const {
  MX_CHECK(keys.empty() || keys.size() == args.size(), kInvalidArgument, "Symbol.compose: ", keys.size(),
           " names for ", args.size(), " arguments");
  for (size_t i = 0; i < args.size(); ++i)
    MX_CHECK(args[i].outputs.size() == 1, kInvalidArgument, "Symbol.compose: argument ",
             keys.empty() ? std::to_string(i) : "'" + keys[i] + "'", " has ", args[i].outputs.size(),
             " outputs; it must have exactly one");
  Symbol out = copy();
  const std::vector<NodePtr> order = out.topo_order();
  std::unordered_map<const Node*, Entry> subst;
  if (keys.empty()) {
    std::vector<NodePtr> argn = out.argument_nodes();
    MX_CHECK(args.size() <= argn.size(), kInvalidArgument, "Symbol.compose: ", args.size(),
             " positional arguments but the symbol has ", argn.size(), " (", str([&] {
               std::string s;
               for (size_t i = 0; i < argn.size(); ++i) s += (i ? ", " : "") + argn[i]->name;
               return s;
             }()), ")");
    for (size_t i = 0; i < args.size(); ++i) subst[argn[i].get()] = args[i].outputs[0];
  } else {
    std::vector<NodePtr> vars = out.input_nodes();
    for (size_t i = 0; i < keys.size(); ++i) {
      bool hit = false;
      for (const NodePtr& v : vars) {
        if (v->name == keys[i]) {
          subst[v.get()] = args[i].outputs[0];
          hit = true;
        }
      }
      if (!hit) {
        std::string known;
        for (size_t j = 0; j < vars.size(); ++j) known += (j ? ", " : "") + vars[j]->name;
        MX_THROW(kInvalidArgument, "Symbol.compose: no argument named '", keys[i], "' (arguments: ",
                 known.empty() ? std::string("none") : known, ")");
      }
    }
  }
  for (const NodePtr& n : order) {
    for (Entry& e : n->inputs) {
      auto it = subst.find(e.node.get());
      if (it != subst.end()) e = it->second;
    }
  }
  for (Entry& e : out.outputs) {
    auto it = subst.find(e.node.get());
    if (it != subst.end()) e = it->second;
  }
  if (!name.empty()) {
    bool single = !out.outputs.empty();
    for (const Entry& e : out.outputs) single = single && e.node == out.outputs[0].node;
    if (single && !out.outputs[0].node->is_variable()) out.outputs[0].node->name = name;
  }
  return out;
}

Symbol Symbol::group(const std::vector<Symbol>& syms) {
  Symbol out;
  for (const Symbol& s : syms) out.outputs.insert(out.outputs.end(), s.outputs.begin(), s.outputs.end());
  return out;
}

Symbol Symbol::output(size_t i) const {
  MX_CHECK(i < outputs.size(), kIndex, "Symbol output index ", i, " out of range (", outputs.size(),
           " outputs)");
  Symbol s;
  s.outputs.push_back(outputs[i]);
  return s;
}

Symbol Symbol::internals() const {
  Symbol s;
  for (const NodePtr& n : topo_order()) {
    const uint32_t nv = n->num_visible_outputs();
    for (uint32_t i = 0; i < nv; ++i) s.outputs.push_back(Entry{n, i});
  }
  return s;
}

Symbol Symbol::children() const {
  Symbol s;
  std::unordered_set<const Node*> seen;
  for (const Entry& e : outputs) {
    if (!seen.insert(e.node.get()).second) continue;
    s.outputs.insert(s.outputs.end(), e.node->inputs.begin(), e.node->inputs.end());
  }
  return s;
}

// ------------------------------------------------------------------ traversal
std::vector<NodePtr> Symbol::topo_order() const {
  std::vector<NodePtr> order;
  // 1: on the DFS stack, 2: emitted.
  std::unordered_map<const Node*, int> state;
  struct Frame {
    const NodePtr* node;
    size_t next;
  };
  std::vector<Frame> stack;
  for (const Entry& head : outputs) {
    MX_CHECK(head.node != nullptr, kInvalidArgument, "symbol has a null output entry");
    if (state.count(head.node.get())) continue;
    state[head.node.get()] = 1;
    stack.push_back(Frame{&head.node, 0});
    while (!stack.empty()) {
      Frame& f = stack.back();
      const Node* n = f.node->get();
      if (f.next < n->inputs.size()) {
        const NodePtr& in = n->inputs[f.next++].node;
        MX_CHECK(in != nullptr, kInvalidArgument, "node ", n->name, ": input ", f.next - 1, " is null");
        auto it = state.find(in.get());
        if (it == state.end()) {
          state[in.get()] = 1;
          stack.push_back(Frame{&in, 0});
        } else if (it->second == 1) {
          MX_THROW(kInvalidArgument, "graph has a cycle: node ", in->name, " is an input of itself (via ",
                   n->name, ")");
        }
      } else {
        state[n] = 2;
        order.push_back(*f.node);
        stack.pop_back();
      }
    }
  }
  return order;
}

std::vector<NodePtr> Symbol::input_nodes() const {
  std::vector<NodePtr> out;
  for (NodePtr& n : topo_order())
    if (n->is_variable()) out.push_back(std::move(n));
  return out;
}

std::vector<NodePtr> Symbol::argument_nodes() const {
  const std::vector<NodePtr> order = topo_order();
  const auto aux = aux_set(order);
  std::vector<NodePtr> out;
  for (const NodePtr& n : order)
    if (n->is_variable() && !aux.count(n.get())) out.push_back(n);
  return out;
}

std::vector<NodePtr> Symbol::aux_nodes() const {
  const std::vector<NodePtr> order = topo_order();
  const auto aux = aux_set(order);
  std::vector<NodePtr> out;
  for (const NodePtr& n : order)
    if (n->is_variable() && aux.count(n.get())) out.push_back(n);
  return out;
}

namespace {
std::vector<std::string> names_of(const std::vector<NodePtr>& nodes) {
  std::vector<std::string> out;
  out.reserve(nodes.size());
  for (const NodePtr& n : nodes) out.push_back(n->name);
  return out;
}
}  // namespace

std::vector<std::string> Symbol::list_arguments() const { return names_of(argument_nodes()); }
std::vector<std::string> Symbol::list_auxiliary_states() const { return names_of(aux_nodes()); }
std::vector<std::string> Symbol::list_inputs() const { return names_of(input_nodes()); }

std::vector<std::string> Symbol::list_outputs() const {
  std::vector<std::string> out;
  out.reserve(outputs.size());
  for (const Entry& e : outputs) out.push_back(e.node->output_name(e.index));
  return out;
}

std::string Symbol::name() const {
  // nnvm: the name of the node all outputs come from (a multi-output op has one).
  if (outputs.empty()) return std::string();
  for (const Entry& e : outputs)
    if (e.node != outputs[0].node) return std::string();
  return outputs[0].node->name;
}

// ------------------------------------------------------------------ attributes
bool Symbol::get_attr(const std::string& key, std::string* value) const {
  if (outputs.empty()) return false;
  const NodePtr& n = outputs[0].node;
  for (const Entry& e : outputs)
    if (e.node != n) return false;
  auto it = n->attrs.find(key);
  if (it != n->attrs.end()) {
    if (value) *value = it->second;
    return true;
  }
  if (key == "name") {  // as nnvm answers it
    if (value) *value = n->name;
    return true;
  }
  if (n->params) {
    for (const auto& kv : n->params->explicit_values()) {
      if (kv.first == key) {
        if (value) *value = kv.second;
        return true;
      }
    }
  }
  return false;
}

void Symbol::set_attr(const std::string& key, const std::string& value) {
  NodePtr n = single_head(*this, "Symbol.set_attr");
  MX_CHECK(!key.empty(), kInvalidArgument, "Symbol.set_attr on node ", n->name, ": the key is empty");
  if (key == "name") {
    n->name = value;
    return;
  }
  if (!n->is_variable() && !is_attr_key(key) && n->op->param_index(key) >= 0) {
    // An op parameter: re-parse so the node computes with the new value (nnvm does the same).
    std::vector<std::pair<std::string, std::string>> kv;
    for (const auto& p : n->params->explicit_values())
      if (p.first != key) kv.push_back(p);
    kv.emplace_back(key, value);
    try {
      n->params = Params::parse(*n->op, kv);
    } catch (const Error& e) {
      throw Error(e.code(), str("node ", n->name, ": ", e.what()));
    }
    return;
  }
  n->attrs[key] = value;
}

std::vector<std::vector<std::string>> Symbol::list_attr(bool recursive) const {
  std::vector<std::vector<std::string>> out;
  auto add = [&out](const Node& n) {
    if (n.params)
      for (const auto& kv : n.params->explicit_values()) out.push_back({n.name, kv.first, kv.second});
    for (const auto& kv : n.attrs) out.push_back({n.name, kv.first, kv.second});
  };
  if (recursive) {
    for (const NodePtr& n : topo_order()) add(*n);
  } else {
    add(*single_head(*this, "Symbol.list_attr"));
  }
  return out;
}

}  // namespace graph
}  // namespace mx
