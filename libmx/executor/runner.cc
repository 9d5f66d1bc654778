#include "executor/runner.h"

#include <string>
#include <unordered_map>

#include "base/error.h"
#include "op/imperative.h"

namespace mx {
namespace exec {
namespace detail {

namespace {

void combine_plans(Compiled* c, const graph::MemoryPlan& fp, const std::vector<bool>& saved,
                   const graph::MemoryPlan* bp, const std::vector<size_t>& bytes) {
  const uint32_t nf = c->num_fwd_entries, ne = c->g.num_entries();
  MX_CHECK(fp.slot.size() == nf, kInternal, "memory plan of the forward graph has ", fp.slot.size(),
           " entries, expected ", nf);
  graph::MemoryPlan& p = c->plan;
  p.slot.assign(ne, -1);
  p.slot_bytes = fp.slot_bytes;
  for (uint32_t e = 0; e < nf; ++e) p.slot[e] = fp.slot[e];
  size_t saved_bytes = 0;
  for (uint32_t e = 0; e < nf; ++e) {
    if (!saved[e]) continue;
    p.slot[e] = static_cast<int>(p.slot_bytes.size());
    p.slot_bytes.push_back(bytes[e]);
    saved_bytes += bytes[e];
  }
  c->num_fwd_slots = static_cast<int>(p.slot_bytes.size());
  p.planned_bytes = fp.planned_bytes + saved_bytes;
  p.naive_bytes = fp.naive_bytes + saved_bytes;
  p.inplace_count = fp.inplace_count;
  if (!bp) return;
  MX_CHECK(bp->slot.size() == ne, kInternal, "memory plan of the gradient graph has ", bp->slot.size(),
           " entries, expected ", ne);
  for (uint32_t e = nf; e < ne; ++e)
    if (bp->slot[e] >= 0) p.slot[e] = bp->slot[e] + c->num_fwd_slots;
  p.slot_bytes.insert(p.slot_bytes.end(), bp->slot_bytes.begin(), bp->slot_bytes.end());
  p.planned_bytes += bp->planned_bytes;
  p.naive_bytes += bp->naive_bytes;
  p.inplace_count += bp->inplace_count;
}

}  // namespace

std::shared_ptr<Compiled> compile(const graph::Symbol& sym, const graph::IndexedGraph& fwd,
                                  const std::vector<Shape>& shapes, const std::vector<DType>& dtypes,
                                  const std::vector<uint32_t>& wrt, bool is_train, bool plan_memory) {
  auto c = std::make_shared<Compiled>();
  const uint32_t nf = fwd.num_entries();
  MX_CHECK(shapes.size() == nf && dtypes.size() == nf, kInternal, "compile: ", shapes.size(), " shapes and ",
           dtypes.size(), " dtypes for ", nf, " entries");
  MX_CHECK(fwd.outputs.size() == sym.outputs.size(), kInternal, "compile: the indexed graph has ",
           fwd.outputs.size(), " outputs, the symbol ", sym.outputs.size());
  c->num_fwd_nodes = static_cast<uint32_t>(fwd.nodes.size());
  c->num_fwd_entries = nf;
  c->output_eids = fwd.outputs;

  std::vector<graph::NodePtr> head_nodes;
  if (wrt.empty()) {
    c->g = fwd;
    c->shapes = shapes;
    c->dtypes = dtypes;
  } else {
    // Gradients of sum(out_k * head_k): one variable per head carries the head gradient.
    std::vector<graph::Entry> heads;
    for (size_t k = 0; k < sym.outputs.size(); ++k) {
      auto n = std::make_shared<graph::Node>();
      n->name = str("_head_grad", k);
      head_nodes.push_back(n);
      heads.push_back(graph::Entry{n, 0});
    }
    std::vector<graph::NodePtr> wrt_nodes;
    for (uint32_t id : wrt) wrt_nodes.push_back(fwd.nodes.at(id));
    std::vector<graph::Entry> grads = graph::build_gradient(fwd, shapes, heads, wrt_nodes, is_train);
    MX_CHECK(grads.size() == wrt.size(), kInternal, "gradient builder returned ", grads.size(), " gradients for ",
             wrt.size(), " variables");
    // The gradients go in reverse wrt order: the indexed graph orders nodes depth-first from the
    // outputs, and wrt lists variables in forward order (data, then layer 1, 2, ...), so the last
    // layer's parameter gradients are computed first, as soon as their output gradient exists,
    // instead of keeping every layer's output gradient alive until the end.
    graph::Symbol all;
    all.outputs = sym.outputs;
    all.outputs.insert(all.outputs.end(), grads.rbegin(), grads.rend());
    c->g = graph::IndexedGraph(all);
    const graph::IndexedGraph& g = c->g;
    // The forward nodes must come first, in the forward graph's order, with the same entry ids.
    bool prefix = g.nodes.size() >= fwd.nodes.size();
    for (uint32_t i = 0; prefix && i < fwd.nodes.size(); ++i)
      prefix = g.nodes[i] == fwd.nodes[i] && g.entry_start[i] == fwd.entry_start[i];
    MX_CHECK(prefix && g.entry_start[fwd.nodes.size()] == nf, kInternal,
             "the combined forward/gradient graph does not start with the forward nodes");
    std::unordered_map<const graph::Node*, uint32_t> bwd_ids;
    for (uint32_t i = c->num_fwd_nodes; i < g.nodes.size(); ++i) bwd_ids[g.nodes[i].get()] = i;
    const uint32_t ne = g.num_entries();
    c->shapes.assign(ne, Shape::unknown());
    c->dtypes.assign(ne, kUnknownDType);
    std::copy(shapes.begin(), shapes.end(), c->shapes.begin());
    std::copy(dtypes.begin(), dtypes.end(), c->dtypes.begin());
    c->head_grad_eids.assign(head_nodes.size(), UINT32_MAX);
    for (size_t k = 0; k < head_nodes.size(); ++k) {
      auto it = bwd_ids.find(head_nodes[k].get());
      if (it == bwd_ids.end()) continue;  // this head's gradient reaches no variable of wrt
      const uint32_t eid = g.entry_start[it->second];
      c->head_grad_eids[k] = eid;
      c->shapes[eid] = shapes[fwd.outputs[k]];
      c->dtypes[eid] = dtypes[fwd.outputs[k]];
    }
    for (size_t j = 0; j < grads.size(); ++j)
      c->grad_eids.push_back(g.outputs[sym.outputs.size() + grads.size() - 1 - j]);
    graph::infer_shapes(g, &c->shapes, false);
    graph::infer_types(g, &c->dtypes, false);
  }
  const graph::IndexedGraph& g = c->g;
  const uint32_t ne = g.num_entries();

  // Steps, with the random streams wired from forward nodes to the gradient nodes replaying them.
  std::unordered_map<std::string, int> rng_by_name;
  for (uint32_t i = 0; i < g.nodes.size(); ++i) {
    const graph::Node& n = *g.nodes[i];
    if (i == c->num_fwd_nodes) c->num_fwd_steps = c->steps.size();
    if (n.is_variable()) continue;
    Step s;
    s.op = n.op;
    s.params = n.params ? n.params : Params::defaults(*n.op);
    s.node = &n;
    s.in_eid = g.inputs[i];
    for (uint32_t e = g.entry_start[i]; e < g.entry_start[i + 1]; ++e) s.out_eid.push_back(e);
    s.in.resize(s.in_eid.size());
    s.out.resize(s.out_eid.size());
    if (i < c->num_fwd_nodes) {
      if (n.op->uses_rng()) {
        s.rng_slot = c->num_rng++;
        auto ins = rng_by_name.emplace(n.name, s.rng_slot);
        if (!ins.second) ins.first->second = -1;  // ambiguous name: an error only if a gradient needs it
      }
    } else {
      const std::string src = graph::rng_placeholder_source(n);
      if (!src.empty()) {
        auto it = rng_by_name.find(src);
        MX_CHECK(it != rng_by_name.end() && it->second >= 0, kUnsupported, "gradient node '", n.name,
                 "' replays the random stream of node '", src, "', which is ",
                 it == rng_by_name.end() ? "not a random forward node of this graph"
                                         : "ambiguous (several random nodes have that name)");
        s.rng_src = it->second;
        for (const auto& kv : s.params->explicit_values())
          if (kv.first != "rng_seed" && kv.first != "rng_stream") s.rng_kv.push_back(kv);
      }
    }
    c->steps.push_back(std::move(s));
  }
  if (g.nodes.size() <= c->num_fwd_nodes) c->num_fwd_steps = c->steps.size();

  // Memory: the forward graph alone (entries the gradient reads are kept whole), then the
  // gradient nodes over what the forward left.
  std::vector<size_t> bytes(ne);
  for (uint32_t e = 0; e < ne; ++e) bytes[e] = checked_nbytes(c->shapes[e], c->dtypes[e]);
  std::vector<bool> ext_f(nf, false), saved(nf, false);
  for (uint32_t i = 0; i < c->num_fwd_nodes; ++i)
    if (fwd.nodes[i]->is_variable())
      for (uint32_t e = fwd.entry_start[i]; e < fwd.entry_start[i + 1]; ++e) ext_f[e] = true;
  for (uint32_t e : c->output_eids) ext_f[e] = true;
  for (uint32_t i = c->num_fwd_nodes; i < g.nodes.size(); ++i)
    for (uint32_t e : g.inputs[i])
      if (e < nf && !ext_f[e]) saved[e] = true;
  for (uint32_t e : c->grad_eids)
    if (e < nf && !ext_f[e]) saved[e] = true;
  for (uint32_t e = 0; e < nf; ++e) ext_f[e] = ext_f[e] || saved[e];
  const std::vector<size_t> fbytes(bytes.begin(), bytes.begin() + nf);
  graph::MemoryPlan fp = graph::plan_memory(fwd, fbytes, ext_f, plan_memory);
  if (wrt.empty()) {
    combine_plans(c.get(), fp, saved, nullptr, bytes);
  } else {
    std::vector<bool> ext_b(ne, false);
    for (uint32_t e = 0; e < nf; ++e) ext_b[e] = true;
    for (uint32_t e : c->head_grad_eids)
      if (e != UINT32_MAX) ext_b[e] = true;
    for (uint32_t e : c->grad_eids) ext_b[e] = true;
    graph::MemoryPlan bp = graph::plan_memory(g, bytes, ext_b, plan_memory);
    combine_plans(c.get(), fp, saved, &bp, bytes);
  }
  return c;
}

std::shared_ptr<SlotSet> make_slots(const Compiled& c, int slot_begin, int slot_end, Device dev) {
  auto s = std::make_shared<SlotSet>();
  for (int k = slot_begin; k < slot_end; ++k) s->blocks.push_back(Storage::alloc(c.plan.slot_bytes[k], dev));
  const uint32_t ne = c.g.num_entries();
  s->views.resize(ne);
  for (uint32_t e = 0; e < ne; ++e) {
    const int k = c.plan.slot[e];
    if (k < slot_begin || k >= slot_end) continue;
    MX_CHECK(checked_nbytes(c.shapes[e], c.dtypes[e]) <= c.plan.slot_bytes[k], kInternal, "memory plan: slot ", k,
             " (", c.plan.slot_bytes[k], " bytes) is too small for entry ", e, " ", c.shapes[e].str());
    s->views[e] = NDArray(s->blocks[k - slot_begin], c.shapes[e], c.dtypes[e], 0);
  }
  return s;
}

void bind_steps(std::vector<Step>* steps, size_t begin, size_t end, const std::vector<NDArray>& entries) {
  for (size_t i = begin; i < end; ++i) {
    Step& s = (*steps)[i];
    for (size_t k = 0; k < s.in_eid.size(); ++k) s.in[k] = entries[s.in_eid[k]];
    for (size_t k = 0; k < s.out_eid.size(); ++k) s.out[k] = entries[s.out_eid[k]];
  }
}

void unbind_steps(std::vector<Step>* steps, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    Step& s = (*steps)[i];
    for (NDArray& a : s.in) a = NDArray();
    for (NDArray& a : s.out) a = NDArray();
  }
}

void run_steps(std::vector<Step>* steps, size_t begin, size_t end, bool is_train, RngState* rng) {
  InvokeOpts o;
  o.is_train = is_train ? 1 : 0;
  o.no_record = true;
  for (size_t i = begin; i < end; ++i) {
    Step& s = (*steps)[i];
    o.used_rng_seed = nullptr;
    o.used_rng_stream = nullptr;
    if (s.rng_slot >= 0) {
      if (rng->seed.size() <= static_cast<size_t>(s.rng_slot)) {
        rng->seed.resize(s.rng_slot + 1);
        rng->stream.resize(s.rng_slot + 1);
      }
      o.used_rng_seed = &rng->seed[s.rng_slot];
      o.used_rng_stream = &rng->stream[s.rng_slot];
    }
    try {
      if (s.rng_src >= 0) {
        MX_CHECK(static_cast<size_t>(s.rng_src) < rng->seed.size(), kInternal, "no random stream recorded for ",
                 "gradient node '", s.node ? s.node->name : std::string(), "'");
        const uint64_t sd = rng->seed[s.rng_src], st = rng->stream[s.rng_src];
        if (!s.rng_bound || sd != s.bound_seed || st != s.bound_stream) {
          auto kv = s.rng_kv;
          kv.emplace_back("rng_seed", std::to_string(sd));
          kv.emplace_back("rng_stream", std::to_string(st));
          s.params = Params::parse(*s.op, kv);
          s.rng_bound = true;
          s.bound_seed = sd;
          s.bound_stream = st;
        }
      }
      invoke_with(*s.op, s.params, s.in, &s.out, o);
    } catch (const Error& e) {
      if (!s.node) throw;
      throw Error(e.code(), str("node '", s.node->name, "' (", s.op->name(), "): ", e.what()));
    }
  }
}

Step make_step(const char* op, std::vector<NDArray> in, std::vector<NDArray> out) {
  Step s;
  s.op = &get_op(op);
  s.params = Params::defaults(*s.op);
  s.in = std::move(in);
  s.out = std::move(out);
  return s;
}

NDArray zeros(const Shape& shape, DType dtype, Device dev) {
  const OpDef& op = get_op("_zeros");
  ParamsPtr p = Params::parse(op, {{"shape", tuple_param(shape)}, {"ctx", device_str(dev)}, {"dtype", dtype_name(dtype)}});
  std::vector<NDArray> out{NDArray(shape, dev, dtype)};
  InvokeOpts o;
  o.no_record = true;
  invoke_with(op, p, {}, &out, o);
  return out[0];
}

NDArray copy_of(const NDArray& a) {
  static const OpDef& op = get_op("_copy");
  std::vector<NDArray> out(1);
  InvokeOpts o;
  o.no_record = true;
  invoke_with(op, Params::defaults(op), {a}, &out, o);
  return out[0];
}

}  // namespace detail
}  // namespace exec
}  // namespace mx
