// The indexed graph, shape and dtype inference, and dead-node elimination. The gradient pass is
// in graph/gradient.cc, memory planning in graph/plan_memory.cc.
#include "graph/passes.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include "base/error.h"

namespace mx {
namespace graph {
namespace {

uint32_t node_outputs(const Node& n) {
  return n.is_variable() ? 1u : static_cast<uint32_t>(n.op->num_outputs(*n.params));
}

bool is_mutated_use(const Node& n, size_t k) {
  if (n.is_variable()) return false;
  const auto& m = n.op->mutated_inputs();
  return std::find(m.begin(), m.end(), static_cast<int>(k)) != m.end();
}

}  // namespace

IndexedGraph::IndexedGraph(const Symbol& sym) {
  nodes = sym.topo_order();
  std::unordered_map<const Node*, uint32_t> id;
  id.reserve(nodes.size());
  entry_start.reserve(nodes.size() + 1);
  entry_start.push_back(0);
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    id[nodes[i].get()] = i;
    entry_start.push_back(entry_start.back() + node_outputs(*nodes[i]));
  }
  auto entry_of = [&](const Entry& e, const char* what, const std::string& user) -> uint32_t {
    MX_CHECK(e.node != nullptr, kInvalidArgument, what, " of '", user, "' is not connected to a node");
    auto it = id.find(e.node.get());
    MX_CHECK(it != id.end(), kInternal, "graph: node '", e.node->name, "' is missing from the topological order");
    const uint32_t nout = entry_start[it->second + 1] - entry_start[it->second];
    MX_CHECK(e.index < nout, kInvalidArgument, what, " of '", user, "' reads output ", e.index, " of node '",
             e.node->name, "', which has ", nout, " output(s)");
    return entry_start[it->second] + e.index;
  };
  inputs.resize(nodes.size());
  std::vector<char> is_aux(nodes.size(), 0);
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    const Node& n = *nodes[i];
    if (n.is_variable()) continue;
    const size_t want = static_cast<size_t>(n.op->num_inputs(*n.params));
    MX_CHECK(n.inputs.size() == want, kInvalidArgument, "node '", n.name, "' (", n.op->name(), ") has ",
             n.inputs.size(), " input(s) but the operator expects ", want);
    inputs[i].reserve(n.inputs.size());
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      inputs[i].push_back(entry_of(n.inputs[k], "an input", n.name));
      if (is_mutated_use(n, k) && n.inputs[k].node->is_variable()) is_aux[id[n.inputs[k].node.get()]] = 1;
    }
  }
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i]->is_variable()) continue;
    input_nodes.push_back(i);
    (is_aux[i] ? aux_nodes : arg_nodes).push_back(i);
  }
  for (const Entry& e : sym.outputs) outputs.push_back(entry_of(e, "an output", "the symbol"));
}

uint32_t IndexedGraph::node_id(const Node* n) const {
  for (uint32_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].get() == n) return i;
  MX_THROW(kInternal, "graph: node '", n ? n->name : std::string("(null)"), "' is not in this graph");
}

uint32_t IndexedGraph::entry_node(uint32_t entry) const {
  MX_CHECK(entry < num_entries(), kInternal, "graph: entry ", entry, " out of range (", num_entries(), " entries)");
  auto it = std::upper_bound(entry_start.begin(), entry_start.end(), entry);
  return static_cast<uint32_t>(it - entry_start.begin()) - 1;
}

// ------------------------------------------------------------------ inference
namespace {

// MXNet's "(64, 20)" / "[64,20]" text. Legacy MXNet (no numpy shapes) reads a dim of 0, or no dims
// at all, as unknown (-1 too, numpy-shape mode): Gluon exports deferred parameters as
// "(32, 0, 3, 3)". *partial receives the
// constraint (ndim and the non-zero dims) that an inferred shape must meet; the returned shape
// is unknown then.
Shape parse_shape_attr(const std::string& text, const std::string& var, Shape* partial) {
  Shape s;
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '(' || text[i] == '[' || text[i] == ')' ||
                               text[i] == ']' || text[i] == 'L'))
      ++i;
  };
  skip();
  while (i < text.size()) {
    const char* b = text.c_str() + i;
    char* e = nullptr;
    long long v = std::strtoll(b, &e, 10);
    MX_CHECK(e != b && v >= -1, kInvalidArgument, "variable '", var, "': __shape__ attribute '", text,
             "' is not a shape");
    s.push_back(v < 0 ? 0 : v);  // -1: unknown in numpy-shape files
    i += static_cast<size_t>(e - b);
    skip();
    if (i < text.size() && text[i] == ',') ++i;
    skip();
  }
  *partial = Shape::unknown();
  if (s.ndim() == 0) return Shape::unknown();
  for (int64_t d : s)
    if (d == 0) {
      *partial = s;
      return Shape::unknown();
    }
  return s;
}

