// The bound executor (MXNet's Symbol.bind / simple_bind). Everything is resolved at bind time:
// shapes, the gradient graph, the memory plan, one array per entry, and per node the op, its
// parameters and its input/output arrays, so forward() and backward() are plain loops of pushes.
#include "executor/executor.h"

#include <algorithm>

#include "base/error.h"
#include "executor/runner.h"
#include "op/imperative.h"

namespace mx {
namespace exec {

using detail::Compiled;
using detail::Step;

struct GraphExecutor::Impl {
  graph::Symbol sym;
  Device dev;
  ExecOptions opt;
  graph::IndexedGraph fwd;
  std::vector<std::string> arg_names, aux_names, out_names;
  std::vector<NDArray> args, grads, aux, outputs, head_grads;
  std::vector<int> reqs;
  std::shared_ptr<Compiled> c;
  std::vector<NDArray> entries;
  std::shared_ptr<detail::SlotSet> slots;
  std::vector<Step> ones_steps;  // per head: ones_like(output) -> head gradient
  std::vector<Step> grad_steps;  // copies and sums into the user's gradient arrays
  detail::RngState rng;
  bool forwarded = false, forward_train = false;
};

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

const char* req_name(int r) {
  switch (r) {
    case kNullOp: return "null";
    case kWriteTo: return "write";
    case kWriteInplace: return "inplace";
    default: return "add";
  }
}

// Known shapes and dtypes of every entry of fwd, from the arrays bound to its variables.
void infer_all(const graph::IndexedGraph& fwd, const std::vector<NDArray>& args, const std::vector<NDArray>& aux,
               std::vector<Shape>* shapes, std::vector<DType>* dtypes) {
  shapes->assign(fwd.num_entries(), Shape::unknown());
  dtypes->assign(fwd.num_entries(), kUnknownDType);
  for (size_t i = 0; i < args.size(); ++i) {
    const uint32_t e = fwd.entry_start[fwd.arg_nodes[i]];
    (*shapes)[e] = args[i].shape();
    (*dtypes)[e] = args[i].dtype();
  }
  for (size_t i = 0; i < aux.size(); ++i) {
    const uint32_t e = fwd.entry_start[fwd.aux_nodes[i]];
    (*shapes)[e] = aux[i].shape();
    (*dtypes)[e] = aux[i].dtype();
  }
  graph::infer_shapes(fwd, shapes, false);
  graph::infer_types(fwd, dtypes, false);
}

}  // namespace

GraphExecutor::GraphExecutor(const graph::Symbol& sym, Device dev, std::vector<NDArray> args,
                             std::vector<NDArray> arg_grads, std::vector<int> grad_reqs, std::vector<NDArray> aux,
                             ExecOptions opt)
    : impl_(new Impl()) {
  Impl& m = *impl_;
  m.sym = sym;
  m.dev = dev;
  m.opt = opt;
  check_device(dev);
  m.arg_names = sym.list_arguments();
  m.aux_names = sym.list_auxiliary_states();
  m.out_names = sym.list_outputs();
  const size_t na = m.arg_names.size();
  MX_CHECK(args.size() == na, kInvalidArgument, "bind: the symbol has ", na, " argument(s) (", join(m.arg_names),
           "), got ", args.size(), " array(s)");
  MX_CHECK(aux.size() == m.aux_names.size(), kInvalidArgument, "bind: the symbol has ", m.aux_names.size(),
           " auxiliary state(s) (", join(m.aux_names), "), got ", aux.size(), " array(s)");
  MX_CHECK(arg_grads.empty() || arg_grads.size() == na, kInvalidArgument, "bind: ", arg_grads.size(),
           " gradient array(s) for ", na, " argument(s)");
  MX_CHECK(grad_reqs.empty() || grad_reqs.size() == na, kInvalidArgument, "bind: ", grad_reqs.size(),
           " grad_req(s) for ", na, " argument(s)");
  if (grad_reqs.empty()) grad_reqs.assign(na, kNullOp);
  if (arg_grads.empty()) arg_grads.resize(na);
  for (size_t i = 0; i < na; ++i) {
    const std::string& name = m.arg_names[i];
    MX_CHECK(!args[i].is_none(), kInvalidArgument, "bind: argument '", name, "' is a none array");
    MX_CHECK(args[i].device() == dev, kInvalidArgument, "bind: argument '", name, "' is on ",
             device_str(args[i].device()), " but the executor runs on ", device_str(dev));
    const int r = grad_reqs[i];
    MX_CHECK(r >= kNullOp && r <= kAddTo, kInvalidArgument, "bind: grad_req ", r, " of argument '", name,
             "' is not null (0), write (1), inplace (2) or add (3)");
    if (r == kNullOp) {
      arg_grads[i] = NDArray();
      continue;
    }
    const NDArray& g = arg_grads[i];
    MX_CHECK(!g.is_none(), kInvalidArgument, "bind: argument '", name, "' has grad_req '", req_name(r),
             "' but no gradient array");
    MX_CHECK(g.shape() == args[i].shape(), kShape, "bind: the gradient array of argument '", name, "' has shape ",
             g.shape().str(), " but the argument has shape ", args[i].shape().str());
    MX_CHECK(g.dtype() == args[i].dtype(), kDType, "bind: the gradient array of argument '", name, "' has dtype ",
             dtype_name(g.dtype()), " but the argument has dtype ", dtype_name(args[i].dtype()));
    MX_CHECK(g.device() == dev, kInvalidArgument, "bind: the gradient array of argument '", name, "' is on ",
             device_str(g.device()), " but the executor runs on ", device_str(dev));
  }
  for (size_t i = 0; i < aux.size(); ++i) {
    MX_CHECK(!aux[i].is_none(), kInvalidArgument, "bind: auxiliary state '", m.aux_names[i], "' is a none array");
    MX_CHECK(aux[i].device() == dev, kInvalidArgument, "bind: auxiliary state '", m.aux_names[i], "' is on ",
             device_str(aux[i].device()), " but the executor runs on ", device_str(dev));
  }
  m.args = std::move(args);
  m.grads = std::move(arg_grads);
  m.aux = std::move(aux);
  m.reqs = std::move(grad_reqs);

  m.fwd = graph::IndexedGraph(sym);
  MX_CHECK(m.fwd.arg_nodes.size() == na && m.fwd.aux_nodes.size() == m.aux.size(), kInternal,
           "bind: the indexed graph lists ", m.fwd.arg_nodes.size(), " arguments and ", m.fwd.aux_nodes.size(),
           " auxiliary states");
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  infer_all(m.fwd, m.args, m.aux, &shapes, &dtypes);
  std::vector<uint32_t> wrt;
  for (size_t i = 0; i < na; ++i)
    if (m.reqs[i] != kNullOp) wrt.push_back(m.fwd.arg_nodes[i]);
  m.c = detail::compile(sym, m.fwd, shapes, dtypes, wrt, /*is_train=*/true, opt.plan_memory);
  Compiled& c = *m.c;

  // One array per entry: the user's arrays for variables, own arrays for heads and head
  // gradients, views of the planned slots for the rest.
  const uint32_t ne = c.g.num_entries();
  m.slots = detail::make_slots(c, 0, static_cast<int>(c.plan.slot_bytes.size()), dev);
  m.entries = m.slots->views;
  for (size_t i = 0; i < na; ++i) m.entries[m.fwd.entry_start[m.fwd.arg_nodes[i]]] = m.args[i];
  for (size_t i = 0; i < m.aux.size(); ++i) m.entries[m.fwd.entry_start[m.fwd.aux_nodes[i]]] = m.aux[i];
  for (uint32_t e : c.output_eids)
    if (m.entries[e].is_none()) m.entries[e] = NDArray(c.shapes[e], dev, c.dtypes[e]);
  for (uint32_t e : c.output_eids) m.outputs.push_back(m.entries[e]);
  m.head_grads.resize(c.head_grad_eids.size());
  for (size_t k = 0; k < c.head_grad_eids.size(); ++k) {
    const uint32_t e = c.head_grad_eids[k];
    if (e == UINT32_MAX) continue;
    m.entries[e] = m.head_grads[k] = NDArray(c.shapes[e], dev, c.dtypes[e]);
    m.ones_steps.push_back(detail::make_step("ones_like", {m.outputs[k]}, {m.head_grads[k]}));
  }
  // Gradient entries: a gradient node's output is written straight into the user's array (req
  // write) or into an own buffer that is then added (req add); an entry that is not a gradient
  // node's own output (a head gradient, a forward value) or that a previous argument already
  // took is copied or added afterwards.
  std::vector<char> claimed(ne, 0);
  std::vector<int> wrt_args;
  for (size_t i = 0; i < na; ++i)
    if (m.reqs[i] != kNullOp) wrt_args.push_back(static_cast<int>(i));
  std::vector<char> own(wrt_args.size(), 0);
  for (size_t j = 0; j < wrt_args.size(); ++j) {
    const uint32_t e = c.grad_eids[j];
    const int i = wrt_args[j];
    if (e < c.num_fwd_entries || c.is_variable_entry(e) || claimed[e]) continue;
    claimed[e] = 1;
    own[j] = 1;
    m.entries[e] = m.reqs[i] == kAddTo ? NDArray(c.shapes[e], dev, c.dtypes[e]) : m.grads[i];
  }
  for (size_t j = 0; j < wrt_args.size(); ++j) {
    const uint32_t e = c.grad_eids[j];
    const int i = wrt_args[j];
    if (m.reqs[i] == kAddTo)
      m.grad_steps.push_back(detail::make_step("elemwise_add", {m.grads[i], m.entries[e]}, {m.grads[i]}));
    else if (!own[j])
      m.grad_steps.push_back(detail::make_step("_copy", {m.entries[e]}, {m.grads[i]}));
  }
  for (uint32_t e = 0; e < ne; ++e)
    MX_CHECK(!m.entries[e].is_none(), kInternal, "bind: entry ", e, " of node '",
             c.g.nodes[c.g.entry_node(e)]->name, "' has no array");
  detail::bind_steps(&c.steps, 0, c.steps.size(), m.entries);
  m.rng.seed.assign(c.num_rng, 0);
  m.rng.stream.assign(c.num_rng, 0);
}

GraphExecutor::~GraphExecutor() = default;

std::unique_ptr<GraphExecutor> GraphExecutor::simple_bind(const graph::Symbol& sym, Device dev,
                                                          const std::map<std::string, Shape>& shapes,
                                                          const std::map<std::string, DType>& dtypes,
                                                          const std::map<std::string, int>& grad_reqs,
                                                          ExecOptions opt) {
  graph::IndexedGraph fwd(sym);
  const std::vector<std::string> inputs = sym.list_inputs();
  std::map<std::string, uint32_t> entry_of;
  for (size_t i = 0; i < fwd.input_nodes.size(); ++i)
    entry_of[fwd.nodes[fwd.input_nodes[i]]->name] = fwd.entry_start[fwd.input_nodes[i]];
  std::vector<Shape> s(fwd.num_entries(), Shape::unknown());
  std::vector<DType> t(fwd.num_entries(), kUnknownDType);
  for (const auto& kv : shapes) {
    auto it = entry_of.find(kv.first);
    MX_CHECK(it != entry_of.end(), kInvalidArgument, "simple_bind: '", kv.first,
             "' is not an input of the symbol (inputs: ", join(inputs), ")");
    s[it->second] = kv.second;
  }
  for (const auto& kv : dtypes) {
    auto it = entry_of.find(kv.first);
    MX_CHECK(it != entry_of.end(), kInvalidArgument, "simple_bind: '", kv.first,
             "' is not an input of the symbol (inputs: ", join(inputs), ")");
    t[it->second] = kv.second;
  }
  graph::infer_shapes(fwd, &s, false);
  // Variables whose dtype nothing determines are float32 (MXNet's default).
  if (!graph::infer_types(fwd, &t, true)) {
    for (uint32_t id : fwd.input_nodes) {
      const uint32_t e = fwd.entry_start[id];
      if (t[e] == kUnknownDType) {
        t[e] = DType::kFloat32;
        graph::infer_types(fwd, &t, true);
      }
    }
    graph::infer_types(fwd, &t, false);
  }
  int default_req = kWriteTo;
  auto star = grad_reqs.find("*");
  if (star != grad_reqs.end()) default_req = star->second;
  const std::vector<std::string> arg_names = sym.list_arguments();
  for (const auto& kv : grad_reqs)
    MX_CHECK(kv.first == "*" || std::find(arg_names.begin(), arg_names.end(), kv.first) != arg_names.end(),
             kInvalidArgument, "simple_bind: grad_req given for '", kv.first, "', which is not an argument (",
             join(arg_names), ")");
  std::vector<NDArray> args, grads, aux;
  std::vector<int> reqs;
  for (size_t i = 0; i < fwd.arg_nodes.size(); ++i) {
    const uint32_t e = fwd.entry_start[fwd.arg_nodes[i]];
    args.push_back(detail::zeros(s[e], t[e], dev));
    auto it = grad_reqs.find(arg_names[i]);
    const int r = it != grad_reqs.end() ? it->second : default_req;
    reqs.push_back(r);
    grads.push_back(r == kNullOp ? NDArray() : detail::zeros(s[e], t[e], dev));
  }
  for (uint32_t id : fwd.aux_nodes) {
    const uint32_t e = fwd.entry_start[id];
    aux.push_back(detail::zeros(s[e], t[e], dev));
  }
  return std::unique_ptr<GraphExecutor>(
      new GraphExecutor(sym, dev, std::move(args), std::move(grads), std::move(reqs), std::move(aux), opt));
}

void GraphExecutor::forward(bool is_train) {
  Impl& m = *impl_;
  Compiled& c = *m.c;
  detail::run_steps(&c.steps, 0, c.num_fwd_steps, is_train, &m.rng);
  m.forwarded = true;
  m.forward_train = is_train;
}

void GraphExecutor::backward(const std::vector<NDArray>& out_grads) {
  Impl& m = *impl_;
  Compiled& c = *m.c;
  MX_CHECK(m.forwarded, kInvalidArgument, "backward called before forward: run forward(is_train=True) first");
  if (!c.has_backward()) return;  // no argument asked for a gradient
  MX_CHECK(m.forward_train, kUnsupported, "backward after forward(is_train=False) is not supported: the gradient ",
           "graph is built for training mode; run forward(is_train=True) before backward");
  const size_t nout = m.outputs.size();
  MX_CHECK(out_grads.empty() || out_grads.size() == nout, kInvalidArgument, "backward: got ", out_grads.size(),
           " output gradient(s) for ", nout, " output(s)");
  size_t ones = 0;
  for (size_t k = 0; k < nout; ++k) {
    if (c.head_grad_eids[k] == UINT32_MAX) continue;
    Step& fill = m.ones_steps[ones++];
    if (out_grads.empty() || out_grads[k].is_none()) {
      detail::run_steps(&m.ones_steps, ones - 1, ones, true, &m.rng);
      continue;
    }
    const NDArray& g = out_grads[k];
    MX_CHECK(g.shape() == m.outputs[k].shape(), kShape, "backward: the gradient of output '", m.out_names[k],
             "' has shape ", g.shape().str(), " but the output has shape ", m.outputs[k].shape().str());
    MX_CHECK(g.dtype() == m.outputs[k].dtype(), kDType, "backward: the gradient of output '", m.out_names[k],
             "' has dtype ", dtype_name(g.dtype()), " but the output has dtype ", dtype_name(m.outputs[k].dtype()));
    copy_ndarray(g, fill.out[0]);
  }
  detail::run_steps(&c.steps, c.num_fwd_steps, c.steps.size(), true, &m.rng);
  detail::run_steps(&m.grad_steps, 0, m.grad_steps.size(), true, &m.rng);
}

const std::vector<NDArray>& GraphExecutor::outputs() const { return impl_->outputs; }
const std::vector<NDArray>& GraphExecutor::args() const { return impl_->args; }
const std::vector<NDArray>& GraphExecutor::arg_grads() const { return impl_->grads; }
const std::vector<NDArray>& GraphExecutor::aux() const { return impl_->aux; }
const graph::Symbol& GraphExecutor::symbol() const { return impl_->sym; }
const graph::MemoryPlan& GraphExecutor::memory_plan() const { return impl_->c->plan; }

std::unique_ptr<GraphExecutor> GraphExecutor::reshape(const std::map<std::string, Shape>& shapes,
                                                      bool partial_shaping, bool allow_up_sizing) const {
  const Impl& m = *impl_;
  const graph::IndexedGraph& fwd = m.fwd;
  std::map<std::string, uint32_t> entry_of;
  for (uint32_t id : fwd.input_nodes) entry_of[fwd.nodes[id]->name] = fwd.entry_start[id];
  std::vector<Shape> s(fwd.num_entries(), Shape::unknown());
  for (const auto& kv : shapes) {
    auto it = entry_of.find(kv.first);
    MX_CHECK(it != entry_of.end(), kInvalidArgument, "reshape: '", kv.first,
             "' is not an input of the symbol (inputs: ", join(m.sym.list_inputs()), ")");
    s[it->second] = kv.second;
  }
  // Inputs the new shapes do not determine keep their current shapes.
  if (!graph::infer_shapes(fwd, &s, true)) {
    for (size_t i = 0; i < m.args.size(); ++i) {
      Shape& a = s[fwd.entry_start[fwd.arg_nodes[i]]];
      if (!a.known()) a = m.args[i].shape();
    }
    for (size_t i = 0; i < m.aux.size(); ++i) {
      Shape& a = s[fwd.entry_start[fwd.aux_nodes[i]]];
      if (!a.known()) a = m.aux[i].shape();
    }
    graph::infer_shapes(fwd, &s, false);
  }
  auto resize = [&](const std::string& name, const NDArray& old, const Shape& ns) -> NDArray {
    if (old.is_none() || old.shape() == ns) return old;
    MX_CHECK(partial_shaping || shapes.count(name), kShape, "reshape: the shape of argument '", name,
             "' changes from ", old.shape().str(), " to ", ns.str(),
             " although it was not given; pass partial_shaping=True if this is intended");
    if (ns.size() > old.shape().size()) {
      MX_CHECK(allow_up_sizing, kShape, "reshape: argument '", name, "' grows from ", old.shape().str(), " to ",
               ns.str(), "; pass allow_up_sizing=True to allocate a larger array");
      return detail::zeros(ns, old.dtype(), old.device());
    }
    return NDArray(old.storage(), ns, old.dtype(), old.byte_offset());
  };
  std::vector<NDArray> args, grads, aux;
  for (size_t i = 0; i < m.args.size(); ++i) {
    const Shape& ns = s[fwd.entry_start[fwd.arg_nodes[i]]];
    args.push_back(resize(m.arg_names[i], m.args[i], ns));
    grads.push_back(resize(m.arg_names[i], m.grads[i], ns));
  }
  for (size_t i = 0; i < m.aux.size(); ++i)
    aux.push_back(resize(m.aux_names[i], m.aux[i], s[fwd.entry_start[fwd.aux_nodes[i]]]));
  return std::unique_ptr<GraphExecutor>(new GraphExecutor(m.sym, m.dev, std::move(args), std::move(grads), m.reqs,
                                                          std::move(aux), m.opt));
}

}  // namespace exec
}  // namespace mx
