// MXNet's C prediction API (include/mx/c_predict_api.h) over the graph executor.
//
// A predictor is a symbol bound for inference: the parameter arrays come straight from the
// .params buffer (no copy on the CPU) and are shared by the predictors made from it
// (MXPredReshape, MXPredCreateMultiThread); inputs, outputs and intermediates are per predictor.
// Everything that can be decided once (argument lookup, output shapes, dtypes) is decided at
// creation, so SetInput / Forward / GetOutput do no parsing and no allocation for float32 data.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "c_api/c_api_internal.h"
#include "executor/executor.h"
#include "graph/passes.h"
#include "graph/symbol.h"
#include "mx/c_predict_api.h"
#include "ndarray/io.h"

namespace mx {
namespace {

using graph::Entry;
using graph::NodePtr;
using graph::Symbol;

// ------------------------------------------------------------------ live handles
// Handles are void* in MXNet's API, so a magic number cannot be read safely from a freed one:
// a table of live handles tells live predictors and lists from anything else.
struct HandleTable {
  std::mutex mu;
  std::unordered_set<const void*> preds, lists;
};
HandleTable& handles() {
  static HandleTable* t = new HandleTable();  // never destroyed: usable during exit
  return *t;
}

template <typename T>
T* lookup(std::unordered_set<const void*> HandleTable::*set, void* h, const char* fn, const char* what,
          const char* maker) {
  MX_CHECK(h != nullptr, kHandle, fn, ": the ", what, " handle is NULL");
  HandleTable& t = handles();
  std::lock_guard<std::mutex> lk(t.mu);
  MX_CHECK((t.*set).count(h) != 0, kHandle, fn, ": ", h, " is not a live ", what, " handle (freed, or not made by ",
           maker, ")");
  return static_cast<T*>(h);
}

// ------------------------------------------------------------------ host copies
// float32 host data into an array of any dtype (cast through a temporary when needed).
void from_host_float(const NDArray& dst, const float* src, size_t n) {
  if (dst.dtype() == DType::kFloat32 && dst.device().is_cpu()) {
    dst.copy_from_host(src, n * sizeof(float));
    return;
  }
  NDArray tmp(dst.shape(), Device::cpu(), DType::kFloat32);
  tmp.copy_from_host(src, n * sizeof(float));
  copy_ndarray(tmp, dst);
}

// An array's values as float32 on the host (waits for pending writes).
void to_host_float(const NDArray& src, float* dst, size_t n) {
  if (src.dtype() == DType::kFloat32 && src.device().is_cpu()) {
    src.copy_to_host(dst, n * sizeof(float));
    return;
  }
  NDArray tmp(src.shape(), Device::cpu(), DType::kFloat32);
  copy_ndarray(src, tmp);
  tmp.copy_to_host(dst, n * sizeof(float));
}

void zero_fill(const NDArray& a) {
  if (a.size() == 0) return;
  if (a.device().is_cpu()) {
    a.wait_to_write();
    std::memset(a.raw_data(), 0, a.nbytes());
    return;
  }
  NDArray tmp(a.shape(), Device::cpu(), a.dtype());
  std::memset(tmp.raw_data(), 0, tmp.nbytes());
  copy_ndarray(tmp, a);
}

std::vector<uint32_t> shape_u32(const Shape& s, const std::string& what) {
  std::vector<uint32_t> out(static_cast<size_t>(std::max(s.ndim(), 0)));
  for (int i = 0; i < s.ndim(); ++i) {
    MX_CHECK(s[i] >= 0 && s[i] <= static_cast<int64_t>(UINT32_MAX), kShape, what, " has shape ", s.str(),
             ", whose dimensions do not fit the predict API's 32-bit shape entries");
    out[i] = static_cast<uint32_t>(s[i]);
  }
  return out;
}

// ------------------------------------------------------------------ creation arguments
struct InputSpec {
  std::vector<std::pair<std::string, Shape>> shapes;  // in the caller's order
  const Shape* find(const std::string& name) const {
    for (const auto& kv : shapes)
      if (kv.first == name) return &kv.second;
    return nullptr;
  }
};

InputSpec parse_inputs(const char* fn, uint32_t num, const char** keys, const uint32_t* indptr,
                       const uint32_t* data) {
  InputSpec spec;
  if (num == 0) return spec;
  MX_CHECK(keys != nullptr, kInvalidArgument, fn, ": input_keys is NULL for ", num, " inputs");
  MX_CHECK(indptr != nullptr, kInvalidArgument, fn, ": input_shape_indptr is NULL for ", num, " inputs");
  MX_CHECK(indptr[num] == indptr[0] || data != nullptr, kInvalidArgument, fn, ": input_shape_data is NULL");
  for (uint32_t i = 0; i < num; ++i) {
    MX_CHECK(keys[i] != nullptr, kInvalidArgument, fn, ": input_keys[", i, "] is NULL");
    std::string key(keys[i]);
    MX_CHECK(indptr[i + 1] >= indptr[i], kInvalidArgument, fn, ": input_shape_indptr decreases at input ", i,
             " ('", key, "'): ", indptr[i], " then ", indptr[i + 1]);
    uint32_t ndim = indptr[i + 1] - indptr[i];
    MX_CHECK(ndim <= static_cast<uint32_t>(Shape::kMaxDim), kInvalidArgument, fn, ": input '", key, "' has ", ndim,
             " dimensions (at most ", Shape::kMaxDim, ")");
    Shape s;
    for (uint32_t k = 0; k < ndim; ++k) s.push_back(data[indptr[i] + k]);
    for (uint32_t k = 0; k < ndim; ++k)
      MX_CHECK(s[k] > 0, kInvalidArgument, fn, ": input '", key, "' has shape ", s.str(),
               ": every dimension must be positive");
    MX_CHECK(spec.find(key) == nullptr, kInvalidArgument, fn, ": input '", key, "' is given twice");
    spec.shapes.emplace_back(std::move(key), s);
  }
  return spec;
}

Device make_device(const char* fn, int dev_type, int dev_id) {
  MX_CHECK(dev_type == 1 || dev_type == 2 || dev_type == 3, kInvalidArgument, fn, ": dev_type ", dev_type,
           " is not a device type (1 cpu, 2 gpu)");
  MX_CHECK(dev_id >= 0, kInvalidArgument, fn, ": dev_id ", dev_id, " is negative");
  Device d{static_cast<DeviceType>(dev_type), dev_id};
  check_device(d);
  return d;
}

// Loss layers whose forward ignores their label input: a predictor fills such labels with zeros.
bool is_output_layer(const OpDef& op) {
  static const char* const kNames[] = {"SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
                                       "MAERegressionOutput", "SVMOutput"};
  for (const char* n : kNames)
    if (op.name() == n) return true;
  return false;
}

// Variables of sym read only as the "label" input of an output layer.
std::set<const graph::Node*> label_variables(const Symbol& sym) {
  std::set<const graph::Node*> label, other;
  for (const NodePtr& n : sym.topo_order()) {
    if (n->is_variable()) continue;
    const auto& names = n->op->input_names();
    for (size_t k = 0; k < n->inputs.size(); ++k) {
      const graph::Node* v = n->inputs[k].node.get();
      if (!v->is_variable()) continue;
      bool is_label = is_output_layer(*n->op) && k < names.size() && names[k] == "label";
      (is_label ? label : other).insert(v);
    }
  }
  std::set<const graph::Node*> out;
  for (const graph::Node* v : label)
    if (!other.count(v)) out.insert(v);
  return out;
}

// ------------------------------------------------------------------ the predictor
// Shared between the predictors made from one creation: the parameters, by argument name.
struct ParamSet {
  std::map<std::string, NDArray> arg, aux;
  size_t unprefixed = 0;  // arrays in the file without "arg:"/"aux:" (a save_parameters file?)
};

struct MonitorItem {
  std::string name;
  const NDArray* array;  // an argument, aux state or output of the monitor executor
};

struct Predictor {
  Symbol sym;
  Device dev;
  std::shared_ptr<const ParamSet> params;
  std::vector<std::string> arg_names, aux_names;  // list_arguments / list_auxiliary_states order
  std::vector<NDArray> args, aux;
  std::vector<char> arg_is_param, arg_is_label;
  std::map<std::string, DType> dtype_overrides;  // MXPredCreateEx
  std::set<std::string> variable_names;           // of the whole graph before partial outputs
  std::unique_ptr<exec::GraphExecutor> exec;
  std::vector<std::vector<uint32_t>> out_shapes;
  std::vector<DType> out_dtypes;
  std::vector<size_t> out_sizes;
  int num_steps = 0;