bool fits(const Shape& s, const Shape& partial) {
  if (s.ndim() != partial.ndim()) return false;
  for (int i = 0; i < s.ndim(); ++i)
    if (partial[i] != 0 && partial[i] != s[i]) return false;
  return true;
}

std::string shape_text(const Shape& s) { return s.known() ? s.str() : std::string("unknown"); }
std::string type_text(DType t) { return t == kUnknownDType ? std::string("unknown") : std::string(dtype_name(t)); }

// "input 'weight' (from 'fc1_weight')", "input 2 (from 'split0' output 1)".
std::string input_label(const IndexedGraph& g, uint32_t nid, size_t k) {
  const Node& n = *g.nodes[nid];
  const auto& names = n.op->input_names();
  std::string s = "input ";
  if (!n.op->key_var_num_args().empty() || k >= names.size()) s += std::to_string(k);
  else s += "'" + names[k] + "'";
  const uint32_t e = g.inputs[nid][k];
  const uint32_t p = g.entry_node(e);
  s += " (from '" + g.nodes[p]->name + "'";
  if (g.entry_start[p + 1] - g.entry_start[p] > 1) s += " output " + std::to_string(e - g.entry_start[p]);
  return s + ")";
}

template <typename T>
struct Traits;
template <>
struct Traits<Shape> {
  static constexpr const char* kWhat = "shape";
  static constexpr ErrorCode kCode = ErrorCode::kShape;
  static bool known(const Shape& s) {
    if (!s.known()) return false;
    for (int64_t d : s)
      if (d < 0) return false;
    return true;
  }
  static Shape unknown() { return Shape::unknown(); }
  static std::string text(const Shape& s) { return shape_text(s); }
  static void run(const OpDef& op, const Params& p, std::vector<Shape>* in, std::vector<Shape>* out) {
    if (op.shape_fn()) op.shape_fn()(p, in, out);
    else infer_same_shape(p, in, out);
  }
};
template <>
struct Traits<DType> {
  static constexpr const char* kWhat = "dtype";
  static constexpr ErrorCode kCode = ErrorCode::kDType;
  static bool known(DType t) { return t != kUnknownDType && dtype_valid(static_cast<int>(t)); }
  static DType unknown() { return kUnknownDType; }
  static std::string text(DType t) { return type_text(t); }
  static void run(const OpDef& op, const Params& p, std::vector<DType>* in, std::vector<DType>* out) {
    if (op.type_fn()) op.type_fn()(p, in, out);
    else infer_same_type(p, in, out);
  }
};

template <typename T>
std::string inputs_text(const IndexedGraph& g, uint32_t nid, const std::vector<T>& vals) {
  std::string s;
  for (size_t k = 0; k < g.inputs[nid].size(); ++k)
    s += (k ? ", " : "") + input_label(g, nid, k) + " " + Traits<T>::text(vals[g.inputs[nid][k]]);
  return s;
}

template <typename T>
std::string node_label(const IndexedGraph& g, uint32_t nid) {
  const Node& n = *g.nodes[nid];
  return "node '" + n.name + "' (" + (n.is_variable() ? std::string("variable") : n.op->name()) + ")";
}

