#include "autograd/autograd.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "op/imperative.h"

namespace mx {
namespace autograd {
namespace {

thread_local bool t_recording = false;

NDArray call1(const char* op, const std::vector<NDArray>& in) {
  const OpDef& def = get_op(op);
  std::vector<NDArray> out(1);
  invoke(def, Params::defaults(def), in, &out);
  return out[0];
}

NDArray sum_all(const std::vector<NDArray>& parts) {
  NDArray total = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) total = call1("elemwise_add", {total, parts[i]});
  return total;
}

// Runs gradient ops on arrays: GradValue ids index `table`.
class ImperativeBuilder : public GradBuilder {
 public:
  GradValue add(const NDArray& a) {
    table.push_back(a);
    return GradValue{static_cast<int>(table.size()) - 1};
  }
  std::vector<GradValue> call(const std::string& op, const std::vector<GradValue>& in,
                              const ParamList& params) override {
    const OpDef& def = get_op(op);
    ParamsPtr p = params.empty() ? Params::defaults(def) : Params::parse(def, params);
    std::vector<NDArray> ins;
    ins.reserve(in.size());
    for (const GradValue& v : in) {
      MX_CHECK(v.valid() && v.id < static_cast<int>(table.size()), kInternal, "gradient of ", def.name(),
               ": an input is not a value");
      ins.push_back(table[v.id]);
    }
    std::vector<NDArray> outs(def.num_outputs(*p));
    invoke(def, p, ins, &outs);
    std::vector<GradValue> r;
    for (auto& o : outs) r.push_back(add(o));
    return r;
  }
  int ndim(GradValue v) override {
    MX_CHECK(v.valid() && v.id < static_cast<int>(table.size()), kInternal, "gradient: ndim of a non-value");
    return table[v.id].shape().ndim();
  }
  std::vector<NDArray> table;
};

// Restores the thread's recording and training modes however backward ends.
struct ModeGuard {
  bool rec, train;
  ModeGuard(bool recording, bool training) : rec(set_recording(recording)), train(set_training(training)) {}
  ~ModeGuard() {
    set_recording(rec);
    set_training(train);
  }
};

// Post-order (inputs before consumers) of every node reachable from the heads.
std::vector<std::shared_ptr<Node>> topo_order(const std::vector<NDArray>& heads) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> done, on_stack;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack;
  for (const NDArray& h : heads) {
    if (!h.ag_node() || done.count(h.ag_node().get())) continue;
    stack.emplace_back(h.ag_node(), 0);
    while (!stack.empty()) {
      auto& top = stack.back();
      Node* n = top.first.get();
      if (top.second < n->inputs.size()) {
        const auto& child = n->inputs[top.second++].ag_node();
        if (child && !done.count(child.get())) stack.emplace_back(child, 0);
      } else {
        if (!done.count(n)) {
          done.insert(n);
          order.push_back(top.first);
        }
        stack.pop_back();
      }
    }
  }
  return order;
}

// One user-defined function node of the walk: its backward runs here, on this thread, with the
// recording mode of the walk (so create_graph records what it invokes).
template <typename Slot>
void run_custom(const std::shared_ptr<Node>& node_ptr, std::vector<std::vector<NDArray>>* parts, Slot& slot) {
  Node& node = *node_ptr;
  const std::string& name = node.custom->name();
  parts->resize(node.outputs.size());
  std::vector<NDArray> ograds, outputs;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    outputs.push_back(node.outputs[i]);
    outputs.back().set_ag(node_ptr, static_cast<int>(i));
  }
  for (size_t i = 0; i < node.outputs.size(); ++i)
    ograds.push_back((*parts)[i].empty() ? call1("zeros_like", {node.outputs[i]}) : sum_all((*parts)[i]));
  // Keep the function alive through its own backward even if something inside drops the node.
  std::shared_ptr<CustomFunction> fn = node.custom;
  bool prev_train = set_training(node.is_train);
  struct Restore {
    bool p;
    ~Restore() { set_training(p); }
  } restore{prev_train};
  std::vector<NDArray> g = fn->backward(outputs, ograds);
  MX_CHECK(g.size() == node.inputs.size(), kInternal, "custom function '", name, "': backward returned ", g.size(),
           " gradients for ", node.inputs.size(), " inputs");
  for (size_t i = 0; i < g.size(); ++i) {
    const NDArray& in = node.inputs[i];
    if (g[i].is_none() || !in.ag_node()) continue;
    MX_CHECK(g[i].shape() == in.shape(), kShape, "custom function '", name, "': backward gave input ", i,
             " a gradient of shape ", g[i].shape().str(), " but the input has shape ", in.shape().str());
    MX_CHECK(g[i].dtype() == in.dtype(), kDType, "custom function '", name, "': backward gave input ", i,
             " a gradient of dtype ", dtype_name(g[i].dtype()), " but the input has dtype ",
             dtype_name(in.dtype()));
    slot(in.ag_node().get(), in.ag_index()).push_back(g[i]);
  }
}

