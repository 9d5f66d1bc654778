// MX C++ package: mx::Operator, a builder that invokes any registered op on NDArrays or creates a
// Symbol node; the NDArray and Symbol arithmetic operators built on it.
// Include <mx/mx.hpp> rather than this file.
#ifndef MX_CPP_OPERATOR_HPP_
#define MX_CPP_OPERATOR_HPP_

#include "mx/base.hpp"
#include "mx/ndarray.hpp"
#include "mx/symbol.hpp"

namespace mx {

// Operator("Convolution").SetParam("kernel", Shape(3, 3)).SetParam("num_filter", 8)
//     .SetInput("data", x).SetInput("weight", w).SetInput("bias", b).Invoke()
// Parameters take int/float/bool/string/Shape/vector/Context values (MXNet syntax on the wire,
// validated by libmx). Inputs are given by name (the op's input names, any order) or positionally
// (PushInput / operator()); a variadic op (Concat, add_n) takes positional inputs and gets its
// count parameter (num_args) set when it is not given. The same builder makes graph nodes from
// Symbol inputs with CreateSymbol(name); inputs not given there become variables.
class Operator {
 public:
  explicit Operator(const std::string& name) : name_(name) {
    detail::Check(mx_op_find(name.c_str(), &op_));
  }

  const std::string& Name() const { return name_; }
  const mx_op* GetHandle() const { return op_; }

  // ---- parameters
  template <typename T>
  Operator& SetParam(const std::string& key, const T& value) {
    return SetParamString(key, ParamString(value));
  }
  // An Optional without a value leaves the op's default.
  template <typename T>
  Operator& SetParam(const std::string& key, const Optional<T>& value) {
    if (value.has_value()) SetParamString(key, ParamString(value.value()));
    return *this;
  }
  Operator& SetParam(const std::string& key, const char* value) { return SetParamString(key, ParamString(value)); }

  // ---- inputs
  Operator& SetInput(const std::string& name, const NDArray& value) {
    nd_named_.emplace_back(name, value);
    return *this;
  }
  Operator& SetInput(const std::string& name, const Symbol& value) {
    sym_named_.emplace_back(name, value);
    return *this;
  }
  Operator& PushInput(const NDArray& value) {
    nd_inputs_.push_back(value);
    return *this;
  }
  Operator& PushInput(const Symbol& value) {
    sym_inputs_.push_back(value);
    return *this;
  }
  Operator& operator()(const NDArray& value) { return PushInput(value); }
  Operator& operator()(const Symbol& value) { return PushInput(value); }
  Operator& operator()(const std::vector<NDArray>& values) {
    for (const auto& v : values) PushInput(v);
    return *this;
  }
  Operator& operator()(const std::vector<Symbol>& values) {
    for (const auto& v : values) PushInput(v);
    return *this;
  }

  // ---- imperative invocation
  // Runs the op (asynchronously: a kernel error surfaces at the next read or wait) and returns its
  // visible outputs as new arrays.
  std::vector<NDArray> Invoke() {
    std::vector<NDArray> outputs;
    Invoke(outputs);
    return outputs;
  }
  // Writes the single output into output (in place; it must have the output's shape and dtype).
  // An empty output receives a new array.
  void Invoke(NDArray& output) {
    std::vector<NDArray> outs{output};
    Invoke(outs);
    output = outs[0];
  }
  // outputs: empty (new arrays for every output), or one slot per output; a slot holding an array
  // is written in place, an empty slot receives a new array.
  void Invoke(std::vector<NDArray>& outputs) {
    if (!sym_inputs_.empty() || !sym_named_.empty())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Operator(" + name_ + ")::Invoke: Symbol inputs were given; use CreateSymbol");
    std::vector<NDArray> inputs = OrderedNDArrayInputs();
    SetVarCount(inputs.size());
    std::unique_ptr<mx_op_params, void (*)(mx_op_params*)> params(CreateParams(), mx_op_params_free);
    int num_in = 0, num_out = 0;
    detail::Check(mx_op_arity(op_, params.get(), &num_in, &num_out));
    if (outputs.empty()) outputs.resize(static_cast<size_t>(num_out));
    if (outputs.size() != static_cast<size_t>(num_out))
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Operator(" + name_ + ")::Invoke: " + std::to_string(outputs.size()) +
                                                " output slots given, the op has " + std::to_string(num_out) + " outputs");
    std::vector<mx_ndarray*> in = NDArray::Handles(inputs);
    std::vector<mx_ndarray*> out(outputs.size(), nullptr);
    for (size_t i = 0; i < outputs.size(); ++i) out[i] = outputs[i].GetHandle();
    detail::Check(mx_op_invoke(op_, params.get(), static_cast<int>(in.size()), in.data(),
                               static_cast<int>(out.size()), out.data()));
    for (size_t i = 0; i < outputs.size(); ++i)
      if (outputs[i].IsNone()) outputs[i] = NDArray(out[i]);
  }