// The fixed-point sweep shared by shapes and dtypes. Forward then backward sweeps until nothing
// changes: a function may fill unknown inputs (FullyConnected's weight) or, for elementwise ops,
// inputs from a known output.
template <typename T>
bool infer_attrs(const IndexedGraph& g, std::vector<T>* vals_p, bool partial) {
  using Tr = Traits<T>;
  std::vector<T>& vals = *vals_p;
  const uint32_t ne = g.num_entries();
  MX_CHECK(vals.size() == ne || vals.empty(), kInternal, "infer ", Tr::kWhat, ": ", vals.size(),
           " values for ", ne, " entries");
  if (vals.empty()) vals.assign(ne, Tr::unknown());
  const size_t nn = g.nodes.size();
  std::vector<char> done(nn, 0);
  std::vector<std::string> pending(nn);  // a function's error while some of its inputs were unknown
  std::vector<T> in, out;
  auto visit = [&](uint32_t i) -> bool {
    const Node& n = *g.nodes[i];
    if (done[i] || n.is_variable()) return false;
    const auto& ins = g.inputs[i];
    const uint32_t o0 = g.entry_start[i], o1 = g.entry_start[i + 1];
    in.resize(ins.size());
    bool all_in = true;
    for (size_t k = 0; k < ins.size(); ++k) {
      in[k] = vals[ins[k]];
      all_in = all_in && Tr::known(in[k]);
    }
    out.assign(vals.begin() + o0, vals.begin() + o1);
    try {
      Tr::run(*n.op, *n.params, &in, &out);
    } catch (const Error& e) {
      if (!all_in) {
        pending[i] = e.what();
        return false;
      }
      throw Error(Tr::kCode, node_label<T>(g, i) + ": " + e.what() + " (" + inputs_text(g, i, vals) + ")");
    }
    pending[i].clear();
    bool changed = false, all = true;
    for (size_t k = 0; k < ins.size(); ++k) {
      T& cur = vals[ins[k]];
      if (Tr::known(cur)) {
        if (Tr::known(in[k]) && !(in[k] == cur))
          throw Error(Tr::kCode, str(node_label<T>(g, i), ": ", input_label(g, i, k), " has ", Tr::kWhat, " ",
                                     Tr::text(cur), " but the operator infers ", Tr::text(in[k]), " (",
                                     inputs_text(g, i, vals), ")"));
      } else if (Tr::known(in[k])) {
        cur = in[k];
        changed = true;
      }
      all = all && Tr::known(cur);
    }
    for (uint32_t o = o0; o < o1; ++o) {
      T& cur = vals[o];
      const T& got = out[o - o0];
      if (Tr::known(cur)) {
        if (Tr::known(got) && !(got == cur))
          throw Error(Tr::kCode, str(node_label<T>(g, i), ": output ", o - o0, " has ", Tr::kWhat, " ",
                                     Tr::text(cur), " but the operator infers ", Tr::text(got), " (",
                                     inputs_text(g, i, vals), ")"));
      } else if (Tr::known(got)) {
        cur = got;
        changed = true;
      }
      all = all && Tr::known(cur);
    }
    if (all) done[i] = 1;
    return changed;
  };
  bool changed = true;
  for (int round = 0; changed; ++round) {
    changed = false;
    for (uint32_t i = 0; i < nn; ++i) changed = visit(i) || changed;
    if (!changed && round > 0) break;
    for (uint32_t i = static_cast<uint32_t>(nn); i-- > 0;) changed = visit(i) || changed;
  }
  // A function that still fails although everything upstream of it is known (only variables it
  // should deduce are missing) reports a real conflict (a given shape contradicting the others):
  // raise it even in partial mode, as MXNet does.
  for (uint32_t i = 0; i < nn; ++i) {
    if (pending[i].empty()) continue;
    bool only_vars = true;
    for (uint32_t in : g.inputs[i])
      if (!Tr::known(vals[in]) && !g.nodes[g.entry_node(in)]->is_variable()) only_vars = false;
    if (only_vars)
      throw Error(Tr::kCode, node_label<T>(g, i) + ": " + pending[i] + " (" + inputs_text(g, i, vals) + ")");
  }
  bool complete = true;
  for (uint32_t e = 0; e < ne && complete; ++e) complete = Tr::known(vals[e]);
  if (complete || partial) return complete;
  // Something is unknown: the first such entry, with what the function of the node that could
  // not deduce it said (often the real problem: a given shape contradicting the others).
  for (uint32_t i = 0; i < nn; ++i) {
    for (uint32_t o = g.entry_start[i]; o < g.entry_start[i + 1]; ++o) {
      if (Tr::known(vals[o])) continue;
      const Node& n = *g.nodes[i];
      if (n.is_variable()) {
        std::string user, said;
        for (uint32_t j = i + 1; j < nn && user.empty(); ++j)
          for (size_t k = 0; k < g.inputs[j].size(); ++k)
            if (g.inputs[j][k] == o) {
              const std::string label = input_label(g, j, k);
              user = " (" + label.substr(0, label.find(" (from")) + " of " + node_label<T>(g, j) + ")";
              if (!pending[j].empty())
                said = "; " + node_label<T>(g, j) + " says: " + pending[j] + " (" + inputs_text(g, j, vals) + ")";
              break;
            }
        throw Error(Tr::kCode, str("cannot infer the ", Tr::kWhat, " of variable '", n.name, "'", user,
                                   ": give it (by name) or enough inputs to deduce it", said));
      }
      throw Error(Tr::kCode, str(node_label<T>(g, i), ": cannot infer the ", Tr::kWhat, " of output ",
                                 o - g.entry_start[i], " (", inputs_text(g, i, vals), ")",
                                 pending[i].empty() ? std::string() : ": " + pending[i]));
    }
  }
  return complete;
}

}  // namespace