// A variable's gradient sum, holding the variable node: the walk releases the graph (without
// retain_graph) before the caller writes the gradients, and the arrays that kept the node alive
// may already be gone.
struct VarGrad {
  std::shared_ptr<Node> node;
  NDArray grad;
};

// The shared walk of backward() and grad(): per-variable-node gradient sums.
std::unordered_map<Node*, VarGrad> run(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads,
                                       bool retain_graph, bool create_graph, bool is_train) {
  MX_CHECK(!heads.empty(), kInvalidArgument, "backward needs at least one head array");
  MX_CHECK(head_grads.empty() || head_grads.size() == heads.size(), kInvalidArgument, "got ", head_grads.size(),
           " head gradients for ", heads.size(), " heads");
  for (size_t i = 0; i < heads.size(); ++i) {
    MX_CHECK(heads[i].ag_node() != nullptr, kInvalidArgument, "cannot differentiate head ", i,
             ": the array was not computed from variables while recording (call attach_grad() on the inputs and "
             "compute under autograd.record())");
    if (!head_grads.empty() && !head_grads[i].is_none()) {
      MX_CHECK(head_grads[i].shape() == heads[i].shape(), kShape, "head gradient ", i, " has shape ",
               head_grads[i].shape().str(), " but the head has shape ", heads[i].shape().str());
    }
  }
  std::vector<std::shared_ptr<Node>> order = topo_order(heads);
  for (const auto& n : order)
    MX_CHECK(!n->freed, kInvalidArgument,
             "the graph was already freed by a backward pass: to call backward (or grad) through it again, pass "
             "retain_graph=True to the first call");

  ModeGuard guard(create_graph, is_train);
  std::unordered_map<Node*, std::vector<std::vector<NDArray>>> contrib;
  auto slot = [&](Node* n, int idx) -> std::vector<NDArray>& {
    auto& v = contrib[n];
    size_t nout = n->is_variable() ? 1 : n->outputs.size();
    if (v.size() < nout) v.resize(nout);
    return v[idx];
  };
  for (size_t i = 0; i < heads.size(); ++i) {
    NDArray g = (!head_grads.empty() && !head_grads[i].is_none()) ? head_grads[i] : call1("ones_like", {heads[i].detached()});
    slot(heads[i].ag_node().get(), heads[i].ag_index()).push_back(g);
  }
  std::unordered_map<Node*, VarGrad> var_grads;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const std::shared_ptr<Node>& node = *it;
    auto found = contrib.find(node.get());
    if (found == contrib.end()) continue;
    auto& parts = found->second;
    if (node->is_variable()) {
      if (!parts[0].empty()) var_grads[node.get()] = VarGrad{node, sum_all(parts[0])};
      continue;
    }
    if (node->custom) {
      run_custom(node, &parts, slot);
      contrib.erase(found);
      continue;
    }
    const OpDef& op = *node->op;
    MX_CHECK(static_cast<bool>(op.grad_fn()), kUnsupported, "operator ", op.name(),
             " is not differentiable (it has no registered gradient) but a gradient flows through it");
    ImperativeBuilder b;
    GradArgs a{*node->params, {}, {}, {}, node->rng_seed, node->rng_stream, node->is_train};
    for (const NDArray& in : node->inputs) {
      a.inputs.push_back(b.add(in));
      a.needs_grad.push_back(in.ag_node() != nullptr);  // others are dropped below anyway
    }
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      NDArray out = node->outputs[i];
      out.set_ag(node, static_cast<int>(i));
      a.outputs.push_back(b.add(out));
      parts.resize(node->outputs.size());
      a.ograds.push_back(b.add(parts[i].empty() ? call1("zeros_like", {node->outputs[i]}) : sum_all(parts[i])));
    }
    bool prev_train = set_training(node->is_train);
    std::vector<GradValue> g = op.grad_fn()(b, a);
    set_training(prev_train);
    MX_CHECK(g.size() == node->inputs.size(), kInternal, "gradient of ", op.name(), " returned ", g.size(),
             " values for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < g.size(); ++i) {
      const NDArray& in = node->inputs[i];
      if (!g[i].valid() || !in.ag_node()) continue;
      const NDArray& gi = b.table[g[i].id];
      MX_CHECK(gi.shape() == in.shape(), kInternal, "gradient of ", op.name(), " for input ", i, " has shape ",
               gi.shape().str(), ", expected ", in.shape().str());
      slot(in.ag_node().get(), in.ag_index()).push_back(gi);
    }
    contrib.erase(found);  // done with this node's incoming gradients
  }
  if (!retain_graph) {
    for (const auto& n : order) {
      if (n->is_variable()) continue;
      n->inputs.clear();
      n->outputs.clear();
      n->custom.reset();  // releases the function's state (saved tensors) now, not when the outputs die
      n->freed = true;
    }
  }
  return var_grads;
}

}  // namespace