  // Monitoring: one executor whose outputs are the predictor's outputs followed by every other
  // visible op output, run instead of exec while a callback is set.
  PredMonitorCallback monitor = nullptr;
  void* monitor_ctx = nullptr;
  bool monitor_all = false;
  std::unique_ptr<exec::GraphExecutor> monitor_exec;  // kept until the next unmonitored forward
  std::vector<MonitorItem> monitor_items;
  bool monitor_built_all = false;  // the monitor_all that monitor_items were made for

  const std::vector<NDArray>& outputs() const { return monitor_exec ? monitor_exec->outputs() : exec->outputs(); }
};

std::shared_ptr<const ParamSet> load_params(const char* fn, const void* bytes, int size) {
  MX_CHECK(size >= 0, kInvalidArgument, fn, ": param_size ", size, " is negative");
  MX_CHECK(bytes != nullptr || size == 0, kInvalidArgument, fn, ": param_bytes is NULL but param_size is ", size);
  auto p = std::make_shared<ParamSet>();
  if (size == 0) return p;
  NamedArrays na;
  try {
    na = load_arrays(static_cast<const char*>(bytes), static_cast<size_t>(size));
  } catch (const Error& e) {
    throw Error(e.code(), str(fn, ": cannot read the parameters: ", e.what()));
  }
  MX_CHECK(na.names.size() == na.arrays.size(), kInvalidArgument, fn, ": the parameter buffer holds a list of ",
           na.arrays.size(), " arrays without names; a predictor needs named parameters (\"arg:x\" / \"aux:x\")");
  for (size_t i = 0; i < na.names.size(); ++i) {
    const std::string& n = na.names[i];
    if (n.compare(0, 4, "arg:") == 0)
      p->arg[n.substr(4)] = na.arrays[i];
    else if (n.compare(0, 4, "aux:") == 0)
      p->aux[n.substr(4)] = na.arrays[i];
    else
      ++p->unprefixed;
  }
  return p;
}

// Shapes and dtypes of every variable and output, from the known variables (by name).
struct Inferred {
  std::map<const graph::Node*, std::pair<Shape, DType>> vars;
  std::vector<Shape> out_shapes;
  std::vector<DType> out_types;
  int num_nodes = 0;
  const std::pair<Shape, DType>& var(const graph::Node* n) const {
    auto it = vars.find(n);
    MX_CHECK(it != vars.end(), kInternal, "predictor: variable '", n->name, "' missing from the indexed graph");
    return it->second;
  }
};

Inferred infer(const Symbol& sym, const std::map<std::string, Shape>& shapes,
               const std::map<std::string, DType>& dtypes) {
  graph::IndexedGraph g(sym);
  std::vector<Shape> sh(g.num_entries(), Shape::unknown());
  std::vector<DType> ty(g.num_entries(), kUnknownDType);
  for (uint32_t nid : g.input_nodes) {
    const std::string& name = g.nodes[nid]->name;
    auto s = shapes.find(name);
    if (s != shapes.end()) sh[g.entry_id(nid, 0)] = s->second;
    auto t = dtypes.find(name);
    if (t != dtypes.end()) ty[g.entry_id(nid, 0)] = t->second;
  }
  graph::infer_shapes(g, &sh, false);
  graph::infer_types(g, &ty, false);
  Inferred r;
  for (uint32_t nid : g.input_nodes)
    r.vars[g.nodes[nid].get()] = {sh[g.entry_id(nid, 0)], ty[g.entry_id(nid, 0)]};
  for (uint32_t e : g.outputs) {
    r.out_shapes.push_back(sh[e]);
    r.out_types.push_back(ty[e]);
  }
  r.num_nodes = static_cast<int>(g.nodes.size());
  return r;
}

// The dtype an input argument gets: MXPredCreateEx's, else the variable's __dtype__, else float32.
DType input_dtype(const Predictor& p, const graph::Node& var) {
  auto it = p.dtype_overrides.find(var.name);
  if (it != p.dtype_overrides.end()) return it->second;
  auto a = var.attrs.find("__dtype__");
  if (a != var.attrs.end()) {
    char* end = nullptr;
    long flag = std::strtol(a->second.c_str(), &end, 10);
    if (end && *end == '\0' && dtype_valid(static_cast<int>(flag))) return static_cast<DType>(flag);
  }
  return DType::kFloat32;
}

NDArray param_on_device(const NDArray& a, Device dev) {
  if (a.device() == dev) return a;
  NDArray d(a.shape(), dev, a.dtype());
  copy_ndarray(a, d);
  return d;
}

// Binds p (sym, params, dtype_overrides set) for the given input shapes. prev: the predictor
// being reshaped (its input shapes are the defaults and its arrays are reused where the shape
// stays), or null.
void bind(const char* fn, Predictor* p, const InputSpec& inputs, const Predictor* prev) {
  const ParamSet& params = *p->params;
  std::vector<NodePtr> arg_nodes = p->sym.argument_nodes();
  std::vector<NodePtr> aux_nodes = p->sym.aux_nodes();
  std::set<const graph::Node*> labels = label_variables(p->sym);

  for (const auto& kv : inputs.shapes) {
    MX_CHECK(p->variable_names.count(kv.first) != 0, kNotFound, fn, ": input '", kv.first,
             "' is not a variable of the graph");
    for (const NodePtr& a : aux_nodes)
      MX_CHECK(a->name != kv.first, kInvalidArgument, fn, ": input '", kv.first,
               "' is an auxiliary state; its value comes from the parameters (\"aux:", kv.first, "\")");
  }

  // What is known before inference: inputs (given now, or kept from prev), parameters.
  std::map<std::string, Shape> shapes;
  std::map<std::string, DType> dtypes;
  std::vector<char> is_input(arg_nodes.size(), 0), is_param(arg_nodes.size(), 0), is_label(arg_nodes.size(), 0);
  for (size_t i = 0; i < arg_nodes.size(); ++i) {
    const graph::Node& v = *arg_nodes[i];
    const Shape* given = inputs.find(v.name);
    auto par = params.arg.find(v.name);
    if (par != params.arg.end()) {
      // A parameter keeps its shape; naming it among the inputs is allowed only with that shape.
      MX_CHECK(!given || *given == par->second.shape(), kShape, fn, ": '", v.name, "' is a parameter of shape ",
               par->second.shape().str(), "; the input shape given for it is ", given ? given->str() : "",
               " (only input shapes may change)");
      shapes[v.name] = par->second.shape();
      dtypes[v.name] = par->second.dtype();
      is_param[i] = 1;
    } else if (given) {
      shapes[v.name] = *given;
      dtypes[v.name] = input_dtype(*p, v);
      is_input[i] = 1;
    } else if (labels.count(&v)) {
      dtypes[v.name] = input_dtype(*p, v);
      is_label[i] = 1;
    } else if (prev) {
      // An input of the predictor being reshaped that keeps its shape.
      const std::vector<std::string>& names = prev->arg_names;
      auto it = std::find(names.begin(), names.end(), v.name);
      MX_CHECK(it != names.end(), kInternal, fn, ": argument '", v.name, "' missing from the reshaped predictor");
      const NDArray& old = prev->args[it - names.begin()];
      shapes[v.name] = old.shape();
      dtypes[v.name] = old.dtype();
      is_input[i] = 1;
    } else {
      std::string hint;
      if (params.unprefixed)
        hint = str(" (the parameters hold ", params.unprefixed,
                   " arrays without the \"arg:\"/\"aux:\" prefix: a Gluon save_parameters file? Use the file "
                   "written by export or save_checkpoint)");
      MX_THROW(kNotFound, fn, ": argument '", v.name, "' has no value: it is neither an input (input_keys) nor in "
               "the parameters (\"arg:", v.name, "\")", hint);
    }
  }
  for (const NodePtr& a : aux_nodes) {
    auto par = params.aux.find(a->name);
    if (par == params.aux.end()) {
      std::string hint = params.arg.count(a->name) ? str(" (the parameters have it as \"arg:", a->name, "\")") : "";
      MX_THROW(kNotFound, fn, ": auxiliary state '", a->name, "' is not in the parameters (\"aux:", a->name, "\")",
               hint);
    }
    shapes[a->name] = par->second.shape();
    dtypes[a->name] = par->second.dtype();
  }

  Inferred inf;
  try {
    inf = infer(p->sym, shapes, dtypes);
  } catch (const Error& e) {
    if (prev && e.code() == ErrorCode::kShape)
      MX_THROW(kShape, fn, ": the new input shapes do not fit the parameters (only input shapes may change): ",
               e.what());
    throw Error(e.code(), str(fn, ": ", e.what()));
  }

  p->arg_names.clear();
  p->args.clear();
  for (size_t i = 0; i < arg_nodes.size(); ++i) {
    const std::string& name = arg_nodes[i]->name;
    p->arg_names.push_back(name);
    if (is_param[i]) {
      p->args.push_back(param_on_device(params.arg.at(name), p->dev));
      continue;
    }
    // Keep the previous predictor's array when reshaping leaves the shape as it was.
    const std::pair<Shape, DType>& want = inf.var(arg_nodes[i].get());
    NDArray arr;
    if (prev && !inputs.find(name)) {
      auto it = std::find(prev->arg_names.begin(), prev->arg_names.end(), name);
      if (it != prev->arg_names.end()) {
        const NDArray& old = prev->args[it - prev->arg_names.begin()];
        if (old.shape() == want.first && old.dtype() == want.second) arr = old;
      }
    }
    if (arr.is_none()) {
      arr = NDArray(want.first, p->dev, want.second);
      zero_fill(arr);
    }
    p->args.push_back(arr);
  }
  p->arg_is_param = is_param;
  p->arg_is_label = is_label;
  p->aux_names.clear();
  p->aux.clear();
  for (const NodePtr& a : aux_nodes) {
    p->aux_names.push_back(a->name);
    p->aux.push_back(param_on_device(params.aux.at(a->name), p->dev));
  }

  std::vector<NDArray> no_grads(p->args.size());
  std::vector<int> reqs(p->args.size(), exec::kNullOp);
  p->exec.reset(new exec::GraphExecutor(p->sym, p->dev, p->args, no_grads, reqs, p->aux));

  p->out_shapes.clear();
  p->out_dtypes.clear();
  p->out_sizes.clear();
  std::vector<std::string> out_names = p->sym.list_outputs();
  for (size_t i = 0; i < inf.out_shapes.size(); ++i) {
    p->out_shapes.push_back(shape_u32(inf.out_shapes[i], str("output '", out_names[i], "'")));
    p->out_dtypes.push_back(inf.out_types[i]);
    p->out_sizes.push_back(static_cast<size_t>(inf.out_shapes[i].size()));
  }
  p->num_steps = inf.num_nodes;
  p->monitor_exec.reset();
  p->monitor_items.clear();
}

// The graph's internal output chosen by key: an exact output name of the internals, else
// "<key>_output" (MXNet's rule: a node name means its first output).
Symbol select_outputs(const char* fn, const Symbol& sym, uint32_t num, const char** keys) {
  MX_CHECK(keys != nullptr, kInvalidArgument, fn, ": output_keys is NULL for ", num, " outputs");
  Symbol internals = sym.internals();
  std::vector<std::string> names = internals.list_outputs();
  std::vector<Symbol> chosen;
  for (uint32_t i = 0; i < num; ++i) {
    MX_CHECK(keys[i] != nullptr, kInvalidArgument, fn, ": output_keys[", i, "] is NULL");
    std::string key(keys[i]);
    auto it = std::find(names.begin(), names.end(), key);
    if (it == names.end()) it = std::find(names.begin(), names.end(), key + "_output");
    if (it == names.end()) {
      std::string some;
      for (size_t k = 0; k < names.size() && k < 12; ++k) some += (k ? ", " : "") + names[k];
      if (names.size() > 12) some += ", ...";
      MX_THROW(kNotFound, fn, ": the graph has no internal output named '", key, "' or '", key,
               "_output' (outputs: ", some, ")");
    }
    chosen.push_back(internals.output(static_cast<size_t>(it - names.begin())));
  }
  return Symbol::group(chosen);
}

struct CreateArgs {
  const char* fn;
  const char* json;
  const void* param_bytes;
  int param_size;
  int dev_type, dev_id;
  uint32_t num_inputs;
  const char** input_keys;
  const uint32_t* indptr;
  const uint32_t* shape_data;
  uint32_t num_outputs = 0;
  const char** output_keys = nullptr;
  uint32_t num_dtypes = 0;
  const char** dtype_names = nullptr;
  const int* dtypes = nullptr;
};

std::unique_ptr<Predictor> create(const CreateArgs& a) {
  MX_CHECK(a.json != nullptr, kInvalidArgument, a.fn, ": symbol_json_str is NULL");
  auto p = std::make_unique<Predictor>();
  p->dev = make_device(a.fn, a.dev_type, a.dev_id);
  InputSpec inputs = parse_inputs(a.fn, a.num_inputs, a.input_keys, a.indptr, a.shape_data);
  if (a.num_dtypes) {
    MX_CHECK(a.dtype_names != nullptr && a.dtypes != nullptr, kInvalidArgument, a.fn,
             ": provided_arg_dtype_names or provided_arg_dtypes is NULL for ", a.num_dtypes, " dtypes");
    for (uint32_t i = 0; i < a.num_dtypes; ++i) {
      MX_CHECK(a.dtype_names[i] != nullptr, kInvalidArgument, a.fn, ": provided_arg_dtype_names[", i, "] is NULL");
      MX_CHECK(dtype_valid(a.dtypes[i]), kDType, a.fn, ": dtype ", a.dtypes[i], " given for '", a.dtype_names[i],
               "' is not a dtype flag");
      p->dtype_overrides[a.dtype_names[i]] = static_cast<DType>(a.dtypes[i]);
    }
  }
  Symbol full;
  try {
    full = graph::from_json(a.json);
  } catch (const Error& e) {
    throw Error(e.code(), str(a.fn, ": cannot read the symbol JSON: ", e.what()));
  }
  for (const std::string& n : full.list_inputs()) p->variable_names.insert(n);
  p->sym = a.num_outputs ? select_outputs(a.fn, full, a.num_outputs, a.output_keys) : full;
  p->params = load_params(a.fn, a.param_bytes, a.param_size);
  bind(a.fn, p.get(), inputs, nullptr);
  return p;
}

// A predictor sharing p's symbol and parameters, with its own inputs and executor.
std::unique_ptr<Predictor> sibling(const char* fn, const Predictor& p, const InputSpec& inputs, bool reshape) {
  auto q = std::make_unique<Predictor>();
  q->sym = p.sym;
  q->dev = p.dev;
  q->params = p.params;
  q->dtype_overrides = p.dtype_overrides;
  q->variable_names = p.variable_names;
  if (reshape) {
    bind(fn, q.get(), inputs, &p);
    return q;
  }
  InputSpec same;
  for (size_t i = 0; i < p.args.size(); ++i)
    if (!p.arg_is_param[i] && !p.arg_is_label[i]) same.shapes.emplace_back(p.arg_names[i], p.args[i].shape());
  bind(fn, q.get(), same, nullptr);
  return q;
}

void* publish(std::unique_ptr<Predictor> p) {
  HandleTable& t = handles();
  std::lock_guard<std::mutex> lk(t.mu);
  t.preds.insert(p.get());
  return p.release();
}

Predictor* get_pred(void* h, const char* fn) {
  return lookup<Predictor>(&HandleTable::preds, h, fn, "predictor", "MXPredCreate*");
}

// ------------------------------------------------------------------ monitoring
void build_monitor(Predictor* p) {
  std::vector<Entry> outs = p->sym.outputs;
  std::vector<NodePtr> order = p->sym.topo_order();
  auto find_out = [&](const Entry& e) -> int {
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i] == e) return static_cast<int>(i);
    return -1;
  };
  // The monitored op outputs, after the predictor's own outputs (no entry twice).
  for (const NodePtr& n : order) {
    if (n->is_variable()) continue;
    for (uint32_t i = 0; i < n->num_visible_outputs(); ++i)
      if (find_out(Entry{n, i}) < 0) outs.push_back(Entry{n, i});
  }
  Symbol msym;
  msym.outputs = outs;
  std::vector<NDArray> no_grads(p->args.size());
  std::vector<int> reqs(p->args.size(), exec::kNullOp);
  p->monitor_exec.reset(new exec::GraphExecutor(msym, p->dev, p->args, no_grads, reqs, p->aux));

