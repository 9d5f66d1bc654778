// The gradient graph: the ops' gradient definitions (op/grad.h) run against a builder that adds
// graph nodes instead of computing arrays. Mirrors the imperative walk of autograd/autograd.cc.
#include <string>
#include <unordered_map>

#include "base/error.h"
#include "graph/passes.h"

namespace mx {
namespace graph {
namespace {

// The stream a gradient sees for a forward node with a random stream. Gradient ops write it into
// their parameters as text (std::to_string); the builder swaps that text for "@<forward node>".
constexpr uint64_t kRngStreamMarker = 0xFFFFFFFFFFFFFF3Bull;

class NodeBuilder : public GradBuilder {
 public:
  GradValue add(const Entry& e, const Shape& s) {
    values.push_back(e);
    shapes.push_back(s);
    return GradValue{static_cast<int>(values.size()) - 1};
  }
  const Entry& entry(GradValue v) const {
    MX_CHECK(v.valid() && v.id < static_cast<int>(values.size()), kInternal, "gradient of node '", fwd_name,
             "': a value is not part of the gradient graph");
    return values[v.id];
  }

  std::vector<GradValue> call(const std::string& op_name, const std::vector<GradValue>& in,
                              const ParamList& params) override {
    const OpDef& op = get_op(op_name);
    ParamsPtr p;
    if (params.empty()) {
      p = Params::defaults(op);
    } else if (!rng_marker.empty()) {
      ParamList pl = params;
      for (auto& kv : pl)
        if (kv.first == "rng_stream" && kv.second == rng_marker) kv.second = "@" + fwd_name;
      p = Params::parse(op, pl);
    } else {
      p = Params::parse(op, params);
    }
    auto node = std::make_shared<Node>();
    node->op = &op;
    node->params = p;
    node->name = fwd_name + "_backward" + (counter ? std::to_string(counter) : std::string());
    ++counter;
    std::vector<Shape> in_s;
    in_s.reserve(in.size());
    bool all_known = true;
    for (const GradValue& v : in) {
      node->inputs.push_back(entry(v));
      in_s.push_back(shapes[v.id]);
      all_known = all_known && in_s.back().known();
    }
    const int nin = op.num_inputs(*p);
    MX_CHECK(static_cast<int>(in.size()) == nin, kInternal, "gradient of node '", fwd_name, "': operator ",
             op.name(), " called with ", in.size(), " input(s), expects ", nin);
    const int nout = op.num_outputs(*p);
    std::vector<Shape> out_s(nout, Shape::unknown());
    try {
      if (op.shape_fn()) op.shape_fn()(*p, &in_s, &out_s);
      else infer_same_shape(*p, &in_s, &out_s);
    } catch (const Error& e) {
      // With unknown inputs (partial forward shapes) the shapes are left to the executor's pass.
      if (all_known)
        throw Error(ErrorCode::kShape, "gradient of node '" + fwd_name + "': operator " + op.name() + ": " + e.what());
      out_s.assign(nout, Shape::unknown());
    }
    std::vector<GradValue> r;
    r.reserve(nout);
    for (int i = 0; i < nout; ++i) r.push_back(add(Entry{node, static_cast<uint32_t>(i)}, out_s[i]));
    return r;
  }

  int ndim(GradValue v) override {
    MX_CHECK(v.valid() && v.id < static_cast<int>(values.size()), kInternal, "gradient of node '", fwd_name,
             "': ndim of a non-value");
    MX_CHECK(shapes[v.id].known(), kShape, "gradient of node '", fwd_name, "' needs the rank of '",
             values[v.id].node->name, "' output ", values[v.id].index,
             ", which is unknown: give the input shapes (infer_shape) before building this gradient");
    return shapes[v.id].ndim();
  }

  // The sum of several contributions (one node), or the single one.
  GradValue sum(const std::vector<GradValue>& parts, const std::string& name) {
    if (parts.size() == 1) return parts[0];
    std::string saved = fwd_name;
    fwd_name = name;
    int c = counter;
    counter = 0;
    GradValue s = call1("add_n", parts, {{"num_args", std::to_string(parts.size())}});
    values[s.id].node->name = name + "_grad_sum";
    fwd_name = saved;
    counter = c;
    return s;
  }
  GradValue zeros_like(GradValue v, const std::string& name) {
    GradValue z = call1("zeros_like", {v});
    values[z.id].node->name = name + "_zero_grad";
    return z;
  }