  // ---- graph node
  // A Symbol node named name ("" for an automatic name such as "convolution0").
  Symbol CreateSymbol(const std::string& name = "") {
    if (!nd_inputs_.empty() || !nd_named_.empty())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Operator(" + name_ + ")::CreateSymbol: NDArray inputs were given; use Invoke");
    std::vector<const char*> keys, vals;
    for (const auto& kv : params_) {
      keys.push_back(kv.first.c_str());
      vals.push_back(kv.second.c_str());
    }
    std::vector<mx_symbol*> inputs;
    std::vector<const char*> input_keys;
    if (!sym_named_.empty()) {
      // Positional inputs take the op's first input names, so both kinds mix.
      std::vector<std::string> names = InputNames();
      if (sym_inputs_.size() > names.size())
        detail::Fail(MX_ERR_INVALID_ARGUMENT, "Operator(" + name_ + ")::CreateSymbol: " +
                                                  std::to_string(sym_inputs_.size()) + " positional inputs, the op has " +
                                                  std::to_string(names.size()) + " named inputs");
      positional_names_.assign(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(sym_inputs_.size()));
      for (size_t i = 0; i < sym_inputs_.size(); ++i) {
        input_keys.push_back(positional_names_[i].c_str());
        inputs.push_back(sym_inputs_[i].Checked());
      }
      for (const auto& kv : sym_named_) {
        input_keys.push_back(kv.first.c_str());
        inputs.push_back(kv.second.Checked());
      }
    } else {
      for (const auto& s : sym_inputs_) inputs.push_back(s.Checked());
    }
    mx_symbol* h = nullptr;
    detail::Check(mx_symbol_create(name_.c_str(), static_cast<int>(keys.size()), keys.data(), vals.data(),
                                   static_cast<int>(inputs.size()), input_keys.empty() ? nullptr : input_keys.data(),
                                   inputs.data(), name.empty() ? nullptr : name.c_str(), &h));
    return Symbol(h);
  }

  // The op's fixed input names (one name for a variadic op) and its count parameter ("" if none).
  std::vector<std::string> InputNames() const {
    int n = 0;
    const char* const* names = nullptr;
    const char* var = nullptr;
    detail::Check(mx_op_info(op_, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &n, &names, &var));
    return std::vector<std::string>(names, names + n);
  }
  std::string VarCountParam() const {
    const char* var = nullptr;
    detail::Check(mx_op_info(op_, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &var));
    return detail::CStr(var);
  }

 private:
  Operator& SetParamString(const std::string& key, std::string value) {
    for (auto& kv : params_)
      if (kv.first == key) {
        kv.second = std::move(value);
        return *this;
      }
    params_.emplace_back(key, std::move(value));
    return *this;
  }
  bool HasParam(const std::string& key) const {
    for (const auto& kv : params_)
      if (kv.first == key) return true;
    return false;
  }
  void SetVarCount(size_t n) {
    std::string var = VarCountParam();
    if (!var.empty() && !HasParam(var)) SetParamString(var, std::to_string(n));
  }
  mx_op_params* CreateParams() const {
    std::vector<const char*> keys, vals;
    for (const auto& kv : params_) {
      keys.push_back(kv.first.c_str());
      vals.push_back(kv.second.c_str());
    }
    mx_op_params* p = nullptr;
    detail::Check(mx_op_params_create(op_, static_cast<int>(keys.size()), keys.data(), vals.data(), &p));
    return p;
  }
  // Positional inputs first, then named ones at their index among the op's input names.
  std::vector<NDArray> OrderedNDArrayInputs() const {
    if (nd_named_.empty()) return nd_inputs_;
    std::vector<std::string> names = InputNames();
    if (!VarCountParam().empty())
      detail::Fail(MX_ERR_INVALID_ARGUMENT, "Operator(" + name_ + "): a variadic op takes positional inputs (PushInput)");
    std::vector<NDArray> ordered = nd_inputs_;
    for (const auto& kv : nd_named_) {
      size_t idx = names.size();
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == kv.first) idx = i;
      if (idx == names.size()) {
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        detail::Fail(MX_ERR_INVALID_ARGUMENT,
                     "Operator(" + name_ + "): no input named '" + kv.first + "' (inputs: " + known + ")");
      }
      if (idx < ordered.size() && !ordered[idx].IsNone())
        detail::Fail(MX_ERR_INVALID_ARGUMENT, "Operator(" + name_ + "): input '" + kv.first + "' given twice");
      if (ordered.size() <= idx) ordered.resize(idx + 1);
      ordered[idx] = kv.second;
    }
    for (size_t i = 0; i < ordered.size(); ++i)
      if (ordered[i].IsNone())
        detail::Fail(MX_ERR_INVALID_ARGUMENT, "Operator(" + name_ + "): input '" + names[i] + "' is not given");
    return ordered;
  }

  std::string name_;
  const mx_op* op_ = nullptr;
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<NDArray> nd_inputs_;
  std::vector<std::pair<std::string, NDArray>> nd_named_;
  std::vector<Symbol> sym_inputs_;
  std::vector<std::pair<std::string, Symbol>> sym_named_;
  std::vector<std::string> positional_names_;
};