bool set_recording(bool recording) {
  bool prev = t_recording;
  t_recording = recording;
  return prev;
}
bool is_recording() { return t_recording; }

void mark_variables(std::vector<NDArray*> vars, const std::vector<int>& reqs, const std::vector<NDArray>& grads) {
  MX_CHECK(vars.size() == reqs.size() && vars.size() == grads.size(), kInvalidArgument,
           "mark_variables: ", vars.size(), " arrays, ", reqs.size(), " grad_reqs, ", grads.size(), " gradients");
  for (size_t i = 0; i < vars.size(); ++i) {
    MX_CHECK(reqs[i] == kNullReq || reqs[i] == kWriteReq || reqs[i] == kAddReq, kInvalidArgument,
             "grad_req ", reqs[i], " is not null (0), write (1) or add (3)");
    MX_CHECK(grads[i].shape() == vars[i]->shape(), kShape, "gradient buffer ", i, " has shape ",
             grads[i].shape().str(), " but the array has shape ", vars[i]->shape().str());
    MX_CHECK(grads[i].dtype() == vars[i]->dtype(), kDType, "gradient buffer ", i, " has dtype ",
             dtype_name(grads[i].dtype()), " but the array has dtype ", dtype_name(vars[i]->dtype()));
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    auto node = std::make_shared<Node>();
    node->grad = grads[i].detached();
    node->grad_req = reqs[i];
    vars[i]->set_ag(node, 0);
  }
}

void check_inplace(const OpDef& op, const std::vector<NDArray>& inputs, const std::vector<NDArray>& provided) {
  bool inputs_recorded = false;
  for (const NDArray& in : inputs) inputs_recorded = inputs_recorded || in.ag_node() != nullptr;
  for (const NDArray& o : provided) {
    if (o.is_none()) continue;
    MX_CHECK(!o.ag_node() && !inputs_recorded, kUnsupported, "operator ", op.name(),
             ": in-place writes (out=, +=, x[...] = ...) into arrays of a recorded graph are not supported while "
             "recording");
  }
  for (int m : op.mutated_inputs()) {
    if (m < static_cast<int>(inputs.size()))
      MX_CHECK(!inputs[m].ag_node() || inputs[m].ag_node()->is_variable(), kUnsupported, "operator ", op.name(),
               ": input ", m, " is written in place and is part of a recorded graph");
  }
}