  std::vector<Entry> values;
  std::vector<Shape> shapes;
  std::string fwd_name;    // the forward node whose gradient is being built (names, errors)
  std::string rng_marker;  // to_string(kRngStreamMarker) while building a random op's gradient
  int counter = 0;
};

}  // namespace

std::vector<Entry> build_gradient(const IndexedGraph& g, const std::vector<Shape>& shapes,
                                  const std::vector<Entry>& head_grads, const std::vector<NodePtr>& wrt,
                                  bool is_train) {
  const uint32_t ne = g.num_entries();
  const size_t nn = g.nodes.size();
  MX_CHECK(shapes.empty() || shapes.size() == ne, kInternal, "build_gradient: ", shapes.size(), " shapes for ", ne,
           " entries");
  MX_CHECK(head_grads.size() == g.outputs.size(), kInvalidArgument, "build_gradient: ", head_grads.size(),
           " head gradients for ", g.outputs.size(), " outputs");
  auto shape_of = [&](uint32_t e) { return shapes.empty() ? Shape::unknown() : shapes[e]; };

  std::unordered_map<const Node*, uint32_t> id;
  id.reserve(nn);
  for (uint32_t i = 0; i < nn; ++i) id[g.nodes[i].get()] = i;
  // Nodes on a path from a wrt variable: only they get gradient nodes.
  std::vector<char> on_path(nn, 0);
  std::vector<uint32_t> wrt_ids;
  for (const NodePtr& w : wrt) {
    MX_CHECK(w != nullptr, kInvalidArgument, "build_gradient: a wrt node is null");
    auto it = id.find(w.get());
    MX_CHECK(it != id.end(), kInvalidArgument, "build_gradient: '", w->name, "' is not a node of the graph");
    MX_CHECK(w->is_variable(), kInvalidArgument, "build_gradient: '", w->name, "' is not a variable");
    on_path[it->second] = 1;
    wrt_ids.push_back(it->second);
  }
  for (uint32_t i = 0; i < nn; ++i) {
    if (g.nodes[i]->is_variable()) continue;
    for (uint32_t e : g.inputs[i])
      if (on_path[g.entry_node(e)]) {
        on_path[i] = 1;
        break;
      }
  }

  NodeBuilder b;
  std::vector<std::vector<GradValue>> contrib(ne);
  for (size_t i = 0; i < head_grads.size(); ++i) {
    MX_CHECK(head_grads[i].node != nullptr, kInvalidArgument, "build_gradient: head gradient ", i, " is null");
    contrib[g.outputs[i]].push_back(b.add(head_grads[i], shape_of(g.outputs[i])));
  }
  const std::string marker = std::to_string(kRngStreamMarker);
  std::vector<GradValue> var_grad(nn);
  for (uint32_t i = static_cast<uint32_t>(nn); i-- > 0;) {
    if (!on_path[i]) continue;
    const NodePtr& node = g.nodes[i];
    const uint32_t o0 = g.entry_start[i], o1 = g.entry_start[i + 1];
    b.fwd_name = node->name;
    b.counter = 0;
    b.rng_marker.clear();
    if (node->is_variable()) {
      if (!contrib[o0].empty()) var_grad[i] = b.sum(contrib[o0], node->name);
      continue;
    }
    bool any = false;
    for (uint32_t o = o0; o < o1; ++o) any = any || !contrib[o].empty();
    if (!any) continue;
    const OpDef& op = *node->op;
    MX_CHECK(static_cast<bool>(op.grad_fn()), kUnsupported, "node '", node->name, "': operator ", op.name(),
             " is not differentiable (it has no registered gradient) but a gradient flows through it");
    GradArgs a{*node->params, {}, {}, {}, 0, 0, is_train};
    if (op.uses_rng()) {
      a.rng_stream = kRngStreamMarker;
      b.rng_marker = marker;
    }
    const auto& ins = g.inputs[i];
    for (size_t k = 0; k < ins.size(); ++k) {
      a.inputs.push_back(b.add(node->inputs[k], shape_of(ins[k])));
      a.needs_grad.push_back(on_path[g.entry_node(ins[k])] != 0);
    }
    for (uint32_t o = o0; o < o1; ++o) {
      GradValue out = b.add(Entry{node, o - o0}, shape_of(o));
      a.outputs.push_back(out);
      auto& parts = contrib[o];
      a.ograds.push_back(parts.empty() ? b.zeros_like(out, node->name + "_out" + std::to_string(o - o0))
                                       : b.sum(parts, node->name + "_out" + std::to_string(o - o0)));
      b.fwd_name = node->name;
    }
    std::vector<GradValue> grads = op.grad_fn()(b, a);
    MX_CHECK(grads.size() == ins.size(), kInternal, "gradient of node '", node->name, "' (", op.name(), ") returned ",
             grads.size(), " values for ", ins.size(), " inputs");
    for (size_t k = 0; k < grads.size(); ++k) {
      if (!grads[k].valid() || !a.needs_grad[k]) continue;
      const Shape& gs = b.shapes[grads[k].id];
      const Shape want = shape_of(ins[k]);
      MX_CHECK(!gs.known() || !want.known() || gs == want, kInternal, "gradient of node '", node->name, "' (",
               op.name(), ") for input ", k, " has shape ", gs.str(), ", expected ", want.str());
      contrib[ins[k]].push_back(grads[k]);
    }
    for (uint32_t o = o0; o < o1; ++o) contrib[o].clear();
  }
  std::vector<Entry> result;
  result.reserve(wrt_ids.size());
  for (size_t j = 0; j < wrt_ids.size(); ++j) {
    const uint32_t nid = wrt_ids[j];
    GradValue v = var_grad[nid];
    if (!v.valid()) {
      b.fwd_name = g.nodes[nid]->name;
      b.rng_marker.clear();
      v = b.zeros_like(b.add(Entry{g.nodes[nid], 0}, shape_of(g.entry_start[nid])), g.nodes[nid]->name);
    }
    result.push_back(b.entry(v));
  }
  return result;
}

std::string rng_placeholder_source(const Node& n) {
  if (n.is_variable() || !n.params || !n.params->has("rng_stream")) return std::string();
  const ParamDef& d = n.op->params()[n.op->param_index("rng_stream")];
  if (d.kind != ParamKind::kString) return std::string();
  const std::string& s = n.params->get_string("rng_stream");
  return s.size() > 1 && s[0] == '@' ? s.substr(1) : std::string();
}

Symbol gradient_symbol(const Symbol& forward, const std::vector<std::string>& wrt) {
  IndexedGraph g(forward);
  std::vector<Shape> shapes;
  infer_shapes(g, &shapes, true);
  std::vector<NodePtr> wrt_nodes;
  for (const std::string& name : wrt) {
    NodePtr found;
    for (uint32_t nid : g.arg_nodes)
      if (g.nodes[nid]->name == name) {
        found = g.nodes[nid];
        break;
      }
    if (!found) {
      std::string args;
      for (uint32_t nid : g.arg_nodes) args += (args.empty() ? "" : ", ") + g.nodes[nid]->name;
      MX_THROW(kInvalidArgument, "gradient: '", name, "' is not an argument of the symbol (arguments: ", args, ")");
    }
    wrt_nodes.push_back(found);
  }
  const OpDef& ones = get_op("ones_like");
  std::vector<Entry> heads;
  for (size_t i = 0; i < forward.outputs.size(); ++i) {
    auto node = std::make_shared<Node>();
    node->op = &ones;
    node->params = Params::defaults(ones);
    node->name = forward.outputs[i].node->name + "_head_grad" + (i ? std::to_string(i) : std::string());
    node->inputs.push_back(forward.outputs[i]);
    heads.push_back(Entry{node, 0});
  }
  Symbol out;
  out.outputs = build_gradient(g, shapes, heads, wrt_nodes, true);
  return out;
}

}  // namespace graph
}  // namespace mx
