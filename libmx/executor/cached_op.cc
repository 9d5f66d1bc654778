// CachedOp: a traced graph run as one op (Gluon's hybridize). Per input signature (shapes,
// dtypes, training mode and which inputs need gradients) the graph is compiled once: gradient
// graph, memory plan, resolved nodes. A call binds the inputs, fresh outputs and slot storage to
// the entries and pushes the nodes; under autograd.record the whole call is recorded as one
// node whose backward runs the compiled gradient nodes on the state that call left.
#include <algorithm>
#include <atomic>
#include <mutex>

#include "autograd/autograd.h"
#include "base/error.h"
#include "executor/executor.h"
#include "executor/runner.h"
#include "op/imperative.h"

namespace mx {
namespace exec {

using detail::Compiled;

namespace {

constexpr size_t kMaxPlans = 32;  // signatures kept per cached op (oldest dropped first)

struct Plan {
  // The signature.
  std::vector<Shape> in_shapes;
  std::vector<DType> in_dtypes;
  bool is_train = false;
  std::vector<bool> wrt;  // per input; all false: forward only

  std::shared_ptr<Compiled> c;
  // Set when the gradient could not be built (a non-differentiable op on a path): the recorded
  // call's backward reports it, as imperative mode would.
  bool grad_failed = false;
  ErrorCode grad_code = ErrorCode::kUnsupported;
  std::string grad_error;
  std::vector<uint32_t> input_eids;  // per input
  std::vector<int> wrt_index;        // per input: its position among the gradients, or -1
  std::vector<char> out_fresh;       // per output: a node's own output (else copied)
  std::vector<char> grad_fresh;      // per gradient: a gradient node's own output (else copied)
  Device dev;
  std::mutex mu;  // one call at a time binds the steps
  // static_alloc: slot storage kept across calls. The forward set is lent to one recorded call
  // at a time (until its backward is done); the gradient set is only used inside a backward.
  std::shared_ptr<detail::SlotSet> fwd_static, bwd_static;

  bool matches(const std::vector<NDArray>& in, bool train, const std::vector<bool>& w, bool check_shapes) const {
    if (train != is_train || w != wrt || (!in.empty() && in[0].device() != dev)) return false;
    if (!check_shapes) return true;
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i].shape() != in_shapes[i] || in[i].dtype() != in_dtypes[i]) return false;
    return true;
  }
};

// What one recorded call leaves for its backward.
struct Run {
  std::shared_ptr<Plan> plan;
  std::vector<NDArray> entries;
  std::shared_ptr<detail::SlotSet> fwd_slots;
  detail::RngState rng;
};

std::shared_ptr<detail::SlotSet> forward_slots(Plan& p, bool static_alloc) {
  const Compiled& c = *p.c;
  if (!static_alloc) return detail::make_slots(c, 0, c.num_fwd_slots, p.dev);
  if (!p.fwd_static) p.fwd_static = detail::make_slots(c, 0, c.num_fwd_slots, p.dev);
  // Held by a recorded call still waiting for its backward: that call's values stay intact.
  if (p.fwd_static.use_count() > 1) return detail::make_slots(c, 0, c.num_fwd_slots, p.dev);
  return p.fwd_static;
}

class CachedFunction : public autograd::CustomFunction {
 public:
  CachedFunction(std::shared_ptr<Run> run, bool static_alloc)
      : autograd::CustomFunction("_CachedOp"), run_(std::move(run)), static_alloc_(static_alloc) {}

