// MX C++ package: Gluon-style neural-network blocks (mx::nn), as MXNet's Python Gluon 1.x has them.
// Include <mx/mx.hpp> rather than this file.
//
//   mx::nn::Sequential net;                      // names: sequential0_, then dense0_, ... inside
//   net.Add(mx::nn::Dense(64, "relu")).Add(mx::nn::Dropout(0.5)).Add(mx::nn::Dense(10));
//   net.Initialize(mx::nn::Xavier());            // in_units are deferred: known at the first forward
//   mx::nn::Trainer trainer(net.CollectParams(), "sgd", {{"lr", 0.1}, {"momentum", 0.9}});
//   mx::nn::SoftmaxCrossEntropyLoss loss_fn;
//   {
//     mx::autograd::RecordScope record;         // training mode: Dropout drops, BatchNorm updates
//     mx::NDArray loss = loss_fn(net(x), y);    //   its running statistics
//     loss.Backward();
//   }
//   trainer.Step(batch_size);
//   net.SaveParameters("net.params");            // Gluon's save_parameters: "0.weight", "2.bias", ...
//   net.Export("net", 0);                         // net-symbol.json + net-0000.params (arg:/aux:)
//
// Every block runs imperatively on NDArrays (each layer is one libmx op through mx::Operator) and
// symbolically on Symbols (the same ops as graph nodes, parameters as variables named as Gluon
// names them); Export traces the symbolic forward, so Python's SymbolBlock.imports, mx.mod.Module
// and the C predict API load what a C++ net exports, and Python's net.load_parameters reads what
// SaveParameters writes (and the other way round).
//
// Names follow Gluon's name scopes: a block made at top level is "<alias><n>_" (dense0_, conv1_,
// sequential0_; n counts per alias and thread); a block added to a Sequential is renamed as if it
// had been made inside the Sequential's name_scope(): "<parent prefix><alias><k>_" with k counting
// per alias inside that parent. SetPrefix() gives a block an explicit prefix (Gluon's prefix=...).
// Parameter names are "<block prefix><param>" (sequential0_dense0_weight); structural names
// ("0.weight") are the child indices joined by ".".
//
// Blocks are movable, not copyable (copies would share parameters silently); Sequential holds its
// children by shared_ptr. Nothing here computes: shapes, initial values, updates and losses are
// libmx ops; the C++ side only keeps names and bookkeeping.
#ifndef MX_CPP_NN_HPP_
#define MX_CPP_NN_HPP_

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mx/autograd.hpp"
#include "mx/base.hpp"
#include "mx/ndarray.hpp"
#include "mx/operator.hpp"
#include "mx/optimizer.hpp"
#include "mx/symbol.hpp"

namespace mx {
namespace nn {

// ============================================================================ initializers

// MXNet's initializers. Called on a parameter by name (operator()), an initializer dispatches as
// MXNet's does: names ending in "weight" get InitWeight (the initializer's distribution), "bias"
// and "beta" zeros, "gamma" ones, "running_mean"/"moving_mean" zeros, "running_var"/"moving_var"
// ones; other names are an error. A parameter's own initializer (Dense's bias_initializer, ...)
// is applied with InitWeight whatever the name, as Gluon does. Random draws are libmx's random
// ops (seed them with mx::RandomSeed).
class Initializer {
 public:
  virtual ~Initializer() = default;
  virtual std::shared_ptr<Initializer> Clone() const = 0;
  // Fills arr (in place) with this initializer's values for a "weight".
  virtual void InitWeight(const std::string& name, NDArray& arr) const = 0;
  // MXNet's JSON form ["xavier", {...}] (what Python's mx.init.create reads), or a plain
  // registered name ("zeros", "ones").
  virtual std::string Dumps() const = 0;

  void operator()(const std::string& name, NDArray& arr) const {
    if (EndsWith(name, "weight")) return InitWeight(name, arr);
    if (EndsWith(name, "bias") || EndsWith(name, "beta") || EndsWith(name, "running_mean") ||
        EndsWith(name, "moving_mean"))
      return Fill(arr, 0.0);
    if (EndsWith(name, "gamma") || EndsWith(name, "running_var") || EndsWith(name, "moving_var"))
      return Fill(arr, 1.0);
    detail::Fail(MX_ERR_INVALID_ARGUMENT,
                 "Unknown initialization pattern for " + name +
                     ". Default initialization is limited to \"weight\", \"bias\", \"gamma\" (1.0), "
                     "\"beta\" (0.0) and running statistics; give the parameter its own initializer");
  }

 protected:
  static bool EndsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  // arr = value (the _full op writing arr in place).
  static void Fill(NDArray& arr, double value) {
    NDArray out = arr;
    Operator("_full")
        .SetParam("shape", arr.Shape())
        .SetParam("ctx", arr.GetContext())
        .SetParam("dtype", DTypeName(arr.Dtype()))
        .SetParam("value", value)
        .Invoke(out);
  }
  static void DrawUniform(NDArray& arr, double low, double high) {
    NDArray out = arr;
    Operator("_random_uniform")
        .SetParam("low", low)
        .SetParam("high", high)
        .SetParam("shape", arr.Shape())
        .SetParam("ctx", arr.GetContext())
        .SetParam("dtype", DTypeName(arr.Dtype()))
        .Invoke(out);
  }
  static void DrawNormal(NDArray& arr, double loc, double scale) {
    NDArray out = arr;
    Operator("_random_normal")
        .SetParam("loc", loc)
        .SetParam("scale", scale)
        .SetParam("shape", arr.Shape())
        .SetParam("ctx", arr.GetContext())
        .SetParam("dtype", DTypeName(arr.Dtype()))
        .Invoke(out);
  }
  static std::string Num(double v) { return detail::FormatFloat(v); }
};

// Every element = value.
class Constant : public Initializer {
 public:
  explicit Constant(double value) : value_(value) {}
  std::shared_ptr<Initializer> Clone() const override { return std::make_shared<Constant>(*this); }
  void InitWeight(const std::string&, NDArray& arr) const override { Fill(arr, value_); }
  std::string Dumps() const override { return "[\"constant\", {\"value\": " + Num(value_) + "}]"; }

 private:
  double value_;
};

class Zeros : public Initializer {
 public:
  std::shared_ptr<Initializer> Clone() const override { return std::make_shared<Zeros>(*this); }
  void InitWeight(const std::string&, NDArray& arr) const override { Fill(arr, 0.0); }
  std::string Dumps() const override { return "zeros"; }
};

class Ones : public Initializer {
 public:
  std::shared_ptr<Initializer> Clone() const override { return std::make_shared<Ones>(*this); }
  void InitWeight(const std::string&, NDArray& arr) const override { Fill(arr, 1.0); }
  std::string Dumps() const override { return "ones"; }
};

// U(-scale, scale) (Gluon's default initializer, scale 0.07).
class Uniform : public Initializer {
 public:
  explicit Uniform(double scale = 0.07) : scale_(scale) {}
  std::shared_ptr<Initializer> Clone() const override { return std::make_shared<Uniform>(*this); }
  void InitWeight(const std::string&, NDArray& arr) const override { DrawUniform(arr, -scale_, scale_); }
  std::string Dumps() const override { return "[\"uniform\", {\"scale\": " + Num(scale_) + "}]"; }

