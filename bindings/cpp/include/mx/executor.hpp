// MX C++ package: mx::Executor (a Symbol bound to arrays) and mx::CachedOp (a Symbol run as one op,
// what Gluon's hybridize runs). Include <mx/mx.hpp> rather than this file.
#ifndef MX_CPP_EXECUTOR_HPP_
#define MX_CPP_EXECUTOR_HPP_

#include "mx/base.hpp"
#include "mx/ndarray.hpp"
#include "mx/symbol.hpp"

namespace mx {

// A bound graph. arg_arrays / grad_arrays / aux_arrays / outputs are the executor's own arrays
// (the same storage libmx reads and writes, so writing into arg_arrays[i] sets an input); outputs
// hold the results of the last Forward. Not copyable (one owner of the executor), movable.
class Executor {
 public:
  Executor() = default;
  // Takes ownership of a handle from the C API; sym is the bound symbol (for names).
  Executor(mx_executor* handle, Symbol sym) : handle_(handle, mx_executor_free), symbol_(std::move(sym)) {
    Refresh();
  }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  Executor(Executor&&) noexcept = default;
  Executor& operator=(Executor&&) noexcept = default;

  mx_executor* GetHandle() const { return handle_.get(); }
  const Symbol& GetSymbol() const { return symbol_; }

  void Forward(bool is_train) {
    detail::Check(mx_executor_forward(Checked(), is_train ? 1 : 0));
    outputs = Fetch(3);
  }
  // head_grads: empty (ones for every output) or one per output (IsNone() entries mean ones).
  void Backward(const std::vector<NDArray>& head_grads = {}) {
    std::vector<mx_ndarray*> hs;
    for (const auto& g : head_grads) hs.push_back(g.GetHandle());
    detail::Check(mx_executor_backward(Checked(), static_cast<int>(hs.size()), hs.data()));
  }
  // A new executor for new input shapes (by argument name), sharing the arrays that keep their shape.
  Executor Reshape(const std::map<std::string, mx::Shape>& input_shapes, bool partial_shaping = false,
                   bool allow_up_sizing = false) const {
    std::vector<const char*> keys;
    std::vector<int> ndims;
    std::vector<int64_t> dims;
    for (const auto& kv : input_shapes) {
      keys.push_back(kv.first.c_str());
      ndims.push_back(static_cast<int>(kv.second.ndim()));
      dims.insert(dims.end(), kv.second.begin(), kv.second.end());
    }
    mx_executor* h = nullptr;
    detail::Check(mx_executor_reshape(Checked(), static_cast<int>(keys.size()), keys.data(), ndims.data(), dims.data(),
                                      partial_shaping ? 1 : 0, allow_up_sizing ? 1 : 0, &h));
    return Executor(h, symbol_);
  }

  const std::vector<NDArray>& Outputs() const { return outputs; }
  // Arrays by argument / auxiliary-state name. GradDict leaves out arguments with grad_req null.
  std::map<std::string, NDArray> ArgDict() const { return Dict(symbol_.ListArguments(), arg_arrays); }
  std::map<std::string, NDArray> GradDict() const { return Dict(symbol_.ListArguments(), grad_arrays); }
  std::map<std::string, NDArray> AuxDict() const { return Dict(symbol_.ListAuxiliaryStates(), aux_arrays); }
  std::map<std::string, NDArray> arg_dict() const { return ArgDict(); }
  std::map<std::string, NDArray> grad_dict() const { return GradDict(); }
  std::map<std::string, NDArray> aux_dict() const { return AuxDict(); }

  // Bytes of intermediate buffers with the memory plan and without sharing.
  std::pair<size_t, size_t> MemoryBytes() const {
    size_t planned = 0, naive = 0;
    detail::Check(mx_executor_memory(Checked(), &planned, &naive));
    return {planned, naive};
  }

  std::vector<NDArray> arg_arrays;
  std::vector<NDArray> grad_arrays;  // IsNone() where grad_req is null
  std::vector<NDArray> aux_arrays;
  std::vector<NDArray> outputs;