  std::vector<NDArray> backward(const std::vector<NDArray>& outputs, const std::vector<NDArray>& ograds) override {
    MX_CHECK(!autograd::is_recording(), kUnsupported,
             "higher-order gradients through a hybridized (cached) graph are not supported");
    Plan& p = *run_->plan;
    if (p.grad_failed) throw Error(p.grad_code, p.grad_error);
    Compiled& c = *p.c;
    const size_t nout = c.output_eids.size();
    MX_CHECK(ograds.size() == nout, kInternal, "cached op backward: ", ograds.size(), " output gradients for ",
             nout, " outputs");
    (void)outputs;  // the run's entries hold them
    std::lock_guard<std::mutex> lk(p.mu);
    std::vector<NDArray>& ent = run_->entries;
    for (size_t k = 0; k < nout; ++k) {
      const uint32_t e = c.head_grad_eids[k];
      if (e == UINT32_MAX) continue;
      const NDArray& g = ograds[k];
      MX_CHECK(g.shape() == c.shapes[e], kShape, "cached op backward: the gradient of output ", k, " has shape ",
               g.shape().str(), " but the output has shape ", c.shapes[e].str());
      MX_CHECK(g.dtype() == c.dtypes[e], kDType, "cached op backward: the gradient of output ", k, " has dtype ",
               dtype_name(g.dtype()), " but the output has dtype ", dtype_name(c.dtypes[e]));
      ent[e] = g.detached();
    }
    std::shared_ptr<detail::SlotSet> bslots;
    const int nslots = static_cast<int>(c.plan.slot_bytes.size());
    if (static_alloc_) {
      if (!p.bwd_static) p.bwd_static = detail::make_slots(c, c.num_fwd_slots, nslots, p.dev);
      bslots = p.bwd_static;
    } else {
      bslots = detail::make_slots(c, c.num_fwd_slots, nslots, p.dev);
    }
    const uint32_t ne = c.g.num_entries();
    for (uint32_t e = c.num_fwd_entries; e < ne; ++e)
      if (!bslots->views[e].is_none()) ent[e] = bslots->views[e];
    for (size_t j = 0; j < c.grad_eids.size(); ++j) {
      const uint32_t e = c.grad_eids[j];
      if (p.grad_fresh[j]) ent[e] = NDArray(c.shapes[e], p.dev, c.dtypes[e]);
    }
    struct Unbind {
      Compiled& c;
      std::vector<NDArray>& ent;
      ~Unbind() {
        detail::unbind_steps(&c.steps, c.num_fwd_steps, c.steps.size());
        // Keep only what the forward left (a retained graph may run backward again).
        for (uint32_t e = c.num_fwd_entries; e < ent.size(); ++e) ent[e] = NDArray();
      }
    };
    std::vector<NDArray> result(p.wrt_index.size());
    {
      Unbind guard{c, ent};
      detail::bind_steps(&c.steps, c.num_fwd_steps, c.steps.size(), ent);
      detail::run_steps(&c.steps, c.num_fwd_steps, c.steps.size(), p.is_train, &run_->rng);
      for (size_t i = 0; i < result.size(); ++i) {
        const int j = p.wrt_index[i];
        if (j < 0) continue;
        const NDArray& g = ent[c.grad_eids[j]];
        result[i] = p.grad_fresh[j] ? g : detail::copy_of(g);
      }
    }
    return result;
  }

 private:
  std::shared_ptr<Run> run_;
  bool static_alloc_;
};

}  // namespace

struct CachedOp::Impl {
  graph::Symbol sym;
  CachedOpFlags flags;
  graph::IndexedGraph fwd;
  std::vector<std::string> input_names;
  std::mutex mu;  // the plan list
  std::vector<std::shared_ptr<Plan>> plans;  // most recently used last
  std::atomic<size_t> planned{0}, naive{0};

  std::shared_ptr<Plan> make_plan(const std::vector<NDArray>& in, bool train, const std::vector<bool>& wrt);
};

std::shared_ptr<Plan> CachedOp::Impl::make_plan(const std::vector<NDArray>& in, bool train,
                                                const std::vector<bool>& wrt) {
  auto p = std::make_shared<Plan>();
  p->is_train = train;
  p->wrt = wrt;
  p->dev = in.empty() ? Device::cpu() : in[0].device();
  std::vector<Shape> shapes(fwd.num_entries(), Shape::unknown());
  std::vector<DType> dtypes(fwd.num_entries(), kUnknownDType);
  for (size_t i = 0; i < in.size(); ++i) {
    const uint32_t e = fwd.entry_start[fwd.input_nodes[i]];
    p->in_shapes.push_back(in[i].shape());
    p->in_dtypes.push_back(in[i].dtype());
    p->input_eids.push_back(e);
    shapes[e] = in[i].shape();
    dtypes[e] = in[i].dtype();
  }
  graph::infer_shapes(fwd, &shapes, false);
  graph::infer_types(fwd, &dtypes, false);
  std::vector<uint32_t> wrt_nodes;
  p->wrt_index.assign(in.size(), -1);
  for (size_t i = 0; i < in.size(); ++i) {
    if (!wrt[i]) continue;
    p->wrt_index[i] = static_cast<int>(wrt_nodes.size());
    wrt_nodes.push_back(fwd.input_nodes[i]);
  }
  if (!wrt_nodes.empty()) {
    try {
      p->c = detail::compile(sym, fwd, shapes, dtypes, wrt_nodes, train, flags.plan_memory);
    } catch (const Error& e) {
      p->grad_failed = true;
      p->grad_code = e.code();
      p->grad_error = e.what();
    }
  }
  if (!p->c) p->c = detail::compile(sym, fwd, shapes, dtypes, {}, train, flags.plan_memory);
  const Compiled& c = *p->c;
  std::vector<char> seen(c.g.num_entries(), 0);
  for (uint32_t e : c.output_eids) {
    p->out_fresh.push_back(!c.is_variable_entry(e) && !seen[e]);
    seen[e] = 1;
  }
  std::fill(seen.begin(), seen.end(), 0);
  for (uint32_t e : c.grad_eids) {
    p->grad_fresh.push_back(e >= c.num_fwd_entries && !c.is_variable_entry(e) && !seen[e]);
    seen[e] = 1;
  }
  planned = c.plan.planned_bytes;
  naive = c.plan.naive_bytes;
  return p;
}