 private:
  double scale_;
};

// N(0, sigma^2).
class Normal : public Initializer {
 public:
  explicit Normal(double sigma = 0.01) : sigma_(sigma) {}
  std::shared_ptr<Initializer> Clone() const override { return std::make_shared<Normal>(*this); }
  void InitWeight(const std::string&, NDArray& arr) const override { DrawNormal(arr, 0.0, sigma_); }
  std::string Dumps() const override { return "[\"normal\", {\"sigma\": " + Num(sigma_) + "}]"; }

 private:
  double sigma_;
};

// Xavier/Glorot: scale = sqrt(magnitude / factor), factor the fan-in ("in"), fan-out ("out") or
// their mean ("avg") with fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]);
// draws U(-scale, scale) ("uniform") or N(0, scale^2) ("gaussian"). Needs a weight of >= 2 dims.
class Xavier : public Initializer {
 public:
  explicit Xavier(const std::string& rnd_type = "uniform", const std::string& factor_type = "avg",
                  double magnitude = 3.0)
      : rnd_type_(rnd_type), factor_type_(factor_type), magnitude_(magnitude) {
    if (rnd_type != "uniform" && rnd_type != "gaussian")
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Xavier: unknown rnd_type '" + rnd_type + "' (uniform or gaussian)");
    if (factor_type != "avg" && factor_type != "in" && factor_type != "out")
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Xavier: unknown factor_type '" + factor_type + "' (avg, in or out)");
  }
  std::shared_ptr<Initializer> Clone() const override { return std::make_shared<Xavier>(*this); }
  void InitWeight(const std::string& name, NDArray& arr) const override {
    mx::Shape s = arr.Shape();
    if (s.ndim() < 2)
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Xavier initializer cannot be applied to vector " + name +
                                                ". It requires at least 2D.");
    double hw = 1.0;
    for (size_t i = 2; i < s.ndim(); ++i) hw *= static_cast<double>(s[i]);
    double fan_in = static_cast<double>(s[1]) * hw, fan_out = static_cast<double>(s[0]) * hw;
    double factor = factor_type_ == "avg" ? (fan_in + fan_out) / 2.0 : (factor_type_ == "in" ? fan_in : fan_out);
    double scale = std::sqrt(magnitude_ / factor);
    if (rnd_type_ == "uniform")
      DrawUniform(arr, -scale, scale);
    else
      DrawNormal(arr, 0.0, scale);
  }
  std::string Dumps() const override {
    return "[\"xavier\", {\"rnd_type\": \"" + rnd_type_ + "\", \"factor_type\": \"" + factor_type_ +
           "\", \"magnitude\": " + Num(magnitude_) + "}]";
  }

 private:
  std::string rnd_type_, factor_type_;
  double magnitude_;
};

// ============================================================================ parameters

// A named weight of a block: its data (and gradient) array, shape (0 dims: unknown until the
// first forward), dtype, grad_req ("write", "add" or "null") and own initializer (may be null:
// the one given to Initialize is used). Shared between the block and every ParameterDict.
class Parameter {
 public:
  Parameter(std::string name, mx::Shape shape, std::string grad_req = "write", int dtype = kFloat32,
            std::shared_ptr<Initializer> init = nullptr)
      : name_(std::move(name)), shape_(std::move(shape)), grad_req_(std::move(grad_req)), dtype_(dtype),
        init_(std::move(init)) {
    autograd::GradReqFromName(grad_req_);  // validates
  }

  const std::string& Name() const { return name_; }
  const mx::Shape& GetShape() const { return shape_; }
  int Dtype() const { return dtype_; }
  const std::string& GradReq() const { return grad_req_; }
  const std::shared_ptr<Initializer>& Init() const { return init_; }
  void SetInit(std::shared_ptr<Initializer> init) { init_ = std::move(init); }
  double lr_mult = 1.0;  // multipliers of the optimizer's learning rate and wd for this parameter
  double wd_mult = 1.0;

  bool IsInitialized() const { return !data_.IsNone(); }
  // Whether every dim is known (> 0).
  bool ShapeKnown() const {
    if (shape_.ndim() == 0) return false;
    for (int64_t d : shape_)
      if (d <= 0) return false;
    return true;
  }
  // Initialize was called but the shape waits for the first forward.
  bool DeferredInitPending() const { return !IsInitialized() && static_cast<bool>(deferred_init_); }

  // The data array. Throws when the parameter is not initialized (or its initialization is still
  // deferred: run a forward pass first).
  NDArray Data() const {
    if (IsInitialized()) return data_;
    if (deferred_init_)
      detail::Fail(MX_ERR_INVALID_ARGUMENT,
                   "Parameter '" + name_ + "' has not been initialized yet because initialization was deferred "
                   "(its shape " + shape_.ToString() + " is not known): run a forward pass first");
    detail::Fail(MX_ERR_INVALID_ARGUMENT, "Parameter '" + name_ +
                                              "' has not been initialized: call Initialize() on the block "
                                              "(or its ParameterDict) or load parameters first");
  }
  // The gradient buffer (throws for grad_req "null").
  NDArray Grad() const {
    NDArray d = Data();
    if (grad_req_ == "null")
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Parameter '" + name_ + "' has no gradient: its grad_req is 'null'");
    return d.Grad();
  }
  // The Symbol variable of this parameter (cached): its name with MXNet's __shape__ (when known),
  // __dtype__, __lr_mult__, __wd_mult__ and __init__ (own initializer) attributes.
  Symbol Var() const {
    std::string key = (ShapeKnown() ? shape_.ToString() : "") + "|" + std::to_string(dtype_) + "|" +
                      detail::FormatFloat(lr_mult) + "|" + detail::FormatFloat(wd_mult) + "|" +
                      (init_ ? init_->Dumps() : "");
    if (!var_.IsNone() && var_key_ == key) return var_;
    Symbol v = Symbol::Variable(name_);
    if (ShapeKnown()) v.SetAttr("__shape__", PyTuple(shape_));
    v.SetAttr("__dtype__", std::to_string(dtype_));
    v.SetAttr("__lr_mult__", PyFloat(lr_mult));
    v.SetAttr("__wd_mult__", PyFloat(wd_mult));
    if (init_) v.SetAttr("__init__", init_->Dumps());
    var_ = v;
    var_key_ = key;
    return v;
  }