 private:
  mx_executor* Checked() const {
    if (!handle_) detail::Fail(MX_ERR_HANDLE, "mx::Executor: the executor is empty (default-constructed or moved from)");
    return handle_.get();
  }
  std::vector<NDArray> Fetch(int which) const {
    size_t n = 0;
    detail::Check(mx_executor_num(Checked(), which, &n));
    std::vector<NDArray> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      mx_ndarray* h = nullptr;
      detail::Check(mx_executor_get(Checked(), which, i, &h));
      v.emplace_back(h);
    }
    return v;
  }
  void Refresh() {
    arg_arrays = Fetch(0);
    grad_arrays = Fetch(1);
    aux_arrays = Fetch(2);
    outputs = Fetch(3);
  }
  static std::map<std::string, NDArray> Dict(const std::vector<std::string>& names, const std::vector<NDArray>& arrays) {
    std::map<std::string, NDArray> m;
    for (size_t i = 0; i < names.size() && i < arrays.size(); ++i)
      if (!arrays[i].IsNone()) m[names[i]] = arrays[i];
    return m;
  }

  std::unique_ptr<mx_executor, void (*)(mx_executor*)> handle_{nullptr, mx_executor_free};
  Symbol symbol_;
};

inline Executor Symbol::Bind(const Context& ctx, const std::vector<NDArray>& args, const std::vector<NDArray>& arg_grads,
                             const std::vector<OpReqType>& grad_reqs, const std::vector<NDArray>& aux_states) const {
  std::vector<mx_ndarray*> a = NDArray::Handles(args);
  std::vector<mx_ndarray*> aux = NDArray::Handles(aux_states);
  std::vector<mx_ndarray*> g;
  for (const auto& x : arg_grads) g.push_back(x.GetHandle());
  std::vector<int> reqs(grad_reqs.begin(), grad_reqs.end());
  if (!arg_grads.empty() && arg_grads.size() != args.size())
    detail::Fail(MX_ERR_INVALID_ARGUMENT, "Symbol::Bind: " + std::to_string(arg_grads.size()) +
                                              " gradient arrays for " + std::to_string(args.size()) + " arguments");
  if (!grad_reqs.empty() && grad_reqs.size() != args.size())
    detail::Fail(MX_ERR_INVALID_ARGUMENT, "Symbol::Bind: " + std::to_string(grad_reqs.size()) + " grad_reqs for " +
                                              std::to_string(args.size()) + " arguments");
  mx_executor* h = nullptr;
  detail::Check(mx_executor_bind(Checked(), ctx.GetDeviceType(), ctx.GetDeviceId(), static_cast<int>(a.size()), a.data(),
                                 g.empty() ? nullptr : g.data(), reqs.empty() ? nullptr : reqs.data(),
                                 static_cast<int>(aux.size()), aux.data(), 0, &h));
  return Executor(h, *this);
}

inline Executor Symbol::SimpleBind(const Context& ctx, const std::map<std::string, mx::Shape>& input_shapes,
                                   const std::map<std::string, OpReqType>& grad_reqs,
                                   const std::map<std::string, int>& dtypes) const {
  std::vector<const char*> skeys, tkeys, rkeys;
  std::vector<int> ndims, types, reqs;
  std::vector<int64_t> dims;
  for (const auto& kv : input_shapes) {
    skeys.push_back(kv.first.c_str());
    ndims.push_back(static_cast<int>(kv.second.ndim()));
    dims.insert(dims.end(), kv.second.begin(), kv.second.end());
  }
  for (const auto& kv : dtypes) {
    tkeys.push_back(kv.first.c_str());
    types.push_back(kv.second);
  }
  for (const auto& kv : grad_reqs) {
    rkeys.push_back(kv.first.c_str());
    reqs.push_back(kv.second);
  }
  mx_executor* h = nullptr;
  detail::Check(mx_executor_simple_bind(Checked(), ctx.GetDeviceType(), ctx.GetDeviceId(), static_cast<int>(skeys.size()),
                                        skeys.data(), ndims.data(), dims.data(), static_cast<int>(tkeys.size()),
                                        tkeys.data(), types.data(), static_cast<int>(rkeys.size()), rkeys.data(),
                                        reqs.data(), 0, &h));
  return Executor(h, *this);
}