  // Items point at arrays that live as long as the monitor executor (its outputs, p's args/aux).
  const std::vector<NDArray>& mo = p->monitor_exec->outputs();
  auto array_of = [&](const Entry& e) -> const NDArray* {
    if (e.node->is_variable()) {
      for (size_t i = 0; i < p->arg_names.size(); ++i)
        if (p->arg_names[i] == e.node->name) return &p->args[i];
      for (size_t i = 0; i < p->aux_names.size(); ++i)
        if (p->aux_names[i] == e.node->name) return &p->aux[i];
      return nullptr;
    }
    int k = find_out(e);
    return k < 0 ? nullptr : &mo[static_cast<size_t>(k)];
  };
  p->monitor_items.clear();
  p->monitor_built_all = p->monitor_all;
  for (const NodePtr& n : order) {
    if (n->is_variable()) continue;
    if (p->monitor_all) {
      const auto& in_names = n->op->input_names();
      for (size_t k = 0; k < n->inputs.size(); ++k) {
        const NDArray* arr = array_of(n->inputs[k]);
        if (!arr) continue;  // a hidden output: not monitored
        bool variadic = !n->op->key_var_num_args().empty() || k >= in_names.size();
        std::string in_name = variadic ? str("arg", k) : in_names[k];
        p->monitor_items.push_back({n->name + "_" + in_name, arr});
      }
    }
    for (uint32_t i = 0; i < n->num_visible_outputs(); ++i)
      p->monitor_items.push_back({n->output_name(i), array_of(Entry{n, i})});
  }
}