  // Creates the data (and gradient) on ctx and fills it with this parameter's own initializer, or
  // else with init (dispatching by name). With an unknown shape, the initialization waits for
  // the first forward (deferred). An initialized parameter is left alone unless force_reinit.
  void Initialize(const Initializer& init, const Context& ctx = Context::cpu(), bool force_reinit = false) {
    if (IsInitialized() && !force_reinit) return;
    deferred_init_ = init.Clone();
    deferred_ctx_ = ctx;
    data_ = NDArray();
    if (ShapeKnown()) FinishDeferredInit();
  }
  // Sets unknown (0) dims from shape; known dims must agree.
  void SetShape(const mx::Shape& shape) {
    bool ok = shape_.ndim() == 0 || shape_.ndim() == shape.ndim();
    for (size_t i = 0; ok && i < shape_.ndim(); ++i) ok = shape_[i] == 0 || shape_[i] == shape[i];
    if (!ok)
      detail::Fail(MX_ERR_SHAPE, "Parameter '" + name_ + "': expected shape " + shape_.ToString() +
                                     " is incompatible with given shape " + shape.ToString());
    shape_ = shape;
  }
  // Runs a deferred initialization once the shape is known.
  void FinishDeferredInit() {
    if (IsInitialized()) return;
    if (!deferred_init_) Data();  // throws "not initialized"
    if (!ShapeKnown())
      detail::Fail(MX_ERR_SHAPE, "Parameter '" + name_ + "': cannot initialize with unknown shape " + shape_.ToString());
    NDArray arr = NDArray::Empty(shape_, deferred_ctx_, dtype_);
    {
      autograd::PauseScope pause;
      if (init_)
        init_->InitWeight(name_, arr);
      else
        (*deferred_init_)(name_, arr);
    }
    SetData(arr);
    deferred_init_.reset();
  }
  // Loads values (a loaded array): shapes must be compatible (0 dims adopt the saved ones), dtypes
  // equal. An initialized parameter is written in place (its gradient marking stays); otherwise
  // the data is created on ctx (the deferred context if Initialize was called).
  void Load(const NDArray& value, const Context& ctx = Context::cpu()) {
    mx::Shape s = value.Shape();
    bool ok = shape_.ndim() == 0 || shape_.ndim() == s.ndim();
    for (size_t i = 0; ok && i < shape_.ndim(); ++i) ok = shape_[i] == 0 || shape_[i] == s[i];
    if (!ok)
      detail::Fail(MX_ERR_SHAPE, "Failed loading Parameter '" + name_ + "' from saved params: shape incompatible "
                                     "expected " + shape_.ToString() + " vs saved " + s.ToString());
    if (value.Dtype() != dtype_)
      detail::Fail(MX_ERR_DTYPE, "Failed loading Parameter '" + name_ + "' from saved params: dtype incompatible "
                                     "expected " + DTypeName(dtype_) + " vs saved " + DTypeName(value.Dtype()));
    shape_ = s;
    if (IsInitialized()) {
      value.CopyTo(&data_);
      return;
    }
    NDArray arr = NDArray::Empty(s, deferred_init_ ? deferred_ctx_ : ctx, dtype_);
    value.CopyTo(&arr);
    SetData(arr);
    deferred_init_.reset();
  }
  // Sets every gradient element to 0.
  void ZeroGrad() {
    if (!IsInitialized() || grad_req_ == "null") return;
    NDArray g = Grad();
    g = 0.0;
  }
  // Whether backward wrote the gradient since the last optimizer step (see Trainer).
  bool FreshGrad() const {
    int fresh = 0;
    detail::Check(mx_ndarray_get_grad_state(Data().GetHandle(), &fresh));
    return fresh != 0;
  }
  void SetFreshGrad(bool fresh) {
    detail::Check(mx_ndarray_set_grad_state(Data().GetHandle(), fresh ? 1 : 0));
  }

 private:
  friend class Block;
  // Python's tuple spelling, as MXNet writes __shape__: "(64, 20)", "(10,)".
  static std::string PyTuple(const mx::Shape& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.ndim(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    if (s.ndim() == 1) out += ",";
    return out + ")";
  }
  // Python's float spelling, as MXNet writes __lr_mult__: "1.0", "0.5".
  static std::string PyFloat(double v) {
    std::string s = detail::FormatFloat(v);
    return s.find_first_of(".en") == std::string::npos ? s + ".0" : s;
  }
  void SetData(const NDArray& arr) {
    data_ = arr;
    if (grad_req_ != "null") data_.AttachGrad(grad_req_);
  }

  std::string name_;
  mx::Shape shape_;
  std::string grad_req_;
  int dtype_;
  std::shared_ptr<Initializer> init_;
  NDArray data_;
  std::shared_ptr<Initializer> deferred_init_;
  Context deferred_ctx_;
  mutable Symbol var_;
  mutable std::string var_key_;
};

// An ordered name -> Parameter map (registration order), as Gluon's ParameterDict.
class ParameterDict {
 public:
  using Entry = std::pair<std::string, std::shared_ptr<Parameter>>;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }
  std::vector<std::string> Keys() const {
    std::vector<std::string> k;
    for (const auto& e : entries_) k.push_back(e.first);
    return k;
  }
  bool Contains(const std::string& name) const { return Find(name) != nullptr; }
  const std::shared_ptr<Parameter>& Get(const std::string& name) const {
    const std::shared_ptr<Parameter>* p = Find(name);
    if (!p) detail::Fail(MX_ERR_NOT_FOUND, "ParameterDict: no parameter named '" + name + "' (parameters: " + List() + ")");
    return *p;
  }
  const std::shared_ptr<Parameter>& operator[](const std::string& name) const { return Get(name); }
  // Adds name -> param; the same parameter under the same name again is ignored, another one is
  // an error (as Gluon's ParameterDict.update).
  void Add(const std::string& name, const std::shared_ptr<Parameter>& param) {
    if (const std::shared_ptr<Parameter>* p = Find(name)) {
      if (p->get() != param.get())
        detail::Fail(MX_ERR_INVALID_ARGUMENT, "ParameterDict: two different Parameters are named '" + name + "'");
      return;
    }
    index_[name] = entries_.size();
    entries_.emplace_back(name, param);
  }

  void Initialize(const Initializer& init = Uniform(), const Context& ctx = Context::cpu(), bool force_reinit = false) {
    for (const auto& e : entries_) e.second->Initialize(init, ctx, force_reinit);
  }
  void ZeroGrad() {
    for (const auto& e : entries_) e.second->ZeroGrad();
  }
  // Saves the initialized arrays under their names minus strip_prefix (MXNet's
  // ParameterDict.save: every name must start with it).
  void Save(const std::string& path, const std::string& strip_prefix = "") const {
    std::vector<std::string> names;
    std::vector<NDArray> arrays;
    for (const auto& e : entries_) {
      if (e.first.compare(0, strip_prefix.size(), strip_prefix) != 0)
        detail::Fail(MX_ERR_INVALID_ARGUMENT, "Prefix '" + strip_prefix + "' is to be striped before saving, but "
                                                  "Parameter's name '" + e.first + "' does not start with '" +
                                                  strip_prefix + "'");
      names.push_back(e.first.substr(strip_prefix.size()));
      arrays.push_back(e.second->Data());
    }
    SaveNamed(path, names, arrays);
  }
  // Loads a file of named arrays ("arg:"/"aux:" prefixes are dropped; restore_prefix is put in
  // front of every name). A parameter absent from the file is an error unless allow_missing; a
  // name the dict lacks is an error unless ignore_extra.
  void Load(const std::string& path, const Context& ctx = Context::cpu(), bool allow_missing = false,
            bool ignore_extra = false, const std::string& restore_prefix = "") {
    std::map<std::string, NDArray> loaded = LoadNamed(path);
    std::map<std::string, NDArray> named;
    for (const auto& kv : loaded) {
      std::string n = kv.first;
      if (n.compare(0, 4, "arg:") == 0 || n.compare(0, 4, "aux:") == 0) n = n.substr(4);
      named[restore_prefix + n] = kv.second;
    }
    if (!allow_missing)
      for (const auto& e : entries_)
        if (!named.count(e.first))
          detail::Fail(MX_ERR_NOT_FOUND, "Parameter '" + e.first + "' is missing in file '" + path +
                                             "', which contains parameters: " + Join(named) +
                                             ". Set allow_missing=true to ignore missing parameters.");
    for (const auto& kv : named) {
      const std::shared_ptr<Parameter>* p = Find(kv.first);
      if (!p) {
        if (ignore_extra) continue;
        detail::Fail(MX_ERR_NOT_FOUND, "Parameter '" + kv.first + "' loaded from file '" + path +
                                           "' is not present in ParameterDict, which contains parameters " + List() +
                                           ". Set ignore_extra=true to ignore.");
      }
      (*p)->Load(kv.second, ctx);
    }
  }