inline Executor Symbol::SimpleBind(const Context& ctx, const std::map<std::string, NDArray>& args_map,
                                   const std::map<std::string, NDArray>& arg_grad_store,
                                   const std::map<std::string, OpReqType>& grad_req_type,
                                   const std::map<std::string, NDArray>& aux_map) const {
  std::map<std::string, std::vector<int64_t>> known;
  std::map<std::string, int> known_types;
  for (const auto& kv : args_map) {
    known[kv.first] = kv.second.GetShape();
    known_types[kv.first] = kv.second.Dtype();
  }
  std::vector<std::vector<int64_t>> in_shapes, aux_shapes, out_shapes;
  InferShape(known, &in_shapes, &aux_shapes, &out_shapes);
  std::vector<int> in_types, aux_types, out_types;
  InferType(known_types, &in_types, &aux_types, &out_types);
  auto arg_names = ListArguments();
  auto aux_names = ListAuxiliaryStates();
  std::vector<NDArray> args, grads, aux;
  std::vector<OpReqType> reqs;
  for (size_t i = 0; i < arg_names.size(); ++i) {
    const std::string& n = arg_names[i];
    auto it = args_map.find(n);
    args.push_back(it != args_map.end() ? it->second
                                        : NDArray::Zeros(mx::Shape(in_shapes[i]), ctx, in_types[i]));
    auto r = grad_req_type.find(n);
    OpReqType req = r != grad_req_type.end() ? r->second : kWriteTo;
    reqs.push_back(req);
    auto g = arg_grad_store.find(n);
    if (req == kNullOp) grads.emplace_back();
    else grads.push_back(g != arg_grad_store.end() ? g->second
                                                   : NDArray::Zeros(mx::Shape(in_shapes[i]), ctx, in_types[i]));
  }
  for (size_t i = 0; i < aux_names.size(); ++i) {
    auto it = aux_map.find(aux_names[i]);
    aux.push_back(it != aux_map.end() ? it->second : NDArray::Zeros(mx::Shape(aux_shapes[i]), ctx, aux_types[i]));
  }
  return Bind(ctx, args, grads, reqs, aux);
}

// A graph run as one op (Gluon's hybridize): inputs in the symbol's ListInputs() order; recorded
// into autograd as one node while recording. flags: "static_alloc", "static_shape" ("true"/"false").
// Copies share the cached op.
class CachedOp {
 public:
  CachedOp() = default;
  explicit CachedOp(const Symbol& sym, const std::map<std::string, std::string>& flags = {}, int exec_flags = 0) {
    std::vector<const char*> keys, vals;
    for (const auto& kv : flags) {
      keys.push_back(kv.first.c_str());
      vals.push_back(kv.second.c_str());
    }
    mx_cached_op* h = nullptr;
    detail::Check(mx_cached_op_create(sym.Checked(), static_cast<int>(keys.size()), keys.data(), vals.data(), exec_flags, &h));
    handle_.reset(h, mx_cached_op_free);
    symbol_ = sym;
  }
  mx_cached_op* GetHandle() const { return handle_.get(); }
  const Symbol& GetSymbol() const { return symbol_; }

  std::vector<NDArray> operator()(const std::vector<NDArray>& inputs) const {
    if (!handle_) detail::Fail(MX_ERR_HANDLE, "mx::CachedOp: the cached op is empty (default-constructed)");
    std::vector<mx_ndarray*> in = NDArray::Handles(inputs);
    mx_ndarray_list* l = nullptr;
    detail::Check(mx_cached_op_invoke(handle_.get(), static_cast<int>(in.size()), in.data(), &l));
    std::unique_ptr<mx_ndarray_list, void (*)(mx_ndarray_list*)> guard(l, mx_ndarray_list_free);
    size_t n = 0;
    detail::Check(mx_ndarray_list_size(l, &n));
    std::vector<NDArray> out;
    for (size_t i = 0; i < n; ++i) {
      mx_ndarray* h = nullptr;
      detail::Check(mx_ndarray_list_get(l, i, &h, nullptr));
      out.emplace_back(h);
    }
    return out;
  }
  // Inputs by name (every name of GetSymbol().ListInputs() must be given).
  std::vector<NDArray> operator()(const std::map<std::string, NDArray>& inputs) const {
    std::vector<NDArray> ordered;
    for (const auto& n : symbol_.ListInputs()) {
      auto it = inputs.find(n);
      if (it == inputs.end()) detail::Fail(MX_ERR_INVALID_ARGUMENT, "CachedOp: input '" + n + "' is not given");
      ordered.push_back(it->second);
    }
    if (ordered.size() != inputs.size())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "CachedOp: " + std::to_string(inputs.size() - ordered.size()) +
                                                " inputs given that the symbol does not have");
    return (*this)(ordered);
  }
  std::pair<size_t, size_t> MemoryBytes() const {
    size_t planned = 0, naive = 0;
    detail::Check(mx_cached_op_memory(handle_.get(), &planned, &naive));
    return {planned, naive};
  }

 private:
  std::shared_ptr<mx_cached_op> handle_;
  Symbol symbol_;
};

}  // namespace mx

#endif  // MX_CPP_EXECUTOR_HPP_