// ---------------------------------------------------------------- NDArray members built on ops

namespace detail {
inline NDArray Binary(const char* op, const NDArray& a, const NDArray& b) {
  return Operator(op).PushInput(a).PushInput(b).Invoke()[0];
}
inline NDArray Scalar(const char* op, const NDArray& a, double s) {
  return Operator(op).SetParam("scalar", s).PushInput(a).Invoke()[0];
}
inline void BinaryInPlace(const char* op, NDArray& a, const NDArray& b) {
  NDArray out = a;
  Operator(op).PushInput(a).PushInput(b).Invoke(out);
}
inline void ScalarInPlace(const char* op, NDArray& a, double s) {
  NDArray out = a;
  Operator(op).SetParam("scalar", s).PushInput(a).Invoke(out);
}
}  // namespace detail

inline NDArray NDArray::Zeros(const mx::Shape& shape, const Context& ctx, int dtype) {
  return Operator("_zeros").SetParam("shape", shape).SetParam("ctx", ctx).SetParam("dtype", DTypeName(dtype)).Invoke()[0];
}
inline NDArray NDArray::Ones(const mx::Shape& shape, const Context& ctx, int dtype) {
  return Operator("_ones").SetParam("shape", shape).SetParam("ctx", ctx).SetParam("dtype", DTypeName(dtype)).Invoke()[0];
}
inline NDArray NDArray::Full(const mx::Shape& shape, double value, const Context& ctx, int dtype) {
  return Operator("_full")
      .SetParam("shape", shape)
      .SetParam("ctx", ctx)
      .SetParam("dtype", DTypeName(dtype))
      .SetParam("value", value)
      .Invoke()[0];
}
inline NDArray NDArray::AsType(int dtype) const {
  return Operator("Cast").SetParam("dtype", DTypeName(dtype)).PushInput(*this).Invoke()[0];
}
// Sets every element to scalar (MXNet cpp-package semantics; `a = b` for arrays shares the handle).
inline NDArray& NDArray::operator=(double scalar) {
  NDArray out = *this;
  Operator("_full")
      .SetParam("shape", Shape())
      .SetParam("ctx", GetContext())
      .SetParam("dtype", DTypeName(Dtype()))
      .SetParam("value", scalar)
      .Invoke(out);
  return *this;
}
inline NDArray& NDArray::operator+=(const NDArray& rhs) { detail::BinaryInPlace("broadcast_add", *this, rhs); return *this; }
inline NDArray& NDArray::operator-=(const NDArray& rhs) { detail::BinaryInPlace("broadcast_sub", *this, rhs); return *this; }
inline NDArray& NDArray::operator*=(const NDArray& rhs) { detail::BinaryInPlace("broadcast_mul", *this, rhs); return *this; }
inline NDArray& NDArray::operator/=(const NDArray& rhs) { detail::BinaryInPlace("broadcast_div", *this, rhs); return *this; }
inline NDArray& NDArray::operator+=(double rhs) { detail::ScalarInPlace("_plus_scalar", *this, rhs); return *this; }
inline NDArray& NDArray::operator-=(double rhs) { detail::ScalarInPlace("_minus_scalar", *this, rhs); return *this; }
inline NDArray& NDArray::operator*=(double rhs) { detail::ScalarInPlace("_mul_scalar", *this, rhs); return *this; }
inline NDArray& NDArray::operator/=(double rhs) { detail::ScalarInPlace("_div_scalar", *this, rhs); return *this; }