  // ---- file helpers (MXNet's .params format through mx_ndarray_save / mx_ndarray_load)
  static void SaveNamed(const std::string& path, const std::vector<std::string>& names,
                        const std::vector<NDArray>& arrays) {
    std::vector<const char*> cn;
    for (const auto& n : names) cn.push_back(n.c_str());
    auto hs = NDArray::Handles(arrays);
    detail::Check(mx_ndarray_save(path.c_str(), hs.size(), hs.data(), cn.data()));
  }
  static std::map<std::string, NDArray> LoadNamed(const std::string& path) {
    std::vector<NDArray> list;
    std::map<std::string, NDArray> map;
    NDArray::Load(path, &list, &map);
    if (map.empty() && !list.empty())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "file '" + path + "' holds arrays without names; loading parameters "
                                                "needs a file of named arrays (save_parameters / export)");
    return map;
  }

 private:
  const std::shared_ptr<Parameter>* Find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  std::string List() const {
    std::string s = "[";
    for (size_t i = 0; i < entries_.size(); ++i) s += (i ? ", " : "") + entries_[i].first;
    return s + "]";
  }
  static std::string Join(const std::map<std::string, NDArray>& m) {
    std::string s = "[";
    for (const auto& kv : m) s += (s.size() > 1 ? ", " : "") + kv.first;
    return s + "]";
  }

  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

// ============================================================================ blocks

namespace internal {
inline std::map<std::string, int>& GlobalNameCounter() {
  thread_local std::map<std::string, int> counter;
  return counter;
}
}  // namespace internal

// Base of every layer and model: own parameters, children, names, initialization, files, export.
class Block {
 public:
  virtual ~Block() = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  Block(Block&&) = default;
  Block& operator=(Block&&) = default;

  // The forward passes: imperative (ops run now; recorded by autograd inside a RecordScope) and
  // symbolic (graph nodes; what Export traces).
  virtual NDArray Forward(const NDArray& x) = 0;
  virtual Symbol Forward(const Symbol& x) {
    (void)x;
    detail::Fail(MX_ERR_UNSUPPORTED, "block '" + Name() + "' has no symbolic forward (override "
                                         "Symbol Forward(const Symbol&) to export it)");
  }
  NDArray operator()(const NDArray& x) { return Forward(x); }
  Symbol operator()(const Symbol& x) { return Forward(x); }

  // "dense0_" (the prefix of its parameter and node names) and "dense0".
  std::string Prefix() const { return scope_ + local_; }
  std::string Name() const {
    std::string p = Prefix();
    return !p.empty() && p.back() == '_' ? p.substr(0, p.size() - 1) : p;
  }
  // Gluon's prefix=...: this block's own part of the prefix (kept when added to a parent, which
  // puts its own prefix in front).
  void SetPrefix(const std::string& prefix) {
    local_ = prefix;
    explicit_prefix_ = true;
    Rescope(scope_);
  }

  // This block's own parameters by their local names ("weight", "bias").
  const std::vector<std::pair<std::string, std::shared_ptr<Parameter>>>& Params() const { return params_; }
  // Children in registration order with their keys ("0", "1", ... in a Sequential; "act" ...).
  const std::vector<std::pair<std::string, std::shared_ptr<Block>>>& Children() const { return children_; }

  // This block's and every descendant's parameters by full name (Gluon's collect_params()).
  ParameterDict CollectParams() const {
    ParameterDict d;
    CollectInto(&d);
    return d;
  }
  // The same parameters by structural name: "weight", "0.weight", "features.1.bias" (the names of
  // Gluon's save_parameters / load_parameters).
  ParameterDict CollectParamsWithPrefix(const std::string& prefix = "") const {
    ParameterDict d;
    CollectStructural(prefix, &d);
    return d;
  }

  // Initializes every parameter (deferred ones at the first forward). See Parameter::Initialize.
  void Initialize(const Initializer& init = Uniform(), const Context& ctx = Context::cpu(), bool force_reinit = false) {
    CollectParams().Initialize(init, ctx, force_reinit);
  }
  void ZeroGrad() { CollectParams().ZeroGrad(); }

  // Gluon's save_parameters: MXNet's .params format, structural names.
  void SaveParameters(const std::string& path) const {
    std::vector<std::string> names;
    std::vector<NDArray> arrays;
    for (const auto& e : CollectParamsWithPrefix()) {
      names.push_back(e.first);
      arrays.push_back(e.second->Data());
    }
    ParameterDict::SaveNamed(path, names, arrays);
  }
  // Gluon's load_parameters: a file of save_parameters (structural names) or of
  // collect_params().save / export (full names, with or without "arg:"/"aux:" and this block's
  // prefix). Parameters not yet initialized are created on ctx.
  void LoadParameters(const std::string& path, const Context& ctx = Context::cpu(), bool allow_missing = false,
                      bool ignore_extra = false) {
    std::map<std::string, NDArray> loaded = ParameterDict::LoadNamed(path);
    bool structural = false;
    for (const auto& kv : loaded)
      if (kv.first.find('.') != std::string::npos) structural = true;
    if (!structural) {
      // Full names: those saved with the prefix stripped get it back.
      ParameterDict full = CollectParams();
      std::string prefix = Prefix();
      bool stripped = !loaded.empty() && !prefix.empty();
      for (const auto& kv : loaded) {
        std::string n = kv.first;
        if (n.compare(0, 4, "arg:") == 0 || n.compare(0, 4, "aux:") == 0) n = n.substr(4);
        if (n.compare(0, prefix.size(), prefix) == 0) stripped = false;
      }
      full.Load(path, ctx, allow_missing, ignore_extra, stripped ? prefix : "");
      return;
    }
    ParameterDict params = CollectParamsWithPrefix();
    if (!allow_missing)
      for (const auto& e : params)
        if (!loaded.count(e.first))
          detail::Fail(MX_ERR_NOT_FOUND, "Parameter '" + e.first + "' is missing in file '" + path +
                                                 "'. Set allow_missing=true to ignore missing parameters.");
    for (const auto& kv : loaded) {
      if (!params.Contains(kv.first)) {
        if (ignore_extra) continue;
        detail::Fail(MX_ERR_NOT_FOUND, "Parameter '" + kv.first + "' loaded from file '" + path +
                                               "' is not present in this block, which has parameters " +
                                               JoinKeys(params) + ". Set ignore_extra=true to ignore.");
      }
      params[kv.first]->Load(kv.second, ctx);
    }
  }