void record(const OpDef& op, const ParamsPtr& params, const std::vector<NDArray>& inputs,
            std::vector<NDArray>* outputs, uint64_t rng_seed, uint64_t rng_stream) {
  bool need = false;
  for (const NDArray& in : inputs) need = need || in.ag_node() != nullptr;
  if (!need) return;
  auto node = std::make_shared<Node>();
  node->op = &op;
  node->params = params;
  node->is_train = is_training();
  node->rng_seed = rng_seed;
  node->rng_stream = rng_stream;
  node->inputs = inputs;
  for (auto& o : *outputs) node->outputs.push_back(o.detached());
  for (size_t i = 0; i < outputs->size(); ++i) (*outputs)[i].set_ag(node, static_cast<int>(i));
}

bool record_function(std::shared_ptr<CustomFunction> fn, const std::vector<NDArray>& inputs,
                     const std::vector<NDArray*>& outputs) {
  MX_CHECK(fn != nullptr, kInvalidArgument, "record_function: no function");
  const std::string& name = fn->name();
  MX_CHECK(!outputs.empty(), kInvalidArgument, "custom function '", name, "' has no outputs to record");
  for (size_t i = 0; i < outputs.size(); ++i) {
    MX_CHECK(outputs[i] != nullptr && !outputs[i]->is_none(), kInvalidArgument, "custom function '", name,
             "': output ", i, " is not an array");
    const NDArray& o = *outputs[i];
    for (size_t j = 0; j < inputs.size(); ++j)
      MX_CHECK(!o.ag_node() || o.ag_node() != inputs[j].ag_node() || o.ag_index() != inputs[j].ag_index(),
               kInvalidArgument, "custom function '", name, "': output ", i, " is input ", j,
               " itself; forward must return new arrays (return a copy)");
    for (size_t j = 0; j < i; ++j)
      MX_CHECK(outputs[j] != outputs[i], kInvalidArgument, "custom function '", name, "': outputs ", j, " and ", i,
               " are the same array");
  }
  if (!is_recording()) return false;
  bool need = false;
  for (const NDArray& in : inputs) need = need || in.ag_node() != nullptr;
  if (!need) return false;
  auto node = std::make_shared<Node>();
  node->custom = std::move(fn);
  node->is_train = is_training();
  node->inputs = inputs;
  for (NDArray* o : outputs) node->outputs.push_back(o->detached());
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i]->set_ag(node, static_cast<int>(i));
  return true;
}

void backward(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads, bool retain_graph,
              bool create_graph, bool is_train) {
  auto var_grads = run(heads, head_grads, retain_graph, create_graph, is_train);
  bool prev = set_recording(false);
  struct Restore {
    bool p;
    ~Restore() { set_recording(p); }
  } restore{prev};
  for (auto& kv : var_grads) {
    Node* v = kv.second.node.get();
    if (v->grad_req == kNullReq || v->grad.is_none()) continue;
    if (v->grad_req == kWriteReq) {
      copy_ndarray(kv.second.grad, v->grad);
    } else {
      const OpDef& add = get_op("elemwise_add");
      std::vector<NDArray> out{v->grad};
      invoke(add, Params::defaults(add), {v->grad, kv.second.grad.detached()}, &out);
    }
    v->fresh_grad = true;
  }
}

std::vector<NDArray> grad(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads,
                          const std::vector<NDArray>& variables, bool retain_graph, bool create_graph, bool is_train) {
  for (size_t i = 0; i < variables.size(); ++i)
    MX_CHECK(variables[i].ag_node() && variables[i].ag_node()->is_variable(), kInvalidArgument, "variable ", i,
             " was not marked for gradients (call attach_grad / mark_variables first)");
  auto var_grads = run(heads, head_grads, retain_graph, create_graph, is_train);
  std::vector<NDArray> out;
  bool prev = set_recording(create_graph);
  struct Restore {
    bool p;
    ~Restore() { set_recording(p); }
  } restore{prev};
  for (const NDArray& v : variables) {
    auto it = var_grads.find(v.ag_node().get());
    out.push_back(it != var_grads.end() ? it->second.grad : call1("zeros_like", {v.detached()}));
  }
  return out;
}

}  // namespace autograd
}  // namespace mx