// Elementwise with broadcasting (broadcast_add, ...), or with a scalar (_plus_scalar, ...).
inline NDArray operator+(const NDArray& a, const NDArray& b) { return detail::Binary("broadcast_add", a, b); }
inline NDArray operator-(const NDArray& a, const NDArray& b) { return detail::Binary("broadcast_sub", a, b); }
inline NDArray operator*(const NDArray& a, const NDArray& b) { return detail::Binary("broadcast_mul", a, b); }
inline NDArray operator/(const NDArray& a, const NDArray& b) { return detail::Binary("broadcast_div", a, b); }
inline NDArray operator+(const NDArray& a, double s) { return detail::Scalar("_plus_scalar", a, s); }
inline NDArray operator-(const NDArray& a, double s) { return detail::Scalar("_minus_scalar", a, s); }
inline NDArray operator*(const NDArray& a, double s) { return detail::Scalar("_mul_scalar", a, s); }
inline NDArray operator/(const NDArray& a, double s) { return detail::Scalar("_div_scalar", a, s); }
inline NDArray operator+(double s, const NDArray& a) { return detail::Scalar("_plus_scalar", a, s); }
inline NDArray operator-(double s, const NDArray& a) { return detail::Scalar("_rminus_scalar", a, s); }
inline NDArray operator*(double s, const NDArray& a) { return detail::Scalar("_mul_scalar", a, s); }
inline NDArray operator/(double s, const NDArray& a) { return detail::Scalar("_rdiv_scalar", a, s); }
inline NDArray operator-(const NDArray& a) { return Operator("negative").PushInput(a).Invoke()[0]; }

// Prints shape, dtype and values (waits for the array).
inline std::ostream& operator<<(std::ostream& os, const NDArray& a) {
  if (a.IsNone()) return os << "NDArray()";
  std::vector<double> v = a.ToVector<double>();
  os << "NDArray" << a.Shape() << " " << DTypeName(a.Dtype()) << " @" << a.GetContext() << " [";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os << "]";
}

// ---------------------------------------------------------------- Symbol arithmetic (graph nodes)

namespace detail {
inline Symbol SymBinary(const char* op, const Symbol& a, const Symbol& b) {
  return Operator(op).PushInput(a).PushInput(b).CreateSymbol();
}
inline Symbol SymScalar(const char* op, const Symbol& a, double s) {
  return Operator(op).SetParam("scalar", s).PushInput(a).CreateSymbol();
}
}  // namespace detail

// Elementwise on same-shaped symbols (MXNet's Symbol + Symbol: elemwise_add, ...), or with a scalar.
inline Symbol operator+(const Symbol& a, const Symbol& b) { return detail::SymBinary("elemwise_add", a, b); }
inline Symbol operator-(const Symbol& a, const Symbol& b) { return detail::SymBinary("elemwise_sub", a, b); }
inline Symbol operator*(const Symbol& a, const Symbol& b) { return detail::SymBinary("elemwise_mul", a, b); }
inline Symbol operator/(const Symbol& a, const Symbol& b) { return detail::SymBinary("elemwise_div", a, b); }
inline Symbol operator+(const Symbol& a, double s) { return detail::SymScalar("_plus_scalar", a, s); }
inline Symbol operator-(const Symbol& a, double s) { return detail::SymScalar("_minus_scalar", a, s); }
inline Symbol operator*(const Symbol& a, double s) { return detail::SymScalar("_mul_scalar", a, s); }
inline Symbol operator/(const Symbol& a, double s) { return detail::SymScalar("_div_scalar", a, s); }
inline Symbol operator+(double s, const Symbol& a) { return detail::SymScalar("_plus_scalar", a, s); }
inline Symbol operator-(double s, const Symbol& a) { return detail::SymScalar("_rminus_scalar", a, s); }
inline Symbol operator*(double s, const Symbol& a) { return detail::SymScalar("_mul_scalar", a, s); }
inline Symbol operator/(double s, const Symbol& a) { return detail::SymScalar("_rdiv_scalar", a, s); }
inline Symbol operator-(const Symbol& a) { return Operator("negative").PushInput(a).CreateSymbol(); }

}  // namespace mx

#endif  // MX_CPP_OPERATOR_HPP_