  // Gluon's export: traces the symbolic forward on a variable "data" and writes
  // "<path>-symbol.json" and "<path>-<epoch %04d>.params" (names "arg:<name>", and "aux:<name>"
  // for auxiliary states such as BatchNorm's running statistics). Every parameter must be
  // initialized (deferred shapes: run a forward pass first). Returns the symbol it saved.
  Symbol Export(const std::string& path, int epoch = 0) {
    Symbol out = Forward(Symbol::Variable("data"));
    std::vector<std::string> args = out.ListArguments(), aux = out.ListAuxiliaryStates();
    std::set<std::string> arg_set(args.begin(), args.end()), aux_set(aux.begin(), aux.end());
    std::vector<std::string> names;
    std::vector<NDArray> arrays;
    for (const auto& e : CollectParams()) {
      if (arg_set.count(e.first))
        names.push_back("arg:" + e.first);
      else if (aux_set.count(e.first))
        names.push_back("aux:" + e.first);
      else
        continue;  // not used by the graph (Gluon warns and leaves it out)
      arrays.push_back(e.second->Data());
    }
    char epoch_str[32];
    std::snprintf(epoch_str, sizeof(epoch_str), "%04d", epoch);
    out.Save(path + "-symbol.json");
    ParameterDict::SaveNamed(path + "-" + epoch_str + ".params", names, arrays);
    return out;
  }

 protected:
  // alias: the name stem of automatic prefixes ("dense" -> dense0_).
  explicit Block(const std::string& alias) : alias_(alias) {
    local_ = alias + std::to_string(internal::GlobalNameCounter()[alias]++) + "_";
  }

  // Registers a parameter "<prefix><name>" of this block.
  std::shared_ptr<Parameter> RegisterParameter(const std::string& name, const mx::Shape& shape,
                                               const std::string& grad_req = "write", int dtype = kFloat32,
                                               std::shared_ptr<Initializer> init = nullptr) {
    auto p = std::make_shared<Parameter>(Prefix() + name, shape, grad_req, dtype, std::move(init));
    params_.emplace_back(name, p);
    return p;
  }
  // Registers a child under key (default: its index). Unless the child has an explicit prefix,
  // it is renamed "<alias><k>_" (k counting per alias in this block); either way this block's
  // prefix goes in front, as Gluon's name_scope() does.
  void RegisterChild(const std::shared_ptr<Block>& child, std::string key = "") {
    if (!child) detail::Fail(MX_ERR_INVALID_ARGUMENT, "block '" + Name() + "': cannot add a null block");
    if (child.get() == this) detail::Fail(MX_ERR_INVALID_ARGUMENT, "block '" + Name() + "': cannot add itself");
    if (key.empty()) key = std::to_string(children_.size());
    if (!child->explicit_prefix_) child->local_ = child->alias_ + std::to_string(child_counter_[child->alias_]++) + "_";
    child->Rescope(Prefix());
    children_.emplace_back(key, child);
  }

  // Completes the deferred parameter shapes from the input (layers override); then runs deferred
  // initializations. Called by the layers' imperative Forward.
  virtual void InferParamShapes(const NDArray& x) { (void)x; }
  void EnsureInitialized(const NDArray& x) {
    bool pending = false;
    for (const auto& e : params_)
      if (!e.second->IsInitialized()) pending = true;
    if (!pending) return;
    for (const auto& e : params_)
      if (!e.second->IsInitialized() && !e.second->DeferredInitPending()) e.second->Data();  // throws
    InferParamShapes(x);
    for (const auto& e : params_) e.second->FinishDeferredInit();
  }
  // The data of the parameter, or an empty NDArray for a null pointer (optional bias).
  static NDArray DataOf(const std::shared_ptr<Parameter>& p) { return p ? p->Data() : NDArray(); }

  // Node names in graphs: "<prefix>fwd", as Gluon's layers name their op.
  std::string NodeName() const { return Prefix() + "fwd"; }

 private:
  void Rescope(const std::string& scope) {
    scope_ = scope;
    std::string prefix = Prefix();
    for (auto& e : params_) e.second->name_ = prefix + e.first;
    for (auto& c : children_) c.second->Rescope(prefix);
  }
  void CollectInto(ParameterDict* d) const {
    for (const auto& e : params_) d->Add(e.second->Name(), e.second);
    for (const auto& c : children_) c.second->CollectInto(d);
  }
  void CollectStructural(const std::string& prefix, ParameterDict* d) const {
    std::string p = prefix.empty() ? "" : prefix + ".";
    for (const auto& e : params_) d->Add(p + e.first, e.second);
    for (const auto& c : children_) c.second->CollectStructural(p + c.first, d);
  }
  static std::string JoinKeys(const ParameterDict& d) {
    std::string s = "[";
    for (const auto& e : d) s += (s.size() > 1 ? ", " : "") + e.first;
    return s + "]";
  }

  std::string alias_;
  std::string scope_;
  std::string local_;
  bool explicit_prefix_ = false;
  std::map<std::string, int> child_counter_;
  std::vector<std::pair<std::string, std::shared_ptr<Parameter>>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Block>>> children_;
};

// Stacks blocks: net(x) = last(...(first(x))).
class Sequential : public Block {
 public:
  Sequential() : Block("sequential") {}

  // Adds a block on top; returns *this (net.Add(a).Add(b)).
  Sequential& Add(std::shared_ptr<Block> block) {
    RegisterChild(block);
    return *this;
  }
  // Adds a block given by value (moved into the Sequential).
  template <typename B, typename = std::enable_if_t<std::is_base_of_v<Block, std::decay_t<B>> &&
                                                    !std::is_lvalue_reference_v<B>>>
  Sequential& Add(B&& block) {
    return Add(std::shared_ptr<Block>(std::make_shared<std::decay_t<B>>(std::move(block))));
  }

  size_t Size() const { return Children().size(); }
  Block& operator[](size_t i) const {
    if (i >= Children().size())
      detail::Fail(MX_ERR_INDEX, "Sequential '" + Name() + "': index " + std::to_string(i) + " out of range (" +
                                         std::to_string(Children().size()) + " blocks)");
    return *Children()[i].second;
  }

