// MX C++ package: errors, devices, dtypes, shapes and parameter formatting.
// Header-only layer over include/mx/c_api.h; include <mx/mx.hpp> rather than this file.
#ifndef MX_CPP_BASE_HPP_
#define MX_CPP_BASE_HPP_

#include <mx/c_api.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace mx {

// ---------------------------------------------------------------- errors

// Every failure of a call into libmx, and every misuse the wrapper detects itself, throws mx::Error.
// status() is libmx's status code (MX_ERR_SHAPE, MX_ERR_NOT_FOUND, ...); what() is libmx's message
// (mx_last_error()) unchanged, or the wrapper's own message for errors detected before calling.
class Error : public std::runtime_error {
 public:
  Error(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

namespace detail {

[[noreturn]] inline void ThrowLastError(int status) {
  // mx_last_error() is thread-local and valid until the next failing call: copy it now.
  throw Error(status, std::string(mx_last_error()));
}

// The one choke point: every C call's status goes through here.
inline void Check(int status) {
  if (status != MX_OK) ThrowLastError(status);
}

[[noreturn]] inline void Fail(int status, const std::string& message) { throw Error(status, message); }

inline std::string CStr(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace detail

// ---------------------------------------------------------------- devices

enum DeviceType { kCPU = MX_CPU, kGPU = MX_GPU, kCPUPinned = MX_CPU_PINNED };

class Context {
 public:
  Context(DeviceType type = kCPU, int id = 0) : type_(type), id_(id) {}
  static Context cpu(int id = 0) { return Context(kCPU, id); }
  static Context gpu(int id = 0) { return Context(kGPU, id); }
  static Context cpu_pinned(int id = 0) { return Context(kCPUPinned, id); }
  // Number of GPUs this build of libmx can use (0 without CUDA).
  static int NumGPUs() {
    int n = 0;
    detail::Check(mx_gpu_count(&n));
    return n;
  }

  DeviceType GetDeviceType() const { return type_; }
  int GetDeviceId() const { return id_; }
  // MXNet's spelling, also the parameter syntax of ops taking a ctx: "cpu(0)", "gpu(1)".
  std::string ToString() const {
    const char* t = type_ == kGPU ? "gpu" : (type_ == kCPUPinned ? "cpu_pinned" : "cpu");
    return std::string(t) + "(" + std::to_string(id_) + ")";
  }
  bool operator==(const Context& o) const { return type_ == o.type_ && id_ == o.id_; }
  bool operator!=(const Context& o) const { return !(*this == o); }

 private:
  DeviceType type_;
  int id_;
};

inline std::ostream& operator<<(std::ostream& os, const Context& ctx) { return os << ctx.ToString(); }

// ---------------------------------------------------------------- dtypes (MXNet's type flags)

enum DType : int {
  kFloat32 = MX_FLOAT32,
  kFloat64 = MX_FLOAT64,
  kFloat16 = MX_FLOAT16,
  kUint8 = MX_UINT8,
  kInt32 = MX_INT32,
  kInt8 = MX_INT8,
  kInt64 = MX_INT64,
  kBool = MX_BOOL,
  kBfloat16 = MX_BFLOAT16
};

// The dtype flag of a C++ element type (float, double, uint8_t, int8_t, int32_t, int64_t, bool).
template <typename T>
constexpr int DTypeOf() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return kFloat32;
  else if constexpr (std::is_same_v<U, double>) return kFloat64;
  else if constexpr (std::is_same_v<U, uint8_t>) return kUint8;
  else if constexpr (std::is_same_v<U, int8_t>) return kInt8;
  else if constexpr (std::is_same_v<U, int32_t>) return kInt32;
  else if constexpr (std::is_same_v<U, int64_t>) return kInt64;
  else if constexpr (std::is_same_v<U, bool>) return kBool;
  else static_assert(sizeof(U) == 0, "no MX dtype for this C++ type (use uint16_t storage through void*)");
}

// Name as MXNet writes it ("float32", ...), the syntax of dtype parameters.
inline std::string DTypeName(int dtype) {
  switch (dtype) {
    case kFloat32: return "float32";
    case kFloat64: return "float64";
    case kFloat16: return "float16";
    case kUint8: return "uint8";
    case kInt32: return "int32";
    case kInt8: return "int8";
    case kInt64: return "int64";
    case kBool: return "bool";
    case kBfloat16: return "bfloat16";
    default: detail::Fail(MX_ERR_DTYPE, "unknown dtype flag " + std::to_string(dtype));
  }
}

inline int DTypeFromName(const std::string& name) {
  static const std::pair<const char*, int> table[] = {
      {"float32", kFloat32}, {"float64", kFloat64}, {"float16", kFloat16}, {"uint8", kUint8},
      {"int32", kInt32},     {"int8", kInt8},       {"int64", kInt64},     {"bool", kBool},
      {"bfloat16", kBfloat16}};
  for (const auto& e : table)
    if (name == e.first) return e.second;
  detail::Fail(MX_ERR_DTYPE, "unknown dtype name '" + name + "'");
}

inline size_t DTypeSize(int dtype) {
  switch (dtype) {
    case kFloat32: case kInt32: return 4;
    case kFloat64: case kInt64: return 8;
    case kFloat16: case kBfloat16: return 2;
    case kUint8: case kInt8: case kBool: return 1;
    default: detail::Fail(MX_ERR_DTYPE, "unknown dtype flag " + std::to_string(dtype));
  }
}

// ---------------------------------------------------------------- shapes

// A tuple of int64 dims. Shape(2, 3), Shape{2, 3}, Shape(std::vector<int64_t>{2, 3}).
// Also the value of tuple parameters: Operator("Convolution").SetParam("kernel", Shape(3, 3)).
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  template <typename... Ts,
            typename = std::enable_if_t<(sizeof...(Ts) > 0) && (std::is_integral_v<Ts> && ...)>>
  explicit Shape(Ts... dims) : dims_{static_cast<int64_t>(dims)...} {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}
  Shape(const int64_t* dims, size_t ndim) : dims_(dims, dims + ndim) {}

  size_t ndim() const { return dims_.size(); }
  int64_t operator[](size_t i) const { return dims_.at(i); }
  int64_t& operator[](size_t i) { return dims_.at(i); }
  // Number of elements (1 for a scalar shape ()).
  int64_t Size() const {
    int64_t n = 1;
    for (int64_t d : dims_) n *= d;
    return n;
  }
  const std::vector<int64_t>& dims() const { return dims_; }
  const int64_t* data() const { return dims_.data(); }
  std::vector<int64_t>::const_iterator begin() const { return dims_.begin(); }
  std::vector<int64_t>::const_iterator end() const { return dims_.end(); }
  bool operator==(const Shape& o) const { return dims_ == o.dims_; }
  bool operator!=(const Shape& o) const { return dims_ != o.dims_; }
  // MXNet's tuple syntax: "(2,3)", "(2,)", "()".
  std::string ToString() const {
    std::string s = "(";
    for (size_t i = 0; i < dims_.size(); ++i) {
      if (i) s += ",";
      s += std::to_string(dims_[i]);
    }
    if (dims_.size() == 1) s += ",";
    return s + ")";
  }

 private:
  std::vector<int64_t> dims_;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.ToString(); }

// ---------------------------------------------------------------- op parameter values

// A value that the registry's default for a parameter is None ("not given"). Generated op
// functions take Optional<T> for such parameters; a default-constructed one leaves the op's
// default, any T converts implicitly: mx::op::argmax(x, 1).
template <typename T>
class Optional {
 public:
  Optional() = default;
  Optional(const T& v) : has_(true), value_(v) {}  // NOLINT: implicit on purpose
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U, T> && !std::is_same_v<U, T>>>
  Optional(const U& v) : has_(true), value_(v) {}  // NOLINT
  bool has_value() const { return has_; }
  const T& value() const {
    if (!has_) detail::Fail(MX_ERR_INVALID_ARGUMENT, "mx::Optional has no value");
    return value_;
  }

 private:
  bool has_ = false;
  T value_{};
};

namespace detail {

inline std::string FormatFloat(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest text that reads back exactly
  return std::string(buf, r.ptr);
}
inline std::string FormatFloat(float v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

}  // namespace detail

// Parameter values in MXNet's string syntax, as they cross the ABI.
inline std::string ParamString(const std::string& v) { return v; }
inline std::string ParamString(const char* v) { return v ? std::string(v) : std::string(); }
inline std::string ParamString(bool v) { return v ? "True" : "False"; }
inline std::string ParamString(float v) { return detail::FormatFloat(v); }
inline std::string ParamString(double v) { return detail::FormatFloat(v); }
inline std::string ParamString(const Shape& v) { return v.ToString(); }
inline std::string ParamString(const Context& v) { return v.ToString(); }
template <typename T, typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
inline std::string ParamString(T v) {
  return std::to_string(v);
}
// A vector is a tuple: "(1,2,3)" ("(1,)" for one element).
template <typename T>
inline std::string ParamString(const std::vector<T>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += ParamString(v[i]);
  }
  if (v.size() == 1) s += ",";
  return s + ")";
}

// ---------------------------------------------------------------- library

// libmx's build and runtime facts by key ("version", "blas", "dnnl", "engine", ...).
inline std::string LibInfo(const std::string& key) {
  const char* v = nullptr;
  detail::Check(mx_lib_info(key.c_str(), &v));
  return detail::CStr(v);
}

// Waits for every pushed operation; rethrows the first asynchronous error since the last call.
inline void WaitAll() { detail::Check(mx_wait_all()); }

// Seeds every device's random generators.
inline void RandomSeed(uint64_t seed) { detail::Check(mx_random_seed(seed)); }

}  // namespace mx

#endif  // MX_CPP_BASE_HPP_