CachedOp::CachedOp(const graph::Symbol& sym, CachedOpFlags flags) : impl_(std::make_shared<Impl>()) {
  impl_->sym = sym;
  impl_->flags = flags;
  impl_->fwd = graph::IndexedGraph(sym);
  impl_->input_names = sym.list_inputs();
  MX_CHECK(impl_->input_names.size() == impl_->fwd.input_nodes.size(), kInternal, "cached op: ",
           impl_->input_names.size(), " input names for ", impl_->fwd.input_nodes.size(), " input nodes");
}

CachedOp::~CachedOp() = default;

std::vector<NDArray> CachedOp::forward(const std::vector<NDArray>& inputs) {
  Impl& m = *impl_;
  const size_t n = m.input_names.size();
  if (inputs.size() != n) {
    std::string names;
    for (size_t i = 0; i < n; ++i) names += (i ? ", " : "") + m.input_names[i];
    MX_THROW(kInvalidArgument, "cached op: expects ", n, " input(s) (", names, "), got ", inputs.size());
  }
  for (size_t i = 0; i < n; ++i) {
    MX_CHECK(!inputs[i].is_none(), kInvalidArgument, "cached op: input '", m.input_names[i], "' is a none array");
    MX_CHECK(inputs[i].device() == inputs[0].device(), kInvalidArgument, "cached op: input '", m.input_names[i],
             "' is on ", device_str(inputs[i].device()), " but input '", m.input_names[0], "' is on ",
             device_str(inputs[0].device()));
  }
  const bool recording = autograd::is_recording();
  std::vector<bool> wrt(n, false);
  bool any = false;
  if (recording) {
    for (size_t i = 0; i < n; ++i) {
      wrt[i] = inputs[i].ag_node() != nullptr;
      any = any || wrt[i];
    }
  }
  const bool train = is_training();

  std::shared_ptr<Plan> plan;
  {
    std::lock_guard<std::mutex> lk(m.mu);
    const bool check = !(m.flags.static_alloc && m.flags.static_shape);
    for (size_t k = m.plans.size(); k-- > 0;) {
      if (m.plans[k]->matches(inputs, train, wrt, check)) {
        plan = m.plans[k];
        if (k + 1 != m.plans.size()) {
          m.plans.erase(m.plans.begin() + k);
          m.plans.push_back(plan);
        }
        break;
      }
    }
    if (!plan) {
      plan = m.make_plan(inputs, train, wrt);
      if (m.plans.size() >= kMaxPlans) m.plans.erase(m.plans.begin());
      m.plans.push_back(plan);
    }
  }
  Plan& p = *plan;
  Compiled& c = *p.c;
  const bool record = any;  // recording with an input in a graph (else nothing to record)
  auto run = std::make_shared<Run>();
  std::vector<NDArray> outputs(c.output_eids.size());
  {
    std::lock_guard<std::mutex> lk(p.mu);
    run->fwd_slots = forward_slots(p, m.flags.static_alloc);
    run->entries = run->fwd_slots->views;
    for (size_t i = 0; i < n; ++i) run->entries[p.input_eids[i]] = inputs[i].detached();
    for (size_t k = 0; k < outputs.size(); ++k) {
      const uint32_t e = c.output_eids[k];
      if (p.out_fresh[k]) run->entries[e] = NDArray(c.shapes[e], p.dev, c.dtypes[e]);
    }
    struct Unbind {
      Compiled& c;
      ~Unbind() { detail::unbind_steps(&c.steps, 0, c.num_fwd_steps); }
    } guard{c};
    detail::bind_steps(&c.steps, 0, c.num_fwd_steps, run->entries);
    detail::run_steps(&c.steps, 0, c.num_fwd_steps, train, &run->rng);
    for (size_t k = 0; k < outputs.size(); ++k) {
      const NDArray& o = run->entries[c.output_eids[k]];
      outputs[k] = p.out_fresh[k] ? o : detail::copy_of(o);
    }
  }
  if (!record) return outputs;
  run->plan = plan;
  std::vector<NDArray*> ptrs;
  for (NDArray& o : outputs) ptrs.push_back(&o);
  autograd::record_function(std::make_shared<CachedFunction>(std::move(run), m.flags.static_alloc), inputs, ptrs);
  return outputs;
}

const graph::Symbol& CachedOp::symbol() const { return impl_->sym; }
size_t CachedOp::num_inputs() const { return impl_->input_names.size(); }
size_t CachedOp::planned_bytes() const { return impl_->planned; }
size_t CachedOp::naive_bytes() const { return impl_->naive; }

}  // namespace exec
}  // namespace mx
