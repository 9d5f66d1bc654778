// MX C++ package: mx::Symbol, an RAII handle over mx_symbol (a graph with one or more outputs).
// Include <mx/mx.hpp> rather than this file (Bind/SimpleBind are defined in executor.hpp, the
// arithmetic operators in operator.hpp).
#ifndef MX_CPP_SYMBOL_HPP_
#define MX_CPP_SYMBOL_HPP_

#include "mx/base.hpp"
#include "mx/ndarray.hpp"

namespace mx {

class Executor;

// grad_req values of Bind/SimpleBind (MXNet's OpReqType).
enum OpReqType { kNullOp = MX_GRAD_NULL, kWriteTo = MX_GRAD_WRITE, kWriteInplace = MX_GRAD_INPLACE, kAddTo = MX_GRAD_ADD };

// A symbolic graph. Copies share the handle (symbols are immutable except for attributes).
// Op functions that build symbols are generated in namespace mx::sym (see mx/ops.hpp):
// mx::sym::FullyConnected("fc1", data, weight, bias, 128), or Operator(...).CreateSymbol(name).
class Symbol {
 public:
  Symbol() = default;
  // Takes ownership of a handle from the C API.
  explicit Symbol(mx_symbol* handle) {
    if (handle) handle_.reset(handle, mx_symbol_free);
  }
  // A free variable named name (MXNet's Symbol(name)).
  explicit Symbol(const std::string& name) : Symbol(Variable(name)) {}