  NDArray Forward(const NDArray& x) override {
    NDArray h = x;
    for (const auto& c : Children()) h = c.second->Forward(h);
    return h;
  }
  Symbol Forward(const Symbol& x) override {
    Symbol h = x;
    for (const auto& c : Children()) h = c.second->Forward(h);
    return h;
  }
};

// Element-wise activation (the Activation op): "relu", "sigmoid", "tanh", "softrelu",
// "softsign", or any act_type the op accepts. Its automatic name is the activation's (relu0_).
class Activation : public Block {
 public:
  explicit Activation(const std::string& act_type) : Block(act_type), act_type_(act_type) {}
  const std::string& ActType() const { return act_type_; }
  NDArray Forward(const NDArray& x) override {
    return Operator("Activation").SetParam("act_type", act_type_).SetInput("data", x).Invoke()[0];
  }
  Symbol Forward(const Symbol& x) override {
    return Operator("Activation").SetParam("act_type", act_type_).SetInput("data", x).CreateSymbol(NodeName());
  }

 private:
  std::string act_type_;
};

// Fully connected layer: activation(x . weight^T + bias) (the FullyConnected op). weight is
// (units, in_units); in_units 0 is inferred at the first forward (flatten: the product of all
// but the first axis of x; else its last axis). weight_init null: the Initialize initializer.
class Dense : public Block {
 public:
  explicit Dense(int64_t units, const std::string& activation = "", bool use_bias = true, int64_t in_units = 0,
                 bool flatten = true, std::shared_ptr<Initializer> weight_init = nullptr,
                 std::shared_ptr<Initializer> bias_init = std::make_shared<Zeros>(), int dtype = kFloat32)
      : Block("dense"), units_(units), flatten_(flatten) {
    if (units <= 0) detail::Fail(MX_ERR_INVALID_ARGUMENT, "Dense: units must be positive, got " + std::to_string(units));
    weight_ = RegisterParameter("weight", mx::Shape(units, in_units), "write", dtype, std::move(weight_init));
    if (use_bias) bias_ = RegisterParameter("bias", mx::Shape(units), "write", dtype, std::move(bias_init));
    if (!activation.empty()) {
      act_ = std::make_shared<Activation>(activation);
      act_->SetPrefix(activation + "_");
      RegisterChild(act_, "act");
    }
  }
  const std::shared_ptr<Parameter>& Weight() const { return weight_; }
  const std::shared_ptr<Parameter>& Bias() const { return bias_; }

  NDArray Forward(const NDArray& x) override {
    EnsureInitialized(x);
    Operator op("FullyConnected");
    Configure(op);
    op.SetInput("data", x).SetInput("weight", weight_->Data());
    if (bias_) op.SetInput("bias", bias_->Data());
    NDArray out = op.Invoke()[0];
    return act_ ? act_->Forward(out) : out;
  }
  Symbol Forward(const Symbol& x) override {
    Operator op("FullyConnected");
    Configure(op);
    op.SetInput("data", x).SetInput("weight", weight_->Var());
    if (bias_) op.SetInput("bias", bias_->Var());
    Symbol out = op.CreateSymbol(NodeName());
    return act_ ? act_->Forward(out) : out;
  }

 protected:
  void InferParamShapes(const NDArray& x) override {
    mx::Shape s = x.Shape();
    int64_t in_units = 1;
    if (flatten_) {
      for (size_t i = 1; i < s.ndim(); ++i) in_units *= s[i];
    } else if (s.ndim() > 0) {
      in_units = s[s.ndim() - 1];
    }
    weight_->SetShape(mx::Shape(units_, in_units));
  }

 private:
  void Configure(Operator& op) const {
    op.SetParam("num_hidden", units_).SetParam("no_bias", !bias_).SetParam("flatten", flatten_);
  }
  int64_t units_;
  bool flatten_;
  std::shared_ptr<Parameter> weight_, bias_;
  std::shared_ptr<Activation> act_;
};

// 2-D convolution over (N, C, H, W) input (the Convolution op). weight is
// (channels, in_channels / groups, kh, kw) ("NHWC": (channels, kh, kw, in_channels / groups));
// in_channels 0 is inferred at the first forward.
class Conv2D : public Block {
 public:
  Conv2D(int64_t channels, const mx::Shape& kernel_size, const mx::Shape& strides = mx::Shape(1, 1),
         const mx::Shape& padding = mx::Shape(0, 0), const std::string& activation = "", bool use_bias = true,
         int64_t in_channels = 0, const mx::Shape& dilation = mx::Shape(1, 1), int groups = 1,
         const std::string& layout = "NCHW", std::shared_ptr<Initializer> weight_init = nullptr,
         std::shared_ptr<Initializer> bias_init = std::make_shared<Zeros>())
      : Block("conv"), channels_(channels), kernel_(kernel_size), strides_(strides), padding_(padding),
        dilation_(dilation), groups_(groups), layout_(layout) {
    if (layout != "NCHW" && layout != "NHWC")
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Conv2D: only supports 'NCHW' and 'NHWC' layout for now, got '" + layout + "'");
    CheckPair("kernel_size", kernel_size);
    CheckPair("strides", strides);
    CheckPair("padding", padding);
    CheckPair("dilation", dilation);
    if (channels <= 0 || groups <= 0 || channels % groups)
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Conv2D: channels (" + std::to_string(channels) +
                                                    ") must be positive and divisible by groups (" + std::to_string(groups) + ")");
    weight_ = RegisterParameter("weight", WeightShape(in_channels), "write", kFloat32, std::move(weight_init));
    if (use_bias) bias_ = RegisterParameter("bias", mx::Shape(channels), "write", kFloat32, std::move(bias_init));
    if (!activation.empty()) {
      act_ = std::make_shared<Activation>(activation);
      act_->SetPrefix(activation + "_");
      RegisterChild(act_, "act");
    }
  }
  const std::shared_ptr<Parameter>& Weight() const { return weight_; }
  const std::shared_ptr<Parameter>& Bias() const { return bias_; }

  NDArray Forward(const NDArray& x) override {
    EnsureInitialized(x);
    Operator op("Convolution");
    Configure(op);
    op.SetInput("data", x).SetInput("weight", weight_->Data());
    if (bias_) op.SetInput("bias", bias_->Data());
    NDArray out = op.Invoke()[0];
    return act_ ? act_->Forward(out) : out;
  }
  Symbol Forward(const Symbol& x) override {
    Operator op("Convolution");
    Configure(op);
    op.SetInput("data", x).SetInput("weight", weight_->Var());
    if (bias_) op.SetInput("bias", bias_->Var());
    Symbol out = op.CreateSymbol(NodeName());
    return act_ ? act_->Forward(out) : out;
  }

 protected:
  void InferParamShapes(const NDArray& x) override {
    mx::Shape s = x.Shape();
    if (s.ndim() != 4)
      detail::Fail(MX_ERR_SHAPE, "Conv2D '" + Name() + "': expects 4-D input (" + layout_ + "), got " + s.ToString());
    int64_t c = s[layout_ == "NCHW" ? 1 : 3];
    if (c % groups_)
      detail::Fail(MX_ERR_SHAPE, "Conv2D '" + Name() + "': input channels (" + std::to_string(c) +
                                         ") must be divisible by groups (" + std::to_string(groups_) + ")");
    weight_->SetShape(WeightShape(c));
  }