void run_forward(Predictor* p) {
  if (!p->monitor) {
    p->monitor_exec.reset();  // outputs() reads exec again from now on
    p->monitor_items.clear();
    p->exec->forward(false);
    return;
  }
  if (!p->monitor_exec || p->monitor_built_all != p->monitor_all) build_monitor(p);
  p->monitor_exec->forward(false);
  for (const MonitorItem& it : p->monitor_items) {
    it.array->wait_to_read();
    mx_ndarray* h = capi::new_handle(*it.array);
    p->monitor(it.name.c_str(), h, p->monitor_ctx);
    capi::free_handle(h);
  }
}

// ------------------------------------------------------------------ NDArray lists
struct NDList {
  std::vector<std::string> keys;
  std::vector<std::vector<uint32_t>> shapes;
  std::vector<size_t> offsets;  // into data, one per array
  std::vector<float> data;
};

// Runs body inside MX_API_BEGIN/END and maps the status to MXNet's convention (0 / -1).
template <typename F>
int pred_call(F&& body) {
  int st = [&]() -> int {
    MX_API_BEGIN();
    body();
    MX_API_END();
  }();
  return st == MX_OK ? 0 : -1;
}

}  // namespace
}  // namespace mx

using mx::CreateArgs;
using mx::pred_call;