  static Symbol Variable(const std::string& name) {
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_variable(name.c_str(), &h));
    return Symbol(h);
  }
  // A -symbol.json file (MXNet's nnvm JSON).
  static Symbol Load(const std::string& path) {
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_load(path.c_str(), &h));
    return Symbol(h);
  }
  static Symbol LoadJSON(const std::string& json) {
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_from_json(json.c_str(), &h));
    return Symbol(h);
  }
  // One symbol whose outputs are the outputs of every symbol given, in order.
  static Symbol Group(const std::vector<Symbol>& symbols) {
    std::vector<mx_symbol*> hs;
    for (const auto& s : symbols) hs.push_back(s.Checked());
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_group(static_cast<int>(hs.size()), hs.data(), &h));
    return Symbol(h);
  }

  mx_symbol* GetHandle() const { return handle_.get(); }
  bool IsNone() const { return !handle_; }

  std::string ToJSON() const {
    const char* json = nullptr;
    detail::Check(mx_symbol_to_json(Checked(), &json));
    return detail::CStr(json);
  }
  void Save(const std::string& path) const { detail::Check(mx_symbol_save(Checked(), path.c_str())); }
  // An independent copy of the graph (attributes set later do not affect this one).
  Symbol Copy() const {
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_copy(Checked(), &h));
    return Symbol(h);
  }

  // ---- outputs and structure
  size_t NumOutputs() const {
    size_t n = 0;
    detail::Check(mx_symbol_num_outputs(Checked(), &n));
    return n;
  }
  Symbol operator[](size_t index) const {
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_get_output(Checked(), index, &h));
    return Symbol(h);
  }
  // The output called name (as ListOutputs() spells it, e.g. "fc1_output" of GetInternals()).
  Symbol operator[](const std::string& name) const {
    auto outs = ListOutputs();
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i] == name) return (*this)[i];
    detail::Fail(MX_ERR_NOT_FOUND, "Symbol: no output named '" + name + "'");
  }
  Symbol GetInternals() const {
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_get_internals(Checked(), &h));
    return Symbol(h);
  }
  // The inputs of the head nodes (IsNone() for a variable).
  Symbol GetChildren() const {
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_get_children(Checked(), &h));
    return Symbol(h);
  }
  // Name of the single head node ("" for a group of several outputs).
  std::string GetName() const {
    const char* n = nullptr;
    detail::Check(mx_symbol_name(Checked(), &n));
    return detail::CStr(n);
  }

  std::vector<std::string> ListArguments() const { return List(0); }
  std::vector<std::string> ListOutputs() const { return List(1); }
  std::vector<std::string> ListAuxiliaryStates() const { return List(2); }
  // Arguments and auxiliary states in graph order (the input order of a CachedOp).
  std::vector<std::string> ListInputs() const { return List(3); }

  // ---- attributes
  // found (may be null) tells an empty value from an absent key.
  std::string GetAttr(const std::string& key, bool* found = nullptr) const {
    const char* v = nullptr;
    int f = 0;
    detail::Check(mx_symbol_get_attr(Checked(), key.c_str(), &v, &f));
    if (found) *found = f != 0;
    return detail::CStr(v);
  }
  void SetAttr(const std::string& key, const std::string& value) {
    detail::Check(mx_symbol_set_attr(Checked(), key.c_str(), value.c_str()));
  }
  // Attributes as {node name: {key: value}}; recursive false: the head node only.
  std::map<std::string, std::map<std::string, std::string>> ListAttr(bool recursive = true) const {
    size_t n = 0;
    const char* const* t = nullptr;
    detail::Check(mx_symbol_list_attr(Checked(), recursive ? 1 : 0, &n, &t));
    std::map<std::string, std::map<std::string, std::string>> out;
    for (size_t i = 0; i < n; ++i) out[t[3 * i]][t[3 * i + 1]] = t[3 * i + 2];
    return out;
  }

  // ---- composition and gradients
  // A copy with free variables replaced by name (MXNet's sym(data=x)).
  Symbol Compose(const std::map<std::string, Symbol>& args, const std::string& name = "") const {
    std::vector<const char*> keys;
    std::vector<mx_symbol*> hs;
    for (const auto& kv : args) {
      keys.push_back(kv.first.c_str());
      hs.push_back(kv.second.Checked());
    }
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_compose(Checked(), name.empty() ? nullptr : name.c_str(),
                                    static_cast<int>(hs.size()), keys.data(), hs.data(), &h));
    return Symbol(h);
  }
  // Free variables replaced in ListArguments() order.
  Symbol Compose(const std::vector<Symbol>& args, const std::string& name = "") const {
    std::vector<mx_symbol*> hs;
    for (const auto& s : args) hs.push_back(s.Checked());
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_compose(Checked(), name.empty() ? nullptr : name.c_str(),
                                    static_cast<int>(hs.size()), nullptr, hs.data(), &h));
    return Symbol(h);
  }
  // The gradient graph of this (loss) symbol with respect to the named arguments.
  Symbol Gradient(const std::vector<std::string>& wrt) const {
    std::vector<const char*> w;
    for (const auto& s : wrt) w.push_back(s.c_str());
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_gradient(Checked(), static_cast<int>(w.size()), w.data(), &h));
    return Symbol(h);
  }

  // ---- inference
  // Shapes of arguments, auxiliary states and outputs from the known argument shapes (by name).
  // Throws (naming the node) when a shape cannot be inferred.
  void InferShape(const std::map<std::string, std::vector<int64_t>>& arg_shapes,
                  std::vector<std::vector<int64_t>>* in_shape, std::vector<std::vector<int64_t>>* aux_shape,
                  std::vector<std::vector<int64_t>>* out_shape) const {
    RunInferShape(arg_shapes, false, in_shape, aux_shape, out_shape);
  }
  // As InferShape, but leaves what cannot be inferred unknown (an empty vector) and returns
  // whether everything was inferred.
  bool InferShapePartial(const std::map<std::string, std::vector<int64_t>>& arg_shapes,
                         std::vector<std::vector<int64_t>>* in_shape, std::vector<std::vector<int64_t>>* aux_shape,
                         std::vector<std::vector<int64_t>>* out_shape) const {
    return RunInferShape(arg_shapes, true, in_shape, aux_shape, out_shape);
  }
  // Dtypes (kFloat32, ...) from known argument dtypes by name.
  void InferType(const std::map<std::string, int>& arg_types, std::vector<int>* in_type,
                 std::vector<int>* aux_type, std::vector<int>* out_type) const {
    std::vector<const char*> keys;
    std::vector<int> types;
    for (const auto& kv : arg_types) {
      keys.push_back(kv.first.c_str());
      types.push_back(kv.second);
    }
    mx_infer_result* r = nullptr;
    detail::Check(mx_symbol_infer_type(Checked(), static_cast<int>(keys.size()), keys.data(), types.data(), 0, &r));
    std::unique_ptr<mx_infer_result, void (*)(mx_infer_result*)> guard(r, mx_infer_result_free);
    std::vector<int>* outs[3] = {in_type, out_type, aux_type};
    for (int which = 0; which < 3; ++which) {
      if (!outs[which]) continue;
      size_t n = 0;
      detail::Check(mx_infer_result_size(r, which, &n));
      outs[which]->assign(n, -1);
      for (size_t i = 0; i < n; ++i) detail::Check(mx_infer_result_dtype(r, which, i, &(*outs[which])[i]));
    }
  }

  // ---- binding (defined in executor.hpp)
  // Binds to arrays used in place: args in ListArguments() order, arg_grads likewise (IsNone()
  // entries where grad_reqs says kNullOp), aux_states in ListAuxiliaryStates() order.
  Executor Bind(const Context& ctx, const std::vector<NDArray>& args, const std::vector<NDArray>& arg_grads,
                const std::vector<OpReqType>& grad_reqs, const std::vector<NDArray>& aux_states) const;
  // Allocates every array (zero-filled) from input shapes by name; grad_reqs by name ("*" is the
  // default for names not listed; empty: kWriteTo for every argument); dtypes by name.
  Executor SimpleBind(const Context& ctx, const std::map<std::string, mx::Shape>& input_shapes,
                      const std::map<std::string, OpReqType>& grad_reqs = {},
                      const std::map<std::string, int>& dtypes = {}) const;
  // MXNet cpp-package's SimpleBind: uses the arrays in args_map (and arg_grad_store / aux_map) in
  // place, allocates zero-filled arrays for the rest from the inferred shapes. grad_req_type
  // defaults to kWriteTo for every argument not listed.
  Executor SimpleBind(const Context& ctx, const std::map<std::string, NDArray>& args_map,
                      const std::map<std::string, NDArray>& arg_grad_store,
                      const std::map<std::string, OpReqType>& grad_req_type = {},
                      const std::map<std::string, NDArray>& aux_map = {}) const;

  mx_symbol* Checked() const {
    if (!handle_) detail::Fail(MX_ERR_HANDLE, "mx::Symbol: the symbol is empty (default-constructed)");
    return handle_.get();
  }

 private:
  std::vector<std::string> List(int which) const {
    size_t n = 0;
    const char* const* names = nullptr;
    detail::Check(mx_symbol_list(Checked(), which, &n, &names));
    return std::vector<std::string>(names, names + n);  // borrowed until the next list call: copy now
  }
  bool RunInferShape(const std::map<std::string, std::vector<int64_t>>& arg_shapes, bool partial,
                     std::vector<std::vector<int64_t>>* in_shape, std::vector<std::vector<int64_t>>* aux_shape,
                     std::vector<std::vector<int64_t>>* out_shape) const {
    std::vector<const char*> keys;
    std::vector<int> ndims;
    std::vector<int64_t> dims;
    for (const auto& kv : arg_shapes) {
      keys.push_back(kv.first.c_str());
      ndims.push_back(static_cast<int>(kv.second.size()));
      dims.insert(dims.end(), kv.second.begin(), kv.second.end());
    }
    mx_infer_result* r = nullptr;
    detail::Check(mx_symbol_infer_shape(Checked(), static_cast<int>(keys.size()), keys.data(), ndims.data(),
                                        dims.data(), partial ? 1 : 0, &r));
    std::unique_ptr<mx_infer_result, void (*)(mx_infer_result*)> guard(r, mx_infer_result_free);
    std::vector<std::vector<int64_t>>* outs[3] = {in_shape, out_shape, aux_shape};
    for (int which = 0; which < 3; ++which) {
      if (!outs[which]) continue;
      size_t n = 0;
      detail::Check(mx_infer_result_size(r, which, &n));
      outs[which]->assign(n, {});
      for (size_t i = 0; i < n; ++i) {
        int nd = 0;
        const int64_t* d = nullptr;
        detail::Check(mx_infer_result_shape(r, which, i, &nd, &d));
        if (nd >= 0) (*outs[which])[i].assign(d, d + nd);
      }
    }
    int complete = 0;
    detail::Check(mx_infer_result_complete(r, &complete));
    return complete != 0;
  }

  std::shared_ptr<mx_symbol> handle_;
};

}  // namespace mx

#endif  // MX_CPP_SYMBOL_HPP_