 private:
  static void CheckPair(const char* what, const mx::Shape& s) {
    if (s.ndim() != 2)
      detail::Fail(MX_ERR_INVALID_ARGUMENT, std::string("Conv2D: ") + what + " must have 2 entries, got " + s.ToString());
  }
  mx::Shape WeightShape(int64_t in_channels) const {
    int64_t cin = in_channels ? in_channels / groups_ : 0;
    if (layout_ == "NHWC") return mx::Shape(channels_, kernel_[0], kernel_[1], cin);
    return mx::Shape(channels_, cin, kernel_[0], kernel_[1]);
  }
  void Configure(Operator& op) const {
    op.SetParam("kernel", kernel_)
        .SetParam("stride", strides_)
        .SetParam("dilate", dilation_)
        .SetParam("pad", padding_)
        .SetParam("num_filter", channels_)
        .SetParam("num_group", groups_)
        .SetParam("no_bias", !bias_)
        .SetParam("layout", layout_);
  }
  int64_t channels_;
  mx::Shape kernel_, strides_, padding_, dilation_;
  int groups_;
  std::string layout_;
  std::shared_ptr<Parameter> weight_, bias_;
  std::shared_ptr<Activation> act_;
};

// 2-D pooling (the Pooling op); strides default to pool_size; ceil_mode selects the "full"
// pooling convention (else "valid").
class Pool2D : public Block {
 public:
  NDArray Forward(const NDArray& x) override {
    Operator op("Pooling");
    Configure(op);
    return op.SetInput("data", x).Invoke()[0];
  }
  Symbol Forward(const Symbol& x) override {
    Operator op("Pooling");
    Configure(op);
    return op.SetInput("data", x).CreateSymbol(NodeName());
  }

 protected:
  Pool2D(const std::string& pool_type, const mx::Shape& pool_size, const mx::Shape& strides,
         const mx::Shape& padding, bool ceil_mode, bool global_pool, const std::string& layout)
      : Block("pool"), pool_type_(pool_type), kernel_(pool_size), strides_(strides.ndim() ? strides : pool_size),
        padding_(padding), ceil_mode_(ceil_mode), global_pool_(global_pool), layout_(layout) {
    if (layout != "NCHW" && layout != "NHWC")
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Pool2D: only supports 'NCHW' and 'NHWC' layout for now, got '" + layout + "'");
    if (kernel_.ndim() != 2 || strides_.ndim() != 2 || padding_.ndim() != 2)
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Pool2D: pool_size, strides and padding must have 2 entries, got " +
                                                    kernel_.ToString() + ", " + strides_.ToString() + ", " + padding_.ToString());
  }

 private:
  void Configure(Operator& op) const {
    op.SetParam("kernel", kernel_)
        .SetParam("stride", strides_)
        .SetParam("pad", padding_)
        .SetParam("global_pool", global_pool_)
        .SetParam("pool_type", pool_type_)
        .SetParam("layout", layout_)
        .SetParam("pooling_convention", ceil_mode_ ? "full" : "valid");
  }
  std::string pool_type_;
  mx::Shape kernel_, strides_, padding_;
  bool ceil_mode_, global_pool_;
  std::string layout_;
};

class MaxPool2D : public Pool2D {
 public:
  explicit MaxPool2D(const mx::Shape& pool_size = mx::Shape(2, 2), const mx::Shape& strides = mx::Shape(),
                     const mx::Shape& padding = mx::Shape(0, 0), bool ceil_mode = false,
                     const std::string& layout = "NCHW")
      : Pool2D("max", pool_size, strides, padding, ceil_mode, false, layout) {}
};

class AvgPool2D : public Pool2D {
 public:
  explicit AvgPool2D(const mx::Shape& pool_size = mx::Shape(2, 2), const mx::Shape& strides = mx::Shape(),
                     const mx::Shape& padding = mx::Shape(0, 0), bool ceil_mode = false,
                     const std::string& layout = "NCHW")
      : Pool2D("avg", pool_size, strides, padding, ceil_mode, false, layout) {}
};

// Batch normalization over axis (the BatchNorm op). running_mean / running_var are parameters
// with grad_req "null" (auxiliary states in graphs), updated by the op in training mode
// (inside autograd::RecordScope or TrainModeScope): running = momentum * running +
// (1 - momentum) * batch statistic. scale false fixes gamma at 1 (fix_gamma); center false fixes
// beta. in_channels 0 is inferred at the first forward.
class BatchNorm : public Block {
 public:
  explicit BatchNorm(int axis = 1, double momentum = 0.9, double epsilon = 1e-5, bool center = true, bool scale = true,
                     bool use_global_stats = false, int64_t in_channels = 0)
      : Block("batchnorm"), axis_(axis), momentum_(momentum), epsilon_(epsilon), scale_(scale),
        use_global_stats_(use_global_stats) {
    mx::Shape s(in_channels);
    gamma_ = RegisterParameter("gamma", s, scale ? "write" : "null", kFloat32, std::make_shared<Ones>());
    beta_ = RegisterParameter("beta", s, center ? "write" : "null", kFloat32, std::make_shared<Zeros>());
    running_mean_ = RegisterParameter("running_mean", s, "null", kFloat32, std::make_shared<Zeros>());
    running_var_ = RegisterParameter("running_var", s, "null", kFloat32, std::make_shared<Ones>());
  }
  const std::shared_ptr<Parameter>& Gamma() const { return gamma_; }
  const std::shared_ptr<Parameter>& Beta() const { return beta_; }
  const std::shared_ptr<Parameter>& RunningMean() const { return running_mean_; }
  const std::shared_ptr<Parameter>& RunningVar() const { return running_var_; }

  NDArray Forward(const NDArray& x) override {
    EnsureInitialized(x);
    Operator op("BatchNorm");
    Configure(op);
    op.SetInput("data", x)
        .SetInput("gamma", gamma_->Data())
        .SetInput("beta", beta_->Data())
        .SetInput("moving_mean", running_mean_->Data())
        .SetInput("moving_var", running_var_->Data());
    return op.Invoke()[0];
  }
  Symbol Forward(const Symbol& x) override {
    Operator op("BatchNorm");
    Configure(op);
    op.SetInput("data", x)
        .SetInput("gamma", gamma_->Var())
        .SetInput("beta", beta_->Var())
        .SetInput("moving_mean", running_mean_->Var())
        .SetInput("moving_var", running_var_->Var());
    return op.CreateSymbol(NodeName());
  }

 protected:
  void InferParamShapes(const NDArray& x) override {
    mx::Shape s = x.Shape();
    int nd = static_cast<int>(s.ndim());
    int axis = axis_ < 0 ? axis_ + nd : axis_;
    if (axis < 0 || axis >= nd)
      detail::Fail(MX_ERR_SHAPE, "BatchNorm '" + Name() + "': axis " + std::to_string(axis_) +
                                         " is out of range for input of shape " + s.ToString());
    for (const auto& p : {gamma_, beta_, running_mean_, running_var_}) p->SetShape(mx::Shape(s[static_cast<size_t>(axis)]));
  }

 private:
  void Configure(Operator& op) const {
    op.SetParam("axis", axis_)
        .SetParam("eps", epsilon_)
        .SetParam("momentum", momentum_)
        .SetParam("fix_gamma", !scale_)
        .SetParam("use_global_stats", use_global_stats_);
  }
  int axis_;
  double momentum_, epsilon_;
  bool scale_, use_global_stats_;
  std::shared_ptr<Parameter> gamma_, beta_, running_mean_, running_var_;
};