extern "C" {

MX_API const char* MXGetLastError(void) { return mx_last_error(); }

MX_API int MXPredCreate(const char* symbol_json_str, const void* param_bytes, int param_size, int dev_type,
                        int dev_id, uint32_t num_input_nodes, const char** input_keys,
                        const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                        PredictorHandle* out) {
  return pred_call([&] {
    mx::capi::check_out(out, "out");
    CreateArgs a{"MXPredCreate", symbol_json_str, param_bytes, param_size, dev_type, dev_id,
                 num_input_nodes, input_keys, input_shape_indptr, input_shape_data};
    *out = mx::publish(mx::create(a));
  });
}

MX_API int MXPredCreateEx(const char* symbol_json_str, const void* param_bytes, int param_size, int dev_type,
                          int dev_id, const uint32_t num_input_nodes, const char** input_keys,
                          const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                          const uint32_t num_provided_arg_dtypes, const char** provided_arg_dtype_names,
                          const int* provided_arg_dtypes, PredictorHandle* out) {
  return pred_call([&] {
    mx::capi::check_out(out, "out");
    CreateArgs a{"MXPredCreateEx", symbol_json_str, param_bytes, param_size, dev_type, dev_id,
                 num_input_nodes, input_keys, input_shape_indptr, input_shape_data};
    a.num_dtypes = num_provided_arg_dtypes;
    a.dtype_names = provided_arg_dtype_names;
    a.dtypes = provided_arg_dtypes;
    *out = mx::publish(mx::create(a));
  });
}

MX_API int MXPredCreatePartialOut(const char* symbol_json_str, const void* param_bytes, int param_size,
                                  int dev_type, int dev_id, uint32_t num_input_nodes, const char** input_keys,
                                  const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                                  uint32_t num_output_nodes, const char** output_keys, PredictorHandle* out) {
  return pred_call([&] {
    mx::capi::check_out(out, "out");
    CreateArgs a{"MXPredCreatePartialOut", symbol_json_str, param_bytes, param_size, dev_type, dev_id,
                 num_input_nodes, input_keys, input_shape_indptr, input_shape_data};
    a.num_outputs = num_output_nodes;
    a.output_keys = output_keys;
    *out = mx::publish(mx::create(a));
  });
}

MX_API int MXPredCreateMultiThread(const char* symbol_json_str, const void* param_bytes, int param_size,
                                   int dev_type, int dev_id, uint32_t num_input_nodes, const char** input_keys,
                                   const uint32_t* input_shape_indptr, const uint32_t* input_shape_data,
                                   int num_threads, PredictorHandle* out) {
  return pred_call([&] {
    const char* fn = "MXPredCreateMultiThread";
    mx::capi::check_out(out, "out");
    MX_CHECK(num_threads > 0, kInvalidArgument, fn, ": num_threads is ", num_threads, " (must be positive)");
    CreateArgs a{fn, symbol_json_str, param_bytes, param_size, dev_type, dev_id,
                 num_input_nodes, input_keys, input_shape_indptr, input_shape_data};
    std::vector<std::unique_ptr<mx::Predictor>> preds;
    preds.push_back(mx::create(a));
    for (int i = 1; i < num_threads; ++i) preds.push_back(mx::sibling(fn, *preds[0], mx::InputSpec{}, false));
    for (int i = 0; i < num_threads; ++i) out[i] = mx::publish(std::move(preds[static_cast<size_t>(i)]));
  });
}

MX_API int MXPredReshape(uint32_t num_input_nodes, const char** input_keys, const uint32_t* input_shape_indptr,
                         const uint32_t* input_shape_data, PredictorHandle handle, PredictorHandle* out) {
  return pred_call([&] {
    const char* fn = "MXPredReshape";
    mx::Predictor* p = mx::get_pred(handle, fn);
    mx::capi::check_out(out, "out");
    mx::InputSpec inputs = mx::parse_inputs(fn, num_input_nodes, input_keys, input_shape_indptr, input_shape_data);
    *out = mx::publish(mx::sibling(fn, *p, inputs, true));
  });
}

MX_API int MXPredGetOutputShape(PredictorHandle handle, uint32_t index, uint32_t** shape_data,
                                uint32_t* shape_ndim) {
  return pred_call([&] {
    mx::Predictor* p = mx::get_pred(handle, "MXPredGetOutputShape");
    mx::capi::check_out(shape_data, "shape_data");
    mx::capi::check_out(shape_ndim, "shape_ndim");
    MX_CHECK(index < p->out_shapes.size(), kIndex, "MXPredGetOutputShape: output index ", index,
             " out of range (the predictor has ", p->out_shapes.size(), " outputs)");
    *shape_data = p->out_shapes[index].data();
    *shape_ndim = static_cast<uint32_t>(p->out_shapes[index].size());
  });
}

MX_API int MXPredGetOutputType(PredictorHandle handle, uint32_t out_index, int* out_dtype) {
  return pred_call([&] {
    mx::Predictor* p = mx::get_pred(handle, "MXPredGetOutputType");
    mx::capi::check_out(out_dtype, "out_dtype");
    MX_CHECK(out_index < p->out_dtypes.size(), kIndex, "MXPredGetOutputType: output index ", out_index,
             " out of range (the predictor has ", p->out_dtypes.size(), " outputs)");
    *out_dtype = static_cast<int>(p->out_dtypes[out_index]);
  });
}

MX_API int MXPredSetInput(PredictorHandle handle, const char* key, const float* data, uint32_t size) {
  return pred_call([&] {
    const char* fn = "MXPredSetInput";
    mx::Predictor* p = mx::get_pred(handle, fn);
    MX_CHECK(key != nullptr, kInvalidArgument, fn, ": key is NULL");
    size_t i = 0;
    while (i < p->arg_names.size() && p->arg_names[i] != key) ++i;
    MX_CHECK(i < p->arg_names.size(), kNotFound, fn, ": '", key, "' is not an argument of the predictor's graph");
    const mx::NDArray& arr = p->args[i];
    MX_CHECK(static_cast<int64_t>(size) == arr.size(), kShape, fn, ": input '", key, "' has shape ",
             arr.shape().str(), " (", arr.size(), " values) but size is ", size);
    MX_CHECK(data != nullptr || size == 0, kInvalidArgument, fn, ": data is NULL");
    mx::from_host_float(arr, data, size);
  });
}

MX_API int MXPredForward(PredictorHandle handle) {
  return pred_call([&] { mx::run_forward(mx::get_pred(handle, "MXPredForward")); });
}

MX_API int MXPredPartialForward(PredictorHandle handle, int step, int* step_left) {
  return pred_call([&] {
    const char* fn = "MXPredPartialForward";
    mx::Predictor* p = mx::get_pred(handle, fn);
    mx::capi::check_out(step_left, "step_left");
    MX_CHECK(step >= 0, kInvalidArgument, fn, ": step ", step, " is negative");
    if (step == 0) mx::run_forward(p);
    *step_left = step < p->num_steps ? p->num_steps - step - 1 : 0;
  });
}

MX_API int MXPredGetOutput(PredictorHandle handle, uint32_t index, float* data, uint32_t size) {
  return pred_call([&] {
    const char* fn = "MXPredGetOutput";
    mx::Predictor* p = mx::get_pred(handle, fn);
    MX_CHECK(index < p->out_sizes.size(), kIndex, fn, ": output index ", index, " out of range (the predictor has ",
             p->out_sizes.size(), " outputs)");
    MX_CHECK(size == p->out_sizes[index], kShape, fn, ": output ", index, " has ", p->out_sizes[index],
             " values but size is ", size);
    MX_CHECK(data != nullptr || size == 0, kInvalidArgument, fn, ": data is NULL");
    mx::to_host_float(p->outputs()[index], data, size);
  });
}

MX_API int MXPredFree(PredictorHandle handle) {
  return pred_call([&] {
    if (handle == nullptr) return;
    mx::Predictor* p = mx::get_pred(handle, "MXPredFree");
    {
      mx::HandleTable& t = mx::handles();
      std::lock_guard<std::mutex> lk(t.mu);
      t.preds.erase(handle);
    }
    delete p;
  });
}

MX_API int MXPredSetMonitorCallback(PredictorHandle handle, PredMonitorCallback callback, void* callback_handle,
                                    bool monitor_all) {
  return pred_call([&] {
    mx::Predictor* p = mx::get_pred(handle, "MXPredSetMonitorCallback");
    // Takes effect at the next forward (the outputs of the last one stay readable until then).
    p->monitor = callback;
    p->monitor_ctx = callback_handle;
    p->monitor_all = monitor_all;
  });
}

MX_API int MXNDListCreate(const char* nd_file_bytes, int nd_file_size, NDListHandle* out, uint32_t* out_length) {
  return pred_call([&] {
    const char* fn = "MXNDListCreate";
    mx::capi::check_out(out, "out");
    mx::capi::check_out(out_length, "out_length");
    MX_CHECK(nd_file_size >= 0, kInvalidArgument, fn, ": nd_file_size ", nd_file_size, " is negative");
    MX_CHECK(nd_file_bytes != nullptr, kInvalidArgument, fn, ": nd_file_bytes is NULL");
    mx::NamedArrays na;
    try {
      na = mx::load_arrays(nd_file_bytes, static_cast<size_t>(nd_file_size));
    } catch (const mx::Error& e) {
      throw mx::Error(e.code(), mx::str(fn, ": ", e.what()));
    }
    auto l = std::make_unique<mx::NDList>();
    size_t total = 0;
    for (size_t i = 0; i < na.arrays.size(); ++i) {
      const mx::NDArray& a = na.arrays[i];
      l->keys.push_back(na.names.empty() ? std::string() : na.names[i]);
      std::string what = mx::str("array ", i, l->keys.back().empty() ? "" : " '" + l->keys.back() + "'");
      MX_CHECK(!a.is_none(), kInvalidArgument, fn, ": ", what, " is a none array (no shape)");
      l->shapes.push_back(mx::shape_u32(a.shape(), what));
      l->offsets.push_back(total);
      total += static_cast<size_t>(a.size());
    }
    l->data.resize(total);
    for (size_t i = 0; i < na.arrays.size(); ++i)
      mx::to_host_float(na.arrays[i], l->data.data() + l->offsets[i], static_cast<size_t>(na.arrays[i].size()));
    uint32_t n = static_cast<uint32_t>(l->keys.size());
    {
      mx::HandleTable& t = mx::handles();
      std::lock_guard<std::mutex> lk(t.mu);
      t.lists.insert(l.get());
    }
    *out = l.release();
    *out_length = n;
  });
}

MX_API int MXNDListGet(NDListHandle handle, uint32_t index, const char** out_key, const float** out_data,
                       const uint32_t** out_shape, uint32_t* out_ndim) {
  return pred_call([&] {
    const char* fn = "MXNDListGet";
    mx::NDList* l = mx::lookup<mx::NDList>(&mx::HandleTable::lists, handle, fn, "NDList", "MXNDListCreate");
    mx::capi::check_out(out_key, "out_key");
    mx::capi::check_out(out_data, "out_data");
    mx::capi::check_out(out_shape, "out_shape");
    mx::capi::check_out(out_ndim, "out_ndim");
    MX_CHECK(index < l->keys.size(), kIndex, fn, ": index ", index, " out of range (the list has ", l->keys.size(),
             " arrays)");
    *out_key = l->keys[index].c_str();
    *out_data = l->data.data() + l->offsets[index];
    *out_shape = l->shapes[index].data();
    *out_ndim = static_cast<uint32_t>(l->shapes[index].size());
  });
}

MX_API int MXNDListFree(NDListHandle handle) {
  return pred_call([&] {
    if (handle == nullptr) return;
    mx::NDList* l = mx::lookup<mx::NDList>(&mx::HandleTable::lists, handle, "MXNDListFree", "NDList", "MXNDListCreate");
    {
      mx::HandleTable& t = mx::handles();
      std::lock_guard<std::mutex> lk(t.mu);
      t.lists.erase(handle);
    }
    delete l;
  });
}

}  // extern "C"