bool infer_shapes(const IndexedGraph& g, std::vector<Shape>* shapes, bool partial) {
  MX_CHECK(shapes != nullptr, kInternal, "infer_shapes: no output vector");
  if (shapes->empty()) shapes->assign(g.num_entries(), Shape::unknown());
  MX_CHECK(shapes->size() == g.num_entries(), kInternal, "infer_shapes: ", shapes->size(), " shapes for ",
           g.num_entries(), " entries");
  // Variables' __shape__ fills what the caller left unknown (the caller's shapes win, as in
  // MXNet); shapes with unknown dims become constraints checked after inference.
  std::vector<std::pair<uint32_t, Shape>> constraints;
  for (uint32_t nid : g.input_nodes) {
    const Node& n = *g.nodes[nid];
    auto it = n.attrs.find("__shape__");
    if (it == n.attrs.end()) continue;
    Shape& s = (*shapes)[g.entry_start[nid]];
    Shape part;
    Shape a = parse_shape_attr(it->second, n.name, &part);
    if (s.known()) continue;
    if (a.known()) s = a;
    else if (part.known()) constraints.emplace_back(g.entry_start[nid], part);
  }
  bool complete = infer_attrs<Shape>(g, shapes, partial);
  for (const auto& c : constraints) {
    const Shape& s = (*shapes)[c.first];
    if (!s.known()) continue;
    MX_CHECK(fits(s, c.second), kShape, "variable '", g.nodes[g.entry_node(c.first)]->name, "' has __shape__ ",
             c.second.str(), " (0: unknown) but its inferred shape is ", s.str());
  }
  return complete;
}

bool infer_types(const IndexedGraph& g, std::vector<DType>* dtypes, bool partial) {
  MX_CHECK(dtypes != nullptr, kInternal, "infer_types: no output vector");
  if (dtypes->empty()) dtypes->assign(g.num_entries(), kUnknownDType);
  MX_CHECK(dtypes->size() == g.num_entries(), kInternal, "infer_types: ", dtypes->size(), " dtypes for ",
           g.num_entries(), " entries");
  for (uint32_t nid : g.input_nodes) {
    const Node& n = *g.nodes[nid];
    auto it = n.attrs.find("__dtype__");
    if (it == n.attrs.end()) continue;
    DType& t = (*dtypes)[g.entry_start[nid]];
    const char* b = it->second.c_str();
    char* e = nullptr;
    long v = std::strtol(b, &e, 10);
    DType parsed;
    if (e != b && *e == '\0') {
      MX_CHECK(v >= 0 && dtype_valid(static_cast<int>(v)), kDType, "variable '", n.name, "': __dtype__ ",
               it->second, " is not a supported type flag");
      parsed = static_cast<DType>(v);
    } else {
      parsed = parse_dtype(it->second);  // a dtype name ("float32"): accepted too
    }
    if (t == kUnknownDType) t = parsed;
  }
  return infer_attrs<DType>(g, dtypes, partial);
}

// ------------------------------------------------------------------ dead nodes
Symbol eliminate_dead_nodes(const Symbol& sym) {
  // A Symbol holds exactly the nodes its outputs reach, so nothing is dead at node level; what
  // can die is a node output nobody reads, which running the node produces anyway. The walk
  // still validates the graph (cycles, dangling entries) so callers get errors here.
  IndexedGraph g(sym);
  (void)g;
  Symbol out;
  out.outputs = sym.outputs;
  return out;
}

}  // namespace graph
}  // namespace mx