// Dropout (training mode only): zeroes elements with probability rate and scales the rest by
// 1 / (1 - rate); axes shares the mask along those axes. rate 0 is the identity.
class Dropout : public Block {
 public:
  explicit Dropout(double rate, const mx::Shape& axes = mx::Shape()) : Block("dropout"), rate_(rate), axes_(axes) {
    if (rate < 0 || rate >= 1)
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Dropout: rate must be in [0, 1), got " + detail::FormatFloat(rate));
  }
  NDArray Forward(const NDArray& x) override {
    if (rate_ > 0) return Operator("Dropout").SetParam("p", rate_).SetParam("axes", axes_).SetInput("data", x).Invoke()[0];
    return Operator("identity").SetInput("data", x).Invoke()[0];
  }
  Symbol Forward(const Symbol& x) override {
    if (rate_ > 0)
      return Operator("Dropout")
          .SetParam("p", rate_)
          .SetParam("axes", axes_)
          .SetParam("cudnn_off", false)
          .SetInput("data", x)
          .CreateSymbol(NodeName());
    return Operator("identity").SetInput("data", x).CreateSymbol(NodeName());
  }

 private:
  double rate_;
  mx::Shape axes_;
};

// Collapses all axes but the first: (N, ...) -> (N, prod(...)).
class Flatten : public Block {
 public:
  Flatten() : Block("flatten") {}
  NDArray Forward(const NDArray& x) override { return Operator("Flatten").SetInput("data", x).Invoke()[0]; }
  Symbol Forward(const Symbol& x) override { return Operator("Flatten").SetInput("data", x).CreateSymbol(NodeName()); }
};

// ============================================================================ loss

// Gluon's SoftmaxCrossEntropyLoss (sparse labels, from logits): per sample,
// -log_softmax(pred)[label] along axis, averaged over the other non-batch axes; shape (N,).
// Ops: log_softmax, pick, mean.
class SoftmaxCrossEntropyLoss {
 public:
  explicit SoftmaxCrossEntropyLoss(int axis = -1) : axis_(axis) {}
  NDArray operator()(const NDArray& pred, const NDArray& label) const {
    NDArray logp = Operator("log_softmax").SetParam("axis", axis_).SetInput("data", pred).Invoke()[0];
    NDArray picked =
        Operator("pick").SetParam("axis", axis_).SetParam("keepdims", true).SetInput("data", logp).SetInput("index", label).Invoke()[0];
    NDArray loss = Operator("negative").SetInput("data", picked).Invoke()[0];
    return Operator("mean").SetParam("axis", 0).SetParam("exclude", true).SetInput("data", loss).Invoke()[0];
  }
  Symbol operator()(const Symbol& pred, const Symbol& label) const {
    Symbol logp = Operator("log_softmax").SetParam("axis", axis_).SetInput("data", pred).CreateSymbol();
    Symbol picked =
        Operator("pick").SetParam("axis", axis_).SetParam("keepdims", true).SetInput("data", logp).SetInput("index", label).CreateSymbol();
    Symbol loss = Operator("negative").SetInput("data", picked).CreateSymbol();
    return Operator("mean").SetParam("axis", 0).SetParam("exclude", true).SetInput("data", loss).CreateSymbol();
  }

 private:
  int axis_;
};

// ============================================================================ trainer

// Gluon's Trainer: applies an Optimizer to a set of parameters (in the dict's order; each
// parameter's index is its position). Step(batch_size) sets the optimizer's rescale_grad to
// (its initial rescale_grad) / batch_size and updates every parameter whose grad_req is not
// "null". A parameter whose gradient backward has not written since the last step is an error
// (a model that used only some of its parameters), unless ignore_stale_grad (then it is skipped).
class Trainer {
 public:
  Trainer(const ParameterDict& params, std::shared_ptr<Optimizer> optimizer) : optimizer_(std::move(optimizer)) {
    if (!optimizer_) detail::Fail(MX_ERR_INVALID_ARGUMENT, "Trainer: the optimizer is null");
    std::set<const Parameter*> seen;
    for (const auto& e : params)
      if (seen.insert(e.second.get()).second) params_.push_back(e.second);
    for (size_t i = 0; i < params_.size(); ++i) {
      optimizer_->SetLRMult(static_cast<int>(i), params_[i]->lr_mult);
      optimizer_->SetWDMult(static_cast<int>(i), params_[i]->wd_mult);
    }
    scale_ = optimizer_->GetParam("rescale_grad");
  }
  // Trainer(net.CollectParams(), "sgd", {{"lr", 0.1}, {"momentum", 0.9}}).
  Trainer(const ParameterDict& params, const std::string& optimizer, const std::map<std::string, double>& optimizer_params = {})
      : Trainer(params, MakeOptimizer(optimizer, optimizer_params)) {}

  Optimizer& GetOptimizer() const { return *optimizer_; }
  double LearningRate() const { return optimizer_->GetLearningRate(); }
  void SetLearningRate(double lr) { optimizer_->SetParam("lr", lr); }

  // One optimizer step with gradients rescaled by 1 / batch_size.
  void Step(int64_t batch_size, bool ignore_stale_grad = false) {
    if (batch_size <= 0)
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Trainer::Step: batch_size must be positive, got " + std::to_string(batch_size));
    optimizer_->SetParam("rescale_grad", scale_ / static_cast<double>(batch_size));
    Update(ignore_stale_grad);
  }
  // Step without touching rescale_grad.
  void Update(bool ignore_stale_grad = false) {
    for (size_t i = 0; i < params_.size(); ++i) {
      Parameter& p = *params_[i];
      if (p.GradReq() == "null") continue;
      if (!p.IsInitialized() && ignore_stale_grad) continue;
      bool fresh = p.FreshGrad();
      if (!fresh) {
        if (ignore_stale_grad) continue;
        detail::Fail(MX_ERR_INVALID_ARGUMENT,
                         "Gradient of Parameter `" + p.Name() + "` has not been updated by backward since last `Step`. "
                         "This could mean a bug in your model that made it only use a subset of the Parameters "
                         "(Blocks) for this iteration. If you are intentionally only using a subset, call Step with "
                         "ignore_stale_grad=true to skip updating of Parameters with stale gradient");
      }
      optimizer_->Update(static_cast<int>(i), p.Data(), p.Grad());
      p.SetFreshGrad(false);
    }
  }

 private:
  static std::shared_ptr<Optimizer> MakeOptimizer(const std::string& name, const std::map<std::string, double>& params) {
    std::shared_ptr<Optimizer> opt(Optimizer::Create(name));
    for (const auto& kv : params) opt->SetParam(kv.first, kv.second);
    return opt;
  }

  std::shared_ptr<Optimizer> optimizer_;
  std::vector<std::shared_ptr<Parameter>> params_;
  double scale_ = 1.0;
};

}  // namespace nn
}  // namespace mx

#endif  // MX_CPP_NN_HPP_
